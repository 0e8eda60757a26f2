"""Globals."""
from __future__ import annotations

from typing import Any

from purewasm import runtime as rt
from purewasm.errors import ArgumentTypeError, WasmtimeError

from ._extern import Extern, register_extern
from ._store import Storelike, rt_store
from ._types import GlobalType
from ._value import FROM_RAW, TO_RAW


class Global(Extern):
    """A global variable: a Wasm export, or a new one made for a store.

    Args:
        store: the store owning the global.
        ty: its type.
        val: its initial value.

    Raises:
        TypeError: for a ``ty`` that is not a GlobalType or a value of the wrong type.
        WasmtimeError: for a function of another store.
    """

    __slots__ = ()

    def __init__(self, store: Storelike, ty: GlobalType, val: Any) -> None:
        if not isinstance(ty, GlobalType):
            raise ArgumentTypeError("expected a GlobalType")
        rts = rt_store(store)
        raw = TO_RAW[ty._gt.content](val)
        if ty._gt.content == "funcref":
            rts.check_owned(raw, "global initial value")
        self._inst = rt.GlobalInstance(ty._gt, raw, rts)

    @classmethod
    def _wrap(cls, inst: rt.GlobalInstance) -> "Global":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Storelike) -> GlobalType:
        """The global's type."""
        return GlobalType._from(self._inst.type)

    def value(self, store: Storelike) -> Any:
        """The current value (an API value)."""
        return FROM_RAW[self._inst.type.content](self._inst.value)

    def set_value(self, store: Storelike, val: Any) -> None:
        """Set the value.

        Raises:
            WasmtimeError: for an immutable global or a function of another store.
            TypeError: for a value of the wrong type.
        """
        if not self._inst.type.mutable:
            raise WasmtimeError("immutable global cannot be set")
        raw = TO_RAW[self._inst.type.content](val)
        if self._inst.type.content == "funcref" and self._inst.store is not None:
            self._inst.store.check_owned(raw, "function")
        self._inst.value = raw


register_extern(rt.GlobalInstance, Global._wrap)
