"""Build the test programs with ziglang (cached) and run them under wasmtime and purewasm.

Builds are cached in ``$PUREWASM_TEST_CACHE`` (default ``~/.cache/purewasm-tests``), keyed
by a hash of the source, the compile command and the ziglang version, so a source edit
rebuilds and an unchanged tree never recompiles.

Three ways to run a program, each returning a :class:`Result`:
* ``run_wasmtime(...)`` — the reference: wasmtime with its own WASI;
* ``run_wasmtime_with_our_wasi(...)`` — wasmtime executes the code, purewasm's WASI
  implements every import (tests purewasm.wasi before purewasm's runtime exists);
* ``run_purewasm(...)`` — purewasm's runtime and WASI (needs ``purewasm.Linker``).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("PUREWASM_TEST_CACHE",
                       os.path.join(os.path.expanduser("~"), ".cache", "purewasm-tests"))


class Result:
    def __init__(self, code: Optional[int], stdout: bytes, stderr: bytes,
                 trap: Optional[str] = None) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.trap = trap

    def __repr__(self) -> str:
        return "Result(code=%r, stdout=%r, stderr=%r, trap=%r)" % (
            self.code, self.stdout[:2000], self.stderr[:2000], self.trap)


def _zig_version() -> str:
    out = subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def build(name: str, opt: str = "-O2", src_dir: str = HERE,
          flags: Sequence[str] = (), target: str = "wasm32-wasi") -> str:
    """Compile ``src_dir/name`` to ``target`` (C only for another target than
    wasm32-wasi, e.g. wasm64-freestanding); return the cached .wasm path.

    ``opt`` is the optimisation level; ``flags`` are extra compiler flags (C and C++ only).
    """
    src = os.path.join(src_dir, name)
    with open(src, "rb") as f:
        source = f.read()
    ext = os.path.splitext(name)[1]
    if ext == ".c":
        cmd = ["cc", "-target", target, opt] + list(flags)
    elif ext in (".cc", ".cpp"):
        # zig's libc++ for WASI has no exception runtime.
        cmd = ["c++", "-target", "wasm32-wasi", opt, "-fno-exceptions"] + list(flags)
    elif ext == ".zig":
        if flags:
            raise ValueError("extra flags are for C and C++ sources: %s" % name)
        cmd = ["build-exe", "-target", "wasm32-wasi",
               "-OReleaseSmall" if opt != "-O0" else "-ODebug"]
    else:
        raise ValueError("unknown source kind: %s" % name)
    key = hashlib.sha256(source + repr(cmd).encode() + _zig_version().encode()).hexdigest()[:24]
    os.makedirs(CACHE, exist_ok=True)
    out = os.path.join(CACHE, "%s-%s.wasm" % (os.path.splitext(name)[0], key))
    if os.path.exists(out):
        return out
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "out.wasm")
        if ext == ".zig":
            full = [sys.executable, "-m", "ziglang"] + cmd + [
                src, "-femit-bin=" + target, "--cache-dir", os.path.join(tmp, "zc"),
                "--global-cache-dir", os.path.join(CACHE, "zig-global")]
        else:
            full = [sys.executable, "-m", "ziglang"] + cmd + [src, "-o", target]
        proc = subprocess.run(full, capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError("build of %s failed:\n%s" % (name, proc.stderr))
        # Atomic: parallel test workers may build the same program.
        tmp_out = out + ".%d.tmp" % os.getpid()
        shutil.copyfile(target, tmp_out)
        os.replace(tmp_out, out)
    return out


# C++ with Wasm exception handling (exnref). zig's libc++abi for wasm32-wasi is built
# without exceptions, so the exception runtime is compiled from zig's own sources: libc++abi's
# cxa_exception/cxa_personality, libunwind's Unwind-wasm.c, and the C++ tag (__cpp_exception,
# one i32: the exception object's address) from a one-line assembly file.
# `-mllvm -wasm-use-legacy-eh=false` selects try_table/throw_ref over the legacy encoding.
_EH_FLAGS = ["-target", "wasm32-wasi", "-fwasm-exceptions", "-mexception-handling",
             "-mllvm", "-wasm-use-legacy-eh=false"]
_EH_TAG = ".tagtype __cpp_exception i32\n.globl __cpp_exception\n__cpp_exception:\n"


def build_cpp_exceptions(name: str, opt: str = "-O2", src_dir: str = HERE) -> str:
    """Compile the C++ program ``src_dir/name`` with Wasm exception handling; return the
    cached .wasm path (keyed as :func:`build`)."""
    import ziglang
    zl = os.path.dirname(ziglang.__file__)
    src = os.path.join(src_dir, name)
    with open(src, "rb") as f:
        source = f.read()
    flags = _EH_FLAGS + [opt]
    abi = ["-I" + os.path.join(zl, "lib", "libcxxabi", "include"),
           "-I" + os.path.join(zl, "lib", "libcxx", "src"), "-D_LIBCXXABI_BUILDING_LIBRARY",
           "-D_LIBCPP_BUILDING_LIBRARY", "-D_LIBCXXABI_HAS_NO_THREADS", "-std=c++20",
           "-D_LIBCPP_ENABLE_CXX17_REMOVED_UNEXPECTED_FUNCTIONS"]
    key = hashlib.sha256(source + repr((flags, abi, _EH_TAG)).encode()
                         + _zig_version().encode()).hexdigest()[:24]
    os.makedirs(CACHE, exist_ok=True)
    out = os.path.join(CACHE, "%s-eh-%s.wasm" % (os.path.splitext(name)[0], key))
    if os.path.exists(out):
        return out
    zig = [sys.executable, "-m", "ziglang"]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "tag.s"), "w") as f:
            f.write(_EH_TAG)
        steps = [
            ["c++"] + flags + abi + ["-c", os.path.join(zl, "lib", "libcxxabi", "src",
                                                         "cxa_exception.cpp"), "-o", "a.o"],
            ["c++"] + flags + abi + ["-c", os.path.join(zl, "lib", "libcxxabi", "src",
                                                         "cxa_personality.cpp"), "-o", "b.o"],
            ["cc"] + flags + ["-D_LIBUNWIND_HIDE_SYMBOLS",
                              "-I" + os.path.join(zl, "lib", "libunwind", "include"), "-c",
                              os.path.join(zl, "lib", "libunwind", "src", "Unwind-wasm.c"),
                              "-o", "c.o"],
            ["cc", "-target", "wasm32-wasi", "-mexception-handling", "-c", "tag.s", "-o",
             "d.o"],
            ["c++"] + flags + ["-c", src, "-o", "prog.o"],
            ["c++"] + flags + ["prog.o", "a.o", "b.o", "c.o", "d.o", "-o", "out.wasm"],
        ]
        for step in steps:
            proc = subprocess.run(zig + step, capture_output=True, text=True, cwd=tmp)
            if proc.returncode != 0:
                raise RuntimeError("build of %s failed:\n%s" % (name, proc.stderr))
        tmp_out = out + ".%d.tmp" % os.getpid()
        shutil.copyfile(os.path.join(tmp, "out.wasm"), tmp_out)
        os.replace(tmp_out, out)
    return out


def snapshot(root: str) -> Dict[str, Tuple[str, object]]:
    """The tree under ``root``: relative path -> (kind, content or link target)."""
    result: Dict[str, Tuple[str, object]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                # Targets naming the sandbox's own absolute location compare equal
                # across two sandboxes.
                result[rel] = ("link", os.readlink(full).replace(root, "<ROOT>"))
            elif os.path.isdir(full):
                result[rel] = ("dir", None)
            else:
                with open(full, "rb") as f:
                    result[rel] = ("file", f.read())
    return result


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def run_wasmtime(wasm: str, argv: Sequence[str] = (), env: Sequence[Tuple[str, str]] = (),
                 stdin: bytes = b"", dirs: Sequence[Tuple[str, str]] = ()) -> Result:
    """The reference run: wasmtime with its own WASI."""
    import wasmtime
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = wasmtime.WasiConfig()
        cfg.argv = ["prog"] + list(argv)
        cfg.env = [list(kv) for kv in env]
        stdin_path = os.path.join(tmp, "stdin")
        with open(stdin_path, "wb") as f:
            f.write(stdin)
        cfg.stdin_file = stdin_path
        cfg.stdout_file = os.path.join(tmp, "stdout")
        cfg.stderr_file = os.path.join(tmp, "stderr")
        for host, guest in dirs:
            cfg.preopen_dir(host, guest)
        store.set_wasi(cfg)
        module = wasmtime.Module.from_file(engine, wasm)
        code: Optional[int] = 0
        trap = None
        try:
            inst = linker.instantiate(store, module)
            inst.exports(store)["_start"](store)
        except wasmtime.ExitTrap as exc:
            code = exc.code
        except wasmtime.Trap as exc:
            code, trap = None, str(exc).splitlines()[0]
        del store
        return Result(code, _read(os.path.join(tmp, "stdout")),
                      _read(os.path.join(tmp, "stderr")), trap)


def _wasmtime_memory_view(caller):
    mem = caller["memory"]
    size = mem.data_len(caller)
    ptr = mem.data_ptr(caller)
    arr = (ctypes.c_ubyte * size).from_address(ctypes.addressof(ptr.contents))
    return memoryview(arr).cast("B")


def _our_wasi_config(argv: Sequence[str], env: Sequence[Tuple[str, str]], stdin: bytes,
                     dirs: Sequence[Tuple[str, str]]) -> Tuple[Any, bytearray, bytearray]:
    """A purewasm ``WasiConfig`` for a test run, and the buffers collecting stdout and
    stderr."""
    from purewasm.wasi import WasiConfig

    cfg = WasiConfig()
    cfg.argv = ["prog"] + list(argv)
    cfg.env = list(env)
    cfg.stdin_bytes(stdin)
    out, err = bytearray(), bytearray()
    cfg.stdout_custom = out
    cfg.stderr_custom = err
    for host, guest in dirs:
        cfg.preopen_dir(host, guest)
    return cfg, out, err


def run_wasmtime_with_our_wasi(wasm: str, argv: Sequence[str] = (),
                               env: Sequence[Tuple[str, str]] = (), stdin: bytes = b"",
                               dirs: Sequence[Tuple[str, str]] = ()) -> Result:
    """wasmtime executes the code; purewasm.wasi implements every WASI import."""
    import wasmtime

    from purewasm.errors import ExitTrap
    from purewasm.wasi import MODULE, WasiContext, host_functions

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    cfg, out, err = _our_wasi_config(argv, env, stdin, dirs)
    ctx = WasiContext(cfg)
    vt = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}
    for name, ftype, fn in host_functions(ctx, _wasmtime_memory_view):
        wt = wasmtime.FuncType([vt[t] for t in ftype.params], [vt[t] for t in ftype.results])
        linker.define_func(MODULE, name, wt, fn, access_caller=True)
    module = wasmtime.Module.from_file(engine, wasm)
    code: Optional[int] = 0
    trap = None
    try:
        inst = linker.instantiate(store, module)
        inst.exports(store)["_start"](store)
    except ExitTrap as exc:
        code = exc.code
    except wasmtime.Trap as exc:
        code, trap = None, str(exc).splitlines()[0]
    finally:
        ctx.close()
    return Result(code, bytes(out), bytes(err), trap)


def run_purewasm(wasm: str, argv: Sequence[str] = (), env: Sequence[Tuple[str, str]] = (),
                 stdin: bytes = b"", dirs: Sequence[Tuple[str, str]] = (),
                 mode: Optional[str] = None) -> Result:
    """purewasm's runtime with purewasm's WASI (the public, wasmtime-shaped API); ``mode``
    forces one lowering for every function (compile.CompiledModule)."""
    import purewasm
    from purewasm.errors import ExitTrap, Trap

    engine = purewasm.Engine()
    store = purewasm.Store(engine)
    linker = purewasm.Linker(engine)
    linker.define_wasi()
    cfg, out, err = _our_wasi_config(argv, env, stdin, dirs)
    store.set_wasi(cfg)
    module = purewasm.Module.from_file(engine, wasm)
    if mode is not None:
        from purewasm.compile import CompiledModule
        module._compiled = CompiledModule(module._module, mode)
    code: Optional[int] = 0
    trap = None
    try:
        inst = linker.instantiate(store, module)
        inst.exports(store)["_start"](store)
    except ExitTrap as exc:
        code = exc.code
    except Trap as exc:
        code, trap = None, exc.reason
    return Result(code, bytes(out), bytes(err), trap)


def run_with(kind: str, *args, **kwargs) -> Result:
    if kind == "wasmtime":
        return run_wasmtime(*args, **kwargs)
    if kind == "wasmtime+ourwasi":
        return run_wasmtime_with_our_wasi(*args, **kwargs)
    if kind == "purewasm":
        return run_purewasm(*args, **kwargs)
    raise ValueError(kind)


def make_sandbox(tmp: str) -> List[Tuple[str, str]]:
    """The host tree the file programs expect; returns the preopens (host, guest).

    tmp/sand (preopened as "sand"): existing.txt, sub/inner.txt and three host-made
    symlinks: out_rel -> ../outside/secret.txt, out_abs -> <abs>/outside/secret.txt,
    loop -> loop. tmp/ro (preopened as "ro"): readme.txt. tmp/outside: never reachable.
    """
    sand = os.path.join(tmp, "sand")
    os.makedirs(os.path.join(sand, "sub"))
    _write(os.path.join(sand, "existing.txt"), b"original\n")
    _write(os.path.join(sand, "sub", "inner.txt"), b"inner\n")
    ro = os.path.join(tmp, "ro")
    os.makedirs(ro)
    _write(os.path.join(ro, "readme.txt"), b"read me\n")
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    _write(os.path.join(outside, "secret.txt"), b"secret\n")
    os.symlink("../outside/secret.txt", os.path.join(sand, "out_rel"))
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(sand, "out_abs"))
    os.symlink("loop", os.path.join(sand, "loop"))
    return [(sand, "sand"), (ro, "ro")]


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
