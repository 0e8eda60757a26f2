"""Typing rules of the GC instructions (spec 3.0 valid/instructions.rst "Aggregate
Reference Instructions", "Scalar Reference Instructions", "Reference Instructions").

:func:`gc_effect` gives the stack effect ``(params, results)`` of every GC instruction
whose effect does not depend on the operand types; func.py handles the rest (the
conversions between any and extern keep the operand's nullability, br_on_cast reads its
label) with :func:`cast_top`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Tuple

from ..errors import InvalidError
from ..syntax import PACKED_TYPES, ArrayType, FieldType, Instr, StructType
from ..syntax.types import RefType, defaultable
from .matching import matches

if TYPE_CHECKING:
    from .func import Context

Sig = Tuple[List[str], List[str]]

_I32 = "i32"
_EQREF = RefType(True, "eq")
_ARRAYREF = RefType(True, "array")
_NUM_VEC = frozenset(("i32", "i64", "f32", "f64", "v128"))


def unpacked(f: FieldType) -> str:
    """The value type a field is read and written as (spec 3.0: i8/i16 as i32)."""
    return _I32 if f.storage in PACKED_TYPES else f.storage


def _fail(message: str, fidx: int, ins: Instr) -> InvalidError:
    return InvalidError(message, fidx, ins.offset)


def _struct(ctx: "Context", x: int, fidx: int, ins: Instr) -> StructType:
    types = ctx.types
    if not 0 <= x < len(types):
        raise _fail("unknown type %d" % x, fidx, ins)
    t = types[x]
    if not isinstance(t, StructType):
        raise _fail("type mismatch: type %d is not a struct type" % x, fidx, ins)
    return t


def _array(ctx: "Context", x: int, fidx: int, ins: Instr) -> FieldType:
    types = ctx.types
    if not 0 <= x < len(types):
        raise _fail("unknown type %d" % x, fidx, ins)
    t = types[x]
    if not isinstance(t, ArrayType):
        raise _fail("type mismatch: type %d is not an array type" % x, fidx, ins)
    return t.element


def _field(ctx: "Context", x: int, y: int, fidx: int, ins: Instr) -> FieldType:
    fields = _struct(ctx, x, fidx, ins).fields
    if not 0 <= y < len(fields):
        raise _fail("unknown field %d" % y, fidx, ins)
    return fields[y]


def _check_packing(f: FieldType, op: str, fidx: int, ins: Instr) -> None:
    """get_s/get_u only for packed fields, get only for the others."""
    packed = f.storage in PACKED_TYPES
    if packed != (op.endswith("_s") or op.endswith("_u")):
        raise _fail("type mismatch: %s of a %s field" % (op, "packed" if packed
                                                         else "unpacked"), fidx, ins)


def _mutable(f: FieldType, what: str, fidx: int, ins: Instr) -> None:
    if not f.mutable:
        raise _fail("%s is immutable" % what, fidx, ins)


def _data(ctx: "Context", f: FieldType, d: int, fidx: int, ins: Instr) -> None:
    if f.storage not in PACKED_TYPES and f.storage not in _NUM_VEC:
        raise _fail("array type is not numeric or vector", fidx, ins)
    if not 0 <= d < ctx.n_datas:
        raise _fail("unknown data segment %d" % d, fidx, ins)


def _elem(ctx: "Context", f: FieldType, e: int, fidx: int, ins: Instr) -> None:
    if not 0 <= e < len(ctx.elem_types):
        raise _fail("unknown elem segment %d" % e, fidx, ins)
    if f.storage in PACKED_TYPES or not matches(ctx.elem_types[e], f.storage, ctx.space):
        raise _fail("type mismatch: elem segment %d of %s for an array of %s"
                    % (e, ctx.elem_types[e], f.storage), fidx, ins)


def cast_top(ctx: "Context", rt: RefType, fidx: int, ins: Instr) -> RefType:
    """The nullable top type of ``rt``'s hierarchy (the operand type of a cast), after
    checking ``rt`` is well-formed."""
    ctx.check_type(rt, fidx, ins)
    return RefType(True, ctx.space.top(rt.heap))


def gc_effect(ctx: "Context", ins: Instr, fidx: int) -> Sig:
    """``(params, results)`` of a GC instruction, after its static checks."""
    op = ins.op
    imm = ins.imm
    if op == "ref.eq":
        return [_EQREF, _EQREF], [_I32]
    if op == "ref.i31":
        return [_I32], [RefType(False, "i31")]
    if op == "i31.get_s" or op == "i31.get_u":
        return [RefType(True, "i31")], [_I32]
    if op == "array.len":
        return [_ARRAYREF], [_I32]
    if op == "ref.test":
        return [cast_top(ctx, imm, fidx, ins)], [_I32]
    if op == "ref.cast":
        return [cast_top(ctx, imm, fidx, ins)], [imm]
    if op.startswith("struct."):
        if op == "struct.new" or op == "struct.new_default":
            st = _struct(ctx, imm, fidx, ins)
            if op == "struct.new_default":
                for f in st.fields:
                    if not defaultable(unpacked(f)):
                        raise _fail("type mismatch: field type %s is not defaultable"
                                    % f.storage, fidx, ins)
                return [], [RefType(False, imm)]
            return [unpacked(f) for f in st.fields], [RefType(False, imm)]
        x, y = imm
        f = _field(ctx, x, y, fidx, ins)
        if op == "struct.set":
            _mutable(f, "field", fidx, ins)
            return [RefType(True, x), unpacked(f)], []
        _check_packing(f, op, fidx, ins)
        return [RefType(True, x)], [unpacked(f)]
    # array.*
    if op in ("array.new", "array.new_default", "array.get", "array.get_s", "array.get_u",
              "array.set", "array.fill"):
        x = imm
        f = _array(ctx, x, fidx, ins)
        v = unpacked(f)
        if op == "array.new":
            return [v, _I32], [RefType(False, x)]
        if op == "array.new_default":
            if not defaultable(v):
                raise _fail("type mismatch: array element type %s is not defaultable"
                            % f.storage, fidx, ins)
            return [_I32], [RefType(False, x)]
        if op == "array.set":
            _mutable(f, "array", fidx, ins)
            return [RefType(True, x), _I32, v], []
        if op == "array.fill":
            _mutable(f, "array", fidx, ins)
            return [RefType(True, x), _I32, v, _I32], []
        _check_packing(f, op, fidx, ins)
        return [RefType(True, x), _I32], [v]
    x, y = imm
    f = _array(ctx, x, fidx, ins)
    if op == "array.new_fixed":
        return [unpacked(f)] * y, [RefType(False, x)]
    if op == "array.new_data":
        _data(ctx, f, y, fidx, ins)
        return [_I32, _I32], [RefType(False, x)]
    if op == "array.new_elem":
        _elem(ctx, f, y, fidx, ins)
        return [_I32, _I32], [RefType(False, x)]
    if op == "array.init_data":
        _mutable(f, "array", fidx, ins)
        _data(ctx, f, y, fidx, ins)
        return [RefType(True, x), _I32, _I32, _I32], []
    if op == "array.init_elem":
        _mutable(f, "array", fidx, ins)
        _elem(ctx, f, y, fidx, ins)
        return [RefType(True, x), _I32, _I32, _I32], []
    if op == "array.copy":
        _mutable(f, "array", fidx, ins)
        src = _array(ctx, y, fidx, ins)
        if not _storage_matches(src, f, ctx):
            raise _fail("array types do not match", fidx, ins)
        return [RefType(True, x), _I32, RefType(True, y), _I32, _I32], []
    raise _fail("unknown instruction %s" % op, fidx, ins)


def _storage_matches(src: FieldType, dst: FieldType, ctx: "Context") -> bool:
    if src.storage in PACKED_TYPES or dst.storage in PACKED_TYPES:
        return src.storage == dst.storage
    return matches(src.storage, dst.storage, ctx.space)
