"""Types of the API: value, function, global, table and memory types, import/export types.

They wrap purewasm.syntax's types (``_ft``, ``_gt``, ``_tt``, ``_mt``) and are immutable
values: equal when the types they describe are equal.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import ArgumentTypeError, WasmtimeError


class ValType:
    """A value type: ``ValType.i32()``, ``.i64()``, ``.f32()``, ``.f64()``, ``.v128()``,
    ``.funcref()`` or ``.externref()``. One object per type; ``str()`` gives its name.

    Raises:
        WasmtimeError: when constructed directly (use the class methods).
    """

    __slots__ = ("_name",)
    _name: str
    _cache: Dict[str, "ValType"] = {}

    def __init__(self) -> None:
        raise WasmtimeError("cannot construct directly")

    @classmethod
    def _of(cls, name: str) -> "ValType":
        vt = cls._cache.get(name)
        if vt is None:
            vt = object.__new__(cls)
            vt._name = name
            cls._cache[name] = vt
        return vt

    @classmethod
    def i32(cls) -> "ValType":
        """The 32-bit integer type."""
        return cls._of("i32")

    @classmethod
    def i64(cls) -> "ValType":
        """The 64-bit integer type."""
        return cls._of("i64")

    @classmethod
    def f32(cls) -> "ValType":
        """The single-precision float type."""
        return cls._of("f32")

    @classmethod
    def f64(cls) -> "ValType":
        """The double-precision float type."""
        return cls._of("f64")

    @classmethod
    def v128(cls) -> "ValType":
        """The 128-bit vector type (values are ints in ``[0, 2**128)``)."""
        return cls._of("v128")

    @classmethod
    def externref(cls) -> "ValType":
        """The type of references to host objects (any Python object, or None)."""
        return cls._of("externref")

    @classmethod
    def funcref(cls) -> "ValType":
        """The type of function references (a :class:`Func`, or None)."""
        return cls._of("funcref")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValType) and other._name == self._name

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._name)

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return self._name


def _valtype_name(vt: Any) -> str:
    if isinstance(vt, ValType):
        return vt._name
    raise ArgumentTypeError("expected ValType")


class FuncType:
    """A function signature: parameter and result types.

    Args:
        params: the parameter types, in order.
        results: the result types, in order.

    Raises:
        TypeError: when an element is not a :class:`ValType`.
    """

    def __init__(self, params: Sequence[ValType], results: Sequence[ValType]) -> None:
        self._ft = syntax.FuncType(tuple(_valtype_name(p) for p in params),
                                   tuple(_valtype_name(r) for r in results))

    @classmethod
    def _from(cls, ft: syntax.FuncType) -> "FuncType":
        obj = cls.__new__(cls)
        obj._ft = syntax.FuncType(tuple(ft.params), tuple(ft.results))
        return obj

    @property
    def params(self) -> List[ValType]:
        """The parameter types."""
        return [ValType._of(p) for p in self._ft.params]

    @property
    def results(self) -> List[ValType]:
        """The result types."""
        return [ValType._of(r) for r in self._ft.results]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FuncType) and other._ft == self._ft

    def __hash__(self) -> int:
        return hash(self._ft)

    def __repr__(self) -> str:
        return "FuncType(%s)" % (self._ft,)


class GlobalType:
    """The type of a global: its content type and whether it is mutable.

    Args:
        valtype: the type of the global's value.
        mutable: True for a global that ``global.set`` / :meth:`Global.set_value` may change.

    Raises:
        TypeError: when ``valtype`` is not a :class:`ValType`.
    """

    def __init__(self, valtype: ValType, mutable: bool) -> None:
        self._gt = syntax.GlobalType(_valtype_name(valtype), bool(mutable))

    @classmethod
    def _from(cls, gt: syntax.GlobalType) -> "GlobalType":
        obj = cls.__new__(cls)
        obj._gt = gt
        return obj

    @property
    def content(self) -> ValType:
        """The type of the global's value."""
        return ValType._of(self._gt.content)

    @property
    def mutable(self) -> bool:
        """Whether the global may be set."""
        return self._gt.mutable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlobalType) and other._gt == self._gt

    def __hash__(self) -> int:
        return hash(self._gt)

    def __repr__(self) -> str:
        return "GlobalType(%s, mutable=%s)" % (self._gt.content, self._gt.mutable)


class Limits:
    """Size limits of a table (elements) or memory (pages).

    Args:
        min: the initial / minimum size.
        max: the maximum size, or None for no maximum.
    """

    def __init__(self, min: int, max: Optional[int]) -> None:  # noqa: A002 - wasmtime's names
        self.min = min
        self.max = max

    def _syntax(self) -> syntax.Limits:
        return syntax.Limits(self.min, self.max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and self.min == other.min and self.max == other.max

    def __hash__(self) -> int:
        return hash((self.min, self.max))

    def __repr__(self) -> str:
        return "Limits(%r, %r)" % (self.min, self.max)


class TableType:
    """The type of a table: its element type (a reference type) and limits.

    Args:
        valtype: ``ValType.funcref()`` or ``ValType.externref()``.
        limits: the table's size limits, in elements.
        is_64: a table with i64 indices (Wasm 3.0 table64).

    Raises:
        TypeError: when ``limits`` is not a :class:`Limits` or ``valtype`` not a ValType.
        WasmtimeError: when ``valtype`` is not a reference type.
    """

    def __init__(self, valtype: ValType, limits: Limits, is_64: bool = False) -> None:
        if not isinstance(limits, Limits):
            raise ArgumentTypeError("expected Limits")
        name = _valtype_name(valtype)
        if name not in syntax.REF_TYPES:
            raise WasmtimeError("table element type must be a reference type")
        bound = rt.MAX_TABLE_64 if is_64 else rt.MAX_TABLE_32
        for value in (limits.min, limits.max):
            if value is not None and not 0 <= value <= bound:
                raise WasmtimeError("table size out of range for a %d-bit table"
                                    % (64 if is_64 else 32))
        self._tt = syntax.TableType(name, limits._syntax(), "i64" if is_64 else "i32")

    @classmethod
    def _from(cls, tt: syntax.TableType) -> "TableType":
        obj = cls.__new__(cls)
        obj._tt = tt
        return obj

    @property
    def element(self) -> ValType:
        """The element type."""
        return ValType._of(self._tt.element)

    @property
    def limits(self) -> Limits:
        """The size limits, in elements."""
        return Limits(self._tt.limits.min, self._tt.limits.max)

    @property
    def is_64(self) -> bool:
        """Whether the table's indices are i64 (Wasm 3.0 table64)."""
        return self._tt.is_64

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableType) and other._tt == self._tt

    def __hash__(self) -> int:
        return hash(self._tt)


