"""Module validation (spec 3.4 "Modules", 3.2 "Types", 3.3.10 "Constant Expressions").

The order of the checks follows the reference interpreter (``valid.ml``): imports, the
types of defined functions, tables, memories, globals, element and data segments,
function bodies, start function, exports. The testsuite only cares that the first error
found carries the expected text, and its invalid modules each have one error.
"""
from __future__ import annotations

from typing import Any, Collection, List, Optional, Sequence, Set, Tuple

from .. import opcodes
from ..errors import InvalidError
from ..syntax import (
    ACTIVE, FUNC, GLOBAL, MEMORY, NUM_TYPES, PACKED_TYPES, TABLE, TAG, VEC_TYPES, ArrayType,
    DefType, Expr, FieldType, FuncType, GlobalType, Instr, Limits, MemoryType, Module, StructType,
    TableType, composite_kind, is_plain,
)
from ..syntax.types import WASM2_REF_TYPES, RefType, as_reftype, defaultable
from ..binary.decode import LazyFunc
from .func import Context, validate_func
from .matching import TypeSpace, matches
from .stream import check_body_proposals, validate_lazy_func

_NUM_VEC = frozenset(NUM_TYPES + VEC_TYPES)

# Spec 3.2.7: memory limits are in pages and bounded by 2^16 (4 GiB of 64 KiB pages);
# a 64-bit memory's (Wasm 3.0 memory64) by 2^48 (2^64 bytes).
MAX_PAGES = 0x10000
MAX_PAGES_64 = 1 << 48
# Spec 3.2.6: table limits must lie in the range of the address type (u32, or u64).
MAX_TABLE = 0xFFFFFFFF
MAX_TABLE_64 = (1 << 64) - 1
# Longest chain of declared supertypes below a type (wasmtime's limit; the spec has none).
MAX_SUBTYPING_DEPTH = 63

# t.const -> t: the constant instructions whose result type needs no context.
_CONST_RESULTS = {
    info.name: info.sig[1][0] for info in opcodes.OPS
    if info.imm in (opcodes.CONST_I32, opcodes.CONST_I64, opcodes.CONST_F32,
                    opcodes.CONST_F64, opcodes.CONST_V128) and info.sig is not None
}


def _check_limits(lim: Limits, bound: int, msg: str) -> None:
    """Spec 3.2.1 "Limits": min (and max) within ``bound``, and min <= max."""
    if not 0 <= lim.min <= bound:
        raise InvalidError(msg)
    if lim.max is not None:
        if not 0 <= lim.max <= bound:
            raise InvalidError(msg)
        if lim.min > lim.max:
            raise InvalidError("size minimum must not be greater than maximum")


class _TypeCheck:
    """Checks that value types are well-formed (spec 3.0 valid/types.rst): type indices
    in range, and typed references only with the function references proposal."""

    def __init__(self, n_types: int, features: Collection[str]) -> None:
        self.n_types = n_types
        self.typed = "function_references" in features

    def check(self, t: str, what: str = "value type", limit: Optional[int] = None) -> None:
        if t in _NUM_VEC:
            return
        rt = as_reftype(t)
        if rt is None:
            raise InvalidError("malformed %s %r" % (what, t))
        if rt not in WASM2_REF_TYPES and not self.typed and rt.heap not in ("exn", "noexn"):
            raise InvalidError("function references support is not enabled "
                               "(Config.wasm_function_references): %s" % rt)
        heap = rt.heap
        if isinstance(heap, int):
            bound = self.n_types if limit is None else limit
            if heap >= bound:
                raise InvalidError("unknown type %d" % heap)

    def check_ref(self, t: str, what: str) -> None:
        if as_reftype(t) is None:
            raise InvalidError("malformed %s %r" % (what, t))
        self.check(t, what)


def _check_table_type(tt: TableType, tc: "_TypeCheck") -> None:
    tc.check_ref(tt.element, "table element type")
    if tt.is_64:
        _check_limits(tt.limits, MAX_TABLE_64, "table size must be at most 2^64-1")
    else:
        _check_limits(tt.limits, MAX_TABLE, "table size must be at most 2^32-1")


