"""Canonical type ids: iso-recursive type equivalence (spec 3.0 valid/conventions.rst
"Rolling and Unrolling", valid/matching.rst "Type Equivalence").

A defined type is identified by its recursion group's structure and its position in the
group. Closing a group replaces every type index inside it: an index into the same group
becomes ``("rec", position)``; an index of an earlier type becomes that type's canonical
id (an int, hash-consing keeps every key one level deep). Two types are equivalent
exactly when their ids are equal, across modules and the whole process.

The id of a plain function type (final, no supertype, its own group, naming no type by
index: every Wasm 2.0 type) is the id of the FuncType object itself, so host functions,
``runtime.type_id(functype)`` and a module's types agree without closing anything, and
call_indirect still compares two ints.

Declared supertypes make a type's ancestors part of its identity: :func:`ancestors`
gives, for a canonical id, the ids of every type it is a declared subtype of
(transitively); call_indirect, ref.test/ref.cast and import matching consult it only
when the ids differ.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, FrozenSet, Hashable, List, Sequence, Tuple

from . import ArrayType, FieldType, FuncType, StructType, is_plain
from .types import as_reftype

_IDS: Dict[Hashable, int] = {}
_LOCK = threading.Lock()
# Canonical id -> the ids of its declared supertypes, transitively (absent: none).
_ANCESTORS: Dict[int, FrozenSet[int]] = {}
_NONE: FrozenSet[int] = frozenset()


def type_id(key: Hashable) -> int:
    """A small int for ``key`` (a FuncType or a closed key), the same for equal keys
    across the whole process."""
    tid = _IDS.get(key)
    if tid is None:
        with _LOCK:
            tid = _IDS.setdefault(key, len(_IDS))
    return tid


def ancestors(tid: int) -> FrozenSet[int]:
    """The canonical ids of the declared supertypes of type ``tid``, transitively."""
    return _ANCESTORS.get(tid, _NONE)


def is_subtype_id(sub: int, sup: int) -> bool:
    """Whether the type of canonical id ``sub`` matches the one of id ``sup``."""
    return sub == sup or sup in _ANCESTORS.get(sub, _NONE)


def _names_types(t: Any) -> bool:
    if isinstance(t, FuncType):
        written: Sequence[str] = t.params + t.results
    elif isinstance(t, StructType):
        written = [f.storage for f in t.fields]
    elif isinstance(t, ArrayType):
        written = [t.element.storage]
    else:
        return True
    for v in written:
        rt = as_reftype(v)
        if rt is not None and isinstance(rt.heap, int):
            return True
    return False


def canonical_ids(types: Sequence[Any]) -> List[int]:
    """The canonical id of each type of a module's type section (see the module doc)."""
    if all(is_plain(t) and not _names_types(t) for t in types):
        return [type_id(t) for t in types]
    ids: List[int] = []
    n = len(types)
    i = 0
    while i < n:
        pos, size = getattr(types[i], "rec", (0, 1))
        if pos != 0 or size < 1:
            size = 1     # malformed structure (validation refuses it): a group of its own
        size = min(size, n - i)
        group = types[i:i + size]
        if size == 1 and is_plain(group[0]) and not _names_types(group[0]):
            ids.append(type_id(group[0]))
            i += 1
            continue
        start = i
        members = [_close_member(t, start, size, ids) for t in group]
        gid = type_id(("group", tuple(members)))
        for k, t in enumerate(group):
            tid = type_id((gid, k))
            ids.append(tid)
            supers = [s for s in t.supers if 0 <= s < start + k]
            if supers and tid not in _ANCESTORS:
                anc = set()
                for s in supers:
                    anc.add(ids[s])
                    anc.update(_ANCESTORS.get(ids[s], _NONE))
                _ANCESTORS[tid] = frozenset(anc)
        i += size
    return ids


def _close_member(t: Any, start: int, size: int, ids: List[int]) -> Hashable:
    """One member of the group ``[start, start + size)`` with its type indices closed."""

    def close_index(x: int) -> Hashable:
        if start <= x < start + size:
            return ("rec", x - start)
        if 0 <= x < start:
            return ids[x]
        return ("forward", x)        # invalid: refused by validation

    def close(v: str) -> Hashable:
        rt = as_reftype(v)
        if rt is None or not isinstance(rt.heap, int):
            return str(v)
        return (rt.nullable, close_index(rt.heap))

    def close_field(f: FieldType) -> Hashable:
        return (close(f.storage), f.mutable)

    comp: Hashable
    if isinstance(t, FuncType):
        comp = ("func", tuple(close(v) for v in t.params), tuple(close(v) for v in t.results))
    elif isinstance(t, StructType):
        comp = ("struct", tuple(close_field(f) for f in t.fields))
    elif isinstance(t, ArrayType):
        comp = ("array", close_field(t.element))
    else:
        comp = ("invalid", repr(t))
    return (bool(t.final), tuple(close_index(s) for s in t.supers), comp)


def group_bounds(types: Sequence[Any], index: int) -> Tuple[int, int]:
    """``(start, end)`` of the recursion group of type ``index``."""
    pos, size = getattr(types[index], "rec", (0, 1))
    start = index - pos
    return start, start + size
