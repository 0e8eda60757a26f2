"""Functions: Func (a Wasm export or a host function), Caller, and the store-independent
host function definitions that Func and Linker materialise per store."""
from __future__ import annotations

from typing import Any, Callable, Optional

from purewasm import runtime as rt
from purewasm import syntax
from purewasm.errors import ArgumentTypeError, Trap, TrapCode, WasmtimeError
from purewasm.runtime.call import HostError, host_recursion_error

from ._extern import Extern, register_extern, wrap_extern
from ._store import Store, Storelike, rt_store
from ._types import FuncType
from ._value import FROM_RAW, RESULT_TO_RAW, TO_RAW, funcref_to_raw


class Func(Extern):
    """A function: a Wasm export or a host function made from a Python callable.

    Args:
        store: the store owning the function.
        ty: its signature.
        func: the Python callable; it receives the parameters as API values (after a
            :class:`Caller` when ``access_caller``) and returns None, one value, or a
            sequence of values for several results.
        access_caller: pass the calling instance's :class:`Caller` as first argument.

    Raises:
        TypeError: when ``ty`` is not a FuncType or ``store`` not a Store/Caller.
    """

    __slots__ = ()

    def __init__(self, store: Storelike, ty: FuncType, func: Callable[..., Any],
                 access_caller: bool = False) -> None:
        if not isinstance(ty, FuncType):
            raise ArgumentTypeError("expected a FuncType")
        rts = rt_store(store)
        hd = HostDefinition(ty._ft, func, access_caller, getattr(func, "__name__", "host"))
        self._inst = hd.make_instance(rts)

    @classmethod
    def _wrap(cls, inst: rt.FuncInstance) -> "Func":
        obj = cls.__new__(cls)
        obj._inst = inst
        return obj

    def type(self, store: Storelike) -> FuncType:
        """The function's signature."""
        return FuncType._from(self._inst.type)

    def __call__(self, store: Storelike, *params: Any) -> Any:
        """Call the function with API values; returns None, the result, or a list of
        results.

        Raises:
            TypeError: when ``store`` is not a Store or Caller (e.g. forgotten: ``f(1)``).
            ValueError: when the store has been closed.
            WasmtimeError: for a wrong number of parameters or a function of another store.
            TypeError: for a parameter that does not convert to its type.
            Trap: when the guest traps (ExitTrap when a WASI program exits).
            Any exception a host function raised, unchanged.
        """
        if not isinstance(store, (Store, Caller)):
            raise ArgumentTypeError("expected a Store or Caller as the first argument, got %r"
                                    % (store,))
        inst = self._inst
        ft = inst.type
        if len(params) != len(ft.params):
            raise WasmtimeError("too %s parameters provided: given %s, expected %s" % (
                "many" if len(params) > len(ft.params) else "few", len(params),
                len(ft.params)))
        raw = [TO_RAW[t](p) for t, p in zip(ft.params, params)]
        owner = inst.module
        if owner is not None and owner.store is not None:
            rts = owner.store
            if store._rt is None:
                raise ValueError("this store has been closed")
        else:
            rts = rt_store(store)
        if "funcref" in ft.params:
            for t, r in zip(ft.params, raw):
                if t == "funcref":
                    rts.check_owned(r, "funcref argument")
        result = rts.invoke(inst, raw)
        results = ft.results
        if not results:
            return None
        if len(results) == 1:
            return FROM_RAW[results[0]](result)
        return [FROM_RAW[t](r) for t, r in zip(results, result)]

    def __repr__(self) -> str:
        return "<Func %s %s>" % (self._inst.name, self._inst.type)


register_extern(rt.FuncInstance, Func._wrap)


class Caller:
    """The calling instance, given to host functions defined with ``access_caller=True``;
    usable as the store argument of API calls, and valid only during that call.
    """

    def __init__(self, instance: Optional[rt.ModuleInstance], rts: rt.Store) -> None:
        self._instance = instance
        self._rt = rts

    def __getitem__(self, name: str) -> Any:
        """The calling instance's export ``name``.

        Raises:
            KeyError: when there is no such export (or the call has returned).
        """
        ret = self.get(name)
        if ret is None:
            raise KeyError("failed to find export {}".format(name))
        return ret

    def get(self, name: str) -> Optional[Any]:
        """The calling instance's export ``name`` (Func, Memory, Table, Global), or None."""
        if self._instance is None:
            return None
        item = self._instance.exports.get(name)
        return None if item is None else wrap_extern(item)

    def data(self) -> Any:
        """The store's data object (see :meth:`Store.data`)."""
        return self._rt.data

    def _invalidate(self) -> None:
        # As wasmtime-py: a Caller kept past its call no longer reaches the instance.
        self._instance = None


