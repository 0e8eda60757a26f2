"""Random loops for the loop versioning of compile/views.py: generated loops over one to
three pointer locals (steps that keep or break alignment, derived pointers, offsets that
are and are not multiples of the access size, every scalar access width, f32 among them),
run with seeded pointers (aligned or not, near the end of memory, past it) and counts;
every result, trap and the final memory must be the same with the views and without them
(the struct loop alone), and, for a part of them, the same as wasmtime's. A share of the
loops must really be versioned, else the test proves nothing.

A second generator (:func:`_loop_rich`) makes the shapes that views.reduce_indexes and
views.ViewLoop.assigned reason about: a local that holds an address and then a loaded
value (sha256's ``l3``), assignments inside an ``if`` (a join that must forget what was
known), pointers also read as values (dual indexes), exits from the middle of the loop
before a derived pointer is assigned, the pointers' values after the loop (the
restores), and a local holding ``p + (n << 2) + c`` for a line or two before a loaded
value (views._temporary_indexes; with pointers near 2**32 the unreduced indexes of
views.unwrap_indexes wrap onto valid memory), whose address plus a constant may be kept
in a stack slot for a store after the local changes (a slot temporary index)."""
from __future__ import annotations

import random
from typing import Any, List, Tuple

import pytest

from compile_helpers import instance, run_plan
from purewasm.compile import translate, views

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


def _access(rnd: random.Random, addr: int) -> str:
    """A load through local ``addr`` folded into the checksum (local 4), or a store of it."""
    store, load, vt, const = rnd.choice(WIDTHS[:3] + WIDTHS[:3] + WIDTHS[3:])
    size = 8 if vt in ("i64", "f64") else 4
    off = rnd.choice((0, 0, size, 2 * size, 3))
    if vt in ("i32", "i64") and rnd.random() < 0.6:
        widen = "i64.extend_i32_u" if vt == "i32" else ""
        return ("local.get 4 local.get %d %s offset=%d %s i64.xor local.set 4"
                % (addr, load, off, widen))
    return "local.get %d %s %s offset=%d" % (addr, const, store, off)


def _loop_rich(rnd: random.Random, index: int) -> str:
    """One exported function ``l<index>(p0, p1, p2, n) -> i64`` (locals: 4 the checksum,
    5 a reused local): a loop in a block, with the shapes of the module doc; it returns
    the checksum mixed with every pointer's final value."""
    body: List[str] = []
    exit_at = rnd.randrange(6) if rnd.random() < 0.5 else -1
    still = rnd.random() < 0.3      # p2 not stepped: invariant in the loop
    for k in range(rnd.randint(3, 7)):
        if k == exit_at:
            body.append("local.get 3 i32.const %d i32.eq br_if 1" % rnd.randint(1, 4))
        kind = rnd.random()
        p = rnd.randrange(3)
        if kind < 0.3:
            # l5 = p + c, accesses through it, sometimes then a loaded value in it
            body.append("local.get %d i32.const %d i32.add local.set 5"
                        % (p, rnd.choice((0, 4, 8, 16, 2, -8))))
            body.append(_access(rnd, 5))
            if rnd.random() < 0.5:
                body.append("local.get %d i32.load local.set 5" % p)
                body.append("local.get 4 local.get 5 i64.extend_i32_u i64.add local.set 4")
        elif kind < 0.45:
            # an assignment in one arm only: after the join nothing is known of l5
            body.append("local.get %d i32.const %d i32.add local.set 5"
                        % (p, rnd.choice((1, 2, 4, 8))))
            body.append("local.get 3 i32.const 1 i32.and if local.get %d i32.const %d "
                        "i32.add local.set 5 end" % (p, rnd.choice((1, 2, 4, 8))))
            body.append(_access(rnd, 5))
        elif kind < 0.6:
            # the pointer read as a value too
            body.append("local.get 4 local.get %d i64.extend_i32_u i64.add local.set 4" % p)
            body.append(_access(rnd, p))
        elif kind < 0.7:
            # a derived pointer assigned late (after a possible exit)
            body.append("local.get %d i32.const 8 i32.add local.set 2" % rnd.randrange(2))
            body.append(_access(rnd, 2))
        elif kind < 0.8:
            # l5 = p + (n << 2) + c (a scaled counter: views.scaled_address), read as an
            # address for a line or two, then given a loaded value (a temporary index)
            body.append("local.get %d local.get 3 i32.const 2 i32.shl i32.add i32.const %d "
                        "i32.add local.set 5" % (2 if still else p, rnd.choice((0, 4, 8, -4, 16))))
            body.append("local.get 4 local.get 5 i32.load offset=8 i64.extend_i32_u i64.xor "
                        "local.set 4")
            body.append("local.get 5 i32.load offset=4 local.set 5")
            body.append("local.get 4 local.get 5 i64.extend_i32_u i64.add local.set 4")
        elif kind < 0.88:
            # l5 = p + c holds an address; a store's address l5 + k is pushed first (kept
            # in a stack slot: it outlives l5's value), then l5 gets a loaded value, the
            # one stored (sha256's message schedule: a slot temporary index)
            body.append("local.get %d i32.const %d i32.add local.set 5"
                        % (p, rnd.choice((0, 4, 8, 16, -4))))
            body.append("local.get 5 i32.const %d i32.add" % rnd.choice((0, 4, 64, 2, -8)))
            body.append("local.get 5 i32.load offset=%d local.set 5" % rnd.choice((0, 4, 8)))
            body.append("local.get 5 i32.const 3 i32.mul i32.store offset=%d"
                        % rnd.choice((0, 0, 4, 1)))
        else:
            body.append(_access(rnd, p))
    for p in range(2 if still else 3):
        step = rnd.choice(STEPS)
        body.append("local.get %d i32.const %d i32.add local.set %d" % (p, step, p))
    if rnd.random() < 0.4:
        # a loop counter that is also a pointer: runs until p0 reaches its bound
        cond = "local.get 0 local.get 3 i32.const 3 i32.shl i32.ne br_if 0"
        body.append("local.get 3 i32.const 1 i32.sub local.set 3")
        body.append("local.get 3 br_if 0")
    else:
        cond = "local.get 3 i32.const 1 i32.sub local.tee 3 br_if 0"
    return ("(func (export \"l%d\") (param i32 i32 i32 i32) (result i64) (local i64 i32)\n"
            "  block\n  loop\n    %s\n    %s\n  end\n  end\n"
            "  local.get 4 local.get 0 i64.extend_i32_u i64.xor\n"
            "  local.get 1 i64.extend_i32_u i64.const 20 i64.shl i64.xor\n"
            "  local.get 2 i64.extend_i32_u i64.const 40 i64.shl i64.xor\n"
            "  local.get 5 i64.extend_i32_u i64.const 7 i64.shl i64.add)"
            % (index, "\n    ".join(body), cond))


