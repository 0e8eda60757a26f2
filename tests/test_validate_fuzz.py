"""Differential test: our validator against wasmtime's (configured for exactly the Wasm 2.0
feature set, validated in process) on randomly generated function bodies (hypothesis),
most of them invalid in some way."""
from __future__ import annotations

from typing import Any, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purewasm.errors import InvalidError, MalformedError
from purewasm.syntax import (
    ACTIVE, Elem, Export, Func, FuncType, Global, GlobalType, Instr, Limits, MemoryType, Module,
    TableType,
)
from purewasm.validate import validate_module

try:
    from purewasm.binary import decode_module, encode_module
except ImportError:  # pragma: no cover - written in parallel
    encode_module = None  # type: ignore[assignment]

try:
    import wasmtime
except ImportError:  # pragma: no cover - a test-only dependency
    wasmtime = None

pytestmark = pytest.mark.skipif(encode_module is None or wasmtime is None,
                                reason="needs purewasm.binary's encoder and wasmtime")

_ENGINE: Optional[Any] = None


def _engine() -> Any:
    """A wasmtime engine with the Wasm 2.0 proposals on and every later one off."""
    global _ENGINE
    if _ENGINE is None:
        cfg = wasmtime.Config()
        for name, on in [("wasm_bulk_memory", True), ("wasm_multi_value", True),
                         ("wasm_reference_types", True), ("wasm_simd", True),
                         ("wasm_relaxed_simd", False), ("wasm_threads", False),
                         ("wasm_tail_call", False), ("wasm_multi_memory", False),
                         ("wasm_memory64", False), ("wasm_function_references", False),
                         ("wasm_gc", False), ("wasm_exceptions", False),
                         ("wasm_wide_arithmetic", False), ("wasm_custom_page_sizes", False),
                         ("wasm_stack_switching", False)]:
            try:
                setattr(cfg, name, on)
            except Exception:  # noqa: BLE001 - an option this wasmtime lacks
                pass
        _ENGINE = wasmtime.Engine(cfg)
    return _ENGINE

_POOL: List[Any] = [
    ("i32.const", 1), ("i64.const", 1), ("f32.const", 0), ("f64.const", 0), ("v128.const", 0),
    ("i32.add", None), ("i64.add", None), ("f32.neg", None), ("i32.eqz", None),
    ("i64.eqz", None), ("i32.wrap_i64", None), ("i64.extend_i32_u", None),
    ("i32x4.splat", None), ("i8x16.extract_lane_u", 3), ("v128.any_true", None),
    ("drop", None), ("select", None), ("select_t", ("i32",)), ("select_t", ("funcref",)),
    ("ref.null", "funcref"), ("ref.null", "externref"), ("ref.is_null", None),
    ("ref.func", 0), ("local.get", 0), ("local.get", 1), ("local.get", 2),
    ("local.set", 0), ("local.set", 1), ("local.tee", 0), ("local.tee", 2),
    ("global.get", 0), ("global.get", 1), ("global.set", 0), ("global.set", 1),
    ("unreachable", None), ("return", None), ("nop", None),
    ("br", 0), ("br", 1), ("br", 2), ("br_if", 0), ("br_if", 1),
    ("br_table", ((0, 1), 0)), ("br_table", ((), 1)), ("br_table", ((1,), 2)),
    ("block", None), ("block", "i32"), ("block", 1), ("block", 2),
    ("loop", None), ("loop", "i32"), ("loop", 1),
    ("if", None), ("if", "i32"), ("if", 1), ("else", None), ("end", None), ("end", None),
    ("call", 0), ("call_indirect", (0, 0)), ("i32.load", (2, 0, 0)),
    ("i64.store", (3, 0, 0)), ("memory.size", 0), ("memory.grow", 0),
    ("table.get", 0), ("table.set", 0), ("table.size", 0), ("table.grow", 0),
    ("table.fill", 0), ("table.init", (0, 0)), ("elem.drop", 0),
]


def _balance(ops: List[Any]) -> List[Instr]:
    """Make the sequence structurally well formed (so the binary decodes): drop ``end``
    and ``else`` that close nothing, then close what is open."""
    out: List[Instr] = []
    stack: List[str] = []
    for op, imm in ops:
        if op == "end":
            if not stack:
                continue
            stack.pop()
        elif op == "else":
            if not stack or stack[-1] != "if":
                continue
            stack[-1] = "else"
        elif op in ("block", "loop", "if"):
            stack.append(op)
        out.append(Instr(op, imm))
    out.extend(Instr("end") for _ in stack)
    out.append(Instr("end"))
    return out


