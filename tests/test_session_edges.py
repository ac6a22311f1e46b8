"""Edge cases of the session engine: misbehaving authenticators, races after an abort,
transparent payloads on results and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import wamp_core.messages as m
from session_helpers import FULL_BROKER, FULL_DEALER, REALM, joined, welcome, wire
from wamp_core import (
    ApplicationError,
    CallOptions,
    ClientSession,
    LocalProtocolError,
    RegisterOptions,
    SessionClosed,
    SessionState,
    events as ev,
)
from wamp_core.auth import Authenticator


class _Broken(Authenticator):
    method = "ticket"

    def __init__(self) -> None:
        super().__init__(authid="joe")

    def on_challenge(self, extra: dict[str, Any], channel_ids: Any) -> tuple[str, dict[str, Any]]:
        raise KeyError("s3cr3t-value")


def test_authenticator_bug_aborts_without_leaking() -> None:
    session = ClientSession()
    session.join(REALM, [_Broken()])
    session.messages_to_send()
    events = session.receive_message(m.Challenge(method="ticket", extra={}))
    assert [type(e) for e in events] == [ev.Aborted]
    aborted = events[0]
    assert isinstance(aborted, ev.Aborted)
    assert aborted.details.local
    assert aborted.details.reason == "wamp.error.cannot_authenticate"
    assert "s3cr3t" not in repr(aborted)
    sent = wire(session)
    assert sent[0][0] == 3 and sent[0][2] == "wamp.error.cannot_authenticate"
    assert "s3cr3t" not in repr(sent)


def test_messages_in_flight_after_our_abort_are_ignored() -> None:
    session = ClientSession()
    session.join(REALM, [_Broken()])
    session.messages_to_send()
    session.receive_message(m.Challenge(method="ticket", extra={}))
    session.messages_to_send()
    # The router had already sent a second challenge (or anything) before seeing our ABORT.
    assert session.receive_message(m.Challenge(method="ticket", extra={})) == []
    assert session.messages_to_send() == []
    assert session.state is SessionState.CLOSED


def test_router_abort_discards_queued_messages() -> None:
    session = joined()
    session.call("com.example.proc")  # queued, not drained by a driver yet
    events = session.receive_message(m.Abort(reason="wamp.close.system_shutdown"))
    assert session.messages_to_send() == []
    assert any(isinstance(e, ev.RequestFailed) for e in events)
    assert isinstance(events[-1], ev.Aborted)


def test_session_id_only_while_joined() -> None:
    session = ClientSession()
    session.join(REALM)
    assert session.session_id is None
    session.receive_message(welcome())
    assert session.session_id is not None
    session.receive_message(m.Goodbye(reason="wamp.close.killed"))
    assert session.session_id is None
    assert session.details is not None  # what the last session was stays readable


def test_transparent_payloads_reach_results_and_errors() -> None:
    session = joined()
    first = session.call("com.example.a")
    second = session.call("com.example.b")
    session.messages_to_send()
    ok = session.receive_message(m.Result(request_id=first, payload=b"\x01sealed"))
    assert isinstance(ok[0], ev.CallSucceeded)
    assert ok[0].result.payload == b"\x01sealed"
    assert ok[0].result.args == []
    bad = session.receive_message(
        m.Error(request_type=48, request_id=second, error="com.example.e", payload=b"\x02")
    )
    assert isinstance(bad[0], ev.RequestFailed)
    assert getattr(bad[0].error, "payload", None) == b"\x02"


def test_router_error_kwargs_with_any_keys() -> None:
    """kwargs come from the router: keys like ``error`` or ``self`` must not break anything."""
    session = joined()
    rid = session.call("com.example.p")
    session.messages_to_send()
    (failed,) = session.receive_message(
        m.Error(
            request_type=48,
            request_id=rid,
            error="com.example.err",
            args=["why"],
            kwargs={"error": "boom", "self": 1},
        )
    )
    assert isinstance(failed, ev.RequestFailed)
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == "com.example.err"
    assert failed.error.args == ("why",)
    assert failed.error.kwargs == {"error": "boom", "self": 1}


def test_refused_commands_do_not_consume_request_ids() -> None:
    session = joined()
    bad_calls: list[Callable[[], object]] = [
        lambda: session.call("com.example.p", "not-a-list"),
        lambda: session.call("com.example.p", kwargs={1: "x"}),  # type: ignore[dict-item]
        lambda: session.publish("com.example.t", {1, 2}),  # type: ignore[arg-type]
        lambda: session.call("bad uri with spaces"),
    ]
    for bad in bad_calls:
        with pytest.raises(LocalProtocolError):
            bad()
    assert session.call("com.example.p") == 1
    assert session.publish("com.example.t") == 2


def test_abort_a_join_in_progress() -> None:
    session = ClientSession()
    session.join(REALM)
    session.messages_to_send()
    session.abort("wamp.close.normal", "changed my mind")
    assert wire(session) == [[3, {"message": "changed my mind"}, "wamp.close.normal"]]
    (aborted,) = session.take_events()
    assert isinstance(aborted, ev.Aborted)
    assert aborted.details.local
    assert session.state is SessionState.CLOSED


def test_abort_an_established_session_fails_pending_requests() -> None:
    session = joined()
    rid = session.call("com.example.p")
    session.messages_to_send()
    session.abort()
    events = session.take_events()
    assert isinstance(events[0], ev.RequestFailed) and events[0].request_id == rid
    assert isinstance(events[-1], ev.Aborted)
    with pytest.raises(SessionClosed):
        session.call("com.example.p")


def test_messages_of_an_aborted_session_do_not_fail_the_next_join() -> None:
    session = joined()
    call = session.call("com.example.p")
    session.subscribe("com.example.t")
    session.abort()
    session.join(REALM)
    session.take_events()
    session.messages_to_send()
    # Sent by the router before it read our ABORT: dropped, the new join goes on.
    assert session.receive_message(m.Result(request_id=call)) == []
    assert session.receive_message(m.Event(subscription_id=7, publication_id=8)) == []
    assert session.receive_message(m.Goodbye(reason="wamp.close.system_shutdown")) == []
    assert wire(session) == []
    events = session.receive_message(welcome())
    assert [type(e) for e in events] == [ev.Joined]
    # The router has answered the new HELLO: from here on a stray message is a violation.
    events = session.receive_message(m.Result(request_id=999))
    assert isinstance(events[-1], ev.Aborted)
    assert events[-1].details.reason == "wamp.error.protocol_violation"


def test_no_join_after_aborting_a_join_on_the_same_transport() -> None:
    session = ClientSession()
    session.join(REALM)
    session.abort()
    # The router may still answer the first HELLO: that WELCOME would pass for the second's.
    with pytest.raises(LocalProtocolError, match="new transport"):
        session.join(REALM)


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e300, 0, -1.0, True])
def test_call_timeout_must_be_finite_and_positive(timeout: Any) -> None:
    with pytest.raises(LocalProtocolError):
        CallOptions(timeout=timeout)


def test_call_timeout_goes_out_in_integer_milliseconds() -> None:
    session = joined(dealer={"call_timeout"})
    session.call("com.example.p", options=CallOptions(timeout=2.5))
    assert wire(session)[0][2] == {"timeout": 2500}


def test_an_abandoned_register_is_undone_when_it_succeeds_late() -> None:
    """The caller gave up waiting: the late REGISTERED sends UNREGISTER at once, emits nothing,
    and an INVOCATION that comes meanwhile is refused here (no handler to route it to)."""
    session = joined()
    rid = session.register("com.example.p")
    session.messages_to_send()
    session.abandon(rid)
    assert session.receive_message(m.Registered(request_id=rid, registration_id=77)) == []
    [unregister] = wire(session)
    assert unregister[0] == m.Unregister.MESSAGE_TYPE and unregister[2] == 77
    assert session.receive_message(m.Invocation(request_id=5, registration_id=77)) == []
    assert wire(session) == [
        [m.Error.MESSAGE_TYPE, m.Invocation.MESSAGE_TYPE, 5, {}, "wamp.error.no_such_registration"]
    ]
    events = session.receive_message(m.Unregistered(request_id=unregister[1]))
    assert [type(e) for e in events] == [ev.Unregistered]  # (ends a request nobody made)
    assert session.registrations == {}


def test_a_register_retried_while_the_abandoned_one_is_unanswered_takes_it_over() -> None:
    """The same procedure and options: no second REGISTER (refused, or on Crossbar answered
    with the first's registration, which the first's undoing then removed); the retry gets
    the first's answer. Other options: a REGISTER of its own."""
    session = joined()
    rid = session.register("com.example.p")
    session.messages_to_send()
    session.abandon(rid)
    assert session.register("com.example.p") == rid
    assert wire(session) == []
    other = session.register("com.example.p", RegisterOptions(invoke="roundrobin"))
    assert other != rid and [msg[0] for msg in wire(session)] == [m.Register.MESSAGE_TYPE]
    events = session.receive_message(m.Registered(request_id=rid, registration_id=77))
    assert events == [ev.Registered(rid, 77, "com.example.p")]
    assert wire(session) == [] and session.registrations == {77: "com.example.p"}


