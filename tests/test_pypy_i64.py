"""PyPy's signed i64 words (compile/ops_pypy.py, "i64 as signed machine words"): a
function in that mode gives the same results as the plain shapes for every i64
instruction and at every boundary (parameters, results, calls, globals, memory), on every
Python (the switch is turned on here whatever the interpreter); functions the mode cannot
convert keep the plain shapes; the helpers wrap like PyPy's ``__pypy__.intop``."""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compile_helpers import instance  # noqa: E402

from purewasm.compile import support  # noqa: E402

M64 = 0xFFFFFFFFFFFFFFFF
LOOP_LOCALS = "(local $i i32) (local $s i64) "

# name -> body over (param $x i64) (param $y i64) (param $a i32), result i64
BODIES: Dict[str, str] = {}
for _op in ("add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl",
            "rotr"):
    BODIES[_op] = "(i64.%s (local.get $x) (local.get $y))" % _op
for _op in ("div_s", "rem_s", "div_u", "rem_u"):
    # A divisor of 0 (or -1 for -2^63) traps: (y | 2) ^ 1 is neither.
    BODIES[_op] = ("(i64.%s (local.get $x) (i64.xor (i64.or (local.get $y) (i64.const 2)) "
                   "(i64.const 1)))" % _op)
for _k in (0, 1, 7, 13, 32, 63, 64, 65):
    BODIES["shl_%d" % _k] = "(i64.shl (local.get $x) (i64.const %d))" % _k
    BODIES["shr_u_%d" % _k] = "(i64.shr_u (local.get $x) (i64.const %d))" % _k
    BODIES["shr_s_%d" % _k] = "(i64.shr_s (local.get $x) (i64.const %d))" % _k
    BODIES["rotl_%d" % _k] = "(i64.rotl (local.get $x) (i64.const %d))" % _k
    BODIES["rotr_%d" % _k] = "(i64.rotr (local.get $x) (i64.const %d))" % _k
for _c in ("0x8000000000000000", "-1", "0x9E3779B97F4A7C15", "5", "-7", "1", "0", "0x40",
           "0x4000000000000000"):
    BODIES["add_c%s" % _c] = "(i64.add (local.get $x) (i64.const %s))" % _c
    BODIES["mul_c%s" % _c] = "(i64.mul (local.get $x) (i64.const %s))" % _c
    if _c != "0":
        BODIES["div_u_c%s" % _c] = "(i64.div_u (local.get $x) (i64.const %s))" % _c
    for _cmp in ("lt_u", "ge_u", "lt_s", "gt_s", "eq"):
        BODIES["%s_c%s" % (_cmp, _c)] = ("(i64.extend_i32_u (i64.%s (local.get $x) "
                                         "(i64.const %s)))" % (_cmp, _c))
for _cmp in ("eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"):
    BODIES[_cmp] = "(i64.extend_i32_u (i64.%s (local.get $x) (local.get $y)))" % _cmp
