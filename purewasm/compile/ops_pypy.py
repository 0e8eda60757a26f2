"""PyPy's shapes of the i32 arithmetic (used when ``support.PYPY_SHAPES`` is set: on PyPy).

PyPy keeps an int in a machine word (its JIT then compiles arithmetic to single
instructions) only while it fits in a signed 64-bit word; past that it becomes a bignum,
and stays one: ``bignum & 0xFFFFFFFF`` is a bignum again, whatever its value (measured on
PyPy 3.9 7.3.11). One such value (an i32 mask of an i64, a product of two large i32s)
makes every value computed from it a bignum, each operation a call and an allocation: the
kernels' ``atoi(argv[2])`` (i64 arithmetic wrapped to i32) slowed every kernel its result
reached 2-5x. So on PyPy an i32 expression never exceeds 63 bits:

* ``i32.mul``: ``imul(a, b) & 0xFFFFFFFF``, ``imul`` multiplying modulo 2**64
  (``__pypy__.intop.int_mul``; support.py has a plain-Python one for other Pythons, so that
  tests can run these shapes anywhere);
* ``i32.add``/``i32.sub``: operands are masked once the sum could pass 63 bits (CPython's
  shapes leave sums of products unmasked up to 80 bits);
* ``i32.shl``: the operand is masked unless the shifted value stays within 63 bits;
* ``i32.wrap_i64``: ``hash(x & 0xFFFFFFFF)``, which is the value itself (hash(n) == n for
  0 <= n < 2**61 - 1) as a machine-word int: the only conversion from a bignum back to a
  word found (``int()``, ``__index__``, ``abs`` and ``round`` return the bignum).

Everything else is the CPython handler, unchanged: each handler here falls back to it when
the switch is off.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from purewasm.syntax import Instr

from . import support
from .entries import Handler
from .registry import HANDLERS, replace
from .stack import V, _p

if TYPE_CHECKING:
    from .translate import Translator

# Largest bit length of an i32 intermediate on PyPy: a machine word, sign bit excluded.
WORD_BITS = 63


def _const_bits(v: V) -> int:
    """Bit length of v's canonical value: a literal's own, else 32."""
    if not v.deps and v.atom and v.e.isdigit():
        return int(v.e).bit_length()
    return 32


def _mul(default: Handler) -> Handler:
    def op(self: Translator, ins: Instr) -> None:
        if not support.PYPY_SHAPES:
            return default(self, ins)
        self.shallow(2)
        b = self.pop()
        a = self.pop()
        bits = _const_bits(a) + _const_bits(b)
        if bits <= WORD_BITS:
            # By a small constant (x * 31, say): the product fits a word as it is.
            self.pure("%s * %s" % (self.pcx(a), self.pcx(b)), "i32", (a, b), canon=False,
                      bits=bits)
        else:
            self.pure("imul(%s, %s) & 0xFFFFFFFF" % (self.cx(a), self.cx(b)), "i32", (a, b))
        return None
    return op


def _add_sub(default: Handler, sym: str) -> Handler:
    def op(self: Translator, ins: Instr) -> None:
        if not support.PYPY_SHAPES:
            return default(self, ins)
        self.shallow(2)
        b = self.pop()
        a = self.pop()
        bits = max(a.bits, b.bits) + 1
        if bits > WORD_BITS:
            e = "%s %s %s" % (self.pcx(a), sym, self.pcx(b))
            bits = 33
        else:
            e = "%s %s %s" % (_p(a), sym, _p(b))
        self.pure(e, "i32", (a, b), canon=False, bits=bits)
        return None
    return op


def _shl(default: Handler) -> Handler:
    def op(self: Translator, ins: Instr) -> None:
        if not support.PYPY_SHAPES:
            return default(self, ins)
        self.shallow(2)
        b = self.pop()
        a = self.pop()
        if b.deps or not b.atom or not b.e.isdigit():
            aa, abits = (_p(a), a.bits) if a.bits <= 32 else (self.pcx(a), 32)
            self.pure("%s << (%s & 31)" % (aa, _p(b)), "i32", (a, b), canon=False,
                      bits=abits + 31)
        else:
            k = int(b.e) & 31
            aa, abits = (_p(a), a.bits) if a.bits + k <= WORD_BITS else (self.pcx(a), 32)
            self.pure("%s << %d" % (aa, k), "i32", (a,), canon=False, bits=abits + k)
        return None
    return op


def _wrap(default: Handler) -> Handler:
    def op(self: Translator, ins: Instr) -> None:
        if not support.PYPY_SHAPES:
            return default(self, ins)
        self.shallow(1)
        a = self.pop()
        self.pure("hash(%s & 0xFFFFFFFF)" % _p(a), "i32", (a,), atom=True)
        return None
    return op


def install() -> None:
    """Put the PyPy-aware handlers in place of the plain ones (done once, at import)."""
    replace("i32.mul", _mul(HANDLERS["i32.mul"]))
    replace("i32.add", _add_sub(HANDLERS["i32.add"], "+"))
    replace("i32.sub", _add_sub(HANDLERS["i32.sub"], "-"))
    replace("i32.shl", _shl(HANDLERS["i32.shl"]))
    replace("i32.wrap_i64", _wrap(HANDLERS["i32.wrap_i64"]))


install()
