"""Control flow: the two lowerings of Wasm's structured control into Python, chosen per
function (compile.CompiledModule._translate, from scan.Scan.structured_ok).

* :class:`Structured` (fast): ``loop`` -> ``while True`` (br = ``continue``); a
  ``block``/``if`` that is branched to -> ``while True`` (br = ``break``); branches to an
  outer Python loop set ``_br`` and break, with a small dispatch after each loop. Three
  shapes need no Python loop of their own: a block whose branches are all br/br_if in its
  own body (each br_if opens ``if not c:`` around the rest), ``block (loop ...) end`` (the
  block exits with the loop), and the br_table switch idiom (nested blocks B_n..B_0, B_0
  ending with the br_table: a case variable and sequential guards ``if _c <= i:``).
* :class:`Flat` (any shape): basic blocks numbered and dispatched by ``while True`` and a
  balanced ``if`` tree on ``_s``; used when the structured code would exceed CPython's
  compiler limits (20 nested loops, 100 indentation levels), e.g. 3,000 nested blocks.
  Before the tree is written, blocks reached from one place move there, small ones are
  copied to the places that go to them, and a block that then goes to itself runs in a
  ``while True`` of its own (:meth:`Flat.merge_states`).

``try_table`` (exception handling): structured, a Python ``try:`` whose ``except WEXC``
tests the catch clauses and branches; flat, one ``try`` around the dispatch loop, ``_s``
telling which try_table the raising code is in (Flat.try_table). docs/DECISIONS.md has both.

Both implement one interface (:class:`Lowering`): the handlers of the control
instructions (ops_control.py) call ``t.lowering.block(ins)`` and so on, and each lowering
owns its whole logic for ``end``, ``br``, ``br_if`` and ``br_table``. A label's values
travel in the slots ``s<base>...`` of the label's stack height.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from purewasm.syntax import Instr

from . import names
from .entries import CPYTHON_SHAPES, TranslationError
from .stack import Line, V, _p
from .idioms import Liveness, SliceLoop, recognise
from .scan import MAX_PY_LOOPS
from .views import Counted, ViewLoop, as_for_loop, counted_loop, loop_pointers

if TYPE_CHECKING:
    from .translate import Translator


# Innermost counted loops run as ``for _k in range(n)`` (views.as_for_loop; CPython:
# measured slower on PyPy; tests turn it off to compare).
COUNTED_FOR_LOOPS = CPYTHON_SHAPES


class PyLoop:
    """A ``while True:`` of the structured lowering (level 1 = outermost)."""

    __slots__ = ("level", "parent", "escapes", "mark", "view", "idiom", "end", "counted",
                 "entry_zeros", "innermost")

    def __init__(self, level: int, parent: "Optional[PyLoop]") -> None:
        self.level = level
        self.parent = parent
        self.escapes: set = set()    # _br codes of branches that leave it outwards
        self.mark = 0
        self.view: Optional[ViewLoop] = None   # a loop being versioned (views.py)
        self.idiom: Optional[SliceLoop] = None  # a swap/copy loop (idioms.py)
        # Locals known 0 where the loop starts (the translator's LocalBits.exact: a
        # ``local.set`` of 0 left out as held, intervals.Facts.held, is no line to see).
        self.entry_zeros: FrozenSet[int] = frozenset()
        self.end = -1                # the Wasm loop's end (with idiom)
        # A counted Wasm loop (views.counted_loop): run as ``for _k in range(n)`` when
        # it is innermost (views.as_for_loop inserts the counter's value at each break).
        self.counted: Optional[Counted] = None
        self.innermost = True


class Frame:
    """One entry of the control stack: a label and how it was lowered."""

    __slots__ = ("kind", "params", "results", "base", "targeted", "has_else", "py",
                 "st_start", "st_else", "st_end", "reached", "entry",
                 "mark", "case", "chainvar", "last", "shared", "marks", "catches",
                 "handler")

    def __init__(self, kind: str, params: Sequence[str], results: Sequence[str],
                 base: int, targeted: bool, has_else: bool = False) -> None:
        self.kind = kind              # "func", "block", "loop", "if", "case", "dead"
        self.params = tuple(params)
        self.results = tuple(results)
        self.base = base              # stack height below the params
        self.targeted = targeted      # some branch targets this label
        self.has_else = has_else
        self.py: Optional[PyLoop] = None   # structured: the Python loop a branch leaves
        self.st_start = -1            # flat: the loop's state
        self.st_else = -1             # flat: the else branch's state
        self.st_end = -1              # flat: the state after the end
        self.reached = False          # the end is reached by a branch or a fallthrough
        self.entry: List[V] = []      # the param entries (restored at else)
        self.mark = 0                 # output length when a Python suite was opened
        self.case = -1                # br_table switch chain: this block's case number
        self.chainvar = ""
        self.last = False             # the chain's outermost block
        self.shared = False           # block around a loop: exits with the loop
        self.marks: Optional[List[int]] = None   # forward block: its open "if not" suites
        # try_table (a "block" with catch clauses): the clauses, and how the lowering
        # placed it (structured: the mark of its ``try:`` suite; flat: its handler
        # state).
        self.catches: Optional[Tuple[Tuple[str, Optional[int], int], ...]] = None
        self.handler = -1

    def label_types(self) -> Tuple[str, ...]:
        """The types a branch to this label carries."""
        return self.params if self.kind == "loop" else self.results


class Lowering:
    """What both lowerings share; the control handlers call these methods."""

    def __init__(self, t: "Translator") -> None:
        self.t = t

    # The interface: each lowering implements these (the control handlers call them),
    # plus finish(out, pcs), which appends the function body's lines (indented under
    # its ``def``) and the byte offset of each.
    block: Callable[[Instr], None]
    loop: Callable[[Instr], None]
    if_: Callable[[Instr], None]
    else_: Callable[[Instr], None]
    end: Callable[[Instr], None]
    br: Callable[[Instr], None]
    br_if: Callable[[Instr], None]
    br_table: Callable[[Instr], None]
    try_table: Callable[[Instr], None]
    finish: Callable[[List[str], List[Optional[int]]], None]
    branch: Callable[[int], None]

    def start(self) -> None:
        """Before the first instruction."""

    # Shared pieces.
    def open_frame(self, kind: str, ins: Instr) -> Frame:
        """Push the frame of a block, loop or if (whose condition is already popped)."""
        t = self.t
        params, results = t.block_sig(ins.imm)
        f = Frame(kind, params, results, len(t.stack) - len(params), t.pc in t.scan.targeted,
                  kind == "if" and t.pc in t.scan.has_else)
        t.ctrl.append(f)
        return f

    def open_try(self, ins: Instr) -> Frame:
        """Push the frame of a try_table: a block whose catch clauses are kept. Every
        pending entry below it goes to a slot first: a handler may run from any point of
        the body, and must find the stack below the try_table as it was at its entry."""
        t = self.t
        bt, catches = ins.imm
        params, results = t.block_sig(bt)
        f = Frame("block", params, results, len(t.stack) - len(params),
                  t.pc in t.scan.targeted)
        f.catches = catches
        t.ctrl.append(f)
        t.materialise_all()
        return f

    def emit_catches(self, f: Frame, exn: str, unmatched: Sequence[str]) -> None:
        """The handler of try_table ``f`` (already popped: the control stack is the
        enclosing context, as the catch labels are resolved there) for the exception
        in the variable ``exn``: the clauses in order, each branching to its label with
        the payload (and the exnref); ``unmatched`` are the lines run when none matches
        (spec 4.4.8.4, "throw_ref")."""
        t = self.t
        saved = t.stack[f.base:]
        del t.stack[f.base:]
        t.dirty = min(t.dirty, len(t.stack))
        h = len(t.stack)
        for ckind, tag, label in f.catches or ():
            cond = tag is not None
            if tag is not None:
                t.open_suite("if %s.tag is %s:" % (exn, names.TAG % tag))
                types = t.tag_types[tag]
                if types:
                    slots = ["s%d" % (h + i) for i in range(len(types))]
                    t.emit("%s, = %s.values" % (", ".join(slots), exn))
                    t.max_slot = max(t.max_slot, h + len(types) - 1)
                for i, ty in enumerate(types):
                    t.stack.append(V.in_slot(h + i, ty))
            if ckind.endswith("_ref"):
                t.stack.append(V.variable(exn, "exnref"))
            t.live = True
            self.branch(label)
            del t.stack[h:]
            if not cond:
                break
            t.ind -= 1
        else:
            for line in unmatched:
                t.emit(line)
        t.live = False
        t.stack.extend(saved)

    def enclosing_try(self) -> Optional[Frame]:
        """The innermost open try_table (None: the function has no handler here)."""
        for f in reversed(self.t.ctrl):
            if f.catches is not None:
                return f
        return None

    def open_if(self, ins: Instr) -> Tuple[V, Frame]:
        """Pop an if's condition and push its frame, its params in their slots (both arms
        start from them); returns (condition, frame)."""
        t = self.t
        c = t.pop()
        f = self.open_frame("if", ins)
        t.materialise_all()
        t.flush(f.base)
        f.entry = t.stack[f.base:]
        return c, f

    def do_return(self) -> None:
        t = self.t
        results = t.type.results
        n = len(results)
        vals = t.stack[len(t.stack) - n:] if n else []
        vals = t.leaving(vals, results)
        if n == 0:
            t.emit("return")
        elif n == 1:
            t.emit("return " + t.cx(vals[0]))
        else:
            t.emit("return (%s)" % ", ".join(t.pcx(v) for v in vals))

    def end_func(self, f: Frame) -> None:
        t = self.t
        t.ctrl.append(f)
        if t.live:
            self.do_return()
        t.live = False

    def end_values(self, f: Frame) -> None:
        """At the fallthrough end of a frame: its results go to their slots."""
        t = self.t
        n = len(f.results)
        if len(t.stack) - n != f.base:  # pragma: no cover - validated modules only
            raise TranslationError("stack height mismatch at end of block")
        t.flush(f.base)

    def fall_into_end(self, f: Frame) -> None:
        """The code falls through to the end (or else) of ``f``: its values to the slots."""
        if self.t.live:
            self.end_values(f)
            f.reached = True

    def after_end(self, f: Frame) -> None:
        """After the end of ``f``: live if something reached it, its results in slots."""
        t = self.t
        t.live = f.reached
        t.result_slots(f.base, f.results)

    def restore_entry(self, f: Frame) -> None:
        """At ``else``: the stack as it was at the ``if`` (its params in their slots)."""
        t = self.t
        del t.stack[f.base:]
        t.dirty = min(t.dirty, len(t.stack))
        for v in f.entry:
            t.stack.append(v)
        t.live = True

    def value_moves(self, f: Frame) -> None:
        """Emit the moves of a branch's values into the label's slots."""
        t = self.t
        n = len(f.label_types())
        vals = t.stack[len(t.stack) - n:] if n else []
        targets = []
        exprs = []
        for i, v in enumerate(vals):
            h = f.base + i
            if v.slot == h and v.canon:
                continue
            if h > t.max_slot:
                t.max_slot = h
            targets.append("s%d" % h)
            exprs.append(t.cx(v) if len(vals) == 1 else "(%s)" % t.cx(v))
        if targets:
            t.emit("%s = %s" % (", ".join(targets), ", ".join(exprs)))

    def br_table_index(self) -> str:
        """Pop br_table's index: a canonical name or constant (it is read several times)."""
        return self.pop_stable().e

    def pop_stable(self) -> V:
        """Pop the top value as a canonical name or constant that may be read several times
        (else it is evaluated once, into its slot)."""
        t = self.t
        c = t.pop()
        if not c.canon or not c.atom or (c.deps and c.slot < 0 and not c.e.isidentifier()):
            t.push(c)
            t.flush(len(t.stack) - 1)
            c = t.pop()
        return c

    # ----- typed references (Wasm 3.0): branches on a reference, in both lowerings --------
    # As br_if, with the test on the reference on top of the stack, which stays there on
    # one of the two paths; each lowering's ``branch`` does the jump.

    def br_on_null(self, ins: Instr) -> None:
        """br_on_null l: branch if the reference is null (it is dropped), else keep it."""
        t = self.t
        c = self.pop_stable()
        f = t.ctrl[-1 - ins.imm]
        t.shallow(len(f.label_types()))
        t.open_suite("if %s is None:" % c.e)
        self.branch(ins.imm)
        t.ind -= 1
        t.push(c)

    def br_on_non_null(self, ins: Instr) -> None:
        """br_on_non_null l: branch with the reference if it is not null, else drop it."""
        t = self.t
        c = self.pop_stable()
        t.push(c)
        f = t.ctrl[-1 - ins.imm]
        t.shallow(len(f.label_types()))
        t.open_suite("if %s is not None:" % c.e)
        self.branch(ins.imm)
        t.ind -= 1
        t.pop()


