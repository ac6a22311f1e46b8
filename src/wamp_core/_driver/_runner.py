"""Autobahn's ``ApplicationRunner``, for code ported from it: one
:class:`~wamp_core.driver.ApplicationSession` class run on one router by a component."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, Literal, overload

import wamp_core as wc

from ._component import Component
from ._connect import check_tls_files
from ._session import Authentication, Session

__all__ = ["ApplicationRunner"]


class ApplicationRunner:
    """Autobahn's ``ApplicationRunner(url, realm, extra, serializers, ssl, proxy, headers)``:
    run one :class:`ApplicationSession` class on one router, without reconnecting (as
    Autobahn's asyncio runner). ``authentication`` is ours: the component's
    (``{"ticket": {...}}``...).

    ``run(make)`` builds a component of the driver (``make`` is the session class, or a
    function of the :class:`~wamp_core.ComponentConfig` returning a session) and runs it
    until the session has ended; ``start_loop=False`` returns the coroutine to await
    instead (in a running loop).
    """

    #: The driver's component class (set by each driver's subclass).
    component_class: ClassVar[type[Component[Any]]]

    def __init__(  # noqa: PLR0917 - Autobahn's positional signature, for porting
        self,
        url: str,
        realm: str | None = None,
        extra: Any = None,
        serializers: Sequence[str] | None = None,
        ssl: Any = None,
        proxy: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        authentication: Authentication | None = None,
    ) -> None:
        transport: dict[str, Any] = {"url": url, "max_retries": 0}
        if serializers is not None:
            if isinstance(serializers, str) or not all(isinstance(s, str) for s in serializers):
                raise wc.ConfigurationError(
                    f"serializers are names ('json', 'msgpack', 'cbor'...): {serializers!r}"
                )
            transport["serializers"] = list(serializers)
        if proxy is not None:
            transport["proxy"] = dict(proxy)
        if headers is not None:
            transport["headers"] = dict(headers)
        self.url = url
        self.realm = realm if realm is not None else "realm1"
        self.extra = extra
        if ssl is not None:  # the endpoint the URL gives, with this TLS
            endpoint = wc.parse_transports(transport)[0].endpoint
            if not isinstance(endpoint, wc.TcpEndpoint):
                raise wc.ConfigurationError(f"ssl is for a TCP URL: {url!r}")
            transport["endpoint"] = {"host": endpoint.host, "port": endpoint.port, "tls": ssl}
        self.transports = wc.parse_transports(transport)  # (checked here, not at run())
        check_tls_files(self.transports)
        self._authentication = authentication

    def component(
        self, make: Callable[[wc.ComponentConfig], Session] | type[Session]
    ) -> Component[Any]:
        """The component :meth:`run` runs for ``make``."""
        return self.component_class(
            transports=list(self.transports), realm=self.realm, extra=self.extra,
            authentication=self._authentication, session_factory=make,
        )  # fmt: skip

    @overload
    def run(
        self,
        make: Callable[[wc.ComponentConfig], Session] | type[Session],
        start_loop: Literal[True] = True,
        log_level: str | None = None,
    ) -> None: ...

    @overload
    def run(
        self,
        make: Callable[[wc.ComponentConfig], Session] | type[Session],
        start_loop: Literal[False],
        log_level: str | None = None,
    ) -> Coroutine[Any, Any, Any]: ...

    def run(
        self,
        make: Callable[[wc.ComponentConfig], Session] | type[Session],
        start_loop: bool = True,
        log_level: str | None = None,
    ) -> Coroutine[Any, Any, Any] | None:
        """Run the session until it has ended; ``start_loop=False``: the coroutine to await."""
        component = self.component(make)
        if not start_loop:
            return component.run()
        self._start(component, log_level)
        return None

    def _start(self, component: Component[Any], log_level: str | None) -> None:
        """Run ``component`` in a new event loop (the driver's ``run``)."""
        raise NotImplementedError
