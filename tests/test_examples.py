"""examples/: every embedding example runs and does what it says; the committed .wasm
files match their sources (C through zig cc, WAT through wat2wasm)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import purewasm

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# The C sources and the zig cc command line each one documents in its header.
C_BUILDS = {
    "plugins/shout.c": ["-target", "wasm32-wasi", "-mexec-model=reactor", "-O2", "-s",
                        "-Wl,-z,stack-size=65536"],
    "wasi/wordcount.c": ["-target", "wasm32-wasi", "-O2", "-s", "-Wl,-z,stack-size=65536"],
}


def run_example(name: str, *args: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)] + list(args),
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == "", proc.stderr
    return proc.stdout


def test_plugin_host() -> None:
    out = run_example("plugin_host.py", "hello plugins. caf\u00e9 au lait.")
    # ASCII letters upper-cased, other UTF-8 passed through, '.' made '!'.
    assert out.splitlines() == ["shout: HELLO PLUGINS! CAF\u00e9 AU LAIT!", "  log: words: 5"]


def test_plugin_host_many_calls_do_not_leak() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import plugin_host
    finally:
        sys.path.remove(str(EXAMPLES))
    (plugin,) = plugin_host.load_plugins()
    sizes = []
    for _ in range(2):
        for i in range(300):
            assert plugin.run("abc %d." % i) == "ABC %d!" % i
        sizes.append(plugin.memory.size(plugin.store))
    # The input and result buffers go back to the plugin's allocator: once its size
    # classes are set up, the same calls again need no more memory.
    assert sizes[0] == sizes[1] <= 4, sizes
    assert plugin.log[-1] == "words: 2"


def test_wasi_program() -> None:
    out = run_example("wasi_program.py").splitlines()
    assert out == [
        "exit status 0, stdout: 'counted: 2 lines, 5 words\\n'",
        "the program wrote: 2 5",
        "exit status 1, stderr: '/etc/passwd: No such file or directory\\n'",
    ]


def test_host_functions() -> None:
    assert run_example("host_functions.py").splitlines() == [
        "run() returned 119",
        "the guest printed ['hello from the host']",
        "the host function's exception reached us: print: 100 bytes at 65530 are outside memory",
    ]


def test_untrusted() -> None:
    assert run_example("untrusted.py").splitlines() == [
        "fuel: {'work(1000)': 1000, 'fuel left': 991999, 'spin': "
        "<TrapCode.OUT_OF_FUEL: 'all fuel consumed by WebAssembly'>}",
        "deadline: {'spin': <TrapCode.INTERRUPT: 'interrupt'>}",
        "memory: {'grab(2)': 1, 'grab(10)': -1}",
    ]


def test_asyncio_guest() -> None:
    assert run_example("asyncio_guest.py").splitlines() == [
        "thread {'sum': 20000100000, 'loop kept running': True}",
        "timeout {'spin': <TrapCode.INTERRUPT: 'interrupt'>, 'then sum_to(10)': 55}",
        "slices {'sum': 5000050000, 'slices': 11}",
    ]


def test_hello_and_add_binaries_match_their_text() -> None:
    # (tests/test_cli.py checks hello.wasm against wabt)
    from_text = purewasm.wat2wasm((EXAMPLES / "add.wat").read_text())
    assert bytes(from_text) == (EXAMPLES / "add.wasm").read_bytes()
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module.from_file(engine, str(EXAMPLES / "add.wasm"))
    assert purewasm.Instance(store, module, []).exports(store)["add"](store, 1, 2) == 3


@pytest.mark.parametrize("source", sorted(C_BUILDS))
def test_committed_c_wasm_is_up_to_date(source: str, tmp_path: Path) -> None:
    pytest.importorskip("ziglang", reason="zig cc comes with the test extra (ziglang)")
    out = tmp_path / "out.wasm"
    src = EXAMPLES / source
    proc = subprocess.run([sys.executable, "-m", "ziglang", "cc"] + C_BUILDS[source]
                          + ["-o", str(out), str(src)], capture_output=True, text=True,
                          cwd=str(src.parent), timeout=600)
    assert proc.returncode == 0, proc.stderr
    committed = src.with_suffix(".wasm").read_bytes()
    assert out.read_bytes() == committed, (
        "%s is stale: rebuild it with the command in %s" % (src.with_suffix(".wasm"), source))
    # The build line in the source's header is the one tested here.
    header = src.read_text()
    words = [w for w in header.replace("\\\n", " ").split() if w not in ("*", "\\")]
    assert " ".join(C_BUILDS[source]) in " ".join(words)


def test_every_example_is_tested() -> None:
    tested = {"plugin_host.py", "wasi_program.py", "host_functions.py", "untrusted.py",
              "asyncio_guest.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
    readme = (EXAMPLES / "README.md").read_text()
    for name in tested:
        assert name in readme, "examples/README.md should present " + name
