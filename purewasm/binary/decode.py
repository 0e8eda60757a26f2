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

from typing import Collection, Dict, List, Optional, Tuple

from .. import opcodes as _opc
from ..errors import MalformedError, UnsupportedProposalError
from .immediates import CAST_NULLABLE, CODECS, Codec, CodeState
from .leb128 import read_len32, read_u32, read_uleb
from .sections import RANK, Section
from .types import (
    VALTYPE_BY_BYTE, bad_type_byte, read_reftype, read_valtype,
)
from ..syntax import (
    ACTIVE, DECLARATIVE, FUNC, FUNCREF, GLOBAL, MEMORY, PASSIVE, TABLE, TAG, TagType,
    ArrayType, CustomSection, Data, DefType, Elem, FieldType, StructType,
    Export, Func, FuncType, Global, GlobalType, Import, ImportDesc,
    Instr,
    Limits, MemoryType, Module, Names, TableType,
)
from ..syntax.types import RefType

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

_REF_FUNC = RefType(False, "func")
# The GC proposal's type section forms (spec 3.0 5.3.7-5.3.10).
_GC_REC, _GC_SUB, _GC_SUB_FINAL, _GC_STRUCT, _GC_ARRAY = 0x4E, 0x50, 0x4F, 0x5F, 0x5E
_PACKED_BY_BYTE = {0x78: "i8", 0x77: "i16"}

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
MAX_ELEM_SEGMENTS = 100_000        # wasmparser's (the JS API allows 10,000,000: 2,000,000
                                   # empty segments took 11 s and 565 MB to load here)
MAX_TABLES = 100_000
MAX_PARAMS = 1_000
MAX_RESULTS = 1_000
MAX_FUNCTION_SIZE = 7_654_321      # bytes of one function body


def _check_limit(count: int, maximum: int, what: str, pos: Optional[int]) -> None:
    if count > maximum:
        raise MalformedError("implementation limit exceeded: %d %s (the limit is %d)"
                             % (count, what, maximum), pos)

def check_limits(module: Module) -> None:
    """The implementation limits above, for a module that did not come from a binary (the
    text format): the same module must not be accepted as text and refused as a binary.
    A text module has already been built by then, but the text is as long as what it
    built, so no count here is amplified beyond its source."""
    def limit(count: int, maximum: int, what: str) -> None:
        _check_limit(count, maximum, what, None)

    limit(len(module.types), MAX_TYPES, "types")
    for t in module.types:
        if isinstance(t, FuncType):
            limit(len(t.params), MAX_PARAMS, "parameters")
            limit(len(t.results), MAX_RESULTS, "results")
        elif isinstance(t, StructType):
            limit(len(t.fields), MAX_STRUCT_FIELDS, "struct fields")
    kinds = [imp.kind for imp in module.imports]
    limit(len(module.imports), MAX_IMPORTS, "imports")
    limit(kinds.count(FUNC) + len(module.funcs), MAX_FUNCTIONS, "functions")
    limit(kinds.count(GLOBAL) + len(module.globals), MAX_GLOBALS, "globals")
    limit(kinds.count(TABLE) + len(module.tables), MAX_TABLES, "tables")
    limit(len(module.exports), MAX_EXPORTS, "exports")
    limit(len(module.datas), MAX_DATA_SEGMENTS, "data segments")
    limit(len(module.elems), MAX_ELEM_SEGMENTS, "element segments")
    for func in module.funcs:
        if len(func.locals) > MAX_LOCALS:
            raise MalformedError("too many locals (implementation limit exceeded: %d "
                                 "locals, the limit is %d)" % (len(func.locals), MAX_LOCALS))


_EXTERN_KINDS = (FUNC, TABLE, MEMORY, GLOBAL, TAG)


_EOF = "unexpected end of section or function"
# i32, i64, f32, f64 and v128 by their byte: value types read in one look-up.
_NUMERIC_BY_BYTE = {b: VALTYPE_BY_BYTE[b] for b in (0x7F, 0x7E, 0x7D, 0x7C, 0x7B)}

