"""``local.set`` of a value its local already holds (compile/intervals.Facts.held) is
left out of the translation: a constant the local's bounds pin down (fib's second
``l1 = 0``), or a local it equals (a copy at a loop's head that the back edge keeps).

The facts are checked set by set against what holds on every path, and translated
functions against their results (and the shapes: the line is gone, the entry zero that
the left-out set no longer provides is there, a swap loop still folds its counter's
zero)."""
from __future__ import annotations

from typing import List

import pytest

from compile_helpers import instance
from purewasm.binary import decode_module
from purewasm.compile.entries import CPYTHON_SHAPES
from purewasm.compile.intervals import analyse
from purewasm.compile.scan import Scan
from purewasm.compile.translate import Translator
from purewasm.text import wat2wasm


def _held(body_wat: str, params: str = "(param i32 i32)", locals_: str = "(local i32 i32)"
          ) -> List[bool]:
    """For each ``local.set`` of the function, in order: whether it is held."""
    text = "(module (func %s (result i32) %s %s local.get 0))" % (params, locals_, body_wat)
    module = decode_module(wat2wasm(text))
    tr = Translator(module, 0)
    body = tr.func.body
    scan = Scan(body)
    facts = analyse(body, tr.local_types, len(tr.type.params), scan.end_of, scan.refs,
                    tr.block_arity, tr.call_arity)
    return [i in facts.held for i, ins in enumerate(body) if ins.op == "local.set"]


@pytest.mark.parametrize("body, want", [
    # locals start at 0: setting 0 is held, 5 is not, then 5 again is
    ("i32.const 0 local.set 2 i32.const 5 local.set 2 i32.const 5 local.set 2",
     [True, False, True]),
    # a parameter's value is unknown: setting it to 0 is not held
    ("i32.const 0 local.set 0", [False]),
    # a copy, then the same copy: held; after its source changed: not
    ("local.get 0 local.set 2 local.get 0 local.set 2", [False, True]),
    ("local.get 0 local.set 2 local.get 2 local.set 0", [False, True]),
    ("local.get 0 local.set 2 local.get 1 local.set 0 local.get 0 local.set 2",
     [False, False, False]),
    # a copy plus a constant is not a copy
    ("local.get 0 local.set 2 local.get 0 i32.const 1 i32.add local.set 2", [False, False]),
    # paths joining: held only if it holds on both
    ("local.get 1 if i32.const 7 local.set 2 end i32.const 0 local.set 2", [False, False]),
    ("local.get 1 if i32.const 7 local.set 2 else i32.const 0 local.set 2 end",
     [False, True]),
    ("local.get 0 local.set 2 local.get 1 if nop else local.get 0 local.set 2 end "
     "local.get 0 local.set 2", [False, True, True]),
    ("local.get 0 local.set 2 local.get 1 if i32.const 1 local.set 2 end "
     "local.get 0 local.set 2", [False, False, False]),
    # a loop: the head joins the back edge, which assigned the local
    ("loop i32.const 0 local.set 2 local.get 2 i32.const 1 i32.add local.set 2 "
     "local.get 2 i32.const 9 i32.lt_u br_if 0 end", [False, False]),
    # ... or did not
    ("loop i32.const 0 local.set 2 local.get 1 i32.const 1 i32.sub local.set 1 "
     "local.get 1 br_if 0 end", [True, False]),
])
def test_held_facts(body: str, want: List[bool]) -> None:
    assert _held(body) == want


# fib as clang -O2 lowers it: one of its two recursions made a loop, the sum in $acc.
FIB = """(module
  (func $fib (export "fib") (param $n i32) (result i32) (local $m i32) (local $acc i32)
    i32.const 0 local.set $acc
    block
      local.get $n i32.const 2 i32.lt_s br_if 0
      i32.const 0 local.set $acc
      loop
        local.get $n local.set $m
        local.get $m i32.const 2 i32.sub local.set $n
        local.get $m i32.const 1 i32.sub call $fib local.get $acc i32.add local.set $acc
        local.get $m i32.const 3 i32.gt_u br_if 0
      end
    end
    local.get $n local.get $acc i32.add)
  (func (export "copies") (param $x i32) (param $k i32) (result i32) (local $y i32)
    local.get $x local.set $y
    block
      loop
        local.get $k i32.eqz br_if 1
        local.get $k i32.const 1 i32.sub local.set $k
        local.get $x local.set $y
        local.get $y i32.const 3 i32.mul local.get $k i32.add local.set $x
        local.get $x local.set $y
        br 0
      end
    end
    local.get $x local.get $y i32.add))"""


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def _copies(x: int, k: int) -> int:
    y = x
    while k:
        k -= 1
        x = (x * 3 + k) % 2**32
        y = x
    return (x + y) % 2**32


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_held_sets_run(mode: str) -> None:
    inst = instance(FIB, mode=mode)
    assert [inst.func("fib")(n) for n in range(15)] == [_fib(n) for n in range(15)]
    assert inst.func("fib")(-5 % 2**32) == -5 % 2**32
    for x, k in ((0, 0), (5, 1), (7, 10), (2**32 - 1, 3)):
        assert inst.func("copies")(x, k) == _copies(x, k)
    if CPYTHON_SHAPES and mode is None:
        src = inst.compiled.source(0)
        # $acc: one zero, at entry (the set inside the block is held; the first set,
        # also held, no longer assigns it before the function's end reads it)
        assert src.count("l2 = 0") == 1 and src.splitlines()[2].strip() == "l2 = 0", src
        src = inst.compiled.source(1)
        # three copies: the one at the loop's head is held (on entry and on the back
        # edge $y == $x), the first and the one after $x changed stay
        assert src.count("l2 = l0") == 2, src


def test_swap_loop_keeps_its_zero_fold() -> None:
    """A swap loop's counter set to 0 right before it, where it holds 0 already (the set
    is held, no line says so): the slice version still folds the zero
    (control.PyLoop.entry_zeros), and swaps."""
    text = """(module (memory 1)
  (func (export "f") (param $a i32) (param $b i32) (param $n i32) (local $i i32) (local $t i32)
    i32.const 0 local.set $i
    loop
      local.get $a local.get $i i32.add i32.load8_u local.set $t
      local.get $a local.get $i i32.add local.get $b local.get $i i32.add i32.load8_u
      i32.store8
      local.get $b local.get $i i32.add local.get $t i32.store8
      local.get $n local.get $i i32.const 1 i32.add local.tee $i i32.ne br_if 0
    end))"""
    inst = instance(text)
    data = inst.memories[0].data
    data[0:8] = bytes(range(8))
    inst.func("f")(0, 4, 3)
    assert bytes(data[0:8]) == bytes([4, 5, 6, 3, 0, 1, 2, 7])
    if CPYTHON_SHAPES:
        src = inst.compiled.source(0)
        # one zero: the entry's (the set is held; the loop reads $i, so it is live)
        assert src.count("l3 = 0") == 1 and src.splitlines()[2] == "    l3 = 0", src
        assert "if 0 < l2 and (_mc <= l1 or _md <= l0)" in src and "_mn" not in src, src
