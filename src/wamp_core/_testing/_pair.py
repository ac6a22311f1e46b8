"""A client :class:`~wamp_core.Connection` joined to the embedded router engine in memory.

h11's ``ConnectionPair`` idea for WAMP: both ends are sans-IO, so a test can hold them side by
side and move the bytes itself. No socket, no event loop, no clock: the router engine's
randomness (session and publication IDs) is a seeded :class:`random.Random`, and its clock
(call timeouts) moves only when the test calls :meth:`MemoryRouter.tick`.

:class:`MemoryRouter` is one router engine and the clients connected to it;
:meth:`MemoryRouter.pump` moves bytes between every client and the router until nothing moves.
:class:`ConnectionPair` is one client: its :class:`~wamp_core.Connection`, the router's
:class:`~wamp_core.RouterConnection` for it, and the client events not yet taken.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Literal

from .._client._connection import Connection, ConnectionEvent
from .._client._events import Joined
from .._client._session import ClientSession
from .._framing import Opened, RawSocket, Role, WebSocket
from .._router import Router, RouterConnection, RouterSession
from ..auth import Authenticator

__all__ = ["MemoryRouter", "ConnectionPair", "connection_pair", "Transport"]

Transport = Literal["rawsocket", "websocket"]

#: Rounds of :meth:`MemoryRouter.pump` after which it gives up (the peers never go quiet).
MAX_ROUNDS = 10_000


class ConnectionPair:
    """One client connected to a :class:`MemoryRouter` (made by :meth:`MemoryRouter.connect`
    or :func:`connection_pair`).

    ``client`` is the client :class:`~wamp_core.Connection` (issue commands on
    ``client.session``, or :attr:`session`), ``server`` the router's
    :class:`~wamp_core.RouterConnection` for it, ``router`` the :class:`MemoryRouter`.
    Client events collect until :meth:`pump` returns them, whichever pair's pump moved the
    bytes that caused them.
    """

    def __init__(
        self,
        router: MemoryRouter,
        client: Connection,
        server: RouterConnection,
        realm: str,
    ) -> None:
        self.router = router
        self.client = client
        self.server = server
        #: The realm :meth:`join` joins by default.
        self.realm = realm
        self._unread: list[ConnectionEvent] = []
        self._opened = False
        self._client_eof = False  # the router's end closed: the client has seen end of file
        self._server_eof = False  # the client's end closed: the router has seen end of file

    def __repr__(self) -> str:
        return f"<ConnectionPair {self.client!r} realm={self.realm!r}>"

    @property
    def session(self) -> ClientSession:
        """The client session (``client.session``): ``call``, ``publish``, ``subscribe``..."""
        return self.client.session

    @property
    def router_session(self) -> RouterSession:
        """The router engine's end of this client's session."""
        return self.server.session

    def open(self) -> list[ConnectionEvent]:
        """Run the transport's opening handshake (once); return the client events (``Opened``,
        and ``Joined`` if :meth:`Connection.join` was called before)."""
        if not self._opened:
            self._opened = True
            self.client.initiate()
        return self.pump()

    def join(
        self, realm: str | None = None, authenticators: Sequence[Authenticator] = ()
    ) -> Joined:
        """Open the transport if needed, join ``realm`` (default: :attr:`realm`) and return the
        :class:`~wamp_core.events.Joined` event.

        Raises :class:`AssertionError` listing the client's events when the session did not
        join (refused, aborted, or still waiting for something the test must do). Events
        other than ``Opened`` and ``Joined`` stay for the next :meth:`pump`.
        """
        events = self.open()
        self.client.join(self.realm if realm is None else realm, authenticators)
        events += self.pump()
        joined = [e for e in events if isinstance(e, Joined)]
        self._unread[:0] = [e for e in events if not isinstance(e, Joined | Opened)]
        if not joined:
            raise AssertionError(f"the session did not join; client events: {events!r}")
        return joined[0]

    def pump(self) -> list[ConnectionEvent]:
        """Move bytes between every client of the router and the router until nothing moves;
        return this client's events that have not been returned yet."""
        self.router.pump()
        return self.take_events()

    def take_events(self) -> list[ConnectionEvent]:
        """The client events collected so far and not yet returned (moves no bytes)."""
        self._unread.extend(self.client.take_events())
        events, self._unread = self._unread, []
        return events

    def leave(self, reason: str = "wamp.close.normal") -> list[ConnectionEvent]:
        """Leave the session (GOODBYE), pump, and return the client's events: ``Left``, and
        on WebSocket ``Closed`` once the close handshake is over (RawSocket has no close
        handshake and no ``Closed`` for a close of our own: ``client.closed`` is true)."""
        self.session.leave(reason)
        return self.pump()

    def disconnect(self, reason: str = "connection lost") -> list[ConnectionEvent]:
        """Drop the transport abruptly (both ends see it lost, no GOODBYE), pump the other
        clients, and return this client's events."""
        if not self._client_eof:
            self._client_eof = True
            self._unread.extend(self.client.connection_lost(reason))
        if not self._server_eof:
            self._server_eof = True
            self.server.receive_eof()
        return self.pump()

    def _step(self) -> bool:
        """One round of moving bytes both ways; True if anything moved."""
        client, server = self.client, self.server
        moved = False
        self._unread.extend(client.take_events())
        data = client.data_to_send()
        if data and not self._server_eof:
            server.receive_data(data)
            moved = True
        if client.closed and not self._server_eof:
            # The client closed its socket after its last bytes: the router reads end of file.
            self._server_eof = True
            server.receive_eof()
            moved = True
        out = server.data_to_send()
        if out and not self._client_eof and not client.closed:
            self._unread.extend(client.receive_data(out))
            moved = True
        if server.should_close and not self._client_eof:
            # The router closed its socket after its last bytes.
            self._client_eof = True
            if not client.closed:
                self._unread.extend(client.receive_eof())
            moved = True
        self._unread.extend(client.take_events())
        return moved


