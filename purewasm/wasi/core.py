"""The WASI preview 1 functions, independent of the runtime.

Every implementation is a method ``ctx.<name>(mem, *args) -> errno`` where ``mem`` is the
guest's linear memory (a ``bytearray``, or any writable buffer supporting slicing and
``struct.pack_into``) and ``args`` are the raw Wasm arguments as unsigned ints. The
binding table (``bindings.py``) wraps each one with :func:`guarded`, which turns every
host exception into an errno, so no Python exception reaches the guest; only
``ExitTrap`` (``proc_exit``) passes through.

Sandbox: the guest reaches files only through directory descriptors (preopens and
directories opened below them), each holding an OS handle on its directory
(:class:`DirHandle`). Each is a capability root: a path is resolved component by
component from the handle with ``dir_fd=`` system calls (O_NOFOLLOW | O_DIRECTORY),
symlinks are expanded here (not by the host), and an absolute path, a ``..`` above the
root or a symlink leading outside it is refused with EPERM, as wasmtime does. Every
operation then names a single entry of a held directory, so no rename or symlink swap
can redirect it. Hosts without the ``*at`` calls (Windows) fall back to paths checked
by (st_dev, st_ino) identity before each use.
"""
from __future__ import annotations

import codecs
import errno
import heapq
import io
import os
import stat as _stat
import struct
import sys
import time
from collections import deque
from typing import BinaryIO, Callable, Dict, List, Literal, Optional, Tuple, Union

from ..errors import ExitTrap, WasmtimeError
from . import constants as C
from .config import PERM_READ, PERM_WRITE, WasiConfig

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

# Symlinks expanded in one resolution before ELOOP: Linux's MAXSYMLINKS, as wasmtime.
MAX_SYMLINKS = 40
# A guest path longer than the host's PATH_MAX (4096 bytes with its NUL) or a component
# longer than NAME_MAX is ENAMETOOLONG, as under wasmtime (which hands paths to the host).
MAX_PATH = 4095
MAX_NAME = 255
# Open descriptors per WASI instance (stdio and preopens included): beyond, EMFILE.
# A sane bound below typical host limits; each also holds a host descriptor.
MAX_FDS = 16384
# Characters other than "/" that the host treats as path separators (none on POSIX).
_HOST_SEPARATORS = "" if os.sep == "/" and not os.altsep else "\\:"
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_SYNC = getattr(os, "O_SYNC", 0)
_O_DSYNC = getattr(os, "O_DSYNC", _O_SYNC)
# Every path operation runs relative to a directory descriptor (openat and friends)
# when the host has them all; otherwise (Windows) paths are checked by identity.
_USE_DIR_FD = (os.name == "posix" and hasattr(os, "O_DIRECTORY") and bool(_O_NOFOLLOW)
               and all(getattr(os, name, None) in os.supports_dir_fd for name in (
                   "open", "stat", "mkdir", "rmdir", "unlink", "rename", "link",
                   "symlink", "readlink", "utime")))
# What opening a symlink with O_NOFOLLOW | O_DIRECTORY answers, depending on the OS
# (ELOOP on Linux and macOS, EMLINK on FreeBSD; ENOTDIR for a non-directory).
_NOT_A_DIR_ERRNOS = frozenset(e for e in (errno.ELOOP, errno.ENOTDIR,
                                          getattr(errno, "EMLINK", None)) if e is not None)


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
    """A host file opened with ``os.open`` (relative to a directory handle)."""

    filetype = C.FILETYPE_REGULAR_FILE

    def __init__(self, host_fd: int, rights_base: int, rights_inheriting: int,
                 file_perms: int) -> None:
        super().__init__(rights_base, rights_inheriting)
        self.host_fd = host_fd
        self.file_perms = file_perms
        try:
            self.filetype = _filetype_of_mode(os.fstat(host_fd).st_mode)
        except OSError:
            pass

    @property
    def writable_fs(self) -> bool:
        return bool(self.file_perms & PERM_WRITE)

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


