"""The lexer of the text format (spec 6.2, "Lexical Format").

One compiled regular expression splits the source into tokens: ``(``, ``)``, strings, and
*atoms* (keywords, numbers, identifiers: spec 6.2.2 tokens made of ``idchar``). Anything
else that is made of idchars and strings glued together is a *reserved* token (spec 6.2.2:
"reserved" — e.g. ``0drop`` or ``data"a"``), an error wherever it is used. White space,
line comments, nested block comments (6.2.4) and annotations (``(@id ...)``, skipped as
the annotations proposal prescribes) produce no tokens.

Tokens are kept in parallel lists (kind, value, source offset) rather than objects: the
largest testsuite scripts have ~200,000 tokens and this keeps lexing well under a second.
"""
from __future__ import annotations

import bisect
import re
from typing import List, NoReturn, Optional, Tuple, Union

from ..errors import MalformedError
from .literals import decode_string

LP = 0
RP = 1
ATOM = 2      # keyword, number or $identifier (value: the text)
STRING = 3    # value: the decoded bytes
RESERVED = 4  # value: the text
EOF = 5

# A token's value: the text (ATOM, RESERVED, "(" and ")"), the decoded bytes (STRING), None
# (EOF).
TokenValue = Union[str, bytes, None]

# idchar (spec 6.2.2): printable ASCII except space, quotes, parens, comma, semicolon,
# square and curly brackets.
_IDCHAR = r"0-9a-zA-Z!#$%&'*+\-./:<=>?@\\^_`|~"
_STRING = r'"(?:[^"\\\n]|\\.)*"'

_TOKEN_RE = re.compile(
    # Leading white space is part of every match: half as many regex calls.
    r"[ \t\n\r]*(?:"
    r"(?P<lc>;;[^\n\r]*)"
    r"|(?P<bc>\(;)"
    r"|(?P<ann>\(@)"
    r"|(?P<lp>\()"
    r"|(?P<rp>\))"
    # A string is scanned by str.find (fast on megabyte-long data strings).
    r'|(?P<str>")'
    r"|(?P<atom>(?:[%s]|%s)+)"
    r"|(?P<bad>[^ \t\n\r]))" % (_IDCHAR, _STRING), re.DOTALL)
_QUOTED_ID_RE = re.compile(r"\$%s\Z" % _STRING, re.DOTALL)
_ATOM_RE = re.compile(r"(?:[%s]|%s)+" % (_IDCHAR, _STRING), re.DOTALL)
_IDCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "!#$%&'*+-./:<=>?@\\^_`|~\"")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_COMMENT_RE = re.compile(r"\(;|;\)")


class Tokens:
    """The token lists of one source text, plus what is needed to locate errors."""

    __slots__ = ("text", "kinds", "values", "starts", "match", "_lines")

    def __init__(self, text: str) -> None:
        self.text = text
        self.kinds: List[int] = []
        self.values: List[TokenValue] = []
        self.starts: List[int] = []
        # match[i] for a "(" token: the index of its ")" (or of EOF if unclosed).
        self.match: List[int] = []
        self._lines: Optional[List[int]] = None

    def location(self, pos: int) -> Tuple[int, int]:
        """(line, column), both 1-based, of source offset ``pos``."""
        if self._lines is None:
            self._lines = [m.start() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self._lines, pos)
        col = pos - (self._lines[line - 1] + 1 if line else 0)
        return line + 1, col + 1

    def error(self, index: int, message: str) -> NoReturn:
        """Raise MalformedError located at token ``index``."""
        index = min(index, len(self.starts) - 1)
        if self.kinds[index] == RESERVED and message == "unexpected token":
            message = "unknown operator"    # the spec lexer rejects reserved tokens itself
        line, col = self.location(self.starts[index])
        raise MalformedError(message, line=line, column=col)

    def error_at(self, pos: int, message: str) -> NoReturn:
        line, col = self.location(pos)
        raise MalformedError(message, line=line, column=col)


