"""Unit tests of the text format: lexer, literals, parser abbreviations, errors, printer,
script layer. (tests/test_text_suite.py runs the whole official testsuite.)"""
from __future__ import annotations

import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purewasm.errors import MalformedError
from purewasm.opcodes import WASM2_FEATURES
from purewasm.script import commands as C
from purewasm.syntax import ACTIVE, DECLARATIVE, PASSIVE, FuncType, Instr, Limits
from purewasm.text import parse_module, parse_script, print_module
from purewasm.text.literals import LiteralError, parse_float, parse_iN
from purewasm.text.printer import float_text


def body(text: str, index: int = 0):  # type: ignore[no-untyped-def]
    return parse_module(text).funcs[index].body


def ops(instrs):  # type: ignore[no-untyped-def]
    return [(i.op, i.imm) for i in instrs]


def malformed(text: str, reason: str, features=None) -> MalformedError:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedError) as info:
        parse_module(text, features)
    assert reason in info.value.reason, info.value.reason
    return info.value


# --- literals ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,bits,value", [
    ("0", 32, 0), ("-1", 32, 0xFFFFFFFF), ("4_294_967_295", 32, 0xFFFFFFFF),
    ("0xffff_ffff", 32, 0xFFFFFFFF), ("-0x8000_0000", 32, 0x80000000),
    ("+0x7fffffff", 32, 0x7FFFFFFF), ("0010", 32, 10),
    ("18446744073709551615", 64, 2**64 - 1), ("-9223372036854775808", 64, 2**63),
])
def test_int_literals(text: str, bits: int, value: int) -> None:
    assert parse_iN(text, bits) == value


@pytest.mark.parametrize("text,bits", [
    ("4294967296", 32), ("-2147483649", 32), ("+0x80000000", 32), ("1__0", 32),
    ("_1", 32), ("1_", 32), ("0x", 32), ("18446744073709551616", 64), ("1.0", 32),
])
def test_bad_int_literals(text: str, bits: int) -> None:
    with pytest.raises(LiteralError):
        parse_iN(text, bits)


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.mark.parametrize("text,bits,value", [
    ("0x1p-149", 32, 1), ("-0x1p-149", 32, 0x80000001), ("0x1p-1074", 64, 1),
    ("-0.0", 32, 0x80000000), ("inf", 32, 0x7F800000), ("-inf", 64, 0xFFF0000000000000),
    ("nan", 32, 0x7FC00000), ("-nan", 64, 0xFFF8000000000000),
    ("nan:0x1", 32, 0x7F800001), ("nan:0x7f_ffff", 32, 0x7FFFFFFF),
    ("0x1.fffffefffffffffffffp127", 32, 0x7F7FFFFF), ("1e38", 32, f32_bits(1e38)),
    ("0x1.8p1", 64, f64_bits(3.0)), ("1_000.000_1", 64, f64_bits(1000.0001)),
    ("0x1.000001p0", 32, 0x3F800000),         # tie: rounds to even
    ("0x1.000003p0", 32, 0x3F800002),         # tie: rounds to even (up)
    ("1.00000005960464477539062582718061255302767487140869206996285356581211090087890625",
     32, 0x3F800001),                         # just above the tie: no double rounding
    ("0x1.fffffffffffff8p-1023", 64, 0x0010000000000000),   # subnormal rounds up to normal
    ("1e-400", 64, 0), ("0.1", 32, f32_bits(0.1)), ("1.", 64, f64_bits(1.0)),
    ("1E+2", 64, f64_bits(100.0)), ("0x.8p0", 64, None),
])
def test_float_literals(text: str, bits: int, value) -> None:  # type: ignore[no-untyped-def]
    if value is None:
        with pytest.raises(LiteralError):
            parse_float(text, bits)
    else:
        assert parse_float(text, bits) == value


