"""Direct tests of each WASI preview1 function over a bytearray memory (no runtime needed):
the success path and the errnos each can return, sandbox refusals included."""
from __future__ import annotations

import os
import stat
import struct
import sys
import time

import pytest

from purewasm.errors import ExitTrap
from purewasm.wasi import BINDINGS, WasiConfig, WasiContext, bound_functions
from purewasm.wasi import constants as C

POSIX = os.name == "posix"


class Guest:
    """A WASI context plus a 64 KiB guest memory with a bump allocator."""

    def __init__(self, config: WasiConfig) -> None:
        self.ctx = WasiContext(config)
        self.mem = bytearray(65536)
        self.top = 1024
        self.fn = {name: f for name, _, f in bound_functions(self.ctx)}

    def __getattr__(self, name):
        fn = self.__dict__.get("fn", {}).get(name)
        if fn is None:
            raise AttributeError(name)
        return lambda *args: fn(self.mem, *args)

    def alloc(self, size: int) -> int:
        p = self.top
        self.top += (size + 7) & ~7
        return p

    def put(self, data) -> tuple:
        if isinstance(data, str):
            data = data.encode()
        p = self.alloc(len(data) + 1)
        self.mem[p:p + len(data)] = data
        return p, len(data)

    def u32(self, p: int) -> int:
        return struct.unpack_from("<I", self.mem, p)[0]

    def u64(self, p: int) -> int:
        return struct.unpack_from("<Q", self.mem, p)[0]

    def bytes(self, p: int, n: int) -> bytes:
        return bytes(self.mem[p:p + n])

    def iovecs(self, *bufs) -> tuple:
        """Write iovecs over the given (ptr, len) buffers; return (iovs_ptr, count)."""
        p = self.alloc(8 * len(bufs))
        for i, (bp, n) in enumerate(bufs):
            struct.pack_into("<II", self.mem, p + 8 * i, bp, n)
        return p, len(bufs)

    def write(self, fd: int, data: bytes) -> tuple:
        buf = self.put(data)
        iovs, n = self.iovecs(buf)
        out = self.alloc(4)
        err = self.fd_write(fd, iovs, n, out)
        return err, self.u32(out)

    def read(self, fd: int, size: int) -> tuple:
        buf = self.alloc(size)
        iovs, n = self.iovecs((buf, size))
        out = self.alloc(4)
        err = self.fd_read(fd, iovs, n, out)
        return err, self.bytes(buf, self.u32(out))

    def open(self, path: str, oflags: int = 0, rights: int = C.RIGHTS_FD_READ,
             fdflags: int = 0, dirfd: int = 3, follow: bool = True) -> tuple:
        p, n = self.put(path)
        out = self.alloc(4)
        err = self.path_open(dirfd, int(follow), p, n, oflags, rights, 0, fdflags, out)
        return err, (self.u32(out) if err == 0 else None)

    def path_call(self, name: str, path: str, *rest, dirfd: int = 3) -> int:
        p, n = self.put(path)
        return getattr(self, name)(dirfd, p, n, *rest)

    def filestat(self, path: str, follow: bool = True, dirfd: int = 3) -> tuple:
        p, n = self.put(path)
        buf = self.alloc(64)
        err = self.path_filestat_get(dirfd, int(follow), p, n, buf)
        return err, struct.unpack_from("<QQBxxxxxxxQQQQQ", self.mem, buf)


@pytest.fixture
def sandbox(tmp_path):
    root = tmp_path / "sand"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello world\n")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret\n")
    if POSIX:
        os.symlink("hello.txt", str(root / "link"))
        os.symlink("../outside/secret.txt", str(root / "out_rel"))
        os.symlink(str(outside / "secret.txt"), str(root / "out_abs"))
        os.symlink("loop", str(root / "loop"))
        os.symlink("sub", str(root / "sublink"))
    return tmp_path


@pytest.fixture
def guest(sandbox):
    cfg = WasiConfig()
    cfg.argv = ["prog", "arg one", "ü"]
    cfg.env = {"A": "1", "B": "x=y"}
    cfg.stdin_bytes(b"line1\nline2\n")
    out, err = bytearray(), bytearray()
    cfg.stdout_custom = out
    cfg.stderr_custom = err
    cfg.preopen_dir(str(sandbox / "sand"), "/sand")
    g = Guest(cfg)
    g.out, g.err, g.root = out, err, sandbox / "sand"
    yield g
    g.ctx.close()


# --- the binding table ----------------------------------------------------------------------

EXPECTED = """args_get args_sizes_get environ_get environ_sizes_get clock_res_get clock_time_get
fd_advise fd_allocate fd_close fd_datasync fd_fdstat_get fd_fdstat_set_flags
fd_fdstat_set_rights fd_filestat_get fd_filestat_set_size fd_filestat_set_times fd_pread
fd_prestat_get fd_prestat_dir_name fd_pwrite fd_read fd_readdir fd_renumber fd_seek fd_sync
fd_tell fd_write path_create_directory path_filestat_get path_filestat_set_times path_link
path_open path_readlink path_remove_directory path_rename path_symlink path_unlink_file
poll_oneoff proc_exit proc_raise random_get sched_yield sock_accept sock_recv sock_send
sock_shutdown""".split()


def test_binding_table_is_complete_and_typed():
    names = [b[0] for b in BINDINGS]
    assert sorted(names) == sorted(EXPECTED)
    assert len(set(names)) == len(names)
    ctx = WasiContext()
    for name, params, results, impl in BINDINGS:
        assert impl.__name__ == name
        # one Python parameter per Wasm parameter, after self and mem
        assert impl.__code__.co_argcount == len(params) + 2, name
        assert results == (() if name == "proc_exit" else ("i32",)), name
        assert set(params) <= {"i32", "i64"}
    ctx.close()


