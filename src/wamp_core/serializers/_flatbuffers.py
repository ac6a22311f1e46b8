"""The ``wamp.2.flatbuffers`` serializer, wire-compatible with Autobahn.

Each WAMP message is a FlatBuffers ``Message`` table (``wamp.fbs``) whose ``msg`` union holds
the message table. Wire facts (as Autobahn writes them, and as the WAMP test vectors encode):

* The union type byte is the WAMP message type code (``MessageType`` in ``types.fbs``), *not*
  the ordinal of the ``AnyMessage`` union declaration; EVENT_RECEIVED (WAMP code 337) is 37.
* ``args``/``kwargs`` are byte vectors holding the list/dict serialized with the payload
  serializer (CBOR by default); a transparent payload goes into ``payload`` as raw bytes.
* Options/Details keys map onto typed table fields. Autobahn's payload-transparency keys
  ``enc_algo``/``enc_serializer``/``enc_key`` use the ``ppt_scheme``/``ppt_serializer``/
  ``ppt_keyid`` fields; ``ppt_cipher`` uses its own field.

What the format cannot carry (documented loss, see :data:`FLATBUFFERS_LOSSES`):

* Options/Details keys without a table field are dropped (Autobahn drops them too), as are
  keys whose value is ``None``. ABORT's Arguments/ArgumentsKw have no field and are dropped.
* ``authextra`` (HELLO/WELCOME) and CHALLENGE/AUTHENTICATE ``extra`` are a ``Map`` table, which
  holds one string key/value pair: other dicts are dropped (Autobahn never writes them).
* ``roles`` become role tables with boolean feature flags: unknown roles and features and
  false flags are dropped. Autobahn omits ``roles`` (a schema-required field) altogether: a
  HELLO without roles decodes with all four client roles, a WELCOME with broker and dealer,
  none with features.
* A transparent payload given as ``str`` is sent UTF-8 encoded and decodes as ``bytes``.
* A value a field cannot represent (an enum name outside the schema enum, an integer outside
  the field's range, a ``bytes`` ``enc_key``, a wrongly typed value) raises
  :class:`SerializationError` on encoding rather than being dropped silently.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import flatbuffers

from .._errors import ConfigurationError, EncodingError, ProtocolError, SerializationError
from .._messages import Hello, Message, Unregistered, Unsubscribed, Welcome, parse_message
from .._messages._base import new
from .._messages._validation import brief
from ._base import Serializer, decode_error, encode_error
from ._fbs_reader import FbsBuffer, FbsTable
from ._fbs_schema import (
    CLIENT_ROLES,
    OFFSET_KINDS,
    ROUTER_ROLES,
    SCALAR_WIDTH,
    SPECS_BY_CLASS,
    SPECS_BY_UNION_TYPE,
    FieldSpec,
    MessageSpec,
)

__all__ = ["FlatBuffersSerializer", "FLATBUFFERS_LOSSES", "PAYLOAD_SERIALIZERS"]

logger = logging.getLogger(__name__)

#: Human-readable summary of what a FlatBuffers round trip does not preserve.
FLATBUFFERS_LOSSES: Final[tuple[str, ...]] = (
    "Options/Details keys without a schema field are dropped; keys with a None value too",
    "ABORT Arguments/ArgumentsKw are dropped (no schema field)",
    "authextra/extra survive only as a single str->str pair (FlatBuffers Map table)",
    "roles keep only known roles and features whose flag is True",
    "HELLO/WELCOME without roles (as Autobahn sends them) decode with default roles",
    "a str transparent payload decodes as its UTF-8 bytes",
    "UNSUBSCRIBED/UNREGISTERED with a non-zero request and empty Details lose the empty Details",
)

_MAX = {"bool": 1, "u8": 0xFF, "enum": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": 2**64 - 1}
_PREPEND = {
    "bool": "PrependBool",
    "u8": "PrependUint8",
    "enum": "PrependUint8",
    "u16": "PrependUint16",
    "u32": "PrependUint32",
    "u64": "PrependUint64",
}
_DEFAULT_CLIENT_ROLES: Final = ("publisher", "subscriber", "caller", "callee")
_DEFAULT_ROUTER_ROLES: Final = ("broker", "dealer")


def _fail(what: str, value: Any) -> EncodingError:
    return EncodingError(f"FlatBuffers cannot represent {what}={brief(value)}")


#: Payload serializers Autobahn accepts for the envelope's args/kwargs (it defaults to CBOR).
PAYLOAD_SERIALIZERS: Final[tuple[str, ...]] = ("cbor", "msgpack", "json", "ubjson")


class FlatBuffersSerializer(Serializer):
    """WAMP over FlatBuffers (``wamp.2.flatbuffers``, RawSocket serializer id 5).

    ``payload_serializer`` (``"cbor"``, Autobahn's default, ``"msgpack"``, ``"json"`` or
    ``"ubjson"``) encodes Arguments/ArgumentsKw inside the envelope, with the same rules as that
    serializer on its own; :meth:`dumps`/:meth:`loads` use it too. Both peers must agree on it:
    it is not negotiated.
    """

    name = "flatbuffers"
    batched = False

    def __init__(self, payload_serializer: str = "cbor") -> None:
        if payload_serializer not in PAYLOAD_SERIALIZERS:
            raise ConfigurationError(
                f"unsupported FlatBuffers payload serializer {payload_serializer!r} "
                f"(choose from {', '.join(PAYLOAD_SERIALIZERS)})"
            )
        from . import get_serializer  # the registry imports this module lazily

        self.payload_serializer = payload_serializer
        codec = get_serializer(payload_serializer)
        self._dump = codec.dumps
        self._load = codec.loads

    def __repr__(self) -> str:
        return f"FlatBuffersSerializer(payload_serializer={self.payload_serializer!r})"

    # ----------------------------------------------------------------------------------------
    # Generic values (the payload serializer)

    def dumps(self, value: Any) -> bytes:
        """Serialize an application value with the payload serializer."""
        return self._dump(value)

    def loads(self, data: bytes) -> Any:
        """Deserialize an application value with the payload serializer."""
        return self._load(data)

    # ----------------------------------------------------------------------------------------
    # Encoding

    def encode(self, message: Message) -> bytes:
        """One message as a finished FlatBuffers buffer."""
        spec = SPECS_BY_CLASS.get(type(message))
        if spec is None:
            raise EncodingError(f"not a WAMP message: {brief(message)}")
        try:
            return self._encode(spec, message)
        except EncodingError:
            raise
        except Exception as exc:  # defensive: only SerializationError leaves encode()
            raise encode_error(self.name, exc, message) from exc

    def _encode(self, spec: MessageSpec, message: Message) -> bytes:
        details = message[spec.dict_index] if spec.dict_index is not None else None
        values: dict[str, Any] = {}
        for field in spec.fields:
            if field.index is not None:
                value = message[field.index]
            elif details is not None:
                value = details.get(field.key)
            else:
                continue
            if value is not None:
                values[field.name] = value
        if "@payload" in values and ("@args" in values or "@kwargs" in values):
            raise SerializationError("a message cannot carry both a payload and arguments")

        builder = flatbuffers.Builder(256)
        by_name = {field.name: field for field in spec.fields}
        offsets: dict[str, int] = {}
        for name in spec.create:
            if name in values:
                offset = self._build_offset(builder, by_name[name], values[name])
                if offset is not None:
                    offsets[name] = offset

        builder.StartObject(spec.nfields)
        for field in spec.fields:
            if field.name not in values:
                continue
            if field.kind in OFFSET_KINDS:
                offset = offsets.get(field.name)
                if offset is not None:
                    builder.PrependUOffsetTRelativeSlot(field.slot, offset, 0)
                continue
            scalar = _scalar(field, values[field.name])
            # Positional numbers are written only when non-zero (zero is the schema default
            # and what an absent field reads as); dict values are written whenever the key is
            # present, so explicit defaults such as ``exclude_me: True`` survive a round trip.
            if field.index is not None and scalar == 0:
                continue
            getattr(builder, _PREPEND[field.kind])(scalar)
            builder.Slot(field.slot)
        body = builder.EndObject()

        builder.StartObject(2)
        builder.PrependUint8Slot(0, spec.union_type, 0)
        builder.PrependUOffsetTRelativeSlot(1, body, 0)
        builder.Finish(builder.EndObject())
        return bytes(builder.Output())

    def _build_offset(self, builder: Any, field: FieldSpec, value: Any) -> int | None:
        kind = field.kind
        what = field.key or field.name[1:]
        if kind == "str":
            if type(value) is not str:
                raise _fail(what, value)
            return builder.CreateString(value)  # type: ignore[no-any-return]
        if kind == "payload":
            data = value.encode("utf-8") if type(value) is str else value
            if type(data) is not bytes:
                raise _fail(what, value)
            return builder.CreateByteVector(data)  # type: ignore[no-any-return]
        if kind in ("args", "kwargs"):
            return builder.CreateByteVector(self._dump(value))  # type: ignore[no-any-return]
        if kind == "u64s":
            if type(value) is not list or not all(_in_range(x, "u64") for x in value):
                raise _fail(what, value)
            builder.StartVector(8, len(value), 8)
            for item in reversed(value):
                builder.PrependUint64(item)
            return builder.EndVector()  # type: ignore[no-any-return]
        if kind == "enums":
            names = field.enum or {}
            if type(value) is not list or not all(type(x) is str and x in names for x in value):
                raise _fail(what, value)
            builder.StartVector(1, len(value), 1)
            for item in reversed(value):
                builder.PrependUint8(names[item])
            return builder.EndVector()  # type: ignore[no-any-return]
        if kind == "strs":
            if type(value) is not list or not all(type(x) is str for x in value):
                raise _fail(what, value)
            return _offset_vector(builder, [builder.CreateString(x) for x in value])
        if kind == "principals":
            if type(value) is not list:
                raise _fail(what, value)
            return _offset_vector(builder, [_build_principal(builder, hop) for hop in value])
        if kind == "map":
            return _build_map(builder, what, value)
        if kind == "client_roles":
            return _build_roles(builder, value, CLIENT_ROLES)
        if kind == "router_roles":
            return _build_roles(builder, value, ROUTER_ROLES)
        raise AssertionError(kind)  # pragma: no cover

    # ----------------------------------------------------------------------------------------
    # Decoding

    def decode(self, data: bytes) -> Message:
        """Decode one FlatBuffers buffer into a validated message."""
        try:
            wmsg = self._decode(data if type(data) is bytes else bytes(memoryview(data)))
        except ProtocolError:
            raise
        except Exception as exc:  # defensive: a hostile buffer must only yield our errors
            raise decode_error(self.name, exc) from exc
        return parse_message(wmsg)

    def _decode(self, data: bytes) -> list[Any]:
        buf = FbsBuffer(data)
        root = buf.root()
        union_type = root.scalar(0, 1)
        spec = SPECS_BY_UNION_TYPE.get(union_type or 0)
        if spec is None:
            raise SerializationError(f"unsupported FlatBuffers message type {union_type}")
        table = root.table(1)
        if table is None:
            raise SerializationError("FlatBuffers message without a body")

        cls = spec.cls
        items: list[Any] = [None] * len(cls.FIELDS)
        details: dict[str, Any] = {}
        for field in spec.fields:
            value = self._read(table, field)
            if field.index is not None:
                items[field.index] = value
            elif value is not None:
                details[field.key] = value  # type: ignore[index]
        if items[-1] is not None and cls.FIELDS[-1] == "payload":
            n = len(cls.FIELDS)
            if items[n - 3] is not None or items[n - 2] is not None:
                raise SerializationError("both a transparent payload and arguments are set")
        if spec.dict_index is not None:
            items[spec.dict_index] = details

        # Absent positional fields read as their schema default.
        for field in spec.fields:
            if field.index is None or items[field.index] is not None:
                continue
            if field.kind in SCALAR_WIDTH and field.kind != "enum":
                items[field.index] = 0
            elif field.kind == "map":
                items[field.index] = {}
            elif field.name == "@signature":
                items[field.index] = ""  # Autobahn omits an empty signature
        if cls is Hello or cls is Welcome:
            if "roles" not in details:
                defaults = _DEFAULT_CLIENT_ROLES if cls is Hello else _DEFAULT_ROUTER_ROLES
                details["roles"] = {role: {} for role in defaults}
        elif (cls is Unsubscribed or cls is Unregistered) and items[0] != 0 and not details:
            items[1] = None  # a plain acknowledgement, not a router revocation
        return new(cls, tuple(items)).to_list()

    def _read(self, table: FbsTable, field: FieldSpec) -> Any:
        kind = field.kind
        slot = field.slot
        width = SCALAR_WIDTH.get(kind)
        if width is not None:
            number = table.scalar(slot, width)
            if number is None:
                return None
            if kind == "bool":
                return number != 0
            if kind == "enum":
                return _enum_name(field, number)
            return number
        if kind == "str":
            return table.string(slot)
        if kind == "payload":
            return table.blob(slot)
        if kind in ("args", "kwargs"):
            blob = table.blob(slot)
            if blob is None:
                return None
            return self._load(blob)
        if kind == "u64s":
            return table.scalars(slot, 8)
        if kind == "enums":
            numbers = table.scalars(slot, 1)
            return None if numbers is None else [_enum_name(field, n, strict=True) for n in numbers]
        if kind == "strs":
            return table.strings(slot)
        if kind == "principals":
            hops = table.tables(slot)
            if hops is None:
                return None
            return [
                {
                    "session": hop.scalar(0, 8) or 0,
                    "authid": hop.string(1),
                    "authrole": hop.string(2),
                }
                for hop in hops
            ]
        if kind == "map":
            entry = table.table(slot)
            if entry is None:
                return None
            key = entry.string(0)
            if key is None:
                raise SerializationError("FlatBuffers Map without a key")
            return {key: entry.string(1)}
        if kind in ("client_roles", "router_roles"):
            roles = table.table(slot)
            if roles is None:
                return None
            return _read_roles(roles, CLIENT_ROLES if kind == "client_roles" else ROUTER_ROLES)
        raise AssertionError(kind)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Helpers


def _in_range(value: Any, kind: str) -> bool:
    return type(value) is int and 0 <= value <= _MAX[kind]


def _scalar(field: FieldSpec, value: Any) -> int | bool:
    what = field.key or field.name[1:]
    kind = field.kind
    if kind == "bool":
        if type(value) is not bool:
            raise _fail(what, value)
        return value
    if kind == "enum":
        number = field.enum.get(value) if type(value) is str and field.enum else None
        if number is None:
            raise _fail(what, value)
        return number
    if not _in_range(value, kind):
        raise _fail(what, value)
    return value  # type: ignore[no-any-return]


def _enum_name(field: FieldSpec, number: int, *, strict: bool = False) -> str | None:
    name = field.names.get(number) if field.names is not None else None
    if name is None:
        if number == 0 and not strict:
            return None  # NULL/NONE: the same as an absent field
        raise SerializationError(
            f"unknown {field.key or field.name[1:]} enum value {number} in FlatBuffers data"
        )
    return name


def _offset_vector(builder: Any, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()  # type: ignore[no-any-return]


def _build_principal(builder: Any, hop: Any) -> int:
    """One ``forward_for`` hop as a ``Principal`` table (other hop keys are dropped)."""
    if type(hop) is not dict:
        raise _fail("forward_for", hop)
    session = hop.get("session", 0)
    authid = hop.get("authid")
    authrole = hop.get("authrole")
    if not _in_range(session, "u64"):
        raise _fail("forward_for.session", session)
    for what, text in (("authid", authid), ("authrole", authrole)):
        if text is not None and type(text) is not str:
            raise _fail(f"forward_for.{what}", text)
    authid_offset = builder.CreateString(authid) if authid is not None else None
    authrole_offset = builder.CreateString(authrole) if authrole is not None else None
    builder.StartObject(3)
    builder.PrependUint64Slot(0, session, 0)
    if authid_offset is not None:
        builder.PrependUOffsetTRelativeSlot(1, authid_offset, 0)
    if authrole_offset is not None:
        builder.PrependUOffsetTRelativeSlot(2, authrole_offset, 0)
    return builder.EndObject()  # type: ignore[no-any-return]


def _build_map(builder: Any, what: str, value: Any) -> int | None:
    """A ``Map`` table for a one-entry str->str dict; anything else is dropped."""
    if type(value) is not dict:
        raise _fail(what, value)
    if len(value) != 1:
        if value:
            logger.debug("FlatBuffers: dropping %s (a Map holds one str->str pair)", what)
        return None
    ((key, text),) = value.items()
    if type(key) is not str or type(text) is not str:
        logger.debug("FlatBuffers: dropping %s (a Map holds one str->str pair)", what)
        return None
    key_offset = builder.CreateString(key)
    text_offset = builder.CreateString(text)
    builder.StartObject(2)
    builder.PrependUOffsetTRelativeSlot(0, key_offset, 0)
    builder.PrependUOffsetTRelativeSlot(1, text_offset, 0)
    return builder.EndObject()  # type: ignore[no-any-return]


def _build_roles(builder: Any, roles: Any, layout: tuple[tuple[str, tuple[str, ...]], ...]) -> int:
    if type(roles) is not dict:
        raise _fail("roles", roles)
    role_offsets: list[int | None] = []
    for role, features in layout:
        if role not in roles:
            role_offsets.append(None)
            continue
        info = roles[role]
        flags = info.get("features") if type(info) is dict else None
        if type(flags) is not dict:
            flags = {}
        builder.StartObject(len(features))
        for slot, feature in enumerate(features):
            if flags.get(feature) is True:
                builder.PrependBoolSlot(slot, True, False)
        role_offsets.append(builder.EndObject())
    if all(offset is None for offset in role_offsets):
        raise _fail("roles", roles)
    builder.StartObject(len(layout))
    for slot, offset in enumerate(role_offsets):
        if offset is not None:
            builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
    return builder.EndObject()  # type: ignore[no-any-return]


def _read_roles(table: FbsTable, layout: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for slot, (role, features) in enumerate(layout):
        info = table.table(slot)
        if info is None:
            continue
        flags = {name: True for i, name in enumerate(features) if info.scalar(i, 1)}
        roles[role] = {"features": flags} if flags else {}
    return roles