class TokenCursor:
    """A position in a token list with the reading steps both the module parser and the
    script parser use."""

    def __init__(self, toks: Tokens, start: int = 0) -> None:
        self.toks = toks
        self.kinds = toks.kinds
        self.values = toks.values
        self.i = start

    def error(self, message: str, index: Optional[int] = None) -> NoReturn:
        self.toks.error(self.i if index is None else index, message)

    def expect_rp(self) -> None:
        if self.kinds[self.i] != RP:
            self.error("unexpected token")
        self.i += 1

    def opt_id(self) -> Optional[str]:
        i = self.i
        if self.kinds[i] == ATOM:
            v = self.values[i]
            if isinstance(v, str) and v[0] == "$" and len(v) > 1:
                self.i += 1
                return v
        return None

    def string(self) -> bytes:
        if self.kinds[self.i] != STRING:
            self.error("unexpected token")
        self.i += 1
        value = self.values[self.i - 1]
        return value if isinstance(value, bytes) else b""   # a STRING's value: bytes

    def token_text(self, index: int) -> str:
        """The text of token ``index`` (an ATOM's, a RESERVED token's, "(" or ")")."""
        value = self.values[index]
        return value if isinstance(value, str) else ""

    def name(self) -> str:
        """A name (spec 6.3.4): a string that must be valid UTF-8."""
        index = self.i
        data = self.string()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.error("malformed UTF-8 encoding", index)


def tokenize(text: str) -> Tokens:
    """Split ``text`` into tokens; raises MalformedError on a lexical error."""
    toks = Tokens(text)
    kinds = toks.kinds
    values = toks.values
    starts = toks.starts
    match = toks.match
    kinds_append = kinds.append
    values_append = values.append
    starts_append = starts.append
    match_append = match.append
    # Source text must be UTF-8 (spec 6.2.1): bytes that did not decode were mapped to lone
    # surrogates (errors="surrogateescape") by whoever decoded the source.
    bad = _SURROGATE_RE.search(text)
    if bad is not None:
        toks.error_at(bad.start(), "malformed UTF-8 encoding")
    stack: List[int] = []
    skip_depth = 0          # > 0 while inside an annotation
    pos = 0
    n = len(text)
    finditer = _TOKEN_RE.match
    while pos < n:
        m = finditer(text, pos)
        if m is None:           # only white space is left
            break
        kind = m.lastgroup or "bad"    # every alternative of the pattern is a named group
        pos = m.end()
        start = m.start(kind)
        if kind == "atom":
            if skip_depth:
                if '"' in m.group(kind):
                    _check_strings(toks, m.group(kind), start)
                continue
            val = m.group(kind)
            if val[:2] == '$"' and _QUOTED_ID_RE.match(val):
                # $"name": an identifier written as a string (Wasm 3.0, spec 6.3.5),
                # as ``wasm-tools print`` writes names that are no plain ids.
                data, reason = decode_string(val[2:-1])
                if data is None:
                    toks.error_at(start, reason)
                try:
                    ident = data.decode("utf-8")
                except UnicodeDecodeError:
                    toks.error_at(start, "malformed UTF-8 encoding")
                if not ident:
                    toks.error_at(start, "empty identifier")
                kinds_append(ATOM)
                values_append("$" + ident)
                starts_append(start)
                match_append(-1)
                continue
            if '"' in val:           # idchars glued to a string: reserved (spec 6.2.2)
                _check_strings(toks, val, start)
                kinds_append(RESERVED)
                values_append(val)
            else:
                kinds_append(ATOM)
                values_append(val)
            starts_append(start)
            match_append(-1)
        elif kind == "str":
            close = _string_end(text, start)
            if close < 0 or text[close + 1:close + 2] in _IDCHARS:
                # Unclosed, or glued to more idchars/strings: a reserved token (or an
                # error the atom rule reports).
                m = _ATOM_RE.match(text, start)
                if m is None or close < 0:
                    _bad_string(toks, text, start)
                val = m.group()
                pos = m.end()
                _check_strings(toks, val, start)
                if not skip_depth:
                    kinds_append(RESERVED)
                    values_append(val)
                    starts_append(start)
                    match_append(-1)
                continue
            pos = close + 1
            data, reason = decode_string(text[start + 1:close])
            if data is None:
                toks.error_at(start, reason)
            if skip_depth:
                continue
            kinds_append(STRING)
            values_append(data)
            starts_append(start)
            match_append(-1)
        elif kind == "lc":
            continue
        elif kind == "lp":
            if skip_depth:
                skip_depth += 1
                continue
            stack.append(len(kinds))
            kinds_append(LP)
            values_append("(")
            starts_append(start)
            match_append(-1)
        elif kind == "rp":
            if skip_depth:
                skip_depth -= 1
                continue
            # A stray ")" is left to the parser, which reports it in source order.
            if stack:
                match[stack.pop()] = len(kinds)
            kinds_append(RP)
            values_append(")")
            starts_append(start)
            match_append(-1)
        elif kind == "bc":
            pos = _skip_block_comment(toks, pos, start)
        elif kind == "ann":
            # Annotations (@id ...) are ignored (annotations proposal, adopted in Wasm 3.0);
            # their id follows "(@" at once: idchars, or a non-empty UTF-8 string. Inside an
            # annotation, "(@" is only a parenthesis and the reserved token "@…".
            if not skip_depth:
                _check_annotation_id(toks, text, pos, start)
            skip_depth += 1
        else:
            ch = m.group(kind)
            if skip_depth and ch in ",;[]{}":
                # Wasm 3.0's reserved tokens may appear inside an annotation (spec 6.2.2:
                # reserved ::= (idchar | string | , | ; | [ | ] | { | })+); elsewhere
                # they are errors.
                continue
            toks.error_at(start, "unknown operator" if ch.isprintable() and ord(ch) < 128
                          else "malformed operator")
    if skip_depth:
        toks.error_at(n, "unclosed annotation")
    eof = len(kinds)
    for i in stack:
        match[i] = eof
    kinds_append(EOF)
    values_append(None)
    starts_append(n)
    match_append(-1)
    return toks


