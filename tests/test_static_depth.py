"""runtime/static_depth.py: which calls cannot go deep (read from the code), and the store
running those on the calling thread instead of handing them to a worker thread."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

import purewasm as w
from purewasm.runtime import call, static_depth
from purewasm.text import parse_module

WAT = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $two (param i32) (result i32) (call $leaf (call $leaf (local.get 0))))
  (func $three (param i32) (result i32) (call $two (local.get 0)) (call $leaf) (drop))
  (func $self (param i32) (result i32) (call $self (local.get 0)))
  (func $ping (param i32) (result i32) (call $pong (local.get 0)))
  (func $pong (param i32) (result i32) (call $ping (local.get 0)))
  (func $above_cycle (param i32) (result i32) (call $ping (local.get 0)))
  (func $imports (param i32) (result i32) (call $host (local.get 0)))
  (func $indirect (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func $tail (param i32) (result i32) (return_call $leaf (local.get 0)))
)"""
NAMES = ["host", "leaf", "two", "three", "self", "ping", "pong", "above_cycle", "imports",
         "indirect", "tail"]


def test_depths() -> None:
    module = parse_module(WAT)
    memo: Dict[int, Optional[int]] = {}
    got = {name: static_depth.call_depth(module, i, memo) for i, name in enumerate(NAMES)}
    assert got == {"host": None, "leaf": 1, "two": 2, "three": 3, "self": None, "ping": None,
                   "pong": None, "above_cycle": None, "imports": None, "indirect": None,
                   "tail": None}


def _chain(n: int) -> str:
    funcs = ['(func $f0 (export "f0") (result i32) (i32.const 7))']
    funcs += ['(func $f%d (export "f%d") (result i32) (call $f%d))' % (i, i, i - 1)
              for i in range(1, n)]
    return "(module %s)" % " ".join(funcs)


def test_a_chain_deeper_than_the_bound_is_not_shallow() -> None:
    limit = static_depth.SHALLOW_DEPTH
    module = parse_module(_chain(limit + 5))
    memo: Dict[int, Optional[int]] = {}
    assert static_depth.call_depth(module, limit - 1, memo) == limit
    assert static_depth.call_depth(module, limit, {}) is None
    assert static_depth.call_depth(module, limit + 4, memo) is None


def test_shallow_calls_stay_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(call, "NEEDS_WORKER_THREAD", True)
    seen: List[Optional[bool]] = []
    real = call.invoke

    def spy(fn: Any, args: Any, max_depth: int = call.DEFAULT_MAX_CALL_DEPTH,
            use_thread: Optional[bool] = None, on_interrupt: Any = None) -> Any:
        seen.append(use_thread)
        return real(fn, args, max_depth, use_thread, on_interrupt)
    monkeypatch.setattr(call, "invoke", spy)
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, """(module
        (func $leaf (export "leaf") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
        (func $deep (export "deep") (param i32) (result i32)
          (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
            (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1))))))))""")
    ex = w.Instance(store, module, []).exports(store)
    assert ex["leaf"](store, 41) == 42
    assert ex["deep"](store, 100) == 100
    # The leaf on the calling thread; the recursive one as call.invoke decides (a worker).
    assert seen == [False, None]
    # A configured choice wins.
    cfg = w.Config()
    cfg.use_worker_thread = True
    engine = w.Engine(cfg)
    store = w.Store(engine)
    leaf = w.Module(engine, '(module (func (export "leaf") (result i32) (i32.const 1)))')
    ex = w.Instance(store, leaf, []).exports(store)
    seen.clear()
    assert ex["leaf"](store) == 1
    assert seen == [True]
