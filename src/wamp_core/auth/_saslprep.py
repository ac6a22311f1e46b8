"""SASLprep (RFC 4013), the stringprep profile SCRAM uses for user names and passwords."""

from __future__ import annotations

import stringprep
import unicodedata
from collections.abc import Callable
from typing import Final

__all__ = ["saslprep"]

# stringprep (RFC 3454) is defined over Unicode 3.2, like the stdlib tables.
_UCD: Final = unicodedata.ucd_3_2_0

_PROHIBITED: Final[tuple[tuple[str, Callable[[str], bool]], ...]] = (
    ("C.1.2 non-ASCII space", stringprep.in_table_c12),
    ("C.2.1 ASCII control", stringprep.in_table_c21),
    ("C.2.2 non-ASCII control", stringprep.in_table_c22),
    ("C.3 private use", stringprep.in_table_c3),
    ("C.4 non-character", stringprep.in_table_c4),
    ("C.5 surrogate", stringprep.in_table_c5),
    ("C.6 inappropriate for plain text", stringprep.in_table_c6),
    ("C.7 inappropriate for canonical representation", stringprep.in_table_c7),
    ("C.8 change display property or deprecated", stringprep.in_table_c8),
    ("C.9 tagging", stringprep.in_table_c9),
)


def saslprep(text: str, *, allow_unassigned: bool = False) -> str:
    """Prepare ``text`` with SASLprep; raise ValueError for prohibited input.

    ``allow_unassigned`` treats ``text`` as a query string (RFC 3454 §7); the default treats
    it as a stored string. Error messages name the offending table, never the text.
    """
    if not isinstance(text, str):
        raise TypeError(f"saslprep() needs a str, not {type(text).__name__}")
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    result = _UCD.normalize("NFKC", mapped)
    for ch in result:
        for name, in_table in _PROHIBITED:
            if in_table(ch):
                raise ValueError(f"SASLprep: prohibited character (RFC 3454 table {name})")
        if not allow_unassigned and stringprep.in_table_a1(ch):
            raise ValueError("SASLprep: unassigned code point (RFC 3454 table A.1)")
    if any(stringprep.in_table_d1(ch) for ch in result):
        if any(stringprep.in_table_d2(ch) for ch in result):
            raise ValueError("SASLprep: mixes right-to-left and left-to-right characters")
        if not (stringprep.in_table_d1(result[0]) and stringprep.in_table_d1(result[-1])):
            raise ValueError("SASLprep: right-to-left text must start and end with RandALCat")
    return result
