"""Translate one Wasm function into the source of one Python function.

The operand stack is resolved at translation time (docs ARCHITECTURE.md, "Execution"):
each stack entry is a pure Python expression (:class:`V`) over Wasm locals (``l<i>``),
stack slots (``s<h>``: the value at stack height ``h``), mutable globals and constants.
Anything that may trap or has an effect (loads, stores, calls, div/rem, trapping
truncations, memory/table state) is emitted in order as a statement and its value put in
the slot of its stack height. Before a name is assigned (``local.set``, a slot), pending
entries that read it are materialised first, so every entry still means what it meant
when the instruction that produced it ran.

Integers are unsigned Python ints masked lazily: an entry is *canonical* when it is known
to lie in ``[0, 2**N)``; add/sub/mul/shl/and/or/xor are correct modulo ``2**N`` on any
Python int, so only consumers that need the canonical value (compare, shift right,
divide, address, store, local.set, call) mask it.

Two lowerings of control flow, chosen per function:

* *structured* (fast): ``loop`` -> ``while True`` (br = ``continue``); a ``block``/``if``
  that is branched to -> ``while True`` (br = ``break``); branches to an outer Python
  loop set ``_br`` and break, with a small dispatch after each loop. Three shapes need
  no Python loop of their own: a block whose branches are all br/br_if in its own body
  (each br_if opens ``if not c:`` around the rest), ``block (loop ...) end`` (the block
  exits with the loop), and the br_table switch idiom (nested blocks B_n..B_0, B_0
  ending with the br_table: a case variable and sequential guards ``if _c <= i:``).
* *flat* (any shape): basic blocks numbered and dispatched by ``while True`` and a
  balanced ``if`` tree on ``_s``; used when the structured code would exceed CPython's
  compiler limits (20 nested loops, 100 indentation levels), e.g. 3,000 nested blocks.

Expressions are cut into slots beyond :data:`MAX_DEPTH` nested operations, which keeps
parentheses under CPython's limit of 200 and expressions small whatever the body size.

This module holds the operand stack, control flow, calls, variables, references, memory
and table instructions; numeric_ops.py the numeric instructions, loads and stores;
simd.py the vector instructions (imported at the first one); entries.py what they share.
"""
from __future__ import annotations

import sys
from typing import Dict, List, Optional, Sequence, Tuple

from purewasm.numeric import f32_from_bits, f64_from_bits
from purewasm.syntax import FuncType, Instr, Module

from .entries import (_MASK, _WIDTH, EMPTY, Handler, TranslationError, UnsupportedError, V,
                      _p)
from .numeric_ops import numeric_handlers

MAX_DEPTH = 24          # nested operations in one expression before a slot is used
# CPython: at most 20 statically nested blocks (loops; we open no try/with), 21 on 3.13;
# PyPy has no such limit. If the estimate is ever wrong, compile() refuses the code and
# the function is lowered flat (compile.CompiledModule._compile).
MAX_PY_LOOPS = 20 if sys.implementation.name == "cpython" else 60
MAX_INDENT = 80         # CPython's tokenizer: at most 100 indentation levels
MAX_CHAIN = 64          # br_table switch chains lowered to sequential guards
MAX_FORWARD = 6         # br_if per block lowered to nested "if not c:" suites

class PyLoop:
    __slots__ = ("level", "parent", "escapes", "mark")

    def __init__(self, level: int, parent: "Optional[PyLoop]") -> None:
        self.level = level
        self.parent = parent
        self.escapes: set = set()
        self.mark = 0


class Frame:
    __slots__ = ("kind", "params", "results", "base", "targeted", "has_else", "py",
                 "st_start", "st_else", "st_end", "reached", "entry",
                 "mark", "case", "chainvar", "last", "shared", "marks")

    def __init__(self, kind: str, params: Sequence[str], results: Sequence[str],
                 base: int, targeted: bool, has_else: bool = False) -> None:
        self.kind = kind              # "func", "block", "loop", "if", "dead"
        self.params = tuple(params)
        self.results = tuple(results)
        self.base = base              # stack height below the params
        self.targeted = targeted      # some branch targets this label
        self.has_else = has_else
        self.py: Optional[PyLoop] = None
        self.st_start = -1
        self.st_else = -1
        self.st_end = -1
        self.reached = False          # the end is reached by a branch or a fallthrough
        self.entry: List[V] = []      # the param entries (restored at else)
        self.mark = 0                 # output length when a Python suite was opened
        self.case = -1                # br_table switch chain: this block's case number
        self.chainvar = ""
        self.last = False             # the chain's outermost block
        self.shared = False           # block around a loop: exits with the loop
        self.marks: Optional[List[int]] = None   # forward block: its open "if not" suites


# ---------------------------------------------------------------------------------------
# Pre-scan: which labels are branched to, which ifs have an else, and how deep the
# structured lowering would nest.
# ---------------------------------------------------------------------------------------

