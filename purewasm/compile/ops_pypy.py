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

i64 values above 2**63 cannot be machine words at all while they are unsigned Python ints:
an i64 hash or PRNG (the xorshift kernel) computed in bignums. So, on PyPy, a function
whose instructions allow it (:func:`signed_i64_ok`: no SIMD, GC or exception instructions,
no 64-bit memory or table) keeps its i64 values as *signed* machine words
(-2**63..2**63-1, the same bits) in its Python locals, slots and expressions: add, sub,
mul and shl through ``__pypy__.intop`` (wrapping at the word), shr_u through its
``uint_rshift``, and/or/xor/shr_s/signed compares as they are, i64 loads and stores through
``struct`` "<q". Wherever a value leaves the function's locals it becomes canonical
(unsigned) again: call arguments, results returned, global.set, and instructions without
a signed shape here (div/rem, clz, conversions...: :func:`_via_unsigned`); values coming in
(parameters, call results, global.get) are converted once (``S64``, support.py).

Everything else is the CPython handler, unchanged: each handler here falls back to it when
the switch is off.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

from purewasm.opcodes import BY_NAME, GC_NAMES
from purewasm.syntax import FuncType, Instr, Module

from . import support
from .entries import Handler
from .ops_memory import load, store
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


# --- i64 as signed machine words ------------------------------------------------------------

M64 = 0xFFFFFFFFFFFFFFFF
_SIGN64 = 1 << 63
# Instructions a function in signed-i64 mode must not contain: their i64 operands or
# results travel in ways this mode does not convert (vector lanes, GC fields, exception
# payloads).
_EXCLUDED = GC_NAMES | {"throw", "throw_ref", "try_table"}
_NEGATIVE_LITERAL = re.compile(r"^\(-\d+\)$")


def signed_i64_ok(module: Module, body: Sequence[Instr], memory_addresses: Sequence[str],
                  table_addresses: Sequence[str]) -> bool:
    """Whether a function keeps its i64 values as signed machine words (on PyPy only):
    it computes in i64, and every instruction it has converts at the boundaries."""
    if not support.PYPY_SHAPES or "i64" in memory_addresses or "i64" in table_addresses:
        return False
    uses_i64 = False
    for ins in body:
        op = ins.op
        if op in _EXCLUDED or op not in HANDLERS:   # not in HANDLERS: a vector instruction
            return False
        if op.startswith("i64."):
            uses_i64 = True
    return uses_i64


def _signed(t: Translator) -> bool:
    return bool(getattr(t, "signed_i64", False))


def signed_literal(value: int) -> V:
    """An i64 constant as its signed value."""
    value &= M64
    if value >= _SIGN64:
        return V.constant("(%d)" % (value - (1 << 64)), "i64")
    return V.constant(str(value), "i64")


def unsigned_view(v: V) -> V:
    """The canonical (unsigned) value of the signed i64 entry v."""
    if v.atom and not v.deps and v.e.isdigit():
        return v
    if _NEGATIVE_LITERAL.match(v.e) and not v.deps:
        return V.constant(str(int(v.e[1:-1]) + (1 << 64)), "i64")
    nv = V("%s & 0x%X" % (_p(v), M64), "i64", v.deps, True, 64, v.depth + 1)
    return nv


def unsigned_views(vals: Sequence[V], types: Sequence[str]) -> List[V]:
    """vals as they leave the function: i64 ones canonical."""
    return [unsigned_view(v) if t == "i64" else v for v, t in zip(vals, types)]


def _swap_args(t: Translator, types: Sequence[str], above: int = 0) -> None:
    """The operands of types ``types`` on the stack (below ``above`` other entries) made
    canonical (unsigned) where they are i64."""
    if "i64" not in types:
        return
    top = t.popn(above)
    args = t.popn(len(types))
    for v in unsigned_views(args, types):
        t.push(v)
    for v in top:
        t.push(v)


