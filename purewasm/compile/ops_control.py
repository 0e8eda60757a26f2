"""Handlers of the control instructions and calls. Structured control is the lowering's
business (control.py: ``t.lowering``); calls are emitted here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from purewasm.syntax import FuncType, Instr

from . import names
from .registry import handles

if TYPE_CHECKING:
    from .translate import Translator


@handles("block")
def block(t: Translator, ins: Instr) -> None:
    t.lowering.block(ins)


@handles("loop")
def loop(t: Translator, ins: Instr) -> None:
    t.lowering.loop(ins)


@handles("if")
def if_(t: Translator, ins: Instr) -> None:
    t.lowering.if_(ins)


@handles("else")
def else_(t: Translator, ins: Instr) -> None:
    t.lowering.else_(ins)


@handles("end")
def end(t: Translator, ins: Instr) -> None:
    t.lowering.end(ins)


@handles("br")
def br(t: Translator, ins: Instr) -> None:
    t.lowering.br(ins)


@handles("br_if")
def br_if(t: Translator, ins: Instr) -> None:
    t.lowering.br_if(ins)


@handles("br_table")
def br_table(t: Translator, ins: Instr) -> None:
    t.lowering.br_table(ins)


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


@handles("call_indirect")
def call_indirect(t: Translator, ins: Instr) -> None:
    typeidx, tableidx = ins.imm
    c = t.pop()
    ftype = t.module.types[typeidx]
    # Evaluate the target first (it may trap), after the arguments (pure) are fixed.
    t.protect(names.ANY_GLOBAL)
    t.effect("CALL_TARGET(%s, %s, %s)" % (names.TABLE % tableidx, t.cx(c),
                                          names.TYPE_ID % typeidx), "funcref")
    target = t.pop()
    # The arguments sit below the target's slot: call through the slot.
    call_with(t, target.e, ftype)


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
    typeidx, tableidx = ins.imm
    c = t.pop()
    # The target is looked up (and may trap) before the call, after the arguments.
    t.effect("CALL_TARGET(%s, %s, %s)" % (names.TABLE % tableidx, t.cx(c),
                                          names.TYPE_ID % typeidx), "funcref")
    target = t.pop()
    tail_call_with(t, target.e, t.module.types[typeidx])
