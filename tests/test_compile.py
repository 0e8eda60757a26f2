"""The compile/ API (docs/INTERNALS.md): lazy stubs, shared code objects, raw values at
the boundary, trap mapping, imports/globals/tables through the instance namespace; on the
real runtime, modules built with purewasm's own wat2wasm (tests/compile_helpers.py)."""
from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any, List

import pytest

from compile_helpers import Instance, instance, wat2wasm

from purewasm import runtime as rt
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule, UnsupportedError
from purewasm.errors import Trap, TrapCode, WasmtimeError
from purewasm.runtime import trap_from_exception
from purewasm.syntax import GlobalType

M32 = 0xFFFFFFFF


def test_stub_replaces_itself_and_code_is_shared() -> None:
    text = """(module
      (func $a (export "a") (param i32) (result i32) local.get 0 call $b)
      (func $b (param i32) (result i32) local.get 0 i32.const 2 i32.mul))"""
    module = decode_module(wat2wasm(text))
    i1 = Instance(module)
    stub_a, stub_b = i1.funcs[0].fn, i1.funcs[1].fn
    assert stub_a.__name__ == "stub_f0"
    assert i1.func("a")(21) == 42
    # Both functions were translated on first use and replaced their stubs.
    assert i1.funcs[0].fn is not stub_a and i1.funcs[1].fn is not stub_b
    assert i1.funcs[0].fn.__code__.co_name == "f0"
    assert stub_a(5) == 10   # a stale reference to the stub still works
    # A second instance of the same CompiledModule reuses the code objects.
    i2 = Instance(module, compiled=i1.compiled, store=i1.store)
    assert i2.funcs[0].fn(4) == 8
    assert i2.funcs[0].fn.__code__ is i1.funcs[0].fn.__code__
    assert i2.funcs[0].fn.__globals__ is not i1.funcs[0].fn.__globals__


def test_results_are_raw_values() -> None:
    text = """(module
      (func (export "lt") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_s)
      (func (export "neg") (param i32) (result i32) i32.const 0 local.get 0 i32.sub)
      (func (export "multi") (param i64) (result i64 i32 f64)
        local.get 0 i64.const 1 i64.sub i32.const -1 f64.const -0.0)
      (func (export "none")))"""
    inst = instance(text)
    r = inst.func("lt")(M32, 0)     # -1 < 0
    assert r == 1 and type(r) is int
    assert inst.func("neg")(1) == M32
    assert inst.func("multi")(0) == (2 ** 64 - 1, M32, -0.0)
    assert str(inst.func("multi")(0)[2]) == "-0.0"
    assert inst.func("none")() is None


def test_traps_and_exception_mapping() -> None:
    text = """(module (memory 1)
      (func (export "load") (param i32) (result i32) local.get 0 i32.load offset=4)
      (func (export "store8") (param i32) local.get 0 i32.const 7 i32.store8 offset=0xFFFFFFFF)
      (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
      (func (export "unreachable") unreachable)
      (func $r (export "recurse") (param i32) (result i32) local.get 0 call $r))"""
    inst = instance(text)
    assert inst.func("load")(65532 - 4) == 0
    for addr in (65533 - 4, 65536, M32, M32 - 3):
        with pytest.raises(Trap) as e:
            inst.func("load")(addr)
        assert e.value.trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS
    with pytest.raises(Trap) as e:
        inst.func("store8")(1)    # effective address 2**32: never wraps
    assert e.value.trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS
    with pytest.raises(Trap) as e:
        inst.func("div")(1, 0)
    assert e.value.trap_code is TrapCode.INTEGER_DIVISION_BY_ZERO
    with pytest.raises(Trap) as e:
        inst.func("unreachable")()
    assert e.value.trap_code is TrapCode.UNREACHABLE
    with pytest.raises(Trap) as e:
        inst.func("recurse")(1)
    assert e.value.trap_code is TrapCode.STACK_OVERFLOW
    assert trap_from_exception(ValueError("x")) is None
    assert trap_from_exception(struct.error("x")).trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS


