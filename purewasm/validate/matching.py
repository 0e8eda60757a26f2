"""Subtyping (spec 3.0 valid/matching.rst): ``matches(t1, t2, module_types)``.

Number and vector types match only themselves. A reference type ``(ref null1? ht1)``
matches ``(ref null2? ht2)`` when null1 implies null2 and ht1 matches ht2. Heap types form
four hierarchies: ``nofunc <: $f <: func`` for every function type ``$f``,
``none <: $s, $a, i31 <: struct/array/i31 <: eq <: any`` for struct and array types,
``noextern <: extern``, ``noexn <: exn``. Two type indices match when the first's
canonical id (iso-recursive equivalence, ``syntax.canon``) is the second's or one of its
declared supertypes'.

The validator's bottom reference (``RefType(False, BOT)``, popped from an unreachable
stack) matches every reference type.
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

from ..syntax import composite_kind
from ..syntax.canon import canonical_ids, is_subtype_id
from ..syntax.types import BOT, HeapType, _SUPERS, as_reftype

# A defined type's kind -> the abstract heap types it matches, and the bottom type that
# matches it (spec 3.0 valid/matching.rst "Heap Types").
_KIND_SUPERS = {"func": frozenset(("func",)), "struct": frozenset(("struct", "eq", "any")),
                "array": frozenset(("array", "eq", "any"))}
_KIND_BOTTOM = {"func": "nofunc", "struct": "none", "array": "none"}


class TypeSpace:
    """A module's type section with the canonical ids that compare its types across
    modules (``syntax.canon``)."""

    __slots__ = ("types", "_ids")

    def __init__(self, types: Sequence[Any]) -> None:
        self.types = types
        self._ids: Optional[List[int]] = None

    def key(self, index: int) -> int:
        """The canonical id of type ``index``."""
        ids = self._ids
        if ids is None or len(ids) != len(self.types):
            ids = self._ids = canonical_ids(self.types)
        return ids[index]

    def kind(self, index: int) -> str:
        """"func", "struct" or "array" (a type index out of range counts as "func")."""
        if 0 <= index < len(self.types):
            return composite_kind(self.types[index])
        return "func"

    def top(self, heap: HeapType) -> str:
        """The top of ``heap``'s hierarchy ("func", "extern", "any" or "exn")."""
        if isinstance(heap, int):
            return "func" if self.kind(heap) == "func" else "any"
        for top in ("func", "extern", "any", "exn"):
            if top in _SUPERS.get(heap, ()):
                return top
        return heap


EMPTY_SPACE = TypeSpace(())


def _space(s: Any) -> TypeSpace:
    if isinstance(s, TypeSpace):
        return s
    return TypeSpace(s if s is not None else ())


def heap_matches(h1: HeapType, h2: HeapType, space1: TypeSpace,
                 space2: Optional[TypeSpace] = None) -> bool:
    """Whether heap type ``h1`` (of ``space1``) matches ``h2`` (of ``space2``, by default
    the same module)."""
    if space2 is None:
        space2 = space1
        if h1 == h2 and type(h1) is type(h2):
            return True
    if h1 == BOT:
        return True
    if isinstance(h1, int):
        if isinstance(h2, int):
            if not (0 <= h1 < len(space1.types) and 0 <= h2 < len(space2.types)):
                return False
            return is_subtype_id(space1.key(h1), space2.key(h2))
        return h2 in _KIND_SUPERS[space1.kind(h1)]
    if isinstance(h2, int):
        return h1 == _KIND_BOTTOM[space2.kind(h2)]
    return h2 in _SUPERS.get(h1, ())


def matches(t1: Optional[str], t2: Optional[str], module_types: Any = None,
            other_types: Any = None) -> bool:
    """Whether value type ``t1`` matches ``t2`` (spec 3.0 valid/matching.rst).

    ``module_types``: the module's types (a list of FuncType or a :class:`TypeSpace`) that
    type indices refer to; ``other_types``: the types ``t2``'s indices refer to when it
    comes from another module (import matching). ``None`` as a type is the validation
    algorithm's Unknown, which matches everything."""
    if t1 is None or t2 is None:
        return True
    if other_types is None and t1 == t2:
        return True
    r1 = as_reftype(t1)
    r2 = as_reftype(t2)
    if r1 is None or r2 is None:
        return r1 is None and r2 is None and t1 == t2
    if r1.nullable and not r2.nullable:
        return False
    space1 = _space(module_types)
    space2 = _space(other_types) if other_types is not None else None
    return heap_matches(r1.heap, r2.heap, space1, space2)


def types_equal(t1: str, t2: str, space1: Any, space2: Any) -> bool:
    """Type equivalence across modules (both directions of matching)."""
    return matches(t1, t2, space1, space2) and matches(t2, t1, space2, space1)
