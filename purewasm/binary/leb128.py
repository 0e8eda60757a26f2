"""LEB128 (spec 5.2.2), read and written, and the u32 fields and counts built on it:
shared by the decoder, the encoder and the immediate codecs (``immediates.py``)."""
from __future__ import annotations

from typing import Tuple

from ..errors import EncodeError, MalformedError

# The checks follow the reference interpreter byte by byte: on the last byte allowed for
# N bits, unused bits must be zero (unsigned) or copies of the sign bit (signed), else
# "integer too large"; a continuation bit there is "integer representation too long".

def read_uleb(data: bytes, pos: int, bits: int = 32) -> Tuple[int, int]:
    """Read an unsigned LEB128 of at most ``bits`` bits at ``pos``: (value, new_pos)."""
    result = 0
    shift = 0
    n = bits
    while True:
        if n <= 0:
            raise MalformedError("integer representation too long", pos)
        b = data[pos]
        pos += 1
        if n < 7 and (b & 0x7F) >= (1 << n):
            raise MalformedError("integer too large", pos - 1)
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        n -= 7


def read_sleb(data: bytes, pos: int, bits: int) -> Tuple[int, int]:
    """Read a signed LEB128 of at most ``bits`` bits at ``pos``: (signed value, new_pos)."""
    result = 0
    shift = 0
    n = bits
    while True:
        if n <= 0:
            raise MalformedError("integer representation too long", pos)
        b = data[pos]
        pos += 1
        if n < 7:
            mask = (-1 << (n - 1)) & 0x7F
            if (b & mask) != 0 and (b & mask) != mask:
                raise MalformedError("integer too large", pos - 1)
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos
        n -= 7


def read_u32(data: bytes, pos: int) -> Tuple[int, int]:
    """A u32 (an index, a lane count...): (value, new position); one byte inline."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    return read_uleb(data, pos, 32)


def read_len32(data: bytes, pos: int) -> Tuple[int, int]:
    """A length or count: it may not exceed the bytes that remain ("length out of
    bounds"): every element takes at least one byte, so no count makes the decoder
    allocate more than its input."""
    start = pos
    b = data[pos]
    if b < 0x80:
        n, pos = b, pos + 1
    else:
        n, pos = read_uleb(data, pos, 32)
    # Measured from the start of the LEB128, as the reference interpreter does.
    if n > len(data) - start:
        raise MalformedError("length out of bounds", start)
    return n, pos


def write_uleb(value: int, bits: int = 32) -> bytes:
    """Minimal unsigned LEB128 of ``value``, which must fit in ``bits`` bits."""
    if not 0 <= value < 1 << bits:
        raise EncodeError("value %d out of range for a u%d" % (value, bits))
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def write_sleb(value: int) -> bytes:
    """Minimal signed LEB128 of ``value``."""
    if -64 <= value < 64:
        return bytes((value & 0x7F,))
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if (value == 0 and not b & 0x40) or (value == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)
