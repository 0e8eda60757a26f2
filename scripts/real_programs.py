#!/usr/bin/env python3
"""Run the real-programs matrix: every program of tests/realprograms/ at -O0, -O2, -Os and
-Oz on every input (small and big), under wasmtime and purewasm, and print one line per
case (result, .wasm size, time under each runtime) and a closing "N passed, M failed".

    python scripts/real_programs.py                 # the full matrix (slow: tens of minutes)
    python scripts/real_programs.py --default       # only what tests/test_real_programs.py runs
    python scripts/real_programs.py --opt=-O2 --only sqlite-mem --only lua-bench

Exit status 1 when a case fails. Sources are fetched with pip into the test cache (see
tests/realprograms/realprograms.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "realprograms"))
sys.path.insert(0, ROOT)

import realprograms as rp  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--opt", action="append", choices=rp.OPTS,
                    help="optimisation level (repeatable; default: all four)")
    ap.add_argument("--only", action="append", help="run ident (repeatable)")
    ap.add_argument("--default", action="store_true",
                    help="the default test subset: -O2, small inputs")
    args = ap.parse_args()
    opts = args.opt or (["-O2"] if args.default else list(rp.OPTS))
    runs = [r for r in rp.RUNS.values()
            if (not args.only or r.ident in args.only) and not (args.default and r.long)]
    passed = failed = 0
    t_ref = t_pw = 0.0
    start = time.perf_counter()
    for run in runs:
        for opt in opts:
            label = "%-24s %-4s" % (run.ident, opt)
            try:
                t0 = time.perf_counter()
                wasm = rp.build(run.program, opt)
                t_build = time.perf_counter() - t0
                ref, got = rp.compare(run, opt)
            except Exception as exc:  # one line per failure, the run goes on
                failed += 1
                msg = str(exc) if isinstance(exc, (AssertionError, rp.Timeout)) else \
                    traceback.format_exc(limit=3)
                print("%s FAIL %s" % (label, msg.strip().replace("\n", "\n      ")), flush=True)
                continue
            passed += 1
            t_ref += ref.seconds
            t_pw += got.seconds
            print("%s ok   %8d bytes  build %5.1fs  wasmtime %6.2fs  purewasm %7.2fs  (x%.0f)%s"
                  % (label, os.path.getsize(wasm), t_build, ref.seconds, got.seconds,
                     got.seconds / max(ref.seconds, 1e-3), "  " + ref.note if ref.note else ""),
                  flush=True)
    print("wall %.1fs; passing cases: wasmtime %.1fs, purewasm %.1fs (incl. compile and start-up)"
          % (time.perf_counter() - start, t_ref, t_pw))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
