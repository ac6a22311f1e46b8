"""Which addresses a driver connects to, with each driver, against the embedded router: a
name that resolves to a dead address first still connects (the next attempt starts after
``ATTEMPT_DELAY``, RFC 8305), and an endpoint's ``version`` restricts the address family.
The names are made up (``.invalid``) and resolved by a patched ``socket.getaddrinfo``. A unix
socket URL with a relative path is relative to the working directory."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from embedded import EmbeddedRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

Resolver = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def router() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as running:
        yield running


@pytest.fixture
def blackhole() -> Iterator[tuple[str, int]]:
    """An address whose SYNs are dropped: a listener with a full accept queue."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(dead.getsockname())
        fillers.append(filler)
    time.sleep(0.1)
    try:
        yield dead.getsockname()
    finally:
        for sock in [*fillers, dead]:
            sock.close()


def _resolve(monkeypatch: pytest.MonkeyPatch, name: str, answer: Callable[[int], Any]) -> None:
    real: Resolver = socket.getaddrinfo

    def fake(host: Any, port: Any, family: int = 0, *args: Any, **kwargs: Any) -> Any:
        if host in (name, name.encode()):
            return answer(family)
        return real(host, port, family, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def _info(address: tuple[str, int]) -> tuple[Any, ...]:
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", address)


async def test_a_dead_first_address_does_not_use_up_the_timeout(
    router: EmbeddedRouter, blackhole: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(router.rs_url.rsplit(":", 1)[1])
    _resolve(monkeypatch, "dual.invalid", lambda family: [
        _info(blackhole), _info(("127.0.0.1", port))])  # fmt: skip
    endpoint = {"type": "tcp", "host": "dual.invalid", "port": port, "timeout": 3}
    transport = {"url": f"rs://dual.invalid:{port}", "endpoint": endpoint}
    started = anyio.current_time()
    with anyio.fail_after(10):
        async with wamp.connect(transport) as session:
            assert session.is_attached()
    assert anyio.current_time() - started < 2  # not the 3 s timeout


async def test_each_resolved_address_is_dialled_once(
    router: EmbeddedRouter, blackhole: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(A mutation review: wamp_trio asked the resolver for every socket type, 0, not for
    stream sockets.) A resolver answers each address once per socket type asked for (stream,
    datagram, raw for 0, as the system's does): two dead addresses then the router take two
    attempt delays (0.5 s); asked for every type, each dead address was dialled three times
    and the connect took three times as long."""
    port = int(router.rs_url.rsplit(":", 1)[1])
    real: Resolver = socket.getaddrinfo
    asked: list[int] = []
    addresses = [blackhole, blackhole, ("127.0.0.1", port)]

    def fake(host: Any, port_: Any, family: int = 0, socktype: int = 0, *rest: Any) -> Any:
        if host not in ("triple.invalid", b"triple.invalid"):
            return real(host, port_, family, socktype, *rest)
        asked.append(socktype)
        kinds = [socktype] if socktype else [socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW]
        return [(socket.AF_INET, kind, 0, "", address) for address in addresses for kind in kinds]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    endpoint = {"type": "tcp", "host": "triple.invalid", "port": port, "timeout": 5}
    started = anyio.current_time()
    with anyio.fail_after(10):
        async with wamp.connect({"url": f"rs://triple.invalid:{port}", "endpoint": endpoint}):
            elapsed = anyio.current_time() - started
    assert asked == [socket.SOCK_STREAM]
    assert 0.45 < elapsed < 1.4, f"connected after {elapsed:.2f} s"  # (dialled 3 times: 1.5 s)


async def test_version_restricts_the_address_family(
    router: EmbeddedRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(router.rs_url.rsplit(":", 1)[1])

    def v4_only(family: int) -> list[tuple[Any, ...]]:
        if family == socket.AF_INET6:
            raise socket.gaierror(socket.EAI_NONAME, "no IPv6 address")
        return [_info(("127.0.0.1", port))]

    _resolve(monkeypatch, "v4.invalid", v4_only)
    endpoint = {"type": "tcp", "host": "v4.invalid", "port": port, "timeout": 3}
    with anyio.fail_after(10):
        async with wamp.connect({"url": f"rs://v4.invalid:{port}", "endpoint": endpoint}):
            pass
        with pytest.raises(wc.TransportError, match="no IPv6 address"):
            transport = {"url": f"rs://v4.invalid:{port}", "endpoint": {**endpoint, "version": 6}}
            async with wamp.connect(transport):
                raise AssertionError("connected over IPv4")


async def test_a_relative_unix_socket_path_is_found_from_the_working_directory(
    router: EmbeddedRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, _, name = router.unix_path.rpartition("/")
    monkeypatch.chdir(directory)
    with anyio.fail_after(10):
        async with wamp.connect(f"rs://unix:{name}") as session:
            assert await session.call("wamp.session.count") >= 1


async def test_a_tcp_session_sets_tcp_nodelay(router: EmbeddedRouter) -> None:
    """(A mutation review.) A lone small request must leave at once, not wait for Nagle's
    algorithm behind an unacknowledged one (up to 40 ms with delayed ACKs)."""
    with anyio.fail_after(10):
        async with wamp.connect(router.rs_url) as session:
            sock = session.runtime.raw_socket(session._link.stream)
            assert isinstance(sock, socket.socket), sock
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_when_no_address_connects_the_first_error_is_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """(A mutation review.) The first error is raised when none connects: a name resolving
    to a refusing address first, then to one that fails otherwise (a unix path that does not
    exist: no network involved)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    missing = str(tmp_path / "missing.sock")
    _resolve(monkeypatch, "two.invalid", lambda family: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        (socket.AF_UNIX, socket.SOCK_STREAM, 0, "", missing),
    ])  # fmt: skip
    endpoint = {"type": "tcp", "host": "two.invalid", "port": port, "timeout": 5}
    with anyio.fail_after(10), pytest.raises(wc.TransportError) as info:
        async with wamp.connect({"url": f"rs://two.invalid:{port}", "endpoint": endpoint}):
            raise AssertionError("connected")
    assert "Connection refused" in str(info.value), info.value
