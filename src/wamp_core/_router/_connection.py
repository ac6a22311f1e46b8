"""One client's transport connection to the router: server framing, serializer, session.

Bytes in (:meth:`RouterConnection.receive_data`), bytes out (:meth:`data_to_send`): the driver
moves them. Messages other sessions produce for this one land here at any time, so the
connection calls :attr:`on_output` (set by the driver; it must not block) whenever it has
queued bytes or wants to be closed; :attr:`should_close` says the driver may close the socket
once it has sent what is queued.

Memory is bounded per connection: a client that does not read what the router queued for it
(``max_queued`` bytes not yet taken by :meth:`data_to_send`) is cut off: its session ends as
if it left (its calls answered, its registrations and subscriptions gone), nothing more is
queued for it, and the transport closes. Others never wait for it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import ClassVar

from .. import _messages as m
from .._errors import (
    HandshakeError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    WampError,
)  # fmt: skip
from .._framing import Closed, MessageReceived, Opened, RawSocket, WebSocket
from .._framing._events import check_bytes
from ..serializers import BatchedSerializer, Serializer, get_serializer
from ._engine import PROTOCOL_VIOLATION, Router, RouterSession

__all__ = ["MAX_QUEUED", "RouterConnection"]

#: Bytes queued for one client, not yet taken by the driver, at which it is cut off.
MAX_QUEUED = 16 << 20


def _router_serializer(name: str) -> Serializer:
    """The serializer the router speaks ``name`` with: ``ubjson`` as BJData, as Crossbar.io 26
    does (classic UBJSON writes NaN and the infinities as null; a client's HELLO reads the same
    in both, so an adaptive instance would never switch), which our clients and Autobahn 26
    follow; every connection of one name the same, as the per-name encoded cache needs."""
    if name.partition(".")[0] != "ubjson":
        return get_serializer(name)
    from ..serializers._ubjson import UbjsonSerializer  # noqa: PLC0415 - imported on demand

    base = UbjsonSerializer(dialect="bjdata")
    return BatchedSerializer(base) if name.endswith(".batched") else base


log = logging.getLogger(__name__)

INVALID_URI = "wamp.error.invalid_uri"


class RouterConnection:
    """Serve one transport connection (``framer`` in the server role) for ``router``;
    ``channel_ids``: its TLS channel ids (:func:`wamp_core.channel_ids`) when it is TLS."""

    #: The default ``max_queued``: bytes queued for a client that does not read, not yet
    #: taken by the driver, at which it is cut off.
    MAX_QUEUED: ClassVar[int] = MAX_QUEUED

    def __init__(
        self, router: Router, framer: RawSocket | WebSocket, *, max_queued: int = MAX_QUEUED,
        channel_ids: Mapping[str, bytes] | None = None,
    ) -> None:  # fmt: skip
        self.framer = framer
        self.max_queued = max_queued
        self._queued = 0
        self.session: RouterSession = router.open_session(self._send, self._end)
        if channel_ids:
            for kind, value in channel_ids.items():
                if type(value) is not bytes or len(value) != 32:
                    raise ValueError(
                        f"channel id {kind!r} must be 32 bytes (wamp_core.channel_ids() makes "
                        "them from the TLS binding)"
                    )
            self.session.channel_ids = dict(channel_ids)
        self._encoded = router.encoded
        self.serializer: Serializer | None = None
        self.should_close = False
        #: Cut off for not reading (``max_queued``): the driver may drop what is queued and
        #: reset the connection instead of sending it.
        self.cut_off = False
        self._refusing = False  # telling the session of a message it could not send
        #: Called (synchronously) when bytes were queued or the connection should close.
        self.on_output: Callable[[], None] = lambda: None
        framer.initiate()

    @property
    def queued(self) -> int:
        """Bytes of messages queued for the client since the driver last took its output."""
        return self._queued

    def data_to_send(self) -> bytes:
        self._queued = 0
        return self.framer.data_to_send()

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client."""
        if type(data) is not bytes:
            check_bytes(data)
        if self.should_close:
            return
        try:
            events = self.framer.receive_data(data)
        except (ProtocolError, HandshakeError) as exc:
            log.debug("closing a connection: %s", exc)
            self._lost()
            return
        for event in events:
            if type(event) is MessageReceived:
                self._message(event.data)
            elif type(event) is Opened:
                self.serializer = _router_serializer(event.serializer)
                framing = "websocket" if isinstance(self.framer, WebSocket) else "rawsocket"
                self.session.transport.update(
                    channel_framing=framing, channel_serializer=event.serializer
                )
            elif type(event) is Closed:
                self._lost()
            if self.should_close:
                break
        self.on_output()

    def receive_eof(self) -> None:
        """The client closed the connection (or it broke), or the driver gave it up: the
        session ends, and what the connection holds is let go at once (a partial message up
        to the size limit, output never to be sent), not when the garbage collector finds the
        connection."""
        self._lost()
        with contextlib.suppress(WampError):  # (a handshake that never completed)
            self.framer.receive_eof()
        self.framer.data_to_send()  # (dropped)
        self._queued = 0

    def _message(self, data: bytes) -> None:
        assert self.serializer is not None
        try:
            messages = self.serializer.decode_all(data)
        except RemoteProtocolError as exc:
            if exc.reason == INVALID_URI and self._refuse(data, str(exc)):
                return  # a request with an invalid URI: ERROR invalid_uri, as the spec says
            self.session.abort(PROTOCOL_VIOLATION, str(exc))
            return
        for message in messages:
            self.session.receive(message)

    def _refuse(self, data: bytes, text: str) -> bool:
        assert self.serializer is not None
        try:
            raw = self.serializer.loads(data)
        except Exception:  # any codec failure (flatbuffers has no plain form): not answerable
            return False
        return self.session.refuse_request(raw, INVALID_URI, text)

    def _send(self, message: m.Message) -> None:
        if self.should_close or self.serializer is None:
            return
        try:
            # A publication's EVENT goes to each subscriber as the same message object: encode
            # it once per serializer (the last message per serializer is remembered).
            name = self.serializer.name
            last = self._encoded.get(name)
            if last is not None and last[0] is message:
                payload = last[1]
            else:
                payload = self.serializer.encode(message)
                self._encoded[name] = (message, payload)
            self.framer.send_message(payload)
        except LocalProtocolError as exc:  # too large for this client, or not encodable
            log.debug("%s not sent to %r: %s", message.NAME, self.session, exc)
            if not self._refusing:  # (a replacement that fails too is only logged)
                self._refusing = True
                try:
                    self.session.undeliverable(message, exc.reason)
                finally:
                    self._refusing = False
            return
        self._queued += len(payload)
        if self._queued > self.max_queued:
            log.warning("%r does not read what it is sent (%d bytes queued): cut off",
                        self.session, self._queued)  # fmt: skip
            self.should_close = self.cut_off = True  # nothing more for it, not even ABORT
            self.session.end()
        self.on_output()

    def _end(self) -> None:
        """The session ended: close the transport once what is queued is sent."""
        if self.should_close:
            return
        self.should_close = True
        if isinstance(self.framer, WebSocket) and self.framer.is_open:
            self.framer.close(1000)
        self.on_output()

    def _lost(self) -> None:
        self.session.end()
        self.should_close = True
