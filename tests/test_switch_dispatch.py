"""The br_table switch idiom (nested blocks B_n..B_0, B_0 ending with the br_table): when
no case's code falls into the next, the structured lowering dispatches the cases by
bisection (scan.Scan.chain_tree, control.Structured.end_case_tree), else by sequential
guards. Every index, in range or not, against a model computed here; both lowerings."""
from __future__ import annotations

import random
from typing import List, Optional, Sequence

import pytest

from compile_helpers import instance, wat2wasm
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.compile.entries import CPYTHON_SHAPES

M32 = 0xFFFFFFFF


def _switch(n: int, labels: Sequence[int], default: int, falls: Sequence[int]) -> str:
    """Cases 0..n-1 (the code after the end of B_i) do acc = acc * 3 + i + 1, then leave
    (br out) unless i is in ``falls``; the code after B_n does acc = acc * 3 + 999."""
    body = ['(func (export "f") (param i32) (result i32) (local i32)', "block"]
    body += ["block"] * (n + 1)
    body.append("local.get 0 br_table %s %d" % (" ".join(map(str, labels)), default))
    for i in range(n):
        body.append("end")
        body.append("local.get 1 i32.const 3 i32.mul i32.const %d i32.add local.set 1" % (i + 1))
        if i not in falls:
            body.append("br %d" % (n - i))
    body.append("end local.get 1 i32.const 3 i32.mul i32.const 999 i32.add local.set 1")
    body.append("end local.get 1)")
    return "(module %s)" % "\n".join(body)


def _model(n: int, labels: Sequence[int], default: int, falls: Sequence[int], x: int) -> int:
    case = labels[x] if x < len(labels) else default
    acc = 0
    for i in range(case, n):
        acc = (acc * 3 + i + 1) & M32
        if i not in falls:
            return acc
    return (acc * 3 + 999) & M32


def _source(text: str) -> str:
    return CompiledModule(decode_module(wat2wasm(text))).source(0, flat=False)


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 9, 16, 33])
def test_switch_cases_all_leave(mode: Optional[str], n: int) -> None:
    rng = random.Random(n)
    labels: List[int] = [rng.randrange(n + 1) for _ in range(rng.randrange(1, 2 * n + 2))]
    for default in sorted({0, n, rng.randrange(n + 1)}):
        text = _switch(n, labels, default, ())
        f = instance(text, mode=mode).func("f")
        for x in list(range(len(labels) + 2)) + [M32, 1 << 31]:
            assert f(x) == _model(n, labels, default, (), x), (labels, default, x)


def test_bisection_is_used_only_without_fallthrough() -> None:
    n = 8
    labels = list(range(n + 1))
    tree = _source(_switch(n, labels, n, ()))
    if CPYTHON_SHAPES:
        assert "< 4:" in tree and "<= " not in tree.split("br_table")[-1]
    else:   # PyPy: sequential guards (measured no faster there)
        assert "<= 2:" in tree
    sequential = _source(_switch(n, labels, n, (3,)))
    assert "<= 2:" in sequential


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_switch_with_fallthrough(mode: Optional[str]) -> None:
    n = 9
    labels = [3, 0, 8, 1, 5, 5, 2, 9, 4, 7, 6]
    for falls in ((0,), (3, 4), (8,), tuple(range(n))):
        text = _switch(n, labels, 2, falls)
        f = instance(text, mode=mode).func("f")
        for x in range(len(labels) + 2):
            assert f(x) == _model(n, labels, 2, falls, x), (falls, x)


def _fusable_labels(rng: random.Random, n: int) -> List[int]:
    """A table whose runs give each case 0..n-2 one run, in order, with runs of the last
    block (n) and of the block around the chain (n + 1, out of the switch) anywhere."""
    labels: List[int] = []
    for case in range(n):
        for _ in range(rng.randrange(3)):
            labels += [rng.choice((n, n + 1))] * rng.randrange(1, 3)
        labels += [case] * rng.randrange(1, 4)
    return labels


def _model_out(n: int, labels: Sequence[int], default: int, x: int) -> int:
    case = labels[x] if x < len(labels) else default
    return 0 if case > n else _model(n, labels, default, (), x)


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_fused_dispatch_tests_the_index(mode: Optional[str], n: int) -> None:
    """When the table's runs give each case one run in order, the bisection tests the
    br_table's index itself (scan.fused_runs): no case variable; leaves that leave the
    switch or fall to the last block's code in between; every index against the model."""
    rng = random.Random(100 + n)
    for _ in range(4):
        labels = _fusable_labels(rng, n)
        for default in (n, n + 1, labels[-1]):
            text = _switch(n, labels, default, ())
            if mode is None and CPYTHON_SHAPES:
                assert "_c" not in _source(text), (labels, default)
            f = instance(text, mode=mode).func("f")
            for x in list(range(len(labels) + 2)) + [M32, 1 << 31]:
                assert f(x) == _model_out(n, labels, default, x), (labels, default, x)


def test_unordered_cases_keep_the_case_variable() -> None:
    """Cases out of index order cannot be leaves of a bisection of the index."""
    text = _switch(3, [1, 0, 2, 3], 3, ())
    f = instance(text).func("f")
    for x in range(6):
        assert f(x) == _model(3, [1, 0, 2, 3], 3, (), x)
    if CPYTHON_SHAPES:
        assert "_c" in _source(text)
