"""The view version's index arithmetic (compile/views.py, session 8): invariant parts of
an index computed once at loop entry (``hoist_invariant_sums``), a local that holds an
address for a few lines carried as an element index (``_temporary_indexes``), and
indexes used without their reduction, with the reduced index as the fallback when the
subscript raises (``unwrap_indexes``). Every case runs with views and without (the
struct loop alone) and compares results, traps and memory; addresses that wrap around
2**32 onto valid memory are what the fallback is for."""
from __future__ import annotations

import struct
from typing import Any, List, Tuple

import pytest

from compile_helpers import instance
from purewasm.compile import translate, views
from purewasm.errors import Trap

WAT = """
(module
  (memory 1)
  ;; s += mem32[base + 16 + 4*i] for i in [i0, n): an invariant base plus a scaled
  ;; counter; base near 2**32 wraps the addresses onto the start of memory
  (func (export "sum") (param $base i32) (param $i i32) (param $n i32) (result i32)
    (local $s i32)
    loop
      local.get $s
      local.get $base i32.const 16 i32.add local.get $i i32.const 2 i32.shl i32.add
      i32.load i32.add local.set $s
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end
    local.get $s)
  ;; mem32[base + 4*i] = mem32[base + 4*i + 8] + i: a store through the same sum
  (func (export "shift") (param $base i32) (param $i i32) (param $n i32)
    loop
      local.get $base local.get $i i32.const 2 i32.shl i32.add
      local.get $base local.get $i i32.const 2 i32.shl i32.add i32.load offset=8
      local.get $i i32.add
      i32.store
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end)
  ;; t holds the address base + 4*i + 8 for a few lines (mem32[t] += 1), then the word
  ;; at t + 4 (a value, added to s): the vm kernel's stack pointer arithmetic
  (func (export "temp") (param $base i32) (param $i i32) (param $n i32) (result i32)
    (local $s i32) (local $t i32)
    loop
      local.get $base local.get $i i32.const 2 i32.shl i32.add i32.const 8 i32.add
      local.set $t
      local.get $t local.get $t i32.load i32.const 1 i32.add i32.store
      local.get $t i32.load offset=4 local.set $t
      local.get $s local.get $t i32.add local.set $s
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end
    local.get $s)
  ;; as temp, but t's address is still read after an if: not a temporary index
  (func (export "kept") (param $base i32) (param $i i32) (param $n i32) (result i32)
    (local $s i32) (local $t i32)
    loop
      local.get $base local.get $i i32.const 2 i32.shl i32.add local.set $t
      local.get $t local.get $t i32.load i32.const 3 i32.add i32.store
      local.get $i i32.const 1 i32.and
      if
        local.get $s i32.const 1 i32.add local.set $s
      end
      local.get $s local.get $t i32.add local.set $s
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end
    local.get $s)
  ;; an i64 at base + 4*i + 4 (a multiple of 4, not always of 8) rotated by 32 in place,
  ;; and its low word copied 8 bytes further by load32_u/store32 (the u32 view)
  (func (export "halves") (param $base i32) (param $i i32) (param $n i32) (result i64)
    (local $t i32) (local $s i64)
    loop
      local.get $base local.get $i i32.const 2 i32.shl i32.add i32.const 4 i32.add
      local.set $t
      local.get $t local.get $t i64.load i64.const 32 i64.rotl i64.store
      local.get $t local.get $t i64.load32_u offset=4 i64.store32 offset=8
      local.get $s local.get $t i64.load i64.add local.set $s
      local.get $i i32.const 3 i32.add local.tee $i
      local.get $n i32.lt_u br_if 0
    end
    local.get $s)
  ;; i64 stores at base + 4*i + 4 with nothing loaded there first: near the end of
  ;; memory the high word is out of bounds while the low one is not
  (func (export "fill64") (param $base i32) (param $i i32) (param $n i32)
    loop
      local.get $base local.get $i i32.const 2 i32.shl i32.add
      i64.const 0x1122334455667788 i64.store offset=4
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.lt_u br_if 0
    end)
)
"""

