"""Trap backtraces (runtime/traps.py, CompiledModule.wasm_frame): ``Trap.frames`` holds
wasmtime-py-shaped Frames with the byte offsets wasmtime reports, in both lowerings."""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

import pytest

import purewasm as w
from purewasm import runtime as rt
from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.errors import Frame, Trap, TrapCode, format_backtrace
from purewasm.text import wat2wasm

try:
    import wasmtime
except ImportError:  # pragma: no cover - a test dependency (pyproject's test extra)
    wasmtime = None

FrameTuple = Tuple[int, Optional[str], Optional[str], Optional[int], Optional[int]]

# (WAT, export, arguments): each traps somewhere below the export.
CASES = [
    ("""(module $mymod (memory 1)
      (func $inner (param i32) (result i32) nop local.get 0 i32.load)
      (func $outer (export "outer") (param i32) (result i32)
        i32.const 1 drop local.get 0 call $inner))""", "outer", [70000]),
    ("""(module (func (export "nameless") unreachable))""", "nameless", []),
    ("""(module
      (func $div (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func $mid (param i32) (result i32)
        (local i64) (local.set 1 (i64.const 5))
        (i32.add (i32.const 1) (call $div (i32.const 7) (local.get 0))))
      (func (export "top") (param i32) (result i32)
        (block (result i32) (loop (result i32) (call $mid (local.get 0))))))""", "top", [0]),
    ("""(module $tab
      (type $t (func (result i32)))
      (table 2 funcref) (elem (i32.const 0) $boom)
      (func $boom (result i32) (i32.trunc_f32_s (f32.const nan)))
      (func $via (export "via") (param i32) (result i32)
        (call_indirect (type $t) (local.get 0))))""", "via", [0]),
    ("""(module
      (func $deep (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))
          (else (i32.div_u (i32.const 1) (local.get 0)))))
      (func (export "go") (result i32) (call $deep (i32.const 3))))""", "go", []),
]


def _tuples(frames: List[Any]) -> List[FrameTuple]:
    return [(f.func_index, f.func_name, f.module_name, f.func_offset, f.module_offset)
            for f in frames]


def _purewasm_frames(wat: str, export: str, args: List[int], mode: Optional[str]
                     ) -> Tuple[List[Frame], Trap]:
    module = decode_module(wat2wasm(wat))
    store = rt.Store()
    inst = rt.instantiate(store, module, [], CompiledModule(module, mode))
    with pytest.raises(Trap) as info:
        store.invoke(inst.exports[export], args)
    return info.value.frames, info.value


@pytest.mark.parametrize("mode", [None, "flat"])
def test_frames_have_the_offsets_of_the_instructions(mode: Optional[str]) -> None:
    wat, export, args = CASES[0]
    wasm = wat2wasm(wat)
    frames, trap = _purewasm_frames(wat, export, args, mode)
    assert all(isinstance(f, Frame) for f in frames)
    assert _tuples(frames) == [(0, "inner", "mymod", 4, 45), (1, "outer", "mymod", 6, 56)]
    assert wasm[45] == 0x28 and wasm[56] == 0x10          # i32.load, call
    # wasmtime's layout (its tests compare str(trap) to this very text).
    assert str(trap) == trap.message == (
        "error while executing at wasm backtrace:\n"
        "    0:     0x2d - mymod!inner\n    1:     0x38 - mymod!outer\n\n"
        "Caused by:\n    wasm trap: out of bounds memory access\n")
    assert trap.reason == "out of bounds memory access"


@pytest.mark.skipif(wasmtime is None, reason="wasmtime (the reference) is not installed")
@pytest.mark.parametrize("mode", [None, "flat"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_frames_equal_wasmtimes(case: int, mode: Optional[str]) -> None:
    wat, export, args = CASES[case]
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wat2wasm(wat)), [])
    with pytest.raises(wasmtime.Trap) as info:
        instance.exports(store)[export](store, *args)
    expected = _tuples(info.value.frames)
    frames, _ = _purewasm_frames(wat, export, args, mode)
    assert _tuples(frames) == expected


def test_api_trap_frames_and_unnamed_function() -> None:
    engine = w.Engine()
    store = w.Store(engine)
    module = w.Module(engine, CASES[1][0])
    with pytest.raises(w.Trap) as info:
        w.Instance(store, module, []).exports(store)["nameless"](store)
    trap = info.value
    assert trap.trap_code is TrapCode.UNREACHABLE
    # From the text format: the offsets are those of its encoding, as wasmtime's.
    assert _tuples(trap.frames) == [(0, None, None, 1, 37)]
    assert "    0:" in str(trap) and "<unknown>!<wasm function 0>" in str(trap)


def test_stack_overflow_keeps_every_frame_and_prints_both_ends() -> None:
    module = decode_module(wat2wasm("""(module
      (func $r (export "r") (param i32) (result i32)
        (i32.add (i32.const 1) (call $r (local.get 0)))))"""))
    store = rt.Store()
    store.max_call_depth = 500
    inst = rt.instantiate(store, module, [], CompiledModule(module))
    with pytest.raises(Trap) as info:
        store.invoke(inst.exports["r"], [0])
    trap = info.value
    assert trap.trap_code is TrapCode.STACK_OVERFLOW
    assert len(trap.frames) > 400
    assert all(isinstance(f, Frame) and f.func_name == "r" for f in trap.frames)
    text = str(trap)
    assert "frames not shown" in text and "\n    0: " in text
    assert "%5d: " % (len(trap.frames) - 1) in text
    assert "..." not in text


def test_format_backtrace_without_offsets() -> None:
    text = format_backtrace([Frame(3, "f", "m"), Frame(4)])
    assert text == ("wasm backtrace:\n    0:        ? - m!f\n"
                    "    1:        ? - <unknown>!<wasm function 4>")


def test_code_that_is_not_generated_has_no_frames() -> None:
    def host() -> None:
        raise ZeroDivisionError
    try:
        host()
    except ZeroDivisionError as exc:
        assert rt.wasm_backtrace(exc.__traceback__) == []
