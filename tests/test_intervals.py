"""Interval facts across joins (compile/intervals.py).

Two kinds of tests. The analysis itself: each fact is compared with the exact hull of the
values a local can hold at a probe (``local.get X`` followed by ``drop``), computed here
independently (a fact tighter than that is unsound, a looser one lost precision: both
fail). And the translated code: boundary inputs, loops whose counters wrap on purpose,
values >= 2**31, in every lowering, against results computed in Python; on CPython, the
shapes (no ``%`` where a fact proves a sum in range).
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

import pytest

from compile_helpers import instance
from purewasm.binary import decode_module
from purewasm.compile import control
from purewasm.compile.entries import CPYTHON_SHAPES
from purewasm.compile.intervals import NO_FACTS, Facts, analyse
from purewasm.compile.scan import Scan
from purewasm.compile.translate import Translator
from purewasm.text import wat2wasm

M32 = (1 << 32) - 1
MODES = [None, "flat", "metered"]


def _analysed(text: str) -> Tuple[Facts, list]:
    """The facts of the module's first function, and its body."""
    module = decode_module(wat2wasm(text))
    tr = Translator(module, module.num_imported_funcs())
    body = tr.func.body
    scan = Scan(body)
    facts = analyse(body, tr.local_types, len(tr.type.params), scan.end_of, scan.refs,
                    tr.block_arity, tr.call_arity)
    return facts, body


def _probes(text: str) -> List[Optional[Tuple[int, int]]]:
    """The bounds at each probe (``local.get X drop``), in order (None: nothing known,
    or the probe is never reached)."""
    facts, body = _analysed(text)
    return [facts.locals.get(i) for i, ins in enumerate(body)
            if ins.op == "local.get" and i + 1 < len(body) and body[i + 1].op == "drop"]


