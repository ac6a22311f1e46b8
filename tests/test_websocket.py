"""WebSocket client-role framing, against a scripted wsproto *server* connection (no network).

Also the role-aware constructor's validation; ``test_framing_server.py`` covers the server role
(against our client role and against an independent wsproto client).
"""

from __future__ import annotations

import re

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
from wsproto.utilities import generate_accept_token

from wamp_core import (
    ConfigurationError,
    Framer,
    HandshakeError,
    LocalProtocolError,
    MessageTooLarge,
    PayloadTooLarge,
    ProtocolError,
    Role,
    WebSocket,
)
from wamp_core.events import Closed, FramingEvent, MessageReceived, Opened, PongReceived


class Server:
    """The router side, a real wsproto server connection."""

    def __init__(self) -> None:
        self.ws = WSConnection(ConnectionType.SERVER)

    def receive(self, data: bytes) -> list[Event]:
        self.ws.receive_data(data)
        return list(self.ws.events())

    def send(self, event: Event) -> bytes:
        return self.ws.send(event)


def connect(
    serializers: list[str] | None = None,
    select: str | None = "wamp.2.cbor",
    max_message_size: int = 2**24,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> tuple[WebSocket, Server, list[FramingEvent]]:
    client = WebSocket(
        Role.CLIENT,
        serializers=serializers or ["cbor", "json"],
        host="router.example",
        port=8080,
        path="/ws",
        max_message_size=max_message_size,
    )
    client.initiate()
    server = Server()
    [request] = server.receive(client.data_to_send())
    assert isinstance(request, Request)
    accept = server.send(AcceptConnection(subprotocol=select, extra_headers=extra or []))
    return client, server, client.receive_data(accept)


def opened(
    serializers: list[str] | None = None, select: str = "wamp.2.cbor", max_message_size: int = 2**24
) -> tuple[WebSocket, Server]:
    client, server, events = connect(serializers, select, max_message_size)
    assert [type(e) for e in events] == [Opened]
    return client, server


def feed(client: WebSocket, data: bytes, cuts: list[int]) -> list[FramingEvent]:
    events: list[FramingEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += client.receive_data(data[start:cut])
        start = cut
    return events


def request_head(client: WebSocket) -> dict[str, str]:
    client.initiate()
    raw = client.data_to_send().decode("latin-1")
    lines = raw.split("\r\n")
    headers = {"request-line": lines[0]}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            assert name.lower() not in headers, f"duplicate header {name}"
            headers[name.lower()] = value.strip()
    return headers


def test_is_a_framer() -> None:
    framer: Framer = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    assert not framer.is_open and not framer.closed


# -- the upgrade request -----------------------------------------------------------------------


def test_request_offers_subprotocols_in_order_and_sends_extra_headers() -> None:
    client = WebSocket(
        Role.CLIENT,
        serializers=["cbor.batched", "cbor", "msgpack", "json"],
        host="router.example",
        port=8080,
        path="/ws?x=1",
        extra_headers=[("Authorization", "Bearer abc"), ("X-Trace", "t-1")],
    )
    head = request_head(client)
    assert head["request-line"] == "GET /ws?x=1 HTTP/1.1"
    assert head["host"] == "router.example:8080"
    assert head["upgrade"].lower() == "websocket"
    assert head["sec-websocket-version"] == "13"
    assert head["sec-websocket-protocol"] == (
        "wamp.2.cbor.batched, wamp.2.cbor, wamp.2.msgpack, wamp.2.json"
    )
    assert head["authorization"] == "Bearer abc"
    assert head["x-trace"] == "t-1"


def test_extra_headers_as_mapping() -> None:
    head = request_head(
        WebSocket(Role.CLIENT, serializers="json", host="h", extra_headers={"Cookie": "a=b"})
    )
    assert head["cookie"] == "a=b"
    assert head["sec-websocket-protocol"] == "wamp.2.json"


@pytest.mark.parametrize(
    ("kwargs", "host_header"),
    [
        ({"host": "example.com"}, "example.com"),
        ({"host": "example.com", "port": 80}, "example.com"),
        ({"host": "example.com", "port": 443}, "example.com:443"),
        ({"host": "example.com", "secure": True}, "example.com"),
        ({"host": "example.com", "port": 443, "secure": True}, "example.com"),
        ({"host": "example.com", "port": 80, "secure": True}, "example.com:80"),
        ({"host": "127.0.0.1", "port": 18080}, "127.0.0.1:18080"),
        ({"host": "::1", "port": 9000}, "[::1]:9000"),
        ({"host": "::1"}, "[::1]"),
    ],
)
def test_host_header_has_port_only_when_not_default(
    kwargs: dict[str, object], host_header: str
) -> None:
    head = request_head(WebSocket(Role.CLIENT, serializers=["json"], **kwargs))  # type: ignore[arg-type]
    assert head["host"] == host_header


@pytest.mark.parametrize(
    ("url", "host", "target"),
    [
        ("ws://127.0.0.1:18080/ws", "127.0.0.1:18080", "/ws"),
        ("wss://Router.Example/ws", "router.example", "/ws"),
        ("wss://router.example:8443", "router.example:8443", "/"),
        ("ws://[::1]:80/a/b?c=d&e", "[::1]", "/a/b?c=d&e"),
    ],
)
def test_from_url(url: str, host: str, target: str) -> None:
    head = request_head(WebSocket.from_url(url, ["cbor"], extra_headers=[("X-A", "1")]))
    assert head["host"] == host
    assert head["request-line"] == f"GET {target} HTTP/1.1"
    assert head["x-a"] == "1"


@pytest.mark.parametrize(
    "url", ["http://h/ws", "rs://h:1", "ws://", "ws://h:99999/", "ws://h/#frag", "h:80"]
)
def test_from_url_rejects(url: str) -> None:
    with pytest.raises(ConfigurationError):
        WebSocket.from_url(url, ["json"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"serializers": []},
        {"serializers": ["bson"]},
        {"serializers": ["flatbuffers.batched"]},
        {"serializers": ["json", "json"]},
        {"host": ""},
        {"port": 0},
        {"port": 65536},
        {"path": "ws"},
        {"path": "/wé"},
        {"path": "/a b"},
        {"extra_headers": [("Host", "evil")]},
        {"extra_headers": [("sec-websocket-protocol", "wamp.2.json")]},
        {"extra_headers": [("Bad Name", "v")]},
        {"extra_headers": [("X-A", "line\r\nbreak")]},
        {"extra_headers": [("X-A",)]},
        {"max_message_size": 0},
        {"max_message_size": True},
    ],
)
def test_bad_configuration(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"serializers": ["json"], "host": "h"}
    args.update(kwargs)
    with pytest.raises(ConfigurationError):
        WebSocket(Role.CLIENT, **args)  # type: ignore[arg-type]


def test_initiate_twice_and_receive_before_initiate() -> None:
    client = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    with pytest.raises(LocalProtocolError):
        client.receive_data(b"HTTP/1.1 101 ")
    client.initiate()
    with pytest.raises(LocalProtocolError):
        client.initiate()


# -- the upgrade response ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("select", "serializer"),
    [
        ("wamp.2.cbor", "cbor"),
        ("wamp.2.json", "json"),
        ("wamp.2.msgpack.batched", "msgpack.batched"),
    ],
)
def test_server_selects_an_offered_subprotocol(select: str, serializer: str) -> None:
    client, _, events = connect(
        ["msgpack.batched", "cbor", "json"], select, extra=[(b"X-Router", b"crossbar")]
    )
    assert events == [Opened(serializer, 2**24, select, (("x-router", "crossbar"),))]
    assert client.is_open and client.serializer == serializer


