"""The on-disk cache of compiled code, and serialized modules (docs/INTERNALS.md, "Cache").

A cache entry belongs to one module *and* one configuration: its file name is a hash of
the module's sha256, purewasm's version, ``TRANSLATOR_VERSION``, the enabled proposals,
fuel/epoch instrumentation, the lowering and ``sys.implementation.cache_tag`` (code
objects are specific to one bytecode version), so that nothing is ever shared between
configurations that would generate different code. An entry's existence records that the
module decoded and validated under that configuration, so a hit skips both: the module is
re-read with :func:`decode_module`'s ``lazy_bodies`` (only the small sections; a body is
decoded when a function that is not in the entry is first compiled). The entry's payload
is ``CompiledModule.export_codes()``: the marshalled code objects of the functions
translated so far, added to the entry when the module is dropped or the process exits
(or at ``flush()``).

Trust: a cache entry is code that will be executed. The directory is created 0700 and,
on POSIX, refused (:class:`CacheError`) unless it is owned by the current user and
writable by nobody else; an entry file owned by someone else is ignored. An entry that is
truncated, corrupt (its payload has a sha256 in the header) or from another version is a
miss, never an error; it is rebuilt. Writes go to a temporary file renamed over the entry
(``os.replace`` is atomic), so two processes at once each see a whole entry, old or new.
The directory is kept under a size bound by removing the least recently used entries
(a hit refreshes the entry's mtime). See docs/SECURITY.md.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import struct
import sys
import threading
import time
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple

from purewasm.binary import decode_module
from purewasm.errors import WasmtimeError
from purewasm.opcodes import PROPOSALS
from purewasm.syntax import Module

from . import CompiledModule, TRANSLATOR_VERSION, codes_from_payload, codes_payload, support

__all__ = ["CacheError", "CodeCache", "DEFAULT_MAX_BYTES", "default_cache_dir",
           "config_fields", "cache_for_config", "lookup", "CacheHandle",
           "serialize_module", "deserialize_module", "flush_all", "SERIAL_MAGIC"]

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
# Bumped when the entry or serialized layout changes.
FORMAT_VERSION = 1
ENTRY_MAGIC = b"purewasm-cache\n"
# A serialized module starts with a NUL, as a Wasm binary does, so wasmtime-py's rule
# "bytes not starting with NUL are the text format" still tells it apart from text.
SERIAL_MAGIC = b"\x00purewasm-module\n"
_HEADER_LEN = struct.Struct("<I")
_STALE_TEMP_SECONDS = 3600.0


class CacheError(WasmtimeError):
    """The cache directory cannot be used (e.g. writable by other users)."""


def purewasm_version() -> str:
    """purewasm's version, part of every key (a new release may validate differently)."""
    pkg = sys.modules.get("purewasm")
    version = getattr(pkg, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        from importlib.metadata import version as dist_version
        return dist_version("purewasm")
    except Exception:  # noqa: BLE001 - not installed (a source checkout)
        return "0+source"


_SOURCE_DIGEST: List[str] = []


def purewasm_source_digest() -> str:
    """A digest of purewasm's own Python sources, part of every key: a change to the
    decoder, validator or translator between two builds of the same version (a checkout
    under development, a patched install) must not reuse code the old sources made, even
    when nobody remembered to bump TRANSLATOR_VERSION. Computed once per process (~70
    files; a few milliseconds); unreadable sources (a zipapp) fall back to the version."""
    if not _SOURCE_DIGEST:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        digest = hashlib.sha256()
        try:
            for folder, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".py"):
                        path = os.path.join(folder, name)
                        digest.update(os.path.relpath(path, root).encode("utf-8"))
                        with open(path, "rb") as f:
                            digest.update(f.read())
            _SOURCE_DIGEST.append(digest.hexdigest()[:32])
        except OSError:
            _SOURCE_DIGEST.append("unreadable")
    return _SOURCE_DIGEST[0]


