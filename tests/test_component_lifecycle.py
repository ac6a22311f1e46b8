"""The pure lifecycle rules every driver shares: hooks, declarations, what ends a run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

import wamp_core as wc


def _lifecycle(**overrides: object) -> wc.Lifecycle:
    transport = {"url": "rs://127.0.0.1:1", "max_retries": 2, "initial_retry_delay": 1.0}
    transport.update(overrides.pop("transport", {}))  # type: ignore[call-overload]
    transports = wc.parse_transports(transport)
    return wc.Lifecycle(transports, **overrides)  # type: ignore[arg-type]


def _joined(lifecycle: wc.Lifecycle, *, restored: bool = True) -> wc.Lifecycle:
    """The next attempt joined (and, unless ``restored=False``, restored its declarations)."""
    assert lifecycle.next_attempt() is not None
    lifecycle.joined()
    if restored:
        lifecycle.restored()
    return lifecycle


LOST = wc.CloseDetails(wc.CloseDetails.REASON_TRANSPORT_LOST)


def test_hooks_keep_order_and_refuse_unknown_names() -> None:
    hooks = wc.Hooks()
    calls: list[str] = []
    first = hooks.on("join", lambda session, details: calls.append("first"))
    hooks.on("join", lambda *_: calls.append("second"))
    for listener in hooks.listeners("join"):
        listener(None, None)
    assert calls == ["first", "second"]
    hooks.off("join", first)
    assert len(hooks.listeners("join")) == 1
    hooks.off("join")
    assert hooks.listeners("join") == ()
    with pytest.raises(wc.ConfigurationError, match="unknown hook 'joined'"):
        hooks.on("joined", print)
    with pytest.raises(wc.ConfigurationError, match="unknown hook"):
        hooks.off("nope")
    with pytest.raises(wc.ConfigurationError, match="must be callable"):
        hooks.on("ready", 3)  # type: ignore[type-var]
    # a listener that cannot take its hook's arguments: here, not at the first join
    with pytest.raises(
        wc.ConfigurationError, match=r"'join' listener is called with \(session, details\)"
    ):
        hooks.on("join", lambda: None)
    with pytest.raises(wc.ConfigurationError, match="was_clean"):
        hooks.on("disconnect", lambda session, details: None)
    hooks.on("disconnect", lambda session, was_clean: None)
    hooks.on("connectfailure", print)  # (a builtin: no signature to read, trusted)


def test_a_decorated_listener_counts_by_its_wrapper_too() -> None:
    """``functools.wraps`` shows the wrapped function's signature; a decorator that supplies
    an argument makes a listener that takes ``(session, details)`` (it was refused)."""

    def with_db(listener: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(listener)
        def wrapper(session: Any, details: Any) -> Any:
            return listener(session, details, "db")

        return wrapper

    @with_db
    def joined(session: Any, details: Any, db: str) -> None:
        pass

    assert wc.Hooks().on("join", joined) is joined
    assert set(wc.HOOKS) == {
        "start", "connect", "join", "ready", "leave", "disconnect", "connectfailure"
    }  # fmt: skip
    assert wc.ORDER.index("restore") < wc.ORDER.index("on_join") < wc.ORDER.index("main")


def test_declarations_check_their_options() -> None:
    wc.Declaration("register", "a.b", print, wc.RegisterOptions())
    wc.Declaration("subscribe", "a.b", print, wc.SubscribeOptions())
    with pytest.raises(wc.ConfigurationError, match="must be RegisterOptions"):
        wc.Declaration("register", "a.b", print, wc.SubscribeOptions())
    with pytest.raises(wc.ConfigurationError, match="must be callable"):
        wc.Declaration("subscribe", "a.b", "print")  # type: ignore[arg-type]


def test_main_returned_or_stop_is_done() -> None:
    assert _joined(_lifecycle()).session_ended(main_returned=True) is wc.Verdict.DONE
    lifecycle = _joined(_lifecycle())
    lifecycle.stop()
    assert lifecycle.session_ended(close=LOST) is wc.Verdict.DONE
    assert lifecycle.next_attempt() is None
    assert lifecycle.error is None


def test_an_error_ends_the_run_unless_is_fatal_says_retry() -> None:
    lifecycle = _joined(_lifecycle())
    error = ValueError("bug in main")
    assert lifecycle.session_ended(error=error) is wc.Verdict.FAIL
    assert lifecycle.error is error
    retried = _joined(_lifecycle(is_fatal=lambda exc: False))
    assert retried.session_ended(error=error) is wc.Verdict.RECONNECT
    attempt = retried.next_attempt()
    assert attempt is not None
    assert attempt.delay > 0  # counted like a failed attempt
    fatal = _joined(_lifecycle(is_fatal=lambda exc: True))
    assert fatal.session_ended(error=error) is wc.Verdict.FAIL


def test_session_loss_reconnects_and_a_fatal_reason_fails() -> None:
    lifecycle = _joined(_lifecycle())
    # main failed only because the session went: the close decides
    lost_call = wc.SessionClosed("gone", reason=wc.CloseDetails.REASON_TRANSPORT_LOST)
    assert lifecycle.session_ended(error=lost_call, close=LOST) is wc.Verdict.RECONNECT
    kicked = _joined(_lifecycle())
    close = wc.CloseDetails("wamp.error.not_authorized", "revoked")
    assert kicked.session_ended(close=close) is wc.Verdict.FAIL
    assert isinstance(kicked.error, wc.SessionClosed)
    assert "not_authorized" in str(kicked.error)
    assert "revoked" in str(kicked.error)
    shutdown = _joined(_lifecycle())
    close = wc.CloseDetails("wamp.close.system_shutdown")
    assert shutdown.session_ended(close=close) is wc.Verdict.RECONNECT
    # the user's is_fatal decides instead of the default
    insisting = _joined(_lifecycle(is_fatal=lambda exc: False))
    close = wc.CloseDetails("wamp.error.not_authorized", "revoked")
    assert insisting.session_ended(close=close) is wc.Verdict.RECONNECT


def test_a_sessionclosed_raised_while_the_session_was_open_is_an_error() -> None:
    """``main`` raised another session's ``SessionClosed``: its error, not the session's end."""
    lifecycle = _joined(_lifecycle())
    foreign = wc.SessionClosed("joining realm 'x' failed", reason="wamp.error.no_such_realm")
    left = wc.CloseDetails("wamp.close.normal", local=True)
    verdict = lifecycle.session_ended(error=foreign, close=left, ended_first=False)
    assert verdict is wc.Verdict.FAIL
    assert lifecycle.error is foreign


def test_a_restore_refused_for_the_old_session_is_retried_on_a_rejoin_only() -> None:
    held = wc.ApplicationError(wc.ApplicationError.PROCEDURE_ALREADY_EXISTS, "taken")
    first = _joined(_lifecycle())
    assert first.session_ended(error=held, restoring=True) is wc.Verdict.FAIL
    assert first.error is held  # another component holds it: a configuration error
    rejoined = _joined(_lifecycle(transport={"retry_delay_jitter": 0, "retry_delay_growth": 2}))
    assert rejoined.session_ended(close=LOST) is wc.Verdict.RECONNECT
    # Refused restores count like failed attempts although each one joined (WELCOME): the
    # delays grow and max_retries (2: the lost session was the first failure) ends the run.
    delays = []
    for verdict in (wc.Verdict.RECONNECT, wc.Verdict.FAIL):
        attempt = rejoined.next_attempt()
        assert attempt is not None
        delays.append(attempt.delay)
        rejoined.joined()
        assert rejoined.session_ended(error=held, restoring=True) is verdict
    assert delays == [1.0, 2.0]
    assert isinstance(rejoined.error, wc.ReconnectExhausted)
    assert rejoined.error.__cause__ is held
    # the same error from main (not a restore) is main's
    again = _joined(_lifecycle())
    assert again.session_ended(close=LOST) is wc.Verdict.RECONNECT
    assert _joined(again).session_ended(error=held) is wc.Verdict.FAIL


def test_a_message_above_the_size_limit_ends_the_session_not_the_run() -> None:
    """We abort (locally) because of what the router sent: reconnect, as for a protocol
    violation; only the application's own leave or abort is done."""
    for reason in ("wamp.error.payload_size_exceeded", "wamp.error.protocol_violation"):
        close = wc.CloseDetails(reason, "too big", local=True)
        assert _joined(_lifecycle()).session_ended(close=close) is wc.Verdict.RECONNECT
    left = wc.CloseDetails("wamp.close.normal", local=True)
    assert _joined(_lifecycle()).session_ended(close=left) is wc.Verdict.DONE


