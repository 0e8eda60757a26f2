"""Handlers of the parametric, variable, constant and reference instructions."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict

from purewasm.numeric import f32_from_bits, f64_from_bits
from purewasm.syntax import Instr

from . import names
from .entries import _WIDTH, CPYTHON_SHAPES
from .ranges import address_like
from .registry import handles
from .stack import V, _p

if TYPE_CHECKING:
    from .translate import Translator


@handles("drop")
def drop(t: Translator, ins: Instr) -> None:
    t.pop()


@handles("select", "select_t")
def select(t: Translator, ins: Instr) -> None:
    t.shallow(3)
    c = t.pop()
    b = t.pop()
    a = t.pop()
    cond = _p(c) if c.isbool else t.pcx(c)
    # The result is a bool only when both operands are: a single bool operand becomes
    # an int here, so the flag never hides an unmasked int operand from cx().
    both = a.isbool and b.isbool
    ea = _p(a) if both or not a.isbool else t.pcx(a)
    eb = _p(b) if both or not b.isbool else t.pcx(b)
    t.pure("%s if %s else %s" % (ea, cond, eb), a.t, (a, b, c),
           canon=a.canon and b.canon, bits=max(a.bits, b.bits), isbool=both)


# What an i32 rotation by a constant reads (ops_numeric): x * (2**32 + 1), or its pair.
_LOCAL = re.compile(r"^l\d+$")
_ROTATED = re.compile(r" \* 4294967297\)|\b_r\d+\b")


@handles("local.get")
def local_get(t: Translator, ins: Instr) -> None:
    i = ins.imm
    lt = t.local_types[i]
    v = V.variable("l%d" % i, lt)
    if CPYTHON_SHAPES and lt in _WIDTH:
        # A narrower bound where one is known here (ranges.LocalBits).
        v.bits = t.local_bits.get(i, v.bits)
        known = t.intervals.locals.get(t.pc)
        if known is not None:
            # Bounds that hold here on every path (intervals.py).
            v.bits = min(v.bits, max(known[1].bit_length(), 1))
    t.push(v)


@handles("local.set")
def local_set(t: Translator, ins: Instr) -> None:
    v = t.pop()
    idx = ins.imm
    name = "l%d" % idx
    if v.e == name:
        return
    if t.pc in t.intervals.held and (v.e.isdigit() or _LOCAL.match(v.e) is not None):
        # The local holds this value already on every path here (intervals.Facts.held;
        # an atom: dropping it drops no effect). A constant stays known (LocalBits).
        if v.e.isdigit() and v.t in _WIDTH:
            t.local_bits.assign(idx, int(v.e).bit_length(), _WIDTH[v.t], int(v.e))
        return
    t.protect(name)
    t.doubled.pop(name, None)
    if t.view_loop is not None:
        t.view_loop.assigned(idx, v)
    if CPYTHON_SHAPES and v.t in _WIDTH:
        # Assigned canonical below: a bound on the value's bits holds for the local.
        exact = None
        if v.isbool:
            bits = 1
        elif v.atom and v.e.isdigit():
            exact = int(v.e)
            bits = exact.bit_length()
        else:
            bits = v.bits if v.canon else _WIDTH[v.t]
        t.local_bits.assign(idx, bits, _WIDTH[v.t], exact)
        if not v.canon and not v.near and (
                _ROTATED.search(v.e) is not None
                or (v.bits > _WIDTH[v.t] + 8 and "*" not in v.e)):
            # A rotation's value (ops_numeric: by a product by 2**32 + 1, or a pair), or
            # far wider than a sum of addresses or a scaled index and not an index times
            # a size: a hash's (ranges.LocalBits.scrambled).
            t.local_bits.scrambled.add(idx)
    last = t.last_effect
    if (last is not None and v.slot == len(t.stack) and v.canon
            and t.lines and t.lines[-1] is last[0] and last[1] == v.slot):
        # "s3 = <load/call>" then "l2 = s3": assign the local in the first place (the
        # slot's value was just produced on this path and nothing else reads it; the
        # translator forgets last_effect wherever paths join, see translate._JOINS).
        t.lines[-1] = (t.lines[-1][0], "%s = %s" % (name, last[2]), t.lines[-1][2])
        t.last_effect = None
        return
    # A pointer (read as an address somewhere) is most likely in range already: "near".
    t.emit("%s = %s" % (name, t.cx(v, near=idx in t.pointer_locals and address_like(v.e))))


@handles("local.tee")
def local_tee(t: Translator, ins: Instr) -> None:
    local_set(t, ins)
    local_get(t, ins)


@handles("global.get")
def global_get(t: Translator, ins: Instr) -> None:
    i = ins.imm
    gt = t.global_types[i]
    if gt.mutable:
        cell = names.GLOBAL_CELL % i
        t.push(V.variable(cell + ".value", gt.content,
                          frozenset((cell, names.ANY_GLOBAL))))
    else:
        t.push(V.constant(names.GLOBAL_CONST % i, gt.content))


@handles("global.set")
def global_set(t: Translator, ins: Instr) -> None:
    v = t.pop()
    cell = names.GLOBAL_CELL % ins.imm
    t.protect(cell)
    t.emit("%s.value = %s" % (cell, t.cx(v)))


@handles("i32.const", "i64.const")
def int_const(t: Translator, ins: Instr) -> None:
    v = V.constant(str(ins.imm), ins.op[:3])
    if CPYTHON_SHAPES:
        v.bits = max(ins.imm.bit_length(), 1)   # a tighter bound (ranges.py)
    t.push(v)


def float_literal(value: float, name: str, consts: Dict[str, float], t: str) -> V:
    """An entry for a float constant (exact: repr round-trips every finite double);
    values with no literal (NaN, inf) are bound in the namespace as ``name``."""
    if value != value or value in (float("inf"), float("-inf")):
        consts[name] = value
        return V.constant(name, t)
    r = repr(value)
    return V.constant(r, t, atom=not r.startswith("-"))


@handles("f32.const")
def f32_const(t: Translator, ins: Instr) -> None:
    t.push(float_literal(f32_from_bits(ins.imm), "F32K_%08x" % ins.imm, t.consts, "f32"))


@handles("f64.const")
def f64_const(t: Translator, ins: Instr) -> None:
    t.push(float_literal(f64_from_bits(ins.imm), "F64K_%016x" % ins.imm, t.consts, "f64"))


@handles("ref.null")
def ref_null(t: Translator, ins: Instr) -> None:
    t.push(V.constant("None", ins.imm))


@handles("ref.is_null")
def ref_is_null(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.pure("%s is None" % _p(v), "i32", (v,), isbool=True, bits=1)


@handles("ref.func")
def ref_func(t: Translator, ins: Instr) -> None:
    t.push(V.constant(names.FUNC_REF % ins.imm, "funcref"))
