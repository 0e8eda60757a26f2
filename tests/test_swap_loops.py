"""Byte swap and copy loops as slice operations (compile/idioms.py): each loop shape
(qsort's swap unrolled 1/2/4/8 times, its remainder loop with two stepping pointers
and a down counter, copies, word-wide accesses, memarg offsets) runs with the slice
version and without it (the loop alone) on ranges that are disjoint, overlapping in
either direction, equal, out of bounds in the middle, wrapping around 2**32, with trip
counts that never reach the bound; results (the locals read after the loop among them),
traps and memory must be the same, and the same as wasmtime's for generated loops."""
from __future__ import annotations

import random
from typing import Any, List, Tuple

import pytest

from compile_helpers import instance, run_plan
from purewasm.binary import decode_module
from purewasm.compile import idioms, translate
from purewasm.errors import Trap
from purewasm.text import wat2wasm

PAGE = 65536
# (load, store, width, local type of the loaded value)
WIDTHS = {1: ("i32.load8_u", "i32.store8", "i32"), 4: ("i32.load", "i32.store", "i32"),
          8: ("i64.load", "i64.store", "i64")}


def _access(base: str, k: int, w: int, style: str, temp: str) -> Tuple[str, str]:
    """(the code leaving the address of byte ``k`` of the chunk at ``base`` on the
    stack, the memarg offset), the address teed into ``temp``."""
    if style == "offset":
        return "%s local.tee %s" % (base, temp), " offset=%d" % k if k else ""
    add = " i32.const %d i32.add" % k if k else ""
    return "%s%s local.tee %s" % (base, add, temp), ""


def _chunks(a: str, b: str, unroll: int, w: int, swap: bool, style: str) -> List[str]:
    """The body's moves: ``unroll`` chunks of ``w`` bytes at ``a + k`` and ``b + k``
    (``a``, ``b``: the address code), swapped or copied from a to b."""
    load, store, vt = WIDTHS[w]
    t = "$t" if vt == "i32" else "$w"
    body: List[str] = []
    for j in range(unroll):
        k = j * w
        pa, oa = _access(a, k, w, style, "$p")
        pb, ob = _access(b, k, w, style, "$q")
        if swap:
            body.append("%s %s%s local.set %s" % (pa, load, oa, t))
            body.append("local.get $p %s %s%s %s%s" % (pb, load, ob, store, oa))
            body.append("local.get $q local.get %s %s%s" % (t, store, ob))
        else:
            body.append("%s %s %s%s local.tee %s %s%s" % (pb, pa, load, oa, t, store, ob))
    return body


def _counted_loop(name: str, unroll: int, w: int, swap: bool, style: str,
                  live: bool) -> str:
    """qsort's main swap loop: ``i`` from 0 by ``unroll * w`` until ``i == n``; chunks
    at ``a + i`` and ``b + i`` (copy: from ``a`` to ``b``)."""
    body = _chunks("local.get $a local.get $i i32.add", "local.get $b local.get $i i32.add",
                   unroll, w, swap, style)
    body.append("local.get $n local.get $i i32.const %d i32.add local.tee $i i32.ne br_if 0"
                % (unroll * w))
    return _func(name, "\n      ".join(body), live)


def _pointer_loop(name: str, unroll: int, w: int, swap: bool, style: str, live: bool,
                  down: int = 1) -> str:
    """qsort's remainder loop: pointers ``a`` and ``b`` stepping by ``unroll * w``, a
    counter ``n`` stepping by ``-down`` until 0."""
    body = _chunks("local.get $a", "local.get $b", unroll, w, swap, style)
    body.append("local.get $a i32.const %d i32.add local.set $a" % (unroll * w))
    body.append("local.get $b i32.const %d i32.add local.set $b" % (unroll * w))
    body.append("local.get $n i32.const %d i32.sub local.tee $n br_if 0" % down)
    return _func(name, "\n      ".join(body), live)


