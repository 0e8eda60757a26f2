"""Validation (spec chapter 3): ``validate_module(module)`` raises ``InvalidError``;
``decode_and_validate(data)`` decodes and validates a binary module at once, leaving its
function bodies undecoded until first use.

``module.py`` checks the module structure; ``func.py`` runs the appendix's validation
algorithm (operand and control stacks) over each function body; ``stream.py`` validates
a body straight from its bytes (falling back to ``func.py`` when unsure); ``tables.py``
derives the per-opcode dispatch tables from ``opcodes.OPS``.
"""
from __future__ import annotations

from .module import check_proposals, validate_module
from .stream import decode_and_validate

__all__ = ["validate_module", "check_proposals", "decode_and_validate"]
