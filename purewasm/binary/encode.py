"""Binary format encoder: the mirror of ``decode.py`` (spec chapter 5).

``encode_module(module)`` writes the canonical encoding wabt's ``wat2wasm`` writes for the
same module, so that ``encode(decode(x)) == x`` for wabt's output:

* minimal LEB128s everywhere (section and body sizes included);
* sections in spec order; the data count section only when the module records one
  (``Module.data_count``) or when code uses ``memory.init``/``data.drop``;
* element segments in the shortest form that can express them: function indices when
  the type is funcref and every element is a single ``ref.func``, else expressions;
  the table index only when it is not 0 (or the legacy flag-0/4 form cannot express the
  segment); data segments with flag 0 / 1 / 2 likewise;
* custom sections after all others, in their order (their position among the other
  sections is not recorded); the name section as described in ``encode_module``.
"""
from __future__ import annotations

import struct
from typing import Collection, Dict, List, Optional, Sequence, Tuple

from .. import opcodes as _opc
from ..errors import EncodeError
from ..syntax import (
    ArrayType, DefType, FieldType, StructType,
    ACTIVE, DECLARATIVE, FUNC, FUNCREF, GLOBAL, MEMORY, PASSIVE, TABLE, TAG, Elem, Instr,
    Limits, Module, Names,
)
from .decode import MAGIC, VERSION, decode_name_section
from .immediates import CODECS, Codec
from .leb128 import write_uleb
from .sections import Section
from .types import write_valtype

_KIND_BYTE = {FUNC: 0, TABLE: 1, MEMORY: 2, GLOBAL: 3, TAG: 4}


def uleb(value: int) -> bytes:
    """Minimal unsigned LEB128 of a u32 ``value`` (every unsigned field of Wasm 2.0)."""
    return write_uleb(value, 32)


def _vec_len(n: int) -> bytes:
    return uleb(n)


def _name(s: str) -> bytes:
    raw = s.encode("utf-8")
    return uleb(len(raw)) + raw


def _limits(lim: Limits, shared: bool = False, address: str = "i32") -> bytes:
    """Limits with their flags (spec 5.3.7): bit 0 maximum, bit 1 shared, bit 2 i64
    address type (memory64 / table64: the bounds are then u64)."""
    is_64 = address == "i64"
    flag = (1 if lim.max is not None else 0) | (2 if shared else 0) | (4 if is_64 else 0)
    bits = 64 if is_64 else 32
    out = bytes((flag,)) + write_uleb(lim.min, bits)
    if lim.max is not None:
        out += write_uleb(lim.max, bits)
    return out


# Each instruction's opcode bytes and the codec of its immediates.
_ENC: Dict[str, Tuple[bytes, Codec]] = {}
for _info in _opc.OPS:
    _code = bytes((_info.code,)) if _info.prefix is None \
        else bytes((_info.prefix,)) + uleb(_info.code)
    _ENC[_info.name] = (_code, CODECS[_info.imm])
# The instructions that need the data count section (memory.init, data.drop).
_DATA_OPS = frozenset(info.name for info in _opc.OPS if CODECS[info.imm].counts_data)


def encode_expr(instrs: List[Instr], out: Optional[bytearray] = None) -> bytearray:
    """Append the encoding of a flat instruction list (ending with ``end``) to ``out``."""
    if out is None:
        out = bytearray()
    enc = _ENC
    for ins in instrs:
        try:
            entry = enc.get(ins.op)
            if entry is None:
                raise EncodeError("unknown instruction %r" % (ins.op,))
            out += entry[0]
            entry[1].write(ins.imm, out)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError, IndexError, struct.error) as exc:
            # An immediate of the wrong shape or range (see syntax's conventions).
            raise EncodeError("cannot encode %r: %s" % (ins, exc)) from None
    return out


def _const_expr(expr: List[Instr], out: bytearray) -> None:
    """A constant expression (spec 5.4.9): its instructions and the closing ``end``
    (added if the list omits it, as a hand-built element expression may)."""
    encode_expr(expr, out)
    if not expr or expr[-1].op != "end":
        out.append(0x0B)


def _section(out: bytearray, sid: int, content: bytes) -> None:
    out.append(sid)
    out += uleb(len(content))
    out += content


def _elem_is_func_indices(seg: Elem, wasm2: bool = False) -> bool:
    # A vector of function indices is a segment of (ref func) in Wasm 3.0 (spec 5.5.12):
    # a funcref segment keeps its type with expressions, as wasm-tools writes it. Wasm
    # 2.0 (``wasm2``) reads the indices as funcref, and wabt writes them so.
    if seg.type != "(ref func)" and not (wasm2 and seg.type == FUNCREF):
        return False
    for e in seg.init:
        if not e or e[0].op != "ref.func" or len(e) > 2 or (len(e) == 2 and e[1].op != "end"):
            return False
    return True


