"""The sans-IO client session engine: state table, wire format of every command, every event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import wamp_core
from session_helpers import (
    CROSSBAR_BROKER,
    CROSSBAR_DEALER,
    FULL_BROKER,
    FULL_DEALER,
    REALM,
    SESSION_ID,
    PendingSet,
    ScriptedRouter,
    joined,
    make_session,
    minimal_message,
    router_roles,
    state_of,
    welcome,
    wire,
)
from wamp_core import (
    CLIENT_ROLES,
    MAX_ID,
    TRANSITIONS,
    ApplicationError,
    CallDetails,
    CallOptions,
    CallResult,
    ClientSession,
    CloseDetails,
    EventDetails,
    LocalProtocolError,
    MessageTooLarge,
    PublishOptions,
    RegisterOptions,
    RouterFeatures,
    SessionClosed,
    SessionCommand,
    SessionDetails,
    SessionState,
    SubscribeOptions,
    events as ev,
    messages as m,
)
from wamp_core._wire import RECENT_MAX
from wamp_core.messages import MESSAGE_CLASSES

AGENT = f"wamp-py-{wamp_core.__version__}"  # HELLO.Details.agent

S = SessionState
VIOLATION = "wamp.error.protocol_violation"
LOGGER = "wamp_core._client._session"
ALL_CLASSES = sorted(MESSAGE_CLASSES.values(), key=lambda c: c.MESSAGE_TYPE)


def app_error(event: ev.SessionEvent) -> ApplicationError:
    assert isinstance(event, ev.RequestFailed)
    assert isinstance(event.error, ApplicationError)
    return event.error


def assert_closed_failures(
    events: list[ev.SessionEvent], requests: dict[int, ev.RequestKind], reason: str
) -> None:
    """``events`` starts with one RequestFailed(SessionClosed(reason)) per pending request."""
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert {e.request_id: e.kind for e in failed} == requests
    assert len(failed) == len(requests)
    for e in failed:
        assert isinstance(e.error, SessionClosed)
        assert e.error.reason == reason


# All commands, as callables on a session (for "every command fails fast" checks).
COMMANDS: dict[str, Callable[[ClientSession], object]] = {
    "join": lambda s: s.join(REALM),
    "leave": lambda s: s.leave(),
    "call": lambda s: s.call("com.example.proc"),
    "publish": lambda s: s.publish("com.example.topic"),
    "subscribe": lambda s: s.subscribe("com.example.topic"),
    "unsubscribe": lambda s: s.unsubscribe(501),
    "register": lambda s: s.register("com.example.proc"),
    "unregister": lambda s: s.unregister(601),
    "call_progress": lambda s: s.call_progress(1, ["x"]),
}


# ============================================================================================
# HELLO / WELCOME


def test_client_roles_are_the_implemented_features() -> None:
    ppt = {"payload_passthru_mode": True}
    assert {
        "caller": {
            "features": {
                "call_canceling": True,
                "call_timeout": True,
                "caller_identification": True,
                "progressive_call_results": True,
                "progressive_call_invocations": True,
                **ppt,
            }
        },
        "callee": {
            "features": {
                "call_canceling": True,
                "call_timeout": True,
                "caller_identification": True,
                "pattern_based_registration": True,
                "progressive_call_results": True,
                "progressive_call_invocations": True,
                "registration_revocation": True,
                "shared_registration": True,
                **ppt,
            }
        },
        "publisher": {
            "features": {
                "publisher_exclusion": True,
                "publisher_identification": True,
                "subscriber_blackwhite_listing": True,
                **ppt,
            }
        },
        "subscriber": {
            "features": {
                "pattern_based_subscription": True,
                "publisher_identification": True,
                "subscription_revocation": True,
                **ppt,
            }
        },
    } == CLIENT_ROLES


def test_join_sends_hello() -> None:
    session = ClientSession()
    assert session.state is S.CLOSED
    session.join(REALM)
    assert wire(session) == [
        [1, REALM, {"roles": CLIENT_ROLES, "agent": AGENT, "authmethods": ["anonymous"]}]
    ]
    assert state_of(session) is S.ESTABLISHING
    assert not session.is_joined
    assert session.session_id is None


def test_join_custom_agent() -> None:
    session = ClientSession(agent="my-agent/1.0")
    session.join(REALM)
    assert wire(session)[0][2]["agent"] == "my-agent/1.0"


def test_join_invalid_realm_changes_nothing() -> None:
    session = ClientSession()
    with pytest.raises(LocalProtocolError):
        session.join("not a realm")
    assert session.state is S.CLOSED
    assert wire(session) == []


@pytest.mark.parametrize("state", [S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN])
def test_join_refused_unless_closed(state: SessionState) -> None:
    session, _ = make_session(state)
    with pytest.raises(LocalProtocolError):
        session.join(REALM)
    assert session.state is state
    assert wire(session) == []


def test_welcome_produces_joined_with_all_details() -> None:
    session = ClientSession()
    session.serializer_name = "cbor"
    session.join(REALM)
    session.messages_to_send()
    roles = router_roles()
    events = session.receive_message(
        m.Welcome(
            session_id=SESSION_ID,
            details={
                "roles": roles,
                "realm": "realm1",
                "authid": "joe",
                "authrole": "user",
                "authmethod": "anonymous",
                "authprovider": "static",
                "authextra": {"x_cb_node": "node1"},
                "resumed": True,
                "resumable": True,
                "resume_token": "tok",
                "x_custom": 1,
            },
        )
    )
    assert events == [
        ev.Joined(
            SessionDetails(
                realm="realm1",
                session=SESSION_ID,
                authid="joe",
                authrole="user",
                authmethod="anonymous",
                authprovider="static",
                authextra={"x_cb_node": "node1"},
                serializer="cbor",
                resumed=True,
                resumable=True,
                resume_token="tok",
                router_roles=roles,
            )
        )
    ]
    assert session.state is S.ESTABLISHED
    assert session.is_joined
    assert session.session_id == SESSION_ID
    assert session.features == RouterFeatures(CROSSBAR_BROKER, CROSSBAR_DEALER, True, True)
    assert wire(session) == []


def test_welcome_minimal_details() -> None:
    session = ClientSession()
    session.join(REALM)
    events = session.receive_message(m.Welcome(session_id=7, details={"roles": {"broker": {}}}))
    assert events == [ev.Joined(SessionDetails(REALM, 7, router_roles={"broker": {}}))]
    assert session.features == RouterFeatures(has_broker=True)


def test_welcome_without_broker_or_dealer_is_a_violation() -> None:
    session = ClientSession()
    session.join(REALM)
    session.messages_to_send()
    events = session.receive_message(m.Welcome(session_id=7, details={"roles": {"caller": {}}}))
    assert [type(e) for e in events] == [ev.Aborted]
    assert session.state is S.FAILED
    assert [msg[0] for msg in wire(session)] == [3]


def test_router_spelling_call_cancelling_is_accepted() -> None:
    session = joined(dealer=set(CROSSBAR_DEALER - {"call_canceling"}) | {"call_cancelling"})
    rid = session.call("com.example.proc")
    session.messages_to_send()
    assert session.cancel(rid, "skip") is True
    assert wire(session) == [[49, rid, {"mode": "skip"}]]


# ============================================================================================
# The transition table


def test_transition_table_is_the_spec_state_machine() -> None:
    in_session = [
        m.Published, m.Subscribed, m.Unsubscribed, m.Event, m.Result, m.Registered,
        m.Unregistered, m.Invocation, m.Interrupt, m.Error,
    ]  # fmt: skip
    live = (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN)
    expected: dict[tuple[SessionState, Any], SessionState] = {
        (S.CLOSED, SessionCommand.JOIN): S.ESTABLISHING,
        (S.ESTABLISHED, SessionCommand.LEAVE): S.SHUTTING_DOWN,
        **{(state, SessionCommand.ABORT): S.CLOSED for state in live},
        **{(state, SessionCommand.TRANSPORT_LOST): S.CLOSED for state in live},
        (S.ESTABLISHING, m.Welcome): S.ESTABLISHED,
        (S.ESTABLISHING, m.Challenge): S.CHALLENGING,
        (S.ESTABLISHING, m.Abort): S.CLOSED,
        (S.CHALLENGING, m.Welcome): S.ESTABLISHED,
        (S.CHALLENGING, m.Challenge): S.CHALLENGING,
        (S.CHALLENGING, m.Abort): S.CLOSED,
        (S.ESTABLISHED, m.Goodbye): S.CLOSED,
        (S.ESTABLISHED, m.Abort): S.CLOSED,
        (S.SHUTTING_DOWN, m.Goodbye): S.CLOSED,
        (S.SHUTTING_DOWN, m.Abort): S.CLOSED,
        **{(S.ESTABLISHED, cls): S.ESTABLISHED for cls in in_session},
    }
    assert expected == TRANSITIONS
    assert len(ALL_CLASSES) == 25


def legal_message(cls: type[m.Message], session: ClientSession, info: PendingSet) -> m.Message:
    """A message of type ``cls`` that is valid in the session's current context."""
    by_kind = {kind: rid for rid, kind in info.requests.items()}
    if cls is m.Welcome:
        return welcome(authmethod="ticket")
    if cls is m.Challenge:
        return m.Challenge(method="ticket", extra={})
    if cls is m.Abort:
        return m.Abort(reason="wamp.error.not_authorized")
    if cls is m.Goodbye:
        return m.Goodbye(reason="wamp.close.system_shutdown")
    if cls is m.Published:
        return m.Published(request_id=by_kind["publish"], publication_id=9)
    if cls is m.Subscribed:
        return m.Subscribed(request_id=by_kind["subscribe"], subscription_id=502)
    if cls is m.Unsubscribed:
        return m.Unsubscribed(request_id=by_kind["unsubscribe"])
    if cls is m.Event:
        assert info.subscription is not None
        return m.Event(subscription_id=info.subscription, publication_id=9)
    if cls is m.Result:
        return m.Result(request_id=by_kind["call"])
    if cls is m.Registered:
        return m.Registered(request_id=by_kind["register"], registration_id=602)
    if cls is m.Unregistered:
        return m.Unregistered(request_id=by_kind["unregister"])
    if cls is m.Invocation:
        assert info.registration is not None
        return m.Invocation(request_id=78, registration_id=info.registration)
    if cls is m.Interrupt:
        assert info.invocation is not None
        return m.Interrupt(request_id=info.invocation, options={"mode": "kill"})
    if cls is m.Error:
        return m.Error(request_type=48, request_id=by_kind["call"], error="com.example.error")
    raise AssertionError(cls)


