"""The official testsuite's scripts under each way of translating code, through the one
spec harness (script/runner.py) on the real runtime: every function lowered flat (the
state machine the translator otherwise keeps for shapes CPython refuses), and with fuel
and epoch checks compiled in. tests/test_spec.py runs the default lowering.

The Wasm 2.0 suite passes completely (tests/spec_known_failures_text.txt is empty): any
failure here is a difference between the lowerings or a metering bug.
"""
from __future__ import annotations

from typing import Any, Dict

import pytest

from wast_json import WAST_DIR

from purewasm.opcodes import WASM2_FEATURES
from purewasm.script.runner import run_script
from purewasm.text import parse_script

# The execution-heavy scripts (the rest are mostly about decoding and validation).
FILES = [
    "i32", "i64", "f32", "f64", "f32_cmp", "f64_cmp", "f32_bitwise", "f64_bitwise",
    "conversions", "int_exprs", "int_literals", "float_exprs", "float_misc", "float_memory",
    "float_literals", "const", "address", "align", "endianness", "memory", "memory_grow",
    "memory_size", "memory_trap", "memory_redundancy", "load", "store", "left-to-right",
    "block", "loop", "if", "br", "br_if", "br_table", "return", "call", "call_indirect",
    "fac", "forward", "local_get", "local_set", "local_tee", "global", "select", "nop",
    "unreachable", "unwind", "labels", "switch", "stack", "traps", "func", "bulk",
    "memory_fill", "memory_copy", "memory_init", "table_get", "table_set", "table_size",
    "table_grow", "table_fill", "table_copy", "table_init", "ref_null", "ref_is_null",
    "ref_func", "elem", "data", "start", "table-sub", "unreached-valid",
    "unreached-invalid", "skip-stack-guard-page",
]

MODES: Dict[str, Dict[str, Any]] = {
    "flat": {"lowering": "flat"},
    "metered": {"metered": True},
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", FILES)
def test_spec_file(name: str, mode: str) -> None:
    path = WAST_DIR / (name + ".wast")
    commands = parse_script(path.read_text(encoding="utf-8"))
    result = run_script(commands, features=WASM2_FEATURES, **MODES[mode])
    assert result.passed, "no command ran"
    assert not result.failed, "\n".join("line %d: %s" % f for f in result.failed[:20])


# The code shapes generated under PyPy (compile/entries.CPYTHON_SHAPES false), checked on
# CPython too: the same scripts must pass with either set of shapes.
PYPY_SHAPE_FILES = ["i32", "i64", "int_exprs", "address", "memory", "load", "store",
                    "br_table", "switch", "left-to-right", "memory_trap", "call_indirect"]


@pytest.mark.parametrize("name", PYPY_SHAPE_FILES)
def test_spec_file_with_pypy_shapes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from purewasm.compile import entries, ops_numeric, scan, stack
    shapes = not entries.CPYTHON_SHAPES
    for mod in (entries, ops_numeric, scan, stack):
        monkeypatch.setattr(mod, "CPYTHON_SHAPES", shapes)
    path = WAST_DIR / (name + ".wast")
    commands = parse_script(path.read_text(encoding="utf-8"))
    result = run_script(commands, features=WASM2_FEATURES)
    assert result.passed, "no command ran"
    assert not result.failed, "\n".join("line %d: %s" % f for f in result.failed[:20])
