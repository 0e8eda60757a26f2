"""WASI preview 1 (wasi_snapshot_preview1) over a sandboxed configuration.

* :class:`WasiConfig` — what the guest may see (argv, env, stdio, preopened directories).
* :class:`WasiContext` — the state of one instance; its methods are the implementations,
  runtime-independent: ``ctx.fd_write(mem, fd, iovs, iovs_len, nwritten_ptr) -> errno``.
* ``BINDINGS`` — the one table (name, params, results); :func:`host_functions` and
  :func:`define_wasi` bind it to a context and a Linker; :func:`set_wasi` attaches a
  context to a store (``Linker.define_wasi()`` / ``Store.set_wasi(config)``).
"""
from __future__ import annotations

from .bindings import (BINDINGS, MODULE, SIGNATURES, bound_functions, context_of,
                       default_get_memory, define_wasi, guarded, host_functions, set_wasi)
from .config import Preopen, WasiConfig
from .core import WasiContext, WasiError

__all__ = [
    "BINDINGS", "MODULE", "SIGNATURES", "Preopen", "WasiConfig", "WasiContext", "WasiError",
    "bound_functions", "context_of", "default_get_memory", "define_wasi", "guarded",
    "host_functions", "set_wasi",
]