class Scan:
    def __init__(self, body: Sequence[Instr]) -> None:
        self.targeted: set = set()
        self.has_else: set = set()
        self.refs: Dict[int, set] = {}       # opener -> branch instructions targeting it
        self.deep_refs: set = set()          # openers branched to from nested constructs
        self.end_of: Dict[int, int] = {}     # opener -> its end
        ctrl: List[int] = []
        for i, ins in enumerate(body):
            op = ins.op
            if op in ("block", "loop", "if"):
                ctrl.append(i)
            elif op == "end":
                if ctrl:
                    self.end_of[ctrl.pop()] = i
            elif op == "else":
                if ctrl:
                    self.has_else.add(ctrl[-1])
            elif op == "br" or op == "br_if":
                d = ins.imm
                if d < len(ctrl):
                    self.targeted.add(ctrl[-1 - d])
                    self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                    if d != 0:
                        self.deep_refs.add(ctrl[-1 - d])
            elif op == "br_table":
                labels, default = ins.imm
                for d in set(labels) | {default}:
                    if d < len(ctrl):
                        self.targeted.add(ctrl[-1 - d])
                        self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                        self.deep_refs.add(ctrl[-1 - d])
        self.find_chains(body)
        self.find_shared(body)
        self.find_forward(body)
        # Nesting of the structured lowering.
        depth_loops = 0
        indent = 0
        self.max_loops = 0
        self.max_indent = 0
        stack: List[Tuple[int, int]] = []
        for i, ins in enumerate(body):
            op = ins.op
            if op in ("block", "loop", "if"):
                dl = 1 if i in self.targeted and i not in self.chain \
                    and i not in self.shared else 0
                # A switch chain's guards are sequential: one level for the whole chain.
                di = dl + (1 if op == "if" or (i in self.chain and self.chain[i][2]) else 0)
                stack.append((dl, di))
                depth_loops += dl
                indent += di
                if depth_loops > self.max_loops:
                    self.max_loops = depth_loops
                if indent > self.max_indent:
                    self.max_indent = indent
            elif op == "end" and stack:
                dl, di = stack.pop()
                depth_loops -= dl
                indent -= di
            elif op == "br_table":
                n = len(set(ins.imm[0])) + 1
                extra = max(1, n.bit_length()) + 1
                if indent + extra > self.max_indent:
                    self.max_indent = indent + extra

    def find_chains(self, body: Sequence[Instr]) -> None:
        """The br_table switch idiom: blocks B_n ... B_0 opened one after the other, B_0's
        body ending with a br_table that is the only branch to any of them. Then code
        after the end of B_i runs when the case is <= i: a flat sequence of guarded
        suites, no Python loop at all (opener -> (chain variable, case, outermost))."""
        self.chain: Dict[int, Tuple[str, int, bool]] = {}
        i = 0
        n = len(body)
        while i < n:
            if body[i].op != "block" or body[i].imm is not None:
                i += 1
                continue
            j = i
            while j + 1 < n and body[j + 1].op == "block" and body[j + 1].imm is None:
                j += 1
            inner = j
            end = self.end_of.get(inner)
            if end is not None and body[end - 1].op == "br_table":
                bt = end - 1
                k = inner
                while k >= i and self.refs.get(k, set()) <= {bt}:
                    k -= 1
                # Cases are tested in sequence: long chains go to the generic lowering
                # (or the flat one, which dispatches in O(log n)).
                first = max(k + 1, inner - MAX_CHAIN + 1)
                if first <= inner:
                    var = "_c%d" % first
                    for case, opener in enumerate(range(inner, first - 1, -1)):
                        self.chain[opener] = (var, case, opener == first)
            i = j + 1

    def find_shared(self, body: Sequence[Instr]) -> None:
        """``block (loop ... end) end``: a branch to the block leaves the loop's Python
        loop, so the block needs none of its own."""
        self.shared: set = set()
        for opener, end in self.end_of.items():
            nxt = opener + 1
            if (body[opener].op == "block" and body[opener].imm is None
                    and opener in self.targeted and opener not in self.chain
                    and nxt < len(body) and body[nxt].op == "loop"
                    and body[nxt].imm is None and nxt in self.targeted
                    and self.end_of.get(nxt) == end - 1):
                self.shared.add(opener)

    def find_forward(self, body: Sequence[Instr]) -> None:
        """A block (no params or results) whose branches are all br/br_if directly in
        its own body: each br_if becomes ``if not c:`` around the rest of the body, so
        the block needs no Python loop (opener -> number of br_if)."""
        self.forward: Dict[int, int] = {}
        for opener, refs in self.refs.items():
            if (body[opener].op == "block" and body[opener].imm is None
                    and opener not in self.deep_refs and opener not in self.chain
                    and opener not in self.shared):
                n = sum(1 for r in refs if body[r].op == "br_if")
                if n <= MAX_FORWARD:
                    self.forward[opener] = n

    def structured_ok(self) -> bool:
        # +4: br_if bodies and the escape dispatch after a loop nest a few more suites.
        return self.max_loops <= MAX_PY_LOOPS and self.max_indent + 4 <= MAX_INDENT


# ---------------------------------------------------------------------------------------
# Constant names: values that have no literal (NaN, inf) are bound in the namespace.
# ---------------------------------------------------------------------------------------

def float_literal(value: float, name: str, consts: Dict[str, float]) -> V:
    """An entry for a float constant (exact: repr round-trips every finite double)."""
    if value != value or value in (float("inf"), float("-inf")):
        consts[name] = value
        return V(name, "", atom=True)
    r = repr(value)
    neg = r.startswith("-")
    return V(r, "", atom=not neg)


