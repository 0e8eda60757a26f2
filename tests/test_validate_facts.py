"""The per-function facts the validator package offers the compiler (validate/facts.py)."""
from __future__ import annotations

import shutil
from typing import Any, List

import pytest

from purewasm.errors import InvalidError
from purewasm.syntax import Func, FuncType, Import, Instr, Module
from purewasm.validate import validate_module
from purewasm.validate.facts import FuncAnalyzer


def mk(op: str, imm: Any = None) -> Instr:
    return Instr(op, imm)


def facts_of(body: List[Instr], params=(), results=(), types=()):  # type: ignore[no-untyped-def]
    m = Module(types=[FuncType(tuple(params), tuple(results))] + list(types),
               funcs=[Func(0, [], body)])
    validate_module(m)
    return FuncAnalyzer(m).analyze(0)


def test_structure_and_targets() -> None:
    body = [mk("block"),                    # 0
            mk("loop"),                     # 1
            mk("i32.const", 1), mk("br_if", 0),   # 2, 3: back-edge to the loop
            mk("i32.const", 0),             # 4
            mk("if"),                       # 5
            mk("br", 2),                    # 6: to the block
            mk("else"),                     # 7
            mk("nop"),                      # 8
            mk("end"),                      # 9
            mk("end"),                      # 10
            mk("end"),                      # 11
            mk("end")]                      # 12
    f = facts_of(body)
    assert f.end_of == {0: 11, 1: 10, 5: 9}
    assert f.else_of == {5: 7}
    assert f.targets == {0, 1}
    assert f.max_depth == 3
    assert f.max_stack == 1
    assert f.dead == []


def test_dead_code_and_heights() -> None:
    body = [mk("i32.const", 7),                     # 0
            mk("block", "i32"),                     # 1: entered at height 1
            mk("i32.const", 1), mk("return"),        # 2, 3
            mk("block"), mk("br", 0), mk("end"),     # 4-6: dead, not a target
            mk("i32.add"),                          # 7: dead
            mk("end"),                              # 8
            mk("i32.add"),                          # 9
            mk("end")]                              # 10
    f = facts_of(body, results=["i32"])
    assert f.entry_height == {1: 1}
    assert f.dead == [(4, 8)]
    assert f.end_of == {1: 8, 4: 6}
    assert f.targets == set()
    assert f.max_stack == 2


def test_branch_to_function_and_multi_value() -> None:
    t = FuncType(("i32", "i32"), ("i64",))
    body = [mk("i32.const", 1), mk("i32.const", 2), mk("i32.const", 3),
            mk("block", 1),                         # 3: params 2, entry height 1
            mk("drop"), mk("drop"), mk("i64.const", 0), mk("i32.const", 0),
            mk("br_table", ((0,), 1)),              # 8: to the block and the function
            mk("end"),                              # 9
            mk("return"), mk("end")]
    f = facts_of(body, results=["i64"], types=[t])
    assert f.entry_height == {3: 1}
    assert f.arity == {3: (2, 1)}
    assert f.targets == {3, -1}
    assert f.max_stack == 3
    assert f.dead == []


def test_imported_functions_shift_the_index() -> None:
    m = Module(types=[FuncType((), ())], imports=[Import("m", "f", "func", 0)],
               funcs=[Func(0, [], [mk("call", 0), mk("end")])])
    validate_module(m)
    analyzer = FuncAnalyzer(m)
    assert analyzer.analyze(1).max_stack == 0
    with pytest.raises(InvalidError):
        analyzer.analyze(0)


def test_deep_nesting_facts() -> None:
    depth = 10000
    body = [mk("block") for _ in range(depth)] + [mk("br", depth - 1)] + [
        mk("end") for _ in range(depth + 1)]
    f = facts_of(body)
    assert f.max_depth == depth
    assert f.targets == {0}
    assert len(f.end_of) == depth


@pytest.mark.skipif(shutil.which("wast2json") is None, reason="needs wast2json")
def test_facts_on_spec_modules() -> None:
    """Every function of every valid testsuite module: facts computed, every construct
    matched, heights consistent with the function's results."""
    from purewasm.binary import decode_module
    from purewasm.errors import MalformedError

    try:
        from wast_json import all_wast_files, wast_commands
    except ImportError:  # pragma: no cover
        from tests.wast_json import all_wast_files, wast_commands
    n_funcs = 0
    for path in all_wast_files():
        cmds, moddir = wast_commands(path)
        for cmd in cmds:
            if cmd["type"] != "module" or not cmd.get("filename", "").endswith(".wasm"):
                continue
            try:
                m = decode_module((moddir / cmd["filename"]).read_bytes())
                validate_module(m)
            except (MalformedError, InvalidError):  # pragma: no cover - other tests' job
                continue
            analyzer = FuncAnalyzer(m)
            base = m.num_imported_funcs()
            for i, func in enumerate(m.funcs):
                f = analyzer.analyze(base + i)
                opens = [p for p, ins in enumerate(func.body)
                         if ins.op in ("block", "loop", "if")]
                assert sorted(f.end_of) == opens, (path.name, cmd["line"], i)
                assert f.max_stack >= 0
                n_funcs += 1
    assert n_funcs > 1000
