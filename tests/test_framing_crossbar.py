"""The framers against a real Crossbar.io router: handshake, HELLO -> WELCOME, ping, close.

Blocking sockets with timeouts; the HELLO is hand-built (no session layer involved). Crossbar
26 facts pinned here: it answers a RawSocket PING by closing the connection (no PONG; see
``test_crossbar_harness.py``), answers WebSocket pings, completes the WebSocket close handshake,
and refuses an upgrade offering none of its subprotocols with HTTP 400.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import cbor2
import pytest

from crossbar import CrossbarRouter
from wamp_core import Framer, HandshakeError, RawSocket, Role, WebSocket
from wamp_core.events import Closed, FramingEvent, MessageReceived, Opened, PongReceived

HELLO = [1, "realm1", {"roles": {"caller": {}}}]
HELLO_JSON = b'[1,"realm1",{"roles":{"caller":{}}}]'
IO_TIMEOUT = 5.0


def open_socket(url: str) -> socket.socket:
    split = urlsplit(url)
    assert split.hostname is not None and split.port is not None
    return socket.create_connection((split.hostname, split.port), timeout=IO_TIMEOUT)


def pump(
    sock: socket.socket, framer: Framer, done: Callable[[list[FramingEvent]], bool]
) -> list[FramingEvent]:
    """Write what the framer queued, read and feed until ``done(events)`` or end of file."""
    events: list[FramingEvent] = []
    while True:
        out = framer.data_to_send()
        if out:
            sock.sendall(out)
        if done(events):
            return events
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            events += framer.receive_eof()
            return events
        events += framer.receive_data(chunk)


def has(kind: type) -> Callable[[list[FramingEvent]], bool]:
    return lambda events: any(isinstance(e, kind) for e in events)


def welcome_of(events: list[FramingEvent], decode: Callable[[bytes], object]) -> list[object]:
    messages = [e for e in events if isinstance(e, MessageReceived)]
    assert len(messages) == 1, events
    message = decode(messages[0].data)
    assert isinstance(message, list)
    return message


# -- RawSocket ---------------------------------------------------------------------------------


def rawsocket_session(
    crossbar: CrossbarRouter, serializer: str, hello: bytes
) -> tuple[socket.socket, RawSocket, list[FramingEvent]]:
    sock = open_socket(crossbar.rs_url)
    client = RawSocket(Role.CLIENT, serializer=serializer)
    client.initiate()
    opened = pump(sock, client, has(Opened))
    assert opened == [Opened(serializer, 2**24, None, ())]
    client.send_message(hello)
    return sock, client, pump(sock, client, has(MessageReceived))


def test_rawsocket_json_hello_welcome(crossbar: CrossbarRouter) -> None:
    sock, _, events = rawsocket_session(crossbar, "json", HELLO_JSON)
    with sock:
        messages = [e for e in events if isinstance(e, MessageReceived)]
        assert messages[0].data.startswith(b"[2,")
        welcome = welcome_of(events, json.loads)
        assert welcome[0] == 2 and isinstance(welcome[1], int)


def test_rawsocket_cbor_hello_welcome(crossbar: CrossbarRouter) -> None:
    sock, _, events = rawsocket_session(crossbar, "cbor", cbor2.dumps(HELLO))
    with sock:
        welcome = welcome_of(events, cbor2.loads)
        assert welcome[0] == 2
        assert isinstance(welcome[2], dict) and welcome[2]["realm"] == "realm1"


def test_rawsocket_small_receive_limit_is_announced(crossbar: CrossbarRouter) -> None:
    with open_socket(crossbar.rs_url) as sock:
        client = RawSocket(Role.CLIENT, serializer="json", max_receive_size=2**20)
        client.initiate()
        # Crossbar answers with its own limit whatever we announce.
        assert pump(sock, client, has(Opened)) == [Opened("json", 2**24, None, ())]


def test_rawsocket_ping_makes_crossbar_drop_the_connection(crossbar: CrossbarRouter) -> None:
    """Crossbar 26 reads a PING header as a >16 MiB length and closes: no PONG ever comes."""
    sock, client, _ = rawsocket_session(crossbar, "json", HELLO_JSON)
    with sock:
        client.send_ping(b"abcd")
        events = pump(sock, client, has(Closed))
    assert not any(isinstance(e, PongReceived) for e in events)
    assert events[-1] == Closed(None, "connection closed by the peer", False)
    assert client.closed


# -- WebSocket ---------------------------------------------------------------------------------


def websocket_session(
    crossbar: CrossbarRouter, serializers: list[str]
) -> tuple[socket.socket, WebSocket, Opened]:
    sock = open_socket(crossbar.ws_url)
    client = WebSocket.from_url(
        crossbar.ws_url, serializers, extra_headers=[("User-Agent", "wamp-py-tests")]
    )
    client.initiate()
    events = pump(sock, client, has(Opened))
    assert len(events) == 1 and isinstance(events[0], Opened), events
    return sock, client, events[0]


def test_websocket_json_hello_welcome(crossbar: CrossbarRouter) -> None:
    sock, client, opened = websocket_session(crossbar, ["json"])
    with sock:
        assert (opened.serializer, opened.subprotocol) == ("json", "wamp.2.json")
        client.send_message(HELLO_JSON)
        events = pump(sock, client, has(MessageReceived))
    message = next(e for e in events if isinstance(e, MessageReceived))
    assert message.data.startswith(b"[2,")


def test_websocket_cbor_preferred_hello_welcome(crossbar: CrossbarRouter) -> None:
    sock, client, opened = websocket_session(crossbar, ["cbor", "json"])
    with sock:
        assert (opened.serializer, opened.subprotocol) == ("cbor", "wamp.2.cbor")
        client.send_message(cbor2.dumps(HELLO))
        events = pump(sock, client, has(MessageReceived))
    assert welcome_of(events, cbor2.loads)[0] == 2


def test_websocket_ping_pong_and_close_handshake(crossbar: CrossbarRouter) -> None:
    sock, client, _ = websocket_session(crossbar, ["json"])
    with sock:
        client.send_ping(b"rtt-42")
        assert pump(sock, client, has(PongReceived))[-1] == PongReceived(b"rtt-42")
        client.close(1000, "done")
        events = pump(sock, client, has(Closed))
    closed = events[-1]
    assert isinstance(closed, Closed) and closed.clean and closed.code == 1000
    assert client.closed


def test_websocket_no_common_subprotocol(crossbar: CrossbarRouter) -> None:
    with open_socket(crossbar.ws_url) as sock:
        client = WebSocket.from_url(crossbar.ws_url, ["flatbuffers"])
        client.initiate()
        with pytest.raises(HandshakeError) as info:
            pump(sock, client, has(Opened))
    assert info.value.code == 400
    assert "only speaks WebSocket subprotocols" in str(info.value)
    assert client.closed


def test_websocket_unknown_path_is_refused(crossbar: CrossbarRouter) -> None:
    url = crossbar.ws_url.replace("/ws", "/no-such-path")
    with open_socket(url) as sock:
        client = WebSocket.from_url(url, ["json"])
        client.initiate()
        with pytest.raises(HandshakeError) as info:
            pump(sock, client, has(Opened))
    assert info.value.code == 404
