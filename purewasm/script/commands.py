"""Script commands of the ``.wast`` format, independent of where they were read from.

The spec interpreter's README ("Scripts") defines the commands; ``script/run.ml`` in the
spec repository is the model runner. Both the wast2json reader (:mod:`.json_reader`) and
the text-format parser (``purewasm.text.parse_script``) produce these objects, and
:func:`purewasm.script.runner.run_script` consumes them, so nothing here depends on the
source syntax.

Values
------
Every argument is a :class:`Const` carrying a value type string (``syntax`` convention:
``"i32" "i64" "f32" "f64" "v128" "funcref" "externref"``) and a *bit-level* payload:

* i32 / i64: the unsigned int (``value & mask``);
* f32 / f64: the IEEE bit pattern as an int (so NaN payloads and -0.0 survive);
* v128: an int in ``[0, 2**128)``, lane 0 in the low bits;
* funcref / externref: ``None`` for ``ref.null``; ``ref.extern N`` is ``Const("externref", N)``
  (the runner maps N to one host object per N, as run.ml does);
* the Wasm 3.0 reference types: ``ref.null HEAP`` is ``Const(REF_NULL_TYPES[HEAP], None)``
  and ``ref.host N`` (a host reference inside the ``any`` hierarchy) ``Const("anyref", N)``.

Expected results (``AssertReturn.expected``), each one of:

* :class:`Const` — exact bit equality (``ref.null t`` is ``Const(t, None)``);
* :class:`NanPattern` — ``nan:canonical`` / ``nan:arithmetic`` for f32/f64;
* :class:`V128Pattern` — a v128 compared lane by lane in a shape, where a lane is an int
  (bit pattern, unsigned) or a :class:`NanPattern` kind string;
* :class:`RefPattern` — any non-null reference of a type (``ref.func`` / ``ref.extern``
  written without an index; in Wasm 3.0 scripts also ``ref.any``, ``ref.eq``,
  ``ref.i31``, ``ref.struct``, ``ref.array``, ``ref.exn``: see REF_PATTERN_TYPES);
* :class:`Either` — the result must match one of several alternatives (each alternative
  is a tuple of expected results, one per result value).

Module names (``ModuleCommand.name``, ``Register.name``, ``Invoke.module``, ``Get.module``)
are the script's ``$id`` spelled with its ``$`` (as wast2json writes them); ``None`` means
the most recently defined module. ``Register.as_name`` is the plain import module name.
Wasm 3.0 scripts separate definition from instantiation (spec interpreter, run.ml):
``(module definition $M ...)`` only defines ``$M`` (``ModuleCommand.definition``) and
``(module instance $I $M)`` (:class:`InstanceCommand`) instantiates it; a plain module
command does both, under one name. Definitions and instances are two name spaces.

Module sources (:class:`ModuleSource`): ``binary`` (``bytes``), ``text`` (a ``str`` holding
a complete ``(module ...)`` form) or ``quote`` (a ``str``: the concatenated quoted strings of
``(module quote "...")``, i.e. module fields, to be parsed as text).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

# ModuleSource kinds
BINARY = "binary"
TEXT = "text"
QUOTE = "quote"

# NaN pattern kinds
NAN_CANONICAL = "nan:canonical"
NAN_ARITHMETIC = "nan:arithmetic"

# ``ref.null HEAP``: the value type of the null reference, per abstract heap type.
REF_NULL_TYPES = {
    "func": "funcref", "extern": "externref", "any": "anyref", "eq": "eqref",
    "i31": "i31ref", "struct": "structref", "array": "arrayref", "exn": "exnref",
    "none": "nullref", "nofunc": "nullfuncref", "noextern": "nullexternref",
    "noexn": "nullexnref",
}
# ``(ref.KIND)`` without an argument, as an expected result: any non-null reference of this
# type (RefPattern.type).
REF_PATTERN_TYPES = {
    "ref.func": "funcref", "ref.extern": "externref", "ref.any": "anyref",
    "ref.eq": "eqref", "ref.i31": "i31ref", "ref.struct": "structref",
    "ref.array": "arrayref", "ref.exn": "exnref",
}


@dataclass(frozen=True)
class ModuleSource:
    """The source of a module in a script: ``kind`` is BINARY (bytes), TEXT or QUOTE (str)."""

    kind: str
    data: Union[bytes, str]
    # Where the source came from (a file name from wast2json, or None): for messages only.
    origin: Optional[str] = None


@dataclass(frozen=True)
class Const:
    """A typed constant (argument or exact expected result); see the module docstring."""

    type: str
    value: Optional[int]


@dataclass(frozen=True)
class NanPattern:
    """An f32/f64 result that must be a canonical or an arithmetic NaN (spec 4.3.3)."""

    type: str                       # "f32" or "f64"
    kind: str                       # NAN_CANONICAL or NAN_ARITHMETIC


@dataclass(frozen=True)
class V128Pattern:
    """A v128 result checked lane by lane: ``shape`` is i8/i16/i32/i64/f32/f64; each lane is
    an unsigned int (its bits) or NAN_CANONICAL / NAN_ARITHMETIC (float shapes only)."""

    shape: str
    lanes: Tuple[Union[int, str], ...]


@dataclass(frozen=True)
class RefPattern:
    """Any non-null reference of ``type`` (a value of REF_PATTERN_TYPES)."""

    type: str


@dataclass(frozen=True)
class NullPattern:
    """``(ref.null)`` without a heap type (Wasm 3.0 scripts): a null reference of any
    reference type."""


Expected = Union[Const, NanPattern, V128Pattern, RefPattern, NullPattern, "Either"]


@dataclass(frozen=True)
class Either:
    """The results must match one of ``alternatives`` (each a tuple of expected results)."""

    alternatives: Tuple[Tuple[Expected, ...], ...]


# --- Actions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Invoke:
    """Call export ``field`` of module ``module`` (None: the most recent module)."""

    field: str
    args: Tuple[Const, ...] = ()
    module: Optional[str] = None


@dataclass(frozen=True)
class Get:
    """Read the value of global export ``field`` of ``module`` (None: the most recent)."""

    field: str
    module: Optional[str] = None


Action = Union[Invoke, Get]


# --- Commands -------------------------------------------------------------------------
# Every command has ``line``: the 1-based line in the .wast file, used in reports.

@dataclass(frozen=True)
class ModuleCommand:
    """Define and instantiate a module; ``name`` is its ``$id`` (None if anonymous).

    ``definition`` (Wasm 3.0's ``(module definition ...)``): define only, no instance; the
    module must still decode and validate."""

    line: int
    source: ModuleSource
    name: Optional[str] = None
    definition: bool = False


@dataclass(frozen=True)
class InstanceCommand:
    """``(module instance $I $M)``: instantiate definition ``module`` (None: the most
    recently defined module) as instance ``instance`` (None: anonymous)."""

    line: int
    instance: Optional[str] = None
    module: Optional[str] = None


@dataclass(frozen=True)
class Register:
    """Make the exports of module ``name`` (None: the most recent) importable as ``as_name``."""

    line: int
    as_name: str
    name: Optional[str] = None


@dataclass(frozen=True)
class ActionCommand:
    """A bare action: its results are ignored, a trap fails the command."""

    line: int
    action: Action


@dataclass(frozen=True)
class AssertReturn:
    line: int
    action: Action
    expected: Tuple[Expected, ...]


@dataclass(frozen=True)
class AssertTrap:
    """The action traps, or (when ``action`` is a ModuleCommand) instantiation traps."""

    line: int
    action: Union[Action, ModuleCommand]
    message: str


@dataclass(frozen=True)
class AssertExhaustion:
    """The action exhausts a resource (the call stack)."""

    line: int
    action: Action
    message: str


@dataclass(frozen=True)
class AssertException:
    """The action ends by an uncaught Wasm exception (the exception-handling proposal)."""

    line: int
    action: Action


@dataclass(frozen=True)
class AssertInvalid:
    line: int
    module: ModuleSource
    message: str


@dataclass(frozen=True)
class AssertMalformed:
    line: int
    module: ModuleSource
    message: str


@dataclass(frozen=True)
class AssertUnlinkable:
    line: int
    module: ModuleSource
    message: str


@dataclass(frozen=True)
class AssertUninstantiable:
    """Instantiation fails with a trap (e.g. in the start function)."""

    line: int
    module: ModuleSource
    message: str


Command = Union[ModuleCommand, InstanceCommand, Register, ActionCommand, AssertReturn,
                AssertTrap, AssertExhaustion, AssertException, AssertInvalid,
                AssertMalformed, AssertUnlinkable, AssertUninstantiable]
