"""The server role of both framers: against our client role in memory, and against independent
peers (hand-built RawSocket bytes, a real wsproto client, raw HTTP).

What goes on the wire is asserted byte for byte where the protocol fixes it. Every parser is fed
whole, byte by byte, at arbitrary splits and with trailing data; arbitrary bytes into a server
raise only our protocol/handshake errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from hypothesis import given, strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from wamp_core import (
    SERIALIZER_NAMES,
    Framer,
    HandshakeError,
    MessageTooLarge,
    PayloadTooLarge,
    ProtocolError,
    RawSocket,
    RemoteProtocolError,
    Role,
    WebSocket,
)
from wamp_core.events import Closed, FramingEvent, MessageReceived, Opened, PongReceived

#: RawSocket serializer ids of the spec, restated independently of the code under test.
RAWSOCKET_IDS = {"json": 1, "msgpack": 2, "cbor": 3, "ubjson": 4, "flatbuffers": 5}
TEXT = {"json", "json.batched"}
HELLO = b'[1,"realm1",{"roles":{"caller":{}}}]'
WELCOME = b'[2,1234,{"roles":{"broker":{}}}]'

AnyFramer = RawSocket | WebSocket


def feed(framer: Framer, data: bytes, cuts: list[int]) -> list[FramingEvent]:
    """Feed ``data`` split at the given offsets."""
    events: list[FramingEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += framer.receive_data(data[start:cut])
        start = cut
    return events


def byte_by_byte(framer: Framer, data: bytes) -> list[FramingEvent]:
    return feed(framer, data, list(range(len(data))))


def pump(a: Framer, b: Framer) -> tuple[list[FramingEvent], list[FramingEvent]]:
    """Move the queued bytes both ways until both are quiet; the events of ``a`` and ``b``."""
    events_a: list[FramingEvent] = []
    events_b: list[FramingEvent] = []
    while True:
        out_a, out_b = a.data_to_send(), b.data_to_send()
        if not out_a and not out_b:
            return events_a, events_b
        if out_a:
            events_b += b.receive_data(out_a)
        if out_b:
            events_a += a.receive_data(out_b)


def rs_frame(payload: bytes, frame_type: int = 0) -> bytes:
    return bytes([frame_type]) + len(payload).to_bytes(3, "big") + payload


def rs_pair(
    serializer: str = "cbor",
    accepted: tuple[str, ...] = ("json", "msgpack", "cbor", "ubjson", "flatbuffers"),
    client_size: int = 2**24,
    server_size: int = 2**24,
) -> tuple[RawSocket, RawSocket]:
    client = RawSocket(Role.CLIENT, serializer=serializer, max_receive_size=client_size)
    server = RawSocket(Role.SERVER, serializers=accepted, max_receive_size=server_size)
    client.initiate()
    server.initiate()
    return client, server


def ws_pair(
    serializers: list[str] | None = None,
    accepted: tuple[str, ...] = SERIALIZER_NAMES,
    client_size: int = 2**24,
    server_size: int = 2**24,
    path: str = "/ws",
    paths: tuple[str, ...] | None = None,
) -> tuple[WebSocket, WebSocket]:
    client = WebSocket(
        Role.CLIENT,
        serializers=serializers or ["cbor"],
        host="router.example",
        port=8080,
        path=path,
        extra_headers=[("X-Tenant", "t1"), ("Cookie", "a=b")],
        max_message_size=client_size,
    )
    server = WebSocket(Role.SERVER, serializers=accepted, paths=paths, max_message_size=server_size)
    client.initiate()
    server.initiate()
    return client, server


def opened_pair(kind: str, serializer: str) -> tuple[AnyFramer, AnyFramer]:
    pair: tuple[AnyFramer, AnyFramer] = (
        rs_pair(serializer) if kind == "rs" else ws_pair([serializer])
    )
    events_c, events_s = pump(*pair)
    assert [type(e) for e in events_c] == [Opened]
    assert [type(e) for e in events_s] == [Opened]
    return pair


def server_close_code(frame: bytes) -> int:
    """The code of one (unmasked) close frame from a server."""
    assert frame[0] == 0x88 and frame[1] == len(frame) - 2, frame
    return int.from_bytes(frame[2:4], "big")


def unmask(frame: bytes) -> tuple[int, bytes]:
    """First byte and payload of one small masked client frame (asserting it is masked)."""
    assert frame[1] & 0x80, "client frames must be masked"
    length = frame[1] & 0x7F
    assert length < 126
    key, data = frame[2:6], frame[6 : 6 + length]
    assert len(frame) == 6 + length
    return frame[0], bytes(b ^ key[i % 4] for i, b in enumerate(data))


KINDS = [("rs", name) for name in RAWSOCKET_IDS] + [("ws", name) for name in SERIALIZER_NAMES]


# -- client role <-> server role, every serializer ---------------------------------------------


@pytest.mark.parametrize("serializer", list(RAWSOCKET_IDS))
def test_rawsocket_handshake_bytes_and_opened_both_sides(serializer: str) -> None:
    client, server = rs_pair(serializer, client_size=2**16, server_size=2**20)
    request = client.data_to_send()
    assert request == bytes([0x7F, (7 << 4) | RAWSOCKET_IDS[serializer], 0, 0])
    assert server.receive_data(request) == [Opened(serializer, 2**16, None, ())]
    reply = server.data_to_send()
    assert reply == bytes([0x7F, (11 << 4) | RAWSOCKET_IDS[serializer], 0, 0])
    assert client.receive_data(reply) == [Opened(serializer, 2**20, None, ())]
    assert server.serializer == client.serializer == serializer
    assert (server.max_send_size, client.max_send_size) == (2**16, 2**20)


@pytest.mark.parametrize("serializer", SERIALIZER_NAMES)
def test_websocket_handshake_and_opened_both_sides(serializer: str) -> None:
    client, server = ws_pair([serializer], accepted=(serializer,), server_size=5000)
    request = client.data_to_send()
    [opened] = server.receive_data(request)
    subprotocol = f"wamp.2.{serializer}"
    assert opened == Opened(
        serializer,
        5000,
        subprotocol,
        (),
        "/ws",
        (("host", "router.example:8080"), ("x-tenant", "t1"), ("cookie", "a=b")),
    )
    response = server.data_to_send()
    assert response.startswith(b"HTTP/1.1 101 ")
    assert f"\r\nSec-WebSocket-Protocol: {subprotocol}\r\n".encode() in response
    assert client.receive_data(response) == [Opened(serializer, 2**24, subprotocol, ())]
    assert server.serializer == client.serializer == serializer


@pytest.mark.parametrize(("kind", "serializer"), KINDS)
def test_messages_both_ways_on_the_wire(kind: str, serializer: str) -> None:
    client, server = opened_pair(kind, serializer)
    client.send_message(HELLO)
    up = client.data_to_send()
    server.send_message(WELCOME)
    down = server.data_to_send()
    if kind == "rs":
        assert up == rs_frame(HELLO)
        assert down == rs_frame(WELCOME)
    else:
        opcode = 0x81 if serializer in TEXT else 0x82  # FIN + TEXT/BINARY
        assert unmask(up) == (opcode, HELLO)
        assert down == bytes([opcode, len(WELCOME)]) + WELCOME  # server frames are unmasked
    assert server.receive_data(up) == [MessageReceived(HELLO)]
    assert client.receive_data(down) == [MessageReceived(WELCOME)]


@pytest.mark.parametrize(("kind", "serializer"), KINDS)
def test_pings_both_ways_are_answered(kind: str, serializer: str) -> None:
    client, server = opened_pair(kind, serializer)
    server.send_ping(b"s1")
    ping = server.data_to_send()
    assert ping == (rs_frame(b"s1", 1) if kind == "rs" else bytes([0x89, 2]) + b"s1")
    assert client.receive_data(ping) == []
    pong = client.data_to_send()
    if kind == "rs":
        assert pong == rs_frame(b"s1", 2)
    else:
        assert unmask(pong) == (0x8A, b"s1")
    assert server.receive_data(pong) == [PongReceived(b"s1")]
    client.send_ping(b"c1")
    events_c, events_s = pump(client, server)
    assert (events_c, events_s) == ([PongReceived(b"c1")], [])


def conversation(kind: str, serializer: str) -> tuple[bytes, bytes, list[FramingEvent]]:
    """A client's whole output (handshake, messages, a ping), the reference server's answer
    to it fed whole, and the server's events."""
    client, reference = rs_pair(serializer) if kind == "rs" else ws_pair([serializer])
    stream = client.data_to_send()
    events = reference.receive_data(stream)
    answer = reference.data_to_send()
    client.receive_data(answer)
    for message in (HELLO, b"", b"[3]" * 200):
        client.send_message(message)
    client.send_ping(b"are you there")
    client.send_message(b"[4]")
    tail = client.data_to_send()
    stream += tail
    events += reference.receive_data(tail)
    answer += reference.data_to_send()
    return stream, answer, events


