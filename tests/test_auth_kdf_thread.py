"""A join's key derivation (SCRAM's Argon2, salted WAMP-CRA's PBKDF2) runs in a worker thread:
the event loop keeps running meanwhile (other sessions' keepalives, the application's tasks),
with every driver, through Crossbar.io and through the embedded router.

The test principal's Argon2 (t=4096, m=512 KiB, Crossbar's usual parameters) costs most of a
second here; a task that wakes every 5 ms must not miss more than a fraction of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
from crossbar import (
    SCRAM_AUTHID,
    SCRAM_ITERATIONS,
    SCRAM_MEMORY,
    SCRAM_PASSWORD,
    SCRAM_SALT,
    CrossbarRouter,
)
from embedded import EmbeddedRouter
from wamp_core.auth import _scram

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

SCRAM = {"scram": {"authid": SCRAM_AUTHID, "password": SCRAM_PASSWORD}}


@pytest.fixture(scope="module")
def kdf_seconds() -> float:
    """What one derivation of the test principal's key costs here (the loop's stall before)."""
    started = time.perf_counter()
    _scram._argon2id13(SCRAM_PASSWORD.encode(), SCRAM_SALT, SCRAM_ITERATIONS, SCRAM_MEMORY)
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as router:
        yield router


async def _longest_stall_while_joining(url: str, authentication: dict[str, Any]) -> float:
    """Join with ``authentication`` while a task ticks every 5 ms: its longest gap (s)."""
    gaps: list[float] = []

    async def tick() -> None:
        last = anyio.current_time()
        while True:
            await anyio.sleep(0.005)
            now = anyio.current_time()
            gaps.append(now - last)
            last = now

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            async with wamp.connect(url, authentication=authentication) as session:
                assert session.details is not None
                assert session.details.authmethod == "scram"
                assert session.details.authid == SCRAM_AUTHID
            tg.cancel_scope.cancel()
    return max(gaps)


@pytest.mark.parametrize("router", ["crossbar", "embedded"])
async def test_the_loop_runs_while_the_scram_key_is_derived(
    router: str, kdf_seconds: float, request: pytest.FixtureRequest
) -> None:
    assert kdf_seconds > 0.2, "the test principal's KDF is too cheap to show a stall"
    running: CrossbarRouter | EmbeddedRouter = request.getfixturevalue(
        "crossbar" if router == "crossbar" else "embedded"
    )
    url = running.ws_auth_url if isinstance(running, CrossbarRouter) else running.ws_url
    stall = await _longest_stall_while_joining(url, SCRAM)
    assert stall < kdf_seconds / 3, (
        f"the loop stalled {stall:.3f} s while joining (the KDF costs {kdf_seconds:.3f} s)"
    )


async def test_the_join_timeout_holds_while_the_key_is_derived(
    crossbar: CrossbarRouter, kdf_seconds: float
) -> None:
    """The join's timeout ends the attempt on time (the thread is abandoned, not waited for)."""
    timeout = kdf_seconds / 4
    transport = {"url": crossbar.ws_auth_url, "options": {"open_handshake_timeout": timeout}}
    started = anyio.current_time()
    with anyio.fail_after(30), pytest.raises(wamp.TransportError, match="no session within"):
        async with wamp.connect(transport, authentication=SCRAM):
            raise AssertionError("joined")
    took = anyio.current_time() - started
    assert took < timeout + kdf_seconds / 2, f"{took:.3f} s for a {timeout:.3f} s timeout"


async def test_a_component_keeps_the_key_an_abandoned_attempt_derived(
    crossbar: CrossbarRouter, kdf_seconds: float
) -> None:
    """On a machine where the derivation outlasts the join timeout, every attempt timed out
    (each derived the key anew); the abandoned thread's key now serves the next attempt."""
    transport = {
        "url": crossbar.ws_auth_url, "options": {"open_handshake_timeout": kdf_seconds / 3},
        "initial_retry_delay": kdf_seconds * 1.5, "retry_delay_jitter": 0, "max_retries": 3,
    }  # fmt: skip
    failures: list[BaseException] = []
    component = wamp.Component(
        main=lambda session: session.authid, transports=transport, authentication=SCRAM
    )
    component.on_connectfailure(lambda component, error: failures.append(error))
    with anyio.fail_after(30):
        assert await component.run() == SCRAM_AUTHID
    assert len(failures) >= 1  # (the first attempt timed out, as the test means it to)
