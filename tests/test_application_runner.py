"""Autobahn's ``ApplicationSession`` / ``ApplicationRunner``, ported by changing imports, run
through Crossbar.io on every driver: ``onJoin`` is the application, the session stays joined
after it returns, ``onLeave``/``onDisconnect`` follow, nothing reconnects; what took the join
over in Autobahn is refused with what to use instead."""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import TICKET_AUTHID, TICKET_SECRET, CrossbarRouter

TIMEOUT = 30


def _program(seen: list[Any], prefix: str) -> type[wamp.ApplicationSession]:
    """The shape of Autobahn's asyncio examples: register, call, leave in onJoin; disconnect
    in onLeave (without ``await``, as there)."""

    class MyComponent(wamp.ApplicationSession):
        async def onJoin(self, details: wc.SessionDetails) -> None:
            seen.append(("join", details.realm, self.config.extra))

            def add2(x: int, y: int) -> int:
                return x + y

            await self.register(add2, prefix + "add2")
            seen.append(await self.call(prefix + "add2", 2, 3))
            self.leave()  # (Autobahn's code does not await it either)

        def onLeave(self, details: wc.CloseDetails) -> None:
            seen.append(("leave", details.reason))
            self.disconnect()

        def onDisconnect(self) -> None:
            seen.append("disconnect")

    return MyComponent


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_an_autobahn_application_session_runs_as_ported(crossbar: CrossbarRouter) -> None:
    seen: list[Any] = []
    runner = wamp.ApplicationRunner(
        crossbar.ws_url, "realm1", extra={"k": 1}, serializers=["msgpack"]
    )
    with anyio.fail_after(TIMEOUT):
        await runner.run(_program(seen, "com.test.runner1."), start_loop=False)
    assert seen == [
        ("join", "realm1", {"k": 1}), 5, ("leave", "wamp.close.normal"), "disconnect"
    ]  # fmt: skip


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_the_session_stays_joined_after_onjoin_returns(crossbar: CrossbarRouter) -> None:
    """A callee's onJoin registers and returns: it serves until the router (here: another
    session killing it through the meta API) ends it; then the run is over with that error
    (the runner does not reconnect)."""
    seen: list[Any] = []
    joined = anyio.Event()

    class Callee(wamp.ApplicationSession):
        def onJoin(self, details: wc.SessionDetails) -> Any:
            async def serve() -> None:
                await self.register(lambda: "still here", "com.test.runner2.ping")
                joined.set()

            return serve()

        async def onLeave(self, details: wc.CloseDetails) -> None:
            seen.append(details.reason)

    runner = wamp.ApplicationRunner(
        crossbar.rs_url, "realm1", authentication={"ticket": {
            "authid": TICKET_AUTHID, "ticket": TICKET_SECRET}},
    )  # fmt: skip
    transport = {"type": "rawsocket", "url": crossbar.rs_url}
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg, wamp.connect(transport) as other:
            ended: list[BaseException] = []

            async def run() -> None:
                try:
                    await runner.run(Callee, start_loop=False)
                except wc.ReconnectExhausted as exc:
                    ended.append(exc)

            tg.start_soon(run)
            await joined.wait()
            await anyio.sleep(0.2)  # onJoin has returned: still joined
            assert await other.call("com.test.runner2.ping") == "still here"
            [callee_id] = [
                s for s in await other.call("wamp.session.list") if s != other.session_id
            ][-1:]
            await other.call("wamp.session.kill", callee_id, reason="com.test.killed")
    assert seen == ["com.test.killed"]  # once: not reconnected
    # the run says why it ended (a session the router ended, no retry left)
    [error] = ended
    assert "com.test.killed" in str(error)


