"""The ``purewasm`` command line: ``run``, ``compile``, ``validate``, ``wast``, ``print``,
``explore``. ``run`` uses the compiled-code cache (compile/cache.py) unless ``--no-cache``.

Exit status (documented in ``--help``):

==========  ==============================================================================
0–255       ``run``: the program's exit status (``proc_exit`` code, 0 when ``_start``
            returns); ``validate``: 0 when the module is valid
1           an error before or around the program: unreadable file, malformed / invalid
            module, unsatisfied import
2           a usage error (unknown flag, missing file operand, bad ``--invoke`` argument)
134         the program trapped (as wasmtime on Unix: 128 + SIGABRT)
130         interrupted (Ctrl-C)
141         the reader of the output went away (a closed pipe: ``purewasm print m.wasm | head``)
70          an internal error of purewasm (a bug: please report it)
==========  ==============================================================================

Every error is one line on stderr (a trap adds its Wasm backtrace below it); set
``PUREWASM_TRACEBACK=1`` to see the Python traceback of an internal error.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import sys
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, NoReturn, Optional, Sequence, \
    Tuple, Union

from .errors import ExitTrap, InvalidError, LinkError, MalformedError, Trap, WasmtimeError, \
    format_backtrace

if TYPE_CHECKING:  # imported lazily at run time: `purewasm --help` stays fast
    from .syntax import Module
    from .wasi import WasiConfig

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141      # 128 + SIGPIPE, what a shell reports for a tool killed by it
EXIT_TRAP = 134

PROG = "purewasm"

_STATUS_HELP = """\
exit status:
  run        the program's exit status (proc_exit code; 0 when _start returns)
  validate   0 when the module is valid
  1          error: unreadable file, malformed or invalid module, unknown import
  2          usage error (unknown flag, missing operand, bad --invoke argument)
  134        the program trapped (one line with the trap, then its wasm backtrace)
  130        interrupted
  141        the reader of the output went away (a closed pipe, as `| head`)
  70         internal error of purewasm (set PUREWASM_TRACEBACK=1 for the traceback)
"""


class UsageError(Exception):
    """A command-line mistake: one line, exit status 2."""


class CliError(Exception):
    """An error outside the module (e.g. an unreadable file): one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        # ARGS is optional; argparse's REMAINDER makes it look required.
        message = message.replace("FILE, ARGS", "FILE")
        raise UsageError("%s (see '%s --help')" % (message, self.prog))


def _fail(message: str) -> None:
    sys.stderr.write("%s: error: %s\n" % (PROG, message))
    sys.stderr.flush()