@pytest.mark.parametrize(("kind", "serializer"), KINDS)
def test_server_input_byte_by_byte_and_in_one_chunk(kind: str, serializer: str) -> None:
    """Everything the client sent, including frames right behind the handshake (trailing
    data), gives the same events and the same answer bytes however it is split."""
    stream, answer, events = conversation(kind, serializer)
    assert [type(e) for e in events] == [Opened, *[MessageReceived] * 4]
    fresh = rs_pair(serializer)[1] if kind == "rs" else ws_pair([serializer])[1]
    assert fresh.receive_data(stream) == events
    assert fresh.data_to_send() == answer
    slow = rs_pair(serializer)[1] if kind == "rs" else ws_pair([serializer])[1]
    assert byte_by_byte(slow, stream) == events
    assert slow.data_to_send() == answer


@given(kind=st.sampled_from(KINDS), data=st.data())
def test_server_input_at_any_split(kind: tuple[str, str], data: st.DataObject) -> None:
    stream, answer, events = conversation(*kind)
    server = rs_pair(kind[1])[1] if kind[0] == "rs" else ws_pair([kind[1]])[1]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=15))
    assert feed(server, stream, cuts) == events
    assert server.data_to_send() == answer


@given(kind=st.sampled_from(KINDS), data=st.data())
def test_client_input_from_a_server_at_any_split(
    kind: tuple[str, str], data: st.DataObject
) -> None:
    transport, serializer = kind
    client, server = rs_pair(serializer) if transport == "rs" else ws_pair([serializer])
    server.receive_data(client.data_to_send())
    for message in (WELCOME, b"", b"[8]" * 300):
        server.send_message(message)
    server.send_ping(b"ping")
    stream = server.data_to_send()
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=15))
    events = feed(client, stream, cuts)
    assert [type(e) for e in events] == [Opened, *[MessageReceived] * 3]
    assert [e.data for e in events[1:] if isinstance(e, MessageReceived)] == [
        WELCOME,
        b"",
        b"[8]" * 300,
    ]
    assert server.receive_data(client.data_to_send()) == [PongReceived(b"ping")]


