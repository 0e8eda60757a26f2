"""Random hash-like code for the shapes of i32 rotations and sums (CPython shapes,
compile/ops_numeric.py): several constant rotations of one local read one pair
``x | x << 32`` (doubled_rotations), sums of two values are reduced with ``%`` unless
one is a hash's (ranges.LocalBits.scrambled), base + index * size with ``%``.

Each generated function mixes four locals with rotations, xors, sums, products and
constants, assigns them in between (with local.tee too), inside ``if`` arms and in a
counted loop; it runs in every lowering and must give what a plain Python evaluation of
the same statements gives, for edge and random arguments."""
from __future__ import annotations

import random
from typing import Callable, List, Tuple

import pytest

from compile_helpers import instance

M32 = 0xFFFFFFFF
NLOCALS = 4


def _rotl(x: int, k: int) -> int:
    k &= 31
    return ((x << k) | (x >> (32 - k))) & M32


Expr = Tuple[str, Callable[[List[int]], int]]


def _expr(rnd: random.Random, depth: int) -> Expr:
    """A random i32 expression over the locals: (its WAT, its value in Python)."""
    r = rnd.random()
    if depth <= 0 or r < 0.25:
        x = rnd.randrange(NLOCALS)
        if rnd.random() < 0.6:
            k = rnd.choice((1, 2, 6, 7, 11, 13, 17, 18, 19, 22, 25, 31, 32, 0))
            op = rnd.choice(("rotl", "rotr"))
            amount = k if op == "rotl" else 32 - k
            return ("local.get %d i32.const %d i32.%s" % (x, k, op),
                    lambda v, x=x, a=amount: _rotl(v[x], a))
        if rnd.random() < 0.2:
            c = rnd.choice((0, 1, 3, 0x9E3779B9, M32, 0x80000000))
            return "i32.const %d" % (c - (1 << 32) if c >> 31 else c), lambda v, c=c: c
        return "local.get %d" % x, lambda v, x=x: v[x]
    a_text, a = _expr(rnd, depth - 1)
    b_text, b = _expr(rnd, depth - 1)
    op = rnd.choice(("add", "add", "xor", "mul", "sub", "and", "or"))
    fn = {"add": lambda p, q: (p + q) & M32, "xor": lambda p, q: p ^ q,
          "mul": lambda p, q: (p * q) & M32, "sub": lambda p, q: (p - q) & M32,
          "and": lambda p, q: p & q, "or": lambda p, q: p | q}[op]
    return ("%s %s i32.%s" % (a_text, b_text, op),
            lambda v, a=a, b=b, fn=fn: fn(a(v), b(v)))


Stmt = Tuple[str, Callable[[List[int]], None]]


def _assign(rnd: random.Random) -> Stmt:
    x = rnd.randrange(NLOCALS)
    text, e = _expr(rnd, rnd.randint(1, 3))

    def run(v: List[int], x: int = x, e: Callable[[List[int]], int] = e) -> None:
        v[x] = e(v)
    if rnd.random() < 0.3:
        # local.tee, the value used once more right away: x + (x rotated)
        k = rnd.randrange(1, 32)
        y = rnd.randrange(NLOCALS)

        def run_tee(v: List[int], x: int = x, y: int = y, k: int = k,
                    e: Callable[[List[int]], int] = e) -> None:
            v[x] = e(v)
            v[y] = (v[x] + _rotl(v[x], k)) & M32
        return ("%s local.tee %d local.get %d i32.const %d i32.rotl i32.add local.set %d"
                % (text, x, x, k, y), run_tee)
    return "%s local.set %d" % (text, x), run


def _statements(rnd: random.Random, n: int, depth: int) -> List[Stmt]:
    out: List[Stmt] = []
    for _ in range(n):
        r = rnd.random()
        if depth > 0 and r < 0.15:
            c = rnd.randrange(NLOCALS)
            then = _statements(rnd, rnd.randint(1, 3), depth - 1)
            other = _statements(rnd, rnd.randint(0, 2), depth - 1)
            text = "local.get %d i32.const 1 i32.and if %s else %s end" % (
                c, " ".join(s for s, _ in then), " ".join(s for s, _ in other))

            def run_if(v: List[int], c: int = c, then: List[Stmt] = then,
                       other: List[Stmt] = other) -> None:
                for _, f in (then if v[c] & 1 else other):
                    f(v)
            out.append((text, run_if))
        elif depth > 0 and r < 0.25:
            body = _statements(rnd, rnd.randint(1, 3), depth - 1)
            count = rnd.randint(1, 5)
            # A counted loop on local 4 + depth (the locals 0..3 are the mixed state; a
            # nested loop counts on its own local).
            k = NLOCALS + depth
            text = ("i32.const %d local.set %d loop %s local.get %d i32.const 1 i32.sub "
                    "local.tee %d br_if 0 end" % (count, k, " ".join(s for s, _ in body),
                                                  k, k))

            def run_loop(v: List[int], body: List[Stmt] = body, count: int = count) -> None:
                for _ in range(count):
                    for _, f in body:
                        f(v)
            out.append((text, run_loop))
        else:
            out.append(_assign(rnd))
    return out


def _function(seed: int) -> Tuple[str, Callable[[int, int], int]]:
    rnd = random.Random(seed)
    stmts = _statements(rnd, rnd.randint(3, 10), 2)
    text = """(module (func (export "f") (param i32 i32) (result i32) (local i32 i32 i32 i32 i32)
      %s
      local.get 0 local.get 1 i32.xor local.get 2 i32.add local.get 3 i32.xor))""" % (
        "\n      ".join(s for s, _ in stmts))

    def ref(a: int, b: int) -> int:
        v = [a, b, 0, 0]
        for _, f in stmts:
            f(v)
        return (((v[0] ^ v[1]) + v[2]) & M32) ^ v[3]
    return text, ref


ARGS = [(0, 0), (1, 2), (M32, M32), (0x80000000, 0x7FFFFFFF), (0x6A09E667, 0xBB67AE85)]


@pytest.mark.parametrize("chunk", range(4))
def test_random_hash_code_matches_python(chunk: int) -> None:
    rnd = random.Random(1000 + chunk)
    for seed in range(chunk * 40, chunk * 40 + 40):
        text, ref = _function(seed)
        args = ARGS + [(rnd.getrandbits(32), rnd.getrandbits(32)) for _ in range(3)]
        want = [ref(a, b) for a, b in args]
        for mode in (None, "flat", "metered"):
            f = instance(text, mode=mode).func("f")
            got = [f(a, b) for a, b in args]
            assert got == want, (seed, mode, text)


def test_generator_makes_paired_rotations() -> None:
    # The property above proves little unless the shapes under test are made.
    paired = sums = 0
    for seed in range(40):
        src = instance(_function(seed)[0]).compiled.source(0)
        paired += src.count("* 4294967297")
        sums += src.count("% 4294967296)")
    from purewasm.compile.entries import CPYTHON_SHAPES
    if CPYTHON_SHAPES:
        assert paired >= 20 and sums >= 10, (paired, sums)
