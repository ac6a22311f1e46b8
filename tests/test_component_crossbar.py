"""wamp.Component against a real Crossbar.io, on asyncio and on trio: the lifecycle
order, restore on rejoin, stop at every stage, reconnect, fatal errors."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import TICKET_AUTHID, CrossbarRouter, free_tcp_ports

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 30


TRANSPORTS: dict[str, Callable[[CrossbarRouter], Any]] = {
    "websocket-msgpack": lambda cb: {
        "type": "websocket", "url": cb.ws_url, "serializers": ["msgpack"],
    },
    "rawsocket-json": lambda cb: {"type": "rawsocket", "url": cb.rs_url, "serializer": "json"},
}  # fmt: skip


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest, crossbar: CrossbarRouter) -> Any:
    return TRANSPORTS[request.param](crossbar)


def _uri(name: str) -> str:
    return f"com.test.component.{name}"


def _record(component: wamp.Component, seen: list[str]) -> None:
    """Append each hook's name to ``seen`` as it fires."""
    component.on_connect(lambda session, transport: seen.append("connect"))
    component.on_join(lambda session, details: seen.append("join"))
    component.on_ready(lambda session: seen.append("ready"))
    component.on_leave(lambda session, details: seen.append(f"leave:{details.reason}"))
    component.on_disconnect(
        lambda session, was_clean: seen.append(f"disconnect:{'clean' if was_clean else 'lost'}")
    )
    component.on_connectfailure(lambda component, error: seen.append("connectfailure"))


async def test_lifecycle_order_restore_and_main_result(transport: Any) -> None:
    seen: list[str] = []
    received: list[Any] = []

    async def main(session: wamp.Session) -> int:
        seen.append("main")
        # the decorators' registration and subscription are confirmed before `join` fired
        total = await session.call(_uri("add"), 2, 3)
        await session.publish(
            _uri("hello"), "hi", options=wc.PublishOptions(acknowledge=True, exclude_me=False)
        )
        with anyio.fail_after(5):
            while not received:
                await anyio.sleep(0.01)
        assert isinstance(total, int)
        return total

    component = wamp.Component(main=main, transports=transport, realm="realm1")
    _record(component, seen)

    @component.register(_uri("add"))
    def add(a: int, b: int) -> int:
        return a + b

    @component.subscribe(_uri("hello"))
    async def hello(text: str) -> None:
        received.append(text)

    @component.on_join
    async def check_restored(session: wamp.Session, details: wc.SessionDetails) -> None:
        assert details.realm == "realm1"
        assert await session.call(_uri("add"), 1, 1) == 2

    with anyio.fail_after(TIMEOUT):
        assert await component.run() == 5
    assert received == ["hi"]
    assert seen == [
        "connect", "join", "ready", "main", "leave:wamp.close.normal", "disconnect:clean",
    ]  # fmt: skip
    assert component.session is None


async def test_autobahn_start_event_fires_once_per_run_before_connecting(
    transport: Any, anyio_backend: str
) -> None:
    """``component.on("start", ...)``: Autobahn's event, ``(reactor, component)``, once per
    run before the first connect (not on a reconnect); its error ends the run unconnected."""
    seen: list[str] = []
    component = wamp.Component(main=lambda session: seen.append("main"), transports=transport)
    _record(component, seen)

    async def started(reactor: object, which: wamp.Component) -> None:
        assert which is component
        if anyio_backend == "asyncio":
            assert reactor is asyncio.get_running_loop()
        await anyio.sleep(0)
        seen.append("start")

    assert component.on("start", started) is started
    with anyio.fail_after(TIMEOUT):
        await component.run()
        await component.run()
    assert seen == 2 * [
        "start", "connect", "join", "ready", "main", "leave:wamp.close.normal", "disconnect:clean"
    ]  # fmt: skip

    def refuse(reactor: object, which: wamp.Component) -> None:
        raise RuntimeError("not today")

    seen.clear()
    component.off("start")
    component.on("start", refuse)
    with anyio.fail_after(TIMEOUT), pytest.raises(RuntimeError, match="not today"):
        await component.run()
    assert seen == []
    with pytest.raises(wc.ConfigurationError, match="called with"):
        component.on("start", lambda reactor: None)


