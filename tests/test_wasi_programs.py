"""End to end: C, C++ and Zig programs (tests/programs/) compiled to wasm32-wasi, each run
under wasmtime (the reference, with its own WASI) and under

* ``wasmtime+ourwasi`` — wasmtime executing the code with purewasm.wasi as the WASI
  implementation (checks our WASI against wasmtime's independently of our runtime), and
* ``purewasm`` — purewasm's runtime and WASI, the real thing,

comparing stdout, stderr, exit status (or trap) and the resulting files.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from programs import harness  # noqa: E402

pytest.importorskip("wasmtime")

POSIX = os.name == "posix"
pytestmark = pytest.mark.skipif(not POSIX, reason="the sandbox fixtures use POSIX symlinks")

RUNNERS = ["wasmtime+ourwasi", "purewasm"]


def _compare(tmp_path, runner, program, argv=(), env=(), stdin=b"", files=False):
    wasm = harness.build(program)
    results = []
    for kind in ("wasmtime", runner):
        root = tmp_path / kind.replace("+", "_")
        root.mkdir()
        dirs = harness.make_sandbox(str(root)) if files else []
        result = harness.run_with(kind, wasm, argv=argv, env=env, stdin=stdin, dirs=dirs)
        results.append((result, harness.snapshot(str(root))))
    (ref, ref_tree), (got, got_tree) = results
    assert got.stdout == ref.stdout
    assert got.stderr == ref.stderr
    assert got.code == ref.code
    assert (got.trap is None) == (ref.trap is None)
    assert got_tree == ref_tree
    return got, got_tree


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("argv,env", [
    ((), ()),
    (("one", "two words", "", "ünïcödé", "--flag=x"), (("GREETING", "hello"), ("EMPTY", ""),
                                                       ("EQ", "a=b=c"))),
])
def test_args_and_environ(tmp_path, runner, argv, env):
    got, _ = _compare(tmp_path, runner, "args_env.c", argv=argv, env=env)
    assert b"argc=%d" % (len(argv) + 1) in got.stdout


def test_host_environment_does_not_leak(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/secret")
    got, _ = _compare(tmp_path, "wasmtime+ourwasi", "args_env.c")
    assert b"nenv=0" in got.stdout and b"HOME=(unset)" in got.stdout


@pytest.mark.parametrize("runner", RUNNERS)
# wasmtime refuses proc_exit codes >= 126 (a trap); purewasm passes 0-255 through.
@pytest.mark.parametrize("argv", [(), ("3",), ("125",), ("7", "via-exit")])
def test_stdio_and_exit_status(tmp_path, runner, argv):
    stdin = b"first line\nsecond line\n" + bytes(range(32, 127)) * 100
    got, _ = _compare(tmp_path, runner, "stdio.c", argv=argv, stdin=stdin)
    assert got.code == (int(argv[0]) if argv else 0)
    assert got.stdout.startswith(b"FIRST LINE\n")


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("argv", [(), ("oob",)])
def test_trap_keeps_earlier_output(tmp_path, runner, argv):
    got, _ = _compare(tmp_path, runner, "trap.c", argv=argv)
    assert got.trap is not None and got.stdout == b"before trap\n"


@pytest.mark.parametrize("runner", RUNNERS)
def test_clocks_random_sleep(tmp_path, runner):
    got, _ = _compare(tmp_path, runner, "clocks.c", stdin=b"x")
    assert b": 0\n" not in got.stdout.replace(b"getentropy: 0 0", b"").replace(
        b"sched_yield: 0", b"")


@pytest.mark.parametrize("runner", RUNNERS)
def test_files(tmp_path, runner):
    got, tree = _compare(tmp_path, runner, "files.c", files=True)
    assert tree[os.path.join("sand", "hard")] == ("file", b"one\ntwo\n")
    assert b"ls sand/dir: ../ ./ file00.txt" in got.stdout


@pytest.mark.parametrize("runner", RUNNERS)
def test_escape_attempts_fail(tmp_path, runner):
    got, tree = _compare(tmp_path, runner, "escape.c", files=True)
    assert b"ESCAPED" not in got.stdout
    # nothing outside the preopens was touched
    assert tree["outside"] == ("dir", None)
    assert tree[os.path.join("outside", "secret.txt")] == ("file", b"secret\n")
    assert sorted(k for k in tree if not k.startswith(("sand", "ro"))) == [
        "outside", os.path.join("outside", "secret.txt")]


@pytest.mark.parametrize("runner", RUNNERS)
def test_cpp_program(tmp_path, runner):
    got, tree = _compare(tmp_path, runner, "cpp_program.cpp", argv=("x",),
                         stdin=b"to be or not to be\n", files=True)
    assert got.code == 4 and b"static constructor ran" in got.stdout
    assert tree[os.path.join("sand", "cpp_out.txt")][1].count(b"\n") == 5


@pytest.mark.parametrize("argv", [(), ("u",), ("t",)])
def test_cpp_exceptions(argv):
    """C++ exceptions as Wasm exception handling (exnref), under both lowerings: the same
    output and outcome as wasmtime, the uncaught exception and std::terminate included."""
    wasm = harness.build_cpp_exceptions("cpp_exceptions.cpp")
    ref = harness.run_wasmtime(wasm, argv=argv)
    for mode in (None, "flat"):
        got = harness.run_purewasm(wasm, argv=argv, mode=mode)
        assert (got.stdout, got.stderr, got.code) == (ref.stdout, ref.stderr, ref.code), mode
        assert (got.trap is None) == (ref.trap is None)
    out = got.stdout
    assert b"caught BigError big 500 (live=0)" in out and b"caught int 42" in out
    assert b"outer caught rethrown 1000" in out and b"loop total 13400 live 0" in out
    if argv == ("u",):
        assert got.trap == "thrown Wasm exception"
    elif argv == ("t",):
        assert got.trap == "unreachable"
    else:
        assert got.code == 0


@pytest.mark.parametrize("runner", RUNNERS)
def test_zig_program(tmp_path, runner):
    got, _ = _compare(tmp_path, runner, "zig_program.zig", argv=("a", "b", "c"))
    assert got.code == 8 and got.stdout.startswith(b"hello from zig\n")


@pytest.mark.parametrize("runner", RUNNERS)
def test_zig_std_filesystem(tmp_path, runner):
    got, tree = _compare(tmp_path, runner, "zig_fs.zig", files=True)
    assert got.code == 0 and b"open ..: PermissionDenied" in got.stderr
    assert tree[os.path.join("sand", "kept.txt")] == ("file", b"kept\n")
    assert os.path.join("sand", "zigdir") not in tree


@pytest.mark.parametrize("runner", RUNNERS)
def test_raw_calls_errnos(tmp_path, runner):
    got, _ = _compare(tmp_path, runner, "raw_calls.c", files=True)
    assert b"file as dir: 54" in got.stdout
