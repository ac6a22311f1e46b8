"""Batched WebSocket serializers (spec ``advanced/transport_batched_websocket.md``).

A batched WebSocket message carries one or more WAMP messages (zero is an error):

* text serializers (JSON): every message is followed by a separator octet. The spec names the
  record separator ``0x1E``; Autobahn-Python and Crossbar.io use ``0x18`` (their ``b"\\30"`` is
  octal) and Crossbar drops a connection whose frames end in ``0x1E``. We send ``0x18`` so that
  ``json.batched`` works with the real router, and decoding accepts **both** octets. Neither
  octet can occur unescaped in JSON text, so splitting is unambiguous. A missing separator after
  the last message is tolerated; an empty message between two separators is an error.
* binary serializers (msgpack, cbor, ubjson): every message is prefixed by its length as an
  unsigned 32-bit big-endian integer. A truncated prefix or message is an error.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from .._errors import EncodingError, SerializationError
from .._messages import Message
from .._wire import TEXT_SERIALIZERS, subprotocol_for
from ._base import Serializer

__all__ = ["BatchedSerializer", "SEPARATOR", "SEPARATOR_AUTOBAHN", "SEPARATOR_SPEC"]

#: The record separator the spec's text prescribes after each JSON message (accepted on decode).
SEPARATOR_SPEC = b"\x1e"
#: The separator Autobahn-Python and Crossbar.io use (``b"\\30"``: octal 30 = 0x18); we send it.
SEPARATOR_AUTOBAHN = b"\x18"
#: What we send after each JSON message.
SEPARATOR = SEPARATOR_AUTOBAHN

_LENGTH = struct.Struct(">I")
_MAX_LENGTH = 0xFFFFFFFF


class BatchedSerializer(Serializer):
    """The ``.batched`` variant of another serializer (WebSocket only).

    :meth:`encode` frames a single message (a batch of one); :meth:`encode_batch` frames many;
    :meth:`decode_all` returns every message of a frame; :meth:`decode` requires exactly one.
    """

    batched = True

    def __init__(self, inner: Serializer) -> None:
        if inner.batched:
            raise ValueError(f"{inner.name} is already batched")
        super().__init__()
        self.inner = inner
        self.name = f"{inner.name}.batched"
        self.subprotocol = subprotocol_for(self.name)
        self.rawsocket_id = None  # RawSocket has no batching
        self.binary = self.name not in TEXT_SERIALIZERS

    def __repr__(self) -> str:
        return f"BatchedSerializer({self.inner!r})"

    # -- raw codec: the inner one ----------------------------------------------------------

    def dumps(self, value: Any) -> bytes:
        return self.inner.dumps(value)

    def loads(self, data: bytes) -> Any:
        return self.inner.loads(data)

    # -- framing ---------------------------------------------------------------------------

    def encode(self, message: Message) -> bytes:
        data = self.inner.encode(message)
        if not self.binary:
            return data + SEPARATOR
        return self._prefix(data) + data

    def encode_batch(self, messages: Sequence[Message]) -> bytes:
        if not messages:
            raise ValueError("a batch must hold at least one message")
        encode = self.inner.encode
        if not self.binary:
            return b"".join([encode(m) + SEPARATOR for m in messages])
        parts: list[bytes] = []
        for message in messages:
            data = encode(message)
            parts.append(self._prefix(data))
            parts.append(data)
        return b"".join(parts)

    def decode(self, data: bytes) -> Message:
        messages = self.decode_all(data)
        if len(messages) != 1:
            raise SerializationError(
                f"expected exactly one message in the {self.name} frame, got {len(messages)}"
            )
        return messages[0]

    def decode_all(self, data: bytes) -> list[Message]:
        if self.binary:
            return self._decode_prefixed(data)
        return self._decode_separated(data)

    @staticmethod
    def _prefix(data: bytes) -> bytes:
        if len(data) > _MAX_LENGTH:
            raise EncodingError(f"message too long for a batch ({len(data)} octets)")
        return _LENGTH.pack(len(data))

    def _decode_separated(self, data: Any) -> list[Message]:
        if isinstance(data, str):
            chunks: list[Any] = data.replace("\x18", "\x1e").split("\x1e")
        elif isinstance(data, (bytes, bytearray, memoryview)):
            chunks = (
                bytes(data).replace(SEPARATOR_SPEC, SEPARATOR_AUTOBAHN).split(SEPARATOR_AUTOBAHN)
            )
        else:
            raise SerializationError(f"invalid {self.name} data: {type(data).__name__}")
        if len(chunks) > 1 and not chunks[-1]:
            del chunks[-1]  # the separator that ends the last message
        if len(chunks) == 1 and not chunks[0]:
            raise SerializationError(f"empty {self.name} frame: a batch of zero messages")
        decode = self.inner.decode
        return [decode(chunk) for chunk in chunks]

    def _decode_prefixed(self, data: Any) -> list[Message]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SerializationError(f"invalid {self.name} data: {type(data).__name__}")
        if type(data) is not bytes:
            data = bytes(data)
        size = len(data)
        if not size:
            raise SerializationError(f"empty {self.name} frame: a batch of zero messages")
        decode = self.inner.decode
        unpack_from = _LENGTH.unpack_from
        messages: list[Message] = []
        pos = 0
        while pos < size:
            if size - pos < 4:
                raise SerializationError(
                    f"invalid {self.name} frame: truncated length prefix at octet {pos}"
                )
            (length,) = unpack_from(data, pos)
            pos += 4
            end = pos + length
            if end > size:
                raise SerializationError(
                    f"invalid {self.name} frame: message of {length} octets at octet {pos} "
                    f"exceeds the frame ({size} octets)"
                )
            messages.append(decode(data[pos:end]))
            pos = end
        return messages
