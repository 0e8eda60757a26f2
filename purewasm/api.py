"""The public embedding API, with the names and call shapes of wasmtime-py's core API.

Code written for wasmtime-py (core API, no WASI) runs after ``import purewasm as wasmtime``.
Each facade object wraps a runtime object (``_inst``); the runtime objects are the real
state (docs/INTERNALS.md). Values at this API: i32/i64 accept signed or unsigned ints and are
returned signed (like wasmtime-py); f32/f64 are Python floats (an f32 is rounded to single
precision on the way in); funcref is a :class:`Func` or None; externref any object or None;
several results come back as a list.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, \
    Union

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import LinkError, MalformedError, Trap, TrapCode, \
    WasmtimeError
from purewasm.runtime.call import HostError, host_recursion_error
from purewasm.runtime.values import MASK32, MASK64, MASK128, default_value, f32_value

# --- Types ---------------------------------------------------------------------------------


class ValType:
    """A value type; make one with ``ValType.i32()`` etc."""

    __slots__ = ("_name",)
    _cache: Dict[str, "ValType"] = {}

    def __init__(self) -> None:
        raise WasmtimeError("cannot construct directly")

    @classmethod
    def _of(cls, name: str) -> "ValType":
        vt = cls._cache.get(name)
        if vt is None:
            vt = object.__new__(cls)
            vt._name = name
            cls._cache[name] = vt
        return vt

    @classmethod
    def i32(cls) -> "ValType":
        return cls._of("i32")

    @classmethod
    def i64(cls) -> "ValType":
        return cls._of("i64")

    @classmethod
    def f32(cls) -> "ValType":
        return cls._of("f32")

    @classmethod
    def f64(cls) -> "ValType":
        return cls._of("f64")

    @classmethod
    def v128(cls) -> "ValType":
        return cls._of("v128")

    @classmethod
    def externref(cls) -> "ValType":
        return cls._of("externref")

    @classmethod
    def funcref(cls) -> "ValType":
        return cls._of("funcref")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValType) and other._name == self._name

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._name)

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return self._name


def _valtype_name(vt: Any) -> str:
    if isinstance(vt, ValType):
        return vt._name
    raise TypeError("expected ValType")


class FuncType:
    def __init__(self, params: Sequence[ValType], results: Sequence[ValType]) -> None:
        self._ft = syntax.FuncType(tuple(_valtype_name(p) for p in params),
                                   tuple(_valtype_name(r) for r in results))

    @classmethod
    def _from(cls, ft: syntax.FuncType) -> "FuncType":
        obj = cls.__new__(cls)
        obj._ft = syntax.FuncType(tuple(ft.params), tuple(ft.results))
        return obj

    @property
    def params(self) -> List[ValType]:
        return [ValType._of(p) for p in self._ft.params]

    @property
    def results(self) -> List[ValType]:
        return [ValType._of(r) for r in self._ft.results]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FuncType) and other._ft == self._ft

    def __hash__(self) -> int:
        return hash(self._ft)

    def __repr__(self) -> str:
        return "FuncType(%s)" % (self._ft,)


class GlobalType:
    def __init__(self, valtype: ValType, mutable: bool) -> None:
        self._gt = syntax.GlobalType(_valtype_name(valtype), bool(mutable))

    @classmethod
    def _from(cls, gt: syntax.GlobalType) -> "GlobalType":
        obj = cls.__new__(cls)
        obj._gt = gt
        return obj

    @property
    def content(self) -> ValType:
        return ValType._of(self._gt.content)

    @property
    def mutable(self) -> bool:
        return self._gt.mutable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlobalType) and other._gt == self._gt

    def __hash__(self) -> int:
        return hash(self._gt)

    def __repr__(self) -> str:
        return "GlobalType(%s, mutable=%s)" % (self._gt.content, self._gt.mutable)


class Limits:
    def __init__(self, min: int, max: Optional[int]) -> None:  # noqa: A002 - wasmtime's names
        self.min = min
        self.max = max

    def _syntax(self) -> syntax.Limits:
        return syntax.Limits(self.min, self.max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and self.min == other.min and self.max == other.max

    def __hash__(self) -> int:
        return hash((self.min, self.max))

    def __repr__(self) -> str:
        return "Limits(%r, %r)" % (self.min, self.max)


class TableType:
    def __init__(self, valtype: ValType, limits: Limits) -> None:
        if not isinstance(limits, Limits):
            raise TypeError("expected Limits")
        name = _valtype_name(valtype)
        if name not in syntax.REF_TYPES:
            raise WasmtimeError("table element type must be a reference type")
        self._tt = syntax.TableType(name, limits._syntax())

    @classmethod
    def _from(cls, tt: syntax.TableType) -> "TableType":
        obj = cls.__new__(cls)
        obj._tt = tt
        return obj

    @property
    def element(self) -> ValType:
        return ValType._of(self._tt.element)

    @property
    def limits(self) -> Limits:
        return Limits(self._tt.limits.min, self._tt.limits.max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableType) and other._tt == self._tt

    def __hash__(self) -> int:
        return hash(self._tt)


class MemoryType:
    def __init__(self, limits: Limits, is_64: bool = False, shared: bool = False,
                 page_size_log2: int = 16) -> None:
        if not isinstance(limits, Limits):
            raise TypeError("expected Limits")
        if is_64:
            raise WasmtimeError("64-bit memories are not supported")
        if page_size_log2 != 16:
            raise WasmtimeError("custom page sizes are not supported")
        if limits.min > rt.MAX_PAGES:
            raise WasmtimeError("minimum size too large")
        if limits.max is not None and limits.max > rt.MAX_PAGES:
            raise WasmtimeError("maximum size too large")
        self._mt = syntax.MemoryType(limits._syntax(), bool(shared))

    @classmethod
    def _from(cls, mt: syntax.MemoryType) -> "MemoryType":
        obj = cls.__new__(cls)
        obj._mt = mt
        return obj

    @property
    def limits(self) -> Limits:
        return Limits(self._mt.limits.min, self._mt.limits.max)

    @property
    def is_64(self) -> bool:
        return False

    @property
    def is_shared(self) -> bool:
        return self._mt.shared

    @property
    def page_size(self) -> int:
        return rt.PAGE_SIZE

    @property
    def page_size_log2(self) -> int:
        return 16

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryType) and other._mt == self._mt

    def __hash__(self) -> int:
        return hash(self._mt)


AsExternType = Union[FuncType, TableType, MemoryType, GlobalType]


def _wrap_import_type(kind: str, desc: Any, types: Sequence[syntax.FuncType]) -> AsExternType:
    if kind == syntax.FUNC:
        return FuncType._from(types[desc])
    if kind == syntax.TABLE:
        return TableType._from(desc)
    if kind == syntax.MEMORY:
        return MemoryType._from(desc)
    return GlobalType._from(desc)


class ImportType:
    def __init__(self, module: str, name: Optional[str], ty: AsExternType) -> None:
        self._module = module
        self._name = name
        self._type = ty

    @property
    def module(self) -> str:
        return self._module

    @property
    def name(self) -> Optional[str]:
        return self._name

    @property
    def type(self) -> AsExternType:
        return self._type

    def __repr__(self) -> str:
        return "ImportType(%r, %r, %r)" % (self._module, self._name, self._type)


class ExportType:
    def __init__(self, name: str, ty: AsExternType) -> None:
        self._name = name
        self._type = ty

    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> AsExternType:
        return self._type

    def __repr__(self) -> str:
        return "ExportType(%r, %r)" % (self._name, self._type)


# --- Values --------------------------------------------------------------------------------

def _signed32(v: int) -> int:
    # int(): generated code may hand back a comparison result as a bool.
    return v - 0x100000000 if v & 0x80000000 else int(v)


def _signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else int(v)


class Val:
    """A typed value (``Val.i32(5)``); ``.value`` is the Python value, ``.type`` its ValType."""

    __slots__ = ("_kind", "_val")

    def __init__(self, kind: str, val: Any) -> None:
        self._kind = kind
        self._val = val

    @classmethod
    def i32(cls, val: int) -> "Val":
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("i32", _signed32(val & MASK32))

    @classmethod
    def i64(cls, val: int) -> "Val":
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("i64", _signed64(val & MASK64))

    @classmethod
    def f32(cls, val: float) -> "Val":
        if not isinstance(val, float):      # as wasmtime-py: an int is refused here
            raise TypeError("expected a float")
        return Val("f32", f32_value(val))

    @classmethod
    def f64(cls, val: float) -> "Val":
        if not isinstance(val, float):
            raise TypeError("expected a float")
        return Val("f64", val)

    @classmethod
    def v128(cls, val: int) -> "Val":
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return Val("v128", val & MASK128)

    @classmethod
    def externref(cls, extern: Optional[Any]) -> "Val":
        return Val("externref", extern)

    @classmethod
    def funcref(cls, f: Optional["Func"]) -> "Val":
        return Val("funcref", f)

    @classmethod
    def ref_null(cls, ty: ValType) -> "Val":
        if ty == ValType.externref():
            return Val.externref(None)
        if ty == ValType.funcref():
            return Val.funcref(None)
        raise WasmtimeError("Invalid reference type for `ref_null`: %s" % ty)

    def __eq__(self, rhs: Any) -> Any:
        if isinstance(rhs, Val):
            return self._kind == rhs._kind and self._val == rhs._val
        return self._val == rhs

    def __hash__(self) -> int:
        return hash((self._kind, self._val))

    def __repr__(self) -> str:
        return "Val.%s(%r)" % (self._kind, self._val)

    @property
    def value(self) -> Any:
        return self._val

    @property
    def type(self) -> ValType:
        return ValType._of(self._kind)

    def as_i32(self) -> Optional[int]:
        return self._val if self._kind == "i32" else None

    def as_i64(self) -> Optional[int]:
        return self._val if self._kind == "i64" else None

    def as_f32(self) -> Optional[float]:
        return self._val if self._kind == "f32" else None

    def as_f64(self) -> Optional[float]:
        return self._val if self._kind == "f64" else None

    def as_externref(self) -> Optional[Any]:
        return self._val if self._kind == "externref" else None

    def as_funcref(self) -> Optional["Func"]:
        return self._val if self._kind == "funcref" else None


def _unwrap_val(kind: str, val: Any) -> Any:
    if isinstance(val, Val):
        if val._kind != kind:
            raise TypeError("wrong type of `Val` provided")
        return val._val
    return val


def _i32_to_raw(val: Any) -> int:
    val = _unwrap_val("i32", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to i32" % (val,))
    return val & MASK32


def _i64_to_raw(val: Any) -> int:
    val = _unwrap_val("i64", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to i64" % (val,))
    return val & MASK64


def _f32_to_raw(val: Any) -> float:
    val = _unwrap_val("f32", val)
    if not isinstance(val, (float, int)):
        raise TypeError("don't know how to convert %r to f32" % (val,))
    return f32_value(float(val))


def _f64_to_raw(val: Any) -> float:
    val = _unwrap_val("f64", val)
    if not isinstance(val, (float, int)):
        raise TypeError("don't know how to convert %r to f64" % (val,))
    return float(val)


def _v128_to_raw(val: Any) -> int:
    val = _unwrap_val("v128", val)
    if not isinstance(val, int):
        raise TypeError("don't know how to convert %r to v128" % (val,))
    return val & MASK128


def _funcref_to_raw(val: Any) -> Optional[rt.FuncInstance]:
    val = _unwrap_val("funcref", val)
    if val is None:
        return None
    if isinstance(val, Func):
        return val._inst
    if isinstance(val, rt.FuncInstance):
        return val
    raise TypeError("don't know how to convert %r to funcref" % (val,))


def _externref_to_raw(val: Any) -> Any:
    if isinstance(val, Val):
        return val._val
    return val


_TO_RAW: Dict[str, Callable[[Any], Any]] = {
    "i32": _i32_to_raw, "i64": _i64_to_raw, "f32": _f32_to_raw, "f64": _f64_to_raw,
    "v128": _v128_to_raw, "funcref": _funcref_to_raw, "externref": _externref_to_raw,
}


def _identity(v: Any) -> Any:
    return v


def _float_result(conv: Callable[[Any], float]) -> Callable[[Any], float]:
    """A host function's f32/f64 result must be a float (or a Val of that type), as in
    wasmtime-py, which raises TypeError for an int: silently widening would hide a host
    bug that wasmtime reports."""
    def check(val: Any) -> float:
        if not isinstance(val, (float, Val)):
            raise TypeError("host function returned %r where a float was expected" % (val,))
        return conv(val)
    return check


# Results of host functions: as _TO_RAW, stricter where wasmtime-py is.
_RESULT_TO_RAW: Dict[str, Callable[[Any], Any]] = dict(
    _TO_RAW, f32=_float_result(_f32_to_raw), f64=_float_result(_f64_to_raw))


def _funcref_from_raw(v: Any) -> Optional["Func"]:
    return None if v is None else Func._wrap(v)


_FROM_RAW: Dict[str, Callable[[Any], Any]] = {
    "i32": _signed32, "i64": _signed64, "f32": _identity, "f64": _identity,
    "v128": _identity, "funcref": _funcref_from_raw, "externref": _identity,
}


def to_raw(valtype: str, val: Any) -> Any:
    """Convert an API value (or Val) of type ``valtype`` to its raw runtime form."""
    return _TO_RAW[valtype](val)


def from_raw(valtype: str, raw: Any) -> Any:
    """Convert a raw runtime value of type ``valtype`` to its API form."""
    return _FROM_RAW[valtype](raw)


# --- Engine, Config, Store -----------------------------------------------------------------

# Config.max_wasm_stack is in bytes (wasmtime's unit); purewasm bounds Wasm frames, and
# counts one frame as this many bytes: wasmtime's default 512 KiB is ~10,000 frames, our
# default depth.
WASM_STACK_BYTES_PER_FRAME = 52


class Config:
    """Engine configuration. wasmtime-py's settings are accepted; ``consume_fuel`` and
    ``epoch_interruption`` work as in wasmtime (the checks are compiled in only when set),
    the Cranelift ones have no effect here. ``max_wasm_stack`` (bytes, as wasmtime) sets
    ``max_call_depth`` to ``max_wasm_stack // 52`` frames. purewasm's own:
    ``max_call_depth`` (Wasm frames before "call stack exhausted", default 10,000; clamped
    at run time to what the thread's C stack holds, see docs/SECURITY.md) and
    ``use_worker_thread`` (None: automatic; see runtime/call.py).

    Thread safety: a Config and an Engine may be shared by threads; a Store may not (use
    one store per thread at a time, as in wasmtime)."""

    def __init__(self) -> None:
        self.max_call_depth = rt.DEFAULT_MAX_CALL_DEPTH
        self.use_worker_thread: Optional[bool] = None
        self.consume_fuel = False
        self.epoch_interruption = False
        self._max_wasm_stack: Optional[int] = None
        # Wasm 3.0 proposals (wasmtime-py's names): off refuses modules that use them.
        self.wasm_tail_call = True
        self.wasm_extended_const = True
        self.wasm_relaxed_simd = True
        self._cache: Union[bool, str] = False

    @property
    def cache(self) -> Union[bool, str]:
        """The compiled-code cache: False (off, the default), True (the default directory,
        ``$XDG_CACHE_HOME/purewasm``) or a directory path. Unlike wasmtime-py, whose
        string is a cache *configuration file*, the string is the directory itself."""
        return self._cache

    @cache.setter
    def cache(self, enabled: Union[bool, str]) -> None:
        from purewasm.compile.cache import cache_for_config
        if not isinstance(enabled, (bool, str)):
            raise TypeError("expected a bool or a directory path")
        cache_for_config(enabled)   # refuses an unusable directory now (CacheError)
        self._cache = enabled

    @property
    def max_wasm_stack(self) -> Optional[int]:
        return self._max_wasm_stack

    @max_wasm_stack.setter
    def max_wasm_stack(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise WasmtimeError("max_wasm_stack must be a positive number of bytes")
        self._max_wasm_stack = size
        self.max_call_depth = max(1, size // WASM_STACK_BYTES_PER_FRAME)

    def cranelift_flag_enable(self, flag: str) -> None:
        pass

    def cranelift_flag_set(self, key: str, value: str) -> None:
        pass


class Engine:
    def __init__(self, config: Optional[Config] = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeError("expected Config")
        self.config = config
        # The engine's epoch, shared with the generated code of every store's instances
        # (compiled with epoch checks when Config.epoch_interruption is set).
        self._epoch_cell = [0]
        # Runtime stores of this engine (when epochs are on): an epoch change makes their
        # next epoch check compare (generated code only counts down between checks).
        self._stores: "weakref.WeakSet[rt.Store]" = weakref.WeakSet()
        self._stores_lock = threading.Lock()

    @property
    def epoch(self) -> int:
        return self._epoch_cell[0]

    def increment_epoch(self) -> None:
        """Advance the epoch; may be called from any thread (e.g. a ticker)."""
        self._epoch_cell[0] += 1
        with self._stores_lock:
            stores = list(self._stores)
        for rts in stores:
            rts.poll_soon()

    def is_pulley(self) -> bool:
        return False


class Store:
    """All runtime state of a set of instances: memories, tables, globals, fuel, limits.

    Thread safety (as in wasmtime): a store and everything made in it (instances, Func,
    Memory, Table, Global) is used by one thread at a time; the embedder serialises access
    if several threads share it. Separate stores are independent and may run on separate
    threads at the same time (CPython runs one at a time under the GIL). Objects of one
    store are refused by another (WasmtimeError). ``interrupt()`` and
    ``Engine.increment_epoch()`` are the exceptions: meant to be called from another thread
    or a signal handler."""

    def __init__(self, engine: Optional[Engine] = None, data: Optional[Any] = None) -> None:
        if engine is None:
            engine = Engine()
        elif not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        self.engine = engine
        cfg = engine.config
        self._rt = rt.Store(max_call_depth=cfg.max_call_depth,
                            use_thread=cfg.use_worker_thread)
        self._rt.data = data
        self._rt.epoch_cell = engine._epoch_cell
        if cfg.epoch_interruption:
            with engine._stores_lock:
                engine._stores.add(self._rt)

    def data(self) -> Optional[Any]:
        return self._rt.data

    def gc(self) -> None:
        pass

    def set_fuel(self, fuel: int) -> None:
        """Set the fuel left (Config.consume_fuel): each executed instruction costs one;
        running out is the trap OUT_OF_FUEL. A new store has none, as in wasmtime."""
        if not self.engine.config.consume_fuel:
            raise WasmtimeError("fuel is not configured in this store")
        if fuel < 0:
            raise ValueError("fuel must not be negative")
        self._rt.fuel_cell[0] = fuel

    def get_fuel(self) -> int:
        if not self.engine.config.consume_fuel:
            raise WasmtimeError("fuel is not configured in this store")
        return max(self._rt.fuel_cell[0], 0)

    def set_wasi(self, wasi: Any) -> None:
        """Attach a WASI configuration (``purewasm.WasiConfig``) to this store."""
        from purewasm.wasi import set_wasi   # WASI is imported by the programs using it
        set_wasi(self._rt, wasi)

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        """Trap with INTERRUPT once the engine's epoch reaches the current epoch plus
        ``ticks_after_current`` (Config.epoch_interruption; the deadline starts at 0)."""
        self._rt.deadline_cell[0] = self.engine.epoch + ticks_after_current
        self._rt.poll_soon()

    def set_deadline(self, seconds: Optional[float]) -> None:
        """purewasm extension: trap with INTERRUPT once ``seconds`` of wall-clock time
        have passed from now (None: no deadline). Needs no thread (works on Pyodide): the
        clock is read at the epoch checks (function entries, loop back-edges) every 1,000
        checks, so Config.epoch_interruption must be set; raises WasmtimeError otherwise.
        The epoch deadline still applies: set it far ahead (set_epoch_deadline) if only the
        wall clock should stop the guest."""
        if not self.engine.config.epoch_interruption:
            raise WasmtimeError("a deadline needs Config.epoch_interruption = True")
        if seconds is None:
            self._rt.wall_deadline = None
        else:
            if seconds < 0:
                raise ValueError("the deadline must not be negative")
            self._rt.wall_deadline = time.monotonic() + seconds
        self._rt.poll_soon()

    def interrupt(self) -> None:
        """purewasm extension: stop the guest running in this store (from another thread
        or a signal handler) with Trap INTERRUPT at its next epoch check
        (Config.epoch_interruption); the next call runs normally."""
        self._rt.interrupt()

    def set_limits(self, memory_size: int = -1, table_elements: int = -1, instances: int = -1,
                   tables: int = -1, memories: int = -1) -> None:
        """Limits of this store (wasmtime-py's signature; a negative value keeps the
        current setting). ``memory_size``: bytes per linear memory; ``table_elements``:
        elements per table; ``instances``, ``tables``, ``memories``: how many the store may
        create. They apply at every later creation and at every growth of every memory
        and table of the store, existing ones included: a growth past a limit fails
        (memory.grow / table.grow return -1), a creation past one raises
        InstantiationError. Defaults (unlike wasmtime's "unlimited"; raise them here):
        1 GiB per memory, 1,000,000 elements per table, 10,000 instances, tables and
        memories."""
        if memory_size >= 0:
            self._rt.memory_limit_bytes = memory_size
        if table_elements >= 0:
            self._rt.table_limit = table_elements
        if instances >= 0:
            self._rt.instance_limit = instances
        if tables >= 0:
            self._rt.table_count_limit = tables
        if memories >= 0:
            self._rt.memory_count_limit = memories


def _rt_store(store: Any) -> rt.Store:
    """The runtime store of a Storelike (Store or Caller)."""
    rts = getattr(store, "_rt", None)
    if isinstance(rts, rt.Store):
        return rts
    raise TypeError("expected a Store or Caller")


# --- Module --------------------------------------------------------------------------------

def _parse_text(text: str) -> syntax.Module:
    try:
        from purewasm.text import parse_module
    except ImportError:
        raise WasmtimeError("the text format is not available yet") from None
    return parse_module(text)  # type: ignore[no-any-return]


def _decode(data: bytes) -> syntax.Module:
    from purewasm.binary import decode_module
    return decode_module(data)  # type: ignore[no-any-return]


def _validate(module: syntax.Module, config: "Config") -> None:
    from purewasm.opcodes import PROPOSALS
    from purewasm.validate import validate_module
    validate_module(module, [p for p in PROPOSALS if getattr(config, "wasm_" + p, True)])


def _cache_lookup(config: "Config", binary: bytes) -> Any:
    """The module's compiled-code cache handle (None when Config.cache is off)."""
    if not config.cache:
        return None
    from purewasm.compile.cache import lookup
    return lookup(config.cache, config, binary)


def _is_text(wasm: Union[str, bytes, bytearray]) -> bool:
    # As wasmtime-py: a str, or bytes not starting with a NUL, is the text format.
    if isinstance(wasm, str):
        return len(wasm) > 0 and ord(wasm[0]) != 0
    return len(wasm) > 0 and wasm[0] != 0


def _text_of(wasm: Union[str, bytes, bytearray]) -> str:
    """Text-format input as a str; bytes that are not UTF-8 are malformed (neither a
    binary, which starts with NUL, nor text), never a UnicodeDecodeError."""
    if isinstance(wasm, str):
        return wasm
    try:
        return bytes(wasm).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError("input is neither a Wasm binary nor UTF-8 text (invalid "
                             "UTF-8 at byte %d)" % exc.start, exc.start) from None


def wat2wasm(wat: Union[str, bytes]) -> bytearray:
    """Convert the text format to the binary format."""
    if isinstance(wat, (bytes, bytearray)):
        wat = _text_of(wat)
    try:
        from purewasm.text import wat2wasm as _w2w
    except ImportError:
        raise WasmtimeError("the text format is not available yet") from None
    return bytearray(_w2w(wat))


class Module:
    def __init__(self, engine: Engine, wasm: Union[str, bytes, bytearray]) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        self.engine = engine
        self._binary: Optional[bytes] = None
        self._cache_handle: Any = None
        if isinstance(wasm, syntax.Module):
            module = wasm
        elif not isinstance(wasm, (str, bytes, bytearray)):
            raise TypeError("expected wasm bytes")
        else:
            try:
                if _is_text(wasm):
                    module = _parse_text(_text_of(wasm))
                else:
                    if isinstance(wasm, str):
                        wasm = wasm.encode("latin-1")
                    self._binary = bytes(wasm)
                    self._cache_handle = _cache_lookup(engine.config, self._binary)
                    if self._cache_handle is not None and self._cache_handle.hit:
                        module = self._cache_handle.module   # validated when cached
                    else:
                        module = _decode(self._binary)
            except MemoryError:
                raise WasmtimeError("out of memory while reading a module of %d bytes"
                                    % len(wasm)) from None
        if self._cache_handle is None or not self._cache_handle.hit:
            try:
                _validate(module, engine.config)
            except MemoryError:
                raise WasmtimeError("out of memory while validating the module") from None
            if self._cache_handle is not None:
                self._cache_handle.validated()
        self._module = module
        self._compiled: Any = None

    @classmethod
    def _from_syntax(cls, engine: Engine, module: syntax.Module,
                     binary: Optional[bytes] = None) -> "Module":
        """A Module from an already decoded *and validated* syntax module."""
        obj = cls.__new__(cls)
        obj.engine = engine
        obj._binary = binary
        obj._module = module
        obj._compiled = None
        obj._cache_handle = None
        return obj

    @classmethod
    def from_file(cls, engine: Engine, path: Union[str, bytes, "os.PathLike[str]"]) -> "Module":
        with open(path, "rb") as f:
            contents = f.read()
        return cls(engine, contents)

    @classmethod
    def validate(cls, engine: Engine, wasm: Union[bytes, bytearray]) -> None:
        if not isinstance(wasm, (bytes, bytearray)):
            raise TypeError("expected wasm bytes")
        _validate(_decode(bytes(wasm)), engine.config)

    @classmethod
    def deserialize(cls, engine: Engine, encoded: Union[bytes, bytearray]) -> "Module":
        """A module from :meth:`serialize`'s bytes, with its compiled code (a plain Wasm
        binary is accepted too). WasmtimeError if made by another purewasm, Python or
        configuration."""
        if not isinstance(encoded, (bytes, bytearray)):
            raise TypeError("expected bytes")
        from purewasm.compile import cache
        if not cache.is_serialized(encoded):
            return cls(engine, bytes(encoded))
        binary, module, codes = cache.deserialize_module(bytes(encoded), engine.config)
        obj = cls._from_syntax(engine, module, binary)
        obj._get_compiled().import_codes(codes)
        return obj

    @classmethod
    def deserialize_file(cls, engine: Engine, path: str) -> "Module":
        """:meth:`deserialize` of a file's contents."""
        with open(path, "rb") as f:
            return cls.deserialize(engine, f.read())

    def serialize(self) -> bytearray:
        """The module and the code of all its functions, for :meth:`deserialize` by the
        same purewasm version, Python and configuration (compiles every function)."""
        if self._binary is None:
            from purewasm.binary import encode_module
            self._binary = bytes(encode_module(self._module))
        from purewasm.compile.cache import serialize_module
        return bytearray(serialize_module(self._binary, self.engine.config,
                                          self._get_compiled()))

    @property
    def name(self) -> Optional[str]:
        return self._module.names.module

    @property
    def imports(self) -> List[ImportType]:
        m = self._module
        return [ImportType(imp.module, imp.name, _wrap_import_type(imp.kind, imp.desc, m.types))
                for imp in m.imports]

    @property
    def exports(self) -> List[ExportType]:
        m = self._module
        spaces: Dict[str, List[Any]] = {
            syntax.FUNC: m.func_types(), syntax.TABLE: m.table_types(),
            syntax.MEMORY: m.memory_types(), syntax.GLOBAL: m.global_types()}
        out = []
        for exp in m.exports:
            desc = spaces[exp.kind][exp.index]
            if exp.kind == syntax.FUNC:
                ty: AsExternType = FuncType._from(desc)
            else:
                ty = _wrap_import_type(exp.kind, desc, m.types)
            out.append(ExportType(exp.name, ty))
        return out

    def _get_compiled(self) -> Any:
        """The module's compile.CompiledModule (made once, shared by every instance)."""
        if self._compiled is None:
            try:
                from purewasm.compile import CompiledModule
            except ImportError:
                return None
            config = self.engine.config
            self._compiled = CompiledModule(self._module, fuel=config.consume_fuel,
                                            epoch=config.epoch_interruption)
            if self._cache_handle is not None:
                self._cache_handle.attach(self._compiled)
        return self._compiled


# --- Externs -------------------------------------------------------------------------------

class Func:
    """A function: a Wasm export or a host function made from a Python callable."""

    __slots__ = ("_inst",)

    def __init__(self, store: Any, ty: FuncType, func: Callable[..., Any],
                 access_caller: bool = False) -> None:
        if not isinstance(ty, FuncType):
            raise TypeError("expected a FuncType")
        rts = _rt_store(store)
        hd = HostDefinition(ty._ft, func, access_caller, getattr(func, "__name__", "host"))
        self._inst = hd.make_instance(rts)

    @classmethod
    def _wrap(cls, inst: rt.FuncInstance) -> "Func":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Any) -> FuncType:
        return FuncType._from(self._inst.type)

    def __call__(self, store: Any, *params: Any) -> Any:
        inst = self._inst
        ft = inst.type
        if len(params) != len(ft.params):
            raise WasmtimeError("too %s parameters provided: given %s, expected %s" % (
                "many" if len(params) > len(ft.params) else "few", len(params),
                len(ft.params)))
        raw = [_TO_RAW[t](p) for t, p in zip(ft.params, params)]
        owner = inst.module
        rts = owner.store if owner is not None and owner.store is not None else _rt_store(store)
        if "funcref" in ft.params:
            for t, r in zip(ft.params, raw):
                if t == "funcref":
                    rts.check_owned(r, "funcref argument")
        result = rts.invoke(inst, raw)
        results = ft.results
        if not results:
            return None
        if len(results) == 1:
            return _FROM_RAW[results[0]](result)
        return [_FROM_RAW[t](r) for t, r in zip(results, result)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Func) and other._inst is self._inst

    def __hash__(self) -> int:
        return id(self._inst)

    def __repr__(self) -> str:
        return "<Func %s %s>" % (self._inst.name, self._inst.type)


class HostDefinition:
    """A host function independent of any store (Linker.define_func, Func): materialised as
    one FuncInstance per store, and bound per importing instance when it wants a Caller."""

    def __init__(self, functype: syntax.FuncType, func: Callable[..., Any],
                 access_caller: bool, name: str) -> None:
        self.functype = syntax.FuncType(tuple(functype.params), tuple(functype.results))
        self.func = func
        self.access_caller = access_caller
        self.name = name

    def instance(self, rts: rt.Store) -> rt.FuncInstance:
        """The function in store ``rts`` (one per store: a Linker may serve many stores)."""
        inst = rts.host_cache.get(self)
        if inst is None:
            inst = rts.host_cache[self] = self.make_instance(rts)
        return inst

    def make_instance(self, rts: rt.Store) -> rt.FuncInstance:
        inst = rt.FuncInstance(self.functype, None, self.name, None, None, self, rts)
        inst.fn = self.trampoline(rts, None)
        return inst

    def trampoline(self, rts: rt.Store,
                   bound: Optional[rt.ModuleInstance]) -> Callable[..., Any]:
        """The raw callable: raw args in, raw result out, host exceptions wrapped."""
        func = self.func
        pconv = [_FROM_RAW[t] for t in self.functype.params]
        rtypes = self.functype.results
        rconv = [_RESULT_TO_RAW[t] if t != "funcref" else _owned_funcref(rts)
                 for t in rtypes]
        nres = len(rconv)
        access_caller = self.access_caller
        all_plain = all(t in ("f32", "f64", "externref", "v128") for t in self.functype.params)

        def host_call(*args: Any) -> Any:
            try:
                if all_plain:
                    pyargs = list(args)
                else:
                    pyargs = [c(a) for c, a in zip(pconv, args)]
                if access_caller:
                    caller = Caller(bound if bound is not None else rts.current_instance(), rts)
                    try:
                        result = func(caller, *pyargs)
                    finally:
                        caller._invalidate()
                else:
                    result = func(*pyargs)
                if nres == 0:
                    if result is not None:
                        raise WasmtimeError("callback produced results when it shouldn't")
                    return None
                if nres == 1:
                    return rconv[0](result)
                result = list(result)
                if len(result) != nres:
                    raise WasmtimeError("callback produced wrong number of results")
                return tuple(c(r) for c, r in zip(rconv, result))
            except WasmtimeError:
                # Traps (and ExitTrap) unwind the guest as traps.
                raise
            except RecursionError as exc:
                # The Wasm stack running out at this host call is a trap; the host code's
                # own runaway recursion is the host's error, for the embedder.
                if host_recursion_error(exc):
                    raise HostError(exc) from None
                # Decided here, once: outer levels see a trap, not a RecursionError.
                raise Trap(TrapCode.STACK_OVERFLOW) from None
            except BaseException as exc:  # noqa: BLE001 - carried to the embedder untouched
                raise HostError(exc) from None

        host_call.__name__ = "host_" + "".join(c if c.isalnum() else "_" for c in self.name)
        return host_call


def _owned_funcref(rts: rt.Store) -> Callable[[Any], Any]:
    def convert(val: Any) -> Any:
        raw = _funcref_to_raw(val)
        rts.check_owned(raw, "funcref result")
        return raw
    return convert


class Caller:
    """The calling instance, given to host functions defined with ``access_caller=True``."""

    def __init__(self, instance: Optional[rt.ModuleInstance], rts: rt.Store) -> None:
        self._instance = instance
        self._rt = rts

    def __getitem__(self, name: str) -> Any:
        ret = self.get(name)
        if ret is None:
            raise KeyError("failed to find export {}".format(name))
        return ret

    def get(self, name: str) -> Optional[Any]:
        if self._instance is None:
            return None
        item = self._instance.exports.get(name)
        return None if item is None else _wrap_extern(item)

    def data(self) -> Any:
        return self._rt.data

    def _invalidate(self) -> None:
        # As wasmtime-py: a Caller kept past its call no longer reaches the instance.
        self._instance = None


class Memory:
    __slots__ = ("_inst",)

    def __init__(self, store: Any, ty: MemoryType) -> None:
        if not isinstance(ty, MemoryType):
            raise TypeError("expected a MemoryType")
        self._inst = _rt_store(store).new_memory(ty._mt)

    @classmethod
    def _wrap(cls, inst: rt.MemoryInstance) -> "Memory":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Any) -> MemoryType:
        # As wasmtime: the declared type (import matching uses the current size instead).
        inst = self._inst
        return MemoryType._from(syntax.MemoryType(syntax.Limits(inst.min, inst.max), inst.shared))

    def grow(self, store: Any, delta: int) -> int:
        if delta < 0:
            raise WasmtimeError("cannot grow by negative amount")
        old = self._inst.grow(delta)
        if old < 0:
            raise WasmtimeError("failed to grow memory by `%d`" % delta)
        return old

    def size(self, store: Any) -> int:
        return self._inst.pages

    def data_len(self, store: Any) -> int:
        return len(self._inst.data)

    def page_size(self, store: Any) -> int:
        return rt.PAGE_SIZE

    def page_size_log2(self, store: Any) -> int:
        return 16

    def data_ptr(self, store: Any) -> "_MemoryPointer":
        """An indexable view of the memory (``ptr[i]``, ``ptr[i] = b``, slices): stands in
        for wasmtime-py's raw pointer; it holds no buffer, so memory.grow stays possible."""
        return _MemoryPointer(self._inst.data)

    def get_buffer_ptr(self, store: Any, size: Optional[int] = None,
                       offset: int = 0) -> Any:
        """A zero-copy ctypes array over the memory (e.g. for numpy). While it is alive the
        memory cannot grow (memory.grow returns -1): drop it before running Wasm code."""
        import ctypes
        data = self._inst.data
        if size is None:
            size = len(data) - offset
        return (ctypes.c_ubyte * size).from_buffer(data, offset)

    def read(self, store: Any, start: Optional[int] = 0,
             stop: Optional[int] = None) -> bytearray:
        """A copy of ``memory[start:stop]`` (slice semantics, as wasmtime-py)."""
        data = self._inst.data
        begin, end, _ = slice(start, stop, None).indices(len(data))
        if end <= begin:
            return bytearray(0)
        return bytearray(data[begin:end])

    def write(self, store: Any, value: Union[bytearray, bytes],
              start: Optional[int] = None) -> int:
        """Write ``value`` at ``start`` (negative: from the end); IndexError if it overflows."""
        data = self._inst.data
        size = len(data)
        begin = slice(start, None).indices(size)[0]
        if begin >= size:
            raise IndexError("index out of range")
        n = len(value)
        if n == 0:
            return 0
        if begin + n > size:
            raise IndexError("index out of range")
        # Equal lengths: the slice assignment cannot resize the memory.
        data[begin:begin + n] = value
        return n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Memory) and other._inst is self._inst

    def __hash__(self) -> int:
        return id(self._inst)


