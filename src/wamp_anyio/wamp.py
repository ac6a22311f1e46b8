"""Autobahn's ``autobahn.wamp`` method decorators (``from autobahn import wamp`` becomes this
package's ``wamp``): see :mod:`wamp_core.wamp`."""

from wamp_core.wamp import error as error, register as register, subscribe as subscribe

__all__ = ["error", "register", "subscribe"]
