"""Numeric and string literals of the text format (spec 6.3.1-6.3.3).

Integers are returned as Python ints; floats as IEEE bit patterns (so NaN payloads and the
sign of zero survive), rounded exactly (round to nearest, ties to even) from the decimal or
hexadecimal literal, without going through a Python float (double rounding would be wrong
for f32).
"""
from __future__ import annotations

import codecs
import re
from typing import Optional, Tuple, cast

# Spec 6.3.1: digits may be separated by single underscores.
_NUM = r"[0-9](?:_?[0-9])*"
_HEXNUM = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"

NAT_RE = re.compile(r"(?:%s|0x%s)\Z" % (_NUM, _HEXNUM))
INT_RE = re.compile(r"[+-]?(?:%s|0x%s)\Z" % (_NUM, _HEXNUM))
_DEC_FLOAT_RE = re.compile(
    r"(?P<int>%s)(?:\.(?P<frac>%s)?)?(?:[eE](?P<exp>[+-]?%s))?\Z" % (_NUM, _NUM, _NUM))
_HEX_FLOAT_RE = re.compile(
    r"0x(?P<int>%s)(?:\.(?P<frac>%s)?)?(?:[pP](?P<exp>[+-]?%s))?\Z" % (_HEXNUM, _HEXNUM, _NUM))
_NAN_PAYLOAD_RE = re.compile(r"nan:0x(%s)\Z" % _HEXNUM)


class LiteralError(ValueError):
    """A literal is malformed; ``args[0]`` is the spec interpreter's reason."""


def parse_nat(text: str) -> Optional[int]:
    """The value of an unsigned integer literal, or None if ``text`` is not one."""
    if text.isdigit() and text.isascii() and len(text) < _DIGITS_CHUNK:  # the common case
        return int(text)
    if NAT_RE.match(text) is None:
        return None
    return _int(text.replace("_", ""))


def _int(body: str) -> int:
    # Not int(body, 0): that refuses the leading zeros the text format allows.
    if body[:2] == "0x":
        return int(body[2:], 16)
    return _decimal(body)


# CPython 3.11+ refuses int() of a decimal string longer than 4300 digits (a guard
# against quadratic conversions); a literal may be longer, so longer ones go in chunks.
_DIGITS_CHUNK = 4000


def _decimal(digits: str) -> int:
    """The value of a string of decimal digits, however long."""
    digits = digits.lstrip("0")
    if len(digits) < _DIGITS_CHUNK:
        return int(digits or "0")
    value = 0
    for i in range(0, len(digits), _DIGITS_CHUNK):
        chunk = digits[i:i + _DIGITS_CHUNK]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def parse_int(text: str) -> Optional[int]:
    """The value of a (possibly signed) integer literal, or None if ``text`` is not one."""
    if INT_RE.match(text) is None:
        return None
    body = text.replace("_", "")
    neg = body[0] == "-"
    if body[0] in "+-":
        body = body[1:]
    value = _int(body)
    return -value if neg else value


def parse_iN(text: str, bits: int) -> int:
    """An ``iN`` constant (spec 6.3.1: signed or unsigned), returned unsigned."""
    value = parse_int(text)
    if value is None:
        raise LiteralError("unexpected token")
    if not -(1 << (bits - 1)) <= value < (1 << bits):
        raise LiteralError("constant out of range")
    if text[0] == "+" and value >= (1 << (bits - 1)):
        # sN ::= '+' n (n < 2^(N-1)): an explicitly signed literal has the signed range.
        raise LiteralError("constant out of range")
    return value & ((1 << bits) - 1)


# (mantissa bits, exponent bits) of each float format (spec 4.3.3, "Floating-Point").
_FORMATS = {32: (23, 8), 64: (52, 11)}


