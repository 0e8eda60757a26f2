"""Mutated smith modules through three validators (the net for validate/stream.py).

A valid module from ``wasm-tools smith`` (a configuration of tests/differential.py) is
changed a little — a flipped bit, an interesting byte, a truncation, a LEB128 made longer
or given another value, an opcode replaced by another — mostly inside the code section, so
that most inputs still decode and reach the function-body validators. Each input then
gets three verdicts:

* ``stream``: :func:`purewasm.validate.decode_and_validate` (what loading a module does:
  bodies checked from their bytes by the fast reader, the exact path on any doubt);
* ``exact``: ``validate_module(decode_module(data))`` (every body decoded first);
* ``reference``: ``wasm-tools validate`` with the same proposals (``-f wasm3``, or
  ``-f wasm2`` when only Wasm 2.0 is enabled).

The property: all three say the same, valid or invalid. ``stream`` valid where ``exact``
is not would be the fast reader accepting a bad body (it may only say "valid" when the
exact validator agrees). Used by tests/test_validate_mutants.py (a bounded slice) and
``scripts/campaign.py validate`` (the long run).
"""
from __future__ import annotations

import random
import subprocess
from typing import Collection, List, Optional, Tuple

from purewasm.binary import decode_module
from purewasm.binary.decode import LazyFunc
from purewasm.binary.leb128 import read_uleb
from purewasm.errors import WasmtimeError
from purewasm.validate import decode_and_validate, validate_module
import purewasm.validate.module as validate_module_mod
import purewasm.validate.stream as stream

import differential as D

# smith configurations whose modules the validators all read (wasmgen ones are text).
SMITH_CONFIGS = [c for c in D.CONFIGS if not c.startswith("wasmgen")]

_OPCODES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,
            0x1A, 0x1B, 0x1C, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x28, 0x2D,
            0x36, 0x3F, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x50, 0x67, 0x6A, 0x7C,
            0x8C, 0xA7, 0xAC, 0xBC, 0xBF, 0xC0, 0xC4, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5,
            0xD6, 0xFB, 0xFC, 0xFD, 0x08, 0x0A, 0x12, 0x13, 0x14, 0x15]
_INTERESTING = [0x00, 0x01, 0x02, 0x3F, 0x40, 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F,
                0x63, 0x64, 0x80, 0xFF, 0x0B, 0x05]


def code_section(data: bytes) -> Tuple[int, int]:
    """(start, end) of the code section's contents, or (8, len) if there is none."""
    pos = 8
    try:
        while pos < len(data):
            sid = data[pos]
            size, start = read_uleb(data, pos + 1, 32)
            if sid == 10:
                return start, min(start + size, len(data))
            pos = start + size
    except (WasmtimeError, IndexError):
        pass
    return 8, len(data)


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """One to three small changes, four in five inside the code section."""
    b = bytearray(data)
    lo, hi = code_section(data)
    for _ in range(rnd.choice((1, 1, 1, 2, 3))):
        if rnd.random() < 0.8 and hi > lo:
            i = rnd.randrange(lo, hi)
        else:
            i = rnd.randrange(8, max(9, len(b)))
        if i >= len(b):
            i = len(b) - 1
        k = rnd.choices(range(7), weights=(20, 20, 20, 5, 10, 10, 15))[0]
        if k == 0:
            b[i] ^= 1 << rnd.randrange(8)                              # bit flip
        elif k == 1:
            b[i] = rnd.choice(_INTERESTING)                            # interesting byte
        elif k == 2:
            b[i] = rnd.choice(_OPCODES)                                # another opcode
        elif k == 3:
            del b[i:]                                                  # truncation
        elif k == 4:
            if b[i] < 0x80:                                            # LEB widening
                b[i:i + 1] = bytes([b[i] | 0x80, 0x00]) if rnd.random() < 0.5 else \
                    bytes([b[i] | 0x80, 0x80, 0x80, 0x80, 0x00])
            else:
                b[i] ^= 0x80
        elif k == 5:                                                   # LEB value edit
            b[i] = (b[i] & 0x80) | rnd.choice((0, 1, 2, 3, 0x3F, 0x40, 0x7F))
        else:                                                          # byte in or out
            if rnd.random() < 0.5:
                del b[i]
            else:
                b.insert(i, rnd.choice(_OPCODES + _INTERESTING))
    return bytes(b)