@pytest.mark.parametrize("text,bits", [
    ("0x1p128", 32), ("0x1.ffffffp127", 32), ("1e39", 32), ("1e309", 64),
    ("nan:0x0", 32), ("nan:0x80_0000", 32), ("nan:0x10_0000_0000_0000", 64), ("nan:1", 32),
    ("1e", 64), ("0x1p", 64), ("infinity", 32),
])
def test_bad_float_literals(text: str, bits: int) -> None:
    with pytest.raises(LiteralError):
        parse_float(text, bits)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1))
def test_float_text_round_trips_bits(b32: int, b64: int) -> None:
    assert parse_float(float_text(b32, "f32"), 32) == b32
    assert parse_float(float_text(b64, "f64"), 64) == b64


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0x7F7FFFFF))
def test_f32_decimal_hex_and_ties(b: int) -> None:
    x = struct.unpack("<f", struct.pack("<I", b))[0]
    assert parse_float("%.9g" % x, 32) == b          # 9 digits identify an f32
    assert parse_float(float.hex(x), 32) == b       # exact hex
    assert parse_float("-" + float.hex(x), 32) == b | 0x80000000
    if b < 0x7F7FFFFF:
        # The exact midpoint to the next f32 rounds to the even one of the two.
        y = struct.unpack("<f", struct.pack("<I", b + 1))[0]
        from fractions import Fraction
        mid = (Fraction(x) + Fraction(y)) / 2
        num, den = mid.numerator, mid.denominator      # den is a power of two
        text = "0x%xp-%d" % (num, den.bit_length() - 1)
        assert parse_float(text, 32) == (b if b % 2 == 0 else b + 1)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_decimal_f64_matches_python(x: float) -> None:
    assert parse_float(repr(x), 64) == f64_bits(x)


def test_literals_with_thousands_of_digits() -> None:
    # Python refuses int() of a decimal string over 4300 digits (3.11+): such literals
    # must still be exact, or a MalformedError, never a ValueError.
    zeros = "0" * 5000
    assert parse_iN(zeros + "7", 32) == 7
    assert parse_iN("-" + zeros + "1", 64) == 2**64 - 1
    with pytest.raises(LiteralError, match="out of range"):
        parse_iN("9" * 5000, 64)
    assert parse_float("0." + zeros + "1e5001", 64) == f64_bits(1.0)
    assert parse_float("1" + zeros + "e-5000", 32) == 0x3F800000
    assert parse_float("1e-" + zeros + "1", 64) == f64_bits(0.1)
    with pytest.raises(LiteralError, match="out of range"):
        parse_float("1e" + "9" * 5000, 64)
    assert parse_float("1e-" + "9" * 5000, 64) == 0
    # 1 + 2**-24 is the midpoint of two f32s (ties to even: 1.0); a nonzero digit 5000
    # places further down breaks the tie upwards.
    tie = "1.000000059604644775390625"
    assert parse_float(tie, 32) == 0x3F800000
    assert parse_float(tie + zeros + "1", 32) == 0x3F800001
    assert parse_float(tie + zeros, 32) == 0x3F800000
    assert parse_float("0x1.000001" + zeros + "1p0", 32) == 0x3F800001
    big_index = "(module (memory 1) (func (drop (i32.load offset=%s1 (i32.const 0)))))"
    with pytest.raises(MalformedError):
        parse_module(big_index % ("9" * 5000))
    m = parse_module(big_index % zeros)
    assert m.funcs[0].body[1].imm[1] == 1


# --- lexer -----------------------------------------------------------------------------

def test_strings_and_escapes() -> None:
    m = parse_module(r'(module (data "a\n\t\r\\\'\"\00\ff" "\u{41}\u{1F600}" "é"))')
    assert m.datas[0].init == b"a\n\t\r\\'\"\x00\xffA\xf0\x9f\x98\x80\xc3\xa9"


@pytest.mark.parametrize("text,reason", [
    ('(module (data "\\q"))', "illegal escape"),
    ('(module (data "\\u{D800}"))', "malformed UTF-8"),
    ('(module (data "abc', "unclosed string"),
    ('(module (data "a\tb"))', "illegal control character"),
    ("(module (; unclosed", "unclosed comment"),
    ('(module (export "\\80" (func 0)) (func))', "malformed UTF-8 encoding"),
])
def test_lexical_errors(text: str, reason: str) -> None:
    malformed(text, reason)


