"""The ``spectest`` host module the official test scripts import (the spec interpreter's
``host/spectest.ml``): print functions, four immutable globals, a table and a memory."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, TextIO

from purewasm.runtime import FuncInstance, GlobalInstance, Store, f32_value
from purewasm.syntax import FuncType, GlobalType, Limits, MemoryType, TableType


def _printer(out: Optional[TextIO], name: str) -> Callable[..., None]:
    def host_print(*args: Any) -> None:
        if out is not None:
            out.write("%s(%s)\n" % (name, ", ".join(repr(a) for a in args)))
    return host_print


def make_spectest(store: Store, out: Optional[TextIO] = None) -> Dict[str, Any]:
    """The exports of a fresh ``spectest`` instance: name -> runtime extern instance."""
    exports: Dict[str, Any] = {}
    for name, params in (("print", ()), ("print_i32", ("i32",)), ("print_i64", ("i64",)),
                         ("print_f32", ("f32",)), ("print_f64", ("f64",)),
                         ("print_i32_f32", ("i32", "f32")),
                         ("print_f64_f64", ("f64", "f64"))):
        exports[name] = FuncInstance(FuncType(params, ()), _printer(out, name),
                                     "spectest::" + name)
    exports["global_i32"] = GlobalInstance(GlobalType("i32", False), 666)
    exports["global_i64"] = GlobalInstance(GlobalType("i64", False), 666)
    exports["global_f32"] = GlobalInstance(GlobalType("f32", False), f32_value(666.6))
    exports["global_f64"] = GlobalInstance(GlobalType("f64", False), 666.6)
    exports["table"] = store.new_table(TableType("funcref", Limits(10, 20)), None)
    # Wasm 3.0's spectest also has a 64-bit table (table64).
    exports["table64"] = store.new_table(TableType("funcref", Limits(10, 20), "i64"), None)
    exports["memory"] = store.new_memory(MemoryType(Limits(1, 2)))
    return exports
