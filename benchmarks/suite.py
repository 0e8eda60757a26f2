"""The benchmark suite: the compute kernels of c/kernels.c (built at -O2 for wasm32-wasi)
under purewasm on each available Python, pywasm and wasmtime, alternating within one run,
and the report docs/benchmarks.md (with a chart, docs/benchmarks.png, when matplotlib is
installed: a dev-only dependency, never a runtime one).

    python benchmarks/suite.py [--reps N] [--quick] [--engines a,b] [--out FILE]
    python benchmarks/suite.py --check        # outputs only, tiny sizes: what CI runs

Engines: wasmtime (the reference), purewasm on every Python found, pywasm, and "Python by
hand": the same kernels written directly in Python (c/kernels.py, the same algorithms and
outputs) on this Python, CPython 3.13 and PyPy. The last is not a Wasm engine: it is the
floor under purewasm on that interpreter (a translator to Python cannot beat the Python a
person would write for the same algorithm), and the report divides purewasm by it.

Method. Every run is a fresh process (`python -m purewasm run`, `python -m pywasm --wasi
preview1`, wasmtime through its Python package), so a time covers everything a user waits
for. Each kernel runs at a size N and at a tiny size N0: the difference is the compute time
(start-up, decode, validation and translation of the code that runs at both sizes cancel
out), divided by the difference of the Wasm instructions executed (counted by wasmtime's
fuel, 1 per instruction except nop/drop/block/loop/end/else) gives ns per instruction.
Each engine runs at its own N (wasmtime's is hundreds of times larger, pywasm's tens of
times smaller), so ratios compare ns per instruction. Times are the CPU time of the
child process (user + system, from wait4), the best of --reps runs: on a loaded machine
wall time measures the neighbours. Peak RSS is the child's, at size N.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
# benchmarks/programs.py would shadow the tests' `programs` package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

# kernel -> (what it stresses, tiny N0, N for purewasm on CPython, on PyPy, for pywasm,
# for wasmtime): sizes for roughly a second of compute each.
KERNELS: Dict[str, Tuple[str, int, int, int, int, int]] = {
    "sha256": ("i32 loads/stores, rotations", 1, 300, 30000, 3, 100000),
    "matmul": ("f64 loads/stores, f64 arithmetic", 4, 150, 400, 24, 800),
    "fib": ("direct calls, recursion", 5, 32, 35, 21, 40),
    "sort": ("qsort: indirect calls to the comparator", 10, 40000, 480000, 400, 5000000),
    "vm": ("a switch lowered to br_table", 10, 100000, 6000000, 1000, 30000000),
    "xorshift": ("i64 arithmetic (values above 2^63)", 10, 4000000, 500000000, 10000,
                 300000000),
}
# GNU time reports a child's own peak RSS (wait4's includes what a child inherits from
# this process at fork and exec).
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
QUICK_DIVISOR = 4
PYPY_LABEL = "PyPy 3"
HAND_LABEL = "Python by hand, "
HAND_KERNELS = os.path.join(HERE, "c", "kernels.py")
# Python by hand on PyPy where purewasm's PyPy size would take minutes: xorshift's i64
# values above 2**63 are bignums in plain Python on PyPy (purewasm computes them as signed
# machine words, compile/ops_pypy.py).
HAND_PYPY_SIZES = {"xorshift": 8000000}


def pythons() -> List[Tuple[str, str]]:
    """(label, interpreter) for purewasm: this Python, pyenv's 3.9-3.13 and pypy3."""
    found: List[Tuple[str, str]] = []
    seen = set()

    def add(label: str, exe: Optional[str]) -> None:
        if exe and os.path.exists(exe) and os.path.realpath(exe) not in seen:
            seen.add(os.path.realpath(exe))
            found.append((label, exe))
    add("CPython %d.%d" % sys.version_info[:2], sys.executable)
    root = None
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = None
    if root and os.path.isdir(os.path.join(root, "versions")):
        for minor in (9, 10, 11, 12, 13):
            for version in sorted(os.listdir(os.path.join(root, "versions"))):
                if version.startswith("3.%d." % minor):
                    add("CPython 3.%d" % minor, os.path.join(root, "versions", version,
                                                            "bin", "python3.%d" % minor))
                    break
    add(PYPY_LABEL, shutil.which("pypy3"))
    found.sort(key=lambda lp: (lp[0].startswith("PyPy"),
                               [int(x) for x in lp[0].split()[-1].split(".") if x.isdigit()]))
    return found


