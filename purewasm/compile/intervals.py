"""Interval facts on integer values across joins (CPython code shapes only).

A pre-pass over a function body (an abstract interpretation of the structured control
flow) that tells the translator, for some instructions, a range that the Wasm values
involved lie in on *every* execution that reaches them:

* ``Facts.operands[i]``: for ``i32``/``i64`` ``add``/``sub``/``mul``/``shl`` at index
  ``i``, unsigned bounds ``(a_lo, a_hi, b_lo, b_hi)`` of its two operands. The
  translator proves from them that its Python expression for the result is already in
  ``[0, 2**N)`` and needs no ``% 2**N`` or ``& mask`` (ops_numeric).
* ``Facts.locals[i]``: for ``local.get``/``local.tee`` at index ``i``, bounds
  ``(lo, hi)`` of the value pushed (a narrower ``V.bits``: e.g. a signed comparison of
  a value known below ``2**(N-1)`` becomes an unsigned one).
* ``Facts.held``: the indexes of ``local.set`` instructions whose local already holds
  the value set (a constant its bounds pin down, or a local it equals): the translator
  emits nothing for them (fib's second ``l1 = 0``; a copy at a loop's head that the
  back edge keeps equal).

The abstract state maps an integer local to ``(lo, hi, tz)``: its unsigned value lies in
``[lo, hi]`` and its ``tz`` low bits are zero; and, for a few locals, an exact relation
``x == y + k`` (``rel``: ``l0 = l2 - 2`` computed without wrapping), so that a condition
on ``y`` also bounds ``x``. Facts come from constants, zero-initialised locals, narrow
loads, masks, shifts and sums; branch conditions refine them (``if``, ``br_if``:
comparisons of a local, or a local plus a constant, with a constant or another value,
signed or unsigned, ``eqz``, a value tested for non-zero). Where paths join (the end of
a block, an ``else``) facts are hulled; at a loop head the state is a proven invariant:
the body is analysed with a candidate head state until the state at every back edge is
within it (the first candidate is the entry state; then the hull with the back edges;
then bounds still moving are widened to the type's range, and one narrowing pass tries
the hull of entry and back edges again). A pass whose back edges are not covered is
discarded (with its facts); only the facts of the final pass of each loop are kept.
Branches out of the loop made in discarded passes still join into the enclosing
labels: a superset of what reaches them, so sound, only less precise.

One loop shape is proven by a lemma rather than by the fixpoint (:func:`_counter`): the
counted loop whose one back edge is ``br_if 0`` on ``x != B`` (or ``x <u B``), ``x``
assigned once per iteration as ``x + c``, ``B`` a constant or a local not assigned in
the loop. With ``x < B`` at entry and ``B - x`` a multiple of ``c``, ``x`` takes the
values ``x0, x0 + c, ..., B - c`` at the head: ``x + c`` never wraps. Intervals alone
cannot see this (``!=`` bounds nothing); a counter that does wrap (``x0 >= B``) gets no
fact.

Soundness is the whole point (docs/DECISIONS.md: facts only choose cheaper code that
computes the same value). Anything the analysis does not model precisely (an
instruction not in its tables, exceptions, too much work) makes it give up: no facts
for the function. Its cost is bounded: at most ``_BUDGET_PER_INSTR`` instructions
processed per instruction of the body (nested loops re-analysed); beyond, it starts
again in a linear mode (one pass per loop: locals assigned in the loop are unknown at
its head), and at most :data:`MAX_TRACKED` locals and :data:`MAX_RELS` relations are
kept per state, so that copying a state at a branch costs O(1).

The walk is written for speed (it runs before the translation of every function with a
loop; session 8 made it about 1.6x cheaper with the same facts, checked on whole modules
by scripts/intervals_bench.py and pinned by tests/test_intervals_pinned.py): each body is
decoded once into a kind (a small int) and an argument per instruction, stack entries
are tuples, the hottest helpers are inlined in the walk's cases, the budget is checked
only where it is read, and a branch that narrows nothing does not copy the state.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from purewasm.opcodes import BLOCK_OPENERS
from purewasm.syntax import Instr

MAX_TRACKED = 48        # locals with a fact in one state
MAX_RELS = 16           # relations x == y + k (or y & mask) in one state
_BUDGET_PER_INSTR = 2   # instructions processed per instruction of the body (loop passes)
_BUDGET_FLOOR = 1000
_MAX_PASSES = 8         # passes over one loop body before giving up
# Counters: steps and bounds well inside the type (the lemma needs no wrap anywhere).
_COUNTER_STEP = 1 << 16

_W = {"i32": 32, "i64": 64}

Fact = Tuple[int, int, int]                  # (lo, hi, tz)
# (base local y, offset k, mask): x == y + k (mask None) or x == y & mask (k 0).
Rel = Tuple[int, int, Optional[int]]
Interval = Tuple[int, int]


class Facts:
    """What :func:`analyse` found (see the module doc)."""

    __slots__ = ("operands", "locals", "held")

    def __init__(self) -> None:
        self.operands: Dict[int, Tuple[int, int, int, int]] = {}
        self.locals: Dict[int, Interval] = {}
        self.held: Set[int] = set()


NO_FACTS = Facts()


class _GiveUp(Exception):
    """The analysis cannot go on soundly (or cheaply): no facts."""


class _State:
    """Facts on locals at one point: ``iv`` local -> (lo, hi, tz), ``rel`` local x ->
    (y, k, mask) with x == y + k exactly (mask None), or x == y & mask (a monotonic
    function of y where :func:`_masked` says so). A local absent from ``iv`` may hold
    any value."""

    __slots__ = ("iv", "rel")

    def __init__(self, iv: Dict[int, Fact], rel: Dict[int, Rel]) -> None:
        self.iv = iv
        self.rel = rel

    def copy(self) -> "_State":
        return _State(self.iv.copy(), self.rel.copy())


def _join(a: Optional[_State], b: Optional[_State]) -> Optional[_State]:
    """The hull of two states (None: unreachable). Returns a new state, or one of the
    arguments when the other is None or holds the same facts."""
    if a is None:
        return b
    if b is None:
        return a
    if a.iv == b.iv and a.rel == b.rel:
        return a        # (common: both paths know the same; a dict compare is cheap)
    biv = b.iv
    iv: Dict[int, Fact] = {}
    for x, fa in a.iv.items():
        fb = biv.get(x)
        if fb is not None:
            iv[x] = fa if fa == fb else (min(fa[0], fb[0]), max(fa[1], fb[1]),
                                         min(fa[2], fb[2]))
    arel = a.rel
    brel = b.rel
    rel = {x: r for x, r in arel.items() if brel.get(x) == r} if arel and brel else {}
    return _State(iv, rel)


def _covers(head: _State, back: Optional[_State], exempt: Set[int]) -> bool:
    """Whether every fact of ``head`` holds in ``back`` too (a loop invariant)."""
    if back is None:
        return True
    biv = back.iv
    for x, (lo, hi, tz) in head.iv.items():
        if x in exempt:
            continue
        fb = biv.get(x)
        if fb is None or fb[0] < lo or fb[1] > hi or fb[2] < tz:
            return False
    brel = back.rel
    for x, r in head.rel.items():
        if brel.get(x) != r:
            return False
    return True


def _tz(v: int, w: int) -> int:
    """Trailing zero bits of the w-bit value v (w for 0)."""
    return (v & -v).bit_length() - 1 if v else w


# An operand stack entry is a tuple (for speed: one is made per value pushed, and a tuple
# costs a fraction of an object with attributes) ``(lo, hi, tz, src, k, step, cond,
# mask)``: unsigned bounds (``hi`` None: unknown), known trailing zeros, and where it
# comes from: ``src`` >= 0 when it equals ``l<src> + k`` exactly (or ``l<src> & mask``),
# as long as the local was not assigned after ``step``; ``cond`` for a comparison
# result (what a branch on it proves): ``("cmp", name, a, b, w)`` or ``("eqz", a, w)``.
SV = Tuple[int, Optional[int], int, int, int, int, Optional[tuple], Optional[int]]

_TOP: SV = (0, None, 0, -1, 0, 0, None, None)
_BOOL: SV = (0, 1, 0, -1, 0, 0, None, None)
_NONZERO = [(1, 0xFFFFFFFF)]
_ZERO = [(0, 0)]


def _const(c: int, w: int) -> SV:
    return (c, c, _tz(c, w), -1, 0, 0, None, None)


_NEGATED = {"eq": "ne", "ne": "eq", "lt_u": "ge_u", "ge_u": "lt_u", "gt_u": "le_u",
            "le_u": "gt_u", "lt_s": "ge_s", "ge_s": "lt_s", "gt_s": "le_s", "le_s": "gt_s"}
_SWAPPED = {"eq": "eq", "ne": "ne", "lt_u": "gt_u", "gt_u": "lt_u", "le_u": "ge_u",
            "ge_u": "le_u", "lt_s": "gt_s", "gt_s": "lt_s", "le_s": "ge_s", "ge_s": "le_s"}
_COMPARES = frozenset(_NEGATED)


def _allowed(name: str, blo: int, bhi: int, w: int) -> List[Interval]:
    """The unsigned values x (w bits) for which ``x name y`` can hold, y in ``[blo,
    bhi]``: one or two intervals (none: never)."""
    m = (1 << w) - 1
    if name == "eq":
        return [(blo, bhi)]
    if name == "ne":
        if blo != bhi:
            return [(0, m)]
        return [r for r in ((0, blo - 1), (blo + 1, m)) if r[0] <= r[1]]
    if name == "lt_u":
        return [(0, bhi - 1)] if bhi > 0 else []
    if name == "le_u":
        return [(0, bhi)]
    if name == "gt_u":
        return [(blo + 1, m)] if blo < m else []
    if name == "ge_u":
        return [(blo, m)]
    # Signed: b as a signed range, the condition as a signed range for x, back to
    # unsigned pieces.
    h = 1 << (w - 1)
    if bhi < h:
        slo, shi = blo, bhi
    elif blo >= h:
        slo, shi = blo - m - 1, bhi - m - 1
    else:
        slo, shi = -h, h - 1
    if name == "lt_s":
        lo, hi = -h, shi - 1
    elif name == "le_s":
        lo, hi = -h, shi
    elif name == "gt_s":
        lo, hi = slo + 1, h - 1
    else:  # ge_s
        lo, hi = slo, h - 1
    if lo > hi:
        return []
    if lo >= 0:
        return [(lo, hi)]
    if hi < 0:
        return [(lo + m + 1, hi + m + 1)]
    return [(0, hi), (lo + m + 1, m)]


def _meet(pieces: List[Interval], lo: int, hi: int) -> Optional[Interval]:
    """The hull of ``pieces`` within [lo, hi] (None: empty)."""
    rlo = rhi = None
    for plo, phi in pieces:
        a, b = max(plo, lo), min(phi, hi)
        if a <= b:
            rlo = a if rlo is None or a < rlo else rlo
            rhi = b if rhi is None or b > rhi else rhi
    if rlo is None or rhi is None:
        return None
    return rlo, rhi


def _reduce(lo: int, hi: int, tz: int, w: int) -> Tuple[Fact, int]:
    """The exact integer range [lo, hi] of an operation, modulo 2**w: the range of the
    result and the multiple of 2**w subtracted (-1 when it varies: the full range)."""
    q = lo >> w
    tz = min(tz, w)
    if hi >> w == q:
        return (lo - (q << w), hi - (q << w), tz), q
    return (0, (1 << w) - 1, tz), -1


def _masked(a: Fact, c: int, w: int) -> Fact:
    """``a & c`` for a constant ``c``. When ``c`` keeps every bit of ``a``'s values
    from bit ``j`` up (a value below ``2**n``, ``c`` = ``2**n - 2**j`` on those bits:
    ``x & 0x7FFFFFFE`` for x < 2**31, an alignment), the result is ``a`` rounded down to
    a multiple of ``2**j``, which is monotonic: its bounds are ``a``'s rounded down."""
    lo, hi, tz = a
    n = hi.bit_length()
    low = c & ((1 << n) - 1)
    j = _tz(low, w) if low else n
    if low | ((1 << j) - 1) == (1 << n) - 1:
        return (lo >> j) << j, (hi >> j) << j, max(tz, min(_tz(c, w), w))
    return 0, min(hi, c), max(tz, _tz(c, w))


