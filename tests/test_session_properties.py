"""Stateful property test: the session engine against a scripted router doing random things.

The client issues random commands; the router answers in random order (results, errors,
progressive results, events, invocations, interrupts, revocations), says GOODBYE or ABORT, the
connection drops, and illegal messages are injected. After every step:

* every request ID a command returned is either still pending or ended with exactly one terminal
  event (CallSucceeded, RequestFailed, Published, Subscribed, Unsubscribed, Registered,
  Unregistered); never two; none is pending once the session is over;
* ``receive_message`` never raised (any exception fails the test);
* request IDs run 1, 2, 3... within a session;
* nothing happens after FAILED; a violation queues exactly one ABORT.

``test_any_message_in_any_state`` feeds random valid messages (``wamp_core.testing.messages()``)
to a session in each state and checks the reaction against :data:`TRANSITIONS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from session_helpers import (
    CROSSBAR_BROKER,
    CROSSBAR_DEALER,
    FULL_BROKER,
    FULL_DEALER,
    REALM,
    ScriptedRouter,
    make_session,
    minimal_message,
)
from wamp_core import (
    TRANSITIONS,
    ApplicationError,
    CallOptions,
    ClientSession,
    CloseDetails,
    LocalProtocolError,
    PublishOptions,
    SessionClosed,
    SessionState,
    events as ev,
    messages as m,
)
from wamp_core.auth import TicketAuthenticator
from wamp_core.messages import MESSAGE_CLASSES
from wamp_core.testing import messages

S = SessionState
ALL_CLASSES = sorted(MESSAGE_CLASSES.values(), key=lambda c: c.MESSAGE_TYPE)
PROFILES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "crossbar": (CROSSBAR_BROKER, CROSSBAR_DEALER),
    "full": (FULL_BROKER, FULL_DEALER),
    "bare": (frozenset(), frozenset()),
}
TOPICS = ["com.example.t1", "com.example.t2"]
PROCEDURES = ["com.example.p1", "com.example.p2", "com.example.p3"]
TERMINAL: dict[type[ev.SessionEvent], ev.RequestKind | None] = {
    ev.CallSucceeded: "call",
    ev.RequestFailed: None,  # any kind
    ev.Published: "publish",
    ev.Subscribed: "subscribe",
    ev.Unsubscribed: "unsubscribe",
    ev.Registered: "register",
    ev.Unregistered: "unregister",
}
LIVE = (S.ESTABLISHED, S.SHUTTING_DOWN)

index = st.integers(min_value=0, max_value=1000)


def pick(items: Any, i: int) -> Any:
    seq = sorted(items)
    return seq[i % len(seq)]


def pick_cls(classes: list[type[m.Message]], i: int) -> type[m.Message]:
    return classes[i % len(classes)]


class Action:
    """One thing that can happen next: enabled by ``when``, drawn ``weight`` times as often."""

    __slots__ = ("args", "name", "weight", "when")

    def __init__(
        self,
        name: str,
        when: Callable[[SessionMachine], object],
        weight: int = 3,
        args: Mapping[str, st.SearchStrategy[Any]] | None = None,
    ) -> None:
        self.name = name
        self.when = when
        self.weight = weight
        self.args = args or {}

    def __repr__(self) -> str:
        return self.name


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = ScriptedRouter()
        self.broker: frozenset[str] = frozenset()
        self.dealer: frozenset[str] = frozenset()
        self.use_ticket = False
        self.epoch = 0
        self.last_id = 0
        #: (epoch, request ID) -> kind, for every request a command returned
        self.issued: dict[tuple[int, int], ev.RequestKind] = {}
        self.unacked: set[tuple[int, int]] = set()
        self.terminal: Counter[tuple[int, int]] = Counter()
        self.seen = 0
        self.was_failed = False
        #: calls canceled in the current session (only those may see a late second answer)
        self.canceled: set[int] = set()

    # -- helpers ---------------------------------------------------------------------------

    @property
    def session(self) -> ClientSession:
        return self.router.session

    @property
    def state(self) -> SessionState:
        return self.router.session.state

    def new_router(self) -> None:
        self.router = ScriptedRouter(broker=self.broker, dealer=self.dealer)
        self.seen = 0
        self.was_failed = False

    def issue(self, rid: int, kind: ev.RequestKind, *, acknowledged: bool = True) -> None:
        assert rid == self.last_id + 1, "request IDs must run 1, 2, 3... within a session"
        self.last_id = rid
        key = (self.epoch, rid)
        assert key not in self.issued
        if acknowledged:
            assert self.session.pending_requests.get(rid) == kind
            self.issued[key] = kind
        else:
            assert rid not in self.session.pending_requests
            self.unacked.add(key)

    def sync(self) -> None:
        """Collect the outbox and all events; account every event."""
        self.router.pump()
        events = self.router.events[self.seen :]
        self.seen = len(self.router.events)
        if self.was_failed:
            assert events == [], "nothing may happen after FAILED"
        self.was_failed = self.state is S.FAILED
        pending = self.session.pending_requests
        for rid in sorted(pending):
            key = (self.epoch, rid)
            if key not in self.issued:
                # Sent by the session on its own: an UNSUBSCRIBE that waited for the answers
                # to SUBSCRIBEs to its topic (ClientSession.unsubscribe).
                self.issue(rid, "unsubscribe")
        for event in events:
            if type(event) in TERMINAL:
                rid = event.request_id  # type: ignore[attr-defined]
                key = (self.epoch, rid)
                assert key in self.issued, f"terminal event for unknown request {rid}: {event}"
                expected = TERMINAL[type(event)]
                kind = event.kind if isinstance(event, ev.RequestFailed) else expected
                assert kind == self.issued[key]
                self.terminal[key] += 1
                assert self.terminal[key] == 1, f"two terminal events for request {rid}"
            elif isinstance(event, ev.CallProgress):
                key = (self.epoch, event.request_id)
                assert self.issued.get(key) == "call"
                assert self.terminal[key] == 0
                assert event.request_id in pending

    def deliver(self, msg: m.Message) -> list[ev.SessionEvent]:
        return self.router.deliver(msg)  # must never raise

    # -- setup -----------------------------------------------------------------------------

    @initialize(profile=st.sampled_from(sorted(PROFILES)), ticket=st.booleans())
    def setup(self, profile: str, ticket: bool) -> None:
        self.broker, self.dealer = PROFILES[profile]
        self.use_ticket = ticket
        self.new_router()

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """Draw one enabled action (client command, router message, failure) and run it."""
        calm = [a for a in ACTIONS if a.when(self) for _ in range(a.weight)]
        disrupt = [a for a in DISRUPTIONS if a.when(self)]
        roll = data.draw(st.integers(0, DISRUPT_ONE_IN - 1), label="roll") if disrupt else 0
        pool = disrupt if roll == 1 or not calm else calm
        action = data.draw(st.sampled_from(pool), label="action")
        kwargs = {name: data.draw(strategy, label=name) for name, strategy in action.args.items()}
        getattr(self, action.name)(**kwargs)

    # -- lifecycle -------------------------------------------------------------------------

    def join(self) -> None:
        auths = [TicketAuthenticator("t", "joe")] if self.use_ticket else []
        self.session.join(REALM, auths)
        self.epoch += 1
        self.last_id = 0
        self.canceled = set()
        assert self.state is S.ESTABLISHING
        self.sync()

    def challenge(self) -> None:
        assert self.deliver(m.Challenge(method="ticket", extra={})) == [
            ev.ChallengeAnswered("ticket")
        ]
        assert self.router.sent[-1] == m.Authenticate(signature="t", extra={})
        assert self.state is S.CHALLENGING
        self.sync()

    def welcome(self) -> None:
        events = self.router.welcome(authmethod="ticket" if self.use_ticket else "anonymous")
        assert [type(e) for e in events] == [ev.Joined]
        assert self.state is S.ESTABLISHED
        self.sync()

    def router_aborts(self) -> None:
        events = self.router.abort("wamp.close.system_shutdown")
        assert isinstance(events[-1], ev.Aborted)
        assert not events[-1].details.local
        assert self.state is S.CLOSED
        self.sync()

    def router_says_goodbye(self) -> None:
        events = self.router.goodbye()
        assert events[-1] == ev.Left(CloseDetails("wamp.close.system_shutdown"))
        assert self.router.sent[-1] == m.Goodbye(reason="wamp.close.goodbye_and_out")
        assert self.state is S.CLOSED
        self.sync()

    def leave(self) -> None:
        self.session.leave()
        assert self.state is S.SHUTTING_DOWN
        self.sync()
        assert self.router.sent[-1] == m.Goodbye(reason="wamp.close.normal")

    def goodbye_reply(self) -> None:
        events = self.router.goodbye("wamp.close.goodbye_and_out")
        assert events[-1] == ev.Left(CloseDetails("wamp.close.normal", local=True))
        assert self.state is S.CLOSED
        self.sync()

    def connection_lost(self) -> None:
        before = self.state
        self.router.events.extend(self.session.connection_lost())
        assert self.state is (S.FAILED if before is S.FAILED else S.CLOSED)
        self.sync()
        assert self.session.messages_to_send() == []

    def reconnect(self) -> None:
        """A new connection with a new session object."""
        assert self.session.pending_requests == {}
        self.new_router()

    def command_refused(self, name: str) -> None:
        if name == "join" and self.state is S.CLOSED and not self.session._transport_gone:
            return
        commands: dict[str, Any] = {
            "call": lambda: self.session.call(PROCEDURES[0]),
            "publish": lambda: self.session.publish(TOPICS[0]),
            "subscribe": lambda: self.session.subscribe(TOPICS[0]),
            "register": lambda: self.session.register(PROCEDURES[0]),
            "leave": self.session.leave,
            "join": lambda: self.session.join(REALM),
        }
        busy = (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN)
        expected = LocalProtocolError if name == "join" and self.state in busy else SessionClosed
        with pytest.raises(expected):
            commands[name]()
        assert self.session.messages_to_send() == []

    # -- client commands -------------------------------------------------------------------

    def call(self, i: int, receive_progress: bool, stream: bool, timeout: float | None) -> None:
        stream = stream and "progressive_call_invocations" in self.dealer
        options = CallOptions(receive_progress=receive_progress, timeout=timeout)
        rid = self.session.call(pick(PROCEDURES, i), [i], options=options, progress=stream)
        self.issue(rid, "call")
        self.sync()
        sent = self.router.sent[-1]
        assert isinstance(sent, m.Call)
        assert ("timeout" in sent.options) == (
            timeout is not None and "call_timeout" in self.dealer
        )

    def _streaming_calls(self) -> list[int]:
        pending = self.session.pending_requests
        return [rid for rid, c in self.router.calls.items() if c.streaming and rid in pending]

    def call_progress(self, i: int, final: bool) -> None:
        rid = pick(self._streaming_calls(), i)
        self.session.call_progress(rid, ["chunk"], final=final)
        self.sync()
        assert self.router.sent[-1].request_id == rid  # type: ignore[attr-defined]

    def _late_candidates(self) -> list[int]:
        return [rid for rid in self.router.finished_calls if rid in self.canceled]

    def _pending_calls(self) -> list[int]:
        return [rid for rid, k in self.session.pending_requests.items() if k == "call"]

    def cancel(self, i: int, mode: str) -> None:
        rid = pick(self._pending_calls(), i)
        sent = self.session.cancel(rid, mode)
        assert sent == ("call_canceling" in self.dealer)
        self.canceled.add(rid)
        self.sync()

    def publish(self, i: int, acknowledge: bool) -> None:
        rid = self.session.publish(
            pick(TOPICS, i), [i], options=PublishOptions(acknowledge=acknowledge)
        )
        self.issue(rid, "publish", acknowledged=acknowledge)
        self.sync()

    def subscribe(self, i: int) -> None:
        self.issue(self.session.subscribe(pick(TOPICS, i)), "subscribe")
        self.sync()

    def unsubscribe(self, i: int) -> None:
        sid = pick(self.session.subscriptions, i)
        try:
            rid = self.session.unsubscribe(sid)
        except LocalProtocolError:
            return  # already being removed
        if rid is not None:
            self.issue(rid, "unsubscribe")
        self.sync()

    def register(self, i: int) -> None:
        self.issue(self.session.register(pick(PROCEDURES, i)), "register")
        self.sync()

    def unregister(self, i: int) -> None:
        self.issue(self.session.unregister(pick(self.session.registrations, i)), "unregister")
        self.sync()

    def answer_invocation(self, i: int, how: str) -> None:
        rid = pick(self.session.open_invocations, i)
        if how == "error":
            assert self.session.yield_error(rid, ApplicationError.CANCELED) is True
        else:
            try:
                assert self.session.yield_result(rid, [i], progress=how == "progress") is True
            except LocalProtocolError:
                assert how == "progress"  # the caller did not ask for progressive results
        self.sync()

    # -- router replies --------------------------------------------------------------------

    def reply_subscribe(self, i: int, ok: bool) -> None:
        rid = pick(self.router.subscribes, i)
        if ok:
            self.router.subscribed(rid)
        else:
            self.router.error(32, rid, "wamp.error.not_authorized")
        self.sync()

    def reply_unsubscribe(self, i: int, ok: bool) -> None:
        rid = pick(self.router.unsubscribes, i)
        if ok and self.router.unsubscribes[rid] in self.router.subscriptions:
            self.router.unsubscribed(rid)
        else:
            self.router.error(34, rid, "wamp.error.no_such_subscription")
        self.sync()

    def reply_register(self, i: int, ok: bool) -> None:
        rid = pick(self.router.registers, i)
        taken = self.router.registers[rid] in self.router.registrations.values()
        if ok and not taken:
            self.router.registered(rid)
        else:
            self.router.error(64, rid, "wamp.error.procedure_already_exists")
        self.sync()

    def reply_unregister(self, i: int, ok: bool) -> None:
        rid = pick(self.router.unregisters, i)
        if ok and self.router.unregisters[rid] in self.router.registrations:
            self.router.unregistered(rid)
        else:
            self.router.error(66, rid, "wamp.error.no_such_registration")
        self.sync()

    def reply_publish(self, i: int, ok: bool) -> None:
        rid = pick(self.router.publishes, i)
        if ok:
            self.router.published(rid)
        else:
            self.router.error(16, rid, "wamp.error.not_authorized")
        self.sync()

    def reply_call(self, i: int, how: str) -> None:
        rid = pick(self.router.calls, i)
        call = self.router.calls[rid]
        if call.canceled in ("skip", "killnowait"):
            how = "canceled"
        if how == "progress" and call.receive_progress:
            deliverable = rid in self.session.pending_requests and not call.canceled
            events = self.router.result(rid, ["p"], progress=True)
            if self.state is S.ESTABLISHED:
                expected = [ev.CallProgress] if deliverable else []
                assert [type(e) for e in events] == expected
        elif how in ("error", "canceled"):
            error = ApplicationError.CANCELED if how == "canceled" else "com.example.error"
            self.router.error(48, rid, error)
        else:
            self.router.result(rid, ["done"])
        self.sync()

    def late_call_reply(self, i: int, how: str) -> None:
        """RESULT/ERROR for a canceled call that already ended: dropped."""
        rid = pick(self._late_candidates(), i)
        if how == "error":
            msg: m.Message = m.Error(
                request_type=48, request_id=rid, error=ApplicationError.CANCELED
            )
        else:
            msg = m.Result(request_id=rid, details={"progress": how == "progress"})
        assert self.deliver(msg) == []
        assert self.state is S.ESTABLISHED
        self.sync()

    def send_event(self, i: int) -> None:
        sid = pick(self.router.subscriptions, i)
        events = self.router.event(sid, [i], details={"publisher": 5})
        if self.state is S.ESTABLISHED:
            assert [type(e) for e in events] == [ev.EventDelivered]
        self.sync()

    def late_event(self, i: int) -> None:
        sid = pick(self.router.ended_subscriptions, i)
        self.router.event(sid)
        assert self.state is S.ESTABLISHED  # dropped (or still delivered): never fatal
        self.sync()

    def invoke(self, i: int, receive_progress: bool, stream: bool) -> None:
        reg = pick(self.router.registrations, i)
        details = {"receive_progress": receive_progress, "caller": 99}
        if stream and "progressive_call_invocations" in self.dealer:
            details["progress"] = True
        _, events = self.router.invoke(reg, [i], details=details)
        if self.state is S.ESTABLISHED:
            assert [type(e) for e in events] == [ev.InvocationReceived]
        self.sync()

    def _streaming_invocations(self) -> list[int]:
        return [rid for rid, (_, more) in self.router.invocations.items() if more]

    def continue_invocation(self, i: int, more: bool) -> None:
        rid = pick(self._streaming_invocations(), i)
        reg = self.router.invocations[rid][0]
        _, events = self.router.invoke(reg, ["chunk"], details={"progress": more}, request_id=rid)
        if self.state is S.ESTABLISHED:
            (event,) = events
            assert isinstance(event, ev.InvocationReceived)
            assert event.continuation
        self.sync()

    def late_continuation(self, i: int) -> None:
        rid = pick(self.router.finished_invocations, i)
        reg = self.router.finished_invocations[rid]
        msg = m.Invocation(request_id=rid, registration_id=reg, details={"progress": True})
        assert self.deliver(msg) == []
        assert self.state is S.ESTABLISHED
        self.sync()

    def interrupt(self, i: int, mode: str) -> None:
        rid = pick(self.router.invocations, i)
        events = self.router.interrupt(rid, mode)
        if self.state is S.ESTABLISHED:
            assert events == [ev.InterruptReceived(rid, mode)]
            assert rid not in self.session.open_invocations  # kill is answered by the engine
        self.sync()

    def late_interrupt(self, i: int) -> None:
        rid = pick(self.router.finished_invocations, i)
        assert self.deliver(m.Interrupt(request_id=rid, options={"mode": "kill"})) == []
        self.sync()

    def revoke_subscription(self, i: int) -> None:
        sid = pick(self.router.subscriptions, i)
        events = self.router.revoke_subscription(sid, "wamp.error.not_authorized")
        if self.state is S.ESTABLISHED:
            assert events == [ev.SubscriptionRevoked(sid, "wamp.error.not_authorized")]
            assert sid not in self.session.subscriptions
        self.sync()

    def revoke_registration(self, i: int) -> None:
        reg = pick(self.router.registrations, i)
        events = self.router.revoke_registration(reg)
        if self.state is S.ESTABLISHED:
            assert events == [ev.RegistrationRevoked(reg, None)]
        self.sync()

    # -- illegal injections ----------------------------------------------------------------

    def inject_illegal(self, i: int) -> None:
        state = self.state
        cls = pick_cls([cls for cls in ALL_CLASSES if (state, cls) not in TRANSITIONS], i)
        self.router.pump()
        had_session = self.router.hello is not None
        before = len(self.router.sent)
        events = self.deliver(minimal_message(cls, request_id=10**9))
        aborts = [msg for msg in self.router.sent[before:] if isinstance(msg, m.Abort)]
        if state is S.SHUTTING_DOWN:
            assert events == []
            assert self.state is S.SHUTTING_DOWN
        else:
            self._check_violation(events, aborts, had_session)
        self.sync()

    def inject_bad_reply(self, which: str) -> None:
        """A legal message type that refers to something unknown."""
        unknown = self.last_id + 10**6
        messages: dict[str, m.Message] = {
            "result": m.Result(request_id=unknown),
            "error": m.Error(request_type=64, request_id=unknown, error="a.b"),
            "published": m.Published(request_id=unknown, publication_id=1),
            "subscribed": m.Subscribed(request_id=unknown, subscription_id=1),
            "event": m.Event(subscription_id=unknown, publication_id=1),
            "invocation": m.Invocation(request_id=unknown, registration_id=unknown),
            "revoke": m.Unregistered(request_id=0, details={"registration": unknown}),
        }
        self.router.pump()
        before = len(self.router.sent)
        events = self.deliver(messages[which])
        aborts = [msg for msg in self.router.sent[before:] if isinstance(msg, m.Abort)]
        self._check_violation(events, aborts, True)
        self.sync()

    def _check_violation(
        self, events: list[ev.SessionEvent], aborts: list[m.Abort], had_session: bool
    ) -> None:
        assert self.state is S.FAILED
        assert len(aborts) == (1 if had_session else 0)
        if aborts:
            assert aborts[0].reason == "wamp.error.protocol_violation"
            assert self.router.sent[-1] is aborts[0]
        last = events[-1]
        assert isinstance(last, ev.Aborted)
        assert last.details.local
        assert self.session.pending_requests == {}

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def every_request_ends_exactly_once(self) -> None:
        pending = self.session.pending_requests
        for key, kind in self.issued.items():
            count = self.terminal[key]
            assert count <= 1
            if key[0] == self.epoch and key[1] in pending:
                assert count == 0
                assert pending[key[1]] == kind
            else:
                assert count == 1, f"request {key} is neither pending nor ended"
        for rid in pending:
            assert (self.epoch, rid) in self.issued
        for key in self.unacked:
            assert self.terminal[key] == 0
        if self.state not in LIVE:
            assert pending == {}

    @invariant()
    def bookkeeping_matches_the_router(self) -> None:
        if self.state is not S.ESTABLISHED:
            return
        session = self.session
        assert set(session.subscriptions) >= set(self.router.subscriptions)
        assert set(session.registrations) == set(self.router.registrations)
        assert session.open_invocations == set(self.router.invocations)
        assert session.messages_to_send() == []  # sync() drained everything


def _transport_ok(s: SessionMachine) -> bool:
    return not s.session._transport_gone


def _established(s: SessionMachine) -> bool:
    return s.state is S.ESTABLISHED


def _live(s: SessionMachine) -> bool:
    return s.state in LIVE


def _joining(s: SessionMachine) -> bool:
    return s.state in (S.ESTABLISHING, S.CHALLENGING)


ANSWER = st.sampled_from(["result", "progress", "error"])
OK = st.booleans()
ACTIONS: list[Action] = [
    # order matters: hypothesis favours early entries
    Action(
        "late_call_reply",
        lambda s: _established(s) and s._late_candidates(),
        1,
        {"i": index, "how": ANSWER},
    ),
    Action(
        "cancel",
        lambda s: _established(s) and s._pending_calls(),
        2,
        {"i": index, "mode": st.sampled_from(["skip", "kill", "killnowait"])},
    ),
    Action(
        "invoke",
        lambda s: _live(s) and s.router.registrations,
        6,
        {"i": index, "receive_progress": st.booleans(), "stream": st.booleans()},
    ),
    Action(
        "answer_invocation",
        lambda s: _established(s) and s.session.open_invocations,
        6,
        {"i": index, "how": ANSWER},
    ),
    Action(
        "interrupt",
        lambda s: _live(s) and s.router.invocations,
        3,
        {"i": index, "mode": st.sampled_from(["kill", "killnowait"])},
    ),
    Action(
        "continue_invocation",
        lambda s: _live(s) and s._streaming_invocations(),
        4,
        args={"i": index, "more": st.booleans()},
    ),
    Action(
        "late_continuation",
        lambda s: _established(s) and s.router.finished_invocations,
        2,
        {"i": index},
    ),
    Action(
        "late_interrupt",
        lambda s: _established(s) and s.router.finished_invocations,
        2,
        {"i": index},
    ),
    Action("reply_register", lambda s: _live(s) and s.router.registers, 3, {"i": index, "ok": OK}),
    Action("register", _established, 2, args={"i": index}),
    Action("welcome", _joining, 6),
    Action("join", lambda s: s.state is S.CLOSED and _transport_ok(s), 6),
    Action(
        "reply_unsubscribe", lambda s: _live(s) and s.router.unsubscribes, 6, {"i": index, "ok": OK}
    ),
    Action(
        "reply_unregister", lambda s: _live(s) and s.router.unregisters, 6, {"i": index, "ok": OK}
    ),
    Action(
        "late_event", lambda s: _established(s) and s.router.ended_subscriptions, 3, {"i": index}
    ),
    Action("unsubscribe", lambda s: _established(s) and s.session.subscriptions, 5, {"i": index}),
    Action("unregister", lambda s: _established(s) and s.session.registrations, 3, {"i": index}),
    Action(
        "reply_subscribe", lambda s: _live(s) and s.router.subscribes, 4, {"i": index, "ok": OK}
    ),
    Action("subscribe", _established, 4, args={"i": index}),
    Action("send_event", lambda s: _live(s) and s.router.subscriptions, 4, args={"i": index}),
    Action("reply_call", lambda s: _live(s) and s.router.calls, 4, {"i": index, "how": ANSWER}),
    Action(
        "call",
        _established,
        3,
        {
            "i": index,
            "receive_progress": st.booleans(),
            "stream": st.booleans(),
            "timeout": st.none() | st.floats(0.001, 100),
        },
    ),
    Action(
        "call_progress",
        lambda s: _established(s) and s._streaming_calls(),
        args={"i": index, "final": st.booleans()},
    ),
    Action("reply_publish", lambda s: _live(s) and s.router.publishes, 4, {"i": index, "ok": OK}),
    Action("publish", _established, args={"i": index, "acknowledge": st.booleans()}),
    Action("revoke_subscription", lambda s: _live(s) and s.router.subscriptions, 1, {"i": index}),
    Action("revoke_registration", lambda s: _live(s) and s.router.registrations, 2, {"i": index}),
    Action("challenge", lambda s: _joining(s) and s.use_ticket),
    Action("goodbye_reply", lambda s: s.state is S.SHUTTING_DOWN),
    Action("reconnect", lambda s: s.state is S.FAILED or not _transport_ok(s), 6),
]


#: Session-ending events (and refused-command checks), drawn about once in DISRUPT_ONE_IN steps.
DISRUPT_ONE_IN = 10
DISRUPTIONS: list[Action] = [
    Action("leave", _established, 1),
    Action("router_says_goodbye", _established, 1),
    Action(
        "command_refused",
        lambda s: s.state is not S.ESTABLISHED,
        1,
        {"name": st.sampled_from(["call", "publish", "subscribe", "register", "leave", "join"])},
    ),
    Action("router_aborts", lambda s: _joining(s) or _live(s), 1),
    Action("connection_lost", _transport_ok, 1),
    Action(
        "inject_bad_reply",
        _established,
        1,
        {
            "which": st.sampled_from(
                ["result", "error", "published", "subscribed", "event", "invocation", "revoke"]
            )
        },
    ),
    Action(
        "inject_illegal", lambda s: s.state is not S.FAILED and _transport_ok(s), 1, {"i": index}
    ),
]

TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ============================================================================================
# Any valid message, in any state


@pytest.mark.parametrize("state", list(SessionState), ids=lambda s: s.value)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=messages())
def test_any_message_in_any_state(state: SessionState, msg: m.Message) -> None:
    """Whatever valid message arrives, the engine reacts per the table and never raises."""
    session, _ = make_session(state, after_session=True)
    before = session.pending_requests
    events = session.receive_message(msg)
    out = session.messages_to_send()
    aborts = [o for o in out if isinstance(o, m.Abort)]
    legal = (state, type(msg)) in TRANSITIONS
    if state is S.FAILED or (state is S.SHUTTING_DOWN and not legal):
        assert (events, out, session.state) == ([], [], state)
    elif not legal:
        assert session.state is S.FAILED
        assert [a.reason for a in aborts] == ["wamp.error.protocol_violation"]
    elif session.state is S.FAILED:  # legal type, but its content did not fit
        assert [a.reason for a in aborts] == ["wamp.error.protocol_violation"]
        assert out[-1] is aborts[0]
    elif isinstance(msg, m.Challenge) and msg.method != "ticket":  # not the method offered
        assert session.state is S.CLOSED  # a join that cannot succeed: given up, no violation
        assert [a.reason for a in aborts] == ["wamp.error.cannot_authenticate"]
    else:
        assert session.state is TRANSITIONS[state, type(msg)]
        assert aborts == []
    # every pending request: still pending, or ended by exactly one event
    ended = Counter(
        e.request_id  # type: ignore[attr-defined]
        for e in events
        if type(e) in TERMINAL
    )
    assert set(ended) <= set(before)
    for rid in before:
        assert ended[rid] == (0 if rid in session.pending_requests else 1)
