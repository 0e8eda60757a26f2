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
from typing import Collection, Dict, List, Optional, Sequence

from .. import opcodes as _opc
from ..errors import EncodeError
from ..syntax import (
    ArrayType, DefType, FieldType, StructType,
    ACTIVE, DECLARATIVE, FUNC, FUNCREF, GLOBAL, MEMORY, PASSIVE, TABLE, TAG, Elem, Instr,
    Limits, Module, Names,
)
from ..syntax.types import HEAP_CODES, as_reftype
from .decode import MAGIC, VALTYPE_BY_BYTE, VERSION, decode_name_section
from .leb128 import write_uleb
from .memarg import write_memarg
from .sections import Section

_BYTE_BY_VALTYPE: Dict[str, int] = {t: b for b, t in VALTYPE_BY_BYTE.items()}
_PACKED_BYTES = {"i8": b"\x78", "i16": b"\x77"}
_KIND_BYTE = {FUNC: 0, TABLE: 1, MEMORY: 2, GLOBAL: 3, TAG: 4}


def uleb(value: int) -> bytes:
    """Minimal unsigned LEB128 of a u32 ``value`` (every unsigned field of Wasm 2.0)."""
    return write_uleb(value, 32)


def sleb(value: int) -> bytes:
    """Minimal signed LEB128 of ``value``."""
    if -64 <= value < 64:
        return bytes((value & 0x7F,))
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if (value == 0 and not b & 0x40) or (value == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _vec_len(n: int) -> bytes:
    return uleb(n)


def _name(s: str) -> bytes:
    raw = s.encode("utf-8")
    return uleb(len(raw)) + raw


def _heaptype(heap: object) -> bytes:
    """A heap type (spec 3.0 5.3.3): an abstract type's code, or a type index as s33."""
    if isinstance(heap, int) and not isinstance(heap, bool):
        return sleb(heap)
    code = HEAP_CODES.get(heap)   # type: ignore[call-overload]
    if code is None:
        raise EncodeError("unknown heap type %r" % (heap,))
    return bytes((code,))


def _valtype(t: str) -> bytes:
    b = _BYTE_BY_VALTYPE.get(t)
    if b is not None:
        return bytes((b,))
    rt = as_reftype(t)
    if rt is None:
        raise EncodeError("unknown value type %r" % (t,))
    if rt.nullable and not rt.concrete:
        return _heaptype(rt.heap)     # the short form of (ref null abstract)
    return bytes((0x63 if rt.nullable else 0x64,)) + _heaptype(rt.heap)


def _fieldtype(f: FieldType) -> bytes:
    packed = _PACKED_BYTES.get(f.storage)
    return (packed if packed is not None else _valtype(f.storage)) + bytes((int(f.mutable),))


def _comptype(t: DefType) -> bytes:
    """A composite type (spec 3.0 5.3.8)."""
    if isinstance(t, StructType):
        return b"\x5f" + uleb(len(t.fields)) + b"".join(_fieldtype(f) for f in t.fields)
    if isinstance(t, ArrayType):
        return b"\x5e" + _fieldtype(t.element)
    return (b"\x60" + uleb(len(t.params)) + b"".join(_valtype(v) for v in t.params)
            + uleb(len(t.results)) + b"".join(_valtype(v) for v in t.results))


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


def _blocktype(bt: object, out: bytearray) -> None:
    if bt is None:
        out.append(0x40)
    elif isinstance(bt, str):
        out += _valtype(bt)
    elif isinstance(bt, int):
        out += sleb(bt)
    else:
        raise EncodeError("bad block type %r" % (bt,))


# name -> (prefix or None, code bytes, immediate kind)
_ENC: Dict[str, bytes] = {}
_IMM: Dict[str, str] = {}
for _info in _opc.OPS:
    if _info.prefix is None:
        _ENC[_info.name] = bytes((_info.code,))
    else:
        _ENC[_info.name] = bytes((_info.prefix,)) + uleb(_info.code)
    _IMM[_info.name] = _info.imm
_DATA_OPS = frozenset(("memory.init", "data.drop", "array.new_data", "array.init_data"))
_GC_PAIRS = frozenset((_opc.TYPE_FIELD, _opc.TYPE_NUM, _opc.TYPE_DATA, _opc.TYPE_ELEM,
                       _opc.TYPE_TYPE))


def encode_expr(instrs: List[Instr], out: Optional[bytearray] = None) -> bytearray:
    """Append the encoding of a flat instruction list (ending with ``end``) to ``out``."""
    if out is None:
        out = bytearray()
    enc = _ENC
    imms = _IMM
    for ins in instrs:
        try:
            op = ins.op
            code = enc.get(op)
            if code is None:
                raise EncodeError("unknown instruction %r" % (op,))
            out += code
            kind = imms[op]
            imm = ins.imm
            if kind == _opc.NONE:
                continue
            if kind in (_opc.LOCAL, _opc.GLOBAL, _opc.LABEL, _opc.FUNC, _opc.TABLE,
                        _opc.ELEM, _opc.DATA, _opc.TYPE, _opc.TAG):
                out += uleb(imm)
            elif kind == _opc.CONST_I32:
                out += sleb(_signed(imm, 32))
            elif kind == _opc.MEMARG:
                out += write_memarg(imm)
            elif kind == _opc.BLOCKTYPE:
                _blocktype(imm, out)
            elif kind == _opc.TRY_TABLE:
                bt, catches = imm
                _blocktype(bt, out)
                out += uleb(len(catches))
                for ckind, tag, label in catches:
                    clause = _opc.CATCH_KINDS.index(ckind)
                    out.append(clause)
                    if clause < 2:
                        out += uleb(tag)
                    out += uleb(label)
            elif kind == _opc.CONST_I64:
                out += sleb(_signed(imm, 64))
            elif kind == _opc.CONST_F32:
                out += struct.pack("<I", imm)
            elif kind == _opc.CONST_F64:
                out += struct.pack("<Q", imm)
            elif kind == _opc.BR_TABLE:
                labels, default = imm
                out += uleb(len(labels))
                for x in labels:
                    out += uleb(x)
                out += uleb(default)
            elif kind == _opc.CALL_INDIRECT:
                out += uleb(imm[0])
                out += uleb(imm[1])
            elif kind == _opc.MEM:
                out += uleb(imm)      # Wasm 2.0's reserved zero byte for memory 0
            elif kind == _opc.REFTYPE:
                rt = as_reftype(imm)   # ref.null: its heap type
                if rt is None:
                    raise EncodeError("not a reference type: %r" % (imm,))
                out += _heaptype(rt.heap)
            elif kind == _opc.SELECT_T:
                out += uleb(len(imm))
                for t in imm:
                    out += _valtype(t)
            elif kind == _opc.CONST_V128:
                out += imm.to_bytes(16, "little")
            elif kind == _opc.LANE:
                out.append(imm)
            elif kind == _opc.MEMARG_LANE:
                out += write_memarg(imm[0])
                out.append(imm[1])
            elif kind == _opc.SHUFFLE:
                out += bytes(imm)
            elif kind == _opc.TABLE_COPY or kind == _opc.TABLE_INIT:
                out += uleb(imm[0])
                out += uleb(imm[1])
            elif kind == _opc.MEMORY_COPY:
                out += uleb(imm[0])
                out += uleb(imm[1])
            elif kind == _opc.MEMORY_INIT:
                out += uleb(imm[0])
                out += uleb(imm[1])
            elif kind in _GC_PAIRS:
                out += uleb(imm[0])
                out += uleb(imm[1])
            elif kind == _opc.CAST:
                if imm.nullable:      # ref.test/ref.cast (ref null ht): the next code
                    out[-1] += 1
                out += _heaptype(imm.heap)
            elif kind == _opc.BR_ON_CAST:
                label, rt1, rt2 = imm
                out.append(int(rt1.nullable) | int(rt2.nullable) << 1)
                out += uleb(label) + _heaptype(rt1.heap) + _heaptype(rt2.heap)
            else:  # pragma: no cover - every kind of the opcode table is handled above
                raise EncodeError("cannot encode immediate kind %r" % (kind,))
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
            out += _valtype(seg.type)
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
                sec += _valtype(tt.element)
                sec += _limits(tt.limits, False, tt.address)
            elif imp.kind == MEMORY:
                mt = imp.memory_type
                sec += _limits(mt.limits, mt.shared, mt.address)
            elif imp.kind == TAG:
                sec += b"\x00" + uleb(imp.tag_type.type_index)
            else:
                gt = imp.global_type
                sec += _valtype(gt.content)
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
            sec += _valtype(tt.element)
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
            sec += _valtype(g.type.content)
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
                body += _valtype(t)
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
