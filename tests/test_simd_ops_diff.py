"""Every pure vector instruction against wasmtime on random and boundary operands.

One module with one function per instruction: v128 operands arrive as two i64 halves,
float scalars as their bit patterns, and results leave the same way (wasmtime-py cannot
pass v128 values). Float lanes that are NaN on both sides are accepted whatever their
bits (NaN payloads of arithmetic are nondeterministic: spec numerics "NaN Propagation"),
except for the bit-exact instructions (neg, abs, pmin, pmax, lanes, splat).
"""
from __future__ import annotations

import random
from typing import Any, Dict, List, Tuple

import pytest
from compile_helpers import wat2wasm

from purewasm import runtime
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.opcodes import OPS

wasmtime = pytest.importorskip("wasmtime")

M64 = (1 << 64) - 1
LANE = {"i32": 1, "i64": 1, "f32": 2, "f64": 1}       # lane immediate used per scalar type
F32_SPECIAL = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
               0x7FC00000, 0xFFC00000, 0x7FA00001, 0x7F7FFFFF, 0x00000001, 0x3F000000,
               0x3FC00000, 0x40200000, 0xC0200000, 0x4F000000, 0x4F800000, 0xCF000000,
               0x4B000001, 0x5F000000]
F64_SPECIAL = [0x0, 0x8000000000000000, 0x3FF0000000000000, 0x7FF0000000000000,
               0xFFF0000000000000, 0x7FF8000000000000, 0x7FF4000000000001,
               0x7FEFFFFFFFFFFFFF, 0x0000000000000001, 0x3FE0000000000000,
               0x41DFFFFFFFC00000, 0x41E0000000000000, 0x41F0000000000000,
               0xC1E0000000200000, 0x47EFFFFFE0000000, 0x47EFFFFFF0000000,
               0x3810000000000000, 0x36A0000000000001]
INT_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x81]


def operands(rnd: random.Random, n: int) -> List[int]:
    out = []
    for k in range(n):
        kind = k % 5
        if kind == 0:
            v = rnd.getrandbits(128)
        elif kind == 1:
            v = sum(rnd.choice(F32_SPECIAL) << (32 * i) for i in range(4))
        elif kind == 2:
            v = sum(rnd.choice(F64_SPECIAL) << (64 * i) for i in range(2))
        elif kind == 3:
            v = sum(rnd.choice(INT_BYTES) << (8 * i) for i in range(16))
        else:
            v = sum(rnd.choice((0, 0xFFFF, 0x8000, 0x7FFF, 1, rnd.getrandbits(16)))
                    << (16 * i) for i in range(8))
        out.append(v)
    return out


def _ops() -> List[Any]:
    return [op for op in OPS if op.prefix == 0xFD and op.imm in ("none", "lane", "shuffle")]


def _func(op: Any, shuffle: Tuple[int, ...]) -> str:
    params, results = op.sig
    decl: List[str] = []
    body: List[str] = []
    for t in params:
        if t == "v128":
            decl += ["i64", "i64"]
            body.append("(i64x2.replace_lane 1 (i64x2.splat (local.get %d)) (local.get %d))"
                        % (len(decl) - 2, len(decl) - 1))
        elif t == "f32":
            decl.append("i32")
            body.append("(f32.reinterpret_i32 (local.get %d))" % (len(decl) - 1))
        elif t == "f64":
            decl.append("i64")
            body.append("(f64.reinterpret_i64 (local.get %d))" % (len(decl) - 1))
        else:
            decl.append(t)
            body.append("(local.get %d)" % (len(decl) - 1))
    imm = ""
    if op.imm == "lane":
        imm = " %d" % LANE[op.sig[1][0] if op.sig[1][0] != "v128" else op.sig[0][1]]
    elif op.imm == "shuffle":
        imm = " " + " ".join(map(str, shuffle))
    call = "(%s%s %s)" % (op.name, imm, " ".join(body))
    rt = results[0]
    if rt == "v128":
        res = "(result i64 i64)"
        tail = ("(local.set $r %s) (i64x2.extract_lane 0 (local.get $r)) "
                "(i64x2.extract_lane 1 (local.get $r))" % call)
    elif rt == "f32":
        res, tail = "(result i32)", "(i32.reinterpret_f32 %s)" % call
    elif rt == "f64":
        res, tail = "(result i64)", "(i64.reinterpret_f64 %s)" % call
    else:
        res, tail = "(result %s)" % rt, call
    return '(func (export "%s") (param %s) %s (local $r v128) %s)' % (
        op.name, " ".join(decl), res, tail)