_LOCAL_ZERO = re.compile(r"^((?:l\d+ = )+)0$")
_ASSIGNED_LOCALS = re.compile(r"\bl(\d+)\b")


def zeros_before(lines: List[Line], start: int) -> FrozenSet[int]:
    """The locals that hold 0 when the statement at ``start`` runs, by the simple
    statements right before it in its suite (same indentation: each ran, in order, just
    before; a compound statement or the suite's start ends the search): a local whose
    last assignment there is ``lN = 0``."""
    ind = lines[start][0]
    zeros: set = set()
    seen: set = set()
    for i in range(start - 1, max(start - 9, -1), -1):
        ind2, text, _ = lines[i]
        if ind2 != ind or text.endswith(":"):
            break
        m = _LOCAL_ZERO.match(text)
        if m is not None:
            for y in _ASSIGNED_LOCALS.findall(m.group(1)):
                if int(y) not in seen:
                    zeros.add(int(y))
                    seen.add(int(y))
            continue
        head, sep, _ = text.partition(" = ")
        if not sep:
            break
        seen.update(int(y) for y in _ASSIGNED_LOCALS.findall(head))
    return frozenset(zeros)


class Structured(Lowering):
    """Python loops and ifs (see the module docstring)."""

    def __init__(self, t: "Translator") -> None:
        super().__init__(t)
        self.pyloops: List[PyLoop] = []
        self.uses_br = False            # some branch leaves a Python loop outwards
        self.guards: Dict[str, int] = {}   # chain variable -> mark of its open guard
        # Chains dispatched by bisection: chain variable -> the open tree nodes, root first
        # ([lo, mid, hi, in the else suite, mark of the open suite]).
        self.tree_nodes: Dict[str, List[List]] = {}
        # Chains whose bisection tests the br_table's index (scan.fused_runs): chain
        # variable -> [the tree's steps in order, the next step, the marks of open suites].
        self.fused: Dict[str, List] = {}
        self.liveness: Optional[Liveness] = None    # made for the first idiom loop

    # ----- Python loops ------------------------------------------------------------------

    def open_pyloop(self, f: Frame) -> None:
        parent = self.pyloops[-1] if self.pyloops else None
        if parent is not None:
            parent.innermost = False
        pl = PyLoop(len(self.pyloops) + 1, parent)
        self.pyloops.append(pl)
        f.py = pl
        pl.mark = self.t.open_suite("while True:")

    def close_pyloop(self, f: Frame, fallthrough: bool) -> None:
        t = self.t
        if fallthrough:
            t.emit("break")
        pl = self.pyloops.pop()
        t.close_suite(pl.mark)
        vl = pl.view
        if vl is not None:
            # Emitted twice: with views when every pointer is aligned (views.py).
            t.view_loop = None
            t.lines[vl.start:] = vl.lines(t.lines[vl.start:], names.MEMORY_VIEWS % 0,
                                          names.MEMORY_VIEW % 0)
        elif pl.counted is not None and pl.innermost and pl.idiom is None:
            t.lines[pl.mark - 1:] = as_for_loop(t.lines[pl.mark - 1:], pl.counted)
        if pl.idiom is not None:
            # Behind its slice version (idioms.py).
            if self.liveness is None:
                self.liveness = Liveness(t.func.body, t.scan.end_of, t.intervals.held)
            start = pl.mark - 1
            t.lines[start:] = pl.idiom.lines(t.lines[start:], self.liveness.after(pl.end),
                                             names.MEMORY % 0, t.lines[start][2],
                                             t.signed_i64,
                                             zeros_before(t.lines, start) | pl.entry_zeros,
                                             (names.MEMORY_VIEWS % 0, names.MEMORY_VIEW % 0)
                                             if t.view_memory else None)
        if pl.escapes:
            parent = self.pyloops[-1] if self.pyloops else None
            t.open_suite("if _br:")
            others = False
            for code in sorted(pl.escapes):
                if parent is not None and code // 2 == parent.level:
                    t.open_suite("if _br == %d:" % code)
                    t.emit("_br = 0")
                    t.emit("continue" if code & 1 else "break")
                    t.ind -= 1
                else:
                    others = True
            if others:
                t.emit("break")
            t.ind -= 1

    def branch(self, depth: int) -> None:
        """Emit a branch to the label ``depth`` levels out (the top values are its args)."""
        t = self.t
        f = t.ctrl[-1 - depth]
        if f.kind == "func":
            self.do_return()
            return
        if f.kind == "case":
            t.emit("%s = %d" % (f.chainvar, f.case))
            f.reached = True
            return
        self.value_moves(f)
        if f.kind != "loop":
            f.reached = True
        target = f.py
        cont = f.kind == "loop"
        cur = self.pyloops[-1] if self.pyloops else None
        if target is cur:
            t.emit("continue" if cont else "break")
            return
        if target is None:  # pragma: no cover - the scan marks every branched-to label
            raise TranslationError("branch to a label without a loop")
        code = target.level * 2 + (1 if cont else 0)
        self.uses_br = True
        t.emit("_br = %d" % code)
        t.emit("break")
        p = cur
        while p is not target and p is not None:
            p.escapes.add(code)
            p = p.parent

    # ----- the control instructions ------------------------------------------------------

    def block(self, ins: Instr) -> None:
        t = self.t
        chain = t.scan.chain.get(t.pc)
        if chain is not None:
            f = Frame("case", (), (), len(t.stack), t.pc in t.scan.targeted)
            f.chainvar, f.case, f.last = chain
            if f.last:
                t.materialise_all()
            t.ctrl.append(f)
            return
        f = self.open_frame("block", ins)
        if not f.targeted:
            return
        t.materialise_all()
        if t.pc in t.scan.shared:
            f.shared = True   # loop() gives it the loop's Python loop
        elif t.pc in t.scan.forward:
            f.marks = []
        else:
            self.open_pyloop(f)

    def loop(self, ins: Instr) -> None:
        t = self.t
        f = self.open_frame("loop", ins)
        if not f.targeted:
            return
        t.materialise_all()
        t.flush(f.base)
        t.loop_params(f.base)
        vl = None
        idiom = None
        end = t.scan.end_of.get(t.pc, t.pc)
        if t.slice_memory and not t.epoch and not t.fuel:
            idiom = recognise(t.func.body, t.pc, end, t.scan.refs.get(t.pc, set()),
                              t.local_types)
        counted = None
        if COUNTED_FOR_LOOPS and idiom is None and not t.epoch and not t.fuel:
            counted = counted_loop(t.func.body, t.pc, end, t.scan.refs.get(t.pc, set()),
                                   t.local_types)
        if idiom is None and t.view_memory and not t.epoch and t.view_loop is None:
            pointers = loop_pointers(t.func.body, t.pc, end)
            if pointers is not None:
                vl = ViewLoop(pointers, len(t.lines), counted)
        self.open_pyloop(f)
        if vl is None and f.py is not None:
            f.py.counted = counted
        if vl is not None and f.py is not None:
            f.py.view = vl
            t.view_loop = vl
            vl.may_try = len(self.pyloops) <= MAX_PY_LOOPS - 2
        if idiom is not None and f.py is not None:
            f.py.idiom = idiom
            f.py.entry_zeros = t.entry_zeros
            f.py.end = end
        outer = t.ctrl[-2]
        if outer.shared:
            outer.py = f.py
        if t.epoch:
            t.check_epoch()

    def if_(self, ins: Instr) -> None:
        t = self.t
        c, f = self.open_if(ins)
        if f.targeted:
            self.open_pyloop(f)
        f.mark = t.open_suite("if %s:" % (c.e if c.isbool or c.canon else t.cx(c)))

    def else_(self, ins: Instr) -> None:
        t = self.t
        f = t.ctrl[-1]
        self.fall_into_end(f)
        t.close_suite(f.mark)
        f.mark = t.open_suite("else:")
        self.restore_entry(f)

    def try_table(self, ins: Instr) -> None:
        """``try:`` around the body (and around the Python loop of the try_table's own
        label, if branched to); the handler follows as ``except`` (end_try)."""
        t = self.t
        f = self.open_try(ins)
        f.mark = t.open_suite("try:")
        if f.targeted:
            self.open_pyloop(f)

    def end_try(self, f: Frame) -> None:
        t = self.t
        self.fall_into_end(f)
        if f.targeted:
            self.close_pyloop(f, t.live)
        live = t.live
        t.close_suite(f.mark)
        t.open_suite("except WEXC as _x:")
        self.emit_catches(f, "_x", ("raise",))
        t.ind -= 1
        t.live = live
        self.after_end(f)

    def end(self, ins: Instr) -> None:  # noqa: C901 - one case per kind of frame
        t = self.t
        f = t.ctrl.pop()
        kind = f.kind
        if kind == "func":
            self.end_func(f)
            return
        if f.catches is not None:
            self.end_try(f)
            return
        if kind == "case" and f.chainvar in t.scan.chain_tree:
            self.end_case_tree(f)
            return
        if kind == "case":
            mark = self.guards.pop(f.chainvar, None)
            if mark is not None:
                t.close_suite(mark)
            if t.live:
                f.reached = True
            t.live = f.reached
            if t.live and not f.last:
                # Code after the end of B_i runs for cases <= i (a fallthrough from the
                # code of case i - 1 has a smaller case number).
                self.guards[f.chainvar] = t.open_suite("if %s <= %d:" % (f.chainvar,
                                                                        f.case))
            t.result_slots(f.base, ())
            return
        if kind == "block" and f.marks is not None:
            for mark in reversed(f.marks):
                t.close_suite(mark)
            if t.live:
                f.reached = True
            self.after_end(f)
            return
        if kind == "block" and f.shared:
            # The loop inside has closed the Python loop both share.
            if t.live:
                f.reached = True
            self.after_end(f)
            return
        if kind == "block":
            if not f.targeted:
                if not t.live:
                    t.result_slots(f.base, f.results)
                return
            self.fall_into_end(f)
            self.close_pyloop(f, t.live)
            self.after_end(f)
            return
        if kind == "loop":
            if f.targeted:
                # The results stay pending: the only way out of the Python loop to the
                # code after it is this fallthrough (branches to a loop go to its start).
                live = t.live
                if live:
                    t.shallow(len(f.results))
                    # Entries must not read slots the loop body might still reassign:
                    # nothing runs between the break and their use, so they stay valid.
                self.close_pyloop(f, live)
                t.live = live
            if not t.live:
                t.result_slots(f.base, f.results)
            return
        # if
        self.fall_into_end(f)
        if not f.has_else:
            f.reached = True   # the false path goes straight to the end
        t.close_suite(f.mark)
        if f.targeted:
            # Falling out of the if statement = reaching the end: leave the loop.
            self.close_pyloop(f, True)
        self.after_end(f)

    def end_case_tree(self, f: Frame) -> None:
        """The end of B_i in a switch chain dispatched by bisection (scan.chain_tree): no
        case's code falls through, so the code after the end of B_i runs for case i
        exactly. The cases' suites are the leaves, in order, of a balanced tree of
        ``if _c < mid:`` / ``else:`` over 0..n (n: the last block, whose code after it
        runs for every case, and has no leaf of its own)."""
        t = self.t
        var = f.chainvar
        if t.live:  # pragma: no cover - the scan saw a transfer before each end
            raise TranslationError("switch chain case falls through")
        if var in self.fused:
            self.fused_walk(var, None if f.last else f.case)
            t.live = f.reached
            t.result_slots(f.base, ())
            return
        nodes = self.tree_nodes.setdefault(var, [])
        i = f.case
        # Up from the previous leaf to the node whose right half holds leaf i.
        while nodes:
            lo, mid, hi, in_else, mark = nodes[-1]
            t.close_suite(mark)
            if not in_else and not f.last and i >= mid:
                nodes[-1] = [lo, mid, hi, True, t.open_suite("else:")]
                break
            nodes.pop()
        if f.last:
            del self.tree_nodes[var]
            t.live = f.reached   # the continuation (case n's paths)
            t.result_slots(f.base, ())
            return
        # Down to leaf i, the first of the (sub)range it is in.
        lo, hi = (nodes[-1][1], nodes[-1][2]) if nodes else (0, t.scan.chain_tree[var])
        while hi - lo > 1:
            mid = (lo + hi) // 2
            nodes.append([lo, mid, hi, False, t.open_suite("if %s < %d:" % (var, mid))])
            hi = mid
        t.live = f.reached
        t.result_slots(f.base, ())

    def br(self, ins: Instr) -> None:
        t = self.t
        f = t.ctrl[-1 - ins.imm]
        if f.marks is not None:
            f.reached = True   # the rest of this suite is dead: the block end follows
        else:
            self.branch(ins.imm)
        t.live = False

    def br_if(self, ins: Instr) -> None:
        t = self.t
        c = t.pop()
        f = t.ctrl[-1 - ins.imm]
        if f.marks is not None:
            # Forward block: the rest of its body runs when the branch is not taken.
            # Pending entries above the block's base are only used on that path (the
            # block has no results); those below were materialised at the block entry.
            f.reached = True
            cond = _p(c) if c.isbool else t.pcx(c)
            f.marks.append(t.open_suite("if not %s:" % cond))
            return
        t.shallow(len(f.label_types()))
        t.open_suite("if %s:" % (c.e if c.isbool or c.canon else t.cx(c)))
        self.branch(ins.imm)
        t.ind -= 1

    def br_table(self, ins: Instr) -> None:
        t = self.t
        labels, default = ins.imm
        idx = self.br_table_index()
        fused = t.scan.chain_fused.get(t.ctrl[-1].chainvar)
        if fused is not None and fused[0] == t.pc and t.ctrl[-1].kind == "case":
            self.fused_table(idx, fused[1])
            t.live = False
            return
        # Ranges of consecutive indexes that branch to the same label, or (switch chains)
        # to consecutive cases: case = index + offset.
        ranges: List[Tuple[int, int, int, Optional[int]]] = []
        for i, d in enumerate(labels):
            f = t.ctrl[-1 - d]
            off = f.case - i if f.kind == "case" else None
            if ranges and ranges[-1][1] == i:
                plo, _, pd, poff = ranges[-1]
                if (off is None and poff is None and pd == d) or (
                        off is not None and poff == off
                        and t.ctrl[-1 - pd].chainvar == f.chainvar):
                    ranges[-1] = (plo, i + 1, pd, poff)
                    continue
            ranges.append((i, i + 1, d, off))
        if ranges and ranges[-1][2] == default and ranges[-1][3] is None:
            ranges[-1] = (ranges[-1][0], -1, default, None)
        else:
            ranges.append((len(labels), -1, default, None))
        if all(t.ctrl[-1 - d].kind == "case" for d in list(labels) + [default]):
            cases = [t.ctrl[-1 - d].case for d in labels]
            dflt = t.ctrl[-1 - default]
            for d in set(labels) | {default}:
                t.ctrl[-1 - d].reached = True
            var = dflt.chainvar
            if not cases:
                t.emit("%s = %d" % (var, dflt.case))
            elif cases == list(range(len(cases))):
                t.emit("%s = %s if %s < %d else %d" % (var, idx, idx, len(cases),
                                                       dflt.case))
            else:
                t.emit("%s = (%s,)[%s] if %s < %d else %d" % (
                    var, ", ".join(map(str, cases)), idx, idx, len(cases), dflt.case))
        else:
            self.range_tree(idx, labels, ranges, 0, len(ranges))
        t.live = False

    def fused_table(self, idx: str, runs: Sequence[Tuple[int, int]]) -> None:
        """The br_table of a fused switch chain (scan.fused_runs): no case variable; the
        cases' bisection tests ``idx``, its leaves the table's runs in index order. A run
        that leaves the chain gets its branch now (its text kept for its leaf: nothing
        runs between the table and a leaf, so what the branch reads is still valid); the
        code of a case is emitted in its leaf as the ends of the chain's blocks arrive
        (end_case_tree); runs of the last block fall out of the tree to its code."""
        t = self.t
        var = t.ctrl[-1].chainvar
        n = t.scan.chain_tree[var]
        leaves: List[Tuple[str, object]] = []
        for _, d in runs:
            f = t.ctrl[-1 - d]
            if d < n:
                if f.kind != "case" or f.chainvar != var or f.case != d:
                    raise TranslationError("switch chain out of step with its scan")
                f.reached = True
                leaves.append(("case", d) if d < n - 1 else ("out", None))
                continue
            mark, ind = len(t.lines), t.ind
            self.branch(d)
            leaves.append(("exit", [(i - ind, line, pc) for i, line, pc in t.lines[mark:]]))
            del t.lines[mark:]
        t.last_effect = None
        steps: List[Tuple[str, object]] = []

        def falls_out(lo: int, hi: int) -> bool:
            return all(kind == "out" for kind, _ in leaves[lo:hi])

        def bisect(lo: int, hi: int) -> None:
            if hi - lo == 1:
                steps.append(leaves[lo])
                return
            mid = (lo + hi) // 2
            # A half that only falls out of the tree needs no suite.
            if falls_out(lo, mid):
                steps.append(("open", "if %s >= %d:" % (idx, runs[mid][0])))
                bisect(mid, hi)
                steps.append(("close", None))
                return
            steps.append(("open", "if %s < %d:" % (idx, runs[mid][0])))
            bisect(lo, mid)
            steps.append(("close", None))
            if not falls_out(mid, hi):
                steps.append(("open", "else:"))
                bisect(mid, hi)
                steps.append(("close", None))

        bisect(0, len(runs))
        self.fused[var] = [steps, 0, []]

    def fused_walk(self, var: str, case: Optional[int]) -> None:
        """Emit a fused chain's tree up to the leaf of ``case`` (None: to its end)."""
        t = self.t
        state = self.fused[var]
        steps, marks = state[0], state[2]
        while state[1] < len(steps):
            kind, arg = steps[state[1]]
            state[1] += 1
            if kind == "open":
                marks.append(t.open_suite(str(arg)))
            elif kind == "close":
                t.close_suite(marks.pop())
            elif kind == "exit":
                for rel, line, pc in arg:
                    t.lines.append((t.ind + rel, line, pc))
            elif kind == "case":
                if arg != case:  # pragma: no cover - fused_runs orders the cases
                    raise TranslationError("switch chain case out of order")
                return
        if case is not None:  # pragma: no cover - fused_runs gives every case a leaf
            raise TranslationError("switch chain case without a leaf")
        del self.fused[var]

    def range_tree(self, idx: str, labels: Sequence[int],
                   ranges: List[Tuple[int, int, int, Optional[int]]], lo: int, hi: int) -> None:
        """Branch on ``idx`` by bisecting ``ranges`` ((first index, end index or -1 for
        the default, label depth, case offset or None) of a br_table over ``labels``)."""
        t = self.t
        if hi - lo == 1:
            rlo, rhi, d, off = ranges[lo]
            if off is None or rhi - rlo == 1:
                self.branch(d)
                return
            f = t.ctrl[-1 - d]
            for j in range(rlo, rhi):
                t.ctrl[-1 - labels[j]].reached = True
            t.emit("%s = %s%s" % (f.chainvar, idx, " + %d" % off if off > 0 else
                                  (" - %d" % -off if off < 0 else "")))
            return
        mid = (lo + hi) // 2
        t.open_suite("if %s < %d:" % (idx, ranges[mid][0]))
        self.range_tree(idx, labels, ranges, lo, mid)
        t.ind -= 1
        t.open_suite("else:")
        self.range_tree(idx, labels, ranges, mid, hi)
        t.ind -= 1

    def finish(self, out: List[str], pcs: List[Optional[int]]) -> None:
        t = self.t
        if self.uses_br:
            out.append("    _br = 0")
            pcs.append(None)
        for ind, s, pc in t.lines:
            out.append("    " * (ind + 1) + s)
            pcs.append(pc)
        if not t.lines:
            out.append("    pass")
            pcs.append(None)