# -- closing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("initiator", ["client", "server"])
def test_websocket_close_handshake_either_way(initiator: str) -> None:
    client, server = opened_pair("ws", "cbor")
    first, second = (client, server) if initiator == "client" else (server, client)
    first.close(1001, "going away")
    close = first.data_to_send()
    assert not first.closed and not first.is_open
    assert second.receive_data(close) == [Closed(1001, "going away", True)]
    assert second.closed
    echo = second.data_to_send()
    assert first.receive_data(echo) == [Closed(1001, "going away", True)]
    assert first.closed
    if initiator == "server":
        assert close == bytes([0x88, 12]) + (1001).to_bytes(2, "big") + b"going away"
    else:
        assert echo == bytes([0x88, 12]) + (1001).to_bytes(2, "big") + b"going away"
    assert first.receive_eof() == second.receive_eof() == []


def test_rawsocket_close_sends_nothing_and_eof_is_reported() -> None:
    client, server = opened_pair("rs", "json")
    server.close()
    assert server.closed and server.data_to_send() == b""
    assert server.receive_data(rs_frame(b"late")) == []
    assert client.receive_eof() == [Closed(None, "connection closed by the peer", False)]


@pytest.mark.parametrize("kind", ["rs", "ws"])
def test_server_eof_when_open_and_during_the_handshake(kind: str) -> None:
    _, server = opened_pair(kind, "json")
    [closed] = server.receive_eof()
    assert isinstance(closed, Closed) and not closed.clean
    fresh = rs_pair()[1] if kind == "rs" else ws_pair()[1]
    fresh.receive_data(b"\x7f" if kind == "rs" else b"GET /ws HTTP/1.1\r\n")
    with pytest.raises(HandshakeError, match="handshake"):
        fresh.receive_eof()
    assert fresh.data_to_send() == b""


