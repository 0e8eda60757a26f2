"""Run script commands (:mod:`purewasm.script.commands`) the way the spec interpreter's
``script/run.ml`` does: modules are decoded, validated, compiled and instantiated in one
store; ``register`` makes an instance's exports importable by name; every ``assert_*``
command passes or fails on its own, so one failure never stops the script.

Message checks: a trap's message must match the expected text (either being a prefix of
the other, so "uninitialized element 2" matches "uninitialized element"). For
assert_invalid / assert_malformed / assert_unlinkable only the error *class* decides;
differing messages are noted in ``ScriptResult.message_mismatches``.
"""
from __future__ import annotations

import struct
import traceback
from dataclasses import dataclass, field
from typing import Any, Collection, Dict, List, Optional, Sequence, TextIO, Tuple, Type

from purewasm.errors import InvalidError, LinkError, MalformedError, Trap, TrapCode, \
    WasmException, WasmtimeError
from purewasm.runtime import FuncInstance, GlobalInstance, ModuleInstance, Store, \
    f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits, instantiate
from purewasm.syntax import Module
from purewasm.runtime.gc import Array, Struct
from purewasm.syntax.types import as_reftype, top_heap

from .commands import BINARY, NAN_CANONICAL, QUOTE, ActionCommand, AssertException, \
    AssertExhaustion, AssertInvalid, AssertMalformed, AssertReturn, AssertTrap, \
    AssertUninstantiable, AssertUnlinkable, Command, Const, Either, Get, Invoke, \
    InstanceCommand, ModuleCommand, ModuleSource, NanPattern, NullPattern, RefPattern, \
    Register, V128Pattern
from .spectest import make_spectest

_MASKS = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}


@dataclass
class ScriptResult:
    """Outcome of a script: (line, description) per command."""

    passed: List[Tuple[int, str]] = field(default_factory=list)
    failed: List[Tuple[int, str]] = field(default_factory=list)
    # Commands not run, with why (e.g. text-format assert_malformed without a text parser).
    skipped: List[Tuple[int, str]] = field(default_factory=list)
    message_mismatches: List[Tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.passed) + len(self.failed)


