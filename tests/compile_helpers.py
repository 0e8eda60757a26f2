"""Helpers for the compiler's tests (no tests here): a module built with purewasm's own
``wat2wasm``, instantiated by the real runtime and called through the real call boundary,
with one lowering forced if asked.

``mode``: None (the translator chooses per function), "flat", "structured", or "metered"
(fuel and epoch checks compiled in, with fuel and deadline that never run out).
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Dict, List, Optional, Tuple

from purewasm import runtime as rt
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.syntax import FUNC, Module
from purewasm.text import wat2wasm

__all__ = ["Instance", "instance", "wat2wasm", "compiled_for"]


def compiled_for(module: Module, mode: Optional[str] = None) -> CompiledModule:
    """The CompiledModule for ``mode`` (see module doc)."""
    if mode == "metered":
        return CompiledModule(module, None, fuel=True, epoch=True)
    return CompiledModule(module, mode)


class Instance:
    """A runtime ModuleInstance and its store, with short names for the tests.

    ``imports`` maps "module.name" to a runtime extern (FuncInstance, MemoryInstance,
    TableInstance, GlobalInstance) or, for a function, a plain Python callable on raw
    values."""

    def __init__(self, module: Module, imports: Optional[Dict[str, Any]] = None,
                 mode: Optional[str] = None, compiled: Optional[CompiledModule] = None,
                 store: Optional[rt.Store] = None) -> None:
        imports = imports or {}
        self.module = module
        self.store = store if store is not None else rt.Store()
        if mode == "metered":
            self.store.fuel_cell[0] = 1 << 62
            self.store.deadline_cell[0] = 1 << 62
        externs: List[Any] = []
        for imp in module.imports:
            ext = imports["%s.%s" % (imp.module, imp.name)]
            if imp.kind == FUNC and not isinstance(ext, rt.FuncInstance):
                ext = rt.FuncInstance(module.types[imp.desc], ext, imp.name)
            externs.append(ext)
        self.compiled = compiled if compiled is not None else compiled_for(module, mode)
        self.inst = rt.instantiate(self.store, module, externs, self.compiled)

    @property
    def funcs(self) -> List[rt.FuncInstance]:
        return self.inst.funcs

    @property
    def memories(self) -> List[rt.MemoryInstance]:
        return self.inst.memories

    @property
    def tables(self) -> List[rt.TableInstance]:
        return self.inst.tables

    @property
    def globals(self) -> List[rt.GlobalInstance]:
        return self.inst.globals

    @property
    def exports(self) -> Dict[str, Any]:
        return self.inst.exports

    def func(self, name: str) -> Callable[..., Any]:
        """Export ``name`` as a Python callable on raw values, called through the runtime's
        call boundary (traps mapped, depth bounded) as the API does."""
        finst = self.inst.exports[name]

        def call(*args: Any) -> Any:
            return self.store.invoke(finst, args)
        return call

    def memory(self, i: int = 0) -> Any:
        return self.inst.memories[i].data


def instance(text: str, imports: Optional[Dict[str, Any]] = None,
             mode: Optional[str] = None) -> Instance:
    """``text`` (WAT) assembled by purewasm's own wat2wasm and instantiated."""
    return Instance(decode_module(wat2wasm(text)), imports, mode)


def run_plan(text: str, plan: List[Tuple[str, List[Any]]]) -> List[Any]:
    """Each call of ``plan`` ((export, arguments)) on one instance of ``text``: its result
    or ``"trap: <reason>"``, then the SHA-256 of memory 0 at the end (the random loop
    tests compare these between two ways of compiling the same module)."""
    from purewasm.errors import Trap

    inst = instance(text)
    out: List[Any] = []
    for name, args in plan:
        try:
            out.append(inst.func(name)(*args))
        except Trap as trap:
            out.append("trap: %s" % trap.reason)
    out.append(hashlib.sha256(bytes(inst.memories[0].data)).hexdigest())
    return out
