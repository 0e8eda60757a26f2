"""Value types and Val.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest

from api.support import f32


def test_valtypes(w: Any) -> None:
    assert w.ValType.i32() == w.ValType.i32()
    assert w.ValType.i32() != w.ValType.i64()
    assert str(w.ValType.f64()) == "f64"
    assert str(w.ValType.funcref()) == "funcref"
    ft = w.FuncType([w.ValType.i32(), w.ValType.f32()], [w.ValType.i64()])
    assert ft.params == [w.ValType.i32(), w.ValType.f32()]
    assert ft.results == [w.ValType.i64()]
    gt = w.GlobalType(w.ValType.f64(), True)
    assert gt.content == w.ValType.f64() and gt.mutable is True
    tt = w.TableType(w.ValType.funcref(), w.Limits(1, 5))
    assert tt.element == w.ValType.funcref()
    assert tt.limits.min == 1 and tt.limits.max == 5
    mt = w.MemoryType(w.Limits(2, None))
    assert mt.limits.min == 2 and mt.limits.max is None
    assert mt.is_64 is False
    with pytest.raises(TypeError):
        w.FuncType([1], [])


def test_vals(w: Any) -> None:
    assert w.Val.i32(0xFFFFFFFF).value == -1
    assert w.Val.i32(-1).value == -1
    assert w.Val.i64(2**64 - 2).value == -2
    assert w.Val.i32(7) == w.Val.i32(7)
    assert w.Val.i32(7).type == w.ValType.i32()
    assert w.Val.f32(0.1).value == f32(0.1)
    assert w.Val.f64(0.1).value == 0.1
    assert w.Val.i32(3).as_i32() == 3 and w.Val.i32(3).as_i64() is None
    assert w.Val.externref("x").value == "x"
    assert w.Val.ref_null(w.ValType.funcref()).value is None
    with pytest.raises(TypeError):
        w.Val.i32(1.5)
