"""The validator against the official wasm-2.0 testsuite (simd included).

Every ``assert_invalid`` module must raise :class:`InvalidError` whose message contains the
expected text; every module that must validate (``module`` commands and the targets of
``assert_unlinkable`` / ``assert_uninstantiable``) must validate.
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from purewasm.errors import InvalidError, MalformedError

from purewasm.binary import decode_module
from purewasm.opcodes import WASM2_FEATURES
from purewasm.validate import validate_module

from wast_json import WAST_DIR, all_wast_files, wast_commands

pytestmark = pytest.mark.skipif(shutil.which("wast2json") is None,
                                reason="wabt not installed")

_MUST_VALIDATE = ("module", "assert_unlinkable", "assert_uninstantiable")

# Binary modules that wast2json writes without a data count section although their code
# uses data.drop / memory.init: the decoder rejects them as malformed ("data count section
# required", spec 5.5.16) before validation can see the error the .wast text expects.
_DECODER_PREEMPTS = "data count section required"


@functools.lru_cache(maxsize=None)
def _check_script(path: Path) -> Tuple[Dict[str, int], List[str]]:
    cmds, moddir = wast_commands(path)
    counts = {"invalid": 0, "valid": 0, "preempted": 0}
    failures: List[str] = []
    for cmd in cmds:
        kind = cmd["type"]
        if kind != "assert_invalid" and kind not in _MUST_VALIDATE:
            continue
        if cmd.get("module_type", "binary") != "binary" or "filename" not in cmd:
            continue
        where = "%s:%d" % (path.name, cmd["line"])
        data = (moddir / cmd["filename"]).read_bytes()
        try:
            module = decode_module(data)
        except MalformedError as exc:
            if kind == "assert_invalid" and _DECODER_PREEMPTS in str(exc):
                counts["preempted"] += 1
            else:
                failures.append("%s: decoder: %s" % (where, exc))
            continue
        try:
            validate_module(module, WASM2_FEATURES)
            error = None
        except InvalidError as exc:
            error = exc
        if kind == "assert_invalid":
            if error is None:
                failures.append("%s: not rejected (expected %r)" % (where, cmd["text"]))
            elif cmd["text"] not in str(error):
                failures.append("%s: expected %r, got %r" % (where, cmd["text"], str(error)))
            else:
                counts["invalid"] += 1
        elif error is not None:
            failures.append("%s: valid module rejected: %s" % (where, error))
        else:
            counts["valid"] += 1
    return counts, failures


@pytest.mark.parametrize("path", all_wast_files(), ids=lambda p: str(p.relative_to(WAST_DIR)))
def test_spec_script(path: Path) -> None:
    _counts, failures = _check_script(path)
    assert not failures, "\n".join(failures[:20])


def test_spec_totals() -> None:
    """All scripts together: how many modules were checked (a guard against silently
    checking nothing, e.g. if wast2json output changed shape)."""
    total = {"invalid": 0, "valid": 0, "preempted": 0}
    for path in all_wast_files():
        counts, _failures = _check_script(path)
        for k, v in counts.items():
            total[k] += v
    assert total["invalid"] + total["preempted"] >= 2146
    assert total["valid"] >= 1700
    assert total["preempted"] <= 2
