"""call_indirect's per-table cache (CPython's shapes: the generated code looks the callee up
in a dict of entries already checked for the expected type; runtime.instances.
TableElements clears it on every change of the table). Every way a table can change
after a cached call must be seen by the next call: table.set, table.fill, table.copy,
table.init, table.grow, elem segments of another instance sharing the table, the API."""
from __future__ import annotations

from purewasm import (Engine, Func, FuncType, Instance, Module, Store, Table, Trap, TrapCode,
                      ValType)
from purewasm.runtime.instances import TableElements

WAT = """
(module
  (type $r (func (result i32)))
  (type $p (func (param i32) (result i32)))
  (table (export "t") 4 8 funcref)
  (func $one (type $r) (i32.const 1))
  (func $two (type $r) (i32.const 2))
  (func $three (type $r) (i32.const 3))
  (func $other (type $p) (local.get 0))
  (elem (i32.const 0) $one $two)
  (elem $seg func $three $other)
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $r) (local.get 0)))
  (func (export "call_sum") (param i32) (result i32)
    ;; the index is an expression: read once, into a slot
    (call_indirect (type $r) (i32.add (local.get 0) (i32.const 1))))
  (func (export "set") (param i32 i32)
    (table.set (local.get 0) (table.get (local.get 1))))
  (func (export "fill") (param i32 i32 i32)
    (table.fill (local.get 0) (table.get (local.get 1)) (local.get 2)))
  (func (export "copy") (param i32 i32 i32)
    (table.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32)
    (table.init $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (param i32) (result i32)
    (table.grow (ref.null func) (local.get 0)))
  (func (export "null") (param i32)
    (table.set (local.get 0) (ref.null func))))
"""


def _setup():
    store = Store(Engine())
    inst = Instance(store, Module(store.engine, WAT), [])
    ex = inst.exports(store)
    return store, ex


def _trap(fn, *args) -> object:
    try:
        fn(*args)
    except Trap as exc:
        return exc.trap_code
    raise AssertionError("no trap")


def test_table_changes_by_instructions_are_seen() -> None:
    store, ex = _setup()
    call = ex["call"]
    assert call(store, 0) == 1 and call(store, 1) == 2 and ex["call_sum"](store, 0) == 2
    ex["set"](store, 0, 1)              # table[0] = table[1]
    assert call(store, 0) == 2
    ex["init"](store, 0, 0, 1)          # table[0] = $three
    assert call(store, 0) == 3
    ex["fill"](store, 0, 1, 2)          # table[0..2) = $two
    assert call(store, 0) == 2 and call(store, 1) == 2
    ex["init"](store, 2, 0, 1)
    ex["copy"](store, 0, 2, 1)          # table[0] = table[2] = $three
    assert call(store, 0) == 3
    ex["null"](store, 0)
    assert _trap(call, store, 0) == TrapCode.INDIRECT_CALL_TO_NULL
    ex["init"](store, 1, 1, 1)          # table[1] = $other: a type mismatch now
    assert _trap(call, store, 1) == TrapCode.BAD_SIGNATURE
    assert _trap(call, store, 4) == TrapCode.UNDEFINED_ELEMENT
    assert ex["grow"](store, 2) == 4
    ex["init"](store, 5, 0, 1)
    assert call(store, 5) == 3


def test_table_changes_through_the_api_and_other_instances_are_seen() -> None:
    store, ex = _setup()
    call = ex["call"]
    table: Table = ex["t"]
    assert call(store, 0) == 1
    host = Func(store, FuncType([], [ValType.i32()]), lambda: 42)
    table.set(store, 0, host)
    assert call(store, 0) == 42
    # Another instance writes the shared table with its own element segment.
    other = """
    (module
      (type $r (func (result i32)))
      (import "m" "t" (table 4 funcref))
      (func $nine (type $r) (i32.const 9))
      (elem (i32.const 0) $nine))
    """
    Instance(store, Module(store.engine, other), [table])
    assert call(store, 0) == 9


def test_table_elements_clear_their_caches_on_every_change() -> None:
    elements = TableElements([1, 2, 3])
    cache = elements.call_cache(7)
    assert elements.call_cache(7) is cache
    changes = [
        lambda e: e.__setitem__(0, 5), lambda e: e.__setitem__(slice(0, 2), [1, 1]),
        lambda e: e.__delitem__(0), lambda e: e.append(1), lambda e: e.extend([1]),
        lambda e: e.insert(0, 1), lambda e: e.pop(), lambda e: e.remove(1),
        lambda e: e.reverse(), lambda e: e.sort(), lambda e: e.__iadd__([1]),
        lambda e: e.__imul__(1), lambda e: e.clear(),
    ]
    for change in changes:
        if not elements:
            elements.extend([1, 2, 3])
        cache[0] = print
        change(elements)
        assert cache == {}, change
    assert elements.call_cache(7) is cache    # the same dict: namespaces hold it
