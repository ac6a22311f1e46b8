"""How a component's run ends, against a real Crossbar.io, on every driver: a stop before the
run began, errors of listeners around a connection, a cancel of the task running it, a
``SessionClosed`` that is not the session's, a stop from ``join``, a second Ctrl-C, and a
restore the router refuses because it still holds the previous session (a half-open link).
The second Ctrl-C: test_component_crossbar.py.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from faultproxy import fault_proxy, rejoined_after_a_half_open_link

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 30


def _uri(name: str) -> str:
    return f"com.test.ends.{name}"


async def test_stop_right_after_start_soon_ends_the_run(crossbar: CrossbarRouter) -> None:
    """``stop()`` before the run's task began (started with ``start_soon`` just before): it
    used to find no run, return, and leave the run going for ever."""
    component = wamp.Component(transports=crossbar.rs_url)
    seen: list[str] = []
    component.on_connect(lambda session, transport: seen.append("connect"))
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await component.stop()
    assert seen == []


async def test_a_stop_while_idle_does_not_stop_a_later_run(crossbar: CrossbarRouter) -> None:
    component = wamp.Component(transports=crossbar.rs_url, main=lambda session: "done")
    with anyio.fail_after(TIMEOUT):
        await component.stop()
        assert await component.run() == "done"
        await component.stop()  # after the run: nothing to stop
        assert await component.run() == "done"


async def test_a_connect_listener_error_ends_the_run(crossbar: CrossbarRouter) -> None:
    """It used to count as a failed connection attempt: retried for ever by default."""
    component = wamp.Component(
        transports={"url": crossbar.rs_url, "initial_retry_delay": 0.01},
        main=lambda session: "done",
    )
    seen: list[str] = []

    @component.on_connect
    def connected(session: wamp.Session, transport: Any) -> None:
        seen.append("connect")
        raise ValueError("bug in a connect listener")

    component.on_disconnect(lambda session, was_clean: seen.append("disconnect"))
    component.on_connectfailure(lambda component, error: seen.append("connectfailure"))
    with anyio.fail_after(TIMEOUT), pytest.raises(ValueError, match="bug in a connect"):
        await component.run()
    assert seen == ["connect", "disconnect"]


async def test_a_connect_listener_error_is_retried_when_is_fatal_says_so(
    crossbar: CrossbarRouter,
) -> None:
    failures: list[BaseException] = []
    component = wamp.Component(
        transports={"url": crossbar.rs_url, "initial_retry_delay": 0.01},
        main=lambda session: "done",
        is_fatal=lambda error: not isinstance(error, ValueError),
    )

    @component.on_connect
    def connected(session: wamp.Session, transport: Any) -> None:
        if not failures:
            raise ValueError("only the first time")

    component.on_connectfailure(lambda component, error: failures.append(error))
    with anyio.fail_after(TIMEOUT):
        assert await component.run() == "done"
    assert [str(error) for error in failures] == ["only the first time"]


async def test_a_disconnect_listener_error_after_a_failed_join_ends_the_run(
    silent_transport: Callable[[int], dict[str, Any]],
) -> None:
    """It used to be dropped for the attempt's connection error, and the attempt retried."""
    component = wamp.Component(transports=silent_transport(3))
    calls: list[bool] = []

    @component.on_disconnect
    def disconnected(session: wamp.Session, was_clean: bool) -> None:
        calls.append(was_clean)
        raise RuntimeError("bug in a disconnect listener")

    with anyio.fail_after(TIMEOUT), pytest.raises(RuntimeError, match="bug in a disconnect"):
        await component.run()
    assert calls == [False]


async def test_cancelling_the_run_fires_leave_and_disconnect(crossbar: CrossbarRouter) -> None:
    """``disconnect`` used to be skipped when the task running ``run()`` was cancelled."""
    seen: list[str] = []
    component = wamp.Component(transports=crossbar.rs_url)
    component.on_leave(lambda session, details: seen.append(f"leave:{details.reason}"))
    component.on_disconnect(lambda session, was_clean: seen.append(f"disconnect:{was_clean}"))
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await component.wait_ready()
            tg.cancel_scope.cancel()
    assert seen == ["leave:wamp.close.normal", "disconnect:True"]


