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
from typing import Any, List, Optional, Sequence, Tuple, Union


class WasmtimeError(Exception):
    """Base class of the errors purewasm raises on purpose, except traps: as in
    wasmtime-py, a :class:`Trap` is not a WasmtimeError (``ERRORS`` is both)."""


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


class UnsupportedProposalError(WasmtimeError):
    """The module uses a WebAssembly proposal purewasm does not implement yet (e.g. GC):
    neither malformed nor invalid, only not supported. ``proposal`` names it; ``what`` is
    the instruction or construct that uses it."""

    def __init__(self, proposal: str, what: str, offset: Optional[int] = None) -> None:
        self.proposal = proposal
        self.what = what
        self.offset = offset
        where = "at offset 0x%x: " % offset if offset is not None else ""
        super().__init__("%sthe %s proposal is not supported by purewasm yet (%s)"
                         % (where, proposal, what))


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
    # A null reference where a non-null one is needed: ref.as_non_null, throw_ref, call_ref
    # of a null reference (the latter's message is the spec's "null function reference").
    NULL_REFERENCE = "null reference"
    # GC (Wasm 3.0): an array index past the end, a failed ref.cast.
    ARRAY_OUT_OF_BOUNDS = "out of bounds array access"
    CAST_FAILURE = "cast failure"
    # An array longer than purewasm's implementation limit (runtime/gc.py, MAX_ARRAY).
    ALLOCATION_TOO_LARGE = "allocation size too large"


# wasmtime's wording of a trap's cause where it differs from the spec's (``reason``).
_WASMTIME_TRAP_TEXT = {
    TrapCode.UNREACHABLE: "wasm `unreachable` instruction executed",
    TrapCode.TABLE_OUT_OF_BOUNDS: "undefined element: out of bounds table access",
    TrapCode.UNDEFINED_ELEMENT: "undefined element: out of bounds table access",
    TrapCode.NULL_REFERENCE: "null reference",
}


class Frame:
    """One Wasm frame of a trap's backtrace, shaped like wasmtime-py's ``Frame``.

    ``module_offset`` is the byte offset of the instruction in the module binary and
    ``func_offset`` its offset from the start of the function's body (its locals
    declaration), as wasmtime reports them; both are None for a module that has no binary
    form (a ``syntax.Module`` built in Python). ``func_name`` and ``module_name`` come from
    the name section (None without one).
    """

    __slots__ = ("func_index", "func_name", "module_name", "func_offset", "module_offset")

    def __init__(self, func_index: int, func_name: Optional[str] = None,
                 module_name: Optional[str] = None, func_offset: Optional[int] = None,
                 module_offset: Optional[int] = None) -> None:
        self.func_index = func_index
        self.func_name = func_name
        self.module_name = module_name
        self.func_offset = func_offset
        self.module_offset = module_offset

    def __str__(self) -> str:
        # wasmtime's notation: module!function, "<unknown>" / "<wasm function N>" unnamed.
        func = self.func_name if self.func_name is not None \
            else "<wasm function %d>" % self.func_index
        return "%s!%s" % (self.module_name if self.module_name is not None else "<unknown>",
                          func)

    def __repr__(self) -> str:
        return ("Frame(func_index=%d, func_name=%r, module_name=%r, func_offset=%r, "
                "module_offset=%r)" % (self.func_index, self.func_name, self.module_name,
                                       self.func_offset, self.module_offset))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, a) for a in self.__slots__))


# A backtrace longer than this prints its first and last halves (a stack overflow has
# thousands of frames; Trap.frames keeps them all).
_SHOWN_FRAMES = 100


def format_backtrace(frames: Sequence[Frame]) -> str:
    """``frames`` (innermost first) in wasmtime's layout: "wasm backtrace:" then one line
    per frame, "    0:     0x3c - module!function"."""
    lines = ["wasm backtrace:"]
    half = _SHOWN_FRAMES // 2
    for i, frame in enumerate(frames):
        if len(frames) > _SHOWN_FRAMES and half <= i < len(frames) - half:
            if i == half:
                lines.append("          (%d frames not shown)" % (len(frames) - 2 * half))
            continue
        offset = "?" if frame.module_offset is None else "%#x" % frame.module_offset
        lines.append("%5d: %8s - %s" % (i, offset, frame))
    return "\n".join(lines)


class Trap(Exception):
    """A WebAssembly trap. ``trap_code`` says why; ``frames`` is the Wasm backtrace
    (innermost first), filled in at the call boundary.

    As in wasmtime-py, a Trap is not a :class:`WasmtimeError` (the error of a module that
    does not load, a wrong argument, a failed link…): ``except WasmtimeError`` does not
    catch a guest's trap; catch both where both are meant (``errors.ERRORS``)."""

    # Set by the call boundary once it has read the backtrace (runtime/call.py).
    frames_read = False

    def __init__(self, code: "Union[TrapCode, str]", message: Optional[str] = None) -> None:
        # wasmtime-py's ``Trap("message")`` (a host-raised trap) has no code.
        trap_code: Optional[TrapCode]
        if isinstance(code, str):
            message, trap_code = code, None
        else:
            trap_code = code
        self.trap_code = trap_code
        self.frames: List[Frame] = []
        self.reason = message or (trap_code.value if trap_code is not None else "trap")
        super().__init__(self.reason)

    @property
    def message(self) -> str:
        """The trap's text, as ``str(trap)`` (wasmtime-py's ``Trap.message``); the cause
        alone, worded as the spec words it, is ``reason``."""
        return str(self)

    def __str__(self) -> str:
        if not self.frames:
            return self.reason
        if self.trap_code is None:
            return "%s\n%s" % (self.reason, format_backtrace(self.frames))
        # A Wasm trap in wasmtime's layout: the backtrace, then its cause in wasmtime's words.
        return "error while executing at %s\n\nCaused by:\n    wasm trap: %s\n" % (
            format_backtrace(self.frames), _WASMTIME_TRAP_TEXT.get(self.trap_code, self.reason))


class WasmException(Trap, WasmtimeError):
    """A Wasm exception (exception handling: ``throw``, ``throw_ref``).

    Inside Wasm code it is the exception object itself (an ``exnref`` value is this
    object) and ``try_table`` catches it by its ``tag`` (a tag instance: identity is the
    tag's); ``values`` is the payload as raw values (docs/INTERNALS.md). It unwinds through
    Wasm and host frames as any Python exception does. Escaping to the embedder, it is a
    :class:`WasmtimeError` ("thrown Wasm exception", as wasmtime-py reports an uncaught
    exception) and also a :class:`Trap` (it ends the call as a trap does, with a
    backtrace), and still carries ``tag`` and ``values``; the store stays usable.
    """

    def __init__(self, tag: Any, values: Tuple[Any, ...] = ()) -> None:
        # Cheap on purpose: generated code makes one per throw (no message formatting).
        self.tag = tag
        self.values = values
        self.trap_code = None
        self.frames = []
        self.reason = "thrown Wasm exception"

    def __reduce__(self) -> Any:
        return (WasmException, (self.tag, self.values))


class ExitTrap(WasmtimeError):
    """WASI ``proc_exit`` was called; ``code`` is the exit status."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__("Exited with i32 exit status %d" % code)


# Every error purewasm raises for a module, a call or an argument: WasmtimeError and its
# subclasses, and traps (not WasmtimeErrors, as in wasmtime-py).
ERRORS = (WasmtimeError, Trap)
