"""A random generator of Wasm text aimed at the translator's weak spots (issue 7).

``wasm-tools smith`` writes random instruction streams: most values it produces go
through arithmetic before they reach a consumer, and most of its runs trap early (loads
out of bounds, fuel). The miscompile that made dlmalloc loop forever needed a value made
by an *effect* (a load, a call) at the end of one arm of an ``if``/``block`` and consumed
straight away by ``local.set``/``local.tee``/``global.set``/a store/a call. This generator
writes exactly such programs, type-directed so that they are valid, trap-free (loads and
stores are masked into the one page; no division) and terminating (every loop counts down
a counter local of its own; a function calls only functions after it): every call runs
to its end, so every miscompiled value reaches the compared results or memory.

Shapes: if/else with results, blocks left by ``br_if``/``br``/``br_table`` carrying values,
multi-value blocks and calls, blocks with parameters, counted loops with results,
``local.tee`` chains, ``select``, loads and calls at the end of arms, stores and global
sets of block values, ``call_indirect``. Few locals, so the same local is set on many
paths. Integers only (i32, i64): floats and their NaNs are smith's business.
"""
from __future__ import annotations

import random
from typing import List, Sequence, Tuple

TYPES = ("i32", "i64")
_BIN = {"i32": ["add", "sub", "mul", "xor", "and", "or", "shl", "shr_u", "shr_s", "rotl"],
        "i64": ["add", "sub", "mul", "xor", "and", "or", "shl", "shr_u", "rotr"]}
_CMP = ["eq", "ne", "lt_u", "lt_s", "gt_u", "ge_s", "le_u"]


class _Func:
    def __init__(self, index: int, params: Tuple[str, ...], results: Tuple[str, ...],
                 locals_: Tuple[str, ...]) -> None:
        self.index = index
        self.params = params
        self.results = results
        self.locals = locals_

    def sig(self) -> str:
        p = "".join(" (param %s)" % t for t in self.params)
        r = "".join(" (result %s)" % t for t in self.results)
        return p + r


