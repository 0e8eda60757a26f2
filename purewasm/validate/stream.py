"""Validating a function body straight from its bytes (issue 12, "Start-up and memory").

``decode_and_validate(data)`` is what loading a binary module does: it decodes the module
with its function bodies left as byte ranges (:class:`binary.decode.LazyFunc`), then
validates each body by reading its bytes once, without building instruction objects, and
keeps nothing of it: a body is decoded into instructions only when its function is first
translated. A 25 MB module then validates in a fraction of the time and memory that
decoding every body into Python objects took (docs/benchmarks.md, "Start-up").

Which error a bad module gets does not depend on this: the fast reader here only proves
bodies *valid*. Whatever it does not handle (an instruction outside the common set,
subtyping, a value of unknown type it cannot settle at once) it leaves to the exact path
for that one body (``decode_expr`` + ``validate_func``, then the body is dropped); and
any error at all, malformed or invalid, anywhere, makes :func:`decode_and_validate`
decode and validate the whole module the exact way, which raises the error the spec
suites expect, in the reference interpreter's order (malformed before invalid, first
error first). So the fast reader must never accept what the exact path rejects; it may
reject more (that only costs time).
"""
from __future__ import annotations

from typing import Any, Collection, Dict, FrozenSet, List, Optional, Tuple, cast

from .. import opcodes
from ..binary.decode import LazyFunc, decode_expr, decode_module
from ..binary.immediates import CODECS, MEM_INDEX
from ..binary.leb128 import read_len32, read_sleb, read_u32, read_uleb
from ..binary.memarg import read_memarg
from ..errors import InvalidError, MalformedError, WasmtimeError
from ..syntax import FUNCREF, Func, Module
from ..syntax.types import RefType
from .func import Context, validate_func
from .tables import FIXED, KIND, K_MEMARG


class _Unsure(Exception):
    """The fast reader cannot decide this body (or it is bad): use the exact path."""


# Kinds of the one-byte instructions the fast reader handles, numbered by how often compiled
# C uses each (SQLite -O2: local.get 25%, i32.const 14%, i32 arithmetic ~12%, loads 8%,
# br_if 6%, end 6%, local.set 5%, block 5%, local.tee 4%, stores 5%, call 2% ...): the
# dispatch below tests them in this order. local.get and i32.const are tested first, on
# their opcode byte.
(F_LOAD_I32, F_LOAD, F_STORE, F_MEMARG, F_I32_BINARY, F_BINARY, F_BR_IF, F_END, F_LOCAL_SET,
 F_LOCAL_TEE, F_BLOCK, F_LOOP, F_IF, F_TRY_TABLE, F_I32_UNARY, F_UNARY, F_CALL, F_BR,
 F_I64_CONST, F_DROP, F_SELECT, F_CALL_INDIRECT, F_GLOBAL_SET, F_GLOBAL_GET, F_RETURN, F_ELSE,
 F_F32_CONST, F_F64_CONST, F_FIXED, F_BR_TABLE, F_UNREACHABLE, F_MEMORY_SIZE, F_MEMORY_GROW,
 F_PREFIX_FC, F_THROW, F_NOP, F_LOCAL_GET, F_I32_CONST, F_UNSURE) = range(39)

_BY_NAME = {
    "local.get": F_LOCAL_GET, "local.set": F_LOCAL_SET, "local.tee": F_LOCAL_TEE,
    "global.get": F_GLOBAL_GET, "global.set": F_GLOBAL_SET, "i32.const": F_I32_CONST,
    "i64.const": F_I64_CONST, "f32.const": F_F32_CONST, "f64.const": F_F64_CONST,
    "block": F_BLOCK, "loop": F_LOOP, "if": F_IF, "else": F_ELSE, "end": F_END, "br": F_BR,
    "br_if": F_BR_IF, "br_table": F_BR_TABLE, "return": F_RETURN, "call": F_CALL,
    "call_indirect": F_CALL_INDIRECT, "unreachable": F_UNREACHABLE, "drop": F_DROP,
    "select": F_SELECT, "memory.size": F_MEMORY_SIZE, "memory.grow": F_MEMORY_GROW,
    "try_table": F_TRY_TABLE, "throw": F_THROW, "nop": F_NOP,
}
_TRY_TABLE = CODECS[opcodes.TRY_TABLE]
# The 0xFC instructions handled: the saturating truncations (FIXED) and these two.
_FC_MEMORY_COPY, _FC_MEMORY_FILL = 10, 11
# Kinds that read or change memory 0: with no memory of i32 addresses, left to the exact path.
_MEMORY_KINDS = frozenset((F_LOAD_I32, F_LOAD, F_STORE, F_MEMARG, F_MEMORY_SIZE,
                           F_MEMORY_GROW))

