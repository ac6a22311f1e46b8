"""The :class:`Message` base class, the parser registry and the helpers every parser shares.

Messages are immutable tuples underneath (construction and field access stay in C, which keeps
decoding within a small factor of the raw serializer); equality also compares the message type.

Each message module registers its classes' parsers with :func:`parses` as it is imported, which
fills :data:`PARSERS` and :data:`MESSAGE_CLASSES`; :func:`parse_message` and
:meth:`Message.from_list` dispatch through that table. This module imports nothing from the rest
of the package, so there is no import cycle between the base class and the messages.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar, NoReturn, TypeVar

from .._errors import EncodingError, LocalProtocolError, ProtocolError, RemoteProtocolError
from .._uri import MAX_ID, is_valid_pattern, is_valid_uri
from ._validation import (
    CHECKS,
    URI_CACHE_MAX_BYTES,
    URI_CACHE_MAX_ENTRIES,
    URI_CACHE_MAX_LEN,
    URI_OK,
    _remember_uri,
    brief,
    check_dict,
    uri_cache_bytes,
)

__all__ = [
    "Message", "PayloadMessage", "field", "fail", "bad_id", "check_uri", "check_payload", "new",
    "URI_OK", "NO_PAYLOAD", "payload_tail", "local_args", "local_payload", "check_request_id",
    "build_local",
    "check_length", "check_opts", "two_ids", "pattern_uri", "parse_gone", "CLOSE_RULES",
    "ERROR_REQUEST_TYPES", "PARSERS", "MESSAGE_CLASSES", "parses", "parse_message",
    "URI_CACHE_MAX_LEN", "URI_CACHE_MAX_ENTRIES", "URI_CACHE_MAX_BYTES", "uri_cache_bytes",
]  # fmt: skip

_tuplegetter: Any = getattr(collections, "_tuplegetter", None)

#: ``tuple.__new__``: builds a message without running the validating constructor.
new = tuple.__new__

NO_PAYLOAD: tuple[None, None, None] = (None, None, None)


def field(index: int, doc: str) -> Any:
    """A read-only accessor for element ``index`` of the underlying tuple."""
    if _tuplegetter is not None:
        return _tuplegetter(index, doc)
    return property(itemgetter(index), doc=doc)  # pragma: no cover - non-CPython


def _rebuild(cls: type[Message], items: tuple[Any, ...]) -> Message:
    return new(cls, items)


class Message(tuple[Any, ...]):
    """Base class of all WAMP messages.

    Construct with keyword arguments (validated); decode with :func:`parse_message` or
    ``from_list``; encode with :meth:`to_list`.
    """

    __slots__ = ()

    #: The WAMP message type code.
    MESSAGE_TYPE: ClassVar[int] = 0
    #: The spec's name (``"CALL"``, ``"EVENT"``...).
    NAME: ClassVar[str] = ""
    #: Field names, in wire order (after the type code).
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def to_list(self) -> list[Any]:
        """The message as a WAMP array (empty trailing elements omitted as the spec requires)."""
        return [self.MESSAGE_TYPE, *self]

    @classmethod
    def from_list(cls, wmsg: Any) -> Message:
        """Validate a WAMP array and build the message; raise :class:`ProtocolError` if invalid.

        On a concrete class, a valid message of another type is also an error.
        """
        msg = parse_message(wmsg)
        if not isinstance(msg, cls):
            raise RemoteProtocolError(f"expected a {cls.NAME or 'message'}, got {msg.NAME}")
        return msg

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((self.MESSAGE_TYPE, tuple(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), tuple(self)))

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={brief(value, 80)}" for name, value in zip(self.FIELDS, self, strict=False)
        )
        return f"{type(self).__name__}({parts})"


def fail(message: str) -> NoReturn:
    raise RemoteProtocolError(message)


def bad_id(what: str, value: Any) -> NoReturn:
    raise RemoteProtocolError(f"{what} must be an integer in [1, 2**53], got {brief(value)}")


def check_uri(value: Any, what: str, *, allow_empty: bool = False) -> str:
    """Validate a URI element; remember valid short URIs without empty components."""
    if type(value) is str:
        if value in URI_OK:
            return value
        if is_valid_uri(value, allow_empty=allow_empty):
            if not allow_empty and len(value) <= URI_CACHE_MAX_LEN:
                _remember_uri(value)
            return value
    raise RemoteProtocolError(
        f"{what} is not a valid URI: {brief(value)}", reason="wamp.error.invalid_uri"
    )


def check_payload(
    wmsg: list[Any], index: int, what: str, allow_payload: bool = True
) -> tuple[list[Any] | None, dict[str, Any] | None, bytes | str | None]:
    """Parse the optional ``Arguments|list, ArgumentsKw|dict`` tail starting at ``index``.

    Returns ``(args, kwargs, payload)``; empty args/kwargs become ``None``. A ``bytes`` or ``str``
    in place of Arguments is a transparent (passthru/E2E) payload and must end the message.
    """
    n = len(wmsg)
    if n <= index:
        return NO_PAYLOAD
    args = wmsg[index]
    if type(args) is list:
        if n == index + 1:
            return args or None, None, None
        kwargs = wmsg[index + 1]
        if type(kwargs) is not dict:
            fail(f"{what}.ArgumentsKw must be a dict, got {brief(kwargs)}")
        for key in kwargs:
            if type(key) is not str:
                fail(f"{what}.ArgumentsKw has a non-string key {brief(key)}")
        return args or None, kwargs or None, None
    if allow_payload and (type(args) is bytes or type(args) is str):
        if n != index + 1:
            fail(f"{what}: a transparent payload cannot be followed by ArgumentsKw")
        return None, None, args
    fail(f"{what}.Arguments must be a list, got {brief(args)}")


def payload_tail(
    args: list[Any] | None, kwargs: dict[str, Any] | None, payload: bytes | str | None
) -> list[Any]:
    """The wire tail for args/kwargs/payload (the inverse of :func:`check_payload`)."""
    if payload is not None:
        return [payload]
    if kwargs:
        return [args or [], kwargs]
    if args:
        return [args]
    return []


def local_args(
    what: str,
    options: Mapping[str, Any] | None,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Any] | None, dict[str, Any] | None]:
    """Normalize constructor arguments (copies; wrong container types are local errors)."""
    if options is None:
        opts: dict[str, Any] = {}
    elif isinstance(options, Mapping):
        opts = dict(options)
    else:
        raise LocalProtocolError(f"{what} options/details must be a mapping, got {brief(options)}")
    a, k = local_payload(what, args, kwargs, copy=True)
    return opts, a, k


def local_payload(
    what: str,
    args: Sequence[Any] | None,
    kwargs: Mapping[str, Any] | None,
    *,
    copy: bool,
) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """Arguments as a message holds them: a list and a dict (empty ones None); wrong container
    types and non-str keys are local errors. ``copy=False`` takes an exact list and dict as they
    are (the session, whose messages are encoded at once); other sequences are always copied."""
    if args is not None:
        if type(args) is tuple:  # *args: the common case, spared the ABC check
            args = list(args)
        elif type(args) is not list or copy:
            if isinstance(args, str | bytes) or not isinstance(args, Sequence):
                raise LocalProtocolError(f"{what} args must be a list or tuple, got {brief(args)}")
            args = list(args)
        if not args:
            args = None
    if kwargs is not None:
        if type(kwargs) is not dict or copy:
            if not isinstance(kwargs, Mapping):
                raise LocalProtocolError(f"{what} kwargs must be a mapping, got {brief(kwargs)}")
            kwargs = dict(kwargs)
        for key in kwargs:
            if type(key) is not str:
                raise LocalProtocolError(f"{what} kwargs has a non-string key {brief(key)}")
        if not kwargs:
            kwargs = None
        elif check_values(kwargs.values(), what):
            kwargs = {key: _without_views(item) for key, item in kwargs.items()}
    if args is not None and check_values(args, what):
        args = [_without_views(item) for item in args]
    return args, kwargs


#: Types that hold nothing to check (the common arguments: one type test each).
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
#: How deep arguments may nest: CBOR's decoders (cbor2's, so ours and Crossbar.io's) refuse
#: more than 400 levels in a whole message, which holds the arguments two levels down.
MAX_NESTING = 384


def check_values(values: Iterable[Any], what: str) -> bool:
    """Refuse what no WAMP peer can decode although a codec would encode it: a dict key or a
    set element that is not a string (``str`` or ``bytes``), or nesting deeper than
    :data:`MAX_NESTING`. msgpack and CBOR encode an ``int`` key and CBOR a set of numbers, but
    their decoders (ours and Crossbar's) refuse them and end the session that sent them, and
    JSON turns an ``int`` key into a string. Raises :class:`EncodingError` before anything is
    sent. Returns whether a ``memoryview`` is among the values (CBOR would send it as a list
    of numbers: :func:`local_payload` sends it as ``bytes``). (Hot: every call, publish and
    yield; plain values cost one type test each.)"""
    views = False
    for value in values:
        if type(value) not in _PLAIN:
            try:
                views = _check_nested(value, what, 1) or views
            except RecursionError:
                raise EncodingError(
                    f"{what} arguments are nested too deeply (or hold themselves)"
                ) from None
    return views


def _check_nested(value: Any, what: str, depth: int) -> bool:
    """Check one argument value that is not plain (see :func:`check_values`); whether it is
    or holds a ``memoryview``."""
    if depth > MAX_NESTING:
        raise EncodingError(
            f"{what} arguments nest deeper than {MAX_NESTING} levels: CBOR peers refuse them"
        )
    kind = type(value)
    views = False
    if kind is list or kind is tuple or (kind is not dict and isinstance(value, list | tuple)):
        for item in value:
            if type(item) not in _PLAIN:
                views = _check_nested(item, what, depth + 1) or views
    elif kind is dict or isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str and type(key) is not bytes:
                raise EncodingError(
                    f"{what} arguments hold a dict with the key {brief(key)}: WAMP peers"
                    " decode only string keys"
                )
            if type(item) not in _PLAIN:
                views = _check_nested(item, what, depth + 1) or views
    elif isinstance(value, set | frozenset):
        for item in value:
            if type(item) is not str and type(item) is not bytes:
                raise EncodingError(
                    f"{what} arguments hold a {type(value).__name__} with {brief(item)}: WAMP"
                    " peers decode only sets of strings (send a list)"
                )
    elif isinstance(value, memoryview):
        return True
    return views


def _without_views(value: Any) -> Any:
    """A copy of ``value`` with every ``memoryview`` in it turned into ``bytes`` (the caller's
    containers are left as they are): rare, so not fast."""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, list | tuple):
        return [_without_views(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_views(item) for key, item in value.items()}
    return value


def check_request_id(value: Any, what: str) -> int:
    if type(value) is not int or not 0 < value <= MAX_ID:
        bad_id(what, value)
    return value


_M = TypeVar("_M", bound=Message)

CLOSE_RULES = CHECKS["CLOSE"]
ERROR_REQUEST_TYPES = frozenset({16, 32, 34, 48, 64, 66, 68})


def build_local(parser: Callable[[list[Any]], _M], wmsg: list[Any]) -> _M:
    """Run a parser on a locally built array; turn its complaint into a local error."""
    try:
        return parser(wmsg)
    except ProtocolError as exc:
        raise LocalProtocolError(exc.message, reason=exc.reason) from None


def check_length(wmsg: list[Any], name: str, low: int, high: int) -> None:
    n = len(wmsg)
    if n < low or n > high:
        span = str(low) if low == high else f"{low} to {high}"
        fail(f"{name} must have {span} elements, got {n}")


def check_opts(value: Any, what: str, rules: Mapping[str, Any]) -> dict[str, Any]:
    # Fast path: an empty dict is always valid.
    if type(value) is dict and not value:
        return value
    return check_dict(value, what, rules)


#: Each payload message class's :meth:`Message.to_list`, written for its own number of head
#: fields (``_NHEAD``) and its type code: unpacking the tuple into names and building the list from
#: constants costs about 60 % of the generic method's slices and lookups (the encode hot path:
#: every CALL, YIELD, RESULT, EVENT, ...). The same technique as ``collections.namedtuple``.
_PAYLOAD_TO_LIST = """\
def to_list(self):
    {head}, args, kwargs, payload = self
    if payload is not None:
        return [{code}, {head}, payload]
    if kwargs:
        return [{code}, {head}, args or [], kwargs]
    if args:
        return [{code}, {head}, args]
    return [{code}, {head}]
"""


class PayloadMessage(Message):
    """A message ending in ``Arguments|list, ArgumentsKw|dict`` (or a transparent payload)."""

    __slots__ = ()
    _NHEAD: ClassVar[int]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        head = ", ".join(f"h{i}" for i in range(cls._NHEAD))
        namespace: dict[str, Any] = {}
        exec(_PAYLOAD_TO_LIST.format(head=head, code=cls.MESSAGE_TYPE), namespace)
        to_list = namespace["to_list"]
        to_list.__qualname__ = f"{cls.__qualname__}.to_list"
        to_list.__doc__ = Message.to_list.__doc__
        cls.to_list = to_list  # type: ignore[method-assign]


def two_ids(w: list[Any], name: str, second: str) -> tuple[int, int]:
    check_length(w, name, 3, 3)
    return check_request_id(w[1], f"{name}.Request"), check_request_id(w[2], f"{name}.{second}")


def pattern_uri(options: dict[str, Any], value: Any, what: str) -> str:
    """Procedure/topic of REGISTER/SUBSCRIBE: empty components allowed for pattern matching."""
    match = options.get("match", "exact")
    if match == "prefix":  # only the last component may be empty (the whole URI too)
        if type(value) is str and (value in URI_OK or is_valid_pattern(value, match)):
            return value
        raise RemoteProtocolError(
            f"{what} is not a valid URI prefix: {brief(value)}", reason="wamp.error.invalid_uri"
        )
    return check_uri(value, what, allow_empty=match != "exact")


def parse_gone(w: list[Any], name: str, rules: Mapping[str, Any]) -> tuple[int, Any]:
    """UNSUBSCRIBED/UNREGISTERED: ``[T, Request|id]`` or the revocation ``[T, 0, Details|dict]``."""
    check_length(w, name, 2, 3)
    rid = w[1]
    if len(w) == 2:
        return check_request_id(rid, f"{name}.Request"), None
    if type(rid) is not int or not 0 <= rid <= MAX_ID:
        bad_id(f"{name}.Request", rid)
    return rid, check_dict(w[2], f"{name}.Details", rules)


# --------------------------------------------------------------------------------------------
# The parser registry and dispatch

#: Message type code -> validating parser (``parse_message`` without the outer checks).
PARSERS: dict[int, Callable[[list[Any]], Message]] = {}
#: Message type code -> message class.
MESSAGE_CLASSES: dict[int, type[Message]] = {}


def parses(
    cls: type[_M],
) -> Callable[[Callable[[list[Any]], _M]], Callable[[list[Any]], _M]]:
    """Register the decorated function as the validating parser of message class ``cls``.

    The function is returned unchanged (the hot path calls it straight from :data:`PARSERS`).
    """
    code = cls.MESSAGE_TYPE

    def register(parser: Callable[[list[Any]], _M]) -> Callable[[list[Any]], _M]:
        if code in PARSERS or not code:
            raise RuntimeError(f"message type {code} ({cls.__name__}) registered twice or unset")
        PARSERS[code] = parser
        MESSAGE_CLASSES[code] = cls
        return parser

    return register


def parse_message(wmsg: Any) -> Message:
    """Validate a decoded WAMP array and return the typed message.

    Raises :class:`ProtocolError` for anything that is not a valid WAMP message; never another
    exception type.
    """
    if type(wmsg) is not list or not wmsg:
        fail(f"a WAMP message must be a non-empty list, got {brief(wmsg)}")
    code = wmsg[0]
    parser = PARSERS.get(code) if type(code) is int else None
    if parser is None:
        fail(f"unknown WAMP message type {brief(code)}")
    try:
        return parser(wmsg)
    except ProtocolError:
        raise
    except RecursionError:
        fail("message nesting too deep")
    except Exception as exc:  # pragma: no cover - defensive: a validator bug must not leak
        raise RemoteProtocolError(f"invalid {brief(code)} message: {type(exc).__name__}") from exc
