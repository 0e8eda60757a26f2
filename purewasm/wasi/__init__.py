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

* ``path_readlink`` refuses (EPERM) a target climbing above the descriptor's directory,
  not only an absolute one (wasmtime returns the relative ones);
* ``path_link`` with SYMLINK_FOLLOW links what the symlink names, resolved in the sandbox
  (wasmtime: EINVAL).

Sandbox (see core.py): every directory descriptor — preopen or opened — holds an OS
directory handle, never a path; a guest path is walked one component at a time from
that handle (openat with O_NOFOLLOW | O_DIRECTORY), symlinks are read and expanded here,
relative to the directory holding them, and ``..`` returns to the handle it came from.
An absolute path or link, or a ``..`` above the descriptor's directory, is EPERM (as
wasmtime). Renaming or replacing a directory, by the guest or by another host process,
can therefore never redirect a descriptor or a walk outside the sandbox. Read-only
preopens (``DirPerms``/``FilePerms``) refuse every change with EPERM. Limits: paths of
4096 bytes or more and components over 255 bytes are ENAMETOOLONG, 40 symlink hops
ELOOP, 16,384 descriptors EMFILE.
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
