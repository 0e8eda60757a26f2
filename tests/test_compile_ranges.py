"""What the translator knows about locals (compile/ranges.py): narrow locals lose their
bound wherever control paths join or they are assigned again, and pointer locals get the
same values with ``%`` as with ``&``. Each function computes its expected value in
Python; the shapes are checked on CPython only (PyPy keeps its own code shapes)."""
from __future__ import annotations

from typing import Any

import pytest

from compile_helpers import instance
from purewasm.compile.entries import CPYTHON_SHAPES
from purewasm.compile.ranges import address_like

M32 = 0xFFFFFFFF

MODES = [None, "flat", "metered"]


@pytest.mark.parametrize("mode", MODES)
def test_narrow_local_forgotten_at_a_join(mode: Any) -> None:
    # l2 is wide on the branch to the end of the block, a byte on the fallthrough (the
    # last assignment before the join): the store8 after the join must mask it.
    text = """(module (memory 1)
      (func (export "f") (param i32 i32) (result i32) (local i32)
        i32.const 0 i32.const 0x7F i32.store8
        local.get 1 local.set 2
        block
          local.get 0 br_if 0
          i32.const 0 i32.load8_u local.set 2
        end
        i32.const 8 local.get 2 i32.store8
        i32.const 8 i32.load))"""
    f = instance(text, mode=mode).func("f")
    assert f(0, 0x12345) == 0x7F
    assert f(1, 0x12345) == 0x45
    assert f(1, M32) == 0xFF


@pytest.mark.parametrize("mode", MODES)
def test_narrow_local_forgotten_at_a_loop_head(mode: Any) -> None:
    # l2 is a byte before the loop, and wide at the end of each iteration: at the top of
    # the loop (after the first iteration) the store8 must mask it.
    text = """(module (memory 1)
      (func (export "f") (param i32) (result i32) (local i32 i32 i32)
        i32.const 0 i32.load8_u local.set 2
        loop
          i32.const 16 local.get 2 i32.store8
          local.get 1 i32.const 16 i32.load8_u i32.add local.set 1
          local.get 0 local.get 3 i32.mul local.set 2
          local.get 3 i32.const 1 i32.add local.tee 3
          i32.const 4 i32.lt_u br_if 0
        end
        local.get 1))"""
    inst = instance(text, mode=mode)
    inst.memories[0].data[0] = 200
    f = inst.func("f")
    for a in (0x1234, M32, 0x10101):
        want = 200 + sum((a * k) & 0xFF for k in (0, 1, 2))
        assert f(a) == want, a


@pytest.mark.parametrize("mode", MODES)
def test_narrow_sums_and_products(mode: Any) -> None:
    # Bytes and booleans in locals: their sums and products need no mask, and must still
    # be right at the extremes.
    text = """(module (memory 1)
      (func (export "f") (param i32 i32) (result i32) (local i32 i32 i32)
        i32.const 0 local.get 0 i32.store
        i32.const 0 i32.load8_u local.set 2
        i32.const 1 i32.load16_u local.set 3
        local.get 0 local.get 1 i32.lt_u local.set 4
        local.get 2 local.get 3 i32.mul
        local.get 2 i32.add
        local.get 4 i32.add
        local.get 3 i32.const 0x10000 i32.mul i32.add)
      (func (export "h") (param i32) (result i32) (local i32)
        i32.const 0 local.get 0 i32.store
        i32.const 0 i32.load8_u local.set 1
        local.get 1 i32.const 24 i32.shl
        local.get 1 i32.const 25 i32.shl i32.xor)
      (func (export "g") (param i32) (result i64) (local i64)
        i32.const 0 local.get 0 i32.store
        i32.const 0 i64.load32_u local.set 1
        local.get 1 local.get 1 i64.mul
        local.get 1 i64.add))"""
    inst = instance(text, mode=mode)
    f = inst.func("f")
    for a, b in ((0, 0), (M32, 0), (0xFFFF00FF, 1), (0x00FFFF00, M32), (0x80808080, 5)):
        lo, mid = a & 0xFF, (a >> 8) & 0xFFFF
        want = (lo * mid + lo + (1 if a < b else 0) + mid * 0x10000) & M32
        assert f(a, b) == want, (a, b)
    h = inst.func("h")
    for a in (0, 1, 0x80, 0xFF, M32):
        lo = a & 0xFF
        assert h(a) == ((lo << 24) ^ (lo << 25)) & M32, a
    g = inst.func("g")
    for a in (0, 1, M32, 0x80000000):
        assert g(a) == (a * a + a) & 0xFFFFFFFFFFFFFFFF


