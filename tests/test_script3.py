"""The Wasm 3.0 script commands: ``(module definition ...)``, ``(module instance ...)``,
``assert_exception`` and the reference-type result patterns, through the text route
(purewasm.text.parse_script) and the JSON route (wast2json's form of the same commands)."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from purewasm.errors import MalformedError
from purewasm.script import commands as C
from purewasm.script.json_reader import read_json_commands
from purewasm.script.runner import run_script
from purewasm.text import parse_script, wat2wasm

COUNTER = """(module definition $M
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "inc") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1))) (global.get 0)))"""


def test_definitions_and_instances_parse() -> None:
    cmds = parse_script(COUNTER + """
      (module instance $I $M) (module instance $J) (module instance)
      (module definition binary "\\00asm\\01\\00\\00\\00")
      (module $N (func))""")
    definition = cmds[0]
    assert isinstance(definition, C.ModuleCommand) and definition.definition
    assert definition.name == "$M"
    # The module's own text, without the script's "definition" keyword.
    assert definition.source.data.startswith("(module $M\n  (global")
    assert cmds[1:4] == [C.InstanceCommand(5, "$I", "$M"), C.InstanceCommand(5, "$J", None),
                         C.InstanceCommand(5, None, None)]
    assert cmds[4].definition and cmds[4].source == C.ModuleSource(C.BINARY,
                                                                  b"\x00asm\x01\x00\x00\x00")
    assert not cmds[5].definition and cmds[5].name == "$N"


def test_instantiation_is_generative() -> None:
    result = run_script(parse_script(COUNTER + """
      (module instance $I1 $M)
      (module instance $I2 $M)
      (assert_return (invoke $I1 "inc") (i32.const 1))
      (assert_return (invoke $I1 "inc") (i32.const 2))
      (assert_return (invoke $I2 "inc") (i32.const 1))
      (assert_return (invoke "inc") (i32.const 2))          ;; the latest instance: $I2
      (module instance $I3)                                 ;; the latest definition: $M
      (assert_return (invoke "inc") (i32.const 1))
      (register "I1" $I1)
      (module $user (import "I1" "g" (global (mut i32)))
        (func (export "get") (result i32) (global.get 0)))
      (assert_return (invoke "get") (i32.const 2))
      (module instance $user2 $user)                        ;; a plain module is a definition too
      (assert_return (invoke $user2 "get") (i32.const 2))"""))
    assert not result.failed, result.failed
    assert len(result.passed) == 14


def test_a_definition_is_validated_but_not_instantiated() -> None:
    # 65536 pages (4 GiB): valid, but no store here may allocate it.
    result = run_script(parse_script("""
      (module (func (export "f") (result i32) (i32.const 5)))
      (module definition (memory 65536))
      (assert_return (invoke "f") (i32.const 5))            ;; still the current instance
      (module definition (func (result i32)))"""))
    assert [line for line, _ in result.failed] == [5]
    assert "InvalidError" in result.failed[0][1]


def test_unknown_definitions_fail_their_command() -> None:
    result = run_script(parse_script("""(module instance $I)
      (module instance $I $nope)"""))
    assert [why for _, why in result.failed] == [
        "InstanceCommand: no module defined",
        "InstanceCommand: unknown module definition $nope"]


def test_assert_exception_fails_without_exceptions() -> None:
    # Exception handling is not implemented: the command parses, runs, and fails saying
    # what happened instead of an uncaught exception.
    result = run_script(parse_script("""
      (module (func (export "f") (result i32) (i32.const 1))
              (func (export "t") unreachable))
      (assert_exception (invoke "f"))
      (assert_exception (invoke "t"))"""))
    assert [why for _, why in result.failed] == [
        "AssertException: expected an uncaught exception, got i32:1 (0x1)",
        "AssertException: expected an uncaught exception, got trap 'unreachable'"]


def test_reference_result_patterns_parse() -> None:
    cmds = parse_script("""
      (assert_return (invoke "a") (ref.null any) (ref.null none) (ref.null noextern)
                     (ref.array) (ref.struct) (ref.eq) (ref.i31) (ref.any) (ref.host 3))
      (invoke "b" (ref.host 4) (ref.null exn))""")
    assert cmds[0].expected == (
        C.Const("anyref", None), C.Const("nullref", None), C.Const("nullexternref", None),
        C.RefPattern("arrayref"), C.RefPattern("structref"), C.RefPattern("eqref"),
        C.RefPattern("i31ref"), C.RefPattern("anyref"), C.Const("anyref", 3))
    assert cmds[1].action.args == (C.Const("anyref", 4), C.Const("exnref", None))
    with pytest.raises(MalformedError):
        parse_script('(invoke "b" (ref.array))')        # a pattern is no argument
    with pytest.raises(MalformedError):
        parse_script('(assert_return (invoke "a") (ref.null nothing))')


def test_host_references_round_trip() -> None:
    result = run_script(parse_script("""
      (module (func (export "id") (param externref) (result externref) (local.get 0)))
      (assert_return (invoke "id" (ref.extern 1)) (ref.extern 1))
      (assert_return (invoke "id" (ref.extern 1)) (ref.extern))
      (assert_return (invoke "id" (ref.null extern)) (ref.null))"""))
    assert not result.failed, result.failed


def test_json_route(tmp_path: Any) -> None:
    # wast2json's form of the commands (wabt 1.0.37 writes these for Wasm 3.0 scripts).
    (tmp_path / "m.0.wasm").write_bytes(wat2wasm(COUNTER.replace("definition $M", "")))
    raw: List[Dict[str, Any]] = [
        {"type": "module", "definition": "true", "line": 1, "name": "$M",
         "filename": "m.0.wasm"},
        {"type": "instance", "line": 2, "instance": "$I", "definition": "$M"},
        {"type": "assert_return", "line": 3,
         "action": {"type": "invoke", "module": "$I", "field": "inc", "args": []},
         "expected": [{"type": "i32", "value": "1"}]},
        {"type": "assert_exception", "line": 4,
         "action": {"type": "invoke", "field": "inc", "args": []}},
        {"type": "assert_return", "line": 5,
         "action": {"type": "invoke", "field": "inc", "args": []},
         "expected": [{"type": "anyref", "value": "null"}]},
    ]
    cmds = read_json_commands(raw, str(tmp_path))
    assert cmds[0].definition and cmds[1] == C.InstanceCommand(2, "$I", "$M")
    assert cmds[3] == C.AssertException(4, C.Invoke("inc"))
    assert cmds[4].expected == (C.Const("anyref", None),)
    result = run_script(cmds)
    assert [line for line, _ in result.passed] == [1, 2, 3]
    assert [line for line, _ in result.failed] == [4, 5]
