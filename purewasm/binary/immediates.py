"""One codec per immediate kind: how an instruction's immediates are read from the binary
format (spec 5.4), written back, parsed from the text format (6.5) and printed.

The opcode table (``opcodes.py``) gives each instruction an immediate kind; :data:`CODECS`
maps each kind to its :class:`Codec`. The decoder, the encoder, the text parser and the
printer all go through it, so a new instruction is a table entry (plus its semantics in
the validator and the compiler), and a new kind of immediate is one class here. The Python
shape of each kind's value is written down in ``syntax/__init__.py``.

The text side runs on objects of the layer above (``text/``), which this module may not
import (docs/DECISIONS.md, "Dependencies run one way"): :class:`TextSource` and
:class:`TextSink` name what a codec asks of the parser and of the printer. The decoder's
hot loop reads the commonest kinds inline (one-byte indices and constants, plain block
types, short memargs) and calls the codec for every other case; tests/test_immediates.py
checks that both agree, kind by kind.
"""
from __future__ import annotations

import struct
from typing import (
    TYPE_CHECKING, Any, Collection, Dict, List, NoReturn, Optional, Protocol, Sequence, Tuple,
)

from .. import opcodes as _opc
from ..errors import MalformedError
from ..syntax.types import RefType, as_reftype
from .leb128 import read_len32, read_sleb, read_u32, write_sleb, write_uleb
from .memarg import memarg_text, read_memarg, write_memarg
from .types import read_blocktype, read_heaptype, read_reftype, read_valtype, \
    write_blocktype, write_heaptype, write_valtype

if TYPE_CHECKING:   # typing only: the opcode table's entries
    from ..opcodes import OpInfo

_EOF = "unexpected end of section or function"


class CodeState:
    """What decoding instructions needs to know of the module (its features) and learns
    about the module as a whole (whether code uses the data count)."""

    __slots__ = ("uses_data_count", "multi_memory", "offset_bits", "typed_refs", "exceptions")

    def __init__(self, features: Optional[Collection[str]] = None) -> None:
        self.uses_data_count = False
        if features is None:
            features = _opc.ALL_FEATURES
        # Wasm 3.0's encodings where 2.0 has fixed bytes: memory indices (multi-memory),
        # u64 memarg offsets (memory64).
        self.multi_memory = "multi_memory" in features
        self.offset_bits = 64 if "memory64" in features else 32
        # Typed references (function references): heap types after ref.null, 0x63/0x64.
        self.typed_refs = "function_references" in features
        self.exceptions = "exceptions" in features   # the tag section exists


class TextSource(Protocol):
    """What a codec asks of the text parser (``text/parser.py``'s ModuleParser): each
    method consumes tokens at the cursor or raises the parser's error."""

    uses_data_count: bool

    def index(self, space: str) -> int: ...
    def at_index(self) -> bool: ...
    def two_indices(self) -> bool: ...
    def label_index(self, labels: List[Optional[str]]) -> int: ...
    def local_index(self, ctx: Any) -> int: ...
    def num(self, kind: str) -> int: ...
    def v128_const(self) -> int: ...
    def lane(self, shuffle: bool = False) -> int: ...
    def lane_count(self) -> int: ...
    def memarg(self, natural: Optional[int], lane: bool = False) -> Tuple[int, int, int]: ...
    def blocktype(self) -> object: ...
    def typeuse(self) -> Tuple[int, List[Optional[str]]]: ...
    def at_heaptype(self) -> bool: ...
    def heaptype(self) -> object: ...
    def at_lp(self, keyword: str) -> bool: ...
    def enter(self) -> None: ...
    def expect_rp(self) -> None: ...
    def at_valtype(self) -> bool: ...
    def valtype(self) -> str: ...
    def reftype(self) -> str: ...
    def nat32(self) -> int: ...
    def field_index(self, type_index: int) -> int: ...
    def error(self, msg: str, at: Optional[int] = None) -> NoReturn: ...


