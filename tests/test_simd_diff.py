"""Differential runs of random SIMD modules (``wasm-tools smith`` with SIMD enabled)
against wasmtime: results of every exported function without v128 in its signature
(wasmtime-py cannot pass v128 values), traps, and the final contents of exported memories
and scalar globals. NaNs are canonicalized by smith, so results are deterministic.

Catches what the spec suite does not: v128 values flowing through the translator's
stack resolution, locals, select, blocks and branches, in both control-flow lowerings.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from typing import Any, List, Optional

import pytest
from test_compile_diff import ARGS, FLAGS, _norm, _trap_name

from purewasm import runtime
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.errors import Trap, WasmtimeError

wasmtime = pytest.importorskip("wasmtime")

pytestmark = pytest.mark.skipif(shutil.which("wasm-tools") is None,
                                reason="wasm-tools not installed")

SIMD_FLAGS = list(FLAGS)
if "--simd-enabled" in SIMD_FLAGS:
    SIMD_FLAGS[SIMD_FLAGS.index("--simd-enabled") + 1] = "true"
else:
    SIMD_FLAGS += ["--simd-enabled", "true"]
SEEDS = range(1000, 1080)


def _generate(seed: int) -> Optional[bytes]:
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(6000))
    r = subprocess.run(["wasm-tools", "smith"] + SIMD_FLAGS, input=data,
                       capture_output=True)
    return r.stdout if r.returncode == 0 else None


def _compare(wasm: bytes, mode: Any) -> List[Any]:
    module = decode_module(wasm)
    engine = wasmtime.Engine()
    wstore = wasmtime.Store(engine)
    try:
        winst = wasmtime.Instance(wstore, wasmtime.Module(engine, wasm), [])
        werr = None
    except wasmtime.Trap as exc:
        werr = _trap_name(exc.trap_code)
    store = runtime.Store()
    try:
        inst = runtime.instantiate(store, module, [], CompiledModule(module, mode))
        oerr = None
    except Trap as exc:
        oerr = _trap_name(exc.trap_code)
    if werr or oerr:
        return [] if (werr is None) == (oerr is None) else [("instantiate", werr, oerr)]
    wex = winst.exports(wstore)
    out: List[Any] = []
    ftypes = module.func_types()
    for exp in module.exports:
        if exp.kind != "func":
            continue
        ft = ftypes[exp.index]
        if any(t not in ARGS for t in ft.params + ft.results):
            continue
        args = [ARGS[p][i % 4] for i, p in enumerate(ft.params)]
        wargs = [a - (1 << (32 if p == "i32" else 64))
                 if p in ("i32", "i64") and a >> (31 if p == "i32" else 63) else a
                 for p, a in zip(ft.params, args)]
        try:
            r = wex[exp.name](wstore, *wargs)
            rs = list(r) if isinstance(r, (list, tuple)) else ([r] if ft.results else [])
            want: Any = [_norm(t, v) for t, v in zip(ft.results, rs)]
        except wasmtime.Trap as exc:
            want = _trap_name(exc.trap_code)
        try:
            r = store.invoke(inst.exports[exp.name], args)
            rs = list(r) if len(ft.results) > 1 else ([r] if ft.results else [])
            got: Any = [_norm(t, v) for t, v in zip(ft.results, rs)]
        except Trap as exc:
            got = _trap_name(exc.trap_code)
        if want != got:
            out.append((exp.name, args, want, got))
    for exp in module.exports:
        if exp.kind == "memory":
            wmem = wex[exp.name]
            if bytes(wmem.read(wstore, 0, wmem.data_len(wstore))) != bytes(
                    inst.exports[exp.name].data):
                out.append(("memory", exp.name))
        elif exp.kind == "global":
            t = module.global_types()[exp.index].content
            if t in ARGS and _norm(t, wex[exp.name].value(wstore)) != _norm(
                    t, inst.exports[exp.name].value):
                out.append(("global", exp.name))
    return out


@pytest.mark.parametrize("mode", [None, "flat"])
def test_random_simd_modules_match_wasmtime(mode: Any) -> None:
    failures = []
    ran = 0
    for seed in SEEDS:
        wasm = _generate(seed)
        if wasm is None:
            continue
        try:
            decode_module(wasm)
        except WasmtimeError:
            continue
        ran += 1
        diff = _compare(wasm, mode)
        if diff:
            failures.append((seed, diff[:3]))
    assert ran >= len(SEEDS) // 2
    assert not failures, failures
