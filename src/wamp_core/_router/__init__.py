"""The router layer: a sans-IO WAMP router engine beside the client (realms, the router side of
the handshake, broker, dealer) and the per-connection glue from bytes to the engine."""

from ._auth import Permission, Principal, ScramCredential
from ._connection import RouterConnection
from ._engine import ROUTER_ROLES, Router, RouterSession

__all__ = [
    "ROUTER_ROLES", "Permission", "Principal", "Router", "RouterConnection", "RouterSession",
    "ScramCredential",
]  # fmt: skip
