"""The text format against the whole official testsuite (wasm-2.0, SIMD included).

Per script: it parses; every text module parses and every text ``assert_malformed`` is
rejected; each module equals what ``decode_module`` gives for wabt's binary of it
(``wast2json``), and our encoding (name section left out: wast2json writes none) equals
wabt's bytes; printing and parsing again gives the same module (from our parse and from
the decoded binary).
"""
from __future__ import annotations

import copy
import shutil
from typing import Any, List, Tuple

import pytest
from wast_json import all_wast_files, wast_commands

from purewasm.errors import MalformedError
from purewasm.opcodes import WASM2_FEATURES
from purewasm.script import commands as C
from purewasm.syntax import Module, Names
from purewasm.text import parse_module, parse_script, print_module

FILES = all_wast_files()
IDS = [str(p.relative_to(p.parents[1] if p.parent.name == "simd" else p.parent))
       for p in FILES]



def module_sources(cmds: List[Any]) -> List[Tuple[int, C.ModuleSource]]:
    """Sources of the modules that wast2json turns into a binary, in script order."""
    out = []
    for c in cmds:
        src = None
        if isinstance(c, C.ModuleCommand):
            src = c.source
        elif isinstance(c, C.AssertTrap) and isinstance(c.action, C.ModuleCommand):
            src = c.action.source
        elif isinstance(c, (C.AssertInvalid, C.AssertUnlinkable, C.AssertUninstantiable)):
            src = c.module
        if src is not None:
            out.append((c.line, src))
    return out


def normal(m: Module) -> Module:
    """``m`` without what the text cannot say or wabt does not write."""
    m = copy.copy(m)
    m.names = Names()
    m.customs = []
    if m.data_count == 0:    # wabt omits an empty data count section
        m.data_count = None
    m.funcs = [copy.copy(f) for f in m.funcs]
    for f in m.funcs:
        f.offset = None
    return m


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_script_parses_and_malformed_rejected(path) -> None:  # type: ignore[no-untyped-def]
    cmds = parse_script(path.read_bytes())
    accepted = []
    other_reason = []
    for c in cmds:
        if isinstance(c, C.AssertMalformed) and c.module.kind != C.BINARY:
            try:
                parse_module(c.module.data, WASM2_FEATURES)
            except MalformedError as exc:
                # Same reason as the spec interpreter (which may add details after it).
                if not exc.reason.startswith(c.message):
                    other_reason.append((c.line, c.message, exc.reason))
                continue
            accepted.append(c.line)
    assert accepted == [], "malformed modules accepted at lines %s" % accepted
    assert other_reason == []
    for line, src in module_sources(cmds):
        if src.kind != C.BINARY:
            m = parse_module(src.data)
            assert parse_module(print_module(m)) == m, "round trip, line %d" % line


@pytest.mark.skipif(shutil.which("wast2json") is None, reason="wabt not installed")
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_same_module_as_wabt(path, record_property) -> None:  # type: ignore[no-untyped-def]
    from purewasm.binary import decode_module, encode_module
    jcmds, moddir = wast_commands(path)
    jmods = [j for j in jcmds if "filename" in j and j["type"] != "assert_malformed"
             and j.get("module_type", "binary") == "binary"]
    ours = module_sources(parse_script(path.read_bytes()))
    assert len(jmods) == len(ours)
    problems = []
    counts = {"equal": 0, "bytes_equal": 0, "wabt_binary_refused": 0}
    for j, (line, src) in zip(jmods, ours):
        data = (moddir / j["filename"]).read_bytes()
        # The Wasm 2.0 testsuite against wabt (a 2.0 tool): read and written with 2.0's
        # rules (a vector of function indices is a funcref segment, not 3.0's (ref func)).
        try:
            ref = decode_module(data, WASM2_FEATURES)
        except MalformedError:
            # e.g. assert_invalid modules wabt writes without their data count section
            counts["wabt_binary_refused"] += 1
            continue
        # The printer on a decoded binary: print -> parse gives it back.
        if normal(parse_module(print_module(ref), WASM2_FEATURES)) != normal(ref):
            problems.append((line, "print of decoded binary does not round trip"))
        if src.kind == C.BINARY:
            continue
        m = parse_module(src.data, WASM2_FEATURES)
        if normal(m) != normal(ref):
            problems.append((line, "module differs from wabt's"))
            continue
        counts["equal"] += 1
        m.names = Names()
        if encode_module(m, WASM2_FEATURES) == data:
            counts["bytes_equal"] += 1
        else:
            problems.append((line, "encoding differs from wabt's"))
    record_property("text_vs_wabt", counts)
    assert problems == []


