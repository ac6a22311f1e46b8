"""wamp_core's driver-independent request tracking and invocation answers, with scripted events
(no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

import wamp_core as wc
from session_helpers import joined
from wamp_core import events as ev, messages as m


def _tracker() -> wc.RequestTracker[str]:
    return wc.RequestTracker()


def test_success_events_resolve_their_request_only() -> None:
    tracker = _tracker()
    for rid, kind in enumerate(
        ["call", "publish", "subscribe", "unsubscribe", "register", "unregister"], start=1
    ):
        tracker.add(rid, kind, f"w{rid}")  # type: ignore[arg-type]
    assert len(tracker) == 6
    assert tracker.feed(ev.CallSucceeded(99, wc.CallResult(1))) == []  # not ours: ignored
    assert tracker.feed(ev.CallSucceeded(1, wc.CallResult(7))) == [("w1", wc.Outcome(value=7))]
    assert tracker.feed(ev.Published(2, 1234)) == [("w2", wc.Outcome(value=1234))]
    assert tracker.feed(ev.Subscribed(3, 55, "t")) == [("w3", wc.Outcome(value=55))]
    assert tracker.feed(ev.Unsubscribed(4, 55)) == [("w4", wc.Outcome(value=55))]
    assert tracker.feed(ev.Registered(5, 66, "p")) == [("w5", wc.Outcome(value=66))]
    assert tracker.feed(ev.Unregistered(6, 66)) == [("w6", wc.Outcome(value=66))]
    assert len(tracker) == 0
    # An answer for a request that already ended resolves nothing.
    assert tracker.feed(ev.Published(2, 1234)) == []


def test_call_value_is_the_cores_choice() -> None:
    tracker = _tracker()
    tracker.add(1, "call", "one")
    tracker.add(2, "call", "many")
    tracker.add(3, "call", "none")
    [(_, one)] = tracker.feed(ev.CallSucceeded(1, wc.CallResult("x")))
    assert one.unwrap() == "x"
    many_result = wc.CallResult(1, 2, k=3)
    [(_, many)] = tracker.feed(ev.CallSucceeded(2, many_result))
    assert many.unwrap() is many_result
    [(_, none)] = tracker.feed(ev.CallSucceeded(3, wc.CallResult()))
    assert none.ok and none.unwrap() is None


def test_whole_result_and_get_for_progressive_calls() -> None:
    tracker = _tracker()
    tracker.add(1, "call", "w1", whole_result=True)
    assert tracker.get(1) == "w1"
    assert tracker.get(2) is None
    result = wc.CallResult(5)
    assert tracker.feed(ev.CallSucceeded(1, result)) == [("w1", wc.Outcome(value=result))]
    assert tracker.get(1) is None


def test_request_failed_carries_the_error() -> None:
    tracker = _tracker()
    tracker.add(1, "call", "a")
    tracker.add(2, "subscribe", "b")
    app = wc.ApplicationError("com.x.err", 1, k=2)
    [(waiter, outcome)] = tracker.feed(ev.RequestFailed(1, "call", app))
    assert waiter == "a" and not outcome.ok
    with pytest.raises(wc.ApplicationError) as raised:
        outcome.unwrap()
    assert raised.value is app
    closed = wc.SessionClosed("gone", reason="wamp.close.transport_lost")
    [(_, outcome)] = tracker.feed(ev.RequestFailed(2, "subscribe", closed))
    assert outcome.error is closed


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (ev.Left(wc.CloseDetails("wamp.close.normal")), "wamp.close.normal"),
        (ev.Aborted(wc.CloseDetails("wamp.error.no_such_realm", "no")), "wamp.error.no_such_realm"),
        (ev.Closed(None, "connection closed", False), "wamp.close.transport_lost"),
    ],
)
def test_the_end_of_the_session_fails_what_is_left(event: object, reason: str) -> None:
    tracker = _tracker()
    tracker.add(1, "call", "a")
    tracker.add(2, "register", "b")
    failed = tracker.feed(event)
    assert [w for w, _ in failed] == ["a", "b"]
    for _, outcome in failed:
        assert isinstance(outcome.error, wc.SessionClosed)
        assert outcome.error.reason == reason
    assert len(tracker) == 0
    with pytest.raises(wc.SessionClosed):
        tracker.add(3, "call", "c")
    assert tracker.close() == []  # idempotent; the first error stays
    assert tracker.closed is not None and tracker.closed.reason == reason


def test_close_without_error_and_discard() -> None:
    tracker = _tracker()
    tracker.add(1, "call", "a")
    tracker.add(2, "call", "b")
    with pytest.raises(wc.LocalProtocolError):
        tracker.add(1, "call", "again")
    assert 1 in tracker
    assert tracker.discard(1) == "a"
    assert tracker.discard(1) is None
    assert tracker.feed(ev.CallSucceeded(1, wc.CallResult(1))) == []
    # Events that end no request resolve nothing.
    assert tracker.feed_all([ev.Joined(_details()), ev.PongReceived(b"")]) == []
    [(waiter, outcome)] = tracker.close()
    assert waiter == "b"
    assert isinstance(outcome.error, wc.SessionClosed)
    assert outcome.error.reason == "wamp.close.transport_lost"


def _details() -> wc.SessionDetails:
    return wc.SessionDetails(realm="realm1", session=1)


def test_feed_all_keeps_the_order() -> None:
    tracker = _tracker()
    tracker.add(1, "call", "a")
    tracker.add(2, "call", "b")
    resolved = tracker.feed_all(
        [
            ev.CallSucceeded(2, wc.CallResult(2)),
            ev.EventDelivered(9, [], {}, _event_details()),
            ev.CallSucceeded(1, wc.CallResult(1)),
        ]
    )
    assert resolved == [("b", wc.Outcome(value=2)), ("a", wc.Outcome(value=1))]


def _event_details() -> wc.EventDetails:
    return wc.EventDetails(9, 1)


# --------------------------------------------------------------------------------------------
# Invocation answers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ([], {})),
        (5, ([5], {})),
        ([1, 2], ([[1, 2]], {})),
        ((1, 2), ([(1, 2)], {})),
        (wc.CallResult(1, 2, a=1), ([1, 2], {"a": 1})),
    ],
)
def test_invocation_result(value: Any, expected: tuple[list[Any], dict[str, Any]]) -> None:
    assert wc.invocation_result(value) == expected


def test_invocation_error() -> None:
    app = wc.ApplicationError("com.x.bad", 1, "two", key=3)
    assert wc.invocation_error(app) == ("com.x.bad", [1, "two"], {"key": 3})
    assert wc.invocation_error(ValueError("the message", "extra")) == (
        "wamp.error.runtime_error",
        ["('the message', 'extra')"],
        {},
    )
    assert wc.invocation_error(RuntimeError("only this")) == (
        "wamp.error.runtime_error",
        ["only this"],
        {},
    )

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    # a broken __str__ used to escape and end the callee's session
    assert wc.invocation_error(Unprintable()) == ("wamp.error.runtime_error", ["Unprintable"], {})


def test_a_call_result_is_built_as_autobahn_builds_it() -> None:
    """``CallResult(*results, **kwresults)`` (every keyword a keyword result, ``details``
    too); ``build`` sets every field; Autobahn's attribute names read the same values."""
    result = wc.CallResult(1, [2], details=3, unit="m")
    assert (result.args, result.kwargs) == ([1, [2]], {"details": 3, "unit": "m"})
    assert (result.progress, result.details, result.payload) == (False, {}, None)
    assert (result.results, result.kwresults) == ((1, [2]), {"details": 3, "unit": "m"})
    assert wc.CallResult([1, 2]).value == [1, 2]  # one result, which is a list
    assert wc.invocation_result(wc.CallResult([1, 2])) == ([[1, 2]], {})
    disclosed = {"callee": 7, "callee_authid": "a", "callee_authrole": "r"}
    built = wc.CallResult.build((1,), {"k": 2}, progress=True, details=disclosed)
    assert (built.args, built.kwargs, built.progress, built.details) == (
        [1], {"k": 2}, True, disclosed,
    )  # fmt: skip
    assert (built.callee, built.callee_authid, built.callee_authrole) == (7, "a", "r")
    assert wc.CallResult().callee is None


