"""Property tests: no input makes the decoder raise anything but MalformedError (or
UnsupportedProposalError, for the opcode prefixes of proposals not implemented yet), and
whatever decodes survives encode -> decode unchanged."""
from __future__ import annotations

from typing import List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purewasm.binary import decode_module, encode_module
from purewasm.errors import MalformedError, UnsupportedProposalError
from purewasm.syntax import Module

HEADER = b"\x00asm\x01\x00\x00\x00"


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _section(sid: int, content: bytes) -> bytes:
    return bytes([sid]) + _uleb(len(content)) + content


# Seed modules: small but touching every section and many instruction kinds.
_TYPES = _section(1, b"\x02\x60\x01\x7f\x01\x7f\x60\x00\x00")
_IMPORTS = _section(2, b"\x01\x01m\x01g\x03\x7f\x00")
_FUNCS = _section(3, b"\x02\x00\x01")
_TABLE = _section(4, b"\x01\x70\x01\x01\x02")
_MEM = _section(5, b"\x01\x01\x01\x02")
_GLOBAL = _section(6, b"\x01\x7e\x01\x42\x7f\x0b")
_EXPORT = _section(7, b"\x01\x01f\x00\x01")
_ELEM = _section(9, b"\x02\x00\x41\x00\x0b\x01\x00\x05\x70\x01\xd0\x70\x0b")
_DCOUNT = _section(12, b"\x01")
_BODY0 = (b"\x01\x01\x7e\x20\x00\x04\x7f\x41\x01\x05\x41\x02\x0b\x28\x02\x04"
          b"\x0e\x01\x00\x00\x0b")
_BODY1 = (b"\x00\x02\x40\x03\x40\x0c\x01\x0b\x0b\xfd\x0c" + bytes(16) +
          b"\xfd\x15\x01\x1a\xfc\x09\x00\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00\x0b")
_CODE = _section(10, b"\x02" + _uleb(len(_BODY0)) + _BODY0 + _uleb(len(_BODY1)) + _BODY1)
_DATA = _section(11, b"\x01\x01\x03abc")
_NAMES = _section(0, b"\x04name" + _section(1, b"\x01\x00\x01f"))
SEEDS: List[bytes] = [
    HEADER + _TYPES + _IMPORTS + _FUNCS + _TABLE + _MEM + _GLOBAL + _EXPORT + _ELEM
    + _DCOUNT + _CODE + _DATA + _NAMES,
    HEADER + _TYPES + _section(3, b"\x01\x00") + _section(10, b"\x01\x04\x00\x20\x00\x0b"),
]


def _strip(m: Module) -> Module:
    for f in m.funcs:
        f.offset = None
    return m


def _check(data: bytes) -> None:
    try:
        m = decode_module(data)
    except (MalformedError, UnsupportedProposalError) as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data)
        return
    again = decode_module(encode_module(m))
    assert _strip(again) == _strip(m)


def test_seeds_are_valid() -> None:
    for seed in SEEDS:
        m = decode_module(seed)
        assert m.funcs and m.names.funcs == ({0: "f"} if seed is SEEDS[0] else {})


_FAST = settings(max_examples=400, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.binary(max_size=64))
def test_random_bytes(data: bytes) -> None:
    _check(data)
    _check(HEADER + data)


@_FAST
@given(st.lists(st.tuples(st.integers(0, 13), st.binary(max_size=24)), max_size=6))
def test_random_sections(sections) -> None:
    _check(HEADER + b"".join(_section(sid, content) for sid, content in sections))


@_FAST
@given(st.binary(max_size=48))
def test_random_function_bodies(body: bytes) -> None:
    code = b"\x00" + body
    _check(HEADER + _TYPES + _section(3, b"\x01\x01") + _MEM + _DCOUNT
           + _section(10, b"\x01" + _uleb(len(code)) + code) + _DATA)


_MUTATION = st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255),
                      st.integers(1, 6))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SEEDS))), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_modules(seed: int, mutations) -> None:
    data = bytearray(SEEDS[seed])
    for op, where, byte, length in mutations:
        i = where % (len(data) + 1)
        if op == 0 and i < len(data):
            data[i] = byte                      # overwrite
        elif op == 1:
            data[i:i] = bytes([byte]) * length  # insert
        elif op == 2:
            del data[i:i + length]              # delete
        else:
            del data[i:]                        # truncate
    _check(bytes(data))
