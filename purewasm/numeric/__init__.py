"""Exact WebAssembly numeric semantics (spec document/core/exec/numerics.rst).

Values follow docs/INTERNALS.md ("Raw values"): i32/i64 are unsigned canonical ints; an f32
is a Python float holding the exact f32 value, a NaN carrying its f32 payload widened
(f32 bits ``s|e|m`` <-> f64 bits ``s<<63 | 0x7FF<<52 | m<<29``); an f64 is a float.

Generated code inlines the cheap operations and calls the helpers here for the rest; the
tests call them directly. Helpers that trap raise :class:`purewasm.errors.Trap`.
Every helper takes canonical operands unless its docstring says otherwise.
"""
from __future__ import annotations

import math
import struct
from typing import Callable

from purewasm.errors import Trap, TrapCode

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF
SIGN32 = 0x80000000
SIGN64 = 0x8000000000000000

INF = math.inf
NAN = math.nan   # the canonical f64 NaN (0x7FF8000000000000) on every platform we run on

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_f32_pack = _F32.pack
_f32_unpack = _F32.unpack
_f32_unpack_from = _F32.unpack_from
_f64_pack = _F64.pack
_f64_unpack = _F64.unpack
_u32_pack = _U32.pack
_u32_unpack = _U32.unpack
_u32_unpack_from = _U32.unpack_from
_u32_pack_into = _U32.pack_into
_u64_pack = _U64.pack
_u64_unpack = _U64.unpack
_copysign = math.copysign
_isinf = math.isinf


# ---------------------------------------------------------------------------------------
# Signed views
# ---------------------------------------------------------------------------------------

def signed32(x: int) -> int:
    """The signed interpretation of a canonical i32 (spec numerics: signed_N)."""
    return (x ^ SIGN32) - SIGN32


def signed64(x: int) -> int:
    return (x ^ SIGN64) - SIGN64


# ---------------------------------------------------------------------------------------
# Integer operations (spec numerics.rst, "Integer Operations")
# ---------------------------------------------------------------------------------------

def div_s32(a: int, b: int) -> int:
    """idiv_s: truncating signed division; traps on b = 0 and on INT_MIN / -1."""
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    sa = (a ^ SIGN32) - SIGN32
    sb = (b ^ SIGN32) - SIGN32
    if sa == -0x80000000 and sb == -1:
        # The result 2^31 is not representable (spec: "undefined" -> trap).
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    q = abs(sa) // abs(sb)
    if (sa < 0) != (sb < 0):
        q = -q
    return q & MASK32


def rem_s32(a: int, b: int) -> int:
    """irem_s: the remainder has the sign of the dividend; INT_MIN % -1 is 0 (no trap)."""
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    sa = (a ^ SIGN32) - SIGN32
    sb = (b ^ SIGN32) - SIGN32
    r = abs(sa) % abs(sb)
    if sa < 0:
        r = -r
    return r & MASK32


def div_s64(a: int, b: int) -> int:
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    sa = (a ^ SIGN64) - SIGN64
    sb = (b ^ SIGN64) - SIGN64
    if sa == -0x8000000000000000 and sb == -1:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    q = abs(sa) // abs(sb)
    if (sa < 0) != (sb < 0):
        q = -q
    return q & MASK64


def rem_s64(a: int, b: int) -> int:
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    sa = (a ^ SIGN64) - SIGN64
    sb = (b ^ SIGN64) - SIGN64
    r = abs(sa) % abs(sb)
    if sa < 0:
        r = -r
    return r & MASK64


def div_u(a: int, b: int) -> int:
    """idiv_u for either width (canonical operands give a canonical result)."""
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    return a // b


def rem_u(a: int, b: int) -> int:
    if not b:
        raise Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    return a % b


def clz32(x: int) -> int:
    return 32 - x.bit_length()


def clz64(x: int) -> int:
    return 64 - x.bit_length()


def ctz32(x: int) -> int:
    # x & -x isolates the lowest set bit (int.bit_count does not exist on 3.9).
    return (x & -x).bit_length() - 1 if x else 32


def ctz64(x: int) -> int:
    return (x & -x).bit_length() - 1 if x else 64


def popcnt(x: int) -> int:
    return bin(x).count("1")


def rotl32(x: int, k: int) -> int:
    k &= 31
    return ((x << k) | (x >> (32 - k))) & MASK32


