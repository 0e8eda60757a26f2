"""Read the JSON form of ``.wast`` scripts into :mod:`purewasm.script.commands` objects: a
second route to the spec tests, through other readers than purewasm's text parser.

Two writers: wabt's ``wast2json`` (Wasm 2.0) and ``wasm-tools json-from-wast`` (every Wasm
3.0 proposal). Both write ``x.json`` and one ``x.N.wasm`` (binary modules) or ``x.N.wat``
(text of ``module quote``) per module. Values are decimal strings of the bit patterns
(wasm-tools writes signed integers, e.g. ``-1``: masked to the type's width here),
``nan:canonical`` / ``nan:arithmetic``, or ``null``. Wasm 3.0's ``(module definition)`` and
``(module instance)`` are ``module`` with ``definition`` / ``instance`` in wast2json and
``module_definition`` / ``module_instance`` in wasm-tools.
"""
from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Dict, List, Optional, Tuple, Union

from .commands import BINARY, NAN_ARITHMETIC, NAN_CANONICAL, QUOTE, ActionCommand, \
    AssertException, AssertExhaustion, AssertInvalid, AssertMalformed, AssertReturn, \
    AssertTrap, AssertUninstantiable, AssertUnlinkable, Command, Const, Either, Expected, \
    Get, InstanceCommand, Invoke, ModuleCommand, ModuleSource, NanPattern, NullPattern, \
    RefPattern, \
    Register, V128Pattern

_LANE_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}
_SCALAR_MASKS = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF, "f32": 0xFFFF_FFFF,
                 "f64": 0xFFFF_FFFF_FFFF_FFFF}


def convert_wast(wast_path: str, out_dir: str) -> str:
    """Run ``wast2json`` on ``wast_path`` into ``out_dir``; return the JSON file's path."""
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "x.json")
    subprocess.run(["wast2json", wast_path, "-o", json_path], check=True,
                   capture_output=True)
    return json_path


def _lanes_to_int(lane_type: str, lanes: List[str]) -> int:
    bits = _LANE_BITS[lane_type]
    value = 0
    for i, lane in enumerate(lanes):
        value |= (int(lane) & ((1 << bits) - 1)) << (i * bits)
    return value


def _const(v: Dict[str, Any]) -> Const:
    ty = v["type"]
    raw = v.get("value")
    if ty == "v128":
        return Const(ty, _lanes_to_int(v["lane_type"], v["value"]))
    if ty.endswith("ref"):
        return Const(ty, None if raw is None or raw == "null" else int(raw))
    value = int(v["value"])
    mask = _SCALAR_MASKS.get(ty)
    return Const(ty, value & mask if mask is not None else value)


def _expected(v: Dict[str, Any]) -> Expected:
    ty = v["type"]
    if ty == "either":
        return Either(tuple((_expected(alt),) for alt in v["values"]))
    raw = v.get("value")
    if ty in ("f32", "f64") and raw in (NAN_CANONICAL, NAN_ARITHMETIC):
        return NanPattern(ty, raw)
    if ty == "v128":
        lanes = v["value"]
        if any(lane in (NAN_CANONICAL, NAN_ARITHMETIC) for lane in lanes):
            bits = _LANE_BITS[v["lane_type"]]
            return V128Pattern(v["lane_type"], tuple(
                lane if lane in (NAN_CANONICAL, NAN_ARITHMETIC)
                else int(lane) & ((1 << bits) - 1) for lane in lanes))
        return _const(v)
    if ty == "refnull" or (ty.startswith("null") and ty.endswith("ref") and "value" not in v):
        # wasm-tools: (ref.null) with no heap type, or a null of a hierarchy written as its
        # bottom type ("nullref", "nullfuncref", …) with no value.
        return NullPattern()
    if ty.endswith("ref") and "value" not in v:
        return RefPattern(ty)
    if ty == "funcref" and raw not in (None, "null"):
        # wast2json writes the (ref.func) result pattern (any function) as value 0: a
        # function cannot be named in a script.
        return RefPattern(ty)
    return _const(v)


