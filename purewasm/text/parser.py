"""The parser of the text format: tokens -> :class:`syntax.Module` (spec 6.4-6.6).

Two passes over the module's fields. The first binds every symbolic identifier of the
module-level index spaces (spec 6.6.1: identifiers may be used before their definition)
and collects the explicit type definitions; the second builds the module. Implicit types
of inline type uses (spec 6.6.3, "abbreviations" of ``typeuse``) are appended to
``Module.types`` in the order they occur, after the explicit ones, reusing the first
equal type if one exists.

Instruction sequences are parsed with an explicit stack of open constructs (plain
``block ... end`` and the folded forms of spec 6.5, "Folded Instructions"), so nesting depth costs no Python
recursion.
"""
from __future__ import annotations

from typing import Collection, Dict, List, NoReturn, Optional, Tuple, Union

from .. import opcodes, syntax
from ..syntax import (
    ACTIVE, DECLARATIVE, PASSIVE, BlockType, Data, Elem, Export, Func, FuncType, Global, GlobalType,
    Import, Instr, Limits, MemoryType, Module, TableType, TagType,
)
from ..binary.decode import check_limits
from ..binary.immediates import CODECS
from ..binary.memarg import memarg_from_text
from ..errors import UnsupportedProposalError
from ..syntax.types import ABBREVIATED, ABSTRACT_HEAP_TYPES, RefType
from .lexer import ATOM, EOF, LP, RP, STRING, TokenCursor, Tokens, tokenize
from .literals import LiteralError, parse_iN, parse_nat, parse_number

# Reference type abbreviations (funcref, externref, anyref, nullfuncref, …) -> RefType.
REF_TYPES = {text: RefType(True, heap) for text, heap in ABBREVIATED.items()}
VALUE_TYPES = frozenset(syntax.NUM_TYPES + syntax.VEC_TYPES) | frozenset(REF_TYPES)
# Heap type keyword (as in "ref.null func") -> the nullable reference type.
HEAP_TYPES = {heap: RefType(True, heap) for heap in ABSTRACT_HEAP_TYPES}

# Names of the index spaces, as used in "unknown ..." and "duplicate ..." messages.
_SPACE_NOUN = {
    "type": "type", "func": "function", "table": "table", "memory": "memory",
    "global": "global", "elem": "elem segment", "data": "data segment", "tag": "tag",
}
_DUP_NOUN = {"type": "type", "func": "func", "table": "table", "memory": "memory",
             "global": "global", "elem": "elem", "data": "data", "tag": "tag"}
# The kinds of imports and exports (exception handling adds tags).
_EXTERN_KINDS = ("func", "table", "memory", "global", "tag")

# Instructions parsed structurally, or that exist only in the binary format.
_NOT_PLAIN = (opcodes.names_where("opens_block") | opcodes.names_where("closes_block")
              | opcodes.names_where("is_else") | {"select_t", "then"})

# Keywords of the text format that are no instruction names.
_KEYWORDS = frozenset((
    "type", "func", "param", "result", "local", "global", "table", "memory", "elem", "data",
    "import", "export", "start", "offset", "item", "declare", "mut", "then", "module",
    "i32", "i64", "f32", "f64", "v128", "funcref", "externref", "extern", "ref", "null",
    "anyref", "eqref", "i31ref", "structref", "arrayref", "exnref", "nullref",
    "nullfuncref", "nullexternref", "nullexnref", "any", "eq", "i31", "struct", "array",
    "exn", "none", "nofunc", "noextern", "noexn", "tag", "catch", "catch_ref", "catch_all",
    "catch_all_ref",
    "binary", "quote", "inf", "nan"))

# Frames of the instruction parser's explicit stack.
_B = 0      # plain block/loop/if, waiting for "end": [_B, opname, label, seen_else]
_FP = 1     # folded plain instruction, waiting for ")": [_FP, instr]
_FB = 2     # folded block/loop: [_FB]
_FC = 3     # folded if, parsing its condition: [_FC, label, blocktype]
_FT = 4     # folded if, inside (then ...): [_FT]
_FE = 5     # folded if, inside (else ...): [_FE]

_U32 = 1 << 32


def _end() -> Instr:
    return Instr("end")


def _literal_message(exc: LiteralError, text: str) -> str:
    """The spec interpreter's reason for a bad literal: a token that is no number at all
    is a keyword ("unexpected token") or a reserved token ("unknown operator")."""
    msg = exc.args[0]
    if msg == "unexpected token" and _is_number(text) and text not in _NAN_PATTERNS:
        return "unknown operator"
    return msg


_NAN_PATTERNS = ("nan:canonical", "nan:arithmetic")


def _is_number(text: str) -> bool:
    """A literal, or a reserved token where a literal may stand (not a keyword or id)."""
    return not ("a" <= text[0] <= "z" or text[0] == "$") or text in ("inf", "nan") \
        or text.startswith("nan:")


def _close(out: List[Instr]) -> None:
    """Append the "end" of a block; an empty else branch is dropped (spec 5.4.1: the
    binary format omits it), so text and binary give the same instruction sequence."""
    if out and out[-1].op == "else":
        out.pop()
    out.append(Instr("end"))


class _Func:
    """What the parser needs to know inside one function body."""

    __slots__ = ("locals",)

    def __init__(self) -> None:
        self.locals: Dict[str, int] = {}


