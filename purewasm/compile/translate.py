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
"""
from __future__ import annotations

import struct
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from purewasm.errors import WasmtimeError
from purewasm.numeric import f32_from_bits
from purewasm.opcodes import BY_NAME
from purewasm.syntax import FuncType, Instr, Module

MAX_DEPTH = 24          # nested operations in one expression before a slot is used
# CPython: at most 20 statically nested blocks (loops; we open no try/with), 21 on 3.13;
# PyPy has no such limit. If the estimate is ever wrong, compile() refuses the code and
# the function is lowered flat (compile.CompiledModule._compile).
MAX_PY_LOOPS = 20 if sys.implementation.name == "cpython" else 60
MAX_INDENT = 80         # CPython's tokenizer: at most 100 indentation levels
MAX_CHAIN = 64          # br_table switch chains lowered to sequential guards
MAX_FORWARD = 6         # br_if per block lowered to nested "if not c:" suites

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
_WIDTH = {"i32": 32, "i64": 64}
_MASK = {"i32": "4294967295", "i64": "18446744073709551615"}
_SIGN = {"i32": "2147483648", "i64": "9223372036854775808"}

EMPTY: frozenset = frozenset()


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

def _f64_from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


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
        self.epoch = epoch          # check EPOCH[0] >= DEADLINE[0]
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
            self.ins = ins
            self.cur_offset = ins.offset
            fn = dispatch.get(op)
            if fn is None:
                self.unsupported(ins)
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
        self.open_suite("if EPOCH[0] >= DEADLINE[0]:")
        self.emit("raise Trap(TC_INTERRUPT)")
        self.ind -= 1

    def unsupported(self, ins: Instr) -> None:
        info = BY_NAME.get(ins.op)
        if info is not None and info.prefix == 0xFD:
            raise UnsupportedError("SIMD is not supported yet (instruction %s in function %s)"
                                   % (ins.op, self.module.func_name(self.index)))
        raise UnsupportedError("instruction %s is not supported (function %s)"
                               % (ins.op, self.module.func_name(self.index)))

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
            head.append("    if EPOCH[0] >= DEADLINE[0]:")
            head.append("        raise Trap(TC_INTERRUPT)")
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
        self.bt_labels = labels
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
            self.range_tree(idx, ranges, 0, len(ranges))
        self.live = False

    def range_tree(self, idx: str, ranges: List[Tuple[int, int, int, Optional[int]]],
                   lo: int, hi: int) -> None:
        if hi - lo == 1:
            rlo, rhi, d, off = ranges[lo]
            if off is None or rhi - rlo == 1:
                self.branch(d)
                return
            f = self.ctrl[-1 - d]
            for j in range(rlo, rhi):
                self.ctrl[-1 - self.bt_labels[j]].reached = True
            self.emit("%s = %s%s" % (f.chainvar, idx, " + %d" % off if off > 0 else
                                     (" - %d" % -off if off < 0 else "")))
            return
        mid = (lo + hi) // 2
        self.open_suite("if %s < %d:" % (idx, ranges[mid][0]))
        self.range_tree(idx, ranges, lo, mid)
        self.ind -= 1
        self.open_suite("else:")
        self.range_tree(idx, ranges, mid, hi)
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
        canon = a.canon and b.canon
        self.pure("%s if %s else %s" % (_p(a), cond, _p(b)), a.t, (a, b, c), canon=canon,
                  bits=max(a.bits, b.bits), isbool=a.isbool or b.isbool)

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
        v = float_literal(_f64_from_bits(ins.imm), "F64K_%016x" % ins.imm, self.consts)
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

    def op_memory_fill(self, ins: Instr) -> None:
        n, v, d = self.pop(), self.pop(), self.pop()
        self.emit("MEMORY_FILL(mem%d, %s, %s, %s)" % (ins.imm, self.cx(d), self.cx(v),
                                                      self.cx(n)))

    def op_memory_copy(self, ins: Instr) -> None:
        dst, src = ins.imm
        n, s, d = self.pop(), self.pop(), self.pop()
        self.emit("MEMORY_COPY(mem%d, mem%d, %s, %s, %s)" % (dst, src, self.cx(d),
                                                             self.cx(s), self.cx(n)))

    def op_memory_init(self, ins: Instr) -> None:
        seg, mem = ins.imm
        n, s, d = self.pop(), self.pop(), self.pop()
        self.emit("MEMORY_INIT(mem%d, DATAS, %d, %s, %s, %s)" % (mem, seg, self.cx(d),
                                                                 self.cx(s), self.cx(n)))

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
        n, v, i = self.pop(), self.pop(), self.pop()
        self.emit("TABLE_FILL(tab%d, %s, %s, %s)" % (ins.imm, self.cx(i), v.e, self.cx(n)))

    def op_table_copy(self, ins: Instr) -> None:
        dst, src = ins.imm
        n, s, d = self.pop(), self.pop(), self.pop()
        self.emit("TABLE_COPY(tab%d, tab%d, %s, %s, %s)" % (dst, src, self.cx(d),
                                                            self.cx(s), self.cx(n)))

    def op_table_init(self, ins: Instr) -> None:
        seg, tab = ins.imm
        n, s, d = self.pop(), self.pop(), self.pop()
        self.emit("TABLE_INIT(tab%d, ELEMS, %d, %s, %s, %s)" % (tab, seg, self.cx(d),
                                                                self.cx(s), self.cx(n)))

    def op_elem_drop(self, ins: Instr) -> None:
        self.emit("ELEMS[%d] = []" % ins.imm)


# ---------------------------------------------------------------------------------------
# Numeric instructions, generated from small tables.
# ---------------------------------------------------------------------------------------

def _int_binop(t: str, name: str):  # noqa: C901 - one case per operator
    w = _WIDTH[t]
    sign = _SIGN[t]
    sfx = "32" if t == "i32" else "64"
    sym = {"add": "+", "sub": "-", "mul": "*", "and": "&", "or": "|", "xor": "^",
           "eq": "==", "ne": "!=", "lt_u": "<", "gt_u": ">", "le_u": "<=", "ge_u": ">=",
           "lt_s": "<", "gt_s": ">", "le_s": "<=", "ge_s": ">="}.get(name)
    signconst = 1 << (w - 1)

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(2)
        b = self.pop()
        a = self.pop()
        if name in ("add", "sub"):
            bits = max(a.bits, b.bits) + 1
            # Sums of products (2w bits) stay unmasked; beyond, operands are masked.
            if bits > 2 * w + 16:
                e = "%s %s %s" % (self.pcx(a), sym, self.pcx(b))
                bits = w + 1
            else:
                e = "%s %s %s" % (_p(a), sym, _p(b))
            self.pure(e, t, (a, b), canon=False, bits=bits)
        elif name == "mul":
            self.pure("%s * %s" % (self.pcx(a), self.pcx(b)), t, (a, b), canon=False,
                      bits=2 * w)
        elif name == "and":
            # bool & bool (likewise | and ^) is a bool in Python: keep the flag.
            canon = a.canon or b.canon
            self.pure("%s & %s" % (_p(a), _p(b)), t, (a, b), canon=canon,
                      bits=w if canon else max(a.bits, b.bits),
                      isbool=a.isbool and b.isbool)
        elif name in ("or", "xor"):
            self.pure("%s %s %s" % (_p(a), sym, _p(b)), t, (a, b),
                      canon=a.canon and b.canon, bits=max(a.bits, b.bits),
                      isbool=a.isbool and b.isbool)
        elif name == "shl":
            aa = _p(a) if a.bits <= w + 8 else self.pcx(a)
            abits = min(a.bits, w + 8)
            if b.deps or not b.atom or not b.e.isdigit():
                self.pure("%s << (%s & %d)" % (aa, _p(b), w - 1), t, (a, b), canon=False,
                          bits=abits + w)
            else:
                k = int(b.e) & (w - 1)
                self.pure("%s << %d" % (aa, k), t, (a,), canon=False, bits=abits + k)
        elif name in ("shr_u", "shr_s"):
            if b.atom and b.e.isdigit():
                k = str(int(b.e) & (w - 1))
                args: Tuple[V, ...] = (a,)
            else:
                k = "(%s & %d)" % (_p(b), w - 1)
                args = (a, b)
            if name == "shr_u":
                self.pure("%s >> %s" % (self.pcx(a), k), t, args)
            else:
                self.pure("((%s ^ %s) - %s) >> %s" % (self.pcx(a), sign, sign, k), t, args,
                          canon=False, bits=w)
        elif name in ("eq", "ne", "lt_u", "gt_u", "le_u", "ge_u"):
            self.pure("%s %s %s" % (self.pcx(a), sym, self.pcx(b)), "i32", (a, b),
                      isbool=True, bits=1)
        elif name in ("lt_s", "gt_s", "le_s", "ge_s"):
            # Signed compare without converting: flip the sign bit of both sides.
            if b.atom and b.e.isdigit():
                rb = str(int(b.e) ^ signconst)
            else:
                rb = "(%s ^ %s)" % (self.pcx(b), sign)
            self.pure("(%s ^ %s) %s %s" % (self.pcx(a), sign, sym, rb), "i32", (a, b),
                      isbool=True, bits=1)
        elif name in ("div_u", "rem_u"):
            o = "//" if name == "div_u" else "%"
            e = "%s %s %s" % (self.pcx(a), o, self.pcx(b))
            if b.atom and b.e.isdigit() and int(b.e) != 0:
                self.pure(e, t, (a, b))
            else:
                # b = 0 raises ZeroDivisionError: trap_from_exception maps it (float
                # divisions never raise it, they go through fdiv).
                self.effect(e, t)
        elif (name in ("div_s", "rem_s") and w == 32 and b.atom and b.e.isdigit()
              and int(b.e) not in (0, M32)):
            # A constant divisor other than 0 and -1 cannot trap. For i32 the float
            # quotient truncates exactly: |q| < 2^31 is within 2^-22/|d| of the true
            # quotient, whose distance to the next integer is at least 1/|d|; fmod is
            # exact and keeps the dividend's sign (spec idiv_s / irem_s).
            d = int(b.e)
            d = d - (1 << 32) if d >> 31 else d
            sa = "(%s ^ %s) - %s" % (self.pcx(a), sign, sign)
            if name == "div_s":
                self.pure("int((%s) / %d)" % (sa, d), t, (a,), canon=False, bits=w)
            else:
                self.pure("int(fmod(%s, %d))" % (sa, d), t, (a,), canon=False, bits=w)
        elif name in ("div_s", "rem_s"):
            e = "%s_s%s(%s, %s)" % (name[:3], sfx, self.cx(a), self.cx(b))
            self.effect(e, t)
        elif name in ("rotl", "rotr") and b.atom and b.e.isdigit():
            k = int(b.e) & (w - 1)
            if name == "rotr":
                k = (w - k) & (w - 1)
            if k == 0:
                self.pure(self.cx(a), t, (a,), atom=a.atom and a.canon)
                return
            # x is used twice: give it a name first (its slot) unless it is one.
            self.push(a)
            if not (a.canon and a.atom and (a.slot >= 0 or a.e.isidentifier())):
                self.flush(len(self.stack) - 1)
            a = self.pop()
            self.pure("((%s << %d) | (%s >> %d)) & %s" % (a.e, k, a.e, w - k, _MASK[t]), t,
                      (a,))
        elif name in ("rotl", "rotr"):
            self.pure("%s%s(%s, %s)" % (name, sfx, self.cx(a), self.cx(b)), t, (a, b))
        else:  # pragma: no cover
            raise UnsupportedError(name)
    return op


def _int_unop(t: str, name: str):
    w = _WIDTH[t]
    sfx = "32" if t == "i32" else "64"

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(1)
        a = self.pop()
        if name == "eqz":
            self.pure("not %s" % (_p(a) if a.isbool else self.pcx(a)), "i32", (a,),
                      isbool=True, bits=1)
        elif name == "clz":
            self.pure("%d - (%s).bit_length()" % (w, self.cx(a)), t, (a,))
        elif name == "ctz":
            self.pure("ctz%s(%s)" % (sfx, self.cx(a)), t, (a,), atom=True)
        elif name == "popcnt":
            self.pure("bin(%s).count('1')" % self.cx(a), t, (a,), atom=True)
        else:  # pragma: no cover
            raise UnsupportedError(name)
    return op


def _sign_extend(t: str, frm: int):
    m = (1 << frm) - 1
    s = 1 << (frm - 1)

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(1)
        a = self.pop()
        self.pure("((%s & %d) ^ %d) - %d" % (_p(a), m, s, s), t, (a,), canon=False, bits=frm)
    return op


def _float_binop(t: str, name: str):
    sym = {"add": "+", "sub": "-", "mul": "*", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
           "le": "<=", "ge": ">="}.get(name)
    f32 = t == "f32"

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(2)
        b = self.pop()
        a = self.pop()
        if name in ("add", "sub", "mul"):
            e = "%s %s %s" % (_p(a), sym, _p(b))
            if f32:
                self.pure("f32_round(%s)" % e, t, (a, b), atom=True)
            else:
                self.pure(e, t, (a, b))
        elif name == "div":
            zero_free = not b.deps and b.atom and b.e[0].isdigit() and float(b.e) != 0.0
            if zero_free:
                e = "%s / %s" % (_p(a), _p(b))
            else:
                # Python raises on a zero divisor: test it inline and call fdiv only
                # then (each operand is named once per path, so both must be names).
                self.push(a)
                self.push(b)
                for j in (len(self.stack) - 2, len(self.stack) - 1):
                    v = self.stack[j]
                    if not (v.e.isidentifier() or (v.atom and v.e[0].isdigit())):
                        self.materialise(j)
                b = self.pop()
                a = self.pop()
                e = "%s / %s if %s else fdiv(%s, %s)" % (a.e, b.e, b.e, a.e, b.e)
                zero_free = True   # not an atom (a conditional expression)
            if f32:
                self.pure("f32_round(%s)" % e, t, (a, b), atom=True)
            else:
                self.pure(e, t, (a, b), atom=not zero_free)
        elif name in ("min", "max"):
            self.pure("f%s(%s, %s)" % (name, a.e, b.e), t, (a, b), atom=True)
        elif name == "copysign":
            self.pure("copysign(%s, %s)" % (a.e, b.e), t, (a, b), atom=True)
        else:
            self.pure("%s %s %s" % (_p(a), sym, _p(b)), "i32", (a, b), isbool=True, bits=1)
    return op


def _float_unop(t: str, name: str):
    f32 = t == "f32"

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(1)
        a = self.pop()
        if name == "neg":
            # -x flips only the sign bit, NaN payload included (f32 too, by the widening
            # convention of docs/INTERNALS.md).
            self.pure("-%s" % _p(a), t, (a,))
        elif name == "abs":
            self.pure("fabs(%s)" % a.e, t, (a,), atom=True)
        elif name == "sqrt":
            e = "fsqrt(%s)" % a.e
            self.pure("f32_round(%s)" % e if f32 else e, t, (a,), atom=True)
        else:
            # ceil/floor/trunc/nearest of an f32 is an f32: no rounding needed.
            self.pure("f%s(%s)" % (name, a.e), t, (a,), atom=True)
    return op


_CONVERSIONS = {
    # name: (result type, template, trapping, canonical)
    "i32.wrap_i64": ("i32", "{p} & 4294967295", False, True),
    "i64.extend_i32_u": ("i64", "{c}", False, True),
    "i64.extend_i32_s": ("i64", "({pc} ^ 2147483648) - 2147483648", False, False),
    "i32.trunc_f32_s": ("i32", "i32_trunc_s({e})", True, True),
    "i32.trunc_f32_u": ("i32", "i32_trunc_u({e})", True, True),
    "i32.trunc_f64_s": ("i32", "i32_trunc_s({e})", True, True),
    "i32.trunc_f64_u": ("i32", "i32_trunc_u({e})", True, True),
    "i64.trunc_f32_s": ("i64", "i64_trunc_s({e})", True, True),
    "i64.trunc_f32_u": ("i64", "i64_trunc_u({e})", True, True),
    "i64.trunc_f64_s": ("i64", "i64_trunc_s({e})", True, True),
    "i64.trunc_f64_u": ("i64", "i64_trunc_u({e})", True, True),
    "i32.trunc_sat_f32_s": ("i32", "i32_trunc_sat_s({e})", False, True),
    "i32.trunc_sat_f32_u": ("i32", "i32_trunc_sat_u({e})", False, True),
    "i32.trunc_sat_f64_s": ("i32", "i32_trunc_sat_s({e})", False, True),
    "i32.trunc_sat_f64_u": ("i32", "i32_trunc_sat_u({e})", False, True),
    "i64.trunc_sat_f32_s": ("i64", "i64_trunc_sat_s({e})", False, True),
    "i64.trunc_sat_f32_u": ("i64", "i64_trunc_sat_u({e})", False, True),
    "i64.trunc_sat_f64_s": ("i64", "i64_trunc_sat_s({e})", False, True),
    "i64.trunc_sat_f64_u": ("i64", "i64_trunc_sat_u({e})", False, True),
    "f32.convert_i32_s": ("f32", "f32_convert_i32_s({c})", False, True),
    "f32.convert_i32_u": ("f32", "f32_round(float({c}))", False, True),
    "f32.convert_i64_s": ("f32", "f32_convert_i64_s({c})", False, True),
    "f32.convert_i64_u": ("f32", "i64_to_f32({c})", False, True),
    "f32.demote_f64": ("f32", "f32_round({e})", False, True),
    "f64.convert_i32_s": ("f64", "float(({pc} ^ 2147483648) - 2147483648)", False, True),
    "f64.convert_i32_u": ("f64", "float({c})", False, True),
    "f64.convert_i64_s": ("f64", "float(({pc} ^ 9223372036854775808) - 9223372036854775808)",
                          False, True),
    "f64.convert_i64_u": ("f64", "float({c})", False, True),
    "f64.promote_f32": ("f64", "promote({e})", False, True),
    "i32.reinterpret_f32": ("i32", "f32_to_bits({e})", False, True),
    "i64.reinterpret_f64": ("i64", "f64_to_bits({e})", False, True),
    "f32.reinterpret_i32": ("f32", "f32_from_bits({c})", False, True),
    "f64.reinterpret_i64": ("f64", "f64_from_bits({c})", False, True),
}


def _conversion(name: str):
    t, tmpl, trapping, canon = _CONVERSIONS[name]
    atom = tmpl.startswith(("i32_", "i64_", "f32_", "f64_", "float", "promote"))

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(1)
        a = self.pop()
        if name == "i64.extend_i32_u":
            # The same unsigned value: only the type changes.
            self.pure(self.cx(a), t, (a,), atom=a.atom and a.canon, bits=32)
            return
        e = tmpl.format(e=a.e, c=self.cx(a), pc=self.pcx(a), p=_p(a))
        if trapping:
            self.effect(e, t)
        else:
            self.pure(e, t, (a,), canon=canon, atom=atom and e.endswith(")"))
    return op


_LOADS = {
    # name: (type, template, canonical, bits)
    "i32.load": ("i32", "LD_U32({m}, {a})[0]", True, 32),
    "i64.load": ("i64", "LD_U64({m}, {a})[0]", True, 64),
    "f32.load": ("f32", "load_f32({m}, {a})", True, 0),
    "f64.load": ("f64", "LD_F64({m}, {a})[0]", True, 0),
    "i32.load8_s": ("i32", "({m}[{a}] ^ 128) - 128", False, 8),
    "i32.load8_u": ("i32", "{m}[{a}]", True, 8),
    "i32.load16_s": ("i32", "LD_I16({m}, {a})[0]", False, 16),
    "i32.load16_u": ("i32", "LD_U16({m}, {a})[0]", True, 16),
    "i64.load8_s": ("i64", "({m}[{a}] ^ 128) - 128", False, 8),
    "i64.load8_u": ("i64", "{m}[{a}]", True, 8),
    "i64.load16_s": ("i64", "LD_I16({m}, {a})[0]", False, 16),
    "i64.load16_u": ("i64", "LD_U16({m}, {a})[0]", True, 16),
    "i64.load32_s": ("i64", "LD_I32({m}, {a})[0]", False, 32),
    "i64.load32_u": ("i64", "LD_U32({m}, {a})[0]", True, 32),
}

_STORES = {
    # name: (template, mask or None for a canonical value)
    "i32.store": ("ST_U32({m}, {a}, {v})", None),
    "i64.store": ("ST_U64({m}, {a}, {v})", None),
    "f32.store": ("store_f32({m}, {a}, {v})", None),
    "f64.store": ("ST_F64({m}, {a}, {v})", None),
    "i32.store8": ("{m}[{a}] = {v}", "255"),
    "i32.store16": ("ST_U16({m}, {a}, {v})", "65535"),
    "i64.store8": ("{m}[{a}] = {v}", "255"),
    "i64.store16": ("ST_U16({m}, {a}, {v})", "65535"),
    "i64.store32": ("ST_U32({m}, {a}, {v})", "4294967295"),
}


def _load(name: str):
    t, tmpl, canon, bits = _LOADS[name]

    def op(self: Translator, ins: Instr) -> None:
        self.load(ins, t, tmpl, canon, bits)
    return op


def _store(name: str):
    tmpl, mask = _STORES[name]

    def op(self: Translator, ins: Instr) -> None:
        self.store(ins, tmpl, mask)
    return op


def _build_dispatch() -> Dict[str, object]:
    d: Dict[str, object] = {}
    for attr in dir(Translator):
        if attr.startswith("op_"):
            d[attr[3:].replace("_", ".", 1) if attr[3:] not in _PLAIN else attr[3:]] = \
                getattr(Translator, attr)
    for t in ("i32", "i64"):
        for n in ("add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr "
                  "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u").split():
            d["%s.%s" % (t, n)] = _int_binop(t, n)
        for n in ("eqz", "clz", "ctz", "popcnt"):
            d["%s.%s" % (t, n)] = _int_unop(t, n)
    d["i32.extend8_s"] = _sign_extend("i32", 8)
    d["i32.extend16_s"] = _sign_extend("i32", 16)
    d["i64.extend8_s"] = _sign_extend("i64", 8)
    d["i64.extend16_s"] = _sign_extend("i64", 16)
    d["i64.extend32_s"] = _sign_extend("i64", 32)
    for t in ("f32", "f64"):
        for n in "add sub mul div min max copysign eq ne lt gt le ge".split():
            d["%s.%s" % (t, n)] = _float_binop(t, n)
        for n in "abs neg ceil floor trunc nearest sqrt".split():
            d["%s.%s" % (t, n)] = _float_unop(t, n)
    for n in _CONVERSIONS:
        d[n] = _conversion(n)
    for n in _LOADS:
        d[n] = _load(n)
    for n in _STORES:
        d[n] = _store(n)
    return d


# Fuel metering: instructions that cost nothing, and those where the segment is charged.
_FREE = frozenset(("nop", "drop", "block", "loop", "end", "else"))
_CONTROL = frozenset(("block", "loop", "if", "else", "end", "br", "br_if", "br_table",
                      "return", "call", "call_indirect", "unreachable"))

# Handler names that are not "<type>.<op>" instructions.
_PLAIN = {"block", "loop", "if", "else", "end", "br", "br_if", "br_table", "return",
          "unreachable", "nop", "call", "call_indirect", "drop", "select", "select_t"}

Translator.dispatch = _build_dispatch()  # type: ignore[attr-defined]
