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
from wamp_core._router._realm import Call, Realm, Subscription

_PART = st.sampled_from(["a", "b", "ab", "c1"])
_URI = st.lists(_PART, min_size=1, max_size=4).map(".".join)
#: What the meta API's match may be asked about: empty components too.
_PROBE = st.lists(st.sampled_from(["a", "b", "ab", "c1", ""]), min_size=1, max_size=4).map(".".join)
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


@given(st.lists(_PATTERN, unique=True, max_size=12), st.lists(_PROBE, max_size=6), st.data())
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
        assert set(found) == expected and len(found) == len(expected)
        prefixes = [pattern for match, pattern in found if match == "prefix"]
        assert prefixes == sorted(prefixes, key=len)  # (shortest first, as Crossbar.io)
        best = index.best(uri)
        if not expected:
            assert best is None
        else:
            assert best is not None
            assert specificity(*best) == min(specificity(*p) for p in expected)
    for match, pattern in kept:
        index.remove(match, pattern)
    assert not index._wildcards.children  # (no branch left behind: memory)


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
        self.calls: dict[Call, None] = {}
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


class _UntouchableCall(Call):
    """A call the operation at hand must not look at."""

    def __getattribute__(self, name: str) -> Any:
        if name in ("caller", "callee"):
            raise AssertionError(f"looked at an unrelated call's {name}")
        return super().__getattribute__(name)


def test_leaving_ends_only_the_calls_the_session_is_in() -> None:
    """Leaving with calls in progress walked every call in the realm (100,000 unrelated
    calls made 600 sessions leaving take 2 s, another client waiting 1.3 s)."""
    ids = iter(range(1, 1_000_000))
    realm = Realm("realm1", lambda: next(ids))
    busy, callee, leaving = _Member(1), _Member(2), _Member(3)
    reg = realm.register(callee, "com.work", "exact", "single", None)
    for n in range(1000):
        call = Call(busy, n + 1, callee, n + 1, receive_progress=False)
        realm.start_call(call, reg)
        call.__class__ = _UntouchableCall
    mine = Call(leaving, 1, callee, 5000, receive_progress=False)
    realm.start_call(mine, reg)
    made, served = realm.leave(leaving)
    assert (made, served) == ([mine], [])
    assert len(realm.calls) == 1000 and (leaving.made, callee.served) == (0, 1000)
