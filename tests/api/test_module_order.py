"""purewasm/api/ is layered too: its __init__ imports the private modules in layer order,
and each module imports only modules before it (imports under TYPE_CHECKING, for type
hints only, excepted)."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Set

API = Path(__file__).resolve().parent.parent.parent / "purewasm" / "api"


def _order() -> List[str]:
    tree = ast.parse((API / "__init__.py").read_text(encoding="utf-8"))
    return [node.module for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module]


def _runtime_imports(name: str) -> Set[str]:
    tree = ast.parse((API / (name + ".py")).read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:      # module level only; `if TYPE_CHECKING:` blocks are If nodes
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module)
    for node in ast.walk(tree):  # function-level imports must follow the order as well
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level == 1 and inner.module:
                    found.add(inner.module)
    return found


def test_every_module_is_imported_by_init() -> None:
    modules = {p.stem for p in API.glob("_*.py") if p.stem != "__init__"}
    assert modules == set(_order())


def test_modules_import_only_earlier_ones() -> None:
    order = _order()
    wrong = ["%s imports %s" % (name, dep) for i, name in enumerate(order)
             for dep in sorted(_runtime_imports(name)) if dep not in order[:i]]
    assert not wrong, "\n".join(wrong)