class HostRef:
    """The host reference ``ref.extern N`` of the scripts (one object per N)."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostRef) and other.n == self.n

    def __hash__(self) -> int:
        return hash(("HostRef", self.n))

    def __repr__(self) -> str:
        return "ref.extern %d" % self.n


class _CommandFailed(Exception):
    pass


def _messages_match(expected: str, actual: str) -> bool:
    return actual.startswith(expected) or expected.startswith(actual)


def _fmt_raw(ty: str, raw: Any) -> str:
    try:
        if ty == "f32" and isinstance(raw, float):
            return "f32:%r (0x%08x)" % (raw, f32_to_bits(raw))
        if ty == "f64" and isinstance(raw, float):
            return "f64:%r (0x%016x)" % (raw, f64_to_bits(raw))
        if ty in ("i32", "i64") and isinstance(raw, int):
            return "%s:%d (0x%x)" % (ty, raw, raw & _MASKS[ty])
        if ty == "v128" and isinstance(raw, int):
            return "v128:0x%032x" % raw
    except (struct.error, OverflowError, TypeError):
        pass
    return "%s:%r" % (ty, raw)


def _fmt_expected(exp: Any) -> str:
    if isinstance(exp, Const):
        if exp.value is None:
            return "ref.null %s" % exp.type
        if exp.type == "f32":
            return "f32:%r (0x%08x)" % (f32_from_bits(exp.value), exp.value)
        if exp.type == "f64":
            return "f64:%r (0x%016x)" % (f64_from_bits(exp.value), exp.value)
        return "%s:%d" % (exp.type, exp.value)
    if isinstance(exp, NanPattern):
        return "%s:%s" % (exp.type, exp.kind)
    if isinstance(exp, RefPattern):
        return "ref %s" % exp.type
    if isinstance(exp, NullPattern):
        return "ref.null"
    return repr(exp)


def _is_nan_bits(bits: int, kind: str, width: int) -> bool:
    if width == 32:
        if kind == NAN_CANONICAL:
            return bits & 0x7FFFFFFF == 0x7FC00000
        return bits & 0x7FC00000 == 0x7FC00000
    if kind == NAN_CANONICAL:
        return bits & 0x7FFFFFFFFFFFFFFF == 0x7FF8000000000000
    return bits & 0x7FF8000000000000 == 0x7FF8000000000000


def _same_hierarchy(t1: str, t2: str) -> bool:
    """Whether two reference types share a hierarchy (func, extern, any, exn): a result of
    type ``(ref null 0)`` may match ``ref.null func``; raw references carry no type."""
    r1, r2 = as_reftype(t1), as_reftype(t2)
    if r1 is None or r2 is None:
        return False
    if isinstance(r1.heap, int) or isinstance(r2.heap, int):
        return True   # a type index is module-relative: the value's own test decides
    return top_heap(r1.heap) == top_heap(r2.heap)


# What a non-null GC value of each abstract type is (runtime/gc.py's representation).
_REF_PATTERN_TESTS = {
    "i31ref": lambda v: type(v) is int, "structref": lambda v: isinstance(v, Struct),
    "arrayref": lambda v: isinstance(v, Array),
    "eqref": lambda v: type(v) is int or isinstance(v, (Struct, Array)),
}


class Runner:
    """Runs commands in one store. ``skip_text_modules``: treat text / quote module sources
    as not-yet-runnable (counted in ``skipped``) instead of parsing them. ``features``:
    the Wasm 3.0 proposals modules may use (None: all; ``opcodes.WASM2_FEATURES`` for
    the 2.0 testsuite, whose scripts expect 2.0's rules). ``lowering``: None (the
    translator chooses per function), "flat" or "structured" forces one everywhere;
    ``metered``: fuel and epoch checks compiled in, with fuel and an epoch deadline that
    never run out (the tests run the testsuite each way)."""

    def __init__(self, max_call_depth: Optional[int] = None, out: Optional[TextIO] = None,
                 skip_text_modules: bool = False, compile_code: bool = True,
                 features: Optional[Collection[str]] = None, lowering: Optional[str] = None,
                 metered: bool = False) -> None:
        self.features = features
        self.lowering = lowering
        self.metered = metered
        self.store = Store() if max_call_depth is None else Store(max_call_depth)
        if metered:
            self.store.fuel_cell[0] = 1 << 62
            self.store.deadline_cell[0] = 1 << 62
        self.registry: Dict[str, Dict[str, Any]] = {"spectest": make_spectest(self.store, out)}
        self.named: Dict[str, ModuleInstance] = {}
        self.last: Optional[ModuleInstance] = None
        # Module definitions (Wasm 3.0 scripts): by name, and the most recent one.
        self.definitions: Dict[str, Module] = {}
        self.last_definition: Optional[Module] = None
        self.skip_text_modules = skip_text_modules
        self.compile_code = compile_code
        self.hostrefs: Dict[int, HostRef] = {}
        self.result = ScriptResult()

    # --- modules ---------------------------------------------------------------------

    def _parse_text(self, source: ModuleSource) -> Module:
        from purewasm.text.parser import parse_module, parse_quoted_module
        if source.kind == QUOTE:    # a list of fields: none at all is the empty module
            return parse_quoted_module(source.data, self.features)
        return parse_module(source.data, self.features)

    def decode(self, source: ModuleSource) -> Module:
        """Decode (or parse) a module source: may raise MalformedError."""
        if source.kind == BINARY:
            from purewasm.binary import decode_module
            data = source.data
            if not isinstance(data, bytes):
                raise _CommandFailed("a binary module source holds text")
            return decode_module(data, self.features)
        return self._parse_text(source)

    def load(self, source: ModuleSource) -> Module:
        """Decode (or parse) and validate a module source, a binary as the API loads one
        (function bodies validated from the bytes, decoded on first use)."""
        if source.kind == BINARY and isinstance(source.data, bytes):
            from purewasm.validate import decode_and_validate
            return decode_and_validate(source.data, self.features, self.features)
        module = self.decode(source)
        from purewasm.validate import validate_module
        validate_module(module, self.features)
        return module

    def _compiled(self, module: Module) -> Any:
        if not self.compile_code:
            return None
        from purewasm.compile import CompiledModule
        return CompiledModule(module, self.lowering, fuel=self.metered, epoch=self.metered)

    def resolve_imports(self, module: Module) -> List[Any]:
        externs = []
        for imp in module.imports:
            exports = self.registry.get(imp.module)
            item = None if exports is None else exports.get(imp.name)
            if item is None:
                raise LinkError("unknown import: `%s::%s`" % (imp.module, imp.name))
            externs.append(item)
        return externs

    def instantiate(self, module: Module) -> ModuleInstance:
        externs = self.resolve_imports(module)
        return instantiate(self.store, module, externs, self._compiled(module))

    def _instance(self, name: Optional[str]) -> ModuleInstance:
        if name is None:
            if self.last is None:
                raise _CommandFailed("no module defined")
            return self.last
        inst = self.named.get(name)
        if inst is None:
            raise _CommandFailed("unknown module %s" % name)
        return inst

    # --- values ----------------------------------------------------------------------

    def to_raw(self, c: Const) -> Any:
        if c.value is None:   # ref.null (a number always has its value)
            return None
        if c.type in ("i32", "i64"):
            return c.value & _MASKS[c.type]
        if c.type == "f32":
            return f32_from_bits(c.value)
        if c.type == "f64":
            return f64_from_bits(c.value)
        if c.type == "v128":
            return c.value
        if c.type in ("externref", "anyref"):   # ref.extern N / ref.host N
            ref = self.hostrefs.get(c.value)
            if ref is None:
                ref = self.hostrefs[c.value] = HostRef(c.value)
            return ref
        raise _CommandFailed("cannot pass %s %r as an argument" % (c.type, c.value))

    def match(self, ty: str, raw: Any, exp: Any) -> bool:
        """Whether the raw result ``raw`` of type ``ty`` matches expectation ``exp``."""
        # References: a result of any reference type (e.g. "(ref extern)", "(ref null 0)")
        # matches an expected reference value (spec 3.0 values are not typed by the
        # function's result type).
        is_ref = as_reftype(ty) is not None
        if isinstance(exp, Const):
            if exp.type != ty and not _same_hierarchy(exp.type, ty):
                return False
            if ty in ("i32", "i64"):
                # bool is accepted: an int subclass generated code uses for comparisons.
                return isinstance(raw, int) and raw == exp.value
            if ty == "f32":
                return isinstance(raw, float) and _f32_exact(raw) and \
                    f32_to_bits(raw) == exp.value
            if ty == "f64":
                return isinstance(raw, float) and f64_to_bits(raw) == exp.value
            if ty == "v128":
                return type(raw) is int and raw == exp.value
            if exp.value is None:
                return raw is None
            if exp.type in ("externref", "anyref"):
                return isinstance(raw, HostRef) and raw.n == exp.value
            return False
        if isinstance(exp, NanPattern):
            if exp.type != ty or not isinstance(raw, float):
                return False
            if ty == "f32":
                return _f32_exact(raw) and _is_nan_bits(f32_to_bits(raw), exp.kind, 32)
            return _is_nan_bits(f64_to_bits(raw), exp.kind, 64)
        if isinstance(exp, NullPattern):
            return raw is None and is_ref
        if isinstance(exp, RefPattern):
            if exp.type != ty and not _same_hierarchy(exp.type, ty):
                return False
            if exp.type == "funcref":
                return isinstance(raw, FuncInstance)
            test = _REF_PATTERN_TESTS.get(exp.type)
            return raw is not None and (test is None or test(raw))
        if isinstance(exp, V128Pattern):
            return ty == "v128" and type(raw) is int and _v128_match(raw, exp)
        return False

    def check_results(self, types: Sequence[str], raws: Sequence[Any],
                      expected: Sequence[Any]) -> Optional[str]:
        """None if the results match, else a description of the mismatch."""
        if len(expected) == 1 and isinstance(expected[0], Either):
            for alt in expected[0].alternatives:
                if self.check_results(types, raws, alt) is None:
                    return None
            return "result %s matches no alternative of %s" % (
                ", ".join(_fmt_raw(t, r) for t, r in zip(types, raws)), expected[0])
        if len(raws) != len(expected):
            return "expected %d results, got %d" % (len(expected), len(raws))
        for i, (ty, raw, exp) in enumerate(zip(types, raws, expected)):
            if isinstance(exp, Either):
                if not any(self.check_results([ty], [raw], alt) is None
                           for alt in exp.alternatives):
                    return "result %d: %s matches no alternative" % (i, _fmt_raw(ty, raw))
            elif not self.match(ty, raw, exp):
                return "result %d: expected %s, got %s" % (i, _fmt_expected(exp),
                                                          _fmt_raw(ty, raw))
        return None

    # --- actions ---------------------------------------------------------------------

    def action(self, act: Any) -> Tuple[List[str], List[Any]]:
        """Perform an action: (result types, raw results). Traps propagate."""
        inst = self._instance(act.module)
        item = inst.exports.get(act.field)
        if item is None:
            raise _CommandFailed("unknown export %r" % act.field)
        if isinstance(act, Get):
            if not isinstance(item, GlobalInstance):
                raise _CommandFailed("export %r is not a global" % act.field)
            return [item.type.content], [item.value]
        if not isinstance(act, Invoke) or not isinstance(item, FuncInstance):
            raise _CommandFailed("export %r is not a function" % act.field)
        ft = item.type
        if len(act.args) != len(ft.params):
            raise _CommandFailed("wrong number of arguments for %r" % act.field)
        args = [self.to_raw(a) for a in act.args]
        result = self.store.invoke(item, args)
        n = len(ft.results)
        if n == 0:
            if result is not None:
                raise _CommandFailed("function with no results returned %r" % (result,))
            return [], []
        if n == 1:
            return list(ft.results), [result]
        if not isinstance(result, tuple) or len(result) != n:
            raise _CommandFailed("expected a tuple of %d results, got %r" % (n, result))
        return list(ft.results), list(result)

    # --- commands --------------------------------------------------------------------

    def run(self, commands: Sequence[Command]) -> ScriptResult:
        for cmd in commands:
            self.run_command(cmd)
        return self.result

    def _is_text(self, source: ModuleSource) -> bool:
        return source.kind != BINARY

    def run_command(self, cmd: Command) -> None:
        line = cmd.line
        kind = type(cmd).__name__
        source = getattr(cmd, "source", None) or getattr(cmd, "module", None)
        if isinstance(cmd, AssertTrap) and isinstance(cmd.action, ModuleCommand):
            source = cmd.action.source
        if self.skip_text_modules and isinstance(source, ModuleSource) \
                and self._is_text(source):
            self.result.skipped.append((line, "%s: text module (text parser not used)" % kind))
            return
        try:
            self._dispatch(cmd)
        except _CommandFailed as exc:
            self.result.failed.append((line, "%s: %s" % (kind, exc)))
            return
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a crash fails one command only
            tb = traceback.extract_tb(exc.__traceback__)
            where = ("%s:%s" % (tb[-1].filename.rsplit("/", 1)[-1], tb[-1].lineno)) if tb else ""
            self.result.failed.append((line, "%s: unexpected %s: %s [%s]" % (
                kind, type(exc).__name__, _short(exc), where)))
            return
        self.result.passed.append((line, kind))

    def _dispatch(self, cmd: Command) -> None:
        if isinstance(cmd, ModuleCommand):
            self._define(cmd)
        elif isinstance(cmd, InstanceCommand):
            self._instantiate_definition(cmd)
        elif isinstance(cmd, Register):
            inst = self._instance(cmd.name)
            self.registry[cmd.as_name] = dict(inst.exports)
        elif isinstance(cmd, ActionCommand):
            self.action(cmd.action)
        elif isinstance(cmd, AssertReturn):
            types, raws = self._expect_no_trap(cmd.action)
            problem = self.check_results(types, raws, cmd.expected)
            if problem is not None:
                raise _CommandFailed(problem)
        elif isinstance(cmd, AssertTrap):
            if isinstance(cmd.action, ModuleCommand):
                self._expect_instantiation_trap(cmd.action.source, cmd.message)
            else:
                self._expect_trap(cmd.action, cmd.message)
        elif isinstance(cmd, AssertExhaustion):
            self._expect_trap(cmd.action, cmd.message, TrapCode.STACK_OVERFLOW)
        elif isinstance(cmd, AssertException):
            self._expect_exception(cmd.action)
        elif isinstance(cmd, AssertInvalid):
            self._expect_error(cmd.line, cmd.module, cmd.message, InvalidError)
        elif isinstance(cmd, AssertMalformed):
            self._expect_error(cmd.line, cmd.module, cmd.message, MalformedError)
        elif isinstance(cmd, AssertUnlinkable):
            self._expect_error(cmd.line, cmd.module, cmd.message, LinkError)
        elif isinstance(cmd, AssertUninstantiable):
            self._expect_instantiation_trap(cmd.module, cmd.message)
        else:
            raise _CommandFailed("unknown command %r" % (cmd,))

    def _define(self, cmd: ModuleCommand) -> None:
        # A plain module command defines the module and instantiates it, both under its
        # name (run.ml); a definition only defines it and leaves the current instance.
        if not cmd.definition:
            self.last = None
        try:
            module = self.load(cmd.source)
        except WasmtimeError as exc:
            raise _CommandFailed("module failed: %s: %s" % (type(exc).__name__, _short(exc))) from None
        self.last_definition = module
        if cmd.name is not None:
            self.definitions[cmd.name] = module
        if not cmd.definition:
            self._new_instance(module, cmd.name)

    def _instantiate_definition(self, cmd: InstanceCommand) -> None:
        self.last = None
        if cmd.module is None:
            module = self.last_definition
            if module is None:
                raise _CommandFailed("no module defined")
        else:
            found = self.definitions.get(cmd.module)
            if found is None:
                raise _CommandFailed("unknown module definition %s" % cmd.module)
            module = found
        self._new_instance(module, cmd.instance)

    def _new_instance(self, module: Module, name: Optional[str]) -> None:
        try:
            inst = self.instantiate(module)
        except (WasmtimeError, Trap) as exc:
            raise _CommandFailed("module failed: %s: %s" % (type(exc).__name__, _short(exc))) from None
        self.last = inst
        if name is not None:
            self.named[name] = inst

    def _expect_no_trap(self, act: Any) -> Tuple[List[str], List[Any]]:
        try:
            return self.action(act)
        except Trap as exc:
            raise _CommandFailed("unexpected trap: %s" % _short(exc)) from None

    def _expect_trap(self, act: Any, message: str,
                     code: Optional[TrapCode] = None) -> None:
        try:
            types, raws = self.action(act)
        except Trap as exc:
            if code is not None and exc.trap_code is not code:
                raise _CommandFailed("expected %s, got trap %r" % (code.value, exc.reason)) from None
            if not _messages_match(message, exc.reason):
                raise _CommandFailed("expected trap %r, got %r" % (message, exc.reason)) from None
            return
        raise _CommandFailed("expected trap %r, got %s" % (
            message, ", ".join(_fmt_raw(t, r) for t, r in zip(types, raws)) or "no trap"))

    def _expect_exception(self, act: Any) -> None:
        # An uncaught Wasm exception (exception handling) ends the action.
        try:
            types, raws = self.action(act)
        except WasmException:
            return
        except Trap as exc:
            raise _CommandFailed("expected an uncaught exception, got trap %r"
                                 % exc.reason) from None
        raise _CommandFailed("expected an uncaught exception, got %s" % (
            ", ".join(_fmt_raw(t, r) for t, r in zip(types, raws)) or "no result"))

    def _expect_instantiation_trap(self, source: ModuleSource, message: str) -> None:
        module = self.load(source)
        try:
            self.instantiate(module)
        except Trap as exc:
            if not _messages_match(message, exc.reason):
                raise _CommandFailed("expected trap %r, got %r" % (message, exc.reason)) from None
            return
        raise _CommandFailed("expected trap %r, module instantiated" % message)

    def _expect_error(self, line: int, source: ModuleSource, message: str,
                      expected: Type[WasmtimeError]) -> None:
        try:
            # A malformed module that decodes must not validate either: the InvalidError
            # then fails the command as "invalid instead of malformed".
            module = self.load(source)
            if expected is LinkError:
                self.instantiate(module)
        except expected as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            if not _messages_match(message, reason) and message not in str(exc):
                self.result.message_mismatches.append(
                    (line, "expected %r, got %r" % (message, reason)))
            return
        except (WasmtimeError, Trap) as exc:
            raise _CommandFailed("expected %s %r, got %s: %s" % (
                expected.__name__, message, type(exc).__name__, _short(exc))) from None
        raise _CommandFailed("expected %s %r, module accepted" % (expected.__name__, message))


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def _f32_exact(raw: float) -> bool:
    """A raw f32 must be exactly representable as an f32 (INTERNALS.md raw values)."""
    if raw != raw:
        return True
    try:
        return bool(struct.unpack("<f", struct.pack("<f", raw))[0] == raw)
    except OverflowError:
        return False


_SHAPES = {"i8": (8, 16), "i16": (16, 8), "i32": (32, 4), "i64": (64, 2), "f32": (32, 4),
           "f64": (64, 2)}


def _v128_match(raw: int, exp: V128Pattern) -> bool:
    bits, count = _SHAPES[exp.shape]
    mask = (1 << bits) - 1
    for i, lane in enumerate(exp.lanes[:count]):
        got = (raw >> (i * bits)) & mask
        if isinstance(lane, str):
            if not _is_nan_bits(got, lane, bits):
                return False
        elif got != lane:
            return False
    return True


def run_script(commands: Sequence[Command], **options: Any) -> ScriptResult:
    """Run ``commands`` in a fresh store (options: see :class:`Runner`)."""
    return Runner(**options).run(commands)


def run_wast_file(path: str, use_text_parser: bool = True, **options: Any) -> ScriptResult:
    """Run a ``.wast`` file: with our text parser, or (``use_text_parser=False``) through
    wabt's wast2json, text modules then skipped."""
    if use_text_parser:
        from purewasm.text import parse_script
        with open(path, encoding="utf-8") as f:
            return run_script(parse_script(f.read()), **options)
    from .json_reader import read_wast_via_json
    options.setdefault("skip_text_modules", True)
    return run_script(read_wast_via_json(path), **options)
