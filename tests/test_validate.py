"""Unit tests of the validator on modules built by hand from the syntax classes."""
from __future__ import annotations

import time
from typing import Any, Collection, List, Optional, Sequence

import pytest

from purewasm.errors import InvalidError
from purewasm.opcodes import WASM2_FEATURES
from purewasm.syntax import (
    ACTIVE, DECLARATIVE, PASSIVE, Data, Elem, Export, Func, FuncType, Global, GlobalType,
    Import, Instr, Limits, MemoryType, Module, TableType,
)
from purewasm.validate import validate_module


def mk(op: str, imm: Any = None) -> Instr:
    return Instr(op, imm)


def parse(text: str) -> List[Instr]:
    """A tiny helper: 'i32.const 1; i32.add' -> instrs (imm parsed as int when it is one)."""
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        words = part.split()
        imm: Any = None
        if len(words) == 2:
            try:
                imm = int(words[1])
            except ValueError:
                imm = words[1]
        out.append(Instr(words[0], imm))
    return out


def func_module(body: Sequence[Instr], params: Sequence[str] = (), results: Sequence[str] = (),
                locals_: Sequence[str] = (), extra_types: Sequence[FuncType] = (),
                **kw: Any) -> Module:
    types = [FuncType(tuple(params), tuple(results))] + list(extra_types)
    m = Module(types=types, funcs=[Func(0, list(locals_), list(body) + [mk("end")])])
    for k, v in kw.items():
        setattr(m, k, v)
    return m


def ok(m: Module) -> None:
    validate_module(m)


def bad(m: Module, text: str, features: Optional[Collection[str]] = None) -> InvalidError:
    with pytest.raises(InvalidError) as info:
        validate_module(m, features)
    assert text in str(info.value), str(info.value)
    return info.value


def body_ok(text: str, **kw: Any) -> None:
    ok(func_module(parse(text), **kw))


def body_bad(text: str, msg: str = "type mismatch", **kw: Any) -> InvalidError:
    return bad(func_module(parse(text), **kw), msg)


MEM = [MemoryType(Limits(1))]


# --- numeric and stack basics ---

def test_simple_arithmetic() -> None:
    body_ok("i32.const 1; i32.const 2; i32.add", results=["i32"])
    body_ok("local.get 0; local.get 1; i64.mul", params=["i64", "i64"], results=["i64"])


def test_type_mismatch_and_empty_stack() -> None:
    body_bad("i32.const 1; i64.const 2; i32.add", results=["i32"])
    body_bad("i32.const 1; i32.add", results=["i32"])
    body_bad("i32.const 1", results=[])            # value left over
    body_bad("", results=["i32"])                  # value missing
    body_bad("i64.const 1", results=["i32"])


def test_error_names_function_and_offset() -> None:
    body = [Instr("i32.const", 0, offset=10), Instr("f32.neg", None, offset=12),
            Instr("end", None, offset=13)]
    m = Module(types=[FuncType((), ())],
               imports=[Import("m", "f", "func", 0)],
               funcs=[Func(0, [], body)])
    err = bad(m, "type mismatch")
    assert err.func_index == 1 and err.offset == 12


def test_unreachable_makes_stack_polymorphic() -> None:
    body_ok("unreachable; i32.add", results=["i32"])
    body_ok("unreachable; drop; drop; f64.const 0", results=["f64"])
    body_ok("unreachable; select", results=["i32"])
    body_bad("unreachable; i64.const 0; i32.add", results=["i32"])
    body_bad("unreachable; i32.const 0; i32.const 0", results=["i32"])
    body_ok("return; i32.add; drop")
    # the unreachable state ends with its block
    body_bad("block; unreachable; end; i32.add; drop")


def test_locals_and_globals() -> None:
    body_ok("local.get 1; local.tee 0; local.set 1", params=["i32"], locals_=["i32"])
    body_bad("local.get 2", "unknown local 2", params=["i32"], locals_=["i32"])
    body_bad("f32.const 0; local.set 0", locals_=["i32"])
    gl = [Global(GlobalType("i32", False), [mk("i32.const", 0), mk("end")]),
          Global(GlobalType("i64", True), [mk("i64.const", 0), mk("end")])]
    body_ok("global.get 0; drop; i64.const 1; global.set 1", globals=gl)
    body_bad("i32.const 1; global.set 0", "global is immutable", globals=gl)
    body_bad("global.get 2; drop", "unknown global 2", globals=gl)