def test_imports_globals_and_call_indirect() -> None:
    text = """(module
      (import "env" "add" (func $add (param i32 i32) (result i32)))
      (import "env" "g" (global $g (mut i32)))
      (import "env" "c" (global $c i64))
      (type $t (func (param i32) (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $double $add1)
      (func $double (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
      (func $add1 (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func $wrong (param i64) (result i64) local.get 0)
      (func (export "dispatch") (param i32 i32) (result i32)
        local.get 1 local.get 0 call_indirect (type $t))
      (func (export "host") (param i32) (result i32)
        global.get $g local.get 0 call $add global.set $g global.get $g)
      (func (export "const") (result i64) global.get $c))"""
    calls: List[Any] = []

    def add(a: int, b: int) -> int:
        calls.append((a, b))
        return (a + b) & M32
    g = rt.GlobalInstance(GlobalType("i32", True), 10)
    c = rt.GlobalInstance(GlobalType("i64", False), 2 ** 64 - 5)
    inst = instance(text, {"env.add": add, "env.g": g, "env.c": c})
    assert inst.func("host")(5) == 15 and g.value == 15 and calls == [(10, 5)]
    assert inst.func("const")() == 2 ** 64 - 5
    d = inst.func("dispatch")
    assert d(0, 21) == 42 and d(1, 21) == 22
    for idx, code in ((2, TrapCode.INDIRECT_CALL_TO_NULL), (4, TrapCode.UNDEFINED_ELEMENT),
                      (M32, TrapCode.UNDEFINED_ELEMENT)):
        with pytest.raises(Trap) as e:
            d(idx, 1)
        assert e.value.trap_code is code
    inst.tables[0].elements[3] = inst.funcs[3]   # $wrong: (i64) -> i64
    with pytest.raises(Trap) as e:
        d(3, 1)
    assert e.value.trap_code is TrapCode.BAD_SIGNATURE
    assert e.value.reason == "indirect call type mismatch"


def test_pending_values_keep_their_meaning() -> None:
    # local.get values stay lazy expressions; a later local.set must not change them.
    text = """(module (memory 1)
      (global $g (mut i32) (i32.const 1))
      (func $bump (result i32) global.get $g i32.const 1 i32.add global.set $g i32.const 0)
      (func (export "f") (param i32) (result i32)
        local.get 0                 ;; x
        local.get 0 i32.const 10 i32.add local.set 0
        local.get 0                 ;; x + 10
        i32.sub                     ;; -10
        global.get $g               ;; 1
        call $bump drop
        global.get $g               ;; 2
        i32.const 100 i32.mul i32.add i32.add
        i32.const 0 local.get 0 i32.store
        i32.const 0 i32.load
        i32.const 0 i32.const 5 i32.store
        i32.add))"""
    f = instance(text).func("f")
    assert f(7) == (-10 + 1 + 200 + 17) & M32


def test_if_else_multivalue_and_select() -> None:
    text = """(module
      (func (export "swap") (param i32 i32 i32) (result i32 i32)
        local.get 0 local.get 1 local.get 2
        if (param i32 i32) (result i32 i32)
          local.set 0 local.set 1 local.get 0 local.get 1
        end)
      (func (export "sel") (param i32 f64 f64) (result f64)
        local.get 1 local.get 2 local.get 0 select))"""
    inst = instance(text)
    assert inst.func("swap")(1, 2, 0) == (1, 2)
    assert inst.func("swap")(1, 2, 1) == (2, 1)
    assert inst.func("sel")(0, 1.5, 2.5) == 2.5
    assert inst.func("sel")(M32, 1.5, 2.5) == 1.5


def test_simd_is_translated() -> None:
    # SIMD used to be rejected with UnsupportedError; compile/simd.py now translates it
    # (its own tests: tests/test_simd*.py).
    text = """(module (func (export "f") (result i32)
      v128.const i32x4 1 2 3 4 i32x4.extract_lane 1))"""
    assert instance(text).func("f")() == 2
    assert issubclass(UnsupportedError, WasmtimeError)


