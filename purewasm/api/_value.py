"""Values at the API and their conversion to and from the runtime's raw values.

API values: i32/i64 accept signed or unsigned ints and come back signed (as wasmtime-py);
f32/f64 are Python floats (an f32 is rounded to single precision on the way in); v128 an
int in ``[0, 2**128)``; funcref a :class:`Func` or None; externref any object or None.
Raw values are the runtime's (docs/INTERNALS.md): unsigned ints, floats, FuncInstance.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from purewasm import runtime as rt
from purewasm.errors import WasmException, WasmtimeError
from purewasm.runtime.values import MASK32, MASK64, MASK128, f32_value
from purewasm.syntax.types import as_reftype, top_heap

from ._extern import Extern, wrap_extern
from ._types import ValType


def _signed32(v: int) -> int:
    # int(): generated code may hand back a comparison result as a bool.
    return v - 0x100000000 if v & 0x80000000 else int(v)


def _signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else int(v)


class Val:
    """A typed value (``Val.i32(5)``): ``.value`` is the Python value, ``.type`` its
    :class:`ValType`. Functions accept plain Python values too; a Val fixes the type where
    it would be ambiguous. A Val compares equal to a Val of the same type and value, and to
    its plain value.
    """

    __slots__ = ("_kind", "_val")

    def __init__(self, kind: str, val: Any) -> None:
        self._kind = kind
        self._val = val

    @classmethod
    def i32(cls, val: int) -> "Val":
        """An i32 (stored signed; any int is taken modulo 2**32).

        Raises:
            TypeError: when ``val`` is not an int.
        """
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("i32", _signed32(val & MASK32))

    @classmethod
    def i64(cls, val: int) -> "Val":
        """An i64 (stored signed; any int is taken modulo 2**64).

        Raises:
            TypeError: when ``val`` is not an int.
        """
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("i64", _signed64(val & MASK64))

    @classmethod
    def f32(cls, val: float) -> "Val":
        """An f32 (rounded to single precision, NaN payloads kept).

        Raises:
            TypeError: when ``val`` is not a float (an int is refused, as in wasmtime-py).
        """
        if not isinstance(val, float):      # as wasmtime-py: an int is refused here
            raise TypeError("expected a float")
        return Val("f32", f32_value(val))

    @classmethod
    def f64(cls, val: float) -> "Val":
        """An f64.

        Raises:
            TypeError: when ``val`` is not a float.
        """
        if not isinstance(val, float):
            raise TypeError("expected a float")
        return Val("f64", val)

    @classmethod
    def v128(cls, val: int) -> "Val":
        """A v128, as an int (lane 0 in the low bits; taken modulo 2**128).

        Raises:
            TypeError: when ``val`` is not an int.
        """
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("v128", val & MASK128)

    @classmethod
    def externref(cls, extern: Optional[Any]) -> "Val":
        """An externref holding any Python object (None: the null reference)."""
        return Val("externref", extern)

    @classmethod
    def funcref(cls, f: Optional[Any]) -> "Val":
        """A funcref holding a :class:`Func` (None: the null reference)."""
        return Val("funcref", f)

    @classmethod
    def ref_null(cls, ty: ValType) -> "Val":
        """The null reference of reference type ``ty``.

        Raises:
            WasmtimeError: when ``ty`` is not a reference type.
        """
        if ty == ValType.externref():
            return Val.externref(None)
        if ty == ValType.funcref():
            return Val.funcref(None)
        raise WasmtimeError("Invalid reference type for `ref_null`: %s" % ty)

    def __eq__(self, rhs: Any) -> Any:
        if isinstance(rhs, Val):
            return self._kind == rhs._kind and self._val == rhs._val
        return self._val == rhs

    def __hash__(self) -> int:
        return hash((self._kind, self._val))

    def __repr__(self) -> str:
        return "Val.%s(%r)" % (self._kind, self._val)

    @property
    def value(self) -> Any:
        """The Python value."""
        return self._val

    @property
    def type(self) -> ValType:
        """The value's type."""
        return ValType._of(self._kind)

    def as_i32(self) -> Optional[int]:
        """The value if this is an i32, else None."""
        return self._val if self._kind == "i32" else None

    def as_i64(self) -> Optional[int]:
        """The value if this is an i64, else None."""
        return self._val if self._kind == "i64" else None

    def as_f32(self) -> Optional[float]:
        """The value if this is an f32, else None."""
        return self._val if self._kind == "f32" else None

    def as_f64(self) -> Optional[float]:
        """The value if this is an f64, else None."""
        return self._val if self._kind == "f64" else None

    def as_externref(self) -> Optional[Any]:
        """The value if this is an externref, else None."""
        return self._val if self._kind == "externref" else None

    def as_funcref(self) -> Optional[Any]:
        """The :class:`Func` if this is a funcref, else None."""
        return self._val if self._kind == "funcref" else None


def _unwrap_val(kind: str, val: Any) -> Any:
    if isinstance(val, Val):
        if val._kind != kind:
            raise TypeError("wrong type of `Val` provided")
        return val._val
    return val


