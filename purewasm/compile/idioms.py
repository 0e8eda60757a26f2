"""Loop idioms: byte swap and copy loops as slice operations (structured lowering).

The generic element swap of C libraries (zig's libc qsort, pdqsort) and their generic
copies are byte loops, often unrolled::

    loop                                   ;; i: a counter, A, B: invariant or stepping
      t = load8_u(A + i); store8(A + i, load8_u(B + i)); store8(B + i, t)
      ... (+1, +2, +3 likewise)
      i += 4; br_if (i != N) 0
    end

Some 45 Python lines per 4-byte element where the exchange is one slice assignment.
:func:`recognise` reads such an innermost loop symbolically (one iteration, every value
a sum of the locals' entry values and a constant, or the memory content of a byte range
at the start of the iteration) and :meth:`SliceLoop.lines` emits it versioned
(compile/control.Structured.close_pyloop)::

    _mn = <K * S>                        # bytes per range: K iterations (the loop is
    _ma = <A at entry> + a0              # counted: views.trip_count), S bytes each
    _mb = <B at entry> + b0              # each range's first byte (a constant, or a
                                         # local the loop does not assign: no name;
                                         # a counter set to 0 right before: folded)
    _mc = _ma + _mn                      # and its end
    _md = _mb + _mn
    if <K exact> and (_mc <= _mb or _md <= _ma) and _mc <= len(mem0) >= _md:
        lX, ... = ...                    # the locals read after the loop: exit values
        mem0[_ma:_mc], mem0[_mb:_md] = mem0[_mb:_md], mem0[_ma:_mc]
    else:
        while True: ...                  # the loop unchanged

Why the slice version computes what the loop does, when its test holds:

* Addresses. A range's accesses are at ``(E + k*S + c) % 2**32 + o`` in iteration ``k``
  (``E`` the sum of the base's locals at entry, canonical, unreduced; ``c`` the
  constants added, taken in [0, 2**32); ``o`` the memarg offset), and their bytes
  ``d = c + o`` cover ``[d0, d0 + S)`` exactly: iteration ``k`` touches
  ``[a + k*S, a + (k+1)*S)`` with ``a = E + d0``. When ``a + n <= len(mem0)``
  (``n = K*S``, ``len(mem0) <= 2**32``), ``E + k*S + c <= a + n - 1 < 2**32``: no
  address wraps, every access is in bounds, so nothing traps and each iteration
  touches its own chunk of each range only.
* Values. Within an iteration no load reads a byte stored earlier in it (recognise
  refuses that), and no earlier iteration touched its chunks, so every load reads the
  memory as it was before the loop; the stores put each byte of one range's chunk into
  the other's (swap) or one range's chunk into the other (copy); with the two ranges
  disjoint, that is the slice assignment. Overlapping ranges (a copy onto itself
  shifted, a swap of an element with itself) take the loop.
* Locals. Those the loop assigns get the value of the last iteration (an induction
  variable its entry value plus K steps, the counter its bound, an address its value
  in iteration K - 1, a loaded value the original memory's there, read before the
  slices are assigned); only those live after the loop (:class:`Liveness`), the others
  are never read again.

When the test fails the loop runs unchanged: the same trap at the same byte with the
same partial effects. A bytearray's slice assignment of equal length keeps the object
and its size (runtime.MemoryInstance.data is never replaced). No fuel or epoch build
uses it (the loop's checks would be skipped).
"""
from __future__ import annotations

from typing import AbstractSet, Dict, FrozenSet, List, Optional, Sequence, Tuple

from purewasm.opcodes import BLOCK_OPENERS
from purewasm.syntax import Instr

from .views import Counted, counted_loop

# Whether swap and copy loops get their slice version (tests turn it off to compare).
SLICE_LOOPS = True
_M = 1 << 32
MAX_BODY = 240          # instructions in a recognised loop body
MAX_STRIDE = 1 << 12    # bytes per iteration and range
# Access -> width in bytes (a load's value type is i32 but for i64.load).
_LOADS = {"i32.load8_u": 1, "i32.load": 4, "i64.load": 8}
_STORES = {"i32.store8": 1, "i32.store": 4, "i64.store": 8}
_READ = {1: "%s[%s]", 4: "LD_U32(%s, %s)[0]", 8: "LD_U64(%s, %s)[0]"}
_TESTS = frozenset(("i32.ne", "i32.eq", "i32.lt_u", "i32.gt_u"))   # (counted_loop: which test)
# Symbolic values of one iteration: ("const", k); ("form", locals, c): the sum of the
# locals' entry values and c, modulo 2**32; ("word", base, d, width): the memory at the
# start of the iteration at byte d of the range of base (the locals of its address);
# ("test",): a condition.
Value = Tuple