def _check_memory_type(mt: MemoryType) -> None:
    if mt.is_64:
        _check_limits(mt.limits, MAX_PAGES_64, "memory size must be at most 2^48 pages")
    else:
        _check_limits(mt.limits, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")


def _check_global_type(gt: GlobalType, tc: _TypeCheck) -> None:
    tc.check(gt.content)


def _check_types(types: Sequence[DefType], tc: _TypeCheck, gc: bool,
                 space: TypeSpace) -> None:
    """The type section (spec 3.0 valid/types.rst "Recursive Types", "Sub Types"): a
    type may name every type of its recursion group and the earlier ones; a declared
    supertype is an earlier type, not final, of the same kind, which the type matches."""
    _check_subtype_depth(types)
    for index, t in enumerate(types):
        if not gc and (not is_plain(t) or not isinstance(t, FuncType)):
            raise InvalidError("gc support is not enabled (Config.wasm_gc): type %d is %s"
                               % (index, "a " + composite_kind(t) + " type"
                                  if not isinstance(t, FuncType) else "in a rec group"))
        pos, size = t.rec
        end = index - pos + size
        if isinstance(t, FuncType):
            for v in t.params + t.results:
                tc.check(v, limit=end)
        else:
            for f in (t.fields if isinstance(t, StructType) else (t.element,)):
                if f.storage not in PACKED_TYPES:
                    tc.check(f.storage, limit=end)
        if len(t.supers) > 1:
            raise InvalidError("type %d: multiple supertypes" % index)
        for sup in t.supers:
            if not 0 <= sup < index:
                raise InvalidError("unknown type %d (supertype of type %d)" % (sup, index))
            st = types[sup]
            if st.final or not _comptype_matches(t, st, space):
                raise InvalidError("sub type %d does not match super type %d"
                                   % (index, sup))


def _check_subtype_depth(types: Sequence[DefType]) -> None:
    """Implementation limit of wasmtime (wasmparser's MAX_SUBTYPING_DEPTH), checked
    before any type is matched: each type's canonical id records all its ancestors
    (syntax/canon.py), so a chain of n declared supertypes costs n^2 / 2 of them (a
    chain of 20,000 exhausted 4 GB)."""
    depth: List[int] = []
    for index, t in enumerate(types):
        d = 0
        for sup in t.supers[:1]:
            if 0 <= sup < index:
                d = depth[sup] + 1
        if d > MAX_SUBTYPING_DEPTH:
            raise InvalidError("sub type hierarchy too deep: type %d has depth %d, cannot "
                               "exceed depth %d" % (index, d, MAX_SUBTYPING_DEPTH))
        depth.append(d)


def _field_matches(f1: FieldType, f2: FieldType, space: TypeSpace) -> bool:
    """Field subtyping (spec 3.0 valid/matching.rst "Field Types"): an immutable field
    is covariant, a mutable one invariant."""
    if f1.mutable != f2.mutable:
        return False
    if f1.storage in PACKED_TYPES or f2.storage in PACKED_TYPES:
        return f1.storage == f2.storage
    if not matches(f1.storage, f2.storage, space):
        return False
    return not f1.mutable or matches(f2.storage, f1.storage, space)


def _comptype_matches(t1: DefType, t2: DefType, space: TypeSpace) -> bool:
    """Composite type subtyping (spec 3.0 valid/matching.rst "Composite Types")."""
    if isinstance(t1, FuncType) and isinstance(t2, FuncType):
        return (len(t1.params) == len(t2.params) and len(t1.results) == len(t2.results)
                and all(matches(b, a, space) for a, b in zip(t1.params, t2.params))
                and all(matches(a, b, space) for a, b in zip(t1.results, t2.results)))
    if isinstance(t1, StructType) and isinstance(t2, StructType):
        return len(t1.fields) >= len(t2.fields) and all(
            _field_matches(a, b, space) for a, b in zip(t1.fields, t2.fields))
    if isinstance(t1, ArrayType) and isinstance(t2, ArrayType):
        return _field_matches(t1.element, t2.element, space)
    return False


def _const_refs(expr: Optional[Expr], refs: Set[int]) -> None:
    """Collect the ``ref.func`` indices of a constant expression into C.refs (3.4.10)."""
    if expr:
        for ins in expr:
            if ins.op == "ref.func" and isinstance(ins.imm, int):
                refs.add(ins.imm)


# Extended constant expressions (Wasm 3.0): integer add, sub and mul.
_CONST_BINOPS = {"i32.add": "i32", "i32.sub": "i32", "i32.mul": "i32",
                 "i64.add": "i64", "i64.sub": "i64", "i64.mul": "i64"}


def check_const_expr(expr: Expr, expected: str, n_funcs: int,
                     const_globals: List[GlobalType], what: str,
                     extended: bool = False, func_type_indices: Optional[List[int]] = None,
                     space: Optional[TypeSpace] = None) -> None:
    """Validate a constant expression producing one ``expected`` value (spec 3.3.10).

    The constant instructions are ``t.const``, ``ref.null``, ``ref.func`` and
    ``global.get`` of an immutable global of ``const_globals`` (Wasm 2.0: the imported
    globals only; 3.0: also those defined before, or all of them for segment offsets)
    and, with ``extended`` (Wasm 3.0's extended constant expressions), integer
    add/sub/mul.
    """
    body = list(expr)
    if body and body[-1].op == "end":
        body.pop()
    stack: List[str] = []
    for ins in body:
        op = ins.op
        t = _CONST_RESULTS.get(op)
        if t is None:
            if op == "ref.null":
                t = ins.imm
                rt = as_reftype(t)
                if (rt is not None and isinstance(rt.heap, int) and space is not None
                        and rt.heap >= len(space.types)):
                    raise InvalidError("unknown type %d (in %s)" % (rt.heap, what),
                                       None, ins.offset)
            elif op == "ref.func":
                if not 0 <= ins.imm < n_funcs:
                    raise InvalidError("unknown function %d (in %s)" % (ins.imm, what),
                                       None, ins.offset)
                # Typed precisely (spec 3.0): (ref $t) of the function's type.
                t = (RefType(False, func_type_indices[ins.imm])
                     if func_type_indices is not None else RefType(False, "func"))
            elif op == "global.get":
                x = ins.imm
                if not 0 <= x < len(const_globals):
                    raise InvalidError("unknown global %d (in %s)" % (x, what),
                                       None, ins.offset)
                if const_globals[x].mutable:
                    raise InvalidError("constant expression required: global %d is mutable "
                                       "(in %s)" % (x, what), None, ins.offset)
                t = const_globals[x].content
            elif op in _CONST_GC and space is not None:
                t = _const_gc(ins, stack, space, what)
            elif extended and op in _CONST_BINOPS:
                t = _CONST_BINOPS[op]
                if stack[-2:] != [t, t]:
                    raise InvalidError("type mismatch: %s needs two %s operands (in %s)"
                                       % (op, t, what), None, ins.offset)
                del stack[-2:]
            else:
                raise InvalidError("constant expression required: %s (in %s)" % (op, what),
                                   None, ins.offset)
        stack.append(t)
    if len(stack) != 1 or not matches(stack[0], expected, space):
        raise InvalidError("type mismatch: %s must produce [%s] but produces [%s]"
                           % (what, expected, " ".join(stack)))


# GC instructions that are constant (spec 3.0 valid/instructions.rst "Constant
# Expressions").
_CONST_GC = frozenset(("ref.i31", "struct.new", "struct.new_default", "array.new",
                       "array.new_default", "array.new_fixed", "any.convert_extern",
                       "extern.convert_any"))


def _const_gc(ins: Instr, stack: List[str], space: TypeSpace, what: str) -> str:
    """Type a constant GC instruction: pop its operands from ``stack``, return its
    result type."""
    op = ins.op

    def fail(message: str) -> InvalidError:
        return InvalidError("%s (in %s)" % (message, what), None, ins.offset)

    def pop(expected: str) -> str:
        if not stack or not matches(stack[-1], expected, space):
            raise fail("type mismatch: %s expected %s" % (op, expected))
        return stack.pop()

    def deftype(x: int, kind: type) -> Any:
        if not 0 <= x < len(space.types):
            raise fail("unknown type %d" % x)
        t = space.types[x]
        if not isinstance(t, kind):
            raise fail("type mismatch: type %d is not %s" % (x, kind.__name__))
        return t

    def unpacked(f: FieldType) -> str:
        return "i32" if f.storage in PACKED_TYPES else f.storage

    if op == "ref.i31":
        pop("i32")
        return RefType(False, "i31")
    if op in ("any.convert_extern", "extern.convert_any"):
        src, dst = ("extern", "any") if op[0] == "a" else ("any", "extern")
        rt = as_reftype(pop(RefType(True, src)))
        return RefType(rt is None or rt.nullable, dst)
    if op.startswith("struct."):
        st = deftype(ins.imm, StructType)
        if op == "struct.new":
            for f in reversed(st.fields):
                pop(unpacked(f))
        elif not all(defaultable(unpacked(f)) for f in st.fields):
            raise fail("type mismatch: struct type %d is not defaultable" % ins.imm)
        return RefType(False, ins.imm)
    x = ins.imm[0] if op == "array.new_fixed" else ins.imm
    at = deftype(x, ArrayType)
    v = unpacked(at.element)
    if op == "array.new_fixed":
        for _ in range(ins.imm[1]):
            pop(v)
        return RefType(False, x)
    pop("i32")
    if op == "array.new":
        pop(v)
    elif not defaultable(v):
        raise fail("type mismatch: array type %d is not defaultable" % x)
    return RefType(False, x)


def _check_tag_type(type_index: int, module: Module) -> Tuple[str, ...]:
    """A tag's type (3.2.11): a function type without results; returns its params."""
    ft = module.func_type(type_index)
    if ft.results:
        raise InvalidError("non-empty tag result type")
    return ft.params


def _refuse_exceptions(module: Module, has_tags: bool) -> None:
    """Without exception handling: no tag, and no exnref anywhere a type is written (its
    instructions are refused by check_proposals)."""
    what = "a tag" if has_tags else None
    if what is None:
        written = [t for ft in module.types if isinstance(ft, FuncType)
                   for t in ft.params + ft.results]
        written += [t for f in module.funcs for t in f.locals]
        written += [g.type.content for g in module.globals]
        written += [t.element for t in module.tables] + [e.type for e in module.elems]
        written += [imp.global_type.content for imp in module.imports if imp.kind == GLOBAL]
        written += [imp.table_type.element for imp in module.imports if imp.kind == TABLE]
        if "exnref" in written:
            what = "the type exnref"
    if what is not None:
        raise InvalidError("exception handling support is not enabled "
                           "(Config.wasm_exceptions): %s" % what)


def validate_module(module: Module, features: Optional[Collection[str]] = None) -> None:
    """Validate ``module`` (spec 3.4.10); raise :class:`InvalidError` on the first error.

    ``features``: the Wasm 3.0 proposals allowed (names of ``opcodes.PROPOSALS``; None:
    all of them, ``opcodes.WASM2_FEATURES``: Wasm 2.0 exactly)."""
    features = opcodes.ALL_FEATURES if features is None else frozenset(features)
    extended = "extended_const" in features
    types = module.types
    n_types = len(types)
    tc = _TypeCheck(n_types, features)
    space = TypeSpace(types)
    _check_types(types, tc, "gc" in features, space)
    func_type_indices: List[int] = []
    # ref.func is typed precisely, (ref $t), with function references; else funcref.
    precise = func_type_indices if tc.typed else None

    # Imports (3.4.8) build the first part of every index space.
    func_types: List[FuncType] = []
    table_types: List[TableType] = []
    mem_types: List[MemoryType] = []
    global_types: List[GlobalType] = []
    tag_params: List[Tuple[str, ...]] = []
    for imp in module.imports:
        kind = imp.kind
        # The accessors raise InvalidError for a desc that does not fit the kind.
        if kind == FUNC:
            tidx = imp.type_index
            if not 0 <= tidx < n_types:
                raise InvalidError("unknown type %s (import %s.%s)" % (tidx, imp.module,
                                                                        imp.name))
            func_types.append(module.func_type(tidx))
            func_type_indices.append(tidx)
        elif kind == TABLE:
            _check_table_type(imp.table_type, tc)
            table_types.append(imp.table_type)
        elif kind == MEMORY:
            _check_memory_type(imp.memory_type)
            mem_types.append(imp.memory_type)
        elif kind == GLOBAL:
            _check_global_type(imp.global_type, tc)
            global_types.append(imp.global_type)
        elif kind == TAG:
            tag_params.append(_check_tag_type(imp.tag_type.type_index, module))
        else:
            raise InvalidError("malformed import kind %r" % (kind,))
    imported_globals = list(global_types)
    n_imported_funcs = len(func_types)

    for i, f in enumerate(module.funcs):
        if not 0 <= f.type_index < n_types:
            raise InvalidError("unknown type %d" % f.type_index, n_imported_funcs + i,
                               f.offset)
        try:
            func_types.append(module.func_type(f.type_index))
        except InvalidError as exc:
            raise InvalidError(exc.reason, n_imported_funcs + i, f.offset) from None
        func_type_indices.append(f.type_index)
    n_funcs = len(func_types)

    n_imported_tables = len(table_types)
    for tt in module.tables:
        _check_table_type(tt, tc)
        table_types.append(tt)
    for mt in module.mems:
        _check_memory_type(mt)
        mem_types.append(mt)
    for tag in module.tags:
        tag_params.append(_check_tag_type(tag.type_index, module))
    if "exceptions" not in features:
        _refuse_exceptions(module, bool(tag_params))
    # Wasm 2.0 allows at most one memory (3.4.10); multi-memory (3.0) lifts the bound.
    if len(mem_types) > 1 and "multi_memory" not in features:
        raise InvalidError("multiple memories (multi-memory support is not enabled: "
                           "Config.wasm_multi_memory)")
    if "memory64" not in features:
        for noun, is_64 in [("memory", mt.is_64) for mt in mem_types] + \
                [("table", tt.is_64) for tt in table_types]:
            if is_64:
                raise InvalidError("memory64 support is not enabled (Config.wasm_memory64):"
                                   " a %s with i64 addresses" % noun)

    # Globals (3.4.4): initialisers see only the imported globals.
    for i, g in enumerate(module.globals):
        _check_global_type(g.type, tc)
        # Wasm 3.0 (extended constant expressions): the globals defined before too.
        check_const_expr(g.init, g.type.content, n_funcs,
                         global_types if extended else imported_globals,
                         "global %d" % (len(imported_globals) + i), extended,
                         precise, space)
        global_types.append(g.type)
    # Table initialisers (Wasm 3.0): a table of a non-nullable type needs one
    # (spec 3.0 valid/modules.rst "Tables"). They see the imported globals only: the
    # table section precedes the global section (context C' of valid/modules.rst).
    for i, tt in enumerate(module.tables):
        init = module.table_inits.get(i)
        if init is None:
            if not defaultable(tt.element):
                raise InvalidError("type mismatch: table %d of %s needs an initialiser"
                                   % (n_imported_tables + i, tt.element))
            continue
        check_const_expr(init, tt.element, n_funcs, imported_globals,
                         "initialiser of table %d" % (n_imported_tables + i), extended,
                         precise, space)
    # Segment offsets and element expressions: in Wasm 3.0, any (immutable) global.
    seg_globals = global_types if extended else imported_globals

    # Element segments (3.4.5).
    for i, e in enumerate(module.elems):
        # (ref func) is how Wasm 3.0 reads a vector of function indices: no typed
        # reference of the module's own making, so not refused with the proposal off.
        if e.type != "(ref func)":
            tc.check_ref(e.type, "element type")
        for expr in e.init:
            check_const_expr(expr, e.type, n_funcs, seg_globals, "elem segment %d" % i,
                             extended, precise, space)
        if e.mode == ACTIVE:
            if not 0 <= e.table < len(table_types):
                raise InvalidError("unknown table %d" % e.table)
            if not matches(e.type, table_types[e.table].element, space):
                raise InvalidError("type mismatch: elem segment %d of %s for a table of %s"
                                   % (i, e.type, table_types[e.table].element))
            if e.offset is None:
                raise InvalidError("active elem segment %d has no offset" % i)
            check_const_expr(e.offset, table_types[e.table].address, n_funcs, seg_globals,
                             "offset of elem segment %d" % i, extended)

    # Data segments (3.4.6).
    for i, d in enumerate(module.datas):
        if d.mode == ACTIVE:
            if not 0 <= d.memory < len(mem_types):
                raise InvalidError("unknown memory %d" % d.memory)
            if d.offset is None:
                raise InvalidError("active data segment %d has no offset" % i)
            check_const_expr(d.offset, mem_types[d.memory].address, n_funcs, seg_globals,
                             "offset of data segment %d" % i, extended)

    # C.refs: function indices referenced anywhere but in function bodies and the start
    # function (3.4.10); only those may appear in ref.func inside a body.
    refs: Set[int] = set()
    for g in module.globals:
        _const_refs(g.init, refs)
    for init in module.table_inits.values():
        _const_refs(init, refs)
    for e in module.elems:
        for expr in e.init:
            _const_refs(expr, refs)
        _const_refs(e.offset, refs)
    for d in module.datas:
        _const_refs(d.offset, refs)
    for exp in module.exports:
        if exp.kind == FUNC:
            refs.add(exp.index)

    ctx = Context(types, func_types, [t.element for t in table_types],
                  [mt.address for mt in mem_types], global_types,
                  [e.type for e in module.elems], len(module.datas), refs,
                  [t.address for t in table_types], precise, space, tc, tag_params)
    for i, f in enumerate(module.funcs):
        if isinstance(f, LazyFunc) and f._body is None:
            # Checked from its bytes, disabled proposals included (stream.py): only
            # decode_and_validate makes its error the one the whole module gets.
            validate_lazy_func(ctx, n_imported_funcs + i, f, features)
        else:
            validate_func(ctx, n_imported_funcs + i, f)

    # Start function (3.4.7).
    if module.start is not None:
        s = module.start
        if not 0 <= s < n_funcs:
            raise InvalidError("unknown function %d" % s)
        ft = func_types[s]
        if ft.params or ft.results:
            raise InvalidError("start function must have type [] -> [], not %s" % (ft,))

    # Exports (3.4.9): names unique, indices in range.
    seen: Set[str] = set()
    spaces = {FUNC: ("function", n_funcs), TABLE: ("table", len(table_types)),
              MEMORY: ("memory", len(mem_types)), GLOBAL: ("global", len(global_types)),
              TAG: ("tag", len(tag_params))}
    for exp in module.exports:
        index_space = spaces.get(exp.kind)
        if index_space is None:
            raise InvalidError("malformed export kind %r" % (exp.kind,))
        if not 0 <= exp.index < index_space[1]:
            raise InvalidError("unknown %s %d" % (index_space[0], exp.index))
        if exp.name in seen:
            raise InvalidError("duplicate export name %r" % (exp.name,))
        seen.add(exp.name)
    check_proposals(module, [p for p in opcodes.PROPOSALS if p not in features])


def check_proposals(module: Module, disabled: Collection[str]) -> None:
    """Refuse a module that uses an instruction of a disabled Wasm 3.0 proposal (names
    as in ``opcodes.PROPOSALS``: the Config settings ``wasm_<name>``)."""
    if not disabled:
        return
    n_imported = module.num_imported_funcs()
    for i, func in enumerate(module.funcs):
        if isinstance(func, LazyFunc) and func._body is None:
            continue    # validate_lazy_func has checked it
        check_body_proposals(func.body, disabled, n_imported + i)
