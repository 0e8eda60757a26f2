"""Raw value helpers: f32/f64 bit conversions, default values, function type identities.

Raw values follow docs/INTERNALS.md ("Raw values"): i32/i64 are unsigned canonical ints,
an f32 is a Python float holding the exact f32 value whose NaN payload is widened
(f32 bits ``s|e|m`` <-> f64 bits ``s<<63 | 0x7FF<<52 | m<<29``), f64 a float, v128 an int,
references a FuncInstance / any object, ``None`` being null.
"""
from __future__ import annotations

import math
import struct
import threading
from typing import Any, Dict

from purewasm.syntax import FuncType

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF
MASK128 = (1 << 128) - 1


def f32_from_bits(bits: int) -> float:
    """The raw f32 value of the IEEE single bit pattern ``bits`` (NaN payload preserved)."""
    if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:
        # struct '<f' would quiet a signalling NaN: build the widened f64 NaN by hand.
        return _F64.unpack(_U64.pack(((bits >> 31) << 63) | (0x7FF << 52)
                                     | ((bits & 0x7FFFFF) << 29)))[0]
    return _F32.unpack(_U32.pack(bits & MASK32))[0]


def f32_to_bits(value: float) -> int:
    """The IEEE single bit pattern of a raw f32 value (the inverse of f32_from_bits)."""
    if value != value:
        b = _U64.unpack(_F64.pack(value))[0]
        payload = (b >> 29) & 0x7FFFFF
        if not payload:
            # A NaN whose payload sits only in the low 29 bits has no f32 image; keep it a
            # NaN (a zero mantissa would read as infinity): quiet NaN of the same sign.
            payload = 0x400000
        return ((b >> 63) << 31) | 0x7F800000 | payload
    return _U32.unpack(_F32.pack(value))[0]


def f32_round(value: float) -> float:
    """Round an arbitrary Python float to a raw f32 value (used for values from the embedder)."""
    if value != value:
        return f32_from_bits(f32_to_bits(value))
    try:
        return _F32.unpack(_F32.pack(value))[0]
    except OverflowError:
        # Only raised when rounding to nearest f32 really overflows (CPython's PyFloat_Pack4).
        return math.copysign(math.inf, value)


def f64_from_bits(bits: int) -> float:
    return _F64.unpack(_U64.pack(bits & MASK64))[0]


def f64_to_bits(value: float) -> int:
    return _U64.unpack(_F64.pack(value))[0]


def default_value(valtype: str) -> Any:
    """The default value of a type (spec exec/runtime.rst, "Default values")."""
    if valtype in ("i32", "i64", "v128"):
        return 0
    if valtype in ("f32", "f64"):
        return 0.0
    return None


_TYPE_IDS: Dict[FuncType, int] = {}
_TYPE_IDS_LOCK = threading.Lock()


def type_id(functype: FuncType) -> int:
    """A small int equal for structurally equal function types, across the whole process.

    call_indirect compares these instead of the types themselves (spec 4.4.7: the types
    must match exactly; Wasm 2.0 function types are compared structurally).
    """
    tid = _TYPE_IDS.get(functype)
    if tid is None:
        with _TYPE_IDS_LOCK:
            tid = _TYPE_IDS.setdefault(functype, len(_TYPE_IDS))
    return tid
