"""The anyio driver's transport, serializer and authentication matrix against a real
Crossbar.io, under both anyio backends: a Component joins, restores a registration and a
subscription, calls, receives its own event and leaves, on every transport it supports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import (
    CRYPTOSIGN_AUTHID,
    CRYPTOSIGN_SEED,
    SCRAM_AUTHID,
    SCRAM_PASSWORD,
    TICKET_AUTHID,
    TICKET_SECRET,
    WAMPCRA_AUTHID,
    WAMPCRA_SALTED_AUTHID,
    WAMPCRA_SALTED_SECRET,
    WAMPCRA_SECRET,
    CrossbarRouter,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 30
PAYLOAD = ["über", 1, 2.5, None, True, b"\x00\xff", {"k": [1, "x"]}]


def _tls(cb: CrossbarRouter, url: str) -> dict[str, Any]:
    port = int(url.split(":")[2].split("/", maxsplit=1)[0])
    return {
        "type": "tcp", "host": "127.0.0.1", "port": port,
        "tls": {"trust_root": str(cb.ca_path)},
    }  # fmt: skip


def _websocket(name: str) -> Callable[[CrossbarRouter], Any]:
    return lambda cb: {"type": "websocket", "url": cb.ws_url, "serializers": [name]}


def _rawsocket(name: str) -> Callable[[CrossbarRouter], Any]:
    return lambda cb: {"type": "rawsocket", "url": cb.rs_url, "serializer": name}


TRANSPORTS: dict[str, Callable[[CrossbarRouter], Any]] = {
    **{f"websocket-{name}": _websocket(name) for name in ("json", "msgpack", "cbor", "ubjson")},
    **{f"rawsocket-{name}": _rawsocket(name) for name in ("json", "msgpack", "cbor")},
    "rawsocket-unix": lambda cb: f"rs://unix:{cb.unix_path}",
    "wss": lambda cb: {"type": "websocket", "url": cb.wss_url, "endpoint": _tls(cb, cb.wss_url)},
    "rss": lambda cb: {"type": "rawsocket", "url": cb.rss_url, "endpoint": _tls(cb, cb.rss_url)},
}


async def _roundtrip(
    transport: Any, authentication: Any = None, *, realm: str = "realm1"
) -> wc.SessionDetails:
    """Run a component that calls its own procedure and receives its own event."""
    received: list[Any] = []
    joined: list[wc.SessionDetails] = []

    async def main(session: wamp.Session) -> None:
        result = await session.call("com.matrix.echo", *PAYLOAD, key="välue")
        assert isinstance(result, wc.CallResult)
        assert result.args == PAYLOAD
        assert result.kwargs == {"key": "välue"}
        await session.publish(
            "com.matrix.topic", *PAYLOAD,
            options=wc.PublishOptions(acknowledge=True, exclude_me=False),
        )  # fmt: skip
        with anyio.fail_after(5):
            while not received:
                await anyio.sleep(0.01)
        assert received == [PAYLOAD]

    component = wamp.Component(
        main=main, transports=transport, realm=realm, authentication=authentication
    )

    @component.register("com.matrix.echo", wc.RegisterOptions(force_reregister=True))
    def echo(*args: Any, **kwargs: Any) -> wc.CallResult:
        return wc.CallResult(*args, **kwargs)

    @component.subscribe("com.matrix.topic")
    def on_event(*args: Any) -> None:
        received.append(list(args))

    component.on_join(lambda session, details: joined.append(details))
    with anyio.fail_after(TIMEOUT):
        await component.run()
    (details,) = joined
    return details


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
async def test_every_transport(crossbar: CrossbarRouter, kind: str) -> None:
    details = await _roundtrip(TRANSPORTS[kind](crossbar))
    assert details.realm == "realm1"


AUTH: dict[str, dict[str, Any]] = {
    "ticket": {"ticket": {"authid": TICKET_AUTHID, "ticket": TICKET_SECRET}},
    "wampcra": {"wampcra": {"authid": WAMPCRA_AUTHID, "secret": WAMPCRA_SECRET}},
    "wampcra-salted": {
        "wampcra": {"authid": WAMPCRA_SALTED_AUTHID, "secret": WAMPCRA_SALTED_SECRET}
    },
    "cryptosign": {"cryptosign": {"authid": CRYPTOSIGN_AUTHID, "privkey": CRYPTOSIGN_SEED.hex()}},
    "scram": {"scram": {"authid": SCRAM_AUTHID, "password": SCRAM_PASSWORD}},
}


@pytest.mark.parametrize("method", sorted(AUTH))
async def test_every_authentication_method(crossbar: CrossbarRouter, method: str) -> None:
    details = await _roundtrip(crossbar.ws_auth_url, AUTH[method])
    assert details.authmethod == method.split("-", maxsplit=1)[0]


async def test_anonymous(crossbar: CrossbarRouter) -> None:
    details = await _roundtrip(crossbar.ws_url, {"anonymous": {}})
    assert details.authmethod == "anonymous"


@pytest.mark.parametrize("method", sorted(AUTH))
async def test_wrong_credentials_are_fatal(crossbar: CrossbarRouter, method: str) -> None:
    wrong: dict[str, dict[str, Any]] = {
        "ticket": {"ticket": {"authid": TICKET_AUTHID, "ticket": "wrong"}},
        "wampcra": {"wampcra": {"authid": WAMPCRA_AUTHID, "secret": "wrong"}},
        "wampcra-salted": {"wampcra": {"authid": WAMPCRA_SALTED_AUTHID, "secret": "wrong"}},
        "cryptosign": {"cryptosign": {"authid": CRYPTOSIGN_AUTHID, "privkey": "02" * 32}},
        "scram": {"scram": {"authid": SCRAM_AUTHID, "password": "wrong"}},
    }
    failures: list[BaseException] = []
    component = wamp.Component(
        main=lambda session: None,
        transports={"url": crossbar.ws_auth_url, "max_retries": -1, "initial_retry_delay": 0},
        authentication=wrong[method],
    )
    component.on_connectfailure(lambda component, error: failures.append(error))
    with anyio.fail_after(TIMEOUT), pytest.raises(wc.ReconnectExhausted) as info:
        await component.run()
    assert len(failures) == 1
    cause = info.value.__cause__
    assert isinstance(cause, (wc.SessionClosed, wc.AuthenticationError)), repr(cause)
    assert wc.default_is_fatal(cause)
