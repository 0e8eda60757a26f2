"""PyPy's shapes of i32 arithmetic (compile/ops_pypy.py): the same results as the plain
shapes, on every Python (the switch is turned on here whatever the interpreter), and on
PyPy every i32 result stays a machine-word int (the point of those shapes)."""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Callable, Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compile_helpers import instance  # noqa: E402

from purewasm.compile import support  # noqa: E402
from purewasm.compile import cache_key  # noqa: E402

M = 0xFFFFFFFF

# name -> (WAT body over params a b c (i32) and x (i64), reference model)
CASES: Dict[str, tuple] = {
    "mul": ("(i32.mul (local.get $a) (local.get $b))", lambda a, b, c, x: a * b),
    "sum_of_products": (
        "(i32.add (i32.mul (local.get $a) (local.get $b)) (i32.mul (local.get $c) (local.get $a)))",
        lambda a, b, c, x: a * b + c * a),
    "sub_of_products": (
        "(i32.sub (i32.mul (local.get $a) (local.get $a)) (i32.mul (local.get $b) (local.get $c)))",
        lambda a, b, c, x: a * a - b * c),
    "shl_sum": ("(i32.add (i32.shl (local.get $a) (i32.const 31)) "
                "(i32.shl (local.get $b) (i32.const 30)))",
                lambda a, b, c, x: (a << 31) + (b << 30)),
    "shl_of_shl": ("(i32.shl (i32.shl (i32.add (local.get $a) (local.get $b)) (i32.const 20)) "
                   "(i32.const 25))", lambda a, b, c, x: (a + b) << 45),
    "shl_var": ("(i32.shl (i32.add (local.get $a) (local.get $b)) (local.get $c))",
                lambda a, b, c, x: (a + b) << (c & 31)),
    "shl_var_of_shl": ("(i32.shl (i32.shl (local.get $a) (i32.const 17)) (local.get $c))",
                       lambda a, b, c, x: (a << 17) << (c & 31)),
    "long_sum": ("(i32.add (i32.add (i32.add (i32.mul (local.get $a) (local.get $b)) "
                 "(i32.shl (local.get $c) (i32.const 29))) (i32.sub (local.get $a) "
                 "(local.get $c))) (i32.mul (local.get $b) (local.get $b)))",
                 lambda a, b, c, x: a * b + (c << 29) + (a - c) + b * b),
    "rotl_mul": ("(i32.rotl (i32.mul (local.get $a) (local.get $b)) (i32.const 7))",
                 lambda a, b, c, x: (((a * b) & M) << 7 | ((a * b) & M) >> 25)),
    "mul_small_constant_sum": (
        "(i32.add (i32.mul (local.get $a) (i32.const 31)) (i32.mul (i32.const 0x7fffffff) "
        "(local.get $b)))", lambda a, b, c, x: a * 31 + 0x7FFFFFFF * b),
    "mul_small_constants_chain": (
        "(i32.mul (i32.add (i32.mul (local.get $a) (i32.const 31)) (local.get $b)) "
        "(i32.const 31))", lambda a, b, c, x: (a * 31 + b) * 31),
    "wrap": ("(i32.wrap_i64 (local.get $x))", lambda a, b, c, x: x),
    "wrap_mul": ("(i32.mul (i32.wrap_i64 (i64.mul (local.get $x) (local.get $x))) "
                 "(local.get $a))", lambda a, b, c, x: ((x * x) & M) * a),
    "wrap_shr": ("(i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 32)))",
                 lambda a, b, c, x: x >> 32),
}

WAT = "(module\n%s)" % "\n".join(
    '  (func (export "%s") (param $a i32) (param $b i32) (param $c i32) (param $x i64) '
    '(result i32)\n    %s)' % (name, body) for name, (body, _) in CASES.items())

rng = random.Random(12)
I32S = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, M, 0x12345678] + \
    [rng.getrandbits(32) for _ in range(6)]
I64S = [0, 1, M, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 0x0123456789ABCDEF] + \
    [rng.getrandbits(64) for _ in range(4)]


def _run_all(shapes: bool, monkeypatch: pytest.MonkeyPatch) -> Dict[str, List[int]]:
    monkeypatch.setattr(support, "PYPY_SHAPES", shapes)
    inst = instance(WAT)
    out: Dict[str, List[int]] = {}
    for name in CASES:
        fn: Callable[..., int] = inst.func(name)
        out[name] = [fn(a, b, c, x) for a, b, c, x in _args()]
    return out


def _args() -> List[tuple]:
    return [(a, b, I32S[(i + 3) % len(I32S)], I64S[i % len(I64S)])
            for i, a in enumerate(I32S) for b in I32S[::3]]


@pytest.mark.parametrize("shapes", [True, False])
def test_results_match_the_model(shapes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run_all(shapes, monkeypatch)
    for name, (_, model) in CASES.items():
        want = [model(a, b, c, x) & M for a, b, c, x in _args()]
        assert got[name] == want, name


def test_shapes_are_used_and_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "PYPY_SHAPES", True)
    inst = instance(WAT)
    src = inst.compiled.source(0)
    assert "imul(" in src
    on = cache_key(b"\0asm")
    monkeypatch.setattr(support, "PYPY_SHAPES", False)
    assert "imul(" not in instance(WAT).compiled.source(0)
    assert cache_key(b"\0asm") != on


def test_imul_portable_wraps_like_pypy() -> None:
    for a in I64S[:8]:
        for b in I64S[:8]:
            a_s = a - (1 << 64) if a >> 63 else a
            b_s = b - (1 << 64) if b >> 63 else b
            want = (a_s * b_s) & 0xFFFFFFFFFFFFFFFF
            got = support._imul_portable(a_s, b_s)
            assert -(1 << 63) <= got < (1 << 63)
            assert got & 0xFFFFFFFFFFFFFFFF == want


@pytest.mark.skipif(sys.implementation.name != "pypy",
                    reason="machine-word ints are PyPy's (W_IntObject vs W_LongObject)")
def test_pypy_i32_results_are_machine_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import __pypy__  # type: ignore[import-not-found]
    monkeypatch.setattr(support, "PYPY_SHAPES", True)
    inst = instance(WAT)
    for name in CASES:
        fn = inst.func(name)
        for a, b, c, x in _args():
            r = fn(a, b, c, x)
            assert "W_IntObject" in __pypy__.internal_repr(r), (name, a, b, c, x)