_I32 = ["i32"]
_I32X2 = ["i32", "i32"]
_I32X3 = ["i32", "i32", "i32"]
_EMPTY: List[str] = []
_NUM_VEC = frozenset(("i32", "i64", "f32", "f64", "v128"))
_SELECT_OK = frozenset(("i32", "i64", "f32", "f64", "v128", None))
_EXNREF = [RefType(False, "exn")]
# What the operand stack holds below a block's own values: equal to no type.
_MARK = object()
_U32_LIMIT = 1 << 32
# Block types of one byte: the empty type and the four numeric value types.
_BLOCK_RESULTS: List[Optional[List[str]]] = [None] * 256
_BLOCK_RESULTS[0x40] = _EMPTY
for _code, _t in ((0x7F, "i32"), (0x7E, "i64"), (0x7D, "f32"), (0x7C, "f64")):
    _BLOCK_RESULTS[_code] = [_t]


class _Tables:
    """Per-opcode-byte tables for the instructions of one set of proposals.

    ``kinds[b]``: the F_ kind of opcode byte ``b`` (``kinds_no_mem``: the same with the
    memory instructions F_UNSURE, for a module without a memory 0 of i32 addresses).
    The most common shapes get their own kinds and their types in ``operand[b]`` and
    ``result[b]``: F_UNARY (t -> u: numeric unary operations and conversions), F_BINARY
    (t t -> u), F_LOAD (i32 -> u), F_STORE (i32 t -> ); and those of i32 alone, which
    only check: F_I32_UNARY, F_I32_BINARY, F_LOAD_I32. ``natural[b]`` is a load or store's
    natural alignment. Any other fixed effect is F_FIXED with
    ``fixed[b]`` = (params, results) (``memargs[b]`` for a memarg instruction); ``fc``
    has the 0xFC ones."""

    __slots__ = ("kinds", "kinds_no_mem", "operand", "result", "natural", "fixed", "fc",
                 "memargs")

    def __init__(self, features: FrozenSet[str]) -> None:
        kinds = [F_UNSURE] * 256
        self.operand: List[Optional[str]] = [None] * 256
        self.result: List[Optional[str]] = [None] * 256
        self.natural = [-1] * 256
        self.fixed: List[Optional[Tuple[List[str], List[str]]]] = [None] * 256
        self.memargs: List[Optional[Tuple[List[str], List[str]]]] = [None] * 256
        self.fc: Dict[int, Tuple[List[str], List[str]]] = {}
        for info in opcodes.OPS:
            if info.proposal is not None and info.proposal not in features:
                continue
            name = info.name
            if info.prefix == 0xFC:
                if name in FIXED:
                    self.fc[info.code] = FIXED[name]
                continue
            if info.prefix is not None:
                continue
            b = info.code
            if name in _BY_NAME:
                kinds[b] = _BY_NAME[name]
            elif name in FIXED and info.imm == opcodes.NONE:
                params, results = FIXED[name]
                if not params:
                    continue       # nop, the only one, is F_NOP
                if len(results) == 1 and len(params) <= 2 and len(set(params)) == 1:
                    kinds[b] = F_UNARY if len(params) == 1 else F_BINARY
                    if params[0] == results[0] == "i32":
                        kinds[b] = F_I32_UNARY if len(params) == 1 else F_I32_BINARY
                    self.operand[b] = params[0]
                    self.result[b] = results[0]
                else:
                    kinds[b] = F_FIXED
                    self.fixed[b] = (params, results)
            elif KIND.get(name, (None,))[0] == K_MEMARG:
                _, params, results, natural = KIND[name]
                self.natural[b] = natural
                if params == _I32 and len(results) == 1:
                    kinds[b] = F_LOAD_I32 if results == _I32 else F_LOAD     # i32 -> t
                    self.operand[b] = "i32"
                    self.result[b] = results[0]
                elif len(params) == 2 and params[0] == "i32" and not results:
                    kinds[b] = F_STORE
                    self.operand[b] = params[1]
                else:
                    kinds[b] = F_MEMARG
                    self.memargs[b] = (params, results)
        kinds[0xFC] = F_PREFIX_FC
        self.kinds = kinds
        self.kinds_no_mem = [F_UNSURE if self.natural[b] >= 0 or k in _MEMORY_KINDS else k
                             for b, k in enumerate(kinds)]


