"""Type rules for the known keys of Options and Details dicts.

Each message type has a table ``key -> checker``. Unknown keys are ignored, as the spec requires
(implementations add their own keys); known keys must have the right type. A violation raises
:class:`ProtocolError` whose message names the key.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._errors import RemoteProtocolError
from .._uri import MAX_ID, is_valid_uri

__all__ = [
    "check_dict", "brief", "CHECKS", "URI_OK", "URI_CACHE_MAX_LEN", "URI_CACHE_MAX_ENTRIES",
    "URI_CACHE_MAX_BYTES", "uri_cache_bytes",
]  # fmt: skip

Checker = Callable[[Any], bool]


def brief(value: object, limit: int = 60) -> str:
    """A short repr for error messages (never dumps a whole payload)."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not turn into another error type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bool(v: Any) -> bool:
    return type(v) is bool


def _str(v: Any) -> bool:
    return type(v) is str


# Valid (loose, non-empty) URIs seen recently: decoding a URI a second time costs one set lookup.
# The cache is process-wide and filled from the wire, so its memory is bounded whatever peers
# send: only URIs up to URI_CACHE_MAX_LEN characters are kept, at most URI_CACHE_MAX_ENTRIES of
# them, whose str objects total at most URI_CACHE_MAX_BYTES (``sys.getsizeof``). When the next
# one would not fit, the cache is emptied: cheap, and a miss only costs the regular expression.
URI_OK: set[str] = set()
# Worst case: 1 MiB of strings plus the set's table for 4,096 entries (128 KiB).
#: Longest URI (in characters) that :func:`check_uri` remembers; real URIs are far shorter.
URI_CACHE_MAX_LEN = 256
#: Most URIs the cache holds.
URI_CACHE_MAX_ENTRIES = 4096
#: Bound on the ``sys.getsizeof`` total of the URIs the cache holds.
URI_CACHE_MAX_BYTES = 1 << 20
_uri_cache_size = [0]  # bytes held by URI_OK (a list: module state without ``global``)


def _remember_uri(value: str) -> None:
    size = sys.getsizeof(value)
    if _uri_cache_size[0] + size > URI_CACHE_MAX_BYTES or len(URI_OK) >= URI_CACHE_MAX_ENTRIES:
        URI_OK.clear()
        _uri_cache_size[0] = 0
    if value not in URI_OK:  # a concurrent check may have added it meanwhile
        URI_OK.add(value)
        _uri_cache_size[0] += size


def uri_cache_bytes() -> int:
    """The ``sys.getsizeof`` total of the URIs the validation cache holds (for tests)."""
    return _uri_cache_size[0]


def _uri(v: Any) -> bool:
    """A URI in Details (INVOCATION.procedure, EVENT.topic...): empty components allowed; one
    without empty components is remembered like the messages' own URIs."""
    if type(v) is not str:
        return False
    if v in URI_OK:  # a cached URI is valid under the looser rule too
        return True
    if not is_valid_uri(v, allow_empty=True):
        return False
    if len(v) <= URI_CACHE_MAX_LEN and v and ".." not in v and v[0] != "." and v[-1] != ".":
        _remember_uri(v)  # no empty component: valid under the loose rule as well
    return True


def _nonneg_int(v: Any) -> bool:
    return type(v) is int and v >= 0


def _pos_int(v: Any) -> bool:
    return type(v) is int and v > 0


def _id(v: Any) -> bool:
    return type(v) is int and 0 < v <= MAX_ID


def _dict(v: Any) -> bool:
    return type(v) is dict and all(type(k) is str for k in v)


def _id_list(v: Any) -> bool:
    return type(v) is list and all(type(x) is int and 0 < x <= MAX_ID for x in v)


def _str_list(v: Any) -> bool:
    return type(v) is list and all(type(x) is str for x in v)


def _one_of(*values: str) -> Checker:
    allowed = frozenset(values)

    def check(v: Any) -> bool:
        return type(v) is str and v in allowed

    return check


def _custom_or(*values: str) -> Checker:
    """One of ``values`` or an implementation-specific ``x_...`` name."""
    allowed = frozenset(values)

    def check(v: Any) -> bool:
        return type(v) is str and (v in allowed or v.startswith("x_"))

    return check


def _forward_for(v: Any) -> bool:
    if type(v) is not list:
        return False
    for hop in v:
        if type(hop) is not dict:
            return False
        if not _id(hop.get("session")):
            return False
        if not (_str(hop.get("authid")) and _str(hop.get("authrole"))):
            return False
    return True


def _bytes_or_str(v: Any) -> bool:
    return type(v) in (bytes, str)


_MATCH = _one_of("exact", "prefix", "wildcard")

# Payload transparency (Autobahn E2E) and payload passthru mode (spec).
_PAYLOAD: Final[dict[str, Checker]] = {
    "enc_algo": _custom_or("cryptobox", "mqtt", "xbr"),
    "enc_serializer": _custom_or(
        "json", "msgpack", "cbor", "ubjson", "flatbuffers", "opaque", "flexbuffers"
    ),
    "enc_key": _bytes_or_str,
    "ppt_scheme": _str,
    "ppt_serializer": _str,
    "ppt_cipher": _str,
    "ppt_keyid": _str,
    "forward_for": _forward_for,
    "transaction_hash": _str,
}

