"""Convert an official-testsuite ``.wast`` script to wabt's JSON form, cached.

Usage (from any test)::

    from tests.wast_json import wast_commands          # or: from wast_json import ...
    cmds, moddir = wast_commands(WAST_DIR / "binary.wast")
    for cmd in cmds:                 # wast2json's "commands" list, unchanged
        if cmd["type"] == "assert_malformed" and cmd["module_type"] == "binary":
            data = (moddir / cmd["filename"]).read_bytes()

``wast2json`` (wabt) writes ``x.json`` plus one ``x.N.wasm`` / ``x.N.wat`` file per
module. The output goes to a cache directory under the system temp dir, keyed by the
script's path, size and mtime, so a whole test session converts each script once (and
parallel workers do not clash: each conversion is written elsewhere, then renamed).
``WAST_DIR`` is the wasm-2.0 testsuite; ``all_wast_files()`` lists it (incl. simd/).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple



def _testsuite_root() -> Path:
    """The official testsuite: $PUREWASM_TESTSUITE, else the copy vendored in the
    repository (tests/testsuite: the 2.0 and 3.0 trees, unchanged, with their LICENSE and
    source commits), so that a fresh clone tests itself."""
    env = os.environ.get("PUREWASM_TESTSUITE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "testsuite"


WAST_DIR = _testsuite_root() / "wasm-2.0"
CACHE_ROOT = Path(tempfile.gettempdir()) / "purewasm-wast-json"


def all_wast_files(root: Path = WAST_DIR) -> List[Path]:
    """Every ``.wast`` file under ``root`` (sorted)."""
    return sorted(root.rglob("*.wast"))


def wast_commands(path: "os.PathLike[str] | str",
                  tool: str = "wast2json") -> Tuple[List[Dict[str, Any]], Path]:
    """Return (commands, module_dir): the parsed JSON commands and the directory holding
    the module files their ``filename`` fields name. ``tool``: "wast2json" (wabt; Wasm
    2.0) or "wasm-tools" (``wasm-tools json-from-wast``; every Wasm 3.0 proposal). Raises
    ``subprocess.CalledProcessError`` if the tool rejects the script."""
    src = Path(path).resolve()
    st = src.stat()
    key = hashlib.sha1(("%s|%d|%d|%s" % (src, st.st_size, st.st_mtime_ns, tool)).encode()
                       ).hexdigest()
    out = CACHE_ROOT / ("%s-%s" % (src.stem, key[:16]))
    json_path = out / "x.json"
    if not json_path.exists():
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=str(CACHE_ROOT)))
        try:
            if tool == "wasm-tools":
                cmd = ["wasm-tools", "json-from-wast", str(src), "-o", str(tmp / "x.json"),
                       "--wasm-dir", str(tmp)]
            else:
                cmd = ["wast2json", str(src), "-o", str(tmp / "x.json")]
            subprocess.run(cmd, check=True, capture_output=True)
            try:
                os.rename(str(tmp), str(out))
            except OSError:  # another worker won the race: its copy is identical
                pass
        finally:
            if tmp.exists():
                shutil.rmtree(str(tmp), ignore_errors=True)
    with open(str(json_path), encoding="utf-8") as f:
        return json.load(f)["commands"], out
