"""Function shapes beyond CPython's compiler limits (20 nested loops, 100 indentation
levels, 200 nested parentheses, huge expressions): every one must translate and run.

Expected values are computed here in Python, independently of the translator.
"""
from __future__ import annotations

import sys
import time

import pytest

from compile_helpers import instance

M32 = 0xFFFFFFFF


def _nested_blocks(n: int) -> str:
    # Block i (from the outside) starts with "br_if 0 when x == i"; after the end of every
    # block a counter is incremented: f(x) = x + 1 for x < n, else n. The innermost block
    # also branches to the outermost one when x == n + 1.
    body = ["(func (export \"f\") (param i32) (result i32) (local i32)"]
    for i in range(n):
        body.append("block local.get 0 i32.const %d i32.eq br_if 0" % i)
    body.append("local.get 0 i32.const %d i32.eq br_if %d" % (n + 1, n - 1))
    for _ in range(n):
        body.append("end local.get 1 i32.const 1 i32.add local.set 1")
    body.append("local.get 1)")
    return "(module %s)" % "\n".join(body)


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_3000_nested_blocks(mode: object) -> None:
    n = 3000
    inst = instance(_nested_blocks(n), mode=mode)
    f = inst.func("f")
    for x in (0, 1, 2, 19, 20, 21, 1000, n - 1):
        assert f(x) == x + 1
    assert f(n) == n
    assert f(n + 1) == 1
    assert inst.compiled.mode(0) == "flat"


def test_3000_nested_blocks_without_branches_stay_structured() -> None:
    n = 3000
    text = "(module (func (export \"f\") (param i32) (result i32) %s local.get 0 %s))" % (
        "block (result i32) " * n, "i32.const 1 i32.add end " * n)
    inst = instance(text)
    assert inst.func("f")(5) == 5 + n
    assert inst.compiled.mode(0) == "structured"


def _simulate_loops(n: int, thresholds: list) -> int:
    c = 0

    def run(level: int) -> None:
        nonlocal c
        while True:
            if level > 0:
                run(level - 1)
            c = (c + 1) & M32
            if not c < thresholds[level]:
                break
    run(n - 1)
    return c


@pytest.mark.parametrize("mode", [None, "flat"])
def test_300_nested_loops(mode: object) -> None:
    n = 300
    thresholds = [(i * 7) % 50 + i * 3 for i in range(n)]
    parts = ["(module (func (export \"f\") (result i32) (local i32)"]
    parts += ["loop"] * n
    for level in range(n):
        parts.append("local.get 0 i32.const 1 i32.add local.tee 0 i32.const %d i32.lt_u "
                     "br_if 0 end" % thresholds[level])
    parts.append("local.get 0))")
    inst = instance("\n".join(parts), mode=mode)
    assert inst.func("f")() == _simulate_loops(n, thresholds)


@pytest.mark.parametrize("mode", [None, "flat"])
def test_5000_target_br_table(mode: object) -> None:
    n = 5000
    parts = ["(module (func (export \"f\") (param i32) (result i32)"]
    parts += ["block"] * (n + 1)
    parts.append("local.get 0 br_table %s %d" % (" ".join(str(i) for i in range(n)), n))
    for i in range(n + 1):
        parts.append("end i32.const %d return" % (i * 3 + 1))
    parts.append("unreachable))")
    inst = instance("\n".join(parts), mode=mode)
    f = inst.func("f")
    for i in (0, 1, 2, 17, 2500, 4998, 4999):
        assert f(i) == i * 3 + 1
    for i in (5000, 5001, M32):
        assert f(i) == n * 3 + 1


def test_br_table_with_values_to_different_heights() -> None:
    text = """(module (func (export "f") (param i32) (result i32)
      block (result i32)
        i32.const 5
        block (result i32)
          i32.const 7
          block (result i32)
            i32.const 10
            local.get 0
            br_table 0 1 2
          end
          i32.add
          i32.const 1 i32.add
        end
        i32.add
      end
      i32.const 1000 i32.add)
      (func (export "sum") (param i32) (result i32) (local i32)
        i32.const 0
        loop (param i32) (result i32)
          local.get 1 i32.const 1 i32.add local.tee 1
          i32.add
          local.get 1 local.get 0 i32.lt_u
          br_table 1 0
        end))"""
    for mode in (None, "flat"):
        inst = instance(text, mode=mode)
        f = inst.func("f")
        assert [f(0), f(1), f(2), f(3)] == [1023, 1015, 1010, 1010]
        assert inst.func("sum")(100) == 5050


def test_100000_instruction_body() -> None:
    reps = 20000  # 5 instructions each: 100,000 instructions
    parts = ["(module (func (export \"f\") (param i32) (result i32)"]
    expected = 12345
    x = expected
    for k in range(reps):
        parts.append("local.get 0 i32.const %d i32.xor local.set 0" % (k * 2654435761 & M32))
        x ^= k * 2654435761 & M32
    parts.append("local.get 0))")
    inst = instance("\n".join(parts))
    assert inst.func("f")(expected) == x


