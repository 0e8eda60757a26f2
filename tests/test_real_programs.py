"""Real programs of real size (tests/realprograms/): SQLite 3.50.4 (its shell, on an
in-memory and a file database), Lua 5.4.8, zlib 1.2.11 (example and minigzip), yyjson
0.10.0, PCRE2 10.47 (pcre2test on its own testinput1, checked against testoutput1), and
drivers of ours with heavy allocation churn (C), C++ virtual dispatch and STL containers,
and Zig std. The C libraries come from pinned PyPI sdists (sha256-checked; a failed
download fails the test, it never skips). Each case runs under wasmtime (the reference)
and purewasm: stdout, stderr, exit status and the files written must be equal.

Default: the -O2 build of every program on small inputs, 12 tests. Measured on the shared
2-core machine under a load average of 12-16: cold cache (pip downloads and all builds)
13 min 47 s wall for 3 min 20 s of CPU, most of it building SQLite; warm cache 2 min 11 s
to 3 min 19 s wall. On an idle machine expect about the CPU time.
Opt-in: PUREWASM_LONG=1 runs the full matrix here too (-O0/-O2/-Os/-Oz x every input,
including the big ones); scripts/real_programs.py runs the same matrix with timings.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "realprograms"))
import realprograms as rp  # noqa: E402

LONG = os.environ.get("PUREWASM_LONG") == "1"

CASES = [(run.ident, opt) for run in rp.RUNS.values() for opt in rp.OPTS
         if LONG or (opt == "-O2" and not run.long)]


def test_the_default_subset_covers_every_program():
    covered = {rp.RUNS[ident].program for ident, opt in CASES}
    assert covered == set(rp.PROGRAMS)
    assert {s for p in rp.PROGRAMS.values() for s in [p.sdist] if s} == set(rp.SDISTS)


@pytest.mark.parametrize("ident,opt", CASES, ids=["%s%s" % c for c in CASES])
def test_real_program(ident, opt):
    rp.compare(rp.RUNS[ident], opt)
