"""The Pyodide smoke run: executed inside Pyodide (CPython on emscripten, no threads) by
tests/pyodide_smoke.mjs, with the repository mounted and on sys.path.

Checks what must hold in a browser tab: a call, WASI programs (captured stdout; files in a
preopened MEMFS directory), a trap, stack exhaustion (deep Wasm recursion and host
re-entries) trapping cleanly instead of killing the runtime, fuel and a wall-clock deadline
without threads. Prints
"PYODIDE SMOKE OK" at the end; raises on the first failure.
"""
from __future__ import annotations

import os
import sys

import purewasm
from purewasm.runtime import call

# Run by runPython (no __file__): the runner mounts the repository at /repo.
EXAMPLES = "/repo/examples"


def check(what: str, got: object, want: object) -> None:
    if got != want:
        raise SystemExit("pyodide smoke FAILED: %s: got %r, want %r" % (what, got, want))
    print("ok  %s" % what)


def expect_trap(what: str, fn: object, *args: object, message: str) -> None:
    try:
        fn(*args)  # type: ignore[operator]
    except purewasm.Trap as trap:
        check(what, message in str(trap), True)
        return
    raise SystemExit("pyodide smoke FAILED: %s: no trap" % what)


def main() -> None:
    check("platform", sys.platform, "emscripten")
    check("no worker thread", call.NEEDS_WORKER_THREAD, False)

    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module(engine, """
      (module
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "boom") unreachable)
        (func $deep (export "deep") (param i32) (result i32)
          local.get 0 i32.const 1 i32.add call $deep))""")
    exports = purewasm.Instance(store, module, []).exports(store)
    check("add", exports["add"](store, 2, 3), 5)
    expect_trap("unreachable traps", exports["boom"], store, message="unreachable")
    expect_trap("deep recursion traps", exports["deep"], store, 0,
                message="call stack exhausted")
    check("runtime alive after stack exhaustion", exports["add"](store, 1, 1), 2)

    # Host re-entries use the JavaScript stack: past the emscripten budget they trap.
    reenter = purewasm.Module(engine, """
      (module (import "h" "cb" (func $cb (param i32) (result i32)))
        (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $cb))""")
    box = {}

    def callback(x: int) -> int:
        return box["f"](store, x)  # type: ignore[no-any-return]
    host = purewasm.Func(store, purewasm.FuncType([purewasm.ValType.i32()],
                                                  [purewasm.ValType.i32()]), callback)
    box["f"] = purewasm.Instance(store, reenter, [host]).exports(store)["f"]
    expect_trap("host re-entry exhaustion traps", box["f"], store, 0,
                message="call stack exhausted")
    check("runtime alive after re-entry exhaustion", exports["add"](store, 2, 2), 4)

    # A WASI program with its stdout captured.
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    wasi_store = purewasm.Store(engine)
    config = purewasm.WasiConfig()
    out = bytearray()
    config.stdout_custom = out
    wasi_store.set_wasi(config)
    with open(os.path.join(EXAMPLES, "hello.wasm"), "rb") as f:
        hello = purewasm.Module(engine, f.read())
    linker.instantiate(wasi_store, hello).exports(wasi_store)["_start"](wasi_store)
    check("WASI stdout", bytes(out), b"Hello, World\n")

    # A C program reading and writing files in a preopened directory (Pyodide's MEMFS).
    os.makedirs("/tmp/smoke", exist_ok=True)
    with open("/tmp/smoke/in.txt", "w") as f:
        f.write("one two\nthree\n")
    config = purewasm.WasiConfig()
    config.argv = ["wordcount", "/data/in.txt"]
    config.preopen_dir("/tmp/smoke", "/data")
    out = bytearray()
    config.stdout_custom = out
    fs_store = purewasm.Store(engine)
    fs_store.set_wasi(config)
    with open(os.path.join(EXAMPLES, "wasi", "wordcount.wasm"), "rb") as f:
        wordcount = purewasm.Module(engine, f.read())
    try:
        linker.instantiate(fs_store, wordcount).exports(fs_store)["_start"](fs_store)
    except purewasm.ExitTrap as exit_:
        check("wordcount exit status", exit_.code, 0)
    check("WASI files: stdout", bytes(out), b"wordcount: 2 lines, 3 words\n")
    with open("/tmp/smoke/in.txt.count") as f:
        check("WASI files: written", f.read(), "2 3\n")

    # Fuel and a wall-clock deadline: no thread involved.
    spin = """(module (func (export "spin") (loop $l (br $l))))"""
    cfg = purewasm.Config()
    cfg.consume_fuel = True
    fuel_engine = purewasm.Engine(cfg)
    fuel_store = purewasm.Store(fuel_engine)
    fuel_store.set_fuel(10_000)
    spin_fuel = purewasm.Instance(fuel_store, purewasm.Module(fuel_engine, spin), [])
    expect_trap("fuel runs out", spin_fuel.exports(fuel_store)["spin"], fuel_store,
                message="fuel")
    cfg = purewasm.Config()
    cfg.epoch_interruption = True
    epoch_engine = purewasm.Engine(cfg)
    epoch_store = purewasm.Store(epoch_engine)
    epoch_store.set_epoch_deadline(1 << 40)
    epoch_store.set_deadline(0.2)
    spin_time = purewasm.Instance(epoch_store, purewasm.Module(epoch_engine, spin), [])
    expect_trap("wall-clock deadline", spin_time.exports(epoch_store)["spin"], epoch_store,
                message="interrupt")
    print("PYODIDE SMOKE OK")


main()
