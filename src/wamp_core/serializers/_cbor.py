"""The WAMP CBOR serializer (``wamp.2.cbor``, RawSocket id 3).

Encoding uses ``cbor2.dumps`` defaults. Decoding uses cbor2's decoder with these safety
rules beyond its defaults (the first two need cbor2 >= 6, older versions decode without them):

* map keys and set elements must be text or byte strings (``strict_hashable_types``): integer
  keys would allow hash-flooding (the same rule msgpack applies by default);
* value and string references (tags 29 and 25) are refused: they build cyclic values, or
  values that expand exponentially when re-encoded or walked;
* a frame must hold exactly one CBOR item: trailing bytes are an error (``cbor2.loads`` would
  silently ignore them, dropping e.g. a second message a confused peer concatenated).

Other semantic tags decode as cbor2 decodes them (datetimes, big integers, decimals,
``CBORTag`` objects...): fine as payload values, while Options/Details and ArgumentsKw keys are
still checked by :func:`~wamp_core.messages.parse_message`. Nesting beyond cbor2's limit is
rejected.

The encode/decode methods repeat the other codecs' shape on purpose (``duplicates`` lists
them): each is a per-codec fast path that calls its library directly (``benchmarks/codec.py``).
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


def _refuse_reference(*_: Any) -> Any:
    raise cbor2.CBORDecodeError("value/string references (tags 25, 29) are not accepted")


def _decoder_options() -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "strict_hashable_types": True,
        "semantic_decoders": {25: _refuse_reference, 29: _refuse_reference},
    }
    try:
        _CBORDecoder(BytesIO(b""), **wanted)
    except TypeError:  # pragma: no cover - cbor2 < 6
        logger.debug("cbor2 lacks strict_hashable_types/semantic_decoders: plain decoding")
        return {}
    return wanted


_OPTIONS = _decoder_options()
_EMPTY = BytesIO(b"")
_KEEP_MAX = 65536


class CborSerializer(Serializer):
    """``wamp.2.cbor``: CBOR (RFC 8949) with byte strings for bytes.

    Keeps a reusable decoder: use one instance per connection (not shared between threads).
    """

    name = "cbor"
    batched = False

    def __init__(self) -> None:
        super().__init__()
        self._decoder = _CBORDecoder(BytesIO(b""), **_OPTIONS)

    def _loads(self, data: Any) -> Any:
        fp = BytesIO(data)
        decoder = self._decoder
        decoder.fp = fp
        try:
            value = decoder.decode()
        finally:
            # Setting ``fp`` is slow (~0.2 us): only drop a large frame instead of keeping it
            # until the next decode.
            if fp.tell() > _KEEP_MAX:
                decoder.fp = _EMPTY
        if fp.read(1):
            raise SerializationError("invalid cbor data: trailing bytes after the CBOR item")
        return value

    def dumps(self, value: Any) -> bytes:
        try:
            return _dumps(value)
        except Exception as exc:
            raise encode_error("cbor", exc) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return self._loads(data)
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
            wmsg = self._loads(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise decode_error("cbor", exc) from exc
        return parse_message(wmsg)
