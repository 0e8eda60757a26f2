"""A quick smoke run needing nothing but the standard library.

CI runs it on CPython 3.9 and PyPy 3.9 (where the dev tools are not installed) to keep the
version promise: text parsing, decoding, validation, translation, traps, deep recursion,
host functions, tail calls and WASI hello world all work there. Exits non-zero on the first failure.
"""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import purewasm  # noqa: E402

WAT = r"""
(module
  (import "host" "double" (func $double (param i32) (result i32)))
  (memory (export "mem") 1)
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func $deep (export "deep") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "sum") (param i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get 0)))
        (i32.store (i32.mul (local.get $i) (i32.const 4)) (local.get $i))
        (local.set $s (i32.add (local.get $s)
                               (i32.load (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))
  (func (export "f32bits") (param i32) (result i32)
    (i32.reinterpret_f32 (f32.neg (f32.reinterpret_i32 (local.get 0)))))
  (func (export "twice") (param i32) (result i32) (call $double (local.get 0)))
  (func $countdown (export "countdown") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 7))
      (else (return_call $countdown (i64.sub (local.get 0) (i64.const 1)))))))
"""


def check(what: str, got: object, want: object) -> None:
    if got != want:
        raise SystemExit("smoke FAILED: %s: got %r, want %r" % (what, got, want))
    print("ok  %s" % what)


def main() -> None:
    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    module = purewasm.Module(engine, WAT)
    double = purewasm.Func(store, purewasm.FuncType([purewasm.ValType.i32()],
                                                    [purewasm.ValType.i32()]),
                           lambda x: x * 2)
    instance = purewasm.Instance(store, module, [double])
    exports = instance.exports(store)
    check("fib(20)", exports["fib"](store, 20), 6765)
    check("loop over memory", exports["sum"](store, 1000), 499500)
    check("host call", exports["twice"](store, 21), 42)
    # f32 signalling NaN keeps its payload (struct would quiet it).
    check("f32 sNaN bits", exports["f32bits"](store, 0x7FA00001) & 0xFFFFFFFF, 0xFFA00001)
    try:
        exports["div"](store, 1, 0)
        raise SystemExit("smoke FAILED: div by zero did not trap")
    except purewasm.Trap as trap:
        check("trap code", trap.trap_code, purewasm.TrapCode.INTEGER_DIVISION_BY_ZERO)
    check("deep recursion (5,000 frames)", exports["deep"](store, 5000), 5000)
    try:
        exports["deep"](store, 10 ** 7)
        raise SystemExit("smoke FAILED: unbounded recursion did not trap")
    except purewasm.Trap as trap:
        check("stack exhaustion traps", trap.trap_code, purewasm.TrapCode.STACK_OVERFLOW)
    check("usable after traps", exports["fib"](store, 10), 55)
    check("100,000 tail calls", exports["countdown"](store, 100000), 7)

    hello = os.path.join(os.path.dirname(HERE), "examples", "hello.wasm")
    proc = subprocess.run([sys.executable, "-m", "purewasm", "run", hello],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=os.path.dirname(HERE))
    check("purewasm run examples/hello.wasm", (proc.returncode, proc.stdout.strip()),
          (0, b"Hello, World"))
    print("smoke passed on %s %s" % (sys.implementation.name, sys.version.split()[0]))


if __name__ == "__main__":
    main()