def _signed_results(t: Translator, types: Sequence[str]) -> None:
    """The values of types ``types`` on top (canonical: a call's, a global's) made signed
    where they are i64."""
    if "i64" not in types:
        return
    vals = t.popn(len(types))
    for v, ty in zip(vals, types):
        if ty == "i64":
            t.pure("S64(%s)" % t.cx(v), "i64", (v,), atom=True)
        else:
            t.push(v)


def _via_unsigned(default: Handler, name: str) -> Handler:
    """An instruction with no signed shape: canonical operands in, a signed result out."""
    params, results = BY_NAME[name].sig or ((), ())

    def op(self: Translator, ins: Instr) -> None:
        if not _signed(self):
            return default(self, ins)
        _swap_args(self, params)
        default(self, ins)
        _signed_results(self, results)
        return None
    return op


def _when_signed(default: Handler, signed: Handler) -> Handler:
    def op(self: Translator, ins: Instr) -> None:
        if _signed(self):
            return signed(self, ins)
        return default(self, ins)
    return op


def _i64_const(t: Translator, ins: Instr) -> None:
    t.push(signed_literal(ins.imm))


def _i64_binop(name: str) -> Handler:
    fn = {"add": "iadd", "sub": "isub"}.get(name)
    sym = {"and": "&", "or": "|", "xor": "^", "eq": "==", "ne": "!=", "lt_s": "<",
           "gt_s": ">", "le_s": "<=", "ge_s": ">=", "lt_u": "<", "gt_u": ">",
           "le_u": "<=", "ge_u": ">="}.get(name)

    def op(t: Translator, ins: Instr) -> None:
        t.shallow(2)
        b = t.pop()
        a = t.pop()
        if name == "mul":
            _i64_mul(t, a, b)
        elif fn is not None:
            t.pure("%s(%s, %s)" % (fn, a.e, b.e), "i64", (a, b), atom=True)
        elif name in ("and", "or", "xor"):
            t.pure("%s %s %s" % (_p(a), sym, _p(b)), "i64", (a, b))
        elif name in ("eq", "ne", "lt_s", "gt_s", "le_s", "ge_s"):
            t.pure("%s %s %s" % (_p(a), sym, _p(b)), "i32", (a, b), isbool=True, bits=1)
        elif name in ("lt_u", "gt_u", "le_u", "ge_u"):
            # Unsigned order of signed words: flip the sign bit of both sides.
            t.pure("%s %s %s" % (_flip(a), sym, _flip(b)), "i32", (a, b), isbool=True,
                   bits=1)
        elif name in ("shl", "shr_s", "shr_u"):
            if not b.deps and b.atom and b.e.isdigit():
                k = str(int(b.e) & 63)
            else:
                k = "%s & 63" % _p(b)
            if name == "shl":
                t.pure("ishl(%s, %s)" % (a.e, k), "i64", (a, b), atom=True)
            elif name == "shr_s":
                t.pure("%s >> %s" % (_p(a), k if k.isdigit() else "(%s)" % k), "i64",
                       (a, b))
            else:
                # A constant count k > 0 leaves a non-negative value below 2**(64 - k).
                bits = 64 - int(k) if k.isdigit() and k != "0" else 64
                t.pure("ushr(%s, %s)" % (a.e, k), "i64", (a, b), atom=True, bits=bits)
        elif name in ("rotl", "rotr"):
            r = int(b.e) & 63
            if name == "rotr":
                r = (64 - r) & 63
            if r == 0:
                t.push(a)
                return
            # a is read twice: a name (its slot) unless it is one.
            t.push(a)
            if not (a.atom and (a.slot >= 0 or a.e.isidentifier())):
                t.flush(len(t.stack) - 1)
            a = t.pop()
            t.pure("ishl(%s, %d) | ushr(%s, %d)" % (a.e, r, a.e, 64 - r), "i64", (a,))
    return op


