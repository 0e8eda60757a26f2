"""Handlers of the control instructions and calls. Structured control is the lowering's
business (control.py: ``t.lowering``); calls are emitted here."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from purewasm.syntax import FuncType, Instr

from . import names
from .entries import CPYTHON_SHAPES
from .registry import handles, register

if TYPE_CHECKING:
    from .translate import Translator


# Structured control belongs to the lowering (control.Lowering): each instruction calls
# its method of the same name.
def _lowered(method: str) -> Callable[[Translator, Instr], None]:
    def handler(t: Translator, ins: Instr) -> None:
        getattr(t.lowering, method)(ins)
    handler.__name__ = method
    return handler


for _op, _method in (("block", "block"), ("loop", "loop"), ("if", "if_"), ("else", "else_"),
                     ("end", "end"), ("br", "br"), ("br_if", "br_if"),
                     ("br_table", "br_table"), ("try_table", "try_table")):
    register(_op, _lowered(_method))


@handles("return")
def return_(t: Translator, ins: Instr) -> None:
    t.lowering.do_return()
    t.live = False


@handles("unreachable")
def unreachable(t: Translator, ins: Instr) -> None:
    t.emit("raise Trap(TC_UNREACHABLE)")
    t.live = False


@handles("nop")
def nop(t: Translator, ins: Instr) -> None:
    pass


def call_with(t: Translator, callee: str, ftype: FuncType) -> None:
    """A call of ``callee`` (a name or slot) of type ``ftype`` with the top values."""
    n = len(ftype.params)
    t.shallow(n)
    args = t.popn(n)
    # A callee may change globals: pending reads of mutable globals go first.
    t.protect(names.ANY_GLOBAL)
    argstr = ", ".join(t.cx(a) for a in args)
    call = "%s(%s)" % (callee, argstr)
    nres = len(ftype.results)
    if nres == 0:
        t.emit(call)
    elif nres == 1:
        t.effect(call, ftype.results[0])
    else:
        h = len(t.stack)
        slots = []
        for i in range(nres):
            t.protect("s%d" % (h + i))
            slots.append("s%d" % (h + i))
        t.emit("%s = %s" % (", ".join(slots), call))
        t.result_slots(h, ftype.results)


@handles("call")
def call(t: Translator, ins: Instr) -> None:
    call_with(t, names.FUNC % ins.imm, t.func_types[ins.imm])


def indirect_target(t: Translator, ins: Instr) -> str:
    """The slot holding the callee of call_indirect/return_call_indirect ``ins``, looked
    up (it may trap) after the arguments (pure) are fixed; the arguments stay below."""
    typeidx, tableidx = ins.imm
    c = t.pop()
    t.protect(names.ANY_GLOBAL)
    table, tid = names.TABLE % tableidx, names.TYPE_ID % typeidx
    if not CPYTHON_SHAPES:
        # PyPy's JIT inlines the helper's checks; a dict look-up it could not fold.
        t.effect("CALL_TARGET(%s, %s, %s)" % (table, t.cx(c), tid), "funcref")
        return t.pop().e
    # The table's cache for this type first (a callee checked before), the full check
    # otherwise (which fills the cache): the index is read twice, so it must be a name
    # or a literal.
    if not (c.atom and c.canon) or c.isbool:
        t.effect(t.cx(c), c.t)
        c = t.pop()
    cache = names.CALL_CACHE % (tableidx, typeidx)
    t.effect("(%s.get(%s) or CALL_TARGET(%s, %s, %s, %s))" % (cache, c.e, table, c.e, tid,
                                                               cache), "funcref")
    return t.pop().e


@handles("call_indirect")
def call_indirect(t: Translator, ins: Instr) -> None:
    call_with(t, indirect_target(t, ins), t.module.types[ins.imm[0]])


def tail_call_with(t: Translator, callee: str, ftype: FuncType) -> None:
    """A tail call: the function returns the call to make, which its entry point makes
    after this frame is gone (support.tail_entry)."""
    n = len(ftype.params)
    t.shallow(n)
    args = t.popn(n)
    t.emit("return TAIL_CALL(%s, (%s))" % (callee, "".join(t.cx(a) + ", " for a in args)))
    t.tail_calls = True
    t.live = False


@handles("return_call")
def return_call(t: Translator, ins: Instr) -> None:
    tail_call_with(t, names.FUNC % ins.imm, t.func_types[ins.imm])


@handles("return_call_indirect")
def return_call_indirect(t: Translator, ins: Instr) -> None:
    tail_call_with(t, indirect_target(t, ins), t.module.types[ins.imm[0]])


# --- Typed function references (Wasm 3.0) ---------------------------------------------------

def ref_target(t: Translator) -> str:
    """The slot holding the callee of call_ref/return_call_ref: the reference on top is
    looked up (a null one traps) after the arguments below it are fixed."""
    c = t.pop()
    t.protect(names.ANY_GLOBAL)
    t.effect("CALL_REF_TARGET(%s)" % t.cx(c), "funcref")
    return t.pop().e


@handles("call_ref")
def call_ref(t: Translator, ins: Instr) -> None:
    call_with(t, ref_target(t), t.module.types[ins.imm])


@handles("return_call_ref")
def return_call_ref(t: Translator, ins: Instr) -> None:
    tail_call_with(t, ref_target(t), t.module.types[ins.imm])


@handles("ref.as_non_null")
def ref_as_non_null(t: Translator, ins: Instr) -> None:
    c = t.lowering.pop_stable()
    t.emit("if %s is None: raise Trap(TC_NULL_REFERENCE)" % c.e)
    t.push(c)


register("br_on_null", _lowered("br_on_null"))
register("br_on_non_null", _lowered("br_on_non_null"))
# --- Exception handling (Wasm 3.0): try_table is the lowering's (control.py) ---

@handles("throw")
def throw(t: Translator, ins: Instr) -> None:
    """A new exception of tag ``ins.imm`` with the top values as payload (raw, canonical)."""
    n = len(t.tag_types[ins.imm])
    t.shallow(n)
    args = t.popn(n)
    t.emit("raise WEXC(%s, (%s))" % (names.TAG % ins.imm,
                                     "".join(t.cx(a) + ", " for a in args)))
    t.live = False


@handles("throw_ref")
def throw_ref(t: Translator, ins: Instr) -> None:
    """Rethrow the exnref on top (a null one traps: support.throw_ref)."""
    c = t.pop()
    t.emit("raise THROW_REF(%s)" % t.cx(c))
    t.live = False
