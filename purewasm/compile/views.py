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

Two refinements inside the versioned loop (session 7):

* A local the loop also assigns other values (LLVM reuses locals: sha256's ``l3`` holds
  an address, then a loaded word; the vm kernel's holds the program counter, then a
  stack address) has no alignment for the whole loop, but right after ``l3 = (l2 + 112)
  + l1`` it has the sum's: :meth:`ViewLoop.assigned` remembers it until the local is
  assigned again or paths join, and a value put in a stack slot keeps its alignment
  with it (``V.aligned``).
* Element indexes (:func:`reduce_indexes`): ``_vd[_x1]`` with ``_x1 = _x1 + 2`` instead
  of ``_vd[l1 >> 3]`` with ``l1 = l1 + 16``: one shift less per access.

Only i32/i64/f64 loads and stores of full width (f32 stays on struct: a float32 view
would quiet signalling NaNs). Measured: docs/benchmarks.md, optimisation log, session 6.
"""
from __future__ import annotations

import functools
import re
import sys
from typing import AbstractSet, Dict, List, Optional, Sequence, Tuple

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
    "i64.load32_u": (0, 4), "i64.store32": (0, 4),
}
VIEW_LOCALS = ("_vI", "_vQ", "_vd")
_SHIFT = {4: 2, 8: 3}
# What loop_pointers knows of an assigned local: (alignment kept, sources, fresh, early).
Pointer = Tuple[int, Tuple[int, ...], bool, bool]
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
_EXITS = frozenset(("br", "br_if", "br_table", "return"))

# Markers around the two versions of one access in the lines of a loop being versioned:
# START struct-version SEP view-version STOP (never in any other generated text).
START, SEP, STOP = "\x01", "\x02", "\x03"
_MARKED = re.compile("\x01([^\x02]*)\x02([^\x03]*)\x03")
# Markers around a view's index inside the view version: INDEX_START shift|address
# INDEX_STOP, resolved by :func:`reduce_indexes`.
INDEX_START, INDEX_STOP = "\x04", "\x05"
_INDEX = re.compile("\x04(\\d)\\|([^\x05]*)\x05")
_HOLE = "\x06"
_INDEX_START_CHAR = "\x04"
_ASSIGNMENT = re.compile(r"^l(\d+) = (.*)$")
_LOCAL_TOKEN = re.compile(r"\bl(\d+)\b")
_ADDRESS_TOKEN = re.compile(r"l\d+|\d+|<<|[-+%()]|\S+")
INDEX_NAME = "_x%d"     # the element index of local l<n> (its value >> the access shift)


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
    never used and need not be tested, only its sources. An early local is a fresh one
    whose first assignment comes before any branch of the loop (``br``, ``br_if``,
    ``br_table``, ``return``): every way out of the loop, after the first iteration or
    during it, leaves it assigned in that iteration (what :func:`reduce_indexes` needs to
    rebuild it after the loop)."""
    if end - p > MAX_VERSIONED_BODY:
        return None
    forms: Dict[int, list] = {}
    seen = set()        # locals read or assigned so far
    fresh = set()       # locals assigned at the loop's own level before any read
    early = set()       # fresh, and assigned before any branch
    branched = False
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
                    if not branched:
                        early.add(ins.imm)
                seen.add(ins.imm)
            elif op == "local.get":
                seen.add(ins.imm)
            elif op in _EXITS:
                branched = True
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
        result[x] = (align, tuple(sorted(sources)), x in fresh, x in early)
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


# A counted loop (counted_loop): (the counter local, its step as a signed i32, the bound:
# a local or a constant, as its text).
Counted = Tuple[int, int, str]


def counted_loop(body: Sequence[Instr], p: int, end: int, refs: set,
                 local_types: Sequence[str], below: bool = False) -> Optional[Counted]:
    """The loop opened at ``p`` (its end at ``end``, ``refs`` the branches to it) when
    it is a counted loop whose trip count is known at entry (used by
    :meth:`ViewLoop.lines` to run it as ``for _k in range(n)``)::

        loop
          ...        (X assigned once, here at the loop's own level: X = X +/- 2**j)
          <X != B>  br_if 0      (the only branch to the loop; B: a local the loop does
        end                       not assign, or a constant; or just X: X != 0)

    Every iteration runs the step once and then the test, and nothing else goes back to
    the head, so the loop runs until X, stepping by c modulo 2**32 from its entry value,
    first equals B: see :func:`trip_count`.

    ``below``: also ``X <u B`` (or ``B >u X``) with a step of +1 (a copy loop of zig's
    realloc): from X0 < B the loop runs B - X0 times, exactly as with ``X != B`` (X
    meets B before it could wrap); from X0 >= B it does not run as that one would (once,
    or past a wrap), so only a caller that runs the loop itself unless ``0 < B - X0``
    (idioms.SliceLoop.lines) may ask for it; :func:`trip_count` does not apply."""
    k = end - 1
    if refs != {k} or k < p + 3 or body[k].op != "br_if" or body[k].imm != 0:
        return None
    cond = body[k - 1]
    if cond.op == "local.tee":
        x, bound = cond.imm, "0"
        last = k - 1
    elif (cond.op == "i32.ne" or (below and cond.op in ("i32.lt_u", "i32.gt_u"))) \
            and k >= p + 4:
        # X != B or B != X; X read with local.get, or the step's own local.tee
        # (below: X <u B, B >u X)
        a, b = body[k - 3], body[k - 2]
        if (a.op in ("local.get", "local.tee") and b.op in ("local.get", "i32.const")
                and cond.op != "i32.gt_u"):
            xi, other = k - 3, b
        elif (b.op in ("local.get", "local.tee") and a.op in ("local.get", "i32.const")
              and cond.op != "i32.lt_u"):
            xi, other = k - 2, a
        elif (b.op == "local.tee" and k >= p + 7 and body[k - 6].op in ("local.get", "i32.const")
              and cond.op != "i32.lt_u"):
            # B, then the step itself: local.get X, i32.const c, i32.add, local.tee X
            xi, other = k - 2, body[k - 6]
        else:
            return None
        x = body[xi].imm
        bound = "l%d" % other.imm if other.op == "local.get" else str(other.imm)
        if bound == "l%d" % x:
            return None
        last = xi
    else:
        return None
    if local_types[x] != "i32" or (bound.startswith("l") and local_types[int(bound[1:])] != "i32"):
        return None
    depth = 0
    assign = -1
    for i in range(p + 1, k):
        ins = body[i]
        if ins.op in ("block", "if", "loop", "try_table"):
            depth += 1
        elif ins.op == "end":
            depth -= 1
        elif ins.op in ("local.set", "local.tee"):
            if ins.imm == x:
                if assign >= 0 or depth != 0:
                    return None
                assign = i
            elif bound == "l%d" % ins.imm:
                return None
    if (assign < p + 4 or assign > last
            or (body[last].op == "local.tee" and assign != last)):
        return None
    get0, step, op = body[assign - 3], body[assign - 2], body[assign - 1]
    if get0.op != "local.get" or get0.imm != x or step.op != "i32.const":
        return None
    c = step.imm - (1 << 32) if step.imm >= 1 << 31 else step.imm
    if op.op == "i32.sub":
        c = -c
    elif op.op != "i32.add":
        return None
    if c == 0 or abs(c) > 1 << 16 or abs(c) & (abs(c) - 1):
        return None
    if cond.op != "i32.ne" and cond.op != "local.tee" and c != 1:
        return None
    return x, c, bound