# --- control ---

def test_blocks_and_labels() -> None:
    body_ok("block i32; i32.const 1; end", results=["i32"])
    body_ok("block i32; i32.const 1; br 0; end", results=["i32"])
    body_ok("loop; br 0; end")
    body_bad("block i32; end", results=["i32"])
    body_bad("br 1", "unknown label 1")
    body_ok("block; br 1; end")                 # label 1 is the function
    body_bad("block i32; i64.const 0; br 0; end; drop")


def test_multi_value_block_types() -> None:
    t = FuncType(("i32", "i64"), ("i64", "i32"))
    body = "i32.const 1; i64.const 2; block 1; local.set 0; drop; i64.const 3; i32.const 4; end"
    ok(func_module(parse(body + "; drop; drop"), locals_=["i64"], extra_types=[t]))
    # a loop's label takes the parameters
    lp = FuncType(("i32",), ())
    ok(func_module(parse("i32.const 0; loop 1; i32.const 1; br_if 0; drop; end; "
                         "i32.const 0; loop 1; br 0; end"), extra_types=[lp]))
    body_bad("block 5; end", "unknown type 5")
    # parameters must be on the stack
    bad(func_module(parse("i64.const 2; block 1; drop; drop; end"), extra_types=[
        FuncType(("i32", "i64"), ())]), "type mismatch")


def test_if_else() -> None:
    body_ok("local.get 0; if i32; i32.const 1; else; i32.const 2; end", params=["i32"],
            results=["i32"])
    body_bad("local.get 0; if i32; i32.const 1; end", params=["i32"], results=["i32"])
    body_bad("local.get 0; if i32; i32.const 1; else; end", params=["i32"], results=["i32"])
    body_bad("i64.const 0; if; end")
    # if without else is fine when params = results
    t = FuncType(("i32",), ("i32",))
    ok(func_module(parse("i32.const 1; i32.const 1; if 1; end; drop"), extra_types=[t]))
    bad(func_module(parse("else"), results=[]), "else")


def test_br_if_and_br_table() -> None:
    body_ok("block i32; i32.const 1; local.get 0; br_if 0; end", params=["i32"],
            results=["i32"])
    ok(func_module([mk("block", "i32"), mk("i32.const", 1), mk("local.get", 0),
                    mk("br_table", ((0, 1), 0)), mk("end")], params=["i32"], results=["i32"]))
    # arity mismatch between targets
    bad(func_module([mk("block", "i32"), mk("i32.const", 1), mk("local.get", 0),
                     mk("br_table", ((0, 1), 0)), mk("end")], params=["i32"]), "type mismatch")
    # in unreachable code targets of the same arity may have different types (appendix)
    ok(func_module([mk("block", "i32"), mk("block", "f32"), mk("unreachable"),
                    mk("br_table", ((0,), 1)), mk("end"), mk("drop"), mk("i32.const", 0),
                    mk("end"), mk("drop")]))
    bad(func_module([mk("block", "i32"), mk("f32.const", 0), mk("i32.const", 0),
                     mk("br_table", ((), 0)), mk("end"), mk("drop")]), "type mismatch")
    bad(func_module([mk("i32.const", 0), mk("br_table", ((3,), 0))]), "unknown label 3")


def test_return_and_calls() -> None:
    body_ok("i32.const 1; return", results=["i32"])
    body_bad("i64.const 1; return", results=["i32"])
    body_ok("i32.const 1; call 0; drop; i32.const 0", params=["i32"], results=["i32"])
    body_bad("call 0", params=["i32"], results=["i32"])
    body_bad("call 3", "unknown function 3")
    tables = [TableType("funcref", Limits(1))]
    ok(func_module([mk("i32.const", 0), mk("call_indirect", (0, 0))], tables=tables))
    bad(func_module([mk("i32.const", 0), mk("call_indirect", (0, 1))], tables=tables),
        "unknown table 1")
    bad(func_module([mk("i32.const", 0), mk("call_indirect", (7, 0))], tables=tables),
        "unknown type 7")
    bad(func_module([mk("i32.const", 0), mk("call_indirect", (0, 0))],
                    tables=[TableType("externref", Limits(1))]), "type mismatch")


