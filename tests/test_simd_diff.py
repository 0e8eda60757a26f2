"""Differential runs of random SIMD modules (``wasm-tools smith`` with SIMD enabled)
against wasmtime, with tests/differential.py's comparison: results of every exported
function without v128 in its signature (wasmtime-py cannot pass v128 values), traps, and
the final state of exported memories, globals and tables. NaNs are canonicalized by
smith, so results are deterministic.

Catches what the spec suite does not: v128 values flowing through the translator's
stack resolution, locals, select, blocks and branches, in both control-flow lowerings.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from typing import Any, Optional

import pytest

import differential as D

wasmtime = pytest.importorskip("wasmtime")

pytestmark = pytest.mark.skipif(shutil.which("wasm-tools") is None,
                                reason="wasm-tools not installed")

# BASE (terminating modules, canonical NaNs, every later proposal off) with SIMD on.
SIMD_FLAGS = D.smith_flags("simd")
SEEDS = range(1000, 1080)


def _generate(seed: int) -> Optional[bytes]:
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(6000))
    r = subprocess.run(["wasm-tools", "smith"] + SIMD_FLAGS, input=data,
                       capture_output=True)
    return r.stdout if r.returncode == 0 else None


@pytest.mark.parametrize("mode", [None, "flat"])
def test_random_simd_modules_match_wasmtime(mode: Any) -> None:
    failures = []
    ran = 0
    for seed in SEEDS:
        wasm = _generate(seed)
        if wasm is None:
            continue
        diff = D.compare_wasmtime(wasm, seed, mode)
        if diff is None:
            continue   # refused by the front end: not this test's business
        ran += 1
        if diff:
            failures.append((seed, diff[:3]))
    assert ran >= len(SEEDS) // 2
    assert not failures, failures
