"""Raw message lists the core must refuse, each with the reason.

A *raw* message is what a serializer decodes before validation: a list whose first element is
the message type code. :func:`wamp_core.messages.parse_message` (and every serializer's
``decode``) must refuse each list :func:`invalid_messages` draws with
:class:`~wamp_core.RemoteProtocolError`, whatever else it holds. Most are a valid message with
one thing broken, so the refusal is for that one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from .._messages import (
    MESSAGE_CLASSES,
    Abort,
    Challenge,
    Error,
    Hello,
    Message,
    Welcome,
)
from .._messages._base import ERROR_REQUEST_TYPES, PayloadMessage
from .._messages._validation import CHECKS
from .._uri import MAX_ID
from ..serializers import Serializer, get_serializer
from ._messages import ALL_MESSAGE_CLASSES, message_of
from ._payloads import base_serializer
from ._scalars import uris

__all__ = [
    "INVALID_REASONS", "NOT_A_MESSAGE", "UNKNOWN_TYPE", "WRONG_LENGTH", "WRONG_TYPE",
    "ID_OUT_OF_RANGE", "INVALID_URI", "INVALID_OPTION", "NON_STRING_KEY", "INVALID_ARGUMENTS",
    "INVALID_VALUE", "invalid_messages", "arity",
]  # fmt: skip

#: An empty list.
NOT_A_MESSAGE = "not a message"
#: The first element is not a known message type code (an unknown integer, or not an integer).
UNKNOWN_TYPE = "unknown message type"
#: Fewer or more elements than the message type has.
WRONG_LENGTH = "wrong number of elements"
#: An element of the wrong type: a string for an ID, a list for Details, a number for a URI...
WRONG_TYPE = "wrong type of element"
#: An ID outside ``[1, 2**53]``.
ID_OUT_OF_RANGE = "ID out of range"
#: A string that breaks the URI rules where a URI goes.
INVALID_URI = "invalid URI"
#: A key the message type knows, in Options/Details, with a value of the wrong type or range.
INVALID_OPTION = "invalid option value"
#: A key that is not a string in Options/Details or ArgumentsKw.
NON_STRING_KEY = "non-string key"
#: Arguments that are not a list, ArgumentsKw not a dict, a transparent payload followed by
#: ArgumentsKw, or a transparent payload in ABORT.
INVALID_ARGUMENTS = "invalid arguments"
#: A well-typed element the spec rules out: ERROR for a request type that cannot fail, an empty
#: CHALLENGE method, HELLO/WELCOME without roles.
INVALID_VALUE = "invalid value"

#: Every reason :func:`invalid_messages` gives.
INVALID_REASONS: tuple[str, ...] = (
    NOT_A_MESSAGE, UNKNOWN_TYPE, WRONG_LENGTH, WRONG_TYPE, ID_OUT_OF_RANGE, INVALID_URI,
    INVALID_OPTION, NON_STRING_KEY, INVALID_ARGUMENTS, INVALID_VALUE,
)  # fmt: skip

Raw = list[Any]
Drawn = tuple[Raw, str]

_GONE = frozenset({35, 67})  # UNSUBSCRIBED, UNREGISTERED: [T, Request] or [T, 0, Details]
_URI_FIELDS = frozenset({"realm", "reason", "error", "topic", "procedure"})
_DICT_FIELDS = frozenset({"details", "options", "extra"})
# Which table of known keys checks a message's Options/Details (ABORT and GOODBYE share one).
_RULES_OF = {"ABORT": "CLOSE", "GOODBYE": "CLOSE"}

# Wrong-typed values per kind of element (none of them valid for that kind).
_WRONG: dict[str, tuple[Any, ...]] = {
    "id": ("1", 1.0, 1.5, None, True, False, [1], {"id": 1}),
    "dict": ([], "x", 1, 1.5, None, True, [["key", 1]]),
    "uri": (1, 1.5, None, True, [], {}, ["com", "example"], b"com.example"),
    "request_type": ("48", 48.0, None, True, [48]),
    "str": (1, 1.5, None, True, [], {}, b"ticket"),
}
# URIs no rule allows, empty components or not.
_NEVER_URIS = ("", " ", "a b", "com.example#x", "#", "com.\tx", "com.x\n", "a\u3000b", "\u00a0")
# URIs only the wildcard patterns allow (empty components; a prefix only the last).
_EMPTY_COMPONENT_URIS = ("a..b", ".a", "a.", ".", "..")
# Candidates for an invalid known option; each draw keeps those its checker refuses.
_OPTION_VALUES: tuple[Any, ...] = (
    None, "", "x", "a b", 0, 1, -1, True, 1.5, [], {}, ["x"], [0], [1], [None], {"a": 1},
    MAX_ID + 1, [{"session": 0}],
)  # fmt: skip
_NON_STRING_KEYS = (1, -1, True, 2.5, b"key")
_FILLERS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.integers(-5, 5), st.text(max_size=3), st.just({})
)


def arity(cls: type[Message]) -> tuple[int, int]:
    """The fewest and most elements a raw ``cls`` message has, the type code included."""
    if issubclass(cls, PayloadMessage):
        low = 1 + cls._NHEAD
        return low, low + 2  # ... Arguments|list, ArgumentsKw|dict (both optional)
    if cls.MESSAGE_TYPE in _GONE:
        return 2, 3  # the revocation form adds Details
    n = 1 + len(cls.FIELDS)
    return n, n


def _kind(field: str) -> str:
    if field == "request_type":
        return "request_type"
    if field.endswith("_id"):
        return "id"
    if field in _DICT_FIELDS:
        return "dict"
    if field in _URI_FIELDS:
        return "uri"
    return "str"  # CHALLENGE.AuthMethod, AUTHENTICATE.Signature


def _head(cls: type[Message]) -> tuple[str, ...]:
    """The fields before Arguments/ArgumentsKw (all of them for messages without a payload)."""
    if issubclass(cls, PayloadMessage):
        return cls.FIELDS[: cls._NHEAD]
    return cls.FIELDS


def _fields(raw: Raw, cls: type[Message], kind: str | None = None) -> list[tuple[int, str]]:
    """``(index in raw, field name)`` of the head fields present in ``raw`` (of ``kind``)."""
    out = []
    for i, name in enumerate(_head(cls)):
        if 1 + i < len(raw) and (kind is None or _kind(name) == kind):
            out.append((1 + i, name))
    return out


def _classes_with(kind: str) -> list[type[Message]]:
    return [cls for cls in ALL_MESSAGE_CLASSES if any(_kind(f) == kind for f in _head(cls))]


def _on(
    classes: Sequence[type[Message]],
    mutate: Callable[[Message], st.SearchStrategy[Drawn]],
    keep: Callable[[Message], bool] | None = None,
) -> st.SearchStrategy[Drawn]:
    """A valid message of one of ``classes`` (``keep``-ing some), broken by ``mutate``.

    The valid messages are a strategy of their own (not drawn inside the composites), so that
    hypothesis prepares them before it starts timing the draws.
    """
    base = st.one_of([message_of(cls) for cls in classes])
    if keep is not None:
        base = base.filter(keep)
    return base.flatmap(mutate)


# --------------------------------------------------------------------------------------------
# One composite per reason


@st.composite
def _unknown_type(draw: st.DrawFn, message: Message) -> Drawn:
    code: Any = draw(
        st.one_of(
            st.sampled_from([0, 7, 9, 18, 99, 336, 338, -1]),
            st.integers(-(2**31), 2**31).filter(lambda c: c not in MESSAGE_CLASSES),
            st.sampled_from(["CALL", "48", 48.0, 1.0, None, True, [48], {}]),
        )
    )
    return [code, *message.to_list()[1:]], UNKNOWN_TYPE


@st.composite
def _wrong_length(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    low, high = arity(cls)
    if draw(st.booleans()):
        return raw[: draw(st.integers(1, low - 1))], WRONG_LENGTH
    extra = draw(st.integers(high + 1, high + 3)) - len(raw)
    return [*raw, *draw(st.lists(_FILLERS, min_size=extra, max_size=extra))], WRONG_LENGTH


@st.composite
def _wrong_type(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    index, name = draw(st.sampled_from(_fields(raw, cls)))
    raw[index] = draw(st.sampled_from(_WRONG[_kind(name)]))
    return raw, WRONG_TYPE


@st.composite
def _id_out_of_range(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    index, _ = draw(st.sampled_from(_fields(raw, cls, "id")))
    value = draw(
        st.one_of(
            st.sampled_from([0, -1, MAX_ID + 1, 2**63 - 1, -(2**63)]),
            st.integers(-(2**63), -1),
            st.integers(MAX_ID + 1, 2**63 - 1),
        ).filter(
            # A revocation ([T, 0, Details]) has request 0.
            lambda v: v != 0 or cls.MESSAGE_TYPE not in _GONE or len(raw) == 2
        )
    )
    raw[index] = value
    return raw, ID_OUT_OF_RANGE


@st.composite
def _invalid_uri(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    index, _ = draw(st.sampled_from(_fields(raw, cls, "uri")))
    match = raw[2].get("match", "exact") if cls.NAME in ("SUBSCRIBE", "REGISTER") else "exact"
    choices: tuple[str, ...]
    if match == "prefix":  # "" (every URI) and a last empty component are valid prefixes
        choices = (*_NEVER_URIS[1:], "a..b", ".a", "..")
    elif match == "exact":
        choices = _NEVER_URIS + _EMPTY_COMPONENT_URIS
    else:
        choices = _NEVER_URIS
    raw[index] = draw(st.one_of(st.sampled_from(choices), uris().map(lambda uri: uri + " " + uri)))
    return raw, INVALID_URI


def _rules(cls: type[Message]) -> dict[str, Any]:
    return CHECKS.get(_RULES_OF.get(cls.NAME, cls.NAME), {})


@st.composite
def _invalid_option(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    index, _ = draw(st.sampled_from(_fields(raw, cls, "dict")))
    rules = _rules(cls)
    key = draw(st.sampled_from(sorted(rules)))
    check = rules[key]
    value = draw(st.sampled_from([v for v in _OPTION_VALUES if not check(v)]))
    raw[index] = {**raw[index], key: value}
    return raw, INVALID_OPTION


def _payload_head(cls: type[Message], raw: Raw) -> Raw:
    assert issubclass(cls, PayloadMessage)
    return raw[: 1 + cls._NHEAD]


def _args_of(cls: type[Message], raw: Raw) -> list[Any]:
    tail = raw[1 + cls._NHEAD :] if issubclass(cls, PayloadMessage) else []
    return tail[0] if tail and type(tail[0]) is list else []


_PAYLOAD_CLASSES: list[type[Message]] = [
    cls for cls in ALL_MESSAGE_CLASSES if issubclass(cls, PayloadMessage)
]


@st.composite
def _non_string_key(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    key = draw(st.sampled_from(_NON_STRING_KEYS))
    dicts = _fields(raw, cls, "dict")
    if cls in _PAYLOAD_CLASSES and (not dicts or draw(st.booleans())):
        kwargs = {key: draw(_FILLERS)}
        return [*_payload_head(cls, raw), _args_of(cls, raw), kwargs], NON_STRING_KEY
    if not dicts:  # UNSUBSCRIBED/UNREGISTERED without Details: add them
        return [*raw, {key: 1}], NON_STRING_KEY
    index, _ = draw(st.sampled_from(dicts))
    raw[index] = {**raw[index], key: draw(_FILLERS)}
    return raw, NON_STRING_KEY


@st.composite
def _invalid_arguments(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    head = _payload_head(cls, raw)
    what = draw(st.sampled_from(["args", "kwargs", "payload"]))
    if what == "args":
        bad = (1, None, True, {}, 1.5, {"a": 1}, *(("x", b"x") if cls is Abort else ()))
        tail = [draw(st.sampled_from(bad))]
        if draw(st.booleans()):
            tail.append({})
    elif what == "kwargs":
        bad_kwargs: Any = draw(st.sampled_from([1, None, True, [], "x", b"x", 1.5]))
        tail = [_args_of(cls, raw), bad_kwargs]
    else:
        tail = [draw(st.sampled_from([b"payload", "payload"])), {}]
    return [*head, *tail], INVALID_ARGUMENTS


@st.composite
def _invalid_value(draw: st.DrawFn, message: Message) -> Drawn:
    cls, raw = type(message), message.to_list()
    if cls is Error:
        raw[1] = draw(
            st.one_of(
                st.sampled_from([0, 1, 2, 3, 8, 17, 33, 36, 49, 65, 70, 337, -1]),
                st.integers(-(2**31), 2**31),
            ).filter(lambda t: t not in ERROR_REQUEST_TYPES)
        )
    elif cls is Challenge:
        raw[1] = ""
    else:  # HELLO, WELCOME: Details.roles missing or empty
        details = {k: v for k, v in raw[2].items() if k != "roles"}
        if draw(st.booleans()):
            details["roles"] = {}
        raw[2] = details
    return raw, INVALID_VALUE


def _has_details(message: Message) -> bool:
    return bool(_fields(message.to_list(), type(message), "dict"))


def _by_reason() -> dict[str, st.SearchStrategy[Drawn]]:
    every = ALL_MESSAGE_CLASSES
    with_rules = [cls for cls in _classes_with("dict") if _rules(cls)]
    return {
        NOT_A_MESSAGE: st.just(([], NOT_A_MESSAGE)),
        UNKNOWN_TYPE: _on(every, _unknown_type),
        WRONG_LENGTH: _on(every, _wrong_length),
        WRONG_TYPE: _on(every, _wrong_type),
        ID_OUT_OF_RANGE: _on(_classes_with("id"), _id_out_of_range),
        INVALID_URI: _on(_classes_with("uri"), _invalid_uri),
        # UNSUBSCRIBED/UNREGISTERED without Details have no Details to break.
        INVALID_OPTION: _on(with_rules, _invalid_option, keep=_has_details),
        NON_STRING_KEY: _on(every, _non_string_key),
        INVALID_ARGUMENTS: _on(_PAYLOAD_CLASSES, _invalid_arguments),
        INVALID_VALUE: _on([Hello, Welcome, Challenge, Error], _invalid_value),
    }


_BY_REASON = _by_reason()

# Serializers whose dict keys are always strings after a round trip (JSON turns numbers into
# strings and cannot encode bytes keys; UBJSON encodes only string keys).
_STRING_KEYS_ONLY = frozenset({"json", "ubjson"})


def _identical(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``True`` is not ``1``)."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        # The codecs keep the order of dict items.
        return len(a) == len(b) and all(
            _identical(ka, kb) and _identical(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    return bool(a == b)


def _survives(serializer: Serializer, raw: Raw) -> bool:
    try:
        return _identical(serializer.loads(serializer.dumps(raw)), raw)
    except Exception:  # not encodable, or refused by the decoder before the parser
        return False


def invalid_messages(
    serializer: str | None = None, *, reasons: Iterable[str] | None = None
) -> st.SearchStrategy[tuple[list[Any], str]]:
    """``(raw, reason)`` pairs: a raw message list the core must refuse, and why.

    ``raw`` is a list as a serializer decodes it (type code first), and ``reason`` one of
    :data:`INVALID_REASONS`. :func:`wamp_core.messages.parse_message` raises
    :class:`~wamp_core.RemoteProtocolError` for every one.

    ``reasons`` restricts the draws to those reasons. ``serializer`` (``"json"``,
    ``"msgpack"``, ``"cbor"``, ``"ubjson"``) keeps only lists that serializer encodes and
    decodes back unchanged (``ser.loads(ser.dumps(raw)) == raw``, types included), so
    ``ser.decode(ser.dumps(raw))`` reaches the parser with exactly ``raw``; with ``json`` and
    ``ubjson`` there are no non-string keys (they cannot arrive as such).
    """
    name = base_serializer(serializer)
    if name == "flatbuffers":
        raise ValueError("flatbuffers is schema-bound: it has no raw message list to break")
    impossible = {NON_STRING_KEY} if name in _STRING_KEYS_ONLY else set()
    if reasons is None:
        chosen = [r for r in INVALID_REASONS if r not in impossible]
    else:
        chosen = list(reasons)
        for reason in chosen:
            if reason not in _BY_REASON:
                raise ValueError(f"unknown reason {reason!r}: expected some of {INVALID_REASONS}")
            if reason in impossible:
                raise ValueError(f"{serializer} cannot carry a message with a {reason}")
        if not chosen:
            raise ValueError("reasons is empty")
    strategy = st.one_of([_BY_REASON[reason] for reason in chosen])
    if name is None:
        return strategy
    codec = get_serializer(name)
    return strategy.filter(lambda drawn: _survives(codec, drawn[0]))
