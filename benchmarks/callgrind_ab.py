"""Deterministic A/B of two purewasm source trees on the compute kernels: CPU instructions
counted by valgrind's callgrind (Ir), not time, so that other jobs on the machine do not
move the result (compare.py's CPU times moved by ±20% on a control kernel here).

Per tree and kernel, one process runs ``kernels K N0`` then ``kernels K N`` and another
``kernels K N0`` twice (same imports, translation and warm-up); the difference is the
instructions of the work between N0 and N. Under callgrind CPython runs ~100x slower:
use small sizes (a pair of runs takes 1-3 minutes).

The children run in the temporary directory: ``python -c`` puts the current directory
first on sys.path, which would otherwise shadow both trees with the caller's checkout.

    python benchmarks/callgrind_ab.py OLD_TREE NEW_TREE [--python EXE]
                                      [--kernels sha256:1:3,vm:1000:20000]

Instructions are a proxy for time: they do not see cache misses or branch mispredictions.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

DEFAULT = ("sha256:1:3,matmul:8:24,fib:12:18,sort:500:3000,vm:1000:20000,"
           "xorshift:1000:40000")

CHILD = r"""
import sys
import purewasm
wasm, kernel = sys.argv[1], sys.argv[2]
engine = purewasm.Engine()
module = purewasm.Module.from_file(engine, wasm)
for size in sys.argv[3:]:
    store = purewasm.Store(engine)
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    cfg = purewasm.WasiConfig()
    cfg.argv = ["kernels", kernel, size]
    store.set_wasi(cfg)
    start = linker.instantiate(store, module).exports(store)["_start"]
    try:
        start(store)
    except purewasm.ExitTrap:
        pass
"""


def instructions(python: str, tree: str, wasm: str, kernel: str, sizes: List[str]) -> int:
    tree = os.path.abspath(tree)
    fd, out = tempfile.mkstemp(suffix=".callgrind")
    os.close(fd)
    try:
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                               python, "-c", CHILD, wasm, kernel] + sizes,
                              capture_output=True, text=True, cwd=tree,
                              # cwd: `python -c` puts it first on sys.path, before PYTHONPATH
                              env=dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0"))
    finally:
        os.unlink(out)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode or m is None:
        raise SystemExit("%s failed under %s:\n%s" % (kernel, tree, proc.stderr[-2000:]))
    return int(m.group(1))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--kernels", default=DEFAULT, help="NAME:N0:N,... (default %(default)s)")
    args = ap.parse_args(argv)
    # The interpreter itself, not a wrapper script (valgrind does not follow exec).
    python = subprocess.run([args.python, "-c", "import sys; print(sys.executable)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
    sys.path.insert(0, HERE)
    from suite import build
    wasm = build()
    print("%s, instructions (callgrind Ir) between sizes N0 and N" % python)
    print("%-20s %12s %12s %8s" % ("kernel N0->N", "old", "new", "old/new"))
    for spec in args.kernels.split(","):
        kernel, n0, n = spec.split(":")
        counts = [instructions(python, tree, wasm, kernel, [n0, n])
                  - instructions(python, tree, wasm, kernel, [n0, n0])
                  for tree in (args.old, args.new)]
        print("%-20s %12d %12d %7.3fx" % ("%s %s->%s" % (kernel, n0, n), counts[0], counts[1],
                                          counts[0] / counts[1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