def test_max_send_size_is_max_message_size() -> None:
    _, _, events = connect(max_message_size=1000)
    assert isinstance(events[0], Opened) and events[0].max_send_size == 1000


def test_no_subprotocol_selected() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor", "json"], host="h")
    client.initiate()
    server = Server()
    server.receive(client.data_to_send())
    with pytest.raises(HandshakeError, match="selected no subprotocol") as info:
        client.receive_data(server.send(AcceptConnection()))
    assert info.value.code is None
    assert "wamp.2.cbor, wamp.2.json" in str(info.value)
    assert client.closed and not client.is_open
    # the connection was upgraded, so we fail it politely with a close frame
    assert close_frame_of(server, client).code == 1002


def handshake_response(client: WebSocket, *lines: str) -> bytes:
    """A hand-written 101 response for ``client``'s request (accept token computed)."""
    client.initiate()
    request = client.data_to_send()
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request)
    assert key is not None
    token = generate_accept_token(key.group(1)).decode()
    head = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {token}",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def test_subprotocol_not_offered() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    response = handshake_response(client, "Sec-WebSocket-Protocol: wamp.2.json")
    with pytest.raises(HandshakeError, match=r"did not offer \('wamp.2.json'"):
        client.receive_data(response)
    assert client.closed


@pytest.mark.parametrize("whole", [True, False])
def test_several_selected_subprotocols_fail_the_connection(whole: bool) -> None:
    """RFC 6455 4.1/11.3.4: the header appears once; wsproto kept the last value, so the client
    opened with cbor while the server might speak json."""
    client = WebSocket(Role.CLIENT, serializers=["json", "cbor"], host="h")
    response = handshake_response(
        client, "Sec-WebSocket-Protocol: wamp.2.json", "sec-websocket-protocol: wamp.2.cbor"
    )
    with pytest.raises(HandshakeError, match="several subprotocols"):
        feed(client, response, [] if whole else list(range(1, len(response))))
    assert client.closed


