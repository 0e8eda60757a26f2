"""GC values (Wasm 3.0, spec exec/runtime.rst "Aggregate Instances") and the helpers
generated code and constant expressions use on them.

Raw representation (docs/DECISIONS.md "GC values"):

* an i31 reference is a Python ``int`` in ``[0, 2**31)`` (its unsigned 31 bits): no other
  value of the any hierarchy is an int, so ``type(v) is int`` tests it and ``ref.eq`` is
  ``a is b or a == b`` (ints by value, objects by identity);
* a struct is a :class:`Struct`, an array an :class:`Array`: ``__slots__`` objects
  carrying their type's canonical id (``syntax.canon``) and a list of raw values (packed
  fields as unsigned 8/16-bit ints);
* a host reference (an externref value) stays itself in the any hierarchy:
  ``any.convert_extern`` only unwraps an :class:`ExternOfAny`, which
  ``extern.convert_any`` makes of an i31, struct or array, so both round trips are the
  identity, as the spec requires (a host int is wrapped in a :class:`HostInt`, or it
  would pass for an i31);
* null is ``None`` everywhere.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Dict, List, Sequence

from purewasm.errors import Trap, TrapCode
from purewasm.numeric import f32_from_bits
from purewasm.syntax.canon import ancestors

from .instances import FuncInstance


class Struct:
    """A struct instance: its type's canonical id and its fields' raw values."""

    __slots__ = ("tid", "fields")

    def __init__(self, tid: int, fields: List[Any]) -> None:
        self.tid = tid
        self.fields = fields

    def __repr__(self) -> str:
        return "<struct %d %r>" % (self.tid, self.fields)


class Array:
    """An array instance: its type's canonical id and its elements' raw values."""

    __slots__ = ("tid", "elems")

    def __init__(self, tid: int, elems: List[Any]) -> None:
        self.tid = tid
        self.elems = elems

    def __repr__(self) -> str:
        return "<array %d len %d>" % (self.tid, len(self.elems))


class ExternOfAny:
    """``extern.convert_any`` of an i31, struct or array: an externref that
    ``any.convert_extern`` turns back into the same value."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExternOfAny) and (
            other.value is self.value or type(self.value) is int and other.value == self.value)

    def __hash__(self) -> int:
        return hash(self.value) if type(self.value) is int else id(self.value)

    def __repr__(self) -> str:
        return "<extern of %r>" % (self.value,)


_NULL_STRUCT = "null structure reference"
_NULL_ARRAY = "null array reference"


