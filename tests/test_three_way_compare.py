"""Three-way comparisons: i32.sub of two strict comparisons of the same two values in
opposite directions, C's ``(x > y) - (x < y)``, which CPython's shapes write as
``4294967295 if (x < y) else (1 if (x > y) else 0)`` (ops_numeric._three_way_shape).
Every form of the idiom (both orders, gt against gt swapped, signed and unsigned, i32
and i64 operands, a literal on one side) against the spec's definition computed here,
at the edges of the ranges; and the pairs that look alike but are not exclusive (the
same direction twice, non-strict, different operands, mixed signedness, an operand
reassigned between the two comparisons) keep the plain subtraction and its results."""
from __future__ import annotations

import itertools
from typing import Callable, Dict, List, Tuple

import pytest

from compile_helpers import instance
from purewasm.compile.entries import CPYTHON_SHAPES

M32 = (1 << 32) - 1


def _signed(x: int, w: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


def _cmp(op: str, a: int, b: int, w: int) -> int:
    if op.endswith("_s"):
        a, b = _signed(a, w), _signed(b, w)
    return int({"lt": a < b, "gt": a > b, "le": a <= b, "ge": a >= b}[op[:2]])


def _edges(w: int) -> List[int]:
    h, m = 1 << (w - 1), 1 << w
    return [0, 1, 2, h - 2, h - 1, h, h + 1, m - 2, m - 1, 0x1234 << (w - 16)]


# name -> (the body's two comparisons as (op, left, right) over "x", "y", "z" or a
# literal, whether the shape applies). The function's params are x y z.
Form = Tuple[Tuple[str, str, str], Tuple[str, str, str], bool]


def _forms(sg: str) -> Dict[str, Form]:
    lt, gt, le, ge = ("lt_" + sg, "gt_" + sg, "le_" + sg, "ge_" + sg)
    other = "lt_u" if sg == "s" else "lt_s"
    return {
        "gt_lt": ((gt, "x", "y"), (lt, "x", "y"), True),
        "lt_gt": ((lt, "x", "y"), (gt, "x", "y"), True),
        "gt_gt_swapped": ((gt, "x", "y"), (gt, "y", "x"), True),
        "lt_lt_swapped": ((lt, "y", "x"), (lt, "x", "y"), True),
        "literal": ((gt, "x", "5"), (lt, "x", "5"), True),
        "literal_left": ((lt, "5", "x"), (gt, "5", "x"), True),
        "same_twice": ((gt, "x", "y"), (gt, "x", "y"), False),
        "non_strict": ((ge, "x", "y"), (le, "x", "y"), False),
        "strict_non_strict": ((gt, "x", "y"), (le, "x", "y"), False),
        "other_operand": ((gt, "x", "y"), (lt, "x", "z"), False),
        "mixed_signedness": ((gt, "x", "y"), (other, "x", "y"), False),
    }


def _operand(v: str, t: str) -> str:
    return "(local.get $%s)" % v if v.isalpha() else "(%s.const %s)" % (t, v)


def _func(name: str, t: str, form: Form) -> str:
    (op1, a1, b1), (op2, a2, b2), _ = form
    return ("(func (export \"%s\") (param $x %s) (param $y %s) (param $z %s) (result i32)\n"
            "  (i32.sub (%s.%s %s %s) (%s.%s %s %s)))"
            % (name, t, t, t, t, op1, _operand(a1, t), _operand(b1, t),
               t, op2, _operand(a2, t), _operand(b2, t)))


@pytest.mark.parametrize("w", [32, 64])
@pytest.mark.parametrize("sg", ["u", "s"])
@pytest.mark.parametrize("mode", [None, "flat"])
def test_three_way_comparisons_against_the_spec(w: int, sg: str, mode: object) -> None:
    t = "i%d" % w
    forms = _forms(sg)
    inst = instance("(module %s)" % "\n".join(_func(n, t, f) for n, f in forms.items()),
                    mode=mode)
    edges = _edges(w)
    values = {"5": 5}
    for index, (name, form) in enumerate(forms.items()):
        src = inst.compiled.source(index)
        # The shape is used exactly where the two comparisons exclude each other.
        assert ("%d if" % M32 in src) == (form[2] and CPYTHON_SHAPES), (name, src)
        f: Callable[..., int] = inst.func(name)
        for x, y in itertools.product(edges, repeat=2):
            z = edges[(edges.index(x) + 3) % len(edges)]
            values.update(x=x, y=y, z=z)
            (op1, a1, b1), (op2, a2, b2), _ = form
            want = (_cmp(op1, values[a1], values[b1], w)
                    - _cmp(op2, values[a2], values[b2], w)) & M32
            assert f(x, y, z) == want, (name, x, y, z)


@pytest.mark.parametrize("mode", [None, "flat"])
def test_an_operand_reassigned_between_the_comparisons(mode: object) -> None:
    """x > y is read before x changes (its entry is materialised by the local.set), so
    x < y afterwards compares another x: both may hold, and the shape must not apply."""
    inst = instance("""(module
      (func (export "f") (param $x i32) (param $y i32) (result i32)
        (i32.sub (i32.gt_u (local.get $x) (local.get $y))
                 (block (result i32)
                   (local.set $x (i32.const 0))
                   (i32.lt_u (local.get $x) (local.get $y)))))
      (func (export "tee") (param $x i32) (param $y i32) (result i32)
        (i32.sub (i32.gt_u (local.get $x) (local.get $y))
                 (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 1)))
                           (local.get $y)))))""", mode=mode)
    f, tee = inst.func("f"), inst.func("tee")
    for x, y in itertools.product(_edges(32), repeat=2):
        assert f(x, y) == (int(x > y) - int(0 < y)) & M32, (x, y)
        x1 = (x + 1) & M32
        assert tee(x, y) == (int(x > y) - int(x1 < y)) & M32, (x, y)


def test_a_three_way_result_used_as_an_operand() -> None:
    """The conditional is parenthesised where an operator takes it (and it is a
    canonical i32: an unsigned shift and a signed comparison of it are right)."""
    inst = instance("""(module
      (func (export "shr") (param $x i32) (param $y i32) (result i32)
        (i32.shr_u (i32.sub (i32.gt_s (local.get $x) (local.get $y))
                            (i32.lt_s (local.get $x) (local.get $y))) (i32.const 31)))
      (func (export "neg") (param $x i64) (param $y i64) (result i32)
        (i32.lt_s (i32.add (i32.sub (i64.gt_u (local.get $x) (local.get $y))
                                    (i64.lt_u (local.get $x) (local.get $y)))
                           (i32.const 0)) (i32.const 0))))""")
    shr, neg = inst.func("shr"), inst.func("neg")
    for x, y in itertools.product(_edges(32), repeat=2):
        assert shr(x, y) == int(_signed(x, 32) < _signed(y, 32)), (x, y)
    for x, y in itertools.product(_edges(64), repeat=2):
        assert neg(x, y) == int(x < y), (x, y)