def test_signatures_match_wasi_libc_imports():
    # A few signatures spelled out by the witx spec, with i64 in the right places.
    sig = {b[0]: b[1] for b in BINDINGS}
    assert sig["path_open"] == ("i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32")
    assert sig["fd_seek"] == ("i32", "i64", "i32", "i32")
    assert sig["clock_time_get"] == ("i32", "i64", "i32")
    assert sig["fd_readdir"] == ("i32", "i32", "i32", "i64", "i32")
    assert sig["path_filestat_set_times"] == ("i32", "i32", "i32", "i32", "i64", "i64", "i32")


# --- args / environ -------------------------------------------------------------------------

def test_args(guest):
    sizes = guest.alloc(8)
    assert guest.args_sizes_get(sizes, sizes + 4) == 0
    argc, size = guest.u32(sizes), guest.u32(sizes + 4)
    assert argc == 3 and size == len(b"prog\0arg one\0\xc3\xbc\0")
    argv, buf = guest.alloc(4 * argc), guest.alloc(size)
    assert guest.args_get(argv, buf) == 0
    strs = [guest.mem[guest.u32(argv + 4 * i):].split(b"\0")[0] for i in range(argc)]
    assert strs == [b"prog", b"arg one", "ü".encode()]


def test_environ(guest):
    sizes = guest.alloc(8)
    assert guest.environ_sizes_get(sizes, sizes + 4) == 0
    n, size = guest.u32(sizes), guest.u32(sizes + 4)
    ptrs, buf = guest.alloc(4 * n), guest.alloc(size)
    assert guest.environ_get(ptrs, buf) == 0
    strs = [guest.mem[guest.u32(ptrs + 4 * i):].split(b"\0")[0] for i in range(n)]
    assert strs == [b"A=1", b"B=x=y"]


def test_nothing_from_host_by_default(monkeypatch):
    monkeypatch.setenv("PUREWASM_SECRET", "leak")
    g = Guest(WasiConfig())
    sizes = g.alloc(8)
    assert g.environ_sizes_get(sizes, sizes + 4) == 0 and g.u32(sizes) == 0
    assert g.args_sizes_get(sizes, sizes + 4) == 0 and g.u32(sizes) == 0
    assert g.fd_prestat_get(3, g.alloc(8)) == C.EBADF      # no preopens
    assert g.read(0, 10) == (0, b"")                          # empty stdin
    assert g.write(1, b"discarded") == (0, 9)                 # stdout discarded


def test_inherit_env_and_argv(monkeypatch):
    monkeypatch.setenv("PUREWASM_VISIBLE", "yes")
    cfg = WasiConfig()
    cfg.inherit_env()
    cfg.inherit_argv()
    g = Guest(cfg)
    assert b"PUREWASM_VISIBLE=yes\0" in g.ctx.environ
    assert len(g.ctx.args) == len(sys.argv)


def test_args_fault(guest):
    assert guest.args_sizes_get(65534, 0) == C.EFAULT
    assert guest.args_get(65530, 0) == C.EFAULT
    assert guest.environ_get(0, 65534) == C.EFAULT


# --- clocks, random, sched, proc ------------------------------------------------------------

def test_clocks(guest):
    p = guest.alloc(8)
    for cid in range(4):
        assert guest.clock_res_get(cid, p) == 0 and guest.u64(p) > 0
        assert guest.clock_time_get(cid, 1, p) == 0
    assert guest.clock_time_get(C.CLOCK_REALTIME, 0, p) == 0
    assert abs(guest.u64(p) - time.time_ns()) < 10 ** 9
    assert guest.clock_time_get(C.CLOCK_MONOTONIC, 0, p) == 0
    a = guest.u64(p)
    guest.clock_time_get(C.CLOCK_MONOTONIC, 0, p)
    assert guest.u64(p) >= a
    assert guest.clock_time_get(7, 0, p) == C.EINVAL
    assert guest.clock_res_get(7, p) == C.EINVAL
    assert guest.clock_time_get(0, 0, 65532) == C.EFAULT


def test_random(guest):
    p = guest.alloc(64)
    assert guest.random_get(p, 64) == 0
    first = guest.bytes(p, 64)
    assert guest.random_get(p, 64) == 0
    assert guest.bytes(p, 64) != first
    assert guest.random_get(65530, 64) == C.EFAULT
    assert guest.random_get(p, 0) == 0


def test_sched_yield_and_proc(guest):
    assert guest.sched_yield() == 0
    assert guest.proc_raise(9) == C.ENOSYS
    with pytest.raises(ExitTrap) as info:
        guest.proc_exit(42)
    assert info.value.code == 42


# --- stdio ----------------------------------------------------------------------------------

def test_stdout_stderr_into_buffers(guest):
    assert guest.write(1, b"out") == (0, 3)
    assert guest.write(2, b"err") == (0, 3)
    a, b = guest.put(b"abc"), guest.put(b"defg")
    iovs, n = guest.iovecs(a, b)
    out = guest.alloc(4)
    assert guest.fd_write(1, iovs, n, out) == 0 and guest.u32(out) == 7
    assert bytes(guest.out) == b"outabcdefg" and bytes(guest.err) == b"err"