def test_bad_accept_token_is_a_handshake_error() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    response = handshake_response(client, "Sec-WebSocket-Protocol: wamp.2.cbor")
    response = re.sub(rb"Accept: \S+", b"Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=", response)
    with pytest.raises(HandshakeError, match="accept token"):
        client.receive_data(response)
    assert client.closed


def test_handshake_response_fed_byte_by_byte_with_trailing_frames() -> None:
    client = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    response = handshake_response(client, "Sec-WebSocket-Protocol: wamp.2.json")
    frames = bytes([0x81, 5]) + b"[2,1]" + bytes([0x8A, 1]) + b"p"
    data = response + frames
    events = feed(client, data, list(range(len(data))))
    assert events == [
        Opened("json", 2**24, "wamp.2.json", ()),
        MessageReceived(b"[2,1]"),
        PongReceived(b"p"),
    ]
    # and the same all in one chunk
    client2 = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    response2 = handshake_response(client2, "Sec-WebSocket-Protocol: wamp.2.json")
    assert client2.receive_data(response2 + frames) == events


def test_rejected_upgrade_403_with_body() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    server = Server()
    server.receive(client.data_to_send())
    data = server.send(
        RejectConnection(status_code=403, headers=[(b"content-type", b"text/plain")], has_body=True)
    )
    data += server.send(RejectData(data=b"no   such\nrealm", body_finished=True))
    with pytest.raises(HandshakeError) as info:
        client.receive_data(data)
    assert info.value.code == 403
    assert "HTTP 403 Forbidden: no such realm" in str(info.value)
    assert client.closed
    assert client.data_to_send() == b""
    with pytest.raises(ProtocolError):
        client.receive_data(b"more")


def test_rejected_upgrade_reason_phrase_and_location() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    response = b"HTTP/1.1 307 Go Elsewhere\r\nLocation: ws://other/ws\r\ncontent-length: 0\r\n\r\n"
    with pytest.raises(
        HandshakeError, match=r"HTTP 307 Go Elsewhere \(Location: ws://other/ws\)"
    ) as info:
        feed(client, response, list(range(len(response))))
    assert info.value.code == 307


def test_garbage_http_response_is_a_handshake_error() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    with pytest.raises(HandshakeError, match="invalid WebSocket upgrade response"):
        client.receive_data(b"\x7f\xf1\x00\x00 not http\r\n\r\n")


def test_endless_response_head_is_bounded() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    client.receive_data(b"HTTP/1.1 101 Switching Protocols\r\n")
    with pytest.raises(HandshakeError):
        for _ in range(100):
            client.receive_data(b"X-Filler: " + b"a" * 1000 + b"\r\n")


def test_eof_during_handshake() -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    client.receive_data(b"HTTP/1.1 101 Swi")
    with pytest.raises(HandshakeError, match="during the WebSocket opening handshake"):
        client.receive_eof()
    assert client.closed
    assert client.receive_eof() == []


# -- messages ----------------------------------------------------------------------------------


def test_json_travels_as_text_both_ways() -> None:
    client, server = opened(["json"], "wamp.2.json")
    client.send_message('[1,"réalm",{}]'.encode())
    [event] = server.receive(client.data_to_send())
    assert isinstance(event, TextMessage) and event.data == '[1,"réalm",{}]'
    data = server.send(TextMessage(data='[2,1,{"x":"ü"}]'))
    assert client.receive_data(data) == [MessageReceived('[2,1,{"x":"ü"}]'.encode())]


