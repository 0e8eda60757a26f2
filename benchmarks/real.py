"""Real programs of several MB (tests/realprograms: SQLite, Lua, zlib, yyjson, PCRE2, a C++
and a Zig program, built at -O2), whole runs under wasmtime and purewasm, in one run.

    python benchmarks/real.py [--big] [--python EXE ...] [--reps N] [--no-write] [IDENT ...]

Every run is a fresh process, as a user runs a program: wasmtime through its Python
package (compiling the module with Cranelift, its cache off, then running `_start`),
purewasm as `EXE -m purewasm run` without its compiled-code cache (cold: decode, validate,
translate what runs) and with it (cached: after one warming run). Times are CPU time of
the child (user + system, wait4), the best of --reps; peak RSS is the child's. Outputs
(exit status, stdout, stderr, files written) must equal wasmtime's, else the row says so.
At these sizes start-up is a large part of the time: the compute ratios are in the
"Compute" section. --big adds the long inputs of the opt-in matrix (minutes each).

Writes the "Real programs" section of docs/benchmarks.md (unless --no-write).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.join(ROOT, "tests", "realprograms"))
sys.path.insert(0, ROOT)

import realprograms as rp  # noqa: E402

HEADING = "## Real programs"
DEFAULT = ["sqlite-mem", "sqlite-file", "lua-bench", "zlib-example", "minigzip-compress",
           "minigzip-decompress", "yyjson", "pcre2test-1", "alloc_churn", "stl_dispatch",
           "zig_std"]
BIG = ["sqlite-mem-big", "lua-bench-big", "minigzip-stdio-big", "yyjson-big",
       "alloc_churn-big", "stl_dispatch-big", "zig_std-big"]


def _wasmtime_main(argv: List[str]) -> int:
    """Child process: compile and run one module under wasmtime (argv: wasm, tmp, args)."""
    import wasmtime
    cached, wasm, tmp, dirs, args = argv[0] == "cached", argv[1], argv[2], argv[3], argv[4:]
    config = wasmtime.Config()
    if cached:   # its default cache directory; without it, no compilation cache (the default)
        config.cache = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, wasm)
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    cfg = wasmtime.WasiConfig()
    cfg.argv = [rp.ARGV0] + args
    cfg.stdin_file = os.path.join(tmp, "stdin")
    cfg.stdout_file = os.path.join(tmp, "stdout")
    cfg.stderr_file = os.path.join(tmp, "stderr")
    for pair in filter(None, dirs.split("\n")):
        host, guest = pair.split("::")
        cfg.preopen_dir(host, guest)
    store.set_wasi(cfg)
    try:
        linker.instantiate(store, module).exports(store)["_start"](store)
    except wasmtime.ExitTrap as exc:
        return exc.code
    return 0


class Measured:
    def __init__(self, cpu: float, rss_mb: float, key: Tuple) -> None:
        self.cpu, self.rss_mb, self.key = cpu, rss_mb, key


def _child(cmd: List[str], tmp: str, stdin: bytes, env: Dict[str, str]) -> Tuple[float, float, int]:
    """Run ``cmd`` in ``tmp``: (CPU seconds, peak RSS MB, exit status)."""
    with open(os.path.join(tmp, "stdin"), "wb") as f:
        f.write(stdin)
    with open(os.path.join(tmp, "stdin"), "rb") as fin, \
            open(os.path.join(tmp, "out"), "wb") as fout, \
            open(os.path.join(tmp, "err"), "wb") as ferr:
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, cwd=tmp, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (status >> 8)
    rss = usage.ru_maxrss / 1024.0 if sys.platform != "darwin" else usage.ru_maxrss / 2 ** 20
    return usage.ru_utime + usage.ru_stime, rss, code


def measure(engine: str, wasm: str, run: "rp.Run", python: Optional[str] = None,
            cache_dir: Optional[str] = None, cached: bool = False) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        dirs = rp._setup(run, tmp)
        env = dict(os.environ, PYTHONPATH=ROOT)
        if engine == "wasmtime":
            cmd = [sys.executable, os.path.abspath(__file__), "--run-wasmtime",
                   "cached" if cached else "cold", wasm, tmp,
                   "\n".join("%s::%s" % d for d in dirs)] + run.argv
            cpu, rss, code = _child(cmd, tmp, run.stdin, env)
            out, err = (rp._read(os.path.join(tmp, n)) for n in ("stdout", "stderr"))
        else:
            cmd = [python or sys.executable, "-m", "purewasm", "run"]
            if cache_dir is None:
                cmd.append("--no-cache")
            else:
                env["PUREWASM_CACHE_DIR"] = cache_dir
            for host, guest in dirs:
                cmd += ["--dir", "%s::%s" % (host, guest)]
            os.symlink(wasm, os.path.join(tmp, rp.ARGV0))
            cmd += [rp.ARGV0] + run.argv
            cpu, rss, code = _child(cmd, tmp, run.stdin, env)
            out, err = (rp._read(os.path.join(tmp, n)) for n in ("out", "err"))
        return Measured(cpu, rss, (code, out, err, rp.snapshot(os.path.join(tmp, "work"))))


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--run-wasmtime"]:
        return _wasmtime_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="add the long inputs")
    ap.add_argument("--python", action="append",
                    help="interpreter(s) for purewasm (default: this one)")
    ap.add_argument("--reps", type=int, default=1, help="runs per engine; best kept")
    ap.add_argument("--no-write", action="store_true", help="print the section only")
    ap.add_argument("idents", nargs="*", help="a subset (idents of tests/realprograms)")
    args = ap.parse_args(argv)
    idents = args.idents or DEFAULT + (BIG if args.big else [])
    pythons = args.python or [sys.executable]
    rows = []
    start = time.time()
    with tempfile.TemporaryDirectory() as cache_root:
        for ident in idents:
            run = rp.RUNS[ident]
            wasm = rp.build(run.program, "-O2")
            best: Dict[str, Measured] = {}
            measure("wasmtime", wasm, run, cached=True)   # warms wasmtime's cache
            for _ in range(args.reps):
                for cached in (False, True):
                    m = measure("wasmtime", wasm, run, cached=cached)
                    label = "wasmtime cached" if cached else "wasmtime"
                    if label not in best or m.cpu < best[label].cpu:
                        best[label] = m
            engines: List[Tuple[str, Optional[str], Optional[str]]] = []
            for py in pythons:
                cache = os.path.join(cache_root, os.path.basename(py))
                measure("purewasm", wasm, run, py, cache)  # warms the cache
                engines += [("cold", py, None), ("cached", py, cache)]
            for _ in range(args.reps):
                for name, py, cache in engines:
                    m = measure("purewasm", wasm, run, py, cache)
                    label = "%s %s" % (name, py)
                    if label not in best or m.cpu < best[label].cpu:
                        best[label] = m
            ref, ref_c = best["wasmtime"], best["wasmtime cached"]
            for py in pythons:
                cold, warm = best["cold %s" % py], best["cached %s" % py]
                same = "same" if cold.key == ref.key == warm.key == ref_c.key else "DIFFERS"
                rows.append((ident, os.path.getsize(wasm), _label(py), ref, ref_c, cold, warm,
                             same))
                print("%-20s %-14s wasmtime %6.2f / %6.2fs  purewasm %7.2f / %7.2fs  %s" % (
                    ident, _label(py), ref.cpu, ref_c.cpu, cold.cpu, warm.cpu, same), flush=True)
    section = render(rows, time.time() - start, args.reps)
    if args.no_write:
        print(section)
    else:
        write_section(section)
    return 0


def _label(python: str) -> str:
    out = subprocess.run([python, "-c", "import platform,sys;print(platform.python_implementation(),"
                          "'%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
    return out.stdout.strip() or python


def _ratio(x: float) -> str:
    return "%.1f" % x if x < 10 else "%.0f" % x


def _gmean(xs: List[float]) -> float:
    import math
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else 0.0


def render(rows: List[Tuple], seconds: float, reps: int) -> str:
    lines = [HEADING, "",
             "Written by `python benchmarks/real.py` (%s, %d s, best of %d; method in its "
             "docstring): whole runs of real third-party programs, CPU time of the process. "
             "purewasm cold: `purewasm run --no-cache`; cached: `purewasm run` after one run. "
             "wasmtime (its Python package) cold: Cranelift compiles the module; cached: the "
             "compiled module comes from its cache (`Config.cache`). Both include starting "
             "Python."
             % (time.strftime("%Y-%m-%d"), seconds, reps), "",
             "| program (-O2) | .wasm MB | purewasm on | wasmtime s cold / cached | "
             "purewasm s cold / cached | ×wasmtime cold / cached | "
             "peak RSS MB purewasm cold / cached | output |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    by_py: Dict[str, List[Tuple[float, float]]] = {}
    for ident, size, py, ref, ref_c, cold, warm, same in rows:
        ratios = (cold.cpu / ref.cpu, warm.cpu / ref_c.cpu)
        lines.append("| %s | %.1f | %s | %.2f / %.2f | %.2f / %.2f | %s / %s | %.0f / %.0f | %s |"
                     % (ident, size / 1e6, py, ref.cpu, ref_c.cpu, cold.cpu, warm.cpu,
                        _ratio(ratios[0]), _ratio(ratios[1]), cold.rss_mb, warm.rss_mb, same))
        by_py.setdefault(py, []).append(ratios)
    lines.append("")
    for py, pairs in by_py.items():
        lines.append("Geometric means, purewasm on %s ×wasmtime: cold %s, cached %s (%d runs)."
                     % (py, _ratio(_gmean([a for a, _ in pairs])),
                        _ratio(_gmean([b for _, b in pairs])), len(pairs)))
    return "\n".join(lines) + "\n"


def write_section(section: str) -> None:
    """Replace the "Real programs" section of docs/benchmarks.md (or add it before
    "Against the targets")."""
    text = open(DOC).read()
    if HEADING in text:
        head, rest = text.split(HEADING, 1)
        nxt = rest.find("\n## ")
        text = head + section + "\n" + (rest[nxt + 1:] if nxt >= 0 else "")
    else:
        anchor = "## Against the targets"
        head, tail = text.split(anchor, 1) if anchor in text else (text, "")
        text = head + section + "\n" + (anchor + tail if tail else "")
    with open(DOC, "w") as f:
        f.write(text)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
