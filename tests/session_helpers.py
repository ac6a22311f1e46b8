"""Helpers for testing the client session engine (:class:`wamp_core._session.ClientSession`).

* router feature sets (Crossbar's real ones, a "full" set, none) and WELCOME builders;
* sessions put into each :class:`SessionState`, optionally with pending requests;
* :func:`minimal_message`: a valid instance of each of the 25 message classes;
* :class:`ScriptedRouter`: the router side of one connection. It records what the client sent
  (router-side bookkeeping of open requests, subscriptions, registrations, invocations) and
  delivers scripted replies, collecting every event the engine produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wamp_core import ClientSession, SessionState, events as ev, messages as m
from wamp_core.auth import Authenticator, TicketAuthenticator

__all__ = [
    "REALM",
    "SESSION_ID",
    "CROSSBAR_BROKER",
    "CROSSBAR_DEALER",
    "FULL_BROKER",
    "FULL_DEALER",
    "router_roles",
    "welcome",
    "joined",
    "wire",
    "state_of",
    "make_session",
    "PendingSet",
    "minimal_message",
    "ScriptedRouter",
]

REALM = "realm1"
SESSION_ID = 4242

#: What Crossbar.io 26.x announces in WELCOME (crossbar/router/broker.py, dealer.py): no
#: ``call_timeout``, no ``progressive_call_invocations``, no ``payload_passthru_mode``.
CROSSBAR_BROKER = frozenset(
    {
        "publisher_identification",
        "pattern_based_subscription",
        "session_meta_api",
        "subscription_meta_api",
        "subscriber_blackwhite_listing",
        "publisher_exclusion",
        "subscription_revocation",
        "event_retention",
        "payload_transparency",
        "payload_encryption_cryptobox",
    }
)
CROSSBAR_DEALER = frozenset(
    {
        "caller_identification",
        "pattern_based_registration",
        "session_meta_api",
        "registration_meta_api",
        "shared_registration",
        "progressive_call_results",
        "registration_revocation",
        "payload_transparency",
        "testament_meta_api",
        "payload_encryption_cryptobox",
        "call_canceling",
    }
)
#: Crossbar's sets plus every feature the client can use.
FULL_BROKER = CROSSBAR_BROKER | {"payload_passthru_mode", "event_history"}
FULL_DEALER = CROSSBAR_DEALER | {
    "call_timeout",
    "progressive_call_invocations",
    "payload_passthru_mode",
}


def router_roles(
    broker: Iterable[str] | None = CROSSBAR_BROKER,
    dealer: Iterable[str] | None = CROSSBAR_DEALER,
) -> dict[str, Any]:
    """``WELCOME.Details.roles``; ``None`` leaves the role out entirely."""
    roles: dict[str, Any] = {}
    if broker is not None:
        roles["broker"] = {"features": dict.fromkeys(sorted(broker), True)}
    if dealer is not None:
        roles["dealer"] = {"features": dict.fromkeys(sorted(dealer), True)}
    return roles


def welcome(
    session_id: int = SESSION_ID,
    *,
    broker: Iterable[str] | None = CROSSBAR_BROKER,
    dealer: Iterable[str] | None = CROSSBAR_DEALER,
    **details: Any,
) -> m.Welcome:
    """A WELCOME announcing the given router features (plus any extra ``details``)."""
    return m.Welcome(
        session_id=session_id, details={"roles": router_roles(broker, dealer), **details}
    )


def state_of(session: ClientSession) -> SessionState:
    """The session state, read through a call (keeps mypy from over-narrowing ``.state``)."""
    return session.state


def wire(session: ClientSession) -> list[list[Any]]:
    """Drain the session's outbox as WAMP arrays."""
    return [msg.to_list() for msg in session.messages_to_send()]


def joined(
    broker: Iterable[str] | None = CROSSBAR_BROKER,
    dealer: Iterable[str] | None = CROSSBAR_DEALER,
    *,
    realm: str = REALM,
    **kwargs: Any,
) -> ClientSession:
    """A session in ESTABLISHED with the given router features; outbox and events drained."""
    session = ClientSession(**kwargs)
    session.join(realm)
    events = session.receive_message(welcome(broker=broker, dealer=dealer))
    assert [type(e) for e in events] == [ev.Joined]
    session.messages_to_send()
    return session


