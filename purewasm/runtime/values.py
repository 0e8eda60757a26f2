"""Raw value helpers: default values, function type identities, and the f32 value of an
embedder's float (the f32/f64 bit conversions are numeric's, re-exported here).

Raw values follow docs/INTERNALS.md ("Raw values"): i32/i64 are unsigned canonical ints,
an f32 is a Python float holding the exact f32 value whose NaN payload is widened
(f32 bits ``s|e|m`` <-> f64 bits ``s<<63 | 0x7FF<<52 | m<<29``), f64 a float, v128 an int,
references a FuncInstance / any object, ``None`` being null.
"""
from __future__ import annotations

from typing import Any, Hashable, List, Sequence

from purewasm.numeric import f32_from_bits, f32_round, f32_to_bits, f64_from_bits, f64_to_bits
from purewasm.syntax import canon

__all__ = ["MASK32", "MASK64", "MASK128", "f32_value", "f32_from_bits", "f32_to_bits",
           "f64_from_bits", "f64_to_bits", "default_value", "type_id",
           "module_type_ids"]

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF
MASK128 = (1 << 128) - 1


def f32_value(value: float) -> float:
    """The raw f32 nearest to an embedder's float, NaN payload kept (numeric.f32_round,
    used for arithmetic, quiets NaNs as the spec allows there)."""
    if value != value:
        return f32_from_bits(f32_to_bits(value))
    return f32_round(value)


def default_value(valtype: str) -> Any:
    """The default value of a type (spec exec/runtime.rst, "Default values")."""
    if valtype in ("i32", "i64", "v128"):
        return 0
    if valtype in ("f32", "f64"):
        return 0.0
    return None


def type_id(functype: Hashable) -> int:
    """A small int equal for structurally equal function types, across the whole process.

    call_indirect compares these instead of the types themselves (spec 4.4.7; Wasm 3.0:
    the callee's type must match, :func:`syntax.canon.is_subtype_id` when they differ).
    A type that names other types by index, or has GC structure, is module-relative: its
    id comes from its canonical form (:func:`module_type_ids`).
    """
    return canon.type_id(functype)


def module_type_ids(types: Sequence[Any]) -> List[int]:
    """The canonical type id of each of a module's types: equal across modules for
    equivalent types (iso-recursive equivalence, ``syntax.canon``)."""
    return canon.canonical_ids(types)