def _func(name: str, body: str, live: bool) -> str:
    """The loop in a function ``name(a, b, n) -> i64``; ``live``: it returns a mix of
    every local the loop assigns (else a constant: they are all dead after it)."""
    if live:
        result = ("local.get $i i64.extend_i32_u local.get $p i64.extend_i32_u i64.const 16 "
                  "i64.shl i64.xor local.get $q i64.extend_i32_u i64.const 32 i64.shl i64.xor "
                  "local.get $t i64.extend_i32_u i64.const 48 i64.shl i64.xor local.get $w "
                  "i64.xor local.get $a i64.extend_i32_u i64.const 8 i64.shl i64.add "
                  "local.get $b i64.extend_i32_u i64.const 24 i64.shl i64.add "
                  "local.get $n i64.extend_i32_u i64.const 40 i64.shl i64.add")
    else:
        result = "i64.const 7"
    return ("  (func (export \"%s\") (param $a i32) (param $b i32) (param $n i32) (result i64)\n"
            "    (local $i i32) (local $p i32) (local $q i32) (local $t i32) (local $w i64)\n"
            "    loop\n      %s\n    end\n    %s)" % (name, body, result))


def _module(funcs: List[str]) -> str:
    return """(module
  (memory (export "mem") 1 2)
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "seed") (param $p i32) (param $n i32)
    loop
      local.get $p local.get $p i32.const 0x9E3779B9 i32.mul i32.const 13 i32.shr_u i32.store8
      local.get $p i32.const 1 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end)
%s)""" % "\n".join(funcs)


def _shapes() -> List[Tuple[str, str, bool]]:
    """(name, function text, whether it counts up to n) for every hand-written shape."""
    out = []
    for unroll in (1, 2, 4, 8):
        for w in (1, 4, 8):
            if w > 1 and unroll > 2:
                continue
            for swap in (True, False):
                for style in ("add", "offset"):
                    for live in (True, False):
                        tag = "%s%d_%d_%s_%s" % ("swap" if swap else "copy", unroll, w,
                                                style, "live" if live else "dead")
                        out.append(("c_" + tag, _counted_loop("c_" + tag, unroll, w, swap,
                                                              style, live), True))
                        out.append(("p_" + tag, _pointer_loop("p_" + tag, unroll, w, swap,
                                                              style, live), False))
    return out


SHAPES = _shapes()
TEXT = _module([text for _, text, _ in SHAPES])


def _calls(up: bool, chunk: int) -> List[List[int]]:
    """Arguments (a, b, n) covering the cases of the module doc."""
    def count(k: int) -> int:
        return k * chunk if up else k
    end = PAGE - 3 * chunk
    return [
        [64, 1024, count(3)],                  # disjoint
        [1024, 64, count(1)],
        [100, 100 + chunk // 2 + 1, count(4)],  # overlapping, b after a
        [100 + chunk + 1, 100, count(4)],       # overlapping, a after b
        [500, 500, count(2)],                   # the same range
        [end, 64, count(5)],                    # out of bounds in the middle
        [64, end + 1, count(5)],
        [0xFFFFFFF0, 256, count(3)],            # wraps around 2**32
        [256, (-chunk) & 0xFFFFFFFF, count(2)],
        [PAGE - count(2) - 1 if up else PAGE - 2 * chunk, 0, count(2)],   # to the end
        [128, 4096, 0],                         # n = 0: runs until a trap
        [128, 4096, count(2) + 1 if up else 3],  # up: never reaches n
    ]


_run = run_plan


def _plan() -> List[Tuple[str, List[Any]]]:
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE])]
    for name, _, up in SHAPES:
        unroll, w = int(name[6]), int(name.split("_")[2])
        for args in _calls(up, unroll * w):
            plan.append((name, args))
    return plan