class _Frame:
    __slots__ = ("kind", "p", "end", "base", "np", "nr", "label", "els", "entry", "head",
                 "back", "passes", "exempt", "widened", "narrowing", "fallback", "one_pass")

    def __init__(self, kind: str, p: int, end: int, base: int, np: int, nr: int) -> None:
        self.kind = kind            # block, loop, if, dead
        self.p = p
        self.end = end
        self.base = base            # stack height below the block's parameters
        self.np = np
        self.nr = nr
        self.label: Optional[_State] = None    # branches to the end (block, if)
        self.els: Optional[_State] = None      # if: the state when the condition is false
        self.entry: Optional[_State] = None    # loop: the state on entry
        self.head: Optional[_State] = None     # loop: the invariant assumed at the head
        self.back: Optional[_State] = None     # loop: the join of the back edges
        self.passes = 0
        self.exempt: Set[int] = set()          # loop: counters proven by _counter
        self.widened = False
        self.narrowing = False
        self.fallback: Optional[_State] = None
        self.one_pass = False                  # loop: the head is one_pass_head's


# Stack effects of the instructions modelled without a fact on their result:
# name -> (pops, pushes).
_PLAIN: Dict[str, Tuple[int, int]] = {
    "nop": (0, 0), "drop": (1, 0), "global.set": (1, 0), "memory.size": (0, 1),
    "memory.grow": (1, 1), "memory.fill": (3, 0), "memory.copy": (3, 0),
    "memory.init": (3, 0), "data.drop": (0, 0), "elem.drop": (0, 0), "table.get": (1, 1),
    "table.set": (2, 0), "table.size": (0, 1), "table.grow": (2, 1), "table.fill": (3, 0),
    "table.copy": (3, 0), "table.init": (3, 0), "ref.null": (0, 1), "ref.func": (0, 1),
    "f32.const": (0, 1), "f64.const": (0, 1), "global.get": (0, 1),
}
for _t in ("f32", "f64"):
    for _n in ("add", "sub", "mul", "div", "min", "max", "copysign"):
        _PLAIN["%s.%s" % (_t, _n)] = (2, 1)
    for _n in ("abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"):
        _PLAIN["%s.%s" % (_t, _n)] = (1, 1)
