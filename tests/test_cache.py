"""The compiled-code cache (purewasm/compile/cache.py), Module.serialize/deserialize and the
CLI's cache options: hits and misses, what the key depends on, damaged entries, two
processes at once, the size bound, the permission rule, and identical results."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time

import pytest

import purewasm
from purewasm import WasmtimeError
from purewasm.binary.decode import LazyFunc
from purewasm.compile import cache as cache_mod
from purewasm.compile.cache import CacheError, CodeCache

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = os.path.join(REPO, "examples", "hello.wasm")

WAT = """
(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "sq") (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
  (func (export "boom") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "loop") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get 1)))
"""
BINARY = bytes(purewasm.wat2wasm(WAT))


def engine(cache=None, **settings):
    config = purewasm.Config()
    for name, value in settings.items():
        setattr(config, name, value)
    if cache is not None:
        config.cache = cache
    return purewasm.Engine(config)


def run_all(module):
    """Every export's results (or trap message): what must not depend on the cache."""
    store = purewasm.Store(module.engine)
    if module.engine.config.consume_fuel:
        store.set_fuel(10 ** 9)
    if module.engine.config.epoch_interruption:
        store.set_epoch_deadline(10 ** 9)
    exports = purewasm.Instance(store, module, []).exports(store)
    out = [exports["fib"](store, 15), exports["sq"](store, 3 ** 30), exports["loop"](store, 100)]
    with pytest.raises(purewasm.Trap) as info:
        exports["boom"](store)
    out.append(str(info.value))   # with its backtrace (offsets come from the entry)
    return out


# Internals the tests look at (one place to change if they move).
def was_hit(module):
    return module._cache_handle is not None and module._cache_handle.hit


def translated(module):
    return module._get_compiled().translated_count()


def entries(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".pwc"))


@pytest.fixture
def cache_dir(tmp_path):
    path = tmp_path / "cache"
    return str(path)


# --- hit and miss -----------------------------------------------------------------------------

def test_miss_then_hit_with_code(cache_dir):
    first = purewasm.Module(engine(cache_dir), BINARY)
    assert not was_hit(first)
    assert len(entries(cache_dir)) == 1     # the module validated: recorded at once
    expected = run_all(first)
    cache_mod.flush_all()                   # (at exit otherwise)
    second = purewasm.Module(engine(cache_dir), BINARY)
    assert was_hit(second)
    # A hit neither decodes the bodies nor validates: they are decoded on demand only.
    assert all(isinstance(f, LazyFunc) and f._body is None for f in second._module.funcs)
    assert translated(second) == 4          # the code came from the entry
    assert run_all(second) == expected
    # Never needed, except the body of "boom" (function 2), decoded for the byte offsets of
    # its trap's backtrace (runtime.traps: the entry keeps instruction indices, not offsets).
    assert [i for i, f in enumerate(second._module.funcs) if f._body is not None] == [2]


def test_functions_compiled_later_join_the_entry(cache_dir):
    m = purewasm.Module(engine(cache_dir), BINARY)
    store = purewasm.Store(m.engine)
    purewasm.Instance(store, m, []).exports(store)["sq"](store, 5)
    cache_mod.flush_all()
    m2 = purewasm.Module(engine(cache_dir), BINARY)
    assert translated(m2) == 1
    assert run_all(m2) == run_all(purewasm.Module(engine(), BINARY))
    cache_mod.flush_all()
    assert translated(purewasm.Module(engine(cache_dir), BINARY)) == 4


def test_functions_are_written_when_the_module_is_dropped(cache_dir):
    import gc
    m = purewasm.Module(engine(cache_dir), BINARY)
    store = purewasm.Store(m.engine)
    purewasm.Instance(store, m, []).exports(store)["sq"](store, 5)
    del m, store
    gc.collect()
    assert translated(purewasm.Module(engine(cache_dir), BINARY)) == 1


def test_functions_are_written_at_exit(cache_dir, tmp_path):
    wat = tmp_path / "m.wat"
    wat.write_text(WAT)
    script = textwrap.dedent("""
        import sys, purewasm
        config = purewasm.Config()
        config.cache = sys.argv[1]
        engine = purewasm.Engine(config)
        module = purewasm.Module(engine, bytes(purewasm.wat2wasm(open(sys.argv[2]).read())))
        store = purewasm.Store(engine)
        print(purewasm.Instance(store, module, []).exports(store)["fib"](store, 10))
    """)
    proc = subprocess.run([sys.executable, "-c", script, cache_dir, str(wat)],
                          env=dict(os.environ, PYTHONPATH=REPO), capture_output=True,
                          timeout=120)
    assert proc.stdout == b"55\n" and proc.stderr == b""
    assert translated(purewasm.Module(engine(cache_dir), BINARY)) == 1


