"""Counted loops run as ``for _k in range(n)`` (compile/views.counted_loop and trip_count,
in the view version of a loop versioned for typed views, and any other innermost loop:
compile/control.COUNTED_FOR_LOOPS): every shape of the counter's
step and test the C compilers emit, every kind of entry value (counting up and down, a
bound already passed so the counter wraps around 2**32, a bound the counter never meets,
the bound equal to the entry value: a full turn), each run with views (the for loop)
and without (the struct loop's ``while True``, the reference), in loops that read memory
(views), compute only, or call a function, compared: the number of
iterations and the counter's final value. A safety exit ends the loops that would run
too long; it is a second way out, which the for loop must keep working."""
from __future__ import annotations

import itertools
from typing import Any, Dict, List

import pytest

from compile_helpers import instance
from purewasm.compile import control, translate, views
from purewasm.compile.entries import CPYTHON_SHAPES

SAFETY = 70000          # iterations before the safety exit (a full turn of step 2**16 fits)

# The step and the test before ``br_if 0``; {c}: the step's constant (an i32 literal).
SHAPES = {
    # X = X + c; ...; X != B
    "set-then-ne": ("local.get $x i32.const {c} i32.add local.set $x",
                    "local.get $x local.get $b i32.ne"),
    # B != (X = X + c)
    "bound-then-tee": ("", "local.get $b local.get $x i32.const {c} i32.add local.tee $x i32.ne"),
    # (X = X + c) != B
    "tee-then-bound": ("", "local.get $x i32.const {c} i32.add local.tee $x local.get $b i32.ne"),
    # (X = X + c) != 40 (a constant bound)
    "tee-then-const": ("", "local.get $x i32.const {c} i32.add local.tee $x i32.const 40 i32.ne"),
    # (X = X + c) != 0 (just the tee)
    "countdown": ("", "local.get $x i32.const {c} i32.add local.tee $x"),
    # X = X - |c| with i32.sub
    "sub-then-ne": ("local.get $x i32.const {c} i32.sub local.set $x",
                    "local.get $x local.get $b i32.ne"),
}
STEPS = (1, 2, 4, 8, 65536, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFC)     # +1, ..., -1, -2, -4


# The work of an iteration: n += 1 (plus a load through an aligned pointer: the loop is
# versioned for views; or through a call: no views).
WORK = {
    "view": "local.get $n local.get $p i64.load i64.add i64.const 1 i64.add local.set $n",
    "plain": "local.get $n i64.const 1 i64.add local.set $n",
    "call": "local.get $n call $inc local.set $n",
}


def _func(name: str, shape: str, c: int, kind: str = "view") -> str:
    step, test = SHAPES[shape]
    return """
  (func (export "{name}") (param $x i32) (param $b i32) (param $p i32) (result i64)
    (local $n i64)
    block
      loop
        {work}
        local.get $n i64.const {safety} i64.ge_u br_if 1
        {step}
        {test}
        br_if 0
      end
    end
    local.get $n i64.const 32 i64.shl local.get $x i64.extend_i32_u i64.or)""".format(
        name=name, safety=SAFETY, step=step.format(c=c), test=test.format(c=c),
        work=WORK[kind])


def _module(kind: str = "view") -> str:
    funcs = [_func("%s_%d" % (shape, k), shape, c, kind)
             for shape in SHAPES for k, c in enumerate(STEPS)]
    return ("(module (memory 1)\n(func $inc (param i64) (result i64) local.get 0 i64.const 1"
            " i64.add)\n%s)" % "\n".join(funcs))


ENTRIES = [(0, 40), (40, 0), (3, 40), (40, 40), (0xFFFFFFF0, 8), (8, 0xFFFFFFF0),
           (0x7FFFFFF8, 0x80000008), (1, 0), (0, 1)]


def _run_all(text: str) -> Dict[str, List[Any]]:
    inst = instance(text)
    out: Dict[str, List[Any]] = {}
    for shape, k in itertools.product(SHAPES, range(len(STEPS))):
        name = "%s_%d" % (shape, k)
        out[name] = [inst.func(name)(x, b, 64) for x, b in ENTRIES]
    return out


