"""Whole-program benchmark: the workloads of tests/workloads/ (built at -O2 by the test
harness, cached) run under wasmtime and under purewasm, wall time of each and the ratio,
measured in the same run. A benchmark, not a test: it checks only that both runtimes
printed the same output (a mismatch is reported in the table, not raised).

    python benchmarks/programs.py [--repeat N] [--opt -O2] [--python EXE] [PROGRAM ...]

Each time covers a whole run as an embedder sees it: module load (decode, validate,
translate on first call for purewasm; Cranelift compile for wasmtime), instantiation,
WASI setup and `_start`. The best of N runs is reported. With --python (e.g. pypy3),
purewasm runs as `EXE -m purewasm run PROG` in a subprocess (interpreter start included).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# This file's own name would shadow the tests' `programs` package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from programs import harness  # noqa: E402
from test_workloads import CASES, build  # noqa: E402


def _best(fn, wasm: str, repeat: int) -> Tuple[float, harness.Result]:
    best: Optional[float] = None
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(wasm)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best or 0.0, result


def _cli_runner(python: str):
    env = dict(os.environ, PYTHONPATH=ROOT)

    def run(wasm: str) -> harness.Result:
        proc = subprocess.run([python, "-m", "purewasm", "run", wasm], capture_output=True, env=env)
        return harness.Result(proc.returncode, proc.stdout, proc.stderr)
    return run


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per runtime; best is kept")
    ap.add_argument("--opt", default="-O2", help="optimisation level of the builds")
    ap.add_argument("--python", help="run purewasm's CLI with this interpreter instead")
    ap.add_argument("programs", nargs="*", help="subset of the workloads (default: all)")
    args = ap.parse_args(argv)
    programs = [p for p, o, a in CASES if o == args.opt and not a]
    if args.programs:
        programs = [p for p in programs if p in args.programs or os.path.splitext(p)[0] in args.programs]
    run_purewasm = _cli_runner(args.python) if args.python else harness.run_purewasm
    print("%-18s %11s %11s %9s  %s" % ("program " + args.opt, "wasmtime s", "purewasm s", "ratio", "output"))
    total_w = total_p = 0.0
    for program in programs:
        wasm = build(program, args.opt)
        tw, ref = _best(harness.run_wasmtime, wasm, args.repeat)
        tp, got = _best(run_purewasm, wasm, args.repeat)
        same = (got.stdout, got.stderr, got.code) == (ref.stdout, ref.stderr, ref.code)
        total_w += tw
        total_p += tp
        print("%-18s %11.3f %11.3f %8.1fx  %s" % (program, tw, tp, tp / tw if tw else float("nan"),
                                                  "same" if same else "DIFFERS"))
        sys.stdout.flush()
    if programs:
        print("%-18s %11.3f %11.3f %8.1fx" % ("total", total_w, total_p,
                                              total_p / total_w if total_w else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
