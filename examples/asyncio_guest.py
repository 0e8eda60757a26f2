"""Running guest code from asyncio without blocking the event loop.

A call into Wasm is a plain (synchronous) Python call. Three ways to keep the loop alive:

1. ``asyncio.to_thread``: the call runs on a worker thread while the loop keeps serving
   other tasks (CPython switches threads every few milliseconds).
2. A timeout for that call: ``Store.interrupt()`` (with ``Config.epoch_interruption``)
   stops the guest on its thread when ``asyncio.wait_for`` gives up.
3. No threads (Pyodide): the guest exports a function doing a bounded slice of work, and
   the loop calls it slice after slice, yielding with ``await asyncio.sleep(0)`` between.
   purewasm cannot suspend a call half-way and resume it later (fuel or an epoch deadline
   *end* a call with a trap), so the slicing is the guest's.

    python examples/asyncio_guest.py
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import purewasm

GUEST = r"""
(module
  (global $i (mut i64) (i64.const 0))
  (global $sum (mut i64) (i64.const 0))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "sum_to") (param $n i64) (result i64) (local $i i64) (local $s i64)
    (loop $next
      (local.set $s (i64.add (local.get $s) (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $next (i64.le_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; sliced version: add up to `budget` more terms of 0+1+...+n; returns 1 when done
  (func (export "step") (param $n i64) (param $budget i32) (result i32)
    (block $out
      (loop $next
        (br_if $out (i64.gt_u (global.get $i) (local.get $n)))
        (br_if $out (i32.eqz (local.get $budget)))
        (global.set $sum (i64.add (global.get $sum) (global.get $i)))
        (global.set $i (i64.add (global.get $i) (i64.const 1)))
        (local.set $budget (i32.sub (local.get $budget) (i32.const 1)))
        (br $next)))
    (i64.gt_u (global.get $i) (local.get $n)))
  (func (export "result") (result i64) (global.get $sum)))
"""


def instantiate() -> tuple:
    config = purewasm.Config()
    config.epoch_interruption = True            # lets Store.interrupt() stop a call
    engine = purewasm.Engine(config)
    store = purewasm.Store(engine)
    store.set_epoch_deadline(1 << 62)           # no epoch deadline of its own
    instance = purewasm.Instance(store, purewasm.Module(engine, GUEST), [])
    return store, instance.exports(store)


async def ticker(ticks: List[int]) -> None:
    while True:                                 # stands in for the rest of the program
        ticks[0] += 1
        await asyncio.sleep(0.001)


async def in_a_thread(n: int) -> Dict[str, Any]:
    store, exports = instantiate()
    ticks = [0]
    tick_task = asyncio.ensure_future(ticker(ticks))
    try:
        total = await asyncio.to_thread(exports["sum_to"], store, n)
    finally:
        tick_task.cancel()
    return {"sum": total, "loop kept running": ticks[0] > 0}


async def call_with_timeout(store: purewasm.Store, func: Any, *args: Any,
                            timeout: float) -> Any:
    """``func(store, *args)`` on a thread; past ``timeout`` the guest is interrupted and
    the Trap (INTERRUPT) raised here."""
    call = asyncio.ensure_future(asyncio.to_thread(func, store, *args))
    try:
        return await asyncio.wait_for(asyncio.shield(call), timeout)
    except asyncio.TimeoutError:
        store.interrupt()                       # the guest stops at its next epoch check
        return await call                       # raises the Trap


async def with_timeout() -> Dict[str, Any]:
    store, exports = instantiate()
    try:
        await call_with_timeout(store, exports["spin"], timeout=0.1)
        return {"spin": "returned?"}
    except purewasm.Trap as trap:
        # The store is usable again afterwards.
        return {"spin": trap.trap_code, "then sum_to(10)": exports["sum_to"](store, 10)}


async def in_slices(n: int, budget: int = 10_000) -> Dict[str, Any]:
    store, exports = instantiate()
    slices = 0
    while not exports["step"](store, n, budget):
        slices += 1
        await asyncio.sleep(0)                  # other tasks run between slices
    return {"sum": exports["result"](store), "slices": slices + 1}


async def main() -> Dict[str, Any]:
    results = {"thread": await in_a_thread(200_000), "timeout": await with_timeout(),
               "slices": await in_slices(100_000)}
    for name, result in results.items():
        print(name, result)
    return results


if __name__ == "__main__":
    asyncio.run(main())
