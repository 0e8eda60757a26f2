"""Linear memory costs what the guest touches (issue 8, memory bombs): on CPython on Linux
a memory is a private anonymous map, zero-filled by the OS page by page; elsewhere a
bytearray (PyPy indexes maps ~10x slower; macOS cannot grow a map in place)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import purewasm
from purewasm.runtime import instances

REPO = Path(__file__).resolve().parent.parent


def test_lazy_where_expected() -> None:
    expected = sys.implementation.name == "cpython" and sys.platform.startswith("linux")
    assert instances.LAZY_MEMORY is expected
    data = instances.new_memory_data(65536)
    assert isinstance(data, instances.MEMORY_DATA_TYPES)
    assert isinstance(instances.new_memory_data(0), bytearray)   # a map cannot be empty


@pytest.mark.skipif(not instances.LAZY_MEMORY, reason="bytearray memory on this platform")
def test_a_gibibyte_memory_costs_what_is_touched() -> None:
    # In a fresh interpreter: its peak RSS tells what the memory cost. A bytearray would
    # zero-fill 1 GiB (about 2 s, 1 GiB resident).
    code = textwrap.dedent('''
        import purewasm as w
        e = w.Engine(); s = w.Store(e)
        m = w.Module(e, """(module (memory (export "m") 16000)
          (func (export "f") (result i32)
            (i32.store (i32.const 1000000000) (i32.const 7))
            (drop (memory.grow (i32.const 100)))
            (i32.add (i32.load (i32.const 1000000000))
                     (i32.load (i32.const 1050000000)))))""")
        i = w.Instance(s, m, [])
        # VmHWM, the peak resident size of this program image: ru_maxrss would also count
        # the pages of the parent (the test runner) that the child had before its exec.
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        print(i.exports(s)["f"](s), i.exports(s)["m"].size(s), status)
    ''')
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr
    result, pages, peak_kib = map(int, proc.stdout.split())
    assert (result, pages) == (7, 16100)
    assert peak_kib < 200 * 1024, peak_kib


@pytest.mark.parametrize("pages", [0, 1, 3])
def test_grow_keeps_contents_zeroes_new_pages_and_respects_pins(pages: int) -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    mem = purewasm.Memory(store, purewasm.MemoryType(purewasm.Limits(pages, None)))
    if pages:
        mem.write(store, b"abc", 5)
    assert mem.grow(store, 2) == pages
    assert mem.size(store) == pages + 2
    assert bytes(mem.read(store, (pages + 2) * 65536 - 4, (pages + 2) * 65536)) == bytes(4)
    if pages:
        assert bytes(mem.read(store, 5, 8)) == b"abc"
    # A zero-copy view pins the bytes: growing fails (-1 for the guest) while it lives.
    view = mem.get_buffer_ptr(store)
    with pytest.raises(purewasm.WasmtimeError):
        mem.grow(store, 1)
    del view
    assert mem.grow(store, 1) == pages + 2
