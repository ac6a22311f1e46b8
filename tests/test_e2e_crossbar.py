"""End to end against a real Crossbar.io: the sans-IO core driven by a blocking test loop.

Every claim here is checked on the wire through the router, never against a mock.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wamp_core as wc
from crossbar import (
    CRYPTOSIGN_SEED,
    TICKET_AUTHID,
    TICKET_SECRET,
    WAMPCRA_AUTHID,
    WAMPCRA_SALTED_AUTHID,
    WAMPCRA_SALTED_SECRET,
    WAMPCRA_SECRET,
    CrossbarRouter,
)
from wamp_client import BlockingClient, pump
from wamp_core import auth, events as ev

REPO = Path(__file__).resolve().parent.parent

PAYLOAD: list[Any] = [
    0,
    -5,
    2**53,
    -(2**31),
    1.5,
    "ünïcödé ✓",
    "",
    b"\x00\x01binary\xff",
    None,
    True,
    False,
    [1, [2, [3]]],
    {"nested": {"list": [1, "two", b"three"]}},
]
KWPAYLOAD: dict[str, Any] = {"key": "value", "bin": b"\xfe", "n": 2**40}


def _echo_callee(client: BlockingClient, event: Any) -> None:
    if isinstance(event, ev.InvocationReceived):
        client.session.yield_result(event.request_id, event.args, event.kwargs)


def _ids(values: list[str]) -> list[str]:
    return values


# ------------------------------------------------------------------------------------------
# The hand-driven example


@pytest.mark.parametrize("kind", ["rs", "ws", "unix"])
def test_selectors_example(crossbar: CrossbarRouter, kind: str) -> None:
    url = {
        "rs": crossbar.rs_url,
        "ws": crossbar.ws_url,
        "unix": f"rs://unix:{crossbar.unix_path}",
    }[kind]
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "selectors_client.py"), url, "realm1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "call result: 5" in proc.stdout
    assert "event received on com.example.hello: hello from wamp_core" in proc.stdout
    assert "session ended: wamp.close.normal" in proc.stdout


# ------------------------------------------------------------------------------------------
# Serializer x transport matrix

RAWSOCKET_SERIALIZERS = ["json", "msgpack", "cbor", "ubjson"]
WEBSOCKET_SERIALIZERS = [*RAWSOCKET_SERIALIZERS, *(f"{s}.batched" for s in RAWSOCKET_SERIALIZERS)]


def _transport(crossbar: CrossbarRouter, kind: str, serializer: str) -> dict[str, Any]:
    if kind == "rawsocket":
        return {"type": "rawsocket", "url": crossbar.rs_url, "serializer": serializer}
    return {"type": "websocket", "url": crossbar.ws_url, "serializers": [serializer]}


@pytest.mark.parametrize(
    ("kind", "serializer"),
    [("rawsocket", s) for s in RAWSOCKET_SERIALIZERS]
    + [("websocket", s) for s in WEBSOCKET_SERIALIZERS],
)
def test_rpc_and_pubsub_roundtrip(crossbar: CrossbarRouter, kind: str, serializer: str) -> None:
    """Values survive a call (caller -> router -> callee -> router -> caller) and an event."""
    with (
        BlockingClient(_transport(crossbar, kind, serializer)) as a,
        BlockingClient(crossbar.rs_url) as b,
    ):
        joined = a.join()
        assert isinstance(joined, ev.Joined), joined
        assert joined.details.serializer == serializer
        assert isinstance(b.join(), ev.Joined)
        b.handlers.append(_echo_callee)
        reg = b.request(b.session.register("com.test.echo"))
        assert isinstance(reg, ev.Registered)
        sub = a.request(a.session.subscribe("com.test.matrix"))
        assert isinstance(sub, ev.Subscribed)

        rid = a.session.call("com.test.echo", PAYLOAD, KWPAYLOAD)
        pump(a, b, until=lambda: any(
            isinstance(e, ev.CallSucceeded | ev.RequestFailed) for e in a.events))  # fmt: skip
        result = a.request(rid)
        assert isinstance(result, ev.CallSucceeded), result
        assert result.result.args == PAYLOAD
        assert result.result.kwargs == KWPAYLOAD

        b.session.publish("com.test.matrix", PAYLOAD, KWPAYLOAD)
        pump(a, b, until=lambda: any(isinstance(e, ev.EventDelivered) for e in a.events))
        event = a.wait_type(ev.EventDelivered)
        assert event.args == PAYLOAD
        assert event.kwargs == KWPAYLOAD
        assert event.details.topic == "com.test.matrix"


# ------------------------------------------------------------------------------------------
# Authentication (all four methods Crossbar offers)


def _auth_cases() -> dict[str, list[auth.Authenticator]]:
    return {
        "ticket": [auth.TicketAuthenticator(TICKET_SECRET, TICKET_AUTHID)],
        "wampcra": [auth.WampCraAuthenticator(WAMPCRA_SECRET, WAMPCRA_AUTHID)],
        "wampcra-salted": [auth.WampCraAuthenticator(WAMPCRA_SALTED_SECRET, WAMPCRA_SALTED_AUTHID)],
        "cryptosign": [auth.CryptosignAuthenticator(CRYPTOSIGN_SEED, "alice")],
    }


@pytest.mark.parametrize("transport", ["websocket", "rawsocket"])
@pytest.mark.parametrize("method", ["ticket", "wampcra", "wampcra-salted", "cryptosign"])
def test_authentication_succeeds(crossbar: CrossbarRouter, method: str, transport: str) -> None:
    url = crossbar.ws_auth_url if transport == "websocket" else crossbar.rs_url
    authenticators = _auth_cases()[method]
    with BlockingClient(url, authenticators=authenticators) as client:
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        expected_method = "wampcra" if method.startswith("wampcra") else method
        assert joined.details.authmethod == expected_method
        assert joined.details.authrole == "user"
        assert any(isinstance(e, ev.ChallengeAnswered) for e in client.events)
        # The session really works after authenticating.
        rid = client.session.call("wamp.session.count")
        result = client.request(rid)
        assert isinstance(result, ev.CallSucceeded)
        assert result.result.value >= 1


@pytest.mark.parametrize(
    ("method", "authenticators"),
    [
        ("ticket", [auth.TicketAuthenticator("wrong", TICKET_AUTHID)]),
        ("wampcra", [auth.WampCraAuthenticator("wrong", WAMPCRA_AUTHID)]),
        ("cryptosign", [auth.CryptosignAuthenticator(b"\x02" * 32, "alice")]),
    ],
)
def test_authentication_failure_is_an_abort(
    crossbar: CrossbarRouter, method: str, authenticators: list[auth.Authenticator]
) -> None:
    with BlockingClient(crossbar.ws_auth_url, authenticators=authenticators) as client:
        aborted = client.join()
        assert isinstance(aborted, ev.Aborted), aborted
        assert not aborted.details.local
        assert aborted.details.reason.startswith("wamp.error.")
        assert wc.default_is_fatal(wc.SessionClosed("x", reason=aborted.details.reason)) or (
            aborted.details.reason == "wamp.error.not_authorized"
        )


def test_several_methods_offered_router_picks_one(crossbar: CrossbarRouter) -> None:
    authenticators = [
        auth.WampCraAuthenticator(WAMPCRA_SECRET, WAMPCRA_AUTHID),
        auth.TicketAuthenticator("unused", WAMPCRA_AUTHID),
    ]
    with BlockingClient(crossbar.ws_auth_url, authenticators=authenticators) as client:
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        assert joined.details.authid == WAMPCRA_AUTHID
        assert joined.details.authmethod == "wampcra"


# ------------------------------------------------------------------------------------------
# Advanced profile, client side


@pytest.fixture
def pair(crossbar: CrossbarRouter) -> Any:
    a = BlockingClient(crossbar.ws_url)
    b = BlockingClient(crossbar.rs_url)
    assert isinstance(a.join(), ev.Joined)
    assert isinstance(b.join(), ev.Joined)
    yield a, b
    a.close()
    b.close()


def _done(client: BlockingClient, rid: int) -> bool:
    terminal = (ev.CallSucceeded, ev.RequestFailed)
    return any(isinstance(e, terminal) and e.request_id == rid for e in client.events)


def _call(a: BlockingClient, b: BlockingClient, *args: Any, **kwargs: Any) -> Any:
    rid = a.session.call(*args, **kwargs)
    pump(a, b, until=lambda: any(
        isinstance(e, ev.CallSucceeded | ev.RequestFailed) and e.request_id == rid
        for e in a.events))  # fmt: skip
    return a.request(rid)


def test_progressive_call_results(pair: Any) -> None:
    a, b = pair

    def callee(client: BlockingClient, event: Any) -> None:
        if isinstance(event, ev.InvocationReceived):
            assert event.details.receive_progress
            for i in range(3):
                client.session.yield_result(event.request_id, [i], progress=True)
            client.session.yield_result(event.request_id, ["done"])

    b.handlers.append(callee)
    b.request(b.session.register("com.test.progress"))
    result = _call(a, b, "com.test.progress", options=wc.CallOptions(receive_progress=True))
    assert isinstance(result, ev.CallSucceeded)
    assert result.result.args == ["done"]
    progress = [e.result.args for e in a.events if isinstance(e, ev.CallProgress)]
    assert progress == [[0], [1], [2]]


@pytest.mark.parametrize("mode", ["kill", "killnowait", "skip"])
def test_call_canceling(pair: Any, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    a, b = pair
    b.request(b.session.register("com.test.slow"))
    rid = a.session.call("com.test.slow", [1])
    pump(a, b, until=lambda: any(isinstance(e, ev.InvocationReceived) for e in b.events))
    invocation = b.wait_type(ev.InvocationReceived)
    caplog.set_level(logging.DEBUG, logger="wamp_core._client._session")
    assert a.session.cancel(rid, mode) is True

    if mode == "skip":
        # No INTERRUPT. The caller stops waiting now: the engine ends the call itself, because
        # Crossbar 26 never sends the caller anything for a skip (it marks the call canceled
        # and swallows the callee's answer), as this test also shows.
        failed = a.request(rid)
        assert isinstance(failed.error, wc.ApplicationError)
        assert failed.uri == "wamp.error.canceled"
        assert b.session.yield_result(invocation.request_id, ["late"]) is True
        before = len(a.events)
        for _ in range(15):
            a.step(0.02)
            b.step(0.02)
        assert a.events[before:] == []  # nothing more for the caller, and no violation
    else:
        pump(a, b, until=lambda: any(isinstance(e, ev.InterruptReceived) for e in b.events))
        interrupt = b.wait_type(ev.InterruptReceived)
        assert interrupt.request_id == invocation.request_id
        assert interrupt.mode == mode
        # The engine answered the INTERRUPT itself (kill: ERROR canceled; killnowait: nothing)
        # and closed the invocation: the cancelled handler's answer goes nowhere.
        assert invocation.request_id not in b.session.open_invocations
        assert b.session.yield_result(invocation.request_id, ["too late"]) is False
        pump(a, b, until=lambda: _done(a, rid))
        failed = a.request(rid)
        assert isinstance(failed, ev.RequestFailed)
        assert failed.uri == "wamp.error.canceled"
    # Both sessions are still healthy.
    assert a.session.is_joined and b.session.is_joined
    b.handlers.append(_echo_callee)
    b.request(b.session.register("com.test.after_cancel"))
    assert _call(a, b, "com.test.after_cancel", [7]).result.args == [7]


def test_call_timeout_not_sent_without_dealer_feature(pair: Any) -> None:
    """Crossbar's dealer does not announce call_timeout: the option stays off the wire."""
    a, b = pair
    assert "call_timeout" not in a.session.features.dealer
    b.handlers.append(_echo_callee)
    b.request(b.session.register("com.test.timeout"))
    result = _call(a, b, "com.test.timeout", ["x"], options=wc.CallOptions(timeout=2.5))
    assert isinstance(result, ev.CallSucceeded)
    invocation = b.wait_type(ev.InvocationReceived)
    assert invocation.details.timeout is None


