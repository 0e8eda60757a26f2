"""purewasm: a WebAssembly runtime in pure Python.

The public API mirrors wasmtime-py's core API: code written for it runs after
``import purewasm as wasmtime``.
"""
from purewasm.api import Caller, Config, Engine, ExportType, Func, FuncType, Global, \
    GlobalType, ImportType, Instance, InstancePre, Limits, Linker, Memory, MemoryType, Module, \
    SharedMemory, Store, Table, TableType, Tag, TagType, Val, ValType, wat2wasm
from purewasm.errors import ExitTrap, Frame, Trap, TrapCode, UnsupportedProposalError, \
    WasmException, WasmtimeError

# The one place the version is written: pyproject.toml reads it (tool.setuptools.dynamic);
# part of every compiled-code cache key.
__version__ = "0.1.0"

__all__ = [
    "Engine", "Config", "Store", "Module", "Instance", "Linker", "Func", "FuncType",
    "ValType", "Val", "Memory", "MemoryType", "Limits", "Table", "TableType", "Global",
    "GlobalType", "ImportType", "ExportType", "Caller", "Trap", "TrapCode", "WasmtimeError",
    "ExitTrap", "Frame", "wat2wasm", "WasiConfig", "DirPerms", "FilePerms", "InstancePre",
    "SharedMemory", "Tag", "TagType", "UnsupportedProposalError", "WasmException",
]


def __getattr__(name: str) -> object:
    # WASI is loaded on first use only (PEP 562): the core API does not need it.
    if name in ("WasiConfig", "DirPerms", "FilePerms"):
        from purewasm import wasi
        return getattr(wasi, name)
    raise AttributeError("module 'purewasm' has no attribute %r" % name)
