"""Fuel metering and epoch interruption through the public API (wasmtime-py's shapes):
Config.consume_fuel + Store.set_fuel/get_fuel, Config.epoch_interruption +
Engine.increment_epoch + Store.set_epoch_deadline."""
from __future__ import annotations

import threading
import time

import pytest

import purewasm

LOOPS = """
(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "count") (param i32) (result i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i)))
"""


def instance(config: purewasm.Config):
    engine = purewasm.Engine(config)
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, LOOPS), [])
    return engine, store, inst.exports(store)


def test_fuel_stops_an_endless_loop_and_the_store_stays_usable() -> None:
    config = purewasm.Config()
    config.consume_fuel = True
    _, store, exports = instance(config)
    store.set_fuel(10_000)
    with pytest.raises(purewasm.Trap) as info:
        exports["spin"](store)
    assert info.value.trap_code == purewasm.TrapCode.OUT_OF_FUEL
    assert store.get_fuel() == 0
    store.set_fuel(100_000)
    assert exports["count"](store, 100) == 100
    used = 100_000 - store.get_fuel()
    assert 100 * 5 <= used <= 100 * 12       # a handful of instructions per iteration


def test_a_new_store_has_no_fuel() -> None:
    config = purewasm.Config()
    config.consume_fuel = True
    _, store, exports = instance(config)
    assert store.get_fuel() == 0
    with pytest.raises(purewasm.Trap) as info:
        exports["count"](store, 1)
    assert info.value.trap_code == purewasm.TrapCode.OUT_OF_FUEL


def test_fuel_needs_the_config() -> None:
    _, store, exports = instance(purewasm.Config())
    with pytest.raises(purewasm.WasmtimeError):
        store.set_fuel(10)
    assert exports["count"](store, 1000) == 1000     # unmetered


def test_epoch_deadline_interrupts_a_running_guest() -> None:
    config = purewasm.Config()
    config.epoch_interruption = True
    engine, store, exports = instance(config)
    store.set_epoch_deadline(1)
    assert exports["count"](store, 1000) == 1000     # deadline not reached yet
    ticker = threading.Timer(0.2, engine.increment_epoch)
    ticker.start()
    start = time.monotonic()
    with pytest.raises(purewasm.Trap) as info:
        exports["spin"](store)
    ticker.join()
    assert info.value.trap_code == purewasm.TrapCode.INTERRUPT
    assert time.monotonic() - start < 30
    store.set_epoch_deadline(1)
    assert exports["count"](store, 10) == 10


def test_epoch_deadline_starts_at_zero() -> None:
    config = purewasm.Config()
    config.epoch_interruption = True
    _, store, exports = instance(config)
    with pytest.raises(purewasm.Trap) as info:
        exports["count"](store, 1)
    assert info.value.trap_code == purewasm.TrapCode.INTERRUPT
