"""Interop: an Autobahn|Python component (PyPI ``autobahn``, asyncio) and a wamp_anyio
component on the same router (Crossbar.io, and the embedded router as a program; WebSocket and
RawSocket, several serializers), each calling
the other and receiving the other's events."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from embedded import EmbeddedRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

pytest.importorskip("autobahn", reason="the bench extra installs Autobahn|Python")

AUTOBAHN_PEER = """
import sys
from autobahn.asyncio.component import Component, run
from autobahn.wamp.types import PublishOptions

url, serializer = sys.argv[1], sys.argv[2]
if url.startswith("rs://"):
    transport = {"type": "rawsocket", "url": url, "serializer": serializer}
else:
    transport = {"type": "websocket", "url": url, "serializers": [serializer]}
component = Component(transports=[transport], realm="realm1")

@component.register("com.interop.autobahn.add")
def add(a, b, **kwargs):
    return a + b + kwargs.get("extra", 0)

@component.subscribe("com.interop.ours.event")
def on_ours(*args, **kwargs):
    print("autobahn got event", args, sorted(kwargs.items()), flush=True)

@component.on_ready
async def ready(session):
    result = await session.call("com.interop.ours.mul", 6, 7)
    print("autobahn got result", result, flush=True)
    await session.publish(
        "com.interop.autobahn.event", "from autobahn", n=1,
        options=PublishOptions(acknowledge=True),
    )
    print("autobahn ready", flush=True)

run([component], log_level="warn")
"""


@pytest.fixture(
    scope="module", params=[pytest.param("crossbar", marks=pytest.mark.crossbar), "embedded"]
)
def router(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "crossbar":
        yield request.getfixturevalue("crossbar")
        return
    with EmbeddedRouter() as embedded:
        yield embedded


@pytest.mark.parametrize(
    ("transport", "serializer"),
    [
        ("websocket", "json"),
        ("websocket", "msgpack"),
        ("rawsocket", "msgpack"),
        ("rawsocket", "cbor"),
    ],
)
async def test_autobahn_peer_both_directions(
    router: Any, anyio_backend: str, transport: str, serializer: str
) -> None:
    url = router.ws_url if transport == "websocket" else router.rs_url
    events: list[tuple[list[Any], dict[str, Any]]] = []
    component = wamp.Component(transports=url)
    component.register("com.interop.ours.mul")(lambda a, b: a * b)

    @component.subscribe("com.interop.autobahn.event")
    def on_event(*args: Any, **kwargs: Any) -> None:
        events.append((list(args), kwargs))

    with anyio.fail_after(60):
        async with component:
            session = await component.wait_ready()
            peer = await anyio.open_process(
                [sys.executable, "-c", AUTOBAHN_PEER, url, serializer],
                stderr=subprocess.STDOUT,
            )
            try:
                assert peer.stdout is not None
                output = b""
                async for chunk in peer.stdout:
                    output += chunk
                    if b"autobahn ready\n" in output:
                        break
                lines = output.decode().splitlines()
                assert "autobahn got result 42" in lines, lines
                # Autobahn's callee answers our call (retry until its registration is up: it
                # registers concurrently with its on_ready)
                for _ in range(100):
                    try:
                        result = await session.call("com.interop.autobahn.add", 2, 3, extra=10)
                        break
                    except wc.ApplicationError as exc:
                        assert exc.error == wc.ApplicationError.NO_SUCH_PROCEDURE
                        await anyio.sleep(0.05)
                assert result == 15
                while not events:
                    await anyio.sleep(0.01)
                assert events == [(["from autobahn"], {"n": 1})]
                await session.publish(
                    "com.interop.ours.event", "from us", k="v",
                    options=wc.PublishOptions(acknowledge=True),
                )  # fmt: skip
                async for chunk in peer.stdout:
                    output += chunk
                    if b"autobahn got event" in output and output.endswith(b"\n"):
                        break
                lines = output.decode().splitlines()
                assert "autobahn got event ('from us',) [('k', 'v')]" in lines, lines
            finally:
                peer.terminate()
                await peer.wait()
