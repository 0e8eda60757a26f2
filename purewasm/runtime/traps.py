"""Exceptions escaping generated code: the traps they mean and the Wasm backtrace.

The compiler's side of the contract (docs/INTERNALS.md): the namespace of generated code
holds, under :data:`GENERATED_CODE`, an object with a ``wasm_frame(code, lineno)`` method
(:class:`FrameSource`) that describes the Wasm function a code object runs and the
instruction a line of it came from. Nothing here parses code names or file names.
"""
from __future__ import annotations

import struct
from types import CodeType, TracebackType
from typing import List, Optional, Protocol

from purewasm.errors import Frame, Trap, TrapCode

# The key under which generated code's namespace holds its FrameSource.
GENERATED_CODE = "__purewasm_code__"


class FrameSource(Protocol):
    """What the compiler provides for its generated code (compile.CompiledModule)."""

    def wasm_frame(self, code: CodeType, lineno: int) -> Optional[Frame]:
        """The Wasm frame of ``code`` executing line ``lineno`` (None: not a Wasm
        function of this module)."""


def trap_from_exception(exc: BaseException) -> Optional[Trap]:
    """Map an exception escaping generated code to its Trap (None: not ours).

    Generated code lets Python raise for speed: struct.error / IndexError from a memory
    access past the end (addresses are never negative, so they never wrap), and
    ZeroDivisionError from i32/i64 div_u/rem_u (float divisions go through fdiv and never
    raise). RecursionError: the Python stack is the Wasm call stack.
    """
    if isinstance(exc, Trap):
        return exc
    if isinstance(exc, (struct.error, IndexError)):
        return Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if isinstance(exc, ZeroDivisionError):
        return Trap(TrapCode.INTEGER_DIVISION_BY_ZERO)
    if isinstance(exc, RecursionError):
        return Trap(TrapCode.STACK_OVERFLOW)
    return None


def is_generated_code(tb: TracebackType) -> bool:
    """Whether the traceback entry ``tb`` is a frame of generated code."""
    return GENERATED_CODE in tb.tb_frame.f_globals


def wasm_backtrace(tb: Optional[TracebackType]) -> List[Frame]:
    """The Wasm frames a Python traceback went through, innermost first: the one builder
    of backtraces (Trap.frames, the CLI)."""
    frames: List[Frame] = []
    while tb is not None:
        source = tb.tb_frame.f_globals.get(GENERATED_CODE)
        if source is not None:
            frame = source.wasm_frame(tb.tb_frame.f_code, tb.tb_lineno)
            if frame is not None:
                frames.append(frame)
        tb = tb.tb_next
    frames.reverse()
    return frames