def test_an_application_error_with_a_uri_that_is_no_string_still_prints() -> None:
    """``str()`` raised TypeError, so a callee raising one logged ``<exception str() failed>``
    (a review of the docs: errors.md says a TypeError from the library is a bug)."""
    assert str(wc.ApplicationError(5, "x")) == "5: x"  # type: ignore[arg-type]
    uri, args, _ = wc.invocation_error(wc.ApplicationError(5))  # type: ignore[arg-type]
    assert (uri, args) == ("wamp.error.runtime_error", ["5"])  # (no URI: not an answer)


def test_application_error_has_autobahns_uri_constants() -> None:
    """Ported ``is_fatal``/``on_leave`` code compares with them (13 were missing)."""
    exception = pytest.importorskip("autobahn.wamp.exception")
    theirs = {
        name: value
        for name, value in vars(exception.ApplicationError).items()
        if name.isupper() and isinstance(value, str)
    }
    assert {name: getattr(wc.ApplicationError, name, None) for name in theirs} == theirs


def test_autobahns_call_result_and_application_error_keep_their_meaning() -> None:
    """A ported handler still returning ``autobahn.wamp.types.CallResult`` or raising
    ``autobahn.wamp.exception.ApplicationError`` (or a subclass of it) is answered as it meant;
    a look-alike class of another module is not."""
    types = pytest.importorskip("autobahn.wamp.types")
    exception = pytest.importorskip("autobahn.wamp.exception")
    assert wc.invocation_result(types.CallResult(1, 2, x=3)) == ([1, 2], {"x": 3})
    assert wc.invocation_result(types.CallResult()) == ([], {})

    class Refused(exception.ApplicationError):  # type: ignore[misc,name-defined]
        pass

    for error in (
        exception.ApplicationError("com.x.bad", 1, key=2),
        Refused("com.x.bad", 1, key=2),
    ):
        assert wc.invocation_error(error) == ("com.x.bad", [1], {"key": 2})

    class ApplicationError(Exception):
        error = "com.x.bad"

    assert wc.invocation_error(ApplicationError("m")) == ("wamp.error.runtime_error", ["m"], {})

    class CallResult:
        results = (1,)

    look_alike = CallResult()
    assert wc.invocation_result(look_alike) == ([look_alike], {})


