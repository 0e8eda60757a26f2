"""Config: settings checked as wasmtime-py checks them; settings purewasm cannot honour
warn instead of being silently ignored; close().

Tests taking ``w`` run against both wasmtime-py and purewasm (conftest.py)."""
from __future__ import annotations

import warnings
from typing import Any

import pytest

import purewasm


def test_invalid_values_are_refused(w: Any) -> None:
    config = w.Config()
    config.strategy = "auto"
    config.cranelift_opt_level = "speed_and_size"
    config.profiler = "none"
    config.cache = True
    for name, value in (("strategy", "nonexistent"), ("cranelift_opt_level", "fastest"),
                        ("profiler", "gdb"), ("cache", "./no-such-cache-config.toml"),
                        ("target", "not-a-real-target")):
        with pytest.raises(w.WasmtimeError):
            setattr(config, name, value)
    for name in ("debug_info", "wasm_simd", "consume_fuel", "wasm_tail_call"):
        with pytest.raises(TypeError):
            setattr(config, name, 1)
    with pytest.raises(TypeError):
        config.memory_guard_size = "64k"


def test_cache_false_turns_the_cache_off() -> None:
    # wasmtime-py refuses Config.cache = False ("caching cannot be explicitly disabled");
    # purewasm's cache is off by default and False turns it off again (code written for
    # wasmtime-py never sets it, so accepting it costs no compatibility).
    config = purewasm.Config()
    config.cache = True
    config.cache = False
    assert config.cache is False


def test_closed_config_refuses_use(w: Any) -> None:
    config = w.Config()
    config.close()
    with pytest.raises(ValueError):
        w.Engine(config)
    with pytest.raises(ValueError):
        config.cache = True


def _warning_of(**settings: Any) -> str:
    config = purewasm.Config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, value in settings.items():
            setattr(config, name, value)
    return "\n".join(str(w.message) for w in caught)


def test_settings_purewasm_cannot_honour_warn() -> None:
    assert "does not implement" in _warning_of(wasm_threads=True)
    assert "always has simd" in _warning_of(wasm_simd=False)
    assert "NaN" in _warning_of(cranelift_nan_canonicalization=True)
    # Honoured or without meaning here: no warning.
    assert _warning_of(wasm_simd=True, wasm_exceptions=False, wasm_tail_call=False, wasm_gc=True,
                       debug_info=True, parallel_compilation=False, consume_fuel=True) == ""


def test_honoured_settings_take_effect() -> None:
    config = purewasm.Config()
    config.max_wasm_stack = 52 * 1000
    assert config.max_call_depth == 1000
    config.wasm_tail_call = False
    engine = purewasm.Engine(config)
    with pytest.raises(purewasm.WasmtimeError):
        purewasm.Module(engine, "(module (func return_call 0))")
    config = purewasm.Config()
    config.wasm_exceptions = False
    with pytest.raises(purewasm.WasmtimeError, match="exception handling"):
        purewasm.Module(purewasm.Engine(config), "(module (tag))")
    with pytest.raises(purewasm.WasmtimeError, match="exception handling"):
        purewasm.Module(purewasm.Engine(config), "(module (func try_table end))")
    with pytest.raises(purewasm.WasmtimeError, match="exception handling"):
        purewasm.Module(purewasm.Engine(config), "(module (func (param exnref)))")
