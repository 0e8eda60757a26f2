"""A/B of two purewasm source trees on the compute kernels, for the optimisation log of
docs/benchmarks.md: each kernel runs in a fresh process per tree, alternating, and the
CPU time of `_start` alone is kept (the module is translated by a first, untimed run in
the same process, so translation is excluded), best of all runs.

    python benchmarks/compare.py OLD_TREE NEW_TREE [--python EXE] [--rounds 3]
                                 [--kernels sha256:100,fib:25]

A tree is a directory holding the `purewasm` package (e.g. `git worktree add /tmp/old
HEAD~1`, or `git archive HEAD~1 purewasm | tar -x -C /tmp/old`).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

DEFAULT = "sha256:100,matmul:60,fib:25,sort:20000,vm:50000,xorshift:500000"

# Run inside the child: `python -c CHILD WASM KERNEL N RUNS` prints the best CPU time.
CHILD = r"""
import sys, time
import purewasm
wasm, kernel, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
engine = purewasm.Engine()
module = purewasm.Module.from_file(engine, wasm)
best = None
for r in range(runs + 1):
    store = purewasm.Store(engine)
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    cfg = purewasm.WasiConfig()
    cfg.argv = ["kernels", kernel, n]
    store.set_wasi(cfg)
    start = linker.instantiate(store, module).exports(store)["_start"]
    t = time.process_time()
    try:
        start(store)
    except purewasm.ExitTrap:
        pass
    t = time.process_time() - t
    if r:   # the first run translates the functions
        best = t if best is None else min(best, t)
print(best)
"""


def run(python: str, tree: str, wasm: str, kernel: str, n: str, runs: int) -> float:
    tree = os.path.abspath(tree)
    # cwd=tree: `python -c` puts the working directory first on sys.path, before
    # PYTHONPATH (run from inside a source tree, both sides would import that tree).
    proc = subprocess.run([python, "-c", CHILD, wasm, kernel, n, str(runs)],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=tree),
                          cwd=tree)
    if proc.returncode:
        raise SystemExit("%s failed under %s:\n%s" % (kernel, tree, proc.stderr[-2000:]))
    return float(proc.stdout.split()[-1])


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=3, help="alternations of the two trees")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per process")
    ap.add_argument("--kernels", default=DEFAULT, help="NAME:N,... (default %(default)s)")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
    sys.path.insert(0, HERE)
    from suite import build
    wasm = build()
    kernels = [tuple(k.split(":")) for k in args.kernels.split(",")]
    best: Dict[Tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for kernel, n in kernels:
            for tree in (args.old, args.new):
                t = run(args.python, tree, wasm, kernel, n, args.runs)
                best[(kernel, tree)] = min(best.get((kernel, tree), t), t)
    print("%s" % subprocess.run([args.python, "--version"], capture_output=True,
                                text=True).stdout.strip())
    print("%-10s %10s %10s %9s" % ("kernel", "old s", "new s", "speed-up"))
    for kernel, n in kernels:
        old, new = best[(kernel, args.old)], best[(kernel, args.new)]
        print("%-10s %10.3f %10.3f %8.2fx" % ("%s %s" % (kernel, n), old, new, old / new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