for _n in ("i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s",
           "i64.extend32_s", "i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s",
           "i32.trunc_f64_u", "i64.trunc_f32_s", "i64.trunc_f32_u", "i64.trunc_f64_s",
           "i64.trunc_f64_u", "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u",
           "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u", "i64.trunc_sat_f32_s",
           "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
           "f32.convert_i32_s", "f32.convert_i32_u", "f32.convert_i64_s",
           "f32.convert_i64_u", "f32.demote_f64", "f64.convert_i32_s", "f64.convert_i32_u",
           "f64.convert_i64_s", "f64.convert_i64_u", "f64.promote_f32",
           "i32.reinterpret_f32", "i64.reinterpret_f64", "f32.reinterpret_i32",
           "f64.reinterpret_i64", "i32.rotl", "i32.rotr", "i64.rotl", "i64.rotr"):
    _PLAIN[_n] = (2, 1) if _n.endswith(("rotl", "rotr")) else (1, 1)
for _t in ("f32", "f64"):
    for _n in ("eq", "ne", "lt", "gt", "le", "ge"):
        _PLAIN["%s.%s" % (_t, _n)] = (2, 1)

# Loads: the range of the value loaded, when narrower than its type.
_LOAD_RANGE = {"i32.load8_u": 0xFF, "i64.load8_u": 0xFF, "i32.load16_u": 0xFFFF,
               "i64.load16_u": 0xFFFF, "i64.load32_u": 0xFFFFFFFF}
_LOADS = frozenset(("i32.load", "i64.load", "f32.load", "f64.load", "i32.load8_s",
                    "i32.load8_u", "i32.load16_s", "i32.load16_u", "i64.load8_s",
                    "i64.load8_u", "i64.load16_s", "i64.load16_u", "i64.load32_s",
                    "i64.load32_u"))
_STORES = frozenset(("i32.store", "i64.store", "f32.store", "f64.store", "i32.store8",
                     "i32.store16", "i64.store8", "i64.store16", "i64.store32"))
_INT_BINOPS = frozenset("add sub mul div_s div_u rem_s rem_u and or xor shl shr_s "
                        "shr_u".split())
# Integer binary operators and comparisons: instruction name -> operator.
_INT_OPS = {t + "." + n: n for t in ("i32", "i64") for n in _INT_BINOPS | set(_NEGATED)}
# Operations whose operand bounds the translator uses (Facts.operands).
_RECORDED = frozenset(("add", "sub", "mul", "shl"))
# (params, results) of a block type; (pops, pushes) of a call.
BlockArity = Callable[[Any], Tuple[int, int]]
CallArity = Callable[[Instr], Tuple[int, int]]

# The walk dispatches on a small int per instruction (its kind), computed once per body
# with the instruction's argument in the form its case needs (``_Code``): comparing
# ints in the order of how often the kinds occur costs much less than comparing names.
(_GET, _CONST, _BR_IF, _SET, _TEE, _BIN, _END, _LOAD, _BLOCK, _STORE, _BR, _CALL, _EQZ,
 _CMP, _PLAIN_OP, _LOOP, _IF, _ELSE, _SELECT, _COUNT, _WRAP, _EXTEND_U, _EXTEND_S,
 _IS_NULL, _BR_TABLE, _STOP, _OPENER, _UNKNOWN, _GET_OTHER) = range(29)
_KIND = {"local.get": _GET, "i32.const": _CONST, "i64.const": _CONST, "br_if": _BR_IF,
         "local.set": _SET, "local.tee": _TEE, "end": _END, "block": _BLOCK, "br": _BR,
         "call": _CALL, "call_indirect": _CALL, "i32.eqz": _EQZ, "i64.eqz": _EQZ,
         "loop": _LOOP, "if": _IF, "else": _ELSE, "select": _SELECT, "select_t": _SELECT,
         "i32.wrap_i64": _WRAP, "i64.extend_i32_u": _EXTEND_U,
         "i64.extend_i32_s": _EXTEND_S, "ref.is_null": _IS_NULL, "br_table": _BR_TABLE,
         "return": _STOP, "unreachable": _STOP, "return_call": _STOP,
         "return_call_indirect": _STOP}
for _n in ("i32.clz", "i32.ctz", "i32.popcnt", "i64.clz", "i64.ctz", "i64.popcnt"):
    _KIND[_n] = _COUNT
for _n in _LOADS:
    _KIND[_n] = _LOAD
for _n in _STORES:
    _KIND[_n] = _STORE
for _n in _PLAIN:
    _KIND[_n] = _PLAIN_OP
for _n, _o in _INT_OPS.items():
    _KIND[_n] = _CMP if _o in _COMPARES else _BIN
# Block openers the walk does not model (try_table): followed in dead code only.
_OPENERS = frozenset((_BLOCK, _LOOP, _IF, _OPENER))
_STRUCTURE = _OPENERS | {_ELSE, _END}       # what the walk follows in dead code


class _Code:
    """A body prepared for the walk, once per body (both walks of :func:`analyse` use
    it): the kind of each instruction and its argument in the form its case needs (the
    local for get/set/tee, the value pushed for constants and loads, ``(name, w)`` for
    integer operators, ``w`` for eqz/clz..., ``(pops, pushes)`` for calls and the
    _PLAIN ones, ``(params, results, end)`` for block openers, else ``ins.imm``); the
    nesting depth of each instruction and where each local is assigned (for _counter
    and the linear mode)."""

    __slots__ = ("kinds", "args", "depth", "sets", "all_sets")

    def __init__(self, body: Sequence[Instr], widths: List[int], end_of: Dict[int, int],
                 block_arity: BlockArity, call_arity: CallArity) -> None:
        kinds: List[int] = []
        args: List[Any] = []
        depth: List[int] = []
        sets: Dict[int, List[int]] = {}
        kind_of = _KIND.get
        d = 0
        i = 0
        for ins in body:
            op = ins.op
            kind = kind_of(op)
            if kind == _GET:
                arg: Any = ins.imm
                if not widths[arg]:
                    kind = _GET_OTHER     # not an integer: nothing known
            elif kind == _CONST:
                arg = _const(ins.imm, 64 if op[1] == "6" else 32)
            elif kind == _SET or kind == _TEE:
                arg = ins.imm
                sets.setdefault(arg, []).append(i)
            elif kind == _BIN or kind == _CMP:
                arg = (_INT_OPS[op], 64 if op[1] == "6" else 32)
            elif kind == _END:
                d -= 1
                arg = None
            elif kind == _LOAD:
                r = _LOAD_RANGE.get(op)
                arg = _TOP if r is None else (0, r, 0, -1, 0, 0, None, None)
            elif kind == _BLOCK or kind == _LOOP or kind == _IF:
                bt = ins.imm
                np, nr = (0, 0) if bt is None else block_arity(bt)
                arg = (np, nr, end_of.get(i))
            elif kind == _CALL:
                arg = call_arity(ins)
            elif kind == _PLAIN_OP:
                arg = _PLAIN[op]
            elif kind == _EQZ or kind == _COUNT:
                arg = 64 if op[1] == "6" else 32
            elif kind is None:
                kind = _OPENER if op in BLOCK_OPENERS else _UNKNOWN
                arg = None
            else:
                arg = ins.imm
            kinds.append(kind)
            args.append(arg)
            depth.append(d)
            if kind in _OPENERS:
                d += 1
            i += 1
        self.kinds = kinds
        self.args = args
        self.depth = depth
        self.sets = sets
        self.all_sets = sorted(j for v in sets.values() for j in v)


