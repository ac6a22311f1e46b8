"""Autobahn's ``ApplicationSession`` and ``ApplicationRunner`` on anyio, for ported code."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from wamp_core import ComponentConfig, driver

from ._component import Component
from ._run import run
from ._session import Session

__all__ = ["ApplicationRunner", "ApplicationSession"]


class ApplicationSession(driver.ApplicationSession, Session):
    """Autobahn's ``ApplicationSession`` (see :class:`wamp_core.driver.ApplicationSession`)."""


class ApplicationRunner(driver.ApplicationRunner):
    """Autobahn's ``ApplicationRunner`` (see :class:`wamp_core.driver.ApplicationRunner`);
    ``run(make, backend="trio")`` runs it on trio."""

    component_class = Component

    def run(
        self,
        make: Callable[[ComponentConfig], driver.Session] | type[driver.Session],
        start_loop: bool = True,
        log_level: str | None = None,
        *,
        backend: Literal["asyncio", "trio"] = "asyncio",
    ) -> Coroutine[Any, Any, Any] | None:
        self._backend = backend
        return super().run(make, start_loop, log_level)

    def _start(self, component: driver.Component[Any], log_level: str | None) -> None:
        assert isinstance(component, Component)
        run(component, backend=self._backend, log_level=log_level)
