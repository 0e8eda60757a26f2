"""What the translator knows about the values of locals (CPython code shapes only) on
straight-line code. Facts that survive joins (branch conditions, loop invariants) are
intervals.py's; both are consulted (the tighter bound wins).

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

* **Accessed pointers** (:attr:`LocalBits.headroom`, flow-sensitive like narrow locals):
  a 32-bit memory never holds more than 65,535 pages (runtime.MAX_PAGES_32_RUNTIME,
  docs/DECISIONS.md "No 4 GiB 32-bit memory"), so after a load or store of ``n`` bytes
  at ``l + off`` (``l`` an i32 local, ``off`` the static offset) that did not trap,
  ``l + off + n <= len(memory) <= 2**32 - 2**16``. Until ``l`` is assigned again or
  paths join, ``l + c`` for a constant ``0 <= c < 2**16 + off + n`` is therefore at most
  ``2**32 - 2**16 - off - n + c < 2**32``: canonical without ``%`` (a pointer bumped
  past the element just accessed, ``l1 = l1 + 16``).
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Sequence, Set

from purewasm.opcodes import BLOCK_OPENERS
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
    """Flow-sensitive bounds on the bit length of locals' values (see the module doc),
    and the exact value of locals just assigned a constant (for :func:`counter_bounds`)."""

    __slots__ = ("bits", "exact", "headroom", "scrambled")

    def __init__(self) -> None:
        self.bits: Dict[int, int] = {}
        self.exact: Dict[int, int] = {}
        # local -> h: ``local + c`` < 2**32 for every constant 0 <= c < h (the module doc,
        # "Accessed pointers").
        self.headroom: Dict[int, int] = {}
        # Locals just assigned a value reduced from a far wider one, not a product (sums
        # of rotated values): a hash's, whose sum with another value wraps about half
        # the time, so it is reduced with & rather than % (stack.OperandStack.cx). A
        # hint for speed only: either reduction is exact.
        self.scrambled: Set[int] = set()

    def get(self, index: int, width: int) -> int:
        """The bound on local ``index`` here (``width``: none known)."""
        return self.bits.get(index, width)

    def assign(self, index: int, bits: int, width: int, exact: Optional[int] = None) -> None:
        """Local ``index`` was just assigned a canonical value of at most ``bits`` bits
        (``exact``: that constant)."""
        if bits < width:
            self.bits[index] = bits
        else:
            self.bits.pop(index, None)
        self.headroom.pop(index, None)
        self.scrambled.discard(index)
        if exact is None:
            self.exact.pop(index, None)
        else:
            self.exact[index] = exact

    def join(self) -> None:
        """Control paths join: nothing is known any more."""
        self.bits.clear()
        self.exact.clear()
        self.headroom.clear()
        self.scrambled.clear()

    def accessed(self, index: int, offset: int, size: int) -> None:
        """A load or store of ``size`` bytes at ``local index + offset`` in a 32-bit
        memory just succeeded (the module doc, "Accessed pointers")."""
        h = (1 << 16) + offset + size
        if h > self.headroom.get(index, 0):
            self.headroom[index] = h

    def sum_fits(self, index: int, c: int) -> bool:
        """Whether ``local index + c`` (``c`` >= 0) is known to be below 2**32."""
        return c < self.headroom.get(index, 0)


# Loop bodies longer than this are not searched for counters (the search is linear in the
# body; nested loops would make it quadratic).
MAX_COUNTER_BODY = 4000
_COUNTER_STEP = 1 << 16     # increments up to this
_COUNTER_LIMIT = 1 << 30    # bounds below this (far from wrapping, either width)


def counter_bounds(body: Sequence[Instr], p: int, end: int, refs: Set[int],
                   facts: LocalBits) -> Dict[int, int]:
    """Loop counters of the loop opened at ``p`` (its ``end`` at ``end``, ``refs`` the
    branches to its label): local -> a bound on its value at the loop head, on every
    arrival. ``facts``: what is known before the loop.

    Proven for one shape only, the counted loop a C compiler emits::

        loop
          ...                          (no other assignment of X, no other branch here)
          local.get X  i32.const c  i32.add  local.set X / local.tee X
          ...
          local.get X (or the tee)  i32.const C  i32.ne / i32.lt_u  br_if 0
        end

    the increment and the br_if at the loop's own nesting level (so every path from the
    head to the br_if runs the increment once), 0 < c <= 2**16, C < 2**30. With lt_u the
    back edge carries X < C: at the head X <= max(X at entry, C - 1). With ne, X at entry
    must be a known constant X0 < C with C - X0 a multiple of c: X then takes the values
    X0, X0 + c, ..., C - c at the head. Either way X + c never wraps in the loop."""
    if len(refs) != 1 or end - p > MAX_COUNTER_BODY:
        return {}
    k = next(iter(refs))
    if not p + 4 <= k < end or body[k].op != "br_if" or body[k].imm != 0:
        return {}
    cmp, bound, getx = body[k - 1], body[k - 2], body[k - 3]
    t = cmp.op[:3]
    if (t not in ("i32", "i64") or cmp.op[4:] not in ("ne", "lt_u")
            or bound.op != t + ".const" or getx.op not in ("local.get", "local.tee")):
        return {}
    x = getx.imm
    c_bound = bound.imm
    if not 0 < c_bound < _COUNTER_LIMIT:
        return {}
    # The one assignment of x in the loop, at depth 0, and k at depth 0.
    depth = 0
    assign = -1
    for i in range(p + 1, k):
        ins = body[i]
        op = ins.op
        if op in BLOCK_OPENERS:
            depth += 1
        elif op == "end":
            depth -= 1
        elif op in ("local.set", "local.tee") and ins.imm == x:
            if assign >= 0 or depth != 0:
                return {}
            assign = i
    if depth != 0 or assign < p + 4:
        return {}
    for i in range(k + 1, end):
        if body[i].op in ("local.set", "local.tee") and body[i].imm == x:
            return {}
    if getx.op == "local.tee" and k - 3 != assign:
        return {}
    get0, step, add = body[assign - 3], body[assign - 2], body[assign - 1]
    if (get0.op != "local.get" or get0.imm != x or step.op != t + ".const"
            or add.op != t + ".add" or not 0 < step.imm <= _COUNTER_STEP):
        return {}
    c = step.imm
    x0 = facts.exact.get(x)
    if cmp.op[4:] == "lt_u":
        entry = x0 if x0 is not None else (1 << facts.bits.get(x, 64)) - 1
        if entry >= _COUNTER_LIMIT:
            return {}
        return {x: max(entry, c_bound - 1)}
    if x0 is None or not 0 <= x0 < c_bound or (c_bound - x0) % c:
        return {}
    return {x: max(x0, c_bound - c)}