def test_json_batched_is_text_too() -> None:
    client, server = opened(["json.batched"], "wamp.2.json.batched")
    client.send_message(b"[1]\x1e")
    [event] = server.receive(client.data_to_send())
    assert isinstance(event, TextMessage)


@pytest.mark.parametrize("name", ["cbor", "msgpack", "ubjson", "flatbuffers", "cbor.batched"])
def test_binary_serializers_travel_as_binary_both_ways(name: str) -> None:
    client, server = opened([name], f"wamp.2.{name}")
    client.send_message(b"\x83\x01\xff")
    [event] = server.receive(client.data_to_send())
    assert isinstance(event, BytesMessage) and event.data == b"\x83\x01\xff"
    assert client.receive_data(server.send(BytesMessage(data=b"\x00\xfe"))) == [
        MessageReceived(b"\x00\xfe")
    ]


def test_invalid_utf8_for_json_is_refused_locally() -> None:
    client, _ = opened(["json"], "wamp.2.json")
    with pytest.raises(LocalProtocolError, match="UTF-8"):
        client.send_message(b"\xff")
    assert client.data_to_send() == b""
    assert client.is_open


def close_frame_of(server: Server, client: WebSocket) -> CloseConnection:
    events = server.receive(client.data_to_send())
    closes = [e for e in events if isinstance(e, CloseConnection)]
    assert len(closes) == 1, events
    return closes[0]


def test_binary_for_json_is_a_protocol_error_closing_1003() -> None:
    client, server = opened(["json"], "wamp.2.json")
    with pytest.raises(ProtocolError, match="BINARY message") as info:
        client.receive_data(server.send(BytesMessage(data=b"[2]")))
    assert not isinstance(info.value, PayloadTooLarge)
    assert client.closed
    assert close_frame_of(server, client).code == 1003
    with pytest.raises(ProtocolError, match="already failed"):
        client.receive_data(b"\x81\x00")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")


def test_text_for_cbor_is_a_protocol_error() -> None:
    client, server = opened()
    with pytest.raises(ProtocolError, match="TEXT message"):
        client.receive_data(server.send(TextMessage(data="[2]")))
    assert close_frame_of(server, client).code == 1003


def test_fragmented_messages_are_reassembled() -> None:
    client, server = opened()
    data = server.send(BytesMessage(data=b"ab", message_finished=False))
    data += server.send(Ping(payload=b"mid"))  # control frames may interleave
    data += server.send(BytesMessage(data=b"", message_finished=False))
    data += server.send(BytesMessage(data=b"cd", message_finished=True))
    data += server.send(BytesMessage(data=b"ef"))
    assert feed(client, data, list(range(len(data)))) == [
        MessageReceived(b"abcd"),
        MessageReceived(b"ef"),
    ]
    [pong] = server.receive(client.data_to_send())
    assert pong == Pong(payload=b"mid")


def test_fragmented_text_splitting_a_utf8_character() -> None:
    client, _ = opened(["json"], "wamp.2.json")
    text = '["€"]'.encode()
    # unmasked TEXT frame (FIN=0) with the first 3 bytes, then CONTINUATION (FIN=1)
    data = bytes([0x01, 3]) + text[:3] + bytes([0x80, len(text) - 3]) + text[3:]
    assert feed(client, data, list(range(len(data)))) == [MessageReceived(text)]


@given(
    messages=st.lists(st.binary(max_size=300), min_size=1, max_size=5),
    fragment=st.integers(1, 64),
    data=st.data(),
)
def test_any_split_of_any_fragmentation_gives_the_same_messages(
    messages: list[bytes], fragment: int, data: st.DataObject
) -> None:
    client, server = opened()
    stream = b""
    for message in messages:
        pieces = [message[i : i + fragment] for i in range(0, len(message), fragment)] or [b""]
        for i, piece in enumerate(pieces):
            stream += server.send(BytesMessage(data=piece, message_finished=i == len(pieces) - 1))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    assert feed(client, stream, cuts) == [MessageReceived(m) for m in messages]


def test_message_at_the_limit_passes_and_over_it_closes_1009() -> None:
    client, server = opened(max_message_size=1000)
    assert client.receive_data(server.send(BytesMessage(data=b"a" * 1000))) == [
        MessageReceived(b"a" * 1000)
    ]
    with pytest.raises(PayloadTooLarge, match="1000") as info:
        client.receive_data(server.send(BytesMessage(data=b"a" * 1001)))
    assert info.value.reason == "wamp.error.payload_size_exceeded"
    assert client.closed
    assert close_frame_of(server, client).code == 1009


