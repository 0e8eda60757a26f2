"""Wasm 3.0 extended constant expressions: i32/i64 add, sub and mul, and global.get of
any earlier immutable global, in global initialisers and segment offsets."""
from __future__ import annotations

import pytest

import purewasm

WAT = r"""
(module
  (import "env" "base" (global $base i32))
  (global $page i32 (i32.mul (i32.const 4) (i32.const 16)))
  (global $at i32 (i32.add (global.get $base) (global.get $page)))
  (global $big (export "big") i64 (i64.sub (i64.const 0) (i64.mul (i64.const 3) (i64.const 5))))
  (memory (export "mem") 1)
  (data (offset (i32.sub (global.get $at) (i32.const 1))) "xy")
  (func (export "at") (result i32) (global.get $at)))
"""


def test_values_and_offsets() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    base = purewasm.Global(store, purewasm.GlobalType(purewasm.ValType.i32(), False),
                           purewasm.Val.i32(100))
    inst = purewasm.Instance(store, purewasm.Module(engine, WAT), [base])
    ex = inst.exports(store)
    assert ex["at"](store) == 164
    assert ex["big"].value(store) == -15
    assert bytes(ex["mem"].read(store, 163, 165)) == b"xy"


def test_config_can_refuse_them() -> None:
    config = purewasm.Config()
    assert config.wasm_extended_const is True
    config.wasm_extended_const = False
    with pytest.raises(purewasm.WasmtimeError, match="constant expression required"):
        purewasm.Module(purewasm.Engine(config),
                        "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))")
