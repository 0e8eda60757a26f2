"""The call boundary between the embedder (or the script runner) and Wasm code.

Every entry into Wasm (an exported function call, a start function) goes through
:func:`invoke`, which

* bounds the call depth: one Python frame per Wasm call, so the Python recursion limit is
  raised to "current depth + max Wasm frames + a margin" for the duration of the outermost
  call, and a RecursionError becomes ``Trap(STACK_OVERFLOW)`` (spec exec/runtime.rst leaves
  the call-stack size to the implementation: exhaustion is a trap, "call stack exhausted");
* runs the call where the C stack is large enough: CPython 3.11+ runs pure-Python calls
  without consuming C stack, so the calling thread is fine; CPython 3.9/3.10 and PyPy would
  segfault far below 10^5 frames on an 8 MiB stack, so they run guest code on one worker
  thread started after ``threading.stack_size(512 MiB)``;
* maps exceptions: a host function's exception (wrapped in :class:`HostError` on its way
  through generated code) is re-raised as it was; an exception escaping generated code
  goes through ``purewasm.compile.trap_from_exception``; our own errors pass unchanged.

Nested entries (a host function calling back into Wasm) reuse the outer call's depth budget.
"""
from __future__ import annotations

import queue
import sys
import threading
from typing import Any, Callable, List, Optional, Sequence

from purewasm.errors import Trap, TrapCode, WasmtimeError

DEFAULT_MAX_CALL_DEPTH = 10_000
# Python frames used besides one per Wasm call: this module, host wrappers, the API facade,
# a lazily compiled function's stub and the translator it calls on first use.
_MARGIN = 250

NEEDS_WORKER_THREAD = (sys.implementation.name != "cpython" or sys.version_info < (3, 11))
WORKER_STACK_SIZE = 512 * 1024 * 1024
# A thread handoff costs ~40 us on CPython 3.9 and ~400 us on PyPy per outermost call. A
# depth budget this small fits the main thread's stack (8 MiB; measured: CPython 3.9/3.10
# crash past ~20,000 simple frames, PyPy past ~15,000), so such calls stay on the main
# thread (embedders opt in with Config.max_call_depth).
SAFE_INLINE_DEPTH = 3000


class HostError(BaseException):
    """Carries a host function's exception through generated code untouched.

    A BaseException so that no ``except Exception`` in generated code can catch it, and not
    an exception ``trap_from_exception`` recognises (an IndexError raised by host code must
    not turn into "out of bounds memory access").
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(original)
        self.original = original


_state = threading.local()


def _trap_mapper() -> Optional[Callable[[BaseException], Optional[Trap]]]:
    try:
        from purewasm.compile import trap_from_exception
    except ImportError:
        return None
    return trap_from_exception  # type: ignore[no-any-return]


def _map_exception(exc: BaseException) -> Optional[BaseException]:
    """The exception the embedder sees for ``exc`` escaping Wasm code (None: re-raise exc)."""
    if isinstance(exc, HostError):
        return exc.original
    if isinstance(exc, WasmtimeError):
        return None
    mapper = _trap_mapper()
    if mapper is not None:
        trap = mapper(exc)
        if trap is not None:
            return trap
    if isinstance(exc, RecursionError):
        return Trap(TrapCode.STACK_OVERFLOW)
    return None


_MAX_FRAMES = 100
_WASM_FRAME_PREFIX = "<wasm function "


class Frame(str):
    """One Wasm frame of a trap's backtrace: a ``str`` (errors.Trap.frames is a list of
    strings) with wasmtime-py's Frame attributes."""

    func_index: int
    func_name: Optional[str]
    module_name: Optional[str] = None
    module_offset: int = 0
    func_offset: int = 0

    @classmethod
    def make(cls, index: int, name: str) -> "Frame":
        frame = cls("%s (func %d)" % (name, index))
        frame.func_index = index
        # The compiler's fallback name "$INDEX" means the function has no name.
        frame.func_name = None if name == "$%d" % index else name
        return frame


