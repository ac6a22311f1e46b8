"""The :class:`Serializer` interface shared by every WAMP serializer.

A serializer turns a :class:`~wamp_core.messages.Message` into the bytes of one transport
message and back. Decoding never raises anything but :class:`~wamp_core.RemoteProtocolError`
(undecodable bytes: its subclass :class:`~wamp_core.SerializationError`); encoding raises
:class:`~wamp_core.EncodingError` (a :class:`~wamp_core.LocalProtocolError`) when a payload
value cannot be represented.

Some serializers keep per-connection state (the ``ubjson`` dialect), so use one instance per
connection; :func:`~wamp_core.serializers.get_serializer` returns a new instance on every call.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from .._errors import EncodingError, SerializationError
from .._messages import Message
from .._wire import RAWSOCKET_SERIALIZER_IDS, TEXT_SERIALIZERS, subprotocol_for

__all__ = ["Serializer", "encode_error", "decode_error"]

_MAX_DETAIL = 160


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a hostile __str__ must not turn into another error type
        text = ""
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def encode_error(codec: str, exc: BaseException, message: Message | None = None) -> EncodingError:
    """The :class:`EncodingError` for a value ``codec`` could not encode (chain ``exc``)."""
    what = f"{message.NAME} " if message is not None else ""
    return EncodingError(f"cannot encode {what}with {codec}: {_describe(exc)}")


def decode_error(codec: str, exc: BaseException | str) -> SerializationError:
    """The :class:`SerializationError` for bytes ``codec`` could not decode."""
    detail = exc if isinstance(exc, str) else _describe(exc)
    return SerializationError(f"invalid {codec} data: {detail}")


class Serializer(abc.ABC):
    """A WAMP serializer: messages to bytes and back.

    Subclasses set ``name`` (the rest follows from it) and implement :meth:`dumps` and
    :meth:`loads` (the raw codec on plain values) and :meth:`encode` and :meth:`decode` (whole
    messages, each codec's fast path); :meth:`decode_all` and :meth:`encode_batch` are built on
    them.
    """

    #: Serializer name: ``"json"``, ``"msgpack"``, ``"cbor"``, ``"json.batched"``...
    name: str
    #: WebSocket subprotocol: ``"wamp.2.json"``, ``"wamp.2.json.batched"``...
    subprotocol: str
    #: RawSocket serializer id (json 1, msgpack 2, cbor 3, ubjson 4, flatbuffers 5), ``None``
    #: for batched variants (RawSocket has no batching).
    rawsocket_id: int | None
    #: WebSocket frame type: binary, or text (JSON only).
    binary: bool = True
    #: Whether a transport message may carry several WAMP messages.
    batched: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A codec class sets only ``name``: its subprotocol, RawSocket id and frame type come
        from the wire table (``_wire``), the one place they are defined."""
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if isinstance(name, str):
            cls.subprotocol = subprotocol_for(name)
            cls.rawsocket_id = RAWSOCKET_SERIALIZER_IDS.get(name)
            cls.binary = name not in TEXT_SERIALIZERS

    @abc.abstractmethod
    def dumps(self, value: Any) -> bytes:
        """Encode a plain value with the raw codec (bytes conventions included)."""

    @abc.abstractmethod
    def loads(self, data: bytes) -> Any:
        """Decode exactly one plain value; raise :class:`SerializationError` if impossible."""

    @abc.abstractmethod
    def encode(self, message: Message) -> bytes:
        """The bytes of one transport message holding ``message``; raise
        :class:`~wamp_core.EncodingError` for a value the codec cannot represent (each codec
        implements it directly: it is the hot path)."""

    @abc.abstractmethod
    def decode(self, data: bytes) -> Message:
        """Decode a transport message holding exactly one WAMP message; raise only
        :class:`~wamp_core.RemoteProtocolError` (each codec implements it directly)."""

    def decode_all(self, data: bytes) -> list[Message]:
        """Every WAMP message of a transport message (a single one unless batched)."""
        return [self.decode(data)]

    def encode_batch(self, messages: Sequence[Message]) -> bytes:
        """One transport message holding ``messages`` (exactly one unless batched).

        Raises :class:`ValueError` for a number of messages the serializer cannot frame.
        """
        if len(messages) != 1:
            raise ValueError(
                f"the {self.name} serializer is not batched: it frames exactly one message, "
                f"got {len(messages)}"
            )
        return self.encode(messages[0])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