def _round_to_bits(n: int, d: int, bits: int) -> int:
    """Round the positive rational ``n / d`` to the nearest ``fN`` (ties to even).

    Returns the bit pattern without sign; raises LiteralError if the result is infinite
    (spec 6.3.2: a float literal that rounds to infinity is malformed).
    """
    mbits, ebits = _FORMATS[bits]
    if n == 0:
        return 0
    bias = (1 << (ebits - 1)) - 1
    # e = floor(log2(n / d))
    e = n.bit_length() - d.bit_length()
    if (n << -e if e < 0 else n) < (d if e < 0 else d << e):
        e -= 1
    if e > bias:
        raise LiteralError("constant out of range")
    e = max(e, 1 - bias)       # below the normal range: subnormal scaling
    shift = mbits - e
    if shift >= 0:
        q, r = divmod(n << shift, d)
        den = d
    else:
        den = d << -shift
        q, r = divmod(n, den)
    if 2 * r > den or (2 * r == den and q & 1):
        q += 1
    if q >> (mbits + 1):       # rounding carried into a new binade
        q >>= 1
        e += 1
    if e > bias:
        raise LiteralError("constant out of range")
    if q >> mbits == 0:        # subnormal (or zero after rounding)
        return q
    return ((e + bias) << mbits) | (q & ((1 << mbits) - 1))


_FLOAT_CACHE: "dict[tuple[str, int], int]" = {}


def parse_float(text: str, bits: int) -> int:
    """The bit pattern of an ``fN`` literal (spec 6.3.2), incl. inf, nan and nan:0x..."""
    key = (text, bits)
    r = _FLOAT_CACHE.get(key)
    if r is None:
        r = _parse_float(text, bits)
        if len(_FLOAT_CACHE) > 100000:    # test scripts repeat literals a lot; bound it
            _FLOAT_CACHE.clear()
        _FLOAT_CACHE[key] = r
    return r


def _parse_float(text: str, bits: int) -> int:
    mbits, ebits = _FORMATS[bits]
    sign = 0
    body = text
    if body[:1] in ("+", "-"):
        if body[0] == "-":
            sign = 1 << (bits - 1)
        body = body[1:]
    exp_all = ((1 << ebits) - 1) << mbits
    if body == "inf":
        return sign | exp_all
    if body == "nan":
        return sign | exp_all | (1 << (mbits - 1))
    if body.startswith("nan:"):
        m = _NAN_PAYLOAD_RE.match(body)
        if m is None:
            raise LiteralError("unexpected token")
        payload = int(m.group(1).replace("_", ""), 16)
        if not 1 <= payload < (1 << mbits):
            raise LiteralError("constant out of range")
        return sign | exp_all | payload
    m = _HEX_FLOAT_RE.match(body)
    if m is not None:
        digits = m.group("int").replace("_", "")
        frac = (m.group("frac") or "").replace("_", "")
        mant = int(digits + frac, 16)
        exp = _signed_decimal(m.group("exp")) - 4 * len(frac)
        return sign | _round_scaled(mant, exp, 2, bits)
    m = _DEC_FLOAT_RE.match(body)
    if m is not None:
        digits = m.group("int").replace("_", "")
        frac = (m.group("frac") or "").replace("_", "")
        significand = (digits + frac).lstrip("0")
        exp = _signed_decimal(m.group("exp")) - len(frac)
        if len(significand) > _MAX_SIGNIFICANT_DIGITS:
            # Keep enough digits to round correctly, plus a nonzero "sticky" digit when
            # any dropped digit is nonzero: it breaks a tie as the full value would.
            dropped = significand[_MAX_SIGNIFICANT_DIGITS:]
            exp += len(dropped)
            significand = significand[:_MAX_SIGNIFICANT_DIGITS]
            if dropped.strip("0"):
                significand += "1"
                exp -= 1
        return sign | _round_scaled(int(significand or "0"), exp, 10, bits)
    raise LiteralError("unexpected token")


# A decimal needs at most 767 significant digits to determine its nearest f64 (and any
# binary float): the digits beyond these only matter through the sticky digit.
_MAX_SIGNIFICANT_DIGITS = 800


def _signed_decimal(text: Optional[str]) -> int:
    """The value of an optional exponent ``[+-]digits`` (underscores allowed)."""
    if not text:
        return 0
    body = text.replace("_", "")
    if body[0] in "+-":
        value = _decimal(body[1:])
        return -value if body[0] == "-" else value
    return _decimal(body)


