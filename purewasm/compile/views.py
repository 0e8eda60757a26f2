"""Loop versioning for aligned typed views (CPython shapes, little-endian hosts only).

An innermost loop that only computes and accesses memory 0 through pointer locals is
emitted twice (compile/control.Structured)::

    if not ((l1 | l3) & 7):              # every pointer aligned at loop entry
        _vd = MV0[2] or MVIEW0(2)        # memory 0's "d" view (made lazily)
        while True: ...  _vd[l1 >> 3] ... _vd[l3 >> 3] = v ...
    else:
        while True: ...  LD_F64(mem0, l1)[0] ... ST_F64(mem0, l3, v) ...

Why the test at entry proves every access aligned for the whole loop: an address is a
sum of pointer locals and constants (:func:`address_terms`) whose constants plus the
static offset are a multiple of the access size; a pointer local ``p`` is either not
assigned in the loop, or assigned only ``p = p +/- k`` with ``k`` a multiple of the
access size, or only ``p = q +/- c`` from such a ``q`` (then ``q`` is tested, and ``p``
too unless the loop assigns it before any read: :func:`loop_pointers`); 2**32 is a
multiple of 8, so wrapping keeps the alignment. An aligned access never straddles the
end of memory (a memory's size is a multiple of 8), so the view raises IndexError exactly
where struct raises struct.error: the same MEMORY_OUT_OF_BOUNDS trap (runtime/traps.py), at the same
access, with memory left as the struct version leaves it (a failed store writes
nothing on either path).

Why the view cannot go stale inside the loop: the loop has no call, no memory.grow, no
bulk memory op, no exception handling and no epoch check (nothing that could run code
that grows the memory: the only thing that releases views, runtime.MemoryInstance.grow),
and memory 0 is not shared. After the loop the local ``_vd`` may be stale, but every
entry fetches it again.

Only i32/i64/f64 loads and stores of full width (f32 stays on struct: a float32 view
would quiet signalling NaNs). Measured: docs/benchmarks.md, optimisation log, session 6.
"""
from __future__ import annotations

import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from purewasm.syntax import Instr

from .entries import CPYTHON_SHAPES
from .stack import V

# CPython only (PyPy's JIT makes struct about twice as fast as a view), little-endian
# hosts only (the views use native byte order; Wasm memory is little-endian).
TYPED_VIEWS = (CPYTHON_SHAPES and sys.implementation.name == "cpython"
               and sys.byteorder == "little")

# Access -> (index of its view in the memory's list, runtime.instances.VIEW_FORMATS:
# u32, u64, f64; size in bytes). VIEW_LOCALS: the generated code's name of each view.
VIEW_ACCESSES = {
    "i32.load": (0, 4), "i32.store": (0, 4),
    "i64.load": (1, 8), "i64.store": (1, 8),
    "f64.load": (2, 8), "f64.store": (2, 8),
}
VIEW_LOCALS = ("_vI", "_vQ", "_vd")
_SHIFT = {4: 2, 8: 3}
# What loop_pointers knows of an assigned local: (alignment kept, sources, fresh).
Pointer = Tuple[int, Tuple[int, ...], bool]
_ATOM = re.compile(r"^\w+$")
_LOCAL = re.compile(r"^l\d+$")
_TOKEN = re.compile(r"l\d+|\d+|[-+%()]|\S+")
_MODULUS = "4294967296"


def address_terms(e: str) -> Optional[Tuple[Tuple[int, ...], int, int]]:
    """An address operand the loop's pointers can vouch for: the expression ``e`` as a
    sum of locals, scaled locals and constants (``l2 + 112 + l0``, ``(l3 + 12) %
    4294967296``, ``l5 - 8``, ``(l4 + (l1 << 2))``): (the plain locals, the sum of the
    constants, the alignment every scaled term has: 2**k for ``(lX << k)``, capped at 8;
    8 without one), or None for anything else.

    Parentheses are ignored and reductions modulo 2**32 dropped, which keeps the value
    modulo 8 (the only thing asked of it) because a minus sign may only precede a
    constant, never a parenthesised group or a local, and a shift is only recognised as
    the whole of a parenthesised group (``(lX << k)``) or of ``e``: its value is then
    exactly ``lX << k``, a multiple of 2**k whatever ``lX`` is."""
    tokens = _TOKEN.findall(e)
    locals_: list = []
    const = 0
    sign = 1
    scaled = 8
    scaled_terms = 0
    expect_operand = True
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        i += 1
        if tok in "()":
            continue
        if expect_operand:
            if _LOCAL.match(tok) is not None:
                if sign < 0:
                    return None
                if i < n and tokens[i] == "<<":
                    # (lX << k): the group's whole, or the whole expression.
                    if (i + 1 >= n or not tokens[i + 1].isdigit()
                            or (i >= 2 and tokens[i - 2] != "(")
                            or (i + 2 < n and tokens[i + 2] != ")")):
                        return None
                    scaled = min(scaled, 1 << min(int(tokens[i + 1]), 3))
                    scaled_terms += 1
                    i += 2
                else:
                    locals_.append(int(tok[1:]))
            elif tok.isdigit():
                const += sign * int(tok)
            else:
                return None
            expect_operand = False
        elif tok == "%":
            if i >= n or tokens[i] != _MODULUS:
                return None
            i += 1
        elif tok == "+":
            sign = 1
            expect_operand = True
        elif tok == "-":
            if i >= n or not tokens[i].isdigit():
                return None
            sign = -1
            expect_operand = True
        else:
            return None
    if expect_operand or not (locals_ or scaled_terms):
        return None
    return tuple(locals_), const, scaled

