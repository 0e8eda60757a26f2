"""Regression tests for miscompiles that the spec suite did not catch (issue 7).

Every module runs through both lowerings (structured and flat); each case states the
result wasmtime gives. The shapes cover each place where the translator retargets a
value produced on one path (an effect's slot assigned straight into a local) combined
with every way a label's value can be consumed."""
from __future__ import annotations

from typing import Any, List

import pytest

from purewasm import runtime
from purewasm.compile import CompiledModule
from purewasm.text import parse_module

# dlmalloc's tree walk, `t = t->child[0] ? t->child[0] : t->child[1]`: the value of an
# `if` produced by a load on the else path only was assigned into `$p` on that path only,
# so the then path never advanced `$p` and the loop never ended.
TREE_WALK = r"""
(module (memory 1)
  (func (export "f") (param $p i32) (result i32) (local $t i32) (local $n i32)
    loop $l
      local.get $p  i32.load offset=16  local.tee $t
      if (result i32) local.get $t  else local.get $p  i32.load offset=20  end
      local.tee $p
      local.get $n  i32.const 1  i32.add  local.set $n
      br_if $l
    end
    local.get $n)
  (data (i32.const 116) "\c8\00\00\00") (data (i32.const 220) "\2c\01\00\00"))
"""

# One module, many shapes: memory holds 11 at address 0 and 22 at address 4; each export
# produces its value on one path from a load or a call (an effect) and on the other from
# a pure expression, then consumes it by local.set/local.tee/global.set/call/store.
SHAPES = r"""
(module (memory 1) (global $g (mut i32) (i32.const 0))
  (data (i32.const 0) "\0b\00\00\00\16\00\00\00")
  (func $id (param i32) (result i32) local.get 0)
  (func $two (result i32 i32) i32.const 5 i32.const 6)
  (func (export "if_set") (param $c i32) (result i32) (local $x i32)
    local.get $c
    if (result i32) i32.const 7 else i32.const 0 i32.load end
    local.set $x  local.get $x)
  (func (export "if_then_load") (param $c i32) (result i32) (local $x i32)
    local.get $c
    if (result i32) i32.const 4 i32.load else i32.const 9 end
    local.tee $x)
  (func (export "if_call") (param $c i32) (result i32) (local $x i32)
    local.get $c
    if (result i32) i32.const 3 else i32.const 8 call $id end
    local.set $x  local.get $x)
  (func (export "if_global") (param $c i32) (result i32)
    local.get $c
    if (result i32) i32.const 3 else i32.const 4 i32.load end
    global.set $g  global.get $g)
  (func (export "if_store") (param $c i32) (result i32)
    i32.const 8
    local.get $c
    if (result i32) i32.const 3 else i32.const 0 i32.load end
    i32.store  i32.const 8 i32.load)
  (func (export "if_callarg") (param $c i32) (result i32)
    local.get $c
    if (result i32) i32.const 3 else i32.const 4 i32.load end
    call $id)
  (func (export "block_brs") (param $c i32) (result i32) (local $x i32)
    block (result i32)
      i32.const 1
      local.get $c  i32.const 1  i32.eq  br_if 0
      drop
      i32.const 0 i32.load
      local.get $c  i32.const 2  i32.eq  br_if 0
      drop
      i32.const 4 i32.load
    end
    local.set $x  local.get $x)
  (func (export "block_br_load") (param $c i32) (result i32) (local $x i32)
    block (result i32)
      i32.const 0 i32.load
      local.get $c  br_if 0
      drop
      i32.const 33
    end
    local.tee $x)
  (func (export "block_br_table") (param $c i32) (result i32) (local $x i32)
    block (result i32)
      block (result i32)
        i32.const 0 i32.load
        local.get $c  br_table 0 1 0
      end
      i32.const 4 i32.load  i32.add
    end
    local.set $x  local.get $x)
  (func (export "multi") (param $c i32) (result i32) (local $x i32) (local $y i32)
    local.get $c
    if (result i32 i32) call $two else i32.const 0 i32.load  i32.const 4 i32.load end
    local.set $y  local.set $x
    local.get $x  i32.const 100  i32.mul  local.get $y  i32.add)
  (func (export "loop_value") (param $n i32) (result i32) (local $x i32)
    loop (result i32)
      local.get $n  i32.const 1  i32.sub  local.tee $n
      br_if 0
      i32.const 0 i32.load
    end
    local.set $x  local.get $x)
  (func (export "nested") (param $a i32) (param $b i32) (result i32) (local $x i32)
    local.get $a
    if (result i32)
      local.get $b
      if (result i32) i32.const 0 i32.load else i32.const 2 end
    else
      local.get $b
      if (result i32) i32.const 3 else i32.const 4 i32.load end
    end
    local.tee $x  local.get $x  i32.add)
  (func (export "tee_chain") (param $c i32) (result i32) (local $x i32) (local $y i32)
    local.get $c
    if (result i32) i32.const 5 else i32.const 0 i32.load end
    local.tee $x  local.tee $y  local.get $x  i32.add  local.get $y  i32.add)
  (func (export "br_from_then") (param $c i32) (result i32) (local $x i32)
    block (result i32)
      local.get $c
      if (result i32) i32.const 4 i32.load br 1 else i32.const 6 end
    end
    local.set $x  local.get $x)
)
"""

