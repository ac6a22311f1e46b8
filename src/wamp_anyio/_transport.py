"""Open the byte stream for a transport configuration (TCP, TLS, unix socket) with anyio."""

from __future__ import annotations

import socket

import anyio
from anyio.abc import ByteStream, SocketAttribute
from anyio.streams.tls import TLSAttribute

import wamp_core as wc

__all__ = ["open_stream"]


async def open_stream(transport: wc.TransportConfig) -> tuple[ByteStream, dict[str, bytes]]:
    """Connect to ``transport``'s endpoint; return the stream and its TLS channel ids.

    The endpoint's ``timeout`` bounds the connect (TCP and TLS handshake). Failures raise
    :class:`wamp_core.TransportError` (the ``OSError`` or TLS error chained).
    """
    endpoint = transport.endpoint
    stream: ByteStream
    try:
        with anyio.fail_after(endpoint.timeout):
            if isinstance(endpoint, wc.UnixEndpoint):
                stream = await anyio.connect_unix(endpoint.path)
                return stream, {}
            context = wc.ssl_context_for(transport)
            if context is None:
                stream = await anyio.connect_tcp(endpoint.host, endpoint.port)
            else:
                stream = await anyio.connect_tcp(
                    endpoint.host,
                    endpoint.port,
                    ssl_context=context,
                    tls_hostname=wc.server_hostname_for(transport),
                    # WAMP ends on its own close (GOODBYE, WebSocket close): a missing TLS
                    # close_notify from the router is not an error.
                    tls_standard_compatible=False,
                )
    except TimeoutError as exc:
        raise wc.TransportError(f"connecting to {endpoint.describe()} timed out") from exc
    except (OSError, anyio.BrokenResourceError) as exc:
        raise wc.TransportError(f"cannot connect to {endpoint.describe()}: {exc}") from exc
    sock = stream.extra(SocketAttribute.raw_socket)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    binding = stream.extra(TLSAttribute.channel_binding_tls_unique, None)
    return stream, wc.channel_ids(binding) if binding else {}