class _MemoryPointer:
    """Index access to a memory's bytes (see Memory.data_ptr)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytearray) -> None:
        self._data = data

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, int) and index < 0:
            raise IndexError("negative index into linear memory")
        return self._data[index]

    def __setitem__(self, index: int, value: int) -> None:
        if not isinstance(index, int) or index < 0:
            raise IndexError("only non-negative integer indexes can be written")
        self._data[index] = value


class Table:
    __slots__ = ("_inst",)

    def __init__(self, store: Any, ty: TableType, init: Any) -> None:
        if not isinstance(ty, TableType):
            raise TypeError("expected a TableType")
        raw = _TO_RAW[ty._tt.element](init)
        rts = _rt_store(store)
        if ty._tt.element == "funcref":
            rts.check_owned(raw, "table initial value")
        self._inst = rts.new_table(ty._tt, raw)

    @classmethod
    def _wrap(cls, inst: rt.TableInstance) -> "Table":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Any) -> TableType:
        inst = self._inst
        return TableType._from(syntax.TableType(inst.element_type,
                                                syntax.Limits(inst.min, inst.max)))

    def size(self, store: Any) -> int:
        return len(self._inst.elements)

    def grow(self, store: Any, amt: int, init: Any) -> int:
        raw = self._raw(init)
        old = self._inst.grow(amt, raw)
        if old < 0:
            raise WasmtimeError("failed to grow table by `%d`" % amt)
        return old

    def get(self, store: Any, idx: int) -> Optional[Any]:
        """The element at ``idx`` (a Func, an extern object, or None for null / out of bounds)."""
        elements = self._inst.elements
        if not 0 <= idx < len(elements):
            return None
        return _FROM_RAW[self._inst.element_type](elements[idx])

    def _raw(self, val: Any) -> Any:
        """An element value for this table; a function of another store is refused (it
        would run with that store's instances, limits and fuel)."""
        inst = self._inst
        raw = _TO_RAW[inst.element_type](val)
        if inst.element_type == "funcref" and inst.store is not None:
            inst.store.check_owned(raw, "function")
        return raw

    def set(self, store: Any, idx: int, val: Any) -> None:
        raw = self._raw(val)
        elements = self._inst.elements
        if not 0 <= idx < len(elements):
            raise WasmtimeError("table element index out of bounds")
        elements[idx] = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and other._inst is self._inst

    def __hash__(self) -> int:
        return id(self._inst)


class Global:
    __slots__ = ("_inst",)

    def __init__(self, store: Any, ty: GlobalType, val: Any) -> None:
        if not isinstance(ty, GlobalType):
            raise TypeError("expected a GlobalType")
        rts = _rt_store(store)
        raw = _TO_RAW[ty._gt.content](val)
        if ty._gt.content == "funcref":
            rts.check_owned(raw, "global initial value")
        self._inst = rt.GlobalInstance(ty._gt, raw, rts)

    @classmethod
    def _wrap(cls, inst: rt.GlobalInstance) -> "Global":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Any) -> GlobalType:
        return GlobalType._from(self._inst.type)

    def value(self, store: Any) -> Any:
        return _FROM_RAW[self._inst.type.content](self._inst.value)

    def set_value(self, store: Any, val: Any) -> None:
        if not self._inst.type.mutable:
            raise WasmtimeError("immutable global cannot be set")
        raw = _TO_RAW[self._inst.type.content](val)
        if self._inst.type.content == "funcref" and self._inst.store is not None:
            self._inst.store.check_owned(raw, "function")
        self._inst.value = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Global) and other._inst is self._inst

    def __hash__(self) -> int:
        return id(self._inst)