def _transition_key(key: tuple[SessionState, Any]) -> tuple[str, int]:
    return key[0].value, key[1].MESSAGE_TYPE


MESSAGE_ROWS = {key: nxt for key, nxt in TRANSITIONS.items() if isinstance(key[1], type)}
LEGAL = sorted(MESSAGE_ROWS, key=_transition_key)


@pytest.mark.parametrize(("state", "cls"), LEGAL)
def test_every_legal_transition(state: SessionState, cls: type[m.Message]) -> None:
    session, info = make_session(state)
    events = session.receive_message(legal_message(cls, session, info))
    assert session.state is TRANSITIONS[state, cls]
    assert not any(isinstance(e, ev.Aborted) and e.details.local for e in events)
    assert all(msg[0] != 3 for msg in wire(session))


ILLEGAL = [
    (state, cls)
    for state in SessionState
    for cls in ALL_CLASSES
    if (state, cls) not in MESSAGE_ROWS and state not in (S.SHUTTING_DOWN, S.FAILED)
]


@pytest.mark.parametrize(("state", "cls"), ILLEGAL)
def test_every_illegal_message_is_a_protocol_violation(
    state: SessionState, cls: type[m.Message]
) -> None:
    session, info = make_session(state, after_session=True)
    events = session.receive_message(minimal_message(cls))
    out = wire(session)
    assert len(out) == 1
    abort = out[0]
    assert abort[0] == 3
    assert abort[2] == VIOLATION
    assert cls.NAME in abort[1]["message"]
    assert session.state is S.FAILED
    # every pending request failed with SessionClosed, then the session was aborted locally
    assert_closed_failures(events[:-1], info.requests, VIOLATION)
    assert isinstance(events[-1], ev.Aborted)
    assert events[-1].details.reason == VIOLATION
    assert events[-1].details.local is True
    assert session.pending_requests == {}
    assert session.subscriptions == {}
    assert session.registrations == {}
    assert session.open_invocations == frozenset()
    # later: commands fail fast, messages are dropped, nothing more goes out
    for name, command in COMMANDS.items():
        with pytest.raises(SessionClosed) as exc_info:
            command(session)
        assert exc_info.value.reason == VIOLATION, name
    assert session.receive_message(minimal_message(m.Result)) == []
    assert session.receive_message(legal_message(m.Goodbye, session, info)) == []
    assert session.protocol_violation("again") == []
    assert session.connection_lost() == []
    assert session.yield_result(77) is False
    assert session.cancel(1) is False
    assert wire(session) == []
    assert session.state is S.FAILED


def test_violation_before_any_session_sends_no_abort() -> None:
    """HELLO must be the first message: a pristine session never opens with ABORT."""
    session = ClientSession()
    events = session.receive_message(minimal_message(m.Welcome))
    assert wire(session) == []
    assert session.state is S.FAILED
    assert [type(e) for e in events] == [ev.Aborted]
    with pytest.raises(SessionClosed):
        session.join(REALM)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.NAME)
def test_shutting_down_ignores_everything_but_goodbye_and_abort(cls: type[m.Message]) -> None:
    session, info = make_session(S.SHUTTING_DOWN)
    msg = minimal_message(cls)
    events = session.receive_message(msg)
    if cls in (m.Goodbye, m.Abort):
        assert session.state is S.CLOSED
        # GOODBYE answers our leave(): the reason is ours; ABORT brings its own
        reason = "wamp.close.normal" if cls is m.Goodbye else "wamp.error.not_authorized"
        assert_closed_failures(events[:-1], info.requests, reason)
        assert isinstance(events[-1], ev.Left if cls is m.Goodbye else ev.Aborted)
    else:
        assert events == []
        assert session.state is S.SHUTTING_DOWN
        assert session.pending_requests == info.requests
    assert wire(session) == []


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.NAME)
def test_failed_drops_everything(cls: type[m.Message]) -> None:
    session, _ = make_session(S.FAILED)
    assert session.receive_message(minimal_message(cls)) == []
    assert session.state is S.FAILED
    assert wire(session) == []


# -- violations by content (legal type, wrong context) ---------------------------------------

BAD_IN_SESSION: dict[str, Callable[[PendingSet], m.Message]] = {
    "result-unknown-request": lambda i: m.Result(request_id=999),
    "progress-unknown-request": lambda i: m.Result(request_id=999, details={"progress": True}),
    "error-unknown-request": lambda i: m.Error(request_type=48, request_id=999, error="a.b"),
    "error-type-invocation": lambda i: m.Error(request_type=68, request_id=77, error="a.b"),
    "error-wrong-kind": lambda i: m.Error(request_type=64, request_id=_rid(i, "call"), error="a.b"),
    "published-unknown": lambda i: m.Published(request_id=999, publication_id=1),
    "subscribed-for-call": lambda i: m.Subscribed(request_id=_rid(i, "call"), subscription_id=5),
    "registered-for-subscribe": lambda i: m.Registered(
        request_id=_rid(i, "subscribe"), registration_id=5
    ),
    "registered-reuses-registration": lambda i: m.Registered(
        request_id=_rid(i, "register"), registration_id=601
    ),
    "unsubscribed-unknown": lambda i: m.Unsubscribed(request_id=999),
    "unregistered-unknown": lambda i: m.Unregistered(request_id=999),
    "event-unknown-subscription": lambda i: m.Event(subscription_id=999, publication_id=1),
    "invocation-unknown-registration": lambda i: m.Invocation(request_id=5, registration_id=999),
    "invocation-reuses-open-request": lambda i: m.Invocation(request_id=77, registration_id=601),
    "revoke-unknown-subscription": lambda i: m.Unsubscribed(
        request_id=0, details={"subscription": 999}
    ),
    "revoke-without-subscription": lambda i: m.Unsubscribed(request_id=0, details={}),
    "revoke-unknown-registration": lambda i: m.Unregistered(
        request_id=0, details={"registration": 999}
    ),
    "revoke-without-registration": lambda i: m.Unregistered(request_id=0, details={}),
}


def _rid(info: PendingSet, kind: str) -> int:
    return next(rid for rid, k in info.requests.items() if k == kind)


@pytest.mark.parametrize("name", sorted(BAD_IN_SESSION))
def test_wrong_context_is_a_protocol_violation(name: str) -> None:
    session, info = make_session(S.ESTABLISHED)
    events = session.receive_message(BAD_IN_SESSION[name](info))
    assert session.state is S.FAILED
    out = wire(session)
    assert [(msg[0], msg[2]) for msg in out] == [(3, VIOLATION)]
    # every request ever issued ended exactly once, even the one the bad reply named
    assert_closed_failures(events[:-1], info.requests, VIOLATION)
    assert isinstance(events[-1], ev.Aborted)


