"""Linker: definitions, errors, import matching, linking instances.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest

from api.support import wasm


def test_linker_errors(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm('(module (import "env" "g" (global i32)))'))
    linker = w.Linker(engine)
    with pytest.raises(w.WasmtimeError) as info:
        linker.instantiate(store, module)
    assert "unknown import" in str(info.value)
    linker.define(store, "env", "g", w.Global(store, w.GlobalType(w.ValType.i64(), False), 1))
    with pytest.raises(w.WasmtimeError) as info:
        linker.instantiate(store, module)
    assert "incompatible import type" in str(info.value)
    with pytest.raises(w.WasmtimeError):
        linker.define(store, "env", "g",
                      w.Global(store, w.GlobalType(w.ValType.i32(), False), 1))
    linker.allow_shadowing = True
    linker.define(store, "env", "g", w.Global(store, w.GlobalType(w.ValType.i32(), False), 1))
    linker.instantiate(store, module)


def test_import_limits_subtyping(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm('(module (import "env" "m" (memory 1 3)))'))
    for limits, ok in (((1, 3), True), ((2, 2), True), ((1, None), False), ((1, 4), False),
                       ((0, 3), False)):
        mem = w.Memory(store, w.MemoryType(w.Limits(*limits)))
        if ok:
            w.Instance(store, module, [mem])
        else:
            with pytest.raises(w.WasmtimeError):
                w.Instance(store, module, [mem])


def test_link_two_instances_and_tables(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)
    lib = w.Module(engine, wasm("""
      (module
        (table (export "tab") 2 funcref)
        (func $seven (result i32) (i32.const 7))
        (elem (i32.const 0) $seven)
        (func (export "call") (param i32) (result i32)
          (call_indirect (result i32) (local.get 0))))"""))
    linker.define_instance(store, "lib", linker.instantiate(store, lib))
    user = w.Module(engine, wasm("""
      (module
        (import "lib" "call" (func $call (param i32) (result i32)))
        (import "lib" "tab" (table 2 funcref))
        (func (export "go") (param i32) (result i32) (call $call (local.get 0))))"""))
    ex = linker.instantiate(store, user).exports(store)
    assert ex["go"](store, 0) == 7
    with pytest.raises(w.Trap):
        ex["go"](store, 1)                     # null entry
    tab = linker.get(store, "lib", "tab")
    host = w.Func(store, w.FuncType([], [w.ValType.i32()]), lambda: 99)
    tab.set(store, 1, host)
    assert ex["go"](store, 1) == 99
    assert ex["go"](store, 0) == 7


def test_linker_helpers(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)
    lib = w.Module(engine, wasm('(module (func (export "seven") (result i32) (i32.const 7)))'))
    linker.define_module(store, "lib", lib)
    assert linker.get(store, "lib", "seven")(store) == 7
    with pytest.raises(w.WasmtimeError):
        linker.get(store, "lib", "nope")
    user = w.Module(engine, wasm("""(module
        (import "lib" "seven" (func $seven (result i32)))
        (import "env" "missing" (func $missing (result i64)))
        (func (export "a") (result i32) (call $seven))
        (func (export "b") (result i64) (call $missing)))"""))
    trap_linker = w.Linker(engine)
    trap_linker.define_module(store, "lib", lib)
    trap_linker.define_unknown_imports_as_traps(user)
    ex = trap_linker.instantiate(store, user).exports(store)
    assert ex["a"](store) == 7
    with pytest.raises(w.WasmtimeError):
        ex["b"](store)
    linker.define_unknown_imports_as_default_values(store, user)
    ex = linker.instantiate(store, user).exports(store)
    assert ex["b"](store) == 0
    linker.get_default(store, "nothing")(store)
