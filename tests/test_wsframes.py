"""The WebSocket data path (``_wsframes.FrameCodec`` behind ``WebSocket``), differentially
against wsproto.

* wsproto as the peer produces random message sequences (TEXT or BINARY, boundary sizes,
  fragmented at random with pings and pongs in between) and our framer, fed any split of the
  bytes, with trailing data, reports the same messages in order and answers every ping;
* what our framer sends, in either role, parses in wsproto to what was sent (and a server's
  frames are byte for byte wsproto's);
* each kind of framing violation fails the connection with the close code wsproto uses;
* arbitrary bytes after the handshake raise only our ``ProtocolError`` subclasses, and the
  buffered bytes never exceed ``max_message_size`` plus a frame header (plus a control frame
  when one arrives inside a fragmented message).
"""

from __future__ import annotations

import itertools
import os
import random
import tracemalloc

import pytest
from hypothesis import given, strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason

from wamp_core import PayloadTooLarge, ProtocolError, RemoteProtocolError, Role, WebSocket
from wamp_core._framing._wsframes import (
    MAX_HEADER,
    MAX_OVERHEAD,
    FrameCodec,
    FrameError,
    encode_frame,
    mask,
)
from wamp_core.events import Closed, FramingEvent, MessageReceived, PongReceived

#: Payload sizes at the edges of the 7-bit, 16-bit and 64-bit length encodings (and of the
#: int/translate masking switch at 2048 bytes).
BOUNDARY_SIZES = (0, 1, 3, 4, 5, 125, 126, 127, 2047, 2048, 2049, 65535, 65536, 65537)

roles = st.sampled_from([Role.CLIENT, Role.SERVER])


def open_pair(
    role: Role, text: bool, max_message_size: int = 2**24
) -> tuple[WebSocket, WSConnection]:
    """Our framer in ``role`` and an independent wsproto peer, past the opening handshake."""
    serializer = "json" if text else "cbor"
    subprotocol = f"wamp.2.{serializer}"
    if role is Role.CLIENT:
        framer = WebSocket(
            Role.CLIENT, serializers=[serializer], host="h", max_message_size=max_message_size
        )
        framer.initiate()
        peer = WSConnection(ConnectionType.SERVER)
        peer.receive_data(framer.data_to_send())
        [request] = peer.events()
        assert isinstance(request, Request)
        [opened] = framer.receive_data(peer.send(AcceptConnection(subprotocol=subprotocol)))
    else:
        framer = WebSocket(Role.SERVER, serializers=[serializer], max_message_size=max_message_size)
        framer.initiate()
        peer = WSConnection(ConnectionType.CLIENT)
        [opened] = framer.receive_data(
            peer.send(Request(host="h", target="/", subprotocols=[subprotocol]))
        )
        peer.receive_data(framer.data_to_send())
        [accept] = peer.events()
        assert isinstance(accept, AcceptConnection)
    assert framer.is_open, opened
    return framer, peer


def peer_events(peer: WSConnection, data: bytes) -> list[Event]:
    peer.receive_data(data)
    return list(peer.events())


def buffered(framer: WebSocket) -> int:
    frames = framer._frames
    return 0 if frames is None else frames.buffered