# --- parametric and reference instructions ---

def test_select() -> None:
    body_ok("i32.const 1; i32.const 2; i32.const 0; select", results=["i32"])
    body_bad("i32.const 1; i64.const 2; i32.const 0; select", results=["i32"])
    bad(func_module([mk("ref.null", "funcref"), mk("ref.null", "funcref"), mk("i32.const", 0),
                     mk("select"), mk("drop")]), "type mismatch")
    ok(func_module([mk("ref.null", "funcref"), mk("ref.null", "funcref"), mk("i32.const", 0),
                    mk("select_t", ("funcref",)), mk("drop")]))
    bad(func_module([mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                     mk("select_t", ("i32", "i32")), mk("drop")]), "invalid result arity")
    bad(func_module([mk("unreachable"), mk("select_t", ())]), "invalid result arity")
    # an Unknown operand still satisfies the numeric rule
    body_ok("unreachable; i32.const 0; select; drop")


def test_references() -> None:
    ok(func_module([mk("ref.null", "externref"), mk("ref.is_null"), mk("drop")]))
    bad(func_module([mk("i32.const", 0), mk("ref.is_null"), mk("drop")]), "type mismatch")
    undeclared = func_module([mk("ref.func", 0), mk("drop")])
    bad(undeclared, "undeclared function reference")
    ok(func_module([mk("ref.func", 0), mk("drop")], exports=[Export("f", "func", 0)]))
    ok(func_module([mk("ref.func", 0), mk("drop")],
                   elems=[Elem("funcref", [[mk("ref.func", 0), mk("end")]], DECLARATIVE)]))
    ok(func_module([mk("ref.func", 0), mk("drop")],
                   globals=[Global(GlobalType("funcref", False),
                                   [mk("ref.func", 0), mk("end")])]))
    bad(func_module([mk("ref.func", 9), mk("drop")]), "unknown function 9")


def test_tables() -> None:
    tables = [TableType("funcref", Limits(1)), TableType("externref", Limits(1))]
    elems = [Elem("funcref", [], PASSIVE), Elem("externref", [], PASSIVE)]
    ok(func_module([mk("i32.const", 0), mk("table.get", 1), mk("drop"),
                    mk("i32.const", 0), mk("ref.null", "externref"), mk("table.set", 1),
                    mk("table.size", 0), mk("drop"),
                    mk("ref.null", "funcref"), mk("i32.const", 1), mk("table.grow", 0), mk("drop"),
                    mk("i32.const", 0), mk("ref.null", "externref"), mk("i32.const", 1),
                    mk("table.fill", 1),
                    mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                    mk("table.copy", (0, 0)),
                    mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                    mk("table.init", (1, 1)), mk("elem.drop", 0)],
                   tables=tables, elems=elems))
    bad(func_module([mk("i32.const", 0), mk("ref.null", "funcref"), mk("table.set", 1)],
                    tables=tables), "type mismatch")
    bad(func_module([mk("table.size", 2), mk("drop")], tables=tables), "unknown table 2")
    bad(func_module([mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                     mk("table.copy", (0, 1))], tables=tables), "type mismatch")
    bad(func_module([mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                     mk("table.init", (0, 1))], tables=tables, elems=elems), "type mismatch")
    bad(func_module([mk("elem.drop", 4)], elems=elems), "unknown elem segment 4")


# --- memory ---

def test_memory_instructions() -> None:
    ok(func_module([mk("i32.const", 0), mk("i32.load", (2, 0, 0)), mk("drop"),
                    mk("i32.const", 0), mk("i64.const", 0), mk("i64.store32", (2, 4, 0)),
                    mk("memory.size", 0), mk("memory.grow", 0), mk("drop"),
                    mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0),
                    mk("memory.fill", 0)], mems=MEM))
    bad(func_module([mk("i32.const", 0), mk("i32.load", (3, 0, 0)), mk("drop")], mems=MEM),
        "alignment must not be larger than natural")
    bad(func_module([mk("i32.const", 0), mk("i32.load8_u", (1, 0, 0)), mk("drop")], mems=MEM),
        "alignment must not be larger than natural")
    bad(func_module([mk("i32.const", 0), mk("i32.load", (2, 0, 0)), mk("drop")]),
        "unknown memory 0")
    bad(func_module([mk("memory.size", 0), mk("drop")]), "unknown memory 0")


