"""purewasm/_repr.py: the REPL and notebook representations of modules, instances and
function types (hooked into the API classes by one line each)."""
from __future__ import annotations

import purewasm
from purewasm import _repr

WAT = """
(module $demo
  (import "env" "log" (func (param i32 i32)))
  (import "env" "mem" (memory 1 16))
  (import "env" "g" (global (mut i64)))
  (table (export "table") 2 funcref)
  (global (export "answer") i32 (i32.const 42))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "none")))
"""


def _module() -> purewasm.Module:
    return purewasm.Module(purewasm.Engine(), WAT)


def test_module_repr_lists_imports_and_exports() -> None:
    assert _repr.module_repr(_module()) == "\n".join([
        "<Module 'demo': 3 imports, 4 exports>",
        "imports:",
        "  env.log: func (i32, i32) -> ()",
        "  env.mem: memory 1..16",
        "  env.g: global mut i64",
        "exports:",
        "  table: table 2 funcref",
        "  answer: global i32",
        "  add: func (i32, i32) -> (i32)",
        "  none: func () -> ()",
    ])


def test_long_listings_are_cut() -> None:
    funcs = "".join('(func (export "f%d"))' % i for i in range(30))
    text = _repr.module_repr(purewasm.Module(purewasm.Engine(), "(module %s)" % funcs))
    assert text.splitlines()[0] == "<Module: 0 imports, 30 exports>"
    assert text.splitlines()[-1] == "  ... 10 more"


def test_instance_repr_lists_exports() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module(engine, """
      (module (memory (export "memory") 1) (global (export "g") (mut f64) (f64.const 0))
        (table (export "t") 1 externref)
        (func (export "f") (param i64) (result f32) f32.const 0))""")
    instance = purewasm.Instance(store, module, [])
    assert _repr.instance_repr(instance._inst) == "\n".join([
        "<Instance: 4 exports>",
        "  memory: memory 1",
        "  g: global mut f64",
        "  t: table 1 externref",
        "  f: func (i64) -> (f32)",
    ])
    page = _repr.instance_html(instance._inst)
    assert "<code>f</code>" in page and "func (i64) -&gt; (f32)" in page


def test_functype_repr() -> None:
    i32, f64 = purewasm.ValType.i32(), purewasm.ValType.f64()
    assert _repr.functype_repr(purewasm.FuncType([i32, f64], [i32])) == \
        "FuncType((i32, f64) -> (i32))"
    assert _repr.functype_repr(purewasm.FuncType([], [])) == "FuncType(() -> ())"


def test_module_html_escapes_names() -> None:
    module = purewasm.Module(purewasm.Engine(),
                             '(module (func (export "<script>&")))')
    page = _repr.module_html(module)
    assert "<script>" not in page and "&lt;script&gt;&amp;" in page
    assert "imports (0)" in page and "exports (1)" in page
