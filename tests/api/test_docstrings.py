"""Every public class and method of the API has a docstring (``help(purewasm.Store)`` is
useful), as wasmtime-py's have."""
from __future__ import annotations

import inspect
from typing import List

import purewasm.api


def _undocumented() -> List[str]:
    missing = []
    for name in purewasm.api.__all__:
        obj = getattr(purewasm.api, name)
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for klass in obj.__mro__:
            if not klass.__module__.startswith("purewasm.api"):
                continue
            for attr, member in vars(klass).items():
                if attr.startswith("_"):
                    continue
                func = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                    else member
                if callable(func) or isinstance(func, property):
                    if not (getattr(func, "__doc__", None) or "").strip():
                        missing.append("%s.%s" % (name, attr))
    return sorted(set(missing))


def test_every_public_class_and_method_is_documented() -> None:
    assert _undocumented() == []
