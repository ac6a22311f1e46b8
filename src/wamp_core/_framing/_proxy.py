"""HTTP ``CONNECT`` tunnels through a proxy (RFC 9110 section 9.3.6), sans-IO.

A driver connects TCP to the proxy, sends :meth:`ProxyTunnel.request`, feeds what the proxy
answers to :meth:`ProxyTunnel.receive_data` until it returns the bytes after the answer (the
tunnel is open: TLS, if any, and the WebSocket handshake then go through it), and raises
:class:`~wamp_core.HandshakeError` (with the HTTP status as ``code``) when the proxy refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .._errors import HandshakeError, LocalProtocolError
from .._wire import host_header

__all__ = ["MAX_PROXY_RESPONSE", "ProxyTunnel"]

#: Largest proxy answer (status line and headers) accepted, in bytes.
MAX_PROXY_RESPONSE: Final = 16 * 1024
#: An HTTP status code: exactly three ASCII digits (RFC 9112 section 4).
_STATUS: Final = re.compile("[0-9]{3}")


class ProxyTunnel:
    """One ``CONNECT`` exchange with a proxy for ``host:port``."""

    def __init__(self, host: str, port: int, headers: Mapping[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self._headers = dict(headers or {})
        self._buffer = bytearray()
        self.status: int | None = None

    def request(self) -> bytes:
        """The ``CONNECT`` request to send to the proxy."""
        host = self.host
        if not host.isascii():  # an internationalised name travels as its A-labels (punycode)
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as exc:
                raise LocalProtocolError(f"invalid host name {host!r}: {exc}") from None
        authority = f"{host_header(host, None, secure=False)}:{self.port}"  # always the port
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        for name, value in self._headers.items():
            if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
                raise LocalProtocolError(f"invalid proxy header {name!r}")
            lines.append(f"{name}: {value}")
        try:
            return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"proxy headers must be ASCII: {exc}") from None

    def receive_data(self, data: bytes) -> bytes | None:
        """Feed the proxy's answer; ``None`` while incomplete, then the bytes that followed it.

        Raises :class:`HandshakeError` for a refusal (any status but 2xx), a malformed answer,
        an answer over :data:`MAX_PROXY_RESPONSE` bytes, or data after the tunnel is open.
        """
        if self.status is not None:
            raise LocalProtocolError("the tunnel is already open")
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_PROXY_RESPONSE:
                raise HandshakeError(
                    f"the proxy's answer exceeds {MAX_PROXY_RESPONSE} bytes without ending"
                )
            return None
        if end + 4 > MAX_PROXY_RESPONSE:
            raise HandshakeError(f"the proxy's answer exceeds {MAX_PROXY_RESPONSE} bytes")
        head = bytes(self._buffer[:end])
        rest = bytes(self._buffer[end + 4 :])
        self._buffer.clear()
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _STATUS.fullmatch(parts[1]):
            raise HandshakeError(f"the proxy's answer is not HTTP: {status_line[:80]!r}")
        status = int(parts[1])
        if not 200 <= status < 300:
            reason = parts[2] if len(parts) > 2 else ""
            raise HandshakeError(
                f"the proxy refused to connect to {self.host}:{self.port}: {status} {reason}",
                code=status,
            )
        self.status = status
        return rest