def test_a_listener_error_before_the_join_ends_the_run_unless_is_fatal_says_retry() -> None:
    error = ValueError("bug in a connect listener")
    lifecycle = _lifecycle()
    assert lifecycle.next_attempt() is not None
    assert lifecycle.application_failed(error) is wc.Verdict.FAIL
    assert lifecycle.error is error
    retried = _lifecycle(is_fatal=lambda exc: False)
    assert retried.next_attempt() is not None
    assert retried.application_failed(error) is wc.Verdict.RECONNECT
    stopped = _lifecycle()
    stopped.stop()
    assert stopped.application_failed(error) is wc.Verdict.DONE


def test_a_local_leave_is_done_but_a_local_protocol_violation_reconnects() -> None:
    left = _joined(_lifecycle())
    close = wc.CloseDetails("wamp.close.normal", local=True)
    assert left.session_ended(close=close) is wc.Verdict.DONE
    violated = _joined(_lifecycle())
    close = wc.CloseDetails("wamp.error.protocol_violation", "bad", local=True)
    assert violated.session_ended(close=close) is wc.Verdict.RECONNECT


def test_failed_attempts_exhaust_the_policy() -> None:
    lifecycle = _lifecycle(transport={"max_retries": 1})
    for _ in range(2):
        assert lifecycle.next_attempt() is not None
        lifecycle.attempt_failed(OSError("refused"))
    assert lifecycle.next_attempt() is None
    assert isinstance(lifecycle.error, wc.ReconnectExhausted)
    assert "refused" in str(lifecycle.error)