def test_cache_off_by_default_for_the_api(cache_dir):
    m = purewasm.Module(engine(), BINARY)
    assert m._cache_handle is None and purewasm.Config().cache is False


def test_config_cache_true_uses_the_default_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("PUREWASM_CACHE_DIR", str(tmp_path / "d"))
    purewasm.Module(engine(True), BINARY)
    assert len(entries(str(tmp_path / "d"))) == 1
    monkeypatch.delenv("PUREWASM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_mod.default_cache_dir() == str(tmp_path / "xdg" / "purewasm")


def test_config_cache_refuses_other_types():
    with pytest.raises(TypeError):
        purewasm.Config().cache = 3
    with pytest.raises(CacheError, match="empty"):
        purewasm.Config().cache = ""


def test_writers_of_one_entry_converge_on_the_union(cache_dir):
    """Two users of one entry compile different functions: the second flush keeps the
    first one's functions (two processes behave alike: they merge through the file)."""
    a = purewasm.Module(engine(cache_dir), BINARY)
    b = purewasm.Module(engine(cache_dir), BINARY)
    for module, name in ((a, "sq"), (b, "loop")):
        store = purewasm.Store(module.engine)
        purewasm.Instance(store, module, []).exports(store)[name](store, 3)
    a._cache_handle.flush()
    b._cache_handle.flush()
    assert translated(purewasm.Module(engine(cache_dir), BINARY)) == 2


# --- the key ------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [
    {"consume_fuel": True}, {"epoch_interruption": True}, {"wasm_relaxed_simd": False}])
def test_key_changes_with_the_configuration(cache_dir, setting):
    purewasm.Module(engine(cache_dir), BINARY)
    m = purewasm.Module(engine(cache_dir, **setting), BINARY)
    assert not was_hit(m) and len(entries(cache_dir)) == 2
    run_all(m)
    cache_mod.flush_all()
    assert was_hit(purewasm.Module(engine(cache_dir, **setting), BINARY))


def test_key_changes_with_the_module(cache_dir):
    purewasm.Module(engine(cache_dir), BINARY)
    other = bytes(purewasm.wat2wasm(WAT.replace("i32.const 2", "i32.const 3", 1)))
    assert not was_hit(purewasm.Module(engine(cache_dir), other))


@pytest.mark.parametrize("what", ["cache_tag", "purewasm", "translator"])
def test_key_changes_with_versions(cache_dir, monkeypatch, what):
    purewasm.Module(engine(cache_dir), BINARY)
    if what == "cache_tag":
        monkeypatch.setattr(sys.implementation, "cache_tag", "otherpython-99")
    elif what == "purewasm":
        monkeypatch.setattr(cache_mod, "purewasm_version", lambda: "99.0")
    else:
        monkeypatch.setattr(cache_mod, "TRANSLATOR_VERSION", 10 ** 6)
    assert not was_hit(purewasm.Module(engine(cache_dir), BINARY))
    assert len(entries(cache_dir)) == 2


def test_version_in_the_key_is_the_package_version():
    assert cache_mod.purewasm_version() == purewasm.__version__


def test_a_change_to_purewasm_sources_is_a_miss(cache_dir, monkeypatch):
    purewasm.Module(engine(cache_dir), BINARY)
    monkeypatch.setattr(cache_mod, "purewasm_source_digest", lambda: "edited")
    assert not was_hit(purewasm.Module(engine(cache_dir), BINARY))
    assert len(entries(cache_dir)) == 2


def test_entry_with_another_key_inside_is_a_miss(cache_dir):
    """An entry renamed onto another key (or a hash collision of the name) is refused:
    the header's fields must match, not only the file name."""
    purewasm.Module(engine(cache_dir, consume_fuel=True), BINARY)
    fuel_entry = entries(cache_dir)[0]
    purewasm.Module(engine(cache_dir), BINARY)
    plain_entry = [e for e in entries(cache_dir) if e != fuel_entry][0]
    os.replace(os.path.join(cache_dir, fuel_entry), os.path.join(cache_dir, plain_entry))
    assert not was_hit(purewasm.Module(engine(cache_dir), BINARY))


