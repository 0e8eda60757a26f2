"""Micro-benchmarks: ns per executed Wasm instruction, purewasm vs pywasm, in one run.

    python benchmarks/run.py [--quick] [--no-pywasm]

The kernels are in kernels.wat (kernels.wasm is its wat2wasm output, kept so that no wabt
is needed). Each kernel's dynamic instruction count comes from a Python model of the
kernel below (every executed instruction counts, block/loop/if/br* included, `end` and
`else` not). The first call of each kernel is a warm-up (it translates the functions);
the best of several timed runs is reported.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from functools import lru_cache
from typing import Any, Callable, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

M32 = 0xFFFFFFFF


# ----- instruction-count models -------------------------------------------------------

@lru_cache(maxsize=None)
def count_fib(n: int) -> int:
    return 5 if n < 2 else 13 + count_fib(n - 1) + count_fib(n - 2)


def count_loops(n: int) -> int:
    return 2 + 10 * n + 19 * n * n


def count_sieve(n: int) -> int:
    mem = bytearray(n + 1)
    c = 4 + 2 + 1
    i = 2
    while True:
        c += 4
        if not mem[i]:
            c += 4 + 4 + 2
            j = (i * i) & M32
            while True:
                c += 4
                if j >= n:
                    break
                mem[j] = 1
                c += 8
                j = (j + i) & M32
        c += 7
        i += 1
        if not i < n:
            break
    return c + 1


def count_leibniz(n: int) -> int:
    return 21 * n + 6


def count_states(n: int) -> int:
    state = acc = 0
    c = 1
    while True:
        c += 7
        if state == 0:
            acc = (acc + 3) & M32
            state = 1
            c += 7
        elif state == 1:
            acc ^= 0x55
            state = 2
            c += 7
        elif state == 2:
            acc = (acc * 3) & M32
            state = (acc & 1) * 3
            c += 11
        else:
            acc = (acc - 1) & M32
            state = 0
            c += 6
        c += 5
        n = (n - 1) & M32
        if not n:
            break
    return c + 1


# name, argument for purewasm, argument for pywasm, count model
KERNELS: List[Tuple[str, int, int, Callable[[int], int]]] = [
    ("fib", 25, 16, count_fib),
    ("loops", 300, 40, count_loops),
    ("sieve", 60000, 3000, count_sieve),
    ("leibniz", 300000, 6000, count_leibniz),
    ("states", 300000, 6000, count_states),
]


# ----- engines --------------------------------------------------------------------------

def wasm_bytes() -> bytes:
    wat = os.path.join(HERE, "kernels.wat")
    wasm = os.path.join(HERE, "kernels.wasm")
    if not os.path.exists(wasm) or os.path.getmtime(wasm) < os.path.getmtime(wat):
        subprocess.run(["wat2wasm", wat, "-o", wasm], check=True)
    with open(wasm, "rb") as f:
        return f.read()


def purewasm_engine(data: bytes) -> Callable[[str, int], Any]:
    from purewasm.binary import decode_module
    from purewasm.compile import CompiledModule
    module = decode_module(data)
    compiled = CompiledModule(module)
    try:
        from purewasm.runtime import Store, instantiate
    except ImportError:  # the runtime not available: drive the compiler directly
        return _bare_engine(module, compiled)
    store = Store()
    inst = instantiate(store, module, [], compiled)

    def call(name: str, arg: int) -> Any:
        return store.invoke(inst.exports[name], [arg])
    return call


def _bare_engine(module: Any, compiled: Any) -> Callable[[str, int], Any]:
    class Obj:
        pass
    inst = Obj()
    inst.funcs = []
    for f in module.funcs:
        fi = Obj()
        fi.type = module.types[f.type_index]
        fi.type_id = 0
        fi.fn = None
        inst.funcs.append(fi)
    mem = Obj()
    mem.data = bytearray(module.mems[0].limits.min * 65536)
    mem.grow = lambda n: -1
    inst.memories = [mem]
    inst.tables = []
    inst.globals = []
    inst.elem_segments = []
    inst.data_segments = []
    inst.import_calls = {}
    compiled.bind(inst)
    exports = {e.name: inst.funcs[e.index] for e in module.exports}
    sys.setrecursionlimit(100000)
    return lambda name, arg: exports[name].fn(arg)


def pywasm_engine(data: bytes) -> Callable[[str, int], Any]:
    import pywasm
    wasm = os.path.join(HERE, "kernels.wasm")
    rt = pywasm.core.Runtime()
    inst = rt.instance_from_file(wasm)
    return lambda name, arg: rt.invocate(inst, name, [arg])


def timed(fn: Callable[[], Any], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one timed run")
    ap.add_argument("--no-pywasm", action="store_true", help="do not run pywasm")
    args = ap.parse_args(argv)
    data = wasm_bytes()
    ours = purewasm_engine(data)
    theirs = None
    if not args.no_pywasm:
        try:
            theirs = pywasm_engine(data)
        except ImportError:
            print("pywasm not installed: no comparison")
    repeat = 1 if args.quick else 3
    print("%s %s" % (sys.implementation.name, sys.version.split()[0]))
    print("%-8s %12s %10s %12s %10s %8s" % ("kernel", "instrs", "ns/instr", "pywasm instrs",
                                             "ns/instr", "ratio"))
    ratios = []
    for name, n, n_py, model in KERNELS:
        if args.quick:
            n = max(2, n // 4) if name != "fib" else n - 3
        ours(name, 2 if name != "sieve" else 10)  # warm-up: translation
        count = model(n)
        t = timed(lambda name=name, n=n: ours(name, n), repeat)
        ns = t * 1e9 / count
        line = "%-8s %12d %10.1f" % (name, count, ns)
        if theirs is not None:
            count_py = model(n_py)
            r_ours = ours(name, n_py)
            r_py = theirs(name, n_py)
            if isinstance(r_py, list):
                r_py = r_py[0] if r_py else None
            if isinstance(r_ours, int) and isinstance(r_py, int):
                ok = (r_ours - r_py) % (1 << 32) == 0
            else:
                ok = r_ours == r_py
            t_py = timed(lambda name=name, n_py=n_py: theirs(name, n_py), 1)
            ns_py = t_py * 1e9 / count_py
            ratios.append(ns_py / ns)
            line += " %12d %10.1f %7.0fx%s" % (count_py, ns_py, ns_py / ns,
                                              "" if ok else "  RESULT MISMATCH")
        print(line)
    if ratios:
        g = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("geometric mean speed-up vs pywasm: %.0fx" % g)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
