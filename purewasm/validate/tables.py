"""Per-opcode dispatch tables of the validator, derived once from ``opcodes.OPS``.

Every instruction whose stack effect is fixed and that needs no other check goes into
:data:`FIXED` (name -> ``(params, results)`` as lists, so that the function validator can
compare a slice of its operand stack with ``params`` in one operation). Every other
instruction gets a small integer kind in :data:`KIND` plus whatever it needs
pre-resolved (signature, natural alignment, lane count), so the inner loop of
``func.py`` never parses a name or looks at the opcode table again.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from .. import opcodes
from ..syntax import SHAPES

# Kinds of instructions typed by their own rules (spec 3.3, appendix "Validation Algorithm").
K_LOCAL_GET = 0
K_LOCAL_SET = 1
K_LOCAL_TEE = 2
K_END = 3
K_BLOCK = 4
K_LOOP = 5
K_IF = 6
K_ELSE = 7
K_BR = 8
K_BR_IF = 9
K_BR_TABLE = 10
K_RETURN = 11
K_CALL = 12
K_CALL_INDIRECT = 13
K_UNREACHABLE = 14
K_DROP = 15
K_SELECT = 16
K_SELECT_T = 17
K_GLOBAL_GET = 18
K_GLOBAL_SET = 19
K_MEMARG = 20          # loads and stores: (kind, params, results, natural_align)
K_MEMARG_LANE = 21     # v128.loadN_lane / storeN_lane: (..., natural_align, lanes)
K_LANE = 22            # extract_lane / replace_lane: (kind, params, results, lanes)
K_SHUFFLE = 23
K_MEM = 24             # memory.size/grow/fill: (kind, params, results)
K_MEMORY_COPY = 25
K_MEMORY_INIT = 26
K_DATA_DROP = 27
K_REF_NULL = 28
K_REF_IS_NULL = 29
K_REF_FUNC = 30
K_TABLE_GET = 31
K_TABLE_SET = 32
K_TABLE_SIZE = 33
K_TABLE_GROW = 34
K_TABLE_FILL = 35
K_TABLE_COPY = 36
K_TABLE_INIT = 37
K_ELEM_DROP = 38
K_RETURN_CALL = 39
K_RETURN_CALL_INDIRECT = 40
K_CALL_REF = 41
K_RETURN_CALL_REF = 42
K_REF_AS_NON_NULL = 43
K_BR_ON_NULL = 44
K_BR_ON_NON_NULL = 45
K_THROW = 46           # exception handling (Wasm 3.0)
K_THROW_REF = 47
K_TRY_TABLE = 48
K_GC = 49              # GC instructions: validate/gc.py

_BY_NAME = {
    "local.get": K_LOCAL_GET, "local.set": K_LOCAL_SET, "local.tee": K_LOCAL_TEE,
    "end": K_END, "block": K_BLOCK, "loop": K_LOOP, "if": K_IF, "else": K_ELSE,
    "br": K_BR, "br_if": K_BR_IF, "br_table": K_BR_TABLE, "return": K_RETURN,
    "call": K_CALL, "call_indirect": K_CALL_INDIRECT, "unreachable": K_UNREACHABLE,
    "drop": K_DROP, "select": K_SELECT, "select_t": K_SELECT_T,
    "global.get": K_GLOBAL_GET, "global.set": K_GLOBAL_SET,
    "memory.copy": K_MEMORY_COPY, "memory.init": K_MEMORY_INIT, "data.drop": K_DATA_DROP,
    "ref.null": K_REF_NULL, "ref.is_null": K_REF_IS_NULL, "ref.func": K_REF_FUNC,
    "table.get": K_TABLE_GET, "table.set": K_TABLE_SET, "table.size": K_TABLE_SIZE,
    "table.grow": K_TABLE_GROW, "table.fill": K_TABLE_FILL, "table.copy": K_TABLE_COPY,
    "table.init": K_TABLE_INIT, "elem.drop": K_ELEM_DROP,
    "return_call": K_RETURN_CALL, "return_call_indirect": K_RETURN_CALL_INDIRECT,
    "call_ref": K_CALL_REF, "return_call_ref": K_RETURN_CALL_REF,
    "ref.as_non_null": K_REF_AS_NON_NULL, "br_on_null": K_BR_ON_NULL,
    "br_on_non_null": K_BR_ON_NON_NULL,
    "throw": K_THROW, "throw_ref": K_THROW_REF, "try_table": K_TRY_TABLE,
    **{name: K_GC for name in opcodes.GC_NAMES},
}


FIXED: Dict[str, Tuple[List[str], List[str]]] = {}
KIND: Dict[str, tuple] = {}


def _build() -> None:
    for info in opcodes.OPS:
        name = info.name
        kind = _BY_NAME.get(name)
        if kind is not None:
            KIND[name] = (kind,)
            continue
        if info.sig is None:
            raise RuntimeError("validator has no rule for %s" % name)  # a bug: table grew
        params, results = list(info.sig[0]), list(info.sig[1])
        imm = info.imm
        if imm == opcodes.MEMARG:
            if info.natural_align is None:
                raise RuntimeError("%s lacks its natural alignment" % name)
            KIND[name] = (K_MEMARG, params, results, info.natural_align)
        elif imm == opcodes.MEMARG_LANE:
            if info.natural_align is None:
                raise RuntimeError("%s lacks its natural alignment" % name)
            # The lane count follows from the access width: 16 bytes / width (spec 3.3.7.6).
            KIND[name] = (K_MEMARG_LANE, params, results, info.natural_align,
                          16 >> info.natural_align)
        elif imm == opcodes.LANE:
            KIND[name] = (K_LANE, params, results, SHAPES[name.split(".", 1)[0]][1])
        elif imm == opcodes.SHUFFLE:
            KIND[name] = (K_SHUFFLE, params, results)
        elif imm == opcodes.MEM:
            KIND[name] = (K_MEM, params, results)
        else:
            # NONE and constant immediates: nothing to check but the stack effect.
            FIXED[name] = (params, results)


_build()