# --- damaged entries ------------------------------------------------------------------------------

def _filled_entry(cache_dir):
    m = purewasm.Module(engine(cache_dir), BINARY)
    expected = run_all(m)
    cache_mod.flush_all()
    (name,) = entries(cache_dir)
    return os.path.join(cache_dir, name), expected


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "empty", "garbage"])
def test_damaged_entry_is_ignored_and_rebuilt(cache_dir, damage):
    path, expected = _filled_entry(cache_dir)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if damage == "flip":
        data[-20] ^= 0xFF
    elif damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "header":
        data = data[:len(cache_mod.ENTRY_MAGIC) + 2]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(os.urandom(len(data)))
    with open(path, "wb") as f:
        f.write(data)
    m = purewasm.Module(engine(cache_dir), BINARY)
    assert not was_hit(m)
    assert run_all(m) == expected
    cache_mod.flush_all()
    again = purewasm.Module(engine(cache_dir), BINARY)   # rebuilt, whole again
    assert was_hit(again) and translated(again) == 4


def test_damaged_code_inside_a_valid_entry_is_not_loaded(cache_dir):
    """A payload with a right checksum but the wrong shape (e.g. written by a buggy
    version with the same key) loads no function: they are translated again."""
    m = purewasm.Module(engine(cache_dir), BINARY)
    handle = m._cache_handle
    handle.cache.write(handle.key, handle.fields, b"\x00not marshal")
    m2 = purewasm.Module(engine(cache_dir), BINARY)
    assert was_hit(m2) and translated(m2) == 0
    assert run_all(m2) == run_all(purewasm.Module(engine(), BINARY))


# --- two processes at once ----------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    import purewasm
    from purewasm.compile import cache
    binary = bytes(purewasm.wat2wasm(open(sys.argv[2]).read()))
    for i in range(int(sys.argv[3])):
        config = purewasm.Config()
        config.cache = sys.argv[1]
        engine = purewasm.Engine(config)
        m = purewasm.Module(engine, binary)
        store = purewasm.Store(engine)
        ex = purewasm.Instance(store, m, []).exports(store)
        name = ("fib", "sq", "loop")[i % 3]
        assert ex[name](store, 10) in (55, 100), name
        cache.flush_all()
    print("ok")