def test_progressive_call_invocations_refused_without_feature(pair: Any) -> None:
    a, _ = pair
    with pytest.raises(wc.LocalProtocolError) as info:
        a.session.call("com.test.stream", progress=True)
    assert info.value.reason == "wamp.error.feature_not_supported"
    assert a.session.pending_requests == {}


def test_caller_and_publisher_identification(pair: Any) -> None:
    a, b = pair
    b.handlers.append(_echo_callee)
    b.request(b.session.register("com.test.whoami"))
    _call(a, b, "com.test.whoami")
    invocation = b.wait_type(ev.InvocationReceived)
    assert invocation.details.caller == a.session.session_id
    assert invocation.details.caller_authrole == "anonymous"

    b.request(b.session.subscribe("com.test.ident"))
    a.session.publish("com.test.ident", ["hi"])
    pump(a, b, until=lambda: any(isinstance(e, ev.EventDelivered) for e in b.events))
    event = b.wait_type(ev.EventDelivered)
    assert event.details.publisher == a.session.session_id


@pytest.mark.parametrize(
    ("match", "pattern", "topic"),
    [
        ("prefix", "com.test.pfx", "com.test.pfx.deep.topic"),
        ("wildcard", "com.test..w", "com.test.x.w"),
    ],
)
def test_pattern_based_subscription_and_registration(
    pair: Any, match: str, pattern: str, topic: str
) -> None:
    a, b = pair
    sub = b.request(b.session.subscribe(pattern, wc.SubscribeOptions(match=match)))  # type: ignore[arg-type]
    assert isinstance(sub, ev.Subscribed)
    a.session.publish(topic, [1])
    pump(a, b, until=lambda: any(isinstance(e, ev.EventDelivered) for e in b.events))
    assert b.wait_type(ev.EventDelivered).details.topic == topic

    b.handlers.append(_echo_callee)
    reg = b.request(b.session.register(pattern, wc.RegisterOptions(match=match)))  # type: ignore[arg-type]
    assert isinstance(reg, ev.Registered)
    assert isinstance(_call(a, b, topic, [2]), ev.CallSucceeded)
    assert b.wait_type(ev.InvocationReceived).details.procedure == topic