@pytest.mark.parametrize("mode", MODES)
def test_pointer_locals_wrap_like_any_value(mode: Any) -> None:
    # l1 is read as an address, so its assignments are reduced with %: a value that
    # wraps (below zero, above 2**32) must still be the canonical one.
    text = """(module (memory 1)
      (func (export "f") (param i32 i32) (result i32) (local i32)
        local.get 0 i32.const -16 i32.add local.set 2
        local.get 2 i32.const 3 i32.shl local.get 1 i32.add local.set 2
        local.get 2 i32.const 0xFFFF i32.and i32.load8_u drop
        local.get 2))"""
    f = instance(text, mode=mode).func("f")
    for a, b in ((0, 0), (15, 7), (16, 0), (M32, M32), (0x20000000, 5)):
        assert f(a, b) == ((((a - 16) & M32) << 3) + b) & M32, (a, b)


def test_address_like() -> None:
    assert address_like("((l2 + 112) + l1)")
    assert address_like("(((l2 + 112) + (l1 << 2)) - 8)")
    assert not address_like("(l3 * 7)")
    assert not address_like("((l1 << 13) ^ l1)")
    assert not address_like("(l20 - l18)")       # may be negative
    assert not address_like("l1 >> 3")


@pytest.mark.skipif(not CPYTHON_SHAPES, reason="CPython code shapes")
def test_shapes_on_cpython() -> None:
    # The byte swap of a generic qsort: neither byte is masked when stored; the pointer
    # sums are reduced with %.
    text = """(module (memory 1)
      (func (export "swap") (param i32 i32 i32) (local i32 i32 i32)
        loop
          local.get 0 local.get 2 i32.add local.tee 3 i32.load8_u local.set 5
          local.get 3 local.get 1 local.get 2 i32.add local.tee 4 i32.load8_u i32.store8
          local.get 4 local.get 5 i32.store8
          local.get 2 i32.const 1 i32.sub local.tee 2 br_if 0
        end))"""
    inst = instance(text)
    src = inst.compiled.source(0)
    assert "& 0xFF" not in src, src
    assert "l3 = ((l0 + l2) % 4294967296)" in src, src
    mem = inst.memories[0].data
    mem[0:9] = bytes(range(1, 10))
    want = bytearray(mem[0:9])
    for k in (4, 3, 2, 1):
        want[k], want[4 + k] = want[4 + k], want[k]
    inst.func("swap")(0, 4, 4)
    assert bytes(mem[0:9]) == bytes(want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("t", ["i32", "i64"])
def test_sum_of_two_values_reduced_with_modulo(mode: Any, t: str) -> None:
    # A sum of two canonical values is reduced with % on CPython (it seldom wraps: sizes,
    # offsets, counts, sums of results like fib's); it must be exact when it does wrap.
    w = 32 if t == "i32" else 64
    m = (1 << w) - 1
    text = """(module
      (func (export "f") (param %(t)s %(t)s) (result %(t)s) (local %(t)s)
        local.get 0 local.get 1 %(t)s.add local.set 2
        local.get 2 local.get 0 %(t)s.add))""" % dict(t=t)
    inst = instance(text, mode=mode)
    if CPYTHON_SHAPES and mode is None:
        assert "%% %d)" % (1 << w) in inst.compiled.source(0), inst.compiled.source(0)
    f = inst.func("f")
    for a, b in ((0, 0), (1, 2), (m, 1), (m, m), (1 << (w - 1), 1 << (w - 1)), (5, m - 4)):
        s = (a + b) & m
        assert f(a, b) == (s + a) & m, (a, b)


@pytest.mark.parametrize("mode", MODES)
def test_locals_assigned_at_the_start_need_no_zero(mode: Any) -> None:
    # Locals set in the function's straight-line start before any read are not zeroed
    # at entry (translate.assigned_at_start), nor those set on every path before a read
    # (idioms.Liveness); the others are, and all read right.
    text = """(module
      (func (export "f") (param i32) (result i32) (local i32 i32 i32 i32 i32 i32)
        block
          i32.const 7 local.set 1             ;; set at the start: no zero
          local.get 2 local.set 3             ;; l2 read first: zeroed
        end
        local.get 0 if i32.const 5 local.set 4 end   ;; set in an arm only: zeroed
        loop i32.const 1 local.set 5 end      ;; set on the loop's only path: no zero
        block local.get 0 br_if 0 i32.const 3 local.set 6 end  ;; skipped: zeroed
        local.get 1 local.get 2 i32.add local.get 3 i32.add local.get 4 i32.add
        local.get 5 i32.add local.get 6 i32.add))"""
    inst = instance(text, mode=mode)
    f = inst.func("f")
    assert f(0) == 11 and f(1) == 13
    if mode is None:
        head = inst.compiled.source(0).split("\n")[2]
        assert head.strip() == "l2 = l4 = l6 = 0", inst.compiled.source(0)


def test_assigned_at_start() -> None:
    from purewasm.compile.translate import assigned_at_start
    from purewasm.syntax import Instr

    def body(*ops: Any) -> Any:
        return [Instr(op, imm) for op, imm in ops]
    assert assigned_at_start(body(("i32.const", 1), ("local.set", 1), ("block", None),
                                  ("local.tee", 2), ("end", None), ("local.get", 1))) == {1, 2}
    assert assigned_at_start(body(("local.get", 1), ("local.set", 1))) == set()
    for stop in ("if", "loop", "br", "br_if", "br_table", "return", "unreachable",
                 "try_table", "throw", "return_call", "br_on_null"):
        assert assigned_at_start(body((stop, None), ("local.set", 1))) == set(), stop


@pytest.mark.parametrize("mode", MODES)
def test_base_plus_index_times_size(mode: Any) -> None:
    # base + index * size (two variables multiplied: an element's address) is reduced
    # with % on CPython, a hash's h * 31 + c with &; both exact when they wrap.
    text = """(module
      (func (export "f") (param i32 i32 i32) (result i32) (local i32 i32)
        local.get 0 local.get 1 local.get 2 i32.mul i32.add local.set 3
        local.get 0 i32.const 31 i32.mul local.get 1 i32.add local.set 4
        local.get 3 local.get 4 i32.xor))"""
    inst = instance(text, mode=mode)
    if CPYTHON_SHAPES and mode is None:
        src = inst.compiled.source(0)
        assert "l3 = ((l0 + (l1 * l2)) % 4294967296)" in src, src
        assert "l4 = ((l0 * 31) + l1) & 0xFFFFFFFF" in src, src
    f = inst.func("f")
    for a, b, c in ((0, 0, 0), (16, 3, 4), (M32, M32, M32), (0x80000000, 0x10000, 0x10000),
                    (7, 0x12345678, 0x9ABCDEF)):
        assert f(a, b, c) == ((a + b * c) & M32) ^ ((a * 31 + b) & M32), (a, b, c)


@pytest.mark.skipif(not CPYTHON_SHAPES, reason="CPython code shapes")
def test_sum_with_a_hash_reduced_with_and() -> None:
    # A local just assigned a sum of rotations (a hash's value, ranges.LocalBits
    # .scrambled) wraps often when added to another: & there, % for plain values.
    text = """(module
      (func (export "f") (param i32 i32) (result i32) (local i32 i32)
        local.get 0 i32.const 6 i32.rotr local.get 0 i32.const 11 i32.rotr i32.xor
        local.get 1 i32.add local.set 2
        local.get 2 local.get 1 i32.add local.set 3
        local.get 3 local.get 1 i32.add local.set 3
        local.get 1 i32.const 7 i32.rotl local.get 0 i32.add local.set 2   ;; one rotation
        local.get 2 local.get 3 i32.add))"""
    inst = instance(text)
    src = inst.compiled.source(0)
    assert "l3 = (l2 + l1) & 0xFFFFFFFF" in src, src
    assert "l3 = ((l3 + l1) % 4294967296)" in src, src
    assert "return (l2 + l3) & 0xFFFFFFFF" in src, src
    f = inst.func("f")
    for a, b in ((0, 0), (M32, M32), (0x12345678, 0x9ABCDEF0)):
        x = (((a >> 6) | (a << 26)) ^ ((a >> 11) | (a << 21))) & M32
        y = (((b << 7) | (b >> 25)) + a) & M32
        assert f(a, b) == (x + 3 * b + y) & M32


def _rotl(x: int, k: int) -> int:
    k &= 31
    return ((x << k) | (x >> (32 - k))) & M32


@pytest.mark.parametrize("mode", MODES)
def test_rotations_of_a_local_from_one_pair(mode: Any) -> None:
    # Several constant rotations of one local read one pair x | x << 32 (CPython shapes,
    # ops_numeric.doubled_rotations); rotations left on the operand stack when the local
    # is assigned keep the old value, and the pair dies at assignments and control.
    text = """(module
      (func (export "f") (param i32 i32) (result i32) (local i32)
        local.get 0 i32.const 5 i32.rotl
        local.get 0 i32.const 9 i32.rotr
        local.get 1 local.set 0                     ;; both still pending: old l0
        local.get 0 i32.const 3 i32.rotl
        local.get 0 i32.const 31 i32.rotr
        i32.xor i32.xor i32.xor
        local.tee 2 i32.const 7 i32.rotr
        local.get 2 i32.const 18 i32.rotr
        i32.add
        local.get 1 if (result i32)                   ;; a pair made in one arm only
          local.get 2 i32.const 1 i32.rotl
          local.get 2 i32.const 4 i32.rotl i32.xor
        else
          local.get 2 i32.const 2 i32.rotl
        end
        local.get 2 i32.const 6 i32.rotl              ;; after the join: a new pair
        local.get 2 i32.const 8 i32.rotl i32.xor
        local.get 2 i32.const 32 i32.rotl             ;; by 0: x itself
        i32.add i32.add i32.add))"""

    def ref(a: int, b: int) -> int:
        x = _rotl(a, 5) ^ _rotl(a, 32 - 9) ^ _rotl(b, 3) ^ _rotl(b, 32 - 31)
        y = (_rotl(x, 32 - 7) + _rotl(x, 32 - 18)) & M32
        z = _rotl(x, 1) ^ _rotl(x, 4) if b else _rotl(x, 2)
        return (y + z + (_rotl(x, 6) ^ _rotl(x, 8)) + x) & M32
    inst = instance(text, mode=mode)
    if CPYTHON_SHAPES and mode is None:
        src = inst.compiled.source(0)
        pairs = [line.strip() for line in src.splitlines() if line.strip().startswith("_r")]
        assert pairs == ["_r0 = l0 * 4294967297", "_r1 = l0 * 4294967297",
                         "_r2 = l2 * 4294967297", "_r3 = l2 * 4294967297",
                         "_r4 = l2 * 4294967297"], src
        assert "((l2 * 4294967297) >> 30)" in src, src      # a single one: in place
    f = inst.func("f")
    for a, b in ((0, 0), (1, 0), (0, 1), (M32, 0), (0x80000001, 0x12345678),
                 (0xDEADBEEF, 0xCAFEBABE), (0x7FFFFFFF, M32)):
        assert f(a, b) == ref(a, b), (hex(a), hex(b))


def _counted(init: str, step: int, cmp: str, bound: int, t: str = "i32") -> str:
    # loop: sum += x; x += step (tee); continue while x <cmp> bound; returns sum * 2**16
    # + iterations (at most 100,000: a second exit, to the enclosing block).
    return """(module
      (func (export "f") (param %(t)s) (result %(t)s) (local %(t)s %(t)s %(t)s)
        %(init)s local.set 1
        block
          loop
            local.get 2 local.get 1 %(t)s.add local.set 2
            local.get 3 %(t)s.const 1 %(t)s.add local.tee 3
            %(t)s.const 100000 %(t)s.gt_u br_if 1
            local.get 1 %(t)s.const %(step)d %(t)s.add local.tee 1
            %(t)s.const %(bound)d %(t)s.%(cmp)s br_if 0
          end
        end
        local.get 2 %(t)s.const 65536 %(t)s.mul local.get 3 %(t)s.add))""" % dict(
        t=t, init=init, step=step, cmp=cmp, bound=bound)


def _simulate(x: int, step: int, cmp: str, bound: int, w: int = 32) -> int:
    m = (1 << w) - 1
    s = n = 0
    while True:
        s = (s + x) & m
        n += 1
        if n > 100000:
            break
        x = (x + step) & m
        if not (x != bound if cmp == "ne" else x < bound):
            break
    return (s * 65536 + n) & m


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", [
    ("i32.const 0", 0, 4, "ne", 256),           # a counter (proven: no %)
    ("i32.const 3", 3, 4, "ne", 1027),
    ("i32.const 5", 5, 4, "ne", 256),           # misses the bound: wraps, not proven
    ("i32.const 0x24000", 0x24000, 0x10000, "ne", 0x4000),  # starts above: wraps
    ("i32.const 0", 0, 7, "lt_u", 100),
    ("local.get 0", None, 3, "lt_u", 10),       # unknown start: not proven
])
def test_counted_loops(mode: Any, case: Any) -> None:
    init, x0, step, cmp, bound = case
    f = instance(_counted(init, step, cmp, bound), mode=mode).func("f")
    for arg in (0, 9, M32 - 1, M32):
        start = arg if x0 is None else x0
        assert f(arg) == _simulate(start, step, cmp, bound), (case, arg)