def feed(framer: WebSocket, data: bytes, cuts: list[int]) -> list[FramingEvent]:
    """``data`` in pieces at ``cuts``, checking the buffer bound after every piece."""
    events: list[FramingEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += framer.receive_data(data[start:cut])
        assert buffered(framer) <= framer.max_message_size + MAX_OVERHEAD
        start = cut
    return events


def splits(data: st.DataObject, size: int) -> list[int]:
    """Cut positions: whole, byte by byte (small streams), or random cuts."""
    how = data.draw(st.sampled_from(["whole", "bytes", "cuts"]), label="split")
    if how == "whole":
        return []
    if how == "bytes" and size <= 4096:
        return list(range(1, size))
    return data.draw(st.lists(st.integers(0, size), max_size=30), label="cuts")


def payload_of(size: int, seed: int, text: bool) -> bytes:
    """``size`` bytes; for TEXT, valid UTF-8 of exactly that many bytes with multi-byte
    characters (so fragment cuts can fall inside a character, which wsproto does not do)."""
    rng = random.Random(seed)
    if not text:
        return rng.randbytes(size)
    chars: list[str] = []
    used = 0
    while used < size:
        char = rng.choice('a{}[],:"0é€😀')
        width = len(char.encode())
        if used + width > size:
            char, width = "z", 1
        chars.append(char)
        used += width
    return "".join(chars).encode()


# -- (a) wsproto's frames, any split, give the same messages ------------------------------------

#: One message of a peer script: its payload, where the sender fragments it (offsets in bytes,
#: or in characters for TEXT), and the controls sent after each fragment (fragment index, kind,
#: payload): after a middle fragment they arrive inside the message (RFC 6455 5.4).
PeerMessage = tuple[bytes, list[int], list[tuple[int, str, bytes]]]


@st.composite
def peer_scripts(draw: st.DrawFn, text: bool) -> list[PeerMessage]:
    script: list[PeerMessage] = []
    for _ in range(draw(st.integers(1, 4), label="messages")):
        size = draw(st.sampled_from(BOUNDARY_SIZES) | st.integers(0, 300), label="size")
        payload = payload_of(size, draw(st.integers(0, 2**32), label="seed"), text)
        units = len(payload.decode()) if text else size
        cuts = sorted(set(draw(st.lists(st.integers(0, units), max_size=4), label="cuts")))
        controls = draw(
            st.lists(
                st.tuples(
                    st.integers(0, len(cuts)),
                    st.sampled_from(["ping", "pong"]),
                    st.binary(max_size=125),
                ),
                max_size=3,
            ),
            label="controls",
        )
        script.append((payload, cuts, sorted(controls, key=lambda c: c[0])))
    return script


def peer_stream(
    peer: WSConnection | Connection, script: list[PeerMessage], text: bool
) -> tuple[bytes, list[FramingEvent], list[bytes]]:
    """wsproto's bytes for ``script``; the events we must report and the pongs we must send."""
    stream = b""
    expected: list[FramingEvent] = []
    pongs: list[bytes] = []
    for payload, cuts, controls in script:
        whole: bytes | str = payload.decode() if text else payload
        bounds = [0, *cuts, len(whole)]
        pieces = [whole[a:b] for a, b in itertools.pairwise(bounds)]
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            if isinstance(piece, str):
                stream += peer.send(TextMessage(data=piece, message_finished=last))
            else:
                stream += peer.send(BytesMessage(data=piece, message_finished=last))
            if last:
                expected.append(MessageReceived(payload))
            for _, kind, data in (c for c in controls if c[0] == number):
                if kind == "ping":
                    stream += peer.send(Ping(payload=data))
                    pongs.append(data)
                else:
                    stream += peer.send(Pong(payload=data))
                    expected.append(PongReceived(data))
    return stream, expected, pongs


@given(role=roles, text=st.booleans(), data=st.data())
def test_wsproto_streams_give_the_same_messages_at_any_split(
    role: Role, text: bool, data: st.DataObject
) -> None:
    framer, peer = open_pair(role, text)
    script = data.draw(peer_scripts(text), label="script")
    stream, expected, pongs = peer_stream(peer, script, text)
    trailing = data.draw(st.sampled_from(["none", "partial", "close"]), label="trailing")
    if trailing == "partial":  # the start of one more message: nothing more yet
        more = payload_of(200, 1, text)
        extra = peer.send(TextMessage(data=more.decode()) if text else BytesMessage(data=more))
        cut = data.draw(st.integers(1, len(extra) - 1), label="partial cut")
        stream += extra[:cut]
    elif trailing == "close":  # a close frame, then bytes that must be ignored
        stream += peer.send(CloseConnection(code=1000, reason="done"))
        stream += data.draw(st.binary(max_size=20), label="junk")
        expected.append(Closed(1000, "done", True))
    events = feed(framer, stream, splits(data, len(stream)))
    assert events == expected
    answered = peer_events(peer, framer.data_to_send())
    assert answered == [Pong(payload=p) for p in pongs] + (
        [CloseConnection(code=1000, reason="done")] if trailing == "close" else []
    )
    if trailing == "partial":
        assert framer.receive_data(extra[cut:]) == [MessageReceived(more)]
    assert framer.closed is (trailing == "close")


@given(role=roles, text=st.booleans(), data=st.data())
def test_frames_right_behind_the_handshake_at_any_split(
    role: Role, text: bool, data: st.DataObject
) -> None:
    """The upgrade request/response and the first frames in one stream, split anywhere."""
    serializer = "json" if text else "cbor"
    subprotocol = f"wamp.2.{serializer}"
    sender: WSConnection | Connection
    if role is Role.CLIENT:
        framer = WebSocket(Role.CLIENT, serializers=[serializer], host="h")
        framer.initiate()
        sender = WSConnection(ConnectionType.SERVER)
        peer_events(sender, framer.data_to_send())
        head = sender.send(AcceptConnection(subprotocol=subprotocol))
    else:
        framer = WebSocket(Role.SERVER, serializers=[serializer])
        framer.initiate()
        client = WSConnection(ConnectionType.CLIENT)
        head = client.send(Request(host="h", target="/", subprotocols=[subprotocol]))
        sender = Connection(ConnectionType.CLIENT)  # frames sent before our answer arrived
    script = data.draw(peer_scripts(text), label="script")
    body, expected, _ = peer_stream(sender, script, text)
    stream = head + body
    events = feed(framer, stream, splits(data, len(stream)))
    assert [type(e).__name__ for e in events[:1]] == ["Opened"]
    assert events[1:] == expected


@given(data=st.data(), role=roles)
def test_text_fragments_may_split_a_character(data: st.DataObject, role: Role) -> None:
    """RFC 6455 allows a fragment boundary inside a UTF-8 character (wsproto cannot send one)."""
    framer, _ = open_pair(role, text=True)
    payload = payload_of(data.draw(st.integers(2, 200)), data.draw(st.integers(0, 99)), True)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(payload) - 1), max_size=5))))
    bounds = [0, *cuts, len(payload)]
    stream = b"".join(
        encode_frame(
            0x1 if i == 0 else 0x0,
            payload[a:b],
            masked=role is Role.SERVER,
            fin=i == len(bounds) - 2,
        )
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    assert feed(framer, stream, splits(data, len(stream))) == [MessageReceived(payload)]


# -- (b) our frames parse identically in wsproto ------------------------------------------------


@given(
    role=roles,
    text=st.booleans(),
    script=st.lists(
        st.tuples(
            st.sampled_from(["message", "ping"]),
            st.sampled_from(BOUNDARY_SIZES) | st.integers(0, 300),
            st.integers(0, 2**32),
        ),
        min_size=1,
        max_size=6,
    ),
    close=st.sampled_from([(1000, ""), (1001, "bye"), (4000, "é" * 61), (3000, "x" * 123)]),
    data=st.data(),
)
def test_our_frames_parse_identically_in_wsproto(
    role: Role,
    text: bool,
    script: list[tuple[str, int, int]],
    close: tuple[int, str],
    data: st.DataObject,
) -> None:
    framer, peer = open_pair(role, text)
    expected: list[Event] = []
    reference = b""  # the same events framed by wsproto's own frame protocol (unmasked)
    twin = Connection(ConnectionType.SERVER)
    for kind, size, seed in script:
        if kind == "ping":
            payload = payload_of(min(size, 125), seed, False)
            framer.send_ping(payload)
            expected.append(Ping(payload=payload))
            reference += twin.send(Ping(payload=payload))
            continue
        payload = payload_of(size, seed, text)
        framer.send_message(payload)
        message: Event = TextMessage(data=payload.decode()) if text else BytesMessage(data=payload)
        expected.append(message)
        reference += twin.send(message)
    framer.close(*close)
    expected.append(CloseConnection(code=close[0], reason=close[1]))
    reference += twin.send(CloseConnection(code=close[0], reason=close[1]))
    wire = framer.data_to_send()
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(wire)), max_size=10))))
    events: list[Event] = []
    for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        events += peer_events(peer, wire[a:b])
    # wsproto may deliver a long message in several events: join them
    joined: list[Event] = []
    for event in events:
        if isinstance(event, Message) and joined and isinstance(joined[-1], Message):
            last = joined[-1]
            if not last.message_finished:
                joined[-1] = type(last)(
                    data=last.data + event.data, message_finished=event.message_finished
                )
                continue
        joined.append(event)
    assert joined == expected
    if role is Role.SERVER:
        assert wire == reference  # unmasked: byte for byte wsproto's frames
    else:
        assert len(wire) == len(reference) + 4 * len(expected)  # a masking key per frame


