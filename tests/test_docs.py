"""Every code sample in the user guide (docs/guide/*.md) and the README runs.

Per page, the ```python blocks run in order in one fresh namespace, in a subprocess whose
working directory is the repository root (samples open ``examples/...``). A ```text block
right after a ```python block is that block's expected stdout. ```console blocks are
shell sessions: each ``$ purewasm ...`` line runs (as ``python -m purewasm``) and the lines
after it, up to the next ``$``, are its expected stdout (``...`` on a line of its own: any
further output). A sample in another language (```c PATH) is an excerpt of a file that
the tests build, checked verbatim. A sample that cannot run says why in its fence:
```python no-run: REASON.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md")) + [ROOT / "README.md"]

FENCE = re.compile(r"^```(\S*)(.*)$")


class Block(NamedTuple):
    lang: str
    info: str
    line: int        # 1-based line of the first code line
    code: str


def blocks_of(path: Path) -> List[Block]:
    out: List[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m and m.group(1):
            start = i + 1
            j = start
            while j < len(lines) and lines[j] != "```":
                j += 1
            assert j < len(lines), "%s:%d: unclosed code fence" % (path, i + 1)
            out.append(Block(m.group(1), m.group(2).strip(), start + 1,
                             "\n".join(lines[start:j]) + "\n"))
            i = j + 1
        else:
            assert not (m and lines[i] != "```"), "%s:%d: fence without a language" % (
                path, i + 1)
            i += 1
    return out


# Runs the python blocks of one page in one namespace; prints a marker before each block
# so that the test can cut stdout into per-block outputs.
DRIVER = r"""
import json, sys
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for block in blocks:
    sys.stdout.write("\x00BLOCK %d\x00\n" % block["line"])
    sys.stdout.flush()
    code = compile("\n" * (block["line"] - 1) + block["code"], block["path"], "exec")
    exec(code, namespace)
    sys.stdout.flush()
"""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _pages_with(*langs: str, exclude: bool = False) -> List[Path]:
    """The pages having a block in (or, with ``exclude``, outside) ``langs``: each test
    below runs on the pages it applies to, none is skipped."""
    return [p for p in PAGES
            if any((b.lang in langs) != exclude for b in blocks_of(p))]


def test_the_guide_exists() -> None:
    names = {p.name for p in GUIDE.glob("*.md")}
    for needed in ("index.md", "install.md", "cli.md", "embedding.md", "plugins.md",
                   "errors.md", "features.md", "wasmtime.md", "performance.md",
                   "asyncio.md", "notebooks-pyodide.md"):
        assert needed in names, needed
    index = (GUIDE / "index.md").read_text()
    for name in names - {"index.md"}:
        assert "(%s)" % name in index, "index.md should link " + name


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_relative_links_resolve(page: Path) -> None:
    prose = re.sub(r"(?ms)^```.*?^```$", "", page.read_text(encoding="utf-8"))
    prose = re.sub(r"`[^`\n]*`", "", prose)
    for target in LINK.findall(prose):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), "%s: broken link %s" % (page, target)


@pytest.mark.parametrize("page", _pages_with("python"), ids=_page_id)
def test_python_samples_run(page: Path, tmp_path: Path) -> None:
    blocks = blocks_of(page)
    runnable = []
    expected = {}
    for k, block in enumerate(blocks):
        if block.lang != "python":
            continue
        if block.info.startswith("no-run"):
            reason = block.info[len("no-run"):].lstrip(": ").strip()
            assert reason, "%s:%d: a no-run sample must say why" % (page, block.line)
            continue
        assert block.info == "", "%s:%d: unknown fence info %r" % (page, block.line, block.info)
        runnable.append({"line": block.line, "code": block.code, "path": str(page)})
        if k + 1 < len(blocks) and blocks[k + 1].lang == "text":
            expected[block.line] = blocks[k + 1].code
    if not runnable:
        return      # only no-run samples (their reasons are checked above)
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps(runnable))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(spec)], capture_output=True,
                          text=True, cwd=str(ROOT), env=_env(), timeout=600)
    assert proc.returncode == 0, "a sample of %s failed:\n%s" % (page, proc.stderr)
    outputs = {}
    for chunk in proc.stdout.split("\x00BLOCK ")[1:]:
        line, _, text = chunk.partition("\x00\n")
        outputs[int(line)] = text
    for line, want in expected.items():
        assert outputs.get(line) == want, "%s:%d: output differs:\n--- got\n%s--- want\n%s" % (
            page, line, outputs.get(line), want)


@pytest.mark.parametrize("page", _pages_with("python", "text", "console", exclude=True),
                         ids=_page_id)
def test_excerpts_match_their_sources(page: Path) -> None:
    """A sample in another language is an excerpt of a file the tests build (```c PATH):
    it must appear in that file verbatim."""
    blocks = [b for b in blocks_of(page) if b.lang not in ("python", "text", "console")]
    for block in blocks:
        assert block.info, "%s:%d: name the file this %s sample comes from" % (
            page, block.line, block.lang)
        source = (ROOT / block.info).read_text(encoding="utf-8")
        assert block.code in source, "%s:%d: not an excerpt of %s" % (
            page, block.line, block.info)


def _console_commands(code: str) -> List[tuple]:
    commands: List[tuple] = []
    for raw in code.splitlines():
        if raw.startswith("$ "):
            commands.append((raw[2:], []))
        else:
            assert commands, "console block must start with '$ '"
            commands[-1][1].append(raw)
    return commands


@pytest.mark.parametrize("page", _pages_with("console"), ids=_page_id)
def test_console_samples_run(page: Path) -> None:
    blocks = [b for b in blocks_of(page) if b.lang == "console"]
    for block in blocks:
        for command, want in _console_commands(block.code):
            argv = shlex.split(command)
            assert argv[0] in ("purewasm", "python", "python3"), command
            if argv[0] == "purewasm":
                argv = [sys.executable, "-m", "purewasm"] + argv[1:]
            else:
                argv[0] = sys.executable
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=str(ROOT),
                                  env=_env(), timeout=300)
            got = proc.stdout.splitlines()
            if want and want[-1] == "...":
                got, want = got[:len(want) - 1], want[:-1]
            assert got == want, "%s:%d: `%s` printed:\n%s\n(stderr: %s)" % (
                page, block.line, command, proc.stdout, proc.stderr)