def _elem(seg: Elem, wasm2: bool = False) -> bytes:
    """One element segment, with the flags wabt picks (spec 5.5.12)."""
    indices = _elem_is_func_indices(seg, wasm2)
    flags = 0 if indices else 4
    if seg.mode == PASSIVE:
        flags |= 1
    elif seg.mode == DECLARATIVE:
        flags |= 3
    elif seg.mode == ACTIVE:
        # Flags 0/4 imply table 0 and type funcref; anything else needs the long form.
        if seg.table != 0 or (not indices and seg.type != FUNCREF):
            flags |= 2
    else:
        raise EncodeError("unknown element segment mode %r" % (seg.mode,))
    out = bytearray(uleb(flags))
    if seg.mode == ACTIVE:
        if flags & 2:
            out += uleb(seg.table)
        if seg.offset is None:
            raise EncodeError("active element segment without an offset")
        _const_expr(seg.offset, out)
    if flags & 3:
        if indices:
            out.append(0x00)          # element kind funcref
        else:
            out += write_valtype(seg.type)
    out += uleb(len(seg.init))
    for e in seg.init:
        if indices:
            out += uleb(e[0].imm)
        else:
            _const_expr(e, out)
    return bytes(out)


def _uses_data_count(module: Module) -> bool:
    for f in module.funcs:
        for ins in f.body:
            if ins.op in _DATA_OPS:
                return True
    return False


def encode_name_section(names: Names) -> bytes:
    """The contents of a ``name`` custom section (spec 7.4.1): subsections 0, 1, 2."""
    out = bytearray()
    if names.module is not None:
        _section(out, 0, _name(names.module))
    if names.funcs:
        sub = bytearray(uleb(len(names.funcs)))
        for idx in sorted(names.funcs):
            sub += uleb(idx) + _name(names.funcs[idx])
        _section(out, 1, bytes(sub))
    if names.locals:
        sub = bytearray(uleb(len(names.locals)))
        for fidx in sorted(names.locals):
            loc = names.locals[fidx]
            sub += uleb(fidx) + uleb(len(loc))
            for idx in sorted(loc):
                sub += uleb(idx) + _name(loc[idx])
        _section(out, 2, bytes(sub))
    return bytes(out)


_PACKED_BYTES = {"i8": b"\x78", "i16": b"\x77"}


def _fieldtype(f: FieldType) -> bytes:
    packed = _PACKED_BYTES.get(f.storage)
    return (packed if packed is not None else write_valtype(f.storage)) + bytes((int(f.mutable),))


def _comptype(t: DefType) -> bytes:
    """A composite type (spec 3.0 5.3.8)."""
    if isinstance(t, StructType):
        return b"\x5f" + uleb(len(t.fields)) + b"".join(_fieldtype(f) for f in t.fields)
    if isinstance(t, ArrayType):
        return b"\x5e" + _fieldtype(t.element)
    return (b"\x60" + uleb(len(t.params)) + b"".join(write_valtype(v) for v in t.params)
            + uleb(len(t.results)) + b"".join(write_valtype(v) for v in t.results))


def _type_section(types: Sequence[DefType]) -> bytes:
    """The type section: its recursion groups (spec 3.0 5.3.9-5.3.10); a plain type
    (final, no supertype, its own group) as the bare composite type, as in Wasm 2.0."""
    groups = []
    i = 0
    while i < len(types):
        size = max(1, min(types[i].rec[1], len(types) - i))
        groups.append(types[i:i + size])
        i += size
    sec = bytearray(_vec_len(len(groups)))
    for group in groups:
        if len(group) != 1 or group[0].rec[1] != 1:
            sec += b"\x4e" + uleb(len(group))
        for t in group:
            if not (t.final and not t.supers):
                sec.append(0x4F if t.final else 0x50)
                sec += uleb(len(t.supers)) + b"".join(uleb(x) for x in t.supers)
            sec += _comptype(t)
    return bytes(sec)