@pytest.mark.parametrize("hook", ["leave", "disconnect"])
async def test_a_cancel_does_not_wait_for_a_slow_listener(
    crossbar: CrossbarRouter, hook: str
) -> None:
    """The listeners ran shielded: cancelling ``run()`` waited for them, for ever if one hung."""
    component = wamp.Component(transports=crossbar.rs_url)
    ended: list[str] = []

    async def slow(*args: Any, **kwargs: Any) -> None:
        try:
            await anyio.sleep(60)
        finally:
            ended.append(hook)

    component.on(hook, slow)
    started = time.monotonic()
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await component.wait_ready()
            tg.cancel_scope.cancel()
    assert ended == [hook]
    assert time.monotonic() - started < 10


async def test_stop_lets_a_slow_listener_finish(crossbar: CrossbarRouter) -> None:
    component = wamp.Component(transports=crossbar.rs_url)
    seen: list[str] = []

    async def slow_leave(session: wamp.Session, details: wc.CloseDetails) -> None:
        await anyio.sleep(0.3)
        seen.append("leave done")

    component.on_leave(slow_leave)
    component.on_disconnect(lambda session, was_clean: seen.append("disconnect"))
    with anyio.fail_after(TIMEOUT):
        async with component:
            await component.wait_ready()
            await component.stop()
            assert seen == ["leave done", "disconnect"]


async def test_main_raising_another_sessions_sessionclosed_ends_the_run(
    crossbar: CrossbarRouter,
) -> None:
    """A ``SessionClosed`` raised while the component's own session is open is ``main``'s
    error: it used to be taken for the session's end (``run()`` returned ``None``)."""

    async def main(session: wamp.Session) -> str:
        async with wamp.connect(crossbar.rs_url, realm="no.such.realm"):
            pass
        return "not reached"

    component = wamp.Component(transports=crossbar.rs_url, main=main)
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.SessionClosed, match=r"no\.such\.realm"):
        await component.run()


async def test_stop_from_a_join_listener_skips_ready_and_main(crossbar: CrossbarRouter) -> None:
    seen: list[str] = []
    component = wamp.Component(transports=crossbar.rs_url, main=lambda session: seen.append("main"))

    async def stop_now(session: wamp.Session, details: wc.SessionDetails) -> None:
        await component.stop()

    component.on_join(stop_now)
    component.on_ready(lambda session: seen.append("ready"))
    component.on_leave(lambda session, details: seen.append("leave"))
    with anyio.fail_after(TIMEOUT):
        assert await component.run() is None
    assert seen == ["leave"]


async def test_main_that_stopped_its_component_returns_none(crossbar: CrossbarRouter) -> None:
    async def main(session: wamp.Session) -> int:
        await component.stop()
        return 42

    component = wamp.Component(transports=crossbar.rs_url, main=main)
    with anyio.fail_after(TIMEOUT):
        assert await component.run() is None