def test_shared_registration_roundrobin(crossbar: CrossbarRouter) -> None:
    with (
        BlockingClient(crossbar.ws_url) as caller,
        BlockingClient(crossbar.rs_url) as c1,
        BlockingClient(crossbar.rs_url) as c2,
    ):
        for client in (caller, c1, c2):
            assert isinstance(client.join(), ev.Joined)

        def answer_with(name: str) -> Callable[[BlockingClient, Any], None]:
            def handler(cl: BlockingClient, e: Any) -> None:
                if isinstance(e, ev.InvocationReceived):
                    cl.session.yield_result(e.request_id, [name])

            return handler

        for name, callee in (("one", c1), ("two", c2)):
            callee.handlers.append(answer_with(name))
            reg = callee.request(
                callee.session.register("com.test.shared", wc.RegisterOptions(invoke="roundrobin"))
            )
            assert isinstance(reg, ev.Registered)
        answers = []
        for _ in range(4):
            rid = caller.session.call("com.test.shared")
            pump(caller, c1, c2, until=functools.partial(_done, caller, rid))
            answers.append(caller.request(rid).result.value)
        assert sorted(answers) == ["one", "one", "two", "two"]
        assert answers[0] != answers[1]


def test_publisher_exclusion_blacklisting_and_acknowledgement(crossbar: CrossbarRouter) -> None:
    with (
        BlockingClient(crossbar.ws_url) as pub,
        BlockingClient(crossbar.rs_url) as s1,
        BlockingClient(crossbar.rs_url) as s2,
    ):
        for client in (pub, s1, s2):
            assert isinstance(client.join(), ev.Joined)
        for client in (pub, s1, s2):
            assert isinstance(
                client.request(client.session.subscribe("com.test.bw")), ev.Subscribed
            )
        s2_id = s2.session.session_id
        # Default: exclude_me; blacklist s2; acknowledged.
        rid = pub.session.publish(
            "com.test.bw", ["first"], options=wc.PublishOptions(acknowledge=True, exclude=s2_id)
        )
        published = pub.request(rid)
        assert isinstance(published, ev.Published)
        assert published.publication_id > 0
        # exclude_me=False: the publisher gets its own event too.
        pub.session.publish("com.test.bw", ["second"], options=wc.PublishOptions(exclude_me=False))

        def seen(client: BlockingClient) -> list[Any]:
            return [e.args[0] for e in client.events if isinstance(e, ev.EventDelivered)]

        pump(pub, s1, s2, until=lambda: len(seen(s1)) == 2 and len(seen(pub)) == 1)
        pump(pub, s1, s2, until=lambda: len(seen(s2)) >= 1)
        assert seen(s1) == ["first", "second"]
        assert seen(pub) == ["second"]
        assert seen(s2) == ["second"]


