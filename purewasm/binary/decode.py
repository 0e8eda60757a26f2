"""Binary format decoder (spec chapter 5, "Binary Format").

``decode_module(data)`` turns the bytes of a module into a :class:`syntax.Module`, or raises
:class:`MalformedError` with the wording of the reference interpreter
(``interpreter/binary/decode.ml``), which the testsuite's ``assert_malformed`` expects.

How the reference interpreter reads, and so how we read:

* Everything is read from the *whole* input, not from the current section or function
  body: a section (or body) that reads past its declared size is caught afterwards by the
  size check ("section size mismatch"), and only running off the end of the input is
  "unexpected end". Reading past the end raises ``IndexError`` from ``data[pos]``, which
  :func:`decode_module` turns into that error (this keeps bounds checks out of the hot
  loops); slices never raise, so every multi-byte read checks its length explicitly.
* A length or count (``len32``) larger than the bytes that remain (counted from the start
  of the length itself) is "length out of bounds" before anything is allocated: every
  element takes at least one byte, so no count can make us allocate more than the input.
* Instructions are decoded into a flat list (see ``syntax``); a stack of open constructs
  (no recursion) finds where each body ends, so nesting depth costs no Python frames.
"""
from __future__ import annotations

from typing import Callable, Collection, Dict, List, Optional, Tuple

from .. import opcodes as _opc
from ..errors import MalformedError, UnsupportedProposalError
from .leb128 import read_sleb, read_uleb
from .memarg import read_memarg
from .sections import RANK, Section
from ..syntax import (
    ACTIVE, DECLARATIVE, EXNREF, EXTERNREF, FUNC, FUNCREF, GLOBAL, MEMORY, PASSIVE, TABLE,
    TAG, TagType,
    ArrayType, CustomSection, Data, DefType, Elem, FieldType, StructType,
    Export, Func, FuncType, Global, GlobalType, Import, ImportDesc,
    Instr,
    Limits, MemoryType, Module, Names, TableType,
)
from ..syntax.types import HEAP_BY_CODE, RefType

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

# Value type encodings (spec 5.3.1-5.3.4).
VALTYPE_BY_BYTE: Dict[int, str] = {
    0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
    0x70: FUNCREF, 0x6F: EXTERNREF, 0x69: EXNREF,
}
REFTYPE_BY_BYTE: Dict[int, str] = {0x70: FUNCREF, 0x6F: EXTERNREF}
# Wasm 3.0 (function references, GC, exceptions): every abstract heap type's code is also
# the short form of its nullable reference type (5.3.4), and 0x63/0x64 introduce
# (ref null ht) / (ref ht).
REFTYPE3_BY_BYTE: Dict[int, str] = {
    code: RefType(True, heap) for code, heap in HEAP_BY_CODE.items()}
VALTYPE3_BY_BYTE: Dict[int, str] = {**VALTYPE_BY_BYTE, **REFTYPE3_BY_BYTE}
_REF_NULL, _REF = 0x63, 0x64
# The GC proposal's type section forms (spec 3.0 5.3.7-5.3.10).
_GC_REC, _GC_SUB, _GC_SUB_FINAL, _GC_STRUCT, _GC_ARRAY = 0x4E, 0x50, 0x4F, 0x5F, 0x5E
_PACKED_BY_BYTE = {0x78: "i8", 0x77: "i16"}
_REF_FUNC = RefType(False, "func")

# Implementation limit (spec A.1 allows one): the most locals one function may declare.
# wasmtime uses the same number; it keeps a hostile count from exhausting memory when
# the declared locals are expanded into a list.
MAX_LOCALS = 50000

# Implementation limits of the JS API ("Implementation-defined limits", WebAssembly/spec
# document/js-api), which wasmtime's parser also enforces: checked as each count is read,
# before anything of that size is allocated (a 10 MB function body expands to ~600 MB of
# instruction objects; a hostile count would otherwise be trusted).
MAX_MODULE_SIZE = 1 << 30
MAX_TYPES = 1_000_000
MAX_STRUCT_FIELDS = 10_000
MAX_FUNCTIONS = 1_000_000          # imported and defined
MAX_IMPORTS = 100_000
MAX_EXPORTS = 100_000
MAX_GLOBALS = 1_000_000            # imported and defined
MAX_DATA_SEGMENTS = 100_000
MAX_ELEM_SEGMENTS = 10_000_000
MAX_TABLES = 100_000
MAX_PARAMS = 1_000
MAX_RESULTS = 1_000
MAX_FUNCTION_SIZE = 7_654_321      # bytes of one function body


def _check_limit(count: int, maximum: int, what: str, pos: int) -> None:
    if count > maximum:
        raise MalformedError("implementation limit exceeded: %d %s (the limit is %d)"
                             % (count, what, maximum), pos)

_EXTERN_KINDS = (FUNC, TABLE, MEMORY, GLOBAL, TAG)


_EOF = "unexpected end of section or function"

# --- Instruction dispatch tables -------------------------------------------------------
# Immediate kinds as small ints (the hot loop compares ints, not strings).
(K_NONE, K_IDX, K_I32, K_MEMARG, K_BLOCK, K_END, K_ELSE, K_I64, K_F32, K_F64, K_BR_TABLE,
 K_CALL_INDIRECT, K_ZERO, K_REFTYPE, K_SELECT_T, K_PREFIX_FC, K_PREFIX_FD, K_V128,
 K_LANE, K_MEMARG_LANE, K_SHUFFLE, K_TABLE_COPY, K_TABLE_INIT, K_MEMORY_COPY,
 K_MEMORY_INIT, K_DATA, K_ILLEGAL, K_TRY_TABLE, K_PREFIX_FB, K_TYPE2, K_TYPE_DATA, K_CAST,
 K_BR_ON_CAST) = range(33)

