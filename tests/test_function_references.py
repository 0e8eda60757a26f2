"""Typed function references (Wasm 3.0, issue 11): the representation of reference types,
subtyping, call_ref through a table and a global, null traps, br_on_null/br_on_non_null
in both lowerings, non-nullable locals, tables with initialisers, import matching with
subtyping across modules, the binary/text forms against wasm-tools, and Config off."""
from __future__ import annotations

import copy
import pickle
import shutil
import subprocess
from typing import Any

import pytest
from compile_helpers import Instance

from purewasm import runtime as rt
from purewasm.binary import decode_module, encode_module
from purewasm.compile import CompiledModule
from purewasm.errors import InvalidError, LinkError, MalformedError, Trap
from purewasm.syntax import FUNCREF, Module
from purewasm.syntax.canon import canonical_ids
from purewasm.syntax.types import RefType, as_reftype, defaultable
from purewasm.text import parse_module, print_module, wat2wasm
from purewasm.validate import validate_module
from purewasm.validate.matching import matches

MODES = [None, "structured", "flat"]


def instance(text: str, mode: Any = None) -> Instance:
    """``text`` assembled by our wat2wasm, validated, instantiated (``mode``: lowering)."""
    module = decode_module(wat2wasm(text))
    validate_module(module)
    return Instance(module, None, mode)


# --- the representation -----------------------------------------------------------------

def test_reftypes_are_interned_strings_with_attributes() -> None:
    assert RefType(True, "func") is FUNCREF
    assert FUNCREF == "funcref" and hash(FUNCREF) == hash("funcref")
    assert RefType(True, "extern") == "externref"
    assert RefType(True, "exn") == "exnref"       # what the exceptions helper writes
    t = RefType(False, 3)
    assert (t, t.nullable, t.heap) == ("(ref 3)", False, 3)
    assert RefType(True, 3) == "(ref null 3)"
    assert RefType(False, "func") == "(ref func)"
    assert RefType(True, "nofunc") == "nullfuncref"
    assert {FUNCREF: 1}["funcref"] == 1
    assert pickle.loads(pickle.dumps(t)) is t
    assert copy.deepcopy(t) is t
    assert as_reftype("externref") is RefType(True, "extern")
    assert as_reftype("i32") is None
    assert not defaultable(RefType(False, "extern")) and defaultable("funcref")
    with pytest.raises(InvalidError):
        RefType(True, "bogus")


def test_matching() -> None:
    types = parse_module("(module (type (func)) (type (func)) (type (func (param i32))))").types
    assert matches(RefType(False, 0), RefType(True, 0), types)
    assert not matches(RefType(True, 0), RefType(False, 0), types)
    assert matches(RefType(False, 0), "funcref", types)
    assert matches(RefType(False, 0), RefType(False, 1), types)      # equivalent types
    assert not matches(RefType(False, 0), RefType(False, 2), types)
    assert matches(RefType(True, "nofunc"), RefType(True, 2), types)
    assert not matches("funcref", RefType(True, 0), types)
    assert not matches("externref", "funcref", types)
    assert matches(RefType(True, "none"), "anyref", types)
    assert matches(RefType(False, "i31"), "eqref", types)
    assert not matches("i32", "i64", types) and matches("i32", "i32", types)


def test_closed_keys_compare_across_modules() -> None:
    a = parse_module("(module (type (func)) (type (func (param (ref 0)))))").types
    b = parse_module("(module (type (func (param i32))) (type (func))"
                     " (type (func (param (ref 1)))))").types
    assert canonical_ids(a)[1] == canonical_ids(b)[2]
    assert canonical_ids(a)[0] != canonical_ids(b)[0]
    # A type may name itself (each type is its own recursion group before GC).
    validate_module(parse_module("(module (type $t (func (param (ref null $t)))))"))


# --- behaviour ----------------------------------------------------------------------------

