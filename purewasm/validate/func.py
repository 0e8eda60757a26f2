"""Validation of one function body: the spec's appendix "Validation Algorithm".

The algorithm keeps an operand stack of value types and a control stack of frames
(spec appendix A.3 / "Algorithm" in the 2.0 document). ``None`` on the operand stack is
the algorithm's ``Unknown`` type, produced by popping past the frame height once the
frame has become unreachable (after ``unreachable``, ``br``, ``br_table``, ``return``):
the stack is then polymorphic.

The body is the flat instruction sequence of the binary format (see ``syntax``), so
nesting costs no Python recursion. The loop is kept tight for speed: per instruction a
dict lookup gives either a fixed stack effect (:data:`tables.FIXED`, checked by comparing
a slice of the operand stack with the parameter list) or a small integer kind; the
current frame's height and unreachable flag live in local variables.

A control frame is a list ``[kind, start_types, end_types, height, unreachable,
label_types]`` (label types: ``start_types`` for ``loop``, ``end_types`` otherwise, spec
3.3.8.2-3.3.8.4).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..errors import InvalidError
from ..syntax import EXNREF, FUNCREF, VALUE_TYPES, DefType, Func, FuncType, GlobalType, Instr
from ..syntax.types import BOT, RefType, as_reftype, defaultable
from .matching import TypeSpace, matches
from .tables import (
    FIXED, K_BLOCK, K_BR, K_BR_IF, K_BR_TABLE, K_CALL, K_CALL_INDIRECT, K_DATA_DROP,
    K_DROP, K_ELEM_DROP, K_ELSE, K_END, K_GLOBAL_GET, K_GLOBAL_SET, K_IF, K_LANE,
    K_LOCAL_GET, K_LOCAL_SET, K_LOCAL_TEE, K_LOOP, K_MEM, K_MEMARG, K_MEMARG_LANE,
    K_MEMORY_COPY, K_MEMORY_INIT, K_REF_FUNC, K_REF_IS_NULL, K_REF_NULL, K_RETURN,
    K_RETURN_CALL, K_RETURN_CALL_INDIRECT, K_SELECT, K_SELECT_T, K_SHUFFLE, K_TABLE_COPY,
    K_TABLE_FILL, K_TABLE_GET,
    K_TABLE_GROW, K_TABLE_INIT, K_TABLE_SET, K_TABLE_SIZE, K_THROW, K_THROW_REF,
    K_TRY_TABLE, K_UNREACHABLE, KIND,
    K_BR_ON_NON_NULL, K_BR_ON_NULL, K_CALL_REF, K_REF_AS_NON_NULL, K_RETURN_CALL_REF, K_GC,
)
from .gc import cast_top, gc_effect

Sig = Tuple[List[str], List[str]]

_I32 = ["i32"]
_NUM_VEC = frozenset(("i32", "i64", "f32", "f64", "v128"))
_I32X3 = ["i32", "i32", "i32"]
_EMPTY: List[str] = []
# Untyped select takes only numeric and vector operands (spec 3.3.4.2); None = Unknown.
_SELECT_OK = frozenset(("i32", "i64", "f32", "f64", "v128", None))
# The bottom reference type: what pop_ref gives on an unreachable stack.
_BOT_REF = RefType(False, BOT)
# What catch_ref / catch_all_ref push after the payload: a non-null exception reference
# (spec 3.0 valid/instructions.rst, try_table: (ref exn)).
_EXNREF = [RefType(False, "exn")]


class Context:
    """The parts of the spec's validation context C (3.1.1) a function body needs,
    pre-resolved into lists so the instruction loop only indexes."""

    def __init__(self, types: Sequence[DefType], func_types: Sequence[FuncType],
                 table_elems: Sequence[str], mem_addresses: Sequence[str],
                 globals_: Sequence[GlobalType], elem_types: Sequence[str], n_datas: int,
                 refs: Set[int], table_addresses: Optional[Sequence[str]] = None,
                 func_type_indices: Optional[Sequence[int]] = None,
                 space: Optional[TypeSpace] = None, type_check: Any = None,
                 tag_params: Optional[Sequence[Sequence[str]]] = None) -> None:
        # Each type's (params, results); None for struct and array types (GC).
        self.type_sigs: List[Optional[Sig]] = [
            (list(t.params), list(t.results)) if isinstance(t, FuncType) else None
            for t in types]
        self.types = types
        self.func_sigs: List[Sig] = [(list(t.params), list(t.results)) for t in func_types]
        self.table_elems = list(table_elems)
        # The address type ("i32", or "i64" for memory64 / table64) of each memory/table.
        self.mem_addresses = list(mem_addresses)
        self.table_addresses = (list(table_addresses) if table_addresses is not None
                                else ["i32"] * len(self.table_elems))
        self.n_mems = len(self.mem_addresses)
        self.global_types = [g.content for g in globals_]
        self.global_mut = [g.mutable for g in globals_]
        self.elem_types = list(elem_types)
        self.n_datas = n_datas
        self.refs = refs
        # Exception handling: each tag's payload types (its function type's params).
        self.tag_params: List[List[str]] = [list(p) for p in (tag_params or ())]
        # Block types resolved once per module: None | value type | type index (spec 3.2.9).
        self.block_sigs: Dict[object, Sig] = {None: (_EMPTY, _EMPTY)}
        # Each function's type index (ref.func's precise type, spec 3.0), the module's
        # types for subtyping, and the value type checker (module.py's _TypeCheck).
        self.func_type_indices = (list(func_type_indices) if func_type_indices is not None
                                  else None)
        self.space = space if space is not None else TypeSpace(list(types))
        self.type_check = type_check

    def check_type(self, t: str, fidx: int, ins: Optional[Instr]) -> None:
        """A value type in a function body: well-formed, type indices in range."""
        if t in _NUM_VEC:
            return
        if self.type_check is not None:
            try:
                self.type_check.check(t)
            except InvalidError as exc:
                raise InvalidError(exc.reason, fidx,
                                   ins.offset if ins is not None else None) from None
        elif t not in VALUE_TYPES:
            raise InvalidError("malformed value type %r" % (t,), fidx, None)

    def func_sig(self, ti: int, fidx: int, ins: Optional[Instr]) -> Sig:
        """The (params, results) of type ``ti``, which must be a function type."""
        offset = ins.offset if ins is not None else None
        if not 0 <= ti < len(self.type_sigs):
            raise InvalidError("unknown type %d" % ti, fidx, offset)
        sig = self.type_sigs[ti]
        if sig is None:
            raise InvalidError("type mismatch: type %d is not a function type" % ti,
                               fidx, offset)
        return sig

    def block_sig(self, bt: object, fidx: int, ins: Instr) -> Sig:
        """Resolve a block type to (params, results) (spec 3.2.9 "Block Types")."""
        if isinstance(bt, int) and not isinstance(bt, bool):
            sig = self.func_sig(bt, fidx, ins)
        elif isinstance(bt, str) and (bt in VALUE_TYPES or as_reftype(bt) is not None):
            self.check_type(bt, fidx, ins)
            sig = (_EMPTY, [bt])
        else:
            raise InvalidError("malformed block type %r" % (bt,), fidx, ins.offset)
        self.block_sigs[bt] = sig
        return sig


def _describe(t: Optional[str]) -> str:
    return "unknown" if t is None else t


def _mismatch(expect: Optional[str], actual: Optional[str], empty: bool,
              fidx: int, ins: Instr) -> InvalidError:
    if empty:
        msg = "type mismatch: %s expected %s but the stack is empty" % (
            ins.op, _describe(expect))
    else:
        msg = "type mismatch: %s expected %s but found %s" % (
            ins.op, _describe(expect), _describe(actual))
    return InvalidError(msg, fidx, ins.offset)


def _pop(ctx: "Context", vals: List[Optional[str]], height: int, unreach: bool,
         expect: Optional[str], fidx: int, ins: Instr) -> Optional[str]:
    """The appendix's pop_val(expect): None as ``expect`` accepts any type; the popped
    type must match ``expect`` (spec 3.0 subtyping, valid/matching.rst)."""
    if len(vals) == height:
        if unreach:
            return None
        raise _mismatch(expect, None, True, fidx, ins)
    actual = vals.pop()
    if (actual != expect and actual is not None and expect is not None
            and not matches(actual, expect, ctx.space)):
        raise _mismatch(expect, actual, False, fidx, ins)
    return actual


def _pop_vals(ctx: "Context", vals: List[Optional[str]], height: int, unreach: bool,
              types: Sequence[Optional[str]], fidx: int, ins: Instr) -> List[Optional[str]]:
    """The appendix's pop_vals: pops ``types`` (last first) and returns what was popped."""
    out: List[Optional[str]] = [None] * len(types)
    for j in range(len(types) - 1, -1, -1):
        out[j] = _pop(ctx, vals, height, unreach, types[j], fidx, ins)
    return out


