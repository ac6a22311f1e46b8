"""A small blocking driver for tests: one socket, one :class:`wamp_core.Connection`.

It only moves bytes and collects events; every protocol decision is the core's. Tests use it
to prove behaviour against a real router.

For ``wss://``/``rss://`` it wraps the socket with ``ssl_context`` (default: the core's
:func:`wamp_core.ssl_context_for` of the endpoint), verifies
:func:`wamp_core.server_hostname_for`, and hands the connection
:func:`wamp_core.channel_ids` of ``get_channel_binding("tls-unique")``, as a driver does.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import wamp_core as wc
from wamp_core import events as ev


class BlockingClient:
    def __init__(
        self,
        transport: wc.TransportSpec,
        realm: str | None = "realm1",
        authenticators: Sequence[wc.auth.Authenticator] = (),
        *,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        channel_ids: Mapping[str, bytes] | None = None,
    ) -> None:
        """``channel_ids`` overrides the ids taken from the TLS connection (tests of binding)."""
        self.transport = wc.parse_transports(transport)[0]
        self.timeout = timeout
        self.events: list[Any] = []
        self.handlers: list[Callable[[BlockingClient, Any], None]] = []
        endpoint = self.transport.endpoint
        sock: socket.socket
        if endpoint.type == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(endpoint.path or "")
        else:
            assert isinstance(endpoint, wc.TcpEndpoint), "a blocking client needs a socket"
            sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
        tls_ids: dict[str, bytes] = {}
        if self.transport.is_secure:
            sock.settimeout(timeout)
            try:
                sock = self._wrap_tls(sock, ssl_context)
            except BaseException:
                sock.close()
                raise
            assert isinstance(sock, ssl.SSLSocket)
            tls_ids = wc.channel_ids(sock.get_channel_binding("tls-unique"))
        self.sock = sock
        self.sock.settimeout(timeout)
        self.conn = wc.make_connection(
            self.transport,
            realm=realm,
            authenticators=authenticators,
            channel_ids=tls_ids if channel_ids is None else channel_ids,
        )
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.conn.initiate()
        self.flush()

    def _wrap_tls(self, sock: socket.socket, context: ssl.SSLContext | None) -> ssl.SSLSocket:
        if context is None:
            context = wc.ssl_context_for(self.transport)
        assert context is not None
        return context.wrap_socket(sock, server_hostname=wc.server_hostname_for(self.transport))

    @property
    def session(self) -> wc.ClientSession:
        """The session engine: issue commands here; :meth:`step` sends them."""
        return self.conn.session

    # -- plumbing --------------------------------------------------------------------------
    def flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def step(self, timeout: float | None = None) -> list[Any]:
        """Wait for data once; return the new events."""
        self.flush()
        local = self.conn.take_events()  # produced by commands (e.g. a skip cancel)
        if local:
            return self._deliver(local)
        if self.conn.closed:
            return []
        if not self.sel.select(self.timeout if timeout is None else timeout):
            return []
        try:
            data = self.sock.recv(65536)
        except ConnectionError as exc:
            new = self.conn.connection_lost(str(exc))
        else:
            new = self.conn.receive_data(data) if data else self.conn.receive_eof()
        return self._deliver(new + self.conn.take_events())

    def _deliver(self, new: list[Any]) -> list[Any]:
        """Record and hand events to the handlers, until their commands produce no more."""
        delivered: list[Any] = []
        while new:
            self.events.extend(new)
            delivered.extend(new)
            for event in new:
                for handler in list(self.handlers):
                    handler(self, event)
            self.flush()
            new = self.conn.take_events()
        return delivered

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float | None = None) -> Any:
        """Step until an event matching ``predicate`` arrives (also checks past events)."""
        for event in self.events:
            if predicate(event):
                return event
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            if self.conn.closed and not self.conn.data_to_send():
                break
            for event in self.step(max(0.0, deadline - time.monotonic())):
                if predicate(event):
                    return event
        raise AssertionError(f"event not seen; events so far: {self.events!r}")

    def wait_type(self, cls: type, **fields: Any) -> Any:
        return self.wait_for(
            lambda e: isinstance(e, cls) and all(getattr(e, k) == v for k, v in fields.items())
        )

    def join(self) -> ev.Joined:
        return self.wait_for(lambda e: isinstance(e, ev.Joined | ev.Aborted))  # type: ignore[no-any-return]

    def request(self, rid: int) -> Any:
        """Wait for the terminal event of request ``rid``."""
        terminal = (ev.CallSucceeded, ev.RequestFailed, ev.Published, ev.Subscribed,
                    ev.Unsubscribed, ev.Registered, ev.Unregistered)  # fmt: skip
        return self.wait_for(lambda e: isinstance(e, terminal) and e.request_id == rid)

    def close(self) -> None:
        try:
            if self.conn.session.is_joined:
                self.conn.session.leave()
                self.wait_for(lambda e: isinstance(e, ev.Left | ev.Aborted), timeout=3)
        except (AssertionError, OSError, wc.WampError):
            pass
        finally:
            self.sel.close()
            self.sock.close()

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pump(*clients: BlockingClient, until: Callable[[], bool], timeout: float = 10.0) -> None:
    """Step several clients round-robin until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        for client in clients:
            client.step(0.02)