def wasm_frames(tb: Any) -> List[str]:
    """The Wasm functions (innermost first) in a traceback: the compiler names the code of
    each function "<wasm function INDEX NAME>" (compile/__init__.py)."""
    names: List[str] = []
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(_WASM_FRAME_PREFIX):
            index, _, name = filename[len(_WASM_FRAME_PREFIX):-1].partition(" ")
            try:
                names.append(Frame.make(int(index), name))
            except ValueError:
                names.append(filename)
        tb = tb.tb_next
    names.reverse()
    if len(names) > _MAX_FRAMES:
        names = names[:_MAX_FRAMES // 2] + ["..."] + names[-_MAX_FRAMES // 2:]
    return names


def _guarded(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: BLE001 - mapped or re-raised, never swallowed
        mapped = _map_exception(exc)
        trap = mapped if mapped is not None else exc
        if isinstance(trap, Trap) and not trap.frames and not isinstance(exc, HostError):
            trap.frames = wasm_frames(exc.__traceback__)
        if mapped is None:
            raise
    # Raised outside the except block so that the embedder's exception (or the trap) does
    # not get the internal HostError / Python exception chained as its __context__.
    raise mapped


def _stack_depth() -> int:
    frame = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


def _outermost(fn: Callable[..., Any], args: Sequence[Any], max_depth: int) -> Any:
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + max_depth + _MARGIN)
    _state.active = True
    try:
        return _guarded(fn, args)
    finally:
        _state.active = False
        sys.setrecursionlimit(old_limit)


class _Job:
    __slots__ = ("fn", "args", "result", "error", "done")

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any]) -> None:
        self.fn = fn
        self.args = args
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.done = threading.Lock()
        self.done.acquire()


class _Worker:
    """One long-lived thread with a big stack that runs outermost guest calls in turn."""

    def __init__(self) -> None:
        self.queue: "queue.SimpleQueue[_Job]" = queue.SimpleQueue()
        old = threading.stack_size()
        size = WORKER_STACK_SIZE
        while True:
            try:
                threading.stack_size(size)
                break
            except (ValueError, RuntimeError):
                if size <= 16 * 1024 * 1024:
                    break
                size //= 2
        try:
            self.thread = threading.Thread(target=self._loop, name="purewasm-guest",
                                           daemon=True)
            self.thread.start()
        finally:
            threading.stack_size(old)

    def _interrupt(self) -> bool:
        try:
            import ctypes
            set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        except (ImportError, AttributeError):   # e.g. PyPy without the C API
            return False
        ident = self.thread.ident
        if ident is None:
            return False
        return bool(set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt)))

    def _loop(self) -> None:
        while True:
            job = self.queue.get()
            try:
                job.result = job.fn(*job.args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                job.error = exc
            finally:
                job.fn = job.args = None  # type: ignore[assignment]
                job.done.release()
                # Hold no reference to the arguments (externrefs) while idle.
                del job

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        job = _Job(fn, args)
        self.queue.put(job)
        try:
            job.done.acquire()
        except KeyboardInterrupt:
            # Ctrl-C reaches the waiting thread only: stop the guest too, at its next
            # bytecode, so that the store is not left running behind the embedder's back.
            if not (self._interrupt() and job.done.acquire(timeout=2.0)):
                # Could not stop it: leave that thread to its fate, use a new one.
                _abandon(self)
            raise
        if job.error is not None:
            error, job.error = job.error, None
            raise error
        return job.result


_worker: Optional[_Worker] = None
_worker_lock = threading.Lock()


def _abandon(worker: _Worker) -> None:
    global _worker
    with _worker_lock:
        if _worker is worker:
            _worker = None


def _get_worker() -> _Worker:
    global _worker
    if _worker is None:
        with _worker_lock:
            if _worker is None:
                _worker = _Worker()
    return _worker


def invoke(fn: Callable[..., Any], args: Sequence[Any],
           max_depth: int = DEFAULT_MAX_CALL_DEPTH, use_thread: Optional[bool] = None) -> Any:
    """Call the raw callable ``fn`` with raw ``args`` across the boundary (see module doc).

    Returns the raw result (None, a value, or a tuple). ``use_thread`` overrides the
    per-interpreter default (NEEDS_WORKER_THREAD).
    """
    if getattr(_state, "active", False):
        return _guarded(fn, args)
    if use_thread is None:
        use_thread = NEEDS_WORKER_THREAD and not (
            max_depth <= SAFE_INLINE_DEPTH
            and threading.current_thread() is threading.main_thread())
    if use_thread:
        worker = _get_worker()
        if threading.current_thread() is not worker.thread:
            return worker.run(_outermost, fn, args, max_depth)
    return _outermost(fn, args, max_depth)


def in_guest() -> bool:
    """True while Wasm code runs on this thread (i.e. inside :func:`invoke`)."""
    return bool(getattr(_state, "active", False))
