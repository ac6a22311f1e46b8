"""Sans-IO WAMP-over-WebSocket client framing on top of wsproto.

One WAMP message is one WebSocket *message* (possibly fragmented). The subprotocol
``wamp.2.<serializer>`` is negotiated in the opening handshake; JSON (batched or not) travels in
TEXT messages, every other serializer in BINARY messages.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Final, NoReturn
from urllib.parse import urlsplit

import h11
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError as WsprotoError

from .._errors import (
    ConfigurationError,
    HandshakeError,
    LocalProtocolError,
    MessageTooLarge,
    PayloadTooLarge,
    RemoteProtocolError,
    WampError,
)
from .._wire import (
    DEFAULT_MAX_MESSAGE_SIZE,
    SUBPROTOCOL_PREFIX,
    TEXT_SERIALIZERS,
    WEBSOCKET_RESERVED_HEADERS,
    WEBSOCKET_SERIALIZER_NAMES,
    host_header,
    subprotocol_for,
)
from ._events import (
    Closed,
    FramingEvent,
    MessageReceived,
    Opened,
    PongReceived,
)

__all__ = ["WebSocketClient", "DEFAULT_MAX_MESSAGE_SIZE", "subprotocol_for"]

logger = logging.getLogger(__name__)

_MAX_CONTROL_PAYLOAD: Final = 125
_MAX_CLOSE_REASON: Final = 123  # bytes of UTF-8 after the 2-byte code
_STATUS_LINE_LIMIT: Final = 1024
_REJECT_BODY_LIMIT: Final = 1024
_REJECT_BODY_SHOWN: Final = 200

# RFC 6455 close codes an endpoint may send (7.4.1 minus the reserved/local-only ones) ...
_SENDABLE_CLOSE_CODES: Final = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
# ... plus the registered/private range 3000-4999.
_CLOSE_PROTOCOL_ERROR: Final = 1002
_CLOSE_UNSUPPORTED_DATA: Final = 1003
_CLOSE_MESSAGE_TOO_BIG: Final = 1009
_CLOSE_ABNORMAL: Final = 1006


class _State(enum.Enum):
    IDLE = "idle"  # before initiate()
    CONNECTING = "connecting"  # upgrade request queued, waiting for the response
    OPEN = "open"
    CLOSING = "closing"  # we sent a close frame, waiting for the server's
    CLOSED = "closed"
    ERROR = "error"


def _check_serializers(serializers: str | Sequence[str]) -> tuple[str, ...]:
    names = (serializers,) if isinstance(serializers, str) else tuple(serializers)
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
    return names


def _host_header(host: str, port: int, secure: bool) -> str:
    if not isinstance(host, str) or not host:
        raise ConfigurationError(f"host must be a non-empty str, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigurationError(f"port must be an int from 1 to 65535, not {port!r}")
    return host_header(host, port, secure)


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


def _check_close(code: int, reason: str) -> None:
    """Raise LocalProtocolError unless ``code``/``reason`` may go into a close frame."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise LocalProtocolError(f"close code must be an int, not {code!r}")
    if code not in _SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
        raise LocalProtocolError(f"WebSocket close code {code} may not be sent")
    if not isinstance(reason, str):
        raise LocalProtocolError(f"close reason must be a str, not {reason!r}")
    try:
        size = len(reason.encode("utf-8"))
    except UnicodeEncodeError:
        raise LocalProtocolError("close reason is not encodable as UTF-8") from None
    if size > _MAX_CLOSE_REASON:
        raise LocalProtocolError(
            f"WebSocket close reason is longer than {_MAX_CLOSE_REASON} bytes of UTF-8"
        )