class ModuleParser(TokenCursor):
    """Parses the fields of one module from a token range ``[start, stop)``."""

    def __init__(self, toks: Tokens, start: int, stop: int,
                 features: Optional[Collection[str]] = None) -> None:
        super().__init__(toks, start)
        if features is None:
            features = opcodes.ALL_FEATURES
        # memory64: memarg offsets are u64 (Wasm 2.0: u32, "i32 constant" beyond).
        self.offset_limit = 1 << 64 if "memory64" in features else _U32
        # memory64: limits are read as u64 whatever the address type (the validator then
        # bounds them: "memory size ..."); Wasm 2.0: u32 ("i32 constant out of range").
        self.wide_limits = "memory64" in features
        # Function indices in an element segment are (ref func) in Wasm 3.0 (function
        # references), funcref in 2.0.
        self.func_elem_type: str = (RefType(False, "func") if "function_references" in features
                                    else syntax.FUNCREF)
        self.match = toks.match
        self.start = start
        self.stop = stop
        self.module = Module()
        self.spaces: Dict[str, Dict[str, int]] = {k: {} for k in _SPACE_NOUN}
        self.counts: Dict[str, int] = {k: 0 for k in _SPACE_NOUN}
        self.uses_data_count = False
        # Struct field identifiers, by type index (GC: struct.get $t $field).
        self.field_names: Dict[int, Dict[str, int]] = {}
        # Imports per kind so far: indices of definitions follow them (spec 6.6.1).
        self.imported = {"func": 0, "table": 0, "memory": 0, "global": 0, "tag": 0}

    # --- token helpers -------------------------------------------------------------

    def at_lp(self, keyword: str) -> bool:
        i = self.i
        return (self.kinds[i] == LP and self.kinds[i + 1] == ATOM
                and self.values[i + 1] == keyword)

    def enter(self) -> None:
        """Step over ``(keyword`` (after :meth:`at_lp` said it is there)."""
        self.i += 2

    def nat32(self) -> int:
        i = self.i
        v = self.values[i] if self.kinds[i] == ATOM else None
        n = parse_nat(v) if v is not None else None  # type: ignore[arg-type]
        if n is None:
            # A reserved token (spec 6.2.2, e.g. "0drop") where an index is expected.
            self.error("unknown operator" if v is not None and _is_number(v)  # type: ignore[arg-type]
                       else "unexpected token")
        if n >= _U32:
            self.error("i32 constant out of range")
        self.i += 1
        return n

    def unexpected(self) -> NoReturn:
        """A syntax error at the current token, worded as the spec interpreter's: a word
        that is no keyword at all is an "unknown operator" (e.g. the old ``anyfunc``)."""
        v = self.values[self.i]
        if (self.kinds[self.i] == ATOM and isinstance(v, str) and "a" <= v[0] <= "z"
                and v not in _KEYWORDS and v not in opcodes.BY_NAME
                and not _is_number(v)):
            self.error("unknown operator %s" % v)
        self.error("unexpected token")

    def valtype(self) -> str:
        if self.at_lp("ref"):
            return self.ref_form()
        v = self.values[self.i]
        if self.kinds[self.i] != ATOM or v not in VALUE_TYPES:
            self.unexpected()
        self.i += 1
        return REF_TYPES.get(v, v) if isinstance(v, str) else v  # type: ignore[return-value]

    def at_valtype(self) -> bool:
        """Whether a value type starts here (an atom, or ``(ref ...)``)."""
        return self.kinds[self.i] == ATOM or self.at_lp("ref")

    def reftype(self) -> str:
        if self.at_lp("ref"):
            return self.ref_form()
        v = self.values[self.i]
        if self.kinds[self.i] != ATOM or v not in REF_TYPES:
            self.unexpected()
        self.i += 1
        return REF_TYPES[v]  # type: ignore[index]

    def at_reftype(self) -> bool:
        return (self.kinds[self.i] == ATOM and self.values[self.i] in REF_TYPES
                or self.at_lp("ref"))

    def at_heaptype(self) -> bool:
        """Whether a heap type (an abstract one's keyword, or a type index) starts here."""
        v = self.values[self.i]
        return self.kinds[self.i] == ATOM and isinstance(v, str) and (
            v in HEAP_TYPES or v[0] == "$" or v[0].isdigit())

    def heaptype(self) -> object:
        """A heap type (spec 3.0 6.4.2): an abstract type keyword or a type index."""
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and v in ABSTRACT_HEAP_TYPES:
            self.i += 1
            return v
        if self.kinds[self.i] != ATOM:
            self.unexpected()
        return self.index("type")

    def ref_form(self) -> RefType:
        """``(ref null? heaptype)`` (spec 3.0 6.4.2)."""
        self.i += 2
        nullable = False
        if self.kinds[self.i] == ATOM and self.values[self.i] == "null":
            nullable = True
            self.i += 1
        heap = self.heaptype()
        self.expect_rp()
        return RefType(nullable, heap)  # type: ignore[arg-type]

    def index(self, space: str) -> int:
        """An index (spec 6.6.1): a u32 or a symbolic identifier bound in ``space``."""
        i = self.i
        if self.kinds[i] != ATOM:
            self.error("unexpected token")
        v: str = self.values[i]  # type: ignore[assignment]
        if v[0] == "$":
            idx = self.spaces[space].get(v)
            if idx is None:
                self.error("unknown %s %s" % (_SPACE_NOUN[space], v))
            self.i += 1
            return idx
        return self.nat32()

    def at_index(self) -> bool:
        i = self.i
        if self.kinds[i] != ATOM:
            return False
        v: str = self.values[i]  # type: ignore[assignment]
        return v[0] == "$" or v[0].isdigit()

    def two_indices(self) -> bool:
        if not self.at_index():
            return False
        self.i += 1
        try:
            return self.at_index()
        finally:
            self.i -= 1

    def bind(self, space: str, ident: Optional[str], index: int) -> None:
        if ident is None:
            return
        names = self.spaces[space]
        if ident in names:
            self.error("duplicate %s %s" % (_DUP_NOUN[space], ident), self.i - 1)
        names[ident] = index

    # --- types -----------------------------------------------------------------------

    def functype_body(self) -> Tuple[FuncType, List[Optional[str]]]:
        """``(param ...)* (result ...)*`` (spec 6.4, "Function Types"), returning param ids."""
        params: List[str] = []
        names: List[Optional[str]] = []
        results: List[str] = []
        while self.at_lp("param"):
            self.i += 2
            ident = self.opt_id()
            if ident is not None:
                params.append(self.valtype())
                names.append(ident)
            else:
                while self.at_valtype():
                    params.append(self.valtype())
                    names.append(None)
            self.expect_rp()
        while self.at_lp("result"):
            self.i += 2
            while self.at_valtype():
                results.append(self.valtype())
            self.expect_rp()
        if self.at_lp("param") or self.at_lp("type"):
            self.error("unexpected token")     # out of order (spec 6.6.3)
        return FuncType(tuple(params), tuple(results)), names

    def implicit_type(self, ft: FuncType) -> int:
        types = self.module.types
        for idx, t in enumerate(types):
            if t == ft:
                return idx
        types.append(ft)
        return len(types) - 1

    def typeuse(self) -> Tuple[int, List[Optional[str]]]:
        """A type use (spec 6.6.3) with its abbreviations; returns (type index, param ids)."""
        tidx = None
        if self.at_lp("type"):
            self.i += 2
            tidx = self.index("type")
            self.expect_rp()
        start = self.i
        ft, names = self.functype_body()
        if tidx is None:
            return self.implicit_type(ft), names
        if self.i != start:
            types = self.module.types
            if tidx >= len(types):
                # The inline declaration cannot be checked against a missing type.
                self.error("unknown type", start)
            declared = types[tidx]
            if not isinstance(declared, FuncType) or \
                    (declared.params, declared.results) != (ft.params, ft.results):
                self.error("inline function type", start)
            return tidx, names
        if tidx < len(self.module.types):
            names = [None] * len(getattr(self.module.types[tidx], "params", ()))
        return tidx, names

    def blocktype(self) -> BlockType:
        """A block type (spec 6.5.2): None, a value type, or a type index."""
        if self.kinds[self.i] != LP:
            return None
        if self.at_lp("type"):
            # An explicit type use whose type the short form can say (no params, at most
            # one result) becomes the short form, as wabt's wat2wasm encodes it: the same
            # semantics, and our binaries equal wabt's. (The spec interpreter and
            # wasm-tools keep the index.)
            tidx, _ = self.typeuse()
            types = self.module.types
            t = types[tidx] if 0 <= tidx < len(types) else None
            if isinstance(t, FuncType) and not t.params and len(t.results) <= 1:
                return t.results[0] if t.results else None
            return tidx
        start = self.i
        ft, names = self.functype_body()
        if any(n is not None for n in names):
            self.error("unexpected token", start)
        if not ft.params and len(ft.results) <= 1:
            return ft.results[0] if ft.results else None
        return self.implicit_type(ft)

    def address_type(self) -> str:
        """The optional address type before a memory's or table's limits (Wasm 3.0
        memory64 / table64): "i32" unless ``i64`` (or ``i32``) is written."""
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and v in ("i32", "i64"):
            self.i += 1
            return v  # type: ignore[return-value]
        return "i32"

    def nat64(self) -> int:
        i = self.i
        v = self.values[i] if self.kinds[i] == ATOM else None
        n = parse_nat(v) if v is not None else None  # type: ignore[arg-type]
        if n is None:
            self.unexpected()
        if n >= 1 << 64:
            self.error("i64 constant out of range")
        self.i += 1
        return n

    def limits(self, address: str = "i32") -> Limits:
        nat = self.nat64 if address == "i64" or self.wide_limits else self.nat32
        lo = nat()
        hi = None
        if self.kinds[self.i] == ATOM and self.values[self.i][0].isdigit():  # type: ignore[index, union-attr]
            hi = nat()
        return Limits(lo, hi)

    def memtype(self) -> MemoryType:
        address = self.address_type()
        return MemoryType(self.limits(address), False, address)

    def tabletype(self) -> TableType:
        address = self.address_type()
        lim = self.limits(address)
        return TableType(self.reftype(), lim, address)

    def globaltype(self) -> GlobalType:
        if self.at_lp("mut"):
            self.i += 2
            t = self.valtype()
            self.expect_rp()
            return GlobalType(t, True)
        return GlobalType(self.valtype(), False)

    # --- module ----------------------------------------------------------------------

    def parse(self) -> Module:
        self.pass1()
        self.i = self.start
        kinds, values = self.kinds, self.values
        while self.i < self.stop:
            if kinds[self.i] != LP or kinds[self.i + 1] != ATOM:
                self.error("unexpected token", self.i + (kinds[self.i] == LP))
            kw = values[self.i + 1]
            end = self.match[self.i]
            if kinds[end] != RP:
                self.error("unexpected end of input", end)
            self.i += 2
            handler = _FIELD_PARSERS.get(kw)  # type: ignore[arg-type]
            if handler is None:
                self.error("unexpected token", self.i - 1)
            handler(self, end)
            if self.i != end:
                self.error("unexpected token")
            self.i = end + 1
        if self.uses_data_count:
            # The binary format needs a data count section for these instructions (spec
            # 5.5, "Data Count Section"); the decoder reports its value, so we do too.
            self.module.data_count = len(self.module.datas)
        return self.module

    def pass1(self) -> None:
        """Bind identifiers of module-level definitions; collect explicit types."""
        kinds, values, match = self.kinds, self.values, self.match
        defined: Optional[str] = None    # the first non-imported definition seen
        # Type identifiers first: a type may refer to itself or (invalid, but reported by
        # the validator) to a later type, as in (type $t (func (param (ref $t)))).
        i = self.start
        n_types = 0
        while i < self.stop:
            end = match[i]
            if kinds[i] != LP or kinds[i + 1] != ATOM or end > self.stop or kinds[end] != RP:
                break
            if values[i + 1] == "type":
                self.i = i + 2
                self.bind("type", self.opt_id(), n_types)
                n_types += 1
            elif values[i + 1] == "rec":
                # (rec (type $t? ...)*): the group's types take the next indices.
                j = i + 2
                while j < end and kinds[j] == LP and kinds[j + 1] == ATOM \
                        and values[j + 1] == "type":
                    self.i = j + 2
                    self.bind("type", self.opt_id(), n_types)
                    n_types += 1
                    j = match[j] + 1
            i = end + 1
        i = self.start
        while i < self.stop:
            end = match[i]
            if kinds[i] != LP or kinds[i + 1] != ATOM or end > self.stop or kinds[end] != RP:
                break    # pass 2 reports the error where it is, in source order
            kw = values[i + 1]
            self.i = i + 2
            if kw == "rec":
                group: List[int] = []
                while self.at_lp("type"):
                    group.append(self.i)
                    self.i = match[self.i] + 1
                if self.i != end:
                    self.error("unexpected token")
                for k, j in enumerate(group):
                    self.i = j + 2
                    self.typedef((k, len(group)))
            if kw == "type":
                self.typedef((0, 1))
            elif kw == "import":
                self.string()
                self.string()
                if kinds[self.i] != LP or kinds[self.i + 1] != ATOM:
                    self.error("unexpected token")
                space = values[self.i + 1]
                if space not in _EXTERN_KINDS:
                    self.error("unexpected token", self.i + 1)
                if defined is not None:
                    self.error("import after " + _SPACE_NOUN[defined], i + 1)
                self.i += 2
                self._bind_next(space, self.opt_id())  # type: ignore[arg-type]
            elif kw in _EXTERN_KINDS:
                ident = self.opt_id()
                while self.at_lp("export"):
                    self.i = match[self.i] + 1
                if self.at_lp("import"):
                    if defined is not None:
                        self.error("import after " + _SPACE_NOUN[defined], self.i + 1)
                elif defined is None:
                    defined = kw  # type: ignore[assignment]
                self._bind_next(kw, ident)  # type: ignore[arg-type]
            elif kw in ("elem", "data"):
                self._bind_next(kw, self.opt_id())  # type: ignore[arg-type]
            i = end + 1

    def typedef(self, rec: Tuple[int, int]) -> None:
        """``(type $t? subtype)`` from after the keyword (spec 3.0 6.4.9): a subtype is
        ``(sub final? $super* comptype)`` or a composite type (final, no supertype)."""
        self.opt_id()
        index = len(self.module.types)
        final = True
        supers: List[int] = []
        sub = self.at_lp("sub")
        if sub:
            self.i += 2
            final = False
            if self.kinds[self.i] == ATOM and self.values[self.i] == "final":
                final = True
                self.i += 1
            while self.kinds[self.i] == ATOM:
                supers.append(self.index("type"))
        t = self.comptype(index, final, tuple(supers), rec)
        if sub:
            self.expect_rp()
        self.expect_rp()
        self.module.types.append(t)
        self.counts["type"] += 1

    def comptype(self, index: int, final: bool, supers: Tuple[int, ...],
                 rec: Tuple[int, int]) -> syntax.DefType:
        """``(func ...)``, ``(struct (field ...)*)`` or ``(array fieldtype)`` (6.4.9)."""
        if self.at_lp("func"):
            self.i += 2
            self.opt_id()
            ft, _ = self.functype_body()
            self.expect_rp()
            return FuncType(ft.params, ft.results, final, supers, rec)
        if self.at_lp("struct"):
            self.i += 2
            fields: List[syntax.FieldType] = []
            names: Dict[str, int] = {}
            while self.at_lp("field"):
                self.i += 2
                ident = self.opt_id()
                if ident is not None:
                    if ident in names:
                        self.error("duplicate field %s" % ident, self.i - 1)
                    names[ident] = len(fields)
                    fields.append(self.fieldtype())
                else:
                    while self.kinds[self.i] != RP:
                        fields.append(self.fieldtype())
                self.expect_rp()
            self.expect_rp()
            self.field_names[index] = names
            return syntax.StructType(tuple(fields), final, supers, rec)
        if self.at_lp("array"):
            self.i += 2
            self.opt_id()
            element = self.fieldtype()
            self.expect_rp()
            return syntax.ArrayType(element, final, supers, rec)
        self.unexpected()

    def fieldtype(self) -> syntax.FieldType:
        """``storagetype`` or ``(mut storagetype)``; a storage type is a value type or a
        packed type (i8, i16)."""
        mutable = self.at_lp("mut")
        if mutable:
            self.i += 2
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and v in syntax.PACKED_TYPES:
            self.i += 1
            storage: str = v  # type: ignore[assignment]
        else:
            storage = self.valtype()
        if mutable:
            self.expect_rp()
        return syntax.FieldType(storage, mutable)

    def field_index(self, type_index: int) -> int:
        """A field index of struct type ``type_index``: a u32 or a field identifier."""
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and isinstance(v, str) and v[0] == "$":
            idx = self.field_names.get(type_index, {}).get(v)
            if idx is None:
                self.error("unknown field %s" % v)
            self.i += 1
            return idx
        return self.nat32()

    def _bind_next(self, space: str, ident: Optional[str]) -> None:
        self.bind(space, ident, self.counts[space])
        self.counts[space] += 1

    def exports(self, kind: str, index: int) -> None:
        while self.at_lp("export"):
            self.i += 2
            self.module.exports.append(Export(self.name(), kind, index))
            self.expect_rp()

    def inline_import(self) -> Optional[Tuple[str, str]]:
        if not self.at_lp("import"):
            return None
        self.i += 2
        mod = self.name()
        nm = self.name()
        self.expect_rp()
        return mod, nm

    def field_type(self, end: int) -> None:
        self.i = end       # fully handled in pass 1

    def field_import(self, end: int) -> None:
        mod = self.name()
        nm = self.name()
        self.i += 1
        kind = self.values[self.i]
        self.i += 1
        ident = self.opt_id()
        m = self.module
        index = self.imported[kind]  # type: ignore[index]
        self.imported[kind] += 1  # type: ignore[index]
        if kind == "func":
            tidx, _ = self.typeuse()
            m.imports.append(Import(mod, nm, "func", tidx))
            if ident is not None:
                m.names.funcs[index] = ident[1:]
        elif kind == "table":
            m.imports.append(Import(mod, nm, "table", self.tabletype()))
        elif kind == "memory":
            m.imports.append(Import(mod, nm, "memory", self.memtype()))
        elif kind == "tag":
            m.imports.append(Import(mod, nm, "tag", self.tagtype()))
        else:
            m.imports.append(Import(mod, nm, "global", self.globaltype()))
        self.expect_rp()

    def field_func(self, end: int) -> None:
        m = self.module
        ident = self.opt_id()
        index = self.imported["func"] + len(m.funcs)
        if ident is not None:
            m.names.funcs[index] = ident[1:]
        self.exports("func", index)
        imp = self.inline_import()
        tidx, names = self.typeuse()
        if imp is not None:
            m.imports.append(Import(imp[0], imp[1], "func", tidx))
            self.imported["func"] += 1
            return
        ctx = _Func()
        local_names: Dict[int, str] = {}
        for n, ident_ in enumerate(names):
            if ident_ is not None:
                if ident_ in ctx.locals:
                    self.error("duplicate local %s" % ident_)
                ctx.locals[ident_] = n
                local_names[n] = ident_[1:]
        nparams = len(names)
        locals_: List[str] = []
        while self.at_lp("local"):
            self.i += 2
            ident_ = self.opt_id()
            if ident_ is not None:
                if ident_ in ctx.locals:
                    self.error("duplicate local %s" % ident_, self.i - 1)
                n = nparams + len(locals_)
                ctx.locals[ident_] = n
                local_names[n] = ident_[1:]
                locals_.append(self.valtype())
            else:
                while self.at_valtype():
                    locals_.append(self.valtype())
            self.expect_rp()
        body: List[Instr] = []
        self.instrs(end, body, [], ctx)
        body.append(_end())
        m.funcs.append(Func(tidx, locals_, body))
        if local_names:
            m.names.locals[index] = local_names

    def field_table(self, end: int) -> None:
        m = self.module
        self.opt_id()
        index = self.imported["table"] + len(m.tables)
        self.exports("table", index)
        imp = self.inline_import()
        if imp is not None:
            m.imports.append(Import(imp[0], imp[1], "table", self.tabletype()))
            self.imported["table"] += 1
            return
        save = self.i
        address = self.address_type()
        if self.at_reftype():
            rt = self.reftype()
            if not self.at_lp("elem"):
                self.error("unexpected token")
            # Inline element segment (spec 6.6, "Tables", abbreviations).
            if not self.at_lp("elem"):
                self.error("unexpected token")
            seg_end = self.match[self.i]
            self.i += 2
            indices = self.kinds[self.i] != LP
            init = self.elem_items(seg_end, rt, func_indices=indices)
            self.expect_rp()
            m.tables.append(TableType(rt, Limits(len(init), len(init)), address))
            # The segment has the table's type; for a funcref table, function indices are
            # "func x*", (ref func) elements in Wasm 3.0, as wasm-tools reads them.
            etype = self.func_elem_type if indices and rt == syntax.FUNCREF else rt
            m.elems.append(Elem(etype, init, ACTIVE, index,
                                [Instr(address + ".const", 0), _end()]))
            return
        self.i = save
        tt = self.tabletype()
        if self.i < end:
            m.table_inits[len(m.tables)] = self.expr(end)
        m.tables.append(tt)

    def field_memory(self, end: int) -> None:
        m = self.module
        self.opt_id()
        index = self.imported["memory"] + len(m.mems)
        self.exports("memory", index)
        imp = self.inline_import()
        if imp is not None:
            m.imports.append(Import(imp[0], imp[1], "memory", self.memtype()))
            self.imported["memory"] += 1
            return
        save = self.i
        address = self.address_type()
        if self.at_lp("data"):
            # Inline data segment (spec 6.6, "Memories", abbreviations): limits from the data size.
            self.i += 2
            data = bytearray()
            while self.kinds[self.i] == STRING:
                data += self.string()
            self.expect_rp()
            pages = (len(data) + 0xFFFF) // 0x10000
            m.mems.append(MemoryType(Limits(pages, pages), False, address))
            m.datas.append(Data(bytes(data), ACTIVE, index,
                                [Instr(address + ".const", 0), _end()]))
            return
        self.i = save
        m.mems.append(self.memtype())

    def field_global(self, end: int) -> None:
        m = self.module
        self.opt_id()
        index = self.imported["global"] + len(m.globals)
        self.exports("global", index)
        imp = self.inline_import()
        gt = self.globaltype()
        if imp is not None:
            m.imports.append(Import(imp[0], imp[1], "global", gt))
            self.imported["global"] += 1
            return
        m.globals.append(Global(gt, self.expr(end)))

    def tagtype(self) -> TagType:
        """A tag's type use (exception handling): its function type must have no results
        (the validator says so: "non-empty tag result type")."""
        tidx, names = self.typeuse()
        if any(n is not None for n in names):
            self.error("unexpected token")
        return TagType(tidx)

    def field_tag(self, end: int) -> None:
        m = self.module
        self.opt_id()
        index = self.imported["tag"] + len(m.tags)
        self.exports("tag", index)
        imp = self.inline_import()
        tt = self.tagtype()
        if imp is not None:
            m.imports.append(Import(imp[0], imp[1], "tag", tt))
            self.imported["tag"] += 1
            return
        m.tags.append(tt)

    def field_export(self, end: int) -> None:
        nm = self.name()
        if self.kinds[self.i] != LP or self.kinds[self.i + 1] != ATOM:
            self.error("unexpected token")
        kind = self.values[self.i + 1]
        if kind not in _EXTERN_KINDS:
            self.error("unexpected token", self.i + 1)
        self.i += 2
        idx = self.index(kind)  # type: ignore[arg-type]
        self.expect_rp()
        self.module.exports.append(Export(nm, kind, idx))  # type: ignore[arg-type]

    def field_start(self, end: int) -> None:
        if self.module.start is not None:
            self.error("multiple start sections", self.i - 1)
        self.module.start = self.index("func")

    def field_elem(self, end: int) -> None:
        self.opt_id()
        mode = PASSIVE
        table = 0
        offset = None
        has_table = False
        if self.kinds[self.i] == ATOM and self.values[self.i] == "declare":
            self.i += 1
            mode = DECLARATIVE
        else:
            if self.at_lp("table"):
                self.i += 2
                table = self.index("table")
                self.expect_rp()
                has_table = True
            elif self.at_index() and self.kinds[self.i + 1] == LP:
                # Legacy (Wasm 1.0) form: a bare table index before the offset.
                table = self.index("table")
                has_table = True
            if self.kinds[self.i] == LP and not self.at_lp("ref"):
                offset = self.offset_expr()
                mode = ACTIVE
            elif has_table:
                self.error("unexpected token")
        v = self.values[self.i] if self.kinds[self.i] == ATOM else None
        if v == "func":
            self.i += 1
            rt = self.func_elem_type
            init = self.elem_items(end, rt, func_indices=True)
        elif v in REF_TYPES or self.at_lp("ref"):
            rt = self.reftype()
            init = self.elem_items(end, rt, func_indices=False)
        elif mode == ACTIVE and not has_table:
            # Abbreviation (spec 6.6, "Element Segments"): "(elem (offset ...) funcidx*)".
            rt = self.func_elem_type
            init = self.elem_items(end, rt, func_indices=True)
        else:
            self.error("unexpected token")
        self.module.elems.append(Elem(rt, init, mode, table, offset))

    def elem_items(self, end: int, rt: str, func_indices: bool) -> List[List[Instr]]:
        init: List[List[Instr]] = []
        if func_indices:
            while self.i < end and self.kinds[self.i] == ATOM:
                init.append([Instr("ref.func", self.index("func")), _end()])
            return init
        while self.i < end and self.kinds[self.i] == LP:
            if self.at_lp("item"):
                item_end = self.match[self.i]
                self.i += 2
                e: List[Instr] = []
                self.instrs(item_end, e, [], None)
                self.expect_rp()
            else:
                e = []
                self.instrs(self.match[self.i] + 1, e, [], None)
            e.append(_end())
            init.append(e)
        return init

    def offset_expr(self) -> List[Instr]:
        """``(offset expr)`` or its abbreviation, one folded instruction (spec 6.6, "Element Segments")."""
        e: List[Instr] = []
        if self.at_lp("offset"):
            oend = self.match[self.i]
            self.i += 2
            self.instrs(oend, e, [], None)
            self.expect_rp()
        else:
            self.instrs(self.match[self.i] + 1, e, [], None)
        e.append(_end())
        return e

    def field_data(self, end: int) -> None:
        self.opt_id()
        mem = 0
        offset = None
        mode = PASSIVE
        if self.at_lp("memory"):
            self.i += 2
            mem = self.index("memory")
            self.expect_rp()
            offset = self.offset_expr()
            mode = ACTIVE
        else:
            if self.at_index() and self.kinds[self.i + 1] == LP:
                mem = self.index("memory")    # legacy form: a bare memory index
                offset = self.offset_expr()
                mode = ACTIVE
            elif self.kinds[self.i] == LP:
                offset = self.offset_expr()
                mode = ACTIVE
        data = bytearray()
        while self.kinds[self.i] == STRING:
            data += self.string()
        self.module.datas.append(Data(bytes(data), mode, mem, offset))

    def expr(self, end: int) -> List[Instr]:
        e: List[Instr] = []
        self.instrs(end, e, [], None)
        e.append(_end())
        return e

    # --- instructions ----------------------------------------------------------------

    def label_id(self, labels: List[Optional[str]]) -> Optional[str]:
        ident = self.opt_id()
        labels.append(ident)
        return ident

    def check_end_label(self, label: Optional[str]) -> None:
        """``end $l`` / ``else $l`` must repeat the block's label (spec 6.5.2)."""
        ident = self.opt_id()
        if ident is not None and ident != label:
            self.error("mismatching label", self.i - 1)

    def instrs(self, end: int, out: List[Instr], labels: List[Optional[str]],
               ctx: Optional[_Func]) -> None:
        """Parse instructions from ``self.i`` up to token ``end`` into ``out`` (flat)."""
        kinds, values = self.kinds, self.values
        stack: List[list] = []
        append = out.append
        while True:
            i = self.i
            if i >= end:
                if i > end or stack:
                    self.error("unexpected token", min(i, end))
                return
            k = kinds[i]
            if k == ATOM:
                if stack and stack[-1][0] in (_FP, _FC):
                    # Operands of a folded instruction must be folded (spec 6.5, "Folded Instructions").
                    self.error("unexpected token")
                kw = values[i]
                if kw == "block" or kw == "loop" or kw == "if":
                    self.i += 1
                    label = self.label_id(labels)
                    append(Instr(kw, self.blocktype()))  # type: ignore[arg-type]
                    stack.append([_B, kw, label, False])
                elif kw == "try_table":
                    self.i += 1
                    label = self.opt_id()
                    append(self.try_table(labels))
                    labels.append(label)
                    stack.append([_B, kw, label, False])
                elif kw == "else":
                    top = stack[-1] if stack else None
                    if top is None or top[0] != _B or top[1] != "if" or top[3]:
                        self.error("unexpected token")
                    self.i += 1
                    self.check_end_label(top[2])
                    top[3] = True
                    append(Instr("else"))
                elif kw == "end":
                    top = stack[-1] if stack else None
                    if top is None or top[0] != _B:
                        self.error("unexpected token")
                    self.i += 1
                    self.check_end_label(top[2])
                    stack.pop()
                    labels.pop()
                    _close(out)
                else:
                    append(self.plain(labels, ctx))
            elif k == LP:
                if kinds[i + 1] != ATOM:
                    self.error("unexpected token", i + 1)
                kw = values[i + 1]
                top = stack[-1] if stack else None
                if top is not None and top[0] == _FC:
                    if kw == "then":
                        self.i += 2
                        labels.append(top[1])
                        append(Instr("if", top[2]))
                        top[0] = _FT
                        continue
                if kw == "block" or kw == "loop":
                    self.i += 2
                    self.label_id(labels)
                    append(Instr(kw, self.blocktype()))  # type: ignore[arg-type]
                    stack.append([_FB])
                elif kw == "try_table":
                    self.i += 2
                    label = self.opt_id()
                    append(self.try_table(labels))
                    labels.append(label)
                    stack.append([_FB])
                elif kw == "if":
                    self.i += 2
                    label = self.opt_id()
                    stack.append([_FC, label, self.blocktype()])
                else:
                    self.i += 1
                    stack.append([_FP, self.plain(labels, ctx)])
            elif k == RP:
                if not stack:
                    self.error("unexpected token")
                top = stack[-1]
                f = top[0]
                self.i += 1
                if f == _FP:
                    append(top[1])
                    stack.pop()
                elif f == _FB:
                    append(_end())
                    labels.pop()
                    stack.pop()
                elif f == _FT:
                    if self.at_lp("else"):
                        self.i += 2
                        append(Instr("else"))
                        top[0] = _FE
                    else:
                        self.expect_rp()
                        append(_end())
                        labels.pop()
                        stack.pop()
                elif f == _FE:
                    self.expect_rp()
                    _close(out)
                    labels.pop()
                    stack.pop()
                else:
                    # A folded "if" without "(then" or a plain block without "end".
                    self.error("unexpected token", i)
            else:
                self.error("unexpected token")

    def try_table(self, labels: List[Optional[str]]) -> Instr:
        """try_table's block type and catch clauses, after its label (the codec:
        binary/immediates.py)."""
        info = opcodes.BY_NAME["try_table"]
        return Instr("try_table", CODECS[info.imm].parse(self, info, labels, None))

    def label_index(self, labels: List[Optional[str]]) -> int:
        i = self.i
        if self.kinds[i] != ATOM:
            self.error("unexpected token")
        v: str = self.values[i]  # type: ignore[assignment]
        if v[0] == "$":
            for depth in range(len(labels) - 1, -1, -1):
                if labels[depth] == v:
                    self.i += 1
                    return len(labels) - 1 - depth
            self.error("unknown label %s" % v)
        return self.nat32()

    def local_index(self, ctx: Optional[_Func]) -> int:
        i = self.i
        if self.kinds[i] != ATOM:
            self.error("unexpected token")
        v: str = self.values[i]  # type: ignore[assignment]
        if v[0] == "$":
            idx = ctx.locals.get(v) if ctx is not None else None
            if idx is None:
                self.error("unknown local %s" % v)
            self.i += 1
            return idx
        return self.nat32()

    def memarg(self, natural: Optional[int], lane: bool = False) -> Tuple[int, int, int]:
        """``memidx? offset=N? align=N?`` (spec 6.5.7; the rules: binary/memarg.py).
        ``lane``: a lane index follows (v128.loadN_lane), so a lone number is the lane."""
        mem = 0
        if self.at_index():
            nxt = self.values[self.i + 1] if self.kinds[self.i + 1] == ATOM else ""
            here = self.values[self.i]
            if not isinstance(nxt, str):
                nxt = ""
            if (not lane or (isinstance(here, str) and here[:1] == "$")
                    or nxt[:1].isdigit() or nxt.startswith(("offset=", "align="))):
                mem = self.index("memory")
        offset = 0
        align: Optional[int] = None
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and isinstance(v, str) and v.startswith("offset="):
            n = parse_nat(v[7:])
            if n is None:
                self.error("unknown operator")   # no "offset=N" token (spec lexer)
            if n >= self.offset_limit:
                self.error("i32 constant" if self.offset_limit == _U32 else "i64 constant")
            offset = n
            self.i += 1
            v = self.values[self.i]
        if self.kinds[self.i] == ATOM and isinstance(v, str) and v.startswith("align="):
            align = parse_nat(v[6:])
            if align is None:
                self.error("unknown operator")
            self.i += 1
        try:
            return memarg_from_text(mem, offset, align, natural)
        except ValueError as exc:
            self.error(str(exc), self.i - 1)

    def lane(self, shuffle: bool = False) -> int:
        v = self.values[self.i]
        if self.kinds[self.i] != ATOM:
            self.error("unexpected token")
        n = parse_nat(v)  # type: ignore[arg-type]
        if n is None:
            # The spec parser wants a NAT token here; a shuffle's lanes are any numbers.
            self.error("malformed lane index" if shuffle else "unexpected token")
        if n > 255:
            self.error("malformed lane index")
        self.i += 1
        return n

    def num(self, kind: str) -> int:
        """An i32/i64/f32/f64 literal, as the opcode table's immediate of ``kind``."""
        i = self.i
        if self.kinds[i] != ATOM:
            self.error("unexpected token")
        v: str = self.values[i]  # type: ignore[assignment]
        try:
            r = parse_number(v, kind)
        except LiteralError as exc:
            self.error(_literal_message(exc, v))
        self.i += 1
        return r

    def lane_count(self) -> int:
        """How many numeric literal tokens follow (lane lists are checked as a whole)."""
        j = self.i
        while self.kinds[j] == ATOM and _is_number(self.values[j]):  # type: ignore[arg-type]
            j += 1
        return j - self.i

    def v128_const(self) -> int:
        if self.kinds[self.i] != ATOM or self.values[self.i] not in syntax.SHAPES:
            self.error("unexpected token")
        lane_type, count, bits = syntax.SHAPES[self.values[self.i]]  # type: ignore[index]
        self.i += 1
        if self.lane_count() != count:
            self.error("wrong number of lane literals")
        value = 0
        for n in range(count):
            if lane_type[0] == "f":
                lane = self.num(lane_type)
            else:
                v: str = self.values[self.i]  # type: ignore[assignment]
                try:
                    lane = parse_iN(v, bits)
                except LiteralError as exc:
                    self.error(_literal_message(exc, v))
                self.i += 1
            value |= lane << (n * bits)
        return value

    def plain(self, labels: List[Optional[str]], ctx: Optional[_Func]) -> Instr:
        """One plain instruction (spec 6.5) at ``self.i`` with its immediates."""
        i = self.i
        if self.kinds[i] != ATOM:
            self.error("unexpected token")
        op: str = self.values[i]  # type: ignore[assignment]
        info = opcodes.BY_NAME.get(op)
        if info is None or op in _NOT_PLAIN:
            if op in _KEYWORDS or op[0] == "$" or _is_number(op):
                self.error("unexpected token")
            proposal = opcodes.unsupported_text_proposal(op)
            if proposal is not None:
                raise UnsupportedProposalError(proposal, op)
            self.error("unknown operator %s" % op)
        self.i += 1
        if op == "select" and self.at_lp("result"):
            # "select (result t*)" is the typed select, an instruction of its own.
            info = opcodes.BY_NAME["select_t"]
            op = info.name
        return Instr(op, CODECS[info.imm].parse(self, info, labels, ctx))