def _signed(x: int, w: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


def _holds(op: str, a: int, b: int, w: int) -> bool:
    if op.endswith("_s"):
        a, b = _signed(a, w), _signed(b, w)
    return {"eq": a == b, "ne": a != b, "lt_u": a < b, "gt_u": a > b, "le_u": a <= b,
            "ge_u": a >= b, "lt_s": a < b, "gt_s": a > b, "le_s": a <= b,
            "ge_s": a >= b}[op]


def _hull(pred: Any, c: int, w: int) -> Optional[Tuple[int, int]]:
    """The hull of the w-bit x with pred(x) (None: all values, or none). The set is a
    union of intervals whose ends are among the candidates, so its least and greatest
    elements are too."""
    m = (1 << w) - 1
    h = 1 << (w - 1)
    cands = sorted({v for v in (0, 1, 2, c - 1, c, c + 1, h - 1, h, h + 1, m - 1, m)
                    if 0 <= v <= m})
    inside = [v for v in cands if pred(v)]
    if not inside or (inside[0] == 0 and inside[-1] == m):
        return None
    return inside[0], inside[-1]


OPS = ["eq", "ne", "lt_u", "gt_u", "le_u", "ge_u", "lt_s", "gt_s", "le_s", "ge_s"]
CONSTS_32 = [0, 1, 5, 0x7FFFFFFE, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, M32]


def _compare(op: str, c: int, const_first: bool, t: str = "i32") -> str:
    ops = "%s.const %d local.get 0" % (t, c) if const_first else \
        "local.get 0 %s.const %d" % (t, c)
    return "%s %s.%s" % (ops, t, op)


@pytest.mark.parametrize("op", OPS)
def test_branch_conditions_refine_exactly(op: str) -> None:
    # br_if (taken: true; fallthrough: false), if/else, and the condition under eqz, for
    # both operand orders and constants around 0, 2**31 and 2**32.
    for c in CONSTS_32:
        for const_first in (False, True):
            cmp = _compare(op, c, const_first)

            def pred(x: int, truth: bool, c: int = c, const_first: bool = const_first) -> bool:
                r = _holds(op, c, x, 32) if const_first else _holds(op, x, c, 32)
                return r == truth

            want_t = _hull(lambda x: pred(x, True), c, 32)
            want_f = _hull(lambda x: pred(x, False), c, 32)
            text = """(module (func (param i32)
              block %s br_if 0 local.get 0 drop return end
              local.get 0 drop))""" % cmp
            assert _probes(text) == [want_f, want_t], (op, c, const_first)
            text = """(module (func (param i32)
              %s if local.get 0 drop else local.get 0 drop end))""" % cmp
            assert _probes(text) == [want_t, want_f], (op, c, const_first)
            text = """(module (func (param i32)
              block %s i32.eqz br_if 0 local.get 0 drop return end
              local.get 0 drop))""" % cmp
            assert _probes(text) == [want_t, want_f], (op, c, const_first)


@pytest.mark.parametrize("op", OPS)
def test_branch_conditions_refine_exactly_i64(op: str) -> None:
    m = (1 << 64) - 1
    for c in (0, 3, (1 << 63) - 1, 1 << 63, m):
        text = """(module (func (param i64)
          block local.get 0 i64.const %d i64.%s br_if 0 local.get 0 drop return end
          local.get 0 drop))""" % (c, op)
        want_t = _hull(lambda x, c=c: _holds(op, x, c, 64), c, 64)
        want_f = _hull(lambda x, c=c: not _holds(op, x, c, 64), c, 64)
        assert _probes(text) == [want_f, want_t], (op, c)


def test_eqz_and_plain_values_as_conditions() -> None:
    text = """(module (func (param i32)
      local.get 0 if local.get 0 drop else local.get 0 drop end
      local.get 0 i32.eqz if local.get 0 drop else local.get 0 drop end))"""
    assert _probes(text) == [(1, M32), (0, 0), (0, 0), (1, M32)]


def test_comparison_of_two_values() -> None:
    # y in [0, 127]; x <u y bounds x by 126 and y from below by 1 (x >= 0).
    text = """(module (func (param i32 i32)
      local.get 1 i32.const 127 i32.and local.set 1
      local.get 0 local.get 1 i32.lt_u
      if local.get 0 drop local.get 1 drop else local.get 0 drop local.get 1 drop end
      local.get 1 local.get 0 i32.gt_s
      if local.get 0 drop end))"""
    # else: x >=u y: nothing on x (y may be 0), nothing new on y. gt_s: y >s x, so x <s
    # 127: [0, 126] or negative (not an interval).
    assert _probes(text) == [(0, 126), (1, 127), None, (0, 127), None]


def test_relation_carries_a_condition_to_a_sum() -> None:
    # l1 = l2 - 2 with l2 in [2, 2**31): a condition on l2 bounds l1 too.
    text = """(module (func (param i32) (local i32 i32)
      block
        local.get 0 i32.const 2 i32.lt_s br_if 0
        local.get 0 local.tee 2 i32.const -2 i32.add local.set 1
        local.get 1 drop
        local.get 2 i32.const 3 i32.gt_u
        if local.get 1 drop else local.get 1 drop end
        i32.const 7 local.set 2
        local.get 2 i32.const 100 i32.gt_u
        if local.get 1 drop end
      end))"""
    # After l2 is assigned again the relation is gone: the last probe is dead (7 > 100
    # is false), so nothing is recorded there.
    assert _probes(text) == [(0, 0x7FFFFFFD), (2, 0x7FFFFFFD), (0, 1), None]


def test_relation_dies_when_its_base_is_assigned() -> None:
    text = """(module (func (param i32) (local i32 i32)
      local.get 0 i32.const 255 i32.and local.tee 2 i32.const 1 i32.add local.set 1
      local.get 0 local.set 2
      local.get 2 i32.const 10 i32.lt_u
      if local.get 1 drop end))"""
    assert _probes(text) == [(1, 256)]


def test_masked_local_follows_its_base() -> None:
    # l1 = l0 & 0x7FFFFFFE is a monotonic function of l0 below 2**31: once l0 >= 2 is
    # known, l1 >= 2 (the matmul kernel's unrolled loop bound).
    text = """(module (func (param i32) (local i32)
      block
        local.get 0 i32.const 1 i32.lt_s br_if 0
        local.get 0 i32.const 0x7FFFFFFE i32.and local.set 1
        local.get 1 drop
        local.get 0 i32.const 1 i32.eq br_if 0
        local.get 1 drop
      end))"""
    assert _probes(text) == [(0, 0x7FFFFFFE), (2, 0x7FFFFFFE)]


def test_joins_take_the_hull() -> None:
    text = """(module (func (param i32) (local i32)
      local.get 0 if i32.const 10 local.set 1 else i32.const 20 local.set 1 end
      local.get 1 drop
      block
        i32.const 5 local.set 1
        local.get 0 br_if 0
        i32.const 300 local.set 1
      end
      local.get 1 drop
      local.get 0 i32.const 3 i32.lt_u
      if i32.const 1 local.set 1 else local.get 0 local.set 1 end
      local.get 1 drop
      local.get 0 if i32.const 1 local.set 1 else local.get 0 local.set 1 end
      local.get 1 drop
      local.get 0 if i32.const 1 local.set 1 else i32.const 4 local.get 0 i32.sub local.set 1 end
      local.get 1 drop))"""
    # Else: l0 >= 3; l0 == 0 (so l1 is 0 or 1); l1 = 4 - 0.
    assert _probes(text) == [(10, 20), (5, 300), (1, M32), (0, 1), (1, 4)]


def _fib_like() -> str:
    return """(module (func (export "f") (param i32) (result i32) (local i32 i32)
      block
        local.get 0 i32.const 2 i32.lt_s br_if 0
        loop
          local.get 0 drop
          local.get 0 local.tee 2 i32.const -2 i32.add local.set 0
          local.get 1 local.get 2 i32.const -1 i32.add i32.add local.set 1
          local.get 2 i32.const 3 i32.gt_u br_if 0
        end
      end
      local.get 0 local.get 1 i32.add))"""


def _fib_like_ref(n: int) -> int:
    l0, l1 = n, 0
    if _signed(n, 32) >= 2:
        while True:
            l2 = l0
            l0 = (l2 - 2) & M32
            l1 = (l1 + l2 - 1) & M32
            if l2 <= 3:
                break
    return (l0 + l1) & M32


def test_loop_invariant_from_the_entry_and_the_back_edge() -> None:
    # At the head l0 is in [2, 2**31): on entry (l0 >=s 2), on the back edge because
    # l2 > 3 and l0 = l2 - 2.
    assert _probes(_fib_like()) == [(2, 0x7FFFFFFF)]


@pytest.mark.parametrize("mode", MODES)
def test_loop_invariant_results(mode: Any) -> None:
    f = instance(_fib_like(), mode=mode).func("f")
    for n in (0, 1, 2, 3, 4, 5, 17, 0x7FFF, 0x7FFFFFFF, 0x80000000, M32):
        if n >= 0x10000 and n < 0x80000000:
            continue    # a long loop
        assert f(n) == _fib_like_ref(n), n


def test_loop_invariant_shape_on_cpython() -> None:
    if not CPYTHON_SHAPES:
        pytest.skip("CPython code shapes only")
    src = instance(_fib_like()).compiled.source(0)
    loop = src.split("while True:")[1].split("break")[0]
    assert "l0 = l2 - 2\n" in loop
    assert "l2 - 2) %" not in loop and "l2 - 2) &" not in loop


def _counter_loop(init: int, step: int, cmp: str, bound: str, t: str = "i32") -> str:
    """A loop counting l1 from ``init`` by ``step`` while ``l1 cmp bound`` (after the
    increment); returns the number of iterations plus 1000 * (l1 + 7) at the last
    iteration's head (that sum is what a fact would leave unmasked)."""
    return """(module (func (export "f") (param %(t)s) (result i32) (local %(t)s %(t)s i32)
      %(t)s.const %(init)d local.set 1
      local.get 0 local.set 2
      loop
        local.get 1 drop
        local.get 1 %(t)s.const 7 %(t)s.add %(t)s.const 1000 %(t)s.mul local.set 2
        local.get 3 i32.const 1 i32.add local.set 3
        local.get 1 %(t)s.const %(step)d %(t)s.add local.tee 1
        %(bound)s %(t)s.%(cmp)s br_if 0
      end
      local.get 3 local.get 2 %(wrap)s i32.add))""" % {
        "t": t, "init": init, "step": step, "cmp": cmp, "bound": bound,
        "wrap": "i32.wrap_i64" if t == "i64" else ""}


def _counter_ref(init: int, step: int, cmp: str, bound: int, w: int = 32) -> int:
    m = (1 << w) - 1
    x, n, last = init, 0, 0
    while True:
        last = ((x + 7) * 1000) & m
        n += 1
        x = (x + step) & m
        if not _holds(cmp, x, bound, w):
            break
    return (n + last) & M32


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", [
    (0, 1, "ne", 10), (3, 4, "ne", 1027), (0, 2, "ne", 64),
    # Counters that wrap on purpose: past 2**32 - 1 and on to the bound.
    (0xFFFFFFF0, 1, "ne", 5), (0xFFFFFFF1, 2, "ne", 5), (0xFFFFFFFB, 4, "ne", 3),
    (0xFFFFFFF0, 1, "lt_u", 5), (0xFFFFFFFE, 1, "ne", 0), (9, 1, "lt_u", 3),
])
def test_counters_with_a_constant_bound(mode: Any, case: Any) -> None:
    init, step, cmp, bound = case
    f = instance(_counter_loop(init, step, cmp, "i32.const %d" % bound), mode=mode).func("f")
    assert f(0) == _counter_ref(init, step, cmp, bound)


