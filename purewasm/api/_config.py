"""Engine and its configuration."""
from __future__ import annotations

import threading
import weakref
from typing import Optional

from purewasm import runtime as rt
from purewasm.errors import WasmtimeError

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

    def cranelift_flag_enable(self, flag: str) -> None:
        """Accepted for compatibility; purewasm has no Cranelift, so it has no effect."""

    def cranelift_flag_set(self, key: str, value: str) -> None:
        """Accepted for compatibility; purewasm has no Cranelift, so it has no effect."""


class Engine:
    """Compiles and runs modules with one :class:`Config`; shared by modules and stores.

    Args:
        config: the configuration (None: the defaults).

    Raises:
        TypeError: when ``config`` is not a Config.
    """

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
