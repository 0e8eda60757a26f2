"""Tags (exception handling): the identity an exception is caught by."""
from __future__ import annotations

from typing import Any, List, Sequence

from purewasm import runtime as rt
from purewasm.errors import ArgumentTypeError, WasmException, WasmtimeError

from ._extern import Extern, register_extern
from ._store import Storelike, rt_store
from ._types import TagType
from ._value import FROM_RAW, TO_RAW


class Tag(Extern):
    """A tag: a Wasm export, or a new one made for a store (wasmtime-py's ``Tag``).

    Each tag is its own identity: two tags of the same type are different tags, and a
    ``try_table`` catch clause matches only exceptions of its very tag.

    Args:
        store: the store owning the tag.
        ty: its type.

    Raises:
        TypeError: when ``ty`` is not a :class:`TagType`.

    Beyond wasmtime-py: :meth:`exception` makes a Wasm exception of this tag that a host
    function may raise (it unwinds through the Wasm frames up to a matching
    ``try_table``), and :meth:`payload` reads an exception's values back.
    """

    __slots__ = ()

    def __init__(self, store: Storelike, ty: TagType) -> None:
        if not isinstance(ty, TagType):
            raise ArgumentTypeError("expected a TagType")
        self._inst = rt.TagInstance(ty._ft, rt_store(store))

    @classmethod
    def _wrap(cls, inst: rt.TagInstance) -> "Tag":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Storelike) -> TagType:
        """The tag's type."""
        return TagType._from(self._inst.type)

    def eq(self, store: Storelike, other: "Tag") -> bool:
        """Whether ``other`` is this very tag (the same definition)."""
        return isinstance(other, Tag) and other._inst is self._inst

    def exception(self, store: Storelike, values: Sequence[Any] = ()) -> WasmException:
        """A new Wasm exception of this tag with the payload ``values`` (API values, one
        per parameter of the tag's function type), for a host function to ``raise``.

        Raises:
            WasmtimeError: for a wrong number of values.
            TypeError: for a value of the wrong type.
        """
        params = self._inst.type.params
        if len(values) != len(params):
            raise WasmtimeError("tag payload has %d values, %d given"
                                % (len(params), len(values)))
        return WasmException(self._inst, tuple(TO_RAW[t](v) for t, v in zip(params, values)))

    def payload(self, store: Storelike, exc: WasmException) -> List[Any]:
        """The payload of ``exc`` (an exception of this tag) as API values.

        Raises:
            WasmtimeError: when ``exc`` is not an exception of this tag.
        """
        if not isinstance(exc, WasmException) or exc.tag is not self._inst:
            raise WasmtimeError("not an exception of this tag")
        return [FROM_RAW[t](v) for t, v in zip(self._inst.type.params, exc.values)]


register_extern(rt.TagInstance, Tag._wrap)
