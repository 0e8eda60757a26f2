"""Random loops for the loop versioning of compile/views.py: generated loops over one to
three pointer locals (steps that keep or break alignment, derived pointers, offsets that
are and are not multiples of the access size, every scalar access width, f32 among them),
run with seeded pointers (aligned or not, near the end of memory, past it) and counts;
every result, trap and the final memory must be the same with the views and without them
(the struct loop alone), and, for a part of them, the same as wasmtime's. A share of the
loops must really be versioned, else the test proves nothing."""
from __future__ import annotations

import hashlib
import random
from typing import Any, List, Tuple

import pytest

from compile_helpers import instance
from purewasm.compile import translate, views
from purewasm.errors import Trap

PAGE = 65536
STEPS = (8, 8, 16, -8, 24, 4, 12, 1)
# (store instruction, load instruction, value type, a constant of it)
WIDTHS = [("i32.store", "i32.load", "i32", "i32.const 0x3c6ef372"),
          ("i64.store", "i64.load", "i64", "i64.const 0x510e527f9b05688c"),
          ("f64.store", "f64.load", "f64", "f64.const 1.5"),
          ("f32.store", "f32.load", "f32", "f32.const 0.75"),
          ("i32.store16", "i32.load16_u", "i32", "i32.const 0x5be0"),
          ("i64.store8", "i64.load8_s", "i64", "i64.const 0x7f")]
COMBINE = {"i32": "i32.xor", "i64": "i64.add", "f64": "f64.mul", "f32": "f32.add"}


def _loop(rnd: random.Random, index: int) -> str:
    """One exported function ``l<index>(p0, p1, p2, n) -> i64``: a loop of random
    accesses through the pointers, each bumped by a constant every iteration (p2 may be
    derived from p0 instead), counting n down; it returns a checksum of what it read."""
    body: List[str] = []
    derived = rnd.random() < 0.3
    if derived:
        body.append("local.get 0 i32.const %d i32.add local.set 2" % rnd.choice((8, 16, 4)))
    for _ in range(rnd.randint(1, 4)):
        store, load, vt, const = rnd.choice(WIDTHS)
        dst, src = rnd.randrange(3), rnd.randrange(3)
        size = 8 if vt in ("i64", "f64") else 4
        off_d = rnd.choice((0, 0, size, 2 * size, 3, 1))
        off_s = rnd.choice((0, 0, size, 2 * size, 5))
        body.append("local.get %d local.get %d %s offset=%d %s %s %s offset=%d"
                    % (dst, src, load, off_s, const, COMBINE[vt], store, off_d))
        if vt in ("i32", "i64"):
            widen = "i64.extend_i32_u" if vt == "i32" else ""
            body.append("local.get 4 local.get %d %s offset=%d %s i64.xor local.set 4"
                        % (src, load, off_s, widen))
    for p in range(3):
        if p == 2 and derived:
            continue
        step = rnd.choice(STEPS)
        body.append("local.get %d i32.const %d i32.add local.set %d" % (p, step, p))
    return ("(func (export \"l%d\") (param i32 i32 i32 i32) (result i64) (local i64)\n"
            "  loop\n    %s\n    local.get 3 i32.const 1 i32.sub local.tee 3 br_if 0\n"
            "  end\n  local.get 4)" % (index, "\n    ".join(body)))


def _module(rnd: random.Random, count: int) -> str:
    loops = "\n".join(_loop(rnd, i) for i in range(count))
    return """(module
  (memory (export "mem") 1 2)
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "seed") (param $p i32) (param $n i32)
    loop
      local.get $p local.get $p i32.const 0x9E3779B9 i32.mul i32.store8
      local.get $p i32.const 1 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end)
%s)""" % loops


def _plan(rnd: random.Random, count: int) -> List[Tuple[str, List[Any]]]:
    def pointer() -> int:
        base = rnd.choice((0, 8, 256, 4096, PAGE - 256, PAGE - 64, PAGE - 24, PAGE,
                           2 * PAGE - 64, 0xFFFFFFF8))
        return (base + rnd.choice((0, 0, 0, 8, 16, 4, 1, 3, -8))) & 0xFFFFFFFF
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE - 1])]
    for k in range(count * 8):
        if k == count * 4:
            plan.append(("grow", []))      # later entries see a larger memory
        plan.append(("l%d" % rnd.randrange(count),
                     [pointer(), pointer(), pointer(), rnd.randint(1, 9)]))
    return plan


def _run(text: str, plan: List[Tuple[str, List[Any]]]) -> List[Any]:
    inst = instance(text)
    out: List[Any] = []
    for name, args in plan:
        try:
            out.append(inst.func(name)(*args))
        except Trap as trap:
            out.append("trap: %s" % trap.reason)
    out.append(hashlib.sha256(bytes(inst.memories[0].data)).hexdigest())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_loops_same_with_and_without_views(seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(7000 + seed)
    count = 12
    text = _module(rnd, count)
    plan = _plan(rnd, count)
    if views.TYPED_VIEWS:
        src = instance(text).compiled
        versioned = sum("MV0[" in src.source(i) for i in range(2, 2 + count))
        assert versioned >= 2, "too few loops versioned to test anything"
    with_views = _run(text, plan)
    monkeypatch.setattr(translate, "TYPED_VIEWS", False)
    without = _run(text, plan)
    assert with_views == without
    traps = sum(1 for r in with_views if isinstance(r, str) and r.startswith("trap"))
    assert 5 < traps < len(plan) - 5        # both outcomes are exercised


@pytest.mark.parametrize("seed", range(2))
def test_random_loops_match_wasmtime(seed: int) -> None:
    differential = pytest.importorskip("differential")
    pytest.importorskip("wasmtime")
    from purewasm.binary import decode_module
    from purewasm.text import wat2wasm

    rnd = random.Random(9000 + seed)
    count = 10
    text = _module(rnd, count)
    plan = _plan(rnd, count)
    wasm = wat2wasm(text)
    module = decode_module(wasm)
    want = differential.run_wasmtime(wasm, module, plan)
    got = differential.run_purewasm(module, plan, None, exact=False)
    assert differential.diff(want, got) == []
