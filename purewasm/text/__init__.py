"""The text format (spec chapter 6): WAT modules, WAST scripts, and a printer.

* :func:`parse_module` — WAT text -> :class:`purewasm.syntax.Module`
* :func:`wat2wasm` — WAT text -> binary (via ``purewasm.binary.encode_module``)
* :func:`parse_script` — WAST text -> list of ``purewasm.script.commands`` objects
* :func:`print_module` — Module -> WAT text

Choices where the text leaves room (each tested against wabt and the spec testsuite):

* Implicit types of inline type uses are appended after the explicit ones, in order of
  occurrence, reusing an equal type wherever it is defined (as the spec and wabt do).
* ``block (type x)`` stays a type index (spec interpreter, wasm-tools); wabt rewrites it
  to the short form when the type allows, its binaries differ from ours only there.
* An empty ``else`` is dropped (the binary format omits it: spec 5.4.1).
* ``Module.data_count`` is set when ``memory.init``/``data.drop`` occur, as the decoder
  reports it for the binary (which then needs the data count section).
* ``$id`` names go to ``Module.names`` (module, functions, locals) without the ``$``;
  ``$"..."`` (Wasm 3.0 quoted ids, as ``wasm-tools print`` writes) are accepted.
* Script commands keep module names with their ``$`` (``"$M"``), as wast2json does; a
  command's line is the line of its opening parenthesis.
"""
from __future__ import annotations

from typing import Union

from ..syntax import Module
from .parser import parse_module

__all__ = ["parse_module", "wat2wasm", "parse_script", "print_module"]


def wat2wasm(text: Union[str, bytes]) -> bytes:
    """Parse a module in the text format and encode it in the binary format."""
    from ..binary import encode_module
    return encode_module(parse_module(text))


def parse_script(text: Union[str, bytes]) -> list:
    """Parse a ``.wast`` script into ``purewasm.script.commands`` objects."""
    from .script import parse_script as _parse_script
    return _parse_script(text)


def print_module(module: Module) -> str:
    """Write ``module`` in the text format."""
    from .printer import print_module as _print_module
    return _print_module(module)
