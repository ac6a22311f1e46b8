"""wamp_trio's runtime (``src/wamp_trio/_runtime.py``), edges a mutation review found
unguarded: which trio errors mean a link ended (a TLS link is a ``trio.SSLStream``: its
failures are trio's, not the plain socket's ``BrokenStream``; a peer's FIN is
``EndOfStream``), the writer blocked when the keepalive closes the stream under it, an idle
plain session's reader waiting (not spinning), an INTERRUPT being the handler's own cancel
(the resolver asked for stream sockets only: ``test_connect_addresses.py``). Each test fails
on the one-line change of the runtime its docstring names."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import time
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream

import wamp_core as wc
import wamp_trio as wamp
from loopback import serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"  # (wamp_trio runs on trio only)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])


def _tls_transport(url: str, port: int, ca_path: Any) -> dict[str, Any]:
    """``url`` through 127.0.0.1:``port``, over TLS (trusting ``ca_path``) if it is rss/wss."""
    endpoint: dict[str, Any] = {"type": "tcp", "host": "127.0.0.1", "port": port}
    if url.startswith(("rss:", "wss:")):
        endpoint["tls"] = {"hostname": "localhost", "trust_root": str(ca_path)}
    return {"url": url, "endpoint": endpoint}


def _hanging_up_relay(target: int, hang_up: anyio.Event, *, reset: bool) -> Any:
    """Pipes a connection to 127.0.0.1:``target`` until ``hang_up`` is set, then closes the
    client's side: with ``reset`` an RST (SO_LINGER 0), else a FIN (its write side shut)."""

    async def handle(client: SocketStream) -> None:
        async with await anyio.connect_tcp("127.0.0.1", target) as upstream, client:

            async def pipe(src: SocketStream, dst: SocketStream) -> None:
                with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    async for data in src:
                        await dst.send(data)

            async with anyio.create_task_group() as tg:
                tg.start_soon(pipe, client, upstream)
                tg.start_soon(pipe, upstream, client)
                await hang_up.wait()
                if not reset:
                    await client.send_eof()  # (the socket stays open: a FIN, never an RST)
                    await anyio.sleep_forever()
                raw = client.extra(SocketAttribute.raw_socket)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                tg.cancel_scope.cancel()

    return handle