def _check_annotation_id(toks: Tokens, text: str, pos: int, start: int) -> None:
    """The id of the annotation opened at ``start`` ("(@" ends at ``pos``): spec 6.2.3,
    ``'(@' annotid`` with annotid ::= idchar+ | name (a string that is UTF-8, non-empty)."""
    ch = text[pos:pos + 1]
    if ch == '"':
        close = _string_end(text, pos)
        if close < 0:
            toks.error_at(start, "empty annotation id")
        data, reason = decode_string(text[pos + 1:close])
        if data is None:
            toks.error_at(pos, reason)
        if not data:
            toks.error_at(start, "empty annotation id")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            toks.error_at(pos, "malformed UTF-8 encoding")
    elif not ch or ch not in _IDCHARS:
        toks.error_at(start, "empty annotation id")


def _string_end(text: str, start: int) -> int:
    """The index of the quote closing the string opened at ``start``, or -1 if the string
    is not closed on its line."""
    pos = start + 1
    while True:
        close = text.find('"', pos)
        if close < 0:
            return -1
        k = close - 1
        while text[k] == "\\":
            k -= 1
        if (close - 1 - k) % 2 == 0:      # not escaped
            break
        pos = close + 1
    if text.find("\n", start, close) >= 0:
        return -1
    return close


def _bad_string(toks: Tokens, text: str, start: int) -> NoReturn:
    eol = text.find("\n", start)
    rest = text[start:eol if eol >= 0 else len(text)]
    bad = re.match(r'"(?:[^"\\\x00-\x1f\x7f]|\\.)*', rest)
    if bad is not None and bad.end() < len(rest) and rest[bad.end()] not in '"\\':
        toks.error_at(start + bad.end(), "illegal control character in string literal")
    toks.error_at(start, "unclosed string literal")


def _check_strings(toks: Tokens, val: str, start: int) -> None:
    """Report bad escapes or characters in strings glued inside a reserved token."""
    for m in re.finditer(_STRING, val):
        data, reason = decode_string(m.group()[1:-1])
        if data is None:
            toks.error_at(start + m.start(), reason)


def _skip_block_comment(toks: Tokens, pos: int, start: int) -> int:
    """Skip a block comment whose "(;" ended at ``pos``; they nest (spec 6.2.4, "Comments")."""
    text = toks.text
    depth = 1
    while depth:
        m = _COMMENT_RE.search(text, pos)
        if m is None:
            toks.error_at(start, "unclosed comment")
        depth += 1 if m.group() == "(;" else -1
        pos = m.end()
    return pos