_TABLES: Dict[FrozenSet[str], _Tables] = {}
# The tables for a module whose bodies were read without the exceptions proposal, by the
# features validation allows.
_TABLES_NO_EXCEPTIONS: Dict[FrozenSet[str], _Tables] = {}


def _tables(features: FrozenSet[str]) -> _Tables:
    """The tables for ``features``' proposals: an instruction of a disabled proposal is
    left to the exact path, which refuses it."""
    found = _TABLES.get(features)
    if found is None:
        found = _TABLES[features] = _Tables(features)
    return found


# Five-byte (padded) u32s seen, by their bytes: the value of each. Linkers pad the
# indices they relocate (calls, the stack pointer global): one dictionary look-up reads
# them. Bounded: past the bound, they are read as any other.
_PADDED: Dict[bytes, int] = {}
_PADDED_MAX = 1 << 16


def _read_padded(data: Any, pos: int) -> Tuple[int, int]:
    """A u32 at ``pos`` that is not a known five-byte one: (value, new position); a
    five-byte one is remembered in _PADDED (its bytes decide its value and length)."""
    x, end = read_uleb(data, pos, 32)
    if end == pos + 5 and len(_PADDED) < _PADDED_MAX:
        _PADDED[bytes(data[pos:end])] = x
    return x, end


def _settle(st: List[Any], h: int, base: int, unreach: bool, types: List[Any]) -> int:
    """Pop ``types`` (last first) from ``st[base:h]``, each exactly or an Unknown (None)
    of an unreachable frame; return the new height. Anything else (subtyping, a
    mismatch, too few values) is for the exact path."""
    for j in range(len(types) - 1, -1, -1):
        if h > base:
            h -= 1
            actual = st[h]
            if actual != types[j] and actual is not None:
                raise _Unsure
        elif not unreach:
            raise _Unsure
    return h


def _settle_any(st: List[Any], h: int, base: int, unreach: bool) -> Tuple[Any, int]:
    """Pop one value of any type: (its type or None, the new height)."""
    if h > base:
        return st[h - 1], h - 1
    if not unreach:
        raise _Unsure
    return None, h


