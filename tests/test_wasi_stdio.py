"""WASI stdout/stderr reaching Python streams that have no ``.buffer`` (Jupyter's,
``contextlib.redirect_stdout`` to a StringIO), and an embedder's stdout callback failing."""
from __future__ import annotations

import contextlib
import io
import sys
from typing import Any, Callable, List, Tuple

import pytest

import purewasm

WRITER = r"""
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; write(fd, ptr, len): one fd_write of memory[ptr:ptr+len]; returns the errno
  (func (export "write") (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
"""


def _writer(configure: Callable[[Any], None]) -> Tuple[Any, Callable[[int, bytes], int]]:
    engine = purewasm.Engine()
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    store = purewasm.Store(engine)
    config = purewasm.WasiConfig()
    configure(config)
    store.set_wasi(config)
    exports = linker.instantiate(store, purewasm.Module(engine, WRITER)).exports(store)
    memory, write = exports["memory"], exports["write"]

    def emit(fd: int, data: bytes) -> int:
        memory.write(store, data, 64)
        return write(store, fd, 64, len(data))  # type: ignore[no-any-return]
    return store, emit


def test_inherit_stdout_to_a_text_only_stream() -> None:
    _, emit = _writer(lambda c: c.inherit_stdout())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert emit(1, b"hello ") == 0
        assert emit(1, "w\u00f6rld\n".encode()) == 0
    assert out.getvalue() == "hello w\u00f6rld\n"


def test_inherit_stderr_to_a_text_only_stream() -> None:
    _, emit = _writer(lambda c: c.inherit_stderr())
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert emit(2, b"oops\n") == 0
    assert err.getvalue() == "oops\n"


def test_a_character_split_across_writes_is_decoded_whole() -> None:
    _, emit = _writer(lambda c: c.inherit_stdout())
    snowman = "\u2603".encode()        # three bytes
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emit(1, b"a" + snowman[:1])
        emit(1, snowman[1:2])
        emit(1, snowman[2:] + b"b")
    assert out.getvalue() == "a\u2603b"


def test_invalid_utf8_is_replaced() -> None:
    _, emit = _writer(lambda c: c.inherit_stdout())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emit(1, b"x\xffy")
    assert out.getvalue() == "x\ufffdy"


def test_binary_streams_still_get_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    _, emit = _writer(lambda c: c.inherit_stdout())
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="latin-1"))
    emit(1, b"\xff\xfe")
    assert raw.getvalue() == b"\xff\xfe"
    plain = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", plain)
    emit(1, b"\x00\x01")
    assert plain.getvalue() == b"\x00\x01"


class CallbackFailed(Exception):
    pass


def test_an_exception_in_the_stdout_callback_reaches_the_embedder() -> None:
    seen: List[bytes] = []

    def callback(data: bytes) -> None:
        seen.append(data)
        raise CallbackFailed("disk full")

    def configure(config: Any) -> None:
        config.stdout_custom = callback
    _, emit = _writer(configure)
    with pytest.raises(CallbackFailed, match="disk full"):
        emit(1, b"lost")
    assert seen == [b"lost"]


def test_an_exception_in_the_stderr_callback_reaches_the_embedder() -> None:
    def configure(config: Any) -> None:
        config.stderr_custom = lambda data: 1 / 0
    _, emit = _writer(configure)
    with pytest.raises(ZeroDivisionError):
        emit(2, b"x")


def test_a_working_callback_and_the_errno_paths_are_unchanged() -> None:
    got = bytearray()

    def configure(config: Any) -> None:
        config.stdout_custom = got.extend
    _, emit = _writer(configure)
    assert emit(1, b"ok") == 0
    assert bytes(got) == b"ok"
    assert emit(7, b"x") == 8       # EBADF: no such descriptor
