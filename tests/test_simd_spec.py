"""The official wasm-2.0 SIMD testsuite (``simd/*.wast``) through our script runner.

Same mechanism as tests/test_spec.py (whose helpers this reuses): one test per file and
mode, failures compared with ``tests/spec_known_failures_simd.txt`` (one line per failing
command, ``file.wast:LINE reason``; ``#`` comments). An unlisted failure fails the test,
and so does a listed command that now passes. The list serves both modes:

* ``text``: the script read by our own parser (``purewasm.script.runner.run_wast_file``);
* ``json``: the script converted by wabt's wast2json (binary modules, so the decoder's
  SIMD support is exercised too; text-format ``assert_malformed`` modules are not run).

Regenerate the list: ``PUREWASM_UPDATE_KNOWN_FAILURES=1 python -m pytest
tests/test_simd_spec.py -k text`` (one mode: each run rewrites its files' lines).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

import pytest
import test_spec as _spec
from wast_json import WAST_DIR

from purewasm.opcodes import WASM2_FEATURES
from purewasm.script.runner import run_wast_file

SIMD_DIR = WAST_DIR / "simd"
KNOWN = Path(__file__).with_name("spec_known_failures_simd.txt")
# test_spec's checker reads the known-failures file of a mode from this table.
_spec.KNOWN_FILES.setdefault("simd-text", KNOWN)
_spec.KNOWN_FILES.setdefault("simd-json", KNOWN)



def simd_files() -> List[Path]:
    return sorted(SIMD_DIR.glob("*.wast"))


@pytest.mark.parametrize("path", simd_files(), ids=lambda p: p.name)
def test_simd_spec_text(path: Path, request: pytest.FixtureRequest) -> None:
    _spec._check(path, "simd-text", run_wast_file(str(path), use_text_parser=True,
                                                      features=WASM2_FEATURES), request)


@pytest.mark.parametrize("path", simd_files(), ids=lambda p: p.name)
def test_simd_spec_json(path: Path, request: pytest.FixtureRequest) -> None:
    if shutil.which("wast2json") is None:
        pytest.skip("wast2json not installed")
    _spec._check(path, "simd-json", _spec.run_file_json(path), request)
