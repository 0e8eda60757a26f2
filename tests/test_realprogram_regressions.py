"""Minimal reproducers of miscompiles or WASI bugs found by the real programs of
tests/test_real_programs.py (each one a small WAT module checked in both lowerings)."""