def build() -> str:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from programs import harness
    return harness.build("kernels.c", "-O2", src_dir=os.path.join(HERE, "c"))


def count_instructions(wasm: str, kernel: str, n: int) -> int:
    """Wasm instructions executed by ``kernels KERNEL N`` (wasmtime's fuel)."""
    import wasmtime
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    start = 1 << 62
    store.set_fuel(start)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["kernels", kernel, str(n)]
    store.set_wasi(wasi)
    inst = linker.instantiate(store, wasmtime.Module.from_file(engine, wasm))
    try:
        inst.exports(store)["_start"](store)
    except wasmtime.ExitTrap:
        pass
    return start - store.get_fuel()


def _wasmtime_main(argv: Sequence[str]) -> int:
    """``suite.py --run-wasmtime FILE ARGS...``: run a WASI program with wasmtime's Python
    package (stdout inherited), as the reference engine of the suite."""
    import wasmtime
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["kernels"] + list(argv[1:])
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    inst = linker.instantiate(store, wasmtime.Module.from_file(engine, argv[0]))
    try:
        inst.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exc:
        return exc.code
    return 0


class Engine:
    def __init__(self, label: str, kind: str, argv: List[str], env: Dict[str, str]) -> None:
        self.label = label
        # "purewasm", "pywasm", "wasmtime" or "python" (the kernels written in Python,
        # c/kernels.py, run at purewasm's N on the same interpreter): which N to use
        self.kind = kind
        self.argv = argv
        self.env = env

    def size(self, kernel: str) -> int:
        _, _, ours, pypy, py, wt = KERNELS[kernel]
        if self.kind == "python" and self.label.endswith(PYPY_LABEL):
            return HAND_PYPY_SIZES.get(kernel, pypy)
        if self.kind in ("purewasm", "python") and self.label.endswith(PYPY_LABEL):
            return pypy
        return {"purewasm": ours, "python": ours, "pywasm": py, "wasmtime": wt}[self.kind]

    def run(self, wasm: str, kernel: str, n: int) -> Tuple[float, float, int, bytes]:
        """(CPU seconds, wall seconds, peak RSS in KiB, stdout) of one run."""
        if self.kind == "pywasm":
            cmd = self.argv + ["--wasi-args", kernel, "--wasi-args", str(n), wasm]
        elif self.kind == "python":
            cmd = self.argv + [kernel, str(n)]
        else:
            cmd = self.argv + [wasm, kernel, str(n)]
        if GNU_TIME:
            cmd = [GNU_TIME, "-f", "SUITE_PEAK_RSS_KB %M"] + cmd
        start = time.perf_counter()
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=self.env)
            out = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
            err.seek(0)
            errors = err.read()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status) \
            if hasattr(os, "waitstatus_to_exitcode") else status >> 8
        rss = usage.ru_maxrss
        lines = errors.strip().splitlines()
        if GNU_TIME and lines and lines[-1].startswith(b"SUITE_PEAK_RSS_KB "):
            rss = int(lines.pop().split()[1])
            errors = b"\n".join(lines)
        if proc.returncode:
            # A failed run is reported, never timed.
            tail = errors.strip().splitlines()[-1:] or [b""]
            out += b" [exit %d: %s]" % (proc.returncode, tail[0][:200])
            return math.inf, math.inf, 0, out
        return usage.ru_utime + usage.ru_stime, wall, rss, out