# Flat.merge_states: a state's indentation after moves and copies (the dispatch tree adds
# about log2(#states) levels; CPython's tokenizer stops at 100), and the states copied to
# each goto to them: up to DUPLICATED_LINES lines, or DUPLICATED_TABLE_LINES for those
# ending in a table (an interpreter's dispatch).
MAX_STATE_INDENT = 40
DUPLICATED_LINES = 8
DUPLICATED_TABLE_LINES = 12
DUPLICATED_CHARS = 2000     # and at most this much text (a huge br_table is one line)
_GOTO = re.compile(r"^_s = (\d+)$")
# Flat.br_table's line: _s = (states,)[index] if index < count else default
_TABLE = re.compile(r"^_s = \(([\d, ]+),\)\[(.*)\] if (.*) < (\d+) else (\d+)$")


def _table_states(text: str) -> List[int]:
    """The states a ``_s = ...`` line (a goto, a table) may set."""
    m = _GOTO.match(text)
    if m is not None:
        return [int(m.group(1))]
    m = _TABLE.match(text)
    if m is None:   # pragma: no cover - Flat emits no other assignment of _s
        raise TranslationError("unknown state assignment: %s" % text)
    return [int(x) for x in m.group(1).split(", ")] + [int(m.group(5))]


def _renumbered(text: str, number: Dict[int, int]) -> str:
    """A line with the states it sets renumbered (``number``: old -> new)."""
    if not text.startswith("_s = "):
        return text
    m = _GOTO.match(text)
    if m is not None:
        return "_s = %d" % number[int(m.group(1))]
    m = _TABLE.match(text)
    if m is None:   # pragma: no cover - Flat emits no other assignment of _s
        raise TranslationError("unknown state assignment: %s" % text)
    table = ", ".join(str(number[int(x)]) for x in m.group(1).split(", "))
    return "_s = (%s,)[%s] if %s < %s else %d" % (table, m.group(2), m.group(3), m.group(4),
                                                   number[int(m.group(5))])