AsExtern = Union[Func, Table, Memory, Global]


def _wrap_extern(item: Any) -> AsExtern:
    if isinstance(item, rt.FuncInstance):
        return Func._wrap(item)
    if isinstance(item, rt.MemoryInstance):
        return Memory._wrap(item)
    if isinstance(item, rt.TableInstance):
        return Table._wrap(item)
    if isinstance(item, rt.GlobalInstance):
        return Global._wrap(item)
    raise WasmtimeError("unknown extern")


def _extern_instance(item: Any) -> Any:
    if isinstance(item, (Func, Memory, Table, Global)):
        return item._inst
    if isinstance(item, (rt.FuncInstance, rt.MemoryInstance, rt.TableInstance,
                         rt.GlobalInstance)):
        return item
    raise TypeError("expected a Func, Global, Memory, or Table")


# --- Instances and linking -----------------------------------------------------------------

def _caller_bindings(externs: Sequence[Any], rts: rt.Store
                     ) -> Callable[[rt.ModuleInstance], Dict[int, Callable[..., Any]]]:
    """import_calls for host functions that take a Caller: bound to the new instance."""
    def factory(inst: rt.ModuleInstance) -> Dict[int, Callable[..., Any]]:
        calls: Dict[int, Callable[..., Any]] = {}
        index = 0
        for ext in externs:
            if isinstance(ext, rt.FuncInstance):
                host = ext.host
                if isinstance(host, HostDefinition) and host.access_caller:
                    calls[index] = host.trampoline(rts, inst)
                elif isinstance(host, _RawHost) and host.factory is not None:
                    calls[index] = host.factory(rts, inst)
                index += 1
        return calls
    return factory


