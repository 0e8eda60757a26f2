"""The binary format (spec chapter 5): ``decode_module`` and its mirror ``encode_module``."""
from __future__ import annotations

from .decode import decode_module, decode_name_section, read_sleb, read_uleb

try:
    from .encode import encode_module
except ImportError:  # pragma: no cover - the encoder is written after the decoder
    pass

__all__ = ["decode_module", "encode_module", "decode_name_section", "read_uleb", "read_sleb"]
