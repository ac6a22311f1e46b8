"""The first slice of wamp_anyio against a real Crossbar.io, on asyncio and on trio."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20


#: Transport kind -> transport (as parse_transports takes it) for the router.
TRANSPORTS: dict[str, Callable[[CrossbarRouter], Any]] = {
    "rawsocket-cbor": lambda cb: {"type": "rawsocket", "url": cb.rs_url, "serializer": "cbor"},
    "websocket-json": lambda cb: {"type": "websocket", "url": cb.ws_url, "serializers": ["json"]},
    "unix-msgpack": lambda cb: {
        "type": "rawsocket",
        "endpoint": {"type": "unix", "path": cb.unix_path},
        "serializer": "msgpack",
    },
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest, crossbar: CrossbarRouter) -> Any:
    return TRANSPORTS[request.param](crossbar)


async def _until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.01)


def _uri(name: str) -> str:
    return f"com.test.anyio.{name}"


async def test_register_and_call(transport: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport, realm="realm1") as session:
            assert session.details is not None
            assert session.details.realm == "realm1"

            async def add(a: int, b: int, *, scale: int = 1) -> int:
                await anyio.sleep(0)
                return (a + b) * scale

            def pair(x: Any) -> wc.CallResult:
                return wc.CallResult(x, x, n=2)

            def fails_app(*args: Any, **kwargs: Any) -> None:
                raise wc.ApplicationError("com.test.oops", "first", 2, detail="why")

            def fails_plain() -> None:
                raise ValueError("bad value 42")

            regs = [
                await session.register(add, _uri("add")),
                await session.register(pair, _uri("pair")),
                await session.register(fails_app, _uri("fails_app")),
                await session.register(fails_plain, _uri("fails_plain")),
            ]
            assert await session.call(_uri("add"), 2, 3) == 5
            assert await session.call(_uri("add"), 2, 3, scale=10) == 50
            result = await session.call(_uri("pair"), "x")
            assert isinstance(result, wc.CallResult)
            assert result.args == ["x", "x"]
            assert result.kwargs == {"n": 2}

            with pytest.raises(wc.ApplicationError) as app:
                await session.call(_uri("fails_app"))
            assert app.value.error == "com.test.oops"
            assert list(app.value.args) == ["first", 2]
            assert app.value.kwargs == {"detail": "why"}

            with pytest.raises(wc.ApplicationError) as plain:
                await session.call(_uri("fails_plain"))
            assert plain.value.error == wc.ApplicationError.RUNTIME_ERROR
            assert list(plain.value.args) == ["bad value 42"]

            # Concurrent calls each get their own result.
            results: dict[int, Any] = {}

            async def one(i: int) -> None:
                results[i] = await session.call(_uri("add"), i, i)

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(one, i)
            assert results == {i: 2 * i for i in range(20)}

            for reg in regs:
                await reg.unregister()
            with pytest.raises(wc.ApplicationError) as gone:
                await session.call(_uri("add"), 1, 2)
            assert gone.value.error == wc.ApplicationError.NO_SUCH_PROCEDURE
            with pytest.raises(wc.LocalProtocolError):
                await regs[0].unregister()
            await session.leave()
            assert session.closed


async def test_subscribe_and_publish(transport: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(transport, realm="realm1") as subscriber,
            wamp.connect(transport, realm="realm1") as publisher,
        ):
            received: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            got_all = anyio.Event()
            count = 10

            async def on_event(*args: Any, **kwargs: Any) -> None:
                await anyio.sleep(0)
                received.append((args, kwargs))
                if len(received) == count:
                    got_all.set()

            plain: list[Any] = []
            sub = await subscriber.subscribe(on_event, _uri("topic"))
            sub2 = await subscriber.subscribe(lambda *a, **k: plain.append(a), _uri("topic"))
            for i in range(count):
                publication = await publisher.publish(
                    _uri("topic"), i, n=i, options=wc.PublishOptions(acknowledge=True)
                )
                assert isinstance(publication, int)
            await got_all.wait()
            await _until(lambda: len(plain) == count)
            assert received == [((i,), {"n": i}) for i in range(count)]
            assert plain == [(i,) for i in range(count)]

            # Unsubscribing one handler keeps the other; the last one ends the subscription.
            await sub.unsubscribe()
            await publisher.publish(
                _uri("topic"), "after", options=wc.PublishOptions(acknowledge=True)
            )
            await _until(lambda: len(plain) == count + 1)
            assert plain[-1] == ("after",)
            await sub2.unsubscribe()
            with pytest.raises(wc.LocalProtocolError):
                await sub2.unsubscribe()
            # Unacknowledged publish: no answer, and nobody receives it any more.
            assert await publisher.publish(_uri("topic"), "unheard") is None
            # A round trip through the router orders the check after that publication.
            assert isinstance(await publisher.call("wamp.session.count"), int)
            await anyio.sleep(0.2)
            assert len(received) == count
            assert plain[-1] == ("after",)


async def test_publish_to_self_is_excluded_by_default(transport: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport, realm="realm1") as session:
            seen: list[Any] = []
            await session.subscribe(lambda *a: seen.append(a), _uri("self"))
            await session.publish(_uri("self"), 1, options=wc.PublishOptions(acknowledge=True))
            await anyio.sleep(0.2)
            assert seen == []  # WAMP: the publisher is excluded unless exclude_me=False


async def test_pending_calls_fail_when_the_transport_closes(transport: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport, realm="realm1") as callee:
            started = anyio.Event()
            release = anyio.Event()

            async def slow() -> str:
                started.set()
                await release.wait()
                return "late"

            await callee.register(slow, _uri("slow"))
            async with wamp.connect(transport, realm="realm1") as caller:
                errors: list[BaseException] = []

                async def pending_call() -> None:
                    try:
                        await caller.call(_uri("slow"))
                    except wc.SessionClosed as exc:
                        errors.append(exc)

                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(pending_call)
                    await started.wait()
                    await caller.disconnect()
                assert len(errors) == 3
                assert all(isinstance(e, wc.SessionClosed) for e in errors)
                assert caller.closed
                with pytest.raises(wc.SessionClosed):
                    await caller.call(_uri("slow"))
            release.set()
            # The callee's session is unharmed.
            assert isinstance(await callee.call("wamp.session.count"), int)


async def test_the_body_exception_propagates_unwrapped(crossbar: CrossbarRouter) -> None:
    with anyio.fail_after(TIMEOUT), pytest.raises(KeyError):
        async with wamp.connect(crossbar.rs_url, realm="realm1"):
            raise KeyError("mine")


async def test_refused_join_and_refused_transport(crossbar: CrossbarRouter) -> None:
    with anyio.fail_after(TIMEOUT):
        with pytest.raises(wc.SessionClosed) as refused:
            async with wamp.connect(crossbar.rs_url, realm="no.such.realm"):
                pass
        assert refused.value.reason is not None
        assert refused.value.reason.startswith("wamp.error.")
        # Nothing listens on the router's unix path + ".missing".
        with pytest.raises(wc.TransportError):
            async with wamp.connect(f"rs://unix:{crossbar.unix_path}.missing"):
                pass


@pytest.mark.parametrize("kind", ["rss", "wss"])
async def test_tls(crossbar: CrossbarRouter, kind: str) -> None:
    url = crossbar.rss_url if kind == "rss" else crossbar.wss_url
    transport = {
        "type": "rawsocket" if kind == "rss" else "websocket",
        "url": url,
        "serializers": ["cbor"],
        "endpoint": {
            "type": "tcp",
            "host": "127.0.0.1",
            "port": crossbar.rss_port if kind == "rss" else crossbar.wss_port,
            "tls": {"trust_root": str(crossbar.ca_path)},
        },
    }
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport, realm="realm1") as session:
            await session.register(lambda s: s.upper(), _uri(f"upper.{kind}"))
            assert await session.call(_uri(f"upper.{kind}"), "tls") == "TLS"


async def test_pending_calls_fail_when_the_router_side_drops(crossbar: CrossbarRouter) -> None:
    """A relay between us and the router cuts the connection: nothing waits forever."""
    host, port = "127.0.0.1", int(crossbar.rs_url.rsplit(":", 1)[1])
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url, realm="realm1") as callee,
            await anyio.create_tcp_listener(local_host="127.0.0.1") as listener,
            anyio.create_task_group() as relays,
        ):
            started = anyio.Event()
            cut = anyio.Event()

            async def never() -> None:
                started.set()
                await anyio.sleep_forever()

            await callee.register(never, _uri("never"))

            async def pipe(src: Any, dst: Any) -> None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    async for chunk in src:
                        await dst.send(chunk)

            async def relay(client: Any) -> None:
                async with (
                    client,
                    await anyio.connect_tcp(host, port) as upstream,
                    anyio.create_task_group() as tg,
                ):
                    tg.start_soon(pipe, client, upstream)
                    tg.start_soon(pipe, upstream, client)
                    await cut.wait()
                    tg.cancel_scope.cancel()

            relays.start_soon(listener.serve, relay)
            relay_port = listener.extra(anyio.abc.SocketAttribute.local_port)
            async with wamp.connect(f"rs://127.0.0.1:{relay_port}", realm="realm1") as caller:
                errors: list[wc.SessionClosed] = []

                async def pending_call() -> None:
                    try:
                        await caller.call(_uri("never"))
                    except wc.SessionClosed as exc:
                        errors.append(exc)

                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(pending_call)
                    await started.wait()
                    cut.set()  # the relay closes both sockets: we see end of file
                assert len(errors) == 3
                assert all(e.reason == wc.CloseDetails.REASON_TRANSPORT_LOST for e in errors)
                assert caller.closed
            relays.cancel_scope.cancel()


async def test_cancelling_a_call_keeps_the_session(crossbar: CrossbarRouter) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url, realm="realm1") as session:
            release = anyio.Event()

            async def slow(x: int) -> int:
                await release.wait()
                return x

            await session.register(slow, _uri("slow.cancel"))
            with anyio.move_on_after(0.2) as scope:
                await session.call(_uri("slow.cancel"), 1)
            assert scope.cancelled_caught
            release.set()
            # The abandoned call's late result is dropped; the session goes on.
            assert await session.call(_uri("slow.cancel"), 2) == 2
            assert not session.closed


async def test_cancelling_the_block_still_leaves(crossbar: CrossbarRouter) -> None:
    with anyio.fail_after(TIMEOUT):
        outer: wamp.Session | None = None
        with anyio.CancelScope() as scope:
            async with wamp.connect(crossbar.ws_url, realm="realm1") as session:
                outer = session
                scope.cancel()
                await anyio.sleep_forever()
        assert scope.cancelled_caught
        assert outer is not None and outer.closed
        # Left cleanly: the router saw GOODBYE, not a dropped transport.
        assert outer._conn.session.state is wc.SessionState.CLOSED


async def test_a_canceled_call_interrupts_the_callee(transport: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(transport, realm="realm1") as callee,
            wamp.connect(transport, realm="realm1") as caller,
        ):
            started = anyio.Event()
            interrupted = anyio.Event()

            async def endless() -> None:
                started.set()
                try:
                    await anyio.sleep_forever()
                finally:
                    interrupted.set()

            await callee.register(endless, _uri("endless"))
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(caller.call, _uri("endless"))
                    await started.wait()
                    scope.cancel()
            await interrupted.wait()  # CANCEL went out, the router interrupted the callee
            # Both sessions go on.
            assert await caller.call("wamp.session.count") >= 2
            assert not callee.closed


async def test_refused_transport_handshake(crossbar: CrossbarRouter) -> None:
    # Crossbar 26 refuses the FlatBuffers serializer: HTTP 400 on WebSocket; on RawSocket it
    # drops the connection.
    transport = {"type": "websocket", "url": crossbar.ws_url, "serializers": ["flatbuffers"]}
    with anyio.fail_after(TIMEOUT):
        with pytest.raises(wc.HandshakeError) as refused:
            async with wamp.connect(transport, realm="realm1"):
                pass
        assert refused.value.code == 400
        transport = {"type": "rawsocket", "url": crossbar.rs_url, "serializer": "flatbuffers"}
        with pytest.raises(wc.TransportError):
            async with wamp.connect(transport, realm="realm1"):
                pass
