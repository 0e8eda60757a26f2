"""Helpers that generated code calls for the rarer instructions (tables, bulk memory,
call_indirect) and the names it finds in its namespace.

Bounds follow the spec's exec/instructions.rst: a bulk operation traps when any accessed
index range is out of bounds, checked before anything is written, even for length 0
when the start is past the end.
"""
from __future__ import annotations

import math
import os
import struct
import sys
import types
from typing import Any, Callable, Dict, List, Optional

from purewasm import numeric
from purewasm.errors import Trap, TrapCode, WasmException
from purewasm.runtime import gc
from purewasm.syntax.canon import ancestors


# PyPy's JIT wants other shapes of generated code and namespaces than CPython: every such
# difference is keyed on this flag (docs/benchmarks.md, "PyPy" in the optimisation log).
ON_PYPY = sys.implementation.name == "pypy"
# Whether the translator emits PyPy's shapes of i32 arithmetic (ops_pypy.py). Tests change
# it, or set PUREWASM_PYPY_SHAPES=1, to run those shapes on CPython; cache keys include it.
PYPY_SHAPES = ON_PYPY or os.environ.get("PUREWASM_PYPY_SHAPES") == "1"


def _imul_portable(a: int, b: int) -> int:
    """a * b modulo 2**64, as a signed 64-bit value (what ``__pypy__.intop.int_mul`` gives)."""
    return ((a * b + 0x8000000000000000) & 0xFFFFFFFFFFFFFFFF) - 0x8000000000000000


def _iadd_portable(a: int, b: int) -> int:
    """a + b modulo 2**64, signed (``__pypy__.intop.int_add``)."""
    return ((a + b + 0x8000000000000000) & 0xFFFFFFFFFFFFFFFF) - 0x8000000000000000


def _isub_portable(a: int, b: int) -> int:
    """a - b modulo 2**64, signed (``__pypy__.intop.int_sub``)."""
    return ((a - b + 0x8000000000000000) & 0xFFFFFFFFFFFFFFFF) - 0x8000000000000000


def _ishl_portable(a: int, k: int) -> int:
    """a << k modulo 2**64, signed, for 0 <= k < 64 (``__pypy__.intop.int_lshift``)."""
    return (((a << k) + 0x8000000000000000) & 0xFFFFFFFFFFFFFFFF) - 0x8000000000000000


def _ushr_portable(a: int, k: int) -> int:
    """The 64-bit pattern of a shifted right logically by 0 <= k < 64, signed
    (``__pypy__.intop.uint_rshift``)."""
    return (((a & 0xFFFFFFFFFFFFFFFF) >> k) ^ 0x8000000000000000) - 0x8000000000000000


def _intop(name: str, portable: Callable[[int, int], int]) -> Callable[[int, int], int]:
    """PyPy's machine-word operation ``name`` (its JIT compiles it to one instruction on
    machine-word ints), else the plain-Python equivalent (tests run PyPy's shapes on
    CPython)."""
    if ON_PYPY:
        try:
            from __pypy__ import intop
            fn: Callable[[int, int], int] = getattr(intop, name)
            return fn
        except (ImportError, AttributeError):
            pass
    return portable


def _imul() -> Callable[[int, int], int]:
    return _intop("int_mul", _imul_portable)


def _imul64() -> Callable[[int, int], int]:
    """Signed 64-bit wrapping multiplication for i64.mul of two variables (ops_pypy.py).

    PyPy 7.3.11's JIT hangs compiling ``int_mul`` by the constant -2**63 (a trace where
    the factor is a known constant: ``intop.int_mul(i, -2**63)`` in a loop never
    finishes; other constants, and the factor in a variable, are fine). The test below
    makes the JIT drop the multiplication for a constant -2**63 and costs a guard
    otherwise; a literal factor is handled at translation time (ops_pypy._i64_mul)."""
    mul = _imul()
    shl = _intop("int_lshift", _ishl_portable)

    def imul64(a: int, b: int) -> int:
        if b == -0x8000000000000000:
            return shl(a, 63)
        if a == -0x8000000000000000:
            return shl(b, 63)
        return mul(a, b)
    return imul64


