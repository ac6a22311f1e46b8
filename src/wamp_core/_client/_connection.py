"""One WAMP connection: transport framing + serializer + client session, still without I/O.

A driver (or a hand-written loop) does three things::

    conn.initiate()                         # queue the opening handshake
    conn.join("realm1")                     # HELLO goes out once the transport is open
    sock.sendall(conn.data_to_send())
    for event in conn.receive_data(sock.recv(65536)):   # end of file: conn.receive_eof()
        ... act on events, issue commands (conn.session.call(...)) ...
    sock.sendall(conn.data_to_send())       # whatever the events and commands produced
    if conn.closed: close the socket (after the last data_to_send())

Where things come out:

* bytes: only :meth:`Connection.data_to_send` (a pure drain);
* events: what received data caused comes back from :meth:`receive_data`,
  :meth:`receive_eof` and :meth:`connection_lost`; what a command caused (``abort()``'s
  ``Aborted``, a ``cancel()`` that ends a call at once) from :meth:`take_events`, the one other
  place;
* a command the transport cannot carry (too large, unencodable) raises
  :class:`~wamp_core.LocalProtocolError` at the call, and nothing was sent or used up.

Peer errors never raise out of :meth:`receive_data`: a protocol violation (framing, decoding or
session level) sends ``ABORT wamp.error.protocol_violation`` if it can, emits :class:`Aborted`
(``details.local`` True) and closes the connection; :attr:`Connection.error` keeps the exception.
Only a refused transport handshake raises (:class:`~wamp_core.HandshakeError`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .. import _messages as m
from .._errors import (
    PROTOCOL_VIOLATION,
    HandshakeError,
    LocalProtocolError,
    PayloadTooLarge,
    RemoteProtocolError,
    WampError,
)
from .._framing._events import (
    Closed,
    Framer,
    FramingEvent,
    MessageReceived,
    Opened,
    check_bytes,
)
from .._uri import validate_uri
from ..auth import Authenticator, check_authenticators
from ..serializers import Serializer, get_serializer
from ._events import Aborted, SessionEvent
from ._session import ClientSession
from ._tables import States
from ._types import CloseDetails, quote

__all__ = ["Connection", "ConnectionEvent"]

log = logging.getLogger(__name__)

ConnectionEvent = SessionEvent | FramingEvent

# WebSocket close codes the connection uses when it closes the transport itself.
_CLOSE_PROTOCOL_ERROR = 1002
_CLOSE_INTERNAL_ERROR = 1011
_CLOSE_ABNORMAL = 1006


class Connection:
    """Framing + serializer + :class:`ClientSession` for one transport connection.

    ``close_on_leave`` closes the transport when the session ends (after its last message).
    ``channel_ids`` feeds TLS channel binding to the authenticators.
    """

    def __init__(
        self,
        framer: Framer,
        *,
        channel_ids: Mapping[str, bytes] | None = None,
        close_on_leave: bool = True,
        strict_uris: bool = False,
    ) -> None:
        self.framer = framer
        self.session = ClientSession(
            strict_uris=strict_uris, sender=self._send, on_end=self._session_ended
        )
        if channel_ids:
            self.session.channel_ids = channel_ids
        self.serializer: Serializer | None = None
        self.max_send_size = 0
        self.close_on_leave = close_on_leave
        self.error: WampError | None = None
        self._join: tuple[str, Sequence[Authenticator]] | None = None
        self._transport_closed = False
        #: The framing events being processed (a reply to one of them is moot when a later
        #: one is the transport's end: see _send).
        self._batch: Sequence[FramingEvent] = ()
        # What close() ended (a RawSocket transport's session), for take_events().
        self._ended: list[ConnectionEvent] = []
        # The session ended and close_on_leave closed the transport: later messages are moot.
        self._over = False
        # The close code reported when the transport ends without a close handshake: 1006 on
        # WebSocket, None on RawSocket (it has no codes); known once open.
        self._lost_code: int | None = None

    def __repr__(self) -> str:
        return (
            f"<Connection serializer={self.serializer.name if self.serializer else None!r} "
            f"session={self.session.state.value} closed={self.closed}>"
        )

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
    # Commands of the connection (the session's are on :attr:`session`)

    def initiate(self) -> None:
        """Queue the transport's opening handshake."""
        self.framer.initiate()

    def join(self, realm: str, authenticators: Sequence[Authenticator] = ()) -> None:
        """Join ``realm``: HELLO goes out now if the transport is open, else as soon as it opens.

        The one way to join on a connection. A HELLO the transport cannot carry raises
        :class:`~wamp_core.LocalProtocolError` here when the transport is open, and ends the
        connection (``Aborted``, ``Closed`` from :meth:`receive_data`) when it opens later.
        A join queued that way is no session yet (``session.abort()`` refuses it): to give it
        up, :meth:`close` the connection.
        """
        realm = validate_uri(realm, "realm")
        if self.serializer is None:
            if self._join is not None or self.session.state is not States.CLOSED:
                raise LocalProtocolError("join() was already called on this connection")
            check_authenticators(authenticators)  # here, not out of receive_data later
            self._join = (realm, tuple(authenticators))
            return
        self.session.join(realm, authenticators)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the transport. A session still on ends there and then (its ``Left`` or
        ``Aborted`` and the requests it failed come from :meth:`take_events`; its commands
        raise :class:`~wamp_core.SessionClosed` from now on), unless it is leaving: on
        WebSocket the router's GOODBYE may still end it. WebSocket: the close handshake starts
        (``Closed`` comes from :meth:`receive_data` when it is over; messages arriving
        meanwhile are dropped). RawSocket has none: :attr:`closed` is true at once and no
        ``Closed`` event follows; close the socket once :meth:`data_to_send` is drained."""
        self._close(code, reason)
        if self._transport_closed:
            return
        if self.framer.closed:  # RawSocket: gone at once
            self._transport_closed = True
        elif self.session.has_ended or self._over or self.session.state is States.SHUTTING_DOWN:
            return  # (a leave in progress ends with the router's GOODBYE, if it comes)
        else:  # WebSocket: the session ends now, not when the close handshake is over
            self._over = True
        self._ended.extend(self.session.connection_lost("the connection was closed", local=True))

    def _close(self, code: int = 1000, reason: str = "") -> None:
        if not self.framer.closed:
            self.framer.close(code, reason)

    def ping(self, payload: bytes = b"") -> None:
        self.framer.send_ping(payload)

    # ----------------------------------------------------------------------------------------
    # I/O

    def data_to_send(self) -> bytes:
        """Drain the bytes to write to the socket now (``b""`` if none). Changes nothing else."""
        return self.framer.data_to_send()

    def receive_data(self, data: bytes) -> list[ConnectionEvent]:
        """Feed bytes from the network; return what happened.

        ``data`` must not be empty: end of file is :meth:`receive_eof`. Raises
        :class:`HandshakeError` when the router refuses the transport's opening handshake (a
        failed connection attempt, not a session event); never for anything else the peer does.
        """
        if type(data) is not bytes:
            check_bytes(data)
        if not data:
            raise LocalProtocolError("receive_data(b'') is not end of file: call receive_eof()")
        if self.closed:
            return []
        try:
            framing_events = self.framer.receive_data(data)
        except HandshakeError:
            self._transport_closed = True
            raise
        except RemoteProtocolError as exc:
            return self._fail(exc, transport_ok=False)
        return self._process(framing_events)

    def receive_eof(self) -> list[ConnectionEvent]:
        """The peer closed the TCP connection."""
        if self.closed:  # (also a RawSocket closed by the session's end: nothing follows)
            return []
        try:
            framing_events = self.framer.receive_eof()
        except HandshakeError:
            self._transport_closed = True
            raise
        except RemoteProtocolError as exc:
            return self._fail(exc, transport_ok=False)
        events = self._process(framing_events)
        if not self._transport_closed:
            events.extend(self._transport_lost(Closed(self._lost_code, "connection closed", False)))
        return events

    def connection_lost(
        self, reason: str = "connection lost", *, local: bool = False
    ) -> list[ConnectionEvent]:
        """The socket failed (reset, timeout...): end everything. ``local``: the application
        dropped it on purpose (``CloseDetails.local`` of the session's end)."""
        if self._transport_closed:
            return []
        return self._transport_lost(Closed(self._lost_code, reason, False), local=local)

    def answer_challenge(self, failure: Exception | None = None) -> list[ConnectionEvent]:
        """Answer the CHALLENGE a ``ChallengeWork`` event announced, once its work has run
        (see :attr:`ClientSession.defer_auth_work <wamp_core.ClientSession.defer_auth_work>`);
        return what happened: ``ChallengeAnswered``, or the join's end when the authenticator
        refuses the challenge or AUTHENTICATE cannot be sent; with ``failure`` (what the work
        raised) the join's end. Nothing once the session has ended meanwhile;
        :class:`~wamp_core.LocalProtocolError` when no CHALLENGE waits."""
        session = self.session
        if not session.challenge_waiting:
            session.answer_challenge()  # nothing, or the misuse error
            return []
        try:
            session.answer_challenge(failure)
        except LocalProtocolError as exc:  # AUTHENTICATE cannot go
            return self._cannot_send(exc)  # (with the session's events)
        return list(session.take_events())

    def take_events(self) -> list[ConnectionEvent]:
        """Events caused by commands rather than by received data: ``abort()``'s ``Aborted``
        (and the requests it failed), a ``cancel()`` that ended a call at once, the session's
        end when :meth:`close` ended a RawSocket transport."""
        if self._ended:
            events, self._ended = self._ended, []
            return events + self.session.take_events()
        return list(self.session.take_events())

    # ----------------------------------------------------------------------------------------
    # Input processing

    def _process(self, framing_events: list[FramingEvent]) -> list[ConnectionEvent]:
        events: list[ConnectionEvent] = []
        self._batch = framing_events
        try:
            for fev in framing_events:
                if self._transport_closed:
                    break
                if type(fev) is MessageReceived:
                    if self._over:
                        log.debug("dropping a message received after the session ended")
                        continue
                    self._on_message(fev.data, events)
                    if self.error is not None:
                        break
                elif isinstance(fev, Opened):
                    events.append(fev)
                    self._on_open(fev, events)
                elif isinstance(fev, Closed):
                    events.extend(self._transport_lost(fev))
                else:
                    events.append(fev)
        finally:
            self._batch = ()  # (not held while idle: it may hold a large message)
        return events

    def _on_open(self, opened: Opened, events: list[ConnectionEvent]) -> None:
        self.serializer = get_serializer(opened.serializer)
        self.max_send_size = opened.max_send_size
        self._lost_code = None if opened.subprotocol is None else _CLOSE_ABNORMAL
        self.session.serializer_name = opened.serializer
        if self._join is not None:
            realm, auths = self._join
            self._join = None
            try:
                self.session.join(realm, auths)
            except LocalProtocolError as exc:
                # The join the application asked for fails: report it like a refused join.
                events.append(Aborted(CloseDetails(exc.reason, exc.message, local=True)))
                events.extend(self._cannot_send(exc))
                return
        events.extend(self.session.take_events())

    def _on_message(self, data: bytes, events: list[ConnectionEvent]) -> None:
        serializer = self.serializer
        assert serializer is not None
        if not serializer.batched:  # the common case: one message, no loop
            try:
                msg = serializer.decode(data)
            except RemoteProtocolError as exc:
                events.extend(self._fail(exc, transport_ok=True))
                return
            self._on_decoded(msg, events)
            return
        try:
            messages = serializer.decode_all(data)
        except RemoteProtocolError as exc:
            events.extend(self._fail(exc, transport_ok=True))
            return
        for msg in messages:
            if self._transport_closed or self._over:
                log.debug("dropping %s received after the session ended", msg.NAME)
                return
            if not self._on_decoded(msg, events):
                return

    def _on_decoded(self, msg: m.Message, events: list[ConnectionEvent]) -> bool:
        """Hand one message to the session; False when nothing more may follow."""
        session = self.session
        try:
            session_events = session.receive_message(msg)
        except LocalProtocolError as exc:  # a reply it needs cannot be sent
            events.extend(self._cannot_send(exc))
            return False
        events += session_events
        if session.state is States.FAILED:
            self.error = RemoteProtocolError(_violation_text(session_events))
            return False
        return True

    def _fail(self, exc: RemoteProtocolError, *, transport_ok: bool) -> list[ConnectionEvent]:
        """A peer error below the session: abort the session and close the transport.

        A session that already ended (``Left``, ``Aborted``) does not end again: the transport
        just closes.
        """
        log.debug("peer error: %s", exc.message)
        self.error = exc
        events: list[ConnectionEvent] = []
        if not self.session.has_ended:
            # A message above the limit says so (the application may raise the limit); any
            # other peer error is a protocol violation.
            reason = exc.reason if isinstance(exc, PayloadTooLarge) else PROTOCOL_VIOLATION
            events.extend(self.session.protocol_violation(exc.message, reason))
        if transport_ok:
            # The transport still works: ABORT went out, the close handshake follows.
            self._close(_CLOSE_PROTOCOL_ERROR, "protocol violation")
        elif not self._transport_closed:
            self._transport_closed = True
            events.append(Closed(self._lost_code, exc.message, False))
        return events

    def _cannot_send(self, exc: LocalProtocolError) -> list[ConnectionEvent]:
        """A session message the protocol requires (HELLO, AUTHENTICATE, GOODBYE, an automatic
        ERROR) cannot be sent: the session cannot go on over this transport."""
        self.error = exc
        log.debug("cannot send a required session message: %s", exc.message)
        self._close(_CLOSE_INTERNAL_ERROR, "")
        return self._transport_lost(Closed(self._lost_code, exc.message, False))

    def _transport_lost(self, closed: Closed, *, local: bool = False) -> list[ConnectionEvent]:
        self._transport_closed = True
        events: list[ConnectionEvent] = list(
            self.session.connection_lost(closed.reason, local=local)
        )
        events.append(closed)
        return events

    # ----------------------------------------------------------------------------------------
    # Output: the session's sender and end hook

    def _send(self, msg: m.Message) -> None:
        """Serialize and frame one message now; raise LocalProtocolError if it cannot go."""
        serializer = self.serializer
        if serializer is None or self._transport_closed or not self.framer.is_open:
            if serializer is not None and not self._transport_closed and self._closing_next():
                # The peer closed in the same read (a router's GOODBYE and its close frame,
                # or a close right after the upgrade): the reply (GOODBYE, HELLO) is moot,
                # and the session ends with the peer's reason, then the close's.
                log.debug("not sending %s: the peer closed the transport", msg.NAME)
                return
            raise LocalProtocolError(f"cannot send {msg.NAME}: the transport is not open")
        try:
            self.framer.send_message(serializer.encode(msg))
        except LocalProtocolError as exc:  # EncodingError, MessageTooLarge: say which message
            raise type(exc)(f"cannot send {msg.NAME}: {exc.message}", reason=exc.reason) from exc

    def _closing_next(self) -> bool:
        """Whether the framing events being processed end with the transport's end."""
        return any(type(fev) is Closed for fev in self._batch)

    def _session_ended(self) -> None:
        if self._transport_closed:
            return
        if self.session.state is States.FAILED:
            self._close(_CLOSE_PROTOCOL_ERROR, "protocol violation")
            self._over = True
        elif self.close_on_leave:
            self._close()
            self._over = True


def _violation_text(events: list[SessionEvent]) -> str:
    for event in events:
        if isinstance(event, Aborted) and event.details.message:
            return quote(event.details.message, CloseDetails.QUOTE_LIMIT)
    return "protocol violation"
