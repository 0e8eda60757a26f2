"""Types in the binary format (spec 5.3), read and written in one place: value types,
reference and heap types, block types. The decoder, the encoder and the immediate codecs
(``immediates.py``) share these.

Reading returns ``(value, new position)`` and raises :class:`MalformedError` worded as the
reference interpreter words it; writing returns the bytes, or raises :class:`EncodeError`
for a value the syntax conventions do not allow.
"""
from __future__ import annotations

from typing import Dict, Tuple

from ..errors import EncodeError, MalformedError
from ..syntax import EXNREF, EXTERNREF, FUNCREF
from ..syntax.types import HEAP_BY_CODE, HEAP_CODES, RefType, as_reftype
from .leb128 import read_sleb, write_sleb

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
REF_NULL, REF = 0x63, 0x64
_BYTE_BY_VALTYPE: Dict[str, int] = {t: b for b, t in VALTYPE_BY_BYTE.items()}
# The empty block type (spec 5.4.1).
_EMPTY_BLOCK = 0x40


def bad_type_byte(b: int, pos: int, what: str) -> MalformedError:
    """The error for byte ``b`` where a type was expected."""
    # A byte with the continuation bit starts a longer LEB128 (s7) than a type may have.
    if b & 0x80:
        return MalformedError("integer representation too long", pos + 1)
    return MalformedError(what, pos)


def read_valtype(data: bytes, pos: int, typed: bool = True) -> Tuple[str, int]:
    """A value type; ``typed``: with Wasm 3.0's reference types (function references)."""
    b = data[pos]
    t = (VALTYPE3_BY_BYTE if typed else VALTYPE_BY_BYTE).get(b)
    if t is None:
        if typed and (b == REF_NULL or b == REF):
            return _read_ref(data, pos)
        # The reference interpreter reads unknown codes below 0x7B as a reference type.
        raise bad_type_byte(b, pos, "malformed reference type" if b < 0x7B
                            else "malformed value type")
    return t, pos + 1


def read_reftype(data: bytes, pos: int, typed: bool = True) -> Tuple[str, int]:
    """A reference type (Wasm 2.0: funcref or externref; 3.0: any, short or long form)."""
    b = data[pos]
    t = (REFTYPE3_BY_BYTE if typed else REFTYPE_BY_BYTE).get(b)
    if t is None:
        if typed and (b == REF_NULL or b == REF):
            return _read_ref(data, pos)
        raise bad_type_byte(b, pos, "malformed reference type")
    return t, pos + 1


def read_heaptype(data: bytes, pos: int) -> Tuple[object, int]:
    """A heap type (spec 3.0 5.3.3): an abstract type's code, or a type index as s33."""
    b = data[pos]
    heap = HEAP_BY_CODE.get(b)
    if heap is not None:
        return heap, pos + 1
    index, end = read_sleb(data, pos, 33)
    if index < 0:
        raise MalformedError("malformed reference type", pos)
    return index, end


def _read_ref(data: bytes, pos: int) -> Tuple[str, int]:
    """0x63 ht: (ref null ht); 0x64 ht: (ref ht)."""
    heap, end = read_heaptype(data, pos + 1)
    return RefType(data[pos] == REF_NULL, heap), end  # type: ignore[arg-type]


def read_blocktype(data: bytes, pos: int, typed: bool = True) -> Tuple[object, int]:
    """A block type (spec 5.4.1): None (empty), a value type, or a type index (s33)."""
    bt = data[pos]
    if bt == _EMPTY_BLOCK:
        return None, pos + 1
    if bt & 0xC0 == 0x40:
        return read_valtype(data, pos, typed)
    type_index, end = read_sleb(data, pos, 33)
    if type_index < 0:
        raise MalformedError("malformed block type", pos)
    return type_index, end


def write_heaptype(heap: object) -> bytes:
    """A heap type (spec 3.0 5.3.3): an abstract type's code, or a type index as s33."""
    if isinstance(heap, int) and not isinstance(heap, bool):
        return write_sleb(heap)
    code = HEAP_CODES.get(heap)   # type: ignore[call-overload]
    if code is None:
        raise EncodeError("unknown heap type %r" % (heap,))
    return bytes((code,))


def write_valtype(t: str) -> bytes:
    """A value type, reference types in their shortest form."""
    b = _BYTE_BY_VALTYPE.get(t)
    if b is not None:
        return bytes((b,))
    rt = as_reftype(t)
    if rt is None:
        raise EncodeError("unknown value type %r" % (t,))
    if rt.nullable and not rt.concrete:
        return write_heaptype(rt.heap)     # the short form of (ref null abstract)
    return bytes((REF_NULL if rt.nullable else REF,)) + write_heaptype(rt.heap)


def write_blocktype(bt: object) -> bytes:
    """A block type: None, a value type or a type index."""
    if bt is None:
        return bytes((_EMPTY_BLOCK,))
    if isinstance(bt, str):
        return write_valtype(bt)
    if isinstance(bt, int) and not isinstance(bt, bool):
        return write_sleb(bt)
    raise EncodeError("bad block type %r" % (bt,))
