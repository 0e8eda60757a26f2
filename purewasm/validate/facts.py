"""Per-function facts for the compiler, computed from an already *validated* body.

Validation itself stays lean (``func.py``); a compiler that translates functions lazily
asks for the facts of one function when it translates it::

    analyzer = FuncAnalyzer(module)         # once per module
    facts = analyzer.analyze(func_index)    # function index space (imports first)

What the facts say (positions are indexes into ``Func.body``):

* ``end_of[p]`` / ``else_of[p]``: for the ``block``/``loop``/``if`` at ``p``, the position
  of its ``end`` / ``else`` (structured control, spec 3.3.8).
* ``targets``: positions of the constructs that some *reachable* branch targets
  (``br``, ``br_if``, ``br_table``); ``-1`` stands for the function body itself (a branch
  to the outermost label is a return). A construct not in ``targets`` needs no Python
  loop/flag for branching: only fall-through reaches its end (a ``loop`` not in
  ``targets`` never iterates).
* ``entry_height[p]``: operand stack height (in values) below the construct's parameters
  when it is entered — the values a branch out of it leaves untouched.
* ``arity[p]``: ``(n_params, n_results)`` of the construct's block type.
* ``max_stack`` (most operand values live at once) and ``max_depth`` (deepest nesting of
  constructs, the function body not counted): the compiler uses them to choose between
  nested Python code and a flat lowering (CPython allows only 20 nested loops and about
  100 indentation levels).
* ``dead``: ``[start, stop)`` ranges of unreachable instructions: after ``unreachable``,
  ``br``, ``br_table`` or ``return`` up to the ``else``/``end`` closing that construct
  (spec appendix, "polymorphic stack"). Their stack typing is polymorphic, so a
  translator should skip them; ``targets``/heights are not recorded inside them.
"""
from __future__ import annotations

from typing import Dict, List, Set, Tuple

from ..errors import InvalidError
from ..syntax import Module
from .tables import (
    FIXED, K_BLOCK, K_BR, K_BR_IF, K_BR_TABLE, K_CALL, K_CALL_INDIRECT, K_DATA_DROP,
    K_DROP, K_ELEM_DROP, K_ELSE, K_END, K_GLOBAL_GET, K_GLOBAL_SET, K_IF, K_LANE,
    K_LOCAL_GET, K_LOCAL_SET, K_LOCAL_TEE, K_LOOP, K_MEM, K_MEMARG, K_MEMARG_LANE,
    K_MEMORY_COPY, K_MEMORY_INIT, K_REF_FUNC, K_REF_IS_NULL, K_REF_NULL, K_RETURN,
    K_SELECT, K_SELECT_T, K_SHUFFLE, K_TABLE_COPY, K_TABLE_FILL, K_TABLE_GET,
    K_TABLE_GROW, K_TABLE_INIT, K_TABLE_SET, K_TABLE_SIZE, K_UNREACHABLE, KIND,
)

# (pops, pushes) of the kinds whose arity does not depend on the immediate.
_ARITY: Dict[int, Tuple[int, int]] = {
    K_LOCAL_GET: (0, 1), K_LOCAL_SET: (1, 0), K_LOCAL_TEE: (1, 1),
    K_GLOBAL_GET: (0, 1), K_GLOBAL_SET: (1, 0), K_DROP: (1, 0),
    K_SELECT: (3, 1), K_SELECT_T: (3, 1),
    K_MEMORY_COPY: (3, 0), K_MEMORY_INIT: (3, 0), K_DATA_DROP: (0, 0), K_ELEM_DROP: (0, 0),
    K_REF_NULL: (0, 1), K_REF_IS_NULL: (1, 1), K_REF_FUNC: (0, 1),
    K_TABLE_GET: (1, 1), K_TABLE_SET: (2, 0), K_TABLE_SIZE: (0, 1), K_TABLE_GROW: (2, 1),
    K_TABLE_FILL: (3, 0), K_TABLE_COPY: (3, 0), K_TABLE_INIT: (3, 0),
}
_FIXED_ARITY: Dict[str, Tuple[int, int]] = {
    name: (len(p), len(r)) for name, (p, r) in FIXED.items()}
for _name, _info in KIND.items():
    if _info[0] in (K_MEMARG, K_MEMARG_LANE, K_LANE, K_SHUFFLE, K_MEM):
        _FIXED_ARITY[_name] = (len(_info[1]), len(_info[2]))
    elif _info[0] in _ARITY:
        _FIXED_ARITY[_name] = _ARITY[_info[0]]


