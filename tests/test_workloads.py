"""Real toolchain output under load: the self-checking programs of tests/workloads/
(C, C++ and Zig, built with ziglang for wasm32-wasi at -O0, -O2 and -Os, cached by the
harness of tests/programs/) each run under wasmtime (the reference) and under purewasm in
the same test; stdout, stderr and exit status must be equal, and the output must show
that the program's own checks passed. A few extra runs add arguments (deep recursion) or
build with a target-feature flag (SIMD, tail calls).

A case that differs because of a purewasm bug goes into KNOWN_FAILURES with a one-line
reason; such a case is still run and must still differ (when it starts passing, the test
fails until the entry is removed).
"""
from __future__ import annotations

import hashlib
import os
import platform
import sys
from typing import Dict, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from programs import harness  # noqa: E402

from purewasm.errors import WasmtimeError  # noqa: E402

pytest.importorskip("wasmtime")

WORKLOADS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads")

# program -> substrings its stdout must contain (the program's own verdicts or results
# known independently of both runtimes).
EXPECT: Dict[str, Tuple[bytes, ...]] = {
    "sha256.c": (b"all ok\n", b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ok"),
    "expr_json.c": (b'json 0: {"a":[1,2.5,-300,{"b":null}],"c":"x\ty","d":true} sum=-296.5',
                    b"json 2: error: unexpected character", b"2 ^ 10 - 1     = 1023"),
    "nbody_mandel.c": (b"energy before: -0.169075164\n", b"energy after:  -0.169071607\n",
                       b"special: 1.414213562 5.000000000 -inf nan -inf 1\n"),
    "sort_search.c": (b"min -999999 ", b"bsearch: found "),
    "wordfreq.c": (b"file round trip ok\n", b"12000 words, ", b" 1 ka "),
    "numeric.c": (b"u128: fffffffffffffffe0000000000000001\n", b"0x1.999999999999ap-4",
                  b'strtod("0x1.8p3") = 12 0x1.8p+3 consumed 7'),
    "cpp_shapes.cpp": (b"destroyed 3000\n", b"THE slow BROWN FOX | substr BROWN | compare 1\n",
                       b"std::function acc 986410\n", b"10 20.5 abc 31\n"),
    "zig_workload.zig": (b"heap popped 2000 in order", b"25! = 15511210043330985984000000 ",
                         b"sum of squares 2646700\n", b"bytes, round trip ok, crc32 "),
    "bytecode_vm.c": (b"1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 \n430 2999 ",
                      b"bad program returns 1\n"),
    "deep_nest.c": (b"deep_ifs hash ", b"big_switch = ", b"duff hash "),
}


def _computed(program: str, opt: str, argv: Tuple[str, ...]) -> Tuple[bytes, ...]:
    """Output that Python computes independently of both runtimes, or that a build adds."""
    if opt == "-msimd128" and program == "numeric.c":
        return (b"\ni8x16.swizzle ", b"\nf64x2.min/max ", b"\nstore_lane+store ")
    if opt == "-DWITH_RELAXED_SIMD" and program == "numeric.c":
        return (b"\ni8x16.swizzle ", b"\nf32x4.relaxed_madd ", b"\nrelaxed_dot_add ")
    if program == "sha256.c":
        digest = hashlib.sha256(b"a" * 50000).hexdigest().encode()
        return (b"sha256(50000 x 'a') = " + digest + b" ok\n",)
    if program == "deep_nest.c":
        depth = int(argv[0]) if argv else 5000
        r = 0
        for _ in range(depth):
            r = 1 + r * 3 % 1000003
        return (b"recurse(%d) = %d\n" % (depth, r),)
    return ()

OPTS = ("-O0", "-O2", "-Os")

# Programs run with a fresh host directory preopened as "work"; the trees the two
# runtimes leave behind must be equal too.
SANDBOXED = {"wordfreq.c": b"ka 1413\n"}   # program -> start of work/top.txt

# Extra runs with arguments: program -> argv tuples (each run at every level).
# deep_nest.c 12000: non-tail recursion 12,000 frames deep, which wasmtime's default
# 512 KiB Wasm stack holds (about 16,000 frames of that function at -O0, 32,000 at -O2).
EXTRA_ARGV: Dict[str, Tuple[Tuple[str, ...], ...]] = {
    "deep_nest.c": (("12000",),),
}

# Extra builds with one other flag instead of an optimisation level (so the program is
# built at -O0). A target-feature flag also applies to the libc zig builds for it.
EXTRA_BUILDS: Dict[str, Tuple[str, ...]] = {
    # SIMD intrinsics, and v128 code in libc's vfprintf; then the same plus relaxed SIMD
    "numeric.c": ("-msimd128", "-DWITH_RELAXED_SIMD"),
    "bytecode_vm.c": ("-mtail-call",),  # return_call in libc
}

_DEPTH = "default max_call_depth (10,000 frames) is below wasmtime's default stack"

# (program, optimisation level, argv) -> one-line reason why purewasm differs from wasmtime.
KNOWN_FAILURES: Dict[Tuple[str, str, Tuple[str, ...]], str] = {
}
# On PyPy the depth limit is not exact (recursion 15,000 deep still runs): CPython only.
if platform.python_implementation() == "CPython":
    for _opt in OPTS:
        KNOWN_FAILURES[("deep_nest.c", _opt, ("12000",))] = _DEPTH


def _opts(program: str) -> Tuple[str, ...]:
    # The harness builds Zig at -O2 and -Os alike (ReleaseSmall): run that binary once.
    base = ("-O0", "-O2") if program.endswith(".zig") else OPTS
    return base + EXTRA_BUILDS.get(program, ())


CASES = [(p, o, a) for p in EXPECT for o in _opts(p) for a in ((),) + EXTRA_ARGV.get(p, ())]


def build(program: str, opt: str) -> str:
    """Build a workload; ``opt`` is an optimisation level or one flag of EXTRA_BUILDS
    (then built at -O0)."""
    if opt in OPTS:
        return harness.build(program, opt, src_dir=WORKLOADS_DIR)
    return harness.build(program, "-O0", src_dir=WORKLOADS_DIR, flags=[opt])


def test_every_workload_is_listed():
    on_disk = sorted(n for n in os.listdir(WORKLOADS_DIR) if n.endswith((".c", ".cpp", ".zig")))
    assert on_disk == sorted(EXPECT)
    assert set(KNOWN_FAILURES) <= set(CASES)


@pytest.mark.parametrize("program,opt,argv", CASES,
                         ids=["".join((p, o) + tuple("-" + x for x in a)) for p, o, a in CASES])
def test_workload(tmp_path, program, opt, argv):
    wasm = build(program, opt)

    def run(kind):
        root = tmp_path / kind
        dirs = []
        if program in SANDBOXED:
            (root / "work").mkdir(parents=True)
            dirs = [(str(root / "work"), "work")]
        result = harness.run_with(kind, wasm, argv=argv, dirs=dirs)
        return result, harness.snapshot(str(root)) if dirs else {}

    ref, ref_tree = run("wasmtime")
    # The reference itself: the program ran to completion and its checks passed.
    assert ref.code == 0 and ref.trap is None, ref
    for needle in EXPECT[program] + _computed(program, opt, argv):
        assert needle in ref.stdout, (needle, ref.stdout[:3000])
    if program in SANDBOXED:
        assert ref_tree[os.path.join("work", "top.txt")][1].startswith(SANDBOXED[program])
    reason = KNOWN_FAILURES.get((program, opt, argv))
    if reason is not None:
        try:
            got, got_tree = run("purewasm")
        except WasmtimeError:  # an unsupported feature may fail before the program runs
            same = False
        else:
            same = (got.stdout, got.stderr, got.code, got.trap, got_tree) == (
                ref.stdout, ref.stderr, ref.code, None, ref_tree)
        assert not same, "%s %s %s now passes: remove it from KNOWN_FAILURES (%s)" % (
            program, opt, argv, reason)
        return
    got, got_tree = run("purewasm")
    assert got.trap is None, got
    assert got.stdout == ref.stdout
    assert got.stderr == ref.stderr
    assert got.code == ref.code
    assert got_tree == ref_tree