# --- Instruction dispatch tables -------------------------------------------------------
# What the hot loop does with each opcode byte, as small ints (it compares ints, not
# strings): the commonest immediate kinds are read inline (their short forms; the long
# forms and every other kind go through the kind's codec, binary/immediates.py), and
# the block structure is tracked.
(K_NONE, K_IDX, K_I32, K_I64, K_MEMARG, K_BLOCK, K_END, K_ELSE, K_CODEC, K_OPEN_CODEC,
 K_PREFIX_FC, K_PREFIX_FD, K_ILLEGAL, K_PREFIX_FB) = range(14)

_INDEX_KINDS = frozenset((_opc.LABEL, _opc.FUNC, _opc.LOCAL, _opc.GLOBAL, _opc.TABLE,
                          _opc.ELEM, _opc.TYPE, _opc.TAG))
_INLINE_KIND = {_opc.NONE: K_NONE, _opc.CONST_I32: K_I32, _opc.CONST_I64: K_I64,
                _opc.MEMARG: K_MEMARG, _opc.BLOCKTYPE: K_BLOCK}
_INLINE_KIND.update((kind, K_IDX) for kind in _INDEX_KINDS)

# A prefixed instruction: (name, codec).
_Entry = Tuple[str, Codec]


def _build_tables() -> Tuple[List[Optional[_Entry]], List[int], Dict[int, _Entry],
                             Dict[int, _Entry], Dict[int, _Entry]]:
    one: List[Optional[_Entry]] = [None] * 256
    kinds = [K_ILLEGAL] * 256
    fc: Dict[int, _Entry] = {}
    fd: Dict[int, _Entry] = {}
    fb: Dict[int, _Entry] = {}
    for info in _opc.OPS:
        entry = (info.name, CODECS[info.imm])
        if info.prefix is None:
            one[info.code] = entry
            if info.closes_block:
                kinds[info.code] = K_END
            elif info.is_else:
                kinds[info.code] = K_ELSE
            elif info.opens_block and info.imm != _opc.BLOCKTYPE:
                kinds[info.code] = K_OPEN_CODEC       # try_table
            else:
                kinds[info.code] = _INLINE_KIND.get(info.imm, K_CODEC)
        elif info.prefix == 0xFC:
            fc[info.code] = entry
        elif info.prefix == 0xFD:
            fd[info.code] = entry
        elif info.prefix == 0xFB:
            fb[info.code] = entry
    for code, name in _opc.GC_NULLABLE_CODES.items():   # ref.test/ref.cast (ref null ht)
        fb[code] = (name, CAST_NULLABLE)
    kinds[0xFC] = K_PREFIX_FC
    kinds[0xFD] = K_PREFIX_FD
    kinds[0xFB] = K_PREFIX_FB
    return one, kinds, fc, fd, fb


_OP1, _KINDS1, _OPFC, _OPFD, _OPFB = _build_tables()
_PREFIX_TABLES = {K_PREFIX_FC: _OPFC, K_PREFIX_FD: _OPFD, K_PREFIX_FB: _OPFB}
# The one-byte table split in lists the hot loop indexes directly.
_NAMES1: List[str] = [e[0] if e is not None else "" for e in _OP1]
# (Bytes with no instruction are K_ILLEGAL: their codec, no immediate, is never used.)
_CODECS1: List[Codec] = [e[1] if e is not None else CODECS[_opc.NONE] for e in _OP1]
# Without exception handling (Wasm 2.0) its opcodes are illegal, as the 2.0 suite asserts.
_KINDS1_NO_EXCEPTIONS: List[int] = [
    K_ILLEGAL if e is not None and _opc.BY_NAME[e[0]].proposal == "exceptions" else k
    for e, k in zip(_OP1, _KINDS1)]


_IF_CODE = _opc.BY_NAME["if"].code
# What decode_expr's stack of open constructs holds (only an open "if" accepts "else").
_OPEN_BLOCK, _OPEN_IF, _OPEN_ELSE = 0, 1, 2


def _bytes(data: bytes, pos: int) -> Tuple[bytes, int]:
    n, pos = read_len32(data, pos)
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
        lo, pos = read_u32(data, pos)
        hi: Optional[int] = None
        if flag:
            hi, pos = read_u32(data, pos)
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
    t, pos = read_valtype(data, pos, typed)
    m = data[pos]
    if m > 1:
        raise MalformedError("malformed mutability", pos)
    return GlobalType(t, m == 1), pos + 1


