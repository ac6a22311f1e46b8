"""Run components until they are done, or until Ctrl-C / SIGTERM stops them cleanly."""

from __future__ import annotations

from collections.abc import Sequence

import trio

from wamp_core import driver

from ._component import Component
from ._runtime import RUNTIME

__all__ = ["run"]


def run(components: Component | Sequence[Component], *, log_level: str | None = None) -> None:
    """Run ``components`` (one or several) with ``trio.run`` until all are done.

    Ctrl-C or SIGTERM stops them cleanly (each leaves its session and closes its connection),
    then raises :class:`SystemExit` with status 128 + the signal number. The first error that
    ends a component stops the others and is raised as it is. ``log_level`` (Autobahn's
    argument: ``"info"``, ``"debug"``...) sets up :mod:`logging` first; without it logging is
    left as the application configured it.
    """
    driver.run(RUNTIME, components, trio.run, log_level=log_level)