class Translator:
    """Translate function ``index`` (in the function index space) of ``module``."""

    def __init__(self, module: Module, index: int, flat: bool = False,
                 func_types: Optional[List[FuncType]] = None, fuel: bool = False,
                 epoch: bool = False) -> None:
        self.module = module
        self.index = index
        self.flat = flat
        self.fuel = fuel            # charge FUEL[0] (see compile.CompiledModule)
        self.epoch = epoch          # count TICKS[0] down, call EPOCH_HIT() below 0
        self.unpaid = 0             # instructions translated since the last charge
        self.func_types = func_types if func_types is not None else module.func_types()
        nimp = module.num_imported_funcs()
        self.func = module.funcs[index - nimp]
        self.type = self.func_types[index]
        self.global_types = module.global_types()
        self.consts: Dict[str, float] = {}
        self.local_types = list(self.type.params) + list(self.func.locals)
        self.stack: List[V] = []
        self.dirty = 0                  # no pending (non-stable) entry below this height
        self.ctrl: List[Frame] = []
        self.live = True
        self.lines: List[Tuple[int, str, Optional[int]]] = []
        self.ind = 0
        self.pyloops: List[PyLoop] = []
        self.uses_br = False
        self.uses_simd = False          # the code calls the vector helpers (V_...)
        self.states: List[List[Tuple[int, str, Optional[int]]]] = []
        self.max_slot = -1
        self.guards: Dict[str, int] = {}   # chain variable -> mark of its open guard
        self.last_effect: Optional[Tuple[Tuple[int, str, Optional[int]], int, str]] = None
        self.cur_offset: Optional[int] = None   # byte offset of the instruction translated
        # Per line of the generated source (line n at index n - 1): the byte offset of the
        # Wasm instruction it came from, for backtraces (compile.wasm_backtrace).
        self.offsets: List[Optional[int]] = []

    # ----- output ---------------------------------------------------------------------

    def emit(self, s: str) -> None:
        self.lines.append((self.ind, s, self.cur_offset))

    def open_suite(self, header: str) -> int:
        self.emit(header)
        self.ind += 1
        return len(self.lines)

    def close_suite(self, mark: int) -> None:
        if len(self.lines) == mark:
            self.emit("pass")
        self.ind -= 1

    # ----- the operand stack ----------------------------------------------------------

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
        name = "s%d" % h
        if h > self.max_slot:
            self.max_slot = h
        return V(name, v.t, frozenset((name,)), v.canon, v.bits, 0, True, False, h)

    def protect(self, name: str, skip: int = -1) -> None:
        """Materialise the pending entries that read ``name`` (about to be reassigned)."""
        st = self.stack
        need = [j for j in range(self.dirty, len(st))
                if j != skip and st[j].slot != j and name in st[j].deps]
        if need:
            self.materialise_set(need)

    def materialise(self, h: int) -> None:
        if self.stack[h].slot != h:
            self.materialise_set([h])

    def materialise_set(self, heights: List[int]) -> None:
        """Put the entries at ``heights`` in their slots, after the entries that read
        those slots (transitively; an entry only reads slots at or above its height, so
        they are all below: one downward scan, then assignments bottom-up, no recursion
        whatever the stack height)."""
        st = self.stack
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
            self.materialise_set(need)
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

    def result_slots(self, base: int, types: Sequence[str]) -> None:
        """Push entries for a label's values arriving in slots s<base>...."""
        del self.stack[base:]
        if len(self.stack) < self.dirty:
            self.dirty = len(self.stack)
        for i, t in enumerate(types):
            h = base + i
            if h > self.max_slot:
                self.max_slot = h
            name = "s%d" % h
            w = _WIDTH.get(t, 0)
            self.stack.append(V(name, t, frozenset((name,)), True, w, 0, True, False, h))

    def cx(self, v: V) -> str:
        """The canonical value of v as an expression.

        A comparison result is a Python bool; wherever a value is stored or passed on it
        becomes an int (``+b``), so no bool reaches a local, slot, global, callee or the
        embedder (conditions use the bool itself)."""
        if v.isbool:
            return "+" + _p(v)
        if v.canon or v.t not in _WIDTH:
            return v.e
        return "%s & %s" % (_p(v), _MASK[v.t])

    def pcx(self, v: V) -> str:
        """cx(v) usable as an operand."""
        if v.isbool:
            return "(+%s)" % _p(v)
        if v.canon or v.t not in _WIDTH:
            return _p(v)
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
        self.stack.append(V(name, t, frozenset((name,)), canon, bits or _WIDTH.get(t, 0),
                            0, True, False, h))

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

    # ----- translation ----------------------------------------------------------------

    def block_sig(self, bt: object) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
        if bt is None:
            return (), ()
        if isinstance(bt, str):
            return (), (bt,)
        ft = self.module.types[bt]  # type: ignore[index]
        return tuple(ft.params), tuple(ft.results)

    def translate(self) -> str:
        body = self.func.body
        scan = Scan(body)
        self.scan = scan
        ftype = self.type
        self.ctrl.append(Frame("func", (), ftype.results, 0, True))
        if self.flat:
            self.states.append([])
            self.lines = self.states[0]
        dispatch = self.dispatch
        for i, ins in enumerate(body):
            op = ins.op
            if not self.live:
                if op in ("block", "loop", "if"):
                    self.ctrl.append(Frame("dead", (), (), len(self.stack), False))
                    continue
                if op not in ("else", "end"):
                    continue
                if self.ctrl[-1].kind == "dead":
                    if op == "end":
                        self.ctrl.pop()
                    continue
            self.pc = i
            self.cur_offset = ins.offset
            if op in _JOINS:
                # A label joins paths here (or the code leaves this path): the value just
                # produced by an effect may also arrive from another path, so it can no
                # longer be retargeted into a local (op_local_set).
                self.last_effect = None
            fn = dispatch.get(op)
            if fn is None:
                fn = self.vector_handler(ins)
            if self.fuel:
                if op not in _FREE:
                    self.unpaid += 1
                if op in _CONTROL and self.unpaid and self.live:
                    self.charge()
            fn(self, ins)
        return self.assemble()

    def charge(self) -> None:
        """Fuel metering: subtract the instructions of the segment just translated.

        Charged at every control instruction (and so at least once per loop iteration
        and per call): running out traps at the next control point of the segment."""
        self.emit("FUEL[0] -= %d" % self.unpaid)
        self.open_suite("if FUEL[0] < 0:")
        self.emit("raise Trap(TC_OUT_OF_FUEL)")
        self.ind -= 1
        self.unpaid = 0

    def check_epoch(self) -> None:
        """Epoch interruption: checked at function entry and at each loop iteration."""
        # A countdown, not a compare: EPOCH_HIT (runtime.Store.epoch_hit) compares the
        # engine epoch with the deadline, reads the clock for a wall-clock deadline and
        # re-arms TICKS; the runtime zeroes TICKS whenever the answer may change.
        self.emit("TICKS[0] -= 1")
        self.open_suite("if TICKS[0] < 0:")
        self.emit("EPOCH_HIT()")
        self.ind -= 1

    def vector_handler(self, ins: Instr) -> Handler:
        """The handler of a vector (v128) instruction; raises for any other instruction
        without one (the core handlers are all in ``dispatch``)."""
        fn = _vector_dispatch().get(ins.op)
        if fn is None:
            raise UnsupportedError("instruction %s is not supported (function %s)"
                                   % (ins.op, self.module.func_name(self.index)))
        self.uses_simd = True
        return fn

    def assemble(self) -> str:
        ftype = self.type
        nparams = len(ftype.params)
        params = ", ".join("l%d" % i for i in range(nparams))
        head = ["def f%d(%s):" % (self.index, params)]
        inits: Dict[str, List[str]] = {}
        for i in range(nparams, len(self.local_types)):
            t = self.local_types[i]
            init = "0" if t in ("i32", "i64", "v128") else ("0.0" if t in ("f32", "f64")
                                                            else "None")
            inits.setdefault(init, []).append("l%d" % i)
        for init, names in inits.items():
            for k in range(0, len(names), 200):
                head.append("    %s = %s" % (" = ".join(names[k:k + 200]), init))
        if self.uses_br:
            head.append("    _br = 0")
        if self.epoch:
            head.append("    TICKS[0] -= 1")
            head.append("    if TICKS[0] < 0:")
            head.append("        EPOCH_HIT()")
        out = head
        offs = self.offsets
        offs.extend([self.func.offset] * len(head))
        if not self.flat:
            for ind, s, off in self.lines:
                out.append("    " * (ind + 1) + s)
                offs.append(off)
            if not self.lines:
                out.append("    pass")
                offs.append(None)
        else:
            out.append("    _s = 0")
            out.append("    while True:")
            offs.extend((None, None))
            self.tree(out, 0, len(self.states), 2)
        return "\n".join(out) + "\n"

    def tree(self, out: List[str], lo: int, hi: int, ind: int) -> None:
        # A balanced if-tree: depth log2(#states), never an elif chain (nested in the AST).
        pad = "    " * ind
        offs = self.offsets
        if hi - lo == 1:
            lines = self.states[lo]
            if not lines:
                out.append(pad + "raise RuntimeError('purewasm: unreachable state')")
                offs.append(None)
            for i, s, off in lines:
                out.append("    " * (ind + i) + s)
                offs.append(off)
            return
        mid = (lo + hi) // 2
        out.append(pad + "if _s < %d:" % mid)
        offs.append(None)
        self.tree(out, lo, mid, ind + 1)
        out.append(pad + "else:")
        offs.append(None)
        self.tree(out, mid, hi, ind + 1)

    # ----- flat-mode states -------------------------------------------------------------

    def new_state(self) -> int:
        self.states.append([])
        return len(self.states) - 1

    def goto(self, st: int) -> None:
        self.emit("_s = %d" % st)
        self.emit("continue")

    def start_state(self, st: int) -> None:
        if self.live:
            self.goto(st)
        self.lines = self.states[st]
        self.ind = 0

    # ----- branches -----------------------------------------------------------------------

    def branch(self, depth: int) -> None:
        """Emit a branch to the label ``depth`` levels out (the top values are its args)."""
        f = self.ctrl[-1 - depth]
        if f.kind == "func":
            self.do_return()
            return
        if f.kind == "case":
            self.emit("%s = %d" % (f.chainvar, f.case))
            f.reached = True
            return
        types = f.params if f.kind == "loop" else f.results
        n = len(types)
        vals = self.stack[len(self.stack) - n:] if n else []
        targets = []
        exprs = []
        for i, v in enumerate(vals):
            h = f.base + i
            if v.slot == h and v.canon:
                continue
            if h > self.max_slot:
                self.max_slot = h
            targets.append("s%d" % h)
            exprs.append(self.cx(v) if len(vals) == 1 else "(%s)" % self.cx(v))
        if targets:
            self.emit("%s = %s" % (", ".join(targets), ", ".join(exprs)))
        if f.kind != "loop":
            f.reached = True
        if self.flat:
            self.goto(f.st_start if f.kind == "loop" else f.st_end)
            return
        target = f.py
        cont = f.kind == "loop"
        cur = self.pyloops[-1] if self.pyloops else None
        if target is cur:
            self.emit("continue" if cont else "break")
            return
        if target is None:  # pragma: no cover - the scan marks every branched-to label
            raise TranslationError("branch to a label without a loop")
        code = target.level * 2 + (1 if cont else 0)
        self.uses_br = True
        self.emit("_br = %d" % code)
        self.emit("break")
        p = cur
        while p is not target and p is not None:
            p.escapes.add(code)
            p = p.parent

    def do_return(self) -> None:
        results = self.type.results
        n = len(results)
        vals = self.stack[len(self.stack) - n:] if n else []
        if n == 0:
            self.emit("return")
        elif n == 1:
            v = vals[0]
            self.emit("return " + self.cx(v))
        else:
            self.emit("return (%s)" % ", ".join(self.pcx(v) for v in vals))

    def open_pyloop(self, f: Frame) -> None:
        parent = self.pyloops[-1] if self.pyloops else None
        pl = PyLoop(len(self.pyloops) + 1, parent)
        self.pyloops.append(pl)
        f.py = pl
        pl.mark = self.open_suite("while True:")

    def close_pyloop(self, f: Frame, fallthrough: bool) -> None:
        if fallthrough:
            self.emit("break")
        pl = self.pyloops.pop()
        self.close_suite(pl.mark)
        if pl.escapes:
            parent = self.pyloops[-1] if self.pyloops else None
            self.open_suite("if _br:")
            others = False
            for code in sorted(pl.escapes):
                if parent is not None and code // 2 == parent.level:
                    self.open_suite("if _br == %d:" % code)
                    self.emit("_br = 0")
                    self.emit("continue" if code & 1 else "break")
                    self.ind -= 1
                else:
                    others = True
            if others:
                self.emit("break")
            self.ind -= 1

    # ----- control instructions -----------------------------------------------------------

    def op_block(self, ins: Instr) -> None:
        params, results = self.block_sig(ins.imm)
        targeted = self.pc in self.scan.targeted
        chain = self.scan.chain.get(self.pc) if not self.flat else None
        if chain is not None:
            f = Frame("case", (), (), len(self.stack), targeted)
            f.chainvar, f.case, f.last = chain
            if f.last:
                self.materialise_all()
            self.ctrl.append(f)
            return
        f = Frame("block", params, results, len(self.stack) - len(params), targeted)
        self.ctrl.append(f)
        if not targeted:
            return
        self.materialise_all()
        if self.flat:
            f.st_end = self.new_state()
        elif self.pc in self.scan.shared:
            f.shared = True   # op_loop gives it the loop's Python loop
        elif self.pc in self.scan.forward:
            f.marks = []
        else:
            self.open_pyloop(f)

    def op_loop(self, ins: Instr) -> None:
        params, results = self.block_sig(ins.imm)
        targeted = self.pc in self.scan.targeted
        f = Frame("loop", params, results, len(self.stack) - len(params), targeted)
        self.ctrl.append(f)
        if not targeted:
            return
        self.materialise_all()
        self.flush(f.base)
        if self.flat:
            f.st_start = self.new_state()
            self.start_state(f.st_start)
        else:
            self.open_pyloop(f)
            outer = self.ctrl[-2]
            if outer.shared:
                outer.py = f.py
        if self.epoch:
            self.check_epoch()

    def op_if(self, ins: Instr) -> None:
        params, results = self.block_sig(ins.imm)
        c = self.pop()
        targeted = self.pc in self.scan.targeted
        f = Frame("if", params, results, len(self.stack) - len(params), targeted,
                  self.pc in self.scan.has_else)
        self.ctrl.append(f)
        self.materialise_all()
        self.flush(f.base)
        f.entry = self.stack[f.base:]
        if self.flat:
            cond = self.pcx(c) if not c.isbool else _p(c)
            f.st_end = self.new_state()
            f.st_else = self.new_state() if f.has_else else f.st_end
            self.open_suite("if not %s:" % cond)
            self.goto(f.st_else)
            self.ind -= 1
            return
        if targeted:
            self.open_pyloop(f)
        f.mark = self.open_suite("if %s:" % (c.e if c.isbool or c.canon else self.cx(c)))

    def end_values(self, f: Frame) -> None:
        """At the fallthrough end of a frame: its results go to their slots."""
        n = len(f.results)
        if len(self.stack) - n != f.base:  # pragma: no cover - validated modules only
            raise TranslationError("stack height mismatch at end of block")
        self.flush(f.base)

    def op_else(self, ins: Instr) -> None:
        f = self.ctrl[-1]
        if self.live:
            self.end_values(f)
            f.reached = True
        if self.flat:
            if self.live:
                self.goto(f.st_end)
            self.live = False
            self.start_state(f.st_else)
        else:
            self.close_suite(f.mark)
            f.mark = self.open_suite("else:")
        del self.stack[f.base:]
        self.dirty = min(self.dirty, len(self.stack))
        for v in f.entry:
            self.stack.append(v)
        self.live = True

    def op_end(self, ins: Instr) -> None:
        f = self.ctrl.pop()
        kind = f.kind
        if kind == "func":
            self.ctrl.append(f)
            if self.live:
                self.do_return()
            self.live = False
            return
        if kind == "case":
            mark = self.guards.pop(f.chainvar, None)
            if mark is not None:
                self.close_suite(mark)
            if self.live:
                f.reached = True
            self.live = f.reached
            if self.live and not f.last:
                # Code after the end of B_i runs for cases <= i (a fallthrough from the
                # code of case i - 1 has a smaller case number).
                self.guards[f.chainvar] = self.open_suite("if %s <= %d:" % (f.chainvar,
                                                                           f.case))
            self.result_slots(f.base, ())
            return
        if kind == "block" and f.marks is not None:
            for mark in reversed(f.marks):
                self.close_suite(mark)
            if self.live:
                f.reached = True
            self.live = f.reached
            self.result_slots(f.base, f.results)
            return
        if kind == "block" and f.shared:
            # The loop inside has closed the Python loop both share.
            if self.live:
                f.reached = True
            self.live = f.reached
            self.result_slots(f.base, f.results)
            return
        if kind == "block":
            if not f.targeted:
                if not self.live:
                    self.result_slots(f.base, f.results)
                return
            if self.live:
                self.end_values(f)
                f.reached = True
            if self.flat:
                self.start_state(f.st_end)
            else:
                self.close_pyloop(f, self.live)
            self.live = f.reached
            self.result_slots(f.base, f.results)
            return
        if kind == "loop":
            if f.targeted and not self.flat:
                # The results stay pending: the only way out of the Python loop to the
                # code after it is this fallthrough (branches to a loop go to its start).
                live = self.live
                if live:
                    self.shallow(len(f.results))
                    # Entries must not read slots the loop body might still reassign:
                    # nothing runs between the break and their use, so they stay valid.
                self.close_pyloop(f, live)
                self.live = live
            if not self.live:
                self.result_slots(f.base, f.results)
            return
        # if
        if self.live:
            self.end_values(f)
            f.reached = True
        if not f.has_else:
            f.reached = True   # the false path goes straight to the end
        if self.flat:
            self.start_state(f.st_end)
        else:
            self.close_suite(f.mark)
            if f.targeted:
                # Falling out of the if statement = reaching the end: leave the loop.
                self.close_pyloop(f, True)
        self.live = f.reached
        self.result_slots(f.base, f.results)

    def op_br(self, ins: Instr) -> None:
        f = self.ctrl[-1 - ins.imm]
        if f.marks is not None:
            f.reached = True   # the rest of this suite is dead: the block end follows
        else:
            self.branch(ins.imm)
        self.live = False

    def op_br_if(self, ins: Instr) -> None:
        c = self.pop()
        f = self.ctrl[-1 - ins.imm]
        if f.marks is not None:
            # Forward block: the rest of its body runs when the branch is not taken.
            # Pending entries above the block's base are only used on that path (the
            # block has no results); those below were materialised at the block entry.
            f.reached = True
            cond = _p(c) if c.isbool else self.pcx(c)
            f.marks.append(self.open_suite("if not %s:" % cond))
            return
        n = len(f.params if f.kind == "loop" else f.results)
        self.shallow(n)
        self.open_suite("if %s:" % (c.e if c.isbool or c.canon else self.cx(c)))
        self.branch(ins.imm)
        self.ind -= 1

    def op_br_table(self, ins: Instr) -> None:
        labels, default = ins.imm
        c = self.pop()
        if not c.canon or not c.atom or (c.deps and c.slot < 0 and not c.e.isidentifier()):
            # The index is used several times: one canonical evaluation in its slot.
            self.push(c)
            self.flush(len(self.stack) - 1)
            c = self.pop()
        idx = c.e
        # Ranges of consecutive indexes that branch to the same label, or (switch chains)
        # to consecutive cases: case = index + offset.
        ranges: List[Tuple[int, int, int, Optional[int]]] = []
        for i, d in enumerate(labels):
            f = self.ctrl[-1 - d]
            off = f.case - i if f.kind == "case" and not self.flat else None
            if ranges and ranges[-1][1] == i:
                plo, _, pd, poff = ranges[-1]
                if (off is None and poff is None and pd == d) or (
                        off is not None and poff == off
                        and self.ctrl[-1 - pd].chainvar == f.chainvar):
                    ranges[-1] = (plo, i + 1, pd, poff)
                    continue
            ranges.append((i, i + 1, d, off))
        if ranges and ranges[-1][2] == default and ranges[-1][3] is None:
            ranges[-1] = (ranges[-1][0], -1, default, None)
        else:
            ranges.append((len(labels), -1, default, None))
        if self.flat:
            self.flat_br_table(idx, labels, default)
        elif all(self.ctrl[-1 - d].kind == "case" for d in list(labels) + [default]):
            cases = [self.ctrl[-1 - d].case for d in labels]
            dflt = self.ctrl[-1 - default]
            for d in set(labels) | {default}:
                self.ctrl[-1 - d].reached = True
            var = dflt.chainvar
            if not cases:
                self.emit("%s = %d" % (var, dflt.case))
            elif cases == list(range(len(cases))):
                self.emit("%s = %s if %s < %d else %d" % (var, idx, idx, len(cases),
                                                          dflt.case))
            else:
                self.emit("%s = (%s,)[%s] if %s < %d else %d" % (
                    var, ", ".join(map(str, cases)), idx, idx, len(cases), dflt.case))
        else:
            self.range_tree(idx, labels, ranges, 0, len(ranges))
        self.live = False

    def range_tree(self, idx: str, labels: Sequence[int],
                   ranges: List[Tuple[int, int, int, Optional[int]]], lo: int, hi: int) -> None:
        """Branch on ``idx`` by bisecting ``ranges`` ((first index, end index or -1 for
        the default, label depth, case offset or None) of a br_table over ``labels``)."""
        if hi - lo == 1:
            rlo, rhi, d, off = ranges[lo]
            if off is None or rhi - rlo == 1:
                self.branch(d)
                return
            f = self.ctrl[-1 - d]
            for j in range(rlo, rhi):
                self.ctrl[-1 - labels[j]].reached = True
            self.emit("%s = %s%s" % (f.chainvar, idx, " + %d" % off if off > 0 else
                                     (" - %d" % -off if off < 0 else "")))
            return
        mid = (lo + hi) // 2
        self.open_suite("if %s < %d:" % (idx, ranges[mid][0]))
        self.range_tree(idx, labels, ranges, lo, mid)
        self.ind -= 1
        self.open_suite("else:")
        self.range_tree(idx, labels, ranges, mid, hi)
        self.ind -= 1

    def flat_br_table(self, idx: str, labels: Sequence[int], default: int) -> None:
        # Each distinct label gets a small state doing its branch (value moves included);
        # the table maps the index to those states.
        saved_lines, saved_ind = self.lines, self.ind
        state_of: Dict[int, int] = {}
        for d in list(labels) + [default]:
            if d in state_of:
                continue
            f = self.ctrl[-1 - d]
            n = len(f.params if f.kind == "loop" else f.results)
            direct = f.kind != "func" and all(
                v.slot == f.base + i and v.canon
                for i, v in enumerate(self.stack[len(self.stack) - n:] if n else []))
            if direct:
                if f.kind != "loop":
                    f.reached = True
                state_of[d] = f.st_start if f.kind == "loop" else f.st_end
                continue
            st = self.new_state()
            self.lines = self.states[st]
            self.ind = 0
            self.branch(d)
            state_of[d] = st
        self.lines, self.ind = saved_lines, saved_ind
        table = ", ".join(str(state_of[d]) for d in labels)
        if len(labels) == 0:
            self.emit("_s = %d" % state_of[default])
        else:
            self.emit("_s = (%s,)[%s] if %s < %d else %d" % (
                table, idx, idx, len(labels), state_of[default]))
        self.emit("continue")

    def op_return(self, ins: Instr) -> None:
        self.do_return()
        self.live = False

    def op_unreachable(self, ins: Instr) -> None:
        self.emit("raise Trap(TC_UNREACHABLE)")
        self.live = False

    def op_nop(self, ins: Instr) -> None:
        pass

    # ----- calls ------------------------------------------------------------------------

    def call_with(self, callee: str, ftype: FuncType) -> None:
        n = len(ftype.params)
        self.shallow(n)
        args = self.popn(n)
        # A callee may change globals: pending reads of mutable globals go first.
        self.protect("G")
        argstr = ", ".join(self.cx(a) for a in args)
        call = "%s(%s)" % (callee, argstr)
        nres = len(ftype.results)
        if nres == 0:
            self.emit(call)
        elif nres == 1:
            self.effect(call, ftype.results[0])
        else:
            h = len(self.stack)
            names = []
            for i in range(nres):
                self.protect("s%d" % (h + i))
                names.append("s%d" % (h + i))
            self.emit("%s = %s" % (", ".join(names), call))
            self.result_slots(h, ftype.results)

    def op_call(self, ins: Instr) -> None:
        self.call_with("f%d" % ins.imm, self.func_types[ins.imm])

    def op_call_indirect(self, ins: Instr) -> None:
        typeidx, tableidx = ins.imm
        c = self.pop()
        ftype = self.module.types[typeidx]
        # Evaluate the target first (it may trap), after the arguments (pure) are fixed.
        self.protect("G")
        self.effect("CALL_TARGET(tab%d, %s, T%d)" % (tableidx, self.cx(c), typeidx), "funcref")
        target = self.pop()
        # The arguments sit below the target's slot: call through the slot.
        self.call_with(target.e, ftype)

    # ----- parametric and variables ---------------------------------------------------------

    def op_drop(self, ins: Instr) -> None:
        self.pop()

    def op_select(self, ins: Instr) -> None:
        self.shallow(3)
        c = self.pop()
        b = self.pop()
        a = self.pop()
        cond = _p(c) if c.isbool else self.pcx(c)
        # The result is a bool only when both operands are: a single bool operand becomes
        # an int here, so the flag never hides an unmasked int operand from cx().
        both = a.isbool and b.isbool
        ea = _p(a) if both or not a.isbool else self.pcx(a)
        eb = _p(b) if both or not b.isbool else self.pcx(b)
        self.pure("%s if %s else %s" % (ea, cond, eb), a.t, (a, b, c),
                  canon=a.canon and b.canon, bits=max(a.bits, b.bits), isbool=both)

    op_select_t = op_select

    def op_local_get(self, ins: Instr) -> None:
        i = ins.imm
        t = self.local_types[i]
        name = "l%d" % i
        self.push(V(name, t, frozenset((name,)), True, _WIDTH.get(t, 0), 0, True))

    def op_local_set(self, ins: Instr) -> None:
        v = self.pop()
        name = "l%d" % ins.imm
        if v.e == name:
            return
        self.protect(name)
        last = self.last_effect
        if (last is not None and v.slot == len(self.stack) and v.canon
                and self.lines and self.lines[-1] is last[0] and last[1] == v.slot):
            # "s3 = <load/call>" then "l2 = s3": assign the local in the first place (the
            # slot's value was just produced and nothing else reads it).
            self.lines[-1] = (self.lines[-1][0], "%s = %s" % (name, last[2]),
                              self.lines[-1][2])
            self.last_effect = None
            return
        self.emit("%s = %s" % (name, self.cx(v)))

    def op_local_tee(self, ins: Instr) -> None:
        self.op_local_set(ins)
        self.op_local_get(ins)

    def op_global_get(self, ins: Instr) -> None:
        i = ins.imm
        gt = self.global_types[i]
        if gt.mutable:
            self.push(V("g%d.value" % i, gt.content, frozenset(("g%d" % i, "G")), True,
                        _WIDTH.get(gt.content, 0), 0, True))
        else:
            self.push(V("G%d" % i, gt.content, EMPTY, True, _WIDTH.get(gt.content, 0), 0,
                        True))

    def op_global_set(self, ins: Instr) -> None:
        v = self.pop()
        self.protect("g%d" % ins.imm)
        self.emit("g%d.value = %s" % (ins.imm, self.cx(v)))

    # ----- constants --------------------------------------------------------------------

    def op_i32_const(self, ins: Instr) -> None:
        self.push(V(str(ins.imm), "i32", EMPTY, True, 32, 0, True))

    def op_i64_const(self, ins: Instr) -> None:
        self.push(V(str(ins.imm), "i64", EMPTY, True, 64, 0, True))

    def op_f32_const(self, ins: Instr) -> None:
        v = float_literal(f32_from_bits(ins.imm), "F32K_%08x" % ins.imm, self.consts)
        v.t = "f32"
        self.push(v)

    def op_f64_const(self, ins: Instr) -> None:
        v = float_literal(f64_from_bits(ins.imm), "F64K_%016x" % ins.imm, self.consts)
        v.t = "f64"
        self.push(v)

    # ----- references -------------------------------------------------------------------

    def op_ref_null(self, ins: Instr) -> None:
        self.push(V("None", ins.imm, EMPTY, True, 0, 0, True))

    def op_ref_is_null(self, ins: Instr) -> None:
        v = self.pop()
        self.pure("%s is None" % _p(v), "i32", (v,), isbool=True, bits=1)

    def op_ref_func(self, ins: Instr) -> None:
        self.push(V("F%d" % ins.imm, "funcref", EMPTY, True, 0, 0, True))

    # ----- memory -----------------------------------------------------------------------

    def address(self, base: V, offset: int) -> str:
        if base.atom and base.e.isdigit():
            # A constant base: the effective address is a constant (never wrapped).
            return str(int(base.e) + offset)
        if offset:
            return "%s + %d" % (self.pcx(base), offset)
        return self.cx(base)

    def load(self, ins: Instr, t: str, tmpl: str, canon: bool = True, bits: int = 0) -> None:
        _, offset, memidx = ins.imm
        self.shallow(1)
        base = self.pop()
        addr = self.address(base, offset)
        self.effect(tmpl.format(m="mem%d" % memidx, a=addr), t, canon, bits)

    def store(self, ins: Instr, tmpl: str, mask: Optional[str] = None) -> None:
        _, offset, memidx = ins.imm
        self.shallow(2)
        v = self.pop()
        base = self.pop()
        addr = self.address(base, offset)
        if mask is not None and v.atom and v.e.isdigit():
            val = str(int(v.e) & int(mask))
        elif mask is not None:
            val = "%s & %s" % (_p(v), mask)
        else:
            val = self.cx(v)
        self.emit(tmpl.format(m="mem%d" % memidx, a=addr, v=val))

    def op_memory_size(self, ins: Instr) -> None:
        self.effect("len(mem%d) >> 16" % ins.imm, "i32")

    def op_memory_grow(self, ins: Instr) -> None:
        v = self.pop()
        self.protect("G")
        self.effect("MGROW%d(%s) & 4294967295" % (ins.imm, self.cx(v)), "i32")

    def bulk(self, call: str) -> None:
        """A bulk memory or table instruction: ``call`` (a helper call left open) gets
        the three canonical operands (destination, source or value, length)."""
        n, s, d = self.pop(), self.pop(), self.pop()
        self.emit("%s, %s, %s, %s)" % (call, self.cx(d), self.cx(s), self.cx(n)))

    def op_memory_fill(self, ins: Instr) -> None:
        self.bulk("MEMORY_FILL(mem%d" % ins.imm)

    def op_memory_copy(self, ins: Instr) -> None:
        self.bulk("MEMORY_COPY(mem%d, mem%d" % ins.imm)

    def op_memory_init(self, ins: Instr) -> None:
        seg, mem = ins.imm
        self.bulk("MEMORY_INIT(mem%d, DATAS, %d" % (mem, seg))

    def op_data_drop(self, ins: Instr) -> None:
        self.emit("DATAS[%d] = b''" % ins.imm)

    # ----- tables -----------------------------------------------------------------------

    def op_table_get(self, ins: Instr) -> None:
        i = self.pop()
        self.effect("TABLE_GET(tab%d, %s)" % (ins.imm, self.cx(i)),
                    self.table_type(ins.imm))

    def table_type(self, idx: int) -> str:
        return self.module.table_types()[idx].element

    def op_table_set(self, ins: Instr) -> None:
        v, i = self.pop(), self.pop()
        self.emit("TABLE_SET(tab%d, %s, %s)" % (ins.imm, self.cx(i), v.e))

    def op_table_size(self, ins: Instr) -> None:
        self.effect("len(tab%d)" % ins.imm, "i32")

    def op_table_grow(self, ins: Instr) -> None:
        n, v = self.pop(), self.pop()
        self.effect("TGROW%d(%s, %s) & 4294967295" % (ins.imm, self.cx(n), v.e), "i32")

    def op_table_fill(self, ins: Instr) -> None:
        self.bulk("TABLE_FILL(tab%d" % ins.imm)

    def op_table_copy(self, ins: Instr) -> None:
        self.bulk("TABLE_COPY(tab%d, tab%d" % ins.imm)

    def op_table_init(self, ins: Instr) -> None:
        seg, tab = ins.imm
        self.bulk("TABLE_INIT(tab%d, ELEMS, %d" % (tab, seg))

    def op_elem_drop(self, ins: Instr) -> None:
        self.emit("ELEMS[%d] = []" % ins.imm)


