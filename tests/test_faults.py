"""Network faults between a component and Crossbar.io (issue 11), injected by a loopback proxy
(``faultproxy.py``), with each driver (``wamp_anyio`` on asyncio and trio, ``wamp_trio``), over
RawSocket and WebSocket: a dropped link, a stalled (half-open) link, delay, a frame cut in half,
a corrupted frame. Every pending call fails at once with ``SessionClosed`` (never hangs, never
returns a wrong value), the application goes on, and the component reconnects and works."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from faultproxy import FaultProxy, fault_proxy

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 60
SLOW = "com.faults.slow"
ECHO = "com.faults.echo"
KINDS = ["rawsocket", "websocket"]


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/", maxsplit=1)[0])


def _via(proxy: FaultProxy, kind: str, **options: Any) -> dict[str, Any]:
    """A transport to Crossbar through ``proxy``, quick to reconnect."""
    retry = {"initial_retry_delay": 0.1, "max_retry_delay": 0.3, "retry_delay_jitter": 0}
    if kind == "rawsocket":
        return {"type": "rawsocket", "url": f"rs://127.0.0.1:{proxy.port}",
                "serializer": "msgpack", "options": options, **retry}  # fmt: skip
    options.setdefault("auto_ping_interval", 60)  # no ping in the way of an injected fault
    return {"type": "websocket", "url": f"ws://127.0.0.1:{proxy.port}/ws",
            "serializers": ["msgpack"], "options": options, **retry}  # fmt: skip


@asynccontextmanager
async def _setup(
    crossbar: CrossbarRouter, kind: str, **options: Any
) -> AsyncIterator[tuple[FaultProxy, Any, anyio.Event]]:
    """The proxy, a running component through it (its first session ready), and the event a
    slow procedure on a directly connected callee sets when a call reached it."""
    target = crossbar.rs_url if kind == "rawsocket" else crossbar.ws_url
    entered = anyio.Event()

    async def slow() -> None:
        entered.set()
        await anyio.sleep_forever()

    async with fault_proxy("127.0.0.1", _port(target)) as proxy, wamp.connect(target) as callee:
        reg_slow = await callee.register(slow, SLOW, wc.RegisterOptions(force_reregister=True))
        reg_echo = await callee.register(lambda x: x, ECHO,
                                         wc.RegisterOptions(force_reregister=True))  # fmt: skip
        component = wamp.Component(transports=_via(proxy, kind, **options))
        async with component:
            await component.wait_ready()
            yield proxy, component, entered
        await reg_slow.unregister()
        await reg_echo.unregister()


async def _fails_at_once(
    call: Callable[[], Any], entered: anyio.Event, fault: Callable[[], None], limit: float
) -> None:
    """``call`` is pending at the callee (``entered``) when ``fault`` strikes: it must fail with
    SessionClosed within ``limit`` seconds."""
    errors: list[BaseException] = []
    struck: list[float] = []

    async def pending() -> None:
        try:
            value = await call()
        except wc.SessionClosed as exc:
            errors.append(exc)
        else:
            errors.append(AssertionError(f"the call returned {value!r} after the fault"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(pending)
        await entered.wait()
        struck.append(anyio.current_time())
        fault()
    assert [type(e) for e in errors] == [wc.SessionClosed], errors
    assert anyio.current_time() - struck[0] < limit


async def _comes_back(component: Any, old: Any) -> Any:
    """The component's next ready session (not ``old``), which works."""
    while (session := await component.wait_ready()) is old:
        await anyio.sleep(0.02)
    assert await session.call(ECHO, 42) == 42
    return session


