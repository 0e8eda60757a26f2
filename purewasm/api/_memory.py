"""Linear memory."""
from __future__ import annotations

import struct
from typing import Any, Callable, Optional, Tuple, Union

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import ArgumentTypeError, WasmtimeError

from ._config import Engine
from ._extern import Extern, register_extern
from ._store import Storelike, rt_store
from ._types import MemoryType


class Memory(Extern):
    """A linear memory: a Wasm export, or a new one made for a store (e.g. to import).

    Its bytes are a ``bytearray`` owned by the runtime; :meth:`read`/:meth:`write` copy,
    :meth:`data_ptr` indexes in place.

    Args:
        store: the store owning the memory.
        ty: its type.

    Raises:
        TypeError: when ``ty`` is not a MemoryType or ``store`` not a Store/Caller.
        InstantiationError (WasmtimeError): past the store's limits.
    """

    __slots__ = ()

    def __init__(self, store: Storelike, ty: MemoryType) -> None:
        if not isinstance(ty, MemoryType):
            raise ArgumentTypeError("expected a MemoryType")
        self._inst = rt_store(store).new_memory(ty._mt)

    @classmethod
    def _wrap(cls, inst: rt.MemoryInstance) -> "Memory":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Storelike) -> MemoryType:
        """The memory's declared type (limits as declared, not its current size)."""
        # As wasmtime: the declared type (import matching uses the current size instead).
        inst = self._inst
        return MemoryType._from(syntax.MemoryType(syntax.Limits(inst.min, inst.max), inst.shared,
                                                  inst.address))

    def grow(self, store: Storelike, delta: int) -> int:
        """Grow by ``delta`` pages; returns the previous size in pages.

        Raises:
            WasmtimeError: for a negative delta, or when the memory cannot grow (its
                maximum, the store's limits, or a live buffer export).
        """
        if delta < 0:
            raise WasmtimeError("cannot grow by negative amount")
        old = self._inst.grow(delta)
        if old < 0:
            raise WasmtimeError("failed to grow memory by `%d`" % delta)
        return old

    def size(self, store: Storelike) -> int:
        """The current size in pages."""
        return self._inst.pages

    def data_len(self, store: Storelike) -> int:
        """The current size in bytes."""
        return len(self._inst.data)

    def page_size(self, store: Storelike) -> int:
        """The page size in bytes (65,536)."""
        return rt.PAGE_SIZE

    def page_size_log2(self, store: Storelike) -> int:
        """log2 of the page size (16)."""
        return 16

    def data_ptr(self, store: Storelike) -> "_MemoryPointer":
        """An indexable view of the memory, standing in for wasmtime-py's raw pointer:
        ``ptr[i]``, ``ptr[a:b]`` read; ``ptr[i] = byte`` and ``ptr[a:b] = data`` (same
        length: the memory's size never changes) write in place. It holds no buffer, so
        memory.grow stays possible while it is alive. For zero-copy bulk access see
        :meth:`buffer`."""
        return _MemoryPointer(self._inst.data)

    def buffer(self, store: Storelike) -> memoryview:
        """purewasm extension: a zero-copy ``memoryview`` of the memory's bytes (readable
        and writable; e.g. ``struct.unpack_from``, ``numpy.frombuffer``, slice assignment).
        While a view is alive the memory cannot grow (``memory.grow`` returns -1, and
        :meth:`grow` raises): release it before running code that may grow the memory,
        best with ``with memory.buffer(store) as view: ...``."""
        return memoryview(self._inst.data)

    def get_buffer_ptr(self, store: Storelike, size: Optional[int] = None,
                       offset: int = 0) -> Any:
        """A zero-copy ctypes array over the memory (e.g. for numpy). While it is alive the
        memory cannot grow (memory.grow returns -1): drop it before running Wasm code."""
        import ctypes   # only for this method
        data = self._inst.data
        if size is None:
            size = len(data) - offset
        return (ctypes.c_ubyte * size).from_buffer(data, offset)

    def read(self, store: Storelike, start: Optional[int] = 0,
             stop: Optional[int] = None) -> bytearray:
        """A copy of ``memory[start:stop]`` (slice semantics, as wasmtime-py)."""
        data = self._inst.data
        begin, end, _ = slice(start, stop, None).indices(len(data))
        if end <= begin:
            return bytearray(0)
        return bytearray(data[begin:end])

    def write(self, store: Storelike, value: Union[bytearray, bytes],
              start: Optional[int] = None) -> int:
        """Write ``value`` at ``start`` (negative: from the end); returns the bytes written.

        Raises:
            IndexError: when the write would not fit in the memory.
        """
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

    # --- strings and byte strings (purewasm extensions) -------------------------------

    def _span(self, ptr: int, length: int) -> Tuple[int, int]:
        size = len(self._inst.data)
        if not isinstance(ptr, int) or not isinstance(length, int):
            raise ArgumentTypeError("pointer and length must be ints")
        if ptr < 0 or length < 0 or ptr + length > size:
            raise IndexError("bytes %d..%d are out of bounds of a memory of %d bytes"
                             % (ptr, ptr + length, size))
        return ptr, ptr + length

    def read_bytes(self, store: Storelike, ptr: int, length: int) -> bytes:
        """purewasm extension: a copy of the ``length`` bytes at ``ptr``.

        Raises:
            IndexError: when they are not all inside the memory.
        """
        begin, end = self._span(ptr, length)
        return bytes(self._inst.data[begin:end])

    def read_str(self, store: Storelike, ptr: int, length: Optional[int] = None,
                 encoding: str = "utf-8", errors: str = "strict",
                 max_length: Optional[int] = None) -> str:
        """purewasm extension: the string at ``ptr``: ``length`` bytes, or (``length``
        None) up to its NUL terminator, as C strings are (looked for within
        ``max_length`` bytes when given).

        Raises:
            IndexError: when the bytes are not all inside the memory.
            WasmtimeError: when no NUL terminator is found.
            UnicodeDecodeError: for bytes that are not valid ``encoding``
                (``errors="replace"`` substitutes instead).
        """
        data = self._inst.data
        if length is None:
            self._span(ptr, 0)
            limit = len(data) if max_length is None else min(len(data), ptr + max_length)
            end = data.find(b"\0", ptr, limit)
            if end < 0:
                raise WasmtimeError("no NUL terminator after address %d" % ptr)
            length = end - ptr
        begin, end = self._span(ptr, length)
        return bytes(data[begin:end]).decode(encoding, errors)

    def read_prefixed(self, store: Storelike, ptr: int, prefix_size: int = 4) -> bytes:
        """purewasm extension: a length-prefixed byte string: a little-endian unsigned
        length of ``prefix_size`` bytes (1, 2, 4 or 8) at ``ptr``, then that many bytes.

        Raises:
            IndexError: when they are not all inside the memory.
            ValueError: for another prefix size.
        """
        fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}.get(prefix_size)
        if fmt is None:
            raise ValueError("prefix_size must be 1, 2, 4 or 8")
        begin, _ = self._span(ptr, prefix_size)
        (length,) = struct.unpack_from(fmt, self._inst.data, begin)
        return self.read_bytes(store, ptr + prefix_size, length)

    def write_str(self, store: Storelike, value: Union[str, bytes, bytearray],
                  ptr: Optional[int] = None, alloc: Optional[Callable[..., Any]] = None,
                  nul: bool = False, encoding: str = "utf-8") -> Tuple[int, int]:
        """purewasm extension: write a string (encoded with ``encoding``) or bytes into the
        memory, at ``ptr`` or at the address returned by ``alloc(store, size)`` (the
        guest's allocator, e.g. its exported ``malloc``), with a NUL terminator when
        ``nul``. Returns ``(ptr, length)``: the address and the length in bytes, NUL not
        counted, ready to pass to the guest.

        Raises:
            WasmtimeError: when neither or both of ``ptr`` and ``alloc`` are given, or
                the allocator returns no address.
            IndexError: when the bytes do not fit in the memory.
        """
        data = value.encode(encoding) if isinstance(value, str) else bytes(value)
        size = len(data) + (1 if nul else 0)
        if (ptr is None) == (alloc is None):
            raise WasmtimeError("give either ptr or alloc")
        if alloc is not None:
            ptr = alloc(store, size)
            if not isinstance(ptr, int) or ptr == 0:
                raise WasmtimeError("the allocator returned %r for %d bytes" % (ptr, size))
            ptr &= 0xFFFFFFFF       # an i32 result comes back signed
        begin, end = self._span(ptr if ptr is not None else 0, size)
        self._inst.data[begin:begin + len(data)] = data
        if nul:
            self._inst.data[end - 1] = 0
        return begin, len(data)


