"""The operand stack, resolved at translation time (docs ARCHITECTURE.md, "Execution").

Each stack entry (:class:`V`) is a pure Python expression over Wasm locals (``l<i>``),
stack slots (``s<h>``: the value at stack height ``h``), mutable globals and constants.
Anything that may trap or has an effect (loads, stores, calls, div/rem, trapping
truncations, memory/table state) is emitted in order as a statement and its value put in
the slot of its stack height (:meth:`OperandStack.effect`). Before a name is assigned
(``local.set``, a slot), pending entries that read it are materialised first
(:meth:`OperandStack.protect`), so every entry still means what it meant when the
instruction that produced it ran.

Integers are unsigned Python ints masked lazily: an entry is *canonical* when it is known
to lie in ``[0, 2**N)``; add/sub/mul/shl/and/or/xor are correct modulo ``2**N`` on any
Python int, so only consumers that need the canonical value (compare, shift right,
divide, address, store, local.set, call) mask it (:meth:`OperandStack.cx`).

Expressions are cut into slots beyond :data:`MAX_DEPTH` nested operations, which keeps
parentheses under CPython's limit of 200 and expressions small whatever the body size.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from .entries import _MASK, _MODULUS, _WIDTH, CPYTHON_SHAPES, EMPTY

MAX_PENDING = 64        # pending entries kept before all are materialised (protect)
MAX_DEPTH = 24          # nested operations in one expression before a slot is used

# One line of generated code: (indentation level, text, index in the function body of the
# instruction it comes from; None for lines of no instruction).
Line = Tuple[int, str, Optional[int]]
# The instruction index of the lines a function starts with (its locals' initial values,
# the epoch check at entry): a trap there is at the start of the body.
FUNC_ENTRY = -1


class V:
    """One operand stack entry: a pure Python expression and what is known about it.

    Made by the named constructors below (or by :meth:`OperandStack.pure` for an
    operation on other entries)."""

    __slots__ = ("e", "t", "deps", "canon", "bits", "depth", "atom", "isbool", "slot", "near",
                 "aligned", "order")

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
        # ints, not canonical: most likely in range all the same (a canonical value plus
        # or minus a small constant: counters, pointers), so masked with % (see cx).
        self.near = False
        # A slot in a loop versioned for views: (alignment, locals to test) of the value
        # it holds (views.ViewLoop.alignment_of), or None.
        self.aligned: Optional[Tuple[int, Tuple[int, ...]]] = None
        # A strict comparison of two names or literals, kept as (signedness and width,
        # smaller, larger): "u32", x, y for x <u y (i32.lt_u x y or i32.gt_u y x). Two of
        # them with the operands swapped cannot both hold (ops_numeric, three-way
        # comparisons). Only on the entry the comparison pushed: a slot holding it has none.
        self.order: Optional[Tuple[str, str, str]] = None

    @staticmethod
    def constant(text: str, t: str, atom: bool = True) -> "V":
        """A literal (or a name bound once in the namespace): reads nothing that changes."""
        return V(text, t, EMPTY, True, _WIDTH.get(t, 0), 0, atom)

    @staticmethod
    def variable(name: str, t: str, deps: Optional[frozenset] = None) -> "V":
        """A name that may be reassigned (a local, a global's cell): a canonical value
        that depends on ``deps`` (default: the name itself)."""
        return V(name, t, frozenset((name,)) if deps is None else deps, True,
                 _WIDTH.get(t, 0), 0, True)

    @staticmethod
    def in_slot(h: int, t: str, canon: bool = True, bits: int = 0) -> "V":
        """The slot variable ``s<h>`` holding a value of type ``t``."""
        name = "s%d" % h
        return V(name, t, frozenset((name,)), canon, bits or _WIDTH.get(t, 0), 0, True,
                 False, h)

    def __repr__(self) -> str:
        return "V(%r, %s)" % (self.e, self.t)


def _p(v: V) -> str:
    """v's expression usable as an operand (parenthesised unless atomic)."""
    return v.e if v.atom else "(" + v.e + ")"


class Output:
    """The generated lines: indentation, suites, and the Wasm instruction (its index in
    the body) each line comes from (for backtraces)."""

    def __init__(self) -> None:
        self.lines: List[Line] = []
        self.ind = 0
        self.cur_pc: Optional[int] = None   # index of the instruction being translated

    def emit(self, s: str) -> None:
        self.lines.append((self.ind, s, self.cur_pc))

    def open_suite(self, header: str) -> int:
        self.emit(header)
        self.ind += 1
        return len(self.lines)

    def close_suite(self, mark: int) -> None:
        if len(self.lines) == mark:
            self.emit("pass")
        self.ind -= 1


class OperandStack(Output):
    """The symbolic operand stack over an :class:`Output`."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: List[V] = []
        self.dirty = 0                  # no pending (non-stable) entry below this height
        self.max_slot = -1
        # The last effect emitted, (its line, its height, its expression): a local.set
        # right after may assign the local in its place (see translate's _JOINS).
        self.last_effect: Optional[Tuple[Line, int, str]] = None

    def push(self, v: V) -> None:
        h = len(self.stack)
        self.stack.append(v)
        if v.deps and v.slot != h and h < self.dirty:
            self.dirty = h

    def pop(self) -> V:
        v = self.stack.pop()
        if len(self.stack) < self.dirty:
            self.dirty = len(self.stack)
        return v

    def popn(self, n: int) -> List[V]:
        if n == 0:
            return []
        vals = self.stack[-n:]
        del self.stack[-n:]
        if len(self.stack) < self.dirty:
            self.dirty = len(self.stack)
        return vals

    def slot_entry(self, h: int, v: V) -> V:
        if h > self.max_slot:
            self.max_slot = h
        nv = V.in_slot(h, v.t, v.canon, v.bits)
        nv.near = v.near
        nv.aligned = self.alignment_of(v)
        return nv

    def alignment_of(self, v: V) -> Optional[Tuple[int, Tuple[int, ...]]]:
        """What a loop versioned for views knows of the alignment of ``v``'s value (the
        Translator's hook: views.ViewLoop.alignment_of); None here."""
        return None

    def protect(self, name: str, skip: int = -1) -> None:
        """Materialise the pending entries that read ``name`` (about to be reassigned).

        Runs before every assignment, so it must not scan the whole stack: the stable
        prefix is skipped once (``dirty`` only moves up here), and beyond
        :data:`MAX_PENDING` pending entries all are materialised, which keeps each call
        O(MAX_PENDING) whatever the stack height (a body pushing 100,000 loads or
        local.tee values was quadratic to translate)."""
        st = self.stack
        n = len(st)
        d = self.skip_stable()
        if n - d > MAX_PENDING and skip < 0:
            self.materialise_all()
            return
        need = [j for j in range(d, n)
                if j != skip and st[j].slot != j and name in st[j].deps]
        if need:
            # With ``skip`` the entry at that height is being assigned by the caller: it
            # must not be materialised behind its back (hence no bound here).
            self.materialise_set(need, bounded=skip < 0)

    def skip_stable(self) -> int:
        """Move ``dirty`` past the entries that are stable (their own slot, or reading no
        name); returns it."""
        st = self.stack
        n = len(st)
        d = self.dirty
        while d < n and (st[d].slot == d or not st[d].deps):
            d += 1
        self.dirty = d
        return d

    def materialise(self, h: int) -> None:
        if self.stack[h].slot != h:
            self.materialise_set([h])

    def materialise_set(self, heights: List[int], bounded: bool = True) -> None:
        """Put the entries at ``heights`` in their slots, after the entries that read
        those slots (transitively; an entry only reads slots at or above its height, so
        they are all below: one downward scan, then assignments bottom-up, no recursion
        whatever the stack height).

        ``bounded``: with more than :data:`MAX_PENDING` pending entries below, all are
        materialised at once, so that the scan stays short whatever the stack height."""
        st = self.stack
        if bounded and max(heights) - self.skip_stable() > MAX_PENDING:
            self.materialise_all()
            heights = [j for j in heights if st[j].slot != j]
            if not heights:
                return
        need = set(heights)
        names = {"s%d" % j for j in need}
        for j in range(max(heights) - 1, self.dirty - 1, -1):
            v = st[j]
            if j not in need and v.slot != j and v.deps and not names.isdisjoint(v.deps):
                need.add(j)
                names.add("s%d" % j)
        for j in sorted(need):
            v = st[j]
            self.emit("s%d = %s" % (j, self.cx(v) if v.isbool else v.e))
            st[j] = self.slot_entry(j, v)

    def materialise_all(self) -> None:
        """Every entry that reads a name becomes its own slot (constants stay)."""
        st = self.stack
        need = [j for j in range(self.dirty, len(st)) if st[j].deps and st[j].slot != j]
        if need:
            self.materialise_set(need, bounded=False)
        self.dirty = len(st)

    def flush(self, frm: int, canon: bool = True) -> None:
        """Put every entry at height >= frm in its own slot (constants too)."""
        st = self.stack
        for j in range(frm, len(st)):
            v = st[j]
            if v.slot == j and (v.canon or not canon):
                continue
            name = "s%d" % j
            self.protect(name, j)
            self.emit("%s = %s" % (name, self.cx(v) if canon or v.isbool else v.e))
            nv = self.slot_entry(j, v)
            if canon and v.t in _WIDTH:
                nv.canon = True
                nv.bits = _WIDTH[v.t]
            st[j] = nv

    def loop_params(self, base: int) -> None:
        """The entries from ``base`` up (flushed into their slots) are a loop's parameters:
        back edges bring other values into those slots, so nothing is known of them
        but their type (an entry value's bound kept here made ``s0 + K`` look canonical
        on the second iteration: a wrong i64 sum, found by the smith campaign)."""
        st = self.stack
        for j in range(base, len(st)):
            st[j] = V.in_slot(j, st[j].t)

    def result_slots(self, base: int, types: Sequence[str]) -> None:
        """Push entries for a label's values arriving in slots s<base>...."""
        del self.stack[base:]
        if len(self.stack) < self.dirty:
            self.dirty = len(self.stack)
        for i, t in enumerate(types):
            h = base + i
            if h > self.max_slot:
                self.max_slot = h
            self.stack.append(V.in_slot(h, t))

    def cx(self, v: V, near: bool = False) -> str:
        """The canonical value of v as an expression.

        A comparison result is a Python bool; wherever a value is stored or passed on it
        becomes an int (``+b``), so no bool reaches a local, slot, global, callee or the
        embedder (conditions use the bool itself).

        ``near`` (or ``v.near``): the value is most likely in range already (an address,
        a counter, a sum of two values not known to be a hash's: ops_numeric's add), so
        it is reduced with ``% 2**N``: CPython returns an operand smaller
        than the modulus at once (about 20 ns less than ``&`` per operation, 3.9-3.13),
        and reduces a negative one for no more than ``&`` costs, but takes about 40 ns
        more to reduce one past 2**N; ``&`` costs about the same either way
        (docs/benchmarks.md, session 11, has the instruction counts)."""
        if v.isbool:
            return "+" + _p(v)
        if v.canon or v.t not in _WIDTH:
            return v.e
        if (near or v.near) and CPYTHON_SHAPES:
            return "(%s %% %s)" % (_p(v), _MODULUS[v.t])
        return "%s & %s" % (_p(v), _MASK[v.t])

    def pcx(self, v: V, near: bool = False) -> str:
        """cx(v) usable as an operand."""
        if v.isbool:
            return "(+%s)" % _p(v)
        if v.canon or v.t not in _WIDTH:
            return _p(v)
        if (near or v.near) and CPYTHON_SHAPES:
            return "(%s %% %s)" % (_p(v), _MODULUS[v.t])
        return "(%s & %s)" % (_p(v), _MASK[v.t])

    def shallow(self, n: int) -> None:
        """Keep the top n entries shallow enough to be combined into one more level."""
        st = self.stack
        for j in range(len(st) - n, len(st)):
            if st[j].depth >= MAX_DEPTH:
                self.materialise(j)

    def effect(self, expr: str, t: str, canon: bool = True, bits: int = 0) -> None:
        """Emit expr now (it may trap or read state) and push its value in a slot."""
        h = len(self.stack)
        name = "s%d" % h
        self.protect(name)
        self.emit("%s = %s" % (name, expr))
        # Remembered so that a local.set right after can assign the local directly.
        self.last_effect = (self.lines[-1], h, expr)
        if h > self.max_slot:
            self.max_slot = h
        self.stack.append(V.in_slot(h, t, canon, bits))

    def pure(self, expr: str, t: str, args: Sequence[V], canon: bool = True,
             bits: int = 0, atom: bool = False, isbool: bool = False,
             extra_deps: frozenset = EMPTY) -> None:
        deps = extra_deps
        depth = 0
        for a in args:
            if a.deps:
                deps = deps | a.deps
            if a.depth > depth:
                depth = a.depth
        v = V(expr, t, deps, canon, bits or _WIDTH.get(t, 0), depth + 1, atom, isbool)
        if atom and len(args) == 1 and args[0].e == expr:
            # The operand unchanged (e.g. i64.extend_i32_u of a canonical value).
            v.depth = args[0].depth
            if args[0].slot == len(self.stack):
                v.slot = args[0].slot
        self.push(v)