def test_every_shape_is_recognised() -> None:
    src = instance(TEXT).compiled
    sources = {name: src.source(i + 2) for i, (name, _, _) in enumerate(SHAPES)}
    missing = [name for name, s in sources.items() if "_mc = " not in s]
    assert missing == []
    # Dead temps get no exit value, live ones do.
    assert "l4, " not in sources["c_swap4_1_add_dead"]
    assert "l6 = " in sources["c_swap4_1_add_live"] or "l6, " in sources["c_swap4_1_add_live"]


def test_same_with_and_without_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan()
    with_slices = _run(TEXT, plan)
    monkeypatch.setattr(translate, "SLICE_LOOPS", False)
    assert "_mc = " not in instance(TEXT).compiled.source(2)
    without = _run(TEXT, plan)
    assert with_slices == without
    traps = sum(1 for r in with_slices if isinstance(r, str) and r.startswith("trap"))
    assert 20 < traps < len(plan) // 2


def test_hand_written_shapes_match_wasmtime() -> None:
    differential = pytest.importorskip("differential")
    pytest.importorskip("wasmtime")
    plan = _plan()
    wasm = wat2wasm(TEXT)
    module = decode_module(wasm)
    want = differential.run_wasmtime(wasm, module, plan)
    got = differential.run_purewasm(module, plan, None, exact=False)
    assert differential.diff(want, got) == []


def test_slices_taken_and_partial_effects() -> None:
    """A swap of disjoint ranges takes the slice version (its exit values are right);
    an out-of-bounds one traps at the same byte with the bytes before it swapped."""
    inst = instance(TEXT)
    data = inst.memories[0].data
    data[0:16] = bytes(range(16))
    data[PAGE - 8:PAGE] = bytes(range(100, 108))
    # a = PAGE - 8, b = 0, 16 bytes: the first 8 swap, the 9th access traps.
    with pytest.raises(Trap):
        inst.func("c_swap1_1_add_live")(PAGE - 8, 0, 16)
    assert bytes(data[0:8]) == bytes(range(100, 108))
    assert bytes(data[8:16]) == bytes(range(8, 16))
    assert bytes(data[PAGE - 8:PAGE]) == bytes(range(8))


def test_fuel_and_epoch_builds_keep_the_loop() -> None:
    src = instance(TEXT, mode="metered").compiled
    assert all("_mc = " not in src.source(i + 2) for i in range(len(SHAPES)))


def test_rejected_shapes() -> None:
    """Loops that are no plain swap or copy stay loops: a store of a computed value, a
    load of a byte stored earlier in the iteration, a third range, a chunk with a gap,
    steps that differ from the chunk."""
    head = ("  (func (export \"%s\") (param $a i32) (param $b i32) (param $n i32)\n"
            "    (local $i i32) (local $t i32)\n    loop\n      %s\n      local.get $n "
            "local.get $i i32.const %d i32.add local.tee $i i32.ne br_if 0\n    end)")
    cases = [
        ("computed", "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
         "i32.load8_u i32.const 1 i32.add i32.store8", 1),
        ("reload", "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
         "i32.load8_u i32.store8 local.get $a local.get $i i32.add local.get $b local.get $i "
         "i32.add i32.load8_u i32.store8", 1),
        ("third", "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
         "i32.load8_u i32.store8 local.get $n local.get $i i32.add local.get $a local.get $i "
         "i32.add i32.load8_u i32.store8", 1),
        ("gap", "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
         "i32.load8_u i32.store8 local.get $b local.get $i i32.add local.get $a local.get $i "
         "i32.add i32.load8_u offset=2 i32.store8 offset=2", 2),
        ("stride", "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
         "i32.load8_u i32.store8", 2),
    ]
    text = _module([head % (name, body, step) for name, body, step in cases])
    src = instance(text).compiled
    for i, (name, _, _) in enumerate(cases):
        assert "_mc = " not in src.source(i + 2), name


