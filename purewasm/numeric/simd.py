"""Lane-wise semantics of the Wasm 2.0 vector instructions (spec exec/instructions.rst,
"Vector Instructions", and exec/numerics.rst, "Lanewise operations") and of Wasm 3.0's
relaxed SIMD (with the results wasmtime gives on x86-64: docs/DECISIONS.md).

A v128 is a Python int in ``[0, 2**128)``, lane 0 in the low bits (docs/INTERNALS.md).
Each function here takes and returns raw values (v128 ints; i32/i64 unsigned canonical;
f32/f64 raw floats) and computes one instruction; :data:`SIMD_HELPERS` maps instruction
names to them. The compiler (compile/simd.py) calls them from generated code and inlines
only the cheap bit operations; the tests call them directly.

Lanes are split and joined with ``int.to_bytes``/``from_bytes`` and one precompiled
``struct`` per lane shape. Every scalar rule (float rounding, NaN propagation, min/max,
rounding to integral, saturating truncation, conversions) is the scalar helper of
:mod:`purewasm.numeric` applied to each lane: the spec defines the vector instructions
lane-wise in terms of the same scalar operators.
"""
from __future__ import annotations

import struct
from fractions import Fraction as _Fraction
from math import fsum as _fsum
from math import isinf as _isinf
from math import nextafter as _nextafter
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from purewasm import numeric as _n

M128 = (1 << 128) - 1
M64 = (1 << 64) - 1

_S: Dict[str, struct.Struct] = {
    "u8": struct.Struct("<16B"), "s8": struct.Struct("<16b"),
    "u16": struct.Struct("<8H"), "s16": struct.Struct("<8h"),
    "u32": struct.Struct("<4I"), "s32": struct.Struct("<4i"),
    "u64": struct.Struct("<2Q"), "s64": struct.Struct("<2q"),
    "f32": struct.Struct("<4f"), "f64": struct.Struct("<2d"),
}
_WIDTH = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64, "f32x4": 32, "f64x2": 64}
_INT_SHAPES = ("i8x16", "i16x8", "i32x4", "i64x2")
_QQ = struct.Struct("<QQ")


