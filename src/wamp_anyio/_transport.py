"""Open the byte stream for a transport configuration (TCP, TLS, unix socket) with anyio."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import anyio
from anyio.abc import ByteStream, SocketAttribute, SocketStream
from anyio.streams.tls import TLSAttribute, TLSStream

import wamp_core as wc
from wamp_core import driver

from ._direct import AsyncioSocketStream
from ._runtime import RUNTIME

__all__ = ["open_stream"]


async def open_stream(transport: wc.TransportConfig) -> tuple[driver.Stream, dict[str, bytes]]:
    """Connect to ``transport``'s endpoint; return the stream and its TLS channel ids.

    The endpoint's ``timeout`` bounds the connect (TCP, proxy tunnel, TLS handshake). Through a
    ``proxy``: TCP to the proxy, HTTP ``CONNECT`` to the endpoint, then TLS with the endpoint.
    Failures raise :class:`wamp_core.TransportError` (the ``OSError`` or TLS error chained;
    :class:`wamp_core.HandshakeError` when the proxy refuses).
    """
    endpoint = transport.endpoint
    stream: ByteStream
    try:
        with anyio.fail_after(endpoint.timeout):
            if isinstance(endpoint, wc.MemoryEndpoint):
                return driver.connect_memory(endpoint.name, RUNTIME), {}
            if isinstance(endpoint, wc.UnixEndpoint):
                unix = await driver.connect_socket(
                    RUNTIME, socket.AF_UNIX, endpoint.path, AsyncioSocketStream
                )
                return unix, {}
            context = wc.ssl_context_for(transport)
            if transport.proxy is not None:
                stream = await _through_proxy(transport, context)
            elif context is None:
                tcp = await driver.connect_tcp(
                    RUNTIME, endpoint.host, endpoint.port, AsyncioSocketStream,
                    version=endpoint.version,
                )  # fmt: skip
                return tcp, {}
            else:
                sock = await driver.connect_tcp_socket(
                    RUNTIME, endpoint.host, endpoint.port, version=endpoint.version
                )
                try:
                    tcp_stream = await SocketStream.from_socket(sock)
                except BaseException:
                    sock.close()
                    raise
                stream = await _tls(tcp_stream, transport, context)
    except TimeoutError:
        error = driver.connect_timed_out(transport)
        raise error from error.__cause__
    except wc.HandshakeError:
        raise
    except (OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
        error = driver.cannot_connect(transport, exc)
        raise error from error.__cause__
    sock = stream.extra(SocketAttribute.raw_socket)  # the proxy's socket, through a proxy
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    binding = stream.extra(TLSAttribute.channel_binding_tls_unique, None)
    return stream, wc.channel_ids(binding) if binding else {}


async def _through_proxy(transport: wc.TransportConfig, context: ssl.SSLContext | None) -> Any:
    """TCP to the proxy, ``CONNECT`` to the endpoint, then TLS with the endpoint (if any)."""
    proxy = transport.proxy
    endpoint = transport.endpoint
    assert proxy is not None and isinstance(endpoint, wc.TcpEndpoint)
    stream: Any = await anyio.connect_tcp(proxy.host, proxy.port)
    try:
        tunnel = wc.ProxyTunnel(endpoint.host, endpoint.port)
        await stream.send(tunnel.request())
        rest: bytes | None = None
        while rest is None:
            try:
                data = await stream.receive()
            except anyio.EndOfStream:
                raise anyio.EndOfStream("the proxy closed the connection") from None
            rest = tunnel.receive_data(data)
        if rest:
            raise wc.HandshakeError("the proxy sent data before the tunnel carried any")
        if context is not None:
            stream = await _tls(stream, transport, context)
    except BaseException:
        await anyio.aclose_forcefully(stream)
        raise
    return stream


async def _tls(stream: Any, transport: wc.TransportConfig, context: ssl.SSLContext) -> Any:
    """The TLS handshake over ``stream`` (closed if it fails)."""
    try:
        return await TLSStream.wrap(
            stream,
            hostname=wc.server_hostname_for(transport),
            ssl_context=context,
            # WAMP ends on its own close (GOODBYE, WebSocket close): a missing TLS
            # close_notify from the router is not an error.
            standard_compatible=False,
        )
    except BaseException:
        await anyio.aclose_forcefully(stream)
        raise