def test_sort_kernel_swaps_are_slices() -> None:
    """zig's qsort (benchmarks/c/kernels.c) gets its element swaps as slices: the
    unrolled loop and the remainder loop, at each of its swap sites."""
    import importlib.util
    import os

    from purewasm.compile import CompiledModule
    from purewasm.runtime.instantiate import func_names

    pytest.importorskip("ziglang")
    suite_py = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "benchmarks", "suite.py")
    spec = importlib.util.spec_from_file_location("benchmark_suite_swaps", suite_py)
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    with open(suite.build(), "rb") as f:
        module = decode_module(f.read())
    qsort = next(i for i, name in func_names(module).items() if name == "c.stdlib.qsort")
    source = CompiledModule(module).source(qsort)
    assert source.count("_mc = ") >= 20
    assert "mem0[_ma:_mc], mem0[_mb:_md] = mem0[_mb:_md], mem0[_ma:_mc]" in source



def test_one_aligned_word_swaps_through_a_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """A swap of 4 bytes each at aligned addresses (qsort's element swap of ints and
    pointers) takes the typed view (idioms.SliceLoop.lines, ``views``) where views exist;
    a word past the end, an address past 2**32 before the wrap, the same word twice and
    unaligned or longer ranges fall to the slice test and the loop. Same results, traps
    and memory as the loop alone, and as wasmtime, for every swap shape, before and
    after the memory grows (which releases the views)."""
    swaps = [(name, up, int(name[6]) * int(name.split("_")[2]))
             for name, _, up in SHAPES if name[2:6] == "swap"]
    swaps = [(name, up, chunk) for name, up, chunk in swaps if 4 % chunk == 0]
    if translate.TYPED_VIEWS:
        src = instance(TEXT).compiled
        index = {name: i for i, (name, _, _) in enumerate(SHAPES)}
        viewed = {name for name, _, _ in swaps if "_vI[" in src.source(index[name] + 2)}
        # (a live temp holding a loaded byte would need the memory before the exchange)
        assert viewed == {name for name, _, _ in swaps if name.endswith("dead")}
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE])]
    pairs = [(64, 1024), (1024, 64), (500, 500), (PAGE - 4, 0), (8, PAGE - 4),
             (PAGE, 8), (8, PAGE), (0xFFFFFFFC, 256), (256, 0xFFFFFFFC), (66, 1024),
             (1024, 70), (PAGE + 4, 16)]
    for grown in (False, True):
        for name, up, chunk in swaps:
            n = 4 if up else 4 // chunk
            for a, b in pairs:
                plan.append((name, [a, b, n]))
            plan.append((name, [64, 2048, 2 * n]))       # two words: the slices
        if not grown:
            plan.append(("grow", []))
    with_views = _same_as_wasmtime_and_the_loop(TEXT, plan, monkeypatch)
    traps = [r for r in with_views[:-1] if isinstance(r, str)]
    assert 0 < len(traps) < len(plan) // 2


