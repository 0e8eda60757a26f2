"""Pyodide: purewasm in CPython on emscripten (no threads, the JavaScript stack as C stack).

Runs tests/pyodide_smoke.py inside npm's ``pyodide`` under node (tests/pyodide_smoke.mjs):
a call, WASI stdout, a trap, stack exhaustion that traps instead of killing the runtime,
fuel and a wall-clock deadline. The npm install is cached in ~/.cache/purewasm-pyodide
(PUREWASM_PYODIDE_CACHE overrides); ~3 s per run once cached.

Without node/npm (or without network for the first install) the test is skipped with the
reason; CI sets PUREWASM_REQUIRE_PYODIDE=1 (.ci/run), which turns that skip into a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PYODIDE_VERSION = "0.27.7"  # CPython 3.12
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("PUREWASM_PYODIDE_CACHE",
                            Path.home() / ".cache" / "purewasm-pyodide"))
REQUIRED = os.environ.get("PUREWASM_REQUIRE_PYODIDE") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail("PUREWASM_REQUIRE_PYODIDE=1 but " + reason)
    pytest.skip(reason)


def _pyodide_dir() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed for the Pyodide smoke test")
    target = CACHE / PYODIDE_VERSION
    package = target / "node_modules" / "pyodide"
    if not (package / "pyodide.mjs").is_file():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"private": true}\n')
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "pyodide@" + PYODIDE_VERSION],
            cwd=str(target), capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not (package / "pyodide.mjs").is_file():
            _unavailable("npm install pyodide@%s failed: %s"
                         % (PYODIDE_VERSION, proc.stderr.strip()[-500:]))
    return package


def test_pyodide_smoke() -> None:
    package = _pyodide_dir()
    proc = subprocess.run(["node", str(HERE / "pyodide_smoke.mjs"), str(package)],
                          capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "PYODIDE SMOKE OK" in proc.stdout, output
    # Every trap left the runtime usable (the runner evaluates once more at the end).
    assert "alive 42" in proc.stdout, output
    assert "fatal error" not in output, output
