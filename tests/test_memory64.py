"""Wasm 3.0 memory64 and table64: i64 addresses, sizes and limits.

Bounds are exact at the 2^64 edge (an address + offset past 2^64 - 1 traps, never wraps),
memory.size/grow and table.size/grow are i64, a huge declared maximum allocates nothing
until grown, Config.wasm_memory64 = False refuses 64-bit memories and tables, and the
API's MemoryType/TableType carry ``is_64``. The program below (which also uses several
memories) runs on purewasm and on wasmtime with the same results. The spec scripts of
memory64/ run in test_spec3."""
from __future__ import annotations

from typing import Any, Callable, List, Tuple

import pytest

import purewasm
from purewasm.binary import decode_module, encode_module
from purewasm.errors import Trap, TrapCode
from purewasm.text import parse_module, print_module, wat2wasm

try:
    import wasmtime
except ImportError:  # pragma: no cover - a test-only dependency
    wasmtime = None

U64 = (1 << 64) - 1

# Two memories (a 32-bit and a 64-bit one) and a 64-bit table: what the test calls below
# exercise, on both engines.
PROGRAM = r"""
(module
  (type $un (func (param i64) (result i64)))
  (memory $small (export "small") 1 2)
  (memory $big (export "big") i64 1 0x1_0000_0000_0000)
  (table $t (export "t") i64 2 10 funcref)
  (elem (table $t) (i64.const 0) func $double $negate)
  (data (memory $small) (i32.const 0) "hello")
  (data (memory $big) (i64.const 65530) "world!")
  (func $double (type $un) (i64.mul (local.get 0) (i64.const 2)))
  (func $negate (type $un) (i64.sub (i64.const 0) (local.get 0)))
  (func (export "load8_big") (param i64) (result i32) (i32.load8_u $big (local.get 0)))
  (func (export "load64_big_high_offset") (param i64) (result i64)
    (i64.load $big offset=0xFFFF_FFFF_FFFF_FFF8 (local.get 0)))
  (func (export "store32_big") (param i64 i32) (i32.store $big (local.get 0) (local.get 1)))
  (func (export "load32_small") (param i32) (result i32) (i32.load $small (local.get 0)))
  (func (export "copy_small_to_big") (param $dst i64) (param $src i32) (param $n i32)
    (memory.copy $big $small (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "copy_big_to_small") (param $dst i32) (param $src i64) (param $n i32)
    (memory.copy $small $big (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "fill_big") (param i64 i32 i64)
    (memory.fill $big (local.get 0) (local.get 1) (local.get 2)))
  (func (export "size_big") (result i64) (memory.size $big))
  (func (export "size_small") (result i32) (memory.size $small))
  (func (export "grow_big") (param i64) (result i64) (memory.grow $big (local.get 0)))
  (func (export "grow_small") (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func (export "call_t") (param i64 i64) (result i64)
    (call_indirect $t (type $un) (local.get 1) (local.get 0)))
  (func (export "table_size") (result i64) (table.size $t))
  (func (export "table_grow") (param i64) (result i64)
    (table.grow $t (ref.null func) (local.get 0)))
  (func (export "table_is_null") (param i64) (result i32)
    (ref.is_null (table.get $t (local.get 0))))
)
"""