def test_counter_facts() -> None:
    def head(init: int, step: int, cmp: str, bound: str) -> Any:
        return _probes(_counter_loop(init, step, cmp, bound))[0]

    assert head(0, 1, "ne", "i32.const 10") == (0, 9)
    assert head(3, 4, "ne", "i32.const 1027") == (3, 1023)
    assert head(0, 1, "lt_u", "i32.const 10") == (0, 9)
    # Wrapping counters: the head sees values near 2**32 and small ones.
    assert head(0xFFFFFFF0, 1, "ne", "i32.const 5") is None
    assert head(0xFFFFFFF1, 2, "ne", "i32.const 5") is None
    # B - x0 not a multiple of the step: x runs past B (and wraps).
    assert head(0, 2, "ne", "i32.const 7") is None
    # x0 == B: the first increment goes past B.
    assert head(7, 1, "ne", "i32.const 7") is None
    # The bound a parameter: nothing known of it.
    assert head(0, 1, "ne", "local.get 0") is None


def _counter_to_local(step: int, mask: int, guard: str) -> str:
    """l1 from 0 by ``step`` while != l4 = l0 & mask (not assigned in the loop),
    entered when ``guard`` (on l4) holds."""
    return """(module (func (export "f") (param i32) (result i32) (local i32 i32 i32 i32)
      local.get 0 i32.const %(mask)d i32.and local.set 4
      block
        %(guard)s
        loop
          local.get 1 drop
          local.get 3 i32.const 1 i32.add local.set 3
          local.get 4 local.get 1 i32.const %(step)d i32.add local.tee 1 i32.ne br_if 0
        end
      end
      local.get 3 i32.const 16 i32.shl local.get 1 i32.add))""" % {
        "mask": mask, "step": step, "guard": guard}


