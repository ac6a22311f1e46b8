"""Edges of the router engine that no test held (a mutation review of the embedded router: each
test fails when the one line it guards is changed): shared registrations, round robin, the
authrole lists, defaults of CALL and CANCEL, answers after a cancel, disclosure, the URI
length limit, an exact permission beside a wildcard, and the meta API's kill and protected
subscriptions."""

from __future__ import annotations

import random
from typing import Any

import wamp_core as wc
from test_router_engine import Client, joined, register, subscribe
from wamp_core import messages as m
from wamp_core._router._engine import MAX_URI_LENGTH


def _router(**options: Any) -> wc.Router:
    return wc.Router(["realm1"], rng=random.Random(7), **options)


def _login(router: wc.Router, authid: str, roles: dict[str, object]) -> Client:
    client = Client(router)
    hello = m.Hello(realm="realm1", details={"roles": roles, "authmethods": ["ticket"],
                                             "authid": authid})  # fmt: skip
    (challenge,) = client.send(hello)
    assert isinstance(challenge, m.Challenge), challenge
    (welcome,) = client.send(m.Authenticate(signature="s", extra={}))
    assert isinstance(welcome, m.Welcome), welcome
    client.take()
    return client


# ---------------------------------------------------------------------------------------------
# Dealer


def test_a_callee_cannot_join_its_own_shared_registration_twice() -> None:
    (callee,) = joined(_router(), 1)
    register(callee, "com.rr", invoke="roundrobin")
    again = m.Register(request_id=callee.rid(), procedure="com.rr",
                       options={"invoke": "roundrobin"})  # fmt: skip
    (error,) = callee.send(again)
    assert isinstance(error, m.Error) and error.error == "wamp.error.procedure_already_exists"


def test_round_robin_goes_on_when_the_next_callee_leaves() -> None:
    caller, a, b, c = joined(_router(), 4)
    for callee in (a, b, c):
        register(callee, "com.rr", invoke="roundrobin")
    caller.send(m.Call(request_id=1, procedure="com.rr"))
    assert len(a.take()) == 1  # a served: b is next
    b.session.end()
    caller.send(m.Call(request_id=2, procedure="com.rr"))
    assert (len(a.take()), len(c.take())) == (0, 1)


def test_a_call_timeout_of_zero_means_none() -> None:
    router = _router()
    caller, callee = joined(router, 2)
    register(callee, "com.slow")
    router.tick(100.0)
    caller.send(m.Call(request_id=1, procedure="com.slow", options={"timeout": 0}))
    (invocation,) = callee.take()
    router.tick(1000.0)
    assert caller.take() == [] and callee.take() == []  # no timeout ERROR, no INTERRUPT
    callee.send(m.Yield(request_id=invocation.request_id))
    assert [type(x) for x in caller.take()] == [m.Result]


def test_a_cancel_without_a_mode_is_killnowait() -> None:
    caller, callee = joined(_router(), 2)
    register(callee, "com.slow")
    caller.send(m.Call(request_id=1, procedure="com.slow"))
    callee.take()
    (error,) = caller.send(m.Cancel(request_id=1, options={}))
    assert isinstance(error, m.Error) and error.error == "wamp.error.canceled"
    (interrupt,) = callee.take()
    assert isinstance(interrupt, m.Interrupt) and interrupt.options["mode"] == "killnowait"


def test_a_callees_error_after_a_skip_cancel_is_dropped() -> None:
    caller, callee = joined(_router(), 2)
    register(callee, "com.slow")
    caller.send(m.Call(request_id=1, procedure="com.slow"))
    (invocation,) = callee.take()
    (error,) = caller.send(m.Cancel(request_id=1, options={"mode": "skip"}))
    assert isinstance(error, m.Error) and error.error == "wamp.error.canceled"
    callee.send(m.Error(request_type=m.Invocation.MESSAGE_TYPE,
                        request_id=invocation.request_id, error="com.app.failed"))  # fmt: skip
    assert caller.take() == []  # one answer per call


def test_no_interrupt_for_a_callee_that_did_not_announce_call_canceling() -> None:
    router = _router()
    (caller,) = joined(router, 1)
    callee = Client(router)
    callee.join(roles={"callee": {"features": {}}})
    register(callee, "com.slow")
    caller.send(m.Call(request_id=1, procedure="com.slow"))
    callee.take()
    (error,) = caller.send(m.Cancel(request_id=1, options={"mode": "killnowait"}))
    assert isinstance(error, m.Error) and error.error == "wamp.error.canceled"
    assert callee.take() == []