def test_fragmented_message_over_the_limit_fails_before_it_ends() -> None:
    client, server = opened(max_message_size=1000)
    for _ in range(3):
        client.receive_data(server.send(BytesMessage(data=b"a" * 300, message_finished=False)))
    with pytest.raises(PayloadTooLarge):
        client.receive_data(server.send(BytesMessage(data=b"a" * 101, message_finished=False)))
    assert close_frame_of(server, client).code == 1009


def test_huge_announced_frame_fails_once_the_limit_is_crossed() -> None:
    client, _ = opened(max_message_size=1000)
    header = bytes([0x82, 127]) + (2**40).to_bytes(8, "big")
    assert client.receive_data(header + b"a" * 600) == []
    with pytest.raises(PayloadTooLarge):
        client.receive_data(b"a" * 600)


def test_send_over_the_limit_queues_nothing() -> None:
    client, server = opened(max_message_size=100)
    with pytest.raises(MessageTooLarge):
        client.send_message(b"a" * 101)
    assert client.data_to_send() == b""
    assert client.is_open
    client.send_message(b"a" * 100)
    [event] = server.receive(client.data_to_send())
    assert isinstance(event, BytesMessage) and len(event.data) == 100


def test_send_before_open() -> None:
    client = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")
    client.initiate()
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")
    with pytest.raises(LocalProtocolError):
        client.send_ping()


def test_invalid_utf8_from_server_closes_1007() -> None:
    client, server = opened(["json"], "wamp.2.json")
    with pytest.raises(ProtocolError, match="invalid WebSocket data"):
        client.receive_data(bytes([0x81, 2, 0xC3, 0x28]))
    assert close_frame_of(server, client).code == 1007


def test_masked_frame_from_server_closes_1002() -> None:
    client, server = opened()
    with pytest.raises(ProtocolError, match="masked"):
        client.receive_data(bytes([0x82, 0x81, 1, 2, 3, 4, 5]))
    assert close_frame_of(server, client).code == 1002


# -- ping / pong -------------------------------------------------------------------------------


def test_server_ping_is_answered() -> None:
    client, server = opened()
    assert client.receive_data(server.send(Ping(payload=b"keepalive"))) == []
    assert server.receive(client.data_to_send()) == [Pong(payload=b"keepalive")]


def test_our_ping_and_the_pong() -> None:
    client, server = opened()
    client.send_ping(b"rtt-1")
    [ping] = server.receive(client.data_to_send())
    assert ping == Ping(payload=b"rtt-1")
    assert client.receive_data(server.send(Pong(payload=b"rtt-1"))) == [PongReceived(b"rtt-1")]
    with pytest.raises(LocalProtocolError, match="125"):
        client.send_ping(b"x" * 126)
    client.send_ping(b"x" * 125)


# -- closing -----------------------------------------------------------------------------------


def test_close_initiated_by_us() -> None:
    client, server = opened()
    client.close(1000, "bye")
    assert not client.is_open and not client.closed
    # the server sent a message before it saw our close
    late = server.send(BytesMessage(data=b"late"))
    close = close_frame_of(server, client)
    assert (close.code, close.reason) == (1000, "bye")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"x")
    data = late + server.send(close.response())
    assert client.receive_data(data) == [MessageReceived(b"late"), Closed(1000, "bye", True)]
    assert client.closed
    assert client.data_to_send() == b""
    assert client.receive_eof() == []
    assert client.receive_data(b"\x00\x01") == []
    client.close()


def test_close_initiated_by_server_is_answered() -> None:
    client, server = opened()
    events = client.receive_data(server.send(CloseConnection(code=1001, reason="restart")))
    assert events == [Closed(1001, "restart", True)]
    assert client.closed
    close = close_frame_of(server, client)
    assert close.code == 1001
    assert client.receive_eof() == []


def test_close_without_status_code_reports_1005() -> None:
    client, server = opened()
    assert client.receive_data(bytes([0x88, 0])) == [Closed(1005, "", True)]
    close_frame_of(server, client)


