"""The printer: :class:`syntax.Module` -> text format (spec chapter 6).

The output uses no abbreviation that would change the module when parsed back: every
function and ``call_indirect`` names its type by index, segments spell out their mode,
table and offset, and float constants are written in exact hexadecimal (NaN payloads and
signed zeros included). So ``parse_module(print_module(m))`` equals ``m`` for any module
the parser produced. Names from ``Module.names`` become ``$identifiers`` where they are
valid identifiers (spec 6.3.5) and unique; references to functions and locals use them.
Custom sections have no text form in Wasm 2.0 and are not printed.
"""
from __future__ import annotations

import re
from typing import Dict, List, Sequence

from .. import opcodes
from ..binary.immediates import CODECS
from ..syntax import (
    ACTIVE, DECLARATIVE, ArrayType, DefType, FieldType, FuncType, GlobalType, Instr, Limits,
    Module, StructType,
)

_ID_RE = re.compile(r"[0-9a-zA-Z!#$%&'*+\-./:<=>?@\\^_`|~]+\Z")
_FLOAT = {"f32": (23, 8), "f64": (52, 11)}
# Instructions whose text name is not their name in the opcode table: the typed select
# is written "select (result t*)".
_TEXT_NAMES = {"select_t": "select"}


def _quote(data: bytes) -> str:
    out = ['"']
    for b in data:
        if 0x20 <= b < 0x7F and b not in (0x22, 0x5C):
            out.append(chr(b))
        else:
            out.append("\\%02x" % b)
    out.append('"')
    return "".join(out)


def _name_str(s: str) -> str:
    return _quote(s.encode("utf-8"))


def float_text(bits: int, t: str) -> str:
    """An exact text literal for the f32/f64 bit pattern ``bits``."""
    mbits, ebits = _FLOAT[t]
    width = mbits + ebits + 1
    sign = "-" if bits >> (width - 1) & 1 else ""
    exp = (bits >> mbits) & ((1 << ebits) - 1)
    mant = bits & ((1 << mbits) - 1)
    if exp == (1 << ebits) - 1:
        if mant == 0:
            return sign + "inf"
        return "%snan:0x%x" % (sign, mant)
    if exp == 0 and mant == 0:
        return sign + "0x0p+0"
    bias = (1 << (ebits - 1)) - 1
    # Shift the fraction to a whole number of hex digits.
    pad = (4 - mbits % 4) % 4
    digits = (mbits + pad) // 4
    frac = "%0*x" % (digits, mant << pad)
    if exp == 0:
        return "%s0x0.%sp%+d" % (sign, frac, 1 - bias)
    return "%s0x1.%sp%+d" % (sign, frac, exp - bias)


def _fieldtype(f: FieldType) -> str:
    return "(mut %s)" % f.storage if f.mutable else f.storage


def _typedef(n: int, t: DefType) -> str:
    """``(type (;n;) subtype)`` (spec 3.0 6.4.9)."""
    if isinstance(t, StructType):
        comp = "(struct%s)" % "".join(" (field %s)" % _fieldtype(f) for f in t.fields)
    elif isinstance(t, ArrayType):
        comp = "(array %s)" % _fieldtype(t.element)
    else:
        comp = "(func%s%s)" % (_params(t.params), _results(t.results))
    if not t.final or t.supers:
        comp = "(sub%s%s %s)" % (" final" if t.final else "",
                                 "".join(" %d" % x for x in t.supers), comp)
    return "(type (;%d;) %s)" % (n, comp)


