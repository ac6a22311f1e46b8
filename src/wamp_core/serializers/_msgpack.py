"""The WAMP MessagePack serializer (``wamp.2.msgpack``, RawSocket id 2).

``bytes`` travel as MessagePack ``bin`` and ``str`` as ``str`` (``use_bin_type=True``); strings
are decoded as UTF-8 (``raw=False``, invalid UTF-8 is an error). Map keys must be ``str`` or
``bytes`` on decode (msgpack's ``strict_map_key``: it also prevents hash-flooding with
integer keys). Integers must fit in 64 bits (signed or unsigned). Extension types decode to
``msgpack.ExtType`` / ``msgpack.Timestamp`` values as msgpack does by default. Nesting deeper
than msgpack's stack (1024 levels) is rejected.

These are msgpack's defaults since 1.0, which the calls below rely on: passing keyword
arguments on every call costs a dict per message.

The encode/decode methods repeat the other codecs' shape on purpose (``duplicates`` lists
them): each is a per-codec fast path that calls its library directly (``benchmarks/codec.py``).
"""

from __future__ import annotations

from typing import Any

import msgpack

from .._errors import ProtocolError
from .._messages import PARSERS, Message, parse_message
from ._base import Serializer, decode_error, encode_error

__all__ = ["MsgpackSerializer"]

if msgpack.version < (1, 0, 0):  # pragma: no cover - excluded by the dependency pin
    raise ImportError("wamp_core needs msgpack >= 1.0 (use_bin_type/raw defaults)")

_packb = msgpack.packb  # use_bin_type=True is the default
_PARSERS = PARSERS
_unpackb = msgpack.unpackb  # raw=False, strict_map_key=True are the defaults


class MsgpackSerializer(Serializer):
    """``wamp.2.msgpack``: MessagePack with ``bin`` for bytes and UTF-8 ``str`` for text."""

    name = "msgpack"
    batched = False

    def __init__(self) -> None:
        # One Packer per serializer (one per connection): half the cost of packb, which builds
        # a Packer per call. Packer.pack resets its buffer when packing fails.
        self._pack = msgpack.Packer().pack

    def dumps(self, value: Any) -> bytes:
        try:
            return _packb(value)  # type: ignore[no-any-return]
        except Exception as exc:
            raise encode_error("msgpack", exc) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return _unpackb(data)
        except Exception as exc:
            raise decode_error("msgpack", exc) from exc

    def encode(self, message: Message) -> bytes:
        wmsg = message.to_list()
        try:
            return self._pack(wmsg)  # type: ignore[no-any-return]
        except Exception as exc:
            raise encode_error("msgpack", exc, message) from exc

    def decode(self, data: bytes) -> Message:
        try:
            wmsg = _unpackb(data)
        except Exception as exc:
            raise decode_error("msgpack", exc) from exc
        # Hot path: dispatch straight to the message parser (saves a call frame); anything
        # unusual (no list, empty, unknown type, a parser failing other than with a
        # ProtocolError) goes through parse_message, which owns the error handling.
        try:
            if type(wmsg) is list:
                code = wmsg[0]
                if type(code) is int:
                    return _PARSERS[code](wmsg)
        except ProtocolError:
            raise
        except Exception:
            pass
        return parse_message(wmsg)