def _verdict(load: "object") -> str:
    try:
        load()  # type: ignore[operator]
    except WasmtimeError as exc:
        return "invalid (%s: %s)" % (type(exc).__name__, str(exc)[:100])
    return "valid"


def verdicts(data: bytes, features: Optional[Collection[str]] = None,
             reference: bool = True) -> List[Tuple[str, str]]:
    """[(validator, verdict)]: stream, exact and (``reference``) wasm-tools."""
    out = [("stream", _verdict(lambda: decode_and_validate(data, features, features))),
           ("exact", _verdict(lambda: validate_module(decode_module(data, features),
                                                      features)))]
    if reference:
        flag = "wasm2" if features is not None and not features else "wasm3"
        r = subprocess.run([D.wasm_tools() or "wasm-tools", "validate", "-f", flag],
                           input=data, capture_output=True)
        out.append(("wasm-tools", "valid" if r.returncode == 0 else
                    "invalid (%s)" % r.stderr.decode(errors="replace").strip()[:160]))
    return out


def disagreement(found: List[Tuple[str, str]]) -> bool:
    return len({v == "valid" for _, v in found}) > 1


def seeds(config: str, seed: int, n: int) -> List[bytes]:
    """``n`` mutants of smith's module for ``config``/``seed`` (none if smith declines)."""
    base = D.generate(config, seed)
    if base is None:
        return []
    rnd = random.Random("%s:%d:mutants" % (config, seed))
    return [mutate(base, rnd) for _ in range(n)]


# --- per body: the fast reader never accepts what the exact path rejects ----------------

def fast_bodies(data: bytes) -> List[Tuple[object, int, LazyFunc, frozenset]]:
    """(validation context, function index, lazy body, proposals) of each body of the
    valid module ``data`` that stream.py's fast reader decides by itself."""
    got: List[Tuple[object, int, LazyFunc, frozenset]] = []
    original = validate_module_mod.validate_lazy_func

    def grab(ctx: object, fidx: int, func: LazyFunc, features: Collection[str]) -> None:
        got.append((ctx, fidx, func, frozenset(features)))
        original(ctx, fidx, func, features)  # type: ignore[arg-type]

    validate_module_mod.validate_lazy_func = grab  # type: ignore[assignment]
    try:
        decode_and_validate(data)
    finally:
        validate_module_mod.validate_lazy_func = original  # type: ignore[assignment]
    out = []
    for ctx, fidx, func, features in got:
        try:
            stream._fast(ctx, func, stream._tables(features))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - undecided by the fast reader
            continue
        out.append((ctx, fidx, func, features))
    return out


def fast_vs_exact(body: Tuple[object, int, LazyFunc, frozenset],
                  rnd: random.Random) -> Tuple[bytes, bool, bool]:
    """One mutant of ``body`` (an entry of :func:`fast_bodies`): (its bytes, the fast
    reader accepts it, the exact path accepts it)."""
    ctx, fidx, f, features = body
    old = f.code[f.expr_start:f.expr_end]
    new = mutate(b"\0asm\1\0\0\0" + old, rnd)[8:]
    # The body ends the buffer as in a module whose code section ends with it (bytes
    # after it would let a mutant read on into the next body; past the end is
    # "unexpected end" in a module, IndexError here).
    code = f.code[:f.expr_start] + new
    g = LazyFunc(f.type_index, f.locals, code, f.expr_start, f.offset, len(code), f.state)
    try:
        stream._fast(ctx, g, stream._tables(features))  # type: ignore[arg-type]
        fast = True
    except Exception:  # noqa: BLE001 - undecided: the exact path's business
        fast = False
    try:
        stream._exact(ctx, fidx, g, [])  # type: ignore[arg-type]
        exact = True
    except (WasmtimeError, IndexError):
        exact = False
    return new, fast, exact