def _goto_refs(states: List[List[Line]]) -> Tuple[List[int], Dict[int, Tuple[int, int]]]:
    """How many times each state is referenced (a goto: 1, a table: 2, the first state
    1 more), and for each state a goto to it: (the state holding it, its line)."""
    refs = [0] * len(states)
    refs[0] = 1
    sites: Dict[int, Tuple[int, int]] = {}
    for st, lines in enumerate(states):
        for i, (ind, text, _) in enumerate(lines):
            m = _GOTO.match(text)
            if (m is not None and i + 1 < len(lines) and lines[i + 1][1] == "continue"
                    and lines[i + 1][0] == ind):
                target = int(m.group(1))
                refs[target] += 1
                sites[target] = (st, i)
            elif text.startswith("_s = "):
                for target in _table_states(text):
                    refs[target] += 2           # a table's: never moved nor dropped
    return refs, sites


def _ends_in_transfer(lines: List[Line]) -> bool:
    """Whether a state's code never falls off its end (its last line at its own level is
    a goto, a return or a raise): only then may it stand where a goto to it stood (the
    dispatcher would run a state that falls off its end again)."""
    last = [text for ind, text, _ in lines if ind == 0]
    return bool(last) and (last[-1] == "continue" or last[-1].startswith(("return", "raise")))


