"""``wamp_core.testing``: the strategies draw what they claim, the invalid messages are refused,
and the in-memory pair joins, calls and publishes with no socket."""

from __future__ import annotations

import math
import socket
import string
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, find, given, settings, strategies as st

import wamp_core as wc
from wamp_core import events as ev, messages as m, testing as t
from wamp_core._testing import _pair
from wamp_core.serializers import SERIALIZER_NAMES, get_serializer

FAST = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def same(a: Any, b: Any, path: str = "value") -> None:
    """Equal, with the same types all the way down (``True`` is not ``1``, ``-0.0`` not ``0.0``)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys"
        for key in a:
            same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# --------------------------------------------------------------------------------------------
# Scalars


@FAST
@given(t.ids())
def test_ids_are_wamp_ids(value: int) -> None:
    assert wc.is_valid_id(value)


@FAST
@given(loose=t.uris(), strict=t.uris(strict=True))
def test_uris_follow_the_loose_and_strict_rules(loose: str, strict: str) -> None:
    assert wc.is_valid_uri(loose)
    assert wc.is_valid_uri(strict, strict=True) and wc.is_valid_uri(strict)
    assert set(strict) <= set(string.ascii_lowercase + string.digits + "_.")
    assert m.Call(request_id=1, procedure=loose).procedure == loose


@FAST
@given(prefix=t.pattern_uris("prefix"), wildcard=t.pattern_uris("wildcard"))
def test_pattern_uris(prefix: str, wildcard: str) -> None:
    assert wc.is_valid_pattern(prefix, "prefix")
    assert prefix == "" or wc.is_valid_uri(prefix.removesuffix("."))
    assert "" in wildcard.split(".")
    assert wc.is_valid_uri(wildcard, allow_empty=True) and not wc.is_valid_uri(wildcard)
    for match, uri in (("prefix", prefix), ("wildcard", wildcard)):
        m.Subscribe(request_id=1, topic=uri, options={"match": match})
        m.Register(request_id=1, procedure=uri, options={"match": match})


@FAST
@given(exact=t.pattern_uris("exact"), strict=t.pattern_uris("wildcard", strict=True))
def test_exact_and_strict_patterns(exact: str, strict: str) -> None:
    assert wc.is_valid_uri(exact)
    assert wc.is_valid_uri(strict, strict=True, allow_empty=True)


def test_unknown_match_is_refused() -> None:
    with pytest.raises(ValueError, match="match must be"):
        t.pattern_uris("glob")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Payload values


@pytest.mark.parametrize("name", [*t.SERIALIZERS, None])
def test_payload_values_round_trip_through_their_serializer(name: str | None) -> None:
    names = [name] if name is not None else [n for n in t.SERIALIZERS if n != "flatbuffers"]
    codecs = [get_serializer(n) for n in names]

    @FAST
    @given(value=t.payload_values(name), args=t.args(name), kwargs=t.kwargs(name))
    def check(value: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
        message = m.Call(request_id=1, procedure="com.example", args=[value, *args], kwargs=kwargs)
        for codec in codecs:
            same(codec.loads(codec.dumps(value)), value)
            decoded = codec.decode(codec.encode(message))
            same(decoded.to_list(), message.to_list())

    check()


def _find(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> Any:
    return find(strategy, condition, settings=settings(database=None, max_examples=2000))


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, dict):
        yield from value.keys()
        for item in value.values():
            yield from _scalars(item)
    else:
        yield value


def _keys(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [key for item in value for key in _keys(item)]
    if isinstance(value, dict):
        return [*value, *(key for item in value.values() for key in _keys(item))]
    return []


def _holds(condition: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: any(condition(item) for item in _scalars(value))


def test_the_domains_differ_where_the_formats_do() -> None:
    for name in ("cbor", "ubjson", "flatbuffers"):
        assert _find(t.payload_values(name), _holds(lambda v: type(v) is int and v >= 2**64))
    for name in ("msgpack", "cbor"):
        assert _find(t.payload_values(name), _holds(lambda v: type(v) is float and math.isinf(v)))
        assert _find(t.payload_values(name), _holds(lambda v: type(v) is str and v[:1] == "\x00"))
        assert _find(t.payload_values(name), lambda v: type(v) is dict and b"" in v)

    @settings(max_examples=100)
    @given(st.sampled_from(["json", "ubjson", None]).flatmap(
        lambda name: st.tuples(st.just(name), t.payload_values(name))))  # fmt: skip
    def narrow(drawn: tuple[str | None, Any]) -> None:
        name, value = drawn
        for item in _scalars(value):  # dict keys included: str only in these domains
            if name != "ubjson":
                assert type(item) is not int or -(2**63) <= item < 2**64
                assert not (type(item) is str and item.startswith("\x00")) or item in _keys(value)
            assert type(item) is not float or math.isfinite(item)
        assert all(type(key) is str for key in _keys(value))

    narrow()
    with pytest.raises(ValueError, match="unknown serializer"):
        t.payload_values("xml")
    t.payload_values("cbor.batched")


# --------------------------------------------------------------------------------------------
# Options and details

OPTION_STRATEGIES: list[tuple[Callable[[], st.SearchStrategy[dict[str, Any]]], Any]] = [
    (t.hello_details, lambda d: m.Hello(realm="r", details=d)),
    (t.welcome_details, lambda d: m.Welcome(session_id=1, details=d)),
    (t.close_details, lambda d: m.Goodbye(reason="wamp.close.normal", details=d)),
    (t.close_details, lambda d: m.Abort(reason="wamp.error.x", details=d)),
    (t.auth_extra, lambda d: m.Challenge(method="ticket", extra=d)),
    (t.auth_extra, lambda d: m.Authenticate(signature="s", extra=d)),
    (t.error_details, lambda d: m.Error(request_type=48, request_id=1, error="e", details=d)),
    (t.publish_options, lambda d: m.Publish(request_id=1, topic="t", options=d)),
    (t.subscribe_options, lambda d: m.Subscribe(request_id=1, topic="t", options=d)),
    (t.event_details, lambda d: m.Event(subscription_id=1, publication_id=2, details=d)),
    (lambda: t.revocation_details("subscription"), lambda d: m.Unsubscribed(request_id=0,
                                                                           details=d)),
    (lambda: t.revocation_details("registration"), lambda d: m.Unregistered(request_id=0,
                                                                           details=d)),
    (t.call_options, lambda d: m.Call(request_id=1, procedure="p", options=d)),
    (t.cancel_options, lambda d: m.Cancel(request_id=1, options=d)),
    (t.result_details, lambda d: m.Result(request_id=1, details=d)),
    (t.register_options, lambda d: m.Register(request_id=1, procedure="p", options=d)),
    (t.invocation_details, lambda d: m.Invocation(request_id=1, registration_id=2, details=d)),
    (t.interrupt_options, lambda d: m.Interrupt(request_id=1, options=d)),
    (t.yield_options, lambda d: m.Yield(request_id=1, options=d)),
]  # fmt: skip


@pytest.mark.parametrize(("strategy", "build"), OPTION_STRATEGIES)
def test_option_dicts_are_valid_in_their_message(
    strategy: Callable[[], st.SearchStrategy[dict[str, Any]]], build: Any
) -> None:
    @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy())
    def check(options: dict[str, Any]) -> None:
        message = build(options)
        assert options in list(message)
        assert m.parse_message(get_serializer("json").loads(get_serializer("json").dumps(
            message.to_list()))) == message  # fmt: skip

    check()


def test_revocation_details_need_a_kind() -> None:
    with pytest.raises(ValueError, match="subscription"):
        t.revocation_details("event")


ALL_FEATURES = frozenset(
    {
        "call_timeout", "progressive_call_results", "caller_identification",
        "payload_passthru_mode", "pattern_based_registration", "shared_registration",
        "pattern_based_subscription", "event_retention", "publisher_exclusion",
        "subscriber_blackwhite_listing", "publisher_identification",
    }
)  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "build"),
    [
        (wc.CallOptions, lambda o: m.Call(request_id=1, procedure="p", options=o)),
        (wc.PublishOptions, lambda o: m.Publish(request_id=1, topic="t", options=o)),
        (wc.SubscribeOptions, lambda o: m.Subscribe(request_id=1, topic="t", options=o)),
        (wc.RegisterOptions, lambda o: m.Register(request_id=1, procedure="p", options=o)),
    ],
)
def test_typed_options_build_valid_wire_options(cls: Any, build: Any) -> None:
    @settings(max_examples=40)
    @given(t.typed_options(cls))
    def check(options: Any) -> None:
        assert type(options) is cls
        build(options.to_options(ALL_FEATURES))

    check()


def test_typed_options_of_another_class_is_an_error() -> None:
    with pytest.raises(TypeError, match="typed_options takes"):
        t.typed_options(wc.SessionDetails)  # type: ignore[type-var]


# --------------------------------------------------------------------------------------------
# Messages


def test_every_message_class_is_covered() -> None:
    assert list(t.ALL_MESSAGE_CLASSES) == [
        m.MESSAGE_CLASSES[code] for code in sorted(m.MESSAGE_CLASSES)
    ]
    with pytest.raises(TypeError, match="not a WAMP message class"):
        t.message_of(m.Message)
    with pytest.raises(ValueError, match="unknown serializer"):
        t.messages("xml")


@pytest.mark.parametrize("cls", t.ALL_MESSAGE_CLASSES, ids=lambda cls: cls.NAME)
def test_message_of_draws_valid_instances_within_the_arity(cls: type[m.Message]) -> None:
    low, high = t.arity(cls)

    @settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
    @given(t.message_of(cls))
    def check(message: m.Message) -> None:
        assert type(message) is cls
        raw = message.to_list()
        assert low <= len(raw) <= high
        assert m.parse_message(raw) == message

    check()


@pytest.mark.parametrize("name", [n for n in SERIALIZER_NAMES if not n.startswith("flat")])
def test_messages_for_a_serializer_round_trip_through_it(name: str) -> None:
    codec = get_serializer(name)

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(t.messages(name))
    def check(message: m.Message) -> None:
        decoded = codec.decode(codec.encode(message))
        same(decoded.to_list(), message.to_list())

    check()


# --------------------------------------------------------------------------------------------
# Invalid messages


def _refused(raw: list[Any]) -> wc.RemoteProtocolError:
    with pytest.raises(wc.RemoteProtocolError) as info:
        m.parse_message(raw)
    return info.value


@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow])
@given(t.invalid_messages())
def test_invalid_messages_are_refused_by_the_parser(drawn: tuple[list[Any], str]) -> None:
    raw, reason = drawn
    assert reason in t.INVALID_REASONS
    event(reason)
    error = _refused(raw)
    assert error.reason in ("wamp.error.protocol_violation", "wamp.error.invalid_uri")
    with pytest.raises(wc.RemoteProtocolError):
        m.Message.from_list(raw)


@pytest.mark.parametrize("reason", t.INVALID_REASONS)
def test_every_reason_is_drawn_and_refused(reason: str) -> None:
    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(t.invalid_messages(reasons=[reason]))
    def check(drawn: tuple[list[Any], str]) -> None:
        assert drawn[1] == reason
        _refused(drawn[0])

    check()


@pytest.mark.parametrize("name", ["json", "msgpack", "cbor", "ubjson"])
def test_invalid_messages_are_refused_by_every_serializer(name: str) -> None:
    codec = get_serializer(name)

    @settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
    @given(t.invalid_messages(name))
    def check(drawn: tuple[list[Any], str]) -> None:
        raw, reason = drawn
        data = codec.dumps(raw)
        same(codec.loads(data), raw)  # the parser sees exactly raw
        event(reason)
        with pytest.raises(wc.RemoteProtocolError):
            codec.decode(data)

    check()


def test_invalid_messages_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="schema-bound"):
        t.invalid_messages("flatbuffers")
    with pytest.raises(ValueError, match="unknown reason"):
        t.invalid_messages(reasons=["bad vibes"])
    with pytest.raises(ValueError, match="cannot carry"):
        t.invalid_messages("json", reasons=[t.NON_STRING_KEY])
    with pytest.raises(ValueError, match="empty"):
        t.invalid_messages(reasons=[])


# --------------------------------------------------------------------------------------------
# The in-memory pair


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the in-memory pair opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def _only(events: list[Any], kind: type[Any]) -> Any:
    assert [type(e) for e in events] == [kind], events
    return events[0]


@pytest.mark.usefixtures("no_sockets")
@pytest.mark.parametrize(
    ("transport", "serializer"),
    [
        ("rawsocket", "json"),
        ("rawsocket", "msgpack"),
        ("rawsocket", "cbor"),
        ("rawsocket", "ubjson"),
        ("websocket", "json"),
        ("websocket", "cbor.batched"),
    ],
)
def test_a_pair_joins_calls_and_publishes(transport: Any, serializer: str) -> None:
    caller = t.connection_pair("realm1", serializer=serializer, transport=transport)
    joined = caller.join()
    assert joined.details.realm == "realm1" and joined.details.serializer == serializer
    assert caller.router_session.session_id == joined.details.session
    callee = t.connection_pair(router=caller.router, serializer="msgpack")
    callee.join()

    # RPC: the callee registers, the caller calls, the callee answers.
    callee.session.register("com.example.add")
    _only(callee.pump(), ev.Registered)
    request = caller.session.call("com.example.add", [2, 3])
    assert caller.pump() == []  # the invocation waits at the callee
    invocation = _only(callee.take_events(), ev.InvocationReceived)
    callee.session.yield_result(invocation.request_id, [sum(invocation.args)])
    assert callee.pump() == []
    result = _only(caller.take_events(), ev.CallSucceeded)
    assert result.request_id == request and result.result.value == 5

    # Pub/sub: the caller subscribes, the callee publishes.
    caller.session.subscribe("com.example.news")
    _only(caller.pump(), ev.Subscribed)
    callee.session.publish("com.example.news", ["hello"], {"n": 1})
    callee.pump()
    delivered = _only(caller.take_events(), ev.EventDelivered)
    assert delivered.args == ["hello"] and delivered.kwargs == {"n": 1}

    # Leaving: GOODBYE both ways, the router closes and forgets the session.
    assert ev.Left in [type(e) for e in caller.leave()]
    assert caller.server.should_close and caller.client.closed
    assert set(caller.router.engine.sessions) == {callee.router_session.session_id}
    assert caller.pump() == []


def test_events_wait_for_their_pair_and_join_keeps_the_others() -> None:
    router = t.MemoryRouter(seed=3)
    a, b = router.connect(), router.connect(serializer="cbor")
    assert a.open() != [] and a.open() == []  # the transport opens once
    a.join()
    b.join()
    a.session.subscribe("t.x")
    b.session.subscribe("t.x")
    router.pump()
    _only(a.take_events(), ev.Subscribed)
    _only(b.take_events(), ev.Subscribed)
    b.session.publish("t.x", ["1"], options=wc.PublishOptions(exclude_me=False))
    router.pump()
    _only(a.take_events(), ev.EventDelivered)
    _only(b.pump(), ev.EventDelivered)  # collected while a's pump ran, returned now
    assert "2 client(s)" in repr(router) and "realm1" in repr(a)


def test_ids_come_from_the_seed() -> None:
    first = t.connection_pair(seed=5).join().details.session
    assert t.connection_pair(seed=5).join().details.session == first
    assert t.connection_pair(seed=6).join().details.session != first


def test_a_refused_join_and_a_lost_connection() -> None:
    pair = t.connection_pair("realm1")
    with pytest.raises(AssertionError, match="did not join"):
        pair.join("no.such.realm")
    assert not pair.router.engine.sessions

    other = t.connection_pair(router=pair.router)
    other.join()
    events = other.disconnect()
    assert ev.Left in [type(e) for e in events] and ev.Closed in [type(e) for e in events]
    assert not pair.router.engine.sessions
    assert other.disconnect() == []  # idempotent

    dropped = t.connection_pair(router=pair.router)
    dropped.join()
    dropped.router_session.end()  # the router drops the client: its socket closes
    left, closed = dropped.pump()
    assert isinstance(left, ev.Left) and isinstance(closed, ev.Closed)
    assert left.details.reason == "wamp.close.transport_lost"


def test_a_raw_list_survives_a_codec_only_unchanged() -> None:
    from wamp_core._testing._invalid import _identical, _survives

    assert _identical([1, {"a": [b"x", 1.5]}], [1, {"a": [b"x", 1.5]}])
    assert not _identical([True], [1]) and not _identical({"a": 1}, {"b": 1})
    assert not _identical([1, 2], [1])
    json = get_serializer("json")
    assert _survives(json, [48, 1, {}, "p"])
    assert not _survives(json, [48, 1, {1: "x"}, "p"])  # the key comes back as "1"
    assert not _survives(get_serializer("msgpack"), [48, 1, {1: "x"}, "p"])  # refused


def test_the_router_clock_moves_only_when_told() -> None:
    router = t.MemoryRouter()
    caller, callee = router.connect(), router.connect()
    caller.join()
    callee.join()
    callee.session.register("slow")
    callee.pump()
    caller.session.call("slow", options=wc.CallOptions(timeout=2.0))
    router.pump()
    _only(callee.take_events(), ev.InvocationReceived)
    router.tick(1.0)
    assert caller.take_events() == []
    router.tick(2.5)
    failed = _only(caller.take_events(), ev.RequestFailed)
    assert failed.uri == "wamp.error.timeout"
    assert _only(callee.take_events(), ev.InterruptReceived).mode == "killnowait"


def test_a_custom_engine_and_bad_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = wc.Router(["a.realm"], auto_realms=True)
    router = t.MemoryRouter(engine)
    assert router.engine is engine
    assert router.connect("other.realm", transport="websocket").join().details.realm == (
        "other.realm"
    )
    with pytest.raises(ValueError, match="transport must be"):
        router.connect(transport="carrier-pigeon")  # type: ignore[arg-type]
    pair = router.connect()
    pair.client.initiate()
    monkeypatch.setattr(_pair, "MAX_ROUNDS", 0)
    with pytest.raises(RuntimeError, match="did not go quiet"):
        pair.pump()
