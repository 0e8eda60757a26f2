"""Table.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest


def test_table_api(w: Any) -> None:
    store = w.Store()
    tab = w.Table(store, w.TableType(w.ValType.externref(), w.Limits(2, 4)), "init")
    assert tab.size(store) == 2
    assert tab.get(store, 1) == "init"
    assert tab.grow(store, 1, "new") == 2
    assert tab.get(store, 2) == "new"
    tab.set(store, 0, "zero")
    assert tab.get(store, 0) == "zero"
    assert tab.get(store, 10) is None
    with pytest.raises(w.WasmtimeError):
        tab.grow(store, 5, None)
    with pytest.raises(w.WasmtimeError):
        tab.set(store, 10, "x")