def encode_module(module: Module, features: Optional[Collection[str]] = None) -> bytes:
    """Encode ``module`` in the binary format (spec 5.5.16). ``features``: the Wasm 3.0
    proposals the reader will have (None: all); without function references, a funcref
    segment of function references is written as function indices, as wabt does."""
    wasm2 = features is not None and "function_references" not in features
    out = bytearray(MAGIC + VERSION)
    m = module
    if m.types:
        _section(out, Section.TYPE, _type_section(m.types))
    if m.imports:
        sec = bytearray(_vec_len(len(m.imports)))
        for imp in m.imports:
            sec += _name(imp.module) + _name(imp.name)
            kind = _KIND_BYTE.get(imp.kind)
            if kind is None:
                raise EncodeError("unknown import kind %r" % (imp.kind,))
            sec.append(kind)
            if imp.kind == FUNC:
                sec += uleb(imp.type_index)
            elif imp.kind == TABLE:
                tt = imp.table_type
                sec += write_valtype(tt.element)
                sec += _limits(tt.limits, False, tt.address)
            elif imp.kind == MEMORY:
                mt = imp.memory_type
                sec += _limits(mt.limits, mt.shared, mt.address)
            elif imp.kind == TAG:
                sec += b"\x00" + uleb(imp.tag_type.type_index)
            else:
                gt = imp.global_type
                sec += write_valtype(gt.content)
                sec.append(1 if gt.mutable else 0)
        _section(out, Section.IMPORT, bytes(sec))
    if m.funcs:
        sec = bytearray(_vec_len(len(m.funcs)))
        for f in m.funcs:
            sec += uleb(f.type_index)
        _section(out, Section.FUNCTION, bytes(sec))
    if m.tables:
        sec = bytearray(_vec_len(len(m.tables)))
        for i, tt in enumerate(m.tables):
            init = m.table_inits.get(i)
            if init is not None:
                sec += b"\x40\x00"        # a table with an initialiser (spec 3.0 5.5.6)
            sec += write_valtype(tt.element)
            sec += _limits(tt.limits, False, tt.address)
            if init is not None:
                _const_expr(init, sec)
        _section(out, Section.TABLE, bytes(sec))
    if m.mems:
        sec = bytearray(_vec_len(len(m.mems)))
        for mt in m.mems:
            sec += _limits(mt.limits, mt.shared, mt.address)
        _section(out, Section.MEMORY, bytes(sec))
    if m.tags:
        sec = bytearray(_vec_len(len(m.tags)))
        for tag in m.tags:
            sec += b"\x00" + uleb(tag.type_index)   # attribute 0: exception
        _section(out, Section.TAG, bytes(sec))
    if m.globals:
        sec = bytearray(_vec_len(len(m.globals)))
        for g in m.globals:
            sec += write_valtype(g.type.content)
            sec.append(1 if g.type.mutable else 0)
            _const_expr(g.init, sec)
        _section(out, Section.GLOBAL, bytes(sec))
    if m.exports:
        sec = bytearray(_vec_len(len(m.exports)))
        for e in m.exports:
            kind = _KIND_BYTE.get(e.kind)
            if kind is None:
                raise EncodeError("unknown export kind %r" % (e.kind,))
            sec += _name(e.name)
            sec.append(kind)
            sec += uleb(e.index)
        _section(out, Section.EXPORT, bytes(sec))
    if m.start is not None:
        _section(out, Section.START, uleb(m.start))
    if m.elems:
        sec = bytearray(_vec_len(len(m.elems)))
        for seg in m.elems:
            sec += _elem(seg, wasm2)
        _section(out, Section.ELEMENT, bytes(sec))
    data_count = m.data_count
    if data_count is None and _uses_data_count(m):
        data_count = len(m.datas)
    if data_count is not None:
        _section(out, Section.DATA_COUNT, uleb(data_count))
    if m.funcs:
        sec = bytearray(_vec_len(len(m.funcs)))
        for f in m.funcs:
            body = bytearray()
            runs: List[List] = []
            for t in f.locals:
                if runs and runs[-1][1] == t:
                    runs[-1][0] += 1
                else:
                    runs.append([1, t])
            body += uleb(len(runs))
            for count, t in runs:
                body += uleb(count)
                body += write_valtype(t)
            encode_expr(f.body, body)
            sec += uleb(len(body))
            sec += body
        _section(out, Section.CODE, bytes(sec))
    if m.datas:
        sec = bytearray(_vec_len(len(m.datas)))
        for d in m.datas:
            if d.mode == PASSIVE:
                sec.append(1)
            elif d.mode == ACTIVE:
                if d.memory:
                    sec.append(2)
                    sec += uleb(d.memory)
                else:
                    sec.append(0)
                if d.offset is None:
                    raise EncodeError("active data segment without an offset")
                _const_expr(d.offset, sec)
            else:
                raise EncodeError("unknown data segment mode %r" % (d.mode,))
            sec += uleb(len(d.init))
            sec += d.init
        _section(out, Section.DATA, bytes(sec))
    # The name section: the decoder keeps the first one both in ``names`` and, raw, in
    # ``customs``. Where ``names`` still says what those raw bytes say, they are written
    # as they were (keeping subsections Names has no field for); else ``names`` is
    # encoded in their place, or first among the custom sections if there were none.
    has_names = m.names.module is not None or bool(m.names.funcs) or bool(m.names.locals)
    raw_names = next((c for c in m.customs if c.name == "name"), None)
    if raw_names is None and has_names:
        _section(out, Section.CUSTOM, _name("name") + encode_name_section(m.names))
    for c in m.customs:
        if c is raw_names and (decode_name_section(c.data) or Names()) != m.names:
            if has_names:
                _section(out, Section.CUSTOM, _name("name") + encode_name_section(m.names))
            continue
        _section(out, Section.CUSTOM, _name(c.name) + c.data)
    return bytes(out)
