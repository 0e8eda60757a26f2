"""Loops versioned for aligned typed views (compile/views.py): an innermost loop whose
pointers are aligned at entry reads and writes memory 0 through typed memoryviews, any
other entry runs today's struct loop. Both give the same results, the same traps and the
same memory; the views are remade after memory.grow. Every case runs with views (where
the host allows them) and with views turned off (the struct loop alone) and compares."""
from __future__ import annotations

import struct
from typing import Any, Callable, List, Tuple

import pytest

from compile_helpers import instance
from purewasm.compile import translate, views
from purewasm.errors import Trap

WAT = """
(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  ;; y[i] = a * x[i] + y[i + 1] for i < n (f64; a store after two loads)
  (func (export "axpy") (param $x i32) (param $y i32) (param $n i32) (param $a f64)
    (local $i i32)
    loop
      local.get $y
      local.get $x f64.load
      local.get $a f64.mul
      local.get $y f64.load offset=8
      f64.add
      f64.store
      local.get $x i32.const 8 i32.add local.set $x
      local.get $y i32.const 8 i32.add local.set $y
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.lt_u br_if 0
    end)
  ;; sum of n pairs of i32 through a derived pointer q = p + 4 (assigned first)
  (func (export "sum32") (param $p i32) (param $n i32) (result i32) (local $s i32) (local $q i32)
    loop
      local.get $p i32.const 4 i32.add local.set $q
      local.get $s local.get $p i32.load i32.add
      local.get $q i32.load i32.add local.set $s
      local.get $p i32.const 8 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end
    local.get $s)
  ;; copy n i64 words from src to dst, backwards (negative steps), with a branch
  ;; that skips zero words
  (func (export "copy64") (param $dst i32) (param $src i32) (param $n i32)
    (local $v i64)
    loop
      block
        local.get $src i64.load local.tee $v
        i64.eqz br_if 0
        local.get $dst local.get $v i64.store
      end
      local.get $dst i32.const -8 i32.add local.set $dst
      local.get $src i32.const 8 i32.sub local.set $src
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end)
  ;; grows the memory when asked, then runs the sum loop: two entries of the loop
  ;; around a memory.grow in the same function
  (func (export "sum_grow_sum") (param $p i32) (param $n i32) (result i32)
    (local $s i32) (local $k i32) (local $m i32)
    local.get $n local.set $m
    loop
      local.get $s local.get $p i32.load i32.add local.set $s
      local.get $p i32.const 4 i32.add local.set $p
      local.get $m i32.const 1 i32.sub local.tee $m br_if 0
    end
    i32.const 1 memory.grow drop
    local.get $n local.set $m
    i32.const 65536 local.set $p
    loop
      local.get $s local.get $p i32.load i32.add local.set $s
      local.get $p i32.const 4 i32.add local.set $p
      local.get $m i32.const 1 i32.sub local.tee $m br_if 0
    end
    local.get $s)
  ;; a pointer stepping by 8 that wraps around 2**32 (stores at p, p - 8, ...):
  ;; p = 8 stores at 8, 0, then wraps to 0xFFFFFFF8 and traps
  (func (export "down") (param $p i32) (param $n i32)
    loop
      local.get $p i64.const 7 i64.store
      local.get $p i32.const 8 i32.sub local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end)
  ;; q holds an unaligned address, and an aligned one only on odd n (an if without
  ;; else): after the join nothing may be assumed of q's alignment
  (func (export "join") (param $p i32) (param $n i32) (result i32) (local $q i32) (local $s i32)
    loop
      local.get $p i32.const 1 i32.add local.set $q
      local.get $n i32.const 1 i32.and
      if
        local.get $p i32.const 4 i32.add local.set $q
      end
      local.get $s local.get $q i32.load i32.add local.set $s
      local.get $p i32.const 8 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end
    local.get $s)
  ;; q is assigned after the loop's exit test: leaving in the first iteration keeps the
  ;; q of before the loop (3), which no index can give back
  (func (export "early") (param $p i32) (param $n i32) (result i32) (local $q i32)
    i32.const 3 local.set $q
    block
      loop
        local.get $n i32.eqz br_if 1
        local.get $p i32.const 8 i32.add local.set $q
        local.get $q local.get $n i32.store
        local.get $p local.get $n i32.store offset=4
        local.get $p local.get $n i32.store offset=12
        local.get $p i32.const 8 i32.add local.set $p
        local.get $n i32.const 1 i32.sub local.set $n
        br 0
      end
    end
    local.get $q)
  ;; one local holds an address, then a loaded value (sha256's message schedule):
  ;; w[i + 4] = w[i] + w[i + 1] over i32 words, returns p and the last value
  (func (export "reuse") (param $p i32) (param $n i32) (result i64) (local $t i32)
    loop
      local.get $p i32.const 0 i32.add local.set $t
      local.get $t i32.const 16 i32.add
      local.get $t i32.load local.get $t i32.load offset=4 i32.add local.set $t
      local.get $t i32.store
      local.get $p i32.const 4 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end
    local.get $p i64.extend_i32_u i64.const 32 i64.shl local.get $t i64.extend_i32_u i64.or)
)
"""

