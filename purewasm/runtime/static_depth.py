"""How deep a call can go, read from the code: a function whose calls are all direct calls
to functions of its own module, with no cycle, stacks at most as many Wasm frames as its
longest call chain.

runtime/call.py runs an outermost call on a worker thread with a big C stack where the
calling thread's stack may not hold the configured depth (CPython 3.9/3.10, PyPy); that
handoff costs ~40-400 us per call. A call that can never go deep (an embedder calling a
small exported function many times) needs no big stack: :func:`is_shallow` says so, and
the store runs it on the calling thread (its depth clamp still applies there).
"""
from __future__ import annotations

from typing import Dict, Optional, Set

from purewasm.syntax import Module

# The deepest call chain run on the calling thread: any thread's stack holds that many
# frames (docs/SECURITY.md, "Call depth": ~600 bytes of C stack each on PyPy and CPython
# 3.9/3.10, budgeted twice that).
SHALLOW_DEPTH = 64

# Calls whose callee the code does not name (or that a host function could turn into a
# re-entry): the depth is unknown.
_UNKNOWN_CALLS = frozenset(("call_indirect", "call_ref", "return_call", "return_call_indirect",
                            "return_call_ref"))


def call_depth(module: Module, index: int, memo: Dict[int, Optional[int]]) -> Optional[int]:
    """The most Wasm frames a call of function ``index`` of ``module`` can stack (itself
    included), if every call it can make is a direct call to a function defined in the
    module, with no cycle, and that depth is at most :data:`SHALLOW_DEPTH`; else None.
    ``memo`` keeps the answers (one dict per module)."""
    return _depth(module, index, memo, set(), module.num_imported_funcs())


def _depth(module: Module, index: int, memo: Dict[int, Optional[int]], path: Set[int],
           imported: int) -> Optional[int]:
    if index in memo:
        return memo[index]
    if index < imported or index in path or len(path) >= SHALLOW_DEPTH:
        # An import (a host function may call back in), a cycle, or too deep.
        return None
    path.add(index)
    frames = 1
    deepest: Optional[int] = frames
    for ins in module.funcs[index - imported].body:
        op = ins.op
        if op in _UNKNOWN_CALLS:
            deepest = None
            break
        if op == "call":
            below = _depth(module, ins.imm, memo, path, imported)
            if below is None or below + 1 > SHALLOW_DEPTH:
                deepest = None
                break
            frames = max(frames, below + 1)
            deepest = frames
    path.discard(index)
    # Any function on the path to a cycle reaches it too: None is its answer as well.
    memo[index] = deepest
    return deepest


def is_shallow(module: Module, index: int, memo: Dict[int, Optional[int]]) -> bool:
    """Whether a call of function ``index`` of ``module`` stays within SHALLOW_DEPTH."""
    return call_depth(module, index, memo) is not None