def _module(rnd: random.Random, count: int, make: Any = None) -> str:
    loops = "\n".join((make or _loop)(rnd, i) for i in range(count))
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


_run = run_plan


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


@pytest.mark.parametrize("seed", range(8))
def test_rich_loops_same_with_and_without_views(seed: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(7100 + seed)
    count = 12
    text = _module(rnd, count, _loop_rich)
    plan = _plan(rnd, count)
    if views.TYPED_VIEWS:
        src = instance(text).compiled
        sources = [src.source(i) for i in range(2, 2 + count)]
        assert sum("MV0[" in x for x in sources) >= 2, "too few loops versioned"
    with_views = _run(text, plan)
    monkeypatch.setattr(translate, "TYPED_VIEWS", False)
    without = _run(text, plan)
    assert with_views == without


def test_rich_loops_reduce_indexes() -> None:
    """The rich loops exercise the index reduction: replaced, dual and restored indexes."""
    if not views.TYPED_VIEWS:
        pytest.skip("typed views: CPython, little-endian")
    found = ""
    for seed in range(8):
        rnd = random.Random(7100 + seed)
        src = instance(_module(rnd, 12, _loop_rich)).compiled
        found += "".join(src.source(i) for i in range(2, 14))
    assert "_x0 = l0 >> " in found and " << " in found
    assert "_x0 = _x0 + " in found or "_x1 = _x1 + " in found
    # temporary indexes and invariant sums computed at entry (views.unwrap_indexes:
    # tests/test_view_indexes.py)
    assert "_t5 = " in found and "_h0 = " in found
    assert "_t%d = _t5" % views.SLOT_TEMP in found      # a slot temporary index


@pytest.mark.parametrize("seed", range(2))
def test_rich_loops_match_wasmtime(seed: int) -> None:
    differential = pytest.importorskip("differential")
    pytest.importorskip("wasmtime")
    from purewasm.binary import decode_module
    from purewasm.text import wat2wasm

    rnd = random.Random(9100 + seed)
    count = 10
    text = _module(rnd, count, _loop_rich)
    plan = _plan(rnd, count)
    wasm = wat2wasm(text)
    module = decode_module(wasm)
    want = differential.run_wasmtime(wasm, module, plan)
    got = differential.run_purewasm(module, plan, None, exact=False)
    assert differential.diff(want, got) == []
