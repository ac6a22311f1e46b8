"""Tests for wamp_core._config._reconnect (pure reconnect policy).

The noise of the jitter comes from each transport (``retry_delay_jitter`` as a callable in the
dict, or ``TransportConfig.retry_delay_noise``); tests inject fixed sources.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from wamp_core import (
    ApplicationError,
    Attempt,
    AuthenticationError,
    ConfigurationError,
    HandshakeError,
    LocalProtocolError,
    ProtocolError,
    ReconnectExhausted,
    ReconnectPolicy,
    SessionClosed,
    TransportConfig,
    TransportError,
    default_is_fatal,
    parse_transports,
)
from wamp_core._config._reconnect import retry_delay


def transport(
    url: str = "ws://h/", *, noise: Callable[[], float] | None = None, **settings: Any
) -> TransportConfig:
    """A parsed transport; ``noise`` replaces its noise source (keeping a numeric spread)."""
    config = parse_transports({"url": url, **settings})[0]
    return config if noise is None else dataclasses.replace(config, retry_delay_noise=noise)


def fixed(value: float) -> Callable[[], float]:
    return lambda: value


def cycle(*values: float) -> Callable[[], float]:
    it: Iterator[float] = itertools.cycle(values)
    return lambda: next(it)


def run_failures(policy: ReconnectPolicy, count: int) -> list[Attempt]:
    """Take ``count`` attempts, failing each one with a transient error."""
    attempts = []
    for _ in range(count):
        attempt = policy.next_attempt()
        assert attempt is not None
        attempts.append(attempt)
        policy.failed(OSError("connection refused"))
    return attempts


# ---------------------------------------------------------------------------------- delays


def test_default_delay_sequence_without_jitter() -> None:
    # The page's form: a 0-argument callable as retry_delay_jitter (here: always the middle).
    policy = ReconnectPolicy([transport(retry_delay_jitter=fixed(0.5))])
    delays = [a.delay for a in run_failures(policy, 6)]
    # First attempt immediately; first retry waits initial_retry_delay (Autobahn: initial*growth).
    # Page defaults: initial 1.0 s, growth 1.5.
    assert delays == pytest.approx([0.0, 1.0, 1.5, 2.25, 3.375, 5.0625])


def test_page_defaults_reach_the_60_s_cap() -> None:
    policy = ReconnectPolicy([transport(retry_delay_jitter=fixed(0.5))])
    delays = [a.delay for a in run_failures(policy, 14)][1:]
    assert delays[:11] == pytest.approx([1.5**k for k in range(11)])  # 1.0 ... 57.67
    assert delays[11:] == [60.0, 60.0]


def test_callable_jitter_is_the_noise_source_with_a_10_percent_spread() -> None:
    t = transport(retry_delay_jitter=fixed(1.0))
    assert t.retry_delay_jitter == 0.1
    delays = [a.delay for a in run_failures(ReconnectPolicy([t]), 4)]
    assert delays == pytest.approx([0.0, 1.1, 1.65, 2.475])
    low_policy = ReconnectPolicy([transport(retry_delay_jitter=fixed(0))])
    low = [a.delay for a in run_failures(low_policy, 3)]
    assert low == pytest.approx([0.0, 0.9, 1.35])


def test_noise_is_drawn_once_per_retry_and_never_for_a_first_attempt() -> None:
    draws: list[float] = []

    def noise() -> float:
        draws.append(0.5)
        return 0.5

    a = transport("ws://a/", retry_delay_jitter=noise)
    b = transport("ws://b/", retry_delay_jitter=0)
    policy = ReconnectPolicy([a, b])
    run_failures(policy, 2)  # the first attempt of each transport: no draw
    assert draws == []
    run_failures(policy, 4)  # a, b, a, b: a draws twice, b uses its own (default) source
    assert len(draws) == 2
    attempt = policy.next_attempt()
    assert attempt is not None and attempt.index == 0
    assert len(draws) == 3
    policy.joined()
    policy.failed(OSError())
    assert policy.next_attempt() is not None  # after a join the next attempt waits 0: no draw
    assert len(draws) == 3


def test_the_transport_is_the_one_place_that_decides_the_noise() -> None:
    t = transport(retry_delay_jitter=fixed(1.0))
    assert retry_delay(t, 1) == pytest.approx(1.1)  # drawn from the transport
    assert retry_delay(t, 1, 0.0) == pytest.approx(0.9)  # or given explicitly (pure)
    with pytest.raises(TypeError):
        ReconnectPolicy([t], random=fixed(0.5))  # type: ignore[call-arg]


def test_numeric_jitter_uses_random_random() -> None:
    t = transport(retry_delay_jitter=0.5)
    assert t.retry_delay_jitter == 0.5
    assert t.retry_delay_noise == random.random
    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    random.seed(1234)
    delays = [a.delay for a in run_failures(ReconnectPolicy([t]), 4)][1:]
    bases = [1.0, 1.5, 2.25]
    jittered = [b * (1 + 0.5 * (2 * u - 1)) for b, u in zip(bases, expected, strict=True)]
    assert delays == pytest.approx(jittered)


def test_delay_capped_at_max() -> None:
    t = transport(
        initial_retry_delay=1, retry_delay_growth=2, max_retry_delay=5, retry_delay_jitter=0
    )
    policy = ReconnectPolicy([t])
    assert [a.delay for a in run_failures(policy, 7)] == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_jitter_bounds() -> None:
    t = transport(
        initial_retry_delay=2, retry_delay_growth=2, max_retry_delay=10, retry_delay_jitter=0.25
    )
    low = ReconnectPolicy([dataclasses.replace(t, retry_delay_noise=fixed(0.0))])
    assert [a.delay for a in run_failures(low, 5)] == pytest.approx([0.0, 1.5, 3.0, 6.0, 7.5])
    high = ReconnectPolicy([dataclasses.replace(t, retry_delay_noise=fixed(1.0))])
    # 2*1.25, 4*1.25, 8*1.25 = 10 (exactly the cap), 10*1.25 capped to 10: never above max.
    assert [a.delay for a in run_failures(high, 5)] == pytest.approx([0.0, 2.5, 5.0, 10.0, 10.0])


def test_jitter_is_not_compounded() -> None:
    # Alternate extreme jitter: each delay is the geometric value times its own factor,
    # independent of the jitter drawn before (Autobahn stores the jittered value: a random walk).
    t = transport(
        initial_retry_delay=1,
        retry_delay_growth=2,
        max_retry_delay=1000,
        retry_delay_jitter=0.5,
        noise=cycle(0.0, 1.0),
    )
    policy = ReconnectPolicy([t])
    delays = [a.delay for a in run_failures(policy, 7)][1:]
    assert delays == pytest.approx([0.5, 3.0, 2.0, 12.0, 8.0, 48.0])


def test_jitter_one_can_reach_zero_but_not_negative() -> None:
    t = transport(initial_retry_delay=3, retry_delay_jitter=1, noise=fixed(0.0))
    policy = ReconnectPolicy([t])
    assert [a.delay for a in run_failures(policy, 3)] == [0.0, 0.0, 0.0]


def test_noise_at_the_ends_of_0_1_is_accepted() -> None:
    t = transport(initial_retry_delay=4, max_retry_delay=5, retry_delay_jitter=0.5)
    high = dataclasses.replace(t, retry_delay_noise=fixed(1))  # an int is fine
    assert [a.delay for a in run_failures(ReconnectPolicy([high]), 2)] == [0.0, 5.0]
    low = dataclasses.replace(t, retry_delay_noise=fixed(0.0))
    assert [a.delay for a in run_failures(ReconnectPolicy([low]), 2)] == [0.0, 2.0]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (7.0, "returned 7.0"),
        (-3.0, "returned -3.0"),
        (1.0000001, "returned 1.0000001"),
        (float("nan"), "returned nan"),
        (float("inf"), "returned inf"),
        ("0.5", "returned a str"),
        (None, "returned a NoneType"),
        (True, "returned a bool"),
    ],
)
def test_noise_out_of_range_is_an_error_when_drawn(value: Any, shown: str) -> None:
    """Out-of-range noise is refused, not clamped (a Twisted-style callable returning seconds
    would otherwise silently pin every delay to the top of its range)."""
    ok = transport("ws://ok/", max_retries=0)
    bad = transport("ws://bad/", retry_delay_jitter=lambda: value)  # accepted when parsed
    policy = ReconnectPolicy([ok, bad])
    run_failures(policy, 2)  # both first attempts: nothing drawn yet
    with pytest.raises(ConfigurationError) as info:
        policy.next_attempt()
    message = str(info.value)
    assert message.startswith("transport 1 (ws://bad/): the 'retry_delay_jitter' noise source")
    assert "must return a float in [0, 1]" in message
    assert shown in message
    assert default_is_fatal(info.value)
    # Nothing changed: the same error again, no attempt handed out.
    assert policy.attempts == 2
    with pytest.raises(ConfigurationError):
        policy.next_attempt()
    with pytest.raises(ConfigurationError):
        retry_delay(bad, 1)
    with pytest.raises(ConfigurationError, match="returned 2"):
        retry_delay(ok, 1, 2)


def test_noise_source_exceptions_propagate() -> None:
    def broken() -> float:
        raise RuntimeError("entropy pool on fire")

    policy = ReconnectPolicy([transport(retry_delay_jitter=broken)])
    run_failures(policy, 1)
    with pytest.raises(RuntimeError, match="on fire"):
        policy.next_attempt()


def test_growth_one_is_constant_and_zero_initial_is_zero() -> None:
    constant = transport(initial_retry_delay=2, retry_delay_growth=1, retry_delay_jitter=0)
    assert [a.delay for a in run_failures(ReconnectPolicy([constant]), 5)] == [
        0.0,
        2.0,
        2.0,
        2.0,
        2.0,
    ]
    zero = transport(initial_retry_delay=0, retry_delay_growth=3)
    assert [a.delay for a in run_failures(ReconnectPolicy([zero]), 4)] == [0.0] * 4


def test_huge_failure_count_does_not_overflow() -> None:
    t = transport(
        initial_retry_delay=1, retry_delay_growth=10, max_retry_delay=60, retry_delay_jitter=0
    )
    assert retry_delay(t, 100_000) == 60.0
    assert retry_delay(t, 0) == 0.0
    assert retry_delay(t, 1) == 1.0


def test_initial_above_max_is_capped() -> None:
    t = transport(initial_retry_delay=50, max_retry_delay=10, retry_delay_jitter=0)
    assert [a.delay for a in run_failures(ReconnectPolicy([t]), 3)] == [0.0, 10.0, 10.0]


def test_default_random_is_used() -> None:
    t = transport(initial_retry_delay=10, retry_delay_growth=1, retry_delay_jitter=0.5)
    delays = [a.delay for a in run_failures(ReconnectPolicy([t]), 50)][1:]
    assert all(5.0 <= d <= 15.0 for d in delays)
    assert len(set(delays)) > 1


# ---------------------------------------------------------------------------------- max_retries


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_counts_retries_after_first_failure(max_retries: int) -> None:
    policy = ReconnectPolicy([transport(max_retries=max_retries)])
    attempts = run_failures(policy, max_retries + 1)
    assert [a.attempt for a in attempts] == list(range(1, max_retries + 2))
    assert policy.next_attempt() is None
    assert policy.exhausted
    assert policy.attempts == max_retries + 1
    assert policy.consecutive_failures(0) == max_retries + 1


def test_max_retries_forever() -> None:
    policy = ReconnectPolicy(
        [transport(max_retries=-1, max_retry_delay=1, retry_delay_jitter=fixed(0.5))]
    )
    attempts = run_failures(policy, 500)
    assert attempts[-1].attempt == 500
    assert attempts[-1].delay == 1.0
    assert not policy.exhausted


def test_joined_resets_counters_and_delays() -> None:
    t = transport(max_retries=2, initial_retry_delay=1, retry_delay_growth=2, retry_delay_jitter=0)
    policy = ReconnectPolicy([t])
    assert [a.delay for a in run_failures(policy, 2)] == [0.0, 1.0]
    attempt = policy.next_attempt()
    assert attempt is not None and attempt.delay == 2.0 and attempt.attempt == 3
    policy.joined()
    assert policy.consecutive_failures(0) == 0
    # The session is lost later: one failure, then the full retry budget is available again.
    policy.failed(SessionClosed("lost", reason="wamp.close.transport_lost"))
    attempts = run_failures(policy, 2)
    assert [(a.delay, a.attempt) for a in attempts] == [(1.0, 2), (2.0, 3)]
    assert policy.next_attempt() is None


def test_joined_without_later_failure_reconnects_immediately() -> None:
    policy = ReconnectPolicy([transport(max_retries=0)])
    assert policy.next_attempt() is not None
    policy.joined()
    attempt = policy.next_attempt()
    assert attempt is not None and attempt.delay == 0.0 and attempt.attempt == 1


def test_joined_resets_every_transport() -> None:
    a = transport("ws://a/", max_retries=1, initial_retry_delay=1, retry_delay_jitter=0)
    b = transport("ws://b/", max_retries=1, initial_retry_delay=1, retry_delay_jitter=0)
    policy = ReconnectPolicy([a, b])
    run_failures(policy, 3)  # a, b, a  -> a exhausted after its retry
    assert (policy.consecutive_failures(0), policy.consecutive_failures(1)) == (2, 1)
    attempt = policy.next_attempt()
    assert attempt is not None and attempt.index == 1 and attempt.delay == 1.0
    policy.joined()
    assert (policy.consecutive_failures(0), policy.consecutive_failures(1)) == (0, 0)
    assert policy.can_try(0)
    attempt = policy.next_attempt()  # round-robin continues with transport 0, fresh
    assert attempt is not None and (attempt.index, attempt.delay, attempt.attempt) == (0, 0.0, 1)


# ---------------------------------------------------------------------------------- round-robin


def test_round_robin_two_transports() -> None:
    a = transport("ws://a/", initial_retry_delay=1, retry_delay_growth=2, retry_delay_jitter=0)
    b = transport("rs://b:1", initial_retry_delay=10, retry_delay_growth=2, retry_delay_jitter=0)
    policy = ReconnectPolicy([a, b])
    attempts = run_failures(policy, 6)
    assert [(x.index, x.delay, x.attempt) for x in attempts] == [
        (0, 0.0, 1),
        (1, 0.0, 1),
        (0, 1.0, 2),
        (1, 10.0, 2),
        (0, 2.0, 3),
        (1, 20.0, 3),
    ]
    assert attempts[1].transport is b


def test_round_robin_skips_exhausted_transport() -> None:
    a = transport("ws://a/", max_retries=0)
    b = transport(
        "ws://b/", max_retries=3, initial_retry_delay=1, retry_delay_growth=1, retry_delay_jitter=0
    )
    policy = ReconnectPolicy([a, b])
    attempts = run_failures(policy, 5)
    assert [(x.index, x.delay) for x in attempts] == [
        (0, 0.0),
        (1, 0.0),
        (1, 1.0),
        (1, 1.0),
        (1, 1.0),
    ]
    assert policy.next_attempt() is None


def test_round_robin_after_join_moves_on() -> None:
    policy = ReconnectPolicy([transport("ws://a/"), transport("ws://b/")])
    first = policy.next_attempt()
    assert first is not None and first.index == 0
    policy.joined()
    policy.failed(SessionClosed("lost"))
    second = policy.next_attempt()
    assert second is not None and (second.index, second.delay) == (1, 0.0)


# ---------------------------------------------------------------------------------- fatal errors


class _Abort(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@pytest.mark.parametrize(
    "exc",
    [
        _Abort("wamp.error.not_authorized"),
        _Abort("wamp.error.authentication_failed"),
        _Abort("wamp.error.authorization_failed"),
        _Abort("wamp.error.no_such_realm"),
        _Abort("wamp.error.no_such_role"),
        _Abort("wamp.error.no_such_principal"),
        _Abort("wamp.error.no_matching_auth_method"),
        _Abort("wamp.error.authentication_denied"),
        _Abort("wamp.error.cannot_authenticate"),
        ApplicationError("wamp.error.not_authorized", "go away"),
        AuthenticationError("wrong secret"),
        SessionClosed("aborted", reason="wamp.error.no_such_realm"),
        ConfigurationError("bad config"),
        ssl.SSLCertVerificationError(1, "certificate verify failed"),
    ],
)
def test_default_is_fatal_true(exc: BaseException) -> None:
    assert default_is_fatal(exc)


@pytest.mark.parametrize(
    "exc",
    [
        OSError("connection refused"),
        ConnectionResetError(),
        TimeoutError(),
        TransportError("lost"),
        HandshakeError("refused", code=4),
        ProtocolError("bad message"),
        ssl.SSLError(1, "wrong version number"),
        _Abort("wamp.close.system_shutdown"),
        _Abort("wamp.close.transport_lost"),
        SessionClosed("gone", reason=None),
        ApplicationError("wamp.error.runtime_error"),
        RuntimeError("main crashed"),
    ],
)
def test_default_is_fatal_false(exc: BaseException) -> None:
    assert not default_is_fatal(exc)


def test_default_is_fatal_follows_explicit_cause() -> None:
    wrapped = TransportError("TLS handshake failed")
    wrapped.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert default_is_fatal(wrapped)
    loop = TransportError("a")
    other = TransportError("b")
    loop.__cause__, other.__cause__ = other, loop
    assert not default_is_fatal(loop)  # cycles terminate


def test_fatal_error_marks_transport_failed() -> None:
    a = transport("ws://a/")
    b = transport("ws://b/", initial_retry_delay=1, retry_delay_jitter=0)
    policy = ReconnectPolicy([a, b])
    first = policy.next_attempt()
    assert first is not None and first.index == 0
    policy.failed(_Abort("wamp.error.not_authorized"))
    assert policy.is_fatal(0) and not policy.can_try(0)
    attempts = run_failures(policy, 3)
    assert [x.index for x in attempts] == [1, 1, 1]


def test_fatal_survives_join_reset() -> None:
    policy = ReconnectPolicy([transport("ws://a/"), transport("ws://b/")])
    assert policy.next_attempt() is not None
    policy.failed(ConfigurationError("bad"))
    attempt = policy.next_attempt()
    assert attempt is not None and attempt.index == 1
    policy.joined()
    policy.failed(OSError())
    assert [x.index for x in run_failures(policy, 2)] == [1, 1]


def test_only_transport_fatal_exhausts_immediately() -> None:
    policy = ReconnectPolicy([transport(max_retries=-1)])
    assert policy.next_attempt() is not None
    policy.failed(AuthenticationError("nope"))
    assert policy.next_attempt() is None


def test_custom_is_fatal() -> None:
    seen: list[BaseException] = []

    def is_fatal(exc: BaseException) -> bool:
        seen.append(exc)
        return isinstance(exc, ConnectionRefusedError)

    policy = ReconnectPolicy([transport()], is_fatal=is_fatal)
    assert policy.next_attempt() is not None
    auth = _Abort("wamp.error.not_authorized")
    policy.failed(auth)  # not fatal under the custom rule
    assert policy.next_attempt() is not None
    refused = ConnectionRefusedError()
    policy.failed(refused)
    assert policy.next_attempt() is None
    assert seen == [auth, refused]


# ---------------------------------------------------------------------------------- exhaustion


def test_exhaustion_error() -> None:
    a = transport("wss://a.example/ws", max_retries=1)
    b = parse_transports(
        {"type": "rawsocket", "endpoint": {"type": "unix", "path": "/run/r.sock"}, "max_retries": 0}
    )[0]
    policy = ReconnectPolicy([a, b])
    first_a = OSError("first")
    last_a = ConnectionRefusedError("connection refused by a")
    last_b = _Abort("wamp.error.no_such_realm")
    for exc in (first_a, last_b, last_a):
        assert policy.next_attempt() is not None
        policy.failed(exc)
    assert policy.next_attempt() is None
    err = policy.exhausted_error()
    assert isinstance(err, ReconnectExhausted)
    assert isinstance(err, TransportError)
    assert err.failures == [(0, last_a), (1, last_b)]
    assert err.__cause__ is last_a
    assert str(err) == (
        "all transports exhausted: "
        "[0] wss://a.example/ws (2 attempts): ConnectionRefusedError: connection refused by a; "
        "[1] unix:/run/r.sock (fatal error): _Abort: wamp.error.no_such_realm"
    )


def test_exhausted_error_requires_exhaustion() -> None:
    policy = ReconnectPolicy([transport(max_retries=0)])
    with pytest.raises(LocalProtocolError):
        policy.exhausted_error()


# ---------------------------------------------------------------------------------- misuse


def test_next_attempt_requires_a_report() -> None:
    policy = ReconnectPolicy([transport()])
    assert policy.next_attempt() is not None
    with pytest.raises(LocalProtocolError):
        policy.next_attempt()


def test_failed_and_joined_need_an_attempt() -> None:
    policy = ReconnectPolicy([transport()])
    with pytest.raises(LocalProtocolError):
        policy.failed(OSError())
    with pytest.raises(LocalProtocolError):
        policy.joined()
    assert policy.next_attempt() is not None
    policy.joined()
    with pytest.raises(LocalProtocolError):
        policy.joined()
    policy.failed(OSError())
    with pytest.raises(LocalProtocolError):
        policy.failed(OSError())
    with pytest.raises(LocalProtocolError):
        policy.joined()


def test_constructor_validation() -> None:
    with pytest.raises(ConfigurationError):
        ReconnectPolicy([])
    with pytest.raises(ConfigurationError, match="TransportConfig"):
        ReconnectPolicy([{"url": "ws://h/"}])  # type: ignore[list-item]


def test_transports_and_attempts_properties() -> None:
    configs = parse_transports(["ws://a/", "ws://b/"])
    policy = ReconnectPolicy(configs)
    assert policy.transports == tuple(configs)
    assert policy.attempts == 0
    run_failures(policy, 3)
    assert policy.attempts == 3
    assert (policy.consecutive_failures(0), policy.consecutive_failures(1)) == (2, 1)


# ---------------------------------------------------------------------------------- properties


retry_settings = st.fixed_dictionaries(
    {
        "initial_retry_delay": st.floats(0, 1000, allow_nan=False),
        "max_retry_delay": st.floats(0, 1000, allow_nan=False),
        "retry_delay_growth": st.floats(1, 100, allow_nan=False),
        "retry_delay_jitter": st.floats(0, 1, allow_nan=False),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    settings_=retry_settings,
    failures=st.integers(0, 5000),
    random_value=st.floats(0, 1, exclude_max=True),
)
def test_delay_always_within_bounds(
    settings_: dict[str, float], failures: int, random_value: float
) -> None:
    t = parse_transports({"url": "ws://h/", **settings_})[0]
    delay = retry_delay(t, failures, random_value)
    assert 0.0 <= delay <= t.max_retry_delay
    if failures == 0:
        assert delay == 0.0


@settings(max_examples=150, deadline=None)
@given(
    transports=st.lists(
        st.tuples(st.integers(0, 4), retry_settings),
        min_size=1,
        max_size=4,
    ),
    randoms=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=10),
    fatal=st.lists(st.booleans(), min_size=1, max_size=10),
)
def test_finite_retries_always_exhaust(
    transports: list[tuple[int, dict[str, float]]], randoms: list[float], fatal: list[bool]
) -> None:
    noise = cycle(*randoms)
    configs = [
        transport(f"ws://h{i}/", noise=noise, max_retries=m, **s)
        for i, (m, s) in enumerate(transports)
    ]
    policy = ReconnectPolicy(configs)
    errors = itertools.cycle(
        [_Abort("wamp.error.not_authorized") if f else OSError("x") for f in fatal]
    )
    budget = sum(m + 1 for m, _ in transports)
    count = 0
    while (attempt := policy.next_attempt()) is not None:
        count += 1
        assert count <= budget
        assert 0.0 <= attempt.delay <= attempt.transport.max_retry_delay
        assert 1 <= attempt.attempt <= attempt.transport.max_retries + 1
        policy.failed(next(errors))
    if not any(fatal):
        assert count == budget
    err = policy.exhausted_error()
    assert [index for index, _ in err.failures] == list(range(len(configs)))


@pytest.mark.parametrize(
    ("code", "fatal"),
    [(1, True), (2, True), (3, True), (4, False), (None, False), (400, True), (404, True),
     (403, True), (408, False), (429, False), (500, False), (503, False)],
)  # fmt: skip
def test_handshake_refusals(code: int | None, fatal: bool) -> None:
    from wamp_core import HandshakeError

    assert default_is_fatal(HandshakeError("refused", code=code)) is fatal
