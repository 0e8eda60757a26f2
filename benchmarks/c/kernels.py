"""The compute kernels of kernels.c written directly in Python: the reference for how fast
CPython itself runs the same algorithms, with no Wasm in between.

    python benchmarks/c/kernels.py NAME N        # prints what `kernels NAME N` prints

benchmarks/suite.py runs it next to purewasm as the engine "Python by hand": its CPU time
per *Wasm* instruction of the C kernel at the same N says how far a translator to Python
could at best get on this interpreter (it cannot beat the Python a person would write for
the same algorithm), i.e. the floor under purewasm's ratios to wasmtime.

Each function follows its C counterpart statement by statement (same algorithm, same
order of floating-point operations, same output), in the plain style a Python programmer
would use: local variables, lists for arrays, ints masked to their C width where C wraps.
The one liberty: arrays are Python lists of numbers, not bytes in a linear memory.
``sort`` is the algorithm behind the C ``qsort`` of this build (zig cc's libc:
std.sort.pdq, pattern-defeating quicksort, through a comparator function), ported as is,
so that it makes the same comparator calls.
"""
from __future__ import annotations

import struct
import sys
from typing import Callable, List

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF

K = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
     0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
     0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
     0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
     0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
     0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
     0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
     0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
     0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
     0xc67178f2]


def sha256_block(h: List[int], buf: bytes, p: int) -> None:
    w = [0] * 64
    for i in range(16):
        q = p + 4 * i
        w[i] = buf[q] << 24 | buf[q + 1] << 16 | buf[q + 2] << 8 | buf[q + 3]
    for i in range(16, 64):
        x = w[i - 15]
        y = w[i - 2]
        s0 = ((x >> 7) | (x << 25)) ^ ((x >> 18) | (x << 14)) ^ (x >> 3)
        s1 = ((y >> 17) | (y << 15)) ^ ((y >> 19) | (y << 13)) ^ (y >> 10)
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        t1 = (hh + ((((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21))
                     ^ ((e >> 25) | (e << 7))) & M32)
              + ((e & f) ^ (~e & g)) + K[i] + w[i]) & M32
        t2 = (((((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10)))
               & M32) + ((a & b) ^ (a & c) ^ (b & c)))
        hh = g
        g = f
        f = e
        e = (d + t1) & M32
        d = c
        c = b
        b = a
        a = (t1 + t2) & M32
    for i, v in enumerate((a, b, c, d, e, f, g, hh)):
        h[i] = (h[i] + v) & M32


def sha256(kib: int) -> int:
    buf = bytes((i * 7 + 1) & 0xFF for i in range(1024))
    h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
         0x5be0cd19]
    for _ in range(kib):
        for j in range(0, 1024, 64):
            sha256_block(h, buf, j)
    return h[0] ^ h[7]


def matmul(n: int) -> float:
    a = [(i % 17) * 0.5 for i in range(n * n)]
    b = [(i % 13) * 0.25 for i in range(n * n)]
    c = [0.0] * (n * n)
    for i in range(n):
        row = i * n
        for k in range(n):
            aik = a[row + k]
            col = k * n
            for j in range(n):
                c[row + j] += aik * b[col + j]
    s = 0.0
    for v in c:        # in order, as C does (sum() compensates on 3.12+)
        s += v
    return s


def matmul_bytes(n: int) -> float:
    """matmul with its arrays in one bytearray read and written through struct, as a
    Wasm runtime in Python must keep linear memory (byte-addressed, any alignment): not a
    suite kernel; ``kernels.py matmul-bytes N`` shows what that memory model costs by
    itself (no 32-bit wrap-around, no masks here)."""
    f64 = struct.Struct("<d")
    load, store = f64.unpack_from, f64.pack_into
    mem = bytearray(8 * 3 * n * n)
    a, b, c = 0, 8 * n * n, 16 * n * n
    for i in range(n * n):
        store(mem, a + 8 * i, (i % 17) * 0.5)
        store(mem, b + 8 * i, (i % 13) * 0.25)
    for i in range(n):
        for k in range(n):
            aik = load(mem, a + 8 * (i * n + k))[0]
            pc = c + 8 * i * n
            pb = b + 8 * k * n
            for _ in range(n):
                store(mem, pc, load(mem, pc)[0] + aik * load(mem, pb)[0])
                pc += 8
                pb += 8
    s = 0.0
    for i in range(n * n):
        s += load(mem, c + 8 * i)[0]
    return s


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def cmp_u32(x: int, y: int) -> int:
    return (x > y) - (x < y)