def _to_signed64() -> Callable[[int], int]:
    """A canonical (unsigned) i64 as the signed machine word PyPy's shapes compute with
    (ops_pypy.py, "i64 as signed words"). On PyPy, ``x - 2**64`` of a big int is a big
    int still (they are sticky), whatever its value: ``int_add(..., 0)`` makes the word."""
    iadd = _intop("int_add", _iadd_portable)

    def to_signed64(x: int) -> int:
        return iadd(x - 0x10000000000000000 if x > 0x7FFFFFFFFFFFFFFF else x, 0)
    return to_signed64


def new_namespace(base: Dict[str, Any]) -> Dict[str, Any]:
    """A fresh namespace (the globals of an instance's generated functions) holding
    ``base``. On PyPy a module's ``__dict__``: its JIT reads a module dict's entries as
    constants guarded by the dict's version, while each read of a plain dict's entry is a
    hash lookup in the loop (measured: the f64 matmul kernel 2.4x faster)."""
    if ON_PYPY:
        ns: Dict[str, Any] = types.ModuleType("purewasm_instance").__dict__
        ns.update(base)
        return ns
    return dict(base)


def call_target(elements: List[Any], i: int, tid: int,
                cache: Optional[Dict[int, Callable[..., Any]]] = None) -> Callable[..., Any]:
    """call_indirect (spec exec/instructions.rst): the callee's raw callable, or a trap.

    ``cache``: the table's cache for ``tid`` (runtime.instances.TableElements.call_cache),
    where CPython's generated code looks first; the callee found is put there, realised
    (a lazy stub is translated now, as the call is about to be made), so that the next
    call through the same entry is one dict look-up."""
    if i >= len(elements):
        raise Trap(TrapCode.UNDEFINED_ELEMENT)
    f = elements[i]
    if f is None:
        raise Trap(TrapCode.INDIRECT_CALL_TO_NULL)
    if f.type_id != tid and tid not in ancestors(f.type_id):
        # GC: the callee's type may be a declared subtype of the expected one.
        raise Trap(TrapCode.BAD_SIGNATURE)
    fn = f.fn
    if cache is not None:
        realize = getattr(fn, "purewasm_realize", None)
        if realize is not None:
            fn = realize()
        cache[i] = fn
    return fn


def call_ref_target(f: Any) -> Callable[..., Any]:
    """call_ref / return_call_ref (spec 3.0 exec/instructions.rst): the callee's raw
    callable, or a trap on null. Its type needs no check: validation proved it."""
    if f is None:
        raise Trap(TrapCode.NULL_REFERENCE, "null function reference")
    return f.fn


def table_get(elements: List[Any], i: int) -> Any:
    if i >= len(elements):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    return elements[i]


def table_set(elements: List[Any], i: int, v: Any) -> None:
    if i >= len(elements):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    elements[i] = v


def table_fill(elements: List[Any], i: int, v: Any, n: int) -> None:
    if i + n > len(elements):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    elements[i:i + n] = [v] * n


def table_copy(dst: List[Any], src: List[Any], d: int, s: int, n: int) -> None:
    if s + n > len(src) or d + n > len(dst):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    dst[d:d + n] = src[s:s + n]   # the right side is a copy: overlap is safe


def table_init(elements: List[Any], segs: List[List[Any]], k: int, d: int, s: int,
               n: int) -> None:
    seg = segs[k]
    if s + n > len(seg) or d + n > len(elements):
        raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
    elements[d:d + n] = seg[s:s + n]


def memory_fill(mem: bytearray, d: int, v: int, n: int) -> None:
    if d + n > len(mem):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        mem[d:d + n] = bytes((v & 0xFF,)) * n


def memory_copy(dst: bytearray, src: bytearray, d: int, s: int, n: int) -> None:
    if s + n > len(src) or d + n > len(dst):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        dst[d:d + n] = src[s:s + n]