# ---------------------------------------------------------------------------------------------
# Broker


def _publisher_and_roles_x_y() -> tuple[Client, Client, Client]:
    router = _router(
        permissions={role: [wc.Permission("")] for role in ("pub", "x", "y")},
        principals=[wc.Principal(authid, role=role, ticket="s")
                    for authid, role in (("p", "pub"), ("ax", "x"), ("ay", "y"))],
    )  # fmt: skip
    roles: dict[str, object] = {"publisher": {}, "subscriber": {}}
    publisher, x, y = (_login(router, authid, roles) for authid in ("p", "ax", "ay"))
    subscribe(x, "t")
    subscribe(y, "t")
    return publisher, x, y


def test_exclude_authrole_leaves_that_role_out() -> None:
    publisher, x, y = _publisher_and_roles_x_y()
    publisher.send(m.Publish(request_id=1, topic="t", options={"exclude_authrole": ["x"]}))
    assert (len(x.take()), len(y.take())) == (0, 1)


def test_eligible_authrole_reaches_that_role_alone() -> None:
    publisher, x, y = _publisher_and_roles_x_y()
    publisher.send(m.Publish(request_id=1, topic="t", options={"eligible_authrole": ["x"]}))
    assert (len(x.take()), len(y.take())) == (1, 0)


def test_a_disclosing_router_discloses_publishers() -> None:
    publisher, subscriber = joined(_router(disclose=True), 2)
    subscribe(subscriber, "t")
    publisher.send(m.Publish(request_id=1, topic="t"))
    (event,) = subscriber.take()
    assert isinstance(event, m.Event)
    assert event.details["publisher"] == publisher.session.session_id
    assert {"publisher_authid", "publisher_authrole"} <= event.details.keys()


def test_the_uri_length_limit_is_exact() -> None:
    (client,) = joined(_router(), 1)
    longest = "com." + "a" * (MAX_URI_LENGTH - 4)
    assert len(longest) == MAX_URI_LENGTH
    subscribe(client, longest)
    register(client, longest)
    for request in (m.Subscribe(request_id=client.rid(), topic=longest + "a"),
                    m.Register(request_id=client.rid(), procedure=longest + "a")):  # fmt: skip
        (error,) = client.send(request)
        assert isinstance(error, m.Error) and error.error == "wamp.error.invalid_uri", error


# ---------------------------------------------------------------------------------------------
# Authorization and the meta API


def test_an_exact_rule_of_another_length_does_not_refuse_a_wildcard() -> None:
    """``com..x`` can never match ``com.a``: the exact rule there (call only) has no say."""
    router = _router(
        permissions={"r": [wc.Permission("com."),
                           wc.Permission("com.a", actions=("call",), match="exact")]},
        principals=[wc.Principal("u", role="r", ticket="s")],
    )  # fmt: skip
    client = _login(router, "u", {"subscriber": {}})
    request = m.Subscribe(request_id=client.rid(), topic="com..x", options={"match": "wildcard"})
    (reply,) = client.send(request)
    assert isinstance(reply, m.Subscribed), reply


def test_kill_by_authrole_spares_the_caller() -> None:
    a, b = joined(_router(), 2)
    got = a.send(m.Call(request_id=1, procedure="wamp.session.kill_by_authrole",
                        args=["anonymous"]))  # fmt: skip
    assert [type(x) for x in got] == [m.Result], got
    assert got[0].args == [[b.session.session_id]]
    assert not a.closed and a.session.realm is not None
    assert b.closed or any(isinstance(x, m.Goodbye) for x in b.take())


def test_kill_by_authrole_stays_in_the_callers_realm() -> None:
    router = wc.Router(["realm1", "realm2"], rng=random.Random(7))
    caller, other = Client(router), Client(router)
    caller.join("realm1")
    other.join("realm2")
    (result,) = caller.send(m.Call(request_id=1, procedure="wamp.session.kill_by_authrole",
                                   args=["anonymous"]))  # fmt: skip
    assert isinstance(result, m.Result) and result.args == [[]], result
    assert other.take() == [] and other.session.realm is not None


def test_another_session_cannot_read_a_meta_topic_subscription() -> None:
    a, b = joined(_router(), 2)
    sid = subscribe(a, "wamp.session.on_join")
    for procedure in ("wamp.subscription.get", "wamp.subscription.list_subscribers"):
        (error,) = b.send(m.Call(request_id=b.rid(), procedure=procedure, args=[sid]))
        assert isinstance(error, m.Error) and error.error == "wamp.error.not_authorized", error
