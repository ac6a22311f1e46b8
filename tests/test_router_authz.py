"""The embedded router's authorization as an attacker tests it: realms kept apart, rules that
narrow broader ones, callers disclosed only when they or the router say so, and a router API
that refuses a configuration it would misread (each case was a finding of a review: it failed
before its fix). Caller disclosure is compared with Crossbar.io's."""

from __future__ import annotations

import itertools
import re
from typing import Any, cast

import anyio
import pytest
from hypothesis import given, settings, strategies as st

import wamp_anyio
import wamp_core as wc
from crossbar import CrossbarRouter
from wamp_core import Permission
from wamp_core._router._auth import authorized

pytestmark = pytest.mark.anyio

TIMEOUT = 10
TICKET = {"ticket": {"authid": "a-admin", "ticket": "secret-a"}}


async def test_a_principal_pinned_to_a_realm_cannot_join_another() -> None:
    """Tenant A's admin, allowed the meta API, must not join tenant B's realm and kill its
    sessions (principals were router-wide: it joined with its full rights)."""
    principals = [wc.Principal("a-admin", role="admin", ticket="secret-a", realms=("tenant-a",))]
    rules = {"admin": [wc.Permission("")], "anonymous": [wc.Permission("com.")]}
    async with wamp_anyio.start_router(
        ["rs://memory/authz-realms"], realms=["tenant-a", "tenant-b"], principals=principals,
        permissions=rules,
    ) as router:  # fmt: skip
        url = router.urls[0]
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.connect(url, realm="tenant-a", authentication=TICKET) as a:
                assert a.details is not None and a.details.authrole == "admin"
            async with wamp_anyio.connect(url, realm="tenant-b") as b:
                # (no principal of tenant B has a ticket: the method is not served there)
                with pytest.raises(wc.SessionClosed, match="no_matching_auth_method"):
                    async with wamp_anyio.connect(url, realm="tenant-b", authentication=TICKET):
                        raise AssertionError("tenant A's admin joined tenant B")
                assert b.is_attached()


async def test_a_narrower_rule_restricts_a_broader_one() -> None:
    """``com.app.`` with every action and ``com.app.admin.`` with none: the most specific rule
    decides, as on Crossbar.io (the rules were a union: the second did nothing)."""
    principals = [wc.Principal("joe", ticket="pw")]
    rules = {"user": [
        wc.Permission("com.app."), wc.Permission("com.app.admin.", ()),
        wc.Permission("com.app.admin.status", ("call", "register"), "exact"),
    ]}  # fmt: skip
    auth = {"ticket": {"authid": "joe", "ticket": "pw"}}
    async with wamp_anyio.start_router(
        ["rs://memory/authz-narrow"], principals=principals, permissions=rules
    ) as router:  # fmt: skip
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.connect(router.urls[0], authentication=auth) as joe:
                await joe.register(lambda: "ok", "com.app.hello")
                assert await joe.call("com.app.hello") == "ok"
                await joe.register(lambda: "up", "com.app.admin.status")  # (exact: narrower)
                assert await joe.call("com.app.admin.status") == "up"
                refused: list[tuple[str, Any]] = [
                    ("register com.app.admin.reset",
                     joe.register(lambda: "pwned", "com.app.admin.reset")),
                    ("call com.app.admin.reset", joe.call("com.app.admin.reset")),
                    ("subscribe com.app.admin.news", joe.subscribe(print, "com.app.admin.news")),
                    # a pattern reaching into the narrower rule's URIs
                    ("register prefix com.app.",
                     joe.register(lambda: "x", "com.app.", wc.RegisterOptions(match="prefix"))),
                    ("subscribe wildcard com.app..reset",
                     joe.subscribe(print, "com.app..reset",
                                   wc.SubscribeOptions(match="wildcard"))),
                ]  # fmt: skip
                for what, attempt in refused:
                    with pytest.raises(wc.ApplicationError) as caught:
                        await attempt
                    assert caught.value.error == "wamp.error.not_authorized", what
                # a pattern inside the broad rule, clear of the narrow one, is allowed
                await joe.subscribe(print, "com.app.news.", wc.SubscribeOptions(match="prefix"))


