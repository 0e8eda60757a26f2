"""The sections of a binary module (spec 5.5.2): their ids, names and required order.

One table for the decoder and the encoder. The ids are plain ints (a class of constants,
not an enum): the decoder compares them once per section, and the encoder writes them.
"""
from __future__ import annotations

from typing import Dict, Tuple


class Section:
    """Section ids (spec 5.5.2; TAG is exception handling's, Wasm 3.0)."""

    CUSTOM = 0
    TYPE = 1
    IMPORT = 2
    FUNCTION = 3
    TABLE = 4
    MEMORY = 5
    GLOBAL = 6
    EXPORT = 7
    START = 8
    ELEMENT = 9
    CODE = 10
    DATA = 11
    DATA_COUNT = 12
    TAG = 13


# The order non-custom sections must come in, each at most once: data count sits before
# code, the tag section between memory and global.
ORDER: Tuple[int, ...] = (
    Section.TYPE, Section.IMPORT, Section.FUNCTION, Section.TABLE, Section.MEMORY,
    Section.TAG, Section.GLOBAL, Section.EXPORT, Section.START, Section.ELEMENT,
    Section.DATA_COUNT, Section.CODE, Section.DATA)
# Section id -> its rank in ORDER (1-based: 0 means "no section read yet").
RANK: Dict[int, int] = {sid: i + 1 for i, sid in enumerate(ORDER)}