def _instantiate(store: Any, module: "Module", externs: List[Any]) -> rt.ModuleInstance:
    rts = _rt_store(store)
    return rt.instantiate(rts, module._module, externs, module._get_compiled(),
                          import_calls=_caller_bindings(externs, rts))


class Instance:
    def __init__(self, store: Any, module: Module, imports: Sequence[Any]) -> None:
        if not isinstance(module, Module):
            raise TypeError("expected a Module")
        externs = [_extern_instance(x) for x in imports]
        self._inst = _instantiate(store, module, externs)
        self._exports: Optional[InstanceExports] = None

    @classmethod
    def _wrap(cls, inst: rt.ModuleInstance) -> "Instance":
        obj = cls.__new__(cls)
        obj._inst = inst
        obj._exports = None
        return obj

    def exports(self, store: Any) -> "InstanceExports":
        if self._exports is None:
            self._exports = InstanceExports(self._inst)
        return self._exports


class InstanceExports(Mapping[str, AsExtern]):
    """The exports of an instance, by name (``exports["f"]``) or position (``by_index``)."""

    def __init__(self, inst: rt.ModuleInstance) -> None:
        self._extern_map: Dict[str, AsExtern] = {}
        seq = []
        for name, item in inst.export_list:
            ext = _wrap_extern(item)
            self._extern_map[name] = ext
            seq.append(ext)
        self._extern_seq: Tuple[AsExtern, ...] = tuple(seq)

    @property
    def by_index(self) -> Sequence[AsExtern]:
        return self._extern_seq

    def __getitem__(self, idx: Union[str, int]) -> AsExtern:  # type: ignore[override]
        if isinstance(idx, int):
            return self._extern_seq[idx]
        return self._extern_map[idx]

    def __len__(self) -> int:
        return len(self._extern_seq)

    def __iter__(self) -> Iterator[str]:
        return iter(self._extern_map)


