"""How each WAMP message maps onto the tables of Autobahn's ``wamp.fbs`` schema.

Each :class:`MessageSpec` lists the table fields of one message type in the order Autobahn adds
them to the table (``fields``) and the order it builds the referenced strings and vectors
before the table (``create``): following both orders makes our buffers byte-identical to
Autobahn's for the same content. Slot numbers are the field positions in the schema tables
(``autobahn/wamp/flatbuffers/*.fbs``).

A field is either *positional* (an element of the message tuple, named as in
``Message.FIELDS``) or a *key* of the message's Options/Details dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._messages import (
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    EventReceived,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
)

__all__ = [
    "FieldSpec",
    "MessageSpec",
    "SPECS",
    "SPECS_BY_UNION_TYPE",
    "SPECS_BY_CLASS",
    "OFFSET_KINDS",
    "SCALAR_WIDTH",
    "CLIENT_ROLES",
    "ROUTER_ROLES",
]

# Field kinds. Scalars live inline in the table; the others are offsets to a string/vector/table.
SCALAR_WIDTH: Final[dict[str, int]] = {"bool": 1, "u8": 1, "enum": 1, "u16": 2, "u32": 4, "u64": 8}
OFFSET_KINDS: Final[frozenset[str]] = frozenset(
    {
        "str",  # string
        "payload",  # [uint8]: transparent payload (bytes)
        "args",  # [uint8]: Arguments serialized with the payload serializer
        "kwargs",  # [uint8]: ArgumentsKw serialized with the payload serializer
        "u64s",  # [uint64]
        "strs",  # [string]
        "enums",  # [uint8 enum]
        "principals",  # [Principal]: forward_for
        "map",  # Map: a single string key/value pair
        "client_roles",  # ClientRoles
        "router_roles",  # RouterRoles
    }
)

# Enums (types.fbs, auth.fbs). A value 0 that has no name here means "unset".
AUTH_METHODS: Final = {"anonymous": 0, "ticket": 1, "wampcra": 2, "wamp-scram": 3, "cryptosign": 4}
CHALLENGE_METHODS: Final = {"ticket": 1, "wampcra": 2, "wamp-scram": 3, "cryptosign": 4}
PPT_SCHEMES: Final = {"cryptobox": 1, "mqtt": 2, "xbr": 3}
PPT_SERIALIZERS: Final = {
    "json": 1, "msgpack": 2, "cbor": 3, "ubjson": 4, "opaque": 5, "flatbuffers": 6,
    "flexbuffers": 7,
}  # fmt: skip
PPT_CIPHERS: Final = {"xsalsa20poly1305": 1, "aes256gcm": 2}
MATCH: Final = {"exact": 0, "prefix": 1, "wildcard": 2}
INVOKE: Final = {"single": 0, "first": 1, "last": 2, "roundrobin": 3, "random": 4}
CANCEL_MODES: Final = {"skip": 0, "kill": 1, "killnowait": 2}

# roles.fbs: role tables in slot order, each with its boolean feature flags in slot order.
CLIENT_ROLES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("publisher", (
        "publisher_identification", "publisher_exclusion", "subscriber_blackwhite_listing",
        "acknowledge_event_received", "payload_transparency", "payload_encryption_cryptobox",
    )),
    ("subscriber", (
        "publisher_identification", "pattern_based_subscription", "publication_trustlevels",
        "subscription_revocation", "event_history", "acknowledge_subscriber_received",
        "payload_transparency", "payload_encryption_cryptobox",
    )),
    ("caller", (
        "caller_identification", "call_timeout", "call_canceling", "progressive_call_results",
        "payload_transparency", "payload_encryption_cryptobox",
    )),
    ("callee", (
        "caller_identification", "call_trustlevels", "call_timeout", "call_canceling",
        "progressive_call_results", "registration_revocation", "pattern_based_registration",
        "shared_registration", "payload_transparency", "payload_encryption_cryptobox",
    )),
)  # fmt: skip
ROUTER_ROLES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("broker", (
        "publisher_identification", "publisher_exclusion", "subscriber_blackwhite_listing",
        "pattern_based_subscription", "publication_trustlevels", "subscription_revocation",
        "session_meta_api", "subscription_meta_api", "event_retention", "event_history",
        "acknowledge_event_received", "acknowledge_subscriber_received", "payload_transparency",
        "payload_encryption_cryptobox",
    )),
    ("dealer", (
        "caller_identification", "call_trustlevels", "call_timeout", "call_canceling",
        "progressive_call_results", "registration_revocation", "pattern_based_registration",
        "shared_registration", "session_meta_api", "registration_meta_api", "testament_meta_api",
        "payload_transparency", "payload_encryption_cryptobox",
    )),
)  # fmt: skip


class FieldSpec:
    """One table field: where its value comes from and how it is stored."""

    __slots__ = ("enum", "index", "key", "kind", "name", "names", "slot")

    def __init__(
        self,
        name: str,
        slot: int,
        kind: str,
        *,
        index: int | None,
        key: str | None,
        enum: Mapping[str, int] | None = None,
    ) -> None:
        self.name = name
        self.slot = slot
        self.kind = kind
        #: Position in the message tuple (positional fields), else None.
        self.index = index
        #: Key in the Options/Details dict (dict fields), else None.
        self.key = key
        self.enum = enum
        self.names = {v: k for k, v in enum.items()} if enum is not None else None


class MessageSpec:
    """The table layout of one message type."""

    __slots__ = ("cls", "create", "dict_index", "fields", "nfields", "union_type")

    def __init__(  # noqa: PLR0917 - the table below reads better positionally
        self,
        cls: type[Message],
        union_type: int,
        nfields: int,
        dict_name: str | None,
        fields: list[tuple[str, int, str] | tuple[str, int, str, Mapping[str, int]]],
        create: tuple[str, ...] = (),
    ) -> None:
        self.cls = cls
        self.union_type = union_type
        self.nfields = nfields
        self.dict_index = cls.FIELDS.index(dict_name) if dict_name is not None else None
        specs: list[FieldSpec] = []
        for item in fields:
            name, slot, kind = item[0], item[1], item[2]
            enum = item[3] if len(item) == 4 else None
            if name.startswith("@"):
                spec = FieldSpec(
                    name, slot, kind, index=cls.FIELDS.index(name[1:]), key=None, enum=enum
                )
            else:
                spec = FieldSpec(name, slot, kind, index=None, key=name, enum=enum)
            specs.append(spec)
        self.fields = tuple(specs)
        self.create = create


# The payload "6-set" (Autobahn's names) plus the PPT cipher, shared by the 7 payload messages.
def _ppt(scheme: int) -> list[tuple[str, int, str] | tuple[str, int, str, Mapping[str, int]]]:
    return [
        ("enc_algo", scheme, "enum", PPT_SCHEMES),
        ("enc_serializer", scheme + 1, "enum", PPT_SERIALIZERS),
        ("ppt_cipher", scheme + 2, "enum", PPT_CIPHERS),
        ("enc_key", scheme + 3, "str"),
    ]


_APP = ("@args", "@kwargs", "@payload")

SPECS: Final[tuple[MessageSpec, ...]] = (
    MessageSpec(
        Hello, 1, 10, "details",
        [
            ("@realm", 2, "str"), ("authid", 4, "str"), ("authrole", 5, "str"),
            ("resumable", 7, "bool"), ("resume_session", 8, "u64"), ("resume_token", 9, "str"),
            ("roles", 1, "client_roles"), ("authmethods", 3, "enums", AUTH_METHODS),
            ("authextra", 6, "map"),
        ],
        ("@realm", "authid", "authrole", "resume_token", "roles", "authmethods", "authextra"),
    ),
    MessageSpec(
        Welcome, 2, 11, "details",
        [
            ("@session_id", 0, "u64"), ("realm", 2, "str"), ("authid", 3, "str"),
            ("authrole", 4, "str"), ("authprovider", 6, "str"), ("resumed", 8, "bool"),
            ("resumable", 9, "bool"), ("resume_token", 10, "str"), ("roles", 1, "router_roles"),
            ("authmethod", 5, "enum", AUTH_METHODS), ("authextra", 7, "map"),
        ],
        ("realm", "authid", "authrole", "authprovider", "resume_token", "roles", "authextra"),
    ),
    MessageSpec(
        Abort, 3, 3, "details",
        [("@reason", 1, "str"), ("message", 2, "str")],
        ("@reason", "message"),
    ),
    MessageSpec(
        Challenge, 4, 3, None,
        [("@method", 1, "enum", CHALLENGE_METHODS), ("@extra", 2, "map")],
        ("@extra",),
    ),
    MessageSpec(
        Authenticate, 5, 3, None,
        [("@signature", 1, "str"), ("@extra", 2, "map")],
        ("@signature", "@extra"),
    ),
    MessageSpec(
        Goodbye, 6, 4, "details",
        [("@reason", 1, "str"), ("message", 2, "str"), ("resumable", 3, "bool")],
        ("@reason", "message"),
    ),
    MessageSpec(
        Error, 8, 12, "details",
        [
            ("@request_type", 1, "u16"), ("@request_id", 2, "u64"), ("@error", 3, "str"),
            ("@args", 4, "args"), ("@kwargs", 5, "kwargs"), ("@payload", 6, "payload"),
            *_ppt(7), ("forward_for", 11, "principals"),
        ],
        (*_APP, "@error", "enc_key", "forward_for"),
    ),
    MessageSpec(
        Publish, 16, 21, "options",
        [
            ("@request_id", 1, "u64"), ("@topic", 2, "str"),
            ("@args", 3, "args"), ("@kwargs", 4, "kwargs"), ("@payload", 5, "payload"),
            *_ppt(6), ("acknowledge", 10, "bool"), ("exclude_me", 11, "bool"),
            ("exclude", 12, "u64s"), ("exclude_authid", 13, "strs"),
            ("exclude_authrole", 14, "strs"), ("eligible", 15, "u64s"),
            ("eligible_authid", 16, "strs"), ("eligible_authrole", 17, "strs"),
            ("retain", 18, "bool"), ("transaction_hash", 19, "str"),
            ("forward_for", 20, "principals"),
        ],
        (
            *_APP, "@topic", "transaction_hash", "enc_key", "exclude", "exclude_authid",
            "exclude_authrole", "eligible", "eligible_authid", "eligible_authrole", "forward_for",
        ),
    ),
    MessageSpec(Published, 17, 3, None, [("@request_id", 1, "u64"), ("@publication_id", 2, "u64")]),
    MessageSpec(
        Subscribe, 32, 5, "options",
        [
            ("@request_id", 1, "u64"), ("@topic", 2, "str"), ("match", 3, "enum", MATCH),
            ("get_retained", 4, "bool"),
        ],
        ("@topic",),
    ),
    MessageSpec(
        Subscribed, 33, 3, None, [("@request_id", 1, "u64"), ("@subscription_id", 2, "u64")]
    ),
    MessageSpec(
        Unsubscribe, 34, 3, None, [("@request_id", 1, "u64"), ("@subscription_id", 2, "u64")]
    ),
    MessageSpec(
        Unsubscribed, 35, 4, "details",
        [("@request_id", 1, "u64"), ("subscription", 2, "u64"), ("reason", 3, "str")],
        ("reason",),
    ),
    MessageSpec(
        Event, 36, 18, "details",
        [
            ("@subscription_id", 1, "u64"), ("@publication_id", 2, "u64"),
            ("@args", 3, "args"), ("@kwargs", 4, "kwargs"), ("@payload", 5, "payload"),
            ("publisher", 10, "u64"), ("publisher_authid", 11, "str"),
            ("publisher_authrole", 12, "str"), ("topic", 13, "str"), ("retained", 14, "bool"),
            ("transaction_hash", 15, "str"), ("x_acknowledged_delivery", 16, "bool"),
            ("enc_algo", 6, "enum", PPT_SCHEMES), ("enc_key", 9, "str"),
            ("enc_serializer", 7, "enum", PPT_SERIALIZERS), ("ppt_cipher", 8, "enum", PPT_CIPHERS),
            ("forward_for", 17, "principals"),
        ],
        (
            *_APP, "publisher_authid", "publisher_authrole", "topic", "transaction_hash",
            "enc_key", "forward_for",
        ),
    ),
    # EVENT_RECEIVED is WAMP code 337 but MessageType.EVENT_RECEIVED = 37 in the schema.
    MessageSpec(EventReceived, 37, 3, None, [("@publication_id", 1, "u64")]),
    MessageSpec(
        Call, 48, 17, "options",
        [
            ("@request_id", 1, "u64"), ("@procedure", 2, "str"),
            ("@args", 3, "args"), ("@kwargs", 4, "kwargs"), ("@payload", 5, "payload"),
            *_ppt(6), ("timeout", 10, "u32"), ("receive_progress", 11, "bool"),
            ("transaction_hash", 12, "str"), ("caller", 13, "u64"), ("caller_authid", 14, "str"),
            ("caller_authrole", 15, "str"), ("forward_for", 16, "principals"),
        ],
        (
            *_APP, "@procedure", "transaction_hash", "caller_authid", "caller_authrole",
            "enc_key", "forward_for",
        ),
    ),
    MessageSpec(
        Cancel, 49, 4, "options",
        [
            ("@request_id", 1, "u64"), ("mode", 2, "enum", CANCEL_MODES),
            ("forward_for", 3, "principals"),
        ],
        ("forward_for",),
    ),
    MessageSpec(
        Result, 50, 14, "details",
        [
            ("@request_id", 1, "u64"),
            ("@args", 2, "args"), ("@kwargs", 3, "kwargs"), ("@payload", 4, "payload"),
            *_ppt(5), ("progress", 9, "bool"), ("callee", 10, "u64"),
            ("callee_authid", 11, "str"), ("callee_authrole", 12, "str"),
            ("forward_for", 13, "principals"),
        ],
        (*_APP, "enc_key", "callee_authid", "callee_authrole", "forward_for"),
    ),
    MessageSpec(
        Register, 64, 7, "options",
        [
            ("@request_id", 1, "u64"), ("@procedure", 2, "str"), ("match", 3, "enum", MATCH),
            ("invoke", 4, "enum", INVOKE), ("concurrency", 5, "u16"),
            ("force_reregister", 6, "bool"),
        ],
        ("@procedure",),
    ),
    MessageSpec(
        Registered, 65, 3, None, [("@request_id", 1, "u64"), ("@registration_id", 2, "u64")]
    ),
    MessageSpec(
        Unregister, 66, 3, None, [("@request_id", 1, "u64"), ("@registration_id", 2, "u64")]
    ),
    MessageSpec(
        Unregistered, 67, 4, "details",
        [("@request_id", 1, "u64"), ("registration", 2, "u64"), ("reason", 3, "str")],
        ("reason",),
    ),
    MessageSpec(
        Invocation, 68, 18, "details",
        [
            ("@request_id", 1, "u64"), ("@registration_id", 2, "u64"),
            ("@args", 3, "args"), ("@kwargs", 4, "kwargs"), ("@payload", 5, "payload"),
            ("timeout", 11, "u32"), ("receive_progress", 12, "bool"), ("caller", 14, "u64"),
            ("caller_authid", 15, "str"), ("caller_authrole", 16, "str"),
            ("procedure", 10, "str"), *_ppt(6), ("transaction_hash", 13, "str"),
            ("forward_for", 17, "principals"),
        ],
        (
            *_APP, "procedure", "transaction_hash", "caller_authid", "caller_authrole",
            "enc_key", "forward_for",
        ),
    ),
    MessageSpec(
        Interrupt, 69, 5, "options",
        [
            ("@request_id", 1, "u64"), ("mode", 2, "enum", CANCEL_MODES), ("reason", 3, "str"),
            ("forward_for", 4, "principals"),
        ],
        ("reason", "forward_for"),
    ),
    MessageSpec(
        Yield, 70, 14, "options",
        [
            ("@request_id", 1, "u64"),
            ("@args", 2, "args"), ("@kwargs", 3, "kwargs"), ("@payload", 4, "payload"),
            ("progress", 9, "bool"), *_ppt(5), ("callee", 10, "u64"),
            ("callee_authid", 11, "str"), ("callee_authrole", 12, "str"),
            ("forward_for", 13, "principals"),
        ],
        (*_APP, "enc_key", "callee_authid", "callee_authrole", "forward_for"),
    ),
)  # fmt: skip

SPECS_BY_UNION_TYPE: Final[dict[int, MessageSpec]] = {s.union_type: s for s in SPECS}
SPECS_BY_CLASS: Final[dict[type[Message], MessageSpec]] = {s.cls: s for s in SPECS}
