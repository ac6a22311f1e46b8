"""The anyio component: :class:`wamp_core.driver.Component` with anyio sessions."""

from __future__ import annotations

from wamp_core import driver

from ._session import Session

__all__ = ["Component"]


class Component(driver.Component[Session]):
    """A WAMP application component on asyncio or trio through anyio: Autobahn's
    ``Component`` with structured concurrency (see :class:`wamp_core.driver.Component`)."""

    session_class = Session