class _Context:
    """std.sort's context for C's qsort: items compared through the comparator."""

    def __init__(self, items: List[int], compare: Callable[[int, int], int]) -> None:
        self.items = items
        self.compare = compare

    def less(self, a: int, b: int) -> bool:
        items = self.items
        return self.compare(items[a], items[b]) < 0

    def swap(self, a: int, b: int) -> None:
        items = self.items
        items[a], items[b] = items[b], items[a]


def _insertion(a: int, b: int, cx: _Context) -> None:
    i = a + 1
    while i < b:
        j = i
        while j > a and cx.less(j, j - 1):
            cx.swap(j, j - 1)
            j -= 1
        i += 1


def _unguarded_insertion(a: int, b: int, cx: _Context) -> None:
    i = a + 1
    while i < b:
        j = i
        while cx.less(j, j - 1):
            cx.swap(j, j - 1)
            j -= 1
        i += 1


def _sift_down(a: int, target: int, b: int, cx: _Context) -> None:
    cur = target
    while True:
        child = (cur - a) * 2 + a + 1
        if not child < b:
            break
        if child + 1 < b and cx.less(child, child + 1):
            child += 1
        if cx.less(child, cur):
            break
        cx.swap(child, cur)
        cur = child


def _heap(a: int, b: int, cx: _Context) -> None:
    i = a + (b - a) // 2
    while i > a:
        i -= 1
        _sift_down(a, i, b, cx)
    i = b
    while i > a:
        i -= 1
        cx.swap(a, i)
        _sift_down(a, a, i, cx)