# --- Instructions (spec 5.4) -------------------------------------------------------------

def decode_expr(data: bytes, pos: int, state: Optional[CodeState] = None
                ) -> Tuple[List[Instr], int]:
    """Decode instructions at ``pos`` up to and including the ``end`` that closes the
    expression; return (flat instruction list, position after that ``end``). ``state``
    carries the features (None: all) and collects what the module as a whole needs."""
    if state is None:
        state = CodeState()
    out: List[Instr] = []
    append = out.append
    names = _NAMES1
    codecs = _CODECS1
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
        # Branches ordered by how often real code uses each kind. The inline reads are
        # the one-byte forms of the kind's codec; longer forms go to the codec.
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
            if x < 0x80:      # a one-byte s32, sign-extended: the codec's short form
                pos += 1
                if x & 0x40:
                    x |= 0xFFFFFF80
            else:
                x, pos = codecs[b].read(data, pos, state)
            append(I("i32.const", x, start))
        elif kind == K_MEMARG:
            a = data[pos]
            o = data[pos + 1]
            if a < 32 and o < 0x80:
                # Memory 0, one-byte alignment and offset: binary/memarg.py's short form.
                pos += 2
                append(I(names[b], (a, o, 0), start))
            else:
                imm, pos = codecs[b].read(data, pos, state)
                append(I(names[b], imm, start))
        elif kind == K_BLOCK:
            if data[pos] == 0x40:     # the empty block type
                btype = None
                pos += 1
            else:
                btype, pos = codecs[b].read(data, pos, state)
            append(I(names[b], btype, start))
            push(_OPEN_IF if b == _IF_CODE else _OPEN_BLOCK)
        elif kind == K_I64:
            x = data[pos]
            if x < 0x80:
                pos += 1
                if x & 0x40:
                    x |= 0xFFFFFFFFFFFFFF80
            else:
                x, pos = codecs[b].read(data, pos, state)
            append(I("i64.const", x, start))
        elif kind == K_ELSE:
            if not ctl or ctl[-1] != _OPEN_IF:
                raise MalformedError("END opcode expected", start)
            ctl[-1] = _OPEN_ELSE
            append(I("else", None, start))
        elif kind == K_CODEC:
            imm, pos = codecs[b].read(data, pos, state)
            append(I(names[b], imm, start))
        elif kind == K_OPEN_CODEC:    # try_table
            imm, pos = codecs[b].read(data, pos, state)
            append(I(names[b], imm, start))
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
            name, codec = entry
            imm, pos = codec.read(data, pos, state)
            append(I(name, imm, start))


# --- Sections (spec 5.5) -------------------------------------------------------------------

class LazyFunc(Func):
    """A function whose body is decoded from the module's bytes on first use.

    For a module already validated once (a compiled-code cache hit, compile/cache.py), or
    being validated straight from the bytes (validate/stream.py): most functions of a
    large program are never called, or are already compiled, so never decoded into
    instruction objects at all. ``code[expr_start:expr_end]`` are the body's instructions
    (after the locals), read with the features of ``state``. ``locals`` None: the local
    declarations (at ``offset``) are read on first use too (a cache hit: bytes validated
    before, so they cannot be malformed)."""

    def __init__(self, type_index: int, locals: Optional[List[str]], data: bytes,  # noqa: A002
                 expr_start: int, offset: int, expr_end: int = -1,
                 state: Optional[CodeState] = None) -> None:
        self.type_index = type_index
        self._locals = locals
        self.offset = offset
        self._decls_at = offset    # where the local declarations start
        self.code = data
        self._expr_start = expr_start
        self.expr_end = expr_end
        self.state = state
        self._body: Optional[List[Instr]] = None

    def _read_locals(self) -> List[str]:
        typed = self.state.typed_refs if self.state is not None else True
        self._locals, self._expr_start = read_locals(self.code, self._decls_at, typed)
        return self._locals

    @property
    def locals(self) -> List[str]:
        found = self._locals
        return found if found is not None else self._read_locals()

    @locals.setter
    def locals(self, value: List[str]) -> None:
        self._locals = value

    @property
    def expr_start(self) -> int:
        if self._locals is None:
            self._read_locals()
        return self._expr_start

    @property
    def body(self) -> List[Instr]:
        body = self._body
        if body is None:
            body = self._body = decode_expr(self.code, self.expr_start, self.state)[0]
        return body

    @body.setter
    def body(self, value: List[Instr]) -> None:
        self._body = value