# Loop bodies longer than this (in instructions) are not versioned: the loop's code is
# emitted twice.
MAX_VERSIONED_BODY = 400

# Instructions a versioned loop may contain besides scalar loads and stores: computation,
# locals and globals, and control that stays in the function. No call (a host function
# could grow the memory), no memory.grow or bulk memory, no table, exception, SIMD, atomic
# or reference instruction.
_CONTROL_OK = frozenset(("block", "if", "else", "end", "br", "br_if", "br_table", "return",
                         "drop", "select", "nop", "unreachable", "local.get", "local.set",
                         "local.tee", "global.get", "global.set"))
_SCALAR = re.compile(r"^[if](32|64)\.[a-z0-9_]+$")

# Markers around the two versions of one access in the lines of a loop being versioned:
# START struct-version SEP view-version STOP (never in any other generated text).
START, SEP, STOP = "\x01", "\x02", "\x03"
_MARKED = re.compile("\x01([^\x02]*)\x02([^\x03]*)\x03")


def _align(k: int) -> int:
    """The largest of 8, 4, 1 that divides ``k``."""
    return 8 if k % 8 == 0 else 4 if k % 4 == 0 else 1


def loop_pointers(body: Sequence[Instr],
                  p: int, end: int) -> Optional[Dict[int, Pointer]]:
    """For the loop opened at ``p`` (its end at ``end``): None when it cannot be versioned
    (see the module doc); else, for each local the loop assigns, (the alignment the loop
    keeps for it given that it and its sources are aligned at entry, its sources,
    whether it is fresh).

    An induction pointer (every assignment ``x = x +/- k``) keeps the alignment of the
    steps; a derived pointer (every assignment ``x = y +/- c``, ``y`` a local that is an
    induction pointer or not assigned) keeps that of the constants, provided ``y`` (its
    source) is aligned too; any other assigned local keeps none (1). A local the loop
    does not assign keeps its entry alignment (absent from the result). A fresh local is
    assigned at the loop's own level (not inside a block or if) before anything in the
    loop reads it: every path through an iteration assigns it first (branches inside an
    iteration only go forward, or back to the loop's head), so its value at entry is
    never used and need not be tested, only its sources."""
    if end - p > MAX_VERSIONED_BODY:
        return None
    forms: Dict[int, list] = {}
    seen = set()        # locals read or assigned so far
    fresh = set()       # locals assigned at the loop's own level before any read
    depth = 0
    for i in range(p + 1, end):
        ins = body[i]
        op = ins.op
        if op == "loop" or "atomic" in op:
            return None
        if op in _CONTROL_OK:
            if op in ("block", "if"):
                depth += 1
            elif op == "end":
                depth -= 1
            elif op in ("local.set", "local.tee"):
                forms.setdefault(ins.imm, []).append(_assignment(body, p, i))
                if ins.imm not in seen and depth == 0:
                    fresh.add(ins.imm)
                seen.add(ins.imm)
            elif op == "local.get":
                seen.add(ins.imm)
            continue
        if _SCALAR.match(op) is None:
            return None
    result: Dict[int, Pointer] = {}
    for x, fs in forms.items():
        align = 8
        sources = set()
        for src, k in fs:
            if src is None:
                align = 1
                break
            if src != x:
                # The source must itself keep its alignment: not assigned, or an
                # induction pointer (one level of derivation only).
                if any(s2 != src for s2, _ in forms.get(src, ())):
                    align = 1
                    break
                sources.add(src)
            align = min(align, _align(k))
        if align > 1 and sources:
            # The source's own steps bound what x inherits from it.
            for src in sources:
                for _, k in forms.get(src, ()):
                    align = min(align, _align(k))
        result[x] = (align, tuple(sorted(sources)), x in fresh)
    return result


