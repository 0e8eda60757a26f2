"""The public embedding API, with the names and call shapes of wasmtime-py's core API.

Code written for wasmtime-py (core API) runs after ``import purewasm as wasmtime``. Each
facade object wraps a runtime object (``_inst``); the runtime objects are the real state
(docs/INTERNALS.md). One private module per concept, imported here in layer order (each
imports only those above it): types, externs' base, values, config, store, module,
functions, memory, table, globals, tags, instances, linker.

Besides ``__all__``, the type aliases ``Storelike``, ``AsExtern``, ``AsExternType`` and the
base class ``Extern`` are importable from here for type hints.
"""
from ._types import AsExternType, ExportType, FuncType, GlobalType, ImportType, Limits, \
    MemoryType, TableType, TagType, ValType
from ._extern import Extern
from ._value import Val
from ._config import Config, Engine
from ._store import Store, Storelike
from ._module import Module, wat2wasm
from ._func import Caller, Func
from ._memory import Memory, SharedMemory
from ._table import Table
from ._globals import Global
from ._tag import Tag
from ._instance import AsExtern, Instance, InstanceExports
from ._linker import InstancePre, Linker

__all__ = [
    "Config", "Engine", "Store", "Module", "Instance", "InstanceExports", "Linker", "Func",
    "Caller", "FuncType", "ValType", "Val", "Memory", "MemoryType", "Limits", "Table",
    "TableType", "Global", "GlobalType", "ImportType", "ExportType", "wat2wasm",
    "InstancePre", "SharedMemory", "Tag", "TagType",
]
# For type hints (module docstring); not part of ``from purewasm.api import *``.
_TYPE_HINT_NAMES = (Storelike, AsExtern, AsExternType, Extern)
