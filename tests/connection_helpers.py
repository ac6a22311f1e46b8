"""The router side of one transport connection, scripted in tests of :class:`wamp_core.Connection`.

:class:`RawSocketRouter` plays a RawSocket router with hand-built bytes; :class:`WebSocketRouter`
plays a WebSocket router with a real wsproto *server* connection. Both decode what the client
sent into plain WAMP arrays (the wire view: ``[48, 1, {}, "com.example.proc", [1]]``) with an
independently created serializer, and encode the router's messages the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from session_helpers import FULL_BROKER, FULL_DEALER, welcome as make_welcome
from wamp_core import Connection, ConnectionEvent, RawSocket, Role, WebSocket, messages as m
from wamp_core.events import Joined
from wamp_core.serializers import Serializer, get_serializer

__all__ = [
    "REALM",
    "RAWSOCKET_IDS",
    "Router",
    "RawSocketRouter",
    "WebSocketRouter",
    "rs_frame",
    "make_pair",
    "open_connection",
    "join_connection",
    "feed",
    "KINDS",
]

REALM = "realm1"
RAWSOCKET_IDS = {"json": 1, "msgpack": 2, "cbor": 3, "ubjson": 4, "flatbuffers": 5}

#: Transport/serializer combinations the connection tests run over.
KINDS = (
    "rs-json",
    "rs-msgpack",
    "rs-cbor",
    "rs-ubjson",
    "ws-json",
    "ws-msgpack",
    "ws-json.batched",
    "ws-cbor.batched",
)


def rs_frame(payload: bytes, frame_type: int = 0) -> bytes:
    """A RawSocket frame built independently of the code under test."""
    return bytes([frame_type]) + len(payload).to_bytes(3, "big") + payload


class Router(Protocol):
    serializer: Serializer
    #: Close frames the client sent (WebSocket only), in order.
    closes: list[CloseConnection]

    def accept(self, request: bytes) -> bytes:
        """Check the client's opening handshake; return the accepting reply."""
        ...

    def frame(self, payload: bytes) -> bytes:
        """One transport message carrying ``payload`` (already serialized)."""
        ...

    def send(self, *messages: m.Message) -> bytes:
        """The bytes of ``messages``, one transport message each."""
        ...

    def send_batch(self, messages: Sequence[m.Message]) -> bytes:
        """All ``messages`` in a single transport message (batched serializers only)."""
        ...

    def receive(self, data: bytes) -> list[list[Any]]:
        """Decode every complete WAMP message in ``data`` into its wire array."""
        ...


class RawSocketRouter:
    """A RawSocket router: announces ``2**(9 + length_exp)`` as its receive limit."""

    def __init__(self, serializer: str, length_exp: int = 15) -> None:
        self.name = serializer
        self.serializer = get_serializer(serializer)
        self.length_exp = length_exp
        self.closes: list[CloseConnection] = []
        self._buf = bytearray()
        self.pings: list[bytes] = []

    def accept(self, request: bytes) -> bytes:
        assert len(request) == 4 and request[0] == 0x7F and request[2:] == b"\0\0", request
        assert request[1] & 0x0F == RAWSOCKET_IDS[self.name]
        return bytes([0x7F, (self.length_exp << 4) | RAWSOCKET_IDS[self.name], 0, 0])

    def frame(self, payload: bytes) -> bytes:
        return rs_frame(payload)

    def send(self, *messages: m.Message) -> bytes:
        return b"".join(rs_frame(self.serializer.encode(msg)) for msg in messages)

    def send_batch(self, messages: Sequence[m.Message]) -> bytes:
        raise AssertionError("RawSocket has no batching")

    def receive(self, data: bytes) -> list[list[Any]]:
        buf = self._buf
        buf += data
        out: list[list[Any]] = []
        while len(buf) >= 4:
            length = int.from_bytes(buf[1:4], "big")
            if len(buf) < 4 + length:
                break
            frame_type, payload = buf[0], bytes(buf[4 : 4 + length])
            del buf[: 4 + length]
            assert frame_type in (0, 1, 2), f"bad frame type {frame_type}"
            if frame_type == 0:
                out.append(self.serializer.loads(payload))
            else:
                self.pings.append(payload)
        return out