def test_client_masking_keys_are_fresh_and_drawn_from_the_os() -> None:
    framer, peer = open_pair(Role.CLIENT, text=False)
    keys = []
    for _ in range(200):  # past the 64-key pool: it is refilled
        framer.send_message(b"x" * 8)
        wire = framer.data_to_send()
        assert wire[:2] == bytes([0x82, 0x88])
        keys.append(wire[2:6])
        assert peer_events(peer, wire) == [BytesMessage(data=b"x" * 8)]
    assert len(set(keys)) > 190  # random 32-bit keys: a repeat among 200 is very unlikely


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 125, 2047, 2048, 2049, 70000])
def test_mask_is_its_own_inverse_and_matches_bytewise_xor(size: int) -> None:
    payload = os.urandom(size)
    key = os.urandom(4)
    masked = mask(payload, key)
    assert masked == bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert mask(masked, key) == payload


# -- violations: the close code wsproto uses ----------------------------------------------------


def wsproto_verdict(role: Role, text: bool, stream: bytes, limit: int) -> int | None:
    """The close code a framer built on wsproto (as ``WebSocket`` was) fails ``stream`` with."""
    conn = Connection(ConnectionType.CLIENT if role is Role.CLIENT else ConnectionType.SERVER)
    conn.receive_data(stream)
    size = 0
    for event in conn.events():
        if isinstance(event, CloseConnection):
            if conn.state is not ConnectionState.REMOTE_CLOSING:
                return int(event.code)  # wsproto's own parse failure
            return None
        if isinstance(event, Message):
            if isinstance(event, TextMessage) is not text:
                return 1003
            size += len(event.data.encode() if isinstance(event.data, str) else event.data)
            if size > limit:
                return 1009
            if event.message_finished:
                size = 0
    return None


