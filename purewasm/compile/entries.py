"""The translator's vocabulary shared by all its parts: width and mask tables, the
handler signature and the translator's errors (the stack entries are in stack.py)."""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

from purewasm.errors import WasmtimeError
from purewasm.syntax import Instr

M32 = 0xFFFFFFFF
_WIDTH = {"i32": 32, "i64": 64}
_MASK = {"i32": "0xFFFFFFFF", "i64": "0xFFFFFFFFFFFFFFFF"}
_MODULUS = {"i32": "4294967296", "i64": "18446744073709551616"}
_SIGN = {"i32": "0x80000000", "i64": "0x8000000000000000"}

EMPTY: frozenset = frozenset()

# Code shapes that win on CPython and lose on PyPy (whose JIT works on machine-word ints:
# an unmasked value beyond 63 bits becomes a big int there). Generated code is cached per
# implementation (cache_key has sys.implementation.cache_tag), so it may differ.
# docs/benchmarks.md's optimisation log has the measurements.
# PUREWASM_PYPY_SHAPES=1 (support.PYPY_SHAPES) turns them off too, so that CPython then
# generates exactly what PyPy does.
CPYTHON_SHAPES = (sys.implementation.name != "pypy"
                  and os.environ.get("PUREWASM_PYPY_SHAPES") != "1")

# An instruction's translation: handler(translator, instruction).
Handler = Callable[[Any, Instr], None]


class UnsupportedError(WasmtimeError):
    """The function uses a feature the translator does not implement (yet)."""


class TranslationError(WasmtimeError):
    """The generated Python could not be compiled (a translator bug or limit)."""
