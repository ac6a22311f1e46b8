"""RawSocket framing in either role, driven with scripted peer bytes (no network).

The client role talks to hand-built router bytes; the server role (a router's side) to
hand-built client bytes. ``test_framing_server.py`` pairs the two roles.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from wamp_core import (
    ConfigurationError,
    Framer,
    HandshakeError,
    LocalProtocolError,
    MessageTooLarge,
    PayloadTooLarge,
    ProtocolError,
    RawSocket,
    RemoteProtocolError,
    Role,
)
from wamp_core.events import Closed, FramingEvent, MessageReceived, Opened, PongReceived


def frame(payload: bytes, frame_type: int = 0) -> bytes:
    """A RawSocket frame built independently of the code under test."""
    n = len(payload)
    if n == 2**24:
        return bytes([0x08 | frame_type, 0, 0, 0]) + payload
    return bytes([frame_type]) + n.to_bytes(3, "big") + payload


def reply(length_exp: int, serializer_id: int) -> bytes:
    return bytes([0x7F, (length_exp << 4) | serializer_id, 0, 0])


def opened_client(
    serializer: str = "json", max_receive_size: int = 2**24, router_exp: int = 15
) -> RawSocket:
    client = RawSocket(Role.CLIENT, serializer=serializer, max_receive_size=max_receive_size)
    client.initiate()
    client.data_to_send()
    sid = {"json": 1, "msgpack": 2, "cbor": 3, "ubjson": 4, "flatbuffers": 5}[serializer]
    events = client.receive_data(reply(router_exp, sid))
    assert events == [Opened(serializer, 2 ** (9 + router_exp), None, ())]
    return client


def feed(client: RawSocket, data: bytes, cuts: list[int]) -> list[FramingEvent]:
    """Feed ``data`` split at the given offsets."""
    events: list[FramingEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += client.receive_data(data[start:cut])
        start = cut
    return events


def test_is_a_framer() -> None:
    framer: Framer = RawSocket(Role.CLIENT, serializer="cbor")
    assert not framer.is_open and not framer.closed


# -- handshake request -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serializer", "max_receive_size", "expected"),
    [
        ("json", 2**24, "7f f1 00 00"),  # spec example
        ("cbor", 2**20, "7f b3 00 00"),  # spec example
        ("msgpack", 512, "7f 02 00 00"),
        ("ubjson", 1023, "7f 04 00 00"),  # rounded down to 512
        ("ubjson", 1024, "7f 14 00 00"),
        ("flatbuffers", 2**24 - 1, "7f e5 00 00"),  # rounded down to 2**23
        ("json", 2**16 + 1, "7f 71 00 00"),
    ],
)
def test_handshake_request_bytes(serializer: str, max_receive_size: int, expected: str) -> None:
    client = RawSocket(Role.CLIENT, serializer=serializer, max_receive_size=max_receive_size)
    assert client.data_to_send() == b""
    client.initiate()
    assert client.data_to_send().hex(" ") == expected
    assert client.data_to_send() == b""
    assert not client.is_open


def test_default_max_receive_size_is_16_mib() -> None:
    client = RawSocket(Role.CLIENT, serializer="cbor")
    client.initiate()
    assert client.data_to_send() == bytes.fromhex("7f f3 00 00")
    assert client.max_receive_size == 2**24


@pytest.mark.parametrize("bad", [0, 511, 2**24 + 1, -1, True, 1.5, "1024", None])
def test_max_receive_size_out_of_range(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="max_receive_size"):
        RawSocket(Role.CLIENT, serializer="json", max_receive_size=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["JSON", "json.batched", "bson", "", None])
def test_unknown_serializer(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="serializer"):
        RawSocket(Role.CLIENT, serializer=bad)  # type: ignore[arg-type]


def test_initiate_twice_and_receive_before_initiate() -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    with pytest.raises(LocalProtocolError):
        client.receive_data(b"\x7f")
    client.initiate()
    with pytest.raises(LocalProtocolError):
        client.initiate()


# -- handshake reply ---------------------------------------------------------------------------


@pytest.mark.parametrize("router_exp", [0, 1, 11, 15])
def test_reply_sets_max_send_size(router_exp: int) -> None:
    client = opened_client("cbor", router_exp=router_exp)
    assert client.is_open and not client.closed
    assert client.max_send_size == 2 ** (9 + router_exp)


def test_reply_split_byte_by_byte_with_trailing_frame() -> None:
    client = RawSocket(Role.CLIENT, serializer="msgpack")
    client.initiate()
    data = reply(15, 2) + frame(b"hello") + frame(b"wor")[:3]
    events = feed(client, data, list(range(len(data))))
    assert events == [Opened("msgpack", 2**24, None, ()), MessageReceived(b"hello")]
    assert client.receive_data(frame(b"wor")[3:]) == [MessageReceived(b"wor")]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1, "serializer unsupported"),
        (2, "maximum message length unacceptable"),
        (3, "use of reserved bits"),
        (4, "maximum connection count reached"),
        (0, "unknown error"),
        (5, "unknown error"),
        (15, "unknown error"),
    ],
)
def test_error_reply(code: int, text: str) -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    client.initiate()
    with pytest.raises(HandshakeError, match=text) as info:
        client.receive_data(bytes([0x7F, code << 4, 0, 0]))
    assert info.value.code == code
    assert f"code {code}" in str(info.value)
    assert client.closed and not client.is_open
    with pytest.raises(ProtocolError):
        client.receive_data(b"\x00")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")


def test_bad_magic_fails_on_first_octet() -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    client.initiate()
    with pytest.raises(HandshakeError, match="0x48"):  # (the transport failed: a review)
        client.receive_data(b"H")  # an HTTP server answering
    assert client.closed
    with pytest.raises(ProtocolError, match="already failed"):
        client.receive_data(b"TTP/1.1")


@pytest.mark.parametrize("reply_bytes", ["7f f1 01 00", "7f f1 00 01", "7f f1 80 80"])
def test_reserved_reply_octets(reply_bytes: str) -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    client.initiate()
    with pytest.raises(HandshakeError, match="reserved"):
        client.receive_data(bytes.fromhex(reply_bytes))
    assert client.closed


@pytest.mark.parametrize("echoed", [2, 3, 5, 6, 15])
def test_serializer_echo_mismatch(echoed: int) -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    client.initiate()
    with pytest.raises(HandshakeError, match=f"serializer id {echoed}"):
        client.receive_data(reply(15, echoed))
    assert client.closed
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")


# -- frames ------------------------------------------------------------------------------------


def test_frames_whole_one_by_one_and_all_in_one_chunk() -> None:
    payloads = [b"[1]", b"", b"x" * 300, b"[2,3]"]
    stream = b"".join(frame(p) for p in payloads)
    expected = [MessageReceived(p) for p in payloads]

    whole = opened_client()
    assert [e for p in payloads for e in whole.receive_data(frame(p))] == expected

    one_chunk = opened_client()
    assert one_chunk.receive_data(stream) == expected

    byte_by_byte = opened_client()
    assert feed(byte_by_byte, stream, list(range(len(stream)))) == expected


def test_trailing_partial_frame_is_kept() -> None:
    client = opened_client()
    data = frame(b"first") + frame(b"second")
    assert client.receive_data(data[:-2]) == [MessageReceived(b"first")]
    assert client.receive_data(b"") == []
    assert client.receive_data(data[-2:]) == [MessageReceived(b"second")]


frame_lists = st.lists(
    st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=600)), min_size=1, max_size=8
)


@given(frames=frame_lists, data=st.data())
def test_any_split_gives_the_same_events(
    frames: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(frame(payload, kind) for kind, payload in frames)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    client = opened_client(max_receive_size=1024)
    events = feed(client, stream, cuts)
    expected: list[FramingEvent] = []
    for kind, payload in frames:
        if kind == 0:
            expected.append(MessageReceived(payload))
        elif kind == 2:
            expected.append(PongReceived(payload))
    assert events == expected
    pongs = b"".join(frame(payload, 2) for kind, payload in frames if kind == 1)
    assert client.data_to_send() == pongs


def test_oversized_header_rejected_before_payload() -> None:
    client = opened_client(max_receive_size=512)
    assert client.receive_data(frame(b"a" * 512)) == [MessageReceived(b"a" * 512)]
    with pytest.raises(PayloadTooLarge, match="513 bytes") as info:
        client.receive_data(bytes([0, 0, 0x02, 0x01]))  # header only: 513 bytes announced
    assert info.value.reason == "wamp.error.payload_size_exceeded"
    assert client.closed
    with pytest.raises(ProtocolError):
        client.receive_data(b"a")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")


def test_limit_is_the_announced_power_of_two() -> None:
    client = opened_client(max_receive_size=1000)  # announces 512
    assert client.max_receive_size == 512
    with pytest.raises(PayloadTooLarge):
        client.receive_data(frame(b"a" * 513)[:4])


def test_oversized_ping_rejected() -> None:
    client = opened_client(max_receive_size=512)
    with pytest.raises(PayloadTooLarge):
        client.receive_data(bytes([1, 0, 0x02, 0x01]))
    assert client.data_to_send() == b""


def test_exactly_2_24_is_received_with_the_x_bit_and_never_sent() -> None:
    """The spec's 25th length bit is read; a frame that would need it is not sent: Crossbar.io
    reads the bit as part of a 32-bit length and drops the connection (2**24 - 1 is the
    largest sent; nothing goes out and the connection stays usable)."""
    client = opened_client()
    big = bytes(2**24)
    framed = bytes([0x08, 0, 0, 0]) + big
    assert client.receive_data(framed[:1000]) == []
    events = client.receive_data(framed[1000:])
    assert len(events) == 1 and isinstance(events[0], MessageReceived)
    assert len(events[0].data) == 2**24
    for size in (2**24, 2**24 + 1):
        with pytest.raises(MessageTooLarge):
            client.send_message(bytes(size))
        assert client.data_to_send() == b""
    assert client.is_open


def test_a_ping_of_exactly_2_24_is_not_answered_with_a_broken_pong() -> None:
    """Its PONG would need the 25th length bit (never sent): the PING fails the connection
    (it was echoed with frame type 3 and length 0, followed by 16 MiB)."""
    client = opened_client()
    with pytest.raises(ProtocolError, match="PONG would exceed"):
        client.receive_data(bytes([0x09, 0, 0, 0]) + bytes(2**24))
    assert client.data_to_send()[:4] != bytes([0x03, 0, 0, 0])


def test_2_24_minus_1_uses_24_bits() -> None:
    client = opened_client()
    client.send_message(bytes(2**24 - 1))
    assert client.data_to_send()[:4] == bytes([0x00, 0xFF, 0xFF, 0xFF])


def test_x_bit_with_nonzero_length_is_rejected() -> None:
    client = opened_client()
    with pytest.raises(ProtocolError, match="25th length bit"):
        client.receive_data(bytes([0x08, 0, 0, 1]))


@pytest.mark.parametrize("first", [0x03, 0x04, 0x07, 0x0B])
def test_reserved_frame_types(first: int) -> None:
    client = opened_client()
    with pytest.raises(ProtocolError, match="frame type"):
        client.receive_data(bytes([first, 0, 0, 1, 0x41]))


@pytest.mark.parametrize("first", [0x10, 0x20, 0x40, 0x80, 0xF0, 0x11])
def test_reserved_header_bits(first: int) -> None:
    client = opened_client()
    with pytest.raises(ProtocolError, match="reserved bits"):
        client.receive_data(bytes([first, 0, 0, 1, 0x41]))
    assert client.closed


def test_ping_is_answered_with_exactly_one_echoing_pong() -> None:
    client = opened_client()
    assert client.receive_data(bytes([1, 0, 0, 3]) + b"abc") == []
    assert client.data_to_send() == bytes([2, 0, 0, 3]) + b"abc"
    assert client.data_to_send() == b""
    # empty ping, then a message, then another ping, in one chunk
    events = client.receive_data(frame(b"", 1) + frame(b"[1]") + frame(b"zz", 1))
    assert events == [MessageReceived(b"[1]")]
    assert client.data_to_send() == bytes([2, 0, 0, 0, 2, 0, 0, 2]) + b"zz"


def test_ping_split_across_chunks() -> None:
    client = opened_client()
    assert client.receive_data(bytes([1, 0])) == []
    assert client.data_to_send() == b""
    assert client.receive_data(bytes([0, 2]) + b"p") == []
    assert client.data_to_send() == b""
    client.receive_data(b"q")
    assert client.data_to_send() == bytes([2, 0, 0, 2]) + b"pq"


def test_pong_is_reported_and_our_ping_carries_a_payload() -> None:
    client = opened_client()
    client.send_ping(b"\x00\x01rtt")
    assert client.data_to_send() == bytes([1, 0, 0, 5]) + b"\x00\x01rtt"
    assert client.receive_data(frame(b"\x00\x01rtt", 2)) == [PongReceived(b"\x00\x01rtt")]
    client.send_ping()
    assert client.data_to_send() == bytes([1, 0, 0, 0])


# -- sending -----------------------------------------------------------------------------------


def test_send_message_bytes() -> None:
    client = opened_client()
    client.send_message(b'[1,"realm1",{}]')
    client.send_message(b'[6,{},"x"]')
    assert client.data_to_send() == frame(b'[1,"realm1",{}]') + frame(b'[6,{},"x"]')


def test_send_over_router_limit_queues_nothing_and_stays_open() -> None:
    client = opened_client(router_exp=0)  # router accepts 512 bytes
    with pytest.raises(MessageTooLarge, match="513 bytes") as info:
        client.send_message(b"a" * 513)
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.reason == "wamp.error.payload_size_exceeded"
    with pytest.raises(MessageTooLarge):
        client.send_ping(b"a" * 513)
    assert client.data_to_send() == b""
    assert client.is_open
    client.send_message(b"a" * 512)
    assert client.data_to_send() == frame(b"a" * 512)


def test_send_before_open() -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")
    client.initiate()
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")
    with pytest.raises(LocalProtocolError):
        client.send_ping()
    assert client.data_to_send() == reply(15, 1)


# -- closing -----------------------------------------------------------------------------------


def test_eof_when_open() -> None:
    client = opened_client()
    assert client.receive_eof() == [Closed(None, "connection closed by the peer", False)]
    assert client.closed and not client.is_open
    assert client.receive_eof() == []
    assert client.receive_data(frame(b"late")) == []


def test_eof_mid_frame_says_so() -> None:
    client = opened_client()
    client.receive_data(frame(b"abcdef")[:6])
    [event] = client.receive_eof()
    assert isinstance(event, Closed)
    assert not event.clean and event.code is None
    assert "middle of a frame (6 bytes" in event.reason


@pytest.mark.parametrize("partial", [b"", b"\x7f", b"\x7f\xf1\x00"])
def test_eof_during_handshake(partial: bytes) -> None:
    client = RawSocket(Role.CLIENT, serializer="json")
    client.initiate()
    client.receive_data(partial)
    with pytest.raises(HandshakeError, match="before the RawSocket handshake completed"):
        client.receive_eof()
    assert client.closed
    assert client.receive_eof() == []


def test_close_marks_closed_and_sends_nothing() -> None:
    client = opened_client()
    client.receive_data(frame(b"half")[:5])
    client.close()
    assert client.closed and not client.is_open
    assert client.data_to_send() == b""
    assert client.receive_data(frame(b"ignored")) == []
    assert client.receive_eof() == []
    with pytest.raises(LocalProtocolError):
        client.send_message(b"[]")
    client.close()  # idempotent


def test_close_after_error_is_a_no_op() -> None:
    client = opened_client()
    with pytest.raises(ProtocolError):
        client.receive_data(b"\xff\xff\xff\xff")
    client.close()
    assert client.closed
    with pytest.raises(ProtocolError):
        client.receive_data(b"x")


# -- robustness --------------------------------------------------------------------------------


@given(garbage=st.binary(min_size=1, max_size=300), data=st.data())
def test_arbitrary_bytes_after_handshake_only_raise_protocol_error(
    garbage: bytes, data: st.DataObject
) -> None:
    client = opened_client(max_receive_size=1024)
    cuts = data.draw(st.lists(st.integers(0, len(garbage)), max_size=10))
    try:
        feed(client, garbage, cuts)
    except ProtocolError:
        assert client.closed
        with pytest.raises(ProtocolError):
            client.receive_data(b"\x00")
    else:
        assert client.is_open
    client.data_to_send()
    client.receive_eof()


@given(garbage=st.binary(min_size=1, max_size=12))
def test_arbitrary_handshake_replies_raise_only_wamp_errors(garbage: bytes) -> None:
    client = RawSocket(Role.CLIENT, serializer="cbor")
    client.initiate()
    try:
        client.receive_data(garbage)
    except (ProtocolError, HandshakeError):
        assert client.closed
    else:
        assert client.is_open or len(garbage) < 4


def test_many_small_chunks_of_a_large_message() -> None:
    client = opened_client()
    payload = bytes(range(256)) * 1024  # 256 KiB
    data = frame(payload)
    events: list[FramingEvent] = []
    for i in range(0, len(data), 97):
        events += client.receive_data(data[i : i + 97])
    assert events == [MessageReceived(payload)]


def test_message_received_repr_is_truncated() -> None:
    text = repr(MessageReceived(b"x" * 10_000))
    assert len(text) < 120 and "10000 bytes" in text


def test_ping_whose_pong_exceeds_the_routers_limit_fails() -> None:
    """The PONG must echo the PING; if the echo cannot fit the router's own limit, fail."""
    client = opened_client(router_exp=0)  # router accepts at most 512 bytes from us
    assert client.receive_data(frame(b"x" * 512, 1)) == []
    assert client.data_to_send() == bytes([2, 0, 2, 0]) + b"x" * 512
    with pytest.raises(PayloadTooLarge):
        client.receive_data(frame(b"x" * 513, 1))
    assert client.closed
    assert client.data_to_send() == b""


