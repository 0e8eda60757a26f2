"""Vector (v128) support: purewasm.numeric.simd against a plain lane-by-lane model, and
the translation of SIMD code (compile/simd.py) beyond what the spec suite covers: exact
NaN bits, traps, both control-flow lowerings, fuel, the raw call boundary, deep nesting.
"""
from __future__ import annotations

import random
import struct
from typing import Callable, List

import pytest
from compile_helpers import instance

from purewasm.compile import CompiledModule
from purewasm.compile.simd import handlers
from purewasm.errors import Trap, TrapCode
from purewasm.numeric import f32_from_bits, f32_to_bits
from purewasm.numeric.simd import SIMD_HELPERS, replace_lane
from purewasm.opcodes import OPS

M128 = (1 << 128) - 1
SHAPES = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64}
SNAN = 0x7FA00001          # a signalling f32 NaN (struct '<f' would quiet it)


def lanes(v: int, w: int) -> List[int]:
    return [(v >> (i * w)) & ((1 << w) - 1) for i in range(128 // w)]


def join(ls: List[int], w: int) -> int:
    return sum((x & ((1 << w) - 1)) << (i * w) for i, x in enumerate(ls))


def signed(x: int, w: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


def vectors(n: int = 60) -> List[int]:
    rnd = random.Random(1234)
    special = [0, M128, 1, 1 << 127, 0x80808080808080808080808080808080,
               0x7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F, 0xFFFF0000FFFF00008000800080008000]
    return special + [rnd.getrandbits(128) for _ in range(n)]


def test_every_vector_instruction_has_a_handler() -> None:
    simd = [op.name for op in OPS if op.prefix == 0xFD]
    assert len(simd) == 256      # Wasm 2.0's 236 and relaxed SIMD's 20
    assert sorted(set(simd) - set(handlers())) == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_integer_lanes_match_a_lane_model(shape: str) -> None:
    w = SHAPES[shape]
    m = (1 << w) - 1
    model: dict = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y,
        "min_s": lambda x, y: min(signed(x, w), signed(y, w)), "max_u": max,
        "add_sat_s": lambda x, y: max(min(signed(x, w) + signed(y, w), m >> 1), ~(m >> 1)),
        "sub_sat_u": lambda x, y: max(x - y, 0), "avgr_u": lambda x, y: (x + y + 1) // 2,
        "lt_s": lambda x, y: m if signed(x, w) < signed(y, w) else 0,
        "ge_u": lambda x, y: m if x >= y else 0, "eq": lambda x, y: m if x == y else 0,
        "ne": lambda x, y: m if x != y else 0,
    }
    vs = vectors()
    for name, fn in model.items():
        helper = SIMD_HELPERS.get("%s.%s" % (shape, name))
        if helper is None:
            continue   # not an instruction of this shape
        for a, b in zip(vs, reversed(vs)):
            want = join([fn(x, y) for x, y in zip(lanes(a, w), lanes(b, w))], w)
            assert helper(a, b) == want, (name, hex(a), hex(b))
    for a in vs:
        assert SIMD_HELPERS[shape + ".neg"](a) == join([-x for x in lanes(a, w)], w)
        for k in (0, 1, w - 1, w, w + 3, 0xFFFFFFFF):
            s = k % w
            assert SIMD_HELPERS[shape + ".shl"](a, k) == join([x << s for x in lanes(a, w)],
                                                              w)
            assert SIMD_HELPERS[shape + ".shr_u"](a, k) == join([x >> s for x in lanes(a, w)],
                                                                w)
            assert SIMD_HELPERS[shape + ".shr_s"](a, k) == join(
                [signed(x, w) >> s for x in lanes(a, w)], w)
        bm = sum(1 << i for i, x in enumerate(lanes(a, w)) if x >> (w - 1))
        assert SIMD_HELPERS[shape + ".bitmask"](a) == bm
        assert SIMD_HELPERS[shape + ".all_true"](a) == int(all(lanes(a, w)))


def test_results_are_canonical_v128() -> None:
    # Every helper of a pure instruction keeps its result in [0, 2**128).
    vs = vectors(10)
    for name, fn in SIMD_HELPERS.items():
        if ".load" in name or ".store" in name or name in ("i8x16.shuffle",):
            continue
        try:
            r = fn(vs[0], vs[3])   # type: ignore[call-arg]
        except TypeError:
            try:
                r = fn(vs[0])      # type: ignore[call-arg]
            except TypeError:
                r = fn(vs[0], vs[1], vs[2])  # type: ignore[call-arg]
        assert isinstance(r, int) and 0 <= r <= M128, name


def test_popcnt_swizzle_shuffle_narrow_dot() -> None:
    a = join(list(range(16)), 8)
    assert SIMD_HELPERS["i8x16.popcnt"](a) == join([bin(i).count("1") for i in range(16)], 8)
    idx = join([15, 0, 16, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 128], 8)
    assert lanes(SIMD_HELPERS["i8x16.swizzle"](a, idx), 8) == \
        [15, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0]
    b = join(list(range(100, 116)), 8)
    sh = SIMD_HELPERS["i8x16.shuffle"](a, b, tuple(range(31, 15, -1)))
    assert lanes(sh, 8) == list(range(115, 99, -1))
    big = join([0x7FFF, 0x8000, 300, 0xFFFF, 127, 128, 0xFF80, 0xFF7F], 16)
    assert lanes(SIMD_HELPERS["i8x16.narrow_i16x8_s"](big, 0), 8)[:8] == \
        [127, 128, 127, 255, 127, 127, 128, 128]
    assert lanes(SIMD_HELPERS["i8x16.narrow_i16x8_u"](big, 0), 8)[:8] == \
        [255, 0, 255, 0, 127, 128, 0, 0]
    mn = join([0x8000] * 8, 16)
    # 2 * (-32768)^2 = 2^31 wraps to INT_MIN (spec idot: modulo 2^32).
    assert lanes(SIMD_HELPERS["i32x4.dot_i16x8_s"](mn, mn), 32) == [0x80000000] * 4
    assert lanes(SIMD_HELPERS["i16x8.q15mulr_sat_s"](mn, mn), 16) == [0x7FFF] * 8


def _f32x4(*bits: int) -> int:
    return join(list(bits), 32)


def test_f32_lane_bits_are_exact() -> None:
    inst = instance("""(module
      (func (export "splat") (param f32) (result v128) local.get 0 f32x4.splat)
      (func (export "ext") (param v128) (result f32) local.get 0 f32x4.extract_lane 2)
      (func (export "rep") (param v128 f32) (result v128)
        local.get 0 local.get 1 f32x4.replace_lane 1)
      (func (export "neg") (param v128) (result v128) local.get 0 f32x4.neg)
      (func (export "abs") (param v128) (result v128) local.get 0 f32x4.abs)
      (func (export "pmin") (param v128 v128) (result v128) local.get 0 local.get 1 f32x4.pmin)
      (func (export "pmax") (param v128 v128) (result v128) local.get 0 local.get 1 f32x4.pmax))""")
    snan = f32_from_bits(SNAN)
    assert inst.func("splat")(snan) == _f32x4(SNAN, SNAN, SNAN, SNAN)
    assert f32_to_bits(inst.func("ext")(_f32x4(0, 0, SNAN | 1 << 31, 0))) == SNAN | 1 << 31
    assert inst.func("rep")(0, snan) == _f32x4(0, SNAN, 0, 0)
    v = _f32x4(SNAN, 0x3F800000, 0x80000000, 0xFFC00000)
    assert inst.func("neg")(v) == v ^ _f32x4(*[0x80000000] * 4)
    assert inst.func("abs")(v) == v & _f32x4(*[0x7FFFFFFF] * 4)
    # pmin/pmax return one operand's exact bits: a NaN first operand is kept as it is.
    one = _f32x4(*[0x3F800000] * 4)
    assert inst.func("pmin")(v, one) == _f32x4(SNAN, 0x3F800000, 0x80000000, 0xFFC00000)
    assert inst.func("pmax")(one, v) == one


def test_f32_arithmetic_rounds_each_lane_once() -> None:
    add = SIMD_HELPERS["f32x4.add"]
    # 1 + 2^-24 rounds (ties to even) to 1; 1 + 3*2^-24 to 1 + 2^-22.
    a = _f32x4(*[0x3F800000] * 4)
    b = _f32x4(0x33800000, 0x34400000, 0x7F7FFFFF, 0xFF800000)
    got = lanes(add(a, b), 32)
    assert got[0] == 0x3F800000 and got[1] == 0x3F800002
    assert got[2] == 0x7F7FFFFF and got[3] == 0xFF800000
    big = _f32x4(*[0x7F7FFFFF] * 4)
    assert lanes(add(big, big), 32) == [0x7F800000] * 4       # overflow -> +inf
    r = lanes(SIMD_HELPERS["f32x4.div"](_f32x4(0, 0x3F800000, 0xBF800000, 0), 0), 32)
    assert r[0] & 0x7FC00000 == 0x7FC00000 and r[1:3] == [0x7F800000, 0xFF800000]


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_vectors_through_locals_blocks_and_calls(mode: object) -> None:
    inst = instance("""(module
      (global $g (mut v128) (v128.const i64x2 1 2))
      (func $sum (param v128 v128) (result v128) local.get 0 local.get 1 i32x4.add)
      (func (export "f") (param i32) (result v128) (local v128)
        (local.set 1 (v128.const i32x4 1 2 3 4))
        (block $out (result v128)
          (loop $l
            (local.set 1 (call $sum (local.get 1) (local.get 1)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br_if $l (local.get 0)))
          (select (local.get 1) (global.get $g) (i32.const 1)))
        (global.set $g (v128.const i32x4 7 7 7 7))
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (global.get $g)))
      (func (export "sel") (param v128 v128 i32) (result v128)
        (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "multi") (param v128) (result v128 i32)
        (local.get 0) (i8x16.bitmask (local.get 0))))""", mode=mode)  # type: ignore[arg-type]
    r = inst.func("f")(3)
    # lanes 0, 1 of 8 * [1 2 3 4], then lanes 0, 1 of the new global (7, 7).
    assert type(r) is int and r == join([8, 16, 7, 7], 32)
    assert inst.func("sel")(5, 6, 0) == 6 and inst.func("sel")(5, 6, 9) == 5
    assert inst.func("multi")(1 << 127) == (1 << 127, 0x8000)


@pytest.mark.parametrize("op,addr", [("v128.load", 65536 - 15), ("v128.load", 0xFFFFFFFF),
                                     ("v128.load64_splat", 65536 - 7),
                                     ("v128.load8x8_s", 65536 - 4),
                                     ("v128.load32_zero", 65536 - 3)])
def test_loads_trap_out_of_bounds(op: str, addr: int) -> None:
    inst = instance("""(module (memory 1)
      (func (export "f") (param i32) (result v128) local.get 0 %s))""" % op)
    inst.func("f")(65536 - 16 if op == "v128.load" else 0)
    with pytest.raises(Trap) as exc:
        inst.func("f")(addr)
    assert exc.value.trap_code == TrapCode.MEMORY_OUT_OF_BOUNDS


def test_stores_trap_before_writing() -> None:
    inst = instance("""(module (memory 1)
      (func (export "st") (param i32 v128) local.get 0 local.get 1 v128.store)
      (func (export "st8") (param i32 v128) local.get 0 local.get 1 v128.store8_lane 15)
      (func (export "ld16") (param i32 v128) (result v128)
        local.get 0 local.get 1 v128.load16_lane offset=2 7))""")
    with pytest.raises(Trap):
        inst.func("st")(65536 - 8, M128)
    assert inst.memory()[-16:] == bytes(16)     # nothing written by the trapping store
    inst.func("st")(65536 - 16, M128)
    assert inst.memory()[-16:] == b"\xff" * 16
    inst.func("st8")(3, 0xAB << 120)
    assert inst.memory()[3] == 0xAB
    with pytest.raises(Trap):
        inst.func("st8")(65536, 0)
    assert inst.func("ld16")(65536 - 4, 0) == 0xFFFF << 112
    with pytest.raises(Trap):
        inst.func("ld16")(65536 - 3, 0)


def test_deeply_nested_vector_expression_compiles() -> None:
    n = 600
    body = "local.get 0 " + "local.get 0 i32x4.add " * n
    inst = instance("""(module (func (export "f") (param v128) (result v128) %s))""" % body)
    assert inst.func("f")(join([1, 2, 3, 4], 32)) == join([n + 1, 2 * (n + 1),
                                                           3 * (n + 1), 4 * (n + 1)], 32)


def test_generated_code_inlines_bitwise_and_lanes() -> None:
    from purewasm.binary import decode_module
    from compile_helpers import wat2wasm
    module = decode_module(wat2wasm("""(module
      (func (param v128 v128) (result i32)
        local.get 0 local.get 1 v128.xor v128.not i32x4.extract_lane 3))"""))
    src = CompiledModule(module).source(0)
    # No helper call for bit operations and lane extraction (spec vvbinop/vvunop).
    assert "V_" not in src and "^" in src


def test_replace_lane_and_helpers_agree_with_struct() -> None:
    v = int.from_bytes(struct.pack("<4I", 1, 2, 3, 4), "little")
    assert replace_lane(v, 32, 2, 0x1FFFFFFFF) == int.from_bytes(
        struct.pack("<4I", 1, 2, 0xFFFFFFFF, 4), "little")
    conv: Callable[[int], int] = SIMD_HELPERS["f32x4.convert_i32x4_u"]  # type: ignore
    assert struct.unpack("<4f", conv(v).to_bytes(16, "little")) == (1.0, 2.0, 3.0, 4.0)


F32_VALUES = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
              0x7FC00000, SNAN, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x3F000000, 0x3FC00000,
              0x40200000, 0xC0200000, 0x4B000001, 0x33800000, 0x00800000]


@pytest.mark.parametrize("shape", ["f32x4", "f64x2"])
def test_float_lanes_follow_the_scalar_rules(shape: str) -> None:
    # Each lane of a vector float operation is the scalar operation of purewasm.numeric
    # (f32: computed in f64, rounded once), NaN results compared as NaNs only.
    from purewasm import numeric as n
    w = 32 if shape == "f32x4" else 64
    if w == 32:
        vals = F32_VALUES
        to_f, to_b = f32_from_bits, f32_to_bits
        rnd: Callable[[float], float] = n.f32_round
    else:
        vals = [n.f64_to_bits(n.promote(f32_from_bits(b))) for b in F32_VALUES] + [
            0x7FEFFFFFFFFFFFFF, 0x0000000000000001, 0x4330000000000001]
        to_f, to_b = n.f64_from_bits, n.f64_to_bits

        def rnd(x: float) -> float:
            return x
    ops2 = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
            "mul": lambda x, y: x * y, "div": n.fdiv, "min": n.fmin, "max": n.fmax}
    ops1 = {"sqrt": n.fsqrt, "ceil": n.fceil, "floor": n.ffloor, "trunc": n.ftrunc,
            "nearest": n.fnearest}
    k = 128 // w
    rows = [vals[i:i + k] for i in range(0, len(vals) - k + 1)]

    def check(got: int, want: List[float]) -> None:
        for lane, x in zip(lanes(got, w), want):
            if x != x:
                assert to_f(lane) != to_f(lane)
            else:
                assert lane == to_b(x)
    for ra in rows:
        a = join(ra, w)
        for name, fn in ops1.items():
            check(SIMD_HELPERS["%s.%s" % (shape, name)](a), [rnd(fn(to_f(x))) for x in ra])
        for rb in rows[::3]:
            b = join(rb, w)
            for name, fn2 in ops2.items():
                check(SIMD_HELPERS["%s.%s" % (shape, name)](a, b),
                      [rnd(fn2(to_f(x), to_f(y))) for x, y in zip(ra, rb)])