def trip_count(counted: Counted) -> str:
    """The number of iterations of a counted loop (:func:`counted_loop`), as an
    expression of the locals at entry: the least k >= 1 with X + k*c = B modulo 2**32,
    c = +/-2**j. With d = (B - X) (or (X - B) for a negative step) modulo 2**32: none
    when d is not a multiple of 2**j (the loop only ends by another way out: 2**64
    iterations, more than any run), else ((d - 2**j) % 2**32 >> j) + 1 (2**(32-j) for
    d = 0: a full turn)."""
    x, c, bound = counted
    step = abs(c)
    j = step.bit_length() - 1
    if bound == "0":
        d = "-l%d" % x if c > 0 else "l%d" % x
    else:
        d = "(%s - l%d)" % (bound, x) if c > 0 else "(l%d - %s)" % (x, bound)
    if step == 1:
        return "((%s - 1) %% 4294967296) + 1" % d
    return ("((((%s - %d) %% 4294967296) >> %d) + 1 if not %s & %d else 18446744073709551616)"
            % (d, step, j, d, step - 1))


def marked(struct_text: str, view_text: str) -> str:
    """The two versions of an access, to be resolved by :func:`resolve`."""
    return START + struct_text + SEP + view_text + STOP


def resolve(text: str, view: bool) -> str:
    """``text`` with each marked access in its struct or its view version."""
    if START not in text:
        return text
    return _MARKED.sub(r"\2" if view else r"\1", text)


def scaled_address(e: str, shift: int) -> Optional[Tuple[str, Tuple[int, ...]]]:
    """``e`` (address arithmetic, the shapes :func:`address_terms` reads) divided by
    ``2**shift``: (the expression with each plain local ``lN`` read as its index
    ``_xN``, every constant divided, each ``(lX << k)`` shifted ``k - shift`` and each
    ``% 4294967296`` made ``% 2**(32 - shift)``; the plain locals), or None.

    Exact when every plain local and every constant is a multiple of ``2**shift`` (the
    constants are checked here, the locals by :func:`reduce_indexes`): then every
    intermediate value of ``+``, ``- constant`` and ``% 2**32`` is one too, and dividing
    commutes with each (``(2**s * a) % 2**32 == 2**s * (a % 2**(32 - s))``)."""
    tokens = _ADDRESS_TOKEN.findall(e)
    out: List[str] = []
    plain: List[int] = []
    unit = 1 << shift
    expect_operand = True
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        i += 1
        if tok in ("(", ")"):
            out.append(tok)
            continue
        if expect_operand:
            if _LOCAL.match(tok) is not None:
                if i < n and tokens[i] == "<<":
                    # (lX << k): only as the whole of a group or of e (as address_terms).
                    if (i + 1 >= n or not tokens[i + 1].isdigit()
                            or (i >= 2 and tokens[i - 2] != "(")
                            or (i + 2 < n and tokens[i + 2] != ")")
                            or int(tokens[i + 1]) < shift):
                        return None
                    k = int(tokens[i + 1]) - shift
                    out.append(tok if k == 0 else "%s << %d" % (tok, k))
                    i += 2
                else:
                    out.append(INDEX_NAME % int(tok[1:]))
                    plain.append(int(tok[1:]))
            elif tok.isdigit():
                if int(tok) % unit:
                    return None
                out.append(str(int(tok) >> shift))
            else:
                return None
            expect_operand = False
        elif tok == "%":
            if i >= n or tokens[i] != _MODULUS:
                return None
            out.append("%% %d" % (1 << (32 - shift)))
            i += 1
        elif tok == "+":
            out.append("+")
            expect_operand = True
        elif tok == "-":
            if i >= n or not tokens[i].isdigit():
                return None
            out.append("-")
            expect_operand = True
        else:
            return None
    if expect_operand:
        return None
    text = " ".join(out).replace("( ", "(").replace(" )", ")")
    return text, tuple(plain)


def _plain_index(shift: int, addr: str) -> str:
    """A view's index computed from the byte address: ``addr >> shift``."""
    return "%s >> %d" % (addr if _ATOM.match(addr) else "(%s)" % addr, shift)


