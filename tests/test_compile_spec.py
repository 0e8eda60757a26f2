"""The official testsuite's execution scripts, run on the compiler alone.

A minimal runner (module, register, invoke, assert_return, assert_trap, assert_exhaustion)
over wast2json output, with the fake instance of test_compile_harness, so that the translator
and numeric/ are checked against the spec independently of the runtime and script runner.
"""
from __future__ import annotations

import math
import struct
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_compile_harness import FakeFunc, FakeGlobal, FakeInstance, FakeMemory, FakeTable  # noqa: E402

from purewasm.binary import decode_module  # noqa: E402
from purewasm.runtime import trap_from_exception  # noqa: E402
from purewasm.errors import Trap  # noqa: E402
from purewasm.numeric import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits  # noqa: E402
from purewasm.syntax import FuncType, GlobalType  # noqa: E402

from wast_json import WAST_DIR, wast_commands  # noqa: E402

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


def _spectest() -> Dict[str, Any]:
    def host(*types: str) -> FakeFunc:
        return FakeFunc(FuncType(tuple(types), ()), lambda *a: None)
    table = FakeTable(10, 20)
    return {
        "spectest.print": host(), "spectest.print_i32": host("i32"),
        "spectest.print_i64": host("i64"), "spectest.print_f32": host("f32"),
        "spectest.print_f64": host("f64"), "spectest.print_i32_f32": host("i32", "f32"),
        "spectest.print_f64_f64": host("f64", "f64"),
        "spectest.global_i32": FakeGlobal(GlobalType("i32", False), 666),
        "spectest.global_i64": FakeGlobal(GlobalType("i64", False), 666),
        "spectest.global_f32": FakeGlobal(GlobalType("f32", False), 666.6),
        "spectest.global_f64": FakeGlobal(GlobalType("f64", False), 666.6),
        "spectest.table": table, "spectest.memory": FakeMemory(1, 2),
    }


class Ext:
    """An externref payload (a plain object: a tuple would read as several results)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ext) and other.n == self.n

    def __repr__(self) -> str:
        return "Ext(%d)" % self.n


def _value(v: Dict[str, Any]) -> Any:
    t, s = v["type"], v.get("value")
    if t in ("i32", "i64"):
        return int(s)
    if t == "f32":
        return s if s.startswith("nan") else f32_from_bits(int(s))
    if t == "f64":
        return s if s.startswith("nan") else f64_from_bits(int(s))
    if t in ("externref", "funcref"):
        return None if s == "null" else Ext(int(s))
    raise NotImplementedError(t)


def _match(t: str, expected: Any, got: Any) -> bool:
    if t in ("f32", "f64"):
        if not isinstance(got, float):
            return False
        bits = f32_to_bits(got) if t == "f32" else f64_to_bits(got)
        if isinstance(expected, str):
            if got == got:
                return False
            qbit = (1 << 22) if t == "f32" else (1 << 51)
            mant = bits & ((1 << 23) - 1 if t == "f32" else (1 << 52) - 1)
            return mant == qbit if expected == "nan:canonical" else bool(mant & qbit)
        ebits = f32_to_bits(expected) if t == "f32" else f64_to_bits(expected)
        return bits == ebits
    if t in ("externref",):
        return expected == got
    if t == "funcref":
        return (expected is None) == (got is None)
    return expected == got and type(got) in (int, bool)


class Runner:
    def __init__(self, moddir: Path, mode: Any = None) -> None:
        self.moddir = moddir
        self.mode = mode
        self.registered: Dict[str, Any] = _spectest()
        self.named: Dict[str, FakeInstance] = {}
        self.current: Any = None

    def instantiate(self, filename: str) -> FakeInstance:
        module = decode_module((self.moddir / filename).read_bytes())
        return FakeInstance(module, self.registered, self.mode)

    def invoke(self, action: Dict[str, Any]) -> List[Any]:
        inst = self.named[action["module"]] if action.get("module") else self.current
        exp = inst.exports[action["field"]]
        if action["type"] == "get":
            return [inst.globals[exp.index].value]
        args = [_value(a) for a in action["args"]]
        fn = inst.funcs[exp.index].fn
        try:
            r = fn(*args)
        except Trap:
            raise
        except Exception as exc:
            trap = trap_from_exception(exc)
            if trap is None:
                raise
            raise trap from None
        nres = len(inst.funcs[exp.index].type.results)
        if nres == 0:
            return []
        if nres > 1:
            return list(r)
        return [r]

    def run(self, cmds: List[Dict[str, Any]]) -> List[str]:
        failures: List[str] = []
        for cmd in cmds:
            kind = cmd["type"]
            line = cmd.get("line")
            try:
                if kind == "module":
                    self.current = self.instantiate(cmd["filename"])
                    if cmd.get("name"):
                        self.named[cmd["name"]] = self.current
                elif kind == "register":
                    inst = self.named[cmd["name"]] if cmd.get("name") else self.current
                    for name, exp in inst.exports.items():
                        space = {"func": inst.funcs, "memory": inst.memories,
                                 "table": inst.tables, "global": inst.globals}[exp.kind]
                        self.registered["%s.%s" % (cmd["as"], name)] = space[exp.index]
                elif kind == "action":
                    self.invoke(cmd["action"])
                elif kind == "assert_return":
                    got = self.invoke(cmd["action"])
                    exp = [_value(v) for v in cmd["expected"]]
                    types = [v["type"] for v in cmd["expected"]]
                    if len(got) != len(exp) or not all(
                            _match(t, e, g) for t, e, g in zip(types, exp, got)):
                        failures.append("line %s: expected %r got %r" % (line, exp, got))
                elif kind in ("assert_trap", "assert_exhaustion"):
                    try:
                        got = self.invoke(cmd["action"])
                    except Trap as trap:
                        if cmd["text"] not in str(trap) and not str(trap).startswith(
                                cmd["text"][:12]):
                            failures.append("line %s: trap %r, expected %r"
                                            % (line, str(trap), cmd["text"]))
                    else:
                        failures.append("line %s: no trap (%r), expected %r"
                                        % (line, got, cmd["text"]))
            except Exception as exc:  # noqa: BLE001 - collected per command
                if kind == "module" and cmd.get("filename", "").endswith(".wasm"):
                    # Modules the fake instance cannot build (e.g. trapping segments).
                    self.current = None
                failures.append("line %s (%s): %s: %s" % (line, kind, type(exc).__name__, exc))
        return failures


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
@pytest.mark.parametrize("name", FILES)
def test_spec_file(name: str, mode: Any) -> None:
    path = WAST_DIR / (name + ".wast")
    cmds, moddir = wast_commands(path)
    failures = Runner(moddir, mode).run(cmds)
    assert not failures, "\n".join(failures[:20])


_ = (math, struct)