def test_comments_annotations_and_locations() -> None:
    m = parse_module("""(module ;; line comment
      (; block (; nested ;) comment ;)
      (@custom "x" (anything (here) "\\ff"))
      (func (@name "f") (result i32) i32.const 7))""")
    assert ops(m.funcs[0].body) == [("i32.const", 7), ("end", None)]
    err = malformed("(module\n  (func\n    i32.bogus))", "unknown operator")
    assert (err.line, err.column) == (3, 5)
    assert str(err).startswith("3:5: ")


def test_reserved_tokens_are_rejected() -> None:
    malformed("(module (func br 0drop))", "unknown operator")
    malformed('(module (data"a"))', "unknown operator")
    malformed("(module (func (drop (i32.const0))))", "unknown operator")


def test_undecodable_source_is_malformed() -> None:
    malformed(b"(module (func)) ;; \xff".decode("utf-8", "surrogateescape"), "UTF-8")
    with pytest.raises(MalformedError):
        parse_module(b"(module) (;\xc0\x80;)")


# --- modules and abbreviations ---------------------------------------------------------

def test_identifiers_forward_references_and_index_spaces() -> None:
    m = parse_module("""(module
      (import "m" "f" (func $imp (param i32)))
      (import "m" "g" (global $gi i32))
      (func $a (call $b) (global.get $g) (global.get $gi) drop drop)
      (func $b (call $a) (call $imp (i32.const 1)) (ref.func $a) drop)
      (global $g i32 (i32.const 0))
      (table $t 1 funcref) (memory $m 1)
      (elem $e func $a) (data $d "")
      (func (table.get $t (i32.const 0)) drop (elem.drop $e) (data.drop $d)
            (drop (memory.size $m)))
      (export "a" (func $a)) (start $b))""")
    assert ops(m.funcs[0].body) == [("call", 2), ("global.get", 1), ("global.get", 0),
                                   ("drop", None), ("drop", None), ("end", None)]
    assert ops(m.funcs[1].body)[:3] == [("call", 1), ("i32.const", 1), ("call", 0)]
    assert m.start == 2 and m.exports[0].index == 1
    assert ops(m.funcs[2].body)[:4] == [("i32.const", 0), ("table.get", 0), ("drop", None),
                                       ("elem.drop", 0)]
    assert m.names.funcs == {0: "imp", 1: "a", 2: "b"}


def test_implicit_types_are_appended_in_order_and_reused() -> None:
    m = parse_module("""(module
      (func (param i64))
      (type $t (func (param i32)))
      (func (param i32))
      (func (result f64) (f64.const 0))
      (func (type $t) (param i32))
      (func (call_indirect (param i64) (i64.const 0) (i32.const 0)))
      (table 1 funcref))""")
    assert m.types == [FuncType(("i32",), ()), FuncType(("i64",), ()),
                       FuncType((), ("f64",)), FuncType((), ())]
    assert [f.type_index for f in m.funcs] == [1, 0, 2, 0, 3]
    assert ops(m.funcs[4].body)[2] == ("call_indirect", (1, 0))


def test_inline_imports_and_exports() -> None:
    m = parse_module("""(module
      (func $f (export "e1") (export "e2") (import "m" "f") (result i32))
      (table (export "t") (import "m" "t") 2 3 funcref)
      (memory (import "m" "mem") 1)
      (global (export "g") (import "m" "g") (mut f32))
      (func (export "h")))""")
    assert [(i.module, i.name, i.kind) for i in m.imports] == [
        ("m", "f", "func"), ("m", "t", "table"), ("m", "mem", "memory"), ("m", "g", "global")]
    assert [(e.name, e.kind, e.index) for e in m.exports] == [
        ("e1", "func", 0), ("e2", "func", 0), ("t", "table", 0), ("g", "global", 0),
        ("h", "func", 1)]
    assert m.imports[1].desc.limits == Limits(2, 3)