def test_stdout_callable_and_file(tmp_path):
    got = []
    cfg = WasiConfig()
    cfg.stdout_custom = got.append
    cfg.stderr_file = str(tmp_path / "err.txt")
    g = Guest(cfg)
    g.write(1, b"to callable")
    g.write(2, b"to file")
    g.ctx.close()
    assert got == [b"to callable"]
    assert (tmp_path / "err.txt").read_bytes() == b"to file"


def test_stdin(guest):
    assert guest.read(0, 3) == (0, b"lin")
    buf1, buf2 = guest.alloc(4), guest.alloc(100)
    iovs, n = guest.iovecs((buf1, 4), (buf2, 100))
    out = guest.alloc(4)
    assert guest.fd_read(0, iovs, n, out) == 0
    assert guest.u32(out) == 9
    assert guest.bytes(buf1, 4) + guest.bytes(buf2, 5) == b"e1\nline2\n"
    assert guest.read(0, 10) == (0, b"")
    assert guest.write(0, b"x")[0] == C.EBADF
    assert guest.read(1, 1)[0] == C.EBADF


def test_stdin_file(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"from file")
    cfg = WasiConfig()
    cfg.stdin_file = str(tmp_path / "in.txt")
    g = Guest(cfg)
    assert g.read(0, 100) == (0, b"from file")
    g.ctx.close()


def test_inherited_stdout(capfdbinary):
    cfg = WasiConfig()
    cfg.inherit_stdout()
    g = Guest(cfg)
    g.write(1, b"inherited\n")
    assert b"inherited" in capfdbinary.readouterr().out


def test_stdio_not_seekable(guest):
    p = guest.alloc(8)
    assert guest.fd_seek(1, 0, 0, p) == C.ESPIPE
    assert guest.fd_tell(0, p) == C.ESPIPE
    assert guest.fd_pread(0, *guest.iovecs((p, 1)), 0, p) == C.ESPIPE
    assert guest.fd_pwrite(1, *guest.iovecs((p, 1)), 0, p) == C.ESPIPE
    assert guest.fd_sync(1) == C.EBADF
    assert guest.fd_datasync(1) == C.EBADF
    assert guest.fd_advise(1, 0, 0, 0) == C.EBADF
    assert guest.fd_fdstat_set_flags(1, C.FDFLAGS_NONBLOCK) == C.EBADF


def test_write_faults(guest):
    out = guest.alloc(4)
    assert guest.fd_write(1, 65530, 2, out) == C.EFAULT           # iovec array out
    iovs, n = guest.iovecs((65000, 1000))                         # buffer out
    assert guest.fd_write(1, iovs, n, out) == C.EFAULT
    iovs, n = guest.iovecs(guest.put(b"x"))
    assert guest.fd_write(1, iovs, n, 65534) == C.EFAULT          # result pointer out
    assert guest.fd_write(99, iovs, n, out) == C.EBADF


# --- fd_* on files --------------------------------------------------------------------------

def test_prestat(guest):
    p = guest.alloc(8)
    assert guest.fd_prestat_get(3, p) == 0
    assert guest.mem[p] == 0 and guest.u32(p + 4) == len("/sand")
    name = guest.alloc(16)
    assert guest.fd_prestat_dir_name(3, name, 16) == 0
    assert guest.bytes(name, 5) == b"/sand"
    assert guest.fd_prestat_dir_name(3, name, 2) == C.ENAMETOOLONG
    assert guest.fd_prestat_get(4, p) == C.EBADF
    assert guest.fd_prestat_get(1, p) == C.EBADF
    assert guest.fd_prestat_dir_name(1, name, 16) == C.EBADF


def test_open_read_seek_tell_close(guest):
    err, fd = guest.open("hello.txt")
    assert err == 0 and fd == 4
    assert guest.read(fd, 5) == (0, b"hello")
    p = guest.alloc(8)
    assert guest.fd_tell(fd, p) == 0 and guest.u64(p) == 5
    assert guest.fd_seek(fd, (-3) & 0xFFFFFFFFFFFFFFFF, C.WHENCE_END, p) == 0
    assert guest.u64(p) == 9
    assert guest.read(fd, 100) == (0, b"ld\n")
    assert guest.fd_seek(fd, 2, C.WHENCE_SET, p) == 0 and guest.u64(p) == 2
    assert guest.fd_seek(fd, 1, C.WHENCE_CUR, p) == 0 and guest.u64(p) == 3
    assert guest.fd_seek(fd, (-10) & 0xFFFFFFFFFFFFFFFF, C.WHENCE_SET, p) == C.EINVAL
    assert guest.fd_seek(fd, 0, 3, p) == C.EINVAL
    assert guest.write(fd, b"x")[0] == C.EBADF                  # opened read-only
    assert guest.fd_close(fd) == 0
    assert guest.fd_close(fd) == C.EBADF
    assert guest.read(fd, 1)[0] == C.EBADF
    assert guest.fd_seek(fd, 0, 0, p) == C.EBADF


def test_pread_pwrite(guest):
    err, fd = guest.open("hello.txt", rights=C.RIGHTS_FD_READ | C.RIGHTS_FD_WRITE)
    assert err == 0
    buf = guest.alloc(16)
    out = guest.alloc(4)
    assert guest.fd_pread(fd, *guest.iovecs((buf, 5)), 6, out) == 0
    assert guest.bytes(buf, guest.u32(out)) == b"world"
    assert guest.fd_pwrite(fd, *guest.iovecs(guest.put(b"WORLD")), 6, out) == 0
    assert guest.u32(out) == 5
    p = guest.alloc(8)
    assert guest.fd_tell(fd, p) == 0 and guest.u64(p) == 0   # position untouched
    assert (guest.root / "hello.txt").read_bytes() == b"hello WORLD\n"
    assert guest.fd_pread(fd, *guest.iovecs((buf, 5)), 1 << 63, out) == C.EINVAL
    err, dfd = guest.open("sub")
    assert guest.fd_pread(dfd, *guest.iovecs((buf, 5)), 0, out) == C.EBADF