def _fast(ctx: Context, func: LazyFunc, tables: _Tables) -> None:
    """Validate ``func``'s body from its bytes; raise _Unsure unless it is surely valid.

    The operand stack is one list ``st`` of types with its height ``h``, preallocated
    (pushing past its end raises IndexError: a doubt, as any exception here): pushes and
    pops are stores and height changes. Every block starts with a marker ``_MARK`` below
    its own values (``base`` is the height above it), which equals no type, so that the
    checks of the common case, ``st[h - 1] == t``, fail at a block's bottom without
    comparing heights; the general path (``_settle``) then handles what is left: an
    unreachable frame's Unknown values, or a doubt. A frame is (kind, params, results,
    label types, base, whether the enclosing frame was unreachable when it opened)."""
    state = func.state
    if state is None or not _NUM_VEC.issuperset(func.locals):
        raise _Unsure
    # Loads, stores and memory.* are read here for memory 0 of i32 addresses only.
    mem0 = ctx.n_mems > 0 and ctx.mem_addresses[0] == "i32"
    kinds = tables.kinds if mem0 else tables.kinds_no_mem
    operand = tables.operand
    result = tables.result
    natural = tables.natural
    fixed = tables.fixed
    multi_memory = state.multi_memory
    offset_bits = state.offset_bits
    data = func.code
    pos = func.expr_start
    type_sigs = ctx.type_sigs
    sig = type_sigs[func.type_index]
    if sig is None:         # not a function type (GC): the exact path says why
        raise _Unsure
    params, results = sig
    locs = params + func.locals
    func_sigs = ctx.func_sigs
    global_types = ctx.global_types
    global_mut = ctx.global_mut
    nglobals = len(global_types)
    block_results = _BLOCK_RESULTS
    # Room for one value per byte of the body, and then some: more (multi-value results
    # of many calls) ends in IndexError, and the exact path.
    st: List[Any] = [_MARK] * (func.expr_end - pos + 16)
    h = base = 1
    frame: Tuple[Any, ...] = (F_BLOCK, _EMPTY, results, results, base, False)
    ctrls = [frame]
    unreach = False
    while True:
        b = data[pos]
        # local.get and i32.const read their immediate at pos + 1 (one addition saved).
        if b == 0x20:                    # local.get
            x = data[pos + 1]
            if x < 0x80:
                pos += 2
            elif data[pos + 2] < 0x80:    # two bytes: any 14-bit value is a valid u32
                x = (x & 0x7F) | (data[pos + 2] << 7)
                pos += 3
            else:
                x, pos = read_uleb(data, pos + 1, 32)
            # An index out of range raises IndexError: the exact path reports it.
            st[h] = locs[x]
            h += 1
            continue
        if b == 0x41:                    # i32.const: only its encoding matters here
            if data[pos + 1] < 0x80:
                pos += 2
            elif data[pos + 2] < 0x80:    # up to 28 bits: always a valid s32
                pos += 3
            elif data[pos + 3] < 0x80:
                pos += 4
            elif data[pos + 4] < 0x80:
                pos += 5
            elif data[pos + 5] < 8 or 0x78 <= data[pos + 5] < 0x80:
                pos += 6                  # five bytes: the sign bits that s32 allows
            else:
                pos = read_sleb(data, pos + 1, 32)[1]
            if kinds[data[pos]] == F_I32_BINARY:
                # A constant operand of an i32 operation (a third of them): both at once,
                # the other operand checked, and the result in its place.
                pos += 1
                if st[h - 1] != "i32":
                    h = _settle(st, h, base, unreach, _I32)
                    st[h] = "i32"
                    h += 1
                continue
            st[h] = "i32"
            h += 1
            continue
        kind = kinds[b]
        # The hot kinds below read their immediates at pos + 1; the others move pos first.
        if kind < F_BR_IF:            # loads and stores, binary operations
            if kind <= F_MEMARG:    # loads, stores, F_MEMARG: a memarg first
                a = data[pos + 1]
                if a <= natural[b] and data[pos + 2] < 0x80:   # memory 0, a one-byte offset
                    pos += 3
                elif a <= natural[b] and data[pos + 3] < 0x80:    # a two-byte offset
                    pos += 4
                elif (a <= natural[b] and data[pos + 6] < 0x10 and data[pos + 5] >= 0x80
                      and data[pos + 4] >= 0x80):                 # a five-byte (padded) u32
                    pos += 7
                else:
                    (a, o, mem), pos = read_memarg(data, pos + 1, multi_memory, offset_bits)
                    if mem != 0 or o >= _U32_LIMIT or a > natural[b]:
                        raise _Unsure
                if kind == F_LOAD_I32:
                    if st[h - 1] != "i32":
                        h = _settle(st, h, base, unreach, _I32)
                        st[h] = "i32"
                        h += 1
                elif kind == F_LOAD:
                    if st[h - 1] == "i32":
                        st[h - 1] = result[b]
                    else:
                        h = _settle(st, h, base, unreach, _I32)
                        st[h] = result[b]
                        h += 1
                elif kind == F_STORE:
                    t = operand[b]
                    if st[h - 1] == t and st[h - 2] == "i32":
                        h -= 2
                    else:
                        h = _settle(st, h, base, unreach, ["i32", t])
                else:
                    p, r = tables.memargs[b]  # type: ignore[misc]
                    h = _settle(st, h, base, unreach, p)
                    st[h:h + len(r)] = r
                    h += len(r)
                continue
            pos += 1
            if kind == F_I32_BINARY:       # i32 i32 -> i32: the result takes the first's place
                if st[h - 1] == "i32" and st[h - 2] == "i32":
                    h -= 1
                else:
                    h = _settle(st, h, base, unreach, _I32X2)
                    st[h] = "i32"
                    h += 1
                continue
            if kind == F_BINARY:     # (the last of this group)
                t = operand[b]
                if st[h - 1] == t and st[h - 2] == t:
                    h -= 1
                    st[h - 1] = result[b]
                else:
                    h = _settle(st, h, base, unreach, [t, t])
                    st[h] = result[b]
                    h += 1
                continue
        if kind <= F_LOCAL_TEE:       # br_if, end, local.set, local.tee
            if kind <= F_END:
                if kind == F_BR_IF:
                    x = data[pos + 1]
                    if x < 0x80:
                        pos += 2
                    elif data[pos + 2] < 0x80:
                        x = (x & 0x7F) | (data[pos + 2] << 7)
                        pos += 3
                    else:
                        x, pos = read_uleb(data, pos + 1, 32)
                    if st[h - 1] == "i32":
                        h -= 1
                    else:
                        h = _settle(st, h, base, unreach, _I32)
                    lab = ctrls[-1 - x][3]
                    if lab:
                        k = len(lab)
                        if st[h - k:h] != lab:
                            # Popped and pushed back: what was Unknown takes the label's types.
                            h = _settle(st, h, base, unreach, lab)
                            st[h:h + k] = lab
                            h += k
                    continue
                if kind == F_END:
                    pos += 1
                    r = frame[2]
                    if h != base or r:
                        if st[base:h] != r:
                            if _settle(st, h, base, unreach, r) != base:
                                raise _Unsure
                    if frame[0] == F_IF and frame[1] != r:
                        raise _Unsure
                    ctrls.pop()
                    if not ctrls:
                        break
                    h = base - 1                # the marker goes too
                    if r:
                        st[h:h + len(r)] = r
                        h += len(r)
                    unreach = frame[5]
                    frame = ctrls[-1]
                    base = frame[4]
                    continue
            # local.set, local.tee
            if kind == F_LOCAL_SET:
                x = data[pos + 1]
                if x < 0x80:
                    pos += 2
                elif data[pos + 2] < 0x80:
                    x = (x & 0x7F) | (data[pos + 2] << 7)
                    pos += 3
                else:
                    x, pos = read_uleb(data, pos + 1, 32)
                if st[h - 1] == locs[x]:
                    h -= 1
                else:
                    h = _settle(st, h, base, unreach, [locs[x]])
                continue
            if kind == F_LOCAL_TEE:
                x = data[pos + 1]
                if x < 0x80:
                    pos += 2
                elif data[pos + 2] < 0x80:
                    x = (x & 0x7F) | (data[pos + 2] << 7)
                    pos += 3
                else:
                    x, pos = read_uleb(data, pos + 1, 32)
                t = locs[x]
                if st[h - 1] != t:
                    h = _settle(st, h, base, unreach, [t])
                    st[h] = t
                    h += 1
                continue
        pos += 1
        if kind <= F_TRY_TABLE:      # F_BLOCK, F_LOOP, F_IF, F_TRY_TABLE
            if kind == F_BLOCK and data[pos] == 0x40:     # the common block: [] -> []
                pos += 1
                st[h] = _MARK
                h = base = h + 1
                frame = (F_BLOCK, _EMPTY, _EMPTY, _EMPTY, base, unreach)
                ctrls.append(frame)
                unreach = False
                continue
            if kind == F_TRY_TABLE:
                tt, pos = _TRY_TABLE.read(data, pos, state)
                bt, catches = cast(Tuple[Any, tuple], tt)
                _check_catches(ctx, ctrls, catches)
                if bt is None:
                    p = r = _EMPTY
                elif isinstance(bt, int) and bt < len(type_sigs) \
                        and type_sigs[bt] is not None:
                    p, r = type_sigs[bt]  # type: ignore[misc]
                elif bt in _NUM_VEC and bt != "v128":
                    p, r = _EMPTY, [bt]
                else:
                    raise _Unsure
            else:
                bt = data[pos]
                r = block_results[bt]
                if r is not None:
                    pos += 1
                    p = _EMPTY
                elif bt < 0x40:     # a type index (multi-value), one byte
                    pos += 1
                    if bt >= len(type_sigs) or type_sigs[bt] is None:
                        raise _Unsure
                    p, r = type_sigs[bt]  # type: ignore[misc]
                else:
                    raise _Unsure
            if kind == F_IF:
                if st[h - 1] == "i32":
                    h -= 1
                else:
                    h = _settle(st, h, base, unreach, _I32)
            if p:
                k = len(p)
                if st[h - k:h] == p:
                    h -= k
                else:
                    h = _settle(st, h, base, unreach, p)
                st[h] = _MARK
                base = h + 1
                st[base:base + k] = p
                h = base + k
            else:
                st[h] = _MARK
                h = base = h + 1
            frame = (kind, p, r, p if kind == F_LOOP else r, base, unreach)
            ctrls.append(frame)
            unreach = False
            continue
        if kind == F_I32_UNARY:
            if st[h - 1] != "i32":
                h = _settle(st, h, base, unreach, _I32)
                st[h] = "i32"
                h += 1
            continue
        if kind == F_UNARY:
            if st[h - 1] == operand[b]:
                st[h - 1] = result[b]
            else:
                h = _settle(st, h, base, unreach, [operand[b]])
                st[h] = result[b]
                h += 1
            continue
        if kind == F_CALL:
            x = data[pos]
            if x < 0x80:
                pos += 1
            elif data[pos + 1] < 0x80:
                x = (x & 0x7F) | (data[pos + 1] << 7)
                pos += 2
            else:                 # five bytes, as linkers pad relocated indices
                x = _PADDED.get(data[pos:pos + 5], -1)
                if x < 0:
                    x, pos = _read_padded(data, pos)
                else:
                    pos += 5
            p, r = func_sigs[x]
        elif kind == F_BR or kind == F_RETURN:
            if kind == F_BR:
                x = data[pos]
                if x < 0x80:
                    pos += 1
                elif data[pos + 1] < 0x80:
                    x = (x & 0x7F) | (data[pos + 1] << 7)
                    pos += 2
                else:
                    x, pos = read_uleb(data, pos, 32)
                lab = ctrls[-1 - x][3]   # IndexError for a label out of range
            else:
                lab = results
            if lab and st[h - len(lab):h] != lab:
                _settle(st, h, base, unreach, lab)
            h = base
            unreach = True
            continue
        elif kind == F_I64_CONST:
            if data[pos] < 0x80:
                pos += 1
            else:
                pos = read_sleb(data, pos, 64)[1]
            st[h] = "i64"
            h += 1
            continue
        elif kind == F_DROP:
            if h > base:
                h -= 1
            else:
                h = _settle_any(st, h, base, unreach)[1]
            continue
        elif kind == F_SELECT:
            # Two operands of one numeric type and an i32: the first stays in place.
            if st[h - 1] == "i32" and st[h - 2] in _NUM_VEC and st[h - 3] == st[h - 2]:
                h -= 2
                continue
            if st[h - 1] == "i32":
                h -= 1
            else:
                h = _settle(st, h, base, unreach, _I32)
            t1, h = _settle_any(st, h, base, unreach)
            t2, h = _settle_any(st, h, base, unreach)
            if t1 not in _SELECT_OK or t2 not in _SELECT_OK or (
                    t1 != t2 and t1 is not None and t2 is not None):
                raise _Unsure
            st[h] = t2 if t1 is None else t1
            h += 1
            continue
        elif kind == F_CALL_INDIRECT:
            y, pos = read_u32(data, pos)
            x, pos = read_u32(data, pos)
            if (x >= len(ctx.table_elems) or y >= len(type_sigs) or type_sigs[y] is None
                    or ctx.table_elems[x] != FUNCREF or ctx.table_addresses[x] != "i32"):
                raise _Unsure
            if st[h - 1] == "i32":
                h -= 1
            else:
                h = _settle(st, h, base, unreach, _I32)
            p, r = type_sigs[y]  # type: ignore[misc]
        elif kind == F_GLOBAL_GET:
            x = data[pos]
            if x < 0x80:
                pos += 1
            elif data[pos + 1] < 0x80:
                x = (x & 0x7F) | (data[pos + 1] << 7)
                pos += 2
            else:                 # five bytes, as linkers pad relocated indices
                x = _PADDED.get(data[pos:pos + 5], -1)
                if x < 0:
                    x, pos = _read_padded(data, pos)
                else:
                    pos += 5
            if x >= nglobals:
                raise _Unsure
            st[h] = global_types[x]
            h += 1
            continue
        elif kind == F_GLOBAL_SET:
            x = data[pos]
            if x < 0x80:
                pos += 1
            elif data[pos + 1] < 0x80:
                x = (x & 0x7F) | (data[pos + 1] << 7)
                pos += 2
            else:                 # five bytes, as linkers pad relocated indices
                x = _PADDED.get(data[pos:pos + 5], -1)
                if x < 0:
                    x, pos = _read_padded(data, pos)
                else:
                    pos += 5
            if x >= nglobals or not global_mut[x]:
                raise _Unsure
            if st[h - 1] == global_types[x]:
                h -= 1
            else:
                h = _settle(st, h, base, unreach, [global_types[x]])
            continue
        elif kind == F_ELSE:
            r = frame[2]
            if st[base:h] != r and _settle(st, h, base, unreach, r) != base:
                raise _Unsure
            if frame[0] != F_IF:
                raise _Unsure
            p = frame[1]
            frame = (F_ELSE, p, r, r, base, frame[5])
            ctrls[-1] = frame
            st[base:base + len(p)] = p
            h = base + len(p)
            unreach = False
            continue
        elif kind == F_F32_CONST:
            pos += 4      # a read past the body shows in the end position, checked below
            st[h] = "f32"
            h += 1
            continue
        elif kind == F_F64_CONST:
            pos += 8
            st[h] = "f64"
            h += 1
            continue
        elif kind == F_FIXED:
            p, r = fixed[b]  # type: ignore[misc]
        elif kind == F_UNREACHABLE:
            h = base
            unreach = True
            continue
        elif kind == F_BR_TABLE:
            n, pos = read_len32(data, pos)
            labels = []
            for _ in range(n):
                x = data[pos]
                if x < 0x80:
                    pos += 1
                elif data[pos + 1] < 0x80:
                    x = (x & 0x7F) | (data[pos + 1] << 7)
                    pos += 2
                else:
                    x, pos = read_uleb(data, pos, 32)
                labels.append(x)
            x = data[pos]
            if x < 0x80:
                pos += 1
            elif data[pos + 1] < 0x80:
                x = (x & 0x7F) | (data[pos + 1] << 7)
                pos += 2
            else:
                x, pos = read_uleb(data, pos, 32)
            if st[h - 1] == "i32":
                h -= 1
            else:
                h = _settle(st, h, base, unreach, _I32)
            nctrl = len(ctrls)
            if x >= nctrl:
                raise _Unsure
            dlab = ctrls[-1 - x][3]
            for x in labels:
                if x >= nctrl:
                    raise _Unsure
                lab = ctrls[-1 - x][3]
                if len(lab) != len(dlab):
                    raise _Unsure
                if lab:
                    _settle(st, h, base, unreach, lab)    # h kept: each label alike
            if dlab:
                _settle(st, h, base, unreach, dlab)
            h = base
            unreach = True
            continue
        elif kind == F_MEMORY_SIZE or kind == F_MEMORY_GROW:
            mem, pos = MEM_INDEX.read(data, pos, state)
            if mem != 0:
                raise _Unsure
            if kind == F_MEMORY_GROW:
                h = _settle(st, h, base, unreach, _I32)
            st[h] = "i32"
            h += 1
            continue
        elif kind == F_PREFIX_FC:
            sub, pos = read_u32(data, pos)
            fsig = tables.fc.get(sub)
            if fsig is not None:
                p, r = fsig
            elif sub == _FC_MEMORY_COPY or sub == _FC_MEMORY_FILL:
                mem, pos = MEM_INDEX.read(data, pos, state)
                if sub == _FC_MEMORY_COPY:
                    mem2, pos = MEM_INDEX.read(data, pos, state)
                    mem |= mem2
                if mem != 0 or not mem0:
                    raise _Unsure
                p, r = _I32X3, _EMPTY
            else:
                raise _Unsure
        elif kind == F_THROW:
            x, pos = read_u32(data, pos)
            if x >= len(ctx.tag_params):
                raise _Unsure
            _settle(st, h, base, unreach, list(ctx.tag_params[x]))
            h = base
            unreach = True
            continue
        elif kind == F_NOP:
            continue
        else:
            raise _Unsure
        # The stack effect (p -> r) of the instructions that fall through to here.
        if p:
            k = len(p)
            if st[h - k:h] == p:
                h -= k
            else:
                h = _settle(st, h, base, unreach, p)
        if r:
            st[h:h + len(r)] = r
            h += len(r)
    # The body's last "end" must be the last byte of the body ("section size mismatch").
    if pos != func.expr_end:
        raise _Unsure