# ============================================================================================
# Commands: exact wire messages


def test_request_ids_start_at_one_and_are_shared() -> None:
    session = joined()
    sid_req = session.subscribe("com.example.t")
    session.receive_message(m.Subscribed(request_id=sid_req, subscription_id=5))
    reg_req = session.register("com.example.p")
    session.receive_message(m.Registered(request_id=reg_req, registration_id=6))
    ids = [
        sid_req,
        reg_req,
        session.call("com.example.p"),
        session.publish("com.example.t"),  # unacknowledged: burns an ID anyway
        session.publish("com.example.t", options=PublishOptions(acknowledge=True)),
        session.unsubscribe(5),
        session.unregister(6),
    ]
    assert ids == [1, 2, 3, 4, 5, 6, 7]
    assert [msg[1] for msg in wire(session)] == ids
    assert 4 not in session.pending_requests


def test_failed_command_burns_no_id() -> None:
    session = joined(broker=(), dealer=())
    with pytest.raises(LocalProtocolError):
        session.call("com.example.p", options=CallOptions(ppt={"ppt_scheme": "x"}))
    with pytest.raises(LocalProtocolError):
        session.subscribe("com.example", SubscribeOptions(match="prefix"))
    with pytest.raises(LocalProtocolError):
        session.call("not a uri")
    assert wire(session) == []
    assert session.call("com.example.p") == 1


def test_request_id_wraps_after_2_pow_53() -> None:
    session = joined()
    session._s.next_id = MAX_ID
    assert session.call("com.example.p") == MAX_ID
    assert session.call("com.example.p") == 1
    assert [msg[1] for msg in wire(session)] == [MAX_ID, 1]


def test_request_ids_after_the_wrap_skip_those_still_in_use() -> None:
    session = joined()
    assert session.call("com.example.slow") == 1  # never answered
    assert session.subscribe("com.example.t") == 2  # never answered
    assert session.call("com.example.given_up") == 3
    session.cancel(3, "skip")  # its late answer may still come: 3 stays taken
    assert session.call("com.example.done") == 4
    session.receive_message(m.Result(request_id=4))
    session._s.next_id = MAX_ID - 1
    assert session.call("com.example.p") == MAX_ID - 1
    assert session.call("com.example.p") == MAX_ID
    assert session.publish("com.example.t") == 4
    assert session.call("com.example.p") == 5
    assert [msg[1] for msg in wire(session)][-4:] == [MAX_ID - 1, MAX_ID, 4, 5]
    assert session.pending_requests.keys() >= {1, 2, MAX_ID - 1, MAX_ID, 5}


def test_request_ids_restart_for_a_new_session() -> None:
    router = ScriptedRouter()
    router.join()
    assert router.session.call("com.example.p") == 1
    assert router.session.publish("com.example.t") == 2
    router.session.leave()
    router.deliver(m.Goodbye(reason="wamp.close.goodbye_and_out"))
    assert router.join() == [ev.Joined(SessionDetails(REALM, SESSION_ID, router_roles=_roles()))]
    assert router.session.call("com.example.p") == 1


def _roles() -> dict[str, Any]:
    return router_roles()


def test_call_wire() -> None:
    session = joined()
    assert session.call("com.example.add", [1, 2], {"a": "b"}) == 1
    session.call("com.example.kw", kwargs={"a": 1})
    session.call("com.example.none", [], {})
    assert wire(session) == [
        [48, 1, {}, "com.example.add", [1, 2], {"a": "b"}],
        [48, 2, {}, "com.example.kw", [], {"a": 1}],
        [48, 3, {}, "com.example.none"],
    ]
    assert session.pending_requests == {1: "call", 2: "call", 3: "call"}


@pytest.mark.parametrize(
    ("dealer", "options", "expected"),
    [
        (CROSSBAR_DEALER, CallOptions(timeout=2.5), {}),  # Crossbar has no call_timeout
        (FULL_DEALER, CallOptions(timeout=2.5), {"timeout": 2500}),
        (FULL_DEALER, CallOptions(timeout=0.0001), {"timeout": 1}),
        (FULL_DEALER, CallOptions(timeout=3), {"timeout": 3000}),
        # skip leaves the callee alone: no dealer deadline, which would interrupt it
        (FULL_DEALER, CallOptions(timeout=3, cancel_mode="skip"), {}),
        (CROSSBAR_DEALER, CallOptions(receive_progress=True), {"receive_progress": True}),
        (CROSSBAR_DEALER, CallOptions(on_progress=print), {"receive_progress": True}),
        ((), CallOptions(receive_progress=True), {}),
        (CROSSBAR_DEALER, CallOptions(disclose_me=True), {"disclose_me": True}),
        ((), CallOptions(disclose_me=True), {}),
        (FULL_DEALER, CallOptions(ppt={"ppt_scheme": "mqtt"}), {"ppt_scheme": "mqtt"}),
        (
            FULL_DEALER,
            CallOptions(timeout=1, receive_progress=True, disclose_me=False),
            {"timeout": 1000, "receive_progress": True, "disclose_me": False},
        ),
    ],
)
def test_call_options_follow_router_features(
    dealer: frozenset[str], options: CallOptions, expected: dict[str, Any]
) -> None:
    session = joined(dealer=dealer)
    rid = session.call("com.example.p", options=options)
    assert wire(session) == [[48, rid, expected, "com.example.p"]]


def test_call_ppt_needs_the_feature() -> None:
    session = joined()  # Crossbar: payload_transparency, but no payload_passthru_mode
    with pytest.raises(LocalProtocolError) as exc_info:
        session.call("com.example.p", options=CallOptions(ppt={"ppt_scheme": "mqtt"}))
    assert exc_info.value.reason == "wamp.error.feature_not_supported"
    assert wire(session) == []
    assert session.pending_requests == {}


def test_call_transparent_payload() -> None:
    session = joined(dealer=FULL_DEALER)
    rid = session.call(
        "com.example.p", options=CallOptions(ppt={"ppt_scheme": "x"}), payload=b"\x00\x01"
    )
    assert wire(session) == [[48, rid, {"ppt_scheme": "x"}, "com.example.p", b"\x00\x01"]]


def test_call_needs_a_dealer_and_publish_a_broker() -> None:
    session = joined(broker=None, dealer=CROSSBAR_DEALER)
    with pytest.raises(LocalProtocolError) as exc_info:
        session.publish("com.example.t")
    assert exc_info.value.reason == "wamp.error.feature_not_supported"
    with pytest.raises(LocalProtocolError):
        session.subscribe("com.example.t")
    session = joined(broker=CROSSBAR_BROKER, dealer=None)
    with pytest.raises(LocalProtocolError):
        session.call("com.example.p")
    with pytest.raises(LocalProtocolError):
        session.register("com.example.p")
    assert wire(session) == []


def test_strict_uris() -> None:
    session = joined(strict_uris=True)
    with pytest.raises(LocalProtocolError):
        session.call("com.Example.p")
    with pytest.raises(LocalProtocolError):
        session.publish("com.example.T")
    assert joined().call("com.Example.p") == 1


def test_publish_wire() -> None:
    session = joined()
    session.publish("com.example.t", ["hi"])
    session.publish("com.example.t", kwargs={"k": 1})
    session.publish("com.example.t")
    assert wire(session) == [
        [16, 1, {}, "com.example.t", ["hi"]],
        [16, 2, {}, "com.example.t", [], {"k": 1}],
        [16, 3, {}, "com.example.t"],
    ]
    assert session.pending_requests == {}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (PublishOptions(acknowledge=True), {"acknowledge": True}),
        (PublishOptions(exclude_me=False), {"exclude_me": False}),
        (PublishOptions(exclude_me=True), {"exclude_me": True}),
        (PublishOptions(exclude=5, eligible=[6, 7]), {"exclude": [5], "eligible": [6, 7]}),
        (
            PublishOptions(exclude_authid="bob", eligible_authrole=("user", "admin")),
            {"exclude_authid": ["bob"], "eligible_authrole": ["user", "admin"]},
        ),
        (
            PublishOptions(exclude_authrole=["guest"], eligible_authid=["alice"]),
            {"exclude_authrole": ["guest"], "eligible_authid": ["alice"]},
        ),
        (PublishOptions(retain=True), {"retain": True}),
        (PublishOptions(disclose_me=True), {"disclose_me": True}),
    ],
)
def test_publish_options_with_crossbar(options: PublishOptions, expected: dict[str, Any]) -> None:
    session = joined()
    rid = session.publish("com.example.t", options=options)
    assert wire(session) == [[16, rid, expected, "com.example.t"]]
    assert session.pending_requests == ({rid: "publish"} if options.acknowledge else {})