class WebSocketRouter:
    """A WebSocket router (wsproto server) that selects ``wamp.2.<serializer>``."""

    def __init__(self, serializer: str) -> None:
        self.name = serializer
        self.serializer = get_serializer(serializer)
        self.ws = WSConnection(ConnectionType.SERVER)
        self.request: Request | None = None
        self.closes: list[CloseConnection] = []
        #: Every wsproto event received, in order (messages, pings, closes).
        self.events: list[Event] = []
        self._partial = bytearray()

    def accept(self, request: bytes) -> bytes:
        self.ws.receive_data(request)
        [event] = list(self.ws.events())
        assert isinstance(event, Request)
        self.request = event
        return self.ws.send(AcceptConnection(subprotocol=f"wamp.2.{self.name}"))

    def reject(self, request: bytes, status: int = 403) -> bytes:
        self.ws.receive_data(request)
        [event] = list(self.ws.events())
        assert isinstance(event, Request)
        return self.ws.send(RejectConnection(status_code=status))

    def frame(self, payload: bytes) -> bytes:
        if self.serializer.binary:
            return self.ws.send(BytesMessage(data=payload))
        return self.ws.send(TextMessage(data=payload.decode("utf-8")))

    def send(self, *messages: m.Message) -> bytes:
        return b"".join(self.frame(self.serializer.encode(msg)) for msg in messages)

    def send_batch(self, messages: Sequence[m.Message]) -> bytes:
        assert self.serializer.batched
        return self.frame(self.serializer.encode_batch(messages))

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        return self.ws.send(CloseConnection(code=code, reason=reason))

    def receive_frames(self, data: bytes) -> list[bytes]:
        """The payloads of the complete WebSocket messages in ``data``; answers closes."""
        self.ws.receive_data(data)
        payloads: list[bytes] = []
        for event in self.ws.events():
            self.events.append(event)
            if isinstance(event, Message):
                chunk = event.data.encode("utf-8") if isinstance(event.data, str) else event.data
                assert isinstance(event, TextMessage) != self.serializer.binary
                self._partial += chunk
                if event.message_finished:
                    payloads.append(bytes(self._partial))
                    self._partial.clear()
            elif isinstance(event, CloseConnection):
                self.closes.append(event)
            elif isinstance(event, Ping):
                pass
        return payloads

    def receive(self, data: bytes) -> list[list[Any]]:
        out: list[list[Any]] = []
        for payload in self.receive_frames(data):
            out.extend(msg.to_list() for msg in _decode_all(self.serializer, payload))
        return out


def _decode_all(serializer: Serializer, payload: bytes) -> list[m.Message]:
    return serializer.decode_all(payload)


def make_pair(
    kind: str,
    *,
    realm: str | None = REALM,
    length_exp: int = 15,
    max_message_size: int = 2**24,
    close_on_leave: bool = True,
) -> tuple[Connection, RawSocketRouter | WebSocketRouter]:
    """A fresh connection (nothing sent yet) and its router, for ``"rs-cbor"``, ``"ws-json"``..."""
    transport, _, serializer = kind.partition("-")
    router: RawSocketRouter | WebSocketRouter
    if transport == "rs":
        framer: RawSocket | WebSocket = RawSocket(Role.CLIENT, serializer=serializer)
        router = RawSocketRouter(serializer, length_exp)
    else:
        framer = WebSocket(
            Role.CLIENT,
            serializers=[serializer],
            host="router.example",
            path="/ws",
            max_message_size=max_message_size,
        )
        router = WebSocketRouter(serializer)
    conn = Connection(framer, close_on_leave=close_on_leave)
    if realm is not None:
        conn.join(realm)
    return conn, router


def open_connection(
    kind: str, **kwargs: Any
) -> tuple[Connection, RawSocketRouter | WebSocketRouter, list[list[Any]]]:
    """A connection whose transport is open; returns what the client sent after opening."""
    conn, router = make_pair(kind, **kwargs)
    conn.initiate()
    events = conn.receive_data(router.accept(conn.data_to_send()))
    assert [type(e).__name__ for e in events] == ["Opened"]
    return conn, router, router.receive(conn.data_to_send())


def join_connection(
    kind: str, *, welcome: m.Welcome | None = None, **kwargs: Any
) -> tuple[Connection, RawSocketRouter | WebSocketRouter]:
    """A connection that has joined ``realm1`` (HELLO received by the router, WELCOME sent)."""
    conn, router, sent = open_connection(kind, **kwargs)
    assert [msg[0] for msg in sent] == [1]
    msg = welcome or make_welcome(broker=FULL_BROKER, dealer=FULL_DEALER)
    events = conn.receive_data(router.send(msg))
    assert [type(e) for e in events] == [Joined]
    assert conn.data_to_send() == b""
    return conn, router


def feed(conn: Connection, data: bytes, cuts: Sequence[int]) -> list[ConnectionEvent]:
    """Feed ``data`` to ``conn`` split at the given offsets."""
    events: list[ConnectionEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > start:  # receive_data(b"") is an error: end of file is receive_eof()
            events += conn.receive_data(data[start:cut])
        start = cut
    return events
