"""``wamp_core.Connection`` (framing + serializer + session) driven by scripted router bytes."""

from __future__ import annotations

import enum
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from wsproto.events import BytesMessage, CloseConnection

import wamp_core as wc
from connection_helpers import (
    KINDS,
    REALM,
    RawSocketRouter,
    WebSocketRouter,
    feed,
    join_connection,
    make_pair,
    open_connection,
    rs_frame,
)
from session_helpers import SESSION_ID
from wamp_core import (
    CloseDetails,
    Connection,
    EncodingError,
    HandshakeError,
    LocalProtocolError,
    MessageTooLarge,
    ProtocolError,
    RawSocket,
    Role,
    SerializationError,
    SessionClosed,
    WebSocket,
    make_connection,
    make_framer,
    messages as m,
)
from wamp_core._wire import DEFAULT_MAX_MESSAGE_SIZE, RECENT_MAX, RecentIds
from wamp_core.events import (
    Aborted,
    CallSucceeded,
    Closed,
    EventDelivered,
    InvocationReceived,
    Joined,
    Left,
    Opened,
    Published,
    Registered,
    RequestFailed,
    Subscribed,
)

RS_KINDS = [k for k in KINDS if k.startswith("rs-")]
WS_KINDS = [k for k in KINDS if k.startswith("ws-")]
PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
SIZE_EXCEEDED = "wamp.error.payload_size_exceeded"
INVALID_PAYLOAD = "wamp.error.invalid_payload"


def types(events: list[Any]) -> list[type]:
    return [type(e) for e in events]


def serializer_name(kind: str) -> str:
    return kind.partition("-")[2]


def registered(conn: Connection, router: Any, procedure: str = "com.example.proc") -> int:
    """Register ``procedure`` (registration 601) and return the registration ID."""
    rid = conn.session.register(procedure)
    router.receive(conn.data_to_send())
    assert types(conn.receive_data(router.send(m.Registered(request_id=rid, registration_id=601))))
    return 601


def finish_ws_close(conn: Connection, router: Any) -> list[Any]:
    """Let the WebSocket router answer the client's close frame; return the client's events."""
    assert isinstance(router, WebSocketRouter)
    router.receive(conn.data_to_send())
    assert router.closes, "the client sent no close frame"
    return conn.receive_data(router.ws.send(router.closes[-1].response()))


# -- opening and joining ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_open_then_auto_join(kind: str) -> None:
    conn, router = make_pair(kind)
    assert not conn.is_open and not conn.closed
    assert conn.data_to_send() == b""  # nothing before initiate()
    conn.initiate()
    request = conn.data_to_send()
    reply = router.accept(request)
    events = conn.receive_data(reply)
    assert types(events) == [Opened]
    assert events[0].serializer == serializer_name(kind)  # type: ignore[union-attr]
    assert conn.is_open and conn.serializer is not None
    assert conn.serializer.name == serializer_name(kind)

    [hello] = router.receive(conn.data_to_send())
    assert hello[:2] == [1, REALM]
    details = hello[2]
    assert set(details["roles"]) == {"caller", "callee", "publisher", "subscriber"}
    assert details["authmethods"] == ["anonymous"]
    assert conn.data_to_send() == b""  # HELLO went out exactly once

    events = conn.receive_data(router.send(m.Welcome(session_id=SESSION_ID, details=_roles())))
    assert types(events) == [Joined]
    joined = events[0]
    assert isinstance(joined, Joined)
    assert joined.details.session == SESSION_ID
    assert joined.details.realm == REALM
    assert joined.details.serializer == serializer_name(kind)
    assert conn.session.is_joined and conn.session.session_id == SESSION_ID


def _roles() -> dict[str, Any]:
    return {"roles": {"broker": {"features": {}}, "dealer": {"features": {}}}}


@pytest.mark.parametrize("kind", ["rs-cbor", "ws-json"])
def test_handshake_reply_and_welcome_in_one_chunk(kind: str) -> None:
    conn, router = make_pair(kind)
    conn.initiate()
    reply = router.accept(conn.data_to_send())
    welcome = router.send(m.Welcome(session_id=7, details=_roles()))
    events = conn.receive_data(reply + welcome)
    assert types(events) == [Opened, Joined]
    [hello] = router.receive(conn.data_to_send())
    assert hello[0] == 1


@pytest.mark.parametrize("kind", ["rs-json", "ws-msgpack"])
def test_explicit_join_before_open(kind: str) -> None:
    conn, router = make_pair(kind, realm=None)
    conn.join("com.example.realm2")
    conn.initiate()
    request = conn.data_to_send()
    events = conn.receive_data(router.accept(request))
    assert types(events) == [Opened]
    [hello] = router.receive(conn.data_to_send())
    assert hello[:2] == [1, "com.example.realm2"]


@pytest.mark.parametrize("kind", ["rs-msgpack", "ws-cbor.batched"])
def test_explicit_join_after_open(kind: str) -> None:
    conn, router, sent = open_connection(kind, realm=None)
    assert sent == []  # no realm: no HELLO
    assert conn.data_to_send() == b""
    conn.join("com.example.realm3")
    [hello] = router.receive(conn.data_to_send())
    assert hello[:2] == [1, "com.example.realm3"]
    events = conn.receive_data(router.send(m.Welcome(session_id=9, details=_roles())))
    assert types(events) == [Joined]