@pytest.mark.parametrize("mode", MODES)
def test_counted_loop_i64(mode: Any) -> None:
    f = instance(_counted("i64.const 0", 8, "ne", 800, "i64"), mode=mode).func("f")
    assert f(0) == _simulate(0, 8, "ne", 800, 64)


@pytest.mark.parametrize("mode", MODES)
def test_counter_with_a_second_back_edge_is_not_bounded(mode: Any) -> None:
    # A second branch to the loop (setting x to the parameter) makes x unbounded: the
    # increment must wrap.
    text = """(module
      (func (export "f") (param i32) (result i32) (local i32 i32)
        i32.const 0 local.set 1
        loop
          local.get 2 i32.const 1 i32.add local.tee 2
          i32.const 3 i32.lt_u
          if
            local.get 0 local.set 1
            br 1
          end
          local.get 1 i32.const 8 i32.add local.tee 1
          i32.const 64 i32.lt_u br_if 0
        end
        local.get 1))"""
    f = instance(text, mode=mode).func("f")
    assert f(0xFFFFFFF0) == 0xFFFFFFF8
    assert f(0xFFFFFFF8) == 64          # wraps to 0, then counts up to 64
    assert f(8) == 64


@pytest.mark.skipif(not CPYTHON_SHAPES, reason="CPython code shapes")
def test_counter_shape_on_cpython() -> None:
    src = instance(_counted("i32.const 0", 4, "ne", 256)).compiled.source(0)
    assert "l1 = l1 + 4" in src, src
    src = instance(_counted("i32.const 5", 4, "ne", 256)).compiled.source(0)
    assert "l1 = ((l1 + 4) % 4294967296)" in src, src