CALLS = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (table $tab 4 (ref null $ii))
  (elem (table $tab) (i32.const 0) (ref null $ii) (ref.func $double))
  (table $nonnull 2 (ref $ii) (ref.func $inc))
  (global $g (mut (ref null $ii)) (ref.func $inc))
  (elem declare func $double $inc $fac_acc)
  (func (export "via_table") (param i32 i32) (result i32)
    (call_ref $ii (local.get 1) (table.get $tab (local.get 0))))
  (func (export "via_nonnull_table") (param i32) (result i32)
    (call_ref $ii (local.get 0) (table.get $nonnull (i32.const 1))))
  (func (export "via_global") (param i32) (result i32)
    (call_ref $ii (local.get 0) (global.get $g)))
  (func (export "set_global_null")
    (global.set $g (ref.null $ii)))
  (func (export "null_call") (result i32)
    (call_ref $ii (i32.const 1) (ref.null $ii)))
  (func (export "as_non_null") (param i32) (result i32)
    (call_ref $ii (i32.const 5)
      (ref.as_non_null (table.get $tab (local.get 0)))))
  (func $fac (export "fac") (param i64) (result i64)
    (return_call_ref $acc (local.get 0) (i64.const 1) (ref.func $fac_acc)))
  (type $acc (func (param i64 i64) (result i64)))
  (func $fac_acc (type $acc)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_ref $acc (i64.sub (local.get 0) (i64.const 1))
                                   (i64.mul (local.get 0) (local.get 1))
                                   (ref.func $fac_acc)))))
)
"""


@pytest.mark.parametrize("mode", MODES)
def test_call_ref_through_table_and_global(mode: Any) -> None:
    inst = instance(CALLS, mode=mode)
    assert inst.func("via_table")(0, 21) == 42
    assert inst.func("via_nonnull_table")(9) == 10
    assert inst.func("via_global")(41) == 42
    assert inst.func("as_non_null")(0) == 10
    inst.func("set_global_null")()
    # trap.reason is the spec's wording (str(trap) is wasmtime's: "null reference").
    for call in (lambda: inst.func("via_global")(1), lambda: inst.func("null_call")(),
                 lambda: inst.func("via_table")(1, 1)):   # element 1 of $tab is null
        with pytest.raises(Trap) as trap:
            call()
        assert trap.value.reason == "null function reference"
    with pytest.raises(Trap) as trap:
        inst.func("as_non_null")(3)
    assert trap.value.reason == "null reference"


@pytest.mark.parametrize("mode", MODES)
def test_return_call_ref_runs_in_constant_stack(mode: Any) -> None:
    inst = instance(CALLS, mode=mode)
    assert inst.func("fac")(20) == 2432902008176640000
    # 100,000 tail calls: far deeper than the Python stack.
    assert inst.func("fac")(100000) == 0


BRANCHES = r"""
(module
  (type $f (func (result i32)))
  (func $seven (type $f) (i32.const 7))
  (elem declare func $seven)
  (func $pick (param i32) (result (ref null $f))
    (if (result (ref null $f)) (local.get 0)
      (then (ref.func $seven)) (else (ref.null $f))))
  ;; br_on_null: -1 for null, else the call's result
  (func (export "on_null") (param i32) (result i32)
    (block $null
      (return (call_ref $f (br_on_null $null (call $pick (local.get 0))))))
    (i32.const -1))
  ;; br_on_non_null: the call's result for non-null, else -2
  (func (export "on_non_null") (param i32) (result i32)
    (call_ref $f
      (block $nn (result (ref $f))
        (br_on_non_null $nn (call $pick (local.get 0)))
        (return (i32.const -2)))))
  ;; with values carried by the branch, inside a loop
  (func (export "count_nulls") (param i32) (result i32) (local $n i32) (local $i i32)
    (loop $l
      (local.set $n
        (block $b (result i32)
          (br_on_null $b (i32.add (local.get $n) (i32.const 1))
                         (call $pick (i32.and (local.get $i) (i32.const 1))))
          (drop) (drop)
          (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $n))
)
"""


@pytest.mark.parametrize("mode", MODES)
def test_br_on_null_and_non_null(mode: Any) -> None:
    inst = instance(BRANCHES, mode=mode)
    assert inst.func("on_null")(1) == 7
    assert inst.func("on_null")(0) == 0xFFFFFFFF
    assert inst.func("on_non_null")(1) == 7
    assert inst.func("on_non_null")(0) == 0xFFFFFFFE
    assert inst.func("count_nulls")(10) == 5


def test_both_lowerings_really_differ() -> None:
    """The flat lowering is what runs in mode "flat" (its state variable appears)."""
    module = decode_module(wat2wasm(BRANCHES))
    flat = CompiledModule(module, "flat")
    structured = CompiledModule(module, "structured")
    for i in range(1, 4):
        assert "_s = " in flat.source(i) and "_s = " not in structured.source(i)


LOCALS = r"""
(module
  (func (export "f") (param $p externref) (param $c i32) (result externref)
    (local $x (ref extern))
    (if (i32.eqz (local.get $c)) (then (return (local.get $p))))
    (local.set $x (ref.as_non_null (local.get $p)))
    (local.get $x))
)
"""


def test_non_nullable_locals() -> None:
    inst = instance(LOCALS)
    token = object()
    assert inst.func("f")(token, 1) is token
    with pytest.raises(Trap, match="null reference"):
        inst.func("f")(None, 1)
    bad = r"""(module (func (local $x (ref extern))
                (block (local.set $x (ref.as_non_null (ref.null extern))))
                (drop (local.get $x))))"""
    with pytest.raises(InvalidError, match="uninitialized local"):
        validate_module(parse_module(bad))


def test_validation_errors() -> None:
    cases = [
        ("(module (type $t (func)) (table 1 (ref $t)))", "type mismatch"),
        ("(module (func (param (ref 1))))", "unknown type"),
        ("(module (type $t (func)) (func (param funcref) (call_ref $t (local.get 0))))",
         "type mismatch"),
        ("(module (func (result (ref func)) (ref.null func)))", "type mismatch"),
        ("(module (func (result i32) (br_on_non_null 0 (ref.null func)) (i32.const 0)))",
         "type mismatch"),
    ]
    for text, message in cases:
        with pytest.raises(InvalidError, match=message):
            validate_module(parse_module(text))


# --- import matching ------------------------------------------------------------------------

EXPORTER = r"""
(module
  (type $v (func))
  (type $ii (func (param i32) (result i32)))
  (func $f (export "f") (type $ii) (local.get 0))
  (table (export "tab") 2 (ref null $ii) (ref.func $f))
  (global (export "g") (ref $ii) (ref.func $f))
)
"""


def _link(importer: str) -> Any:
    store = rt.Store()
    m1 = decode_module(wat2wasm(EXPORTER))
    validate_module(m1)
    i1 = rt.instantiate(store, m1, [], CompiledModule(m1))
    m2 = decode_module(wat2wasm(importer))
    validate_module(m2)
    return rt.instantiate(store, m2, [i1.exports[imp.name] for imp in m2.imports],
                          CompiledModule(m2))


def test_import_matching_with_subtyping_across_modules() -> None:
    # The type indices differ between the modules; the types are compared closed.
    _link("""(module (type $ii (func (param i32) (result i32)))
               (import "m" "f" (func (type $ii)))
               (import "m" "tab" (table 2 (ref null $ii)))
               (import "m" "g" (global (ref $ii))))""")
    # An immutable global may be imported at a supertype.
    _link('(module (import "m" "g" (global funcref)))')
    _link('(module (type $ii (func (param i32) (result i32)))'
          ' (import "m" "g" (global (ref null $ii))))')
    # Tables are invariant; a different function type does not match.
    with pytest.raises(LinkError, match="incompatible import type"):
        _link('(module (import "m" "tab" (table 2 funcref)))')
    with pytest.raises(LinkError, match="incompatible import type"):
        _link('(module (type $v (func)) (import "m" "g" (global (ref $v))))')
    with pytest.raises(LinkError, match="incompatible import type"):
        _link('(module (type $v (func (param i64) (result i32)))'
              ' (import "m" "f" (func (type $v))))')


def test_call_indirect_type_ids_are_closed() -> None:
    """Two modules whose types name other types by different indices: call_indirect
    across them compares the closed types."""
    store = rt.Store()
    a = decode_module(wat2wasm(r"""(module (type $v (func)) (type $t (func (param (ref $v))))
        (func $f (export "f") (type $t)))"""))
    ia = rt.instantiate(store, a, [], CompiledModule(a))
    b = decode_module(wat2wasm(r"""(module (type $x (func (param i32)))
        (type $v (func)) (type $t (func (param (ref $v))))
        (type $w (func (param (ref $x))))
        (import "a" "f" (func $f (type $t)))
        (table funcref (elem $f))
        (func (export "ok") (call_indirect (type $t) (ref.func $g) (i32.const 0)))
        (func (export "bad") (call_indirect (type $w) (ref.func $h) (i32.const 0)))
        (func $g (type $v)) (func $h (param i32)) (elem declare func $g $h))"""))
    ib = rt.instantiate(store, b, [ia.exports["f"]], CompiledModule(b))
    store.invoke(ib.exports["ok"], ())
    with pytest.raises(Trap, match="indirect call type mismatch"):
        store.invoke(ib.exports["bad"], ())


# --- API and Config -----------------------------------------------------------------------

def test_config_off_refuses_typed_references() -> None:
    import purewasm as pw
    cfg = pw.Config()
    cfg.wasm_function_references = False
    engine = pw.Engine(cfg)
    with pytest.raises(pw.WasmtimeError, match="function references"):
        pw.Module(engine, "(module (type $t (func)) (func (param (ref null $t))))")
    with pytest.raises(pw.WasmtimeError, match="function references"):
        pw.Module(engine, "(module (type $t (func)) (func (call_ref $t (ref.null $t))))")
    pw.Module(engine, "(module (func (param funcref externref)))")   # Wasm 2.0 types
    # Function indices in a segment are (ref func) in 3.0: still a Wasm 2.0 module.
    pw.Module(engine, "(module (func $f) (table 1 funcref) (elem (i32.const 0) $f)"
                      " (elem declare func $f))")
    pw.Module(pw.Engine(), "(module (type $t (func)) (func (param (ref null $t))))")


def test_api_calls_with_typed_references() -> None:
    import purewasm as pw
    store = pw.Store()
    module = pw.Module(store.engine, CALLS)
    inst = pw.Instance(store, module, [])
    exports = inst.exports(store)
    assert exports["via_global"](store, 41) == 42
    table = exports["tab"] if "tab" in exports else None
    assert table is None          # not exported: the types are what the API sees
    ty = exports["via_table"].type(store)
    assert [str(p) for p in ty.params] == ["i32", "i32"]
    nonnull = pw.Module(store.engine, r"""(module (type $t (func))
        (func (export "id") (param (ref $t)) (result (ref null $t)) (local.get 0)))""")
    f = pw.Instance(store, nonnull, []).exports(store)["id"]
    assert str(f.type(store).params[0]) == "(ref 0)"
    with pytest.raises(TypeError, match="non-nullable"):
        f(store, None)


# --- binary and text --------------------------------------------------------------------------

def test_binary_round_trip_and_printer() -> None:
    data = wat2wasm(CALLS)
    m = decode_module(data)
    assert encode_module(m) == data
    assert parse_module(print_module(m)) == _strip(m)
    assert m.table_inits and m.tables[1].element == RefType(False, 0)


def _strip(m: Module) -> Module:
    out = decode_module(encode_module(m))
    return parse_module(print_module(out))


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="wasm-tools not installed")
@pytest.mark.parametrize("text", [CALLS, BRANCHES, LOCALS, EXPORTER])
def test_wat2wasm_matches_wasm_tools(text: str, tmp_path: Any) -> None:
    src = tmp_path / "m.wat"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "m.wasm"
    subprocess.run(["wasm-tools", "parse", str(src), "-o", str(out)], check=True)
    theirs = decode_module(out.read_bytes())
    ours = decode_module(wat2wasm(text))
    theirs.customs = ours.customs = []
    theirs.names = ours.names
    assert encode_module(ours) == encode_module(theirs)
    assert _no_names(wat2wasm(text)) == _no_names(out.read_bytes())


def _no_names(data: bytes) -> bytes:
    m = decode_module(data)
    m.customs = []
    from purewasm.syntax import Names
    m.names = Names()
    return encode_module(m)


def test_decoder_rejects_bad_heap_types() -> None:
    # ref.null with a negative s33 heap type
    body = b"\x00\x61\x73\x6d\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00" \
           b"\x0a\x07\x01\x05\x00\xd0\x7f\x1a\x0b"
    with pytest.raises(MalformedError, match="malformed reference type"):
        decode_module(body)


# --- against wasmtime -------------------------------------------------------------------------

def _wasmtime() -> Any:
    wasmtime = pytest.importorskip("wasmtime")
    cfg = wasmtime.Config()
    cfg.wasm_function_references = True
    cfg.wasm_tail_call = True
    return wasmtime, wasmtime.Engine(cfg)


PLANS = [
    (CALLS, [("via_table", (0, 21)), ("via_table", (1, 5)), ("via_table", (7, 5)),
             ("via_nonnull_table", (9,)), ("via_global", (41,)), ("as_non_null", (0,)),
             ("as_non_null", (2,)), ("fac", (20,)), ("null_call", ()),
             ("set_global_null", ()), ("via_global", (1,))]),
    (BRANCHES, [("on_null", (0,)), ("on_null", (1,)), ("on_non_null", (0,)),
                ("on_non_null", (1,)), ("count_nulls", (17,))]),
]


@pytest.mark.parametrize("plan", range(len(PLANS)))
@pytest.mark.parametrize("mode", ["structured", "flat"])
def test_same_results_as_wasmtime(plan: int, mode: str) -> None:
    """Typed-reference programs give wasmtime's results and traps in both lowerings
    (wasm-tools smith has no function-references configuration without GC types, which
    the GC issue brings: these hand-written programs stand in for it)."""
    wasmtime, engine = _wasmtime()
    text, calls = PLANS[plan]
    wasm = wat2wasm(text)
    store = wasmtime.Store(engine)
    theirs = wasmtime.Instance(store, wasmtime.Module(engine, wasm), []).exports(store)
    ours = instance(text, mode=mode)
    results = {e.name: ours.module.func_types()[e.index].results
               for e in ours.module.exports if e.kind == "func"}
    for name, args in calls:
        mask = {("i32",): 0xFFFFFFFF, ("i64",): 0xFFFFFFFFFFFFFFFF}.get(results[name], 0)
        try:
            want: Any = theirs[name](store, *args)
            want = None if want is None else want & mask
        except wasmtime.Trap as exc:
            want = ("trap", "null" in str(exc))
        try:
            got: Any = ours.func(name)(*args)
        except Trap as exc:
            got = ("trap", "null" in str(exc))
        assert got == want, (name, args)


def test_long_chains_of_types_naming_types() -> None:
    """5,000 types, each naming the one before (hostile input): closed types stay
    shallow (no deep recursion in hashing), and the module validates and instantiates."""
    from purewasm.syntax import FuncType
    types = [FuncType((), ())] + [FuncType((RefType(True, i),), ()) for i in range(5000)]
    m = Module(types=types)
    data = encode_module(m)
    module = decode_module(data)
    validate_module(module)
    ids = rt.module_type_ids(module.types)
    assert len(set(ids)) == len(types)
    rt.instantiate(rt.Store(), module, [], CompiledModule(module))


SPEC_FILES = ["call_ref", "return_call_ref", "br_on_null", "br_on_non_null",
              "ref_as_non_null", "local_init", "ref", "ref_null", "ref_is_null", "table",
              "select", "br_table", "func", "unreached-valid", "unreached-invalid"]


@pytest.mark.parametrize("name", SPEC_FILES)
def test_spec_files_pass_under_the_flat_lowering(name: str) -> None:
    """The 3.0 testsuite's typed-reference scripts pass with every function lowered flat
    too (test_spec3 runs them with the translator's own choice)."""
    from wast_json import WAST_DIR

    from purewasm.script.runner import run_script
    from purewasm.text import parse_script
    path = WAST_DIR.parent / "wasm-3.0" / (name + ".wast")
    result = run_script(parse_script(path.read_text(encoding="utf-8")), lowering="flat")
    assert result.failed == []
    assert len(result.passed) > 5
