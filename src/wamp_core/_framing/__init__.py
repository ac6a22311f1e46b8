"""The transport framing layer: RawSocket and WebSocket, sans-IO, for either role.

Framers know serializers only by name (payloads are opaque bytes); they import nothing from the
message, serializer, client or router layers.
"""

from ._events import (
    Closed as Closed,
    Framer as Framer,
    FramingEvent as FramingEvent,
    MessageReceived as MessageReceived,
    Opened as Opened,
    PongReceived as PongReceived,
    Role as Role,
)
from ._proxy import MAX_PROXY_RESPONSE as MAX_PROXY_RESPONSE, ProxyTunnel as ProxyTunnel
from ._rawsocket import RawSocket as RawSocket
from ._websocket import WebSocket as WebSocket

__all__ = [
    "Closed", "Framer", "FramingEvent", "MessageReceived", "Opened", "PongReceived", "Role",
    "RawSocket", "WebSocket", "ProxyTunnel", "MAX_PROXY_RESPONSE",
]  # fmt: skip
