"""A plugin host: loads every plugin in examples/plugins/ and passes text through them.

Plugins are Wasm modules (shout.c is one, compiled with zig cc) following a small ABI of
strings in linear memory, described in plugins/shout.c. Each plugin gets its own Store,
so plugins cannot see each other; the only thing the host gives them is ``host.log``.

    python examples/plugin_host.py "hello plugins. from python."
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Callable, List

import purewasm

PLUGIN_DIR = Path(__file__).resolve().parent / "plugins"


class Plugin:
    """One loaded plugin: its own store and instance, and the ABI's calls wrapped."""

    def __init__(self, engine: purewasm.Engine, linker: purewasm.Linker, path: Path) -> None:
        self.store = purewasm.Store(engine, data={"log": []})
        self.store.set_fuel(10_000_000)        # a runaway plugin traps instead of hanging
        module = purewasm.Module.from_file(engine, str(path))
        instance = linker.instantiate(self.store, module)
        self.exports = instance.exports(self.store)
        self.memory = self.exports["memory"]
        init = self.exports.get("_initialize")  # a WASI reactor's constructors
        if init is not None:
            init(self.store)
        self.name = self.read_cstring(self.call("plugin_name"))

    def call(self, name: str, *args: int) -> int:
        return self.exports[name](self.store, *args)  # type: ignore[no-any-return]

    def read_cstring(self, ptr: int) -> str:
        data = self.memory.read(self.store, ptr, self.memory.data_len(self.store))
        return data[:data.index(0)].decode("utf-8")

    def run(self, text: str) -> str:
        data = text.encode("utf-8")
        ptr = self.call("plugin_alloc", len(data))
        try:
            self.memory.write(self.store, data, ptr)
            result = self.call("plugin_run", ptr, len(data))
        finally:
            self.call("plugin_free", ptr)
        if result == 0:
            raise RuntimeError("plugin %s failed" % self.name)
        try:
            (length,) = struct.unpack("<I", self.memory.read(self.store, result, result + 4))
            return self.memory.read(self.store, result + 4, result + 4 + length).decode("utf-8")
        finally:
            self.call("plugin_free", result)

    @property
    def log(self) -> List[str]:
        return self.store.data()["log"]  # type: ignore[no-any-return]


def host_log(caller: purewasm.Caller, ptr: int, length: int) -> None:
    """host.log(ptr, len): read the message from the calling plugin's memory."""
    memory = caller["memory"]
    message = memory.read(caller, ptr, ptr + length).decode("utf-8", errors="replace")
    caller.data()["log"].append(message)


def load_plugins(directory: Path = PLUGIN_DIR) -> List[Plugin]:
    config = purewasm.Config()
    config.consume_fuel = True
    engine = purewasm.Engine(config)
    linker = purewasm.Linker(engine)
    i32 = purewasm.ValType.i32()
    linker.define_func("host", "log", purewasm.FuncType([i32, i32], []), host_log,
                       access_caller=True)
    return [Plugin(engine, linker, path) for path in sorted(directory.glob("*.wasm"))]


def main(argv: List[str], out: Callable[[str], None] = print) -> None:
    text = argv[0] if argv else "hello plugins. caf\u00e9 au lait."
    for plugin in load_plugins():
        result = plugin.run(text)
        out("%s: %s" % (plugin.name, result))
        for line in plugin.log:
            out("  log: %s" % line)


if __name__ == "__main__":
    main(sys.argv[1:])
