"""Tables of references."""
from __future__ import annotations

from typing import Any, Optional

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import ArgumentTypeError, WasmtimeError

from ._extern import Extern, register_extern
from ._store import Storelike, rt_store
from ._types import TableType
from ._value import FROM_RAW, TO_RAW


class Table(Extern):
    """A table of references: a Wasm export, or a new one made for a store.

    Args:
        store: the store owning the table.
        ty: its type.
        init: the initial value of every element (a Func, an extern object, or None).

    Raises:
        TypeError: for a ``ty`` that is not a TableType or an ``init`` of the wrong type.
        WasmtimeError: for a function of another store.
    """

    __slots__ = ()

    def __init__(self, store: Storelike, ty: TableType, init: Any) -> None:
        if not isinstance(ty, TableType):
            raise ArgumentTypeError("expected a TableType")
        raw = TO_RAW[ty._tt.element](init)
        rts = rt_store(store)
        if ty._tt.element == "funcref":
            rts.check_owned(raw, "table initial value")
        self._inst = rts.new_table(ty._tt, raw)

    @classmethod
    def _wrap(cls, inst: rt.TableInstance) -> "Table":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Storelike) -> TableType:
        """The table's declared type."""
        inst = self._inst
        return TableType._from(syntax.TableType(inst.element_type,
                                                syntax.Limits(inst.min, inst.max),
                                                inst.address))

    def size(self, store: Storelike) -> int:
        """The current number of elements."""
        return len(self._inst.elements)

    def grow(self, store: Storelike, amt: int, init: Any) -> int:
        """Add ``amt`` elements set to ``init``; returns the previous size.

        Raises:
            WasmtimeError: when the table cannot grow (its maximum or the store's limits).
            TypeError: for an ``init`` of the wrong type.
        """
        raw = self._raw(init)
        old = self._inst.grow(amt, raw)
        if old < 0:
            raise WasmtimeError("failed to grow table by `%d`" % amt)
        return old

    def get(self, store: Storelike, idx: int) -> Optional[Any]:
        """The element at ``idx`` (a Func, an extern object, or None for null / out of bounds)."""
        elements = self._inst.elements
        if not 0 <= idx < len(elements):
            return None
        return FROM_RAW[self._inst.element_type](elements[idx])

    def _raw(self, val: Any) -> Any:
        """An element value for this table; a function of another store is refused (it
        would run with that store's instances, limits and fuel)."""
        inst = self._inst
        raw = TO_RAW[inst.element_type](val)
        if inst.element_type == "funcref" and inst.store is not None:
            inst.store.check_owned(raw, "function")
        return raw

    def set(self, store: Storelike, idx: int, val: Any) -> None:
        """Set the element at ``idx``.

        Raises:
            WasmtimeError: for an index out of bounds or a function of another store.
            TypeError: for a value of the wrong type.
        """
        raw = self._raw(val)
        elements = self._inst.elements
        if not 0 <= idx < len(elements):
            raise WasmtimeError("table element index out of bounds")
        elements[idx] = raw


register_extern(rt.TableInstance, Table._wrap)