async def test_a_restore_refused_for_the_previous_session_is_retried(
    crossbar: CrossbarRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """A half-open link: the client's keepalive gives it up and reconnects while the router
    still holds the old session and its registration. The restore on the rejoin is refused
    with ``procedure_already_exists``: it used to end the run; now the component reconnects
    until the router has dropped the old session."""
    caplog.set_level(logging.WARNING, logger="wamp_core")
    port = int(crossbar.ws_url.split(":")[2].split("/")[0])
    procedure = _uri("restore.half_open")
    url = "ws://127.0.0.1:{}/ws"
    # the router sees the link close 2 s after the client gave it up
    with anyio.fail_after(TIMEOUT):
        async with (
            fault_proxy("127.0.0.1", port) as proxy,
            rejoined_after_a_half_open_link(wamp, url.format(proxy.port), proxy, procedure, 2.0),
            wamp.connect(crossbar.rs_url) as caller,
        ):
            assert await caller.call(procedure) == "here"
    refused = [r for r in caplog.records if "still holds the previous session" in r.message]
    assert refused, "the rejoin was not refused: the test did not make a half-open link"


@pytest.mark.parametrize("insist", [False, True])
async def test_a_session_killed_for_good_ends_the_run_unless_is_fatal_says_retry(
    crossbar: CrossbarRouter, insist: bool
) -> None:
    """The router kills the session with a reason retrying cannot fix: the run ends with it,
    unless the user's ``is_fatal`` answers ``False`` (it used to be ignored there)."""
    readies: list[wamp.Session] = []
    component = wamp.Component(
        transports={"url": crossbar.rs_url, "initial_retry_delay": 0.05},
        is_fatal=(lambda error: False) if insist else None,
    )
    component.on_ready(readies.append)

    async def kill_first() -> None:
        session = await component.wait_ready()
        async with wamp.connect(crossbar.rs_url) as killer:
            await killer.call(
                "wamp.session.kill", session.session_id,
                reason="wamp.error.not_authorized", message="revoked",
            )  # fmt: skip
        if insist:
            while len(readies) < 2:
                await anyio.sleep(0.05)
            await component.stop()

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_first)
            if insist:
                assert await component.run() is None
            else:
                with pytest.raises(wc.SessionClosed, match="not_authorized"):
                    await component.run()
    assert len(readies) == (2 if insist else 1)


def test_run_refuses_nothing_to_run_and_an_unknown_log_level_as_configuration_errors() -> None:
    """docs/errors.md: what the library raises on purpose is a WampError."""
    with pytest.raises(wc.ConfigurationError, match="at least one component"):
        wamp.run([])
    # not a component: it was a TypeError, or an ExceptionGroup of AttributeErrors
    for wrong in (5, [5], ["rs://127.0.0.1:8081"]):
        with pytest.raises(wc.ConfigurationError, match="component"):
            wamp.run(wrong)  # type: ignore[arg-type]
    other = "wamp_trio" if wamp.__name__ == "wamp_anyio" else "wamp_anyio"
    foreign = importlib.import_module(other).Component()
    with pytest.raises(wc.ConfigurationError, match="this driver's components"):
        wamp.run(foreign)
    with pytest.raises(wc.ConfigurationError, match="log_level must be one of"):
        wamp.run(wamp.Component(), log_level="loud")
    with pytest.raises(wc.ConfigurationError, match="bad permission"):
        wc.Permission("com.", match="regex")


@pytest.mark.parametrize("raised", [SystemExit(5), KeyboardInterrupt()], ids=type)
async def test_main_raising_a_base_exception_ends_the_run_with_it_unwrapped(
    crossbar: CrossbarRouter, raised: BaseException
) -> None:
    """``sys.exit()`` in ``main`` (and Ctrl-C, which trio raises in the main task): the run
    used to raise it inside an exception group, so ``except SystemExit`` missed it."""
    left: list[str] = []

    def main(session: Any) -> None:
        raise raised

    component = wamp.Component(transports=crossbar.rs_url, main=main)
    component.on_leave(lambda session, details: left.append(details.reason))
    with anyio.fail_after(TIMEOUT), pytest.raises(type(raised)) as info:
        await component.run()
    assert info.value is raised
    assert left == ["wamp.close.normal"]  # it left cleanly first


@pytest.mark.parametrize("driver", ["wamp_anyio", "wamp_trio"])
def test_sys_exit_in_main_is_the_exit_status_of_run(crossbar: CrossbarRouter, driver: str) -> None:
    module = importlib.import_module(driver)

    def main(session: Any) -> None:
        sys.exit(5)

    with pytest.raises(SystemExit) as info:
        module.run(module.Component(transports=crossbar.rs_url, main=main))
    assert info.value.code == 5


