"""What the translator knows about the values of locals (CPython code shapes only).

Two facts, both used only to choose cheaper code that computes the same values:

* **Narrow locals** (:class:`LocalBits`, flow-sensitive): after ``local.set`` of a value
  known to fit in ``b < N`` bits (a narrow load, an ``and`` with a small constant, a
  ``shr_u`` by a constant, a comparison...), the local is known to fit in ``b`` bits
  until it is assigned again or control paths join. A join (``loop``, ``end``, ``else``,
  any branch: translate's ``_JOINS``) forgets every fact, so a fact only ever describes
  one straight-line run of code, where the assignment that made it is the last one on
  every path. Its use: a narrow store of it needs no mask (``mem0[a] = l27`` for a byte
  just loaded: the sort kernel's byte-swapping loop), a sum of two narrow values is
  canonical.

* **Pointer locals** (:func:`pointer_locals`): locals read directly as the address of a
  load or store somewhere in the body. A value assigned to one of them is most likely in
  range already when it is address arithmetic (:func:`address_like`: a pointer that wraps
  around 2**32 is rare; these locals are reused for other values too), so it is written
  ``% 2**N``, not ``& mask`` (stack.OperandStack.cx, "near": cheaper on CPython when no
  reduction happens, the same value either way). A guess that only affects speed.
"""
from __future__ import annotations

import re
from typing import Dict, Sequence

from purewasm.syntax import Instr

# One value pushed and nothing popped: what may stand between a store's address and the
# store (its value).
_SINGLE_PUSH = frozenset(("local.get", "i32.const", "i64.const", "f32.const", "f64.const",
                          "global.get"))


def _is_load(op: str) -> bool:
    return op[:1] in "if" and ".load" in op and not op.startswith("v128")


def _is_store(op: str) -> bool:
    return op[:1] in "if" and ".store" in op


def pointer_locals(body: Sequence[Instr]) -> frozenset:
    """The locals read as the address of a scalar load or store: ``local.get X`` (or
    ``local.tee X``) right before a load, or two instructions before a store whose value
    is one push (``local.get X; local.get Y; i32.store``)."""
    found = set()
    n = len(body)
    for i, ins in enumerate(body):
        if ins.op not in ("local.get", "local.tee") or i + 1 >= n:
            continue
        nxt = body[i + 1].op
        if _is_load(nxt):
            found.add(ins.imm)
        elif nxt in _SINGLE_PUSH and i + 2 < n and _is_store(body[i + 2].op):
            found.add(ins.imm)
    return frozenset(found)


# Address arithmetic: sums of names and constants, a name shifted left by a constant, a
# constant subtracted; no product, no bitwise mixing (hashes, PRNG states), no difference
# of two names (may be negative): those wrap often, where ``& mask`` is cheaper.
_ADDRESS_LIKE = re.compile(r"^(?:[\w\s().+%]|<<|- \d)*$")


def address_like(expr: str) -> bool:
    """Whether ``expr`` (a value assigned to a pointer local) looks like address
    arithmetic, most likely in range (see :func:`pointer_locals`)."""
    return _ADDRESS_LIKE.match(expr) is not None


class LocalBits:
    """Flow-sensitive bounds on the bit length of locals' values (see the module doc)."""

    __slots__ = ("bits",)

    def __init__(self) -> None:
        self.bits: Dict[int, int] = {}

    def get(self, index: int, width: int) -> int:
        """The bound on local ``index`` here (``width``: none known)."""
        return self.bits.get(index, width)

    def assign(self, index: int, bits: int, width: int) -> None:
        """Local ``index`` was just assigned a canonical value of at most ``bits`` bits."""
        if bits < width:
            self.bits[index] = bits
        else:
            self.bits.pop(index, None)

    def forget(self, index: int) -> None:
        self.bits.pop(index, None)

    def join(self) -> None:
        """Control paths join (or split): nothing is known any more."""
        self.bits.clear()
