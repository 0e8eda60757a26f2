"""Drive WASI preview1 functions one call at a time, under wasmtime or purewasm.

A tiny module re-exports every ``wasi_snapshot_preview1`` import as ``w_<name>`` and its
memory, so a test can call e.g. ``path_open`` from Python with guest pointers and compare
the errno of wasmtime's WASI with ours, call by call.
"""
from __future__ import annotations

import struct
from typing import Any, List, Optional, Sequence, Tuple

from purewasm.wasi import BINDINGS

_W = {"i32": "i32", "i64": "i64"}


def driver_wat() -> str:
    lines = ["(module"]
    for name, params, results, _ in BINDINGS:
        sig = "".join(" (param %s)" % p for p in params) + \
            "".join(" (result %s)" % r for r in results)
        lines.append('  (import "wasi_snapshot_preview1" "%s" (func $%s%s))' % (name, name, sig))
    lines.append('  (memory (export "memory") 40)')
    for name, params, results, _ in BINDINGS:
        sig = "".join(" (param %s)" % p for p in params) + \
            "".join(" (result %s)" % r for r in results)
        gets = "".join(" (local.get %d)" % i for i in range(len(params)))
        lines.append('  (func (export "w_%s")%s (call $%s%s))' % (name, sig, name, gets))
    lines.append(")")
    return "\n".join(lines)


