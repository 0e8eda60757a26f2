"""Real programs of real size: third-party C libraries fetched as PyPI sdists (pinned
versions, sha256-checked), plus drivers of ours in this directory, built with ziglang for
wasm32-wasi and run under wasmtime (the reference) and under purewasm (its CLI, in a
subprocess with a timeout); stdout, stderr, exit status and the files written must agree.

Used by tests/test_real_programs.py (the default subset) and scripts/real_programs.py (the
full matrix, with timings).

Cache: ``$PUREWASM_TEST_CACHE`` (default ``~/.cache/purewasm-tests``)/realprograms holds
the downloaded sdists, their extracted trees and the builds (keyed by the sdist's sha256,
our sources, the command line and the zig version).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(os.environ.get("PUREWASM_TEST_CACHE", os.path.join(
    os.path.expanduser("~"), ".cache", "purewasm-tests")), "realprograms")

OPTS = ("-O0", "-O2", "-Os", "-Oz")


# --- sources: PyPI sdists, pinned ---------------------------------------------------------

class Sdist:
    def __init__(self, name: str, version: str, sha256: str, what: str,
                 env: Optional[Dict[str, str]] = None) -> None:
        self.name, self.version, self.sha256, self.what = name, version, sha256, what
        self.env = env or {}


SDISTS: Dict[str, Sdist] = {s.name: s for s in (
    Sdist("sqlean-py", "3.50.4.5",
          "9764b565e7ab430ab6e9e43cb2816199c2b39926dffc93c212a52f0019278459",
          "SQLite 3.50.4 amalgamation (sqlite3.c) and its shell (shell.c)"),
    # LUPA_NO_LUAJIT: its setup.py would build LuaJIT just to report metadata (minutes).
    Sdist("lupa", "2.8", "d8022641b9ec8ecf2c5ecbe9f47e5a70e0b87c4b5ae921b92cb02a638e0acd08",
          "Lua 5.4.8 (third-party/lua54)", env={"LUPA_NO_LUAJIT": "true"}),
    Sdist("pyminizip", "0.2.6",
          "0a954dd2a65fd72c8b827b83fb806fb4f301075a6ec43e207d3345ab15843a7a",
          "zlib 1.2.11 with its test programs example.c and minigzip.c"),
    Sdist("yyjson", "4.0.6", "fcd4dc15c1e39a30bf9fa85d56903029111506860fc3080ab0d81c6c6dacaa8c",
          "yyjson 0.10.0 (yyjson/yyjson.c)"),
    Sdist("pcre2", "0.7.1", "69ced4288892e2571dd792e7bfb12371bb059f226204bf03300664177c508b64",
          "PCRE2 10.47 (src/libpcre2) with pcre2test and its testdata"),
)}


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def _locked(path: str):
    """An exclusive lock on ``path``.lock: parallel test workers (pytest -n) then fetch
    and build each thing once instead of racing to do it twice."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        import fcntl
    except ImportError:   # not POSIX: no lock, the atomic renames still keep it correct
        yield
        return
    with open(path + ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fetch(name: str) -> str:
    sd = SDISTS[name]
    root = os.path.join(CACHE, "src", "%s-%s" % (name, sd.version))
    if os.path.isdir(root):
        return root
    with _locked(root):
        return _fetch(name)


def _fetch(name: str) -> str:
    """The extracted tree of sdist ``name`` (downloaded with pip on first use).

    Raises (never skips) when the download or the checksum fails."""
    sd = SDISTS[name]
    root = os.path.join(CACHE, "src", "%s-%s" % (name, sd.version))
    if os.path.isdir(root):
        return root
    os.makedirs(os.path.join(CACHE, "src"), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.join(CACHE, "src")) as tmp:
        # --no-binary for this package only: its build dependencies (needed by pip to
        # read the sdist's metadata) come as wheels, in seconds.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name,
               "--disable-pip-version-check", "%s==%s" % (name, sd.version), "-d", tmp]
        env = dict(os.environ, **sd.env)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        files = [f for f in os.listdir(tmp) if f.endswith((".tar.gz", ".zip"))]
        if proc.returncode != 0 or len(files) != 1:
            raise RuntimeError("pip download of %s==%s failed:\n%s\n%s" % (
                name, sd.version, proc.stdout[-3000:], proc.stderr[-3000:]))
        archive = os.path.join(tmp, files[0])
        got = _sha256(archive)
        if got != sd.sha256:
            raise RuntimeError("%s: sha256 %s, expected %s" % (files[0], got, sd.sha256))
        out = os.path.join(tmp, "x")
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.name.startswith("/") or ".." in member.name.split("/"):
                    raise RuntimeError("unsafe path in %s: %s" % (files[0], member.name))
            tf.extractall(out)
        (top,) = os.listdir(out)
        try:
            os.rename(os.path.join(out, top), root)
        except OSError:       # another process got there first
            if not os.path.isdir(root):
                raise
    return root


