"""Wasm functions -> Python functions (see translate.py for the translation itself).

``CompiledModule(module)`` holds one code object per defined function, translated on the
function's first call and shared by every instance of the module; ``bind(instance)``
gives an instance its namespace and a lazy stub per defined function (docs/INTERNALS.md).
"""
from __future__ import annotations

import hashlib
import marshal
import sys
import threading
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

from purewasm.errors import Frame, WasmtimeError
from purewasm.runtime.traps import GENERATED_CODE
from purewasm.runtime.values import module_type_ids
from purewasm.binary import decode_module, encode_module
from purewasm.syntax import Func, Module

from . import support
from .support import base_namespace, new_namespace, tail_entry
from . import names
from .entries import TranslationError, UnsupportedError
from .scan import Scan
from .stack import FUNC_ENTRY
from .translate import IndexSpaces, Translator

__all__ = ["CompiledModule", "TranslationError", "UnsupportedError", "TRANSLATOR_VERSION",
           "cache_key"]

# Part of any on-disk cache key for generated code (3: entries record SIMD use; 4: and
# tail calls; 5: lines map to instruction indices, not byte offsets; 7: code shapes of
# the speed work; 8: and PyPy's shapes of i32 arithmetic, ops_pypy.py; 9: PyPy's signed
# i64 words; 10: and CPython's range facts, ranges.py; 11 (session 6, two branches):
# call_indirect's table caches, or accessed pointers, ranges.py; 12: signed comparisons
# with a literal as bounds checks, or loops versioned for typed views, views.py; 13: all;
# 14: signed comparisons of two names without flipping sign bits; 15 (session 7, three
# branches): views after an assignment and element indexes for view pointers, views.py,
# or three-way comparisons, ops_numeric.py, or interval facts, intervals.py; 16: view
# loads folded into their reader; 17: with three-way comparisons; 18: counted view loops
# as for loops; 19: all; 29, session 10: switch chains bisected on the br_table's index;
# 30: the flat lowering's merged states, below-bound copy loops; 31, session 11: an
# element index as the for loop's variable, held local.sets left out; 32: differences
# of values likely in range reduced with %; 33: signed results too; 34: the flat
# lowering's if-joins folded into one goto; 35, session 12: a swap of one aligned
# word through a view, slot temporaries and dual counters for temporary indexes).
TRANSLATOR_VERSION = 35


_BASE_NS = base_namespace()
_VECTOR_NS: Dict[str, Any] = {}


def _vector_namespace() -> Dict[str, Any]:
    """The vector helpers' names, added to an instance's namespace when it realizes its
    first function using SIMD (compile/simd.py is imported only then)."""
    if not _VECTOR_NS:
        from .simd import namespace
        _VECTOR_NS.update(namespace())
        _VECTOR_NS["__purewasm_vector__"] = True
    return _VECTOR_NS


def _not_compiled(name: str, exc: BaseException) -> TranslationError:
    # A MemoryError has no message: name the exception then.
    return TranslationError("function %s: generated code does not compile: %s"
                            % (name, str(exc) or type(exc).__name__))


def cache_key(module_bytes: bytes) -> str:
    """A key for cached translations of a module: its hash, the translator version and
    the Python implementation (code objects are specific to one bytecode version)."""
    h = hashlib.sha256(module_bytes).hexdigest()
    shapes = "-pypyshapes" if support.PYPY_SHAPES else ""
    return "%s-v%d-%s%s" % (h, TRANSLATOR_VERSION, sys.implementation.cache_tag, shapes)


