"""Global.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

from api.support import f32


def test_global_api(w: Any) -> None:
    store = w.Store()
    g = w.Global(store, w.GlobalType(w.ValType.f32(), True), 0.1)
    assert g.value(store) == f32(0.1)
    g.set_value(store, 2.5)
    assert g.value(store) == 2.5
    assert g.type(store).mutable
    g64 = w.Global(store, w.GlobalType(w.ValType.i64(), False), -3)
    assert g64.value(store) == -3