def _pop_ref(ctx: "Context", vals: List[Optional[str]], height: int, unreach: bool,
             fidx: int, ins: Instr) -> RefType:
    """Pop a reference of any type (spec 3.0 appendix: pop_ref); from an unreachable
    stack, the bottom reference ``(ref bot)``."""
    t = _pop(ctx, vals, height, unreach, None, fidx, ins)
    if t is None:
        return _BOT_REF
    rt = as_reftype(t)
    if rt is None:
        raise InvalidError("type mismatch: %s expected a reference but found %s"
                           % (ins.op, t), fidx, ins.offset)
    return rt


def _unknown(what: str, index: object, fidx: int, ins: Instr) -> InvalidError:
    return InvalidError("unknown %s %s" % (what, index), fidx, ins.offset)


def _call_indirect_sig(ctx: Context, imm: Tuple[int, int], fidx: int, ins: Instr) -> Sig:
    """The signature of a call_indirect/return_call_indirect after checking its table."""
    ti, tab = imm
    if not 0 <= tab < len(ctx.table_elems):
        raise _unknown("table", tab, fidx, ins)
    sig = ctx.func_sig(ti, fidx, ins)
    if not matches(ctx.table_elems[tab], FUNCREF, ctx.space):
        raise InvalidError("type mismatch: %s needs a funcref table" % ins.op,
                           fidx, ins.offset)
    return sig


