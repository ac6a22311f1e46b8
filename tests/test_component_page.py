"""Autobahn's documented ``Component`` page is the contract: every constructor key and decorator,
each accepted form and default, a clear error naming the key for each wrong value, and the page's
three examples run against Crossbar.io on asyncio and trio.

Parametrized over both drivers (``wamp_anyio`` on asyncio and trio, ``wamp_trio``).
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_core as wc
import wamp_trio
from crossbar import CrossbarRouter
from embedded import EmbeddedRouter
from wamp_core import auth

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "component_page.py"

DRIVERS = [wamp_anyio, wamp_trio]


@pytest.fixture(params=DRIVERS, ids=lambda module: module.__name__)
def driver(request: pytest.FixtureRequest) -> ModuleType:
    module = request.param
    assert isinstance(module, ModuleType)
    return module


def test_the_defaults_are_the_pages(driver: ModuleType) -> None:
    component = driver.Component()
    (transport,) = component.transports
    assert transport.type == "websocket"
    assert transport.url == "ws://127.0.0.1:8080/ws"
    assert component.config == wc.ComponentConfig("realm1", None)
    assert transport.max_retries == -1
    assert transport.initial_retry_delay == 1.0
    assert transport.max_retry_delay == 60.0
    assert transport.retry_delay_growth == 1.5
    assert transport.retry_delay_noise is random.random


@pytest.mark.parametrize(
    "transports",
    [
        "ws://127.0.0.1:9/ws",
        {"url": "ws://127.0.0.1:9/ws"},
        ["rs://127.0.0.1:9", {"type": "websocket", "url": "ws://127.0.0.1:9/ws"}],
        {
            "type": "rawsocket",
            "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": 9, "timeout": 2.5},
            "serializer": "msgpack",
            "max_retries": 3,
            "initial_retry_delay": 0.5,
            "max_retry_delay": 5,
            "retry_delay_growth": 2,
            "retry_delay_jitter": lambda: 0.5,
            "options": {"max_message_size": 65536},
        },
        {"url": "wss://127.0.0.1:9/ws", "proxy": {"host": "127.0.0.1", "port": 3128}},
        {"type": "rawsocket", "endpoint": {"type": "unix", "path": "/tmp/x.sock"}},
    ],
)
def test_every_transport_form_is_accepted(driver: ModuleType, transports: Any) -> None:
    component = driver.Component(transports=transports)
    assert component.transports == wc.parse_transports(transports)


def test_the_other_keys_reach_the_session(driver: ModuleType) -> None:
    component = driver.Component(
        main=lambda session: None,
        realm="com.example.realm",
        extra={"answer": 42},
        authentication={"ticket": {"authid": "joe", "ticket": "secret"}},
        session_factory=driver.Session,
        is_fatal=lambda exc: False,
    )
    assert component.config == wc.ComponentConfig("com.example.realm", {"answer": 42})
    config = wc.ComponentConfig("other", "x")
    assert driver.Component(config=config).config is config


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("main", 3, "'main' must be callable"),
        ("transports", 3, "transport"),
        ("transports", {"url": "ws://h/ws", "max_retries": "3"}, "'max_retries'"),
        ("transports", {"url": "ws://h/ws", "initial_retry_delay": "1"}, "'initial_retry_delay'"),
        ("transports", {"url": "ws://h/ws", "retry_delay_jitter": "x"}, "'retry_delay_jitter'"),
        ("transports", {"url": "ws://h/ws", "bogus": 1}, "'bogus'"),
        ("transports", {"url": "ws://h/ws", "options": {"bogus": 1}}, "'bogus'"),
        ("transports", {"url": "ws://h/ws", "proxy": {"host": "p"}}, "'port'"),
        ("config", {"realm": "x"}, "'config'"),
        ("realm", 7, "'realm'"),
        ("realm", "not a..uri", "'realm'"),
        ("authentication", {"nosuch": {}}, "nosuch"),
        ("authentication", {"ticket": {}}, "ticket"),
        # these failed at the first connect, after TCP and the WebSocket upgrade
        ("authentication", "ticket", "authentication must be"),
        ("authentication", [{"ticket": "x"}], "not an Authenticator"),
        (
            "authentication",
            [auth.TicketAuthenticator("t", authid="a"), auth.WampCraAuthenticator("s", authid="b")],
            "authid",
        ),
        ("session_factory", "Session", "'session_factory'"),
        ("is_fatal", True, "'is_fatal'"),
        # these failed after joining, or at the first failure (hours later, ending the run)
        ("main", lambda: None, r"'main' is called with \(session\)"),
        ("main", lambda a, b, c: None, r"'main' is called with \(session\)"),
        ("is_fatal", lambda: True, r"'is_fatal' is called with \(exception\)"),
    ],
)
def test_a_wrong_value_names_its_key(
    driver: ModuleType, key: str, value: Any, message: str
) -> None:
    with pytest.raises(wc.ConfigurationError, match=message):
        driver.Component(**{key: value})
    # a traceback shows the half-made component (pytest's locals): its repr does not fail
    half_made = driver.Component.__new__(driver.Component)
    assert repr(half_made) == "<Component realm=None transports=0>"


def test_authentication_values_may_be_authenticators(driver: ModuleType) -> None:
    """Autobahn's Component takes ``{name: authenticator}`` as well as ``{name: config}``."""
    ticket = auth.TicketAuthenticator("secret", authid="joe")
    component = driver.Component(authentication={"ticket": ticket})
    assert component._authenticators == [ticket]  # (built once, kept for every attempt)