# --- programs -------------------------------------------------------------------------------

class Program:
    """A program: ``sources`` are paths inside the sdist (``sdist`` set) or in this
    directory (``ours:NAME``); ``prepare(tree, gen)`` may write generated files into the
    include directory ``gen`` (first on the include path)."""

    def __init__(self, name: str, lang: str, sources: Sequence[str], sdist: Optional[str] = None,
                 flags: Sequence[str] = (), libs: Sequence[str] = (),
                 prepare: Optional[Callable[[str, str], None]] = None) -> None:
        self.name, self.lang, self.sources, self.sdist = name, lang, list(sources), sdist
        self.flags, self.libs, self.prepare = list(flags), list(libs), prepare


def _source_path(prog: Program, src: str, tree: Optional[str]) -> str:
    if src.startswith("ours:"):
        return os.path.join(HERE, src[5:])
    if tree is None:
        raise ValueError(src)
    return os.path.join(tree, src)


EMU = ["-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS", "-D_WASI_EMULATED_MMAN",
       "-D_WASI_EMULATED_GETPID"]
EMU_LIBS = ["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks",
            "-lwasi-emulated-mman", "-lwasi-emulated-getpid"]

_ZLIB = "zlib-1.2.11/"
_ZLIB_SRC = [_ZLIB + f for f in (
    "adler32.c", "compress.c", "crc32.c", "deflate.c", "gzclose.c", "gzlib.c", "gzread.c",
    "gzwrite.c", "infback.c", "inffast.c", "inflate.c", "inftrees.c", "trees.c", "uncompr.c",
    "zutil.c")]
# zig cc's -O0 UBSan stops example.c on a null pointer passed to memcpy (zlib 1.2.11).
_ZLIB_FLAGS = ["-fno-sanitize=undefined", "-DHAVE_UNISTD_H", "-Wno-deprecated-non-prototype",
               "-I{tree}/zlib-1.2.11"]

_PCRE = "src/libpcre2/src/"
_PCRE_LIB = [_PCRE + "pcre2_%s.c" % f for f in (
    "auto_possess", "chartables", "chkdint", "compile", "compile_cgroup", "compile_class",
    "config", "context", "convert", "dfa_match", "error", "extuni", "find_bracket",
    "jit_compile", "maketables", "match", "match_data", "match_next", "newline", "ord2utf",
    "pattern_info", "script_run", "serialize", "string_utils", "study", "substitute",
    "substring", "tables", "ucd", "valid_utf", "xclass")] + [_PCRE + "pcre2posix.c"]


def _prepare_pcre2(tree: str, gen: str) -> None:
    src = os.path.join(tree, _PCRE)
    shutil.copyfile(os.path.join(src, "config.h.generic"), os.path.join(gen, "config.h"))
    shutil.copyfile(os.path.join(src, "pcre2.h.generic"), os.path.join(gen, "pcre2.h"))
    # pcre2_chartables.c is generated from the .dist copy (as configure does).
    dist = os.path.join(src, "pcre2_chartables.c")
    if not os.path.exists(dist):
        shutil.copyfile(os.path.join(src, "pcre2_chartables.c.dist"), dist)


