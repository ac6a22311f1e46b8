"""The pure reconnect policy driving real connection attempts against Crossbar.

A tiny loop (the shape a driver will have) asks the policy which transport to try and how long
to wait (recorded, not slept), connects with the blocking test client, and reports the outcome.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

import wamp_core as wc
from crossbar import TICKET_AUTHID, CrossbarRouter
from wamp_client import BlockingClient
from wamp_core import auth, events as ev


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Outcome(Exception):
    """A session that ended with ABORT, as the driver will report it to the policy."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run(
    policy: wc.ReconnectPolicy, authenticators: Sequence[auth.Authenticator] = ()
) -> tuple[list[tuple[int, float]], Any]:
    """Attempt until a session joins or the policy gives up; return (attempts, result)."""
    attempts: list[tuple[int, float]] = []
    while (attempt := policy.next_attempt()) is not None:
        attempts.append((attempt.index, attempt.delay))
        try:
            client = BlockingClient(attempt.transport, authenticators=authenticators, timeout=5)
        except OSError as exc:
            policy.failed(exc)
            continue
        with client:
            result = client.join()
        if isinstance(result, ev.Joined):
            policy.joined()
            return attempts, result
        policy.failed(Outcome(result.details.reason))
    return attempts, policy.exhausted_error()


def test_fails_over_to_the_live_router_and_resets(crossbar: CrossbarRouter) -> None:
    dead = f"rs://127.0.0.1:{_closed_port()}"
    transports = wc.parse_transports(
        [
            {"url": dead, "type": "rawsocket", "max_retries": 5, "retry_delay_jitter": 0},
            {"url": crossbar.ws_url, "max_retries": 5, "retry_delay_jitter": 0},
        ]
    )
    policy = wc.ReconnectPolicy(transports)
    attempts, result = run(policy)
    assert isinstance(result, ev.Joined)
    assert attempts == [(0, 0.0), (1, 0.0)]  # round robin; a transport's first try waits 0
    assert policy.consecutive_failures(0) == 0  # joined() reset every counter


def test_wrong_credentials_are_fatal_by_default(crossbar: CrossbarRouter) -> None:
    """Crossbar refuses the ticket; the default policy does not retry it forever."""
    transports = wc.parse_transports([{"url": crossbar.ws_auth_url, "max_retries": -1}])
    policy = wc.ReconnectPolicy(transports)
    bad = [auth.TicketAuthenticator("wrong", TICKET_AUTHID)]
    attempts, result = run(policy, bad)
    assert len(attempts) == 1
    assert isinstance(result, wc.ReconnectExhausted)
    assert "wamp.error.not_authorized" in str(result) or "authentication" in str(result)


def test_unreachable_router_exhausts_with_one_clear_error() -> None:
    dead = f"rs://127.0.0.1:{_closed_port()}"
    transports = wc.parse_transports(
        [{"url": dead, "type": "rawsocket", "max_retries": 2, "initial_retry_delay": 0.5,
          "retry_delay_growth": 2, "retry_delay_jitter": 0}]
    )  # fmt: skip
    policy = wc.ReconnectPolicy(transports)
    attempts, result = run(policy)
    assert [delay for _, delay in attempts] == [0.0, 0.5, 1.0]
    assert isinstance(result, wc.ReconnectExhausted)
    assert dead in str(result)
    assert isinstance(result.failures[0][1], ConnectionRefusedError)


def test_page_form_jitter_and_defaults_against_a_dead_port() -> None:
    """The ``Component`` page's form: a 0-argument callable as ``retry_delay_jitter`` (here a
    fixed draw at the top of the range, so the recorded delays are exact) and its defaults
    (first retry after 1.0 s, growth 1.5, spread 0.1)."""
    dead = f"rs://127.0.0.1:{_closed_port()}"
    transports = wc.parse_transports(
        [{"url": dead, "type": "rawsocket", "max_retries": 3, "retry_delay_jitter": lambda: 1.0}]
    )
    attempts, result = run(wc.ReconnectPolicy(transports))
    assert [delay for _, delay in attempts] == pytest.approx([0.0, 1.1, 1.65, 2.475])
    assert isinstance(result, wc.ReconnectExhausted)
    assert all(isinstance(exc, ConnectionRefusedError) for _, exc in result.failures)


def test_websocket_path_refused_is_fatal(crossbar: CrossbarRouter) -> None:
    url = crossbar.ws_url.rsplit("/", 1)[0] + "/no-such-path"
    client = BlockingClient(url)
    try:
        with pytest.raises(wc.HandshakeError) as info:
            client.join()
    finally:
        client.close()
    assert info.value.code == 404
    assert wc.default_is_fatal(info.value)


def test_rawsocket_serializer_refused_by_crossbar(crossbar: CrossbarRouter) -> None:
    """Crossbar drops the connection instead of sending the spec's error reply (code 1)."""
    transport = {"url": crossbar.rs_url, "type": "rawsocket", "serializer": "flatbuffers"}
    client = BlockingClient(transport)
    outcome: BaseException | list[Any]
    try:
        try:
            outcome = [event for _ in range(50) for event in client.step(0.1)]
        except wc.HandshakeError as exc:
            outcome = exc
    finally:
        client.close()
    assert client.conn.closed
    if isinstance(outcome, wc.HandshakeError):  # EOF before the handshake reply
        assert "closed" in str(outcome) or "handshake" in str(outcome)
    else:  # reset: the transport is reported closed, no session ever existed
        assert [type(e) for e in outcome] == [ev.Closed]
        assert not outcome[0].clean
