"""The call boundary between the embedder (or the script runner) and Wasm code.

Every entry into Wasm (an exported function call, a start function) goes through
:func:`invoke`, which

* bounds the call depth: one Python frame per Wasm call, so the Python recursion limit is
  raised to "current depth + max Wasm frames + a margin" while guest calls run, and a
  RecursionError becomes ``Trap(STACK_OVERFLOW)`` (spec exec/runtime.rst leaves the
  call-stack size to the implementation: exhaustion is a trap, "call stack exhausted").
  The limit is one per interpreter: calls running on several threads share it (the
  largest need wins, the embedder's value comes back when the last call ends). The
  configured depth is clamped to what the thread's C stack holds, and host re-entries
  (Wasm -> host function -> Wasm, which go through C) are counted and bounded separately:
  docs/SECURITY.md has the measurements;
* runs the call where the C stack is large enough: CPython 3.11+ runs pure-Python calls
  without consuming C stack, so the calling thread is fine; CPython 3.9/3.10 and PyPy would
  segfault far below 10^5 frames on an 8 MiB stack, so they run guest code on a worker
  thread started after ``threading.stack_size(512 MiB)`` (one per concurrently calling
  thread, from a pool; the store runs a call that cannot go deep on the calling thread,
  runtime/static_depth.py); the waiting thread polls, so that a signal handler's exception
  (or ``_thread.interrupt_main``) reaches it, and then stops the guest;
* lets a Wasm exception (exception handling: ``errors.WasmException``) pass: between
  Wasm frames, through host functions, and out to the embedder, where it is a Trap
  carrying its tag and payload;
* maps exceptions: a host function's exception (wrapped in :class:`HostError` on its way
  through generated code) is re-raised as it was; an exception raised by generated code
  or purewasm's helpers goes through :func:`traps.trap_from_exception`, and a trap gets
  its Wasm backtrace (:func:`traps.wasm_backtrace`); anything else (an embedder's
  signal handler, say) and our own errors pass unchanged.

Nested entries (a host function calling back into Wasm) reuse the outer call's depth budget.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, Sequence

from purewasm.errors import Trap, TrapCode, WasmException, WasmtimeError

from .traps import is_generated_code, trap_from_exception, wasm_backtrace

DEFAULT_MAX_CALL_DEPTH = 10_000
# Python frames used besides one per Wasm call: this module, host wrappers, the API facade,
# a lazily compiled function's stub and the translator it calls on first use.
_MARGIN = 250

_IMPL = sys.implementation.name
# Pyodide (emscripten) has no threads; its CPython is 3.11+ (Pyodide 0.23 and later).
ON_EMSCRIPTEN = sys.platform == "emscripten"
NEEDS_WORKER_THREAD = (_IMPL != "cpython" or sys.version_info < (3, 11)) and not ON_EMSCRIPTEN
WORKER_STACK_SIZE = 512 * 1024 * 1024
# A thread handoff costs ~40 us on CPython 3.9 and ~400 us on PyPy per outermost call. A
# depth budget this small fits the main thread's stack (8 MiB; measured: CPython 3.9/3.10
# crash past ~20,000 simple frames, PyPy past ~15,000), so such calls stay on the main
# thread (embedders opt in with Config.max_call_depth).
SAFE_INLINE_DEPTH = 3000

# C stack used per level, measured (docs/SECURITY.md, "Call depth"): a Wasm frame is a
# Python frame, which costs no C stack on CPython 3.11+ but does on 3.9/3.10 and PyPy; a
# host re-entry (Wasm -> Python host function -> Wasm) goes through C on every version.
# Doubled for safety below; an embedder's configured depth is clamped to what fits, so
# that exhaustion is always the trap "call stack exhausted", never a crash.
if NEEDS_WORKER_THREAD:
    FRAME_C_BYTES = 600 if _IMPL == "cpython" else 600
    REENTRY_C_BYTES = 4096
else:
    FRAME_C_BYTES = 0
    REENTRY_C_BYTES = 1600
# On emscripten the C stack is the JavaScript engine's (~1 MB in node and Chrome) and
# running out of it kills the whole Pyodide runtime. Measured with Pyodide 0.27 (CPython
# 3.12) under node 20: 10,000 nested Wasm calls cost none of it (they trap cleanly at the
# default depth), but host re-entries crash between 300 and 400 levels (~2.6 KB each).
# Budgeted at 5,000 bytes a re-entry of 1 MiB: 104 re-entries, a 3x margin.
EMSCRIPTEN_STACK_BYTES = 1024 * 1024
if ON_EMSCRIPTEN:
    REENTRY_C_BYTES = 5000
# Python frames are heap objects (measured on CPython 3.11: 10^6 frames of a one-argument
# function, 700 MB and ~10 s): a cap keeps a runaway recursion from eating the host's
# memory before it traps, whatever depth the embedder configured.
MAX_CALL_DEPTH_CAP = 250_000


def _main_stack_bytes() -> int:
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    except (ImportError, OSError, ValueError):
        soft = -1
    if soft is None or soft < 0 or soft > 1 << 40:
        # Unlimited or unknown: the usual default (Linux, macOS main thread).
        return 8 * 1024 * 1024
    return int(soft)


def _thread_stack_bytes() -> int:
    """C stack of the running thread (best effort: Python cannot ask the OS portably)."""
    worker = getattr(_state, "worker", None)
    if worker is not None:
        stack_bytes: int = worker.stack_bytes
        return stack_bytes
    if ON_EMSCRIPTEN:
        return EMSCRIPTEN_STACK_BYTES
    if threading.current_thread() is threading.main_thread():
        return _main_stack_bytes()
    size = threading.stack_size()
    if size:
        return size
    # glibc gives new threads RLIMIT_STACK; macOS and others give 512 KiB or more.
    return _main_stack_bytes() if sys.platform.startswith("linux") else 512 * 1024


def max_reentries(stack_bytes: int) -> int:
    """Host re-entries (nested calls into Wasm from host functions) a thread with
    ``stack_bytes`` of C stack may make: half the stack, at the measured cost."""
    return max(16, stack_bytes // 2 // REENTRY_C_BYTES)


def effective_depth(max_depth: int, stack_bytes: int) -> int:
    """The call depth actually granted for a configured ``max_depth`` on a thread with
    ``stack_bytes`` of C stack (see module doc)."""
    depth = min(max_depth, MAX_CALL_DEPTH_CAP)
    if FRAME_C_BYTES:
        depth = min(depth, max(100, stack_bytes // 2 // FRAME_C_BYTES - _MARGIN))
    return max(depth, 1)


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

# Code that may raise an exception that means a trap: generated code (traps.py says how it
# is recognised) and purewasm's own helpers. Anything raised elsewhere (a host
# function, an embedder's signal handler running between two bytecodes of generated code)
# is not the guest's and reaches the embedder unchanged.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _raised_by_guest(exc: BaseException) -> bool:
    tb = exc.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    if is_generated_code(tb):
        return True
    filename = tb.tb_frame.f_code.co_filename
    return os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)


def _map_exception(exc: BaseException) -> Optional[BaseException]:
    """The exception the embedder sees for ``exc`` escaping Wasm code (None: re-raise exc)."""
    if isinstance(exc, HostError):
        return exc.original
    if isinstance(exc, (WasmtimeError, Trap)):
        return None
    if not _raised_by_guest(exc):
        return None
    return trap_from_exception(exc)


def host_recursion_error(exc: RecursionError) -> bool:
    """Whether a RecursionError caught by a host function's wrapper is the host code's own
    runaway recursion (to reach the embedder unchanged) rather than the Wasm call stack
    running out at or just after the host call (a trap): the host's own recursion leaves a
    long traceback below the wrapper (the limit keeps _MARGIN frames beyond the Wasm
    budget), exhaustion at the call a short one. Bounded walk: this runs at every level a
    stack overflow unwinds through."""
    tb = exc.__traceback__
    n = 0
    while tb is not None and n <= _HOST_RECURSION_FRAMES:
        n += 1
        tb = tb.tb_next
    return n > _HOST_RECURSION_FRAMES


_HOST_RECURSION_FRAMES = 100


def _guarded(fn: Callable[..., Any], args: Sequence[Any], outermost: bool = True) -> Any:
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: BLE001 - mapped or re-raised, never swallowed
        mapped = _map_exception(exc)
        trap = mapped if mapped is not None else exc
        # A Wasm exception leaving a nested entry (Wasm -> host -> Wasm) passes unchanged
        # through the host function and may still be caught by an outer try_table: its
        # backtrace is made only if it reaches the embedder.
        if (isinstance(trap, Trap) and not trap.frames and not isinstance(exc, HostError)
                and (outermost or not isinstance(trap, WasmException))
                and not trap.frames_read):
            # Once per trap: a trap unwinding through n host re-entries would otherwise
            # walk its (ever longer) traceback at each of them, O(n^2).
            trap.frames_read = True
            trap.frames = wasm_backtrace(exc.__traceback__)
        if mapped is None:
            raise
    # Raised outside the except block so that the embedder's exception (or the trap) does
    # not get the internal HostError / Python exception chained as its __context__.
    raise mapped


def _stack_depth() -> int:
    frame: Optional[FrameType] = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


# The recursion limit is one per interpreter, not per thread: guest calls running on
# several threads at once (separate stores) each register the limit they need; the limit
# is the largest of them (and of the embedder's own), and goes back to the embedder's value
# when the last one ends. Saving and restoring it per call instead let one thread lower
# the limit under another's feet (spurious "call stack exhausted") and leaked a raised
# limit when calls ended out of order.
_limit_lock = threading.Lock()
_limit_needs: Dict[int, int] = {}
# Threads whose C stack cannot hold more than their own need (a guest on the main thread
# of CPython 3.9/3.10 or PyPy, SAFE_INLINE_DEPTH): the shared limit never exceeds theirs,
# so another thread's deeper budget is cut short while they run (a trap, not a crash).
_limit_caps: Dict[int, int] = {}
_limit_saved = [0]
_limit_seq = [0]


def _apply_limit() -> None:
    limit = max(_limit_saved[0], max(_limit_needs.values()))
    if _limit_caps:
        limit = min(limit, min(_limit_caps.values()))
    sys.setrecursionlimit(limit)


def _claim_limit(need: int, capped: bool) -> int:
    with _limit_lock:
        if not _limit_needs:
            _limit_saved[0] = sys.getrecursionlimit()
        _limit_seq[0] += 1
        token = _limit_seq[0]
        _limit_needs[token] = need
        if capped:
            _limit_caps[token] = need
        _apply_limit()
    return token


def _release_limit(token: int) -> None:
    with _limit_lock:
        del _limit_needs[token]
        _limit_caps.pop(token, None)
        if _limit_needs:
            _apply_limit()
        else:
            sys.setrecursionlimit(_limit_saved[0])


def _outermost(fn: Callable[..., Any], args: Sequence[Any], max_depth: int) -> Any:
    stack_bytes = _thread_stack_bytes()
    depth = effective_depth(max_depth, stack_bytes)
    capped = bool(FRAME_C_BYTES) and getattr(_state, "worker", None) is None
    token = _claim_limit(_stack_depth() + depth + _MARGIN, capped)
    _state.active = True
    _state.reentries = 0
    _state.max_reentries = max_reentries(stack_bytes)
    try:
        return _guarded(fn, args)
    finally:
        _state.active = False
        _release_limit(token)


def _reentered(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """A host function calling back into Wasm: each such level costs C stack (the frames
    between go through C), which the recursion limit does not bound on every version."""
    n = _state.reentries + 1
    if n > _state.max_reentries:
        raise Trap(TrapCode.STACK_OVERFLOW)
    _state.reentries = n
    try:
        return _guarded(fn, args, False)
    finally:
        _state.reentries = n - 1


class _GuestInterrupted(BaseException):
    """Raised asynchronously in a worker thread to stop a guest whose embedder thread was
    interrupted (a signal handler raised, KeyboardInterrupt)."""


class _Job:
    __slots__ = ("fn", "args", "result", "error", "done")

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any]) -> None:
        self.fn = fn
        self.args = args
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.done = threading.Lock()
        self.done.acquire()


# How often a thread waiting for its guest wakes up: a pending signal handler (or
# _thread.interrupt_main) runs only when the waiting thread executes bytecode.
_WAIT_POLL = 0.1


class _Worker:
    """A thread with a big stack that runs outermost guest calls of one embedder thread
    at a time (the pool below gives each concurrent embedder thread its own)."""

    def __init__(self) -> None:
        self.queue: "queue.SimpleQueue[_Job]" = queue.SimpleQueue()
        old = threading.stack_size()
        size = WORKER_STACK_SIZE
        try:
            while True:
                # A smaller stack where the platform refuses this one, or where the
                # address space is capped (RLIMIT_AS): the depth clamp follows the size.
                try:
                    threading.stack_size(size)
                    self.thread = threading.Thread(target=self._loop, name="purewasm-guest",
                                                   daemon=True)
                    self.stack_bytes = size
                    self.thread.start()
                    break
                except (ValueError, RuntimeError, MemoryError):
                    if size <= _MIN_WORKER_STACK:
                        raise
                    size //= 2
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
        return bool(set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(_GuestInterrupted)))

    def _loop(self) -> None:
        _state.worker = self
        while True:
            try:
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
            except _GuestInterrupted:
                # Delivered after its job ended: nothing left to stop.
                continue

    def run(self, fn: Callable[..., Any], args: Sequence[Any],
            on_interrupt: Optional[Callable[[], None]]) -> Any:
        job = _Job(fn, args)
        self.queue.put(job)
        try:
            while not job.done.acquire(timeout=_WAIT_POLL):
                pass
        except BaseException:
            # The waiting thread was interrupted (Ctrl-C, a signal handler raising, e.g. a
            # timeout with signal.alarm): stop the guest too, so that the store is not
            # left running behind the embedder's back. First cooperatively (the store's
            # interrupt flag, seen at the guest's next epoch check), then by an
            # asynchronous exception at its next bytecode.
            if on_interrupt is not None:
                on_interrupt()
            stopped = job.done.acquire(timeout=0.2)
            if not stopped and self._interrupt():
                stopped = job.done.acquire(timeout=2.0)
            if stopped:
                _release_worker(self)
            # else: the guest could not be stopped (e.g. inside a long C call): this
            # worker is abandoned, later calls get a fresh one.
            raise
        _release_worker(self)
        if job.error is not None:
            error, job.error = job.error, None
            raise error
        return job.result


_idle_workers: List[_Worker] = []
_worker_lock = threading.Lock()


_MIN_WORKER_STACK = 16 * 1024 * 1024


def _take_worker() -> Optional[_Worker]:
    """An idle worker or a new one; None if no thread can be started at all (the call
    then runs on the calling thread, its depth clamped to that thread's stack)."""
    with _worker_lock:
        if _idle_workers:
            return _idle_workers.pop()
    try:
        return _Worker()
    except (ValueError, RuntimeError, MemoryError):
        return None


def _release_worker(worker: _Worker) -> None:
    with _worker_lock:
        _idle_workers.append(worker)


def invoke(fn: Callable[..., Any], args: Sequence[Any],
           max_depth: int = DEFAULT_MAX_CALL_DEPTH, use_thread: Optional[bool] = None,
           on_interrupt: Optional[Callable[[], None]] = None) -> Any:
    """Call the raw callable ``fn`` with raw ``args`` across the boundary (see module doc).

    Returns the raw result (None, a value, or a tuple). ``use_thread`` overrides the
    per-interpreter default (NEEDS_WORKER_THREAD). ``on_interrupt`` is called if the
    calling thread is interrupted while the guest runs on a worker thread (the store's
    cooperative stop).
    """
    if getattr(_state, "active", False):
        return _reentered(fn, args)
    if use_thread is None:
        use_thread = NEEDS_WORKER_THREAD and not (
            max_depth <= SAFE_INLINE_DEPTH
            and threading.current_thread() is threading.main_thread())
    if use_thread and getattr(_state, "worker", None) is None:
        worker = _take_worker()
        if worker is not None:
            return worker.run(_outermost, (fn, args, max_depth), on_interrupt)
    return _outermost(fn, args, max_depth)


def in_guest() -> bool:
    """True while Wasm code runs on this thread (i.e. inside :func:`invoke`)."""
    return bool(getattr(_state, "active", False))