def test_big_scripts_parse_in_linear_time() -> None:
    """f32.wast and f64.wast (2,500+ commands each) parse, and parsing twice the script costs
    about twice the time: a ratio measured in one run (no timed bound: the machine is
    shared), generous enough for noise, far below what a quadratic path would give.
    CPU time, the two sizes alternating, the best of five each, and the garbage collector
    paused (its full passes grow with what is alive, which is not the parser's cost)."""
    import gc
    import time
    for name in ("f32.wast", "f64.wast"):
        path = [p for p in FILES if p.name == name][0]
        data = path.read_bytes()
        cmds = parse_script(data)
        assert len(cmds) > 2500
        texts = (data, data + b"\n" + data)
        times = [float("inf"), float("inf")]
        gc.disable()
        try:
            for _ in range(5):
                for i, text in enumerate(texts):
                    t = time.process_time()
                    parse_script(text)
                    times[i] = min(times[i], time.process_time() - t)
        finally:
            gc.enable()
        assert times[1] < 3.5 * times[0], "doubling %s cost %.1fx" % (name, times[1] / times[0])


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")
def test_printed_text_is_accepted_by_wabt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Our printer's output is standard text: wabt assembles it to the same module (the
    last text module of every other script: wabt costs ~50 ms a call)."""
    import subprocess
    from purewasm.binary import decode_module
    checked = 0
    for path in FILES[::2]:
        mods = [c.source.data for c in parse_script(path.read_bytes())
                if isinstance(c, C.ModuleCommand) and c.source.kind == C.TEXT]
        if not mods:
            continue
        m = parse_module(mods[-1], WASM2_FEATURES)
        wat = tmp_path / "m.wat"
        wasm = tmp_path / "m.wasm"
        wat.write_text(print_module(m), encoding="utf-8")
        r = subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], capture_output=True,
                           text=True)
        assert r.returncode == 0, (path.name, r.stderr)
        assert normal(decode_module(wasm.read_bytes(), WASM2_FEATURES)) == normal(m), \
            path.name
        checked += 1
    assert checked > 50


_SMITH_FLAGS = [
    "--simd-enabled", "true", "--relaxed-simd-enabled", "false",
    "--exceptions-enabled", "false", "--gc-enabled", "false", "--memory64-enabled", "false",
    "--tail-call-enabled", "false", "--threads-enabled", "false",
    "--extended-const-enabled", "false", "--custom-page-sizes-enabled", "false",
    "--wide-arithmetic-enabled", "false", "--shared-everything-threads-enabled", "false",
    "--compact-imports-enabled", "false", "--custom-descriptors-enabled", "false",
    "--max-memories", "1"]


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="wasm-tools not installed")
@pytest.mark.parametrize("seed", range(30))
def test_generated_modules_through_text(seed: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Random Wasm 2.0 modules (``wasm-tools smith``, fixed seeds): wasm-tools' text of
    each parses to the decoded module, and so does our printer's."""
    import random
    import subprocess
    from purewasm.binary import decode_module
    seed_bytes = bytes(random.Random(seed).getrandbits(8) for _ in range(3000))
    wasm = tmp_path / "s.wasm"
    subprocess.run(["wasm-tools", "smith", *_SMITH_FLAGS, "-o", str(wasm)],
                   input=seed_bytes, check=True, capture_output=True)
    ref = normal(decode_module(wasm.read_bytes()))
    text = subprocess.run(["wasm-tools", "print", str(wasm)], check=True,
                          capture_output=True, text=True).stdout
    assert normal(parse_module(text)) == ref
    assert normal(parse_module(print_module(ref))) == ref
