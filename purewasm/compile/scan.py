"""The pre-scan of a function body: which labels are branched to (and from where), which
``if`` has an ``else``, the shapes the structured lowering handles without a Python loop
(switch chains, a block around a loop, forward blocks), and how deeply the structured
lowering would nest, which decides the lowering (control.py)."""
from __future__ import annotations

import sys
from typing import Dict, List, Optional, Sequence, Tuple

from purewasm.opcodes import BLOCK_OPENERS
from purewasm.syntax import Instr

from .entries import CPYTHON_SHAPES

# CPython: at most 20 statically nested blocks (loops, and the try of a try_table), 21 on 3.13;
# PyPy has no such limit. If the estimate is ever wrong, compile() refuses the code and
# the function is lowered flat (compile.CompiledModule._compile).
MAX_PY_LOOPS = 20 if sys.implementation.name == "cpython" else 60
MAX_INDENT = 80         # CPython's tokenizer: at most 100 indentation levels
# Branches on a reference: br_on_null/br_on_non_null (label), br_on_cast/br_on_cast_fail
# (GC: (label, source type, target type)).
_NULL_BRANCHES = frozenset(("br_on_null", "br_on_non_null"))
_REF_BRANCHES = _NULL_BRANCHES | {"br_on_cast", "br_on_cast_fail"}
MAX_CHAIN = 64          # br_table switch chains lowered to sequential guards
# Instructions after which control never reaches the next one.
_TRANSFERS = frozenset(("br", "br_table", "return", "unreachable", "return_call",
                        "return_call_indirect", "return_call_ref", "throw", "throw_ref"))
MAX_FORWARD = 6         # br_if per block lowered to nested "if not c:" suites