def _literal(v: V) -> Optional[int]:
    """The signed value of an i64 literal entry, else None."""
    if v.deps:
        return None
    if v.atom and v.e.isdigit():
        return int(v.e)
    if _NEGATIVE_LITERAL.match(v.e):
        return int(v.e[1:-1])
    return None


def _i64_mul(t: Translator, a: V, b: V) -> None:
    """i64.mul: ``imul`` by a literal; by -2**63 (whose multiplication hangs PyPy's JIT,
    support._imul64) or another power of two, a shift; of two variables, ``imul64``."""
    ka, kb = _literal(a), _literal(b)
    if kb is None and ka is not None:
        a, b, ka, kb = b, a, kb, ka
    if kb is None:
        t.pure("imul64(%s, %s)" % (a.e, b.e), "i64", (a, b), atom=True)
    elif kb == -_SIGN64 or (kb > 0 and kb & (kb - 1) == 0):
        shift = 63 if kb < 0 else kb.bit_length() - 1
        t.pure("ishl(%s, %d)" % (a.e, shift), "i64", (a,), atom=True)
    else:
        t.pure("imul(%s, %s)" % (a.e, b.e), "i64", (a, b), atom=True)


def _flip(v: V) -> str:
    if not v.deps and v.atom and v.e.isdigit():
        return str(int(v.e) - _SIGN64)
    if _NEGATIVE_LITERAL.match(v.e) and not v.deps:
        return str(int(v.e[1:-1]) ^ -_SIGN64)
    return "(%s ^ %d)" % (_p(v), -_SIGN64)


def _i64_eqz(t: Translator, ins: Instr) -> None:
    t.shallow(1)
    a = t.pop()
    t.pure("not %s" % _p(a), "i32", (a,), isbool=True, bits=1)


def _signed_already(default: Handler) -> Handler:
    """i64.extend_i32_s, i64.extendN_s and the sign-extending narrow loads: the plain
    shape's value is the signed one already."""
    def op(t: Translator, ins: Instr) -> None:
        default(t, ins)
        v = t.stack[-1]
        v.canon = True
        v.bits = 64
    return op


def _i64_load(t: Translator, ins: Instr) -> None:
    load(t, ins, "i64", "LD_I64({m}, {a})[0]")


def _i64_store(t: Translator, ins: Instr) -> None:
    store(t, ins, "ST_I64({m}, {a}, {v})")


def _f64_convert_s(t: Translator, ins: Instr) -> None:
    t.shallow(1)
    a = t.pop()
    t.pure("float(%s)" % a.e, "f64", (a,), atom=True)


def _call_types(t: Translator, ins: Instr) -> FuncType:
    if ins.op in ("call", "return_call"):
        ft: FuncType = t.func_types[ins.imm]
        return ft
    if ins.op in ("call_indirect", "return_call_indirect"):
        return t.module.types[ins.imm[0]]
    return t.module.types[ins.imm]     # call_ref, return_call_ref


def _call(default: Handler) -> Handler:
    """Calls: i64 arguments leave canonical, i64 results come back signed."""
    def op(t: Translator, ins: Instr) -> None:
        if not _signed(t):
            return default(t, ins)
        ft = _call_types(t, ins)
        callee_on_top = 0 if ins.op in ("call", "return_call") else 1
        _swap_args(t, ft.params, callee_on_top)
        default(t, ins)
        if not ins.op.startswith("return_"):
            _signed_results(t, ft.results)
        return None
    return op


def _global_get(default: Handler) -> Handler:
    def op(t: Translator, ins: Instr) -> None:
        default(t, ins)
        if _signed(t):
            _signed_results(t, (t.global_types[ins.imm].content,))
    return op


def _global_set(default: Handler) -> Handler:
    def op(t: Translator, ins: Instr) -> None:
        if _signed(t):
            _swap_args(t, (t.global_types[ins.imm].content,))
        default(t, ins)
    return op


