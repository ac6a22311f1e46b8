"""The WebSocket opening handshake of either role, as plain functions over values.

Client side: validating what goes into the upgrade request, and describing a refused upgrade.
Server side: delimiting the request head, choosing the subprotocol, matching the path, exporting
the request headers, and the bytes of a refusal. :mod:`._websocket` keeps the state.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Final
from urllib.parse import urlsplit

import h11
from wsproto import WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.utilities import (
    LocalProtocolError as WsprotoLocalError,
    RemoteProtocolError as WsprotoError,
)

from .._errors import ConfigurationError, HandshakeError, RemoteProtocolError, WampError
from .._wire import (
    WEBSOCKET_RESERVED_HEADERS,
    WEBSOCKET_SERIALIZER_NAMES,
    host_header,
    request_target,
    serializer_for_subprotocol_name,
    subprotocol_for,
)

__all__ = [
    "MAX_REQUEST_HEAD",
    "HEAD_END",
    "HANDSHAKE_ERRORS",
    "ClientRequest",
    "Refused",
    "check_serializers",
    "check_client_request",
    "client_request_from_url",
    "check_paths",
    "path_of",
    "choose_serializer",
    "shown_offers",
    "exported_headers",
    "rejection_response",
    "describe_rejection",
    "count_header",
    "header_fields",
    "request_head_end",
    "parse_request",
    "accept_request",
]

#: The largest upgrade request head a server buffers (h11's default incomplete-event limit).
MAX_REQUEST_HEAD: Final = 16 * 1024
#: The blank line ending an HTTP head, as h11 finds it (a bare LF is tolerated).
HEAD_END: Final = re.compile(rb"\n\r?\n")

#: Everything wsproto and h11 raise on bad handshake input: wsproto's own errors, h11's (which
#: may also refuse our answer to an odd request), and UnicodeError (wsproto decodes header values
#: as ASCII, the Host as IDNA).
HANDSHAKE_ERRORS: Final = (WsprotoError, WsprotoLocalError, h11.ProtocolError, UnicodeError)

_REJECT_BODY_SHOWN: Final = 200
_OFFERED_SHOWN: Final = 200

#: (Host header value, request target, extra headers) of a client's upgrade request.
ClientRequest = tuple[str, str, list[tuple[bytes, bytes]]]


def check_serializers(serializers: object) -> tuple[str, ...]:
    """The serializer names, validated: one str or a non-empty sequence without duplicates."""
    if serializers is None:
        raise ConfigurationError("serializers= is required (names such as 'cbor', 'json')")
    if isinstance(serializers, str):
        names: tuple[object, ...] = (serializers,)
    elif isinstance(serializers, Sequence):
        names = tuple(serializers)
    else:
        raise ConfigurationError(f"serializers must be a str or a sequence, not {serializers!r}")
    if not names:
        raise ConfigurationError("serializers must name at least one serializer")
    for name in names:
        if name not in WEBSOCKET_SERIALIZER_NAMES:
            known = ", ".join(WEBSOCKET_SERIALIZER_NAMES)
            raise ConfigurationError(
                f"unknown WebSocket serializer {name!r} (expected some of: {known})"
            )
    if len(set(names)) != len(names):
        raise ConfigurationError(f"serializers lists a name twice: {list(names)}")
    return tuple(str(name) for name in names)


# -- client ------------------------------------------------------------------------------------


def _check_headers(
    extra_headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[tuple[bytes, bytes]]:
    items = extra_headers.items() if isinstance(extra_headers, Mapping) else extra_headers
    result: list[tuple[bytes, bytes]] = []
    for item in items:
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            raise ConfigurationError(f"extra_headers items must be (str, str) pairs, not {item!r}")
        name, value = item
        if name.lower() in WEBSOCKET_RESERVED_HEADERS:
            raise ConfigurationError(
                f"extra_headers may not set {name!r}: the WebSocket handshake sets it"
            )
        result.append((name.encode("utf-8"), value.encode("utf-8")))
    return result


def check_client_request(
    host: object,
    port: object,
    path: object,
    secure: object,
    extra_headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> ClientRequest:
    """Validate a client's upgrade request parts; h11 checks the syntax now, not at initiate()."""
    if not isinstance(host, str) or not host:
        raise ConfigurationError(f"a WebSocket client needs host=, a non-empty str, not {host!r}")
    if not isinstance(secure, bool):
        raise ConfigurationError(f"secure must be a bool, not {secure!r}")
    if port is None:
        port = 443 if secure else 80
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigurationError(f"port must be an int from 1 to 65535, not {port!r}")
    if not isinstance(path, str) or not path.startswith("/") or not path.isascii():
        raise ConfigurationError(f"path must be an ASCII str starting with '/', not {path!r}")
    host_value = host_header(host, port, secure)
    headers = _check_headers(extra_headers)
    try:
        h11.Request(
            method="GET",
            target=path,
            headers=[(b"Host", host_value.encode("idna")), *headers],
        )
    except (h11.LocalProtocolError, UnicodeError) as exc:
        raise ConfigurationError(f"invalid WebSocket upgrade request: {exc}") from None
    return host_value, path, headers