# -- roles -------------------------------------------------------------------------------------


def request(length_exp: int, serializer_id: int) -> bytes:
    """A client's handshake request, built independently of the code under test."""
    return bytes([0x7F, (length_exp << 4) | serializer_id, 0, 0])


def server(
    serializers: tuple[str, ...] = ("cbor", "json"), max_receive_size: int = 2**24
) -> RawSocket:
    framer = RawSocket(Role.SERVER, serializers=serializers, max_receive_size=max_receive_size)
    framer.initiate()
    return framer


def test_client_role_is_the_former_client() -> None:
    framer = RawSocket(Role.CLIENT, serializer="cbor", max_receive_size=2**20)
    assert framer.role is Role.CLIENT
    assert RawSocket(Role.SERVER, serializers=["cbor"]).role is Role.SERVER
    framer.initiate()
    assert framer.data_to_send().hex(" ") == "7f b3 00 00"  # the spec example


@pytest.mark.parametrize(
    ("role", "kwargs", "match"),
    [
        (Role.CLIENT, {}, "needs serializer="),
        (Role.CLIENT, {"serializer": "cbor", "serializers": ["cbor"]}, "serializers= is for"),
        (Role.CLIENT, {"serializer": "json.batched"}, "unknown RawSocket serializer"),
        (Role.SERVER, {}, "needs serializers="),
        (Role.SERVER, {"serializer": "cbor"}, "serializer= is for Role.CLIENT"),
        (Role.SERVER, {"serializers": []}, "at least one"),
        (Role.SERVER, {"serializers": ["cbor", "bson"]}, "unknown RawSocket serializer"),
        (Role.SERVER, {"serializers": ["cbor", "cbor"]}, "twice"),
        (Role.SERVER, {"serializers": ["cbor"], "max_receive_size": 511}, "max_receive_size"),
        ("client", {"serializer": "cbor"}, "Role.CLIENT or Role.SERVER"),
    ],
)
def test_role_specific_arguments_are_validated(
    role: object, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        RawSocket(role, **kwargs)  # type: ignore[arg-type]


def test_server_sends_nothing_until_the_request_arrives() -> None:
    framer = RawSocket(Role.SERVER, serializers="cbor")
    with pytest.raises(LocalProtocolError):
        framer.receive_data(request(15, 3))
    framer.initiate()
    assert framer.data_to_send() == b""
    assert not framer.is_open and framer.serializer is None and framer.max_send_size is None


@pytest.mark.parametrize(
    ("client_exp", "client_id", "server_size", "name", "reply_hex"),
    [
        (15, 1, 2**24, "json", "7f f1 00 00"),
        (0, 3, 2**16, "cbor", "7f 73 00 00"),
        (11, 3, 512, "cbor", "7f 03 00 00"),
        (4, 1, 2**20 + 1, "json", "7f b1 00 00"),  # our own limit, rounded down
    ],
)
def test_server_accepts_and_announces_its_limit(
    client_exp: int, client_id: int, server_size: int, name: str, reply_hex: str
) -> None:
    framer = server(max_receive_size=server_size)
    events = framer.receive_data(request(client_exp, client_id))
    assert events == [Opened(name, 2 ** (9 + client_exp), None, ())]
    assert framer.data_to_send().hex(" ") == reply_hex
    assert framer.is_open and framer.serializer == name
    assert framer.max_send_size == 2 ** (9 + client_exp)
    # it frames like a client: exactly one PONG per PING, limits on both sides
    assert framer.receive_data(frame(b"hi", 1) + frame(b"[1]")) == [MessageReceived(b"[1]")]
    assert framer.data_to_send() == frame(b"hi", 2)
    framer.send_message(b"x" * 512)
    assert framer.data_to_send() == frame(b"x" * 512)


def test_server_request_byte_by_byte_with_trailing_frames() -> None:
    framer = server(("msgpack",))
    data = request(15, 2) + frame(b"one") + frame(b"tw")[:5]
    events = feed(framer, data, list(range(len(data))))
    assert events == [Opened("msgpack", 2**24, None, ()), MessageReceived(b"one")]
    assert framer.data_to_send() == bytes.fromhex("7f f2 00 00")
    assert framer.receive_data(frame(b"tw")[5:]) == [MessageReceived(b"tw")]


@pytest.mark.parametrize("serializer_id", [0, 2, 4, 5, 6, 15])
def test_server_refuses_a_serializer_with_error_1(serializer_id: int) -> None:
    framer = server(("cbor", "json"))
    with pytest.raises(HandshakeError, match="refused with RawSocket error 1") as info:
        framer.receive_data(request(15, serializer_id) + frame(b"[1]"))
    assert info.value.code == 1
    assert "accepted: cbor, json" in str(info.value)
    assert framer.data_to_send().hex(" ") == "7f 10 00 00"
    assert framer.closed and not framer.is_open
    with pytest.raises(ProtocolError, match="already failed"):
        framer.receive_data(b"\x00")
    with pytest.raises(LocalProtocolError):
        framer.send_message(b"[]")


@pytest.mark.parametrize("request_hex", ["7f f3 01 00", "7f f3 00 01", "7f f2 ff ff"])
def test_server_refuses_reserved_octets_with_error_3(request_hex: str) -> None:
    framer = server()
    with pytest.raises(HandshakeError, match="reserved") as info:
        framer.receive_data(bytes.fromhex(request_hex))
    assert info.value.code == 3
    assert framer.data_to_send().hex(" ") == "7f 30 00 00"
    assert framer.closed


def test_server_fails_on_a_non_rawsocket_first_octet_without_replying() -> None:
    framer = server()
    with pytest.raises(RemoteProtocolError, match="0x47") as info:
        framer.receive_data(b"G")  # an HTTP client
    assert not isinstance(info.value, PayloadTooLarge)
    assert framer.data_to_send() == b""
    assert framer.closed


@pytest.mark.parametrize("partial", [b"", b"\x7f", b"\x7f\xf3\x00"])
def test_server_eof_during_handshake(partial: bytes) -> None:
    framer = server()
    framer.receive_data(partial)
    with pytest.raises(HandshakeError, match="before the RawSocket handshake completed"):
        framer.receive_eof()
    assert framer.data_to_send() == b""
    assert framer.receive_eof() == []


def test_server_enforces_its_limit_before_buffering_and_the_25th_bit() -> None:
    framer = server(max_receive_size=2**24)
    framer.receive_data(request(15, 3))
    framer.data_to_send()
    assert framer.receive_data(bytes([0x08, 0, 0, 0]) + b"a" * 2**24) == [
        MessageReceived(b"a" * 2**24)
    ]
    with pytest.raises(MessageTooLarge, match="exactly 2"):
        framer.send_message(b"b" * 2**24)  # (Crossbar.io misreads the 25th bit)
    small = server(max_receive_size=512)
    small.receive_data(request(15, 3))
    with pytest.raises(PayloadTooLarge, match="513 bytes"):
        small.receive_data(bytes([0, 0, 2, 1]))  # header only: fails before the payload


def test_server_honours_the_clients_announced_limit() -> None:
    framer = server()
    framer.receive_data(request(0, 3))  # the client accepts at most 512 bytes
    framer.data_to_send()
    with pytest.raises(MessageTooLarge, match="limit of 512"):
        framer.send_message(b"x" * 513)
    assert framer.data_to_send() == b"" and framer.is_open
    with pytest.raises(PayloadTooLarge, match="PONG"):
        framer.receive_data(frame(b"p" * 513, 1))  # its PONG could not reach the client


@given(garbage=st.binary(min_size=1, max_size=12))
def test_arbitrary_handshake_requests_raise_only_wamp_errors(garbage: bytes) -> None:
    framer = server()
    try:
        framer.receive_data(garbage)
    except (ProtocolError, HandshakeError):
        assert framer.closed
        assert framer.data_to_send() in (
            b"",
            bytes.fromhex("7f 10 00 00"),
            bytes.fromhex("7f 30 00 00"),
        )
    else:
        assert framer.is_open or len(garbage) < 4