_KIND_CODE = {
    _opc.NONE: K_NONE, _opc.LABEL: K_IDX, _opc.FUNC: K_IDX, _opc.LOCAL: K_IDX,
    _opc.GLOBAL: K_IDX, _opc.TABLE: K_IDX, _opc.ELEM: K_IDX, _opc.DATA: K_DATA,
    _opc.BLOCKTYPE: K_BLOCK, _opc.BR_TABLE: K_BR_TABLE,
    _opc.CALL_INDIRECT: K_CALL_INDIRECT, _opc.MEMARG: K_MEMARG, _opc.MEM: K_ZERO,
    _opc.CONST_I32: K_I32, _opc.CONST_I64: K_I64, _opc.CONST_F32: K_F32,
    _opc.CONST_F64: K_F64, _opc.CONST_V128: K_V128, _opc.REFTYPE: K_REFTYPE,
    _opc.SELECT_T: K_SELECT_T, _opc.LANE: K_LANE, _opc.MEMARG_LANE: K_MEMARG_LANE,
    _opc.SHUFFLE: K_SHUFFLE, _opc.TABLE_COPY: K_TABLE_COPY, _opc.TABLE_INIT: K_TABLE_INIT,
    _opc.MEMORY_COPY: K_MEMORY_COPY, _opc.MEMORY_INIT: K_MEMORY_INIT, _opc.TYPE: K_IDX,
    _opc.TAG: K_IDX, _opc.TRY_TABLE: K_TRY_TABLE,
    _opc.TYPE_FIELD: K_TYPE2, _opc.TYPE_NUM: K_TYPE2, _opc.TYPE_ELEM: K_TYPE2,
    _opc.TYPE_TYPE: K_TYPE2, _opc.TYPE_DATA: K_TYPE_DATA, _opc.CAST: K_CAST,
    _opc.BR_ON_CAST: K_BR_ON_CAST,
}


def _build_tables() -> Tuple[List[Optional[Tuple[str, int]]], Dict[int, Tuple[str, int]],
                             Dict[int, Tuple[str, int]], Dict[int, Tuple[str, int]]]:
    one: List[Optional[Tuple[str, int]]] = [None] * 256
    fc: Dict[int, Tuple[str, int]] = {}
    fd: Dict[int, Tuple[str, int]] = {}
    fb: Dict[int, Tuple[str, int]] = {}
    for info in _opc.OPS:
        kind = _KIND_CODE[info.imm]
        if info.name == "end":
            kind = K_END
        elif info.name == "else":
            kind = K_ELSE
        if info.prefix is None:
            one[info.code] = (info.name, kind)
        elif info.prefix == 0xFC:
            fc[info.code] = (info.name, kind)
        elif info.prefix == 0xFD:
            fd[info.code] = (info.name, kind)
        elif info.prefix == 0xFB:
            fb[info.code] = (info.name, kind)
    for code, name in _opc.GC_NULLABLE_CODES.items():
        fb[code] = (name, K_CAST)
    one[0xFC] = ("", K_PREFIX_FC)
    one[0xFD] = ("", K_PREFIX_FD)
    one[0xFB] = ("", K_PREFIX_FB)
    return one, fc, fd, fb


_OP1, _OPFC, _OPFD, _OPFB = _build_tables()
_PREFIX_TABLES = {K_PREFIX_FC: _OPFC, K_PREFIX_FD: _OPFD, K_PREFIX_FB: _OPFB}
# The one-byte table split in two lists: the hot loop indexes each directly.
_NAMES1: List[str] = [e[0] if e is not None else "" for e in _OP1]
_KINDS1: List[int] = [e[1] if e is not None else K_ILLEGAL for e in _OP1]
# Without exception handling (Wasm 2.0) its opcodes are illegal, as the 2.0 suite asserts.
_KINDS1_NO_EXCEPTIONS: List[int] = [
    K_ILLEGAL if e is not None and e[0] in _opc.BY_NAME
    and _opc.BY_NAME[e[0]].proposal == "exceptions" else k
    for e, k in zip(_OP1, _KINDS1)]


_IF_CODE = _opc.BY_NAME["if"].code
# What decode_expr's stack of open constructs holds (only an open "if" accepts "else").
_OPEN_BLOCK, _OPEN_IF, _OPEN_ELSE = 0, 1, 2


def _u32(data: bytes, pos: int) -> Tuple[int, int]:
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    return read_uleb(data, pos, 32)


def _len32(data: bytes, pos: int) -> Tuple[int, int]:
    """A length or count: it may not exceed the bytes that remain ("length out of bounds")."""
    start = pos
    b = data[pos]
    if b < 0x80:
        n, pos = b, pos + 1
    else:
        n, pos = read_uleb(data, pos, 32)
    # Measured from the start of the LEB128, as the reference interpreter does.
    if n > len(data) - start:
        raise MalformedError("length out of bounds", start)
    return n, pos


def _bytes(data: bytes, pos: int) -> Tuple[bytes, int]:
    n, pos = _len32(data, pos)
    if pos + n > len(data):
        raise MalformedError(_EOF, len(data))
    return data[pos:pos + n], pos + n


def _name(data: bytes, pos: int) -> Tuple[str, int]:
    start = pos
    raw, pos = _bytes(data, pos)
    try:
        # Python's strict UTF-8 codec rejects overlong forms, surrogates and code points
        # above U+10FFFF, as spec 5.2.4 ("Names") requires.
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError:
        raise MalformedError("malformed UTF-8 encoding", start) from None


def _illegal_opcode(data: bytes, pos: int, b: int, start: int) -> Exception:
    """The error for an opcode byte with no instruction: an unsupported proposal's prefix
    names the proposal and the instruction; any other byte is malformed."""
    unsupported = _opc.UNSUPPORTED_PREFIXES.get(b)
    if unsupported is None or pos >= len(data):
        return MalformedError("illegal opcode %02x" % b, start)
    proposal, names = unsupported
    try:
        sub, _ = read_uleb(data, pos, 32)
    except (MalformedError, IndexError):
        return MalformedError("illegal opcode %02x" % b, start)
    return UnsupportedProposalError(proposal, names.get(sub, "opcode 0x%02x %d" % (b, sub)),
                                    start)


