"""Sandbox escapes through WASI (issue 8): each attack as a sequence of preview1 calls,
run through the embedding API (a driver module calling one function at a time) and
through the CLI (the same sequence compiled to a WAT program), in writable and read-only
preopens, and compared with wasmtime where it has the same behaviour.

Host tree of each test (``tmp``)::

    outside.txt            "SECRET-OUTSIDE"       (beside the preopen: never reachable)
    sand/                  the preopen, seen as "sand" (fd 3)
      f.txt                "inside"
      sub/g.txt            "deeper"
      up_link    -> ../outside.txt
      abs_link   -> <tmp>/outside.txt (absolute)
      chain1 -> chain2 -> chain3 -> ../outside.txt
      hop1 -> sub/hop2, sub/hop2 -> ../../outside.txt
      loop -> loop
      long0 -> long1 -> ... -> long40 -> f.txt    (41 hops: one more than the bound)
"""
from __future__ import annotations

import os
import platform
import re
import struct
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wasi_driver import Driver  # noqa: E402

from purewasm.wasi import BINDINGS  # noqa: E402
from purewasm.wasi import constants as C  # noqa: E402

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks need a POSIX host")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = b"SECRET-OUTSIDE"
CREAT, DIRECTORY, EXCL, TRUNC = C.OFLAGS_CREAT, C.OFLAGS_DIRECTORY, C.OFLAGS_EXCL, C.OFLAGS_TRUNC
NO_FD = 0xFFFFFF00
READ_RIGHTS = C.RIGHTS_ALL & ~(C.RIGHTS_FD_WRITE | C.RIGHTS_FD_ALLOCATE
                               | C.RIGHTS_FD_FILESTAT_SET_SIZE)
WRITE_RIGHTS = READ_RIGHTS | C.RIGHTS_FD_WRITE | C.RIGHTS_FD_FILESTAT_SET_SIZE


def make_tree(tmp: str) -> str:
    with open(os.path.join(tmp, "outside.txt"), "wb") as f:
        f.write(SECRET)
    sand = os.path.join(tmp, "sand")
    os.makedirs(os.path.join(sand, "sub"))
    with open(os.path.join(sand, "f.txt"), "wb") as f:
        f.write(b"inside")
    with open(os.path.join(sand, "sub", "g.txt"), "wb") as f:
        f.write(b"deeper")
    links = {"up_link": "../outside.txt", "abs_link": os.path.join(tmp, "outside.txt"),
             "chain1": "chain2", "chain2": "chain3", "chain3": "../outside.txt",
             "hop1": "sub/hop2", "sub/hop2": "../../outside.txt", "loop": "loop"}
    for i in range(41):     # long0: 41 hops to f.txt, long1: 40 (Linux's MAXSYMLINKS)
        links["long%d" % i] = "long%d" % (i + 1) if i < 40 else "f.txt"
    for name, target in links.items():
        os.symlink(target, os.path.join(sand, name))
    return sand


def outside_entries(tmp: str) -> List[str]:
    return sorted(os.listdir(tmp))


# --- one attack = a list of operations --------------------------------------------------
# An operation names its directory as an fd (3: the preopen) or a slot "sN" filled by an
# earlier "open". Each yields (errno, data) — data for read / readdir / readlink.

Op = Tuple[Any, ...]


def run_api(driver: Driver, ops: Sequence[Op]) -> List[Tuple[int, bytes]]:
    slots: Dict[str, int] = {}

    def fd(ref: Any) -> int:
        return slots.get(ref, NO_FD) if isinstance(ref, str) else ref

    out = []
    for op in ops:
        kind = op[0]
        data = b""
        if kind == "open":
            _, d, path, oflags, write, slot = op
            err, new = driver.open(path, oflags, dirfd=fd(d), rights=WRITE_RIGHTS if write
                                   else READ_RIGHTS)
            if err == 0:
                slots[slot] = new
        elif kind == "mkdir":
            err = driver.mkdir(op[2], fd(op[1]))
        elif kind == "rmdir":
            err = driver.rmdir(op[2], fd(op[1]))
        elif kind == "unlink":
            err = driver.unlink(op[2], fd(op[1]))
        elif kind == "symlink":
            err = driver.symlink(op[1], op[3], fd(op[2]))
        elif kind == "rename":
            err = driver.rename(op[2], op[4], fd(op[1]), fd(op[3]))
        elif kind == "link":
            _, d, follow, old, d2, new = op
            op_, on = driver.put(old)
            np_, nn = driver.put(new)
            err = driver.call("path_link", fd(d), int(follow), op_, on, fd(d2), np_, nn)
        elif kind == "read":
            err, data = driver.read(fd(op[1]))
        elif kind == "write":
            err, _ = driver.write(fd(op[1]), op[2])
        elif kind == "readdir":
            err, names = driver.readdir(fd(op[1]))
            data = b"/".join(names)
        elif kind == "readlink":
            err, target = driver.readlink(op[2], fd(op[1]))
            data = target or b""
        elif kind == "stat":
            err, _ = driver.stat(op[2], fd(op[1]), follow=op[3])
        elif kind == "set_size":
            err = driver.call("fd_filestat_set_size", fd(op[1]), 0)
        elif kind == "set_times":
            p, n = driver.put(op[2])
            err = driver.call("path_filestat_set_times", fd(op[1]), 0, p, n, 0, 0,
                              C.FSTFLAGS_ATIM_NOW | C.FSTFLAGS_MTIM_NOW)
        else:
            raise ValueError(kind)
        out.append((err, data))
    return out


