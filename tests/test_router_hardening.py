"""The router engine against clients that send what it must not trust: malformed HELLO roles,
payloads a peer's transport cannot take, an anonymous client naming itself, absurd or
repeated call timeouts, patterns over the router's own ``wamp.*`` URIs, a lone surrogate as a
secret, forged meta events. Engine level (scripted messages); the served side of a malformed
HELLO is in ``test_router_anyio.py``."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest

import wamp_core as wc
from test_router_engine import CLIENT_ROLES, Client, joined, register, subscribe
from wamp_core import messages as m
from wamp_core._router._engine import MAX_CALL_TIMEOUT, _feature
from wamp_core.events import MessageReceived

JSON = wc.get_serializer("json")


@pytest.fixture
def router() -> wc.Router:
    return wc.Router(["realm1"], rng=random.Random(7))


# ---------------------------------------------------------------------------------------------
# HELLO roles


@pytest.mark.parametrize(
    "roles",
    [
        {"callee": {"features": 1}},
        {"callee": 1},
        {"callee": {"features": ["call_canceling"]}},
    ],
)
def test_malformed_roles_are_refused_at_hello(router: wc.Router, roles: dict[str, Any]) -> None:
    client = Client(router)
    (abort,) = client.send(m.Hello(realm="realm1", details={"roles": roles}))
    assert isinstance(abort, m.Abort) and abort.reason == "wamp.error.protocol_violation"
    assert "HELLO.Details.roles" in abort.details["message"]
    assert client.closed and not router.sessions


def test_a_feature_that_is_not_a_boolean_is_not_refused_but_not_announced(
    router: wc.Router,
) -> None:
    client = Client(router)
    roles = {"caller": {}, "callee": {"features": {"call_canceling": "yes"}}}
    (welcome,) = client.send(m.Hello(realm="realm1", details={"roles": roles}))
    assert isinstance(welcome, m.Welcome)
    (session,) = router.sessions.values()
    assert _feature(session, "callee", "call_canceling") is False


class _Roles:
    def __init__(self, roles: Any) -> None:
        self.roles = roles


@pytest.mark.parametrize(
    "roles",
    [{"callee": 1}, {"callee": {"features": 1}}, {"callee": {"features": {"call_canceling": 1}}}],
)
def test_a_feature_reads_as_announced_only_when_true(roles: Any) -> None:
    assert _feature(_Roles(roles), "callee", "call_canceling") is False  # type: ignore[arg-type]
    announced = _Roles({"callee": {"features": {"call_canceling": True}}})
    assert _feature(announced, "callee", "call_canceling") is True  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# What a peer's transport cannot take


class Peer:
    """A client on a :class:`wamp_core.RouterConnection` (RawSocket, JSON) that takes at most
    ``max_size`` bytes per message; it sends lists as JSON and reads decoded messages."""

    def __init__(self, router: wc.Router, max_size: int = 1 << 24) -> None:
        self.framer = wc.RawSocket(wc.Role.CLIENT, serializer="json", max_receive_size=max_size)
        self.conn = wc.RouterConnection(router, wc.RawSocket(wc.Role.SERVER, serializers="json"))
        self.framer.initiate()
        self.conn.receive_data(self.framer.data_to_send())
        self.framer.receive_data(self.conn.data_to_send())

    def send(self, message: list[Any]) -> list[Any]:
        self.framer.send_message(json.dumps(message).encode())  # (a lone surrogate escaped)
        self.conn.receive_data(self.framer.data_to_send())
        return self.take()

    def take(self) -> list[Any]:
        events = self.framer.receive_data(self.conn.data_to_send())
        return [JSON.decode(e.data) for e in events if isinstance(e, MessageReceived)]


def _call_pair(router: wc.Router, *, caller_max: int = 1 << 24, callee_max: int = 1 << 24,
               callee_features: dict[str, bool] | None = None) -> tuple[Peer, Peer]:  # fmt: skip
    """A caller and a callee that registered ``com.p``."""
    callee, caller = Peer(router, callee_max), Peer(router, caller_max)
    roles = {"callee": {"features": callee_features or {}}}
    (welcome,) = callee.send([1, "realm1", {"roles": roles}])
    assert isinstance(welcome, m.Welcome)
    (welcome,) = caller.send([1, "realm1", {"roles": {"caller": {}}}])
    assert isinstance(welcome, m.Welcome)
    (registered,) = callee.send([64, 1, {}, "com.p"])
    assert isinstance(registered, m.Registered)
    return caller, callee


def _no_calls(router: wc.Router) -> bool:
    realm = router.realms["realm1"]
    return not realm.calls and not realm.invocations and router.next_deadline() is None


@pytest.mark.parametrize(
    ("argument", "uri"),
    [("x" * 4000, "wamp.error.payload_size_exceeded"), ("\ud800", "wamp.error.invalid_argument")],
)
def test_an_invocation_the_callee_cannot_take_fails_the_call(
    router: wc.Router, argument: str, uri: str
) -> None:
    """Too large for the callee's RawSocket limit (1 KiB here), or not encodable (a lone
    surrogate has no UTF-8): the caller gets ERROR at once instead of waiting for ever."""
    caller, callee = _call_pair(router, callee_max=1024)
    (error,) = caller.send([48, 1, {"timeout": 5000}, "com.p", [argument]])
    assert isinstance(error, m.Error) and (error.request_id, error.error) == (1, uri)
    assert callee.take() == [] and _no_calls(router)
    (error,) = caller.send([48, 2, {}, "com.p", [argument]])  # (and again)
    assert isinstance(error, m.Error) and error.request_id == 2
    (result,) = caller.send([48, 3, {}, "wamp.session.count"])  # the session goes on
    assert isinstance(result, m.Result) and result.args == [2]


def test_an_event_a_subscriber_cannot_take_is_logged_and_the_others_get_it(
    router: wc.Router, caplog: pytest.LogCaptureFixture
) -> None:
    """(A review.) The EVENT too large for one subscriber's RawSocket limit is lost for it
    alone (the publisher has no answer to get), and the router says so in its log."""
    small, large, publisher = Peer(router, 1024), Peer(router), Peer(router)
    for peer in (small, large, publisher):
        (welcome,) = peer.send([1, "realm1", {"roles": {"subscriber": {}, "publisher": {}}}])
        assert isinstance(welcome, m.Welcome)
    for peer in (small, large):
        (subscribed,) = peer.send([32, 1, {}, "com.t"])
        assert isinstance(subscribed, m.Subscribed)
    with caplog.at_level(logging.INFO, logger="wamp_core"):
        (published,) = publisher.send([16, 1, {"acknowledge": True}, "com.t", ["x" * 4000]])
    assert isinstance(published, m.Published)
    assert small.take() == []
    (event,) = large.take()
    assert isinstance(event, m.Event) and event.args == ["x" * 4000]
    assert "EVENT not sent to" in caplog.text and "payload_size_exceeded" in caplog.text


def test_a_welcome_the_client_cannot_take_aborts_the_session(router: wc.Router) -> None:
    """A client whose RawSocket limit (512 bytes, the least it may announce) is below the
    WELCOME: ABORT at once (it fits) instead of a wait for the handshake timeout."""
    client = Peer(router, max_size=512)
    (abort,) = client.send([1, "realm1", {"roles": {"caller": {}}}])
    assert isinstance(abort, m.Abort) and abort.reason == "wamp.error.payload_size_exceeded"
    assert client.conn.should_close and not router.sessions


def test_a_result_or_error_the_caller_cannot_take_is_replaced_by_an_error(
    router: wc.Router,
) -> None:
    caller, callee = _call_pair(router, caller_max=1024)
    big = "x" * 4000
    caller.send([48, 1, {}, "com.p"])
    (invocation,) = callee.take()
    assert callee.send([70, invocation.request_id, {}, [big]]) == []
    (error,) = caller.take()
    assert isinstance(error, m.Error) and error.error == "wamp.error.payload_size_exceeded"
    caller.send([48, 2, {}, "com.p"])
    (invocation,) = callee.take()
    callee.send([8, 68, invocation.request_id, {}, "com.failed", [big]])
    (error,) = caller.take()
    assert isinstance(error, m.Error) and error.error == "wamp.error.payload_size_exceeded"
    assert error.request_id == 2 and _no_calls(router)


def test_a_progressive_result_the_caller_cannot_take_ends_the_call(router: wc.Router) -> None:
    features = {"progressive_call_results": True, "call_canceling": True}
    caller, callee = _call_pair(router, caller_max=1024, callee_features=features)
    caller.send([48, 1, {"receive_progress": True}, "com.p"])
    (invocation,) = callee.take()
    rid = invocation.request_id
    # the callee has the call: it is told to stop
    (interrupt,) = callee.send([70, rid, {"progress": True}, ["x" * 4000]])
    (error,) = caller.take()
    assert isinstance(error, m.Error) and error.error == "wamp.error.payload_size_exceeded"
    assert isinstance(interrupt, m.Interrupt) and interrupt.request_id == rid
    assert _no_calls(router)
    callee.send([70, rid, {}, ["late"]])  # its last word is dropped
    assert caller.take() == []


# ---------------------------------------------------------------------------------------------
# Anonymous authid


def test_an_anonymous_session_cannot_take_a_principals_authid() -> None:
    router = wc.Router(["realm1"], principals=[wc.Principal("joe", ticket="secret")],
                       permissions={"anonymous": [wc.Permission("com.")]},
                       rng=random.Random(7))  # fmt: skip
    impostor, publisher = Client(router), Client(router)
    (welcome,) = impostor.send(m.Hello(realm="realm1", details={
        "roles": CLIENT_ROLES, "authid": "joe", "authmethods": ["anonymous"]}))  # fmt: skip
    assert isinstance(welcome, m.Welcome)
    assert welcome.details["authid"] == f"anonymous-{welcome.session_id}"
    assert welcome.details["authrole"] == "anonymous"
    publisher.join()
    subscribe(impostor, "com.secret")
    publisher.send(m.Publish(request_id=1, topic="com.secret",
                             options={"eligible_authid": ["joe"]}))  # fmt: skip
    assert impostor.take() == []


# ---------------------------------------------------------------------------------------------
# Call timeouts


def test_a_skip_canceled_call_is_not_answered_again_at_its_deadline(router: wc.Router) -> None:
    caller, callee = joined(router, 2)
    register(callee, "com.p")
    router.tick(0.0)
    caller.send(m.Call(request_id=1, procedure="com.p", options={"timeout": 1000}))
    (invocation,) = callee.take()
    (error,) = caller.send(m.Cancel(request_id=1, options={"mode": "skip"}))
    assert isinstance(error, m.Error) and error.error == "wamp.error.canceled"
    router.tick(5.0)
    assert caller.take() == []  # answered once
    (interrupt,) = callee.take()  # the dealer gives up on it at its deadline
    assert isinstance(interrupt, m.Interrupt) and interrupt.request_id == invocation.request_id
    assert _no_calls(router)


def test_deadlines_of_ended_calls_do_not_pile_up(router: wc.Router) -> None:
    caller, callee = joined(router, 2)
    register(callee, "com.p")
    router.tick(0.0)
    for label in range(1, 11):  # ten calls left open, with deadlines
        caller.send(m.Call(request_id=label, procedure="com.p", options={"timeout": 10_000}))
    open_calls = callee.take()
    for label in range(11, 2011):
        caller.send(m.Call(request_id=label, procedure="com.p",
                           options={"timeout": MAX_CALL_TIMEOUT}))  # fmt: skip
        (invocation,) = callee.take()
        callee.send(m.Yield(request_id=invocation.request_id))
        (result,) = caller.take()
        assert isinstance(result, m.Result)
        assert len(router._deadlines) <= 64
    router.tick(11.0)  # the ten open calls still time out
    errors = caller.take()
    assert sorted(e.request_id for e in errors) == list(range(1, 11))
    assert {e.error for e in errors} == {"wamp.error.timeout"}
    assert len(callee.take()) == len(open_calls) == 10  # INTERRUPTs
    assert router.next_deadline() is None and not router._deadlines


def test_an_absurd_timeout_is_no_deadline(router: wc.Router) -> None:
    caller, callee = joined(router, 2)
    register(callee, "com.p")
    (call,) = JSON.decode_all(b'[48, 1, {"timeout": 1' + b"0" * 400 + b'}, "com.p"]')
    assert caller.send(call, raw=True) == []
    assert isinstance(callee.take()[0], m.Invocation)
    assert router.next_deadline() is None
    call = m.Call(request_id=2, procedure="com.p", options={"timeout": MAX_CALL_TIMEOUT})
    assert caller.send(call, raw=True) == []
    assert router.next_deadline() == MAX_CALL_TIMEOUT / 1000


# ---------------------------------------------------------------------------------------------
# wamp.* belongs to the router


@pytest.mark.parametrize(("pattern", "match"), [("..such", "wildcard"),
                                                ("wamp", "prefix"), ("w", "prefix")])  # fmt: skip
def test_a_pattern_registration_never_serves_a_wamp_procedure(
    router: wc.Router, pattern: str, match: str
) -> None:
    evil, victim = joined(router, 2)
    reg = register(evil, pattern, match=match)
    for label, procedure in enumerate(("wamp.registration.get", "wamp.no.such"), 1):
        (answer,) = victim.send(m.Call(request_id=label, procedure=procedure, args=[reg]))
        assert isinstance(answer, m.Result if label == 1 else m.Error), answer
    (found,) = victim.send(m.Call(request_id=3, procedure="wamp.registration.match",
                                  args=["wamp.no.such"]))  # fmt: skip
    assert isinstance(found, m.Result) and found.args == [None]
    assert evil.take() == []


def test_registration_and_subscription_get_and_list(router: wc.Router) -> None:
    (client,) = joined(router, 1)
    sub = subscribe(client, "com.t")
    psub = subscribe(client, "com", "prefix")
    reg = register(client, "com.p")
    wreg = register(client, "com..p", match="wildcard", invoke="roundrobin")

    def call(procedure: str, *args: Any) -> Any:
        (answer,) = client.send(m.Call(request_id=client.rid(), procedure=procedure,
                                       args=list(args)))  # fmt: skip
        return answer.args[0] if isinstance(answer, m.Result) and answer.args else answer.error

    assert call("wamp.registration.get", wreg) == {
        "id": wreg,
        "uri": "com..p",
        "match": "wildcard",
        "invoke": "roundrobin",
    }
    assert call("wamp.registration.list") == {"exact": [reg], "prefix": [], "wildcard": [wreg]}
    assert call("wamp.subscription.get", sub) == {"id": sub, "uri": "com.t", "match": "exact"}
    assert call("wamp.subscription.list") == {"exact": [sub], "prefix": [psub], "wildcard": []}
    assert call("wamp.registration.get", 999) == "wamp.error.no_such_registration"
    assert call("wamp.subscription.get", "x") == "wamp.error.invalid_argument"


def test_clients_may_not_publish_to_wamp_topics(router: wc.Router) -> None:
    watcher, forger, victim = joined(router, 3)
    subscribe(watcher, "wamp.session.on_leave")
    forged = [victim.session.session_id, "x", "anonymous"]
    (error,) = forger.send(m.Publish(request_id=1, topic="wamp.session.on_leave", args=forged,
                                     options={"acknowledge": True}))  # fmt: skip
    assert isinstance(error, m.Error) and error.error == "wamp.error.invalid_uri"
    assert forger.send(m.Publish(request_id=2, topic="wamp.session.on_leave", args=forged)) == []
    assert watcher.take() == []


# ---------------------------------------------------------------------------------------------
# Secrets that are not text


@pytest.mark.parametrize("method", ["ticket", "wampcra"])
def test_a_lone_surrogate_signature_fails_authentication(method: str) -> None:
    principal = wc.Principal("joe", ticket="secret", secret="secret")
    router = wc.Router(["realm1"], principals=[principal], rng=random.Random(7))
    client = Client(router)
    (challenge,) = client.send(m.Hello(realm="realm1", details={
        "roles": CLIENT_ROLES, "authid": "joe", "authmethods": [method]}))  # fmt: skip
    assert isinstance(challenge, m.Challenge)
    (authenticate,) = JSON.decode_all(b'[5, "\\ud800", {}]')
    (abort,) = client.send(authenticate)
    assert isinstance(abort, m.Abort) and abort.reason == "wamp.error.authentication_failed"
    assert client.closed and not router.sessions
