"""The common base of the extern objects (Func, Memory, Table, Global) and the mapping
between them and the runtime's instances.

It sits below the modules defining the externs, so that the value conversions (funcref) and
Caller can wrap a runtime instance without importing those modules: each extern class
registers its wrapper here when it is defined.
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from purewasm.errors import ArgumentTypeError, WasmtimeError


class Extern:
    """Base of :class:`Func`, :class:`Memory`, :class:`Table` and :class:`Global`: an API
    object wrapping one runtime instance (``_inst``). Two externs are equal when they wrap
    the same instance."""

    __slots__ = ("_inst",)

    _inst: Any

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._inst is self._inst  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return id(self._inst)


# Runtime instance class -> function wrapping such an instance in its API class.
_WRAPPERS: Dict[type, Callable[[Any], Extern]] = {}


def register_extern(runtime_class: type, wrap: Callable[[Any], Extern]) -> None:
    """Make :func:`wrap_extern` wrap instances of ``runtime_class`` with ``wrap``."""
    _WRAPPERS[runtime_class] = wrap


def wrap_extern(item: Any) -> Any:
    """The API object (Func, Memory, Table, Global) for a runtime instance."""
    for klass in type(item).__mro__:
        wrap = _WRAPPERS.get(klass)
        if wrap is not None:
            return wrap(item)
    raise WasmtimeError("unknown extern")


def extern_instance(item: Any) -> Any:
    """The runtime instance of an extern (an API extern or a runtime instance)."""
    if isinstance(item, Extern):
        return item._inst
    if isinstance(item, tuple(_WRAPPERS)):
        return item
    raise ArgumentTypeError("expected a Func, Global, Memory, Table, or Tag")