def reduce_indexes(lines: list, pointers: Dict[int, Pointer],
                   sizes: Dict[int, int]) -> Tuple[list, List[str], List[str]]:
    """Strength reduction of the view version's indexes (``lines``: (indentation, text,
    pc) each, with INDEX markers): a pointer local ``lN`` read as a view index of one
    access shift ``s`` is also carried as its element index ``_xN = lN >> s``, so that
    ``_vd[l1 >> 3]`` becomes ``_vd[_x1]``: one shift less per access. Returns (the lines
    with every marker resolved, the statements that set the indexes at entry, the
    statements that give the locals back their byte values after the loop).

    Three kinds of reduced locals:

    * invariant (not assigned in the loop): ``_xN`` is set at entry, ``lN`` stays for
      its other reads;
    * replaced (assigned in the loop, read only as indexes and in the assignments of
      reduced locals): every assignment ``lN = <address arithmetic>`` becomes
      ``_xN = <the same divided by 2**s>`` (:func:`scaled_address`: ``l3 = l3 + 16`` ->
      ``_x3 = _x3 + 2``) and ``lN = _xN << s`` is restored after the loop;
    * dual (assigned, also read otherwise, as a loop counter compared with its bound):
      each assignment is kept and followed by the index's; only when the local is read
      as an index more often than it is assigned.

    Why it is exact: a reduced local is a multiple of ``2**s`` at every point of the loop
    (at entry the entry test checked it, unless it is fresh; every assignment adds
    multiples of ``2**s``: :func:`scaled_address` checks the constants, and the other
    terms are reduced locals too, or ``(lX << k)`` with ``k >= s``), so its index is its
    value divided exactly. A fresh local must be early (loop_pointers): assigned in every
    iteration before any way out, so its index is set whenever the loop is left and the
    restore is exact. Traps and returns leave the function: its locals no longer matter."""
    markers: List[Tuple[int, str, Optional[Tuple[str, Tuple[int, ...]]]]] = []
    assigns: List[Tuple[int, str]] = []
    raw0: set = set()       # locals read other than as indexes or in assignments
    uses: Dict[int, int] = {}
    for _, text, _ in lines:
        for shift, addr in _INDEX.findall(text):
            scaled = scaled_address(addr, int(shift))
            markers.append((int(shift), addr, scaled))
            if scaled is None:
                raw0.update(int(x) for x in _LOCAL_TOKEN.findall(addr))
            else:
                for x in scaled[1]:
                    uses[x] = uses.get(x, 0) + 1
        rest = _INDEX.sub(_HOLE, text)
        m = _ASSIGNMENT.match(rest)
        if m is not None and _HOLE not in m.group(2):
            assigns.append((int(m.group(1)), m.group(2)))
            continue
        raw0.update(int(x) for x in _LOCAL_TOKEN.findall(rest))
    shift_of: Dict[int, int] = {}
    conflicting = set()
    for shift, _, scaled in markers:
        if scaled is not None:
            for x in scaled[1]:
                if shift_of.setdefault(x, shift) != shift:
                    conflicting.add(x)
    assigned_count: Dict[int, int] = {}
    for target, _ in assigns:
        assigned_count[target] = assigned_count.get(target, 0) + 1
    reduced = set()
    for x, shift in shift_of.items():
        pointer = pointers.get(x)
        if x in conflicting:
            continue
        if pointer is None or not pointer[2]:
            # Read before assigned: its entry value is reduced, which the test checked.
            if sizes.get(x, 0) >= (1 << shift):
                reduced.add(x)
        elif pointer[3]:
            reduced.add(x)
    dual: set = set()
    while True:
        dropped = False
        for target, value in assigns:
            if target in reduced:
                scaled = scaled_address(value, shift_of[target])
                if scaled is None or any(x not in reduced or shift_of[x] != shift_of[target]
                                         for x in scaled[1]):
                    reduced.discard(target)
                    dropped = True
        # What needs the byte values: raw reads, indexes left unreduced, assignments kept.
        raw = set(raw0)
        for _, _, scaled in markers:
            if scaled is not None and any(x not in reduced for x in scaled[1]):
                raw.update(scaled[1])
        # (to a fixed point: an assignment kept because its target is found raw later
        # in the list makes its own operands raw: l2 = l1 + 8 before l4 = l4 + l2)
        grown = True
        while grown:
            grown = False
            for target, value in assigns:
                if target not in reduced or target in raw:
                    operands = {int(x) for x in _LOCAL_TOKEN.findall(value)}
                    if not operands <= raw:
                        raw |= operands
                        grown = True
        dual = {x for x in reduced if x in pointers and x in raw}
        for x in dual:
            if uses.get(x, 0) <= assigned_count.get(x, 0):
                reduced.discard(x)
                dropped = True
        if not dropped:
            break

    assign_temp, read_temps = _temporary_indexes(lines, reduced, shift_of, pointers, sizes,
                                                 dual, conflicting, assigns)

    def scaled_text(addr: str, shift: int, temps: Dict[int, int]) -> Optional[str]:
        """``addr`` divided by ``2**shift`` when every plain local in it is reduced or a
        temporary index (``temps``) of that shift: its index expression."""
        scaled = scaled_address(addr, shift)
        if scaled is None:
            return None
        text = scaled[0]
        for x in scaled[1]:
            if x in reduced:
                continue
            if temps.get(x) != shift:
                return None
            text = re.sub(r"\b%s\b" % (INDEX_NAME % x), TEMP_NAME % x, text)
        return text

    def index(m: "re.Match", temps: Dict[int, int]) -> str:
        shift, addr = int(m.group(1)), m.group(2)
        scaled = scaled_text(_slots_as_locals(addr, temps), shift, temps)
        return _plain_index(shift, addr) if scaled is None else scaled

    out = []
    for i, (ind, text, pc) in enumerate(lines):
        temps = read_temps.get(i, {})
        temp = assign_temp.get(i)
        if temp is not None:
            value = scaled_text(_TEMP_ASSIGNMENT.match(text).group(1), temp[1],  # type: ignore
                                temps)
            if value is None:   # (_temporary_indexes checked it)
                raise ValueError("unscalable temporary index")
            out.append((ind, "%s = %s" % (TEMP_NAME % temp[0], value), pc))
            continue
        if temps:
            text = _INDEX.sub(functools.partial(index, temps=temps), text)
        m = _ASSIGNMENT.match(text)
        if m is not None and int(m.group(1)) in reduced:
            target = int(m.group(1))
            scaled = scaled_address(m.group(2), shift_of[target])
            if scaled is not None:
                if target in dual:
                    out.append((ind, text, pc))
                text = "%s = %s" % (INDEX_NAME % target, scaled[0])
        out.append((ind, _INDEX.sub(functools.partial(index, temps={}), text), pc))
    setup = ["%s = l%d >> %d" % (INDEX_NAME % x, x, shift_of[x]) for x in sorted(reduced)
             if x not in pointers or not pointers[x][2]]
    restore = ["l%d = %s << %d" % (x, INDEX_NAME % x, shift_of[x]) for x in sorted(reduced)
               if x in pointers and x not in dual]
    return out, setup, restore


TEMP_NAME = "_t%d"      # the element index a local holds for a few lines (_temporary_indexes)
# A stack slot sK holding such an address (a spilled operand) is temporary index
# ``_t<SLOT_TEMP + K>``: a number no local has (a function has at most
# binary.decode.MAX_LOCALS), so the names' patterns here take it as any other.
SLOT_TEMP = 1 << 24
_CONTROL_LINE = re.compile(r"^(if|elif|else|while|for|continue|break|return|try|except|"
                           r"raise|with)\b")
_SLOT_ASSIGNMENT = re.compile(r"^s(\d+) = (.*)$")
_TEMP_ASSIGNMENT = re.compile(r"^[ls]\d+ = (.*)$")


def _slots_as_locals(addr: str, temps: Dict[int, int]) -> str:
    """``addr`` with each slot that is a temporary index here (``temps``) written as
    the local number standing for it (:data:`SLOT_TEMP`), for :func:`scaled_address`."""
    for y in temps:
        if y >= SLOT_TEMP:
            addr = re.sub(r"\bs%d\b" % (y - SLOT_TEMP), "l%d" % y, addr)
    return addr


