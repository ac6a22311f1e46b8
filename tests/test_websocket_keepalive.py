"""WebSocket keepalive and leave options against a scripted router, with each driver.

The router (loopback, written here frame by frame) answers the upgrade, HELLO and GOODBYE and
every ping, records the pings, and never answers the client's close: the client's wait for
it is bounded by ``close_handshake_timeout``, and a ping falling due in that wait must not
break the leave.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream

import wamp_anyio as wamp
from loopback import serving

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ROLES: dict[str, Any] = {"roles": {"broker": {"features": {}}, "dealer": {"features": {}}}}


@dataclass
class Seen:
    pings: list[bytes] = field(default_factory=list)
    closes: int = 0


class _Reader:
    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += await self.stream.receive()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    async def upgrade(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self.stream.receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                return base64.b64encode(hashlib.sha1(value.strip() + _GUID).digest())
        raise AssertionError("no Sec-WebSocket-Key")

    async def frame(self) -> tuple[int, bytes]:
        first, second = await self.take(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack(">H", await self.take(2))
        elif length == 127:
            (length,) = struct.unpack(">Q", await self.take(8))
        mask = await self.take(4) if second & 0x80 else b"\0\0\0\0"
        payload = await self.take(length)
        return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _frame(opcode: int, payload: bytes) -> bytes:
    assert len(payload) < 126
    return bytes((0x80 | opcode, len(payload))) + payload


@asynccontextmanager
async def router() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def handle(stream: SocketStream) -> None:
        reader = _Reader(stream)
        async with stream:
            try:
                accept = await reader.upgrade()
                await stream.send(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept
                    + b"\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
                )  # fmt: skip
                while True:
                    opcode, payload = await reader.frame()
                    if opcode == 0x9:
                        seen.pings.append(payload)
                        await stream.send(_frame(0xA, payload))
                    elif opcode == 0x8:
                        seen.closes += 1  # never answered
                    elif opcode == 0x1:
                        reply = _answer(json.loads(payload))
                        if reply is not None:
                            await stream.send(_frame(0x1, json.dumps(reply).encode()))
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass

    async with serving(handle) as port:
        yield f"ws://127.0.0.1:{port}/ws", seen


def _answer(message: list[Any]) -> list[Any] | None:
    if message[0] == 1:  # HELLO
        return [2, 1, _ROLES]
    if message[0] == 6:  # GOODBYE
        return [6, {}, "wamp.close.goodbye_and_out"]
    return None


def _transport(url: str, **options: Any) -> dict[str, Any]:
    return {"type": "websocket", "url": url, "serializers": ["json"], "options": options}


async def test_a_ping_due_while_the_close_is_awaited_does_not_break_the_leave() -> None:
    async with router() as (url, seen):
        transport = _transport(url, auto_ping_interval=0.1, close_handshake_timeout=1.0)
        with anyio.fail_after(10):
            async with wamp.connect(transport):
                await anyio.sleep(0.25)
            # left cleanly (no ExceptionGroup, no LocalProtocolError from the ping)
        assert seen.pings and seen.closes == 1


async def test_close_handshake_timeout_bounds_the_leave() -> None:
    async with router() as (url, seen):
        transport = _transport(url, close_handshake_timeout=0.3, auto_ping_interval=0)
        async with wamp.connect(transport):
            started = anyio.current_time()
        assert 0.2 < anyio.current_time() - started < 2  # not CLOSE_TIMEOUT (5 s)
        assert seen.closes == 1


async def test_auto_ping_size_sets_the_ping_payload() -> None:
    async with router() as (url, seen):
        options = {
            "auto_ping_interval": 0.05,
            "auto_ping_size": 100,
            "close_handshake_timeout": 0.1,
        }
        async with wamp.connect(_transport(url, **options)):
            with anyio.fail_after(5):
                while len(seen.pings) < 2:
                    await anyio.sleep(0.02)
        assert {len(p) for p in seen.pings} == {100}
        assert seen.pings[0] != seen.pings[1]  # random, as Autobahn sends them
