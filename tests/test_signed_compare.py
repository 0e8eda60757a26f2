"""Signed comparisons (lt_s, gt_s, le_s, ge_s) against the spec's definition, for every
shape the translator writes them in: against a literal on either side (CPython compares
the unsigned value with bounds instead of flipping sign bits, ops_numeric.
_signed_compare_shape), with a name or a computed value as the other side, between two
narrow values, and between two arbitrary values. Expected results are computed here,
independently of the translator, at the edges of the signed range."""
from __future__ import annotations

import itertools

import pytest

from compile_helpers import instance

OPS = ("lt_s", "gt_s", "le_s", "ge_s")


def _signed(x: int, w: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


def _expected(op: str, a: int, b: int, w: int) -> int:
    sa, sb = _signed(a, w), _signed(b, w)
    return int({"lt_s": sa < sb, "gt_s": sa > sb, "le_s": sa <= sb, "ge_s": sa >= sb}[op])


def _edges(w: int) -> list:
    h, m = 1 << (w - 1), 1 << w
    return sorted({0, 1, 2, 3, 100, h - 2, h - 1, h, h + 1, h + 2, m - 3, m - 2, m - 1,
                   0x1234 << (w - 16), (0x9876 << (w - 16)) + 5})


@pytest.mark.parametrize("w", [32, 64])
@pytest.mark.parametrize("mode", [None, "flat"])
def test_signed_compares_with_literals_and_values(w: int, mode: object) -> None:
    t = "i%d" % w
    edges = _edges(w)
    funcs = []
    # Per op and literal C: x OP C and C OP x with x a local (a name) and with x a sum
    # (a computed value: read once); and x OP y of two locals.
    for op in OPS:
        for i, c in enumerate(edges):
            for side in ("r", "l"):
                for kind in ("name", "sum"):
                    x = "(local.get 0)" if kind == "name" else \
                        "(%s.add (local.get 0) (%s.const 0))" % (t, t)
                    lit = "(%s.const %d)" % (t, c)
                    args = (x, lit) if side == "r" else (lit, x)
                    funcs.append((op, c, side, kind,
                                  "(func (export \"%s_%d_%s_%s\") (param %s) (result i32) "
                                  "(%s.%s %s %s))" % (op, i, side, kind, t, t, op, *args)))
        funcs.append((op, None, "", "vars",
                       "(func (export \"%s_vars\") (param %s %s) (result i32) "
                       "(%s.%s (local.get 0) (local.get 1)))" % (op, t, t, t, op)))
        # A value in a slot (a call's result) against a local, and a computed value
        # against a local.
        funcs.append((op, None, "", "slot",
                      "(func $id_%s (param %s) (result %s) (local.get 0))\n"
                      "(func (export \"%s_slot\") (param %s %s) (result i32) "
                      "(%s.%s (call $id_%s (local.get 0)) (local.get 1)))"
                      % (op, t, t, op, t, t, t, op, op)))
        funcs.append((op, None, "", "computed",
                      "(func (export \"%s_computed\") (param %s %s) (result i32) "
                      "(%s.%s (local.get 1) (%s.add (local.get 0) (%s.const 0))))"
                      % (op, t, t, t, op, t, t)))
        # Two narrow values (bytes of the operands): both non-negative as signed.
        funcs.append((op, None, "", "narrow",
                      "(func (export \"%s_narrow\") (param %s %s) (result i32) "
                      "(%s.%s (%s.and (local.get 0) (%s.const 255)) "
                      "(%s.and (local.get 1) (%s.const 255))))" % (op, t, t, t, op, t, t, t, t)))
    inst = instance("(module %s)" % "\n".join(f[-1] for f in funcs), mode=mode)
    for op, c, side, kind, _ in funcs:
        if c is not None:
            f = inst.func("%s_%d_%s_%s" % (op, edges.index(c), side, kind))
            for x in edges:
                want = _expected(op, x, c, w) if side == "r" else _expected(op, c, x, w)
                assert f(x) == want, (op, c, side, kind, x)
        else:
            f = inst.func("%s_%s" % (op, kind))
            for x, y in itertools.product(edges, repeat=2):
                if kind == "narrow":
                    want = _expected(op, x & 255, y & 255, w)
                elif kind == "computed":
                    want = _expected(op, y, x, w)
                else:
                    want = _expected(op, x, y, w)
                assert f(x, y) == want, (op, kind, x, y)
