"""wamp_trio, deterministic: the embedded router's sans-IO engine at the other end of
``trio.testing.memory_stream_pair`` (or ``lockstep_stream_pair``) and trio's
``MockClock(autojump_threshold=0)``, so backoff, keepalive and timeouts run in virtual time (no
real sleeping, no socket).

The transport is swapped by a runtime subclass whose ``open_stream`` hands out memory streams
(or fails, as scripted); everything else is the driver as users get it. The same scenarios
against Crossbar.io run in the driver-parametrized suites (``wamp`` fixture).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

import wamp_core as wc
import wamp_trio
from wamp_trio._runtime import TrioRuntime
from wamp_trio._transport import TrioStream

URL = "rs://127.0.0.1:1"  # never dialled: the runtime below hands out memory streams


class MemoryRouter(TrioRuntime):
    """A trio runtime whose connections reach an in-memory embedded router.

    ``refuse`` connection attempts fail first; ``stall`` makes the router stop answering
    (a half-open link: bytes are swallowed, nothing comes back)."""

    def __init__(self, nursery: trio.Nursery, *, refuse: int = 0, lockstep: bool = False) -> None:
        self.router = wc.Router(["realm1"])
        self.nursery = nursery
        self.refuse = refuse
        self.lockstep = lockstep
        self.stall = False
        self.attempts: list[float] = []
        self.connections = 0

    async def open_stream(self, transport: wc.TransportConfig) -> tuple[Any, dict[str, bytes]]:
        self.attempts.append(trio.current_time())
        if self.refuse > 0:
            self.refuse -= 1
            raise wc.TransportError("connection refused (scripted)")
        pair = (
            trio.testing.lockstep_stream_pair if self.lockstep else trio.testing.memory_stream_pair
        )
        client, server = pair()
        self.connections += 1
        self.nursery.start_soon(self._serve, server)
        return TrioStream(client), {}

    async def _serve(self, stream: trio.abc.Stream) -> None:
        framer = wc.RawSocket(wc.Role.SERVER, serializers=("json", "msgpack", "cbor"))
        conn = wc.RouterConnection(self.router, framer)
        wake = trio.Event()

        def on_output() -> None:
            wake.set()

        conn.on_output = on_output
        async with trio.open_nursery() as nursery:

            async def write() -> None:
                nonlocal wake
                while True:
                    await wake.wait()
                    wake = trio.Event()
                    if data := conn.data_to_send():
                        try:
                            await stream.send_all(data)
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            break
                    if conn.should_close:
                        break
                conn.receive_eof()
                nursery.cancel_scope.cancel()

            nursery.start_soon(write)
            while True:
                try:
                    data = await stream.receive_some(65536)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if not data:
                    conn.receive_eof()
                    nursery.cancel_scope.cancel()
                    break
                if not self.stall:
                    self.router.tick(trio.current_time())
                    conn.receive_data(bytes(data))
        await trio.aclose_forcefully(stream)


def _driver_for(runtime: MemoryRouter) -> type[wamp_trio.Component]:
    """A Component class whose sessions use ``runtime``."""

    class Session(wamp_trio.Session):
        pass

    Session.runtime = runtime

    class Component(wamp_trio.Component):
        session_class = Session

    return Component


def _run(test: Callable[[trio.Nursery], Awaitable[None]]) -> float:
    """Run ``test`` under a MockClock that jumps whenever every task waits; the virtual
    seconds it took."""

    async def main() -> float:
        async with trio.open_nursery() as nursery:
            start = trio.current_time()
            await test(nursery)
            nursery.cancel_scope.cancel()
        return trio.current_time() - start

    result: float = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return result


def test_a_component_over_memory_streams_runs_its_lifecycle() -> None:
    seen: list[str] = []

    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery)
        events: list[Any] = []

        async def main(session: wamp_trio.Session) -> Any:
            seen.append("main")
            await session.publish(
                "com.t.topic", 7, options=wc.PublishOptions(acknowledge=True, exclude_me=False)
            )
            with trio.fail_after(5):
                while not events:
                    await trio.sleep(0.01)
            return await session.call("com.t.add", 2, 3)

        component = _driver_for(runtime)(main=main, transports=URL)
        component.register("com.t.add")(lambda a, b: a + b)
        component.subscribe("com.t.topic")(events.append)
        for hook in ("connect", "join", "ready", "leave", "disconnect"):
            component.on(hook, lambda *a, hook=hook, **k: seen.append(hook))
        assert await component.run() == 5
        assert events == [7]

    _run(test)
    assert seen == ["connect", "join", "ready", "main", "leave", "disconnect"]


def test_lockstep_streams_every_write_waits_for_its_reader() -> None:
    """No buffering at all between client and router: the writer task, the reader and the
    handlers must never wait on each other in a cycle (a deadlock would hang here)."""

    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery, lockstep=True)
        got: list[int] = []

        async def main(session: wamp_trio.Session) -> list[Any]:
            async with trio.open_nursery() as calls:
                results: list[Any] = []

                async def one(i: int) -> None:
                    results.append(await session.call("com.t.echo", i))

                for i in range(20):
                    calls.start_soon(one, i)
            for i in range(5):
                await session.publish("com.t.topic", i, options=wc.PublishOptions(exclude_me=False))
            with trio.fail_after(5):
                while len(got) < 5:
                    await trio.sleep(0.01)
            return sorted(results)

        component = _driver_for(runtime)(main=main, transports=URL)
        component.register("com.t.echo")(lambda x: x)
        component.subscribe("com.t.topic")(got.append)
        with trio.fail_after(60):
            assert await component.run() == list(range(20))
        assert got == [0, 1, 2, 3, 4]

    _run(test)


def test_backoff_waits_the_policys_delays_in_virtual_time() -> None:
    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery, refuse=3)
        transport = {
            "url": URL, "initial_retry_delay": 1.0, "retry_delay_growth": 2.0,
            "retry_delay_jitter": lambda: 0.5,  # the middle of the jitter range: none
        }  # fmt: skip
        component = _driver_for(runtime)(main=lambda session: None, transports=transport)
        failures: list[BaseException] = []
        component.on_connectfailure(lambda _component, error: failures.append(error))
        await component.run()
        gaps = [b - a for a, b in zip(runtime.attempts, runtime.attempts[1:], strict=False)]
        assert gaps == pytest.approx([1.0, 2.0, 4.0])
        assert [type(error) for error in failures] == [wc.TransportError] * 3

    elapsed = _run(test)
    assert elapsed == pytest.approx(7.0, abs=0.1)


def test_stop_during_backoff_returns_at_once() -> None:
    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery, refuse=10**6)
        component = _driver_for(runtime)(
            transports={"url": URL, "initial_retry_delay": 1000.0, "retry_delay_jitter": 0}
        )
        async with trio.open_nursery() as inner:
            inner.start_soon(component.run)
            while len(runtime.attempts) < 2:  # the first retry waits 1000 s
                await trio.sleep(1)
            before = trio.current_time()
            await component.stop()
            assert trio.current_time() - before < 1

    assert _run(test) < 100


def test_nursery_start_returns_the_ready_session() -> None:
    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery)
        component = _driver_for(runtime)(transports=URL)
        component.register("com.t.echo")(lambda x: x)
        async with trio.open_nursery() as inner:
            session = await inner.start(component.run)
            assert isinstance(session, wamp_trio.Session)
            assert session.is_attached()
            assert await session.call("com.t.echo", "x") == "x"
            await component.stop()
        assert session.closed

    _run(test)


def test_keepalive_gives_up_a_stalled_link_within_its_timeout() -> None:
    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery)
        transport = wc.parse_transports(
            {"url": URL, "options": {"auto_ping_interval": 10, "auto_ping_timeout": 5}}
        )[0]
        session = _driver_for(runtime).session_class(wc.ComponentConfig("realm1"))
        async with wc.driver.open_session(transport, session):
            pending = trio.Event()
            failure: list[BaseException] = []

            async def call() -> None:
                pending.set()
                try:
                    await session.call("com.t.nobody.answers")
                except BaseException as exc:
                    failure.append(exc)

            runtime.stall = True  # from now on the router swallows everything
            nursery.start_soon(call)
            await pending.wait()
            stalled = trio.current_time()
            await session.wait_closed()
            assert trio.current_time() - stalled <= 10 + 5 + 0.1
            await trio.sleep(0)
            assert [type(exc) for exc in failure] == [wc.SessionClosed]

    _run(test)


def test_a_local_call_timeout_in_virtual_time() -> None:
    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery)
        component = _driver_for(runtime)(transports=URL)

        async def slow() -> None:
            await trio.sleep(math.inf)

        component.register("com.t.slow")(slow)
        async with trio.open_nursery() as inner:
            session = await inner.start(component.run)
            before = trio.current_time()
            with pytest.raises(wc.ApplicationError) as info:
                await session.call("com.t.slow", options=wc.CallOptions(timeout=30))
            assert info.value.error == wc.ApplicationError.TIMEOUT
            assert trio.current_time() - before == pytest.approx(30, abs=0.1)
            await component.stop()

    _run(test)


def test_an_iter_call_timeout_is_the_whole_calls_in_virtual_time() -> None:
    """The deadline counts from the CALL, the caller's own time between results included: a
    caller that reads late gets ``wamp.error.timeout`` at its next read (results queued or not),
    not one timeout per result."""

    async def test(nursery: trio.Nursery) -> None:
        runtime = MemoryRouter(nursery)
        component = _driver_for(runtime)(transports=URL)

        async def drip() -> Any:
            for i in range(100):
                yield i
                await trio.sleep(1)

        component.register("com.t.drip")(drip)
        async with trio.open_nursery() as inner:
            session = await inner.start(component.run)
            options = wc.CallOptions(timeout=10)
            for pause in (0.0, 3.0):  # each result in time; the caller's pauses add up
                got: list[int] = []
                before = trio.current_time()
                with pytest.raises(wc.ApplicationError) as info:
                    async with session.iter_call("com.t.drip", options=options) as results:
                        async for result in results:
                            got.append(result.args[0])
                            await trio.sleep(pause)
                assert info.value.error == wc.ApplicationError.TIMEOUT
                assert trio.current_time() - before == pytest.approx(10, abs=pause + 0.1)
                assert 0 < len(got) <= 11
            await component.stop()

    _run(test)


def test_both_drivers_export_the_same_api_and_the_common_errors() -> None:
    """Porting between the drivers is an import change; docs/errors.md names the errors
    importable from each."""
    import wamp_anyio

    assert set(wamp_anyio.__all__) - set(wamp_trio.__all__) == {"RouterServer", "start_router"}
    assert set(wamp_trio.__all__) <= set(wamp_anyio.__all__)
    for name in ("WampError", "ConfigurationError", "TransportError", "SessionClosed",
                 "ApplicationError"):  # fmt: skip
        assert getattr(wamp_anyio, name) is getattr(wamp_trio, name) is getattr(wc, name)