def test_message_then_close_in_one_chunk() -> None:
    client, server = opened()
    data = server.send(BytesMessage(data=b"goodbye")) + server.send(CloseConnection(code=1000))
    assert client.receive_data(data) == [MessageReceived(b"goodbye"), Closed(1000, "", True)]


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1005, ""), (1006, ""), (999, ""), (5000, ""), (1000, "x" * 124), (1000, "\ud800")],
)
def test_close_with_invalid_code_or_reason(code: int, reason: str) -> None:
    client, _ = opened()
    with pytest.raises(LocalProtocolError):
        client.close(code, reason)
    assert client.is_open
    assert client.data_to_send() == b""


def test_close_with_application_code() -> None:
    client, server = opened()
    client.close(4000, "app")
    assert close_frame_of(server, client).code == 4000


def test_close_before_open_abandons_the_handshake() -> None:
    client = WebSocket(Role.CLIENT, serializers=["json"], host="h")
    client.initiate()
    client.data_to_send()
    client.close()
    assert client.closed
    assert client.data_to_send() == b""
    assert client.receive_data(b"HTTP/1.1 101 Switching Protocols\r\n") == []
    assert client.receive_eof() == []


def test_eof_without_close() -> None:
    client, _ = opened()
    client.receive_data(bytes([0x02, 2]) + b"pa")  # half a fragmented message
    [event] = client.receive_eof()
    assert isinstance(event, Closed)
    assert (event.code, event.clean) == (1006, False)
    assert client.closed
    assert client.receive_eof() == []


def test_eof_while_closing() -> None:
    client, _ = opened()
    client.close()
    client.data_to_send()
    [event] = client.receive_eof()
    assert event == Closed(1006, "connection closed without a WebSocket close frame", False)


# -- robustness --------------------------------------------------------------------------------


@st.composite
def raw_frames(draw: st.DrawFn) -> bytes:
    """Unmasked frames with arbitrary FIN/RSV/opcode bits and consistent lengths."""
    out = b""
    for _ in range(draw(st.integers(1, 6))):
        first = draw(st.integers(0, 255) | st.sampled_from([0x01, 0x02, 0x00, 0x80, 0x88, 0x89]))
        payload = draw(st.binary(max_size=140))
        if len(payload) < 126:
            out += bytes([first, len(payload)]) + payload
        else:
            out += bytes([first, 126]) + len(payload).to_bytes(2, "big") + payload
    return out


@given(garbage=st.binary(min_size=1, max_size=300) | raw_frames(), data=st.data())
def test_garbage_after_handshake_only_raises_protocol_error(
    garbage: bytes, data: st.DataObject
) -> None:
    client, server = opened(max_message_size=200)
    prefix = data.draw(st.sampled_from([b"", server.send(BytesMessage(data=b"ok"))]))
    stream = prefix + garbage
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    try:
        feed(client, stream, cuts)
    except ProtocolError:
        assert client.closed
        with pytest.raises(ProtocolError):
            client.receive_data(b"\x00")
        # what was queued parses: pongs, then at most one close frame, last
        sent = server.receive(client.data_to_send())
        assert all(isinstance(e, Pong) for e in sent[:-1])
        assert not sent or isinstance(sent[-1], (Pong, CloseConnection))
    client.receive_eof()


@given(garbage=st.binary(min_size=1, max_size=200))
def test_garbage_handshake_response_raises_only_wamp_errors(garbage: bytes) -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    try:
        client.receive_data(b"HTTP/1.1 " + garbage)
    except (ProtocolError, HandshakeError):
        assert client.closed


# -- non-ASCII header bytes in the upgrade response (found by fuzzing) ---------------------------


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\xff\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: wamp.2.\xff\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: \xffx\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: \xff, Upgrade\r\n\r\n",
    ],
)
def test_non_ascii_header_in_the_response_is_a_handshake_error(response: bytes) -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    client.initiate()
    client.data_to_send()
    with pytest.raises(HandshakeError, match="invalid WebSocket upgrade response"):
        client.receive_data(response)
    assert client.closed and not client.is_open
    assert client.data_to_send() == b""
    with pytest.raises(ProtocolError, match="already failed"):
        client.receive_data(b"x")


