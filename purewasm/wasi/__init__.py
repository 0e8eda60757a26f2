"""WASI preview 1 (wasi_snapshot_preview1) over a sandboxed configuration.

* :class:`WasiConfig` — what the guest may see (argv, env, stdio, preopened directories).
* :class:`WasiContext` — the state of one instance; its methods are the implementations,
  runtime-independent: ``ctx.fd_write(mem, fd, iovs, iovs_len, nwritten_ptr) -> errno``.
* ``BINDINGS`` — the one table (name, params, results); :func:`host_functions` and
  :func:`define_wasi` bind it to a context and a Linker; :func:`set_wasi` attaches a
  context to a store (``Linker.define_wasi()`` / ``Store.set_wasi(config)``).

Reference behaviour is wasmtime's (the tests run every program under both and compare
stdout, stderr, exit status and the files left behind). Deliberate differences:

* ``fd_allocate`` extends the file (wasmtime: ENOTSUP);
* ``proc_exit`` accepts any status (wasmtime traps on a status >= 126);
* an out-of-range enum argument (advice, clock id, whence, …) returns EINVAL (wasmtime
  traps); a guest pointer outside memory returns EFAULT;
* a path through a regular file (``file/x``) is ENOTDIR, as POSIX says (wasmtime: ENOENT);
* ``proc_raise`` returns ENOSYS; no socket is ever handed out, so ``sock_*`` answer
  ENOTSOCK (EBADF for a closed descriptor).

Sandbox: each directory descriptor is a capability root; paths are resolved here, one
component at a time, expanding symlinks ourselves; an absolute path, a ``..`` above the
root and a symlink leading outside are refused with EPERM (as wasmtime). The host is
given only symlink-free paths (bar a final component that is not followed), but the
checks and the operation are separate system calls: a host process racing to swap a
directory for a symlink between the two is outside the threat model.
"""
from __future__ import annotations

from .bindings import (BINDINGS, MODULE, SIGNATURES, bound_functions, context_of,
                       default_get_memory, define_wasi, guarded, host_functions, set_wasi)
from .config import DirPerms, FilePerms, Preopen, WasiConfig
from .core import WasiContext, WasiError

__all__ = [
    "BINDINGS", "DirPerms", "FilePerms", "MODULE", "SIGNATURES", "Preopen", "WasiConfig",
    "WasiContext", "WasiError",
    "bound_functions", "context_of", "default_get_memory", "define_wasi", "guarded",
    "host_functions", "set_wasi",
]