@dataclass
class PendingSet:
    """Requests left pending by :func:`make_session`: request ID -> kind."""

    requests: dict[int, ev.RequestKind] = field(default_factory=dict)
    subscription: int | None = None
    registration: int | None = None
    invocation: int | None = None


def make_session(
    state: SessionState, *, pending: bool = True, after_session: bool = False
) -> tuple[ClientSession, PendingSet]:
    """A session in ``state`` (outbox/events drained).

    ESTABLISHED/SHUTTING_DOWN sessions (with ``pending``) have one pending request of each kind,
    one active subscription, one registration and one open invocation. ``after_session`` makes a
    CLOSED session that already had (and left) a session, instead of a pristine one.
    ESTABLISHING/CHALLENGING sessions offered ticket authentication.
    """
    info = PendingSet()
    session = ClientSession()
    if state is SessionState.CLOSED:
        if after_session:
            session.join(REALM)
            session.receive_message(welcome())
            session.leave()
            session.receive_message(m.Goodbye(reason="wamp.close.goodbye_and_out"))
        session.messages_to_send()
        session.take_events()
        assert session.state is SessionState.CLOSED
        return session, info
    if state in (SessionState.ESTABLISHING, SessionState.CHALLENGING):
        session.join(REALM, [TicketAuthenticator("secret", "joe")])
        if state is SessionState.CHALLENGING:
            session.receive_message(m.Challenge(method="ticket", extra={}))
        session.messages_to_send()
        session.take_events()
        assert session.state is state
        return session, info
    session = joined()
    if pending:
        sub_req = session.subscribe("com.example.topic")
        session.receive_message(m.Subscribed(request_id=sub_req, subscription_id=501))
        reg_req = session.register("com.example.proc")
        session.receive_message(m.Registered(request_id=reg_req, registration_id=601))
        session.receive_message(m.Invocation(request_id=77, registration_id=601, details={}))
        info.subscription, info.registration, info.invocation = 501, 601, 77
        info.requests[session.call("com.example.call")] = "call"
        info.requests[session.publish("com.example.pub", options=_ACK)] = "publish"
        info.requests[session.subscribe("com.example.other")] = "subscribe"
        info.requests[session.register("com.example.other")] = "register"
        rid = session.unsubscribe(501)
        assert rid is not None
        info.requests[rid] = "unsubscribe"
        info.requests[session.unregister(601)] = "unregister"
        assert session.pending_requests == info.requests
    if state is SessionState.SHUTTING_DOWN:
        session.leave()
    elif state is SessionState.FAILED:
        session.receive_message(m.Hello(realm=REALM, details={"roles": {"broker": {}}}))
    elif state is not SessionState.ESTABLISHED:  # pragma: no cover - all states covered
        raise AssertionError(state)
    session.messages_to_send()
    session.take_events()
    assert session.state is state
    return session, info


def _ack() -> Any:
    from wamp_core import PublishOptions

    return PublishOptions(acknowledge=True)


_ACK = _ack()