def _valtype(data: bytes, pos: int, typed: bool = True) -> Tuple[str, int]:
    """A value type; ``typed``: with Wasm 3.0's reference types (function references)."""
    b = data[pos]
    t = (VALTYPE3_BY_BYTE if typed else VALTYPE_BY_BYTE).get(b)
    if t is None:
        if typed and (b == _REF_NULL or b == _REF):
            return _heap_reftype(data, pos)
        # The reference interpreter reads unknown codes below 0x7B as a reference type.
        raise _bad_type_byte(b, pos, "malformed reference type" if b < 0x7B
                             else "malformed value type")
    return t, pos + 1


def _reftype(data: bytes, pos: int, typed: bool = True) -> Tuple[str, int]:
    b = data[pos]
    t = (REFTYPE3_BY_BYTE if typed else REFTYPE_BY_BYTE).get(b)
    if t is None:
        if typed and (b == _REF_NULL or b == _REF):
            return _heap_reftype(data, pos)
        raise _bad_type_byte(b, pos, "malformed reference type")
    return t, pos + 1


def _heaptype(data: bytes, pos: int) -> Tuple[object, int]:
    """A heap type (spec 3.0 5.3.3): an abstract type's code, or a type index as s33."""
    b = data[pos]
    heap = HEAP_BY_CODE.get(b)
    if heap is not None:
        return heap, pos + 1
    index, end = read_sleb(data, pos, 33)
    if index < 0:
        raise MalformedError("malformed reference type", pos)
    return index, end


def _heap_reftype(data: bytes, pos: int) -> Tuple[str, int]:
    """0x63 ht: (ref null ht); 0x64 ht: (ref ht)."""
    heap, end = _heaptype(data, pos + 1)
    return RefType(data[pos] == _REF_NULL, heap), end  # type: ignore[arg-type]


def _bad_type_byte(b: int, pos: int, what: str) -> MalformedError:
    # A byte with the continuation bit starts a longer LEB128 (s7) than a type may have.
    if b & 0x80:
        return MalformedError("integer representation too long", pos + 1)
    return MalformedError(what, pos)


# Limits flags (Wasm 3.0, spec 5.3.7): bit 0 a maximum follows, bit 1 shared (threads),
# bit 2 the address type is i64 (memory64 / table64).
_LIMITS_MAX, _LIMITS_SHARED, _LIMITS_64 = 1, 2, 4


def _limits(data: bytes, pos: int, memory64: bool = False) -> Tuple[Limits, int, int]:
    """Limits and their flags: (limits, flags, new position). Without memory64 the flag
    is Wasm 2.0's u1 (0 = no maximum, 1 = maximum) and the bounds are u32; with it a flags
    byte, and the bounds are u64 whatever the address type (Wasm 3.0 binary/types.rst:
    an i32 memory of 2^32 pages decodes, then is invalid, "memory size")."""
    if not memory64:
        flag, pos = read_uleb(data, pos, 1)
        lo, pos = _u32(data, pos)
        hi: Optional[int] = None
        if flag:
            hi, pos = _u32(data, pos)
        return Limits(lo, hi), flag, pos
    flags = data[pos]
    if flags & ~(_LIMITS_MAX | _LIMITS_SHARED | _LIMITS_64):
        raise MalformedError("malformed limits flags", pos)
    pos += 1
    lo, pos = read_uleb(data, pos, 64)
    hi = None
    if flags & _LIMITS_MAX:
        hi, pos = read_uleb(data, pos, 64)
    return Limits(lo, hi), flags, pos


def _globaltype(data: bytes, pos: int, typed: bool = True) -> Tuple[GlobalType, int]:
    t, pos = _valtype(data, pos, typed)
    m = data[pos]
    if m > 1:
        raise MalformedError("malformed mutability", pos)
    return GlobalType(t, m == 1), pos + 1


# --- Instructions (spec 5.4) -------------------------------------------------------------

class _CodeState:
    """What decoding instructions learns about the module as a whole."""

    __slots__ = ("uses_data_count", "multi_memory", "offset_bits", "typed_refs", "exceptions")

    def __init__(self, features: Optional[Collection[str]] = None) -> None:
        self.uses_data_count = False
        if features is None:
            features = _opc.ALL_FEATURES
        # Wasm 3.0's encodings where 2.0 has fixed bytes: memory indices (multi-memory),
        # u64 memarg offsets (memory64).
        self.multi_memory = "multi_memory" in features
        self.offset_bits = 64 if "memory64" in features else 32
        # Typed references (function references): heap types after ref.null, 0x63/0x64.
        self.typed_refs = "function_references" in features
        self.exceptions = "exceptions" in features   # the tag section exists




