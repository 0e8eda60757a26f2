#!/usr/bin/env python3
"""Cost of the interval analysis (compile/intervals.py) over whole modules, and a
fingerprint of what it and the translator produce, for before/after checks.

    python scripts/intervals_bench.py [MODULE.wasm ...] [--hashes OUT.json]
                                      [--check BASE.json] [--flat] [--repeat N]

Without modules: the default set (the kernels benchmark, the real programs at -O2, the
zig_workload and cpp_shapes test workloads, from the build caches of
~/.cache/purewasm-tests). For each module, every defined function is translated as the
runtime picks its lowering (``CompiledModule.source``; ``--flat``: also the flat
lowering of the structured ones) with ``intervals.analyse`` wrapped to time it; printed:
the functions analysed, analysis time and whole translation time (CPU, best of
``--repeat``). The fingerprints: per function, a SHA-256 of the generated source and of
the facts (``Facts.operands``, ``Facts.locals``). ``--hashes`` writes them; ``--check``
compares with a file written by another tree (e.g. a worktree of main) and lists every
function that differs (exit status 1 if any).
"""
from __future__ import annotations

import argparse
import gc
import glob
import hashlib
import json
import os
import sys
import time
from typing import Any, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from purewasm.compile import CompiledModule  # noqa: E402
from purewasm.compile import translate as translate_mod  # noqa: E402
from purewasm.validate import decode_and_validate  # noqa: E402

CACHE = os.path.expanduser("~/.cache/purewasm-tests")


def default_modules() -> List[str]:
    """The kernels benchmark and the zig_workload/cpp_shapes test workloads at -O2 (built
    by the tests' harness, cached), and the newest cached -O2 build of each real program
    (tests/realprograms; run its tests once to build them)."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from programs import harness
    out = [harness.build("kernels.c", "-O2", src_dir=os.path.join(ROOT, "benchmarks", "c"))]
    for name in ("cpp_shapes.cpp", "zig_workload.zig"):
        out.append(harness.build(name, "-O2", src_dir=os.path.join(ROOT, "tests", "workloads")))
    newest: Dict[str, str] = {}
    for path in glob.glob(os.path.join(CACHE, "realprograms", "build", "*-O2-*.wasm")):
        prog = os.path.basename(path).rsplit("-O2-", 1)[0]
        if prog not in newest or os.path.getmtime(path) > os.path.getmtime(newest[prog]):
            newest[prog] = path
    return out + [newest[p] for p in sorted(newest)]


def _facts_digest(facts: Any) -> str:
    return hashlib.sha256(repr((sorted(facts.operands.items()),
                                sorted(facts.locals.items()))).encode()).hexdigest()[:16]


def measure(path: str, flat: bool) -> Tuple[Dict[str, Any], Dict[str, str]]:
    with open(path, "rb") as f:
        module = decode_and_validate(f.read())
    compiled = CompiledModule(module)
    first = compiled.num_imported
    spent = [0.0]
    calls = [0]
    last: List[Any] = [None]
    real = translate_mod.analyse

    def timed(*args: Any) -> Any:
        t = time.process_time()
        r = real(*args)
        spent[0] += time.process_time() - t
        calls[0] += 1
        last[0] = r
        return r

    hashes: Dict[str, str] = {}
    failed = 0
    translate_mod.analyse = timed   # type: ignore[assignment]
    try:
        t0 = time.process_time()
        for i in range(len(module.funcs)):
            for lowering in ((None, True) if flat else (None,)):
                last[0] = None
                try:
                    src = compiled.source(first + i, lowering)
                except Exception:  # noqa: BLE001 - counted: refused by the translator
                    failed += 1
                    continue
                key = "%d%s" % (first + i, "/flat" if lowering else "")
                h = hashlib.sha256(src.encode()).hexdigest()[:16]
                if last[0] is not None:
                    h += ":" + _facts_digest(last[0])
                hashes[key] = h
        total = time.process_time() - t0
    finally:
        translate_mod.analyse = real   # type: ignore[assignment]
    return ({"functions": len(module.funcs), "analysed": calls[0], "failed": failed,
             "analysis_s": spent[0], "translate_s": total}, hashes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*")
    ap.add_argument("--hashes", help="write the per-function fingerprints here (JSON)")
    ap.add_argument("--check", help="compare the fingerprints with this file")
    ap.add_argument("--flat", action="store_true",
                    help="also translate the structured functions flat")
    ap.add_argument("--repeat", type=int, default=1, help="best of N timings")
    args = ap.parse_args()
    gc.disable()      # as 'purewasm run' loads; collections would land on random functions
    modules = args.modules or default_modules()
    print("%s %s" % (sys.implementation.name, sys.version.split()[0]))
    all_hashes: Dict[str, Dict[str, str]] = {}
    tot_a = tot_t = 0.0
    for path in modules:
        best: Dict[str, Any] = {}
        for _ in range(max(1, args.repeat)):
            r, hashes = measure(path, args.flat)
            gc.collect()
            if not best or r["analysis_s"] < best["analysis_s"]:
                best = dict(r)
            if best["translate_s"] > r["translate_s"]:
                best["translate_s"] = r["translate_s"]
        name = os.path.basename(path)
        all_hashes[name] = hashes
        tot_a += best["analysis_s"]
        tot_t += best["translate_s"]
        print("%-45s %5d functions, %4d analysed%s: analysis %6.3f s, translation %6.3f s"
              % (name, best["functions"], best["analysed"],
                 " (%d refused)" % best["failed"] if best["failed"] else "",
                 best["analysis_s"], best["translate_s"]), flush=True)
    print("%-45s analysis %6.3f s, translation %6.3f s" % ("total", tot_a, tot_t))
    if args.hashes:
        with open(args.hashes, "w") as f:
            json.dump(all_hashes, f, indent=0, sort_keys=True)
    if args.check:
        with open(args.check) as f:
            base = json.load(f)
        bad = 0
        for name, hashes in all_hashes.items():
            other = base.get(name)
            if other is None:
                print("%s: not in %s" % (name, args.check))
                bad += 1
                continue
            diff = sorted(k for k in set(hashes) | set(other) if hashes.get(k) != other.get(k))
            for k in diff:
                print("%s function %s differs: %s vs %s" % (name, k, hashes.get(k),
                                                            other.get(k)))
            bad += len(diff)
            if not diff:
                print("%s: all %d functions identical" % (name, len(hashes)))
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