def test_write_create_trunc_append(guest):
    W = C.RIGHTS_FD_WRITE
    err, fd = guest.open("new.txt", C.OFLAGS_CREAT, rights=W)
    assert err == 0
    assert guest.write(fd, b"abc") == (0, 3)
    assert guest.read(fd, 1)[0] == C.EBADF                     # opened write-only
    guest.fd_close(fd)
    assert guest.open("new.txt", C.OFLAGS_CREAT | C.OFLAGS_EXCL, rights=W)[0] == C.EEXIST
    err, fd = guest.open("new.txt", rights=W, fdflags=C.FDFLAGS_APPEND)
    p = guest.alloc(24)
    guest.fd_seek(fd, 0, 0, p)
    guest.write(fd, b"def")
    assert guest.fd_fdstat_get(fd, p) == 0
    assert guest.mem[p] == C.FILETYPE_REGULAR_FILE
    assert struct.unpack_from("<H", guest.mem, p + 2)[0] == C.FDFLAGS_APPEND
    guest.fd_close(fd)
    assert (guest.root / "new.txt").read_bytes() == b"abcdef"
    err, fd = guest.open("new.txt", C.OFLAGS_TRUNC, rights=W)
    assert err == 0 and (guest.root / "new.txt").read_bytes() == b""


def test_fdstat_flags_and_rights(guest):
    err, fd = guest.open("hello.txt", rights=C.RIGHTS_FD_READ | C.RIGHTS_FD_WRITE)
    p = guest.alloc(24)
    assert guest.fd_fdstat_set_flags(fd, C.FDFLAGS_APPEND) == 0
    guest.fd_fdstat_get(fd, p)
    assert struct.unpack_from("<H", guest.mem, p + 2)[0] == C.FDFLAGS_APPEND
    guest.write(fd, b"!")
    assert (guest.root / "hello.txt").read_bytes() == b"hello world\n!"
    assert guest.fd_fdstat_set_flags(fd, C.FDFLAGS_SYNC) == C.EINVAL
    assert guest.fd_fdstat_set_flags(fd, 0) == 0
    assert guest.fd_fdstat_set_rights(fd, 0, 0) == C.ENOTSUP   # as wasmtime
    assert guest.fd_fdstat_set_rights(77, 0, 0) == C.EBADF
    assert guest.fd_fdstat_get(3, p) == 0 and guest.mem[p] == C.FILETYPE_DIRECTORY
    assert guest.fd_fdstat_get(77, p) == C.EBADF
    assert guest.fd_fdstat_get(1, p) == 0


def test_filestat_and_set_size_and_times(guest):
    err, fd = guest.open("hello.txt", rights=C.RIGHTS_FD_READ | C.RIGHTS_FD_WRITE)
    buf = guest.alloc(64)
    assert guest.fd_filestat_get(fd, buf) == 0
    st = struct.unpack_from("<QQBxxxxxxxQQQQQ", guest.mem, buf)
    assert st[2] == C.FILETYPE_REGULAR_FILE and st[4] == 12 and st[3] == 1
    assert guest.fd_filestat_set_size(fd, 5) == 0
    assert (guest.root / "hello.txt").read_bytes() == b"hello"
    assert guest.fd_filestat_set_size(fd, 1 << 63) == C.EINVAL
    assert guest.fd_filestat_set_times(fd, 10 ** 18, 2 * 10 ** 18,
                                       C.FSTFLAGS_ATIM | C.FSTFLAGS_MTIM) == 0
    s = os.stat(str(guest.root / "hello.txt"))
    assert s.st_atime_ns == 10 ** 18 and s.st_mtime_ns == 2 * 10 ** 18
    assert guest.fd_filestat_set_times(fd, 0, 0, C.FSTFLAGS_MTIM_NOW) == 0
    assert abs(os.stat(str(guest.root / "hello.txt")).st_mtime_ns - time.time_ns()) < 5e9
    assert guest.fd_filestat_set_times(fd, 0, 0, C.FSTFLAGS_ATIM | C.FSTFLAGS_ATIM_NOW) \
        == C.EINVAL
    assert guest.fd_filestat_set_times(1, 0, 0, C.FSTFLAGS_ATIM_NOW) == C.EBADF
    assert guest.fd_filestat_get(3, buf) == 0 and guest.mem[buf + 16] == C.FILETYPE_DIRECTORY
    assert guest.fd_filestat_get(1, buf) == 0
    assert guest.fd_filestat_get(99, buf) == C.EBADF
    assert guest.fd_filestat_set_size(3, 0) == C.EBADF


def test_sync_advise_allocate(guest):
    err, fd = guest.open("hello.txt", rights=C.RIGHTS_FD_READ | C.RIGHTS_FD_WRITE)
    assert guest.fd_sync(fd) == 0 and guest.fd_datasync(fd) == 0
    assert guest.fd_advise(fd, 0, 100, 1) == 0
    assert guest.fd_advise(fd, 0, 100, 6) == C.EINVAL
    assert guest.fd_advise(3, 0, 100, 1) == C.EBADF
    assert guest.fd_allocate(fd, 0, 100) == 0
    assert os.path.getsize(str(guest.root / "hello.txt")) == 100
    assert guest.fd_allocate(fd, 0, 10) == 0                 # never shrinks
    assert os.path.getsize(str(guest.root / "hello.txt")) == 100
    assert guest.fd_allocate(3, 0, 10) == C.EBADF
    assert guest.fd_sync(3) == C.EBADF
    assert guest.fd_sync(99) == C.EBADF


