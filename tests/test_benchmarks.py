"""The benchmark suite's output check (benchmarks/suite.py --check): every compute kernel
at a tiny size prints the same under purewasm and wasmtime. No timing is asserted: the
timed suite is run by hand and written to docs/benchmarks.md."""
from __future__ import annotations

import importlib.util
import os

import pytest

pytest.importorskip("wasmtime")

SUITE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "benchmarks", "suite.py")


def test_kernels_print_the_same_as_wasmtime() -> None:
    spec = importlib.util.spec_from_file_location("benchmark_suite", SUITE)
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    wasm = suite.build()
    assert suite.check_outputs(wasm) == []