def test_a_ported_session_class_with_autobahn_hooks_is_refused(driver: ModuleType) -> None:
    """An ``ApplicationSession``-style subclass given as ``session_factory``: nothing calls its
    ``onJoin``/``onChallenge``/``on_join``... (it joined without them: an ``onChallenge``
    skipped meant an anonymous session, a ``main``-less component waited for ever)."""

    class Ported(driver.Session):  # type: ignore[misc,name-defined]
        async def onJoin(self, details: Any) -> None:  # (Autobahn's names)
            pass

        def onChallenge(self, challenge: Any) -> str:
            return "secret"

    with pytest.raises(wc.ConfigurationError, match="defines onChallenge, onJoin"):
        driver.Component(session_factory=Ported)

    # a factory function: the session it builds is checked before it connects
    def factory(config: wc.ComponentConfig) -> Any:
        return Ported(config)

    component = driver.Component(transports="rs://127.0.0.1:9", session_factory=factory)
    with pytest.raises(wc.ConfigurationError, match="defines onChallenge, onJoin"):
        anyio.run(component.run, backend="trio" if driver is wamp_trio else "asyncio")


def test_the_decorators_and_hook_names(driver: ModuleType) -> None:
    component = driver.Component()

    def listener(*args: Any, **kwargs: Any) -> None:
        pass

    for name in ("on_connect", "on_connectfailure", "on_disconnect", "on_join", "on_leave"):
        assert getattr(component, name)(listener) is listener
    assert component.on_ready(listener) is listener
    assert component.register("a.b", driver.RegisterOptions(invoke="roundrobin"))(print) is print
    assert component.subscribe("a", driver.SubscribeOptions(match="prefix"), True)(print) is print
    with pytest.raises(wc.ConfigurationError, match="must be RegisterOptions"):
        component.register("a.b", driver.SubscribeOptions())(print)
    with pytest.raises(wc.ConfigurationError, match="unknown hook"):
        component.on("joined", listener)
    # a URI the router would refuse, and a decorator used without its URI: here, not after
    # connecting (the bare one put the decorator in the function's place and registered nothing)
    with pytest.raises(wc.ConfigurationError, match="not a valid procedure URI"):
        component.register("com.example.add two")(print)
    with pytest.raises(wc.ConfigurationError, match="not a valid procedure URI"):
        component.register(123)(print)
    with pytest.raises(wc.ConfigurationError, match="not a valid topic URI"):
        component.subscribe("com..x")(print)  # (valid only as a wildcard)
    component.subscribe("com..x", driver.SubscribeOptions(match="wildcard"))(print)
    with pytest.raises(wc.ConfigurationError, match="takes the URI first"):
        component.subscribe(print)
    for name in ("CallOptions", "PublishOptions", "ApplicationError", "CallResult"):
        assert getattr(driver, name) is getattr(wc, name)


@pytest.mark.anyio
async def test_an_unknown_realm_is_named_in_the_error(
    wamp: ModuleType, crossbar: CrossbarRouter
) -> None:
    component = wamp.Component(transports=crossbar.rs_url, realm="com.example.nosuch")
    with anyio.fail_after(20), pytest.raises(wc.ReconnectExhausted) as info:
        await component.run()
    assert "'com.example.nosuch'" in str(info.value)
    assert "no_such_realm" in str(info.value)


@pytest.mark.parametrize(
    "router", [pytest.param("crossbar", marks=pytest.mark.crossbar), "embedded"]
)
@pytest.mark.parametrize("backend", ["asyncio", "trio", "wamp_trio"])
def test_the_pages_examples_run(request: pytest.FixtureRequest, backend: str, router: str) -> None:
    """The page's examples, through Crossbar.io and through the embedded router."""
    with contextlib.ExitStack() as stack:
        if router == "crossbar":
            url = request.getfixturevalue("crossbar").ws_url
        else:
            url = stack.enter_context(EmbeddedRouter()).ws_url
        proc = subprocess.run(
            [sys.executable, str(EXAMPLE), url, backend],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, proc.stdout
    assert lines[0].startswith("Session <Session id=")
    assert "joined: SessionDetails(realm='realm1'" in lines[0]
    assert lines[1] == "add((1, 2), {'x': 3}): event received"
    assert lines[2] == "some.topic(('hello',), {}): event received"