def default_cache_dir() -> str:
    """``$PUREWASM_CACHE_DIR``, else ``$XDG_CACHE_HOME/purewasm``, else
    ``~/.cache/purewasm``."""
    env = os.environ.get("PUREWASM_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):   # the XDG spec: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "purewasm")


def config_fields(config: Any) -> Dict[str, Any]:
    """What in an engine configuration changes the generated code or what validates:
    the enabled proposals, fuel and epoch instrumentation, the lowering."""
    return {"features": sorted(p for p in PROPOSALS if getattr(config, "wasm_" + p, True)),
            "fuel": bool(getattr(config, "consume_fuel", False)),
            "epoch": bool(getattr(config, "epoch_interruption", False)),
            "mode": None}


def _key_fields(module_sha256: str, config: Dict[str, Any]) -> Dict[str, Any]:
    fields = {"format": FORMAT_VERSION, "purewasm": purewasm_version(),
              "sources": purewasm_source_digest(), "translator": TRANSLATOR_VERSION,
              "cache_tag": sys.implementation.cache_tag, "module": module_sha256,
              "shapes": "pypy" if support.PYPY_SHAPES else "plain"}
    fields.update(config)
    return fields


def _key_name(fields: Dict[str, Any]) -> str:
    text = repr(sorted(fields.items())).encode("utf-8")
    return hashlib.sha256(text).hexdigest()


class CodeCache:
    """One cache directory: entries named by key, written atomically, bounded in size."""

    def __init__(self, directory: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = os.path.abspath(directory)
        self.max_bytes = max_bytes
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise CacheError("cannot create the cache directory %s: %s"
                             % (self.directory, exc.strerror or exc)) from None
        check_private(self.directory)

    def path(self, key: str) -> str:
        return os.path.join(self.directory, key + ".pwc")

    def read(self, key: str, fields: Dict[str, Any]) -> Optional[bytes]:
        """The payload of entry ``key`` (None: missing, foreign, corrupt or stale)."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                if not _owned_by_us(os.fstat(f.fileno())):
                    return None
                data = f.read()
        except OSError:
            return None
        payload = _unpack(ENTRY_MAGIC, data, fields)
        if payload is None:
            return None
        try:
            os.utime(path)   # least recently *used* goes first
        except OSError:
            pass
        return payload

    def write(self, key: str, fields: Dict[str, Any], payload: bytes) -> None:
        """Write entry ``key`` atomically; errors (disk full...) only lose the entry."""
        import tempfile   # only when writing: start-up time
        data = _pack(ENTRY_MAGIC, fields, payload)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pwc", dir=self.directory)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path(key))
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        self.evict()

    def evict(self) -> None:
        """Remove least recently used entries until the directory fits ``max_bytes``
        (and temporary files a crashed writer left behind)."""
        now = time.time()
        entries: List[Tuple[float, int, str]] = []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            path = os.path.join(self.directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue   # removed by another process meanwhile
            if name.startswith(".tmp-"):
                if now - st.st_mtime > _STALE_TEMP_SECONDS:
                    _unlink(path)
                continue
            if name.endswith(".pwc"):
                entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        entries.sort()
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            _unlink(path)
            total -= size


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _owned_by_us(st: os.stat_result) -> bool:
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def check_private(directory: str) -> None:
    """Refuse a directory another user could write to: its entries would be executed
    (POSIX; elsewhere the directory's ACLs are the user's business)."""
    if not hasattr(os, "getuid"):
        return
    try:
        st = os.stat(directory)
    except OSError as exc:
        raise CacheError("cannot use the cache directory %s: %s"
                         % (directory, exc.strerror or exc)) from None
    if st.st_uid != os.getuid():
        raise CacheError("refusing the cache directory %s: it is owned by uid %d, not by "
                         "the current user (cache entries are executed)"
                         % (directory, st.st_uid))
    if st.st_mode & 0o022:
        raise CacheError("refusing the cache directory %s: it is writable by other users "
                         "(mode %o; cache entries are executed): chmod go-w it"
                         % (directory, st.st_mode & 0o777))


# ----- entry and serialized layouts --------------------------------------------------------
# magic, u32 header length, header (marshal: the key fields + sha256 of the payload), payload.

def _pack(magic: bytes, fields: Dict[str, Any], payload: bytes) -> bytes:
    header = dict(fields)
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    head = marshal.dumps(header)
    return b"".join((magic, _HEADER_LEN.pack(len(head)), head, payload))


def _header(magic: bytes, data: bytes) -> Optional[Tuple[Dict[str, Any], int]]:
    """(header, payload start), or None if ``data`` is not a whole entry."""
    n = len(magic)
    if data[:n] != magic or len(data) < n + 4:
        return None
    (size,) = _HEADER_LEN.unpack_from(data, n)
    start = n + 4 + size
    if start > len(data):
        return None
    try:
        header = marshal.loads(data[n + 4:start])
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(header, dict):
        return None
    return header, start


def _unpack(magic: bytes, data: bytes, fields: Dict[str, Any]) -> Optional[bytes]:
    found = _header(magic, data)
    if found is None:
        return None
    header, start = found
    if any(header.get(k) != v for k, v in fields.items()):
        return None
    payload = data[start:]
    if header.get("payload_sha256") != hashlib.sha256(payload).hexdigest():
        return None
    return payload


# ----- modules -------------------------------------------------------------------------------

_cache_dirs: Dict[Tuple[str, int], CodeCache] = {}
_cache_dirs_lock = threading.Lock()


def cache_for_config(setting: Any) -> Optional[CodeCache]:
    """The cache a ``Config.cache`` setting names: False/None none, True the default
    directory, a str that directory. Raises :class:`CacheError` for an unusable one."""
    if setting is None or setting is False:
        return None
    directory = default_cache_dir() if setting is True else os.fspath(setting)
    if not directory:
        raise CacheError("the cache directory path is empty")
    key = (os.path.abspath(directory), DEFAULT_MAX_BYTES)
    with _cache_dirs_lock:
        cache = _cache_dirs.get(key)
        if cache is None:
            cache = _cache_dirs[key] = CodeCache(directory)
        else:
            check_private(cache.directory)   # again: it may have changed since (one stat)
        return cache


class CacheHandle:
    """One module's entry in one cache, from lookup to the last flush."""

    def __init__(self, cache: CodeCache, fields: Dict[str, Any],
                 module: Optional[Module], payload: Optional[bytes]) -> None:
        self.cache = cache
        self.fields = fields
        self.key = _key_name(fields)
        self.module = module          # the cached (lazily decoded) module on a hit
        self._payload = payload
        self._written = 0 if payload is not None else -1   # functions in the entry
        self._compiled: "Optional[weakref.ref[CompiledModule]]" = None
        self._lock = threading.Lock()

    @property
    def hit(self) -> bool:
        return self.module is not None

    def validated(self) -> None:
        """The module decoded and validated (a miss): record it, with no code yet."""
        if self._written < 0:
            self.cache.write(self.key, self.fields,
                             codes_payload(self.fields["fuel"], self.fields["epoch"], {}))
            self._written = 0

    def attach(self, compiled: CompiledModule) -> None:
        """Give ``compiled`` the entry's code, and add what it compiles later to the entry
        when it is dropped or at exit (or at :meth:`flush`)."""
        if self._payload is not None:
            self._written = compiled.import_codes(self._payload)
            self._payload = None
        self._compiled = weakref.ref(compiled)
        # The finalizer holds the code dict, not the CompiledModule (which it would keep
        # alive): it runs when the module is collected, else at interpreter exit.
        weakref.finalize(compiled, self._write_codes, compiled._codes, compiled.fuel,
                         compiled.epoch)
        with _live_lock:
            _live.add(self)

    def flush(self) -> None:
        """Write the entry again if functions were compiled since it was written."""
        compiled = self._compiled() if self._compiled is not None else None
        if compiled is not None:
            self._write_codes(compiled._codes, compiled.fuel, compiled.epoch)

    def _write_codes(self, codes: Dict[int, Tuple[Any, ...]], fuel: bool,
                     epoch: bool) -> None:
        with self._lock:
            codes = dict(codes)
            if len(codes) <= max(self._written, 0):
                return
            # Another process may have added functions meanwhile: keep them too, so that
            # concurrent runs converge on the union rather than the last writer's set.
            current = self.cache.read(self.key, self.fields)
            if current is not None:
                for index, entry in codes_from_payload(current, fuel, epoch).items():
                    codes.setdefault(index, entry)
            try:
                self.cache.write(self.key, self.fields, codes_payload(fuel, epoch, codes))
            except Exception:  # noqa: BLE001 - a cache must never break the program
                return
            self._written = len(codes)


_live: "weakref.WeakSet[CacheHandle]" = weakref.WeakSet()
_live_lock = threading.Lock()


def flush_all() -> None:
    """Add the functions compiled so far in this process to their cache entries."""
    with _live_lock:
        handles = list(_live)
    for handle in handles:
        handle.flush()


def lookup(setting: Any, config: Any, binary: bytes) -> Optional[CacheHandle]:
    """The cache handle for module ``binary`` under engine ``config`` (None: caching is
    off). ``handle.module`` is the decoded module on a hit (validated before: do not
    validate again), else None."""
    try:
        cache = cache_for_config(setting)
    except CacheError:
        return None   # unusable since Config.cache was set (which reported it): no cache
    if cache is None:
        return None
    fields = _key_fields(hashlib.sha256(binary).hexdigest(), config_fields(config))
    handle = CacheHandle(cache, fields, None, None)
    payload = cache.read(handle.key, fields)
    if payload is not None:
        try:
            handle.module = decode_module(binary, trusted=True)
        except WasmtimeError:
            return handle   # not what the entry said: decode and validate as usual
        handle._payload = payload
        handle._written = 0
    return handle


# ----- Module.serialize / deserialize --------------------------------------------------------

def serialize_module(binary: bytes, config: Any, compiled: CompiledModule) -> bytes:
    """A module with all its functions compiled: header, the Wasm binary, the code."""
    compiled.compile_all(skip_errors=True)
    fields = _key_fields(hashlib.sha256(binary).hexdigest(), config_fields(config))
    codes = compiled.export_codes()
    body = _HEADER_LEN.pack(len(binary)) + binary + codes
    return _pack(SERIAL_MAGIC, fields, body)


_MISMATCH_NAMES = {"purewasm": "purewasm version", "translator": "translator version",
                   "cache_tag": "Python implementation", "features": "enabled proposals",
                   "fuel": "fuel setting (Config.consume_fuel)",
                   "epoch": "epoch setting (Config.epoch_interruption)",
                   "format": "serialization format", "mode": "lowering",
                   "shapes": "code shapes (compile/ops_pypy.py)"}


def deserialize_module(data: bytes, config: Any) -> Tuple[bytes, Module, bytes]:
    """(Wasm binary, lazily decoded module, code payload) of a serialized module; a
    :class:`WasmtimeError` says why one cannot be used here."""
    found = _header(SERIAL_MAGIC, data)
    if found is None:
        raise WasmtimeError("not a whole serialized module (truncated, or not made by "
                            "Module.serialize)")
    header, start = found
    expected = _key_fields("", config_fields(config))
    del expected["module"]
    mismatched = [k for k, v in expected.items() if header.get(k) != v]
    if mismatched:
        k = mismatched[0]
        raise WasmtimeError("the serialized module was made with another %s (%r; here %r):"
                            " serialize it again with this purewasm and configuration"
                            % (_MISMATCH_NAMES.get(k, k), header.get(k), expected[k]))
    body = data[start:]
    if header.get("payload_sha256") != hashlib.sha256(body).hexdigest() or len(body) < 4:
        raise WasmtimeError("the serialized module is corrupt (checksum mismatch)")
    (size,) = _HEADER_LEN.unpack_from(body, 0)
    binary = bytes(body[4:4 + size])
    if len(binary) != size or hashlib.sha256(binary).hexdigest() != header.get("module"):
        raise WasmtimeError("the serialized module is corrupt (module hash mismatch)")
    module = decode_module(binary, trusted=True)
    return binary, module, bytes(body[4 + size:])


def is_serialized(data: Sequence[int]) -> bool:
    return bytes(data[:len(SERIAL_MAGIC)]) == SERIAL_MAGIC
