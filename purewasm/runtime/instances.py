"""Store objects (spec exec/runtime.rst, "Store"): function, table, memory, global and module
instances, with exactly the attributes docs/INTERNALS.md promises the compiler.

There is no separate store table of addresses: a Python reference to an instance object *is*
its address, and the garbage collector frees what nothing refers to.
"""
from __future__ import annotations

import mmap
import sys
from typing import Any, Callable, Dict, List, Optional, Union

from purewasm.syntax import FuncType, GlobalType, Limits, MemoryType, Module, TableType

from purewasm.errors import InstantiationError

from .values import type_id

PAGE_SIZE = 65536
# Spec 2.5.x / validation: a 32-bit memory has at most 2^16 pages (4 GiB), a 64-bit one
# (Wasm 3.0 memory64) 2^48 (the store's limits stop growth long before).
MAX_PAGES = 65536
MAX_PAGES_64 = 1 << 48
# What purewasm gives a 32-bit memory at run time: one page less than the type allows
# (growth may fail, spec exec/modules.rst growmem; docs/DECISIONS.md "No 4 GiB 32-bit
# memory"). Then an address just accessed plus a small constant cannot reach 2**32, so
# the translator adds constants to such pointers without reducing (compile/ranges.py).
MAX_PAGES_32_RUNTIME = MAX_PAGES - 1
# A table's size is bounded by its address type: 2^32-1 (i32) or 2^64-1 (table64).
MAX_TABLE_32 = 0xFFFFFFFF
MAX_TABLE_64 = (1 << 64) - 1


# Private anonymous memory: a shared map (mmap's default) lives in the shared-memory file
# system, whose size is bounded (64 MiB in many containers): touching a page past it kills
# the process with SIGBUS. A private map is ordinary process memory.
_PRIVATE = getattr(mmap, "MAP_PRIVATE", 0)


def _lazy_memory_supported() -> bool:
    """Whether linear memories can be anonymous memory maps: zero-filled by the OS page by
    page as the guest touches them, so a memory costs what the guest uses, not what it
    declares (a bytearray of 1 GiB is zero-filled at once: ~2 s and 1 GiB resident).

    Only where a map grows in place (Linux's mremap; not macOS) and on CPython, where
    indexing a map is as fast as a bytearray (PyPy: about 10x slower)."""
    if sys.implementation.name != "cpython" or not _PRIVATE:
        return False
    try:
        probe = mmap.mmap(-1, PAGE_SIZE, flags=_PRIVATE)
        try:
            probe.resize(2 * PAGE_SIZE)
            return len(probe) == 2 * PAGE_SIZE and probe[PAGE_SIZE] == 0
        finally:
            probe.close()
    except (OSError, ValueError, AttributeError, SystemError):
        return False


LAZY_MEMORY = _lazy_memory_supported()
# What a linear memory's bytes are: a bytearray, or an anonymous map (LAZY_MEMORY).
MemoryData = Union[bytearray, mmap.mmap]
MEMORY_DATA_TYPES = (bytearray, mmap.mmap)
# The typed views a memory makes for generated code (MemoryInstance.make_view;
# compile/views.py uses the indexes): u32, u64, f64, native byte order.
VIEW_FORMATS = ("I", "Q", "d")


def new_memory_data(size: int) -> MemoryData:
    """Zeroed bytes for a memory of ``size`` bytes (a map cannot be empty: 0 bytes, or no
    LAZY_MEMORY, is a bytearray, and stays one when it grows)."""
    if LAZY_MEMORY and size:
        return mmap.mmap(-1, size, flags=_PRIVATE)
    return bytearray(size)
# A table's size is a u32; an implementation may refuse to grow earlier (spec exec/modules.rst,
# growtable: "may fail"), and a Python list of 2^32 entries cannot be allocated anyway.
DEFAULT_MAX_TABLE_ELEMENTS = 10_000_000


class FuncInstance:
    """A function: Wasm (``module`` set, ``fn`` set by the compiler's bind) or host.

    ``store``: the runtime Store a host function was made in (a Wasm function's store is
    ``module.store``); None for store-independent functions (e.g. the spectest module)."""

    __slots__ = ("type", "type_id", "fn", "name", "module", "index", "host", "store")

    def __init__(self, functype: FuncType, fn: Optional[Callable[..., Any]] = None,
                 name: str = "", module: Optional["ModuleInstance"] = None,
                 index: Optional[int] = None, host: Any = None, store: Any = None,
                 tid: Optional[int] = None) -> None:
        if not isinstance(functype.params, tuple) or not isinstance(functype.results, tuple):
            functype = FuncType(tuple(functype.params), tuple(functype.results))
        self.type = functype
        # ``tid``: the module's id of the type (values.module_type_ids) when it names
        # other types by index.
        self.type_id = type_id(functype) if tid is None else tid
        self.fn = fn
        self.name = name
        self.module = module      # the defining ModuleInstance (None for host functions)
        self.index = index        # index in the defining module's function index space
        self.host = host          # the embedder's callable for host functions
        self.store = store

    def owner(self) -> Any:
        """The runtime Store this function belongs to (None: any store)."""
        module = self.module
        return module.store if module is not None else self.store

    def __repr__(self) -> str:
        return "<FuncInstance %s %s>" % (self.name or "?", self.type)


