"""Reference types (Wasm 3.0, spec syntax/types.rst "Reference Types", "Heap Types").

Number and vector types are interned strings (``"i32"`` … ``"v128"``); a reference type is
a :class:`RefType`: a ``str`` subclass whose string value is the canonical text form
(``"funcref"``, ``"(ref func)"``, ``"(ref null 3)"``, ``"(ref 3)"``), with the attributes
``nullable`` and ``heap``. Every comparison with ``"funcref"``/``"externref"`` and every
dict keyed by value types keep working, and the hot loops still compare strings.

A heap type is an abstract heap type name (:data:`ABSTRACT_HEAP_TYPES`) or an ``int``: a
type index, relative to the module the type appears in. Two modules' ``"(ref 0)"`` are
different types: comparing types across modules goes through their canonical ids
(:mod:`syntax.canon`).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

from purewasm.errors import InvalidError

HeapType = Union[str, int]

# Abstract heap types (spec 3.0 syntax/types.rst) and their binary codes (5.3.3).
HEAP_CODES: Dict[str, int] = {
    "func": 0x70, "extern": 0x6F, "any": 0x6E, "eq": 0x6D, "i31": 0x6C, "struct": 0x6B,
    "array": 0x6A, "exn": 0x69, "none": 0x71, "noextern": 0x72, "nofunc": 0x73,
    "noexn": 0x74,
}
HEAP_BY_CODE: Dict[int, str] = {code: name for name, code in HEAP_CODES.items()}
ABSTRACT_HEAP_TYPES = frozenset(HEAP_CODES)
# The bottom heap type of the validation algorithm (a reference popped from an
# unreachable stack): it matches every heap type. Never written in a module.
BOT = "bot"

# The text format's abbreviations of nullable abstract reference types (6.4.2).
_ABBREVIATIONS: Dict[str, str] = {
    "func": "funcref", "extern": "externref", "any": "anyref", "eq": "eqref",
    "i31": "i31ref", "struct": "structref", "array": "arrayref", "exn": "exnref",
    "none": "nullref", "nofunc": "nullfuncref", "noextern": "nullexternref",
    "noexn": "nullexnref",
}
ABBREVIATED: Dict[str, str] = {text: heap for heap, text in _ABBREVIATIONS.items()}

# The hierarchies of abstract heap types (spec 3.0 valid/matching.rst "Heap Types"):
# each type's supertypes, itself included. Concrete (type index) heap types are function
# types until the GC proposal adds struct and array types.
_SUPERS: Dict[str, frozenset] = {
    "any": frozenset(("any",)), "eq": frozenset(("eq", "any")),
    "i31": frozenset(("i31", "eq", "any")), "struct": frozenset(("struct", "eq", "any")),
    "array": frozenset(("array", "eq", "any")),
    "none": frozenset(("none", "i31", "struct", "array", "eq", "any")),
    "func": frozenset(("func",)), "nofunc": frozenset(("nofunc", "func")),
    "extern": frozenset(("extern",)), "noextern": frozenset(("noextern", "extern")),
    "exn": frozenset(("exn",)), "noexn": frozenset(("noexn", "exn")),
}
# The bottom of each hierarchy, by its top.
_BOTTOMS = {"func": "nofunc", "extern": "noextern", "any": "none", "exn": "noexn"}

_CACHE: Dict[Tuple[bool, HeapType], "RefType"] = {}
# Hostile modules may name millions of distinct type indices: the cache stays bounded.
_CACHE_LIMIT = 1 << 16


class RefType(str):
    """A reference type ``(ref null? heap)``; ``str(t)`` is its canonical text form.

    Interned: ``RefType(True, "func") is FUNCREF``. Construct through the class (the cache
    is keyed by ``(nullable, heap)``)."""

    nullable: bool
    heap: HeapType

    def __new__(cls, nullable: bool, heap: HeapType) -> "RefType":
        key = (bool(nullable), heap)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        if isinstance(heap, bool) or not (
                isinstance(heap, int) and heap >= 0
                or heap in ABSTRACT_HEAP_TYPES or heap == BOT):
            raise InvalidError("malformed heap type %r" % (heap,))
        if nullable and not isinstance(heap, int) and heap in _ABBREVIATIONS:
            text = _ABBREVIATIONS[heap]
        else:
            text = "(ref %s%s)" % ("null " if nullable else "", heap)
        self = str.__new__(cls, text)
        self.nullable = bool(nullable)
        self.heap = heap
        if len(_CACHE) >= _CACHE_LIMIT:
            return self    # equality is the string's: interning only saves memory
        return _CACHE.setdefault(key, self)

    def __reduce__(self) -> Tuple[Any, Tuple[bool, HeapType]]:
        return (RefType, (self.nullable, self.heap))

    def __copy__(self) -> "RefType":
        return self

    def __deepcopy__(self, memo: Any) -> "RefType":
        return self

    @property
    def concrete(self) -> bool:
        """Whether the heap type is a type index."""
        return isinstance(self.heap, int)

    def as_nullable(self, nullable: bool) -> "RefType":
        return RefType(nullable, self.heap)


FUNCREF = RefType(True, "func")
EXTERNREF = RefType(True, "extern")
EXNREF = RefType(True, "exn")     # exception handling: a caught exception (None is null)
# The reference types of Wasm 2.0 (the only ones without function_references).
WASM2_REF_TYPES = (FUNCREF, EXTERNREF)


def as_reftype(t: Any) -> Optional[RefType]:
    """``t`` as a :class:`RefType` if it is a reference type (a RefType, or the plain
    string of an abbreviation such as ``"funcref"``); None for number/vector types."""
    if isinstance(t, RefType):
        return t
    if isinstance(t, str):
        heap = ABBREVIATED.get(t)
        if heap is not None:
            return RefType(True, heap)
    return None


def is_reftype(t: Any) -> bool:
    return as_reftype(t) is not None


def defaultable(t: str) -> bool:
    """Whether a local of type ``t`` has a default value (spec 3.0: all but non-nullable
    references)."""
    rt = as_reftype(t)
    return rt is None or rt.nullable


def top_heap(heap: HeapType) -> str:
    """The top of ``heap``'s hierarchy ("func", "extern", "any" or "exn")."""
    if isinstance(heap, int):
        return "func"   # type indices denote function types until GC adds struct/array
    for top in ("func", "extern", "any", "exn"):
        if top in _SUPERS.get(heap, ()):
            return top
    return heap


def bottom_heap(heap: HeapType) -> str:
    """The bottom of ``heap``'s hierarchy (``ref.null``'s precise type, spec 3.0)."""
    return _BOTTOMS.get(top_heap(heap), "none")


def type_indices(t: str) -> List[int]:
    """The type indices a value type refers to (for "unknown type" checks)."""
    rt = as_reftype(t)
    if rt is not None and isinstance(rt.heap, int):
        return [rt.heap]
    return []
