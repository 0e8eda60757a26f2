"""Translate one Wasm function into the source of one Python function.

The parts (docs/INTERNALS.md, "compile/"): stack.py resolves the operand stack into
expressions and slots; scan.py pre-scans the body; control.py lowers structured control
in one of two ways (structured Python or a flat state machine); the handlers of the
instructions live in per-family modules (ops_control, ops_variables, ops_memory,
ops_numeric; simd.py on demand) and register through registry.py. This module drives
them over a function body and assembles the function.
"""
from __future__ import annotations

from typing import AbstractSet, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from purewasm.opcodes import BLOCK_OPENERS, names_where
from purewasm.syntax import BlockType, FuncType, Instr, Module

# Imported for their handlers' registration (registry.HANDLERS).
from . import names, ops_control, ops_gc, ops_memory, ops_numeric, ops_variables  # noqa: F401
from . import ops_pypy  # noqa: F401 - after ops_numeric: wraps some of its handlers
from .control import Flat, Frame, Lowering, Structured
from .entries import CPYTHON_SHAPES, Handler, TranslationError, UnsupportedError
from .idioms import SLICE_LOOPS, Liveness
from .intervals import NO_FACTS, Facts, analyse
from .ranges import LocalBits, counter_bounds, pointer_locals
from .views import TYPED_VIEWS, ViewLoop
from .registry import HANDLERS
from .scan import Scan
from .stack import FUNC_ENTRY, OperandStack, V

__all__ = ["Translator", "Scan", "TranslationError", "UnsupportedError"]

# Fuel metering: instructions that cost nothing, and those where the segment is charged.
_FREE = names_where("free")
_CONTROL = (BLOCK_OPENERS | names_where("closes_block") | names_where("is_else")
            | names_where("branches") | names_where("ends_path") | names_where("calls"))
# Instructions at which control paths split or join: the value an effect just produced
# may arrive from another path too, so it can no longer be retargeted into a local
# (ops_variables.local_set; forgetting it there made real programs loop forever).
_JOINS = _CONTROL - (names_where("calls") - names_where("ends_path"))

# Where paths join, so that what is known of the locals' values is forgotten (ranges.py):
# a loop head (its back edges), the end of a block (its branches), an else.
_FACT_JOINS = frozenset(("loop", "end", "else"))

# Epoch interruption and deadlines: a countdown per check, the runtime's verdict below 0.
_EPOCH_TICK = "%s[0] -= 1" % names.EPOCH_TICKS
_EPOCH_CHECK = "if %s[0] < 0:" % names.EPOCH_TICKS
_EPOCH_HIT = "%s()" % names.EPOCH_HIT

_VECTOR_DISPATCH: Dict[str, Handler] = {}


def _vector_dispatch() -> Dict[str, Handler]:
    """The vector instructions' handlers. compile/simd.py (and the lane helpers of
    numeric/simd.py it imports) is loaded on the first v128 instruction translated: most
    modules have none and should not pay ~30 ms of imports for them."""
    if not _VECTOR_DISPATCH:
        from .simd import handlers
        _VECTOR_DISPATCH.update(handlers())
    return _VECTOR_DISPATCH


class IndexSpaces:
    """The types of a module's index spaces, computed once."""

    def __init__(self, module: Module) -> None:
        self.func_types = module.func_types()
        self.num_imported_funcs = module.num_imported_funcs()
        self.global_types = module.global_types()
        self.table_types = module.table_types()
        self.memory_types = module.memory_types()
        # Exception handling: each tag's payload types.
        self.tag_types = [tuple(module.func_type(tt.type_index).params)
                          for tt in module.tag_types()]


# Where a function's straight-line start ends: an instruction that branches, ends the
# path or opens a block other than ``block`` (an if's arms may not run, a loop's body may
# run again and views.py emits code at its entry, a try_table may resume elsewhere).
# Bodies (instructions) up to which the locals' zeros at entry follow from liveness
# (idioms.Liveness: a fixpoint; bigger functions keep assigned_at_start's rule alone).
ENTRY_LIVENESS_MAX = 4000
_START_ENDS = (names_where("branches") | names_where("ends_path") | names_where("is_else")
               | (BLOCK_OPENERS - {"block"}))