def test_an_abandoned_subscribe_is_undone_when_it_succeeds_late() -> None:
    """The late SUBSCRIBED drops its use again: UNSUBSCRIBE only when nobody else here uses the
    subscription, and no ``Subscribed`` either way."""
    session = joined()
    kept = session.subscribe("com.example.t")
    session.receive_message(m.Subscribed(request_id=kept, subscription_id=9))
    for subscription_id, unsubscribes in ((9, 0), (10, 1)):
        rid = session.subscribe("com.example.t")
        session.messages_to_send()
        session.abandon(rid)
        events = session.receive_message(
            m.Subscribed(request_id=rid, subscription_id=subscription_id)
        )
        assert events == []
        sent = wire(session)
        assert [msg[0] for msg in sent] == [m.Unsubscribe.MESSAGE_TYPE] * unsubscribes
    assert list(session.subscriptions) == [9, 10]  # 10 until UNSUBSCRIBED


def test_an_abandoned_subscribe_answered_before_another_one_leaves_that_one_live() -> None:
    """Two SUBSCRIBEs to one topic in flight, the first abandoned: the router answers both with
    the same subscription. An UNSUBSCRIBE for the first would remove it under the second, so
    none goes out while the second is unanswered, and none after it took the subscription up."""
    session = joined()
    gone = session.subscribe("com.example.t")
    kept = session.subscribe("com.example.t")
    session.messages_to_send()
    session.abandon(gone)
    assert session.receive_message(m.Subscribed(request_id=gone, subscription_id=9)) == []
    assert wire(session) == []
    events = session.receive_message(m.Subscribed(request_id=kept, subscription_id=9))
    assert [type(e) for e in events] == [ev.Subscribed]
    assert wire(session) == []
    published = session.receive_message(m.Event(subscription_id=9, publication_id=1, args=[1]))
    assert [type(e) for e in published] == [ev.EventDelivered]


