"""The GC proposal (Wasm 3.0): types (recursion groups, declared subtypes, struct and
array types) through the text parser, the binary codec and validation; iso-recursive
canonical ids across modules; the runtime subtype check of call_indirect."""
from __future__ import annotations

import pytest

from purewasm.binary import decode_module, encode_module
from purewasm.errors import InvalidError
from purewasm.script.runner import run_script
from purewasm.syntax import ArrayType, FieldType, FuncType, StructType
from purewasm.syntax.canon import canonical_ids, is_subtype_id
from purewasm.text import parse_module, parse_script
from purewasm.validate import validate_module

TYPES = """(module
  (rec (type $node (sub (struct (field $next (ref null $node)) (field (mut i8)))))
       (type $f (func (param (ref $node)) (result i32))))
  (type $sub (sub final $node (struct (field (ref null $node)) (field (mut i8)) (field f64))))
  (type $bytes (array (mut i8)))
  (type $plain (func)))"""


def test_types_parse_and_round_trip_through_the_binary_format() -> None:
    m = parse_module(TYPES)
    validate_module(m)
    node, f, sub, arr, plain = m.types
    assert isinstance(node, StructType) and node.rec == (0, 2) and not node.final
    assert node.fields[1] == FieldType("i8", True)
    assert isinstance(f, FuncType) and f.rec == (1, 2)
    assert isinstance(sub, StructType) and sub.final and sub.supers == (0,)
    assert isinstance(arr, ArrayType) and arr.element == FieldType("i8", True)
    assert plain == FuncType((), ())
    again = decode_module(encode_module(m))
    assert again.types == m.types


def test_equivalent_rec_groups_share_canonical_ids_across_modules() -> None:
    a = parse_module("(module (rec (type $a (struct (field (ref null $b))))"
                     " (type $b (struct (field (ref null $a))))))").types
    b = parse_module("(module (type (func)) (rec (type $a (struct (field (ref null $b))))"
                     " (type $b (struct (field (ref null $a))))))").types
    c = parse_module("(module (rec (type $b (struct (field (ref null $a))))"
                     " (type $a (struct (field (ref null $b))))))").types
    ida, idb, idc = canonical_ids(a), canonical_ids(b), canonical_ids(c)
    assert ida == idb[1:]
    # Same shape, other position in the group: not the same type (iso-recursive).
    assert ida[0] != ida[1] and ida[0] == idc[0]
    sub = canonical_ids(parse_module(TYPES).types)
    assert is_subtype_id(sub[2], sub[0]) and not is_subtype_id(sub[0], sub[2])


@pytest.mark.parametrize("text", [
    "(module (type $a (struct)) (type (sub $a (struct))))",               # $a is final
    "(module (type $a (sub (struct (field i32)))) (type (sub $a (struct (field i64)))))",
    "(module (type $a (sub (struct (field (mut i32))))) (type (sub $a (struct (field i32)))))",
    "(module (type $a (sub (func))) (type (sub $a (struct))))",
    "(module (type $a (struct)) (func (type $a)))",                     # not a function type
])
def test_invalid_subtype_declarations(text: str) -> None:
    with pytest.raises(InvalidError):
        validate_module(parse_module(text))


def test_gc_types_need_the_gc_feature() -> None:
    m = parse_module("(module (type (struct)))")
    with pytest.raises(InvalidError, match="gc support is not enabled"):
        validate_module(m, frozenset({"function_references"}))


def test_call_indirect_accepts_a_declared_subtype() -> None:
    script = parse_script("""
    (module
      (type $t (sub (func (result i32))))
      (type $u (sub $t (func (result i32))))
      (func $f (type $u) (i32.const 7))
      (table funcref (elem $f))
      (func (export "call") (result i32) (call_indirect (type $t) (i32.const 0))))
    (assert_return (invoke "call") (i32.const 7))""")
    result = run_script(script)
    assert not result.failed and result.passed


API_MODULE = """(module
  (type $p (struct (field $x (mut i32)) (field i8)))
  (type $a (array (mut i16)))
  (func (export "make") (param i32) (result (ref $p))
    (struct.new $p (local.get 0) (i32.const 300)))
  (func (export "x") (param (ref null $p)) (result i32) (struct.get $p $x (local.get 0)))
  (func (export "low") (param (ref $p)) (result i32) (struct.get_s $p 1 (local.get 0)))
  (func (export "arr") (param i32) (result (ref $a))
    (array.new $a (i32.const -1) (local.get 0)))
  (func (export "get") (param (ref $a) i32) (result i32)
    (array.get_s $a (local.get 0) (local.get 1)))
  (func (export "i31") (param i32) (result i31ref) (ref.i31 (local.get 0)))
  (func (export "is_i31") (param anyref) (result i32) (ref.test (ref i31) (local.get 0)))
  (func (export "ext") (param anyref) (result externref) (extern.convert_any (local.get 0)))
  (func (export "int") (param externref) (result anyref) (any.convert_extern (local.get 0))))"""


