"""The one binding table of wasi_snapshot_preview1 and the glue to a Linker.

``BINDINGS`` lists every preview1 function once: (name, Wasm parameter types, Wasm result
types, implementation), the implementation being the method of the same name of
:class:`~purewasm.wasi.core.WasiContext`; :func:`host_functions` binds them to a context
and wraps each so that it returns an errno for every host failure.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, List, Optional, Tuple

from ..errors import ExitTrap, Trap, WasmtimeError
from ..runtime import HostError
from ..runtime.instances import MEMORY_DATA_TYPES, MemoryData
from ..syntax import FuncType
from . import constants as C
from .core import SinkError, WasiContext, WasiError

MODULE = "wasi_snapshot_preview1"

_I = "i32"
_L = "i64"

W = WasiContext

# (name, Wasm parameter types, Wasm result types, implementation). The implementation is
# an unbound WasiContext method: impl(ctx, mem, *raw_args) -> errno.
BINDINGS: Tuple[Tuple[str, Tuple[str, ...], Tuple[str, ...], Callable[..., int]], ...] = (
    ("args_get", (_I, _I), (_I,), W.args_get),
    ("args_sizes_get", (_I, _I), (_I,), W.args_sizes_get),
    ("environ_get", (_I, _I), (_I,), W.environ_get),
    ("environ_sizes_get", (_I, _I), (_I,), W.environ_sizes_get),
    ("clock_res_get", (_I, _I), (_I,), W.clock_res_get),
    ("clock_time_get", (_I, _L, _I), (_I,), W.clock_time_get),
    ("fd_advise", (_I, _L, _L, _I), (_I,), W.fd_advise),
    ("fd_allocate", (_I, _L, _L), (_I,), W.fd_allocate),
    ("fd_close", (_I,), (_I,), W.fd_close),
    ("fd_datasync", (_I,), (_I,), W.fd_datasync),
    ("fd_fdstat_get", (_I, _I), (_I,), W.fd_fdstat_get),
    ("fd_fdstat_set_flags", (_I, _I), (_I,), W.fd_fdstat_set_flags),
    ("fd_fdstat_set_rights", (_I, _L, _L), (_I,), W.fd_fdstat_set_rights),
    ("fd_filestat_get", (_I, _I), (_I,), W.fd_filestat_get),
    ("fd_filestat_set_size", (_I, _L), (_I,), W.fd_filestat_set_size),
    ("fd_filestat_set_times", (_I, _L, _L, _I), (_I,), W.fd_filestat_set_times),
    ("fd_pread", (_I, _I, _I, _L, _I), (_I,), W.fd_pread),
    ("fd_prestat_get", (_I, _I), (_I,), W.fd_prestat_get),
    ("fd_prestat_dir_name", (_I, _I, _I), (_I,), W.fd_prestat_dir_name),
    ("fd_pwrite", (_I, _I, _I, _L, _I), (_I,), W.fd_pwrite),
    ("fd_read", (_I, _I, _I, _I), (_I,), W.fd_read),
    ("fd_readdir", (_I, _I, _I, _L, _I), (_I,), W.fd_readdir),
    ("fd_renumber", (_I, _I), (_I,), W.fd_renumber),
    ("fd_seek", (_I, _L, _I, _I), (_I,), W.fd_seek),
    ("fd_sync", (_I,), (_I,), W.fd_sync),
    ("fd_tell", (_I, _I), (_I,), W.fd_tell),
    ("fd_write", (_I, _I, _I, _I), (_I,), W.fd_write),
    ("path_create_directory", (_I, _I, _I), (_I,), W.path_create_directory),
    ("path_filestat_get", (_I, _I, _I, _I, _I), (_I,), W.path_filestat_get),
    ("path_filestat_set_times", (_I, _I, _I, _I, _L, _L, _I), (_I,), W.path_filestat_set_times),
    ("path_link", (_I, _I, _I, _I, _I, _I, _I), (_I,), W.path_link),
    ("path_open", (_I, _I, _I, _I, _I, _L, _L, _I, _I), (_I,), W.path_open),
    ("path_readlink", (_I, _I, _I, _I, _I, _I), (_I,), W.path_readlink),
    ("path_remove_directory", (_I, _I, _I), (_I,), W.path_remove_directory),
    ("path_rename", (_I, _I, _I, _I, _I, _I), (_I,), W.path_rename),
    ("path_symlink", (_I, _I, _I, _I, _I), (_I,), W.path_symlink),
    ("path_unlink_file", (_I, _I, _I), (_I,), W.path_unlink_file),
    ("poll_oneoff", (_I, _I, _I, _I), (_I,), W.poll_oneoff),
    ("proc_exit", (_I,), (), W.proc_exit),
    ("proc_raise", (_I,), (_I,), W.proc_raise),
    ("random_get", (_I, _I), (_I,), W.random_get),
    ("sched_yield", (), (_I,), W.sched_yield),
    ("sock_accept", (_I, _I, _I), (_I,), W.sock_accept),
    ("sock_recv", (_I, _I, _I, _I, _I, _I), (_I,), W.sock_recv),
    ("sock_send", (_I, _I, _I, _I, _I), (_I,), W.sock_send),
    ("sock_shutdown", (_I, _I), (_I,), W.sock_shutdown),
)

SIGNATURES = {name: FuncType(params, results) for name, params, results, _ in BINDINGS}


def guarded(impl: Callable[..., int]) -> Callable[..., int]:
    """Wrap a WASI implementation so every failure becomes an errno.

    Only ``ExitTrap`` (proc_exit) and the exception of an embedder's stdout/stderr
    callback (``SinkError``, unwrapped) escape.
    """
    def call(mem: Any, *args: int) -> int:
        try:
            return impl(mem, *args)
        except ExitTrap:
            raise
        except SinkError as exc:
            # The embedder's own stdout/stderr callback failed: its exception is theirs.
            raise exc.original from None
        except WasiError as exc:
            return exc.errno
        except OSError as exc:
            return C.errno_from_oserror(exc)
        except (struct.error, IndexError):
            # A guest pointer outside linear memory.
            return C.EFAULT
        except UnicodeError:
            return C.EILSEQ
        except (ValueError, OverflowError):
            return C.EINVAL
        except Exception:  # noqa: BLE001 - no host exception may reach the guest
            return C.EIO
    call.__name__ = getattr(impl, "__name__", "wasi")
    return call


def bound_functions(ctx: WasiContext) -> List[Tuple[str, FuncType, Callable[..., int]]]:
    """(name, type, ``fn(mem, *raw_args) -> errno``) for every preview1 function."""
    return [(name, SIGNATURES[name], guarded(impl.__get__(ctx, WasiContext)))
            for name, _, _, impl in BINDINGS]


_NO_MEMORY = 'WASI: the module must export its memory as "memory"'


def default_get_memory(caller: Any) -> Any:
    """The guest memory buffer of a host call's ``caller`` (its export "memory").

    Fast path for purewasm's ``Caller`` (the instance's ``MemoryInstance.data``, the live
    bytearray); otherwise any ``caller["memory"]`` object exposing such a bytearray.
    Embedders with another shape pass their own getter.
    """
    inst = getattr(caller, "_instance", None)
    if inst is not None:
        item = inst.exports.get("memory") if hasattr(inst, "exports") else None
        data = getattr(item, "data", None)
        if isinstance(data, MEMORY_DATA_TYPES):
            return data
    try:
        mem = caller["memory"]
    except (KeyError, TypeError):
        raise WasmtimeError(_NO_MEMORY) from None
    for data in (getattr(mem, "data", None), getattr(getattr(mem, "_inst", None), "data", None)):
        if isinstance(data, MEMORY_DATA_TYPES):
            return data
    # e.g. "memory" names a function
    raise WasmtimeError(_NO_MEMORY)


def context_of(caller: Any) -> WasiContext:
    """The WasiContext attached to the store of ``caller`` by :func:`set_wasi`."""
    rts = getattr(caller, "_rt", None)
    ctx = getattr(rts, "wasi", None)
    if ctx is None:
        raise WasmtimeError("WASI is not configured: call store.set_wasi(config) first")
    return ctx


def set_wasi(rts: Any, config: Any) -> WasiContext:
    """Attach a WASI context built from ``config`` to the ``runtime.Store`` ``rts``
    (``purewasm.Store.set_wasi`` passes its own). ``config`` is a :class:`WasiConfig` or
    an already built :class:`WasiContext`. A previous context of the store is closed
    (its host files released)."""
    old = getattr(rts, "wasi", None)
    if old is not None:
        old.close()
    ctx = config if isinstance(config, WasiContext) else WasiContext(config)
    rts.wasi = ctx
    return ctx


def host_functions(ctx: Optional[WasiContext] = None,
                   get_memory: Optional[Callable[[Any], Any]] = None
                   ) -> List[Tuple[str, FuncType, Callable[..., Any]]]:
    """(name, type, ``fn(caller, *raw_args)``) ready for ``define_func(access_caller=True)``.

    With ``ctx`` None, each call uses the context of the caller's store (:func:`set_wasi`).
    Raw i32/i64 arguments may arrive signed (wasmtime-py style) or unsigned (purewasm's
    raw convention); they are made unsigned here.
    """
    getter = get_memory or default_get_memory
    out = []
    for name, params, results, impl in BINDINGS:
        masks = tuple(0xFFFFFFFF if t == "i32" else 0xFFFFFFFFFFFFFFFF for t in params)
        if ctx is not None:
            fn = guarded(impl.__get__(ctx, WasiContext))
            host = _make_host(fn, masks, getter, bool(results))
        else:
            host = _make_store_host(impl, masks, getter, bool(results))
        out.append((name, SIGNATURES[name], host))
    return out


def _make_host(fn: Callable[..., int], masks: Tuple[int, ...],
               getter: Callable[[Any], Any], has_result: bool) -> Callable[..., Any]:
    if has_result:
        def host(caller: Any, *args: int) -> Optional[int]:
            return fn(getter(caller), *[a & m for a, m in zip(args, masks)])
    else:
        def host(caller: Any, *args: int) -> Optional[int]:
            fn(getter(caller), *[a & m for a, m in zip(args, masks)])
            return None
    return host


def _make_store_host(impl: Callable[..., int], masks: Tuple[int, ...],
                     getter: Callable[[Any], Any], has_result: bool) -> Callable[..., Any]:
    # The guarded method is cached per context: contexts change only via set_wasi.
    cache: List[Any] = [None, None]

    def host(caller: Any, *args: int) -> Any:
        ctx = context_of(caller)
        if cache[0] is not ctx:
            cache[0], cache[1] = ctx, guarded(impl.__get__(ctx, WasiContext))
        result = cache[1](getter(caller), *[a & m for a, m in zip(args, masks)])
        return result if has_result else None
    return host


def _instance_memory(inst: Any) -> MemoryData:
    """The bytes of the export "memory" of runtime instance ``inst`` (or the error)."""
    item = inst.exports.get("memory") if inst is not None else None
    data = getattr(item, "data", None)
    if not isinstance(data, MEMORY_DATA_TYPES):
        # no instance, no such export, or "memory" names a function / table / global
        raise WasmtimeError(_NO_MEMORY)
    return data


def _raw_factory(impl: Callable[..., int], ctx: Optional[WasiContext],
                 has_result: bool) -> Callable[[Any, Any], Callable[..., Any]]:
    """``factory(runtime_store, instance)`` for ``Linker.define_raw_caller_func``.

    The raw callable receives unsigned raw i32/i64 arguments (no conversion needed) and
    calls the guarded implementation with the calling instance's memory. The memory of
    a bound instance is looked up once (its exports and its bytearray never change);
    unbound (``instance`` None, e.g. a call through a table) it is the store's current
    instance, looked up per call. Like the Caller path: WasmtimeError (ExitTrap, the
    missing-memory and no-context errors) and RecursionError propagate, any other
    exception escaping reaches the embedder through HostError.
    """
    fixed = guarded(impl.__get__(ctx, WasiContext)) if ctx is not None else None

    def factory(rts: Any, inst: Any) -> Callable[..., Any]:
        # [context, guarded method, memory bytearray]
        cache: List[Any] = [None, fixed, None]

        def host(*args: int) -> Any:
            try:
                fn = cache[1]
                if ctx is None:
                    cur = getattr(rts, "wasi", None)
                    if cur is None:
                        raise WasmtimeError(
                            "WASI is not configured: call store.set_wasi(config) first")
                    if cache[0] is not cur:
                        cache[0] = cur
                        cache[1] = fn = guarded(impl.__get__(cur, WasiContext))
                if inst is None:
                    mem = _instance_memory(rts.current_instance())
                else:
                    mem = cache[2]
                    if mem is None:
                        mem = cache[2] = _instance_memory(inst)
                result = fn(mem, *args)
                return result if has_result else None
            except (WasmtimeError, Trap, RecursionError):
                raise
            except BaseException as exc:  # noqa: BLE001 - carried to the embedder untouched
                raise HostError(exc) from None
        host.__name__ = "wasi_" + getattr(impl, "__name__", "call")
        return host
    return factory


def define_wasi(linker: Any, ctx: Optional[WasiContext] = None,
                get_memory: Optional[Callable[[Any], Any]] = None,
                make_type: Optional[Callable[[FuncType], Any]] = None) -> None:
    """Define every wasi_snapshot_preview1 function in ``linker`` (``Linker.define_wasi``).

    On purewasm's Linker (without ``get_memory`` / ``make_type``) the functions are raw,
    per-instance host functions (``Linker.define_raw_caller_func``): no Caller and no
    value conversion per call. Another linker (wasmtime-py's shape: ``define_func(module,
    name, type, fn, access_caller=True)``) needs ``make_type``, converting a
    ``syntax.FuncType`` to its function type. With ``ctx`` None (the wasmtime way) each
    call uses the context that ``set_wasi`` attached to the caller's store.
    """
    raw = getattr(linker, "define_raw_caller_func", None)
    if raw is not None and get_memory is None and make_type is None:
        for name, _, results, impl in BINDINGS:
            raw(MODULE, name, SIGNATURES[name], _raw_factory(impl, ctx, bool(results)))
        return
    if make_type is None:
        raise TypeError("define_wasi: this linker needs make_type (its function types)")
    for name, ftype, host in host_functions(ctx, get_memory):
        linker.define_func(MODULE, name, make_type(ftype), host, access_caller=True)