# --- Accessed pointers: l + c after an access of l needs no % (ranges.py) ----------------

@pytest.mark.parametrize("mode", MODES)
def test_pointer_plus_constant_without_an_access_still_wraps(mode: Any) -> None:
    # No access proves anything of l0 here: l0 + 8 must wrap.
    text = """(module (memory 1)
      (func (export "f") (param i32) (result i32)
        local.get 0 i32.const 8 i32.add local.set 0
        local.get 0))"""
    f = instance(text, mode=mode).func("f")
    assert f(M32 - 3) == 4
    assert f(16) == 24


@pytest.mark.parametrize("mode", MODES)
def test_pointer_fact_dies_at_a_join_and_at_an_assignment(mode: Any) -> None:
    # The access of l0 is skipped when l1 is set (the fact dies at the block's end);
    # l0 is reassigned after the second access (the fact dies with the assignment).
    text = """(module (memory 1)
      (func (export "f") (param i32 i32) (result i32)
        block
          local.get 1 br_if 0
          local.get 0 i32.load drop
        end
        local.get 0 i32.const 8 i32.add)
      (func (export "g") (param i32 i32) (result i32)
        i32.const 0 i32.load drop
        local.get 1 local.set 0
        i32.const 0 i32.load drop
        local.get 0 i32.const 8 i32.add))"""
    inst = instance(text, mode=mode)
    f, g = inst.func("f"), inst.func("g")
    assert f(M32 - 3, 1) == 4
    assert f(16, 0) == 24
    assert g(0, M32 - 3) == 4


