"""The WAMP CBOR serializer (``wamp.2.cbor``, RawSocket id 3).

Encoding uses ``cbor2.dumps`` defaults. Decoding uses cbor2's decoder with three safety
settings beyond its defaults (when the installed cbor2 supports them, i.e. cbor2 >= 6):

* map keys and set elements must be text or byte strings (``strict_hashable_types``): integer
  keys would allow hash-flooding (the same rule msgpack applies by default);
* shared references (tag 29) are refused: they build cyclic or exponentially shared values;
* a frame must hold exactly one CBOR item: trailing bytes are an error.

Other semantic tags decode as cbor2 decodes them (datetimes, big integers, decimals,
``CBORTag`` objects...): fine as payload values, while Options/Details and ArgumentsKw keys are
still checked by :func:`~wamp_core.parse_message`. Nesting beyond cbor2's limit is rejected.
"""

from __future__ import annotations

import logging
from io import BytesIO
from typing import Any

import cbor2

from .._errors import SerializationError
from .._messages import Message, parse_message
from ._base import Serializer, decode_error, encode_error

__all__ = ["CborSerializer"]

logger = logging.getLogger(__name__)

_dumps = cbor2.dumps
_CBORDecoder = cbor2.CBORDecoder


def _no_shared_reference(*_: Any) -> Any:
    raise cbor2.CBORDecodeError("shared references (tag 29) are not accepted")


def _decoder_options() -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "strict_hashable_types": True,
        "semantic_decoders": {29: _no_shared_reference},
    }
    try:
        _CBORDecoder(BytesIO(b""), **wanted)
    except TypeError:  # pragma: no cover - cbor2 < 6
        logger.debug("cbor2 lacks strict_hashable_types/semantic_decoders: plain decoding")
        return {}
    return wanted


_OPTIONS = _decoder_options()


def _loads(data: Any) -> Any:
    fp = BytesIO(data)
    value = _CBORDecoder(fp, **_OPTIONS).decode()
    if fp.read(1):
        raise SerializationError("invalid cbor data: trailing bytes after the CBOR item")
    return value


class CborSerializer(Serializer):
    """``wamp.2.cbor``: CBOR (RFC 8949) with byte strings for bytes."""

    name = "cbor"
    subprotocol = "wamp.2.cbor"
    rawsocket_id = 3
    binary = True
    batched = False

    def dumps(self, value: Any) -> bytes:
        try:
            return _dumps(value)
        except Exception as exc:
            raise encode_error("cbor", exc) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return _loads(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise decode_error("cbor", exc) from exc

    def encode(self, message: Message) -> bytes:
        wmsg = message.to_list()
        try:
            return _dumps(wmsg)
        except Exception as exc:
            raise encode_error("cbor", exc, message) from exc

    def decode(self, data: bytes) -> Message:
        try:
            wmsg = _loads(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise decode_error("cbor", exc) from exc
        return parse_message(wmsg)