PROGRAMS: Dict[str, Program] = {p.name: p for p in (
    Program("sqlite", "c", ["sqlite/sqlite3.c", "sqlite/shell.c"], sdist="sqlean-py",
            flags=["-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_OMIT_WAL",
                   "-DSQLITE_MAX_MMAP_SIZE=0", "-DSQLITE_OMIT_SHARED_CACHE",
                   "-DSQLITE_NOHAVE_SYSTEM", "-I{tree}/sqlite"] + EMU, libs=EMU_LIBS),
    Program("lua", "c", ["third-party/lua54/onelua.c", "ours:lua_throw.c"], sdist="lupa",
            # zig cc's -O0 adds UBSan, which stops Lua's GC on a misaligned union access
            # (harmless on wasm32, undefined in C).
            flags=["-fno-sanitize=undefined", "-I{here}/lua_include", "-include", "{here}/lua_wasi.h",
                   "-I{tree}/third-party/lua54"] + EMU, libs=EMU_LIBS + ["-lm"]),
    Program("zlib-example", "c", [_ZLIB + "test/example.c"] + _ZLIB_SRC, sdist="pyminizip",
            flags=_ZLIB_FLAGS),
    Program("minigzip", "c", [_ZLIB + "test/minigzip.c"] + _ZLIB_SRC, sdist="pyminizip",
            flags=_ZLIB_FLAGS),
    Program("yyjson", "c", ["yyjson/yyjson.c", "ours:yyjson_driver.c"], sdist="yyjson",
            # without UBSan: with zig cc's -O0 default of UBSan, clang spends over 5 CPU
            # minutes on yyjson.c (12 s without).
            flags=["-fno-sanitize=undefined", "-I{tree}/yyjson"]),
    Program("pcre2test", "c", [_PCRE + "pcre2test.c"] + _PCRE_LIB, sdist="pcre2",
            flags=["-DHAVE_CONFIG_H", "-DPCRE2_CODE_UNIT_WIDTH=8", "-DSUPPORT_PCRE2_8",
                   "-DSUPPORT_UNICODE", "-DPCRE2_STATIC", "-DHAVE_STDLIB_H", "-DHAVE_STRING_H",
                   "-DHAVE_UNISTD_H", "-DHAVE_INTTYPES_H", "-DHAVE_STDINT_H",
                   "-DHAVE_LIMITS_H", "-DHAVE_ASSERT_H", "-I{tree}/" + _PCRE,
                   # pcre2test's -S (stack size, via setrlimit) is its only use of this
                   # macro; WASI has no rlimit either.
                   "-D__HAIKU__", "-Wno-macro-redefined",
                   # zig cc's -O0 UBSan: clang used 7.5 GB and 5 CPU minutes on pcre2_match.c
                   "-fno-sanitize=undefined"] + EMU,
            libs=EMU_LIBS, prepare=_prepare_pcre2),
    Program("alloc_churn", "c", ["ours:alloc_churn.c"]),
    Program("stl_dispatch", "c++", ["ours:stl_dispatch.cpp"]),
    Program("zig_std", "zig", ["ours:zig_std.zig"]),
)}


def _zig_version() -> str:
    out = subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


_ZIG_VERSION: List[str] = []


def build(name: str, opt: str) -> str:
    """Build program ``name`` at ``opt``; return the cached .wasm path."""
    prog = PROGRAMS[name]
    tree = fetch(prog.sdist) if prog.sdist else None
    if not _ZIG_VERSION:
        _ZIG_VERSION.append(_zig_version())
    h = hashlib.sha256()
    h.update(repr((prog.lang, prog.sources, prog.flags, prog.libs, opt, _ZIG_VERSION[0],
                   SDISTS[prog.sdist].sha256 if prog.sdist else None)).encode())
    for src in prog.sources:
        if src.startswith("ours:"):
            with open(_source_path(prog, src, tree), "rb") as f:
                h.update(f.read())
    for extra in ("lua_wasi.h", "lua_include/setjmp.h") if name == "lua" else ():
        with open(os.path.join(HERE, extra), "rb") as f:
            h.update(f.read())
    os.makedirs(os.path.join(CACHE, "build"), exist_ok=True)
    out = os.path.join(CACHE, "build", "%s%s-%s.wasm" % (name, opt, h.hexdigest()[:20]))
    if os.path.exists(out):
        return out
    with _locked(out):
        if not os.path.exists(out):
            _build(prog, opt, tree, out)
    return out