register_extern(rt.MemoryInstance, Memory._wrap)


class SharedMemory(Extern):
    """A shared linear memory (threads proposal), made for an engine rather than a store
    and importable by instances of any of its stores.

    purewasm runs one guest instruction at a time (no atomics across threads beyond the
    GIL), so sharing between threads is only as safe as Python's bytearray operations.

    Args:
        engine: the engine.
        ty: a shared MemoryType (``MemoryType(limits, shared=True)``, with a maximum).

    Raises:
        TypeError: when ``engine`` or ``ty`` has the wrong type.
        WasmtimeError: when ``ty`` is not shared.
    """

    __slots__ = ()

    def __init__(self, engine: Engine, ty: MemoryType) -> None:
        if not isinstance(engine, Engine):
            raise ArgumentTypeError("expected an Engine")
        if not isinstance(ty, MemoryType):
            raise ArgumentTypeError("expected a MemoryType")
        if not ty.is_shared:
            raise WasmtimeError("shared memories must be created with a shared memory type")
        if ty.limits.max is None:
            raise WasmtimeError("shared memories must have a maximum size")
        self._inst = rt.MemoryInstance(ty._mt)

    def type(self) -> MemoryType:
        """The memory's declared type."""
        inst = self._inst
        return MemoryType._from(syntax.MemoryType(syntax.Limits(inst.min, inst.max), True))

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; returns the previous size in pages.

        Raises:
            TypeError: when ``delta`` is not an int.
            WasmtimeError: for a negative delta or past the maximum.
        """
        if not isinstance(delta, int):
            raise ArgumentTypeError("expected an int")
        if delta < 0:
            raise WasmtimeError("cannot grow by negative amount")
        old = self._inst.grow(delta)
        if old < 0:
            raise WasmtimeError("failed to grow memory by `%d`" % delta)
        return old

    def data_ptr(self) -> "_MemoryPointer":
        """An indexable view of the bytes (see :meth:`Memory.data_ptr`)."""
        return _MemoryPointer(self._inst.data)

    def data_len(self) -> int:
        """The current size in bytes."""
        return len(self._inst.data)


class _MemoryPointer:
    """Index access to a memory's bytes (see Memory.data_ptr)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytearray) -> None:
        self._data = data

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, int) and index < 0:
            raise IndexError("negative index into linear memory")
        return self._data[index]

    def __setitem__(self, index: Union[int, slice], value: Any) -> None:
        if isinstance(index, slice):
            if any(i is not None and i < 0 for i in (index.start, index.stop)):
                raise IndexError("negative index into linear memory")
            span = len(range(*index.indices(len(self._data))))
            if len(value) != span:
                raise ValueError("cannot write %d bytes into a slice of %d: the memory's "
                                 "size cannot change" % (len(value), span))
        elif not isinstance(index, int) or index < 0:
            raise IndexError("only non-negative integer indexes can be written")
        self._data[index] = value

    def __len__(self) -> int:
        return len(self._data)