# -- commands and received messages ----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_commands_go_out_with_next_data_to_send(kind: str) -> None:
    conn, router = join_connection(kind)
    sub = conn.session.subscribe("com.example.topic")
    reg = conn.session.register("com.example.proc")
    call = conn.session.call("com.example.proc", [1, "two"], {"k": True})
    pub = conn.session.publish(
        "com.example.topic", ["hi"], options=wc.PublishOptions(acknowledge=True)
    )
    assert (sub, reg, call, pub) == (1, 2, 3, 4)
    sent = router.receive(conn.data_to_send())
    assert sent == [
        [32, 1, {}, "com.example.topic"],
        [64, 2, {}, "com.example.proc"],
        [48, 3, {}, "com.example.proc", [1, "two"], {"k": True}],
        [16, 4, {"acknowledge": True}, "com.example.topic", ["hi"]],
    ]
    assert conn.data_to_send() == b""

    replies = [
        m.Subscribed(request_id=1, subscription_id=501),
        m.Registered(request_id=2, registration_id=601),
        m.Result(request_id=3, args=[42]),
        m.Published(request_id=4, publication_id=777),
        m.Event(subscription_id=501, publication_id=778, args=["ev"]),
        m.Invocation(request_id=90, registration_id=601, args=[2, 3]),
    ]
    events = conn.receive_data(router.send(*replies))
    assert types(events) == [
        Subscribed,
        Registered,
        CallSucceeded,
        Published,
        EventDelivered,
        InvocationReceived,
    ]
    result = events[2]
    assert isinstance(result, CallSucceeded) and result.result.value == 42
    event = events[4]
    assert isinstance(event, EventDelivered) and event.args == ["ev"]
    assert event.details.topic == "com.example.topic"
    assert conn.session.pending_requests == {}

    assert conn.session.yield_result(90, [5])
    assert router.receive(conn.data_to_send()) == [[70, 90, {}, [5]]]


@pytest.mark.parametrize("kind", ["ws-json.batched", "ws-cbor.batched", "ws-msgpack.batched"])
def test_batched_frame_with_several_messages_gives_all_events_in_order(kind: str) -> None:
    conn, router = join_connection(kind)
    calls = [conn.session.call("com.example.proc", [i]) for i in range(3)]
    sub = conn.session.subscribe("com.example.t")
    router.receive(conn.data_to_send())
    batch = [
        m.Result(request_id=calls[2], args=["c"]),
        m.Subscribed(request_id=sub, subscription_id=5),
        m.Event(subscription_id=5, publication_id=1, args=[1]),
        m.Result(request_id=calls[0], args=["a"]),
        m.Event(subscription_id=5, publication_id=2, args=[2]),
        m.Result(request_id=calls[1], args=["b"]),
    ]
    frame = router.send_batch(batch)
    events = conn.receive_data(frame)
    assert [
        (type(e).__name__, getattr(e, "request_id", None) or getattr(e, "args", None))
        for e in events
    ] == [
        ("CallSucceeded", calls[2]),
        ("Subscribed", sub),
        ("EventDelivered", [1]),
        ("CallSucceeded", calls[0]),
        ("EventDelivered", [2]),
        ("CallSucceeded", calls[1]),
    ]
    # the same batch split at every octet gives the same events
    conn2, router2 = join_connection(kind)
    for i in range(3):
        conn2.session.call("com.example.proc", [i])
    conn2.session.subscribe("com.example.t")
    router2.receive(conn2.data_to_send())
    frame2 = router2.send_batch(batch)
    assert feed(conn2, frame2, range(1, len(frame2))) == events


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("ws-json.batched", lambda p: p.endswith(b"\x18") and p.count(b"\x18") == 1),
        ("ws-cbor.batched", lambda p: int.from_bytes(p[:4], "big") == len(p) - 4),
    ],
)
def test_batched_client_frames_carry_one_message_each(kind: str, check: Any) -> None:
    conn, router = join_connection(kind)
    conn.session.call("com.example.a")
    conn.session.call("com.example.b")
    assert isinstance(router, WebSocketRouter)
    payloads = router.receive_frames(conn.data_to_send())
    assert len(payloads) == 2
    assert all(check(p) for p in payloads)


@pytest.mark.parametrize(("kind", "header"), [("rs-json", 0x7B), ("rs-msgpack", 0x95)])
def test_wire_encoding_is_the_negotiated_serializer(kind: str, header: int) -> None:
    conn, _router = join_connection(kind)
    conn.session.call("com.example.proc", [1])
    data = conn.data_to_send()
    # RawSocket frame header, then a JSON array ("[") or a msgpack fixarray of 5
    assert data[:1] == b"\x00" and int.from_bytes(data[1:4], "big") == len(data) - 4
    assert data[4] == (0x5B if kind == "rs-json" else header)


def test_router_ping_is_answered_and_our_ping_pong_is_reported() -> None:
    conn, _router = join_connection("rs-json")
    assert conn.receive_data(rs_frame(b"abc", 1)) == []
    assert conn.data_to_send() == rs_frame(b"abc", 2)
    conn.ping(b"xy")
    assert conn.data_to_send() == rs_frame(b"xy", 1)
    [pong] = conn.receive_data(rs_frame(b"xy", 2))
    assert type(pong).__name__ == "PongReceived"


# -- size limits and unsendable messages -----------------------------------------------------


@pytest.mark.parametrize("kind", RS_KINDS)
def test_call_larger_than_router_limit_fails_at_the_call(kind: str) -> None:
    # LLLL=1: the router accepts 1024 bytes (HELLO still fits; see the 512-byte test below).
    conn, router = join_connection(kind, length_exp=1)
    assert conn.max_send_size == 1024
    with pytest.raises(MessageTooLarge) as info:
        conn.session.call("com.example.proc", ["x" * 1100])
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.reason == SIZE_EXCEEDED
    assert conn.data_to_send() == b""
    assert conn.take_events() == []
    assert conn.session.pending_requests == {}
    # the connection still works, and the failed call used no request ID
    ok = conn.session.call("com.example.proc", ["small"])
    assert ok == 1
    assert router.receive(conn.data_to_send()) == [[48, 1, {}, "com.example.proc", ["small"]]]
    assert conn.take_events() == []
    assert not conn.closed


def test_unacknowledged_publish_too_large_fails_at_the_call() -> None:
    conn, router = join_connection("rs-cbor", length_exp=1)
    with pytest.raises(MessageTooLarge):
        conn.session.publish("com.example.topic", ["x" * 2000])
    assert conn.data_to_send() == b""
    assert conn.take_events() == []
    assert conn.session.publish("com.example.topic") == 1
    assert router.receive(conn.data_to_send()) == [[16, 1, {}, "com.example.topic"]]


