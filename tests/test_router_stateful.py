"""Hypothesis drives many sessions through the router engine at random (seeded RNG, no clock)
and checks the invariants after every step:

* every CALL gets at most one terminal answer (RESULT without progress, or ERROR), and exactly
  one once it is settled (answered by the callee, canceled with skip/killnowait, callee gone);
* nothing is sent to a session after it ended;
* an ended session leaves nothing behind (subscriptions, registrations, calls, invocations);
* an EVENT reaches exactly the sessions subscribed to the topic (exclude_me honoured), in
  publication order per subscriber;
* the engine never raises.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import wamp_core as wc
from wamp_core import messages as m

ROLES = {
    "caller": {"features": {"progressive_call_results": True, "call_canceling": True}},
    "callee": {"features": {"progressive_call_results": True, "call_canceling": True}},
    "publisher": {"features": {}},
    "subscriber": {"features": {}},
}
TOPICS = ("t.a", "t.b")
PROCEDURES = ("p.a", "p.b")
N = 4


class Peer:
    def __init__(self, router: wc.Router) -> None:
        self.inbox: list[m.Message] = []
        self.ended = False
        self.late: list[m.Message] = []
        self.session = router.open_session(self._receive, self._close)
        self.next_request = 0
        #: Invocations this peer (as callee) has not answered yet.
        self.pending: list[int] = []

    def _receive(self, message: m.Message) -> None:
        (self.late if self.ended else self.inbox).append(message)

    def _close(self) -> None:
        self.ended = True

    def rid(self) -> int:
        self.next_request += 1
        return self.next_request


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = wc.Router(["realm1"], rng=random.Random(0))
        self.peers: list[Peer] = []
        for _ in range(N):
            self._new_peer()
        #: (caller index, request) -> number of terminal answers seen; settled calls
        self.answers: dict[tuple[int, int], int] = {}
        self.settled: set[tuple[int, int]] = set()
        self.subscribed: dict[int, set[str]] = {}  # peer -> topics (exact)
        self.subscription_ids: dict[tuple[int, str], int] = {}
        self.registered: dict[str, int] = {}  # procedure -> callee peer
        self.expected_events: dict[int, list[int]] = {}  # peer -> publication marks, in order
        self.seen_events: dict[int, list[int]] = {}
        self.targets: dict[tuple[int, int], int] = {}  # call -> callee peer
        self.mark = 0

    def _new_peer(self) -> None:
        peer = Peer(self.router)
        peer.session.receive(m.Hello(realm="realm1", details={"roles": ROLES}))
        self.peers.append(peer)

    def _live(self, i: int) -> bool:
        return not self.peers[i].ended

    def _drain(self) -> None:
        """Route what every peer received into the bookkeeping."""
        for i, peer in enumerate(self.peers):
            for message in peer.inbox:
                if isinstance(message, m.Invocation):
                    peer.pending.append(message.request_id)
                elif isinstance(message, m.Interrupt) and message.options.get("mode") != "kill":
                    if message.request_id in peer.pending:
                        peer.pending.remove(message.request_id)
                elif (isinstance(message, m.Result) and not message.details.get("progress")) or (
                    isinstance(message, m.Error) and message.request_type == m.Call.MESSAGE_TYPE
                ):
                    self._answered(i, message.request_id)
                elif isinstance(message, m.Event):
                    assert message.args is not None
                    self.seen_events.setdefault(i, []).append(message.args[0])
            peer.inbox.clear()

    def _answered(self, i: int, request: int) -> None:
        key = (i, request)
        self.answers[key] = self.answers.get(key, 0) + 1
        self.settled.add(key)

    # ----------------------------------------------------------------------------------------

    @rule(i=st.integers(0, N - 1), topic=st.sampled_from(TOPICS))
    def subscribe(self, i: int, topic: str) -> None:
        peer = self.peers[i]
        peer.session.receive(m.Subscribe(request_id=peer.rid(), topic=topic))
        if self._live(i):
            self.subscribed.setdefault(i, set()).add(topic)
            reply = peer.inbox[-1]
            assert isinstance(reply, m.Subscribed)
            self.subscription_ids[i, topic] = reply.subscription_id
        self._drain()

    @rule(i=st.integers(0, N - 1), topic=st.sampled_from(TOPICS))
    def unsubscribe(self, i: int, topic: str) -> None:
        sid = self.subscription_ids.pop((i, topic), None)
        if sid is None or not self._live(i):
            return
        peer = self.peers[i]
        peer.session.receive(m.Unsubscribe(request_id=peer.rid(), subscription_id=sid))
        assert isinstance(peer.inbox[-1], m.Unsubscribed)
        self.subscribed[i].discard(topic)
        self._drain()

    @rule(i=st.integers(0, N - 1), topic=st.sampled_from(TOPICS), exclude_me=st.booleans())
    def publish(self, i: int, topic: str, exclude_me: bool) -> None:
        if not self._live(i):
            return
        self.mark += 1
        for j, topics in self.subscribed.items():
            if topic in topics and self._live(j) and not (exclude_me and j == i):
                self.expected_events.setdefault(j, []).append(self.mark)
        self.peers[i].session.receive(
            m.Publish(request_id=self.peers[i].rid(), topic=topic, args=[self.mark],
                      options={"exclude_me": exclude_me})
        )  # fmt: skip
        self._drain()

    @rule(i=st.integers(0, N - 1), procedure=st.sampled_from(PROCEDURES))
    def register(self, i: int, procedure: str) -> None:
        if procedure in self.registered or not self._live(i):
            return
        peer = self.peers[i]
        peer.session.receive(m.Register(request_id=peer.rid(), procedure=procedure))
        assert isinstance(peer.inbox[-1], m.Registered)
        self.registered[procedure] = i
        self._drain()

    @rule(i=st.integers(0, N - 1), procedure=st.sampled_from(PROCEDURES))
    def call(self, i: int, procedure: str) -> None:
        if not self._live(i):
            return
        peer = self.peers[i]
        request = peer.rid()
        peer.session.receive(m.Call(request_id=request, procedure=procedure,
                                    options={"receive_progress": True}))  # fmt: skip
        self.answers.setdefault((i, request), 0)
        if procedure in self.registered:
            self.targets[i, request] = self.registered[procedure]
        else:
            self.settled.add((i, request))  # no_such_procedure at once
        self._drain()

    @rule(data=st.data(), kind=st.sampled_from(["yield", "progress", "error"]))
    def answer(self, data: Any, kind: str) -> None:
        candidates = [p for p in self.peers if p.pending and not p.ended]
        if not candidates:
            return
        peer = data.draw(st.sampled_from(candidates))
        invocation = data.draw(st.sampled_from(peer.pending))
        if kind == "progress":
            peer.session.receive(m.Yield(request_id=invocation, options={"progress": True}))
        else:
            peer.pending.remove(invocation)
            if kind == "yield":
                peer.session.receive(m.Yield(request_id=invocation, args=[1]))
            else:
                peer.session.receive(m.Error(request_type=m.Invocation.MESSAGE_TYPE,
                                             request_id=invocation, error="x.failed"))  # fmt: skip
        self._drain()

    @rule(data=st.data(), mode=st.sampled_from(["skip", "kill", "killnowait"]))
    def cancel(self, data: Any, mode: str) -> None:
        open_calls = [k for k in self.answers if k not in self.settled and self._live(k[0])]
        if not open_calls:
            return
        i, request = data.draw(st.sampled_from(open_calls))
        self.peers[i].session.receive(m.Cancel(request_id=request, options={"mode": mode}))
        if mode != "kill":
            self.settled.add((i, request))
        self._drain()

    @precondition(lambda self: any(not p.ended for p in self.peers))
    @rule(data=st.data(), how=st.sampled_from(["goodbye", "lost"]))
    def leave(self, data: Any, how: str) -> None:
        i = data.draw(st.sampled_from([j for j, p in enumerate(self.peers) if not p.ended]))
        peer = self.peers[i]
        if how == "goodbye":
            peer.session.receive(m.Goodbye(details={}, reason="wamp.close.normal"))
        else:
            peer.session.end()
        self.subscribed.pop(i, None)
        for topic_key in [k for k in self.subscription_ids if k[0] == i]:
            del self.subscription_ids[topic_key]
        for procedure, callee in list(self.registered.items()):
            if callee == i:
                del self.registered[procedure]
        for call_key, callee in self.targets.items():
            if callee == i:
                self.settled.add(call_key)  # its callers get "canceled" now
        for call_key in self.answers:
            if call_key[0] == i:
                self.settled.add(call_key)  # a caller that left expects nothing more
        self._drain()
        self._new_peer()

    # ----------------------------------------------------------------------------------------

    @invariant()
    def at_most_one_answer_and_settled_calls_answered(self) -> None:
        for (i, request), count in self.answers.items():
            assert count <= 1, (i, request)
            if (i, request) in self.settled and not self.peers[i].ended:
                assert count == 1, ("settled without an answer", i, request)

    @invariant()
    def nothing_after_the_end_and_nothing_left_behind(self) -> None:
        live = {p.session.session_id for p in self.peers if not p.ended}
        for peer in self.peers:
            assert not [x for x in peer.late if not isinstance(x, (m.Abort, m.Goodbye))]
        realm = self.router.realms["realm1"]
        for sub in realm.subscriptions.values():
            assert set(sub.subscribers) <= live
        for reg in realm.registrations.values():
            assert {c.session_id for c in reg.callees} <= live
        for call in realm.calls.values():
            assert call.caller.session_id in live and call.callee.session_id in live
        assert set(self.router.sessions) == live

    @invariant()
    def events_exactly_to_subscribers_in_order(self) -> None:
        for i, expected in self.expected_events.items():
            if not self.peers[i].ended:
                assert self.seen_events.get(i, []) == expected, i


RouterMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                           deadline=None)  # fmt: skip
TestRouterMachine = RouterMachine.TestCase
