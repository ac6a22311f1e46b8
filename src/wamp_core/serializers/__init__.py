"""WAMP serializers and their registry.

:func:`get_serializer` returns a new instance on every call (some serializers keep
per-connection state): use one per connection. ``ubjson`` and ``flatbuffers`` are imported on
first use; when one is not available (module or dependency missing) the lookup raises
:class:`~wamp_core.ConfigurationError` saying why.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .._errors import ConfigurationError
from .._wire import (
    BATCHABLE_SERIALIZERS,
    RAWSOCKET_SERIALIZER_IDS,
    SERIALIZER_NAMES,
    serializer_for_subprotocol_name,
)
from ._base import Serializer as Serializer
from ._batched import BatchedSerializer as BatchedSerializer
from ._cbor import CborSerializer as CborSerializer
from ._json import JsonSerializer as JsonSerializer
from ._msgpack import MsgpackSerializer as MsgpackSerializer

__all__ = [
    "Serializer",
    "BatchedSerializer",
    "JsonSerializer",
    "MsgpackSerializer",
    "CborSerializer",
    "get_serializer",
    "serializer_for_subprotocol",
    "serializer_for_rawsocket_id",
    "SERIALIZER_NAMES",
]

# Base serializer name -> (module in this package, class name). Names and RawSocket ids: one
# table, in ``_wire``.
_BASE: dict[str, tuple[str, str]] = {
    "json": ("._json", "JsonSerializer"),
    "msgpack": ("._msgpack", "MsgpackSerializer"),
    "cbor": ("._cbor", "CborSerializer"),
    "ubjson": ("._ubjson", "UbjsonSerializer"),
    "flatbuffers": ("._flatbuffers", "FlatBuffersSerializer"),
}

_BY_RAWSOCKET_ID = {sid: name for name, sid in RAWSOCKET_SERIALIZER_IDS.items()}


def _base_class(name: str) -> Callable[[], Serializer]:
    module_name, class_name = _BASE[name]
    try:
        module = importlib.import_module(module_name, __name__)
    except ImportError as exc:
        raise ConfigurationError(
            f"the {name} serializer is not available: cannot import "
            f"{__name__}{module_name} ({type(exc).__name__}: {exc})"
        ) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConfigurationError(
            f"the {name} serializer is not available: {__name__}{module_name} has no {class_name}"
        )
    return cls  # type: ignore[no-any-return]


def get_serializer(name: str) -> Serializer:
    """A new serializer instance by name: ``"json"``, ``"msgpack"``, ``"cbor"``, ``"ubjson"``,
    ``"flatbuffers"``, or ``"<name>.batched"`` (not for flatbuffers).

    Raises :class:`~wamp_core.ConfigurationError` for an unknown or unavailable serializer.
    """
    if name in _BASE:
        return _base_class(name)()
    base, dot, suffix = name.rpartition(".")
    if dot and suffix == "batched" and base in BATCHABLE_SERIALIZERS:
        return BatchedSerializer(_base_class(base)())
    raise ConfigurationError(f"unknown serializer {name!r}; known: {', '.join(SERIALIZER_NAMES)}")


def serializer_for_subprotocol(subprotocol: str) -> Serializer:
    """The serializer for a WebSocket subprotocol such as ``"wamp.2.cbor.batched"``.

    Raises :class:`~wamp_core.ConfigurationError` if unknown or unavailable.
    """
    name = serializer_for_subprotocol_name(subprotocol)
    if name is not None:
        return get_serializer(name)
    raise ConfigurationError(f"unknown WAMP WebSocket subprotocol {subprotocol!r}")


def serializer_for_rawsocket_id(serializer_id: int) -> Serializer:
    """The serializer for a RawSocket serializer id (1 json ... 5 flatbuffers).

    Raises :class:`~wamp_core.ConfigurationError` if unknown or unavailable.
    """
    name = _BY_RAWSOCKET_ID.get(serializer_id) if type(serializer_id) is int else None
    if name is None:
        raise ConfigurationError(f"unknown RawSocket serializer id {serializer_id!r}")
    return get_serializer(name)