class Gen:
    def __init__(self, seed: int, n_funcs: int = 4, depth: int = 5, budget: int = 60,
                 typed: bool = False) -> None:
        self.r = random.Random(seed)
        # typed: also typed function references (Wasm 3.0): call_ref on references made by
        # ref.func and passed through br_on_non_null / ref.as_non_null, and br_on_null.
        self.typed = typed
        self.max_depth = depth
        self.max_budget = budget
        self.funcs: List[_Func] = []
        for i in range(n_funcs):
            params = tuple(self.r.choice(TYPES) for _ in range(self.r.randint(0, 3)))
            results = tuple(self.r.choice(TYPES) for _ in range(self.r.choice((0, 1, 1, 1, 2))))
            locals_ = tuple(self.r.choice(TYPES) for _ in range(self.r.randint(1, 3)))
            self.funcs.append(_Func(i, params, results, locals_))
        self.cur: _Func = self.funcs[0]
        self.counters = 0          # counter locals used by the current function's loops
        self.loop_depth = 0
        self.budget = 0

    # --- helpers --------------------------------------------------------------------

    def _vars(self, t: str) -> List[int]:
        all_ = self.cur.params + self.cur.locals
        return [i for i, u in enumerate(all_) if u == t]

    def _callees(self, results: Sequence[str]) -> List[_Func]:
        return [f for f in self.funcs[self.cur.index + 1:] if f.results == tuple(results)]

    def _const(self, t: str) -> str:
        v = self.r.choice([0, 1, 2, 3, 5, 100, -1, 0x7FFFFFFF, -0x80000000,
                           self.r.getrandbits(31)])
        if t == "i64" and self.r.random() < 0.3:
            v = self.r.choice([1 << 40, -(1 << 63), (1 << 63) - 1, self.r.getrandbits(63)])
        return "%s.const %d" % (t, v)

    def _addr(self, d: int) -> List[str]:
        return self.expr("i32", d + 1) + ["i32.const 4095", "i32.and"]

    # --- expressions: leave one value of type t ---------------------------------------

    def expr(self, t: str, d: int = 0) -> List[str]:
        self.budget -= 1
        if d > self.max_depth or self.budget <= 0:
            return self.leaf(t)
        k = self.r.randrange(19)
        if k == 0:
            return self.leaf(t)
        if k == 1:
            op = self.r.choice(_BIN[t])
            return self.expr(t, d + 1) + self.expr(t, d + 1) + ["%s.%s" % (t, op)]
        if k == 2:   # a load (an effect) as the value
            w = self.r.choice(["load", "load8_u", "load16_s"] +
                              (["load32_u"] if t == "i64" else []))
            return self._addr(d) + ["%s.%s offset=%d" % (t, w, self.r.choice((0, 4, 8, 13)))]
        if k == 3:
            callees = self._callees([t])
            if callees:
                f = self.r.choice(callees)
                args: List[str] = []
                for p in f.params:
                    args += self.expr(p, d + 1)
                if self.typed and self.r.random() < 0.5:
                    return args + self._typed_ref(f) + ["call_ref $t%d" % f.index]
                if self.r.random() < 0.3:
                    return args + ["i32.const %d" % f.index,
                                   "call_indirect (type $t%d)" % f.index]
                return args + ["call %d" % f.index]
            return self.leaf(t)
        if k == 4:
            vs = self._vars(t)
            if vs:
                return self.expr(t, d + 1) + ["local.tee %d" % self.r.choice(vs)]
            return self.leaf(t)
        if k == 5 or k == 6:   # if/else with a result; arms may end with effects
            return self.cond(d) + ["if (result %s)" % t] + self.arm(t, d) + ["else"] + \
                self.arm(t, d) + ["end"]
        if k == 7:   # block left by br_if carrying a value
            out = ["block (result %s)" % t] + self.stmts(d + 1) + self.expr(t, d + 1) + \
                self.cond(d) + ["br_if 0"]
            if self.r.random() < 0.5:
                out += ["drop"] + self.arm(t, d)
            return out + ["end"]
        if k == 8:   # br_table carrying a value
            n = self.r.randint(1, 3)
            labels = " ".join(str(self.r.randint(0, n)) for _ in range(self.r.randint(0, 3)))
            out = ["block (result %s)" % t] * (n + 1) + self.expr(t, d + 1) + \
                self.expr("i32", d + 1) + ["br_table %s %d" % (labels, self.r.randint(0, n))]
            for _ in range(n):
                out += ["end"] + self.expr(t, d + 1) + ["%s.%s" % (t, self.r.choice(_BIN[t]))]
            return out + ["end"]
        if k == 9:   # multi-value block, combined
            return ["block (result %s %s)" % (t, t)] + self.arm(t, d) + self.arm(t, d) + \
                ["end", "%s.%s" % (t, self.r.choice(_BIN[t]))]
        if k == 10:  # block with parameters
            return self.expr(t, d + 1) + self.expr(t, d + 1) + \
                ["block (param %s %s) (result %s)" % (t, t, t)] + \
                (["%s.%s" % (t, self.r.choice(_BIN[t]))] if self.r.random() < 0.5 else
                 ["drop"]) + ["end"]
        if k == 11 and self.loop_depth < 2 and self.counters < 2:   # counted loop
            c = len(self.cur.params) + len(self.cur.locals) + self.counters
            self.counters += 1
            self.loop_depth += 1
            out = ["i32.const %d" % self.r.randint(1, 3), "local.set %d" % c,
                   "loop (result %s)" % t] + self.stmts(d + 1) + \
                ["local.get %d" % c, "i32.const 1", "i32.sub", "local.tee %d" % c,
                 "br_if 0"] + self.arm(t, d) + ["end"]
            self.loop_depth -= 1
            return out
        if k == 12:
            return self.expr(t, d + 1) + self.expr(t, d + 1) + self.cond(d) + ["select"]
        if k == 13:  # br out of a then-arm with the value
            return ["block (result %s)" % t] + self.cond(d) + ["if"] + self.expr(t, d + 1) + \
                ["br 1", "end"] + self.arm(t, d) + ["end"]
        if k == 15:  # br_if to an outer block, carrying a value across levels
            n = self.r.randint(1, 3)
            out = ["block (result %s)" % t] * (n + 1) + self.stmts(d + 1) + \
                self.arm(t, d) + self.cond(d) + ["br_if %d" % self.r.randint(0, n)]
            for _ in range(n):
                out += ["end"] + self.expr(t, d + 1) + ["%s.%s" % (t, self.r.choice(_BIN[t]))]
            return out + ["end"]
        if k == 16 and self.loop_depth < 2 and self.counters < 2:
            # loop with a parameter: br_if carries the value back to the loop's start
            c = len(self.cur.params) + len(self.cur.locals) + self.counters
            self.counters += 1
            self.loop_depth += 1
            out = self.expr(t, d + 1) + ["i32.const %d" % self.r.randint(1, 3),
                                         "local.set %d" % c,
                                         "loop (param %s) (result %s)" % (t, t)] + \
                self.expr(t, d + 1) + ["%s.%s" % (t, self.r.choice(_BIN[t]))] + \
                self.stmts(d + 1) + ["local.get %d" % c, "i32.const 1", "i32.sub",
                                     "local.tee %d" % c, "br_if 0", "end"]
            self.loop_depth -= 1
            return out
        if k == 17:  # if with a parameter
            return self.arm(t, d) + self.cond(d) + \
                ["if (param %s) (result %s)" % (t, t)] + self.expr(t, d + 1) + \
                ["%s.%s" % (t, self.r.choice(_BIN[t])), "else", "drop"] + \
                self.arm(t, d) + ["end"]
        if k == 18 and self.cur.results == (t,):  # return from inside a block
            return ["block (result %s)" % t] + self.cond(d) + ["if"] + self.arm(t, d) + \
                ["return", "end"] + self.arm(t, d) + ["end"]
        if k == 14 and t == "i64":
            return self.expr("i32", d + 1) + [self.r.choice(["i64.extend_i32_u",
                                                              "i64.extend_i32_s"])]
        if k == 14:
            return self.expr("i64", d + 1) + ["i32.wrap_i64"]
        return self.leaf(t)

    def _typed_ref(self, f: _Func) -> List[str]:
        """A (ref $tF) to function F, made in one of the ways compilers and the typed
        instructions allow (each one non-null, so that the program stays trap-free)."""
        k = self.r.randrange(3)
        if k == 0:
            return ["ref.func %d" % f.index]
        if k == 1:    # through a nullable local slot of the stack, then ref.as_non_null
            return ["block (result (ref null $t%d))" % f.index, "ref.func %d" % f.index,
                    "end", "ref.as_non_null"]
        return ["block (result (ref $t%d))" % f.index,       # br_on_non_null always taken
                "block (result (ref null $t%d))" % f.index, "ref.func %d" % f.index, "end",
                "br_on_non_null 0", "unreachable", "end"]

    def arm(self, t: str, d: int) -> List[str]:
        """Statements then a value, often an effect (load or call) as the last thing."""
        out = self.stmts(d + 1) if self.r.random() < 0.4 else []
        if self.r.random() < 0.4:
            return out + self._addr(d) + ["%s.load offset=%d" % (t, self.r.choice((0, 8)))]
        return out + self.expr(t, d + 1)

    def leaf(self, t: str) -> List[str]:
        k = self.r.randrange(4)
        vs = self._vars(t)
        if k < 2 and vs:
            return ["local.get %d" % self.r.choice(vs)]
        if k == 2:
            return ["global.get %d" % (0 if t == "i32" else 2)]
        return [self._const(t)]

    def cond(self, d: int) -> List[str]:
        if self.r.random() < 0.5:
            t = self.r.choice(TYPES)
            return self.expr(t, d + 2) + self.expr(t, d + 2) + \
                ["%s.%s" % (t, self.r.choice(_CMP))]
        return self.expr("i32", d + 2)

    # --- statements ----------------------------------------------------------------

    def stmts(self, d: int) -> List[str]:
        out: List[str] = []
        for _ in range(self.r.randint(0, 3 if d < 3 else 1)):
            out += self.stmt(d)
        return out

    def stmt(self, d: int) -> List[str]:
        self.budget -= 1
        k = self.r.randrange(10 if self.typed else 9)
        t = self.r.choice(TYPES)
        if d > self.max_depth or self.budget <= 0:
            k = 0
        if k <= 1:
            vs = self._vars(t)
            if vs:
                return self.expr(t, d) + ["local.set %d" % self.r.choice(vs)]
            return self.expr(t, d) + ["drop"]
        if k == 2:
            g = self.r.choice((0, 1)) if t == "i32" else 2
            return self.expr(t, d) + ["global.set %d" % g]
        if k == 3:
            w = self.r.choice(["store", "store8", "store16"])
            return self._addr(d) + self.expr(t, d) + \
                ["%s.%s offset=%d" % (t, w, self.r.choice((0, 4, 8)))]
        if k == 4:
            return self.cond(d) + ["if"] + self.stmts(d + 1) + ["else"] + \
                self.stmts(d + 1) + ["end"]
        if k == 5:   # two values of a multi-value block into locals
            a, b = self.r.choice(TYPES), self.r.choice(TYPES)
            va, vb = self._vars(a), self._vars(b)
            if va and vb:
                return ["block (result %s %s)" % (a, b)] + self.arm(a, d) + self.arm(b, d) + \
                    ["end", "local.set %d" % self.r.choice(vb),
                     "local.set %d" % self.r.choice(va)]
            return []
        if k == 9:   # br_on_null on a null or a non-null reference, with a value across
            f = self.r.choice(self.funcs)
            ref = "ref.null $t%d" % f.index if self.r.random() < 0.5 else \
                "ref.func %d" % f.index
            vs = self._vars(t)
            if vs:
                return ["block (result %s)" % t] + self.expr(t, d + 1) + \
                    [ref, "br_on_null 0", "drop"] + self.stmts(d + 1) + \
                    ["end", "local.set %d" % self.r.choice(vs)]
            return ["block", ref, "br_on_null 0", "drop", "end"]
        if k == 6:
            callees = self._callees(())
            if callees:
                f = self.r.choice(callees)
                out: List[str] = []
                for p in f.params:
                    out += self.expr(p, d + 1)
                return out + ["call %d" % f.index]
            return []
        if k == 7:
            return ["block"] + self.stmts(d + 1) + self.cond(d) + ["br_if 0"] + \
                self.stmts(d + 1) + ["end"]
        return self.expr(t, d) + ["drop"]

    # --- the module -------------------------------------------------------------------

    def module(self) -> str:
        lines = ["(module"]
        for f in self.funcs:
            lines.append("  (type $t%d (func%s))" % (f.index, f.sig()))
        lines.append("  (memory (export \"mem\") 1)")
        lines.append("  (global (export \"g0\") (mut i32) (i32.const 7))")
        lines.append("  (global (export \"g1\") (mut i32) (i32.const 0))")
        lines.append("  (global (export \"g2\") (mut i64) (i64.const -3))")
        lines.append("  (table %d funcref)" % len(self.funcs))
        lines.append("  (elem (i32.const 0) func %s)" % " ".join(
            str(f.index) for f in self.funcs))
        data = bytes(self.r.getrandbits(8) for _ in range(64))
        lines.append("  (data (i32.const 0) \"%s\")" % "".join("\\%02x" % b for b in data))
        for f in self.funcs:
            self.cur = f
            self.counters = 0
            self.loop_depth = 0
            self.budget = self.max_budget
            body = self.stmts(0)
            for t in f.results:
                body += self.expr(t, 1)
            counters = " (local i32 i32)"
            locs = "".join(" (local %s)" % t for t in f.locals)
            lines.append("  (func (export \"f%d\") (type $t%d)%s%s" % (
                f.index, f.index, locs, counters))
            lines += ["    " + ins for ins in body]
            lines.append("  )")
        lines.append(")")
        return "\n".join(lines)


def generate_wat(seed: int, n_funcs: int = 4, depth: int = 5, budget: int = 60,
                 typed: bool = False) -> str:
    return Gen(seed, n_funcs, depth, budget, typed).module()