@pytest.mark.parametrize(
    "options",
    [
        PublishOptions(exclude_me=False),
        PublishOptions(exclude=[5]),
        PublishOptions(eligible_authid="x"),
        PublishOptions(retain=True),
        PublishOptions(ppt={"ppt_scheme": "x"}),
    ],
)
def test_publish_options_need_features(options: PublishOptions) -> None:
    session = joined(broker=(), dealer=())
    with pytest.raises(LocalProtocolError) as exc_info:
        session.publish("com.example.t", options=options)
    assert exc_info.value.reason == "wamp.error.feature_not_supported"
    assert wire(session) == []


@pytest.mark.parametrize("command", ["call", "publish", "subscribe", "register"])
def test_options_of_another_type_raise_type_error_and_send_nothing(command: str) -> None:
    session = joined()
    with pytest.raises(TypeError, match=r"^\w+: options must be \w+Options .*, not builtins.dict$"):
        getattr(session, command)("com.example.t", options={"acknowledge": True})
    assert wire(session) == []
    assert session.state is SessionState.ESTABLISHED


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PublishOptions(exclude_me="no"), "exclude_me"),  # type: ignore[arg-type]
        (lambda: PublishOptions(retain=1), "retain"),  # type: ignore[arg-type]
        (lambda: PublishOptions(disclose_me="yes"), "disclose_me"),  # type: ignore[arg-type]
        (lambda: CallOptions(disclose_me=0), "disclose_me"),  # type: ignore[arg-type]
        (lambda: SubscribeOptions(get_retained="x"), "get_retained"),  # type: ignore[arg-type]
        (lambda: RegisterOptions(disclose_caller="x"), "disclose_caller"),  # type: ignore[arg-type]
    ],
)
def test_flags_that_go_on_the_wire_must_be_bools(make: Callable[[], object], field: str) -> None:
    """Sent as they are, anything else made Crossbar drop the whole connection."""
    with pytest.raises(LocalProtocolError, match=f"{field} must be a bool or None"):
        make()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PublishOptions(acknowledge="no"), "acknowledge must be a bool"),  # type: ignore[arg-type]
        (lambda: CallOptions(receive_progress=1), "receive_progress must be a bool"),  # type: ignore[arg-type]
        (lambda: CallOptions(details="yes"), "details must be a bool"),  # type: ignore[arg-type]
        (lambda: CallOptions(on_progress=5), "on_progress must be callable"),  # type: ignore[arg-type]
        (lambda: PublishOptions(exclude=5.0), "exclude must be session IDs"),  # type: ignore[arg-type]
        (lambda: PublishOptions(eligible={1, 2}), "eligible must be session IDs"),  # type: ignore[arg-type]
        (lambda: PublishOptions(exclude_authid=5), "exclude_authid must be strings"),  # type: ignore[arg-type]
        (lambda: PublishOptions(eligible_authrole=["a", 1]), "eligible_authrole must be strings"),  # type: ignore[list-item]
    ],
)
def test_options_are_checked_when_they_are_made(make: Callable[[], object], message: str) -> None:
    """Not at publish() or when progress arrives, and never read loosely: ``acknowledge="no"``
    asked for an acknowledgement, ``exclude=5.0`` failed inside publish() with a bare
    TypeError, a non-callable ``on_progress`` only when the first progressive result came."""
    with pytest.raises(LocalProtocolError, match=message):
        make()


@pytest.mark.parametrize("value", [[2, 1, {}], None, "HELLO"])
def test_receive_message_takes_a_message(value: Any) -> None:
    session = joined()
    with pytest.raises(TypeError, match=r"takes a wamp_core\.messages\.Message"):
        session.receive_message(value)
    assert session.state is SessionState.ESTABLISHED


def test_publish_disclose_me_dropped_without_feature() -> None:
    session = joined(broker=(), dealer=())
    rid = session.publish("com.example.t", options=PublishOptions(disclose_me=True))
    assert wire(session) == [[16, rid, {}, "com.example.t"]]


def test_publish_transparent_payload() -> None:
    session = joined(broker=FULL_BROKER)
    opts = PublishOptions(ppt={"ppt_scheme": "x", "ppt_serializer": "cbor"})
    rid = session.publish("com.example.t", options=opts, payload=b"\x01")
    assert wire(session) == [
        [16, rid, {"ppt_scheme": "x", "ppt_serializer": "cbor"}, "com.example.t", b"\x01"]
    ]


@pytest.mark.parametrize(
    ("topic", "options", "expected"),
    [
        ("com.example.t", None, {}),
        ("com.example", SubscribeOptions(match="prefix"), {"match": "prefix"}),
        ("com..t", SubscribeOptions(match="wildcard"), {"match": "wildcard"}),
        ("com.example.t", SubscribeOptions(get_retained=True), {"get_retained": True}),
    ],
)
def test_subscribe_wire(topic: str, options: SubscribeOptions | None, expected: Any) -> None:
    session = joined()
    rid = session.subscribe(topic, options)
    assert wire(session) == [[32, rid, expected, topic]]
    assert session.pending_requests == {rid: "subscribe"}


def test_subscribe_exact_rejects_empty_components() -> None:
    session = joined()
    with pytest.raises(LocalProtocolError):
        session.subscribe("com..t")
    with pytest.raises(LocalProtocolError) as exc_info:
        joined(broker=()).subscribe("com..t", SubscribeOptions(match="wildcard"))
    assert exc_info.value.reason == "wamp.error.feature_not_supported"


def test_unsubscribe_wire_and_refcount() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    first = session.subscribe("com.example.t")
    second = session.subscribe("com.example.t")
    sid = router.subscribed(first)
    assert router.subscribed(second) == sid  # the router returns the same subscription
    assert session.subscriptions == {sid: "com.example.t"}
    router.take_sent()
    assert session.unsubscribe(sid) is None  # another local user remains: nothing sent
    assert router.take_sent() == []
    rid = session.unsubscribe(sid)
    assert rid is not None
    assert router.take_sent() == [[34, rid, sid]]
    assert session.pending_requests == {rid: "unsubscribe"}
    with pytest.raises(LocalProtocolError):  # already being removed
        session.unsubscribe(sid)
    assert router.take_sent() == []
    assert router.unsubscribed(rid) == [ev.Unsubscribed(rid, sid)]
    assert session.subscriptions == {}
    with pytest.raises(LocalProtocolError):
        session.unsubscribe(sid)


def test_unsubscribe_error_restores_the_subscription() -> None:
    router = ScriptedRouter()
    router.join()
    sid = router.subscribed(router.session.subscribe("com.example.t"))
    rid = router.session.unsubscribe(sid)
    assert rid is not None
    router.pump()
    (failed,) = router.error(34, rid, "wamp.error.not_authorized")
    assert app_error(failed).error == "wamp.error.not_authorized"
    assert router.session.subscriptions == {sid: "com.example.t"}
    assert router.event(sid, ["still here"], publication_id=8) == [
        ev.EventDelivered(sid, ["still here"], {}, EventDetails(sid, 8, "com.example.t"))
    ]
    assert router.session.unsubscribe(sid) == rid + 1


def test_unsubscribe_unknown() -> None:
    with pytest.raises(LocalProtocolError):
        joined().unsubscribe(12345)


@pytest.mark.parametrize(
    ("procedure", "options", "expected"),
    [
        ("com.example.p", None, {}),
        ("com.example", RegisterOptions(match="prefix"), {"match": "prefix"}),
        ("com..p", RegisterOptions(match="wildcard"), {"match": "wildcard"}),
        ("com.example.p", RegisterOptions(invoke="roundrobin"), {"invoke": "roundrobin"}),
        (
            "com.example.p",
            RegisterOptions(concurrency=2, force_reregister=True, disclose_caller=True),
            {"concurrency": 2, "force_reregister": True, "disclose_caller": True},
        ),
    ],
)
def test_register_wire(procedure: str, options: RegisterOptions | None, expected: Any) -> None:
    session = joined()
    rid = session.register(procedure, options)
    assert wire(session) == [[64, rid, expected, procedure]]
    assert session.pending_requests == {rid: "register"}