async def _caller_seen(url: str, realm: str, caller_asks: bool) -> int | None:
    """The caller session ID a callee that registered with ``disclose_caller`` is told."""
    procedure = f"com.authz.who.{caller_asks}"

    def who(details: wc.CallDetails) -> int | None:
        return details.caller

    async with (
        wamp_anyio.connect(url, realm=realm) as callee,
        wamp_anyio.connect(url, realm=realm) as caller,
    ):
        await callee.register(who, procedure, wc.RegisterOptions(details=True,
                                                                 disclose_caller=True))  # fmt: skip
        seen = await caller.call(procedure, options=wc.CallOptions(disclose_me=caller_asks))
        assert seen in (None, caller.session_id)
        return cast("int | None", seen)


async def test_a_callee_cannot_make_the_router_disclose_callers(crossbar: CrossbarRouter) -> None:
    """``RegisterOptions(disclose_caller=True)`` on a router that does not disclose: callers
    that did not ask stay unknown to the callee, as on Crossbar.io (the embedded router told
    every callee of the registration who called)."""
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.start_router(["rs://memory/authz-disclose"]) as router:
            assert await _caller_seen(router.urls[0], "realm1", caller_asks=False) is None
            assert await _caller_seen(router.urls[0], "realm1", caller_asks=True) is not None
        # Crossbar's test config: realm2 does not disclose (realm1 does, as --disclose)
        assert await _caller_seen(crossbar.rs_url, crossbar.realm2, caller_asks=False) is None


async def test_registration_ids_tell_nothing_of_other_realms() -> None:
    """Subscription and registration IDs come from a counter per realm: a session could read
    how busy the other realms are from the gaps between its own (one counter served all)."""
    async with wamp_anyio.start_router(
        ["rs://memory/authz-ids"], realms=["public", "private"]
    ) as router:  # fmt: skip
        url = router.urls[0]
        with anyio.fail_after(TIMEOUT):
            async with (
                wamp_anyio.connect(url, realm="public") as spy,
                wamp_anyio.connect(url, realm="private") as busy,
            ):
                first = await spy.subscribe(print, "com.spy.one")
                for i in range(5):
                    await busy.subscribe(print, f"com.busy.t{i}")
                    await busy.register(lambda: None, f"com.busy.p{i}")
                second = await spy.subscribe(print, "com.spy.two")
                assert first.id is not None and second.id is not None
                assert second.id - first.id == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"anonymous": "no"}, "anonymous must be True or False"),
        ({"realms": "realm1"}, "realms must be a list of str"),
        ({"realms": ["a b"]}, "is not a valid URI"),
        ({"principals": [{"authid": "joe", "ticket": "x"}]}, "principals must be Principals"),
        ({"principals": wc.Principal("joe", ticket="x")}, "principals must be a list"),
        ({"permissions": {"user": [{"uri": "com."}]}}, "permissions of role 'user' must be"),
        ({"permissions": {"user": wc.Permission("com.")}}, "permissions of role 'user' must be"),
        ({"permissions": [wc.Permission("com.")]}, "permissions must map each role"),
        ({"handshake_timeout": "5"}, "handshake_timeout must be a positive number"),
        ({"ping_interval": True}, "ping_interval must be a positive number"),
    ],
)
async def test_the_router_api_refuses_what_it_would_misread(
    settings: dict[str, Any], message: str
) -> None:
    """A configuration the router would misread is refused when it is built: ``"no"`` read as
    true let anonymous sessions in, a realm name taken letter by letter, rules given as the
    config file's dicts failed every client of the role at its first request."""
    with pytest.raises(wc.ConfigurationError, match=message):
        async with wamp_anyio.start_router(["rs://memory/authz-config"], **settings):
            raise AssertionError("the router started")


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"ticket": ""}, "an empty ticket"),
        ({"secret": ""}, "an empty secret"),
        ({"ticket": "x", "channel_binding": "tls-unique"}, "has no pubkeys"),
        ({"ticket": "x", "realms": "realm1"}, "realms must be a tuple"),
    ],
)
def test_a_principal_that_would_let_anyone_in_is_refused(
    principal: dict[str, Any], message: str
) -> None:
    """``AUTHENTICATE ""`` logged in as a principal with an empty ticket or secret."""
    with pytest.raises(wc.ConfigurationError, match=message):
        wc.Principal("joe", **principal)


