"""Transitional support for the client-only framer names (``RawSocketClient``,
``WebSocketClient``) that predate the role parameter.

Each alias is a subclass fixing ``Role.CLIENT`` with the old constructor signature. Its metaclass
makes any client-role instance of the role-aware class count as an instance of the alias, so
``isinstance(RawSocket(Role.CLIENT, ...), RawSocketClient)`` keeps holding for existing callers.
Remove together with the aliases once every caller uses the role-aware classes.
"""

from __future__ import annotations

from ._events import Role

__all__ = ["ClientAliasMeta"]


class ClientAliasMeta(type):
    """Metaclass of a client-only alias; the alias names its role-aware class in ``_alias_of``."""

    def __instancecheck__(cls, instance: object) -> bool:
        if type.__instancecheck__(cls, instance):
            return True
        # Only the alias itself, not subclasses of it (those add behaviour of their own).
        target = cls.__dict__.get("_alias_of")
        return (
            isinstance(target, type)
            and isinstance(instance, target)
            and getattr(instance, "role", None) is Role.CLIENT
        )
