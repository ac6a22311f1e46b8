"""Wire facts every layer agrees on, defined once: serializer names and their ids, size limits,
WebSocket handshake rules, and how long a peer remembers IDs that ended (for late messages).

A leaf module: it imports nothing from the rest of the package, so messages, serializers,
framing, configuration, client and router all read the same table.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import Final
from urllib.parse import SplitResult

__all__ = [
    "BASE_SERIALIZERS",
    "BATCHABLE_SERIALIZERS",
    "SERIALIZER_NAMES",
    "RAWSOCKET_SERIALIZER_IDS",
    "RAWSOCKET_SERIALIZER_NAMES",
    "WEBSOCKET_SERIALIZER_NAMES",
    "TEXT_SERIALIZERS",
    "SUBPROTOCOL_PREFIX",
    "subprotocol_for",
    "serializer_for_subprotocol_name",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "RAWSOCKET_MIN_MESSAGE_SIZE",
    "RAWSOCKET_MAX_MESSAGE_SIZE",
    "WEBSOCKET_RESERVED_HEADERS",
    "DEFAULT_PORTS",
    "host_header",
    "RECENT_MAX",
    "RecentIds",
    "request_target",
]

#: The serializers of the spec, each with its RawSocket id (the low nibble of the handshake's
#: second octet). Order is the id order.
RAWSOCKET_SERIALIZER_IDS: Final = {
    "json": 1,
    "msgpack": 2,
    "cbor": 3,
    "ubjson": 4,
    "flatbuffers": 5,
}
BASE_SERIALIZERS: Final = tuple(RAWSOCKET_SERIALIZER_IDS)
#: RawSocket carries exactly the base serializers.
RAWSOCKET_SERIALIZER_NAMES: Final = BASE_SERIALIZERS
#: Serializers with a batched WebSocket variant (FlatBuffers has none: not in the spec, not
#: offered by Autobahn or Crossbar).
BATCHABLE_SERIALIZERS: Final = ("json", "msgpack", "cbor", "ubjson")
#: Every serializer name: the base ones, then ``<name>.batched``.
SERIALIZER_NAMES: Final = (*BASE_SERIALIZERS, *(f"{n}.batched" for n in BATCHABLE_SERIALIZERS))
#: WebSocket carries every serializer; the subprotocol is ``wamp.2.<name>``.
WEBSOCKET_SERIALIZER_NAMES: Final = SERIALIZER_NAMES
#: Serializers whose WebSocket messages are TEXT frames (all others are BINARY).
TEXT_SERIALIZERS: Final = frozenset({"json", "json.batched"})
SUBPROTOCOL_PREFIX: Final = "wamp.2."

#: Default limit of one WAMP message in either direction: 16 MiB, as Crossbar's default.
DEFAULT_MAX_MESSAGE_SIZE: Final = 2**24
#: The RawSocket handshake can announce limits from 2**9 to 2**24 bytes.
RAWSOCKET_MIN_MESSAGE_SIZE: Final = 2**9
RAWSOCKET_MAX_MESSAGE_SIZE: Final = 2**24

#: Headers the WebSocket opening handshake sets itself (lower case): user headers may not.
WEBSOCKET_RESERVED_HEADERS: Final = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "content-length",
        "transfer-encoding",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "sec-websocket-accept",
    }
)

#: Default TCP port of each URL scheme.
DEFAULT_PORTS: Final = {"ws": 80, "wss": 443, "rs": 80, "rss": 443}


def subprotocol_for(serializer: str) -> str:
    """The WebSocket subprotocol of a serializer name: ``"cbor"`` -> ``"wamp.2.cbor"``."""
    return SUBPROTOCOL_PREFIX + serializer


def serializer_for_subprotocol_name(subprotocol: object) -> str | None:
    """The serializer name of a ``wamp.2.<name>`` subprotocol, or None if it is not one."""
    if isinstance(subprotocol, str) and subprotocol.startswith(SUBPROTOCOL_PREFIX):
        name = subprotocol[len(SUBPROTOCOL_PREFIX) :]
        if name in SERIALIZER_NAMES:
            return name
    return None


def host_header(host: str, port: int | None, secure: bool) -> str:
    """The HTTP ``Host`` value for a connection: an IPv6 literal in brackets, the port only when
    it is not the scheme's default (RFC 7230 5.4)."""
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    if port is None or port == (443 if secure else 80):
        return host
    return f"{host}:{port}"


def request_target(url: SplitResult) -> str:
    """The request target of a WebSocket opening handshake: path (default ``/``) plus query."""
    path = url.path or "/"
    return f"{path}?{url.query}" if url.query else path


#: IDs a peer remembers after their request, call or stream ended, to recognise late messages.
RECENT_MAX: Final = 1024


class RecentIds:
    """A bounded set of recently finished IDs (the oldest forgotten first), to tolerate
    messages that were already on their way when something ended.

    A set for the look-ups and a queue for the order: adding is O(1) on the hot path (an
    answered invocation adds its ID). Forgetting the oldest from the front of an
    insertion-ordered dict was not: its iterator skips every slot deleted before it.
    """

    __slots__ = ("_ids", "_order", "newest_forgotten")

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._order: deque[int] = deque()
        #: The highest ID forgotten so far (0: none): for IDs handed out in increasing order,
        #: one not above it may have been held (see :meth:`may_hold`).
        self.newest_forgotten = 0

    def add(self, key: int) -> None:
        ids = self._ids
        if key in ids:
            return
        ids.add(key)
        order = self._order
        order.append(key)
        if len(order) > RECENT_MAX:
            forgotten = order.popleft()
            ids.discard(forgotten)
            self.newest_forgotten = max(self.newest_forgotten, forgotten)

    def discard(self, key: int) -> None:
        if key in self._ids:
            self._ids.discard(key)
            self._order.remove(key)  # (rare: at most RECENT_MAX entries to scan)

    def __contains__(self, key: int) -> bool:
        return key in self._ids

    def may_hold(self, key: int) -> bool:
        """Whether ``key`` is held, or may have been and was forgotten (it is not above an ID
        forgotten already): a late message for it is tolerated, not taken for a violation."""
        return key in self._ids or key <= self.newest_forgotten

    def __len__(self) -> int:
        return len(self._ids)
