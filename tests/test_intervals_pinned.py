"""The facts of compile/intervals.py on a few functions, pinned (session 8 rewrote the
analysis for speed with the rule: the same facts, so the same generated code, for every
function; scripts/intervals_bench.py checks that on whole modules, this cheaply).

The values were computed by session 7's analysis. A change that makes facts strictly
better (still sound: tests/test_intervals.py) updates them, with TRANSLATOR_VERSION.
"""
from __future__ import annotations

from typing import Dict, Tuple

import pytest

from purewasm.binary import decode_module
from purewasm.compile.intervals import analyse
from purewasm.compile.scan import Scan
from purewasm.compile.translate import Translator
from purewasm.text import wat2wasm

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1

MODULE = """
    (module
      (memory 1)
      ;; 0: nested counted loops over a 2-D array (address arithmetic, a counter
      ;; compared with a parameter, the inner one with a constant).
      (func (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
        block
          local.get $n
          i32.eqz
          br_if 0
          loop
            i32.const 0
            local.set $j
            loop
              local.get $s
              local.get $i
              i32.const 6
              i32.shl
              local.get $j
              i32.const 2
              i32.shl
              i32.add
              i32.load
              i32.add
              local.set $s
              local.get $j
              i32.const 1
              i32.add
              local.tee $j
              i32.const 16
              i32.ne
              br_if 0
            end
            local.get $i
            i32.const 1
            i32.add
            local.tee $i
            local.get $n
            i32.lt_u
            br_if 0
          end
        end
        local.get $s)
      ;; 1: a bounded value minus a larger constant (wraps below 0: no relation kept),
      ;; a condition on the difference, then the value.
      (func (param $x i32) (result i32) (local $y i32)
        local.get $x
        i32.const 10
        i32.gt_u
        if
          i32.const 0
          return
        end
        local.get $x
        i32.const 20
        i32.sub
        local.tee $y
        i32.const -16
        i32.lt_u
        if
          local.get $x
          drop
        end
        local.get $y
        local.get $x
        i32.add)
      ;; 2: a loop with signed conditions, masks, shifts, select, an if/else and a
      ;; counter widened to its type.
      (func (param $p i32) (param $q i64) (result i64) (local $k i32) (local $m i32) (local $r i64)
        loop
          local.get $k
          i32.const 255
          i32.and
          local.set $m
          local.get $k
          i32.const 3
          i32.gt_s
          if
            local.get $m
            i32.const 1
            i32.shr_u
            local.set $m
          else
            local.get $m
            local.get $p
            local.get $k
            i32.const 7
            i32.lt_s
            select
            local.set $m
          end
          local.get $r
          local.get $m
          i64.extend_i32_u
          i64.add
          local.get $q
          i64.const 3
          i64.shl
          i64.xor
          local.set $r
          local.get $k
          i32.const 3
          i32.add
          local.tee $k
          i32.const 100
          i32.lt_s
          br_if 0
        end
        local.get $r
        local.get $k
        i64.extend_i32_s
        i64.mul)
    )
"""

# function index -> (Facts.operands, Facts.locals)
EXPECTED: Dict[int, Tuple[dict, dict]] = {
    # Nested counted loops: the inner counter (!= 16) in [0, 15] at the head and j << 2
    # in [0, 60]; the outer one (<u n) below 2**32 - 1.
    0: ({11: (0, M32 - 1, 6, 6), 14: (0, 15, 2, 2), 15: (0, M32, 0, 60), 21: (0, 15, 1, 1),
         29: (0, M32 - 1, 1, 1)},
        {9: (0, M32 - 1), 12: (0, 15), 19: (0, 15), 22: (1, 16), 27: (0, M32 - 1),
         30: (1, M32), 31: (1, M32)}),
    # x - 20 for x in [0, 10] wraps below 0: its range is exact, but no relation to x
    # is kept, so the condition on the difference does not narrow x (index 14).
    1: ({9: (0, 10, 20, 20), 19: (M32 - 19, M32 - 9, 0, 10)},
        {7: (0, 10), 10: (M32 - 19, M32 - 9), 14: (0, 10), 17: (M32 - 19, M32 - 9),
         18: (0, 10)}),
    # Masks, shifts, select, if/else in a loop whose counter (step 3, < 100 signed) is
    # widened: after the loop, k >= 100 as a signed value.
    2: ({25: (0, M64, 0, M32), 28: (0, M64, 3, 3), 33: (0, M32, 3, 3),
         42: (0, M64, 100, (1 << 31) - 1)},
        {9: (0, 255), 14: (0, 255), 40: (100, (1 << 31) - 1)}),
}


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_pinned_facts(index: int) -> None:
    module = decode_module(wat2wasm(MODULE))
    tr = Translator(module, module.num_imported_funcs() + index)
    body = tr.func.body
    scan = Scan(body)
    facts = analyse(body, tr.local_types, len(tr.type.params), scan.end_of, scan.refs,
                    tr.block_arity, tr.call_arity)
    operands, locals_ = EXPECTED[index]
    assert facts.operands == operands
    assert facts.locals == locals_
