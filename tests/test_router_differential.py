"""Differential: the same scripted message sequences against Crossbar.io and the embedded router.

Each scenario drives raw peers (RawSocket + JSON, every message written by hand, no client
session in between) and records what each peer receives, reduced to what the spec fixes: the
message type, client-chosen request IDs, URIs, arguments, and the details that carry meaning
(``topic``, ``procedure``, ``progress``); router-chosen IDs become their kind (``<session>``,
``<subscription>``, ...), a dropped connection ``CLOSED``. The embedded router must produce the
spec's transcript; Crossbar.io the same, except for the deviations listed in
:data:`CROSSBAR_DEVIATIONS` (each with the spec's rule it breaks; ``docs/router.md`` lists
them for users).
"""

from __future__ import annotations

import json
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import wamp_core as wc
from crossbar import CrossbarRouter
from embedded import EmbeddedRouter
from wamp_core import events as ev, messages as m

ROLES = {
    "caller": {"features": {"progressive_call_results": True, "call_canceling": True,
                            "call_timeout": True}},
    "callee": {"features": {"progressive_call_results": True, "call_canceling": True,
                            "call_timeout": True}},
    "publisher": {"features": {"subscriber_blackwhite_listing": True,
                               "publisher_exclusion": True}},
    "subscriber": {"features": {"pattern_based_subscription": True}},
}  # fmt: skip
#: Seconds without a message after which a peer is considered to have received everything.
QUIET = 0.25
#: Router-chosen IDs, by message: positions in the message list and what they are.
ROUTER_IDS: dict[type[m.Message], dict[int, str]] = {
    m.Welcome: {1: "session"},
    m.Subscribed: {2: "subscription"},
    m.Registered: {2: "registration"},
    m.Published: {2: "publication"},
    m.Event: {1: "subscription", 2: "publication"},
    m.Invocation: {1: "invocation", 2: "registration"},
    m.Interrupt: {1: "invocation"},
}
#: The positions of details/options dicts, and the keys kept from them.
DETAILS_AT = {m.Welcome: 2, m.Event: 3, m.Invocation: 3, m.Result: 2, m.Error: 3, m.Abort: 1,
              m.Goodbye: 1, m.Interrupt: 2}  # fmt: skip
KEPT = ("topic", "procedure", "progress")


class Peer:
    """One raw RawSocket/JSON connection; records every message it receives, reduced."""

    def __init__(self, url: str, name: str) -> None:
        host, port = url.removeprefix("rs://").rsplit(":", 1)
        self.name = name
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.framer = wc.RawSocket(wc.Role.CLIENT, serializer="json")
        self.codec = wc.get_serializer("json")
        self.framer.initiate()
        self.received: list[m.Message] = []
        self._cursor = 0
        self.transcript: list[str] = []
        self.closed = False
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.sock, selectors.EVENT_READ)
        self._flush()
        while not self.framer.is_open:  # the RawSocket handshake reply
            assert self._read(5) and not self.closed, f"{name}: no RawSocket handshake"

    def send(self, message: m.Message) -> None:
        self.framer.send_message(self.codec.encode(message))
        self._flush()

    def send_raw(self, message: list[Any]) -> None:
        """A message as JSON, unchecked (one the library would refuse to build)."""
        self.framer.send_message(json.dumps(message).encode())
        self._flush()

    def _flush(self) -> None:
        data = self.framer.data_to_send()
        if data and not self.closed:
            self.sock.sendall(data)

    def _read(self, timeout: float) -> bool:
        """Read once; False when nothing came within ``timeout``."""
        if self.closed or not self._selector.select(timeout):
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionError:
            data = b""
        events = self.framer.receive_data(data) if data else self.framer.receive_eof()
        for event in events:
            if isinstance(event, ev.MessageReceived):
                message = self.codec.decode(event.data)
                self.received.append(message)
                self.transcript.append(reduce(message))
        if not data:
            self.closed = True
            self.transcript.append("CLOSED")
        self._flush()
        return True

    def settle(self) -> None:
        """Read until the connection is quiet for :data:`QUIET` s."""
        while self._read(QUIET):
            pass

    def next(self, cls: type[m.Message], timeout: float = 5) -> Any:
        """The next message of type ``cls`` after the one the last call returned (read until
        it comes)."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self._cursor, len(self.received)):
                if isinstance(self.received[index], cls):
                    self._cursor = index + 1
                    return self.received[index]
            left = deadline - time.monotonic()
            assert left > 0 and not self.closed, (
                f"{self.name}: no {cls.__name__}: {self.transcript}"
            )
            self._read(left)

    def close(self) -> None:
        self._selector.close()
        self.sock.close()


def reduce(message: m.Message) -> str:
    """What the spec fixes about ``message``, as one line."""
    items = message.to_list()
    ids = ROUTER_IDS.get(type(message), {})
    details_at = DETAILS_AT.get(type(message))
    if isinstance(message, m.Error) and message.error.startswith("wamp.error."):
        items = items[:5]  # the router's own words are not the spec's business
    out: list[Any] = []
    for index, value in enumerate(items[1:], start=1):
        if index in ids:
            out.append(f"<{ids[index]}>")
        elif index == details_at:
            out.append({key: value[key] for key in KEPT if key in value})
        else:
            out.append(value)
    return f"{message.NAME} {json.dumps(out, sort_keys=True)}"


class Script:
    """The peers of one scenario run."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.peers: dict[str, Peer] = {}
        #: Peers whose lines the spec does not order (e.g. PUBLISHED and our own EVENT).
        self.unordered: set[str] = set()

    def join(self, name: str, realm: str = "realm1") -> Peer:
        peer = self.peers[name] = Peer(self.url, name)
        peer.send(m.Hello(realm=realm, details={"roles": ROLES}))
        peer.next(m.Welcome)
        return peer

    def transcripts(self) -> dict[str, list[str]]:
        """Each peer's transcript; a peer in :attr:`unordered` sorted (the spec fixes no order
        between its lines); whether the router closes the transport after ABORT or GOODBYE is
        left out (the spec lets the transport serve another session)."""
        out = {}
        for name, peer in self.peers.items():
            peer.settle()
            lines = list(peer.transcript)
            if (
                len(lines) >= 2
                and lines[-1] == "CLOSED"
                and lines[-2].startswith(("ABORT", "GOODBYE"))
            ):
                lines.pop()
            out[name] = sorted(lines) if name in self.unordered else lines
        return out

    def close(self) -> None:
        for peer in self.peers.values():
            peer.close()