def _i32_to_raw(val: Any) -> int:
    val = _unwrap_val("i32", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to i32" % (val,))
    return val & MASK32


def _i64_to_raw(val: Any) -> int:
    val = _unwrap_val("i64", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to i64" % (val,))
    return val & MASK64


def _f32_to_raw(val: Any) -> float:
    val = _unwrap_val("f32", val)
    if not isinstance(val, (float, int)):
        raise TypeError("don't know how to convert %r to f32" % (val,))
    return f32_value(float(val))


def _f64_to_raw(val: Any) -> float:
    val = _unwrap_val("f64", val)
    if not isinstance(val, (float, int)):
        raise TypeError("don't know how to convert %r to f64" % (val,))
    return float(val)


def _v128_to_raw(val: Any) -> int:
    val = _unwrap_val("v128", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to v128" % (val,))
    return val & MASK128


def _funcref_to_raw(val: Any) -> Optional[rt.FuncInstance]:
    val = _unwrap_val("funcref", val)
    if val is None:
        return None
    if isinstance(val, Extern) and isinstance(val._inst, rt.FuncInstance):
        return val._inst
    if isinstance(val, rt.FuncInstance):
        return val
    raise TypeError("don't know how to convert %r to funcref" % (val,))


def _exnref_to_raw(val: Any) -> Any:
    # An exnref is a caught Wasm exception (errors.WasmException) or None.
    if val is None or isinstance(val, WasmException):
        return val
    raise TypeError("don't know how to convert %r to exnref" % (val,))


def _externref_to_raw(val: Any) -> Any:
    if isinstance(val, Val):
        return val._val
    return val


class _Conversions(Dict[str, Callable[[Any], Any]]):
    """Conversions by value type; a typed reference type (Wasm 3.0: "(ref 0)", "(ref
    null extern)", …) converts as the top of its hierarchy (funcref for function types,
    externref, and opaque values for the others), a non-nullable one refusing None."""

    def __init__(self, table: Dict[str, Callable[[Any], Any]], check_null: bool,
                 concrete: Callable[[Any], Any]) -> None:
        super().__init__(table)
        self.check_null = check_null
        # A type index names a function, struct or array type of *some* module ("(ref 0)"
        # is module-relative): the value itself says which (GC values are opaque).
        self.concrete = concrete

    def __missing__(self, key: str) -> Callable[[Any], Any]:
        rt_ = as_reftype(key)
        if rt_ is None:
            raise KeyError(key)
        if isinstance(rt_.heap, int):
            base = self.concrete
        else:
            base = self["funcref" if top_heap(rt_.heap) == "func" else "externref"]
        conv = base
        if self.check_null and not rt_.nullable:
            def conv(val: Any) -> Any:
                raw = base(val)
                if raw is None:
                    raise TypeError("null is not a value of the non-nullable type %s" % key)
                return raw
        self[key] = conv
        return conv


def _concrete_to_raw(val: Any) -> Any:
    """A value of a concrete reference type: a Func (function types), else a GC value
    (struct, array) handed back as the API received it."""
    if isinstance(val, Val):
        val = val._val
    if isinstance(val, (Extern, rt.FuncInstance)):
        return _funcref_to_raw(val)
    return val


def _concrete_from_raw(v: Any) -> Any:
    return wrap_extern(v) if isinstance(v, rt.FuncInstance) else v


TO_RAW: Dict[str, Callable[[Any], Any]] = _Conversions({
    "i32": _i32_to_raw, "i64": _i64_to_raw, "f32": _f32_to_raw, "f64": _f64_to_raw,
    "v128": _v128_to_raw, "funcref": _funcref_to_raw, "externref": _externref_to_raw,
    "exnref": _exnref_to_raw,
}, True, _concrete_to_raw)


def _identity(v: Any) -> Any:
    return v


def _float_result(conv: Callable[[Any], float]) -> Callable[[Any], float]:
    """A host function's f32/f64 result must be a float (or a Val of that type), as in
    wasmtime-py, which raises TypeError for an int: silently widening would hide a host
    bug that wasmtime reports."""
    def check(val: Any) -> float:
        if not isinstance(val, (float, Val)):
            raise TypeError("host function returned %r where a float was expected" % (val,))
        return conv(val)
    return check


# Results of host functions: as TO_RAW, stricter where wasmtime-py is.
RESULT_TO_RAW: Dict[str, Callable[[Any], Any]] = _Conversions(dict(
    TO_RAW, f32=_float_result(_f32_to_raw), f64=_float_result(_f64_to_raw)), True,
    _concrete_to_raw)


def _funcref_from_raw(v: Any) -> Any:
    return None if v is None else wrap_extern(v)


FROM_RAW: Dict[str, Callable[[Any], Any]] = _Conversions({
    "i32": _signed32, "i64": _signed64, "f32": _identity, "f64": _identity,
    "v128": _identity, "funcref": _funcref_from_raw, "externref": _identity,
    "exnref": _identity,
}, False, _concrete_from_raw)


def funcref_to_raw(val: Any) -> Optional[rt.FuncInstance]:
    """The FuncInstance of a funcref API value (Func, Val.funcref, FuncInstance or None)."""
    return _funcref_to_raw(val)


def to_raw(valtype: str, val: Any) -> Any:
    """Convert an API value (or Val) of type ``valtype`` to its raw runtime form."""
    return TO_RAW[valtype](val)


def from_raw(valtype: str, raw: Any) -> Any:
    """Convert a raw runtime value of type ``valtype`` to its API form."""
    return FROM_RAW[valtype](raw)
