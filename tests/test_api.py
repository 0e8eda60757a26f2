"""The public API: each test body runs against both wasmtime-py and purewasm (``w``).

Modules are written in WAT and converted with wasmtime's wat2wasm when wasmtime is
installed, so these tests do not depend on our text parser.
"""
from __future__ import annotations

import struct
from typing import Any

import pytest

import purewasm

try:
    import wasmtime
except ImportError:  # pragma: no cover - wasmtime is a test-only reference
    wasmtime = None


BACKENDS = [pytest.param(purewasm, id="purewasm")]
if wasmtime is not None:
    BACKENDS.append(pytest.param(wasmtime, id="wasmtime"))


@pytest.fixture(params=BACKENDS)
def w(request: Any) -> Any:
    return request.param


def wasm(text: str) -> bytes:
    if wasmtime is not None:
        return bytes(wasmtime.wat2wasm(text))
    return bytes(purewasm.wat2wasm(text))


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


# --- types and values ----------------------------------------------------------------------

def test_valtypes(w: Any) -> None:
    assert w.ValType.i32() == w.ValType.i32()
    assert w.ValType.i32() != w.ValType.i64()
    assert str(w.ValType.f64()) == "f64"
    assert str(w.ValType.funcref()) == "funcref"
    ft = w.FuncType([w.ValType.i32(), w.ValType.f32()], [w.ValType.i64()])
    assert ft.params == [w.ValType.i32(), w.ValType.f32()]
    assert ft.results == [w.ValType.i64()]
    gt = w.GlobalType(w.ValType.f64(), True)
    assert gt.content == w.ValType.f64() and gt.mutable is True
    tt = w.TableType(w.ValType.funcref(), w.Limits(1, 5))
    assert tt.element == w.ValType.funcref()
    assert tt.limits.min == 1 and tt.limits.max == 5
    mt = w.MemoryType(w.Limits(2, None))
    assert mt.limits.min == 2 and mt.limits.max is None
    assert mt.is_64 is False
    with pytest.raises(TypeError):
        w.FuncType([1], [])


def test_vals(w: Any) -> None:
    assert w.Val.i32(0xFFFFFFFF).value == -1
    assert w.Val.i32(-1).value == -1
    assert w.Val.i64(2**64 - 2).value == -2
    assert w.Val.i32(7) == w.Val.i32(7)
    assert w.Val.i32(7).type == w.ValType.i32()
    assert w.Val.f32(0.1).value == f32(0.1)
    assert w.Val.f64(0.1).value == 0.1
    assert w.Val.i32(3).as_i32() == 3 and w.Val.i32(3).as_i64() is None
    assert w.Val.externref("x").value == "x"
    assert w.Val.ref_null(w.ValType.funcref()).value is None
    with pytest.raises(TypeError):
        w.Val.i32(1.5)


# --- modules -------------------------------------------------------------------------------

IMPORTS_WAT = """
(module
  (import "env" "f" (func (param i32) (result i64)))
  (import "env" "g" (global (mut f64)))
  (import "env" "m" (memory 1 3))
  (import "env" "t" (table 2 funcref))
  (func (export "h") (param f32 f64))
  (global (export "gi") i32 (i32.const -7))
  (table (export "tab") 4 externref)
  (export "mem" (memory 0))
)
"""


def test_module_imports_exports(w: Any) -> None:
    engine = w.Engine()
    module = w.Module(engine, wasm(IMPORTS_WAT))
    imps = module.imports
    assert [(i.module, i.name) for i in imps] == [("env", "f"), ("env", "g"), ("env", "m"),
                                                  ("env", "t")]
    assert isinstance(imps[0].type, w.FuncType)
    assert imps[0].type.params == [w.ValType.i32()]
    assert imps[0].type.results == [w.ValType.i64()]
    assert isinstance(imps[1].type, w.GlobalType) and imps[1].type.mutable
    assert isinstance(imps[2].type, w.MemoryType)
    assert imps[2].type.limits.min == 1 and imps[2].type.limits.max == 3
    assert isinstance(imps[3].type, w.TableType) and imps[3].type.limits.min == 2
    exps = module.exports
    assert [e.name for e in exps] == ["h", "gi", "tab", "mem"]
    assert isinstance(exps[0].type, w.FuncType)
    assert exps[0].type.params == [w.ValType.f32(), w.ValType.f64()]
    assert isinstance(exps[1].type, w.GlobalType) and not exps[1].type.mutable
    assert isinstance(exps[2].type, w.TableType)
    assert exps[2].type.element == w.ValType.externref()
    assert isinstance(exps[3].type, w.MemoryType)


def test_module_errors(w: Any) -> None:
    engine = w.Engine()
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, b"\x00asm\x02\x00\x00\x00")
    with pytest.raises(w.WasmtimeError):
        w.Module.validate(engine, b"\x00asm\x01\x00\x00\x00\x0a")
    w.Module.validate(engine, wasm("(module)"))
    # Invalid: i32.add with no operands.
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, b"\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
                         b"\x0a\x05\x01\x03\x00\x6a\x0b")