def frame(first: int, payload: bytes, *, masked: bool, length: bytes | None = None) -> bytes:
    """A frame with any first byte and, optionally, a hand-made length encoding."""
    if length is None:
        size = len(payload)
        length = bytes([size]) if size < 126 else bytes([126]) + size.to_bytes(2, "big")
    second = length[0] | (0x80 if masked else 0)
    if masked:
        key = b"\x01\x02\x03\x04"
        return bytes([first, second]) + length[1:] + key + mask(payload, key)
    return bytes([first, second]) + length[1:] + payload


VIOLATIONS: list[tuple[str, bool, object, int]] = [
    # (name, text, frames(masked) -> bytes, close code)
    ("rsv1 set", False, lambda m: frame(0xC2, b"x", masked=m), 1002),
    ("rsv3 set", False, lambda m: frame(0x92, b"x", masked=m), 1002),
    ("reserved data opcode", False, lambda m: frame(0x83, b"x", masked=m), 1002),
    ("reserved control opcode", False, lambda m: frame(0x8B, b"", masked=m), 1002),
    ("continuation first", False, lambda m: frame(0x80, b"x", masked=m), 1002),
    (
        "new message inside a fragmented one",
        False,
        lambda m: frame(0x02, b"a", masked=m) + frame(0x82, b"b", masked=m),
        1002,
    ),
    ("fragmented ping", False, lambda m: frame(0x09, b"p", masked=m), 1002),
    ("ping over 125", False, lambda m: frame(0x89, b"p" * 126, masked=m), 1002),
    (
        "16-bit length for 125",
        False,
        lambda m: frame(0x82, b"x" * 125, masked=m, length=bytes([126, 0, 125])),
        1002,
    ),
    (
        "64-bit length for 65535",
        False,
        lambda m: frame(
            0x82, b"x" * 65535, masked=m, length=bytes([127]) + (65535).to_bytes(8, "big")
        ),
        1002,
    ),
    (
        "64-bit length with the top bit",
        False,
        lambda m: frame(0x82, b"", masked=m, length=bytes([127]) + (2**63).to_bytes(8, "big")),
        1002,
    ),
    ("close with 1 byte", False, lambda m: frame(0x88, b"\x03", masked=m), 1002),
    ("close code 999", False, lambda m: frame(0x88, (999).to_bytes(2, "big"), masked=m), 1002),
    ("close code 1004", False, lambda m: frame(0x88, (1004).to_bytes(2, "big"), masked=m), 1002),
    ("close code 1005", False, lambda m: frame(0x88, (1005).to_bytes(2, "big"), masked=m), 1002),
    ("close code 1006", False, lambda m: frame(0x88, (1006).to_bytes(2, "big"), masked=m), 1002),
    ("close code 1015", False, lambda m: frame(0x88, (1015).to_bytes(2, "big"), masked=m), 1002),
    ("close code 1016", False, lambda m: frame(0x88, (1016).to_bytes(2, "big"), masked=m), 1002),
    ("close code 2999", False, lambda m: frame(0x88, (2999).to_bytes(2, "big"), masked=m), 1002),
    ("close code 5000", False, lambda m: frame(0x88, (5000).to_bytes(2, "big"), masked=m), 1002),
    (
        "close reason not UTF-8",
        False,
        lambda m: frame(0x88, (1000).to_bytes(2, "big") + b"\xff", masked=m),
        1007,
    ),
    ("text not UTF-8", True, lambda m: frame(0x81, b"\xc3\x28", masked=m), 1007),
    ("text surrogate", True, lambda m: frame(0x81, b"\xed\xa0\x80", masked=m), 1007),
    ("text overlong", True, lambda m: frame(0x81, b"\xc0\xaf", masked=m), 1007),
    (
        "fragmented text not UTF-8",
        True,
        lambda m: frame(0x01, b"ok", masked=m) + frame(0x80, b"\xff", masked=m),
        1007,
    ),
    (
        "fragmented text ending inside a character",
        True,
        lambda m: frame(0x01, b"ok", masked=m) + frame(0x80, b"\xe2\x82", masked=m),
        1007,
    ),
    ("text for binary", False, lambda m: frame(0x81, b"[]", masked=m), 1003),
    ("binary for text", True, lambda m: frame(0x82, b"[]", masked=m), 1003),
    ("message over the limit", False, lambda m: frame(0x82, b"x" * 101, masked=m), 1009),
    (
        "fragments over the limit",
        False,
        lambda m: frame(0x02, b"x" * 60, masked=m) + frame(0x80, b"x" * 41, masked=m),
        1009,
    ),
]


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
@pytest.mark.parametrize(
    ("name", "text", "make", "code"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS]
)
def test_violations_close_with_wsproto_s_code(
    role: Role, name: str, text: bool, make: object, code: int
) -> None:
    stream = make(role is Role.SERVER)  # type: ignore[operator]
    assert wsproto_verdict(role, text, stream, limit=100) == code
    framer, peer = open_pair(role, text, max_message_size=100)
    error = PayloadTooLarge if code == 1009 else RemoteProtocolError
    with pytest.raises(error):
        framer.receive_data(stream)
    assert framer.closed
    [close] = peer_events(peer, framer.data_to_send())
    assert isinstance(close, CloseConnection) and close.code == code


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_wrong_masking_is_refused_as_wsproto_does(role: Role) -> None:
    wrong = frame(0x82, b"abc", masked=role is Role.CLIENT)
    assert wsproto_verdict(role, False, wrong, limit=100) == 1002
    framer, peer = open_pair(role, text=False)
    with pytest.raises(RemoteProtocolError, match="masked"):
        framer.receive_data(wrong)
    [close] = peer_events(peer, framer.data_to_send())
    assert isinstance(close, CloseConnection) and close.code == 1002


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 3000, 4999])
def test_valid_close_codes_are_accepted_and_echoed(code: int) -> None:
    framer, peer = open_pair(Role.SERVER, text=False)
    data = frame(0x88, code.to_bytes(2, "big") + b"why", masked=True)
    assert framer.receive_data(data) == [Closed(code, "why", True)]
    assert peer_events(peer, framer.data_to_send()) == [CloseConnection(code=code, reason="why")]
    assert wsproto_verdict(Role.SERVER, False, data, limit=100) is None


