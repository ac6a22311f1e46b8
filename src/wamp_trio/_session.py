"""The trio session: :class:`wamp_core.driver.Session` on the trio runtime."""

from __future__ import annotations

from wamp_core import driver

from ._runtime import RUNTIME

__all__ = ["Session"]


class Session(driver.Session):
    """A WAMP session on trio; joined by :func:`connect` or a :class:`Component` (one per
    connection). ``session_factory(config)`` may build a subclass.

    Every method is :class:`wamp_core.driver.Session`'s.
    """

    runtime = RUNTIME
