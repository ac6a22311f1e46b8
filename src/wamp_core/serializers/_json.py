"""The WAMP JSON serializer (``wamp.2.json``, RawSocket id 1, WebSocket text frames).

Wire rules:

* RFC 8259 JSON in UTF-8, compact separators, non-ASCII characters unescaped. ``NaN`` and
  infinities are not JSON: encoding them raises. Decoding accepts ``NaN``, ``Infinity`` and
  ``-Infinity`` (and ``1e400`` as infinity), as Python's ``json`` and Autobahn do: a router
  relays them to JSON peers when a peer on a binary serializer sent such a float, and refusing
  them would end the receiver's session over another peer's payload. Invalid UTF-8 or a
  byte-order mark is rejected.
* Binary values (spec ``advanced/serialization_binary_json.md``): ``bytes`` anywhere in a
  message are sent as the string ``"\\u0000" + base64(bytes)`` (standard alphabet, padded), and
  every decoded string that starts with U+0000 is turned back into ``bytes``. Consequently a
  text string starting with U+0000 cannot be sent as text: encoding one raises (the receiver
  would take it for bytes). A peer on a binary serializer may send such text, and a router
  relays it as it is: when its rest is not base64 it is decoded as the text it is (it used to
  end the receiving session); when its rest happens to be base64 it reads as bytes, as on
  every WAMP JSON peer (the convention cannot tell them apart).
* Dict keys that are ``int``/``float``/``bool``/``None`` are turned into strings by the
  encoder (standard ``json`` behaviour); other non-string keys are an error.

Decoding accepts ``bytes`` (or any buffer) and also ``str`` (a WebSocket text message already
decoded by the WebSocket library).

The encode/decode methods repeat the other codecs' shape on purpose (``duplicates`` lists
them): each is a per-codec fast path that calls its library directly (``benchmarks/codec.py``).
"""

from __future__ import annotations

import json
import json.decoder
import json.encoder
from base64 import b64decode
from binascii import b2a_base64
from typing import Any

from .._messages import Message, parse_message
from ._base import Serializer, decode_error, encode_error

__all__ = ["JsonSerializer"]

# JSON can only carry U+0000 escaped, so the raw text of a message with binary values contains
# this escape; without it no string can start with U+0000 and the bytes pass is skipped.
_NUL_ESCAPE = "\\u0000"
_NUL_BYTES = _NUL_ESCAPE.encode("ascii")
_BUFFER_TYPES = (bytes, bytearray, memoryview)


def _default(value: Any) -> str:
    """Encoder hook: binary values become ``"\\u0000" + base64``."""
    if isinstance(value, _BUFFER_TYPES):
        return "\x00" + b2a_base64(value, newline=False).decode("ascii")
    raise TypeError(f"{type(value).__name__} values cannot be encoded in JSON")


def _check_text(container: Any) -> None:
    """Refuse a text string starting with U+0000 inside an encoded list/dict: on the wire it
    reads as binary (the encoded text holds ``\\u0000`` then: only such messages are walked)."""
    items = container.values() if isinstance(container, dict) else container
    for item in items:
        if type(item) is str:
            if item[:1] == "\x00":
                raise ValueError(
                    "a string starting with U+0000 cannot be sent in JSON: it reads as binary"
                    " (send bytes, or text that does not start with U+0000)"
                )
        elif isinstance(item, list | tuple | dict):
            _check_text(item)


_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_c_encode_basestring: Any = getattr(json.encoder, "c_encode_basestring", None)
_encoder = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    allow_nan=False,
    check_circular=False,  # a cycle ends in RecursionError, reported as SerializationError
    default=_default,
)
if _c_make_encoder is not None and _c_encode_basestring is not None:
    # The C encoder built once (``JSONEncoder.encode`` rebuilds it on every call).
    _c_encoder = _c_make_encoder(
        None, _default, _c_encode_basestring, None, ":", ",", False, False, False
    )

    def _encode(value: Any) -> bytes:
        return "".join(_c_encoder(value, 0)).encode("utf-8")

else:  # pragma: no cover - interpreters without the C accelerator

    def _encode(value: Any) -> bytes:
        return _encoder.encode(value).encode("utf-8")


_decoder = json.JSONDecoder()
# The C scanner when available (typeshed does not declare the attribute).
_scan_once: Any = _decoder.scan_once  # type: ignore[attr-defined]


def _from_b64(text: str) -> bytes | str:
    """A string starting with U+0000: the bytes its base64 rest stands for, or, when the rest
    is not base64, the string itself (text a peer on a binary serializer sent, relayed as it
    is: it must not end this session)."""
    try:
        return b64decode(text[1:], validate=True)
    except ValueError:  # (binascii.Error, or text that is not ASCII)
        return text


def _restore(container: Any) -> None:
    """Turn every ``"\\u0000..."`` string inside a decoded list/dict into bytes, in place."""
    items = enumerate(container) if type(container) is list else container.items()
    for key, item in items:
        kind = type(item)
        if kind is str:
            if item[:1] == "\x00":
                container[key] = _from_b64(item)
        elif kind is list or kind is dict:
            _restore(item)


def _loads(data: Any) -> Any:
    text = data if type(data) is str else str(data, "utf-8")
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        # Surrounding whitespace (accepted) or garbage (JSONDecodeError).
        value = _decoder.decode(text)
    if _NUL_ESCAPE in text:
        kind = type(value)
        if kind is list or kind is dict:
            _restore(value)
        elif kind is str and value[:1] == "\x00":
            value = _from_b64(value)
    return value


class JsonSerializer(Serializer):
    """``wamp.2.json``: JSON text with the ``"\\u0000" + base64`` convention for bytes."""

    name = "json"
    batched = False

    def dumps(self, value: Any) -> bytes:
        try:
            data = _encode(value)
            if _NUL_BYTES in data:
                _check_text([value])
            return data
        except Exception as exc:
            raise encode_error("json", exc) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return _loads(data)
        except Exception as exc:
            raise decode_error("json", exc) from exc

    def encode(self, message: Message) -> bytes:
        wmsg = message.to_list()
        try:
            data = _encode(wmsg)
            if _NUL_BYTES in data:
                _check_text(wmsg)
            return data
        except Exception as exc:
            raise encode_error("json", exc, message) from exc

    def decode(self, data: bytes) -> Message:
        try:
            wmsg = _loads(data)
        except Exception as exc:
            raise decode_error("json", exc) from exc
        return parse_message(wmsg)
