"""Readable representations for the REPL and notebooks: a Module's imports and exports,
an Instance's exports, a FuncType's signature (``repr`` and Jupyter's ``_repr_html_``).

Plain functions over duck-typed objects, so that the API classes hook them in with one
line each (``def __repr__(self): return _repr.module_repr(self)``). Types are read through
their public attributes (``params``/``results``, ``content``/``mutable``, ``limits``,
``element``), which the API types and the runtime's instances both have in some form.
"""
from __future__ import annotations

import html
from typing import Any, Iterable, List, Optional, Tuple

# A module with thousands of exports prints the first ones and a count in a REPL.
MAX_LISTED = 20


def _limits_text(minimum: int, maximum: Optional[int]) -> str:
    return "%d" % minimum if maximum is None else "%d..%d" % (minimum, maximum)


def describe(item: Any) -> str:
    """``func (i32, i32) -> (i32)``, ``global mut i64``, ``memory 1..16``,
    ``table 2 funcref`` for an API type or a runtime instance (memory limits in pages)."""
    ty = getattr(item, "type", None)
    if ty is not None and not callable(ty):
        # A runtime FuncInstance / GlobalInstance: its syntax type.
        item = ty
    params = getattr(item, "params", None)
    results = getattr(item, "results", None)
    if params is not None and results is not None:
        return "func (%s) -> (%s)" % (", ".join(str(p) for p in params),
                                      ", ".join(str(r) for r in results))
    if hasattr(item, "content") and hasattr(item, "mutable"):
        return "global %s%s" % ("mut " if item.mutable else "", item.content)
    limits = getattr(item, "limits", None)
    if limits is not None:
        text = _limits_text(limits.min, limits.max)
        element = getattr(item, "element", None)
        return "table %s %s" % (text, element) if element is not None else "memory " + text
    if hasattr(item, "element_type"):              # runtime TableInstance
        return "table %s %s" % (_limits_text(item.min, item.max), item.element_type)
    if hasattr(item, "data") and hasattr(item, "min"):   # runtime MemoryInstance
        return "memory %s" % _limits_text(item.min, item.max)
    return type(item).__name__


def functype_repr(functype: Any) -> str:
    """``FuncType((i32, i32) -> (i32))``."""
    return "FuncType(%s)" % describe(functype)[len("func "):]


def _listing(entries: List[Tuple[str, str]], indent: str = "  ") -> List[str]:
    lines = ["%s%s: %s" % (indent, name, text) for name, text in entries[:MAX_LISTED]]
    if len(entries) > MAX_LISTED:
        lines.append("%s... %d more" % (indent, len(entries) - MAX_LISTED))
    return lines


def _module_entries(module: Any) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    imports = [("%s.%s" % (imp.module, imp.name), describe(imp.type)) for imp in module.imports]
    exports = [(exp.name, describe(exp.type)) for exp in module.exports]
    return imports, exports


def module_repr(module: Any) -> str:
    """The module's name, imports and exports, one per line."""
    imports, exports = _module_entries(module)
    name = getattr(module, "name", None)
    head = "<Module%s: %d imports, %d exports>" % (
        " %r" % name if name else "", len(imports), len(exports))
    lines = [head]
    if imports:
        lines += ["imports:"] + _listing(imports)
    if exports:
        lines += ["exports:"] + _listing(exports)
    return "\n".join(lines)


def _export_entries(runtime_instance: Any) -> List[Tuple[str, str]]:
    return [(name, describe(item)) for name, item in runtime_instance.export_list]


def instance_repr(runtime_instance: Any) -> str:
    """An instance's exports (from the runtime ModuleInstance: ``export_list``)."""
    exports = _export_entries(runtime_instance)
    return "\n".join(["<Instance: %d exports>" % len(exports)] + _listing(exports))


def _table(title: str, rows: Iterable[Tuple[str, str]], header: Tuple[str, str]) -> str:
    esc = html.escape
    cells = "".join("<tr><td><code>%s</code></td><td><code>%s</code></td></tr>"
                    % (esc(a), esc(b)) for a, b in rows)
    return ("<table><caption style='text-align:left'>%s</caption>"
            "<tr><th>%s</th><th>%s</th></tr>%s</table>"
            % (esc(title), esc(header[0]), esc(header[1]), cells))


def module_html(module: Any) -> str:
    """Jupyter's rich display of a Module: two tables, imports and exports."""
    imports, exports = _module_entries(module)
    name = getattr(module, "name", None)
    parts = ["<div><strong>purewasm Module%s</strong>" % (
        " " + html.escape(repr(name)) if name else "")]
    parts.append(_table("imports (%d)" % len(imports), imports, ("import", "type")))
    parts.append(_table("exports (%d)" % len(exports), exports, ("export", "type")))
    parts.append("</div>")
    return "".join(parts)


def instance_html(runtime_instance: Any) -> str:
    """Jupyter's rich display of an Instance: its exports."""
    exports = _export_entries(runtime_instance)
    return "<div><strong>purewasm Instance</strong>%s</div>" % _table(
        "exports (%d)" % len(exports), exports, ("export", "type"))