async def test_wait_ready_in_async_with_raises_once_its_run_has_ended(
    crossbar: CrossbarRouter,
) -> None:
    """``async with component:`` whose run ended (here a fatal join error): wait_ready() in
    its body raised nothing and waited for ever for a next run that never comes."""
    component = wamp.Component(transports=crossbar.rs_url, realm="com.no.such.realm")
    with anyio.fail_after(20), pytest.raises(wc.ReconnectExhausted, match="no_such_realm"):
        async with component:
            await anyio.sleep(0.5)  # the run fails at once
            await component.wait_ready()


async def test_async_with_a_running_component_is_refused_at_once(
    crossbar: CrossbarRouter,
) -> None:
    """A second ``async with`` of the running component raises before anything (it stopped
    the first block's run, then broke its exit: an AssertionError, or trio's nursery)."""
    component = wamp.Component(transports=crossbar.rs_url)
    with anyio.fail_after(20):
        async with component:
            first = await component.wait_ready()
            with pytest.raises(RuntimeError, match="already running"):
                async with component:
                    raise AssertionError("entered twice")
            assert await component.wait_ready() is first and first.is_attached()


async def test_a_long_router_message_is_cut_in_the_error_text(router: Any) -> None:
    """The router's GOODBYE message (here a 100 kB ``wamp.session.kill`` message) reaches
    ``close_details`` whole, and the error of every pending request quotes it cut short (it
    quoted all of it: an exception text, and every log line naming it, of any size)."""
    message = "m" * 100_000
    procedure = _uri("stall_for_a_long_message")
    invoked = anyio.Event()

    async def stall() -> None:
        invoked.set()
        await anyio.sleep_forever()

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(router.rs_url) as callee, wamp.connect(router.rs_url) as session:
            await callee.register(stall, procedure)

            async def kill() -> None:
                await invoked.wait()
                await callee.call(
                    "wamp.session.kill", session.session_id,
                    reason="com.test.revoked", message=message,
                )  # fmt: skip

            async with anyio.create_task_group() as tg:
                tg.start_soon(kill)
                with pytest.raises(wc.SessionClosed) as info:
                    await session.call(procedure)
            assert session.close_details is not None
            assert session.close_details.message == message
    text = str(info.value)
    assert "com.test.revoked" in text and "mmmm" in text
    assert len(text) < 400, len(text)


async def test_a_join_that_cannot_fit_the_size_limits_is_not_retried(router: Any) -> None:
    """A ``max_message_size`` our own HELLO does not fit: the transport is given up at the
    first attempt (it was retried for ever: a configuration that can never work). A user's
    ``is_fatal`` still decides when given."""
    transport = {"type": "websocket", "url": router.ws_url, "options": {"max_message_size": 200},
                 "initial_retry_delay": 0.05, "max_retry_delay": 0.05}  # fmt: skip
    failures: list[BaseException] = []
    component = wamp.Component(transports=[transport], main=lambda session: "joined")
    component.on_connectfailure(lambda _component, error: failures.append(error))
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await component.run()
    assert len(failures) == 1, failures
    assert "payload_size_exceeded" in str(info.value) and "HELLO" in str(info.value)

    retried = wamp.Component(
        transports=[{**transport, "max_retries": 2}], is_fatal=lambda error: False
    )
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted, match="3 attempts"):
        await retried.run()


async def test_a_join_timeout_names_a_small_max_message_size(
    silent_transport: Callable[[int], dict[str, Any]],
) -> None:
    """Crossbar.io drops a WELCOME larger than a RawSocket client's limit: the join times out,
    and the error says which setting to look at (it said only "no session within")."""
    small = {**silent_transport(0), "options": {"max_message_size": 512}}
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await wamp.Component(transports=[small]).run()
    assert "max_message_size 512 may be too small" in str(info.value)
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await wamp.Component(transports=[silent_transport(0)]).run()
    assert "no session within" in str(info.value) and "max_message_size" not in str(info.value)
