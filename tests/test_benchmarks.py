"""The benchmark suite's output check (benchmarks/suite.py --check): every compute kernel
at a tiny size prints the same under purewasm, wasmtime and in Python by hand
(benchmarks/c/kernels.py). No timing is asserted: the timed suite is run by hand and
written to docs/benchmarks.md."""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType
from typing import List

import pytest

import purewasm
from purewasm.runtime.instantiate import func_names
from purewasm.wasi.config import WasiConfig

pytest.importorskip("wasmtime")

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")
SUITE = os.path.join(BENCHMARKS, "suite.py")
HAND = os.path.join(BENCHMARKS, "c", "kernels.py")


def _load(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kernels_print_the_same_as_wasmtime() -> None:
    suite = _load("benchmark_suite", SUITE)
    wasm = suite.build()
    assert suite.check_outputs(wasm) == []


def _wasm_sort(wasm: str, n: int) -> "tuple[bytes, int]":
    """The sort kernel under purewasm: (its output, how many times it called cmp_u32)."""
    out: List[bytes] = []
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module.from_file(engine, wasm)
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    cfg = WasiConfig()
    cfg.argv = ["kernels", "sort", str(n)]
    cfg.stdout_custom = out.append
    store.set_wasi(cfg)
    instance = linker.instantiate(store, module)
    inner = instance._inst
    index = next(i for i, name in func_names(inner.module).items() if name == "cmp_u32")
    finst = inner.funcs[index]
    compare = finst.fn.purewasm_realize()
    calls = [0]

    def counting(a: int, b: int) -> int:
        calls[0] += 1
        return compare(a, b)
    finst.fn = counting     # call_indirect reads the table entry's fn at each call
    try:
        instance.exports(store)["_start"](store)
    except purewasm.ExitTrap as exc:    # exit status 0 may return normally too
        assert exc.code == 0
    return b"".join(out), calls[0]


def _hand_sort(hand: ModuleType, n: int) -> "tuple[int, int]":
    """The sort kernel in Python: (its result, how many times it called cmp_u32)."""
    calls = [0]
    plain = hand.cmp_u32

    def counting(a: int, b: int) -> int:
        calls[0] += 1
        return plain(a, b)
    hand.cmp_u32 = counting
    try:
        return hand.sort(n), calls[0]
    finally:
        hand.cmp_u32 = plain


def test_hand_written_sort_is_the_same_algorithm() -> None:
    """The Python sort is zig's std.sort.pdq as the C qsort runs it: the same number of
    comparator calls (a sorted result alone would not show it), at sizes that reach its
    partitioning, pivot and pattern-breaking paths."""
    wasm = _load("benchmark_suite", SUITE).build()
    hand = _load("benchmark_hand_kernels", HAND)
    for n in (100, 3000):
        output, calls = _wasm_sort(wasm, n)
        result, hand_calls = _hand_sort(hand, n)
        assert output == b"sort %d\n" % result
        assert calls == hand_calls > n