def engines(selected: Optional[List[str]]) -> List[Engine]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = [Engine("wasmtime", "wasmtime", [sys.executable, os.path.abspath(__file__),
                                           "--run-wasmtime"], env)]
    found = pythons()
    for label, exe in found:
        out.append(Engine("purewasm " + label, "purewasm", [exe, "-m", "purewasm", "run"],
                          env))
    # The same kernels written in Python, on this Python, the newest CPython and PyPy: the
    # floor under purewasm's ratios on each (a translator cannot beat the Python a person
    # would write for the same algorithm).
    hand = {"CPython %d.%d" % sys.version_info[:2], "CPython 3.13", PYPY_LABEL}
    for label, exe in found:
        if label in hand:
            out.append(Engine(HAND_LABEL + label, "python", [exe, HAND_KERNELS], env))
    try:
        import pywasm  # noqa: F401
        out.append(Engine("pywasm (CPython %d.%d)" % sys.version_info[:2], "pywasm",
                          [sys.executable, "-m", "pywasm", "--wasi", "preview1"], env))
    except ImportError:
        pass
    if selected:
        out = [e for e in out if any(s.lower() in e.label.lower() for s in selected)
               or e.kind == "wasmtime"]
    return out


def check(wasm: str) -> int:
    return 1 if check_outputs(wasm) else 0