class CompiledModule:
    """Translation results for one Module, shared by all its instances."""

    def __init__(self, module: Module, mode: Optional[str] = None, fuel: bool = False,
                 epoch: bool = False) -> None:
        """``mode``: None chooses per function; "flat" forces the any-shape lowering
        everywhere (tests use it to check both lowerings on the same programs).

        ``fuel``: generated code charges every executed instruction (except nop, drop,
        block, loop, end, else) to ``instance.fuel_cell[0]`` (a one-element list the
        store shares between its instances), at each control instruction, and raises
        ``Trap(OUT_OF_FUEL)`` once it is negative. ``epoch``: at function entry and
        each loop iteration, ``instance.tick_cell[0]`` is decremented and, once negative,
        ``instance.epoch_hit()`` is called (it raises ``Trap(INTERRUPT)`` past the epoch or
        wall-clock deadline, else re-arms the countdown). Both cost nothing
        when off; a CompiledModule is made for one setting of them.
        """
        if mode not in (None, "flat", "structured"):
            raise ValueError("mode must be None, 'flat' or 'structured'")
        self.module = module
        self.force = mode
        self.fuel = fuel
        self.epoch = epoch
        self._spaces = IndexSpaces(module)
        self.func_types = self._spaces.func_types
        self.num_imported = module.num_imported_funcs()
        # function index -> (code object, constants it needs in its namespace, mode,
        # the instruction index of each generated line, whether it calls vector helpers,
        # whether it makes tail calls);
        # plain tuples, so that export_codes can marshal them
        self._codes: Dict[int, Tuple[Any, ...]] = {}
        # id of a code object in _codes -> function index, for the backtraces (wasm_frame;
        # by id: hashing a code object hashes its bytecode and constants, every time)
        self._index_of_code: Dict[int, int] = {}
        # (code id, line) -> its frame: a deep recursion repeats the same few
        self._frames: Dict[Tuple[int, Optional[int]], Frame] = {}
        self._offset_funcs: Optional[List[Optional[Func]]] = None   # see _binary_funcs
        self._lock = threading.RLock()   # realize() may realize another instance's stub

    # ----- translation ----------------------------------------------------------------

    def source(self, index: int, flat: Optional[bool] = None) -> str:
        """The Python source of function ``index`` (for debugging and tests)."""
        return self._translate(index, flat)[0]

    def _translate(self, index: int, flat: Optional[bool]
                   ) -> Tuple[str, Dict[str, Any], bool, Tuple[Any, ...], bool, bool]:
        if flat is None and self.force is not None:
            flat = self.force == "flat"
        scan = None
        if flat is None:
            body = self.module.funcs[index - self.num_imported].body
            scan = Scan(body)
            flat = not scan.structured_ok()
        tr = Translator(self.module, index, flat, self.func_types, self.fuel, self.epoch,
                        self._spaces, scan)
        src = tr.translate()
        return src, tr.consts, flat, tuple(tr.line_pcs), tr.uses_simd, tr.tail_calls

    def code(self, index: int, flat: Optional[bool] = None) -> types.CodeType:
        """The code object of function ``index``, translated on first use and cached."""
        if flat is not None:
            return self._compile(index, flat)[0]   # a forced lowering is not cached
        entry = self._codes.get(index)
        if entry is None:
            entry = self._codes[index] = self._compile(index, None)
            self._index_of_code[id(entry[0])] = index
        return entry[0]

    def offset_of(self, index: int, lineno: int) -> Optional[int]:
        """The byte offset in the module binary of the instruction that line ``lineno``
        of function ``index``'s generated code came from (None if unknown)."""
        entry = self._codes.get(index)
        if entry is None or not 0 < lineno <= len(entry[3]):
            return None
        pc = entry[3][lineno - 1]
        if pc is None:
            return None
        func = self._binary_funcs()[index - self.num_imported]
        if func is None or func.offset is None:
            return None
        if pc == FUNC_ENTRY:
            return func.offset
        offset: Optional[int] = func.body[pc].offset
        return offset

    def _binary_funcs(self) -> List[Optional[Func]]:
        """The defined functions with their byte offsets: the module's own when it was
        decoded from a binary; for a module from the text format (no offsets), those of
        its encoding (what wasmtime reports for the same text), made on first need."""
        if self._offset_funcs is None:
            funcs: List[Optional[Func]] = list(self.module.funcs)
            if any(f.offset is None for f in self.module.funcs):
                try:
                    encoded = decode_module(encode_module(self.module)).funcs
                except Exception:  # noqa: BLE001 - offsets are extra: never lose the trap
                    encoded = []
                funcs = [e if len(e.body) == len(f.body) else None
                         for f, e in zip(self.module.funcs, encoded)]
                funcs += [None] * (len(self.module.funcs) - len(funcs))
            self._offset_funcs = funcs
        return self._offset_funcs

    def wasm_frame(self, code: types.CodeType, lineno: Optional[int]) -> Optional[Frame]:
        """The backtrace frame of generated ``code`` at line ``lineno`` (runtime.traps'
        FrameSource contract; None for code that is not one of this module's functions)."""
        key = (id(code), lineno)
        frame = self._frames.get(key)
        if frame is not None:
            return frame
        index = self._index_of_code.get(id(code))
        if index is None:
            return None
        module = self.module
        module_offset = self.offset_of(index, lineno) if lineno is not None else None
        func_offset = None
        func = self._binary_funcs()[index - self.num_imported]
        if module_offset is not None and func is not None and func.offset is not None:
            func_offset = module_offset - func.offset
        frame = self._frames[key] = Frame(index, module.names.funcs.get(index),
                                          module.names.module, func_offset, module_offset)
        return frame

    def mode(self, index: int) -> str:
        """"structured" or "flat": how function ``index`` was lowered (after code())."""
        self.code(index)
        return self._codes[index][2]

    def _compile(self, index: int, flat: Optional[bool]) -> Tuple[Any, ...]:
        """(code object, constants, "structured"/"flat", instruction index per source
        line, uses SIMD, makes tail calls)."""
        src, consts, is_flat, pcs, simd, tail = self._translate(index, flat)
        try:
            code = self._compile_source(src, index)
        except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError) as exc:
            if is_flat or flat is not None:
                raise _not_compiled(self.module.func_name(index), exc) from None
            # A shape the structured lowering cannot express within CPython's limits.
            src, consts, is_flat, pcs, simd, tail = self._translate(index, True)
            try:
                code = self._compile_source(src, index)
            except (SyntaxError, RecursionError, MemoryError, ValueError,
                    OverflowError) as exc2:
                raise _not_compiled(self.module.func_name(index), exc2) from None
        return code, consts, "flat" if is_flat else "structured", pcs, simd, tail

    def _compile_source(self, src: str, index: int) -> types.CodeType:
        # The name comes from the module (name section, exports): any string, so keep only
        # a printable ASCII form (compile() refuses NUL characters, e.g.).
        filename = "<wasm function %d %s>" % (index, names.printable(self.module.func_name(index)))
        scratch: Dict[str, Any] = {}
        exec(compile(src, filename, "exec"), scratch)
        return scratch[names.FUNC % index].__code__

    # ----- instances --------------------------------------------------------------------

    def bind(self, instance: Any) -> None:
        """Give every defined function of ``instance`` a stub that compiles on first call."""
        ns = new_namespace(_BASE_NS)
        ns["__purewasm_ready__"] = False
        ns[GENERATED_CODE] = self   # its FrameSource, for backtraces (runtime.traps)
        funcs = instance.funcs
        for i in range(self.num_imported, len(self.func_types)):
            finst = funcs[i]
            finst.fn = ns[names.FUNC % i] = _LazyStub(self, ns, instance, i, finst)

    def _populate(self, ns: Dict[str, Any], instance: Any) -> None:
        """Fill the instance's names in (done on the first call: instantiation is over)."""
        module = self.module
        for i in range(self.num_imported):
            fn = instance.import_calls.get(i) if getattr(instance, "import_calls", None) \
                else None
            if fn is None:
                fn = instance.funcs[i].fn
                realize = getattr(fn, "purewasm_realize", None)
                if realize is not None:
                    # Another instance's lazy stub: translate it now so that calls go
                    # straight to the generated function (no extra frame per call).
                    try:
                        fn = realize()
                    except WasmtimeError:
                        pass   # e.g. unsupported: the stub raises it when called
            ns[names.FUNC % i] = fn
        for i, finst in enumerate(instance.funcs):
            ns[names.FUNC_REF % i] = finst
        for i, mem in enumerate(instance.memories):
            ns[names.MEMORY % i] = mem.data
            ns[names.MEMORY_GROW % i] = mem.grow
            ns[names.MEMORY_VIEWS % i] = mem.views
            ns[names.MEMORY_VIEW % i] = mem.make_view
        for i, tab in enumerate(instance.tables):
            ns[names.TABLE % i] = tab.elements
            ns[names.TABLE_GROW % i] = tab.grow
        gtypes = module.global_types()
        for i, g in enumerate(instance.globals):
            if gtypes[i].mutable:
                ns[names.GLOBAL_CELL % i] = g
            else:
                ns[names.GLOBAL_CONST % i] = g.value
        for i, tid in enumerate(module_type_ids(module.types)):
            ns[names.TYPE_ID % i] = tid
        for i, tag in enumerate(getattr(instance, "tags", ())):
            ns[names.TAG % i] = tag
        ns[names.ELEMS] = instance.elem_segments
        ns[names.DATAS] = instance.data_segments
        if self.fuel:
            ns[names.FUEL] = instance.fuel_cell
        if self.epoch:
            ns[names.EPOCH_TICKS] = instance.tick_cell
            ns[names.EPOCH_HIT] = instance.epoch_hit
        ns["__purewasm_ready__"] = True

    def _realize(self, stub: "_LazyStub") -> Callable[..., Any]:
        """Translate (or take from the cache) the function behind ``stub`` and put it
        in place of the stub: in the namespace and in its FuncInstance."""
        with self._lock:
            fn = stub.fn
            if fn is None:
                ns, index = stub.ns, stub.index
                if not ns["__purewasm_ready__"]:
                    ns["__purewasm_ready__"] = True   # no recursion through imports
                    self._populate(ns, stub.instance)
                code = self.code(index)
                entry = self._codes[index]
                ns.update(entry[1])
                if entry[4] and "__purewasm_vector__" not in ns:
                    ns.update(_vector_namespace())
                for name in code.co_names:
                    m = names.CALL_CACHE_NAME.match(name)
                    if m is not None and name not in ns:
                        # call_indirect's cache for (table, type): per instance.
                        table = stub.instance.tables[int(m.group(1))]
                        ns[name] = table.elements.call_cache(ns[names.TYPE_ID % int(m.group(2))])
                fn = types.FunctionType(code, ns)
                if entry[5]:
                    fn = tail_entry(fn)   # it makes tail calls: their loop
                stub.fn = fn
                ns[names.FUNC % index] = fn
                stub.finst.fn = fn
            return fn

    # ----- persistence (an on-disk cache is built on these) ------------------------------

    def export_codes(self) -> bytes:
        """The translated functions so far, marshalled (valid only for the same module,
        translator version and Python implementation: see :func:`cache_key`)."""
        with self._lock:
            codes = dict(self._codes)
        return codes_payload(self.fuel, self.epoch, codes)

    def translated_count(self) -> int:
        """How many functions are translated (and would be exported)."""
        return len(self._codes)

    def import_codes(self, data: bytes) -> int:
        """Load functions saved by :meth:`export_codes`; returns how many were loaded
        (0 when the data is from another translator version or Python)."""
        n = 0
        with self._lock:
            for index, entry in codes_from_payload(data, self.fuel, self.epoch).items():
                if index not in self._codes and \
                        self.num_imported <= index < len(self.func_types):
                    self._codes[index] = entry
                    self._index_of_code[id(entry[0])] = index
                    n += 1
        return n

    def compile_all(self, skip_errors: bool = False) -> None:
        """Translate every defined function now (e.g. to fill a cache or find errors).
        ``skip_errors``: a function that does not translate is left out (calling it raises
        the error, as without compile_all)."""
        for i in range(self.num_imported, len(self.func_types)):
            try:
                self.code(i)
            except WasmtimeError:
                if not skip_errors:
                    raise


