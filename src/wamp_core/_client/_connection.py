"""One WAMP connection: transport framing + serializer + client session, still without I/O.

A driver (or a hand-written loop) does three things::

    conn.initiate()                       # queue the opening handshake
    sock.sendall(conn.data_to_send())
    events = conn.receive_data(sock.recv(65536))   # b"" is not EOF: call receive_eof()
    ... act on events, issue commands (conn.session.call(...)), send conn.data_to_send() ...
    if conn.closed and not pending output: close the socket

Peer errors never raise out of :meth:`Connection.receive_data`: a protocol violation (framing,
decoding or session level) queues ``ABORT wamp.error.protocol_violation``, emits
:class:`Aborted` (``details.local`` True) and closes the connection; :attr:`Connection.error`
keeps the exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .._errors import (
    HandshakeError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    WampError,
)
from .._framing._events import Closed, Framer, FramingEvent, MessageReceived, Opened
from .._messages import Error, Message, Yield
from .._uri import validate_uri
from ..auth import Authenticator
from ..serializers import Serializer, get_serializer
from ._events import Aborted, Left, SessionEvent
from ._session import ClientSession, SessionState

__all__ = ["Connection", "ConnectionEvent"]

log = logging.getLogger(__name__)

ConnectionEvent = SessionEvent | FramingEvent


class Connection:
    """Framing + serializer + :class:`ClientSession` for one transport connection.

    ``realm`` (and ``authenticators``) make the connection join as soon as the transport is open;
    otherwise call :meth:`join`. ``close_on_leave`` closes the transport when the session ends.
    """

    def __init__(
        self,
        framer: Framer,
        *,
        realm: str | None = None,
        authenticators: Sequence[Authenticator] = (),
        session: ClientSession | None = None,
        channel_ids: Mapping[str, bytes] | None = None,
        close_on_leave: bool = True,
    ) -> None:
        self.framer = framer
        self.session = session or ClientSession()
        if channel_ids:
            self.session.channel_ids = channel_ids
        self.serializer: Serializer | None = None
        self.max_send_size = 0
        self.close_on_leave = close_on_leave
        self.error: WampError | None = None
        self._join: tuple[str, Sequence[Authenticator]] | None = (
            (validate_uri(realm, "realm"), authenticators) if realm is not None else None
        )
        self._transport_closed = False
        # Events of a local failure found while sending (see _fail_sending).
        self._deferred: list[ConnectionEvent] = []

    # ----------------------------------------------------------------------------------------
    # State

    @property
    def is_open(self) -> bool:
        """The transport handshake completed and the transport is not closed."""
        return self.serializer is not None and not self.closed

    @property
    def closed(self) -> bool:
        """Nothing more will happen on this connection (after draining data_to_send)."""
        return self._transport_closed or self.framer.closed

    # ----------------------------------------------------------------------------------------
    # I/O

    def initiate(self) -> None:
        """Queue the transport's opening handshake."""
        self.framer.initiate()

    def data_to_send(self) -> bytes:
        """Everything to write to the socket now: queued commands, replies, handshakes.

        With ``close_on_leave``, a session ended by a local command (``abort()``) closes the
        transport here, after its last message.
        """
        self._flush()
        if self.close_on_leave and self.session.has_ended and not self.framer.closed:
            self.close()
        return self.framer.data_to_send()

    def receive_data(self, data: bytes) -> list[ConnectionEvent]:
        """Feed bytes from the network; return what happened.

        Raises :class:`HandshakeError` when the router refuses the transport's opening handshake
        (a failed connection attempt, not a session event); never for anything else the peer does.
        """
        if self.closed:
            return []
        try:
            framing_events = self.framer.receive_data(data)
        except HandshakeError:
            self._transport_closed = True
            raise
        except ProtocolError as exc:
            return self._fail(exc, transport_ok=False)
        events = self._process(framing_events)
        events.extend(self._take_deferred())
        return events

    def receive_eof(self) -> list[ConnectionEvent]:
        """The peer closed the TCP connection."""
        if self._transport_closed:
            return []
        try:
            framing_events = self.framer.receive_eof()
        except HandshakeError:
            self._transport_closed = True
            raise
        except ProtocolError as exc:
            return self._fail(exc, transport_ok=False)
        events = self._process(framing_events)
        events.extend(self._take_deferred())
        if not self._transport_closed:
            events.extend(self._transport_lost(Closed(None, "connection closed", False)))
        return events

    def connection_lost(self, reason: str = "connection lost") -> list[ConnectionEvent]:
        """The socket failed (reset, timeout...): end everything."""
        if self._transport_closed:
            return []
        return self._transport_lost(Closed(None, reason, False))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the transport (WebSocket: start the close handshake)."""
        if not self.framer.closed:
            self.framer.close(code, reason)

    def ping(self, payload: bytes = b"") -> None:
        self.framer.send_ping(payload)

    def _process(self, framing_events: list[FramingEvent]) -> list[ConnectionEvent]:
        events: list[ConnectionEvent] = []
        for fev in framing_events:
            if self._transport_closed:
                break
            if isinstance(fev, MessageReceived):
                if self._left_and_closing():
                    log.debug("dropping a message received after the session ended")
                    continue
                events.extend(self._on_message(fev.data))
                if self.error is not None:
                    break
            elif isinstance(fev, Opened):
                events.append(fev)
                events.extend(self._on_open(fev))
            elif isinstance(fev, Closed):
                events.extend(self._transport_lost(fev))
            else:
                events.append(fev)
        return events

    def _on_open(self, opened: Opened) -> list[ConnectionEvent]:
        self.serializer = get_serializer(opened.serializer)
        self.max_send_size = opened.max_send_size
        self.session.serializer_name = opened.serializer
        if self._join is not None:
            realm, auths = self._join
            self._join = None
            self.session.join(realm, auths)
            self._flush()
        return list(self.session.take_events())

    def _on_message(self, data: bytes) -> list[ConnectionEvent]:
        assert self.serializer is not None
        try:
            messages = self.serializer.decode_all(data)
        except ProtocolError as exc:
            return self._fail(exc, transport_ok=True)
        events: list[ConnectionEvent] = []
        for msg in messages:
            if self._transport_closed or self._left_and_closing():
                log.debug("dropping %s received after the session ended", msg.NAME)
                break
            session_events = self.session.receive_message(msg)
            self._flush()
            session_events.extend(self.session.take_events())  # requests that failed sending
            events.extend(session_events)
            if self.session.state is SessionState.FAILED:
                self.error = RemoteProtocolError(_violation_text(session_events))
                self.close(1002, "protocol violation")
                break
            if self.close_on_leave and any(isinstance(e, Left | Aborted) for e in session_events):
                self.close()
        return events

    def _fail(self, exc: ProtocolError, *, transport_ok: bool) -> list[ConnectionEvent]:
        """A peer error below the session: abort the session and close the transport."""
        self.error = exc
        events: list[ConnectionEvent] = list(self.session.protocol_violation(exc.message))
        if transport_ok and self.framer.is_open:
            self._flush()
            self.close(1002, "protocol violation")
        else:
            self.session.messages_to_send()  # the framer cannot carry them anymore
            events.append(Closed(None, exc.message, False))
            self._transport_closed = True
        return events

    def _left_and_closing(self) -> bool:
        """The session ended and we closed the transport for it: later messages are moot."""
        return (
            self.close_on_leave
            and self.session.state is SessionState.CLOSED
            and self.serializer is not None
            and not self.framer.is_open
        )

    def _take_deferred(self) -> list[ConnectionEvent]:
        events, self._deferred = self._deferred, []
        return events

    def _transport_lost(self, closed: Closed) -> list[ConnectionEvent]:
        self._transport_closed = True
        events: list[ConnectionEvent] = list(self.session.connection_lost())
        events.append(closed)
        return events

    # ----------------------------------------------------------------------------------------
    # Sending

    def _flush(self) -> None:
        """Serialize and frame everything the session queued.

        A message that cannot be sent (too large for the peer, not serializable) is handed back
        to the session: a request then ends with :class:`RequestFailed`, an invocation answer is
        replaced by an ERROR saying why.
        """
        if self.serializer is None or not self.framer.is_open or self._transport_closed:
            return
        replaced: set[int] = set()
        while messages := self.session.messages_to_send():
            failed_answers: set[int] = set()
            for msg in messages:
                if isinstance(msg, Yield | Error) and msg.request_id in failed_answers:
                    # An earlier answer to this invocation in the same batch failed and the
                    # invocation was closed with an ERROR saying why: nothing more may follow.
                    log.debug("dropping %s for invocation %d after a failed answer",
                              msg.NAME, msg.request_id)  # fmt: skip
                    continue
                try:
                    self.framer.send_message(self.serializer.encode(msg))
                except LocalProtocolError as exc:
                    if isinstance(msg, Error) and msg.request_id in replaced:
                        # The replacement ERROR does not fit either (a tiny limit): give up on
                        # this answer rather than replace it forever.
                        log.warning("cannot send ERROR for invocation %d: %s", msg.request_id, exc)
                        continue
                    if isinstance(msg, Yield | Error):
                        replaced.add(msg.request_id)
                        failed_answers.add(msg.request_id)
                    if not self.session.send_failed(msg, exc):
                        self._fail_sending(msg, exc)
                        return

    def _fail_sending(self, msg: Message, exc: ProtocolError) -> None:
        """A session message (HELLO, AUTHENTICATE, GOODBYE...) cannot be sent: the session
        cannot go on over this transport, so end it and drop the transport.

        The events come out of the current :meth:`receive_data` or :meth:`take_events`.
        """
        self.error = LocalProtocolError(f"cannot send {msg.NAME}: {exc}", reason=exc.reason)
        log.warning("%s", self.error.message)
        self._transport_closed = True
        events: list[ConnectionEvent] = list(self.session.connection_lost())
        events.append(Closed(None, self.error.message, False))
        self._deferred.extend(events)
        if not self.framer.closed:
            self.framer.close(1011, "")

    # ----------------------------------------------------------------------------------------
    # Commands: issue them on :attr:`session` (``conn.session.call(...)``); they go out with
    # the next :meth:`data_to_send`.

    def join(self, realm: str, authenticators: Sequence[Authenticator] = ()) -> None:
        """Join ``realm`` now, or as soon as the transport is open."""
        if self.serializer is None:
            self._join = (validate_uri(realm, "realm"), authenticators)
            return
        self.session.join(realm, authenticators)

    def take_events(self) -> list[ConnectionEvent]:
        """Events produced by commands or by sending, rather than by received data.

        Call it after :meth:`data_to_send` (a request that could not be sent ends there; a
        session message that cannot be sent ends the connection: ``Aborted``/``Left``, then
        ``Closed``).
        """
        events = self._take_deferred()
        events.extend(self.session.take_events())
        return events


def _violation_text(events: list[SessionEvent]) -> str:
    for event in events:
        if isinstance(event, Aborted) and event.details.message:
            return event.details.message
    return "protocol violation"