@pytest.mark.parametrize("answer", ["same", "other", "error"])
def test_an_unsubscribe_waits_for_a_subscribe_to_the_same_topic(answer: str) -> None:
    """The last local use of a subscription goes while a SUBSCRIBE to its topic is unanswered:
    the UNSUBSCRIBE waits for that answer, and goes only if the answer did not take the
    subscription up again (another subscription ID, or an error)."""
    session = joined()
    first = session.subscribe("com.example.t")
    session.receive_message(m.Subscribed(request_id=first, subscription_id=9))
    again = session.subscribe("com.example.t")
    session.messages_to_send()
    assert session.unsubscribe(9) is None
    assert wire(session) == []
    if answer == "error":
        reply: m.Message = m.Error(
            request_type=m.Subscribe.MESSAGE_TYPE,
            request_id=again,
            error="wamp.error.not_authorized",
        )
    else:
        reply = m.Subscribed(request_id=again, subscription_id=9 if answer == "same" else 10)
    session.receive_message(reply)
    sent = wire(session)
    if answer == "same":
        assert sent == []
        assert list(session.subscriptions) == [9]
    else:
        assert [msg[0] for msg in sent] == [m.Unsubscribe.MESSAGE_TYPE]
        assert sent[0][2] == 9
        session.receive_message(m.Unsubscribed(request_id=sent[0][1]))
        assert 9 not in session.subscriptions


def test_abandoning_other_requests_changes_nothing() -> None:
    session = joined()
    rid = session.call("com.example.p")
    session.abandon(rid)
    session.abandon(12345)
    events = session.receive_message(m.Result(request_id=rid, details={}, args=[1]))
    assert [type(e) for e in events] == [ev.CallSucceeded]


@pytest.mark.parametrize(
    "ending",
    [
        m.Goodbye(reason="wamp.close.system_shutdown"),
        m.Abort(reason="wamp.error.not_authorized"),
    ],
)
def test_a_request_after_the_router_ended_the_session_gets_its_reason(ending: m.Message) -> None:
    """The requests pending when the session ended got the router's reason; one made after
    got ``reason=None`` (a review: ``session.close_details.reason`` knew it)."""
    session = joined()
    pending = session.call("com.example.slow")
    session.messages_to_send()
    events = session.receive_message(ending)
    [failed] = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert failed.request_id == pending
    expected = ending.reason  # type: ignore[attr-defined]
    assert isinstance(failed.error, SessionClosed) and failed.error.reason == expected
    with pytest.raises(SessionClosed) as later:
        session.call("com.example.later")
    assert later.value.reason == expected
    assert expected in str(later.value)