@pytest.mark.parametrize("mode", MODES)
def test_pointer_plus_constant_after_an_access(mode: Any) -> None:
    # After the load at l0 + 4, l0 + c is exact for small c; larger constants (a
    # subtraction in disguise, or beyond the proven headroom) still wrap.
    text = """(module (memory 1)
      (func (export "f") (param i32) (result i32)
        local.get 0 i32.load offset=4 drop
        local.get 0 i32.const 0x10007 i32.add
        local.get 0 i32.const 0xFFFFFFF8 i32.add
        i32.xor
        local.get 0 i32.const 0x1000F i32.add
        i32.xor)
      (func (export "g") (param i32) (result i32)
        local.get 0 i32.load offset=4 drop
        local.get 0 i32.const 0x10007 i32.add local.set 0
        local.get 0))"""
    inst = instance(text, mode=mode)
    f, g = inst.func("f"), inst.func("g")
    for a in (0, 16, 65528):
        assert f(a) == ((a + 0x10007) ^ ((a - 8) & M32) ^ (a + 0x1000F)) & M32, a
        assert g(a) == a + 0x10007


@pytest.mark.skipif(not CPYTHON_SHAPES, reason="CPython code shapes")
def test_accessed_pointer_shape_on_cpython() -> None:
    # A copy loop: both pointers are bumped right after their access, without %.
    text = """(module (memory 1)
      (func (export "copy") (param i32 i32 i32)
        loop
          local.get 0 local.get 1 f64.load offset=8 f64.store
          local.get 0 i32.const 8 i32.add local.set 0
          local.get 1 i32.const 0x10010 i32.add local.set 1
          local.get 2 i32.const 1 i32.sub local.tee 2 br_if 0
        end))"""
    inst = instance(text)
    src = inst.compiled.source(0)
    assert "l0 = l0 + 8\n" in src, src
    assert "l1 = ((l1 + 65552) % 4294967296)" in src, src     # 65552 = 2**16 + 8 + 8