def test_close_code_1014_is_accepted_unlike_wsproto() -> None:
    """1014 (Bad Gateway) is IANA-registered and ``WebSocket.close`` may send it; wsproto's
    code table predates it. We accept it from a peer."""
    framer, _ = open_pair(Role.CLIENT, text=False)
    assert framer.receive_data(frame(0x88, (1014).to_bytes(2, "big"), masked=False)) == [
        Closed(1014, "", True)
    ]
    assert CloseReason.__members__.get("BAD_GATEWAY") is None  # still absent from wsproto


def test_a_frame_announcing_more_than_the_limit_fails_only_once_the_bytes_cross_it() -> None:
    framer, _ = open_pair(Role.SERVER, text=False, max_message_size=1000)
    header = bytes([0x82, 0xFF]) + (2**40).to_bytes(8, "big") + b"\x00" * 4
    assert framer.receive_data(header + b"a" * 500) == []
    assert framer.receive_data(b"a" * 500) == []
    assert buffered(framer) <= 1000 + MAX_HEADER
    with pytest.raises(PayloadTooLarge):
        framer.receive_data(b"a")


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_an_incomplete_frame_over_the_limit_in_one_chunk_fails_at_once(role: Role) -> None:
    framer, peer = open_pair(role, text=False, max_message_size=1000)
    masked = role is Role.SERVER
    whole = frame(0x82, b"a" * 2000, masked=masked)
    with pytest.raises(PayloadTooLarge):
        framer.receive_data(whole[:1100])  # incomplete, but already over the limit
    assert buffered(framer) == 0
    [close] = peer_events(peer, framer.data_to_send())
    assert isinstance(close, CloseConnection) and close.code == 1009


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_while_closing_messages_arrive_pings_go_unanswered(role: Role) -> None:
    framer, peer = open_pair(role, text=False)
    framer.close(1000, "bye")
    # the peer sent these before it saw our close frame
    data = peer.send(Ping(payload=b"late ping")) + peer.send(BytesMessage(data=b"late"))
    data += peer.send(Pong(payload=b"late pong"))
    [close] = peer_events(peer, framer.data_to_send())
    assert close == CloseConnection(code=1000, reason="bye")
    data += peer.send(close.response())
    assert framer.receive_data(data) == [
        MessageReceived(b"late"),
        PongReceived(b"late pong"),
        Closed(1000, "bye", True),
    ]
    assert framer.data_to_send() == b""  # no pong, no second close frame
    assert framer.closed and buffered(framer) == 0