class Linker:
    """Resolves imports by (module, name) from definitions; see wasmtime-py's Linker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._defs: Dict[Tuple[str, str], Any] = {}
        self._allow_shadowing = False

    @property
    def allow_shadowing(self) -> bool:
        return self._allow_shadowing

    @allow_shadowing.setter
    def allow_shadowing(self, allow: bool) -> None:
        self._allow_shadowing = bool(allow)

    def _insert(self, module: str, name: str, item: Any) -> None:
        if not isinstance(module, str) or not isinstance(name, str):
            raise TypeError("module and name must be strings")
        key = (module, name)
        if key in self._defs and not self._allow_shadowing:
            raise WasmtimeError("import of `%s::%s` defined twice" % key)
        self._defs[key] = item

    def define(self, store: Any, module: str, name: str, item: AsExtern) -> None:
        self._insert(module, name, _extern_instance(item))

    def define_func(self, module: str, name: str, ty: FuncType, func: Callable[..., Any],
                    access_caller: bool = False) -> None:
        if not isinstance(ty, FuncType):
            raise TypeError("expected a FuncType")
        self._insert(module, name, HostDefinition(ty._ft, func, access_caller,
                                                  "%s::%s" % (module, name)))

    def define_raw_func(self, module: str, name: str, functype: syntax.FuncType,
                        fn: Callable[..., Any]) -> None:
        """purewasm extension: a host function taking and returning *raw* values
        (docs/INTERNALS.md) with no conversion; exceptions other than WasmtimeError /
        RecursionError must be wrapped by ``fn`` in runtime.HostError to reach the embedder
        untouched."""
        self._insert(module, name, _RawHost(functype, fn, "%s::%s" % (module, name)))

    def define_raw_caller_func(self, module: str, name: str, functype: syntax.FuncType,
                               factory: Callable[[rt.Store, Optional[rt.ModuleInstance]],
                                                 Callable[..., Any]]) -> None:
        """purewasm extension: like :meth:`define_raw_func`, but the raw callable is made
        per caller by ``factory(runtime_store, instance)``: once per importing instance
        (bound through ``ModuleInstance.import_calls``) and once per store with
        ``instance`` None (calls reaching the function otherwise, e.g. through a table;
        the callable then finds its caller as ``runtime_store.current_instance()``).
        Exceptions follow the define_raw_func rule (runtime.HostError)."""
        self._insert(module, name, _RawHost(functype, None, "%s::%s" % (module, name),
                                            factory))

    def define_instance(self, store: Any, name: str, instance: Instance) -> None:
        if not isinstance(instance, Instance):
            raise TypeError("expected an `Instance`")
        for export_name, item in instance._inst.export_list:
            self._insert(name, export_name, item)

    def define_module(self, store: Any, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError("expected a `Module`")
        self.define_instance(store, name, self.instantiate(store, module))

    def define_wasi(self) -> None:
        from purewasm.wasi import define_wasi   # WASI is imported by the programs using it
        define_wasi(self)

    def _resolve(self, rts: rt.Store, module: str, name: str) -> Any:
        item = self._defs.get((module, name))
        if item is None:
            return None
        if isinstance(item, HostDefinition):
            return item.instance(rts)
        if isinstance(item, _RawHost):
            return item.instance(rts)
        return item

    def instantiate(self, store: Any, module: Module) -> Instance:
        rts = _rt_store(store)
        externs = []
        for imp in module._module.imports:
            ext = self._resolve(rts, imp.module, imp.name)
            if ext is None:
                raise LinkError("unknown import: `%s::%s` has not been defined"
                                % (imp.module, imp.name))
            externs.append(ext)
        return Instance._wrap(_instantiate(store, module, externs))

    def get(self, store: Any, module: str, name: str) -> AsExtern:
        ext = self._resolve(_rt_store(store), module, name)
        if ext is None:
            raise WasmtimeError("item not defined in linker")
        return _wrap_extern(ext)

    def get_default(self, store: Any, name: str) -> Func:
        ext = self._resolve(_rt_store(store), name, "")
        if ext is None:
            ext = self._resolve(_rt_store(store), name, "_start")
        if ext is None:
            return Func(store, FuncType([], []), lambda: None)
        if not isinstance(ext, rt.FuncInstance):
            raise WasmtimeError("default export in '%s' is not a function" % name)
        return Func._wrap(ext)

    def define_unknown_imports_as_traps(self, module: Module) -> None:
        m = module._module
        for imp in m.imports:
            if imp.kind == syntax.FUNC and (imp.module, imp.name) not in self._defs:
                where = "%s::%s" % (imp.module, imp.name)

                def trap(*args: Any, _where: str = where) -> None:
                    raise Trap(TrapCode.UNREACHABLE, "unknown import `%s` called" % _where)
                self._defs[(imp.module, imp.name)] = _RawHost(m.types[imp.desc],  # type: ignore[index]
                                                              trap, where)

    def define_unknown_imports_as_default_values(self, store: Any, module: Module) -> None:
        m = module._module
        for imp in m.imports:
            if imp.kind == syntax.FUNC and (imp.module, imp.name) not in self._defs:
                ft = m.types[imp.desc]  # type: ignore[index]
                results = tuple(default_value(t) for t in ft.results)
                value: Any = None if not results else (
                    results[0] if len(results) == 1 else results)

                def default(*args: Any, _value: Any = value) -> Any:
                    return _value
                self._defs[(imp.module, imp.name)] = _RawHost(
                    ft, default, "%s::%s" % (imp.module, imp.name))


class _RawHost:
    """A store-independent host function on raw values (no conversion)."""

    def __init__(self, functype: syntax.FuncType, fn: Optional[Callable[..., Any]], name: str,
                 factory: Optional[Callable[..., Callable[..., Any]]] = None) -> None:
        self.functype = syntax.FuncType(tuple(functype.params), tuple(functype.results))
        self.fn = fn
        self.name = name
        # define_raw_caller_func: factory(rts, instance or None) -> raw callable
        self.factory = factory

    def instance(self, rts: rt.Store) -> rt.FuncInstance:
        inst = rts.host_cache.get(self)
        if inst is None:
            fn = self.fn if self.factory is None else self.factory(rts, None)
            inst = rt.FuncInstance(self.functype, fn, self.name, None, None, self, rts)
            rts.host_cache[self] = inst
        return inst


__all__ = [
    "Config", "Engine", "Store", "Module", "Instance", "InstanceExports", "Linker", "Func",
    "Caller", "FuncType", "ValType", "Val", "Memory", "MemoryType", "Limits", "Table",
    "TableType", "Global", "GlobalType", "ImportType", "ExportType", "wat2wasm",
    "HostDefinition", "to_raw", "from_raw",
]