def _round_scaled(mant: int, exp: int, base: int, bits: int) -> int:
    """Round ``mant * base**exp`` to fN bits, guarding against absurd exponents."""
    if mant == 0:
        return 0
    # Bound the work: beyond these the result is certainly 0 or infinite.
    # (At most _MAX_SIGNIFICANT_DIGITS + 1 digits in base 10: str() is cheap and allowed.)
    size = mant.bit_length() if base == 2 else len(str(mant))
    if base == 2:
        magnitude = size + exp
        if magnitude > 1100:
            raise LiteralError("constant out of range")
        if magnitude < -1200:
            return 0
    else:
        magnitude = size + exp
        if magnitude > 330:
            raise LiteralError("constant out of range")
        if magnitude < -360:
            return 0
    if exp >= 0:
        return _round_to_bits(mant * base ** exp, 1, bits)
    return _round_to_bits(mant, base ** -exp, bits)


def parse_number(text: str, numtype: str) -> int:
    """The literal ``text`` as an immediate of ``t.const`` for number type ``numtype``
    (``"i32"``, ``"i64"``, ``"f32"``, ``"f64"``): an unsigned int or the float's bits."""
    if numtype == "i32":
        return parse_iN(text, 32)
    if numtype == "i64":
        return parse_iN(text, 64)
    if numtype == "f32":
        return parse_float(text, 32)
    return parse_float(text, 64)


# --- Strings (spec 6.3.3) ---

_ESCAPE_RE = re.compile(r"\\(?:u\{([0-9a-fA-F](?:_?[0-9a-fA-F])*)\}|([0-9a-fA-F]{2})|(.))",
                        re.DOTALL)
_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", "'": b"'", '"': b'"'}
_BAD_CHAR_RE = re.compile(r"[\x00-\x1f\x7f]")


_VALID_STRING_RE = re.compile(
    r"""(?:[^\\\x00-\x1f\x7f]+|\\(?:[0-9a-fA-F]{2}|[nrt'"\\]))*\Z""")
_NAMED_AS_HEX = (("\\n", "\\0a"), ("\\r", "\\0d"), ("\\t", "\\09"), ("\\'", "\\27"),
                 ('\\"', "\\22"))


def decode_string(body: str) -> Tuple[Optional[bytes], str]:
    """Decode the contents of a string literal (without its quotes).

    Returns ``(bytes, "")`` or ``(None, reason)``.
    """
    if "\\" in body and "\\u" not in body and _VALID_STRING_RE.match(body):
        # Fast path for long data strings: every escape is valid and none is \u{...},
        # so rewrite them into Python's escapes and let the C codec decode them.
        # "\\" pairs first (left to right, as escapes are read): then every backslash
        # starts an escape, the named ones become \hh too, and \hh becomes Python's \xhh.
        py = body.replace("\\\\", "\\5c")
        for named, hexa in _NAMED_AS_HEX:
            if named in py:
                py = py.replace(named, hexa)
        py = py.replace("\\", "\\x")
        try:
            # typeshed says str; CPython (and PyPy) return bytes.
            decoded = cast(bytes, codecs.escape_decode(py.encode("utf-8"))[0])
            return decoded, ""
        except UnicodeEncodeError:
            return None, "malformed UTF-8 encoding"
    if _BAD_CHAR_RE.search(body):
        return None, "illegal control character in string literal"
    if "\\" not in body:
        try:
            return body.encode("utf-8"), ""
        except UnicodeEncodeError:   # lone surrogates from undecodable input bytes
            return None, "malformed UTF-8 encoding"
    out = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        try:
            out += body[pos:m.start()].encode("utf-8")
        except UnicodeEncodeError:
            return None, "malformed UTF-8 encoding"
        pos = m.end()
        if m.group(1) is not None:
            cp = int(m.group(1).replace("_", ""), 16)
            if cp >= 0x110000 or 0xD800 <= cp < 0xE000:
                return None, "malformed UTF-8 encoding"
            out += chr(cp).encode("utf-8")
        elif m.group(2) is not None:
            out.append(int(m.group(2), 16))
        else:
            esc = _SIMPLE_ESCAPES.get(m.group(3))
            if esc is None:
                return None, "illegal escape"
            out += esc
    try:
        out += body[pos:].encode("utf-8")
    except UnicodeEncodeError:
        return None, "malformed UTF-8 encoding"
    return bytes(out), ""
