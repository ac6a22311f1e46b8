"""The client session engine: the whole client side of WAMP, without I/O.

Commands (``join``, ``call``, ``publish``...) queue messages in an outbox (:meth:`ClientSession.
messages_to_send`) and return the request ID; received messages go in through
:meth:`ClientSession.receive_message` and come out as :mod:`session events <._session_events>`.
The engine owns all request bookkeeping: every request ends in exactly one of a success event,
a :class:`RequestFailed` with the router's error, or a :class:`RequestFailed` with
:class:`SessionClosed` when the session ends.

State rules are plain data (:data:`TRANSITIONS`): a message not listed for the current state is a
protocol violation. On a violation the engine queues ``ABORT wamp.error.protocol_violation``,
enters the terminal ``FAILED`` state, and every later command raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from .. import _messages as m
from .._errors import (
    PROTOCOL_VIOLATION,
    ApplicationError,
    AuthenticationError,
    LocalProtocolError,
    RemoteProtocolError,
    SessionClosed,
)
from .._messages._base import local_payload, new
from .._uri import validate_pattern, validate_uri
from ..auth import Authenticator, combine_authenticators
from . import _events as ev
from ._tables import (
    AGENT,
    CANCELED,
    CLIENT_ROLES,
    REQUEST_TYPE_KIND,
    TRANSITIONS,
    InvocationRecord,
    Pending,
    SessionCommand,
    SessionRecord,
    SessionState,
    States,
    SubscriptionRecord,
    call_details,
    event_details,
)
from ._types import (
    CallOptions,
    CallResult,
    CloseDetails,
    PublishOptions,
    RegisterOptions,
    RouterFeatures,
    SessionDetails,
    SubscribeOptions,
    check_options,
)

__all__ = ["ClientSession", "SessionState", "TRANSITIONS", "CLIENT_ROLES"]

S = States

log = logging.getLogger(__name__)

_URI_CACHE_SIZE = 512
_URI_CACHE_LEN = 256


class ClientSession:
    """The WAMP client session state machine (sans-IO).

    ``strict_uris`` validates outgoing URIs with the spec's strict rule instead of the loose one.
    ``channel_ids`` (set by the driver on TLS) feeds channel binding to authenticators.

    Where messages go: with ``sender`` (what :class:`~wamp_core.Connection` passes) each message
    is handed over the moment a command creates it; a sender that cannot carry it raises
    :class:`~wamp_core.LocalProtocolError`, the command raises that error and nothing changed (no
    request ID used). Without a sender the session is the lower layer used alone: messages
    collect in an outbox that :meth:`messages_to_send` drains. ``on_end`` is called once each
    time a session ends (after its last message was handed over).
    """

    def __init__(
        self,
        *,
        strict_uris: bool = False,
        agent: str = AGENT,
        sender: Callable[[m.Message], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.state = S.CLOSED
        self.strict_uris = strict_uris
        self.agent = agent
        self.channel_ids: Mapping[str, bytes] = {}
        #: Set by a driver with an event loop: a CHALLENGE whose answer needs expensive work
        #: (:meth:`Authenticator.prepare <wamp_core.auth.Authenticator.prepare>`) emits
        #: ``ChallengeWork`` instead of doing it here; :meth:`answer_challenge` answers later.
        self.defer_auth_work = False
        self.details: SessionDetails | None = None
        self.features = RouterFeatures()
        self.serializer_name: str | None = None
        self._s = SessionRecord()
        self._outbox: list[m.Message] = []
        self._events: list[ev.SessionEvent] = []
        self._send: Callable[[m.Message], None] = sender or self._outbox.append
        self._on_end = on_end
        self._transport_gone = False
        #: How the last session ended (its reason goes to requests refused after it).
        self._ended: CloseDetails | None = None
        #: Why we gave the last join up ourselves: a challenge we could not answer, or a
        #: router that failed to prove itself (what a driver raises for that join).
        self.auth_error: AuthenticationError | None = None
        # URIs this session already validated for sending (bounded: count x length).
        self._uris_ok: set[str] = set()
        handlers: dict[type[m.Message], Callable[[Any], None]] = {
            m.Welcome: self._on_welcome,
            m.Challenge: self._on_challenge,
            m.Abort: self._on_abort,
            m.Goodbye: self._on_goodbye,
            m.Published: self._on_published,
            m.Subscribed: self._on_subscribed,
            m.Unsubscribed: self._on_unsubscribed,
            m.Event: self._on_event,
            m.Result: self._on_result,
            m.Registered: self._on_registered,
            m.Unregistered: self._on_unregistered,
            m.Invocation: self._on_invocation,
            m.Interrupt: self._on_interrupt,
            m.Error: self._on_error,
        }
        # TRANSITIONS joined with the handlers, h2's (handler, next state): one lookup per message.
        self._dispatch: dict[
            tuple[SessionState, type[m.Message]], tuple[Callable[[Any], None], SessionState]
        ] = {
            (state, key): (handlers[key], nxt)
            for (state, key), nxt in TRANSITIONS.items()
            if isinstance(key, type)
        }

    # ----------------------------------------------------------------------------------------
    # Introspection

    @property
    def is_joined(self) -> bool:
        return self.state is S.ESTABLISHED

    @property
    def has_ended(self) -> bool:
        """A session was started on this engine (``join``) and is over now."""
        return bool(self._s.realm) and self.state in (S.CLOSED, S.FAILED)

    @property
    def session_id(self) -> int | None:
        """The router-assigned session ID while joined (or leaving), else None."""
        if self.details is None or self.state not in (S.ESTABLISHED, S.SHUTTING_DOWN):
            return None
        return self.details.session

    @property
    def pending_requests(self) -> dict[int, ev.RequestKind]:
        """Request ID -> kind of every request still waiting for the router."""
        return {rid: p.kind for rid, p in self._s.pending.items()}

    @property
    def subscriptions(self) -> dict[int, str]:
        return {sid: s.topic for sid, s in self._s.subscriptions.items()}

    @property
    def registrations(self) -> dict[int, str]:
        return dict(self._s.registrations)

    @property
    def open_invocations(self) -> frozenset[int]:
        return frozenset(self._s.invocations)

    def is_open_invocation(self, request_id: int) -> bool:
        """Whether invocation ``request_id`` still waits for its answer."""
        return request_id in self._s.invocations

    def messages_to_send(self) -> list[m.Message]:
        """Drain the outbox: the messages to serialize and send, in order (always empty for a
        session created with a ``sender``)."""
        out = self._outbox[:]  # drained in place: the default sender appends to this list
        self._outbox.clear()
        return out

    # ----------------------------------------------------------------------------------------
    # Commands

    def join(self, realm: str, authenticators: Sequence[Authenticator] = ()) -> None:
        """Send HELLO for ``realm``, offering ``authenticators`` (anonymous when empty).

        On a :class:`~wamp_core.Connection` use :meth:`Connection.join
        <wamp_core.Connection.join>`, which also waits for the transport to open.
        """
        nxt = TRANSITIONS.get((self.state, SessionCommand.JOIN))
        if nxt is None or self._transport_gone:
            if self.state in (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN):
                raise LocalProtocolError(f"cannot join: a session is {self.state.value}")
            self._refuse("join")
        if self._s.hello_given_up:
            raise LocalProtocolError(
                "cannot join on this transport: the router may still answer the join that was "
                "aborted, and its answer would be taken for this one (open a new transport)"
            )
        realm = validate_uri(realm, "realm")
        hello_auth = combine_authenticators(authenticators)
        details: dict[str, Any] = {"roles": CLIENT_ROLES, "agent": self.agent}
        details.update(hello_auth.details())
        self._send(m.Hello(realm=realm, details=details))
        # Everything of the previous session goes at once; request IDs are session-scoped, so
        # the new record starts again at 1 (spec, IDs).
        self._s = SessionRecord(
            realm=realm,
            authenticators={a.method: a for a in authenticators},
            draining=self._s.draining,
        )
        self.details = None
        self.features = RouterFeatures()
        self.auth_error = None  # (the last join's: a later join's failure is its own)
        self.state = nxt

    def leave(self, reason: str = CloseDetails.REASON_DEFAULT, message: str | None = None) -> None:
        """Send GOODBYE; the session ends (``Left``) when the router answers."""
        nxt = self._command(SessionCommand.LEAVE, "leave")
        reason = validate_uri(reason, "close reason")
        self._send(m.Goodbye(reason=reason, details={"message": message} if message else None))
        self._s.leave_reason = reason
        self.state = nxt

    def abort(self, reason: str = "wamp.close.normal", message: str | None = None) -> None:
        """Give up the session (or a join in progress) at once: send ABORT, emit ``Aborted``.

        Unlike :meth:`leave` nothing is awaited: ABORT is never answered. Pending requests fail.
        The session ends even if ABORT cannot be sent. The router's messages for it that are
        still on their way are dropped, also once a new :meth:`join` on the same transport has
        begun (until the router answers that HELLO). A join in progress given up this way
        leaves the transport unusable for another session: the router may still answer its
        HELLO, and that answer would pass for the next one's, so :meth:`join` refuses.
        """
        self._command(SessionCommand.ABORT, "abort")
        reason = validate_uri(reason, "abort reason")
        joining = self.state in (S.ESTABLISHING, S.CHALLENGING)
        try:
            self._send(m.Abort(reason=reason, details={"message": message} if message else None))
        except LocalProtocolError as exc:
            log.debug("ABORT not sent: %s", exc)
        self._end(CloseDetails(reason, message, local=True), abort=True)
        self._s.hello_given_up = joining

    def call(
        self,
        procedure: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        options: CallOptions | None = None,
        *,
        progress: bool = False,
        payload: bytes | None = None,
    ) -> int:
        """Queue CALL and return its request ID.

        ``progress=True`` opens a progressive call invocation: send further chunks with
        :meth:`call_progress` (needs the dealer feature ``progressive_call_invocations``).
        """
        if self.state is not S.ESTABLISHED:
            self._refuse("call")
        features = self.features
        if not features.has_dealer:
            self._require_role("dealer")
        if procedure not in self._uris_ok:
            self._check_uri(procedure, "procedure")
        if options is None:
            wire = {}
        else:
            check_options(CallOptions, options, "call")
            wire = options.to_options(features.dealer)
        if progress:
            self._require_feature("dealer", "progressive_call_invocations")
            wire["progress"] = True
        record = self._s
        rid = record.next_id
        if payload is None:
            a, k = local_payload("CALL", args, kwargs, copy=False)
            self._send(new(m.Call, (rid, wire, procedure, a, k, None)))
        else:
            self._send(
                m.Call(
                    request_id=rid, procedure=procedure, options=wire, args=args, kwargs=kwargs,
                    payload=payload,
                )
            )  # fmt: skip
        record.next_id = rid + 1 if rid < record.fresh_below else record.after(rid)
        # Positional (kind, uri, target, progress, canceled, streaming): keywords cost a
        # dataclass __init__ twice as much, on every call.
        record.pending[rid] = Pending(
            "call", procedure, None, wire.get("receive_progress") is True, None, progress
        )
        return rid

    def call_progress(
        self,
        request_id: int,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        final: bool = False,
    ) -> None:
        """Send a further chunk of a progressive call invocation (``final=True`` for the last)."""
        self._require_joined("call_progress")
        pending = self._s.pending.get(request_id)
        if pending is None or pending.kind != "call" or not pending.streaming:
            raise LocalProtocolError(f"request {request_id} is not an open progressive call")
        assert pending.uri is not None
        options = {} if final else {"progress": True}
        self._send(
            m.Call(
                request_id=request_id,
                procedure=pending.uri,
                options=options,
                args=args,
                kwargs=kwargs,
            )
        )
        pending.continued = True
        pending.streaming = not final

    def cancel(self, request_id: int, mode: str = "kill") -> bool:
        """Cancel a pending call (mode ``skip``, ``kill`` or ``killnowait``).

        Returns True when CANCEL was queued. Without the dealer feature ``call_canceling`` nothing
        goes on the wire: the call is abandoned locally and its late result will be dropped
        (returns False). With ``skip`` the caller stops waiting at once (the spec's semantics;
        Crossbar never answers a skip CANCEL): the call ends here with a :class:`RequestFailed`
        (``canceled``) event and the router's ERROR is dropped as late. Otherwise the call ends
        with the router's answer (ERROR ``canceled``, or a RESULT for ``kill``).
        """
        if mode not in ("skip", "kill", "killnowait"):
            raise LocalProtocolError(f"invalid cancel mode {mode!r}")
        pending = self._s.pending.get(request_id)
        if pending is None or pending.kind != "call" or self.state is not S.ESTABLISHED:
            return False
        if pending.canceled is not None:
            return True  # CANCEL already sent (a local-only cancel is no longer pending)
        sent = "call_canceling" in self.features.dealer
        if sent:
            self._send(m.Cancel(request_id=request_id, options={"mode": mode}))
        if sent and mode != "skip":
            pending.canceled = mode
            return True
        pending.canceled = mode if sent else "local"
        del self._s.pending[request_id]
        self._s.abandoned_calls.add(request_id)
        self._events.append(
            ev.RequestFailed(request_id, "call", ApplicationError(ApplicationError.CANCELED))
        )
        return sent

    def publish(
        self,
        topic: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        options: PublishOptions | None = None,
        *,
        payload: bytes | None = None,
    ) -> int:
        """Queue PUBLISH; with ``acknowledge`` the request ends in ``Published`` or an error."""
        if self.state is not S.ESTABLISHED:
            self._refuse("publish")
        features = self.features
        if not features.has_broker:
            self._require_role("broker")
        if topic not in self._uris_ok:
            self._check_uri(topic, "topic")
        if options is None:
            wire = {}
        else:
            check_options(PublishOptions, options, "publish")
            wire = options.to_options(features.broker)
        record = self._s
        rid = record.next_id
        if payload is None:
            a, k = local_payload("PUBLISH", args, kwargs, copy=False)
            self._send(new(m.Publish, (rid, wire, topic, a, k, None)))
        else:
            self._send(
                m.Publish(
                    request_id=rid, topic=topic, options=wire, args=args, kwargs=kwargs,
                    payload=payload,
                )
            )  # fmt: skip
        record.next_id = rid + 1 if rid < record.fresh_below else record.after(rid)
        if options is not None and options.acknowledge:
            record.pending[rid] = Pending("publish", topic)
        return rid

    def subscribe(self, topic: str, options: SubscribeOptions | None = None) -> int:
        self._require_joined("subscribe")
        self._require_role("broker")
        check_options(SubscribeOptions, options, "subscribe")
        opts = options or SubscribeOptions()
        topic = validate_pattern(topic, "topic", opts.match, strict=self.strict_uris)
        wire = opts.to_options(self.features.broker)
        rid = self._s.next_id
        self._send(m.Subscribe(request_id=rid, topic=topic, options=wire))
        self._advance_id()
        self._s.pending[rid] = Pending("subscribe", topic)
        return rid

    def unsubscribe(self, subscription_id: int) -> int | None:
        """Drop one local use of a subscription; UNSUBSCRIBE goes out when the last one goes.

        Returns the request ID, or None when nothing was sent now: other local users remain,
        or a SUBSCRIBE to the same topic is still unanswered. The router may answer that one
        with this very subscription, which an UNSUBSCRIBE sent now would remove under the new
        user; so the UNSUBSCRIBE waits for those answers and is sent only if none of them
        took the subscription up again (its ``Unsubscribed`` then ends a request no command
        returned, as after :meth:`abandon`).
        """
        self._require_joined("unsubscribe")
        sub = self._s.subscriptions.get(subscription_id)
        if sub is None:
            raise LocalProtocolError(f"no active subscription {subscription_id}")
        if sub.count <= 0:
            raise LocalProtocolError(f"subscription {subscription_id} is already being removed")
        if sub.count > 1:
            sub.count -= 1
            return None
        sub.count = 0
        if self._subscribing(sub.topic):
            self._s.lingering.add(subscription_id)
            return None
        return self._send_unsubscribe(subscription_id)

    def _send_unsubscribe(self, subscription_id: int) -> int:
        rid = self._s.next_id
        self._send(m.Unsubscribe(request_id=rid, subscription_id=subscription_id))
        self._advance_id()
        self._s.pending[rid] = Pending("unsubscribe", target=subscription_id)
        return rid

    def _subscribing(self, topic: str) -> bool:
        """Whether a SUBSCRIBE to ``topic`` is unanswered."""
        return any(p.kind == "subscribe" and p.uri == topic for p in self._s.pending.values())

    def _settle(self, topic: str) -> None:
        """The SUBSCRIBEs to ``topic`` are answered: send the UNSUBSCRIBEs that waited for
        them (:meth:`unsubscribe`) where no answer took the subscription up again."""
        lingering = self._s.lingering
        if not lingering or self._subscribing(topic):
            return
        for sid in sorted(lingering):
            sub = self._s.subscriptions.get(sid)
            if sub is None or sub.topic != topic:
                continue
            lingering.discard(sid)
            if sub.count <= 0:
                self._send_unsubscribe(sid)

    def abandon(self, request_id: int) -> None:
        """Nobody waits for pending subscribe or register ``request_id`` any more (the task
        that made it was cancelled): should it succeed after all, it is undone at once
        (UNSUBSCRIBE or UNREGISTER, as :meth:`unsubscribe` / :meth:`unregister` send; their
        answers end requests nobody made) and no ``Subscribed`` / ``Registered`` event is
        emitted, so no subscription or registration is left at the router without a handler.
        Other requests: nothing to do (give a call up with :meth:`cancel`)."""
        pending = self._s.pending.get(request_id)
        if pending is not None and pending.kind in ("subscribe", "register"):
            pending.abandoned = True

    def register(self, procedure: str, options: RegisterOptions | None = None) -> int:
        """Queue REGISTER and return its request ID (``Registered`` or ``RequestFailed``
        ends it). A REGISTER of the same procedure and options that was abandoned and is
        still unanswered is taken over instead: its request ID is returned, nothing is sent."""
        self._require_joined("register")
        self._require_role("dealer")
        check_options(RegisterOptions, options, "register")
        opts = options or RegisterOptions()
        procedure = validate_pattern(procedure, "procedure", opts.match, strict=self.strict_uris)
        wire = opts.to_options(self.features.dealer)
        for rid, pending in self._s.pending.items():
            if (pending.abandoned and pending.kind == "register" and pending.uri == procedure
                    and pending.options == wire):  # fmt: skip
                # The same REGISTER, still unanswered, whose caller gave up (abandon()): this
                # one takes its answer over. A second REGISTER would be refused (or, shared on
                # Crossbar, answered with the first's registration), and undoing the first
                # would then leave nothing registered.
                pending.abandoned = False
                return rid
        rid = self._s.next_id
        self._send(m.Register(request_id=rid, procedure=procedure, options=wire))
        self._advance_id()
        self._s.pending[rid] = Pending("register", procedure, options=wire)
        return rid

    def unregister(self, registration_id: int) -> int:
        self._require_joined("unregister")
        if registration_id not in self._s.registrations:
            raise LocalProtocolError(f"no active registration {registration_id}")
        rid = self._s.next_id
        self._send(m.Unregister(request_id=rid, registration_id=registration_id))
        self._advance_id()
        self._s.pending[rid] = Pending("unregister", target=registration_id)
        return rid

    def yield_result(
        self,
        request_id: int,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        payload: bytes | None = None,
    ) -> bool:
        """Answer an invocation (``progress=True`` for a progressive result).

        Returns False (nothing sent) when the invocation is already closed, e.g. interrupted with
        ``killnowait`` or the session ended. An answer the transport cannot carry raises
        :class:`~wamp_core.LocalProtocolError` (``MessageTooLarge``, ``EncodingError``) and the
        invocation stays open: answer it again, e.g. with :meth:`yield_error`.
        """
        inv = self._open_invocation(request_id, "yield_result")
        if inv is None:
            return False
        if progress and not inv.receive_progress:
            raise LocalProtocolError(
                "the caller did not ask for progressive results (details.receive_progress)"
            )
        options = {"progress": True} if progress else {}
        if payload is None:
            a, k = local_payload("YIELD", args, kwargs, copy=False)
            self._send(new(m.Yield, (request_id, options, a, k, None)))
        else:
            self._send(
                m.Yield(
                    request_id=request_id, options=options, args=args, kwargs=kwargs,
                    payload=payload,
                )
            )  # fmt: skip
        if not progress:
            self._finish_invocation(request_id)
        return True

    def yield_error(
        self,
        request_id: int,
        error: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> bool:
        """Answer an invocation with an error URI. Returns False if it is already closed."""
        inv = self._open_invocation(request_id, "yield_error")
        if inv is None:
            return False
        error = validate_uri(error, "error URI")
        self._send(
            m.Error(request_type=68, request_id=request_id, error=error, args=args, kwargs=kwargs)
        )
        self._finish_invocation(request_id)
        return True

    # ----------------------------------------------------------------------------------------
    # Input

    def receive_message(self, msg: m.Message) -> list[ev.SessionEvent]:
        """Process one message from the router; return the resulting events."""
        state = self.state
        entry = self._dispatch.get((state, type(msg)))
        if entry is None:
            if not isinstance(msg, m.Message):
                raise TypeError(
                    f"receive_message() takes a wamp_core.messages.Message (see parse_message), "
                    f"not {type(msg).__name__}"
                )
            if state is S.FAILED:
                log.debug("session failed; dropping %s", msg.NAME)
                return self.take_events()
            if state is S.SHUTTING_DOWN or self._s.draining:
                log.debug("ignoring %s in state %s", msg.NAME, state.value)
                return self.take_events()
            return self.protocol_violation(
                f"{msg.NAME} is not allowed in session state {state.value}"
            )
        handler, nxt = entry
        try:
            handler(msg)
        except RemoteProtocolError as exc:
            return self.protocol_violation(exc.message)
        # A reply this message needs that cannot be sent (LocalProtocolError from the sender)
        # propagates: the connection cannot go on, and the Connection ends it.
        if self.state is state:  # the handler took no escape (ending, violation)
            self.state = nxt
        events, self._events = self._events, []
        return events

    def protocol_violation(
        self, text: str, reason: str = PROTOCOL_VIOLATION
    ) -> list[ev.SessionEvent]:
        """Abort the session for a protocol violation (also for framing/decoding errors;
        ``reason``: a more precise URI, ``wamp.error.payload_size_exceeded`` for a message
        above the limit).

        Sends ``ABORT reason`` (if it can), fails all pending requests, enters FAILED. Logged at
        DEBUG: the peer's misbehaviour is reported by the events.
        """
        log.debug("protocol violation: %s", text)
        if self.state is not S.FAILED:
            # Not before our first HELLO (it must open the conversation); after a session
            # the ABORT tells the router why the transport is being dropped.
            if self.state is not S.CLOSED or self._s.realm:
                abort = m.Abort(reason=reason, details={"message": text})
                try:
                    self._send(abort)
                except LocalProtocolError as exc:
                    log.debug("ABORT not sent: %s", exc)
            details = CloseDetails(reason, text, local=True)
            self._end(details, abort=True, failed=True)
        return self.take_events()

    def connection_lost(
        self, message: str = "transport lost", *, local: bool = False
    ) -> list[ev.SessionEvent]:
        """The transport is gone: end the session and fail everything pending; ``message``
        (why it is gone) becomes the :class:`CloseDetails` message. ``local=True``: the
        application dropped it on purpose (a joined session's end is otherwise not local).

        On a :class:`~wamp_core.Connection` report it with :meth:`Connection.receive_eof
        <wamp_core.Connection.receive_eof>` or :meth:`Connection.connection_lost
        <wamp_core.Connection.connection_lost>`; this is the lower layer they use.
        """
        self._transport_gone = True
        self._outbox.clear()
        if (self.state, SessionCommand.TRANSPORT_LOST) in TRANSITIONS:
            joined = self.state in (S.ESTABLISHED, S.SHUTTING_DOWN)
            details = CloseDetails(
                CloseDetails.REASON_TRANSPORT_LOST, message, local=not joined or local
            )
            # A session that was up ends (Left); a join in progress fails (Aborted).
            self._end(details, abort=not joined)
        return self.take_events()

    # ----------------------------------------------------------------------------------------
    # Handlers (session)

    def _on_welcome(self, msg: m.Welcome) -> None:
        self._s.draining = False  # the router has read our HELLO: nothing older comes now
        if self._s.challenge is not None:
            raise RemoteProtocolError("WELCOME before the CHALLENGE was answered")
        details = msg.details
        method = details.get("authmethod")
        auth = self._s.authenticators.get(method) if isinstance(method, str) else None
        # A WELCOME that names no offered method must not skip the router proofs an offered
        # method requires (SCRAM verifier, cryptosign router signature): check them all.
        checks = [auth] if auth is not None else list(self._s.authenticators.values())
        for check in checks:
            try:
                check.on_welcome(details.get("authextra") or {})
            except AuthenticationError as exc:
                self._auth_failed(exc)
                return
            except Exception as exc:
                log.warning("authenticator %r raised %s on WELCOME", check.method,
                            type(exc).__name__)  # fmt: skip
                log.debug("authenticator failure", exc_info=True)
                self._auth_failed(
                    AuthenticationError(f"{type(exc).__name__} in {check.method} authenticator")
                )
                return
        self.features = RouterFeatures.from_roles(msg.roles)
        if not (self.features.has_broker or self.features.has_dealer):
            raise RemoteProtocolError("WELCOME.Details.roles announces neither broker nor dealer")
        self.details = SessionDetails(
            realm=details.get("realm") or self._s.realm,
            session=msg.session_id,
            authid=details.get("authid"),
            authrole=details.get("authrole"),
            authmethod=method if isinstance(method, str) else None,
            authprovider=details.get("authprovider"),
            authextra=dict(details.get("authextra") or {}),
            serializer=self.serializer_name,
            resumed=details.get("resumed") is True,
            resumable=details.get("resumable") is True,
            resume_token=details.get("resume_token"),
            router_roles=dict(msg.roles),
        )
        self._events.append(ev.Joined(self.details))

    def _on_challenge(self, msg: m.Challenge) -> None:
        self._s.draining = False  # the router has read our HELLO: nothing older comes now
        if self._s.challenge is not None:
            raise RemoteProtocolError("a second CHALLENGE before the first was answered")
        auth = self._s.authenticators.get(msg.method)
        if auth is None:  # (a join that cannot succeed: fatal, not a violation to retry)
            offered = list(self._s.authenticators) or ["anonymous"]
            self._auth_failed(AuthenticationError(
                f"the router asked for authmethod {msg.method[:60]!r}, which we did not offer "
                f"(offered: {', '.join(offered)})"
            ))  # fmt: skip
            return
        self._authenticate(msg, auth, defer=self.defer_auth_work)

    def answer_challenge(self, failure: Exception | None = None) -> None:
        """Answer the CHALLENGE announced by ``ChallengeWork`` (send AUTHENTICATE, emit
        ``ChallengeAnswered``; or abort the join when the authenticator refuses it), or with
        ``failure`` (what its work raised) abort the join with it. Does nothing once the
        session has ended meanwhile. On a :class:`~wamp_core.Connection` use
        :meth:`Connection.answer_challenge <wamp_core.Connection.answer_challenge>`."""
        msg = self._s.challenge
        if msg is None:
            if self.state in (S.CLOSED, S.FAILED):
                return
            raise LocalProtocolError("no CHALLENGE is waiting for its answer")
        self._s.challenge = None
        if failure is not None:
            self._authenticator_failed(msg.method, failure)
            return
        self._authenticate(msg, self._s.authenticators[msg.method], defer=False)

    @property
    def challenge_waiting(self) -> bool:
        """A CHALLENGE waits for :meth:`answer_challenge` (its ``ChallengeWork`` was emitted)."""
        return self._s.challenge is not None

    def _authenticate(self, msg: m.Challenge, auth: Authenticator, *, defer: bool) -> None:
        """Answer ``msg`` with AUTHENTICATE; with ``defer``, first hand out its expensive work
        (``ChallengeWork``) if it has any. A failing authenticator aborts the join."""
        try:
            if defer:
                work = auth.prepare(msg.extra)
                if work is not None:
                    self._s.challenge = msg
                    self._events.append(ev.ChallengeWork(msg.method, work))
                    return
            signature, extra = auth.on_challenge(msg.extra, self.channel_ids)
        except Exception as exc:
            self._authenticator_failed(msg.method, exc)
            return
        self._send(m.Authenticate(signature=signature, extra=extra))
        self._events.append(ev.ChallengeAnswered(msg.method))

    def _authenticator_failed(self, method: str, exc: Exception) -> None:
        """Abort the join: an :class:`AuthenticationError` as it is; anything else is a custom
        authenticator's bug (its text never leaks to the router)."""
        if not isinstance(exc, AuthenticationError):
            log.warning("authenticator %r raised %s on CHALLENGE", method, type(exc).__name__)
            log.debug("authenticator failure", exc_info=exc)
            error = AuthenticationError(f"{type(exc).__name__} in {method} authenticator")
            error.__cause__ = exc  # (for the application only: the router gets the text above)
            exc = error
        self._auth_failed(exc)

    def _auth_failed(self, exc: AuthenticationError) -> None:
        log.debug("authentication failed: %s", exc.message)
        self.auth_error = exc
        try:
            self._send(m.Abort(reason=exc.reason, details={"message": exc.message}))
        except LocalProtocolError as send_exc:
            log.debug("ABORT not sent: %s", send_exc)
        self._end(CloseDetails(exc.reason, exc.message, local=True), abort=True)

    def _on_abort(self, msg: m.Abort) -> None:
        self._outbox.clear()  # ABORT is never answered; nothing we queued can matter now
        details = CloseDetails(msg.reason, msg.message)
        self._end(details, abort=True, args=msg.args, kwargs=msg.kwargs)

    def _on_goodbye(self, msg: m.Goodbye) -> None:
        if self.state is S.SHUTTING_DOWN:
            reason = self._s.leave_reason or msg.reason
            self._end(CloseDetails(reason, msg.message, local=True))
        else:
            self._send(m.Goodbye(reason="wamp.close.goodbye_and_out"))
            self._end(CloseDetails(msg.reason, msg.message))

    def _end(
        self,
        details: CloseDetails,
        *,
        abort: bool = False,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        failed: bool = False,
    ) -> None:
        """End the session (CLOSED, or FAILED for a violation): fail pending requests, drop the
        session's live state, emit the end event, tell ``on_end``."""
        record = self._s
        error = details.error()
        self._ended = details
        for rid, pending in record.pending.items():
            self._events.append(ev.RequestFailed(rid, pending.kind, error))
        record.pending.clear()
        record.subscriptions.clear()
        record.registrations.clear()
        record.invocations.clear()
        record.leave_reason = None
        record.draining = abort and details.local
        record.challenge = None
        self.state = S.FAILED if failed else S.CLOSED
        if abort:
            self._events.append(ev.Aborted(details, args, kwargs))
        else:
            self._events.append(ev.Left(details))
        if self._on_end is not None:
            self._on_end()

    # ----------------------------------------------------------------------------------------
    # Handlers (requests)

    def _reply(self, request_id: int, kind: ev.RequestKind, name: str) -> Pending | None:
        """The pending request a reply answers; None for a tolerated late reply."""
        pending = self._s.pending.get(request_id)
        if pending is not None and pending.kind == kind:
            return self._s.pending.pop(request_id)
        if kind == "call" and self._late_call_answer(request_id, pending):
            log.debug("dropping late %s for finished call %d", name, request_id)
            return None
        raise RemoteProtocolError(f"{name} for request {request_id}, which is not a pending {kind}")

    def _late_call_answer(self, request_id: int, pending: Pending | None) -> bool:
        """Whether an answer no pending call takes is a late one to a call given up (dropped,
        not a violation): no other request is pending under its ID, and it may be among the
        abandoned calls (also one forgotten since: see ``RecentIds.may_hold``)."""
        return pending is None and self._s.abandoned_calls.may_hold(request_id)

    def _on_published(self, msg: m.Published) -> None:
        if self._reply(msg.request_id, "publish", "PUBLISHED"):
            self._events.append(ev.Published(msg.request_id, msg.publication_id))

    def _on_subscribed(self, msg: m.Subscribed) -> None:
        pending = self._reply(msg.request_id, "subscribe", "SUBSCRIBED")
        assert pending is not None and pending.uri is not None
        sid = msg.subscription_id
        sub = self._s.subscriptions.get(sid)
        if sub is None:
            self._s.subscriptions[sid] = SubscriptionRecord(pending.uri, 1)
        else:
            sub.count += 1
            self._s.lingering.discard(sid)  # taken up again: its UNSUBSCRIBE is off
        if pending.abandoned:  # nobody to tell: drop this use again (the last one: UNSUBSCRIBE)
            self.unsubscribe(sid)
        else:
            self._events.append(ev.Subscribed(msg.request_id, sid, pending.uri))
        self._settle(pending.uri)

    def _on_unsubscribed(self, msg: m.Unsubscribed) -> None:
        if msg.request_id == 0:
            details = msg.details or {}
            sid = details.get("subscription")
            if not isinstance(sid, int) or sid not in self._s.subscriptions:
                raise RemoteProtocolError(
                    f"subscription revocation for unknown subscription {sid!r}"
                )
            del self._s.subscriptions[sid]
            self._s.recent_subscriptions.add(sid)
            self._events.append(ev.SubscriptionRevoked(sid, details.get("reason")))
            return
        pending = self._reply(msg.request_id, "unsubscribe", "UNSUBSCRIBED")
        assert pending is not None and pending.target is not None
        sub = self._s.subscriptions.get(pending.target)
        if sub is not None and sub.count <= 0:
            del self._s.subscriptions[pending.target]
        self._s.recent_subscriptions.add(pending.target)
        self._events.append(ev.Unsubscribed(msg.request_id, pending.target))

    def _on_event(self, msg: m.Event) -> None:
        sid = msg.subscription_id
        sub = self._s.subscriptions.get(sid)
        if sub is None:
            if sid in self._s.recent_subscriptions:
                log.debug("dropping EVENT for ended subscription %d", sid)
                return
            raise RemoteProtocolError(f"EVENT for unknown subscription {sid}")
        details = event_details(sid, msg.publication_id, sub.topic, msg.details)
        self._events.append(
            new(ev.EventDelivered, (sid, msg.args or [], msg.kwargs or {}, details, msg.payload))
        )

    def _on_result(self, msg: m.Result) -> None:
        rid = msg.request_id
        progress = msg.details.get("progress") is True
        if progress:
            pending = self._s.pending.get(rid)
            if pending is None or pending.kind != "call":
                if self._late_call_answer(rid, pending):
                    log.debug("dropping late progressive RESULT for finished call %d", rid)
                    return
                raise RemoteProtocolError(
                    f"progressive RESULT for request {rid}, not a pending call"
                )
            result = new(
                CallResult, (msg.args or [], msg.kwargs or {}, True, msg.details, msg.payload)
            )
            if pending.canceled is None:
                self._events.append(new(ev.CallProgress, (rid, result)))
            return
        finished = self._reply(rid, "call", "RESULT")
        if finished is None:
            return
        if finished.canceled is not None:
            self._s.abandoned_calls.add(rid)  # the other answer to a canceled call may follow
        result = new(
            CallResult, (msg.args or [], msg.kwargs or {}, False, msg.details, msg.payload)
        )
        self._events.append(new(ev.CallSucceeded, (rid, result)))

    def _on_registered(self, msg: m.Registered) -> None:
        active = self._s.registrations.get(msg.registration_id)
        pending = self._s.pending.get(msg.request_id)
        if active is not None and not (pending and pending.kind == "register"
                                       and pending.uri == active):  # fmt: skip
            raise RemoteProtocolError(
                f"REGISTERED reuses active registration {msg.registration_id}"
            )
        pending = self._reply(msg.request_id, "register", "REGISTERED")
        assert pending is not None and pending.uri is not None
        if active is not None:
            # Crossbar.io answers a shared registration's second REGISTER from the same session
            # with the registration it has: one callee entry, so one handler. This request
            # fails as it does on a router that refuses it; the first one stays.
            if not pending.abandoned:
                error = ApplicationError(
                    ApplicationError.PROCEDURE_ALREADY_EXISTS,
                    f"{active!r} is already registered by this session",
                )
                self._events.append(ev.RequestFailed(msg.request_id, "register", error))
            return
        self._s.registrations[msg.registration_id] = pending.uri
        if pending.abandoned:  # nobody to run it: undone, its INVOCATIONs meanwhile refused
            self.unregister(msg.registration_id)
            del self._s.registrations[msg.registration_id]
            self._s.recent_registrations.add(msg.registration_id)
            return
        self._events.append(ev.Registered(msg.request_id, msg.registration_id, pending.uri))

    def _on_unregistered(self, msg: m.Unregistered) -> None:
        if msg.request_id == 0:
            details = msg.details or {}
            reg = details.get("registration")
            if not isinstance(reg, int) or reg not in self._s.registrations:
                raise RemoteProtocolError(
                    f"registration revocation for unknown registration {reg!r}"
                )
            del self._s.registrations[reg]
            self._s.recent_registrations.add(reg)
            self._events.append(ev.RegistrationRevoked(reg, details.get("reason")))
            return
        pending = self._reply(msg.request_id, "unregister", "UNREGISTERED")
        assert pending is not None and pending.target is not None
        self._s.registrations.pop(pending.target, None)
        self._s.recent_registrations.add(pending.target)
        self._events.append(ev.Unregistered(msg.request_id, pending.target))

    def _on_invocation(self, msg: m.Invocation) -> None:
        rid, reg, d, args, kwargs, payload = msg
        record = self._s
        procedure = record.registrations.get(reg)
        inv = record.invocations.get(rid)
        if inv is None and procedure is not None and rid not in record.recent_invocations:
            # The common case: a new invocation of one of our registrations.
            details = call_details(reg, procedure, d)
            record.invocations[rid] = InvocationRecord(
                reg, details.receive_progress, details.progress
            )
            self._events.append(
                new(
                    ev.InvocationReceived,
                    (rid, reg, args or [], kwargs or {}, details, False, payload),
                )
            )
            return
        if inv is not None:
            if not inv.open_stream or inv.registration != reg:
                raise RemoteProtocolError(f"INVOCATION reuses the open request ID {rid}")
            inv.open_stream = d.get("progress") is True
        elif rid in record.recent_invocations:
            log.debug("discarding INVOCATION continuation for completed invocation %d", rid)
            return
        elif reg in record.recent_registrations:
            log.debug("INVOCATION for ended registration %d: answering no_such_registration", reg)
            record.recent_invocations.add(rid)
            self._send(
                m.Error(request_type=68, request_id=rid, error="wamp.error.no_such_registration")
            )
            return
        else:
            raise RemoteProtocolError(f"INVOCATION for unknown registration {reg}")
        details = call_details(reg, procedure, d)
        self._events.append(
            new(
                ev.InvocationReceived,
                (rid, reg, args or [], kwargs or {}, details, True, payload),
            )
        )

    def _on_interrupt(self, msg: m.Interrupt) -> None:
        rid = msg.request_id
        inv = self._s.invocations.get(rid)
        if inv is None:
            log.debug("ignoring INTERRUPT for finished invocation %d", rid)
            return
        mode = msg.options.get("mode", "kill")
        self._finish_invocation(rid)
        if mode == "kill":
            # The callee's answer to a kill is ``wamp.error.canceled``: sent now, so a handler
            # that is being cancelled never has to; whatever it still returns is dropped.
            self._send(m.Error(request_type=68, request_id=rid, error=CANCELED))
        self._events.append(ev.InterruptReceived(rid, mode, msg.options.get("reason")))

    def _on_error(self, msg: m.Error) -> None:
        rtype = msg.request_type
        kind = REQUEST_TYPE_KIND.get(rtype)
        if kind is None:
            raise RemoteProtocolError(f"ERROR with REQUEST.Type {rtype} is not valid for a client")
        pending = self._reply(msg.request_id, kind, f"ERROR({rtype})")
        if pending is None:
            return
        if pending.canceled is not None:
            self._s.abandoned_calls.add(msg.request_id)  # the other answer may follow
        if kind == "unsubscribe" and pending.target in self._s.subscriptions:
            self._s.subscriptions[pending.target].count += 1
        elif kind == "subscribe" and pending.uri is not None:
            self._settle(pending.uri)
        error = ApplicationError(msg.error, *(msg.args or ()))
        error.kwargs = msg.kwargs or {}  # not splatted: the router's keys are arbitrary
        error.details = msg.details
        error.payload = msg.payload
        self._events.append(ev.RequestFailed(msg.request_id, kind, error))

    # ----------------------------------------------------------------------------------------
    # Helpers

    def _advance_id(self) -> None:
        """Consume the request ID just used (IDs are only taken by messages actually queued)."""
        record = self._s
        rid = record.next_id
        record.next_id = rid + 1 if rid < record.fresh_below else record.after(rid)

    def take_events(self) -> list[ev.SessionEvent]:
        """Events produced by commands rather than by received messages: ``abort()``'s
        ``Aborted`` and the failed requests it ends, a ``cancel()`` that ends a call at once."""
        events, self._events = self._events, []
        return events

    def _check_uri(self, uri: str, what: str) -> None:
        """Validate a procedure/topic URI (loose or strict, as configured) and remember it."""
        validate_uri(uri, what, strict=self.strict_uris)
        cache = self._uris_ok
        if len(uri) <= _URI_CACHE_LEN:
            if len(cache) >= _URI_CACHE_SIZE:
                cache.clear()
            cache.add(uri)

    def _command(self, command: SessionCommand, what: str) -> SessionState:
        """The next state for a state-moving command, or refuse it in this state."""
        nxt = TRANSITIONS.get((self.state, command))
        if nxt is None:
            self._refuse(what)
        return nxt

    def _refuse(self, what: str) -> NoReturn:
        if self.state is S.FAILED:
            raise SessionClosed(
                f"cannot {what}: the session failed (protocol violation)",
                reason="wamp.error.protocol_violation",
            )
        ended = self._ended
        if (
            self.state is S.CLOSED and ended is not None
            and ended.reason != CloseDetails.REASON_TRANSPORT_LOST
        ):  # fmt: skip
            # the reason the requests pending then got (a router's GOODBYE or ABORT)
            raise SessionClosed(
                f"cannot {what}: the session ended ({ended.reason})", reason=ended.reason
            )
        if self._transport_gone:
            raise SessionClosed(f"cannot {what}: the transport is closed",
                                reason=CloseDetails.REASON_TRANSPORT_LOST)  # fmt: skip
        raise SessionClosed(f"cannot {what} in session state {self.state.value}")

    def _require_joined(self, what: str) -> None:
        if self.state is not S.ESTABLISHED:
            self._refuse(what)

    def _require_role(self, role: str) -> None:
        has = self.features.has_dealer if role == "dealer" else self.features.has_broker
        if not has:
            raise LocalProtocolError(
                f"the router has no {role} role", reason="wamp.error.feature_not_supported"
            )

    def _require_feature(self, role: str, feature: str) -> None:
        feats = self.features.dealer if role == "dealer" else self.features.broker
        if feature not in feats:
            raise LocalProtocolError(
                f"the {role} does not announce {feature!r}",
                reason="wamp.error.feature_not_supported",
            )

    def _open_invocation(self, request_id: int, what: str) -> InvocationRecord | None:
        if self.state is not S.ESTABLISHED:
            if self.state in (S.SHUTTING_DOWN, S.CLOSED, S.FAILED):
                log.debug("%s for invocation %d after the session ended", what, request_id)
                return None
            self._refuse(what)
        inv = self._s.invocations.get(request_id)
        if inv is None:
            if request_id in self._s.recent_invocations:
                log.debug("%s for closed invocation %d dropped", what, request_id)
                return None
            raise LocalProtocolError(f"{what}: no open invocation {request_id}")
        return inv

    def _finish_invocation(self, request_id: int) -> None:
        self._s.invocations.pop(request_id, None)
        self._s.recent_invocations.add(request_id)
