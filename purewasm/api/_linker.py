"""Linker: resolves a module's imports by name."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import ArgumentTypeError, LinkError, WasmtimeError
from purewasm.runtime.values import default_value

from ._config import Closeable, Engine
from ._extern import extern_instance, wrap_extern
from ._func import Func, HostDefinition, RawHost
from ._instance import AsExtern, Instance, instantiate
from ._module import Module
from ._store import Storelike, rt_store
from ._types import FuncType


def _resolve_definition(rts: rt.Store, item: Any) -> Any:
    """The runtime instance a linker definition stands for in store ``rts``."""
    if isinstance(item, (HostDefinition, RawHost)):
        return item.instance(rts)
    return item


def _check_module(module: Any) -> Module:
    if not isinstance(module, Module):
        raise ArgumentTypeError("expected a `Module`")
    return module


class InstancePre(Closeable):
    """A module with its imports resolved by a :class:`Linker` and its code compiled,
    ready to be instantiated quickly in any store of the engine (``instantiate_pre``).

    The definitions are those of the linker when ``instantiate_pre`` was called; host
    functions are made per store, other externs (memories, globals, tables, functions of
    an instance) belong to the store they were made in.
    """

    _what = "InstancePre"

    def __init__(self, module: Module, definitions: List[Any]) -> None:
        self._module = module
        self._definitions = definitions

    def _release(self) -> None:
        self._definitions = []

    def instantiate(self, store: Storelike) -> Instance:
        """A new instance in ``store``.

        Raises:
            ValueError: once closed.
            WasmtimeError: for an extern defined in another store.
            Trap: when the start function or a segment initialisation traps.
        """
        self._check_open()
        rts = rt_store(store)
        externs = [_resolve_definition(rts, item) for item in self._definitions]
        return Instance._wrap(instantiate(store, self._module, externs))


class Linker(Closeable):
    """Resolves imports by (module, name) from definitions; see wasmtime-py's Linker.

    Definitions are independent of stores where they can be (host functions): one Linker
    may instantiate into many stores.

    Args:
        engine: the engine of the modules it links.

    Raises:
        TypeError: when ``engine`` is not an Engine.
    """

    _what = "linker"

    def __init__(self, engine: Engine) -> None:
        if not isinstance(engine, Engine):
            raise ArgumentTypeError("expected an Engine")
        engine._check_open()
        self.engine = engine
        self._defs: Dict[Tuple[str, str], Any] = {}
        self._allow_shadowing = False

    @property
    def allow_shadowing(self) -> bool:
        """Whether a definition may replace an earlier one of the same name (default
        False: defining a name twice raises WasmtimeError)."""
        return self._allow_shadowing

    @allow_shadowing.setter
    def allow_shadowing(self, allow: bool) -> None:
        self._allow_shadowing = bool(allow)

    def _release(self) -> None:
        self._defs = {}

    def _insert(self, module: str, name: str, item: Any) -> None:
        self._check_open()
        if not isinstance(module, str) or not isinstance(name, str):
            raise ArgumentTypeError("module and name must be strings")
        key = (module, name)
        if key in self._defs and not self._allow_shadowing:
            raise WasmtimeError("import of `%s::%s` defined twice" % key)
        self._defs[key] = item

    def define(self, store: Storelike, module: str, name: str, item: AsExtern) -> None:
        """Define ``module::name`` as the extern ``item`` (Func, Memory, Table, Global).

        Raises:
            TypeError: for an item that is not an extern or names that are not str.
            WasmtimeError: when the name is already defined (and shadowing is off).
        """
        self._insert(module, name, extern_instance(item))

    def define_func(self, module: str, name: str, ty: FuncType, func: Callable[..., Any],
                    access_caller: bool = False) -> None:
        """Define ``module::name`` as a host function (as :class:`Func`, for any store).

        Raises:
            TypeError: when ``ty`` is not a FuncType or the names are not str.
            WasmtimeError: when the name is already defined (and shadowing is off).
        """
        if not isinstance(ty, FuncType):
            raise ArgumentTypeError("expected a FuncType")
        self._insert(module, name, HostDefinition(ty._ft, func, access_caller,
                                                  "%s::%s" % (module, name)))

    def define_raw_func(self, module: str, name: str, functype: syntax.FuncType,
                        fn: Callable[..., Any]) -> None:
        """purewasm extension: a host function taking and returning *raw* values
        (docs/INTERNALS.md) with no conversion; exceptions other than WasmtimeError /
        RecursionError must be wrapped by ``fn`` in runtime.HostError to reach the embedder
        untouched."""
        self._insert(module, name, RawHost(functype, fn, "%s::%s" % (module, name)))

    def define_raw_caller_func(self, module: str, name: str, functype: syntax.FuncType,
                               factory: Callable[[rt.Store, Optional[rt.ModuleInstance]],
                                                 Callable[..., Any]]) -> None:
        """purewasm extension: like :meth:`define_raw_func`, but the raw callable is made
        per caller by ``factory(runtime_store, instance)``: once per importing instance
        (bound through ``ModuleInstance.import_calls``) and once per store with
        ``instance`` None (calls reaching the function otherwise, e.g. through a table;
        the callable then finds its caller as ``runtime_store.current_instance()``).
        Exceptions follow the define_raw_func rule (runtime.HostError)."""
        self._insert(module, name, RawHost(functype, None, "%s::%s" % (module, name),
                                           factory))

    def define_instance(self, store: Storelike, name: str, instance: Instance) -> None:
        """Define every export of ``instance`` under the module name ``name``.

        Raises:
            TypeError: when ``instance`` is not an Instance.
            WasmtimeError: when a name is already defined (and shadowing is off).
        """
        if not isinstance(instance, Instance):
            raise ArgumentTypeError("expected an `Instance`")
        for export_name, item in instance._inst.export_list:
            self._insert(name, export_name, item)

    def define_module(self, store: Storelike, name: str, module: Module) -> None:
        """Instantiate ``module`` with this linker and define its exports under ``name``.

        Raises:
            TypeError: when ``module`` is not a Module; otherwise as :meth:`instantiate`.
        """
        self.define_instance(store, name, self.instantiate(store, _check_module(module)))

    def define_wasi(self) -> None:
        """Define the WASI preview 1 functions (``wasi_snapshot_preview1``); each store
        needs its configuration (:meth:`Store.set_wasi`)."""
        from purewasm.wasi import define_wasi   # WASI is imported by the programs using it
        define_wasi(self)

    def _resolve(self, rts: rt.Store, module: str, name: str) -> Any:
        self._check_open()
        item = self._defs.get((module, name))
        return None if item is None else _resolve_definition(rts, item)

    def _definitions(self, module: Module) -> List[Any]:
        """The definition of each import of ``module``, in order."""
        self._check_open()
        found = []
        for imp in module._module.imports:
            item = self._defs.get((imp.module, imp.name))
            if item is None:
                raise LinkError("unknown import: `%s::%s` has not been defined"
                                % (imp.module, imp.name))
            found.append(item)
        return found

    def instantiate(self, store: Storelike, module: Module) -> Instance:
        """Instantiate ``module`` with its imports taken from this linker.

        Raises:
            TypeError: when ``module`` is not a Module.
            LinkError (WasmtimeError): for an import not defined or not matching.
            Trap: when the start function or a segment initialisation traps.
        """
        rts = rt_store(store)
        externs = [_resolve_definition(rts, item)
                   for item in self._definitions(_check_module(module))]
        return Instance._wrap(instantiate(store, module, externs))

    def instantiate_pre(self, module: Module) -> InstancePre:
        """Resolve the imports of ``module`` now and compile it, for instantiating it
        later in any number of stores (:meth:`InstancePre.instantiate`).

        Raises:
            TypeError: when ``module`` is not a Module.
            LinkError (WasmtimeError): for an import not defined.
        """
        definitions = self._definitions(_check_module(module))
        module._get_compiled()
        return InstancePre(module, definitions)

    def get(self, store: Storelike, module: str, name: str) -> AsExtern:
        """The extern defined as ``module::name``.

        Raises:
            WasmtimeError: when it is not defined.
        """
        ext = self._resolve(rt_store(store), module, name)
        if ext is None:
            raise WasmtimeError("item not defined in linker")
        return wrap_extern(ext)

    def get_default(self, store: Storelike, name: str) -> Func:
        """The default function of module ``name`` (its ``""`` or ``_start`` export; a
        function doing nothing when there is none).

        Raises:
            WasmtimeError: when that export is not a function.
        """
        ext = self._resolve(rt_store(store), name, "")
        if ext is None:
            ext = self._resolve(rt_store(store), name, "_start")
        if ext is None:
            return Func(store, FuncType([], []), lambda: None)
        if not isinstance(ext, rt.FuncInstance):
            raise WasmtimeError("default export in '%s' is not a function" % name)
        return Func._wrap(ext)

    def define_unknown_imports_as_traps(self, module: Module) -> None:
        """Define each function import of ``module`` not yet defined as a function that
        traps when called.

        Raises:
            TypeError: when ``module`` is not a Module.
        """
        self._check_open()
        m = _check_module(module)._module
        for imp in m.imports:
            if imp.kind == syntax.FUNC and (imp.module, imp.name) not in self._defs:
                where = "%s::%s" % (imp.module, imp.name)

                def trap(*args: Any, _where: str = where) -> None:
                    # As wasmtime-py: an error, not a Trap (no trap code).
                    raise WasmtimeError("unknown import: `%s` has not been defined" % _where)
                self._defs[(imp.module, imp.name)] = RawHost(m.func_type(imp.type_index),
                                                             trap, where)

    def define_unknown_imports_as_default_values(self, store: Storelike, module: Module) -> None:
        """Define each function import of ``module`` not yet defined as a function
        returning zeros / null references.

        Raises:
            TypeError: when ``module`` is not a Module.
        """
        self._check_open()
        m = _check_module(module)._module
        for imp in m.imports:
            if imp.kind == syntax.FUNC and (imp.module, imp.name) not in self._defs:
                ft = m.func_type(imp.type_index)
                results = tuple(default_value(t) for t in ft.results)
                value: Any = None if not results else (
                    results[0] if len(results) == 1 else results)

                def default(*args: Any, _value: Any = value) -> Any:
                    return _value
                self._defs[(imp.module, imp.name)] = RawHost(
                    ft, default, "%s::%s" % (imp.module, imp.name))