def _temporary_indexes(lines: list, reduced: set, shift_of: Dict[int, int],
                       pointers: Dict[int, Pointer], sizes: Dict[int, int],
                       dual: Optional[set] = None, conflicting: AbstractSet[int] = frozenset(),
                       assigns: Sequence[Tuple[int, str]] = ()
                       ) -> Tuple[Dict[int, Tuple[int, int]], Dict[int, Dict[int, int]]]:
    """Locals that hold an address for a few lines only (LLVM reuses locals: the vm
    kernel's program counter ``l3`` holds a stack address in each arm of the dispatch):
    ``l3 = ((((l2 + 112) + (l1 << 2)) - 8) % 4294967296)``, then only view indexes of
    one shift read it (``_vI[l3 >> 2]``), then it is assigned again, all in one
    straight-line run (same indentation, no control line in between). The assignment
    becomes that of an element index, ``_t3 = ((((_x2 + 28) + l1) - 2) % 1073741824)``,
    and the reads ``_vI[_t3]``: a shift and the operand's own shift less per access.

    The local may also be read by the assignment of a stack slot that is itself such a
    temporary (sha256's message schedule: ``s0 = l3 + 64`` keeps the address of a
    store whose value is computed after ``l3`` is assigned again): its reads, all view
    indexes of the same shift in the run that follows, take ``_t<SLOT_TEMP + K>``, and
    after the last one the slot is dead (the translator's stack is linear: its entry
    was consumed; :func:`_dead_after`). Only a sum without subtraction (never negative,
    as :func:`unwrap_indexes` assumes of a ``_t`` name).

    Returns (line -> (local, shift) for the assignments so rewritten, line -> {local:
    shift} of the temporary indexes its view indexes may read). A local the loop does
    not assign, tested at entry (``sizes``) but read by no index of its own, is added
    to ``reduced`` (and ``shift_of``) when a temporary index needs its element index; so
    is a pointer the loop assigns whose every assignment scales (the counter of
    sha256's schedule, ``l1 = l1 + 4``), as a ``dual`` one: its byte value is kept and
    its index follows each assignment (:func:`reduce_indexes`).

    Why it is exact: the value is address arithmetic (:func:`scaled_address`) over
    reduced locals (whose shift is the same) and constants that are multiples of
    ``2**shift``, so dividing it commutes with every ``+``, ``-`` and reduction; every
    read of the local's value is one of the indexes, which run in that order right
    after; the next assignment ends the value's life, so no other read (after the run,
    after the loop, at the next iteration) can see that the local was not assigned. A
    trap in between leaves the function, whose locals no longer matter."""
    assign_temp: Dict[int, Tuple[int, int]] = {}
    read_temps: Dict[int, Dict[int, int]] = {}
    n = len(lines)

    def reducible(y: int, shift: int) -> bool:
        """Whether the loop's pointer ``y`` may carry an element index of ``shift`` (as
        reduce_indexes would: checked at entry or fresh and early, every assignment
        scaling over itself and reduced locals of that shift)."""
        pointer = pointers.get(y)
        if (dual is None or pointer is None or y in conflicting
                or shift_of.get(y, shift) != shift
                or any(temp[0] == y for temp in assign_temp.values())):
            return False    # (a temporary already: its reads take _tN, not _xN)
        if pointer[2] and not pointer[3]:
            return False
        if not pointer[2] and sizes.get(y, 0) < 1 << shift:
            return False
        for target, value in assigns:
            if target == y:
                scaled = scaled_address(value, shift)
                if scaled is None or any(z != y and (z not in reduced or shift_of[z] != shift)
                                         for z in scaled[1]):
                    return False
        return True

    def usable(y: int, shift: int) -> bool:
        """Whether local ``y`` has (or may get) an element index of ``shift``."""
        if y in reduced:
            return shift_of[y] == shift
        if y not in pointers:
            return y not in shift_of and sizes.get(y, 0) >= 1 << shift
        return reducible(y, shift)

    def reduce(y: int, shift: int) -> None:
        if y not in reduced:
            reduced.add(y)
            shift_of[y] = shift
            if y in pointers and dual is not None:
                dual.add(y)

    def index_reads(word: "re.Pattern", start: int, ind: int, slot: Optional[int] = None
                    ) -> Tuple[int, int, str, List[Tuple[int, Tuple[int, ...]]]]:
        """The reads of ``word`` in the straight-line run from ``start`` (at indentation
        ``ind``): (their shift, -1 if none; the line where the scan stopped, -1 at the
        run's end; why: "assign" (the name assigned a value not reading it), "raw" (a
        read that is no view index), "bad" (an index of another shift or not scalable,
        or an assignment reading the name), "end"; (line, the plain locals of its
        index) for each index read). ``slot``: the name is slot sK, read as local
        SLOT_TEMP + K."""
        shift = -1
        reads: List[Tuple[int, Tuple[int, ...]]] = []
        for j in range(start, n):
            ind2, text2, _ = lines[j]
            if ind2 != ind or _CONTROL_LINE.match(text2) is not None:
                break
            for sh, addr in _INDEX.findall(text2):
                if word.search(addr) is None:
                    continue
                if slot is not None:
                    addr = re.sub(r"\bs%d\b" % slot, "l%d" % (SLOT_TEMP + slot), addr)
                scaled = scaled_address(addr, int(sh))
                if scaled is None or (shift >= 0 and int(sh) != shift):
                    return shift, j, "bad", reads
                shift = int(sh)
                reads.append((j, scaled[1]))
            rest = _INDEX.sub(_HOLE, text2)
            m2 = _TEMP_ASSIGNMENT.match(rest)
            if m2 is not None and word.match(rest) is not None:
                return shift, j, "bad" if word.search(m2.group(1)) else "assign", reads
            if word.search(rest) is not None:
                return shift, j, "raw", reads
        return shift, -1, "end", reads

    def slot_chain(j: int) -> Optional[Tuple[int, int, int, list]]:
        """Line ``j`` as the assignment of a slot that is a temporary index: (the slot's
        number K, the shift, its last read, the reads), or None."""
        text = lines[j][1]
        m = _SLOT_ASSIGNMENT.match(text)
        if m is None or _INDEX_START_CHAR in text or "-" in m.group(2):
            return None
        k = int(m.group(1))
        word = re.compile(r"\bs%d\b" % k)
        if word.search(m.group(2)) is not None:
            return None
        shift, _, why, reads = index_reads(word, j + 1, lines[j][0], slot=k)
        if shift < 0 or why not in ("assign", "end"):
            return None
        # After its last read the slot is dead: no later read of this value.
        last = reads[-1][0]
        if not _dead_after(lines, last - 1, word, assigned_at=j):
            return None
        return k, shift, last, reads

    for i, (ind, text, _) in enumerate(lines):
        m = _ASSIGNMENT.match(text)
        if m is None or int(m.group(1)) in reduced or _INDEX_START_CHAR in text:
            continue
        x = int(m.group(1))
        word = re.compile(r"\bl%d\b" % x)
        value = m.group(2)
        if word.search(value) is not None:
            continue
        shift, end, why, reads = index_reads(word, i + 1, ind)
        chains = []
        while why == "raw":
            # A read that is no index: the assignment of a slot temporary, or give up.
            chain = slot_chain(end)
            if chain is None or (shift >= 0 and chain[1] != shift):
                break
            shift = chain[1]
            chains.append((end, chain))
            more_shift, end, why, more = index_reads(word, end + 1, ind)
            if more_shift >= 0 and more_shift != shift:
                why = "bad"
            reads += more
        if why != "assign" or shift < 0:
            continue
        scaled = scaled_address(value, shift)
        if scaled is None or not all(usable(y, shift) for y in scaled[1]):
            continue
        needed = [y for _, plain in reads for y in plain if y != x]
        for j, (k, _, _, slot_reads) in chains:
            value2 = _SLOT_ASSIGNMENT.match(lines[j][1]).group(2)  # type: ignore
            scaled2 = scaled_address(value2, shift)
            if scaled2 is None:
                needed.append(-1)
                break
            needed += [y for y in scaled2[1] if y != x]
            needed += [y for _, plain in slot_reads for y in plain if y != SLOT_TEMP + k]
        if not all(y >= 0 and usable(y, shift) for y in needed):
            continue
        for y in list(scaled[1]) + needed:
            reduce(y, shift)
        assign_temp[i] = (x, shift)
        for j in range(i + 1, end + 1):
            read_temps.setdefault(j, {})[x] = shift
        for j, (k, _, last, _) in chains:
            assign_temp[j] = (SLOT_TEMP + k, shift)
            for r in range(j + 1, last + 1):
                read_temps.setdefault(r, {})[SLOT_TEMP + k] = shift
    return assign_temp, read_temps