def _partition(a: int, b: int, pivot: int, cx: _Context) -> "tuple[int, bool]":
    """Block partition (BlockQuicksort) around items[pivot]: (pivot's place, whether the
    range was already partitioned)."""
    cx.swap(a, pivot)
    i = a + 1
    j = b - 1
    while i <= j and cx.less(i, a):
        i += 1
    while i <= j and not cx.less(j, a):
        j -= 1
    if i > j:
        cx.swap(j, a)
        return j, True
    cx.swap(i, j)
    i += 1
    j -= 1
    block = 64
    offsets_l = [0] * block
    offsets_r = [0] * block
    l_base = i
    r_base = j
    num_l = num_r = start_l = start_r = 0
    while i <= j:
        unknown = j + 1 - i
        left_split = min(block, unknown // 2 if num_r == 0 else unknown) if num_l == 0 else 0
        right_split = min(block, unknown - left_split) if num_r == 0 else 0
        for k in range(left_split):
            offsets_l[num_l] = k
            num_l += not cx.less(i + k, a)
        i += left_split
        for k in range(right_split):
            offsets_r[num_r] = k
            num_r += cx.less(j - k, a)
        j -= right_split
        num = min(num_l, num_r)
        for m in range(num):
            cx.swap(l_base + offsets_l[start_l + m], r_base - offsets_r[start_r + m])
        num_l -= num
        num_r -= num
        start_l += num
        start_r += num
        if num_l == 0:
            start_l = 0
            l_base = i
        if num_r == 0:
            start_r = 0
            r_base = j
    if num_l > 0:
        while num_l > 0:
            num_l -= 1
            cx.swap(l_base + offsets_l[start_l + num_l], j)
            j -= 1
        i = j + 1
    if num_r > 0:
        while num_r > 0:
            num_r -= 1
            cx.swap(r_base - offsets_r[start_r + num_r], i)
            i += 1
        j = i - 1
    cx.swap(j, a)
    return j, False


def _partition_equal(a: int, b: int, pivot: int, cx: _Context) -> int:
    cx.swap(a, pivot)
    i = a + 1
    j = b - 1
    while True:
        while i <= j and not cx.less(a, i):
            i += 1
        while i <= j and cx.less(a, j):
            j -= 1
        if i > j:
            break
        cx.swap(i, j)
        i += 1
        j -= 1
    return i


def _partial_insertion(a: int, b: int, cx: _Context) -> bool:
    i = a + 1
    for _ in range(5):
        while i < b and not cx.less(i, i - 1):
            i += 1
        if i == b:
            return True
        if b - a < 50:
            return False
        cx.swap(i, i - 1)
        if i - a >= 2:
            j = i - 1
            while j > a:
                if not cx.less(j, j - 1):
                    break
                cx.swap(j, j - 1)
                j -= 1
        if b - i >= 2:
            j = i + 1
            while j < b:
                if not cx.less(j, j - 1):
                    break
                cx.swap(j, j - 1)
                j += 1
    return False


def _break_patterns(a: int, b: int, cx: _Context) -> None:
    length = b - a
    if length < 8:
        return
    rand = length
    modulus = 1 << (length - 1).bit_length()
    i = a + (length // 4) * 2 - 1
    while i <= a + (length // 4) * 2 + 1:
        rand ^= (rand << 13) & M64
        rand ^= rand >> 7
        rand ^= (rand << 17) & M64
        other = rand & (modulus - 1)
        if other >= length:
            other -= length
        cx.swap(i, a + other)
        i += 1


def _sort3(a: int, b: int, c: int, cx: _Context) -> int:
    swaps = 0
    if cx.less(b, a):
        swaps += 1
        cx.swap(b, a)
    if cx.less(c, b):
        swaps += 1
        cx.swap(c, b)
    if cx.less(b, a):
        swaps += 1
        cx.swap(b, a)
    return swaps


INCREASING, DECREASING, UNKNOWN = range(3)


def _choose_pivot(a: int, b: int, cx: _Context) -> "tuple[int, int]":
    length = b - a
    i = a + length // 4
    j = a + length // 4 * 2
    k = a + length // 4 * 3
    swaps = 0
    if length >= 8:
        if length >= 50:
            swaps += _sort3(i - 1, i, i + 1, cx)
            swaps += _sort3(j - 1, j, j + 1, cx)
            swaps += _sort3(k - 1, k, k + 1, cx)
        swaps += _sort3(i, j, k, cx)
    return j, INCREASING if swaps == 0 else DECREASING if swaps == 12 else UNKNOWN


def pdq_sort(a: int, b: int, cx: _Context) -> None:
    """std.sort.pdqContext (zig 0.15), statement by statement."""
    max_limit = (b - a).bit_length() - 1 if b > a else 0
    stack = []
    ra, rb, limit, leftmost, balanced, partitioned = a, b, max_limit, True, True, True
    while True:
        while True:
            length = rb - ra
            if length <= 24:
                if leftmost:
                    _insertion(ra, rb, cx)
                else:
                    _unguarded_insertion(ra, rb, cx)
                break
            if limit == 0:
                _heap(ra, rb, cx)
                break
            if not balanced:
                _break_patterns(ra, rb, cx)
                limit -= 1
            pivot, hint = _choose_pivot(ra, rb, cx)
            if hint == DECREASING:
                i, j = ra, rb - 1
                while i < j:
                    cx.swap(i, j)
                    i += 1
                    j -= 1
                pivot = (rb - 1) - (pivot - ra)
                hint = INCREASING
            if balanced and partitioned and hint == INCREASING:
                if _partial_insertion(ra, rb, cx):
                    break
            if ra > a and not cx.less(ra - 1, pivot):
                ra = _partition_equal(ra, rb, pivot, cx)
                continue
            mid, was_partitioned = _partition(ra, rb, pivot, cx)
            left_len = mid - ra
            right_len = rb - (mid + 1)
            left_is_smaller = left_len < right_len
            was_balanced = (left_len if left_is_smaller else right_len) >= length // 8
            if left_is_smaller:
                stack.append((mid + 1, rb, limit, False, was_balanced, was_partitioned))
                rb = mid
            else:
                stack.append((ra, mid, limit, leftmost, was_balanced, was_partitioned))
                ra = mid + 1
                leftmost = False
            balanced = True
            partitioned = was_partitioned
        if not stack:
            break
        ra, rb, limit, leftmost, balanced, partitioned = stack.pop()


def sort(n: int) -> int:
    v = [0] * n
    x = 12345
    for i in range(n):
        x ^= (x << 13) & M32
        x ^= x >> 17
        x ^= (x << 5) & M32
        v[i] = x
    pdq_sort(0, n, _Context(v, cmp_u32))
    s = 0
    for i in range(n):
        s = (s * 31 + v[i]) & M32
    return s


PUSH, ADD, SUB, MUL, DUP, SWAP, JNZ, DEC, POP, HALT, XOR, SHR = range(12)


def vm(n: int) -> int:
    prog = [HALT, HALT, HALT, HALT,
            SWAP, PUSH, 7, MUL, PUSH, 3, ADD, DUP, PUSH, 11, SHR, XOR, SWAP,
            DEC, DUP, JNZ, 4, POP, HALT]
    st = [0] * 16
    sp = 0
    st[sp] = 1
    sp += 1
    st[sp] = n & M32
    sp += 1
    pc = 4
    while True:
        op = prog[pc]
        pc += 1
        if op == PUSH:
            st[sp] = prog[pc] & M32
            sp += 1
            pc += 1
        elif op == ADD:
            sp -= 1
            st[sp - 1] = (st[sp - 1] + st[sp]) & M32
        elif op == SUB:
            sp -= 1
            st[sp - 1] = (st[sp - 1] - st[sp]) & M32
        elif op == MUL:
            sp -= 1
            st[sp - 1] = (st[sp - 1] * st[sp]) & M32
        elif op == DUP:
            st[sp] = st[sp - 1]
            sp += 1
        elif op == SWAP:
            st[sp - 1], st[sp - 2] = st[sp - 2], st[sp - 1]
        elif op == JNZ:
            target = prog[pc]
            pc += 1
            sp -= 1
            if st[sp]:
                pc = target
        elif op == DEC:
            st[sp - 1] = (st[sp - 1] - 1) & M32
        elif op == POP:
            sp -= 1
        elif op == XOR:
            sp -= 1
            st[sp - 1] ^= st[sp] ^ ((st[sp - 1] << 5) & M32)
        elif op == SHR:
            sp -= 1
            st[sp - 1] = (st[sp - 1] >> (st[sp] & 31)) | ((st[sp - 1] << 3) & M32)
        elif op == HALT:
            return st[sp - 1]


def xorshift(n: int) -> int:
    x = 88172645463325252
    s = 0
    for _ in range(n):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        s = (s + x * 0x9E3779B97F4A7C15) & M64
    return s


# name -> (function of N, the format of its result in the C program's output line)
KERNELS = {"sha256": (sha256, "%d"), "matmul": (matmul, "%.6f"),
           "matmul-bytes": (matmul_bytes, "%.6f"), "fib": (fib, "%d"), "sort": (sort, "%d"),
           "vm": (vm, "%d"), "xorshift": (xorshift, "%d")}


def main(argv: List[str]) -> int:
    if len(argv) < 3 or argv[1] not in KERNELS:
        sys.stderr.write("usage: kernels.py NAME N (NAME: %s)\n" % ", ".join(KERNELS))
        return 2
    fn, fmt = KERNELS[argv[1]]
    # matmul-bytes prints as matmul: the same kernel, another memory model.
    print(("%s " + fmt) % (argv[1].split("-")[0], fn(int(argv[2]))))
    return 0


if __name__ == "__main__":
    sys.setrecursionlimit(100000)
    sys.exit(main(sys.argv))
