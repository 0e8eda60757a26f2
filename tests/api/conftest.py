"""The API tests' fixture ``w``: each test body runs against purewasm and, when it is
installed, wasmtime-py (the reference whose behaviour the API mirrors)."""
from __future__ import annotations

from typing import Any, List

import pytest

import purewasm
from api.support import wasmtime

BACKENDS: List[Any] = [pytest.param(purewasm, id="purewasm")]
if wasmtime is not None:
    BACKENDS.append(pytest.param(wasmtime, id="wasmtime"))


@pytest.fixture(params=BACKENDS)
def w(request: Any) -> Any:
    return request.param