@pytest.mark.parametrize(
    "options", [RegisterOptions(match="prefix"), RegisterOptions(invoke="random")]
)
def test_register_options_need_features(options: RegisterOptions) -> None:
    session = joined(dealer=())
    with pytest.raises(LocalProtocolError) as exc_info:
        session.register("com.example.p", options)
    assert exc_info.value.reason == "wamp.error.feature_not_supported"
    assert wire(session) == []


def test_unregister_wire() -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    router.take_sent()
    rid = router.session.unregister(reg)
    assert router.take_sent() == [[66, rid, reg]]
    assert router.unregistered(rid) == [ev.Unregistered(rid, reg)]
    assert router.session.registrations == {}
    with pytest.raises(LocalProtocolError):
        router.session.unregister(reg)


def test_leave_wire() -> None:
    session = joined()
    session.leave()
    assert wire(session) == [[6, {}, "wamp.close.normal"]]
    assert session.state is S.SHUTTING_DOWN
    session = joined()
    session.leave("wamp.close.close_realm", "see you")
    assert wire(session) == [[6, {"message": "see you"}, "wamp.close.close_realm"]]
    with pytest.raises(LocalProtocolError):
        joined().leave("not a uri")


@pytest.mark.parametrize("mode", ["kill", "killnowait"])
def test_cancel_wire(mode: str) -> None:
    session = joined()
    rid = session.call("com.example.p")
    session.messages_to_send()
    assert session.cancel(rid, mode) is True
    assert wire(session) == [[49, rid, {"mode": mode}]]
    assert session.pending_requests == {rid: "call"}  # still waiting for the router's answer
    assert session.take_events() == []
    assert session.cancel(rid, mode) is True  # already canceled: nothing more is sent
    assert wire(session) == []


def test_cancel_skip_ends_the_call_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """Skip: the caller stops waiting now (Crossbar never answers a skip CANCEL)."""
    router = ScriptedRouter()
    router.join()
    session = router.session
    rid = session.call("com.example.slow", options=CallOptions(receive_progress=True))
    router.take_sent()
    assert session.cancel(rid, "skip") is True
    (failed,) = session.take_events()
    assert (failed.request_id, failed.kind) == (rid, "call")  # type: ignore[attr-defined]
    assert app_error(failed).error == ApplicationError.CANCELED
    assert session.pending_requests == {}
    assert router.take_sent() == [[49, rid, {"mode": "skip"}]]
    assert session.cancel(rid, "skip") is False  # no longer pending
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        # a spec router answers with ERROR canceled; the callee's result may follow
        assert router.error(48, rid, ApplicationError.CANCELED) == []
        assert router.result(rid, ["late"], progress=True) == []
        assert router.result(rid, ["late"]) == []
    assert session.state is S.ESTABLISHED
    assert router.take_sent() == []
    assert f"late ERROR(48) for finished call {rid}" in caplog.text


