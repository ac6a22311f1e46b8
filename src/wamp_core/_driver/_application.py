"""Autobahn's ``ApplicationSession``, for code ported from it: a session class with
``onJoin``/``onLeave``/``onDisconnect``, run by a :class:`~wamp_core.driver.Component` (the
``ApplicationRunner`` of :mod:`._runner` makes one).

Each driver exposes it on its own session (``wamp_anyio.ApplicationSession``...). What
Autobahn let a subclass override to take the join over (``onConnect``, ``onChallenge``,
``onWelcome``) is refused when the class is made: ``authentication`` does that here.
"""

from __future__ import annotations

import inspect
from typing import Any

import wamp_core as wc

from ._session import Session

__all__ = ["ApplicationSession", "run_application", "session_hook"]

#: Autobahn's methods that took the join over; a subclass defining one is refused.
_JOIN_METHODS = ("onConnect", "onChallenge", "onWelcome")


class ApplicationSession(Session):
    """Autobahn's ``ApplicationSession``: override ``onJoin(details)`` (the application,
    sync or async: the session stays joined after it returns, until ``leave()`` or the
    router ends it), ``onLeave(details)`` and ``onDisconnect()``.

    Run it with the driver's ``ApplicationRunner``, or as a ``Component``'s
    ``session_factory`` (then ``onJoin`` is the component's ``main``). An exception from
    ``onJoin`` ends the run (Autobahn logged it and stayed joined).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        taken = [name for name in _JOIN_METHODS if name in vars(cls)]
        if taken:
            raise wc.ConfigurationError(
                f"{cls.__name__} overrides {', '.join(taken)}: the join is not the session's "
                "here; give the credentials as ApplicationRunner(..., authentication={...}) "
                "or Component(authentication=...) (see docs/porting.md)"
            )

    def onJoin(self, details: wc.SessionDetails) -> Any:
        """The application, once joined (nothing by default)."""
        return None

    def onLeave(self, details: wc.CloseDetails) -> Any:
        """The session has ended, or its join was refused (before the component's ``leave``
        listeners)."""
        return None

    def onDisconnect(self) -> Any:
        """The connection has closed (before the component's ``disconnect`` listeners)."""
        return None


async def run_application(session: ApplicationSession) -> None:
    """A component's ``main`` for an :class:`ApplicationSession`: ``onJoin``, then stay
    joined. It never returns (which would end the run as done): the component cancels it
    when the session ends, and the reason decides, as for a component without ``main``."""
    details = session.details
    assert details is not None
    await _maybe(session.onJoin(details))
    await session.runtime.event().wait()


async def _maybe(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def session_hook(name: str, session: Session, *args: Any) -> None:
    """Call ``onLeave``/``onDisconnect`` of an :class:`ApplicationSession` (before the
    component's ``leave``/``disconnect`` listeners, as Autobahn's session fires them)."""
    if isinstance(session, ApplicationSession):
        if name == "leave":
            await _maybe(session.onLeave(*args))
        elif name == "disconnect":
            await _maybe(session.onDisconnect())