# (export, arguments): every call of the comparison, in order (state carries over).
CALLS: List[Tuple[str, Tuple[int, ...]]] = [
    ("load8_big", (65530,)), ("load8_big", (65535,)), ("load8_big", (65536,)),
    ("load8_big", (U64,)), ("load8_big", (1 << 63,)),
    ("load64_big_high_offset", (0,)), ("load64_big_high_offset", (7,)),
    ("load64_big_high_offset", (8,)), ("load64_big_high_offset", (U64,)),
    ("store32_big", (65532, 0x01020304)), ("store32_big", (65533, 1)),
    ("load32_small", (0,)), ("load32_small", (65532,)), ("load32_small", (65533,)),
    ("copy_small_to_big", (100, 0, 5)), ("load8_big", (104,)),
    ("copy_small_to_big", (65535, 0, 2)), ("copy_small_to_big", (U64, 0, 0)),
    ("copy_big_to_small", (10, 65530, 6)), ("load32_small", (10,)),
    ("copy_big_to_small", (0, U64, 1)),
    ("fill_big", (200, 0xAB, 3)), ("load8_big", (202,)), ("fill_big", (65535, 1, 2)),
    ("fill_big", (U64, 1, 1)),
    ("size_big", ()), ("size_small", ()),
    ("grow_big", (U64,)), ("grow_big", (1 << 48,)), ("grow_big", (2,)), ("size_big", ()),
    ("load8_big", (3 * 65536 - 1,)), ("load8_big", (3 * 65536,)),
    ("grow_small", (1,)), ("grow_small", (1,)), ("size_small", ()),
    ("call_t", (0, 21)), ("call_t", (1, 21)), ("call_t", (2, 21)), ("call_t", (U64, 1)),
    ("table_size", ()), ("table_grow", (3,)), ("table_size", ()), ("table_grow", (U64,)),
    ("table_is_null", (4,)), ("table_is_null", (5,)),
]


def _outcomes(call: Callable[[str, Tuple[int, ...]], Any], trap_type: type) -> List[Any]:
    out: List[Any] = []
    for name, args in CALLS:
        try:
            out.append((name, call(name, args)))
        except trap_type as exc:
            text = str(exc)
            # wasmtime says "undefined element: out of bounds table access" for any table
            # index out of bounds; purewasm words call_indirect's and table.get's apart.
            kind = next((k for k in ("out of bounds memory access", "uninitialized element",
                                     "indirect call")
                         if k in text), text.splitlines()[0])
            if "undefined element" in text or "out of bounds table" in text:
                kind = "table index out of bounds"
            out.append((name, "trap: " + kind))
    return out


def _as_unsigned(v: Any, bits: int = 64) -> Any:
    return v & ((1 << bits) - 1) if isinstance(v, int) else v


def _purewasm_outcomes() -> List[Any]:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, PROGRAM), [])
    exports = inst.exports(store)
    return _outcomes(lambda name, args: _as_unsigned(exports[name](store, *args)),
                     purewasm.Trap)


def _signed(args: Tuple[int, ...], name: str) -> Tuple[int, ...]:
    # wasmtime-py takes signed integers; every argument here is an i64 but the i32s below.
    i32_args = {"store32_big": (1,), "load32_small": (0,), "copy_small_to_big": (1, 2),
                "copy_big_to_small": (0, 2), "fill_big": (1,), "grow_small": (0,)}
    out = []
    for i, a in enumerate(args):
        bits = 32 if i in i32_args.get(name, ()) else 64
        out.append(a - (1 << bits) if a >> (bits - 1) else a)
    return tuple(out)


def test_program_matches_wasmtime() -> None:
    if wasmtime is None:
        pytest.skip("the wasmtime package is a test dependency (requirements-dev.txt)")
    cfg = wasmtime.Config()
    cfg.wasm_memory64 = True
    cfg.wasm_multi_memory = True
    engine = wasmtime.Engine(cfg)
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, PROGRAM), [])
    exports = inst.exports(store)
    expected = _outcomes(lambda name, args: _as_unsigned(
        exports[name](store, *_signed(args, name))), wasmtime.Trap)
    got = _purewasm_outcomes()
    assert got == expected
    # The comparison has teeth: traps at the 2^64 edge and real values both occur.
    assert ("load64_big_high_offset", "trap: out of bounds memory access") in got
    assert ("call_t", 42) in got and ("grow_big", U64) in got


def test_bounds_are_exact_at_the_2_64_edge() -> None:
    outcomes = dict(enumerate(_purewasm_outcomes()))
    by_call = {i: (CALLS[i], outcome) for i, outcome in outcomes.items()}
    oob = "trap: out of bounds memory access"
    results = [(call, out[1]) for call, out in by_call.values()]
    # 65530 + "world!" is in bounds; 65536 (one page) is not; 2^64-1 and 2^63 never wrap.
    assert results[0] == (("load8_big", (65530,)), ord("w"))
    assert results[1] == (("load8_big", (65535,)), ord("!"))
    assert results[2][1] == oob and results[3][1] == oob and results[4][1] == oob
    # offset 2^64-8 + address 0 is far past the end; + 8 reaches 2^64: out of bounds,
    # where a wrapping implementation would read address 0.
    assert [r[1] for r in results[5:9]] == [oob] * 4


