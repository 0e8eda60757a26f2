"""Instantiation (spec exec/modules.rst, "Instantiation", Wasm 2.0) and the runtime Store.

Order, as in the 2.0 spec:
 1. the externs must match the imports (``LinkError``: "incompatible import type");
 2. globals are initialised from constant expressions (which may read imported globals and
    take ``ref.func`` of any function of the module);
 3. element and data segment contents are evaluated;
 4. active element segments are copied into tables (``table.init`` then ``elem.drop``),
    declarative ones dropped; then active data segments are copied into memories
    (``memory.init`` then ``data.drop``). Each copy is bounds-checked on its own: an out of
    bounds segment traps, and the segments before it *stay applied* (2.0 semantics: tables
    and memories shared with other instances observe them, see linking.wast);
 5. the start function runs.
The functions of a module whose instantiation traps stay alive where a table holds them.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from purewasm.errors import InstantiationError, InvalidError, LinkError, Trap, TrapCode, \
    WasmtimeError
from purewasm.syntax import ACTIVE, DECLARATIVE, FUNC, GLOBAL, MEMORY, TABLE, TAG, Expr, \
    FuncType, Import, Limits, Module

from . import call, static_depth
from .instances import PAGE_SIZE, FuncInstance, GlobalInstance, MemoryInstance, \
    ModuleInstance, TableInstance, TagInstance
from purewasm.syntax.canon import is_subtype_id
from . import gc
from .values import MASK32, MASK64, f32_from_bits, f64_from_bits, module_type_ids
from purewasm.validate.matching import TypeSpace, matches, types_equal

Extern = Any   # FuncInstance | TableInstance | MemoryInstance | GlobalInstance


# Store limits by default (docs/SECURITY.md, "Limits"): a guest cannot make the host
# allocate absurd amounts unless the embedder raised them with Store.set_limits. A linear
# memory is a zero-filled bytearray here (every byte costs RAM and time at allocation:
# 4 GiB took 5-7 s), so the default per-memory cap is well below the 4 GiB of Wasm32.
DEFAULT_MEMORY_LIMIT_BYTES = 1 << 30
DEFAULT_TABLE_ELEMENTS_LIMIT = 1_000_000
DEFAULT_INSTANCE_LIMIT = 10_000
DEFAULT_TABLE_COUNT_LIMIT = 10_000
DEFAULT_MEMORY_COUNT_LIMIT = 10_000
# Epoch checks between two slow checks (engine epoch, wall clock, interrupt flag): the
# generated code only counts down; ~1,000 loop iterations take ~20-200 us.
TICK_INTERVAL = 1000


class Store:
    """The runtime side of a store: limits and the call boundary for its functions.

    Thread safety: a store (and every object made in it) is used by one thread at a time,
    as in wasmtime; separate stores may run on separate threads at once.
    """

    def __init__(self, max_call_depth: int = call.DEFAULT_MAX_CALL_DEPTH,
                 use_thread: Optional[bool] = None) -> None:
        self.max_call_depth = max_call_depth
        self.use_thread = use_thread
        # Limits (Store.set_limits), read at every creation and every growth.
        self.memory_limit_bytes: Optional[int] = DEFAULT_MEMORY_LIMIT_BYTES  # per memory
        self.table_limit: Optional[int] = DEFAULT_TABLE_ELEMENTS_LIMIT  # per table
        self.instance_limit: Optional[int] = DEFAULT_INSTANCE_LIMIT
        self.table_count_limit: Optional[int] = DEFAULT_TABLE_COUNT_LIMIT
        self.memory_count_limit: Optional[int] = DEFAULT_MEMORY_COUNT_LIMIT
        self.instance_count = 0
        self.table_count = 0
        self.memory_count = 0
        # Instances entered from the embedder, innermost last: the Caller of a host function
        # reached without a per-instance binding (e.g. through a table).
        self.active_instances: List[ModuleInstance] = []
        # Store-independent host definitions (Linker.define_func) materialised in this store.
        self.host_cache: Dict[Any, FuncInstance] = {}
        self.data: Any = None
        # Fuel left, the engine's epoch and this store's epoch deadline: one-element
        # lists that the generated code of every instance reads (compile/, when the
        # module was compiled with fuel or epoch checks). Epoch checks count tick_cell
        # down and call epoch_hit() below zero.
        self.fuel_cell = [0]
        self.epoch_cell = [0]
        self.deadline_cell = [0]
        self.tick_cell = [0]
        self.wall_deadline: Optional[float] = None     # time.monotonic() value
        self.interrupted = False

    # ----- interruption -------------------------------------------------------------

    def epoch_hit(self) -> None:
        """Called by generated code when the epoch-check countdown runs out."""
        self.tick_cell[0] = TICK_INTERVAL
        if self.interrupted or self.epoch_cell[0] >= self.deadline_cell[0]:
            raise Trap(TrapCode.INTERRUPT)
        deadline = self.wall_deadline
        if deadline is not None and time.monotonic() >= deadline:
            raise Trap(TrapCode.INTERRUPT)

    def poll_soon(self) -> None:
        """Make the next epoch check do the slow check (a deadline or epoch changed)."""
        self.tick_cell[0] = 0

    def interrupt(self) -> None:
        """Stop the running guest at its next epoch check (Trap INTERRUPT); the flag is
        cleared when the next outermost call starts."""
        self.interrupted = True
        self.tick_cell[0] = 0

    # ----- calls --------------------------------------------------------------------

    def _enter(self) -> None:
        if not call.in_guest():
            # An outermost call: a previous interruption is over, and the first epoch
            # check of the call compares exactly (the epoch may have moved meanwhile).
            self.interrupted = False
            self.tick_cell[0] = 0

    def invoke(self, func: FuncInstance, args: Sequence[Any]) -> Any:
        """Call ``func`` with raw args through the call boundary; raw result."""
        fn = func.fn
        if fn is None:
            raise WasmtimeError("function %s has no code (compiler unavailable)" % func.name)
        self._enter()
        owner = func.module
        if owner is None:
            return call.invoke(fn, args, self.max_call_depth, self.use_thread, self.interrupt)
        self.active_instances.append(owner)
        try:
            return call.invoke(fn, args, self.max_call_depth, self._use_thread(owner, func.index),
                               self.interrupt)
        finally:
            self.active_instances.pop()

    def _use_thread(self, owner: ModuleInstance, index: Optional[int]) -> Optional[bool]:
        """Where an outermost call of function ``index`` of ``owner`` runs: as configured,
        else on the calling thread if it cannot go deep (no worker handoff: ~40-400 us per
        call where a worker is the default; runtime/static_depth.py), else call.invoke's
        default."""
        if (self.use_thread is None and index is not None and call.NEEDS_WORKER_THREAD
                and not call.in_guest() and static_depth.is_shallow(owner.module, index, owner.call_depths)):
            return False
        return self.use_thread

    def invoke_in(self, inst: ModuleInstance, index: int, args: Sequence[Any]) -> Any:
        """Call function ``index`` of ``inst`` as ``inst`` itself would (through its
        ``import_calls``: a host function then sees ``inst`` as its Caller)."""
        fn = inst.import_calls.get(index) or inst.funcs[index].fn
        if fn is None:
            raise WasmtimeError("function %s has no code (compiler unavailable)"
                                % inst.funcs[index].name)
        self._enter()
        self.active_instances.append(inst)
        try:
            return call.invoke(fn, args, self.max_call_depth, self._use_thread(inst, index),
                               self.interrupt)
        finally:
            self.active_instances.pop()

    def current_instance(self) -> Optional[ModuleInstance]:
        return self.active_instances[-1] if self.active_instances else None

    # ----- limits -------------------------------------------------------------------

    def memory_growth_allowed(self, new_bytes: int) -> bool:
        limit = self.memory_limit_bytes
        return limit is None or new_bytes <= limit

    def table_growth_allowed(self, new_elements: int) -> bool:
        limit = self.table_limit
        return limit is None or new_elements <= limit

    def new_memory(self, memtype: Any) -> MemoryInstance:
        if self.memory_count_limit is not None and self.memory_count >= self.memory_count_limit:
            raise InstantiationError("memory count limit of %d exceeded"
                                     % self.memory_count_limit)
        size = memtype.limits.min * PAGE_SIZE
        if self.memory_limit_bytes is not None and size > self.memory_limit_bytes:
            raise InstantiationError(
                "memory minimum size of %d pages (%d bytes) exceeds the store's memory limit "
                "of %d bytes (Store.set_limits(memory_size=...))"
                % (memtype.limits.min, size, self.memory_limit_bytes))
        try:
            mem = MemoryInstance(memtype, None, self)
        except (MemoryError, OverflowError):
            raise InstantiationError("cannot allocate a memory of %d pages"
                                     % memtype.limits.min) from None
        self.memory_count += 1
        return mem

    def new_table(self, tabletype: Any, init: Any = None) -> TableInstance:
        if self.table_count_limit is not None and self.table_count >= self.table_count_limit:
            raise InstantiationError("table count limit of %d exceeded" % self.table_count_limit)
        if self.table_limit is not None and tabletype.limits.min > self.table_limit:
            raise InstantiationError(
                "table minimum size of %d elements exceeds the store's table limit of %d "
                "elements (Store.set_limits(table_elements=...))"
                % (tabletype.limits.min, self.table_limit))
        try:
            table = TableInstance(tabletype, init, None, self)
        except (MemoryError, OverflowError):
            raise InstantiationError("cannot allocate a table of %d elements"
                                     % tabletype.limits.min) from None
        self.table_count += 1
        return table

    def check_owned(self, item: Any, what: str = "object") -> None:
        """Raise unless ``item`` (a runtime extern or None) may be used in this store."""
        if item is None:
            return
        owner = item.owner() if isinstance(item, FuncInstance) else getattr(item, "store",
                                                                             None)
        if owner is not None and owner is not self:
            raise WasmtimeError("%s belongs to a different store" % what)


# --- Import matching (spec exec/modules.rst "Import matching", valid/types.rst) -----------

def limits_match(actual: Limits, expected: Limits) -> bool:
    """Limits subtyping: {n1, m1} <= {n2, m2} iff n1 >= n2 and (m2 absent or m1 <= m2)."""
    if actual.min < expected.min:
        return False
    if expected.max is None:
        return True
    return actual.max is not None and actual.max <= expected.max


def _tag_type(ft: FuncType) -> FuncType:
    return _as_tuple_type(ft)


def extern_kind(ext: Extern) -> str:
    if isinstance(ext, FuncInstance):
        return FUNC
    if isinstance(ext, TableInstance):
        return TABLE
    if isinstance(ext, MemoryInstance):
        return MEMORY
    if isinstance(ext, GlobalInstance):
        return GLOBAL
    if isinstance(ext, TagInstance):
        return TAG
    raise TypeError("not an extern: %r" % (ext,))


def describe_extern(ext: Extern) -> str:
    kind = extern_kind(ext)
    if kind == FUNC:
        return "func %s" % (ext.type,)
    if kind == TABLE:
        return "table %s%s %s" % (_address_str(ext.address), ext.element_type,
                                  _limits_str(Limits(len(ext.elements), ext.max)))
    if kind == MEMORY:
        return "memory %s%s" % (_address_str(ext.address),
                                _limits_str(Limits(ext.pages, ext.max)))
    if kind == TAG:
        return "tag %s" % (ext.type,)
    return "global %s%s" % ("mut " if ext.type.mutable else "", ext.type.content)


def _address_str(address: str) -> str:
    return "i64 " if address == "i64" else ""


def _limits_str(limits: Limits) -> str:
    return "%d..%s" % (limits.min, "" if limits.max is None else limits.max)


def describe_import(imp: Import, types: Sequence[FuncType]) -> str:
    if imp.kind == FUNC:
        return "func %s" % (types[imp.type_index],)
    if imp.kind == TABLE:
        tt = imp.table_type
        return "table %s%s %s" % (_address_str(tt.address), tt.element, _limits_str(tt.limits))
    if imp.kind == MEMORY:
        mt = imp.memory_type
        return "memory %s%s" % (_address_str(mt.address), _limits_str(mt.limits))
    if imp.kind == TAG:
        return "tag %s" % (types[imp.tag_type.type_index],)
    gt = imp.global_type
    return "global %s%s" % ("mut " if gt.mutable else "", gt.content)


def import_matches(imp: Import, ext: Extern, types: Sequence[Any],
                   type_ids: Optional[Sequence[int]] = None,
                   space: Optional[TypeSpace] = None) -> bool:
    """Whether extern ``ext`` may satisfy import ``imp`` (spec 3.0 exec/modules.rst
    "Import matching", valid/matching.rst "External Types"). Types that name other
    types by index are compared across modules by canonical id (``type_ids``: the
    importing module's ``module_type_ids``, iso-recursive equivalence)."""
    if space is None:
        space = TypeSpace(types)
    if imp.kind == FUNC:
        # The function's type must match the import's (GC: a declared subtype will do).
        if not isinstance(ext, FuncInstance):
            return False
        if type_ids is not None:
            return is_subtype_id(ext.type_id, type_ids[imp.type_index])
        return ext.type == _as_tuple_type(types[imp.type_index])
    if imp.kind == TABLE:
        tt = imp.table_type
        # Tables are mutable: their element types must be equivalent.
        return (isinstance(ext, TableInstance)
                and types_equal(ext.element_type, tt.element, ext.types, space)
                and ext.address == tt.address
                and limits_match(Limits(len(ext.elements), ext.max), tt.limits))
    if imp.kind == MEMORY:
        mt = imp.memory_type
        return (isinstance(ext, MemoryInstance) and ext.address == mt.address
                and limits_match(Limits(ext.pages, ext.max), mt.limits)
                and bool(ext.shared) == bool(mt.shared))
    if imp.kind == GLOBAL:
        gt = imp.global_type
        if not isinstance(ext, GlobalInstance) or bool(ext.type.mutable) != bool(gt.mutable):
            return False
        # An immutable global's type may be a subtype; a mutable one's must be equal.
        if gt.mutable:
            return types_equal(ext.type.content, gt.content, ext.types, space)
        return matches(ext.type.content, gt.content, ext.types, space)
    if imp.kind == TAG:
        # Tag types match when their function types are equal (exception handling).
        return isinstance(ext, TagInstance) and \
            _tag_type(ext.type) == _as_tuple_type(types[imp.tag_type.type_index])
    return False


def check_import(imp: Import, ext: Extern, types: Sequence[Any],
                 type_ids: Optional[Sequence[int]] = None,
                 space: Optional[TypeSpace] = None) -> None:
    if not import_matches(imp, ext, types, type_ids, space):
        try:
            found = describe_extern(ext)
        except TypeError:
            found = repr(ext)
        raise LinkError("incompatible import type for `%s::%s`: expected %s, found %s"
                        % (imp.module, imp.name, describe_import(imp, types), found))


def _as_tuple_type(ft: FuncType) -> FuncType:
    if isinstance(ft.params, tuple) and isinstance(ft.results, tuple):
        return ft
    return FuncType(tuple(ft.params), tuple(ft.results))


# --- Constant expressions (spec valid/instructions.rst "Constant Expressions") ------------

_BINOPS: Dict[str, Callable[[int, int], int]] = {
    # Extended constant expressions (Wasm 3.0) are harmless to support here.
    "i32.add": lambda a, b: (a + b) & MASK32,
    "i32.sub": lambda a, b: (a - b) & MASK32,
    "i32.mul": lambda a, b: (a * b) & MASK32,
    "i64.add": lambda a, b: (a + b) & MASK64,
    "i64.sub": lambda a, b: (a - b) & MASK64,
    "i64.mul": lambda a, b: (a * b) & MASK64,
}


def eval_const(expr: Expr, inst: ModuleInstance) -> Any:
    """Evaluate a (validated) constant expression to a raw value."""
    stack: List[Any] = []
    for ins in expr:
        op = ins.op
        if op == "end":
            break
        if op in ("i32.const", "i64.const", "v128.const"):
            stack.append(ins.imm)
        elif op == "f32.const":
            stack.append(f32_from_bits(ins.imm))
        elif op == "f64.const":
            stack.append(f64_from_bits(ins.imm))
        elif op == "ref.null":
            stack.append(None)
        elif op == "ref.func":
            stack.append(inst.funcs[ins.imm])
        elif op == "global.get":
            stack.append(inst.globals[ins.imm].value)
        elif op in _BINOPS:
            b = stack.pop()
            a = stack.pop()
            stack.append(_BINOPS[op](a, b))
        elif op in gc.CONST_OPS:
            gc.eval_const_op(ins, stack, inst)
        else:
            raise InvalidError("constant expression required, found %s" % op)
    if len(stack) != 1:
        raise InvalidError("type mismatch in constant expression")
    return stack[0]


# --- Instantiation -------------------------------------------------------------------------

def func_names(module: Module) -> Dict[int, str]:
    """Function index -> readable name, as ``Module.func_name`` gives it (name section,
    else the first export, else none), built in one pass: asking func_name for each
    function scans every export each time (40,000 functions and exports: ~1 minute)."""
    names: Dict[int, str] = {}
    for exp in module.exports:
        if exp.kind == FUNC and exp.index not in names:
            names[exp.index] = exp.name
    names.update(module.names.funcs)
    return names


def instantiate(store: Store, module: Module, externs: Sequence[Extern],
                compiled: Any = None,
                import_calls: Any = None,
                run_start: bool = True) -> ModuleInstance:
    """Instantiate the validated ``module`` with ``externs`` (one per import, in order).

    ``compiled`` is the module's ``compile.CompiledModule`` (None: functions get no code;
    useful only for modules whose functions never run). ``import_calls`` become the
    instance's ``import_calls`` (e.g. host functions bound to this instance as their Caller):
    a dict, or a callable taking the new ModuleInstance and returning one.
    Raises LinkError, Trap (segments, start function) or InstantiationError.
    """
    if len(externs) != len(module.imports):
        raise LinkError("expected %d imports, found %d" % (len(module.imports), len(externs)))
    if store.instance_limit is not None and store.instance_count >= store.instance_limit:
        raise InstantiationError("instance limit of %d exceeded" % store.instance_limit)
    types = module.types
    type_ids = module_type_ids(types)
    # One TypeSpace per module instance: it computes closed types once, for every import
    # matched against it and every table and global exported from it.
    space = TypeSpace(types)
    inst = ModuleInstance(module)
    inst.type_ids = type_ids
    inst.store = store
    inst.compiled = compiled
    for imp, ext in zip(module.imports, externs):
        check_import(imp, ext, types, type_ids, space)
        store.check_owned(ext, "import `%s::%s`" % (imp.module, imp.name))
        if imp.kind == FUNC:
            inst.funcs.append(ext)
        elif imp.kind == TABLE:
            inst.tables.append(ext)
        elif imp.kind == MEMORY:
            inst.memories.append(ext)
        elif imp.kind == TAG:
            inst.tags.append(ext)
        else:
            inst.globals.append(ext)

    base = len(inst.funcs)
    names = func_names(module)
    functypes: Dict[int, FuncType] = {}   # by type index: 30,000 functions share few types
    for i, func in enumerate(module.funcs):
        index = base + i
        name = names.get(index)
        tix = func.type_index
        ftype = functypes.get(tix)
        if ftype is None:
            ftype = functypes[tix] = module.func_type(tix)
        inst.funcs.append(FuncInstance(ftype, None, "$%d" % index if name is None else name,
                                       inst, index, tid=type_ids[tix]))
    for tabletype in module.tables:
        table = store.new_table(tabletype, None)
        table.types = space
        inst.tables.append(table)
    for memtype in module.mems:
        inst.memories.append(store.new_memory(memtype))
    for tagtype in module.tags:
        # A fresh identity per definition and instantiation (exception handling).
        inst.tags.append(TagInstance(_as_tuple_type(module.func_type(tagtype.type_index)), store))
    # Globals in order: an initialiser sees imported globals and (3.0) earlier globals.
    for glob in module.globals:
        ginst = GlobalInstance(glob.type, eval_const(glob.init, inst), store)
        ginst.types = space
        inst.globals.append(ginst)
    # Table initialisers (Wasm 3.0 function references): evaluated after the globals,
    # which they may read (spec 3.0 exec/modules.rst "Instantiation").
    n_imported_tables = len(inst.tables) - len(module.tables)
    for i, init in module.table_inits.items():
        table = inst.tables[n_imported_tables + i]
        value = eval_const(init, inst)
        if value is not None:
            table.elements[:] = [value] * len(table.elements)
    if callable(import_calls):
        import_calls = import_calls(inst)
    if import_calls:
        inst.import_calls.update(import_calls)

    inst.elem_segments = [[eval_const(e, inst) for e in seg.init] for seg in module.elems]
    inst.data_segments = [bytes(seg.init) for seg in module.datas]

    spaces: Dict[str, List[Any]] = {FUNC: inst.funcs, TABLE: inst.tables,
                                    MEMORY: inst.memories, GLOBAL: inst.globals,
                                    TAG: inst.tags}
    for exp in module.exports:
        item = spaces[exp.kind][exp.index]
        inst.exports[exp.name] = item
        inst.export_list.append((exp.name, item))

    inst.fuel_cell = store.fuel_cell
    inst.epoch_cell = store.epoch_cell
    inst.deadline_cell = store.deadline_cell
    inst.tick_cell = store.tick_cell
    inst.epoch_hit = store.epoch_hit
    if compiled is not None:
        compiled.bind(inst)
    store.instance_count += 1

    # Spec 2.0 instantiation steps 14-15: table.init + elem.drop per active segment, in
    # order; declarative segments are only dropped.
    for k, seg in enumerate(module.elems):
        if seg.mode == ACTIVE:
            offset = eval_const(seg.offset, inst) if seg.offset is not None else 0
            values = inst.elem_segments[k]
            table = inst.tables[seg.table]
            if offset + len(values) > len(table.elements):
                raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
            table.elements[offset:offset + len(values)] = values
            inst.elem_segments[k] = []
        elif seg.mode == DECLARATIVE:
            inst.elem_segments[k] = []
    # Step 16: memory.init + data.drop per active data segment.
    for k, dseg in enumerate(module.datas):
        if dseg.mode == ACTIVE:
            offset = eval_const(dseg.offset, inst) if dseg.offset is not None else 0
            data = inst.data_segments[k]
            mem = inst.memories[dseg.memory]
            if offset + len(data) > len(mem.data):
                raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
            # Same length on both sides: slice assignment cannot resize the bytearray.
            mem.data[offset:offset + len(data)] = data
            inst.data_segments[k] = b""
    # Step 17: the start function.
    if run_start and module.start is not None:
        store.invoke_in(inst, module.start, ())
    return inst