_CALLEE_DISCLOSURE: Final[dict[str, Checker]] = {
    "callee": _id,
    "callee_authid": _str,
    "callee_authrole": _str,
}

_ROLE_FEATURES = _dict

CHECKS: Final[dict[str, dict[str, Checker]]] = {
    "HELLO": {
        "roles": _ROLE_FEATURES,
        "agent": _str,
        "authmethods": _str_list,
        "authid": _str,
        "authrole": _str,
        "authextra": _dict,
        "resumable": _bool,
    },
    "WELCOME": {
        "roles": _ROLE_FEATURES,
        "agent": _str,
        "realm": _str,
        "authid": _str,
        "authrole": _str,
        "authmethod": _str,
        "authprovider": _str,
        "authextra": _dict,
        "resumed": _bool,
        "resumable": _bool,
    },
    "CLOSE": {"message": _str},
    "ERROR": {**_PAYLOAD, **_CALLEE_DISCLOSURE},
    "PUBLISH": {
        **_PAYLOAD,
        "acknowledge": _bool,
        "exclude_me": _bool,
        "exclude": _id_list,
        "exclude_authid": _str_list,
        "exclude_authrole": _str_list,
        "eligible": _id_list,
        "eligible_authid": _str_list,
        "eligible_authrole": _str_list,
        "retain": _bool,
        "disclose_me": _bool,
        "rkey": _str,
    },
    "SUBSCRIBE": {
        "match": _MATCH,
        "get_retained": _bool,
        "nkey": _str,
        "forward_for": _forward_for,
    },
    "EVENT": {
        **_PAYLOAD,
        "publisher": _id,
        "publisher_authid": _str,
        "publisher_authrole": _str,
        "topic": _uri,
        "retained": _bool,
        "trustlevel": _nonneg_int,
        "x_acknowledged_delivery": _bool,
    },
    "CALL": {
        **_PAYLOAD,
        "receive_progress": _bool,
        "progress": _bool,
        "timeout": _nonneg_int,
        "disclose_me": _bool,
        "runmode": _str,
        "rkey": _str,
        "caller": _id,
        "caller_authid": _str,
        "caller_authrole": _str,
    },
    "CANCEL": {"mode": _one_of("skip", "kill", "killnowait"), "forward_for": _forward_for},
    "RESULT": {**_PAYLOAD, **_CALLEE_DISCLOSURE, "progress": _bool},
    "REGISTER": {
        "match": _MATCH,
        "invoke": _one_of("single", "roundrobin", "random", "first", "last"),
        "disclose_caller": _bool,
        "concurrency": _pos_int,
        "force_reregister": _bool,
        "forward_for": _forward_for,
    },
    "INVOCATION": {
        **_PAYLOAD,
        "caller": _id,
        "caller_authid": _str,
        "caller_authrole": _str,
        "procedure": _uri,
        "receive_progress": _bool,
        "progress": _bool,
        "timeout": _nonneg_int,
        "trustlevel": _nonneg_int,
    },
    "INTERRUPT": {
        "mode": _one_of("kill", "killnowait"),
        "reason": _str,
        "forward_for": _forward_for,
    },
    "YIELD": {**_PAYLOAD, **_CALLEE_DISCLOSURE, "progress": _bool},
    "UNSUBSCRIBED": {"subscription": _id, "reason": _str},
    "UNREGISTERED": {"registration": _id, "reason": _str},
    "NONE": {},
}


def disclosed(value: dict[str, Any], who: str, authid: str, authrole: str) -> bool:
    """Whether ``value`` holds exactly a valid disclosure, ``{who: id, authid: str, authrole:
    str}``: EVENT.Details when the router discloses publishers, INVOCATION.Details when it
    discloses callers (a Crossbar role with ``disclose``; router-to-router links need it),
    RESULT.Details with the callee (Crossbar 26 sends it with every RESULT).
    The commonest non-empty Details, checked in a few lookups (:func:`check_dict` walks the
    keys: about 2.5 times as long); ``False`` sends the dict to :func:`check_dict`, which
    decides."""
    if len(value) != 3:  # other Details pay one call for the attempt
        return False
    get = value.get
    key = get(who)
    return (
        type(key) is int and 0 < key <= MAX_ID and type(get(authid)) is str
        and type(get(authrole)) is str
    )  # fmt: skip


def check_dict(value: Any, what: str, rules: Mapping[str, Checker]) -> dict[str, Any]:
    """Validate an Options/Details dict against ``rules``; return it unchanged.

    Non-dicts, non-str keys and known keys with a wrong type raise :class:`ProtocolError`.
    """
    if type(value) is not dict:
        raise RemoteProtocolError(f"{what} must be a dict, got {brief(value)}")
    for key, item in value.items():
        if type(key) is not str:
            raise RemoteProtocolError(f"{what} has a non-string key {brief(key)}")
        check = rules.get(key)
        if check is None:
            continue
        # The two commonest rules inlined (caller/publisher disclosure on every INVOCATION
        # and EVENT): a call per key is a measurable part of decoding them.
        if check is _str:
            if type(item) is str:
                continue
        elif check is _id:
            if type(item) is int and 0 < item <= MAX_ID:
                continue
        elif check(item):
            continue
        raise RemoteProtocolError(f"{what}.{key} has an invalid value {brief(item)}")
    return value