def test_a_message_in_one_byte_fragments_costs_no_object_per_byte() -> None:
    """The reassembly buffer is one bytearray: 20,000 one-byte fragments, no list of pieces."""
    framer, _ = open_pair(Role.CLIENT, text=False)
    stream = frame(0x02, b"a", masked=False)
    stream += frame(0x00, b"b", masked=False) * 19998
    stream += frame(0x80, b"c", masked=False)
    tracemalloc.start()
    try:
        assert framer.receive_data(stream[: len(stream) - 3]) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000  # a list of 20,000 bytes objects alone would take over 600 kB
    assert framer.receive_data(stream[-3:]) == [MessageReceived(b"a" + b"b" * 19998 + b"c")]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_any_bytes_like_payload_is_sent(kind: type) -> None:
    for role in (Role.CLIENT, Role.SERVER):
        framer, peer = open_pair(role, text=True)
        framer.send_message(kind(b'["h\xc3\xa9"]'))
        assert peer_events(peer, framer.data_to_send()) == [TextMessage(data='["hé"]')]
        framer, peer = open_pair(role, text=False)
        framer.receive_data(bytearray(peer.send(BytesMessage(data=b"in"))))  # type: ignore[arg-type]  # bytes-like input works too
        framer.send_message(kind(b"\x00\x01"))
        assert peer_events(peer, framer.data_to_send()) == [BytesMessage(data=b"\x00\x01")]


