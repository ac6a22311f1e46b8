"""The WAMP ``ubjson`` serializer, speaking classic UBJSON and BJData.

Autobahn <= 25.12 and Crossbar < 26 speak classic UBJSON (draft 12, big-endian, via py-ubjson).
Autobahn >= 26.6 and Crossbar 26 send BJData (little-endian, extra unsigned markers, ``[$B#``
byte arrays) under the same name ``wamp.2.ubjson``. Both encode strings shorter than 256 bytes,
small integers (0-255 and -128..-1), booleans, null and containers identically; they differ in
multi-byte numbers and lengths (see :mod:`._ubjson_codec`).

Dialect rule, per frame: the frame is decoded in the instance's current dialect; only if it is
invalid there is it decoded in the other one. So a frame holding a BJData-only marker
(``u m M h B``) or a length readable only little-endian is BJData; a frame valid in both is
ambiguous and taken in the current dialect. An adaptive instance (``dialect="auto"``, the
default) starts with classic UBJSON and switches to BJData for good once :meth:`decode` met a
frame that decoded only as BJData; from then on it also encodes BJData. A client's HELLO (short
strings, small integers, containers) encodes identically in both, and a router's WELCOME carries
a random 53-bit session ID (``m``/``M`` in BJData), so a client follows Crossbar 26 from the
WELCOME on. Use one instance per connection.

A client fixed to classic UBJSON (``dialect="ubjson"``) against Crossbar 26 (checked on the
wire): the router reads its multi-byte numbers byte-swapped, drops the connection on a string or
byte string of 256+ bytes (a big-endian length), and relays its byte strings as BJData uint8
arrays (``[$U#[n]``, decoded here as bytes again).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from .._errors import ConfigurationError
from .._messages import Message, parse_message
from ._base import Serializer, encode_error
from ._ubjson_codec import decode_detect, encode

__all__ = ["UbjsonSerializer", "UbjsonDialect"]

logger = logging.getLogger(__name__)

#: The two wire dialects of ``wamp.2.ubjson``.
UbjsonDialect = Literal["ubjson", "bjdata"]
_MODES = ("auto", "ubjson", "bjdata")


class UbjsonSerializer(Serializer):
    """``wamp.2.ubjson`` (RawSocket id 4): classic UBJSON or BJData, see the module docs.

    ``dialect``: ``"auto"`` (default: classic UBJSON until the peer's frames show BJData),
    ``"ubjson"`` or ``"bjdata"`` (fixed: always encode that dialect, decode ambiguous frames
    in it). Every mode decodes frames that are valid in only one dialect.
    """

    name = "ubjson"
    batched = False

    def __init__(self, dialect: Literal["auto", "ubjson", "bjdata"] = "auto") -> None:
        if dialect not in _MODES:
            raise ConfigurationError(
                f"ubjson dialect must be one of {', '.join(_MODES)}, got {dialect!r}"
            )
        super().__init__()
        self._adaptive = dialect == "auto"
        self._bjdata = dialect == "bjdata"

    @property
    def dialect(self) -> UbjsonDialect:
        """The dialect this instance encodes now (``"ubjson"`` or ``"bjdata"``)."""
        return "bjdata" if self._bjdata else "ubjson"

    @property
    def adaptive(self) -> bool:
        """Whether the instance switches to BJData when the peer's frames show it."""
        return self._adaptive

    def __repr__(self) -> str:
        mode = "auto" if self._adaptive else self.dialect
        return f"UbjsonSerializer(dialect={mode!r}, current={self.dialect!r})"

    def encode(self, message: Message) -> bytes:
        try:
            return encode(message.to_list(), bjdata=self._bjdata)
        except Exception as exc:  # the codec's SerializationError, or a hostile payload object
            raise encode_error(self.name, exc, message) from exc

    def decode(self, data: bytes) -> Message:
        value, is_bjdata = decode_detect(data, bjdata=self._bjdata)
        if is_bjdata and not self._bjdata and self._adaptive:
            logger.debug("peer sends BJData: switching the ubjson serializer to BJData")
            self._bjdata = True
        return parse_message(value)

    def dumps(self, value: Any) -> bytes:
        """Encode any value in the current dialect."""
        try:
            return encode(value, bjdata=self._bjdata)
        except Exception as exc:
            raise encode_error(self.name, exc) from exc

    def loads(self, data: bytes) -> Any:
        """Decode one value of either dialect (preferring the current one); never switches."""
        return decode_detect(data, bjdata=self._bjdata)[0]