def test_gc_values_cross_the_api_as_opaque_values() -> None:
    import purewasm
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, API_MODULE), [])
    ex = inst.exports(store)
    p = ex["make"](store, 42)
    assert ex["x"](store, p) == 42
    assert ex["low"](store, p) == 44                       # 300 stored as an i8
    assert ex["get"](store, ex["arr"](store, 3), 2) == -1  # i16 0xFFFF, sign-extended
    with pytest.raises(purewasm.Trap, match="out of bounds array access"):
        ex["get"](store, ex["arr"](store, 3), 3)
    with pytest.raises(purewasm.Trap) as trap:
        ex["x"](store, None)
    assert trap.value.reason == "null structure reference"   # the spec's words
    assert ex["is_i31"](store, ex["i31"](store, -1)) == 1
    assert ex["is_i31"](store, p) == 0
    # extern.convert_any / any.convert_extern round trips are the identity.
    assert ex["int"](store, ex["ext"](store, p)) is p
    host = object()
    assert ex["ext"](store, ex["int"](store, host)) is host
    # A host int is no i31 once internalised.
    assert ex["is_i31"](store, ex["int"](store, 5)) == 0


def test_config_wasm_gc_off_refuses_gc_modules() -> None:
    import purewasm
    config = purewasm.Config()
    config.wasm_gc = False
    engine = purewasm.Engine(config)
    with pytest.raises(purewasm.WasmtimeError, match="wasm_gc"):
        purewasm.Module(engine, "(module (type (struct)))")
    with pytest.raises(purewasm.WasmtimeError, match="wasm_gc"):
        purewasm.Module(engine, "(module (func (result i32) (ref.eq (ref.null eq) "
                                "(ref.null eq))))")
    purewasm.Module(engine, "(module (func (result i32) (i32.const 0)))")


def test_gc_instructions_round_trip_through_binary_and_text() -> None:
    from purewasm.text.printer import print_module
    m = parse_module(API_MODULE + "")
    wasm = encode_module(m)
    again = decode_module(wasm)
    assert [f.body for f in again.funcs] == [f.body for f in m.funcs]
    assert encode_module(parse_module(print_module(again))) == wasm


@pytest.mark.parametrize("op", ["ref.test", "ref.cast"])
@pytest.mark.parametrize("nullable", [False, True])
def test_casts_of_nullable_types_use_the_next_opcode(op: str, nullable: bool) -> None:
    from purewasm.syntax import Func, Instr, Module
    from purewasm.syntax.types import RefType
    m = Module(types=[FuncType((), ())])
    m.funcs = [Func(0, [], [Instr(op, RefType(nullable, "struct")), Instr("end")])]
    wasm = encode_module(m)
    code = {"ref.test": 20, "ref.cast": 22}[op] + nullable
    assert bytes((0xFB, code, 0x6B)) in wasm
    assert decode_module(wasm).funcs[0].body[0].imm == RefType(nullable, "struct")


def test_a_huge_array_traps_instead_of_exhausting_memory() -> None:
    """Found by the gc differential configuration (seed 43): wasmtime traps
    "allocation size too large"; purewasm has an implementation limit (MAX_ARRAY)."""
    import purewasm
    from purewasm.errors import TrapCode
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module(engine, """(module (type $a (array i8))
      (func (export "new") (param i32) (result i32)
        (array.len (array.new_default $a (local.get 0)))))""")
    new = purewasm.Instance(store, module, []).exports(store)["new"]
    assert new(store, 1000) == 1000
    with pytest.raises(purewasm.Trap) as trap:
        new(store, -1)
    assert trap.value.trap_code == TrapCode.ALLOCATION_TOO_LARGE
    with pytest.raises(purewasm.Trap) as trap:      # in a global's initialiser too
        purewasm.Instance(store, purewasm.Module(engine, """(module (type $a (array i8))
          (global (ref $a) (array.new_default $a (i32.const -1))))"""), [])
    assert trap.value.trap_code == TrapCode.ALLOCATION_TOO_LARGE


def _subtype_chain(n: int) -> str:
    return "(module (type $t0 (sub (struct)))%s)" % "".join(
        "(type $t%d (sub $t%d (struct)))" % (i, i - 1) for i in range(1, n))


def test_subtype_chains_deeper_than_63_are_refused() -> None:
    # wasmtime's limit ("sub type hierarchy too deep"). Before: no limit, and each type's
    # canonical id records all its ancestors, so a chain of 20,000 types (260 KB of
    # text) ran out of 4 GB after 23 s.
    validate_module(parse_module(_subtype_chain(64)))       # depth 63: the deepest allowed
    with pytest.raises(InvalidError, match="sub type hierarchy too deep"):
        validate_module(parse_module(_subtype_chain(65)))
    with pytest.raises(InvalidError, match="sub type hierarchy too deep"):
        validate_module(parse_module(_subtype_chain(20000)))