def _fold_if_joins(states: List[List[Line]], refs: List[int]) -> bool:
    """Fold the two gotos of an if-join into one (whether any was): a state that ends
    ``if C: goto T`` (nothing else in the if), then ``Y``, then ``goto T``, where these
    are T's only two gotos, becomes ``if not (C): Y``, then ``goto T``: the same code
    (C true skips Y and goes to T, as before; C false runs Y, then goes to T), and T,
    now reached from one goto, can move there (merge_states). LLVM's ``if (x) f();``
    before a join is this shape: Lua's interpreter ran chains of such states one
    dispatch each."""
    folded = False
    for st, lines in enumerate(states):
        n = len(lines)
        if n < 6 or lines[-1] != (0, "continue", lines[-1][2]) or lines[-2][0] != 0:
            continue
        m = _GOTO.match(lines[-2][1])
        if m is None or refs[int(m.group(1))] != 2:
            continue
        goto = lines[-2][1]
        for j in range(n - 5):
            ind, text, pc = lines[j]
            # The other goto, alone in an if at the state's level, Y after it at that
            # level too (not the if's else).
            if (ind == 0 and lines[j + 1][:2] == (1, goto)
                    and lines[j + 2][:2] == (1, "continue") and lines[j + 3][0] == 0
                    and text.startswith("if ") and text.endswith(":")
                    and not lines[j + 3][1].startswith(("elif ", "else:"))
                    and max(rel for rel, _, _ in lines[j + 3:n - 2]) < MAX_STATE_INDENT):
                body = [(rel + 1, t, p) for rel, t, p in lines[j + 3:n - 2]]
                states[st] = (lines[:j] + [(0, "if not (%s):" % text[3:-1], pc)] + body
                              + lines[n - 2:])
                folded = True
                break
    return folded