async def test_autobahn_main_signature_config_extra_and_session_factory(
    crossbar: CrossbarRouter, anyio_backend: str
) -> None:
    made: list[wc.ComponentConfig] = []

    class MySession(wamp.Session):
        pass

    def factory(config: wc.ComponentConfig) -> wamp.Session:
        made.append(config)
        return MySession(config)

    async def main(reactor: object, session: wamp.Session) -> Any:
        if anyio_backend == "trio":
            import trio

            assert reactor is trio
        else:
            assert reactor is asyncio.get_running_loop()
        assert isinstance(session, MySession)
        assert session.is_attached()
        return session.config.extra

    component = wamp.Component(
        main=main, transports=crossbar.rs_url, extra={"x": 1}, session_factory=factory
    )
    with anyio.fail_after(TIMEOUT):
        assert await component.run() == {"x": 1}
    assert made == [wc.ComponentConfig("realm1", {"x": 1})]


async def test_main_error_ends_the_run_after_a_clean_leave(crossbar: CrossbarRouter) -> None:
    seen: list[str] = []

    async def main(session: wamp.Session) -> None:
        raise ValueError("boom")

    component = wamp.Component(main=main, transports=crossbar.rs_url)
    _record(component, seen)
    with anyio.fail_after(TIMEOUT), pytest.raises(ValueError, match="boom"):
        await component.run()
    assert seen == ["connect", "join", "ready", "leave:wamp.close.normal", "disconnect:clean"]


async def test_main_error_retried_when_is_fatal_says_so(crossbar: CrossbarRouter) -> None:
    runs: list[int] = []

    async def main(session: wamp.Session) -> str:
        runs.append(session.session_id or 0)
        if len(runs) == 1:
            raise RuntimeError("transient")
        return "second"

    component = wamp.Component(
        main=main,
        transports={"url": crossbar.rs_url, "type": "rawsocket", "initial_retry_delay": 0.05},
        is_fatal=lambda exc: False,
    )
    with anyio.fail_after(TIMEOUT):
        assert await component.run() == "second"
    assert len(runs) == 2
    assert runs[0] != runs[1]  # a new session each time


async def test_hook_error_is_raised_not_swallowed(crossbar: CrossbarRouter) -> None:
    component = wamp.Component(transports=crossbar.rs_url)

    @component.on_ready
    def broken(session: wamp.Session) -> None:
        raise KeyError("in on_ready")

    with anyio.fail_after(TIMEOUT), pytest.raises(KeyError, match="in on_ready"):
        await component.run()


async def test_failed_restore_is_raised(crossbar: CrossbarRouter) -> None:
    async with wamp.connect(crossbar.rs_url) as other:
        await other.register(lambda: None, _uri("taken"))
        component = wamp.Component(transports=crossbar.rs_url, main=lambda s: None)
        component.register(_uri("taken"))(lambda: None)
        with anyio.fail_after(TIMEOUT), pytest.raises(wc.ApplicationError) as info:
            await component.run()
        assert info.value.error == wc.ApplicationError.PROCEDURE_ALREADY_EXISTS


@pytest.mark.parametrize(
    ("authentication", "says"),
    [
        ({"ticket": {"authid": TICKET_AUTHID, "ticket": "wrong"}}, "not_authorized"),
        # the endpoint takes no anonymous: Crossbar's ABORT no_auth_method was retried for ever
        ({"anonymous": {}}, "no_auth_method"),
    ],
    ids=["wrong-ticket", "no-method"],
)
async def test_wrong_credentials_are_fatal_with_a_clear_error(
    crossbar: CrossbarRouter, authentication: dict[str, Any], says: str
) -> None:
    failures: list[BaseException] = []
    component = wamp.Component(
        transports={"url": crossbar.ws_auth_url, "max_retries": -1, "initial_retry_delay": 0.01},
        authentication=authentication,
        main=lambda session: None,
    )
    component.on_connectfailure(lambda component, error: failures.append(error))
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await component.run()
    assert len(failures) == 1  # not retried
    assert says in str(info.value), info.value
    assert isinstance(info.value.__cause__, wc.SessionClosed)


async def test_stop_during_backoff_returns_at_once() -> None:
    (port,) = free_tcp_ports(1)  # nobody listens
    component = wamp.Component(
        transports={"url": f"rs://127.0.0.1:{port}", "initial_retry_delay": 60},
        main=lambda session: None,
    )
    failed = anyio.Event()
    component.on_connectfailure(lambda component, error: failed.set())
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await failed.wait()
            started = time.monotonic()
            await component.stop()
            assert time.monotonic() - started < 2
    assert component.session is None