def test_late_answers_to_more_skipped_calls_than_are_remembered_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(A review.) A flood of calls skipped (a timeout with ``cancel_mode="skip"``) whose
    callee answers later: the oldest IDs leave the bounded memory of abandoned calls, and
    their late RESULT ended the session as a protocol violation. A RESULT naming a pending
    request of another kind still does."""
    router = ScriptedRouter()
    router.join()
    session = router.session
    rids = [session.call("com.example.slow") for _ in range(RECENT_MAX + 200)]
    for rid in rids:
        session.cancel(rid, "skip")
    session.take_events()
    router.take_sent()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for rid in rids:  # the oldest first: forgotten
            assert router.result(rid, ["late"]) == []
            assert router.result(rid, ["late"], progress=True) == []
    assert session.state is S.ESTABLISHED
    assert f"late RESULT for finished call {rids[0]}" in caplog.text
    sub = session.subscribe("com.example.topic")  # a RESULT naming another request
    router.take_sent()
    router.result(sub, ["not a call"])
    assert router.session.state is S.FAILED
    assert [(msg[0], msg[2]) for msg in router.take_sent()] == [(3, VIOLATION)]


def test_cancel_rejects_bad_mode_and_non_calls() -> None:
    session = joined()
    rid = session.subscribe("com.example.t")
    with pytest.raises(LocalProtocolError):
        session.cancel(rid, "nuke")
    assert session.cancel(rid) is False
    assert session.cancel(999) is False
    session.messages_to_send()
    assert wire(session) == []


def test_yield_wire() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    reg = router.registered(session.register("com.example.p"))
    inv, _ = router.invoke(reg, details={"receive_progress": True})
    inv2, _ = router.invoke(reg)
    inv3, _ = router.invoke(reg)
    router.take_sent()
    assert session.yield_result(inv, ["part"], progress=True) is True
    assert session.yield_result(inv, [1], {"a": 2}) is True
    assert session.yield_error(inv2, "com.example.oops", [1], {"k": 2}) is True
    assert session.yield_result(inv3) is True
    assert router.take_sent() == [
        [70, inv, {"progress": True}, ["part"]],
        [70, inv, {}, [1], {"a": 2}],
        [8, 68, inv2, {}, "com.example.oops", [1], {"k": 2}],
        [70, inv3, {}],
    ]
    assert session.open_invocations == frozenset()


def test_yield_progress_needs_receive_progress() -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    inv, _ = router.invoke(reg)
    router.take_sent()
    with pytest.raises(LocalProtocolError):
        router.session.yield_result(inv, progress=True)
    assert router.take_sent() == []
    assert router.session.open_invocations == {inv}


def test_yield_for_unknown_invocation() -> None:
    session = joined()
    with pytest.raises(LocalProtocolError):
        session.yield_result(5)
    with pytest.raises(LocalProtocolError):
        session.yield_error(5, "com.example.e")


def test_yield_transparent_payload() -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    inv, _ = router.invoke(reg)
    router.take_sent()
    router.session.yield_result(inv, payload=b"\x02")
    assert router.take_sent() == [[70, inv, {}, b"\x02"]]


def test_yield_error_validates_uri_and_keeps_invocation_open() -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    inv, _ = router.invoke(reg)
    with pytest.raises(LocalProtocolError):
        router.session.yield_error(inv, "not a uri")
    assert router.session.open_invocations == {inv}


# ============================================================================================
# Events: every type, exact fields


def test_call_succeeded_and_progress() -> None:
    router = ScriptedRouter()
    router.join()
    rid = router.session.call("com.example.p", options=CallOptions(receive_progress=True))
    router.pump()
    assert router.result(rid, [1], {"a": 2}, progress=True) == [
        ev.CallProgress(
            rid, CallResult.build([1], {"a": 2}, progress=True, details={"progress": True})
        )
    ]
    assert router.result(rid, progress=True) == [
        ev.CallProgress(rid, CallResult.build(progress=True, details={"progress": True}))
    ]
    assert router.session.pending_requests == {rid: "call"}
    assert router.result(rid, ["done"], details={"callee": 99, "callee_authid": "c"}) == [
        ev.CallSucceeded(
            rid, CallResult.build(["done"], details={"callee": 99, "callee_authid": "c"})
        )
    ]
    assert router.session.pending_requests == {}


def test_call_result_value() -> None:
    router = ScriptedRouter()
    router.join()
    rid = router.session.call("com.example.p")
    router.pump()
    (done,) = router.result(rid, [42])
    assert isinstance(done, ev.CallSucceeded)
    assert done.result.value == 42


def test_request_failed_carries_the_router_error() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    rids = {
        48: session.call("com.example.p"),
        16: session.publish("com.example.t", options=PublishOptions(acknowledge=True)),
        32: session.subscribe("com.example.t"),
        64: session.register("com.example.p"),
    }
    router.pump()
    kinds = {48: "call", 16: "publish", 32: "subscribe", 64: "register"}
    for rtype, rid in rids.items():
        (failed,) = router.error(rtype, rid, "wamp.error.not_authorized", ["no"], {"why": 1})
        assert isinstance(failed, ev.RequestFailed)
        assert (failed.request_id, failed.kind) == (rid, kinds[rtype])
        error = app_error(failed)
        assert error.error == "wamp.error.not_authorized"
        assert error.args == ("no",)
        assert error.kwargs == {"why": 1}
    assert session.pending_requests == {}
    assert session.subscriptions == {}
    assert session.registrations == {}


def test_unregister_error() -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    rid = router.session.unregister(reg)
    router.pump()
    (failed,) = router.error(66, rid, "wamp.error.no_such_registration")
    assert (failed.request_id, failed.kind) == (rid, "unregister")  # type: ignore[attr-defined]
    assert router.session.registrations == {reg: "com.example.p"}


def test_error_details_are_kept() -> None:
    session = joined()
    rid = session.call("com.example.p")
    (failed,) = session.receive_message(
        m.Error(
            request_type=48,
            request_id=rid,
            error="com.example.e",
            details={"callee": 5},
        )
    )
    assert app_error(failed).details == {"callee": 5}


def test_pubsub_events() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    rid = session.subscribe("com.example.t")
    router.pump()
    assert router.deliver(m.Subscribed(request_id=rid, subscription_id=11)) == [
        ev.Subscribed(rid, 11, "com.example.t")
    ]
    router.subscriptions[11] = "com.example.t"
    assert router.event(11, publication_id=900) == [
        ev.EventDelivered(11, [], {}, EventDetails(11, 900, "com.example.t"))
    ]
    details = {
        "publisher": 7,
        "publisher_authid": "bob",
        "publisher_authrole": "user",
        "retained": True,
        "x_extra": "kept",
    }
    assert router.event(11, [1], {"k": "v"}, details=details, publication_id=901) == [
        ev.EventDelivered(
            11,
            [1],
            {"k": "v"},
            EventDetails(11, 901, "com.example.t", 7, "bob", "user", True, extra=details),
        )
    ]
    pub = session.publish("com.example.t", options=PublishOptions(acknowledge=True))
    router.pump()
    assert router.deliver(m.Published(request_id=pub, publication_id=902)) == [
        ev.Published(pub, 902)
    ]
    unsub = session.unsubscribe(11)
    assert unsub is not None
    router.pump()
    assert router.unsubscribed(unsub) == [ev.Unsubscribed(unsub, 11)]


def test_event_transparent_payload() -> None:
    router = ScriptedRouter(broker=FULL_BROKER)
    router.join()
    sid = router.subscribed(router.session.subscribe("com.example.t"))
    events = router.deliver(
        m.Event(subscription_id=sid, publication_id=5, details={"ppt_scheme": "x"}, payload=b"\x09")
    )
    assert events == [
        ev.EventDelivered(
            sid, [], {}, EventDetails(sid, 5, "com.example.t", extra={"ppt_scheme": "x"}), b"\x09"
        )
    ]


def test_pattern_subscription_gets_the_concrete_topic() -> None:
    router = ScriptedRouter()
    router.join()
    rid = router.session.subscribe("com.example", SubscribeOptions(match="prefix"))
    sid = router.subscribed(rid)
    assert router.session.subscriptions == {sid: "com.example"}
    (event,) = router.event(sid, details={"topic": "com.example.deep.topic"}, publication_id=3)
    assert isinstance(event, ev.EventDelivered)
    assert event.details == EventDetails(
        sid, 3, "com.example.deep.topic", extra={"topic": "com.example.deep.topic"}
    )


def test_a_second_register_answered_with_the_same_registration_fails_alone() -> None:
    """Crossbar.io answers a shared registration's second REGISTER from one session with the
    registration it already has: that request fails, the session and the first stay."""
    session = joined(dealer=FULL_DEALER)
    shared = RegisterOptions(invoke="roundrobin")
    first = session.register("com.example.p", shared)
    session.receive_message(m.Registered(request_id=first, registration_id=21))
    second = session.register("com.example.p", shared)
    (failed,) = session.receive_message(m.Registered(request_id=second, registration_id=21))
    assert isinstance(failed, ev.RequestFailed) and failed.request_id == second
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == ApplicationError.PROCEDURE_ALREADY_EXISTS
    assert session.registrations == {21: "com.example.p"}
    assert session.is_joined
    # An abandoned second request: nothing to tell, and the registration is not undone.
    third = session.register("com.example.p", shared)
    session.abandon(third)
    wire(session)
    assert session.receive_message(m.Registered(request_id=third, registration_id=21)) == []
    assert wire(session) == [] and session.registrations == {21: "com.example.p"}
    # The same ID for another procedure is still a violation.
    other = session.register("com.example.q", shared)
    events = session.receive_message(m.Registered(request_id=other, registration_id=21))
    assert isinstance(events[-1], ev.Aborted)


def test_rpc_callee_events() -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    session = router.session
    rid = session.register("com.example.p")
    router.pump()
    assert router.deliver(m.Registered(request_id=rid, registration_id=21)) == [
        ev.Registered(rid, 21, "com.example.p")
    ]
    router.registrations[21] = "com.example.p"
    _, events = router.invoke(21, [1], {"x": 2}, request_id=5)
    assert events == [ev.InvocationReceived(5, 21, [1], {"x": 2}, CallDetails(21, "com.example.p"))]
    details = {
        "caller": 33,
        "caller_authid": "alice",
        "caller_authrole": "user",
        "receive_progress": True,
        "timeout": 1500,
        "x_y": 1,
    }
    _, events = router.invoke(21, details=details, request_id=6)
    assert events == [
        ev.InvocationReceived(
            6,
            21,
            [],
            {},
            CallDetails(21, "com.example.p", 33, "alice", "user", True, False, 1.5, extra=details),
        )
    ]
    assert session.open_invocations == {5, 6}
    assert router.interrupt(6, "kill", "wamp.close.killed") == [
        ev.InterruptReceived(6, "kill", "wamp.close.killed")
    ]
    assert router.interrupt(5) == [ev.InterruptReceived(5, "kill", None)]


def test_invocation_transparent_payload() -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    events = router.deliver(
        m.Invocation(request_id=1, registration_id=reg, details={}, payload="e2e-text")
    )
    assert events == [
        ev.InvocationReceived(1, reg, [], {}, CallDetails(reg, "com.example.p"), False, "e2e-text")
    ]


def test_pattern_and_shared_registration() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    rid = session.register("com.example..p", RegisterOptions(match="wildcard", invoke="random"))
    assert router.take_sent()[-1] == [
        64, rid, {"match": "wildcard", "invoke": "random"}, "com.example..p"
    ]  # fmt: skip
    reg = router.registered(rid)
    (event,) = router.invoke(reg, details={"procedure": "com.example.x.p"})[1]
    assert isinstance(event, ev.InvocationReceived)
    assert event.details.procedure == "com.example.x.p"


def test_revocations() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    sid = router.subscribed(session.subscribe("com.example.t"))
    reg = router.registered(session.register("com.example.p"))
    assert router.revoke_subscription(sid, "wamp.error.not_authorized") == [
        ev.SubscriptionRevoked(sid, "wamp.error.not_authorized")
    ]
    assert router.revoke_registration(reg) == [ev.RegistrationRevoked(reg, None)]
    assert session.subscriptions == {}
    assert session.registrations == {}
    with pytest.raises(LocalProtocolError):
        session.unsubscribe(sid)
    with pytest.raises(LocalProtocolError):
        session.unregister(reg)
    assert session.state is S.ESTABLISHED


def test_revocation_crossing_unsubscribe() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    sid = router.subscribed(session.subscribe("com.example.t"))
    rid = session.unsubscribe(sid)
    assert rid is not None
    router.pump()
    assert router.revoke_subscription(sid) == [ev.SubscriptionRevoked(sid, None)]
    # the router no longer knows the subscription when our UNSUBSCRIBE arrives
    (failed,) = router.error(34, rid, "wamp.error.no_such_subscription")
    assert (failed.request_id, failed.kind) == (rid, "unsubscribe")  # type: ignore[attr-defined]
    assert session.subscriptions == {}
    assert session.state is S.ESTABLISHED


# ============================================================================================
# Advanced RPC: progressive invocations, canceling, interrupts


def test_progressive_call_invocations_reuse_the_call_id() -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    router.take_sent()
    session = router.session
    rid = session.call(
        "com.example.upload", ["chunk0"], progress=True, options=CallOptions(receive_progress=True)
    )
    session.call_progress(rid, ["chunk1"])
    session.call_progress(rid, ["last"], {"n": 3}, final=True)
    other = session.call("com.example.p")
    assert (rid, other) == (1, 2)
    assert router.take_sent() == [
        [48, rid, {"receive_progress": True, "progress": True}, "com.example.upload", ["chunk0"]],
        [48, rid, {"progress": True}, "com.example.upload", ["chunk1"]],
        [48, rid, {}, "com.example.upload", ["last"], {"n": 3}],
        [48, other, {}, "com.example.p"],
    ]
    with pytest.raises(LocalProtocolError):  # the stream is closed
        session.call_progress(rid, ["more"])
    with pytest.raises(LocalProtocolError):  # not a progressive call
        session.call_progress(other, ["more"])
    with pytest.raises(LocalProtocolError):
        session.call_progress(999, ["more"])
    assert router.take_sent() == []


def test_progressive_call_invocations_need_the_feature() -> None:
    session = joined()  # Crossbar does not announce progressive_call_invocations
    with pytest.raises(LocalProtocolError) as exc_info:
        session.call("com.example.p", progress=True)
    assert exc_info.value.reason == "wamp.error.feature_not_supported"
    assert wire(session) == []
    assert session.pending_requests == {}


def test_progressive_invocations_as_callee() -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    session = router.session
    reg = router.registered(session.register("com.example.upload"))
    inv, events = router.invoke(reg, ["c0"], details={"progress": True, "receive_progress": True})
    assert events == [
        ev.InvocationReceived(
            inv,
            reg,
            ["c0"],
            {},
            CallDetails(
                reg,
                "com.example.upload",
                receive_progress=True,
                progress=True,
                extra={"progress": True, "receive_progress": True},
            ),
        )
    ]
    _, events = router.invoke(reg, ["c1"], details={"progress": True}, request_id=inv)
    assert events == [
        ev.InvocationReceived(
            inv,
            reg,
            ["c1"],
            {},
            CallDetails(reg, "com.example.upload", progress=True, extra={"progress": True}),
            continuation=True,
        )
    ]
    _, events = router.invoke(reg, ["c2"], request_id=inv)
    assert events == [
        ev.InvocationReceived(
            inv, reg, ["c2"], {}, CallDetails(reg, "com.example.upload"), continuation=True
        )
    ]
    # the stream is closed now: the same request ID again is a violation
    _, events = router.invoke(reg, ["c3"], request_id=inv)
    assert session.state is S.FAILED


def test_invocation_continuation_after_completion_is_discarded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = ScriptedRouter(dealer=FULL_DEALER)
    router.join()
    session = router.session
    reg = router.registered(session.register("com.example.upload"))
    inv, _ = router.invoke(reg, ["c0"], details={"progress": True})
    session.yield_result(inv, ["early answer"])
    router.take_sent()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        _, events = router.invoke(reg, ["c1"], details={"progress": True}, request_id=inv)
    assert events == []
    assert router.take_sent() == []
    assert session.state is S.ESTABLISHED
    assert f"completed invocation {inv}" in caplog.text


def test_cancel_killnowait_then_late_result_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    rid = session.call("com.example.slow", options=CallOptions(receive_progress=True))
    session.cancel(rid, "killnowait")
    router.take_sent()
    # progressive results after a cancel are no longer delivered
    assert router.result(rid, ["p"], progress=True) == []
    (failed,) = router.error(48, rid, ApplicationError.CANCELED)
    assert (failed.request_id, failed.kind) == (rid, "call")  # type: ignore[attr-defined]
    assert app_error(failed).error == "wamp.error.canceled"
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert router.result(rid, ["late"]) == []
        assert router.result(rid, ["late"], progress=True) == []
        assert router.error(48, rid, ApplicationError.CANCELED) == []
    assert session.state is S.ESTABLISHED
    assert router.take_sent() == []
    assert f"late RESULT for finished call {rid}" in caplog.text
    assert f"late progressive RESULT for finished call {rid}" in caplog.text
    assert f"late ERROR(48) for finished call {rid}" in caplog.text
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


def test_duplicate_final_result_is_a_violation() -> None:
    """Only canceled calls may see a second answer; for any other call it is a router bug."""
    router = ScriptedRouter()
    router.join()
    rid = router.session.call("com.example.p")
    assert len(router.result(rid, [1])) == 1
    events = router.result(rid, [1])
    assert isinstance(events[-1], ev.Aborted)
    assert events[-1].details.reason == VIOLATION
    assert router.session.state is S.FAILED


def test_cancel_kill_may_still_succeed() -> None:
    router = ScriptedRouter()
    router.join()
    rid = router.session.call("com.example.slow")
    assert router.session.cancel(rid) is True  # default mode: kill
    assert router.take_sent()[-1] == [49, rid, {"mode": "kill"}]
    assert router.result(rid, ["made it"]) == [ev.CallSucceeded(rid, CallResult("made it"))]


def test_cancel_without_call_canceling_abandons_locally(caplog: pytest.LogCaptureFixture) -> None:
    router = ScriptedRouter(dealer=())
    router.join()
    session = router.session
    rid = session.call("com.example.slow")
    router.take_sent()
    assert session.cancel(rid, "kill") is False
    (failed,) = session.take_events()
    assert router.take_sent() == []  # nothing on the wire
    assert session.pending_requests == {}
    assert (failed.request_id, failed.kind) == (rid, "call")  # type: ignore[attr-defined]
    assert app_error(failed).error == ApplicationError.CANCELED
    assert session.cancel(rid) is False
    assert session.take_events() == []
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert session.receive_message(m.Result(request_id=rid, args=["late"])) == []
    assert f"late RESULT for finished call {rid}" in caplog.text
    assert session.state is S.ESTABLISHED


def test_local_cancel_event_also_comes_with_the_next_message() -> None:
    router = ScriptedRouter(dealer=())
    router.join()
    rid = router.session.call("com.example.slow")
    other = router.session.call("com.example.p")
    router.session.cancel(rid)
    events = router.session.receive_message(m.Result(request_id=other))
    assert [type(e) for e in events] == [ev.RequestFailed, ev.CallSucceeded]


def test_interrupt_kill_callee_answers_canceled() -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    reg = router.registered(session.register("com.example.p"))
    inv, _ = router.invoke(reg)
    router.take_sent()
    assert router.interrupt(inv, "kill") == [ev.InterruptReceived(inv, "kill", None)]
    # The engine answers the kill itself and closes the invocation.
    assert router.take_sent() == [[8, 68, inv, {}, "wamp.error.canceled"]]
    assert session.open_invocations == frozenset()
    # Whatever the (cancelled) handler still returns is dropped.
    assert session.yield_error(inv, ApplicationError.CANCELED) is False
    assert session.yield_result(inv, ["too late"]) is False
    assert router.take_sent() == []


def test_interrupt_killnowait_closes_the_invocation(caplog: pytest.LogCaptureFixture) -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    reg = router.registered(session.register("com.example.p"))
    inv, _ = router.invoke(reg, details={"receive_progress": True})
    router.take_sent()
    assert router.interrupt(inv, "killnowait", "wamp.close.killed") == [
        ev.InterruptReceived(inv, "killnowait", "wamp.close.killed")
    ]
    assert session.open_invocations == frozenset()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert session.yield_result(inv, ["too late"]) is False
        assert session.yield_result(inv, ["too late"], progress=True) is False
        assert session.yield_error(inv, ApplicationError.CANCELED) is False
        # a second INTERRUPT for the finished invocation is tolerated
        assert router.interrupt(inv, "kill") == []
    assert router.take_sent() == []
    assert session.state is S.ESTABLISHED
    assert f"closed invocation {inv} dropped" in caplog.text
    assert f"INTERRUPT for finished invocation {inv}" in caplog.text


def test_interrupt_for_answered_invocation_is_tolerated(caplog: pytest.LogCaptureFixture) -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    inv, _ = router.invoke(reg)
    router.session.yield_result(inv, [1])
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert router.interrupt(inv) == []
        assert router.interrupt(12345) == []  # never seen at all: tolerated as well
    assert router.session.state is S.ESTABLISHED
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]


def test_event_after_unsubscribed_is_tolerated(caplog: pytest.LogCaptureFixture) -> None:
    router = ScriptedRouter()
    router.join()
    session = router.session
    sid = router.subscribed(session.subscribe("com.example.t"))
    rid = session.unsubscribe(sid)
    assert rid is not None
    router.pump()
    # events keep coming until UNSUBSCRIBED: still delivered
    assert len(router.event(sid)) == 1
    router.unsubscribed(rid)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert router.event(sid) == []
    assert session.state is S.ESTABLISHED
    assert f"EVENT for ended subscription {sid}" in caplog.text
    assert caplog.records[-1].levelno == logging.DEBUG


def test_event_after_revocation_is_tolerated() -> None:
    router = ScriptedRouter()
    router.join()
    sid = router.subscribed(router.session.subscribe("com.example.t"))
    router.revoke_subscription(sid)
    assert router.event(sid) == []
    assert router.session.state is S.ESTABLISHED


def test_invocation_for_ended_registration_is_answered() -> None:
    router = ScriptedRouter()
    router.join()
    reg = router.registered(router.session.register("com.example.p"))
    router.revoke_registration(reg)
    router.take_sent()
    assert router.deliver(m.Invocation(request_id=9, registration_id=reg)) == []
    assert router.take_sent() == [[8, 68, 9, {}, "wamp.error.no_such_registration"]]
    assert router.session.state is S.ESTABLISHED


# ============================================================================================
# Ending the session


def test_leave_and_goodbye_reply() -> None:
    session, info = make_session(S.ESTABLISHED)
    session.leave(message="bye")
    assert wire(session) == [[6, {"message": "bye"}, "wamp.close.normal"]]
    for name in ("call", "publish", "subscribe", "register", "leave"):
        with pytest.raises(SessionClosed):
            COMMANDS[name](session)
    assert session.cancel(_rid(info, "call")) is False
    assert session.yield_result(77) is False  # nothing may be sent while shutting down
    assert wire(session) == []
    events = session.receive_message(
        m.Goodbye(reason="wamp.close.goodbye_and_out", details={"message": "ciao"})
    )
    assert_closed_failures(events[:-1], info.requests, "wamp.close.normal")
    assert events[-1] == ev.Left(CloseDetails("wamp.close.normal", "ciao", local=True))
    assert session.state is S.CLOSED
    assert wire(session) == []  # GOODBYE is never answered twice
    assert (session.pending_requests, session.subscriptions, session.registrations) == ({}, {}, {})
    assert session.open_invocations == frozenset()


def test_router_goodbye_is_answered_with_goodbye_and_out() -> None:
    session, info = make_session(S.ESTABLISHED)
    events = session.receive_message(
        m.Goodbye(reason="wamp.close.system_shutdown", details={"message": "maintenance"})
    )
    assert wire(session) == [[6, {}, "wamp.close.goodbye_and_out"]]
    assert_closed_failures(events[:-1], info.requests, "wamp.close.system_shutdown")
    assert events[-1] == ev.Left(CloseDetails("wamp.close.system_shutdown", "maintenance"))
    assert session.state is S.CLOSED
    assert session.open_invocations == frozenset()
    assert session.yield_result(77) is False


def test_a_long_goodbye_message_is_kept_whole_and_quoted_cut() -> None:
    session, _ = make_session(S.ESTABLISHED)
    message = "m" * 100_000
    events = session.receive_message(
        m.Goodbye(reason="wamp.close.system_shutdown", details={"message": message})
    )
    assert events[-1] == ev.Left(CloseDetails("wamp.close.system_shutdown", message))
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert failed
    for e in failed:
        text = str(e.error)
        assert text.startswith("the session ended (wamp.close.system_shutdown): mmm")
        assert text.endswith("m...") and len(text) < 300


@pytest.mark.parametrize("state", [S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN])
def test_abort_received(state: SessionState) -> None:
    session, info = make_session(state)
    events = session.receive_message(
        m.Abort(
            reason="wamp.error.no_such_realm",
            details={"message": "nope"},
            args=[1],
            kwargs={"k": 2},
        )
    )
    assert_closed_failures(events[:-1], info.requests, "wamp.error.no_such_realm")
    assert events[-1] == ev.Aborted(
        CloseDetails("wamp.error.no_such_realm", "nope", local=False), [1], {"k": 2}
    )
    assert session.state is S.CLOSED
    assert wire(session) == []  # ABORT is never answered


def test_rejoin_after_a_session_on_the_same_transport() -> None:
    router = ScriptedRouter()
    router.join()
    router.abort("wamp.close.killed")
    assert router.session.state is S.CLOSED
    router.session.join(REALM)
    assert router.session.session_id is None  # the old session's details are gone
    assert [type(e) for e in router.welcome(session_id=99)] == [ev.Joined]
    assert router.session.session_id == 99


@pytest.mark.parametrize("state", list(SessionState))
def test_connection_lost(state: SessionState) -> None:
    session, info = make_session(state, after_session=False)
    if state is S.ESTABLISHED:
        info.requests[session.call("com.example.queued")] = "call"  # queued, never sent
    events = session.connection_lost()
    assert wire(session) == []
    lost = CloseDetails.REASON_TRANSPORT_LOST
    if state in (S.ESTABLISHED, S.SHUTTING_DOWN):
        assert_closed_failures(events[:-1], info.requests, lost)
        assert events[-1] == ev.Left(CloseDetails(lost, "transport lost"))
    elif state in (S.ESTABLISHING, S.CHALLENGING):
        assert events == [ev.Aborted(CloseDetails(lost, "transport lost", local=True))]
    else:
        assert events == []
    expected = S.FAILED if state is S.FAILED else S.CLOSED
    assert session.state is expected
    for command in COMMANDS.values():
        with pytest.raises(SessionClosed):
            command(session)
    assert session.connection_lost() == []


def test_commands_before_join() -> None:
    session = ClientSession()
    for name, command in COMMANDS.items():
        if name == "join":
            continue
        with pytest.raises(SessionClosed) as exc_info:
            command(session)
        assert exc_info.value.reason is None
    assert session.cancel(1) is False
    assert session.yield_result(1) is False
    assert wire(session) == []


@pytest.mark.parametrize("state", [S.ESTABLISHING, S.CHALLENGING])
def test_commands_while_joining(state: SessionState) -> None:
    session, _ = make_session(state)
    for name, command in COMMANDS.items():
        expected = LocalProtocolError if name == "join" else SessionClosed
        with pytest.raises(expected):
            command(session)
        assert session.state is state, name
    with pytest.raises(SessionClosed):
        session.yield_result(1)
    assert wire(session) == []


def test_protocol_violation_from_the_driver() -> None:
    session, info = make_session(S.ESTABLISHED)
    events = session.protocol_violation("undecodable frame")
    assert wire(session) == [[3, {"message": "undecodable frame"}, VIOLATION]]
    assert_closed_failures(events[:-1], info.requests, VIOLATION)
    assert events[-1] == ev.Aborted(CloseDetails(VIOLATION, "undecodable frame", local=True))
    assert session.state is S.FAILED


class _RefusingSender:
    """A sender (what a Connection passes) that refuses messages above ``limit`` characters."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []
        self.limit = 10**9

    def __call__(self, msg: m.Message) -> None:
        wmsg = msg.to_list()
        if len(repr(wmsg)) > self.limit:
            raise MessageTooLarge(f"{msg.NAME} over {self.limit}")
        self.sent.append(wmsg)


