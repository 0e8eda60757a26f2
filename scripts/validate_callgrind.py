#!/usr/bin/env python3
"""Deterministic A/B of decode + validate (``decode_and_validate``) between two purewasm
source trees: CPU instructions counted by valgrind's callgrind, which other jobs on the
machine do not move (the CPU times of validate_bench.py do, by ±20% on a shared machine).

    python scripts/validate_callgrind.py OLD_TREE NEW_TREE MODULE.wasm [--python EXE]

Per tree, one process loads the module twice and another once (same imports and the
tables' first build); the difference is the instructions of one steady-state load.
Under callgrind CPython runs ~50-100x slower: use a module of at most a few MB.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from purewasm.validate import decode_and_validate
data = open(sys.argv[2], "rb").read()
for _ in range(int(sys.argv[3])):
    decode_and_validate(data)
"""


def instructions(python: str, tree: str, module: str, times: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        python, "-c", CHILD, tree, module, str(times)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            for line in f:
                m = re.match(r"summary:\s+(\d+)", line) or re.match(r"totals:\s+(\d+)", line)
                if m:
                    return int(m.group(1))
    raise RuntimeError("no instruction count in callgrind's output")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("module")
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    counts = {}
    for name, tree in (("old", args.old), ("new", args.new)):
        two = instructions(args.python, os.path.abspath(tree), args.module, 2)
        one = instructions(args.python, os.path.abspath(tree), args.module, 1)
        counts[name] = two - one
        print("%s: %.1f M instructions for one decode + validate" % (name, counts[name] / 1e6))
    print("new / old: %.3f (%.2fx fewer)" % (counts["new"] / counts["old"],
                                             counts["old"] / counts["new"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