CASES = [
    ("if_set", [1], 7), ("if_set", [0], 11),
    ("if_then_load", [1], 22), ("if_then_load", [0], 9),
    ("if_call", [1], 3), ("if_call", [0], 8),
    ("if_global", [1], 3), ("if_global", [0], 22),
    ("if_store", [1], 3), ("if_store", [0], 11),
    ("if_callarg", [1], 3), ("if_callarg", [0], 22),
    ("block_brs", [1], 1), ("block_brs", [2], 11), ("block_brs", [3], 22),
    ("block_br_load", [1], 11), ("block_br_load", [0], 33),
    ("block_br_table", [0], 33), ("block_br_table", [1], 11), ("block_br_table", [5], 33),
    ("multi", [1], 506), ("multi", [0], 1122),
    ("loop_value", [3], 11),
    ("nested", [1, 1], 22), ("nested", [1, 0], 4), ("nested", [0, 1], 6),
    ("nested", [0, 0], 44),
    ("tee_chain", [1], 15), ("tee_chain", [0], 33),
    ("br_from_then", [1], 22), ("br_from_then", [0], 6),
]


def _invoke(wat: str, mode: Any, name: str, args: List[int]) -> Any:
    module = parse_module(wat)
    store = runtime.Store()
    inst = runtime.instantiate(store, module, [], CompiledModule(module, mode))
    return store.invoke(inst.exports[name], args)


@pytest.mark.parametrize("mode", ["structured", "flat"])
def test_tree_walk_terminates(mode: str) -> None:
    assert _invoke(TREE_WALK, mode, "f", [100]) == 3


@pytest.mark.parametrize("mode", ["structured", "flat"])
@pytest.mark.parametrize("name,args,want", CASES)
def test_value_on_one_path_reaches_its_consumer(mode: str, name: str, args: List[int],
                                                 want: int) -> None:
    assert _invoke(SHAPES, mode, name, args) == want


# A loop parameter entered with a narrow value (a zeroed local: the interval facts give
# it one bit): the slot kept that bound on the back edge, so `s0 + 0x7FFF...` looked
# canonical in the second iteration and the i64 sum went unreduced past 2**64 (smith
# campaign, session 9, seed 911530). Also i32, and a parameter entered as a constant.
LOOP_PARAMS = r"""
(module
  (func (export "i64") (param i32) (result i64) (local i64)
    local.get 1
    loop (param i64) (result i64)
      i64.const 0x7FFFFFFFFFFFFFFF i64.add
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end)
  (func (export "i32") (param i32) (result i32) (local i32)
    local.get 1
    loop (param i32) (result i32)
      i32.const 0x7FFFFFFF i32.add
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end)
  (func (export "const") (param i32) (result i32)
    i32.const 1
    loop (param i32) (result i32)
      i32.const 0x40000000 i32.mul i32.const 3 i32.add
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end))
"""


@pytest.mark.parametrize("mode", ["structured", "flat"])
def test_loop_parameters_forget_the_entry_value(mode: str) -> None:
    for n in (1, 2, 3, 4):
        assert _invoke(LOOP_PARAMS, mode, "i64", [n]) == n * 0x7FFFFFFFFFFFFFFF % 2**64
        assert _invoke(LOOP_PARAMS, mode, "i32", [n]) == n * 0x7FFFFFFF % 2**32
        want = 1
        for _ in range(n):
            want = (want * 0x40000000 + 3) % 2**32
        assert _invoke(LOOP_PARAMS, mode, "const", [n]) == want