EXACT = ("neg", "abs", "pmin", "pmax", "splat", "replace_lane", "extract_lane")


def _same(op: Any, want: List[int], got: List[int]) -> bool:
    if want == got:
        return True
    name = op.name
    shape, _, base = name.partition(".")
    rt = op.sig[1][0]
    if base in EXACT or not (shape in ("f32x4", "f64x2") or rt in ("f32", "f64")):
        return False
    if base.startswith(("eq", "ne", "lt", "gt", "le", "ge")):
        return False
    w = 32 if (shape == "f32x4" or rt == "f32") else 64
    # Rebuild the 128-bit (or scalar) values and compare lane by lane, NaN ~ NaN.
    wv = sum(x << (64 * i) for i, x in enumerate(want))
    gv = sum(x << (64 * i) for i, x in enumerate(got))
    m = (1 << w) - 1
    exp = 0x7F800000 if w == 32 else 0x7FF0000000000000
    frac = (1 << (23 if w == 32 else 52)) - 1
    for i in range(len(want) * 64 // w):
        a, b = (wv >> (w * i)) & m, (gv >> (w * i)) & m
        if a != b and not (a & exp == exp and a & frac and b & exp == exp and b & frac):
            return False
    return True


def test_every_pure_vector_instruction_matches_wasmtime() -> None:
    rnd = random.Random(20240611)
    shuffle = tuple(rnd.randrange(32) for _ in range(16))
    ops = _ops()
    text = "(module %s)" % "\n".join(_func(op, shuffle) for op in ops)
    wasm = wat2wasm(text)
    module = decode_module(wasm)
    store = runtime.Store()
    inst = runtime.instantiate(store, module, [], CompiledModule(module))
    engine = wasmtime.Engine()
    wstore = wasmtime.Store(engine)
    wex = wasmtime.Instance(wstore, wasmtime.Module(engine, wasm), []).exports(wstore)
    vecs = operands(rnd, 45)
    scalars: Dict[str, List[int]] = {
        "i32": [0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 0x7FFFFFFF, 0x80000000,
                0xFFFFFFFF, 0x12345678],
        "i64": [0, 1, M64, 1 << 63, 0x123456789ABCDEF0],
        "f32": F32_SPECIAL, "f64": F64_SPECIAL}
    failures = []
    for op in ops:
        params = op.sig[0]
        for k in range(40):
            args: List[int] = []
            for j, t in enumerate(params):
                if t == "v128":
                    v = vecs[(k * 7 + j * 13) % len(vecs)]
                    args += [v & M64, v >> 64]
                else:
                    pool = scalars[t]
                    args.append(pool[(k + j) % len(pool)])
            wargs = [a - (1 << 64) if a >> 63 else a for a in args]
            wres = wex[op.name](wstore, *_wasmtime_args(op, wargs))
            rt = op.sig[1][0]
            mask = 0xFFFFFFFF if rt in ("i32", "f32") else M64
            want = [x & mask for x in (wres if isinstance(wres, (list, tuple)) else [wres])]
            r = store.invoke(inst.exports[op.name], args)
            got = [x & M64 for x in (r if isinstance(r, tuple) else [r])]
            if not _same(op, want, got):
                failures.append((op.name, [hex(a) for a in args], [hex(x) for x in want],
                                 [hex(x) for x in got]))
                break
    assert not failures, failures[:10]


def _wasmtime_args(op: Any, wargs: List[int]) -> List[int]:
    # i32 parameters go to wasmtime as signed 32-bit ints.
    out = []
    types: List[str] = []
    for t in op.sig[0]:
        types += ["i64", "i64"] if t == "v128" else (["i32"] if t in ("i32", "f32") else
                                                      ["i64"])
    for t, a in zip(types, wargs):
        if t == "i32":
            a &= 0xFFFFFFFF
            a = a - (1 << 32) if a >> 31 else a
        out.append(a)
    return out