def _check_catches(ctx: Context, ctrls: List[Tuple[Any, ...]], catches: tuple) -> None:
    """try_table's clauses (spec 3.0 3.3.8.4), their label types matched exactly."""
    for ckind, tag, label in catches:
        if ckind == "catch" or ckind == "catch_ref":
            if tag >= len(ctx.tag_params):
                raise _Unsure
            pushed = list(ctx.tag_params[tag])
        else:
            pushed = []
        if ckind.endswith("_ref"):
            pushed += _EXNREF
        if label >= len(ctrls) or ctrls[-1 - label][3] != pushed:
            raise _Unsure


def _exact(ctx: Context, fidx: int, func: LazyFunc, disabled: Collection[str]) -> None:
    """The body decoded into instructions and validated as validate_func does, then
    dropped; raises what the exact path raises for it."""
    body, end = decode_expr(func.code, func.expr_start, func.state)
    if end != func.expr_end:
        raise MalformedError("section size mismatch", end)
    validate_func(ctx, fidx, Func(func.type_index, func.locals, body, func.offset))
    check_body_proposals(body, disabled, fidx)


def check_body_proposals(body: list, disabled: Collection[str], fidx: int) -> None:
    """Refuse an instruction of a disabled Wasm 3.0 proposal in ``body``."""
    if not disabled:
        return
    for ins in body:
        info = opcodes.BY_NAME.get(ins.op)
        if info is not None and info.proposal is not None and info.proposal in disabled:
            raise InvalidError("%s support is not enabled (Config.wasm_%s): %s"
                               % (opcodes.PROPOSALS[info.proposal], info.proposal, ins.op),
                               fidx, ins.offset)