def decode_expr(data: bytes, pos: int, state: Optional[_CodeState] = None
                ) -> Tuple[List[Instr], int]:
    """Decode instructions at ``pos`` up to and including the ``end`` that closes the
    expression; return (flat instruction list, position after that ``end``). ``state``
    carries the features (None: all) and collects what the module as a whole needs."""
    if state is None:
        state = _CodeState()
    multi_memory = state.multi_memory
    offset_bits = state.offset_bits
    typed = state.typed_refs
    out: List[Instr] = []
    append = out.append
    names = _NAMES1
    I = Instr  # noqa: N806 - a local is faster to look up than a global
    kinds = _KINDS1 if state.exceptions else _KINDS1_NO_EXCEPTIONS
    # Open constructs, each _OPEN_BLOCK (block/loop), _OPEN_IF or _OPEN_ELSE.
    ctl: List[int] = []
    push = ctl.append
    pop = ctl.pop
    while True:
        start = pos
        b = data[pos]
        pos += 1
        kind = kinds[b]
        # Branches ordered by how often real code uses each kind.
        if kind == K_IDX:
            x = data[pos]
            if x < 0x80:
                pos += 1
            else:
                x, pos = read_uleb(data, pos, 32)
            append(I(names[b], x, start))
        elif kind == K_NONE:
            append(I(names[b], None, start))
        elif kind == K_END:
            append(I("end", None, start))
            if not ctl:
                return out, pos
            pop()
        elif kind == K_I32:
            x = data[pos]
            if x < 0x80:
                pos += 1
                if x & 0x40:
                    x |= 0xFFFFFF80
            else:
                x, pos = read_sleb(data, pos, 32)
                x &= 0xFFFFFFFF
            append(I("i32.const", x, start))
        elif kind == K_I64:
            x = data[pos]
            if x < 0x80:
                pos += 1
                if x & 0x40:
                    x |= 0xFFFFFFFFFFFFFF80
            else:
                x, pos = read_sleb(data, pos, 64)
                x &= 0xFFFFFFFFFFFFFFFF
            append(I("i64.const", x, start))
        elif kind == K_BLOCK:
            bt = data[pos]
            btype: object   # a block type: None, a value type or a type index
            if bt == 0x40:
                btype = None
                pos += 1
            elif bt & 0xC0 == 0x40:
                btype, pos = _valtype(data, pos, typed)
            else:
                tpos = pos
                type_index, pos = read_sleb(data, pos, 33)
                if type_index < 0:
                    raise MalformedError("malformed block type", tpos)
                btype = type_index
            append(I(names[b], btype, start))
            push(_OPEN_IF if b == _IF_CODE else _OPEN_BLOCK)
        elif kind == K_MEMARG:
            a = data[pos]
            o = data[pos + 1]
            if a < 32 and o < 0x80:
                # The common case (memory 0, one-byte offset) inline: see read_memarg.
                pos += 2
                append(I(names[b], (a, o, 0), start))
            else:
                imm, pos = read_memarg(data, pos, multi_memory, offset_bits)
                append(I(names[b], imm, start))
        elif kind == K_ELSE:
            if not ctl or ctl[-1] != _OPEN_IF:
                raise MalformedError("END opcode expected", start)
            ctl[-1] = _OPEN_ELSE
            append(I("else", None, start))
        elif kind == K_F32:
            if pos + 4 > len(data):
                raise MalformedError(_EOF, len(data))
            append(I(names[b], int.from_bytes(data[pos:pos + 4], "little"), start))
            pos += 4
        elif kind == K_F64:
            if pos + 8 > len(data):
                raise MalformedError(_EOF, len(data))
            append(I(names[b], int.from_bytes(data[pos:pos + 8], "little"), start))
            pos += 8
        elif kind == K_BR_TABLE:
            n, pos = _len32(data, pos)
            labels = []
            for _ in range(n):
                x, pos = _u32(data, pos)
                labels.append(x)
            x, pos = _u32(data, pos)
            append(I(names[b], (tuple(labels), x), start))
        elif kind == K_CALL_INDIRECT:
            y, pos = _u32(data, pos)
            x, pos = _u32(data, pos)
            append(I(names[b], (y, x), start))
        elif kind == K_ZERO:
            pos, x = _memidx(data, pos, multi_memory)
            append(I(names[b], x, start))
        elif kind == K_REFTYPE:
            if typed:
                heap, pos = _heaptype(data, pos)
                append(I(names[b], RefType(True, heap), start))  # type: ignore[arg-type]
            else:
                t, pos = _reftype(data, pos, typed)
                append(I(names[b], t, start))
        elif kind == K_SELECT_T:
            n, pos = _len32(data, pos)
            ts = []
            for _ in range(n):
                t, pos = _valtype(data, pos, typed)
                ts.append(t)
            append(I(names[b], tuple(ts), start))
        elif kind == K_TRY_TABLE:
            tt_imm, pos = _try_table(data, pos)
            append(I(names[b], tt_imm, start))
            push(_OPEN_BLOCK)
        elif kind == K_ILLEGAL:
            legacy = _opc.LEGACY_EXCEPTION_CODES.get(b)
            if legacy is not None:
                raise MalformedError(
                    "illegal opcode %02x (%s): legacy exception handling is not supported"
                    " (Wasm 3.0 uses try_table and throw_ref)" % (b, legacy), start)
            raise _illegal_opcode(data, pos, b, start)
        else:
            # Prefixed instructions: 0xFB / 0xFC / 0xFD, then a u32 sub-opcode (spec 5.4).
            sub = data[pos]
            if sub < 0x80:
                pos += 1
            else:
                sub, pos = read_uleb(data, pos, 32)
            entry = _PREFIX_TABLES[kind].get(sub)
            if entry is None:
                raise MalformedError("illegal opcode %02x %02x" % (b, sub), start)
            if kind == K_PREFIX_FB:
                pos = _gc_prefixed(data, pos, start, entry, sub, append, state)
            else:
                pos = _prefixed(data, pos, start, entry, append, state)


def _blocktype(data: bytes, pos: int) -> Tuple[object, int]:
    bt = data[pos]
    if bt == 0x40:
        return None, pos + 1
    if bt & 0xC0 == 0x40:
        return _valtype(data, pos)
    tpos = pos
    type_index, pos = read_sleb(data, pos, 33)
    if type_index < 0:
        raise MalformedError("malformed block type", tpos)
    return type_index, pos


def _try_table(data: bytes, pos: int) -> Tuple[object, int]:
    """try_table's immediates (spec 5.4.1): a block type and a vector of catch clauses
    (0x00 catch x l, 0x01 catch_ref x l, 0x02 catch_all l, 0x03 catch_all_ref l)."""
    bt, pos = _blocktype(data, pos)
    n, pos = _len32(data, pos)
    catches = []
    for _ in range(n):
        code = data[pos]
        if code > 3:
            raise MalformedError("malformed catch clause", pos)
        pos += 1
        tag: Optional[int] = None
        if code < 2:
            tag, pos = _u32(data, pos)
        label, pos = _u32(data, pos)
        catches.append((_opc.CATCH_KINDS[code], tag, label))
    return (bt, tuple(catches)), pos