def test_renumber(guest):
    err, fd = guest.open("hello.txt")
    err, fd2 = guest.open("sub/inner.txt")
    assert guest.fd_renumber(fd, fd2) == 0
    assert guest.read(fd2, 5) == (0, b"hello")
    assert guest.read(fd, 1)[0] == C.EBADF
    assert guest.fd_renumber(fd2, 50) == C.EBADF            # target must be open
    assert guest.fd_renumber(50, fd2) == C.EBADF
    assert guest.fd_renumber(fd2, fd2) == 0


def test_readdir(guest):
    err, fd = guest.open("sub")
    buf = guest.alloc(4096)
    used = guest.alloc(4)
    assert guest.fd_readdir(fd, buf, 4096, 0, used) == 0
    entries = _parse_dirents(guest.bytes(buf, guest.u32(used)))
    assert [(n, t) for n, t, _ in entries] == [
        (b".", C.FILETYPE_DIRECTORY), (b"..", C.FILETYPE_DIRECTORY),
        (b"inner.txt", C.FILETYPE_REGULAR_FILE)]
    # resume from a cookie
    assert guest.fd_readdir(fd, buf, 4096, entries[1][2], used) == 0
    assert [n for n, _, _ in _parse_dirents(guest.bytes(buf, guest.u32(used)))] == [b"inner.txt"]
    assert guest.fd_readdir(fd, buf, 4096, 99, used) == 0 and guest.u32(used) == 0
    # a small buffer is filled completely (the caller retries with a bigger one)
    assert guest.fd_readdir(fd, buf, 30, 0, used) == 0 and guest.u32(used) == 30
    err, ffd = guest.open("hello.txt")
    assert guest.fd_readdir(ffd, buf, 100, 0, used) == C.EBADF
    assert guest.fd_readdir(fd, 65500, 100, 0, used) == C.EFAULT


def _parse_dirents(data: bytes):
    out, pos = [], 0
    while pos + 24 <= len(data):
        d_next, _ino, namlen, dtype = struct.unpack_from("<QQIB", data, pos)
        out.append((data[pos + 24:pos + 24 + namlen], dtype, d_next))
        pos += 24 + namlen
    return out


# --- path_* ---------------------------------------------------------------------------------

def test_path_open_errors(guest):
    assert guest.open("missing")[0] == C.ENOENT
    assert guest.open("")[0] == C.ENOENT
    assert guest.open("hello.txt", C.OFLAGS_DIRECTORY)[0] == C.ENOTDIR
    assert guest.open("hello.txt/x")[0] == C.ENOTDIR
    assert guest.open("hello.txt/")[0] == C.ENOTDIR
    assert guest.open("sub", rights=C.RIGHTS_FD_WRITE)[0] == C.EISDIR
    assert guest.open("sub", C.OFLAGS_CREAT | C.OFLAGS_EXCL)[0] == C.EEXIST
    assert guest.open("newdir", C.OFLAGS_CREAT | C.OFLAGS_DIRECTORY)[0] == C.EINVAL
    assert guest.open("x", dirfd=99)[0] == C.EBADF
    assert guest.open("x", dirfd=1)[0] == C.EBADF
    err, fd = guest.open("hello.txt")
    assert guest.open("x", dirfd=fd)[0] == C.ENOTDIR
    assert guest.open("bad\xff".encode("latin-1").decode("latin-1"))[0] in (C.ENOENT,)
    p, n = guest.put(b"\xff\xfe")
    assert guest.path_open(3, 1, p, n, 0, C.RIGHTS_FD_READ, 0, 0, guest.alloc(4)) == C.EILSEQ
    p, n = guest.put("hello.txt")
    assert guest.path_open(3, 1, p, n, 0, C.RIGHTS_FD_READ, 0, 0, 65534) == C.EFAULT
    assert guest.path_open(3, 1, 65530, 100, 0, C.RIGHTS_FD_READ, 0, 0, 0) == C.EFAULT


def test_open_directory_and_relative_ops(guest):
    err, d = guest.open("sub", C.OFLAGS_DIRECTORY)
    assert err == 0
    err, fd = guest.open("inner.txt", dirfd=d)
    assert err == 0 and guest.read(fd, 100) == (0, b"inner\n")
    # a directory descriptor is a capability root of its own
    assert guest.open("../hello.txt", dirfd=d)[0] == C.EPERM
    assert guest.open("./inner.txt", dirfd=d)[0] == 0
    assert guest.open("sub/../hello.txt")[0] == 0
    assert guest.read(d, 1)[0] == C.EBADF
    assert guest.write(d, b"x")[0] == C.EBADF


@pytest.mark.parametrize("path", ["..", "../outside/secret.txt", "sub/../../outside",
                                  "/etc/passwd", "/sand/hello.txt", "sub/../..",
                                  "./../sand/hello.txt"])
def test_sandbox_refuses_escapes(guest, path):
    assert guest.open(path)[0] == C.EPERM
    assert guest.filestat(path)[0] == C.EPERM
    assert guest.path_call("path_create_directory", path + "/x") == C.EPERM
    assert guest.path_call("path_unlink_file", path) == C.EPERM


