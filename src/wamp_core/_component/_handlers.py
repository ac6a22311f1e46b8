"""How a user's procedure or event handler is called with WAMP arguments (pure, no I/O).

A driver builds one :class:`HandlerSpec` per registration or subscription and asks it, per
INVOCATION or EVENT, for the arguments to call the handler with. The conventions:

* WAMP ``args`` are the positional arguments, ``kwargs`` the keyword arguments;
* the details (:class:`CallDetails` / :class:`EventDetails`) are passed as a keyword when asked:
  ``details=True`` as ``details``, ``details="name"`` (Autobahn's ``details_arg``) as ``name``;
  a handler with a keyword-only parameter ``details`` gets them without asking;
* a procedure (``chunks=True``) with a keyword-only parameter ``chunks`` takes progressive call
  invocations: the driver passes, as ``chunks``, what iterates over the further chunks of the
  call's arguments (the first chunk is the handler's arguments); without it such a call is
  refused;
* ``check_types=True`` checks the arguments against the handler's signature and annotations and
  refuses a mismatch with :class:`ApplicationError` ``wamp.error.invalid_argument`` naming the
  parameter, so the caller learns what was wrong (the handler never runs).
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .._errors import ApplicationError, ConfigurationError

__all__ = ["HandlerSpec"]

_INVALID: Final = ApplicationError.INVALID_ARGUMENT
_EMPTY = inspect.Parameter.empty


class HandlerSpec:
    """How to call one user handler with an INVOCATION's or EVENT's arguments."""

    __slots__ = (
        "_hints", "_signature", "check_types", "chunks_arg", "details_arg", "handler",
        "is_async_generator",
    )  # fmt: skip

    def __init__(
        self,
        handler: Callable[..., Any],
        *,
        details: bool | str = False,
        check_types: bool = False,
        chunks: bool = False,
    ) -> None:
        if not callable(handler):
            raise ConfigurationError(f"a handler must be callable: {handler!r}")
        self.handler = handler
        self.check_types = check_types
        self.is_async_generator = _is_async_generator(handler)
        self._signature: inspect.Signature | None = None
        self._hints: dict[str, Any] = {}
        try:
            self._signature = inspect.signature(handler)
        except (TypeError, ValueError) as exc:
            if check_types:
                raise ConfigurationError(
                    f"check_types needs the signature of {handler!r}: {exc}"
                ) from None
        if isinstance(details, str):
            if not details.isidentifier():
                raise ConfigurationError(f"details_arg must be an identifier: {details!r}")
            name: str | None = details
        elif details:
            name = "details"
        else:
            name = "details" if self._has_keyword_only("details") else None
        if name is not None and self._signature is not None and not self._accepts(name):
            raise ConfigurationError(
                f"{_name(handler)} cannot take the details as keyword {name!r}: add the "
                "parameter (or **kwargs)"
            )
        self.details_arg = name
        #: The keyword that receives a progressive call invocation's further chunks, if any
        #: (``chunks=True``: a procedure's handler; never an event handler's).
        self.chunks_arg = "chunks" if chunks and self._has_keyword_only("chunks") else None
        if check_types:
            self._hints = _type_hints(handler)

    def __repr__(self) -> str:
        return f"<HandlerSpec {_name(self.handler)} details_arg={self.details_arg!r}>"

    def _has_keyword_only(self, name: str) -> bool:
        if self._signature is None:
            return False
        parameter = self._signature.parameters.get(name)
        return parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY

    def _accepts(self, name: str) -> bool:
        assert self._signature is not None
        parameters = self._signature.parameters
        parameter = parameters.get(name)
        if parameter is not None:
            return parameter.kind is not inspect.Parameter.POSITIONAL_ONLY
        return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    def arguments(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], details: Any, chunks: Any = None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments to call the handler with (new containers).

        ``chunks`` goes to the handler's ``chunks`` parameter when it has one.

        Raises :class:`ApplicationError` ``wamp.error.invalid_argument`` when the keyword
        arguments already hold the details' name, or (``check_types``) when the arguments do
        not fit the handler.
        """
        keywords = dict(kwargs)
        name = self.details_arg
        if name is not None:
            if name in keywords:
                raise ApplicationError(
                    _INVALID, f"the keyword argument {name!r} is reserved for the details"
                )
            keywords[name] = details
        if self.chunks_arg is not None:
            if self.chunks_arg in keywords:
                raise ApplicationError(
                    _INVALID, f"the keyword argument {self.chunks_arg!r} is reserved for the chunks"
                )
            keywords[self.chunks_arg] = chunks
        positional = tuple(args)
        if self.check_types:
            self._check(positional, keywords)
        return positional, keywords

    def _check(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        assert self._signature is not None
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ApplicationError(_INVALID, f"{_name(self.handler)}: {exc}") from None
        for name, value in bound.arguments.items():
            if name in (self.details_arg, self.chunks_arg):
                continue
            hint = self._hints.get(name, Any)
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                items: list[tuple[str, Any]] = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
            elif kind is inspect.Parameter.VAR_KEYWORD:
                items = [(key, v) for key, v in value.items() if key != self.details_arg]
            else:
                items = [(name, value)]
            for label, item in items:
                if not _fits(item, hint):
                    raise ApplicationError(
                        _INVALID,
                        f"{_name(self.handler)}: argument {label!r} must be "
                        f"{_describe(hint)}, not {type(item).__name__}",
                    )


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


def _is_async_generator(handler: Callable[..., Any]) -> bool:
    target: Any = handler
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isasyncgenfunction(target):
        return True
    if not inspect.iscoroutinefunction(target) and inspect.isasyncgenfunction(
        inspect.unwrap(target)
    ):  # a plain wrapper (functools.wraps) of one: it returns the generator
        return True
    call = getattr(type(target), "__call__", None)  # noqa: B004 - a callable object's method
    return call is not None and inspect.isasyncgenfunction(call)


def _type_hints(handler: Callable[..., Any]) -> dict[str, Any]:
    """The handler's resolved annotations; unresolvable ones are not checked."""
    target: Any = handler
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = getattr(type(target), "__call__", target)  # noqa: B004
    try:
        return typing.get_type_hints(target)
    except Exception:  # a forward reference that does not resolve: resolve one by one
        pass
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, raw in getattr(target, "__annotations__", {}).items():
        if not isinstance(raw, str):
            hints[name] = raw
            continue
        try:
            hints[name] = eval(raw, namespace)  # what get_type_hints does, one name at a time
        except Exception:  # not resolvable: not checked
            continue
    return hints


def _describe(hint: Any) -> str:
    if isinstance(hint, type) and typing.get_origin(hint) is None:  # (set[int] is a type on 3.10)
        return hint.__name__
    return str(hint).replace("typing.", "")


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits annotation ``hint``; unknown forms accept anything."""
    if hint is Any or hint is _EMPTY or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_fits(value, option) for option in arguments)
    if origin is typing.Literal:
        return any(value == option and type(value) is type(option) for option in arguments)
    if origin is typing.Annotated:
        return _fits(value, arguments[0])
    if origin is None:
        if isinstance(hint, type):
            if hint is tuple:
                return isinstance(value, (tuple, list))
            return isinstance(value, hint)
        return True  # TypeVar, NewType, Protocol...: not checked
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(_fits(item, arguments[0]) for item in value)
        if arguments == ((),):
            return len(value) == 0
        return len(value) == len(arguments) and all(
            _fits(item, option) for item, option in zip(value, arguments, strict=True)
        )
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence):
        if isinstance(value, (str, bytes)) or not isinstance(value, origin):
            return False
        return not arguments or all(_fits(item, arguments[0]) for item in value)
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        if not isinstance(value, origin):
            return False
        if len(arguments) != 2:
            return True
        return all(_fits(k, arguments[0]) and _fits(v, arguments[1]) for k, v in value.items())
    if isinstance(origin, type):  # set[int], collections.abc.Iterable[int]...: the container
        return isinstance(value, origin)
    return True