@pytest.mark.parametrize(
    ("scram", "message"),
    [
        ({"method": "wamp_scram"}, "SCRAM method must be one of"),
        ({"kdf": "md5"}, "takes kdf pbkdf2 or argon2id13"),
        ({"iterations": 0}, "iterations must be an integer"),
        ({"iterations": True}, "iterations must be an integer"),
        ({"method": "scram", "kdf": "argon2id-13", "memory": "x"}, "memory must be an integer"),
        ({"memory": 1024}, "pbkdf2 takes no memory"),
        ({"salt": b""}, "salt must be non-empty"),
        ({"stored_key": b"\x01"}, "stored_key must be 32 bytes"),
    ],
)
def test_a_scram_credential_no_client_could_use_is_refused(
    scram: dict[str, Any], message: str
) -> None:
    good: dict[str, Any] = {"salt": b"salt" * 4, "stored_key": bytes(32), "server_key": bytes(32)}
    with pytest.raises(wc.ConfigurationError, match=message):
        wc.ScramCredential(**{**good, **scram})


# -- authorized(): never looser than the rules, by brute force over a small URI world ---------

COMPONENTS = ("a", "b", "ab")
WORLD = [
    ".".join(parts) for n in range(1, 5) for parts in itertools.product(COMPONENTS, repeat=n)
]  # every URI of up to 4 components (rules have up to 3, and a prefix's reach goes one further)
RULE_URIS = sorted({u[:cut] for u in WORLD if u.count(".") < 3 for cut in range(len(u) + 1)}
                   | {u + "." for u in WORLD if u.count(".") < 2})  # fmt: skip


def _decides(rules: list[Permission], uri: str, action: str) -> bool:
    """The most specific rule about ``uri`` (exact, else the longest prefix), written anew."""
    exact = [r for r in rules if r.match == "exact" and r.uri == uri]
    if exact:
        return action in exact[0].actions
    prefixes = sorted((r for r in rules if r.match == "prefix" and uri.startswith(r.uri)),
                      key=lambda r: len(r.uri))  # fmt: skip
    return bool(prefixes) and action in prefixes[-1].actions


def _matched(pattern: str, match: str) -> list[str]:
    if match == "prefix":
        return [u for u in WORLD if u.startswith(pattern)]
    wanted = pattern.split(".")
    return [u for u in WORLD if len(u.split(".")) == len(wanted)
            and all(w in ("", c) for w, c in zip(wanted, u.split("."), strict=True))]  # fmt: skip


@st.composite
def _rules(draw: st.DrawFn) -> list[Permission]:
    kinds = st.sampled_from(["exact", "prefix"])
    chosen = draw(st.lists(st.tuples(st.sampled_from(RULE_URIS), kinds), max_size=6, unique=True))
    return [
        Permission(uri, tuple(draw(st.sets(st.sampled_from(["call", "subscribe"])))), match)
        for uri, match in chosen
        if match == "prefix" or uri in WORLD
    ]


_WILDCARDS = st.lists(st.sampled_from([*COMPONENTS, ""]), min_size=1, max_size=4).map(".".join)


