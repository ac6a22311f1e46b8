"""Ticket authentication (spec: advanced/authentication_ticket.md)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import AuthenticationError, ConfigurationError
from ._base import Authenticator

__all__ = ["TicketAuthenticator"]

logger = logging.getLogger(__name__)


class TicketAuthenticator(Authenticator):
    """``ticket`` authentication: the ticket travels verbatim (use TLS).

    ``ticket`` is a str, or a zero-argument callable returning one; the callable is called
    for every CHALLENGE, so it can hand out a freshly refreshed token.
    """

    method = "ticket"

    def __init__(
        self,
        ticket: str | Callable[[], str],
        authid: str | None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(ticket, str):
            if not ticket:
                raise ConfigurationError("ticket must not be empty")
        elif not callable(ticket):
            raise ConfigurationError(
                f"ticket must be a str or a callable returning one, not {type(ticket).__name__}"
            )
        elif inspect.iscoroutinefunction(ticket):  # (answered inside receive_data: no await)
            raise ConfigurationError(
                "ticket must be a plain callable returning a str, not an async function"
            )
        super().__init__(authid=authid, authrole=authrole, authextra=authextra)
        self._ticket = ticket

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        ticket = self._ticket
        if isinstance(ticket, str):
            value: object = ticket
        else:
            try:
                value = ticket()
            except Exception as exc:
                raise AuthenticationError(
                    f"the ticket callable raised {type(exc).__name__}"
                ) from exc
        if not isinstance(value, str):
            if inspect.iscoroutine(value):  # (an object whose __call__ is async)
                value.close()  # (never awaited: no warning about it)
            raise AuthenticationError(
                f"the ticket callable must return a str, not {type(value).__name__}"
            )
        if not value:
            raise AuthenticationError("the ticket callable returned an empty ticket")
        logger.debug("answering ticket challenge for authid %r", self.authid)
        return value, {}
