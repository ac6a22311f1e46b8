"""Values that one serializer carries and another cannot, between peers on different
serializers through Crossbar.io, with each driver: what cannot arrive intact is refused before
it is sent (``EncodingError``, the session stays), and what a peer's serializer can carry
arrives as sent.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]


def _on(crossbar: CrossbarRouter, serializer: str) -> dict[str, Any]:
    return {"url": crossbar.ws_url, "serializers": [serializer]}


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


async def test_a_memoryview_arrives_as_bytes_from_a_cbor_caller(crossbar: CrossbarRouter) -> None:
    """cbor2 encodes a memoryview as a list of numbers; JSON and msgpack as binary."""
    async with (
        wamp.connect(_on(crossbar, "json")) as callee,
        wamp.connect(_on(crossbar, "cbor")) as caller,
    ):
        await callee.register(lambda *args, **kwargs: [args, kwargs], "com.values.echo")
        view = memoryview(b"ab")
        with anyio.fail_after(10):
            echoed = await caller.call("com.values.echo", view, [view], k={"v": view})
        assert echoed == [[b"ab", [b"ab"]], {"k": {"v": b"ab"}}]


async def test_text_that_would_read_as_binary_is_refused_in_json(
    crossbar: CrossbarRouter,
) -> None:
    """It used to go out; the router could not decode it and dropped the connection."""
    async with wamp.connect(_on(crossbar, "json")) as session:
        with anyio.fail_after(10):
            await session.register(lambda: "\x00hello", "com.values.nul")
            with pytest.raises(wc.EncodingError, match="U\\+0000"):
                await session.call("com.values.echo.nul", "\x00hello")
            # the callee's own answer: refused in the callee, the caller gets an error
            with pytest.raises(wc.ApplicationError) as info:
                await session.call("com.values.nul")
            assert info.value.error == "wamp.error.invalid_payload"  # (as Autobahn answers)
            assert session.is_attached()


async def test_a_json_subscriber_takes_a_nan_a_msgpack_peer_published(
    crossbar: CrossbarRouter,
) -> None:
    """Crossbar.io relays it as ``NaN``: the JSON subscriber used to lose its session."""
    got: list[Any] = []
    async with (
        wamp.connect(_on(crossbar, "json")) as subscriber,
        wamp.connect(_on(crossbar, "msgpack")) as publisher,
    ):
        await subscriber.subscribe(lambda *args: got.extend(args), "com.values.nan")
        await publisher.publish(
            "com.values.nan", math.nan, math.inf, options=wc.PublishOptions(acknowledge=True)
        )
        with anyio.fail_after(10):
            while len(got) < 2:
                await anyio.sleep(0.01)
        assert math.isnan(got[0]) and got[1] == math.inf
        assert subscriber.is_attached()


async def test_nesting_deeper_than_cbor_peers_take_is_refused(crossbar: CrossbarRouter) -> None:
    """cbor2 refuses more than 400 levels: Crossbar.io ended the sender's session."""
    async with wamp.connect(_on(crossbar, "cbor")) as session:
        await session.register(lambda value: len(repr(value)), "com.values.deep")
        with anyio.fail_after(10):
            assert await session.call("com.values.deep", _nested(wc.MAX_NESTING - 1)) > 0
            with pytest.raises(wc.EncodingError, match="nest deeper than"):
                await session.call("com.values.deep", _nested(wc.MAX_NESTING + 1))
            assert session.is_attached()


async def _published_to(
    crossbar: CrossbarRouter, serializer: str, publisher: str, value: Any
) -> tuple[list[Any], bool]:
    """What a subscriber on ``serializer`` received of ``value`` published by a peer on
    ``publisher``, and whether its session is still joined."""
    got: list[Any] = []
    async with (
        wamp.connect(_on(crossbar, serializer)) as subscriber,
        wamp.connect(_on(crossbar, publisher)) as peer,
    ):
        await subscriber.subscribe(got.append, "com.values.relayed")
        await peer.publish("com.values.relayed", value, options=wc.PublishOptions(acknowledge=True))
        await peer.publish(
            "com.values.relayed", "after", options=wc.PublishOptions(acknowledge=True)
        )
        with anyio.fail_after(10):
            while "after" not in got and subscriber.is_attached():
                await anyio.sleep(0.01)
        return got, subscriber.is_attached()


async def test_a_ubjson_subscriber_takes_nesting_every_peer_may_send(
    crossbar: CrossbarRouter,
) -> None:
    """(A review.) Our UBJSON decoder stopped at 256 levels: a cbor peer's 300-level value,
    which Crossbar.io relays, ended every ubjson subscriber's session."""
    deep = _nested(wc.MAX_NESTING - 1)
    assert await _published_to(crossbar, "ubjson", "cbor", deep) == ([deep, "after"], True)


async def test_a_json_subscriber_takes_text_starting_with_nul_from_a_binary_peer(
    crossbar: CrossbarRouter,
) -> None:
    """(A review.) A msgpack peer may send text starting with U+0000; Crossbar.io relays it to
    JSON peers as it is, where it reads as the JSON binary convention: a rest that is not
    base64 ended the JSON subscriber's session. It stays the text it is."""
    assert await _published_to(crossbar, "json", "msgpack", "\x00abc") == (
        ["\x00abc", "after"],
        True,
    )
