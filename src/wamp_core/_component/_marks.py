"""Methods marked for registration or subscription, and finding them on an object.

``@wamp.register(uri)`` / ``@wamp.subscribe(uri)`` mark a method; ``session.register(obj)`` /
``session.subscribe(obj)`` make every marked method of ``obj``'s class, bound to ``obj``
(Autobahn's ``from autobahn import wamp`` markers are read too, so a class ported without
changing its decorators still works). A mark is checked when the decorator runs, as a component's
decorators are.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeVar

from .._client._types import RegisterOptions, SubscribeOptions
from .._errors import ConfigurationError
from ._lifecycle import Declaration

F = TypeVar("F", bound=Callable[..., Any])
Kind = Literal["register", "subscribe"]

#: The attribute of a marked function that holds its marks (a list of :class:`Mark`).
MARKS = "_wamp_declarations"
#: Autobahn's attribute for the same (a list of ``autobahn.wamp.uri.Pattern``).
_AUTOBAHN_MARKS = "_wampuris"


def register(
    uri: str | None = None, options: RegisterOptions | None = None, check_types: bool = False
) -> Callable[[F], F]:
    """Mark a method as the procedure ``uri`` (its ``__name__`` when ``None``, as in
    Autobahn) for ``session.register(obj)``."""
    return _marker("register", uri, options, check_types)


def subscribe(
    topic: str, options: SubscribeOptions | None = None, check_types: bool = False
) -> Callable[[F], F]:
    """Mark a method as a handler of ``topic`` for ``session.subscribe(obj)``. A topic with an
    empty component (``com..status``) is a wildcard unless ``options`` say otherwise, as in
    Autobahn."""
    if topic is None:
        raise ConfigurationError("@wamp.subscribe needs a topic: @wamp.subscribe('com.example')")
    return _marker("subscribe", topic, options, check_types)


class Mark(NamedTuple):
    """What a decorator said: made into a :class:`Declaration` when the object is scanned."""

    kind: Kind
    uri: str
    options: RegisterOptions | SubscribeOptions | None
    check_types: bool


def _marker(
    kind: Kind,
    uri: str | None,
    options: RegisterOptions | SubscribeOptions | None,
    check_types: bool,
) -> Callable[[F], F]:
    if callable(uri):  # a bare @wamp.register: the URI would be the function
        raise ConfigurationError(
            f"@wamp.{kind} takes the URI first: @wamp.{kind}('com.example.name')"
        )

    def decorate(function: F) -> F:
        mark = Mark(kind, function.__name__ if uri is None else uri, options, check_types)
        _declaration(mark, function)  # checked now, not at every join
        function.__dict__.setdefault(MARKS, []).append(mark)
        return function

    return decorate


def _declaration(mark: Mark, handler: Callable[..., Any]) -> Declaration:
    kind, uri, options, check_types = mark
    if options is None and type(uri) is str and "" in uri.split("."):
        # (Autobahn's subscribe does the same; its register sent such a URI as exact)
        wildcard = RegisterOptions if kind == "register" else SubscribeOptions
        options = wildcard(match="wildcard")
    return Declaration(kind, uri, handler, options, check_types)


def marked(
    target: object,
    kind: Kind,
    *,
    prefix: str | None = None,
    options: RegisterOptions | SubscribeOptions | None = None,
    check_types: bool = False,
) -> list[Declaration]:
    """Every ``kind`` mark of ``target``: its own when it is a marked function, else those of
    its class's methods (sorted by name, as Autobahn does), each bound to ``target``.

    ``prefix`` goes before each URI; ``options`` serve marks made without options and
    ``check_types`` turns the check on for every mark.
    """
    sources: list[tuple[object, Callable[..., Any]]] = []
    if callable(target) and _marks(target):
        sources.append((target, target))
    else:
        cls = type(target)
        for name in sorted(dir(cls)):
            raw = inspect.getattr_static(cls, name, None)
            function = getattr(raw, "__func__", raw)  # staticmethod, classmethod
            if callable(function) and _marks(function):
                sources.append((function, getattr(target, name)))
    found = []
    for function, bound in sources:
        for mark in _marks(function):
            if mark.kind == kind:
                uri = mark.uri if prefix is None else prefix + mark.uri
                made = Mark(
                    kind,
                    uri,
                    mark.options if mark.options is not None else options,
                    mark.check_types or check_types,
                )
                found.append(_declaration(made, bound))
    if not found and callable(target):  # (an object without marks: none, as in Autobahn)
        what = "procedure" if kind == "register" else "topic"
        raise ConfigurationError(
            f"{kind}: {target!r} has no @wamp.{kind} mark: give the {what} URI, "
            f"session.{kind}(handler, 'com.example.name')"
        )
    return found


def _marks(function: object) -> list[Mark]:
    """The marks on ``function``: ours, or Autobahn's read as ours."""
    try:
        attributes = vars(function)
    except TypeError:
        return []
    ours: list[Mark] | None = attributes.get(MARKS)
    if ours:
        return ours
    theirs = attributes.get(_AUTOBAHN_MARKS)
    if not theirs:
        return []
    marks = []
    for pattern in theirs:
        if pattern.is_endpoint():
            kind: Kind = "register"
        elif pattern.is_handler():
            kind = "subscribe"
        else:  # @wamp.error on a class
            continue
        options = _from_autobahn(kind, pattern.options)
        marks.append(Mark(kind, pattern.uri(), options, bool(pattern._check_types)))
    return marks


#: The options of Autobahn's ``RegisterOptions`` / ``SubscribeOptions`` ours take as they are
#: (its others, e.g. ``forward_for``, have no meaning for a client here).
_AUTOBAHN_OPTIONS = {
    "register": ("match", "invoke", "concurrency", "force_reregister", "details", "details_arg"),
    "subscribe": ("match", "get_retained", "details", "details_arg"),
}


def _from_autobahn(kind: Kind, options: Any) -> RegisterOptions | SubscribeOptions | None:
    """Autobahn's options object of a mark, as ours (a class ported with its decorators and
    their options unchanged)."""
    if options is None:
        return None
    values = {
        name: value
        for name in _AUTOBAHN_OPTIONS[kind]
        if (value := getattr(options, name, None)) is not None
    }
    ours = RegisterOptions if kind == "register" else SubscribeOptions
    try:
        return ours(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"@wamp.{kind}: {options!r}: {exc}") from exc