def test_import_after_definition_is_malformed() -> None:
    malformed('(module (func) (import "" "" (func)))', "import after function")
    malformed('(module (global i32 (i32.const 0)) (func (import "" "")))', "import after global")


def test_folded_equals_flat() -> None:
    folded = body("""(module (func (param i32) (result i32)
      (if (result i32) (local.get 0)
        (then (block $b (result i32) (br $b (i32.const 1))))
        (else (loop $l (result i32) (i32.add (i32.const 2) (i32.const 3)))))))""")
    flat = body("""(module (func (param i32) (result i32)
      local.get 0
      if (result i32)
        block $b (result i32) i32.const 1 br $b end
      else
        loop $l (result i32) i32.const 2 i32.const 3 i32.add end $l
      end))""")
    assert folded == flat
    assert ops(flat)[4] == ("br", 0)


def test_labels_shadowing_and_depths() -> None:
    b = body("""(module (func
      (block $a (block $b (block $a (br $a) (br $b) (br 2) (br_table $a $b 0 $a))))))""")
    assert [i.imm for i in b if i.op.startswith("br")] == [0, 1, 2, ((0, 1, 0), 0)]
    malformed("(module (func block $a end $b))", "mismatching label")
    malformed("(module (func block end $b))", "mismatching label")
    malformed("(module (func (if $a (i32.const 0) (then)) if $x else $y end))",
              "mismatching label")
    malformed("(module (func (br $nowhere)))", "unknown label")


def test_if_forms_and_empty_else() -> None:
    assert ops(body("(module (func (if (i32.const 0) (then nop) (else))))")) == [
        ("i32.const", 0), ("if", None), ("nop", None), ("end", None), ("end", None)]
    assert ops(body("(module (func i32.const 0 if else end))")) == [
        ("i32.const", 0), ("if", None), ("end", None), ("end", None)]
    malformed("(module (func (if (i32.const 0) nop (then))))", "unexpected token")
    malformed("(module (func (if (i32.const 0))))", "unexpected token")
    malformed("(module (func block nop))", "unexpected token")


def test_block_types() -> None:
    m = parse_module("""(module (type $t2 (func (param i32) (result i32 i32)))
      (type $r (func (result i64)))
      (func block end block (result i32) end block (type $r) end
            block (param i32) end block (type $t2) end
            block (param i64) (result i64) end))""")
    # (type $r) has the short form's shape, so it is written short, as wabt does.
    assert [i.imm for i in m.funcs[0].body if i.op == "block"] == [None, "i32", "i64", 3, 0, 4]
    malformed("(module (type $t (func)) (func block (type $t) (result i32) end))",
              "inline function type")
    malformed("(module (func block (result i32) (param i32) end))", "unexpected token")


def test_select_and_reference_instructions() -> None:
    assert ops(body("(module (func (select (result i32) (result) (i32.const 1) "
                    "(i32.const 2) (i32.const 3)) (ref.null extern) (ref.is_null) drop drop))")
               )[3:6] == [("select_t", ("i32",)), ("ref.null", "externref"),
                          ("ref.is_null", None)]
    malformed("(module (func select_t))", "unknown operator")


def test_memory_and_table_immediates() -> None:
    b = body("""(module (memory 1) (table $t 1 funcref) (table $u 1 funcref)
      (elem $e func) (data $d "")
      (func i32.const 0 i64.load offset=0x10 align=4 drop
            i32.const 0 i32.load8_u drop
            table.copy $u $t table.copy table.init $u $e table.init $e
            memory.init $d memory.copy memory.fill))""")
    assert [i.imm for i in b if i.op not in ("i32.const", "drop", "end")] == [
        (2, 16, 0), (0, 0, 0), (1, 0), (0, 0), (0, 1), (0, 0), (0, 0), (0, 0), 0]
    malformed("(module (memory 1) (func i32.const 0 i32.load align=3 drop))", "alignment")
    # Wasm 2.0: the offset is a u32; 3.0 (memory64) reads a u64 (validation bounds it).
    malformed("(module (memory 1) (func i32.const 0 i32.load offset=4294967296 drop))",
              "i32 constant", WASM2_FEATURES)
    malformed("(module (memory 1) (func i32.const 0 i32.load offset=18446744073709551616 "
              "drop))", "i64 constant")