def test_counter_against_a_loop_invariant_local() -> None:
    # l4 in [1, 2**31) (and its guard), l1 from 0 by 1: l1 in [0, l4 - 1] at the head.
    guard = "local.get 4 i32.const 1 i32.lt_s br_if 0"
    text = _counter_to_local(1, 0x7FFFFFFF, guard)
    assert _probes(text) == [(0, 0x7FFFFFFE)]
    # By 2: l4 must be even (masked with ...FE) and >= 2 (l4 == 0 excluded).
    guard2 = "local.get 4 i32.eqz br_if 0"
    text = _counter_to_local(2, 0x7FFFFFFE, guard2)
    assert _probes(text) == [(0, 0x7FFFFFFC)]
    # Odd bounds allowed (mask ...FF): l1 may run past l4 and wrap.
    text = _counter_to_local(2, 0x7FFFFFFF, guard2)
    assert _probes(text) == [None]
    # Without the guard l4 may be 0: l1 = 1 != 0 loops through 2**32 values.
    text = _counter_to_local(1, 0x7FFFFFFF, "")
    assert _probes(text) == [None]


@pytest.mark.parametrize("mode", MODES)
def test_counter_against_a_local_results(mode: Any) -> None:
    text = _counter_to_local(2, 0x7FFFFFFE, "local.get 4 i32.eqz br_if 0")
    f = instance(text, mode=mode).func("f")
    for n in (0, 1, 2, 3, 10, 0x80000002, 0x80000010, M32 - 200):
        b = n & 0x7FFFFFFE
        if b > 1000:
            continue
        want = 0 if b == 0 else (((b // 2) << 16) + b) & M32
        assert f(n) == want, n


def test_counter_shapes_on_cpython(monkeypatch: pytest.MonkeyPatch) -> None:
    if not CPYTHON_SHAPES:
        pytest.skip("CPython code shapes only")
    text = _counter_to_local(2, 0x7FFFFFFE, "local.get 4 i32.eqz br_if 0")
    assert "for _k in range(" in instance(text).compiled.source(0)
    # The step itself, when the loop stays a while loop (control.COUNTED_FOR_LOOPS).
    monkeypatch.setattr(control, "COUNTED_FOR_LOOPS", False)
    src = instance(text).compiled.source(0)
    assert "l1 = l1 + 2\n" in src
    # The wrapping one keeps its reduction.
    src = instance(_counter_loop(0xFFFFFFF0, 1, "ne", "i32.const 5")).compiled.source(0)
    assert "l1 + 1) % 4294967296" in src or "l1 + 1) & 0xFFFFFFFF" in src


def test_counter_refused_shapes() -> None:
    # A second assignment of the counter, an increment in a nested block (not run on
    # every iteration), the bound assigned in the loop, a second back edge: no lemma;
    # the fixpoint alone bounds none of them.
    base = """(module (func (param i32) (local i32 i32)
      i32.const 10 local.set 2
      loop
        local.get 1 drop
        %s
        local.get 1 i32.const 1 i32.add local.tee 1
        local.get 2 i32.ne br_if 0
      end))"""
    assert _probes(base % "") == [(0, 9)]
    assert _probes(base % "local.get 0 if i32.const 0 local.set 1 end") == [None]
    assert _probes(base % "local.get 0 if i32.const 20 local.set 2 end") == [None]
    assert _probes(base % "local.get 0 br_if 0") == [None]
    nested = """(module (func (param i32) (local i32 i32)
      i32.const 10 local.set 2
      loop
        local.get 1 drop
        block local.get 0 br_if 0
          local.get 1 i32.const 1 i32.add local.set 1 end
        local.get 1 local.get 2 i32.ne br_if 0
      end))"""
    assert _probes(nested) == [None]


@pytest.mark.parametrize("mode", MODES)
def test_i64_counter_wraps(mode: Any) -> None:
    m = (1 << 64) - 1
    for init, step, cmp, bound in ((m - 5, 1, "ne", 3), (0, 1, "ne", 9), (m - 5, 2, "ne", 2)):
        text = _counter_loop(init, step, cmp, "i64.const %d" % bound, "i64")
        f = instance(text, mode=mode).func("f")
        assert f(0) == _counter_ref(init, step, cmp, bound, 64), (init, step, cmp, bound)


@pytest.mark.parametrize("mode", MODES)
def test_guarded_sums_at_the_edges(mode: Any) -> None:
    # Sums the facts leave unmasked on one path, wrapping on the other; inputs at both
    # sides of every boundary (signed and unsigned).
    text = """(module (func (export "f") (param i32 i32) (result i32)
      block
        local.get 0 i32.const 10 i32.lt_s br_if 0
        local.get 0 i32.const -10 i32.add
        local.get 0 i32.const 0x7FFFFFF0 i32.add i32.xor return
      end
      block
        local.get 0 i32.const 0xFFFFFFF0 i32.ge_u br_if 0
        local.get 0 i32.const 15 i32.add return
      end
      local.get 0 i32.const 0x10 i32.add local.get 1 i32.const 1 i32.sub i32.xor))"""
    f = instance(text, mode=mode).func("f")

    def ref(x: int, y: int) -> int:
        if _signed(x, 32) >= 10:
            return ((x - 10) ^ (x + 0x7FFFFFF0)) & M32
        if x < 0xFFFFFFF0:
            return (x + 15) & M32
        return ((x + 0x10) ^ (y - 1)) & M32

    for x in (0, 1, 9, 10, 11, 0x7FFFFFFF, 0x80000000, 0xFFFFFFEF, 0xFFFFFFF0, M32):
        for y in (0, 1, M32):
            assert f(x, y) == ref(x, y), (x, y)


def test_unmodelled_instructions_give_up() -> None:
    # Exceptions (try_table): no facts at all rather than a guess.
    text = """(module (tag $e) (func (param i32) (local i32)
      i32.const 5 local.set 1
      local.get 1 drop
      block try_table (catch $e 0) end end))"""
    facts, _ = _analysed(text)
    assert facts is NO_FACTS


def test_deep_loop_nests_fall_back_to_a_linear_pass() -> None:
    # Nested loops each re-analysing their body would be exponential in the depth; the
    # budget makes it a single pass per loop (still sound, less precise). Finishing is
    # the test (it would not finish otherwise).
    depth = 40
    inner = "local.get 1 drop local.get 1 i32.const 1 i32.add local.set 1 " \
            "local.get 0 br_if 0 "
    text = "(module (func (param i32) (local i32 i32) i32.const 5 local.set 2 %s%s%s))" % (
        "loop " * depth, inner * 3 + "local.get 2 drop ", "local.get 0 br_if 0 end " * depth)
    probes = _probes(text)
    # l1 (assigned in the loops) unknown; l2 (not assigned) keeps its value.
    assert probes == [None, None, None, (5, 5)]


def test_long_straight_body_is_linear() -> None:
    # 20,000 conditionals in sequence: each join is O(1) (states are capped).
    arms = "local.get 0 i32.const %d i32.lt_u if i32.const 1 local.set 1 end " * 1
    text = "(module (func (param i32) (local i32) %s local.get 1 drop))" % (
        "".join(arms % k for k in range(20000)))
    assert _probes(text) == [(0, 1)]


def test_condition_on_a_value_read_before_an_assignment() -> None:
    # The compared value is l0's old value: it says nothing of l0 = 5.
    text = """(module (func (param i32)
      local.get 0
      i32.const 5 local.set 0
      i32.const 10 i32.lt_u
      if local.get 0 drop else local.get 0 drop end))"""
    assert _probes(text) == [(5, 5), (5, 5)]


def _operand(param: int, base: int, t: str = "i32") -> str:
    """``l<param> & 15`` plus ``base``: a value in [base, base + 15] (modulo 2**N)."""
    return "local.get %d %s.const 15 %s.and %s.const %d %s.add" % (param, t, t, t, base, t)


_EXACT = {"add", "sub", "mul", "wrap", "extend_u"}   # with both operands ranges


@pytest.mark.parametrize("op", ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_u",
                                "shr_s", "div_u", "rem_u", "clz", "popcnt", "wrap",
                                "extend_u", "extend_s"])
def test_transfer_functions_cover_every_value(op: str) -> None:
    # Each operation on operands in small ranges (near 0, 2**31 and 2**32, so that
    # results wrap): the fact must contain every result (computed here by brute force),
    # and equal their hull where the analysis is exact.
    for a0, b0 in ((0, 1), (10, 3), (0x7FFFFFF8, 2), (0xFFFFFFF0, 1), (0xFFFFFFF8, 0xFFFFFFF8),
                   (100, 0x7FFFFFF0)):
        if op in ("shl", "shr_u", "shr_s"):
            b0 = b0 & 7
        if op in ("div_u", "rem_u") and b0 == 0:
            b0 = 1
        a_vals = [(a0 + k) & M32 for k in range(16)]
        b_vals = [(b0 + k) & M32 for k in range(16)]
        if op in ("clz", "popcnt", "wrap", "extend_u", "extend_s"):
            t_in = "i64" if op == "wrap" else "i32"
            body = {"clz": "i32.clz", "popcnt": "i32.popcnt", "wrap": "i32.wrap_i64",
                    "extend_u": "i64.extend_i32_u", "extend_s": "i64.extend_i32_s"}[op]
            t_out = "i64" if op.startswith("extend") else "i32"
            text = """(module (func (param %s) (local %s)
              %s %s local.set 1 local.get 1 drop))""" % (
                t_in, t_out, _operand(0, a0, t_in), body)
            fn = {"clz": lambda a, b: 32 - a.bit_length(),
                  "popcnt": lambda a, b: bin(a).count("1"),
                  "wrap": lambda a, b: a & M32, "extend_u": lambda a, b: a,
                  "extend_s": lambda a, b: _signed(a, 32) & ((1 << 64) - 1)}[op]
            results = [fn(a, 0) for a in a_vals]
        else:
            text = """(module (func (param i32 i32) (local i32)
              %s %s i32.%s local.set 2 local.get 2 drop))""" % (
                _operand(0, a0), _operand(1, b0), op)

            ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                   "mul": lambda a, b: a * b, "and": lambda a, b: a & b,
                   "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
                   "shl": lambda a, b: a << (b & 31), "shr_u": lambda a, b: a >> (b & 31),
                   "shr_s": lambda a, b: _signed(a, 32) >> (b & 31),
                   "div_u": lambda a, b: a // b, "rem_u": lambda a, b: a % b}

            def fn(a: int, b: int, ops: Any = ops) -> int:
                return ops[op](a, b) & M32

            # A zero divisor traps: no result.
            results = [fn(a, b) for a in a_vals for b in b_vals
                       if b or op not in ("div_u", "rem_u")]
        got = _probes(text)[0]
        lo, hi = min(results), max(results)
        full = (1 << (64 if op.startswith("extend") else 32)) - 1
        exact = op in _EXACT and not _wraps(op, a_vals, b_vals)
        if got is None:
            # Nothing known: fine unless the analysis is exact here.
            assert not exact or (lo, hi) == (0, full), (op, a0, b0)
            continue
        assert got[0] <= lo and hi <= got[1], (op, a0, b0, got, (lo, hi))
        if exact:
            assert got == (lo, hi), (op, a0, b0, got, (lo, hi))


def _wraps(op: str, a_vals: List[int], b_vals: List[int]) -> bool:
    """Whether the exact results of ``op`` cross a multiple of 2**32 (or an operand
    range does): the analysis then knows nothing."""
    if max(a_vals) - min(a_vals) != 15 or max(b_vals) - min(b_vals) != 15:
        return True
    exact = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
             "mul": lambda a, b: a * b, "shl": lambda a, b: a << (b & 31)}.get(op)
    if exact is None:
        return False
    rs = [exact(a, b) for a in a_vals for b in b_vals]
    return min(rs) >> 32 != max(rs) >> 32


def test_counter_below_an_unsigned_bound_that_wraps() -> None:
    # x from 5 by 24 while x <u 0xFFFFFFF8: x + 24 wraps to a value below 5 at some
    # point, so the head has no lower bound 5.
    got = _probes(_counter_loop(5, 24, "lt_u", "i32.const 0xFFFFFFF8"))[0]
    assert got is None or got[0] == 0


def test_long_eqz_chain_is_not_a_recursion() -> None:
    # 50,001 eqz of a comparison: the condition is the comparison, negated (odd count).
    text = "(module (func (param i32) local.get 0 i32.const 10 i32.lt_u %s " \
        "if local.get 0 drop end))" % ("i32.eqz " * 50001)
    assert _probes(text) == [(10, M32)]


def test_out_of_budget_loops_keep_what_one_pass_proves(monkeypatch: Any) -> None:
    # With no budget at all every loop takes the one-pass head: the locals it assigns
    # unknown (here l1), the others kept (l2), counters still bounded by the lemma (l3).
    import purewasm.compile.intervals as intervals
    monkeypatch.setattr(intervals, "_BUDGET_PER_INSTR", 0)
    monkeypatch.setattr(intervals, "_BUDGET_FLOOR", 3)
    text = """(module (func (param i32) (local i32 i32 i32)
      i32.const 5 local.set 2
      loop
        local.get 1 drop local.get 2 drop local.get 3 drop
        local.get 1 i32.const 1 i32.add local.set 1
        local.get 3 i32.const 1 i32.add local.tee 3 i32.const 10 i32.ne br_if 0
      end))"""
    assert _probes(text) == [None, (5, 5), (0, 9)]