@pytest.mark.parametrize("kind", ["rs-json", "rs-cbor"])
def test_yield_too_large_raises_and_the_invocation_stays_open(kind: str) -> None:
    conn, router = join_connection(kind, length_exp=1)
    reg = registered(conn, router)
    conn.receive_data(router.send(m.Invocation(request_id=90, registration_id=reg)))
    assert conn.session.open_invocations == {90}
    with pytest.raises(MessageTooLarge, match="1024"):
        conn.session.yield_result(90, ["y" * 1500])
    assert conn.data_to_send() == b""
    assert conn.session.open_invocations == {90}
    assert conn.session.yield_error(90, SIZE_EXCEEDED)
    [error] = router.receive(conn.data_to_send())
    assert error == [8, 68, 90, {}, SIZE_EXCEEDED]
    assert conn.session.open_invocations == frozenset()
    assert conn.take_events() == []
    assert not conn.session.yield_result(90, ["again"])  # closed: nothing more goes out
    assert conn.data_to_send() == b""


@pytest.mark.parametrize("kind", ["rs-json", "rs-msgpack", "ws-cbor", "ws-json.batched"])
def test_unserializable_argument_fails_at_the_call(kind: str) -> None:
    conn, router = join_connection(kind)
    with pytest.raises(EncodingError) as info:
        conn.session.call("com.example.proc", [object()])
    assert isinstance(info.value, LocalProtocolError)
    assert conn.data_to_send() == b""
    assert conn.take_events() == []
    assert conn.session.pending_requests == {}
    reg = registered(conn, router)
    conn.receive_data(router.send(m.Invocation(request_id=91, registration_id=reg)))
    with pytest.raises(EncodingError):
        conn.session.yield_result(91, [object()])
    assert conn.session.yield_error(91, INVALID_PAYLOAD, [str(info.value)])
    [error] = router.receive(conn.data_to_send())
    assert error[:5] == [8, 68, 91, {}, INVALID_PAYLOAD]


def test_websocket_max_message_size_bounds_sending() -> None:
    conn, _router = join_connection("ws-json", max_message_size=4000)
    assert conn.max_send_size == 4000
    with pytest.raises(MessageTooLarge) as info:
        conn.session.call("com.example.proc", ["z" * 4000])
    assert info.value.reason == SIZE_EXCEEDED
    assert conn.data_to_send() == b""


def test_receive_data_of_nothing_points_at_receive_eof() -> None:
    conn, _router = join_connection("rs-json")
    with pytest.raises(LocalProtocolError, match="receive_eof"):
        conn.receive_data(b"")
    assert conn.session.is_joined


def test_data_to_send_is_a_pure_drain() -> None:
    conn, router = join_connection("ws-json")
    rid = conn.session.call("com.example.proc", [1])
    out = conn.data_to_send()
    assert router.receive(out) == [[48, rid, {}, "com.example.proc", [1]]]
    assert conn.data_to_send() == b""
    assert conn.take_events() == []
    assert conn.session.pending_requests == {rid: "call"}


def test_hello_larger_than_a_512_byte_router_limit_fails_the_connection() -> None:
    """The minimum RawSocket limit (LLLL=0) is smaller than our HELLO: no raise, a clean end."""
    conn, router = make_pair("rs-json", length_exp=0)
    conn.initiate()
    events = conn.receive_data(router.accept(conn.data_to_send()))
    assert types(events) == [Opened, Aborted, Closed]
    aborted = events[1]
    assert isinstance(aborted, Aborted) and aborted.details.local
    assert aborted.details.reason == SIZE_EXCEEDED
    assert isinstance(conn.error, LocalProtocolError) and conn.error.reason == SIZE_EXCEEDED
    assert "HELLO" in str(conn.error)
    assert conn.closed
    assert conn.data_to_send() == b""
    assert conn.receive_data(rs_frame(b"[]")) == []


def test_hello_too_large_for_an_explicit_join_raises_at_the_call() -> None:
    conn, _router, _ = open_connection("rs-msgpack", realm=None, length_exp=0)
    with pytest.raises(MessageTooLarge):
        conn.join(REALM)
    assert conn.data_to_send() == b""
    assert conn.take_events() == []
    assert conn.session.state.value == "closed"
    assert not conn.closed


def test_hello_too_large_for_websocket_limit_closes_with_1011() -> None:
    conn, router = make_pair("ws-json", max_message_size=500)
    conn.initiate()
    events = conn.receive_data(router.accept(conn.data_to_send()))
    assert types(events) == [Opened, Aborted, Closed]
    assert isinstance(router, WebSocketRouter)
    assert router.receive(conn.data_to_send()) == []  # no HELLO, no ABORT
    assert [c.code for c in router.closes] == [1011]
    assert conn.closed


def test_an_automatic_reply_that_cannot_be_sent_ends_the_connection() -> None:
    """INTERRUPT kill must be answered ERROR canceled; if even that cannot go, the connection
    ends (the router would otherwise wait for the answer forever)."""
    framer = _TinyLimit(Role.CLIENT, serializer="json")
    conn = Connection(framer)
    conn.join(REALM)
    router = RawSocketRouter("json")
    conn.initiate()
    conn.receive_data(router.accept(conn.data_to_send()))
    router.receive(conn.data_to_send())
    conn.receive_data(router.send(m.Welcome(session_id=1, details=_roles())))
    reg = registered(conn, router)
    conn.receive_data(router.send(m.Invocation(request_id=3, registration_id=reg)))
    framer.limit = 20
    events = conn.receive_data(router.send(m.Interrupt(request_id=3, options={"mode": "kill"})))
    assert types(events) == [Left, Closed]
    assert isinstance(conn.error, MessageTooLarge)
    assert conn.closed


class _TinyLimit(RawSocket):
    """A RawSocket framer whose send limit can be lowered below any ERROR's size."""

    limit = 2**24

    def send_message(self, payload: bytes) -> None:
        if len(payload) > self.limit:
            raise MessageTooLarge(f"{len(payload)} > {self.limit}")
        super().send_message(payload)


# -- peer errors -----------------------------------------------------------------------------