def minimal_message(cls: type[m.Message], request_id: int = 1) -> m.Message:
    """A small valid instance of ``cls`` (IDs are ``request_id``; URIs are fixed)."""
    rid = request_id
    builders: dict[type[m.Message], Any] = {
        m.Hello: lambda: m.Hello(realm=REALM, details={"roles": {"caller": {}}}),
        m.Welcome: welcome,
        m.Abort: lambda: m.Abort(reason="wamp.error.not_authorized"),
        m.Challenge: lambda: m.Challenge(method="ticket", extra={}),
        m.Authenticate: lambda: m.Authenticate(signature="sig", extra={}),
        m.Goodbye: lambda: m.Goodbye(reason="wamp.close.system_shutdown"),
        m.Error: lambda: m.Error(request_type=48, request_id=rid, error="com.example.error"),
        m.Publish: lambda: m.Publish(request_id=rid, topic="com.example.topic"),
        m.Published: lambda: m.Published(request_id=rid, publication_id=rid),
        m.Subscribe: lambda: m.Subscribe(request_id=rid, topic="com.example.topic"),
        m.Subscribed: lambda: m.Subscribed(request_id=rid, subscription_id=rid),
        m.Unsubscribe: lambda: m.Unsubscribe(request_id=rid, subscription_id=rid),
        m.Unsubscribed: lambda: m.Unsubscribed(request_id=rid),
        m.Event: lambda: m.Event(subscription_id=rid, publication_id=rid),
        m.EventReceived: lambda: m.EventReceived(publication_id=rid),
        m.Call: lambda: m.Call(request_id=rid, procedure="com.example.proc"),
        m.Cancel: lambda: m.Cancel(request_id=rid, options={"mode": "kill"}),
        m.Result: lambda: m.Result(request_id=rid),
        m.Register: lambda: m.Register(request_id=rid, procedure="com.example.proc"),
        m.Registered: lambda: m.Registered(request_id=rid, registration_id=rid),
        m.Unregister: lambda: m.Unregister(request_id=rid, registration_id=rid),
        m.Unregistered: lambda: m.Unregistered(request_id=rid),
        m.Invocation: lambda: m.Invocation(request_id=rid, registration_id=rid),
        m.Interrupt: lambda: m.Interrupt(request_id=rid, options={"mode": "kill"}),
        m.Yield: lambda: m.Yield(request_id=rid),
    }
    msg: m.Message = builders[cls]()
    assert type(msg) is cls
    return msg


# --------------------------------------------------------------------------------------------
# Scripted router


@dataclass
class _OpenCall:
    procedure: str
    receive_progress: bool
    streaming: bool
    canceled: str | None = None