class MemoryInstance:
    """A linear memory. ``data`` is never replaced: grow extends it in place.

    Growth is bounded by the declared maximum, by ``limit_bytes`` when given, and by the
    owning store's limits as they are *at each growth* (Store.set_limits may lower them
    after instantiation)."""

    __slots__ = ("data", "min", "max", "limit_bytes", "shared", "address", "store",
                 "views", "__weakref__")

    def __init__(self, memtype: MemoryType, limit_bytes: Optional[int] = None,
                 store: Any = None) -> None:
        if memtype.address != "i64" and memtype.limits.min > MAX_PAGES_32_RUNTIME:
            raise InstantiationError(
                "memory minimum size of %d pages exceeds purewasm's limit of %d pages for a "
                "32-bit memory (4 GiB minus one page)"
                % (memtype.limits.min, MAX_PAGES_32_RUNTIME))
        self.data: MemoryData = new_memory_data(memtype.limits.min * PAGE_SIZE)
        self.min = memtype.limits.min       # as declared (the API's type() reports it)
        self.max = memtype.limits.max
        self.shared = memtype.shared
        self.address = memtype.address      # "i32", or "i64" (memory64)
        self.limit_bytes = limit_bytes
        self.store = store
        # Typed memoryviews of ``data`` in VIEW_FORMATS order, made on first use
        # (make_view) by loops of generated code (compile/views.py); the list is never
        # replaced (generated code reads it), its entries are released at every growth.
        self.views: List[Optional[memoryview]] = [None] * len(VIEW_FORMATS)

    def make_view(self, k: int) -> memoryview:
        """The typed view ``VIEW_FORMATS[k]`` of ``data``, made now if needed."""
        view = self.views[k]
        if view is None:
            with memoryview(self.data) as raw:
                # The untyped view is released at once: the cast alone pins the bytes.
                view = self.views[k] = raw.cast(VIEW_FORMATS[k])  # type: ignore[call-overload]
        return view

    def _release_views(self) -> None:
        """An exported view pins the bytes (a resize raises BufferError): released before
        growing; generated code fetches the views again at each loop entry."""
        views = self.views
        for k, view in enumerate(views):
            if view is not None:
                views[k] = None
                view.release()

    @property
    def pages(self) -> int:
        return len(self.data) // PAGE_SIZE

    @property
    def type(self) -> MemoryType:
        """The current type: the minimum is the current size (spec exec/runtime.rst)."""
        return MemoryType(Limits(self.pages, self.max), self.shared, self.address)

    def grow(self, delta_pages: int) -> int:
        """memory.grow (spec exec/modules.rst, growmem): old size in pages, or -1."""
        old = len(self.data) // PAGE_SIZE
        new = old + delta_pages
        bound = MAX_PAGES_64 if self.address == "i64" else MAX_PAGES_32_RUNTIME
        limit = bound if self.max is None else min(self.max, bound)
        if delta_pages < 0 or new > limit:
            return -1
        if self.limit_bytes is not None and new * PAGE_SIZE > self.limit_bytes:
            return -1
        store = self.store
        if store is not None and not store.memory_growth_allowed(new * PAGE_SIZE):
            return -1
        if delta_pages:
            data = self.data
            self._release_views()
            try:
                if isinstance(data, bytearray):
                    data.extend(bytes(delta_pages * PAGE_SIZE))
                else:
                    data.resize(new * PAGE_SIZE)   # in place; new pages read as zeros
            except (MemoryError, BufferError, OSError, ValueError):
                # Growing may fail for want of resources (the spec allows it): report -1.
                # BufferError: a live memoryview pins the bytes.
                return -1
        return old


class TableElements(list):
    """A table's element list (generated code indexes it directly), which also keeps the
    call_indirect caches of the table: per expected type id, a dict from element index to
    the callable already checked for that type (compile/ops_control.py,
    support.call_target). Every way a list can change clears them, so a cache never
    outlives what it was checked against; the dicts themselves are never replaced
    (namespaces hold them)."""

    __slots__ = ("call_caches",)

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self.call_caches: Dict[int, Dict[int, Callable[..., Any]]] = {}

    def call_cache(self, type_id: int) -> Dict[int, Callable[..., Any]]:
        """The cache of callees checked against ``type_id`` (made on first use)."""
        cache = self.call_caches.get(type_id)
        if cache is None:
            cache = self.call_caches[type_id] = {}
        return cache

    def _changed(self) -> None:
        for cache in self.call_caches.values():
            cache.clear()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, other: Any) -> "TableElements":  # type: ignore[misc]  # as list's (typeshed)
        super().__iadd__(other)
        self._changed()
        return self

    def __imul__(self, n: Any) -> "TableElements":  # type: ignore[misc]  # as list's (typeshed)
        super().__imul__(n)
        self._changed()
        return self

    def append(self, value: Any) -> None:
        super().append(value)
        self._changed()

    def extend(self, values: Any) -> None:
        super().extend(values)
        self._changed()

    def insert(self, index: Any, value: Any) -> None:
        super().insert(index, value)
        self._changed()

    def pop(self, index: Any = -1) -> Any:
        value = super().pop(index)
        self._changed()
        return value

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()