class Scan:
    def __init__(self, body: Sequence[Instr]) -> None:
        self.targeted: set = set()
        self.has_else: set = set()
        self.refs: Dict[int, set] = {}       # opener -> branch instructions targeting it
        self.deep_refs: set = set()          # openers branched to from nested constructs
        self.end_of: Dict[int, int] = {}     # opener -> its end
        ctrl: List[int] = []
        for i, ins in enumerate(body):
            op = ins.op
            if op in BLOCK_OPENERS:
                if op == "try_table":
                    # Catch clauses branch (from the handler) to labels of the enclosing
                    # context: those labels need a real Python loop (or the function).
                    for _, _, d in ins.imm[1]:
                        if d < len(ctrl):
                            self.targeted.add(ctrl[-1 - d])
                            self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                            self.deep_refs.add(ctrl[-1 - d])
                ctrl.append(i)
            elif op == "end":
                if ctrl:
                    self.end_of[ctrl.pop()] = i
            elif op == "else":
                if ctrl:
                    self.has_else.add(ctrl[-1])
            elif op == "br" or op == "br_if":
                d = ins.imm
                if d < len(ctrl):
                    self.targeted.add(ctrl[-1 - d])
                    self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                    if d != 0:
                        self.deep_refs.add(ctrl[-1 - d])
            elif op in _REF_BRANCHES:
                # Typed references: a conditional branch whose target never gets the
                # forward-block or switch-chain shapes (counted as a deep reference).
                d = ins.imm if op in _NULL_BRANCHES else ins.imm[0]
                if d < len(ctrl):
                    self.targeted.add(ctrl[-1 - d])
                    self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                    self.deep_refs.add(ctrl[-1 - d])
            elif op == "br_table":
                labels, default = ins.imm
                for d in set(labels) | {default}:
                    if d < len(ctrl):
                        self.targeted.add(ctrl[-1 - d])
                        self.refs.setdefault(ctrl[-1 - d], set()).add(i)
                        self.deep_refs.add(ctrl[-1 - d])
        self.find_chains(body)
        self.find_shared(body)
        self.find_forward(body)
        # Nesting of the structured lowering.
        depth_loops = 0
        indent = 0
        self.max_loops = 0
        self.max_indent = 0
        stack: List[Tuple[int, int]] = []
        for i, ins in enumerate(body):
            op = ins.op
            if op in BLOCK_OPENERS:
                dl = 1 if i in self.targeted and i not in self.chain \
                    and i not in self.shared else 0
                if op == "try_table":
                    dl += 1     # its try statement is a nested block too
                # A switch chain's guards are sequential: one level for the whole chain
                # (a bisection: its depth).
                di = dl + (1 if op == "if" else 0)
                if i in self.chain and self.chain[i][2]:
                    var = self.chain[i][0]
                    fused = self.chain_fused.get(var)
                    leaves = len(fused[1]) if fused else self.chain_tree.get(var, 1)
                    di += max(1, leaves.bit_length())
                stack.append((dl, di))
                depth_loops += dl
                indent += di
                if depth_loops > self.max_loops:
                    self.max_loops = depth_loops
                if indent > self.max_indent:
                    self.max_indent = indent
            elif op == "end" and stack:
                dl, di = stack.pop()
                depth_loops -= dl
                indent -= di
            elif op == "br_table":
                n = len(set(ins.imm[0])) + 1
                extra = max(1, n.bit_length()) + 1
                if indent + extra > self.max_indent:
                    self.max_indent = indent + extra

    def find_chains(self, body: Sequence[Instr]) -> None:
        """The br_table switch idiom: blocks B_n ... B_0 opened one after the other, B_0's
        body ending with a br_table that is the only branch to any of them. Then code
        after the end of B_i runs when the case is <= i: a flat sequence of guarded
        suites, no Python loop at all (opener -> (chain variable, case, outermost))."""
        self.chain: Dict[int, Tuple[str, int, bool]] = {}
        # Chains whose case code all ends in a transfer: chain variable -> number of cases
        # (the outermost block's number, whose code is the continuation of all).
        self.chain_tree: Dict[str, int] = {}
        # Tree chains whose br_table the cases' bisection reads directly (fused_runs):
        # chain variable -> (the br_table's position, its runs).
        self.chain_fused: Dict[str, Tuple[int, List[Tuple[int, int]]]] = {}
        i = 0
        n = len(body)
        while i < n:
            if body[i].op != "block" or body[i].imm is not None:
                i += 1
                continue
            j = i
            while j + 1 < n and body[j + 1].op == "block" and body[j + 1].imm is None:
                j += 1
            inner = j
            end = self.end_of.get(inner)
            if end is not None and body[end - 1].op == "br_table":
                bt = end - 1
                k = inner
                while k >= i and self.refs.get(k, set()) <= {bt}:
                    k -= 1
                # Cases are tested in sequence: long chains go to the generic lowering
                # (or the flat one, which dispatches in O(log n)).
                first = max(k + 1, inner - MAX_CHAIN + 1)
                if first <= inner:
                    var = "_c%d" % first
                    for case, opener in enumerate(range(inner, first - 1, -1)):
                        self.chain[opener] = (var, case, opener == first)
                    # When no case's code falls into the next one, the cases are
                    # dispatched by bisection (O(log n) tests) instead of in sequence.
                    segment_ends = [self.end_of.get(opener, 0) - 1
                                    for opener in range(inner - 1, first - 1, -1)]
                    if CPYTHON_SHAPES and segment_ends and all(body[e].op in _TRANSFERS
                                                               for e in segment_ends):
                        self.chain_tree[var] = inner - first + 1
                        runs = fused_runs(body[bt].imm, inner - first + 1)
                        if runs is not None:
                            self.chain_fused[var] = (bt, runs)
            i = j + 1

    def find_shared(self, body: Sequence[Instr]) -> None:
        """``block (loop ... end) end``: a branch to the block leaves the loop's Python
        loop, so the block needs none of its own."""
        self.shared: set = set()
        for opener, end in self.end_of.items():
            nxt = opener + 1
            if (body[opener].op == "block" and body[opener].imm is None
                    and opener in self.targeted and opener not in self.chain
                    and nxt < len(body) and body[nxt].op == "loop"
                    and body[nxt].imm is None and nxt in self.targeted
                    and self.end_of.get(nxt) == end - 1):
                self.shared.add(opener)

    def find_forward(self, body: Sequence[Instr]) -> None:
        """A block (no params or results) whose branches are all br/br_if directly in
        its own body: each br_if becomes ``if not c:`` around the rest of the body, so
        the block needs no Python loop (opener -> number of br_if)."""
        self.forward: Dict[int, int] = {}
        for opener, refs in self.refs.items():
            if (body[opener].op == "block" and body[opener].imm is None
                    and opener not in self.deep_refs and opener not in self.chain
                    and opener not in self.shared):
                n = sum(1 for r in refs if body[r].op == "br_if")
                if n <= MAX_FORWARD:
                    self.forward[opener] = n

    def structured_ok(self) -> bool:
        # +4: br_if bodies and the escape dispatch after a loop nest a few more suites.
        return self.max_loops <= MAX_PY_LOOPS and self.max_indent + 4 <= MAX_INDENT


def fused_runs(table: Tuple[Sequence[int], int], n: int) -> Optional[List[Tuple[int, int]]]:
    """The runs of a switch chain's br_table (labels, default) when the bisection of the
    cases can test the table's index itself instead of a case variable set from it: the
    maximal runs of consecutive indexes with the same label, as (first index, label depth),
    the default's run last. Depths below ``n`` are the chain's blocks (case = depth), the
    others leave the chain. The bisection's leaves are the runs, in index order, and the
    code of case i is emitted in its leaf, so each case but the last (whose code follows
    the whole chain: its runs fall out of the tree) must have exactly one run, in
    increasing order; else None (a case variable, then a bisection of the cases)."""
    labels, default = table
    runs: List[Tuple[int, int]] = []
    for i, d in enumerate(list(labels) + [default]):
        if not runs or runs[-1][1] != d:
            runs.append((i, d))
    cases = [d for _, d in runs if d < n - 1]
    if cases != list(range(n - 1)):
        return None
    return runs
