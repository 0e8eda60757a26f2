"""Store: the runtime state of a set of instances."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Optional, Union

from purewasm import runtime as rt
from purewasm.errors import ArgumentTypeError, WasmtimeError

from ._config import Closeable, Engine

if TYPE_CHECKING:
    from ._func import Caller


class Store(Closeable):
    """All runtime state of a set of instances: memories, tables, globals, fuel, limits.

    Args:
        engine: the engine (None: a new one with the default Config).
        data: any object, returned by :meth:`data` and :meth:`Caller.data`.

    Raises:
        TypeError: when ``engine`` is not an Engine.

    Thread safety (as in wasmtime): a store and everything made in it (instances, Func,
    Memory, Table, Global) is used by one thread at a time; the embedder serialises access
    if several threads share it. Separate stores are independent and may run on separate
    threads at the same time (CPython runs one at a time under the GIL). Objects of one
    store are refused by another (WasmtimeError). ``interrupt()`` and
    ``Engine.increment_epoch()`` are the exceptions: meant to be called from another thread
    or a signal handler.

    ``close()`` (or leaving a ``with Store() as store:`` block) drops the store's state;
    using it afterwards raises ValueError."""

    _what = "store"

    def __init__(self, engine: Optional[Engine] = None, data: Optional[Any] = None) -> None:
        if engine is None:
            engine = Engine()
        elif not isinstance(engine, Engine):
            raise ArgumentTypeError("expected an Engine")
        engine._check_open()
        self.engine = engine
        cfg = engine.config
        rts = rt.Store(max_call_depth=cfg.max_call_depth, use_thread=cfg.use_worker_thread)
        rts.data = data
        rts.epoch_cell = engine._epoch_cell
        self._rt: Optional[rt.Store] = rts
        if cfg.epoch_interruption:
            with engine._stores_lock:
                engine._stores.add(rts)

    def _live(self) -> rt.Store:
        """The runtime store; ValueError once closed."""
        if self._rt is None:
            raise ValueError("this store has been closed")
        return self._rt

    def _release(self) -> None:
        self._rt = None

    def data(self) -> Optional[Any]:
        """The ``data`` object given to the constructor."""
        return self._live().data

    def gc(self) -> None:
        """Nothing to do: Python's garbage collector owns every reference (compatibility)."""

    def set_fuel(self, fuel: int) -> None:
        """Set the fuel left (Config.consume_fuel): each executed instruction costs one;
        running out is the trap OUT_OF_FUEL. A new store has none, as in wasmtime.

        Raises:
            WasmtimeError: when fuel is not enabled in the engine's Config.
            ValueError: for negative fuel.
        """
        if not self.engine.config.consume_fuel:
            raise WasmtimeError("fuel is not configured in this store")
        if fuel < 0:
            raise ValueError("fuel must not be negative")
        self._live().fuel_cell[0] = fuel

    def get_fuel(self) -> int:
        """The fuel left.

        Raises:
            WasmtimeError: when fuel is not enabled in the engine's Config.
        """
        if not self.engine.config.consume_fuel:
            raise WasmtimeError("fuel is not configured in this store")
        return max(self._live().fuel_cell[0], 0)

    def set_wasi(self, wasi: Any) -> None:
        """Attach a WASI configuration (``purewasm.WasiConfig``) to this store."""
        from purewasm.wasi import set_wasi   # WASI is imported by the programs using it
        set_wasi(self._live(), wasi)

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        """Trap with INTERRUPT once the engine's epoch reaches the current epoch plus
        ``ticks_after_current`` (Config.epoch_interruption; the deadline starts at 0)."""
        self._live().deadline_cell[0] = self.engine.epoch + ticks_after_current
        self._live().poll_soon()

    def set_deadline(self, seconds: Optional[float]) -> None:
        """purewasm extension: trap with INTERRUPT once ``seconds`` of wall-clock time
        have passed from now (None: no deadline). Needs no thread (works on Pyodide): the
        clock is read at the epoch checks (function entries, loop back-edges) every 1,000
        checks, so Config.epoch_interruption must be set. The epoch deadline still applies:
        set it far ahead (set_epoch_deadline) if only the wall clock should stop the guest.

        Raises:
            WasmtimeError: when Config.epoch_interruption is not set.
            ValueError: for a negative time.
        """
        if not self.engine.config.epoch_interruption:
            raise WasmtimeError("a deadline needs Config.epoch_interruption = True")
        if seconds is None:
            self._live().wall_deadline = None
        else:
            if seconds < 0:
                raise ValueError("the deadline must not be negative")
            self._live().wall_deadline = time.monotonic() + seconds
        self._live().poll_soon()

    def interrupt(self) -> None:
        """purewasm extension: stop the guest running in this store (from another thread
        or a signal handler) with Trap INTERRUPT at its next epoch check
        (Config.epoch_interruption); the next call runs normally."""
        self._live().interrupt()

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
            self._live().memory_limit_bytes = memory_size
        if table_elements >= 0:
            self._live().table_limit = table_elements
        if instances >= 0:
            self._live().instance_limit = instances
        if tables >= 0:
            self._live().table_count_limit = tables
        if memories >= 0:
            self._live().memory_count_limit = memories


# What every method taking a store accepts: the Store, or the Caller of a host function.
Storelike = Union[Store, "Caller"]


def rt_store(store: Storelike) -> rt.Store:
    """The runtime store of a Storelike (Store or Caller).

    Raises:
        TypeError: for anything else.
        ValueError: for a closed Store.
    """
    rts = getattr(store, "_rt", None)
    if isinstance(rts, rt.Store):
        return rts
    if isinstance(store, Store):
        raise ValueError("this store has been closed")
    raise ArgumentTypeError("expected a Store or Caller")
