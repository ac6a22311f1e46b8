"""Events, roles and the common interface of the sans-IO transport framers.

A framer turns the byte stream of one transport connection (RawSocket or WebSocket) into whole
WAMP messages and back. It knows serializers only by name: payloads are opaque bytes. Like h11
and wsproto, each framer class serves both ends of a connection: the :class:`Role` given to its
constructor decides which side of the opening handshake it plays; the frame codec is shared.

Conventions shared by every framer, in either role:

* ``receive_data(data)`` accepts any split of the input (``b""`` is *not* end of file) and
  returns the events it completed; ``receive_eof()`` is the only way to report that the peer
  closed the TCP connection.
* ``initiate()`` arms the framer: a client queues its opening handshake, a server queues nothing
  and waits for the client's.
* On a violation by the peer the framer enters a terminal error state *first*, queues whatever
  goodbye the protocol allows (a WebSocket close frame), then raises
  :class:`~wamp_core.ProtocolError` (or a subclass), or :class:`~wamp_core.HandshakeError` when
  the opening handshake is refused (by the peer, or by us as a server: then the refusal reply is
  queued first). Later calls fail fast; ``data_to_send()`` still drains.
  Events completed earlier in the same chunk are dropped with the connection.
* Buffers are bounded by the negotiated (or configured) maximum message size.
* Misbehaviour of the peer is logged at DEBUG level only (a server must not be log-floodable).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, TypeAlias

__all__ = [
    "Role",
    "Opened",
    "MessageReceived",
    "PongReceived",
    "Closed",
    "FramingEvent",
    "Framer",
    "check_bytes",
]

_REPR_BYTES = 40


def _short(data: bytes) -> str:
    if len(data) <= _REPR_BYTES:
        return repr(data)
    return f"{data[:_REPR_BYTES]!r}... ({len(data)} bytes)"


class Role(enum.Enum):
    """Which end of the connection a framer plays (h11/wsproto style)."""

    CLIENT = "client"
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class Opened:
    """The opening handshake completed; messages may flow.

    ``serializer`` is the negotiated serializer name (``"cbor"``, ``"json.batched"``...; for a
    server: the one it chose); ``max_send_size`` the largest payload
    :meth:`Framer.send_message` accepts (RawSocket: the limit the peer announced; WebSocket: the
    locally configured limit, as WebSocket negotiates none). ``subprotocol`` is the WebSocket
    subprotocol (``None`` for RawSocket).

    WebSocket only, names lower-case and values decoded as latin-1, the handshake's own headers
    left out: ``response_headers`` are the upgrade response headers (client role);
    ``path`` the request target exactly as the client sent it (path plus optional
    ``?query``) and ``request_headers`` the upgrade request headers, ``host`` included
    (server role). They are empty/``None`` otherwise.
    """

    serializer: str
    max_send_size: int
    subprotocol: str | None
    response_headers: tuple[tuple[str, str], ...] = ()
    path: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, repr=False)
class MessageReceived:
    """One complete WAMP message (still serialized)."""

    data: bytes

    def __repr__(self) -> str:
        return f"MessageReceived(data={_short(self.data)})"


_new_object = object.__new__
_set_message_data = MessageReceived.data.__set__  # type: ignore[misc,attr-defined]


def check_bytes(data: object) -> None:
    """Refuse input that is not bytes (``bytes``, ``bytearray``, ``memoryview``) with a
    ``TypeError`` that says so; the connections call it when ``type(data) is not bytes``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"receive_data() takes bytes, not {type(data).__name__}")


def message_received(data: bytes) -> MessageReceived:
    """``MessageReceived(data)`` for the framers' hot path: the slot set directly, without the
    frozen dataclass's ``__init__`` (which goes through ``object.__setattr__``; a third of the
    cost, once per received message)."""
    event: MessageReceived = _new_object(MessageReceived)
    _set_message_data(event, data)
    return event


@dataclass(frozen=True, slots=True, repr=False)
class PongReceived:
    """The peer answered a ping (or sent an unsolicited pong)."""

    payload: bytes

    def __repr__(self) -> str:
        return f"PongReceived(payload={_short(self.payload)})"


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection is closed; nothing more will be received.

    ``code`` is the WebSocket close code (1005 when the close frame carried none, 1006 when the
    TCP connection ended without a close handshake) and ``None`` for RawSocket. ``clean`` is
    true only when a close handshake completed.
    """

    code: int | None
    reason: str
    clean: bool


FramingEvent: TypeAlias = Opened | MessageReceived | PongReceived | Closed


class Framer(Protocol):
    """What a driver needs from a transport framer (:class:`RawSocket`, :class:`WebSocket`, in
    either role).

    A driver calls :meth:`initiate`, writes :meth:`data_to_send`, then feeds every chunk it reads
    to :meth:`receive_data` (and end of file to :meth:`receive_eof`), writing
    :meth:`data_to_send` after each call.
    """

    def initiate(self) -> None:
        """Arm the framer; a client queues its opening handshake (a server sends nothing until
        the client's handshake arrived)."""

    def receive_data(self, data: bytes) -> list[FramingEvent]:
        """Feed received bytes (any split); return the completed events.

        Raises :class:`~wamp_core.ProtocolError` (or a subclass) on a violation by the peer and
        :class:`~wamp_core.HandshakeError` when the opening handshake is refused.
        """
        ...

    def receive_eof(self) -> list[FramingEvent]:
        """The peer closed the connection: ``[Closed(clean=False)]`` unless a close handshake
        completed (then ``[]``). Raises :class:`~wamp_core.HandshakeError` if the opening
        handshake had not completed."""
        ...

    def send_message(self, payload: bytes) -> None:
        """Queue one WAMP message.

        Raises :class:`~wamp_core.MessageTooLarge` (nothing queued) when it exceeds
        ``max_send_size`` and :class:`~wamp_core.LocalProtocolError` when not open.
        """

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a ping; the answer arrives as :class:`PongReceived`."""

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake (RawSocket: just mark the connection closed)."""

    def data_to_send(self) -> bytes:
        """Drain the outgoing bytes (``b""`` if none)."""
        ...

    @property
    def is_open(self) -> bool:
        """True between the opening handshake and the start of closing."""
        ...

    @property
    def closed(self) -> bool:
        """True once no more traffic is possible (closed or failed): the driver may close the
        socket after draining :meth:`data_to_send`."""
        ...
