"""The script runner itself: commands built by hand, result matching, failure reporting."""
from __future__ import annotations

import struct

import pytest

from purewasm.script import commands as C
from purewasm.script.runner import Runner, run_script

wabt = pytest.importorskip("wasmtime")


def binary(text: str) -> C.ModuleSource:
    return C.ModuleSource(C.BINARY, bytes(wabt.wat2wasm(text)))


GLOBALS = binary("""(module
  (global (export "i") i32 (i32.const -1))
  (global (export "f") f32 (f32.const nan:0x200000))
  (global (export "d") f64 (f64.const -0.0))
  (global (export "r") externref (ref.null extern)))""")


def test_get_register_and_link_errors() -> None:
    result = run_script([
        C.ModuleCommand(1, GLOBALS, "$G"),
        C.AssertReturn(2, C.Get("i"), (C.Const("i32", 0xFFFFFFFF),)),
        C.AssertReturn(3, C.Get("f", "$G"), (C.Const("f32", 0x7FA00000),)),   # sNaN kept
        C.AssertReturn(4, C.Get("d"), (C.Const("f64", 0x8000000000000000),)),
        C.AssertReturn(5, C.Get("r"), (C.Const("externref", None),)),
        C.Register(6, "G", "$G"),
        C.ModuleCommand(7, binary('(module (import "G" "i" (global i32)))')),
        C.AssertUnlinkable(8, binary('(module (import "G" "i" (global i64)))'),
                           "incompatible import type"),
        C.AssertUnlinkable(9, binary('(module (import "G" "nope" (global i32)))'),
                           "unknown import"),
        C.AssertUninstantiable(10, binary('(module (memory 0) (data (i32.const 1) "x"))'),
                               "out of bounds memory access"),
        C.AssertTrap(11, C.ModuleCommand(11, binary(
            '(module (table 0 funcref) (func $f) (elem (i32.const 0) $f))')),
            "out of bounds table access"),
        C.AssertMalformed(12, C.ModuleSource(C.BINARY, b"\0asm\2\0\0\0"), "unknown binary version"),
        C.AssertInvalid(13, binary("(module (func (result i32)))"), "type mismatch"),
        C.ModuleCommand(14, binary('(module (import "spectest" "global_i32" (global i32))'
                                   ' (import "spectest" "memory" (memory 1 2))'
                                   ' (import "spectest" "table" (table 10 funcref))'
                                   ' (import "spectest" "print_i32" (func (param i32))))')),
    ])
    assert result.failed == []
    assert len(result.passed) == 14


def test_failures_are_reported_not_raised() -> None:
    result = run_script([
        C.ModuleCommand(1, GLOBALS),
        C.AssertReturn(2, C.Get("i"), (C.Const("i32", 0),)),
        C.AssertReturn(3, C.Get("missing"), ()),
        C.AssertInvalid(4, GLOBALS, "should not validate"),
        C.ModuleCommand(5, C.ModuleSource(C.BINARY, b"junk")),
        C.AssertReturn(6, C.Get("i"), (C.Const("i32", 0xFFFFFFFF),)),   # no module now
    ])
    assert [line for line, _ in result.failed] == [2, 3, 4, 5, 6]
    assert result.passed == [(1, "ModuleCommand")]


def test_skip_text_modules_counts_them() -> None:
    result = run_script([C.AssertMalformed(1, C.ModuleSource(C.QUOTE, "(module"), "x")],
                        skip_text_modules=True)
    assert result.skipped and not result.failed and not result.passed


def test_result_matching() -> None:
    r = Runner()
    f32 = struct.unpack("<f", struct.pack("<f", 1.5))[0]
    assert r.match("f32", f32, C.Const("f32", 0x3FC00000))
    assert not r.match("f32", f32, C.Const("f32", 0x3FC00001))
    canonical = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000000))[0]
    assert r.match("f64", canonical, C.NanPattern("f64", C.NAN_CANONICAL))
    arith = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    assert r.match("f64", arith, C.NanPattern("f64", C.NAN_ARITHMETIC))
    assert not r.match("f64", arith, C.NanPattern("f64", C.NAN_CANONICAL))
    lanes = 0x7FC00000 | (1 << 32) | (0x7FC00001 << 64) | (3 << 96)
    assert r.match("v128", lanes, C.V128Pattern("f32", (C.NAN_CANONICAL, 1, C.NAN_ARITHMETIC, 3)))
    assert not r.match("v128", lanes, C.V128Pattern("f32", (C.NAN_CANONICAL, 1,
                                                            C.NAN_CANONICAL, 3)))
    either = C.Either(((C.Const("i32", 1),), (C.Const("i32", 2),)))
    assert r.check_results(["i32"], [2], [either]) is None
    assert r.check_results(["i32"], [3], [either]) is not None
    assert r.check_results(["i32"], [True], [C.Const("i32", 1)]) is None
    assert r.check_results(["i32"], [5], [C.Const("i32", 5), C.Const("i32", 5)]) is not None