BODIES.update({
    "eqz": "(i64.extend_i32_u (i64.eqz (local.get $x)))",
    "clz": "(i64.clz (local.get $x))",
    "ctz": "(i64.ctz (local.get $x))",
    "popcnt": "(i64.popcnt (local.get $x))",
    "extend_s": "(i64.extend_i32_s (local.get $a))",
    "extend_u": "(i64.extend_i32_u (local.get $a))",
    "extend8_s": "(i64.extend8_s (local.get $x))",
    "extend16_s": "(i64.extend16_s (local.get $x))",
    "extend32_s": "(i64.extend32_s (local.get $x))",
    "wrap": "(i64.extend_i32_u (i32.wrap_i64 (local.get $x)))",
    "xorshift": "(i64.mul (i64.xor (i64.shl (local.get $x) (i64.const 13)) "
                "(i64.shr_u (local.get $x) (i64.const 7))) (i64.const 0x9E3779B97F4A7C15))",
    "f64_s": "(i64.reinterpret_f64 (f64.convert_i64_s (local.get $x)))",
    "f64_u": "(i64.reinterpret_f64 (f64.convert_i64_u (local.get $x)))",
    "f32_s": "(i64.extend_i32_u (i32.reinterpret_f32 (f32.convert_i64_s (local.get $x))))",
    "trunc_sat": "(i64.trunc_sat_f64_u (f64.convert_i64_u (local.get $x)))",
    "roundtrip_bits": "(i64.reinterpret_f64 (f64.reinterpret_i64 (local.get $x)))",
    # Memory: i64 and narrow stores, signed and unsigned narrow loads.
    "mem": "(i64.store (i32.const 8) (local.get $x)) (i64.load (i32.const 8))",
    "mem8_s": "(i64.store8 (i32.const 8) (local.get $x)) (i64.load8_s (i32.const 8))",
    "mem16_s": "(i64.store16 (i32.const 8) (local.get $x)) (i64.load16_s (i32.const 8))",
    "mem32_s": "(i64.store32 (i32.const 8) (local.get $x)) (i64.load32_s (i32.const 8))",
    "mem32_u": "(i64.store32 (i32.const 8) (local.get $x)) (i64.load32_u (i32.const 8))",
    "mem_add": "(i64.store (i32.const 16) (i64.add (local.get $x) (local.get $y))) "
               "(i64.add (i64.load (i32.const 16)) (i64.const 1))",
    # Globals, calls (direct, indirect), multiple results, blocks and select.
    "mul_global": "(i64.mul (local.get $x) (global.get $min))",
    "global": "(global.set $g (i64.add (local.get $x) (global.get $g))) "
              "(i64.mul (global.get $g) (global.get $k))",
    "call": "(call $helper (local.get $x) (local.get $y))",
    "call_indirect": "(call_indirect (type $t) (local.get $x) (local.get $y) (i32.const 0))",
    "multi": "(call $pair (local.get $x) (local.get $y)) (i64.sub)",
    "block": "(block (result i64) (br_if 0 (local.get $x) (i32.wrap_i64 (local.get $y))) "
             "(drop) (i64.mul (local.get $y) (i64.const -3)))",
    "select": "(select (local.get $x) (i64.const -2) (i64.lt_u (local.get $x) (local.get $y)))",
    "loop": LOOP_LOCALS + "(loop $l (local.set $s (i64.add (local.get $s) "
            "(i64.mul (local.get $x) (i64.extend_i32_u (local.get $i))))) "
            "(local.set $i (i32.add (local.get $i) (i32.const 1))) "
            "(br_if $l (i32.lt_u (local.get $i) (i32.const 9)))) (local.get $s)",
})

HEAD = """(module
  (type $t (func (param i64 i64) (result i64)))
  (memory 1)
  (global $g (mut i64) (i64.const 0xFFFFFFFFFFFFFFF0))
  (global $k i64 (i64.const 0x8000000000000001))
  (global $min i64 (i64.const 0x8000000000000000))
  (table 1 funcref)
  (elem (i32.const 0) $helper)
  (func $helper (type $t) (i64.rotl (i64.sub (local.get 0) (local.get 1)) (i64.const 5)))
  (func $pair (param i64 i64) (result i64 i64)
    (i64.mul (local.get 0) (i64.const 3)) (i64.xor (local.get 1) (i64.const -1)))
"""
FIRST_EXPORT = 2    # after $helper and $pair


rng = random.Random(64)
I64S = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x8000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32,
        (1 << 63) - 1, 1 << 63, (1 << 63) + 1, M64 - 1, M64] + \
    [rng.getrandbits(64) for _ in range(8)]
I32S = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def _module() -> str:
    funcs = []
    for name, body in BODIES.items():
        locals_ = ""
        if body.startswith(LOOP_LOCALS):
            locals_, body = LOOP_LOCALS, body[len(LOOP_LOCALS):]
        funcs.append('  (func (export "%s") (param $x i64) (param $y i64) (param $a i32) '
                     '(result i64) %s\n    %s)' % (name, locals_, body))
    return HEAD + "\n".join(funcs) + ")"


def _args() -> List[Tuple[int, int, int]]:
    return [(x, y, I32S[(i + j) % len(I32S)])
            for i, x in enumerate(I64S) for j, y in enumerate(I64S[::2])]


