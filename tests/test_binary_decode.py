"""Unit tests of the binary decoder/encoder: LEB128 edges, errors and their offsets,
immediates, deep nesting, the name section, and the SIMD opcode table."""
from __future__ import annotations

import shutil
import subprocess
from typing import List

import pytest

from purewasm import opcodes
from purewasm.binary import decode_module, encode_module, read_sleb, read_uleb
from purewasm.binary.encode import uleb
from purewasm.binary.leb128 import write_sleb as sleb
from purewasm.errors import MalformedError
from purewasm.opcodes_simd import SIMD_OPS
from purewasm.syntax import (
    ACTIVE, DECLARATIVE, PASSIVE, Data, Elem, Func, FuncType, Global, GlobalType, Instr,
    Limits, MemoryType, Module, Names, TableType,
)

HEADER = b"\x00asm\x01\x00\x00\x00"


def section(sid: int, content: bytes) -> bytes:
    return bytes([sid]) + uleb(len(content)) + content


def vec(items: List[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def module_with_body(body: bytes, locals_: bytes = b"\x00", extra: bytes = b"") -> bytes:
    """A module with one `() -> ()` function whose body (without locals) is ``body``."""
    code = locals_ + body
    return (HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x00"]))
            + extra + section(10, vec([uleb(len(code)) + code])))


def malformed(data: bytes, features=None) -> MalformedError:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedError) as info:
        decode_module(data, features)
    return info.value


# --- LEB128 (spec 5.2.2) -----------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    (b"\x00", 0), (b"\x7f", 127), (b"\x80\x01", 128), (b"\xff\xff\xff\xff\x0f", 0xFFFFFFFF),
    (b"\x80\x80\x80\x80\x00", 0),          # non-minimal but within 5 bytes: allowed
    (b"\x83\x80\x80\x80\x00", 3),
])
def test_uleb32_ok(raw: bytes, value: int) -> None:
    assert read_uleb(raw, 0, 32) == (value, len(raw))


@pytest.mark.parametrize("raw, message", [
    (b"\xff\xff\xff\xff\x1f", "integer too large"),     # bit 32 set
    (b"\x80\x80\x80\x80\x70", "integer too large"),
    (b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
    (b"\xff\xff\xff\xff\x8f\x00", "integer representation too long"),
])
def test_uleb32_errors(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        read_uleb(raw, 0, 32)


@pytest.mark.parametrize("raw, bits, value", [
    (b"\x7f", 32, -1), (b"\x40", 32, -64), (b"\x3f", 32, 63), (b"\xc0\x00", 32, 64),
    (b"\x80\x80\x80\x80\x78", 32, -(1 << 31)), (b"\xff\xff\xff\xff\x07", 32, (1 << 31) - 1),
    (b"\xff\xff\xff\xff\x7f", 32, -1),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 64, -(1 << 63)),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 64, (1 << 63) - 1),
    (b"\xff\xff\xff\xff\x0f", 33, 0xFFFFFFFF),
])
def test_sleb_ok(raw: bytes, bits: int, value: int) -> None:
    assert read_sleb(raw, 0, bits) == (value, len(raw))