GARBAGE = {
    "json": b"{not json",
    "msgpack": b"\xc1",
    "cbor": b"\xff",
    "ubjson": b"\xff\x00",
    "json.batched": b"[1,2\x18",
    "cbor.batched": b"\x00\x00\x00\x09\x01",
}


@pytest.mark.parametrize("kind", KINDS)
def test_undecodable_message_aborts_and_closes(kind: str) -> None:
    conn, router = join_connection(kind)
    rid = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    late_result = router.send(m.Result(request_id=rid))
    events = conn.receive_data(router.frame(GARBAGE[serializer_name(kind)]))
    assert types(events) == [RequestFailed, Aborted]
    failed, aborted = events
    assert isinstance(failed, RequestFailed) and failed.request_id == rid
    assert isinstance(failed.error, SessionClosed)
    assert isinstance(aborted, Aborted)
    assert aborted.details.local and aborted.details.reason == PROTOCOL_VIOLATION
    assert isinstance(conn.error, SerializationError)
    [abort] = router.receive(conn.data_to_send())
    assert abort[0] == 3 and abort[2] == PROTOCOL_VIOLATION
    assert abort[1]["message"] == conn.error.message
    if isinstance(router, WebSocketRouter):
        assert [c.code for c in router.closes] == [1002]
        assert not conn.closed  # waiting for the router's close frame
        assert types(finish_ws_close(conn, router)) == [Closed]
    assert conn.closed and not conn.is_open
    with pytest.raises(SessionClosed):
        conn.session.call("com.example.proc")
    assert conn.receive_data(late_result) == []


def test_bad_rawsocket_frame_type_aborts_without_abort_bytes() -> None:
    conn, router = join_connection("rs-json")
    rid = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    events = conn.receive_data(b"\x03\x00\x00\x00")
    assert types(events) == [RequestFailed, Aborted, Closed]
    assert events[0].request_id == rid  # type: ignore[union-attr]
    aborted = events[1]
    assert isinstance(aborted, Aborted) and aborted.details.local
    assert aborted.details.reason == PROTOCOL_VIOLATION
    assert conn.data_to_send() == b""  # the framing is broken: no ABORT possible
    assert conn.closed
    assert isinstance(conn.error, ProtocolError)
    assert conn.receive_data(b"more") == []
    assert conn.receive_eof() == []
    assert conn.connection_lost() == []


def test_websocket_framing_violation_sends_close_frame_but_no_abort() -> None:
    conn, router = join_connection("ws-json")
    assert isinstance(router, WebSocketRouter)
    # JSON travels in TEXT messages: a BINARY message is a framing violation.
    events = conn.receive_data(router.ws.send(BytesMessage(data=b"[]")))
    assert types(events) == [Aborted, Closed]
    assert conn.closed and isinstance(conn.error, ProtocolError)
    assert router.receive(conn.data_to_send()) == []  # no ABORT message ...
    assert [c.code for c in router.closes] == [1003]  # ... only the close frame


@pytest.mark.parametrize("kind", ["rs-json", "rs-ubjson", "ws-msgpack", "ws-json.batched"])
def test_session_violation_sends_abort_and_closes(kind: str) -> None:
    conn, router = join_connection(kind)
    events = conn.receive_data(router.send(m.Result(request_id=12345)))
    assert types(events) == [Aborted]
    assert isinstance(conn.error, ProtocolError)
    [abort] = router.receive(conn.data_to_send())
    assert abort[0] == 3 and abort[2] == PROTOCOL_VIOLATION
    assert "12345" in abort[1]["message"]
    if isinstance(router, WebSocketRouter):
        assert [c.code for c in router.closes] == [1002]
        finish_ws_close(conn, router)
    assert conn.closed


def test_messages_after_a_violation_in_the_same_chunk_are_ignored() -> None:
    conn, router = join_connection("rs-json")
    rid = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    data = router.send(m.Result(request_id=999), m.Result(request_id=rid))
    events = conn.receive_data(data)
    assert types(events) == [RequestFailed, Aborted]
    assert len(router.receive(conn.data_to_send())) == 1  # one ABORT only


@pytest.mark.parametrize(
    ("kind", "reply"), [("rs-json", b"\x7f\x10\x00\x00"), ("rs-cbor", b"\x7f\x40\x00\x00")]
)
def test_refused_rawsocket_handshake_raises(kind: str, reply: bytes) -> None:
    conn, _ = make_pair(kind)
    conn.initiate()
    conn.data_to_send()
    with pytest.raises(HandshakeError) as info:
        conn.receive_data(reply)
    assert info.value.code == reply[1] >> 4
    assert conn.closed and not conn.is_open
    assert conn.receive_data(b"\x7f\x11\x00\x00") == []


def test_refused_websocket_upgrade_raises() -> None:
    conn, router = make_pair("ws-json")
    conn.initiate()
    assert isinstance(router, WebSocketRouter)
    with pytest.raises(HandshakeError) as info:
        conn.receive_data(router.reject(conn.data_to_send(), 403))
    assert info.value.code == 403
    assert conn.closed


@pytest.mark.parametrize("kind", ["rs-json", "ws-json"])
def test_eof_during_handshake_raises(kind: str) -> None:
    conn, _ = make_pair(kind)
    conn.initiate()
    conn.data_to_send()
    with pytest.raises(HandshakeError):
        conn.receive_eof()
    assert conn.closed
    assert conn.receive_eof() == []


def _chunks() -> st.SearchStrategy[bytes]:
    """Router output: good frames of good messages, frames of junk, raw junk."""
    wamp = st.lists(
        st.one_of(
            st.integers(-3, 80),
            st.integers(),
            st.text(max_size=8),
            st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
            st.lists(st.integers(0, 3), max_size=2),
        ),
        min_size=1,
        max_size=6,
    )
    good = st.sampled_from(
        [
            m.Result(request_id=1, args=[1]),
            m.Event(subscription_id=5, publication_id=1),
            m.Invocation(request_id=3, registration_id=601),
            m.Goodbye(reason="wamp.close.system_shutdown"),
            m.Subscribed(request_id=2, subscription_id=5),
            m.Error(request_type=48, request_id=1, error="com.example.error"),
        ]
    )
    import json

    return st.one_of(
        good.map(lambda msg: rs_frame(json.dumps(msg.to_list()).encode())),
        wamp.map(lambda w: rs_frame(json.dumps(w).encode())),
        st.binary(max_size=12).map(rs_frame),
        st.binary(max_size=10),
        st.sampled_from([rs_frame(b"p", 1), rs_frame(b"q", 2)]),
    )


