"""TLS connects and the cryptosign ``tls-unique`` channel binding through the drivers
(``wamp_anyio`` on both backends, ``wamp_trio``), edges a mutation review found unguarded:
only the blocking test client (``tests/wamp_client.py``) ever bound a signature to a TLS
channel, so a driver handing the session no channel id (or an unhashed one) went unseen."""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream
from anyio.streams.tls import TLSStream

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CRYPTOSIGN_AUTHID, CRYPTOSIGN_SEED, write_test_pki
from loopback import serving
from wamp_core import messages as m

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]


def _tls_transport(url: str, ca_path: Path | None, **tls: Any) -> dict[str, Any]:
    port = _port(url)
    return {
        "url": url,
        "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": port,
                     "tls": {"trust_root": str(ca_path), **tls}},
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["rss", "wss"])
async def test_cryptosign_bound_to_the_tls_channel_joins_through_a_driver(
    router: Any, kind: str
) -> None:
    """(Mutants T12/T13, C17/C18: the driver's channel id dropped, or handed over unhashed.)
    A driver must hand the session ``SHA-256(tls-unique)`` of its own TLS connection: with
    ``channel_binding="tls-unique"`` the client signs the challenge XORed with it, and the
    router (Crossbar.io, the embedded one) checks it against the channel it sees. Without the
    id the client refused to sign (``cannot_authenticate``), with a wrong one the router
    refused the signature: a user asking for the binding could never log in."""
    url = router.rss_url if kind == "rss" else getattr(router, "wss_auth_url", router.wss_url)
    authenticator = wc.auth.CryptosignAuthenticator(
        CRYPTOSIGN_SEED, CRYPTOSIGN_AUTHID, channel_binding="tls-unique"
    )
    with anyio.fail_after(20):
        async with wamp.connect(
            _tls_transport(url, router.ca_path), authentication=[authenticator]
        ) as session:
            assert session.authmethod == "cryptosign"
            assert session.authid == CRYPTOSIGN_AUTHID
            assert await session.call("wamp.session.count") >= 1


async def test_the_tls_hostname_setting_is_what_a_driver_verifies(router: Any) -> None:
    """(Mutant T09: the endpoint's host verified instead of ``tls.hostname``.) The certificate
    is valid for 127.0.0.1, the endpoint's host; a ``hostname`` that it does not name must
    fail verification (a driver that ignored the setting connected, checking another name)."""
    transport = _tls_transport(router.rss_url, router.ca_path, hostname="wrong.example")
    with anyio.fail_after(20), pytest.raises(wc.TransportError) as info:
        async with wamp.connect(transport):
            raise AssertionError("connected")
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError), info.value
    assert "wrong.example" in str(info.value)


async def test_a_tls_router_that_hangs_up_ends_the_connect(tmp_path: Path) -> None:
    """(Mutant T01: wamp_trio's TLS stream read an empty receive as data, not as the end.)
    A TLS listener that takes the RawSocket handshake and hangs up (a router shutting down):
    the connect fails at once, saying the connection ended; it spun on empty reads until the
    caller's own deadline."""
    write_test_pki(tmp_path, tmp_path / "ca.crt")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")

    async def hang_up(stream: SocketStream) -> None:
        async with stream:
            tls = await TLSStream.wrap(stream, server_side=True, ssl_context=server,
                                       standard_compatible=False)  # fmt: skip
            await tls.receive()  # the RawSocket handshake
            await tls.aclose()

    async with serving(hang_up) as port:
        transport = _tls_transport(f"rss://127.0.0.1:{port}", tmp_path / "ca.crt")
        with anyio.fail_after(5), pytest.raises(wc.TransportError) as info:
            async with wamp.connect(transport):
                raise AssertionError("connected")
    assert "ended" in str(info.value) or "closed" in str(info.value), info.value


def _piping_proxy(target: int, *, answer_in_pieces: bool = False) -> Any:
    """A CONNECT proxy's handler that tunnels to ``target`` on loopback."""

    async def pipe(source: SocketStream, sink: SocketStream) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            async for chunk in source:
                await sink.send(chunk)

    async def handle(client: SocketStream) -> None:
        async with client:
            head = b""
            while b"\r\n\r\n" not in head:
                head += await client.receive()
            async with await anyio.connect_tcp("127.0.0.1", target) as upstream:
                if answer_in_pieces:
                    await client.send(b"HTTP/1.1 200 Connection established\r\n")
                    await anyio.sleep(0.2)  # (a second segment)
                    await client.send(b"\r\n")
                else:
                    await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                async with anyio.create_task_group() as tg:
                    tg.start_soon(pipe, client, upstream)
                    await pipe(upstream, client)
                    tg.cancel_scope.cancel()

    return handle


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/", maxsplit=1)[0])


async def test_a_proxy_answer_in_pieces_still_opens_the_tunnel(embedded: Any) -> None:
    """(Mutant T18: one read of the proxy's answer instead of reading until its end.) A proxy
    whose ``200`` answer arrives in two TCP segments: the driver must wait for the blank line
    before it sends the WebSocket handshake through the tunnel; read once, the rest of the
    answer reached the WebSocket handshake as the router's (a HandshakeError)."""
    async with serving(_piping_proxy(_port(embedded.ws_url), answer_in_pieces=True)) as port:
        transport = {"url": embedded.ws_url, "proxy": {"host": "127.0.0.1", "port": port}}
        with anyio.fail_after(10):
            async with wamp.connect(transport) as session:
                assert await session.call("wamp.session.count") >= 1


