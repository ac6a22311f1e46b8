"""A link that dies without a word (a relay that stops forwarding: no FIN, no RST), and one
that is slow but moves, through Crossbar.io and the embedded router, every driver (from a
review with a blackholing relay):

* ``await session.leave()`` returns within the close timeout (it waited for ever on
  RawSocket, 20 s on WebSocket until the keepalive noticed), and so does ``Component.stop()``
  with the transport's ``close_handshake_timeout`` (it always took 5 s);
* the keepalive does not cut a slow link that is moving a large message (its pong waits
  behind it: any bytes moving are a sign of life), and when it does give a link up, the
  application is told why (every loss read "transport lost").
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import wamp_core as wc
from wamp_core._driver import _session

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 30


class Relay:
    """Forwards 127.0.0.1:``port`` to the router's port; ``blackhole()`` stops forwarding
    both ways, the sockets left open; ``rate`` (bytes/s) throttles router -> client,
    ``upload_rate`` client -> router."""

    def __init__(
        self, target: int, rate: float | None = None, upload_rate: float | None = None
    ) -> None:
        self._target, self._rate, self._upload_rate = target, rate, upload_rate
        self._stop = threading.Event()
        self._silent = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        if upload_rate:  # (a small window: the client's bytes are acknowledged at that rate,
            # as over a slow link, not all at once into the relay's buffer)
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def blackhole(self) -> None:
        self._silent.set()

    def close(self) -> None:
        self._stop.set()
        for sock in [self._listener, *self._sockets]:
            # shutdown first: a close alone leaves the connection open while a pipe thread
            # is in recv on it, and the router kept every blackholed session (a shared
            # router held ten of them after this file).
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            router = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [client, router]
            threading.Thread(
                target=self._pipe, args=(client, router, self._upload_rate), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(router, client, self._rate), daemon=True
            ).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rate: float | None) -> None:
        try:
            while not self._stop.is_set() and (data := src.recv(8192 if rate else 65536)):
                while self._silent.is_set() and not self._stop.is_set():
                    time.sleep(0.05)  # holds the bytes: neither side hears anything more
                if self._silent.is_set():
                    return
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])


@pytest.fixture
def relay_to(router: Any) -> Iterator[Any]:
    relays: list[Relay] = []

    def make(
        url: str, rate: float | None = None, upload_rate: float | None = None
    ) -> tuple[Relay, str]:
        relay = Relay(_port(url), rate, upload_rate)
        relays.append(relay)
        scheme, _, rest = url.partition("://")
        path = rest.partition("/")[2]
        return relay, f"{scheme}://127.0.0.1:{relay.port}" + (f"/{path}" if path else "")

    yield make
    for relay in relays:
        relay.close()


@pytest.mark.parametrize("kind", ["rs", "ws"])
async def test_leave_on_a_dead_link_returns_within_the_close_timeout(
    router: Any, relay_to: Any, wamp: Any, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WebSocket: its ``close_handshake_timeout``; RawSocket (no such option, no keepalive
    against Crossbar): CLOSE_TIMEOUT, scaled down here."""
    relay, url = relay_to(router.rs_url if kind == "rs" else router.ws_url)
    options: dict[str, Any] = {"auto_ping_interval": 0}
    if kind == "ws":
        options["close_handshake_timeout"] = 1.0
    else:
        monkeypatch.setattr(_session, "CLOSE_TIMEOUT", 1.0)
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect({"url": url, "options": options}) as session:
            relay.blackhole()
            started = time.monotonic()
            await session.leave()
            assert time.monotonic() - started < 2.5
            assert session.closed


async def test_a_component_stop_on_a_dead_link_takes_the_close_timeout(
    router: Any, relay_to: Any, wamp: Any
) -> None:
    relay, url = relay_to(router.ws_url)
    options = {"close_handshake_timeout": 1.0, "auto_ping_interval": 0}
    component = wamp.Component(transports={"url": url, "options": options}, realm="realm1")
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await component.wait_ready()
            relay.blackhole()
            started = time.monotonic()
            await component.stop()
            elapsed = time.monotonic() - started
    assert 0.8 < elapsed < 2.5  # (it was CLOSE_TIMEOUT, 5 s, whatever the option said)


def _tls_transport(router: Any, relay: Relay, url: str, options: dict[str, Any]) -> Any:
    """``url`` through ``relay`` over TLS, trusting the router's test CA."""
    tls = {"hostname": "localhost", "trust_root": str(router.ca_path)}
    endpoint = {"type": "tcp", "host": "127.0.0.1", "port": relay.port, "tls": tls}
    return {"url": url, "options": options, "endpoint": endpoint}


_LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="only Linux tells what was taken")


@pytest.mark.parametrize(
    "direction",
    ["download", pytest.param("upload", marks=_LINUX_ONLY),
     pytest.param("upload-tls", marks=_LINUX_ONLY)],
)  # fmt: skip
async def test_the_keepalive_does_not_cut_a_slow_link_that_moves(
    router: Any, relay_to: Any, wamp: Any, direction: str
) -> None:
    """384 KiB at 128 KiB/s takes 3 s, three times the ping's timeout. Download: a result
    (the pong waits behind it; bytes arriving show the router alive). Upload: an argument
    (our ping waits behind it; the bytes the router acknowledges show it alive: the link was
    given up after the ping's timeout; over TLS the first fix found no socket to ask)."""
    throttle = "rate" if direction == "download" else "upload_rate"
    tls = direction.endswith("tls")
    relay, url = relay_to(router.wss_url if tls else router.ws_url, **{throttle: 128 * 1024})
    options = {"auto_ping_interval": 0.5, "auto_ping_timeout": 0.5}
    transport = (
        _tls_transport(router, relay, url, options) if tls else {"url": url, "options": options}
    )
    blob = b"x" * (384 * 1024)
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(router.rs_url) as callee:
            procedure = f"com.test.dead.blob.{time.monotonic_ns()}"
            await callee.register(lambda arg=None: blob if arg is None else len(arg), procedure)
            async with wamp.connect(transport) as caller:
                started = time.monotonic()
                if direction == "download":
                    assert await caller.call(procedure) == blob
                else:
                    assert await caller.call(procedure, blob) == len(blob)
                assert time.monotonic() - started > 1.5  # (the relay did slow it down)


async def test_a_link_the_keepalive_gives_up_says_so(router: Any, relay_to: Any, wamp: Any) -> None:
    relay, url = relay_to(router.ws_url)
    options = {"auto_ping_interval": 0.3, "auto_ping_timeout": 0.5}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect({"url": url, "options": options}) as session:
            relay.blackhole()
            with pytest.raises(wc.SessionClosed) as info:
                await session.call("wamp.session.count")
            assert "keepalive: no pong within 0.5 s" in str(info.value)
            assert session.close_details is not None
            assert session.close_details.message == "keepalive: no pong within 0.5 s"


@pytest.mark.parametrize("kind", ["wss", "rss"])
async def test_the_keepalive_finds_a_dead_tls_link(
    router: Any, relay_to: Any, wamp: Any, kind: str
) -> None:
    """Over TLS the ping goes through the writer task: its own write is no sign of life (the
    keepalive counted it, and never gave a dead TLS link up)."""
    relay, url = relay_to(router.wss_url if kind == "wss" else router.rss_url)
    options = {"auto_ping_interval": 0.3, "auto_ping_timeout": 0.5}
    transport = _tls_transport(router, relay, url, options)
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:
            relay.blackhole()
            started = time.monotonic()
            with pytest.raises(wc.SessionClosed, match="keepalive: no pong"):
                await session.call("wamp.session.count")
            assert time.monotonic() - started < 3


async def test_the_keepalive_finds_a_hung_peer_the_application_keeps_sending_to(
    router: Any, relay_to: Any, wamp: Any
) -> None:
    """(A review, with a SIGSTOPped router.) A hung peer's kernel goes on acknowledging what
    we send, into its buffer: the keepalive counted that as life, so while the application
    published 10 KB every 0.5 s a dead peer was found only once that buffer was full (13.7 s
    at 1 s + 1 s and 10 KB/s; 80 s at the defaults and 2 KB/s). What it acknowledges beyond
    the ping no longer counts."""
    relay, url = relay_to(router.ws_url)
    options = {"auto_ping_interval": 0.3, "auto_ping_timeout": 0.5}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect({"url": url, "options": options}) as session:
            relay.blackhole()
            started = time.monotonic()

            async def publish() -> None:
                with pytest.raises(wc.SessionClosed):
                    while True:
                        await session.publish("com.test.dead.telemetry", "x" * 10_000)
                        await anyio.sleep(0.5)

            async with anyio.create_task_group() as tg:
                tg.start_soon(publish)
                with pytest.raises(wc.SessionClosed, match="keepalive: no pong"):
                    await session.call("wamp.session.count")
            assert time.monotonic() - started < 2.5