#: Generated inputs per fuzz target: bounded in CI; WAMP_FUZZ_EXAMPLES=100000 for a long run.
FUZZ_EXAMPLES = int(os.environ.get("WAMP_FUZZ_EXAMPLES", "150"))


@settings(max_examples=FUZZ_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(_chunks(), max_size=6), data=st.data())
def test_arbitrary_router_bytes_never_raise(chunks: list[bytes], data: st.DataObject) -> None:
    conn, _router = join_connection("rs-json")
    conn.session.call("com.example.proc")
    conn.session.subscribe("com.example.topic")
    conn.session.register("com.example.proc")
    conn.data_to_send()
    stream = b"".join(chunks)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    events = feed(conn, stream, cuts)
    events += conn.receive_eof()
    conn.data_to_send()
    assert sum(isinstance(e, Aborted | Left) for e in events) <= 1
    assert conn.closed
    assert conn.session.pending_requests == {}
    if conn.error is not None:
        assert isinstance(conn.error, ProtocolError)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(max_size=40), cuts=st.lists(st.integers(0, 40), max_size=5))
def test_arbitrary_websocket_bytes_never_raise(junk: bytes, cuts: list[int]) -> None:
    conn, router = join_connection("ws-json")
    conn.session.call("com.example.proc")
    conn.data_to_send()
    feed(conn, router.send(m.Result(request_id=1)) + junk, [c for c in cuts if c <= len(junk)])
    conn.receive_eof()
    conn.data_to_send()
    assert conn.closed


# -- transport loss --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rs-json", "ws-cbor"])
@pytest.mark.parametrize("how", ["eof", "lost"])
def test_transport_loss_fails_pending_requests(kind: str, how: str) -> None:
    conn, router = join_connection(kind)
    call = conn.session.call("com.example.proc")
    sub = conn.session.subscribe("com.example.topic")
    router.receive(conn.data_to_send())
    events = conn.receive_eof() if how == "eof" else conn.connection_lost("reset by peer")
    assert types(events) == [RequestFailed, RequestFailed, Left, Closed]
    assert {(e.request_id, e.kind) for e in events[:2]} == {  # type: ignore[union-attr]
        (call, "call"),
        (sub, "subscribe"),
    }
    assert all(isinstance(e.error, SessionClosed) for e in events[:2])  # type: ignore[union-attr]
    left = events[2]
    assert isinstance(left, Left) and left.details.reason == "wamp.close.transport_lost"
    closed = events[3]
    assert isinstance(closed, Closed) and not closed.clean
    if how == "lost":
        assert closed.reason == "reset by peer"
    assert conn.closed
    assert conn.receive_eof() == [] and conn.connection_lost() == []
    with pytest.raises(SessionClosed):
        conn.session.call("com.example.proc")


@pytest.mark.parametrize("kind", RS_KINDS)
def test_closing_a_rawsocket_connection_ends_its_session(kind: str) -> None:
    """RawSocket has no close handshake: close() ends the transport at once, and with it the
    session (its pending requests fail, Left comes from take_events); no Closed follows."""
    conn, router = join_connection(kind)
    call = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    conn.close()
    assert conn.closed and conn.data_to_send() == b""
    events = conn.take_events()
    assert types(events) == [RequestFailed, Left]
    assert (events[0].request_id, events[0].kind) == (call, "call")  # type: ignore[union-attr]
    assert conn.session.state is wc.SessionState.CLOSED and not conn.session.is_joined
    assert conn.take_events() == [] and conn.receive_eof() == []
    with pytest.raises(SessionClosed):
        conn.session.call("com.example.proc")


def test_closing_while_joining_aborts_the_join() -> None:
    conn, _router, _ = open_connection("rs-cbor")
    conn.close()
    assert types(conn.take_events()) == [Aborted]


@pytest.mark.parametrize(
    "authenticators", [wc.auth.TicketAuthenticator("secret", "joe"), ["ticket"], "ticket"]
)
def test_authenticators_are_checked_when_the_join_is_queued(authenticators: Any) -> None:
    """Not out of the receive_data() that opens the transport later."""
    with pytest.raises(wc.ConfigurationError, match="Authenticator"):
        make_connection(wc.parse_transports("rs://127.0.0.1:1")[0], realm=REALM,
                        authenticators=authenticators)  # fmt: skip


def test_eof_while_joining_aborts_the_join() -> None:
    conn, _router, _ = open_connection("rs-cbor")
    events = conn.receive_eof()
    assert types(events) == [Aborted, Closed]
    aborted = events[0]
    assert isinstance(aborted, Aborted) and aborted.details.reason == "wamp.close.transport_lost"


# -- leaving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RS_KINDS)
def test_router_goodbye_rawsocket_reply_then_close(kind: str) -> None:
    conn, router = join_connection(kind)
    rid = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    events = conn.receive_data(router.send(m.Goodbye(reason="wamp.close.system_shutdown")))
    assert types(events) == [RequestFailed, Left]
    assert events[0].request_id == rid  # type: ignore[union-attr]
    left = events[1]
    assert isinstance(left, Left) and not left.details.local
    assert left.details.reason == "wamp.close.system_shutdown"
    assert conn.closed  # RawSocket: closed at once, our GOODBYE is still to be written
    assert router.receive(conn.data_to_send()) == [[6, {}, "wamp.close.goodbye_and_out"]]
    assert conn.data_to_send() == b""