def _memidx(data: bytes, pos: int, multi_memory: bool) -> Tuple[int, int]:
    """A memory index of memory.size/grow/fill/copy/init: a u32 with multi-memory, else
    Wasm 2.0's reserved zero byte. Returns (new position, index)."""
    if multi_memory:
        x, pos = _u32(data, pos)
        return pos, x
    if data[pos] != 0:
        raise MalformedError("zero byte expected", pos)
    return pos + 1, 0


def _prefixed(data: bytes, pos: int, start: int, entry: Tuple[str, int],
              append: Callable[[Instr], None], state: _CodeState) -> int:
    """Decode the immediates of a 0xFC/0xFD instruction (kept out of the hot loop)."""
    name, kind = entry
    n = len(data)
    multi_memory = state.multi_memory
    if kind == K_NONE:
        append(Instr(name, None, start))
    elif kind == K_IDX:
        x, pos = _u32(data, pos)
        append(Instr(name, x, start))
    elif kind == K_MEMARG or kind == K_MEMARG_LANE:
        imm, pos = read_memarg(data, pos, multi_memory, state.offset_bits)
        if kind == K_MEMARG:
            append(Instr(name, imm, start))
        else:
            lane = data[pos]
            pos += 1
            append(Instr(name, (imm, lane), start))
    elif kind == K_V128:
        if pos + 16 > n:
            raise MalformedError(_EOF, n)
        append(Instr(name, int.from_bytes(data[pos:pos + 16], "little"), start))
        pos += 16
    elif kind == K_SHUFFLE:
        if pos + 16 > n:
            raise MalformedError(_EOF, n)
        append(Instr(name, tuple(data[pos:pos + 16]), start))
        pos += 16
    elif kind == K_LANE:
        lane = data[pos]
        append(Instr(name, lane, start))
        pos += 1
    elif kind == K_ZERO:          # memory.fill
        pos, x = _memidx(data, pos, multi_memory)
        append(Instr(name, x, start))
    elif kind == K_MEMORY_COPY:   # destination, then source
        pos, dst = _memidx(data, pos, multi_memory)
        pos, src = _memidx(data, pos, multi_memory)
        append(Instr(name, (dst, src), start))
    elif kind == K_MEMORY_INIT:
        x, pos = _u32(data, pos)
        pos, mem = _memidx(data, pos, multi_memory)
        append(Instr(name, (x, mem), start))
        state.uses_data_count = True
    elif kind == K_DATA:          # data.drop
        x, pos = _u32(data, pos)
        append(Instr(name, x, start))
        state.uses_data_count = True
    elif kind == K_TABLE_INIT:    # elem index, then table index
        y, pos = _u32(data, pos)
        x, pos = _u32(data, pos)
        append(Instr(name, (y, x), start))
    elif kind == K_TABLE_COPY:    # destination, then source
        x, pos = _u32(data, pos)
        y, pos = _u32(data, pos)
        append(Instr(name, (x, y), start))
    else:  # pragma: no cover - every kind of the opcode table is handled above
        raise MalformedError("illegal opcode", start)
    return pos


def _gc_prefixed(data: bytes, pos: int, start: int, entry: Tuple[str, int], sub: int,
                 append: Callable[[Instr], None], state: _CodeState) -> int:
    """Decode the immediates of a 0xFB (GC) instruction (spec 3.0 5.4.2)."""
    name, kind = entry
    if kind == K_NONE:
        append(Instr(name, None, start))
    elif kind == K_IDX:
        x, pos = _u32(data, pos)
        append(Instr(name, x, start))
    elif kind == K_TYPE2 or kind == K_TYPE_DATA:
        x, pos = _u32(data, pos)
        y, pos = _u32(data, pos)
        append(Instr(name, (x, y), start))
        if kind == K_TYPE_DATA:
            state.uses_data_count = True
    elif kind == K_CAST:
        heap, pos = _heaptype(data, pos)
        append(Instr(name, RefType(sub in _opc.GC_NULLABLE_CODES, heap), start))  # type: ignore[arg-type]
    elif kind == K_BR_ON_CAST:
        flags = data[pos]
        if flags > 3:
            raise MalformedError("malformed br_on_cast flags", pos)
        label, pos = _u32(data, pos + 1)
        h1, pos = _heaptype(data, pos)
        h2, pos = _heaptype(data, pos)
        append(Instr(name, (label, RefType(bool(flags & 1), h1),  # type: ignore[arg-type]
                            RefType(bool(flags & 2), h2)), start))  # type: ignore[arg-type]
    else:  # pragma: no cover - every GC kind is handled above
        raise MalformedError("illegal opcode", start)
    return pos


# --- Sections (spec 5.5) -------------------------------------------------------------------

class LazyFunc(Func):
    """A function whose body is decoded from the module's bytes on first use.

    Only for a module already decoded and validated once (a compiled-code cache hit,
    compile/cache.py): its bodies are known to be well-formed, and most functions of a
    large program are never called, or are already compiled, so never decoded again."""

    def __init__(self, type_index: int, locals: List[str], data: bytes,  # noqa: A002
                 expr_start: int, offset: int) -> None:
        self.type_index = type_index
        self.locals = locals
        self.offset = offset
        self._data = data
        self._expr_start = expr_start
        self._body: Optional[List[Instr]] = None

    @property
    def body(self) -> List[Instr]:
        body = self._body
        if body is None:
            body = self._body = decode_expr(self._data, self._expr_start)[0]
        return body

    @body.setter
    def body(self, value: List[Instr]) -> None:
        self._body = value