def test_huge_folded_expression() -> None:
    n = 20000
    # One expression of 20,000 terms: the stack grows to 20,000 then folds.
    text = "(module (func (export \"f\") (param i32) (result i32) %s %s))" % (
        " ".join("local.get 0 i32.const %d i32.mul" % (i + 1) for i in range(n)),
        "i32.add " * (n - 1))
    inst = instance(text)
    assert inst.func("f")(3) == sum(3 * (i + 1) for i in range(n)) & M32


def test_deep_nested_expression() -> None:
    n = 5000
    # ((((x + 1) * 3) + 1) * 3) ... : nested 10,000 operations deep.
    text = "(module (func (export \"f\") (param i32) (result i32) local.get 0 %s))" % (
        "i32.const 1 i32.add i32.const 3 i32.mul " * n)
    x = 7
    for _ in range(n):
        x = ((x + 1) * 3) & M32
    assert instance(text).func("f")(7) == x


def test_deep_ifs_and_indentation() -> None:
    n = 150  # beyond 100 indentation levels when nested as Python ifs
    text = "(module (func (export \"f\") (param i32) (result i32) (local i32) %s %s local.get 1))" % (
        "local.get 0 i32.const 1 i32.and if local.get 1 i32.const 1 i32.add local.set 1 "
        "local.get 0 i32.const 1 i32.shr_u local.set 0 " * n,
        "end " * n)
    f = instance(text).func("f")
    assert f(0) == 0
    assert f(1) == 1
    assert f(0b111) == 3
    assert f(0b1101) == 1


def test_many_nested_targeted_blocks_with_values() -> None:
    n = 400
    parts = ["(module (func (export \"f\") (param i32) (result i32)"]
    parts += ["block (result i32)"] * n
    parts.append("i32.const 5 local.get 0 br_if %d" % (n // 2))
    for _ in range(n):
        parts.append("i32.const 2 i32.add end")
    parts.append("))")
    f = instance("\n".join(parts)).func("f")
    assert f(0) == 5 + 2 * n
    assert f(1) == 5 + 2 * (n - n // 2 - 1)


def test_structured_falls_back_when_python_refuses() -> None:
    # Forcing the structured lowering on 30 nested loops: CPython refuses the code
    # ("too many statically nested blocks"), the function is lowered flat instead.
    n = 30
    text = "(module (func (export \"f\") (result i32) (local i32) %s %s local.get 0))" % (
        "loop " * n, "local.get 0 i32.const 1 i32.add local.tee 0 i32.const 100 i32.lt_u "
        "br_if 0 end " * n)
    inst = instance(text, mode="structured")
    assert inst.func("f")() == 100 + n - 1
    if sys.implementation.name == "cpython":   # PyPy's compiler has no such limit
        assert inst.compiled.mode(0) == "flat"


def test_deep_operand_stack_of_call_results() -> None:
    # 5,000 pending sums each reading the slot above: materialising one must not recurse.
    n = 5000
    text = ("(module (func $g (result i32) i32.const 2) (func (export \"f\") (result i32) "
            "i32.const 0 %s %s))" % ("i32.const 1 call $g i32.add " * n, "i32.add " * n))
    for mode in (None, "flat"):
        assert instance(text, mode=mode).func("f")() == 3 * n


def _translate_cpu_seconds(text: str) -> float:
    from purewasm.compile.translate import Translator
    from purewasm.text import parse_module
    module = parse_module(text)
    index = module.num_imported_funcs() + len(module.funcs) - 1
    best = float("inf")
    for _ in range(2):
        t0 = time.process_time()
        Translator(module, index).translate()
        best = min(best, time.process_time() - t0)
    return best


@pytest.mark.parametrize("unit", [
    "i32.const 0 i32.load ",                  # effects: each one protects its slot
    "local.get 0 ",                           # pending reads of a local
    "local.get 0 i32.const 1 i32.add local.tee 0 ",   # assignments over pending entries
    "local.get 1 i32.const 0 i32.load local.set 0 ",  # many sets, many pending entries
])
def test_translation_is_linear_in_operand_stack_height(unit: str) -> None:
    # Security (hostile input): a body that pushes N values before consuming them took
    # time quadratic in N to translate (a 600 kB module: 101 s). Compared in CPU time
    # within this run: 4x the values must cost well under 16x (quadratic) the time.
    # Each unit pushes one i32.
    def text(n: int) -> str:
        return ("(module (memory 1) (func (export \"f\") (param i32) (result i32) "
                "(local i32) %s %s))" % (unit * n, "i32.add " * (n - 1)))
    small = _translate_cpu_seconds(text(5000))
    large = _translate_cpu_seconds(text(20000))
    assert large < 9 * small, (small, large)
