"""Engine and its configuration."""
from __future__ import annotations

import os
import re
import threading
import warnings
import weakref
from typing import Any, Dict, Optional, Tuple, TypeVar, Union

from purewasm import runtime as rt
from purewasm.errors import ArgumentTypeError, WasmtimeError

# Config.max_wasm_stack is in bytes (wasmtime's unit); purewasm bounds Wasm frames, and
# counts one frame as this many bytes: wasmtime's default 512 KiB is ~10,000 frames, our
# default depth.
WASM_STACK_BYTES_PER_FRAME = 52


def _closed_error(what: str) -> ValueError:
    # As wasmtime-py: using an object after close() is a ValueError.
    return ValueError("this %s has been closed" % what)


_C = TypeVar("_C", bound="Closeable")


class Closeable:
    """``close()`` and the context-manager protocol, as wasmtime-py's objects have: after
    ``close()`` (or the end of a ``with`` block) the object refuses further use with
    ValueError; closing twice is harmless."""

    _closed = False
    _what = "object"

    def close(self) -> None:
        """Release the object; later use raises ValueError. Closing again does nothing."""
        if not self._closed:
            self._closed = True
            self._release()

    def _release(self) -> None:
        """Drop what the object holds (subclasses)."""

    def _check_open(self) -> None:
        if self._closed:
            raise _closed_error(self._what)

    def __enter__(self: _C) -> _C:
        self._check_open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

# Values the string settings accept, as wasmtime-py.
STRATEGIES = ("auto", "cranelift", "winch")
OPT_LEVELS = ("none", "speed", "speed_and_size")
PROFILERS = ("none", "jitdump", "vtune", "perfmap")
# Architectures of target triples wasmtime knows (the target changes nothing here: purewasm
# runs the same code everywhere, but a misspelt triple is refused as wasmtime refuses it).
TARGET_ARCHES = ("x86_64", "aarch64", "i686", "riscv64", "riscv64gc", "s390x", "arm",
                 "armv7", "pulley32", "pulley64", "pulley32be", "pulley64be")

# Settings of wasmtime's native code generation and memory management: they do not change
# what a program computes, and purewasm has no such machinery, so they are accepted (values
# checked as wasmtime-py checks them) and have no effect. Listed, not silently ignored:
# Config's docstring names them.
NATIVE_SETTINGS = (
    "debug_info", "parallel_compilation", "cranelift_debug_verifier", "gc_support",
    "native_unwind_info", "macos_use_mach_ports", "signals_based_traps", "memory_may_move",
    "memory_reservation", "memory_guard_size", "memory_reservation_for_growth",
    "memory_init_cow",
)
# Wasm 2.0 features purewasm always has: enabling them is honoured, disabling is not
# possible (a warning says so).
ALWAYS_ON = ("wasm_reference_types", "wasm_simd", "wasm_bulk_memory", "wasm_multi_value")
# Proposals purewasm does not implement: disabling them is honoured (modules using them
# are refused anyway); enabling them cannot be, and a warning says so.
UNSUPPORTED = ("wasm_threads", "wasm_component_model",
               "wasm_component_model_map", "wasm_wide_arithmetic",
               "wasm_custom_page_sizes", "wasm_stack_switching")


# Settings wasmtime-py takes as a bool (TypeError otherwise) / an int.
BOOL_SETTINGS = frozenset(ALWAYS_ON + UNSUPPORTED + (
    "debug_info", "parallel_compilation", "cranelift_debug_verifier", "gc_support",
    "native_unwind_info", "memory_may_move", "cranelift_nan_canonicalization",
    "consume_fuel", "shared_memory", "wasm_tail_call", "wasm_relaxed_simd",
    "wasm_multi_memory", "wasm_memory64", "wasm_function_references", "wasm_exceptions",
    "wasm_gc", "wasm_relaxed_simd_deterministic"))
