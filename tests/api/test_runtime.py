"""purewasm-only tests of the runtime: store objects, instantiation order, the call boundary
(depth limit, worker thread, exception mapping) and the API's value conversions."""
from __future__ import annotations

import sys
import threading
from typing import Any, List

import pytest

import purewasm as w
from purewasm import runtime as rt
from purewasm.errors import LinkError, Trap, TrapCode
from purewasm.runtime.call import HostError, invoke
from purewasm.syntax import ACTIVE, DECLARATIVE, PASSIVE, Data, Elem, Func, FuncType, \
    GlobalType, Import, Instr, Limits, MemoryType, Module, TableType


# --- store objects -------------------------------------------------------------------------

def test_type_id() -> None:
    a = rt.type_id(FuncType(("i32",), ("i64",)))
    assert a == rt.type_id(FuncType(("i32",), ("i64",)))
    assert a != rt.type_id(FuncType(("i64",), ("i32",)))
    f = rt.FuncInstance(FuncType(("i32",), ("i64",)))
    assert f.type_id == a


def test_memory_grow_in_place() -> None:
    mem = rt.MemoryInstance(MemoryType(Limits(1, 3)))
    data = mem.data
    assert mem.grow(1) == 1 and mem.pages == 2
    assert mem.grow(2) == -1
    assert mem.grow(0) == 2
    assert mem.data is data and len(data) == 2 * 65536
    unbounded = rt.MemoryInstance(MemoryType(Limits(0, None)))
    assert unbounded.grow(65537) == -1
    limited = rt.MemoryInstance(MemoryType(Limits(0, None)), limit_bytes=65536)
    assert limited.grow(1) == 0 and limited.grow(1) == -1


def test_table_grow_in_place() -> None:
    table = rt.TableInstance(TableType("externref", Limits(1, 2)), "a")
    elements = table.elements
    assert table.grow(1, "b") == 1
    assert table.grow(1, "c") == -1
    assert table.elements is elements and elements == ["a", "b"]


def test_f32_bits_roundtrip() -> None:
    for bits in (0, 0x80000000, 0x3F800000, 0x7F800000, 0x7FA00000, 0xFFC00001, 0x7F800001,
                 0x00000001):
        assert rt.f32_to_bits(rt.f32_from_bits(bits)) == bits
    assert rt.f32_value(1e300) == float("inf")
    assert rt.f32_value(0.1) == 0.10000000149011612
    # An embedder's NaN keeps its payload (arithmetic's numeric.f32_round may quiet it).
    assert rt.f32_to_bits(rt.f32_value(rt.f32_from_bits(0x7FA00001))) == 0x7FA00001


# --- instantiation -------------------------------------------------------------------------

def _const(v: int) -> List[Instr]:
    return [Instr("i32.const", v), Instr("end")]


def _segments_module() -> Module:
    ft = FuncType((), ())
    return Module(
        types=[ft],
        imports=[Import("env", "t", "table", TableType("funcref", Limits(4, None))),
                 Import("env", "m", "memory", MemoryType(Limits(1, None)))],
        funcs=[Func(0, [], [Instr("end")])],
        elems=[Elem("funcref", [[Instr("ref.func", 0), Instr("end")]], ACTIVE, 0, _const(1)),
               Elem("funcref", [[Instr("ref.func", 0), Instr("end")]], PASSIVE),
               Elem("funcref", [[Instr("ref.func", 0), Instr("end")]], DECLARATIVE),
               Elem("funcref", [[Instr("ref.null", "funcref"), Instr("end")]] * 2, ACTIVE, 0,
                    _const(3))],
        datas=[Data(b"xy", ACTIVE, 0, _const(0))],
    )


def test_instantiate_segment_trap_keeps_earlier_segments() -> None:
    store = rt.Store()
    table = rt.TableInstance(TableType("funcref", Limits(4, None)))
    mem = rt.MemoryInstance(MemoryType(Limits(1, None)))
    with pytest.raises(Trap) as info:
        rt.instantiate(store, _segments_module(), [table, mem])
    assert info.value.trap_code is TrapCode.TABLE_OUT_OF_BOUNDS
    # The first segment was applied before the failing one (Wasm 2.0); data never ran.
    assert isinstance(table.elements[1], rt.FuncInstance)
    assert mem.data[:2] == b"\0\0"


def test_instantiate_drops_segments() -> None:
    store = rt.Store()
    module = _segments_module()
    module.elems.pop()
    table = rt.TableInstance(TableType("funcref", Limits(4, None)))
    mem = rt.MemoryInstance(MemoryType(Limits(1, None)))
    inst = rt.instantiate(store, module, [table, mem])
    assert inst.elem_segments[0] == []            # active: dropped after table.init
    assert len(inst.elem_segments[1]) == 1        # passive: kept
    assert inst.elem_segments[2] == []            # declarative: dropped
    assert inst.data_segments == [b""]
    assert mem.data[:2] == b"xy"
    assert table.elements[1] is inst.funcs[0]