def _build(prog: Program, opt: str, tree: Optional[str], out: str) -> None:
    name = prog.name
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "gen")
        os.makedirs(gen)
        if prog.prepare is not None and tree is not None:
            prog.prepare(tree, gen)
        target = os.path.join(tmp, "out.wasm")
        srcs = [_source_path(prog, s, tree) for s in prog.sources]
        fmt = {"tree": tree or "", "here": HERE}
        flags = [f.format(**fmt) for f in prog.flags]
        zig = [sys.executable, "-m", "ziglang"]
        if prog.lang == "zig":
            mode = {"-O0": "-ODebug", "-O2": "-OReleaseFast", "-Os": "-OReleaseSmall",
                    "-Oz": "-OReleaseSmall"}[opt]
            cmd = zig + ["build-exe", "-target", "wasm32-wasi", mode] + srcs + [
                "-femit-bin=" + target, "--cache-dir", os.path.join(tmp, "zc"),
                "--global-cache-dir", os.path.join(CACHE, "zig-global")]
        else:
            driver = ["cc"] if prog.lang == "c" else ["c++", "-fno-exceptions"]
            cmd = zig + driver + ["-target", "wasm32-wasi", opt, "-I" + gen] + flags + srcs + [
                "-o", target] + prog.libs
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError("build of %s %s failed:\n%s" % (name, opt, proc.stderr[-6000:]))
        tmp_out = out + ".%d.tmp" % os.getpid()
        shutil.copyfile(target, tmp_out)
        os.replace(tmp_out, out)


# --- runs -----------------------------------------------------------------------------------

class Run:
    """One run of a program: ``argv`` (after argv[0]); ``stdin``; ``files`` are written into
    a fresh host directory preopened as "work" (whose final tree is compared);
    ``sdist_dirs`` preopens sdist subdirectories read-only in spirit (guest name -> path in
    the tree); ``expect`` are substrings the reference's stdout must contain; ``long``
    marks runs of the opt-in matrix only."""

    def __init__(self, program: str, ident: str, argv: Sequence[str] = (), stdin: bytes = b"",
                 files: Optional[Dict[str, bytes]] = None,
                 sdist_dirs: Optional[Dict[str, str]] = None, expect: Sequence[bytes] = (),
                 code: int = 0, long: bool = False, expect_file: Optional[str] = None,
                 check: Optional[Callable[["Outcome"], None]] = None,
                 expect_file_end: Optional[bytes] = None) -> None:
        self.program, self.ident, self.argv, self.stdin = program, ident, list(argv), stdin
        self.files = files or {}
        self.sdist_dirs = sdist_dirs or {}
        self.expect, self.code, self.long = tuple(expect), code, long
        self.expect_file, self.check = expect_file, check
        self.expect_file_end = expect_file_end   # the expected output ends at this text


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _data(name: str) -> bytes:
    return _read(os.path.join(HERE, "data", name))


class Outcome:
    def __init__(self, code: Optional[int], stdout: bytes, stderr: bytes, tree: Dict,
                 seconds: float, trap: Optional[str] = None) -> None:
        self.code, self.stdout, self.stderr, self.tree = code, stdout, stderr, tree
        self.seconds, self.trap = seconds, trap
        self.note = ""

    def key(self) -> Tuple:
        return (self.code, self.stdout, self.stderr, self.tree)


