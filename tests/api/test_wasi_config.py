"""WasiConfig through the public API: stdio paths that cannot work are refused when set,
as wasmtime-py refuses them."""
from __future__ import annotations

from pathlib import Path

import pytest

import purewasm


def test_stdio_paths_are_checked_when_set(tmp_path: Path) -> None:
    config = purewasm.WasiConfig()
    existing = tmp_path / "in.txt"
    existing.write_bytes(b"x")
    config.stdin_file = existing
    config.stdout_file = tmp_path / "new-out.txt"      # created when used
    config.stderr_file = str(tmp_path / "new-err.txt")
    with pytest.raises(purewasm.WasmtimeError):
        config.stdin_file = str(tmp_path / "missing.txt")
    with pytest.raises(purewasm.WasmtimeError):
        config.stdout_file = str(tmp_path / "no-such-dir" / "out.txt")
    with pytest.raises(purewasm.WasmtimeError):
        config.stderr_file = str(tmp_path)