class _Decoder:
    def __init__(self, data: bytes, features: Optional[Collection[str]] = None,
                 lazy_bodies: bool = False) -> None:
        self.data = data
        self.lazy_bodies = lazy_bodies
        self.module = Module()
        self.func_type_indices: List[int] = []
        self.code_count = 0
        self.state = _CodeState(features)
        self.memory64 = self.state.offset_bits == 64
        self.typed = self.state.typed_refs
        self.seen_name_section = False

    def run(self) -> Module:
        data = self.data
        n = len(data)
        if n < 4:
            raise MalformedError("unexpected end", n)
        _check_limit(n, MAX_MODULE_SIZE, "bytes in a module", 0)
        if data[:4] != MAGIC:
            raise MalformedError("magic header not detected", 0)
        if n < 8:
            raise MalformedError("unexpected end", n)
        if data[4:8] != VERSION:
            raise MalformedError("unknown binary version", 4)
        pos = 8
        last_rank = 0
        m = self.module
        while pos < n:
            sid = data[pos]
            if (sid not in RANK and sid != Section.CUSTOM) or \
                    (sid == Section.TAG and not self.state.exceptions):
                raise MalformedError("malformed section id", pos)
            if sid != Section.CUSTOM:
                rank = RANK[sid]
                if rank <= last_rank:
                    # Out of order or repeated: the reference interpreter has finished
                    # reading the sections in order and finds bytes left over.
                    raise MalformedError("unexpected content after last section", pos)
                last_rank = rank
            size, p = _len32(data, pos + 1)
            end = p + size
            p = self.section(sid, p, end)
            if p != end:
                raise MalformedError("section size mismatch", p)
            pos = end
        # Checks on the module as a whole, in the reference interpreter's order
        # (spec 5.5.16: function and code sections pair up; 5.5.15: data count).
        if len(self.func_type_indices) != self.code_count:
            raise MalformedError("function and code section have inconsistent lengths", n)
        if m.data_count is not None and m.data_count != len(m.datas):
            raise MalformedError(
                "data count and data section have inconsistent lengths", n)
        if m.data_count is None and self.state.uses_data_count:
            raise MalformedError("data count section required", n)
        return m

    def section(self, sid: int, pos: int, end: int) -> int:
        data = self.data
        m = self.module
        if sid == Section.CUSTOM:
            return self.custom(pos, end)
        if sid == Section.TYPE:
            count, pos = _len32(data, pos)
            _check_limit(count, MAX_TYPES, "types", pos)
            for _ in range(count):
                pos = self.rectype(pos)
        elif sid == Section.IMPORT:
            count, pos = _len32(data, pos)
            _check_limit(count, MAX_IMPORTS, "imports", pos)
            for _ in range(count):
                modname, pos = _name(data, pos)
                name, pos = _name(data, pos)
                kind = data[pos]
                pos += 1
                desc: ImportDesc
                if kind == 0:
                    desc, pos = _u32(data, pos)
                elif kind == 1:
                    desc, pos = self.tabletype(pos)
                elif kind == 2:
                    desc, pos = self.memtype(pos)
                elif kind == 3:
                    desc, pos = _globaltype(data, pos, self.typed)
                elif kind == 4 and self.state.exceptions:
                    desc, pos = self.tagtype(pos)
                else:
                    raise MalformedError("malformed import kind", pos - 1)
                m.imports.append(Import(modname, name, _EXTERN_KINDS[kind], desc))
        elif sid == Section.FUNCTION:
            count, pos = _len32(data, pos)
            _check_limit(count + self.imported(FUNC), MAX_FUNCTIONS, "functions", pos)
            for _ in range(count):
                x, pos = _u32(data, pos)
                self.func_type_indices.append(x)
        elif sid == Section.TABLE:
            count, pos = _len32(data, pos)
            _check_limit(count + self.imported(TABLE), MAX_TABLES, "tables", pos)
            for _ in range(count):
                if data[pos] == 0x40 and self.typed:
                    # A table with an initialiser (spec 3.0 5.5.6): 0x40 0x00 tt expr.
                    if data[pos + 1] != 0x00:
                        raise MalformedError("malformed table", pos + 1)
                    tt, pos = self.tabletype(pos + 2)
                    init, pos = decode_expr(data, pos, self.state)
                    m.table_inits[len(m.tables)] = init
                else:
                    tt, pos = self.tabletype(pos)
                m.tables.append(tt)
        elif sid == Section.MEMORY:
            count, pos = _len32(data, pos)
            for _ in range(count):
                mt, pos = self.memtype(pos)
                m.mems.append(mt)
        elif sid == Section.GLOBAL:
            count, pos = _len32(data, pos)
            _check_limit(count + self.imported(GLOBAL), MAX_GLOBALS, "globals", pos)
            for _ in range(count):
                gt, pos = _globaltype(data, pos, self.typed)
                init, pos = decode_expr(data, pos, self.state)
                m.globals.append(Global(gt, init))
        elif sid == Section.EXPORT:
            count, pos = _len32(data, pos)
            _check_limit(count, MAX_EXPORTS, "exports", pos)
            for _ in range(count):
                name, pos = _name(data, pos)
                kind = data[pos]
                if kind > (4 if self.state.exceptions else 3):
                    raise MalformedError("malformed export kind", pos)
                x, pos = _u32(data, pos + 1)
                m.exports.append(Export(name, _EXTERN_KINDS[kind], x))
        elif sid == Section.START:
            m.start, pos = _u32(data, pos)
        elif sid == Section.ELEMENT:
            count, pos = _len32(data, pos)
            _check_limit(count, MAX_ELEM_SEGMENTS, "element segments", pos)
            for _ in range(count):
                elem, pos = self.elem(pos)
                m.elems.append(elem)
        elif sid == Section.DATA_COUNT:
            m.data_count, pos = _u32(data, pos)
        elif sid == Section.TAG:
            count, pos = _len32(data, pos)
            for _ in range(count):
                tag, pos = self.tagtype(pos)
                m.tags.append(tag)
        elif sid == Section.CODE:
            pos = self.code(pos)
        elif sid == Section.DATA:
            count, pos = _len32(data, pos)
            _check_limit(count, MAX_DATA_SEGMENTS, "data segments", pos)
            for _ in range(count):
                seg, pos = self.data_segment(pos)
                m.datas.append(seg)
        return pos

    def imported(self, kind: str) -> int:
        return sum(1 for imp in self.module.imports if imp.kind == kind)

    def rectype(self, pos: int) -> int:
        """One recursion group of the type section (spec 3.0 5.3.9-5.3.10): 0x4E vec(sub)
        or a lone subtype; appends its types to ``Module.types``."""
        data = self.data
        types = self.module.types
        if data[pos] == _GC_REC:
            size, pos = _len32(data, pos + 1)
            _check_limit(len(types) + size, MAX_TYPES, "types", pos)
        else:
            size = 1
        for k in range(size):
            final = True
            supers: Tuple[int, ...] = ()
            b = data[pos]
            if b == _GC_SUB or b == _GC_SUB_FINAL:
                final = b == _GC_SUB_FINAL
                n, pos = _len32(data, pos + 1)
                _check_limit(n, MAX_TYPES, "supertypes", pos)
                out = []
                for _ in range(n):
                    x, pos = _u32(data, pos)
                    out.append(x)
                supers = tuple(out)
            t, pos = self.comptype(pos, final, supers, (k, size))
            types.append(t)
        return pos

    def comptype(self, pos: int, final: bool, supers: Tuple[int, ...],
                 rec: Tuple[int, int]) -> Tuple[DefType, int]:
        """A composite type (spec 3.0 5.3.8): func, struct or array."""
        data = self.data
        b = data[pos]
        if b == 0x60:
            params, pos = self.valtypes(pos + 1, MAX_PARAMS, "parameters")
            results, pos = self.valtypes(pos, MAX_RESULTS, "results")
            return FuncType(params, results, final, supers, rec), pos
        if b == _GC_STRUCT:
            n, pos = _len32(data, pos + 1)
            _check_limit(n, MAX_STRUCT_FIELDS, "struct fields", pos)
            fields = []
            for _ in range(n):
                f, pos = self.fieldtype(pos)
                fields.append(f)
            return StructType(tuple(fields), final, supers, rec), pos
        if b == _GC_ARRAY:
            f, pos = self.fieldtype(pos + 1)
            return ArrayType(f, final, supers, rec), pos
        raise _bad_type_byte(b, pos, "malformed function type" if b >= 0x5E or b < 0x4E
                             else "malformed type")

    def fieldtype(self, pos: int) -> Tuple[FieldType, int]:
        """A field type (spec 3.0 5.3.7): a storage type (value type, or i8 0x78 / i16
        0x77) and its mutability (0x00 const, 0x01 var)."""
        data = self.data
        b = data[pos]
        if b in _PACKED_BY_BYTE:
            storage, pos = _PACKED_BY_BYTE[b], pos + 1
        else:
            storage, pos = _valtype(data, pos, self.typed)
        mut = data[pos]
        if mut > 1:
            raise MalformedError("malformed mutability", pos)
        return FieldType(storage, mut == 1), pos + 1

    def valtypes(self, pos: int, maximum: int, what: str) -> Tuple[Tuple[str, ...], int]:
        data = self.data
        count, pos = _len32(data, pos)
        _check_limit(count, maximum, what, pos)
        out = []
        for _ in range(count):
            t, pos = _valtype(data, pos, self.typed)
            out.append(t)
        return tuple(out), pos

    def tabletype(self, pos: int) -> Tuple[TableType, int]:
        t, pos = _reftype(self.data, pos, self.typed)
        start = pos
        lim, flags, pos = _limits(self.data, pos, self.memory64)
        if flags & _LIMITS_SHARED:
            raise MalformedError("malformed limits flags", start)
        # No size limit here: a table's initial size is a property of the module, valid at
        # any size (the 3.0 testsuite defines tables of 2^32-1 and 2^64-1 elements without
        # instantiating them, and wasmtime compiles such modules too). Nothing is allocated
        # before instantiation, which the store's table limit bounds (docs/SECURITY.md).
        return TableType(t, lim, "i64" if flags & _LIMITS_64 else "i32"), pos

    def tagtype(self, pos: int) -> Tuple[TagType, int]:
        """A tag type (spec 5.3.10): the attribute 0x00 (exception), a type index."""
        if self.data[pos] != 0x00:
            raise MalformedError("malformed tag attribute", pos)
        x, pos = _u32(self.data, pos + 1)
        return TagType(x), pos

    def memtype(self, pos: int) -> Tuple[MemoryType, int]:
        lim, flags, pos = _limits(self.data, pos, self.memory64)
        return MemoryType(lim, bool(flags & _LIMITS_SHARED),
                          "i64" if flags & _LIMITS_64 else "i32"), pos

    def elem(self, pos: int) -> Tuple[Elem, int]:
        """One element segment (spec 5.5.12): the flags select the mode, whether a table
        index and an element kind/type are present, and indices vs expressions."""
        data = self.data
        fpos = pos
        flags, pos = _u32(data, pos)
        if flags > 7:
            raise MalformedError("malformed elements segment kind", fpos)
        mode = ACTIVE if not flags & 1 else (DECLARATIVE if flags & 2 else PASSIVE)
        table = 0
        offset = None
        if mode == ACTIVE:
            if flags & 2:
                table, pos = _u32(data, pos)
            offset, pos = decode_expr(data, pos, self.state)
        # Function indices are (ref func) in Wasm 3.0 (spec 5.5.12); funcref in 2.0.
        rtype: str = FUNCREF if flags & 4 or not self.typed else _REF_FUNC
        if flags & 3:                     # an explicit element kind or type follows
            if flags & 4:
                rtype, pos = _reftype(data, pos, self.typed)
            else:
                if data[pos] != 0x00:
                    raise MalformedError("malformed element kind", pos)
                pos += 1
        count, pos = _len32(data, pos)
        init: List[List[Instr]] = []
        if flags & 4:
            for _ in range(count):
                e, pos = decode_expr(data, pos, self.state)
                init.append(e)
        else:
            for _ in range(count):
                ipos = pos
                x, pos = _u32(data, pos)
                init.append([Instr("ref.func", x, ipos), Instr("end", None, None)])
        return Elem(rtype, init, mode, table, offset), pos

    def data_segment(self, pos: int) -> Tuple[Data, int]:
        data = self.data
        fpos = pos
        flags, pos = _u32(data, pos)
        if flags > 2:
            raise MalformedError("malformed data segment kind", fpos)
        mem = 0
        offset = None
        if flags == 2:
            mem, pos = _u32(data, pos)
        if flags != 1:
            offset, pos = decode_expr(data, pos, self.state)
        init, pos = _bytes(data, pos)
        return Data(init, PASSIVE if flags == 1 else ACTIVE, mem, offset), pos

    def code(self, pos: int) -> int:
        data = self.data
        count, pos = _len32(data, pos)
        funcs = self.module.funcs
        types = self.func_type_indices
        state = self.state
        _check_limit(count + self.imported(FUNC), MAX_FUNCTIONS, "functions", pos)
        for i in range(count):
            size, pos = _len32(data, pos)
            _check_limit(size, MAX_FUNCTION_SIZE, "bytes in a function body", pos)
            body_start = pos
            body_end = pos + size
            nentries, pos = _len32(data, pos)
            locals_: List[str] = []
            total = 0
            decls = []
            for _ in range(nentries):
                c, pos = _u32(data, pos)
                t, pos = _valtype(data, pos, self.typed)
                total += c
                decls.append((c, t))
            if total >= 1 << 32:
                raise MalformedError("too many locals", body_start)
            if total > MAX_LOCALS:
                raise MalformedError("too many locals (implementation limit exceeded: %d "
                                     "locals, the limit is %d)" % (total, MAX_LOCALS),
                                     body_start)
            for c, t in decls:
                locals_.extend([t] * c)
            if self.lazy_bodies:
                type_index = types[i] if i < len(types) else 0
                funcs.append(LazyFunc(type_index, locals_, data, pos, body_start))
                pos = body_end
                continue
            body, pos = decode_expr(data, pos, state)
            if pos != body_end:
                raise MalformedError("section size mismatch", pos)
            type_index = types[i] if i < len(types) else 0
            funcs.append(Func(type_index, locals_, body, body_start))
        self.code_count = count
        return pos

    def custom(self, pos: int, end: int) -> int:
        data = self.data
        name, p = _name(data, pos)
        if p > end or end > len(data):
            raise MalformedError(_EOF, min(end, len(data)))
        payload = data[p:end]
        if name == "name" and not self.seen_name_section:
            # The first name section also stays in ``customs`` (its raw bytes keep the
            # subsections Names has no field for; the encoder reuses them unchanged).
            self.seen_name_section = True
            names = decode_name_section(payload)
            if names is not None:
                self.module.names = names
        self.module.customs.append(CustomSection(name, payload))
        return end