# ---------------------------------------------------------------------------------------------
# Answers in unusual orders (a mutation review: each test fails when the one line it guards
# is changed)


def _names(events: list[ev.SessionEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_a_late_error_after_a_cancelled_calls_result_is_dropped() -> None:
    """CANCEL(kill): the callee's RESULT may still come, then the dealer's ERROR canceled."""
    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    rid = session.call("com.p")
    session.cancel(rid, "kill")
    session.messages_to_send()
    session.receive_message(m.Result(request_id=rid, args=[1]))
    late = m.Error(request_type=48, request_id=rid, error="wamp.error.canceled")
    assert session.receive_message(late) == []
    assert session.state is SessionState.ESTABLISHED


def _registered(session: ClientSession, uri: str, registration_id: int) -> None:
    rid = session.register(uri)
    session.receive_message(m.Registered(request_id=rid, registration_id=registration_id))


def test_a_progressive_invocations_chunk_for_another_registration_is_a_violation() -> None:
    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    _registered(session, "com.a", 100)
    _registered(session, "com.b", 200)
    session.messages_to_send()
    first = m.Invocation(request_id=7, registration_id=100, details={"progress": True}, args=[1])
    assert _names(session.receive_message(first)) == ["InvocationReceived"]
    other = m.Invocation(request_id=7, registration_id=200, details={}, args=[2])
    assert "InvocationReceived" not in _names(session.receive_message(other))
    assert session.state is SessionState.FAILED


def test_the_chunks_of_an_invocation_for_an_ended_registration_get_one_error() -> None:
    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    _registered(session, "com.a", 100)
    done = session.unregister(100)
    session.receive_message(m.Unregistered(request_id=done))
    session.messages_to_send()
    for details, arg in (({"progress": True}, 1), ({"progress": True}, 2), ({}, 3)):
        session.receive_message(
            m.Invocation(request_id=7, registration_id=100, details=details, args=[arg])
        )
    (sent,) = session.messages_to_send()
    assert isinstance(sent, m.Error), sent
    assert (sent.request_id, sent.error) == (7, "wamp.error.no_such_registration")


def test_a_progressive_result_for_a_pending_subscribe_is_a_violation() -> None:
    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    rid = session.subscribe("com.t")
    session.messages_to_send()
    events = session.receive_message(m.Result(request_id=rid, details={"progress": True}, args=[1]))
    assert "CallProgress" not in _names(events)
    assert session.state is SessionState.FAILED


def test_a_resubscription_answered_before_the_unsubscribe_stays() -> None:
    """Subscribe, unsubscribe, subscribe again: the broker answers the new SUBSCRIBE (the same
    subscription) before the UNSUBSCRIBE; the subscription stays and its events arrive."""
    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    first = session.subscribe("com.t")
    session.receive_message(m.Subscribed(request_id=first, subscription_id=5))
    leaving = session.unsubscribe(5)
    assert leaving is not None
    again = session.subscribe("com.t")
    session.receive_message(m.Subscribed(request_id=again, subscription_id=5))
    session.receive_message(m.Unsubscribed(request_id=leaving))
    assert session.subscriptions == {5: "com.t"}
    event = m.Event(subscription_id=5, publication_id=9, args=["hello"])
    assert _names(session.receive_message(event)) == ["EventDelivered"]


def test_a_result_for_a_pending_subscribe_is_a_violation_after_many_abandoned_calls() -> None:
    """Abandoned calls' late answers are tolerated (up to RECENT_MAX of them remembered): a
    RESULT naming a pending request of another kind never is."""
    from wamp_core._wire import RECENT_MAX

    session = joined(broker=FULL_BROKER, dealer=FULL_DEALER)
    subscribing = session.subscribe("com.t")
    for _ in range(RECENT_MAX + 2):
        session.cancel(session.call("com.p"), "skip")
    session.messages_to_send()
    session.take_events()
    events = session.receive_message(m.Result(request_id=subscribing, args=[1]))
    assert "RequestFailed" in _names(events)
    assert session.state is SessionState.FAILED