def rotr32(x: int, k: int) -> int:
    k &= 31
    return ((x >> k) | (x << (32 - k))) & MASK32


def rotl64(x: int, k: int) -> int:
    k &= 63
    return ((x << k) | (x >> (64 - k))) & MASK64


def rotr64(x: int, k: int) -> int:
    k &= 63
    return ((x >> k) | (x << (64 - k))) & MASK64


# ---------------------------------------------------------------------------------------
# Float bit patterns and f32 rounding
# ---------------------------------------------------------------------------------------

def f32_from_bits(bits: int) -> float:
    """The raw f32 value of an IEEE single bit pattern, signalling NaNs included.

    struct '<f' widens through a C float->double conversion, which quiets a signalling
    NaN (7FA00000 -> 7FE00000): NaNs are built through the f64 bit pattern instead.
    """
    if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:
        return _f64_unpack(_u64_pack(((bits >> 31) << 63) | 0x7FF0000000000000
                                     | ((bits & 0x7FFFFF) << 29)))[0]
    return _f32_unpack(_u32_pack(bits))[0]


def f32_to_bits(x: float) -> int:
    """The IEEE single bit pattern of a raw f32 value (inverse of f32_from_bits)."""
    if x != x:
        b = _u64_unpack(_f64_pack(x))[0]
        m = (b >> 29) & 0x7FFFFF
        if not m:
            # Payload only below bit 29 (not produced by our own code): keep a quiet NaN.
            m = 0x400000
        return ((b >> 63) << 31) | 0x7F800000 | m
    return _u32_unpack(_f32_pack(x))[0]


def f64_from_bits(bits: int) -> float:
    return _f64_unpack(_u64_pack(bits))[0]


def f64_to_bits(x: float) -> int:
    return _u64_unpack(_f64_pack(x))[0]


def f32_round(x: float) -> float:
    """Round an f64 result to f32 (round to nearest even; overflow gives +-inf).

    Used for f32 arithmetic: computing +, -, *, /, sqrt of two f32 values in f64 and
    rounding once more is exact, because 53 >= 2*24 + 2 (double rounding is innocuous).
    A NaN result is quieted by the conversion, which arithmetic NaNs allow
    (spec numerics.rst, "NaN Propagation").
    """
    try:
        return _f32_unpack(_f32_pack(x))[0]
    except OverflowError:
        # CPython's PyFloat_Pack4 raises exactly when the rounded value overflows to inf.
        return _copysign(INF, x)


def load_f32(mem: bytearray, addr: int) -> float:
    """f32.load with exact NaN bits; raises struct.error when out of bounds."""
    x = _f32_unpack_from(mem, addr)[0]
    if x != x:
        return f32_from_bits(_u32_unpack_from(mem, addr)[0])
    return x


def store_f32(mem: bytearray, addr: int, x: float) -> None:
    """f32.store with exact NaN bits; raises struct.error when out of bounds."""
    _u32_pack_into(mem, addr, f32_to_bits(x))


# ---------------------------------------------------------------------------------------
# Float operations (spec numerics.rst, "Floating-Point Operations")
# ---------------------------------------------------------------------------------------