class WebSocketClient:
    """The client side of one WAMP-over-WebSocket connection (implements ``Framer``).

    ``serializers`` are offered in preference order as ``wamp.2.<name>`` subprotocols; the
    server must select one of them. ``host``/``port``/``secure`` build the ``Host`` header (the
    port appears only when it is not the scheme's default) and ``path`` is the request target
    (path plus optional query). ``extra_headers`` are sent with the upgrade request.

    WebSocket negotiates no message size, so ``max_message_size`` bounds both directions:
    a received message above it closes the connection with 1009 and raises
    :class:`~wamp_core.PayloadTooLarge`; :meth:`send_message` refuses larger payloads (this is
    the ``max_send_size`` of :class:`Opened`). Pings from the server are answered automatically.
    """

    def __init__(
        self,
        serializers: str | Sequence[str],
        *,
        host: str,
        port: int | None = None,
        path: str = "/",
        secure: bool = False,
        extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self._serializers = _check_serializers(serializers)
        if port is None:
            port = 443 if secure else 80
        self._host_header = _host_header(host, port, secure)
        if not isinstance(path, str) or not path.startswith("/") or not path.isascii():
            raise ConfigurationError(f"path must be an ASCII str starting with '/', not {path!r}")
        self._path = path
        self._extra_headers = _check_headers(extra_headers)
        try:  # let h11 validate the Host, target and header syntax now, not at initiate()
            h11.Request(
                method="GET",
                target=path,
                headers=[(b"Host", self._host_header.encode("idna")), *self._extra_headers],
            )
        except (h11.LocalProtocolError, UnicodeError) as exc:
            raise ConfigurationError(f"invalid WebSocket upgrade request: {exc}") from None
        if (
            isinstance(max_message_size, bool)
            or not isinstance(max_message_size, int)
            or max_message_size < 1
        ):
            raise ConfigurationError(
                f"max_message_size must be a positive int, not {max_message_size!r}"
            )
        self._max_message_size = max_message_size
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._state = _State.IDLE
        self._error: WampError | None = None
        self._serializer: str | None = None
        self._text = False
        self._status_line = bytearray()
        self._message = bytearray()
        self._outbuf = bytearray()

    @classmethod
    def from_url(
        cls,
        url: str,
        serializers: str | Sequence[str],
        *,
        extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> WebSocketClient:
        """Build a client from a ``ws://`` or ``wss://`` URL."""
        try:
            split = urlsplit(url)
            port = split.port
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"invalid WebSocket URL {url!r}: {exc}") from None
        if split.scheme not in ("ws", "wss") or not split.hostname:
            raise ConfigurationError(f"not a ws:// or wss:// URL with a host: {url!r}")
        if split.fragment:
            raise ConfigurationError(f"a WebSocket URL may not have a fragment: {url!r}")
        path = split.path or "/"
        if split.query:
            path = f"{path}?{split.query}"
        return cls(
            serializers,
            host=split.hostname,
            port=port,
            path=path,
            secure=split.scheme == "wss",
            extra_headers=extra_headers,
            max_message_size=max_message_size,
        )

    def __repr__(self) -> str:
        return (
            f"<WebSocketClient host={self._host_header!r} path={self._path!r} "
            f"state={self._state.value} serializer={self._serializer!r}>"
        )

    # -- properties -------------------------------------------------------------------------

    @property
    def serializers(self) -> tuple[str, ...]:
        """The offered serializer names, in preference order."""
        return self._serializers

    @property
    def serializer(self) -> str | None:
        """The negotiated serializer name (``None`` before the handshake completed)."""
        return self._serializer

    @property
    def max_message_size(self) -> int:
        """The limit for one message, both directions."""
        return self._max_message_size

    @property
    def is_open(self) -> bool:
        """True after the opening handshake until closing starts or the connection fails."""
        return self._state is _State.OPEN

    @property
    def closed(self) -> bool:
        """True once the close handshake completed, the peer hung up, or a failure occurred."""
        return self._state in (_State.CLOSED, _State.ERROR)

    # -- commands ---------------------------------------------------------------------------

    def initiate(self) -> None:
        """Queue the HTTP upgrade request."""
        if self._state is not _State.IDLE:
            raise LocalProtocolError(f"initiate() called twice (state: {self._state.value})")
        request = Request(
            host=self._host_header,
            target=self._path,
            subprotocols=[subprotocol_for(name) for name in self._serializers],
            extra_headers=list(self._extra_headers),
        )
        self._outbuf += self._ws.send(request)
        self._state = _State.CONNECTING

    def send_message(self, payload: bytes) -> None:
        """Queue one WAMP message (TEXT for JSON, BINARY otherwise)."""
        if self._state is not _State.OPEN:
            raise LocalProtocolError(
                f"cannot send a message: the WebSocket connection is {self._state.value}"
            )
        size = len(payload)
        if size > self._max_message_size:
            raise MessageTooLarge(
                f"message of {size} bytes exceeds max_message_size ({self._max_message_size})"
            )
        if self._text:
            try:
                text = bytes(payload).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LocalProtocolError(
                    f"a {self._serializer} message must be UTF-8 text: {exc}"
                ) from None
            self._outbuf += self._ws.send(TextMessage(data=text))
        else:
            self._outbuf += self._ws.send(BytesMessage(data=bytes(payload)))

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a ping (at most 125 bytes); the answer arrives as ``PongReceived``."""
        if self._state is not _State.OPEN:
            raise LocalProtocolError(
                f"cannot send a ping: the WebSocket connection is {self._state.value}"
            )
        if len(payload) > _MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError(
                f"a WebSocket ping carries at most {_MAX_CONTROL_PAYLOAD} bytes, not {len(payload)}"
            )
        self._outbuf += self._ws.send(Ping(payload=bytes(payload)))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake; ``Closed(clean=True)`` follows the server's reply.

        Before the connection opened this abandons the handshake (nothing to send). Once closing,
        closed or failed it does nothing.
        """
        state = self._state
        if state is _State.OPEN:
            _check_close(code, reason)
            self._outbuf += self._ws.send(CloseConnection(code=code, reason=reason))
            self._state = _State.CLOSING
        elif state in (_State.IDLE, _State.CONNECTING):
            self._state = _State.CLOSED

    def data_to_send(self) -> bytes:
        """Drain the outgoing bytes."""
        data = bytes(self._outbuf)
        self._outbuf.clear()
        return data

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[FramingEvent]:
        """Feed bytes from the server; return the events they completed."""
        state = self._state
        if state is _State.ERROR:
            raise RemoteProtocolError(f"the WebSocket connection already failed: {self._error}")
        if state is _State.IDLE:
            raise LocalProtocolError("receive_data() before initiate()")
        if state is _State.CLOSED or not data:
            return []
        if state is _State.CONNECTING:
            self._capture_status_line(data)
        try:
            self._ws.receive_data(data)
        except WsprotoError as exc:
            self._handshake_failed(exc)
        events: list[FramingEvent] = []
        ws_events = list(self._ws.events())
        for index, event in enumerate(ws_events):
            if self._handle(event, ws_events, index, events):
                break
        return events

    def _capture_status_line(self, data: bytes) -> None:
        line = self._status_line
        if b"\r\n" not in line and len(line) < _STATUS_LINE_LIMIT:
            line += data[: _STATUS_LINE_LIMIT - len(line)]

    def _handle(
        self, event: Event, ws_events: list[Event], index: int, out: list[FramingEvent]
    ) -> bool:
        """Translate one wsproto event; return True when nothing after it matters."""
        if isinstance(event, (BytesMessage, TextMessage)):
            self._on_data(event, out)
        elif isinstance(event, Ping):
            if self._ws.state is ConnectionState.OPEN:
                self._outbuf += self._ws.send(event.response())
        elif isinstance(event, Pong):
            out.append(PongReceived(bytes(event.payload)))
        elif isinstance(event, CloseConnection):
            self._on_close(event, out)
            return True
        elif isinstance(event, AcceptConnection):
            out.append(self._on_accept(event))
        elif isinstance(event, RejectConnection):
            self._on_reject(event, ws_events[index + 1 :])
        return False

    def _on_accept(self, event: AcceptConnection) -> Opened:
        offered = [subprotocol_for(name) for name in self._serializers]
        subprotocol = event.subprotocol
        if subprotocol is None:
            self._fail(
                HandshakeError(
                    "the WebSocket server selected no subprotocol (offered: "
                    f"{', '.join(offered)}); it speaks none of our serializers",
                ),
            )
        # wsproto already rejected a subprotocol we did not offer.
        serializer = subprotocol[len(SUBPROTOCOL_PREFIX) :]
        self._serializer = serializer
        self._text = serializer in TEXT_SERIALIZERS
        self._state = _State.OPEN
        self._status_line.clear()
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.extra_headers
        )
        logger.debug("WebSocket open: subprotocol=%s", subprotocol)
        return Opened(serializer, self._max_message_size, subprotocol, headers)

    def _on_reject(self, event: RejectConnection, following: list[Event]) -> NoReturn:
        status = event.status_code
        reason = ""
        parts = bytes(self._status_line).split(b"\r\n", 1)[0].split(b" ", 2)
        if len(parts) == 3:
            reason = parts[2].decode("latin-1").strip()
        if not reason:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "(no reason phrase)"
        message = f"the WebSocket upgrade was refused: HTTP {status} {reason}"
        for name, value in event.headers:
            if name.lower() == b"location":
                message += f" (Location: {value.decode('latin-1')})"
        body = bytearray()
        for item in following:  # only the body bytes that arrived with the status line
            if isinstance(item, RejectData) and len(body) < _REJECT_BODY_LIMIT:
                body += item.data[: _REJECT_BODY_LIMIT - len(body)]
        text = " ".join(body.decode("utf-8", errors="replace").split())
        if text:
            if len(text) > _REJECT_BODY_SHOWN:
                text = text[:_REJECT_BODY_SHOWN] + "..."
            message += f": {text}"
        self._fail(HandshakeError(message, code=status), send_close=False)

    def _on_data(self, event: BytesMessage | TextMessage, out: list[FramingEvent]) -> None:
        is_text = isinstance(event, TextMessage)
        if is_text != self._text:
            got, want = ("TEXT", "BINARY") if is_text else ("BINARY", "TEXT")
            self._fail(
                RemoteProtocolError(
                    f"received a WebSocket {got} message, but {self._serializer} messages "
                    f"travel as {want}"
                ),
                close_code=_CLOSE_UNSUPPORTED_DATA,
            )
        chunk = event.data.encode("utf-8") if isinstance(event.data, str) else event.data
        message = self._message
        if len(message) + len(chunk) > self._max_message_size:
            self._fail(
                PayloadTooLarge(
                    f"received WebSocket message exceeds max_message_size "
                    f"({self._max_message_size} bytes)"
                ),
                close_code=_CLOSE_MESSAGE_TOO_BIG,
            )
        if event.message_finished and not message:
            out.append(MessageReceived(bytes(chunk)))
            return
        message += chunk
        if event.message_finished:
            out.append(MessageReceived(bytes(message)))
            message.clear()

    def _on_close(self, event: CloseConnection, out: list[FramingEvent]) -> None:
        ws_state = self._ws.state
        if ws_state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            # wsproto reports its own parse failures as a CloseConnection without a state change.
            self._fail(
                RemoteProtocolError(f"invalid WebSocket data from the server: {event.reason}"),
                close_code=event.code,
            )
        if ws_state is ConnectionState.REMOTE_CLOSING:
            self._outbuf += self._ws.send(event.response())
        self._state = _State.CLOSED
        self._message.clear()
        code = int(event.code)  # wsproto reports a close frame without a code as 1005
        logger.debug("WebSocket closed by the server: %s %s", code, event.reason)
        out.append(Closed(code, event.reason or "", True))

    def _handshake_failed(self, exc: WsprotoError) -> NoReturn:
        message = str(exc)
        if message.startswith("unrecognized subprotocol"):
            offered = ", ".join(subprotocol_for(name) for name in self._serializers)
            self._fail(
                HandshakeError(
                    f"the WebSocket server selected a subprotocol we did not offer "
                    f"({message.removeprefix('unrecognized subprotocol').strip()!r}; "
                    f"offered: {offered})",
                ),
                send_close=False,
            )
        self._fail(
            RemoteProtocolError(f"invalid WebSocket upgrade response: {message}"), send_close=False
        )

    def receive_eof(self) -> list[FramingEvent]:
        """The server closed TCP: ``[Closed(1006, ..., clean=False)]`` unless a close handshake
        completed (``[]``). Raises ``HandshakeError`` during the opening handshake."""
        state = self._state
        if state in (_State.ERROR, _State.CLOSED):
            return []
        if state in (_State.IDLE, _State.CONNECTING):
            self._fail(
                HandshakeError("the connection was closed during the WebSocket opening handshake"),
                send_close=False,
            )
        self._state = _State.CLOSED
        self._message.clear()
        return [Closed(_CLOSE_ABNORMAL, "connection closed without a WebSocket close frame", False)]

    def _fail(
        self, exc: WampError, *, close_code: int = _CLOSE_PROTOCOL_ERROR, send_close: bool = True
    ) -> NoReturn:
        """Enter the terminal error state, queue a close frame if possible, then raise."""
        self._state = _State.ERROR
        self._error = exc
        self._message.clear()
        self._status_line.clear()
        if send_close and self._ws.state is ConnectionState.OPEN:
            reason = str(exc).encode("utf-8")[:_MAX_CLOSE_REASON].decode("utf-8", "ignore")
            self._outbuf += self._ws.send(CloseConnection(code=close_code, reason=reason))
        logger.debug("WebSocket connection failed: %s", exc)
        raise exc
