#!/usr/bin/env python3
"""Translation + compile() time per function of real modules (issue 12: a function used
once must not cost more to compile than running it for a while).

    python scripts/compile_time_bench.py MODULE.wasm [MODULE.wasm ...] [--json]

For each module: decode and validate it as ``purewasm run`` does (bodies left undecoded),
then compile every defined function one at a time, timing each (decoding its body on
first use, translating it to Python source, ``compile()``): the distribution (median,
p90, max), the cost per KB of body, and the total. CPU time (``time.process_time``), so
that other jobs on the machine count less.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from purewasm.binary.decode import LazyFunc  # noqa: E402
from purewasm.compile import CompiledModule  # noqa: E402
from purewasm.validate import decode_and_validate  # noqa: E402


def _quantile(xs: List[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure(path: str) -> Dict[str, float]:
    with open(path, "rb") as f:
        module = decode_and_validate(f.read())
    compiled = CompiledModule(module)
    first = compiled.num_imported
    times: List[float] = []
    per_kb: List[float] = []
    sizes: List[int] = []
    failed = 0
    for i, func in enumerate(module.funcs):
        size = (func.expr_end - func.expr_start) if isinstance(func, LazyFunc) else 0
        t = time.process_time()
        try:
            compiled.code(first + i)
        except Exception:  # noqa: BLE001 - counted: a function the translator refuses
            failed += 1
            continue
        dt = time.process_time() - t
        times.append(dt)
        sizes.append(size)
        if size:
            per_kb.append(dt / (size / 1024))
    biggest = max(range(len(times)), key=lambda j: times[j])
    return {"functions": len(times), "failed": failed, "total_s": sum(times),
            "median_ms": statistics.median(times) * 1e3, "p90_ms": _quantile(times, 0.9) * 1e3,
            "max_ms": times[biggest] * 1e3, "max_kb": sizes[biggest] / 1024,
            "median_ms_per_kb": statistics.median(per_kb) * 1e3,
            "code_mb": sum(sizes) / 1e6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="+")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    gc.disable()      # as 'purewasm run' loads; collections would land on random functions
    print("%s %s" % (sys.implementation.name, sys.version.split()[0]))
    for path in args.modules:
        r = measure(path)
        if args.json:
            print(json.dumps(dict(r, module=os.path.basename(path))))
            continue
        print("%s: %d functions (%.2f MB of code), total %.2f s; per function median "
              "%.2f ms, p90 %.2f ms, max %.0f ms (%.0f KB body); median %.2f ms per KB%s"
              % (os.path.basename(path), r["functions"], r["code_mb"], r["total_s"],
                 r["median_ms"], r["p90_ms"], r["max_ms"], r["max_kb"],
                 r["median_ms_per_kb"],
                 ", %d not translatable" % r["failed"] if r["failed"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
