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