def test_one_word_past_2_32_before_the_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exchange's start is a sum of locals, unreduced: a + i = 2**32 + 16 is an
    aligned word in bounds once wrapped, as the loop takes it; the view refuses it
    (IndexError) and the loop runs."""
    func = (_BELOW % ("w", _BELOW_MOVES["swap"], _BELOW_TESTS["lt"])).replace(
        "local.get $t i64.extend_i32_u i64.const 32 i64.shl i64.or", "")
    text = _module([func])
    if translate.TYPED_VIEWS:
        assert "_vI[_ma >> 2]" in instance(text).compiled.source(2)
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE])]
    for args in ([64, 1024, 4, 0], [0xFFFFFFF0, 1024, 0x24, 0x20],
                 [1024, 0xFFFFFFF0, 0x24, 0x20], [0xFFFFFFF0, 0xFFFFFFF4, 0x24, 0x20],
                 [PAGE - 4, 0xFFFFFFFF, 5, 1]):
        plan.append(("w", args))
    with_views = _run(text, plan)
    assert with_views[1:5] == [4, 0x24, 0x24, 0x24]
    monkeypatch.setattr(translate, "SLICE_LOOPS", False)
    assert with_views == _run(text, plan)

# ----- random loops against wasmtime ----------------------------------------------------

def _random_loop(rnd: random.Random, index: int) -> Tuple[str, bool, int]:
    """One random swap/copy loop (name l<index>): (its text, counts up, chunk bytes)."""
    unroll = rnd.choice((1, 2, 3, 4, 8))
    w = rnd.choice((1, 1, 1, 4, 8))
    if w > 1:
        unroll = min(unroll, 2)
    swap = rnd.random() < 0.6
    style = rnd.choice(("add", "offset"))
    live = rnd.random() < 0.5
    name = "l%d" % index
    up = rnd.random() < 0.5 and unroll in (1, 2, 4, 8)
    if up:
        return _counted_loop(name, unroll, w, swap, style, live), True, unroll * w
    return _pointer_loop(name, unroll, w, swap, style, live), False, unroll * w


def random_case(rnd: random.Random, count: int = 10) -> Tuple[str, List[Tuple[str, List[Any]]]]:
    """A module of ``count`` random swap/copy loops and a plan of 60 calls on ranges
    disjoint, overlapping, near the end of memory and past 2**32, with a grow now and
    then (also scripts/campaign.py loops)."""
    loops = [_random_loop(rnd, i) for i in range(count)]
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE])]
    for _ in range(60):
        i = rnd.randrange(len(loops))
        _, up, chunk = loops[i]
        a = rnd.choice((0, 64, 1000, PAGE - 64, PAGE - 5, 0xFFFFFFF8, 2 * PAGE - 40))
        b = rnd.choice((a + rnd.randint(-2 * chunk, 2 * chunk), rnd.randrange(2 * PAGE),
                        rnd.randrange(4096))) & 0xFFFFFFFF
        k = rnd.choice((1, 2, 3, 5, 9))
        n = k * chunk if up and rnd.random() < 0.85 else (k if not up else k * chunk + 1)
        plan.append(("l%d" % i, [a & 0xFFFFFFFF, b, n]))
        if rnd.random() < 0.05:
            plan.append(("grow", []))
    return _module([t for t, _, _ in loops]), plan


def _same_as_wasmtime_and_the_loop(text: str, plan: List[Tuple[str, List[Any]]],
                                   monkeypatch: pytest.MonkeyPatch) -> List[Any]:
    """``plan`` run on ``text``: the same results, traps and memory as wasmtime's (when
    installed) and as with the loops alone (no slices); returns the results."""
    with_slices = _run(text, plan)
    differential = pytest.importorskip("differential")
    if pytest.importorskip("wasmtime"):
        wasm = wat2wasm(text)
        want = differential.run_wasmtime(wasm, decode_module(wasm), plan)
        got = differential.run_purewasm(decode_module(wasm), plan, None, exact=False)
        assert differential.diff(want, got) == []
    monkeypatch.setattr(translate, "SLICE_LOOPS", False)
    assert with_slices == _run(text, plan)
    monkeypatch.setattr(translate, "SLICE_LOOPS", True)
    return with_slices


@pytest.mark.parametrize("seed", range(3))
def test_random_loops_match_wasmtime_and_the_loop(seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("differential")
    pytest.importorskip("wasmtime")
    text, plan = random_case(random.Random(4200 + seed))
    src = instance(text).compiled
    assert all("_mc = " in src.source(i + 2) for i in range(10))
    _same_as_wasmtime_and_the_loop(text, plan, monkeypatch)


def test_liveness_follows_branches() -> None:
    """A local assigned in the loop and read only after a branch back to an enclosing
    loop is live (it gets its exit value)."""
    text = """(module (memory 1)
  (func (export "f") (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $i i32) (local $t i32) (local $r i32)
    loop $outer
      local.get $r local.get $t i32.add local.set $r
      i32.const 0 local.set $i
      loop
        local.get $a local.get $i i32.add i32.load8_u local.set $t
        local.get $a local.get $i i32.add local.get $b local.get $i i32.add i32.load8_u
        i32.store8
        local.get $b local.get $i i32.add local.get $t i32.store8
        local.get $n local.get $i i32.const 1 i32.add local.tee $i i32.ne br_if 0
      end
      local.get $a i32.const 100 i32.add local.tee $a
      i32.const 1000 i32.lt_u br_if $outer
    end
    local.get $r))"""
    src = instance(text).compiled.source(0)
    assert "_mc = " in src and "l4 = " in src.split("_mc = ")[1].split("else:")[0]
    assert idioms.SLICE_LOOPS
    # The counter is set to 0 right before the loop (control.zeros_before): the slice
    # version's header uses the bound and the bases themselves.
    assert "if 0 < l2 and (_mc <= l1 or _md <= l0)" in src and "_mn" not in src, src


def test_zeros_before() -> None:
    from purewasm.compile.control import zeros_before
    lines = [(1, "if x:", 0), (2, "l3 = 0", 0), (1, "l4 = l5 = 0", 0), (1, "l5 = l6", 0),
             (1, "s0 = l4 + 1", 0), (1, "l7 = 0", 0), (1, "while True:", 0)]
    assert zeros_before(lines, 6) == {4, 7}        # l5 assigned again; l3 in another suite
    assert zeros_before(lines, 2) == set()        # the line before is in another suite
    assert zeros_before([(0, "l1 = 0", 0), (0, "l1 = l1 + 1", 0), (0, "while True:", 0)],
                        2) == set()


def test_pointer_counting_to_an_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The source pointer is the counter (``while (p != end) *q++ = *p++``, by 2 bytes
    an iteration): recognised, and the same as the loop and as wasmtime on disjoint,
    overlapping, odd-length (never reaching the end), out-of-bounds and wrapping
    ranges."""
    differential = pytest.importorskip("differential")
    text = _module(["""  (func (export "cp") (param $p i32) (param $q i32) (param $e i32) (result i64)
    loop
      local.get $q local.get $p i32.load8_u i32.store8
      local.get $q local.get $p i32.load8_u offset=1 i32.store8 offset=1
      local.get $q i32.const 2 i32.add local.set $q
      local.get $e local.get $p i32.const 2 i32.add local.tee $p i32.ne br_if 0
    end
    local.get $p i64.extend_i32_u local.get $q i64.extend_i32_u i64.const 32 i64.shl i64.or)"""])
    assert "_mc = " in instance(text).compiled.source(2)
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE])]
    for p, q, e in [(100, 1000, 140), (1000, 100, 1002), (100, 101, 120), (101, 100, 121),
                    (100, 3000, 105), (PAGE - 10, 64, PAGE + 10), (64, PAGE - 6, 100),
                    (0xFFFFFFF8, 64, 8), (500, 600, 500)]:
        plan.append(("cp", [p, q, e & 0xFFFFFFFF]))
    with_slices = _run(text, plan)
    monkeypatch.setattr(translate, "SLICE_LOOPS", False)
    assert with_slices == _run(text, plan)
    pytest.importorskip("wasmtime")
    wasm = wat2wasm(text)
    module = decode_module(wasm)
    want = differential.run_wasmtime(wasm, module, plan)
    monkeypatch.setattr(translate, "SLICE_LOOPS", True)
    got = differential.run_purewasm(module, plan, None, exact=False)
    assert differential.diff(want, got) == []


