"""Host functions: Python functions a Wasm module imports, with and without a Caller.

A Caller gives the host function the calling instance's exports (its memory here) and the
store's data (``Store(engine, data=...)``): the way to read and write guest strings and to
keep per-store state without globals.

    python examples/host_functions.py
"""
from __future__ import annotations

from typing import Dict, List

import purewasm

GUEST = r"""
(module
  (import "env" "print" (func $print (param i32 i32)))
  (import "env" "lookup" (func $lookup (param i32 i32 i32 i32) (result i32)))
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "greeting")
  (func (export "run") (result i32) (local $n i32)
    ;; lookup("greeting") into memory[64..128); n = its length
    (local.set $n (call $lookup (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 64)))
    (call $print (i32.const 64) (local.get $n))
    (call $add (local.get $n) (i32.const 100)))
  (func (export "fails") (call $print (i32.const 65530) (i32.const 100))))
"""


def build(settings: Dict[str, str]) -> tuple:
    engine = purewasm.Engine()
    store = purewasm.Store(engine, data={"settings": settings, "printed": []})
    i32 = purewasm.ValType.i32()

    def print_(caller: purewasm.Caller, ptr: int, length: int) -> None:
        memory = caller["memory"]
        if ptr + length > memory.data_len(caller):
            # An exception in a host function ends the Wasm call and reaches the embedder.
            raise ValueError("print: %d bytes at %d are outside memory" % (length, ptr))
        caller.data()["printed"].append(memory.read(caller, ptr, ptr + length).decode())

    def lookup(caller: purewasm.Caller, key_ptr: int, key_len: int, out_ptr: int,
               out_cap: int) -> int:
        memory = caller["memory"]
        key = memory.read(caller, key_ptr, key_ptr + key_len).decode()
        value = caller.data()["settings"].get(key, "").encode()[:out_cap]
        memory.write(caller, value, out_ptr)
        return len(value)

    def add(a: int, b: int) -> int:           # no Caller needed: plain values in and out
        return a + b

    linker = purewasm.Linker(engine)
    linker.define_func("env", "print", purewasm.FuncType([i32, i32], []), print_,
                       access_caller=True)
    linker.define_func("env", "lookup", purewasm.FuncType([i32] * 4, [i32]), lookup,
                       access_caller=True)
    linker.define_func("env", "add", purewasm.FuncType([i32, i32], [i32]), add)
    instance = linker.instantiate(store, purewasm.Module(engine, GUEST))
    return store, instance.exports(store)


def main() -> List[str]:
    store, exports = build({"greeting": "hello from the host"})
    result = exports["run"](store)
    print("run() returned", result)
    print("the guest printed", store.data()["printed"])
    try:
        exports["fails"](store)
    except ValueError as exc:
        print("the host function's exception reached us:", exc)
    return store.data()["printed"]  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