def _invoked(request_id: int = 7) -> wc.ClientSession:
    session = joined()
    session.register("com.x.proc")
    session.receive_message(m.Registered(request_id=1, registration_id=100))
    session.receive_message(
        m.Invocation(request_id=request_id, registration_id=100, details={}, args=[1])
    )
    session.messages_to_send()
    return session


def test_answer_invocation_with_a_value() -> None:
    session = _invoked()
    assert wc.answer_invocation(session, 7, value=wc.CallResult(1, k=2))
    [msg] = session.messages_to_send()
    assert isinstance(msg, m.Yield)
    assert (msg.request_id, msg.args, msg.kwargs) == (7, [1], {"k": 2})
    # The invocation is closed now: a second answer is dropped.
    assert not wc.answer_invocation(session, 7, value=1)
    assert session.messages_to_send() == []


def test_answer_invocation_with_errors() -> None:
    session = _invoked()
    assert wc.answer_invocation(session, 7, error=wc.ApplicationError("com.x.e", 1, k=2))
    [msg] = session.messages_to_send()
    assert isinstance(msg, m.Error)
    assert (msg.request_id, msg.error, msg.args, msg.kwargs) == (7, "com.x.e", [1], {"k": 2})

    session = _invoked(8)
    assert wc.answer_invocation(session, 8, error=KeyError("secret"))
    [msg] = session.messages_to_send()
    assert isinstance(msg, m.Error)
    assert (msg.error, msg.args) == ("wamp.error.runtime_error", ["'secret'"])


def test_answer_invocation_that_cannot_be_sent() -> None:
    session = _invoked()

    def refuse_yields(msg: m.Message) -> None:
        if isinstance(msg, m.Yield):
            raise wc.MessageTooLarge("too big")
        sent.append(msg)

    sent: list[m.Message] = []
    session._send = refuse_yields
    assert wc.answer_invocation(session, 7, value="x" * 10)
    [msg] = sent
    assert isinstance(msg, m.Error)
    assert (msg.error, msg.args) == ("wamp.error.payload_size_exceeded", ["too big"])

    # Nothing can go at all: no answer, no exception.
    session = _invoked(9)

    def refuse_all(msg: m.Message) -> None:
        raise wc.EncodingError("cannot encode")

    session._send = refuse_all
    assert not wc.answer_invocation(session, 9, error=wc.ApplicationError("com.x.e"))