def test_repeated_losses_exhaust_the_policy() -> None:
    lifecycle = _joined(_lifecycle(transport={"max_retries": 0}))
    assert lifecycle.session_ended(close=LOST) is wc.Verdict.FAIL
    assert isinstance(lifecycle.error, wc.ReconnectExhausted)
    assert lifecycle.joins == 1


def test_a_restored_session_resets_the_failure_count() -> None:
    """Losses of sessions that each joined and restored are not consecutive failures: with
    ``max_retries`` 1 the component reconnects after every one (a mutation review)."""
    lifecycle = _lifecycle(transport={"max_retries": 1})
    for _ in range(4):
        _joined(lifecycle)
        assert lifecycle.session_ended(close=LOST) is wc.Verdict.RECONNECT
    assert lifecycle.error is None


def test_component_config_defaults() -> None:
    assert wc.ComponentConfig() == wc.ComponentConfig("realm1", None)


def test_local_options_are_validated_and_never_on_the_wire() -> None:
    with pytest.raises(wc.LocalProtocolError, match="cancel_mode"):
        wc.CallOptions(cancel_mode="later")  # type: ignore[arg-type]
    for bad in ("not an identifier", "", 3):
        with pytest.raises(wc.LocalProtocolError, match="details_arg"):
            wc.RegisterOptions(details_arg=bad)  # type: ignore[arg-type]
        with pytest.raises(wc.LocalProtocolError, match="details_arg"):
            wc.SubscribeOptions(details_arg=bad)  # type: ignore[arg-type]
    for name in ("queue_size", "concurrency"):
        for value in (0, -1, 1.5, True):
            with pytest.raises(wc.LocalProtocolError, match=name):
                wc.SubscribeOptions(**{name: value})  # type: ignore[arg-type]
    features = frozenset({"call_canceling", "pattern_based_subscription"})
    assert wc.CallOptions(cancel_mode="skip").to_options(features) == {}
    assert wc.RegisterOptions(details_arg="info").to_options(features) == {}
    local = wc.SubscribeOptions(details_arg="d", queue_size=5, concurrency=2)
    assert local.to_options(features) == {}
