"""Build the framer and :class:`Connection` for a parsed transport configuration.

Drivers (and hand-written loops) share this, so that what a transport dict means is decided in
one place: which framer, which serializers in which order, what limits and headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from .._config._transports import TransportConfig
from .._framing._events import Framer, Role
from .._framing._rawsocket import RawSocket
from .._framing._websocket import WebSocket
from .._wire import DEFAULT_MAX_MESSAGE_SIZE
from ..auth import Authenticator
from ._connection import Connection

__all__ = ["make_framer", "make_connection", "DEFAULT_MAX_MESSAGE_SIZE"]


def make_framer(transport: TransportConfig) -> Framer:
    """The sans-IO framer for ``transport`` (RawSocket or WebSocket client)."""
    max_size = int(transport.options.get("max_message_size", DEFAULT_MAX_MESSAGE_SIZE))
    if transport.type == "rawsocket":
        return RawSocket(
            Role.CLIENT, serializer=transport.serializers[0], max_receive_size=max_size
        )
    url = urlsplit(transport.url or "")
    host = url.hostname or "localhost"  # a websocket transport always has a URL with a host
    return WebSocket(
        Role.CLIENT,
        serializers=list(transport.serializers),
        host=host,
        port=url.port,
        path=transport.resource,
        secure=url.scheme == "wss",
        extra_headers=list(transport.headers.items()),
        max_message_size=max_size,
    )


def make_connection(
    transport: TransportConfig,
    *,
    realm: str | None = None,
    authenticators: Sequence[Authenticator] = (),
    channel_ids: Mapping[str, bytes] | None = None,
) -> Connection:
    """A :class:`Connection` over the framer for ``transport``, joining ``realm`` once open
    (:meth:`Connection.join`)."""
    conn = Connection(make_framer(transport), channel_ids=channel_ids)
    if realm is not None:
        conn.join(realm, authenticators)
    return conn