def test_module_from_file(w: Any, tmp_path: Any) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(wasm("(module (memory (export \"m\") 1))"))
    module = w.Module.from_file(w.Engine(), str(path))
    assert [e.name for e in module.exports] == ["m"]


# --- instantiation without running code ------------------------------------------------------

DATA_WAT = """
(module
  (import "env" "g" (global i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 3 funcref))
  (func $a) (func $b)
  (global (export "copy") i32 (global.get 0))
  (global (export "mut") (mut i64) (i64.const -1))
  (global (export "fl") f32 (f32.const 1.5))
  (elem (i32.const 1) $a $b)
  (data (i32.const 10) "hello")
  (data (global.get 0) "X")
)
"""


def test_instance_globals_memory_table(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm(DATA_WAT))
    g = w.Global(store, w.GlobalType(w.ValType.i32(), False), 20)
    mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
    tab = w.Table(store, w.TableType(w.ValType.funcref(), w.Limits(3, None)), None)
    inst = w.Instance(store, module, [g, mem, tab])
    ex = inst.exports(store)
    assert ex["copy"].value(store) == 20
    assert ex["mut"].value(store) == -1
    assert ex["fl"].value(store) == 1.5
    ex["mut"].set_value(store, 2**64 - 5)
    assert ex["mut"].value(store) == -5
    with pytest.raises(w.WasmtimeError):
        ex["copy"].set_value(store, 1)
    assert mem.read(store, 10, 15) == bytearray(b"hello")
    assert mem.read(store, 20, 21) == bytearray(b"X")
    assert mem.data_len(store) == 65536 and mem.size(store) == 1
    assert tab.get(store, 0) is None or getattr(tab.get(store, 0), "value", 0) is None
    assert isinstance(tab.get(store, 1), w.Func)
    assert isinstance(tab.get(store, 2), w.Func)
    assert len(ex) == 3
    assert ex.by_index[0].value(store) == 20
    assert isinstance(ex["copy"], w.Global)


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


def test_instantiation_segments_trap_keep_earlier(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm("""
      (module
        (import "env" "m" (memory 1))
        (data (i32.const 0) "ab")
        (data (i32.const 65535) "cd"))"""))
    mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
    with pytest.raises(w.Trap) as info:
        w.Instance(store, module, [mem])
    assert "out of bounds" in str(info.value)
    # Wasm 2.0: the first segment stays written.
    assert mem.read(store, 0, 2) == bytearray(b"ab")
    assert mem.read(store, 65535, 65536) == bytearray(b"\x00")


def test_memory_api(w: Any) -> None:
    store = w.Store()
    mem = w.Memory(store, w.MemoryType(w.Limits(1, 2)))
    assert mem.grow(store, 1) == 1
    assert mem.size(store) == 2
    with pytest.raises(w.WasmtimeError):
        mem.grow(store, 1)
    assert mem.write(store, b"xyz", 5) == 3
    assert mem.read(store, 5, 8) == bytearray(b"xyz")
    assert mem.read(store, -2) == bytearray(2)
    with pytest.raises(IndexError):
        mem.write(store, b"ab", 2 * 65536 - 1)
    assert mem.type(store).limits.min == 1          # the declared type


def test_table_api(w: Any) -> None:
    store = w.Store()
    tab = w.Table(store, w.TableType(w.ValType.externref(), w.Limits(2, 4)), "init")
    assert tab.size(store) == 2
    assert tab.get(store, 1) == "init"
    assert tab.grow(store, 1, "new") == 2
    assert tab.get(store, 2) == "new"
    tab.set(store, 0, "zero")
    assert tab.get(store, 0) == "zero"
    assert tab.get(store, 10) is None
    with pytest.raises(w.WasmtimeError):
        tab.grow(store, 5, None)
    with pytest.raises(w.WasmtimeError):
        tab.set(store, 10, "x")


def test_global_api(w: Any) -> None:
    store = w.Store()
    g = w.Global(store, w.GlobalType(w.ValType.f32(), True), 0.1)
    assert g.value(store) == f32(0.1)
    g.set_value(store, 2.5)
    assert g.value(store) == 2.5
    assert g.type(store).mutable
    g64 = w.Global(store, w.GlobalType(w.ValType.i64(), False), -3)
    assert g64.value(store) == -3


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


# --- running code (needs the compiler for purewasm) ----------------------------------------

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


def test_start_function_traps(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm("(module (func $s unreachable) (start $s))"))
    with pytest.raises(w.Trap) as info:
        w.Instance(store, module, [])
    assert info.value.trap_code == w.TrapCode.UNREACHABLE


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


def test_text_module_and_serialize(w: Any) -> None:
    engine = w.Engine()
    module = w.Module(engine, '(module (global (export "g") i32 (i32.const 5)))')
    assert [e.name for e in module.exports] == ["g"]
    again = w.Module.deserialize(engine, module.serialize())
    store = w.Store(engine)
    assert w.Instance(store, again, []).exports(store)["g"].value(store) == 5
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, "(module (func (result i32)))")   # invalid: no result
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, "(module (bogus))")               # malformed text


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
