"""Module: a decoded, validated WebAssembly module; wat2wasm.

The decoder, text parser, validator and compiler are imported on first use (deliberate
function-level imports): ``import purewasm`` stays light for programs that only need part.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Union

from purewasm import _repr, syntax
from purewasm.errors import ArgumentTypeError, MalformedError, WasmtimeError

from ._config import Closeable, Config, Engine
from ._types import AsExternType, ExportType, FuncType, ImportType, _wrap_import_type


def _parse_text(text: str) -> syntax.Module:
    from purewasm.text import parse_module   # first use (module docstring)
    return parse_module(text)


def _features(config: Config) -> List[str]:
    from purewasm.opcodes import PROPOSALS   # first use (module docstring)
    return [p for p in PROPOSALS if getattr(config, "wasm_" + p, True)]


def _validate(module: syntax.Module, config: Config) -> None:
    from purewasm.validate import validate_module   # first use (module docstring)
    validate_module(module, _features(config))


def _decode_and_validate(data: bytes, config: Config) -> syntax.Module:
    """A binary module decoded and validated, its function bodies checked straight from
    the bytes and decoded only when first compiled (validate/stream.py)."""
    from purewasm.validate import decode_and_validate   # first use (module docstring)
    return decode_and_validate(data, _features(config))


def _cache_lookup(config: Config, binary: bytes) -> Any:
    """The module's compiled-code cache handle (None when Config.cache is off)."""
    if not config.cache:
        return None
    from purewasm.compile.cache import lookup   # first use (module docstring)
    return lookup(config.cache, config, binary)


def _is_text(wasm: Union[str, bytes, bytearray]) -> bool:
    # As wasmtime-py: a str, or bytes not starting with a NUL, is the text format.
    if isinstance(wasm, str):
        return len(wasm) > 0 and ord(wasm[0]) != 0
    return len(wasm) > 0 and wasm[0] != 0


def _text_of(wasm: Union[str, bytes, bytearray]) -> str:
    """Text-format input as a str; bytes that are not UTF-8 are malformed (neither a
    binary, which starts with NUL, nor text), never a UnicodeDecodeError."""
    if isinstance(wasm, str):
        return wasm
    try:
        return bytes(wasm).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError("input is neither a Wasm binary nor UTF-8 text (invalid "
                             "UTF-8 at byte %d)" % exc.start, exc.start) from None


def wat2wasm(wat: Union[str, bytes]) -> bytearray:
    """Convert the WebAssembly text format to the binary format.

    Args:
        wat: the module's text (str, or UTF-8 bytes).

    Returns:
        The binary module.

    Raises:
        MalformedError (a WasmtimeError): for text that does not parse.
    """
    if isinstance(wat, (bytes, bytearray)):
        wat = _text_of(wat)
    from purewasm.text import wat2wasm as text_to_binary   # first use (module docstring)
    return bytearray(text_to_binary(wat))


