"""The WAST script layer: a ``.wast`` file -> ``purewasm.script.commands`` objects.

The grammar is the spec interpreter's (``interpreter/README.md``, "Scripts"): modules
(text, ``binary`` or ``quote``; Wasm 3.0's ``module definition`` and ``module instance``),
``register``, actions (``invoke``, ``get``) and the assertions (3.0 adds
``assert_exception`` and the result patterns of its reference types). The whole file is
tokenized once by the fast lexer; a text module is handed on as its source text
(``ModuleSource(TEXT, ...)``), which the runner parses with
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
            return self.token_text(i + 1)
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
        ident, source, _ = self.module_definition()
        return ident, source

    def module_definition(self) -> Tuple[Optional[str], C.ModuleSource, bool]:
        """``(module definition? $id? ...)`` at ``self.i``: its name, its source and
        whether it is a definition only (Wasm 3.0)."""
        start = self.i
        end = self.toks.match[start]
        if self.kinds[end] != RP:
            self.error("unexpected end of input", end)
        self.i += 2
        definition = self.kinds[self.i] == ATOM and self.values[self.i] == "definition"
        if definition:
            self.i += 1
        fields = self.i      # the token after "module" ("definition"): $id or a field
        ident = self.opt_id()
        v = self.values[self.i]
        if self.kinds[self.i] == ATOM and v in ("binary", "quote"):
            self.i += 1
            parts = []
            while self.kinds[self.i] == STRING:
                parts.append(self.string())
            self.expect_rp()
            if v == "binary":
                return ident, C.ModuleSource(C.BINARY, b"".join(parts)), definition
            # Quoted text: undecodable bytes become lone surrogates, which the module
            # lexer reports as "malformed UTF-8 encoding".
            # The strings are concatenated as they are (spec parser.mly, string_list).
            text = b"".join(parts).decode("utf-8", errors="surrogateescape")
            return ident, C.ModuleSource(C.QUOTE, text), definition
        self.i = end + 1
        starts = self.toks.starts
        if definition:
            # The module's own text, without the script's "definition" keyword.
            text = "(module " + self.toks.text[starts[fields]:starts[end] + 1]
        else:
            text = self.toks.text[starts[start]:starts[end] + 1]
        return ident, C.ModuleSource(C.TEXT, text), definition

    def module_command(self) -> Union[C.ModuleCommand, C.InstanceCommand]:
        line = self.line(self.i)
        if self.kinds[self.i + 2] == ATOM and self.values[self.i + 2] == "instance":
            # (module instance $I? $M?)
            self.i += 3
            instance = self.opt_id()
            module = self.opt_id()
            self.expect_rp()
            return C.InstanceCommand(line, instance, module)
        ident, source, definition = self.module_definition()
        return C.ModuleCommand(line, source, ident, definition)

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
        return self.token_text(self.i - 1)

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
            ints = [lane for lane in lanes if isinstance(lane, int)]
            if len(ints) < len(lanes):     # NaN patterns among the lanes
                result = C.V128Pattern(lane_t, tuple(lanes))
            else:
                value = 0
                for n, lane_bits in enumerate(ints):
                    value |= lane_bits << (n * bits)
                result = C.Const("v128", value)
        elif kw == "ref.null" and expected and self.kinds[self.i] == RP:
            result = C.NullPattern()
        elif kw == "ref.null":
            heap = self.atom()
            if heap not in C.REF_NULL_TYPES:
                self.error("unexpected token", self.i - 1)
            result = C.Const(C.REF_NULL_TYPES[heap], None)
        elif kw in ("ref.extern", "ref.func", "ref.host") and self.kinds[self.i] != RP:
            t = {"ref.extern": "externref", "ref.func": "funcref", "ref.host": "anyref"}[kw]
            index = self.i
            result = C.Const(t, self.number("i64", self.atom(), index))
        elif kw in C.REF_PATTERN_TYPES and expected and self.kinds[self.i] == RP:
            result = C.RefPattern(C.REF_PATTERN_TYPES[kw])
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
            action: Any = self.action()
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
                action = self.module_command()
            else:
                action = self.action()
            cmd = C.AssertTrap(line, action, self.name())
        elif kw == "assert_exhaustion":
            action = self.action()
            cmd = C.AssertExhaustion(line, action, self.name())
        elif kw == "assert_exception":
            cmd = C.AssertException(line, self.action())
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
