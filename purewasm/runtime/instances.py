"""Store objects (spec exec/runtime.rst, "Store"): function, table, memory, global and module
instances, with exactly the attributes docs/INTERNALS.md promises the compiler.

There is no separate store table of addresses: a Python reference to an instance object *is*
its address, and the garbage collector frees what nothing refers to.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from purewasm.syntax import FuncType, GlobalType, Limits, MemoryType, Module, TableType

from .values import type_id

PAGE_SIZE = 65536
# Spec 2.5.x / validation: a 32-bit memory has at most 2^16 pages (4 GiB).
MAX_PAGES = 65536
# A table's size is a u32; an implementation may refuse to grow earlier (spec exec/modules.rst,
# growtable: "may fail"), and a Python list of 2^32 entries cannot be allocated anyway.
DEFAULT_MAX_TABLE_ELEMENTS = 10_000_000


class FuncInstance:
    """A function: Wasm (``module`` set, ``fn`` set by the compiler's bind) or host."""

    __slots__ = ("type", "type_id", "fn", "name", "module", "index", "host")

    def __init__(self, functype: FuncType, fn: Optional[Callable[..., Any]] = None,
                 name: str = "", module: Optional["ModuleInstance"] = None,
                 index: Optional[int] = None, host: Any = None) -> None:
        if not isinstance(functype.params, tuple) or not isinstance(functype.results, tuple):
            functype = FuncType(tuple(functype.params), tuple(functype.results))
        self.type = functype
        self.type_id = type_id(functype)
        self.fn = fn
        self.name = name
        self.module = module      # the defining ModuleInstance (None for host functions)
        self.index = index        # index in the defining module's function index space
        self.host = host          # the embedder's callable for host functions

    def __repr__(self) -> str:
        return "<FuncInstance %s %s>" % (self.name or "?", self.type)


class MemoryInstance:
    """A linear memory. ``data`` is never replaced: grow extends it in place."""

    __slots__ = ("data", "min", "max", "limit_bytes", "shared", "__weakref__")

    def __init__(self, memtype: MemoryType, limit_bytes: Optional[int] = None) -> None:
        self.data = bytearray(memtype.limits.min * PAGE_SIZE)
        self.min = memtype.limits.min       # as declared (the API's type() reports it)
        self.max = memtype.limits.max
        self.shared = memtype.shared
        # A Store limit (Store.set_limits(memory_size=...)) on top of the declared max.
        self.limit_bytes = limit_bytes

    @property
    def pages(self) -> int:
        return len(self.data) // PAGE_SIZE

    @property
    def type(self) -> MemoryType:
        """The current type: the minimum is the current size (spec exec/runtime.rst)."""
        return MemoryType(Limits(self.pages, self.max), self.shared)

    def grow(self, delta_pages: int) -> int:
        """memory.grow (spec exec/modules.rst, growmem): old size in pages, or -1."""
        old = len(self.data) // PAGE_SIZE
        new = old + delta_pages
        limit = MAX_PAGES if self.max is None else min(self.max, MAX_PAGES)
        if delta_pages < 0 or new > limit:
            return -1
        if self.limit_bytes is not None and new * PAGE_SIZE > self.limit_bytes:
            return -1
        if delta_pages:
            try:
                self.data.extend(bytes(delta_pages * PAGE_SIZE))
            except (MemoryError, BufferError):
                # Growing may fail for want of resources (the spec allows it): report -1.
                # BufferError: a live memoryview pins the bytearray.
                return -1
        return old


class TableInstance:
    """A table. ``elements`` is never replaced: grow extends it in place."""

    __slots__ = ("elements", "min", "max", "element_type", "limit", "__weakref__")

    def __init__(self, tabletype: TableType, init: Any = None,
                 limit: Optional[int] = None) -> None:
        self.elements: List[Any] = [init] * tabletype.limits.min
        self.min = tabletype.limits.min     # as declared
        self.max = tabletype.limits.max
        self.element_type = tabletype.element
        self.limit = DEFAULT_MAX_TABLE_ELEMENTS if limit is None else limit

    @property
    def type(self) -> TableType:
        return TableType(self.element_type, Limits(len(self.elements), self.max))

    def grow(self, delta: int, init: Any = None) -> int:
        """table.grow (spec exec/modules.rst, growtable): old size, or -1."""
        old = len(self.elements)
        new = old + delta
        limit = 0xFFFFFFFF if self.max is None else self.max
        if delta < 0 or new > limit or new > self.limit:
            return -1
        if delta:
            self.elements.extend([init] * delta)
        return old


class GlobalInstance:
    __slots__ = ("value", "type", "__weakref__")

    def __init__(self, globaltype: GlobalType, value: Any) -> None:
        self.type = globaltype
        self.value = value


class ModuleInstance:
    """An instantiated module: its index spaces (imports first, then definitions)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.funcs: List[FuncInstance] = []
        self.tables: List[TableInstance] = []
        self.memories: List[MemoryInstance] = []
        self.globals: List[GlobalInstance] = []
        self.elem_segments: List[List[Any]] = []
        self.data_segments: List[bytes] = []
        self.import_calls: Dict[int, Callable[..., Any]] = {}
        self.exports: Dict[str, Any] = {}        # name -> one of the instances above
        self.export_list: List[Any] = []         # (name, instance) in module order
        self.compiled: Any = None                # the compile.CompiledModule, if any
        self.store: Any = None                   # the runtime.Store it lives in

    def __repr__(self) -> str:
        return "<ModuleInstance %s>" % (self.module.names.module or hex(id(self)))
