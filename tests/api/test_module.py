"""Module: decoding, imports/exports, errors, files, text and serialize.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest

from api.support import wasm


IMPORTS_WAT = """
(module
  (import "env" "f" (func (param i32) (result i64)))
  (import "env" "g" (global (mut f64)))
  (import "env" "m" (memory 1 3))
  (import "env" "t" (table 2 funcref))
  (func (export "h") (param f32 f64))
  (global (export "gi") i32 (i32.const -7))
  (table (export "tab") 4 externref)
  (export "mem" (memory 0))
)
"""


def test_module_imports_exports(w: Any) -> None:
    engine = w.Engine()
    module = w.Module(engine, wasm(IMPORTS_WAT))
    imps = module.imports
    assert [(i.module, i.name) for i in imps] == [("env", "f"), ("env", "g"), ("env", "m"),
                                                  ("env", "t")]
    assert isinstance(imps[0].type, w.FuncType)
    assert imps[0].type.params == [w.ValType.i32()]
    assert imps[0].type.results == [w.ValType.i64()]
    assert isinstance(imps[1].type, w.GlobalType) and imps[1].type.mutable
    assert isinstance(imps[2].type, w.MemoryType)
    assert imps[2].type.limits.min == 1 and imps[2].type.limits.max == 3
    assert isinstance(imps[3].type, w.TableType) and imps[3].type.limits.min == 2
    exps = module.exports
    assert [e.name for e in exps] == ["h", "gi", "tab", "mem"]
    assert isinstance(exps[0].type, w.FuncType)
    assert exps[0].type.params == [w.ValType.f32(), w.ValType.f64()]
    assert isinstance(exps[1].type, w.GlobalType) and not exps[1].type.mutable
    assert isinstance(exps[2].type, w.TableType)
    assert exps[2].type.element == w.ValType.externref()
    assert isinstance(exps[3].type, w.MemoryType)


def test_module_errors(w: Any) -> None:
    engine = w.Engine()
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, b"\x00asm\x02\x00\x00\x00")
    with pytest.raises(w.WasmtimeError):
        w.Module.validate(engine, b"\x00asm\x01\x00\x00\x00\x0a")
    w.Module.validate(engine, wasm("(module)"))
    # Invalid: i32.add with no operands.
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, b"\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
                         b"\x0a\x05\x01\x03\x00\x6a\x0b")


def test_module_from_file(w: Any, tmp_path: Any) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(wasm("(module (memory (export \"m\") 1))"))
    module = w.Module.from_file(w.Engine(), str(path))
    assert [e.name for e in module.exports] == ["m"]


def test_text_module_and_serialize(w: Any) -> None:
    engine = w.Engine()
    module = w.Module(engine, '(module (global (export "g") i32 (i32.const 5)))')
    assert [e.name for e in module.exports] == ["g"]
    again = w.Module.deserialize(engine, module.serialize())
    store = w.Store(engine)
    assert w.Instance(store, again, []).exports(store)["g"].value(store) == 5
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, "(module (func (result i32)))")   # invalid: no result
    with pytest.raises(w.WasmtimeError):
        w.Module(engine, "(module (bogus))")               # malformed text


def test_module_context_manager_and_close(w: Any) -> None:
    engine = w.Engine()
    with w.Module(engine, wasm('(module (func (export "f")))')) as module:
        assert len(module.exports) == 1
    store = w.Store(engine)
    module = w.Module(engine, wasm('(module (func (export "f")))'))
    instance = w.Instance(store, module, [])
    module.close()
    instance.exports(store)["f"](store)          # instances outlive their module
    with pytest.raises(ValueError):
        w.Instance(store, module, [])
