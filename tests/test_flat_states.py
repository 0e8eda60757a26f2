"""The flat lowering's state merging (compile/control.Flat.merge_states): a state
reached from one goto is moved to it, a state that then goes to itself runs in its own
``while True:``, and the moved states' numbers are given back (a smaller dispatch tree).
Each function runs flat and structured on many inputs, which must agree (and agree with
a model where there is one), and the shapes are checked (the same on CPython and PyPy:
PyPy's JIT gains from fewer dispatches too)."""
from __future__ import annotations

import random
from typing import List

import pytest

from compile_helpers import instance, wat2wasm
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.validate import validate_module

SCAN = """(module (memory (export "mem") 1)
  ;; printf's scan: bytes up to a NUL or a '%', then what follows it
  (func (export "scan") (param $p i32) (result i32) (local $c i32)
    block $done
      block $pct
        loop $next
          local.get $p i32.load8_u local.tee $c
          i32.eqz br_if $done
          local.get $c i32.const 37 i32.eq br_if $pct
          local.get $p i32.const 1 i32.add local.set $p
          br $next
        end
      end
      local.get $p i32.load8_u offset=1 i32.const 1000 i32.mul
      local.get $p i32.add return
    end
    local.get $p)
  ;; a loop of three blocks with a br_table choosing the step
  (func (export "walk") (param $n i32) (param $k i32) (result i32) (local $acc i32)
    loop $top
      block $three
        block $two
          block $one
            local.get $n i32.const 3 i32.rem_u br_table $one $two $three $three
          end
          local.get $acc i32.const 1 i32.add local.set $acc
          br $three
        end
        local.get $acc i32.const 7 i32.mul local.set $acc
      end
      local.get $acc local.get $k i32.xor local.set $acc
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $top
    end
    local.get $acc))"""


def _flat_source(text: str, index: int) -> str:
    return CompiledModule(decode_module(wat2wasm(text))).source(index, flat=True)


def _scan_model(data: bytes, p: int) -> int:
    while data[p] and data[p] != 37:
        p += 1
    return p if not data[p] else data[p + 1] * 1000 + p


def test_scan_loop_runs_in_its_own_loop() -> None:
    flat, structured = instance(SCAN, mode="flat"), instance(SCAN)
    rng = random.Random(5)
    data = bytes(rng.choice(b"abc%\x00") for _ in range(4096)) + b"\x00"
    for inst in (flat, structured):
        inst.memories[0].data[:len(data)] = data
    for p in list(range(0, 200)) + [rng.randrange(4000) for _ in range(200)]:
        want = _scan_model(data, p)
        assert flat.func("scan")(p) == want == structured.func("scan")(p), p
    src = _flat_source(SCAN, 0)
    # the dispatcher's loop, and the scan's own
    assert src.count("while True:") == 2, src


def _walk_model(n: int, k: int) -> int:
    acc = 0
    m32 = 0xFFFFFFFF
    while True:
        r = n % 3
        if r == 0:
            acc = (acc + 1) & m32
        elif r == 1:
            acc = (acc * 7) & m32
        acc ^= k
        n = (n - 1) & m32
        if not n:
            return acc


def test_table_targets_keep_their_states() -> None:
    flat, structured = instance(SCAN, mode="flat"), instance(SCAN)
    for n in list(range(1, 40)) + [1000]:
        for k in (0, 5, 0xFFFFFFFF):
            want = _walk_model(n, k)
            assert flat.func("walk")(n, k) == want == structured.func("walk")(n, k), (n, k)
    # The loop's head (its br_table) is copied to the end of each case, whose blocks
    # moved into the cases: an interpreter's dispatch, one trip through the tree per
    # iteration instead of three.
    src = _flat_source(SCAN, 1)
    assert src.count("_s = (") == 4 and src.count("_s = ") == 5, src


def _random_function(rng: random.Random, name: str) -> str:
    """Nested blocks and loops, br/br_if/br_table to any enclosing label, arithmetic on
    two locals; a fuel local bounds every loop."""
    out: List[str] = []
    depth = [0]

    def body(level: int, budget: int) -> None:
        for _ in range(rng.randrange(1, 4)):
            r = rng.random()
            if r < 0.25 and budget > 0:
                out.append("block")
                depth[0] += 1
                body(level + 1, budget - 1)
                depth[0] -= 1
                out.append("end")
            elif r < 0.45 and budget > 0:
                out.append("loop")
                depth[0] += 1
                # every back edge spends fuel
                out.append("local.get $f i32.const 1 i32.sub local.tee $f i32.eqz "
                           "br_if %d" % (depth[0] - 1))
                body(level + 1, budget - 1)
                depth[0] -= 1
                out.append("end")
            elif r < 0.6 and depth[0]:
                out.append("local.get $x i32.const %d i32.and br_if %d"
                           % (rng.randrange(1, 8), rng.randrange(depth[0])))
            elif r < 0.7 and depth[0]:
                labels = " ".join(str(rng.randrange(depth[0]))
                                  for _ in range(rng.randrange(1, 5)))
                out.append("local.get $x i32.const 3 i32.shr_u br_table %s %d"
                           % (labels, rng.randrange(depth[0])))
                return
            else:
                out.append("local.get $x i32.const %d i32.mul i32.const %d i32.add "
                           "local.get $y i32.xor local.set $x"
                           % (rng.randrange(3, 99, 2), rng.randrange(1000)))
                out.append("local.get $y local.get $x i32.const 5 i32.rotl i32.add "
                           "local.set $y")

    out.append("block")     # the outermost label: out of everything
    depth[0] = 1
    body(1, 5)
    depth[0] = 0
    out.append("end")
    return ("  (func (export \"%s\") (param $x i32) (param $y i32) (result i32) "
            "(local $f i32)\n    i32.const 300 local.set $f\n    %s\n    local.get $x "
            "local.get $y i32.xor local.get $f i32.add)" % (name, "\n    ".join(out)))