async def test_stop_during_the_join_returns_at_once(silent_server: int) -> None:
    component = wamp.Component(
        transports=f"rs://127.0.0.1:{silent_server}", main=lambda session: None
    )
    connected = anyio.Event()
    component.on_connect(lambda session, transport: connected.set())
    disconnected: list[bool] = []
    component.on_disconnect(lambda session, was_clean: disconnected.append(was_clean))
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await connected.wait()
            started = time.monotonic()
            await component.stop()
            assert time.monotonic() - started < 2
    assert disconnected == [False]


async def test_join_timeout_is_a_connect_failure(
    silent_transport: Callable[[int], dict[str, Any]],
) -> None:
    component = wamp.Component(transports=silent_transport(1), main=lambda session: None)
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await component.run()
    assert "no session within 0.3 s" in str(info.value)


async def test_stop_during_main_leaves_cleanly(crossbar: CrossbarRouter) -> None:
    seen: list[str] = []
    cancelled = anyio.Event()

    async def main(session: wamp.Session) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    component = wamp.Component(main=main, transports=crossbar.ws_url)
    _record(component, seen)
    with anyio.fail_after(TIMEOUT):
        async with component:
            session = await component.wait_ready()
            assert session.is_attached()
        assert cancelled.is_set()
    assert seen == ["connect", "join", "ready", "leave:wamp.close.normal", "disconnect:clean"]


async def test_stop_from_inside_the_component(crossbar: CrossbarRouter) -> None:
    component = wamp.Component(transports=crossbar.rs_url)

    @component.on_ready
    async def ready(session: wamp.Session) -> None:
        await component.stop()  # Autobahn #1231: this looped forever there

    with anyio.fail_after(TIMEOUT):
        assert await component.run() is None


async def test_router_started_late_then_killed_and_restarted() -> None:
    """The component keeps trying until the router is up; when the router dies, a call in
    flight fails at once; when it is back, the registration is restored."""
    router = CrossbarRouter()
    router.rs_port, router.ws_port, router.wss_port, router.rss_port = free_tcp_ports(4)
    transport = {
        "type": "rawsocket",
        "url": f"rs://127.0.0.1:{router.rs_port}",
        "initial_retry_delay": 0.2,
        "max_retry_delay": 0.5,
    }
    seen: list[str] = []
    component = wamp.Component(transports=transport)
    _record(component, seen)
    entered = anyio.Event()

    @component.register(_uri("slow"))
    async def slow() -> str:
        entered.set()
        await anyio.sleep(60)
        return "never"

    @component.register(_uri("ping"))
    def ping() -> str:
        return "pong"

    try:
        with anyio.fail_after(120):
            async with component:
                await anyio.sleep(0.5)
                assert "connectfailure" in seen
                await anyio.to_thread.run_sync(lambda: router.start(same_ports=True))
                first = await component.wait_ready()
                async with wamp.connect(router.ws_url) as caller:
                    assert await caller.call(_uri("ping")) == "pong"
                    # A call in flight fails at once when the router dies.
                    async with anyio.create_task_group() as tg:
                        errors: list[BaseException] = []

                        async def call_slow() -> None:
                            try:
                                await caller.call(_uri("slow"))
                            except wc.SessionClosed as exc:
                                errors.append(exc)

                        tg.start_soon(call_slow)
                        await entered.wait()
                        killed = time.monotonic()
                        router.kill()
                    assert len(errors) == 1
                    assert time.monotonic() - killed < 5
                await anyio.sleep(0.5)  # at least one failed attempt while it is down
                await anyio.to_thread.run_sync(lambda: router.start(same_ports=True))
                second = await component.wait_ready()
                assert second is not first
                async with wamp.connect(router.ws_url) as caller:
                    assert await caller.call(_uri("ping")) == "pong"
                up = ["connect", "join", "ready"]
                lost = ["leave:wamp.close.transport_lost", "disconnect:lost"]
                assert seen[0] == "connectfailure"
                assert seen[seen.index("connect") : seen.index("connect") + 3] == up
                after_kill = seen[seen.index("ready") + 1 :]
                assert after_kill[:3] == [*lost, "connectfailure"]
                assert after_kill[-3:] == up
    finally:
        router.stop()