@pytest.mark.parametrize("kind", WS_KINDS)
def test_router_goodbye_websocket_reply_then_close_frame(kind: str) -> None:
    conn, router = join_connection(kind)
    events = conn.receive_data(router.send(m.Goodbye(reason="wamp.close.system_shutdown")))
    assert types(events) == [Left]
    assert isinstance(router, WebSocketRouter)
    start = len(router.events)
    assert router.receive(conn.data_to_send()) == [[6, {}, "wamp.close.goodbye_and_out"]]
    order = [type(e).__name__ for e in router.events[start:]]
    assert order[-1] == "CloseConnection" and order.index("CloseConnection") == len(order) - 1
    assert order[0] in ("TextMessage", "BytesMessage")
    assert router.closes[-1].code == 1000
    assert not conn.closed
    events = conn.receive_data(router.ws.send(router.closes[-1].response()))
    assert types(events) == [Closed]
    assert events[0].clean  # type: ignore[union-attr]
    assert conn.closed


@pytest.mark.parametrize("kind", WS_KINDS)
def test_router_goodbye_and_close_frame_in_one_read_keep_the_routers_reason(kind: str) -> None:
    """A router that says GOODBYE and closes at once, both read together: the session ends
    with the router's reason (the reply GOODBYE is moot), then the close with its code. The
    reply could not be sent, and the session ended as a lost transport: a kick for
    ``not_authorized`` read as a network failure (a Component reconnected for ever)."""
    conn, router = join_connection(kind)
    assert isinstance(router, WebSocketRouter)
    conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    kicked = m.Goodbye(reason="wamp.error.not_authorized", details={"message": "kicked"})
    events = conn.receive_data(router.send(kicked) + router.close(1008, "policy"))
    assert types(events) == [RequestFailed, Left, Closed]
    assert "wamp.error.not_authorized" in str(events[0].error)  # type: ignore[union-attr]
    left = events[1]
    assert isinstance(left, Left)
    assert left.details == CloseDetails("wamp.error.not_authorized", "kicked")
    closed = events[2]
    assert isinstance(closed, Closed) and (closed.code, closed.reason) == (1008, "policy")
    assert conn.error is None and conn.closed


@pytest.mark.parametrize("kind", WS_KINDS)
def test_a_close_right_after_the_upgrade_reports_the_routers_close(kind: str) -> None:
    """The 101 and a close frame in one read: the session (not joined yet) ends with the
    close's reason, not "cannot send HELLO" (which read as a local error)."""
    conn, router = make_pair(kind)
    conn.initiate()
    assert isinstance(router, WebSocketRouter)
    events = conn.receive_data(router.accept(conn.data_to_send()) + router.close(1013, "later"))
    assert types(events)[0] is Opened and types(events)[-1] is Closed
    aborted = [e for e in events if isinstance(e, Aborted)]
    assert [e.details.message for e in aborted] == ["later"]
    closed = events[-1]
    assert isinstance(closed, Closed) and (closed.code, closed.reason) == (1013, "later")
    assert conn.error is None


@pytest.mark.parametrize("kind", ["rs-json", "ws-json"])
def test_our_leave_closes_after_the_router_answers(kind: str) -> None:
    conn, router = join_connection(kind)
    conn.session.leave("wamp.close.normal", "bye")
    assert router.receive(conn.data_to_send()) == [[6, {"message": "bye"}, "wamp.close.normal"]]
    assert not conn.closed
    events = conn.receive_data(router.send(m.Goodbye(reason="wamp.close.goodbye_and_out")))
    assert types(events) == [Left]
    assert events[0].details.local  # type: ignore[union-attr]
    assert router.receive(conn.data_to_send()) == []  # no second GOODBYE
    if isinstance(router, WebSocketRouter):
        finish_ws_close(conn, router)
    assert conn.closed


@pytest.mark.parametrize("kind", ["rs-msgpack", "ws-json"])
def test_router_abort_closes(kind: str) -> None:
    conn, router = join_connection(kind)
    events = conn.receive_data(router.send(m.Abort(reason="wamp.error.system_shutdown")))
    assert types(events) == [Aborted]
    assert not events[0].details.local  # type: ignore[union-attr]
    assert conn.error is None
    assert router.receive(conn.data_to_send()) == []  # ABORT is never answered
    if isinstance(router, WebSocketRouter):
        assert [c.code for c in router.closes] == [1000]
        finish_ws_close(conn, router)
    assert conn.closed


@pytest.mark.parametrize("kind", ["rs-json", "ws-json"])
def test_without_close_on_leave_the_transport_stays_open_for_a_new_join(kind: str) -> None:
    conn, router = join_connection(kind, close_on_leave=False)
    conn.receive_data(router.send(m.Goodbye(reason="wamp.close.system_shutdown")))
    assert router.receive(conn.data_to_send()) == [[6, {}, "wamp.close.goodbye_and_out"]]
    assert conn.is_open and not conn.closed
    if isinstance(router, WebSocketRouter):
        assert router.closes == []
    conn.join("com.example.other")
    [hello] = router.receive(conn.data_to_send())
    assert hello[:2] == [1, "com.example.other"]
    events = conn.receive_data(router.send(m.Welcome(session_id=2, details=_roles())))
    assert types(events) == [Joined]


@pytest.mark.parametrize("kind", ["rs-json", "ws-json.batched"])
def test_messages_after_goodbye_in_the_same_chunk_are_dropped(kind: str) -> None:
    conn, router = join_connection(kind)
    goodbye = m.Goodbye(reason="wamp.close.system_shutdown")
    event = m.Event(subscription_id=5, publication_id=1)
    data = router.send_batch([goodbye, event]) if "batched" in kind else router.send(goodbye, event)
    events = conn.receive_data(data)
    assert types(events) == [Left]
    assert conn.error is None
    assert router.receive(conn.data_to_send()) == [[6, {}, "wamp.close.goodbye_and_out"]]


# -- building connections from transport configurations ---------------------------------------


def test_make_framer_rawsocket_from_config() -> None:
    [config] = wc.parse_transports(
        {
            "url": "rs://127.0.0.1:8081",
            "serializer": "msgpack",
            "options": {"max_message_size": 4096},
        }
    )
    framer = make_framer(config)
    assert isinstance(framer, RawSocket) and framer.role is Role.CLIENT
    assert framer.serializer == "msgpack" and framer.max_receive_size == 4096
    framer.initiate()
    assert framer.data_to_send() == bytes([0x7F, (3 << 4) | 2, 0, 0])