@settings(max_examples=400, deadline=None)
@given(
    rules=_rules(),
    uri=st.sampled_from(WORLD),
    prefix=st.sampled_from(RULE_URIS),
    wildcard=_WILDCARDS.filter(lambda p: "" in p.split(".")),
)
def test_authorization_is_the_most_specific_rule_and_patterns_are_never_looser(
    rules: list[Permission], uri: str, prefix: str, wildcard: str
) -> None:
    permissions = {"user": tuple(rules)}
    for action in ("call", "subscribe"):
        assert authorized(permissions, "user", action, uri) == _decides(rules, uri, action)
        for pattern, match in ((prefix, "prefix"), (wildcard, "wildcard")):
            if authorized(permissions, "user", action, pattern, match):
                reached = _matched(pattern, match)
                assert all(_decides(rules, u, action) for u in reached), (pattern, match)
                if match == "prefix":  # (beyond the world too: what starts with the pattern)
                    assert _decides(rules, pattern + "zz", action)


def test_a_wildcard_is_not_refused_for_a_rule_it_cannot_reach() -> None:
    """``com..status`` never matches ``com.app.secret``: the rule keeping the role off that
    one topic does not refuse the wildcard (it did: every rule under ``com.`` counted)."""
    rules: dict[str, tuple[Permission, ...]] = {"user": (Permission("com.", ("subscribe",)),
                      Permission("com.app.secret", (), "exact"))}  # fmt: skip
    assert authorized(rules, "user", "subscribe", "com..status", "wildcard")
    assert not authorized(rules, "user", "subscribe", "com..secret", "wildcard")
    assert not authorized(rules, "user", "subscribe", "com.app.", "prefix")


def test_two_rules_for_one_uri_are_refused() -> None:
    """Which of them decided hung on their order (and on the hash seed, for a set)."""
    with pytest.raises(wc.ConfigurationError, match=r"two rules for prefix 'com\.app\.'"):
        wc.Router(permissions={"user": [Permission("com.app.", ("call",)),
                                        Permission("com.app.", ("register",))]})  # fmt: skip
    wc.Router(permissions={"user": [Permission("com.app"), Permission("com.app", (), "exact")]})


@pytest.mark.parametrize("uri", ["", "com.a b", "com.#", "com.\n"])
def test_an_exact_rule_on_a_uri_no_client_may_send_is_refused(uri: str) -> None:
    """It was accepted silently and never matched anything: no client may send such a URI,
    nor such a wildcard pattern."""
    says = f"bad permission {re.escape(repr(uri))}: match exact needs a URI or a wildcard"
    with pytest.raises(wc.ConfigurationError, match=says):
        Permission(uri, ("call",), "exact")
    assert issubclass(wc.ConfigurationError, ValueError)


def test_an_exact_rule_on_a_wildcard_pattern_is_kept() -> None:
    """(A review of the check above, in its first form, which refused these.) An exact rule
    with empty components is about the wildcard pattern of that name: here it refuses it."""
    for uri in ("com..x", "com.app.", ".com"):
        rules: dict[str, tuple[Permission, ...]] = {
            "user": (Permission("com.", ("subscribe",)), Permission(uri, (), "exact"))
        }
        assert not authorized(rules, "user", "subscribe", uri, "wildcard")
        assert authorized(rules, "user", "subscribe", "com.other..x", "wildcard")


def test_a_prefix_rule_may_end_in_a_dot_or_be_empty() -> None:
    for uri in ("", "com.", "com.app", "com.app."):
        wc.Router(permissions={"user": [Permission(uri, match="prefix")]})
    wc.Router(permissions={"user": [Permission("com.app.status", match="exact")]})


def test_a_principal_pinned_to_a_realm_not_served_is_refused() -> None:
    """(A review of the router program.) It was accepted silently: that user could never
    join. A router creating realms on demand may serve it later."""
    pinned = wc.Principal("a", ticket="x", realms=("realm2",))
    with pytest.raises(wc.ConfigurationError, match=r"pinned to realms .* \['realm2'\]"):
        wc.Router(realms=["realm1"], principals=[pinned])
    wc.Router(realms=["realm1", "realm2"], principals=[pinned])
    wc.Router(realms=["realm1"], principals=[pinned], auto_realms=True)
    with pytest.raises(wc.ConfigurationError, match="match 'prefx' \\(exact or prefix\\)"):
        wc.Permission("com.", match="prefx")
