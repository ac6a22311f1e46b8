"""WebSocket through an HTTP CONNECT proxy (plain and TLS) to a real Crossbar.io, under both
anyio backends; the proxy is a small one of the test's own on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from loopback import serving

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]


class Proxy:
    """What a test proxy saw, and a switch that makes it swallow everything (a dead link)."""

    def __init__(self) -> None:
        self.port = 0
        self.seen: list[str] = []
        self.frozen = False


@asynccontextmanager
async def connect_proxy(refuse: bool = False) -> AsyncIterator[Proxy]:
    """A CONNECT proxy on a free loopback port."""
    proxy = Proxy()
    seen = proxy.seen

    async def pipe(source: SocketStream, sink: SocketStream) -> None:
        try:
            async for chunk in source:
                if not proxy.frozen:
                    await sink.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    async def handle(client: SocketStream) -> None:
        async with client:
            head = b""
            while b"\r\n\r\n" not in head:
                head += await client.receive()
            request = head.decode().split("\r\n")[0]
            seen.append(request)
            if refuse:
                await client.send(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                return
            host, port = request.split()[1].rsplit(":", 1)
            async with await anyio.connect_tcp(host, int(port)) as upstream:
                await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                async with anyio.create_task_group() as tg:
                    tg.start_soon(pipe, client, upstream)
                    await pipe(upstream, client)
                    tg.cancel_scope.cancel()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        proxy.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        yield proxy
        tg.cancel_scope.cancel()


def _transport(crossbar: CrossbarRouter, port: int, tls: bool) -> dict[str, Any]:
    url = crossbar.wss_url if tls else crossbar.ws_url
    transport: dict[str, Any] = {
        "type": "websocket", "url": url, "proxy": {"host": "127.0.0.1", "port": port},
    }  # fmt: skip
    if tls:
        target = int(url.split(":")[2].split("/")[0])
        transport["endpoint"] = {
            "type": "tcp", "host": "127.0.0.1", "port": target,
            "tls": {"trust_root": str(crossbar.ca_path)},
        }  # fmt: skip
    return transport


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_websocket_through_a_connect_proxy(
    crossbar: CrossbarRouter, anyio_backend: str, tls: bool
) -> None:
    with anyio.fail_after(20):
        async with connect_proxy() as proxy:
            transport = _transport(crossbar, proxy.port, tls)
            async with wamp.connect(transport) as session:
                await session.register(lambda x: x * 2, "com.test.proxy.double")
                assert await session.call("com.test.proxy.double", 21) == 42
    target = (crossbar.wss_url if tls else crossbar.ws_url).split("/")[2]
    assert proxy.seen == [f"CONNECT {target} HTTP/1.1"]


async def test_a_refusing_proxy_is_a_clear_handshake_error(
    crossbar: CrossbarRouter, anyio_backend: str
) -> None:
    with anyio.fail_after(20):
        async with connect_proxy(refuse=True) as proxy:
            with pytest.raises(wc.HandshakeError, match="403") as info:
                async with wamp.connect(_transport(crossbar, proxy.port, False)):
                    pass
    assert info.value.code == 403
    assert wc.default_is_fatal(info.value)


async def test_keepalive_detects_a_dead_link(crossbar: CrossbarRouter, anyio_backend: str) -> None:
    """Pings keep a live link up; when the link goes silent (no FIN, nothing: the proxy
    swallows every byte) the session ends within interval + timeout and a pending call fails
    at once instead of waiting forever."""
    with anyio.fail_after(30):
        async with connect_proxy() as proxy:
            transport = _transport(crossbar, proxy.port, False)
            transport["options"] = {"auto_ping_interval": 0.2, "auto_ping_timeout": 0.5}
            async with wamp.connect(transport) as session:
                await session.register(anyio.sleep_forever, "com.test.proxy.hang")
                await anyio.sleep(1)  # several pings answered
                assert session.is_attached()
                proxy.frozen = True
                started = anyio.current_time()
                with pytest.raises(wc.SessionClosed):
                    await session.call("com.test.proxy.hang")
                assert anyio.current_time() - started < 3
                assert session.closed


async def test_a_proxy_that_sends_data_before_the_tunnel_is_refused() -> None:
    """(Mutants A02/R03: the transports' check for bytes after the proxy's answer dropped.)
    Bytes a proxy sends with its 200 answer, before the router could say anything, were
    silently thrown away: a clear HandshakeError is documented and expected."""

    async def eager(stream: SocketStream) -> None:
        async with stream:
            await stream.receive()  # the CONNECT request
            await stream.send(b"HTTP/1.1 200 Connection established\r\n\r\nEARLY")
            with (
                anyio.move_on_after(5),
                suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError),
            ):
                await stream.receive()

    async with serving(eager) as port:
        transport = {"url": "ws://127.0.0.1:9/ws", "proxy": {"host": "127.0.0.1", "port": port}}
        with anyio.fail_after(10), pytest.raises(wc.HandshakeError, match="before the tunnel"):
            async with wamp.connect(transport):
                raise AssertionError("connected")