# -- (c) arbitrary bytes: only our errors, bounded buffers --------------------------------------


@st.composite
def frame_soup(draw: st.DrawFn, masked: bool) -> bytes:
    """Frame-shaped bytes: arbitrary first bytes, mostly the right masking, lengths near and
    over the limit, some of them lying about their length."""
    out = b""
    for _ in range(draw(st.integers(1, 6))):
        first = draw(
            st.sampled_from([0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x88, 0x89, 0x8A])
            | st.integers(0, 255)
        )
        is_masked = draw(st.sampled_from([masked, masked, masked, not masked]))
        payload = draw(st.binary(max_size=300) | st.integers(0, 1100).map(lambda n: b"p" * n))
        announced = draw(st.sampled_from([len(payload)] * 4 + [0, 126, 65536, 2**40]))
        if announced < 126:
            length = bytes([announced])
        elif announced < 65536:
            length = bytes([126]) + announced.to_bytes(2, "big")
        else:
            length = bytes([127]) + announced.to_bytes(8, "big")
        head = bytes([first, length[0] | (0x80 if is_masked else 0)]) + length[1:]
        if is_masked:
            key = draw(st.binary(min_size=4, max_size=4))
            out += head + key + mask(payload, key)
        else:
            out += head + payload
    return out


@given(
    role=roles,
    text=st.booleans(),
    limit=st.sampled_from([1, 100, 1000, 2**24]),
    data=st.data(),
)
def test_arbitrary_bytes_raise_only_our_errors_and_stay_bounded(
    role: Role, text: bool, limit: int, data: st.DataObject
) -> None:
    framer, peer = open_pair(role, text, max_message_size=limit)
    stream = data.draw(st.binary(min_size=1, max_size=400) | frame_soup(role is Role.SERVER))
    try:
        feed(framer, stream, splits(data, len(stream)))
    except ProtocolError:
        assert framer.closed and buffered(framer) == 0
        with pytest.raises(ProtocolError):
            framer.receive_data(b"\x00")
        sent = peer_events(peer, framer.data_to_send())  # pongs, then at most one close
        assert all(isinstance(e, Pong) for e in sent[:-1])
        assert not sent or isinstance(sent[-1], (Pong, CloseConnection))
    else:
        sent = peer_events(peer, framer.data_to_send())
        assert all(isinstance(e, (Pong, CloseConnection)) for e in sent)
    framer.receive_eof()
    assert buffered(framer) == 0


@given(
    client=st.booleans(),
    text=st.booleans(),
    limit=st.sampled_from([1, 125, 1000]),
    stream=st.binary(max_size=500) | frame_soup(False) | frame_soup(True),
    cuts=st.lists(st.integers(0, 500), max_size=20),
)
def test_the_codec_alone_raises_only_frame_errors(
    client: bool, text: bool, limit: int, stream: bytes, cuts: list[int]
) -> None:
    out: list[bytes] = []
    codec = FrameCodec(client=client, text=text, max_message_size=limit, out=out)
    events: list[FramingEvent] = []
    start = 0
    try:
        for cut in [*sorted(c for c in set(cuts) if c < len(stream)), len(stream)]:
            codec.receive(stream[start:cut], events)
            start = cut
            assert codec.buffered <= limit + MAX_OVERHEAD
            if codec.close_received is not None:
                break
    except FrameError as exc:
        assert exc.code in (1002, 1003, 1007, 1009)
    for event in events:
        assert isinstance(event, (MessageReceived, PongReceived))
        if isinstance(event, MessageReceived):
            assert len(event.data) <= limit
            if text:
                event.data.decode()