_SERVE = """
import importlib
import sys

wamp = importlib.import_module("wamp_trio" if sys.argv[2] == "wamp_trio" else "wamp_anyio")
component = wamp.Component(transports=sys.argv[1])
component.on_ready(lambda session: print("ready", flush=True))
%s
if sys.argv[2] == "wamp_trio":
    wamp.run(component)
else:
    wamp.run(component, backend=sys.argv[2])
"""
_CLEAN_HOOKS = """
component.on_leave(lambda session, details: print("left", details.reason, flush=True))
component.on_disconnect(lambda session, was_clean: print("closed", was_clean, flush=True))
"""
_SLOW_LEAVE = """
async def slow_leave(session, details):
    print("leaving", flush=True)
    sleep = importlib.import_module("asyncio" if sys.argv[2] == "asyncio" else "trio").sleep
    await sleep(60)

component.on_leave(slow_leave)

async def slow_disconnect(session, was_clean):
    sleep = importlib.import_module("asyncio" if sys.argv[2] == "asyncio" else "trio").sleep
    await sleep(60)

component.on_disconnect(slow_disconnect)
"""


def _serve(crossbar: CrossbarRouter, backend: str, hooks: str) -> subprocess.Popen[str]:
    """A process running a component with ``wamp.run`` (``hooks`` added), once it is ready."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE % hooks, crossbar.rs_url, backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("backend", ["asyncio", "trio", "wamp_trio"])
def test_run_stops_cleanly_on_a_signal(
    crossbar: CrossbarRouter, backend: str, signum: signal.Signals
) -> None:
    proc = _serve(crossbar, backend, _CLEAN_HOOKS)
    try:
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert out == "left wamp.close.normal\nclosed True\n", err
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["asyncio", "trio", "wamp_trio"])
def test_a_second_ctrl_c_stops_at_once(crossbar: CrossbarRouter, backend: str) -> None:
    """The first Ctrl-C stops cleanly and waits for the listeners; a second one used to be
    swallowed while they ran (it cancels this slow leave listener and the slow disconnect
    listener after it)."""
    proc = _serve(crossbar, backend, _SLOW_LEAVE)
    try:
        assert proc.stdout is not None
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline() == "leaving\n"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _out, err = proc.communicate(timeout=20)
        assert time.monotonic() - started < 5, err
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err


_LOG_LEVEL = """
import importlib
import sys

wamp = importlib.import_module("wamp_trio" if sys.argv[2] == "wamp_trio" else "wamp_anyio")
component = wamp.Component(transports=sys.argv[1], main=lambda session: None)
options = {} if sys.argv[2] == "wamp_trio" else {"backend": sys.argv[2]}
wamp.run(component, log_level=sys.argv[3], **options)
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio", "wamp_trio"])
def test_run_takes_autobahns_log_level(crossbar: CrossbarRouter, backend: str) -> None:
    """``run(components, log_level="debug")`` (Autobahn's argument) sets up logging; "none"
    silences it; an unknown level is refused before anything connects."""

    def run(level: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _LOG_LEVEL, crossbar.rs_url, backend, level],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip

    debug = run("DEBUG")
    assert debug.returncode == 0, debug.stderr
    assert " DEBUG wamp_core._config._reconnect: attempt 1 on transport 0 " in debug.stderr
    assert "Traceback" not in debug.stderr
    for quiet in ("none", "warn"):
        silent = run(quiet)
        assert (silent.returncode, silent.stderr) == (0, "")
    wrong = run("loud")
    assert wrong.returncode == 1
    assert wrong.stderr.splitlines()[-1].endswith(
        "ConfigurationError: log_level must be one of none, critical, error, warn, warning, "
        "info, debug, trace: 'loud'"
    )
    assert "attempt 1" not in wrong.stderr


async def test_async_with_whose_body_ends_at_once_returns(crossbar: CrossbarRouter) -> None:
    """The body ends before the run's task has begun: ``stop()`` found no run to stop and the
    exit waited for the run it started, for ever."""
    component = wamp.Component(transports=crossbar.rs_url)
    with anyio.fail_after(TIMEOUT):
        async with component:
            pass
        async with component:  # and again: nothing left over from the first time
            await component.wait_ready()


async def test_wait_ready_raises_what_ended_the_run() -> None:
    """The run ends (here: the router cannot be reached, no retries) before a session was
    ready: ``wait_ready()`` raises that error instead of waiting for ever."""
    (port,) = free_tcp_ports(1)  # nobody listens
    component = wamp.Component(transports={"url": f"rs://127.0.0.1:{port}", "max_retries": 0})
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted):
        async with component:
            await component.wait_ready()