INT_SETTINGS = frozenset(("memory_reservation", "memory_guard_size",
                          "memory_reservation_for_growth"))


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _cache_setting_from_file(path: str) -> Union[bool, str]:
    """``Config.cache`` given wasmtime's cache configuration file: its ``[cache]`` table's
    ``enabled`` and ``directory`` (a small reader for these two keys: no TOML parser before
    Python 3.11, and purewasm has no dependencies)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise WasmtimeError("failed to read the cache configuration file %r: %s"
                            % (path, exc)) from None
    enabled = re.search(r"^\s*enabled\s*=\s*(true|false)\s*$", text, re.M)
    if enabled is not None and enabled.group(1) == "false":
        return False
    directory = re.search(r"^\s*directory\s*=\s*[\"']([^\"']*)[\"']\s*$", text, re.M)
    return directory.group(1) if directory is not None else True


class Config(Closeable):
    """Engine configuration, with wasmtime-py's settings (assign attributes).

    Honoured: ``consume_fuel`` and ``epoch_interruption`` (the checks are compiled in only
    when set); ``max_wasm_stack`` (bytes, as wasmtime) sets ``max_call_depth`` to
    ``max_wasm_stack // 52`` frames; ``wasm_tail_call``, ``wasm_extended_const``,
    ``wasm_relaxed_simd``, ``wasm_multi_memory``, ``wasm_memory64``,
    ``wasm_function_references``, ``wasm_exceptions``, ``wasm_gc`` (off: modules using
    the proposal are refused);
    ``wasm_relaxed_simd_deterministic`` (purewasm's relaxed SIMD always is).
    ``wasm_reference_types``, ``wasm_simd``, ``wasm_bulk_memory``, ``wasm_multi_value`` are
    always on: setting one False warns (RuntimeWarning). Proposals purewasm does not
    implement (``wasm_threads``,
    ``wasm_component_model``, …): setting one True warns. ``cranelift_nan_canonicalization``
    True warns (purewasm keeps NaN payloads as the spec's deterministic profile allows).
    ``strategy``, ``cranelift_opt_level``, ``profiler``, ``cache``, ``target`` and the other
    native code generation / memory reservation settings (``NATIVE_SETTINGS``) are checked
    as wasmtime-py checks them (WasmtimeError for an unknown value) and have no effect:
    purewasm has no native code generator.

    purewasm's own: ``max_call_depth`` (Wasm frames before "call stack exhausted", default
    10,000; clamped at run time to what the thread's C stack holds, see docs/SECURITY.md)
    and ``use_worker_thread`` (None: automatic; see runtime/call.py).

    Thread safety: a Config and an Engine may be shared by threads; a Store may not (use
    one store per thread at a time, as in wasmtime). Unlike wasmtime-py, a Config may serve
    several engines (wasmtime-py consumes it); after ``close()`` it refuses use (ValueError).
    """

    _what = "config"

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
        self.wasm_multi_memory = True
        self.wasm_memory64 = True
        self.wasm_function_references = True
        self.wasm_exceptions = True
        self.wasm_gc = True
        self.wasm_relaxed_simd_deterministic = False
        self._native: Dict[str, Any] = {}
        self._cache: Union[bool, str] = False

    def __setattr__(self, name: str, value: Any) -> None:
        # Every setting goes through here: a closed Config refuses them all, and the
        # settings purewasm cannot honour say so instead of being silently ignored.
        if self._closed:
            raise _closed_error(self._what)
        if name in BOOL_SETTINGS and not isinstance(value, bool):
            raise ArgumentTypeError("expected a bool")
        if name in INT_SETTINGS and (not isinstance(value, int) or isinstance(value, bool)):
            raise ArgumentTypeError("expected an int")
        if name in ALWAYS_ON:
            if not value:
                _warn("Config.%s = False is not supported: purewasm always has %s"
                      % (name, name[5:]))
            return
        if name in UNSUPPORTED:
            if value:
                _warn("Config.%s = True has no effect: purewasm does not implement this "
                      "proposal (modules using it are refused)" % name)
            return
        if name == "cranelift_nan_canonicalization":
            if value:
                _warn("Config.cranelift_nan_canonicalization has no effect: purewasm keeps "
                      "NaN payloads")
            return
        if name in NATIVE_SETTINGS:
            self._native[name] = value
            return
        object.__setattr__(self, name, value)

    @property
    def max_wasm_stack(self) -> Optional[int]:
        """The Wasm stack size in bytes (None: the default); setting it sets
        ``max_call_depth`` to ``size // 52`` frames.

        Raises:
            WasmtimeError: when set to anything but a positive int.
        """
        return self._max_wasm_stack

    @max_wasm_stack.setter
    def max_wasm_stack(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise WasmtimeError("max_wasm_stack must be a positive number of bytes")
        self._max_wasm_stack = size
        self.max_call_depth = max(1, size // WASM_STACK_BYTES_PER_FRAME)

    def _choice(self, name: str, value: Any, allowed: Tuple[str, ...]) -> None:
        if value not in allowed:
            raise WasmtimeError("unknown %s: %r (expected one of %s)"
                                % (name, value, ", ".join(allowed)))
        self._native[name] = value

    def _set_strategy(self, strategy: str) -> None:
        self._choice("strategy", strategy, STRATEGIES)

    def _set_opt_level(self, level: str) -> None:
        self._choice("cranelift_opt_level", level, OPT_LEVELS)

    def _set_profiler(self, profiler: str) -> None:
        self._choice("profiler", profiler, PROFILERS)

    def _get_cache(self) -> Union[bool, str]:
        return self._cache

    def _set_cache(self, cache: Union[bool, str]) -> None:
        if not isinstance(cache, (bool, str)):
            raise ArgumentTypeError("expected string or bool")
        if isinstance(cache, str) and (cache.endswith(".toml") or os.path.isfile(cache)):
            cache = _cache_setting_from_file(cache)
        from purewasm.compile.cache import cache_for_config   # first use: the cache is optional
        cache_for_config(cache)   # refuses an unusable directory now (CacheError)
        object.__setattr__(self, "_cache", cache)

    def _set_target(self, target: str) -> None:
        if not isinstance(target, str) or target.split("-")[0] not in TARGET_ARCHES \
                or target.count("-") < 2:
            raise WasmtimeError("unrecognized target triple: %r" % (target,))
        self._native["target"] = target

    # Write-only, as in wasmtime-py; checked, without effect (class docstring).
    strategy = property(None, _set_strategy, doc="Code generator: 'auto', 'cranelift' or "
                        "'winch' (no effect).")
    cranelift_opt_level = property(None, _set_opt_level, doc="'none', 'speed' or "
                                   "'speed_and_size' (no effect).")
    profiler = property(None, _set_profiler, doc="'none', 'jitdump', 'vtune' or 'perfmap' "
                        "(no effect).")
    cache = property(_get_cache, _set_cache, doc="The compiled-code cache "
                     "(compile/cache.py): False (off, the default), True (the default "
                     "directory, ``$XDG_CACHE_HOME/purewasm``), a directory path, or the path "
                     "of a wasmtime cache configuration file (``*.toml``; its ``directory`` "
                     "and ``enabled`` keys are read). Raises WasmtimeError for an unreadable "
                     "configuration file or an unusable directory.")
    target = property(None, _set_target, doc="A target triple such as "
                      "'x86_64-unknown-linux-gnu' (no effect: purewasm runs the same code "
                      "everywhere).")

    def cranelift_flag_enable(self, flag: str) -> None:
        """Accepted for compatibility; purewasm has no Cranelift, so it has no effect."""
        self._check_open()

    def cranelift_flag_set(self, key: str, value: str) -> None:
        """Accepted for compatibility; purewasm has no Cranelift, so it has no effect."""
        self._check_open()


class Engine(Closeable):
    """Compiles and runs modules with one :class:`Config`; shared by modules and stores.

    Args:
        config: the configuration (None: the defaults).

    Raises:
        TypeError: when ``config`` is not a Config.
        ValueError: when ``config`` has been closed.
    """

    _what = "engine"

    def __init__(self, config: Optional[Config] = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise ArgumentTypeError("expected Config")
        config._check_open()
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
        """The engine's current epoch (see :meth:`increment_epoch`)."""
        return self._epoch_cell[0]

    def increment_epoch(self) -> None:
        """Advance the epoch; may be called from any thread (e.g. a ticker). Guests of
        stores past their epoch deadline trap with INTERRUPT at their next epoch check."""
        self._epoch_cell[0] += 1
        with self._stores_lock:
            stores = list(self._stores)
        for rts in stores:
            rts.poll_soon()

    def is_pulley(self) -> bool:
        """False: wasmtime's Pulley interpreter is not used (compatibility)."""
        return False
