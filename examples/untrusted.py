"""Running untrusted code: fuel, a wall-clock deadline and memory limits.

Each limit stops a hostile module with a Trap (or a failed memory.grow), and the store
stays usable: the embedder decides what happens next. docs/SECURITY.md has the threat
model and every default limit.

    python examples/untrusted.py
"""
from __future__ import annotations

from typing import Dict

import purewasm

HOSTILE = r"""
(module
  (memory (export "memory") 1)
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "work") (param $n i32) (result i32) (local $i i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  ;; pages to add; returns the old size, or -1 when refused
  (func (export "grab") (param i32) (result i32) (memory.grow (local.get 0))))
"""


def with_fuel() -> Dict[str, object]:
    config = purewasm.Config()
    config.consume_fuel = True                  # compiled-in counting: one unit an instruction
    engine = purewasm.Engine(config)
    store = purewasm.Store(engine)
    exports = purewasm.Instance(store, purewasm.Module(engine, HOSTILE), []).exports(store)
    report: Dict[str, object] = {}

    store.set_fuel(1_000_000)
    report["work(1000)"] = exports["work"](store, 1000)
    report["fuel left"] = store.get_fuel()
    store.set_fuel(50_000)
    try:
        exports["spin"](store)
    except purewasm.Trap as trap:
        report["spin"] = trap.trap_code
    return report


def with_deadline(seconds: float) -> Dict[str, object]:
    config = purewasm.Config()
    config.epoch_interruption = True            # checks at function entries and loop edges
    engine = purewasm.Engine(config)
    store = purewasm.Store(engine)
    store.set_epoch_deadline(1 << 62)           # only the wall clock should stop it
    store.set_deadline(seconds)                 # needs no thread (works on Pyodide too)
    exports = purewasm.Instance(store, purewasm.Module(engine, HOSTILE), []).exports(store)
    try:
        exports["spin"](store)
        return {"spin": "returned?"}
    except purewasm.Trap as trap:
        return {"spin": trap.trap_code}


def with_memory_limit() -> Dict[str, object]:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    store.set_limits(memory_size=4 * 65536)     # 4 pages of 64 KiB per memory
    exports = purewasm.Instance(store, purewasm.Module(engine, HOSTILE), []).exports(store)
    return {"grab(2)": exports["grab"](store, 2), "grab(10)": exports["grab"](store, 10)}


def main() -> None:
    print("fuel:", with_fuel())
    print("deadline:", with_deadline(0.2))
    print("memory:", with_memory_limit())


if __name__ == "__main__":
    main()
