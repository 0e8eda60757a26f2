"""Func, host functions and Caller: calls both ways, values, errors.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest

from api.support import wasm, f32


def test_host_func_direct_call(w: Any) -> None:
    store = w.Store()
    ty = w.FuncType([w.ValType.i32(), w.ValType.i64()], [w.ValType.i64()])
    f = w.Func(store, ty, lambda a, b: a + b)
    assert f(store, 1, 2) == 3
    assert f(store, 0xFFFFFFFF, 0) == -1          # i32 arguments arrive signed
    assert f.type(store).params == ty.params
    with pytest.raises(w.WasmtimeError):
        f(store, 1)

    class Boom(Exception):
        pass

    def raiser() -> None:
        raise Boom("boom")
    g = w.Func(store, w.FuncType([], []), raiser)
    with pytest.raises(Boom):
        g(store)
    two = w.Func(store, w.FuncType([], [w.ValType.i32(), w.ValType.f64()]), lambda: (1, 2.5))
    assert two(store) == [1, 2.5]


CALL_WAT = """
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "mem_get" (func $mem_get (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\2a")
  (func (export "run") (param i32) (result i32)
    (call $add (local.get 0) (i32.const 1)))
  (func (export "peek") (result i32) (call $mem_get (i32.const 0)))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $rec (export "rec") (param i32) (result i32)
    (call $rec (local.get 0)))
  (func (export "multi") (result i32 i64) (i32.const -1) (i64.const 5))
)
"""


def _call_instance(w: Any, store: Any) -> Any:
    engine = store.engine if hasattr(store, "engine") else w.Engine()
    linker = w.Linker(engine)
    i32 = w.ValType.i32()
    linker.define_func("env", "add", w.FuncType([i32, i32], [i32]), lambda a, b: a + b)

    def mem_get(caller: Any, addr: int) -> int:
        return caller["memory"].read(caller, addr, addr + 1)[0]
    linker.define_func("env", "mem_get", w.FuncType([i32], [i32]), mem_get,
                       access_caller=True)
    return linker.instantiate(store, w.Module(engine, wasm(CALL_WAT)))


def test_calls(w: Any) -> None:
    store = w.Store(w.Engine())
    inst = _call_instance(w, store)
    ex = inst.exports(store)
    assert ex["run"](store, 41) == 42
    assert ex["run"](store, 0x7FFFFFFF) == -2147483648
    assert ex["peek"](store) == 42
    assert ex["multi"](store) == [-1, 5]
    with pytest.raises(w.Trap) as info:
        ex["div"](store, 1, 0)
    assert info.value.trap_code == w.TrapCode.INTEGER_DIVISION_BY_ZERO
    with pytest.raises(w.Trap) as info:
        ex["rec"](store, 0)
    assert info.value.trap_code == w.TrapCode.STACK_OVERFLOW
    # The store stays usable after traps.
    assert ex["run"](store, 1) == 2


def test_host_exception_through_guest(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)

    class Custom(Exception):
        pass

    def bad() -> None:
        raise Custom("from host")
    linker.define_func("env", "f", w.FuncType([], []), bad)
    module = w.Module(engine, wasm("""(module (import "env" "f" (func $f))
        (func (export "go") (call $f)))"""))
    inst = linker.instantiate(store, module)
    with pytest.raises(Custom):
        inst.exports(store)["go"](store)


def test_values_through_wasm(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm("""
      (module
        (func (export "id64") (param i64) (result i64) (local.get 0))
        (func (export "idf32") (param f32) (result f32) (local.get 0))
        (func (export "bits32") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
        (func (export "ext") (param externref) (result externref) (local.get 0))
        (func (export "isnull") (param externref) (result i32) (ref.is_null (local.get 0))))"""))
    ex = w.Instance(store, module, []).exports(store)
    assert ex["id64"](store, 2**64 - 1) == -1
    assert ex["id64"](store, -(2**63)) == -(2**63)
    assert ex["idf32"](store, 0.1) == f32(0.1)
    assert ex["bits32"](store, 1.0) == 0x3F800000
    obj = object()
    assert ex["ext"](store, obj) is obj
    assert ex["isnull"](store, None) == 1
    assert ex["isnull"](store, "x") == 0
    with pytest.raises(TypeError):
        ex["id64"](store, "nope")


def test_host_returns_wrong_type(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)
    linker.define_func("env", "f", w.FuncType([], [w.ValType.i32()]), lambda: "str")
    module = w.Module(engine, wasm("""(module (import "env" "f" (func $f (result i32)))
        (func (export "go") (result i32) (call $f)))"""))
    ex = linker.instantiate(store, module).exports(store)
    with pytest.raises(TypeError):
        ex["go"](store)


def test_caller_in_start_function(w: Any) -> None:
    store = w.Store()
    hit: Any = {}

    def host(caller: Any) -> None:
        hit["caller"] = caller
        mem = caller.get("foo")
        hit["is_memory"] = isinstance(mem, w.Memory)
        hit["bytes"] = mem.read(caller, 0, 3)
        hit["missing"] = caller.get("bar")
    module = w.Module(store.engine, wasm("""(module (import "" "" (func))
        (memory (export "foo") 1) (start 0) (data (i32.const 0) "foo"))"""))
    w.Instance(store, module, [w.Func(store, w.FuncType([], []), host, access_caller=True)])
    assert hit["is_memory"] and hit["bytes"] == bytearray(b"foo") and hit["missing"] is None
    assert hit["caller"].get("foo") is None       # invalidated after the call


def test_externref_released(w: Any) -> None:
    import gc
    store = w.Store()
    module = w.Module(store.engine, wasm('(module (func (export "f") (param externref)))'))
    f = w.Instance(store, module, []).exports(store)["f"]
    freed: Any = {}

    class Tracked:
        def __del__(self) -> None:
            freed["yes"] = True
    f(store, Tracked())
    store.gc()
    gc.collect()
    assert freed.get("yes")


def test_call_needs_a_live_store(w: Any) -> None:
    store = w.Store()
    module = w.Module(store.engine, wasm('(module (func (export "f") (param i32) (result i32) '
                                         'local.get 0))'))
    f = w.Instance(store, module, []).exports(store)["f"]
    with pytest.raises(AttributeError):
        f(1, 2)                     # the store forgotten: refused, not run with 2
    store.close()
    with pytest.raises(ValueError):
        f(store, 1)