# The same operations as a WASI program: each writes its errno byte to stdout, then (for
# read / readdir / readlink) a little-endian u32 length and the bytes.

_SIG = {name: (params, results) for name, params, results, _ in BINDINGS}
_ERRNO, _NW, _IOV, _LEN, _BUF, _SLOTS, _STR = 0x30, 0x38, 0x40, 0x50, 0x1000, 0x200, 0x3000


def ops_to_wat(ops: Sequence[Op]) -> str:
    strings: List[Tuple[int, bytes]] = []
    top = [_STR]
    slot_addr: Dict[str, int] = {}

    def place(text: Any) -> Tuple[int, int]:
        data = text.encode() if isinstance(text, str) else text
        addr = top[0]
        strings.append((addr, data))
        top[0] += len(data) + 8
        return addr, len(data)

    def s(text: Any) -> str:
        return "(i32.const %d) (i32.const %d)" % place(text)

    def slot(name: str) -> int:
        if name not in slot_addr:
            slot_addr[name] = _SLOTS + 4 * len(slot_addr)
        return slot_addr[name]

    def fd(ref: Any) -> str:
        if isinstance(ref, str):
            return "(i32.load (i32.const %d))" % slot(ref)
        return "(i32.const %d)" % ref

    body = []

    def errno_of(call: str) -> None:
        body.append("(i32.store8 (i32.const %d) %s) (call $emit (i32.const %d) (i32.const 1))"
                    % (_ERRNO, call, _ERRNO))

    def emit_buffer(nbytes_addr: int) -> None:
        # length (u32) then the bytes, whatever the errno (0 bytes on failure)
        body.append("(call $emit (i32.const %d) (i32.const 4))" % nbytes_addr)
        body.append("(call $emit (i32.const %d) (i32.load (i32.const %d)))"
                    % (_BUF, nbytes_addr))

    for op in ops:
        kind = op[0]
        body.append("(i32.store (i32.const %d) (i32.const 0))" % _LEN)
        if kind == "open":
            _, d, path, oflags, write, name = op
            rights = WRITE_RIGHTS if write else READ_RIGHTS
            errno_of("(call $path_open %s (i32.const 1) %s (i32.const %d) (i64.const %d) "
                     "(i64.const %d) (i32.const 0) (i32.const %d))"
                     % (fd(d), s(path), oflags, rights, rights, slot(name)))
        elif kind in ("mkdir", "rmdir", "unlink"):
            fn = {"mkdir": "path_create_directory", "rmdir": "path_remove_directory",
                  "unlink": "path_unlink_file"}[kind]
            errno_of("(call $%s %s %s)" % (fn, fd(op[1]), s(op[2])))
        elif kind == "symlink":
            errno_of("(call $path_symlink %s %s %s)" % (s(op[1]), fd(op[2]), s(op[3])))
        elif kind == "rename":
            errno_of("(call $path_rename %s %s %s %s)" % (fd(op[1]), s(op[2]), fd(op[3]),
                                                          s(op[4])))
        elif kind == "link":
            _, d, follow, old, d2, new = op
            errno_of("(call $path_link %s (i32.const %d) %s %s %s)"
                     % (fd(d), int(follow), s(old), fd(d2), s(new)))
        elif kind == "read":
            body.append("(i32.store (i32.const %d) (i32.const %d)) (i32.store (i32.const %d) "
                        "(i32.const 4096))" % (_IOV, _BUF, _IOV + 4))
            errno_of("(call $fd_read %s (i32.const %d) (i32.const 1) (i32.const %d))"
                     % (fd(op[1]), _IOV, _LEN))
            emit_buffer(_LEN)
        elif kind == "write":
            addr, length = place(op[2])
            body.append("(i32.store (i32.const %d) (i32.const %d)) (i32.store (i32.const %d) "
                        "(i32.const %d))" % (_IOV, addr, _IOV + 4, length))
            errno_of("(call $fd_write %s (i32.const %d) (i32.const 1) (i32.const %d))"
                     % (fd(op[1]), _IOV, _NW))
        elif kind == "readdir":
            errno_of("(call $fd_readdir %s (i32.const %d) (i32.const 4096) (i64.const 0) "
                     "(i32.const %d))" % (fd(op[1]), _BUF, _LEN))
            emit_buffer(_LEN)
        elif kind == "readlink":
            errno_of("(call $path_readlink %s %s (i32.const %d) (i32.const 4096) "
                     "(i32.const %d))" % (fd(op[1]), s(op[2]), _BUF, _LEN))
            emit_buffer(_LEN)
        elif kind == "stat":
            errno_of("(call $path_filestat_get %s (i32.const %d) %s (i32.const %d))"
                     % (fd(op[1]), int(op[3]), s(op[2]), _BUF))
        elif kind == "set_size":
            errno_of("(call $fd_filestat_set_size %s (i64.const 0))" % fd(op[1]))
        elif kind == "set_times":
            errno_of("(call $path_filestat_set_times %s (i32.const 0) %s (i64.const 0) "
                     "(i64.const 0) (i32.const %d))"
                     % (fd(op[1]), s(op[2]), C.FSTFLAGS_ATIM_NOW | C.FSTFLAGS_MTIM_NOW))
        else:
            raise ValueError(kind)
    used = sorted(set(re.findall(r"\(call \$(\w+)", " ".join(body))) - {"emit"} | {"fd_write"})
    lines = ["(module"]
    for name in used:
        params, results = _SIG[name]
        lines.append('  (import "wasi_snapshot_preview1" "%s" (func $%s%s%s))' % (
            name, name, "".join(" (param %s)" % p for p in params),
            "".join(" (result %s)" % r for r in results)))
    lines.append('  (memory (export "memory") 1)')
    for addr, data in strings:
        lines.append('  (data (i32.const %d) "%s")' % (
            addr, "".join("\\%02x" % b for b in data)))
    for addr in slot_addr.values():
        lines.append('  (data (i32.const %d) "%s")' % (
            addr, "".join("\\%02x" % b for b in struct.pack("<I", NO_FD))))
    lines.append("""  (func $emit (param $p i32) (param $n i32)
    (i32.store (i32.const 0x20) (local.get $p))
    (i32.store (i32.const 0x24) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0x20) (i32.const 1) (i32.const 0x28))))""")
    lines.append('  (func (export "_start")')
    lines += ["    " + b for b in body]
    lines.append("  ))")
    return "\n".join(lines)


