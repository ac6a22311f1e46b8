"""The trio component: :class:`wamp_core.driver.Component` with trio sessions."""

from __future__ import annotations

import sys

from wamp_core import driver

from ._session import Session

if sys.version_info >= (3, 13):  # pragma: no cover - CI runs 3.11
    from typing import TypeVar
else:  # (a TypeVar with a default needs typing_extensions before 3.13)
    from typing_extensions import TypeVar

__all__ = ["Component"]

#: The session class the component's ``session_factory`` builds (this driver's ``Session``
#: unless given): what :meth:`wait_ready` and :attr:`session` are typed with.
S = TypeVar("S", bound=Session, default=Session)


class Component(driver.Component[S]):
    """A WAMP application component on trio: Autobahn's
    ``Component`` with structured concurrency (see :class:`wamp_core.driver.Component`)."""

    session_class = Session
