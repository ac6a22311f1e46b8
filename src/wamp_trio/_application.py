"""Autobahn's ``ApplicationSession`` and ``ApplicationRunner`` on trio, for ported code."""

from __future__ import annotations

from typing import Any

from wamp_core import driver

from ._component import Component
from ._run import run
from ._session import Session

__all__ = ["ApplicationRunner", "ApplicationSession"]


class ApplicationSession(driver.ApplicationSession, Session):
    """Autobahn's ``ApplicationSession`` (see :class:`wamp_core.driver.ApplicationSession`)."""


class ApplicationRunner(driver.ApplicationRunner):
    """Autobahn's ``ApplicationRunner`` (see :class:`wamp_core.driver.ApplicationRunner`)."""

    component_class = Component

    def _start(self, component: driver.Component[Any], log_level: str | None) -> None:
        assert isinstance(component, Component)
        run(component, log_level=log_level)
