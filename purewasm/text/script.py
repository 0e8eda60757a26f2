"""The WAST script layer: a ``.wast`` file -> ``purewasm.script.commands`` objects.

The grammar is the spec interpreter's (``interpreter/README.md``, "Scripts"): modules
(text, ``binary`` or ``quote``), ``register``, actions (``invoke``, ``get``) and the
assertions. The whole file is tokenized once by the fast lexer; a text module is handed
on as its source text (``ModuleSource(TEXT, ...)``), which the runner parses with
:func:`purewasm.text.parse_module`.
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple, Union

from ..script import commands as C
from ..syntax import SHAPES
from .lexer import ATOM, EOF, LP, RP, STRING, TokenCursor, tokenize
from .literals import LiteralError, parse_iN, parse_number

_NAN_KINDS = {"nan:canonical": C.NAN_CANONICAL, "nan:arithmetic": C.NAN_ARITHMETIC}

_MODULE_FIELDS = frozenset(("type", "import", "func", "table", "memory", "global", "export",
                            "start", "elem", "data"))


class _ScriptParser(TokenCursor):
    def line(self, index: int) -> int:
        return self.toks.location(self.toks.starts[index])[0]

    def keyword_after_lp(self) -> Optional[str]:
        i = self.i
        if self.kinds[i] == LP and self.kinds[i + 1] == ATOM:
            return self.values[i + 1]  # type: ignore[return-value]
        return None

    def parse(self) -> List[Any]:
        out: List[Any] = []
        if self.keyword_after_lp() in _MODULE_FIELDS:
            # A script may consist of the fields of one module (spec interpreter README).
            return [C.ModuleCommand(self.line(0), C.ModuleSource(C.QUOTE, self.toks.text))]
        while self.kinds[self.i] != EOF:
            out.append(self.command())
        return out

    # --- modules ---------------------------------------------------------------------

    def module(self) -> Tuple[Optional[str], C.ModuleSource]:
        """``(module $id? ...)`` at ``self.i``: its name and source."""
        start = self.i
        end = self.toks.match[start]
        if self.kinds[end] != RP:
            self.error("unexpected end of input", end)
        self.i += 2
        ident = self.opt_id()
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and v in ("binary", "quote"):
            self.i += 1
            parts = []
            while self.kinds[self.i] == STRING:
                parts.append(self.string())
            self.expect_rp()
            if v == "binary":
                return ident, C.ModuleSource(C.BINARY, b"".join(parts))
            # Quoted text: undecodable bytes become lone surrogates, which the module
            # lexer reports as "malformed UTF-8 encoding".
            # The strings are concatenated as they are (spec parser.mly, string_list).
            text = b"".join(parts).decode("utf-8", errors="surrogateescape")
            return ident, C.ModuleSource(C.QUOTE, text)
        self.i = end + 1
        text = self.toks.text[self.toks.starts[start]:self.toks.starts[end] + 1]
        return ident, C.ModuleSource(C.TEXT, text)

    def module_command(self) -> C.ModuleCommand:
        line = self.line(self.i)
        ident, source = self.module()
        return C.ModuleCommand(line, source, ident)

    # --- actions and values ----------------------------------------------------------

    def action(self) -> Union[C.Invoke, C.Get]:
        kw = self.keyword_after_lp()
        if kw not in ("invoke", "get"):
            self.error("unexpected token")
        self.i += 2
        ident = self.opt_id()
        field = self.name()
        if kw == "get":
            self.expect_rp()
            return C.Get(field, ident)
        args = []
        while self.kinds[self.i] == LP:
            args.append(self.const(expected=False))
        self.expect_rp()
        return C.Invoke(field, tuple(args), ident)

    def atom(self) -> str:
        if self.kinds[self.i] != ATOM:
            self.error("unexpected token")
        self.i += 1
        return self.values[self.i - 1]  # type: ignore[return-value]

    def number(self, t: str, text: str, index: int) -> int:
        try:
            return parse_number(text, t)
        except LiteralError as exc:
            self.error(exc.args[0], index)

    def const(self, expected: bool) -> Any:
        """``(t.const v)``, ``(ref.null t)``, ``(ref.extern n)``... as an argument or,
        with ``expected``, a result pattern (nan:canonical, ``either``, bare refs)."""
        start = self.i
        kw = self.keyword_after_lp()
        if kw is None:
            self.error("unexpected token")
        self.i += 2
        result: Any
        if kw in ("i32.const", "i64.const", "f32.const", "f64.const"):
            t = kw[:3]
            index = self.i
            text = self.atom()
            if expected and text in _NAN_KINDS and t[0] == "f":
                result = C.NanPattern(t, _NAN_KINDS[text])
            else:
                result = C.Const(t, self.number(t, text, index))
        elif kw == "v128.const":
            shape = self.atom()
            if shape not in SHAPES:
                self.error("unexpected token", self.i - 1)
            lane_t, count, bits = SHAPES[shape]
            lanes: List[Union[int, str]] = []
            for _ in range(count):
                index = self.i
                text = self.atom()
                if expected and text in _NAN_KINDS and lane_t[0] == "f":
                    lanes.append(_NAN_KINDS[text])
                elif lane_t[0] == "f":
                    lanes.append(self.number(lane_t, text, index))
                else:
                    try:
                        lanes.append(parse_iN(text, bits))
                    except LiteralError as exc:
                        self.error(exc.args[0], index)
            if any(isinstance(lane, str) for lane in lanes):
                result = C.V128Pattern(lane_t, tuple(lanes))
            else:
                value = 0
                for n, lane in enumerate(lanes):
                    value |= lane << (n * bits)  # type: ignore[operator]
                result = C.Const("v128", value)
        elif kw == "ref.null" and expected and self.kinds[self.i] == RP:
            result = C.NullPattern()
        elif kw == "ref.null":
            heap = self.atom()
            if heap not in ("func", "extern"):
                self.error("unexpected token", self.i - 1)
            result = C.Const(heap + "ref", None)
        elif kw in ("ref.extern", "ref.func"):
            t = "externref" if kw == "ref.extern" else "funcref"
            if self.kinds[self.i] == RP:
                if not expected:
                    self.error("unexpected token")
                result = C.RefPattern(t)
            else:
                index = self.i
                result = C.Const(t, self.number("i64", self.atom(), index))
        elif kw == "either" and expected:
            alts = []
            while self.kinds[self.i] == LP:
                alts.append((self.const(expected=True),))
            result = C.Either(tuple(alts))
        else:
            self.error("unexpected token", start + 1)
        self.expect_rp()
        return result

    # --- commands --------------------------------------------------------------------

    def command(self) -> Any:
        start = self.i
        kw = self.keyword_after_lp()
        if kw is None:
            self.error("unexpected token")
        line = self.line(start)
        if kw == "module":
            return self.module_command()
        if kw in ("invoke", "get"):
            return C.ActionCommand(line, self.action())
        self.i += 2
        cmd: Any
        if kw == "register":
            as_name = self.name()
            cmd = C.Register(line, as_name, self.opt_id())
        elif kw == "assert_return":
            action = self.action()
            results = []
            while self.kinds[self.i] == LP:
                results.append(self.const(expected=True))
            cmd = C.AssertReturn(line, action, tuple(results))
        elif kw in ("assert_return_canonical_nan", "assert_return_arithmetic_nan"):
            # Older spelling of "(assert_return action (fN.const nan:...))".
            action = self.action()
            kind = C.NAN_CANONICAL if "canonical" in kw else C.NAN_ARITHMETIC
            cmd = C.AssertReturn(line, action, (C.NanPattern("f64", kind),))
        elif kw == "assert_trap":
            if self.keyword_after_lp() == "module":
                action: Any = self.module_command()
            else:
                action = self.action()
            cmd = C.AssertTrap(line, action, self.name())
        elif kw == "assert_exhaustion":
            action = self.action()
            cmd = C.AssertExhaustion(line, action, self.name())
        elif kw in ("assert_malformed", "assert_invalid", "assert_unlinkable",
                    "assert_uninstantiable"):
            if self.keyword_after_lp() != "module":
                self.error("unexpected token")
            _, source = self.module()
            cls = {"assert_malformed": C.AssertMalformed, "assert_invalid": C.AssertInvalid,
                   "assert_unlinkable": C.AssertUnlinkable,
                   "assert_uninstantiable": C.AssertUninstantiable}[kw]
            cmd = cls(line, source, self.name())
        else:
            self.error("unexpected token", start + 1)
        self.expect_rp()
        return cmd


def parse_script(text: Union[str, bytes]) -> List[Any]:
    """Parse a ``.wast`` script into a list of ``purewasm.script.commands`` objects.

    Text modules are not parsed here (the runner parses each one when it runs it, so a
    malformed module is reported by its own command). Raises MalformedError on a script
    syntax error.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="surrogateescape")
    return _ScriptParser(tokenize(text)).parse()