def snapshot(root: str) -> Dict[str, bytes]:
    out: Dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames:
            out[os.path.relpath(os.path.join(dirpath, n), root) + "/"] = b""
        for n in filenames:
            out[os.path.relpath(os.path.join(dirpath, n), root)] = _read(os.path.join(dirpath, n))
    return out


def _setup(run: Run, tmp: str) -> List[Tuple[str, str]]:
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    for name, data in run.files.items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(data)
    dirs = [(work, "work")]
    if run.sdist_dirs:
        tree = fetch(PROGRAMS[run.program].sdist or "")
        for guest, rel in run.sdist_dirs.items():
            dirs.append((os.path.join(tree, rel), guest))
    return dirs


def run_wasmtime(wasm: str, run: Run, tmp: str) -> Outcome:
    import wasmtime
    dirs = _setup(run, tmp)
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, wasm)
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    cfg = wasmtime.WasiConfig()
    cfg.argv = [ARGV0] + run.argv
    stdin_path = os.path.join(tmp, "stdin")
    with open(stdin_path, "wb") as f:
        f.write(run.stdin)
    cfg.stdin_file = stdin_path
    cfg.stdout_file = os.path.join(tmp, "stdout")
    cfg.stderr_file = os.path.join(tmp, "stderr")
    for host, guest in dirs:
        cfg.preopen_dir(host, guest)
    store.set_wasi(cfg)
    code: Optional[int] = 0
    trap = None
    start = time.perf_counter()
    try:
        linker.instantiate(store, module).exports(store)["_start"](store)
    except wasmtime.ExitTrap as exc:
        code = exc.code
    except wasmtime.Trap as exc:
        code, trap = None, str(exc).splitlines()[0]
    seconds = time.perf_counter() - start
    del store
    return Outcome(code, _read(os.path.join(tmp, "stdout")),
                   _read(os.path.join(tmp, "stderr")), snapshot(os.path.join(tmp, "work")),
                   seconds, trap)


ARGV0 = "prog.wasm"


class Timeout(Exception):
    pass


def run_purewasm(wasm: str, run: Run, tmp: str, timeout: float) -> Outcome:
    """purewasm's CLI in a subprocess (so that a hang is a timeout, not a stuck test),
    running this tree's purewasm."""
    dirs = _setup(run, tmp)
    cmd = [sys.executable, "-m", "purewasm", "run"]
    for host, guest in dirs:
        cmd += ["--dir", "%s::%s" % (host, guest)]
    # argv[0] is the name given to the CLI: the same fixed name as under wasmtime.
    os.symlink(wasm, os.path.join(tmp, ARGV0))
    cmd += [ARGV0] + run.argv
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, input=run.stdin, capture_output=True, env=env,
                              cwd=tmp, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Timeout("purewasm did not finish %s in %.0f s" % (run.ident, timeout)) from None
    seconds = time.perf_counter() - start
    trap = None
    if proc.returncode in (134, 70):
        trap = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        trap = trap[0] if trap else "exit %d" % proc.returncode
    return Outcome(proc.returncode, proc.stdout, proc.stderr, snapshot(os.path.join(tmp, "work")),
                   seconds, trap)


def timeout_for(reference_seconds: float) -> float:
    """purewasm is a Python translator, 30-3000x slower than wasmtime's native code on
    these programs (and CI machines are shared): a generous bound, but never unbounded."""
    return max(300.0, 3000.0 * reference_seconds)


