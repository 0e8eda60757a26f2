"""The WASI preview 1 functions, independent of the runtime.

Every implementation is a method ``ctx.<name>(mem, *args) -> errno`` where ``mem`` is the
guest's linear memory (a ``bytearray``, or any writable buffer supporting slicing and
``struct.pack_into``) and ``args`` are the raw Wasm arguments as unsigned ints. The
binding table (``bindings.py``) wraps each one with :func:`guarded`, which turns every
host exception into an errno, so no Python exception reaches the guest; only
``ExitTrap`` (``proc_exit``) passes through.

Sandbox: the guest reaches files only through directory descriptors (preopens and
directories opened below them). Each directory descriptor is a capability root: a path
is resolved component by component under it, symlinks are expanded here (not by the
host), and an absolute path, a ``..`` above the root or a symlink leading outside it is
refused with EPERM, as wasmtime does.
"""
from __future__ import annotations

import io
import os
import stat as _stat
import struct
import sys
import time
from typing import BinaryIO, Callable, Dict, List, Optional, Tuple, Union

from ..errors import ExitTrap, WasmtimeError
from . import constants as C
from .config import WasiConfig

# The guest's linear memory: the live bytearray (purewasm) or a writable memoryview of
# another engine's memory (the tests run this WASI under wasmtime).
GuestMemory = Union[bytearray, memoryview]

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_IOVEC = struct.Struct("<II")
_FDSTAT = struct.Struct("<BxHxxxxQQ")
_FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")
_PRESTAT = struct.Struct("<BxxxI")
_DIRENT = struct.Struct("<QQIBxxx")
_SUBSCRIPTION_HEAD = struct.Struct("<QB")          # userdata, tag
_SUB_CLOCK = struct.Struct("<IxxxxQQH")           # id, timeout, precision, flags (at 16)
_EVENT = struct.Struct("<QHBxxxxxQHxxxxxx")       # userdata, error, type, nbytes, flags

_MAX_SYMLINKS = 32
# Characters other than "/" that the host treats as path separators (none on POSIX).
_HOST_SEPARATORS = "" if os.sep == "/" and not os.altsep else "\\:"
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_SYNC = getattr(os, "O_SYNC", 0)
_O_DSYNC = getattr(os, "O_DSYNC", _O_SYNC)