""")


def test_two_processes_writing_the_same_entry(cache_dir, tmp_path):
    wat = tmp_path / "m.wat"
    wat.write_text(WAT)
    env = dict(os.environ, PYTHONPATH=REPO)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, cache_dir, str(wat), "15"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == b"ok", err.decode()
    assert len(entries(cache_dir)) == 1
    assert not [n for n in os.listdir(cache_dir) if n.startswith(".tmp-")]
    m = purewasm.Module(engine(cache_dir), BINARY)
    assert was_hit(m) and translated(m) >= 1
    assert run_all(m) == run_all(purewasm.Module(engine(), BINARY))


# --- size bound -------------------------------------------------------------------------------

def test_least_recently_used_entries_go_first(cache_dir):
    cache = CodeCache(cache_dir, max_bytes=10_000)
    fields = {"k": 1}
    now = time.time()
    for i in range(3):   # 3 x ~3.1 KB fit
        cache.write("e%d" % i, fields, b"x" * 3000)
        os.utime(cache.path("e%d" % i), (now - 100 + i, now - 100 + i))
    assert entries(cache_dir) == ["e0.pwc", "e1.pwc", "e2.pwc"]
    # e0 is the oldest by mtime, but reading it makes it the most recently used.
    assert cache.read("e0", fields) == b"x" * 3000
    cache.write("e3", fields, b"y" * 3000)
    assert entries(cache_dir) == ["e0.pwc", "e2.pwc", "e3.pwc"]
    assert sum(os.path.getsize(os.path.join(cache_dir, n))
               for n in entries(cache_dir)) <= 10_000


def test_stale_temporary_files_are_removed(cache_dir):
    cache = CodeCache(cache_dir)
    stale = os.path.join(cache_dir, ".tmp-crashed.pwc")
    fresh = os.path.join(cache_dir, ".tmp-writing.pwc")
    for path in (stale, fresh):
        with open(path, "wb") as f:
            f.write(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    cache.evict()
    assert not os.path.exists(stale) and os.path.exists(fresh)


# --- the trust rule -------------------------------------------------------------------------------

posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")


@posix_only
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_directory_writable_by_others_is_refused(cache_dir, mode):
    os.makedirs(cache_dir)
    os.chmod(cache_dir, mode)
    with pytest.raises(CacheError, match="writable by other users"):
        purewasm.Config().cache = cache_dir
    assert isinstance(CacheError("x"), WasmtimeError)


@posix_only
def test_directory_made_writable_later_is_not_used(cache_dir):
    e = engine(cache_dir)
    os.chmod(cache_dir, 0o777)
    m = purewasm.Module(e, BINARY)
    assert m._cache_handle is None and entries(cache_dir) == []
    assert run_all(m) == run_all(purewasm.Module(engine(), BINARY))


@posix_only
def test_new_directory_is_private(cache_dir):
    purewasm.Config().cache = cache_dir
    assert os.stat(cache_dir).st_mode & 0o777 == 0o700


@posix_only
def test_entry_writable_by_others_is_ignored(cache_dir):
    path, _ = _filled_entry(cache_dir)
    os.chmod(path, 0o666)
    assert not was_hit(purewasm.Module(engine(cache_dir), BINARY))


@posix_only
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_entry_and_directory_owned_by_another_user_are_refused(cache_dir):
    path, _ = _filled_entry(cache_dir)
    os.chown(path, 4242, 4242)
    assert not was_hit(purewasm.Module(engine(cache_dir), BINARY))
    os.chown(cache_dir, 4242, 4242)
    with pytest.raises(CacheError, match="owned by uid 4242"):
        CodeCache(cache_dir)


# --- Module.serialize / deserialize ------------------------------------------------------------

def test_serialize_round_trip_carries_the_code():
    m = purewasm.Module(engine(), BINARY)
    data = m.serialize()
    assert isinstance(data, (bytes, bytearray)) and data[:1] == b"\x00"
    m2 = purewasm.Module.deserialize(engine(), data)
    assert translated(m2) == 4
    assert run_all(m2) == run_all(m)
    assert [e.name for e in m2.exports] == [e.name for e in m.exports]


def test_serialize_a_text_module(tmp_path):
    m = purewasm.Module(engine(), WAT)
    path = tmp_path / "m.pwm"
    path.write_bytes(m.serialize())
    m2 = purewasm.Module.deserialize_file(engine(), str(path))
    assert run_all(m2) == run_all(m)


def test_deserialize_accepts_a_plain_binary():
    assert run_all(purewasm.Module.deserialize(engine(), BINARY)) == \
        run_all(purewasm.Module(engine(), BINARY))


@pytest.mark.parametrize("setting, word", [
    ({"consume_fuel": True}, "fuel"), ({"epoch_interruption": True}, "epoch"),
    ({"wasm_tail_call": False}, "proposals")])
def test_deserialize_with_another_configuration_is_a_clear_error(setting, word):
    data = purewasm.Module(engine(), BINARY).serialize()
    with pytest.raises(WasmtimeError, match=word):
        purewasm.Module.deserialize(engine(**setting), data)


def test_deserialize_from_another_python_is_a_clear_error(monkeypatch):
    data = purewasm.Module(engine(), BINARY).serialize()
    monkeypatch.setattr(sys.implementation, "cache_tag", "otherpython-99")
    with pytest.raises(WasmtimeError, match="another Python implementation"):
        purewasm.Module.deserialize(engine(), data)


@pytest.mark.parametrize("cut", [5, 25, -1, -100])
def test_deserialize_truncated_or_corrupt_is_a_clear_error(cut):
    data = purewasm.Module(engine(), BINARY).serialize()
    # Cut inside the magic, it is no serialized module: then a malformed Wasm binary.
    with pytest.raises(WasmtimeError, match="serialized module|corrupt|magic"):
        purewasm.Module.deserialize(engine(), data[:cut])
    flipped = bytearray(data)
    flipped[cut] ^= 0x55
    with pytest.raises(WasmtimeError):
        purewasm.Module.deserialize(engine(), flipped)


# --- the CLI -------------------------------------------------------------------------------------

def purewasm_cli(*args, cache_dir):
    env = dict(os.environ, PYTHONPATH=REPO, PUREWASM_CACHE_DIR=cache_dir)
    proc = subprocess.run([sys.executable, "-m", "purewasm"] + list(args),
                          capture_output=True, env=env, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc


def test_cli_run_caches_by_default_and_no_cache_does_not(cache_dir):
    proc = purewasm_cli("run", "--no-cache", HELLO, cache_dir=cache_dir)
    assert (proc.returncode, proc.stdout) == (0, b"Hello, World\n")
    assert not os.path.exists(cache_dir) or entries(cache_dir) == []
    first = purewasm_cli("run", HELLO, cache_dir=cache_dir)
    assert entries(cache_dir) and os.path.getsize(
        os.path.join(cache_dir, entries(cache_dir)[0])) > 300   # with _start's code
    second = purewasm_cli("run", HELLO, cache_dir=cache_dir)
    assert first.stdout == second.stdout == b"Hello, World\n"
    assert first.returncode == second.returncode == 0 and second.stderr == b""


def test_cli_cache_dir_option(cache_dir, tmp_path):
    other = str(tmp_path / "other")
    purewasm_cli("run", "--cache-dir", other, HELLO, cache_dir=cache_dir)
    assert len(entries(other)) == 1 and not os.path.exists(cache_dir)


@posix_only
def test_cli_insecure_cache_directory_is_a_warning(cache_dir):
    os.makedirs(cache_dir)
    os.chmod(cache_dir, 0o777)
    proc = purewasm_cli("run", HELLO, cache_dir=cache_dir)
    assert proc.returncode == 0 and proc.stdout == b"Hello, World\n"
    assert b"cache disabled" in proc.stderr and b"writable by other users" in proc.stderr
    assert entries(cache_dir) == []


def test_cli_compile_warms_the_cache(cache_dir, tmp_path):
    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(BINARY)
    proc = purewasm_cli("compile", str(wasm), cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    m = purewasm.Module(engine(cache_dir), BINARY)
    assert was_hit(m) and translated(m) == 4
    # -W fuel=... compiles for that configuration (another entry).
    assert purewasm_cli("compile", "-W", "fuel=100", str(wasm),
                        cache_dir=cache_dir).returncode == 0
    assert translated(purewasm.Module(engine(cache_dir, consume_fuel=True), BINARY)) == 4


def test_cli_compile_output_runs(cache_dir, tmp_path):
    out = str(tmp_path / "hello.pwm")
    proc = purewasm_cli("compile", "--no-cache", HELLO, "-o", out, cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    run = purewasm_cli("run", "--no-cache", out, cache_dir=cache_dir)
    assert (run.returncode, run.stdout) == (0, b"Hello, World\n")
    # For another configuration: one line, exit status 1.
    bad = purewasm_cli("run", "-W", "fuel=1000000", out, cache_dir=cache_dir)
    assert bad.returncode == 1 and b"fuel" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_cli_compile_usage(cache_dir):
    proc = purewasm_cli("compile", "--no-cache", HELLO, cache_dir=cache_dir)
    assert proc.returncode == 2 and b"nothing to write" in proc.stderr
    text = purewasm_cli("compile", HELLO[:-5] + ".wat", cache_dir=cache_dir)
    assert text.returncode == 1 and b"use -o OUT" in text.stderr
    assert not os.path.exists(cache_dir)


def test_progress_only_on_a_terminal(monkeypatch):
    from purewasm import cli

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for stream, expect in ((io.StringIO(), ""), (Tty(), "loading big.wasm")):
        monkeypatch.setattr(sys, "stderr", stream)
        with cli._Progress("big.wasm", delay=0.0):
            time.sleep(0.2)
        assert expect in stream.getvalue()
        if not expect:
            assert stream.getvalue() == ""
        else:
            assert "loaded in" in stream.getvalue()


@pytest.mark.parametrize("program, args", [("stdio.c", []), ("args_env.c", ["a", "b c"]),
                                           ("trap.c", [])])
def test_cli_results_identical_with_and_without_the_cache(cache_dir, program, args):
    """A C program's output, exit status and trap report: cold, cached (twice: the second
    run has every function the first compiled) and with --no-cache."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from programs import harness
    wasm = harness.build(program)
    runs = [purewasm_cli("run", "--no-cache", wasm, *args, cache_dir=cache_dir)]
    for _ in range(3):
        runs.append(purewasm_cli("run", wasm, *args, cache_dir=cache_dir))
    assert len(entries(cache_dir)) == 1
    results = {(p.returncode, p.stdout, p.stderr) for p in runs}
    assert len(results) == 1, results
