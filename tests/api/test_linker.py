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


ANSWER_WAT = '(module (import "env" "k" (func $k (result i32))) ' \
    '(func (export "f") (result i32) call $k i32.const 1 i32.add))'


def test_instantiate_pre_serves_many_stores(w: Any) -> None:
    engine = w.Engine()
    linker = w.Linker(engine)
    linker.define_func("env", "k", w.FuncType([], [w.ValType.i32()]), lambda: 41)
    pre = linker.instantiate_pre(w.Module(engine, wasm(ANSWER_WAT)))
    for _ in range(2):
        store = w.Store(engine)
        assert pre.instantiate(store).exports(store)["f"](store) == 42
    with pytest.raises(TypeError):
        linker.instantiate_pre("not a module")


def test_instantiate_pre_needs_every_import_defined(w: Any) -> None:
    engine = w.Engine()
    with pytest.raises(w.WasmtimeError):
        w.Linker(engine).instantiate_pre(w.Module(engine, wasm(ANSWER_WAT)))


def test_define_unknown_imports_take_a_module(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)
    module = w.Module(engine, wasm(ANSWER_WAT))
    linker.define_unknown_imports_as_default_values(store, module)
    assert linker.instantiate(store, module).exports(store)["f"](store) == 1
    with pytest.raises(TypeError):
        linker.define_unknown_imports_as_default_values(store, "not a module")
    with pytest.raises(TypeError):
        linker.define_unknown_imports_as_traps("not a module")


def test_wrong_argument_types_raise_as_wasmtime_py(w: Any) -> None:
    # wasmtime-py raises AttributeError for these (its code reaches for an attribute the
    # argument lacks); purewasm's ArgumentTypeError is both that and a TypeError.
    engine = w.Engine()
    store = w.Store(engine)
    with pytest.raises(AttributeError):
        w.Linker(2)
    with pytest.raises(AttributeError):
        w.Linker(engine).instantiate(store, 3)
    with pytest.raises(AttributeError):
        w.Instance(store, 1, [])
    with pytest.raises(AttributeError):
        w.Memory(1, w.MemoryType(w.Limits(1, None)))
    with pytest.raises(AttributeError):
        w.Module.validate(1, b"")


def test_argument_type_error_is_a_type_error() -> None:
    import purewasm
    from purewasm.errors import ArgumentTypeError
    with pytest.raises(ArgumentTypeError) as info:
        purewasm.Instance(purewasm.Store(), 1, [])
    assert isinstance(info.value, TypeError) and isinstance(info.value, AttributeError)


def test_closed_linker_refuses_use() -> None:
    import purewasm
    engine = purewasm.Engine()
    with purewasm.Linker(engine) as linker:
        linker.define_func("env", "k", purewasm.FuncType([], []), lambda: None)
    with pytest.raises(ValueError):
        linker.define_func("env", "j", purewasm.FuncType([], []), lambda: None)
    with pytest.raises(ValueError):
        linker.instantiate(purewasm.Store(engine), purewasm.Module(engine, "(module)"))


def test_instance_pre_refuses_an_extern_of_another_store() -> None:
    import purewasm
    engine = purewasm.Engine()
    first, second = purewasm.Store(engine), purewasm.Store(engine)
    linker = purewasm.Linker(engine)
    linker.define(first, "env", "m",
                  purewasm.Memory(first, purewasm.MemoryType(purewasm.Limits(1, None))))
    pre = linker.instantiate_pre(
        purewasm.Module(engine, '(module (import "env" "m" (memory 1)))'))
    pre.instantiate(first)
    with pytest.raises(purewasm.WasmtimeError) as info:
        pre.instantiate(second)
    assert "different store" in str(info.value)
    pre.close()
    with pytest.raises(ValueError):
        pre.instantiate(first)