def analyse(body: Sequence[Instr], local_types: Sequence[str], nparams: int,
            end_of: Dict[int, int], refs: Dict[int, set], block_arity: BlockArity,
            call_arity: CallArity) -> Facts:
    """The facts of a function body (see the module doc): ``local_types`` its locals'
    types (parameters first, ``nparams`` of them), ``end_of``/``refs`` the block
    structure (scan.Scan), ``block_arity``/``call_arity`` the stack effects of block
    types and calls. :data:`NO_FACTS` when the analysis gives up."""
    budget = _BUDGET_PER_INSTR * len(body) + _BUDGET_FLOOR
    code = _Code(body, [_W.get(t, 0) for t in local_types], end_of, block_arity,
                 call_arity)
    try:
        return _Analysis(body, code, local_types, nparams, refs, budget, False).run()
    except _GiveUp:
        pass
    try:
        return _Analysis(body, code, local_types, nparams, refs,
                         2 * len(body) + _BUDGET_FLOOR, True).run()
    except _GiveUp:
        return NO_FACTS


class _Analysis:
    def __init__(self, body: Sequence[Instr], code: _Code, local_types: Sequence[str],
                 nparams: int, refs: Dict[int, set], budget: int, cheap: bool) -> None:
        self.body = body
        self.kinds = code.kinds
        self.args = code.args
        self.depth = code.depth
        self.sets = code.sets
        self.all_sets = code.all_sets
        self.widths = [_W.get(t, 0) for t in local_types]
        self.masks = [(1 << w) - 1 for w in self.widths]
        self.nparams = nparams
        self.refs = refs
        self.budget = budget
        self.cheap = cheap
        # The facts by instruction index (lists: a loop's are cleared by a slice when
        # its pass is discarded); Facts at the end.
        self.operands: List[Optional[Tuple[int, int, int, int]]] = [None] * len(body)
        self.locals: List[Optional[Interval]] = [None] * len(body)
        self.held: List[bool] = [False] * len(body)
        # The step of each local's last assignment (-1: none).
        self.last_assign: List[int] = [-1] * len(self.widths)

    # -- values --------------------------------------------------------------------

    def value(self, v: SV, w: int, st: _State) -> Fact:
        """What is known of ``v`` (w bits) here: its own bounds, and its local's (while
        ``v`` still equals ``l<src> + k``)."""
        lo, hi, tz, src = v[0], v[1], v[2], v[3]
        if hi is None:
            hi = (1 << w) - 1
        if src >= 0 and self.last_assign[src] < v[5]:
            f = st.iv.get(src)
            if f is not None:
                if v[7] is not None:
                    f = _masked(f, v[7], w)
                k = v[4]
                nlo = f[0] + k
                nhi = f[1] + k
                if nlo < lo:
                    nlo = lo
                if nhi > hi:
                    nhi = hi
                if nlo <= nhi:
                    lo, hi = nlo, nhi
                    if k == 0 and f[2] > tz:
                        tz = f[2]
        return lo, hi, tz

    def valid(self, v: SV) -> bool:
        """Whether ``v`` still equals ``l<v.src> + v.k``."""
        return v[3] >= 0 and self.last_assign[v[3]] < v[5]

    # -- locals --------------------------------------------------------------------

    def holds(self, st: _State, x: int, v: SV) -> bool:
        """Whether integer local x already holds ``v`` here, on every path: ``v`` is a
        constant that x's bounds pin down, or local y's value (still) where x == y
        (a relation with offset 0 either way)."""
        if not self.widths[x]:
            return False
        src = v[3]
        if src >= 0:
            if v[4] or v[7] is not None or self.last_assign[src] >= v[5]:
                return False
            return st.rel.get(x) == (src, 0, None) or st.rel.get(src) == (x, 0, None)
        if v[1] is None or v[0] != v[1]:
            return False
        f = st.iv.get(x)
        return f is not None and f[0] == f[1] == v[0]

    def assign(self, st: _State, x: int, v: SV, step: int) -> Fact:
        """Local x := v (its width) at ``step``; returns the value's fact."""
        w = self.widths[x]
        iv = st.iv
        src, k, mask = v[3], v[4], v[7]
        if src < 0 or self.last_assign[src] >= v[5]:
            src, k, mask = -1, 0, None      # (no longer) a local's value
        if w:
            # f = self.value(v, w, st), inlined.
            lo, hi, tz = v[0], v[1], v[2]
            if hi is None:
                hi = (1 << w) - 1
            g = iv.get(src) if src >= 0 else None
            if g is not None:
                if mask is not None:
                    g = _masked(g, mask, w)
                nlo = g[0] + k
                nhi = g[1] + k
                if nlo < lo:
                    nlo = lo
                if nhi > hi:
                    nhi = hi
                if nlo <= nhi:
                    lo, hi = nlo, nhi
                    if k == 0 and g[2] > tz:
                        tz = g[2]
            f = (lo, hi, tz)
        else:
            f = (0, 0, 0)
        self.last_assign[x] = 2 * step
        rel = st.rel
        if rel:
            for z in [z for z, r in rel.items() if z == x or r[0] == x]:
                del rel[z]
        if not w:
            return f
        if f[0] == 0 and f[1] == self.masks[x] and f[2] == 0:
            iv.pop(x, None)
        elif x in iv or len(iv) < MAX_TRACKED:
            iv[x] = f
        if src >= 0 and src != x and len(rel) < MAX_RELS:
            rel[x] = (src, k, mask)
        return f

    def constrain(self, st: _State, v: SV, pieces: List[Interval], w: int) -> bool:
        """Refine ``st`` with: the value of ``v`` lies in ``pieces``. False when no
        value does (the path cannot be taken)."""
        # lo, hi = self.value(v, w, st), inlined.
        lo, hi, src, k = v[0], v[1], v[3], v[4]
        if hi is None:
            hi = (1 << w) - 1
        live = src >= 0 and self.last_assign[src] < v[5]
        if live:
            f = st.iv.get(src)
            if f is not None:
                if v[7] is not None:
                    f = _masked(f, v[7], w)
                nlo = f[0] + k
                nhi = f[1] + k
                if nlo < lo:
                    nlo = lo
                if nhi > hi:
                    nhi = hi
                if nlo <= nhi:
                    lo, hi = nlo, nhi
        # r = _meet(pieces, lo, hi), inlined.
        rlo = rhi = -1
        for plo, phi in pieces:
            a = plo if plo > lo else lo
            b = phi if phi < hi else hi
            if a <= b:
                if rhi < 0:
                    rlo, rhi = a, b
                else:
                    if a < rlo:
                        rlo = a
                    if b > rhi:
                        rhi = b
        if rhi < 0:
            return False
        if not live or self.widths[src] != w or v[7] is not None:
            return True
        return self.narrow(st, src, rlo - k, rhi - k, 1)

    def narrow(self, st: _State, y: int, lo: int, hi: int, hops: int) -> bool:
        """Local y is in [lo, hi] here; so are the locals related to it (``hops``
        relations away at most). False when that contradicts what is known."""
        iv = st.iv
        f = iv.get(y)
        if f is None:
            f = (0, self.masks[y], 0)
        nlo = lo if lo > f[0] else f[0]
        nhi = hi if hi < f[1] else f[1]
        if nlo > nhi:
            return False
        if (nlo != f[0] or nhi != f[1]) and (y in iv or len(iv) < MAX_TRACKED):
            iv[y] = (nlo, nhi, f[2])
        if hops and st.rel:
            # (narrow with hops 0 changes only iv: rel can be iterated directly.)
            for z, (base, k, mask) in st.rel.items():
                if base != y:
                    continue
                if mask is None:
                    zlo, zhi = nlo + k, nhi + k
                else:
                    zlo, zhi, _ = _masked((nlo, nhi, f[2]), mask, self.widths[y])
                if not self.narrow(st, z, zlo, zhi, 0):
                    return False
            r = st.rel.get(y)
            if r is not None and r[2] is None \
                    and not self.narrow(st, r[0], nlo - r[1], nhi - r[1], 0):
                return False
        return True

    def refine(self, st: _State, c: SV, truth: bool) -> Optional[_State]:
        """``st`` where the i32 condition ``c`` is ``truth`` (None: impossible)."""
        cond = c[6]
        # eqz of a comparison (of an eqz...) is the comparison with the truth flipped: a
        # loop, not a recursion (a body may hold 100,000 eqz in a row).
        while cond is not None and cond[0] == "eqz" and cond[2] == 32 \
                and cond[1][6] is not None:
            c = cond[1]
            cond = c[6]
            truth = not truth
        if cond is None:
            ok = self.constrain(st, c, _NONZERO if truth else _ZERO, 32)
            return st if ok else None
        if cond[0] == "eqz":
            a, w = cond[1], cond[2]
            m = (1 << w) - 1
            ok = self.constrain(st, a, _ZERO if truth else [(1, m)], w)
            return st if ok else None
        _, name, a, b, w = cond
        if not truth:
            name = _NEGATED[name]
        if b[3] < 0:
            # Not a local's value (a constant, say): its own bounds, and a condition
            # narrows nothing of it.
            blo, bhi = b[0], b[1]
            if bhi is None:
                bhi = (1 << w) - 1
            if not self.constrain(st, a, _allowed(name, blo, bhi, w), w):
                return None
            alo, ahi, _ = self.value(a, w, st)
            if _meet(_allowed(_SWAPPED[name], alo, ahi, w), blo, bhi) is None:
                return None
            return st
        fb = self.value(b, w, st)
        if not self.constrain(st, a, _allowed(name, fb[0], fb[1], w), w):
            return None
        fa = self.value(a, w, st)
        if not self.constrain(st, b, _allowed(_SWAPPED[name], fa[0], fa[1], w), w):
            return None
        return st

    def narrows(self, c: SV) -> bool:
        """Whether :meth:`refine` on condition ``c`` may change the state (narrow a
        local): else it only tells whether the condition can hold."""
        cond = c[6]
        while cond is not None and cond[0] == "eqz" and cond[2] == 32 \
                and cond[1][6] is not None:
            c = cond[1]
            cond = c[6]
        if cond is None:
            return self.narrows_value(c, 32)
        if cond[0] == "eqz":
            return self.narrows_value(cond[1], cond[2])
        return self.narrows_value(cond[2], cond[4]) or self.narrows_value(cond[3], cond[4])

    def narrows_value(self, v: SV, w: int) -> bool:
        """Whether :meth:`constrain` on ``v`` (w bits) may narrow a local."""
        src = v[3]
        return src >= 0 and self.last_assign[src] < v[5] and self.widths[src] == w \
            and v[7] is None

    # -- the walk ------------------------------------------------------------------

    def initial(self) -> _State:
        iv: Dict[int, Fact] = {}
        for x in range(self.nparams, len(self.widths)):
            w = self.widths[x]
            if w and len(iv) < MAX_TRACKED:
                iv[x] = (0, 0, w)
        return _State(iv, {})

    def branch(self, frames: List[_Frame], d: int, st: _State) -> None:
        """A branch to label ``d`` with state ``st`` (given away)."""
        if d >= len(frames):
            return      # the function's label: a return
        f = frames[-1 - d]
        if f.kind == "loop":
            f.back = _join(f.back, st)
        else:
            f.label = _join(f.label, st)

    def branch_shared(self, frames: List[_Frame], d: int, st: _State) -> None:
        """A branch to label ``d`` with state ``st``, which stays the caller's (copied
        only if kept: a join with another state makes a new one)."""
        if d >= len(frames):
            return
        f = frames[-1 - d]
        if f.kind == "loop":
            f.back = st.copy() if f.back is None else _join(f.back, st)
        else:
            f.label = st.copy() if f.label is None else _join(f.label, st)

    def run(self) -> Facts:  # noqa: C901 - one case per instruction family
        kinds = self.kinds
        args = self.args
        n = len(kinds)
        widths = self.widths
        masks = self.masks
        locals_ = self.locals
        frames: List[_Frame] = []
        stack: List[SV] = []
        push = stack.append
        pop = stack.pop
        cur: Optional[_State] = self.initial()
        budget = self.budget
        # Steps: instructions processed (the budget); 2 * step stamps an assignment,
        # 2 * step + 1 a value read from a local (which stays valid while the local's
        # last assignment is older).
        # The budget is checked where it is read (entering and leaving a loop: a
        # step counted past it makes the analysis cheap) and at the end (past twice
        # it, the analysis gives up): as if after every step, since steps only grow,
        # and between two checks the walk is at most one pass over the body.
        step = 0
        i = 0
        while i < n:
            step += 1
            kind = kinds[i]
            if cur is None:
                # Unreachable: only the structure is followed.
                if kind in _OPENERS:
                    frames.append(_Frame("dead", i, -1, len(stack), 0, 0))
                    i += 1
                    continue
                if kind != _ELSE and kind != _END:
                    # Skip to the next opener, else or end (each instruction skipped
                    # is a step all the same).
                    i += 1
                    while i < n and kinds[i] not in _STRUCTURE:
                        i += 1
                        step += 1
                    continue
                if frames and frames[-1].kind == "dead":
                    if kind == _END:
                        frames.pop()
                    i += 1
                    continue
            # The cases by how often they occur.
            if kind == _GET:
                x = args[i]
                f = cur.iv.get(x)    # type: ignore[union-attr]
                if f is None:
                    push((0, masks[x], 0, x, 0, 2 * step + 1, None, None))
                else:
                    if f[0] or f[1] != masks[x]:
                        locals_[i] = (f[0], f[1])
                    push((f[0], f[1], f[2], x, 0, 2 * step + 1, None, None))
            elif kind == _CONST:
                push(args[i])
            elif kind == _BR_IF:
                c = pop()
                if self.narrows(c):
                    taken = self.refine(cur.copy(), c, True)    # type: ignore[union-attr]
                    if taken is not None:
                        self.branch(frames, args[i], taken)
                    cur = self.refine(cur, c, False)            # type: ignore[arg-type]
                else:
                    # Neither way changes the state: no copy unless a label keeps it.
                    if self.refine(cur, c, True) is not None:   # type: ignore[arg-type]
                        self.branch_shared(frames, args[i], cur)    # type: ignore[arg-type]
                    if self.refine(cur, c, False) is None:      # type: ignore[arg-type]
                        cur = None
            elif kind == _SET:
                v = pop()
                if self.holds(cur, args[i], v):             # type: ignore[arg-type]
                    self.held[i] = True
                self.assign(cur, args[i], v, step)          # type: ignore[arg-type]
            elif kind == _TEE:
                x = args[i]
                f = self.assign(cur, x, pop(), step)        # type: ignore[arg-type]
                if widths[x]:
                    if f[0] or f[1] != masks[x]:
                        locals_[i] = (f[0], f[1])
                    push((f[0], f[1], f[2], x, 0, 2 * step + 1, None, None))
                else:
                    push(_TOP)
            elif kind == _BIN:
                name, w = args[i]
                self.binop(i, name, w, stack, cur, step)    # type: ignore[arg-type]
            elif kind == _END:
                if not frames:
                    i += 1
                    continue        # the function's end
                fr = frames[-1]
                if fr.kind == "loop":
                    if step > budget:
                        self.over_budget(step)
                    restart = self.leave_loop(fr)
                    if restart is not None:
                        # The pass is discarded with its facts.
                        p, end = fr.p, fr.end
                        self.operands[p:end] = [None] * (end - p)
                        locals_[p:end] = [None] * (end - p)
                        self.held[p:end] = [False] * (end - p)
                        cur = restart.copy()
                        del stack[fr.base:]
                        stack.extend([_TOP] * fr.np)
                        i = p + 1
                        continue
                    # cur: the fallthrough, the only way to the loop's end.
                elif fr.kind in ("if", "if-dead-then"):
                    # No else: the false condition falls through to the end.
                    cur = _join(_join(cur, fr.label), fr.els)
                else:
                    cur = _join(cur, fr.label)
                frames.pop()
                del stack[fr.base:]
                if fr.nr:
                    stack.extend([_TOP] * fr.nr)
            elif kind == _LOAD:
                pop()
                push(args[i])
            elif kind == _BLOCK or kind == _LOOP or kind == _IF:
                np, nr, block_end = args[i]
                if block_end is None:
                    raise _GiveUp
                cv = pop() if kind == _IF else None
                base = len(stack) - np
                fr = _Frame("block" if kind == _BLOCK else "loop" if kind == _LOOP
                            else "if", i, block_end, base, np, nr)
                frames.append(fr)
                if cv is not None:
                    fr.els = self.refine(cur.copy(), cv, False)  # type: ignore[union-attr]
                    cur = self.refine(cur, cv, True)             # type: ignore[arg-type]
                    if cur is None:
                        # The then-branch is dead: its frame is followed as a dead one
                        # up to the else (handled below), like the translator does.
                        fr.kind = "if-dead-then"
                elif kind == _LOOP:
                    if step > budget:
                        self.over_budget(step)
                    self.enter_loop(fr, cur)
                    cur = fr.head.copy() if fr.head is not None else None
                    del stack[base:]
                    stack.extend([_TOP] * np)
            elif kind == _STORE:
                del stack[-2:]
            elif kind == _BR:
                self.branch(frames, args[i], cur)               # type: ignore[arg-type]
                cur = None
            elif kind == _CALL or kind == _PLAIN_OP:
                pops, pushes = args[i]
                if pops:
                    del stack[-pops:]
                if pushes:
                    stack.extend([_TOP] * pushes)
            elif kind == _EQZ:
                push((0, 1, 0, -1, 0, 0, ("eqz", pop(), args[i]), None))
            elif kind == _CMP:
                b = pop()
                a = pop()
                name, w = args[i]
                push((0, 1, 0, -1, 0, 0, ("cmp", name, a, b, w), None))
            elif kind == _ELSE:
                fr = frames[-1]
                if fr.kind not in ("if", "if-dead-then"):
                    raise _GiveUp
                if cur is not None:
                    fr.label = _join(fr.label, cur)
                cur = fr.els
                fr.els = None
                fr.kind = "if-else"
                del stack[fr.base:]
                stack.extend([_TOP] * fr.np)
            elif kind == _SELECT:
                pop()
                b = pop()
                a = pop()
                if a[1] is None or b[1] is None:
                    push(_TOP)
                else:
                    # Own bounds only (a's local may hold another value by now).
                    push((min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), -1, 0, 0,
                          None, None))
            elif kind == _COUNT:
                pop()
                push((0, args[i], 0, -1, 0, 0, None, None))
            elif kind == _WRAP:
                lo, hi, tz = self.value(pop(), 64, cur)         # type: ignore[arg-type]
                self.push_fact(stack, (lo, hi, min(tz, 32)) if hi >> 32 == 0
                               else (0, 0xFFFFFFFF, min(tz, 32)), 32, step)
            elif kind == _EXTEND_U:
                self.push_fact(stack, self.value(pop(), 32, cur), 64,  # type: ignore[arg-type]
                               step)
            elif kind == _EXTEND_S:
                f = self.value(pop(), 32, cur)                  # type: ignore[arg-type]
                self.push_fact(stack, f if f[1] >> 31 == 0 else (0, (1 << 64) - 1, 0), 64,
                               step)
            elif kind == _GET_OTHER:
                push(_TOP)
            elif kind == _IS_NULL:
                pop()
                push(_BOOL)
            elif kind == _BR_TABLE:
                pop()
                labels, default = args[i]
                for d in set(labels) | {default}:
                    self.branch(frames, d, cur.copy())          # type: ignore[union-attr]
                cur = None
            elif kind == _STOP:
                cur = None
            else:
                raise _GiveUp
            i += 1
        if step > budget:
            self.over_budget(step)
        facts = Facts()
        facts.operands = {j: f for j, f in enumerate(self.operands) if f is not None}
        facts.locals = {j: f for j, f in enumerate(locals_) if f is not None}
        facts.held = {j for j, h in enumerate(self.held) if h}
        return facts

    def over_budget(self, step: int) -> None:
        """Too much work: loops from here on (and those being analysed, at their end)
        take a head state that needs one pass; at twice the budget, no facts."""
        if step > 2 * self.budget:
            raise _GiveUp
        self.cheap = True

    def push_fact(self, stack: List[SV], f: Fact, w: int, step: int, src: int = -1,
                  k: int = 0, mask: Optional[int] = None) -> None:
        lo, hi, tz = f
        if lo == 0 and hi == (1 << w) - 1 and tz == 0 and src < 0:
            stack.append(_TOP)
            return
        stack.append((lo, hi, tz, src, k, 2 * step + 1, None, mask))

    def binop(self, i: int, name: str, w: int, stack: List[SV], st: _State,
              step: int) -> None:
        b = stack.pop()
        a = stack.pop()
        m = (1 << w) - 1
        # self.value of a and b, inlined (the hottest path of the walk).
        la = self.last_assign
        iv = st.iv
        alo, ahi, atz, src = a[0], a[1], a[2], a[3]
        if ahi is None:
            ahi = m
        a_live = src >= 0 and la[src] < a[5]     # self.valid(a)
        if a_live:
            f = iv.get(src)
            if f is not None:
                if a[7] is not None:
                    f = _masked(f, a[7], w)
                k = a[4]
                nlo = f[0] + k
                nhi = f[1] + k
                if nlo < alo:
                    nlo = alo
                if nhi > ahi:
                    nhi = ahi
                if nlo <= nhi:
                    alo, ahi = nlo, nhi
                    if k == 0 and f[2] > atz:
                        atz = f[2]
        blo, bhi, btz, src = b[0], b[1], b[2], b[3]
        if bhi is None:
            bhi = m
        b_live = src >= 0 and la[src] < b[5]     # self.valid(b)
        if b_live:
            f = iv.get(src)
            if f is not None:
                if b[7] is not None:
                    f = _masked(f, b[7], w)
                k = b[4]
                nlo = f[0] + k
                nhi = f[1] + k
                if nlo < blo:
                    nlo = blo
                if nhi > bhi:
                    nhi = bhi
                if nlo <= nhi:
                    blo, bhi = nlo, nhi
                    if k == 0 and f[2] > btz:
                        btz = f[2]
        if name in _RECORDED and (alo or ahi != m or blo or bhi != m):
            self.operands[i] = (alo, ahi, blo, bhi)
        fa = alo, ahi, atz
        fb = blo, bhi, btz
        point_b = blo == bhi
        push_fact = self.push_fact
        if name == "add" or name == "sub":
            # _reduce and push_fact, inlined (the most common operation).
            if name == "add":
                lo, hi = alo + blo, ahi + bhi
            else:
                lo, hi = alo - bhi, ahi - blo
            tz = atz if atz < btz else btz
            if tz > w:
                tz = w
            q = lo >> w
            src, k = -1, 0
            if hi >> w == q:
                lo -= q << w
                hi -= q << w
                if q >= 0:
                    # Exact: the result is a + b - q * 2**w; a local plus a constant
                    # keeps its relation. (q < 0: below 0 by a constant multiple of
                    # 2**w, still one range, but _reduce keeps no relation.)
                    delta = blo if name == "add" else -blo
                    if point_b and a_live and a[7] is None:
                        src, k = a[3], a[4] + delta - (q << w)
                    elif name == "add" and alo == ahi and b_live and b[7] is None:
                        src, k = b[3], b[4] + alo - (q << w)
            else:
                lo, hi = 0, m
            if lo == 0 and hi == m and tz == 0 and src < 0:
                stack.append(_TOP)
            else:
                stack.append((lo, hi, tz, src, k, 2 * step + 1, None, None))
        elif name == "mul":
            push_fact(stack, _reduce(alo * blo, ahi * bhi, atz + btz, w)[0], w, step)
        elif name == "shl":
            if point_b:
                s = blo & (w - 1)
                push_fact(stack, _reduce(alo << s, ahi << s, atz + s, w)[0], w, step)
            else:
                stack.append(_TOP)
        elif name == "and":
            if alo == ahi and point_b:
                c = alo & blo
                push_fact(stack, (c, c, _tz(c, w)), w, step)
            elif point_b or alo == ahi:
                # A local masked by a constant: a function of the local (the relation
                # bounds it again when a condition bounds the local).
                x, c = (a, blo) if point_b else (b, alo)
                if self.valid(x) and x[4] == 0 and x[7] is None:
                    push_fact(stack, _masked(fa if point_b else fb, c, w), w, step, x[3], 0, c)
                else:
                    push_fact(stack, _masked(fa if point_b else fb, c, w), w, step)
            else:
                push_fact(stack, (0, min(ahi, bhi), max(atz, btz)), w, step)
        elif name == "or" or name == "xor":
            hi = (1 << max(ahi.bit_length(), bhi.bit_length())) - 1
            lo = max(alo, blo) if name == "or" else 0
            push_fact(stack, (lo, hi, min(atz, btz)), w, step)
        elif name == "shr_u":
            if point_b:
                s = blo & (w - 1)
                push_fact(stack, (alo >> s, ahi >> s, max(atz - s, 0)), w, step)
            else:
                push_fact(stack, (0, ahi, 0), w, step)
        elif name == "shr_s":
            if point_b and ahi >> (w - 1) == 0:
                s = blo & (w - 1)
                push_fact(stack, (alo >> s, ahi >> s, max(atz - s, 0)), w, step)
            else:
                stack.append(_TOP)
        elif name == "div_u":
            if point_b and blo:
                push_fact(stack, (alo // blo, ahi // blo, 0), w, step)
            else:
                push_fact(stack, (0, ahi, 0), w, step)
        elif name == "rem_u":
            # b = 0 traps: otherwise the remainder is below b and at most a.
            push_fact(stack, (0, min(ahi, max(bhi - 1, 0)), 0), w, step)
        else:
            stack.append(_TOP)

    # -- loops ---------------------------------------------------------------------

    def assigned_in(self, p: int, end: int) -> Optional[Set[int]]:
        """The locals assigned between ``p`` and ``end`` (None: too many to list)."""
        a = bisect_left(self.all_sets, p)
        b = bisect_right(self.all_sets, end)
        if b - a > 256:
            return None
        return {self.body[j].imm for j in self.all_sets[a:b]}

    def count_sets(self, x: int, p: int, end: int) -> List[int]:
        s = self.sets.get(x, [])
        return s[bisect_left(s, p):bisect_right(s, end)]

    def enter_loop(self, f: _Frame, entry: Optional[_State]) -> None:
        if entry is None:
            return
        f.entry = entry.copy()
        head = entry.copy()
        counter = self.counter(f.p, f.end, entry)
        if counter is not None:
            x, fact = counter
            head.iv[x] = fact
            f.exempt = {x}
        if self.cheap:
            head = self.one_pass_head(f, head)
        for x in f.exempt:
            head.rel = {z: r for z, r in head.rel.items() if z != x and r[0] != x}
        f.head = head

    def one_pass_head(self, f: _Frame, head: _State) -> _State:
        """``head`` without the facts of the locals assigned in loop ``f`` (but its
        counter's): an invariant after one pass, whatever the body does."""
        f.one_pass = True
        assigned = self.assigned_in(f.p, f.end)
        if assigned is None:
            return _State({x: head.iv[x] for x in f.exempt}, {})
        for x in assigned:
            if x not in f.exempt:
                head.iv.pop(x, None)
        head.rel = {z: r for z, r in head.rel.items()
                    if z not in assigned and r[0] not in assigned and z not in f.exempt
                    and r[0] not in f.exempt}
        return head

    def leave_loop(self, f: _Frame) -> Optional[_State]:
        """At the end of a pass over loop ``f``'s body: None when its head state held
        (the pass's facts stand), or the head state for another pass."""
        head = f.head
        entry = f.entry
        if head is None or entry is None:
            return None     # entered dead
        f.passes += 1
        if _covers(head, f.back, f.exempt):
            if f.widened and not f.narrowing and not self.cheap:
                # Narrowing: the hull of the entry and the back edges under the widened
                # invariant is an invariant too (it is checked all the same).
                f.narrowing = True
                f.fallback = head
                return self.with_exempt(f, _join(entry.copy(), f.back), head)
            return None
        if self.cheap:
            # Out of budget: one more pass with the one-pass head.
            if f.one_pass or entry is None:
                raise _GiveUp
            return self.with_exempt(f, self.one_pass_head(f, head.copy()), head)
        if f.passes >= _MAX_PASSES:
            raise _GiveUp
        if f.narrowing and f.fallback is not None:
            # The narrowed state did not hold: the widened one did.
            new: Optional[_State] = f.fallback
            f.fallback = None
            f.back = None
            f.head = new
            return new
        new = _join(head, _join(entry.copy(), f.back))
        if new is None:
            raise _GiveUp
        if f.passes >= 2:
            f.widened = True
            for x, fn in list(new.iv.items()):
                fo = head.iv.get(x)
                if fo is None or fo == fn or x in f.exempt:
                    continue
                if f.passes >= 4:
                    del new.iv[x]
                    continue
                w = self.widths[x]
                lo = 0 if fn[0] < fo[0] else fn[0]
                hi = (1 << w) - 1 if fn[1] > fo[1] else fn[1]
                new.iv[x] = (lo, hi, fn[2])
        return self.with_exempt(f, new, head)

    def with_exempt(self, f: _Frame, new: Optional[_State], head: _State) -> _State:
        """``new`` as the next head state of ``f`` (its counters' facts kept)."""
        if new is None:
            raise _GiveUp
        if new is head:
            new = head.copy()
        for x in f.exempt:
            new.iv[x] = head.iv[x]
        f.back = None
        f.head = new
        return new

    def counter(self, p: int, end: int, entry: _State) -> Optional[Tuple[int, Fact]]:
        """A counter of the loop at ``p`` and its bounds at the head (the module doc;
        the proof is in the comments)."""
        refs = self.refs.get(p)
        if refs is None or len(refs) != 1:
            return None
        k = next(iter(refs))
        body = self.body
        base = self.depth[p] + 1
        if not p + 4 <= k < end or body[k].op != "br_if" or body[k].imm != 0 \
                or self.depth[k] != base:
            return None
        cmp = body[k - 1].op
        t = cmp[:3]
        if t not in _W or cmp[4:] not in ("ne", "lt_u"):
            return None
        w = _W[t]
        # The operands: x (local.get x, or the local.tee x of its increment) and B,
        # pushed right before the comparison; x first, or B first (ne is symmetric),
        # also as ``B; x; c; add; local.tee x`` (x's increment as the second operand).
        o1, o2 = body[k - 3], body[k - 2]
        ne = cmp[4:] == "ne"
        if ne and o2.op == "local.tee" and k - 6 > p:
            xi, xpos, bi = o2, k - 2, body[k - 6]
        elif o1.op in ("local.get", "local.tee"):
            xi, xpos, bi = o1, k - 3, o2
        elif ne and o2.op == "local.get":
            xi, xpos, bi = o2, k - 2, o1
        else:
            return None
        x = xi.imm
        if self.widths[x] != w:
            return None
        # The bound: a constant, or a local of the same width not assigned in the loop
        # (so its value at the head is its value at entry).
        m = (1 << w) - 1
        if bi.op == t + ".const":
            blo = bhi = bi.imm
            btz = _tz(bi.imm, w)
        elif bi.op == "local.get" and bi.imm != x and self.widths[bi.imm] == w \
                and not self.count_sets(bi.imm, p, end):
            blo, bhi, btz = entry.iv.get(bi.imm, (0, m, 0))
        else:
            return None
        # x is assigned once in the loop, directly in its body (not in a nested block)
        # before the br_if, as x + c: every iteration that reaches the br_if adds c to
        # the value x had at the head, and nothing else changes x; the comparison reads
        # x after that (the tee is that assignment, a local.get comes after it).
        sets = self.count_sets(x, p, end)
        if len(sets) != 1:
            return None
        a = sets[0]
        if self.depth[a] != base or not p + 3 < a <= xpos:
            return None
        if (xi.op == "local.tee") != (a == xpos):
            return None
        g, step, add = body[a - 3], body[a - 2], body[a - 1]
        if (g.op != "local.get" or g.imm != x or step.op != t + ".const"
                or add.op != t + ".add" or not 0 < step.imm <= _COUNTER_STEP):
            return None
        c = step.imm
        x0lo, x0hi, x0tz = entry.iv.get(x, (0, m, 0))
        ctz = _tz(c, w)
        if cmp[4:] == "lt_u":
            # The back edge carries x + c <u B <= bhi: at the head x is its entry value
            # or at most bhi - 1. Below 2**w - c, x + c does not wrap, so x only grows
            # from its entry value.
            hi = max(x0hi, bhi - 1)
            if bhi == 0 or hi + c > m:
                return None
            return x, (x0lo, hi, min(x0tz, ctz))
        # ne: with x0 < B and B - x0 a multiple of c, by induction x < B and x = B
        # (mod c) at the head: x + c <= B does not wrap, and the back edge (x + c != B)
        # keeps x + c < B, so x + c <= B - c. So x is in [x0lo, bhi - c]. The
        # multiple: exact for two constants, else both multiples of c = 2**s.
        if x0hi >= blo:
            return None
        if c > 1:
            if x0lo == x0hi and blo == bhi:
                if (blo - x0lo) % c:
                    return None
            elif c & (c - 1) or x0tz < ctz or btz < ctz:
                return None
        return x, (x0lo, bhi - c, min(x0tz, ctz))