def test_router_errors_become_request_failures(pair: Any) -> None:
    a, b = pair
    failed = a.request(a.session.call("com.test.nobody_registered_this"))
    assert isinstance(failed, ev.RequestFailed)
    assert failed.uri == "wamp.error.no_such_procedure"

    b.request(b.session.register("com.test.once"))
    failed = a.request(a.session.register("com.test.once"))
    assert isinstance(failed, ev.RequestFailed)
    assert failed.kind == "register"
    assert failed.uri == "wamp.error.procedure_already_exists"

    def erring(client: BlockingClient, event: Any) -> None:
        if isinstance(event, ev.InvocationReceived):
            client.session.yield_error(event.request_id, "com.test.error.bad", ["why"], {"code": 7})

    b.handlers.append(erring)
    b.request(b.session.register("com.test.raises"))
    failed = _call(a, b, "com.test.raises")
    assert isinstance(failed, ev.RequestFailed)
    assert failed.uri == "com.test.error.bad"
    assert isinstance(failed.error, wc.ApplicationError)
    assert failed.error.args == ("why",)
    assert failed.error.kwargs == {"code": 7}


def test_unsubscribe_unregister_and_late_event_tolerated(pair: Any) -> None:
    a, b = pair
    sub = b.request(b.session.subscribe("com.test.unsub"))
    again = b.request(b.session.subscribe("com.test.unsub"))
    assert again.subscription_id == sub.subscription_id  # the router reuses the subscription
    assert b.session.unsubscribe(sub.subscription_id) is None  # one local user left: nothing sent
    rid = b.session.unsubscribe(sub.subscription_id)
    assert rid is not None
    a.session.publish("com.test.unsub", ["maybe late"])
    unsubscribed = b.request(rid)
    assert isinstance(unsubscribed, ev.Unsubscribed)
    pump(a, b, until=lambda: True)
    assert b.session.state is wc.SessionState.ESTABLISHED

    reg = b.request(b.session.register("com.test.unreg"))
    unregistered = b.request(b.session.unregister(reg.registration_id))
    assert isinstance(unregistered, ev.Unregistered)
    failed = a.request(a.session.call("com.test.unreg"))
    assert failed.uri == "wamp.error.no_such_procedure"


