"""Validation (spec chapter 3): ``validate_module(module)`` raises ``InvalidError``.

``module.py`` checks the module structure; ``func.py`` runs the appendix's validation
algorithm (operand and control stacks) over each function body; ``tables.py`` derives the
per-opcode dispatch tables from ``opcodes.OPS``.
"""
from __future__ import annotations

from .module import check_proposals, validate_module

__all__ = ["validate_module", "check_proposals"]