class TextSink(Protocol):
    """What a codec asks of the printer (``text/printer.py``): how indices that may have
    names, and float constants, are written."""

    def func_ref(self, idx: int) -> str: ...
    def local_ref(self, idx: int) -> str: ...
    def float_text(self, bits: int, kind: str) -> str: ...


class Codec:
    """The four directions of one immediate kind. ``read`` returns ``(immediate, new
    position)``; ``write`` appends to ``out``; ``parse`` consumes the immediate's tokens
    (``labels``: the label names in scope, innermost last; ``ctx``: the function being
    parsed, for local names); ``text`` is what follows the instruction's name (with its
    leading space, or empty)."""

    __slots__ = ()
    # Whether the instruction needs the data count section (spec 5.5.16).
    counts_data = False

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        raise NotImplementedError

    def write(self, imm: Any, out: bytearray) -> None:
        raise NotImplementedError

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        raise NotImplementedError

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        raise NotImplementedError


class NoImmediate(Codec):
    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        return None, pos

    def write(self, imm: Any, out: bytearray) -> None:
        pass

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return None

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return ""


class Index(Codec):
    """One index into ``space`` (a u32, spec 5.5.1); in the text format a number or a
    ``$name`` of that space (labels and locals are scoped: see ``parse``).
    ``optional``: the text may leave it out, meaning 0 (``table.get`` …).
    ``counts_data``: the instruction needs the data count section (data.drop)."""

    __slots__ = ("space", "optional", "counts_data")

    def __init__(self, space: str, optional: bool = False, counts_data: bool = False) -> None:
        self.space = space
        self.optional = optional
        self.counts_data = counts_data

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if self.counts_data:
            state.uses_data_count = True
        return read_u32(data, pos)

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        space = self.space
        if self.counts_data:
            p.uses_data_count = True
        if space == "label":
            return p.label_index(labels)
        if space == "local":
            return p.local_index(ctx)
        if self.optional and not p.at_index():
            return 0
        return p.index(space)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        if self.space == "func":
            return " " + sink.func_ref(imm)
        if self.space == "local":
            return " " + sink.local_ref(imm)
        return " %d" % imm


