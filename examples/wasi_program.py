"""Run a WASI program (wasi/wordcount.c, compiled with zig cc) from Python: arguments,
an environment variable, a preopened directory, and its stdout/stderr captured.

    python examples/wasi_program.py
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Tuple

import purewasm

PROGRAM = Path(__file__).resolve().parent / "wasi" / "wordcount.wasm"


def run_wasi(args: list, data_dir: str) -> Tuple[int, str, str]:
    """Run the program with ``data_dir`` visible as /data; (exit status, stdout, stderr)."""
    engine = purewasm.Engine()
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    module = purewasm.Module.from_file(engine, str(PROGRAM))

    config = purewasm.WasiConfig()
    config.argv = ["wordcount"] + args
    config.env = {"GREETING": "counted"}
    config.preopen_dir(data_dir, "/data")        # nothing else of the host is visible
    stdout, stderr = bytearray(), bytearray()
    config.stdout_custom = stdout                # a bytearray collects; a callable streams
    config.stderr_custom = stderr
    store = purewasm.Store(engine)
    store.set_wasi(config)

    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
        status = 0
    except purewasm.ExitTrap as exit_:          # proc_exit: the program's exit status
        status = exit_.code
    return status, stdout.decode(), stderr.decode()


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        (Path(data_dir) / "input.txt").write_text("one two three\nfour five\n")
        status, out, err = run_wasi(["/data/input.txt"], data_dir)
        print("exit status %d, stdout: %r" % (status, out))
        print("the program wrote:", (Path(data_dir) / "input.txt.count").read_text().strip())

        # Outside the preopened directory there is nothing to open.
        status, out, err = run_wasi(["/etc/passwd"], data_dir)
        print("exit status %d, stderr: %r" % (status, err))


if __name__ == "__main__":
    main()
