"""Limits an embedder sets (issue 8): Store.set_limits at every growth, store ownership of
objects, Config.max_wasm_stack, Store.set_deadline, and the CLI's -W options."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import List

import pytest

import purewasm as w
from purewasm.errors import InstantiationError, Trap, TrapCode, WasmtimeError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GROW = """(module (memory (export "mem") 1) (table (export "tab") 1 funcref)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"""


def _instance(store: w.Store, wat: str, imports: List[object] = ()) -> w.InstanceExports:
    return w.Instance(store, w.Module(store.engine, wat), list(imports)).exports(store)


# --- Store.set_limits (L1, finding 11) ------------------------------------------------------

def test_memory_limit_set_after_instantiation_applies() -> None:
    store = w.Store()
    ex = _instance(store, GROW)
    store.set_limits(memory_size=3 * 65536)
    assert ex["grow"](store, 2) == 1          # 3 pages: at the limit
    assert ex["grow"](store, 1) == -1         # before: ignored, grew to 4
    with pytest.raises(WasmtimeError):
        ex["mem"].grow(store, 1)               # the API's grow obeys it too
    assert ex["mem"].size(store) == 3


def test_table_limit_set_after_instantiation_applies() -> None:
    store = w.Store()
    ex = _instance(store, GROW)
    store.set_limits(table_elements=5)
    assert ex["tgrow"](store, 4) == 1
    assert ex["tgrow"](store, 1) == -1
    with pytest.raises(WasmtimeError):
        ex["tab"].grow(store, 1, None)


def test_limits_apply_to_host_made_memories_and_tables() -> None:
    store = w.Store()
    mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
    store.set_limits(memory_size=65536)
    with pytest.raises(WasmtimeError):
        mem.grow(store, 1)
    with pytest.raises(InstantiationError):
        w.Memory(store, w.MemoryType(w.Limits(2, None)))


def test_count_limits() -> None:
    store = w.Store()
    store.set_limits(memories=1, tables=1)
    module = w.Module(store.engine, "(module (memory 1) (table 1 funcref))")
    w.Instance(store, module, [])
    with pytest.raises(InstantiationError, match="(table|memory) count limit of 1"):
        w.Instance(store, module, [])
    other = w.Store()
    other.set_limits(instances=1)
    empty = w.Module(other.engine, "(module)")
    w.Instance(other, empty, [])
    with pytest.raises(InstantiationError, match="instance limit"):
        w.Instance(other, empty, [])


def test_default_limits() -> None:
    store = w.Store()
    with pytest.raises(InstantiationError, match="memory limit"):
        _instance(store, "(module (memory 16385))")      # just over 1 GiB
    with pytest.raises(InstantiationError, match="table limit"):
        _instance(store, "(module (table 1000001 funcref))")


# --- objects of another store (finding 14) --------------------------------------------------

def test_func_of_another_store_refused_as_import() -> None:
    a, b = w.Store(), w.Store()
    f = w.Func(a, w.FuncType([], []), lambda: None)
    module = w.Module(b.engine, '(module (import "m" "f" (func)))')
    with pytest.raises(WasmtimeError, match="different store"):
        w.Instance(b, module, [f])


def test_memory_of_another_store_refused_as_import() -> None:
    a, b = w.Store(), w.Store()
    mem = w.Memory(a, w.MemoryType(w.Limits(1, None)))
    module = w.Module(b.engine, '(module (import "m" "mem" (memory 1)))')
    with pytest.raises(WasmtimeError, match="different store"):
        w.Instance(b, module, [mem])


def test_table_set_with_function_of_another_store_refused() -> None:
    a, b = w.Store(), w.Store()
    table = w.Table(b, w.TableType(w.ValType.funcref(), w.Limits(2, None)), None)
    f = w.Func(a, w.FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError, match="different store"):
        table.set(b, 0, f)
    with pytest.raises(WasmtimeError, match="different store"):
        table.grow(b, 1, f)
    table.set(b, 0, w.Func(b, w.FuncType([], []), lambda: None))   # its own store: fine


def test_linker_definitions_shared_between_stores_still_work() -> None:
    # A Linker's host functions are store-independent: one per store, never mixed.
    engine = w.Engine()
    linker = w.Linker(engine)
    linker.define_func("m", "f", w.FuncType([], [w.ValType.i32()]), lambda: 7)
    module = w.Module(engine, '(module (import "m" "f" (func $f (result i32))) '
                              '(func (export "g") (result i32) call $f))')
    for _ in range(2):
        store = w.Store(engine)
        g = linker.instantiate(store, module).exports(store)["g"]
        assert g(store) == 7


# --- host results (finding 17) --------------------------------------------------------------

def test_host_int_for_f64_result_is_type_error() -> None:
    store = w.Store()
    hf = w.Func(store, w.FuncType([], [w.ValType.f64()]), lambda: 1)
    ex = _instance(store, '(module (import "h" "f" (func $f (result f64))) '
                          '(func (export "g") (result f64) call $f))', [hf])
    with pytest.raises(TypeError):
        ex["g"](store)
    ok = w.Func(store, w.FuncType([], [w.ValType.f64()]), lambda: 1.5)
    ex2 = _instance(store, '(module (import "h" "f" (func $f (result f64))) '
                           '(func (export "g") (result f64) call $f))', [ok])
    assert ex2["g"](store) == 1.5


# --- Config.max_wasm_stack (L1) -------------------------------------------------------------

RECURSE = """(module (func $f (export "f") (param i32) (result i32)
  local.get 0 i32.eqz if i32.const 0 return end
  local.get 0 i32.const 1 i32.sub call $f))"""


def test_max_wasm_stack_maps_to_a_depth() -> None:
    cfg = w.Config()
    cfg.max_wasm_stack = 52 * 500          # ~500 frames
    assert cfg.max_call_depth == 500
    store = w.Store(w.Engine(cfg))
    f = _instance(store, RECURSE)["f"]
    assert f(store, 400) == 0
    with pytest.raises(Trap) as info:
        f(store, 2000)
    assert info.value.trap_code is TrapCode.STACK_OVERFLOW


def test_max_wasm_stack_rejects_nonsense() -> None:
    cfg = w.Config()
    with pytest.raises(WasmtimeError):
        cfg.max_wasm_stack = 0


# --- wall-clock deadline (L2) ---------------------------------------------------------------

SPIN = '(module (func (export "spin") (loop (br 0))) (func (export "one") (result i32) i32.const 1))'


def test_deadline_stops_a_loop_without_threads() -> None:
    cfg = w.Config()
    cfg.epoch_interruption = True
    store = w.Store(w.Engine(cfg))
    store.set_epoch_deadline(1 << 40)
    ex = _instance(store, SPIN)
    store.set_deadline(0.2)
    start = time.monotonic()
    with pytest.raises(Trap) as info:
        ex["spin"](store)
    assert info.value.trap_code is TrapCode.INTERRUPT
    assert 0.15 < time.monotonic() - start < 5
    store.set_deadline(None)
    assert ex["one"](store) == 1


def test_deadline_needs_epoch_interruption() -> None:
    with pytest.raises(WasmtimeError, match="epoch_interruption"):
        w.Store().set_deadline(1.0)


def test_epoch_increment_is_seen_at_once_by_the_next_check() -> None:
    cfg = w.Config()
    cfg.epoch_interruption = True
    engine = w.Engine(cfg)
    store = w.Store(engine)
    store.set_epoch_deadline(1)
    calls = []

    def tick() -> None:
        calls.append(1)
        engine.increment_epoch()
    hf = w.Func(store, w.FuncType([], []), tick)
    ex = _instance(store, '(module (import "h" "t" (func $t))'
                          ' (global $n (export "n") (mut i32) (i32.const 0))'
                          ' (func (export "run") (call $t) (loop (global.set $n (i32.add '
                          '(global.get $n) (i32.const 1))) (br 0))))', [hf])
    with pytest.raises(Trap):
        ex["run"](store)
    # The loop's first back-edge check saw the new epoch (a countdown alone would have
    # let it run ~1,000 iterations).
    assert ex["n"].value(store) <= 1


# --- the CLI's -W options (L3) --------------------------------------------------------------

def _cli(tmp_path: "os.PathLike[str]", wat: str, *args: str) -> subprocess.CompletedProcess:
    path = os.path.join(str(tmp_path), "m.wat")
    with open(path, "w") as f:
        f.write(wat)
    return subprocess.run([sys.executable, "-m", "purewasm", "run"] + list(args) + [path],
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                          text=True, timeout=120)


LOOP = '(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))'


@pytest.mark.parametrize("spec", ["timeout=300ms", "timeout=0.3", "timeout=1s"])
def test_cli_timeout(tmp_path: "os.PathLike[str]", spec: str) -> None:
    proc = _cli(tmp_path, LOOP, "-W", spec)
    assert proc.returncode == 134
    assert proc.stderr.splitlines()[0] == "purewasm: trap: interrupt (the -W timeout limit)"


def test_cli_fuel(tmp_path: "os.PathLike[str]") -> None:
    proc = _cli(tmp_path, LOOP, "-W", "fuel=10000")
    assert proc.returncode == 134 and "the -W fuel limit" in proc.stderr.splitlines()[0]


def test_cli_max_wasm_stack(tmp_path: "os.PathLike[str]") -> None:
    wat = '(module (memory (export "memory") 1) (func $f (export "_start") call $f))'
    proc = _cli(tmp_path, wat, "-W", "max-wasm-stack=52000")
    assert proc.returncode == 134 and "call stack exhausted" in proc.stderr.splitlines()[0]


def test_cli_max_memory_size(tmp_path: "os.PathLike[str]") -> None:
    wat = '(module (memory (export "memory") 4) (func (export "_start")))'
    proc = _cli(tmp_path, wat, "-W", "max-memory-size=65536")
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert "memory limit" in proc.stderr
    assert _cli(tmp_path, wat, "-W", "max-memory-size=262144").returncode == 0


@pytest.mark.parametrize("spec", ["nope=1", "fuel", "fuel=x", "timeout=-1s", "timeout=soon"])
def test_cli_bad_w_option_is_usage_error(tmp_path: "os.PathLike[str]", spec: str) -> None:
    proc = _cli(tmp_path, LOOP, "-W", spec)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


def test_store_interrupt_from_another_thread() -> None:
    import threading
    cfg = w.Config()
    cfg.epoch_interruption = True
    store = w.Store(w.Engine(cfg))
    store.set_epoch_deadline(1 << 40)
    ex = _instance(store, SPIN)
    threading.Timer(0.2, store.interrupt).start()
    with pytest.raises(Trap) as info:
        ex["spin"](store)
    assert info.value.trap_code is TrapCode.INTERRUPT
    assert ex["one"](store) == 1      # the next call runs normally


# --- No 4 GiB 32-bit memory (docs/DECISIONS.md) -------------------------------------------

def test_32_bit_memory_stops_one_page_short_of_4_gib() -> None:
    from purewasm.runtime import MemoryInstance
    from purewasm.syntax import Limits, MemoryType
    mem = MemoryInstance(MemoryType(Limits(0, None), False, "i32"))
    # 65,536 pages is what the type allows; purewasm's growth fails there (the spec lets
    # growth fail), before allocating anything.
    assert mem.grow(65536) == -1
    assert mem.grow(65537) == -1
    assert mem.pages == 0
    assert mem.grow(1) == 0
    assert mem.grow(65535) == -1              # 65,536 pages in all
    mem2 = MemoryInstance(MemoryType(Limits(0, 65536), False, "i32"))
    assert mem2.grow(65536) == -1
    with pytest.raises(InstantiationError, match="65535 pages"):
        MemoryInstance(MemoryType(Limits(65536, None), False, "i32"))


def test_module_with_a_4_gib_memory_is_refused_cleanly() -> None:
    store = w.Store()
    store.set_limits(memory_size=1 << 33)     # past the default store limit (1 GiB)
    # Valid (the type allows 65,536 pages), refused at instantiation with a clear error.
    module = w.Module(store.engine, "(module (memory 65536))")
    with pytest.raises(InstantiationError, match="65535 pages"):
        w.Instance(store, module, [])
    # A maximum of 65,536 is fine: only the growth to it fails.
    ex = _instance(store, """(module (memory 0 65536)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))""")
    assert ex["grow"](store, 65536) == -1
    assert ex["grow"](store, 1) == 0