def client_request_from_url(url: str) -> tuple[str, int | None, str, bool]:
    """``(host, port, path, secure)`` of a ``ws://`` or ``wss://`` URL."""
    try:
        split = urlsplit(url)
        port = split.port
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"invalid WebSocket URL {url!r}: {exc}") from None
    if split.scheme not in ("ws", "wss") or not split.hostname:
        raise ConfigurationError(f"not a ws:// or wss:// URL with a host: {url!r}")
    if split.fragment:
        raise ConfigurationError(f"a WebSocket URL may not have a fragment: {url!r}")
    return split.hostname, port, request_target(split), split.scheme == "wss"


def describe_rejection(
    status: int, status_line: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> str:
    """The message of a HandshakeError for a refused upgrade (HTTP status other than 101)."""
    reason = ""
    parts = status_line.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(parts) == 3:
        reason = parts[2].decode("latin-1").strip()
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "(no reason phrase)"
    message = f"the WebSocket upgrade was refused: HTTP {status} {reason}"
    for name, value in headers:
        if name.lower() == b"location":
            message += f" (Location: {value.decode('latin-1')})"
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if text:
        if len(text) > _REJECT_BODY_SHOWN:
            text = text[:_REJECT_BODY_SHOWN] + "..."
        message += f": {text}"
    return message


def header_fields(head: bytes | bytearray) -> Iterator[tuple[bytes, bytes]]:
    """``(lower-case name, value)`` of every header line of an HTTP head h11 accepted."""
    for line in bytes(head).split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        yield name.strip().lower(), value.strip()


def count_header(head: bytes | bytearray, name: bytes) -> int:
    """How many header lines named ``name`` (lower case) an HTTP head holds."""
    return sum(1 for field, _ in header_fields(head) if field == name)


# -- server ------------------------------------------------------------------------------------


def check_paths(paths: object) -> frozenset[str] | None:
    """A server's accepted request paths: ``None`` (any) or paths starting with ``/``."""
    if paths is None:
        return None
    if isinstance(paths, str) or not isinstance(paths, Collection):
        raise ConfigurationError(f"paths must be a collection of str, not {paths!r}")
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/") or "?" in path:
            raise ConfigurationError(
                f"paths must hold str paths starting with '/' (no query), not {path!r}"
            )
    if not paths:
        raise ConfigurationError("paths must name at least one path (or be None for any)")
    return frozenset(paths)


def path_of(target: str) -> str:
    """The path of a request target, without its query; of an absolute-form target
    (``http://host/ws``, which a server must accept: RFC 9112 section 3.2.2) too."""
    if not target.startswith("/"):
        return urlsplit(target).path or "/"
    return target.split("?", 1)[0]


def choose_serializer(accepted: Sequence[str], offered: Iterable[str]) -> str | None:
    """The client's first offered ``wamp.2.<name>`` whose serializer is ``accepted``: its
    order is its preference (as Crossbar.io and Autobahn choose)."""
    for offer in offered:
        name = serializer_for_subprotocol_name(offer)
        if name is not None and name in accepted:
            return name
    return None


def shown_offers(offered: Sequence[str]) -> str:
    """The client's subprotocol offers, for a message (bounded: they are the peer's text)."""
    text = ", ".join(offered) or "none"
    if len(text) > _OFFERED_SHOWN:
        text = text[:_OFFERED_SHOWN] + "..."
    return repr(text)


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def exported_headers(
    host: str, headers: Iterable[tuple[bytes | str, bytes | str]]
) -> tuple[tuple[str, str], ...]:
    """The request headers a router sees: ``host`` first, then all but the handshake's own
    (names lower-case, values latin-1)."""
    result = [("host", host)]
    for name, value in headers:
        key = _text(name).lower()
        if key not in WEBSOCKET_RESERVED_HEADERS:
            result.append((key, _text(value)))
    return tuple(result)


def rejection_response(
    status: int, body: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> bytes:
    """A complete HTTP/1.1 response refusing the upgrade: short text body, connection closed."""
    data = body.encode("utf-8")
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode("ascii"),
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Length: %d" % len(data),
        b"Connection: close",
        *(name + b": " + value for name, value in headers),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


class Refused(Exception):
    """Internal to the framing layer: the server refuses the upgrade with ``response`` (a
    complete HTTP response), then fails with ``error``."""

    def __init__(
        self,
        status: int,
        body: str,
        error: WampError,
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(status, body)
        self.response = rejection_response(status, body + "\n", headers)
        self.error = error


def _bad_request(
    detail: object, status: int = 400, headers: Sequence[tuple[bytes, bytes]] = ()
) -> Refused:
    return Refused(
        status,
        "bad WebSocket upgrade request",
        RemoteProtocolError(f"invalid WebSocket upgrade request: {detail}"),
        headers,
    )


def request_head_end(head: bytearray, search_from: int) -> int | None:
    """The offset just past the request head in ``head`` (``None`` while incomplete; the
    blank line is searched from ``search_from``). Raises :class:`Refused`: 400 for a first byte
    that cannot start a request line (as h11), 431 for a head over :data:`MAX_REQUEST_HEAD`."""
    if head[0] < 0x21:
        raise _bad_request(
            f"it starts with byte 0x{head[0]:02X}, not a method (is the peer speaking TLS or "
            "another protocol?)"
        )
    match = HEAD_END.search(head, search_from)
    end = match.end() if match is not None else len(head)
    if end > MAX_REQUEST_HEAD:
        raise Refused(
            431,
            "request head too large",
            RemoteProtocolError(
                f"the WebSocket upgrade request head exceeds {MAX_REQUEST_HEAD} bytes"
            ),
        )
    return end if match is not None else None


def parse_request(ws: WSConnection, request_head: bytes) -> Request:
    """Feed a complete request head to a server-mode ``ws``; the upgrade request, or
    :class:`Refused` (wsproto's status hint: 400, or 426 for a wrong version)."""
    try:
        ws.receive_data(request_head)
        events = list(ws.events())
    except WsprotoError as exc:
        detail = str(exc)
        if isinstance(exc.__context__, h11.ProtocolError):  # wsproto's "Bad HTTP message"
            detail += f" ({exc.__context__})"
        hint = exc.event_hint
        if isinstance(hint, RejectConnection):
            raise _bad_request(detail, hint.status_code, hint.headers) from None
        raise _bad_request(detail) from None
    except HANDSHAKE_ERRORS as exc:
        if isinstance(exc, UnicodeError):  # (Python's own text differs by version)
            detail = f"a header cannot be decoded (a Host is an IDNA name): {exc}"
            raise _bad_request(detail) from None
        raise _bad_request(exc) from None
    request = events[0] if len(events) == 1 else None
    if not isinstance(request, Request):  # pragma: no cover - defensive
        raise _bad_request(f"unexpected handshake events {events!r}")
    _check_upgrade_head(request_head)
    return request


def _check_upgrade_head(request_head: bytes) -> None:
    """What RFC 6455 section 4.2.1 asks of an upgrade request beyond wsproto's checks:
    HTTP/1.1 or higher, one ``Sec-WebSocket-Key`` that is 16 bytes in base64; and no body
    (RFC 9110 section 7.8: the new protocol starts after the whole request, so a body would
    be read as frames). The head is one h11 already accepted."""
    version = request_head.split(b"\n", 1)[0].rstrip(b"\r").rpartition(b" ")[2]
    if version[5:] < b"1.1":
        raise _bad_request(f"{version.decode('latin-1')!r} cannot upgrade: HTTP/1.1 is needed")
    keys: list[bytes] = []
    for name, value in header_fields(request_head):
        if name == b"sec-websocket-key":
            keys.append(value)
        elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            raise _bad_request("an upgrade request must not have a body")
    if len(keys) != 1 or not _is_nonce(keys[0]):
        raise _bad_request("Sec-WebSocket-Key must be one base64-encoded 16-byte value")


def _is_nonce(value: bytes) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 16
    except ValueError:
        return False


def accept_request(
    ws: WSConnection,
    request: Request,
    serializers: Sequence[str],
    paths: frozenset[str] | None,
) -> tuple[str, bytes]:
    """Choose the serializer and accept ``request``: ``(serializer, 101 response bytes)``.
    :class:`Refused` with a :class:`HandshakeError`: 404 for a path not in ``paths``, 400 when
    the client offered none of ``serializers``."""
    path = path_of(request.target)
    if paths is not None and path not in paths:
        raise Refused(
            404,
            "no WAMP endpoint at this path",
            HandshakeError(
                f"the WebSocket client asked for path {path[:_OFFERED_SHOWN]!r}, which is not "
                "served",
                code=404,
            ),
        )
    serializer = choose_serializer(serializers, request.subprotocols)
    accepted = ", ".join(subprotocol_for(name) for name in serializers)
    if serializer is None:
        raise Refused(
            400,
            f"no common WAMP subprotocol; accepted: {accepted}",
            HandshakeError(
                f"the WebSocket client offered none of our subprotocols (offered: "
                f"{shown_offers(request.subprotocols)}; accepted: {accepted})",
                code=400,
            ),
        )
    try:
        response = ws.send(AcceptConnection(subprotocol=subprotocol_for(serializer)))
    except HANDSHAKE_ERRORS as exc:  # h11 refuses to switch protocols after this request
        raise _bad_request(exc) from None
    return serializer, response
