"""Memory.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest


def test_memory_api(w: Any) -> None:
    store = w.Store()
    mem = w.Memory(store, w.MemoryType(w.Limits(1, 2)))
    assert mem.grow(store, 1) == 1
    assert mem.size(store) == 2
    with pytest.raises(w.WasmtimeError):
        mem.grow(store, 1)
    assert mem.write(store, b"xyz", 5) == 3
    assert mem.read(store, 5, 8) == bytearray(b"xyz")
    assert mem.read(store, -2) == bytearray(2)
    with pytest.raises(IndexError):
        mem.write(store, b"ab", 2 * 65536 - 1)
    assert mem.type(store).limits.min == 1          # the declared type
