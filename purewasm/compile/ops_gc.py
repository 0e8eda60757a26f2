"""Handlers of the GC instructions (Wasm 3.0, spec exec/instructions.rst "Aggregate
Reference Instructions"): i31, structs, arrays, casts, ref.eq, any/extern conversions.

Values follow runtime/gc.py (an i31 is an int, structs and arrays are objects carrying
their canonical type id, read here from the namespace's ``T<i>``). Everything that may
trap or allocates is an effect, emitted in order; the helpers (``GC_*``, bound by
support.base_namespace) hold the null and bounds checks. Packed fields are stored as
unsigned 8/16-bit ints: written masked, read zero- or sign-extended.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

from purewasm.syntax import PACKED_TYPES, FieldType, Instr
from purewasm.syntax.types import RefType

from . import names
from .registry import handles
from .stack import V

if TYPE_CHECKING:
    from .translate import Translator

_PACK_MASK = {"i8": "0xFF", "i16": "0xFFFF"}
_SIGN = {"i8": 0x80, "i16": 0x8000}
_DEFAULTS = {"i32": "0", "i64": "0", "v128": "0", "i8": "0", "i16": "0", "f32": "0.0",
             "f64": "0.0"}


def _unpacked(f: FieldType) -> str:
    return "i32" if f.storage in PACKED_TYPES else f.storage


def _stored(t: Translator, f: FieldType, v: V) -> str:
    """The raw value written to a field of type ``f``."""
    mask = _PACK_MASK.get(f.storage)
    if mask is None:
        return t.cx(v)
    return "%s & %s" % (t.pcx(v), mask)


def _loaded(f: FieldType, expr: str, op: str) -> str:
    """The value read from a field: packed ones sign-extended for ``*_s``."""
    if f.storage in _SIGN and op.endswith("_s"):
        sign = _SIGN[f.storage]
        return "((%s ^ %d) - %d) & 0xFFFFFFFF" % (expr, sign, sign)
    return expr


def _default(f: FieldType) -> str:
    return _DEFAULTS.get(f.storage, "None")


def _tid(x: int) -> str:
    return names.TYPE_ID % x


def _fields(t: Translator, x: int) -> Any:
    st: Any = t.module.types[x]    # validated: a struct type
    return st.fields


def _element(t: Translator, x: int) -> FieldType:
    st: Any = t.module.types[x]    # validated: an array type
    return st.element


# --- i31 and ref.eq ------------------------------------------------------------------------

@handles("ref.i31")
def ref_i31(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.pure("%s & 0x7FFFFFFF" % t.pcx(v), RefType(False, "i31"), (v,))


@handles("i31.get_u")
def i31_get_u(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.effect("GC_I31(%s)" % v.e, "i32")


@handles("i31.get_s")
def i31_get_s(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.effect("((GC_I31(%s) ^ 0x40000000) - 0x40000000) & 0xFFFFFFFF" % v.e, "i32")


@handles("ref.eq")
def ref_eq(t: Translator, ins: Instr) -> None:
    b, a = t.pop(), t.pop()
    t.pure("GC_EQ(%s, %s)" % (a.e, b.e), "i32", (a, b), isbool=True, bits=1)


@handles("any.convert_extern", "extern.convert_any")
def convert(t: Translator, ins: Instr) -> None:
    v = t.pop()
    helper = "GC_ANY_OF_EXTERN" if ins.op == "any.convert_extern" else "GC_EXTERN_OF_ANY"
    result = RefType(True, "any" if ins.op == "any.convert_extern" else "extern")
    t.effect("%s(%s)" % (helper, v.e), result)


# --- structs -------------------------------------------------------------------------------

@handles("struct.new")
def struct_new(t: Translator, ins: Instr) -> None:
    fields = _fields(t, ins.imm)
    t.shallow(len(fields))
    vals = t.popn(len(fields))
    items = ", ".join(_stored(t, f, v) for f, v in zip(fields, vals))
    t.effect("GC_STRUCT(%s, [%s])" % (_tid(ins.imm), items), RefType(False, ins.imm))


@handles("struct.new_default")
def struct_new_default(t: Translator, ins: Instr) -> None:
    items = ", ".join(_default(f) for f in _fields(t, ins.imm))
    t.effect("GC_STRUCT(%s, [%s])" % (_tid(ins.imm), items), RefType(False, ins.imm))


@handles("struct.get", "struct.get_s", "struct.get_u")
def struct_get(t: Translator, ins: Instr) -> None:
    x, k = ins.imm
    f = _fields(t, x)[k]
    s = t.pop()
    t.effect(_loaded(f, "GC_SREF(%s).fields[%d]" % (s.e, k), ins.op), _unpacked(f))


@handles("struct.set")
def struct_set(t: Translator, ins: Instr) -> None:
    x, k = ins.imm
    f = _fields(t, x)[k]
    v, s = t.pop(), t.pop()
    # The null check first (a materialised s), then the value (pure or materialised).
    t.emit("GC_SREF(%s).fields[%d] = %s" % (s.e, k, _stored(t, f, v)))


# --- arrays --------------------------------------------------------------------------------

@handles("array.new")
def array_new(t: Translator, ins: Instr) -> None:
    f = _element(t, ins.imm)
    n, v = t.pop(), t.pop()
    t.effect("GC_ARRAY_NEW(%s, %s, %s)" % (_tid(ins.imm), _stored(t, f, v), t.cx(n)),
             RefType(False, ins.imm))


@handles("array.new_default")
def array_new_default(t: Translator, ins: Instr) -> None:
    f = _element(t, ins.imm)
    n = t.pop()
    t.effect("GC_ARRAY_NEW(%s, %s, %s)" % (_tid(ins.imm), _default(f), t.cx(n)),
             RefType(False, ins.imm))


@handles("array.new_fixed")
def array_new_fixed(t: Translator, ins: Instr) -> None:
    x, n = ins.imm
    f = _element(t, x)
    t.shallow(n)
    vals: List[V] = t.popn(n)
    items = ", ".join(_stored(t, f, v) for v in vals)
    t.effect("GC_ARRAY(%s, [%s])" % (_tid(x), items), RefType(False, x))


@handles("array.new_data")
def array_new_data(t: Translator, ins: Instr) -> None:
    x, d = ins.imm
    n, s = t.pop(), t.pop()
    t.effect("GC_ARRAY_NEW_DATA(%s, %r, %s[%d], %s, %s)"
             % (_tid(x), _element(t, x).storage, names.DATAS, d, t.cx(s), t.cx(n)),
             RefType(False, x))


@handles("array.new_elem")
def array_new_elem(t: Translator, ins: Instr) -> None:
    x, e = ins.imm
    n, s = t.pop(), t.pop()
    t.effect("GC_ARRAY_NEW_ELEM(%s, %s[%d], %s, %s)"
             % (_tid(x), names.ELEMS, e, t.cx(s), t.cx(n)), RefType(False, x))


@handles("array.get", "array.get_s", "array.get_u")
def array_get(t: Translator, ins: Instr) -> None:
    f = _element(t, ins.imm)
    i, a = t.pop(), t.pop()
    t.effect(_loaded(f, "GC_ARRAY_GET(%s, %s)" % (a.e, t.cx(i)), ins.op), _unpacked(f))


@handles("array.set")
def array_set(t: Translator, ins: Instr) -> None:
    f = _element(t, ins.imm)
    v, i, a = t.pop(), t.pop(), t.pop()
    t.emit("GC_ARRAY_SET(%s, %s, %s)" % (a.e, t.cx(i), _stored(t, f, v)))


@handles("array.len")
def array_len(t: Translator, ins: Instr) -> None:
    a = t.pop()
    t.effect("GC_ARRAY_LEN(%s)" % a.e, "i32")


@handles("array.fill")
def array_fill(t: Translator, ins: Instr) -> None:
    f = _element(t, ins.imm)
    n, v, i, a = t.pop(), t.pop(), t.pop(), t.pop()
    t.emit("GC_ARRAY_FILL(%s, %s, %s, %s)" % (a.e, t.cx(i), _stored(t, f, v), t.cx(n)))


@handles("array.copy")
def array_copy(t: Translator, ins: Instr) -> None:
    n, s, src, d, dst = t.pop(), t.pop(), t.pop(), t.pop(), t.pop()
    t.emit("GC_ARRAY_COPY(%s, %s, %s, %s, %s)" % (dst.e, t.cx(d), src.e, t.cx(s), t.cx(n)))


@handles("array.init_data")
def array_init_data(t: Translator, ins: Instr) -> None:
    x, k = ins.imm
    n, s, d, a = t.pop(), t.pop(), t.pop(), t.pop()
    t.emit("GC_ARRAY_INIT_DATA(%s, %r, %s[%d], %s, %s, %s)"
           % (a.e, _element(t, x).storage, names.DATAS, k, t.cx(d), t.cx(s), t.cx(n)))


@handles("array.init_elem")
def array_init_elem(t: Translator, ins: Instr) -> None:
    x, k = ins.imm
    n, s, d, a = t.pop(), t.pop(), t.pop(), t.pop()
    t.emit("GC_ARRAY_INIT_ELEM(%s, %s[%d], %s, %s, %s)"
           % (a.e, names.ELEMS, k, t.cx(d), t.cx(s), t.cx(n)))


# --- casts ---------------------------------------------------------------------------------

def _test_args(rt: RefType) -> str:
    """GC_TEST/GC_CAST's arguments after the value: nullable, heap type, canonical id."""
    heap = rt.heap
    if isinstance(heap, int):
        return "%s, %d, %s" % (rt.nullable, heap, _tid(heap))
    return "%s, %r, -1" % (rt.nullable, str(heap))


@handles("ref.test")
def ref_test(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.pure("GC_TEST(%s, %s)" % (v.e, _test_args(ins.imm)), "i32", (v,), isbool=True,
           bits=1)


@handles("ref.cast")
def ref_cast(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.effect("GC_CAST(%s, %s)" % (v.e, _test_args(ins.imm)), ins.imm)


@handles("br_on_cast", "br_on_cast_fail")
def br_on_cast(t: Translator, ins: Instr) -> None:
    """Branch with the reference if the cast succeeds (br_on_cast) or fails
    (br_on_cast_fail); the reference stays on the stack on the other path."""
    label, _, rt2 = ins.imm
    c = t.lowering.pop_stable()
    t.push(c)
    f = t.ctrl[-1 - label]
    t.shallow(len(f.label_types()))
    test = "GC_TEST(%s, %s)" % (c.e, _test_args(rt2))
    t.open_suite("if %s%s:" % ("" if ins.op == "br_on_cast" else "not ", test))
    t.lowering.branch(label)
    t.ind -= 1