def assigned_at_start(body: Sequence[Instr], held: AbstractSet[int] = frozenset()) -> Set[int]:
    """The locals that the function's straight-line start sets before anything reads them.

    Up to the first instruction that branches, loops, returns or opens an if or a
    try_table (a block's start and end are straight-line), code runs in order, once, and
    the structured lowering emits it in order; a local set there before
    any ``local.get`` of it is never read unassigned, so it needs no zero at entry. The
    Python it saves is paid at every call (fib's ``l1 = l2 = 0``). ``held``: sets the
    translator leaves out (intervals.Facts.held), which assign nothing."""
    assigned: Set[int] = set()
    seen: Set[int] = set()
    for i, ins in enumerate(body):
        op = ins.op
        if op in ("local.set", "local.tee") and i not in held:
            if ins.imm not in seen:
                assigned.add(ins.imm)
                seen.add(ins.imm)
        elif op == "local.get":
            seen.add(ins.imm)
        elif op in _START_ENDS:
            break
    return assigned


class Translator(OperandStack):
    """Translate function ``index`` (in the function index space) of ``module``."""

    def __init__(self, module: Module, index: int, flat: bool = False,
                 func_types: Optional[List[FuncType]] = None, fuel: bool = False,
                 epoch: bool = False, spaces: Optional["IndexSpaces"] = None,
                 scan: Optional[Scan] = None) -> None:
        super().__init__()
        # The body's pre-scan, when the caller made it already (to choose the lowering).
        self.scan_given = scan
        self.module = module
        self.index = index
        self.flat = flat
        self.fuel = fuel            # charge FUEL[0] (see compile.CompiledModule)
        self.epoch = epoch          # count TICKS[0] down, call EPOCH_HIT() below 0
        self.unpaid = 0             # instructions translated since the last charge
        # The module's index spaces, computed once per module (CompiledModule passes them):
        # per function they would cost O(imports) each time.
        sp = spaces if spaces is not None else IndexSpaces(module)
        self.func_types = func_types if func_types is not None else sp.func_types
        self.func = module.funcs[index - sp.num_imported_funcs]
        self.type = self.func_types[index]
        self.global_types = sp.global_types
        self.table_types = sp.table_types
        self.tag_types = sp.tag_types
        # "i32", or "i64" (memory64): how addresses into each memory are bounds-checked.
        self.memory_addresses = [mt.address for mt in sp.memory_types]
        # PyPy: i64 values as signed machine words in this function (ops_pypy.py).
        self.signed_i64 = ops_pypy.signed_i64_ok(module, self.func.body,
                                                 self.memory_addresses,
                                                 [tt.address for tt in self.table_types])
        self.consts: Dict[str, float] = {}
        self.local_types = list(self.type.params) + list(self.func.locals)
        self.ctrl: List[Frame] = []
        self.live = True
        self.pc = 0
        self.uses_simd = False          # the code calls the vector helpers (V_...)
        self.tail_calls = False         # the code returns TAIL_CALL(...) (support.tail_entry)
        self.lowering: Lowering = Flat(self) if flat else Structured(self)
        # Per line of the generated source (line n at index n - 1): the index in the body
        # of the Wasm instruction it came from, FUNC_ENTRY for the function's own lines,
        # None for none; for backtraces (CompiledModule.wasm_frame).
        self.line_pcs: List[Optional[int]] = []
        # What is known of the locals' values (ranges.py; CPython shapes only).
        self.local_bits = LocalBits()
        # Locals known 0 at the loop being entered (join_facts; for idioms.SliceLoop).
        self.entry_zeros: FrozenSet[int] = frozenset()
        # Bounds on values across joins (intervals.py; CPython shapes only).
        self.intervals: Facts = NO_FACTS
        self.pointer_locals: frozenset = frozenset()
        # Loops versioned for typed views of memory 0 (views.py): possible here, and the
        # one being translated.
        mts = sp.memory_types
        self.view_memory = (TYPED_VIEWS and bool(mts) and mts[0].address == "i32"
                            and not mts[0].shared)
        self.view_loop: Optional[ViewLoop] = None
        # Rotations of a local computed from one pair (ops_numeric.doubled_rotations):
        # their instructions, and the pair of each local until it is assigned or control
        # splits or joins (its names, each assigned once, in doubled_names).
        self.doubled_rotations: Set[int] = set()
        self.doubled: Dict[str, str] = {}
        self.doubled_names: List[str] = []
        # Swap and copy loops as slice operations (idioms.py): memory 0 32-bit, not shared.
        self.slice_memory = (SLICE_LOOPS and bool(mts) and mts[0].address == "i32"
                             and not mts[0].shared)

    def block_sig(self, bt: BlockType) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
        if bt is None:
            return (), ()
        if isinstance(bt, str):
            return (), (bt,)
        ft = self.module.func_type(bt)
        return tuple(ft.params), tuple(ft.results)

    def block_arity(self, bt: BlockType) -> Tuple[int, int]:
        """(parameters, results) of a block type (for intervals.analyse)."""
        params, results = self.block_sig(bt)
        return len(params), len(results)

    def call_arity(self, ins: Instr) -> Tuple[int, int]:
        """(values popped, values pushed) by ``call`` or ``call_indirect`` ``ins``."""
        if ins.op == "call":
            ft = self.func_types[ins.imm]
            return len(ft.params), len(ft.results)
        ft = self.module.types[ins.imm[0]]
        return len(ft.params) + 1, len(ft.results)

    def translate(self) -> str:
        body = self.func.body
        self.scan = self.scan_given if self.scan_given is not None else Scan(body)
        if CPYTHON_SHAPES:
            self.pointer_locals = pointer_locals(body)
            if any(body[p].op == "loop" for p in self.scan.end_of):
                # Loops only: their bodies run many times; straight code pays the
                # analysis (about as much as the translation) for little.
                self.intervals = analyse(body, self.local_types, len(self.type.params),
                                         self.scan.end_of, self.scan.refs,
                                         self.block_arity, self.call_arity)
        if CPYTHON_SHAPES:
            self.doubled_rotations = ops_numeric.doubled_rotations(body, _JOINS)
        self.ctrl.append(Frame("func", (), self.type.results, 0, True))
        self.lowering.start()
        handlers = HANDLERS
        for i, ins in enumerate(body):
            op = ins.op
            if not self.live:
                # Unreachable code: only its structure is followed.
                if op in BLOCK_OPENERS:
                    self.ctrl.append(Frame("dead", (), (), len(self.stack), False))
                    continue
                if op not in ("else", "end"):
                    continue
                if self.ctrl[-1].kind == "dead":
                    if op == "end":
                        self.ctrl.pop()
                    continue
            self.pc = i
            self.cur_pc = i
            if op in _JOINS:
                self.last_effect = None
                self.doubled.clear()
            if op in _FACT_JOINS:
                self.join_facts(i)
            fn = handlers.get(op)
            if fn is None:
                fn = self.vector_handler(ins)
            if self.fuel:
                if op not in _FREE:
                    self.unpaid += 1
                if op in _CONTROL and self.unpaid and self.live:
                    self.charge()
            fn(self, ins)
        return self.assemble()

    def alignment_of(self, v: V) -> Optional[Tuple[int, Tuple[int, ...]]]:
        vl = self.view_loop
        return None if vl is None else vl.alignment_of(v)

    def join_facts(self, i: int) -> None:
        """Before instruction ``i`` (a join): forget what was known of the locals; at a
        loop head, keep the bounds of its counters (ranges.counter_bounds)."""
        bounds = {}
        if CPYTHON_SHAPES and self.func.body[i].op == "loop":
            self.entry_zeros = frozenset(x for x, c in self.local_bits.exact.items() if c == 0)
            scan = self.scan
            bounds = counter_bounds(self.func.body, i, scan.end_of.get(i, i),
                                    scan.refs.get(i, set()), self.local_bits)
        self.local_bits.join()
        if self.view_loop is not None:
            self.view_loop.join()
        for x, bound in bounds.items():
            self.local_bits.bits[x] = max(bound.bit_length(), 1)

    def leaving(self, vals: List[V], types: Sequence[str]) -> List[V]:
        """The values ``vals`` (of ``types``) as they leave the function: canonical (PyPy's
        signed i64 words made unsigned again, ops_pypy.py)."""
        return ops_pypy.unsigned_views(vals, types) if self.signed_i64 else vals

    def charge(self) -> None:
        """Fuel metering: subtract the instructions of the segment just translated.

        Charged at every control instruction (and so at least once per loop iteration
        and per call): running out traps at the next control point of the segment."""
        self.emit("%s[0] -= %d" % (names.FUEL, self.unpaid))
        self.open_suite("if %s[0] < 0:" % names.FUEL)
        self.emit("raise Trap(TC_OUT_OF_FUEL)")
        self.ind -= 1
        self.unpaid = 0

    def check_epoch(self) -> None:
        """Epoch interruption: checked at function entry and at each loop iteration."""
        # A countdown, not a compare: EPOCH_HIT (runtime.Store.epoch_hit) compares the
        # engine epoch with the deadline, reads the clock for a wall-clock deadline and
        # re-arms the countdown; the runtime zeroes it whenever the answer may change.
        self.emit(_EPOCH_TICK)
        self.open_suite(_EPOCH_CHECK)
        self.emit(_EPOCH_HIT)
        self.ind -= 1

    def vector_handler(self, ins: Instr) -> Handler:
        """The handler of a vector (v128) instruction; raises for any other instruction
        without one (the core handlers are all registered)."""
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
        head = ["# wasm function %d %s" % (self.index,
                                            names.printable(self.module.func_name(self.index))),
                "def %s(%s):" % (names.FUNC % self.index, params)]
        # Locals no instruction reads need no initial value (no dead stores), nor those
        # the function's straight-line start assigns before any read, nor (a body small
        # enough for the dataflow) those no path reads before assigning them: the
        # structured lowering reads a local only where, or after, the Wasm code does.
        read = {ins.imm for ins in self.func.body if ins.op in ("local.get", "local.tee")}
        if isinstance(self.lowering, Structured):
            read -= assigned_at_start(self.func.body, self.intervals.held)
            if read and len(self.func.body) <= ENTRY_LIVENESS_MAX:
                if self.lowering.liveness is None:
                    self.lowering.liveness = Liveness(self.func.body, self.scan.end_of,
                                                      self.intervals.held)
                live = self.lowering.liveness.at_entry()
                if live is not None:
                    read = {i for i in read if live >> i & 1}
        inits: Dict[str, List[str]] = {}
        for i in range(nparams, len(self.local_types)):
            if i not in read:
                continue
            t = self.local_types[i]
            init = "0" if t in ("i32", "i64", "v128") else ("0.0" if t in ("f32", "f64")
                                                            else "None")
            inits.setdefault(init, []).append("l%d" % i)
        for init, local_names in inits.items():
            for k in range(0, len(local_names), 200):
                head.append("    %s = %s" % (" = ".join(local_names[k:k + 200]), init))
        head.extend("    " + line for line in ops_pypy.entry_lines(self))
        if self.epoch:
            head.append("    " + _EPOCH_TICK)
            head.append("    " + _EPOCH_CHECK)
            head.append("        " + _EPOCH_HIT)
        out = head
        pcs = self.line_pcs
        pcs.extend([FUNC_ENTRY] * len(head))
        self.lowering.finish(out, pcs)
        return "\n".join(out) + "\n"
