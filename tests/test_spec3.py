"""The Wasm 3.0 testsuite (tests/testsuite/wasm-3.0, every folder), run through our own
text parser and script runner, as ``purewasm wast`` does; and a second route for the
memory, call and constant proposals (the top-level files, memory64/, multi-memory/,
relaxed-simd/): the scripts converted to JSON and binary modules by ``wasm-tools
json-from-wast``, read by purewasm.script.json_reader (spec_known_failures_json_3.0.txt).

Wasm 3.0 is not complete yet: every command that fails is listed, with the failure, in
spec_known_failures_3.0.txt. A listed command that starts passing fails this test until
it leaves the list, so the list only shrinks (regenerate it with
PUREWASM_UPDATE_KNOWN_FAILURES=1 python -m pytest tests/test_spec3.py -p no:xdist).
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import shutil
import subprocess

import pytest

import test_spec as _spec
from wast_json import WAST_DIR, wast_commands

from purewasm.errors import WasmtimeError
from purewasm.script.json_reader import read_json_commands
from purewasm.script.runner import ScriptResult, run_script
from purewasm.text import parse_script

ROOT = WAST_DIR.parent / "wasm-3.0"
KNOWN = Path(__file__).with_name("spec_known_failures_3.0.txt")
_spec.KNOWN_FILES.setdefault("text-3.0", KNOWN)
KNOWN_JSON = Path(__file__).with_name("spec_known_failures_json_3.0.txt")
_spec.KNOWN_FILES.setdefault("json-3.0", KNOWN_JSON)
# The JSON route's folders: issue 10's proposals and the MVP files 3.0 extended.
JSON_FOLDERS = ("", "memory64", "multi-memory", "relaxed-simd")


def files() -> List[Path]:
    return sorted(ROOT.rglob("*.wast"))


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_spec3_text(path: Path, request: pytest.FixtureRequest) -> None:
    try:
        commands = parse_script(path.read_text(encoding="utf-8"))
    except WasmtimeError as exc:
        # A script our text parser cannot read yet is one failure, at line 0.
        result = ScriptResult(failed=[(0, "the script does not parse: %s" % exc)])
    else:
        result = run_script(commands)
    _spec._check(path, "text-3.0", result, request, name=str(path.relative_to(ROOT)))


def json_files() -> List[Path]:
    return [p for p in files() if str(p.parent.relative_to(ROOT)).replace(".", "") in JSON_FOLDERS]


@pytest.mark.parametrize("path", json_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_spec3_json(path: Path, request: pytest.FixtureRequest) -> None:
    if shutil.which("wasm-tools") is None:
        pytest.fail("wasm-tools is not installed (pip install -e '.[test]')", pytrace=False)
    try:
        raw, moddir = wast_commands(path, tool="wasm-tools")
    except subprocess.CalledProcessError as exc:
        result = ScriptResult(failed=[(0, "wasm-tools json-from-wast refuses the script: %s"
                                       % exc.stderr.decode(errors="replace")[:200])])
    else:
        result = run_script(read_json_commands(raw, str(moddir)))
    _spec._check(path, "json-3.0", result, request, name=str(path.relative_to(ROOT)))
