"""Sans-IO WAMP RawSocket framing for either end: handshake, message/PING/PONG frames.

Wire format (all big-endian)::

    handshake, both ways:  0x7F  LLLL SSSS  0x00  0x00
    frame header:          RRRR XTTT  LLLLLLLL LLLLLLLL LLLLLLLL   then the payload

``LLLL`` in the handshake announces the largest message the sender accepts, ``2**(9 + LLLL)``;
``SSSS`` is the serializer (0 in a server's error reply, whose ``LLLL`` is then the error code).
In a frame ``TTT`` is 0 (message), 1 (PING) or 2 (PONG); ``X`` is the 25th length bit, set only
for a payload of exactly ``2**24`` bytes. After the handshake both directions frame alike, so
one frame codec serves both roles.
"""

from __future__ import annotations

import enum
import logging
import struct
from collections.abc import Sequence
from typing import Final, NoReturn

from .._errors import (
    ConfigurationError,
    HandshakeError,
    LocalProtocolError,
    MessageTooLarge,
    PayloadTooLarge,
    RemoteProtocolError,
    WampError,
)
from .._wire import RAWSOCKET_MAX_MESSAGE_SIZE, RAWSOCKET_MIN_MESSAGE_SIZE, RAWSOCKET_SERIALIZER_IDS
from ._events import (
    Closed,
    FramingEvent,
    Opened,
    PongReceived,
    Role,
    message_received,
)

__all__ = [
    "RawSocket",
    "RAWSOCKET_MAGIC",
    "RAWSOCKET_MIN_LENGTH",
    "RAWSOCKET_MAX_LENGTH",
    "RAWSOCKET_ERRORS",
]

logger = logging.getLogger(__name__)

RAWSOCKET_MAGIC: Final = 0x7F
#: Smallest and largest maximum message length a RawSocket handshake can announce.
RAWSOCKET_MIN_LENGTH: Final = RAWSOCKET_MIN_MESSAGE_SIZE
RAWSOCKET_MAX_LENGTH: Final = RAWSOCKET_MAX_MESSAGE_SIZE

#: Error codes of a server's handshake error reply.
RAWSOCKET_ERRORS: Final = {
    1: "serializer unsupported",
    2: "maximum message length unacceptable",
    3: "use of reserved bits (unsupported feature)",
    4: "maximum connection count reached",
}
_ERROR_SERIALIZER_UNSUPPORTED: Final = 1
_ERROR_RESERVED_BITS: Final = 3

_SERIALIZER_NAMES_BY_ID: Final = {sid: name for name, sid in RAWSOCKET_SERIALIZER_IDS.items()}
_HEADER_SIZE: Final = 4
_FRAME_MESSAGE: Final = 0
_FRAME_PING: Final = 1
_FRAME_PONG: Final = 2
_FRAME_NAMES: Final = {_FRAME_MESSAGE: "message", _FRAME_PING: "PING", _FRAME_PONG: "PONG"}
_X_BIT: Final = 0x08
_TYPE_MASK: Final = 0x07
_RESERVED_MASK: Final = 0xF0
# A frame header as one big-endian 32-bit word (first byte: reserved bits, the length's 25th
# bit, the frame type; then the 24-bit length): one C call each way on every frame.
_HEADER = struct.Struct(">I")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from


class _State(enum.Enum):
    IDLE = "idle"  # before initiate()
    HANDSHAKE = "handshake"  # waiting for the peer's handshake (reply or request)
    OPEN = "open"
    CLOSED = "closed"
    ERROR = "error"


class _S:
    """_State's members as plain class attributes for the hot path: on Python 3.11
    reading an enum member goes through the enum metaclass's ``__getattr__`` hook (~4x a
    plain attribute), and every message reads several."""

    IDLE: Final = _State.IDLE
    HANDSHAKE: Final = _State.HANDSHAKE
    OPEN: Final = _State.OPEN
    CLOSED: Final = _State.CLOSED
    ERROR: Final = _State.ERROR