def test_server_close_before_the_request_abandons_it() -> None:
    _, server = ws_pair()
    server.close()
    assert server.closed and server.data_to_send() == b""
    assert server.receive_data(b"GET / HTTP/1.1\r\n\r\n") == []


# -- limits ------------------------------------------------------------------------------------


def test_rawsocket_limits_both_ways() -> None:
    client, server = rs_pair("cbor", client_size=1024, server_size=512)
    pump(client, server)
    with pytest.raises(MessageTooLarge):
        client.send_message(b"x" * 513)  # the server announced 512
    with pytest.raises(MessageTooLarge):
        server.send_message(b"x" * 1025)  # the client announced 1024
    assert client.data_to_send() == server.data_to_send() == b""
    server.send_message(b"x" * 1024)
    client.send_message(b"y" * 512)
    events_c, events_s = pump(client, server)
    assert (events_c, events_s) == ([MessageReceived(b"x" * 1024)], [MessageReceived(b"y" * 512)])
    # a client that ignores the limit: refused from the header, before the payload
    with pytest.raises(PayloadTooLarge, match="513 bytes"):
        server.receive_data(bytes([0, 0, 2, 1]))
    assert server.closed and server.data_to_send() == b""


def test_websocket_server_limit_closes_1009() -> None:
    client, server = ws_pair(client_size=1000, server_size=100)
    pump(client, server)
    client.send_message(b"x" * 100)
    assert server.receive_data(client.data_to_send()) == [MessageReceived(b"x" * 100)]
    client.send_message(b"x" * 101)
    with pytest.raises(PayloadTooLarge):
        server.receive_data(client.data_to_send())
    assert server.closed
    close = server.data_to_send()
    assert server_close_code(close) == 1009
    [closed] = client.receive_data(close)
    assert isinstance(closed, Closed) and closed.code == 1009 and closed.clean
    # the server's own sends are bounded by its limit (WebSocket negotiates none)
    _, other = opened_pair("ws", "cbor")
    assert isinstance(other, WebSocket)
    with pytest.raises(MessageTooLarge):
        other.send_message(b"x" * (2**24 + 1))
    assert other.data_to_send() == b"" and other.is_open


def test_websocket_server_bounds_a_fragmented_message() -> None:
    peer = WSConnection(ConnectionType.CLIENT)
    server = WebSocket(Role.SERVER, serializers=["cbor"], max_message_size=1000)
    server.initiate()
    server.receive_data(peer.send(Request(host="h", target="/", subprotocols=["wamp.2.cbor"])))
    peer.receive_data(server.data_to_send())
    assert isinstance(next(peer.events()), AcceptConnection)
    for _ in range(3):
        data = peer.send(BytesMessage(data=b"a" * 300, message_finished=False))
        assert server.receive_data(data) == []
    with pytest.raises(PayloadTooLarge):
        server.receive_data(peer.send(BytesMessage(data=b"a" * 101, message_finished=False)))
    peer.receive_data(server.data_to_send())
    [close] = list(peer.events())
    assert isinstance(close, CloseConnection) and close.code == 1009


def test_websocket_server_rejects_unmasked_client_frames() -> None:
    _, server = opened_pair("ws", "cbor")
    with pytest.raises(RemoteProtocolError, match="invalid WebSocket data from the client"):
        server.receive_data(bytes([0x82, 3]) + b"abc")  # unmasked
    assert server_close_code(server.data_to_send()) == 1002
    assert server.closed


# -- rejection paths ---------------------------------------------------------------------------


def test_rawsocket_unsupported_serializer_is_refused_with_error_1() -> None:
    client, server = rs_pair("msgpack", accepted=("cbor", "json"))
    with pytest.raises(HandshakeError) as refused:
        server.receive_data(client.data_to_send())
    assert refused.value.code == 1
    reply = server.data_to_send()
    assert reply == bytes([0x7F, 0x10, 0, 0])
    with pytest.raises(HandshakeError, match="serializer unsupported") as seen:
        client.receive_data(reply)
    assert seen.value.code == 1
    assert client.closed and server.closed


