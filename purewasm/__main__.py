"""``python -m purewasm``: the command line (see purewasm/cli.py)."""
import sys

from purewasm.cli import main

if __name__ == "__main__":
    sys.exit(main())