@pytest.mark.skipif(not POSIX, reason="symlinks need a POSIX host")
def test_sandbox_refuses_symlinks_out(guest):
    for path in ("out_rel", "out_abs"):
        assert guest.open(path)[0] == C.EPERM
        assert guest.filestat(path, follow=True)[0] == C.EPERM
        # not following the final link is fine: it is the link itself
        err, st = guest.filestat(path, follow=False)
        assert err == 0 and st[2] == C.FILETYPE_SYMBOLIC_LINK
        assert guest.open(path, C.OFLAGS_CREAT | C.OFLAGS_TRUNC,
                          rights=C.RIGHTS_FD_WRITE)[0] == C.EPERM
    assert guest.open("loop")[0] == C.ELOOP
    assert guest.open("link", follow=False)[0] == C.ELOOP      # O_NOFOLLOW
    err, fd = guest.open("link")
    assert err == 0 and guest.read(fd, 5) == (0, b"hello")
    assert guest.open("sublink/inner.txt")[0] == 0
    # creating a link with an absolute target is refused; relative ones are allowed
    tp, tn = guest.put("/etc/passwd")
    np, nn = guest.put("abs")
    assert guest.path_symlink(tp, tn, 3, np, nn) == C.EPERM
    tp, tn = guest.put("../outside")
    np, nn = guest.put("rel")
    assert guest.path_symlink(tp, tn, 3, np, nn) == 0
    assert guest.open("rel/secret.txt")[0] == C.EPERM
    assert guest.path_call("path_create_directory", "rel/new") == C.EPERM
    assert not os.path.exists(str(guest.root.parent / "outside" / "new"))
    assert (guest.root.parent / "outside" / "secret.txt").read_bytes() == b"secret\n"


def test_path_filestat(guest):
    err, st = guest.filestat("hello.txt")
    assert err == 0 and st[2] == C.FILETYPE_REGULAR_FILE and st[4] == 12
    err, st = guest.filestat("sub")
    assert err == 0 and st[2] == C.FILETYPE_DIRECTORY
    err, st = guest.filestat(".")
    assert err == 0 and st[2] == C.FILETYPE_DIRECTORY
    if POSIX:
        err, st = guest.filestat("link", follow=True)
        assert err == 0 and st[2] == C.FILETYPE_REGULAR_FILE
        err, st = guest.filestat("link", follow=False)
        assert err == 0 and st[2] == C.FILETYPE_SYMBOLIC_LINK and st[4] == len("hello.txt")
    assert guest.filestat("nope")[0] == C.ENOENT
    assert guest.filestat("hello.txt/x")[0] == C.ENOTDIR
    assert guest.filestat("x", dirfd=1)[0] == C.EBADF


def test_path_filestat_set_times(guest):
    p, n = guest.put("hello.txt")
    assert guest.path_filestat_set_times(3, 1, p, n, 5 * 10 ** 17, 6 * 10 ** 17,
                                         C.FSTFLAGS_ATIM | C.FSTFLAGS_MTIM) == 0
    s = os.stat(str(guest.root / "hello.txt"))
    assert (s.st_atime_ns, s.st_mtime_ns) == (5 * 10 ** 17, 6 * 10 ** 17)
    assert guest.path_filestat_set_times(3, 1, p, n, 0, 0, C.FSTFLAGS_MTIM | 8) == C.EINVAL
    p, n = guest.put("missing")
    assert guest.path_filestat_set_times(3, 1, p, n, 0, 0, 2) == C.ENOENT


def test_create_and_remove_directory(guest):
    assert guest.path_call("path_create_directory", "d") == 0
    assert (guest.root / "d").is_dir()
    assert guest.path_call("path_create_directory", "d") == C.EEXIST
    assert guest.path_call("path_create_directory", "x/y") == C.ENOENT
    assert guest.path_call("path_create_directory", "hello.txt/y") == C.ENOTDIR
    assert guest.path_call("path_create_directory", ".") == C.EEXIST
    assert guest.path_call("path_remove_directory", "sub") == C.ENOTEMPTY
    assert guest.path_call("path_remove_directory", "hello.txt") == C.ENOTDIR
    assert guest.path_call("path_remove_directory", "nope") == C.ENOENT
    assert guest.path_call("path_remove_directory", "d/.") == C.EINVAL
    assert guest.path_call("path_remove_directory", ".") == C.EINVAL
    assert guest.path_call("path_remove_directory", "d") == 0
    assert not (guest.root / "d").exists()
    assert guest.path_call("path_create_directory", "d", dirfd=1) == C.EBADF


def test_unlink(guest):
    assert guest.path_call("path_unlink_file", "hello.txt") == 0
    assert not (guest.root / "hello.txt").exists()
    assert guest.path_call("path_unlink_file", "hello.txt") == C.ENOENT
    assert guest.path_call("path_unlink_file", "sub") == C.EISDIR
    assert guest.path_call("path_unlink_file", "sub/") == C.EISDIR
    assert guest.path_call("path_unlink_file", ".") == C.EISDIR
    assert guest.path_call("path_unlink_file", "sub/inner.txt/") == C.ENOTDIR
    if POSIX:
        # unlinking a link removes the link, never its target
        assert guest.path_call("path_unlink_file", "out_abs") == 0
        assert (guest.root.parent / "outside" / "secret.txt").exists()


def test_rename(guest):
    o, on = guest.put("hello.txt")
    n, nn = guest.put("sub/renamed.txt")
    assert guest.path_rename(3, o, on, 3, n, nn) == 0
    assert (guest.root / "sub" / "renamed.txt").read_bytes() == b"hello world\n"
    assert guest.path_rename(3, o, on, 3, n, nn) == C.ENOENT
    a, an = guest.put("sub")
    b, bn = guest.put("sub/renamed.txt")
    assert guest.path_rename(3, b, bn, 3, a, an) in (C.EISDIR, C.ENOTEMPTY, C.EEXIST)
    assert guest.path_rename(3, a, an, 3, b, bn) in (C.ENOTDIR, C.EINVAL)
    dot, dn = guest.put(".")
    assert guest.path_rename(3, a, an, 3, dot, dn) == C.EBUSY
    out, outn = guest.put("../stolen")
    assert guest.path_rename(3, b, bn, 3, out, outn) == C.EPERM
    assert guest.path_rename(3, b, bn, 1, out, outn) == C.EBADF


