"""Validating function bodies straight from their bytes (validate/stream.py): the result,
and the error of a bad module, are those of decoding every body and validating it
(``validate_module(decode_module(data))``), on every binary module of the spec suites;
and the fast reader does decide ordinary compiled code without the exact path."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Collection, List, Optional, Tuple

import pytest

from wast_json import WAST_DIR, wast_commands

from purewasm.binary import decode_module, encode_module
from purewasm.binary.decode import LazyFunc
from purewasm.errors import WasmtimeError
from purewasm.opcodes import WASM2_FEATURES
from purewasm.text import parse_module
from purewasm.validate import decode_and_validate, validate_module
import purewasm.validate.stream as stream

ROOT3 = WAST_DIR.parent / "wasm-3.0"


def _outcome(load: Any) -> Tuple[str, Optional[str], Optional[int]]:
    try:
        load()
    except WasmtimeError as exc:
        return type(exc).__name__, str(exc), getattr(exc, "offset", None)
    return "ok", None, None


def _binaries(root: Path, tool: str) -> List[bytes]:
    out = []
    for path in sorted(root.rglob("*.wast")):
        try:
            commands, moddir = wast_commands(path, tool=tool)
        except subprocess.CalledProcessError:
            continue          # test_spec3 reports the scripts the tool refuses
        for cmd in commands:
            name = cmd.get("filename")
            if name and name.endswith(".wasm") and cmd.get("module_type", "binary") == "binary":
                out.append((moddir / name).read_bytes())
    return out


def _same_as_exact(binaries: List[bytes], features: Optional[Collection[str]]) -> int:
    checked = 0
    for data in binaries:
        exact = _outcome(lambda d=data: validate_module(decode_module(d, features), features))
        fast = _outcome(lambda d=data: decode_and_validate(d, features, features))
        assert fast == exact, data[:64]
        checked += 1
    return checked


@pytest.mark.skipif(shutil.which("wast2json") is None, reason="needs wabt's wast2json")
def test_spec2_binaries_same_outcome() -> None:
    assert _same_as_exact(_binaries(WAST_DIR, "wast2json"), WASM2_FEATURES) > 1000


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="needs wasm-tools")
def test_spec3_binaries_same_outcome() -> None:
    assert _same_as_exact(_binaries(ROOT3, "wasm-tools"), None) > 1000


def _fast_accepts(data: bytes) -> List[bool]:
    """For each defined function: did the fast reader decide it alone?"""
    module = decode_module(data, lazy_bodies=True)
    decided = []
    original = stream._exact

    def exact(*args: Any) -> None:
        decided[-1] = False
        original(*args)
    stream._exact = exact
    try:
        for f in module.funcs:
            decided.append(True)
            assert isinstance(f, LazyFunc)
        validate_module(module)
    finally:
        stream._exact = original
    return decided


C_LIKE = """(module
  (type $t (func (param i32) (result i32)))
  (memory 1) (table 1 funcref) (global $g (mut i32) (i32.const 0))
  (func $f (type $t) (local i64 f64)
    (block $out (result i32)
      (loop $l
        (br_if $out (i32.eqz (local.get 0)) (i32.const 7))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (i32.store offset=4 (local.get 0) (i32.load8_u (local.get 0)))
        (local.set 1 (i64.extend_i32_u (local.get 0)))
        (drop (select (local.get 0) (i32.const 1) (global.get $g)))
        (global.set $g (call_indirect (type $t) (local.get 0) (i32.const 0)))
        (br_table $l $l 0 (local.get 0)))
      (unreachable))
    (if (result i32) (local.get 0) (then (memory.grow (i32.const 1))) (else (memory.size)))
    (i32.add)
    (f64.const 1.5) (local.set 2)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))
    (call $f (i32.const 1)) (drop))
  (func (result i32) (nop) (return (i32.const 2)) (i32.const 3)))