def test_import_matching_errors() -> None:
    store = rt.Store()
    module = Module(types=[FuncType(("i32",), ())],
                    imports=[Import("m", "f", "func", 0)])
    with pytest.raises(LinkError, match="incompatible import type for `m::f`"):
        rt.instantiate(store, module, [rt.FuncInstance(FuncType(("i64",), ()), lambda x: None)])
    with pytest.raises(LinkError):
        rt.instantiate(store, module, [rt.GlobalInstance(GlobalType("i32", False), 0)])
    with pytest.raises(LinkError):
        rt.instantiate(store, module, [])


def test_globals_from_constant_expressions() -> None:
    from purewasm.syntax import Global
    store = rt.Store()
    module = Module(
        imports=[Import("m", "g", "global", GlobalType("i32", False))],
        globals=[Global(GlobalType("i32", False), [Instr("global.get", 0), Instr("end")]),
                 Global(GlobalType("f32", True), [Instr("f32.const", 0x7FA00000),
                                                  Instr("end")])])
    inst = rt.instantiate(store, module, [rt.GlobalInstance(GlobalType("i32", False), 7)])
    assert inst.globals[1].value == 7
    assert rt.f32_to_bits(inst.globals[2].value) == 0x7FA00000


# --- the call boundary ---------------------------------------------------------------------

# A stand-in for generated code: only exceptions raised by code whose namespace is marked
# as generated (runtime.GENERATED_CODE) or by purewasm's helpers may become traps.
_GUEST_NS: dict = {rt.GENERATED_CODE: None}
exec(compile("def _recurse(n):\n    return 0 if n == 0 else 1 + _recurse(n - 1)\n",
             "<wasm function 0 recurse>", "exec"), _GUEST_NS)
_recurse = _GUEST_NS["_recurse"]


@pytest.mark.parametrize("use_thread", [False, True])
def test_depth_limit(use_thread: bool) -> None:
    if not use_thread and rt.call.NEEDS_WORKER_THREAD:
        pytest.skip("deep recursion on the calling thread is unsafe on this Python")
    before = sys.getrecursionlimit()
    assert invoke(_recurse, [5000], use_thread=use_thread) == 5000
    with pytest.raises(Trap) as info:
        invoke(_recurse, [50000], use_thread=use_thread)
    assert info.value.trap_code is TrapCode.STACK_OVERFLOW
    with pytest.raises(Trap):
        invoke(_recurse, [2000], max_depth=1000, use_thread=use_thread)
    assert invoke(_recurse, [100000], max_depth=200000, use_thread=use_thread) == 100000
    assert sys.getrecursionlimit() == before


def test_host_exception_unwrapped() -> None:
    class Custom(Exception):
        pass

    original = Custom("x")

    def guest() -> None:
        raise HostError(original)
    with pytest.raises(Custom) as info:
        invoke(guest, [])
    assert info.value is original


def test_unknown_exception_passes() -> None:
    def guest() -> None:
        raise KeyError("not ours")
    with pytest.raises(KeyError):
        invoke(guest, [])


def test_nested_invoke_and_worker_thread() -> None:
    seen: List[Any] = []

    def inner() -> int:
        seen.append(threading.current_thread().name)
        return 5

    def outer() -> int:
        return invoke(inner, []) + 1
    assert invoke(outer, [], use_thread=True) == 6
    assert seen == ["purewasm-guest"]


def test_api_host_function_conversions() -> None:
    store = w.Store()
    got: List[Any] = []

    def host(a: int, b: int, c: float, d: Any) -> Any:
        got.extend([a, b, c, d])
        return (a, b)
    ty = w.FuncType([w.ValType.i32(), w.ValType.i64(), w.ValType.f32(),
                     w.ValType.externref()], [w.ValType.i32(), w.ValType.i64()])
    f = w.Func(store, ty, host)
    raw = f._inst.fn(0xFFFFFFFF, 2**63, 1.5, "obj")
    assert got == [-1, -2**63, 1.5, "obj"]
    assert raw == (0xFFFFFFFF, 2**63)


def test_config_max_call_depth() -> None:
    cfg = w.Config()
    cfg.max_call_depth = 123
    store = w.Store(w.Engine(cfg))
    assert store._rt.max_call_depth == 123


# --- with code ---------------------------------------------------------------------------