Outcome = Tuple[Any, bytes]


def _run(with_views: bool, monkeypatch: pytest.MonkeyPatch, setup: Callable[[bytearray], None],
         name: str, *args: Any) -> Outcome:
    """(the result or the trap's text, memory 0 afterwards) of ``name(*args)``."""
    monkeypatch.setattr(translate, "TYPED_VIEWS", with_views and views.TYPED_VIEWS)
    inst = instance(WAT)
    data = inst.memories[0].data
    setup(data)
    try:
        result: Any = inst.func(name)(*args)
    except Trap as trap:
        result = "trap: %s" % trap.message if hasattr(trap, "message") else str(trap)
    return result, bytes(inst.memories[0].data)


def _both(monkeypatch: pytest.MonkeyPatch, setup: Callable[[bytearray], None], name: str,
          *args: Any) -> Outcome:
    with_views = _run(True, monkeypatch, setup, name, *args)
    without = _run(False, monkeypatch, setup, name, *args)
    assert with_views[0] == without[0]
    assert with_views[1] == without[1]
    return with_views


def _doubles(data: bytearray, at: int, values: List[float]) -> None:
    for k, v in enumerate(values):
        struct.pack_into("<d", data, at + 8 * k, v)


@pytest.mark.parametrize("x, y", [(0, 1024), (3, 1024), (0, 1029), (4, 2052), (8, 2048)])
def test_axpy_aligned_and_unaligned_entries_agree(x: int, y: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    xs = [1.5 * k - 3 for k in range(12)]
    ys = [0.25 * k for k in range(13)]

    def setup(data: bytearray) -> None:
        _doubles(data, x, xs)
        _doubles(data, y, ys)
    _, mem = _both(monkeypatch, setup, "axpy", x, y, 12, 2.0)
    got = [struct.unpack_from("<d", mem, y + 8 * k)[0] for k in range(12)]
    assert got == [2.0 * xs[k] + ys[k + 1] for k in range(12)]


@pytest.mark.parametrize("p", [0, 4, 2, 65536 - 64])
def test_derived_pointer(p: int, monkeypatch: pytest.MonkeyPatch) -> None:
    words = [(k * 0x9E3779B9) & 0xFFFFFFFF for k in range(16)]

    def setup(data: bytearray) -> None:
        struct.pack_into("<16I", data, p, *words)
    result, _ = _both(monkeypatch, setup, "sum32", p, 8)
    assert result == sum(words) & 0xFFFFFFFF


@pytest.mark.parametrize("dst, src", [(800, 400), (804, 400), (800, 401)])
def test_copy_backwards_with_a_branch(dst: int, src: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    words = [0 if k % 3 == 0 else (k << 40) | k for k in range(10)]

    def setup(data: bytearray) -> None:
        struct.pack_into("<10Q", data, src - 72, *words)
        struct.pack_into("<10Q", data, dst - 72, *([0xAA] * 10))
    _, mem = _both(monkeypatch, setup, "copy64", dst, src, 10)
    got = struct.unpack_from("<10Q", mem, dst - 72)
    assert list(got) == [0xAA if w == 0 else w for w in words]


@pytest.mark.parametrize("x, y, n", [(0, 65536 - 40, 12),     # the store of y[4] traps
                                     (65536 - 24, 0, 12),     # the load of x[3] traps
                                     (0, 65536 - 16, 12),     # y[i + 1] load traps first
                                     (65536 - 21, 8, 12)])    # unaligned: struct loop
def test_out_of_bounds_inside_the_loop(x: int, y: int, n: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def setup(data: bytearray) -> None:
        _doubles(data, 0, [float(k) for k in range(64)])
        for k in range(1, 9):
            data[-8 * k:] = struct.pack("<d", 0.5 * k) + bytes(8 * k - 8)
    result, mem = _both(monkeypatch, setup, "axpy", x, y, n, 3.0)
    assert isinstance(result, str) and "out of bounds" in result
    # The iterations before the trap stored their results, exactly as without views.
    assert mem != bytes(65536)


def test_grow_between_two_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    def setup(data: bytearray) -> None:
        struct.pack_into("<4I", data, 64, 1, 2, 3, 4)
    result, mem = _both(monkeypatch, setup, "sum_grow_sum", 64, 4)
    assert result == 10
    assert len(mem) == 2 * 65536


def test_grow_from_outside_between_calls_remakes_the_views() -> None:
    inst = instance(WAT)
    data = inst.memories[0].data
    struct.pack_into("<4I", data, 64, 1, 2, 3, 4)
    assert inst.func("sum32")(64, 2) == 10
    assert inst.func("grow")(1) == 1          # the views made by the loop are released
    struct.pack_into("<4I", inst.memories[0].data, 65536 + 64, 5, 6, 7, 8)
    assert inst.func("sum32")(65536 + 64, 2) == 26
    with pytest.raises(Trap, match="out of bounds"):
        inst.func("sum32")(2 * 65536 - 8, 2)


def test_pointer_wrapping_inside_a_versioned_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    result, mem = _both(monkeypatch, lambda data: None, "down", 8, 4)
    assert isinstance(result, str) and "out of bounds" in result
    assert struct.unpack_from("<2Q", mem, 0) == (7, 7)


def test_nan_bits_survive_the_f64_view(monkeypatch: pytest.MonkeyPatch) -> None:
    bits = bytes.fromhex("0100000000f0ff7f")       # a signalling NaN

    def setup(data: bytearray) -> None:
        data[0:8] = bits                            # x[0]
    _, mem = _both(monkeypatch, setup, "axpy", 0, 1024, 1, 1.0)
    # sNaN * 1.0 + 0.0 is a NaN: whatever the FPU made of it, both paths agree (compared
    # in _both); the loaded value itself went through the view unchanged:
    monkeypatch.setattr(translate, "TYPED_VIEWS", views.TYPED_VIEWS)
    inst = instance("""(module (memory 1)
      (func (export "mv") (param $p i32) (param $n i32)
        loop
          local.get $p i32.const 8 i32.add local.get $p f64.load f64.store
          local.get $p i32.const 16 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end))""")
    inst.memories[0].data[0:8] = bits
    inst.func("mv")(0, 1)
    assert bytes(inst.memories[0].data[8:16]) == bits


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
def test_loops_are_versioned_on_cpython() -> None:
    inst = instance(WAT)
    src = inst.compiled.source(1)           # axpy
    assert "if not ((l0 | l1) & 7):" in src, src
    assert "_vd = MV0[2] or MVIEW0(2)" in src, src
    # The pointers are carried as element indexes (views.reduce_indexes).
    assert "_vd[_x1] = " in src, src
    assert "_x1 = _x1 + 1" in src and "l1 = _x1 << 3" in src, src
    assert "ST_F64(mem0, l1, " in src, src  # the struct loop is still there
    src = inst.compiled.source(2)           # sum32: q is derived from p, assigned first
    assert "if not (l0 & 3):" in src, src
    assert "_x3 = ((_x0 + 1) % 1073741824)" in src and "_vI[_x3]" in src, src


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
def test_loops_that_are_not_versioned() -> None:
    text = """(module (memory 1) (memory 1)
      (func $h)
      (func (export "call") (param $p i32) (param $n i32)
        loop
          local.get $p local.get $p i32.load i32.store
          call $h
          local.get $p i32.const 4 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end)
      (func (export "step2") (param $p i32) (param $n i32)
        loop
          local.get $p local.get $p i32.load i32.store
          local.get $p i32.const 2 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end)
      (func (export "f32") (param $p i32) (param $n i32)
        loop
          local.get $p local.get $p f32.load f32.store
          local.get $p i32.const 4 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end)
      (func (export "mem1") (param $p i32) (param $n i32)
        loop
          local.get $p local.get $p i32.load 1 i32.store 1
          local.get $p i32.const 4 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end))"""
    inst = instance(text)
    for index in range(1, 5):
        src = inst.compiled.source(index)
        assert "MV0" not in src and "_v" not in src, src
    for name in ("call", "step2", "f32", "mem1"):
        inst.func(name)(0, 4)


def test_address_terms() -> None:
    terms = views.address_terms
    assert terms("l3") == ((3,), 0, 8)
    assert terms("((l3 + 12) % 4294967296)") == ((3,), 12, 8)
    assert terms("(((l2 + 112) + l0) % 4294967296)") == ((2, 0), 112, 8)
    assert terms("l5 - 8") == ((5,), -8, 8)
    # Scaled locals: a multiple of 2**k whatever the local holds.
    assert terms("((l4 + (l18 << 2)) % 4294967296)") == ((4,), 0, 4)
    assert terms("(((l0 << 3) + 16779872) % 4294967296)") == ((), 16779872, 8)
    assert terms("(l1 << 1) + l2") == ((2,), 0, 2)
    assert terms("l1 << 5") == ((), 0, 8)
    # A minus before a group or a local, products, shifts of anything but a whole
    # parenthesised local, other moduli, slots: refused.
    for e in ("l5 - (8 + 1)", "l1 - l2", "l1 * 4", "12", "l1 + 0xFF", "(l1 + 4) << 2",
              "l2 + l1 << 2", "(l1 << 2 + 4)", "(l1 << l2)", "l2 - (l1 << 2)",
              "l1 % 7", "s3 + 4", "g0.value + 8", "l1 + 8 +", "len(mem0) + 4"):
        assert terms(e) is None, e


def test_sum_of_two_pointers(monkeypatch: pytest.MonkeyPatch) -> None:
    # An address that is the sum of a base and a scaled index stepping by 8.
    text = """(module (memory 1)
      (func (export "f") (param $base i32) (param $n i32) (result i64)
        (local $off i32) (local $s i64)
        loop
          local.get $s
          local.get $base local.get $off i32.add i64.load offset=8
          i64.add local.set $s
          local.get $off i32.const 8 i32.add local.set $off
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end
        local.get $s))"""
    words = [(k * 0x9E3779B97F4A7C15) & (2**64 - 1) for k in range(9)]
    for base in (0, 8, 12, 65536 - 72, 65536 - 64):
        results = []
        for with_views in (True, False):
            monkeypatch.setattr(translate, "TYPED_VIEWS", with_views and views.TYPED_VIEWS)
            inst = instance(text)
            data = inst.memories[0].data
            for k in range(9):
                if base + 8 + 8 * k + 8 <= 65536:
                    struct.pack_into("<Q", data, base + 8 + 8 * k, words[k])
            try:
                results.append(inst.func("f")(base, 7))
            except Trap as trap:
                results.append(str(trap))
        assert results[0] == results[1], base


def test_versioned_loops_match_wasmtime() -> None:
    # The loops above, with seeded pointers (aligned or not, in bounds, near the end, past
    # it) and counts, run in one instance on wasmtime and on purewasm: every result, trap
    # and the final memory must agree.
    import random

    differential = pytest.importorskip("differential")
    pytest.importorskip("wasmtime")
    from purewasm.binary import decode_module
    from purewasm.text import wat2wasm

    text = WAT.replace('  (memory (export "mem") 1)', '''  (memory (export "mem") 1)
  (func (export "seed") (param $p i32) (param $n i32)
    loop
      local.get $p local.get $p i32.const 0x9E3779B9 i32.mul i32.store8
      local.get $p i32.const 1 i32.add local.set $p
      local.get $n i32.const 1 i32.sub local.tee $n br_if 0
    end)''')
    wasm = wat2wasm(text)
    module = decode_module(wasm)
    rnd = random.Random(2026)

    def pointer() -> int:
        base = rnd.choice([0, 8, 1024, 4096, 65536 - 128, 65536 - 64, 65536 - 8, 65536,
                           0xFFFFFFF0])
        return (base + rnd.choice([0, 0, 0, 8, 16, 4, 1, 3, -8])) & 0xFFFFFFFF

    plan = [("seed", [0, 65535])]
    for _ in range(120):
        name = rnd.choice(["axpy", "sum32", "copy64", "down"])
        n = rnd.randint(1, 12)
        if name == "axpy":
            plan.append((name, [pointer(), pointer(), n, ("f64", rnd.getrandbits(52))]))
        elif name == "copy64":
            plan.append((name, [pointer(), pointer(), n]))
        else:
            plan.append((name, [pointer(), n]))
    plan.append(("sum_grow_sum", [4096, 8]))
    plan.append(("sum32", [65536 + 64, 4]))
    want = differential.run_wasmtime(wasm, module, plan)
    got = differential.run_purewasm(module, plan, None, exact=False)
    assert differential.diff(want, got) == []
    traps = sum(1 for entry in got if isinstance(entry, str))
    assert 10 < traps < len(plan) - 10      # both outcomes are exercised


def test_views_only_on_cpython_little_endian() -> None:
    import sys

    from purewasm.compile.entries import CPYTHON_SHAPES
    assert views.TYPED_VIEWS == (CPYTHON_SHAPES and sys.implementation.name == "cpython"
                                 and sys.byteorder == "little")


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
def test_shared_memory_and_epoch_checks_keep_struct() -> None:
    from compile_helpers import compiled_for
    from purewasm.binary import decode_module
    from purewasm.text import wat2wasm

    loop = """(func (export "f") (param $p i32) (param $n i32)
        loop
          local.get $p local.get $p i64.load i64.store
          local.get $p i32.const 8 i32.add local.set $p
          local.get $n i32.const 1 i32.sub local.tee $n br_if 0
        end)"""
    from purewasm.syntax import Limits, MemoryType

    # A shared memory (the API's SharedMemory; the text parser has no threads proposal):
    # another thread could grow it while the loop runs.
    shared = decode_module(wat2wasm("(module (memory 1 1) %s)" % loop))
    shared.mems[0] = MemoryType(Limits(1, 1), True, "i32")
    assert "MV0" not in compiled_for(shared).source(0)
    plain = decode_module(wat2wasm("(module (memory 1) %s)" % loop))
    assert "MV0" in compiled_for(plain).source(0)
    assert "MV0" not in compiled_for(plain, "metered").source(0)


SCALED = """(module (memory 1)
  ;; sum of f64 at 1024 + 8 * i (a constant base: no entry test at all) plus the i32 at
  ;; base + 4 * i, for i < n; i is an index, not a pointer
  (func (export "f") (param $base i32) (param $n i32) (result f64)
    (local $i i32) (local $s f64)
    loop
      local.get $s
      i32.const 1024 local.get $i i32.const 3 i32.shl i32.add f64.load
      f64.add
      local.get $base local.get $i i32.const 2 i32.shl i32.add i32.load
      f64.convert_i32_u f64.add
      local.set $s
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.ne br_if 0
    end
    local.get $s))"""


@pytest.mark.parametrize("base, n", [(0, 8), (2, 8), (4, 8), (65536 - 16, 8), (0, 8000)])
def test_scaled_indexes(base: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = []
    for with_views in (True, False):
        monkeypatch.setattr(translate, "TYPED_VIEWS", with_views and views.TYPED_VIEWS)
        inst = instance(SCALED)
        if with_views and views.TYPED_VIEWS:
            src = inst.compiled.source(0)
            assert "_vd[" in src and "if not (l0 & 3):" in src, src
        data = inst.memories[0].data
        for k in range(0, 65536, 4):
            data[k] = k % 251
        try:
            outcomes.append(inst.func("f")(base, n))
        except Trap as trap:
            outcomes.append(str(trap))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("p", [0, 8, 1, 4])
@pytest.mark.parametrize("n", [1, 2, 5, 6])
def test_alignment_known_after_an_assignment_is_forgotten_at_a_join(
        p: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    words = [(k * 0x9E3779B9 + 7) & 0xFFFFFFFF for k in range(64)]

    def setup(data: bytearray) -> None:
        struct.pack_into("<64I", data, 0, *words)
    result, _ = _both(monkeypatch, setup, "join", p, n)
    mem = struct.pack("<64I", *words)
    want = 0
    for k in range(n):
        left = n - k
        q = p + 8 * k + (4 if left & 1 else 1)
        want = (want + struct.unpack_from("<I", mem, q)[0]) & 0xFFFFFFFF
    assert result == want


@pytest.mark.parametrize("n", [0, 1, 3])
def test_a_pointer_assigned_after_the_exit_test_keeps_its_value(
        n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _ = _both(monkeypatch, lambda data: None, "early", 64, n)
    assert result == (3 if n == 0 else 64 + 8 * (n - 1) + 8)


@pytest.mark.parametrize("p", [0, 4, 2])
def test_a_local_holding_an_address_then_a_value(p: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    words = [(k * 0x85EBCA6B + 1) & 0xFFFFFFFF for k in range(40)]

    def setup(data: bytearray) -> None:
        struct.pack_into("<40I", data, p, *words)
    result, mem = _both(monkeypatch, setup, "reuse", p, 20)
    w = list(words)
    for i in range(20):
        w[i + 4] = (w[i] + w[i + 1]) & 0xFFFFFFFF
    assert list(struct.unpack_from("<40I", mem, p)) == w
    assert result == ((p + 80) << 32) | w[23]


@pytest.mark.skipif(not views.TYPED_VIEWS, reason="typed views: CPython, little-endian")
def test_views_after_an_assignment_and_what_is_not_reduced() -> None:
    inst = instance(WAT)
    join, early, reuse = (inst.compiled.source(i) for i in (6, 7, 8))
    assert "MV0[" not in join, join     # q's alignment is unknown after the if
    assert "_vI[l2 >> 2] = l1" in early and "_x2" not in early, early
    assert "_vI[_x0 + 1] = l1" in early and "_x0 = _x0 + 2" in early, early  # dual
    # l2 holds an address for two loads, then a value; the store's address, spilled to a
    # slot before l2 changes, is a temporary index too (views._temporary_indexes).
    assert "_t2 = _x0" in reuse and "_vI[_t2 + 1]" in reuse, reuse
    assert "_t%d = _t2 + 4" % views.SLOT_TEMP in reuse, reuse
    assert "_vI[_t%d] = l2" % views.SLOT_TEMP in reuse, reuse


def _fold(body: List[Tuple[int, str]]) -> List[str]:
    lines = [(2, "while True:", 0)] + [(3 + ind, text, 0) for ind, text in body]
    return [text for _, text, _ in views.fold_loads(lines)[1:]]


def test_fold_loads_into_their_only_reader() -> None:
    assert _fold([(0, "s2 = _vd[_x1]"), (0, "s1 = l27 * s2"), (0, "s2 = _vd[_x3]"),
                  (0, "_vd[_x3] = s1 + s2"), (0, "continue")]) == [
        "s1 = l27 * _vd[_x1]", "_vd[_x3] = s1 + _vd[_x3]", "continue"]
    assert _fold([(0, "s0 = _vI[_x3]"), (0, "if s0 < 10:"), (1, "l1 = 1")]) == [
        "if _vI[_x3] < 10:", "l1 = 1"]


@pytest.mark.parametrize("body", [
    # read again later in the loop, or at its head (the next iteration)
    [(0, "s2 = _vd[_x1]"), (0, "s1 = l27 * s2"), (0, "l5 = s2")],
    [(0, "l5 = s2"), (0, "s2 = _vd[_x1]"), (0, "s1 = l27 * s2")],
    # assigned again only in one arm: the read after it may see the load
    [(0, "s2 = _vd[_x1]"), (0, "s1 = l27 * s2"), (0, "if l1:"), (1, "s2 = 0.0"),
     (0, "l27 = s2")],
    # the next line is in another suite, or reads the slot twice, or not first
    [(1, "s2 = _vd[_x1]"), (0, "s1 = l27 * s2")],
    [(0, "s2 = _vd[_x1]"), (0, "s1 = s2 * s2")],
    # consumers that could trap, call, or skip the load
    [(0, "s2 = _vI[_x1]"), (0, "s1 = l3 // s2")],
    [(0, "s2 = _vI[_x1]"), (0, "s1 = l3 % s2")],
    [(0, "s2 = _vI[_x1]"), (0, "s1 = DIV_U32(l3, s2)")],
    [(0, "s2 = _vI[_x1]"), (0, "s1 = s2 if l3 else 0")],
    [(0, "s2 = _vI[_x1]"), (0, "s1 = l3 and s2")],
    [(0, "s2 = _vI[_x1]"), (0, "_vI[s2] = l3")],
    # a line that could trap elsewhere (its backtrace would name the load)
    [(0, "s2 = _vd[_x1]"), (0, "_vd[_x3] = s1 + s2")],
    [(0, "s2 = _vd[_x1]"), (0, "s1 = s2 + _vd[_x3]")],
])
def test_fold_loads_leaves_other_readers(body: List[Tuple[int, str]]) -> None:
    assert _fold(body) == [text for _, text in body]