def test_websocket_no_common_subprotocol_is_refused_with_400() -> None:
    client, server = ws_pair(["msgpack", "json.batched"], accepted=("cbor", "json"))
    with pytest.raises(HandshakeError, match="offered none of our subprotocols") as refused:
        server.receive_data(client.data_to_send())
    assert refused.value.code == 400
    assert "'wamp.2.msgpack, wamp.2.json.batched'" in str(refused.value)
    response = server.data_to_send()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nContent-Length: %d\r\n" % len(body) in head + b"\r\n"
    assert body == b"no common WAMP subprotocol; accepted: wamp.2.cbor, wamp.2.json\n"
    assert server.closed and not server.is_open
    with pytest.raises(HandshakeError, match="HTTP 400 Bad Request: no common WAMP") as seen:
        client.receive_data(response)
    assert seen.value.code == 400


def test_websocket_server_takes_the_clients_first_accepted_offer() -> None:
    """The client's order is its preference, as Crossbar.io chooses (a review: the server's
    own order, json first by default, gave every cbor-first client json)."""
    client, server = ws_pair(["json", "msgpack", "cbor"], accepted=("cbor", "msgpack"))
    events_c, events_s = pump(client, server)
    assert events_s[0] == Opened(
        "msgpack",
        2**24,
        "wamp.2.msgpack",
        (),
        "/ws",
        (("host", "router.example:8080"), ("x-tenant", "t1"), ("cookie", "a=b")),
    )
    assert isinstance(events_c[0], Opened) and events_c[0].serializer == "msgpack"
    client, server = ws_pair(["cbor", "json"])  # (the server accepts all, json first)
    events_c, _ = pump(client, server)
    assert isinstance(events_c[0], Opened) and events_c[0].serializer == "cbor"


@pytest.mark.parametrize(
    ("path", "status"), [("/ws", 101), ("/ws?token=1", 101), ("/other", 404), ("/ws/", 404)]
)
def test_websocket_server_paths(path: str, status: int) -> None:
    client, server = ws_pair(path=path, paths=("/ws", "/wamp"))
    try:
        events = server.receive_data(client.data_to_send())
    except HandshakeError as exc:
        assert exc.code == status == 404
        response = server.data_to_send()
        assert response.startswith(b"HTTP/1.1 404 Not Found\r\n")
        assert response.endswith(b"\r\n\r\nno WAMP endpoint at this path\n")
        with pytest.raises(HandshakeError) as seen:
            client.receive_data(response)
        assert seen.value.code == 404
    else:
        assert status == 101
        [opened] = events
        assert isinstance(opened, Opened) and opened.path == path


def test_websocket_server_paths_match_an_absolute_form_target() -> None:
    """RFC 9112 3.2.2: a server must accept ``GET http://host/path`` (it answered 404)."""
    server = server_ws(paths=("/ws",))
    [opened] = server.receive_data(
        raw_request("Sec-WebSocket-Protocol: wamp.2.json", target="http://router.example/ws?t=1")
    )
    assert isinstance(opened, Opened) and opened.serializer == "json"
    refused = server_ws(paths=("/ws",))
    with pytest.raises(HandshakeError) as info:
        refused.receive_data(raw_request(target="http://router.example/other"))
    assert info.value.code == 404


def test_a_content_length_of_zero_is_no_body() -> None:
    server = server_ws()
    [opened] = server.receive_data(
        raw_request("Sec-WebSocket-Protocol: wamp.2.json", "Content-Length: 0")
    )
    assert isinstance(opened, Opened)