class DirHandle:
    """A host directory held by an OS handle, never by its path.

    With ``dir_fd`` support (Linux, macOS, the BSDs) ``fd`` is an ``O_DIRECTORY``
    descriptor and every operation is relative to it: renaming or replacing the
    directory (or any of its ancestors) cannot redirect it. Without (Windows), ``fd`` is
    None and ``path`` is used, after checking at each use that it still names the very
    directory (st_dev, st_ino) that was opened.
    """

    __slots__ = ("fd", "path", "ident")

    def __init__(self, fd: Optional[int], path: str, ident: Tuple[int, int]) -> None:
        self.fd = fd
        self.path = path
        self.ident = ident

    @classmethod
    def open_root(cls, path: str) -> "DirHandle":
        if _USE_DIR_FD:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
            st = os.fstat(fd)
            return cls(fd, path, (st.st_dev, st.st_ino))
        st = os.stat(path)
        if not _stat.S_ISDIR(st.st_mode):
            raise WasiError(C.ENOTDIR)
        return cls(None, path, (st.st_dev, st.st_ino))

    def at(self, name: str) -> Tuple[str, Optional[int]]:
        """(path argument, dir_fd argument) naming entry ``name`` of this directory."""
        if self.fd is not None:
            return name, self.fd
        st = os.lstat(self.path)
        if (st.st_dev, st.st_ino) != self.ident or not _stat.S_ISDIR(st.st_mode):
            # The directory was moved or replaced since it was opened: its path now
            # names something else, which may lie outside the sandbox.
            raise WasiError(C.ENOENT)
        return (self.path if name == "." else os.path.join(self.path, name)), None

    def lstat(self, name: str) -> os.stat_result:
        p, dfd = self.at(name)
        return os.stat(p, dir_fd=dfd, follow_symlinks=False)

    def fstat(self) -> os.stat_result:
        if self.fd is not None:
            return os.fstat(self.fd)
        return os.stat(self.at(".")[0], follow_symlinks=False)

    def open_dir(self, name: str) -> "DirHandle":
        """The subdirectory ``name`` (never through a symlink: ELOOP/ENOTDIR if it is one)."""
        p, dfd = self.at(name)
        if dfd is not None:
            fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                         dir_fd=dfd)
            try:
                st = os.fstat(fd)
            except OSError:
                os.close(fd)
                raise
            return DirHandle(fd, os.path.join(self.path, name), (st.st_dev, st.st_ino))
        st = os.stat(p, follow_symlinks=False)
        if _stat.S_ISLNK(st.st_mode):
            raise OSError(errno.ELOOP, "symbolic link", p)
        if not _stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "not a directory", p)
        return DirHandle(None, p, (st.st_dev, st.st_ino))

    def dup(self) -> "DirHandle":
        if self.fd is not None:
            return DirHandle(os.dup(self.fd), self.path, self.ident)
        return DirHandle(None, self.path, self.ident)

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            self.path = ""
            os.close(fd)


class DirDesc(Descriptor):
    """A directory: the root of a capability (nothing above it is reachable)."""

    filetype = C.FILETYPE_DIRECTORY

    def __init__(self, handle: DirHandle, dir_perms: int, file_perms: int,
                 preopen_name: Optional[str] = None) -> None:
        super().__init__(C.RIGHTS_DIR_BASE, C.RIGHTS_DIR_INHERITING)
        self.handle = handle
        self.dir_perms = dir_perms
        self.file_perms = file_perms
        self.preopen_name = preopen_name

    @property
    def writable_fs(self) -> bool:
        return bool(self.dir_perms & PERM_WRITE)

    def close(self) -> None:
        self.handle.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at collection time
            pass


