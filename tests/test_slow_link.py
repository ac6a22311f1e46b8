"""A large write over a slow link that moves is not cut: the deadline (SEND_TIMEOUT) is on
progress, slice by slice (SEND_SLICE), not on the whole write (a 16 MiB message over a link
slower than ~550 KB/s always lost its connection after 30 s). The constants are scaled down
here so that the test takes seconds: a 12 MiB call (far more than the kernel's buffers take
at once) through a proxy that forwards 2 MiB/s, with a 3 s deadline (the kernel wakes a
writer when half its buffer, up to 2 MB here, has drained: a slice may wait that long). The
byte path is the same for every driver (``wamp_core.driver.Link``): the end-to-end case runs
on asyncio."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_anyio as wamp
from wamp_core._driver import _link

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

RATE = 2 << 20


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_link, "SEND_TIMEOUT", 3.0)
    monkeypatch.setattr(_link, "SEND_SLICE", 64 * 1024, raising=False)


async def test_send_sliced_bounds_each_slice_not_the_whole(short_deadline: None) -> None:
    sent: list[int] = []

    async def slow(data: bytes) -> None:  # 0.4 s a slice: 4 s for the whole, 3 s allowed
        await anyio.sleep(0.4)
        sent.append(len(data))

    assert await _link.send_sliced(anyio.move_on_after, slow, b"x" * (10 * 64 * 1024))
    assert sent == [64 * 1024] * 10

    async def stuck(data: bytes) -> None:
        await anyio.sleep_forever()

    assert not await _link.send_sliced(anyio.move_on_after, stuck, b"x")


@pytest.fixture
def throttled() -> Iterator[Any]:
    """A proxy forwarding to the port it is given (client -> router at RATE bytes/s)."""
    stop = threading.Event()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # inherited: no big buffer
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def pipe(src: socket.socket, dst: socket.socket, throttle: bool) -> None:
        try:
            while not stop.is_set() and (data := src.recv(8192 if throttle else 65536)):
                dst.sendall(data)
                if throttle:
                    time.sleep(len(data) / RATE)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()

    def start(port: int) -> int:
        def accept() -> None:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                router = socket.create_connection(("127.0.0.1", port))
                for args in ((client, router, True), (router, client, False)):
                    threading.Thread(target=pipe, args=args, daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    stop.set()
    listener.close()


async def test_a_large_call_over_a_slow_link_that_moves_is_answered(
    short_deadline: None, throttled: Any, anyio_backend: str
) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("the same Link on every driver: once is enough for a 6 s test")
    payload = b"x" * (12 << 20)
    with anyio.fail_after(30):
        async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
            port = int(router.urls[0].rsplit(":", 1)[1])
            async with wamp.connect(router.urls[0]) as callee:
                await callee.register(len, "com.slow.size")
                url = f"rs://127.0.0.1:{await anyio.to_thread.run_sync(throttled, port)}"
                async with wamp.connect(url) as caller:
                    assert await caller.call("com.slow.size", payload) == len(payload)
