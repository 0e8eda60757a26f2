"""Differential test of every scalar numeric instruction against wasmtime.

Each instruction is wrapped in a function taking and returning integer bit patterns
(floats go through reinterpret), so both engines are compared bit for bit. NaN results
may differ in payload where the spec allows (numerics.rst, "NaN Propagation"): then both
must be NaNs, and ours canonical when wasmtime's is.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compile_helpers import Instance, wat2wasm  # noqa: E402

from purewasm.binary import decode_module  # noqa: E402
from purewasm.errors import Trap  # noqa: E402
from purewasm.opcodes import OPS  # noqa: E402

wasmtime = pytest.importorskip("wasmtime")

INTS32 = [0, 1, 2, 3, 5, 31, 32, 33, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
          0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF, 0x12345678]
INTS64 = INTS32 + [0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
                   0x100000000, 0xFFFFFFFF00000000, 0x0123456789ABCDEF, 1 << 53,
                   (1 << 53) + 1, (1 << 63) + 1025, (1 << 24) + 1, 0x20000001]
F32 = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40200000,
       0xC0200000, 0x7F7FFFFF, 0x00000001, 0x807FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000,
       0xFFC00000, 0x7FA00000, 0x7F800001, 0xFFC12345, 0x4F000000, 0xCF000000, 0x4F800000,
       0x5F000000, 0xDF000000, 0x5F800000, 0x3EFFFFFF, 0x3F7FFFFF, 0x4B000001, 0xCB7FFFFF]
F64 = [0x0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 0x3FE0000000000000,
       0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000, 0x7FEFFFFFFFFFFFFF,
       0x0000000000000001, 0x800FFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
       0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000000, 0x7FF0000000000001,
       0x41E0000000000000, 0xC1E0000000000000, 0x41F0000000000000, 0x43E0000000000000,
       0xC3E0000000000000, 0x43F0000000000000, 0x41DFFFFFFFC00000, 0xC1E0000000200000,
       0x3FDFFFFFFFFFFFFF, 0x4330000000000001, 0x47EFFFFFE0000000, 0x47EFFFFFF0000000,
       0x36A0000000000000, 0x7FF0000000012345]

rng = random.Random(1234)
INTS32 += [rng.getrandbits(32) for _ in range(4)]
INTS64 += [rng.getrandbits(64) for _ in range(4)]
F32 += [rng.getrandbits(32) for _ in range(4)]
F64 += [rng.getrandbits(64) for _ in range(4)]

CARRIER = {"i32": "i32", "i64": "i64", "f32": "i32", "f64": "i64"}
VALUES = {"i32": INTS32, "i64": INTS64, "f32": F32, "f64": F64}
WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}


def _ops() -> List[Any]:
    out = []
    for info in OPS:
        if info.prefix == 0xFD or info.sig is None or info.imm != "none":
            continue
        params, results = info.sig
        if len(results) != 1 or not params or info.name.startswith(("memory", "data")):
            continue
        out.append(info)
    return out


def _wrap(name: str, params: Tuple[str, ...], result: str) -> str:
    body = []
    for i, t in enumerate(params):
        body.append("local.get %d" % i)
        if t == "f32":
            body.append("f32.reinterpret_i32")
        elif t == "f64":
            body.append("f64.reinterpret_i64")
    body.append(name)
    if result == "f32":
        body.append("i32.reinterpret_f32")
    elif result == "f64":
        body.append("i64.reinterpret_f64")
    sig = " ".join("(param %s)" % CARRIER[t] for t in params)
    return '(func (export "%s") %s (result %s) %s)' % (
        name, sig, CARRIER[result], " ".join(body))


def _is_nan(t: str, bits: int) -> bool:
    if t == "f32":
        return (bits & 0x7F800000) == 0x7F800000 and bool(bits & 0x7FFFFF)
    if t == "f64":
        return (bits & 0x7FF0000000000000) == 0x7FF0000000000000 and bool(
            bits & 0xFFFFFFFFFFFFF)
    return False


def _canonical(t: str, bits: int) -> bool:
    return (bits & 0x7FFFFF) == 0x400000 if t == "f32" else (
        bits & 0xFFFFFFFFFFFFF) == 0x8000000000000


def _reference(text: str) -> Any:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, wat2wasm(text))
    inst = wasmtime.Instance(store, module, [])
    return store, inst.exports(store)


@pytest.mark.parametrize("mode", [None, "flat"])
def test_numeric_ops_match_wasmtime(mode: Any) -> None:
    ops = _ops()
    text = "(module %s)" % "\n".join(_wrap(i.name, i.sig[0], i.sig[1][0]) for i in ops)
    ours = Instance(decode_module(wat2wasm(text)), mode=mode)
    store, theirs = _reference(text)
    failures: List[str] = []
    for info in ops:
        params, (result,) = info.sig
        pools = [VALUES[t] for t in params]
        if len(params) == 1:
            cases = [(a,) for a in pools[0]]
        else:
            cases = [(a, b) for a in pools[0] for b in pools[1]]
        mine = ours.func(info.name)
        ref = theirs[info.name]
        mask = (1 << WIDTH[result]) - 1
        for args in cases:
            signed = [a - (1 << WIDTH[t]) if a >> (WIDTH[t] - 1) else a
                      for a, t in zip(args, params)]
            try:
                want: Any = ref(store, *signed) & mask
            except wasmtime.Trap as exc:
                want = "trap: " + (exc.trap_code.name if exc.trap_code is not None else "?")
            try:
                got: Any = mine(*args)
            except Trap as exc:
                got = exc
            if isinstance(want, str):
                if not isinstance(got, Trap) or got.trap_code.name not in want:
                    failures.append("%s%r: want %s got %r" % (info.name, args, want, got))
                continue
            if isinstance(got, Trap) or not isinstance(got, int):
                failures.append("%s%r: want %#x got %r" % (info.name, args, want, got))
                continue
            if _is_nan(result, want) and info.name.split(".")[1] not in (
                    "neg", "abs", "copysign", "reinterpret_i32", "reinterpret_i64", "const"):
                # Spec nans_N{z*}: canonical if no operand is a non-canonical NaN, else
                # any arithmetic NaN (quiet bit set).
                all_canon = all(not _is_nan(t, a) or _canonical(t, a)
                                for a, t in zip(args, params))
                quiet = (got >> (22 if result == "f32" else 51)) & 1
                if not _is_nan(result, got) or not quiet or (
                        all_canon and not _canonical(result, got)):
                    failures.append("%s%r: want NaN %#x got %#x" % (info.name, args, want,
                                                                    got))
                continue
            if got != want:
                failures.append("%s%r: want %#x got %#x" % (info.name, args, want, got))
    assert not failures, "%d failures:\n%s" % (len(failures), "\n".join(failures[:40]))


def test_table_covers_all_scalar_ops() -> None:
    names = {i.name for i in _ops()}
    for n in ("i32.add", "i64.rotr", "f32.nearest", "f64.copysign", "i64.trunc_sat_f32_u",
              "f32.convert_i64_u", "i32.extend8_s", "f32.demote_f64", "i32.reinterpret_f32"):
        assert n in names


_ = Dict