class Resolved:
    """A guest path resolved under a directory descriptor: entry ``name`` of directory
    ``dir`` (``name`` is "." when the path names a directory itself).

    Use as a context manager: it owns the handles opened on the way (closed on exit).
    ``depth`` is how far ``dir`` lies below the descriptor's directory.
    """

    __slots__ = ("dir", "name", "owned", "last_raw", "trailing_slash", "depth")

    def __init__(self, dir: DirHandle, name: str, owned: List[DirHandle], last_raw: str,
                 trailing_slash: bool, depth: int) -> None:
        self.dir = dir
        self.name = name
        self.owned = owned
        self.last_raw = last_raw
        self.trailing_slash = trailing_slash
        self.depth = depth

    @property
    def is_self(self) -> bool:
        """The path names the directory reached, not an entry of it ("", ".", "a/..")."""
        return self.name == "."

    def at(self) -> Tuple[str, Optional[int]]:
        return self.dir.at(self.name)

    def lstat(self) -> Optional[os.stat_result]:
        try:
            return self.dir.lstat(self.name)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        owned, self.owned = self.owned, []
        for h in owned:
            h.close()

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- stdio plumbing -------------------------------------------------------------------------

def _std_stream(name: str) -> BinaryIO:
    # Looked up at each write so that redirections of sys.stdout (e.g. by pytest) apply.
    stream = getattr(sys, name)
    return getattr(stream, "buffer", stream)


def _is_binary_stream(stream: object) -> bool:
    return isinstance(stream, (io.RawIOBase, io.BufferedIOBase))


class SinkError(Exception):
    """An embedder's stdout/stderr callback raised: its exception goes to the embedder
    (out of the call into Wasm), never to the guest as an errno."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(original)
        self.original = original


def _reporting(sink: Callable[[bytes], object]) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        try:
            sink(data)
        except Exception as exc:  # noqa: BLE001 - carried to the embedder (bindings.guarded)
            raise SinkError(exc) from None
    return write


def _inherited_writer(std_name: str) -> Callable[[bytes], None]:
    """Writes to the current ``sys.stdout``/``sys.stderr``: bytes to its ``.buffer`` when
    it has one; to a text-only stream (Jupyter's, ``contextlib.redirect_stdout`` to a
    ``StringIO``) as text, decoded as UTF-8 incrementally (a character split across two
    fd_write calls is not garbled) with invalid bytes replaced."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write_inherited(data: bytes) -> None:
        stream = getattr(sys, std_name)
        binary = getattr(stream, "buffer", None)
        if binary is None and _is_binary_stream(stream):
            binary = stream
        if binary is not None:
            binary.write(data)
            binary.flush()
            return
        text = decoder.decode(data)
        if text:
            stream.write(text)
            flush = getattr(stream, "flush", None)
            if flush is not None:
                flush()
    return write_inherited