class WasiError(Exception):
    """Raised inside an implementation to return ``errno`` to the guest."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


class Fault(WasiError):
    """A guest pointer or length outside linear memory."""

    def __init__(self) -> None:
        super().__init__(C.EFAULT)


# --- guest memory helpers -------------------------------------------------------------------
# Slices of a bytearray are not bounds-checked (and a slice store would resize it), so
# every access checks its range first.

def read_bytes(mem: GuestMemory, ptr: int, length: int) -> bytes:
    if ptr + length > len(mem):
        raise Fault()
    return bytes(mem[ptr:ptr + length])


def write_bytes(mem: GuestMemory, ptr: int, data: bytes) -> None:
    end = ptr + len(data)
    if end > len(mem):
        raise Fault()
    mem[ptr:end] = data


def read_iovecs(mem: GuestMemory, ptr: int, count: int) -> List[Tuple[int, int]]:
    if ptr + 8 * count > len(mem):
        raise Fault()
    iovs = []
    for i in range(count):
        buf, length = _IOVEC.unpack_from(mem, ptr + 8 * i)
        if buf + length > len(mem):
            raise Fault()
        iovs.append((buf, length))
    return iovs


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _filetype_of_mode(mode: int) -> int:
    if _stat.S_ISREG(mode):
        return C.FILETYPE_REGULAR_FILE
    if _stat.S_ISDIR(mode):
        return C.FILETYPE_DIRECTORY
    if _stat.S_ISLNK(mode):
        return C.FILETYPE_SYMBOLIC_LINK
    if _stat.S_ISCHR(mode):
        return C.FILETYPE_CHARACTER_DEVICE
    if _stat.S_ISBLK(mode):
        return C.FILETYPE_BLOCK_DEVICE
    if _stat.S_ISSOCK(mode):
        return C.FILETYPE_SOCKET_STREAM
    return C.FILETYPE_UNKNOWN


def _pack_filestat(mem: GuestMemory, ptr: int, st: os.stat_result) -> None:
    _FILESTAT.pack_into(mem, ptr, st.st_dev & 0xFFFFFFFFFFFFFFFF,
                        st.st_ino & 0xFFFFFFFFFFFFFFFF, _filetype_of_mode(st.st_mode),
                        st.st_nlink, st.st_size, max(st.st_atime_ns, 0),
                        max(st.st_mtime_ns, 0), max(st.st_ctime_ns, 0))


# --- descriptors ----------------------------------------------------------------------------

class Descriptor:
    filetype = C.FILETYPE_UNKNOWN

    def __init__(self, rights_base: int, rights_inheriting: int) -> None:
        self.rights_base = rights_base
        self.rights_inheriting = rights_inheriting
        self.fdflags = 0

    def close(self) -> None:
        pass


class StreamDesc(Descriptor):
    """stdin/stdout/stderr: not seekable; reads from a stream, writes to a sink."""

    filetype = C.FILETYPE_CHARACTER_DEVICE

    def __init__(self, reader: Optional[Callable[[int], bytes]] = None,
                 writer: Optional[Callable[[bytes], None]] = None,
                 closer: Optional[Callable[[], None]] = None, is_tty: bool = False) -> None:
        super().__init__(C.RIGHTS_STDIO if is_tty else C.RIGHTS_STDIO | C.RIGHTS_FD_SEEK
                         | C.RIGHTS_FD_TELL, 0)
        self.reader = reader
        self.writer = writer
        self.closer = closer
        # For an inherited stdin on POSIX: a function giving the host fd, so that
        # poll_oneoff can wait for input with select() instead of assuming it is ready.
        self.poll_fileno: Optional[Callable[[], Optional[int]]] = None
        # wasi-libc's isatty() is "character device without seek/tell rights";
        # a non-terminal stream is reported as unknown so stdio is fully buffered.
        self.filetype = C.FILETYPE_CHARACTER_DEVICE if is_tty else C.FILETYPE_UNKNOWN

    def close(self) -> None:
        if self.closer is not None:
            closer, self.closer = self.closer, None
            closer()


class FileDesc(Descriptor):
    """A host file opened with ``os.open``."""

    filetype = C.FILETYPE_REGULAR_FILE

    def __init__(self, host_fd: int, host_path: str, rights_base: int, rights_inheriting: int,
                 writable_fs: bool) -> None:
        super().__init__(rights_base, rights_inheriting)
        self.host_fd = host_fd
        self.host_path = host_path
        self.writable_fs = writable_fs
        try:
            self.filetype = _filetype_of_mode(os.fstat(host_fd).st_mode)
        except OSError:
            pass

    def close(self) -> None:
        if self.host_fd >= 0:
            fd, self.host_fd = self.host_fd, -1
            os.close(fd)

    def __del__(self) -> None:
        # A guest that never closes its files must not leak host descriptors.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at collection time
            pass


class DirDesc(Descriptor):
    """A directory: the root of a capability (nothing above ``root`` is reachable)."""

    filetype = C.FILETYPE_DIRECTORY

    def __init__(self, root: str, writable_fs: bool, preopen_name: Optional[str] = None) -> None:
        super().__init__(C.RIGHTS_DIR, C.RIGHTS_FILE | C.RIGHTS_DIR)
        self.root = root
        self.writable_fs = writable_fs
        self.preopen_name = preopen_name


class Resolved:
    """A guest path resolved under a directory descriptor."""

    __slots__ = ("host", "parts", "last_raw", "trailing_slash", "writable")

    def __init__(self, host: str, parts: List[str], last_raw: str, trailing_slash: bool,
                 writable: bool) -> None:
        self.host = host
        self.parts = parts
        self.last_raw = last_raw
        self.trailing_slash = trailing_slash
        self.writable = writable


# --- stdio plumbing -------------------------------------------------------------------------

def _std_stream(name: str) -> BinaryIO:
    # Looked up at each write so that redirections of sys.stdout (e.g. by pytest) apply.
    stream = getattr(sys, name)
    return getattr(stream, "buffer", stream)


def _make_writer(target: Optional[tuple], std_name: str, host_fd: int
                 ) -> Tuple[Optional[Callable[[bytes], None]], Optional[Callable[[], None]], bool]:
    if target is None:
        return (lambda data: None), None, False
    kind = target[0]
    if kind == "inherit":
        def write_inherited(data: bytes) -> None:
            stream = _std_stream(std_name)
            stream.write(data)
            stream.flush()
        try:
            tty = os.isatty(host_fd)
        except OSError:
            tty = False
        return write_inherited, None, tty
    if kind == "file":
        try:
            f = open(target[1], "wb")
        except OSError as exc:
            raise WasmtimeError("cannot open %s file %r: %s" % (std_name, target[1], exc)) from exc

        def write_file(data: bytes) -> None:
            f.write(data)
            f.flush()
        return write_file, f.close, False
    sink = target[1]
    if isinstance(sink, bytearray):
        return sink.extend, None, False
    return sink, None, False


def _stdin_fileno() -> Optional[int]:
    try:
        return sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _make_reader(source: Optional[tuple]
                 ) -> Tuple[Callable[[int], bytes], Optional[Callable[[], None]], bool]:
    if source is None:
        return (lambda n: b""), None, False
    kind = source[0]
    if kind == "inherit":
        def read_inherited(n: int) -> bytes:
            # The host fd directly (as wasmtime): no Python-side buffer that select()
            # in poll_oneoff could not see.
            fd = _stdin_fileno()
            if fd is not None:
                return os.read(fd, n)
            stream = _std_stream("stdin")
            read1 = getattr(stream, "read1", None)
            return read1(n) if read1 is not None else stream.read(n)
        try:
            tty = os.isatty(0)
        except OSError:
            tty = False
        return read_inherited, None, tty
    if kind == "file":
        try:
            f = open(source[1], "rb")
        except OSError as exc:
            raise WasmtimeError("cannot open stdin file %r: %s" % (source[1], exc)) from exc
        return f.read, f.close, False
    buf = io.BytesIO(source[1])
    return buf.read, None, False


# --- the context ----------------------------------------------------------------------------

class WasiContext:
    """The state of one WASI instance: argv, environment, descriptor table.

    Build it from a :class:`WasiConfig`; call :meth:`close` when done to release host
    files.
    """

    def __init__(self, config: Optional[WasiConfig] = None) -> None:
        config = config if config is not None else WasiConfig()
        self.args = [a.encode("utf-8", "surrogateescape") + b"\0" for a in config.argv]
        self.environ = [("%s=%s" % kv).encode("utf-8", "surrogateescape") + b"\0"
                        for kv in config.env]
        self.fds: Dict[int, Descriptor] = {}
        reader, closer, tty = _make_reader(config.stdin_source)
        self.fds[0] = StreamDesc(reader=reader, closer=closer, is_tty=tty)
        if config.stdin_source == ("inherit",) and os.name == "posix":
            self.fds[0].poll_fileno = _stdin_fileno  # type: ignore[attr-defined]
        for fd, target, name in ((1, config.stdout_target, "stdout"),
                                 (2, config.stderr_target, "stderr")):
            writer, closer, tty = _make_writer(target, name, fd)
            self.fds[fd] = StreamDesc(writer=writer, closer=closer, is_tty=tty)
        for i, pre in enumerate(config.preopens):
            self.fds[3 + i] = DirDesc(pre.host_path, pre.writable, pre.guest_path)

    def close(self) -> None:
        for fd in list(self.fds):
            desc = self.fds.pop(fd)
            try:
                desc.close()
            except OSError:
                pass

    # helpers ------------------------------------------------------------------------------
    def _get(self, fd: int) -> Descriptor:
        desc = self.fds.get(fd)
        if desc is None:
            raise WasiError(C.EBADF)
        return desc

    def _file(self, fd: int) -> FileDesc:
        desc = self._get(fd)
        if not isinstance(desc, FileDesc):
            raise WasiError(C.EBADF)
        return desc

    def _dir(self, fd: int) -> DirDesc:
        desc = self._get(fd)
        if not isinstance(desc, DirDesc):
            # wasmtime answers EBADF for a path operation on a non-directory descriptor
            # (path_open on a regular file excepted: ENOTDIR, see there).
            raise WasiError(C.EBADF)
        return desc

    def _alloc_fd(self, desc: Descriptor) -> int:
        fd = 0
        while fd in self.fds:
            fd += 1
        if fd >= 1 << 31:
            raise WasiError(C.EMFILE)
        self.fds[fd] = desc
        return fd

    def _path(self, mem: GuestMemory, ptr: int, length: int) -> str:
        raw = read_bytes(mem, ptr, length)
        if b"\0" in raw:
            raise WasiError(C.EILSEQ)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(C.EILSEQ) from None

    def resolve(self, dirfd: int, path: str, follow: bool) -> Resolved:
        """Resolve ``path`` under directory ``dirfd`` inside the sandbox.

        Intermediate symlinks are always expanded here (checked against the root); the
        final component's symlink is expanded only when ``follow``. The host path
        returned contains no symlink except, possibly, its final component.
        """
        d = self._dir(dirfd)
        if path == "":
            raise WasiError(C.ENOENT)
        if path.startswith("/"):
            raise WasiError(C.EPERM)
        if _HOST_SEPARATORS and any(ch in path for ch in _HOST_SEPARATORS):
            # On Windows a backslash or drive colon would be a separator for the host:
            # refused, so that only "/" splits components.
            raise WasiError(C.EPERM)
        raw_parts = path.split("/")
        trailing = path.endswith("/")
        last_raw = next((p for p in reversed(raw_parts) if p != ""), ".")
        pending = [p for p in raw_parts if p not in ("", ".")]
        parts: List[str] = []
        links = 0
        root = d.root
        while pending:
            comp = pending.pop(0)
            if comp == "..":
                if not parts:
                    raise WasiError(C.EPERM)
                parts.pop()
                continue
            last = not pending
            host = os.path.join(root, *parts, comp)
            if last and not follow and not trailing:
                parts.append(comp)
                break
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                if last:
                    parts.append(comp)
                    break
                raise
            if _stat.S_ISLNK(st.st_mode):
                links += 1
                if links > _MAX_SYMLINKS:
                    raise WasiError(C.ELOOP)
                target = os.readlink(host)
                if target.startswith("/") or os.path.isabs(target) or (
                        _HOST_SEPARATORS and any(ch in target for ch in _HOST_SEPARATORS)):
                    raise WasiError(C.EPERM)
                if last and target.endswith("/"):
                    trailing = True
                pending = [p for p in target.split("/") if p not in ("", ".")] + pending
                continue
            if not last and not _stat.S_ISDIR(st.st_mode):
                raise WasiError(C.ENOTDIR)
            parts.append(comp)
        host = os.path.join(root, *parts) if parts else root
        if trailing:
            try:
                st = os.stat(host)
            except FileNotFoundError:
                st = None
            if st is not None and not _stat.S_ISDIR(st.st_mode):
                raise WasiError(C.ENOTDIR)
        return Resolved(host, parts, last_raw, trailing, d.writable_fs)

    def _resolve_for_change(self, dirfd: int, path: str, follow: bool = False) -> Resolved:
        r = self.resolve(dirfd, path, follow)
        if not r.writable:
            raise WasiError(C.EPERM)
        return r

    # args / environ -----------------------------------------------------------------------
    def args_sizes_get(self, mem: GuestMemory, argc_ptr: int, size_ptr: int) -> int:
        return _write_list_sizes(mem, self.args, argc_ptr, size_ptr)

    def args_get(self, mem: GuestMemory, argv_ptr: int, buf_ptr: int) -> int:
        return _write_string_list(mem, self.args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, mem: GuestMemory, count_ptr: int, size_ptr: int) -> int:
        return _write_list_sizes(mem, self.environ, count_ptr, size_ptr)

    def environ_get(self, mem: GuestMemory, environ_ptr: int, buf_ptr: int) -> int:
        return _write_string_list(mem, self.environ, environ_ptr, buf_ptr)

    # clocks -------------------------------------------------------------------------------
    def clock_res_get(self, mem: GuestMemory, clock_id: int, res_ptr: int) -> int:
        name = _CLOCK_INFO_NAMES.get(clock_id)
        if name is None:
            raise WasiError(C.EINVAL)
        res = max(1, int(round(time.get_clock_info(name).resolution * 1e9)))
        _U64.pack_into(mem, res_ptr, res)
        return C.ESUCCESS

    def clock_time_get(self, mem: GuestMemory, clock_id: int, precision: int, time_ptr: int) -> int:
        fn = _CLOCKS.get(clock_id)
        if fn is None:
            raise WasiError(C.EINVAL)
        _U64.pack_into(mem, time_ptr, fn() & 0xFFFFFFFFFFFFFFFF)
        return C.ESUCCESS

    # fd_* ---------------------------------------------------------------------------------
    def fd_advise(self, mem: GuestMemory, fd: int, offset: int, length: int, advice: int) -> int:
        desc = self._get(fd)
        if advice > 5:
            raise WasiError(C.EINVAL)
        if not isinstance(desc, FileDesc):
            raise WasiError(C.EBADF)
        # Advice is only a hint: accepted and ignored.
        return C.ESUCCESS

    def fd_allocate(self, mem: GuestMemory, fd: int, offset: int, length: int) -> int:
        f = self._file(fd)
        if offset >= 1 << 63 or length >= 1 << 63:
            raise WasiError(C.EINVAL)
        size = os.fstat(f.host_fd).st_size
        if offset + length > size:
            os.ftruncate(f.host_fd, offset + length)
        return C.ESUCCESS

    def fd_close(self, mem: GuestMemory, fd: int) -> int:
        desc = self._get(fd)
        del self.fds[fd]
        desc.close()
        return C.ESUCCESS

    def fd_datasync(self, mem: GuestMemory, fd: int) -> int:
        desc = self._get(fd)
        if not isinstance(desc, FileDesc):
            raise WasiError(C.EBADF)
        getattr(os, "fdatasync", os.fsync)(desc.host_fd)
        return C.ESUCCESS

    def fd_sync(self, mem: GuestMemory, fd: int) -> int:
        desc = self._get(fd)
        if not isinstance(desc, FileDesc):
            raise WasiError(C.EBADF)
        os.fsync(desc.host_fd)
        return C.ESUCCESS

    def fd_fdstat_get(self, mem: GuestMemory, fd: int, buf_ptr: int) -> int:
        desc = self._get(fd)
        _FDSTAT.pack_into(mem, buf_ptr, desc.filetype, desc.fdflags, desc.rights_base,
                          desc.rights_inheriting)
        return C.ESUCCESS

    def fd_fdstat_set_flags(self, mem: GuestMemory, fd: int, flags: int) -> int:
        desc = self._get(fd)
        if not isinstance(desc, FileDesc):
            raise WasiError(C.EBADF)
        # Only APPEND can change on an open file (as in wasmtime); the others are fixed
        # at open time.
        if flags & ~(C.FDFLAGS_APPEND | C.FDFLAGS_NONBLOCK):
            raise WasiError(C.EINVAL)
        want_append = bool(flags & C.FDFLAGS_APPEND)
        try:
            import fcntl
        except ImportError:  # Windows: no fcntl; our own flag is all there is
            fcntl = None
        if fcntl is not None:
            cur = fcntl.fcntl(desc.host_fd, fcntl.F_GETFL)
            new = (cur | os.O_APPEND) if want_append else (cur & ~os.O_APPEND)
            fcntl.fcntl(desc.host_fd, fcntl.F_SETFL, new)
        desc.fdflags = (desc.fdflags & ~C.FDFLAGS_APPEND) | (flags & C.FDFLAGS_APPEND)
        return C.ESUCCESS

    def fd_fdstat_set_rights(self, mem: GuestMemory, fd: int, base: int, inheriting: int) -> int:
        self._get(fd)
        # Rights are deprecated; wasmtime refuses to change them, and so do we.
        raise WasiError(C.ENOTSUP)

    def fd_filestat_get(self, mem: GuestMemory, fd: int, buf_ptr: int) -> int:
        desc = self._get(fd)
        if isinstance(desc, FileDesc):
            _pack_filestat(mem, buf_ptr, os.fstat(desc.host_fd))
        elif isinstance(desc, DirDesc):
            _pack_filestat(mem, buf_ptr, os.stat(desc.root))
        else:
            _FILESTAT.pack_into(mem, buf_ptr, 0, 0, desc.filetype, 0, 0, 0, 0, 0)
        return C.ESUCCESS

    def fd_filestat_set_size(self, mem: GuestMemory, fd: int, size: int) -> int:
        f = self._file(fd)
        if size >= 1 << 63:
            raise WasiError(C.EINVAL)
        os.ftruncate(f.host_fd, size)
        return C.ESUCCESS

    def fd_filestat_set_times(self, mem: GuestMemory, fd: int, atim: int, mtim: int, fst_flags: int) -> int:
        desc = self._get(fd)
        if isinstance(desc, FileDesc):
            target, st = desc.host_fd, os.fstat(desc.host_fd)
            if os.utime not in os.supports_fd:
                target = desc.host_path
        elif isinstance(desc, DirDesc):
            target, st = desc.root, os.stat(desc.root)
        else:
            raise WasiError(C.EBADF)
        os.utime(target, ns=_new_times(st, atim, mtim, fst_flags))
        return C.ESUCCESS

    def fd_pread(self, mem: GuestMemory, fd: int, iovs_ptr: int, iovs_len: int, offset: int,
                 nread_ptr: int) -> int:
        f = self._file_rw(fd)
        iovs = read_iovecs(mem, iovs_ptr, iovs_len)
        if offset >= 1 << 63:
            raise WasiError(C.EINVAL)
        total = min(sum(n for _, n in iovs), len(mem))
        if hasattr(os, "pread"):
            data = os.pread(f.host_fd, total, offset)
        else:
            saved = os.lseek(f.host_fd, 0, os.SEEK_CUR)
            os.lseek(f.host_fd, offset, os.SEEK_SET)
            try:
                data = os.read(f.host_fd, total)
            finally:
                os.lseek(f.host_fd, saved, os.SEEK_SET)
        _scatter(mem, iovs, data)
        _U32.pack_into(mem, nread_ptr, len(data))
        return C.ESUCCESS

    def fd_pwrite(self, mem: GuestMemory, fd: int, iovs_ptr: int, iovs_len: int, offset: int,
                  nwritten_ptr: int) -> int:
        f = self._file_rw(fd)
        iovs = read_iovecs(mem, iovs_ptr, iovs_len)
        if offset >= 1 << 63:
            raise WasiError(C.EINVAL)
        data = b"".join(bytes(mem[p:p + n]) for p, n in iovs)
        if hasattr(os, "pwrite"):
            n = os.pwrite(f.host_fd, data, offset)
        else:
            saved = os.lseek(f.host_fd, 0, os.SEEK_CUR)
            os.lseek(f.host_fd, offset, os.SEEK_SET)
            try:
                n = os.write(f.host_fd, data)
            finally:
                os.lseek(f.host_fd, saved, os.SEEK_SET)
        _U32.pack_into(mem, nwritten_ptr, n)
        return C.ESUCCESS

    def _file_rw(self, fd: int) -> FileDesc:
        desc = self._get(fd)
        if isinstance(desc, DirDesc):
            raise WasiError(C.EBADF)
        if isinstance(desc, StreamDesc):
            raise WasiError(C.ESPIPE)
        return desc  # type: ignore[return-value]

    def fd_read(self, mem: GuestMemory, fd: int, iovs_ptr: int, iovs_len: int, nread_ptr: int) -> int:
        desc = self._get(fd)
        iovs = read_iovecs(mem, iovs_ptr, iovs_len)
        # Overlapping iovecs could ask for more than memory holds; a short read is legal.
        total = min(sum(n for _, n in iovs), len(mem))
        if isinstance(desc, FileDesc):
            data = os.read(desc.host_fd, total) if total else b""
        elif isinstance(desc, StreamDesc):
            if desc.reader is None:
                raise WasiError(C.EBADF)
            data = desc.reader(total) if total else b""
            data = data or b""
        else:
            raise WasiError(C.EBADF)
        _scatter(mem, iovs, data)
        _U32.pack_into(mem, nread_ptr, len(data))
        return C.ESUCCESS

    def fd_write(self, mem: GuestMemory, fd: int, iovs_ptr: int, iovs_len: int, nwritten_ptr: int) -> int:
        desc = self.fds.get(fd)
        if desc is None:
            raise WasiError(C.EBADF)
        iovs = read_iovecs(mem, iovs_ptr, iovs_len)
        if len(iovs) == 1:
            p, n = iovs[0]
            data = bytes(mem[p:p + n])
        else:
            data = b"".join(bytes(mem[p:p + n]) for p, n in iovs)
        if isinstance(desc, StreamDesc):
            if desc.writer is None:
                raise WasiError(C.EBADF)
            if data:
                desc.writer(data)
            written = len(data)
        elif isinstance(desc, FileDesc):
            written = 0
            while written < len(data):
                n = os.write(desc.host_fd, data[written:])
                if n <= 0:
                    break
                written += n
        else:
            raise WasiError(C.EBADF)
        _U32.pack_into(mem, nwritten_ptr, written)
        return C.ESUCCESS

    def fd_prestat_get(self, mem: GuestMemory, fd: int, buf_ptr: int) -> int:
        desc = self._get(fd)
        if not isinstance(desc, DirDesc) or desc.preopen_name is None:
            raise WasiError(C.EBADF)
        _PRESTAT.pack_into(mem, buf_ptr, C.PREOPENTYPE_DIR,
                           len(desc.preopen_name.encode("utf-8")))
        return C.ESUCCESS

    def fd_prestat_dir_name(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        desc = self._get(fd)
        if not isinstance(desc, DirDesc) or desc.preopen_name is None:
            raise WasiError(C.EBADF)
        name = desc.preopen_name.encode("utf-8")
        if path_len < len(name):
            raise WasiError(C.ENAMETOOLONG)
        write_bytes(mem, path_ptr, name)
        return C.ESUCCESS

    def fd_readdir(self, mem: GuestMemory, fd: int, buf_ptr: int, buf_len: int, cookie: int,
                   bufused_ptr: int) -> int:
        d = self._get(fd)
        if not isinstance(d, DirDesc):
            raise WasiError(C.EBADF)
        if buf_ptr + buf_len > len(mem):
            raise Fault()
        entries = _list_dir(d.root)
        out = bytearray()
        for index in range(cookie, len(entries)) if cookie < len(entries) else ():
            name, ino, ftype = entries[index]
            out += _DIRENT.pack(index + 1, ino, len(name), ftype) + name
            if len(out) >= buf_len:
                break
        out = out[:buf_len]
        write_bytes(mem, buf_ptr, bytes(out))
        _U32.pack_into(mem, bufused_ptr, len(out))
        return C.ESUCCESS

    def fd_renumber(self, mem: GuestMemory, fd: int, to: int) -> int:
        desc = self._get(fd)
        old = self._get(to)
        if fd == to:
            return C.ESUCCESS
        del self.fds[fd]
        self.fds[to] = desc
        old.close()
        return C.ESUCCESS

    def fd_seek(self, mem: GuestMemory, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
        desc = self._get(fd)
        if whence > 2:
            raise WasiError(C.EINVAL)
        if isinstance(desc, StreamDesc):
            raise WasiError(C.ESPIPE)
        if isinstance(desc, DirDesc):
            raise WasiError(C.EBADF)
        f = desc
        pos = os.lseek(f.host_fd, _signed64(offset),  # type: ignore[attr-defined]
                       (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        _U64.pack_into(mem, newoffset_ptr, pos)
        return C.ESUCCESS

    def fd_tell(self, mem: GuestMemory, fd: int, offset_ptr: int) -> int:
        desc = self._get(fd)
        if isinstance(desc, StreamDesc):
            raise WasiError(C.ESPIPE)
        if isinstance(desc, DirDesc):
            raise WasiError(C.EBADF)
        pos = os.lseek(desc.host_fd, 0, os.SEEK_CUR)  # type: ignore[attr-defined]
        _U64.pack_into(mem, offset_ptr, pos)
        return C.ESUCCESS

    # path_* -------------------------------------------------------------------------------
    def path_create_directory(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        r = self._resolve_for_change(fd, self._path(mem, path_ptr, path_len))
        if not r.parts:
            raise WasiError(C.EEXIST)
        os.mkdir(r.host)
        return C.ESUCCESS

    def path_filestat_get(self, mem: GuestMemory, fd: int, flags: int, path_ptr: int, path_len: int,
                          buf_ptr: int) -> int:
        r = self.resolve(fd, self._path(mem, path_ptr, path_len),
                         bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW))
        # The resolver already expanded the links it was asked to follow.
        _pack_filestat(mem, buf_ptr, os.lstat(r.host))
        return C.ESUCCESS

    def path_filestat_set_times(self, mem: GuestMemory, fd: int, flags: int, path_ptr: int, path_len: int,
                                atim: int, mtim: int, fst_flags: int) -> int:
        r = self._resolve_for_change(fd, self._path(mem, path_ptr, path_len),
                                     bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW))
        st = os.lstat(r.host)
        times = _new_times(st, atim, mtim, fst_flags)
        if _stat.S_ISLNK(st.st_mode):
            if os.utime not in os.supports_follow_symlinks:
                raise WasiError(C.ENOTSUP)
            os.utime(r.host, ns=times, follow_symlinks=False)
        else:
            os.utime(r.host, ns=times)
        return C.ESUCCESS

    def path_link(self, mem: GuestMemory, old_fd: int, old_flags: int, old_path_ptr: int, old_path_len: int,
                  new_fd: int, new_path_ptr: int, new_path_len: int) -> int:
        old = self._resolve_for_change(old_fd, self._path(mem, old_path_ptr, old_path_len),
                                       bool(old_flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW))
        new = self._resolve_for_change(new_fd, self._path(mem, new_path_ptr, new_path_len))
        if new.trailing_slash:
            raise WasiError(C.ENOENT if not os.path.lexists(new.host) else C.EEXIST)
        if os.path.islink(old.host):
            # Link the symlink itself (the resolver already followed it when asked to).
            os.link(old.host, new.host, follow_symlinks=False)
        else:
            # Plain link(): PyPy rejects follow_symlinks=False with EINVAL.
            os.link(old.host, new.host)
        return C.ESUCCESS

    def path_open(self, mem: GuestMemory, fd: int, dirflags: int, path_ptr: int, path_len: int,
                  oflags: int, rights_base: int, rights_inheriting: int, fdflags: int,
                  opened_fd_ptr: int) -> int:
        if isinstance(self.fds.get(fd), FileDesc):
            raise WasiError(C.ENOTDIR)
        d = self._dir(fd)
        follow = bool(dirflags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)
        r = self.resolve(fd, self._path(mem, path_ptr, path_len), follow)
        if opened_fd_ptr + 4 > len(mem):
            raise Fault()
        try:
            st: Optional[os.stat_result] = os.lstat(r.host)
        except FileNotFoundError:
            st = None
        creat = bool(oflags & C.OFLAGS_CREAT)
        excl = bool(oflags & C.OFLAGS_EXCL)
        trunc = bool(oflags & C.OFLAGS_TRUNC)
        want_write = bool(rights_base & (C.RIGHTS_FD_WRITE | C.RIGHTS_FD_ALLOCATE
                                         | C.RIGHTS_FD_FILESTAT_SET_SIZE)) \
            and bool(rights_base & C.RIGHTS_FD_WRITE)
        want_read = bool(rights_base & (C.RIGHTS_FD_READ | C.RIGHTS_FD_READDIR))
        if st is not None and creat and excl:
            raise WasiError(C.EEXIST)
        if st is not None and _stat.S_ISLNK(st.st_mode):
            # Only reached without SYMLINK_FOLLOW: the host's O_NOFOLLOW answer.
            raise WasiError(C.ELOOP)
        if st is not None and _stat.S_ISDIR(st.st_mode):
            if want_write or trunc or (fdflags & C.FDFLAGS_APPEND):
                raise WasiError(C.EISDIR)
            desc: Descriptor = DirDesc(r.host, d.writable_fs)
            _U32.pack_into(mem, opened_fd_ptr, self._alloc_fd(desc))
            return C.ESUCCESS
        if oflags & C.OFLAGS_DIRECTORY:
            if st is None and creat:
                raise WasiError(C.EINVAL)
            raise WasiError(C.ENOTDIR if st is not None else C.ENOENT)
        if st is None and not creat:
            raise WasiError(C.ENOENT)
        if r.trailing_slash:
            raise WasiError(C.EISDIR)
        if not d.writable_fs and (creat and st is None or trunc or want_write):
            raise WasiError(C.EPERM)
        flags = _O_BINARY | _O_CLOEXEC | _O_NOFOLLOW
        if want_write:
            flags |= os.O_RDWR if want_read else os.O_WRONLY
        else:
            flags |= os.O_RDONLY
        if creat:
            flags |= os.O_CREAT
        if excl:
            flags |= os.O_EXCL
        if trunc:
            flags |= os.O_TRUNC
        if fdflags & C.FDFLAGS_APPEND:
            flags |= os.O_APPEND
        if fdflags & C.FDFLAGS_SYNC:
            flags |= _O_SYNC
        elif fdflags & C.FDFLAGS_DSYNC:
            flags |= _O_DSYNC
        host_fd = os.open(r.host, flags, 0o666)
        # Report the rights asked for (as far as a file can have them).
        fdesc = FileDesc(host_fd, r.host, C.RIGHTS_FILE & rights_base if rights_base
                         else C.RIGHTS_FILE, 0, d.writable_fs)
        fdesc.fdflags = fdflags & (C.FDFLAGS_APPEND | C.FDFLAGS_SYNC | C.FDFLAGS_DSYNC
                                   | C.FDFLAGS_RSYNC | C.FDFLAGS_NONBLOCK)
        try:
            new_fd = self._alloc_fd(fdesc)
        except WasiError:
            fdesc.close()
            raise
        _U32.pack_into(mem, opened_fd_ptr, new_fd)
        return C.ESUCCESS

    def path_readlink(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int, buf_ptr: int,
                      buf_len: int, bufused_ptr: int) -> int:
        r = self.resolve(fd, self._path(mem, path_ptr, path_len), False)
        target = os.fsencode(os.readlink(r.host))[:buf_len]
        write_bytes(mem, buf_ptr, target)
        _U32.pack_into(mem, bufused_ptr, len(target))
        return C.ESUCCESS

    def path_remove_directory(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        r = self._resolve_for_change(fd, self._path(mem, path_ptr, path_len))
        if r.last_raw in (".", "..") or not r.parts:
            raise WasiError(C.EINVAL)
        os.rmdir(r.host)
        return C.ESUCCESS

    def path_rename(self, mem: GuestMemory, fd: int, old_path_ptr: int, old_path_len: int, new_fd: int,
                    new_path_ptr: int, new_path_len: int) -> int:
        old = self._resolve_for_change(fd, self._path(mem, old_path_ptr, old_path_len))
        new = self._resolve_for_change(new_fd, self._path(mem, new_path_ptr, new_path_len))
        if not old.parts or not new.parts or old.last_raw in (".", "..") \
                or new.last_raw in (".", ".."):
            raise WasiError(C.EBUSY)
        os.rename(old.host, new.host) if os.name != "nt" else os.replace(old.host, new.host)
        return C.ESUCCESS

    def path_symlink(self, mem: GuestMemory, old_path_ptr: int, old_path_len: int, fd: int,
                     new_path_ptr: int, new_path_len: int) -> int:
        target = self._path(mem, old_path_ptr, old_path_len)
        new = self._resolve_for_change(fd, self._path(mem, new_path_ptr, new_path_len))
        # An absolute target could never be followed inside the sandbox; wasmtime
        # refuses to create one.
        if target.startswith("/"):
            raise WasiError(C.EPERM)
        if not new.parts:
            raise WasiError(C.EEXIST)
        os.symlink(target, new.host)
        return C.ESUCCESS

    def path_unlink_file(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        r = self._resolve_for_change(fd, self._path(mem, path_ptr, path_len))
        if not r.parts:
            raise WasiError(C.EISDIR)
        if r.trailing_slash:
            raise WasiError(C.EISDIR if os.path.isdir(r.host) else C.ENOTDIR)
        try:
            os.unlink(r.host)
        except PermissionError:
            # macOS answers EPERM for unlink of a directory; POSIX (and wasmtime) say EISDIR.
            if os.path.isdir(r.host) and not os.path.islink(r.host):
                raise WasiError(C.EISDIR) from None
            raise
        return C.ESUCCESS

    # poll, proc, random, sched, sockets ---------------------------------------------------
    def poll_oneoff(self, mem: GuestMemory, in_ptr: int, out_ptr: int, nsubscriptions: int,
                    nevents_ptr: int) -> int:
        if nsubscriptions == 0:
            raise WasiError(C.EINVAL)
        if in_ptr + 48 * nsubscriptions > len(mem) or out_ptr + 32 * nsubscriptions > len(mem):
            raise Fault()
        events = []
        deadline = None      # earliest clock deadline, in time.monotonic_ns() units
        timers = []
        waiting = []         # (userdata, host fd) of reads that may block: select() them
        for i in range(nsubscriptions):
            base = in_ptr + 48 * i
            userdata, tag = _SUBSCRIPTION_HEAD.unpack_from(mem, base)
            if tag == C.EVENTTYPE_CLOCK:
                clock_id, timeout, _precision, flags = _SUB_CLOCK.unpack_from(mem, base + 16)
                clock = _CLOCKS.get(clock_id)
                if clock is None:
                    events.append((userdata, C.EINVAL, tag, 0, 0))
                    continue
                if flags & C.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME:
                    remaining = timeout - clock()
                else:
                    remaining = timeout
                due = time.monotonic_ns() + max(0, remaining)
                timers.append((due, userdata))
                if deadline is None or due < deadline:
                    deadline = due
            elif tag in (C.EVENTTYPE_FD_READ, C.EVENTTYPE_FD_WRITE):
                (fd,) = _U32.unpack_from(mem, base + 16)
                desc = self.fds.get(fd)
                if desc is None:
                    events.append((userdata, C.EBADF, tag, 0, 0))
                elif isinstance(desc, DirDesc):
                    events.append((userdata, C.EISDIR, tag, 0, 0))
                elif (tag == C.EVENTTYPE_FD_READ and isinstance(desc, StreamDesc)
                      and desc.poll_fileno is not None and desc.poll_fileno() is not None):
                    waiting.append((userdata, desc.poll_fileno()))
                else:
                    nbytes = 0
                    if tag == C.EVENTTYPE_FD_READ and isinstance(desc, FileDesc):
                        try:
                            fstat = os.fstat(desc.host_fd)
                            pos = os.lseek(desc.host_fd, 0, os.SEEK_CUR)
                            nbytes = max(0, fstat.st_size - pos)
                        except OSError:
                            nbytes = 0
                    # Files and our stdio streams never block: always ready.
                    events.append((userdata, C.ESUCCESS, tag, nbytes, 0))
            else:
                events.append((userdata, C.EINVAL, tag, 0, 0))
        if waiting:
            import select
            if events:
                timeout: Optional[float] = 0.0
            elif deadline is None:
                timeout = None
            else:
                timeout = max(0.0, (deadline - time.monotonic_ns()) / 1e9)
            ready, _, _ = select.select([fd for _, fd in waiting], [], [], timeout)
            for userdata, fd in waiting:
                if fd in ready:
                    events.append((userdata, C.ESUCCESS, C.EVENTTYPE_FD_READ, 1, 0))
        if not events and deadline is not None:
            # Nothing is ready: sleep until the earliest timer is due.
            delay = deadline - time.monotonic_ns()
            while delay > 0:
                time.sleep(delay / 1e9)
                delay = deadline - time.monotonic_ns()
        now = time.monotonic_ns()
        for due, userdata in timers:
            if due <= now:
                events.append((userdata, C.ESUCCESS, C.EVENTTYPE_CLOCK, 0, 0))
        for j, ev in enumerate(events):
            _EVENT.pack_into(mem, out_ptr + 32 * j, *ev)
        _U32.pack_into(mem, nevents_ptr, len(events))
        return C.ESUCCESS

    def proc_exit(self, mem: GuestMemory, code: int) -> int:
        raise ExitTrap(code)

    def proc_raise(self, mem: GuestMemory, sig: int) -> int:
        # Signals do not exist in the sandbox; wasmtime does not support this either.
        raise WasiError(C.ENOSYS)

    def random_get(self, mem: GuestMemory, buf_ptr: int, buf_len: int) -> int:
        if buf_ptr + buf_len > len(mem):
            raise Fault()
        write_bytes(mem, buf_ptr, os.urandom(buf_len))
        return C.ESUCCESS

    def sched_yield(self, mem: GuestMemory) -> int:
        time.sleep(0)
        return C.ESUCCESS

    def _socket(self, fd: int) -> None:
        self._get(fd)
        # No socket is ever handed to the guest, so every valid descriptor is "not a socket".
        raise WasiError(C.ENOTSOCK)

    def sock_accept(self, mem: GuestMemory, fd: int, flags: int, fd_ptr: int) -> int:
        self._socket(fd)
        return C.ENOTSOCK

    def sock_recv(self, mem: GuestMemory, fd: int, ri_data_ptr: int, ri_data_len: int, ri_flags: int,
                  ro_datalen_ptr: int, ro_flags_ptr: int) -> int:
        self._socket(fd)
        return C.ENOTSOCK

    def sock_send(self, mem: GuestMemory, fd: int, si_data_ptr: int, si_data_len: int, si_flags: int,
                  so_datalen_ptr: int) -> int:
        self._socket(fd)
        return C.ENOTSOCK

    def sock_shutdown(self, mem: GuestMemory, fd: int, how: int) -> int:
        self._socket(fd)
        return C.ENOTSOCK


# --- module-level helpers -------------------------------------------------------------------

_CLOCKS = {
    C.CLOCK_REALTIME: time.time_ns,
    C.CLOCK_MONOTONIC: time.monotonic_ns,
    C.CLOCK_PROCESS_CPUTIME_ID: time.process_time_ns,
    C.CLOCK_THREAD_CPUTIME_ID: getattr(time, "thread_time_ns", time.process_time_ns),
}
_CLOCK_INFO_NAMES = {
    C.CLOCK_REALTIME: "time",
    C.CLOCK_MONOTONIC: "monotonic",
    C.CLOCK_PROCESS_CPUTIME_ID: "process_time",
    C.CLOCK_THREAD_CPUTIME_ID: "thread_time" if hasattr(time, "thread_time") else "process_time",
}


def _write_list_sizes(mem: GuestMemory, items: List[bytes], count_ptr: int,
                      size_ptr: int) -> int:
    """args_sizes_get / environ_sizes_get: the count and the total buffer size (each item
    is stored NUL-terminated, so ``items`` already include their NUL)."""
    _U32.pack_into(mem, count_ptr, len(items))
    _U32.pack_into(mem, size_ptr, sum(len(item) for item in items))
    return C.ESUCCESS


def _write_string_list(mem: GuestMemory, items: List[bytes], ptrs_ptr: int, buf_ptr: int) -> int:
    if ptrs_ptr + 4 * len(items) > len(mem):
        raise Fault()
    for item in items:
        _U32.pack_into(mem, ptrs_ptr, buf_ptr)
        write_bytes(mem, buf_ptr, item)
        ptrs_ptr += 4
        buf_ptr += len(item)
    return C.ESUCCESS


def _scatter(mem: GuestMemory, iovs: List[Tuple[int, int]], data: bytes) -> None:
    pos = 0
    for p, n in iovs:
        if pos >= len(data):
            break
        chunk = data[pos:pos + n]
        mem[p:p + len(chunk)] = chunk
        pos += len(chunk)


def _new_times(st: os.stat_result, atim: int, mtim: int, fst_flags: int) -> Tuple[int, int]:
    if fst_flags & ~0xF:
        raise WasiError(C.EINVAL)
    if (fst_flags & C.FSTFLAGS_ATIM and fst_flags & C.FSTFLAGS_ATIM_NOW) or \
            (fst_flags & C.FSTFLAGS_MTIM and fst_flags & C.FSTFLAGS_MTIM_NOW):
        raise WasiError(C.EINVAL)
    now = time.time_ns()
    a, m = st.st_atime_ns, st.st_mtime_ns
    if fst_flags & C.FSTFLAGS_ATIM:
        a = atim
    elif fst_flags & C.FSTFLAGS_ATIM_NOW:
        a = now
    if fst_flags & C.FSTFLAGS_MTIM:
        m = mtim
    elif fst_flags & C.FSTFLAGS_MTIM_NOW:
        m = now
    return a, m


def _list_dir(root: str) -> List[Tuple[bytes, int, int]]:
    """``.``, ``..`` and the entries of ``root``, in the host's order (as wasmtime lists)."""
    st = os.stat(root)
    entries = [(b".", st.st_ino, C.FILETYPE_DIRECTORY), (b"..", 0, C.FILETYPE_DIRECTORY)]
    with os.scandir(root) as it:
        for entry in it:
            try:
                est = entry.stat(follow_symlinks=False)
                ino, ftype = est.st_ino, _filetype_of_mode(est.st_mode)
            except OSError:
                ino, ftype = entry.inode(), C.FILETYPE_UNKNOWN
            entries.append((os.fsencode(entry.name), ino & 0xFFFFFFFFFFFFFFFF, ftype))
    return entries