def _header(frame_type: int, length: int) -> bytes:
    return _pack_header(frame_type << 24 | length)  # (length < 2**24: see _open)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or name not in RAWSOCKET_SERIALIZER_IDS:
        known = ", ".join(RAWSOCKET_SERIALIZER_IDS)
        raise ConfigurationError(
            f"unknown RawSocket serializer {name!r} (expected one of: {known})"
        )
    return name


def _check_role_arguments(
    role: Role, serializer: str | None, serializers: str | Sequence[str] | None
) -> tuple[str, ...]:
    """The serializer names of the role: the one a client asks for, or those a server accepts."""
    if not isinstance(role, Role):
        raise ConfigurationError(f"role must be Role.CLIENT or Role.SERVER, not {role!r}")
    if role is Role.CLIENT:
        if serializers is not None:
            raise ConfigurationError(
                "serializers= is for Role.SERVER; a RawSocket client asks for exactly one "
                "serializer: pass serializer="
            )
        if serializer is None:
            raise ConfigurationError("a RawSocket client needs serializer= (e.g. 'cbor')")
        return (_check_name(serializer),)
    if serializer is not None:
        raise ConfigurationError(
            "serializer= is for Role.CLIENT; a RawSocket server accepts several: pass serializers="
        )
    if serializers is None:
        raise ConfigurationError("a RawSocket server needs serializers= (the accepted names)")
    names = (serializers,) if isinstance(serializers, str) else tuple(serializers)
    if not names:
        raise ConfigurationError("serializers must name at least one serializer")
    for name in names:
        _check_name(name)
    if len(set(names)) != len(names):
        raise ConfigurationError(f"serializers lists a name twice: {list(names)}")
    return names


