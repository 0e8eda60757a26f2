"""The official wasm-2.0 testsuite (outside simd/) through our script runner, twice:

* ``test_spec_json``: scripts converted by wabt's wast2json (binary modules; text-format
  ``assert_malformed`` modules are skipped and counted as "not run" in the summary);
* ``test_spec_text``: scripts read by our own parser (``purewasm.text.parse_script``).

One test per ``.wast`` file and mode. Failures are compared with
``tests/spec_known_failures.txt`` (json) / ``tests/spec_known_failures_text.txt`` (text):
one line per failing command, ``file.wast:LINE reason``, ``#`` comments. An unlisted
failure fails the test, and so does a listed command that now passes (remove its line).

Regenerate the lists: ``PUREWASM_UPDATE_KNOWN_FAILURES=1 python -m pytest tests/test_spec.py``
(without -n; then review the diff).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from wast_json import WAST_DIR, wast_commands

from purewasm.opcodes import WASM2_FEATURES
from purewasm.script.json_reader import read_json_commands
from purewasm.script.runner import ScriptResult, run_script

KNOWN_FILES = {"json": Path(__file__).with_name("spec_known_failures.txt"),
               "text": Path(__file__).with_name("spec_known_failures_text.txt")}
UPDATE = bool(os.environ.get("PUREWASM_UPDATE_KNOWN_FAILURES"))


def spec_files() -> List[Path]:
    return sorted(p for p in WAST_DIR.glob("*.wast"))


def load_known(mode: str) -> Dict[str, Dict[int, str]]:
    known: Dict[str, Dict[int, str]] = {}
    path = KNOWN_FILES[mode]
    if not path.exists():
        return known
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where, _, reason = line.partition(" ")
        name, _, num = where.rpartition(":")
        known.setdefault(name, {})[int(num)] = reason
    return known




def run_file_json(path: Path) -> ScriptResult:
    raw, moddir = wast_commands(path)
    commands = read_json_commands(raw, str(moddir))
    return run_script(commands, skip_text_modules=True, features=WASM2_FEATURES)


def run_file_text(path: Path) -> ScriptResult:
    from purewasm.text import parse_script
    return run_script(parse_script(path.read_text(encoding="utf-8")), features=WASM2_FEATURES)


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_spec_json(path: Path, request: pytest.FixtureRequest) -> None:
    if shutil.which("wast2json") is None:
        pytest.skip("wast2json not installed")
    _check(path, "json", run_file_json(path), request)


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_spec_text(path: Path, request: pytest.FixtureRequest) -> None:
    _check(path, "text", run_file_text(path), request)


def _check(path: Path, mode: str, result: ScriptResult, request: pytest.FixtureRequest,
           name: str = "") -> None:
    """Compare ``result`` with the known failures of ``mode`` for the script ``name``
    (default: the file's name)."""
    name = name or path.name
    # Read by tests/conftest.py's terminal summary (user_properties cross xdist workers).
    request.node.user_properties.append(
        ("spec_counts", (mode, len(result.passed), len(result.failed), len(result.skipped))))
    if UPDATE:
        _update(KNOWN_FILES[mode], name, result)
        return
    known = load_known(mode).get(name, {})
    failed: Set[int] = {line for line, _ in result.failed}
    unexpected: List[Tuple[int, str]] = [(ln, why) for ln, why in result.failed
                                         if ln not in known]
    fixed = sorted(set(known) - failed)
    problems = []
    if unexpected:
        problems.append("%d unexpected failure(s):\n%s" % (len(unexpected), "\n".join(
            "  %s:%d %s" % (name, ln, why) for ln, why in unexpected[:50])))
    if fixed:
        problems.append("%d listed failure(s) now pass (remove them from %s):\n%s" % (
            len(fixed), KNOWN_FILES[mode].name,
            "\n".join("  %s:%d" % (name, ln) for ln in fixed[:50])))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _update(known_file: Path, name: str, result: ScriptResult) -> None:
    """Rewrite this file's entries in the known-failures list (other files untouched)."""
    lines = []
    if known_file.exists():
        lines = [ln for ln in known_file.read_text(encoding="utf-8").splitlines()
                 if not ln.startswith(name + ":")]
    seen: Set[int] = set()
    for line, why in result.failed:
        if line in seen:
            continue
        seen.add(line)
        lines.append("%s:%d %s" % (name, line, " ".join(why.split())[:160]))
    header = [ln for ln in lines if ln.startswith("#")]
    body = sorted((ln for ln in lines if ln.strip() and not ln.startswith("#")),
                  key=lambda s: (s.split(":", 1)[0], int(s.split(":", 1)[1].split(" ", 1)[0])))
    known_file.write_text("\n".join(header + body) + "\n", encoding="utf-8")