class MemoryRouter:
    """The embedded router engine (:class:`~wamp_core.Router`) and the clients connected to it
    in memory.

    ``engine``: a router engine of your own (realms, principals, permissions...; give it
    ``rng=random.Random(seed)`` to keep IDs reproducible); by default a ``Router(realms,
    rng=random.Random(seed))``.
    """

    def __init__(
        self, engine: Router | None = None, *, realms: Iterable[str] = ("realm1",), seed: int = 0
    ) -> None:
        self.engine = engine if engine is not None else Router(realms, rng=random.Random(seed))
        #: Every client connected so far, in order.
        self.pairs: list[ConnectionPair] = []

    def __repr__(self) -> str:
        return f"<MemoryRouter {len(self.pairs)} client(s), realms={sorted(self.engine.realms)}>"

    def connect(
        self,
        realm: str = "realm1",
        *,
        serializer: str = "json",
        transport: Transport = "rawsocket",
        strict_uris: bool = False,
    ) -> ConnectionPair:
        """A new client (transport not opened yet: :meth:`ConnectionPair.open` or
        :meth:`ConnectionPair.join`).

        ``serializer`` is any the transport supports (``"json"``, ``"msgpack"``, ``"cbor"``,
        ``"ubjson"``, ``"flatbuffers"``; batched ones over ``"websocket"`` only); ``realm`` is
        what :meth:`ConnectionPair.join` joins by default.
        """
        client_framer: RawSocket | WebSocket
        server_framer: RawSocket | WebSocket
        if transport == "rawsocket":
            client_framer = RawSocket(Role.CLIENT, serializer=serializer)
            server_framer = RawSocket(Role.SERVER, serializers=(serializer,))
        elif transport == "websocket":
            client_framer = WebSocket(
                Role.CLIENT, serializers=[serializer], host="router.memory", path="/ws"
            )
            server_framer = WebSocket(Role.SERVER, serializers=[serializer])
        else:
            raise ValueError(f"transport must be 'rawsocket' or 'websocket', not {transport!r}")
        client = Connection(client_framer, strict_uris=strict_uris)
        pair = ConnectionPair(self, client, RouterConnection(self.engine, server_framer), realm)
        self.pairs.append(pair)
        return pair

    def pump(self) -> None:
        """Move bytes between every client and the router until nothing moves (each client's
        events wait in its :class:`ConnectionPair`)."""
        for _ in range(MAX_ROUNDS):
            moved = False
            for pair in self.pairs:
                moved = pair._step() or moved
            if not moved:
                return
        raise RuntimeError(f"the peers did not go quiet after {MAX_ROUNDS} rounds")

    def tick(self, now: float) -> None:
        """Move the router engine's clock to ``now`` seconds (:meth:`wamp_core.Router.tick`:
        calls whose timeout passed end) and pump."""
        self.engine.tick(now)
        self.pump()


def connection_pair(
    realm: str = "realm1",
    *,
    serializer: str = "json",
    transport: Transport = "rawsocket",
    router: MemoryRouter | None = None,
    seed: int = 0,
) -> ConnectionPair:
    """A client :class:`~wamp_core.Connection` and a router engine, connected in memory (the
    client has not joined yet: :meth:`ConnectionPair.join` does it).

    ``pair = connection_pair(realm="realm1"); pair.join()`` gives a joined session
    (``pair.session``); after each command, ``pair.pump()`` moves the bytes and returns the
    client's events. Without ``router``, a new :class:`MemoryRouter` serving ``realm``, with
    IDs from ``random.Random(seed)``; pass ``router=pair.router`` for more clients on the same
    router.
    """
    if router is None:
        router = MemoryRouter(realms=(realm,), seed=seed)
    return router.connect(realm, serializer=serializer, transport=transport)