def parse_output(ops: Sequence[Op], out: bytes) -> List[Tuple[int, bytes]]:
    res = []
    pos = 0
    for op in ops:
        err = out[pos]
        pos += 1
        data = b""
        if op[0] in ("read", "readdir", "readlink"):
            (n,) = struct.unpack_from("<I", out, pos)
            data = out[pos + 4:pos + 4 + n]
            pos += 4 + n
            if op[0] == "readdir":
                names = []
                q = 0
                while q + 24 <= len(data):
                    namlen = struct.unpack_from("<I", data, q + 16)[0]
                    names.append(data[q + 24:q + 24 + namlen])
                    q += 24 + namlen
                data = b"/".join(sorted(x for x in names if x not in (b".", b"..")))
        res.append((err, data))
    if pos != len(out):
        raise AssertionError("trailing output: %r" % out[pos:])
    return res


def run_cli(tmp: str, ops: Sequence[Op], read_only: bool) -> List[Tuple[int, bytes]]:
    from purewasm import wat2wasm
    wasm = os.path.join(tmp, "prog.wasm")
    with open(wasm, "wb") as f:
        f.write(wat2wasm(ops_to_wat(ops)))
    sand = os.path.join(tmp, "sand")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "purewasm", "run",
                           "--ro-dir" if read_only else "--dir", sand + "::sand", wasm],
                          capture_output=True, env=env, cwd=tmp, timeout=120)
    assert proc.returncode == 0, proc.stderr
    os.unlink(wasm)
    return parse_output(ops, proc.stdout)


# --- the attacks -------------------------------------------------------------------------
# Each: (ops, expected (errno, data) per op in a writable preopen, the same in a read-only
# one (None: as writable), whether wasmtime behaves identically).