@pytest.mark.parametrize("kind", sorted(WORK))
def test_counted_loops_same_as_while_loops(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    _same_as_while_loops(monkeypatch, _module(kind))


def _same_as_while_loops(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """``text``'s functions give the same results as their while loops (no views, no for
    loops), over cases that cover the three outcomes: the bound met, a wrap-around, the
    safety exit."""
    got = _run_all(text)
    monkeypatch.setattr(translate, "TYPED_VIEWS", False)
    monkeypatch.setattr(control, "COUNTED_FOR_LOOPS", False)
    want = _run_all(text)
    assert got == want
    counts = {r >> 32 for rs in want.values() for r in rs}
    assert SAFETY in counts and 1 in counts and len(counts) > 10


@pytest.mark.parametrize("kind", sorted(WORK))
def test_counted_loops_are_for_loops(kind: str) -> None:
    if not (views.TYPED_VIEWS if kind == "view" else CPYTHON_SHAPES):
        pytest.skip("CPython's shapes (typed views: and a little-endian host)")
    inst = instance(_module(kind))
    # (function 0 is $inc)
    sources = [inst.compiled.source(i) for i in range(1, 1 + len(SHAPES) * len(STEPS))]
    assert all("for _k in range(" in src for src in sources), [
        src for src in sources if "for _k" not in src][:1]


def test_only_innermost_loops_are_for_loops() -> None:
    """A counted loop around another loop stays a while loop (a break in the inner loop
    is not a way out of it); the inner one is counted too, and runs as a for loop."""
    text = """(module
      (func (export "f") (param $i i32) (param $j i32) (result i32) (local $n i32) (local $k i32)
        loop
          local.get $j local.set $k
          loop
            local.get $n i32.const 1 i32.add local.set $n
            local.get $k i32.const 1 i32.sub local.tee $k
            br_if 0
          end
          local.get $i i32.const 1 i32.sub local.tee $i
          br_if 0
        end
        local.get $n))"""
    inst = instance(text)
    assert inst.func("f")(3, 4) == 12 and inst.func("f")(1, 1) == 1
    if CPYTHON_SHAPES:
        src = inst.compiled.source(0)
        assert src.count("for _k in range(") == 1 and "while True:" in src, src


@pytest.mark.parametrize("c", [1, 2, 4, 8, 65536, -1, -2, -4, -65536])
def test_trip_count_is_the_first_meeting(c: int) -> None:
    """trip_count's formula against counting, on entry values near every edge."""
    step = abs(c)
    for x0, b in itertools.product((0, 1, 2, 3, 8, 40, 2**31 - 2, 2**31, 2**32 - 8,
                                    2**32 - 1), (0, 1, 4, 40, 2**31, 2**32 - 4)):
        n = eval(views.trip_count((0, c, str(b)) if b else (0, c, "0")), {"l0": x0})
        # Brute force where it is short; else the congruence (x0 + n*c == b, n least).
        if (b - x0 if c > 0 else x0 - b) % step:
            assert n == 2**64
            continue
        assert 1 <= n <= 2**32 // step
        assert (x0 + n * c - b) % 2**32 == 0
        if n > 1:
            assert (x0 + (n - 1) * c - b) % 2**32 != 0
        for k in range(1, min(n, 2000)):
            assert (x0 + k * c - b) % 2**32 != 0


def test_loops_that_are_not_counted() -> None:
    """Shapes counted_loop must refuse: the bound assigned in the loop, two assignments
    of the counter, a step that is not a power of two, another branch to the head."""
    text = """(module (memory 1)
      (func (export "bound_moves") (param $x i32) (param $b i32) (param $p i32)
        loop
          local.get $p i64.load drop
          local.get $b i32.const 1 i32.add local.set $b
          local.get $x i32.const 1 i32.add local.tee $x local.get $b i32.ne br_if 0
        end)
      (func (export "two_steps") (param $x i32) (param $b i32) (param $p i32)
        loop
          local.get $p i64.load drop
          local.get $x i32.const 1 i32.add local.set $x
          local.get $x i32.const 1 i32.add local.tee $x local.get $b i32.ne br_if 0
        end)
      (func (export "step3") (param $x i32) (param $b i32) (param $p i32)
        loop
          local.get $p i64.load drop
          local.get $x i32.const 3 i32.add local.tee $x local.get $b i32.ne br_if 0
        end)
      (func (export "continue") (param $x i32) (param $b i32) (param $p i32)
        loop
          local.get $p i64.load drop
          local.get $x i32.const 1 i32.and br_if 0
          local.get $x i32.const 2 i32.add local.tee $x local.get $b i32.ne br_if 0
        end))"""
    inst = instance(text)
    for i in range(4):
        assert "for _k" not in inst.compiled.source(i), inst.compiled.source(i)
    # The same without the loads (no views): still no for loop.
    inst = instance(text.replace("local.get $p i64.load drop", "nop"))
    for i in range(4):
        assert "for _k" not in inst.compiled.source(i), inst.compiled.source(i)


def _stepping_module() -> str:
    """Loops of every shape that also step a pointer through memory (i32 loads, +4):
    in the view version the pointer's element index is the for loop's own variable
    (views._induction_index). Each returns the iterations, the counter and the pointer
    after the loop (restored from the index: at the bound, at the safety exit)."""
    funcs = []
    for shape in SHAPES:
        for k, c in enumerate(STEPS):
            step, test = SHAPES[shape]
            funcs.append("""
  (func (export "{shape}_{k}") (param $x i32) (param $b i32) (param $p i32) (result i64)
    (local $n i64)
    block
      loop
        local.get $n local.get $p i64.load32_u i64.add i64.const 1 i64.add local.set $n
        local.get $n i64.const {safety} i64.ge_u br_if 1
        local.get $p i32.const 4 i32.add local.set $p
        {step}
        {test}
        br_if 0
      end
    end
    local.get $n i64.const 32 i64.shl local.get $x i64.extend_i32_u i64.or
    local.get $p i64.extend_i32_u i64.const 13 i64.shl i64.xor)""".format(
                shape=shape, k=k, safety=SAFETY, step=step.format(c=c),
                test=test.format(c=c)))
    return "(module (memory 5)\n%s)" % "\n".join(funcs)


def test_stepping_pointers_same_as_while_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _stepping_module()
    if views.TYPED_VIEWS:
        inst = instance(text)
        sources = [inst.compiled.source(i) for i in range(len(SHAPES) * len(STEPS))]
        assert all("for _x2 in range(_x2, " in src for src in sources), [
            src for src in sources if "for _x2" not in src][:1]
    _same_as_while_loops(monkeypatch, text)
