"""The long differential campaign (docs/TESTING.md, "The long campaign").

    PYTHONPATH=$PWD nice -n 10 python3 scripts/campaign.py smith --modules 20000 \\
        --workers 2 --out campaign-out
    PYTHONPATH=$PWD python3 scripts/campaign.py crosscheck --out campaign-out
    PYTHONPATH=$PWD python3 scripts/campaign.py fuzz --inputs 200000 --out campaign-out

* ``smith``: modules from ``wasm-tools smith`` in every configuration of
  tests/differential.py (round robin; seeds ``--seed-start`` ...), each run on wasmtime and
  both lowerings of purewasm (tests/differential.check_module). Each mismatch is saved as
  ``OUT/<config>-<seed>.wasm`` with the differences in ``.txt``, and shrunk with
  ``wasm-tools shrink`` (this script as the predicate) into ``.min.wasm``.
* ``crosscheck``: the two lowerings against each other on every module of the spec
  testsuite (edge-value arguments, fuel-bounded) and on the C/Zig programs of
  tests/programs and tests/workloads (whole-program runs: stdout, exit status).
* ``validate``: mutated smith modules through validate/stream.py, the exact validator and
  ``wasm-tools validate`` (Wasm 3.0 and 2.0 proposal sets): the verdicts must agree; and
  mutated bodies of compiled programs (``--programs``, default: examples/ and the test
  build caches) that stream.py's fast reader accepts must pass the exact path
  (tests/validate_mutants.py). Each disagreement is saved to ``OUT/``.
* ``fuzz``: mutated spec modules and .wat texts through the decoder, validator and text
  parser; anything but a purewasm.errors exception escaping is saved to ``OUT/fuzz-*``.
* ``loops``: the random loop generators of the tests, with many more seeds than CI runs:
  tests/test_memory_views_random.py's plain and rich loops (typed views, element and
  temporary indexes) and tests/test_swap_loops.py's swap and copy loops (slices), each
  module run on its plan with the optimisation and without it (every result, trap and
  the final memory must be the same); a module whose plan runs longer than 10 s (the
  generators can make a loop that only ends after 2**32 iterations) is skipped and
  counted. Each mismatch is saved as ``OUT/loops-<kind>-<seed>.wat``.

Each mode ends with one summary line, "N modules, M mismatches" (also appended to
``OUT/summary.txt``, with a progress line every few hundred modules).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import differential as D  # noqa: E402
from purewasm.errors import WasmtimeError  # noqa: E402


def _log(out: str, line: str) -> None:
    print(line, flush=True)
    with open(os.path.join(out, "summary.txt"), "a") as f:
        f.write(time.strftime("%H:%M:%S ") + line + "\n")


# --- smith -----------------------------------------------------------------------------

def _smith_job(job: Tuple[str, int]) -> Tuple[str, int, Optional[str], Any, float]:
    config, seed = job
    t = time.time()
    wasm = D.generate(config, seed)
    if wasm is None:
        return config, seed, "nogen", None, time.time() - t
    try:
        # wasmtime's C API aborts the whole process on some GC modules: in a child.
        found = D.check_module(wasm, seed, isolate_wasmtime=config == "gc")
    except Exception as exc:  # noqa: BLE001 - the harness itself must not stop the run
        found = {"harness": "%s: %s" % (type(exc).__name__, exc)}
    if found is None:
        return config, seed, "refused", None, time.time() - t
    return config, seed, "ok" if not found else "mismatch", found, time.time() - t


def shrink(path: str, seed: int, attempts: int = 300) -> Optional[str]:
    """Shrink the module at ``path`` with wasm-tools shrink, keeping "some difference of
    the same kind" as the property; the result is ``path`` with ``.min.wasm``."""
    out = path[:-5] + ".min.wasm"
    pred = path[:-5] + ".pred.sh"
    with open(pred, "w") as f:
        f.write("#!/bin/sh\ncd %s && PYTHONPATH=%s exec %s %s interesting --seed %d \"$1\"\n"
                % (ROOT, ROOT, sys.executable, os.path.abspath(__file__), seed))
    os.chmod(pred, 0o755)
    r = subprocess.run([D.wasm_tools() or "wasm-tools", "shrink", "--attempts", str(attempts),
                        pred, path, "-o", out], capture_output=True, timeout=1800)
    return out if r.returncode == 0 and os.path.exists(out) else None


