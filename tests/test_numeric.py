"""purewasm.numeric: the exact semantics the generated code relies on
(spec document/core/exec/numerics.rst)."""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purewasm import numeric as n
from purewasm.errors import Trap, TrapCode

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


def test_f32_bits_round_trip_keeps_signalling_nans() -> None:
    for bits in (0x7FA00000, 0x7F800001, 0xFFBFFFFF, 0x7FC00000, 0xFFC12345, 0x00000001,
                 0x80000000, 0x7F800000, 0x3F800000):
        x = n.f32_from_bits(bits)
        assert n.f32_to_bits(x) == bits
        # neg and abs act on the sign bit only, payload intact (widening convention).
        assert n.f32_to_bits(-x) == bits ^ 0x80000000
        assert n.f32_to_bits(math.fabs(x)) == bits & 0x7FFFFFFF
        assert n.f32_to_bits(math.copysign(x, -1.0)) == bits | 0x80000000
    # The widened f64 image of an f32 NaN: payload shifted by 29 bits.
    assert n.f64_to_bits(n.f32_from_bits(0x7FA00000)) == 0x7FF4000000000000


def test_f32_load_store_exact() -> None:
    mem = bytearray(8)
    struct.pack_into("<I", mem, 0, 0x7FA00001)
    x = n.load_f32(mem, 0)
    n.store_f32(mem, 4, x)
    assert struct.unpack_from("<I", mem, 4)[0] == 0x7FA00001
    with pytest.raises(struct.error):
        n.load_f32(mem, 5)


def test_f32_round_overflow_and_ties() -> None:
    assert n.f32_round(1e300) == math.inf and n.f32_round(-1e300) == -math.inf
    assert n.f32_round(3.4028235e38) == 3.4028234663852886e38   # rounds down to max
    # Exactly halfway between max and 2^128: ties to even, i.e. to infinity.
    assert n.f32_round(3.4028235677973366e38) == math.inf
    assert n.f32_round(1 + 2 ** -24) == 1.0            # tie to even
    assert n.f32_round(1 + 3 * 2 ** -24) == 1 + 2 ** -22


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1))
def test_i64_to_f32_is_correctly_rounded(v: int) -> None:
    got = n.i64_to_f32(v)
    # Reference: the nearest f32 by exact rational comparison (ties to even).
    lo = n.f32_round(float(v))
    cands = {lo, math.nextafter(lo, math.inf), math.nextafter(lo, -math.inf)} \
        if hasattr(math, "nextafter") else {lo}
    cands = {n.f32_round(c) for c in cands}
    best = min(cands, key=lambda c: (abs(Fraction(c) - v),
                                     n.f32_to_bits(c) & 1))
    assert got == best


def test_i64_to_f32_double_rounding_case() -> None:
    # 2^60 + 2^36 + 1: float() rounds to 2^60 + 2^36 (a tie for f32), then to even 2^60,
    # while the correctly rounded result is 2^60 + 2^37.
    v = 2 ** 60 + 2 ** 36 + 1
    assert n.i64_to_f32(v) == float(2 ** 60 + 2 ** 37)
    assert n.f32_convert_i64_u(v) == float(2 ** 60 + 2 ** 37)
    assert n.f32_convert_i64_s((-v) & M64) == -float(2 ** 60 + 2 ** 37)


def test_integer_division() -> None:
    assert n.div_s32(7, (-2) & M32) == (-3) & M32
    assert n.rem_s32((-7) & M32, 2) == (-1) & M32
    assert n.rem_s32(0x80000000, M32) == 0
    assert n.div_s64(0x8000000000000000, 1) == 0x8000000000000000
    for fn in (n.div_s32, n.rem_s32, n.div_s64, n.rem_s64, n.div_u, n.rem_u):
        with pytest.raises(Trap) as e:
            fn(1, 0)
        assert e.value.trap_code is TrapCode.INTEGER_DIVISION_BY_ZERO
    with pytest.raises(Trap) as e:
        n.div_s32(0x80000000, M32)
    assert e.value.trap_code is TrapCode.INTEGER_OVERFLOW
    with pytest.raises(Trap):
        n.div_s64(0x8000000000000000, M64)