def memory_init(mem: bytearray, segs: List[bytes], k: int, d: int, s: int, n: int) -> None:
    seg = segs[k]
    if s + n > len(seg) or d + n > len(mem):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        mem[d:d + n] = seg[s:s + n]


def _struct_fns() -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, fmt in (("U32", "<I"), ("U64", "<Q"), ("F64", "<d"), ("I16", "<h"),
                      ("U16", "<H"), ("I32", "<i"),
                      ("I64", "<q")):
        s = struct.Struct(fmt)
        out["LD_" + name] = s.unpack_from
        out["ST_" + name] = s.pack_into
    return out


def base_namespace() -> Dict[str, Any]:
    """The names every generated function may use, independent of the instance."""
    import builtins
    ns: Dict[str, Any] = {"__builtins__": builtins}
    ns.update(numeric.HELPERS)
    ns.update(_struct_fns())
    ns.update(gc.HELPERS)
    ns.update({
        "Trap": Trap,
        "TC_UNREACHABLE": TrapCode.UNREACHABLE,
        "TC_OUT_OF_FUEL": TrapCode.OUT_OF_FUEL,
        "TC_INTERRUPT": TrapCode.INTERRUPT,
        "CALL_TARGET": call_target,
        "CALL_REF_TARGET": call_ref_target,
        "TC_NULL_REFERENCE": TrapCode.NULL_REFERENCE,
        "TAIL_CALL": TailCall,
        "WEXC": WasmException,
        "THROW_REF": throw_ref,
        "TABLE_GET": table_get,
        "TABLE_SET": table_set,
        "TABLE_FILL": table_fill,
        "TABLE_COPY": table_copy,
        "TABLE_INIT": table_init,
        "MEMORY_FILL": memory_fill,
        "MEMORY_COPY": memory_copy,
        "MEMORY_INIT": memory_init,
        "imul": _imul(),
        # i64 as signed machine words (PyPy's shapes: ops_pypy.py).
        "iadd": _intop("int_add", _iadd_portable),
        "isub": _intop("int_sub", _isub_portable),
        "imul64": _imul64(),
        "ishl": _intop("int_lshift", _ishl_portable),
        "ushr": _intop("uint_rshift", _ushr_portable),
        "S64": _to_signed64(),
        "copysign": math.copysign,
        "fabs": math.fabs,
        "fmod": math.fmod,
    })
    return ns


# --- Exception handling (Wasm 3.0) ---------------------------------------------------------

def throw_ref(exn: Any) -> BaseException:
    """The exception an exnref rethrows (generated code raises it): the exception object
    itself, its old traceback dropped (a rethrow loop must not grow it); null traps."""
    if exn is None:
        raise Trap(TrapCode.NULL_REFERENCE, "null exception reference")
    exc: BaseException = exn.with_traceback(None)
    return exc


# --- Tail calls (Wasm 3.0) -------------------------------------------------------------------
# A function that makes tail calls returns TailCall(callee, args) instead of calling; its
# entry point (tail_entry) runs such calls in a loop, so the Python stack does not grow
# however long a chain of tail calls runs. When the callee makes tail calls too, the loop
# runs its body directly (``purewasm_tail``): mutual tail recursion stays flat. Functions
# without tail calls are not wrapped and pay nothing.

class TailCall:
    __slots__ = ("fn", "args")

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self.fn = fn
        self.args = args


def run_tail_calls(call: TailCall) -> Any:
    while True:
        fn = call.fn
        body = getattr(fn, "purewasm_tail", None)
        if body is None:
            # Not a tail-calling function (a plain generated function, a host function,
            # a lazy stub): an ordinary call, whose result is final.
            return fn(*call.args)
        result = body(*call.args)
        if result.__class__ is not TailCall:
            return result
        call = result


def tail_entry(body: Callable[..., Any]) -> Callable[..., Any]:
    """The callable of a function whose generated code ``body`` makes tail calls."""
    def entry(*args: Any) -> Any:
        result = body(*args)
        if result.__class__ is TailCall:
            return run_tail_calls(result)
        return result
    entry.purewasm_tail = body  # type: ignore[attr-defined]
    entry.__name__ = body.__name__
    return entry
