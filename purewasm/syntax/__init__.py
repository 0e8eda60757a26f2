"""The module structure (spec chapter 2, "Structure").

The binary decoder and the text parser both produce a :class:`Module`; the validator checks
it; the compiler translates its functions; the encoder and printer write it back out.

Conventions (the one place they are written down):

* Value types are strings: ``"i32" "i64" "f32" "f64" "v128"``, and reference types are
  :class:`types.RefType` (a ``str`` subclass: ``"funcref"``, ``"(ref 3)"``, ``"(ref null
  extern)"``…, with ``nullable`` and ``heap``; see ``syntax/types.py`` and DECISIONS.md).
  Plain ``"funcref"``/``"externref"`` strings are accepted wherever a RefType is
  (``types.as_reftype``).
* A block type is ``None`` (no params, no results), a value type string (one result),
  or an ``int`` (an index into ``Module.types``).
* Instructions form a *flat* sequence, as in the binary format: ``block``/``loop``/``if``
  open a construct, ``else`` and ``end`` appear as instructions of their own, and a
  function body ends with its final ``end``. Nothing here is recursive, so real compiler
  output nested thousands deep costs no Python recursion.
* Immediates (``Instr.imm``), by the opcode table's immediate kind (see ``opcodes.py``; each
  kind is read, written, parsed and printed by its codec in ``binary/immediates.py``):
  - blocktype: block type as above
  - label: int;  br_table: ``(tuple_of_labels, default_label)``
  - func/local/global/table/elem/data/mem: int index
  - call_indirect: ``(type_index, table_index)``
  - table_copy: ``(dst_table, src_table)``;  table_init: ``(elem_index, table_index)``
  - memory_copy: ``(dst_mem, src_mem)``;  memory_init: ``(data_index, mem_index)``
  - memarg: ``(align_exponent, offset, mem_index)`` (rules: ``binary/memarg.py``; the
    address type is the memory's, ``MemoryType.address``)
  - i32 / i64: the constant as an *unsigned* int (``value & mask``)
  - f32 / f64: the constant's IEEE bit pattern as an int (NaN payloads survive)
  - v128: the constant as an int in ``[0, 2**128)``, lane 0 in the low bits
  - reftype: a nullable RefType, ``ref.null``'s result type (its heap type is ``.heap``);
    select_t: tuple of value types
  - type: int type index (call_ref, return_call_ref)
  - tag (throw): int tag index
  - try_table: ``(blocktype, catches)``, each catch a tuple ``(kind, tag, label)``: kind
    one of ``opcodes.CATCH_KINDS`` ("catch", "catch_ref", "catch_all", "catch_all_ref"),
    tag an int or None (catch_all*), label an int relative to the try_table's *enclosing*
    context (spec 3.3.8.4: catch labels do not see the try_table's own label)
  - lane: int;  memarg_lane: ``(memarg, lane)``;  shuffle: tuple of 16 ints
  - none: ``None``
* ``Instr.offset`` is the byte offset of the opcode in the binary (or None for text),
  used in error messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar, Union

from purewasm.errors import InvalidError

I32 = "i32"
I64 = "i64"
F32 = "f32"
F64 = "f64"
V128 = "v128"
from .types import EXNREF, EXTERNREF, FUNCREF, RefType, as_reftype  # noqa: E402,F401

NUM_TYPES = (I32, I64, F32, F64)
VEC_TYPES = (V128,)
REF_TYPES = (FUNCREF, EXTERNREF, EXNREF)
VALUE_TYPES = NUM_TYPES + VEC_TYPES + REF_TYPES

ValueType = str

# Vector shapes (spec 2.4.4 "Vector Instructions"): shape -> (lane type, lane count,
# lane width in bits).
SHAPES: Dict[str, Tuple[str, int, int]] = {
    "i8x16": ("i8", 16, 8), "i16x8": ("i16", 8, 16), "i32x4": ("i32", 4, 32),
    "i64x2": ("i64", 2, 64), "f32x4": ("f32", 4, 32), "f64x2": ("f64", 2, 64),
}
BlockType = Union[None, str, int]


class Instr:
    """One instruction: its name (as in the text format), immediates and byte offset."""

    __slots__ = ("op", "imm", "offset")

    def __init__(self, op: str, imm: Any = None, offset: Optional[int] = None) -> None:
        self.op = op
        self.imm = imm
        self.offset = offset

    def __repr__(self) -> str:
        if self.imm is None:
            return "Instr(%r)" % self.op
        return "Instr(%r, %r)" % (self.op, self.imm)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Instr) and self.op == other.op
                and self.imm == other.imm)

    def __hash__(self) -> int:
        return hash((self.op, self.imm))


Expr = List[Instr]


# Every defined type (FuncType, StructType, ArrayType: the composite types of spec 3.0
# syntax/types.rst) also says where it sits in the type section's structure (GC
# proposal): ``final`` (no subtype may declare it as supertype), ``supers`` (declared
# supertypes, type indices; at most one is valid) and ``rec``, ``(position, size)`` of
# its recursion group (the group starts at its index minus position). The defaults are
# what a plain ``(type (func ...))`` means: final, no supertype, a group of its own; so a
# FuncType of a Wasm 2.0 module compares equal to ``FuncType(params, results)``.


@dataclass(frozen=True)
class FuncType:
    params: Tuple[str, ...]
    results: Tuple[str, ...]
    final: bool = True
    supers: Tuple[int, ...] = ()
    rec: Tuple[int, int] = (0, 1)

    def __str__(self) -> str:
        return "(%s) -> (%s)" % (", ".join(self.params), ", ".join(self.results))


# Packed storage types of struct fields and array elements (GC; spec 3.0 "Storage Types").
PACKED_TYPES = ("i8", "i16")


@dataclass(frozen=True)
class FieldType:
    """A struct field or array element: a value type or a packed type, and mutability."""

    storage: str
    mutable: bool


@dataclass(frozen=True)
class StructType:
    fields: Tuple[FieldType, ...]
    final: bool = True
    supers: Tuple[int, ...] = ()
    rec: Tuple[int, int] = (0, 1)

    def __str__(self) -> str:
        return "(struct %s)" % " ".join(
            "(field %s%s)" % ("mut " if f.mutable else "", f.storage) for f in self.fields)


@dataclass(frozen=True)
class ArrayType:
    element: FieldType
    final: bool = True
    supers: Tuple[int, ...] = ()
    rec: Tuple[int, int] = (0, 1)

    def __str__(self) -> str:
        return "(array %s%s)" % ("mut " if self.element.mutable else "", self.element.storage)


DefType = Union[FuncType, StructType, ArrayType]


def composite_kind(t: Any) -> str:
    """"func", "struct" or "array": the kind of a defined type."""
    if isinstance(t, StructType):
        return "struct"
    if isinstance(t, ArrayType):
        return "array"
    return "func"


def is_plain(t: Any) -> bool:
    """Whether a defined type has no GC structure (final, no supertype, its own group)."""
    return t.final and not t.supers and t.rec == (0, 1)


@dataclass(frozen=True)
class Limits:
    min: int
    max: Optional[int] = None


@dataclass(frozen=True)
class TableType:
    element: str          # a reference type
    limits: Limits
    # The address type (Wasm 3.0 table64): "i64" makes indices, sizes and limits i64.
    address: str = "i32"

    @property
    def is_64(self) -> bool:
        return self.address == "i64"


@dataclass(frozen=True)
class MemoryType:
    limits: Limits        # in pages of 64 KiB
    shared: bool = False
    # The address type (Wasm 3.0 memory64): "i64" makes addresses, sizes and limits i64.
    address: str = "i32"

    @property
    def is_64(self) -> bool:
        return self.address == "i64"


@dataclass(frozen=True)
class GlobalType:
    content: str          # a value type
    mutable: bool


# Kinds of imports and exports (the text format's keywords).
FUNC = "func"
TABLE = "table"
MEMORY = "memory"
GLOBAL = "global"
TAG = "tag"               # exception handling


@dataclass(frozen=True)
class TagType:
    """A tag's type: the index of a function type whose results are empty (its params
    are the exception's payload)."""

    type_index: int