@pytest.mark.skipif(not POSIX, reason="links need a POSIX host")
def test_links_and_readlink(guest):
    o, on = guest.put("hello.txt")
    n, nn = guest.put("hard")
    assert guest.path_link(3, 0, o, on, 3, n, nn) == 0
    assert os.stat(str(guest.root / "hard")).st_nlink == 2
    assert guest.path_link(3, 0, o, on, 3, n, nn) == C.EEXIST
    m, mn = guest.put("missing")
    assert guest.path_link(3, 0, m, mn, 3, guest.put("h2")[0], 2) == C.ENOENT
    up, un = guest.put("../escaped")
    assert guest.path_link(3, 0, o, on, 3, up, un) == C.EPERM
    # symlink + readlink
    t, tn = guest.put("sub/inner.txt")
    s, sn = guest.put("sym")
    assert guest.path_symlink(t, tn, 3, s, sn) == 0
    assert guest.path_symlink(t, tn, 3, s, sn) == C.EEXIST
    buf, used = guest.alloc(64), guest.alloc(4)
    assert guest.path_readlink(3, s, sn, buf, 64, used) == 0
    assert guest.bytes(buf, guest.u32(used)) == b"sub/inner.txt"
    assert guest.path_readlink(3, s, sn, buf, 3, used) == 0 and guest.u32(used) == 3
    assert guest.path_readlink(3, o, on, buf, 64, used) == C.EINVAL    # not a link
    assert guest.path_readlink(3, m, mn, buf, 64, used) == C.ENOENT
    d, dn = guest.put("sub")
    assert guest.path_readlink(3, d, dn, buf, 64, used) == C.EINVAL
    assert guest.path_readlink(3, s, sn, 65530, 64, used) == C.EFAULT


def test_read_only_preopen(sandbox):
    cfg = WasiConfig()
    cfg.preopen_dir(str(sandbox / "sand"), "ro", fs_mutable=False)
    g = Guest(cfg)
    assert g.open("hello.txt")[0] == 0
    assert g.open("hello.txt", rights=C.RIGHTS_FD_WRITE)[0] == C.EPERM
    assert g.open("new", C.OFLAGS_CREAT)[0] == C.EPERM
    assert g.path_call("path_create_directory", "d") == C.EPERM
    assert g.path_call("path_unlink_file", "hello.txt") == C.EPERM
    assert (sandbox / "sand" / "hello.txt").exists()
    g.ctx.close()


def test_preopen_must_be_directory(tmp_path):
    from purewasm.errors import WasmtimeError
    with pytest.raises(WasmtimeError):
        WasiConfig().preopen_dir(str(tmp_path / "missing"), "x")


# --- poll_oneoff ----------------------------------------------------------------------------

def _sub_clock(g, userdata, timeout_ns, abstime=False, clock=C.CLOCK_MONOTONIC):
    p = g.alloc(48)
    struct.pack_into("<QB", g.mem, p, userdata, C.EVENTTYPE_CLOCK)
    struct.pack_into("<IxxxxQQH", g.mem, p + 16, clock, timeout_ns, 0, int(abstime))
    return p


def _sub_fd(g, userdata, fd, kind=C.EVENTTYPE_FD_READ):
    p = g.alloc(48)
    struct.pack_into("<QB", g.mem, p, userdata, kind)
    struct.pack_into("<I", g.mem, p + 16, fd)
    return p


def _events(g, out, n):
    return [struct.unpack_from("<QHBxxxxxQH", g.mem, out + 32 * i) for i in range(n)]


def test_poll_sleeps(guest):
    sub = _sub_clock(guest, 7, 30_000_000)
    out, nev = guest.alloc(32), guest.alloc(4)
    t0 = time.monotonic()
    assert guest.poll_oneoff(sub, out, 1, nev) == 0
    assert time.monotonic() - t0 >= 0.029
    assert guest.u32(nev) == 1
    assert _events(guest, out, 1)[0][:3] == (7, 0, C.EVENTTYPE_CLOCK)


def test_poll_absolute_clock_in_the_past(guest):
    sub = _sub_clock(guest, 1, 1, abstime=True, clock=C.CLOCK_REALTIME)
    out, nev = guest.alloc(32), guest.alloc(4)
    t0 = time.monotonic()
    assert guest.poll_oneoff(sub, out, 1, nev) == 0
    assert time.monotonic() - t0 < 0.5 and guest.u32(nev) == 1


def test_poll_fd_ready_beats_timer(guest):
    base = guest.alloc(48 * 3)
    for i, p in enumerate((_sub_clock(guest, 1, 5 * 10 ** 9), _sub_fd(guest, 2, 0),
                           _sub_fd(guest, 3, 1, C.EVENTTYPE_FD_WRITE))):
        guest.mem[base + 48 * i:base + 48 * (i + 1)] = guest.mem[p:p + 48]
    out, nev = guest.alloc(32 * 3), guest.alloc(4)
    t0 = time.monotonic()
    assert guest.poll_oneoff(base, out, 3, nev) == 0
    assert time.monotonic() - t0 < 1
    evs = _events(guest, out, guest.u32(nev))
    assert sorted(e[0] for e in evs) == [2, 3]