def read_locals(data: bytes, pos: int, typed: bool) -> Tuple[List[str], int]:
    """The local declarations of the body at ``pos`` (spec 5.5.13), expanded; and where
    its instructions start. Raises MalformedError for a count over the limits."""
    body_start = pos
    nentries, pos = read_len32(data, pos)
    total = 0
    decls = []
    for _ in range(nentries):
        c, pos = read_u32(data, pos)
        t, pos = read_valtype(data, pos, typed)
        total += c
        decls.append((c, t))
    return expand_locals(decls, total, body_start), pos


def expand_locals(decls: List[Tuple[int, str]], total: int, body_start: int) -> List[str]:
    """The locals of ``decls`` ((count, type) pairs adding up to ``total``), one entry
    each, once the count is known to be within the limits (checked before expanding)."""
    if total >= 1 << 32:
        raise MalformedError("too many locals", body_start)
    if total > MAX_LOCALS:
        raise MalformedError("too many locals (implementation limit exceeded: %d "
                             "locals, the limit is %d)" % (total, MAX_LOCALS), body_start)
    out: List[str] = []
    for c, t in decls:
        out.extend([t] * c)
    return out


class _Decoder:
    def __init__(self, data: bytes, features: Optional[Collection[str]] = None,
                 lazy_bodies: bool = False, trusted: bool = False) -> None:
        self.data = data
        self.lazy_bodies = lazy_bodies or trusted
        self.trusted = trusted
        self.module = Module()
        self.func_type_indices: List[int] = []
        self.code_count = 0
        self.state = CodeState(features)
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
            size, p = read_len32(data, pos + 1)
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
            count, pos = read_len32(data, pos)
            _check_limit(count, MAX_TYPES, "types", pos)
            for _ in range(count):
                pos = self.rectype(pos)
        elif sid == Section.IMPORT:
            count, pos = read_len32(data, pos)
            _check_limit(count, MAX_IMPORTS, "imports", pos)
            for _ in range(count):
                modname, pos = _name(data, pos)
                name, pos = _name(data, pos)
                kind = data[pos]
                pos += 1
                desc: ImportDesc
                if kind == 0:
                    desc, pos = read_u32(data, pos)
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
            count, pos = read_len32(data, pos)
            _check_limit(count + self.imported(FUNC), MAX_FUNCTIONS, "functions", pos)
            for _ in range(count):
                x, pos = read_u32(data, pos)
                self.func_type_indices.append(x)
        elif sid == Section.TABLE:
            count, pos = read_len32(data, pos)
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
            count, pos = read_len32(data, pos)
            for _ in range(count):
                mt, pos = self.memtype(pos)
                m.mems.append(mt)
        elif sid == Section.GLOBAL:
            count, pos = read_len32(data, pos)
            _check_limit(count + self.imported(GLOBAL), MAX_GLOBALS, "globals", pos)
            for _ in range(count):
                gt, pos = _globaltype(data, pos, self.typed)
                init, pos = decode_expr(data, pos, self.state)
                m.globals.append(Global(gt, init))
        elif sid == Section.EXPORT:
            count, pos = read_len32(data, pos)
            _check_limit(count, MAX_EXPORTS, "exports", pos)
            for _ in range(count):
                name, pos = _name(data, pos)
                kind = data[pos]
                if kind > (4 if self.state.exceptions else 3):
                    raise MalformedError("malformed export kind", pos)
                x, pos = read_u32(data, pos + 1)
                m.exports.append(Export(name, _EXTERN_KINDS[kind], x))
        elif sid == Section.START:
            m.start, pos = read_u32(data, pos)
        elif sid == Section.ELEMENT:
            count, pos = read_len32(data, pos)
            _check_limit(count, MAX_ELEM_SEGMENTS, "element segments", pos)
            for _ in range(count):
                elem, pos = self.elem(pos)
                m.elems.append(elem)
        elif sid == Section.DATA_COUNT:
            m.data_count, pos = read_u32(data, pos)
        elif sid == Section.TAG:
            count, pos = read_len32(data, pos)
            for _ in range(count):
                tag, pos = self.tagtype(pos)
                m.tags.append(tag)
        elif sid == Section.CODE:
            pos = self.code(pos)
        elif sid == Section.DATA:
            count, pos = read_len32(data, pos)
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
            size, pos = read_len32(data, pos + 1)
            _check_limit(len(types) + size, MAX_TYPES, "types", pos)
        else:
            size = 1
        for k in range(size):
            final = True
            supers: Tuple[int, ...] = ()
            b = data[pos]
            if b == _GC_SUB or b == _GC_SUB_FINAL:
                final = b == _GC_SUB_FINAL
                n, pos = read_len32(data, pos + 1)
                _check_limit(n, MAX_TYPES, "supertypes", pos)
                out = []
                for _ in range(n):
                    x, pos = read_u32(data, pos)
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
            n, pos = read_len32(data, pos + 1)
            _check_limit(n, MAX_STRUCT_FIELDS, "struct fields", pos)
            fields = []
            for _ in range(n):
                f, pos = self.fieldtype(pos)
                fields.append(f)
            return StructType(tuple(fields), final, supers, rec), pos
        if b == _GC_ARRAY:
            f, pos = self.fieldtype(pos + 1)
            return ArrayType(f, final, supers, rec), pos
        raise bad_type_byte(b, pos, "malformed function type" if b >= 0x5E or b < 0x4E
                             else "malformed type")

    def fieldtype(self, pos: int) -> Tuple[FieldType, int]:
        """A field type (spec 3.0 5.3.7): a storage type (value type, or i8 0x78 / i16
        0x77) and its mutability (0x00 const, 0x01 var)."""
        data = self.data
        b = data[pos]
        if b in _PACKED_BY_BYTE:
            storage, pos = _PACKED_BY_BYTE[b], pos + 1
        else:
            storage, pos = read_valtype(data, pos, self.typed)
        mut = data[pos]
        if mut > 1:
            raise MalformedError("malformed mutability", pos)
        return FieldType(storage, mut == 1), pos + 1

    def valtypes(self, pos: int, maximum: int, what: str) -> Tuple[Tuple[str, ...], int]:
        data = self.data
        count, pos = read_len32(data, pos)
        _check_limit(count, maximum, what, pos)
        out = []
        for _ in range(count):
            t, pos = read_valtype(data, pos, self.typed)
            out.append(t)
        return tuple(out), pos

    def tabletype(self, pos: int) -> Tuple[TableType, int]:
        t, pos = read_reftype(self.data, pos, self.typed)
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
        x, pos = read_u32(self.data, pos + 1)
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
        flags, pos = read_u32(data, pos)
        if flags > 7:
            raise MalformedError("malformed elements segment kind", fpos)
        mode = ACTIVE if not flags & 1 else (DECLARATIVE if flags & 2 else PASSIVE)
        table = 0
        offset = None
        if mode == ACTIVE:
            if flags & 2:
                table, pos = read_u32(data, pos)
            offset, pos = decode_expr(data, pos, self.state)
        # Function indices are (ref func) in Wasm 3.0 (spec 5.5.12); funcref in 2.0.
        rtype: str = FUNCREF if flags & 4 or not self.typed else _REF_FUNC
        if flags & 3:                     # an explicit element kind or type follows
            if flags & 4:
                rtype, pos = read_reftype(data, pos, self.typed)
            else:
                if data[pos] != 0x00:
                    raise MalformedError("malformed element kind", pos)
                pos += 1
        count, pos = read_len32(data, pos)
        init: List[List[Instr]] = []
        if flags & 4:
            for _ in range(count):
                e, pos = decode_expr(data, pos, self.state)
                init.append(e)
        else:
            for _ in range(count):
                ipos = pos
                x, pos = read_u32(data, pos)
                init.append([Instr("ref.func", x, ipos), Instr("end", None, None)])
        return Elem(rtype, init, mode, table, offset), pos

    def data_segment(self, pos: int) -> Tuple[Data, int]:
        data = self.data
        fpos = pos
        flags, pos = read_u32(data, pos)
        if flags > 2:
            raise MalformedError("malformed data segment kind", fpos)
        mem = 0
        offset = None
        if flags == 2:
            mem, pos = read_u32(data, pos)
        if flags != 1:
            offset, pos = decode_expr(data, pos, self.state)
        init, pos = _bytes(data, pos)
        return Data(init, PASSIVE if flags == 1 else ACTIVE, mem, offset), pos

    def code(self, pos: int) -> int:
        data = self.data
        count, pos = read_len32(data, pos)
        funcs = self.module.funcs
        types = self.func_type_indices
        state = self.state
        _check_limit(count + self.imported(FUNC), MAX_FUNCTIONS, "functions", pos)
        ndata = len(data)
        typed = self.typed
        trusted = self.trusted
        # Numeric value types read inline (any other goes through read_valtype).
        numeric = _NUMERIC_BY_BYTE
        for i in range(count):
            # Sizes and counts of one or two bytes inline (read_len32 for the others, and
            # for any that runs past the data: it raises the error).
            b = data[pos]
            if b < 0x80 and b <= ndata - pos:
                size = b
                pos += 1
            elif b >= 0x80 and data[pos + 1] < 0x80 and \
                    (b & 0x7F) | data[pos + 1] << 7 <= ndata - pos:
                size = (b & 0x7F) | data[pos + 1] << 7
                pos += 2
            else:
                size, pos = read_len32(data, pos)
                _check_limit(size, MAX_FUNCTION_SIZE, "bytes in a function body", pos)
            body_start = pos
            body_end = pos + size
            if trusted:   # validated before: even the local declarations wait
                funcs.append(LazyFunc(types[i] if i < len(types) else 0, None, data, -1,
                                      body_start, body_end, state))
                pos = body_end
                continue
            b = data[pos]
            if b < 0x80 and b <= ndata - pos:
                nentries = b
                pos += 1
            else:
                nentries, pos = read_len32(data, pos)
            total = 0
            decls = []
            for _ in range(nentries):
                c = data[pos]
                if c < 0x80:
                    pos += 1
                else:
                    c, pos = read_u32(data, pos)
                t = numeric.get(data[pos])
                if t is None:
                    t, pos = read_valtype(data, pos, typed)
                else:
                    pos += 1
                total += c
                decls.append((c, t))
            locals_ = expand_locals(decls, total, body_start)
            if self.lazy_bodies:
                type_index = types[i] if i < len(types) else 0
                funcs.append(LazyFunc(type_index, locals_, data, pos, body_start, body_end,
                                       state))
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
            size, pos = read_len32(payload, pos + 1)
            end = pos + size
            if sid <= last_id:    # subsections appear at most once, in order
                return None
            last_id = sid
            if sid == 0:
                names.module, pos = _name(payload, pos)
            elif sid == 1:
                names.funcs, pos = _name_map(payload, pos)
            elif sid == 2:
                count, pos = read_len32(payload, pos)
                for _ in range(count):
                    f, pos = read_u32(payload, pos)
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
    count, pos = read_len32(data, pos)
    out: Dict[int, str] = {}
    for _ in range(count):
        idx, pos = read_u32(data, pos)
        if idx in out:
            raise MalformedError("duplicate index in name map", pos)
        out[idx], pos = _name(data, pos)
    return out, pos


def decode_module(data: bytes, features: Optional[Collection[str]] = None,
                  lazy_bodies: bool = False, trusted: bool = False) -> Module:
    """Decode a binary module (spec 5.5.16). Raises :class:`MalformedError` (with the byte
    ``offset``) for every input the spec calls malformed, and for no other reason.

    ``features``: the Wasm 3.0 proposals whose encodings are read (None: all of them;
    ``opcodes.WASM2_FEATURES``: Wasm 2.0's, e.g. a zero byte where 3.0 reads a memory
    index).
    ``lazy_bodies``: function bodies are decoded on first use (:class:`LazyFunc`), and
    not checked now: only for bytes already decoded and validated (the compiled-code
    cache's hits; a body decoded later is read with every feature, a superset that reads
    validated bytes the same way).
    ``trusted``: as ``lazy_bodies``, and the bodies' local declarations are read on first
    use as well (bytes known valid: a cache hit)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    try:
        return _Decoder(data, features, lazy_bodies, trusted).run()
    except IndexError:
        raise MalformedError(_EOF, len(data)) from None
    except RecursionError:  # pragma: no cover - nothing here recurses per input byte
        raise MalformedError("module too deeply nested") from None