@pytest.mark.parametrize(
    "header",
    [
        "Sec-WebSocket-Protocol: wamp.2.cbor\xff",
        "Sec-WebSocket-Extensions: permessage-deflate\xff",
    ],
)
def test_non_ascii_header_in_an_otherwise_valid_101(header: str) -> None:
    """With a correct accept token, so the header value is what wsproto decodes."""
    client = WebSocket(Role.CLIENT, serializers=["cbor"], host="h")
    response = handshake_response(client, "Sec-WebSocket-Protocol: wamp.2.cbor")
    response = response.replace(b"Sec-WebSocket-Protocol: wamp.2.cbor", header.encode("latin-1"))
    data = response + bytes([0x82, 1]) + b"x"
    with pytest.raises(HandshakeError, match="non-ASCII"):
        feed(client, data, list(range(len(data))))
    assert client.closed
    assert client.data_to_send() == b""


@given(
    name=st.sampled_from(
        [
            "Connection",
            "Upgrade",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Accept",
            "X-Other",
        ]
    ),
    value=st.binary(min_size=1, max_size=40).filter(lambda v: b"\r" not in v and b"\n" not in v),
    valid_token=st.booleans(),
)
def test_arbitrary_response_header_values_raise_only_wamp_errors(
    name: str, value: bytes, valid_token: bool
) -> None:
    client = WebSocket(Role.CLIENT, serializers=["cbor", "json"], host="h")
    lines = ["Sec-WebSocket-Protocol: wamp.2.cbor"] if valid_token else []
    response = handshake_response(client, *lines)
    if not valid_token:
        response = re.sub(rb"Accept: \S+", b"Accept: x", response)
    response = response[:-2] + name.encode() + b": " + value + b"\r\n\r\n"
    try:
        events = client.receive_data(response)
    except (ProtocolError, HandshakeError):
        assert client.closed
    else:
        assert [type(e) for e in events] == [Opened]


# -- the role-aware constructor ------------------------------------------------------------------


def test_client_role_is_the_former_client() -> None:
    framer = WebSocket(Role.CLIENT, serializers=["cbor", "json"], host="h", port=8080, path="/ws")
    assert framer.role is Role.CLIENT
    assert WebSocket(Role.SERVER, serializers=["cbor"]).role is Role.SERVER
    head = request_head(framer)
    assert head["request-line"] == "GET /ws HTTP/1.1"
    assert head["host"] == "h:8080"
    assert head["sec-websocket-protocol"] == "wamp.2.cbor, wamp.2.json"


def test_from_url_builds_a_client() -> None:
    framer = WebSocket.from_url("wss://router.example/ws?t=1", "cbor")
    assert framer.role is Role.CLIENT
    head = request_head(framer)
    assert head["request-line"] == "GET /ws?t=1 HTTP/1.1"
    assert head["host"] == "router.example"


@pytest.mark.parametrize(
    ("role", "kwargs", "match"),
    [
        (Role.CLIENT, {"serializers": ["json"]}, "needs host="),
        (Role.CLIENT, {"serializers": ["json"], "host": "h", "paths": ["/ws"]}, "paths= is for"),
        (Role.CLIENT, {"serializers": ["json"], "host": "h", "secure": 1}, "secure must be"),
        (Role.CLIENT, {"host": "h", "serializers": None}, "serializers= is required"),
        (Role.SERVER, {"serializers": ["json"], "host": "h"}, "host= only apply"),
        (Role.SERVER, {"serializers": ["json"], "path": "/ws"}, "path= only apply"),
        (Role.SERVER, {"serializers": ["json"], "port": 80, "secure": False}, "port=, secure="),
        (Role.SERVER, {"serializers": ["json"], "extra_headers": {}}, "extra_headers= only"),
        (Role.SERVER, {"serializers": ["json"], "paths": "/ws"}, "collection of str"),
        (Role.SERVER, {"serializers": ["json"], "paths": ["ws"]}, "starting with '/'"),
        (Role.SERVER, {"serializers": ["json"], "paths": ["/ws?x"]}, "no query"),
        (Role.SERVER, {"serializers": ["json"], "paths": []}, "at least one path"),
        (Role.SERVER, {"serializers": ["bson"]}, "unknown WebSocket serializer"),
        (Role.SERVER, {"serializers": 3}, "str or a sequence"),
        (Role.SERVER, {"serializers": ["json"], "max_message_size": 0}, "max_message_size"),
        ("server", {"serializers": ["json"]}, "Role.CLIENT or Role.SERVER"),
    ],
)
def test_role_specific_arguments_are_validated(
    role: object, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        WebSocket(role, **kwargs)  # type: ignore[arg-type]