def _run(shapes: bool, monkeypatch: pytest.MonkeyPatch) -> Dict[str, List[int]]:
    monkeypatch.setattr(support, "PYPY_SHAPES", shapes)
    inst = instance(_module())
    out: Dict[str, List[int]] = {}
    for name in BODIES:
        fn: Callable[..., int] = inst.func(name)
        out[name] = [fn(x, y, a) for x, y, a in _args()]
    return out


def test_signed_words_give_the_plain_results(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _run(False, monkeypatch)
    signed = _run(True, monkeypatch)
    for name in BODIES:
        assert all(0 <= r <= M64 for r in signed[name]), name
        assert signed[name] == plain[name], name


def test_plain_models() -> None:
    # A few results against Python models (the comparison above is the broad check).
    with pytest.MonkeyPatch.context() as mp:
        got = _run(True, mp)
    args = _args()
    for name, model in (("add", lambda x, y: x + y), ("mul", lambda x, y: x * y),
                        ("sub", lambda x, y: x - y), ("shr_u", lambda x, y: x >> (y & 63)),
                        ("lt_u", lambda x, y: int(x < y))):
        assert got[name] == [model(x, y) & M64 for x, y, _ in args], name


def test_the_mode_is_chosen_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "PYPY_SHAPES", True)
    inst = instance(_module())
    compiled = inst.compiled
    sources = [compiled.source(i) for i in range(FIRST_EXPORT, FIRST_EXPORT + len(BODIES))]
    assert any("iadd(" in s for s in sources)
    assert any("S64(" in s for s in sources)
    # A function with a vector instruction keeps the plain shapes (its lanes are not
    # converted), as does every function with the switch off.
    wat = ('(module (func (export "f") (param i64) (result i64) (i64.add (local.get 0) '
           '(i64x2.extract_lane 0 (i64x2.splat (local.get 0))))))')
    vec = instance(wat)
    assert "iadd(" not in vec.compiled.source(0)
    assert vec.func("f")(M64) == M64 - 1
    monkeypatch.setattr(support, "PYPY_SHAPES", False)
    assert "iadd(" not in instance(_module()).compiled.source(FIRST_EXPORT)


def _signed(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def test_helpers_wrap_at_the_machine_word() -> None:
    vals = [_signed(v) for v in I64S]
    for a in vals:
        assert support._to_signed64()(a & M64) == a
        for b in vals:
            for fn, model in ((support._iadd_portable, a + b), (support._isub_portable, a - b),
                              (support._imul_portable, a * b)):
                got = fn(a, b)
                assert got == _signed(model)
        for k in (0, 1, 31, 63):
            assert support._ishl_portable(a, k) == _signed(a << k)
            assert support._ushr_portable(a, k) == _signed((a & M64) >> k)


@pytest.mark.skipif(sys.implementation.name != "pypy", reason="__pypy__.intop is PyPy's")
def test_portable_helpers_match_pypy_intop() -> None:
    from __pypy__ import intop  # type: ignore[import-not-found]
    vals = [_signed(v) for v in I64S]
    for a in vals:
        for b in vals:
            assert support._iadd_portable(a, b) == intop.int_add(a, b)
            assert support._isub_portable(a, b) == intop.int_sub(a, b)
            assert support._imul_portable(a, b) == intop.int_mul(a, b)
        for k in range(64):
            assert support._ishl_portable(a, k) == intop.int_lshift(a, k)
            assert support._ushr_portable(a, k) == intop.uint_rshift(a, k)


@pytest.mark.parametrize("factor", ["(i64.const 0x8000000000000000)", "(global.get $min)",
                                    "(local.get $y)"])
def test_hot_loop_multiplying_by_min_terminates(factor: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # PyPy 7.3.11's JIT never finishes compiling int_mul by a constant -2**63
    # (support._imul64): a loop hot enough to be compiled must still end.
    monkeypatch.setattr(support, "PYPY_SHAPES", True)
    wat = ("""(module (global $min i64 (i64.const 0x8000000000000000))
      (func (export "f") (param $x i64) (param $y i64) (result i64) (local $i i32)
        (loop $l
          (local.set $x (i64.add (i64.mul (local.get $x) %s) (i64.const 3)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 20000))))
        (local.get $x)))""" % factor)
    x = 5
    for _ in range(20000):
        x = (x * (1 << 63) + 3) & M64
    assert instance(wat).func("f")(5, 1 << 63) == x