def test_bit_counting_and_rotation() -> None:
    assert (n.clz32(0), n.clz32(1), n.clz64(1 << 63)) == (32, 31, 0)
    assert (n.ctz32(0), n.ctz32(8), n.ctz64(0), n.ctz64(1 << 63)) == (32, 3, 64, 63)
    assert n.popcnt(M64) == 64
    assert n.rotl32(0x80000001, 1) == 3 and n.rotr32(3, 1) == 0x80000001
    assert n.rotl64(1, 65) == 2 and n.rotr64(1, 64) == 1


def test_float_min_max_zero_and_nan() -> None:
    def sign(x: float) -> float:
        return math.copysign(1.0, x)
    assert sign(n.fmin(0.0, -0.0)) == -1 and sign(n.fmin(-0.0, 0.0)) == -1
    assert sign(n.fmax(0.0, -0.0)) == 1 and sign(n.fmax(-0.0, 0.0)) == 1
    assert math.isnan(n.fmin(1.0, math.nan)) and math.isnan(n.fmax(math.nan, 1.0))
    snan = n.f64_from_bits(0x7FF0000000000001)
    assert n.f64_to_bits(n.fmin(snan, 1.0)) & 0x0008000000000000   # quieted


def test_rounding_functions() -> None:
    def bits(x: float) -> int:
        return n.f64_to_bits(x)
    assert bits(n.fceil(-0.5)) == bits(-0.0)
    assert bits(n.ffloor(0.5)) == bits(0.0)
    assert bits(n.ftrunc(-0.9)) == bits(-0.0)
    assert (n.fnearest(2.5), n.fnearest(3.5), n.fnearest(-2.5)) == (2.0, 4.0, -2.0)
    assert bits(n.fnearest(-0.4)) == bits(-0.0)
    assert n.fnearest(4503599627370497.0) == 4503599627370497.0
    for f in (n.fceil, n.ffloor, n.ftrunc, n.fnearest):
        assert f(math.inf) == math.inf and f(-math.inf) == -math.inf
        assert math.isnan(f(math.nan))


def test_division_and_sqrt_never_raise() -> None:
    assert n.fdiv(1.0, 0.0) == math.inf and n.fdiv(-1.0, 0.0) == -math.inf
    assert n.fdiv(1.0, -0.0) == -math.inf
    assert n.f64_to_bits(n.fdiv(0.0, 0.0)) & 0x7FFFFFFFFFFFFFFF == 0x7FF8000000000000
    assert math.isnan(n.fsqrt(-1.0)) and n.f64_to_bits(n.fsqrt(-0.0)) == 1 << 63
    assert n.fsqrt(math.inf) == math.inf and math.isnan(n.fsqrt(-math.inf))


def test_truncations() -> None:
    assert n.i32_trunc_s(-1.9) == M32 and n.i32_trunc_u(4294967295.9) == M32
    assert n.i64_trunc_s(-9.223372036854775808e18) == 1 << 63
    for fn, x, code in ((n.i32_trunc_s, 2147483648.0, TrapCode.INTEGER_OVERFLOW),
                        (n.i32_trunc_u, -1.0, TrapCode.INTEGER_OVERFLOW),
                        (n.i64_trunc_u, math.inf, TrapCode.INTEGER_OVERFLOW),
                        (n.i32_trunc_s, math.nan, TrapCode.BAD_CONVERSION_TO_INTEGER)):
        with pytest.raises(Trap) as e:
            fn(x)
        assert e.value.trap_code is code
    assert n.i32_trunc_u(-0.9) == 0
    assert n.i32_trunc_sat_s(1e10) == 0x7FFFFFFF and n.i32_trunc_sat_s(-1e10) == 0x80000000
    assert n.i64_trunc_sat_u(-5.0) == 0 and n.i64_trunc_sat_u(1e30) == M64
    assert n.i32_trunc_sat_u(math.nan) == 0


def test_promote_quiets_signalling_nan() -> None:
    x = n.f32_from_bits(0x7FA00000)
    assert n.f64_to_bits(n.promote(x)) & 0x0008000000000000
    assert n.promote(1.5) == 1.5
    assert n.f32_to_bits(n.demote(n.f64_from_bits(0x7FF8000000000000))) == 0x7FC00000
