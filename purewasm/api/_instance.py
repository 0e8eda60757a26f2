"""Instances of modules and their exports."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, \
    Union

from purewasm import _repr
from purewasm import runtime as rt
from purewasm.errors import ArgumentTypeError

from ._extern import extern_instance, wrap_extern
from ._func import Func, HostDefinition, RawHost
from ._globals import Global
from ._memory import Memory
from ._module import Module
from ._store import Storelike, rt_store
from ._table import Table
from ._tag import Tag

AsExtern = Union[Func, Table, Memory, Global, Tag]


def _caller_bindings(externs: Sequence[Any], rts: rt.Store
                     ) -> Callable[[rt.ModuleInstance], Dict[int, Callable[..., Any]]]:
    """import_calls for host functions that take a Caller: bound to the new instance."""
    def factory(inst: rt.ModuleInstance) -> Dict[int, Callable[..., Any]]:
        calls: Dict[int, Callable[..., Any]] = {}
        index = 0
        for ext in externs:
            if isinstance(ext, rt.FuncInstance):
                host = ext.host
                if isinstance(host, HostDefinition) and host.access_caller:
                    calls[index] = host.trampoline(rts, inst)
                elif isinstance(host, RawHost) and host.factory is not None:
                    calls[index] = host.factory(rts, inst)
                index += 1
        return calls
    return factory


def instantiate(store: Storelike, module: Module, externs: List[Any]) -> rt.ModuleInstance:
    """Instantiate ``module`` in ``store`` with the runtime instances ``externs``."""
    rts = rt_store(store)
    return rt.instantiate(rts, module._module, externs, module._get_compiled(),
                          import_calls=_caller_bindings(externs, rts))


class Instance:
    """An instance of a module: its start function has run, its exports are reachable.

    Args:
        store: the store the instance lives in.
        module: the module to instantiate.
        imports: one extern (Func, Memory, Table, Global) per import, in order.

    Raises:
        TypeError: when ``module`` is not a Module or an import not an extern.
        LinkError (WasmtimeError): for imports that do not match the module's.
        Trap: when the start function or a segment initialisation traps.
        InstantiationError (WasmtimeError): past the store's limits.
    """

    def __init__(self, store: Storelike, module: Module, imports: Sequence[Any]) -> None:
        if not isinstance(module, Module):
            raise ArgumentTypeError("expected a Module")
        externs = [extern_instance(x) for x in imports]
        self._inst = instantiate(store, module, externs)
        self._exports: Optional[InstanceExports] = None

    @classmethod
    def _wrap(cls, inst: rt.ModuleInstance) -> "Instance":
        obj = cls.__new__(cls)
        obj._inst = inst
        obj._exports = None
        return obj

    def __repr__(self) -> str:
        """The instance's exports (purewasm._repr)."""
        return _repr.instance_repr(self._inst)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: a table of exports."""
        return _repr.instance_html(self._inst)

    def exports(self, store: Storelike) -> "InstanceExports":
        """The instance's exports, by name or by position."""
        if self._exports is None:
            self._exports = InstanceExports(self._inst)
        return self._exports


class InstanceExports(Mapping[str, AsExtern]):
    """The exports of an instance, by name (``exports["f"]``) or position (``by_index``)."""

    def __init__(self, inst: rt.ModuleInstance) -> None:
        self._extern_map: Dict[str, AsExtern] = {}
        seq = []
        for name, item in inst.export_list:
            ext = wrap_extern(item)
            self._extern_map[name] = ext
            seq.append(ext)
        self._extern_seq: Tuple[AsExtern, ...] = tuple(seq)

    @property
    def by_index(self) -> Sequence[AsExtern]:
        """The exports in the module's order."""
        return self._extern_seq

    def __getitem__(self, idx: Union[str, int]) -> AsExtern:
        """The export named ``idx`` (str) or at position ``idx`` (int).

        Raises:
            KeyError / IndexError: when there is none.
        """
        if isinstance(idx, int):
            return self._extern_seq[idx]
        return self._extern_map[idx]

    def __len__(self) -> int:
        return len(self._extern_seq)

    def __iter__(self) -> Iterator[str]:
        return iter(self._extern_map)