Outcome = Tuple[Any, bytes]
TOP = 2**32


def _run(with_views: bool, monkeypatch: pytest.MonkeyPatch, name: str, *args: int) -> Outcome:
    monkeypatch.setattr(translate, "TYPED_VIEWS", with_views and views.TYPED_VIEWS)
    inst = instance(WAT)
    data = inst.memories[0].data
    struct.pack_into("<1024I", data, 0, *[(k * 0x9E3779B9 + 11) & 0xFFFFFFFF
                                          for k in range(1024)])
    try:
        result: Any = inst.func(name)(*args)
    except Trap as trap:
        result = "trap: %s" % trap
    return result, bytes(data)


def _both(monkeypatch: pytest.MonkeyPatch, name: str, *args: int) -> Outcome:
    with_views = _run(True, monkeypatch, name, *args)
    without = _run(False, monkeypatch, name, *args)
    assert with_views[0] == without[0]
    assert with_views[1] == without[1]
    return with_views


def _words(k: int) -> int:
    return (k * 0x9E3779B9 + 11) & 0xFFFFFFFF


# (base, first i, end): aligned and not, in memory, wrapping past 2**32 onto valid
# memory (the fallback), wrapping onto the end (trap), and past the end (trap).
CASES = [(0, 0, 40), (64, 3, 50), (2, 0, 10), (TOP - 64, 12, 60), (TOP - 64, 16, 40),
         (TOP - 16, 0, 20), (TOP - 4096, 1020, 1040), (TOP - 62, 16, 30),
         (65536 - 32, 0, 8), (65536 - 32, 0, 4), (TOP - 128, 0, 2)]


