"""Which handler translates which instruction.

A handler is ``handler(translator, instruction)``. Modules of handlers (ops_control,
ops_variables, ops_memory, ops_numeric; simd on demand) register them here by
instruction name, with :func:`handles` or :func:`register`; a name that is not an
instruction of the opcode table, or registered twice, fails at import, so a new handler
cannot silently translate the wrong instruction.
"""
from __future__ import annotations

from typing import Callable, Dict

from purewasm.opcodes import BY_NAME

from .entries import Handler

HANDLERS: Dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    if name not in BY_NAME:
        raise RuntimeError("purewasm: a handler for %r, which is no instruction" % name)
    if name in HANDLERS:
        raise RuntimeError("purewasm: two handlers for %r" % name)
    HANDLERS[name] = handler


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Decorator: the function translates the instructions ``names``."""
    def deco(handler: Handler) -> Handler:
        for name in names:
            register(name, handler)
        return handler
    return deco


def replace(name: str, handler: Handler) -> None:
    """Put ``handler`` in place of the registered handler of ``name`` (ops_pypy: handlers
    that wrap the plain one)."""
    if name not in HANDLERS:
        raise RuntimeError("purewasm: no handler for %r to replace" % name)
    HANDLERS[name] = handler