def test_grow_and_size_are_i64() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, PROGRAM), [])
    ex = inst.exports(store)
    assert ex["size_big"](store) == 1
    # A declared maximum of 2^48 pages allocates nothing: the memory is one page.
    assert ex["big"].data_len(store) == 65536
    assert ex["grow_big"](store, U64) == -1        # i64 -1: the API's signed view
    assert ex["grow_big"](store, 1 << 40) == -1    # beyond the store's 1 GiB limit
    assert ex["grow_big"](store, 3) == 1
    assert ex["size_big"](store) == 4
    assert ex["table_size"](store) == 2
    assert ex["table_grow"](store, 1) == 2
    assert ex["table_grow"](store, U64) == -1


def test_trap_codes() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, PROGRAM), [])
    ex = inst.exports(store)
    with pytest.raises(Trap) as info:
        ex["load64_big_high_offset"](store, 8)
    assert info.value.trap_code == TrapCode.MEMORY_OUT_OF_BOUNDS
    with pytest.raises(Trap) as info:
        ex["call_t"](store, -1, 1)     # index 2^64-1: never wrapped to a small one
    assert info.value.trap_code == TrapCode.UNDEFINED_ELEMENT


def test_api_types_are_64_bit() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    inst = purewasm.Instance(store, purewasm.Module(engine, PROGRAM), [])
    ex = inst.exports(store)
    assert ex["big"].type(store).is_64 and not ex["small"].type(store).is_64
    assert ex["big"].type(store).limits.max == 1 << 48
    assert ex["t"].type(store).is_64
    ty = purewasm.MemoryType(purewasm.Limits(1, 1 << 48), is_64=True)
    assert ty.is_64 and ty.limits.max == 1 << 48
    with pytest.raises(purewasm.WasmtimeError):
        purewasm.MemoryType(purewasm.Limits(1, 1 << 48))            # too large for 32 bits
    with pytest.raises(purewasm.WasmtimeError):
        purewasm.MemoryType(purewasm.Limits(1, (1 << 48) + 1), is_64=True)
    tt = purewasm.TableType(purewasm.ValType.funcref(), purewasm.Limits(1, 1 << 40),
                            is_64=True)
    assert tt.is_64 and not purewasm.TableType(purewasm.ValType.funcref(),
                                               purewasm.Limits(1, None)).is_64
    # A host-made 64-bit memory satisfies a 64-bit import, not a 32-bit one.
    mem = purewasm.Memory(store, ty)
    assert mem.type(store).is_64
    importer = purewasm.Module(engine, '(module (import "m" "mem" (memory i64 1)) '
                                       '(func (export "size") (result i64) (memory.size)))')
    assert purewasm.Instance(store, importer, [mem]).exports(store)["size"](store) == 1
    with pytest.raises(purewasm.WasmtimeError, match="incompatible import type"):
        purewasm.Instance(store, purewasm.Module(
            engine, '(module (import "m" "mem" (memory 1)))'), [mem])


def test_config_off_refuses_64_bit_memories_and_tables() -> None:
    config = purewasm.Config()
    assert config.wasm_memory64 is True
    config.wasm_memory64 = False
    engine = purewasm.Engine(config)
    for wat in ["(module (memory i64 1))", "(module (table i64 1 funcref))",
                '(module (import "m" "m" (memory i64 1)))']:
        with pytest.raises(purewasm.WasmtimeError, match=r"memory64 support is not enabled "
                                                         r"\(Config.wasm_memory64\)"):
            purewasm.Module(engine, wat)
    purewasm.Module(engine, "(module (memory 1))")     # 32-bit memories still work


