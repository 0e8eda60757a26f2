"""WasiConfig: what a guest may see. Nothing from the host reaches it unless configured here.

Shaped like wasmtime-py's ``WasiConfig``: ``argv``/``env`` properties, ``inherit_*``
methods, ``stdin_file``/``stdout_file``/``stderr_file`` paths,
``preopen_dir(host, guest, dir_perms=DirPerms.READ_WRITE, file_perms=FilePerms.READ_WRITE)``
(with wasmtime-py's ``DirPerms``/``FilePerms`` enums; a bool in place of ``dir_perms`` is
the older ``fs_mutable`` form).
Extras: ``stdin_bytes`` and ``stdout_custom``/``stderr_custom`` that take a callable
(receiving each written ``bytes``) or a ``bytearray`` (extended in place).
"""
from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Callable, Iterable, List, Mapping, Optional, Tuple, Union

from ..errors import WasmtimeError

Sink = Union[Callable[[bytes], object], bytearray]


class DirPerms(Enum):
    """What the guest may do to the directories of a preopen (wasmtime-py's values)."""

    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_WRITE = 3


class FilePerms(Enum):
    """What the guest may do to the files of a preopen (wasmtime-py's values)."""

    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_WRITE = 3


PERM_READ = 1
PERM_WRITE = 2


class Preopen:
    """A host directory made visible to the guest under ``guest_path``.

    ``dir_perms`` / ``file_perms`` are bit sets (PERM_READ | PERM_WRITE).
    """

    def __init__(self, host_path: str, guest_path: str, dir_perms: int = 3,
                 file_perms: int = 3) -> None:
        self.host_path = host_path
        self.guest_path = guest_path
        self.dir_perms = dir_perms
        self.file_perms = file_perms

    @property
    def writable(self) -> bool:
        return bool(self.dir_perms & PERM_WRITE and self.file_perms & PERM_WRITE)

    def __repr__(self) -> str:
        return "Preopen(%r, %r, dir_perms=%r, file_perms=%r)" % (
            self.host_path, self.guest_path, self.dir_perms, self.file_perms)


class WasiConfig:
    """The configuration of one WASI instance (sandboxed by default)."""

    def __init__(self) -> None:
        self._argv: List[str] = []
        self._env: List[Tuple[str, str]] = []
        # stdin: None (empty), ("inherit",), ("file", path), ("bytes", data)
        self.stdin_source: Optional[tuple] = None
        # stdout/stderr: None (discarded), ("inherit",), ("file", path), ("sink", sink)
        self.stdout_target: Optional[tuple] = None
        self.stderr_target: Optional[tuple] = None
        self.preopens: List[Preopen] = []

    # argv / env ---------------------------------------------------------------------------
    @property
    def argv(self) -> List[str]:
        return list(self._argv)

    @argv.setter
    def argv(self, value: Iterable[str]) -> None:
        self._argv = [str(a) for a in value]

    def inherit_argv(self) -> None:
        self._argv = list(sys.argv)

    @property
    def env(self) -> List[Tuple[str, str]]:
        return list(self._env)

    @env.setter
    def env(self, value: Union[Mapping[str, str], Iterable[Tuple[str, str]]]) -> None:
        items = value.items() if isinstance(value, Mapping) else value
        self._env = [(str(k), str(v)) for k, v in items]

    def inherit_env(self) -> None:
        self._env = list(os.environ.items())

    # stdio --------------------------------------------------------------------------------
    def inherit_stdin(self) -> None:
        self.stdin_source = ("inherit",)

    def inherit_stdout(self) -> None:
        self.stdout_target = ("inherit",)

    def inherit_stderr(self) -> None:
        self.stderr_target = ("inherit",)

    # As wasmtime-py, a path that cannot work is refused when set (wasmtime opens the file
    # then); the file itself is opened when a store gets this configuration.
    def _set_stdin_file(self, path: str) -> None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise WasmtimeError("failed to open %r for stdin: no such file" % (path,))
        self.stdin_source = ("file", path)

    @staticmethod
    def _output_file(path: str, stream: str) -> str:
        path = os.fspath(path)
        if os.path.isdir(path) or not os.path.isdir(os.path.dirname(path) or "."):
            raise WasmtimeError("failed to open %r for %s: no such directory, or a directory"
                                % (path, stream))
        return path

    def _set_stdout_file(self, path: str) -> None:
        self.stdout_target = ("file", self._output_file(path, "stdout"))

    def _set_stderr_file(self, path: str) -> None:
        self.stderr_target = ("file", self._output_file(path, "stderr"))

    # wasmtime-py exposes these as write-only properties.
    stdin_file = property(None, _set_stdin_file)
    stdout_file = property(None, _set_stdout_file)
    stderr_file = property(None, _set_stderr_file)

    def stdin_bytes(self, data: bytes) -> None:
        """The guest's stdin reads ``data`` and then end of file."""
        self.stdin_source = ("bytes", bytes(data))

    def _set_stdout_custom(self, sink: Sink) -> None:
        self.stdout_target = ("sink", _check_sink(sink))

    def _set_stderr_custom(self, sink: Sink) -> None:
        self.stderr_target = ("sink", _check_sink(sink))

    stdout_custom = property(None, _set_stdout_custom)
    stderr_custom = property(None, _set_stderr_custom)

    # filesystem ---------------------------------------------------------------------------
    def preopen_dir(self, path: str, guest_path: str,
                    dir_perms: Union[DirPerms, bool] = DirPerms.READ_WRITE,
                    file_perms: FilePerms = FilePerms.READ_WRITE,
                    fs_mutable: Optional[bool] = None) -> None:
        """Let the guest see host directory ``path`` as ``guest_path``.

        ``dir_perms`` limits what the guest may do to directories (READ_ONLY: no create,
        unlink, rename, mkdir, rmdir, symlink, link, set times), ``file_perms`` to files
        (READ_ONLY: no open for writing, truncate, set size or times); refusals answer
        EPERM, as wasmtime. A bool (``fs_mutable``, the older wasmtime-py signature)
        means READ_WRITE for both when true, READ_ONLY for both when false.
        """
        if fs_mutable is not None:
            dir_perms = bool(fs_mutable)
        if isinstance(dir_perms, bool):
            # The older wasmtime-py form: one switch for directories and files alike.
            file_perms = FilePerms.READ_WRITE if dir_perms else FilePerms.READ_ONLY
            dir_perms = DirPerms.READ_WRITE if dir_perms else DirPerms.READ_ONLY
        if not isinstance(dir_perms, DirPerms) or not isinstance(file_perms, FilePerms):
            raise TypeError("expected DirPerms and FilePerms")
        host = os.path.realpath(os.fspath(path))
        if not os.path.isdir(host):
            raise WasmtimeError("cannot preopen %r: not a directory" % (path,))
        self.preopens.append(Preopen(host, str(guest_path), dir_perms.value, file_perms.value))


def _check_sink(sink: Sink) -> Sink:
    if not (callable(sink) or isinstance(sink, bytearray)):
        raise TypeError("expected a callable taking bytes or a bytearray")
    return sink
