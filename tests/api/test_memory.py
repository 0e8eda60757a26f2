"""Memory.

Each test body runs against both wasmtime-py and purewasm (fixture ``w``, conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest


def test_memory_api(w: Any) -> None:
    store = w.Store()
    mem = w.Memory(store, w.MemoryType(w.Limits(1, 2)))
    assert mem.grow(store, 1) == 1
    assert mem.size(store) == 2
    with pytest.raises(w.WasmtimeError):
        mem.grow(store, 1)
    assert mem.write(store, b"xyz", 5) == 3
    assert mem.read(store, 5, 8) == bytearray(b"xyz")
    assert mem.read(store, -2) == bytearray(2)
    with pytest.raises(IndexError):
        mem.write(store, b"ab", 2 * 65536 - 1)
    assert mem.type(store).limits.min == 1          # the declared type


def test_shared_memory(w: Any) -> None:
    config = w.Config()
    config.shared_memory = True
    engine = w.Engine(config)
    shared = w.SharedMemory(engine, w.MemoryType(w.Limits(1, 2), shared=True))
    assert shared.data_len() == 65536 and shared.data_ptr()[0] == 0
    assert shared.type().is_shared
    assert shared.grow(1) == 1
    with pytest.raises(w.WasmtimeError):
        shared.grow(1)
    with pytest.raises(w.WasmtimeError):
        shared.grow(-1)
    with pytest.raises(TypeError):
        shared.grow("")
    with pytest.raises(w.WasmtimeError):
        w.SharedMemory(engine, w.MemoryType(w.Limits(1, 2)))
    with pytest.raises(AttributeError):
        w.SharedMemory(1, w.MemoryType(w.Limits(1, 2), shared=True))


# --- purewasm extensions: in-place access and strings ---------------------------------------

def _memory() -> Any:
    import purewasm
    store = purewasm.Store()
    return store, purewasm.Memory(store, purewasm.MemoryType(purewasm.Limits(1, None)))


def test_data_ptr_reads_and_writes_in_place() -> None:
    store, mem = _memory()
    ptr = mem.data_ptr(store)
    ptr[10:13] = b"abc"
    ptr[13] = 0x64
    assert mem.read(store, 10, 14) == bytearray(b"abcd")
    assert ptr[10:14] == bytearray(b"abcd") and len(ptr) == 65536
    with pytest.raises(ValueError):
        ptr[0:2] = b"abc"           # would change the memory's size
    with pytest.raises(IndexError):
        ptr[-3:] = b"abc"
    assert mem.data_len(store) == 65536


def test_buffer_is_zero_copy_and_pins_the_size() -> None:
    store, mem = _memory()
    with mem.buffer(store) as view:
        view[0:4] = (1234).to_bytes(4, "little")
        assert mem.read(store, 0, 4) == bytearray((1234).to_bytes(4, "little"))
        import purewasm
        with pytest.raises(purewasm.WasmtimeError):
            mem.grow(store, 1)      # a live view pins the memory
    assert mem.grow(store, 1) == 1  # released at the end of the with block


def test_string_helpers() -> None:
    store, mem = _memory()
    assert mem.write_str(store, "héllo", ptr=100, nul=True) == (100, 6)
    assert mem.read_str(store, 100) == "héllo"                      # up to the NUL
    assert mem.read_str(store, 100, 3) == "h\u00e9"                 # by length (bytes)
    assert mem.read_bytes(store, 100, 7) == "héllo".encode() + b"\0"
    mem.write(store, (3).to_bytes(4, "little") + b"xyz", 200)
    assert mem.read_prefixed(store, 200) == b"xyz"
    mem.write(store, b"\2ab", 300)
    assert mem.read_prefixed(store, 300, prefix_size=1) == b"ab"
    with pytest.raises(IndexError):
        mem.read_bytes(store, 65535, 2)
    with pytest.raises(IndexError):
        mem.write_str(store, "toolong", ptr=65530)
    import purewasm
    mem.write(store, b"\xff" * 16, 0)
    with pytest.raises(purewasm.WasmtimeError):
        mem.read_str(store, 0, max_length=16)                       # no NUL within 16
    with pytest.raises(purewasm.WasmtimeError):
        mem.write_str(store, "x")                                   # neither ptr nor alloc


PLUGIN_WAT = """
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $n i32) (result i32)
    (local $p i32)
    global.get $next
    local.set $p
    global.get $next
    local.get $n
    i32.add
    global.set $next
    local.get $p)
  ;; count the bytes equal to 'l' in (ptr, len)
  (func (export "count_l") (param $p i32) (param $n i32) (result i32)
    (local $c i32)
    block $done
      loop $next
        local.get $n
        i32.eqz
        br_if $done
        local.get $p
        i32.load8_u
        i32.const 108
        i32.eq
        local.get $c
        i32.add
        local.set $c
        local.get $p
        i32.const 1
        i32.add
        local.set $p
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $next
      end
    end
    local.get $c))
"""


def test_string_into_a_plugin_with_its_allocator() -> None:
    # The docs' example (README, "Strings in and out of linear memory").
    import purewasm
    store = purewasm.Store()
    instance = purewasm.Instance(store, purewasm.Module(store.engine, PLUGIN_WAT), [])
    exports = instance.exports(store)
    memory = exports["memory"]
    ptr, length = memory.write_str(store, "hello, world", alloc=exports["alloc"])
    assert ptr == 1024 and length == 12
    assert exports["count_l"](store, ptr, length) == 3
    assert memory.read_str(store, ptr, length) == "hello, world"