def test_simd_immediates() -> None:
    b = body("""(module (memory 1) (func
      v128.const i32x4 1 2 3 -1
      v128.const f32x4 1.0 -0 nan inf
      v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 255
      i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 31
      i32x4.extract_lane 3
      i32.const 0 v128.const i64x2 0 0 v128.load8_lane offset=1 15
      drop drop drop))""")
    assert b[0].imm == 1 | 2 << 32 | 3 << 64 | 0xFFFFFFFF << 96
    assert b[1].imm == 0x3F800000 | 0x80000000 << 32 | 0x7FC00000 << 64 | 0x7F800000 << 96
    assert b[2].imm == int.from_bytes(bytes(list(range(15)) + [255]), "little")
    assert b[3].imm == tuple(range(15)) + (31,)
    assert b[4].imm == 3
    assert b[7].imm == ((0, 1, 0), 15)
    malformed("(module (func v128.const i32x4 1 2 3 drop))", "wrong number of lane literals")
    malformed("(module (func (i8x16.shuffle 1 2 3)))", "invalid lane length")
    malformed("(module (func (i32x4.extract_lane 256 (v128.const i64x2 0 0)) drop))",
              "malformed lane index")


def test_tables_memories_segments() -> None:
    m = parse_module("""(module
      (table $t funcref (elem $f $f))
      (memory (data "ab" "c"))
      (func $f)
      (elem (i32.const 1) $f)
      (elem (table $t) (offset (i32.const 0)) funcref (item ref.func $f) (ref.null func))
      (elem func $f) (elem declare func $f) (elem externref (ref.null extern))
      (data (i32.const 2) "x") (data (memory 0) (offset (i32.const 3)) "y") (data "z"))""")
    assert m.tables[0].limits == Limits(2, 2) and m.mems[0].limits == Limits(1, 1)
    e = m.elems
    assert [x.mode for x in e] == [ACTIVE, ACTIVE, ACTIVE, PASSIVE, DECLARATIVE, PASSIVE]
    assert e[0].init == [[Instr("ref.func", 0), Instr("end")]] * 2
    assert e[2].init == [[Instr("ref.func", 0), Instr("end")],
                         [Instr("ref.null", "funcref"), Instr("end")]]
    assert e[5].type == "externref"
    assert [(d.init, d.mode) for d in m.datas] == [
        (b"abc", ACTIVE), (b"x", ACTIVE), (b"y", ACTIVE), (b"z", PASSIVE)]
    assert m.datas[2].offset == [Instr("i32.const", 3), Instr("end")]


@pytest.mark.parametrize("text,reason", [
    ("(module (func $f) (func $f))", "duplicate func"),
    ("(module (func (param $x i32) (local $x i32)))", "duplicate local"),
    ("(module (global $g i32 (i32.const 0)) (global $g i32 (i32.const 0)))",
     "duplicate global"),
    ("(module (start 0) (start 0) (func))", "multiple start sections"),
    ("(module (func (call $nope)))", "unknown function"),
    ("(module (func (local.get $x)))", "unknown local"),
    ("(module (type $t (func)) (func (type $t) (param i32)))", "inline function type"),
    ("(module (func (type 3) (param i32)))", "unknown type"),
    ("(module (func (i32.const 4294967296) drop))", "constant out of range"),
    ("(module (func (f32.const 0x1p128) drop))", "constant out of range"),
    ("(module (func (get_local 0)))", "unknown operator get_local"),
    ("(module (func) extra)", "unexpected token"),
    ("(module (func)", "unexpected end"),
    ("(module (func)))", "unexpected token"),
])
def test_malformed_modules(text: str, reason: str) -> None:
    malformed(text, reason)


