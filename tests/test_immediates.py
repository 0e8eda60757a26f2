"""The immediate codecs (binary/immediates.py): for every instruction of the opcode table
and sample immediates of its kind, the four directions agree — the codec writes bytes
that the decoder (its inline short forms as well as the codec) and the codec itself read
back to the same immediate, and the printer's text parses back to it."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from purewasm import opcodes
from purewasm.binary.decode import decode_expr, decode_module
from purewasm.binary.encode import encode_module
from purewasm.binary.immediates import CODECS, CodeState
from purewasm.syntax import EXTERNREF, FUNCREF, Func, FuncType, Instr, Module
from purewasm.syntax.types import RefType
from purewasm.text.parser import parse_module
from purewasm.text.printer import print_module

# Sample immediates per kind: short and long encodings, both text forms where the text
# may leave a part out. Type 1 has parameters, so a block type naming it keeps its index.
_INDEX = [0, 5, 127, 128, 70000]
SAMPLES: Dict[str, List[Any]] = {
    opcodes.NONE: [None],
    opcodes.BLOCKTYPE: [None, "i32", "f64", FUNCREF, RefType(False, 1), 1],
    opcodes.TRY_TABLE: [(None, ()), (1, (("catch", 0, 0), ("catch_ref", 3, 1),
                                         ("catch_all", None, 2), ("catch_all_ref", None, 0)))],
    opcodes.LABEL: _INDEX, opcodes.FUNC: _INDEX, opcodes.LOCAL: _INDEX,
    opcodes.GLOBAL: _INDEX, opcodes.TABLE: _INDEX, opcodes.ELEM: _INDEX,
    opcodes.DATA: _INDEX, opcodes.TYPE: [0, 1], opcodes.TAG: _INDEX,
    opcodes.BR_TABLE: [((), 0), ((0, 1, 200), 2)],
    opcodes.CALL_INDIRECT: [(1, 0), (0, 3), (1, 200)],
    opcodes.MEM: [0, 1, 300],
    opcodes.TABLE_COPY: [(0, 0), (1, 2), (0, 5)],
    opcodes.TABLE_INIT: [(3, 0), (3, 1), (0, 0)],
    opcodes.MEMORY_COPY: [(0, 0), (1, 2), (0, 5)],
    opcodes.MEMORY_INIT: [(3, 0), (3, 1), (0, 0)],
    opcodes.CONST_I32: [0, 5, 63, 64, 127, 128, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF],
    opcodes.CONST_I64: [0, 63, 64, 0xFFFFFFFF, 1 << 63, (1 << 64) - 1],
    opcodes.CONST_F32: [0, 0x80000000, 0x3F800000, 0x7F800000, 0x7FC00001, 0xFFFFFFFF],
    opcodes.CONST_F64: [0, 1 << 63, 0x3FF0000000000000, 0x7FF8000000000001],
    opcodes.CONST_V128: [0, (1 << 128) - 1, 0x0102030405060708090A0B0C0D0E0F10],
    opcodes.REFTYPE: [FUNCREF, EXTERNREF, RefType(True, "exn"), RefType(True, 1)],
    opcodes.SELECT_T: [("i32",), ("f64",), (FUNCREF,)],
    opcodes.LANE: [0, 15, 255],
    opcodes.SHUFFLE: [tuple(range(16)), tuple(range(31, 15, -1))],
    # GC: a type index and a field / count / data / elem / type index.
    opcodes.TYPE_FIELD: [(0, 0), (1, 200)], opcodes.TYPE_NUM: [(0, 0), (1, 300)],
    opcodes.TYPE_DATA: [(0, 3), (1, 200)], opcodes.TYPE_ELEM: [(0, 3), (1, 200)],
    opcodes.TYPE_TYPE: [(0, 1)],
    # ref.test/ref.cast of a nullable type are other opcodes (tests/test_gc.py).
    opcodes.CAST: [RefType(False, "i31"), RefType(False, 1), RefType(False, "any")],
    opcodes.BR_ON_CAST: [(0, RefType(True, "any"), RefType(False, "i31")),
                         (200, RefType(False, "eq"), RefType(True, 1))],
}


def _memargs(info: opcodes.OpInfo) -> List[Any]:
    natural = info.natural_align or 0
    return [(natural, 0, 0), (0, 0, 0), (natural, 127, 0), (natural, 128, 0),
            (natural, 1 << 40, 0), (natural, 8, 1), (0, 300, 200)]


def _samples(info: opcodes.OpInfo) -> List[Any]:
    if info.imm == opcodes.MEMARG:
        return _memargs(info)
    if info.imm == opcodes.MEMARG_LANE:
        return [(ma, lane) for ma in _memargs(info) for lane in (0, 7)]
    return SAMPLES[info.imm]


def _module(body: List[Instr]) -> Module:
    m = Module()
    m.types = [FuncType((), ()), FuncType(("i32",), ("i32",))]
    m.funcs = [Func(0, [], body)]
    return m


def _body(info: opcodes.OpInfo, imm: Any) -> List[Instr]:
    body = [Instr(info.name, imm)]
    if info.opens_block:
        body.append(Instr("end"))
    return body + [Instr("end")]


CASES = [(info, imm) for info in opcodes.OPS for imm in _samples(info)
         if not (info.closes_block or info.is_else)]


def test_every_kind_has_a_codec_and_samples() -> None:
    kinds = {info.imm for info in opcodes.OPS}
    assert kinds <= set(CODECS)
    assert kinds <= set(SAMPLES) | {opcodes.MEMARG, opcodes.MEMARG_LANE}


@pytest.mark.parametrize("info,imm", CASES, ids=lambda x: getattr(x, "name", None) or repr(x))
def test_binary_round_trip(info: opcodes.OpInfo, imm: Any) -> None:
    codec = CODECS[info.imm]
    encoded = bytearray()
    codec.write(imm, encoded)
    state = CodeState()
    # The codec reads back what it wrote.
    assert codec.read(bytes(encoded) + b"\x0b", 0, state) == (imm, len(encoded))
    # The decoder (inline short forms included) reads the instruction to the same.
    wasm = encode_module(_module(_body(info, imm)))
    decoded = decode_module(wasm).funcs[0].body
    assert decoded[0].op == info.name and decoded[0].imm == imm


@pytest.mark.parametrize("info,imm", CASES, ids=lambda x: getattr(x, "name", None) or repr(x))
def test_text_round_trip(info: opcodes.OpInfo, imm: Any) -> None:
    module = _module(_body(info, imm))
    text = print_module(module)
    parsed = parse_module(text).funcs[0].body
    assert (parsed[0].op, parsed[0].imm) == (info.name, imm), text


def test_decode_expr_matches_codec_on_long_forms() -> None:
    """The decoder's inline reads are the short forms only: a padded (non-minimal)
    LEB128 still decodes, through the codec, to the same value."""
    # local.get with index 5 as a 3-byte LEB128; i32.const -1 as 5 bytes.
    body, _ = decode_expr(b"\x20\x85\x80\x00\x41\xff\xff\xff\xff\x7f\x0b", 0)
    assert [(i.op, i.imm) for i in body] == [("local.get", 5), ("i32.const", 0xFFFFFFFF),
                                             ("end", None)]
