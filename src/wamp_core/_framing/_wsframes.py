"""The WebSocket data path after the opening handshake (RFC 6455 section 5), sans-IO.

:class:`FrameCodec` is one end's frame codec: it writes data and control frames (masked by a
client, unmasked by a server) and parses the peer's frames incrementally into whole messages,
pings, pongs and the close frame. It knows no state beyond the frame stream; the connection
state (open, closing, closed, failed) and the translation into WAMP errors stay in
:mod:`._websocket`, which keeps wsproto for the opening handshake only.

No extension is ever negotiated, so every RSV bit must be clear. A violation by the peer raises
:class:`FrameError` with the close code to fail the connection with: 1002 for a framing error,
1003 for a message of the wrong type (TEXT vs BINARY), 1007 for invalid UTF-8, 1009 for a
message over the limit.

Bounds: at most one incomplete frame is buffered, and a data frame only as long as the message
it belongs to stays within ``max_message_size``: the buffered bytes (the reassembled fragments
plus the incomplete frame) never exceed ``max_message_size`` plus a frame header, or plus a
control frame (:data:`MAX_OVERHEAD`) when one arrives inside a fragmented message. A frame
announcing more than the limit fails once the bytes received cross it, as with wsproto.
"""

from __future__ import annotations

import codecs
import os
from typing import Final

from ._events import FramingEvent, PongReceived, message_received

__all__ = [
    "OP_CONTINUATION",
    "OP_TEXT",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "MAX_CONTROL_PAYLOAD",
    "MAX_HEADER",
    "MAX_OVERHEAD",
    "FrameError",
    "FrameCodec",
    "mask",
    "encode_frame",
    "close_payload",
    "valid_received_close_code",
]

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

#: A control frame's payload limit (RFC 6455 5.5).
MAX_CONTROL_PAYLOAD: Final = 125
#: The largest frame header: 2 bytes, an 8-byte extended length and a 4-byte masking key.
MAX_HEADER: Final = 14
#: What the buffer may hold beyond ``max_message_size``: a whole control frame with its header
#: (2 bytes, a masking key and 125 bytes of payload), parked inside a fragmented message.
MAX_OVERHEAD: Final = 2 + 4 + MAX_CONTROL_PAYLOAD

_FIN: Final = 0x80
_RSV: Final = 0x70
_OPCODE: Final = 0x0F
_MASK: Final = 0x80
_LENGTH: Final = 0x7F
_LENGTH_16: Final = 126
_LENGTH_64: Final = 127

_CLOSE_PROTOCOL_ERROR: Final = 1002
_CLOSE_UNSUPPORTED_DATA: Final = 1003
_CLOSE_NO_STATUS: Final = 1005
_CLOSE_INVALID_PAYLOAD: Final = 1007
_CLOSE_MESSAGE_TOO_BIG: Final = 1009

#: Payloads up to this size are (un)masked through one big int (fastest for small payloads);
#: larger ones through ``bytes.translate`` over the four byte lanes (linear, ~2-3x faster there).
_INT_MASK_LIMIT: Final = 2048
#: Masking keys are drawn from ``os.urandom`` this many bytes at a time (64 keys).
_KEY_POOL: Final = 256

_IDENTITY: Final = int.from_bytes(bytes(range(256)), "big")
#: ``bytes.translate`` tables XOR-ing every byte with a key byte, built on first use.
_XOR_TABLES: dict[int, bytes] = {}

# The 2-byte headers of unfragmented data frames with a 7-bit length, by [opcode][masked][n].
_SHORT_HEADERS: Final = {
    opcode: (
        tuple(bytes((_FIN | opcode, n)) for n in range(_LENGTH_16)),
        tuple(bytes((_FIN | opcode, _MASK | n)) for n in range(_LENGTH_16)),
    )
    for opcode in (OP_TEXT, OP_BINARY)
}

_CONTROL_NAMES: Final = {OP_CLOSE: "CLOSE", OP_PING: "PING", OP_PONG: "PONG"}


