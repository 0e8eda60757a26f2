"""Mutation fuzzing of the front end (issue 8): the binary decoder, the validator, the
text parser and (on what validates) the translator, fed with mutated spec-suite modules
and module texts. Only purewasm.errors exceptions may escape; anything else is a finding.

tests/test_binary_fuzz.py mutates two small hand-made seeds with hypothesis; this engine
mutates the whole spec corpus (about 1,500 binary modules and as many texts), shared by
tests/test_frontend_fuzz.py (a bounded, deterministic slice) and scripts/campaign.py fuzz
(the long run, saving each escaping input).
"""
from __future__ import annotations

import os
import random
import traceback
from typing import Any, Callable, List, Optional, Tuple

from purewasm.binary import decode_module
from purewasm.errors import WasmtimeError
from purewasm.validate import validate_module

_CORPUS: List[Tuple[List[bytes], List[str]]] = []


def corpus() -> Tuple[List[bytes], List[str]]:
    """(binary modules, module texts) of the spec testsuite's scripts: text modules are
    kept as text and also assembled to binary (by wasmtime, when it is there)."""
    if _CORPUS:
        return _CORPUS[0]
    from differential import spec_wast_files
    from purewasm.script.commands import BINARY, ModuleCommand
    from purewasm.text import parse_script
    try:
        import wasmtime
    except ImportError:  # pragma: no cover
        wasmtime = None
    binaries: List[bytes] = []
    texts: List[str] = []
    for path in spec_wast_files():
        with open(path, "rb") as f:
            commands = parse_script(f.read())
        for cmd in commands:
            src = getattr(cmd, "module", None) or getattr(cmd, "source", None)
            if isinstance(cmd, ModuleCommand):
                src = cmd.source
            if src is None or not hasattr(src, "kind"):
                continue
            if src.kind == BINARY:
                binaries.append(bytes(src.data))
            elif src.kind == "text" and isinstance(cmd, ModuleCommand):
                texts.append(str(src.data))
                if wasmtime is not None and isinstance(cmd, ModuleCommand):
                    try:
                        binaries.append(bytes(wasmtime.wat2wasm(str(src.data))))
                    except Exception:  # noqa: BLE001 - a text wasmtime refuses
                        pass
    _CORPUS.append((binaries, texts))
    return binaries, texts


_INTERESTING = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0B, 0x0F, 0x40, 0x41, 0x60, 0x70, 0x7B,
                0xFC, 0xFD]


def _count(rnd: random.Random) -> int:
    return rnd.choice((1, 1, 1, 1, 2, 2, 3, 4))


def mutate_bytes(data: bytes, other: bytes, rnd: random.Random) -> bytes:
    """Mostly small in-place changes (most inputs must still decode to reach the
    validator and the translator), sometimes structural ones."""
    b = bytearray(data)
    for _ in range(_count(rnd)):
        k = rnd.choices(range(7), weights=(35, 25, 7, 8, 10, 10, 5))[0]
        i = rnd.randrange(len(b) + 1)
        if k == 0 and i < len(b):
            b[i] ^= 1 << rnd.randrange(8)                       # bit flip
        elif k == 1 and i < len(b):
            b[i] = rnd.choice(_INTERESTING)                     # interesting byte
        elif k == 2:
            del b[i:]                                           # truncation
        elif k == 3:
            j = rnd.randrange(len(other) + 1)
            b[i:] = other[j:j + rnd.randint(0, 200)]            # splice
        elif k == 4:
            del b[i:i + rnd.randint(1, 8)]                      # deletion
        elif k == 5:
            b[i:i] = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 8)))
        elif i < len(b):
            b[i:i + 1] = bytes([b[i] | 0x80, 0x80, 0x00])       # LEB widening
    return bytes(b)


_TOKENS = ["(", ")", "(func", "(param i32)", "(result i64)", "block", "end", "loop",
           "if", "else", "br 0", "br_table 0 1", "i32.const 0", "0x", "-", "$x", "\"",
           "\\", "nan:0x1", "inf", "offset=", "align=3", ";;", "(;", ";)", "v128.const",
           "i8x16", "\u00e9", "\x00", "(memory 1)", "(table 1 funcref)", "ref.null",
           "(result i32 i64)", "(param $p f32)", "local.tee 0", "drop", "select",
           "(then", "(else", "(local i32)", "call 0", "return"]