@pytest.mark.parametrize(
    ("kind", "how"),
    [("wss", "reset"), ("rss", "reset"), ("wss", "close"), ("rss", "close"), ("rs", "close")],
)
async def test_a_link_the_peer_hangs_up_fails_the_call_with_session_closed(
    embedded: Any, kind: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    """(Mutant R01: ``trio.BrokenResourceError`` no longer one of the runtime's ``broken``
    errors; R17: ``EndOfStream`` no longer its ``end_of_stream``.) A TLS link is a
    ``trio.SSLStream``: a connection reset reaches the reader as trio's
    ``BrokenResourceError``; a peer's close (FIN) as ``EndOfStream``, on every link. Either
    must end the session as any lost link does: the call in flight fails with
    ``SessionClosed``, the close details say why, ``session.failure`` stays ``None`` and
    nothing is logged as an error. With the mutants the reader took an ordinary hang-up for
    a bug: "the WAMP reader failed" logged at ERROR with a traceback, and
    ``session.failure`` set to the raw error. (A plain socket's reset is the driver's own
    ``BrokenStream``: not trio's.)"""
    url = getattr(embedded, f"{kind}_url")
    hang_up = anyio.Event()
    async with serving(_hanging_up_relay(_port(url), hang_up, reset=how == "reset")) as port:
        with anyio.fail_after(10):
            async with wamp.connect(_tls_transport(url, port, embedded.ca_path)) as session:
                assert await session.call("wamp.session.count") >= 1
                hang_up.set()
                with pytest.raises(wc.SessionClosed):
                    await session.call("wamp.session.count")
                    await anyio.sleep(5)  # (the hang-up may come before or after the answer)
                    await session.call("wamp.session.count")
            assert session.close_details is not None
            assert session.close_details.message == (
                "socket connection broken: [Errno 104] Connection reset by peer"
                if how == "reset"
                else "connection closed without a WebSocket close frame"
                if kind == "wss"
                else "connection closed by the peer"
            )
            assert session.failure is None
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _blackholing_relay(target: int, blackhole: anyio.Event) -> Any:
    """Pipes a connection to 127.0.0.1:``target``; once ``blackhole`` is set it reads nothing
    more from the client (nor forwards anything back): the client's writes fill the buffers
    and block, as towards a peer that hung."""

    async def handle(client: SocketStream) -> None:
        raw = client.extra(SocketAttribute.raw_socket)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        async with await anyio.connect_tcp("127.0.0.1", target) as upstream, client:

            async def pipe(src: SocketStream, dst: SocketStream) -> None:
                with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    while not blackhole.is_set():
                        data = await src.receive()
                        if blackhole.is_set():
                            break
                        await dst.send(data)
                await anyio.sleep_forever()

            async with anyio.create_task_group() as tg:
                tg.start_soon(pipe, client, upstream)
                tg.start_soon(pipe, upstream, client)

    return handle


@pytest.mark.parametrize("kind", ["wss", "rss", "ws", "rs"])
async def test_the_keepalive_gives_up_a_link_while_a_large_write_is_blocked(
    embedded: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """(Mutant R02: ``trio.ClosedResourceError`` no longer one of the runtime's ``broken``
    errors.) The writer task
    is blocked sending a large argument the hung peer does not take (over TLS in
    ``SSLStream.send_all``, on a plain link waiting for the socket to be writable); the
    keepalive gives the link up and closes the stream under it: trio raises
    ``ClosedResourceError`` in the writer, which must read as the lost link it is (the call
    fails with ``SessionClosed`` naming the keepalive, the block is left cleanly, nothing
    logged as an error). With the mutant the error ("another task closed this fd") escaped
    the writer task and out of ``async with connect()``."""
    url = getattr(embedded, f"{kind}_url")
    blackhole = anyio.Event()
    options = {"auto_ping_interval": 0.3, "auto_ping_timeout": 0.5}
    blob = b"x" * (12 * 1024 * 1024)
    async with serving(_blackholing_relay(_port(url), blackhole)) as port:
        transport = {**_tls_transport(url, port, embedded.ca_path), "options": options}
        with anyio.fail_after(20):
            async with wamp.connect(transport) as session:
                assert await session.call("wamp.session.count") >= 1
                blackhole.set()
                with pytest.raises(wc.SessionClosed, match="keepalive: no pong"):
                    await session.call("com.example.never", blob)
            assert session.closed
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", ["rs", "ws"])
async def test_an_idle_plain_session_does_not_spin(embedded: Any, kind: str) -> None:
    """(Mutant R04: ``wait_readable`` waiting for the socket to be writable.) A plain TCP
    session's socket is driven directly: its reader waits until the socket is readable. An
    idle session must cost no CPU; with the mutant the reader's wait returned at once (a
    connected socket is always writable), so it spun on ``recv`` -> ``BlockingIOError``,
    a whole core busy while nothing happened (calls still worked)."""
    url = embedded.rs_url if kind == "rs" else embedded.ws_url
    with anyio.fail_after(10):
        async with wamp.connect(url) as session:
            assert await session.call("wamp.session.count") >= 1
            started = time.process_time()
            await anyio.sleep(1)
            used = time.process_time() - started
            assert await session.call("wamp.session.count") >= 1
    assert used < 0.2, f"{used:.2f} s of CPU in 1 s idle"


async def test_an_interrupted_trio_handler_is_cancelled_not_failed(
    embedded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """(Mutant R16: the runtime's ``cancelling()`` saying ``False``: "this Cancelled was not
    ours".) On trio a ``Cancelled`` in a handler only ever comes from a cancel scope: an
    INTERRUPT (the caller's call timed out, mode ``kill``) cancels the handler, quietly
    (answered ``wamp.error.canceled``). With the mutant the callee took its own INTERRUPT for
    a failure of the procedure: "procedure ... was cancelled by what it awaited" logged at
    ERROR with a traceback on every interrupted call (and ``wamp.error.runtime_error``
    answered instead of ``canceled``)."""
    entered, ended = anyio.Event(), anyio.Event()

    async def handler() -> str:
        entered.set()
        try:
            await anyio.sleep(10)
        finally:
            ended.set()
        return "never"

    proc = f"com.test.trio_rt.interrupt.{time.monotonic_ns()}"
    with anyio.fail_after(10):
        async with wamp.connect(embedded.rs_url) as callee, wamp.connect(embedded.rs_url) as caller:
            await callee.register(handler, proc)
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(proc, options=wc.CallOptions(timeout=0.3, cancel_mode="kill"))
            await ended.wait()
            assert entered.is_set()
            assert await callee.call("wamp.session.count") >= 2  # (the callee goes on)
    assert info.value.error == "wamp.error.timeout"  # (the caller's own deadline)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