def raw_request(*lines: str, method: str = "GET", target: str = "/ws") -> bytes:
    head = [
        f"{method} {target} HTTP/1.1",
        "Host: router.example",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")


def server_ws(**kwargs: object) -> WebSocket:
    server = WebSocket(Role.SERVER, serializers=["cbor", "json"], **kwargs)  # type: ignore[arg-type]
    server.initiate()
    return server


def test_rfc6455_sample_handshake_is_answered_exactly() -> None:
    server = server_ws()
    events = byte_by_byte(server, raw_request("Sec-WebSocket-Protocol: chat, wamp.2.json"))
    assert events == [
        Opened("json", 2**24, "wamp.2.json", (), "/ws", (("host", "router.example"),))
    ]
    assert server.data_to_send() == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"  # RFC 6455 1.3
        b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("request_bytes", "status", "match"),
    [
        (raw_request("Sec-WebSocket-Protocol: wamp.2.cbor", method="POST"), 400, "GET"),
        (raw_request("Sec-WebSocket-Protocol: wamp.2.cbor").replace(b"13", b"8"), 426, "Version"),
        (
            raw_request().replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""),
            400,
            "Key",
        ),
        (raw_request().replace(b"Connection: Upgrade", b"Connection: keep-alive"), 400, "Upgrade"),
        (raw_request().replace(b"Host: router.example\r\n", b""), 400, "Bad HTTP"),
        (b"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", 400, "Connection"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "0x16"),  # TLS ClientHello
        (b"\r\nGET / HTTP/1.1\r\n\r\n", 400, "0x0D"),
        (b"GET / HTTP/1.1\n\n", 400, "Host"),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "Bad HTTP"),
        (raw_request("Sec-WebSocket-Protocol: wamp.2.\xff"), 400, "invalid WebSocket upgrade"),
        (raw_request("Sec-WebSocket-Extensions: \xff"), 400, "invalid WebSocket upgrade"),
        (raw_request("Connection: \xff"), 400, "invalid WebSocket upgrade"),
        (raw_request().replace(b"Host: router.example", b"Host: xn--a"), 400, "IDNA name"),
        (raw_request().replace(b"Host: router.example", b"Host: \xff"), 400, "invalid"),
        # RFC 6455 4.2.1: HTTP/1.1 or higher, a key of 16 bytes in base64 (one key)
        (raw_request().replace(b"HTTP/1.1", b"HTTP/1.0"), 400, "HTTP/1.1 is needed"),
        (raw_request().replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"abc"), 400, "16-byte"),
        (raw_request().replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"dGhlIHNhbXBsZQ=="), 400, "16-byte"),
        (raw_request("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="), 400, "16-byte"),
        # a body would be read as frames (RFC 9110 7.8: the new protocol starts after it)
        (raw_request("Content-Length: 6") + b"\x81\x80abcd", 400, "must not have a body"),
        (raw_request("Transfer-Encoding: chunked") + b"0\r\n\r\n", 400, "must not have a body"),
    ],
)
def test_bad_upgrade_requests_get_an_http_error_and_a_protocol_error(
    request_bytes: bytes, status: int, match: str
) -> None:
    server = server_ws()
    with pytest.raises(RemoteProtocolError, match=match):
        feed(server, request_bytes, [1])
    response = server.data_to_send()
    phrase = {400: b"Bad Request", 426: b"Upgrade Required"}[status]
    assert response.startswith(b"HTTP/1.1 %d %s\r\n" % (status, phrase))
    assert response.endswith(b"\r\n\r\nbad WebSocket upgrade request\n")
    if status == 426:
        assert b"\r\nSec-WebSocket-Version: 13\r\n" in response
    assert server.closed
    with pytest.raises(ProtocolError, match="already failed"):
        server.receive_data(b"x")


def test_oversized_request_head_gets_431_without_waiting_for_its_end() -> None:
    server = server_ws()
    server.receive_data(b"GET /ws HTTP/1.1\r\n")
    with pytest.raises(RemoteProtocolError, match="exceeds 16384 bytes"):
        for _ in range(40):
            server.receive_data(b"X-Filler: " + b"a" * 500 + b"\r\n")
    assert server.data_to_send().startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_an_independent_wsproto_client_sees_our_rejection() -> None:
    peer = WSConnection(ConnectionType.CLIENT)
    server = server_ws()
    with pytest.raises(HandshakeError):
        server.receive_data(peer.send(Request(host="h", target="/", subprotocols=["mqtt"])))
    peer.receive_data(server.data_to_send())
    events: list[Event] = list(peer.events())
    assert isinstance(events[0], RejectConnection) and events[0].status_code == 400
    body = b"".join(e.data for e in events if isinstance(e, RejectData))
    assert body == b"no common WAMP subprotocol; accepted: wamp.2.cbor, wamp.2.json\n"