class Driver:
    """One WASI instance (wasmtime's or purewasm's) with a bump allocator in its memory.

    ``dirs``: (host, guest, read_only) preopens, in order from fd 3.
    """

    def __init__(self, kind: str, dirs: Sequence[Tuple[str, str, bool]] = ()) -> None:
        self.kind = kind
        self.top = 1024
        if kind == "wasmtime":
            import wasmtime
            self._mod = wasmtime
            self.engine = wasmtime.Engine()
            self.store = wasmtime.Store(self.engine)
            linker = wasmtime.Linker(self.engine)
            linker.define_wasi()
            cfg = wasmtime.WasiConfig()
            for host, guest, ro in dirs:
                cfg.preopen_dir(host, guest, not ro)
            self.store.set_wasi(cfg)
            module = wasmtime.Module(self.engine, driver_wat())
        else:
            import purewasm
            from purewasm import DirPerms, FilePerms
            self._mod = purewasm
            self.engine = purewasm.Engine()
            self.store = purewasm.Store(self.engine)
            linker = purewasm.Linker(self.engine)
            linker.define_wasi()
            cfg = purewasm.WasiConfig()
            for host, guest, ro in dirs:
                if ro:
                    cfg.preopen_dir(host, guest, DirPerms.READ_ONLY, FilePerms.READ_ONLY)
                else:
                    cfg.preopen_dir(host, guest)
            self.store.set_wasi(cfg)
            module = purewasm.Module(self.engine, driver_wat())
        self.inst = linker.instantiate(self.store, module)
        self.exports = self.inst.exports(self.store)
        self.memory = self.exports["memory"]

    def close(self) -> None:
        if self.kind != "wasmtime":
            ctx = getattr(self.store._rt, "wasi", None)  # noqa: SLF001
            if ctx is not None:
                ctx.close()
        self.store = None  # type: ignore[assignment]

    # memory -------------------------------------------------------------------------------
    def alloc(self, size: int) -> int:
        if self.top + size + 8 > 40 * 65536:
            self.top = 1024     # wrap: earlier buffers are dead by then
        p = self.top
        self.top += (size + 7) & ~7
        return p

    def put(self, data: Any) -> Tuple[int, int]:
        if isinstance(data, str):
            data = data.encode()
        p = self.alloc(len(data) + 1)
        self.memory.write(self.store, bytes(data) + b"\0", p)
        return p, len(data)

    def get(self, p: int, n: int) -> bytes:
        return bytes(self.memory.read(self.store, p, p + n))

    def u32(self, p: int) -> int:
        return struct.unpack("<I", self.get(p, 4))[0]

    def call(self, name: str, *args: int) -> int:
        return self.exports["w_" + name](self.store, *args)

    # conveniences -------------------------------------------------------------------------
    def open(self, path: Any, oflags: int = 0, write: bool = False, fdflags: int = 0,
             dirfd: int = 3, follow: bool = True,
             rights: Optional[int] = None) -> Tuple[int, Optional[int]]:
        if rights is None:
            # every right but the writing ones (fd_write, fd_allocate, set_size) unless
            # asked: a directory opened with them is EISDIR
            rights = ((1 << 30) - 1) & ~((1 << 6) | (1 << 8) | (1 << 22))
            if write:
                rights |= (1 << 6) | (1 << 22)
        p, n = self.put(path)
        out = self.alloc(4)
        err = self.call("path_open", dirfd, int(follow), p, n, oflags, rights, rights,
                        fdflags, out)
        return err, (self.u32(out) if err == 0 else None)

    def path1(self, name: str, path: Any, dirfd: int = 3) -> int:
        p, n = self.put(path)
        return self.call(name, dirfd, p, n)

    def mkdir(self, path: Any, dirfd: int = 3) -> int:
        return self.path1("path_create_directory", path, dirfd)

    def rmdir(self, path: Any, dirfd: int = 3) -> int:
        return self.path1("path_remove_directory", path, dirfd)

    def unlink(self, path: Any, dirfd: int = 3) -> int:
        return self.path1("path_unlink_file", path, dirfd)

    def symlink(self, target: Any, path: Any, dirfd: int = 3) -> int:
        tp, tn = self.put(target)
        p, n = self.put(path)
        return self.call("path_symlink", tp, tn, dirfd, p, n)

    def rename(self, old: Any, new: Any, dirfd: int = 3, new_dirfd: Optional[int] = None) -> int:
        op, on = self.put(old)
        p, n = self.put(new)
        return self.call("path_rename", dirfd, op, on,
                         dirfd if new_dirfd is None else new_dirfd, p, n)

    def link(self, old: Any, new: Any, dirfd: int = 3, follow: bool = False) -> int:
        op, on = self.put(old)
        p, n = self.put(new)
        return self.call("path_link", dirfd, int(follow), op, on, dirfd, p, n)

    def stat(self, path: Any, dirfd: int = 3, follow: bool = True) -> Tuple[int, Optional[int]]:
        p, n = self.put(path)
        out = self.alloc(64)
        err = self.call("path_filestat_get", dirfd, int(follow), p, n, out)
        return err, (self.get(out + 16, 1)[0] if err == 0 else None)

    def readlink(self, path: Any, dirfd: int = 3) -> Tuple[int, Optional[bytes]]:
        p, n = self.put(path)
        buf = self.alloc(4096)
        used = self.alloc(4)
        err = self.call("path_readlink", dirfd, p, n, buf, 4096, used)
        return err, (self.get(buf, self.u32(used)) if err == 0 else None)

    def read(self, fd: int, size: int = 4096) -> Tuple[int, bytes]:
        buf = self.alloc(size)
        iov = self.alloc(8)
        self.memory.write(self.store, struct.pack("<II", buf, size), iov)
        out = self.alloc(4)
        err = self.call("fd_read", fd, iov, 1, out)
        return err, (self.get(buf, self.u32(out)) if err == 0 else b"")

    def write(self, fd: int, data: bytes) -> Tuple[int, int]:
        p, n = self.put(data)
        iov = self.alloc(8)
        self.memory.write(self.store, struct.pack("<II", p, n), iov)
        out = self.alloc(4)
        err = self.call("fd_write", fd, iov, 1, out)
        return err, (self.u32(out) if err == 0 else 0)

    def readdir(self, fd: int) -> Tuple[int, List[bytes]]:
        buf = self.alloc(16384)
        used = self.alloc(4)
        err = self.call("fd_readdir", fd, buf, 16384, 0, used)
        if err:
            return err, []
        data = self.get(buf, self.u32(used))
        names = []
        pos = 0
        while pos + 24 <= len(data):
            namlen = struct.unpack_from("<I", data, pos + 16)[0]
            names.append(data[pos + 24:pos + 24 + namlen])
            pos += 24 + namlen
        return 0, sorted(n for n in names if n not in (b".", b".."))

    def close_fd(self, fd: int) -> int:
        return self.call("fd_close", fd)