E = C
# Hard-linking a symlink itself: PyPy's os.link cannot (EINVAL to follow_symlinks=False),
# so there it is refused rather than risk following the link.
PYPY = platform.python_implementation() == "PyPy"
LINK_SYMLINK = E.EINVAL if PYPY else 0
OPEN_LINKED = E.ENOENT if PYPY else E.EPERM
ATTACKS: Dict[str, Tuple[List[Op], List[Tuple[int, bytes]], Optional[List[Tuple[int, bytes]]],
                         bool]] = {
    # The finding: a directory descriptor must not follow its name.
    "rmdir_then_symlink_dotdot": (
        [("mkdir", 3, "a"), ("open", 3, "a", DIRECTORY, False, "s0"), ("rmdir", 3, "a"),
         ("symlink", "..", 3, "a"),
         ("open", "s0", "outside.txt", 0, False, "s1"), ("read", "s1"),
         ("open", "s0", "x", CREAT, True, "s2"),
         ("readdir", "s0"), ("open", "s0", ".", DIRECTORY, False, "s3"), ("readdir", "s3")],
        [(0, b""), (0, b""), (0, b""), (0, b""),
         (E.ENOENT, b""), (E.EBADF, b""), (E.ENOENT, b""),
         (0, b""), (0, b""), (0, b"")],
        [(E.EPERM, b""), (E.ENOENT, b""), (E.EPERM, b""), (E.EPERM, b""),
         (E.EBADF, b""), (E.EBADF, b""), (E.EBADF, b""),
         (E.EBADF, b""), (E.EBADF, b""), (E.EBADF, b"")], True),
    "rmdir_then_symlink_to_root": (
        [("mkdir", 3, "a"), ("open", 3, "a", DIRECTORY, False, "s0"), ("rmdir", 3, "a"),
         ("symlink", "../../../../../../../../..", 3, "a"),
         ("open", "s0", "etc/passwd", 0, False, "s1"), ("read", "s1"),
         ("open", 3, "a/etc/passwd", 0, False, "s2")],
        [(0, b""), (0, b""), (0, b""), (0, b""), (E.ENOENT, b""), (E.EBADF, b""),
         (E.EPERM, b"")],
        [(E.EPERM, b""), (E.ENOENT, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EBADF, b""),
         (E.EBADF, b""), (E.ENOENT, b"")], True),
    "rename_then_symlink": (
        [("mkdir", 3, "a"), ("open", 3, "a", DIRECTORY, False, "s0"),
         ("rename", 3, "a", 3, "b"), ("symlink", "..", 3, "a"),
         ("open", "s0", "outside.txt", 0, False, "s1"),
         ("open", "s0", "made", CREAT, True, "s2"), ("stat", 3, "b/made", False),
         ("stat", 3, "a/made", True)],
        [(0, b""), (0, b""), (0, b""), (0, b""), (E.ENOENT, b""), (0, b""), (0, b""),
         (E.EPERM, b"")],
        [(E.EPERM, b""), (E.ENOENT, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EBADF, b""),
         (E.EBADF, b""), (E.ENOENT, b""), (E.ENOENT, b"")], True),
    "dotdot_escapes": (
        [("open", 3, "../outside.txt", 0, False, "s0"), ("read", "s0"),
         ("open", 3, "sub/../../outside.txt", 0, False, "s1"),
         ("open", 3, "sub/../f.txt", 0, False, "s2"), ("read", "s2"),
         ("open", 3, "sub", DIRECTORY, False, "s3"),
         ("open", "s3", "../f.txt", 0, False, "s4"),
         ("stat", 3, "..", True), ("mkdir", 3, "../made"), ("unlink", 3, "../outside.txt")],
        [(E.EPERM, b""), (E.EBADF, b""), (E.EPERM, b""), (0, b""), (0, b"inside"), (0, b""),
         (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b"")],
        [(E.EPERM, b""), (E.EBADF, b""), (E.EPERM, b""), (0, b""), (0, b"inside"), (0, b""),
         (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b"")], True),
    "symlink_chains": (
        [("open", 3, "chain1", 0, False, "s0"), ("read", "s0"),
         ("open", 3, "hop1", 0, False, "s1"), ("stat", 3, "hop1", True),
         ("open", 3, "loop", 0, False, "s2"), ("open", 3, "long0", 0, False, "s3"),
         ("open", 3, "long1", 0, False, "s4"), ("read", "s4"),
         ("open", 3, "chain1", CREAT, True, "s5")],
        [(E.EPERM, b""), (E.EBADF, b""), (E.EPERM, b""), (E.EPERM, b""), (E.ELOOP, b""),
         (E.ELOOP, b""), (0, b""), (0, b"inside"), (E.EPERM, b"")],
        None, True),
    "absolute_symlinks": (
        [("open", 3, "abs_link", 0, False, "s0"), ("read", "s0"),
         ("stat", 3, "abs_link", True), ("stat", 3, "abs_link", False),
         ("symlink", "/etc/passwd", 3, "mine"), ("open", 3, "/etc/passwd", 0, False, "s1"),
         ("readlink", 3, "abs_link")],
        [(E.EPERM, b""), (E.EBADF, b""), (E.EPERM, b""), (0, b""), (E.EPERM, b""),
         (E.EPERM, b""), (E.EPERM, b"")],
        None, True),
    "hard_links_stay_inside": (
        [("link", 3, False, "../outside.txt", 3, "h1"),
         ("link", 3, False, "f.txt", 3, "../h4"),
         ("link", 3, False, "up_link", 3, "h5"), ("open", 3, "h5", 0, False, "s0"),
         ("read", "s0"), ("link", 3, False, "sub/hop2", 3, "sub/h6"),
         ("open", 3, "sub/h6", 0, False, "s1")],
        [(E.EPERM, b""), (E.EPERM, b""), (LINK_SYMLINK, b""), (OPEN_LINKED, b""),
         (E.EBADF, b""), (LINK_SYMLINK, b""), (OPEN_LINKED, b"")],
        [(E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.ENOENT, b""), (E.EBADF, b""),
         (E.EPERM, b""), (E.ENOENT, b"")], True),
    # Linking what a symlink points to (SYMLINK_FOLLOW; wasmtime: EINVAL, unsupported):
    # the target resolves in the sandbox, so one outside is refused.
    "hard_links_following": (
        [("link", 3, True, "up_link", 3, "h2"), ("link", 3, True, "abs_link", 3, "h3"),
         ("link", 3, True, "chain1", 3, "h4"), ("link", 3, True, "long1", 3, "h5"),
         ("open", 3, "h5", 0, False, "s0"), ("read", "s0")],
        [(E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (0, b""), (0, b""),
         (0, b"inside")],
        [(E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.ENOENT, b""),
         (E.EBADF, b"")], False),
    # wasmtime returns a relative target climbing out ("../outside.txt"); we refuse it
    # as an absolute one: no symlink text naming the host tree around the sandbox.
    "readlink_never_leaves": (
        [("readlink", 3, "up_link"), ("readlink", 3, "sub/hop2"), ("readlink", 3, "chain1"),
         ("readlink", 3, "abs_link")],
        [(E.EPERM, b""), (E.EPERM, b""), (0, b"chain2"), (E.EPERM, b"")],
        None, False),
    "read_only_refuses_writes": (
        [("open", 3, "f.txt", 0, True, "s0"), ("open", 3, "new", CREAT, True, "s1"),
         ("open", 3, "f.txt", TRUNC, False, "s2"), ("mkdir", 3, "d"), ("rmdir", 3, "sub"),
         ("unlink", 3, "f.txt"), ("rename", 3, "f.txt", 3, "g.txt"),
         ("symlink", "f.txt", 3, "sl"), ("link", 3, False, "f.txt", 3, "hl"),
         ("set_times", 3, "f.txt"), ("open", 3, "f.txt", 0, False, "s3"),
         ("write", "s3", b"x"), ("set_size", "s3"), ("read", "s3"),
         ("open", 3, "sub", DIRECTORY, False, "s4"), ("mkdir", "s4", "d"),
         ("open", "s4", "n", CREAT, True, "s5")],
        [(0, b""), (0, b""), (0, b""), (0, b""), (E.ENOTEMPTY, b""), (0, b""),
         (E.ENOENT, b""), (0, b""), (E.ENOENT, b""), (E.ENOENT, b""), (E.ENOENT, b""),
         (E.EBADF, b""), (E.EBADF, b""), (E.EBADF, b""), (0, b""), (0, b""), (0, b"")],
        [(E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""),
         (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""), (E.EPERM, b""),
         (0, b""), (E.EBADF, b""), (E.EPERM, b""), (0, b"inside"), (0, b""),
         (E.EPERM, b""), (E.EPERM, b"")], True),
}


def _snapshot(tmp: str) -> Tuple[List[str], bytes, int]:
    out = os.path.join(tmp, "outside.txt")
    with open(out, "rb") as f:
        content = f.read()
    return outside_entries(tmp), content, os.stat(out).st_nlink


def _check(tmp: str, before: Tuple[List[str], bytes, int], results: List[Tuple[int, bytes]],
           expected: List[Tuple[int, bytes]]) -> None:
    assert results == expected
    # nothing created, changed or linked beside the preopen, no secret read
    assert _snapshot(tmp) == before
    assert all(SECRET not in data and b"root:" not in data for _, data in results)


def _expected(name: str, read_only: bool) -> List[Tuple[int, bytes]]:
    _, rw, ro, _ = ATTACKS[name]
    return ro if read_only and ro is not None else rw


MODES = [pytest.param(False, id="rw"), pytest.param(True, id="ro")]


@pytest.mark.parametrize("read_only", MODES)
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_api(tmp_path, name, read_only):
    tmp = str(tmp_path)
    sand = make_tree(tmp)
    before = _snapshot(tmp)
    driver = Driver("purewasm", [(sand, "sand", read_only)])
    try:
        results = run_api(driver, ATTACKS[name][0])
    finally:
        driver.close()
    _check(tmp, before, results, _expected(name, read_only))


@pytest.mark.parametrize("read_only", MODES)
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_cli(tmp_path, name, read_only):
    tmp = str(tmp_path)
    make_tree(tmp)
    before = _snapshot(tmp)
    results = run_cli(tmp, ATTACKS[name][0], read_only)
    _check(tmp, before, results, _expected(name, read_only))


@pytest.mark.parametrize("read_only", MODES)
@pytest.mark.parametrize("name", sorted(n for n in ATTACKS if ATTACKS[n][3]))
def test_attack_same_as_wasmtime(tmp_path, name, read_only):
    pytest.importorskip("wasmtime")
    results = {}
    for kind in ("wasmtime", "purewasm"):
        tmp = str(tmp_path / kind)
        os.mkdir(tmp)
        sand = make_tree(tmp)
        driver = Driver(kind, [(sand, "sand", read_only)])
        try:
            results[kind] = run_api(driver, ATTACKS[name][0])
        finally:
            driver.close()
    assert results["purewasm"] == results["wasmtime"]


# --- a real C program doing the escape sequence -------------------------------------------

ESCAPE_EXPECTED = b"""mkdir a: ok
open a: ok
rmdir a: ok
symlink .. a: ok
openat outside.txt: -1 No such file or directory
openat created O_CREAT: -1 No such file or directory
fdopendir: 0 entries
mkdir b: ok
open b: ok
rmdir b: ok
symlink ../../.. b: ok
openat etc/passwd: -1 No such file or directory
open b/etc/passwd: -1 Operation not permitted
open a/outside.txt: -1 Operation not permitted
"""


def test_escape_program_cli_and_wasmtime(tmp_path):
    from programs import harness
    wasm = harness.build("sandbox_escape_dirfd.c")
    results = {}
    for kind in ("purewasm", "wasmtime"):
        tmp = str(tmp_path / kind)
        os.mkdir(tmp)
        sand = make_tree(tmp)
        before = _snapshot(tmp)
        if kind == "wasmtime":
            res = harness.run_wasmtime(wasm, dirs=[(sand, "sand")])
            out, code = res.stdout, res.code
        else:
            env = dict(os.environ,
                       PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
            proc = subprocess.run([sys.executable, "-m", "purewasm", "run", "--dir",
                                   sand + "::sand", wasm], capture_output=True, env=env,
                                  cwd=tmp, timeout=300)
            out, code = proc.stdout, proc.returncode
        assert _snapshot(tmp) == before
        assert not os.path.exists(os.path.join(tmp, "created"))
        results[kind] = (code, out)
    assert results["purewasm"] == (0, ESCAPE_EXPECTED)
    assert results["wasmtime"] == results["purewasm"]


# --- a host process changing the tree between two calls ----------------------------------

@pytest.mark.parametrize("read_only", MODES)
def test_directory_swapped_by_the_host_keeps_the_descriptor(tmp_path, read_only):
    """The guest holds sand/a; the host renames it away and puts a symlink to the parent
    (and then one to /) in its place: the descriptor still names the directory it opened."""
    tmp = str(tmp_path)
    sand = make_tree(tmp)
    os.mkdir(os.path.join(sand, "a"))
    with open(os.path.join(sand, "a", "mine.txt"), "wb") as f:
        f.write(b"mine")
    driver = Driver("purewasm", [(sand, "sand", read_only)])
    try:
        err, dfd = driver.open("a", DIRECTORY)
        assert err == 0
        os.rename(os.path.join(sand, "a"), os.path.join(sand, "moved"))
        os.symlink("..", os.path.join(sand, "a"))
        assert driver.open("outside.txt", dirfd=dfd)[0] == E.ENOENT
        err, fd = driver.open("mine.txt", dirfd=dfd)
        assert err == 0 and driver.read(fd) == (0, b"mine")
        assert driver.readdir(dfd) == (0, [b"mine.txt"])
        os.unlink(os.path.join(sand, "a"))
        os.symlink("/", os.path.join(sand, "a"))
        assert driver.open("etc/passwd", dirfd=dfd)[0] == E.ENOENT
        assert driver.open("a/etc/passwd")[0] == E.EPERM
        err, _ = driver.open("new", CREAT, write=True, dirfd=dfd)
        assert err == (E.EPERM if read_only else 0)
        assert os.path.exists(os.path.join(sand, "moved", "new")) == (not read_only)
        # the preopen itself renamed on the host: still the same directory
        os.rename(sand, os.path.join(tmp, "sand2"))
        os.mkdir(sand)
        err, fd = driver.open("f.txt")
        assert err == 0 and driver.read(fd) == (0, b"inside")
    finally:
        driver.close()
    assert sorted(os.listdir(tmp)) == ["outside.txt", "sand", "sand2"]
    assert os.listdir(sand) == []


# --- limits: path length, NUL, descriptor table -----------------------------------------

def test_long_paths_are_refused_in_linear_time(tmp_path):
    sand = make_tree(str(tmp_path))
    driver = Driver("purewasm", [(sand, "sand", False)])
    try:
        t0 = time.perf_counter()
        assert driver.open("./" * 800000 + "f.txt")[0] == E.ENAMETOOLONG      # 1.6 MB
        assert time.perf_counter() - t0 < 2.0        # was 33 s (quadratic walk)
        assert driver.open("./" * 2045 + "f.txt")[0] == 0          # 4095 bytes: fine
        assert driver.open("./" * 2046 + "f.txt")[0] == E.ENAMETOOLONG     # 4097 bytes
        assert driver.open("x" * 255)[0] == E.ENOENT
        assert driver.open("x" * 256)[0] == E.ENAMETOOLONG
        assert driver.open("sub/" + "é" * 128)[0] == E.ENAMETOOLONG      # 256 bytes
        # 2,000 components: one pass over them
        t0 = time.perf_counter()
        assert driver.open("sub/.." + "/sub/.." * 580 + "/f.txt")[0] == 0
        assert time.perf_counter() - t0 < 2.0
        assert driver.open("f\0.txt")[0] == E.EINVAL                     # wasmtime: EINVAL
        assert driver.mkdir("d\0") == E.EINVAL
    finally:
        driver.close()


def test_long_paths_same_as_wasmtime(tmp_path):
    pytest.importorskip("wasmtime")
    paths = ["./" * 2045 + "f.txt", "./" * 2046 + "f.txt", "x" * 255, "x" * 256,
             "f\0.txt", "sub/" * 1000 + "x"]
    results = {}
    for kind in ("wasmtime", "purewasm"):
        tmp = tmp_path / kind
        tmp.mkdir()
        driver = Driver(kind, [(make_tree(str(tmp)), "sand", False)])
        try:
            results[kind] = [driver.open(p)[0] for p in paths]
        finally:
            driver.close()
    assert results["purewasm"] == results["wasmtime"]


def test_descriptor_table_is_capped_and_reuses_the_lowest(tmp_path):
    from purewasm.wasi import WasiConfig, WasiContext
    from purewasm.wasi.core import MAX_FDS
    sand = make_tree(str(tmp_path))
    cfg = WasiConfig()
    cfg.preopen_dir(sand, "sand")
    ctx = WasiContext(cfg)
    assert ctx.max_fds == MAX_FDS == 16384
    ctx.max_fds = 40            # the same code path without 16,384 host descriptors
    mem = bytearray(65536)
    mem[100:105] = b"f.txt"

    def open_() -> int:
        return ctx.path_open(mem, 3, 0, 100, 5, 0, C.RIGHTS_FD_READ, 0, 0, 200)

    opened = []
    for _ in range(36):         # 0-3 are taken: stdio and the preopen
        assert open_() == 0
        opened.append(struct.unpack_from("<I", mem, 200)[0])
    assert opened == list(range(4, 40))
    from purewasm.wasi.core import WasiError
    with pytest.raises(WasiError) as exc:
        open_()
    assert exc.value.errno == E.EMFILE
    assert ctx.fd_close(mem, 17) == 0 and ctx.fd_close(mem, 9) == 0
    assert open_() == 0 and struct.unpack_from("<I", mem, 200)[0] == 9
    assert open_() == 0 and struct.unpack_from("<I", mem, 200)[0] == 17
    ctx.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_host_handles_released(tmp_path):
    from purewasm.wasi import WasiConfig, WasiContext
    sand = make_tree(str(tmp_path))
    before = len(os.listdir("/proc/self/fd"))
    cfg = WasiConfig()
    cfg.preopen_dir(sand, "sand")
    driver = Driver("purewasm", [(sand, "sand", False)])
    for _ in range(5):
        assert driver.open("sub", DIRECTORY)[0] == 0
        assert driver.open("f.txt")[0] == 0
        assert driver.open("sub/../hop1")[0] == E.EPERM       # walks and fails
    err, fd = driver.open("sub", DIRECTORY)
    during = len(os.listdir("/proc/self/fd"))
    assert during == before + 1 + 11            # the preopen, 11 opened descriptors
    assert driver.close_fd(fd) == 0
    assert len(os.listdir("/proc/self/fd")) == during - 1
    driver.close()
    assert len(os.listdir("/proc/self/fd")) == before
    # a context dropped without close() releases its handles too
    ctx = WasiContext(cfg)
    assert len(os.listdir("/proc/self/fd")) == before + 1
    del ctx
    assert len(os.listdir("/proc/self/fd")) == before


# --- hosts without dir_fd (Windows): paths checked by identity ----------------------------

@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attacks_without_dir_fd_support(tmp_path, monkeypatch, name):
    """The fallback for hosts lacking openat & co. (forced here): every step re-checks
    that the directory's path still names the directory opened. The errnos may differ
    (a moved directory is ENOENT) but nothing outside is ever reached."""
    from purewasm.wasi import core
    monkeypatch.setattr(core, "_USE_DIR_FD", False)
    tmp = str(tmp_path)
    sand = make_tree(tmp)
    before = _snapshot(tmp)
    driver = Driver("purewasm", [(sand, "sand", False)])
    try:
        assert driver.store._rt.wasi.fds[3].handle.fd is None  # noqa: SLF001
        results = run_api(driver, ATTACKS[name][0])
    finally:
        driver.close()
    assert _snapshot(tmp) == before
    assert all(SECRET not in data and b"root:" not in data for _, data in results)
    assert not os.path.exists(os.path.join(tmp, "x")) and \
        not os.path.exists(os.path.join(tmp, "made"))


# --- the configuration API ----------------------------------------------------------------

def test_dir_perms_api():
    import purewasm
    from purewasm import DirPerms, FilePerms, WasiConfig
    assert purewasm.wasi.DirPerms is DirPerms
    assert [(p.name, p.value) for p in DirPerms] == [("READ_ONLY", 1), ("WRITE_ONLY", 2),
                                                     ("READ_WRITE", 3)]
    assert [(p.name, p.value) for p in FilePerms] == [("READ_ONLY", 1), ("WRITE_ONLY", 2),
                                                      ("READ_WRITE", 3)]
    cfg = WasiConfig()
    cfg.preopen_dir(".", "a")
    cfg.preopen_dir(".", "b", DirPerms.READ_ONLY, FilePerms.READ_ONLY)
    cfg.preopen_dir(".", "c", False)                 # the older fs_mutable form
    cfg.preopen_dir(".", "d", fs_mutable=False)
    assert [(p.guest_path, p.dir_perms, p.file_perms, p.writable) for p in cfg.preopens] == [
        ("a", 3, 3, True), ("b", 1, 1, False), ("c", 1, 1, False), ("d", 1, 1, False)]
    with pytest.raises(TypeError):
        cfg.preopen_dir(".", "e", "ro")


def test_cli_ro_dir_keeps_order_and_refuses_writes(tmp_path):
    tmp = str(tmp_path)
    sand = make_tree(tmp)
    other = os.path.join(tmp, "other")
    os.mkdir(other)
    ops = [("mkdir", 3, "d"), ("mkdir", 4, "d")]
    from purewasm import wat2wasm
    wasm = os.path.join(tmp, "p.wasm")
    with open(wasm, "wb") as f:
        f.write(wat2wasm(ops_to_wat(ops)))
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "purewasm", "run", "--ro-dir",
                           sand + "::sand", "--dir", other + "::other", wasm],
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert parse_output(ops, proc.stdout) == [(E.EPERM, b""), (0, b"")]
    assert os.path.isdir(os.path.join(other, "d")) and not os.path.exists(
        os.path.join(sand, "d"))


def test_descriptor_allocation_is_fast_up_to_the_cap():
    """16,381 allocations (3 are stdio): each O(log n), then EMFILE. The linear scan it
    replaces took 52 s for 30,000."""
    from purewasm.wasi import WasiContext
    from purewasm.wasi.core import Descriptor, WasiError
    ctx = WasiContext()
    t0 = time.perf_counter()
    fds = [ctx._alloc_fd(Descriptor(0, 0)) for _ in range(16381)]  # noqa: SLF001
    assert time.perf_counter() - t0 < 2.0
    assert fds == list(range(3, 16384))
    with pytest.raises(WasiError) as exc:
        ctx._alloc_fd(Descriptor(0, 0))  # noqa: SLF001
    assert exc.value.errno == E.EMFILE
    mem = bytearray(16)
    for fd in (10000, 5, 700):
        assert ctx.fd_close(mem, fd) == 0
    assert [ctx._alloc_fd(Descriptor(0, 0)) for _ in range(3)] == [5, 700, 10000]  # noqa: SLF001