def _action(a: Dict[str, Any]) -> Union[Invoke, Get]:
    module = a.get("module")
    if a["type"] == "invoke":
        return Invoke(a["field"], tuple(_const(x) for x in a.get("args", ())), module)
    if a["type"] == "get":
        return Get(a["field"], module)
    raise ValueError("unknown action type %r" % a["type"])


def _source(c: Dict[str, Any], base: str) -> ModuleSource:
    path = os.path.join(base, c["filename"])
    if c.get("module_type", "binary") == "text":
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as f:
            return ModuleSource(QUOTE, f.read(), c["filename"])
    with open(path, "rb") as fb:
        return ModuleSource(BINARY, fb.read(), c["filename"])


def read_json(json_path: str) -> List[Command]:
    """The commands of a wast2json JSON file (module files are read eagerly)."""
    with open(json_path, encoding="utf-8") as f:
        data = json.load(f)
    base = os.path.dirname(json_path)
    return read_json_commands(data["commands"], base)


def read_json_commands(raw_commands: List[Dict[str, Any]], base: str) -> List[Command]:
    out: List[Command] = []
    for c in raw_commands:
        kind = c["type"]
        line = int(c.get("line", 0))
        if kind == "module":
            # wast2json marks Wasm 3.0's (module definition ...) with "definition".
            out.append(ModuleCommand(line, _source(c, base), c.get("name"),
                                     c.get("definition") in (True, "true")))
        elif kind == "module_definition":        # wasm-tools json-from-wast
            out.append(ModuleCommand(line, _source(c, base), c.get("name"), True))
        elif kind == "module_instance":          # wasm-tools json-from-wast
            out.append(InstanceCommand(line, c.get("instance"), c.get("module")))
        elif kind == "instance":
            # (module instance $I $M): wast2json's "instance" and "definition" names.
            out.append(InstanceCommand(line, c.get("instance"), c.get("definition")))
        elif kind == "register":
            out.append(Register(line, c["as"], c.get("name")))
        elif kind == "action":
            out.append(ActionCommand(line, _action(c["action"])))
        elif kind == "assert_return":
            out.append(AssertReturn(line, _action(c["action"]),
                                    tuple(_expected(v) for v in c.get("expected", ()))))
        elif kind == "assert_trap":
            out.append(AssertTrap(line, _action(c["action"]), c.get("text", "")))
        elif kind == "assert_exhaustion":
            out.append(AssertExhaustion(line, _action(c["action"]), c.get("text", "")))
        elif kind == "assert_exception":
            out.append(AssertException(line, _action(c["action"])))
        elif kind == "assert_invalid":
            out.append(AssertInvalid(line, _source(c, base), c.get("text", "")))
        elif kind == "assert_malformed":
            out.append(AssertMalformed(line, _source(c, base), c.get("text", "")))
        elif kind == "assert_unlinkable":
            out.append(AssertUnlinkable(line, _source(c, base), c.get("text", "")))
        elif kind == "assert_uninstantiable":
            out.append(AssertUninstantiable(line, _source(c, base), c.get("text", "")))
        else:
            raise ValueError("line %d: unknown command type %r" % (line, kind))
    return out


def read_wast_via_json(wast_path: str, out_dir: Optional[str] = None) -> List[Command]:
    """Convert ``wast_path`` with wast2json (into ``out_dir`` or a temp dir) and read it."""
    import shutil
    import tempfile
    if out_dir is not None:
        return read_json(convert_wast(wast_path, out_dir))
    tmp = tempfile.mkdtemp(prefix="purewasm-wast-")
    try:
        # Module files are read eagerly, so the directory can go right away.
        return read_json(convert_wast(wast_path, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__: Tuple[str, ...] = ("convert_wast", "read_json", "read_json_commands",
                            "read_wast_via_json")
