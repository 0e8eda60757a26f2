"""How i32/i64 results are reduced and written on CPython (compile/ops_numeric.py).

``(x ^ -1) >>u (w - 1)``, LLVM's ``x >=s 0`` as 0 or 1 (zig's block partition adds
it to a count per comparison), translated as the comparison ``x < 2**(w-1)``
(compile/ops_numeric._complemented): same values as the shift for every edge value, as
a value, in a sum, as a branch condition, for i32 and i64; shapes it must not take (a
shift by another count, an xor with another constant, an operand not reduced yet).

A difference from a canonical value is reduced with ``% 2**w`` (it only needs reducing
when negative, where ``%`` costs no more than ``&``), as is a sum with a comparison's
result (a count); values against Python's."""
from __future__ import annotations

import pytest

from compile_helpers import instance
from purewasm.compile.entries import CPYTHON_SHAPES

TEXT = """(module
  (func (export "v32") (param i32) (result i32)
    local.get 0 i32.const -1 i32.xor i32.const 31 i32.shr_u)
  (func (export "v32_first") (param i32) (result i32)
    i32.const -1 local.get 0 i32.xor i32.const 31 i32.shr_u)
  (func (export "sum32") (param i32 i32) (result i32)
    local.get 1 local.get 0 i32.const -1 i32.xor i32.const 31 i32.shr_u i32.add)
  (func (export "expr32") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.and i32.const -1 i32.xor i32.const 31 i32.shr_u)
  (func (export "br32") (param i32) (result i32)
    block
      local.get 0 i32.const -1 i32.xor i32.const 31 i32.shr_u br_if 0
      i32.const 7 return
    end
    i32.const 9)
  (func (export "v64") (param i64) (result i64)
    local.get 0 i64.const -1 i64.xor i64.const 63 i64.shr_u)
  (func (export "other_count") (param i32) (result i32)
    local.get 0 i32.const -1 i32.xor i32.const 30 i32.shr_u)
  (func (export "other_const") (param i32) (result i32)
    local.get 0 i32.const -2 i32.xor i32.const 31 i32.shr_u)
  (func (export "unreduced") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add i32.const -1 i32.xor i32.const 31 i32.shr_u))"""

M32 = 2**32 - 1
M64 = 2**64 - 1
EDGES32 = [0, 1, 2, 0x7FFFFFFE, 0x7FFFFFFF, 0x80000000, 0x80000001, M32 - 1, M32]
EDGES64 = [0, 1, 2**63 - 1, 2**63, 2**63 + 1, M64 - 1, M64]


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_values(mode: str) -> None:
    inst = instance(TEXT, mode=mode)
    for x in EDGES32:
        want = (x ^ M32) >> 31
        assert inst.func("v32")(x) == want, x
        assert inst.func("v32_first")(x) == want, x
        assert inst.func("br32")(x) == (9 if want else 7), x
        assert inst.func("other_count")(x) == (x ^ M32) >> 30, x
        assert inst.func("other_const")(x) == (x ^ (M32 - 1)) >> 31, x
        for y in (0, 5, M32):
            assert inst.func("sum32")(x, y) == (y + want) & M32, (x, y)
            assert inst.func("expr32")(x, y) == ((x & y) ^ M32) >> 31, (x, y)
            assert inst.func("unreduced")(x, y) == (((x + y) & M32) ^ M32) >> 31, (x, y)
    for x in EDGES64:
        assert inst.func("v64")(x) == (x ^ M64) >> 63, x


def test_shapes() -> None:
    if not CPYTHON_SHAPES:
        pytest.skip("CPython's shapes")
    src = instance(TEXT).compiled.source
    assert "l0 < 2147483648" in src(0) and "^" not in src(0)
    assert "l0 < 2147483648" in src(1) and "^" not in src(1)
    assert "< 2147483648" in src(3) and "^" not in src(3)
    assert "l0 < 9223372036854775808" in src(5)
    assert ">> 30" in src(6) and ">> 31" in src(7)
    # a sum not reduced yet is no canonical operand: the shift stays
    assert ">> 31" in src(8)


DIFFS = """(module
  (func (export "sub32") (param i32 i32) (result i32) local.get 0 local.get 1 i32.sub)
  (func (export "neg32") (param i32) (result i32) i32.const 0 local.get 0 i32.sub)
  (func (export "sub64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.sub)
  (func (export "count") (param i32 i32 i32) (result i32)
    local.get 2 local.get 0 local.get 1 i32.lt_u i32.add))"""


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_differences(mode: str) -> None:
    inst = instance(DIFFS, mode=mode)
    for x in EDGES32:
        assert inst.func("neg32")(x) == -x & M32, x
        for y in EDGES32:
            assert inst.func("sub32")(x, y) == (x - y) & M32, (x, y)
            assert inst.func("count")(x, y, M32) == (M32 + (x < y)) & M32, (x, y)
    for x in EDGES64:
        for y in EDGES64:
            assert inst.func("sub64")(x, y) == (x - y) & M64, (x, y)
    if CPYTHON_SHAPES and mode is None:
        src = inst.compiled.source
        assert "(l0 - l1) % 4294967296" in src(0), src(0)
        assert "(0 - l0) % 4294967296" in src(1), src(1)
        assert "(l0 - l1) % 18446744073709551616" in src(2), src(2)
        assert "% 4294967296" in src(3) and "&" not in src(3), src(3)


SIGNED = """(module
  (func (export "shr_s") (param i32) (result i32) local.get 0 i32.const 4 i32.shr_s)
  (func (export "ext8") (param i32) (result i32) local.get 0 i32.extend8_s)
  (func (export "div7") (param i32) (result i32) local.get 0 i32.const -7 i32.div_s)
  (func (export "ext32") (param i64) (result i64) local.get 0 i64.extend32_s))"""


def _signed(x: int, w: int = 32) -> int:
    return x - (1 << w) if x >> (w - 1) else x


@pytest.mark.parametrize("mode", [None, "flat", "metered"])
def test_signed_results(mode: str) -> None:
    """Results that are signed Python values (in range or negative, never past 2**w)
    are reduced with ``%`` too."""
    inst = instance(SIGNED, mode=mode)
    for x in EDGES32:
        assert inst.func("shr_s")(x) == (_signed(x) >> 4) & M32, x
        assert inst.func("ext8")(x) == _signed(x & 0xFF, 8) & M32, x
        q = abs(_signed(x)) // 7 * (-1 if _signed(x) >= 0 else 1)
        assert inst.func("div7")(x) == q & M32, x
    for x in EDGES64:
        assert inst.func("ext32")(x) == _signed(x & M32) & M64, x
    if CPYTHON_SHAPES and mode is None:
        for i in range(3):
            assert "% 4294967296" in inst.compiled.source(i), inst.compiled.source(i)
        assert "% 18446744073709551616" in inst.compiled.source(3)