def test_caller_is_the_calling_instance() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)

    def who(caller: Any) -> int:
        return caller["tag"].value(caller)
    linker.define_func("env", "who", w.FuncType([], [w.ValType.i32()]), who,
                       access_caller=True)
    src = """(module (import "env" "who" (func $who (result i32)))
               (global (export "tag") i32 (i32.const %d))
               (func (export "ask") (result i32) (call $who)))"""
    a = linker.instantiate(store, w.Module(engine, src % 1))
    b = linker.instantiate(store, w.Module(engine, src % 2))
    assert a.exports(store)["ask"](store) == 1
    assert b.exports(store)["ask"](store) == 2


def test_trap_then_store_usable_and_memory_grow() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, """(module (memory (export "m") 1 3)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))""")
    ex = w.Instance(store, module, []).exports(store)
    with pytest.raises(w.Trap) as info:
        ex["load"](store, 65536)
    assert info.value.trap_code == w.TrapCode.MEMORY_OUT_OF_BOUNDS
    assert ex["grow"](store, 2) == 1
    assert ex["grow"](store, 1) == -1
    assert ex["load"](store, 65536) == 0
    assert ex["m"].size(store) == 3


def test_store_limits_memory() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    store.set_limits(memory_size=2 * 65536)
    module = w.Module(engine, """(module (memory 1)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))""")
    ex = w.Instance(store, module, []).exports(store)
    assert ex["grow"](store, 1) == 1
    assert ex["grow"](store, 1) == -1
    with pytest.raises(w.WasmtimeError):
        w.Instance(store, w.Module(engine, "(module (memory 3))"), [])


def test_trap_backtrace_frames() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, """(module
        (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
        (func $outer (export "f") (param i32) (result i32) (call $inner (local.get 0))))""")
    f = w.Instance(store, module, []).exports(store)["f"]
    with pytest.raises(w.Trap) as info:
        f(store, 0)
    frames = info.value.frames
    assert [(fr.func_index, fr.func_name) for fr in frames] == [(0, "inner"), (1, "outer")]
    assert "inner" in str(info.value)


@pytest.mark.parametrize("use_thread", [False, True])
def test_worker_thread_api_paths(use_thread: bool) -> None:
    if not use_thread and rt.call.NEEDS_WORKER_THREAD:
        pytest.skip("the calling thread is not deep enough on this Python")
    cfg = w.Config()
    cfg.use_worker_thread = use_thread
    engine = w.Engine(cfg)
    store = w.Store(engine)
    linker = w.Linker(engine)

    class Boom(Exception):
        pass

    def host(caller: Any, x: int) -> int:
        if x < 0:
            raise Boom()
        # Re-enter the guest from the host: runs on the same thread, same depth budget.
        return caller["twice"](caller, x) + 1
    linker.define_func("env", "host", w.FuncType([w.ValType.i32()], [w.ValType.i32()]), host,
                       access_caller=True)
    module = w.Module(engine, """(module
        (import "env" "host" (func $host (param i32) (result i32)))
        (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
        (func (export "go") (param i32) (result i32) (call $host (local.get 0)))
        (func $deep (export "deep") (param i32) (result i32)
          (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
            (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1))))))))""")
    ex = linker.instantiate(store, module).exports(store)
    assert ex["go"](store, 20) == 41
    with pytest.raises(Boom):
        ex["go"](store, -1)
    assert ex["deep"](store, 9000) == 9000
    with pytest.raises(w.Trap) as info:
        ex["deep"](store, 20000)
    assert info.value.trap_code == w.TrapCode.STACK_OVERFLOW
    assert ex["go"](store, 1) == 3


def test_define_raw_func() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    linker = w.Linker(engine)
    seen: List[Any] = []

    def raw_add(a: int, b: int) -> int:
        seen.append((a, b))                  # raw values: unsigned
        return (a + b) & 0xFFFFFFFF

    class Custom(Exception):
        pass

    def raw_fail() -> None:
        raise HostError(Custom("raw"))
    linker.define_raw_func("env", "add", FuncType(("i32", "i32"), ("i32",)), raw_add)
    linker.define_raw_func("env", "fail", FuncType((), ()), raw_fail)
    module = w.Module(engine, """(module
        (import "env" "add" (func $add (param i32 i32) (result i32)))
        (import "env" "fail" (func $fail))
        (func (export "go") (result i32) (call $add (i32.const -1) (i32.const 3)))
        (func (export "boom") (call $fail)))""")
    ex = linker.instantiate(store, module).exports(store)
    assert ex["go"](store) == 2
    assert seen == [(0xFFFFFFFF, 3)]
    with pytest.raises(Custom):
        ex["boom"](store)