def test_text_and_binary_round_trip() -> None:
    module = parse_module(PROGRAM)
    assert [mt.address for mt in module.mems] == ["i32", "i64"]
    assert module.tables[0].address == "i64"
    wasm = wat2wasm(PROGRAM)
    assert decode_module(wasm) == decode_module(encode_module(decode_module(wasm)))
    assert encode_module(parse_module(print_module(module))) == wasm
    assert "(memory i64 1 281474976710656)" in print_module(module)
    assert "i64.load 1 offset=18446744073709551608" in print_module(module)


def test_generated_code_keeps_the_32_bit_path_unchanged() -> None:
    from purewasm.compile import CompiledModule
    module = parse_module(PROGRAM)
    compiled = CompiledModule(module)
    names = {exp.name: exp.index for exp in module.exports if exp.kind == "func"}
    small = compiled.source(names["load32_small"])
    big = compiled.source(names["load8_big"])
    # A 32-bit memory's address goes straight to the access; a 64-bit one is clamped
    # (docs/DECISIONS.md, "64-bit addresses").
    assert "min(" not in small and "min(" in big


# --- A program built by a real toolchain: zig cc -target wasm64-freestanding ----------
# (zig has no WASI libc for wasm64: "unable to provide libc for target wasm64-wasi", see
# docs/TESTING.md; a freestanding C program with 64-bit pointers stands in.)

KERNEL_EXPORTS = ["fill", "checksum", "sort_bytes", "move", "heap_address", "pages", "grow",
                  "load_at", "store_at"]
KERNEL_CALLS: List[Tuple[str, Tuple[int, ...]]] = [
    ("fill", (100_000, 7)), ("checksum", (0, 100_000)), ("checksum", (500, 1000)),
    ("sort_bytes", (5000,)), ("move", (1000, 10, 3000)), ("move", (10, 1000, 3000)),
    ("pages", ()), ("grow", (3,)), ("pages", ()), ("grow", (1 << 47,)),
    ("store_at", (1 << 20, 0x7F)), ("load_at", (1 << 20,)),
    ("load_at", (1 << 40,)), ("load_at", (U64,)), ("store_at", (1 << 63, 1)),
]


def _kernel() -> bytes:
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from programs import harness
    flags = ["-nostdlib", "-Wl,--no-entry", "-Wl,--export-memory"] + \
        ["-Wl,--export=%s" % name for name in KERNEL_EXPORTS]
    try:
        path = harness.build("memory64_kernel.c", "-O2", flags=flags,
                             target="wasm64-freestanding")
    except (OSError, RuntimeError) as exc:  # pragma: no cover - ziglang is a test dependency
        pytest.fail("zig cc -target wasm64-freestanding failed: %s" % exc)
    with open(path, "rb") as f:
        return f.read()


def test_zig_wasm64_program_matches_wasmtime() -> None:
    if wasmtime is None:
        pytest.skip("the wasmtime package is a test dependency (requirements-dev.txt)")
    wasm = _kernel()
    assert decode_module(wasm).mems[0].is_64       # really a 64-bit memory

    def run(call: Callable[[str, Tuple[int, ...]], Any], trap_type: type) -> List[Any]:
        out: List[Any] = []
        for name, args in KERNEL_CALLS:
            try:
                out.append((name, _as_unsigned(call(name, args))))
            except trap_type as exc:
                out.append((name, "trap" if "out of bounds memory access" in str(exc)
                            else str(exc)))
        return out

    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    ex = purewasm.Instance(store, purewasm.Module(engine, wasm), []).exports(store)
    got = run(lambda name, args: ex[name](store, *args), purewasm.Trap)

    cfg = wasmtime.Config()
    cfg.wasm_memory64 = True
    wt_engine = wasmtime.Engine(cfg)
    wt_store = wasmtime.Store(wt_engine)
    wt_ex = wasmtime.Instance(wt_store, wasmtime.Module(wt_engine, wasm), []).exports(wt_store)
    expected = run(lambda name, args: wt_ex[name](
        wt_store, *[a - (1 << 64) if a >> 63 else a for a in args]), wasmtime.Trap)
    assert got == expected
    assert ("load_at", "trap") in got and ("load_at", 0x7F) in got