class HostInt:
    """``any.convert_extern`` of a host reference that is a Python int: wrapped, or it
    would pass for an i31 inside the any hierarchy."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<host int %r>" % (self.value,)


def any_convert_extern(v: Any) -> Any:
    t = type(v)
    if t is ExternOfAny:
        return v.value
    if t is int:
        return HostInt(v)
    return v


def extern_convert_any(v: Any) -> Any:
    t = type(v)
    if t is HostInt:
        return v.value
    if t is int or t is Struct or t is Array:
        return ExternOfAny(v)
    return v      # null, or a host reference (itself in both hierarchies)


def i31_get(v: Any) -> int:
    if v is None:
        raise Trap(TrapCode.NULL_REFERENCE, "null i31 reference")
    return v


def struct_ref(v: Any) -> Struct:
    if v is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_STRUCT)
    return v


def array_ref(v: Any) -> Array:
    if v is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    return v


def _bounds() -> Trap:
    return Trap(TrapCode.ARRAY_OUT_OF_BOUNDS)


# Implementation limit (spec A.1 allows one): the most elements one array may have. A
# Python list of 2^24 references is 128 MiB; wasmtime traps on an allocation past its
# GC heap's reach too ("allocation size too large"), rather than exhausting memory.
MAX_ARRAY = 1 << 24


def array_new(tid: int, v: Any, n: int) -> Array:
    if n > MAX_ARRAY:
        raise Trap(TrapCode.ALLOCATION_TOO_LARGE)
    return Array(tid, [v] * n)


def array_get(a: Any, i: int) -> Any:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    elems = a.elems
    if i >= len(elems):
        raise _bounds()
    return elems[i]


def array_set(a: Any, i: int, v: Any) -> None:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    elems = a.elems
    if i >= len(elems):
        raise _bounds()
    elems[i] = v


def array_len(a: Any) -> int:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    return len(a.elems)


def array_fill(a: Any, i: int, v: Any, n: int) -> None:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    elems = a.elems
    if i + n > len(elems):
        raise _bounds()
    elems[i:i + n] = [v] * n


def array_copy(dst: Any, d: int, src: Any, s: int, n: int) -> None:
    if dst is None or src is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    if d + n > len(dst.elems) or s + n > len(src.elems):
        raise _bounds()
    dst.elems[d:d + n] = src.elems[s:s + n]   # the right side is a copy: overlap is safe


# Storage type -> (bytes per element, decoder of a bytes slice into raw values).
def _unpacker(fmt: str, width: int) -> Callable[[bytes], List[Any]]:
    def unpack(b: bytes) -> List[Any]:
        return list(struct.unpack("<%d%s" % (len(b) // width, fmt), b))
    return unpack


def _f32s(b: bytes) -> List[Any]:
    return [f32_from_bits(x) for x in struct.unpack("<%dI" % (len(b) // 4), b)]


def _v128s(b: bytes) -> List[Any]:
    return [int.from_bytes(b[k:k + 16], "little") for k in range(0, len(b), 16)]


_DATA_READERS: Dict[str, Any] = {
    "i8": (1, _unpacker("B", 1)), "i16": (2, _unpacker("H", 2)),
    "i32": (4, _unpacker("I", 4)), "i64": (8, _unpacker("Q", 8)),
    "f32": (4, _f32s), "f64": (8, _unpacker("d", 8)), "v128": (16, _v128s),
}


def data_values(storage: str, seg: bytes, s: int, n: int) -> List[Any]:
    """n elements of ``storage`` type read from data segment bytes at offset s, or the
    out-of-bounds trap (memory's message, as the spec's array.new_data)."""
    width, read = _DATA_READERS[storage]
    end = s + n * width
    if end > len(seg):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    return read(seg[s:end])


def array_new_data(tid: int, storage: str, seg: bytes, s: int, n: int) -> Array:
    return Array(tid, data_values(storage, seg, s, n))


def array_new_elem(tid: int, seg: Sequence[Any], s: int, n: int) -> Array:
    if s + n > len(seg):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    return Array(tid, list(seg[s:s + n]))


def array_init_data(a: Any, storage: str, seg: bytes, d: int, s: int, n: int) -> None:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    if d + n > len(a.elems):
        raise _bounds()
    a.elems[d:d + n] = data_values(storage, seg, s, n)


def array_init_elem(a: Any, seg: Sequence[Any], d: int, s: int, n: int) -> None:
    if a is None:
        raise Trap(TrapCode.NULL_REFERENCE, _NULL_ARRAY)
    if d + n > len(a.elems):
        raise _bounds()
    if s + n > len(seg):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    a.elems[d:d + n] = seg[s:s + n]


# Abstract heap types -> the test a non-null value must pass (spec 3.0 exec: a cast
# compares the value's dynamic type; host references are in any and extern only).
def _is_eq(v: Any) -> bool:
    t = type(v)
    return t is int or t is Struct or t is Array


_ABSTRACT_TESTS: Dict[str, Callable[[Any], bool]] = {
    "any": lambda v: True, "extern": lambda v: True, "func": lambda v: True,
    "exn": lambda v: True, "eq": _is_eq, "i31": lambda v: type(v) is int,
    "struct": lambda v: type(v) is Struct, "array": lambda v: type(v) is Array,
    "none": lambda v: False, "noextern": lambda v: False, "nofunc": lambda v: False,
    "noexn": lambda v: False,
}


def ref_test(v: Any, nullable: bool, heap: Any, tid: int) -> bool:
    """Whether ``v`` is a value of type ``(ref null? heap)``; ``tid``: the canonical id
    of a concrete ``heap`` (a type index), else unused."""
    if v is None:
        return nullable
    if type(heap) is int:
        t = type(v)
        if t is Struct or t is Array:
            vt = v.tid
        elif t is FuncInstance or isinstance(v, FuncInstance):
            vt = v.type_id
        else:
            return False
        return vt == tid or tid in ancestors(vt)
    return _ABSTRACT_TESTS[heap](v)


def ref_cast(v: Any, nullable: bool, heap: Any, tid: int) -> Any:
    if ref_test(v, nullable, heap, tid):
        return v
    raise Trap(TrapCode.CAST_FAILURE)     # null to a non-nullable type included


def ref_eq(a: Any, b: Any) -> bool:
    return a is b or (type(a) is int and a == b)


HELPERS: Dict[str, Any] = {
    "GC_STRUCT": Struct, "GC_ARRAY": Array, "GC_SREF": struct_ref, "GC_AREF": array_ref,
    "GC_I31": i31_get, "GC_ANY_OF_EXTERN": any_convert_extern,
    "GC_EXTERN_OF_ANY": extern_convert_any, "GC_ARRAY_NEW": array_new,
    "GC_ARRAY_GET": array_get, "GC_ARRAY_SET": array_set, "GC_ARRAY_LEN": array_len,
    "GC_ARRAY_FILL": array_fill, "GC_ARRAY_COPY": array_copy,
    "GC_ARRAY_NEW_DATA": array_new_data, "GC_ARRAY_NEW_ELEM": array_new_elem,
    "GC_ARRAY_INIT_DATA": array_init_data, "GC_ARRAY_INIT_ELEM": array_init_elem,
    "GC_TEST": ref_test, "GC_CAST": ref_cast, "GC_EQ": ref_eq,
}


# --- Constant expressions (spec 3.0: struct.new, array.new*, ref.i31, conversions) ----

CONST_OPS = frozenset(("ref.i31", "struct.new", "struct.new_default", "array.new",
                       "array.new_default", "array.new_fixed", "any.convert_extern",
                       "extern.convert_any"))


def _pack(storage: str, v: Any) -> Any:
    if storage == "i8":
        return v & 0xFF
    if storage == "i16":
        return v & 0xFFFF
    return v


def default_of(storage: str) -> Any:
    if storage in ("f32", "f64"):
        return 0.0
    if storage in ("i8", "i16", "i32", "i64", "v128"):
        return 0
    return None


def eval_const_op(ins: Any, stack: List[Any], inst: Any) -> None:
    """Evaluate one constant GC instruction of a validated expression on ``stack``."""
    op = ins.op
    types = inst.module.types
    if op == "ref.i31":
        stack.append(stack.pop() & 0x7FFFFFFF)
    elif op == "any.convert_extern":
        stack.append(any_convert_extern(stack.pop()))
    elif op == "extern.convert_any":
        stack.append(extern_convert_any(stack.pop()))
    elif op == "struct.new":
        fields = types[ins.imm].fields
        n = len(fields)
        vals = stack[len(stack) - n:] if n else []
        del stack[len(stack) - n:]
        stack.append(Struct(inst.type_ids[ins.imm],
                            [_pack(f.storage, v) for f, v in zip(fields, vals)]))
    elif op == "struct.new_default":
        stack.append(Struct(inst.type_ids[ins.imm],
                            [default_of(f.storage) for f in types[ins.imm].fields]))
    elif op == "array.new_fixed":
        x, n = ins.imm
        storage = types[x].element.storage
        vals = stack[len(stack) - n:] if n else []
        del stack[len(stack) - n:]
        stack.append(Array(inst.type_ids[x], [_pack(storage, v) for v in vals]))
    else:
        x = ins.imm
        storage = types[x].element.storage
        n = stack.pop()
        v = _pack(storage, stack.pop()) if op == "array.new" else default_of(storage)
        stack.append(array_new(inst.type_ids[x], v, n))