class MemoryType:
    """The type of a linear memory: limits in 64 KiB pages, and whether it is shared.

    Args:
        limits: the size limits, in pages (at most 65,536; 2^48 for a 64-bit memory).
        is_64: a 64-bit memory (Wasm 3.0 memory64): i64 addresses.
        shared: a shared memory (threads proposal).
        page_size_log2: log2 of the page size (custom page sizes; only 16 is supported).

    Raises:
        TypeError: when ``limits`` is not a :class:`Limits`.
        WasmtimeError: for an unsupported setting or a size above the address type's bound.
    """

    def __init__(self, limits: Limits, is_64: bool = False, shared: bool = False,
                 page_size_log2: int = 16) -> None:
        if not isinstance(limits, Limits):
            raise ArgumentTypeError("expected Limits")
        if page_size_log2 != 16:
            raise WasmtimeError("custom page sizes are not supported")
        bound = rt.MAX_PAGES_64 if is_64 else rt.MAX_PAGES
        if limits.min > bound:
            raise WasmtimeError("minimum size too large")
        if limits.max is not None and limits.max > bound:
            raise WasmtimeError("maximum size too large")
        self._mt = syntax.MemoryType(limits._syntax(), bool(shared),
                                     "i64" if is_64 else "i32")

    @classmethod
    def _from(cls, mt: syntax.MemoryType) -> "MemoryType":
        obj = cls.__new__(cls)
        obj._mt = mt
        return obj

    @property
    def limits(self) -> Limits:
        """The size limits, in pages."""
        return Limits(self._mt.limits.min, self._mt.limits.max)

    @property
    def is_64(self) -> bool:
        """Whether the memory's addresses are i64 (Wasm 3.0 memory64)."""
        return self._mt.is_64

    @property
    def is_shared(self) -> bool:
        """Whether the memory is shared."""
        return self._mt.shared

    @property
    def page_size(self) -> int:
        """The page size in bytes (65,536)."""
        return rt.PAGE_SIZE

    @property
    def page_size_log2(self) -> int:
        """log2 of the page size (16)."""
        return 16

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryType) and other._mt == self._mt

    def __hash__(self) -> int:
        return hash(self._mt)


class TagType:
    """The type of a tag (exception handling): the function type whose parameters are
    the payload of the exceptions of the tag (its results are empty).

    Raises:
        TypeError: when ``functype`` is not a :class:`FuncType`.
    """

    def __init__(self, functype: FuncType) -> None:
        if not isinstance(functype, FuncType):
            raise ArgumentTypeError("expected a FuncType")
        self._ft = functype._ft

    @classmethod
    def _from(cls, ft: syntax.FuncType) -> "TagType":
        return cls(FuncType._from(ft))

    @property
    def functype(self) -> FuncType:
        """The function type describing the payload."""
        return FuncType._from(self._ft)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TagType) and other._ft == self._ft

    def __hash__(self) -> int:
        return hash(("tag", self._ft))

    def __repr__(self) -> str:
        return "TagType(%s)" % (self._ft,)


AsExternType = Union[FuncType, TableType, MemoryType, GlobalType, TagType]


def _wrap_import_type(kind: str, desc: Any, module: syntax.Module) -> AsExternType:
    if kind == syntax.FUNC:
        return FuncType._from(module.func_type(desc))
    if kind == syntax.TAG:
        return TagType._from(module.func_type(desc.type_index))
    if kind == syntax.TABLE:
        return TableType._from(desc)
    if kind == syntax.MEMORY:
        return MemoryType._from(desc)
    return GlobalType._from(desc)


class ImportType:
    """One import of a module (see :attr:`Module.imports`): module name, field name, type."""

    def __init__(self, module: str, name: Optional[str], ty: AsExternType) -> None:
        self._module = module
        self._name = name
        self._type = ty

    @property
    def module(self) -> str:
        """The module name of the import."""
        return self._module

    @property
    def name(self) -> Optional[str]:
        """The field name of the import."""
        return self._name

    @property
    def type(self) -> AsExternType:
        """The type of the imported item (FuncType, TableType, MemoryType or GlobalType)."""
        return self._type

    def __repr__(self) -> str:
        return "ImportType(%r, %r, %r)" % (self._module, self._name, self._type)


class ExportType:
    """One export of a module (see :attr:`Module.exports`): name and type."""

    def __init__(self, name: str, ty: AsExternType) -> None:
        self._name = name
        self._type = ty

    @property
    def name(self) -> str:
        """The export's name."""
        return self._name

    @property
    def type(self) -> AsExternType:
        """The type of the exported item (FuncType, TableType, MemoryType or GlobalType)."""
        return self._type

    def __repr__(self) -> str:
        return "ExportType(%r, %r)" % (self._name, self._type)
