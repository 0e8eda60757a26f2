"""The package layering rule (docs/DECISIONS.md, "Dependencies run one way"): each part
of purewasm imports only parts of lower layers, checked on the source (function-level
imports included), and each package imports on its own.

The few exceptions are listed with their reason and must leave the list once gone."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent / "purewasm"

# Lower layers first; a unit may import units of its own or lower layers.
LAYERS = [
    {"errors", "opcodes_simd"},
    {"opcodes", "syntax", "numeric"},
    {"binary", "validate"},
    {"text", "runtime"},
    {"compile", "wasi"},
    {"script"},
    {"api", "_repr"},
    {"cli", "__init__", "__main__"},
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}

EXCEPTIONS: Dict[Tuple[str, str], str] = {
    ("text", "script"): "text/script.py builds the script commands of script/commands.py "
                        "(their data definitions)",
}


def _unit(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports() -> Dict[Tuple[str, str], Set[str]]:
    """(importer unit, imported unit) -> files where it happens."""
    found: Dict[Tuple[str, str], Set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        unit = _unit(path)
        pkg = list(path.relative_to(ROOT).parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[:len(pkg) - (node.level - 1)]
                    mod = base + (node.module.split(".") if node.module else [])
                    targets = [mod[0]] if mod else [n.name for n in node.names]
                elif node.module and node.module.split(".")[0] == "purewasm":
                    parts = node.module.split(".")
                    targets = [parts[1]] if len(parts) > 1 else [n.name for n in node.names]
            elif isinstance(node, ast.Import):
                targets = [n.name.split(".")[1] for n in node.names
                           if n.name.startswith("purewasm.")]
            for target in targets:
                if target != unit:
                    found.setdefault((unit, target), set()).add(
                        str(path.relative_to(ROOT.parent)))
    return found


def test_every_unit_has_a_layer() -> None:
    units = {_unit(p) for p in ROOT.rglob("*.py")}
    assert units - set(LAYER) == set()


def test_imports_go_down_the_layers() -> None:
    edges = _imports()
    wrong = sorted("%s imports %s (%s)" % (a, b, ", ".join(sorted(files)))
                   for (a, b), files in edges.items()
                   if LAYER[b] > LAYER[a] and (a, b) not in EXCEPTIONS)
    assert not wrong, "\n".join(wrong)
    gone = sorted(k for k in EXCEPTIONS if k not in edges or LAYER[k[1]] <= LAYER[k[0]])
    assert not gone, "no longer needed, remove from EXCEPTIONS: %s" % gone


@pytest.mark.parametrize("unit", sorted(u for u in LAYER if u != "__main__"))
def test_each_package_imports_alone(unit: str) -> None:
    # A fresh interpreter: no package loaded before can hide a cycle.
    name = "purewasm" if unit == "__init__" else "purewasm." + unit
    proc = subprocess.run([sys.executable, "-c", "import " + name], capture_output=True,
                          text=True, timeout=60, cwd=str(ROOT.parent))
    assert proc.returncode == 0, proc.stderr
