"""The memory-argument immediate (``memarg``) of loads and stores, in one place: how it is
read from and written to the binary format (spec 5.4.6) and the rules its text form
(``memidx? offset=N? align=N?``, spec 6.5.7) obeys; the text parser and printer call
:func:`memarg_from_text` and :func:`memarg_text`.

The immediate is ``(align_exponent, offset, mem_index)`` (see ``syntax``). In the binary
format the alignment field is a u32 of flags: bits 0-5 the alignment exponent, bit 6
(Wasm 3.0 multi-memory) "a memory index follows". The offset is a u64 (Wasm 3.0
memory64; the validator then bounds it by the memory's address type) or, in Wasm 2.0,
a u32.
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..errors import MalformedError
from .leb128 import read_uleb, write_uleb

MemArg = Tuple[int, int, int]

# Bit 6 of the flags: a memory index follows the flags (multi-memory).
MEMIDX_FLAG = 0x40


def read_memarg(data: bytes, pos: int, multi_memory: bool, offset_bits: int
                ) -> Tuple[MemArg, int]:
    """Read a memarg at ``pos``: ((align, offset, memidx), new position).

    ``multi_memory``: Wasm 3.0 flags (bit 6, any value below 0x80), else Wasm 2.0's (the
    alignment exponent alone, below 32). ``offset_bits``: 64 with memory64, else 32."""
    flags = data[pos]
    if flags < 0x80:
        pos += 1
    else:
        flags, pos = read_uleb(data, pos, 32)
    mem = 0
    if multi_memory:
        if flags >= 0x80:
            raise MalformedError("malformed memop flags", pos - 1)
        if flags & MEMIDX_FLAG:
            flags ^= MEMIDX_FLAG
            mem = data[pos]
            if mem < 0x80:
                pos += 1
            else:
                mem, pos = read_uleb(data, pos, 32)
    elif flags >= 32:
        raise MalformedError("malformed memop flags", pos - 1)
    offset = data[pos]
    if offset < 0x80:
        pos += 1
    else:
        offset, pos = read_uleb(data, pos, offset_bits)
    return (flags, offset, mem), pos


def write_memarg(imm: MemArg) -> bytes:
    """The binary encoding of a memarg (the memory index only when it is not 0, as
    wasm-tools and wabt write it)."""
    align, offset, mem = imm
    if mem:
        return write_uleb(align | MEMIDX_FLAG) + write_uleb(mem) + write_uleb(offset, 64)
    return write_uleb(align) + write_uleb(offset, 64)


def memarg_from_text(mem: int, offset: int, align_bytes: Optional[int],
                     natural: Optional[int]) -> MemArg:
    """The memarg of ``memidx offset=N align=N`` (``align_bytes`` None: the natural
    alignment). Raises ValueError with the spec parser's message for an alignment that is
    not a power of two."""
    if align_bytes is None:
        return (natural or 0, offset, mem)
    if align_bytes <= 0 or align_bytes & (align_bytes - 1):
        raise ValueError("alignment must be a power of two")
    return (align_bytes.bit_length() - 1, offset, mem)


def memarg_text(imm: MemArg, natural: Optional[int]) -> str:
    """The text form of a memarg after its instruction name (with a leading space, or
    empty): the memory index only when it is not 0, defaults left out."""
    align, offset, mem = imm
    out = " %d" % mem if mem else ""
    if offset:
        out += " offset=%d" % offset
    if align != natural:
        out += " align=%d" % (1 << align)
    return out