def cmd_interesting(args: Any) -> int:
    """Exit 0 when the module still shows a mismatch (the shrink predicate)."""
    with open(args.file, "rb") as f:
        wasm = f.read()
    try:
        found = D.check_module(wasm, args.seed, timeout=20.0,
                               isolate_wasmtime=os.path.basename(args.file).startswith("gc-"))
    except Exception:  # noqa: BLE001 - a harness crash is not the property
        return 1
    return 0 if found else 1


def cmd_smith(args: Any) -> int:
    out = args.out
    os.makedirs(out, exist_ok=True)
    configs = args.configs.split(",") if args.configs else list(D.CONFIGS)
    jobs = [(configs[i % len(configs)], args.seed_start + i // len(configs))
            for i in range(args.modules)]
    counts: Dict[str, Dict[str, int]] = {c: {} for c in configs}
    mismatches: List[Tuple[str, int]] = []
    t0 = time.time()
    deadline = t0 + args.hours * 3600 if args.hours else None
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    results = pool.imap_unordered(_smith_job, jobs, chunksize=4) if pool else map(_smith_job, jobs)
    done = 0
    try:
        for config, seed, status, found, _ in results:
            done += 1
            c = counts[config]
            c[status] = c.get(status, 0) + 1
            if status == "mismatch":
                mismatches.append((config, seed))
                base = os.path.join(out, "%s-%d" % (config, seed))
                with open(base + ".wasm", "wb") as f:
                    f.write(D.generate(config, seed) or b"")
                with open(base + ".txt", "w") as f:
                    json.dump(found, f, indent=1, default=repr)
                _log(out, "MISMATCH %s seed %d: %s" % (config, seed, str(found)[:300]))
            if done % 500 == 0:
                _log(out, "progress %d/%d in %.0f s: %s" % (done, len(jobs), time.time() - t0,
                                                           json.dumps(counts)))
            if deadline and time.time() > deadline:
                _log(out, "time limit reached")
                break
    finally:
        if pool:
            pool.terminate()
    tried = sum(v for c in counts.values() for k, v in c.items() if k in ("ok", "mismatch"))
    _log(out, "per configuration: %s" % json.dumps(counts))
    _log(out, "%d modules, %d mismatches (%d generated inputs, %.0f s)" % (
        tried, len(mismatches), done, time.time() - t0))
    # After the summary: shrinking runs the predicate hundreds of times per module.
    if args.shrink:
        for config, seed in mismatches:
            base = os.path.join(out, "%s-%d" % (config, seed))
            small = shrink(base + ".wasm", seed)
            _log(out, "shrunk %s -> %s" % (base + ".wasm", small))
    return 1 if mismatches else 0


# --- cross-check of the lowerings ------------------------------------------------------

def cmd_crosscheck(args: Any) -> int:
    out = args.out
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    n = bad = 0
    for path in ([] if args.programs_only else D.spec_wast_files()):
        for line, module, imports in D.spec_modules(path):
            n += 1
            # Edge values only: random ones make memory.grow allocate GiBs.
            plan = D.make_plan(module, line, rounds=4, random_rounds=0, with_v128=True)
            try:
                d = D.compare_modes(module, line, fuel=args.fuel, imports_factory=imports,
                                    timeout=60.0, plan=plan)
            except Exception as exc:  # noqa: BLE001 - report, go on
                d = [("harness", "%s: %s" % (type(exc).__name__, exc))]
            if d:
                bad += 1
                _log(out, "MISMATCH %s:%d %s" % (os.path.basename(path), line, str(d)[:300]))
    _log(out, "spec cross-check: %d modules, %d mismatches (%.0f s)" % (n, bad, time.time() - t0))
    pn, pbad = crosscheck_programs(out)
    _log(out, "%d modules, %d mismatches" % (n + pn, bad + pbad))
    return 1 if bad + pbad else 0


def crosscheck_programs(out: str) -> Tuple[int, int]:
    """The C/C++/Zig programs of tests/programs and tests/workloads, built by the
    harness, run whole under both lowerings (stdout, stderr, exit status)."""
    import differential_programs as P
    n = bad = 0
    for name, d in P.crosscheck_all():
        n += 1
        if d:
            bad += 1
            _log(out, "MISMATCH program %s: %s" % (name, str(d)[:300]))
        else:
            _log(out, "program %s: same under both lowerings" % name)
    _log(out, "programs cross-check: %d programs, %d mismatches" % (n, bad))
    return n, bad


# --- validators against each other ---------------------------------------------------

def cmd_validate(args: Any) -> int:
    import glob
    import random
    import validate_mutants as V
    out = args.out
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    n = bad = 0
    for seed in range(args.seed_start, args.seed_start + args.seeds):
        for config in V.SMITH_CONFIGS:
            for j, data in enumerate(V.seeds(config, seed, args.per)):
                for features in (None, frozenset()):
                    n += 1
                    found = V.verdicts(data, features)
                    if V.disagreement(found):
                        bad += 1
                        path = os.path.join(out, "validate-%s-%d-%d-%s.wasm" % (
                            config, seed, j, "wasm3" if features is None else "wasm2"))
                        with open(path, "wb") as f:
                            f.write(data)
                        _log(out, "MISMATCH %s: %s" % (path, found))
    _log(out, "smith mutants: %d verdicts, %d disagreements (%.0f s)" % (n, bad, time.time() - t0))
    paths = args.programs or sorted(
        glob.glob(os.path.join(ROOT, "examples", "**", "*.wasm"), recursive=True)
        + glob.glob(os.path.expanduser("~/.cache/purewasm-tests/*.wasm"))
        + glob.glob(os.path.expanduser("~/.cache/purewasm-tests/realprograms/build/*.wasm")))
    rnd = random.Random(args.seed_start)
    bodies = accepted = body_bad = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                decided = V.fast_bodies(f.read())
        except WasmtimeError:      # e.g. SQLite -O0 (past the locals limit)
            continue
        if not decided:
            continue
        for _ in range(args.body_mutants):
            bodies += 1
            new, fast, exact = V.fast_vs_exact(rnd.choice(decided), rnd)
            accepted += fast
            if fast and not exact:
                body_bad += 1
                _log(out, "MISMATCH fast reader accepts a body the exact path rejects "
                     "(%s): %s" % (path, new.hex()[:400]))
    _log(out, "body mutants: %d, %d accepted by the fast reader, %d of them rejected by "
         "the exact path (%d programs)" % (bodies, accepted, body_bad, len(paths)))
    _log(out, "%d modules, %d mismatches" % (n + bodies, bad + body_bad))
    return 1 if bad + body_bad else 0


# --- front-end fuzzing -----------------------------------------------------------------

def cmd_fuzz(args: Any) -> int:
    import fuzz_frontend as F
    out = args.out
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    n, escapes = F.run(args.inputs, args.seed_start, save_dir=out)
    _log(out, "front-end fuzz: %d inputs, %d escapes (%.0f s)" % (n, len(escapes), time.time() - t0))
    _log(out, "%d modules, %d mismatches" % (n, len(escapes)))
    return 1 if escapes else 0


# --- loops -----------------------------------------------------------------------------

def cmd_loops(args: Any) -> int:
    import random
    import signal

    import test_memory_views_random as V
    import test_swap_loops as W
    from compile_helpers import run_plan
    from purewasm.compile import translate

    class _Slow(Exception):
        pass

    def _alarm(*_: Any) -> None:
        raise _Slow()

    kinds = {
        "views": (lambda rnd: (V._module(rnd, 12), V._plan(rnd, 12)), "TYPED_VIEWS"),
        "rich": (lambda rnd: (V._module(rnd, 12, V._loop_rich), None), "TYPED_VIEWS"),
        "swaps": (W.random_case, "SLICE_LOOPS"),
    }
    out = args.out
    os.makedirs(out, exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    t0 = time.time()
    deadline = t0 + args.hours * 3600 if args.hours else None
    n = bad = slow = 0
    seed = args.seed_start
    while (deadline is None and seed < args.seed_start + args.modules) or \
            (deadline is not None and time.time() < deadline):
        for kind, (make, flag) in kinds.items():
            rnd = random.Random(seed)
            text, plan = make(rnd)
            if plan is None:
                plan = V._plan(rnd, 12)
            original = getattr(translate, flag)
            try:
                signal.alarm(10)
                with_it = run_plan(text, plan)
                setattr(translate, flag, False)
                without = run_plan(text, plan)
                signal.alarm(0)
            except _Slow:
                slow += 1
                continue
            finally:
                signal.alarm(0)
                setattr(translate, flag, original)
            n += 1
            if with_it != without:
                bad += 1
                path = os.path.join(out, "loops-%s-%d.wat" % (kind, seed))
                with open(path, "w") as f:
                    f.write(text)
                _log(out, "mismatch: %s seed %d (%s)" % (kind, seed, path))
        seed += 1
        if seed % 100 == 0:
            _log(out, "loops: seeds %d-%d, %d modules, %d mismatches, %d too slow (%.0f s)"
                 % (args.seed_start, seed - 1, n, bad, slow, time.time() - t0))
    _log(out, "loops: seeds %d-%d, %d too slow (%.0f s)"
         % (args.seed_start, seed - 1, slow, time.time() - t0))
    _log(out, "%d modules, %d mismatches" % (n, bad))
    return 1 if bad else 0


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("smith")
    s.add_argument("--modules", type=int, default=20000)
    s.add_argument("--configs", default="")
    s.add_argument("--seed-start", type=int, default=0)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--hours", type=float, default=0.0)
    s.add_argument("--no-shrink", dest="shrink", action="store_false")
    s.add_argument("--out", default="campaign-out")
    c = sub.add_parser("crosscheck")
    c.add_argument("--fuel", type=int, default=2_000_000)
    c.add_argument("--programs-only", action="store_true")
    c.add_argument("--out", default="campaign-out")
    f = sub.add_parser("fuzz")
    f.add_argument("--inputs", type=int, default=100000)
    f.add_argument("--seed-start", type=int, default=0)
    f.add_argument("--out", default="campaign-out")
    v = sub.add_parser("validate")
    v.add_argument("--seeds", type=int, default=100)
    v.add_argument("--per", type=int, default=10, help="mutants per smith module")
    v.add_argument("--seed-start", type=int, default=0)
    v.add_argument("--body-mutants", type=int, default=2000, help="per program")
    v.add_argument("--programs", nargs="*", default=[])
    v.add_argument("--out", default="campaign-out")
    lo = sub.add_parser("loops")
    lo.add_argument("--modules", type=int, default=1000, help="seeds (each: three modules)")
    lo.add_argument("--hours", type=float, default=0.0)
    lo.add_argument("--seed-start", type=int, default=100000)
    lo.add_argument("--out", default="campaign-out")
    i = sub.add_parser("interesting")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("file")
    args = ap.parse_args(argv)
    return {"smith": cmd_smith, "crosscheck": cmd_crosscheck, "fuzz": cmd_fuzz,
            "validate": cmd_validate, "interesting": cmd_interesting,
            "loops": cmd_loops}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
