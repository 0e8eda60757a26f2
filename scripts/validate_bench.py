#!/usr/bin/env python3
"""Decode + validate throughput, in MB/s of code (issue 12's target: >= 10 MB/s on
CPython 3.11): bodies validated from the bytes (``decode_and_validate``, what loading a
binary does) against every body decoded into instructions and validated
(``validate_module(decode_module(data))``), alternating in one process.

    python scripts/validate_bench.py MODULE.wasm [--runs N]

CPU time (``time.process_time``), best of N; the collector paused as ``purewasm run``
loads. "Code" is the code section's size (custom sections such as DWARF excluded).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from typing import Callable, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from purewasm.binary import decode_module  # noqa: E402
from purewasm.binary.leb128 import read_len32  # noqa: E402
from purewasm.binary.sections import Section  # noqa: E402
from purewasm.validate import decode_and_validate, validate_module  # noqa: E402


def code_size(data: bytes) -> int:
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, p = read_len32(data, pos + 1)
        if sid == Section.CODE:
            return size
        pos = p + size
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("module")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with open(args.module, "rb") as f:
        data = f.read()
    code = code_size(data)
    ways: Dict[str, Callable[[], object]] = {
        "instruction lists": lambda: validate_module(decode_module(data)),
        "from the bytes": lambda: decode_and_validate(data),
    }
    best: Dict[str, List[float]] = {name: [] for name in ways}
    gc.disable()
    for _ in range(args.runs):
        for name, way in ways.items():
            t = time.process_time()
            way()
            best[name].append(time.process_time() - t)
            gc.collect()
    print("%s: %.1f MB, code %.2f MB; %s %s" % (os.path.basename(args.module), len(data) / 1e6,
                                               code / 1e6, sys.implementation.name,
                                               sys.version.split()[0]))
    for name, times in best.items():
        print("  %-18s %.3f s  %.2f MB/s of code" % (name, min(times), code / 1e6 / min(times)))
    print("  from the bytes is %.2fx faster"
          % (min(best["instruction lists"]) / min(best["from the bytes"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