class Module(Closeable):
    """A decoded and validated WebAssembly module, ready to be instantiated any number of
    times (its compiled code is shared by its instances).

    Args:
        engine: the engine whose Config (enabled proposals, fuel, epochs) applies.
        wasm: the binary module (bytes) or its text format (str, or bytes not starting
            with NUL, as wasmtime-py).

    Raises:
        TypeError: for an ``engine`` that is not an Engine or ``wasm`` of another type.
        MalformedError, InvalidError (WasmtimeError): for a module that does not decode,
            parse or validate.
        WasmtimeError: when memory runs out reading the module.
        ValueError: when the engine has been closed.

    ``close()`` (or leaving a ``with Module(...) as module:`` block) drops the module's
    code; using it afterwards raises ValueError (its instances keep working).
    """

    _what = "module"

    def __init__(self, engine: Engine, wasm: Union[str, bytes, bytearray]) -> None:
        if not isinstance(engine, Engine):
            raise ArgumentTypeError("expected an Engine")
        engine._check_open()
        self.engine = engine
        self._binary: Optional[bytes] = None
        self._cache_handle: Any = None
        module: syntax.Module
        validated = False
        if isinstance(wasm, syntax.Module):
            module = wasm
        elif not isinstance(wasm, (str, bytes, bytearray)):
            raise ArgumentTypeError("expected wasm bytes")
        else:
            try:
                if _is_text(wasm):
                    module = _parse_text(_text_of(wasm))
                else:
                    if isinstance(wasm, str):
                        wasm = wasm.encode("latin-1")
                    self._binary = bytes(wasm)
                    self._cache_handle = _cache_lookup(engine.config, self._binary)
                    if self._cache_handle is not None and self._cache_handle.hit:
                        module = self._cache_handle.module   # validated when cached
                    else:
                        module = _decode_and_validate(self._binary, engine.config)
                        validated = True
            except MemoryError:
                raise WasmtimeError("out of memory while reading a module of %d bytes"
                                    % len(wasm)) from None
        if validated:
            if self._cache_handle is not None:
                self._cache_handle.validated()
        elif self._cache_handle is None or not self._cache_handle.hit:
            try:
                _validate(module, engine.config)
            except MemoryError:
                raise WasmtimeError("out of memory while validating the module") from None
            if self._cache_handle is not None:
                self._cache_handle.validated()
        self._syntax: Optional[syntax.Module] = module
        self._compiled: Any = None

    @property
    def _module(self) -> syntax.Module:
        """The decoded module (ValueError once closed)."""
        if self._syntax is None:
            raise ValueError("this module has been closed")
        return self._syntax

    def _release(self) -> None:
        self._syntax = None
        self._compiled = None
        self._binary = None
        self._cache_handle = None

    @classmethod
    def _from_syntax(cls, engine: Engine, module: syntax.Module,
                     binary: Optional[bytes] = None) -> "Module":
        """A Module from an already decoded *and validated* syntax module."""
        obj = cls.__new__(cls)
        obj.engine = engine
        obj._binary = binary
        obj._syntax = module
        obj._compiled = None
        obj._cache_handle = None
        return obj

    @classmethod
    def from_file(cls, engine: Engine, path: Union[str, bytes, "os.PathLike[str]"]) -> "Module":
        """The module in the file at ``path`` (binary or text format).

        Raises:
            OSError: when the file cannot be read; otherwise as the constructor.
        """
        with open(path, "rb") as f:
            contents = f.read()
        return cls(engine, contents)

    @classmethod
    def validate(cls, engine: Engine, wasm: Union[bytes, bytearray]) -> None:
        """Check that ``wasm`` (a binary module) decodes and validates under the engine's
        Config, without making a Module.

        Raises:
            TypeError: when ``engine`` is not an Engine or ``wasm`` not bytes.
            MalformedError, InvalidError (WasmtimeError): when it does not.
        """
        if not isinstance(engine, Engine):
            raise ArgumentTypeError("expected an Engine")
        if not isinstance(wasm, (bytes, bytearray)):
            raise ArgumentTypeError("expected wasm bytes")
        _decode_and_validate(bytes(wasm), engine.config)

    @classmethod
    def deserialize(cls, engine: Engine, encoded: Union[bytes, bytearray]) -> "Module":
        """The module from the bytes of :meth:`serialize`, with its compiled code (a plain
        Wasm binary is accepted too).

        Raises:
            TypeError: when ``encoded`` is not bytes.
            WasmtimeError: when made by another purewasm version, Python or configuration;
                otherwise as the constructor.
        """
        if not isinstance(encoded, (bytes, bytearray)):
            raise ArgumentTypeError("expected bytes")
        from purewasm.compile import cache   # first use (module docstring)
        if not cache.is_serialized(encoded):
            return cls(engine, bytes(encoded))
        binary, module, codes = cache.deserialize_module(bytes(encoded), engine.config)
        obj = cls._from_syntax(engine, module, binary)
        obj._get_compiled().import_codes(codes)
        return obj

    @classmethod
    def deserialize_file(cls, engine: Engine, path: str) -> "Module":
        """:meth:`deserialize` of a file's contents (OSError when it cannot be read)."""
        with open(path, "rb") as f:
            return cls.deserialize(engine, f.read())

    def serialize(self) -> bytearray:
        """The module and the code of all its functions, for :meth:`deserialize` by the
        same purewasm version, Python and configuration (compiles every function)."""
        if self._binary is None:
            from purewasm.binary import encode_module   # first use (module docstring)
            self._binary = bytes(encode_module(self._module))
        from purewasm.compile.cache import serialize_module   # first use (module docstring)
        return bytearray(serialize_module(self._binary, self.engine.config,
                                          self._get_compiled()))

    def __repr__(self) -> str:
        """The module's name, imports and exports (purewasm._repr)."""
        if self._syntax is None:
            return "<Module (closed)>"
        return _repr.module_repr(self)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: tables of imports and exports."""
        if self._syntax is None:
            return "<div><strong>purewasm Module</strong> (closed)</div>"
        return _repr.module_html(self)

    @property
    def name(self) -> Optional[str]:
        """The module's name from its name section, or None."""
        return self._module.names.module

    @property
    def imports(self) -> List[ImportType]:
        """The module's imports, in order."""
        m = self._module
        return [ImportType(imp.module, imp.name, _wrap_import_type(imp.kind, imp.desc, m))
                for imp in m.imports]

    @property
    def exports(self) -> List[ExportType]:
        """The module's exports, in order."""
        m = self._module
        spaces: Dict[str, List[Any]] = {
            syntax.FUNC: m.func_types(), syntax.TABLE: m.table_types(),
            syntax.MEMORY: m.memory_types(), syntax.GLOBAL: m.global_types(),
            syntax.TAG: m.tag_types()}
        out = []
        for exp in m.exports:
            desc = spaces[exp.kind][exp.index]
            if exp.kind == syntax.FUNC:
                ty: AsExternType = FuncType._from(desc)
            else:
                ty = _wrap_import_type(exp.kind, desc, m)
            out.append(ExportType(exp.name, ty))
        return out

    def _get_compiled(self) -> Any:
        """The module's compile.CompiledModule (made once, shared by every instance)."""
        if self._compiled is None:
            from purewasm.compile import CompiledModule   # first use (module docstring)
            config = self.engine.config
            self._compiled = CompiledModule(self._module, fuel=config.consume_fuel,
                                            epoch=config.epoch_interruption)
            if self._cache_handle is not None:
                self._cache_handle.attach(self._compiled)
        return self._compiled