class MemIndex(Codec):
    """memory.size/grow/fill's memory: a u32 with multi-memory, else Wasm 2.0's reserved
    zero byte; in the text format optional (0), and left out when 0."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if state.multi_memory:
            return read_u32(data, pos)
        if data[pos] != 0:
            raise MalformedError("zero byte expected", pos)
        return 0, pos + 1

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(imm)      # memory 0 is Wasm 2.0's reserved zero byte

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.index("memory") if p.at_index() else 0

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d" % imm if imm else ""


class IntConst(Codec):
    """i32.const/i64.const: a signed LEB128 (spec 5.4.7); the immediate is the unsigned
    value (syntax's convention)."""

    __slots__ = ("kind", "bits", "mask")

    def __init__(self, kind: str, bits: int) -> None:
        self.kind = kind
        self.bits = bits
        self.mask = (1 << bits) - 1

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        x, pos = read_sleb(data, pos, self.bits)
        return x & self.mask, pos

    def write(self, imm: Any, out: bytearray) -> None:
        imm &= self.mask
        out += write_sleb(imm - (1 << self.bits) if imm >> (self.bits - 1) else imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.num(self.kind)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d" % imm


class FloatConst(Codec):
    """f32.const/f64.const: the IEEE bits, little-endian (spec 5.2.3); the immediate is
    the bit pattern, so NaN payloads survive."""

    __slots__ = ("kind", "size", "fmt")

    def __init__(self, kind: str, size: int) -> None:
        self.kind = kind
        self.size = size
        self.fmt = "<I" if size == 4 else "<Q"

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        end = pos + self.size
        if end > len(data):
            raise MalformedError(_EOF, len(data))
        return int.from_bytes(data[pos:end], "little"), end

    def write(self, imm: Any, out: bytearray) -> None:
        out += struct.pack(self.fmt, imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.num(self.kind)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " " + sink.float_text(imm, self.kind)


class V128Const(Codec):
    """v128.const: 16 bytes; printed as four i32 lanes (any shape parses)."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if pos + 16 > len(data):
            raise MalformedError(_EOF, len(data))
        return int.from_bytes(data[pos:pos + 16], "little"), pos + 16

    def write(self, imm: Any, out: bytearray) -> None:
        out += imm.to_bytes(16, "little")

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.v128_const()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " i32x4 " + " ".join(
            "0x%08x" % ((imm >> (32 * n)) & 0xFFFFFFFF) for n in range(4))


class BlockType(Codec):
    """block/loop/if's block type (spec 5.4.1)."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        return read_blocktype(data, pos, state.typed_refs)

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_blocktype(imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.blocktype()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        if imm is None:
            return ""
        if isinstance(imm, str):
            return " (result %s)" % imm
        return " (type %d)" % imm


class TryTable(Codec):
    """try_table's block type and catch clauses (spec 5.4.1: 0x00 catch x l, 0x01
    catch_ref x l, 0x02 catch_all l, 0x03 catch_all_ref l). In the text format the
    clauses' labels are resolved in the enclosing context: the try_table's own label is
    not yet pushed (spec 6.5.2)."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        bt, pos = read_blocktype(data, pos)
        n, pos = read_len32(data, pos)
        catches = []
        for _ in range(n):
            code = data[pos]
            if code > 3:
                raise MalformedError("malformed catch clause", pos)
            pos += 1
            tag: Optional[int] = None
            if code < 2:
                tag, pos = read_u32(data, pos)
            label, pos = read_u32(data, pos)
            catches.append((_opc.CATCH_KINDS[code], tag, label))
        return (bt, tuple(catches)), pos

    def write(self, imm: Any, out: bytearray) -> None:
        bt, catches = imm
        out += write_blocktype(bt)
        out += write_uleb(len(catches))
        for kind, tag, label in catches:
            clause = _opc.CATCH_KINDS.index(kind)
            out.append(clause)
            if clause < 2:
                out += write_uleb(tag)
            out += write_uleb(label)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        bt = p.blocktype()
        catches: List[Tuple[str, Optional[int], int]] = []
        while True:
            kind = next((k for k in _opc.CATCH_KINDS if p.at_lp(k)), None)
            if kind is None:
                return bt, tuple(catches)
            p.enter()
            tag = p.index("tag") if kind in ("catch", "catch_ref") else None
            catches.append((kind, tag, p.label_index(labels)))
            p.expect_rp()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        bt, catches = imm
        out = BLOCK_TYPE.text(bt, info, sink)
        for kind, tag, label in catches:
            out += (" (%s %d)" % (kind, label) if tag is None
                    else " (%s %d %d)" % (kind, tag, label))
        return out


class BrTable(Codec):
    """br_table: a vector of labels, then the default label."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        n, pos = read_len32(data, pos)
        labels = []
        for _ in range(n):
            x, pos = read_u32(data, pos)
            labels.append(x)
        x, pos = read_u32(data, pos)
        return (tuple(labels), x), pos

    def write(self, imm: Any, out: bytearray) -> None:
        labels, default = imm
        out += write_uleb(len(labels))
        for x in labels:
            out += write_uleb(x)
        out += write_uleb(default)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        targets = [p.label_index(labels)]
        while p.at_index():
            targets.append(p.label_index(labels))
        return tuple(targets[:-1]), targets[-1]

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " " + " ".join(str(x) for x in list(imm[0]) + [imm[1]])


class CallIndirect(Codec):
    """call_indirect/return_call_indirect: ``(type index, table index)``; the binary has
    the type first; the text the table (optional) then a type use."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        y, pos = read_u32(data, pos)
        x, pos = read_u32(data, pos)
        return (y, x), pos

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(imm[0])
        out += write_uleb(imm[1])

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        table = p.index("table") if p.at_index() else 0
        tidx, names = p.typeuse()
        if any(n is not None for n in names):
            p.error("unexpected token")
        return tidx, table

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d (type %d)" % (imm[1], imm[0])


class RefNull(Codec):
    """ref.null's heap type (spec 3.0 5.4.2); the immediate is the nullable RefType the
    instruction pushes. Wasm 2.0 encodes a reference type byte instead."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if state.typed_refs:
            heap, pos = read_heaptype(data, pos)
            return RefType(True, heap), pos  # type: ignore[arg-type]
        return read_reftype(data, pos, False)

    def write(self, imm: Any, out: bytearray) -> None:
        rt = as_reftype(imm)
        if rt is None:
            raise ValueError("not a reference type: %r" % (imm,))
        out += write_heaptype(rt.heap)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        if not p.at_heaptype():
            p.error("unexpected token")
        return RefType(True, p.heaptype())  # type: ignore[arg-type]

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        rt = as_reftype(imm)
        return " %s" % (rt.heap if rt is not None else imm)


class SelectTypes(Codec):
    """select with its result types (``select_t``): a vector of value types; in the text
    format ``select (result t*)*``."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        n, pos = read_len32(data, pos)
        ts = []
        for _ in range(n):
            t, pos = read_valtype(data, pos, state.typed_refs)
            ts.append(t)
        return tuple(ts), pos

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(len(imm))
        for t in imm:
            out += write_valtype(t)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        types: List[str] = []
        while p.at_lp("result"):
            p.enter()
            while p.at_valtype():
                types.append(p.valtype())
            p.expect_rp()
        return tuple(types)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " (result %s)" % " ".join(imm)


class Lane(Codec):
    """A lane index: one byte (its range is the validator's: spec 3.3.3)."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        return data[pos], pos + 1

    def write(self, imm: Any, out: bytearray) -> None:
        out.append(imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.lane()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d" % imm


class MemArg(Codec):
    """A load's or store's memarg: the rules are binary/memarg.py's."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        return read_memarg(data, pos, state.multi_memory, state.offset_bits)

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_memarg(imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.memarg(info.natural_align)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return memarg_text(imm, info.natural_align)


class MemArgLane(Codec):
    """v128.loadN_lane/storeN_lane: ``(memarg, lane)``."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        ma, pos = read_memarg(data, pos, state.multi_memory, state.offset_bits)
        return (ma, data[pos]), pos + 1

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_memarg(imm[0])
        out.append(imm[1])

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        ma = p.memarg(info.natural_align, lane=True)
        return ma, p.lane()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return "%s %d" % (memarg_text(imm[0], info.natural_align), imm[1])


class Shuffle(Codec):
    """i8x16.shuffle: 16 lane indices, one byte each."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if pos + 16 > len(data):
            raise MalformedError(_EOF, len(data))
        return tuple(data[pos:pos + 16]), pos + 16

    def write(self, imm: Any, out: bytearray) -> None:
        out += bytes(imm)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        if p.lane_count() != 16:
            p.error("invalid lane length")
        return tuple(p.lane(True) for _ in range(16))

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " " + " ".join(str(x) for x in imm)


class IndexPair(Codec):
    """Two indices, e.g. table.copy ``(dst, src)`` or table.init ``(elem, table)``.

    ``binary``: the spaces in binary order, which is the immediate's order.
    ``text``: the same spaces in text order (spec 6.5: ``table.init table elem``).
    ``optional``: the positions the text may leave out (meaning 0): both of
    ``table.copy``'s and ``memory.copy``'s pair (both or neither), or the leading one of
    ``table.init``/``memory.init`` (the table, the memory). Memory indices 0 are printed
    left out.
    The memory spaces are read as memory indices (:class:`MemIndex`: a zero byte in 2.0).
    ``counts_data``: the instruction needs the data count section (memory.init)."""

    __slots__ = ("binary", "text_order", "optional", "counts_data")

    def __init__(self, binary: Tuple[str, str], text_order: Tuple[int, int],
                 optional: Sequence[int], counts_data: bool = False) -> None:
        self.binary = binary
        self.text_order = text_order      # immediate positions, in text order
        self.optional = tuple(optional)   # immediate positions the text may leave out
        self.counts_data = counts_data

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if self.counts_data:
            state.uses_data_count = True
        out = []
        for space in self.binary:
            if space == "memory":
                x, pos = MEM_INDEX.read(data, pos, state)
            else:
                x, pos = read_u32(data, pos)
            out.append(x)
        return (out[0], out[1]), pos

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(imm[0])
        out += write_uleb(imm[1])

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        if self.counts_data:
            p.uses_data_count = True
        value = [0, 0]
        first, second = self.text_order
        optional = self.optional
        if len(optional) == 2:
            # Both or neither (table.copy, memory.copy).
            if p.at_index():
                value[first] = p.index(self.binary[first])
                value[second] = p.index(self.binary[second])
        else:
            # The leading index may be left out (table.init, memory.init): two indices
            # mean both are there.
            if p.two_indices():
                value[first] = p.index(self.binary[first])
            value[second] = p.index(self.binary[second])
        return value[0], value[1]

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        first, second = self.text_order
        if self.binary[first] == "memory":
            # Memory index 0 is left out (the Wasm 2.0 form); others are multi-memory's.
            if len(self.optional) == 2 and imm[0] == 0 and imm[1] == 0:
                return ""
            if len(self.optional) == 1 and imm[first] == 0:
                return " %d" % imm[second]
        return " %d %d" % (imm[first], imm[second])


class TypePair(Codec):
    """GC instructions with a type index then a second u32 (spec 3.0 5.4.2):
    ``second`` is its space in the text format: "field" (struct.get/set: a field index
    or the struct type's field name), "num" (array.new_fixed's count), "data", "elem"
    (array.new_data/init_data, array.new_elem/init_elem), "type" (array.copy)."""

    __slots__ = ("second", "counts_data")

    def __init__(self, second: str) -> None:
        self.second = second
        self.counts_data = second == "data"

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        if self.counts_data:
            state.uses_data_count = True
        x, pos = read_u32(data, pos)
        y, pos = read_u32(data, pos)
        return (x, y), pos

    def write(self, imm: Any, out: bytearray) -> None:
        out += write_uleb(imm[0])
        out += write_uleb(imm[1])

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        x = p.index("type")
        second = self.second
        if second == "field":
            return x, p.field_index(x)
        if second == "num":
            return x, p.nat32()
        if self.counts_data:
            p.uses_data_count = True
        return x, p.index(second)

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d %d" % (imm[0], imm[1])


class Cast(Codec):
    """ref.test/ref.cast's target type: a heap type; nullable when the opcode is the
    one after the table's (``opcodes.GC_NULLABLE_CODES``: a codec per opcode). The
    immediate is the RefType."""

    __slots__ = ("nullable",)

    def __init__(self, nullable: bool = False) -> None:
        self.nullable = nullable

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        heap, pos = read_heaptype(data, pos)
        return RefType(self.nullable, heap), pos  # type: ignore[arg-type]

    def write(self, imm: Any, out: bytearray) -> None:
        if imm.nullable:
            # The (ref null ht) form is the next opcode: the sub-opcode just written (20
            # or 22, one LEB128 byte) plus one.
            out[-1] += 1
        out += write_heaptype(imm.heap)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        return p.reftype()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %s" % imm


class BrOnCast(Codec):
    """br_on_cast/br_on_cast_fail: a flags byte (bit 0: the source type is nullable,
    bit 1: the target), the label, the two heap types; the immediate is ``(label,
    source RefType, target RefType)``."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, state: CodeState) -> Tuple[Any, int]:
        flags = data[pos]
        if flags > 3:
            raise MalformedError("malformed br_on_cast flags", pos)
        label, pos = read_u32(data, pos + 1)
        h1, pos = read_heaptype(data, pos)
        h2, pos = read_heaptype(data, pos)
        return (label, RefType(bool(flags & 1), h1),  # type: ignore[arg-type]
                RefType(bool(flags & 2), h2)), pos  # type: ignore[arg-type]

    def write(self, imm: Any, out: bytearray) -> None:
        label, rt1, rt2 = imm
        out.append(int(rt1.nullable) | int(rt2.nullable) << 1)
        out += write_uleb(label)
        out += write_heaptype(rt1.heap)
        out += write_heaptype(rt2.heap)

    def parse(self, p: TextSource, info: "OpInfo", labels: List[Optional[str]],
              ctx: Any) -> Any:
        label = p.label_index(labels)
        rt1 = p.reftype()
        return label, rt1, p.reftype()

    def text(self, imm: Any, info: "OpInfo", sink: TextSink) -> str:
        return " %d %s %s" % imm


BLOCK_TYPE = BlockType()
MEM_INDEX = MemIndex()
CAST_NULLABLE = Cast(True)

# Every immediate kind of the opcode table, and its codec.
CODECS: Dict[str, Codec] = {
    _opc.NONE: NoImmediate(),
    _opc.BLOCKTYPE: BLOCK_TYPE,
    _opc.TRY_TABLE: TryTable(),
    _opc.LABEL: Index("label"),
    _opc.BR_TABLE: BrTable(),
    _opc.FUNC: Index("func"),
    _opc.CALL_INDIRECT: CallIndirect(),
    _opc.LOCAL: Index("local"),
    _opc.GLOBAL: Index("global"),
    _opc.TABLE: Index("table", optional=True),
    _opc.ELEM: Index("elem"),
    _opc.DATA: Index("data", counts_data=True),
    _opc.TYPE: Index("type"),
    _opc.TAG: Index("tag"),
    _opc.MEM: MEM_INDEX,
    # table.copy dst src; table.init: binary elem then table, text table then elem.
    _opc.TABLE_COPY: IndexPair(("table", "table"), (0, 1), (0, 1)),
    _opc.TABLE_INIT: IndexPair(("elem", "table"), (1, 0), (1,)),
    _opc.MEMORY_COPY: IndexPair(("memory", "memory"), (0, 1), (0, 1)),
    _opc.MEMORY_INIT: IndexPair(("data", "memory"), (1, 0), (1,), counts_data=True),
    _opc.MEMARG: MemArg(),
    _opc.MEMARG_LANE: MemArgLane(),
    _opc.CONST_I32: IntConst("i32", 32),
    _opc.CONST_I64: IntConst("i64", 64),
    _opc.CONST_F32: FloatConst("f32", 4),
    _opc.CONST_F64: FloatConst("f64", 8),
    _opc.CONST_V128: V128Const(),
    _opc.REFTYPE: RefNull(),
    _opc.SELECT_T: SelectTypes(),
    _opc.LANE: Lane(),
    _opc.SHUFFLE: Shuffle(),
    _opc.TYPE_FIELD: TypePair("field"),
    _opc.TYPE_NUM: TypePair("num"),
    _opc.TYPE_DATA: TypePair("data"),
    _opc.TYPE_ELEM: TypePair("elem"),
    _opc.TYPE_TYPE: TypePair("type"),
    _opc.CAST: Cast(),
    _opc.BR_ON_CAST: BrOnCast(),
}

__all__ = ["CODECS", "Codec", "CodeState", "TextSink", "TextSource"]