class RawSocket:
    """One end of a WAMP RawSocket connection (implements ``Framer``).

    ``RawSocket(Role.CLIENT, serializer="cbor")`` asks for one serializer;
    ``RawSocket(Role.SERVER, serializers=("cbor", "json"))`` accepts any of those the client
    asks for. Role-specific arguments given to the other role raise
    :class:`~wamp_core.ConfigurationError`.

    ``max_receive_size`` (512 ... 2**24) is rounded down to a power of two, announced to the
    peer and enforced on every received frame before its payload is buffered. The peer's own
    limit arrives in :class:`Opened` as ``max_send_size``. PINGs are answered automatically
    with a PONG echoing the payload. RawSocket has no close handshake: :meth:`close` only marks
    the connection closed, and end of file is reported as ``Closed(code=None, clean=False)``.

    A server reads the client's 4-octet handshake. It refuses, by queueing the spec's error
    reply and raising :class:`~wamp_core.HandshakeError` with ``code`` set, a serializer it does
    not accept (code 1) and non-zero reserved octets (code 3); a first octet other than 0x7F is
    not RawSocket at all: :class:`~wamp_core.RemoteProtocolError`, nothing queued. Otherwise it
    replies with the chosen serializer and its own limit, and reports :class:`Opened`.
    """

    def __init__(
        self,
        role: Role,
        *,
        serializer: str | None = None,
        serializers: str | Sequence[str] | None = None,
        max_receive_size: int = RAWSOCKET_MAX_LENGTH,
    ) -> None:
        names = _check_role_arguments(role, serializer, serializers)
        if (
            isinstance(max_receive_size, bool)
            or not isinstance(max_receive_size, int)
            or not RAWSOCKET_MIN_LENGTH <= max_receive_size <= RAWSOCKET_MAX_LENGTH
        ):
            raise ConfigurationError(
                f"max_receive_size must be an int from {RAWSOCKET_MIN_LENGTH} to "
                f"{RAWSOCKET_MAX_LENGTH} (2**24), not {max_receive_size!r}"
            )
        self._role = role
        self._serializers = names
        self._serializer: str | None = names[0] if role is Role.CLIENT else None
        self._length_exp = max_receive_size.bit_length() - 1 - 9
        self._max_receive = 1 << (9 + self._length_exp)
        self._max_send: int | None = None
        self._state = _S.IDLE
        self._error: WampError | None = None
        self._inbuf = bytearray()
        self._outbuf = bytearray()

    def __repr__(self) -> str:
        return (
            f"<RawSocket role={self._role.value} serializer={self._serializer!r} "
            f"state={self._state.value} max_receive_size={self._max_receive} "
            f"max_send_size={self._max_send}>"
        )

    # -- properties -------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        """Which end of the connection this framer plays."""
        return self._role

    @property
    def serializer(self) -> str | None:
        """The serializer name: the one a client asks for; the one a server chose (``None``
        until the handshake completed)."""
        return self._serializer

    @property
    def serializers(self) -> tuple[str, ...]:
        """A server's accepted serializer names (a client's: just the one it asks for)."""
        return self._serializers

    @property
    def max_receive_size(self) -> int:
        """The receive limit announced to the peer (a power of two)."""
        return self._max_receive

    @property
    def max_send_size(self) -> int | None:
        """The peer's receive limit (``None`` until the handshake completed)."""
        return self._max_send

    @property
    def is_open(self) -> bool:
        """True after a successful handshake until closed or failed."""
        return self._state is _S.OPEN

    @property
    def closed(self) -> bool:
        """True after :meth:`close`, end of file, or a failure."""
        return self._state in (_S.CLOSED, _S.ERROR)

    # -- commands ---------------------------------------------------------------------------

    def initiate(self) -> None:
        """Client: queue the 4-octet handshake request. Server: start waiting for it."""
        if self._state is not _S.IDLE:
            raise LocalProtocolError(f"initiate() called twice (state: {self._state.value})")
        if self._role is Role.CLIENT:
            assert self._serializer is not None
            self._outbuf += self._handshake(RAWSOCKET_SERIALIZER_IDS[self._serializer])
        self._state = _S.HANDSHAKE

    def _handshake(self, serializer_id: int) -> bytes:
        return bytes((RAWSOCKET_MAGIC, (self._length_exp << 4) | serializer_id, 0, 0))

    def send_message(self, payload: bytes) -> None:
        """Queue one WAMP message frame (at most ``max_send_size`` bytes)."""
        self._queue_frame(_FRAME_MESSAGE, payload)

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a PING frame; the peer's PONG arrives as ``PongReceived(payload)``."""
        self._queue_frame(_FRAME_PING, payload)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Mark the connection closed (RawSocket sends nothing; ``code``/``reason`` are
        ignored). Data received afterwards is discarded. Idempotent."""
        if self._state in (_S.CLOSED, _S.ERROR):
            return
        self._state = _S.CLOSED
        self._inbuf.clear()

    def data_to_send(self) -> bytes:
        """Drain the outgoing bytes."""
        data = bytes(self._outbuf)
        self._outbuf.clear()
        return data

    def _queue_frame(self, frame_type: int, payload: bytes) -> None:
        if self._state is not _S.OPEN:
            raise LocalProtocolError(
                f"cannot send a RawSocket {_FRAME_NAMES[frame_type]}: the connection is "
                f"{self._state.value}"
            )
        assert self._max_send is not None
        size = len(payload)
        if size > self._max_send:
            raise MessageTooLarge(
                f"RawSocket {_FRAME_NAMES[frame_type]} of {size} bytes exceeds the peer's "
                f"limit of {self._max_send} bytes"
            )
        if size == RAWSOCKET_MAX_LENGTH:
            # Its length needs the spec's 25th bit (X), which Crossbar.io reads as part of a
            # 32-bit length (and drops the connection): one byte less is the largest sent.
            raise MessageTooLarge(
                f"RawSocket {_FRAME_NAMES[frame_type]} of exactly 2**24 bytes: the largest "
                f"sent is {RAWSOCKET_MAX_LENGTH - 1} (Crossbar.io misreads the 25th length bit)"
            )
        self._outbuf += _header(frame_type, size)
        self._outbuf += payload

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[FramingEvent]:
        """Feed bytes from the peer; return the events they completed."""
        state = self._state
        if state is _S.ERROR:
            raise RemoteProtocolError(f"the RawSocket connection already failed: {self._error}")
        if state is _S.IDLE:
            raise LocalProtocolError("receive_data() before initiate()")
        if state is _S.CLOSED or not data:
            return []
        buf = self._inbuf
        events: list[FramingEvent] = []
        if state is _S.OPEN and not buf:
            # Nothing buffered (the common case): parse straight from the chunk and keep only
            # an incomplete tail, saving a copy of every message.
            offset = self._parse_frames(data, 0, events)
            if offset < len(data):
                buf += memoryview(data)[offset:]
            return events
        buf += data
        offset = 0
        if state is _S.HANDSHAKE:
            if buf[0] != RAWSOCKET_MAGIC:
                if self._role is Role.CLIENT:  # (a garbled reply: the transport failed)
                    self._fail(
                        HandshakeError(
                            f"RawSocket handshake reply starts with 0x{buf[0]:02X}, not 0x7F "
                            "(is the router speaking RawSocket?)"
                        )
                    )
                self._fail(
                    RemoteProtocolError(
                        f"RawSocket handshake request starts with 0x{buf[0]:02X}, not 0x7F "
                        "(is the peer speaking RawSocket?)"
                    )
                )
            if len(buf) < _HEADER_SIZE:
                return events
            handshake = buf[0:_HEADER_SIZE]
            if self._role is Role.CLIENT:
                events.append(self._handshake_reply(handshake))
            else:
                events.append(self._handshake_request(handshake))
            offset = _HEADER_SIZE
        offset = self._parse_frames(buf, offset, events)
        # Only the incomplete tail is moved, once per call: O(n) over any split.
        if offset == len(buf):
            buf.clear()
        elif offset:
            del buf[:offset]
        return events

    def _handshake_reply(self, reply: bytearray) -> Opened:
        """Client: the server's answer to our request."""
        if reply[2] or reply[3]:
            self._fail(
                HandshakeError(
                    f"RawSocket handshake reply {bytes(reply).hex(' ')} has non-zero "
                    "reserved octets"
                )
            )
        high, low = reply[1] >> 4, reply[1] & 0x0F
        if low == 0:
            what = RAWSOCKET_ERRORS.get(high, "unknown error")
            self._fail(
                HandshakeError(
                    f"the router refused the RawSocket handshake: {what} (error code {high})",
                    code=high,
                )
            )
        assert self._serializer is not None
        wanted = RAWSOCKET_SERIALIZER_IDS[self._serializer]
        if low != wanted:
            self._fail(
                HandshakeError(
                    f"the router answered the RawSocket handshake with serializer id {low}, "
                    f"but we asked for {wanted} ({self._serializer})"
                )
            )
        return self._open(high)

    def _handshake_request(self, request: bytearray) -> Opened:
        """Server: answer the client's request (an error reply if we refuse it)."""
        if request[2] or request[3]:
            self._refuse(
                _ERROR_RESERVED_BITS,
                f"RawSocket handshake request {bytes(request).hex(' ')} has non-zero reserved "
                "octets",
            )
        high, low = request[1] >> 4, request[1] & 0x0F
        name = _SERIALIZER_NAMES_BY_ID.get(low)
        if name is None or name not in self._serializers:
            asked = f"{name} (id {low})" if name else f"unknown serializer id {low}"
            self._refuse(
                _ERROR_SERIALIZER_UNSUPPORTED,
                f"the RawSocket client asked for {asked}; accepted: {', '.join(self._serializers)}",
            )
        self._serializer = name
        self._outbuf += self._handshake(RAWSOCKET_SERIALIZER_IDS[name])
        return self._open(high)

    def _open(self, peer_length_exp: int) -> Opened:
        assert self._serializer is not None
        self._max_send = 1 << (9 + peer_length_exp)
        self._state = _S.OPEN
        logger.debug(
            "RawSocket open (%s): serializer=%s max_send_size=%d max_receive_size=%d",
            self._role.value,
            self._serializer,
            self._max_send,
            self._max_receive,
        )
        return Opened(self._serializer, self._max_send, None, ())

    def _refuse(self, code: int, message: str) -> NoReturn:
        """Server: queue the error reply with ``code``, then fail with a HandshakeError."""
        self._outbuf += bytes((RAWSOCKET_MAGIC, code << 4, 0, 0))
        self._fail(
            HandshakeError(
                f"{message}: refused with RawSocket error {code} ({RAWSOCKET_ERRORS[code]})",
                code=code,
            )
        )

    def _parse_frames(self, buf: bytes | bytearray, offset: int, events: list[FramingEvent]) -> int:
        end = len(buf)
        while end - offset >= _HEADER_SIZE:
            (word,) = _unpack_header(buf, offset)
            first = word >> 24
            if first & _RESERVED_MASK:
                self._fail(
                    RemoteProtocolError(
                        f"RawSocket frame header 0x{first:02X} has reserved bits set"
                    )
                )
            frame_type = first & _TYPE_MASK
            if frame_type > _FRAME_PONG:
                self._fail(RemoteProtocolError(f"RawSocket frame type {frame_type} is reserved"))
            length = word & 0xFFFFFF
            if first & _X_BIT:
                if length:
                    self._fail(
                        RemoteProtocolError(
                            "RawSocket frame header sets the 25th length bit with a non-zero "
                            "24-bit length (only exactly 2**24 bytes may use it)"
                        )
                    )
                length = RAWSOCKET_MAX_LENGTH
            if length > self._max_receive:
                self._fail(
                    PayloadTooLarge(
                        f"RawSocket {_FRAME_NAMES[frame_type]} frame of {length} bytes exceeds "
                        f"our announced limit of {self._max_receive} bytes"
                    )
                )
            start = offset + _HEADER_SIZE
            if end - start < length:
                break
            payload = bytes(buf[start : start + length])
            offset = start + length
            if frame_type == _FRAME_MESSAGE:
                events.append(message_received(payload))
            elif frame_type == _FRAME_PING:
                # Exactly one PONG echoing the payload, immediately; a PING whose echo would
                # exceed the peer's own receive limit cannot be answered within the protocol.
                if self._max_send is not None and (
                    length > self._max_send or length == RAWSOCKET_MAX_LENGTH
                ):  # (2**24: see _queue_frame)
                    self._fail(
                        PayloadTooLarge(
                            f"RawSocket PING of {length} bytes: its PONG would exceed the "
                            f"peer's limit of {self._max_send} bytes"
                        )
                    )
                self._outbuf += _header(_FRAME_PONG, length)
                self._outbuf += payload
            else:
                events.append(PongReceived(payload))
        return offset

    def receive_eof(self) -> list[FramingEvent]:
        """The peer closed the connection: ``[Closed(None, ..., clean=False)]`` once."""
        state = self._state
        if state in (_S.ERROR, _S.CLOSED):
            return []
        if state is not _S.OPEN:
            hint = (
                " (a router that does not support the serializer or length may just drop the "
                "connection)"
                if self._role is Role.CLIENT
                else ""
            )
            self._fail(
                HandshakeError(
                    f"the connection was closed before the RawSocket handshake completed{hint}"
                )
            )
        pending = len(self._inbuf)
        self._state = _S.CLOSED
        self._inbuf.clear()
        reason = "connection closed by the peer"
        if pending:
            reason += f" in the middle of a frame ({pending} bytes discarded)"
        return [Closed(None, reason, False)]

    def _fail(self, exc: WampError) -> NoReturn:
        """Enter the terminal error state, then raise ``exc``."""
        self._state = _S.ERROR
        self._error = exc
        self._inbuf.clear()
        logger.debug("RawSocket connection (%s) failed: %s", self._role.value, exc)
        raise exc