def _assignment(body: Sequence[Instr], p: int, i: int) -> Tuple[Optional[int], int]:
    """The assignment at ``i`` (local.set/tee) as (source local, constant): ``y +/- c``
    (``local.get y; i32.const c; i32.add/sub``) or ``y`` (``local.get y``); (None, 0)
    for any other value."""
    if (i >= p + 4 and body[i - 3].op == "local.get" and body[i - 2].op == "i32.const"
            and body[i - 1].op in ("i32.add", "i32.sub")):
        return body[i - 3].imm, body[i - 2].imm
    if i >= p + 2 and body[i - 1].op == "local.get":
        return body[i - 1].imm, 0
    return None, 0


def marked(struct_text: str, view_text: str) -> str:
    """The two versions of an access, to be resolved by :func:`resolve`."""
    return START + struct_text + SEP + view_text + STOP


def resolve(text: str, view: bool) -> str:
    """``text`` with each marked access in its struct or its view version."""
    if START not in text:
        return text
    return _MARKED.sub(r"\2" if view else r"\1", text)


def entry_test(sizes: Dict[int, int]) -> str:
    """The condition, at loop entry, that every pointer local (local -> the largest size
    it is accessed with) is aligned."""
    by_size: Dict[int, list] = {}
    for local, size in sorted(sizes.items()):
        by_size.setdefault(size, []).append("l%d" % local)
    parts = []
    for size in sorted(by_size, reverse=True):
        group = by_size[size]
        operand = group[0] if len(group) == 1 else "(%s)" % " | ".join(group)
        parts.append("%s & %d" % (operand, size - 1))
    return "not (%s)" % " | ".join(parts)


class ViewLoop:
    """A loop being versioned: where its lines start, what its accesses used."""

    __slots__ = ("pointers", "start", "sizes", "formats", "used")

    def __init__(self, pointers: Dict[int, Pointer], start: int) -> None:
        self.pointers = pointers    # loop_pointers
        self.start = start          # index of its ``while True:`` line
        self.sizes: Dict[int, int] = {}    # pointer local -> largest access size
        self.used = False                   # some access uses a view
        self.formats: set = set()          # view indexes used

    def access(self, op: str, memidx: int, base: V, offset: int, addr: str) -> Optional[str]:
        """The view element for the access ``op`` at ``base + offset`` (``addr``: the
        effective address as the struct version computes it), or None: it stays on
        struct. Records what the entry test must check."""
        spec = VIEW_ACCESSES.get(op)
        if spec is None or memidx != 0:
            return None
        fmt, size = spec
        terms = address_terms(base.e)
        if terms is None:
            return None
        # base = the sum modulo 2**32: aligned when every local is and the constants
        # plus the offset are a multiple of the size (2**32 is a multiple of 8).
        locals_, const, scaled = terms
        if (offset + const) % size or scaled < size:
            return None
        tested: List[int] = []
        for local in locals_:
            align, sources, fresh = self.pointers.get(local, (8, (), False))
            if align < size:
                return None
            tested.extend(sources if fresh else (local,) + sources)
        for x in tested:
            if self.sizes.get(x, 0) < size:
                self.sizes[x] = size
        self.formats.add(fmt)
        self.used = True
        index = "%s >> %d" % (addr if _ATOM.match(addr) else "(%s)" % addr, _SHIFT[size])
        return "%s[%s]" % (VIEW_LOCALS[fmt], index)

    def lines(self, lines: list, memory_views: str, make_view: str) -> list:
        """The loop's lines (``lines``: from its ``while True:`` to the end of its suite,
        (indentation, text, pc) each) versioned, or resolved to struct if no access
        uses a view."""
        if not self.used:
            return [(ind, resolve(s, False), pc) for ind, s, pc in lines]
        ind0, _, pc0 = lines[0]
        fetch = ["%s = %s[%d] or %s(%d)" % (VIEW_LOCALS[fmt], memory_views, fmt, make_view, fmt)
                 for fmt in sorted(self.formats)]
        if not self.sizes:
            # Every access is aligned whatever the locals hold (scaled indexes from an
            # aligned constant): one loop, with views.
            return ([(ind0, f, pc0) for f in fetch]
                    + [(ind, resolve(s, True), pc) for ind, s, pc in lines])
        out = [(ind0, "if %s:" % entry_test(self.sizes), pc0)]
        out.extend((ind0 + 1, f, pc0) for f in fetch)
        out.extend((ind + 1, resolve(s, True), pc) for ind, s, pc in lines)
        out.append((ind0, "else:", pc0))
        out.extend((ind + 1, resolve(s, False), pc) for ind, s, pc in lines)
        return out
