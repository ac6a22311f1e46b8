"""A WAMP client written out by hand over a blocking socket (RawSocket + msgpack, TLS if
asked), for the router's tests that need a client no library would be: one that stops
reading, reads slowly, or answers pings and nothing else. Run it in a thread
(``anyio.to_thread.run_sync``)."""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Iterator
from typing import Any

import msgpack

#: RawSocket opening: magic, max length 2^24 (0xF), msgpack (2).
HANDSHAKE = bytes((0x7F, 0xF2, 0, 0))
MESSAGE, PING, PONG = 0, 1, 2


class RawClient:
    """``port``'s RawSocket listener, with ``rcvbuf`` bytes of kernel receive buffer (small:
    what the client does not read holds the router back at once)."""

    def __init__(
        self,
        port: int,
        *,
        rcvbuf: int | None = None,
        timeout: float = 10,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sock = socket.socket()
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(("127.0.0.1", port))
            if tls is not None:
                self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
            self.sock.sendall(HANDSHAKE)
            assert self._exactly(4)[:2] == HANDSHAKE[:2], "the router refused the handshake"
        except BaseException:
            self.sock.close()
            raise
        self._request = 0

    def close(self) -> None:
        self.sock.close()

    def request_id(self) -> int:
        self._request += 1
        return self._request

    def send(self, message: list[Any], kind: int = MESSAGE) -> None:
        self.send_frame(msgpack.packb(message), kind)

    def send_frame(self, payload: bytes, kind: int) -> None:
        self.sock.sendall(struct.pack("!I", (kind << 24) | len(payload)) + payload)

    def join(self, realm: str = "realm1") -> None:
        roles: dict[str, Any] = {"subscriber": {}, "publisher": {}, "caller": {}, "callee": {}}
        self.send([1, realm, {"roles": roles}])
        assert next(self.messages())[0] == 2, "no WELCOME"

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """Every frame, as (kind, payload), until the router closes."""
        while True:
            head = self._exactly(4)
            yield head[0] & 7, self._exactly(int.from_bytes(head[1:], "big"))

    def messages(self) -> Iterator[list[Any]]:
        """Every WAMP message; PINGs are answered on the way."""
        for kind, payload in self.frames():
            if kind == PING:
                self.send_frame(payload, PONG)
            elif kind == MESSAGE:
                yield msgpack.unpackb(payload, strict_map_key=False)

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the router closed the connection")
            data += chunk
        return data