def test_bulk_memory() -> None:
    datas = [Data(b"x", PASSIVE)]
    three = [mk("i32.const", 0), mk("i32.const", 0), mk("i32.const", 0)]
    ok(func_module(three + [mk("memory.init", (0, 0)), mk("data.drop", 0)] + three
                   + [mk("memory.copy", (0, 0))], mems=MEM, datas=datas, data_count=1))
    bad(func_module(three + [mk("memory.init", (1, 0))], mems=MEM, datas=datas),
        "unknown data segment 1")
    bad(func_module([mk("data.drop", 0)]), "unknown data segment 0")
    bad(func_module(three + [mk("memory.init", (0, 0))], datas=datas), "unknown memory 0")


def test_simd_checks() -> None:
    v = mk("v128.const", 0)
    ok(func_module([v, mk("i8x16.extract_lane_s", 15), mk("drop")]))
    bad(func_module([v, mk("i8x16.extract_lane_s", 16), mk("drop")]), "invalid lane index")
    bad(func_module([v, mk("f64x2.extract_lane", 2), mk("drop")]), "invalid lane index")
    ok(func_module([v, v, mk("i8x16.shuffle", tuple(range(16, 32))), mk("drop")]))
    bad(func_module([v, v, mk("i8x16.shuffle", (32,) + (0,) * 15), mk("drop")]),
        "invalid lane index")
    ok(func_module([mk("i32.const", 0), v, mk("v128.load16_lane", ((1, 0, 0), 7)), mk("drop")],
                   mems=MEM))
    bad(func_module([mk("i32.const", 0), v, mk("v128.load16_lane", ((1, 0, 0), 8)),
                     mk("drop")], mems=MEM), "invalid lane index")
    bad(func_module([mk("i32.const", 0), v, mk("v128.load16_lane", ((2, 0, 0), 0)),
                     mk("drop")], mems=MEM), "alignment must not be larger than natural")
    bad(func_module([mk("i32.const", 0), mk("v128.load", (5, 0, 0)), mk("drop")], mems=MEM),
        "alignment must not be larger than natural")
    bad(func_module([mk("i32.const", 0), v, mk("i8x16.replace_lane", 0), mk("drop")]),
        "type mismatch")


# --- module-level rules ---

def _g(t: str, init: List[Instr], mutable: bool = False) -> Global:
    return Global(GlobalType(t, mutable), init + [mk("end")])


def test_constant_expressions() -> None:
    imp = [Import("m", "g", "global", GlobalType("i32", False)),
           Import("m", "h", "global", GlobalType("i32", True))]
    ok(Module(imports=imp, globals=[_g("i32", [mk("global.get", 0)])]))
    bad(Module(imports=imp, globals=[_g("i32", [mk("global.get", 1)])]),
        "constant expression required")
    # Wasm 2.0: only imported globals, no arithmetic; 3.0 (extended constant expressions)
    # allows both.
    earlier = Module(globals=[_g("i32", [mk("i32.const", 0)]), _g("i32", [mk("global.get", 0)])])
    bad(earlier, "unknown global 0", WASM2_FEATURES)
    ok(earlier)
    bad(Module(globals=[_g("i32", [mk("global.get", 1)]), _g("i32", [mk("i32.const", 0)])]),
        "unknown global 1")
    arith = Module(globals=[_g("i32", [mk("i32.const", 0), mk("i32.const", 1), mk("i32.add")])])
    bad(arith, "constant expression required", WASM2_FEATURES)
    ok(arith)
    bad(Module(globals=[_g("i32", [mk("i64.const", 0), mk("i32.const", 1), mk("i32.add")])]),
        "type mismatch")
    bad(Module(globals=[_g("i32", [mk("i32.const", 1), mk("i32.mul")])]), "type mismatch")
    bad(Module(globals=[_g("i32", [mk("i32.const", 1), mk("i32.const", 1), mk("i32.div_u")])]),
        "constant expression required")
    bad(Module(globals=[_g("i32", [mk("i64.const", 0)])]), "type mismatch")
    bad(Module(globals=[_g("i32", [])]), "type mismatch")
    bad(Module(globals=[_g("i32", [mk("i32.const", 0), mk("i32.const", 0)])]), "type mismatch")
    ok(Module(globals=[_g("v128", [mk("v128.const", 0)]),
                       _g("externref", [mk("ref.null", "externref")], True)]))
    bad(Module(mems=MEM, datas=[Data(b"", ACTIVE, 0, [mk("i64.const", 0), mk("end")])]),
        "type mismatch")
    bad(Module(datas=[Data(b"", ACTIVE, 0, [mk("i32.const", 0), mk("end")])]),
        "unknown memory 0")
    bad(Module(elems=[Elem("funcref", [], ACTIVE, 0, [mk("i32.const", 0), mk("end")])]),
        "unknown table 0")
    bad(Module(tables=[TableType("externref", Limits(0))],
               elems=[Elem("funcref", [], ACTIVE, 0, [mk("i32.const", 0), mk("end")])]),
        "type mismatch")
    bad(Module(elems=[Elem("funcref", [[mk("ref.func", 3), mk("end")]], PASSIVE)]),
        "unknown function 3")


