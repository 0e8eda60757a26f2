"""Packaging: the sdist and wheel build, pass ``twine check``, and the wheel installed in a
fresh venv gives a typed package with ``purewasm --version`` that runs a program.

One build for all the checks (~15 s; ``python -m build`` needs network for its isolated
build environment, which CI has). ``build`` and ``twine`` come with the test extra.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path
from typing import Dict

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str, **kw: object) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (cmd, proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    pytest.importorskip("build", reason="python -m build is in the test extra "
                        "(pip install -e '.[test]')")
    pytest.importorskip("twine", reason="twine is in the test extra (pip install -e '.[test]')")
    # One build per test session, shared by the xdist workers: two builds at once in the
    # same source tree collide in its build/ and egg-info directories.
    shared = tmp_path_factory.getbasetemp().parent / "purewasm-dist"
    shared.mkdir(exist_ok=True)
    with open(str(shared / ".lock"), "w") as lock:
        _lock(lock)
        wheels = list(shared.glob("purewasm-*.whl"))
        sdists = list(shared.glob("purewasm-*.tar.gz"))
        if not (wheels and sdists):
            _run(sys.executable, "-m", "build", "--outdir", str(shared), str(ROOT))
            wheels = list(shared.glob("purewasm-*.whl"))
            sdists = list(shared.glob("purewasm-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(shared.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def _lock(f: object) -> None:
    """An exclusive lock on an open file, released when it closes (POSIX; elsewhere the
    tests do not run in parallel builds)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # type: ignore[attr-defined]


def _version() -> str:
    text = (ROOT / "purewasm" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert match, "purewasm/__init__.py must set __version__"
    return match.group(1)


def test_twine_check(dists: Dict[str, Path]) -> None:
    _run(sys.executable, "-m", "twine", "check", "--strict", str(dists["wheel"]),
         str(dists["sdist"]))


def test_wheel_contents(dists: Dict[str, Path]) -> None:
    version = _version()
    assert dists["wheel"].name == "purewasm-%s-py3-none-any.whl" % version
    with zipfile.ZipFile(str(dists["wheel"])) as whl:
        names = set(whl.namelist())
        info = "purewasm-%s.dist-info/" % version
        metadata = whl.read(info + "METADATA").decode()
    assert "purewasm/py.typed" in names
    assert info + "licenses/LICENSE" in names
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert "Version: %s" % version in metadata
    # Runtime code only: no tests or examples in the installed package.
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


def test_sdist_carries_what_its_tests_need(dists: Dict[str, Path]) -> None:
    prefix = "purewasm-%s/" % _version()
    with tarfile.open(str(dists["sdist"])) as sdist:
        names = set(sdist.getnames())
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml",
                   "purewasm/py.typed", "tests/conftest.py", "tests/testsuite/README.md",
                   "tests/testsuite/wasm-2.0", "tests/testsuite/wasm-3.0",
                   "tests/wasi-testsuite", "examples/hello.wasm", "docs/guide"):
        assert prefix + needed in names, needed
    assert not any("__pycache__" in n for n in names)


def test_wheel_in_a_fresh_venv(dists: Dict[str, Path], tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(str(env_dir))
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = str(bindir / "python")
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(dists["wheel"]))
    # Not the repo: neither the working directory nor PYTHONPATH (pip would see the
    # checkout as installed already); the installed copy is what runs.
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    outside = {"cwd": str(tmp_path), "env": clean_env}
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(dists["wheel"]),
         **outside)
    got = _run(str(bindir / "purewasm"), "--version", **outside)
    assert got.stdout.startswith("purewasm %s " % _version()), got.stdout
    check = _run(python, "-c", "import os, purewasm; print(purewasm.__version__); "
                 "print(os.path.isfile(os.path.join(os.path.dirname(purewasm.__file__), "
                 "'py.typed'))); print(purewasm.__file__)", **outside)
    version, typed, where = check.stdout.split()
    assert version == _version() and typed == "True"
    assert str(env_dir) in where
    hello = _run(str(bindir / "purewasm"), "run", str(ROOT / "examples" / "hello.wasm"),
                 **outside)
    assert hello.stdout == "Hello, World\n"


def test_version_has_one_source(capsys: pytest.CaptureFixture) -> None:
    import purewasm
    from purewasm import cli

    assert purewasm.__version__ == _version()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = {attr = "purewasm.__version__"}' in pyproject
    assert not re.search(r'^version = "', pyproject, re.M)
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("purewasm %s (" % _version())


def test_changelog_and_license() -> None:
    assert (ROOT / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## %s" % _version() in changelog