def _rep(w: int) -> int:
    """The constant with a 1 in the lowest bit of every lane of width ``w``: x * _rep(w)
    splats a lane value x (0 <= x < 2**w)."""
    return sum(1 << (k * w) for k in range(128 // w))


def _split(fmt: str) -> Callable[[int], Tuple]:
    unpack = _S[fmt].unpack

    def split(v: int) -> Tuple:
        return unpack(v.to_bytes(16, "little"))
    return split


def _joiner(fmt: str) -> Callable[..., int]:
    pack = _S[fmt].pack
    from_bytes = int.from_bytes

    def join(lanes: Sequence) -> int:
        return from_bytes(pack(*lanes), "little")
    return join


def _fmts(shape: str) -> Tuple[str, str]:
    w = str(_WIDTH[shape])
    return "u" + w, "s" + w


SPLIT = {fmt: _split(fmt) for fmt in _S}
JOIN = {fmt: _joiner(fmt) for fmt in _S}

SIMD_HELPERS: Dict[str, Callable[..., object]] = {}


def unrolled(fin: str, fout: str, expr: str, nargs: int = 2,
             overflow: str = "", env: Optional[Dict[str, object]] = None,
             nout: int = 0) -> Callable[..., int]:
    """A lane-wise helper with its lanes unrolled (about twice as fast as a comprehension
    over zip, as dataclasses does it: the source is generated once and exec'd).

    ``expr`` computes one result lane from ``{x}`` (and ``{y}``), lanes of the operands
    split with format ``fin``; the results are joined with format ``fout``. ``overflow``:
    the lane expression to use instead when packing raises OverflowError (f32 results:
    struct '<f' raises exactly when a value rounds past the f32 range). Widening
    operations make ``nout`` result lanes (default: as many as the operands have) and
    may name, for result lane i, operand lanes i + nout (``{xh}``, ``{yh}``), 2i
    (``{xe}``, ``{ye}``) and 2i + 1 (``{xo}``, ``{yo}``)."""
    n = 128 // int(fin[1:])
    nout = nout or n
    names = "abc"[:nargs]
    lines = ["def lanewise(%s):" % ", ".join(names)]
    for arg, var in zip(names, "xyz"):
        lines.append("    %s, = _si(%s.to_bytes(16, 'little'))"
                     % (", ".join("%s%d" % (var, i) for i in range(n)), arg))

    def lanes(e: str) -> str:
        return ", ".join(e.format(x="x%d" % i, y="y%d" % i, z="z%d" % i,
                                  xh="x%d" % (i + nout), yh="y%d" % (i + nout),
                                  xe="x%d" % (2 * i), ye="y%d" % (2 * i),
                                  xo="x%d" % (2 * i + 1), yo="y%d" % (2 * i + 1))
                         for i in range(nout))
    if overflow:
        lines += ["    try:", "        return _fb(_po(%s), 'little')" % lanes(expr),
                  "    except OverflowError:",
                  "        return _fb(_po(%s), 'little')" % lanes(overflow)]
    else:
        lines.append("    return _fb(_po(%s), 'little')" % lanes(expr))
    ns: Dict[str, object] = {"_si": _S[fin].unpack, "_po": _S[fout].pack,
                             "_fb": int.from_bytes}
    ns.update(env or {})
    exec("\n".join(lines), ns)
    return ns["lanewise"]  # type: ignore[return-value]


def _reg(name: str, fn: Callable[..., object]) -> None:
    SIMD_HELPERS[name] = fn


# ---------------------------------------------------------------------------------------
# Integer lane arithmetic (spec numerics.rst: iadd, isub, imul, ineg, iabs, iadd_sat,
# isub_sat, imin, imax, iavgr_u, iq15mulr_sat_s, ishl, ishr_s, ishr_u, ipopcnt)
# ---------------------------------------------------------------------------------------

def _make_add_sub(shape: str) -> None:
    w = _WIDTH[shape]
    high = _rep(w) << (w - 1)          # the top bit of every lane
    low = M128 ^ high

    # SWAR: add the low w-1 bits of every lane (no carry can leave a lane), then the top
    # bits with xor (their carry out is discarded, as iadd is modulo 2^w).
    def add(a: int, b: int) -> int:
        return ((a & low) + (b & low)) ^ ((a ^ b) & high)

    def sub(a: int, b: int) -> int:
        # Setting every top bit of a first means no borrow crosses a lane boundary.
        return ((a | high) - (b & low)) ^ ((a ^ b ^ high) & high)

    _reg(shape + ".add", add)
    _reg(shape + ".sub", sub)
    _reg(shape + ".neg", lambda a: sub(0, a))


def _make_lanewise(shape: str) -> None:
    u, s = _fmts(shape)
    w = _WIDTH[shape]
    m = (1 << w) - 1
    su = SPLIT[u]
    smin, smax = -(1 << (w - 1)), (1 << (w - 1)) - 1

    # iabs: abs of the most negative value is itself (2^(w-1) masked).
    abs_ = unrolled(s, u, "-{x} & %d if {x} < 0 else {x}" % m, nargs=1)
    # iadd_sat / isub_sat: the exact result clamped to the signed / unsigned range.
    clamp_s = "(%d if (r := {x} %%s {y}) < %d else (%d if r > %d else r))" % (
        smin, smin, smax, smax)
    add_sat_s = unrolled(s, s, clamp_s % "+")
    sub_sat_s = unrolled(s, s, clamp_s % "-")
    add_sat_u = unrolled(u, u, "(%d if (r := {x} + {y}) > %d else r)" % (m, m))
    sub_sat_u = unrolled(u, u, "(r if (r := {x} - {y}) > 0 else 0)")
    mul = unrolled(u, u, "{x} * {y} & %d" % m)
    min_s = unrolled(s, s, "{x} if {x} < {y} else {y}")
    min_u = unrolled(u, u, "{x} if {x} < {y} else {y}")
    max_s = unrolled(s, s, "{x} if {x} > {y} else {y}")
    max_u = unrolled(u, u, "{x} if {x} > {y} else {y}")
    avgr_u = unrolled(u, u, "({x} + {y} + 1) >> 1")

    def all_true(a: int) -> int:
        return 1 if all(su(a)) else 0

    top = w // 8 - 1    # the byte holding a lane's top bit

    def bitmask(a: int) -> int:
        # Bit i of the result is the top bit of lane i: the lanes' top bytes become the
        # digits "0"/"1", highest lane first, read in base 2.
        return int(a.to_bytes(16, "little")[top::w // 8].translate(_TOP_BIT)[::-1], 2)

    rep = _rep(w)

    def shl(a: int, k: int) -> int:
        # ishl: the count is taken modulo the lane width; bits leaving a lane are dropped.
        k %= w
        keep = ((m << k) & m) * rep
        return (a << k) & keep

    def shr_u(a: int, k: int) -> int:
        k %= w
        return (a >> k) & ((m >> k) * rep)

    high = rep << (w - 1)

    def shr_s(a: int, k: int) -> int:
        # The logical shift, then the top k bits of every negative lane set (the lane's
        # sign bit moved to bit 0 times the mask of those bits: no carry between lanes).
        k %= w
        return ((a >> k) & ((m >> k) * rep)) | (((a & high) >> (w - 1))
                                                 * ((m << (w - k)) & m))

    for name, fn in (("abs", abs_), ("all_true", all_true), ("bitmask", bitmask),
                     ("shl", shl), ("shr_u", shr_u), ("shr_s", shr_s)):
        _reg(shape + "." + name, fn)
    if w != 8:
        _reg(shape + ".mul", mul)
    if w <= 16:
        for name, fn in (("add_sat_s", add_sat_s), ("add_sat_u", add_sat_u),
                         ("sub_sat_s", sub_sat_s), ("sub_sat_u", sub_sat_u),
                         ("avgr_u", avgr_u)):
            _reg(shape + "." + name, fn)
    if w <= 32:
        for name, fn in (("min_s", min_s), ("min_u", min_u), ("max_s", max_s),
                         ("max_u", max_u)):
            _reg(shape + "." + name, fn)


_TOP_BIT = bytes(b"1"[0] if i >> 7 else b"0"[0] for i in range(256))
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}


def _make_int_cmp(shape: str) -> None:
    # vrelop: each lane is all ones when the relation holds, else zero.
    u, s = _fmts(shape)
    m = (1 << _WIDTH[shape]) - 1
    for name in ("lt", "gt", "le", "ge"):
        for sfx, fmt in (("_s", s), ("_u", u)):
            if shape != "i64x2" or sfx == "_s":   # i64x2 has signed relations only
                _reg("%s.%s%s" % (shape, name, sfx),
                     unrolled(fmt, u, "%d if {x} %s {y} else 0" % (m, _CMP[name])))

    # eq / ne without splitting lanes: x = a ^ b is zero in the equal lanes. Adding the low
    # w-1 bits of each lane to all ones there carries into the lane's top bit iff they
    # are not all zero (no carry leaves a lane); or-ing x adds the top bit itself.
    w = _WIDTH[shape]
    high = _rep(w) << (w - 1)
    low = M128 ^ high

    def ne(a: int, b: int) -> int:
        x = a ^ b
        return (((((x & low) + low) | x) & high) >> (w - 1)) * m

    _reg(shape + ".ne", ne)
    _reg(shape + ".eq", lambda a, b: ne(a, b) ^ M128)


_POPCNT = bytes(bin(i).count("1") for i in range(256))


def i8x16_popcnt(a: int) -> int:
    return int.from_bytes(a.to_bytes(16, "little").translate(_POPCNT), "little")


def i16x8_q15mulr_sat_s(a: int, b: int) -> int:
    # iq15mulr_sat_s: sat_s((x * y + 2^14) >> 15); only -32768 * -32768 saturates.
    return JOIN["s16"]([min((x * y + 0x4000) >> 15, 0x7FFF)
                        for x, y in zip(SPLIT["s16"](a), SPLIT["s16"](b))])


# ---------------------------------------------------------------------------------------
# Narrow, extend, extmul, extadd_pairwise, dot (spec exec/instructions.rst)
# ---------------------------------------------------------------------------------------

def _make_widening(to: str, frm: str) -> None:
    wt = _WIDTH[to]
    n = 128 // wt                      # result lanes
    uf, sf = _fmts(frm)
    ut, st = _fmts(to)
    name_in = frm

    for sign, fin, fout in (("s", sf, st), ("u", uf, ut)):
        sp, jo = SPLIT[fin], JOIN[fout]
        mt = (1 << wt) - 1

        def ext_low(a: int, sp: Callable = sp, jo: Callable = jo) -> int:
            return jo(sp(a)[:n])

        def ext_high(a: int, sp: Callable = sp, jo: Callable = jo) -> int:
            return jo(sp(a)[n:])

        # Products of two N-bit lanes fit in 2N bits, signed or unsigned; negative ones
        # are masked to their unsigned 2N-bit form.
        extmul_low = unrolled(fin, ut, "{x} * {y} & %d" % mt, nout=n)
        extmul_high = unrolled(fin, ut, "{xh} * {yh} & %d" % mt, nout=n)

        _reg("%s.extend_low_%s_%s" % (to, name_in, sign), ext_low)
        _reg("%s.extend_high_%s_%s" % (to, name_in, sign), ext_high)
        _reg("%s.extmul_low_%s_%s" % (to, name_in, sign), extmul_low)
        _reg("%s.extmul_high_%s_%s" % (to, name_in, sign), extmul_high)
        if wt <= 32:   # the sum of two N-bit lanes fits in 2N bits
            _reg("%s.extadd_pairwise_%s_%s" % (to, name_in, sign),
                 unrolled(fin, fout, "{xe} + {xo}", nargs=1, nout=n))


def _make_narrow(to: str, frm: str) -> None:
    # narrow: each signed input lane saturated to the signed / unsigned output range;
    # the lanes of the first operand first.
    wt = _WIDTH[to]
    sp = SPLIT["s%d" % _WIDTH[frm]]
    for sign, lo, hi, fmt in (("s", -(1 << (wt - 1)), (1 << (wt - 1)) - 1, "s%d" % wt),
                              ("u", 0, (1 << wt) - 1, "u%d" % wt)):
        jo = JOIN[fmt]

        def narrow(a: int, b: int, lo: int = lo, hi: int = hi, jo: Callable = jo) -> int:
            return jo([min(max(x, lo), hi) for x in sp(a) + sp(b)])
        _reg("%s.narrow_%s_%s" % (to, frm, sign), narrow)


# idot: the sum of the two signed products of each pair, modulo 2^32 (only
# 2 * (-32768)^2 = 2^31 wraps).
i32x4_dot_i16x8_s = unrolled("s16", "u32", "({xe} * {ye} + {xo} * {yo}) & 4294967295",
                             nout=4)


# ---------------------------------------------------------------------------------------
# Float lanes (spec numerics.rst: fadd ... fpmax, lanewise through the scalar helpers)
# ---------------------------------------------------------------------------------------

def _make_float(shape: str) -> None:
    w = _WIDTH[shape]
    f32 = w == 32
    fmt = "f%d" % w
    sf, jf = SPLIT[fmt], JOIN[fmt]
    su, ju = SPLIT["u%d" % w], JOIN["u%d" % w]
    m = (1 << w) - 1
    sign = _rep(w) << (w - 1)
    rnd = _n.f32_round if f32 else None

    # Arithmetic: unpacking with struct quiets a signalling NaN, which arithmetic allows
    # (its result NaN must be arithmetic anyway: numerics.rst "NaN Propagation"). An f32
    # result is computed exactly in f64 and rounded once (numeric.f32_round's rule):
    # packing as '<f' rounds to nearest the same way, but raises on overflow, where the
    # lanes go through f32_round itself (+-inf).
    env: Dict[str, object] = {"_r": rnd, "_fdiv": _n.fdiv, "_fmin": _n.fmin,
                              "_fmax": _n.fmax}

    def binop(e: str) -> Callable[..., int]:
        return unrolled(fmt, fmt, e, overflow="_r(%s)" % e if f32 else "", env=env)

    def unop(op: Callable[[float], float], round_: bool) -> Callable[[int], int]:
        if round_ and rnd is not None:
            r = rnd

            def f(a: int) -> int:
                return jf([r(op(x)) for x in sf(a)])
        else:
            def f(a: int) -> int:
                return jf(list(map(op, sf(a))))
        return f

    _reg(shape + ".add", binop("{x} + {y}"))
    _reg(shape + ".sub", binop("{x} - {y}"))
    _reg(shape + ".mul", binop("{x} * {y}"))
    _reg(shape + ".div", binop("_fdiv({x}, {y})"))
    _reg(shape + ".min", binop("_fmin({x}, {y})"))
    _reg(shape + ".max", binop("_fmax({x}, {y})"))
    _reg(shape + ".sqrt", unop(_n.fsqrt, True))
    # Rounding an f32 to an integral value gives an f32: no rounding step needed.
    _reg(shape + ".ceil", unop(_n.fceil, False))
    _reg(shape + ".floor", unop(_n.ffloor, False))
    _reg(shape + ".trunc", unop(_n.ftrunc, False))
    _reg(shape + ".nearest", unop(_n.fnearest, False))

    # fneg / fabs act on the sign bit only, NaN payloads included (spec numerics fneg,
    # fabs): pure bit operations on the whole vector.
    _reg(shape + ".neg", lambda a: a ^ sign)
    _reg(shape + ".abs", lambda a: a & (M128 ^ sign))

    # fpmin(z1, z2) = z2 if z2 < z1 else z1; fpmax with >: one operand's exact bits.
    def pmin(a: int, b: int) -> int:
        return ju([y if fy < fx else x
                   for x, y, fx, fy in zip(su(a), su(b), sf(a), sf(b))])

    def pmax(a: int, b: int) -> int:
        return ju([y if fy > fx else x
                   for x, y, fx, fy in zip(su(a), su(b), sf(a), sf(b))])

    _reg(shape + ".pmin", pmin)
    _reg(shape + ".pmax", pmax)

    # IEEE comparisons (Python's on floats): false with a NaN, except ne.
    for name, rel in _CMP.items():
        _reg("%s.%s" % (shape, name), unrolled(fmt, "u%d" % w, "%d if {x} %s {y} else 0"
                                               % (m, rel)))


def f32x4_convert_i32x4_s(a: int) -> int:
    return JOIN["f32"]([_n.f32_convert_i32_s(x) for x in SPLIT["u32"](a)])


def f32x4_convert_i32x4_u(a: int) -> int:
    return JOIN["f32"]([_n.f32_convert_i32_u(x) for x in SPLIT["u32"](a)])


def f64x2_convert_low_i32x4_s(a: int) -> int:
    # Every i32 is exactly an f64.
    return JOIN["f64"]([float(x) for x in SPLIT["s32"](a)[:2]])


def f64x2_convert_low_i32x4_u(a: int) -> int:
    return JOIN["f64"]([float(x) for x in SPLIT["u32"](a)[:2]])


def f32x4_demote_f64x2_zero(a: int) -> int:
    # The two results go to lanes 0 and 1, lanes 2 and 3 are zero.
    return JOIN["f32"]([_n.demote(x) for x in SPLIT["f64"](a)] + [0.0, 0.0])


def f64x2_promote_low_f32x4(a: int) -> int:
    return JOIN["f64"]([_n.promote(x) for x in SPLIT["f32"](a)[:2]])


def i32x4_trunc_sat_f32x4_s(a: int) -> int:
    return JOIN["u32"]([_n.i32_trunc_sat_s(x) for x in SPLIT["f32"](a)])


def i32x4_trunc_sat_f32x4_u(a: int) -> int:
    return JOIN["u32"]([_n.i32_trunc_sat_u(x) for x in SPLIT["f32"](a)])


def i32x4_trunc_sat_f64x2_s_zero(a: int) -> int:
    return JOIN["u32"]([_n.i32_trunc_sat_s(x) for x in SPLIT["f64"](a)] + [0, 0])


def i32x4_trunc_sat_f64x2_u_zero(a: int) -> int:
    return JOIN["u32"]([_n.i32_trunc_sat_u(x) for x in SPLIT["f64"](a)] + [0, 0])


# ---------------------------------------------------------------------------------------
# Bitwise, shuffle, swizzle, splat, lanes
# ---------------------------------------------------------------------------------------

def v128_bitselect(a: int, b: int, c: int) -> int:
    # bits of a where c is 1, of b where c is 0
    return (a & c) | (b & (c ^ M128))


def i8x16_swizzle(a: int, s: int) -> int:
    # Lane i = a[s[i]] when s[i] < 16, else 0 (spec: the index is unsigned).
    ab = a.to_bytes(16, "little")
    return int.from_bytes(bytes([ab[i] if i < 16 else 0 for i in s.to_bytes(16, "little")]),
                          "little")


def i8x16_shuffle(a: int, b: int, lanes: Sequence[int]) -> int:
    # Lane i = (a ++ b)[lanes[i]], every index < 32 (validation).
    ab = a.to_bytes(16, "little") + b.to_bytes(16, "little")
    return int.from_bytes(bytes([ab[i] for i in lanes]), "little")


REP = {w: _rep(w) for w in (8, 16, 32, 64)}


def f32x4_splat(x: float) -> int:
    return _n.f32_to_bits(x) * REP[32]


def f64x2_splat(x: float) -> int:
    return _n.f64_to_bits(x) * REP[64]


def replace_lane(v: int, w: int, lane: int, x: int) -> int:
    """v with lane ``lane`` (of width w) replaced by the low w bits of x."""
    sh = w * lane
    m = (1 << w) - 1
    return (v & (M128 ^ (m << sh))) | ((x & m) << sh)


# ---------------------------------------------------------------------------------------
# Relaxed SIMD (Wasm 3.0, spec numerics.rst "relaxed"). The spec allows several results
# for some operands; these are the ones wasmtime gives on x86-64 (measured on a CPU with
# SSE4.1, AVX2, FMA and AVX-512: see docs/DECISIONS.md), so that a program computes the
# same here as there.
# ---------------------------------------------------------------------------------------

def i8x16_relaxed_swizzle(a: int, s: int) -> int:
    # pshufb: an index with its top bit set gives 0, any other selects a[index mod 16]
    # (so 16..127 wrap, where i8x16.swizzle gives 0).
    ab = a.to_bytes(16, "little")
    return int.from_bytes(bytes([0 if i & 0x80 else ab[i & 15]
                                 for i in s.to_bytes(16, "little")]), "little")


def _trunc_x86(x: float) -> int:
    # cvttps2dq / cvttpd2dq: NaN and values whose truncation is outside the i32 range
    # give the "integer indefinite" 0x80000000.
    if -2147483649.0 < x < 2147483648.0:
        return int(x) & 0xFFFFFFFF
    return 0x80000000


def i32x4_relaxed_trunc_f32x4_s(a: int) -> int:
    return JOIN["u32"]([_trunc_x86(x) for x in SPLIT["f32"](a)])


def i32x4_relaxed_trunc_f64x2_s_zero(a: int) -> int:
    return JOIN["u32"]([_trunc_x86(x) for x in SPLIT["f64"](a)] + [0, 0])


# The unsigned truncations: wasmtime gives the saturating results (NaN and negatives 0,
# too large 0xFFFFFFFF), measured on a CPU with AVX-512 (whose vcvttps2udq it does not use).
i32x4_relaxed_trunc_f32x4_u = i32x4_trunc_sat_f32x4_u
i32x4_relaxed_trunc_f64x2_u_zero = i32x4_trunc_sat_f64x2_u_zero


def _fma32(a: float, b: float, c: float) -> float:
    """a * b + c rounded once to f32 (IEEE fusedMultiplyAdd, round to nearest even) for
    f32 operands, none NaN."""
    p = a * b                   # exact: 24 + 24 bits fit in 53, and no f32 over/underflows
    s = p + c                   # IEEE: also right for infinities and signed zeros
    if s - s != 0.0 or s == 0.0:
        return s                # inf or NaN (inf * 0, inf - inf); an exact zero
    # TwoSum: s + e = p + c exactly. Rounding s to f32 could round twice the wrong way
    # (once to f64, once to f32); s rounded to odd instead (nudged to its odd neighbour
    # when inexact) rounds to f32 correctly, since 53 >= 24 + 2 (Boldo and Melquiond).
    bv = s - p
    e = (p - (s - bv)) + (c - bv)
    if e and not _n.f64_to_bits(s) & 1:
        s = _nextafter(s, _n.INF if e > 0 else -_n.INF)
    return _n.f32_round(s)


_SPLIT = 134217729.0            # 2^27 + 1: Veltkamp's splitting of an f64 into 26 + 27 bits
_BIG = 2.0 ** 990
_SMALL = 2.0 ** -900


def _fma64(a: float, b: float, c: float) -> float:
    """a * b + c rounded once to f64 (IEEE fusedMultiplyAdd) for f64 operands, none NaN.
    math.fma only exists from Python 3.13."""
    if _isinf(a) or _isinf(b) or a == 0.0 or b == 0.0:
        return a * b + c        # the product is exact (inf, NaN or a zero): one rounding
    if _isinf(c):
        return c                # a * b is finite (its f64 rounding might overflow)
    p = a * b
    if abs(a) < _BIG and abs(b) < _BIG and _SMALL < abs(p) < _BIG:
        # Dekker's product: p + q = a * b exactly (no overflow in the splits, no
        # underflow in q), and fsum rounds the exact sum of its terms once.
        t = _SPLIT * a
        ah = t - (t - a)
        al = a - ah
        t = _SPLIT * b
        bh = t - (t - b)
        bl = b - bh
        q = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        try:
            return _fsum((p, q, c))     # an exact zero is +0, as IEEE rounds it
        except OverflowError:
            pass
    exact = _Fraction(a) * _Fraction(b) + _Fraction(c)
    if not exact:
        return 0.0              # exact cancellation of nonzero terms: +0
    try:
        return exact.numerator / exact.denominator    # correctly rounded
    except OverflowError:
        return _n.INF if exact > 0 else -_n.INF


def _make_relaxed_madd(shape: str) -> None:
    # vfmadd / vfnmadd (fused: wasmtime uses FMA when the CPU has it). NaN results follow
    # x86: the first NaN operand in the order b, a, c, quieted (its sign and payload kept,
    # also by nmadd); an invalid operation (inf * 0, inf - inf) gives the x86 default NaN,
    # negative with only the quiet bit set.
    w = _WIDTH[shape]
    f32 = w == 32
    su, ju = SPLIT["u%d" % w], JOIN["u%d" % w]
    to_float = _n.f32_from_bits if f32 else _n.f64_from_bits
    to_bits = _n.f32_to_bits if f32 else _n.f64_to_bits
    fma = _fma32 if f32 else _fma64
    expm = 0x7F800000 if f32 else 0x7FF0000000000000
    absm = (1 << (w - 1)) - 1
    quiet = 1 << (22 if f32 else 51)
    default = (1 << (w - 1)) | expm | quiet

    def lane(x: int, y: int, z: int, negate: bool) -> int:
        for v in (y, x, z):
            if v & absm > expm:
                return v | quiet
        fx = to_float(x)
        r = fma(-fx if negate else fx, to_float(y), to_float(z))
        return default if r != r else to_bits(r)

    def madd(a: int, b: int, c: int) -> int:
        return ju([lane(x, y, z, False) for x, y, z in zip(su(a), su(b), su(c))])

    def nmadd(a: int, b: int, c: int) -> int:
        return ju([lane(x, y, z, True) for x, y, z in zip(su(a), su(b), su(c))])

    _reg(shape + ".relaxed_madd", madd)
    _reg(shape + ".relaxed_nmadd", nmadd)
    # minps / maxps with the operands as wasmtime orders them: the second operand when it
    # is strictly less (greater), else the first, bit for bit: exactly fpmin / fpmax.
    _reg(shape + ".relaxed_min", SIMD_HELPERS[shape + ".pmin"])
    _reg(shape + ".relaxed_max", SIMD_HELPERS[shape + ".pmax"])


def _make_laneselect(shape: str) -> None:
    w = _WIDTH[shape]
    if w == 16:
        # No x86 blend selects 16-bit lanes by their top bit: wasmtime uses the bitwise
        # select, as v128.bitselect.
        _reg(shape + ".relaxed_laneselect", v128_bitselect)
        return
    high = _rep(w) << (w - 1)
    m = (1 << w) - 1

    # pblendvb / blendvps / blendvpd: a lane of a where the mask lane's top bit is set,
    # else of b. The top bits, moved to bit 0 and multiplied by the lane mask, widen to
    # whole lanes (no carry crosses a lane).
    def laneselect(a: int, b: int, c: int) -> int:
        sel = ((c & high) >> (w - 1)) * m
        return (a & sel) | (b & (sel ^ M128))

    _reg(shape + ".relaxed_laneselect", laneselect)


def i16x8_relaxed_q15mulr_s(a: int, b: int) -> int:
    # pmulhrsw: (x * y + 2^14) >> 15 wrapped to 16 bits: -32768 * -32768 gives -32768
    # where i16x8.q15mulr_sat_s saturates to 32767.
    return JOIN["u16"]([((x * y + 0x4000) >> 15) & 0xFFFF
                        for x, y in zip(SPLIT["s16"](a), SPLIT["s16"](b))])


def _dot_i8_i7(a: int, b: int) -> List[int]:
    # pmaddubsw with b as its unsigned operand: the bytes of a signed, of b unsigned (the
    # spec allows either reading of b's top bit), each pair's sum saturated to i16.
    xs, ys = SPLIT["s8"](a), SPLIT["u8"](b)
    return [min(max(xs[i] * ys[i] + xs[i + 1] * ys[i + 1], -0x8000), 0x7FFF)
            for i in range(0, 16, 2)]


def i16x8_relaxed_dot_i8x16_i7x16_s(a: int, b: int) -> int:
    return JOIN["s16"](_dot_i8_i7(a, b))


def i32x4_relaxed_dot_i8x16_i7x16_add_s(a: int, b: int, c: int) -> int:
    # The saturated i16 sums of pmaddubsw added in pairs (pmaddwd by ones), then c,
    # modulo 2^32 (paddd).
    d = _dot_i8_i7(a, b)
    return JOIN["u32"]([(d[2 * i] + d[2 * i + 1] + z) & 0xFFFFFFFF
                        for i, z in enumerate(SPLIT["u32"](c))])


# ---------------------------------------------------------------------------------------
# Memory (spec exec/instructions.rst, v128.load*, v128.store*): struct's *_from/_into
# check bounds and raise struct.error, and bytearray indexing raises IndexError (the
# address is never negative): both map to "out of bounds memory access".
# ---------------------------------------------------------------------------------------

def v128_load(mem: bytearray, a: int) -> int:
    lo, hi = _QQ.unpack_from(mem, a)
    return lo | (hi << 64)


def v128_store(mem: bytearray, a: int, v: int) -> None:
    _QQ.pack_into(mem, a, v & M64, v >> 64)


def _make_load_extend() -> None:
    for name, src, dst in (("8x8_s", "<8b", "s16"), ("8x8_u", "<8B", "u16"),
                           ("16x4_s", "<4h", "s32"), ("16x4_u", "<4H", "u32"),
                           ("32x2_s", "<2i", "s64"), ("32x2_u", "<2I", "u64")):
        unpack_from = struct.Struct(src).unpack_from
        jo = JOIN[dst]

        def load(mem: bytearray, a: int, u: Callable = unpack_from, jo: Callable = jo) -> int:
            return jo(u(mem, a))
        _reg("v128.load" + name, load)


_LANE_FMT = {8: struct.Struct("<B"), 16: struct.Struct("<H"), 32: struct.Struct("<I"),
             64: struct.Struct("<Q")}


def _make_lane_mem() -> None:
    for w, s in _LANE_FMT.items():
        unpack_from, pack_into = s.unpack_from, s.pack_into
        rep = REP[w]

        def splat(mem: bytearray, a: int, u: Callable = unpack_from, rep: int = rep) -> int:
            return u(mem, a)[0] * rep

        def load_lane(mem: bytearray, a: int, v: int, lane: int, u: Callable = unpack_from,
                      w: int = w) -> int:
            return replace_lane(v, w, lane, u(mem, a)[0])

        def store_lane(mem: bytearray, a: int, v: int, lane: int, p: Callable = pack_into,
                       m: int = (1 << w) - 1, w: int = w) -> None:
            p(mem, a, (v >> (w * lane)) & m)

        _reg("v128.load%d_splat" % w, splat)
        _reg("v128.load%d_lane" % w, load_lane)
        _reg("v128.store%d_lane" % w, store_lane)
        if w >= 32:
            _reg("v128.load%d_zero" % w, lambda mem, a, u=unpack_from: u(mem, a)[0])


for _shape in _INT_SHAPES:
    _make_add_sub(_shape)
    _make_lanewise(_shape)
    _make_int_cmp(_shape)
_make_widening("i16x8", "i8x16")
_make_widening("i32x4", "i16x8")
_make_widening("i64x2", "i32x4")
_make_narrow("i8x16", "i16x8")
_make_narrow("i16x8", "i32x4")
_make_float("f32x4")
_make_float("f64x2")
_make_load_extend()
_make_lane_mem()
_make_relaxed_madd("f32x4")
_make_relaxed_madd("f64x2")
for _shape in _INT_SHAPES:
    _make_laneselect(_shape)
for _name, _fn in list(globals().items()):
    if callable(_fn) and _name.startswith(("i8x16_", "i16x8_", "i32x4_", "i64x2_", "f32x4_",
                                           "f64x2_", "v128_")):
        # i8x16_popcnt -> "i8x16.popcnt" (the first underscore is the shape's dot)
        SIMD_HELPERS.setdefault(_name.replace("_", ".", 1), _fn)
del _shape, _name, _fn
