#!/usr/bin/env python3
"""Time to first instruction of a WASI module, cold (no cache) and cached, and peak RSS.

    python scripts/startup_bench.py MODULE.wasm [--runs N] [--replicate K]

Each measurement is a fresh interpreter; the CPU time of the process to that moment is
printed too (steadier than the wall clock on a machine shared with other jobs).
"First instruction" is the moment the module is decoded, validated (or found in the
cache), instantiated with WASI and its ``_start`` is translated (or loaded from the
cache): calling it then runs guest code at once. Loading
and instantiation run as in ``purewasm run`` (garbage collection paused). The cold
runs use no cache; the cached runs use a fresh cache directory filled by one warm-up run
(``purewasm run`` fills it with the functions a run compiles; ``--compile-all`` fills it
as ``purewasm compile`` does). Prints one line per measurement and a summary (medians).

``--replicate K`` measures a larger module made from MODULE: its defined functions
appended K-1 more times (never called, but decoded and validated like any other), e.g.
SQLite's shell (5.6 MB) x16 is a 25 MB module, the size of issue 12's C compiler.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import purewasm
from purewasm.cli import _gc_paused, _load_module
path, cache_dir, compile_all = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
config = purewasm.Config()
if cache_dir:
    config.cache = cache_dir
engine = purewasm.Engine(config)
t_import = time.perf_counter()
with _gc_paused():                    # as 'purewasm run' does
    module = _load_module(engine, path)
t_load = time.perf_counter()
store = purewasm.Store(engine)
linker = purewasm.Linker(engine)
linker.define_wasi()
store.set_wasi(purewasm.WasiConfig())
with _gc_paused():
    instance = linker.instantiate(store, module)
start = instance.exports(store)["_start"]
start._inst.fn.purewasm_realize()     # _start translated (or taken from the cache)
t_first = time.perf_counter()
cpu_first = time.process_time()
if compile_all:
    module._get_compiled().compile_all(skip_errors=True)
if module._cache_handle is not None:
    module._cache_handle.flush()
hwm = 0
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
print(json.dumps({"import": t_import - t0, "load": t_load - t_import,
                  "first_instruction": t_first - t0, "cpu": cpu_first, "peak_rss": hwm}))
"""


_PYCACHE = tempfile.mkdtemp(prefix="purewasm-bench-pyc-")
atexit.register(shutil.rmtree, _PYCACHE, True)


def measure(path: str, cache_dir: str, compile_all: bool = False) -> dict:
    # purewasm's own modules load from .pyc files, as an installed package's do (this
    # environment may forbid writing them next to the sources: then they go elsewhere).
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONPYCACHEPREFIX=_PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", CHILD, path, cache_dir,
                          "1" if compile_all else "0"],
                         env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("module")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replicate", type=int, default=1, metavar="K",
                    help="measure MODULE with its functions repeated K times")
    ap.add_argument("--compile-all", action="store_true",
                    help="warm the cache with every function (as 'purewasm compile')")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.replicate > 1:
            args.module = replicate(args.module, args.replicate, tmp)
        return run(args)


def replicate(path: str, times: int, tmp: str) -> str:
    sys.path.insert(0, ROOT)
    from purewasm.binary import decode_module, encode_module
    with open(path, "rb") as f:
        module = decode_module(f.read())
    module.funcs.extend(list(module.funcs) * (times - 1))
    out = os.path.join(tmp, "%s-x%d.wasm" % (os.path.basename(path)[:-5], times))
    with open(out, "wb") as f:
        f.write(encode_module(module))
    return out


def run(args: argparse.Namespace) -> int:
    size = os.path.getsize(args.module)
    print("module %s, %.1f MB, %s %s" % (os.path.basename(args.module), size / 1e6,
                                        sys.implementation.name, sys.version.split()[0]))
    cold, cached = [], []
    with tempfile.TemporaryDirectory() as cache_dir:
        os.chmod(cache_dir, 0o700)
        measure(args.module, "")         # writes the .pyc files
        warm = measure(args.module, cache_dir, args.compile_all)
        print("warm-up (fills the cache): %.3f s to first instruction" % warm["first_instruction"])
        for _ in range(args.runs):     # alternate, so that machine load hits both alike
            cold.append(measure(args.module, ""))
            cached.append(measure(args.module, cache_dir))
            print("cold   %.3f s (load %.3f s, CPU %.3f s)  peak RSS %5.0f MB  |  cached %.3f s "
                  "(load %.3f s, CPU %.3f s)  peak RSS %5.0f MB"
                  % (cold[-1]["first_instruction"], cold[-1]["load"], cold[-1]["cpu"],
                     cold[-1]["peak_rss"] / 2**20, cached[-1]["first_instruction"],
                     cached[-1]["load"], cached[-1]["cpu"], cached[-1]["peak_rss"] / 2**20))
    def med(runs: list, key: str) -> float:
        return statistics.median(r[key] for r in runs)
    c, h = med(cold, "first_instruction"), med(cached, "first_instruction")
    print("median: cold %.3f s (CPU %.3f s), cached %.3f s (CPU %.3f s) to first instruction: "
          "%.1fx sooner; peak RSS cold %.0f MB, cached %.0f MB (%.1fx / %.1fx the module's size)"
          % (c, med(cold, "cpu"), h, med(cached, "cpu"), c / h,
             med(cold, "peak_rss") / 2**20, med(cached, "peak_rss") / 2**20,
             med(cold, "peak_rss") / size, med(cached, "peak_rss") / size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