@pytest.mark.parametrize("kind", KINDS)
async def test_a_dropped_link_fails_the_pending_call_and_the_component_comes_back(
    crossbar: CrossbarRouter, kind: str
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with _setup(crossbar, kind) as (proxy, component, entered):
            session = await component.wait_ready()

            await _fails_at_once(lambda: session.call(SLOW), entered, proxy.drop, limit=2)
            await _comes_back(component, session)
            assert proxy.connections == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_stalled_link_is_found_by_the_keepalive_within_its_timeout(
    crossbar: CrossbarRouter, kind: str
) -> None:
    if kind == "rawsocket":
        pytest.skip("Crossbar 26 does not answer RawSocket pings (no keepalive there)")
    with anyio.fail_after(TIMEOUT):
        async with _setup(crossbar, kind, auto_ping_interval=0.3, auto_ping_timeout=0.5) as (
            proxy, component, entered,
        ):  # fmt: skip
            session = await component.wait_ready()
            await anyio.sleep(1)  # pings answered meanwhile: the link is alive
            assert session.is_attached()
            limit = 0.3 + 0.5 + 1.5  # ping interval + pong timeout + slack
            await _fails_at_once(lambda: session.call(SLOW), entered, proxy.stall, limit)
            await _comes_back(component, session)


@pytest.mark.parametrize("kind", KINDS)
async def test_delay_slows_calls_but_every_answer_is_right(
    crossbar: CrossbarRouter, kind: str
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with _setup(crossbar, kind) as (proxy, component, _entered):
            session = await component.wait_ready()
            proxy.delay = 0.05
            started = anyio.current_time()
            results: dict[int, Any] = {}

            async def one(i: int) -> None:
                results[i] = await session.call(ECHO, i)

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(one, i)
            assert results == {i: i for i in range(20)}
            assert anyio.current_time() - started >= 0.1  # at least one delay each way
            assert session.is_attached()


#: A corruption of a frame's first byte that the framing must refuse: RawSocket's frame type
#: (0 is a message; 0xFF is no type), WebSocket's reserved bits (RSV1-3, no extension agreed).
CORRUPT_FIRST_BYTE = {"rawsocket": 0xFF, "websocket": 0x70}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_corrupted_frame_ends_the_session_never_a_wrong_result(
    crossbar: CrossbarRouter, kind: str
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with _setup(crossbar, kind) as (proxy, component, _entered):
            session = await component.wait_ready()
            proxy.corrupt_next(0, CORRUPT_FIRST_BYTE[kind])
            with pytest.raises(wc.SessionClosed):
                await session.call(ECHO, 5)  # its RESULT is the corrupted frame
            await _comes_back(component, session)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_frame_cut_in_half_fails_the_call_and_the_component_comes_back(
    crossbar: CrossbarRouter, kind: str
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with _setup(crossbar, kind) as (proxy, component, _entered):
            session = await component.wait_ready()
            proxy.cut_next()
            with pytest.raises(wc.SessionClosed):
                await session.call(ECHO, "x" * 5000)
            await _comes_back(component, session)
            assert proxy.injected == {"cut": 1}


@pytest.mark.parametrize("kind", KINDS)
async def test_events_queued_for_a_slow_handler_are_handled_when_the_link_drops(
    crossbar: CrossbarRouter, kind: str
) -> None:
    """docs/guarantees.md: events queued for a slow handler are still handled, in order, when
    the connection ends; a Component's session ending used to cancel the handler and drop the
    queue. The component then comes back."""
    target = crossbar.rs_url if kind == "rawsocket" else crossbar.ws_url
    topic = f"com.faults.queued.{kind}"
    got: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            fault_proxy("127.0.0.1", _port(target)) as proxy,
            wamp.connect(target) as publisher,
        ):
            component = wamp.Component(transports=_via(proxy, kind))

            @component.subscribe(topic)
            async def slow(i: int) -> None:
                await anyio.sleep(0.05)
                got.append(i)

            async with component:
                first = await component.wait_ready()
                options = wc.PublishOptions(acknowledge=True)
                for i in range(20):
                    await publisher.publish(topic, i, options=options)
                (subscription,) = next(iter(first._subscriptions.values()))
                inbox = subscription._inbox
                assert inbox is not None
                # Wait until every event arrived (handled, in the handler or queued): cut.
                while len(got) + 1 + len(inbox._items) < 20:
                    await anyio.sleep(0.005)
                assert inbox._items  # some are still queued when the link drops
                proxy.drop()
                while await component.wait_ready() is first:
                    await anyio.sleep(0.02)
                assert got == list(range(20))


async def test_leaving_does_not_wait_for_a_handler_that_never_returns(
    crossbar: CrossbarRouter,
) -> None:
    """Only a session the router or the link ended waits (bounded) for its queued events:
    leaving ``connect()``'s block with a handler stuck on an event returns at once."""
    topic = "com.faults.stuck"
    entered = anyio.Event()

    async def stuck(_i: int) -> None:
        entered.set()
        await anyio.sleep_forever()

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as publisher:
            async with wamp.connect(crossbar.rs_url) as session:
                await session.subscribe(stuck, topic)
                for i in range(3):
                    await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
                await entered.wait()
                left = anyio.current_time()
            assert anyio.current_time() - left < 2  # not CLOSE_TIMEOUT (5 s)


async def test_a_message_above_the_size_limit_reconnects_the_component(
    crossbar: CrossbarRouter,
) -> None:
    """An event above ``max_message_size`` ends the session (payload_size_exceeded); the
    component reconnects as after any peer error, instead of its run returning None as if
    the application had left; and wait_ready never hands out the ended session."""
    topic = "com.faults.big"
    hooks: list[str] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            fault_proxy("127.0.0.1", _port(crossbar.ws_url)) as proxy,
            wamp.connect(crossbar.ws_url) as publisher,
        ):
            component = wamp.Component(transports=_via(proxy, "websocket", max_message_size=1024))
            component.subscribe(topic)(lambda _value: None)
            component.on_leave(lambda _s, details: hooks.append(details.reason))
            async with component:
                first = await component.wait_ready()
                await publisher.publish(topic, "x" * 4096)
                await first.wait_closed()
                second = await component.wait_ready()
                assert second is not first and not second.closed
                assert first.closed
                assert hooks == ["wamp.error.payload_size_exceeded"]


async def test_a_restore_refused_on_every_rejoin_ends_after_max_retries(
    crossbar: CrossbarRouter,
) -> None:
    """The router refuses the restore (another session took the procedure while the link was
    down): each rejoin is a failed attempt, so the delays grow and max_retries ends the run
    with ReconnectExhausted naming the refusal (it rejoined every initial_retry_delay for
    ever: the WELCOME reset the count)."""
    procedure = "com.faults.taken"
    with anyio.fail_after(TIMEOUT):
        async with (
            fault_proxy("127.0.0.1", _port(crossbar.rs_url)) as proxy,
            wamp.connect(crossbar.rs_url) as thief,
        ):
            transport = {**_via(proxy, "rawsocket"), "max_retries": 2}
            component = wamp.Component(transports=transport)
            component.register(procedure)(lambda: "mine")
            joins: list[float] = []
            component.on_join(lambda _s, _d: joins.append(anyio.current_time()))
            with pytest.raises(wc.ReconnectExhausted) as info:
                async with component:
                    await component.wait_ready()
                    proxy.delay = 0.3  # the rejoin comes after the thief took the procedure
                    proxy.drop()
                    while True:  # once the router has seen the component's session go
                        try:
                            await thief.register(lambda: "theirs", procedure)
                            break
                        except wc.ApplicationError:
                            await anyio.sleep(0.02)
                    proxy.delay = 0.0
                    await component.wait_ready()  # no session is ready again: the run's error
            cause = info.value.__cause__
            assert isinstance(cause, wc.ApplicationError)
            assert cause.error == wc.ApplicationError.PROCEDURE_ALREADY_EXISTS
            assert len(joins) == 1  # the refused rejoins never fired join
