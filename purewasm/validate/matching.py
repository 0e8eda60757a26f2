"""Subtyping (spec 3.0 valid/matching.rst): ``matches(t1, t2, module_types)``.

Number and vector types match only themselves. A reference type ``(ref null1? ht1)``
matches ``(ref null2? ht2)`` when null1 implies null2 and ht1 matches ht2. Heap types form
three hierarchies (func, extern, any — plus exn): ``nofunc <: $t <: func`` for every
function type ``$t``, ``noextern <: extern``, ``none <: i31, struct, array <: eq <: any``,
``noexn <: exn``. Two type indices match when the types they name are equivalent: before
the GC proposal there are no declared subtypes and no recursion groups, so equivalence is
structural (:func:`syntax.types.closed_type_keys`); the GC issue plugs the
canonicalisation of recursion groups in :class:`TypeSpace`.

The validator's bottom reference (``RefType(False, BOT)``, popped from an unreachable
stack) matches every reference type.
"""
from __future__ import annotations

from typing import Any, Hashable, List, Optional, Sequence

from ..syntax.types import BOT, HeapType, _SUPERS, as_reftype, closed_type_keys


class TypeSpace:
    """A module's type section with the keys that compare its types across modules."""

    __slots__ = ("types", "_keys")

    def __init__(self, types: Sequence[Any]) -> None:
        self.types = types
        self._keys: Optional[List[Hashable]] = None

    def key(self, index: int) -> Hashable:
        keys = self._keys
        if keys is None or len(keys) != len(self.types):
            keys = self._keys = closed_type_keys(self.types)
        return keys[index]


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
            return space1.key(h1) == space2.key(h2)
        return h2 == "func"      # every defined type is a function type before GC
    if isinstance(h2, int):
        return h1 == "nofunc"    # the bottom of the func hierarchy matches every $t
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
