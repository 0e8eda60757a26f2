"""A small stand-in for the runtime, used by the compile tests (no tests here).

It builds an instance with exactly the attributes docs/INTERNALS.md lists, so the
translator is tested on its own, whatever state the runtime is in.
"""
from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from typing import Any, Callable, Dict, List, Optional

from purewasm.binary import decode_module
from purewasm.compile import CompiledModule
from purewasm.runtime import trap_from_exception
from purewasm.errors import Trap
from purewasm.numeric import f32_from_bits
from purewasm.runtime.values import type_id
from purewasm.syntax import FUNC, GLOBAL, MEMORY, TABLE, Module


class FakeFunc:
    def __init__(self, ftype: Any, fn: Optional[Callable[..., Any]] = None) -> None:
        self.type = ftype
        self.type_id = type_id(ftype)
        self.fn = fn
        self.name = ""


class FakeMemory:
    def __init__(self, pages: int, maximum: Optional[int] = None) -> None:
        self.data = bytearray(pages * 65536)
        self.max = maximum

    @property
    def pages(self) -> int:
        return len(self.data) // 65536

    def grow(self, delta: int) -> int:
        old = self.pages
        limit = 65536 if self.max is None else self.max
        if old + delta > limit:
            return -1
        self.data.extend(bytes(delta * 65536))
        return old


class FakeTable:
    def __init__(self, size: int, maximum: Optional[int] = None) -> None:
        self.elements: List[Any] = [None] * size
        self.max = maximum

    def grow(self, delta: int, init: Any = None) -> int:
        old = len(self.elements)
        limit = 0xFFFFFFFF if self.max is None else self.max
        if old + delta > limit:
            return -1
        self.elements.extend([init] * delta)
        return old


class FakeGlobal:
    def __init__(self, gtype: Any, value: Any) -> None:
        self.type = gtype
        self.value = value


class FakeInstance:
    def __init__(self, module: Module, imports: Optional[Dict[str, Any]] = None,
                 mode: Optional[str] = None) -> None:
        imports = imports or {}
        self.module = module
        self.funcs: List[Any] = []
        self.memories: List[Any] = []
        self.tables: List[Any] = []
        self.globals: List[Any] = []
        self.import_calls: Dict[int, Any] = {}
        for imp in module.imports:
            ext = imports["%s.%s" % (imp.module, imp.name)]
            if imp.kind == FUNC:
                if callable(ext):
                    ext = FakeFunc(module.types[imp.desc], ext)
                self.funcs.append(ext)
            elif imp.kind == MEMORY:
                self.memories.append(ext)
            elif imp.kind == TABLE:
                self.tables.append(ext)
            elif imp.kind == GLOBAL:
                self.globals.append(ext)
        for f in module.funcs:
            self.funcs.append(FakeFunc(module.types[f.type_index]))
        for m in module.mems:
            self.memories.append(FakeMemory(m.limits.min, m.limits.max))
        for t in module.tables:
            self.tables.append(FakeTable(t.limits.min, t.limits.max))
        for g in module.globals:
            self.globals.append(FakeGlobal(g.type, self.const(g.init)))
        self.elem_segments = [[self.const(e) for e in seg.init] for seg in module.elems]
        self.data_segments = [bytes(d.init) for d in module.datas]
        if mode == "metered":   # fuel and epoch checks on, never running out
            self.fuel_cell, self.epoch_cell, self.deadline_cell = [1 << 62], [0], [1]
            # Epoch checks count tick_cell down and call epoch_hit below zero.
            self.tick_cell = [1 << 62]
            self.epoch_hit = lambda: None
            self.compiled = CompiledModule(module, None, fuel=True, epoch=True)
        else:
            self.compiled = CompiledModule(module, mode)
        self.compiled.bind(self)
        for k, seg in enumerate(module.elems):
            if seg.mode == "active":
                off = self.const(seg.offset)
                self.tables[seg.table].elements[off:off + len(seg.init)] = self.elem_segments[k]
                self.elem_segments[k] = []
            elif seg.mode == "declarative":
                self.elem_segments[k] = []
        for k, d in enumerate(module.datas):
            if d.mode == "active":
                off = self.const(d.offset)
                self.memories[d.memory].data[off:off + len(d.init)] = d.init
                self.data_segments[k] = b""
        self.exports = {e.name: e for e in module.exports}
        if module.start is not None:
            self.funcs[module.start].fn()

    def const(self, expr: Any) -> Any:
        ins = expr[0]
        if ins.op in ("i32.const", "i64.const", "v128.const"):
            return ins.imm
        if ins.op == "f32.const":
            return f32_from_bits(ins.imm)
        if ins.op == "f64.const":
            return struct.unpack("<d", struct.pack("<Q", ins.imm))[0]
        if ins.op == "ref.func":
            return self.funcs[ins.imm]
        if ins.op == "ref.null":
            return None
        if ins.op == "global.get":
            return self.globals[ins.imm].value
        raise NotImplementedError(ins.op)

    def func(self, name: str) -> Callable[..., Any]:
        """A Python callable for export ``name`` mapping escaping exceptions to traps."""
        finst = self.funcs[self.exports[name].index]

        def call(*args: Any) -> Any:
            try:
                return finst.fn(*args)
            except Trap:
                raise
            except Exception as exc:  # noqa: BLE001 - mapped like the runtime does
                trap = trap_from_exception(exc)
                if trap is None:
                    raise
                raise trap from None
        return call

    def memory(self, i: int = 0) -> bytearray:
        return self.memories[i].data


def wat2wasm(text: str, extra: Optional[List[str]] = None) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "m.wat")
        out = os.path.join(d, "m.wasm")
        with open(src, "w") as fh:
            fh.write(text)
        r = subprocess.run(["wat2wasm", src, "-o", out] + (extra or []),
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("wat2wasm failed: " + r.stderr[:2000])
        with open(out, "rb") as fh:
            return fh.read()


def instance(text: str, imports: Optional[Dict[str, Any]] = None,
             mode: Optional[str] = None) -> FakeInstance:
    return FakeInstance(decode_module(wat2wasm(text)), imports, mode)
