"""Exception classes defined as error URIs (Autobahn's ``session.define`` and
``@wamp.error``), both ways: a callee's exception of a defined class goes out as its URI with
the exception's args (and ``kwargs`` attribute), and a caller receiving that URI gets the class
built from the error's args and kwargs instead of an :class:`ApplicationError`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import ApplicationError, ConfigurationError
from .._uri import is_valid_uri

log = logging.getLogger(__name__)

E = TypeVar("E", bound=type[BaseException])

#: The attribute ``@wamp.error(uri)`` sets on a class (in its own ``__dict__``).
ERROR_MARK = "_wamp_error"


class DefinedErrors:
    """The exception classes one session maps to error URIs, one URI per class and back."""

    def __init__(self) -> None:
        self._uris: dict[type[BaseException], str] = {}
        self._classes: dict[str, type[BaseException]] = {}

    def __bool__(self) -> bool:
        return bool(self._uris)

    def define(self, exception: type[BaseException], error: str | None = None) -> str:
        """Map ``exception`` (a class) to ``error``, or to the URI its ``@wamp.error`` mark
        (ours or Autobahn's) gives; return the URI. A class or URI defined before is
        redefined."""
        if not (isinstance(exception, type) and issubclass(exception, Exception)):
            raise ConfigurationError(f"define: {exception!r} is not an exception class")
        if error is None:
            error = _marked_uri(exception)
            if error is None:
                raise ConfigurationError(
                    f"define: {exception.__qualname__} has no @wamp.error mark: "
                    "give the error URI, session.define(cls, 'com.example.error.name')"
                )
        if not is_valid_uri(error):
            raise ConfigurationError(f"define: {error!r} is not a valid error URI")
        old = self._uris.pop(exception, None)
        if old is not None:
            self._classes.pop(old, None)
        previous = self._classes.pop(error, None)
        if previous is not None:
            self._uris.pop(previous, None)
        self._uris[exception] = error
        self._classes[error] = exception
        return error

    def answer(self, exc: BaseException) -> tuple[str, list[Any], dict[str, Any]] | None:
        """The ERROR URI, args and kwargs for a handler's exception of a defined class (or of
        a subclass of one), else ``None``."""
        for cls in type(exc).__mro__:
            uri = self._uris.get(cls)
            if uri is not None:
                kwargs = getattr(exc, "kwargs", None)
                return uri, list(exc.args), dict(kwargs) if isinstance(kwargs, dict) else {}
        return None

    def exception(self, error: ApplicationError) -> BaseException:
        """What a caller raises for ``error``: the defined class built from its args and
        kwargs (the error as its ``__cause__``), else ``error`` itself; a class that cannot be
        built from them is logged (WARNING) and ``error`` raised."""
        cls = self._classes.get(error.error)
        if cls is None:
            return error
        try:
            mapped = cls(*error.args, **error.kwargs)
        except Exception as exc:
            log.warning(
                "%s could not be built from the error %s (%s): raising the ApplicationError",
                cls.__qualname__,
                error.error,
                exc,
            )
            return error
        mapped.__cause__ = error
        return mapped


def error(uri: str) -> Callable[[E], E]:
    """Mark an exception class as the error ``uri`` for ``session.define(cls)``."""
    if not is_valid_uri(uri):
        raise ConfigurationError(f"@wamp.error: {uri!r} is not a valid error URI")

    def decorate(cls: E) -> E:
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            raise ConfigurationError(f"@wamp.error marks exception classes, not {cls!r}")
        setattr(cls, ERROR_MARK, uri)
        return cls

    return decorate


def _marked_uri(cls: type[BaseException]) -> str | None:
    """The class's own ``@wamp.error`` URI: ours, or the first of Autobahn's marks."""
    own = vars(cls)
    uri = own.get(ERROR_MARK)
    if isinstance(uri, str):
        return uri
    for pattern in own.get("_wampuris", ()):
        if pattern.is_exception():
            return str(pattern.uri())
    return None
