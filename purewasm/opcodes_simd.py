"""The vector (SIMD) instructions of Wasm 2.0 and of the relaxed SIMD proposal (Wasm 3.0),
merged into ``opcodes.OPS`` by opcodes.py.

Each entry is ``(name, code, immediate_kind, sig, natural_align, proposal)``: the text-format name
(spec 6.5.9, "Vector Instructions"), the LEB128 u32 sub-opcode that follows the 0xFD
prefix (spec 5.4.8), the immediate kind of ``opcodes.py``, the fixed stack effect as
``(params, results)``, and for memory accesses log2 of the access width in bytes
(the largest valid alignment, spec 3.3.7) — ``None`` otherwise — and the Wasm 3.0
proposal that added the instruction (``None`` for Wasm 2.0; see ``opcodes.PROPOSALS``).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

Sig = Tuple[Tuple[str, ...], Tuple[str, ...]]
SimdEntry = Tuple[str, int, str, Sig, Optional[int], Optional[str]]

# Immediate kinds: the same strings as opcodes.py (it imports this module, so no cycle).
_NONE = "none"
_MEMARG = "memarg"
_CONST_V128 = "v128"
_SHUFFLE = "shuffle"
_LANE = "lane"
_MEMARG_LANE = "memarg_lane"


def _sig(params: str, results: str) -> Sig:
    return (tuple(params.split()), tuple(results.split()))


SIMD_OPS: List[SimdEntry] = []


def _add(name: str, code: int, imm: str, sig: Sig, align: Optional[int] = None,
         proposal: Optional[str] = None) -> None:
    SIMD_OPS.append((name, code, imm, sig, align, proposal))


# --- Loads and stores (spec 5.4.8, first table) ---
for _name, _code, _align in [
    ("v128.load", 0, 4),
    ("v128.load8x8_s", 1, 3), ("v128.load8x8_u", 2, 3),
    ("v128.load16x4_s", 3, 3), ("v128.load16x4_u", 4, 3),
    ("v128.load32x2_s", 5, 3), ("v128.load32x2_u", 6, 3),
    ("v128.load8_splat", 7, 0), ("v128.load16_splat", 8, 1),
    ("v128.load32_splat", 9, 2), ("v128.load64_splat", 10, 3),
    ("v128.load32_zero", 92, 2), ("v128.load64_zero", 93, 3),
]:
    _add(_name, _code, _MEMARG, _sig("i32", "v128"), _align)
_add("v128.store", 11, _MEMARG, _sig("i32 v128", ""), 4)
for _i, _bits in enumerate((8, 16, 32, 64)):
    _add("v128.load%d_lane" % _bits, 84 + _i, _MEMARG_LANE, _sig("i32 v128", "v128"), _i)
for _i, _bits in enumerate((8, 16, 32, 64)):
    _add("v128.store%d_lane" % _bits, 88 + _i, _MEMARG_LANE, _sig("i32 v128", ""), _i)

# --- Constant, shuffle, swizzle, splat ---
_add("v128.const", 12, _CONST_V128, _sig("", "v128"))
_add("i8x16.shuffle", 13, _SHUFFLE, _sig("v128 v128", "v128"))
_add("i8x16.swizzle", 14, _NONE, _sig("v128 v128", "v128"))
for _i, (_shape, _t) in enumerate([("i8x16", "i32"), ("i16x8", "i32"), ("i32x4", "i32"),
                                   ("i64x2", "i64"), ("f32x4", "f32"), ("f64x2", "f64")]):
    _add(_shape + ".splat", 15 + _i, _NONE, _sig(_t, "v128"))

# --- Lane access (codes 21..34) ---
for _name, _code, _t in [
    ("i8x16.extract_lane_s", 21, "i32"), ("i8x16.extract_lane_u", 22, "i32"),
    ("i16x8.extract_lane_s", 24, "i32"), ("i16x8.extract_lane_u", 25, "i32"),
    ("i32x4.extract_lane", 27, "i32"), ("i64x2.extract_lane", 29, "i64"),
    ("f32x4.extract_lane", 31, "f32"), ("f64x2.extract_lane", 33, "f64"),
]:
    _add(_name, _code, _LANE, _sig("v128", _t))
for _name, _code, _t in [
    ("i8x16.replace_lane", 23, "i32"), ("i16x8.replace_lane", 26, "i32"),
    ("i32x4.replace_lane", 28, "i32"), ("i64x2.replace_lane", 30, "i64"),
    ("f32x4.replace_lane", 32, "f32"), ("f64x2.replace_lane", 34, "f64"),
]:
    _add(_name, _code, _LANE, _sig("v128 " + _t, "v128"))

_UN = _sig("v128", "v128")
_BIN = _sig("v128 v128", "v128")
_TEST = _sig("v128", "i32")
_SHIFT = _sig("v128 i32", "v128")


def _group(shape: str, entries: str, sig: Sig) -> None:
    """Add ``shape.name`` for each ``name:code`` in ``entries``."""
    for item in entries.split():
        name, code = item.split(":")
        _add("%s.%s" % (shape, name), int(code), _NONE, sig)


# --- Comparisons (vrelop) ---
_INT_REL = "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split()
for _shape, _first in (("i8x16", 35), ("i16x8", 45), ("i32x4", 55)):
    _group(_shape, " ".join("%s:%d" % (n, _first + k) for k, n in enumerate(_INT_REL)), _BIN)
_group("i64x2", "eq:214 ne:215 lt_s:216 gt_s:217 le_s:218 ge_s:219", _BIN)
_group("f32x4", "eq:65 ne:66 lt:67 gt:68 le:69 ge:70", _BIN)
_group("f64x2", "eq:71 ne:72 lt:73 gt:74 le:75 ge:76", _BIN)

# --- Bitwise (vvunop, vvbinop, vvternop, vvtestop) ---
_add("v128.not", 77, _NONE, _UN)
_group("v128", "and:78 andnot:79 or:80 xor:81", _BIN)
_add("v128.bitselect", 82, _NONE, _sig("v128 v128 v128", "v128"))
_add("v128.any_true", 83, _NONE, _TEST)

# --- i8x16 ---
_group("i8x16", "abs:96 neg:97 popcnt:98", _UN)
_group("i8x16", "all_true:99 bitmask:100", _TEST)
_group("i8x16", "narrow_i16x8_s:101 narrow_i16x8_u:102", _BIN)
_group("i8x16", "shl:107 shr_s:108 shr_u:109", _SHIFT)
_group("i8x16", "add:110 add_sat_s:111 add_sat_u:112 sub:113 sub_sat_s:114 sub_sat_u:115 "
       "min_s:118 min_u:119 max_s:120 max_u:121 avgr_u:123", _BIN)

# --- i16x8 ---
_group("i16x8", "extadd_pairwise_i8x16_s:124 extadd_pairwise_i8x16_u:125 abs:128 neg:129 "
       "extend_low_i8x16_s:135 extend_high_i8x16_s:136 "
       "extend_low_i8x16_u:137 extend_high_i8x16_u:138", _UN)
_group("i16x8", "all_true:131 bitmask:132", _TEST)
_group("i16x8", "shl:139 shr_s:140 shr_u:141", _SHIFT)
_group("i16x8", "q15mulr_sat_s:130 narrow_i32x4_s:133 narrow_i32x4_u:134 "
       "add:142 add_sat_s:143 add_sat_u:144 sub:145 sub_sat_s:146 sub_sat_u:147 mul:149 "
       "min_s:150 min_u:151 max_s:152 max_u:153 avgr_u:155 "
       "extmul_low_i8x16_s:156 extmul_high_i8x16_s:157 "
       "extmul_low_i8x16_u:158 extmul_high_i8x16_u:159", _BIN)

# --- i32x4 ---
_group("i32x4", "extadd_pairwise_i16x8_s:126 extadd_pairwise_i16x8_u:127 abs:160 neg:161 "
       "extend_low_i16x8_s:167 extend_high_i16x8_s:168 "
       "extend_low_i16x8_u:169 extend_high_i16x8_u:170", _UN)
_group("i32x4", "all_true:163 bitmask:164", _TEST)
_group("i32x4", "shl:171 shr_s:172 shr_u:173", _SHIFT)
_group("i32x4", "add:174 sub:177 mul:181 min_s:182 min_u:183 max_s:184 max_u:185 "
       "dot_i16x8_s:186 extmul_low_i16x8_s:188 extmul_high_i16x8_s:189 "
       "extmul_low_i16x8_u:190 extmul_high_i16x8_u:191", _BIN)

# --- i64x2 ---
_group("i64x2", "abs:192 neg:193 extend_low_i32x4_s:199 extend_high_i32x4_s:200 "
       "extend_low_i32x4_u:201 extend_high_i32x4_u:202", _UN)
_group("i64x2", "all_true:195 bitmask:196", _TEST)
_group("i64x2", "shl:203 shr_s:204 shr_u:205", _SHIFT)
_group("i64x2", "add:206 sub:209 mul:213 extmul_low_i32x4_s:220 extmul_high_i32x4_s:221 "
       "extmul_low_i32x4_u:222 extmul_high_i32x4_u:223", _BIN)

# --- f32x4 / f64x2 ---
_group("f32x4", "ceil:103 floor:104 trunc:105 nearest:106 abs:224 neg:225 sqrt:227", _UN)
_group("f32x4", "add:228 sub:229 mul:230 div:231 min:232 max:233 pmin:234 pmax:235", _BIN)
_group("f64x2", "ceil:116 floor:117 trunc:122 nearest:148 abs:236 neg:237 sqrt:239", _UN)
_group("f64x2", "add:240 sub:241 mul:242 div:243 min:244 max:245 pmin:246 pmax:247", _BIN)

# --- Conversions ---
_group("i32x4", "trunc_sat_f32x4_s:248 trunc_sat_f32x4_u:249 "
       "trunc_sat_f64x2_s_zero:252 trunc_sat_f64x2_u_zero:253", _UN)
_group("f32x4", "convert_i32x4_s:250 convert_i32x4_u:251 demote_f64x2_zero:94", _UN)
_group("f64x2", "convert_low_i32x4_s:254 convert_low_i32x4_u:255 promote_low_f32x4:95", _UN)

# --- Relaxed SIMD (Wasm 3.0; the proposal's Overview.md, codes 0x100..0x113) ---
_TERN = _sig("v128 v128 v128", "v128")
for _name, _code, _s in [
    ("i8x16.relaxed_swizzle", 0x100, _BIN),
    ("i32x4.relaxed_trunc_f32x4_s", 0x101, _UN),
    ("i32x4.relaxed_trunc_f32x4_u", 0x102, _UN),
    ("i32x4.relaxed_trunc_f64x2_s_zero", 0x103, _UN),
    ("i32x4.relaxed_trunc_f64x2_u_zero", 0x104, _UN),
    ("f32x4.relaxed_madd", 0x105, _TERN), ("f32x4.relaxed_nmadd", 0x106, _TERN),
    ("f64x2.relaxed_madd", 0x107, _TERN), ("f64x2.relaxed_nmadd", 0x108, _TERN),
    ("i8x16.relaxed_laneselect", 0x109, _TERN), ("i16x8.relaxed_laneselect", 0x10A, _TERN),
    ("i32x4.relaxed_laneselect", 0x10B, _TERN), ("i64x2.relaxed_laneselect", 0x10C, _TERN),
    ("f32x4.relaxed_min", 0x10D, _BIN), ("f32x4.relaxed_max", 0x10E, _BIN),
    ("f64x2.relaxed_min", 0x10F, _BIN), ("f64x2.relaxed_max", 0x110, _BIN),
    ("i16x8.relaxed_q15mulr_s", 0x111, _BIN),
    ("i16x8.relaxed_dot_i8x16_i7x16_s", 0x112, _BIN),
    ("i32x4.relaxed_dot_i8x16_i7x16_add_s", 0x113, _TERN),
]:
    _add(_name, _code, _NONE, _s, proposal="relaxed_simd")
