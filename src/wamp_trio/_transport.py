"""Open the byte stream for a transport configuration with trio: ``trio.open_tcp_stream``
(happy eyeballs), ``trio.open_unix_socket``, ``trio.SSLStream`` for TLS, an HTTP ``CONNECT``
tunnel through a proxy.

A plain connection's socket is then driven directly (:class:`wamp_core.driver.DirectSocketStream`:
no scheduler round trip when the kernel is ready); a TLS one stays a ``trio.SSLStream``.
"""

from __future__ import annotations

import socket
from typing import Any

import trio

import wamp_core as wc
from wamp_core import driver

from ._runtime import RUNTIME

__all__ = ["TrioStream", "open_stream"]


class TrioStream:
    """A trio stream (``send_all``/``receive_some``) as a :class:`wamp_core.driver.Stream`."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream

    async def send(self, item: bytes) -> None:
        await self.stream.send_all(item)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        data = await self.stream.receive_some(max_bytes)
        if not data:
            raise driver.EndOfStream
        return bytes(data)

    async def aclose(self) -> None:
        await self.stream.aclose()


def _direct(stream: trio.SocketStream) -> driver.DirectSocketStream:
    """The connected socket of ``stream``, taken over by a direct stream."""
    sock = socket.socket(fileno=stream.socket.detach())
    return driver.DirectSocketStream(sock, RUNTIME)


async def open_stream(transport: wc.TransportConfig) -> tuple[driver.Stream, dict[str, bytes]]:
    """Connect to ``transport``'s endpoint; return the stream and its TLS channel ids.

    The endpoint's ``timeout`` bounds the connect (TCP, proxy tunnel, TLS handshake). Failures
    raise :class:`wamp_core.TransportError` (the ``OSError`` or TLS error chained;
    :class:`wamp_core.HandshakeError` when the proxy refuses).
    """
    endpoint = transport.endpoint
    try:
        with trio.fail_after(endpoint.timeout):
            if isinstance(endpoint, wc.MemoryEndpoint):
                return driver.connect_memory(endpoint.name, RUNTIME), {}
            if isinstance(endpoint, wc.UnixEndpoint):
                return _direct(await trio.open_unix_socket(endpoint.path)), {}
            context = wc.ssl_context_for(transport)
            if transport.proxy is not None:
                tcp = await trio.open_tcp_stream(transport.proxy.host, transport.proxy.port)
                await _tunnel(tcp, endpoint.host, endpoint.port)
            else:
                sock = await driver.connect_tcp_socket(
                    RUNTIME, endpoint.host, endpoint.port, version=endpoint.version
                )
                if context is None:
                    return driver.DirectSocketStream(sock, RUNTIME), {}
                tcp = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
            if context is None:
                return _direct(tcp), {}
            # WAMP ends on its own close (GOODBYE, WebSocket close): a missing TLS close_notify
            # from the router is not an error.
            try:
                tls = trio.SSLStream(
                    tcp, context, server_hostname=wc.server_hostname_for(transport),
                    https_compatible=True,
                )  # fmt: skip
            except BaseException:
                await trio.aclose_forcefully(tcp)
                raise
            try:
                await tls.do_handshake()
            except BaseException:
                await trio.aclose_forcefully(tls)
                raise
            binding = tls.get_channel_binding("tls-unique")
            return TrioStream(tls), wc.channel_ids(binding) if binding else {}
    except trio.TooSlowError:
        error = driver.connect_timed_out(transport)
        raise error from error.__cause__
    except wc.HandshakeError:
        raise
    except (OSError, trio.BrokenResourceError, driver.EndOfStream) as exc:
        error = driver.cannot_connect(transport, exc)
        raise error from error.__cause__


async def _tunnel(tcp: trio.SocketStream, host: str, port: int) -> None:
    """HTTP ``CONNECT`` to ``host``:``port`` through the proxy at the other end of ``tcp``."""
    try:
        tunnel = wc.ProxyTunnel(host, port)
        await tcp.send_all(tunnel.request())
        rest: Any = None
        while rest is None:
            data = await tcp.receive_some(65536)
            if not data:
                raise driver.EndOfStream("the proxy closed the connection")
            rest = tunnel.receive_data(bytes(data))
        if rest:
            raise wc.HandshakeError("the proxy sent data before the tunnel carried any")
    except BaseException:
        await trio.aclose_forcefully(tcp)
        raise
