"""Translation of the vector instructions (v128: Wasm 2.0 and relaxed SIMD) into
generated Python.

A v128 entry is a Python int in ``[0, 2**128)``, lane 0 in the low bits
(docs/INTERNALS.md), always canonical. The whole-vector bit operations (spec
exec/instructions.rst, vvunop/vvbinop/vvtestop), constants, lane extraction and
replacement and integer splats are inlined; every other instruction calls its helper
from :mod:`purewasm.numeric.simd`, bound in the namespace as ``V_<shape>_<op>``.
Loads and stores are effects, emitted in order like the scalar ones; they trap through
``struct.error``/``IndexError`` (``compile.trap_from_exception``).

Loaded on demand: the translator imports :func:`handlers` at its first v128 instruction
and ``CompiledModule`` adds :func:`namespace` to an instance's names when it realizes a
function that uses them, so modules without SIMD never import this or its helpers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict

from purewasm.numeric.simd import SIMD_HELPERS
from purewasm.opcodes import BY_NAME, OpInfo
from purewasm.syntax import Instr

from . import names
from .ops_memory import address, load, store
from .stack import V, _p

if TYPE_CHECKING:
    from .translate import Translator

M128 = "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
_LANE_BITS = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64, "f32x4": 32, "f64x2": 64}
_SCALAR = {"i8x16": "i32", "i16x8": "i32", "i32x4": "i32", "i64x2": "i64", "f32x4": "f32",
           "f64x2": "f64"}

Handler = Callable[["Translator", Instr], None]


def helper_name(op: str) -> str:
    """The namespace name of the helper of instruction ``op``."""
    return "V_" + op.replace(".", "_")


def namespace() -> Dict[str, Any]:
    """The names generated SIMD code needs (added to compile's base namespace)."""
    return {helper_name(op): fn for op, fn in SIMD_HELPERS.items()}


def _arg(tr: Translator, v: V) -> str:
    # v128 and float entries are used as they are; i32/i64 operands as canonical ints.
    return tr.cx(v) if v.t in ("i32", "i64") else v.e


def _call(info: OpInfo) -> Handler:
    """A pure instruction computed by its helper: pops the signature's params."""
    params, results = info.sig  # type: ignore[misc]
    n = len(params)
    fn = helper_name(info.name)
    rt = results[0]

    def op(tr: Translator, ins: Instr) -> None:
        tr.shallow(n)
        args = tr.popn(n)
        tr.pure("%s(%s)" % (fn, ", ".join(_arg(tr, a) for a in args)), rt, args, atom=True)
    return op


def _load(info: OpInfo) -> Handler:
    tmpl = "%s({m}, {a})" % helper_name(info.name)

    def op(tr: Translator, ins: Instr) -> None:
        load(tr, ins, "v128", tmpl)
    return op


def op_v128_store(tr: Translator, ins: Instr) -> None:
    store(tr, ins, "V_v128_store({m}, {a}, {v})")


def _lane_access(info: OpInfo, is_load: bool) -> Handler:
    """v128.loadN_lane / v128.storeN_lane: a helper call on (memory, address, vector, lane);
    a load yields the updated vector, a store is a statement."""
    fn = helper_name(info.name)

    def op(tr: Translator, ins: Instr) -> None:
        (_, offset, memidx), lane = ins.imm
        tr.shallow(2)
        v = tr.pop()
        base = tr.pop()
        call = "%s(%s, %s, %s, %d)" % (fn, names.MEMORY % memidx, address(tr, base, offset, memidx),
                                       v.e, lane)
        if is_load:
            tr.effect(call, "v128")
        else:
            tr.emit(call)
    return op


def op_v128_const(tr: Translator, ins: Instr) -> None:
    tr.push(V.constant(str(ins.imm), "v128"))


def op_i8x16_shuffle(tr: Translator, ins: Instr) -> None:
    tr.shallow(2)
    b = tr.pop()
    a = tr.pop()
    lanes = "(%s,)" % ", ".join(str(i) for i in ins.imm)
    tr.pure("V_i8x16_shuffle(%s, %s, %s)" % (a.e, b.e, lanes), "v128", (a, b), atom=True)


# --- whole-vector bit operations (spec vvunop, vvbinop, vvtestop): plain int ops -------

def op_v128_not(tr: Translator, ins: Instr) -> None:
    tr.shallow(1)
    a = tr.pop()
    tr.pure("%s ^ %s" % (_p(a), M128), "v128", (a,))


def _bitwise(sym: str) -> Handler:
    def op(tr: Translator, ins: Instr) -> None:
        tr.shallow(2)
        b = tr.pop()
        a = tr.pop()
        tr.pure("%s %s %s" % (_p(a), sym, _p(b)), "v128", (a, b))
    return op


def op_v128_andnot(tr: Translator, ins: Instr) -> None:
    tr.shallow(2)
    b = tr.pop()
    a = tr.pop()
    tr.pure("%s & (%s ^ %s)" % (_p(a), _p(b), M128), "v128", (a, b))


def op_v128_any_true(tr: Translator, ins: Instr) -> None:
    tr.shallow(1)
    a = tr.pop()
    tr.pure("%s != 0" % _p(a), "i32", (a,), isbool=True, bits=1)


# --- splat, extract_lane, replace_lane ----------------------------------------------------

def _splat(shape: str) -> Handler:
    w = _LANE_BITS[shape]
    rep = sum(1 << (k * w) for k in range(128 // w))
    if shape.startswith("f"):
        return _call(BY_NAME[shape + ".splat"])

    def op(tr: Translator, ins: Instr) -> None:
        tr.shallow(1)
        x = tr.pop()
        if x.atom and x.e.isdigit():
            tr.push(V.constant(str((int(x.e) & ((1 << w) - 1)) * rep), "v128"))
            return
        if x.canon and x.bits <= w:
            # Already a lane value (e.g. a canonical i32 for i32x4): no mask needed.
            tr.pure("%s * %d" % (_p(x), rep), "v128", (x,))
        else:
            tr.pure("(%s & %d) * %d" % (_p(x), (1 << w) - 1, rep), "v128", (x,))
    return op


def _extract(shape: str, signed: bool) -> Handler:
    w = _LANE_BITS[shape]
    m = (1 << w) - 1
    t = _SCALAR[shape]

    def op(tr: Translator, ins: Instr) -> None:
        tr.shallow(1)
        v = tr.pop()
        sh = w * ins.imm
        e = "(%s >> %d) & %d" % (_p(v), sh, m) if sh else "%s & %d" % (_p(v), m)
        if shape == "f32x4":
            # The exact bit path: a signalling NaN lane stays signalling.
            tr.pure("f32_from_bits(%s)" % e, t, (v,), atom=True)
        elif shape == "f64x2":
            tr.pure("f64_from_bits(%s)" % e, t, (v,), atom=True)
        elif signed:
            s = 1 << (w - 1)
            tr.pure("((%s) ^ %d) - %d" % (e, s, s), t, (v,), canon=False, bits=w)
        else:
            tr.pure(e, t, (v,), bits=w)
    return op


def _replace(shape: str) -> Handler:
    w = _LANE_BITS[shape]
    m = (1 << w) - 1

    def op(tr: Translator, ins: Instr) -> None:
        tr.shallow(2)
        x = tr.pop()
        v = tr.pop()
        sh = w * ins.imm
        keep = ((1 << 128) - 1) ^ (m << sh)
        if shape == "f32x4":
            lane = "f32_to_bits(%s)" % x.e
        elif shape == "f64x2":
            lane = "f64_to_bits(%s)" % x.e
        elif x.canon and x.bits <= w:
            lane = _p(x)
        else:
            lane = "(%s & %d)" % (_p(x), m)
        if sh:
            lane = "(%s << %d)" % (lane, sh)
        tr.pure("(%s & %d) | %s" % (_p(v), keep, lane), "v128", (v, x))
    return op


def handlers() -> Dict[str, Handler]:
    """Instruction name -> handler, for every vector instruction."""
    d: Dict[str, Handler] = {
        "v128.const": op_v128_const,
        "v128.store": op_v128_store,
        "i8x16.shuffle": op_i8x16_shuffle,
        "v128.not": op_v128_not,
        "v128.and": _bitwise("&"),
        "v128.or": _bitwise("|"),
        "v128.xor": _bitwise("^"),
        "v128.andnot": op_v128_andnot,
        "v128.any_true": op_v128_any_true,
    }
    for shape in _LANE_BITS:
        d[shape + ".splat"] = _splat(shape)
        d[shape + ".replace_lane"] = _replace(shape)
        if shape in ("i8x16", "i16x8"):
            d[shape + ".extract_lane_s"] = _extract(shape, True)
            d[shape + ".extract_lane_u"] = _extract(shape, False)
        else:
            d[shape + ".extract_lane"] = _extract(shape, False)
    for info in BY_NAME.values():
        if info.prefix != 0xFD or info.name in d:
            continue
        if info.imm == "memarg":
            d[info.name] = _load(info)
        elif info.imm == "memarg_lane":
            d[info.name] = _lane_access(info, "load" in info.name)
        elif info.name in SIMD_HELPERS:
            d[info.name] = _call(info)
    return d

