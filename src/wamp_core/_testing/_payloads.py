"""Application values (Arguments, ArgumentsKw, custom Options/Details values) per serializer.

What each serializer carries losslessly, i.e. ``decode(encode(message)) == message`` with the
same types (checked by the project's tests for every serializer):

* every serializer: ``None``, ``bool``, ``str`` (no lone surrogates), ``bytes``, ``list``,
  ``dict`` with ``str`` keys; never NaN (NaN != NaN, so no round trip can be checked by
  equality) and never ``tuple`` (decodes as ``list``);
* ``json``: integers in the 64-bit range (``-(2**63)`` to ``2**64 - 1``; other JSON peers read
  numbers as float64 or int64), finite floats, no text starting with U+0000 (the
  ``"\\u0000" + base64`` binary convention reads it as ``bytes``);
* ``msgpack``: 64-bit integers (the format has nothing larger), floats with infinities, any
  text, ``bytes`` dict keys in nested values too;
* ``cbor``: integers of any size (bignum tags), floats with infinities, any text, ``bytes``
  dict keys in nested values;
* ``ubjson``: integers of any size (high-precision numbers), finite floats (classic UBJSON
  writes infinities as null), any text;
* ``flatbuffers``: Arguments/ArgumentsKw travel CBOR-encoded inside the FlatBuffers envelope,
  so the ``cbor`` domain (the envelope's own Options/Details are schema-bound and lossy).

``serializer=None`` (the default) is what *every* serializer carries: the ``json`` domain.
Batched names (``"cbor.batched"``) carry what their base serializer carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = ["SERIALIZERS", "payload_values", "args", "kwargs", "base_serializer"]

#: The serializer names :func:`payload_values` knows (batched variants allowed too).
SERIALIZERS = ("json", "msgpack", "cbor", "ubjson", "flatbuffers")

_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
# "Any size" bounded to keep examples small; the formats themselves have no bound.
_BIG = 2**200


@dataclass(frozen=True)
class _Domain:
    min_int: int
    max_int: int
    infinities: bool
    nul_text: bool  # text may start with U+0000
    bytes_keys: bool  # nested dicts may have bytes keys


_COMMON = _Domain(_INT64_MIN, _UINT64_MAX, infinities=False, nul_text=False, bytes_keys=False)
_CBOR = _Domain(-_BIG, _BIG, infinities=True, nul_text=True, bytes_keys=True)
_DOMAINS: dict[str | None, _Domain] = {
    None: _COMMON,
    "json": _COMMON,
    "msgpack": _Domain(_INT64_MIN, _UINT64_MAX, infinities=True, nul_text=True, bytes_keys=True),
    "cbor": _CBOR,
    "ubjson": _Domain(-_BIG, _BIG, infinities=False, nul_text=True, bytes_keys=False),
    "flatbuffers": _CBOR,
}


def base_serializer(serializer: str | None) -> str | None:
    """``serializer`` without ``.batched``; ValueError for a name :data:`SERIALIZERS` lacks."""
    if serializer is None:
        return None
    base, dot, suffix = serializer.rpartition(".")
    name = base if dot and suffix == "batched" else serializer
    if name not in SERIALIZERS:
        raise ValueError(
            f"unknown serializer {serializer!r}: expected one of {', '.join(SERIALIZERS)} "
            "(or '<name>.batched'), or None for what every serializer carries"
        )
    return name


def _text(domain: _Domain, max_size: int) -> st.SearchStrategy[str]:
    text = st.text(max_size=max_size)
    if domain.nul_text:  # make sure what JSON would take for binary comes up
        return st.one_of(text, text.map(lambda s: "\x00" + s[1:]))
    return text.filter(lambda s: not s.startswith("\x00"))


def scalar_values(serializer: str | None = None) -> st.SearchStrategy[Any]:
    """The non-container values of :func:`payload_values`."""
    domain = _DOMAINS[base_serializer(serializer)]
    integers = st.integers(domain.min_int, domain.max_int)
    if domain.max_int > _UINT64_MAX:  # make sure the big ones come up
        integers = st.one_of(
            integers,
            st.integers(_UINT64_MAX + 1, domain.max_int),
            st.integers(domain.min_int, _INT64_MIN - 1),
        )
    return st.one_of(
        st.none(),
        st.booleans(),
        integers,
        st.floats(allow_nan=False, allow_infinity=domain.infinities),
        _text(domain, 20),
        st.binary(max_size=24),
    )


def payload_values(
    serializer: str | None = None, *, max_leaves: int = 12
) -> st.SearchStrategy[Any]:
    """Nested application values ``serializer`` carries losslessly (see the module docs for
    each serializer's domain); ``None``: values every serializer carries.

    Scalars (``None``, bools, integers, floats, text, bytes) nested in lists and dicts, at most
    ``max_leaves`` scalars per value.
    """
    domain = _DOMAINS[base_serializer(serializer)]
    keys: st.SearchStrategy[Any] = st.text(max_size=8)
    if domain.bytes_keys:
        keys = st.one_of(keys, st.binary(max_size=8))
    return st.recursive(
        scalar_values(serializer),
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def args(serializer: str | None = None, *, max_size: int = 4) -> st.SearchStrategy[list[Any]]:
    """Positional arguments (``Arguments|list``): lists of :func:`payload_values`."""
    return st.lists(payload_values(serializer), max_size=max_size)


def kwargs(
    serializer: str | None = None, *, max_size: int = 4
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments (``ArgumentsKw|dict``): str keys, :func:`payload_values` values."""
    return st.dictionaries(st.text(max_size=10), payload_values(serializer), max_size=max_size)