def test_slices_while_typed_views_are_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slice assignment of equal length keeps the bytearray's size, so it works while
    the typed views of compile/views.py export its buffer (made by the sum's loop)."""
    text = _module([_counted_loop("sw", 4, 1, True, "add", True), """  (func (export "sum")
    (param $p i32) (param $n i32) (result i64) (local $s i64)
    loop
      local.get $s local.get $p i64.load i64.add local.set $s
      local.get $p i32.const 8 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end
    local.get $s)"""])
    plan: List[Tuple[str, List[Any]]] = [("seed", [0, PAGE]), ("sum", [0, 128]),
                                         ("sw", [0, 2048, 1024]), ("sum", [0, 128]),
                                         ("sum", [2048, 128]), ("grow", []),
                                         ("sw", [PAGE, 64, 4096]), ("sum", [PAGE, 16])]
    if translate.TYPED_VIEWS:
        assert "MV0" in instance(text).compiled.source(3)
    with_slices = _run(text, plan)
    monkeypatch.setattr(translate, "SLICE_LOOPS", False)
    assert with_slices == _run(text, plan)
    assert with_slices[1] != with_slices[3]


# A copy or swap loop whose test is ``i <u n`` (or ``n >u i``) after a step of +1, as
# zig's realloc copies (views.counted_loop's ``below``): a do-while that runs n - i0
# times from i0 < n, once from i0 >= n (or past a wrap from i0 = 2**32 - 1). The slice
# version is taken only when 0 < n - i0.
_BELOW = """  (func (export "%s") (param $a i32) (param $b i32) (param $n i32) (param $i i32)
    (result i64) (local $t i32)
    loop
      %s
      %s br_if 0
    end
    local.get $i i64.extend_i32_u local.get $t i64.extend_i32_u i64.const 32 i64.shl i64.or)"""
_BELOW_MOVES = {
    "copy": "local.get $b local.get $i i32.add local.get $a local.get $i i32.add "
            "i32.load8_u local.tee $t i32.store8",
    "swap": "local.get $a local.get $i i32.add i32.load8_u local.set $t "
            "local.get $a local.get $i i32.add local.get $b local.get $i i32.add i32.load8_u "
            "i32.store8 local.get $b local.get $i i32.add local.get $t i32.store8",
}
_BELOW_TESTS = {
    "lt": "local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u",
    "gt": "local.get $n local.get $i i32.const 1 i32.add local.tee $i i32.gt_u",
}


def _below_module() -> Tuple[str, List[str]]:
    names = ["%s_%s" % (m, c) for m in _BELOW_MOVES for c in _BELOW_TESTS]
    funcs = [_BELOW % (name, _BELOW_MOVES[name.split("_")[0]], _BELOW_TESTS[name.split("_")[1]])
             for name in names]
    return _module(funcs), names


def test_loops_counting_below_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    text, names = _below_module()
    src = instance(text).compiled
    assert all("_mc = " in src.source(i + 2) for i in range(len(names)))
    end = PAGE - 8
    calls = [[64, 1024, 40, 0], [64, 1024, 40, 7], [1024, 64, 5, 4],    # i0 < n: slices
             [64, 1024, 7, 7], [64, 1024, 3, 9],                        # i0 >= n: once
             [64, 1024, 5, 0xFFFFFFFF],                                 # once, then a wrap
             [100, 103, 20, 0], [103, 100, 20, 0], [300, 300, 9, 1],    # overlapping
             [end, 64, 30, 0], [64, end, 30, 2],                       # out of bounds
             [0xFFFFFFF8, 256, 20, 0], [0, 0, 0, 0]]
    plan = [("seed", [0, PAGE])] + [(name, args) for name in names for args in calls]
    _same_as_wasmtime_and_the_loop(text, plan, monkeypatch)


def test_below_needs_a_step_of_one() -> None:
    """``i <u n`` with a step of 2 could step over n and wrap: not counted."""
    two_bytes = (_BELOW_MOVES["copy"] + " " + _BELOW_MOVES["copy"].replace(
        "i32.load8_u", "i32.load8_u offset=1").replace("i32.store8", "i32.store8 offset=1"))
    text = _module([_BELOW % ("by2", two_bytes, _BELOW_TESTS["lt"].replace("i32.const 1",
                                                                           "i32.const 2")),
                    _BELOW % ("by2ne", two_bytes, "local.get $i i32.const 2 i32.add "
                              "local.tee $i local.get $n i32.ne")])
    src = instance(text).compiled
    assert "_mc = " not in src.source(2)
    assert "_mc = " in src.source(3)       # the same body with i != n is a copy