def _build_dispatch() -> Dict[str, Handler]:
    d: Dict[str, Handler] = {}
    for attr in dir(Translator):
        if attr.startswith("op_"):
            d[attr[3:].replace("_", ".", 1) if attr[3:] not in _PLAIN else attr[3:]] = \
                getattr(Translator, attr)
    d.update(numeric_handlers())
    return d


# Fuel metering: instructions that cost nothing, and those where the segment is charged.
_FREE = frozenset(("nop", "drop", "block", "loop", "end", "else"))
# Instructions at which control paths split or join (see Translator.last_effect).
_JOINS = frozenset(("block", "loop", "if", "else", "end", "br", "br_if", "br_table",
                    "return", "unreachable"))
_CONTROL = frozenset(("block", "loop", "if", "else", "end", "br", "br_if", "br_table",
                      "return", "call", "call_indirect", "unreachable"))

_VECTOR_DISPATCH: Dict[str, Handler] = {}


def _vector_dispatch() -> Dict[str, Handler]:
    """The vector instructions' handlers. compile/simd.py (and the lane helpers of
    numeric/simd.py it imports) is loaded on the first v128 instruction translated: most
    modules have none and should not pay ~30 ms of imports for them."""
    if not _VECTOR_DISPATCH:
        from .simd import handlers
        _VECTOR_DISPATCH.update(handlers())
    return _VECTOR_DISPATCH


# Handler names that are not "<type>.<op>" instructions.
_PLAIN = {"block", "loop", "if", "else", "end", "br", "br_if", "br_table", "return",
          "unreachable", "nop", "call", "call_indirect", "drop", "select", "select_t"}

Translator.dispatch = _build_dispatch()  # type: ignore[attr-defined]