def test_revocations_by_the_router(pair: Any) -> None:
    """The router takes away our subscription/registration: UNSUBSCRIBED/UNREGISTERED with 0.

    Subscription: the meta procedure ``wamp.subscription.remove_subscriber``. Registration: another
    session registers with ``force_reregister`` (Crossbar 26's ``wamp.registration.remove_callee``
    fails inside the router with an AttributeError, so it cannot be used).
    """
    a, b = pair
    sub = b.request(b.session.subscribe("com.test.revoke"))
    reg = b.request(b.session.register("com.test.revoke_proc"))
    b_id = b.session.session_id
    removed = _call(a, b, "wamp.subscription.remove_subscriber", [sub.subscription_id, b_id])
    assert isinstance(removed, ev.CallSucceeded), removed
    pump(a, b, until=lambda: any(isinstance(e, ev.SubscriptionRevoked) for e in b.events))
    assert b.wait_type(ev.SubscriptionRevoked).subscription_id == sub.subscription_id
    assert b.session.subscriptions == {}

    kicked = a.request(
        a.session.register("com.test.revoke_proc", wc.RegisterOptions(force_reregister=True))
    )
    assert isinstance(kicked, ev.Registered), kicked
    pump(a, b, until=lambda: any(isinstance(e, ev.RegistrationRevoked) for e in b.events))
    revoked = b.wait_type(ev.RegistrationRevoked)
    assert revoked.registration_id == reg.registration_id
    assert revoked.reason == "wamp.error.unregistered"
    assert b.session.registrations == {}
    assert b.session.state is wc.SessionState.ESTABLISHED
    # The procedure now reaches the new registrant.
    a.handlers.append(_echo_callee)
    assert _call(b, a, "com.test.revoke_proc", [3]).result.args == [3]


def test_router_goodbye_is_answered(pair: Any) -> None:
    """The router kills b's session: b answers GOODBYE and reports the router's reason."""
    a, b = pair
    pending = b.session.call("com.test.never_answered_because_killed")
    result = _call(a, b, "wamp.session.kill", [b.session.session_id],
                   {"reason": "wamp.close.killed", "message": "bye"})  # fmt: skip
    assert isinstance(result, ev.CallSucceeded), result
    pump(a, b, until=lambda: any(isinstance(e, ev.Left) for e in b.events))
    left = b.wait_type(ev.Left)
    assert left.details.reason == "wamp.close.killed"
    assert not left.details.local
    failures = [e for e in b.events if isinstance(e, ev.RequestFailed) and e.request_id == pending]
    assert len(failures) <= 1
    assert b.session.state is wc.SessionState.CLOSED
