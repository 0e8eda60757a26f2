"""The one error hierarchy of purewasm.

Every error purewasm raises on purpose derives from :class:`WasmtimeError` (the name
wasmtime-py users catch; ``PurewasmError`` is the same class). The subclasses follow the
spec's vocabulary: *malformed* (decoding / text parsing), *invalid* (validation),
*unlinkable* (import matching), and :class:`Trap` (a runtime trap, with a :class:`TrapCode`);
:class:`EncodeError` is the encoder's (a ``syntax.Module`` that has no binary form).
No check of ours is an ``assert``: ``python -O`` would remove it.
"""
from __future__ import annotations

import enum
from typing import List, Optional, Union


class WasmtimeError(Exception):
    """Base class of every error purewasm raises on purpose."""


PurewasmError = WasmtimeError


class MalformedError(WasmtimeError):
    """The binary (or text) is not well formed: the spec's "malformed".

    ``offset`` is the byte offset in the binary (or None); for text input ``line`` and
    ``column`` locate the error.
    """

    def __init__(self, message: str, offset: Optional[int] = None,
                 line: Optional[int] = None, column: Optional[int] = None) -> None:
        self.reason = message
        self.offset = offset
        self.line = line
        self.column = column
        if line is not None:
            where = "%d:%d: " % (line, column or 0)
        elif offset is not None:
            where = "at offset 0x%x: " % offset
        else:
            where = ""
        super().__init__(where + message)


class InvalidError(WasmtimeError):
    """The module is well formed but does not validate: the spec's "invalid"."""

    def __init__(self, message: str, func_index: Optional[int] = None,
                 offset: Optional[int] = None) -> None:
        self.reason = message
        self.func_index = func_index
        self.offset = offset
        where = []
        if func_index is not None:
            where.append("func %d" % func_index)
        if offset is not None:
            where.append("offset 0x%x" % offset)
        prefix = ("in " + ", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class EncodeError(WasmtimeError):
    """A ``syntax.Module`` cannot be encoded (e.g. an unknown instruction name or type)."""


class LinkError(WasmtimeError):
    """An import cannot be satisfied: the spec's "unlinkable"."""


class InstantiationError(WasmtimeError):
    """Instantiation failed for a reason that is not a trap (e.g. resource limits)."""


class ArgumentTypeError(TypeError, AttributeError):
    """An API call got an argument of the wrong type (e.g. ``Instance(store, 1, [])``).

    A TypeError, and also an AttributeError: wasmtime-py raises the latter for some wrong
    arguments (its code reaches for an attribute the object lacks), so code written for
    either exception behaves the same here.
    """


class TrapCode(enum.Enum):
    """Why a trap happened. Names follow wasmtime-py's ``TrapCode``."""

    STACK_OVERFLOW = "call stack exhausted"
    MEMORY_OUT_OF_BOUNDS = "out of bounds memory access"
    HEAP_MISALIGNED = "misaligned memory access"
    TABLE_OUT_OF_BOUNDS = "out of bounds table access"
    INDIRECT_CALL_TO_NULL = "uninitialized element"
    BAD_SIGNATURE = "indirect call type mismatch"
    INTEGER_OVERFLOW = "integer overflow"
    INTEGER_DIVISION_BY_ZERO = "integer divide by zero"
    BAD_CONVERSION_TO_INTEGER = "invalid conversion to integer"
    UNREACHABLE = "unreachable"
    INTERRUPT = "interrupt"
    OUT_OF_FUEL = "all fuel consumed by WebAssembly"
    # The spec distinguishes an index past the end of a table in call_indirect.
    UNDEFINED_ELEMENT = "undefined element"
    # Instantiation: an active segment does not fit.
    OUT_OF_BOUNDS_SEGMENT = "out of bounds segment access"


class Trap(WasmtimeError):
    """A WebAssembly trap. ``trap_code`` says why; ``frames`` is the Wasm backtrace."""

    def __init__(self, code: "Union[TrapCode, str]", message: Optional[str] = None) -> None:
        # wasmtime-py's ``Trap("message")`` (a host-raised trap) has no code.
        if isinstance(code, str):
            message, code = code, None
        self.trap_code: Optional[TrapCode] = code
        self.frames: List[str] = []
        self.reason = message or (code.value if code is not None else "trap")
        super().__init__(self.reason)

    @property
    def message(self) -> str:
        return self.reason

    def __str__(self) -> str:
        if self.frames:
            return "%s\nwasm backtrace:\n%s" % (
                self.reason, "\n".join("  %d: %s" % (i, f) for i, f in enumerate(self.frames)))
        return self.reason


class ExitTrap(WasmtimeError):
    """WASI ``proc_exit`` was called; ``code`` is the exit status."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__("Exited with i32 exit status %d" % code)
