"""The official WASI testsuite (preview 1: AssemblyScript, C and Rust tests), each run
through ``purewasm run`` as its specification.md says: the test's arguments and
environment, its ``root`` directory (a fresh copy) preopened as ``/``, then its exit
code and stdout compared with the expectations in its ``.json``."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "wasi-testsuite", "tests")
REPO = os.path.dirname(HERE)

CASES = sorted(glob.glob(os.path.join(SUITE, "*", "testsuite", "*", "*.wasm")))


def _case_id(path: str) -> str:
    rel = os.path.relpath(path, SUITE).split(os.sep)
    return "%s/%s" % (rel[0], os.path.splitext(rel[-1])[0])


def _spec(wasm: str) -> dict:
    spec = {"args": [], "root": None, "env": {}, "exit_code": 0}
    js = os.path.splitext(wasm)[0] + ".json"
    if os.path.exists(js):
        with open(js, encoding="utf-8") as f:
            spec.update(json.load(f))
    return spec


def _copy_root(src: str, dst: str) -> None:
    # A fresh copy per test (tests write into it), without the artifacts (*.cleanup)
    # a previous run elsewhere may have left.
    shutil.copytree(src, dst, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n.endswith(".cleanup")])


def test_suite_is_complete():
    assert len(CASES) == 72


@pytest.mark.parametrize("wasm", CASES, ids=[_case_id(c) for c in CASES])
def test_wasi_testsuite(wasm, tmp_path):
    spec = _spec(wasm)
    cmd = [sys.executable, "-m", "purewasm", "run"]
    cwd = str(tmp_path)
    if spec.get("root"):
        root = str(tmp_path / spec["root"])
        _copy_root(os.path.join(os.path.dirname(wasm), spec["root"]), root)
        cmd += ["--dir", root + "::/"]
    for name, value in spec.get("env", {}).items():
        cmd += ["--env", "%s=%s" % (name, value)]
    cmd += [wasm] + [str(a) for a in spec.get("args", [])]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=300)
    detail = "stdout=%r\nstderr=%r" % (proc.stdout[-2000:], proc.stderr[-4000:])
    assert proc.returncode == spec.get("exit_code", 0), detail
    if "stdout" in spec:     # as the reference runner: compared only when given
        assert proc.stdout.decode("utf-8", "replace") == spec["stdout"], detail
