"""Instance: exports, segment initialisation, start functions.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest

from api.support import wasm


DATA_WAT = """
(module
  (import "env" "g" (global i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 3 funcref))
  (func $a) (func $b)
  (global (export "copy") i32 (global.get 0))
  (global (export "mut") (mut i64) (i64.const -1))
  (global (export "fl") f32 (f32.const 1.5))
  (elem (i32.const 1) $a $b)
  (data (i32.const 10) "hello")
  (data (global.get 0) "X")
)
"""


def test_instance_globals_memory_table(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm(DATA_WAT))
    g = w.Global(store, w.GlobalType(w.ValType.i32(), False), 20)
    mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
    tab = w.Table(store, w.TableType(w.ValType.funcref(), w.Limits(3, None)), None)
    inst = w.Instance(store, module, [g, mem, tab])
    ex = inst.exports(store)
    assert ex["copy"].value(store) == 20
    assert ex["mut"].value(store) == -1
    assert ex["fl"].value(store) == 1.5
    ex["mut"].set_value(store, 2**64 - 5)
    assert ex["mut"].value(store) == -5
    with pytest.raises(w.WasmtimeError):
        ex["copy"].set_value(store, 1)
    assert mem.read(store, 10, 15) == bytearray(b"hello")
    assert mem.read(store, 20, 21) == bytearray(b"X")
    assert mem.data_len(store) == 65536 and mem.size(store) == 1
    assert tab.get(store, 0) is None or getattr(tab.get(store, 0), "value", 0) is None
    assert isinstance(tab.get(store, 1), w.Func)
    assert isinstance(tab.get(store, 2), w.Func)
    assert len(ex) == 3
    assert ex.by_index[0].value(store) == 20
    assert isinstance(ex["copy"], w.Global)


def test_instantiation_segments_trap_keep_earlier(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm("""
      (module
        (import "env" "m" (memory 1))
        (data (i32.const 0) "ab")
        (data (i32.const 65535) "cd"))"""))
    mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
    with pytest.raises(w.Trap) as info:
        w.Instance(store, module, [mem])
    assert "out of bounds" in str(info.value)
    # Wasm 2.0: the first segment stays written.
    assert mem.read(store, 0, 2) == bytearray(b"ab")
    assert mem.read(store, 65535, 65536) == bytearray(b"\x00")


def test_start_function_traps(w: Any) -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, wasm("(module (func $s unreachable) (start $s))"))
    with pytest.raises(w.Trap) as info:
        w.Instance(store, module, [])
    assert info.value.trap_code == w.TrapCode.UNREACHABLE
