"""Handlers of the memory and table instructions: scalar loads and stores (from the
tables below), memory.size/grow, bulk memory, data.drop, the table instructions and
elem.drop. Loads are effects (they may trap), emitted in order; addresses are canonical
before they index the bytearray (a negative index would wrap silently)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from purewasm.syntax import Instr

from . import names
from .entries import CPYTHON_SHAPES, Handler
from .registry import handles, register
from .stack import V, _p
from .views import marked

if TYPE_CHECKING:
    from .translate import Translator


# A 64-bit memory's effective address (base + offset < 2^65) is clamped to this bound,
# past the end of any memory (the store caps one far lower), so that indexing raises
# IndexError / struct.error as for a 32-bit memory (a Python int beyond a C ssize_t would
# raise OverflowError instead). See docs/DECISIONS.md, "64-bit addresses".
ADDRESS_CLAMP = 1 << 62


def address(t: Translator, base: V, offset: int, memidx: int = 0) -> str:
    """The effective address ``base + offset`` as an expression (exact: never wrapped)."""
    if base.atom and base.e.isdigit():
        # A constant base: the effective address is a constant.
        addr = int(base.e) + offset
        return str(min(addr, ADDRESS_CLAMP))
    if t.memory_addresses[memidx] == "i64":
        # Only a 64-bit memory pays for the clamp: a 32-bit address + offset < 2^33.
        if offset:
            return "min(%s + %d, %d)" % (t.pcx(base), offset, ADDRESS_CLAMP)
        return "min(%s, %d)" % (t.cx(base), ADDRESS_CLAMP)
    # An address is most likely in range as computed (near: reduced with %).
    if offset:
        return "%s + %d" % (t.pcx(base, near=True), offset)
    return t.cx(base, near=True)


def load(t: Translator, ins: Instr, vt: str, tmpl: str, canon: bool = True,
         bits: int = 0) -> None:
    """A load of type ``vt``: ``tmpl`` with ``{m}`` the memory and ``{a}`` the address."""
    _, offset, memidx = ins.imm
    t.shallow(1)
    base = t.pop()
    addr = address(t, base, offset, memidx)
    expr = tmpl.format(m=names.MEMORY % memidx, a=addr)
    vl = t.view_loop
    if vl is not None:
        element = vl.access(ins.op, memidx, base, offset, addr)
        if element is not None:
            expr = marked(expr, element)
    t.effect(expr, vt, canon, bits)
    _accessed(t, base, offset, memidx, ins.op)


def store(t: Translator, ins: Instr, tmpl: str, mask: Optional[str] = None) -> None:
    """A store: ``tmpl`` with ``{m}``, ``{a}`` and ``{v}`` the value (masked by ``mask``
    for a narrow store, else canonical)."""
    _, offset, memidx = ins.imm
    t.shallow(2)
    v = t.pop()
    base = t.pop()
    addr = address(t, base, offset, memidx)
    if mask is not None and v.atom and v.e.isdigit():
        val = str(int(v.e) & int(mask, 16))
    elif mask is not None and v.canon and not v.isbool and v.bits <= len(mask[2:]) * 4:
        # Known to fit (a narrow load, an and with a small constant): no mask.
        val = v.e
    elif mask is not None:
        val = "%s & %s" % (_p(v), mask)
    else:
        val = t.cx(v)
    stmt = tmpl.format(m=names.MEMORY % memidx, a=addr, v=val)
    vl = t.view_loop
    if vl is not None:
        viewed = vl.access(ins.op, memidx, base, offset, addr, val)
        if viewed is not None:
            stmt = marked(stmt, viewed)
    t.emit(stmt)
    _accessed(t, base, offset, memidx, ins.op)


def _access_size(op: str) -> int:
    """Bytes accessed by the scalar load or store ``op`` (``i64.load16_s``: 2)."""
    name = op[4:]
    for digits in ("32", "16", "8"):
        if name.endswith(digits) or name.endswith(digits + "_s") or name.endswith(digits + "_u"):
            return int(digits) // 8
    return 8 if op[1:3] == "64" else 4


def _accessed(t: Translator, base: V, offset: int, memidx: int, op: str) -> None:
    """After an access that did not trap: what it proves of a local address
    (ranges.LocalBits.accessed)."""
    e = base.e
    if (CPYTHON_SHAPES and base.atom and e[:1] == "l" and e[1:].isdigit()
            and t.memory_addresses[memidx] == "i32"):
        t.local_bits.accessed(int(e[1:]), offset, _access_size(op))


_LOADS = {
    # name: (type, template, canonical, bits)
    "i32.load": ("i32", "LD_U32({m}, {a})[0]", True, 32),
    "i64.load": ("i64", "LD_U64({m}, {a})[0]", True, 64),
    "f32.load": ("f32", "load_f32({m}, {a})", True, 0),
    "f64.load": ("f64", "LD_F64({m}, {a})[0]", True, 0),
    "i32.load8_s": ("i32", "({m}[{a}] ^ 128) - 128", False, 8),
    "i32.load8_u": ("i32", "{m}[{a}]", True, 8),
    "i32.load16_s": ("i32", "LD_I16({m}, {a})[0]", False, 16),
    "i32.load16_u": ("i32", "LD_U16({m}, {a})[0]", True, 16),
    "i64.load8_s": ("i64", "({m}[{a}] ^ 128) - 128", False, 8),
    "i64.load8_u": ("i64", "{m}[{a}]", True, 8),
    "i64.load16_s": ("i64", "LD_I16({m}, {a})[0]", False, 16),
    "i64.load16_u": ("i64", "LD_U16({m}, {a})[0]", True, 16),
    "i64.load32_s": ("i64", "LD_I32({m}, {a})[0]", False, 32),
    "i64.load32_u": ("i64", "LD_U32({m}, {a})[0]", True, 32),
}

_STORES = {
    # name: (template, mask or None for a canonical value)
    "i32.store": ("ST_U32({m}, {a}, {v})", None),
    "i64.store": ("ST_U64({m}, {a}, {v})", None),
    "f32.store": ("store_f32({m}, {a}, {v})", None),
    "f64.store": ("ST_F64({m}, {a}, {v})", None),
    "i32.store8": ("{m}[{a}] = {v}", "0xFF"),
    "i32.store16": ("ST_U16({m}, {a}, {v})", "0xFFFF"),
    "i64.store8": ("{m}[{a}] = {v}", "0xFF"),
    "i64.store16": ("ST_U16({m}, {a}, {v})", "0xFFFF"),
    "i64.store32": ("ST_U32({m}, {a}, {v})", "0xFFFFFFFF"),
}


def _load(name: str) -> Handler:
    vt, tmpl, canon, bits = _LOADS[name]

    def op(t: Translator, ins: Instr) -> None:
        load(t, ins, vt, tmpl, canon, bits)
    return op


def _store(name: str) -> Handler:
    tmpl, mask = _STORES[name]

    def op(t: Translator, ins: Instr) -> None:
        store(t, ins, tmpl, mask)
    return op


for _name in _LOADS:
    register(_name, _load(_name))
for _name in _STORES:
    register(_name, _store(_name))


_ADDRESS_MASK = {"i32": "0xFFFFFFFF", "i64": "0xFFFFFFFFFFFFFFFF"}


@handles("memory.size")
def memory_size(t: Translator, ins: Instr) -> None:
    t.effect("len(%s) >> 16" % (names.MEMORY % ins.imm), t.memory_addresses[ins.imm])


@handles("memory.grow")
def memory_grow(t: Translator, ins: Instr) -> None:
    v = t.pop()
    t.protect(names.ANY_GLOBAL)
    at = t.memory_addresses[ins.imm]
    # grow returns -1 on failure: masked to the address type's all-ones.
    t.effect("%s(%s) & %s" % (names.MEMORY_GROW % ins.imm, t.cx(v), _ADDRESS_MASK[at]), at)


def _bulk(helper: str, store: str, segments: str, kind: str) -> Handler:
    """A bulk memory or table instruction: the call of ``helper`` on the memory/table
    (``store``: a names pattern), then the three canonical operands (destination,
    source or value, length). ``kind``: "fill", "copy" (two indexes: destination,
    source) or "init" (segment, memory/table; ``segments`` names the segment list)."""
    def op(t: Translator, ins: Instr) -> None:
        if kind == "fill":
            head = store % ins.imm
        elif kind == "copy":
            head = "%s, %s" % (store % ins.imm[0], store % ins.imm[1])
        else:
            head = "%s, %s, %d" % (store % ins.imm[1], segments, ins.imm[0])
        n, v, d = t.pop(), t.pop(), t.pop()
        t.emit("%s(%s, %s, %s, %s)" % (helper, head, t.cx(d), t.cx(v), t.cx(n)))
    return op


for _kind in ("fill", "copy", "init"):
    register("memory." + _kind, _bulk("MEMORY_" + _kind.upper(), names.MEMORY, names.DATAS,
                                      _kind))
    register("table." + _kind, _bulk("TABLE_" + _kind.upper(), names.TABLE, names.ELEMS,
                                     _kind))


@handles("data.drop")
def data_drop(t: Translator, ins: Instr) -> None:
    t.emit("%s[%d] = b''" % (names.DATAS, ins.imm))


def table_type(t: Translator, idx: int) -> str:
    return t.table_types[idx].element


@handles("table.get")
def table_get(t: Translator, ins: Instr) -> None:
    i = t.pop()
    t.effect("TABLE_GET(%s, %s)" % (names.TABLE % ins.imm, t.cx(i)), table_type(t, ins.imm))


@handles("table.set")
def table_set(t: Translator, ins: Instr) -> None:
    v, i = t.pop(), t.pop()
    t.emit("TABLE_SET(%s, %s, %s)" % (names.TABLE % ins.imm, t.cx(i), v.e))


@handles("table.size")
def table_size(t: Translator, ins: Instr) -> None:
    t.effect("len(%s)" % (names.TABLE % ins.imm), t.table_types[ins.imm].address)


@handles("table.grow")
def table_grow(t: Translator, ins: Instr) -> None:
    n, v = t.pop(), t.pop()
    at = t.table_types[ins.imm].address
    t.effect("%s(%s, %s) & %s" % (names.TABLE_GROW % ins.imm, t.cx(n), v.e,
                                  _ADDRESS_MASK[at]), at)


@handles("elem.drop")
def elem_drop(t: Translator, ins: Instr) -> None:
    t.emit("%s[%d] = []" % (names.ELEMS, ins.imm))
