"""Handlers of the numeric instructions (integer and float operators, conversions),
generated from small tables: see stack.py for the entries they combine and when a value
is masked."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, AbstractSet, Dict, List, Optional, Sequence, Set, Tuple

from purewasm.syntax import Instr

from .entries import _MASK, _SIGN, _WIDTH, CPYTHON_SHAPES, M32, Handler, UnsupportedError
from .registry import register
from .stack import V, _p

if TYPE_CHECKING:
    from .translate import Translator


_FLIPPED = {"lt_s": "gt_s", "gt_s": "lt_s", "le_s": "ge_s", "ge_s": "le_s"}


def _is_literal(v: V) -> bool:
    return v.atom and not v.deps and v.e.isdigit()


def _is_name(v: V) -> bool:
    """A canonical value that is a plain name (a local, a slot) or literal: cheap to read
    more than once."""
    return v.atom and v.canon and not v.isbool and v.e.replace("_", "").isalnum()


def _signed_compare_shape(t: Translator, name: str, a: V, b: V, w: int) -> Optional[str]:
    """A signed comparison (lt_s/gt_s/le_s/ge_s, width ``w``) in a cheaper CPython shape
    than flipping both sign bits, or None. Flipping builds a new int per side (and one
    of 2**31 or more is allocated); comparing the unsigned value against bounds does
    not: 10-20 ns less per comparison on CPython 3.9-3.13 (docs/benchmarks.md, session
    6). The value x is canonical, so its signed value is negative exactly when
    x >= H = 2**(w-1).

    * Both sides canonical and narrower than w bits (non-negative as signed): the
      unsigned comparison is the signed one.
    * One side a literal C: x <s C is ``not (C <= x < H)`` when C < H (C non-negative),
      ``H <= x < C`` when C >= H (C negative); the other three likewise. A chained
      comparison reads x once; when x is a name, two comparisons joined by ``or``
      replace the negated chain (a little faster again)."""
    sym = {"lt_s": "<", "gt_s": ">", "le_s": "<=", "ge_s": ">="}
    if a.canon and b.canon and a.bits < w and b.bits < w and not a.isbool and not b.isbool:
        return "%s %s %s" % (_p(a), sym[name], _p(b))
    h = 1 << (w - 1)
    if _is_literal(a) and not _is_literal(b):
        a, b, name = b, a, _FLIPPED[name]
    if not _is_literal(b):
        if _is_name(a) and _is_name(b):
            # Same sign bit: the unsigned order is the signed one; different: the one
            # with the bit set is the smaller. One xor of the two (small when both are)
            # instead of two xors with 2**(w-1) (always large).
            op = sym[name]
            rev = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
            return "(%s %s %s) if (%s ^ %s) < %d else (%s %s %s)" % (
                a.e, op, b.e, a.e, b.e, h, a.e, rev, b.e)
        return None
    c = int(b.e)
    x = t.pcx(a)
    simple = a.atom and a.canon and not a.isbool    # x is a name: cheap to read twice
    if c < h:
        # x <s C: x < C or x >= H;  x <=s C: x <= C or x >= H;
        # x >s C: C < x < H;        x >=s C: C <= x < H.
        if name == "lt_s" and c == 0:
            return "%s >= %d" % (x, h)
        if name == "ge_s" and c == 0:
            return "%s < %d" % (x, h)
        if name in ("gt_s", "ge_s"):
            return "%d %s %s < %d" % (c, "<" if name == "gt_s" else "<=", x, h)
        op = "<" if name == "lt_s" else "<="
        if simple:
            return "%s %s %d or %s >= %d" % (x, op, c, x, h)
        return "not (%d %s %s < %d)" % (c, "<=" if name == "lt_s" else "<", x, h)
    # C >= H: a negative constant (-1 is the common one: x >s -1 is x >= 0).
    if c == 2 * h - 1 and name in ("gt_s", "le_s"):
        return "%s %s %d" % (x, "<" if name == "gt_s" else ">=", h)
    # x <s C: H <= x < C;          x <=s C: H <= x <= C;
    # x >s C: x > C or x < H;      x >=s C: x >= C or x < H.
    if name in ("lt_s", "le_s"):
        return "%d <= %s %s %d" % (h, x, "<" if name == "lt_s" else "<=", c)
    op = ">" if name == "gt_s" else ">="
    if simple:
        return "%s %s %d or %s < %d" % (x, op, c, x, h)
    return "not (%d <= %s %s %d)" % (h, x, "<=" if name == "gt_s" else "<", c)


def _strict_order(t: str, name: str, a: V, b: V) -> Optional[Tuple[str, str, str]]:
    """What a strict comparison ``a name b`` (lt/gt, signed or not) says, as
    ``V.order``: (kind, smaller, larger); None for another comparison or when an
    operand is not a name or literal (only those are known to read the same value in a
    second comparison: a pending entry reading a local is materialised before the local
    changes, which drops its ``order``)."""
    if name[:2] not in ("lt", "gt") or not (_is_name(a) and _is_name(b)):
        return None
    kind = name[3] + t[1:]
    return (kind, a.e, b.e) if name[:2] == "lt" else (kind, b.e, a.e)


def _three_way_shape(a: V, b: V) -> Optional[str]:
    """i32.sub of two strict comparisons of the same two values in opposite directions,
    C's three-way comparison ``(x > y) - (x < y)`` (qsort comparators, memcmp-like
    code): at most one of them holds, so the difference is -1, 0 or 1, written as
    conditionals instead of a subtraction of two bools (which leaves CPython's int fast
    path) masked to 32 bits: 20-50 ns less per comparison on CPython 3.9-3.13
    (docs/benchmarks.md, session 7). The inner one tests its comparison (a jump: no bool
    made, none to convert with ``+``)."""
    if a.order is None or b.order is None:
        return None
    kind, small, large = a.order
    if b.order != (kind, large, small):
        return None
    return "%d if %s else (1 if %s else 0)" % (M32, _p(b), _p(a))


def _complemented(v: V, w: int) -> Optional[str]:
    """The operand ``x`` (as written) when ``v`` is the canonical ``x ^ (2**w - 1)``
    the xor handler writes (``_p(x) ^ mask`` or ``mask ^ _p(x)``: a name, literal or
    parenthesised group beside the top-level ``^``), else None."""
    mask = "%d" % ((1 << w) - 1)
    if not v.canon or v.isbool:
        return None
    if v.e.endswith(" ^ " + mask):
        x = v.e[:-len(mask) - 3]
    elif v.e.startswith(mask + " ^ "):
        x = v.e[len(mask) + 3:]
    else:
        return None
    if _WORD.match(x) is not None:
        return x
    if not (x.startswith("(") and x.endswith(")")):
        return None
    depth = 0
    for i, ch in enumerate(x):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(x) - 1:
                return None     # "(a) + (b)": the outer parentheses are not one group
    return x


_WORD = re.compile(r"^\w+$")


def _proven_bound(t: Translator, a: V, b: V, op: str, w: int) -> int:
    """The largest value of ``a op b`` (op ``+ - * <<``, operands canonical, b as
    written: a literal stands for itself) when intervals.py proves it within
    [0, 2**w) on every path: the expression is canonical as it is. -1 otherwise."""
    if not (a.canon and b.canon) or a.isbool or b.isbool:
        return -1
    f = t.intervals.operands.get(t.pc)
    if f is None:
        return -1
    alo, ahi, blo, bhi = f
    if _is_literal(b):
        blo = bhi = int(b.e)
    if op == "+":
        lo, hi = alo + blo, ahi + bhi
    elif op == "-":
        lo, hi = alo - bhi, ahi - blo
    elif op == "*":
        lo, hi = alo * blo, ahi * bhi
    else:
        lo, hi = alo << blo, ahi << bhi
    return hi if 0 <= lo and hi >> w == 0 else -1


# The product of two canonical locals or slots (an index times a size), as mul emits it.
_INDEX_TIMES_SIZE = re.compile(r"\A\(?[ls]\d+ \* [ls]\d+\)?\Z")
_VARIABLE = re.compile(r"\Al\d+\Z")


def _scrambled(t: Translator, v: V) -> bool:
    """Whether v is a local just assigned a hash-like value (ranges.LocalBits)."""
    e = v.e
    return e[:1] == "l" and e[1:].isdigit() and int(e[1:]) in t.local_bits.scrambled


def _int_binop(t: str, name: str) -> Handler:  # noqa: C901 - one case per operator
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
        if name == "sub" and CPYTHON_SHAPES:
            shape = _three_way_shape(a, b)
            if shape is not None:
                self.pure(shape, t, (a, b), bits=w)
                return
        if name in ("add", "sub"):
            bits = max(a.bits, b.bits) + 1
            op = sym
            if b.atom and not b.deps and b.e.isdigit() and int(b.e) >= signconst:
                # x + 0xFFFFFFFE is x - 2 modulo 2**w: a small constant keeps CPython's
                # arithmetic on small ints.
                b = V.constant(str((1 << w) - int(b.e)), t)
                op = "-" if name == "add" else "+"
            # Sums of products (2w bits) stay unmasked; beyond, operands are masked.
            if bits > 2 * w + 16:
                e = "%s %s %s" % (self.pcx(a), op, self.pcx(b))
                bits = w + 1
            else:
                e = "%s %s %s" % (_p(a), op, _p(b))
            # Two canonical values narrower than w bits: their sum fits (ranges.py).
            canon = (CPYTHON_SHAPES and op == "+" and a.canon and b.canon and bits <= w)
            if (not canon and CPYTHON_SHAPES and op == "+" and w == 32 and a.atom
                    and a.e[:1] == "l" and a.e[1:].isdigit() and b.atom and not b.deps
                    and b.e.isdigit()
                    and self.local_bits.sum_fits(int(a.e[1:]), int(b.e))):
                # A pointer just accessed plus a small constant (ranges.py, "Accessed
                # pointers").
                canon = True
                bits = w
            if not canon and CPYTHON_SHAPES:
                # Bounds on the operands on every path (intervals.py).
                hi = _proven_bound(self, a, b, op or "", w)
                if hi >= 0:
                    canon = True
                    bits = max(hi.bit_length(), 1)
            self.pure(e, t, (a, b), canon=canon, bits=bits)
            # A canonical value plus or minus a constant: a counter, a pointer. Or the sum
            # of two canonical values: sizes, offsets, counts and sums of results seldom
            # wrap (see cx for the costs), unless one is a hash's (ranges.LocalBits
            # .scrambled; a sum of products is not canonical).
            # So is a value plus the product of two variables: an element's address
            # (base + index * size; a hash multiplies by a constant). And any difference
            # from a canonical value (or one most likely in range: Lua's ``base + (a <<
            # 4) - 16``): below 2**w, it is reduced only when negative, where
            # ``%`` costs no more than ``&`` either (callgrind, CPython 3.9/3.11/3.13:
            # 8-20% fewer instructions than ``&`` on 3.11/3.13 when it reduces, the same
            # on 3.9; docs/benchmarks.md, session 11). And a count: a value plus a
            # comparison's result (0 or 1).
            self.stack[-1].near = ((a.canon and not a.isbool and not b.deps and b.atom
                                    and b.e.isdigit())
                                   or (op == "-" and (a.canon or a.near) and not a.isbool)
                                   or (op == "+" and a.canon and b.isbool)
                                   or (op == "+" and a.isbool and b.canon)
                                   or (op == "+" and a.canon and b.canon and not a.isbool
                                       and not b.isbool and not _scrambled(self, a)
                                       and not _scrambled(self, b))
                                   or (op == "+" and a.canon and not a.isbool
                                       and _INDEX_TIMES_SIZE.match(b.e) is not None)
                                   or (op == "+" and b.canon and not b.isbool
                                       and _INDEX_TIMES_SIZE.match(a.e) is not None))
        elif name == "mul":
            if CPYTHON_SHAPES and a.canon and b.canon and a.bits + b.bits <= w:
                # Narrow factors: the product fits (ranges.py).
                self.pure("%s * %s" % (_p(a), _p(b)), t, (a, b), bits=max(a.bits + b.bits, 1))
                return
            hi = _proven_bound(self, a, b, "*", w) if CPYTHON_SHAPES else -1
            if hi >= 0:
                # Bounded factors (intervals.py): the product fits.
                self.pure("%s * %s" % (_p(a), _p(b)), t, (a, b), bits=max(hi.bit_length(), 1))
                return
            self.pure("%s * %s" % (self.pcx(a), self.pcx(b)), t, (a, b), canon=False,
                      bits=2 * w)
            # The product of two locals: an index times a size, seldom wrapping (a hash
            # multiplies by a constant; values just loaded, the vm kernel's operands,
            # often wrap: 0.991x there with slots too; see cx for the costs).
            self.stack[-1].near = (CPYTHON_SHAPES and a.canon and b.canon
                                   and _VARIABLE.match(a.e) is not None
                                   and _VARIABLE.match(b.e) is not None
                                   and not _scrambled(self, a) and not _scrambled(self, b))
        elif name == "and":
            # bool & bool (likewise | and ^) is a bool in Python: keep the flag.
            canon = a.canon or b.canon
            bits = w if canon else max(a.bits, b.bits)
            for x in (a, b):
                # A canonical operand bounds the result (a narrow store of it needs no
                # mask).
                if x.canon and x.bits < bits:
                    bits = x.bits
                if x.atom and not x.deps and x.e.isdigit():
                    bits = min(bits, int(x.e).bit_length())
            self.pure("%s & %s" % (_p(a), _p(b)), t, (a, b), canon=canon,
                      bits=max(bits, 1), isbool=a.isbool and b.isbool)
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
                # A narrow canonical value shifted within w bits stays canonical.
                canon = CPYTHON_SHAPES and a.canon and not a.isbool and abits + k <= w
                bits = abits + k
                if not canon and CPYTHON_SHAPES:
                    # A bounded value shifted within w bits (intervals.py).
                    hi = _proven_bound(self, a, V.constant(str(k), t), "<<", w)
                    if hi >= 0:
                        canon = True
                        bits = max(hi.bit_length(), 1)
                self.pure("%s << %d" % (aa, k), t, (a,), canon=canon, bits=bits)
        elif name in ("shr_u", "shr_s"):
            if b.atom and b.e.isdigit():
                count = str(int(b.e) & (w - 1))
                args: Tuple[V, ...] = (a,)
            else:
                count = "(%s & %d)" % (_p(b), w - 1)
                args = (a, b)
            if name == "shr_u":
                if CPYTHON_SHAPES and count == str(w - 1):
                    operand = _complemented(a, w)
                    if operand is not None:
                        # (x ^ -1) >>u (w-1): x >=s 0, LLVM's count of true comparisons
                        # (zig's block partition in the sort kernel): a comparison makes
                        # no int of 2**w - 1 - x (about half the instructions, 3.11).
                        self.pure("%s < %d" % (operand, 1 << (w - 1)), t, args,
                                  isbool=True, bits=1)
                        return
                self.pure("%s >> %s" % (self.pcx(a), count), t, args,
                          bits=max(w - int(count), 1) if count.isdigit() else w)
            else:
                self.pure("((%s ^ %s) - %s) >> %s" % (self.pcx(a), sign, sign, count), t, args,
                          canon=False, bits=w)
                # A signed value (as are the quotients and sign extensions below): in
                # range or negative, never past 2**w, where ``%`` costs less than ``&``
                # (see the differences above).
                self.stack[-1].near = True
        elif name in ("eq", "ne", "lt_u", "gt_u", "le_u", "ge_u"):
            self.pure("%s %s %s" % (self.pcx(a), sym, self.pcx(b)), "i32", (a, b),
                      isbool=True, bits=1)
            if CPYTHON_SHAPES:
                self.stack[-1].order = _strict_order(t, name, a, b)
        elif name in ("lt_s", "gt_s", "le_s", "ge_s"):
            if CPYTHON_SHAPES:
                shape = _signed_compare_shape(self, name, a, b, w)
                if shape is not None:
                    self.pure(shape, "i32", (a, b), isbool=True, bits=1)
                    self.stack[-1].order = _strict_order(t, name, a, b)
                    return
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
            # quotient truncates exactly: a/d rounded to double is within |a/d| * 2^-53
            # of the true quotient, less than 1/|d| (|a| <= 2^31), the least distance
            # from a non-integer quotient to an integer; fmod is exact and keeps the
            # dividend's sign (spec idiv_s / irem_s).
            d = int(b.e)
            d = d - (1 << 32) if d >> 31 else d
            sa = "(%s ^ %s) - %s" % (self.pcx(a), sign, sign)
            if name == "div_s":
                self.pure("int((%s) / %d)" % (sa, d), t, (a,), canon=False, bits=w)
            else:
                self.pure("int(fmod(%s, %d))" % (sa, d), t, (a,), canon=False, bits=w)
            self.stack[-1].near = True
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
            # Unmasked, like shl: the bits above w are garbage that the consumer masks
            # if it needs the canonical value (three rotations xor'ed and added, as in
            # SHA-256, are masked once).
            if CPYTHON_SHAPES and w == 32:
                # x * (2**32 + 1) is x | x << 32 (x < 2**32): the low 32 bits of it
                # shifted right by 32 - k are x rotated left by k. Two operations, x read
                # once, where (x << k) | (x >> (32 - k)) takes three and a name for x
                # (6-11 ns less on CPython 3.9-3.13).
                if (self.pc in self.doubled_rotations
                        and a.e == "l%d" % self.func.body[self.pc - 2].imm):
                    # One of several rotations of a local: the pair is computed once for
                    # them all (doubled_rotations).
                    pair = self.doubled.get(a.e)
                    if pair is None:
                        pair = "_r%d" % len(self.doubled_names)
                        self.doubled_names.append(pair)
                        self.emit("%s = %s * 4294967297" % (pair, a.e))
                        self.doubled[a.e] = pair
                    self.pure("%s >> %d" % (pair, w - k), t, (a,), canon=False,
                              bits=w + k)
                else:
                    self.pure("(%s * 4294967297) >> %d" % (self.pcx(a), w - k), t, (a,),
                              canon=False, bits=w + k)
                return
            # x is used twice: give it a name first (its slot) unless it is one.
            self.push(a)
            if not (a.canon and a.atom and (a.slot >= 0 or a.e.isidentifier())):
                self.flush(len(self.stack) - 1)
            a = self.pop()
            if CPYTHON_SHAPES:
                self.pure("(%s << %d) | (%s >> %d)" % (a.e, k, a.e, w - k), t, (a,),
                          canon=False, bits=w + k)
            else:
                self.pure("((%s << %d) | (%s >> %d)) & %s" % (a.e, k, a.e, w - k, _MASK[t]),
                          t, (a,))
        elif name in ("rotl", "rotr"):
            self.pure("%s%s(%s, %s)" % (name, sfx, self.cx(a), self.cx(b)), t, (a, b))
        else:  # pragma: no cover
            raise UnsupportedError(name)
    return op


_ROTATIONS = frozenset(("i32.rotl", "i32.rotr"))


def doubled_rotations(body: Sequence[Instr], region_ends: AbstractSet[str]) -> Set[int]:
    """The i32 rotations by a constant that are translated from a pair (CPython shapes).

    Hashes and ciphers rotate one value several times (SHA-256's ``ROR(e, 6) ^ ROR(e, 11)
    ^ ROR(e, 25)``): three Python operations per rotation. Where a local is rotated twice
    or more (``local.get``/``local.tee`` x, ``i32.const``, ``i32.rotl``/``rotr``) with no
    assignment to it and none of ``region_ends`` (the control instructions, where paths
    split or join) in between, those rotations read one pair ``_rN = x * 4294967297``
    (``x | x << 32``), computed at the first, and take one shift each. A single rotation
    is ``(x * 4294967297) >> (32 - k)`` in place (a pair would cost a statement more)."""
    chosen: Set[int] = set()
    groups: Dict[int, List[int]] = {}

    def close(x: int) -> None:
        pcs = groups.pop(x, None)
        if pcs is not None and len(pcs) > 1:
            chosen.update(pcs)

    for i, ins in enumerate(body):
        op = ins.op
        if op in ("local.set", "local.tee"):
            close(ins.imm)
        elif op in region_ends:
            for x in list(groups):
                close(x)
        elif (op in _ROTATIONS and i >= 2 and body[i - 1].op == "i32.const"
              and body[i - 2].op in ("local.get", "local.tee")):
            groups.setdefault(body[i - 2].imm, []).append(i)
    for x in list(groups):
        close(x)
    return chosen


def _int_unop(t: str, name: str) -> Handler:
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


def _sign_extend(t: str, frm: int) -> Handler:
    m = (1 << frm) - 1
    s = 1 << (frm - 1)

    def op(self: Translator, ins: Instr) -> None:
        self.shallow(1)
        a = self.pop()
        self.pure("((%s & %d) ^ %d) - %d" % (_p(a), m, s, s), t, (a,), canon=False, bits=frm)
        self.stack[-1].near = True      # signed: see shr_s
    return op


def _float_binop(t: str, name: str) -> Handler:
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


def _float_unop(t: str, name: str) -> Handler:
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
    "i32.wrap_i64": ("i32", "{p} & 0xFFFFFFFF", False, True),
    "i64.extend_i32_u": ("i64", "{c}", False, True),
    "i64.extend_i32_s": ("i64", "({pc} ^ 0x80000000) - 0x80000000", False, False),
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
    "f64.convert_i32_s": ("f64", "float(({pc} ^ 0x80000000) - 0x80000000)", False, True),
    "f64.convert_i32_u": ("f64", "float({c})", False, True),
    "f64.convert_i64_s": ("f64", "float(({pc} ^ 0x8000000000000000) - 0x8000000000000000)",
                          False, True),
    "f64.convert_i64_u": ("f64", "float({c})", False, True),
    "f64.promote_f32": ("f64", "promote({e})", False, True),
    "i32.reinterpret_f32": ("i32", "f32_to_bits({e})", False, True),
    "i64.reinterpret_f64": ("i64", "f64_to_bits({e})", False, True),
    "f32.reinterpret_i32": ("f32", "f32_from_bits({c})", False, True),
    "f64.reinterpret_i64": ("f64", "f64_from_bits({c})", False, True),
}


def _conversion(name: str) -> Handler:
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


def numeric_handlers() -> Dict[str, Handler]:
    """Instruction name -> handler for every instruction of this module."""
    d: Dict[str, Handler] = {}
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
    return d


for _name, _handler in numeric_handlers().items():
    register(_name, _handler)
