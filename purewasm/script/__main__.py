"""``python -m purewasm.script FILE.wast ...``: run spec-test scripts, print a summary.

Options: ``--json`` reads the scripts through wabt's wast2json instead of our text parser;
``-v`` lists every failing command. Exit status 1 if any command failed.
"""
from __future__ import annotations

import sys
import time
from typing import List, Optional

from .runner import run_wast_file


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args
    use_json = "--json" in args
    files = [a for a in args if not a.startswith("-")]
    if not files:
        print(__doc__.strip())
        return 2
    totals = [0, 0, 0]
    for path in files:
        start = time.perf_counter()
        try:
            result = run_wast_file(path, use_text_parser=not use_json)
        except Exception as exc:  # noqa: BLE001 - one unreadable script must not stop the rest
            print("%s: cannot run: %s: %s" % (path, type(exc).__name__, exc))
            totals[1] += 1
            continue
        totals[0] += len(result.passed)
        totals[1] += len(result.failed)
        totals[2] += len(result.skipped)
        print("%s: %d passed, %d failed, %d not run (%.1fs)" % (
            path, len(result.passed), len(result.failed), len(result.skipped),
            time.perf_counter() - start))
        if verbose:
            for line, why in result.failed:
                print("  %s:%d: %s" % (path, line, why))
    print("total: %d passed, %d failed, %d not run" % tuple(totals))
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
