#!/usr/bin/env python3
"""Write a large module dense in exception handling, for start-up measurements (issue 11:
"a 50 MB module with 140,000 exception instructions decodes, validates and starts").

    python scripts/gen_exceptions_module.py OUT.wasm [--mb 50] [--exc 140000]

The module has one tag ``(param i32)`` and as many functions as needed to reach the size.
Each function holds units of the shape a compiler writes for a guarded region::

    block (result i32)                      ;; the handler's label
      try_table (catch $e 0)
        local.get 0  if  local.get 0  throw $e  end
        (local.get 0  i32.const 1  i32.add  local.set 1) * FILL
      end
      i32.const 0
    end
    drop

(2 exception instructions, try_table and throw, per unit). ``_start`` calls the first
function with 0 (no throw) and with 1 (a throw caught by its handler). Numbers as in real
compiler output: about 1.75 bytes per instruction.
"""
from __future__ import annotations

import argparse


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def vec(items: list) -> bytes:
    return uleb(len(items)) + b"".join(items)


def build(target_bytes: int, exception_instructions: int) -> bytes:
    units = max(1, exception_instructions // 2)
    unit_head = (b"\x02\x7f"                    # block (result i32)
                 b"\x1f\x40\x01\x00\x00\x00"    # try_table (catch tag 0 -> label 0)
                 b"\x20\x00\x04\x40\x20\x00\x08\x00\x0b")   # if (local.get 0) throw 0 end
    filler = b"\x20\x00\x41\x01\x6a\x21\x01"    # local.get 0, i32.const 1, i32.add, local.set 1
    unit_tail = b"\x0b\x41\x00\x0b\x1a"        # end try_table, i32.const 0, end block, drop
    fill = max(0, (target_bytes // units - len(unit_head) - len(unit_tail)) // len(filler))
    unit = unit_head + filler * fill + unit_tail
    per_func = max(1, min(units, 200_000 // len(unit) or 1))   # bodies of ~200 KB at most
    nfuncs = -(-units // per_func)
    body = b"\x01\x01\x7f" + unit * per_func + b"\x0b"          # one i32 local, the units, end
    code = uleb(len(body)) + body
    start_body = b"\x00" + b"\x41\x00\x10\x00\x41\x01\x10\x00\x0b"   # f0(0); f0(1)
    types = vec([b"\x60\x01\x7f\x00", b"\x60\x00\x00"])      # (i32) -> (), () -> ()
    funcs = vec([b"\x00"] * nfuncs + [b"\x01"])
    tags = vec([b"\x00\x00"])                                    # attribute 0, type 0
    exports = vec([b"\x06_start\x00" + uleb(nfuncs)])
    codes = uleb(nfuncs + 1) + code * nfuncs + uleb(len(start_body)) + start_body
    return (b"\x00asm\x01\x00\x00\x00" + section(1, types) + section(3, funcs)
            + section(13, tags) + section(7, exports) + section(10, codes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--exc", type=int, default=140_000)
    opts = ap.parse_args()
    data = build(int(opts.mb * 1e6), opts.exc)
    with open(opts.out, "wb") as f:
        f.write(data)
    print("%s: %.1f MB" % (opts.out, len(data) / 1e6))


if __name__ == "__main__":
    main()