class TableInstance:
    """A table. ``elements`` is never replaced: grow extends it in place. Growth is
    bounded like a memory's (declared max, ``limit``, the store's limits at each growth)."""

    __slots__ = ("elements", "min", "max", "element_type", "limit", "address", "store", "types",
                 "__weakref__")

    def __init__(self, tabletype: TableType, init: Any = None,
                 limit: Optional[int] = None, store: Any = None) -> None:
        self.limit = DEFAULT_MAX_TABLE_ELEMENTS if limit is None else limit
        if tabletype.limits.min > self.limit:
            # Checked before allocating: a list of 10^8 entries is 800 MB.
            raise InstantiationError("table minimum size of %d elements exceeds the limit "
                                     "of %d" % (tabletype.limits.min, self.limit))
        self.elements: TableElements = TableElements([init] * tabletype.limits.min)
        self.min = tabletype.limits.min     # as declared
        self.max = tabletype.limits.max
        self.element_type = tabletype.element
        self.address = tabletype.address    # "i32", or "i64" (table64)
        self.store = store
        # The types the element type's type indices refer to (its module's: a list of
        # FuncType or a validate.matching.TypeSpace), for import matching across modules.
        self.types: Any = ()

    @property
    def type(self) -> TableType:
        return TableType(self.element_type, Limits(len(self.elements), self.max),
                         self.address)

    def grow(self, delta: int, init: Any = None) -> int:
        """table.grow (spec exec/modules.rst, growtable): old size, or -1."""
        old = len(self.elements)
        new = old + delta
        if self.max is not None:
            limit = self.max
        else:
            limit = MAX_TABLE_64 if self.address == "i64" else MAX_TABLE_32
        if delta < 0 or new > limit or new > self.limit:
            return -1
        store = self.store
        if store is not None and not store.table_growth_allowed(new):
            return -1
        if delta:
            try:
                self.elements.extend([init] * delta)
            except MemoryError:
                return -1
        return old


class GlobalInstance:
    __slots__ = ("value", "type", "store", "types", "__weakref__")

    def __init__(self, globaltype: GlobalType, value: Any, store: Any = None) -> None:
        self.type = globaltype
        self.value = value
        self.store = store
        self.types: Any = ()     # as TableInstance.types


class TagInstance:
    """A tag (exception handling): its identity is the tag's (a catch clause matches an
    exception whose tag *is* this object; an imported tag is the exporter's object).
    ``type`` is the payload's function type (no results)."""

    __slots__ = ("type", "store", "__weakref__")

    def __init__(self, functype: FuncType, store: Any = None) -> None:
        self.type = functype
        self.store = store

    def __repr__(self) -> str:
        return "<TagInstance %s>" % (self.type,)


class ModuleInstance:
    """An instantiated module: its index spaces (imports first, then definitions)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.funcs: List[FuncInstance] = []
        self.tables: List[TableInstance] = []
        self.memories: List[MemoryInstance] = []
        self.globals: List[GlobalInstance] = []
        self.tags: List[TagInstance] = []
        self.elem_segments: List[List[Any]] = []
        self.data_segments: List[bytes] = []
        # Each type's canonical id (syntax.canon): GC values carry it.
        self.type_ids: List[int] = []
        self.import_calls: Dict[int, Callable[..., Any]] = {}
        self.exports: Dict[str, Any] = {}        # name -> one of the instances above
        self.export_list: List[Any] = []         # (name, instance) in module order
        self.compiled: Any = None                # the compile.CompiledModule, if any
        # Function index -> its static call depth, or None (runtime/static_depth.py).
        self.call_depths: Dict[int, Optional[int]] = {}
        self.store: Any = None                   # the runtime.Store it lives in
        # The store's cells and epoch callback, read by generated code (compile/'s
        # namespace) when the module was compiled with fuel or epoch checks.
        self.fuel_cell: List[int] = []
        self.epoch_cell: List[int] = []
        self.deadline_cell: List[int] = []
        self.tick_cell: List[int] = []
        self.epoch_hit: Optional[Callable[[], None]] = None

    def __repr__(self) -> str:
        return "<ModuleInstance %s>" % (self.module.names.module or hex(id(self)))
