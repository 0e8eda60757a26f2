"""The purewasm command line: run (WASI, --dir, --env, --invoke), validate, errors."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from programs import harness  # noqa: E402

from purewasm import cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")

INVOKE_WAT = """
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mix") (param i64 f32 f64) (result i64 f64)
    (local.get 0) (f64.add (f64.promote_f32 (local.get 1)) (local.get 2)))
  (func (export "boom") (unreachable))
  (func (export "none"))
  (global (export "g") i32 (i32.const 1)))
"""


def purewasm(*args, stdin=b"", cwd=None, env=None):
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = REPO + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "purewasm"] + list(args), input=stdin,
                          capture_output=True, cwd=cwd, env=full_env, timeout=120)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc


@pytest.fixture
def invoke_wat(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text(INVOKE_WAT)
    return str(path)


# --- run -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["hello.wasm", "hello.wat"])
def test_hello(name):
    proc = purewasm("run", os.path.join(EXAMPLES, name))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"Hello, World\n", b"")


def test_run_is_the_default_command():
    proc = purewasm(os.path.join(EXAMPLES, "hello.wasm"))
    assert proc.returncode == 0 and proc.stdout == b"Hello, World\n"


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")
def test_committed_hello_wasm_is_up_to_date(tmp_path):
    out = tmp_path / "hello.wasm"
    subprocess.run(["wat2wasm", os.path.join(EXAMPLES, "hello.wat"), "-o", str(out)],
                   check=True)
    with open(os.path.join(EXAMPLES, "hello.wasm"), "rb") as f:
        assert f.read() == out.read_bytes()


def test_args_stdin_stdout_stderr_and_exit_status():
    wasm = harness.build("stdio.c")
    proc = purewasm("run", wasm, "3", stdin=b"abc\nxyz\n")
    assert proc.returncode == 3
    assert proc.stdout == b"ABC\nXYZ\n"
    assert proc.stderr == b"read 8 bytes, 2 lines\n"
    proc = purewasm(wasm, "5", "via-exit")
    assert proc.returncode == 5 and proc.stdout.endswith(b"exiting via exit(5)\n")


def test_program_flags_after_file_go_to_the_program():
    wasm = harness.build("args_env.c")
    proc = purewasm("run", wasm, "--env", "X=1", "--help", "-v")
    assert proc.returncode == 0
    assert b"argv[1]=[--env]" in proc.stdout and b"argv[3]=[--help]" in proc.stdout
    assert b"nenv=0" in proc.stdout


def test_env_flags(monkeypatch):
    wasm = harness.build("args_env.c")
    proc = purewasm("run", "--env", "GREETING=hi there", "--env", "FROM_HOST",
                    "--env", "NOT_SET_ANYWHERE", "--env", "EMPTY=", wasm,
                    env={"FROM_HOST": "inherited", "HOME": "/secret"})
    assert proc.returncode == 0
    out = proc.stdout
    assert b"GREETING=hi there\n" in out
    assert b"env[1]=[FROM_HOST=inherited]" in out
    assert b"env[2]=[EMPTY=]" in out
    assert b"NOT_SET_ANYWHERE" not in out
    assert b"HOME=(unset)" in out and b"nenv=3" in out
    assert proc.stdout.startswith(b"argc=1\n")


def test_dir_flags_and_sandbox(tmp_path):
    dirs = harness.make_sandbox(str(tmp_path))
    wasm = harness.build("files.c")
    ref = harness.run_wasmtime(wasm, dirs=dirs)      # fresh tree for the reference below
    root2 = tmp_path / "second"
    root2.mkdir()
    harness.make_sandbox(str(root2))
    proc = purewasm("run", "--dir", str(root2 / "sand") + "::sand", "--dir", "ro", wasm,
                    cwd=str(root2))
    assert proc.returncode == 0
    # argv[0] differs (the path), nothing else does
    assert proc.stdout == ref.stdout
    esc = purewasm("run", "--dir", "sand", harness.build("escape.c"), cwd=str(root2))
    assert esc.returncode == 0 and b"ESCAPED" not in esc.stdout
    assert (root2 / "outside" / "secret.txt").read_bytes() == b"secret\n"


def test_dir_must_exist(tmp_path):
    proc = purewasm("run", "--dir", str(tmp_path / "missing"),
                    os.path.join(EXAMPLES, "hello.wasm"))
    assert proc.returncode == 1
    assert proc.stderr.count(b"\n") == 1 and b"missing" in proc.stderr


def test_trap_status_and_backtrace():
    wasm = harness.build("trap.c")
    proc = purewasm("run", wasm)
    assert proc.returncode == cli.EXIT_TRAP == 134
    assert proc.stdout == b"before trap\n"
    lines = proc.stderr.decode().splitlines()
    assert lines[0] == "purewasm: trap: unreachable"
    assert lines[1] == "wasm backtrace:"
    assert any("crash" in line for line in lines[2:])
    proc = purewasm("run", wasm, "oob")
    assert proc.returncode == 134
    assert proc.stderr.decode().splitlines()[0] == "purewasm: trap: out of bounds memory access"


# --- --invoke ------------------------------------------------------------------------------

def test_invoke(invoke_wat):
    proc = purewasm("run", "--invoke", "add", invoke_wat, "2", "-5")
    assert (proc.returncode, proc.stdout) == (0, b"-3\n")
    proc = purewasm("run", "--invoke", "add", invoke_wat, "0xffffffff", "0")
    assert proc.stdout == b"-1\n"
    proc = purewasm("run", "--invoke", "mix", invoke_wat, "-1", "1.5", "0.25")
    assert (proc.returncode, proc.stdout) == (0, b"-1\n1.75\n")
    proc = purewasm("run", "--invoke", "mix", invoke_wat, "9223372036854775807", "nan", "inf")
    assert proc.stdout == b"9223372036854775807\nNaN\n"
    proc = purewasm("run", "--invoke", "none", invoke_wat)
    assert (proc.returncode, proc.stdout) == (0, b"")
    proc = purewasm("run", "--invoke", "boom", invoke_wat)
    assert proc.returncode == 134 and proc.stderr.startswith(b"purewasm: trap: unreachable\n")


@pytest.mark.parametrize("args,message", [
    (["--invoke", "add", "{wat}", "1"], b"expects 2 argument(s) (i32, i32), got 1"),
    (["--invoke", "add", "{wat}", "x", "1"], b"invalid i32 argument: 'x'"),
    (["--invoke", "add", "{wat}", "4294967296", "1"], b"i32 argument out of range"),
    (["--invoke", "nope", "{wat}"], b"no exported function named 'nope'"),
    (["--invoke", "g", "{wat}"], b"no exported function named 'g'"),
])
def test_invoke_errors(invoke_wat, args, message):
    proc = purewasm("run", *[a.format(wat=invoke_wat) for a in args])
    assert proc.returncode == cli.EXIT_USAGE
    assert proc.stderr.count(b"\n") == 1 and message in proc.stderr


# --- validate ------------------------------------------------------------------------------

def test_validate(tmp_path, invoke_wat):
    proc = purewasm("validate", os.path.join(EXAMPLES, "hello.wasm"))
    assert proc.returncode == 0 and proc.stdout.endswith(b": valid\n")
    assert purewasm("validate", invoke_wat).returncode == 0
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x05")
    proc = purewasm("validate", str(bad))
    assert proc.returncode == 1 and proc.stderr.startswith(b"purewasm: error: malformed module")
    assert proc.stderr.count(b"\n") == 1
    invalid = tmp_path / "invalid.wat"
    invalid.write_text("(module (func (result i32) (i64.const 1)))")
    proc = purewasm("validate", str(invalid))
    assert proc.returncode == 1 and proc.stderr.startswith(b"purewasm: error: invalid module")
    assert proc.stderr.count(b"\n") == 1


def test_run_reports_bad_modules_in_one_line(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x02\0\0\0")
    proc = purewasm("run", str(bad))
    assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1
    unlinkable = tmp_path / "imp.wat"
    unlinkable.write_text('(module (import "env" "f" (func)))')
    proc = purewasm("run", str(unlinkable))
    assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1


_WASI_WRITE = ('(import "wasi_snapshot_preview1" "fd_write" '
               '(func $w (param i32 i32 i32 i32) (result i32)))')
_CALL_WRITE = "(drop (call $w (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))"


@pytest.mark.parametrize("name,content", [
    ("empty.wasm", b""),
    ("magic.wasm", b"\0asm"),
    ("truncated.wasm", b"\0asm\1\0\0\0\1\5\1\x60"),
    ("not_utf8.wat", b"\xff\xfe(module)"),
    ("parens.wat", b"(" * 100000),
    ("bad_escape.wat", b'(module (func (export "\\u{110000}")))'),
    # WASI needs an exported memory; a function named "memory" is not one.
    ("no_memory.wat", ('(module %s (func (export "_start") %s))'
                       % (_WASI_WRITE, _CALL_WRITE)).encode()),
    ("func_memory.wat", ('(module %s (func (export "_start") (export "memory") %s))'
                         % (_WASI_WRITE, _CALL_WRITE)).encode()),
])
def test_odd_files_are_one_line_errors(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert cli.main(["run", str(path)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("purewasm: error: "), err


@pytest.mark.parametrize("name,content,message", [
    # Neither a binary nor text-looking: both are said, not only the text parser's verdict.
    ("garbage.wasm", b"garbage\n", "not a Wasm binary (no \\0asm header) and not the text format"),
    ("elf.bin", b"\x7fELF\x02\x01\x01", "not a Wasm binary (no \\0asm header) and not the text format"),
    # Text with a mistake, whatever its name: the parser's message and position.
    ("bad.txt", b"(module (func (i32.const)))", "1:25: unexpected token"),
    ("bad.wat", b"nonsense", "1:1: unexpected token"),
])
def test_what_a_file_is_not(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    for command in ("run", "validate"):
        assert cli.main([command, str(path)]) == cli.EXIT_ERROR
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert ("not a Wasm binary" in err) == ("no \\0asm" in message), err


# --- usage ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args,status", [
    (["--bogus"], 2),
    (["run", "--bogus", "x.wasm"], 2),
    (["run"], 2),
    (["validate"], 2),
    (["run", "/no/such/file.wasm"], 1),
    (["/no/such/file.wasm"], 1),
    (["validate", "/no/such/file.wasm"], 1),
])
def test_usage_errors_are_one_line(args, status):
    proc = purewasm(*args)
    assert proc.returncode == status
    assert proc.stderr.count(b"\n") == 1 and proc.stderr.startswith(b"purewasm: error: ")


def test_help_documents_everything():
    top = purewasm("--help")
    assert top.returncode == 0
    for word in (b"run", b"validate", b"wast", b"exit status", b"134"):
        assert word in top.stdout
    run = purewasm("run", "--help")
    assert run.returncode == 0
    for word in (b"--dir", b"HOST[::GUEST]", b"--env", b"NAME[=VALUE]", b"--invoke", b"FILE",
                 b"ARGS", b"134"):
        assert word in run.stdout
    assert purewasm().returncode == 2


# --- helpers (in process) ------------------------------------------------------------------

def test_parse_dir():
    assert cli.parse_dir("/a/b::/guest") == ("/a/b", "/guest")
    assert cli.parse_dir("data") == ("data", "data")
    assert cli.parse_dir("data::") == ("data", "data")
    with pytest.raises(cli.UsageError):
        cli.parse_dir("::x")


def test_parse_env(monkeypatch):
    monkeypatch.setenv("PW_HOST_VAR", "v")
    monkeypatch.delenv("PW_UNSET", raising=False)
    assert cli.parse_env(["A=1", "PW_HOST_VAR", "PW_UNSET", "A=2", "B=x=y"]) == [
        ("PW_HOST_VAR", "v"), ("A", "2"), ("B", "x=y")]
    with pytest.raises(cli.UsageError):
        cli.parse_env(["=x"])


def test_parse_and_format_values():
    assert cli.parse_value("-1", "i32") == -1
    assert cli.parse_value("0xffffffff", "i32") == -1
    assert cli.parse_value("18446744073709551615", "i64") == -1
    assert cli.parse_value("1.5", "f32") == 1.5
    for text, t in (("4294967296", "i32"), ("-2147483649", "i32"), ("1.5", "i32"),
                    ("x", "f64"), ("1", "v128")):
        with pytest.raises(cli.UsageError):
            cli.parse_value(text, t)
    assert cli.format_value(float("nan")) == "NaN"
    assert cli.format_value(float("-inf")) == "-inf"
    assert cli.format_value(-0.0) == "-0.0"
    assert cli.format_value(7) == "7"
    assert cli.format_value(None) == "null"


def test_main_in_process_returns_status(capsys):
    assert cli.main(["--bogus"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert cli.main(["validate", os.path.join(EXAMPLES, "hello.wasm")]) == 0


# --- wast / print ------------------------------------------------------------------------------

WAST_OK = """
(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_trap (module (func $f unreachable) (start $f)) "unreachable")
(assert_malformed (module quote "(func (i32.const))") "unexpected token")
"""
WAST_BAD = """
(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 2))
(assert_return (invoke "one") (i32.const 1))
"""


def test_wast_reports_counts_and_failures_with_line(tmp_path):
    good = tmp_path / "good.wast"
    good.write_text(WAST_OK)
    bad = tmp_path / "bad.wast"
    bad.write_text(WAST_BAD)
    proc = purewasm("wast", str(good))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.decode().splitlines()[-1] == "4 passed, 0 failed"
    proc = purewasm("wast", str(good), str(bad))
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    assert lines[-1] == "6 passed, 1 failed"
    assert any(line.startswith("%s:3: " % bad) for line in lines)


def test_wast_runs_a_testsuite_file():
    from wast_json import WAST_DIR
    path = str(WAST_DIR / "fac.wast")
    proc = purewasm("wast", "-q", path)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.decode().strip().endswith(" passed, 0 failed")


def test_wast_errors_are_one_line(tmp_path):
    proc = purewasm("wast", str(tmp_path / "missing.wast"))
    assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1
    broken = tmp_path / "broken.wast"
    broken.write_text("(module (func (i32.const 1)")
    proc = purewasm("wast", str(broken))
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[-1] == "0 passed, 1 failed"


def test_print_round_trips(tmp_path):
    proc = purewasm("print", os.path.join(EXAMPLES, "hello.wasm"))
    assert proc.returncode == 0
    text = proc.stdout.decode()
    assert '(import "wasi_snapshot_preview1" "fd_write"' in text
    from purewasm.binary import decode_module
    from purewasm.text import parse_module
    with open(os.path.join(EXAMPLES, "hello.wasm"), "rb") as f:
        assert parse_module(text) == decode_module(f.read())


# --- explore -------------------------------------------------------------------------------

def test_explore_prints_the_python_of_each_function(invoke_wat):
    proc = purewasm("explore", invoke_wat)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert "# wasm function 0 add: (i32 i32) -> (i32), structured lowering" in text
    assert "def f0(l0, l1):" in text and "def f3():" in text
    # What it prints is the code purewasm runs: it compiles and computes add.
    ns = {}
    exec(compile(text.split("# wasm function 1")[0], "explore", "exec"), ns)
    assert ns["f0"](2, 3) == 5


@pytest.mark.parametrize("func", ["add", "$add", "0", "$0"])
def test_explore_one_function_by_name_or_index(invoke_wat, func):
    proc = purewasm("explore", "--flat", "--func", func, invoke_wat)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert text.count("# wasm function") == 1
    assert "flat lowering" in text and "_s = 0" in text


@pytest.mark.parametrize("func", ["nope", "99"])
def test_explore_unknown_function_is_a_usage_error(invoke_wat, func):
    proc = purewasm("explore", "--func", func, invoke_wat)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.startswith(b"purewasm: ")


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`purewasm explore m.wasm | head -1`: the reader goes away while purewasm writes;
    purewasm stops with 141 (128 + SIGPIPE) and says nothing, no internal error."""
    wat = tmp_path / "many.wat"
    wat.write_text("(module %s)" % " ".join(
        "(func (export \"f%d\") (result i32) (i32.const %d))" % (i, i) for i in range(3000)))
    proc = subprocess.Popen([sys.executable, "-m", "purewasm", "explore", str(wat)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"# wasm function 0")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""