_NUMBERS = ["0", "-1", "0x7fffffff", "4294967295", "4294967296", "-0x80000000",
            "18446744073709551616", "0x1p-1074", "1e400", "nan:0x400000", "-nan",
            "0x_1", "1__0", "+inf", "123456789012345678901234567890", "65536", "65537"]


def mutate_text(text: str, other: str, rnd: random.Random) -> str:
    """Word-level changes mostly (swap, replace a number, insert a token), sometimes a
    splice or truncation."""
    import re
    s = text
    for _ in range(_count(rnd)):
        k = rnd.choices(range(7), weights=(25, 20, 20, 10, 8, 7, 10))[0]
        words = list(re.finditer(r"[^\s()]+", s))
        if k <= 2 and words:
            w = rnd.choice(words)
            if k == 0:      # replace a word by another word of the text (or of other)
                src = rnd.choice(words if rnd.random() < 0.7 else
                                 list(re.finditer(r"[^\s()]+", other)) or words)
                s = s[:w.start()] + src.group() + s[w.end():]
            elif k == 1:    # replace a word by a number
                s = s[:w.start()] + rnd.choice(_NUMBERS) + s[w.end():]
            else:           # delete a word
                s = s[:w.start()] + s[w.end():]
            continue
        i = rnd.randrange(len(s) + 1)
        if k == 3:
            s = s[:i] + " " + rnd.choice(_TOKENS) + " " + s[i:]     # insertion
        elif k == 4:
            s = s[:i]                                               # truncation
        elif k == 5:
            j = rnd.randrange(len(other) + 1)
            s = s[:i] + other[j:j + rnd.randint(0, 200)]            # splice
        else:
            j = min(len(s), i + rnd.randint(1, 60))
            s = s[:i] + s[i:j] * rnd.randint(2, 4) + s[j:]          # repetition
    return s


def _through(make: Callable[[], Any]) -> Optional[str]:
    """Run the front end on one input: None, or a description of an escaping exception."""
    try:
        module = make()
        validate_module(module)
    except WasmtimeError:
        return None
    except RecursionError as exc:
        return "RecursionError: %s" % str(exc)[:100]
    except Exception as exc:  # noqa: BLE001 - that is the finding
        tb = traceback.extract_tb(exc.__traceback__)
        where = "%s:%d" % (tb[-1].filename, tb[-1].lineno) if tb else "?"
        return "%s: %s at %s" % (type(exc).__name__, str(exc)[:120], where)
    try:   # what validates must also translate
        from purewasm.compile import CompiledModule
        CompiledModule(module).compile_all()
    except WasmtimeError:
        return None
    except Exception as exc:  # noqa: BLE001
        tb = traceback.extract_tb(exc.__traceback__)
        where = "%s:%d" % (tb[-1].filename, tb[-1].lineno) if tb else "?"
        return "translate %s: %s at %s" % (type(exc).__name__, str(exc)[:120], where)
    return None


def check_binary(data: bytes) -> Optional[str]:
    return _through(lambda: decode_module(data))


def check_text(text: str) -> Optional[str]:
    from purewasm.text import parse_module
    return _through(lambda: parse_module(text))


def run(n: int, seed: int = 0, save_dir: Optional[str] = None
        ) -> Tuple[int, List[Tuple[str, int, str]]]:
    """``n`` mutated inputs (half binary, half text) from ``seed``: (n, escapes), each
    escape (kind, input number, description); saved to ``save_dir`` when given."""
    binaries, texts = corpus()
    escapes: List[Tuple[str, int, str]] = []
    seen = set()
    for k in range(n):
        rnd = random.Random("%d:%d" % (seed, k))
        if k % 2 == 0 and binaries:
            data = mutate_bytes(rnd.choice(binaries), rnd.choice(binaries), rnd)
            problem = check_binary(data)
            kind, blob = "binary", data
        else:
            text = mutate_text(rnd.choice(texts), rnd.choice(texts), rnd)
            problem = check_text(text)
            kind, blob = "text", text.encode("utf-8", "surrogatepass")
        if problem is None:
            continue
        escapes.append((kind, k, problem))
        key = problem.split(" at ")[-1]
        if save_dir is not None and key not in seen:
            seen.add(key)
            name = os.path.join(save_dir, "fuzz-%s-%d.%s" % (
                kind, k, "wasm" if kind == "binary" else "wat"))
            with open(name, "wb") as f:
                f.write(blob)
            with open(name + ".txt", "w") as f:
                f.write(problem + "\n")
    return n, escapes
