"""The two lowerings against each other on real toolchain output: the C/C++/Zig programs
of tests/programs and tests/workloads (built and cached by tests/programs/harness.py),
each run whole under purewasm with the default lowering and with every function flat.
Their stdout, stderr, exit status and trap must be equal (scripts/campaign.py crosscheck).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Iterator, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from programs import harness  # noqa: E402

WORKLOADS = os.path.join(HERE, "workloads")

# Programs that run without a prepared sandbox or input, with the arguments to give them.
# Small programs first.
PROGRAMS: List[Tuple[str, str, Tuple[str, ...]]] = [
    (harness.HERE, "trap.c", ()), (harness.HERE, "stdio.c", ()),
    (harness.HERE, "args_env.c", ("a", "bb")), (harness.HERE, "cpp_program.cpp", ()),
    (harness.HERE, "zig_program.zig", ()),
    (WORKLOADS, "deep_nest.c", ("300",)), (WORKLOADS, "sha256.c", ()),
    (WORKLOADS, "expr_json.c", ()), (WORKLOADS, "bytecode_vm.c", ()),
    (WORKLOADS, "sort_search.c", ()), (WORKLOADS, "nbody_mandel.c", ()),
    (WORKLOADS, "numeric.c", ()), (WORKLOADS, "cpp_shapes.cpp", ()),
    (WORKLOADS, "zig_workload.zig", ()),
]


def run(wasm: str, mode: Optional[str], argv: Sequence[str] = ()) -> Any:
    """A whole program under purewasm's public API, every function in lowering ``mode``."""
    r = harness.run_purewasm(wasm, argv, mode=mode)
    return (r.code, r.stdout, r.stderr, r.trap)


def crosscheck_all(opts: Sequence[str] = ("-O0", "-O2")) -> Iterator[Tuple[str, Any]]:
    """(name, differences) for every program and optimisation level; differences is
    empty when both lowerings agree."""
    for src_dir, name, argv in PROGRAMS:
        for opt in opts:
            label = "%s %s %s" % (name, opt, " ".join(argv))
            try:
                wasm = harness.build(name, opt, src_dir=src_dir)
            except Exception as exc:  # noqa: BLE001 - no toolchain: report it
                yield label, [("build failed", str(exc)[:200])]
                continue
            a = run(wasm, None, argv)
            b = run(wasm, "flat", argv)
            yield label, ([] if a == b else [("structured", a), ("flat", b)])