@pytest.mark.parametrize("raw, bits, message", [
    (b"\xff\xff\xff\xff\x4f", 32, "integer too large"),   # sign bits not all equal
    (b"\x80\x80\x80\x80\x08", 32, "integer too large"),
    (b"\x80\x80\x80\x80\x80\x00", 32, "integer representation too long"),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 64, "integer too large"),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 64,
     "integer representation too long"),
])
def test_sleb_errors(raw: bytes, bits: int, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        read_sleb(raw, 0, bits)


def test_leb_encoders_are_minimal_and_invert_decoders() -> None:
    for v in [0, 1, 63, 64, 127, 128, 255, 256, 2**31 - 1, 2**32 - 1]:
        assert read_uleb(uleb(v), 0, 32) == (v, len(uleb(v)))
    for v in [0, -1, 63, 64, -64, -65, 2**31 - 1, -2**31, 2**63 - 1, -2**63]:
        assert read_sleb(sleb(v), 0, 64) == (v, len(sleb(v)))
    assert uleb(127) == b"\x7f" and uleb(128) == b"\x80\x01"
    assert sleb(63) == b"\x3f" and sleb(64) == b"\xc0\x00" and sleb(-64) == b"\x40"


def test_truncated_leb_is_unexpected_end() -> None:
    err = malformed(module_with_body(b"\x41\x80"))   # i32.const with a cut-off LEB128
    assert "unexpected end" in str(err) or "section size mismatch" in str(err)
    err = malformed(HEADER + b"\x01\x80")            # section size cut off
    assert "unexpected end" in str(err)


# --- Errors, with offsets ------------------------------------------------------------

def test_header_errors() -> None:
    assert "unexpected end" in str(malformed(b""))
    assert malformed(b"\x00asn\x01\x00\x00\x00").reason == "magic header not detected"
    err = malformed(b"\x00asm\x02\x00\x00\x00")
    assert err.reason == "unknown binary version" and err.offset == 4
    assert "unexpected end" in str(malformed(b"\x00asm\x01\x00"))


def test_section_errors() -> None:
    # 13 is the tag section (exception handling); 14 is no section.
    err = malformed(HEADER + b"\x0e\x00")
    assert err.reason == "malformed section id" and err.offset == 8
    two_types = section(1, vec([])) + section(1, vec([]))
    assert malformed(HEADER + two_types).reason == "unexpected content after last section"
    # Data count (12) comes before code (10): the reverse order is out of order.
    assert "after last section" in malformed(
        HEADER + section(10, vec([])) + section(12, b"\x00")).reason
    assert malformed(HEADER + b"\x01\x02\x00\x00").reason == "section size mismatch"
    assert malformed(HEADER + b"\x01\x09\x00").reason == "length out of bounds"


def test_function_errors() -> None:
    # Too many locals: 0xFFFFFFFF + 2 >= 2**32.
    many = vec([b"\xff\xff\xff\xff\x0f\x7f", b"\x02\x7e"])
    assert "too many locals" in malformed(module_with_body(b"\x0b", locals_=many)).reason
    # Within the spec's limit but beyond our implementation limit: still a clean error.
    huge = vec([b"\xff\xff\xff\xff\x07\x7f"])
    assert "too many locals" in malformed(module_with_body(b"\x0b", locals_=huge)).reason
    # Function section without code section.
    data = HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x00"]))
    assert "inconsistent lengths" in malformed(data).reason
    err = malformed(module_with_body(b"\x06\x0b"))
    assert err.reason.startswith("illegal opcode") and err.offset is not None
    assert "illegal opcode" in malformed(module_with_body(b"\xfc\x12\x0b")).reason
    assert "illegal opcode" in malformed(module_with_body(b"\xfd\x9a\x01\x0b")).reason
    assert malformed(module_with_body(b"\x05\x0b")).reason == "END opcode expected"
    # Wasm 2.0 reserves a zero byte where multi-memory (3.0) reads a memory index.
    assert malformed(module_with_body(b"\x3f\x01\x1a\x0b"), opcodes.WASM2_FEATURES).reason \
        == "zero byte expected"
    assert malformed(module_with_body(b"\xd0\x7f\x1a\x0b")).reason == \
        "malformed reference type"
    assert malformed(module_with_body(b"\x41\x00\x28\x20\x00\x1a\x0b"),
                     opcodes.WASM2_FEATURES).reason == "malformed memop flags"
    assert malformed(module_with_body(b"\x41\x00\x28\x80\x01\x00\x1a\x0b")).reason == \
        "malformed memop flags"


def test_data_count_rules() -> None:
    mem = section(5, vec([b"\x00\x01"]))
    body = b"\xfc\x09\x00\x0b"          # data.drop 0
    data_sec = section(11, vec([b"\x01\x00"]))
    err = malformed(module_with_body(body, extra=mem) + data_sec)
    assert err.reason == "data count section required"
    ok = module_with_body(body, extra=mem + section(12, b"\x01")) + data_sec
    m = decode_module(ok)
    assert m.data_count == 1 and m.datas[0].mode == PASSIVE
    bad = module_with_body(body, extra=mem + section(12, b"\x02")) + data_sec
    assert "inconsistent lengths" in malformed(bad).reason


def test_never_a_python_exception_on_truncation() -> None:
    data = module_with_body(b"\x41\xff\x00\x43\x00\x00\x80\x3f\x1a\x1a\x0b")
    decode_module(data)
    code_start = data.rindex(b"\x0a")          # the code section's id byte
    for cut in range(len(data)):
        # Cutting at a section boundary may leave a well-formed shorter module; any
        # other cut is malformed; no cut ever raises anything but MalformedError.
        try:
            decode_module(data[:cut])
        except MalformedError:
            continue
        assert cut in (8, code_start - 4)   # just the header, or header + type section


# --- Immediates ----------------------------------------------------------------------

def test_immediates() -> None:
    body = (b"\x41\x7f"                      # i32.const -1
            b"\x42\x80\x01"                  # i64.const 128
            b"\x43\x01\x00\xa0\x7f"          # f32.const sNaN bit pattern
            b"\x44" + bytes(8) +             # f64.const 0
            b"\x02\x7f\x41\x00\x0b"          # block (result i32) i32.const 0 end
            b"\x04\x40\x05\x0b"              # if else end
            b"\x0e\x02\x00\x01\x00"          # br_table 0 1 0
            b"\x1c\x01\x7b"                  # select (result v128)
            b"\xfd\x0c" + bytes(range(16)) +  # v128.const
            b"\xfd\x0d" + bytes(range(16)) +  # i8x16.shuffle
            b"\xfd\x15\x03"                  # i8x16.extract_lane_s 3
            b"\xfd\x54\x00\x08\x05"          # v128.load8_lane align=0 offset=8 lane 5
            b"\x29\x03\x10"                  # i64.load align=3 offset=16
            b"\xfc\x0e\x01\x02"              # table.copy 1 2
            b"\xfc\x0c\x03\x04"              # table.init elem 3 table 4
            b"\x11\x05\x00"                  # call_indirect type 5 table 0
            b"\x0b")
    m = decode_module(module_with_body(body))
    got = [(i.op, i.imm) for i in m.funcs[0].body]
    assert got == [
        ("i32.const", 0xFFFFFFFF), ("i64.const", 128), ("f32.const", 0x7FA00001),
        ("f64.const", 0), ("block", "i32"), ("i32.const", 0), ("end", None),
        ("if", None), ("else", None), ("end", None), ("br_table", ((0, 1), 0)),
        ("select_t", ("v128",)),
        ("v128.const", int.from_bytes(bytes(range(16)), "little")),
        ("i8x16.shuffle", tuple(range(16))), ("i8x16.extract_lane_s", 3),
        ("v128.load8_lane", ((0, 8, 0), 5)), ("i64.load", (3, 16, 0)),
        ("table.copy", (1, 2)), ("table.init", (3, 4)), ("call_indirect", (5, 0)),
        ("end", None),
    ]
    offsets = [i.offset for i in m.funcs[0].body]
    assert offsets == sorted(offsets) and offsets[0] == m.funcs[0].offset + 1
    assert encode_module(m) == module_with_body(body)


def test_block_type_index() -> None:
    body = b"\x02\x01\x0b\x0b"              # block (type 1) end
    m = decode_module(module_with_body(body))
    assert m.funcs[0].body[0].imm == 1
    assert "malformed block type" in malformed(module_with_body(b"\x02\x80\x7f\x0b\x0b")).reason


def test_deep_nesting_decodes_without_recursion() -> None:
    depth = 10000
    body = b"\x02\x40" * depth + b"\x0b" * depth + b"\x0b"
    m = decode_module(module_with_body(body))
    assert len(m.funcs[0].body) == 2 * depth + 1
    assert encode_module(m) == module_with_body(body)
    # Unbalanced: one `end` short means the body runs into the end of the input.
    with pytest.raises(MalformedError):
        decode_module(module_with_body(b"\x02\x40" * depth + b"\x0b" * depth))


# --- Sections ------------------------------------------------------------------------

def _sample_module() -> Module:
    end = Instr("end")
    m = Module()
    m.types = [FuncType((), ()), FuncType(("i32", "f64"), ("externref",))]
    m.funcs = [Func(0, ["i32", "i32", "v128", "i32"], [Instr("nop"), end])]
    m.tables = [TableType("funcref", Limits(1, 10)), TableType("externref", Limits(0))]
    m.mems = [MemoryType(Limits(1, 2))]
    m.globals = [Global(GlobalType("i64", True), [Instr("i64.const", 2**64 - 1), end])]
    off = [Instr("i32.const", 0), end]
    m.elems = [
        Elem("funcref", [[Instr("ref.func", 0), end]], ACTIVE, 0, off),
        Elem("funcref", [[Instr("ref.null", "funcref"), end]], PASSIVE),
        Elem("externref", [[Instr("ref.null", "externref"), end]], ACTIVE, 1, off),
        Elem("funcref", [[Instr("ref.func", 0), end]], DECLARATIVE),
        Elem("funcref", [[Instr("ref.func", 0), end]], ACTIVE, 1, off),
    ]
    m.datas = [Data(b"abc", ACTIVE, 0, off), Data(b"", PASSIVE)]
    m.names = Names("mod", {0: "f"}, {0: {0: "x", 3: "y"}})
    return m


def test_encode_decode_every_section() -> None:
    m = _sample_module()
    again = decode_module(encode_module(m))
    for f in again.funcs:
        f.offset = None
    # The name section is also kept raw among the custom sections.
    assert [c.name for c in again.customs] == ["name"]
    again.customs = []
    assert again == m
    # Element flags chosen as wabt does: 0, 5, 6, 3, 2.
    flags = [e.mode for e in again.elems]
    assert flags == [ACTIVE, PASSIVE, ACTIVE, DECLARATIVE, ACTIVE]


def test_custom_sections_are_kept() -> None:
    data = HEADER + section(0, b"\x03abc" + b"payload") + section(0, b"\x00")
    m = decode_module(data)
    assert [(c.name, c.data) for c in m.customs] == [("abc", b"payload"), ("", b"")]
    assert encode_module(m) == data
    assert malformed(HEADER + section(0, b"\x02\xff\xfe")).reason == \
        "malformed UTF-8 encoding"
    assert malformed(HEADER + section(0, b"\x05ab")).reason == "length out of bounds"
    # The name runs past the section's end (into the next bytes): unexpected end.
    assert "unexpected end" in malformed(HEADER + section(0, b"\x05ab") + b"cdef").reason


def test_name_section() -> None:
    names = (section(0, b"\x03mod") + section(1, vec([b"\x00\x01f", b"\x01\x01g"]))
             + section(2, vec([b"\x00" + vec([b"\x00\x01a"])])) + section(4, b"\x00"))
    data = HEADER + section(0, b"\x04name" + names) + section(0, b"\x01z")
    m = decode_module(data)
    assert m.names == Names("mod", {0: "f", 1: "g"}, {0: {0: "a"}})
    assert [c.name for c in m.customs] == ["name", "z"]
    assert encode_module(m) == data            # unchanged: raw bytes, subsection 4 kept
    m.names.funcs[1] = "renamed"
    again = decode_module(encode_module(m))
    assert again.names.funcs == {0: "f", 1: "renamed"}
    assert [c.name for c in again.customs] == ["name", "z"]
    m.names = Names()
    assert [c.name for c in decode_module(encode_module(m)).customs] == ["z"]
    # Malformed contents (bad UTF-8, truncation, subsection out of order): the module
    # still decodes; the section is kept as an opaque custom section.
    for bad in [section(0, b"\x02\xff\xff"), b"\x01\x05\x01", section(1, vec([])) * 2,
                section(1, vec([b"\x00\x01f", b"\x00\x01g"]))]:
        m = decode_module(HEADER + section(0, b"\x04name" + bad))
        assert m.names == Names() and m.customs[0].name == "name"


# --- The SIMD table --------------------------------------------------------------------

def test_simd_table_shape() -> None:
    # 236 of Wasm 2.0 and the 20 of relaxed SIMD (Wasm 3.0)
    assert len(SIMD_OPS) == 256
    assert sum(e[5] == "relaxed_simd" for e in SIMD_OPS) == 20
    names = [e[0] for e in SIMD_OPS]
    codes = [e[1] for e in SIMD_OPS]
    assert len(set(names)) == len(names) and len(set(codes)) == len(codes)
    for name, code, imm, sig, align, proposal in SIMD_OPS:
        info = opcodes.BY_NAME[name]
        assert (info.prefix, info.code, info.imm, info.proposal) == (0xFD, code, imm, proposal)
        assert (align is not None) == (imm in (opcodes.MEMARG, opcodes.MEMARG_LANE)), name
        params, results = sig
        assert all(t in ("i32", "i64", "f32", "f64", "v128") for t in params + results)
    assert opcodes.BY_NAME["v128.load"].natural_align == 4
    assert opcodes.BY_NAME["v128.load64_lane"].natural_align == 3
    assert opcodes.BY_NAME["i8x16.bitmask"].sig == (("v128",), ("i32",))


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")
def test_simd_table_matches_wabt(tmp_path) -> None:
    """wat2wasm encodes each name with the code the table gives it."""
    lines = []
    for name, _code, imm, _sig, _align, _proposal in SIMD_OPS:
        suffix = {"none": "", "memarg": " offset=1", "memarg_lane": " 0", "lane": " 1",
                  "v128": " i32x4 0 0 0 0", "shuffle": " " + " ".join(map(str, range(16)))}
        lines.append(name + suffix[imm])
    wat = tmp_path / "s.wat"
    wat.write_text("(module (memory 1) (func\n%s\n))" % "\n".join(lines))
    subprocess.run(["wat2wasm", "--no-check", str(wat), "-o", str(tmp_path / "s.wasm")],
                   check=True, capture_output=True)
    m = decode_module((tmp_path / "s.wasm").read_bytes())
    assert [i.op for i in m.funcs[0].body[:-1]] == [e[0] for e in SIMD_OPS]


def test_encoder_fills_in_what_text_may_leave_out() -> None:
    """A hand-built module: element items without ``end``, no data count recorded."""
    from purewasm.binary.encode import EncodeError

    m = _sample_module()
    m.elems = [Elem("funcref", [[Instr("ref.func", 0)]], ACTIVE, 0,
                    [Instr("i32.const", 0), Instr("end")])]
    m.funcs[0].body = [Instr("i32.const", 0), Instr("i32.const", 0), Instr("i32.const", 0),
                       Instr("memory.init", (1, 0)), Instr("end")]
    data = encode_module(m)
    again = decode_module(data)
    assert again.data_count == 2                      # inserted: memory.init needs it
    assert [(i.op, i.imm) for i in again.elems[0].init[0]] == [("ref.func", 0), ("end", None)]
    m.funcs[0].body = [Instr("no.such.op"), Instr("end")]
    with pytest.raises(EncodeError):
        encode_module(m)


@pytest.mark.parametrize("bad", [
    Instr("local.get", -1), Instr("local.get", 1 << 32), Instr("i8x16.extract_lane_s", 256),
    Instr("v128.const", -1), Instr("i32.load", (2, 0)), Instr("f32.const", 1 << 32),
    Instr("block", "i33"),
])
def test_encoder_rejects_bad_immediates_cleanly(bad: Instr) -> None:
    from purewasm.binary.encode import EncodeError

    m = Module(types=[FuncType((), ())], funcs=[Func(0, [], [bad, Instr("end")])])
    with pytest.raises(EncodeError):
        encode_module(m)


def test_trusted_decode_reads_locals_on_first_use() -> None:
    # A cache hit decodes with trusted=True: bodies and even their local declarations
    # wait until first use, and then read the same as an eager decode.
    from purewasm.binary.decode import LazyFunc
    from purewasm.text import parse_module
    data = encode_module(parse_module('''(module
      (func (param i32) (result i32) (local i64 i64 f32) (local $r externref)
        local.get 0 i32.const 1 i32.add)
      (func (local v128) (local i32))
      (func))'''))
    eager = decode_module(data).funcs
    trusted = decode_module(data, trusted=True).funcs
    for e, t in zip(eager, trusted):
        assert isinstance(t, LazyFunc) and t._locals is None   # nothing read yet
        assert t.body == e.body and t.locals == e.locals and t.type_index == e.type_index
    assert trusted[0].locals == ["i64", "i64", "f32", "externref"]