def test_poll_errors(guest):
    out, nev = guest.alloc(64), guest.alloc(4)
    assert guest.poll_oneoff(0, out, 0, nev) == C.EINVAL
    sub = _sub_fd(guest, 9, 99)
    assert guest.poll_oneoff(sub, out, 1, nev) == 0
    assert _events(guest, out, 1)[0][:2] == (9, C.EBADF)
    assert guest.poll_oneoff(65500, out, 1, nev) == C.EFAULT


# --- sockets --------------------------------------------------------------------------------

def test_sockets_are_not_available(guest):
    p = guest.alloc(16)
    assert guest.sock_accept(3, 0, p) == C.ENOTSOCK
    assert guest.sock_recv(1, p, 1, 0, p, p) == C.ENOTSOCK
    assert guest.sock_send(1, p, 1, 0, p) == C.ENOTSOCK
    assert guest.sock_shutdown(0, 1) == C.ENOTSOCK
    assert guest.sock_shutdown(99, 1) == C.EBADF


# --- errno mapping --------------------------------------------------------------------------

def test_oserror_mapping():
    import errno
    assert C.errno_from_oserror(OSError(errno.ENOENT, "x")) == C.ENOENT
    assert C.errno_from_oserror(OSError(errno.EEXIST, "x")) == C.EEXIST
    assert C.errno_from_oserror(OSError(errno.ENOTDIR, "x")) == C.ENOTDIR
    assert C.errno_from_oserror(OSError(errno.EBADF, "x")) == C.EBADF
    assert C.errno_from_oserror(OSError(errno.EINVAL, "x")) == C.EINVAL
    assert C.errno_from_oserror(OSError(errno.ENOTEMPTY, "x")) == C.ENOTEMPTY
    assert C.errno_from_oserror(OSError(errno.EACCES, "x")) == C.EACCES
    assert C.errno_from_oserror(OSError("no errno")) == C.EIO
    assert C.errno_from_oserror(OSError(123456, "unknown")) == C.EIO


def test_no_host_exception_escapes(guest, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("host bug")
    monkeypatch.setattr(os, "mkdir", boom)
    assert guest.path_call("path_create_directory", "d") == C.EIO
    monkeypatch.setattr(os, "mkdir", lambda *a, **k: (_ for _ in ()).throw(
        PermissionError(13, "denied")))
    assert guest.path_call("path_create_directory", "d") == C.EACCES


@pytest.mark.skipif(not POSIX, reason="select() on a pipe needs POSIX")
def test_poll_waits_for_inherited_stdin(monkeypatch):
    r, w = os.pipe()
    with os.fdopen(r, "rb") as rfile:
        monkeypatch.setattr(sys, "stdin", rfile)
        cfg = WasiConfig()
        cfg.inherit_stdin()
        g = Guest(cfg)
        base = g.alloc(96)
        for i, p in enumerate((_sub_clock(g, 1, 50_000_000), _sub_fd(g, 2, 0))):
            g.mem[base + 48 * i:base + 48 * (i + 1)] = g.mem[p:p + 48]
        out, nev = g.alloc(64), g.alloc(4)
        t0 = time.monotonic()
        assert g.poll_oneoff(base, out, 2, nev) == 0
        assert time.monotonic() - t0 >= 0.049
        assert [e[0] for e in _events(g, out, g.u32(nev))] == [1]     # only the timer
        os.write(w, b"typed")
        assert g.poll_oneoff(base, out, 2, nev) == 0
        assert [e[0] for e in _events(g, out, g.u32(nev))] == [2]     # stdin is ready
        assert g.read(0, 100) == (0, b"typed")
        os.close(w)
        assert g.read(0, 100) == (0, b"")


@pytest.mark.skipif(not POSIX, reason="symlinks need a POSIX host")
def test_resolver_never_leaves_the_root(sandbox):
    """Property: whatever the path, a resolved host path stays under the preopen, and
    following it (when asked to) never leads outside."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from purewasm.wasi.core import WasiError

    cfg = WasiConfig()
    cfg.preopen_dir(str(sandbox / "sand"), "sand")
    ctx = WasiContext(cfg)
    root = os.path.realpath(str(sandbox / "sand"))
    comps = st.sampled_from(["..", ".", "", "sub", "inner.txt", "link", "out_rel", "out_abs",
                             "loop", "sublink", "hello.txt", "new"])

    # Everything inside the sandbox, by identity: the resolved directory handle and the
    # entry it leads to must be among them.
    inside = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            st_ = os.lstat(name)
            inside.add((st_.st_dev, st_.st_ino))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(comps, min_size=1, max_size=6), st.booleans())
    def check(parts, follow):
        path = "/".join(parts)
        try:
            r = ctx.resolve(3, path, follow)
        except WasiError:
            return
        except OSError:
            return
        with r:
            dst = r.dir.fstat()
            assert (dst.st_dev, dst.st_ino) in inside
            est = r.lstat()
            if est is not None:
                assert (est.st_dev, est.st_ino) in inside
                if follow:
                    assert not stat.S_ISLNK(est.st_mode)

    check()
    ctx.close()


def test_signatures_equal_wasmtimes():
    wasmtime = pytest.importorskip("wasmtime")
    from purewasm.wasi import MODULE, SIGNATURES
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    for name, ftype in SIGNATURES.items():
        theirs = linker.get(store, MODULE, name).type(store)
        assert tuple(str(p) for p in theirs.params) == ftype.params, name
        assert tuple(str(r) for r in theirs.results) == ftype.results, name
