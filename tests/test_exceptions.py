"""Wasm 3.0 exception handling (exnref): tags, throw, throw_ref, try_table.

Each behaviour runs under both lowerings of the translator (structured Python ``try``
statements, and the flat state machine whose dispatch loop runs inside one ``try``) and,
where wasmtime can run the same module, is compared with wasmtime-py
(``Config.wasm_exceptions = True``). The spec scripts exceptions/*.wast run in test_spec3.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest

import purewasm
from purewasm.binary import decode_module, encode_module
from purewasm.compile import CompiledModule
from purewasm.compile.scan import MAX_PY_LOOPS, Scan
from purewasm.errors import MalformedError, Trap, WasmException
from purewasm.text import parse_module, wat2wasm
from purewasm.text.printer import print_module

PROGRAM = r"""
(module
  (tag $e (export "e") (param i32))
  (tag $e2 (param i64 f64))
  (tag $empty)
  (global $cleanups (mut i32) (i32.const 0))

  ;; throw $e 42 from n frames down
  (func $deep (param $n i32)
    (if (i32.eqz (local.get $n)) (then (throw $e (i32.const 42))))
    (call $deep (i32.sub (local.get $n) (i32.const 1))))

  (func (export "catch_deep") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call $deep (local.get 0))
        (i32.const -1))))

  ;; which = 0: $e, 1: $e2, 2: $empty, else nothing
  (func $raise (param $which i32)
    (if (i32.eqz (local.get $which)) (then (throw $e (i32.const 7))))
    (if (i32.eq (local.get $which) (i32.const 1))
      (then (throw $e2 (i64.const -5) (f64.const 2.5))))
    (if (i32.eq (local.get $which) (i32.const 2)) (then (throw $empty))))

  (func (export "catch_all") (param i32) (result i32)
    (block $all
      (block $by_tag (result i32)
        (try_table (catch $e $by_tag) (catch_all $all)
          (call $raise (local.get 0)))
        (return (i32.const 0)))
      (return (i32.add (i32.const 100))))
    (i32.const 2))

  ;; a catch_ref handler counts, then rethrows the same exception (throw_ref)
  (func $rethrow_once (param i32)
    (local $x exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (call $raise (local.get 0)))
      (return))
    (local.set $x)
    (global.set $cleanups (i32.add (global.get $cleanups) (i32.const 1)))
    (drop)
    (throw_ref (local.get $x)))

  (func (export "catch_ref_rethrow") (param i32) (result i32)
    (global.set $cleanups (i32.const 0))
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call $rethrow_once (local.get 0))
        (i32.const -1)))
    (i32.add (i32.mul (global.get $cleanups) (i32.const 1000))))

  ;; destructor-like cleanups: three frames each run a catch_all_ref cleanup and rethrow
  (func $frame (param $n i32)
    (block $cleanup (result exnref)
      (try_table (catch_all_ref $cleanup)
        (if (i32.eqz (local.get $n))
          (then (throw $e (i32.const 9)))
          (else (call $frame (i32.sub (local.get $n) (i32.const 1))))))
      (return))
    (global.set $cleanups (i32.add (global.get $cleanups) (i32.const 1)))
    (throw_ref))

  (func (export "cleanup") (param i32) (result i32)
    (global.set $cleanups (i32.const 0))
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call $frame (local.get 0))
        (i32.const -1)))
    (i32.mul (i32.const 100))
    (i32.add (global.get $cleanups)))

  (func (export "uncaught") (param i32)
    (call $raise (local.get 0)))

  (func (export "trap_not_caught") (result i32)
    (block $h
      (try_table (catch_all $h) (unreachable)))
    (i32.const 5))

  (func (export "loop_throw") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (throw $e (local.get $i)))
        (unreachable))
      (local.set $sum (i32.add (local.get $sum)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum))

  (func (export "two_values") (result i64)
    (block $h (result i64 f64)
      (try_table (catch $e2 $h) (call $raise (i32.const 1)))
      (return (i64.const 0)))
    (i64.trunc_f64_s)
    (i64.add))

  ;; an exnref kept in a local and rethrown later, outside its handler
  (func (export "exn_in_local") (param i32) (result i32)
    (local $x exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $raise (local.get 0)))
      (return (i32.const -1)))
    (local.set $x)
    (block $h2 (result i32)
      (try_table (catch $e $h2)
        (throw_ref (local.get $x)))
      (return (i32.const -2)))
    (i32.add (i32.const 1000)))

  (func (export "null_throw_ref")
    (throw_ref (ref.null exn)))

  ;; values below the try_table survive the unwinding
  (func (export "stack_below") (param i32) (result i32)
    (i32.const 1000)
    (block $h (result i32)
      (i32.const 200)
      (i32.const 30)
      (try_table (param i32) (result i32) (catch $e $h)
        (call $raise (local.get 0))
        (i32.const 1) (i32.add))
      (i32.add))
    (i32.add))
)
"""

CALLS: List[Tuple[str, List[int]]] = [
    ("catch_deep", [0]), ("catch_deep", [1]), ("catch_deep", [50]),
    ("catch_all", [0]), ("catch_all", [1]), ("catch_all", [2]), ("catch_all", [3]),
    ("catch_ref_rethrow", [0]), ("catch_ref_rethrow", [3]),
    ("cleanup", [0]), ("cleanup", [2]), ("cleanup", [10]),
    ("uncaught", [0]), ("uncaught", [1]), ("uncaught", [3]),
    ("trap_not_caught", []), ("loop_throw", [10]), ("two_values", []),
    ("exn_in_local", [0]), ("exn_in_local", [1]), ("exn_in_local", [5]),
    ("null_throw_ref", []), ("stack_below", [0]), ("stack_below", [3]),
]

EXPECTED: Dict[Tuple[str, Tuple[int, ...]], Any] = {
    ("catch_deep", (0,)): 42, ("catch_deep", (50,)): 42,
    ("catch_all", (0,)): 107, ("catch_all", (1,)): 2, ("catch_all", (2,)): 2,
    ("catch_all", (3,)): 0,
    ("catch_ref_rethrow", (0,)): 1007, ("catch_ref_rethrow", (3,)): -1,
    ("cleanup", (0,)): 901, ("cleanup", (2,)): 903, ("cleanup", (10,)): 911,
    ("uncaught", (0,)): "exception", ("uncaught", (1,)): "exception",
    ("uncaught", (3,)): None, ("trap_not_caught", ()): "trap",
    ("loop_throw", (10,)): 45, ("two_values", ()): -3,
    ("exn_in_local", (0,)): 1007, ("exn_in_local", (1,)): "exception",
    ("exn_in_local", (5,)): -1, ("null_throw_ref", ()): "trap",
    ("stack_below", (0,)): 1007, ("stack_below", (3,)): 1231,
}


def _instance(wat: str, mode: Optional[str],
              imports: Optional[List[Any]] = None) -> Tuple[purewasm.Store, purewasm.Instance]:
    """An API instance of ``wat`` whose functions all use lowering ``mode``."""
    store = purewasm.Store()
    module = purewasm.Module(store.engine, wat)
    module._compiled = CompiledModule(module._module, mode)
    return store, purewasm.Instance(store, module, imports or [])


def _outcome(fn: Any, store: Any, args: List[int]) -> Any:
    try:
        return fn(store, *args)
    except WasmException:
        return "exception"
    except Trap:
        return "trap"


@pytest.fixture(params=["structured", "flat"])
def mode(request: Any) -> str:
    return str(request.param)


def test_program(mode: str) -> None:
    store, inst = _instance(PROGRAM, mode)
    exports = inst.exports(store)
    for name, args in CALLS:
        got = _outcome(exports[name], store, args)
        want = EXPECTED.get((name, tuple(args)), got)
        assert got == want, (name, args)


def test_same_as_wasmtime() -> None:
    wasmtime = pytest.importorskip("wasmtime")
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    wstore = wasmtime.Store(engine)
    winst = wasmtime.Instance(wstore, wasmtime.Module(engine, PROGRAM), [])
    ours: Dict[str, List[Any]] = {}
    for mode in ("structured", "flat", None):
        store, inst = _instance(PROGRAM, mode)
        ours[str(mode)] = [_outcome(inst.exports(store)[n], store, a) for n, a in CALLS]
    theirs = []
    for name, args in CALLS:
        try:
            theirs.append(winst.exports(wstore)[name](wstore, *args))
        except wasmtime.Trap as exc:
            theirs.append("exception" if "thrown Wasm exception" in str(exc) else "trap")
    for mode, results in ours.items():
        assert results == theirs, mode


def test_escaping_exception_carries_tag_and_payload(mode: str) -> None:
    store, inst = _instance(PROGRAM, mode)
    exports = inst.exports(store)
    tag = exports["e"]
    assert isinstance(tag, purewasm.Tag)
    with pytest.raises(purewasm.WasmException) as info:
        exports["uncaught"](store, 0)
    exc = info.value
    # A Trap, as wasmtime-py reports an uncaught exception, with a backtrace.
    assert isinstance(exc, purewasm.Trap) and isinstance(exc, purewasm.WasmtimeError)
    assert "thrown Wasm exception" in str(exc)
    assert exc.frames and exc.frames[0].func_name == "raise"
    assert tag.payload(store, exc) == [7]
    with pytest.raises(purewasm.WasmException) as info:
        exports["uncaught"](store, 1)
    assert info.value.values == (2 ** 64 - 5, 2.5)
    with pytest.raises(purewasm.WasmtimeError):
        tag.payload(store, info.value)        # not an exception of this tag
    # The store stays usable.
    assert exports["catch_deep"](store, 3) == 42
    with pytest.raises(purewasm.Trap) as trap:
        exports["null_throw_ref"](store)
    assert trap.value.trap_code is purewasm.TrapCode.NULL_REFERENCE
    assert not isinstance(trap.value, purewasm.WasmException)


HOST = r"""
(module
  (import "host" "etag" (tag $etag (param i32)))
  (import "host" "call_back" (func $call_back (param i32) (result i32)))
  (tag $mine (export "mine") (param i32))
  (func (export "via_host") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $etag $h)
        (call $call_back (local.get 0)))
      (return))
    (i32.add (i32.const 1000)))
  (func (export "inner_throw") (param i32) (result i32)
    (throw $etag (i32.add (local.get 0) (i32.const 50))))
  (func (export "throw_mine") (param i32) (result i32)
    (throw $mine (local.get 0)))
)
"""


def test_through_host_functions(mode: str) -> None:
    store = purewasm.Store()
    etag = purewasm.Tag(store, purewasm.TagType(purewasm.FuncType([purewasm.ValType.i32()],
                                                                  [])))
    exports: Dict[str, Any] = {}
    seen: List[int] = []

    def call_back(x: int) -> int:
        if x == 1:
            raise etag.exception(store, [77])          # a host function throws
        if x == 2:
            return int(exports["inner_throw"](store, x))   # passes through the host
        if x == 3:
            try:
                exports["throw_mine"](store, 5)       # the host catches it itself
            except purewasm.WasmException as exc:
                seen.extend(exports["mine"].payload(store, exc))
                return 600
        return x

    i32 = purewasm.ValType.i32()
    func = purewasm.Func(store, purewasm.FuncType([i32], [i32]), call_back)
    module = purewasm.Module(store.engine, HOST)
    module._compiled = CompiledModule(module._module, mode)
    inst = purewasm.Instance(store, module, [etag, func])
    exports.update(inst.exports(store))
    via_host = exports["via_host"]
    assert via_host(store, 1) == 1077
    assert via_host(store, 2) == 1052
    assert via_host(store, 3) == 600 and seen == [5]
    assert via_host(store, 9) == 9
    assert isinstance(inst.exports(store)["mine"], purewasm.Tag)
    # The imported tag keeps its identity: the exception is the host's tag's.
    with pytest.raises(purewasm.WasmException) as info:
        exports["inner_throw"](store, 1)
    assert info.value.tag is etag._inst and etag.payload(store, info.value) == [51]
    with pytest.raises(purewasm.WasmtimeError):
        etag.exception(store, [])


def test_linker_defines_and_exports_tags() -> None:
    store = purewasm.Store()
    linker = purewasm.Linker(store.engine)
    a = purewasm.Instance(store, purewasm.Module(store.engine, PROGRAM), [])
    linker.define_instance(store, "a", a)
    b = linker.instantiate(store, purewasm.Module(store.engine, r"""
      (module
        (import "a" "e" (tag $e (param i32)))
        (func (export "f") (result i32)
          (block $h (result i32)
            (try_table (result i32) (catch $e $h) (throw $e (i32.const 3))))))"""))
    assert b.exports(store)["f"](store) == 3
    tag = linker.get(store, "a", "e")
    assert isinstance(tag, purewasm.Tag) and tag.eq(store, a.exports(store)["e"])
    ty = purewasm.Module(store.engine, PROGRAM).exports[0].type
    assert isinstance(ty, purewasm.TagType) and ty.functype.params == [purewasm.ValType.i32()]
    with pytest.raises(purewasm.WasmtimeError, match="incompatible import"):
        purewasm.Instance(store, purewasm.Module(
            store.engine, '(module (import "" "" (tag (param i64))))'), [tag])


def _nested(depth: int) -> str:
    """``depth`` nested try_tables; the innermost throws $e, only the outermost catches
    it (every other level catches $other): the handler chain is walked to the end."""
    return (
        '(module (tag $e (param i32)) (tag $other (param i32))'
        ' (func (export "f") (param i32) (result i32)'
        ' (block $out (result i32)'
        ' (try_table (catch $other $out) (catch $e $out)'
        + ' (try_table (catch $other $out)' * (depth - 1)
        + ' (throw $e (local.get 0))'
        + ')' * depth + ' (i32.const -1))))')


@pytest.mark.parametrize("depth", [1, 8, 30, 10_000])
def test_nested_try_tables(depth: int) -> None:
    text = _nested(depth)
    module = parse_module(text)
    structured = Scan(module.funcs[0].body).structured_ok()
    # Each try statement is a nested block (CPython allows 20): the block $out's loop and
    # the try_tables must fit, deep nesting goes flat.
    assert structured == (depth + 1 <= MAX_PY_LOOPS)
    for mode in [None, "flat"] + (["structured"] if structured else []):
        store, inst = _instance(text, mode)
        assert inst.exports(store)["f"](store, 17) == 17


def test_try_is_free_when_nothing_throws() -> None:
    """The path that does not throw runs no handler code: no check is added to it."""
    from purewasm.compile.translate import Translator
    module = parse_module(PROGRAM)
    loop = [i for i, e in enumerate(module.exports) if e.name == "loop_throw"]
    index = module.exports[loop[0]].index
    source = Translator(module, index).translate()
    assert "try:" in source and "except WEXC as _x:" in source
    body = source.split("try:")[1].split("except")[0]
    assert "WEXC(" in body and "_x" not in body


def test_encoding_matches_wasm_tools(tmp_path: Any) -> None:
    import shutil
    import subprocess
    if shutil.which("wasm-tools") is None:
        pytest.fail("wasm-tools is required (pip install wasm-tools)")
    src = tmp_path / "p.wat"
    src.write_text(PROGRAM)
    theirs = subprocess.run(["wasm-tools", "parse", str(src)], check=True,
                            capture_output=True).stdout
    assert _strip_customs(wat2wasm(PROGRAM)) == _strip_customs(theirs)
    # Decoding, encoding and printing round-trip.
    module = decode_module(theirs)
    assert _strip_customs(encode_module(module)) == _strip_customs(theirs)
    assert _strip_customs(wat2wasm(print_module(module))) == _strip_customs(theirs)


def _strip_customs(data: bytes) -> bytes:
    """``data`` without its custom sections (names differ: wasm-tools writes labels')."""
    from purewasm.binary.leb128 import read_uleb
    out = bytearray(data[:8])
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, start = read_uleb(data, pos + 1, 32)
        if sid != 0:
            out += data[pos:start + size]
        pos = start + size
    return bytes(out)


def test_legacy_encoding_is_refused_by_name() -> None:
    # (func try (result i32) ... ): the legacy 0x06 opcode.
    body = bytes([0x00, 0x06, 0x40, 0x0B, 0x0B])
    data = (b"\x00asm\x01\x00\x00\x00" + b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00"
            + b"\x0a" + bytes([len(body) + 2, 1, len(body)]) + body)
    with pytest.raises(MalformedError, match="legacy exception handling"):
        decode_module(data)


def test_text_errors() -> None:
    with pytest.raises(MalformedError, match="unexpected token"):
        parse_module("(module (func (catch_all)))")
    with pytest.raises(purewasm.WasmtimeError, match="non-empty tag result type"):
        purewasm.Module(purewasm.Engine(), "(module (tag (result i32)))")
    with pytest.raises(purewasm.WasmtimeError, match="unknown tag"):
        purewasm.Module(purewasm.Engine(), "(module (func (throw 0)))")


class _RandomProgram:
    """A random module of nested try_tables (every catch clause kind, in random orders),
    conditional throws of three tags, calls that throw, branches out of try bodies,
    loops, rethrows and traps: the structured and the flat lowering must agree with
    wasmtime on every call."""

    def __init__(self, seed: int) -> None:
        import random
        self.rnd = random.Random(seed)
        self.n = 0
        self.loops = 0

    def label(self, stem: str) -> str:
        self.n += 1
        return "$%s%d" % (stem, self.n)

    def cond(self) -> str:
        mask = self.rnd.choice([1, 2, 3, 4, 7])
        return "(i32.eq (i32.and (local.get 0) (i32.const %d)) (i32.const %d))" % (
            mask, self.rnd.randrange(mask + 1))

    def stmts(self, depth: int, fidx: int, outs: List[str]) -> str:
        return " ".join(self.stmt(depth, fidx, outs)
                        for _ in range(self.rnd.randint(1, 4)))

    def stmt(self, depth: int, fidx: int, outs: List[str]) -> str:  # noqa: C901
        r = self.rnd.random()
        acc = "(local.set $acc (i32.add (local.get $acc) %s))"
        if r < 0.15:
            return acc % "(i32.const %d)" % self.rnd.randrange(100)
        if r < 0.35:
            tag = self.rnd.choice(["(throw $t0 (local.get $acc))",
                                   "(throw $t1 (local.get $acc) (i32.const 5))",
                                   "(throw $t2)"])
            return "(if %s (then %s))" % (self.cond(), tag)
        if r < 0.42 and fidx < 2:
            return acc % "(call $f%d (i32.add (local.get 0) (i32.const %d)))" % (
                self.rnd.randint(fidx + 1, 2), self.rnd.randrange(3))
        if r < 0.47 and outs:
            return "(br_if %s %s)" % (self.rnd.choice(outs), self.cond())
        if r < 0.5:
            return "(if (i32.eq (local.get 0) (i32.const 99)) (then (unreachable)))"
        if r < 0.58 and depth > 0 and self.loops < 6:
            i = "$i%d" % self.loops
            self.loops += 1
            lbl = self.label("l")
            return ("(local.set %s (i32.const 0)) (loop %s %s (local.set %s (i32.add "
                    "(local.get %s) (i32.const 1))) (br_if %s (i32.lt_u (local.get %s) "
                    "(i32.const 3))))" % (i, lbl, self.stmts(depth - 1, fidx, outs), i, i,
                                          lbl, i))
        if depth <= 0:
            return acc % "(i32.const 1)"
        out, k1, k2, k3 = (self.label(s) for s in ("out", "ka", "kb", "kc"))
        clauses = ["(catch $t0 %s)" % k1, "(catch $t2 %s)" % k2, "(catch_ref $t2 %s)" % k3,
                   "(catch_all %s)" % k2, "(catch_all_ref %s)" % k3]
        self.rnd.shuffle(clauses)
        catches = " ".join(clauses[:self.rnd.randint(0, 4)])
        body = self.stmts(depth - 1, fidx, outs + [out])
        rethrow = "(if %s (then (throw_ref (local.get $x))))" % self.cond()
        return (
            "(block %s (block %s (block %s (result i32) (block %s (result exnref)"
            " (try_table %s %s) (br %s))"
            " (local.set $x) (local.set $acc (i32.add (local.get $acc) (i32.const 1000)))"
            " %s (br %s))"
            " (local.set $acc (i32.add (local.get $acc) (i32.mul (i32.const 3)))) (br %s))"
            " (local.set $acc (i32.add (local.get $acc) (i32.const 77))))"
            % (out, k2, k1, k3, catches, body, out, rethrow, out, out))

    def module(self) -> str:
        funcs = []
        for f in range(3):
            self.loops = 0
            body = self.stmts(3, f, [])
            funcs.append('(func $f%d (export "f%d") (param i32) (result i32) (local $acc i32)'
                         ' (local $x exnref) %s %s (local.get $acc))'
                         % (f, f, " ".join("(local $i%d i32)" % i for i in range(6)), body))
        return ("(module (tag $t0 (param i32)) (tag $t1 (param i32 i32)) (tag $t2) %s)"
                % " ".join(funcs))


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_agree_with_wasmtime(seed: int) -> None:
    wasmtime = pytest.importorskip("wasmtime")
    text = _RandomProgram(seed).module()
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    wstore = wasmtime.Store(engine)
    winst = wasmtime.Instance(wstore, wasmtime.Module(engine, text), [])
    calls = [("f%d" % f, [a]) for f in range(3) for a in (0, 1, 2, 3, 5, 6, 99)]
    theirs = []
    for name, args in calls:
        try:
            theirs.append(winst.exports(wstore)[name](wstore, *args))
        except wasmtime.Trap as exc:
            theirs.append("exception" if "thrown Wasm exception" in str(exc) else "trap")
    for mode in ("structured", "flat"):
        store, inst = _instance(text, mode)
        ours = [_outcome(inst.exports(store)[n], store, a) for n, a in calls]
        assert ours == theirs, (mode, text)