class FuncFacts:
    """What :class:`FuncAnalyzer` found out about one function (see the module doc)."""

    __slots__ = ("end_of", "else_of", "targets", "entry_height", "arity", "max_stack",
                 "max_depth", "dead")

    def __init__(self) -> None:
        self.end_of: Dict[int, int] = {}
        self.else_of: Dict[int, int] = {}
        self.targets: Set[int] = set()
        self.entry_height: Dict[int, int] = {}
        self.arity: Dict[int, Tuple[int, int]] = {}
        self.max_stack = 0
        self.max_depth = 0
        self.dead: List[Tuple[int, int]] = []

    def __repr__(self) -> str:
        return ("FuncFacts(max_stack=%d, max_depth=%d, targets=%d, dead=%d ranges)"
                % (self.max_stack, self.max_depth, len(self.targets), len(self.dead)))


class FuncAnalyzer:
    """Computes :class:`FuncFacts` for the functions of a validated module."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.n_imported = module.num_imported_funcs()
        self.type_arity = [(len(t.params), len(t.results)) for t in module.types]
        self.func_arity = [(len(t.params), len(t.results)) for t in module.func_types()]

    def _block_arity(self, bt: object) -> Tuple[int, int]:
        if bt is None:
            return (0, 0)
        if isinstance(bt, str):
            return (0, 1)
        return self.type_arity[bt]  # type: ignore[index]

    def analyze(self, func_index: int) -> FuncFacts:
        """Facts of function ``func_index`` (function index space; must be defined here
        and already validated: the analysis does not re-check types)."""
        k = func_index - self.n_imported
        if not 0 <= k < len(self.module.funcs):
            raise InvalidError("function %d is not defined in this module" % func_index)
        func = self.module.funcs[k]
        facts = FuncFacts()
        end_of = facts.end_of
        else_of = facts.else_of
        targets = facts.targets
        entry_height = facts.entry_height
        arity = facts.arity
        dead = facts.dead
        fixed_arity = _FIXED_ARITY
        kind_get = KIND.get
        func_arity = self.func_arity
        type_arity = self.type_arity

        n_results = self.type_arity[func.type_index][1]
        # Control frames: [position, entry height, n_params, n_results].
        ctrls: List[list] = [[-1, 0, 0, n_results]]
        h = 0
        max_h = 0
        max_depth = 0
        dead_from = -1          # start of the current dead range, or -1
        dead_depth = 0          # control depth at which it started

        for pos, ins in enumerate(func.body):
            op = ins.op
            if dead_from >= 0:
                # Only structure matters in dead code: match constructs, find its end.
                info = kind_get(op)
                kind = info[0] if info is not None else -1
                if kind == K_BLOCK or kind == K_LOOP or kind == K_IF:
                    ctrls.append([pos, 0, 0, 0])
                elif kind == K_ELSE or kind == K_END:
                    if len(ctrls) == dead_depth:
                        if dead_from < pos:
                            dead.append((dead_from, pos))
                        dead_from = -1
                    else:
                        top = ctrls[-1]
                        if kind == K_ELSE:
                            else_of[top[0]] = pos
                        else:
                            end_of[top[0]] = pos
                            ctrls.pop()
                        continue
                else:
                    continue
                if dead_from >= 0:
                    continue
            ar = fixed_arity.get(op)
            if ar is not None:
                h += ar[1] - ar[0]
                if h > max_h:
                    max_h = h
                continue
            kind = KIND[op][0]
            imm = ins.imm
            if kind == K_CALL:
                p, r = func_arity[imm]
                h += r - p
            elif kind == K_CALL_INDIRECT:
                p, r = type_arity[imm[0]]
                h += r - p - 1
            elif kind == K_BLOCK or kind == K_LOOP or kind == K_IF:
                if kind == K_IF:
                    h -= 1
                p, r = self._block_arity(imm)
                entry_height[pos] = h - p
                arity[pos] = (p, r)
                ctrls.append([pos, h - p, p, r])
                if len(ctrls) - 1 > max_depth:
                    max_depth = len(ctrls) - 1
            elif kind == K_ELSE:
                top = ctrls[-1]
                else_of[top[0]] = pos
                h = top[1] + top[2]
            elif kind == K_END:
                top = ctrls.pop()
                if top[0] >= 0:
                    end_of[top[0]] = pos
                h = top[1] + top[3]
                if not ctrls:
                    break
            elif kind == K_BR or kind == K_BR_IF:
                targets.add(ctrls[-1 - imm][0])
                if kind == K_BR_IF:
                    h -= 1
                else:
                    dead_from, dead_depth = pos + 1, len(ctrls)
            elif kind == K_BR_TABLE:
                for lbl in imm[0]:
                    targets.add(ctrls[-1 - lbl][0])
                targets.add(ctrls[-1 - imm[1]][0])
                dead_from, dead_depth = pos + 1, len(ctrls)
            elif kind == K_RETURN or kind == K_UNREACHABLE:
                dead_from, dead_depth = pos + 1, len(ctrls)
            if h > max_h:
                max_h = h
        facts.max_stack = max_h
        facts.max_depth = max_depth
        return facts