def _module(body: List[Instr]) -> Module:
    return Module(
        types=[FuncType(("i32",), ("i32",)), FuncType(("i32",), ("i32",)),
               FuncType(("i64", "i32"), ("i32", "i64"))],
        funcs=[Func(0, ["i64", "f32"], body)],
        tables=[TableType("funcref", Limits(1))],
        mems=[MemoryType(Limits(1))],
        globals=[Global(GlobalType("i32", True), [Instr("i32.const", 0), Instr("end")]),
                 Global(GlobalType("i64", False), [Instr("i64.const", 0), Instr("end")])],
        elems=[Elem("funcref", [[Instr("ref.func", 0), Instr("end")]], ACTIVE, 0,
                    [Instr("i32.const", 0), Instr("end")])],
        exports=[Export("f", "func", 0)],
    )


def _reference_accepts(data: bytes) -> bool:
    try:
        wasmtime.Module.validate(_engine(), data)
        return True
    except wasmtime.WasmtimeError:
        return False


def _closers(body: List[Instr]) -> List[Instr]:
    """Instructions that close every open construct of ``body`` validly whatever their
    types: ``unreachable`` makes the stack polymorphic before each ``else``/``end``."""
    stack: List[str] = []
    for ins in body:
        if ins.op in ("block", "loop", "if"):
            stack.append(ins.op)
        elif ins.op == "else":
            stack[-1] = "else"
        elif ins.op == "end":
            stack.pop()
    out: List[Instr] = []
    for op in reversed(stack):
        out.append(Instr("unreachable"))
        if op == "if":
            out += [Instr("else"), Instr("unreachable")]
        out.append(Instr("end"))
    return out + [Instr("unreachable"), Instr("end")]


def _ours(body: List[Instr]) -> bool:
    try:
        validate_module(_module(body))
        return True
    except InvalidError:
        return False


def _near_valid(ops: List[Any], bad_at: int, bad: Any, polymorphic_close: bool = True
                ) -> List[Instr]:
    """Grow a body from ``ops`` keeping each prefix valid (by our validator, closed with
    :func:`_closers`), then insert one arbitrary instruction ``bad`` at ``bad_at``: the
    result is valid or invalid by a single step, where the rules are subtle."""
    body: List[Instr] = []
    for op, imm in ops:
        if op == "end" and not any(i.op in ("block", "loop", "if") for i in body):
            continue
        trial = body + [Instr(op, imm)]
        if _balance_ok(trial) and _ours(trial + _closers(trial)):
            body = trial
    if bad is not None:
        body.insert(min(bad_at, len(body)), Instr(*bad))
        if not _balance_ok(body):
            del body[min(bad_at, len(body) - 1)]
    if polymorphic_close:
        return body + _closers(body)
    return _balance([(i.op, i.imm) for i in body])


def _balance_ok(body: List[Instr]) -> bool:
    depth = 0
    kinds: List[str] = []
    for ins in body:
        if ins.op in ("block", "loop", "if"):
            kinds.append(ins.op)
            depth += 1
        elif ins.op == "else":
            if not kinds or kinds[-1] != "if":
                return False
            kinds[-1] = "else"
        elif ins.op == "end":
            if not kinds:
                return False
            kinds.pop()
    return True


def _compare(body: List[Instr]) -> None:
    data = encode_module(_module(body))
    try:
        validate_module(decode_module(data))
        ours = True
    except InvalidError:
        ours = False
    except MalformedError as exc:  # pragma: no cover - the encoder made a bad binary
        pytest.fail("decoder rejected our own encoding: %s" % exc)
    assert ours == _reference_accepts(data), [(i.op, i.imm) for i in body]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_POOL), max_size=14))
def test_random_bodies_agree_with_wasmtime(ops: List[Any]) -> None:
    _compare(_balance(ops))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_POOL), min_size=4, max_size=30),
       st.integers(0, 30), st.one_of(st.none(), st.sampled_from(_POOL)), st.booleans())
def test_near_valid_bodies_agree_with_wasmtime(ops: List[Any], bad_at: int, bad: Any,
                                               poly: bool) -> None:
    _compare(_near_valid(ops, bad_at, bad, poly))