# -- the scenarios ----------------------------------------------------------------------------

Scenario = Callable[[Script], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def rpc_with_args_kwargs_and_errors(s: Script) -> None:
    callee, caller = s.join("callee"), s.join("caller")
    callee.send(m.Register(request_id=1, procedure="com.diff.add"))
    callee.next(m.Registered)
    caller.send(m.Call(request_id=1, procedure="com.diff.add", args=[2, 3], kwargs={"k": "v"}))
    invocation = callee.next(m.Invocation)
    callee.send(m.Yield(request_id=invocation.request_id, args=[5], kwargs={"k": "v"}))
    caller.next(m.Result)
    caller.send(m.Call(request_id=2, procedure="com.diff.add", args=["x"]))
    invocation = callee.next(m.Invocation)
    callee.send(m.Error(request_type=68, request_id=invocation.request_id, details={},
                        error="com.diff.bad_input", args=["x"], kwargs={"why": 1}))  # fmt: skip
    caller.next(m.Error)
    caller.send(m.Call(request_id=3, procedure="com.diff.nobody"))
    caller.next(m.Error)
    callee.send(m.Unregister(request_id=2, registration_id=424242))
    callee.next(m.Error)


@scenario
def shared_registration_round_robin(s: Script) -> None:
    one, two, caller = s.join("one"), s.join("two"), s.join("caller")
    for callee in (one, two):
        callee.send(m.Register(request_id=1, procedure="com.diff.rr",
                               options={"invoke": "roundrobin"}))  # fmt: skip
        callee.next(m.Registered)
    for i in range(1, 5):
        caller.send(m.Call(request_id=i, procedure="com.diff.rr", args=[i]))
        callee = one if i % 2 else two  # the first registered first
        invocation = callee.next(m.Invocation)
        callee.send(m.Yield(request_id=invocation.request_id, args=[callee.name]))
        caller.next(m.Result)


@scenario
def pubsub_patterns_and_exclusion(s: Script) -> None:
    sub, pub = s.join("subscriber"), s.join("publisher")
    s.unordered.add("publisher")  # PUBLISHED and the EVENT to itself: either first
    sub.send(m.Subscribe(request_id=1, topic="com.diff.news"))
    sub.send(m.Subscribe(request_id=2, topic="com.diff.", options={"match": "prefix"}))
    sub.send(m.Subscribe(request_id=3, topic="com.diff..flash", options={"match": "wildcard"}))
    for _ in range(3):
        sub.next(m.Subscribed)
    pub.send(m.Subscribe(request_id=1, topic="com.diff.news"))
    pub.next(m.Subscribed)
    pub.send(m.Publish(request_id=2, topic="com.diff.news", args=["exact"],
                       options={"acknowledge": True}))  # fmt: skip
    pub.next(m.Published)
    pub.send(m.Publish(request_id=3, topic="com.diff.x.flash", args=["wild"],
                       options={"acknowledge": True}))  # fmt: skip
    pub.next(m.Published)
    pub.send(m.Publish(request_id=4, topic="com.diff.news", args=["to me too"],
                       options={"acknowledge": True, "exclude_me": False}))  # fmt: skip
    pub.next(m.Published)


@scenario
def eligible_empty_list_reaches_nobody(s: Script) -> None:
    sub, pub = s.join("subscriber"), s.join("publisher")
    sub.send(m.Subscribe(request_id=1, topic="com.diff.eligible"))
    sub.next(m.Subscribed)
    pub.send(m.Publish(request_id=1, topic="com.diff.eligible", args=["nobody"],
                       options={"acknowledge": True, "eligible": []}))  # fmt: skip
    pub.next(m.Published)


@scenario
def progressive_results_only_to_callers_that_asked(s: Script) -> None:
    callee, caller = s.join("callee"), s.join("caller")
    callee.send(m.Register(request_id=1, procedure="com.diff.stream"))
    callee.next(m.Registered)
    for request_id, asked in ((1, True), (2, False)):
        options = {"receive_progress": True} if asked else {}
        caller.send(m.Call(request_id=request_id, procedure="com.diff.stream", options=options))
        invocation = callee.next(m.Invocation)
        callee.send(m.Yield(request_id=invocation.request_id, options={"progress": True},
                            args=["partial"]))  # fmt: skip
        callee.send(m.Yield(request_id=invocation.request_id, args=["final"]))
        caller.settle()


@scenario
def cancel_skip_is_answered(s: Script) -> None:
    callee, caller = s.join("callee"), s.join("caller")
    callee.send(m.Register(request_id=1, procedure="com.diff.slow"))
    callee.next(m.Registered)
    caller.send(m.Call(request_id=1, procedure="com.diff.slow"))
    callee.next(m.Invocation)
    caller.send(m.Cancel(request_id=1, options={"mode": "skip"}))
    caller.settle()


@scenario
def cancel_kill_interrupts_the_callee(s: Script) -> None:
    callee, caller = s.join("callee"), s.join("caller")
    callee.send(m.Register(request_id=1, procedure="com.diff.slow"))
    callee.next(m.Registered)
    caller.send(m.Call(request_id=1, procedure="com.diff.slow"))
    invocation = callee.next(m.Invocation)
    caller.send(m.Cancel(request_id=1, options={"mode": "kill"}))
    callee.next(m.Interrupt)
    callee.send(m.Error(request_type=68, request_id=invocation.request_id, details={},
                        error="wamp.error.canceled"))  # fmt: skip
    caller.next(m.Error)


@scenario
def dealer_call_timeout_in_milliseconds(s: Script) -> None:
    callee, caller = s.join("callee"), s.join("caller")
    callee.send(m.Register(request_id=1, procedure="com.diff.never"))
    callee.next(m.Registered)
    caller.send(m.Call(request_id=1, procedure="com.diff.never", options={"timeout": 300}))
    callee.next(m.Invocation)
    time.sleep(0.6)  # well past 300 ms
    caller.settle()


@scenario
def goodbye_is_answered_goodbye_and_out(s: Script) -> None:
    peer = s.join("peer")
    peer.send(m.Goodbye(details={}, reason="wamp.close.close_realm"))
    peer.next(m.Goodbye)


@scenario
def an_invalid_uri_gets_an_error(s: Script) -> None:
    peer = s.join("peer")
    peer.send_raw([m.Call.MESSAGE_TYPE, 1, {}, "com.diff.bad uri"])
    peer.settle()


@scenario
def a_second_subscribe_gets_the_same_subscription(s: Script) -> None:
    peer = s.join("peer")
    peer.send(m.Subscribe(request_id=1, topic="com.diff.twice"))
    first = peer.next(m.Subscribed)
    peer.send(m.Subscribe(request_id=2, topic="com.diff.twice"))
    second = peer.next(m.Subscribed)
    peer.transcript.append(f"same id: {first.subscription_id == second.subscription_id}")


@scenario
def an_unknown_realm_is_refused(s: Script) -> None:
    peer = s.peers["peer"] = Peer(s.url, "peer")
    peer.send(m.Hello(realm="com.diff.no_such_realm", details={"roles": ROLES}))
    peer.next(m.Abort)


# -- what the spec says, and where Crossbar.io 26 differs --------------------------------------

SPEC: dict[str, dict[str, list[str]]] = {
    "rpc_with_args_kwargs_and_errors": {
        "callee": [
            'WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
            'INVOCATION ["<invocation>", "<registration>", {}, [2, 3], {"k": "v"}]',
            'INVOCATION ["<invocation>", "<registration>", {}, ["x"]]',
            'ERROR [66, 2, {}, "wamp.error.no_such_registration"]',
        ],
        "caller": [
            'WELCOME ["<session>", {}]', 'RESULT [1, {}, [5], {"k": "v"}]',
            'ERROR [48, 2, {}, "com.diff.bad_input", ["x"], {"why": 1}]',
            'ERROR [48, 3, {}, "wamp.error.no_such_procedure"]',
        ],
    },
    "shared_registration_round_robin": {
        "one": ['WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
                'INVOCATION ["<invocation>", "<registration>", {}, [1]]',
                'INVOCATION ["<invocation>", "<registration>", {}, [3]]'],
        "two": ['WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
                'INVOCATION ["<invocation>", "<registration>", {}, [2]]',
                'INVOCATION ["<invocation>", "<registration>", {}, [4]]'],
        "caller": ['WELCOME ["<session>", {}]', 'RESULT [1, {}, ["one"]]',
                   'RESULT [2, {}, ["two"]]', 'RESULT [3, {}, ["one"]]', 'RESULT [4, {}, ["two"]]'],
    },
    "pubsub_patterns_and_exclusion": {
        "subscriber": [
            'WELCOME ["<session>", {}]', 'SUBSCRIBED [1, "<subscription>"]',
            'SUBSCRIBED [2, "<subscription>"]', 'SUBSCRIBED [3, "<subscription>"]',
            'EVENT ["<subscription>", "<publication>", {}, ["exact"]]',
            'EVENT ["<subscription>", "<publication>", {"topic": "com.diff.news"}, ["exact"]]',
            'EVENT ["<subscription>", "<publication>", {"topic": "com.diff.x.flash"}, ["wild"]]',
            'EVENT ["<subscription>", "<publication>", {"topic": "com.diff.x.flash"}, ["wild"]]',
            'EVENT ["<subscription>", "<publication>", {}, ["to me too"]]',
            'EVENT ["<subscription>", "<publication>", {"topic": "com.diff.news"}, ["to me too"]]',
        ],
        "publisher": sorted([
            'WELCOME ["<session>", {}]', 'SUBSCRIBED [1, "<subscription>"]',
            'PUBLISHED [2, "<publication>"]', 'PUBLISHED [3, "<publication>"]',
            'EVENT ["<subscription>", "<publication>", {}, ["to me too"]]',
            'PUBLISHED [4, "<publication>"]',
        ]),
    },
    "eligible_empty_list_reaches_nobody": {
        "subscriber": ['WELCOME ["<session>", {}]', 'SUBSCRIBED [1, "<subscription>"]'],
        "publisher": ['WELCOME ["<session>", {}]', 'PUBLISHED [1, "<publication>"]'],
    },
    "progressive_results_only_to_callers_that_asked": {
        "callee": [
            'WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
            'INVOCATION ["<invocation>", "<registration>", {}]',
            'INVOCATION ["<invocation>", "<registration>", {}]',
        ],
        "caller": [
            'WELCOME ["<session>", {}]', 'RESULT [1, {"progress": true}, ["partial"]]',
            'RESULT [1, {}, ["final"]]', 'RESULT [2, {}, ["final"]]',
        ],
    },
    "cancel_skip_is_answered": {
        "callee": ['WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
                   'INVOCATION ["<invocation>", "<registration>", {}]'],
        "caller": ['WELCOME ["<session>", {}]', 'ERROR [48, 1, {}, "wamp.error.canceled"]'],
    },
    "cancel_kill_interrupts_the_callee": {
        "callee": ['WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
                   'INVOCATION ["<invocation>", "<registration>", {}]',
                   'INTERRUPT ["<invocation>", {}]'],
        "caller": ['WELCOME ["<session>", {}]', 'ERROR [48, 1, {}, "wamp.error.canceled"]'],
    },
    "dealer_call_timeout_in_milliseconds": {
        "callee": ['WELCOME ["<session>", {}]', 'REGISTERED [1, "<registration>"]',
                   'INVOCATION ["<invocation>", "<registration>", {}]',
                   'INTERRUPT ["<invocation>", {}]'],
        "caller": ['WELCOME ["<session>", {}]', 'ERROR [48, 1, {}, "wamp.error.timeout"]'],
    },
    "goodbye_is_answered_goodbye_and_out": {
        "peer": ['WELCOME ["<session>", {}]', 'GOODBYE [{}, "wamp.close.goodbye_and_out"]'],
    },
    "an_invalid_uri_gets_an_error": {
        "peer": ['WELCOME ["<session>", {}]', 'ERROR [48, 1, {}, "wamp.error.invalid_uri"]'],
    },
    "a_second_subscribe_gets_the_same_subscription": {
        "peer": ['WELCOME ["<session>", {}]', 'SUBSCRIBED [1, "<subscription>"]',
                 'SUBSCRIBED [2, "<subscription>"]', "same id: True"],
    },
    "an_unknown_realm_is_refused": {
        "peer": ['ABORT [{}, "wamp.error.no_such_realm"]'],
    },
}  # fmt: skip

#: Scenario -> (the spec's rule Crossbar.io 26 breaks, what it sends instead per peer).
CROSSBAR_DEVIATIONS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "an_invalid_uri_gets_an_error": (
        "a request with an invalid URI is answered ERROR wamp.error.invalid_uri",
        {"peer": ['WELCOME ["<session>", {}]', "CLOSED"]},  # the connection is dropped
    ),
    "cancel_skip_is_answered": (
        "CANCEL skip: the dealer answers the caller ERROR wamp.error.canceled at once",
        {"callee": SPEC["cancel_skip_is_answered"]["callee"],
         "caller": ['WELCOME ["<session>", {}]']},  # never answered
    ),
    "dealer_call_timeout_in_milliseconds": (
        "CALL.Options.timeout is in milliseconds; the dealer answers wamp.error.timeout and "
        "interrupts the callee",
        {"callee": SPEC["dealer_call_timeout_in_milliseconds"]["callee"][:3],
         "caller": ['WELCOME ["<session>", {}]']},  # read as 300 s
    ),
    "eligible_empty_list_reaches_nobody": (
        "an empty eligible list leaves nobody eligible",
        {"subscriber": ['WELCOME ["<session>", {}]', 'SUBSCRIBED [1, "<subscription>"]',
                        'EVENT ["<subscription>", "<publication>", {}, ["nobody"]]'],
         "publisher": SPEC["eligible_empty_list_reaches_nobody"]["publisher"]},
    ),
    "goodbye_is_answered_goodbye_and_out": (
        "GOODBYE is answered with wamp.close.goodbye_and_out",
        {"peer": ['WELCOME ["<session>", {}]', 'GOODBYE [{}, "wamp.close.normal"]']},
    ),
    "progressive_results_only_to_callers_that_asked": (
        "progressive results go only to a caller that set receive_progress",
        {"callee": SPEC["progressive_results_only_to_callers_that_asked"]["callee"],
         "caller": ['WELCOME ["<session>", {}]', 'RESULT [1, {"progress": true}, ["partial"]]',
                    'RESULT [1, {}, ["final"]]', 'RESULT [2, {"progress": true}, ["partial"]]',
                    'RESULT [2, {}, ["final"]]']},
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as router:
        yield router


def _run(url: str, name: str) -> dict[str, list[str]]:
    script = Script(url)
    try:
        SCENARIOS[name](script)
        return script.transcripts()
    finally:
        script.close()


def test_every_scenario_has_the_spec_transcript() -> None:
    assert set(SCENARIOS) == set(SPEC)
    assert set(CROSSBAR_DEVIATIONS) <= set(SPEC)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_embedded_router_follows_the_spec(embedded: EmbeddedRouter, name: str) -> None:
    assert _run(embedded.rs_url, name) == SPEC[name]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_crossbar_follows_the_spec_but_for_the_documented_deviations(
    crossbar: CrossbarRouter, name: str
) -> None:
    expected = CROSSBAR_DEVIATIONS[name][1] if name in CROSSBAR_DEVIATIONS else SPEC[name]
    assert _run(crossbar.rs_url, name) == expected