def test_limits_and_memories() -> None:
    bad(Module(mems=[MemoryType(Limits(2, 1))]),
        "size minimum must not be greater than maximum")
    bad(Module(tables=[TableType("funcref", Limits(2, 1))]),
        "size minimum must not be greater than maximum")
    bad(Module(mems=[MemoryType(Limits(65537))]),
        "memory size must be at most 65536 pages (4GiB)")
    bad(Module(mems=[MemoryType(Limits(0, 65537))]),
        "memory size must be at most 65536 pages (4GiB)")
    ok(Module(mems=[MemoryType(Limits(0, 65536))]))
    bad(Module(mems=MEM * 2), "multiple memories", WASM2_FEATURES)
    bad(Module(imports=[Import("m", "mem", "memory", MEM[0])], mems=MEM), "multiple memories",
        WASM2_FEATURES)
    ok(Module(mems=MEM * 2))     # Wasm 3.0 multi-memory
    ok(Module(tables=[TableType("funcref", Limits(0))] * 3))


def test_exports_and_start() -> None:
    m = func_module([], exports=[Export("a", "func", 0), Export("a", "memory", 0)], mems=MEM)
    bad(m, "duplicate export name")
    bad(func_module([], exports=[Export("a", "global", 0)]), "unknown global 0")
    bad(func_module([], exports=[Export("a", "func", 1)]), "unknown function 1")
    ok(func_module([], start=0))
    bad(func_module([mk("i32.const", 0)], results=["i32"], start=0), "start function")
    bad(func_module([], start=1), "unknown function 1")
    bad(Module(imports=[Import("m", "f", "func", 0)]), "unknown type 0")
    bad(Module(types=[FuncType((), ())], funcs=[Func(1, [], [mk("end")])]), "unknown type 1")


def test_body_structure() -> None:
    m = Module(types=[FuncType((), ())], funcs=[Func(0, [], [mk("nop")])])
    bad(m, "not terminated")
    m = Module(types=[FuncType((), ())], funcs=[Func(0, [], [mk("end"), mk("nop")])])
    bad(m, "after the end")


# --- scale ---

def _nest(depth: int, op: str = "block") -> Module:
    body = [mk(op, None) for _ in range(depth)] + [mk("end") for _ in range(depth)]
    return func_module(body)


def test_deep_nesting() -> None:
    ok(_nest(10000))
    ok(_nest(10000, "loop"))
    body = [mk("block", "i32") for _ in range(10000)] + [mk("i32.const", 1)] + [
        mk("br", 9999)] + [mk("end") for _ in range(10000)]
    ok(func_module(body, results=["i32"]))


def test_speed_100k_instructions() -> None:
    unit = parse("local.get 0; i32.const 1; i32.add; local.set 0; block; local.get 0; "
                 "br_if 0; local.get 1; local.get 0; i64.extend_i32_u; i64.mul; "
                 "local.set 1; end; i32.const 0; i32.load 0; drop")
    unit[-2] = mk("i32.load", (2, 0, 0))
    body: List[Instr] = []
    while len(body) < 100000:
        body.extend(unit)
    m = func_module(body, locals_=["i32", "i64"], mems=MEM)
    t0 = time.perf_counter()
    validate_module(m)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed
