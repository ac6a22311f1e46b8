"""IDs, URIs and the small building blocks the other strategy modules share.

URI rules (WAMP spec, basic/building_blocks.md, and :func:`wamp_core.is_valid_uri`): a URI is
components joined by ``.``. The *loose* rule allows any character in a component except
whitespace, ``.`` and ``#``; the *strict* rule only lower-case ASCII letters, digits and ``_``.
Components are non-empty, except in the ``wildcard`` patterns of pattern-based subscriptions and
registrations, where an empty component matches any one component.
"""

from __future__ import annotations

import string
from typing import Any, Literal

from hypothesis import strategies as st

from .._uri import MAX_ID, is_valid_uri

__all__ = ["ids", "uris", "pattern_uris", "texts", "custom_keys", "Match"]

Match = Literal["exact", "prefix", "wildcard"]

_STRICT_ALPHABET = string.ascii_lowercase + string.digits + "_"


def ids() -> st.SearchStrategy[int]:
    """WAMP IDs: integers in ``[1, 2**53]`` (session, request, subscription, publication...)."""
    return st.integers(min_value=1, max_value=MAX_ID)


def texts(*, max_size: int = 20) -> st.SearchStrategy[str]:
    """Text every serializer carries as text: anything but strings starting with U+0000 (JSON
    reads those as binary, ``"\\u0000" + base64``)."""
    return st.text(max_size=max_size).filter(lambda s: not s.startswith("\x00"))


def custom_keys() -> st.SearchStrategy[str]:
    """Keys no message type knows (``_`` + lower-case letters and digits): implementation
    specific Options/Details keys, which the core must carry along and otherwise ignore."""
    return st.text(alphabet=_STRICT_ALPHABET, min_size=3, max_size=10).map(lambda s: "_" + s)


def _components(strict: bool) -> st.SearchStrategy[str]:
    simple = st.text(alphabet=_STRICT_ALPHABET, min_size=1, max_size=8)
    if strict:
        return simple
    # Any character the loose rule allows: no whitespace (categories Z*, and the controls
    # Python counts as whitespace), no "." and no "#"; no lone surrogates (not encodable).
    loose = st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=".#"
        ),
        min_size=1,
        max_size=6,
    )
    return st.one_of(simple, loose)


def uris(strict: bool = False) -> st.SearchStrategy[str]:
    """Valid URIs without empty components (what a CALL's procedure or a PUBLISH's topic is).

    ``strict=False`` follows the loose rule (any character but whitespace, ``.`` and ``#``);
    ``strict=True`` the strict one (``[0-9a-z_]`` components), which a session created with
    ``strict_uris=True`` requires.
    """
    return (
        st.lists(_components(strict), min_size=1, max_size=4)
        .map(".".join)
        .filter(lambda uri: is_valid_uri(uri, strict=strict))
    )


@st.composite
def _wildcards(draw: st.DrawFn, strict: bool) -> str:
    parts: list[str] = draw(
        st.lists(st.one_of(_components(strict), st.just("")), min_size=2, max_size=5)
    )
    if "" not in parts:
        parts[draw(st.integers(0, len(parts) - 1))] = ""
    return ".".join(parts)


def pattern_uris(match: Match, strict: bool = False) -> st.SearchStrategy[str]:
    """URIs for a subscription or registration with ``Options.match == match``.

    ``"exact"``: the same as :func:`uris`. ``"prefix"``: a URI prefix (``com.myapp`` matches
    ``com.myapp.topic``; the last component may be empty: ``com.myapp.``, and ``""`` matches
    every URI). ``"wildcard"``: at least two components, at least one of them empty
    (``com..update`` matches ``com.user.update``).
    """
    if match == "exact":
        return uris(strict)
    if match == "prefix":
        return st.one_of(uris(strict), uris(strict).map(lambda uri: uri + "."), st.just(""))
    if match == "wildcard":
        return _wildcards(strict).filter(
            lambda uri: is_valid_uri(uri, strict=strict, allow_empty=True)
        )
    raise ValueError(f"match must be 'exact', 'prefix' or 'wildcard', not {match!r}")


def dict_with(
    known: dict[str, st.SearchStrategy[Any]], extra: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of the ``known`` keys (each with a value of its strategy), merged
    over a dict drawn from ``extra`` (custom keys)."""
    return st.builds(
        lambda chosen, more: {**more, **chosen}, st.fixed_dictionaries({}, optional=known), extra
    )
