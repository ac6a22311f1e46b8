"""Sans-IO WAMP RawSocket client framing (handshake, message/PING/PONG frames).

Wire format (all big-endian)::

    handshake, both ways:  0x7F  LLLL SSSS  0x00  0x00
    frame header:          RRRR XTTT  LLLLLLLL LLLLLLLL LLLLLLLL   then the payload

``LLLL`` in the handshake announces the largest message the sender accepts, ``2**(9 + LLLL)``;
``SSSS`` is the serializer (0 in a router's error reply, whose ``LLLL`` is then the error code).
In a frame ``TTT`` is 0 (message), 1 (PING) or 2 (PONG); ``X`` is the 25th length bit, set only
for a payload of exactly ``2**24`` bytes.
"""

from __future__ import annotations

import enum
import logging
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
    MessageReceived,
    Opened,
    PongReceived,
)

__all__ = [
    "RawSocketClient",
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

#: Error codes of a router's handshake error reply.
RAWSOCKET_ERRORS: Final = {
    1: "serializer unsupported",
    2: "maximum message length unacceptable",
    3: "use of reserved bits (unsupported feature)",
    4: "maximum connection count reached",
}

_HEADER_SIZE: Final = 4
_FRAME_MESSAGE: Final = 0
_FRAME_PING: Final = 1
_FRAME_PONG: Final = 2
_FRAME_NAMES: Final = {_FRAME_MESSAGE: "message", _FRAME_PING: "PING", _FRAME_PONG: "PONG"}
_X_BIT: Final = 0x08
_TYPE_MASK: Final = 0x07
_RESERVED_MASK: Final = 0xF0


class _State(enum.Enum):
    IDLE = "idle"  # before initiate()
    HANDSHAKE = "handshake"  # request queued, waiting for the router's reply
    OPEN = "open"
    CLOSED = "closed"
    ERROR = "error"


def _header(frame_type: int, length: int) -> bytes:
    if length == RAWSOCKET_MAX_LENGTH:
        return bytes((frame_type | _X_BIT, 0, 0, 0))
    return bytes((frame_type, length >> 16, (length >> 8) & 0xFF, length & 0xFF))


class RawSocketClient:
    """The client side of one WAMP RawSocket connection (implements ``Framer``).

    ``max_receive_size`` (512 ... 2**24) is rounded down to a power of two, announced to the
    router and enforced on every received frame before its payload is buffered. The router's
    own limit arrives in :class:`Opened` as ``max_send_size``. PINGs from the router are
    answered automatically with a PONG echoing the payload. RawSocket has no close handshake:
    :meth:`close` only marks the connection closed, and end of file is reported as
    ``Closed(code=None, clean=False)``.
    """

    def __init__(self, serializer: str, max_receive_size: int = RAWSOCKET_MAX_LENGTH) -> None:
        if not isinstance(serializer, str) or serializer not in RAWSOCKET_SERIALIZER_IDS:
            known = ", ".join(RAWSOCKET_SERIALIZER_IDS)
            raise ConfigurationError(
                f"unknown RawSocket serializer {serializer!r} (expected one of: {known})"
            )
        if (
            isinstance(max_receive_size, bool)
            or not isinstance(max_receive_size, int)
            or not RAWSOCKET_MIN_LENGTH <= max_receive_size <= RAWSOCKET_MAX_LENGTH
        ):
            raise ConfigurationError(
                f"max_receive_size must be an int from {RAWSOCKET_MIN_LENGTH} to "
                f"{RAWSOCKET_MAX_LENGTH} (2**24), not {max_receive_size!r}"
            )
        self._serializer = serializer
        self._serializer_id = RAWSOCKET_SERIALIZER_IDS[serializer]
        self._length_exp = max_receive_size.bit_length() - 1 - 9
        self._max_receive = 1 << (9 + self._length_exp)
        self._max_send: int | None = None
        self._state = _State.IDLE
        self._error: WampError | None = None
        self._inbuf = bytearray()
        self._outbuf = bytearray()

    def __repr__(self) -> str:
        return (
            f"<RawSocketClient serializer={self._serializer!r} state={self._state.value} "
            f"max_receive_size={self._max_receive} max_send_size={self._max_send}>"
        )

    # -- properties -------------------------------------------------------------------------

    @property
    def serializer(self) -> str:
        """The serializer name this connection asks for."""
        return self._serializer

    @property
    def max_receive_size(self) -> int:
        """The receive limit announced to the router (a power of two)."""
        return self._max_receive

    @property
    def max_send_size(self) -> int | None:
        """The router's receive limit (``None`` until the handshake completed)."""
        return self._max_send

    @property
    def is_open(self) -> bool:
        """True after a successful handshake until closed or failed."""
        return self._state is _State.OPEN

    @property
    def closed(self) -> bool:
        """True after :meth:`close`, end of file, or a failure."""
        return self._state in (_State.CLOSED, _State.ERROR)

    # -- commands ---------------------------------------------------------------------------

    def initiate(self) -> None:
        """Queue the 4-octet handshake request."""
        if self._state is not _State.IDLE:
            raise LocalProtocolError(f"initiate() called twice (state: {self._state.value})")
        self._outbuf += bytes(
            (RAWSOCKET_MAGIC, (self._length_exp << 4) | self._serializer_id, 0, 0)
        )
        self._state = _State.HANDSHAKE

    def send_message(self, payload: bytes) -> None:
        """Queue one WAMP message frame (at most ``max_send_size`` bytes)."""
        self._queue_frame(_FRAME_MESSAGE, payload)

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a PING frame; the router's PONG arrives as ``PongReceived(payload)``."""
        self._queue_frame(_FRAME_PING, payload)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Mark the connection closed (RawSocket sends nothing; ``code``/``reason`` are
        ignored). Data received afterwards is discarded. Idempotent."""
        if self._state in (_State.CLOSED, _State.ERROR):
            return
        self._state = _State.CLOSED
        self._inbuf.clear()

    def data_to_send(self) -> bytes:
        """Drain the outgoing bytes."""
        data = bytes(self._outbuf)
        self._outbuf.clear()
        return data

    def _queue_frame(self, frame_type: int, payload: bytes) -> None:
        if self._state is not _State.OPEN:
            raise LocalProtocolError(
                f"cannot send a RawSocket {_FRAME_NAMES[frame_type]}: the connection is "
                f"{self._state.value}"
            )
        assert self._max_send is not None
        size = len(payload)
        if size > self._max_send:
            raise MessageTooLarge(
                f"RawSocket {_FRAME_NAMES[frame_type]} of {size} bytes exceeds the router's "
                f"limit of {self._max_send} bytes"
            )
        self._outbuf += _header(frame_type, size)
        self._outbuf += payload

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[FramingEvent]:
        """Feed bytes from the router; return the events they completed."""
        state = self._state
        if state is _State.ERROR:
            raise RemoteProtocolError(f"the RawSocket connection already failed: {self._error}")
        if state is _State.IDLE:
            raise LocalProtocolError("receive_data() before initiate()")
        if state is _State.CLOSED or not data:
            return []
        buf = self._inbuf
        buf += data
        events: list[FramingEvent] = []
        offset = 0
        if state is _State.HANDSHAKE:
            if buf[0] != RAWSOCKET_MAGIC:
                self._fail(
                    RemoteProtocolError(
                        f"RawSocket handshake reply starts with 0x{buf[0]:02X}, not 0x7F "
                        "(is this a RawSocket endpoint?)"
                    )
                )
            if len(buf) < _HEADER_SIZE:
                return events
            events.append(self._handshake_reply(buf[0:_HEADER_SIZE]))
            offset = _HEADER_SIZE
        offset = self._parse_frames(buf, offset, events)
        # Only the incomplete tail is moved, once per call: O(n) over any split.
        if offset == len(buf):
            buf.clear()
        elif offset:
            del buf[:offset]
        return events

    def _handshake_reply(self, reply: bytearray) -> Opened:
        if reply[2] or reply[3]:
            self._fail(
                RemoteProtocolError(
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
        if low != self._serializer_id:
            self._fail(
                RemoteProtocolError(
                    f"the router answered the RawSocket handshake with serializer id {low}, "
                    f"but we asked for {self._serializer_id} ({self._serializer})"
                )
            )
        self._max_send = 1 << (9 + high)
        self._state = _State.OPEN
        logger.debug(
            "RawSocket open: serializer=%s max_send_size=%d max_receive_size=%d",
            self._serializer,
            self._max_send,
            self._max_receive,
        )
        return Opened(self._serializer, self._max_send, None, ())

    def _parse_frames(self, buf: bytearray, offset: int, events: list[FramingEvent]) -> int:
        end = len(buf)
        while end - offset >= _HEADER_SIZE:
            first = buf[offset]
            if first & _RESERVED_MASK:
                self._fail(
                    RemoteProtocolError(
                        f"RawSocket frame header 0x{first:02X} has reserved bits set"
                    )
                )
            frame_type = first & _TYPE_MASK
            if frame_type > _FRAME_PONG:
                self._fail(RemoteProtocolError(f"RawSocket frame type {frame_type} is reserved"))
            length = int.from_bytes(buf[offset + 1 : offset + _HEADER_SIZE], "big")
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
                events.append(MessageReceived(payload))
            elif frame_type == _FRAME_PING:
                # Exactly one PONG echoing the payload, immediately; a PING whose echo would
                # exceed the router's own receive limit cannot be answered within the protocol.
                if self._max_send is not None and length > self._max_send:
                    self._fail(
                        PayloadTooLarge(
                            f"RawSocket PING of {length} bytes: its PONG would exceed the "
                            f"router's limit of {self._max_send} bytes"
                        )
                    )
                self._outbuf += _header(_FRAME_PONG, length)
                self._outbuf += payload
            else:
                events.append(PongReceived(payload))
        return offset

    def receive_eof(self) -> list[FramingEvent]:
        """The router closed the connection: ``[Closed(None, ..., clean=False)]`` once."""
        state = self._state
        if state in (_State.ERROR, _State.CLOSED):
            return []
        if state is not _State.OPEN:
            self._fail(
                HandshakeError(
                    "the connection was closed before the RawSocket handshake completed "
                    "(a router that does not support the serializer or length may just "
                    "drop the connection)"
                )
            )
        pending = len(self._inbuf)
        self._state = _State.CLOSED
        self._inbuf.clear()
        reason = "connection closed by the peer"
        if pending:
            reason += f" in the middle of a frame ({pending} bytes discarded)"
        return [Closed(None, reason, False)]

    def _fail(self, exc: WampError) -> NoReturn:
        """Enter the terminal error state, then raise ``exc``."""
        self._state = _State.ERROR
        self._error = exc
        self._inbuf.clear()
        logger.debug("RawSocket connection failed: %s", exc)
        raise exc