@pytest.mark.parametrize("base, i, n", CASES)
def test_sum_with_wrapping_addresses(base: int, i: int, n: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    result, _ = _both(monkeypatch, "sum", base, i, n)
    want: Any = 0
    for k in range(i, n):
        addr = (base + 16 + 4 * k) % TOP
        if addr + 4 > 65536:
            want = "trap"
            break
        if addr % 4:
            want = None     # unaligned: the comparison with struct is the check
            break
        word = _words(addr // 4) if addr < 4096 else 0
        want = (want + word) & 0xFFFFFFFF
    if want == "trap":
        assert str(result).startswith("trap: ")
    elif want is not None:
        assert result == want


@pytest.mark.parametrize("base, i, n", CASES)
def test_store_with_wrapping_addresses(base: int, i: int, n: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _both(monkeypatch, "shift", base, i, n)


@pytest.mark.parametrize("base, i, n", CASES)
def test_temporary_index(base: int, i: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    _both(monkeypatch, "temp", base, i, n)


@pytest.mark.parametrize("base, i, n", CASES)
def test_address_read_after_a_join_is_not_temporary(base: int, i: int, n: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _both(monkeypatch, "kept", base, i, n)


@pytest.mark.parametrize("base, i, n", CASES + [(65536 - 24, 0, 4), (65536 - 16, 0, 4)])
def test_i64_through_the_u32_view(base: int, i: int, n: int,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # (65536 - 24, 0, 4): the second i64 ends 4 bytes past the end of memory: a trap,
    # and nothing of it written
    _both(monkeypatch, "halves", base, i, n)


@pytest.mark.parametrize("base, i, n", CASES + [(65536 - 16, 0, 4), (65536 - 20, 0, 4)])
def test_an_i64_store_half_out_of_bounds_writes_nothing(
        base: int, i: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    result, mem = _both(monkeypatch, "fill64", base, i, n)
    if base == 65536 - 16:
        assert str(result).startswith("trap: ")
        # the high word of the store before; the failed one wrote nothing there
        assert mem[65532:] == bytes.fromhex("44332211")


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
def test_the_shapes_of_the_view_version() -> None:
    inst = instance(WAT)
    total, shift, temp, kept, halves = (inst.compiled.source(i) for i in range(5))
    # the i64 at a multiple of 4 stays on struct; its low word's copy uses the u32 view
    assert "LD_U64(mem0, l3)" in halves and "_vQ" not in halves, halves
    assert "_vI[(l3 + 8) >> 2] = _vI[(l3 + 4) >> 2]" in halves or \
        "_vI[(l3 + 8) >> 2] = s1" in halves, halves
    # base + 16 computed once: _h0 = _x0 + 4; the index used unreduced first
    assert "_h0 = _x0 + 4" in total, total
    assert "_vI[_h0 + l1]" in total and "except IndexError:" in total, total
    assert "_vI[(_h0 + l1) % 1073741824]" in total, total
    assert "except IndexError:" in shift, shift
    # t as an element index while it holds the address, a value afterwards
    assert "_t4 = " in temp and "_vI[_t4]" in temp, temp
    assert "_t3" not in kept and "_t4" not in kept, kept


def test_sum_terms() -> None:
    st = views._sum_terms
    assert st("(((_x2 + 28) + (l1)) % 1073741824)") == (["_x2", "l1"], 28, "1073741824")
    assert st("((((_x2 + 28) + l1) - 2) % 1073741824)") == (["_x2", "l1"], 26, "1073741824")
    assert st("_x0 + 4194904") == (["_x0"], 4194904, "")
    assert st("((_x2 + (l1 << 1)) % 536870912)") == (["_x2", "(l1 << 1)"], 0, "536870912")
    assert st("(_h0 + _t3) % 1073741824") == (["_h0", "_t3"], 0, "1073741824")
    # a reduction that is not the whole index's, another operator, a negated name
    for text in ("_x1 + (l2 % 1073741824)", "(_x1 % 1073741824) + 3", "l3 >> 2",
                 "_x1 - l2", "(l1 * 4) + 2", "_x1 + l2 % 1073741824", "s0 + 1"):
        assert st(text) is None, text


def test_hoist_invariant_sums() -> None:
    lines = [(1, "s1 = _vI[(((_x2 + 28) + (l1)) % 1073741824)]", 0),
             (1, "_vI[(((_x2 + 28) + (l1)) % 1073741824)] = _vI[((_x2 + 4) % 1073741824)]", 1),
             (1, "s2 = _vd[_x2] + _vd[_x2 + 1] + _vd[(_x3 + l5) - 1]", 2),
             (1, "_t4 = ((((_x2 + 28) + l1) - 30) % 1073741824)", 3)]
    pointers = {1: (1, (), False, False), 3: (8, (), False, False)}   # assigned: l1, l3
    out, setup, nonnegative = views.hoist_invariant_sums(lines, pointers)
    assert setup == ["_h0 = _x2 + 28", "_h1 = (_x2 + 4) % 1073741824", "_h2 = _x2 + 1",
                     "_h3 = l5 - 1", "_h4 = _x2 - 2"]
    assert [text for _, text, _ in out] == [
        "s1 = _vI[(_h0 + l1) % 1073741824]",
        "_vI[(_h0 + l1) % 1073741824] = _vI[_h1]",
        "s2 = _vd[_x2] + _vd[_h2] + _vd[_h3 + _x3]",    # l5 is invariant too
        "_t4 = (_h4 + l1) % 1073741824"]
    assert nonnegative == {"_h0", "_h1", "_h2"}


def test_unwrap_indexes() -> None:
    lines = [(2, "s1 = _vI[(_h0 + l1) % 1073741824]", 7),
             (2, "_vd[(_x1 + 2) % 536870912] = s1", 8),
             (2, "s2 = _vI[(_h3 + l1) % 1073741824]", 9),          # _h3 may be negative
             (2, "s3 = _vd[(_x1 + 2) % 1073741824]", 10),          # not the view's modulus
             (2, "s4 = F(_vI[(l1 + 1) % 1073741824])", 11),        # a call
             (2, "if _vI[(l1 + 1) % 1073741824]:", 12),            # not a statement
             (2, "s5 = _vI[((l1 + 8) - 9) % 1073741824]", 13)]     # a negative constant
    out = views.unwrap_indexes(lines, {"_h0"})
    assert out[:8] == [
        (2, "try:", 7), (3, "s1 = _vI[_h0 + l1]", 7), (2, "except IndexError:", 7),
        (3, "s1 = _vI[(_h0 + l1) % 1073741824]", 7),
        (2, "try:", 8), (3, "_vd[_x1 + 2] = s1", 8), (2, "except IndexError:", 8),
        (3, "_vd[(_x1 + 2) % 536870912] = s1", 8)]
    assert out[8:] == lines[2:]


def test_temporary_indexes() -> None:
    idx = views.INDEX_START + "2|%s" + views.INDEX_STOP
    lines: List[Tuple[int, str, int]] = [
        (1, "l3 = ((((l2 + 112) + (l1 << 2)) - 8) % 4294967296)", 0),
        (1, "s1 = _vI[%s]" % (idx % "l3"), 1),
        (1, "_vI[%s] = s1 + 1" % (idx % "((l3 + 4) % 4294967296)"), 2),
        (1, "l3 = l7", 3),
        (1, "l4 = l2 + 8", 4),          # read after the if: kept
        (1, "s2 = _vI[%s]" % (idx % "l4"), 5),
        (1, "if s2:", 6),
        (2, "s3 = _vI[%s]" % (idx % "l4"), 7),
        (1, "l4 = 0", 8),
        (1, "l5 = (l9 + 16)", 9),       # l9: invariant, tested at entry, no index yet
        (1, "s4 = _vI[%s]" % (idx % "l5"), 10),
        (1, "l5 = s4", 11),
        (1, "l6 = (l8 + 16)", 12),      # l8: not tested at entry
        (1, "s5 = _vI[%s]" % (idx % "l6"), 13),
        (1, "l6 = s5", 14),
        (1, "l7 = l2 + 8", 15),         # its next assignment reads its byte value
        (1, "s6 = _vI[%s]" % (idx % "l7"), 16),
        (1, "l7 = l7 + 4", 17)]
    reduced = {2}
    shift_of = {2: 2}
    assigned = {x: (1, (), False, False) for x in (1, 3, 4, 5, 6, 7)}
    assign, reads = views._temporary_indexes(lines, reduced, shift_of, assigned, {9: 4})
    assert assign == {0: (3, 2), 9: (5, 2)}
    assert reads == {1: {3: 2}, 2: {3: 2}, 3: {3: 2}, 10: {5: 2}, 11: {5: 2}}
    assert reduced == {2, 9} and shift_of == {2: 2, 9: 2}



def test_temporary_indexes_through_a_slot() -> None:
    """A slot holding the temporary's address plus a constant, read later by one view
    index (sha256's message schedule), is a temporary index too; the stepping counter
    the address needs becomes a dual index. Not when the slot's value subtracts, when
    it is read otherwise or again, or by an index of another shift."""
    idx = views.INDEX_START + "2|%s" + views.INDEX_STOP
    idx3 = views.INDEX_START + "3|%s" + views.INDEX_STOP
    slot = views.SLOT_TEMP

    def run(tail: List[Tuple[int, str, int]]) -> Tuple[dict, dict, set]:
        lines: List[Tuple[int, str, int]] = [
            (0, "while True:", 0),
            (1, "l3 = (((l2 + 112) + l1) % 4294967296)", 1),
            (1, "s1 = _vI[%s]" % (idx % "l3"), 2),
            (1, tail[0][1], 3),
            (1, "l3 = s1", 4)] + tail[1:] + [
            (1, "l1 = l1 + 4", 9), (1, "if l1 != 192:", 10), (2, "continue", 10),
            (1, "break", 10)]
        reduced = {2}
        shift_of = {2: 2}
        dual: set = set()
        pointers = {1: (4, (), False, False), 3: (1, (), True, True)}
        assign, reads = views._temporary_indexes(
            lines, reduced, shift_of, pointers, {1: 4, 2: 4}, dual, set(),
            [(1, "l1 + 4"), (3, "(((l2 + 112) + l1) % 4294967296)"), (3, "s1")])
        return assign, reads, dual

    assign, reads, dual = run([(1, "s0 = l3 + 64", 3),
                               (1, "_vI[%s] = l3 + 1" % (idx % "((s0 % 4294967296))"), 5)])
    assert assign == {1: (3, 2), 3: (slot, 2)}
    assert reads[2] == {3: 2} and reads[5] == {slot: 2} and dual == {1}
    # The same, whole, through reduce_indexes: the store reads the slot's index.
    lines = [(0, "while True:", 0), (1, "l3 = (((l2 + 112) + l1) % 4294967296)", 1),
             (1, "s1 = _vI[%s]" % (idx % "l3"), 2), (1, "s0 = l3 + 64", 3),
             (1, "l3 = s1", 4), (1, "_vI[%s] = l3 + 1" % (idx % "((s0 % 4294967296))"), 5),
             (1, "l1 = l1 + 4", 9), (1, "if l1 != 192:", 10), (2, "continue", 10),
             (1, "break", 10)]
    out, setup, restore = views.reduce_indexes(
        lines, {1: (4, (), False, False), 3: (1, (), True, True)}, {1: 4, 2: 4})
    text = [t for _, t, _ in out]
    assert text[1] == "_t3 = (((_x2 + 28) + _x1) % 1073741824)", text
    assert text[3] == "_t%d = _t3 + 16" % slot and text[4] == "l3 = s1", text
    assert text[5] == "_vI[((_t%d %% 1073741824))] = l3 + 1" % slot, text
    assert text[6:8] == ["l1 = l1 + 4", "_x1 = _x1 + 1"], text
    assert setup == ["_x1 = l1 >> 2", "_x2 = l2 >> 2"] and restore == []
    refused = [
        # the slot's value subtracts (it could be negative: no ``_t`` name then)
        [(1, "s0 = l3 - 4", 3), (1, "_vI[%s] = l3" % (idx % "((s0 % 4294967296))"), 5)],
        # read otherwise too
        [(1, "s0 = l3 + 64", 3), (1, "_vI[%s] = s0" % (idx % "((s0 % 4294967296))"), 5)],
        # read again after its index, at the next line
        [(1, "s0 = l3 + 64", 3), (1, "_vI[%s] = l3" % (idx % "s0"), 5), (1, "s2 = s0", 6)],
        # by an index of another shift
        [(1, "s0 = l3 + 64", 3), (1, "_vQ[%s] = l3" % (idx3 % "s0"), 5)],
    ]
    for tail in refused:
        assign, _, _ = run(tail)
        assert slot not in [v[0] for v in assign.values()], tail
        assert 1 not in assign, tail


def test_a_temporary_is_never_made_a_dual_index_later() -> None:
    """A local already rewritten as a temporary (its reads there take ``_t2``) cannot
    become a reduced pointer for a later temporary's sake: its other reads would take
    ``_x2``, which nothing sets (found by the random rich loops)."""
    idx = views.INDEX_START + "2|%s" + views.INDEX_STOP
    lines: List[Tuple[int, str, int]] = [
        (0, "while True:", 0),
        (1, "l2 = ((l0 + 8) % 4294967296)", 1),
        (1, "_vI[%s] = 5" % (idx % "l2"), 2),
        (1, "l2 = ((l1 + 8) % 4294967296)", 3),
        (1, "s1 = _vI[%s]" % (idx % "l2"), 4),
        (1, "l5 = (l2 + 16)", 5),
        (1, "s2 = _vI[%s]" % (idx % "l5"), 6),
        (1, "l5 = s2", 7),
        (1, "l2 = l2 + 8", 8),
        (1, "break", 9)]
    reduced = {0, 1}
    shift_of = {0: 2, 1: 2}
    dual: set = set()
    pointers = {2: (8, (), False, False), 5: (1, (), True, True)}
    assign, _ = views._temporary_indexes(
        lines, reduced, shift_of, pointers, {0: 4, 1: 4, 2: 4}, dual, set(),
        [(2, "((l0 + 8) % 4294967296)"), (2, "((l1 + 8) % 4294967296)"), (2, "l2 + 8"),
         (5, "(l2 + 16)"), (5, "s2")])
    assert assign == {1: (2, 2)} and 2 not in reduced and dual == set()

def _nested(outer: int) -> str:
    """The sum loop inside ``outer`` more loops (each run once)."""
    body = """loop
      local.get $s
      local.get $base i32.const 16 i32.add local.get $i i32.const 2 i32.shl i32.add
      i32.load i32.add local.set $s
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end"""
    for _ in range(outer):
        body = ("loop\n%s\nlocal.get $k i32.const 1 i32.add local.tee $k i32.const 0 i32.eq "
                "br_if 0\nend" % body)
    return """(module (memory 1) (func (export "f") (param $base i32) (param $n i32)
      (result i32) (local $i i32) (local $s i32) (local $k i32)
      %s
      local.get $s))""" % body


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
@pytest.mark.parametrize("outer", [16, 17, 18, 19])
def test_no_try_where_cpython_would_refuse_its_nesting(outer: int) -> None:
    # CPython allows 20 nested blocks and an except clause takes two: a try in a loop
    # nested 19 or 20 deep would make the function fall back to the flat lowering.
    inst = instance(_nested(outer))
    struct.pack_into("<1024I", inst.memories[0].data, 0, *[_words(k) for k in range(1024)])
    # base + 16 wraps to 0: words 0..7
    assert inst.func("f")(TOP - 16, 8) == sum(_words(k) for k in range(8)) & 0xFFFFFFFF
    assert inst.compiled.mode(0) == "structured"
    assert ("except IndexError:" in inst.compiled.source(0)) == (outer <= 17)


# A derived pointer kept for its byte value (``l2 = l1 + 8``, read by ``l4 = l4 + l2``
# listed after it) needs l1's byte value in the loop: l1 must stay a dual index, not be
# replaced by ``_x1`` and restored after the loop (found by the random rich loops: the
# raw set was grown in one pass over the assignments, in their order).
_DERIVED_READ_LATER = """(module (memory 1)
  (func (export "f") (param i32 i32 i32) (result i64) (local i64)
    loop
      local.get 1 i32.const 8 i32.add local.set 2
      local.get 3 local.get 2 i64.load offset=8 i64.xor local.set 3
      local.get 3 local.get 2 i64.load offset=16 i64.xor local.set 3
      local.get 3 local.get 2 i64.load i64.xor local.set 3
      local.get 1 f64.const 1.5 f64.store
      local.get 3 local.get 2 i64.extend_i32_u i64.add local.set 3
      local.get 1 i32.const -8 i32.add local.set 1
      local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0
    end
    local.get 3 local.get 2 i64.extend_i32_u i64.const 40 i64.shl i64.xor))"""


def test_a_derived_pointer_read_later_keeps_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from compile_helpers import instance, run_plan
    plan = [("f", [5, 4096, 0])]
    with_views = run_plan(_DERIVED_READ_LATER, plan)
    if views.TYPED_VIEWS:
        assert "MV0[" in instance(_DERIVED_READ_LATER).compiled.source(0)
    monkeypatch.setattr(translate, "TYPED_VIEWS", False)
    assert run_plan(_DERIVED_READ_LATER, plan) == with_views
