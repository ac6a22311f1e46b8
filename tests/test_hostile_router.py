"""A hostile router (issue 11): a scripted server on loopback that answers the client's
RawSocket connection (or WebSocket upgrade) with garbage, with each driver (``wamp_anyio`` on
asyncio and trio, ``wamp_trio``). The client must end the attempt with a clear ``WampError``
within its timeouts (never hang, never crash with something else), say ABORT
``wamp.error.protocol_violation`` when the router broke the protocol after the handshake, and
keep memory bounded by its limits."""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream

import wamp_anyio as wamp
import wamp_core as wc
from loopback import serving

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

JSON = 1  # RawSocket serializer id
#: The client's answer to a valid JSON RawSocket handshake: max length 2^24, JSON.
HANDSHAKE_OK = bytes((0x7F, 0xF0 | JSON, 0, 0))


def frame(message: Any, kind: int = 0) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">I", (kind << 24) | len(data)) + data


Script = Callable[[SocketStream], Any]


@asynccontextmanager
async def hostile(script: Script) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server running ``script`` on each connection; its URL and what clients sent it."""
    received: list[bytes] = []

    async def handle(stream: SocketStream) -> None:
        async with stream:
            try:
                await script(stream)
                with anyio.move_on_after(10):
                    while True:  # keep the connection; record what the client says
                        received.append(await stream.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass

    async with serving(handle) as port:
        yield f"rs://127.0.0.1:{port}", received


async def handshake(stream: SocketStream) -> None:
    """Read the client's RawSocket handshake and accept it."""
    got = b""
    while len(got) < 4:
        got += await stream.receive()
    await stream.send(HANDSHAKE_OK)


def after_handshake(*frames: bytes) -> Script:
    async def script(stream: SocketStream) -> None:
        await handshake(stream)
        for data in frames:
            await stream.send(data)

    return script


async def _connect(url: str, timeout: float = 1.0, max_size: int = 1 << 24) -> None:
    port = int(url.rsplit(":", 1)[1])
    transport = {"url": url, "serializer": "json",  # the endpoint timeout bounds the join too
                 "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": port,
                              "timeout": timeout},
                 "options": {"max_message_size": max_size}}  # fmt: skip
    async with wamp.connect(transport):
        raise AssertionError("joined a hostile router")


def _said_abort(received: list[bytes]) -> bool:
    return b"wamp.error.protocol_violation" in b"".join(received)


async def _refused(
    script: Script, error: type[Exception], limit: float = 3.0, max_size: int = 1 << 24
) -> list[bytes]:
    async with hostile(script) as (url, received):
        started = anyio.current_time()
        with anyio.fail_after(10), pytest.raises(error) as info:
            await _connect(url, max_size=max_size)
        assert not isinstance(info.value, wc.ConfigurationError), info.value
        assert anyio.current_time() - started < limit
        assert str(info.value)  # a message that says something
        await anyio.sleep(0.1)
        return received


async def test_a_refused_serializer_is_a_handshake_error() -> None:
    async def script(stream: SocketStream) -> None:
        await stream.receive()
        await stream.send(bytes((0x7F, 1 << 4, 0, 0)))  # error 1: serializer unsupported

    await _refused(script, wc.HandshakeError)


async def test_a_slowloris_handshake_ends_with_the_join_timeout() -> None:
    async def script(stream: SocketStream) -> None:
        await stream.receive()
        await stream.send(b"\x7f")  # one byte of four, then nothing

    await _refused(script, wc.TransportError, limit=3.0)  # "no session within 1.0 s"


async def test_a_garbage_handshake_is_refused() -> None:
    async def script(stream: SocketStream) -> None:
        await stream.receive()
        await stream.send(b"HTTP/1.1 200 OK\r\n\r\n")

    # The transport's handshake failed, at once (a review: it was a refused join, a
    # SessionClosed "joining realm ... failed: protocol_violation").
    await _refused(script, wc.HandshakeError, limit=0.5)


async def test_an_oversized_length_header_is_refused_without_waiting_for_the_body() -> None:
    """The client offered 64 KiB; a frame announcing 1 MiB is refused on its header, before
    a byte of it is buffered (memory stays within the limit)."""
    header = struct.pack(">I", 1 << 20)
    await _refused(after_handshake(header + b"x" * 100), wc.SessionClosed, limit=0.5,
                   max_size=1 << 16)  # fmt: skip