def test_bare_fields_and_numeric_type_use() -> None:
    m = parse_module("(type (func (result i32))) (func (type 0) i32.const 1)")
    assert m.funcs[0].type_index == 0 and len(m.types) == 1


# --- no recursion on deep nesting ------------------------------------------------------

@pytest.mark.parametrize("depth", [20000])
def test_deep_nesting(depth: int) -> None:
    folded = "(module (func " + "(block " * depth + ")" * depth + "))"
    plain = "(module (func " + "block " * depth + "end " * depth + "))"
    chain = ("(module (func (result i32) " + "(i32.add (i32.const 1) " * depth
             + "(i32.const 0)" + ")" * depth + "))")
    t = time.perf_counter()
    assert body(folded) == body(plain)
    assert len(body(chain)) == 2 * depth + 2
    assert time.perf_counter() - t < 10


# --- printer ---------------------------------------------------------------------------

def test_print_round_trip_with_names() -> None:
    text = """(module $mod
      (type $t (func (param i32) (result i32)))
      (import "env" "f" (func $imp (type $t)))
      (import "env" "tab" (table 1 funcref))
      (func $fac (export "fac") (param $n i32) (result i32) (local $acc i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1))
          (else (i32.mul (local.get $n) (call $fac (i32.sub (local.get $n) (i32.const 1)))))))
      (func (param f32 f64) (drop (f32.const -nan:0x1)) (drop (f64.const 0x1p-1074))
        (drop (f32.const -0)) (drop (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
        (br_table 0 0 0 (i32.const 0)) (call_indirect (type $t) (i32.const 0) (i32.const 0))
        drop (select (result f32) (f32.const 1) (f32.const 2) (i32.const 0)) drop)
      (memory 1 2) (global (mut i64) (i64.const -1))
      (elem (i32.const 0) $fac) (elem declare func 0) (data (i32.const 0) "\\00\\ff\\"a")
      (data "passive") (start $imp))"""
    m = parse_module(text)
    printed = print_module(m)
    assert "$fac" in printed and "(param $n i32)" in printed and "(module $mod" in printed
    assert parse_module(printed) == m


# --- scripts ---------------------------------------------------------------------------

SCRIPT = r'''
(module $M (func (export "f") (param i32) (result i32) (local.get 0)))
(module binary "\00asm" "\01\00\00\00")
(module $Q quote "(func)" "(memory 1)")
(register "m" $M)
(invoke "f" (i32.const -1))
(assert_return (invoke $M "f" (i32.const 7)) (i32.const 7))
(assert_return (invoke "g" (f32.const 1) (ref.null extern) (ref.extern 3))
  (f32.const nan:canonical) (f64.const nan:arithmetic) (ref.func) (ref.extern)
  (v128.const f32x4 nan:canonical 1 -0 nan:arithmetic) (v128.const i16x8 0 1 2 3 4 5 6 -1)
  (either (i32.const 1) (i32.const 2)))
(assert_return (get "glob") (i64.const 5))
(assert_trap (invoke "t") "unreachable")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_exhaustion (invoke "r") "call stack exhausted")
(assert_malformed (module quote "(func") "unexpected end")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
'''