"""


def test_fast_reader_decides_compiled_code() -> None:
    assert _fast_accepts(encode_module(parse_module(C_LIKE))) == [True, True]


def test_body_decoded_on_first_use_only() -> None:
    module = decode_and_validate(encode_module(parse_module(C_LIKE)))
    f = module.funcs[0]
    assert isinstance(f, LazyFunc) and f._body is None
    assert f.body[-1].op == "end" and f._body is not None


def test_invalid_body_error_as_exact_path() -> None:
    # An invalid first body and a malformed second: malformed wins, as when every body
    # is decoded first (the reference interpreter's order).
    good = encode_module(parse_module(
        "(module (func (result i32) (i32.const 1)) (func (drop (i32.const 0))))"))
    bad_type = good.replace(b"\x41\x01\x0b", b"\x42\x01\x0b")     # i64.const: invalid
    bad_both = bad_type.replace(b"\x1a\x0b", b"\xff\x0b")          # illegal opcode
    for data in (bad_type, bad_both):
        exact = _outcome(lambda d=data: validate_module(decode_module(d)))
        assert exact[0] != "ok"
        assert _outcome(lambda d=data: decode_and_validate(d)) == exact
    assert _outcome(lambda: decode_and_validate(bad_both))[0] == "MalformedError"


# Typed stack shapes the fast reader has fast paths for: blocks with parameters and
# results, if/else, branches carrying values, unreachable code, every load and store.
SHAPES = """(module
  (type $p2 (func (param i32 i64) (result i64)))
  (memory 1) (global $g (mut i64) (i64.const 0)) (global $c f32 (f32.const 1))
  (func $h (param i32 i64 f32 f64) (result i32 i64) (local v128)
    (i32.const 8) (i64.const -1)
    (block $b (type $p2)
      (i64.add (i64.extend_i32_s (local.get 0)))
      (br_if $b (local.get 0))
      (local.tee 1)
      (global.set $g (local.get 1))
      (loop $l (param i64) (result i64)
        (i64.const 4) (i64.mul) (br_if $l (local.get 0)))
      (local.set 1) (drop) (local.get 1))
    (local.set 1)
    (if (result i32 i64) (local.get 0)
      (then (i32.const 1) (local.get 1))
      (else (unreachable) (i32.add) (i64.const 2))) (drop) (drop)
    (i32.store offset=4 (local.get 0) (i32.load align=1 (local.get 0)))
    (i64.store32 offset=70000 (local.get 0) (i64.load16_s (local.get 0)))
    (f32.store (local.get 0) (f32.add (global.get $c) (f32.load (local.get 0))))
    (f64.store (local.get 0) (f64.convert_i32_u (i32.load8_s (local.get 0))))
    (i32.store8 (local.get 0) (i32.trunc_sat_f64_s (f64.load (local.get 0))))
    (i64.store16 (local.get 0) (i64.load8_u offset=300 (local.get 0)))
    (block (br 0 (unreachable)) (i32.const 1) (i64.load) (drop))
    (drop (block (result i32) (i32.const 1) (return (i32.const 0) (i64.const 0))))
    (select (i32.const 1) (i32.const 2) (i32.const 3))
    (local.get 1)))
"""


def _padded_module() -> bytes:
    """A module whose body uses the five-byte LEB128s linkers write for what they
    relocate: a call, globals, an i32.const and a memarg offset."""
    from purewasm.binary.leb128 import write_uleb

    def section(sid: int, content: bytes) -> bytes:
        return bytes([sid]) + write_uleb(len(content)) + content
    body = bytes([
        0x00,                                       # no locals
        0x20, 0x00,                                 # local.get 0
        0x41, 0x90, 0x80, 0x80, 0x80, 0x00,         # i32.const 16 (padded)
        0x6A,                                       # i32.add
        0x24, 0x80, 0x80, 0x80, 0x80, 0x00,         # global.set 0 (padded)
        0x23, 0x80, 0x80, 0x80, 0x80, 0x00,         # global.get 0 (padded)
        0x28, 0x02, 0x84, 0x80, 0x80, 0x80, 0x00,   # i32.load offset=4 (padded)
        0x10, 0x80, 0x80, 0x80, 0x80, 0x00,         # call 0 (padded)
        0x0B])
    return (b"\0asm\1\0\0\0"
            + section(1, bytes([1, 0x60, 1, 0x7F, 1, 0x7F]))
            + section(3, bytes([1, 0]))
            + section(5, bytes([1, 0, 1]))
            + section(6, bytes([1, 0x7F, 1, 0x41, 0, 0x0B]))
            + section(10, bytes([1]) + write_uleb(len(body)) + body))


@pytest.mark.parametrize("seed", range(4))
def test_mutated_bodies_same_outcome(seed: int) -> None:
    # The fast reader must never accept a body that the exact path refuses: bodies of
    # valid modules with a byte or two changed (often an opcode for another of the
    # same family, to make type errors rather than malformed bytes).
    import random
    rng = random.Random(seed)
    hot = [0x20, 0x21, 0x22, 0x41, 0x42, 0x43, 0x44, 0x45, 0x50, 0x6A, 0x7C, 0xA7, 0xAC,
           0x28, 0x29, 0x2A, 0x2B, 0x36, 0x37, 0x3A, 0x3E, 0x0B, 0x0D, 0x0C, 0x1A, 0x1B,
           0x02, 0x03, 0x04, 0x05, 0x00, 0x01, 0x0F, 0x10, 0x23, 0x24, 0x7F, 0x7E, 0x40]
    mutants = []
    for data in (encode_module(parse_module(C_LIKE)), encode_module(parse_module(SHAPES)),
                 _padded_module()):
        funcs = decode_module(data, lazy_bodies=True).funcs
        spans = [(f.expr_start, f.expr_end) for f in funcs if isinstance(f, LazyFunc)]
        assert _fast_accepts(data) == [True] * len(spans)
        for _ in range(400):
            mutant = bytearray(data)
            for _ in range(rng.choice((1, 1, 2))):
                start, end = rng.choice(spans)
                i = rng.randrange(start, end)
                mutant[i] = rng.choice(hot) if rng.random() < 0.7 else rng.randrange(256)
            mutants.append(bytes(mutant))
    assert _same_as_exact(mutants, None) == len(mutants)
