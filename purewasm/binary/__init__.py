"""The binary format (spec chapter 5).

* :func:`decode_module` — bytes -> :class:`purewasm.syntax.Module`; raises
  :class:`purewasm.errors.MalformedError` (with ``.offset``) worded as the spec
  interpreter words it, so ``assert_malformed`` texts can be compared.
* :func:`encode_module` — Module -> bytes, the canonical encoding wabt's wat2wasm writes;
  raises :class:`EncodeError` for a Module that breaks the syntax conventions.
"""
from __future__ import annotations

from .decode import decode_module, decode_name_section
from .leb128 import read_sleb, read_uleb
from .encode import EncodeError, encode_module, encode_name_section

__all__ = ["decode_module", "encode_module", "EncodeError", "decode_name_section",
           "encode_name_section", "read_uleb", "read_sleb"]