def test_parse_script_commands() -> None:
    cmds = parse_script(SCRIPT)
    kinds = [type(c).__name__ for c in cmds]
    assert kinds == ["ModuleCommand", "ModuleCommand", "ModuleCommand", "Register",
                     "ActionCommand", "AssertReturn", "AssertReturn", "AssertReturn",
                     "AssertTrap", "AssertTrap", "AssertExhaustion", "AssertMalformed",
                     "AssertInvalid", "AssertUnlinkable"]
    assert [c.line for c in cmds[:6]] == [2, 3, 4, 5, 6, 7]
    m0 = cmds[0]
    assert m0.name == "$M" and m0.source.kind == C.TEXT
    assert parse_module(m0.source.data).exports[0].name == "f"
    assert cmds[1].source == C.ModuleSource(C.BINARY, b"\x00asm\x01\x00\x00\x00")
    assert cmds[2].source == C.ModuleSource(C.QUOTE, "(func)(memory 1)")
    assert cmds[3] == C.Register(5, "m", "$M")
    assert cmds[4].action == C.Invoke("f", (C.Const("i32", 0xFFFFFFFF),))
    assert cmds[5].action.module == "$M"
    r = cmds[6]
    assert r.action.args == (C.Const("f32", 0x3F800000), C.Const("externref", None),
                             C.Const("externref", 3))
    assert r.expected == (
        C.NanPattern("f32", C.NAN_CANONICAL), C.NanPattern("f64", C.NAN_ARITHMETIC),
        C.RefPattern("funcref"), C.RefPattern("externref"),
        C.V128Pattern("f32", (C.NAN_CANONICAL, 0x3F800000, 0x80000000, C.NAN_ARITHMETIC)),
        C.Const("v128", sum(n << (16 * n) for n in range(7)) | 0xFFFF << 112),
        C.Either(((C.Const("i32", 1),), (C.Const("i32", 2),))))
    assert cmds[7].action == C.Get("glob")
    assert isinstance(cmds[9].action, C.ModuleCommand)
    assert cmds[11].module.kind == C.QUOTE and cmds[11].message == "unexpected end"
    with pytest.raises(MalformedError):
        parse_module(cmds[11].module.data)


def test_script_of_bare_module_fields() -> None:
    (cmd,) = parse_script('(func) (memory 0) (func (export "f"))')
    assert cmd.source.kind == C.QUOTE
    assert len(parse_module(cmd.source.data).funcs) == 2


@pytest.mark.parametrize("text", ["(assert_return (invoke \"f\") (i32.const x))",
                                  "(bogus)", "(invoke \"f\"", "(module quote 1)"])
def test_script_errors(text: str) -> None:
    with pytest.raises(MalformedError):
        parse_script(text)


def test_wat2wasm_decodes_to_the_parsed_module() -> None:
    from purewasm.binary import decode_module
    from purewasm.text import wat2wasm
    text = """(module $mod (type $t (func (param i32) (result i32)))
      (import "env" "f" (func $imp (type $t)))
      (func $fac (export "fac") (param $n i32) (result i32) (local $acc i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1))
          (else (i32.mul (local.get $n) (call $fac (i32.sub (local.get $n) (i32.const 1)))))))
      (memory 1) (data (i32.const 0) "hi") (table 1 funcref) (elem (i32.const 0) $fac))"""
    data = wat2wasm(text)
    assert data[:8] == b"\x00asm\x01\x00\x00\x00"
    decoded = decode_module(data)
    decoded.customs = []
    for f in decoded.funcs:
        f.offset = None
    assert decoded == parse_module(text)


def test_parse_module_accepts_script_module_forms() -> None:
    m = parse_module('(module $m quote "(func (export \\"f\\"))" "(memory 1)")')
    assert len(m.funcs) == 1 and len(m.mems) == 1
    m = parse_module('(module binary "\\00asm" "\\01\\00\\00\\00")')
    assert m.funcs == []
    malformed('(module quote "(func" ")" extra)', "unexpected token")


def test_quoted_identifiers() -> None:
    # Wasm 3.0 ids written as strings, as `wasm-tools print` emits them: $"a b" == $"a b"
    # and $"abc" == $abc.
    m = parse_module('(module (func $"a b" (call $"a b")) (func $abc (call $"abc")))')
    assert ops(m.funcs[0].body)[0] == ("call", 0)
    assert ops(m.funcs[1].body)[0] == ("call", 1)
    assert m.names.funcs == {0: "a b", 1: "abc"}
    malformed('(module (func $""))', "empty identifier")
    malformed('(module (func $"\\ff"))', "malformed UTF-8")