def validate_lazy_func(ctx: Context, fidx: int, func: LazyFunc,
                       features: Collection[str]) -> None:
    """Validate a lazily decoded body under ``features`` (the Wasm 3.0 proposals
    enabled). Only the fast reader's doubt costs the exact path; an error is raised
    by the exact path, but only :func:`decode_and_validate` makes it the module's."""
    enabled = features if isinstance(features, frozenset) else frozenset(features)
    state = func.state
    if state is None or state.exceptions:
        tables = _tables(enabled)
    else:       # bodies read without the exceptions proposal: its instructions are unsure
        found = _TABLES_NO_EXCEPTIONS.get(enabled)
        if found is None:
            found = _TABLES_NO_EXCEPTIONS[enabled] = _tables(enabled - {"exceptions"})
        tables = found
    try:
        _fast(ctx, func, tables)
        return
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - any doubt (even a bug here) goes the exact way
        pass
    _exact(ctx, fidx, func, [p for p in opcodes.PROPOSALS if p not in features])


def decode_and_validate(data: bytes, features: Optional[Collection[str]] = None,
                        decode_features: Optional[Collection[str]] = None) -> Module:
    """Decode and validate a binary module, its function bodies checked from the bytes
    and left undecoded (:class:`LazyFunc`). Raises MalformedError / InvalidError exactly
    as ``validate_module(decode_module(data, decode_features), features)`` does.

    ``features``: the proposals validation allows (None: all); ``decode_features``:
    those whose encodings are read (None: all), as for decode_module."""
    from .module import validate_module
    try:
        module = decode_module(data, decode_features, lazy_bodies=True)
        validate_module(module, features)
        funcs = module.funcs
        if module.data_count is None and funcs and isinstance(funcs[0], LazyFunc) \
                and funcs[0].state is not None and funcs[0].state.uses_data_count:
            raise _Unsure      # "data count section required": the exact path says it
        return module
    except (WasmtimeError, IndexError, RecursionError, _Unsure):
        pass
    # Something is wrong: the exact path finds which error the module gets.
    module = decode_module(data, decode_features)
    validate_module(module, features)
    return module
