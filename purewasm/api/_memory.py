"""Linear memory."""
from __future__ import annotations

from typing import Any, Optional, Union

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import WasmtimeError

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
            raise TypeError("expected a MemoryType")
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
        return MemoryType._from(syntax.MemoryType(syntax.Limits(inst.min, inst.max), inst.shared))

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
        """An indexable view of the memory (``ptr[i]``, ``ptr[i] = b``, slices): stands in
        for wasmtime-py's raw pointer; it holds no buffer, so memory.grow stays possible."""
        return _MemoryPointer(self._inst.data)

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


register_extern(rt.MemoryInstance, Memory._wrap)


class _MemoryPointer:
    """Index access to a memory's bytes (see Memory.data_ptr)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytearray) -> None:
        self._data = data

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, int) and index < 0:
            raise IndexError("negative index into linear memory")
        return self._data[index]

    def __setitem__(self, index: int, value: int) -> None:
        if not isinstance(index, int) or index < 0:
            raise IndexError("only non-negative integer indexes can be written")
        self._data[index] = value