_SUBSCRIPT = re.compile(r"(_v[IQd])\[([^\[\]]*)\]")
_SUM_TOKEN = re.compile(r"_[xht]\d+|l\d+|\d+|<<|[-+%()]|\S+")
_SUM_NAME = re.compile(r"^(?:_[xht]|l)\d+$")
HOIST_NAME = "_h%d"     # an invariant part of view indexes, computed at loop entry
_INDEX_ASSIGNMENT = re.compile(r"^(_[xt]\d+) = (.*)$")


def _sum_terms(index: str) -> Optional[Tuple[List[str], int, str]]:
    """A view index as a flat sum: (its name terms, each ``name`` or ``(name << k)``, in
    order; the sum of its constants; the modulus applied to the whole, as text, or "");
    None for anything else. Grouping parentheses do not change a sum of names and
    constants (a minus sign only ever precedes a constant: :func:`scaled_address`), and
    a reduction is accepted only as the last operation of the whole index."""
    tokens = _strip_group(_SUM_TOKEN.findall(index))
    modulus = ""
    if (len(tokens) >= 4 and tokens[-2] == "%" and tokens[-1].isdigit()
            and tokens[-3] == ")" and _closing(tokens, 0) == len(tokens) - 3):
        modulus = tokens[-1]
        tokens = _strip_group(tokens[:-2])
    elif len(tokens) == 3 and tokens[1] == "%" and tokens[2].isdigit():
        modulus = tokens[2]         # one name reduced: ``(_t5 % 1073741824)``
        tokens = tokens[:1]
    names: List[str] = []
    const = 0
    sign = 1
    expect_operand = True
    i = 0
    n = len(tokens)
    depth = 0
    while i < n:
        tok = tokens[i]
        if expect_operand and tok == "(" and i + 4 < n and tokens[i + 2] == "<<":
            # (name << k): one term
            if not (tokens[i + 3].isdigit() and tokens[i + 4] == ")"):
                return None
            names.append("(%s << %s)" % (tokens[i + 1], tokens[i + 3]))
            i += 5
            expect_operand = False
            continue
        i += 1
        if tok == "(":
            depth += 1
            continue
        if tok == ")":
            depth -= 1
            if depth < 0:
                return None
            continue
        if expect_operand:
            if tok.isdigit():
                const += sign * int(tok)
            elif sign > 0 and _SUM_NAME.match(tok) is not None:
                names.append(tok)
            else:
                return None
            expect_operand = False
        elif tok in ("+", "-"):
            sign = 1 if tok == "+" else -1
            expect_operand = True
        else:
            return None
    if expect_operand or depth != 0:
        return None
    return names, const, modulus