def test_make_framer_rawsocket_defaults() -> None:
    [config] = wc.parse_transports("rs://127.0.0.1:8081")
    framer = make_framer(config)
    assert isinstance(framer, RawSocket) and framer.role is Role.CLIENT
    assert framer.serializer == "cbor" and framer.max_receive_size == DEFAULT_MAX_MESSAGE_SIZE
    framer.initiate()
    assert framer.data_to_send() == bytes([0x7F, (15 << 4) | 3, 0, 0])


def test_make_framer_websocket_request_has_headers_host_path_and_subprotocols() -> None:
    [config] = wc.parse_transports(
        {
            "url": "ws://router.example:8080/wamp/ws?tenant=7",
            "serializers": ["cbor.batched", "json", "msgpack"],
            "headers": {"Authorization": "Bearer t0k", "X-Trace": "abc"},
            "options": {"max_message_size": 5000},
        }
    )
    framer = make_framer(config)
    assert isinstance(framer, WebSocket) and framer.role is Role.CLIENT
    assert framer.max_message_size == 5000
    framer.initiate()
    request = framer.data_to_send()
    router = WebSocketRouter("json")
    router.accept(request)
    req = router.request
    assert req is not None
    assert req.host == "router.example:8080"
    assert req.target == "/wamp/ws?tenant=7"
    assert req.subprotocols == ["wamp.2.cbor.batched", "wamp.2.json", "wamp.2.msgpack"]
    headers = {k.decode().lower(): v.decode() for k, v in req.extra_headers}
    assert headers["authorization"] == "Bearer t0k"
    assert headers["x-trace"] == "abc"
    assert request.startswith(b"GET /wamp/ws?tenant=7 HTTP/1.1\r\n")


@pytest.mark.parametrize(
    ("url", "host", "target"),
    [
        ("wss://router.example/ws", "router.example", "/ws"),
        ("ws://router.example", "router.example", "/"),
        ("ws://[::1]:8080/ws", "[::1]:8080", "/ws"),
        ("ws://router.example:80/x", "router.example", "/x"),
    ],
)
def test_make_framer_websocket_host_and_target(url: str, host: str, target: str) -> None:
    framer = make_framer(wc.parse_transports(url)[0])
    framer.initiate()
    router = WebSocketRouter("cbor")
    router.accept(framer.data_to_send())
    assert router.request is not None
    assert (router.request.host, router.request.target) == (host, target)
    # default serializers, in the configured order
    assert router.request.subprotocols == ["wamp.2.cbor", "wamp.2.msgpack", "wamp.2.json"]


@pytest.mark.parametrize(
    ("url", "router"),
    [
        ("rs://127.0.0.1:8081", RawSocketRouter("cbor")),
        ("ws://127.0.0.1:8080/ws", WebSocketRouter("cbor")),
    ],
)
def test_make_connection_joins_once_open(url: str, router: Any) -> None:
    conn = make_connection(wc.parse_transports(url)[0], realm="com.example.realm")
    assert isinstance(conn, wc.Connection)
    conn.initiate()
    events = conn.receive_data(router.accept(conn.data_to_send()))
    assert types(events) == [Opened]
    [hello] = router.receive(conn.data_to_send())
    assert hello[:2] == [1, "com.example.realm"]
    assert conn.close_on_leave


def test_make_connection_passes_channel_ids() -> None:
    conn = make_connection(
        wc.parse_transports("rs://127.0.0.1:8081")[0], channel_ids={"tls-unique": b"\x01"}
    )
    assert conn.session.channel_ids == {"tls-unique": b"\x01"}


def test_close_before_websocket_close_reply_and_connection_closed_property() -> None:
    conn, router = join_connection("ws-cbor")
    assert isinstance(router, WebSocketRouter)
    conn.close(1001, "going away")
    router.receive(conn.data_to_send())
    assert isinstance(router.closes[0], CloseConnection)
    assert (router.closes[0].code, router.closes[0].reason) == (1001, "going away")
    assert not conn.framer.is_open and not conn.closed
    events = conn.receive_data(router.ws.send(router.closes[0].response()))
    assert types(events) == [Closed]
    assert conn.closed


@pytest.mark.parametrize("kind", ["ws-cbor", "ws-json", *RS_KINDS])
def test_a_closed_connections_session_ends_at_once(kind: str) -> None:
    """(A review.) close() with a session on ends it then and there on both transports: its
    Left and failed requests come from take_events(), its commands raise SessionClosed (on
    WebSocket they raised LocalProtocolError while the close handshake ran, and abort() did
    nothing), and a message arriving before the close reply is dropped."""
    conn, router = join_connection(kind)
    call = conn.session.call("com.example.proc")
    router.receive(conn.data_to_send())
    late = router.send(m.Result(request_id=call, args=[1]))  # (sent before the close arrives)
    conn.close()
    events = conn.take_events()
    assert types(events) == [RequestFailed, Left]
    left = events[1]
    assert isinstance(left, Left) and left.details.local
    assert not conn.session.is_joined
    for command in (
        lambda: conn.session.publish("com.example.topic"),
        conn.session.leave,
        conn.session.abort,
        lambda: conn.session.call("com.example.proc"),
    ):
        with pytest.raises(SessionClosed):
            command()
    if isinstance(router, WebSocketRouter):
        assert conn.receive_data(late) == []
        router.receive(conn.data_to_send())
        assert types(conn.receive_data(router.ws.send(router.closes[0].response()))) == [Closed]
    assert conn.closed
    assert conn.take_events() == [] and conn.receive_eof() == []


def test_closing_a_websocket_while_leaving_keeps_the_leaves_own_end() -> None:
    """(A review.) close() right after leave(): the router's GOODBYE still ends the session
    as a leave (wamp.close.normal), not as a lost transport."""
    conn, router = join_connection("ws-json")
    conn.session.leave()
    router.receive(conn.data_to_send())
    conn.close()
    assert conn.take_events() == []
    goodbye = router.send(m.Goodbye(reason="wamp.close.goodbye_and_out"))
    events = conn.receive_data(goodbye)
    left = [e for e in events if isinstance(e, Left)]
    assert len(left) == 1 and left[0].details.reason == "wamp.close.normal"