def entry_lines(t: Translator) -> List[str]:
    """The first lines of a signed-i64 function: its i64 parameters made signed."""
    if not _signed(t):
        return []
    return ["l%d = S64(l%d)" % (i, i) for i, ty in enumerate(t.type.params) if ty == "i64"]


# Instructions whose plain shape is right for signed i64 operands, or whose i64 result
# is non-negative and below 2**32 (the same value signed or not): wrap_i64 masks, narrow
# stores mask, extend_i32_u and the unsigned narrow loads zero-extend.
_SIGNED_AS_IS = frozenset(("i32.wrap_i64", "i64.extend_i32_u", "i64.store8", "i64.store16",
                           "i64.store32", "i64.load8_u", "i64.load16_u", "i64.load32_u",
                           "i64.extend_i32_s", "i64.extend8_s", "i64.extend16_s",
                           "i64.extend32_s", "i64.load8_s", "i64.load16_s", "i64.load32_s"))


def _install_i64() -> None:
    signed: Dict[str, Handler] = {"i64.const": _i64_const, "i64.eqz": _i64_eqz, "i64.load": _i64_load,
              "i64.store": _i64_store, "f64.convert_i64_s": _f64_convert_s}
    for n in ("add sub mul and or xor eq ne lt_s gt_s le_s ge_s lt_u gt_u le_u ge_u "
              "shl shr_s shr_u").split():
        signed["i64." + n] = _i64_binop(n)
    for name, handler in signed.items():
        replace(name, _when_signed(HANDLERS[name], handler))
    for name in ("i64.extend_i32_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s",
                 "i64.load8_s", "i64.load16_s", "i64.load32_s"):
        replace(name, _when_signed(HANDLERS[name], _signed_already(HANDLERS[name])))
    rot: Dict[str, Handler] = {"i64.rotl": _i64_binop("rotl"), "i64.rotr": _i64_binop("rotr")}
    for name, handler in rot.items():
        replace(name, _rotate(HANDLERS[name], handler))
    # What remains of the instructions with an i64 operand or result (div/rem, clz, ctz,
    # popcnt, conversions, reinterpretations, narrow stores, unsigned narrow loads, wrap,
    # extend_i32_u): canonical operands in, a signed result out.
    for name in list(HANDLERS):
        info = BY_NAME.get(name)
        if name in signed or name in rot or info is None or info.sig is None:
            continue
        if name in _SIGNED_AS_IS:
            continue
        if "i64" in info.sig[0] or "i64" in info.sig[1]:
            replace(name, _via_unsigned(HANDLERS[name], name))
    for name in ("call", "call_indirect", "call_ref", "return_call", "return_call_indirect",
                 "return_call_ref"):
        replace(name, _call(HANDLERS[name]))
    replace("global.get", _global_get(HANDLERS["global.get"]))
    replace("global.set", _global_set(HANDLERS["global.set"]))


def _rotate(default: Handler, signed: Handler) -> Handler:
    """A rotation by a constant has a signed shape; by a variable count, the canonical one."""
    fallback = _via_unsigned(default, "i64.rotl")

    def op(t: Translator, ins: Instr) -> None:
        if not _signed(t):
            return default(t, ins)
        b = t.stack[-1]
        if not b.deps and b.atom and b.e.isdigit():
            return signed(t, ins)
        return fallback(t, ins)
    return op


def install() -> None:
    """Put the PyPy-aware handlers in place of the plain ones (done once, at import)."""
    replace("i32.mul", _mul(HANDLERS["i32.mul"]))
    replace("i32.add", _add_sub(HANDLERS["i32.add"], "+"))
    replace("i32.sub", _add_sub(HANDLERS["i32.sub"], "-"))
    replace("i32.shl", _shl(HANDLERS["i32.shl"]))
    replace("i32.wrap_i64", _wrap(HANDLERS["i32.wrap_i64"]))
    _install_i64()


install()
