"""Scalar loads and stores at every alignment, at the end of memory, after memory.grow
and through a memory shared by two instances (compile/ops_memory.py). Written for the
typed-memoryview experiment of docs/benchmarks.md (not kept), which had to get exactly
these cases right; they hold for any implementation of the accesses."""
from __future__ import annotations

import struct

import pytest

from purewasm.errors import Trap

from purewasm.binary import decode_module

from compile_helpers import Instance, instance, wat2wasm

WAT = """
(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "ld32") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
  (func (export "ld64") (param i32) (result i64) (i64.load offset=3 (local.get 0)))
  (func (export "ldf") (param i32) (result f64) (f64.load (local.get 0)))
  (func (export "ld16s") (param i32) (result i32) (i32.load16_s (local.get 0)))
  (func (export "st32") (param i32 i32) (i32.store offset=4 (local.get 0) (local.get 1)))
  (func (export "st64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "stf") (param i32 f64) (f64.store offset=8 (local.get 0) (local.get 1)))
  (func (export "st16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
  (func (export "grow_then_load") (param i32) (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.load (local.get 0)))
)
"""


@pytest.mark.parametrize("addr", [0, 1, 2, 3, 4, 5, 6, 7, 8, 65512, 65516])
def test_aligned_and_unaligned_accesses_agree(addr: int) -> None:
    inst = instance(WAT)
    data = inst.memories[0].data
    inst.func("st32")(addr, 0x89ABCDEF)
    assert data[addr + 4:addr + 8] == bytes.fromhex("efcdab89")
    assert inst.func("ld32")(addr) == 0x89ABCDEF
    inst.func("st64")(addr, 0xFEDCBA9876543210)
    assert data[addr:addr + 8] == struct.pack("<Q", 0xFEDCBA9876543210)
    assert inst.func("ld64")(addr) == struct.unpack_from("<Q", data, addr + 3)[0]
    inst.func("stf")(addr, -2.5)
    assert data[addr + 8:addr + 16] == struct.pack("<d", -2.5)
    assert inst.func("ldf")(addr + 8) == -2.5
    inst.func("st16")(addr, 0x18001)
    assert data[addr:addr + 2] == b"\x01\x80"
    assert inst.func("ld16s")(addr) == (0x8001 - 0x10000) & 0xFFFFFFFF


def test_nan_bits_survive_f64_views() -> None:
    inst = instance(WAT)
    data = inst.memories[0].data
    bits = bytes.fromhex("0100000000f0ff7f")       # a signalling NaN
    data[16:24] = bits
    inst.func("stf")(0, inst.func("ldf")(16))
    assert data[8:16] == bits


@pytest.mark.parametrize("addr", [65532, 65533, 65535, 65536, 0xFFFFFFFF])
def test_out_of_bounds_traps(addr: int) -> None:
    inst = instance(WAT)
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.func("ld32")(addr)
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.func("st32")(addr, 1)


def test_grow_remakes_the_views() -> None:
    inst = instance(WAT)
    with pytest.raises(Trap):
        inst.func("ld32")(65536)
    assert inst.func("grow")(2) == 1
    inst.func("st32")(65536 * 3 - 8, 7)
    assert inst.func("ld32")(65536 * 3 - 8) == 7
    # grown and read in the same function: no stale view
    assert inst.func("grow_then_load")(65536 * 3) == 0


def test_an_embedders_view_still_blocks_growth() -> None:
    inst = instance(WAT)
    mem = inst.inst.memories[0] if hasattr(inst, "inst") else None
    if mem is None:
        pytest.skip("no runtime instance in this helper")
    inst.func("ld32")(0)
    view = memoryview(mem.data)
    assert inst.func("grow")(1) == 0xFFFFFFFF
    view.release()
    assert inst.func("grow")(1) == 1
    assert inst.func("ld32")(65536 * 2 - 8) == 0


def test_a_shared_memory_rebinds_every_instance() -> None:
    exporter = instance(WAT)
    mem = exporter.inst.memories[0]
    importer = Instance(decode_module(wat2wasm("""
      (module (memory (import "m" "mem") 1)
        (func (export "ld") (param i32) (result i32) (i32.load (local.get 0))))""")),
                        {"m.mem": mem}, store=exporter.store)
    assert importer.func("ld")(0) == 0
    assert exporter.func("grow")(1) == 1
    exporter.func("st32")(65536 + 4, 99)
    assert importer.func("ld")(65536 + 8) == 99