def test_memory_grow_and_size_seen_by_loads() -> None:
    text = """(module (memory 1 3)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "size") (result i32) memory.size)
      (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))"""
    inst = instance(text)
    with pytest.raises(Trap):
        inst.func("peek")(65536)
    assert inst.func("grow")(1) == 1
    assert inst.func("size")() == 2
    assert inst.func("peek")(65536) == 0
    assert inst.func("grow")(5) == M32
    assert inst.func("size")() == 2


def test_flat_and_structured_agree_on_a_control_mix() -> None:
    text = """(module (func (export "f") (param i32) (result i32) (local i32 i32)
      block $exit
        loop $l
          local.get 1 i32.const 1 i32.add local.set 1
          block $a block $b block $c
            local.get 1 i32.const 3 i32.rem_u br_table $a $b $c
          end local.get 2 i32.const 1 i32.add local.set 2 br $l
          end local.get 2 i32.const 10 i32.add local.set 2
          end
          local.get 1 local.get 0 i32.ge_u br_if $exit
          br $l
        end
      end
      local.get 2))"""
    for n in (0, 1, 5, 30):
        want = None
        for mode in (None, "flat"):
            got = instance(text, mode=mode).func("f")(n)
            want = got if want is None else want
            assert got == want
    m = decode_module(wat2wasm(text))
    assert CompiledModule(m).mode(0) == "structured"


def test_calls_into_another_instance_go_direct() -> None:
    a = instance("""(module (func (export "sq") (param i32) (result i32)
        local.get 0 local.get 0 i32.mul))""")
    b = Instance(decode_module(wat2wasm("""(module
        (import "a" "sq" (func $sq (param i32) (result i32)))
        (func (export "f") (param i32) (result i32) local.get 0 call $sq i32.const 1 i32.add))""")),
                 {"a.sq": a.funcs[0]}, store=a.store)
    assert b.func("f")(5) == 26
    fn = b.funcs[1].fn
    # The importer's namespace holds the exporter's generated function, not its stub.
    assert fn.__globals__["f0"] is a.funcs[0].fn
    assert a.funcs[0].fn.__code__.co_name == "f0"


def test_translations_can_be_saved_and_loaded() -> None:
    from purewasm.compile import cache_key
    wasm = wat2wasm("""(module (func (export "f") (param i32) (result f32)
        local.get 0 f32.convert_i32_u f32.const nan:0x200000 f32.add))""")
    first = CompiledModule(decode_module(wasm))
    first.compile_all()
    data = first.export_codes()
    second = CompiledModule(decode_module(wasm))
    assert second.import_codes(data) == 1
    assert second.import_codes(b"garbage") == 0
    inst = Instance(second.module, compiled=second)
    r = inst.funcs[0].fn(3)
    assert r != r   # NaN constant (bound by name) survived the round trip
    assert cache_key(wasm) != cache_key(wasm + b"x")


def test_division_by_constants_matches_the_helpers() -> None:
    from purewasm import numeric
    divisors = [1, 2, 3, 7, 10, 0x7FFFFFFF, 0x80000000, 0x80000001, M32 - 1, 0xFFFFFFF9]
    funcs = []
    for i, d in enumerate(divisors):
        for op in ("div_s", "rem_s", "div_u", "rem_u"):
            funcs.append('(func (export "%s%d") (param i32) (result i32) local.get 0 '
                         'i32.const %d i32.%s)' % (op, i, d - (1 << 32) if d >> 31 else d, op))
    inst = instance("(module %s)" % "\n".join(funcs))
    ref = {"div_s": numeric.div_s32, "rem_s": numeric.rem_s32, "div_u": numeric.div_u,
           "rem_u": numeric.rem_u}
    for x in (0, 1, 5, 0x7FFFFFFF, 0x80000000, 0x80000001, M32, 0xDEADBEEF, 12345678):
        for i, d in enumerate(divisors):
            for op in ref:
                assert inst.func("%s%d" % (op, i))(x) == ref[op](x, d), (op, x, d)


def _metered(text: str, fuel: int, epoch: int = 0, deadline: int = 1 << 60) -> Any:
    module = decode_module(wat2wasm(text))
    inst = Instance(module, compiled=CompiledModule(module, fuel=True, epoch=True))
    store = inst.store
    store.fuel_cell[0], store.epoch_cell[0], store.deadline_cell[0] = fuel, epoch, deadline
    return inst