def check_outputs(wasm: str) -> List[str]:
    """Every kernel at a tiny size under purewasm (this Python) and wasmtime: the same
    output. No timing."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    ours = Engine("purewasm", "purewasm", [sys.executable, "-m", "purewasm", "run"], env)
    hand = Engine(HAND_LABEL, "python", [sys.executable, HAND_KERNELS], env)
    ref = engines(["wasmtime"])[0]
    bad = []
    for kernel, (_, n0, *_sizes) in KERNELS.items():
        b = ref.run(wasm, kernel, n0 + 2)[3]
        for e in (ours, hand):
            a = e.run(wasm, kernel, n0 + 2)[3]
            print("%-10s %-18s %s" % (kernel, e.label.rstrip(", "),
                                      "same" if a == b and a else "DIFFERS %r %r" % (a, b)))
            if a != b or not a:
                bad.append("%s (%s)" % (kernel, e.label.rstrip(", ")))
    return bad


def geomean(xs: Sequence[float]) -> float:
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def measure(wasm: str, engs: List[Engine], reps: int, quick: bool
            ) -> Dict[Tuple[str, str], Dict[str, object]]:
    counts: Dict[Tuple[str, int], int] = {}
    results: Dict[Tuple[str, str], Dict[str, object]] = {}
    for kernel, (_, n0, *_sizes) in KERNELS.items():
        for e in engs:
            n = e.size(kernel)
            if quick:
                n = max(n0 + 1, n // QUICK_DIVISOR) if kernel != "fib" else n - 2
            for size in (n0, n):
                if (kernel, size) not in counts:
                    counts[(kernel, size)] = count_instructions(wasm, kernel, size)
            results[(kernel, e.label)] = {"n": n, "n0": n0, "cpu": math.inf, "cpu0": math.inf,
                                          "wall": math.inf, "rss": 0, "out": None,
                                          "instrs": counts[(kernel, n)] - counts[(kernel, n0)]}
    for rep in range(reps):
        for kernel in KERNELS:
            for e in engs:
                r = results[(kernel, e.label)]
                cpu0, _, _, _ = e.run(wasm, kernel, int(r["n0"]))  # type: ignore[call-overload]
                cpu, wall, rss, out = e.run(wasm, kernel, int(r["n"]))  # type: ignore[call-overload]
                r["cpu0"] = min(r["cpu0"], cpu0)  # type: ignore[type-var]
                r["cpu"] = min(r["cpu"], cpu)  # type: ignore[type-var]
                r["wall"] = min(r["wall"], wall)  # type: ignore[type-var]
                r["rss"] = max(r["rss"], rss)  # type: ignore[type-var]
                if r["out"] is None or math.isfinite(cpu):
                    r["out"] = out
                print("rep %d %-9s %-26s N=%-9d cpu %7.3f s (N0 %6.3f s) wall %7.3f s %s" % (
                    rep + 1, kernel, e.label, r["n"], cpu, cpu0, wall,
                    out.strip().decode(errors="replace")[:40]), flush=True)
    for r in results.values():
        r["ns"] = max(float(r["cpu"]) - float(r["cpu0"]), 1e-9) * 1e9 / max(int(r["instrs"]), 1)  # type: ignore[call-overload]
        if not math.isfinite(float(r["cpu"])):  # type: ignore[arg-type]
            r["ns"] = math.nan
    return results


def _purewasm_differences(results: Dict[Tuple[str, str], Dict[str, object]],
                          engs: List[Engine]) -> List[str]:
    bad = []
    for k in KERNELS:
        by_size: Dict[object, set] = {}
        for e in engs:
            r = results[(k, e.label)]
            if e.kind in ("purewasm", "python") and math.isfinite(float(r["cpu"])):  # type: ignore[arg-type]
                by_size.setdefault(r["n"], set()).add(r["out"])
        if any(len(outs) > 1 for outs in by_size.values()):
            bad.append(k)
    return bad


def report(results: Dict[Tuple[str, str], Dict[str, object]], engs: List[Engine],
           reps: int, elapsed: float, chart: Optional[str], check_verdict: str) -> str:
    lines: List[str] = []
    add = lines.append
    ref = "wasmtime"
    pyw = next((e.label for e in engs if e.kind == "pywasm"), None)
    add("## Compute: the kernels of benchmarks/c/kernels.c")
    add("")
    add("Written by `python benchmarks/suite.py` (%d alternating repetitions, %.0f s, %s); "
        "method in its docstring. ns/instr: CPU time of the kernel (size N minus a tiny "
        "size) per Wasm instruction executed; ×wasmtime: that over wasmtime's; "
        "÷pywasm: how many times faster than pywasm." % (
            reps, elapsed, time.strftime("%Y-%m-%d", time.gmtime())))
    add("")
    add("| kernel | stresses | engine | N | instructions | CPU s | ns/instr | ×wasmtime | "
        "÷pywasm | peak RSS MB |")
    add("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for kernel, (what, *_rest) in KERNELS.items():
        base = float(results[(kernel, ref)]["ns"])  # type: ignore[arg-type]
        pyns = float(results[(kernel, pyw)]["ns"]) if pyw else math.nan  # type: ignore[arg-type]
        for e in engs:
            r = results[(kernel, e.label)]
            ns = float(r["ns"])  # type: ignore[arg-type]
            add("| %s | %s | %s | %d | %d | %.2f | %s | %s | %s | %.0f |" % (
                kernel, what, e.label, r["n"], r["instrs"], r["cpu"],
                "%.3f" % ns if ns < 1 else "%.1f" % ns,
                "%.0f" % (ns / base) if e.kind != "wasmtime" else "1",
                "%.0f" % (pyns / ns) if e.kind == "purewasm" and pyw else "",
                int(r["rss"]) / 1024))  # type: ignore[call-overload]
    add("")
    add("Geometric means over the kernels (ns/instr ratios):")
    add("")
    add("| engine | ×wasmtime | ÷pywasm | worst kernel ×wasmtime |")
    add("|---|---:|---:|---|")
    for e in engs:
        if e.kind == "wasmtime":
            continue
        ratios = {k: float(results[(k, e.label)]["ns"]) / float(results[(k, ref)]["ns"])  # type: ignore[arg-type]
                  for k in KERNELS}
        worst = max(ratios, key=lambda k: ratios[k])
        vs_py = geomean([float(results[(k, pyw)]["ns"]) / float(results[(k, e.label)]["ns"])  # type: ignore[arg-type]
                         for k in KERNELS]) if pyw and e.kind == "purewasm" else math.nan
        add("| %s | %.0f | %s | %s (%.0f) |" % (e.label, geomean(list(ratios.values())),
                                                "%.0f" % vs_py if vs_py == vs_py else "",
                                                worst, ratios[worst]))
    add("")
    floor = floor_table(results, engs)
    if floor:
        lines.extend(floor)
    add("Outputs: at a small size every kernel printed the same under purewasm, in Python "
        "by hand and under wasmtime (`suite.py --check`: %s); at size N, the purewasm and "
        "by-hand runs of a kernel at the same N printed %s." % (
            check_verdict,
            "the same on every Python" if not _purewasm_differences(results, engs)
            else "DIFFERENT outputs: %s" % ", ".join(_purewasm_differences(results, engs))))
    failed = sorted({"%s under %s" % (k, e.label) for k in KERNELS for e in engs
                     if not math.isfinite(float(results[(k, e.label)]["cpu"]))})  # type: ignore[arg-type]
    if failed:
        add("")
        add("Runs that failed in every repetition (no time): %s." % "; ".join(failed))
    if chart:
        add("")
        add("![ns per Wasm instruction, log scale](%s)" % os.path.basename(chart))
    add("")
    return "\n".join(lines)


def floor_table(results: Dict[Tuple[str, str], Dict[str, object]], engs: List[Engine]
                ) -> List[str]:
    """purewasm against the kernels written in Python on the same interpreter: how far the
    translated code is from the floor a translator to Python cannot go below."""
    pairs = []
    for hand in engs:
        if hand.kind != "python":
            continue
        same = "purewasm " + hand.label[len(HAND_LABEL):]
        if any(e.label == same for e in engs):
            pairs.append((same, hand.label))
    if not pairs:
        return []
    out = ["purewasm over the same kernels written in Python, on the same interpreter "
           "(ns/instr ratio; 1 would be as fast as the hand-written Python; below 1, "
           "faster):", "",
           "| interpreter | %s | geometric mean |" % " | ".join(KERNELS),
           "|---|%s---:|" % ("---:|" * len(KERNELS))]
    for ours, hand in pairs:
        ratios = [float(results[(k, ours)]["ns"]) / float(results[(k, hand)]["ns"])  # type: ignore[arg-type]
                  for k in KERNELS]
        out.append("| %s | %s | %.2f |" % (hand[len(HAND_LABEL):], " | ".join(
            "%.2f" % r for r in ratios), geomean(ratios)))
    out.append("")
    return out


def draw(results: Dict[Tuple[str, str], Dict[str, object]], engs: List[Engine],
         path: str) -> Optional[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return draw_svg(results, engs, os.path.splitext(path)[0] + ".svg")
    kernels = list(KERNELS)
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.8 / len(engs)
    for i, e in enumerate(engs):
        ys = [float(results[(k, e.label)]["ns"]) for k in kernels]  # type: ignore[arg-type]
        ax.bar([j + i * width for j in range(len(kernels))], ys, width, label=e.label)
    ax.set_yscale("log")
    ax.set_ylabel("ns per Wasm instruction (log scale; lower is faster)")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(kernels))])
    ax.set_xticklabels(kernels)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def draw_svg(results: Dict[Tuple[str, str], Dict[str, object]], engs: List[Engine],
             path: str) -> str:
    """The chart without matplotlib: horizontal bars, log scale, one group per kernel."""
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    bar, gap, left, width = 12, 14, 200, 560
    values = [float(results[(k, e.label)]["ns"]) for k in KERNELS for e in engs]  # type: ignore[arg-type]
    finite = [v for v in values if v > 0 and math.isfinite(v)] or [1.0]
    lo, hi = math.floor(math.log10(min(finite))), math.ceil(math.log10(max(finite)))
    hi = max(hi, lo + 1)

    def x(v: float) -> float:
        return left + width * (math.log10(v) - lo) / (hi - lo)
    out = []
    y = 30
    for k in KERNELS:
        out.append('<text x="5" y="%d" font-weight="bold">%s</text>' % (y + bar, k))
        y += bar + 4
        for i, e in enumerate(engs):
            v = float(results[(k, e.label)]["ns"])  # type: ignore[arg-type]
            if v > 0 and math.isfinite(v):
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (
                    left, y, max(x(v) - left, 1), bar - 2, colours[i % len(colours)]))
                out.append('<text x="%.1f" y="%d" font-size="10">%.3g</text>' % (
                    x(v) + 3, y + bar - 3, v))
            out.append('<text x="15" y="%d" font-size="10">%s</text>' % (y + bar - 3, e.label))
            y += bar
        y += gap
    for p in range(lo, hi + 1):
        out.append('<line x1="%.1f" y1="20" x2="%.1f" y2="%d" stroke="#ccc"/>' % (
            x(10 ** p), x(10 ** p), y))
        out.append('<text x="%.1f" y="%d" font-size="10">%g</text>' % (x(10 ** p) - 8, y + 12,
                                                                       10 ** p))
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">\n'
           '<text x="5" y="14">ns per Wasm instruction (log scale; shorter is faster)</text>\n'
           '%s\n</svg>\n' % (left + width + 60, y + 20, "\n".join(out)))
    with open(path, "w") as f:
        f.write(svg)
    return path


def write_doc(section: str, path: str) -> None:
    """Replace the "Compute" section of ``path`` (up to the next "## " heading), keeping
    the rest (the start-up section, the optimisation log)."""
    marker = "## Compute: the kernels of benchmarks/c/kernels.c"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    if marker in text:
        head, rest = text.split(marker, 1)
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1:] if nxt >= 0 else ""
        text = head + section + "\n" + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)


def main(argv: List[str]) -> int:
    if argv[:1] == ["--run-wasmtime"]:
        return _wasmtime_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2, help="alternating repetitions")
    ap.add_argument("--quick", action="store_true", help="sizes / %d" % QUICK_DIVISOR)
    ap.add_argument("--engines", help="comma-separated substrings of engine labels")
    ap.add_argument("--out", default=DOC, help="the report (its Compute section is replaced)")
    ap.add_argument("--no-write", action="store_true", help="print the report only")
    ap.add_argument("--check", action="store_true", help="outputs at tiny sizes, no timing")
    ap.add_argument("--from-json", metavar="FILE",
                    help="re-render the report from a previous run's raw results")
    args = ap.parse_args(argv)
    engs = engines(args.engines.split(",") if args.engines else None)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        labels = saved["engines"]
        engs = [e for e in engs if e.label in labels]
        results = {(k, label): r for k, label, r in saved["results"]}
        verdict, elapsed, args.reps = saved["verdict"], saved["elapsed"], saved["reps"]
    else:
        wasm = build()
        if args.check:
            return check(wasm)
        bad = check_outputs(wasm)
        verdict = "all the same" if not bad else "DIFFERENT for " + ", ".join(bad)
        start = time.perf_counter()
        results = measure(wasm, engs, args.reps, args.quick)
        elapsed = time.perf_counter() - start
        if not args.no_write:
            for r in results.values():
                r["out"] = (r["out"] or b"").decode(errors="replace")  # type: ignore[attr-defined]
            with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
                json.dump({"engines": [e.label for e in engs], "verdict": verdict,
                           "elapsed": elapsed, "reps": args.reps,
                           "results": [[k, label, r] for (k, label), r in results.items()]},
                          f, indent=1)
    chart = None
    if not args.no_write:
        chart = draw(results, engs, os.path.splitext(args.out)[0] + ".png")
    section = report(results, engs, args.reps, elapsed, chart, verdict)
    print(section)
    if not args.no_write:
        write_doc(section, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
