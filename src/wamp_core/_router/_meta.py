"""The router's meta API procedures (``wamp.session.*``, ``wamp.registration.*``,
``wamp.subscription.*``): answered by the engine itself, never routed to a callee.

Each procedure takes the calling session, the positional and keyword arguments of the CALL and
returns the result's positional arguments, or raises :class:`MetaError` with the error URI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cbor2
import msgpack

from .. import _messages as m
from .._errors import LocalProtocolError, ProtocolError
from .._messages._base import local_payload
from .._uri import is_valid_uri
from ._realm import MATCHES, Registration, Subscription

if TYPE_CHECKING:
    from ._engine import RouterSession

__all__ = [
    "MAX_TESTAMENTS", "MAX_TESTAMENT_SIZE", "META_PROCEDURES", "PARAMETERS", "TESTAMENT_SCOPES",
    "MetaError", "positional", "session_details",
]  # fmt: skip


class MetaError(Exception):
    def __init__(self, uri: str, message: str) -> None:
        super().__init__(message)
        self.uri = uri


def session_details(session: RouterSession) -> dict[str, Any]:
    """What ``wamp.session.get`` and ``on_join`` tell of a session, in Crossbar.io's keys:
    its realm, authentication (HELLO's authextra), and transport (framing,
    serializer, channel type, and the client's address as ``host:port`` where Crossbar.io
    writes ``tcp4:host:port``)."""
    transport = dict(session.transport)
    if session.peer is not None:
        transport["peer"] = session.peer
    return {"session": session.session_id, "realm": session.realm.name if session.realm else None,
            "authid": session.authid, "authrole": session.authrole,
            "authmethod": session.authmethod, "authprovider": "static",
            "authextra": session.authextra, "transport": transport}  # fmt: skip


def _id(args: list[Any], index: int = 0) -> int:
    if len(args) <= index or type(args[index]) is not int:
        raise MetaError("wamp.error.invalid_argument", f"argument {index + 1} must be an ID")
    return int(args[index])


def _member(caller: RouterSession, session_id: int) -> RouterSession:
    assert caller.realm is not None
    member = caller.realm.members.get(session_id)
    if member is None:
        raise MetaError("wamp.error.no_such_session", f"no session {session_id}")
    return member  # type: ignore[return-value]


def _count(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return [len(_list(caller, args, kwargs)[0])]


def _list(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    assert caller.realm is not None
    roles = args[0] if args else None
    if roles is not None and not isinstance(roles, list):  # (a role name: refused, as Crossbar)
        raise MetaError("wamp.error.invalid_argument", "filter_authroles must be a list")
    return [[sid for sid, member in caller.realm.members.items()
             if roles is None or member.authrole in roles]]  # fmt: skip


def _get(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return [session_details(_member(caller, _id(args)))]


def _kill(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """``wamp.session.kill(session, reason=URI, message=str)``: GOODBYE to the session."""
    target = _member(caller, _id(args))
    if target is caller:
        raise MetaError("wamp.error.no_such_session", "a session cannot kill itself")
    reason, message = _close_reason(kwargs)
    target.goodbye(reason, message)
    return []


def _close_reason(kwargs: dict[str, Any]) -> tuple[str, str | None]:
    """The ``reason`` (default ``wamp.close.killed``) and ``message`` of a kill."""
    reason = kwargs.get("reason")
    if reason is None:
        reason = "wamp.close.killed"
    if not is_valid_uri(reason):
        raise MetaError("wamp.error.invalid_uri", "reason must be a URI")
    message = kwargs.get("message")
    if message is not None and not isinstance(message, str):
        raise MetaError("wamp.error.invalid_argument", "message must be a string")
    return reason, message


def _kill_by(attribute: str) -> Callable[[RouterSession, list[Any], dict[str, Any]], list[Any]]:
    """``wamp.session.kill_by_authid(authid, reason=, message=)`` / ``kill_by_authrole``:
    GOODBYE to every other session of the realm with that authid / authrole; returns their
    IDs (the caller is spared: a session cannot kill itself here)."""

    def kill_by(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        assert caller.realm is not None
        if not args or not isinstance(args[0], str):
            raise MetaError("wamp.error.invalid_argument", f"argument 1 must be an {attribute}")
        reason, message = _close_reason(kwargs)
        killed = [session for session in caller.router.sessions.values()
                  if session.realm is caller.realm and session is not caller
                  and getattr(session, attribute) == args[0]]  # fmt: skip
        for session in killed:
            session.goodbye(reason, message)
        return [[session.session_id for session in killed]]

    return kill_by


def _lookup(kind: str) -> Callable[[RouterSession, list[Any], dict[str, Any]], list[Any]]:
    def lookup(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        assert caller.realm is not None
        if not args or not isinstance(args[0], str):
            raise MetaError("wamp.error.invalid_argument", "argument 1 must be a URI")
        options = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        match = options.get("match", "exact")
        if match not in MATCHES:
            raise MetaError("wamp.error.invalid_argument", f"unknown match {match!r}")
        table = caller.realm.registrations if kind == "r" else caller.realm.subscriptions
        entry = table.get((match, args[0]))
        return [None if entry is None or _protected(entry) else entry.id]

    return lookup


def _match_registration(caller: RouterSession, args: list[Any], kw: dict[str, Any]) -> list[Any]:
    assert caller.realm is not None
    reg = caller.realm.lookup(str(args[0])) if args else None
    return [None if reg is None else reg.id]


def _match_subscriptions(caller: RouterSession, args: list[Any], kw: dict[str, Any]) -> list[Any]:
    assert caller.realm is not None
    topic = str(args[0]) if args else ""
    found = [s.id for s in caller.realm.subscriptions.matching(topic) if not s.protected]
    return [found or None]  # (None when nothing matches, as Crossbar.io answers)


def _registration(caller: RouterSession, args: list[Any]) -> Registration:
    assert caller.realm is not None
    reg = caller.realm.registration(_id(args))
    if reg is None:
        raise MetaError("wamp.error.no_such_registration", "no such registration")
    return reg


def _subscription(caller: RouterSession, args: list[Any]) -> Subscription:
    assert caller.realm is not None
    sub = caller.realm.subscription(_id(args))
    if sub is None:
        raise MetaError("wamp.error.no_such_subscription", "no such subscription")
    if sub.protected:  # (a meta API user's: as Crossbar.io answers)
        raise MetaError("wamp.error.not_authorized", "protected URI")
    return sub


def _listing(kind: str) -> Callable[[RouterSession, list[Any], dict[str, Any]], list[Any]]:
    """``wamp.registration.list`` / ``wamp.subscription.list``: the IDs per match policy."""

    def listing(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        """All of the realm's, or with a session ID only that session's."""
        assert caller.realm is not None
        member = None if not args or args[0] is None else _member(caller, _id(args))
        table = caller.realm.registrations if kind == "r" else caller.realm.subscriptions
        ids: dict[str, list[int]] = {match: [] for match in MATCHES}
        for (match, _), entry in table.items():
            if not _protected(entry) and (member is None or _uses(member, entry)):
                ids[match].append(entry.id)
        return [ids]

    return listing


def _uses(member: RouterSession, entry: Registration | Subscription) -> bool:
    if isinstance(entry, Registration):
        return member in entry.callees
    return member.session_id in entry.subscribers


def _protected(entry: Registration | Subscription) -> bool:
    """A subscription to ``wamp.*`` (a meta API user's): not shown, as Crossbar.io hides it."""
    return isinstance(entry, Subscription) and entry.protected


def _callees(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return [[c.session_id for c in _registration(caller, args).callees]]


def _subscribers(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return [list(_subscription(caller, args).subscribers)]


def _remove_subscriber(caller: RouterSession, args: list[Any], kw: dict[str, Any]) -> list[Any]:
    assert caller.realm is not None
    sub_id, session_id = _id(args), _id(args, 1)
    member = _member(caller, session_id)
    sub = caller.realm.subscription(sub_id)
    if sub is not None and sub.protected:  # a meta API user's: as Crossbar.io refuses
        raise MetaError("wamp.error.not_authorized", "protected URI")
    if not caller.realm.unsubscribe(member, sub_id):
        raise MetaError("wamp.error.no_such_subscription", "not subscribed")
    member.revoked(sub_id, str(kw.get("reason") or "removed by the meta API"))
    return []


def _remove_callee(caller: RouterSession, args: list[Any], kw: dict[str, Any]) -> list[Any]:
    assert caller.realm is not None
    reg_id, session_id = _id(args), _id(args, 1)
    member = _member(caller, session_id)
    if not caller.realm.unregister(member, reg_id):
        raise MetaError("wamp.error.no_such_registration", "not registered")
    member.unregistered(reg_id, str(kw.get("reason") or "removed by the meta API"))
    return []


#: The two testament buckets, in the order they are published when a session ends.
TESTAMENT_SCOPES = ("detached", "destroyed")
#: Testaments a session may hold per scope, and the size of one (its args and kwargs, as text):
#: a session's last words are few and short, and must not become a flood when it ends.
MAX_TESTAMENTS = 16
MAX_TESTAMENT_SIZE = 65536


def _scope(scope: Any) -> str:
    if scope not in TESTAMENT_SCOPES:
        raise MetaError("wamp.error.testament_error",  # (Crossbar.io's URI)
                        f"scope must be 'detached' or 'destroyed', not {scope!r}")  # fmt: skip
    return str(scope)


def _argument(
    args: list[Any], kwargs: dict[str, Any], index: int, name: str, default: Any = None
) -> Any:
    """Parameter ``index`` (``name``), given by position or by keyword, else ``default``."""
    return args[index] if len(args) > index else kwargs.get(name, default)


def _size(value: Any) -> int:
    """About how many bytes ``value`` takes on the wire: as MessagePack encodes it (bytes as
    they are, text as UTF-8), or CBOR what MessagePack cannot hold (integers beyond 64 bits);
    a value neither encodes counts as too large."""
    for dumps in (msgpack.packb, cbor2.dumps):
        try:
            return len(dumps(value))
        except Exception:  # (two tries at most)
            continue
    return MAX_TESTAMENT_SIZE + 1


def _add_testament(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """``add_testament(topic, args, kwargs, publish_options=None, scope="destroyed")``, by
    position or keyword as Crossbar.io takes them: published when the caller's session ends (it
    cannot be resumed here, so detached and destroyed coincide)."""
    topic = _argument(args, kwargs, 0, "topic")
    payload_args = _argument(args, kwargs, 1, "args")
    payload_kwargs = _argument(args, kwargs, 2, "kwargs")
    if (
        len(args) > 5
        or (payload_args is not None and not isinstance(payload_args, list))
        or (payload_kwargs is not None and not isinstance(payload_kwargs, dict))
    ):
        raise MetaError("wamp.error.invalid_argument", "add_testament takes (topic, args list, "
                        "kwargs dict, publish_options dict, scope)")  # fmt: skip
    if not isinstance(topic, str) or not is_valid_uri(topic) or topic.startswith("wamp."):
        raise MetaError("wamp.error.invalid_uri", f"not a topic a client may publish: {topic!r}")
    options = _argument(args, kwargs, 3, "publish_options") or {}
    try:  # the options a PUBLISH could carry, checked the same way
        checked = m.Publish.from_list([m.Publish.MESSAGE_TYPE, 1, options, topic])
        assert isinstance(checked, m.Publish)
        options = checked.options
    except ProtocolError as exc:
        raise MetaError("wamp.error.invalid_argument", f"publish_options: {exc}") from None
    if not caller.may("publish", topic):
        raise MetaError("wamp.error.not_authorized",
                        f"{caller.authrole!r} may not publish {topic!r}")  # fmt: skip
    # nobody to acknowledge; and the session is gone when it is published: never to itself
    # (as Crossbar.io drops exclude_me; at shutdown it is still subscribed)
    options = {k: v for k, v in options.items() if k not in ("acknowledge", "exclude_me")}
    bucket = caller.testaments[_scope(_argument(args, kwargs, 4, "scope", "destroyed"))]
    if len(bucket) >= MAX_TESTAMENTS:
        raise MetaError("wamp.error.invalid_argument",
                        f"at most {MAX_TESTAMENTS} testaments per scope")  # fmt: skip
    if _size([topic, options, payload_args, payload_kwargs]) > MAX_TESTAMENT_SIZE:
        limit = MAX_TESTAMENT_SIZE  # the whole testament: its topic and options too
        raise MetaError("wamp.error.invalid_argument", f"a testament is limited to {limit} bytes")
    try:  # the payload a PUBLISH could carry (ArgumentsKw keys are strings), empty ones None
        payload = local_payload("testament", payload_args, payload_kwargs, copy=False)
    except LocalProtocolError as exc:
        raise MetaError("wamp.error.invalid_argument", exc.message) from None
    bucket.append((topic, *payload, options))
    return [caller.router.random_id()]  # (an ID, as Crossbar.io answers; nothing refers to it)


def _flush_testaments(caller: RouterSession, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """``flush_testaments(scope="destroyed")``: drop the caller's testaments of the scope;
    returns how many there were."""
    bucket = caller.testaments[_scope(_argument(args, kwargs, 0, "scope", "destroyed"))]
    count = len(bucket)
    bucket.clear()
    return [count]


#: Each procedure's parameters in order, by Crossbar.io's names: a caller may pass them by
#: keyword (Crossbar's are Python functions); :func:`positional` puts them in place.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "wamp.session.add_testament": ("topic", "args", "kwargs", "publish_options", "scope"),
    "wamp.session.flush_testaments": ("scope",),
    "wamp.session.count": ("filter_authroles",),
    "wamp.session.list": ("filter_authroles",),
    "wamp.session.get": ("session_id",),
    "wamp.session.kill": ("session_id",),
    "wamp.session.kill_by_authid": ("authid",),
    "wamp.session.kill_by_authrole": ("authrole",),
    "wamp.registration.get": ("registration_id",),
    "wamp.registration.list": ("session_id",),
    "wamp.registration.lookup": ("procedure", "options"),
    "wamp.registration.match": ("procedure",),
    "wamp.registration.list_callees": ("registration_id",),
    "wamp.registration.count_callees": ("registration_id",),
    "wamp.registration.remove_callee": ("registration_id", "callee_id"),
    "wamp.subscription.get": ("subscription_id",),
    "wamp.subscription.list": ("session_id",),
    "wamp.subscription.lookup": ("topic", "options"),
    "wamp.subscription.match": ("topic",),
    "wamp.subscription.list_subscribers": ("subscription_id",),
    "wamp.subscription.count_subscribers": ("subscription_id",),
    "wamp.subscription.remove_subscriber": ("subscription_id", "subscriber_id"),
}


def positional(procedure: str, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """``args`` with the parameters given by keyword put in their place (up to the first
    that is given neither way)."""
    names = PARAMETERS.get(procedure, ())
    for name in names[len(args) :]:
        if name not in kwargs:
            break
        args.append(kwargs[name])
    return args


META_PROCEDURES: dict[str, Callable[[RouterSession, list[Any], dict[str, Any]], list[Any]]] = {
    "wamp.session.add_testament": _add_testament,
    "wamp.session.flush_testaments": _flush_testaments,
    "wamp.session.count": _count,
    "wamp.session.list": _list,
    "wamp.session.get": _get,
    "wamp.session.kill": _kill,
    "wamp.session.kill_by_authid": _kill_by("authid"),
    "wamp.session.kill_by_authrole": _kill_by("authrole"),
    "wamp.registration.get": lambda c, a, k: [_registration(c, a).details()],
    "wamp.registration.list": _listing("r"),
    "wamp.registration.lookup": _lookup("r"),
    "wamp.registration.match": _match_registration,
    "wamp.registration.list_callees": _callees,
    "wamp.registration.count_callees": lambda c, a, k: [len(_callees(c, a, k)[0])],
    "wamp.registration.remove_callee": _remove_callee,
    "wamp.subscription.get": lambda c, a, k: [_subscription(c, a).details()],
    "wamp.subscription.list": _listing("s"),
    "wamp.subscription.lookup": _lookup("s"),
    "wamp.subscription.match": _match_subscriptions,
    "wamp.subscription.list_subscribers": _subscribers,
    "wamp.subscription.count_subscribers": lambda c, a, k: [len(_subscribers(c, a, k)[0])],
    "wamp.subscription.remove_subscriber": _remove_subscriber,
}