@pytest.mark.parametrize("kind", ["ws-cbor", *RS_KINDS])
def test_end_of_file_after_the_session_closed_the_connection_is_quiet(kind: str) -> None:
    """(A review.) Once ``closed`` is true nothing more happens: a RawSocket that the
    session's end closed gave one more Closed on a late end of file."""
    conn, router = join_connection(kind)
    conn.session.leave()
    router.receive(conn.data_to_send())
    conn.receive_data(router.send(m.Goodbye(reason="wamp.close.goodbye_and_out")))
    if isinstance(router, WebSocketRouter):
        router.receive(conn.data_to_send())
        conn.receive_data(router.ws.send(router.closes[0].response()))
    assert conn.closed
    assert conn.receive_eof() == []


@pytest.mark.parametrize("kind", ["ws-cbor", "rs-cbor"])
def test_receive_data_refuses_text_with_a_type_error_that_says_so(kind: str) -> None:
    conn, _router = join_connection(kind)
    with pytest.raises(TypeError, match="receive_data\\(\\) takes bytes, not str"):
        conn.receive_data("[36, 1, 2, {}]")  # type: ignore[arg-type]
    assert conn.session.is_joined


def test_failed_progressive_answer_leaves_the_invocation_open() -> None:
    """A progressive YIELD that does not fit raises; the invocation is still open, so the
    final answer can still follow."""
    conn, router = join_connection("rs-json", length_exp=1)
    reg = registered(conn, router)
    details = {"receive_progress": True}
    invocation = m.Invocation(request_id=93, registration_id=reg, details=details)
    conn.receive_data(router.send(invocation))
    with pytest.raises(MessageTooLarge):
        conn.session.yield_result(93, ["x" * 3000], progress=True)
    assert conn.session.yield_result(93, ["done"])
    assert router.receive(conn.data_to_send()) == [[70, 93, {}, ["done"]]]
    assert conn.session.open_invocations == frozenset()


def test_failed_progressive_call_chunk_leaves_the_call_open() -> None:
    conn, router = join_connection("rs-json", length_exp=1)
    rid = conn.session.call("com.example.stream", ["first"], progress=True)
    assert [msg[0] for msg in router.receive(conn.data_to_send())] == [48]
    with pytest.raises(MessageTooLarge):
        conn.session.call_progress(rid, ["y" * 2000])
    assert conn.data_to_send() == b""
    conn.session.call_progress(rid, ["last"], final=True)
    assert router.receive(conn.data_to_send()) == [[48, rid, {}, "com.example.stream", ["last"]]]
    events = conn.receive_data(router.send(m.Result(request_id=rid)))
    assert types(events) == [CallSucceeded]


def test_session_ends_once_when_a_bad_frame_follows_goodbye_on_websocket() -> None:
    """After Left (router GOODBYE) the close handshake is under way; a corrupt frame from the
    router then only closes the transport: no second Aborted, and Closed carries a code."""
    conn, router = join_connection("ws-json")
    events = conn.receive_data(router.send(m.Goodbye(reason="wamp.close.system_shutdown")))
    assert types(events) == [Left]
    conn.data_to_send()
    events = conn.receive_data(b"\xc1\x00")  # reserved bits set
    assert types(events) == [Closed]
    assert events[0].code == 1006  # type: ignore[union-attr]
    assert conn.receive_data(b"\x81\x00") == []


def test_session_ends_once_when_a_bad_frame_follows_a_local_abort_on_websocket() -> None:
    conn, _router = join_connection("ws-json")
    conn.session.abort()
    assert types(conn.take_events()) == [Aborted]
    conn.data_to_send()
    events = conn.receive_data(b"\xc1\x00")
    assert types(events) == [Closed]
    assert events[0].code == 1006  # type: ignore[union-attr]


def test_local_abort_closes_the_transport() -> None:
    conn, router = join_connection("rs-json")
    conn.session.abort("wamp.close.normal", "bye")
    sent = router.receive(conn.data_to_send())
    assert sent == [[3, {"message": "bye"}, "wamp.close.normal"]]
    assert conn.closed
    [aborted] = conn.take_events()
    assert isinstance(aborted, Aborted) and aborted.details.local


def test_invalid_realm_is_refused_before_connecting() -> None:
    with pytest.raises(LocalProtocolError):
        make_pair("rs-json", realm="bad realm!")


def test_recent_ids_forget_the_oldest_first_and_stay_bounded() -> None:
    recent = RecentIds()
    for key in range(1, RECENT_MAX + 1):
        recent.add(key)
    recent.add(1)  # already there: keeps its place, no second entry
    assert len(recent) == RECENT_MAX
    recent.add(RECENT_MAX + 1)
    assert 1 not in recent and 2 in recent and RECENT_MAX + 1 in recent
    recent.discard(2)
    recent.add(2)  # re-added after a discard: now the newest, not forgotten with the old entry
    recent.add(RECENT_MAX + 2)
    assert 2 in recent and 3 not in recent and len(recent) == RECENT_MAX
    for key in range(10_000, 10_000 + 5 * RECENT_MAX):
        recent.add(key)
    assert len(recent) == RECENT_MAX and 2 not in recent and 10_000 + 5 * RECENT_MAX - 1 in recent


def test_enum_aliases_match_their_enums() -> None:
    """The hot paths read enum members through plain-class aliases: they must stay in step."""
    from wamp_core._client._tables import SessionState, States
    from wamp_core._framing import _rawsocket, _websocket

    pairs: list[tuple[type, type[enum.Enum]]] = [
        (States, SessionState), (_rawsocket._S, _rawsocket._State),
        (_websocket._S, _websocket._State),
    ]  # fmt: skip
    for alias, members_of in pairs:
        members = {k: v for k, v in vars(alias).items() if not k.startswith("_")}
        assert members == dict(members_of.__members__), alias