class ScriptedRouter:
    """The router end of one connection, scripted by the test.

    :meth:`pump` reads what the client queued and updates the router-side view: open calls,
    acknowledged publications, pending (un)subscribes and (un)registers, router-side
    subscriptions/registrations and the invocations the router has open. The reply methods build
    a message, deliver it with :meth:`deliver` and return the engine's events. Every event the
    engine produced (including those from commands, via ``take_events``) is in :attr:`events`.
    """

    def __init__(
        self,
        session: ClientSession | None = None,
        *,
        broker: Iterable[str] | None = CROSSBAR_BROKER,
        dealer: Iterable[str] | None = CROSSBAR_DEALER,
    ) -> None:
        self.session = session if session is not None else ClientSession()
        self.broker = broker
        self.dealer = dealer
        self.sent: list[m.Message] = []
        self.events: list[ev.SessionEvent] = []
        self.calls: dict[int, _OpenCall] = {}
        self.finished_calls: list[int] = []
        self.publishes: dict[int, str] = {}
        self.subscribes: dict[int, str] = {}
        self.unsubscribes: dict[int, int] = {}
        self.registers: dict[int, str] = {}
        self.unregisters: dict[int, int] = {}
        self.subscriptions: dict[int, str] = {}
        self.ended_subscriptions: list[int] = []
        self.registrations: dict[int, str] = {}
        #: invocation request ID -> (registration ID, still streaming chunks to the callee)
        self.invocations: dict[int, tuple[int, bool]] = {}
        #: finished invocation request ID -> its registration ID
        self.finished_invocations: dict[int, int] = {}
        self.hello: m.Hello | None = None
        self._next_router_id = 1000
        self._next_invocation = 1

    # -- plumbing --------------------------------------------------------------------------

    def router_id(self) -> int:
        """A fresh router-scope ID (subscriptions, registrations, publications)."""
        self._next_router_id += 1
        return self._next_router_id

    def pump(self) -> list[m.Message]:
        """Read the client's outbox and record it; also collect events from commands."""
        self.events.extend(self.session.take_events())
        out = self.session.messages_to_send()
        for msg in out:
            self._record(msg)
        self.sent.extend(out)
        return out

    def deliver(self, msg: m.Message) -> list[ev.SessionEvent]:
        """Hand ``msg`` to the engine; return (and record) the events it produced."""
        self.pump()
        events = self.session.receive_message(msg)
        self.events.extend(events)
        self.pump()
        return events

    def _record(self, msg: m.Message) -> None:
        if isinstance(msg, m.Hello):
            self.hello = msg
            self.reset_session_state()
        elif isinstance(msg, m.Publish):
            if msg.options.get("acknowledge"):
                self.publishes[msg.request_id] = msg.topic
        elif isinstance(msg, m.Subscribe):
            self.subscribes[msg.request_id] = msg.topic
        elif isinstance(msg, m.Unsubscribe):
            self.unsubscribes[msg.request_id] = msg.subscription_id
        elif isinstance(msg, m.Register):
            self.registers[msg.request_id] = msg.procedure
        elif isinstance(msg, m.Unregister):
            self.unregisters[msg.request_id] = msg.registration_id
        elif isinstance(msg, m.Call):
            call = self.calls.get(msg.request_id)
            if call is None:
                self.calls[msg.request_id] = _OpenCall(
                    msg.procedure,
                    msg.options.get("receive_progress") is True,
                    msg.options.get("progress") is True,
                )
            else:
                call.streaming = msg.options.get("progress") is True
        elif isinstance(msg, m.Cancel):
            if msg.request_id in self.calls:
                self.calls[msg.request_id].canceled = msg.options.get("mode", "kill")
        elif isinstance(msg, m.Yield):
            if not msg.options.get("progress"):
                self._finish_invocation(msg.request_id)
        elif isinstance(msg, m.Error) and msg.request_type == 68:
            self._finish_invocation(msg.request_id)

    def _finish_invocation(self, rid: int) -> None:
        open_invocation = self.invocations.pop(rid, None)
        if open_invocation is not None:
            self.finished_invocations[rid] = open_invocation[0]

    def reset_session_state(self) -> None:
        """Forget everything session-scoped (a session ended or a new HELLO arrived)."""
        for table in (
            self.calls, self.publishes, self.subscribes, self.unsubscribes, self.registers,
            self.unregisters, self.subscriptions, self.registrations, self.invocations,
        ):  # fmt: skip
            table.clear()
        self.finished_calls.clear()
        self.ended_subscriptions.clear()
        self.finished_invocations.clear()

    # -- session lifecycle -----------------------------------------------------------------

    def welcome(self, session_id: int = SESSION_ID, **details: Any) -> list[ev.SessionEvent]:
        return self.deliver(welcome(session_id, broker=self.broker, dealer=self.dealer, **details))

    def join(
        self, realm: str = REALM, authenticators: Iterable[Authenticator] = ()
    ) -> list[ev.SessionEvent]:
        """Client joins, router welcomes; returns the WELCOME's events."""
        self.session.join(realm, list(authenticators))
        return self.welcome()

    def abort(self, reason: str = "wamp.close.system_shutdown", **kw: Any) -> list[ev.SessionEvent]:
        events = self.deliver(m.Abort(reason=reason, **kw))
        self.reset_session_state()
        return events

    def goodbye(self, reason: str = "wamp.close.system_shutdown") -> list[ev.SessionEvent]:
        events = self.deliver(m.Goodbye(reason=reason))
        self.reset_session_state()
        return events

    # -- replies ---------------------------------------------------------------------------

    def subscribed(self, request_id: int, subscription_id: int | None = None) -> int:
        """Answer SUBSCRIBE; the same topic gets the same subscription ID (as Crossbar does)."""
        self.pump()
        topic = self.subscribes.pop(request_id)
        if subscription_id is None:
            existing = [sid for sid, t in self.subscriptions.items() if t == topic]
            subscription_id = existing[0] if existing else self.router_id()
        self.subscriptions[subscription_id] = topic
        self.deliver(m.Subscribed(request_id=request_id, subscription_id=subscription_id))
        return subscription_id

    def unsubscribed(self, request_id: int) -> list[ev.SessionEvent]:
        self.pump()
        sid = self.unsubscribes.pop(request_id)
        if self.subscriptions.pop(sid, None) is not None:
            self.ended_subscriptions.append(sid)
        return self.deliver(m.Unsubscribed(request_id=request_id))

    def registered(self, request_id: int, registration_id: int | None = None) -> int:
        self.pump()
        procedure = self.registers.pop(request_id)
        if registration_id is None:
            registration_id = self.router_id()
        self.registrations[registration_id] = procedure
        self.deliver(m.Registered(request_id=request_id, registration_id=registration_id))
        return registration_id

    def unregistered(self, request_id: int) -> list[ev.SessionEvent]:
        self.pump()
        reg = self.unregisters.pop(request_id)
        self.registrations.pop(reg, None)
        return self.deliver(m.Unregistered(request_id=request_id))

    def published(self, request_id: int, publication_id: int | None = None) -> int:
        self.pump()
        self.publishes.pop(request_id)
        pid = publication_id if publication_id is not None else self.router_id()
        self.deliver(m.Published(request_id=request_id, publication_id=pid))
        return pid

    def result(
        self,
        request_id: int,
        args: list[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> list[ev.SessionEvent]:
        self.pump()
        d = dict(details or {})
        if progress:
            d["progress"] = True
        else:
            self.calls.pop(request_id, None)
            self.finished_calls.append(request_id)
        return self.deliver(m.Result(request_id=request_id, details=d, args=args, kwargs=kwargs))

    def error(
        self,
        request_type: int,
        request_id: int,
        error: str = "com.example.error",
        args: list[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> list[ev.SessionEvent]:
        tables: dict[int, dict[int, Any]] = {
            16: self.publishes, 32: self.subscribes, 34: self.unsubscribes, 48: self.calls,
            64: self.registers, 66: self.unregisters,
        }  # fmt: skip
        self.pump()
        if request_type in tables:
            tables[request_type].pop(request_id, None)
        if request_type == 48:
            self.finished_calls.append(request_id)
        return self.deliver(
            m.Error(
                request_type=request_type,
                request_id=request_id,
                error=error,
                args=args,
                kwargs=kwargs,
            )
        )

    def event(
        self,
        subscription_id: int,
        args: list[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        publication_id: int | None = None,
    ) -> list[ev.SessionEvent]:
        pid = publication_id if publication_id is not None else self.router_id()
        return self.deliver(
            m.Event(
                subscription_id=subscription_id,
                publication_id=pid,
                details=details,
                args=args,
                kwargs=kwargs,
            )
        )

    def invoke(
        self,
        registration_id: int,
        args: list[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        request_id: int | None = None,
    ) -> tuple[int, list[ev.SessionEvent]]:
        """Send INVOCATION (a new one unless ``request_id`` names an open one)."""
        if request_id is None:
            request_id = self._next_invocation
            self._next_invocation += 1
        d = dict(details or {})
        self.invocations[request_id] = (registration_id, d.get("progress") is True)
        msg = m.Invocation(
            request_id=request_id, registration_id=registration_id, details=d, args=args,
            kwargs=kwargs,
        )  # fmt: skip
        return request_id, self.deliver(msg)

    def interrupt(
        self, request_id: int, mode: str = "kill", reason: str | None = None
    ) -> list[ev.SessionEvent]:
        options: dict[str, Any] = {"mode": mode}
        if reason is not None:
            options["reason"] = reason
        if mode == "killnowait":
            self._finish_invocation(request_id)
        return self.deliver(m.Interrupt(request_id=request_id, options=options))

    def revoke_subscription(self, subscription_id: int, reason: str | None = None) -> Any:
        self.subscriptions.pop(subscription_id, None)
        self.ended_subscriptions.append(subscription_id)
        details: dict[str, Any] = {"subscription": subscription_id}
        if reason is not None:
            details["reason"] = reason
        return self.deliver(m.Unsubscribed(request_id=0, details=details))

    def revoke_registration(self, registration_id: int, reason: str | None = None) -> Any:
        self.registrations.pop(registration_id, None)
        details: dict[str, Any] = {"registration": registration_id}
        if reason is not None:
            details["reason"] = reason
        return self.deliver(m.Unregistered(request_id=0, details=details))

    # -- queries ---------------------------------------------------------------------------

    def sent_lists(self) -> list[list[Any]]:
        """Everything the client sent so far, as WAMP arrays (drains the outbox first)."""
        self.pump()
        return [msg.to_list() for msg in self.sent]

    def take_sent(self) -> list[list[Any]]:
        """What the client sent since the last call (as WAMP arrays)."""
        self.pump()
        out, self.sent = self.sent, []
        return [msg.to_list() for msg in out]