_FIELD_PARSERS = {
    "type": ModuleParser.field_type,
    "rec": ModuleParser.field_type,
    "import": ModuleParser.field_import,
    "func": ModuleParser.field_func,
    "table": ModuleParser.field_table,
    "memory": ModuleParser.field_memory,
    "global": ModuleParser.field_global,
    "export": ModuleParser.field_export,
    "start": ModuleParser.field_start,
    "elem": ModuleParser.field_elem,
    "data": ModuleParser.field_data,
    "tag": ModuleParser.field_tag,
}


def parse_module_tokens(toks: Tokens, start: int,
                        features: Optional[Collection[str]] = None) -> Tuple[Module, int]:
    """Parse ``(module $id? field*)`` starting at token ``start`` (its "(").

    Returns the module and the index of the token after its ")".
    """
    end = toks.match[start]
    if toks.kinds[end] != RP:
        toks.error(end, "unexpected end of input")
    i = start + 2
    ident = None
    v = toks.values[i]
    if toks.kinds[i] == ATOM and isinstance(v, str) and v[0] == "$":
        ident = v
        i += 1
    module = ModuleParser(toks, i, end, features).parse()
    if ident is not None:
        module.names.module = ident[1:]
    return module, end + 1


def _script_form(toks: Tokens, j: int, features: Optional[Collection[str]]) -> Module:
    """``(module $id? binary "..."*)`` / ``(module $id? quote "..."*)`` (script syntax)."""
    kinds = toks.kinds
    i = j + 1
    parts = []
    while kinds[i] == STRING:
        parts.append(toks.values[i])
        i += 1
    if kinds[i] != RP or kinds[i + 1] != EOF:
        toks.error(i, "unexpected token")
    data = b"".join(parts)  # type: ignore[arg-type]
    if toks.values[j] == "binary":
        from ..binary import decode_module
        return decode_module(data, features)
    # A quoted module is a list of module fields: empty is the empty module here (spec
    # interpreter), unlike a whole input, which parse_module refuses when empty.
    return _parse_module(data, allow_empty=True, features=features)