class HostDefinition:
    """A host function independent of any store (Linker.define_func, Func): materialised as
    one FuncInstance per store, and bound per importing instance when it wants a Caller."""

    def __init__(self, functype: syntax.FuncType, func: Callable[..., Any],
                 access_caller: bool, name: str) -> None:
        self.functype = syntax.FuncType(tuple(functype.params), tuple(functype.results))
        self.func = func
        self.access_caller = access_caller
        self.name = name

    def instance(self, rts: rt.Store) -> rt.FuncInstance:
        """The function in store ``rts`` (one per store: a Linker may serve many stores)."""
        inst = rts.host_cache.get(self)
        if inst is None:
            inst = rts.host_cache[self] = self.make_instance(rts)
        return inst

    def make_instance(self, rts: rt.Store) -> rt.FuncInstance:
        """A new FuncInstance of this function in store ``rts``."""
        inst = rt.FuncInstance(self.functype, None, self.name, None, None, self, rts)
        inst.fn = self.trampoline(rts, None)
        return inst

    def trampoline(self, rts: rt.Store,
                   bound: Optional[rt.ModuleInstance]) -> Callable[..., Any]:
        """The raw callable: raw args in, raw result out, host exceptions wrapped."""
        func = self.func
        pconv = [FROM_RAW[t] for t in self.functype.params]
        rtypes = self.functype.results
        rconv = [RESULT_TO_RAW[t] if t != "funcref" else _owned_funcref(rts)
                 for t in rtypes]
        nres = len(rconv)
        access_caller = self.access_caller
        all_plain = all(t in ("f32", "f64", "externref", "v128") for t in self.functype.params)

        def host_call(*args: Any) -> Any:
            try:
                if all_plain:
                    pyargs = list(args)
                else:
                    pyargs = [c(a) for c, a in zip(pconv, args)]
                if access_caller:
                    caller = Caller(bound if bound is not None else rts.current_instance(), rts)
                    try:
                        result = func(caller, *pyargs)
                    finally:
                        caller._invalidate()
                else:
                    result = func(*pyargs)
                if nres == 0:
                    if result is not None:
                        raise WasmtimeError("callback produced results when it shouldn't")
                    return None
                if nres == 1:
                    return rconv[0](result)
                result = list(result)
                if len(result) != nres:
                    raise WasmtimeError("callback produced wrong number of results")
                return tuple(c(r) for c, r in zip(rconv, result))
            except (WasmtimeError, Trap):
                # Traps (and ExitTrap) unwind the guest as traps.
                raise
            except RecursionError as exc:
                # The Wasm stack running out at this host call is a trap; the host code's
                # own runaway recursion is the host's error, for the embedder.
                if host_recursion_error(exc):
                    raise HostError(exc) from None
                # Decided here, once: outer levels see a trap, not a RecursionError.
                raise Trap(TrapCode.STACK_OVERFLOW) from None
            except BaseException as exc:  # noqa: BLE001 - carried to the embedder untouched
                raise HostError(exc) from None

        host_call.__name__ = "host_" + "".join(c if c.isalnum() else "_" for c in self.name)
        return host_call


def _owned_funcref(rts: rt.Store) -> Callable[[Any], Any]:
    def convert(val: Any) -> Any:
        raw = funcref_to_raw(val)
        rts.check_owned(raw, "funcref result")
        return raw
    return convert


class RawHost:
    """A store-independent host function on raw values (no conversion)."""

    def __init__(self, functype: syntax.FuncType, fn: Optional[Callable[..., Any]], name: str,
                 factory: Optional[Callable[..., Callable[..., Any]]] = None) -> None:
        self.functype = syntax.FuncType(tuple(functype.params), tuple(functype.results))
        self.fn = fn
        self.name = name
        # define_raw_caller_func: factory(rts, instance or None) -> raw callable
        self.factory = factory

    def instance(self, rts: rt.Store) -> rt.FuncInstance:
        """The function in store ``rts`` (one per store)."""
        inst = rts.host_cache.get(self)
        if inst is None:
            fn = self.fn if self.factory is None else self.factory(rts, None)
            inst = rt.FuncInstance(self.functype, fn, self.name, None, None, self, rts)
            rts.host_cache[self] = inst
        return inst
