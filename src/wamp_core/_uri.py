"""WAMP URI and ID rules (spec: basic/building_blocks.md, URIs and IDs)."""

from __future__ import annotations

import re
from typing import Final

from ._errors import LocalProtocolError

__all__ = [
    "MAX_ID",
    "is_valid_uri",
    "validate_uri",
    "is_valid_pattern",
    "validate_pattern",
    "is_valid_id",
]

#: Largest WAMP ID (IDs are integers in [1, 2**53]).
MAX_ID: Final = 2**53

_LOOSE = re.compile(r"^([^\s.#]+\.)*([^\s.#]+)\Z")
_LOOSE_EMPTY = re.compile(r"^(([^\s.#]+\.)|\.)*([^\s.#]+)?\Z")
_STRICT = re.compile(r"^([0-9a-z_]+\.)*([0-9a-z_]+)\Z")
_STRICT_EMPTY = re.compile(r"^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?\Z")
# A prefix: only the last component may be empty (so may the whole prefix: every URI).
_LOOSE_PREFIX = re.compile(r"^([^\s.#]+\.)*([^\s.#]*)\Z")
_STRICT_PREFIX = re.compile(r"^([0-9a-z_]+\.)*([0-9a-z_]*)\Z")


def is_valid_uri(uri: object, *, strict: bool = False, allow_empty: bool = False) -> bool:
    """True when ``uri`` is a str following the spec's URI rules.

    ``strict`` selects the strict rule (lower-case letters, digits, ``_``); ``allow_empty``
    permits empty components (pattern-based ``wildcard`` subscriptions and registrations).
    """
    if type(uri) is not str or not uri:
        return False
    if strict:
        pattern = _STRICT_EMPTY if allow_empty else _STRICT
    else:
        pattern = _LOOSE_EMPTY if allow_empty else _LOOSE
    return pattern.match(uri) is not None


def validate_uri(
    uri: object, what: str = "URI", *, strict: bool = False, allow_empty: bool = False
) -> str:
    """Return ``uri`` if valid, else raise :class:`LocalProtocolError` (``invalid_uri``)."""
    if isinstance(uri, str) and is_valid_uri(uri, strict=strict, allow_empty=allow_empty):
        return uri
    raise LocalProtocolError(f"invalid {what}: {uri!r}", reason="wamp.error.invalid_uri")


def is_valid_pattern(uri: object, match: str, *, strict: bool = False) -> bool:
    """True when ``uri`` may be registered or subscribed to under ``match``: ``exact``, the
    URI rule; ``prefix``, the last component may be empty (``""``: every URI, as Crossbar.io
    takes it); ``wildcard``, any component may be empty."""
    if match == "prefix":
        if type(uri) is not str:
            return False
        return (_STRICT_PREFIX if strict else _LOOSE_PREFIX).match(uri) is not None
    return is_valid_uri(uri, strict=strict, allow_empty=match != "exact")


def validate_pattern(uri: object, what: str, match: str, *, strict: bool = False) -> str:
    """:func:`validate_uri` for a REGISTER/SUBSCRIBE URI under ``match``
    (:func:`is_valid_pattern`)."""
    if isinstance(uri, str) and is_valid_pattern(uri, match, strict=strict):
        return uri
    raise LocalProtocolError(f"invalid {what}: {uri!r}", reason="wamp.error.invalid_uri")


def is_valid_id(value: object) -> bool:
    """True for an int (not a bool) in [1, 2**53]."""
    return type(value) is int and 0 < value <= MAX_ID