ImportDesc = Union[int, TableType, MemoryType, GlobalType, TagType]  # int: a func's type
_Desc = TypeVar("_Desc", int, TableType, MemoryType, GlobalType, TagType)


@dataclass
class Import:
    """An import; ``desc`` depends on ``kind``: a type index (FUNC) or the table, memory or
    global type. Read it through the accessor of the kind (``type_index``, ``table_type``,
    ``memory_type``, ``global_type``): they are typed, and check the kind."""

    module: str
    name: str
    kind: str             # FUNC, TABLE, MEMORY or GLOBAL
    desc: ImportDesc      # type index for FUNC, else the table/memory/global type

    def _desc(self, kind: str, expected: Type[_Desc]) -> _Desc:
        desc = self.desc
        # bool is an int: never a type index.
        if self.kind != kind or not isinstance(desc, expected) or isinstance(desc, bool):
            raise InvalidError("import %s::%s is a %s import (%r), not a %s import"
                               % (self.module, self.name, self.kind,
                                  type(desc).__name__, kind))
        return desc

    @property
    def type_index(self) -> int:
        """A function import's type index."""
        return self._desc(FUNC, int)

    @property
    def table_type(self) -> TableType:
        return self._desc(TABLE, TableType)

    @property
    def memory_type(self) -> MemoryType:
        return self._desc(MEMORY, MemoryType)

    @property
    def global_type(self) -> GlobalType:
        return self._desc(GLOBAL, GlobalType)

    @property
    def tag_type(self) -> TagType:
        return self._desc(TAG, TagType)


