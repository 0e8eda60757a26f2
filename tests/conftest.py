"""Shared pytest configuration: a summary of the spec-suite counts (tests/test_spec.py)."""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List

# Let tests import the helper modules next to them (e.g. ``from wast_json import ...``).
sys.path.insert(0, os.path.dirname(__file__))

from wast_json import WAST_DIR  # noqa: E402


def pytest_configure(config: Any) -> None:
    # `purewasm run` caches compiled code by default: the tests' runs (and their
    # subprocesses, which inherit the variable) use a private directory, not the user's.
    if "PUREWASM_CACHE_DIR" not in os.environ:
        import tempfile
        os.environ["PUREWASM_CACHE_DIR"] = tempfile.mkdtemp(prefix="purewasm-test-cache-")
        _made_cache_dir.append(os.environ["PUREWASM_CACHE_DIR"])


_made_cache_dir: List[str] = []


def pytest_unconfigure(config: Any) -> None:
    import shutil
    for path in _made_cache_dir:
        shutil.rmtree(path, ignore_errors=True)
    # The spec tests read the vendored testsuite: without it they would run nothing, so a
    # missing or misnamed testsuite is an error, never a silent skip.
    if not WAST_DIR.is_dir():
        raise RuntimeError("the official testsuite is missing: %s (set PUREWASM_TESTSUITE)"
                           % WAST_DIR)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts: Dict[str, List[int]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", "call") != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == "spec_counts":
                    mode, passed, failed, skipped = value
                    c = counts.setdefault(mode, [0, 0, 0, 0])
                    c[0] += 1
                    c[1] += passed
                    c[2] += failed
                    c[3] += skipped
    for mode, (files, passed, failed, skipped) in sorted(counts.items()):
        total = passed + failed
        terminalreporter.write_line(
            "spec suite (%s): %d files, %d/%d commands passed (%.2f%%), %d failed, "
            "%d not run (text-format modules)" % (
                mode, files, passed, total, 100.0 * passed / total if total else 0.0,
                failed, skipped))