def fdiv(a: float, b: float) -> float:
    """fdiv: IEEE division; Python raises on a zero divisor, the spec gives +-inf or NaN."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a:
            return a + a          # propagate (and quiet) the NaN operand
        if a == 0.0:
            return NAN            # 0/0: canonical NaN
        # The sign is the xor of the operands' signs (b is +-0).
        return INF if (_copysign(1.0, a) > 0) == (_copysign(1.0, b) > 0) else -INF


def fsqrt(x: float) -> float:
    if x >= 0.0 or x == INF:
        return math.sqrt(x)       # sqrt(-0) = -0, as IEEE requires
    if x != x:
        return x + x
    return NAN                    # sqrt of a negative number (incl. -inf)


def fmin(a: float, b: float) -> float:
    """fmin: NaN if either is NaN; -0 is smaller than +0."""
    if a != a or b != b:
        return a + b
    if a == b:
        # Equal: only the sign of zero can differ; min(+0, -0) = -0.
        return a if _copysign(1.0, a) < 0 else b
    return a if a < b else b


def fmax(a: float, b: float) -> float:
    if a != a or b != b:
        return a + b
    if a == b:
        return b if _copysign(1.0, a) < 0 else a
    return a if a > b else b


def fceil(x: float) -> float:
    if x != x:
        return x + x
    if _isinf(x) or x == 0.0:
        return x
    r = float(math.ceil(x))
    # ceil(-0.5) = -0 (spec fceil: the result keeps the sign of the operand).
    return _copysign(r, x) if r == 0.0 else r


def ffloor(x: float) -> float:
    if x != x:
        return x + x
    if _isinf(x) or x == 0.0:
        return x
    r = float(math.floor(x))
    return _copysign(r, x) if r == 0.0 else r


def ftrunc(x: float) -> float:
    if x != x:
        return x + x
    if _isinf(x) or x == 0.0:
        return x
    r = float(math.trunc(x))
    return _copysign(r, x) if r == 0.0 else r


def fnearest(x: float) -> float:
    """fnearest: round to the nearest integer, ties to even (Python's round does that)."""
    if x != x:
        return x + x
    if _isinf(x) or x == 0.0:
        return x
    r = float(round(x))
    return _copysign(r, x) if r == 0.0 else r


def promote(x: float) -> float:
    """f64.promote_f32: exact for numbers; a NaN must come out quiet (arithmetic)."""
    return x if x == x else x + x


def demote(x: float) -> float:
    """f32.demote_f64: round to f32 (spec fdemote; NaN payload truncated, quiet)."""
    return f32_round(x)


# ---------------------------------------------------------------------------------------
# Conversions (spec numerics.rst, "Conversions")
# ---------------------------------------------------------------------------------------

def i64_to_f32(v: int) -> float:
    """Signed or unsigned 64-bit int (given as a Python int) -> f32, rounded once.

    float(v) would round to 53 bits first and then f32_round to 24: double rounding can
    be wrong, so round to 24 significant bits here with integer arithmetic (ties to even).
    """
    a = -v if v < 0 else v
    n = a.bit_length()
    if n > 24:
        shift = n - 24
        q = a >> shift
        rem = a - (q << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and q & 1):
            q += 1
        a = q << shift   # at most 2^64: exactly representable in f64 and f32
    r = float(a)
    return -r if v < 0 else r


def f32_convert_i32_s(x: int) -> float:
    return f32_round(float((x ^ SIGN32) - SIGN32))


def f32_convert_i32_u(x: int) -> float:
    return f32_round(float(x))


def f32_convert_i64_s(x: int) -> float:
    return i64_to_f32((x ^ SIGN64) - SIGN64)


def f32_convert_i64_u(x: int) -> float:
    return i64_to_f32(x)


def _trunc_checked(x: float, lo: int, hi: int) -> int:
    """trunc of x, trapping unless lo <= result <= hi (spec trunc_u/trunc_s)."""
    if x != x:
        raise Trap(TrapCode.BAD_CONVERSION_TO_INTEGER)
    if _isinf(x):
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    r = math.trunc(x)
    if r < lo or r > hi:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    return r


def i32_trunc_s(x: float) -> int:
    return _trunc_checked(x, -0x80000000, 0x7FFFFFFF) & MASK32


def i32_trunc_u(x: float) -> int:
    return _trunc_checked(x, 0, MASK32)


def i64_trunc_s(x: float) -> int:
    return _trunc_checked(x, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF) & MASK64


def i64_trunc_u(x: float) -> int:
    return _trunc_checked(x, 0, MASK64)


def _trunc_sat(x: float, lo: int, hi: int) -> int:
    """trunc_sat: NaN -> 0, out of range -> the nearest bound (spec trunc_sat_u/_s)."""
    if x != x:
        return 0
    if x >= hi:
        return hi
    if x <= lo:
        return lo
    return math.trunc(x)


def i32_trunc_sat_s(x: float) -> int:
    return _trunc_sat(x, -0x80000000, 0x7FFFFFFF) & MASK32


def i32_trunc_sat_u(x: float) -> int:
    return _trunc_sat(x, 0, MASK32)


def i64_trunc_sat_s(x: float) -> int:
    return _trunc_sat(x, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF) & MASK64


def i64_trunc_sat_u(x: float) -> int:
    return _trunc_sat(x, 0, MASK64)


# Names under which generated code finds the helpers (compile/ binds them in the namespace).
HELPERS: "dict[str, Callable[..., object]]" = {
    name: obj for name, obj in list(globals().items())
    if callable(obj) and not name.startswith("_") and name not in ("Trap", "TrapCode",
                                                                    "Callable")
}