@dataclass
class Export:
    name: str
    kind: str
    index: int


@dataclass
class Func:
    type_index: int
    locals: List[str]     # declared locals, expanded (parameters not included)
    body: Expr            # flat, ends with "end"
    # Byte offset of the body in the binary: where it came from, not what it is.
    offset: Optional[int] = field(default=None, compare=False)


@dataclass
class Global:
    type: GlobalType
    init: Expr            # constant expression, ends with "end"


# Segment modes
PASSIVE = "passive"
ACTIVE = "active"
DECLARATIVE = "declarative"


@dataclass
class Elem:
    type: str             # a reference type
    init: List[Expr]      # one constant expression per element
    mode: str             # PASSIVE, ACTIVE or DECLARATIVE
    table: int = 0
    offset: Optional[Expr] = None


@dataclass
class Data:
    init: bytes
    mode: str             # PASSIVE or ACTIVE
    memory: int = 0
    offset: Optional[Expr] = None


@dataclass
class CustomSection:
    name: str
    data: bytes


@dataclass
class Names:
    """The contents of the ``name`` custom section (all optional)."""

    module: Optional[str] = None
    funcs: Dict[int, str] = field(default_factory=dict)
    locals: Dict[int, Dict[int, str]] = field(default_factory=dict)


@dataclass
class Module:
    types: List[DefType] = field(default_factory=list)   # FuncType, StructType, ArrayType
    imports: List[Import] = field(default_factory=list)
    funcs: List[Func] = field(default_factory=list)        # defined functions only
    tables: List[TableType] = field(default_factory=list)  # defined tables only
    mems: List[MemoryType] = field(default_factory=list)   # defined memories only
    globals: List[Global] = field(default_factory=list)    # defined globals only
    tags: List[TagType] = field(default_factory=list)      # defined tags only
    elems: List[Elem] = field(default_factory=list)
    # Initialiser expressions of the defined tables (Wasm 3.0 function references:
    # ``(table 10 (ref $t) (ref.func $f))``), by defined-table index; a table without one
    # (absent or None) starts with null references.
    table_inits: Dict[int, Expr] = field(default_factory=dict)
    datas: List[Data] = field(default_factory=list)
    start: Optional[int] = None
    exports: List[Export] = field(default_factory=list)
    customs: List[CustomSection] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    data_count: Optional[int] = None
    _export_names: Optional[Tuple[int, Dict[int, str]]] = field(
        default=None, init=False, compare=False, repr=False)

    # Index spaces: imports come first, then definitions (spec 2.5.1).
    def imported(self, kind: str) -> List[Import]:
        return [imp for imp in self.imports if imp.kind == kind]

    def func_type(self, index: int) -> FuncType:
        """Type ``index``, which must be a function type (a struct or array type where a
        function type is needed is invalid: spec 3.0 valid/modules.rst)."""
        if not 0 <= index < len(self.types):
            raise InvalidError("unknown type %d" % index)
        t = self.types[index]
        if not isinstance(t, FuncType):
            raise InvalidError("type mismatch: type %d is not a function type" % index)
        return t

    def func_types(self) -> List[FuncType]:
        """The type of every function in the function index space."""
        out = [self.func_type(imp.type_index) for imp in self.imports if imp.kind == FUNC]
        known: Dict[int, FuncType] = {}   # a large module's functions share few types
        for f in self.funcs:
            t = known.get(f.type_index)
            if t is None:
                t = known[f.type_index] = self.func_type(f.type_index)
            out.append(t)
        return out

    def table_types(self) -> List[TableType]:
        out = [imp.table_type for imp in self.imports if imp.kind == TABLE]
        return out + list(self.tables)

    def memory_types(self) -> List[MemoryType]:
        out = [imp.memory_type for imp in self.imports if imp.kind == MEMORY]
        return out + list(self.mems)

    def global_types(self) -> List[GlobalType]:
        out = [imp.global_type for imp in self.imports if imp.kind == GLOBAL]
        return out + [g.type for g in self.globals]

    def tag_types(self) -> List[TagType]:
        out = [imp.tag_type for imp in self.imports if imp.kind == TAG]
        return out + list(self.tags)

    def num_imported_funcs(self) -> int:
        return sum(1 for imp in self.imports if imp.kind == FUNC)

    def func_name(self, index: int) -> str:
        """A readable name for function ``index`` (name section, else an export, else $N)."""
        name = self.names.funcs.get(index)
        if name is not None:
            return name
        # The first export of each function, found in one pass and kept while the export
        # list keeps its length (a scan per call was quadratic for 40,000 exports).
        cache = self._export_names
        if cache is None or cache[0] != len(self.exports):
            first: Dict[int, str] = {}
            for exp in self.exports:
                if exp.kind == FUNC and exp.index not in first:
                    first[exp.index] = exp.name
            cache = self._export_names = (len(self.exports), first)
        return cache[1].get(index, "$%d" % index)