class SliceLoop:
    """A recognised loop (see the module doc): what its slice version needs."""

    __slots__ = ("swap", "src", "dst", "stride", "counted", "steps", "exits")

    def __init__(self, swap: bool, src: Tuple[Tuple[int, ...], int],
                 dst: Tuple[Tuple[int, ...], int], stride: int, counted: Counted,
                 steps: Dict[int, int], exits: Dict[int, Value]) -> None:
        self.swap = swap            # exchange the ranges (else copy src onto dst)
        self.src = src              # (the locals of the address, first byte d0)
        self.dst = dst
        self.stride = stride        # S: bytes per iteration and range
        self.counted = counted      # views.counted_loop
        self.steps = steps          # induction local -> its step modulo 2**32
        self.exits = exits          # local assigned in the loop -> its last value

    def lines(self, lines: list, live: Optional[int], memory: str, pc: Optional[int],
              signed_i64: bool = False, zeros: FrozenSet[int] = frozenset(),
              views: Optional[Tuple[str, str]] = None) -> list:
        """The loop's lines (``lines``: its ``while True:`` and its suite, (indentation,
        text, pc) each) behind the slice version; ``live``: the locals read after the
        loop (a bit mask; None: unknown, all); ``signed_i64``: i64 locals hold signed
        words (PyPy's shapes, ops_pypy.py); ``zeros``: locals known to hold 0 at entry
        (the counter, mostly: the statement right before the loop set it); ``views``:
        the names of memory 0's typed views and of the function making them, when
        this memory may use them (then a swap of one aligned word comes first)."""
        ind0 = lines[0][0]
        S = self.stride
        x, c, bound = self.counted
        step = abs(c)
        j = step.bit_length() - 1
        # d = B - X (X - B for a negative step) modulo 2**32, unreduced: the loop runs
        # K = d / 2**j times when 0 < d (both canonical: d < 2**32) and d is a multiple
        # of 2**j (views.trip_count); otherwise (d <= 0 unreduced, a turn around 2**32;
        # or never a multiple: the loop only ends by a trap) the loop runs.
        counter = "0" if x in zeros else "l%d" % x
        if bound == "0":
            d = "4294967296 - %s" % counter if c > 0 else counter
        else:
            d = "%s - %s" % (bound, counter) if c > 0 else "%s - %s" % (counter, bound)
        if d.endswith(" - 0"):
            d = d[:-4]
        out = []

        def bind(name: str, expr: str) -> str:
            """``name = expr`` emitted; or, for a constant or a local the loop does not
            assign (it still holds its value when the slices are taken), ``expr`` itself."""
            if expr.isdigit() or (expr[:1] == "l" and expr[1:].isdigit()
                                  and int(expr[1:]) not in self.exits):
                return expr
            out.append((ind0, "%s = %s" % (name, expr), pc))
            return name

        if S == step:
            mn = dv = bind("_mn", d)
        else:
            out.append((ind0, "_mk = %s" % d, pc))
            out.append((ind0, "_mn = %s" % ("_mk * %d" % S if j == 0 else
                                             "(_mk >> %d) * %d" % (j, S)), pc))
            mn, dv = "_mn", "_mk"
        test = "0 < %s" % dv
        if step > 1:
            test += " and not %s & %d" % (dv, step - 1)
        ma = bind("_ma", _start(self.src, zeros))
        mb = bind("_mb", _start(self.dst, zeros))
        targets = []
        values = []
        for local in sorted(self.exits):
            if live is not None and not live >> local & 1:
                continue
            targets.append("l%d" % local)
            values.append(bound if local == x else self._exit_value(local, memory, signed_i64))
        word = views is not None and self.swap and 4 % S == 0 and not any(
            "_mc" in v or "_md" in v for v in values)
        if views is not None and word:
            # One aligned word each (the element swap of a qsort of ints or pointers):
            # a typed view exchanges it in a third of the slices' time, without their
            # overlap and bounds tests. Both ranges are a word at an address that is a
            # multiple of 4, so they are the same word (the exchange changes nothing, as
            # the loop would not) or disjoint; an index past the view (an unreduced
            # start past 2**32 too) raises IndexError before anything is stored, and
            # the slice test and the loop take over (_mz).
            views_list, make_view = views
            out.append((ind0, "if %s%s == 4 and not (%s | %s) & 3:"
                        % ("" if S == step else test + " and ", mn, ma, mb), pc))
            out.append((ind0 + 1, "_vI = %s[0] or %s(0)" % (views_list, make_view), pc))
            out.append((ind0 + 1, "try:", pc))
            out.append((ind0 + 2, "_vI[%s >> 2], _vI[%s >> 2] = _vI[%s >> 2], _vI[%s >> 2]"
                        % (_atom(ma), _atom(mb), _atom(mb), _atom(ma)), pc))
            if targets:
                # (arithmetic only: nothing here raises IndexError)
                if any("_mk" in v for v in values):
                    out.append((ind0 + 2, "_mk = %d" % (4 // S), pc))
                out.append((ind0 + 2, "%s = %s" % (", ".join(targets), ", ".join(values)),
                            pc))
            out.append((ind0 + 2, "_mz = 0", pc))
            out.append((ind0 + 1, "except IndexError:", pc))
            out.append((ind0 + 2, "_mz = 1", pc))
            out.append((ind0, "else:", pc))
            out.append((ind0 + 1, "_mz = 1", pc))
            out.append((ind0, "if _mz:", pc))
            ind0 += 1
        out += [(ind0, "_mc = %s + %s" % (ma, mn), pc),
                (ind0, "_md = %s + %s" % (mb, mn), pc),
                (ind0, "if %s and (_mc <= %s or _md <= %s) and _mc <= len(%s) >= _md:"
                 % (test, mb, ma, memory), pc)]
        if any("_mk" in v for v in values):
            out.append((ind0 + 1, "_mk = %s" % mn if S == 1 else "_mk = %s // %d" % (mn, S),
                        pc))
        if targets:
            out.append((ind0 + 1, "%s = %s" % (", ".join(targets), ", ".join(values)), pc))
        src = "%s[%s:_mc]" % (memory, ma)
        dst = "%s[%s:_md]" % (memory, mb)
        if self.swap:
            out.append((ind0 + 1, "%s, %s = %s, %s" % (src, dst, dst, src), pc))
        else:
            out.append((ind0 + 1, "%s = %s" % (dst, src), pc))
        out.append((ind0, "else:", pc))
        out.extend((ind + 1 + word, text, p) for ind, text, p in lines)
        return out

    def _exit_value(self, local: int, memory: str, signed_i64: bool) -> str:
        """The value ``local`` has after the loop, as an expression of the entry values
        of the locals, ``_mk`` (K) and the ranges' ends ``_mc`` and ``_md``."""
        step = self.steps.get(local)
        if step is not None:
            return "(l%d + _mk * %d) %% 4294967296" % (local, _signed(step))
        v = self.exits[local]
        if v[0] == "const":
            return str(v[1])
        if v[0] == "form":
            advance = sum(self.steps.get(y, 0) for y in v[1]) % _M
            terms = " + ".join("l%d" % y for y in v[1]) or "0"
            if advance:
                terms += " + (_mk - 1) * %d" % _signed(advance)
            return "(%s + %d) %% 4294967296" % (terms, v[2])
        # A loaded value: the original memory at that byte of the last iteration's chunk.
        _, base, d, width = v
        end, d0 = ("_mc", self.src[1]) if base == self.src[0] else ("_md", self.dst[1])
        read = "LD_I64(%s, %s)[0]" if width == 8 and signed_i64 else _READ[width]
        return read % (memory, "%s - %d" % (end, self.stride - (d - d0)))


def _atom(expr: str) -> str:
    """``expr`` as an operand of ``>>``: a name or number as it is, else parenthesised."""
    return expr if expr.isidentifier() or expr.isdigit() else "(%s)" % expr


def _signed(k: int) -> int:
    return k - _M if k >= 1 << 31 else k


def _start(base: Tuple[Tuple[int, ...], int], zeros: FrozenSet[int] = frozenset()) -> str:
    """A range's first byte: its locals' sum at entry plus d0, unreduced (a sum past
    2**32, whose accesses wrap, fails the bounds test: the loop runs); the locals in
    ``zeros`` hold 0."""
    locals_, d0 = base
    e = " + ".join("l%d" % y for y in locals_ if y not in zeros)
    if not e:
        return str(d0)
    return "%s + %d" % (e, d0) if d0 else e


def _add(a: Value, b: Value) -> Optional[Value]:
    if a[0] == "const" and b[0] == "const":
        return ("const", (a[1] + b[1]) % _M)
    if a[0] == "const":
        a, b = b, a
    if a[0] != "form":
        return None
    if b[0] == "const":
        return ("form", a[1], (a[2] + b[1]) % _M)
    if b[0] == "form":
        return ("form", tuple(sorted(a[1] + b[1])), (a[2] + b[2]) % _M)
    return None


def recognise(body: Sequence[Instr], p: int, end: int, refs: set,
              local_types: Sequence[str]) -> Optional[SliceLoop]:
    """The loop opened at ``p`` (its end at ``end``, ``refs`` the branches to it) as a
    swap or copy of two byte ranges (see the module doc), or None."""
    if end - p > MAX_BODY or body[p].imm is not None:
        return None
    # (below: a loop ``while (++i < n)`` is a slice too: the slice version runs only when
    # 0 < n - i at entry, where it counts as ``i != n`` would.)
    counted = counted_loop(body, p, end, refs, local_types, below=True)
    if counted is None:
        return None
    stack: List[Value] = []
    cur: Dict[int, Value] = {}          # locals assigned so far in the iteration
    entry_reads = set()                 # locals read before any assignment
    touched: Dict[Tuple[int, ...], set] = {}    # base -> bytes d accessed
    stored: Dict[Tuple[Tuple[int, ...], int], Tuple[Tuple[int, ...], int]] = {}
    for i in range(p + 1, end):
        ins = body[i]
        op = ins.op
        if op == "local.get":
            v = cur.get(ins.imm)
            if v is None:
                if local_types[ins.imm] != "i32":
                    return None
                entry_reads.add(ins.imm)
                v = ("form", (ins.imm,), 0)
            stack.append(v)
        elif op == "local.set" or op == "local.tee":
            if not stack:
                return None
            v = stack.pop() if op == "local.set" else stack[-1]
            vt = "i64" if v[0] == "word" and v[3] == 8 else "i32"
            if v[0] == "test" or local_types[ins.imm] != vt:
                return None
            cur[ins.imm] = v
        elif op == "i32.const":
            stack.append(("const", ins.imm % _M))
        elif op == "i32.add" or op == "i32.sub":
            if len(stack) < 2:
                return None
            b, a = stack.pop(), stack.pop()
            if op == "i32.sub":
                if b[0] != "const":
                    return None
                b = ("const", -b[1] % _M)
            r = _add(a, b)
            if r is None:
                return None
            stack.append(r)
        elif op in _TESTS:
            if len(stack) < 2 or stack.pop()[0] not in ("form", "const") \
                    or stack.pop()[0] not in ("form", "const"):
                return None
            stack.append(("test",))
        elif op in _LOADS or op in _STORES:
            width = _LOADS.get(op) or _STORES[op]
            _, offset, memidx = ins.imm
            if memidx != 0 or len(stack) < (1 if op in _LOADS else 2):
                return None
            v = stack.pop() if op in _STORES else None
            a = stack.pop()
            if a[0] != "form" or not a[1]:
                return None
            base, d = a[1], a[2] + offset
            if any((base, d + j) in stored for j in range(width)):
                return None     # a byte read or written again in the iteration
            touched.setdefault(base, set()).update(range(d, d + width))
            if v is None:
                stack.append(("word", base, d, width))
                continue
            if v[0] != "word" or v[3] != width:
                return None
            for j in range(width):
                stored[(base, d + j)] = (v[1], v[2] + j)
        elif op == "br_if" and i == end - 1 and ins.imm == 0:
            if len(stack) != 1:
                return None
            stack.pop()
        elif op != "nop":
            return None
    if stack:
        return None
    steps: Dict[int, int] = {}
    for x in entry_reads:
        v = cur.get(x)
        if v is None:
            continue        # invariant
        if v[0] != "form" or v[1] != (x,) or v[2] == 0:
            return None     # assigned in the loop, but not an induction variable
        steps[x] = v[2]
    x, c, _ = counted
    if steps.get(x) != c % _M:
        return None
    if len(touched) != 2:
        return None
    bases = sorted(touched)
    first: Dict[Tuple[int, ...], int] = {}
    stride = 0
    for base in bases:
        advance = sum(steps.get(y, 0) for y in base) % _M
        d = touched[base]
        d0 = min(d)
        if advance != len(d) or d != set(range(d0, d0 + advance)) or advance > MAX_STRIDE:
            return None
        if stride and advance != stride:
            return None
        stride = advance
        first[base] = d0
    written = {base for base, _ in stored}
    if len(written) == 2:
        swap = True
        src, dst = bases
    elif len(written) == 1:
        swap = False
        (dst,) = written
        src = bases[0] if bases[1] == dst else bases[1]
    else:
        return None
    s0, t0 = first[src], first[dst]
    for j in range(stride):
        if stored.get((dst, t0 + j)) != (src, s0 + j):
            return None
        if swap and stored.get((src, s0 + j)) != (dst, t0 + j):
            return None
    if len(stored) != (2 if swap else 1) * stride:
        return None
    return SliceLoop(swap, (src, s0), (dst, t0), stride, counted, steps, cur)


class Liveness:
    """The locals live at each instruction of a function body (backward dataflow over
    its structured control; a bit mask per instruction), or nothing known (:attr:`live`
    None) when the body has control this does not model (exception handling, branches
    on references)."""

    def __init__(self, body: Sequence[Instr], end_of: Dict[int, int],
                 held: AbstractSet[int] = frozenset()) -> None:
        # held: the local.set instructions the translator leaves out (their local holds
        # the value already: intervals.Facts.held): no assignment.
        self.live: Optional[List[int]] = None
        self.rep: List[int] = []
        succ = _successors(body, end_of)
        if succ is None:
            return
        # Only the instructions that read or assign a local, or do not just fall into
        # the next, are nodes; any other has the liveness of the next node after it
        # (rep: that node; n: the function's end, where nothing is live).
        n = len(body)
        rep = list(range(n + 1))
        nodes: List[Tuple[int, int, int, List[int]]] = []   # (i, gen, keep, successors)
        full = -1
        for i in range(n - 1, -1, -1):
            ins = body[i]
            op = ins.op
            if op == "local.get":
                nodes.append((i, 1 << ins.imm, full, succ[i]))
            elif (op == "local.set" or op == "local.tee") and i not in held:
                nodes.append((i, 0, ~(1 << ins.imm), succ[i]))
            elif succ[i] != [i + 1]:
                nodes.append((i, 0, full, succ[i]))
            else:
                rep[i] = rep[i + 1]
        nodes = [(i, gen, keep, [rep[s] for s in ss]) for i, gen, keep, ss in nodes]
        live = [0] * (n + 1)
        changed = True
        while changed:
            changed = False
            for i, gen, keep, ss in nodes:
                out = 0
                for s in ss:
                    out |= live[s]
                out = (out & keep) | gen
                if out != live[i]:
                    live[i] = out
                    changed = True
        self.live = live
        self.rep = rep

    def at_entry(self) -> Optional[int]:
        """The locals live at the function's entry: read before any assignment on some
        path (None: unknown)."""
        if self.live is None:
            return None
        return self.live[self.rep[0]] if self.rep else 0

    def after(self, end: int) -> Optional[int]:
        """The locals live after the instruction ``end`` (a loop's end, reached only by
        falling through)."""
        if self.live is None:
            return None
        return self.live[self.rep[end]]


_NO_SUCCESSOR = frozenset(("return", "unreachable", "throw", "throw_ref", "return_call",
                           "return_call_indirect", "return_call_ref"))
_UNMODELLED = frozenset(("try_table", "br_on_null", "br_on_non_null", "br_on_cast",
                         "br_on_cast_fail"))


def _successors(body: Sequence[Instr], end_of: Dict[int, int]) -> Optional[List[List[int]]]:
    """Each instruction's successors (indexes; none: the function is left), or None."""
    n = len(body)
    else_of: Dict[int, int] = {}
    opener_of: Dict[int, int] = {}
    ctrl: List[int] = []
    for i, ins in enumerate(body):
        if ins.op in _UNMODELLED:
            return None
        if ins.op in BLOCK_OPENERS:
            ctrl.append(i)
        elif ins.op == "else" and ctrl:
            else_of[ctrl[-1]] = i
            opener_of[i] = ctrl[-1]
        elif ins.op == "end" and ctrl:
            ctrl.pop()
    succ: List[List[int]] = []
    ctrl = []

    def target(d: int) -> List[int]:
        if d >= len(ctrl):
            return []           # the function's label: a return
        o = ctrl[-1 - d]
        return [o] if body[o].op == "loop" else [end_of.get(o, n - 1)]

    for i, ins in enumerate(body):
        op = ins.op
        nxt = [i + 1] if i + 1 < n else []
        if op in BLOCK_OPENERS:
            ctrl.append(i)
            if op == "if":
                e = else_of.get(i)
                nxt = nxt + [e + 1 if e is not None else end_of.get(i, n - 1)]
        elif op == "else":
            o = opener_of.get(i)
            nxt = [end_of.get(o, n - 1)] if o is not None else []
        elif op == "end":
            if ctrl:
                ctrl.pop()
        elif op == "br":
            nxt = target(ins.imm)
        elif op == "br_if":
            nxt = nxt + target(ins.imm)
        elif op == "br_table":
            labels, default = ins.imm
            nxt = []
            for d in set(labels) | {default}:
                nxt.extend(target(d))
        elif op in _NO_SUCCESSOR:
            nxt = []
        succ.append(nxt)
    return succ