def test_an_independent_wsproto_client_talks_to_our_server() -> None:
    peer = WSConnection(ConnectionType.CLIENT)
    server = server_ws()
    request = peer.send(
        Request(host="h", target="/x?y", subprotocols=["wamp.2.cbor", "wamp.2.json"])
    )
    [opened] = server.receive_data(request)
    assert isinstance(opened, Opened) and opened.serializer == "cbor" and opened.path == "/x?y"
    peer.receive_data(server.data_to_send())
    [accept] = list(peer.events())
    assert isinstance(accept, AcceptConnection) and accept.subprotocol == "wamp.2.cbor"
    data = peer.send(BytesMessage(data=HELLO)) + peer.send(Ping(payload=b"p"))
    assert server.receive_data(data) == [MessageReceived(HELLO)]
    server.send_message(WELCOME)
    peer.receive_data(server.data_to_send())
    events = list(peer.events())
    assert events == [Pong(payload=b"p"), BytesMessage(data=WELCOME)]  # unmasked, as parsed
    # text for a binary serializer: 1003
    with pytest.raises(RemoteProtocolError, match="TEXT"):
        server.receive_data(peer.send(TextMessage(data="[1]")))
    peer.receive_data(server.data_to_send())
    closes = [e for e in peer.events() if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1003]


# -- robustness --------------------------------------------------------------------------------


def check_only_our_errors(server: AnyFramer, stream: bytes, cuts: list[int]) -> None:
    try:
        feed(server, stream, cuts)
    except (ProtocolError, HandshakeError):
        assert server.closed
        with pytest.raises(ProtocolError):
            server.receive_data(b"\x00")
    server.data_to_send()
    try:
        server.receive_eof()
    except HandshakeError:
        assert server.closed


http_like = st.lists(
    st.sampled_from(
        [
            b"GET /ws HTTP/1.1\r\n",
            b"Host: h\r\n",
            b"Upgrade: websocket\r\n",
            b"Connection: Upgrade\r\n",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            b"Sec-WebSocket-Version: 13\r\n",
            b"Sec-WebSocket-Protocol: wamp.2.cbor\r\n",
            b"\r\n",
            b"\n",
            b"\xff",
            b": ",
        ]
    )
    | st.binary(max_size=20),
    max_size=14,
).map(b"".join)


@given(
    kind=st.sampled_from(["rs", "ws"]),
    prefix=st.booleans(),
    garbage=st.binary(min_size=1, max_size=300) | http_like,
    data=st.data(),
)
def test_arbitrary_bytes_into_a_server_raise_only_our_errors(
    kind: str, prefix: bool, garbage: bytes, data: st.DataObject
) -> None:
    """Arbitrary input, alone or behind a valid handshake, at any split."""
    client, server = (
        rs_pair("cbor", server_size=1024) if kind == "rs" else ws_pair(server_size=1024)
    )
    stream = (client.data_to_send() if prefix else b"") + garbage
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    check_only_our_errors(server, stream, cuts)


# -- logging -----------------------------------------------------------------------------------


def provoke_failures() -> None:
    attacks: list[tuple[Callable[[], AnyFramer], bytes]] = [
        (lambda: rs_pair()[1], b"GET / HTTP/1.1\r\n"),
        (lambda: rs_pair(accepted=("json",))[1], bytes([0x7F, 0xF3, 0, 0])),
        (lambda: rs_pair()[1], bytes([0x7F, 0xF3, 0, 0, 0xFF, 0, 0, 0])),
        (lambda: ws_pair()[1], b"\x16\x03\x01"),
        (lambda: ws_pair()[1], b"GET / HTTP/1.1\r\nHost: \xff\r\n\r\n"),
        (lambda: ws_pair()[1], raw_request("Sec-WebSocket-Protocol: x")),
        (lambda: ws_pair(paths=("/a",))[1], raw_request("Sec-WebSocket-Protocol: wamp.2.cbor")),
        (lambda: ws_pair()[1], raw_request("Sec-WebSocket-Protocol: wamp.2.cbor") + b"\x82\x00"),
    ]
    for make, data in attacks:
        with pytest.raises((ProtocolError, HandshakeError)):
            make().receive_data(data)
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    with pytest.raises(HandshakeError):
        client.receive_data(b"HTTP/1.1 101 OK\r\nConnection: \xff\r\n\r\n")


def test_peer_misbehaviour_is_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="wamp_core"):
        provoke_failures()
    records = [r for r in caplog.records if r.name.startswith("wamp_core._framing")]
    assert len(records) >= 9
    assert {r.levelno for r in records} == {logging.DEBUG}
    failures = [r for r in records if "failed" in r.getMessage()]
    assert len(failures) == 9
    assert any("(server) failed" in r.getMessage() for r in failures)
