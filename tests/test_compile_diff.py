"""Differential test: random modules from ``wasm-tools smith`` run on purewasm (both
lowerings) and on wasmtime; results, traps, exported memories and globals must agree.

The modules terminate (``--ensure-termination``: a fuel global trapping as unreachable)
and canonicalise NaNs, so both engines are deterministic. Runs through the runtime's
``instantiate`` and ``Store.invoke`` (skipped if they or the tools are missing).
"""
from __future__ import annotations

import random
import shutil
import subprocess
from typing import Any, List, Optional

import pytest

wasmtime = pytest.importorskip("wasmtime")
runtime = pytest.importorskip("purewasm.runtime")

from purewasm.binary import decode_module  # noqa: E402
from purewasm.compile import CompiledModule  # noqa: E402
from purewasm.errors import Trap, WasmtimeError  # noqa: E402
from purewasm.numeric import f32_to_bits, f64_to_bits  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("wasm-tools") is None,
                                reason="wasm-tools not installed")

FLAGS = ["--ensure-termination", "--fuel", "300", "--export-everything", "true",
         "--max-imports", "0", "--min-funcs", "2", "--max-memories", "1",
         "--canonicalize-nans", "true", "--max-memory32-bytes", "262144",
         "--max-table-elements", "100", "--max-nesting-depth", "60",
         "--max-instructions", "1500"]
for _feature in ("simd", "relaxed-simd", "exceptions", "gc", "tail-call", "threads",
                 "memory64", "wide-arithmetic", "extended-const", "custom-page-sizes",
                 "compact-imports", "custom-descriptors", "shared-everything-threads"):
    FLAGS += ["--%s-enabled" % _feature, "false"]

SEEDS = range(40)
ARGS = {"i32": [0, 1, 7, 0xFFFFFFFF], "i64": [0, 1, 1 << 40, 2 ** 64 - 1],
        "f32": [0.0, 1.5, -2.0, 1e30], "f64": [0.0, 1.5, -2.0, 1e300]}


def _generate(seed: int) -> Optional[bytes]:
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(4000))
    r = subprocess.run(["wasm-tools", "smith"] + FLAGS, input=data, capture_output=True)
    return r.stdout if r.returncode == 0 else None


def _norm(t: str, v: Any) -> Any:
    if t == "i32":
        return v & 0xFFFFFFFF
    if t == "i64":
        return v & 0xFFFFFFFFFFFFFFFF
    if t == "f32":
        return f32_to_bits(v) if v == v else "nan"
    if t == "f64":
        return f64_to_bits(v) if v == v else "nan"
    return v is None


def _trap_name(code: Any) -> str:
    name = code.name if code is not None else "?"
    # The spec (and our Trap) says "undefined element" for call_indirect past the end of
    # the table; wasmtime reports it as a table access out of bounds.
    return "TABLE_OUT_OF_BOUNDS" if name == "UNDEFINED_ELEMENT" else name


def _compare(wasm: bytes, mode: Any, rounds: int = 2) -> List[Any]:
    """Differences between wasmtime and purewasm (lowering ``mode``) on ``wasm``: each
    exported function called ``rounds`` times with rotating edge-value arguments (those
    with v128 in their signature are skipped: wasmtime-py cannot pass v128), then the
    exported memories and scalar globals."""
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
    out = []
    ftypes = module.func_types()
    for exp in module.exports:
        if exp.kind != "func":
            continue
        ft = ftypes[exp.index]
        if "v128" in ft.params + ft.results:
            continue
        for k in range(rounds):
            args = [ARGS[p][(k + i) % 4] if p in ARGS else None
                    for i, p in enumerate(ft.params)]
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
def test_random_modules_match_wasmtime(mode: Any) -> None:
    failures = []
    ran = 0
    for seed in SEEDS:
        wasm = _generate(seed)
        if wasm is None:
            continue
        try:
            decode_module(wasm)
        except WasmtimeError:
            continue   # a decoder limitation, not the compiler's business
        ran += 1
        diff = _compare(wasm, mode)
        if diff:
            failures.append((seed, diff[:3]))
    assert ran >= len(SEEDS) // 2
    assert not failures, failures
