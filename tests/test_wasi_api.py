"""WASI through purewasm's public API: Linker.define_wasi, set_wasi, define_wasi(ctx)."""
from __future__ import annotations

import pytest

import purewasm.wasi as wasi
from purewasm.errors import ExitTrap, WasmtimeError


ECHO_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\10\\00\\00\\00\\03\\00\\00\\00")
  (data (i32.const 16) "hi\\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 32)))
    ;; exit status = argc
    (drop (call $args_sizes_get (i32.const 40) (i32.const 44)))
    (call $proc_exit (i32.load (i32.const 40))))
  (func (export "bad_fd") (result i32)
    (call $fd_write (i32.const 77) (i32.const 0) (i32.const 1) (i32.const 32)))
  (func (export "bad_ptr") (result i32)
    (call $fd_write (i32.const 1) (i32.const 65535) (i32.const 1) (i32.const 32))))
"""

NO_MEMORY_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))))
"""


def _instantiate(wat, config=None, ctx=None):
    import purewasm
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    linker = purewasm.Linker(engine)
    if ctx is None:
        linker.define_wasi()
        if config is not None:
            store.set_wasi(config)
    else:
        wasi.define_wasi(linker, ctx)
    inst = linker.instantiate(store, purewasm.Module(engine, wat))
    return store, inst.exports(store)


def test_linker_define_wasi_and_store_config():
    cfg = wasi.WasiConfig()
    cfg.argv = ["a", "b", "c"]
    out, err = bytearray(), []
    cfg.stdout_custom = out
    cfg.stderr_custom = err.append
    store, exports = _instantiate(ECHO_WAT, cfg)
    with pytest.raises(ExitTrap) as info:
        exports["_start"](store)
    assert info.value.code == 3
    assert bytes(out) == b"hi\n" and err == [b"hi\n"]
    assert exports["bad_fd"](store) == 8          # EBADF
    assert exports["bad_ptr"](store) == 21        # EFAULT


def test_define_wasi_with_explicit_context():
    cfg = wasi.WasiConfig()
    out = bytearray()
    cfg.stdout_custom = out
    ctx = wasi.WasiContext(cfg)
    store, exports = _instantiate(ECHO_WAT, ctx=ctx)
    with pytest.raises(ExitTrap) as info:
        exports["_start"](store)
    assert info.value.code == 0 and bytes(out) == b"hi\n"
    ctx.close()


def test_wasi_without_configuration_is_an_error():
    store, exports = _instantiate(ECHO_WAT)
    with pytest.raises(WasmtimeError, match="WASI is not configured"):
        exports["_start"](store)


def test_module_without_memory_export():
    store, exports = _instantiate(NO_MEMORY_WAT, wasi.WasiConfig())
    with pytest.raises(WasmtimeError, match="export its memory"):
        exports["_start"](store)


def test_module_exporting_a_function_as_memory():
    # "memory" names a function: the same error as a missing export, not a TypeError.
    wat = NO_MEMORY_WAT.replace('(export "_start")', '(export "_start") (export "memory")')
    store, exports = _instantiate(wat, wasi.WasiConfig())
    with pytest.raises(WasmtimeError, match="export its memory"):
        exports["_start"](store)


def test_set_wasi_replaces_and_closes_previous(tmp_path):
    import purewasm
    store = purewasm.Store(purewasm.Engine())
    cfg = wasi.WasiConfig()
    cfg.stdout_file = str(tmp_path / "out.txt")
    first = wasi.set_wasi(store._rt, cfg)
    second = wasi.set_wasi(store._rt, wasi.WasiConfig())
    assert first is not second and first.fds == {}


TABLE_WAT = """
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $args_sizes_get)
  (type $t (func (param i32 i32) (result i32)))
  (func (export "direct") (result i32)
    (drop (call $args_sizes_get (i32.const 8) (i32.const 12)))
    (i32.load (i32.const 8)))
  (func (export "indirect") (result i32)
    (drop (call_indirect (type $t) (i32.const 16) (i32.const 20) (i32.const 0)))
    (i32.load (i32.const 16))))
"""


def test_wasi_call_through_a_table_and_context_switch():
    # A WASI import reached through a table (no per-instance binding) finds the calling
    # instance's memory; a new store context (set_wasi) takes effect on the next call.
    cfg = wasi.WasiConfig()
    cfg.argv = ["a", "b"]
    store, exports = _instantiate(TABLE_WAT, cfg)
    assert exports["direct"](store) == 2
    assert exports["indirect"](store) == 2
    cfg3 = wasi.WasiConfig()
    cfg3.argv = ["a", "b", "c"]
    store.set_wasi(cfg3)
    assert exports["direct"](store) == 3
    assert exports["indirect"](store) == 3