def test_fuel_and_epoch() -> None:
    text = """(module
      (func (export "count") (param i32) (result i32) (local i32)
        loop
          local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
        end
        local.get 1)
      (func (export "forever") loop br 0 end))"""
    inst = _metered(text, 10_000)
    assert inst.func("count")(10) == 10
    used = 10_000 - inst.store.fuel_cell[0]
    assert 60 <= used <= 80   # 7 per iteration, plus the entry and exit
    with pytest.raises(Trap) as e:
        inst.func("forever")()
    assert e.value.trap_code is TrapCode.OUT_OF_FUEL
    inst = _metered(text, 1 << 60, epoch=5, deadline=5)
    with pytest.raises(Trap) as e:
        inst.func("count")(3)
    assert e.value.trap_code is TrapCode.INTERRUPT
    inst.store.deadline_cell[0] = 6
    assert inst.func("count")(3) == 3
    # Off by default: no trace of metering in the generated code.
    plain = CompiledModule(decode_module(wat2wasm(text))).source(0)
    assert "FUEL" not in plain and "EPOCH" not in plain


def test_comparison_results_never_escape_as_bools() -> None:
    seen: List[Any] = []
    text = """(module
      (import "env" "log" (func $log (param i32)))
      (global $g (export "g") (mut i32) (i32.const 0))
      (func (export "f") (param i32 i32) (result i32) (local i32)
        local.get 0 local.get 1 i32.lt_u local.set 2
        local.get 0 local.get 1 i32.eq call $log
        local.get 2 call $log
        local.get 0 local.get 1 i32.ne local.get 0 i32.eqz i32.and call $log
        local.get 0 local.get 1 i32.gt_u local.get 2 local.get 0 select call $log
        local.get 0 local.get 1 i32.le_u global.set $g
        block (result i32) local.get 0 local.get 1 i32.ge_u end call $log
        local.get 2))"""
    inst = instance(text, {"env.log": seen.append, "env.g": None})
    r = inst.func("f")(0, 5)
    assert r == 1 and type(r) is int
    assert seen == [0, 1, 1, 1, 0] and all(type(v) is int for v in seen)
    assert type(inst.globals[0].value) is int


@pytest.mark.parametrize("mode", [None, "flat"])
def test_select_between_a_bool_and_an_unmasked_int(mode: Any) -> None:
    # One operand a comparison (a bool), the other a sum not yet masked: the result must
    # still be masked (and never a bool) wherever it is stored or returned.
    text = """(module
      (func (export "f") (param i32 i32) (result i32) (local i32)
        (local.set 2 (select (i32.eq (local.get 0) (local.get 1))
                             (i32.add (local.get 0) (i32.const 1)) (local.get 1)))
        (local.get 2))
      (func (export "g") (param i32 i32) (result i32)
        (select (i32.add (local.get 0) (i32.const 1)) (i32.lt_u (local.get 0) (local.get 1))
                (local.get 1))))"""
    inst = instance(text, mode=mode)
    for fn, args, want in (("f", (M32, 0), 0), ("f", (3, 3), 1), ("f", (5, 0), 6),
                           ("g", (M32, 1), 0), ("g", (M32, 0), 0), ("g", (0, 0), 0)):
        r = inst.func(fn)(*args)
        assert r == want and type(r) is int, (fn, args, r)


def test_vector_support_loads_only_for_modules_using_it() -> None:
    import subprocess
    code = """if True:
        import sys
        sys.path.insert(0, %r)
        from compile_helpers import instance
        scalar = instance('(module (func (export "f") (param v128) (result v128) local.get 0))')
        assert scalar.func("f")(5) == 5
        assert "purewasm.compile.simd" not in sys.modules
        assert "purewasm.numeric.simd" not in sys.modules
        vec = instance('(module (func (export "f") (param v128) (result v128)'
                       ' local.get 0 local.get 0 i32x4.add))')
        assert vec.func("f")(1 | 1 << 96) == 2 | 2 << 96
        assert "purewasm.compile.simd" in sys.modules
    """ % str(Path(__file__).parent)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
