"""The names generated code finds in its namespace, in one place.

The translator writes them into the Python it generates; ``CompiledModule`` binds them
per instance (``_populate``) and ``support.base_namespace`` binds the helpers shared by
every instance. Both sides use these patterns, so a rename cannot fail first at run time.
"""
from __future__ import annotations

import re

FUNC = "f%d"              # function i's raw callable (the generated function or a stub)
FUNC_REF = "F%d"          # function i's FuncInstance: the value of ref.func
MEMORY = "mem%d"          # memory i's bytearray (never replaced: grow extends it)
MEMORY_GROW = "MGROW%d"   # memory i's grow(delta) -> old pages or -1
MEMORY_VIEWS = "MV%d"     # memory i's list of typed views (None: not made; views.py)
MEMORY_VIEW = "MVIEW%d"   # memory i's make_view(k) -> its typed view k
TABLE = "tab%d"           # table i's element list (never replaced)
TABLE_GROW = "TGROW%d"    # table i's grow(delta, init) -> old size or -1
GLOBAL_CELL = "g%d"       # mutable global i: its GlobalInstance (read/write .value)
GLOBAL_CONST = "G%d"      # immutable global i: its value, bound once
TAG = "tag%d"             # tag i's TagInstance (exception handling: matched by identity)
TYPE_ID = "T%d"           # type i's process-wide id (call_indirect's signature check)
# call_indirect through table i expecting type j: the table's cache of callees checked for
# that type (runtime.instances.TableElements.call_cache; CPython's shapes only), bound
# when a function using it is made (CompiledModule._realize: CALL_CACHE_NAME).
CALL_CACHE = "ic%d_%d"
ELEMS = "ELEMS"           # the instance's element segments (elem.drop empties one)
DATAS = "DATAS"           # the instance's data segments (data.drop empties one)
FUEL = "FUEL"             # one-element list: fuel left (only with fuel metering)
# Only with epoch checks (epoch interruption, wall-clock deadlines):
EPOCH_TICKS = "TICKS"     # one-element list: checks left before asking the runtime
EPOCH_HIT = "EPOCH_HIT"   # the runtime's verdict (runtime.Store.epoch_hit): trap or re-arm
# A name that every pending expression reading a mutable global also depends on: calls
# and memory.grow may change any global, so they protect this name (Translator.protect).
ANY_GLOBAL = "G"
CALL_CACHE_NAME = re.compile(r"ic(\d+)_(\d+)\Z")


def printable(name: str) -> str:
    """A Wasm name (any string) as printable ASCII, for comments and code filenames
    (compile() refuses NUL characters, a newline would end a comment)."""
    name = name.encode("ascii", "backslashreplace").decode()
    return "".join(ch if " " <= ch < "\x7f" else "?" for ch in name)[:200]