def _joined_with_sender() -> tuple[ClientSession, _RefusingSender]:
    sender = _RefusingSender()
    session = ClientSession(sender=sender)
    session.join(REALM)
    session.receive_message(welcome())
    sender.sent.clear()
    return session, sender


def test_a_command_that_cannot_be_sent_fails_at_the_call_and_uses_no_id() -> None:
    session, sender = _joined_with_sender()
    sender.limit = 100
    with pytest.raises(MessageTooLarge) as info:
        session.call("com.example.p", ["x" * 200])
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.reason == "wamp.error.payload_size_exceeded"
    with pytest.raises(MessageTooLarge):
        session.publish("com.example.t", ["x" * 200], options=PublishOptions(acknowledge=True))
    assert session.pending_requests == {}
    assert session.take_events() == []
    assert sender.sent == []
    # the next request goes out with the first ID: session-scope IDs increment by 1
    assert session.call("com.example.p") == 1
    assert sender.sent == [[48, 1, {}, "com.example.p"]]
    assert session.messages_to_send() == []  # with a sender there is no outbox


def test_an_answer_that_cannot_be_sent_leaves_the_invocation_open() -> None:
    session, sender = _joined_with_sender()
    rid = session.register("com.example.p")
    session.receive_message(m.Registered(request_id=rid, registration_id=7))
    session.receive_message(m.Invocation(request_id=5, registration_id=7))
    sender.sent.clear()
    sender.limit = 50
    with pytest.raises(MessageTooLarge):
        session.yield_result(5, ["x" * 100])
    assert 5 in session.open_invocations
    assert session.yield_error(5, "wamp.error.payload_size_exceeded") is True
    assert sender.sent == [[8, 68, 5, {}, "wamp.error.payload_size_exceeded"]]
    assert 5 not in session.open_invocations


def test_a_hello_that_cannot_be_sent_leaves_the_session_closed() -> None:
    sender = _RefusingSender()
    sender.limit = 10
    session = ClientSession(sender=sender)
    with pytest.raises(MessageTooLarge):
        session.join(REALM)
    assert session.state is S.CLOSED
    assert not session.has_ended
    sender.limit = 10**9
    session.join(REALM)
    assert state_of(session) is S.ESTABLISHING
