"""Wasm 3.0 tail calls: return_call and return_call_indirect.

A tail call must not grow the Python stack (chains far longer than the call-depth limit
run), functions without tail calls are not wrapped, and Config.wasm_tail_call = False
refuses modules that use them. The spec scripts return_call*.wast run in test_spec3."""
from __future__ import annotations

from typing import Any

import pytest

import purewasm
from purewasm import runtime
from purewasm.compile import CompiledModule
from purewasm.errors import Trap, TrapCode
from purewasm.text import parse_module

CHAINS = r"""
(module
  (type $t (func (param i64 i64) (result i64)))
  (type $pair (func (param i32) (result i32 i32)))
  (import "host" "double" (func $double (param i64) (result i64)))
  (table 3 funcref) (elem (i32.const 0) $even $odd $pair)
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 42))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1))))))
  (func $even (export "even") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
      (else (return_call_indirect (type $t)
              (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (i64.const 1))
              (i32.const 1)))))
  (func $odd (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.sub (i64.const 0) (local.get 1)))
      (else (return_call $even
              (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (i64.const 1))))))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.const 7))
  (func (export "multi") (param i32) (result i32 i32)
    (return_call_indirect (type $pair) (local.get 0) (i32.const 2)))
  (func (export "to_host") (param i64) (result i64)
    (return_call $double (local.get 0)))
  (func (export "bad_type") (result i64)
    (return_call_indirect (type $t) (i64.const 1) (i64.const 2) (i32.const 2)))
  (func (export "past_end") (result i64)
    (return_call_indirect (type $t) (i64.const 1) (i64.const 2) (i32.const 9)))
  (func $boom (param i64) (result i64) (unreachable))
  (func (export "trap_in_callee") (result i64) (return_call $boom (i64.const 1)))
  (func (export "plain") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
)
"""


def _instance(mode: Any) -> Any:
    module = parse_module(CHAINS)
    store = runtime.Store()
    host = runtime.FuncInstance(_host_type(module), lambda x: (x * 2) & 0xFFFFFFFFFFFFFFFF)
    inst = runtime.instantiate(store, module, [host], CompiledModule(module, mode))
    return store, inst


def _host_type(module: Any) -> Any:
    return module.types[module.imports[0].desc]   # a function import names its type


@pytest.fixture(params=["structured", "flat"])
def chains(request: Any) -> Any:
    store, inst = _instance(request.param)

    def call(name: str, *args: int) -> Any:
        return store.invoke(inst.exports[name], list(args))
    return call


def test_self_tail_calls_run_past_the_call_depth_limit(chains: Any) -> None:
    # 10,000 Wasm frames is the default call-depth limit: 200,000 tail calls are fine.
    assert chains("count", 200_000) == 42


def test_mutual_tail_calls_through_a_table(chains: Any) -> None:
    assert chains("even", 200_001, 0) == 2 ** 64 - 200_001


def test_multi_value_and_host_callees(chains: Any) -> None:
    assert tuple(chains("multi", 5)) == (5, 7)
    assert chains("to_host", 21) == 42


@pytest.mark.parametrize("name,code", [("bad_type", TrapCode.BAD_SIGNATURE),
                                       ("past_end", TrapCode.UNDEFINED_ELEMENT),
                                       ("trap_in_callee", TrapCode.UNREACHABLE)])
def test_traps(chains: Any, name: str, code: TrapCode) -> None:
    with pytest.raises(Trap) as info:
        chains(name)
    assert info.value.trap_code == code


def test_functions_without_tail_calls_are_not_wrapped() -> None:
    store, inst = _instance(None)
    assert store.invoke(inst.exports["plain"], [1]) == 2
    assert not hasattr(inst.exports["plain"].fn, "purewasm_tail")
    assert store.invoke(inst.exports["count"], [3]) == 42
    assert hasattr(inst.exports["count"].fn, "purewasm_tail")


def test_api_config_can_refuse_tail_calls() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(
        engine, '(module (func (export "f") (result i32) (return_call 1)) '
                '(func (result i32) (i32.const 9)))'), [])
    assert inst.exports(store)["f"](store) == 9
    config = purewasm.Config()
    assert config.wasm_tail_call is True      # on by default, as in wasmtime
    config.wasm_tail_call = False
    with pytest.raises(purewasm.WasmtimeError, match="tail calls support is not enabled"):
        purewasm.Module(purewasm.Engine(config),
                        '(module (func (return_call 0)))')