class FrameError(Exception):
    """The peer broke RFC 6455 (or the message limit): fail the connection with ``code``."""

    def __init__(self, reason: str, code: int = _CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(reason)
        self.code = code


def mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``key`` repeated (masking and unmasking are the same)."""
    size = len(payload)
    if size <= _INT_MASK_LIMIT:
        pad = key * (size >> 2) + key[: size & 3]
        value = int.from_bytes(payload, "little") ^ int.from_bytes(pad, "little")
        return value.to_bytes(size, "little")
    data = bytearray(payload)
    for lane in range(4):
        table = _XOR_TABLES.get(key[lane])
        if table is None:
            spread = int.from_bytes(bytes((key[lane],)) * 256, "big")
            table = _XOR_TABLES[key[lane]] = (_IDENTITY ^ spread).to_bytes(256, "big")
        data[lane::4] = data[lane::4].translate(table)
    return bytes(data)


def _header(first: int, masked: int, size: int) -> bytes:
    if size < _LENGTH_16:
        return bytes((first, masked | size))
    if size < 0x10000:
        return bytes((first, masked | _LENGTH_16)) + size.to_bytes(2, "big")
    return bytes((first, masked | _LENGTH_64)) + size.to_bytes(8, "big")


def encode_frame(opcode: int, payload: bytes, *, masked: bool, fin: bool = True) -> bytes:
    """One frame; ``masked`` (a client's frames) with a fresh key from ``os.urandom``."""
    header = _header((_FIN if fin else 0) | opcode, _MASK if masked else 0, len(payload))
    if masked:
        key = os.urandom(4)
        return header + key + mask(payload, key)
    return header + payload


def close_payload(code: int, reason: str) -> bytes:
    """The payload of a close frame: empty for 1005 ("no status"), else code and reason."""
    if code == _CLOSE_NO_STATUS:
        return b""
    return code.to_bytes(2, "big") + reason.encode("utf-8")


def valid_received_close_code(code: int) -> bool:
    """Whether a peer may put ``code`` in a close frame: the codes RFC 6455 7.4.1 defines and
    IANA registered since (1012-1014), minus the local-only 1005/1006/1015, plus 3000-4999."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _parse_close(payload: bytes) -> tuple[int, str]:
    if not payload:
        return _CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise FrameError("CLOSE frame with a 1-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if not valid_received_close_code(code):
        raise FrameError(f"CLOSE frame with invalid code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"CLOSE reason is not UTF-8 ({exc})", _CLOSE_INVALID_PAYLOAD) from None
    return code, reason


def _check_utf8(payload: bytes) -> None:
    if not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError(
                f"TEXT message is not valid UTF-8 ({exc})", _CLOSE_INVALID_PAYLOAD
            ) from None


class FrameCodec:
    """One end's frames after the opening handshake.

    ``client`` selects the role: a client masks what it sends and requires unmasked frames, a
    server the reverse. ``text`` selects the data opcode: TEXT (received messages are checked
    to be UTF-8 here; what is sent, the caller checks) or BINARY; a data message of the other
    type is a :class:`FrameError` with code 1003. ``out`` is the caller's outgoing queue, where
    pongs go. ``max_message_size`` bounds a received message, counted as its bytes arrive.

    :meth:`receive` parses any split of the stream. It stops at the peer's close frame (setting
    :attr:`close_received`); everything after it is ignored. Pings are answered while
    :attr:`answer_pings` is true (the caller clears it once it sent its close frame).
    """

    __slots__ = (
        "_client",
        "_data_opcode",
        "_expect_mask",
        "_fast_first",
        "_fragments",
        "_fragments_opcode",
        "_key_at",
        "_keys",
        "_max",
        "_out",
        "_partial",
        "_partial_header",
        "_partial_size",
        "_short_headers",
        "_text",
        "_utf8",
        "answer_pings",
        "close_received",
    )

    def __init__(self, *, client: bool, text: bool, max_message_size: int, out: list[bytes]):
        self._client = client
        self._text = text
        self._data_opcode = OP_TEXT if text else OP_BINARY
        self._expect_mask = 0 if client else _MASK
        # The first byte of a whole message of our type (the fast path); -1 while a fragmented
        # message is being reassembled.
        self._fast_first = _FIN | self._data_opcode
        self._short_headers = _SHORT_HEADERS[self._data_opcode][client]
        self._max = max_message_size
        self._out = out
        self._keys = b""
        self._key_at = 0
        # An incomplete frame: its bytes so far, its total size and its header size once the
        # header is complete (0 until then).
        self._partial = bytearray()
        self._partial_size = 0
        self._partial_header = 0
        # A fragmented message being reassembled (opcode 0: none), in one bytearray: a message
        # in 1-byte fragments must not cost an object per byte.
        self._fragments = bytearray()
        self._fragments_opcode = 0
        self._utf8: codecs.IncrementalDecoder | None = None
        self.answer_pings = True
        self.close_received: tuple[int, str] | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for incomplete frames and messages (bounded: see the module doc)."""
        return len(self._partial) + len(self._fragments)

    def discard(self) -> None:
        """Drop whatever is buffered (the connection ended)."""
        self._partial = bytearray()
        self._partial_size = self._partial_header = 0
        self._fragments = bytearray()
        self._fragments_opcode = 0
        self._fast_first = _FIN | self._data_opcode
        self._utf8 = None

    # -- sending ------------------------------------------------------------------------------

    def _key(self) -> bytes:
        """A client's masking key: fresh for every frame and from the OS CSPRNG (RFC 6455 5.3),
        drawn 64 at a time per connection and never reused."""
        at = self._key_at
        keys = self._keys
        if at >= len(keys):
            keys = self._keys = os.urandom(_KEY_POOL)
            at = 0
        self._key_at = at + 4
        return keys[at : at + 4]

    def message(self, payload: bytes) -> bytes:
        """One unfragmented data frame (TEXT or BINARY) carrying ``payload``, as is."""
        size = len(payload)
        if size < _LENGTH_16:
            header = self._short_headers[size]
        else:
            header = _header(_FIN | self._data_opcode, _MASK if self._client else 0, size)
        if not self._client:
            return header + payload
        key = self._key()
        return header + key + mask(payload, key)

    def control(self, opcode: int, payload: bytes) -> bytes:
        """A PING, PONG or CLOSE frame (``payload`` at most 125 bytes: the caller checks)."""
        header = _header(_FIN | opcode, _MASK if self._client else 0, len(payload))
        if self._client:
            key = self._key()
            return header + key + mask(payload, key)
        return header + payload

    # -- receiving ----------------------------------------------------------------------------

    def receive(self, data: bytes, events: list[FramingEvent]) -> None:
        """Parse ``data`` (any split of the stream), appending the completed events.

        Raises :class:`FrameError`; after it, or once :attr:`close_received` is set, the codec
        must not be fed again.
        """
        if type(data) is not bytes:
            data = bytes(data)
        if self._partial:
            data = self._continue_partial(data, events)
        pos = 0
        end = len(data)
        expect_mask = self._expect_mask
        fast_first = self._fast_first
        while pos < end:
            if end - pos < 2:
                self._partial = bytearray(data[pos:])
                return
            first = data[pos]
            second = data[pos + 1]
            if first != fast_first:  # anything but a whole message of our type
                self._check_header(first, second)
            if second & _MASK != expect_mask:
                if expect_mask:
                    raise FrameError("server received an unmasked frame")
                raise FrameError("client received a masked frame")
            size = second & _LENGTH
            start = pos + 2
            if size >= _LENGTH_16:
                if size == _LENGTH_16:
                    if end - start < 2:
                        self._partial = bytearray(data[pos:])
                        return
                    size = (data[start] << 8) | data[start + 1]
                    start += 2
                    if size < _LENGTH_16:
                        raise FrameError("payload length used 2 bytes where 1 suffices")
                else:
                    if end - start < 8:
                        self._partial = bytearray(data[pos:])
                        return
                    size = int.from_bytes(data[start : start + 8], "big")
                    start += 8
                    if size < 0x10000:
                        raise FrameError("payload length used 8 bytes where 2 suffice")
                    if size >> 63:
                        raise FrameError("payload length with the most significant bit set")
            if expect_mask:
                if end - start < 4:
                    self._partial = bytearray(data[pos:])
                    return
                key = data[start : start + 4]
                start += 4
            stop = start + size
            if stop > end:
                # Incomplete: keep it, bounded by the message limit.
                if (first & _OPCODE) <= OP_BINARY and (
                    len(self._fragments) + end - start > self._max
                ):
                    raise FrameError("message too big", _CLOSE_MESSAGE_TOO_BIG)
                self._partial = bytearray(data[pos:])
                self._partial_size = stop - pos
                self._partial_header = start - pos
                return
            payload = data[start:stop]
            if expect_mask and size:  # unmask (mask() inlined for small payloads)
                if size <= _INT_MASK_LIMIT:
                    pad = key * (size >> 2) + key[: size & 3]
                    payload = (
                        int.from_bytes(payload, "little") ^ int.from_bytes(pad, "little")
                    ).to_bytes(size, "little")
                else:
                    payload = mask(payload, key)
            pos = stop
            if first == fast_first:
                # The common case: a whole message in one frame.
                if size > self._max:
                    raise FrameError("message too big", _CLOSE_MESSAGE_TOO_BIG)
                if self._text and not payload.isascii():
                    _check_utf8(payload)
                events.append(message_received(payload))
                continue
            opcode = first & _OPCODE
            if opcode <= OP_BINARY:
                self._fragment(opcode, first & _FIN, payload, events)
                fast_first = self._fast_first
            elif opcode == OP_PING:
                if self.answer_pings:
                    self._out.append(self.control(OP_PONG, payload))
            elif opcode == OP_PONG:
                events.append(PongReceived(payload))
            else:
                self.close_received = _parse_close(payload)
                return

    def _continue_partial(self, data: bytes, events: list[FramingEvent]) -> bytes:
        """Feed ``data`` to the incomplete frame; return what is left to parse after it."""
        partial = self._partial
        if not self._partial_header:
            # The header itself was split: glue it to the new bytes (at most 13 bytes were
            # buffered, so the copy is linear in the new data) and parse from its start.
            self._partial = bytearray()
            return bytes(partial) + data
        take = self._partial_size - len(partial)
        if len(data) < take:
            if (partial[0] & _OPCODE) <= OP_BINARY and (
                len(self._fragments) + len(partial) - self._partial_header + len(data) > self._max
            ):
                raise FrameError("message too big", _CLOSE_MESSAGE_TOO_BIG)
            partial += data
            return b""
        partial += memoryview(data)[:take]
        self._partial = bytearray()
        self._partial_size = self._partial_header = 0
        self.receive(bytes(partial), events)  # exactly one whole frame
        if self.close_received is not None:
            return b""
        return data[take:]

    def _check_header(self, first: int, second: int) -> None:
        """Refuse a frame header other than an unfragmented message of our type, if invalid."""
        if first & _RSV:
            raise FrameError("reserved bits set (no extension was negotiated)")
        opcode = first & _OPCODE
        if opcode > OP_BINARY:
            name = _CONTROL_NAMES.get(opcode)
            if name is None:
                raise FrameError(f"reserved opcode 0x{opcode:X}")
            if not first & _FIN:
                raise FrameError(f"fragmented {name} frame")
            if second & _LENGTH > MAX_CONTROL_PAYLOAD:
                raise FrameError(f"{name} frame longer than {MAX_CONTROL_PAYLOAD} bytes")
        elif opcode:
            if opcode != self._data_opcode:
                raise FrameError("wrong message type", _CLOSE_UNSUPPORTED_DATA)
            if self._fragments_opcode:
                raise FrameError("a new message started inside a fragmented one")
        elif not self._fragments_opcode:
            raise FrameError("CONTINUATION frame without a message to continue")

    def _fragment(self, opcode: int, fin: int, payload: bytes, events: list[FramingEvent]) -> None:
        """A frame of a fragmented message (the first, a continuation or the last)."""
        size = len(self._fragments) + len(payload)
        if size > self._max:
            raise FrameError("message too big", _CLOSE_MESSAGE_TOO_BIG)
        if opcode:  # the first fragment (not FIN: a whole message took the fast path)
            self._fragments_opcode = opcode
            self._fast_first = -1
            self._fragments = bytearray(payload)
            if self._text:
                self._utf8 = codecs.getincrementaldecoder("utf-8")()
        else:
            self._fragments += payload
        decoder = self._utf8
        if decoder is not None:
            try:
                decoder.decode(payload, bool(fin))
            except UnicodeDecodeError as exc:
                raise FrameError(
                    f"TEXT message is not valid UTF-8 ({exc})", _CLOSE_INVALID_PAYLOAD
                ) from None
        if fin:
            message = bytes(self._fragments)
            self._fragments = bytearray()
            self._fragments_opcode = 0
            self._fast_first = _FIN | self._data_opcode
            self._utf8 = None
            events.append(message_received(message))