def decode_name_section(payload: bytes) -> Optional[Names]:
    """Decode the contents of a ``name`` custom section (spec 7.4.1), or return None if
    they are malformed: custom section contents never make a module malformed."""
    names = Names()
    pos = 0
    n = len(payload)
    last_id = -1
    try:
        while pos < n:
            sid = payload[pos]
            size, pos = _len32(payload, pos + 1)
            end = pos + size
            if sid <= last_id:    # subsections appear at most once, in order
                return None
            last_id = sid
            if sid == 0:
                names.module, pos = _name(payload, pos)
            elif sid == 1:
                names.funcs, pos = _name_map(payload, pos)
            elif sid == 2:
                count, pos = _len32(payload, pos)
                for _ in range(count):
                    f, pos = _u32(payload, pos)
                    if f in names.locals:
                        return None
                    names.locals[f], pos = _name_map(payload, pos)
            else:
                pos = end         # other subsections (labels, types, ...) are not kept
            if pos != end:
                return None
    except (MalformedError, IndexError):
        return None
    return names


def _name_map(data: bytes, pos: int) -> Tuple[Dict[int, str], int]:
    count, pos = _len32(data, pos)
    out: Dict[int, str] = {}
    for _ in range(count):
        idx, pos = _u32(data, pos)
        if idx in out:
            raise MalformedError("duplicate index in name map", pos)
        out[idx], pos = _name(data, pos)
    return out, pos


def decode_module(data: bytes, features: Optional[Collection[str]] = None,
                  lazy_bodies: bool = False) -> Module:
    """Decode a binary module (spec 5.5.16). Raises :class:`MalformedError` (with the byte
    ``offset``) for every input the spec calls malformed, and for no other reason.

    ``features``: the Wasm 3.0 proposals whose encodings are read (None: all of them;
    ``opcodes.WASM2_FEATURES``: Wasm 2.0's, e.g. a zero byte where 3.0 reads a memory
    index).
    ``lazy_bodies``: function bodies are decoded on first use (:class:`LazyFunc`), and
    not checked now: only for bytes already decoded and validated (the compiled-code
    cache's hits; a body decoded later is read with every feature, a superset that reads
    validated bytes the same way)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    try:
        return _Decoder(data, features, lazy_bodies).run()
    except IndexError:
        raise MalformedError(_EOF, len(data)) from None
    except RecursionError:  # pragma: no cover - nothing here recurses per input byte
        raise MalformedError("module too deeply nested") from None