def compare(run: Run, opt: str) -> Tuple[Outcome, Outcome]:
    """Build, run under both runtimes; raise AssertionError with a diff summary on a
    mismatch. Returns (reference, purewasm)."""
    wasm = build(run.program, opt)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "ref"))
        try:
            ref = run_wasmtime(wasm, run, os.path.join(tmp, "ref"))
        except Exception as exc:
            # SQLite's sqlite3VdbeExec at -O0 has more locals than the 50,000 that both
            # wasmtime and purewasm accept: then both must refuse the module.
            if "too many locals" not in str(exc):
                raise
            os.makedirs(os.path.join(tmp, "pw"))
            got = run_purewasm(wasm, run, os.path.join(tmp, "pw"), 600.0)
            if got.code != 1 or b"too many locals" not in got.stderr:
                raise AssertionError("%s %s: wasmtime refuses the module (too many locals), "
                                     "purewasm: exit %r, stderr %r" % (
                                         run.ident, opt, got.code, got.stderr[-500:])) from None
            ref = Outcome(None, b"", str(exc).encode(), {}, 0.0)
            ref.note = got.note = "both runtimes refuse it: too many locals (limit 50,000)"
            return ref, got
        if ref.trap is not None or ref.code != run.code:
            raise AssertionError("reference run of %s %s: code %r trap %r\n%s" % (
                run.ident, opt, ref.code, ref.trap, ref.stderr[-2000:].decode(errors="replace")))
        for needle in run.expect:
            if needle not in ref.stdout:
                raise AssertionError("reference stdout of %s %s lacks %r:\n%s" % (
                    run.ident, opt, needle, ref.stdout[:3000].decode(errors="replace")))
        if run.expect_file is not None:
            want = _read(os.path.join(fetch(PROGRAMS[run.program].sdist or ""), run.expect_file))
            if run.expect_file_end is not None:
                want = want[:want.index(run.expect_file_end) + len(run.expect_file_end)]
            if ref.stdout != want:
                raise AssertionError("reference stdout of %s %s differs from %s" % (
                    run.ident, opt, run.expect_file))
        if run.check is not None:
            run.check(ref)
        os.makedirs(os.path.join(tmp, "pw"))
        got = run_purewasm(wasm, run, os.path.join(tmp, "pw"), timeout_for(ref.seconds))
    problems = []
    if got.code != ref.code:
        problems.append("exit status %r != %r (trap %r)" % (got.code, ref.code, got.trap))
    for what in ("stdout", "stderr"):
        a, b = getattr(got, what), getattr(ref, what)
        if a != b:
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            problems.append("%s differs at byte %d: purewasm %r / wasmtime %r" % (
                what, i, a[max(0, i - 80):i + 200], b[max(0, i - 80):i + 200]))
    if got.tree != ref.tree:
        names = sorted(n for n in set(got.tree) | set(ref.tree) if got.tree.get(n) != ref.tree.get(n))
        problems.append("files differ: %s" % names)
    if problems:
        raise AssertionError("%s %s: purewasm differs from wasmtime:\n  %s" % (
            run.ident, opt, "\n  ".join(problems)))
    return ref, got


# --- the runs -------------------------------------------------------------------------------

