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
from typing import Any

from .. import _messages as m
from .._errors import (
    ApplicationError,
    AuthenticationError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    SessionClosed,
    WampError,
)
from .._uri import MAX_ID, validate_uri
from ..auth import Authenticator, combine_authenticators
from . import _events as ev
from ._tables import (
    AGENT,
    CANCELED,
    CLIENT_ROLES,
    REQUEST_TYPE_KIND,
    SENT_KIND,
    TRANSITIONS,
    InvocationRecord,
    Pending,
    RecentIds,
    SessionState,
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
)

__all__ = ["ClientSession", "SessionState", "TRANSITIONS", "CLIENT_ROLES"]

S = SessionState

log = logging.getLogger(__name__)


class ClientSession:
    """The WAMP client session state machine (sans-IO).

    ``strict_uris`` validates outgoing URIs with the spec's strict rule instead of the loose one.
    ``channel_ids`` (set by the driver on TLS) feeds channel binding to authenticators.
    """

    def __init__(self, *, strict_uris: bool = False, agent: str = AGENT) -> None:
        self.state = SessionState.CLOSED
        self.strict_uris = strict_uris
        self.agent = agent
        self.channel_ids: Mapping[str, bytes] = {}
        self.details: SessionDetails | None = None
        self.features = RouterFeatures()
        self.serializer_name: str | None = None
        self._realm = ""
        self._authenticators: dict[str, Authenticator] = {}
        self._outbox: list[m.Message] = []
        self._events: list[ev.SessionEvent] = []
        self._next_id = 1
        self._pending: dict[int, Pending] = {}
        self._subscriptions: dict[int, SubscriptionRecord] = {}
        self._registrations: dict[int, str] = {}
        self._invocations: dict[int, InvocationRecord] = {}
        self._abandoned_calls = RecentIds()
        self._recent_subscriptions = RecentIds()
        self._recent_registrations = RecentIds()
        self._recent_invocations = RecentIds()
        self._leave_reason: str | None = None
        self._aborted_locally = False
        self._transport_gone = False
        self._handlers: dict[type[m.Message], Callable[[Any], None]] = {
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

    # ----------------------------------------------------------------------------------------
    # Introspection

    @property
    def is_joined(self) -> bool:
        return self.state is SessionState.ESTABLISHED

    @property
    def has_ended(self) -> bool:
        """A session was started on this engine (``join``) and is over now."""
        return bool(self._realm) and self.state in (S.CLOSED, S.FAILED)

    @property
    def session_id(self) -> int | None:
        """The router-assigned session ID while joined (or leaving), else None."""
        if self.details is None or self.state not in (S.ESTABLISHED, S.SHUTTING_DOWN):
            return None
        return self.details.session

    @property
    def pending_requests(self) -> dict[int, ev.RequestKind]:
        """Request ID -> kind of every request still waiting for the router."""
        return {rid: p.kind for rid, p in self._pending.items()}

    @property
    def subscriptions(self) -> dict[int, str]:
        return {sid: s.topic for sid, s in self._subscriptions.items()}

    @property
    def registrations(self) -> dict[int, str]:
        return dict(self._registrations)

    @property
    def open_invocations(self) -> frozenset[int]:
        return frozenset(self._invocations)

    def messages_to_send(self) -> list[m.Message]:
        """Drain the outbox: the messages to serialize and send, in order."""
        out, self._outbox = self._outbox, []
        return out

    # ----------------------------------------------------------------------------------------
    # Commands

    def join(self, realm: str, authenticators: Sequence[Authenticator] = ()) -> None:
        """Queue HELLO for ``realm``, offering ``authenticators`` (anonymous when empty)."""
        if self.state in (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN):
            raise LocalProtocolError(f"cannot join: a session is {self.state.value}")
        if self.state is not SessionState.CLOSED or self._transport_gone:
            self._refuse("join")
        realm = validate_uri(realm, "realm")
        hello_auth = combine_authenticators(list(authenticators))
        details: dict[str, Any] = {
            "roles": CLIENT_ROLES,
            "agent": self.agent,
            "authmethods": list(hello_auth.authmethods),
        }
        if hello_auth.authid is not None:
            details["authid"] = hello_auth.authid
        if hello_auth.authrole is not None:
            details["authrole"] = hello_auth.authrole
        if hello_auth.authextra:
            details["authextra"] = dict(hello_auth.authextra)
        hello = m.Hello(realm=realm, details=details)
        self._realm = realm
        # Request IDs are session-scoped: a new session starts again at 1 (spec, IDs).
        self._next_id = 1
        self._abandoned_calls = RecentIds()
        self._recent_subscriptions = RecentIds()
        self._recent_registrations = RecentIds()
        self._recent_invocations = RecentIds()
        self.details = None
        self._aborted_locally = False
        self.features = RouterFeatures()
        self._authenticators = {a.method: a for a in authenticators}
        self._outbox.append(hello)
        self.state = SessionState.ESTABLISHING

    def leave(self, reason: str = CloseDetails.REASON_DEFAULT, message: str | None = None) -> None:
        """Queue GOODBYE; the session ends (``Left``) when the router answers."""
        self._require_joined("leave")
        reason = validate_uri(reason, "close reason")
        self._outbox.append(
            m.Goodbye(reason=reason, details={"message": message} if message else None)
        )
        self._leave_reason = reason
        self.state = SessionState.SHUTTING_DOWN

    def abort(self, reason: str = "wamp.close.normal", message: str | None = None) -> None:
        """Give up the session (or a join in progress) at once: queue ABORT, emit ``Aborted``.

        Unlike :meth:`leave` nothing is awaited: ABORT is never answered. Pending requests fail.
        """
        if self.state not in (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN):
            self._refuse("abort")
        reason = validate_uri(reason, "abort reason")
        self._outbox.append(
            m.Abort(reason=reason, details={"message": message} if message else None)
        )
        self._end(CloseDetails(reason, message, local=True), abort=True)

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
        self._require_joined("call")
        self._require_role("dealer")
        procedure = validate_uri(procedure, "procedure", strict=self.strict_uris)
        opts = options or CallOptions()
        wire = opts.to_options(self.features.dealer)
        if progress:
            self._require_feature("dealer", "progressive_call_invocations")
            wire["progress"] = True
        rid = self._next_id
        msg = m.Call(
            request_id=rid, procedure=procedure, options=wire, args=args, kwargs=kwargs,
            payload=payload,
        )  # fmt: skip
        self._advance_id()
        self._pending[rid] = Pending(
            "call", procedure, progress=bool(wire.get("receive_progress")), streaming=progress
        )
        self._outbox.append(msg)
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
        pending = self._pending.get(request_id)
        if pending is None or pending.kind != "call" or not pending.streaming:
            raise LocalProtocolError(f"request {request_id} is not an open progressive call")
        pending.continued = True
        pending.streaming = not final
        assert pending.uri is not None
        options = {} if final else {"progress": True}
        self._outbox.append(
            m.Call(
                request_id=request_id,
                procedure=pending.uri,
                options=options,
                args=args,
                kwargs=kwargs,
            )
        )

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
        pending = self._pending.get(request_id)
        if pending is None or pending.kind != "call" or self.state is not S.ESTABLISHED:
            return False
        if pending.canceled is not None:
            return True  # CANCEL already sent (a local-only cancel is no longer pending)
        sent = "call_canceling" in self.features.dealer
        if sent:
            self._outbox.append(m.Cancel(request_id=request_id, options={"mode": mode}))
        if sent and mode != "skip":
            pending.canceled = mode
            return True
        pending.canceled = mode if sent else "local"
        del self._pending[request_id]
        self._abandoned_calls.add(request_id)
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
        self._require_joined("publish")
        self._require_role("broker")
        topic = validate_uri(topic, "topic", strict=self.strict_uris)
        opts = options or PublishOptions()
        wire = opts.to_options(self.features.broker)
        rid = self._next_id
        msg = m.Publish(
            request_id=rid, topic=topic, options=wire, args=args, kwargs=kwargs, payload=payload
        )
        self._advance_id()
        if opts.acknowledge:
            self._pending[rid] = Pending("publish", topic)
        self._outbox.append(msg)
        return rid

    def subscribe(self, topic: str, options: SubscribeOptions | None = None) -> int:
        self._require_joined("subscribe")
        self._require_role("broker")
        opts = options or SubscribeOptions()
        topic = validate_uri(
            topic, "topic", strict=self.strict_uris, allow_empty=opts.match != "exact"
        )
        wire = opts.to_options(self.features.broker)
        rid = self._next_id
        self._outbox.append(m.Subscribe(request_id=rid, topic=topic, options=wire))
        self._advance_id()
        self._pending[rid] = Pending("subscribe", topic)
        return rid

    def unsubscribe(self, subscription_id: int) -> int | None:
        """Drop one local use of a subscription; UNSUBSCRIBE goes out when the last one goes.

        Returns the request ID, or None when other local users remain (nothing sent).
        """
        self._require_joined("unsubscribe")
        sub = self._subscriptions.get(subscription_id)
        if sub is None:
            raise LocalProtocolError(f"no active subscription {subscription_id}")
        if sub.count <= 0:
            raise LocalProtocolError(f"subscription {subscription_id} is already being removed")
        if sub.count > 1:
            sub.count -= 1
            return None
        sub.count = 0
        rid = self._next_id
        self._outbox.append(m.Unsubscribe(request_id=rid, subscription_id=subscription_id))
        self._advance_id()
        self._pending[rid] = Pending("unsubscribe", target=subscription_id)
        return rid

    def register(self, procedure: str, options: RegisterOptions | None = None) -> int:
        self._require_joined("register")
        self._require_role("dealer")
        opts = options or RegisterOptions()
        procedure = validate_uri(
            procedure, "procedure", strict=self.strict_uris, allow_empty=opts.match != "exact"
        )
        wire = opts.to_options(self.features.dealer)
        rid = self._next_id
        self._outbox.append(m.Register(request_id=rid, procedure=procedure, options=wire))
        self._advance_id()
        self._pending[rid] = Pending("register", procedure)
        return rid

    def unregister(self, registration_id: int) -> int:
        self._require_joined("unregister")
        if registration_id not in self._registrations:
            raise LocalProtocolError(f"no active registration {registration_id}")
        rid = self._next_id
        self._outbox.append(m.Unregister(request_id=rid, registration_id=registration_id))
        self._advance_id()
        self._pending[rid] = Pending("unregister", target=registration_id)
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
        ``killnowait`` or the session ended.
        """
        inv = self._open_invocation(request_id, "yield_result")
        if inv is None:
            return False
        if progress and not inv.receive_progress:
            raise LocalProtocolError(
                "the caller did not ask for progressive results (details.receive_progress)"
            )
        options = {"progress": True} if progress else {}
        msg = m.Yield(
            request_id=request_id, options=options, args=args, kwargs=kwargs, payload=payload
        )
        if not progress:
            self._finish_invocation(request_id)
        self._outbox.append(msg)
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
        msg = m.Error(request_type=68, request_id=request_id, error=error, args=args, kwargs=kwargs)
        self._finish_invocation(request_id)
        self._outbox.append(msg)
        return True

    def send_failed(self, msg: m.Message, error: WampError) -> bool:
        """A queued message could not be sent (too large for the transport, not serializable).

        A request ends with :class:`RequestFailed` carrying ``error``; an invocation answer is
        replaced by an ERROR that says why (``wamp.error.payload_size_exceeded`` or
        ``wamp.error.invalid_payload``), queued for sending. Returns False for a message that is
        neither (HELLO, GOODBYE...): the caller must treat the connection as failed.
        """
        too_large = getattr(error, "reason", None) == "wamp.error.payload_size_exceeded"
        uri = "wamp.error.payload_size_exceeded" if too_large else "wamp.error.invalid_payload"
        if isinstance(msg, m.Yield) or (isinstance(msg, m.Error) and msg.request_type == 68):
            log.warning("answer to invocation %d not sendable (%s); sending %s",
                        msg.request_id, error, uri)  # fmt: skip
            self._finish_invocation(msg.request_id)
            self._outbox.append(
                m.Error(request_type=68, request_id=msg.request_id, error=uri, args=[str(error)])
            )
            return True
        kind = SENT_KIND.get(type(msg))
        if kind is None:
            return False
        rid: int = msg[0]
        pending = self._pending.pop(rid, None)
        if pending is not None and pending.continued:
            # A later chunk of a progressive call invocation: the router has the call open.
            # Cancel it there (if the dealer can), and tolerate its late answer.
            if "call_canceling" in self.features.dealer:
                self._outbox.append(m.Cancel(request_id=rid, options={"mode": "kill"}))
            self._abandoned_calls.add(rid)
        if pending is not None or kind == "publish":
            self._events.append(
                ev.RequestFailed(
                    rid, kind, LocalProtocolError(f"cannot send {msg.NAME}: {error}", reason=uri)
                )
            )
        return True

    # ----------------------------------------------------------------------------------------
    # Input

    def receive_message(self, msg: m.Message) -> list[ev.SessionEvent]:
        """Process one message from the router; return the resulting events."""
        state = self.state
        if state is SessionState.FAILED:
            log.debug("session failed; dropping %s", msg.NAME)
            return self._take_events()
        nxt = TRANSITIONS.get((state, type(msg)))
        if nxt is None:
            if state is SessionState.SHUTTING_DOWN or self._aborted_locally:
                log.debug("ignoring %s in state %s", msg.NAME, state.value)
                return self._take_events()
            return self.protocol_violation(
                f"{msg.NAME} is not allowed in session state {state.value}"
            )
        try:
            self._handlers[type(msg)](msg)
        except ProtocolError as exc:
            return self.protocol_violation(exc.message)
        return self._take_events()

    def protocol_violation(self, text: str) -> list[ev.SessionEvent]:
        """Abort the session for a protocol violation (also for framing/decoding errors).

        Queues ``ABORT wamp.error.protocol_violation``, fails all pending requests, enters FAILED.
        """
        log.warning("protocol violation: %s", text)
        if self.state is not SessionState.FAILED:
            # Not before our first HELLO (it must open the conversation); after a session
            # the ABORT tells the router why the transport is being dropped.
            if self.state is not SessionState.CLOSED or self._realm:
                self._outbox.append(
                    m.Abort(reason="wamp.error.protocol_violation", details={"message": text})
                )
            self._end(CloseDetails("wamp.error.protocol_violation", text, local=True), abort=True)
            self.state = SessionState.FAILED
        return self._take_events()

    def connection_lost(self) -> list[ev.SessionEvent]:
        """The transport is gone: end the session and fail everything pending."""
        self._transport_gone = True
        if self.state in (S.ESTABLISHED, S.SHUTTING_DOWN):
            self._end(CloseDetails(CloseDetails.REASON_TRANSPORT_LOST, "transport lost"))
        elif self.state in (S.ESTABLISHING, S.CHALLENGING):
            details = CloseDetails(CloseDetails.REASON_TRANSPORT_LOST, "transport lost", local=True)
            self._end(details, abort=True)
        self._outbox.clear()
        return self._take_events()

    # ----------------------------------------------------------------------------------------
    # Handlers (session)

    def _on_welcome(self, msg: m.Welcome) -> None:
        details = msg.details
        method = details.get("authmethod")
        auth = self._authenticators.get(method) if isinstance(method, str) else None
        # A WELCOME that names no offered method must not skip the router proofs an offered
        # method requires (SCRAM verifier, cryptosign router signature): check them all.
        checks = [auth] if auth is not None else list(self._authenticators.values())
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
            realm=details.get("realm") or self._realm,
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
        self.state = SessionState.ESTABLISHED
        self._events.append(ev.Joined(self.details))

    def _on_challenge(self, msg: m.Challenge) -> None:
        auth = self._authenticators.get(msg.method)
        if auth is None:
            raise RemoteProtocolError(
                f"CHALLENGE for authmethod {msg.method!r}, which we did not offer"
            )
        try:
            signature, extra = auth.on_challenge(msg.extra, self.channel_ids)
        except AuthenticationError as exc:
            self._auth_failed(exc)
            return
        except Exception as exc:  # a custom authenticator's bug: abort, never leak the text
            log.warning("authenticator %r raised %s on CHALLENGE", msg.method,
                        type(exc).__name__)  # fmt: skip
            log.debug("authenticator failure", exc_info=True)
            self._auth_failed(
                AuthenticationError(f"{type(exc).__name__} in {msg.method} authenticator")
            )
            return
        self.state = SessionState.CHALLENGING
        self._outbox.append(m.Authenticate(signature=signature, extra=extra))
        self._events.append(ev.ChallengeAnswered(msg.method))

    def _auth_failed(self, exc: AuthenticationError) -> None:
        log.warning("authentication failed: %s", exc.message)
        self._outbox.append(m.Abort(reason=exc.reason, details={"message": exc.message}))
        self._end(CloseDetails(exc.reason, exc.message, local=True), abort=True)

    def _on_abort(self, msg: m.Abort) -> None:
        self._outbox.clear()  # ABORT is never answered; nothing we queued can matter now
        details = CloseDetails(msg.reason, msg.message)
        self._end(details, abort=True, args=msg.args, kwargs=msg.kwargs)

    def _on_goodbye(self, msg: m.Goodbye) -> None:
        if self.state is SessionState.SHUTTING_DOWN:
            reason = self._leave_reason or msg.reason
            self._end(CloseDetails(reason, msg.message, local=True))
        else:
            self._outbox.append(m.Goodbye(reason="wamp.close.goodbye_and_out"))
            self._end(CloseDetails(msg.reason, msg.message))

    def _end(
        self,
        details: CloseDetails,
        *,
        abort: bool = False,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Leave the session: fail pending requests, forget session state, emit the end event."""
        error = SessionClosed(f"session ended: {details.reason}", reason=details.reason)
        for rid, pending in self._pending.items():
            self._events.append(ev.RequestFailed(rid, pending.kind, error))
        self._pending.clear()
        self._subscriptions.clear()
        self._registrations.clear()
        self._invocations.clear()
        self.state = SessionState.CLOSED
        self._leave_reason = None
        self._aborted_locally = abort and details.local
        if abort:
            self._events.append(ev.Aborted(details, args, kwargs))
        else:
            self._events.append(ev.Left(details))

    # ----------------------------------------------------------------------------------------
    # Handlers (requests)

    def _reply(self, request_id: int, kind: ev.RequestKind, name: str) -> Pending | None:
        """The pending request a reply answers; None for a tolerated late reply."""
        pending = self._pending.get(request_id)
        if pending is not None and pending.kind == kind:
            return self._pending.pop(request_id)
        if kind == "call" and request_id in self._abandoned_calls:
            log.debug("dropping late %s for finished call %d", name, request_id)
            return None
        raise RemoteProtocolError(f"{name} for request {request_id}, which is not a pending {kind}")

    def _on_published(self, msg: m.Published) -> None:
        if self._reply(msg.request_id, "publish", "PUBLISHED"):
            self._events.append(ev.Published(msg.request_id, msg.publication_id))

    def _on_subscribed(self, msg: m.Subscribed) -> None:
        pending = self._reply(msg.request_id, "subscribe", "SUBSCRIBED")
        assert pending is not None and pending.uri is not None
        sub = self._subscriptions.get(msg.subscription_id)
        if sub is None:
            self._subscriptions[msg.subscription_id] = SubscriptionRecord(pending.uri, 1)
        else:
            sub.count += 1
        self._events.append(ev.Subscribed(msg.request_id, msg.subscription_id, pending.uri))

    def _on_unsubscribed(self, msg: m.Unsubscribed) -> None:
        if msg.request_id == 0:
            details = msg.details or {}
            sid = details.get("subscription")
            if not isinstance(sid, int) or sid not in self._subscriptions:
                raise RemoteProtocolError(
                    f"subscription revocation for unknown subscription {sid!r}"
                )
            del self._subscriptions[sid]
            self._recent_subscriptions.add(sid)
            self._events.append(ev.SubscriptionRevoked(sid, details.get("reason")))
            return
        pending = self._reply(msg.request_id, "unsubscribe", "UNSUBSCRIBED")
        assert pending is not None and pending.target is not None
        sub = self._subscriptions.get(pending.target)
        if sub is not None and sub.count <= 0:
            del self._subscriptions[pending.target]
        self._recent_subscriptions.add(pending.target)
        self._events.append(ev.Unsubscribed(msg.request_id, pending.target))

    def _on_event(self, msg: m.Event) -> None:
        sid = msg.subscription_id
        sub = self._subscriptions.get(sid)
        if sub is None:
            if sid in self._recent_subscriptions:
                log.debug("dropping EVENT for ended subscription %d", sid)
                return
            raise RemoteProtocolError(f"EVENT for unknown subscription {sid}")
        d = msg.details
        details = event_details(sid, msg.publication_id, sub.topic, d)
        self._events.append(
            ev.EventDelivered(sid, msg.args or [], msg.kwargs or {}, details, msg.payload)
        )

    def _on_result(self, msg: m.Result) -> None:
        rid = msg.request_id
        progress = msg.details.get("progress") is True
        if progress:
            pending = self._pending.get(rid)
            if pending is None or pending.kind != "call":
                if rid in self._abandoned_calls:
                    log.debug("dropping late progressive RESULT for finished call %d", rid)
                    return
                raise RemoteProtocolError(
                    f"progressive RESULT for request {rid}, not a pending call"
                )
            result = CallResult(msg.args or [], msg.kwargs or {}, True, msg.details, msg.payload)
            if pending.canceled is None:
                self._events.append(ev.CallProgress(rid, result))
            return
        finished = self._reply(rid, "call", "RESULT")
        if finished is None:
            return
        if finished.canceled is not None:
            self._abandoned_calls.add(rid)  # the other answer to a canceled call may follow
        result = CallResult(msg.args or [], msg.kwargs or {}, False, msg.details, msg.payload)
        self._events.append(ev.CallSucceeded(rid, result))

    def _on_registered(self, msg: m.Registered) -> None:
        if msg.registration_id in self._registrations:
            raise RemoteProtocolError(
                f"REGISTERED reuses active registration {msg.registration_id}"
            )
        pending = self._reply(msg.request_id, "register", "REGISTERED")
        assert pending is not None and pending.uri is not None
        self._registrations[msg.registration_id] = pending.uri
        self._events.append(ev.Registered(msg.request_id, msg.registration_id, pending.uri))

    def _on_unregistered(self, msg: m.Unregistered) -> None:
        if msg.request_id == 0:
            details = msg.details or {}
            reg = details.get("registration")
            if not isinstance(reg, int) or reg not in self._registrations:
                raise RemoteProtocolError(
                    f"registration revocation for unknown registration {reg!r}"
                )
            del self._registrations[reg]
            self._recent_registrations.add(reg)
            self._events.append(ev.RegistrationRevoked(reg, details.get("reason")))
            return
        pending = self._reply(msg.request_id, "unregister", "UNREGISTERED")
        assert pending is not None and pending.target is not None
        self._registrations.pop(pending.target, None)
        self._recent_registrations.add(pending.target)
        self._events.append(ev.Unregistered(msg.request_id, pending.target))

    def _on_invocation(self, msg: m.Invocation) -> None:
        rid, reg = msg.request_id, msg.registration_id
        d = msg.details
        more = d.get("progress") is True
        inv = self._invocations.get(rid)
        continuation = False
        if inv is not None:
            if not inv.open_stream or inv.registration != reg:
                raise RemoteProtocolError(f"INVOCATION reuses the open request ID {rid}")
            inv.open_stream = more
            continuation = True
        elif rid in self._recent_invocations:
            log.debug("discarding INVOCATION continuation for completed invocation %d", rid)
            return
        elif reg not in self._registrations:
            if reg in self._recent_registrations:
                log.debug(
                    "INVOCATION for ended registration %d: answering no_such_registration", reg
                )
                self._recent_invocations.add(rid)
                self._outbox.append(
                    m.Error(
                        request_type=68, request_id=rid, error="wamp.error.no_such_registration"
                    )
                )
                return
            raise RemoteProtocolError(f"INVOCATION for unknown registration {reg}")
        else:
            inv = InvocationRecord(reg, d.get("receive_progress") is True, more)
            self._invocations[rid] = inv
        timeout = d.get("timeout")
        details = call_details(reg, self._registrations.get(reg), d, timeout)
        self._events.append(
            ev.InvocationReceived(
                rid, reg, msg.args or [], msg.kwargs or {}, details, continuation, msg.payload
            )
        )

    def _on_interrupt(self, msg: m.Interrupt) -> None:
        rid = msg.request_id
        inv = self._invocations.get(rid)
        if inv is None:
            log.debug("ignoring INTERRUPT for finished invocation %d", rid)
            return
        mode = msg.options.get("mode", "kill")
        self._finish_invocation(rid)
        if mode == "kill":
            # The callee's answer to a kill is ``wamp.error.canceled``: sent now, so a handler
            # that is being cancelled never has to; whatever it still returns is dropped.
            self._outbox.append(m.Error(request_type=68, request_id=rid, error=CANCELED))
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
            self._abandoned_calls.add(msg.request_id)  # the other answer may follow
        if kind == "unsubscribe" and pending.target in self._subscriptions:
            self._subscriptions[pending.target].count += 1
        error = ApplicationError(msg.error, *(msg.args or ()))
        error.kwargs = msg.kwargs or {}  # not splatted: the router's keys are arbitrary
        error.details = msg.details
        error.payload = msg.payload
        self._events.append(ev.RequestFailed(msg.request_id, kind, error))

    # ----------------------------------------------------------------------------------------
    # Helpers

    def _advance_id(self) -> None:
        """Consume the request ID just used (IDs are only taken by messages actually queued)."""
        rid = self._next_id
        self._next_id = 1 if rid >= MAX_ID else rid + 1

    def _take_events(self) -> list[ev.SessionEvent]:
        events, self._events = self._events, []
        return events

    def take_events(self) -> list[ev.SessionEvent]:
        """Events produced by commands (e.g. a local cancel without router support)."""
        return self._take_events()

    def _refuse(self, what: str) -> None:
        if self.state is SessionState.FAILED:
            raise SessionClosed(
                f"cannot {what}: the session failed (protocol violation)",
                reason="wamp.error.protocol_violation",
            )
        if self._transport_gone:
            raise SessionClosed(f"cannot {what}: the transport is closed",
                                reason=CloseDetails.REASON_TRANSPORT_LOST)  # fmt: skip
        raise SessionClosed(f"cannot {what} in session state {self.state.value}")

    def _require_joined(self, what: str) -> None:
        if self.state is not SessionState.ESTABLISHED:
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
        if self.state is not SessionState.ESTABLISHED:
            if self.state in (S.SHUTTING_DOWN, S.CLOSED, S.FAILED):
                log.debug("%s for invocation %d after the session ended", what, request_id)
                return None
            self._refuse(what)
        inv = self._invocations.get(request_id)
        if inv is None:
            if request_id in self._recent_invocations:
                log.debug("%s for closed invocation %d dropped", what, request_id)
                return None
            raise LocalProtocolError(f"{what}: no open invocation {request_id}")
        return inv

    def _finish_invocation(self, request_id: int) -> None:
        self._invocations.pop(request_id, None)
        self._recent_invocations.add(request_id)
