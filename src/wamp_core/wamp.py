"""Autobahn's ``autobahn.wamp`` decorators for methods: ``from wamp_anyio import wamp`` (or
``wamp_trio``, ``wamp_core``) in place of ``from autobahn import wamp``.

``@wamp.register(uri)`` and ``@wamp.subscribe(topic)`` mark methods; ``await
session.register(obj)`` / ``await session.subscribe(obj)`` register or subscribe every marked
method of ``obj`` (bound to it) and return the list of registrations or subscriptions.
``@wamp.error(uri)`` marks an exception class for ``session.define(cls)``.
"""

from ._component._defined import error as error
from ._component._marks import register as register, subscribe as subscribe

__all__ = ["error", "register", "subscribe"]
