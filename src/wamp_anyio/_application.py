"""Autobahn's ``ApplicationSession`` and ``ApplicationRunner`` on anyio, for ported code."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal, overload

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

    @overload
    def run(
        self,
        make: Callable[[ComponentConfig], driver.Session] | type[driver.Session],
        start_loop: Literal[True] = True,
        log_level: str | None = None,
        *,
        backend: Literal["asyncio", "trio"] = "asyncio",
    ) -> None: ...

    @overload
    def run(
        self,
        make: Callable[[ComponentConfig], driver.Session] | type[driver.Session],
        start_loop: Literal[False],
        log_level: str | None = None,
        *,
        backend: Literal["asyncio", "trio"] = "asyncio",
    ) -> Coroutine[Any, Any, Any]: ...

    def run(
        self,
        make: Callable[[ComponentConfig], driver.Session] | type[driver.Session],
        start_loop: bool = True,
        log_level: str | None = None,
        *,
        backend: Literal["asyncio", "trio"] = "asyncio",
    ) -> Coroutine[Any, Any, Any] | None:
        """As Autobahn's; ``backend="trio"`` runs it on trio (``start_loop=True``)."""
        self._backend = backend
        if start_loop:
            super().run(make, True, log_level)
            return None
        return super().run(make, False, log_level)

    def _start(self, component: driver.Component[Any], log_level: str | None) -> None:
        assert isinstance(component, Component)
        run(component, backend=self._backend, log_level=log_level)
