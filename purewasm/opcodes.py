"""The one table of every instruction.

Each :class:`OpInfo` gives an instruction's text-format name, its binary encoding (an
optional prefix byte 0xFC/0xFD and a code: a byte, or a LEB128 u32 after a prefix), the
kind of its immediates (read, written, parsed and printed by that kind's codec in
``binary/immediates.py``; ``syntax/__init__.py`` gives the Python shape of each kind), for
instructions whose stack effect is fixed, that effect as ``(params, results)``, and what
it is structurally (the flags of :class:`OpInfo`).
Instructions with ``sig = None`` (control, variables, calls, parametric, references,
tables, bulk memory) are typed by the validator's own rules.

The decoder, validator, text parser, encoder, printer and compiler all read this table.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Tuple

from .opcodes_simd import SIMD_OPS

# Immediate kinds
NONE = "none"
BLOCKTYPE = "blocktype"
LABEL = "label"
BR_TABLE = "br_table"
FUNC = "func"
CALL_INDIRECT = "call_indirect"
LOCAL = "local"
GLOBAL = "global"
TABLE = "table"
TABLE_COPY = "table_copy"
TABLE_INIT = "table_init"
ELEM = "elem"
MEMARG = "memarg"
MEM = "mem"
MEMORY_COPY = "memory_copy"
MEMORY_INIT = "memory_init"
DATA = "data"
CONST_I32 = "i32"
CONST_I64 = "i64"
CONST_F32 = "f32"
CONST_F64 = "f64"
CONST_V128 = "v128"
REFTYPE = "reftype"
SELECT_T = "select_t"
LANE = "lane"
MEMARG_LANE = "memarg_lane"
SHUFFLE = "shuffle"
TYPE = "type"            # a type index (call_ref, return_call_ref)
TAG = "tag"               # a tag index (throw)
TRY_TABLE = "try_table"   # (block type, catch clauses): see syntax/__init__.py
# GC (0xFB prefix): two u32s in the binary format, a type index then ...
TYPE_FIELD = "type_field"   # ... a field index (struct.get/set): (type, field)
TYPE_NUM = "type_num"       # ... a count (array.new_fixed): (type, n)
TYPE_DATA = "type_data"     # ... a data index (array.new_data/init_data): (type, data)
TYPE_ELEM = "type_elem"     # ... an elem index (array.new_elem/init_elem): (type, elem)
TYPE_TYPE = "type_type"     # ... a type index (array.copy): (dst type, src type)
CAST = "cast"               # ref.test/ref.cast: the target RefType (null: code + 1)
BR_ON_CAST = "br_on_cast"   # (label, source RefType, target RefType)

Sig = Tuple[Tuple[str, ...], Tuple[str, ...]]


class OpInfo:
    """One instruction: encoding, immediates, stack effect, and what it is structurally
    (the flags below, set from :data:`_STRUCTURE`: who opens or closes a block, branches,
    ends the current path, calls, or costs no fuel)."""

    __slots__ = ("name", "prefix", "code", "imm", "sig", "natural_align", "proposal",
                 "opens_block", "closes_block", "is_else", "branches", "ends_path", "calls",
                 "free")

    def __init__(self, name: str, prefix: Optional[int], code: int, imm: str,
                 sig: Optional[Sig], natural_align: Optional[int] = None,
                 proposal: Optional[str] = None) -> None:
        self.name = name
        self.prefix = prefix
        self.code = code
        self.imm = imm
        self.sig = sig
        # For loads/stores: log2 of the access width in bytes (the maximum alignment).
        self.natural_align = natural_align
        # The Wasm 3.0 proposal that added the instruction (a Config feature can turn it
        # off: see PROPOSALS); None for Wasm 2.0 instructions.
        self.proposal = proposal
        self.opens_block = False    # block, loop, if: pushes a label
        self.closes_block = False   # end
        self.is_else = False        # else: the second arm of an if
        self.branches = False       # names a label to branch to
        self.ends_path = False      # the code after it (up to else/end) is unreachable
        self.calls = False          # calls a function
        self.free = False           # costs no fuel (pure structure or stack bookkeeping)

    def __repr__(self) -> str:
        return "OpInfo(%r)" % self.name


OPS: List[OpInfo] = []


def _op(name: str, code: int, imm: str = NONE, sig: Optional[Sig] = None,
        prefix: Optional[int] = None, align: Optional[int] = None,
        proposal: Optional[str] = None) -> None:
    OPS.append(OpInfo(name, prefix, code, imm, sig, align, proposal))


# Wasm 3.0 proposals: their names in messages, keyed by the names of wasmtime-py's Config
# settings that enable them.
PROPOSALS = {"tail_call": "tail calls", "extended_const": "extended constant expressions",
             "relaxed_simd": "relaxed SIMD", "multi_memory": "multi-memory",
             "memory64": "memory64", "function_references": "function references",
             "exceptions": "exception handling", "gc": "GC"}
# Proposals of Wasm 3.0 (and later) purewasm does not implement yet: the opcodes that use
# them, so that a module using one is refused with the proposal's name
# (errors.UnsupportedProposalError) rather than "illegal opcode".
# Binary prefix byte -> (proposal, sub-opcode -> instruction name).
UNSUPPORTED_PREFIXES: Dict[int, Tuple[str, Dict[int, str]]] = {0xFE: ("threads", {})}
# Text-format names of instructions of unsupported proposals -> the proposal.
UNSUPPORTED_NAMES: Dict[str, str] = {}


def unsupported_text_proposal(name: str) -> Optional[str]:
    """The unsupported proposal a text instruction name belongs to, or None."""
    if name in UNSUPPORTED_NAMES:
        return UNSUPPORTED_NAMES[name]
    if ".atomic." in name or name in ("memory.atomic.notify", "atomic.fence"):
        return "threads"
    return None


# Wasm 2.0 (no proposal) and 3.0 (the proposals implemented so far) as feature sets.
WASM2_FEATURES: FrozenSet[str] = frozenset()
ALL_FEATURES: FrozenSet[str] = frozenset(PROPOSALS)


def _sig(params: str, results: str) -> Sig:
    return (tuple(params.split()), tuple(results.split()))


# --- Control (spec 5.4.1) ---
_op("unreachable", 0x00)
_op("nop", 0x01, sig=_sig("", ""))
_op("block", 0x02, BLOCKTYPE)
_op("loop", 0x03, BLOCKTYPE)
_op("if", 0x04, BLOCKTYPE)
_op("else", 0x05)
_op("end", 0x0B)
_op("br", 0x0C, LABEL)
_op("br_if", 0x0D, LABEL)
_op("br_table", 0x0E, BR_TABLE)
_op("return", 0x0F)
_op("call", 0x10, FUNC)
_op("call_indirect", 0x11, CALL_INDIRECT)
_op("return_call", 0x12, FUNC, proposal="tail_call")
_op("return_call_indirect", 0x13, CALL_INDIRECT, proposal="tail_call")
# Exception handling (Wasm 3.0, exnref): the legacy try/catch/rethrow/delegate encoding
# (0x06, 0x07, 0x09, 0x18, 0x19) is not an instruction here (see LEGACY_EXCEPTION_CODES).
_op("throw", 0x08, TAG, proposal="exceptions")
_op("throw_ref", 0x0A, proposal="exceptions")
_op("try_table", 0x1F, TRY_TABLE, proposal="exceptions")

# --- Reference (5.4.2) ---
_op("ref.null", 0xD0, REFTYPE)
_op("ref.is_null", 0xD1)
_op("ref.func", 0xD2, FUNC)

# --- Typed function references (Wasm 3.0, spec 5.4.1-5.4.2) ---
_op("call_ref", 0x14, TYPE, proposal="function_references")
_op("return_call_ref", 0x15, TYPE, proposal="function_references")
_op("ref.as_non_null", 0xD4, proposal="function_references")
_op("br_on_null", 0xD5, LABEL, proposal="function_references")
_op("br_on_non_null", 0xD6, LABEL, proposal="function_references")

# --- GC (Wasm 3.0, spec 5.4.2 "Aggregate Instructions", prefix 0xFB) ---
_op("ref.eq", 0xD3, proposal="gc")
for _code, _name, _imm in [
    (0, "struct.new", TYPE), (1, "struct.new_default", TYPE), (2, "struct.get", TYPE_FIELD),
    (3, "struct.get_s", TYPE_FIELD), (4, "struct.get_u", TYPE_FIELD),
    (5, "struct.set", TYPE_FIELD), (6, "array.new", TYPE), (7, "array.new_default", TYPE),
    (8, "array.new_fixed", TYPE_NUM), (9, "array.new_data", TYPE_DATA),
    (10, "array.new_elem", TYPE_ELEM), (11, "array.get", TYPE), (12, "array.get_s", TYPE),
    (13, "array.get_u", TYPE), (14, "array.set", TYPE), (15, "array.len", NONE),
    (16, "array.fill", TYPE), (17, "array.copy", TYPE_TYPE),
    (18, "array.init_data", TYPE_DATA), (19, "array.init_elem", TYPE_ELEM),
    (20, "ref.test", CAST), (22, "ref.cast", CAST), (24, "br_on_cast", BR_ON_CAST),
    (25, "br_on_cast_fail", BR_ON_CAST), (26, "any.convert_extern", NONE),
    (27, "extern.convert_any", NONE), (28, "ref.i31", NONE), (29, "i31.get_s", NONE),
    (30, "i31.get_u", NONE),
]:
    _op(_name, _code, _imm, prefix=0xFB, proposal="gc")
# ref.test and ref.cast of a nullable target type: the code after the one in OPS.
GC_NULLABLE_CODES = {21: "ref.test", 23: "ref.cast"}
GC_NAMES = frozenset(info.name for info in OPS if info.proposal == "gc")

# --- Parametric (5.4.3) ---
_op("drop", 0x1A)
_op("select", 0x1B)
_op("select_t", 0x1C, SELECT_T)   # text: "select (result t)"

# --- Variable (5.4.4) ---
_op("local.get", 0x20, LOCAL)
_op("local.set", 0x21, LOCAL)
_op("local.tee", 0x22, LOCAL)
_op("global.get", 0x23, GLOBAL)
_op("global.set", 0x24, GLOBAL)

# --- Table (5.4.5) ---
_op("table.get", 0x25, TABLE)
_op("table.set", 0x26, TABLE)
_op("table.init", 12, TABLE_INIT, prefix=0xFC)
_op("elem.drop", 13, ELEM, prefix=0xFC)
_op("table.copy", 14, TABLE_COPY, prefix=0xFC)
_op("table.grow", 15, TABLE, prefix=0xFC)
_op("table.size", 16, TABLE, prefix=0xFC)
_op("table.fill", 17, TABLE, prefix=0xFC)

# --- Memory (5.4.6) ---
for _name, _code, _t, _align in [
    ("i32.load", 0x28, "i32", 2), ("i64.load", 0x29, "i64", 3),
    ("f32.load", 0x2A, "f32", 2), ("f64.load", 0x2B, "f64", 3),
    ("i32.load8_s", 0x2C, "i32", 0), ("i32.load8_u", 0x2D, "i32", 0),
    ("i32.load16_s", 0x2E, "i32", 1), ("i32.load16_u", 0x2F, "i32", 1),
    ("i64.load8_s", 0x30, "i64", 0), ("i64.load8_u", 0x31, "i64", 0),
    ("i64.load16_s", 0x32, "i64", 1), ("i64.load16_u", 0x33, "i64", 1),
    ("i64.load32_s", 0x34, "i64", 2), ("i64.load32_u", 0x35, "i64", 2),
]:
    _op(_name, _code, MEMARG, _sig("i32", _t), align=_align)
for _name, _code, _t, _align in [
    ("i32.store", 0x36, "i32", 2), ("i64.store", 0x37, "i64", 3),
    ("f32.store", 0x38, "f32", 2), ("f64.store", 0x39, "f64", 3),
    ("i32.store8", 0x3A, "i32", 0), ("i32.store16", 0x3B, "i32", 1),
    ("i64.store8", 0x3C, "i64", 0), ("i64.store16", 0x3D, "i64", 1),
    ("i64.store32", 0x3E, "i64", 2),
]:
    _op(_name, _code, MEMARG, _sig("i32 " + _t, ""), align=_align)
_op("memory.size", 0x3F, MEM, _sig("", "i32"))
_op("memory.grow", 0x40, MEM, _sig("i32", "i32"))
_op("memory.init", 8, MEMORY_INIT, _sig("i32 i32 i32", ""), prefix=0xFC)
_op("data.drop", 9, DATA, _sig("", ""), prefix=0xFC)
_op("memory.copy", 10, MEMORY_COPY, _sig("i32 i32 i32", ""), prefix=0xFC)
_op("memory.fill", 11, MEM, _sig("i32 i32 i32", ""), prefix=0xFC)

# --- Numeric (5.4.7) ---
_op("i32.const", 0x41, CONST_I32, _sig("", "i32"))
_op("i64.const", 0x42, CONST_I64, _sig("", "i64"))
_op("f32.const", 0x43, CONST_F32, _sig("", "f32"))
_op("f64.const", 0x44, CONST_F64, _sig("", "f64"))


def _numeric(t: str, first: int, names: str, sig: Sig) -> None:
    for i, n in enumerate(names.split()):
        _op("%s.%s" % (t, n), first + i, NONE, sig)


_numeric("i32", 0x45, "eqz", _sig("i32", "i32"))
_numeric("i32", 0x46, "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", _sig("i32 i32", "i32"))
_numeric("i64", 0x50, "eqz", _sig("i64", "i32"))
_numeric("i64", 0x51, "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", _sig("i64 i64", "i32"))
_numeric("f32", 0x5B, "eq ne lt gt le ge", _sig("f32 f32", "i32"))
_numeric("f64", 0x61, "eq ne lt gt le ge", _sig("f64 f64", "i32"))
_numeric("i32", 0x67, "clz ctz popcnt", _sig("i32", "i32"))
_numeric("i32", 0x6A, "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr",
         _sig("i32 i32", "i32"))
_numeric("i64", 0x79, "clz ctz popcnt", _sig("i64", "i64"))
_numeric("i64", 0x7C, "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr",
         _sig("i64 i64", "i64"))
_numeric("f32", 0x8B, "abs neg ceil floor trunc nearest sqrt", _sig("f32", "f32"))
_numeric("f32", 0x92, "add sub mul div min max copysign", _sig("f32 f32", "f32"))
_numeric("f64", 0x99, "abs neg ceil floor trunc nearest sqrt", _sig("f64", "f64"))
_numeric("f64", 0xA0, "add sub mul div min max copysign", _sig("f64 f64", "f64"))

for _name, _code, _from, _to in [
    ("i32.wrap_i64", 0xA7, "i64", "i32"),
    ("i32.trunc_f32_s", 0xA8, "f32", "i32"), ("i32.trunc_f32_u", 0xA9, "f32", "i32"),
    ("i32.trunc_f64_s", 0xAA, "f64", "i32"), ("i32.trunc_f64_u", 0xAB, "f64", "i32"),
    ("i64.extend_i32_s", 0xAC, "i32", "i64"), ("i64.extend_i32_u", 0xAD, "i32", "i64"),
    ("i64.trunc_f32_s", 0xAE, "f32", "i64"), ("i64.trunc_f32_u", 0xAF, "f32", "i64"),
    ("i64.trunc_f64_s", 0xB0, "f64", "i64"), ("i64.trunc_f64_u", 0xB1, "f64", "i64"),
    ("f32.convert_i32_s", 0xB2, "i32", "f32"), ("f32.convert_i32_u", 0xB3, "i32", "f32"),
    ("f32.convert_i64_s", 0xB4, "i64", "f32"), ("f32.convert_i64_u", 0xB5, "i64", "f32"),
    ("f32.demote_f64", 0xB6, "f64", "f32"),
    ("f64.convert_i32_s", 0xB7, "i32", "f64"), ("f64.convert_i32_u", 0xB8, "i32", "f64"),
    ("f64.convert_i64_s", 0xB9, "i64", "f64"), ("f64.convert_i64_u", 0xBA, "i64", "f64"),
    ("f64.promote_f32", 0xBB, "f32", "f64"),
    ("i32.reinterpret_f32", 0xBC, "f32", "i32"), ("i64.reinterpret_f64", 0xBD, "f64", "i64"),
    ("f32.reinterpret_i32", 0xBE, "i32", "f32"), ("f64.reinterpret_i64", 0xBF, "i64", "f64"),
    # sign extension
    ("i32.extend8_s", 0xC0, "i32", "i32"), ("i32.extend16_s", 0xC1, "i32", "i32"),
    ("i64.extend8_s", 0xC2, "i64", "i64"), ("i64.extend16_s", 0xC3, "i64", "i64"),
    ("i64.extend32_s", 0xC4, "i64", "i64"),
]:
    _op(_name, _code, NONE, _sig(_from, _to))

# non-trapping float-to-int (0xFC 0..7)
for _i, (_name, _from, _to) in enumerate([
    ("i32.trunc_sat_f32_s", "f32", "i32"), ("i32.trunc_sat_f32_u", "f32", "i32"),
    ("i32.trunc_sat_f64_s", "f64", "i32"), ("i32.trunc_sat_f64_u", "f64", "i32"),
    ("i64.trunc_sat_f32_s", "f32", "i64"), ("i64.trunc_sat_f32_u", "f32", "i64"),
    ("i64.trunc_sat_f64_s", "f64", "i64"), ("i64.trunc_sat_f64_u", "f64", "i64"),
]):
    _op(_name, _i, NONE, _sig(_from, _to), prefix=0xFC)

# --- Vector instructions (0xFD prefix): see opcodes_simd.py ---
for _name, _code, _imm, _simd_sig, _simd_align, _proposal in SIMD_OPS:
    _op(_name, _code, _imm, _simd_sig, prefix=0xFD, align=_simd_align, proposal=_proposal)

# --- What instructions are, structurally (read by the compiler, the printer, …) ---
_STRUCTURE = {
    "block": ("opens_block", "free"), "loop": ("opens_block", "free"), "if": ("opens_block",),
    "else": ("is_else", "free"), "end": ("closes_block", "free"),
    "br": ("branches", "ends_path"), "br_if": ("branches",),
    "br_table": ("branches", "ends_path"), "return": ("ends_path",),
    "unreachable": ("ends_path",), "call": ("calls",), "call_indirect": ("calls",),
    "return_call": ("calls", "ends_path"), "return_call_indirect": ("calls", "ends_path"),
    "nop": ("free",), "drop": ("free",),
    "call_ref": ("calls",), "return_call_ref": ("calls", "ends_path"),
    "br_on_null": ("branches",), "br_on_non_null": ("branches",),
    "try_table": ("opens_block", "free"), "throw": ("ends_path",),
    "throw_ref": ("ends_path",),
    "br_on_cast": ("branches",), "br_on_cast_fail": ("branches",),
}
for _info in OPS:
    for _flag in _STRUCTURE.get(_info.name, ()):
        setattr(_info, _flag, True)

# --- Lookups ---
BY_NAME: Dict[str, OpInfo] = {info.name: info for info in OPS}
BY_CODE: Dict[int, OpInfo] = {info.code: info for info in OPS if info.prefix is None}
BY_PREFIXED: Dict[Tuple[int, int], OpInfo] = {
    (info.prefix, info.code): info for info in OPS if info.prefix is not None}

if len(BY_NAME) != len(OPS) or len(BY_CODE) + len(BY_PREFIXED) != len(OPS):
    raise RuntimeError("opcode table has duplicate names or codes")  # a bug in this file


def names_where(flag: str) -> FrozenSet[str]:
    """The names of the instructions with ``flag`` set (e.g. "opens_block")."""
    return frozenset(info.name for info in OPS if getattr(info, flag))


BLOCK_OPENERS = names_where("opens_block")

# The legacy exception-handling encoding (try 0x06, catch 0x07, rethrow 0x09, delegate
# 0x18, catch_all 0x19), which Wasm 3.0 replaced by try_table/throw_ref: refused by name.
LEGACY_EXCEPTION_CODES = {0x06: "try", 0x07: "catch", 0x09: "rethrow", 0x18: "delegate",
                          0x19: "catch_all"}
# try_table's catch clause kinds, by their binary code (spec 5.4.1).
CATCH_KINDS = ("catch", "catch_ref", "catch_all", "catch_all_ref")