def _check_catches(ctx: Context, ctrls: List[list], catches: Sequence[tuple], fidx: int,
                   ins: Instr) -> None:
    """try_table's catch clauses (3.3.8.4): catch x l pushes the tag's params, catch_ref
    adds the exnref, catch_all pushes nothing, catch_all_ref the exnref alone."""
    for ckind, tag, label in catches:
        if ckind in ("catch", "catch_ref"):
            if not 0 <= tag < len(ctx.tag_params):
                raise _unknown("tag", tag, fidx, ins)
            pushed = list(ctx.tag_params[tag])
        else:
            pushed = []
        if ckind.endswith("_ref"):
            pushed = pushed + _EXNREF
        if not 0 <= label < len(ctrls):
            raise _unknown("label", label, fidx, ins)
        lab = ctrls[-1 - label][5]
        # What the handler pushes must match the label's types (subtyping: valid/matching).
        if len(lab) != len(pushed) or not all(
                matches(a, b, ctx.space) for a, b in zip(pushed, lab)):
            raise InvalidError("type mismatch: %s to a label of [%s] pushes [%s]"
                               % (ckind, " ".join(lab), " ".join(pushed)), fidx, ins.offset)


def _min_address(a: str, b: str) -> str:
    """The smaller of two address types (the length of a copy between an i32 and an i64
    memory or table is an i32, spec 3.3.7 memory.copy / 3.3.6 table.copy)."""
    return "i32" if "i32" in (a, b) else "i64"


def _address_first(params: List[str], address: str) -> List[str]:
    """A load/store's parameters with its address operand (the first) of ``address``."""
    return params if address == "i32" else [address] + params[1:]


_U32_LIMIT = 1 << 32