def _version_text() -> str:
    import platform

    import purewasm     # the package's __init__ (the one place the version is written)
    return "purewasm %s (%s %s)" % (purewasm.__version__, platform.python_implementation(),
                                    platform.python_version())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="purewasm: a WebAssembly runtime in pure Python.",
        epilog=_STATUS_HELP + "\n'purewasm FILE [ARGS...]' is short for "
               "'purewasm run FILE [ARGS...]'.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version_text())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run", help="run a WebAssembly module (.wasm or .wat) with WASI",
        description="Run a WebAssembly module with WASI preview 1, as 'wasmtime run' does. "
                    "The program sees only what the flags give it: its arguments, the "
                    "--env variables and the --dir and --ro-dir directories; stdin, stdout and stderr "
                    "are the terminal's. Options go before FILE; everything after FILE "
                    "is passed to the program.",
        epilog=_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    # --dir and --ro-dir share one list so that the preopens keep their command-line
    # order (it decides their descriptor numbers).
    run.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                     dest="dir", type=_dir_spec(False),
                     help="give the program the host directory HOST, seen as GUEST "
                          "(default: the same path as HOST); repeatable")
    run.add_argument("--ro-dir", action="append", metavar="HOST[::GUEST]", dest="dir",
                     type=_dir_spec(True),
                     help="as --dir, read-only: the program may read HOST but not create, "
                          "write, truncate, rename, remove or touch anything in it "
                          "(EPERM); repeatable")
    run.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                     help="set environment variable NAME to VALUE for the program; "
                          "without =VALUE, pass the host's value of NAME (if set); "
                          "repeatable")
    run.add_argument("--invoke", metavar="NAME",
                     help="call the exported function NAME instead of _start: ARGS are "
                          "parsed by its parameter types (i32/i64 as integers, decimal or "
                          "0x-hex; f32/f64 as floats, 'nan' and 'inf' allowed) and each "
                          "result is printed on its own line")
    run.add_argument("-W", dest="wasm_opts", action="append", default=[],
                     metavar="KEY=VALUE[,...]",
                     help="limits, in wasmtime's syntax: fuel=N (instructions), "
                          "timeout=DURATION (2s, 500ms, plain seconds), "
                          "max-memory-size=BYTES (per memory; default 1 GiB), "
                          "max-wasm-stack=BYTES; repeatable")
    _cache_options(run)
    run.add_argument("file", metavar="FILE",
                     help="the module: .wasm binary, .wat text or a module serialized "
                          "by 'purewasm compile -o'")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="arguments for the program (or for --invoke)")

    comp = sub.add_parser(
        "compile", help="compile every function of a module ahead of time",
        description="Decode, validate and translate every function of a module, and "
                    "store the compiled code in the cache (so that 'purewasm run' starts "
                    "without compiling), or with -o write a serialized module that "
                    "'purewasm run' and Module.deserialize_file load. The code is for this "
                    "purewasm version and this Python only.",
        epilog=_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    comp.add_argument("-o", "--output", metavar="OUT",
                      help="write a serialized module to OUT instead of filling the cache")
    comp.add_argument("-W", dest="wasm_opts", action="append", default=[],
                      metavar="KEY=VALUE[,...]",
                      help="compile for these run options (fuel=..., timeout=... change "
                           "the generated code; same syntax as 'run')")
    _cache_options(comp)
    comp.add_argument("file", metavar="FILE", help="the module: .wasm binary or .wat text")

    val = sub.add_parser(
        "validate", help="check that a module is well formed and valid",
        description="Decode (or parse) and validate a module; print 'FILE: valid' or a "
                    "one-line error naming the location.",
        epilog=_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    val.add_argument("file", metavar="FILE", help="the module: .wasm binary or .wat text")

    wast = sub.add_parser(
        "wast", help="run WebAssembly spec test scripts (.wast)",
        description="Run .wast scripts (module, register, invoke, assert_* commands).")
    wast.add_argument("files", nargs="+", metavar="FILE", help=".wast scripts")
    wast.add_argument("-q", "--quiet", action="store_true",
                      help="print only the failures and the closing line")

    prt = sub.add_parser(
        "print", help="print a module in the text format",
        description="Decode (or parse) a module and print it in the WebAssembly text "
                    "format, with names from its name section.",
        epilog=_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    prt.add_argument("file", metavar="FILE", help="the module: .wasm binary or .wat text")

    exp = sub.add_parser(
        "explore", help="print the Python source that functions are translated into",
        description="Translate functions of a module and print the Python source that "
                    "purewasm runs for them (each preceded by a comment naming the Wasm "
                    "function, its type and the lowering chosen). For reading and for "
                    "debugging the translator.",
        epilog=_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("file", metavar="FILE", help="the module: .wasm binary or .wat text")
    exp.add_argument("--func", action="append", default=[], metavar="N|NAME",
                     help="only this function: its index in the function index space, or "
                          "its name (name section or export); repeatable (default: all "
                          "defined functions)")
    lowering = exp.add_mutually_exclusive_group()
    lowering.add_argument("--flat", action="store_const", const="flat", dest="mode",
                          help="force the flat (state machine) lowering")
    lowering.add_argument("--structured", action="store_const", const="structured",
                          dest="mode", help="force the structured lowering")
    exp.add_argument("--fuel", action="store_true", help="with fuel metering compiled in")
    exp.add_argument("--epoch", action="store_true", help="with epoch checks compiled in")
    return parser


# --- loading ---------------------------------------------------------------------------------

def _cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="neither use nor fill the compiled-code cache")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="the compiled-code cache directory (default: "
                             "$PUREWASM_CACHE_DIR, else $XDG_CACHE_HOME/purewasm, else "
                             "~/.cache/purewasm)")


def _enable_cache(config: Any, opts: argparse.Namespace) -> None:
    """Turn the cache on as the options say; an unusable cache directory is a warning
    (the program runs without the cache), never a failure."""
    if opts.no_cache:
        return
    try:
        config.cache = opts.cache_dir if opts.cache_dir else True
    except WasmtimeError as exc:
        sys.stderr.write("%s: warning: compiled-code cache disabled: %s\n" % (PROG, exc))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Collect no garbage while loading and instantiating: they make hundreds of
    thousands of long-lived objects and almost no cycles, and the collector's full passes
    over them were most of a cached start (23 MB module: 2.2 s to the first instruction,
    0.3 s without). Then ``gc.freeze()`` moves them out of later collections' way."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            freeze = getattr(gc, "freeze", None)   # CPython 3.7+; not PyPy
            if freeze is not None:
                freeze()
            gc.enable()


class _Progress:
    """One line on stderr when loading takes more than ``delay`` seconds (a TTY only):
    a large module's first run is slow, and silence looks like a hang."""

    def __init__(self, what: str, delay: float = 2.0,
                 note: str = "first run: decoding, validating; later runs use the cache"
                 ) -> None:
        import threading
        self.what = what
        self.note = note
        self.shown = False
        self.start = 0.0
        self.timer: Any = None
        if _stderr_is_tty():
            self.timer = threading.Timer(delay, self._show)
            self.timer.daemon = True

    def _show(self) -> None:
        self.shown = True
        sys.stderr.write("%s: loading %s (%s)...\n" % (PROG, self.what, self.note))
        sys.stderr.flush()

    def __enter__(self) -> "_Progress":
        import time
        self.start = time.perf_counter()
        if self.timer is not None:
            self.timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import time
        if self.timer is not None:
            self.timer.cancel()
        if self.shown:
            sys.stderr.write("%s: loaded in %.1f s\n" % (PROG, time.perf_counter() - self.start))
            sys.stderr.flush()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _load_module(engine: Any, path: str) -> Any:
    """The public Module for ``path``: text, binary or serialized (with progress)."""
    import purewasm
    from .compile.cache import is_serialized
    data = _read_file(path)
    with _Progress("%s (%.1f MB)" % (os.path.basename(path), len(data) / 1e6)):
        if is_serialized(data):
            return purewasm.Module.deserialize(engine, data)
        if _is_text(path, data):
            try:
                return purewasm.Module(engine, data.decode("utf-8"))
            except UnicodeDecodeError:
                raise MalformedError("not UTF-8 text and not a Wasm binary") from None
            except MalformedError as exc:
                raise _not_text_either(path, data, exc) from None
        return purewasm.Module(engine, data)


def _not_text_either(path: str, data: bytes, exc: MalformedError) -> MalformedError:
    """The error for ``data`` that failed to parse as text: when it was neither named nor
    shaped as text (nor a binary), say both, not only the parser's complaint about what
    was probably never meant as text."""
    if path.endswith((".wat", ".wast")) or data.lstrip().startswith((b"(", b";;")):
        return exc
    return MalformedError("not a Wasm binary (no \\0asm header) and not the text format: "
                          + exc.reason, exc.offset, exc.line, exc.column)


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CliError("cannot read %s: %s" % (path, exc.strerror or exc)) from None


def _is_text(path: str, data: bytes) -> bool:
    if path.endswith((".wat", ".wast")):
        return True
    return not data.startswith(b"\0asm")


def _read_module_source(path: str) -> Union[str, bytes]:
    """The module at ``path``: ``str`` for the text format, ``bytes`` for a binary."""
    data = _read_file(path)
    if not _is_text(path, data):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedError("not UTF-8 text and not a Wasm binary") from None


def load_syntax_module(path: str) -> Module:
    """Decode or parse ``path`` into a validated ``syntax.Module``."""
    source = _read_module_source(path)
    if isinstance(source, str):
        from .text import parse_module
        try:
            module = parse_module(source)
        except MalformedError as exc:
            raise _not_text_either(path, source.encode("utf-8", "surrogateescape"),
                                   exc) from None
        from .validate import validate_module
        validate_module(module)
        return module
    from .validate import decode_and_validate
    return decode_and_validate(source)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, MalformedError):
        return "malformed module: %s" % exc
    if isinstance(exc, InvalidError):
        return "invalid module: %s" % exc
    if isinstance(exc, LinkError):
        return "cannot link: %s" % exc
    return str(exc)


# --- run -------------------------------------------------------------------------------------

def _dir_spec(read_only: bool) -> Any:
    def convert(spec: str) -> Tuple[str, bool]:
        return spec, read_only
    convert.__name__ = "directory"      # argparse names the type in its messages
    return convert


def parse_dir(spec: str) -> Tuple[str, str]:
    """``HOST[::GUEST]`` -> (host, guest); guest defaults to host, as in wasmtime."""
    host, sep, guest = spec.partition("::")
    if not host:
        raise UsageError("--dir needs a host directory: %r" % spec)
    return host, (guest if sep and guest else host)


def parse_env(specs: Sequence[str]) -> List[Tuple[str, str]]:
    env: List[Tuple[str, str]] = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not name:
            raise UsageError("--env needs a name: %r" % spec)
        if not sep:
            if name not in os.environ:
                continue
            value = os.environ[name]
        env = [(k, v) for k, v in env if k != name] + [(name, value)]
    return env


_INT_BITS = {"i32": 32, "i64": 64}


def parse_value(text: str, valtype: str) -> Any:
    """An --invoke argument of Wasm type ``valtype`` (ints may be given signed or not)."""
    if valtype in _INT_BITS:
        bits = _INT_BITS[valtype]
        try:
            value = int(text.replace("_", ""), 0)
        except ValueError:
            raise UsageError("invalid %s argument: %r" % (valtype, text)) from None
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise UsageError("%s argument out of range: %r" % (valtype, text))
        # wasmtime-shaped API: signed ints in, the runtime canonicalises.
        return value - (1 << bits) if value >= 1 << (bits - 1) else value
    if valtype in ("f32", "f64"):
        try:
            return float(text)
        except ValueError:
            raise UsageError("invalid %s argument: %r" % (valtype, text)) from None
    raise UsageError("cannot pass a %s argument from the command line" % valtype)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if value is None:
        return "null"
    inner = getattr(value, "value", None)    # a purewasm.Val
    if inner is not None and not isinstance(value, (int, float)):
        return format_value(inner)
    return str(value)


def _make_wasi_config(argv: List[str], env: List[Tuple[str, str]],
                      dirs: List[Tuple[str, str, bool]]) -> WasiConfig:
    from .wasi import DirPerms, FilePerms, WasiConfig
    cfg = WasiConfig()
    cfg.argv = argv
    cfg.env = env
    cfg.inherit_stdin()
    cfg.inherit_stdout()
    cfg.inherit_stderr()
    for host, guest, read_only in dirs:
        if not os.path.isdir(host):
            raise CliError("--%s %s: not a directory" % ("ro-dir" if read_only else "dir", host))
        if read_only:
            cfg.preopen_dir(host, guest, DirPerms.READ_ONLY, FilePerms.READ_ONLY)
        else:
            cfg.preopen_dir(host, guest)
    return cfg


_W_KEYS = ("fuel", "timeout", "max-memory-size", "max-wasm-stack")


def _parse_int(key: str, text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise UsageError("-W %s needs a whole number: %r" % (key, text)) from None
    if value < 0:
        raise UsageError("-W %s must not be negative: %r" % (key, text))
    return value


def parse_duration(text: str) -> float:
    """``2s``, ``500ms``, ``1.5`` (seconds), also ``us``/``ns``/``m``, as wasmtime's -W
    timeout; in seconds."""
    units = (("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0))
    number, scale = text.strip(), 1.0
    for suffix, factor in units:
        if number.endswith(suffix):
            number, scale = number[:-len(suffix)], factor
            break
    try:
        value = float(number) * scale
    except ValueError:
        raise UsageError("-W timeout needs a duration such as 2s or 500ms: %r"
                         % text) from None
    if not value > 0 or math.isinf(value):
        raise UsageError("-W timeout must be positive: %r" % text)
    return value


def parse_wasm_options(specs: Sequence[str]) -> dict:
    """The -W options (``KEY=VALUE``, comma-separated or repeated) as a dict."""
    out: dict = {}
    for spec in specs:
        for item in spec.split(","):
            key, sep, value = item.strip().partition("=")
            if key not in _W_KEYS:
                raise UsageError("unknown -W option %r (known: %s)" % (key, ", ".join(_W_KEYS)))
            if not sep or not value:
                raise UsageError("-W %s needs a value (-W %s=...)" % (key, key))
            out[key] = parse_duration(value) if key == "timeout" else _parse_int(key, value)
    return out


# The limit set on the command line, named in the trap message when it stops the program.
_LIMIT_NOTES = {"all fuel consumed by WebAssembly": "fuel", "interrupt": "timeout",
                "call stack exhausted": "max-wasm-stack"}
_active_limits: dict = {}


def cmd_run(opts: argparse.Namespace) -> int:
    import purewasm

    dirs = [parse_dir(spec) + (read_only,) for spec, read_only in opts.dir]
    wopts = parse_wasm_options(opts.wasm_opts)
    # Configuration mistakes are reported before the (possibly slow) module load.
    cfg = _make_wasi_config([opts.file] + list(opts.args if opts.invoke is None else []),
                            parse_env(opts.env), dirs)
    config = purewasm.Config()
    if "fuel" in wopts:
        config.consume_fuel = True
    if "timeout" in wopts:
        config.epoch_interruption = True
    if "max-wasm-stack" in wopts:
        if wopts["max-wasm-stack"] <= 0:
            raise UsageError("-W max-wasm-stack must be positive")
        config.max_wasm_stack = wopts["max-wasm-stack"]
    _enable_cache(config, opts)
    engine = purewasm.Engine(config)
    with _gc_paused():
        module = _load_module(engine, opts.file)
    try:
        return _run_module(opts, engine, module, cfg, wopts)
    finally:
        # Functions compiled by this run join the cache entry now, not only at exit: a
        # guest's proc_exit or a trap ends the run too.
        handle = getattr(module, "_cache_handle", None)
        if handle is not None:
            handle.flush()


def _run_module(opts: argparse.Namespace, engine: Any, module: Any, cfg: Any,
                wopts: dict) -> int:
    import purewasm
    store = purewasm.Store(engine)
    _active_limits.clear()
    _active_limits.update(wopts)
    if "fuel" in wopts:
        store.set_fuel(wopts["fuel"])
    if "timeout" in wopts:
        # Only the wall clock stops the program: no epoch deadline.
        store.set_epoch_deadline(1 << 62)
        store.set_deadline(wopts["timeout"])
    if "max-memory-size" in wopts:
        store.set_limits(memory_size=wopts["max-memory-size"])
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    store.set_wasi(cfg)
    with _gc_paused():
        instance = linker.instantiate(store, module)
    exports = instance.exports(store)
    if opts.invoke is None:
        start = _get_export(exports, "_start")
        if start is not None:
            start(store)
        return 0
    init = _get_export(exports, "_initialize")
    if init is not None:
        init(store)
    func = _get_export(exports, opts.invoke)
    if func is None or not hasattr(func, "type") or not callable(func):
        raise UsageError("no exported function named %r" % opts.invoke)
    ftype = func.type(store)
    params = [str(t) for t in ftype.params]   # ValType prints as its name
    if len(opts.args) != len(params):
        raise UsageError("%s expects %d argument(s) (%s), got %d" % (
            opts.invoke, len(params), ", ".join(params) or "none", len(opts.args)))
    values = [parse_value(a, t) for a, t in zip(opts.args, params)]
    result = func(store, *values)
    if result is None:
        results: List[Any] = []
    elif isinstance(result, (list, tuple)):
        results = list(result)
    else:
        results = [result]
    for value in results:
        sys.stdout.write(format_value(value) + "\n")
    sys.stdout.flush()
    return 0


def cmd_compile(opts: argparse.Namespace) -> int:
    import purewasm

    wopts = parse_wasm_options(opts.wasm_opts)
    if opts.no_cache and not opts.output:
        raise UsageError("--no-cache without -o: nothing to write")
    if not opts.output:
        from .compile.cache import is_serialized
        data = _read_file(opts.file)
        if is_serialized(data) or _is_text(opts.file, data):
            raise CliError("only a Wasm binary is cached (this is text or a serialized "
                           "module): use -o OUT")
    config = purewasm.Config()
    config.consume_fuel = "fuel" in wopts
    config.epoch_interruption = "timeout" in wopts
    if not opts.output:
        if opts.cache_dir:
            config.cache = opts.cache_dir   # an unusable directory is an error here
        else:
            config.cache = True
    engine = purewasm.Engine(config)
    with _gc_paused():
        module = _load_module(engine, opts.file)
    if opts.output:
        data = module.serialize()
        try:
            with open(opts.output, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise CliError("cannot write %s: %s" % (opts.output, exc.strerror or exc)) \
                from None
        return 0
    compiled = module._get_compiled()
    with _Progress(os.path.basename(opts.file), note="compiling every function"):
        compiled.compile_all(skip_errors=True)
    module._cache_handle.flush()
    return 0


def _get_export(exports: Any, name: str) -> Any:
    try:
        return exports[name]
    except (KeyError, IndexError):
        return None


# --- validate / wast -------------------------------------------------------------------------

def cmd_validate(opts: argparse.Namespace) -> int:
    load_syntax_module(opts.file)
    sys.stdout.write("%s: valid\n" % opts.file)
    return 0


def cmd_wast(opts: argparse.Namespace) -> int:
    """Run .wast scripts with our own text parser; report each failure as FILE:LINE and
    end with the line 'N passed, M failed' (exit status 1 if anything failed)."""
    from .script.runner import run_wast_file

    passed = failed = 0
    for path in opts.files:
        try:
            result = run_wast_file(path, use_text_parser=True)
        except OSError as exc:
            raise CliError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        except WasmtimeError as exc:   # the script itself does not parse
            sys.stdout.write("%s: %s\n" % (path, exc))
            failed += 1
            continue
        for line, why in result.failed:
            sys.stdout.write("%s:%d: %s\n" % (path, line, why))
        if not opts.quiet:
            sys.stdout.write("%s: %d passed, %d failed\n"
                             % (path, len(result.passed), len(result.failed)))
        passed += len(result.passed)
        failed += len(result.failed)
    sys.stdout.write("%d passed, %d failed\n" % (passed, failed))
    return 1 if failed else 0


def cmd_print(opts: argparse.Namespace) -> int:
    from .text import print_module

    sys.stdout.write(print_module(load_syntax_module(opts.file)))
    return 0


def _select_funcs(module: Module, wanted: Sequence[str]) -> List[int]:
    """Function indexes for the --func arguments (all defined functions if none)."""
    first = module.num_imported_funcs()
    count = first + len(module.funcs)
    if not wanted:
        return list(range(first, count))
    by_name: Dict[str, int] = {}
    for exp in module.exports:
        if exp.kind == "func":
            by_name.setdefault(exp.name, exp.index)
    for index, name in module.names.funcs.items():
        by_name[name] = index
    out = []
    for w in wanted:
        # A name as given or without the text format's "$"; else an index ("7" or "$7").
        found = by_name.get(w, by_name.get(w[1:]) if w.startswith("$") else None)
        if found is not None:
            index = found
        else:
            try:
                index = int(w[1:] if w.startswith("$") else w, 0)
            except ValueError:
                raise UsageError("no function named %r" % w) from None
        if not 0 <= index < count:
            raise UsageError("no function %d (the module has %d)" % (index, count))
        if index < first:
            raise UsageError("function %d is imported: it has no Wasm code" % index)
        out.append(index)
    return out


def cmd_explore(opts: argparse.Namespace) -> int:
    from .compile import CompiledModule

    module = load_syntax_module(opts.file)
    compiled = CompiledModule(module, opts.mode, fuel=opts.fuel, epoch=opts.epoch)
    ftypes = module.func_types()
    for n, index in enumerate(_select_funcs(module, opts.func)):
        flat = None if opts.mode is None else opts.mode == "flat"
        mode = compiled.mode(index) if flat is None else opts.mode
        ft = ftypes[index]
        if n:
            sys.stdout.write("\n")
        sys.stdout.write("# wasm function %d %s: (%s) -> (%s), %s lowering\n" % (
            index, module.func_name(index), " ".join(ft.params), " ".join(ft.results),
            mode))
        source = compiled.source(index, mode == "flat")
        # The source's first line names the function too: the line above says more.
        sys.stdout.write(source.split("\n", 1)[1] if source.startswith("#") else source)
    return 0


COMMANDS = {"run": cmd_run, "compile": cmd_compile, "validate": cmd_validate,
            "wast": cmd_wast, "print": cmd_print, "explore": cmd_explore}


# --- main ------------------------------------------------------------------------------------

def _print_trap(trap: Trap) -> None:
    frames = list(trap.frames)
    if not frames:   # a trap that did not cross the call boundary (runtime.invoke)
        from .runtime import wasm_backtrace   # lazily, as every module of the commands
        frames = wasm_backtrace(trap.__traceback__)
    limit = _LIMIT_NOTES.get(trap.reason)
    if limit is not None and limit in _active_limits:
        sys.stderr.write("%s: trap: %s (the -W %s limit)\n" % (PROG, trap.reason, limit))
    else:
        sys.stderr.write("%s: trap: %s\n" % (PROG, trap.reason))
    if frames:
        sys.stderr.write(format_backtrace(frames) + "\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass    # no file descriptor (an embedder's stream): nothing will flush to a pipe


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``purewasm`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `purewasm FILE ARGS...` is `purewasm run FILE ARGS...`, as with wasmtime.
    if args and args[0] not in COMMANDS and not args[0].startswith("-"):
        args.insert(0, "run")
    try:
        opts = parser.parse_args(args)
        if opts.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return COMMANDS[opts.command](opts)
    except SystemExit as exc:          # --help, or argparse exiting on its own
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_ERROR)
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except CliError as exc:
        _fail(str(exc))
        return EXIT_ERROR
    except ExitTrap as exc:
        _flush_std_streams()
        code = exc.code
        return code if 0 <= code <= 255 else code & 0xFF
    except Trap as exc:
        _flush_std_streams()
        _print_trap(exc)
        return EXIT_TRAP
    except WasmtimeError as exc:
        _flush_std_streams()
        _fail(_describe_error(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _fail("interrupted")
        return EXIT_INTERRUPTED
    except RecursionError:
        _flush_std_streams()
        sys.stderr.write("%s: trap: call stack exhausted\n" % PROG)
        return EXIT_TRAP
    except MemoryError:
        # Not a bug of ours: the module or program needs more memory than the host has.
        _flush_std_streams()
        _fail("out of memory (the host could not allocate what the module needs)")
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our output went away (`purewasm explore m.wasm | head`): stop
        # quietly, as tools killed by SIGPIPE do, and keep the interpreter's final flush
        # of the dead pipe from printing an error.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        _flush_std_streams()
        if os.environ.get("PUREWASM_TRACEBACK"):
            import traceback
            traceback.print_exc()
        _fail("internal error: %s: %s" % (type(exc).__name__, exc))
        return EXIT_INTERNAL