@pytest.mark.parametrize("seed", range(6))
def test_random_control_flat_against_structured(seed: int) -> None:
    rng = random.Random(seed)
    funcs = [_random_function(rng, "f%d" % i) for i in range(25)]
    text = "(module\n%s)" % "\n".join(funcs)
    validate_module(decode_module(wat2wasm(text)))
    flat, structured = instance(text, mode="flat"), instance(text)
    for i in range(25):
        for x, y in ((0, 0), (1, 2), (7, 3), (0xFFFFFFFF, 5), (123456, 654321)):
            assert flat.func("f%d" % i)(x, y) == structured.func("f%d" % i)(x, y), (i, x, y)


def test_a_long_table_is_not_copied() -> None:
    """A br_table of many labels is one long line: its state is not copied to the 40
    gotos to it (the source would grow by 40 copies of it: a quadratic path)."""
    k = 40
    labels = " ".join(str(i % k) for i in range(20000))
    body = ["block"] * 22 + ["loop $top"]           # nested deeper than the structured limit
    body.append("local.get 1 i32.const 1 i32.add local.tee 1 i32.const 300 i32.gt_u br_if 1")
    body += ["block"] * k
    body.append("local.get 1 i32.const 7 i32.mul local.get 0 i32.xor br_table %s 0" % labels)
    for i in range(k):
        body.append("end local.get 0 i32.const %d i32.add local.set 0 br $top" % (i + 1))
    body += ["end"] * 23
    text = ('(module (func (export "f") (param i32) (result i32) (local i32) %s local.get 0))'
            % " ".join(body))
    src = _flat_source(text, 0)
    assert src.count("_s = (") == 1 and len(src) < 200000, len(src)
    flat, structured = instance(text, mode="flat"), instance(text)
    for x in (0, 5, 12345, 0xFFFFFFFF):
        assert flat.func("f")(x) == structured.func("f")(x), x


def test_if_joins_fold_into_one_goto() -> None:
    """control._fold_if_joins: ``if C: goto T``, Y, ``goto T`` (T's only gotos) becomes
    ``if not (C): Y``, ``goto T``; other shapes stay as they are."""
    from purewasm.compile.control import _fold_if_joins, _goto_refs

    def fold(states: list) -> list:
        refs, _ = _goto_refs(states)
        _fold_if_joins(states, refs)
        return [[(ind, text) for ind, text, _ in lines] for lines in states]

    def state(*lines: tuple) -> list:
        return [(ind, text, 7) for ind, text in lines]

    joined = state((0, "x = 1"), (0, "if l0:"), (1, "_s = 1"), (1, "continue"),
                   (0, "f(l0)"), (0, "if l1:"), (1, "g()"), (0, "_s = 1"), (0, "continue"))
    target = state((0, "return 5"))
    assert fold([joined, target])[0] == [
        (0, "x = 1"), (0, "if not (l0):"), (1, "f(l0)"), (1, "if l1:"), (2, "g()"),
        (0, "_s = 1"), (0, "continue")]
    # The if has an else; the if holds more than the goto; a third goto to T elsewhere.
    with_else = state((0, "if l0:"), (1, "_s = 1"), (1, "continue"), (0, "else:"),
                      (1, "f(l0)"), (0, "_s = 1"), (0, "continue"))
    longer = state((0, "if l0:"), (1, "_s = 1"), (1, "continue"), (1, "h()"),
                   (0, "f(l0)"), (0, "_s = 1"), (0, "continue"))
    for shape in (with_else, longer):
        assert fold([shape, target])[0] == [(i, t) for i, t, _ in shape]
    third = state((0, "_s = 1"), (0, "continue"))
    assert fold([joined, target, third])[0] == [(i, t) for i, t, _ in joined]


IF_JOINS = """(module
  (func $f (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
  (func (export "chain") (param $x i32) (param $n i32) (result i32) (local $acc i32)
    loop $top
      block
        local.get $x i32.const 1 i32.and br_if 0
        local.get $acc call $f local.set $acc
      end
      block
        local.get $x i32.const 2 i32.and br_if 0
        local.get $acc i32.const 7 i32.add local.set $acc
      end
      local.get $x i32.const 1 i32.shr_u local.set $x
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $top
    end
    local.get $acc))"""


def test_if_join_chains_flat_against_structured() -> None:
    flat = instance(IF_JOINS, mode="flat")
    structured = instance(IF_JOINS)
    for x in (0, 1, 2, 3, 5, 0xFFFFFFFF, 0x12345678):
        for n in (1, 2, 7, 31):
            assert flat.func("chain")(x, n) == structured.func("chain")(x, n), (x, n)