def validate_func(ctx: Context, fidx: int, func: Func) -> None:
    """Validate the body of ``func`` (function index ``fidx``) under ``ctx`` (spec 3.4.1)."""
    if not 0 <= func.type_index < len(ctx.type_sigs):
        raise InvalidError("unknown type %d" % func.type_index, fidx, func.offset)
    params, results = ctx.func_sig(func.type_index, fidx, None)
    locs: List[str] = list(params) + list(func.locals)
    nloc = len(locs)
    body = func.body
    # Non-defaultable locals (non-nullable references, spec 3.0 valid/instructions.rst
    # "Local Instructions") must be set before they are read; a local.set counts until
    # the end of the block it is in. ``uninit[i]``: local i is not set here; each
    # control frame lists (element 6) the locals it set, to unset them at its end.
    uninit: Optional[List[bool]] = None
    for t in func.locals:
        if t not in _NUM_VEC:
            ctx.check_type(t, fidx, None)
            if not defaultable(t):
                uninit = [False] * len(params) + [not defaultable(u) for u in func.locals]

    fixed_get = FIXED.get
    kind_get = KIND.get
    block_sigs = ctx.block_sigs
    func_sigs = ctx.func_sigs
    nfuncs = len(func_sigs)
    n_mems = ctx.n_mems
    mem_addresses = ctx.mem_addresses

    vals: List[Optional[str]] = []
    # The function's own frame: a block whose label and result are the function results.
    frame: list = [K_BLOCK, _EMPTY, results, 0, False, results, []]
    ctrls: List[list] = [frame]
    height = 0
    unreach = False
    done = -1

    for pos, ins in enumerate(body):
        op = ins.op
        sig = fixed_get(op)
        if sig is not None:
            p, r = sig
            if p:
                k = len(p)
                if vals[-k:] == p and len(vals) - k >= height:
                    del vals[-k:]
                else:
                    _pop_vals(ctx, vals, height, unreach, p, fidx, ins)
            if r:
                vals += r
            continue

        info = kind_get(op)
        if info is None:
            raise InvalidError("unknown instruction %s" % op, fidx, ins.offset)
        kind = info[0]
        imm = ins.imm

        # --- variables (3.3.5) ---
        if kind == K_LOCAL_GET:
            if not 0 <= imm < nloc:
                raise _unknown("local", imm, fidx, ins)
            if uninit is not None and uninit[imm]:
                raise InvalidError("uninitialized local %d" % imm, fidx, ins.offset)
            vals.append(locs[imm])
            continue
        if kind == K_LOCAL_SET or kind == K_LOCAL_TEE:
            if not 0 <= imm < nloc:
                raise _unknown("local", imm, fidx, ins)
            if uninit is not None and uninit[imm]:
                uninit[imm] = False
                frame[6].append(imm)
            t = locs[imm]
            if len(vals) > height and vals[-1] == t:
                if kind == K_LOCAL_SET:
                    vals.pop()
            else:
                _pop(ctx, vals, height, unreach, t, fidx, ins)
                if kind == K_LOCAL_TEE:
                    vals.append(t)
            continue

        # --- control (3.3.8) ---
        if kind == K_END or kind == K_ELSE:
            if kind == K_ELSE and frame[0] != K_IF:
                raise InvalidError("else without matching if", fidx, ins.offset)
            end = frame[2]
            if vals[height:] != end:
                _pop_vals(ctx, vals, height, unreach, end, fidx, ins)
                if len(vals) != height:
                    raise InvalidError("type mismatch: %d value(s) left on the stack at the "
                                       "end of a block" % (len(vals) - height),
                                       fidx, ins.offset)
            del vals[height:]
            if uninit is not None:
                for j in frame[6]:
                    uninit[j] = True
            if kind == K_ELSE:
                start = frame[1]
                frame = [K_ELSE, start, end, height, False, end, []]
                ctrls[-1] = frame
                unreach = False
                vals += start
                continue
            if frame[0] == K_IF and frame[1] != end:
                # An if without else has an implicit empty else branch, which must turn
                # the block's parameters into its results (3.3.8.5).
                raise InvalidError("type mismatch: an if without else must have the same "
                                   "parameter and result types", fidx, ins.offset)
            ctrls.pop()
            if not ctrls:
                done = pos
                break
            frame = ctrls[-1]
            height = frame[3]
            unreach = frame[4]
            vals += end
            continue
        if kind == K_TRY_TABLE:
            # A block whose catch clauses branch to labels of the enclosing context
            # (3.3.8.4): each label must take what its clause pushes.
            _check_catches(ctx, ctrls, imm[1], fidx, ins)
            kind = K_BLOCK
            imm = imm[0]
        if kind == K_BLOCK or kind == K_LOOP or kind == K_IF:
            bsig = block_sigs.get(imm)
            if bsig is None:
                bsig = ctx.block_sig(imm, fidx, ins)
            p, r = bsig
            if kind == K_IF:
                if len(vals) > height and vals[-1] == "i32":
                    vals.pop()
                else:
                    _pop(ctx, vals, height, unreach, "i32", fidx, ins)
            k = len(p)
            if k and not (vals[-k:] == p and len(vals) - k >= height):
                _pop_vals(ctx, vals, height, unreach, p, fidx, ins)
                vals += p
            height = len(vals) - k
            unreach = False
            frame = [kind, p, r, height, False, p if kind == K_LOOP else r, []]
            ctrls.append(frame)
            continue
        if kind == K_BR or kind == K_BR_IF:
            if not 0 <= imm < len(ctrls):
                raise _unknown("label", imm, fidx, ins)
            lab = ctrls[-1 - imm][5]
            if kind == K_BR_IF:
                if len(vals) > height and vals[-1] == "i32":
                    vals.pop()
                else:
                    _pop(ctx, vals, height, unreach, "i32", fidx, ins)
            k = len(lab)
            if k and not (vals[-k:] == lab and len(vals) - k >= height):
                _pop_vals(ctx, vals, height, unreach, lab, fidx, ins)
                if kind == K_BR_IF:
                    vals += lab
            if kind == K_BR:
                del vals[height:]
                frame[4] = unreach = True
            continue
        if kind == K_CALL:
            if not 0 <= imm < nfuncs:
                raise _unknown("function", imm, fidx, ins)
            p, r = func_sigs[imm]
        elif kind == K_GLOBAL_GET:
            if not 0 <= imm < len(ctx.global_types):
                raise _unknown("global", imm, fidx, ins)
            vals.append(ctx.global_types[imm])
            continue
        elif kind == K_GLOBAL_SET:
            if not 0 <= imm < len(ctx.global_types):
                raise _unknown("global", imm, fidx, ins)
            if not ctx.global_mut[imm]:
                raise InvalidError("global is immutable: global %d" % imm, fidx, ins.offset)
            _pop(ctx, vals, height, unreach, ctx.global_types[imm], fidx, ins)
            continue

        # --- memory (3.3.7) ---
        elif kind == K_MEMARG:
            align, offset, mem = imm
            if not 0 <= mem < n_mems:
                raise _unknown("memory", mem, fidx, ins)
            if align > info[3]:
                raise InvalidError("alignment must not be larger than natural",
                                   fidx, ins.offset)
            address = mem_addresses[mem]
            if address == "i32":
                if offset >= _U32_LIMIT:
                    raise InvalidError("offset out of range", fidx, ins.offset)
                p = info[1]
            else:
                p = _address_first(info[1], address)
            r = info[2]
        elif kind == K_DROP:
            if len(vals) > height:
                vals.pop()
            elif not unreach:
                raise _mismatch(None, None, True, fidx, ins)
            continue
        elif kind == K_SELECT:
            _pop(ctx, vals, height, unreach, "i32", fidx, ins)
            t1 = _pop(ctx, vals, height, unreach, None, fidx, ins)
            t2 = _pop(ctx, vals, height, unreach, None, fidx, ins)
            if t1 not in _SELECT_OK or t2 not in _SELECT_OK:
                raise InvalidError("type mismatch: select without a type needs numeric or "
                                   "vector operands", fidx, ins.offset)
            if t1 != t2 and t1 is not None and t2 is not None:
                raise _mismatch(t1, t2, False, fidx, ins)
            vals.append(t2 if t1 is None else t1)
            continue
        elif kind == K_SELECT_T:
            if len(imm) != 1:
                raise InvalidError("invalid result arity", fidx, ins.offset)
            t = imm[0]
            ctx.check_type(t, fidx, ins)
            p = [t, t, "i32"]
            r = [t]
        elif kind == K_BR_TABLE:
            labels, default = imm
            if len(vals) > height and vals[-1] == "i32":
                vals.pop()
            else:
                _pop(ctx, vals, height, unreach, "i32", fidx, ins)
            nctrl = len(ctrls)
            if not 0 <= default < nctrl:
                raise _unknown("label", default, fidx, ins)
            dlab = ctrls[-1 - default][5]
            arity = len(dlab)
            for lbl in labels:
                if not 0 <= lbl < nctrl:
                    raise _unknown("label", lbl, fidx, ins)
                lab = ctrls[-1 - lbl][5]
                if len(lab) != arity:
                    raise InvalidError("type mismatch: br_table targets have different "
                                       "arities", fidx, ins.offset)
                if arity and not (vals[-arity:] == lab and len(vals) - arity >= height):
                    # appendix: push_vals(pop_vals(label_types)) — Unknowns stay Unknown.
                    vals += _pop_vals(ctx, vals, height, unreach, lab, fidx, ins)
            if arity:
                _pop_vals(ctx, vals, height, unreach, dlab, fidx, ins)
            del vals[height:]
            frame[4] = unreach = True
            continue
        elif kind == K_RETURN:
            _pop_vals(ctx, vals, height, unreach, results, fidx, ins)
            del vals[height:]
            frame[4] = unreach = True
            continue
        elif kind == K_UNREACHABLE:
            del vals[height:]
            frame[4] = unreach = True
            continue
        elif kind == K_THROW or kind == K_THROW_REF:
            # Both end the path like br (stack-polymorphic after them).
            if kind == K_THROW:
                if not 0 <= imm < len(ctx.tag_params):
                    raise _unknown("tag", imm, fidx, ins)
                _pop_vals(ctx, vals, height, unreach, ctx.tag_params[imm], fidx, ins)
            else:
                _pop(ctx, vals, height, unreach, EXNREF, fidx, ins)
            del vals[height:]
            frame[4] = unreach = True
            continue
        elif kind == K_RETURN_CALL or kind == K_RETURN_CALL_INDIRECT:
            # Tail calls (spec 3.3.8): the callee's results must match the caller's; the
            # rest of the block is unreachable, as after return.
            if kind == K_RETURN_CALL:
                if not 0 <= imm < nfuncs:
                    raise _unknown("function", imm, fidx, ins)
                p, r = func_sigs[imm]
            else:
                p, r = _call_indirect_sig(ctx, imm, fidx, ins)
                _pop(ctx, vals, height, unreach, ctx.table_addresses[imm[1]], fidx, ins)
            if len(r) != len(results) or not all(
                    matches(a, b, ctx.space) for a, b in zip(r, results)):
                raise InvalidError("type mismatch: %s callee returns [%s], the function "
                                   "[%s]" % (op, " ".join(r), " ".join(results)),
                                   fidx, ins.offset)
            _pop_vals(ctx, vals, height, unreach, p, fidx, ins)
            del vals[height:]
            frame[4] = unreach = True
            continue
        elif kind == K_CALL_INDIRECT:
            p, r = _call_indirect_sig(ctx, imm, fidx, ins)
            _pop(ctx, vals, height, unreach, ctx.table_addresses[imm[1]], fidx, ins)

        # --- vector lanes (3.3.3, 3.3.7) ---
        elif kind == K_MEMARG_LANE:
            (align, offset, mem), lane = imm
            if not 0 <= mem < n_mems:
                raise _unknown("memory", mem, fidx, ins)
            if align > info[3]:
                raise InvalidError("alignment must not be larger than natural",
                                   fidx, ins.offset)
            if not 0 <= lane < info[4]:
                raise InvalidError("invalid lane index", fidx, ins.offset)
            if mem_addresses[mem] == "i32" and offset >= _U32_LIMIT:
                raise InvalidError("offset out of range", fidx, ins.offset)
            p = _address_first(info[1], mem_addresses[mem])
            r = info[2]
        elif kind == K_LANE:
            if not 0 <= imm < info[3]:
                raise InvalidError("invalid lane index", fidx, ins.offset)
            p = info[1]
            r = info[2]
        elif kind == K_SHUFFLE:
            for lane in imm:
                if not 0 <= lane < 32:
                    raise InvalidError("invalid lane index", fidx, ins.offset)
            p = info[1]
            r = info[2]

        # --- memory instructions with a memory index (3.3.7) ---
        elif kind == K_MEM:
            if not 0 <= imm < n_mems:
                raise _unknown("memory", imm, fidx, ins)
            address = mem_addresses[imm]
            p = info[1]
            r = info[2]
            if address != "i32":
                # memory.size/grow: sizes in pages are of the address type; memory.fill:
                # the destination and length (the value stays an i32).
                if op == "memory.fill":
                    p = [address, "i32", address]
                else:
                    p = [address] * len(p)
                    r = [address]
        elif kind == K_MEMORY_COPY:
            for mem in imm:
                if not 0 <= mem < n_mems:
                    raise _unknown("memory", mem, fidx, ins)
            dst_at = mem_addresses[imm[0]]
            src_at = mem_addresses[imm[1]]
            p = (_I32X3 if dst_at == src_at == "i32"
                 else [dst_at, src_at, _min_address(dst_at, src_at)])
            r = _EMPTY
        elif kind == K_MEMORY_INIT:
            data, mem = imm
            if not 0 <= mem < n_mems:
                raise _unknown("memory", mem, fidx, ins)
            if not 0 <= data < ctx.n_datas:
                raise _unknown("data segment", data, fidx, ins)
            p = [mem_addresses[mem], "i32", "i32"]
            r = _EMPTY
        elif kind == K_DATA_DROP:
            if not 0 <= imm < ctx.n_datas:
                raise _unknown("data segment", imm, fidx, ins)
            continue

        # --- references (3.3.2) ---
        elif kind == K_REF_NULL:
            ctx.check_type(imm, fidx, ins)
            vals.append(imm)
            continue
        elif kind == K_REF_IS_NULL:
            _pop_ref(ctx, vals, height, unreach, fidx, ins)
            vals.append("i32")
            continue
        elif kind == K_REF_FUNC:
            if not 0 <= imm < nfuncs:
                raise _unknown("function", imm, fidx, ins)
            if imm not in ctx.refs:
                # C.refs: functions referenced outside function bodies (3.4.10).
                raise InvalidError("undeclared function reference %d" % imm,
                                   fidx, ins.offset)
            # Typed precisely (spec 3.0): (ref $t) of the function's type.
            ftis = ctx.func_type_indices
            vals.append(RefType(False, ftis[imm]) if ftis is not None else FUNCREF)
            continue
        elif kind == K_REF_AS_NON_NULL:
            rt = _pop_ref(ctx, vals, height, unreach, fidx, ins)
            vals.append(RefType(False, rt.heap))
            continue
        elif kind == K_BR_ON_NULL or kind == K_BR_ON_NON_NULL:
            # br_on_null l: [t* (ref null ht)] -> [t* (ref ht)], label l: [t*];
            # br_on_non_null l: [t* (ref null ht)] -> [t*], label l: [t* (ref ht)]
            # (spec 3.0 valid/instructions.rst "Control Instructions").
            if not 0 <= imm < len(ctrls):
                raise _unknown("label", imm, fidx, ins)
            lab = ctrls[-1 - imm][5]
            rt = _pop_ref(ctx, vals, height, unreach, fidx, ins)
            if kind == K_BR_ON_NON_NULL:
                if not lab or not matches(RefType(False, rt.heap), lab[-1], ctx.space):
                    raise InvalidError("type mismatch: br_on_non_null needs a label whose "
                                       "last type a non-null %s matches" % rt,
                                       fidx, ins.offset)
                lab = lab[:-1]
            # pop_vals(label) then push_vals(label): the label's types, not the popped
            # ones (br_on_null.wast: subtypes do not survive the branch instruction).
            _pop_vals(ctx, vals, height, unreach, lab, fidx, ins)
            vals += lab
            if kind == K_BR_ON_NULL:
                vals.append(RefType(False, rt.heap))
            continue
        elif kind == K_CALL_REF or kind == K_RETURN_CALL_REF:
            # call_ref $t: [t1* (ref null $t)] -> [t2*] (spec 3.0).
            p, r = ctx.func_sig(imm, fidx, ins)
            _pop(ctx, vals, height, unreach, RefType(True, imm), fidx, ins)
            if kind == K_RETURN_CALL_REF:
                if len(r) != len(results) or not all(
                        matches(a, b, ctx.space) for a, b in zip(r, results)):
                    raise InvalidError("type mismatch: %s callee returns [%s], the "
                                       "function [%s]" % (op, " ".join(r), " ".join(results)),
                                       fidx, ins.offset)
                _pop_vals(ctx, vals, height, unreach, p, fidx, ins)
                del vals[height:]
                frame[4] = unreach = True
                continue

        # --- GC (spec 3.0): validate/gc.py, but for the rules that read the operand ---
        elif kind == K_GC:
            if op == "any.convert_extern" or op == "extern.convert_any":
                src, dst = ("extern", "any") if op[0] == "a" else ("any", "extern")
                rt = _pop_ref(ctx, vals, height, unreach, fidx, ins)
                if not matches(rt, RefType(True, src), ctx.space):
                    raise _mismatch(RefType(True, src), rt, False, fidx, ins)
                vals.append(RefType(rt.nullable, dst))
                continue
            if op == "br_on_cast" or op == "br_on_cast_fail":
                label, rt1, rt2 = imm
                if not 0 <= label < len(ctrls):
                    raise _unknown("label", label, fidx, ins)
                lab = ctrls[-1 - label][5]
                ctx.check_type(rt1, fidx, ins)
                cast_top(ctx, rt2, fidx, ins)
                if not matches(rt2, rt1, ctx.space):
                    raise InvalidError("type mismatch: %s to %s, not a subtype of %s"
                                       % (op, rt2, rt1), fidx, ins.offset)
                diff = RefType(rt1.nullable and not rt2.nullable, rt1.heap)
                taken, kept = (rt2, diff) if op == "br_on_cast" else (diff, rt2)
                if not lab or not matches(taken, lab[-1], ctx.space):
                    raise InvalidError("type mismatch: %s needs a label whose last type "
                                       "%s matches" % (op, taken), fidx, ins.offset)
                _pop(ctx, vals, height, unreach, rt1, fidx, ins)
                _pop_vals(ctx, vals, height, unreach, lab[:-1], fidx, ins)
                vals += lab[:-1]
                vals.append(kept)
                continue
            p, r = gc_effect(ctx, ins, fidx)

        # --- tables (3.3.6) ---
        elif kind == K_ELEM_DROP:
            if not 0 <= imm < len(ctx.elem_types):
                raise _unknown("elem segment", imm, fidx, ins)
            continue
        elif kind == K_TABLE_INIT:
            elem, tab = imm
            if not 0 <= tab < len(ctx.table_elems):
                raise _unknown("table", tab, fidx, ins)
            if not 0 <= elem < len(ctx.elem_types):
                raise _unknown("elem segment", elem, fidx, ins)
            if not matches(ctx.elem_types[elem], ctx.table_elems[tab], ctx.space):
                raise InvalidError("type mismatch: table.init of a %s segment into a %s "
                                   "table" % (ctx.elem_types[elem], ctx.table_elems[tab]),
                                   fidx, ins.offset)
            p = [ctx.table_addresses[tab], "i32", "i32"]
            r = _EMPTY
        elif kind == K_TABLE_COPY:
            dst, src = imm
            for tab in (dst, src):
                if not 0 <= tab < len(ctx.table_elems):
                    raise _unknown("table", tab, fidx, ins)
            if not matches(ctx.table_elems[src], ctx.table_elems[dst], ctx.space):
                raise InvalidError("type mismatch: table.copy between tables of %s and %s"
                                   % (ctx.table_elems[src], ctx.table_elems[dst]),
                                   fidx, ins.offset)
            dst_at = ctx.table_addresses[dst]
            src_at = ctx.table_addresses[src]
            p = [dst_at, src_at, _min_address(dst_at, src_at)]
            r = _EMPTY
        else:
            # table.get/set/size/grow/fill x
            if not 0 <= imm < len(ctx.table_elems):
                raise _unknown("table", imm, fidx, ins)
            t = ctx.table_elems[imm]
            at = ctx.table_addresses[imm]     # indices and sizes: i32, or i64 (table64)
            if kind == K_TABLE_GET:
                p, r = [at], [t]
            elif kind == K_TABLE_SET:
                p, r = [at, t], _EMPTY
            elif kind == K_TABLE_SIZE:
                p, r = _EMPTY, [at]
            elif kind == K_TABLE_GROW:
                p, r = [t, at], [at]
            elif kind == K_TABLE_FILL:
                p, r = [at, t, at], _EMPTY
            else:  # pragma: no cover - every kind is handled above
                raise InvalidError("unknown instruction %s" % op, fidx, ins.offset)

        # The stack effect (p -> r) of the instructions that fall through to here.
        if p:
            k = len(p)
            if vals[-k:] == p and len(vals) - k >= height:
                del vals[-k:]
            else:
                _pop_vals(ctx, vals, height, unreach, p, fidx, ins)
        if r:
            vals += r

    if done < 0:
        raise InvalidError("function body is not terminated by end", fidx, func.offset)
    if done != len(body) - 1:
        raise InvalidError("instructions after the end of the function body", fidx,
                           body[done + 1].offset)