def test_what_took_the_join_over_is_refused() -> None:
    with pytest.raises(wc.ConfigurationError, match="authentication"):

        class Signs(wamp.ApplicationSession):
            def onChallenge(self, challenge: Any) -> str:
                return "signature"

    class Fine(wamp.ApplicationSession):
        async def onJoin(self, details: wc.SessionDetails) -> None:
            pass

    with pytest.raises(wc.ConfigurationError, match="both be the application"):
        wamp.Component(main=lambda session: None, session_factory=Fine)
    context = ssl.create_default_context()
    runner = wamp.ApplicationRunner(
        "wss://127.0.0.1:8443/ws", "realm1", ssl=context, headers={"X-App": "1"}
    )
    [transport] = runner.transports
    assert transport.endpoint.tls is context and transport.headers == {"X-App": "1"}
    assert isinstance(transport.endpoint, wc.TcpEndpoint) and transport.endpoint.port == 8443
    assert transport.max_retries == 0
    with pytest.raises(wc.ConfigurationError, match="serializers are names"):
        wamp.ApplicationRunner("ws://127.0.0.1:8080/ws", "realm1", serializers="json")


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_as_a_components_session_factory_it_rejoins(crossbar: CrossbarRouter) -> None:
    """With a Component (reconnecting), onJoin is its main: a session the router ends is
    joined again and onJoin runs again; onLeave and onDisconnect follow each session."""
    seen: list[Any] = []
    uri = "com.test.runner3.ping"

    class Callee(wamp.ApplicationSession):
        async def onJoin(self, details: wc.SessionDetails) -> None:
            seen.append("join")
            await self.register(lambda: len(seen), uri)

        def onLeave(self, details: wc.CloseDetails) -> None:
            seen.append(details.reason)

        async def onDisconnect(self) -> None:
            seen.append("disconnect")

    transport = {"type": "rawsocket", "url": crossbar.rs_url, "initial_retry_delay": 0.1}
    component = wamp.Component(transports=transport, session_factory=Callee)
    with anyio.fail_after(TIMEOUT):
        async with component, wamp.connect(transport) as other:
            first = await component.wait_ready()
            while seen != ["join"]:
                await anyio.sleep(0.01)
            await other.call("wamp.session.kill", first.session_id, reason="com.test.killed")
            while seen.count("join") < 2:
                await anyio.sleep(0.01)
            while True:  # (registered once onJoin has run on)
                try:
                    await other.call(uri)
                    break
                except wc.ApplicationError:
                    await anyio.sleep(0.01)
    assert seen == [
        "join", "com.test.killed", "disconnect", "join", "wamp.close.normal", "disconnect"
    ]  # fmt: skip


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_hooks_order_a_refused_join_and_disconnect_without_await(
    crossbar: CrossbarRouter,
) -> None:
    """(An own-diff review.) The session's onLeave/onDisconnect run before the component's
    listeners, as in Autobahn; a refused join reaches onLeave with its reason (Autobahn's
    session hears of an ABORT there); ``self.disconnect()`` without ``await`` closes the
    socket at once (the router kept the session, and calls to it hung, until the run ended)."""
    seen: list[Any] = []
    prefix = "com.test.runner4."

    class App(wamp.ApplicationSession):
        async def onJoin(self, details: wc.SessionDetails) -> None:
            await self.register(lambda: "here", prefix + "ping")
            seen.append("join")

        def onLeave(self, details: wc.CloseDetails) -> None:
            seen.append(("onLeave", details.reason))

        def onDisconnect(self) -> None:
            seen.append("onDisconnect")

    runner = wamp.ApplicationRunner(crossbar.rs_url, "com.no.such.realm")
    component = runner.component(App)
    component.on_leave(lambda session, details: seen.append("leave listener"))
    component.on_disconnect(lambda session, was_clean: seen.append("disconnect listener"))
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted, match="no_such_realm"):
        await component.run()
    assert seen == [("onLeave", "wamp.error.no_such_realm"), "onDisconnect", "disconnect listener"]

    seen.clear()
    component = wamp.ApplicationRunner(crossbar.rs_url, "realm1").component(App)
    component.on_leave(lambda session, details: seen.append("leave listener"))
    component.on_disconnect(lambda session, was_clean: seen.append("disconnect listener"))
    transport = {"type": "rawsocket", "url": crossbar.rs_url}
    with anyio.fail_after(TIMEOUT):
        async with component, wamp.connect(transport) as other:
            session = await component.wait_ready()
            while "join" not in seen:
                await anyio.sleep(0.01)
            assert await other.call(prefix + "ping") == "here"
            session.disconnect()  # not awaited, as in Autobahn's code
            with anyio.fail_after(5):  # the router sees the session go, at once
                while session.session_id in await other.call("wamp.session.list"):
                    await anyio.sleep(0.02)
            with pytest.raises(wc.ApplicationError, match="no_such_procedure"):
                await other.call(prefix + "ping")
            await component.stop()
    assert seen[:5] == [
        "join", ("onLeave", "wamp.close.transport_lost"), "leave listener", "onDisconnect",
        "disconnect listener",
    ]  # fmt: skip


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_a_factory_function_with_main_and_onjoin_is_refused(
    crossbar: CrossbarRouter,
) -> None:
    """The class form is refused when the component is made; a factory function's session
    had its onJoin silently skipped for main."""
    ran: list[str] = []

    class App(wamp.ApplicationSession):
        def onJoin(self, details: wc.SessionDetails) -> None:
            ran.append("onJoin")

    component = wamp.Component(
        main=lambda session: ran.append("main"),
        transports={"type": "rawsocket", "url": crossbar.rs_url},
        session_factory=lambda config: App(config),  # noqa: PLW0108 - a function, not the class
    )
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ConfigurationError, match="both be"):
        await component.run()
    assert ran == []