def _text(n: int) -> bytes:
    """Deterministic text that compresses somewhat: words from a small vocabulary."""
    words = [b"alpha", b"beta", b"gamma", b"wasm", b"python", b"runtime", b"zlib", b"the",
             b"of", b"deflate", b"inflate", b"\xe2\x82\xac", b"0123456789"]
    out, r = [], 1
    for _ in range(n):
        r = (r * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(words[r % len(words)])
        out.append(b"\n" if r % 11 == 0 else b" ")
    return b"".join(out)


def _gunzips_to(name: str, original: bytes) -> Callable[[Outcome], None]:
    def check(ref: Outcome) -> None:
        import gzip
        data = ref.tree[name] if name else ref.stdout
        if gzip.decompress(data) != original:
            raise AssertionError("the reference's gzip output does not decompress to the input")
    return check


def _file_is(name: str, original: bytes) -> Callable[[Outcome], None]:
    def check(ref: Outcome) -> None:
        got = ref.tree.get(name) if name else ref.stdout
        if got != original:
            raise AssertionError("the reference's output is not the original data")
    return check


def _gzip(data: bytes) -> bytes:
    import gzip
    return gzip.compress(data, compresslevel=6, mtime=0)


def _sql(name: str, n: int) -> bytes:
    return _data(name).replace(b":N:", str(n).encode())


def runs() -> List[Run]:
    small, big = _text(3000), _text(60000)
    out = [
        Run("sqlite", "sqlite-mem", [":memory:"], stdin=_sql("sqlite_mem.sql", 200),
            expect=[b"3.50.4\n", b"\nok\n", b"23416728348467685"]),
        Run("sqlite", "sqlite-file", ["work/test.db"], stdin=_sql("sqlite_file.sql", 300),
            expect=[b"1|filled\n2|deleted sevens\n", b"\nok\n"]),
        Run("sqlite", "sqlite-mem-big", [":memory:"], stdin=_sql("sqlite_mem.sql", 5000),
            expect=[b"\nok\n"], long=True),
        Run("sqlite", "sqlite-file-big", ["work/test.db"], stdin=_sql("sqlite_file.sql", 20000),
            expect=[b"\nok\n"], long=True),
        Run("lua", "lua-bench", ["work/bench.lua", "2"], files={"bench.lua": _data("bench.lua")},
            expect=[b"eval\t2.5\t42\t1.5\n", b"\ndone\n"]),
        Run("lua", "lua-bench-big", ["work/bench.lua", "20"],
            files={"bench.lua": _data("bench.lua")}, expect=[b"\ndone\n"], long=True),
        Run("zlib-example", "zlib-example", ["work/foo.gz"],
            expect=[b"zlib version 1.2.11", b"inflate(): hello, hello!",
                    b"after inflateSync(): hello, hello!", b"inflate with dictionary: hello, hello!"]),
        Run("minigzip", "minigzip-compress", ["-9", "work/data.txt"], files={"data.txt": small},
            check=_gunzips_to("data.txt.gz", small)),
        Run("minigzip", "minigzip-decompress", ["-d", "work/data.txt.gz"],
            files={"data.txt.gz": _gzip(small)}, check=_file_is("data.txt", small)),
        Run("minigzip", "minigzip-stdio-big", [], stdin=big, check=_gunzips_to("", big), long=True),
        Run("minigzip", "minigzip-decompress-big", ["-d"], stdin=_gzip(big),
            check=_file_is("", big), long=True),
        Run("yyjson", "yyjson", ["work/sample.json", "work/bad.json", "--gen=200"],
            files={"sample.json": _data("sample.json"), "bad.json": _data("bad.json")},
            expect=[b"work/bad.json: error 6: unexpected character", b"\nall ok\n"]),
        Run("yyjson", "yyjson-big", ["work/sample.json", "--gen=20000"],
            files={"sample.json": _data("sample.json")}, expect=[b"\nall ok\n"], long=True),
        Run("pcre2test", "pcre2test-1", ["-q", "testdata/testinput1"],
            sdist_dirs={"testdata": "src/libpcre2/testdata"},
            expect_file="src/libpcre2/testdata/testoutput1"),
        Run("alloc_churn", "alloc_churn", ["7"], expect=[b"\nall ok\n"]),
        Run("alloc_churn", "alloc_churn-big", ["13"], expect=[b"\nall ok\n"], long=True),
        Run("stl_dispatch", "stl_dispatch", ["3"], expect=[b"\nall ok\n"]),
        Run("stl_dispatch", "stl_dispatch-big", ["20"], expect=[b"\nall ok\n"], long=True),
        Run("zig_std", "zig_std", ["4"], expect=[b"\nall ok\n"]),
        Run("zig_std", "zig_std-big", ["20"], expect=[b"\nall ok\n"], long=True),
    ]
    for k in ("2", "4", "5"):
        # testinput2 loads "./testbtables" (RunTest copies it into the current directory):
        # the testdata directory is preopened as "." too.
        out.append(Run("pcre2test", "pcre2test-" + k, ["-q", "testdata/testinput" + k],
                       sdist_dirs={"testdata": "src/libpcre2/testdata",
                                   ".": "src/libpcre2/testdata"},
                       expect_file="src/libpcre2/testdata/testoutput" + k, long=True,
                       # RunTest appends a separate "pcre2test -error ..." run to testoutput2
                       expect_file_end=b"# End of testinput2\n" if k == "2" else None))
    return out


RUNS: Dict[str, Run] = {r.ident: r for r in runs()}