def _make_writer(target: Optional[tuple], std_name: str, host_fd: int
                 ) -> Tuple[Optional[Callable[[bytes], None]], Optional[Callable[[], None]], bool]:
    if target is None:
        return (lambda data: None), None, False
    kind = target[0]
    if kind == "inherit":
        write_inherited = _inherited_writer(std_name)
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
    return _reporting(sink), None, False


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
        # Descriptor numbers are allocated lowest-free first (as POSIX and wasmtime): the
        # freed ones wait in a min-heap, the rest start at _next_fd. O(log n) per open.
        self._free_fds: List[int] = []
        self.max_fds = MAX_FDS
        reader, closer, tty = _make_reader(config.stdin_source)
        self.fds[0] = StreamDesc(reader=reader, closer=closer, is_tty=tty)
        if config.stdin_source == ("inherit",) and os.name == "posix":
            self.fds[0].poll_fileno = _stdin_fileno  # type: ignore[attr-defined]
        for fd, target, name in ((1, config.stdout_target, "stdout"),
                                 (2, config.stderr_target, "stderr")):
            writer, closer, tty = _make_writer(target, name, fd)
            self.fds[fd] = StreamDesc(writer=writer, closer=closer, is_tty=tty)
        try:
            for i, pre in enumerate(config.preopens):
                try:
                    handle = DirHandle.open_root(pre.host_path)
                except (OSError, WasiError) as exc:
                    raise WasmtimeError("cannot preopen %r: %s" % (pre.host_path, exc)) from None
                self.fds[3 + i] = DirDesc(handle, pre.dir_perms, pre.file_perms, pre.guest_path)
        except BaseException:
            self.close()
            raise
        self._next_fd = 3 + len(config.preopens)

    def close(self) -> None:
        """Release every host handle (files, directories, stdio files)."""
        for fd in list(self.fds):
            desc = self.fds.pop(fd)
            try:
                desc.close()
            except OSError:
                pass

    def __del__(self) -> None:
        # The WASI instance going away releases its host handles even without close().
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at collection time
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
        if len(self.fds) >= self.max_fds:
            raise WasiError(C.EMFILE)
        free = self._free_fds
        while free:
            fd = heapq.heappop(free)
            if fd not in self.fds:      # skip numbers taken since (fd_renumber)
                self.fds[fd] = desc
                return fd
        fd = self._next_fd
        while fd in self.fds:
            fd += 1
        self._next_fd = fd + 1
        self.fds[fd] = desc
        return fd

    def _release_fd(self, fd: int) -> Descriptor:
        desc = self.fds.pop(fd)
        if fd < self._next_fd:
            heapq.heappush(self._free_fds, fd)
        return desc

    def _path(self, mem: GuestMemory, ptr: int, length: int) -> str:
        if length > MAX_PATH:
            # Checked before reading: the host's PATH_MAX (4096 with the NUL), as wasmtime.
            raise WasiError(C.ENAMETOOLONG)
        raw = read_bytes(mem, ptr, length)
        if b"\0" in raw:
            # wasmtime: EINVAL (a Rust string with a NUL cannot become a host path).
            raise WasiError(C.EINVAL)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(C.EILSEQ) from None

    def resolve(self, dirfd: int, path: str, follow: bool) -> Resolved:
        """Resolve ``path`` under directory descriptor ``dirfd`` inside its sandbox.

        The walk goes one component at a time from the descriptor's OS handle, opening
        each directory relative to the previous one with O_NOFOLLOW | O_DIRECTORY; a
        symlink met on the way is read (readlinkat) and its target resolved here,
        relative to the directory holding it. ``..`` goes back to the handle we came
        from, so it can never leave the descriptor's directory (EPERM there, as
        wasmtime; an absolute target too). The final component is followed only when
        ``follow`` (or when a trailing slash asks for a directory). The host is never
        handed a path with a separator, so nothing it follows can lead outside.
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
        trailing = raw_parts[-1] in ("", ".") and len(raw_parts) > 1
        last_raw = next((p for p in reversed(raw_parts) if p != ""), ".")
        pending: "deque[str]" = deque()
        for p in raw_parts:
            if p in ("", "."):
                continue
            # (characters <= bytes <= 4 * characters: encode only when it can matter)
            if len(p) > MAX_NAME or (4 * len(p) > MAX_NAME
                                     and len(p.encode("utf-8")) > MAX_NAME):
                raise WasiError(C.ENAMETOOLONG)
            pending.append(p)
        stack = [d.handle]          # stack[0] is the descriptor's own (not owned) handle
        links = 0
        name = "."
        try:
            while pending:
                comp = pending.popleft()
                if comp == ".":
                    continue
                if comp == "..":
                    if len(stack) == 1:
                        raise WasiError(C.EPERM)
                    stack.pop().close()
                    continue
                top = stack[-1]
                if not pending:
                    if not (follow or trailing):
                        name = comp
                        break
                    try:
                        st = top.lstat(comp)
                    except FileNotFoundError:
                        name = comp
                        break
                    if not _stat.S_ISLNK(st.st_mode):
                        name = comp
                        break
                    links = self._expand_link(top, comp, pending, links)
                    continue
                try:
                    stack.append(top.open_dir(comp))
                    continue
                except OSError as exc:
                    if exc.errno not in _NOT_A_DIR_ERRNOS:
                        raise
                st = top.lstat(comp)
                if not _stat.S_ISLNK(st.st_mode):
                    raise WasiError(C.ENOTDIR)
                links = self._expand_link(top, comp, pending, links)
            r = Resolved(stack[-1], name, stack[1:], last_raw, trailing, len(stack) - 1)
        except BaseException:
            for h in stack[1:]:
                h.close()
            raise
        if trailing and not r.is_self:
            last = r.lstat()
            if last is not None and not _stat.S_ISDIR(last.st_mode):
                r.close()
                raise WasiError(C.ENOTDIR)
        return r

    @staticmethod
    def _expand_link(top: DirHandle, comp: str, pending: "deque[str]", links: int) -> int:
        links += 1
        if links > MAX_SYMLINKS:
            raise WasiError(C.ELOOP)
        p, dfd = top.at(comp)
        target = os.readlink(p, dir_fd=dfd)
        if not target:
            raise WasiError(C.ENOENT)
        if target.startswith("/") or os.path.isabs(target) or (
                _HOST_SEPARATORS and any(ch in target for ch in _HOST_SEPARATORS)):
            raise WasiError(C.EPERM)
        parts = [q for q in target.split("/") if q not in ("", ".")]
        if target.endswith("/") and not pending:
            # "link -> dir/" at the end: the target must be a directory; "." keeps it so.
            parts.append(".")
        pending.extendleft(reversed(parts))
        return links

    def _resolve_for_change(self, dirfd: int, path: str, follow: bool = False,
                            need: int = 0) -> Resolved:
        """``resolve`` for an operation changing the tree: refused with EPERM (before any
        lookup, as wasmtime) when the preopen's permissions lack a write bit."""
        d = self._dir(dirfd)
        if not d.dir_perms & PERM_WRITE or need & ~d.file_perms & PERM_WRITE:
            raise WasiError(C.EPERM)
        return self.resolve(dirfd, path, follow)

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
        if not f.writable_fs:
            raise WasiError(C.EPERM)
        if offset >= 1 << 63 or length >= 1 << 63:
            raise WasiError(C.EINVAL)
        size = os.fstat(f.host_fd).st_size
        if offset + length > size:
            os.ftruncate(f.host_fd, offset + length)
        return C.ESUCCESS

    def fd_close(self, mem: GuestMemory, fd: int) -> int:
        self._get(fd)
        self._release_fd(fd).close()
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
            fcntl = None  # type: ignore[assignment]
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
            _pack_filestat(mem, buf_ptr, desc.handle.fstat())
        else:
            _FILESTAT.pack_into(mem, buf_ptr, 0, 0, desc.filetype, 0, 0, 0, 0, 0)
        return C.ESUCCESS

    def fd_filestat_set_size(self, mem: GuestMemory, fd: int, size: int) -> int:
        f = self._file(fd)
        if not f.writable_fs:
            raise WasiError(C.EPERM)
        if size >= 1 << 63:
            raise WasiError(C.EINVAL)
        os.ftruncate(f.host_fd, size)
        return C.ESUCCESS

    def fd_filestat_set_times(self, mem: GuestMemory, fd: int, atim: int, mtim: int, fst_flags: int) -> int:
        desc = self._get(fd)
        if isinstance(desc, FileDesc):
            if not desc.writable_fs:
                raise WasiError(C.EPERM)
            if os.utime not in os.supports_fd:
                raise WasiError(C.ENOTSUP)
            os.utime(desc.host_fd, ns=_new_times(os.fstat(desc.host_fd), atim, mtim, fst_flags))
        elif isinstance(desc, DirDesc):
            if not desc.dir_perms & PERM_WRITE:
                raise WasiError(C.EPERM)
            h = desc.handle
            times = _new_times(h.fstat(), atim, mtim, fst_flags)
            if h.fd is not None and os.utime in os.supports_fd:
                os.utime(h.fd, ns=times)
            else:
                os.utime(h.at(".")[0], ns=times)
        else:
            raise WasiError(C.EBADF)
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
        if not d.dir_perms & PERM_READ:
            raise WasiError(C.EPERM)
        entries = _list_dir(d.handle)
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
        self._release_fd(fd)
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
        with self._resolve_for_change(fd, self._path(mem, path_ptr, path_len)) as r:
            if r.is_self:
                raise WasiError(C.EEXIST)
            p, dfd = r.at()
            os.mkdir(p, 0o777, dir_fd=dfd)
        return C.ESUCCESS

    def path_filestat_get(self, mem: GuestMemory, fd: int, flags: int, path_ptr: int, path_len: int,
                          buf_ptr: int) -> int:
        with self.resolve(fd, self._path(mem, path_ptr, path_len),
                          bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)) as r:
            # The resolver already expanded the links it was asked to follow.
            st = r.dir.fstat() if r.is_self else r.dir.lstat(r.name)
        _pack_filestat(mem, buf_ptr, st)
        return C.ESUCCESS

    def path_filestat_set_times(self, mem: GuestMemory, fd: int, flags: int, path_ptr: int, path_len: int,
                                atim: int, mtim: int, fst_flags: int) -> int:
        with self._resolve_for_change(fd, self._path(mem, path_ptr, path_len),
                                      bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW),
                                      need=PERM_WRITE) as r:
            p, dfd = r.at()
            st = os.stat(p, dir_fd=dfd, follow_symlinks=False)
            times = _new_times(st, atim, mtim, fst_flags)
            # Never follow: the resolver expanded every link it was asked to, so a link
            # here is one the guest named without SYMLINK_FOLLOW (or one swapped in since).
            if os.utime not in os.supports_follow_symlinks:
                if _stat.S_ISLNK(st.st_mode):
                    raise WasiError(C.ENOTSUP)
                os.utime(p, ns=times, dir_fd=dfd)
            else:
                os.utime(p, ns=times, dir_fd=dfd, follow_symlinks=False)
        return C.ESUCCESS

    def path_link(self, mem: GuestMemory, old_fd: int, old_flags: int, old_path_ptr: int, old_path_len: int,
                  new_fd: int, new_path_ptr: int, new_path_len: int) -> int:
        # Both ends resolve inside their sandboxes: a hard link can never name (and so
        # never import) a host file from outside.
        with self._resolve_for_change(old_fd, self._path(mem, old_path_ptr, old_path_len),
                                      bool(old_flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)) as old, \
                self._resolve_for_change(new_fd, self._path(mem, new_path_ptr, new_path_len)) as new:
            if new.trailing_slash:
                raise WasiError(C.ENOENT if new.lstat() is None else C.EEXIST)
            if old.is_self:
                raise WasiError(C.EPERM)
            if new.is_self:
                raise WasiError(C.EEXIST)
            if not hasattr(os, "link"):
                raise WasiError(C.ENOTSUP)      # no hard links on this host (emscripten)
            op, odfd = old.at()
            np_, ndfd = new.at()
            st = os.stat(op, dir_fd=odfd, follow_symlinks=False)
            try:
                # Link the entry itself, never what a symlink there points to (even one
                # swapped in since the walk).
                os.link(op, np_, src_dir_fd=odfd, dst_dir_fd=ndfd, follow_symlinks=False)
            except OSError as exc:
                if exc.errno != errno.EINVAL or _stat.S_ISLNK(st.st_mode):
                    raise
                # PyPy answers EINVAL to follow_symlinks=False: a plain link() for an
                # entry that was not a symlink when checked.
                os.link(op, np_, src_dir_fd=odfd, dst_dir_fd=ndfd)
        return C.ESUCCESS

    def path_open(self, mem: GuestMemory, fd: int, dirflags: int, path_ptr: int, path_len: int,
                  oflags: int, rights_base: int, rights_inheriting: int, fdflags: int,
                  opened_fd_ptr: int) -> int:
        if isinstance(self.fds.get(fd), FileDesc):
            raise WasiError(C.ENOTDIR)
        d = self._dir(fd)
        follow = bool(dirflags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)
        path = self._path(mem, path_ptr, path_len)
        if opened_fd_ptr + 4 > len(mem):
            raise Fault()
        with self.resolve(fd, path, follow) as r:
            desc = self._open_resolved(d, r, oflags, rights_base, fdflags)
        try:
            new_fd = self._alloc_fd(desc)
        except WasiError:
            desc.close()
            raise
        _U32.pack_into(mem, opened_fd_ptr, new_fd)
        return C.ESUCCESS

    def _open_resolved(self, d: DirDesc, r: Resolved, oflags: int, rights_base: int,
                       fdflags: int) -> Descriptor:
        st = r.dir.fstat() if r.is_self else r.lstat()
        creat = bool(oflags & C.OFLAGS_CREAT)
        excl = bool(oflags & C.OFLAGS_EXCL)
        trunc = bool(oflags & C.OFLAGS_TRUNC)
        want_write = bool(rights_base & C.RIGHTS_FD_WRITE)
        want_read = bool(rights_base & (C.RIGHTS_FD_READ | C.RIGHTS_FD_READDIR))
        if st is not None and creat and excl:
            raise WasiError(C.EEXIST)
        if st is not None and _stat.S_ISLNK(st.st_mode):
            # Only reached without SYMLINK_FOLLOW: the host's O_NOFOLLOW answer.
            raise WasiError(C.ELOOP)
        if st is not None and _stat.S_ISDIR(st.st_mode):
            if want_write or trunc or (fdflags & C.FDFLAGS_APPEND):
                raise WasiError(C.EISDIR)
            handle = r.dir.dup() if r.is_self else r.dir.open_dir(r.name)
            return DirDesc(handle, d.dir_perms, d.file_perms)
        if oflags & C.OFLAGS_DIRECTORY:
            if st is None and creat:
                raise WasiError(C.EINVAL)
            raise WasiError(C.ENOTDIR if st is not None else C.ENOENT)
        if st is None and not creat:
            raise WasiError(C.ENOENT)
        if r.trailing_slash:
            raise WasiError(C.EISDIR)
        if (creat and st is None and not d.dir_perms & PERM_WRITE) or \
                ((trunc or want_write) and not d.file_perms & PERM_WRITE) or \
                (creat and not d.dir_perms & PERM_WRITE) or \
                (want_read and not d.file_perms & PERM_READ):
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
        p, dfd = r.at()
        host_fd = os.open(p, flags, 0o666, dir_fd=dfd)
        # Report the rights asked for (as far as a file can have them).
        fdesc = FileDesc(host_fd, C.RIGHTS_FILE & rights_base if rights_base
                         else C.RIGHTS_FILE, 0, d.file_perms)
        fdesc.fdflags = fdflags & (C.FDFLAGS_APPEND | C.FDFLAGS_SYNC | C.FDFLAGS_DSYNC
                                   | C.FDFLAGS_RSYNC | C.FDFLAGS_NONBLOCK)
        return fdesc

    def path_readlink(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int, buf_ptr: int,
                      buf_len: int, bufused_ptr: int) -> int:
        with self.resolve(fd, self._path(mem, path_ptr, path_len), False) as r:
            p, dfd = r.at()
            target = os.readlink(p, dir_fd=dfd)
            depth = r.depth
        if _escapes(target, depth):
            # An absolute target names a host path; one climbing above the descriptor's
            # directory tells about the host tree around the sandbox. wasmtime refuses
            # the absolute ones with EPERM; we refuse both.
            raise WasiError(C.EPERM)
        data = os.fsencode(target)[:buf_len]
        write_bytes(mem, buf_ptr, data)
        _U32.pack_into(mem, bufused_ptr, len(data))
        return C.ESUCCESS

    def path_remove_directory(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        with self._resolve_for_change(fd, self._path(mem, path_ptr, path_len)) as r:
            if r.last_raw in (".", "..") or r.is_self:
                raise WasiError(C.EINVAL)
            p, dfd = r.at()
            os.rmdir(p, dir_fd=dfd)
        return C.ESUCCESS

    def path_rename(self, mem: GuestMemory, fd: int, old_path_ptr: int, old_path_len: int, new_fd: int,
                    new_path_ptr: int, new_path_len: int) -> int:
        with self._resolve_for_change(fd, self._path(mem, old_path_ptr, old_path_len)) as old, \
                self._resolve_for_change(new_fd, self._path(mem, new_path_ptr, new_path_len)) as new:
            if old.is_self or new.is_self or old.last_raw in (".", "..") \
                    or new.last_raw in (".", ".."):
                raise WasiError(C.EBUSY)
            op, odfd = old.at()
            np_, ndfd = new.at()
            if os.name == "nt":
                os.replace(op, np_)
            else:
                os.rename(op, np_, src_dir_fd=odfd, dst_dir_fd=ndfd)
        return C.ESUCCESS

    def path_symlink(self, mem: GuestMemory, old_path_ptr: int, old_path_len: int, fd: int,
                     new_path_ptr: int, new_path_len: int) -> int:
        target = self._path(mem, old_path_ptr, old_path_len)
        with self._resolve_for_change(fd, self._path(mem, new_path_ptr, new_path_len)) as new:
            # An absolute target could never be followed inside the sandbox; wasmtime
            # refuses to create one.
            if target.startswith("/"):
                raise WasiError(C.EPERM)
            if new.is_self:
                raise WasiError(C.EEXIST)
            if new.trailing_slash:
                # "dest/": a symlink is not a directory. wasmtime: ENOENT when nothing
                # is there, EEXIST when something is.
                raise WasiError(C.ENOENT if new.lstat() is None else C.EEXIST)
            p, dfd = new.at()
            os.symlink(target, p, dir_fd=dfd)
        return C.ESUCCESS

    def path_unlink_file(self, mem: GuestMemory, fd: int, path_ptr: int, path_len: int) -> int:
        with self._resolve_for_change(fd, self._path(mem, path_ptr, path_len)) as r:
            if r.is_self:
                raise WasiError(C.EISDIR)
            st = r.lstat()
            if r.trailing_slash:
                raise WasiError(C.EISDIR if st is not None and _stat.S_ISDIR(st.st_mode)
                                else C.ENOTDIR)
            p, dfd = r.at()
            try:
                os.unlink(p, dir_fd=dfd)
            except PermissionError:
                # macOS answers EPERM for unlink of a directory; POSIX (and wasmtime) say EISDIR.
                if st is not None and _stat.S_ISDIR(st.st_mode):
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
                wait: Optional[float] = 0.0
            elif deadline is None:
                wait = None
            else:
                wait = max(0.0, (deadline - time.monotonic_ns()) / 1e9)
            ready, _, _ = select.select([fd for _, fd in waiting], [], [], wait)
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
# time.get_clock_info's names (typeshed lists them as a Literal).
_ClockName = Literal["monotonic", "perf_counter", "process_time", "time", "thread_time"]
_CLOCK_INFO_NAMES: Dict[int, _ClockName] = {
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


def _list_dir(handle: DirHandle) -> List[Tuple[bytes, int, int]]:
    """``.``, ``..`` and the entries of the directory, in the host's order (as wasmtime)."""
    st = handle.fstat()
    entries = [(b".", st.st_ino, C.FILETYPE_DIRECTORY), (b"..", 0, C.FILETYPE_DIRECTORY)]
    # scandir on the descriptor (it duplicates it): the listing is of the directory the
    # guest holds, wherever it has been moved.
    target = handle.fd if handle.fd is not None and os.scandir in os.supports_fd \
        else handle.at(".")[0]
    with os.scandir(target) as it:
        for entry in it:
            try:
                est = entry.stat(follow_symlinks=False)
                ino, ftype = est.st_ino, _filetype_of_mode(est.st_mode)
            except OSError:
                ino, ftype = entry.inode(), C.FILETYPE_UNKNOWN
            name = entry.name if isinstance(entry.name, bytes) else os.fsencode(entry.name)
            entries.append((name, ino & 0xFFFFFFFFFFFFFFFF, ftype))
    return entries


def _escapes(target: str, depth: int) -> bool:
    """Whether symlink text ``target``, in a directory ``depth`` levels below a
    descriptor's directory, names something outside it (absolute, or ``..`` above)."""
    if target.startswith("/") or os.path.isabs(target):
        return True
    level = depth
    for part in target.split("/"):
        if part == "..":
            level -= 1
            if level < 0:
                return True
        elif part not in ("", "."):
            level += 1
    return False
