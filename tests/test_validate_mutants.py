"""validate/stream.py may only say "valid" when the exact validator agrees; both agree
with wasm-tools (tests/validate_mutants.py). Bounded hypothesis slices of what
``scripts/campaign.py validate`` runs long."""
from __future__ import annotations

import functools
import os
import random
from typing import Any, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import validate_mutants as V

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Compiled C (wasi-libc, a WASI program and a plugin): bodies the fast reader decides.
COMPILED = [os.path.join(ROOT, "examples", "wasi", "wordcount.wasm"),
            os.path.join(ROOT, "examples", "plugins", "shout.wasm")]


@functools.lru_cache(maxsize=None)
def _bodies() -> List[Any]:
    out: List[Any] = []
    for path in COMPILED:
        with open(path, "rb") as f:
            out += V.fast_bodies(f.read())
    return out


def test_compiled_bodies_are_decided_by_the_fast_reader() -> None:
    # Else the property below would hold vacuously.
    assert len(_bodies()) > 50, len(_bodies())


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.integers(0, 10 ** 6), st.integers(0, 2 ** 32))
def test_fast_reader_accepts_only_what_exact_path_accepts(pick: int, seed: int) -> None:
    bodies = _bodies()
    new, fast, exact = V.fast_vs_exact(bodies[pick % len(bodies)], random.Random(seed))
    assert exact or not fast, new.hex()


@functools.lru_cache(maxsize=None)
def _smith(config: str, seed: int) -> bytes:
    return V.D.generate(config, seed) or b""


@pytest.mark.skipif(V.D.wasm_tools() is None, reason="needs wasm-tools (smith, validate)")
@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(V.SMITH_CONFIGS), st.integers(0, 15), st.integers(0, 2 ** 32),
       st.booleans())
def test_mutated_smith_modules_same_verdict_everywhere(config: str, seed: int, mseed: int,
                                                       wasm2: bool) -> None:
    base = _smith(config, seed)
    if not base:
        return      # smith declined this input: nothing to mutate
    data = V.mutate(base, random.Random(mseed))
    features = frozenset() if wasm2 else None
    found: List[Tuple[str, str]] = V.verdicts(data, features)
    assert not V.disagreement(found), (data.hex(), found)