def _goto_line(lines: List[Line], target: int) -> int:
    """The index of the goto ``_s = target`` + ``continue`` in ``lines``, or -1."""
    text = "_s = %d" % target
    for i, (ind, s, _) in enumerate(lines):
        if s == text and i + 1 < len(lines) and lines[i + 1][1] == "continue" \
                and lines[i + 1][0] == ind:
            return i
    return -1


def _duplicate_small_states(states: List[List[Line]]) -> List[List[Line]]:
    """Each goto (from another state) to a small state replaced by a copy of it (its own
    gotos stay gotos), within a budget of lines; states nothing reaches any more are
    dropped. First the small states that end in a table (an interpreter's dispatch: a
    copy at the end of each case saves a dispatch per interpreted instruction; up to
    DUPLICATED_TABLE_LINES lines, a budget of the function's size), then the others (up to
    DUPLICATED_LINES, half the function's size; at least 400 lines each)."""
    total = sum(len(lines) for lines in states)
    # (and short in text: a br_table of many labels is one long line)
    short = {st for st, lines in enumerate(states)
             if sum(len(text) for _, text, _ in lines) <= DUPLICATED_CHARS}
    tables = {st for st in short
              if 0 < len(states[st]) <= DUPLICATED_TABLE_LINES
              and any(text.startswith("_s = (") for _, text, _ in states[st])}
    others = {st for st in short
              if 0 < len(states[st]) <= DUPLICATED_LINES and st not in tables}
    for small, budget in ((tables, max(400, total)), (others, max(400, total // 2))):
        if small:
            states = _copy_into_gotos(states, small, budget)
    refs, _ = _goto_refs(states)
    return [lines if refs[st] or st == 0 else [] for st, lines in enumerate(states)]


def _copy_into_gotos(states: List[List[Line]], small: Set[int],
                     budget: int) -> List[List[Line]]:
    """Gotos to the states ``small`` replaced by copies of them, up to ``budget`` lines."""
    out_states: List[List[Line]] = []
    for st, lines in enumerate(states):
        out: List[Line] = []
        skip = False
        for i, (ind, text, pc) in enumerate(lines):
            if skip:
                skip = False
                continue
            m = _GOTO.match(text)
            if (m is not None and budget > 0 and i + 1 < len(lines)
                    and lines[i + 1][1] == "continue" and lines[i + 1][0] == ind):
                target = int(m.group(1))
                body = states[target]
                if (target in small and target != st and _ends_in_transfer(body)
                        and ind + max(rel for rel, _, _ in body) <= MAX_STATE_INDENT):
                    out.extend((ind + rel, t2, p2) for rel, t2, p2 in body)
                    budget -= len(body)
                    skip = True
                    continue
            out.append((ind, text, pc))
        out_states.append(out)
    return out_states


def _self_loop(lines: List[Line], st: int) -> List[Line]:
    """State ``st``'s lines in a ``while True:`` of their own (Flat.merge_states): its
    gotos to itself continue it, the other gotos break to the dispatcher."""
    out: List[Line] = [(0, "while True:", None)]
    skip = False
    for i, (ind, text, pc) in enumerate(lines):
        if skip:
            skip = False
            continue
        if text == "_s = %d" % st and i + 1 < len(lines) and lines[i + 1][1] == "continue":
            out.append((ind + 1, "continue", pc))
            skip = True
        elif text == "continue":
            out.append((ind + 1, "break", pc))
        else:
            out.append((ind + 1, text, pc))
    return out


class Flat(Lowering):
    """A state machine: each state a basic block (see the module docstring)."""

    def __init__(self, t: "Translator") -> None:
        super().__init__(t)
        self.states: List[List[Line]] = []
        # try_table: the handler state of the innermost try_table around each state's
        # start (absent: none), and the handler state of each marker (marker k is the
        # value -k of _s, see try_table).
        self.state_handler: Dict[int, int] = {}
        self.markers: List[int] = []
        self.marker_of: Dict[int, int] = {}

    def start(self) -> None:
        self.t.lines = self.states[self.new_state()]

    def new_state(self) -> int:
        self.states.append([])
        return len(self.states) - 1

    def goto(self, st: int) -> None:
        self.t.emit("_s = %d" % st)
        self.t.emit("continue")

    def start_state(self, st: int) -> None:
        """Continue the translation in state ``st`` (falling into it if live)."""
        t = self.t
        if t.live:
            self.goto(st)
        t.lines = self.states[st]
        t.ind = 0
        if self.markers:
            enclosing = self.enclosing_try()
            if enclosing is not None:
                self.state_handler[st] = enclosing.handler

    def branch(self, depth: int) -> None:
        """Emit a branch to the label ``depth`` levels out (the top values are its args)."""
        t = self.t
        f = t.ctrl[-1 - depth]
        if f.kind == "func":
            self.do_return()
            return
        self.value_moves(f)
        if f.kind != "loop":
            f.reached = True
        self.goto(f.st_start if f.kind == "loop" else f.st_end)

    def block(self, ins: Instr) -> None:
        f = self.open_frame("block", ins)
        if not f.targeted:
            return
        self.t.materialise_all()
        f.st_end = self.new_state()

    def loop(self, ins: Instr) -> None:
        t = self.t
        f = self.open_frame("loop", ins)
        if not f.targeted:
            return
        t.materialise_all()
        t.flush(f.base)
        t.loop_params(f.base)
        f.st_start = self.new_state()
        self.start_state(f.st_start)
        if t.epoch:
            t.check_epoch()

    def marker(self, handler: int) -> str:
        """``_s`` set to the marker of ``handler`` (a handler state, or -1: none)."""
        k = self.marker_of.get(handler)
        if k is None:
            self.markers.append(handler)
            k = self.marker_of[handler] = len(self.markers)
        return "_s = -%d" % k

    def try_table(self, ins: Instr) -> None:
        """The dispatch loop runs inside one ``try`` (finish) whose handler reads ``_s``
        to find the handler state of the innermost try_table around the code that raised.
        While a state runs, ``_s`` is free (every ``continue`` sets it first), so it says
        where the code is: a state's number maps to the try_table around the state's
        start, and a try_table's entry and fallthrough exit, inline in a state, set it to
        a negative *marker* that maps to the try_table's handler, then to the enclosing
        one's. Entering a try_table costs one assignment, no state transition."""
        t = self.t
        f = self.open_try(ins)
        if f.targeted:
            f.st_end = self.new_state()
        f.handler = self.new_state()
        t.emit(self.marker(f.handler))

    def end_try(self, f: Frame) -> None:
        t = self.t
        self.fall_into_end(f)
        outer = self.enclosing_try()
        live = t.live
        if live and not f.targeted:
            t.emit(self.marker(outer.handler if outer is not None else -1))
        saved_lines, saved_ind = t.lines, t.ind
        t.lines = self.states[f.handler]
        t.ind = 0
        self.emit_catches(f, "_exn", ("raise _exn",) if outer is None
                          else ("_s = %d" % outer.handler, "continue"))
        t.lines, t.ind = saved_lines, saved_ind
        t.live = live
        if f.targeted:
            self.start_state(f.st_end)
        self.after_end(f)

    def if_(self, ins: Instr) -> None:
        t = self.t
        c, f = self.open_if(ins)
        cond = t.pcx(c) if not c.isbool else _p(c)
        f.st_end = self.new_state()
        f.st_else = self.new_state() if f.has_else else f.st_end
        t.open_suite("if not %s:" % cond)
        self.goto(f.st_else)
        t.ind -= 1

    def else_(self, ins: Instr) -> None:
        t = self.t
        f = t.ctrl[-1]
        if t.live:
            self.end_values(f)
            f.reached = True
            self.goto(f.st_end)
        t.live = False
        self.start_state(f.st_else)
        self.restore_entry(f)

    def end(self, ins: Instr) -> None:
        t = self.t
        f = t.ctrl.pop()
        kind = f.kind
        if kind == "func":
            self.end_func(f)
            return
        if f.catches is not None:
            self.end_try(f)
            return
        if kind == "block":
            if not f.targeted:
                if not t.live:
                    t.result_slots(f.base, f.results)
                return
            self.fall_into_end(f)
            self.start_state(f.st_end)
            self.after_end(f)
            return
        if kind == "loop":
            # Branches to a loop go to its start: the end is only reached by falling
            # through, in the current state.
            if not t.live:
                t.result_slots(f.base, f.results)
            return
        # if
        self.fall_into_end(f)
        if not f.has_else:
            f.reached = True   # the false path goes straight to the end
        self.start_state(f.st_end)
        self.after_end(f)

    def br(self, ins: Instr) -> None:
        self.branch(ins.imm)
        self.t.live = False

    def br_if(self, ins: Instr) -> None:
        t = self.t
        c = t.pop()
        f = t.ctrl[-1 - ins.imm]
        t.shallow(len(f.label_types()))
        t.open_suite("if %s:" % (c.e if c.isbool or c.canon else t.cx(c)))
        self.branch(ins.imm)
        t.ind -= 1

    def br_table(self, ins: Instr) -> None:
        # Each distinct label gets a small state doing its branch (value moves included);
        # the table maps the index to those states.
        t = self.t
        labels, default = ins.imm
        idx = self.br_table_index()
        saved_lines, saved_ind = t.lines, t.ind
        state_of: Dict[int, int] = {}
        for d in list(labels) + [default]:
            if d in state_of:
                continue
            f = t.ctrl[-1 - d]
            n = len(f.label_types())
            direct = f.kind != "func" and all(
                v.slot == f.base + i and v.canon
                for i, v in enumerate(t.stack[len(t.stack) - n:] if n else []))
            if direct:
                if f.kind != "loop":
                    f.reached = True
                state_of[d] = f.st_start if f.kind == "loop" else f.st_end
                continue
            st = self.new_state()
            t.lines = self.states[st]
            t.ind = 0
            self.branch(d)
            state_of[d] = st
        t.lines, t.ind = saved_lines, saved_ind
        table = ", ".join(str(state_of[d]) for d in labels)
        if len(labels) == 0:
            t.emit("_s = %d" % state_of[default])
        else:
            t.emit("_s = (%s,)[%s] if %s < %d else %d" % (
                table, idx, idx, len(labels), state_of[default]))
        t.emit("continue")
        t.live = False

    def finish(self, out: List[str], pcs: List[Optional[int]]) -> None:
        out.append("    _s = 0")
        out.append("    while True:")
        pcs.extend((None, None))
        if not self.markers:
            self.merge_states()
            self.tree(out, pcs, 0, len(self.states), 2)
            return
        # try_table: one ``try`` around the dispatch (free to enter on CPython 3.11+);
        # _s (a state, or -k for marker k) says which handler state runs next, with the
        # exception in _exn (see try_table). The table: states first, then the markers
        # backwards, so that index -k is marker k.
        handler_of = [self.state_handler.get(st, -1) for st in range(len(self.states))]
        handler_of.extend(reversed(self.markers))
        out.append("        try:")
        pcs.append(None)
        self.tree(out, pcs, 0, len(self.states), 3)
        out.extend(["        except WEXC as _x:",
                    "            _h = (%s,)[_s]" % ", ".join(map(str, handler_of)),
                    "            if _h < 0:",
                    "                raise",
                    "            _exn = _x",
                    "            _s = _h"])
        pcs.extend([None] * 6)

    def merge_states(self) -> None:
        """Fewer trips through the dispatcher (no try_table: ``_s`` then also says where
        the code is). Gotos are ``_s = S`` + ``continue`` (states hold no Python loop of
        their own: the flat lowering emits none, so every ``continue`` in them is a
        goto); in order:

        * a state reached from one goto only (not the first state, no table's) is moved
          to that goto's place: the code runs the same, one dispatch less;
        * a small state (up to DUPLICATED_LINES lines) is copied to each goto to it from
          another state (a loop's head into its latches; a switch's loop head into each
          case), within a budget of lines, and goes when nothing reaches it any more;
        * a state that then goes to itself runs in its own ``while True:`` (its gotos to
          itself ``continue`` it, the others ``break`` to the dispatcher, which
          dispatches on the ``_s`` they set): a scan over a string no longer pays the
          dispatch tree per iteration;
        * the states that went give their numbers back: a smaller dispatch tree.

        Before them, an if-join's two gotos in one state become one (_fold_if_joins), so
        that its target moves too. Each is linear in the lines: moves are assembled
        children first."""
        states = self.states
        n = len(states)
        refs, sites = _goto_refs(states)
        if _fold_if_joins(states, refs):
            refs, sites = _goto_refs(states)
        # The forest of moves: parent[T] = the state holding T's one goto.
        parent: Dict[int, int] = {}
        for target in range(1, n):
            if refs[target] == 1 and target in sites and _ends_in_transfer(states[target]):
                holder = sites[target][0]
                if holder != target:
                    parent[target] = holder
        # A cycle of moves is code nothing else reaches: it stays as it is.
        mark = [0] * n          # 0: not seen, 1: on the current walk, 2: done
        for st in range(n):
            walk = []
            x = st
            while mark[x] == 0:
                mark[x] = 1
                walk.append(x)
                if x not in parent:
                    break
                x = parent[x]
            if mark[x] == 1 and x in parent and parent[x] in walk:
                del parent[x]   # the walk closed a cycle at x
            for y in walk:
                mark[y] = 2
        children: Dict[int, Dict[int, int]] = {}    # holder -> {goto line: moved state}
        for target, holder in parent.items():
            children.setdefault(holder, {})[sites[target][1]] = target
        # Children first (an iterative post-order of the forest).
        order: List[int] = []
        seen = [False] * n
        for root in range(n):
            if root in parent or seen[root]:
                continue
            stack = [(root, False)]
            while stack:
                x, expanded = stack.pop()
                if expanded:
                    order.append(x)
                    continue
                seen[x] = True
                stack.append((x, True))
                for child in children.get(x, {}).values():
                    if not seen[child]:
                        stack.append((child, False))
        assembled: Dict[int, List[Line]] = {}
        inlined = set()
        for x in order:
            lines = states[x]
            kids = children.get(x)
            if not kids:
                assembled[x] = lines
                continue
            out: List[Line] = []
            skip = False
            for i, line in enumerate(lines):
                if skip:
                    skip = False
                    continue
                kid = kids.get(i)
                if kid is not None and kid in assembled:
                    body = assembled[kid]
                    ind = line[0]
                    if ind + max(rel for rel, _, _ in body) <= MAX_STATE_INDENT:
                        out.extend((ind + rel, text, pc) for rel, text, pc in body)
                        inlined.add(kid)
                        skip = True
                        continue
                out.append(line)
            assembled[x] = out
        states = [[] if st in inlined else assembled.get(st, states[st]) for st in range(n)]
        states = _duplicate_small_states(states)
        for st, lines in enumerate(states):
            if (lines and _goto_line(lines, st) >= 0
                    and all(text != "break" for _, text, _ in lines)):
                states[st] = _self_loop(lines, st)
        number: Dict[int, int] = {}
        for st, lines in enumerate(states):
            if lines or st == 0:
                number[st] = len(number)
        if len(number) < n:
            states = [[(ind, _renumbered(text, number), pc) for ind, text, pc in lines]
                      for st, lines in enumerate(states) if st in number]
        self.states = states

    def tree(self, out: List[str], pcs: List[Optional[int]], lo: int, hi: int,
             ind: int) -> None:
        """Dispatch on ``_s`` over the states [lo, hi): a balanced tree of comparisons,
        depth log2(#states), its right spines written as ``elif`` (half the indentation
        of nested ``else: if``)."""
        pad = "    " * ind
        if hi - lo == 1:
            self.leaf(out, pcs, lo, ind)
            return
        keyword = "if"
        while hi - lo > 1:
            mid = (lo + hi) // 2
            out.append(pad + "%s _s < %d:" % (keyword, mid))
            pcs.append(None)
            self.tree(out, pcs, lo, mid, ind + 1)
            keyword = "elif"
            lo = mid
        out.append(pad + "else:")
        pcs.append(None)
        self.leaf(out, pcs, lo, ind + 1)

    def leaf(self, out: List[str], pcs: List[Optional[int]], st: int, ind: int) -> None:
        lines = self.states[st]
        if not lines:
            out.append("    " * ind + "raise RuntimeError('purewasm: unreachable state')")
            pcs.append(None)
        for i, s, pc in lines:
            out.append("    " * (ind + i) + s)
            pcs.append(pc)
