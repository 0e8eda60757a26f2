"""Helpers of the API tests: modules are written in WAT and converted with wasmtime's
wat2wasm when wasmtime is installed, so these tests do not depend on our text parser."""
from __future__ import annotations

import struct

import purewasm

try:
    import wasmtime
except ImportError:  # pragma: no cover - wasmtime is a test-only reference
    wasmtime = None


def wasm(text: str) -> bytes:
    """The binary of a module written in WAT."""
    if wasmtime is not None:
        return bytes(wasmtime.wat2wasm(text))
    return bytes(purewasm.wat2wasm(text))


def f32(x: float) -> float:
    """``x`` rounded to single precision."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])
