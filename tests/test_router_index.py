"""How the embedded router finds the subscriptions and registrations a URI matches
(``wamp_core._router._index.UriIndex``): the same answers as comparing the URI with every
pattern, without comparing it with every pattern (a review: one client with 12,000 exact
subscriptions made every publication in the realm walk them, and its own subscribing
quadratic; 80,000 exact registrations slowed every call to a pattern registration).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, strategies as st

from wamp_core._router._index import UriIndex, specificity
from wamp_core._router._realm import Realm, Subscription

_PART = st.sampled_from(["a", "b", "ab", "c1"])
_URI = st.lists(_PART, min_size=1, max_size=4).map(".".join)
_PATTERN = st.one_of(
    st.tuples(st.just("exact"), _URI),
    st.tuples(st.just("prefix"), st.text(alphabet="ab.c1", max_size=6)),
    st.tuples(
        st.just("wildcard"),
        st.lists(st.sampled_from(["a", "b", "", "ab"]), min_size=1, max_size=4).map(".".join),
    ),
)


def _matches(match: str, pattern: str, uri: str) -> bool:
    """The spec's rule, written out plainly."""
    if match == "exact":
        return uri == pattern
    if match == "prefix":
        return uri.startswith(pattern)
    parts, uri_parts = pattern.split("."), uri.split(".")
    return len(parts) == len(uri_parts) and all(
        p in ("", u) for p, u in zip(parts, uri_parts, strict=True)
    )


@given(st.lists(_PATTERN, unique=True, max_size=12), st.lists(_URI, max_size=6), st.data())
def test_the_index_finds_what_comparing_with_every_pattern_finds(
    patterns: list[tuple[str, str]], uris: list[str], data: st.DataObject
) -> None:
    index: UriIndex[tuple[str, str]] = UriIndex()
    for match, pattern in patterns:
        index.add(match, pattern, (match, pattern))
    removed = data.draw(
        st.lists(st.sampled_from(patterns), unique=True) if patterns else st.just([])
    )
    for match, pattern in removed:
        index.remove(match, pattern)
    kept = [p for p in patterns if p not in removed]
    assert len(index) == len(kept) and list(index) == kept
    for uri in [*uris, *(pattern for _, pattern in kept)]:
        expected = {p for p in kept if _matches(*p, uri)}
        found = index.matching(uri)
        assert {entry for _, _, entry in found} == expected
        assert all(entry == (match, pattern) for match, pattern, entry in found)
        best = index.best(uri)
        if not expected:
            assert best is None
        else:
            assert best is not None
            assert specificity(*best) == min(specificity(*p) for p in expected)


class _Untouchable(Subscription):
    """A subscription the operation at hand must not look at."""

    def __getattribute__(self, name: str) -> Any:
        if name in ("match", "topic", "subscribers"):
            raise AssertionError(f"looked at an unrelated subscription's {name}")
        return super().__getattribute__(name)


class _Member:
    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self.authid = self.authrole = "anonymous"
        self.roles: dict[str, Any] = {}
        self.made = self.served = 0
        self.send: Callable[[Any], None] = lambda message: None


def test_a_publication_looks_only_at_the_subscriptions_it_matches() -> None:
    ids = iter(range(1, 1_000_000))
    realm = Realm("realm1", lambda: next(ids))
    greedy, listener = _Member(1), _Member(2)
    for n in range(2000):
        realm.subscribe(greedy, f"com.greedy.topic{n}", "exact").__class__ = _Untouchable
    for match, topic in [
        ("exact", "com.app.news"),
        ("prefix", "com.app."),
        ("wildcard", "com..news"),
    ]:
        realm.subscribe(listener, topic, match)
    realm.subscribe(greedy, "com.app.other", "exact").__class__ = _Untouchable
    got = [
        (sub.match, member.session_id) for sub, member in realm.receivers(None, "com.app.news", {})
    ]
    assert sorted(got) == [("exact", 2), ("prefix", 2), ("wildcard", 2)]


def test_leaving_undoes_only_what_the_session_holds() -> None:
    """Leaving walks the session's own subscriptions and registrations: the others' are left
    as they were, and so are the meta events about them."""
    ids = iter(range(1, 1_000_000))
    realm = Realm("realm1", lambda: next(ids))
    stays, leaves = _Member(1), _Member(2)
    for n in range(50):
        realm.subscribe(stays, f"com.stays.{n}", "exact").__class__ = _Untouchable
        realm.register(stays, f"com.stays.proc{n}", "exact", "single", None)
    shared = realm.subscribe(stays, "com.shared", "prefix")
    realm.subscribe(leaves, "com.shared", "prefix")
    own = realm.register(leaves, "com.leaves.proc", "wildcard", "single", None)
    realm.meta.clear()
    realm.leave(leaves)
    assert list(realm.meta) == [
        ("wamp.subscription.on_unsubscribe", [2, shared.id]),
        ("wamp.registration.on_unregister", [2, own.id]),
        ("wamp.registration.on_delete", [2, own.id]),
    ]
    assert list(shared.subscribers) == [1]
    assert realm.lookup("com.leaves.proc") is None
    assert len(realm.subscriptions) == 51 and len(realm.registrations) == 50
    assert realm.subscription(shared.id) is shared
