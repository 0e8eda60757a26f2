"""Store and Engine: close() and the context-manager protocol.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest


def test_store_context_manager_and_close(w: Any) -> None:
    with w.Store() as store:
        w.Memory(store, w.MemoryType(w.Limits(1, None)))
    store = w.Store()
    store.close()
    store.close()                       # closing twice is harmless
    with pytest.raises(ValueError):
        store.set_epoch_deadline(1)


def test_closed_store_refuses_use() -> None:
    import purewasm
    store = purewasm.Store()
    memory = purewasm.Memory(store, purewasm.MemoryType(purewasm.Limits(1, None)))
    store.close()
    with pytest.raises(ValueError):
        store.data()
    with pytest.raises(ValueError):
        purewasm.Memory(store, purewasm.MemoryType(purewasm.Limits(1, None)))
    with pytest.raises(ValueError):
        purewasm.Instance(store, purewasm.Module(store.engine, "(module)"), [])
    assert memory.read(store, 0, 1) == bytearray(1)   # made before: still readable


def test_store_argument_type(w: Any) -> None:
    with pytest.raises(TypeError):
        w.Store(3)
    with pytest.raises(AttributeError):
        w.Global(1, w.GlobalType(w.ValType.i32(), True), 1)


def test_closed_engine_refuses_new_objects() -> None:
    import purewasm
    with purewasm.Engine() as engine:
        purewasm.Store(engine)
    with pytest.raises(ValueError):
        purewasm.Store(engine)
    with pytest.raises(ValueError):
        purewasm.Module(engine, "(module)")