class _LazyStub:
    """What a function is until its first call: calling it (or ``purewasm_realize()``)
    translates the function and puts the result in its place. A small object rather
    than closures: a module of 30,000 functions makes 30,000 of them at instantiation."""

    __slots__ = ("compiled", "ns", "instance", "index", "finst", "fn")

    def __init__(self, compiled: "CompiledModule", ns: Dict[str, Any], instance: Any,
                 index: int, finst: Any) -> None:
        self.compiled, self.ns, self.instance = compiled, ns, instance
        self.index, self.finst = index, finst
        self.fn: Optional[Callable[..., Any]] = None

    def __call__(self, *args: Any) -> Any:
        fn = self.fn
        if fn is None:
            fn = self.compiled._realize(self)
        return fn(*args)

    def purewasm_realize(self) -> Callable[..., Any]:
        fn = self.fn
        return fn if fn is not None else self.compiled._realize(self)

    @property
    def __name__(self) -> str:   # as a function's (backtraces, debuggers)
        return "stub_f%d" % self.index

    def __repr__(self) -> str:
        return "<lazy function %d>" % self.index


def codes_from_payload(data: bytes, fuel: bool, epoch: bool) -> Dict[int, Tuple[Any, ...]]:
    """The functions in an :meth:`CompiledModule.export_codes` payload made for this
    translator, Python and fuel/epoch setting (empty otherwise, or when damaged)."""
    try:
        payload = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return {}
    if (not isinstance(payload, dict) or payload.get("version") != TRANSLATOR_VERSION
            or payload.get("tag") != sys.implementation.cache_tag
            or payload.get("fuel") != fuel or payload.get("epoch") != epoch):
        return {}
    codes = payload.get("codes")
    if not isinstance(codes, dict):
        return {}
    out: Dict[int, Tuple[Any, ...]] = {}
    for index, entry in codes.items():
        if not (isinstance(index, int) and isinstance(entry, tuple) and len(entry) == 6
                and isinstance(entry[0], types.CodeType)):
            return {}
        out[index] = entry
    return out


def codes_payload(fuel: bool, epoch: bool, codes: Dict[int, Tuple[Any, ...]]) -> bytes:
    """The marshalled form of translated functions (see CompiledModule.export_codes)."""
    payload = {"version": TRANSLATOR_VERSION, "tag": sys.implementation.cache_tag,
               "fuel": fuel, "epoch": epoch, "codes": codes}
    return marshal.dumps(payload)
