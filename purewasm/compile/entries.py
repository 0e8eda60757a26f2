"""The translator's vocabulary shared by its parts (translate.py: control flow and the
operand stack; numeric_ops.py: numeric, memory and conversion instructions; simd.py:
vector instructions): operand stack entries, width tables and the errors."""
from __future__ import annotations

from typing import Any, Callable

from purewasm.errors import WasmtimeError
from purewasm.syntax import Instr

M32 = 0xFFFFFFFF
_WIDTH = {"i32": 32, "i64": 64}
_MASK = {"i32": "4294967295", "i64": "18446744073709551615"}
_SIGN = {"i32": "2147483648", "i64": "9223372036854775808"}

EMPTY: frozenset = frozenset()

# An instruction's translation: handler(translator, instruction).
Handler = Callable[[Any, Instr], None]


class UnsupportedError(WasmtimeError):
    """The function uses a feature the translator does not implement (yet)."""


class TranslationError(WasmtimeError):
    """The generated Python could not be compiled (a translator bug or limit)."""


class V:
    """One operand stack entry: a pure Python expression and what is known about it."""

    __slots__ = ("e", "t", "deps", "canon", "bits", "depth", "atom", "isbool", "slot")

    def __init__(self, e: str, t: str, deps: frozenset = EMPTY, canon: bool = True,
                 bits: int = 0, depth: int = 0, atom: bool = False,
                 isbool: bool = False, slot: int = -1) -> None:
        self.e = e            # the expression
        self.t = t            # its Wasm type
        self.deps = deps      # names it reads that may be reassigned
        self.canon = canon    # ints: known to be in [0, 2**N)
        self.bits = bits      # ints: bound on the bit length of its magnitude
        self.depth = depth    # nesting of operations
        self.atom = atom      # usable as an operand without parentheses
        self.isbool = isbool  # a Python bool (comparison result)
        self.slot = slot      # h when this is exactly the slot variable s<h>

    def __repr__(self) -> str:
        return "V(%r, %s)" % (self.e, self.t)


def _p(v: V) -> str:
    return v.e if v.atom else "(" + v.e + ")"