@pytest.mark.parametrize("kind", ["ws-proxy", "wss", "wss-proxy"])
async def test_tcp_nodelay_through_a_proxy_and_over_tls(embedded: Any, kind: str) -> None:
    """(Mutant T26: the socket of a tunnel taken over without TCP_NODELAY.) As on a direct
    TCP connection (tests/test_connect_addresses.py), a lone small request must leave at once,
    not wait behind an unacknowledged one (Nagle): through a proxy and over TLS too."""
    url = embedded.ws_url if kind == "ws-proxy" else embedded.wss_url
    async with serving(_piping_proxy(_port(url))) as port:
        transport: dict[str, Any] = (
            {"url": url} if kind == "ws-proxy" else _tls_transport(url, embedded.ca_path)
        )
        if kind.endswith("proxy"):
            transport["proxy"] = {"host": "127.0.0.1", "port": port}
        with anyio.fail_after(10):
            async with wamp.connect(transport) as session:
                sock: Any = session.runtime.raw_socket(session._link.stream)
                assert sock is not None  # (a socket, or the event loop's wrapper of one)
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                assert await session.call("wamp.session.count") >= 1


async def _hung_up_on(answer: bytes | None, transport_for: Any, error: type[Exception]) -> bool:
    """Serve ``answer`` to whatever a driver sends first (None: nothing, and read nothing),
    let its connect fail with ``error``,
    and tell whether the driver closed its connection while the caller still holds the error
    (the error's traceback keeps the failed connect's frames, and their streams, alive)."""
    hung_up = anyio.Event()

    async def answer_then_wait(stream: SocketStream) -> None:
        async with stream:
            if answer is not None:
                await stream.receive()
                await stream.send(answer)
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                while True:
                    await stream.receive()
            hung_up.set()

    async with serving(answer_then_wait) as port:
        with anyio.fail_after(5), pytest.raises(error) as info:
            async with wamp.connect(transport_for(port)):
                raise AssertionError("connected")
        with anyio.move_on_after(2):
            await hung_up.wait()
        held = info.value  # (held until here)
        assert held is not None
    return hung_up.is_set()


async def test_a_failed_tls_handshake_closes_the_connection() -> None:
    """(Mutant T11: the stream of a failed TLS handshake left open.) A server that answers the
    ClientHello with HTTP: the connect fails (TransportError) and the driver closes the TCP
    connection at once; left to the garbage collector, the server held it open for as long
    as the application kept the error (and a ResourceWarning came later)."""
    transport = lambda port: {"url": f"rss://127.0.0.1:{port}", "serializers": ["json"]}  # noqa: E731
    assert await _hung_up_on(b"HTTP/1.1 400 Bad Request\r\n\r\n", transport, wc.TransportError)


async def test_a_refusing_proxy_gets_its_connection_closed() -> None:
    """(Mutant T21: the proxy connection of a failed tunnel left open.) A proxy answering
    ``403``: the connect fails (HandshakeError) and the driver hangs up on the proxy at once."""
    transport = lambda port: {  # noqa: E731
        "url": "ws://127.0.0.1:9/ws", "proxy": {"host": "127.0.0.1", "port": port},
    }  # fmt: skip
    assert await _hung_up_on(b"HTTP/1.1 403 Forbidden\r\n\r\n", transport, wc.HandshakeError)


# -- the core's side of the binding (sans-IO) ------------------------------------------------


def test_sign_challenge_refuses_a_channel_id_that_is_not_32_bytes() -> None:
    """(Mutant C11: the length check of the channel id in the XOR dropped.) The public
    ``sign_challenge`` given a raw ``tls-unique`` binding (12 bytes under TLS 1.2, not its
    SHA-256 id) raises the library's AuthenticationError naming the length, not a bare
    ``ValueError`` from ``zip``."""
    with pytest.raises(wc.AuthenticationError, match="must be 32 bytes, got 12 bytes"):
        wc.auth.sign_challenge("4d" * 32, "ab" * 32, b"finished-12b")


@pytest.mark.parametrize("binding", [["tls-unique"], {"type": "tls-unique"}, 1])
def test_a_channel_binding_that_is_not_a_name_is_refused(binding: Any) -> None:
    """(Mutant C29: any truthy ``authextra.channel_binding`` looked up in the channel ids.) A
    HELLO whose ``channel_binding`` is a list or a dict (JSON allows it) gets an ABORT
    ``authentication_failed`` like any other binding the connection lacks; looked up as a key,
    the router raised ``TypeError: unhashable type`` in the middle of the HELLO."""
    seed = "4d" * 32
    router = wc.Router(["realm1"], principals=[
        wc.Principal("carol", pubkeys=(wc.auth.cryptosign_pubkey(seed),))])  # fmt: skip
    sent: list[Any] = []
    session = router.open_session(sent.append, lambda: None)
    session.channel_ids = {"tls-unique": bytes(range(32))}
    authextra = {"pubkey": wc.auth.cryptosign_pubkey(seed), "channel_binding": binding}
    details = {"roles": {"caller": {}}, "authmethods": ["cryptosign"], "authextra": authextra}
    session.receive(m.Hello(realm="realm1", details=details))
    (abort,) = sent
    assert isinstance(abort, m.Abort), abort
    assert abort.reason == "wamp.error.authentication_failed"
    assert "is not available on this connection" in str(abort.details)