def _closing(tokens: List[str], i: int) -> int:
    """The index of the parenthesis closing the one at ``i`` (-1 if none)."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == "(":
            depth += 1
        elif tokens[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _strip_group(tokens: List[str]) -> List[str]:
    """``tokens`` without the parentheses around the whole of it."""
    while len(tokens) >= 2 and tokens[0] == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


_INDEXED_LOCAL = re.compile(r"^(?:_x|l)(\d+)$")


def _invariant(name: str, assigned: Dict[int, Pointer]) -> bool:
    """Whether ``name`` is a local the loop does not assign (``assigned``: those it
    does), or its element index."""
    m = _INDEXED_LOCAL.match(name)
    return m is not None and int(m.group(1)) not in assigned


def hoist_invariant_sums(lines: list, assigned: Dict[int, Pointer]
                         ) -> Tuple[list, List[str], set]:
    """The view version's indexes with their loop-invariant part computed once at entry:
    ``_vI[(((_x2 + 28) + l1) % 1073741824)]`` -> ``_vI[(_h0 + l1) % 1073741824]`` with
    ``_h0 = _x2 + 28`` set before the loop (``assigned``: the locals the loop assigns,
    :func:`loop_pointers`; any other local and its element index are invariant).
    Returns (the lines, the statements to run at entry, the names of the hoisted values
    that cannot be negative, for :func:`unwrap_indexes`).

    Exact: an index is a sum of names and constants, reduced at most once, as a whole
    (:func:`_sum_terms`); integers add associatively, so the invariant terms' sum is the
    same at every iteration and may be added first. An index with nothing but invariant
    terms is hoisted whole, its reduction included."""
    hoisted: Dict[str, str] = {}
    setup: List[str] = []
    nonnegative: set = set()

    def name_of(expr: str, never_negative: bool) -> str:
        name = hoisted.get(expr)
        if name is None:
            name = hoisted[expr] = HOIST_NAME % len(hoisted)
            setup.append("%s = %s" % (name, expr))
            if never_negative:
                nonnegative.add(name)
        return name

    def rewrite(index: str) -> str:
        terms = _sum_terms(index)
        if terms is None:
            return index
        names, const, modulus = terms
        fixed = [x for x in names if _invariant(x.strip("(").split(" ")[0], assigned)]
        moving = [x for x in names if x not in fixed]
        if len(fixed) + (const != 0) + bool(modulus and not moving) < 2:
            return index    # nothing to compute once
        part = " + ".join(fixed)
        if const:
            part = ("%s %s %d" % (part, "+" if const > 0 else "-", abs(const))
                    if part else str(const))
        # Locals and element indexes are never negative; a reduction is not either.
        if not moving:
            return name_of("(%s) %% %s" % (part, modulus) if modulus else part,
                           bool(modulus) or const >= 0)
        total = " + ".join([name_of(part, const >= 0)] + moving)
        return "(%s) %% %s" % (total, modulus) if modulus else total

    out = []
    for ind, text, pc in lines:
        m = _INDEX_ASSIGNMENT.match(text)
        if m is not None:
            # an element index's own assignment (reduce_indexes): the same arithmetic
            text = "%s = %s" % (m.group(1), rewrite(m.group(2)))
        else:
            text = _SUBSCRIPT.sub(lambda m: "%s[%s]" % (m.group(1), rewrite(m.group(2))), text)
        out.append((ind, text, pc))
    return out, setup, nonnegative


_VIEW_MODULUS = {"_vI": "1073741824", "_vQ": "536870912", "_vd": "536870912"}
_NEVER_NEGATIVE = re.compile(r"^\(?(?:_x|_t|l)\d+(?: << \d+\))?$")
_SIMPLE_STATEMENT = re.compile(r"^(?:\w+|_v[IQd]\[[^\[\]]*\]) = ")


def unwrap_indexes(lines: list, nonnegative: set) -> list:
    """View indexes without their reduction, with the reduced ones as a fallback::

        try:
            s2 = _vI[_h0 + l1]
        except IndexError:
            s2 = _vI[(_h0 + l1) % 1073741824]

    (CPython 3.11+ enters a ``try`` for free; a ``%`` is a generic BINARY_OP.) Only in
    a statement with one target whose view indexes are sums of names that are never
    negative (locals, element indexes, reductions, ``nonnegative`` hoisted values) and
    non-negative constants.

    Why it is exact: such a sum is at least 0, so the unreduced index either equals the
    reduced one or is at least the modulus, 2**(32 - shift), which is more elements than
    any view has (a 32-bit memory has at most 65,535 pages): the subscript raises
    IndexError before anything is stored (Python evaluates a statement's value, then the
    target's subscript, then stores; a load raises before its value is used). The
    statement has no effect but its one store and no call, so running it again with the
    reductions computes what the original would have, or raises the same IndexError
    (the same MEMORY_OUT_OF_BOUNDS trap: runtime/traps.py) at the same instruction."""
    changed: List[bool] = []

    def unwrap(m: "re.Match") -> str:
        view, index = m.group(1), m.group(2)
        terms = _sum_terms(index)
        if terms is None:
            return m.group(0)
        names, const, modulus = terms
        if (modulus != _VIEW_MODULUS[view] or const < 0 or not all(
                _NEVER_NEGATIVE.match(x) is not None or x in nonnegative for x in names)):
            return m.group(0)
        changed.append(True)
        total = " + ".join(names + ([str(const)] if const else []))
        return "%s[%s]" % (view, total)

    out: list = []
    for ind, text, pc in lines:
        if (_SIMPLE_STATEMENT.match(text) is None or _UNSAFE_CALL.search(text) is not None
                or ";" in text):
            out.append((ind, text, pc))
            continue
        del changed[:]
        bare = _SUBSCRIPT.sub(unwrap, text)
        if not changed:
            out.append((ind, text, pc))
            continue
        out.extend(((ind, "try:", pc), (ind + 1, bare, pc), (ind, "except IndexError:", pc),
                    (ind + 1, text, pc)))
    return out


_VIEW_LOAD = re.compile(r"^(s\d+) = (_v[IQd]\[[^\[\]]*\])$")
# What a consumer line may hold around the folded load: arithmetic on names and
# literals, comparisons and view subscripts; no call (``name(``: it could trap or have
# effects first), no division by a name (ZeroDivisionError first), no short circuit or
# conditional expression (the load might not be evaluated at all).
# A call in a statement: it might have an effect before a subscript raises.
_UNSAFE_CALL = re.compile(r"\w\(")
_UNSAFE_CONSUMER = re.compile(r"\w\(|//|/|%\s*[^\d\s]|\bif\b.*\belse\b|\band\b|\bor\b|"
                              r"\bnot\b|\*\*|lambda|:=")


def fold_loads(lines: list) -> list:
    """The view version's ``sK = _vd[i]`` folded into the next line when that line is the
    only reader of the value: ``s2 = _vd[_x1]`` + ``s1 = l27 * s2`` -> ``s1 = l27 *
    _vd[_x1]`` (a store and a load of a slot less: 1.08x on matmul's inner loop).
    ``lines``: the loop's, its ``while True:`` first.

    Why it computes the same: the next line at the same indentation runs right after
    (the same suite, straight-line) and reads the load where the slot was read, with
    nothing in it that could trap or have an effect but the load (:data:`_UNSAFE_CONSUMER`
    keeps out calls, divisions, short circuits; no other view access; a store only to
    the element just loaded, which cannot fail once the load did not), so a trap is the
    load's and the folded line keeps the load's instruction (backtraces stay exact).
    Nothing else reads the value (:func:`_dead_after`)."""
    out: list = []
    i = 0
    n = len(lines)
    while i < n:
        ind, text, pc = lines[i]
        m = _VIEW_LOAD.match(text)
        if m is not None and i + 1 < n:
            slot, load = m.group(1), m.group(2)
            ind2, nxt, pc2 = lines[i + 1]
            head = _ASSIGNMENT_ANY.match(nxt)
            rhs = nxt[head.end():] if head is not None else nxt
            word = re.compile(r"\b%s\b" % slot)
            target = head.group(0)[:-3] if head is not None else ""
            if (ind2 == ind and len(word.findall(rhs)) == 1
                    and (head is not None or nxt.startswith("if "))
                    # The line's only trap is then the load's (its pc is the load's):
                    # no other view access in it, and a store only to where the load
                    # just read (``_vd[_x3] = s1 + _vd[_x3]``: same view, same index).
                    and (head is None or _NAME.match(target) is not None or target == load)
                    and "_v" not in rhs
                    and _UNSAFE_CONSUMER.search(rhs.rstrip(":")) is None
                    and _dead_after(lines, i, word)):
                # (a replacement string, escaped: the load's text is not a pattern)
                out.append((ind, (head.group(0) if head is not None else "")
                            + word.sub(load.replace("\\", "\\\\"), rhs), pc))
                i += 2
                continue
        out.append((ind, text, pc))
        i += 1
    return out


def as_for_loop(lines: list, counted: Counted) -> list:
    """A counted loop (:func:`counted_loop`; the view version of a versioned loop, or an
    innermost loop of the structured lowering) as ``for _k in
    range(<trip count>)`` without its counter: FOR_ITER over a range instead of the step,
    a comparison and two jumps per iteration. Only when the counter is read nowhere else
    in the loop and the text has the expected shape (else unchanged). The counter keeps
    its entry value during the loop and gets its value back at each way out: ``B`` when
    the range runs out (``for ... else``), its entry value plus ``_k`` steps at a
    ``break`` in iteration ``_k`` (before that iteration's step: the step is the test's
    own, or the last statement before it)."""
    x, c, bound = counted
    if len(lines) < 6:
        return lines
    (ind0, head, pc0), test, cont, brk = lines[0], lines[-3], lines[-2], lines[-1]
    name = "l%d" % x
    tests = {"if %s:" % name} if bound == "0" else set()
    tests |= {"if %s != %s:" % (bound, name), "if %s != %s:" % (name, bound)}
    if (head != "while True:" or test[1] not in tests or test[0] != ind0 + 1
            or cont[1] != "continue" or cont[0] != ind0 + 2
            or brk[1] != "break" or brk[0] != ind0 + 1):
        return lines
    # The step, then only element indexes stepping with it (reduce_indexes' dual ones).
    si = len(lines) - 4
    while si > 1 and _INDEX_STEP.match(lines[si][1]) is not None:
        si -= 1
    step = lines[si]
    word = re.compile(r"\b%s\b" % name)
    if (step[0] != ind0 + 1 or not step[1].startswith(name + " = ")
            or any(word.search(text) is not None for _, text, _ in lines[1:si])):
        return lines
    body = lines[1:si] + lines[si + 1:-3]
    induction = _induction_index(body, ind0 + 1)
    if induction is None:
        rebuild = "%s = (%s + _k * %d) %% 4294967296" % (name, name, c)
        out = [(ind0, "for _k in range(%s):" % trip_count(counted), pc0)]
    else:
        # The element index itself runs through the range: one step less per iteration
        # (the loop's other index steps stay). Its value in iteration k is its entry
        # value plus k*d, as with its step; ``_k`` keeps the entry value for the breaks.
        at, ix, d = induction
        body = body[:at] + body[at + 1:]
        steps_done = "(%s - _k)" % ix if d == 1 else "(%s - _k) // %d" % (ix, d)
        rebuild = "%s = (%s + %s * %d) %% 4294967296" % (name, name, steps_done, c)
        out = [(ind0, "_k = %s" % ix, pc0)] if any(t == "break" for _, t, _ in body) else []
        stop = "%s + (%s)" % (ix, trip_count(counted)) if d == 1 else \
            "%s + (%s) * %d" % (ix, trip_count(counted), d)
        out.append((ind0, "for %s in range(%s, %s%s):" % (ix, ix, stop, "" if d == 1 else
                                                             ", %d" % d), pc0))
    for ind, text, pc in body:
        if text == "break":
            out.append((ind, rebuild, pc))
        out.append((ind, text, pc))
    out.append((ind0, "else:", pc0))
    if induction is not None:
        # A range leaves its variable at its last value: the step of that iteration.
        out.append((ind0 + 1, "%s = %s + %d" % (induction[1], induction[1], induction[2]),
                    pc0))
    out.append((ind0 + 1, "%s = %s" % (name, bound), pc0))
    return out


def _induction_index(body: list, ind: int) -> Optional[Tuple[int, str, int]]:
    """Of the element index steps ending a counted loop's iteration (``_xN = _xN + d``,
    :func:`reduce_indexes`; the counter's own step taken out), one that can be the
    ``for`` loop's own variable: (its line in ``body``, its name, d): d > 0, no line
    assigns it but its step, and only other index steps not reading it follow that."""
    tail = len(body)
    while tail > 0 and body[tail - 1][0] == ind and _INDEX_STEP.match(body[tail - 1][1]):
        tail -= 1
    for at in range(tail, len(body)):
        m = _INDEX_INCREMENT.match(body[at][1])
        if m is None:
            continue
        ix = m.group(1)
        word = re.compile(r"\b%s\b" % ix)
        if any(word.search(t) is not None for _, t, _ in body[at + 1:]):
            continue
        if any(_assigns(t, ix) for _, t, _ in body[:at]):
            continue
        return at, ix, int(m.group(2))
    return None


def _assigns(text: str, name: str) -> bool:
    """Whether the line ``text`` may assign ``name`` (as a target of ``=``, an augmented
    assignment, ``:=`` or a ``for``)."""
    if re.search(r"\b%s\s*(:=|[-+*/%%&|^<>]+=)" % name, text) is not None:
        return True
    if text.startswith("for "):
        return re.search(r"\b%s\b" % name, text.split(" in ", 1)[0]) is not None
    targets = text.split(" = ")[:-1]
    return any(name == t.strip("() ") for part in targets for t in part.split(","))


def _dead_after(lines: list, i: int, word: "re.Pattern",
                assigned_at: Optional[int] = None) -> bool:
    """Whether the slot assigned at line ``i`` (or at ``assigned_at``, with no read
    between it and line ``i + 1``) is read nowhere but at line ``i + 1``:
    on every path from there the slot is assigned again before any read. Paths in an
    iteration go forward in the text (``if``/``else``) or to the loop's head
    (``continue``); leaving the loop reads no slot of it (the translator's stack is
    linear: the entry was consumed at ``i + 1``, and values leaving by a branch are put
    in their result slots there). So: the first mention after ``i + 1`` must be a plain
    assignment at an indentation no deeper than any line in between (it is on every
    path); with none up to the loop's end, the first mention from the loop's head must
    be one at the body's own level, or line ``i`` itself."""
    ind_min = lines[i][0]
    for ind, text, _ in lines[i + 2:]:
        ind_min = min(ind_min, ind)
        if word.search(text) is not None:
            return _plain_assignment(text, word) and ind <= ind_min
    base = lines[0][0] + 1
    for ind, text, _ in lines[1:i if assigned_at is None else assigned_at]:
        if word.search(text) is not None:
            return _plain_assignment(text, word) and ind == base
    return True


def _plain_assignment(text: str, word: "re.Pattern") -> bool:
    """``sK = <an expression not reading sK>``."""
    m = word.match(text)
    return (m is not None and text[m.end():m.end() + 3] == " = "
            and word.search(text, m.end() + 3) is None)


_ASSIGNMENT_ANY = re.compile(r"^[\w\[\]+ ]+ = ")
_NAME = re.compile(r"^\w+$")
_INDEX_STEP = re.compile(r"^_x\d+ = ")
_INDEX_INCREMENT = re.compile(r"^(_x\d+) = \1 \+ ([1-9]\d*)$")
_SLOT_TOKEN = re.compile(r"\bs\d+\b")


def _drop(reduced: set, xs: Sequence[int]) -> bool:
    """Remove ``xs`` from ``reduced``; whether any was there."""
    hit = False
    for x in xs:
        if x in reduced:
            reduced.discard(x)
            hit = True
    return hit


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

    __slots__ = ("pointers", "start", "sizes", "formats", "used", "defs", "counted",
                 "may_try")

    def __init__(self, pointers: Dict[int, Pointer], start: int,
                 counted: Optional[Counted] = None) -> None:
        self.pointers = pointers    # loop_pointers
        self.counted = counted      # counted_loop: the view version runs as a for loop
        self.start = start          # index of its ``while True:`` line
        self.sizes: Dict[int, int] = {}    # pointer local -> largest access size
        self.used = False                   # some access uses a view
        self.formats: set = set()          # view indexes used
        # local -> (alignment, locals to test) of the value it was last assigned on
        # this straight-line run of the loop's body (see :meth:`assigned`).
        self.defs: Dict[int, Tuple[int, Tuple[int, ...]]] = {}
        # Whether a try statement may go in the loop's body: CPython allows 20 nested
        # blocks, and an except clause takes two of them, so not in a loop nested more
        # than 18 deep (control.Structured.loop sets it).
        self.may_try = True

    def _alignment(self, local: int) -> Tuple[int, Tuple[int, ...]]:
        """What is known of ``local`` here: (the alignment its value has when the locals
        returned are aligned at loop entry, those locals)."""
        known = self.defs.get(local)
        if known is not None:
            return known
        align, sources, fresh, _ = self.pointers.get(local, (8, (), False, False))
        return align, (sources if fresh else (local,) + sources)

    def _terms(self, v: V) -> Optional[Tuple[int, int, Tuple[int, ...]]]:
        """``v`` as (the alignment of its locals and scaled terms, its constant, the locals
        to test at entry for it), or None when nothing is known (see :func:`address_terms`)."""
        if v.slot >= 0:
            # A slot holding a value whose alignment was known when it was put there.
            if v.aligned is None:
                return None
            return v.aligned[0], 0, v.aligned[1]
        terms = address_terms(v.e)
        if terms is None:
            return None
        locals_, const, align = terms
        needs: List[int] = []
        for local in locals_:
            a, n = self._alignment(local)
            align = min(align, a)
            needs.extend(n)
        return align, const, tuple(needs)

    def alignment_of(self, v: V) -> Optional[Tuple[int, Tuple[int, ...]]]:
        """(the alignment ``v``'s value has when the locals returned are aligned at loop
        entry, those locals), or None: nothing known (an alignment of 1)."""
        terms = self._terms(v)
        if terms is None:
            return None
        align, const, needs = terms
        align = min(align, _align(const))
        return (align, needs) if align > 1 else None

    def assigned(self, index: int, value: V) -> None:
        """Local ``index`` was just assigned ``value``. A local the loop also assigns
        other values (a pointer reused for a loaded value: sha256's ``l3``, the vm
        kernel's program counter) has no alignment for the whole loop
        (:func:`loop_pointers`), but right after ``l3 = (l2 + 112) + l1`` it has that of
        the sum: until it is assigned again or paths join (:meth:`join`, called wherever
        ranges.LocalBits forgets its facts). Likewise a slot (:attr:`V.aligned`, set when
        a value is put in its slot: stack.OperandStack.slot_entry)."""
        known = self.alignment_of(value)
        if known is None:
            self.defs.pop(index, None)
        else:
            self.defs[index] = known

    def join(self) -> None:
        """Control paths join: what :meth:`assigned` learnt is forgotten."""
        self.defs.clear()

    def access(self, op: str, memidx: int, base: V, offset: int, addr: str,
               value: Optional[str] = None) -> Optional[str]:
        """The view version of the access ``op`` at ``base + offset`` (``addr``: the
        effective address as the struct version computes it): for a load its value, for
        a store (``value``: the value stored) the statement; or None: it stays on
        struct. Records what the entry test must check."""
        spec = VIEW_ACCESSES.get(op)
        if spec is None or memidx != 0:
            return None
        fmt, size = spec
        terms = self._terms(base)
        if terms is None:
            return None
        # base = the sum modulo 2**32: aligned when every local is and the constants
        # plus the offset are a multiple of the size (2**32 is a multiple of 8).
        align, const, tested = terms
        if (offset + const) % size or align < size:
            # (An i64 at a multiple of 4 as two elements of the u32 view was measured
            # slower than struct: docs/benchmarks.md, session 8.)
            return None
        for x in tested:
            if self.sizes.get(x, 0) < size:
                self.sizes[x] = size
        self.formats.add(fmt)
        self.used = True
        element = "%s[%s%d|%s%s]" % (VIEW_LOCALS[fmt], INDEX_START, _SHIFT[size], addr,
                                     INDEX_STOP)
        return element if value is None else "%s = %s" % (element, value)

    def lines(self, lines: list, memory_views: str, make_view: str) -> list:
        """The loop's lines (``lines``: from its ``while True:`` to the end of its suite,
        (indentation, text, pc) each) versioned, or resolved to struct if no access
        uses a view."""
        if not self.used:
            plain = [(ind, resolve(s, False), pc) for ind, s, pc in lines]
            return plain if self.counted is None else as_for_loop(plain, self.counted)
        ind0, _, pc0 = lines[0]
        fetch = ["%s = %s[%d] or %s(%d)" % (VIEW_LOCALS[fmt], memory_views, fmt, make_view, fmt)
                 for fmt in sorted(self.formats)]
        viewed, setup, restore = reduce_indexes(
            [(ind, resolve(s, True), pc) for ind, s, pc in lines], self.pointers, self.sizes)
        viewed, hoisted, nonnegative = hoist_invariant_sums(viewed, self.pointers)
        setup += hoisted
        viewed = fold_loads(viewed)
        if self.counted is not None:
            viewed = as_for_loop(viewed, self.counted)
        if self.may_try:
            viewed = unwrap_indexes(viewed, nonnegative)
        if not self.sizes:
            # Every access is aligned whatever the locals hold (scaled indexes from an
            # aligned constant): one loop, with views.
            return ([(ind0, f, pc0) for f in fetch + setup] + viewed
                    + [(ind0, r, pc0) for r in restore])
        out = [(ind0, "if %s:" % entry_test(self.sizes), pc0)]
        out.extend((ind0 + 1, f, pc0) for f in fetch + setup)
        out.extend((ind + 1, s, pc) for ind, s, pc in viewed)
        out.extend((ind0 + 1, r, pc0) for r in restore)
        out.append((ind0, "else:", pc0))
        out.extend((ind + 1, resolve(s, False), pc) for ind, s, pc in lines)
        return out