def parse_module(text: Union[str, bytes], features: Optional[Collection[str]] = None
                 ) -> Module:
    """Parse a module in the text format: ``(module ...)`` or a bare list of fields.

    ``text`` is a ``str`` (or UTF-8 ``bytes``). Raises MalformedError with line and column;
    an input with no token at all (empty, blank or only comments) is not a module (as
    wasmtime: an empty file must not pass for a valid program). ``features``: the Wasm
    3.0 proposals whose syntax is read (None: all; e.g. without memory64 a memarg offset
    is a u32, as in Wasm 2.0).
    """
    return _parse_module(text, allow_empty=False, features=features)


def parse_quoted_module(text: Union[str, bytes],
                        features: Optional[Collection[str]] = None) -> Module:
    """Parse the text of a script's ``(module quote ...)``: as :func:`parse_module`, except
    that no field at all (empty, or only comments and annotations) is the empty module, as
    in the spec interpreter."""
    return _parse_module(text, allow_empty=True, features=features)


def _parse_module(text: Union[str, bytes], allow_empty: bool,
                  features: Optional[Collection[str]] = None) -> Module:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="surrogateescape")
    toks = tokenize(text)
    kinds, values = toks.kinds, toks.values
    if kinds[0] == EOF and not allow_empty:
        toks.error(0, "empty input: expected a module")
    if kinds[0] == LP and kinds[1] == ATOM and values[1] == "module":
        j = 3 if kinds[2] == ATOM and values[2][0] == "$" else 2  # type: ignore[index]
        if kinds[j] == ATOM and values[j] in ("binary", "quote"):
            return _script_form(toks, j, features)   # decoded, or parsed here again
        module, i = parse_module_tokens(toks, 0, features)
        if kinds[i] != EOF:
            toks.error(i, "unexpected token")
    else:
        module = ModuleParser(toks, 0, len(kinds) - 1, features).parse()
    check_limits(module)   # as a binary would be: the same module, the same verdict
    return module