@pytest.mark.parametrize(
    "message",
    [
        [999, "unknown type"],
        [36, 1, 2, {}],  # EVENT before WELCOME
        [2],  # WELCOME without fields
        {"not": "a list"},
        [2, 1, {"roles": "not a dict"}],
    ],
    ids=["unknown-type", "event-before-welcome", "short-welcome", "not-a-list", "bad-roles"],
)
async def test_a_protocol_violation_is_answered_with_abort(message: Any) -> None:
    received = await _refused(after_handshake(frame(message)), wc.SessionClosed, limit=0.5)
    assert _said_abort(received), received


async def test_a_challenge_for_a_method_not_offered_ends_a_component_at_once() -> None:
    """(A review.) It was ABORT protocol_violation, which the reconnect policy retried for
    ever: the Component reconnected and was challenged again, 11 times with max_retries=10.
    Now the join fails with an AuthenticationError (ABORT cannot_authenticate), fatal."""
    connects = []

    async def script(stream: SocketStream) -> None:
        connects.append(1)
        await handshake(stream)
        await stream.receive()  # HELLO (anonymous)
        await stream.send(frame([4, "wampcra", {"challenge": "{}"}]))

    async with hostile(script) as (url, received):
        component = wamp.Component(transports={"url": url, "serializer": "json",
                                                "max_retries": 10,
                                                "initial_retry_delay": 0.01})  # fmt: skip
        with anyio.fail_after(10), pytest.raises(wc.ReconnectExhausted) as info:
            await component.run()
        await anyio.sleep(0.1)
    assert info.value.reason == "wamp.error.cannot_authenticate"
    assert isinstance(info.value.__cause__, wc.AuthenticationError)
    assert "'wampcra', which we did not offer (offered: anonymous)" in str(info.value.__cause__)
    assert len(connects) == 1
    assert b"wamp.error.cannot_authenticate" in b"".join(received)


async def test_deep_nesting_does_not_crash_the_client() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    data = struct.pack(">I", len(deep)) + deep
    received = await _refused(after_handshake(data), wc.SessionClosed, limit=1.0)
    assert _said_abort(received)


async def test_a_frame_type_that_does_not_exist_is_refused() -> None:
    await _refused(after_handshake(frame([2, 1, {}], kind=7)), wc.SessionClosed, limit=0.5)


# -- WebSocket: what a hostile server answers the upgrade with ----------------------------------


def _upgrade_reply(reply: bytes) -> Script:
    async def script(stream: SocketStream) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive()
        await stream.send(reply)

    return script


async def _refused_ws(script: Script, error: type[Exception], says: str) -> None:
    async with hostile(script) as (url, _received):
        port = int(url.rsplit(":", 1)[1])
        transport = {"url": f"ws://127.0.0.1:{port}/ws", "serializers": ["json"],
                     "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": port,
                                  "timeout": 1.0}}  # fmt: skip
        started = anyio.current_time()
        with anyio.fail_after(10), pytest.raises(error) as info:
            async with wamp.connect(transport):
                raise AssertionError("joined a hostile router")
        assert anyio.current_time() - started < 3
        assert says in str(info.value), info.value


_BAD_UPGRADE = "invalid WebSocket upgrade response"


@pytest.mark.parametrize(
    ("reply", "error", "says"),
    [
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
         wc.HandshakeError, _BAD_UPGRADE),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
         wc.HandshakeError, _BAD_UPGRADE),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", wc.HandshakeError, "refused: HTTP 200"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", wc.HandshakeError, _BAD_UPGRADE),
        # a header larger than the HTTP parser's bound: refused before it is all read
        (b"HTTP/1.1 101 Switching Protocols\r\nX-Filler: " + b"a" * 200_000 + b"\r\n\r\n",
         wc.HandshakeError, _BAD_UPGRADE),
    ],
    ids=["no-accept-key", "wrong-accept-key", "not-an-upgrade", "not-http", "huge-header"],
)  # fmt: skip
async def test_a_bad_websocket_upgrade_is_refused(
    reply: bytes, error: type[Exception], says: str
) -> None:
    await _refused_ws(_upgrade_reply(reply), error, says)


async def test_a_silent_websocket_server_ends_with_the_join_timeout() -> None:
    async def script(stream: SocketStream) -> None:
        await stream.receive()  # the upgrade request, never answered

    await _refused_ws(script, wc.TransportError, "no session within 1.0 s")
