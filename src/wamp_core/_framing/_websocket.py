"""Sans-IO WAMP-over-WebSocket framing for either end.

One WAMP message is one WebSocket *message* (possibly fragmented). The subprotocol
``wamp.2.<serializer>`` is negotiated in the opening handshake; JSON (batched or not) travels in
TEXT messages, every other serializer in BINARY messages. The opening handshake (the HTTP
upgrade) goes through wsproto and depends on the role (helpers in
:mod:`._websocket_handshake`). Everything after it (messages, ping/pong, the close handshake,
limits) is one code path of our own, :class:`._wsframes.FrameCodec`: a client masks its frames,
a server does not. wsproto's per-frame work cost as much as the rest of a WAMP round trip
(``benchmarks/websocket_frames.py``); the tests check our frames against wsproto's.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Final, NoReturn

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, RejectConnection, RejectData, Request
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
from .._wire import DEFAULT_MAX_MESSAGE_SIZE, SUBPROTOCOL_PREFIX, TEXT_SERIALIZERS, subprotocol_for
from ._events import Closed, FramingEvent, Opened, Role
from ._websocket_handshake import (
    HANDSHAKE_ERRORS,
    HEAD_END,
    MAX_REQUEST_HEAD,
    Refused,
    accept_request,
    check_client_request,
    check_paths,
    check_serializers,
    client_request_from_url,
    count_header,
    describe_rejection,
    exported_headers,
    parse_request,
    request_head_end,
)
from ._wsframes import OP_CLOSE, OP_PING, FrameCodec, FrameError, close_payload

__all__ = ["WebSocket", "DEFAULT_MAX_MESSAGE_SIZE", "subprotocol_for"]

logger = logging.getLogger(__name__)

_MAX_CONTROL_PAYLOAD: Final = 125
_MAX_CLOSE_REASON: Final = 123  # bytes of UTF-8 after the 2-byte code
_REJECT_BODY_LIMIT: Final = 1024

# RFC 6455 close codes an endpoint may send (7.4.1 minus the reserved/local-only ones) ...
_SENDABLE_CLOSE_CODES: Final = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
# ... plus the registered/private range 3000-4999.
_CLOSE_PROTOCOL_ERROR: Final = 1002
_CLOSE_UNSUPPORTED_DATA: Final = 1003
_CLOSE_MESSAGE_TOO_BIG: Final = 1009
_CLOSE_ABNORMAL: Final = 1006
#: How many bytes of a response head are kept to find its end across chunks (``\n\r\n``).
_HEAD_END_CARRY: Final = 3


class _State(enum.Enum):
    IDLE = "idle"  # before initiate()
    CONNECTING = "connecting"  # client: request queued; server: waiting for the request
    OPEN = "open"
    CLOSING = "closing"  # we sent a close frame, waiting for the peer's
    CLOSED = "closed"
    ERROR = "error"


class _S:
    """_State's members as plain class attributes for the hot path: on Python 3.11
    reading an enum member goes through the enum metaclass's ``__getattr__`` hook (~4x a
    plain attribute), and every message reads several."""

    IDLE: Final = _State.IDLE
    CONNECTING: Final = _State.CONNECTING
    OPEN: Final = _State.OPEN
    CLOSING: Final = _State.CLOSING
    CLOSED: Final = _State.CLOSED
    ERROR: Final = _State.ERROR


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


class WebSocket:
    """One end of a WAMP-over-WebSocket connection (implements ``Framer``).

    **Client** (``WebSocket(Role.CLIENT, serializers=[...], host=..., port=None, path="/",
    secure=False, extra_headers=(), max_message_size=...)``): ``serializers`` are offered in
    preference order as ``wamp.2.<name>`` subprotocols and the server must select one of them.
    ``host``/``port``/``secure`` build the ``Host`` header (the port appears only when it is not
    the scheme's default); ``path`` is the request target (path plus optional query);
    ``extra_headers`` go with the upgrade request.

    **Server** (``WebSocket(Role.SERVER, serializers=[...], paths=None, max_message_size=...)``):
    reads the upgrade request (its head bounded to 16 KiB) and selects the first of its
    ``serializers`` (server preference) that the client offered. It refuses, by queueing a
    complete HTTP response with a short text body and raising
    :class:`~wamp_core.HandshakeError` with ``code`` set to the status: a path not in ``paths``
    (404; ``None`` accepts any path, the query is ignored) and no common subprotocol (400). A
    request that is not a valid WebSocket upgrade gets 400 (426 for a wrong version, 431 for an
    oversized head) and raises :class:`~wamp_core.RemoteProtocolError`. :class:`Opened` carries
    the request ``path`` and ``request_headers``; a router that dislikes them after all closes
    the connection (e.g. with 1008).

    Role-specific arguments given to the other role raise :class:`~wamp_core.ConfigurationError`.

    Both roles: WebSocket negotiates no message size, so ``max_message_size`` bounds both
    directions. A received message above it (counted as its fragments arrive) closes the
    connection with 1009 and raises :class:`~wamp_core.PayloadTooLarge`; :meth:`send_message`
    refuses larger payloads (this is the ``max_send_size`` of :class:`Opened`). Pings are
    answered automatically.
    """

    def __init__(
        self,
        role: Role,
        *,
        serializers: str | Sequence[str],
        host: str | None = None,
        port: int | None = None,
        path: str | None = None,
        secure: bool | None = None,
        extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        paths: Collection[str] | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        if not isinstance(role, Role):
            raise ConfigurationError(f"role must be Role.CLIENT or Role.SERVER, not {role!r}")
        self._role = role
        self._serializers = check_serializers(serializers)
        self._host_header: str | None = None
        self._path: str | None = None
        self._extra_headers: list[tuple[bytes, bytes]] = []
        self._paths: frozenset[str] | None = None
        if role is Role.CLIENT:
            if paths is not None:
                raise ConfigurationError("paths= is for Role.SERVER (the accepted request paths)")
            self._host_header, self._path, self._extra_headers = check_client_request(
                host,
                port,
                "/" if path is None else path,
                False if secure is None else secure,
                () if extra_headers is None else extra_headers,
            )
        else:
            client_only = {
                "host": host,
                "port": port,
                "path": path,
                "secure": secure,
                "extra_headers": extra_headers,
            }
            given = [f"{name}=" for name, value in client_only.items() if value is not None]
            if given:
                raise ConfigurationError(
                    f"{', '.join(given)} only apply to Role.CLIENT (a server reads the request; "
                    "restrict its path with paths=)"
                )
            self._paths = check_paths(paths)
        if (
            isinstance(max_message_size, bool)
            or not isinstance(max_message_size, int)
            or max_message_size < 1
        ):
            raise ConfigurationError(
                f"max_message_size must be a positive int, not {max_message_size!r}"
            )
        self._max_message_size = max_message_size
        self._ws = WSConnection(
            ConnectionType.CLIENT if role is Role.CLIENT else ConnectionType.SERVER
        )
        self._state = _S.IDLE
        self._error: WampError | None = None
        self._serializer: str | None = None
        self._text = False
        self._head = bytearray()  # the response head (client) or the request head (server)
        self._head_carry = b""  # client: the last bytes of the response head so far
        self._out: list[bytes] = []
        # The data path (rebuilt for the negotiated serializer once the upgrade succeeded).
        self._frames = self._frame_codec()
        self._may_send_close = False  # upgraded, and no close frame sent or received yet

    def _frame_codec(self) -> FrameCodec:
        return FrameCodec(
            client=self._role is Role.CLIENT,
            text=self._text,
            max_message_size=self._max_message_size,
            out=self._out,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        serializers: str | Sequence[str],
        *,
        extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> WebSocket:
        """A client-role framer for a ``ws://`` or ``wss://`` URL."""
        host, port, path, secure = client_request_from_url(url)
        return WebSocket(
            Role.CLIENT,
            serializers=serializers,
            host=host,
            port=port,
            path=path,
            secure=secure,
            extra_headers=extra_headers,
            max_message_size=max_message_size,
        )

    def __repr__(self) -> str:
        where = f"host={self._host_header!r} path={self._path!r} " if self._path else ""
        return (
            f"<WebSocket role={self._role.value} {where}state={self._state.value} "
            f"serializer={self._serializer!r}>"
        )

    # -- properties -------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        """Which end of the connection this framer plays."""
        return self._role

    @property
    def serializers(self) -> tuple[str, ...]:
        """Client: the offered serializer names; server: the accepted ones; preference order."""
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
        return self._state is _S.OPEN

    @property
    def closed(self) -> bool:
        """True once the close handshake completed, the peer hung up, or a failure occurred."""
        return self._state in (_S.CLOSED, _S.ERROR)

    @property
    def _peer(self) -> str:
        return "server" if self._role is Role.CLIENT else "client"

    # -- commands ---------------------------------------------------------------------------

    def initiate(self) -> None:
        """Client: queue the HTTP upgrade request. Server: start waiting for it."""
        if self._state is not _S.IDLE:
            raise LocalProtocolError(f"initiate() called twice (state: {self._state.value})")
        if self._role is Role.CLIENT:
            assert self._host_header is not None and self._path is not None
            request = Request(
                host=self._host_header,
                target=self._path,
                subprotocols=[subprotocol_for(name) for name in self._serializers],
                extra_headers=list(self._extra_headers),
            )
            self._out.append(self._ws.send(request))
        self._state = _S.CONNECTING

    def send_message(self, payload: bytes) -> None:
        """Queue one WAMP message (TEXT for JSON, BINARY otherwise)."""
        if self._state is not _S.OPEN:
            raise LocalProtocolError(
                f"cannot send a message: the WebSocket connection is {self._state.value}"
            )
        if type(payload) is not bytes:
            payload = bytes(payload)
        size = len(payload)
        if size > self._max_message_size:
            raise MessageTooLarge(
                f"message of {size} bytes exceeds max_message_size ({self._max_message_size})"
            )
        if self._text and not payload.isascii():
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LocalProtocolError(
                    f"a {self._serializer} message must be UTF-8 text: {exc}"
                ) from None
        self._out.append(self._frames.message(payload))

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a ping (at most 125 bytes); the answer arrives as ``PongReceived``."""
        if self._state is not _S.OPEN:
            raise LocalProtocolError(
                f"cannot send a ping: the WebSocket connection is {self._state.value}"
            )
        if len(payload) > _MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError(
                f"a WebSocket ping carries at most {_MAX_CONTROL_PAYLOAD} bytes, not {len(payload)}"
            )
        self._out.append(self._frames.control(OP_PING, bytes(payload)))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake; ``Closed(clean=True)`` follows the peer's reply.

        Before the connection opened this abandons the handshake (nothing to send; a server
        just drops the connection). Once closing, closed or failed it does nothing.
        """
        state = self._state
        if state is _S.OPEN:
            _check_close(code, reason)
            self._send_close(code, reason)
            self._state = _S.CLOSING
        elif state in (_S.IDLE, _S.CONNECTING):
            self._state = _S.CLOSED
            self._head.clear()

    def data_to_send(self) -> bytes:
        """Drain the outgoing bytes."""
        out = self._out
        if not out:
            return b""
        data = b"".join(out)  # one item: that very bytes object
        out.clear()
        return data

    def _send_close(self, code: int, reason: str) -> None:
        """Queue our close frame (once; the caller checked code and reason)."""
        self._may_send_close = False
        self._frames.answer_pings = False
        self._out.append(self._frames.control(OP_CLOSE, close_payload(code, reason)))

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[FramingEvent]:
        """Feed bytes from the peer; return the events they completed."""
        state = self._state
        events: list[FramingEvent] = []
        if state is not _S.OPEN and state is not _S.CLOSING:
            if state is _S.ERROR:
                raise RemoteProtocolError(f"the WebSocket connection already failed: {self._error}")
            if state is _S.IDLE:
                raise LocalProtocolError("receive_data() before initiate()")
            if state is _S.CLOSED or not data:
                return events
            # The opening handshake; what follows it in ``data`` (frames the peer sent right
            # behind it) goes on to the data path below, as in any other split.
            if self._role is Role.CLIENT:
                data = self._receive_response(data, events)
            else:
                data = self._receive_request(data, events)
        if data:
            frames = self._frames
            try:
                frames.receive(data, events)
            except FrameError as exc:
                self._frames_failed(exc)
            if frames.close_received is not None:
                self._on_close(*frames.close_received, events)
        return events

    def _opened(
        self,
        serializer: str,
        response_headers: tuple[tuple[str, str], ...] = (),
        path: str | None = None,
        request_headers: tuple[tuple[str, str], ...] = (),
    ) -> Opened:
        subprotocol = subprotocol_for(serializer)
        self._serializer = serializer
        self._text = serializer in TEXT_SERIALIZERS
        self._frames = self._frame_codec()
        self._state = _S.OPEN
        self._head.clear()
        logger.debug("WebSocket open (%s): subprotocol=%s", self._role.value, subprotocol)
        return Opened(
            serializer,
            self._max_message_size,
            subprotocol,
            response_headers,
            path,
            request_headers,
        )

    # -- client handshake -------------------------------------------------------------------

    def _receive_response(self, data: bytes, out: list[FramingEvent]) -> bytes:
        """Feed the upgrade response to wsproto, up to the end of its head; once accepted,
        return what followed the head (frames, for us; ``b""`` while incomplete)."""
        carry = self._head_carry
        match = HEAD_END.search(carry + data)
        if match is None:
            head, rest = data, b""
            self._head_carry = (carry + data)[-_HEAD_END_CARRY:]
        else:
            cut = match.end() - len(carry)
            head, rest = data[:cut], data[cut:]
            self._head_carry = b""
        if len(self._head) < MAX_REQUEST_HEAD:  # (h11 refuses a longer head)
            self._head += head[: MAX_REQUEST_HEAD - len(self._head)]
        try:
            self._ws.receive_data(head)
            ws_events = list(self._ws.events())
        except HANDSHAKE_ERRORS as exc:
            self._handshake_failed(exc)
        for index, event in enumerate(ws_events):
            if isinstance(event, AcceptConnection):
                out.append(self._on_accept(event))
                return rest
            if isinstance(event, RejectConnection):
                following = ws_events[index + 1 :]
                if rest:  # the body bytes that arrived with the head
                    try:
                        self._ws.receive_data(rest)
                        following += self._ws.events()
                    except HANDSHAKE_ERRORS:
                        pass
                self._on_reject(event, following)
        if match is not None and rest:  # pragma: no cover - defensive: wsproto saw no head end
            return self._receive_response(rest, out)
        return b""

    def _on_accept(self, event: AcceptConnection) -> Opened:
        self._may_send_close = True  # upgraded: from now on we fail with a close frame
        subprotocol = event.subprotocol
        if subprotocol is None:
            offered = ", ".join(subprotocol_for(name) for name in self._serializers)
            self._fail(
                HandshakeError(
                    f"the WebSocket server selected no subprotocol (offered: {offered}); it "
                    "speaks none of our serializers",
                ),
            )
        # wsproto already rejected a subprotocol we did not offer; it keeps the last of several.
        if count_header(self._head, b"sec-websocket-protocol") > 1:
            self._fail(
                HandshakeError(
                    "the WebSocket server selected several subprotocols (RFC 6455 section "
                    "4.1: the header must appear once)"
                ),
            )
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.extra_headers
        )
        return self._opened(subprotocol[len(SUBPROTOCOL_PREFIX) :], response_headers=headers)

    def _on_reject(self, event: RejectConnection, following: list[Event]) -> NoReturn:
        body = bytearray()
        for item in following:  # only the body bytes that arrived with the status line
            if isinstance(item, RejectData) and len(body) < _REJECT_BODY_LIMIT:
                body += item.data[: _REJECT_BODY_LIMIT - len(body)]
        message = describe_rejection(
            event.status_code, bytes(self._head), event.headers, bytes(body)
        )
        self._fail(HandshakeError(message, code=event.status_code), send_close=False)

    def _handshake_failed(self, exc: Exception) -> NoReturn:
        message = str(exc)
        if isinstance(exc, WsprotoError) and message.startswith("unrecognized subprotocol"):
            offered = ", ".join(subprotocol_for(name) for name in self._serializers)
            self._fail(
                HandshakeError(
                    f"the WebSocket server selected a subprotocol we did not offer "
                    f"({message.removeprefix('unrecognized subprotocol').strip()!r}; "
                    f"offered: {offered})",
                ),
                send_close=False,
            )
        if isinstance(exc, UnicodeError):
            message = f"a header holds non-ASCII bytes ({exc})"
        self._fail(
            HandshakeError(f"invalid WebSocket upgrade response: {message}"), send_close=False
        )

    # -- server handshake -------------------------------------------------------------------

    def _receive_request(self, data: bytes, out: list[FramingEvent]) -> bytes:
        """Buffer the upgrade request head; once complete, answer it and return what followed
        it (``b""`` while incomplete)."""
        head = self._head
        search_from = max(0, len(head) - 2)
        head += data
        try:
            end = request_head_end(head, search_from)
            if end is None:
                return b""
            request_head, rest = bytes(head[:end]), bytes(head[end:])
            head.clear()
            request = parse_request(self._ws, request_head)
            serializer, response = accept_request(self._ws, request, self._serializers, self._paths)
        except Refused as refusal:
            self._out.append(refusal.response)
            self._fail(refusal.error, send_close=False)
        self._out.append(response)
        self._may_send_close = True
        headers = exported_headers(request.host, request.extra_headers)
        out.append(self._opened(serializer, path=request.target, request_headers=headers))
        return rest

    # -- after the handshake ----------------------------------------------------------------

    def _frames_failed(self, exc: FrameError) -> NoReturn:
        code = exc.code
        error: WampError
        if code == _CLOSE_MESSAGE_TOO_BIG:
            error = PayloadTooLarge(
                f"received WebSocket message exceeds max_message_size "
                f"({self._max_message_size} bytes)"
            )
        elif code == _CLOSE_UNSUPPORTED_DATA:
            got, want = ("BINARY", "TEXT") if self._text else ("TEXT", "BINARY")
            error = RemoteProtocolError(
                f"received a WebSocket {got} message, but {self._serializer} messages "
                f"travel as {want}"
            )
        else:
            error = RemoteProtocolError(f"invalid WebSocket data from the {self._peer}: {exc}")
        self._fail(error, close_code=code)

    def _on_close(self, code: int, reason: str, out: list[FramingEvent]) -> None:
        """The peer's close frame: answer it (unless it answers ours) and report it."""
        if self._may_send_close:
            self._send_close(code, reason)  # echo the peer's code and reason
        self._state = _S.CLOSED
        self._release()
        logger.debug("WebSocket closed by the %s: %s %s", self._peer, code, reason)
        out.append(Closed(code, reason, True))

    def _release(self) -> None:
        self._may_send_close = False
        self._frames.discard()
        self._head.clear()

    def receive_eof(self) -> list[FramingEvent]:
        """The peer closed TCP: ``[Closed(1006, ..., clean=False)]`` unless a close handshake
        completed (``[]``). Raises ``HandshakeError`` during the opening handshake."""
        state = self._state
        if state in (_S.ERROR, _S.CLOSED):
            return []
        if state in (_S.IDLE, _S.CONNECTING):
            self._fail(
                HandshakeError("the connection was closed during the WebSocket opening handshake"),
                send_close=False,
            )
        self._state = _S.CLOSED
        self._release()
        return [Closed(_CLOSE_ABNORMAL, "connection closed without a WebSocket close frame", False)]

    def _fail(
        self, exc: WampError, *, close_code: int = _CLOSE_PROTOCOL_ERROR, send_close: bool = True
    ) -> NoReturn:
        """Enter the terminal error state, queue a close frame if possible, then raise."""
        self._state = _S.ERROR
        self._error = exc
        if send_close and self._may_send_close:
            reason = str(exc).encode("utf-8")[:_MAX_CLOSE_REASON].decode("utf-8", "ignore")
            self._send_close(close_code, reason)
        self._release()
        logger.debug("WebSocket connection (%s) failed: %s", self._role.value, exc)
        raise exc