class _Printer:
    def __init__(self, module: Module) -> None:
        self.m = module
        self.func_ids: Dict[int, str] = self._ids(module.names.funcs)
        # The names of the locals of the function being printed.
        self.local_ids: Dict[int, str] = {}

    @staticmethod
    def _ids(names: Dict[int, str]) -> Dict[int, str]:
        out: Dict[int, str] = {}
        seen = set()
        for idx in sorted(names):
            n = names[idx]
            if _ID_RE.match(n) and n not in seen:
                seen.add(n)
                out[idx] = "$" + n
        return out

    def func_ref(self, idx: int) -> str:
        return self.func_ids.get(idx, str(idx))

    def local_ref(self, idx: int) -> str:
        return self.local_ids.get(idx, str(idx))

    def float_text(self, bits: int, kind: str) -> str:
        return float_text(bits, kind)

    def instr(self, ins: Instr, local_ids: Dict[int, str]) -> str:
        """One instruction: its name and its immediates, as their codec writes them
        (binary/immediates.py)."""
        op = ins.op
        info = opcodes.BY_NAME[op]
        self.local_ids = local_ids
        return _TEXT_NAMES.get(op, op) + CODECS[info.imm].text(ins.imm, info, self)

    def instrs(self, body: List[Instr], out: List[str], depth: int,
               local_ids: Dict[int, str]) -> None:
        for ins in body:
            op = ins.op
            info = opcodes.BY_NAME.get(op)
            closes = info is not None and (info.closes_block or info.is_else)
            if closes:
                depth -= 1
            out.append("  " * depth + (op if closes else self.instr(ins, local_ids)))
            if info is not None and (info.opens_block or info.is_else):
                depth += 1

    def expr(self, e: List[Instr]) -> str:
        body = e[:-1] if e and e[-1].op == "end" else e
        return " ".join(self.instr(i, {}) for i in body)

    @staticmethod
    def limits(lim: Limits, address: str = "i32") -> str:
        """Limits, after the address type when it is i64 (memory64 / table64)."""
        text = "%d" % lim.min if lim.max is None else "%d %d" % (lim.min, lim.max)
        return "i64 " + text if address == "i64" else text

    def print(self) -> str:
        m = self.m
        out: List[str] = []
        head = "(module"
        if m.names.module and _ID_RE.match(m.names.module):
            head += " $" + m.names.module
        out.append(head)
        n = 0
        while n < len(m.types):
            size = max(1, min(m.types[n].rec[1], len(m.types) - n))
            if size == 1 and m.types[n].rec[1] == 1:
                out.append("  " + _typedef(n, m.types[n]))
            else:
                out.append("  (rec")
                out.extend("    " + _typedef(n + k, m.types[n + k]) for k in range(size))
                out[-1] += ")"
            n += size
        nfunc = 0
        for imp in m.imports:
            where = "%s %s" % (_name_str(imp.module), _name_str(imp.name))
            if imp.kind == "func":
                fid = self.func_ids.get(nfunc)
                nfunc += 1
                desc = "(func%s (;%d;) (type %d))" % (" " + fid if fid else "", nfunc - 1,
                                                      imp.type_index)
            elif imp.kind == "table":
                tt = imp.table_type
                desc = "(table %s %s)" % (self.limits(tt.limits, tt.address), tt.element)
            elif imp.kind == "memory":
                mt = imp.memory_type
                desc = "(memory %s)" % self.limits(mt.limits, mt.address)
            elif imp.kind == "tag":
                desc = "(tag (type %d))" % imp.tag_type.type_index
            else:
                desc = "(global %s)" % _globaltype(imp.global_type)
            out.append("  (import %s %s)" % (where, desc))
        for n, f in enumerate(m.funcs):
            idx = nfunc + n
            fid = self.func_ids.get(idx)
            local_ids = self._ids(m.names.locals.get(idx, {}))
            ft = m.types[f.type_index] if f.type_index < len(m.types) else None
            if not isinstance(ft, FuncType):
                ft = None
            nparams = len(ft.params) if ft is not None else 0
            line = "  (func%s (;%d;) (type %d)" % (" " + fid if fid else "", idx, f.type_index)
            if ft is not None:
                # Params are restated (they must match the type) only to carry their ids.
                for p, ptype in enumerate(ft.params):
                    line += " (param%s %s)" % (" " + local_ids[p] if p in local_ids else "",
                                               ptype)
                line += _results(ft.results)
            for n2, ltype in enumerate(f.locals):
                lid = local_ids.get(nparams + n2)
                line += " (local%s %s)" % (" " + lid if lid else "", ltype)
            out.append(line)
            body: List[str] = []
            self.instrs(f.body[:-1] if f.body and f.body[-1].op == "end" else f.body,
                        body, 2, local_ids)
            out.extend(body)
            out.append("  )")
        for i, tt in enumerate(m.tables):
            init = m.table_inits.get(i)
            out.append("  (table %s %s%s)" % (self.limits(tt.limits, tt.address), tt.element,
                                             "" if init is None else " " + self.expr(init)))
        for mem in m.mems:
            out.append("  (memory %s)" % self.limits(mem.limits, mem.address))
        for tag in m.tags:
            out.append("  (tag (type %d))" % tag.type_index)
        for g in m.globals:
            out.append("  (global %s %s)" % (_globaltype(g.type), self.expr(g.init)))
        for e in m.exports:
            ref = self.func_ref(e.index) if e.kind == "func" else str(e.index)
            out.append("  (export %s (%s %s))" % (_name_str(e.name), e.kind, ref))
        if m.start is not None:
            out.append("  (start %s)" % self.func_ref(m.start))
        for el in m.elems:
            line = "  (elem"
            if el.mode == ACTIVE:
                line += " (table %d) (offset %s)" % (el.table, self.expr(el.offset or []))
            elif el.mode == DECLARATIVE:
                line += " declare"
            line += " " + el.type
            for item in el.init:
                line += " (item %s)" % self.expr(item)
            out.append(line + ")")
        for d in m.datas:
            line = "  (data"
            if d.mode == ACTIVE:
                line += " (memory %d) (offset %s)" % (d.memory, self.expr(d.offset or []))
            out.append(line + " " + _quote(d.init) + ")")
        out.append(")")
        return "\n".join(out) + "\n"


def _params(ts: Sequence[str]) -> str:
    return " (param %s)" % " ".join(ts) if ts else ""


def _results(ts: Sequence[str]) -> str:
    return " (result %s)" % " ".join(ts) if ts else ""


def _globaltype(gt: GlobalType) -> str:
    return "(mut %s)" % gt.content if gt.mutable else gt.content


def print_module(module: Module) -> str:
    """Write ``module`` in the text format (see the module docstring)."""
    return _Printer(module).print()
