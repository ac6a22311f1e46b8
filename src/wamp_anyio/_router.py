"""Serve the core's router engine over anyio: WebSocket and RawSocket, TCP and unix sockets.

::

    async with wamp_anyio.start_router(["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws"]) as router:
        print(router.urls)  # the bound addresses, ports resolved
        ...                 # components connect to them

Leaving the block says GOODBYE ``wamp.close.system_shutdown`` to every session (bounded by
:data:`CLOSE_TIMEOUT`) and closes every connection.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
from anyio.abc import ByteStream, Listener
from anyio.streams.stapled import MultiListener
from anyio.streams.tls import TLSAttribute, TLSListener

import wamp_core as wc
from wamp_core import driver
from wamp_core.driver import CLOSE_TIMEOUT

from ._direct import AsyncioSocketStream
from ._runtime import RUNTIME

__all__ = ["RouterServer", "start_router"]

log = logging.getLogger(__name__)

_RECEIVE_SIZE = 65536
#: What a served stream raises when the client is gone.
_GONE = (
    anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError,
    driver.EndOfStream, driver.BrokenStream,
)  # fmt: skip
_Stream = ByteStream | driver.MemoryStream | driver.DirectSocketStream
#: accept() errors that mean "out of resources": the listener pauses instead of spinning.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_EXHAUSTED_PAUSE = 0.1
_Handler = Callable[[_Stream], Coroutine[Any, Any, None]]


#: The default seconds a new connection has to complete the transport handshake and join.
HANDSHAKE_TIMEOUT = 10.0


@dataclass
class RouterServer:
    """A running router: the engine and the URLs it listens on (ports resolved)."""

    router: wc.Router
    urls: list[str] = field(default_factory=list)
    #: Seconds a new connection has to complete the transport handshake and join a realm.
    handshake_timeout: float = HANDSHAKE_TIMEOUT
    #: Seconds a connection may send nothing before it is closed (``None``: never).
    idle_timeout: float | None = None
    #: Seconds a joined connection may send nothing before it is pinged (``None``: never),
    #: and how long it then has to answer (anything counts) before it is closed.
    ping_interval: float | None = None
    ping_timeout: float | None = None
    #: Bytes queued for a client that does not read, beyond what its pending write holds,
    #: at which it is cut off (``wamp_core.RouterConnection.max_queued``).
    max_queued: int = wc.RouterConnection.MAX_QUEUED
    _connections: set[wc.RouterConnection] = field(default_factory=set)
    #: What the keepalive knows of each connection.
    _watched: dict[wc.RouterConnection, _Watch] = field(default_factory=dict)
    #: While a connection's bytes are processed: the connections that got output, each sent
    #: once the processing is over (one system call each, no writer task woken).
    _pending: dict[Callable[[], None], None] | None = None


@dataclass(eq=False)
class _Watch:
    """What the keepalive knows of one connection."""

    #: Gives the connection up (why): its session ends, its socket is reset.
    cut: Callable[[str], None]
    sock: driver.SocketLike | None
    #: When it last sent something.
    seen: float
    #: Bytes of ours not handed to the kernel yet (the writer's backlog, the write in
    #: progress, what the engine queued).
    held: Callable[[], int]
    #: When the ping it has not answered yet went out, and how many bytes of ours it had
    #: acknowledged then (driver.acknowledged: it may be taking a burst the ping waits behind),
    #: and where the ping ends in what we sent (acknowledgements beyond it prove nothing: a
    #: hung client's kernel goes on taking what we send into its buffer).
    pinged: float | None = None
    acked: int | None = None
    until: int | None = None


def _available_serializers() -> tuple[str, ...]:
    """The serializers this installation can run (flatbuffers needs its optional package)."""
    names = []
    for name in wc.SERIALIZER_NAMES:
        try:
            wc.get_serializer(name)
        except wc.ConfigurationError:
            continue
        names.append(name)
    return tuple(names)


def _memory_name(url: str) -> str | None:
    """NAME of ``rs://memory/NAME``, else ``None``."""
    parts = urlsplit(url)
    if parts.scheme in ("rs", "rawsocket") and parts.netloc == "memory" and len(parts.path) > 1:
        return parts.path[1:]
    return None


def _framer_factory(url: str) -> Callable[[], wc.RawSocket | wc.WebSocket]:
    parts = urlsplit(url)
    names = _available_serializers()
    if parts.scheme in ("ws", "wss", "websocket"):
        path = parts.path or "/"
        return lambda: wc.WebSocket(wc.Role.SERVER, serializers=names, paths=(path,))
    if parts.scheme in ("rs", "rss", "rawsocket"):
        plain = tuple(n for n in names if "." not in n)  # RawSocket has no batched mode
        return lambda: wc.RawSocket(wc.Role.SERVER, serializers=plain)
    raise wc.ConfigurationError(
        f"cannot listen on {url!r}: use ws://, wss://, rs://, rss:// or rs://unix:/path"
    )


def _raw_sockets(listener: Listener[ByteStream]) -> list[socket.socket] | None:
    """The listening sockets of a plain TCP or unix ``listener`` (``None`` for TLS)."""
    parts = _parts(listener)
    if any(isinstance(part, TLSListener) for part in parts):
        return None
    return [part.extra(anyio.abc.SocketAttribute.raw_socket) for part in parts]


def _parts(listener: Listener[ByteStream]) -> list[Listener[ByteStream]]:
    return list(listener.listeners) if isinstance(listener, MultiListener) else [listener]


async def _accept(sock: socket.socket, handle: _Handler, tg: anyio.abc.TaskGroup) -> None:
    """Serve each connection ``sock`` accepts as a direct socket stream (like the client's:
    no scheduler round trip per send and receive when the kernel is ready)."""
    tcp = sock.family != socket.AF_UNIX
    while True:
        await RUNTIME.wait_readable(sock)
        while True:
            try:
                client, _ = sock.accept()
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno in _EXHAUSTED:  # keep serving the connections there are
                    log.warning("cannot accept a connection now: %s", exc)
                    await anyio.sleep(_EXHAUSTED_PAUSE)
                else:  # (a client that gave up before it was accepted...)
                    log.debug("accepting a connection failed: %s", exc)
                break
            if tcp:
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tg.start_soon(handle, AsyncioSocketStream(client, RUNTIME))


class _TLSListener(TLSListener):
    """anyio's TLS listener, but a failed or abandoned TLS handshake (a port scan, a client
    that gives up) is logged at DEBUG, not as an ERROR with a traceback."""

    @staticmethod
    async def handle_handshake_error(exc: BaseException, stream: anyio.abc.AnyByteStream) -> None:
        await anyio.aclose_forcefully(stream)
        if not isinstance(exc, Exception) or isinstance(exc, anyio.get_cancelled_exc_class()):
            raise  # noqa: PLE0704 - (called from the except clause of anyio's handshake)
        log.debug("closing a connection: TLS handshake failed: %r", exc)


def _check_server_context(url: str, context: ssl.SSLContext | None) -> None:
    """Refuse a context no TLS client could connect through (every handshake would fail, and
    clients would retry for ever): a client-side one, or one without a certificate (a TLS
    handshake in memory against a client that checks nothing)."""
    if context is None:
        raise wc.ConfigurationError(f"{url!r} needs ssl_context (the server certificate)")
    if context.protocol == ssl.PROTOCOL_TLS_CLIENT:
        raise wc.ConfigurationError(
            f"{url!r}: ssl_context is a client-side context; a server needs one from "
            "ssl.create_default_context(ssl.Purpose.CLIENT_AUTH) with load_cert_chain()"
        )
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(ssl.MemoryBIO(), to_server)
    server = context.wrap_bio(to_server, to_client, server_side=True)
    with contextlib.suppress(ssl.SSLWantReadError):  # (the ClientHello went out)
        client.do_handshake()
    try:
        server.do_handshake()
    except ssl.SSLWantReadError:
        return  # it answered (ServerHello, its certificate) and waits for the client
    except ssl.SSLError as exc:
        if exc.reason in ("NO_SHARED_CIPHER", "NO_CERTIFICATE_SET", "MISSING_RSA_CERTIFICATE"):
            raise wc.ConfigurationError(
                f"{url!r}: ssl_context has no certificate (load_cert_chain() it): {exc}"
            ) from None
        log.debug("the trial TLS handshake for %s failed: %r", url, exc)


def _answers(path: str) -> bool:
    """Whether a server accepts connections on the unix socket ``path`` (a file left by one
    that is gone does not)."""
    if not os.path.exists(path):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _unix_path(url: str) -> str | None:
    """PATH of ``rs://unix:PATH`` (absolute or relative), else ``None``."""
    _, sep, rest = url.partition("://")
    if sep and rest.startswith("unix:"):
        return rest[len("unix:") :]
    return None


async def _listen(
    url: str, ssl_context: ssl.SSLContext | None, handshake_timeout: float
) -> tuple[Listener[ByteStream], str]:
    parts = urlsplit(url)
    tls = parts.scheme in ("wss", "rss")
    if (path := _unix_path(url)) is not None:
        if tls:  # (a unix socket served in clear text to one who asked for TLS)
            raise wc.ConfigurationError(f"cannot listen on {url!r}: no TLS on a unix socket")
        if not path or path.endswith("/"):
            raise wc.ConfigurationError(f"cannot listen on {url!r}: no socket path")
        if _answers(path):  # (binding removes the file: the other server would be cut off)
            raise OSError(errno.EADDRINUSE, f"another server listens on {path}")
        listener: Listener[ByteStream] = await anyio.create_unix_listener(path)
        return listener, f"{parts.scheme}://unix:{path}"
    host, port = parts.hostname or "127.0.0.1", parts.port or 0
    if tls:
        _check_server_context(url, ssl_context)
    tcp = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound = tcp.listeners[0].extra(anyio.abc.SocketAttribute.local_port)
    suffix = parts.path if parts.scheme in ("ws", "wss", "websocket") else ""
    listener = tcp
    if tls:
        assert ssl_context is not None
        # WAMP ends on its own close: a client's missing close_notify is not an error. The
        # TLS handshake counts against the same deadline as the transport's and the join.
        # One TLS listener per socket: an accept failure then reaches _serve_tls as itself.
        listener = MultiListener([
            _TLSListener(part, ssl_context, standard_compatible=False,
                         handshake_timeout=handshake_timeout)
            for part in tcp.listeners
        ])  # fmt: skip
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    return listener, f"{parts.scheme}://{shown}:{bound}{suffix}"


async def _serve_tls(
    listener: Listener[ByteStream], handle: _Handler, tg: anyio.abc.TaskGroup
) -> None:
    """Serve a TLS ``listener``'s connections in ``tg`` (so that an accept failure ends none
    of them); an ``accept()`` that fails for want of resources pauses, as :func:`_accept`."""
    while True:
        try:
            await listener.serve(handle, tg)
        except OSError as exc:
            if exc.errno in _EXHAUSTED:
                log.warning("cannot accept a connection now: %s", exc)
                await anyio.sleep(_EXHAUSTED_PAUSE)
            else:
                log.debug("accepting a connection failed: %s", exc)


async def _receive(stream: _Stream, limit: float | None) -> bytes | None:
    """The next bytes from ``stream``, or ``None`` if ``limit`` s passed first (a joined
    connection without an idle timeout reads without a cancel scope: one less per read)."""
    if limit is None:
        return await stream.receive(_RECEIVE_SIZE)
    with anyio.move_on_after(limit):
        return await stream.receive(_RECEIVE_SIZE)
    return None


def _peer(stream: _Stream) -> str | None:
    """The client's address as the log shows it (``host:port``), if ``stream`` has one."""
    try:
        if isinstance(stream, driver.DirectSocketStream):
            address: Any = stream.socket.getpeername()
        elif isinstance(stream, ByteStream):
            address = stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        else:
            return None  # (an in-process stream)
    except OSError:
        return None
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    if isinstance(address, str):  # a unix socket's (a client's is unnamed: "")
        return f"unix:{address}" if address else "unix socket"
    return None


def _channel_type(peer: str | None, tls: bool) -> str:
    """The meta API's ``transport.channel_type`` (Crossbar.io's names, ``memory`` for an
    in-process stream)."""
    if peer is None:
        return "memory"
    if tls:
        return "tls"
    return "unix" if peer.startswith("unix") else "tcp"


async def _serve(
    server: RouterServer, stream: _Stream, make_framer: Callable[[], wc.RawSocket | wc.WebSocket]
) -> None:
    binding = (
        stream.extra(TLSAttribute.channel_binding_tls_unique, None)
        if isinstance(stream, ByteStream)
        else None
    )
    conn = wc.RouterConnection(
        server.router, make_framer(), max_queued=server.max_queued,
        channel_ids=wc.channel_ids(binding) if binding else None,
    )  # fmt: skip
    conn.session.peer = peer = _peer(stream)
    conn.session.transport["channel_type"] = _channel_type(peer, binding is not None)
    server._connections.add(conn)
    # The output side looks like the client's wamp_core.driver.Link (send at once, the rest
    # in order by a writer task, the same SEND_TIMEOUT) but bounds memory the other way: a
    # client's producers wait on Link's buffer (backpressure), while the router may make no
    # session wait for another. So while a write is pending, output stays in the engine's
    # connection (data_to_send is not called), where MAX_QUEUED cuts a client off that does
    # not read; Link pulls everything at once. Output arriving outside a read (timeouts,
    # shutdown, another connection's failure) is left to the writer task: sending from inside
    # the engine could end a session while the engine is iterating its realm.
    # The writer task and its wake-up event exist only once something needs them: on a plain
    # socket whose output the kernel always took at once (most idle sessions) they never do,
    # which saves a task and an event per connection.
    wake: driver.Event | None = None
    tg: anyio.abc.TaskGroup | None = None
    ended = False  # serving ended: its task group takes no more tasks
    direct = stream if isinstance(stream, driver.DirectSocketStream) else None
    backlog = bytearray()  # what the kernel did not take: the writer task sends it first
    writing = False  # the writer task is sending: what follows waits for it, in order
    in_write = 0  # the bytes of that write (for the keepalive: see _Watch.held)
    sent: driver.Event | None = None  # set when the writer's pending send is over
    reset = False  # given up: the socket is reset, what the client has not taken dropped

    def cut(why: str) -> None:
        """Give the connection up (its session ends as if it left) and reset its socket: a
        client that is cut off keeps nothing of the router's, not even the kernel's buffer
        (a graceful close went on sending it, at the client's pace)."""
        nonlocal reset
        log.info("closing a connection: %s", why)
        reset = True
        conn.receive_eof()
        if tg is not None:
            tg.cancel_scope.cancel()

    def kick() -> None:
        """Wake the writer task, starting it the first time (output for a connection whose
        serving ended is dropped: its socket is closed)."""
        nonlocal wake
        if wake is None:
            if ended or tg is None:  # (no output comes before serving starts)
                return
            wake = RUNTIME.event()
            tg.start_soon(write, wake)
        wake.set()

    def flush() -> None:
        """Hand what the connection queued to the kernel now if nothing waits before it;
        otherwise (or for what the kernel does not take) wake the writer task."""
        if direct is None or writing or backlog or conn.should_close:
            kick()
            return
        data = conn.data_to_send()
        if data:
            try:
                rest = direct.send_now(data)
            except driver.BrokenStream:
                rest = data  # the writer task's send fails the same way and ends it
            if rest:
                backlog.extend(rest)
                kick()

    def on_output() -> None:
        if conn.cut_off and not reset:
            cut("it does not read what it is sent")
            return
        pending = server._pending
        if pending is None:  # output not caused by a read (timeouts, shutdown)
            kick()
        else:
            pending[flush] = None

    async def write(event: driver.Event) -> None:
        nonlocal wake, writing, sent, in_write
        assert tg is not None
        while True:
            await event.wait()
            event = wake = RUNTIME.event()
            data = conn.data_to_send()
            if backlog:  # what the kernel did not take comes first
                data = bytes(backlog) + data
                backlog.clear()
            if data:
                writing, in_write = True, len(data)
                try:
                    # A client that stops reading must not hold its connection for ever: the
                    # same deadline as the client's own writes (wamp_core.driver), on
                    # progress (a slow link that moves is not cut).
                    moved = await driver.send_sliced(
                        anyio.move_on_after, stream.send, data, driver.SEND_TIMEOUT
                    )
                except _GONE:
                    conn.receive_eof()  # the client went away: it left
                    tg.cancel_scope.cancel()
                    return
                finally:
                    writing, in_write = False, 0
                    data = b""  # not held while the connection is idle
                    if sent is not None:
                        sent.set()
                if not moved:
                    cut(f"a write stalled for {driver.SEND_TIMEOUT} s")
                    return
            if conn.should_close and not event.is_set():
                tg.cancel_scope.cancel()
                return

    async def drained(deadline: float | None) -> bool:
        """Wait until the writer task has sent what is pending (``False``: ``deadline`` came
        first)."""
        nonlocal sent
        try:
            left = None if deadline is None else deadline - anyio.current_time()
            with anyio.move_on_after(left):
                while writing or backlog:
                    sent = RUNTIME.event()
                    await sent.wait()
                return True
            return False
        finally:
            sent = None

    conn.on_output = on_output
    watch = server._watched[conn] = _Watch(
        cut, RUNTIME.raw_socket(stream), anyio.current_time(),
        lambda: len(backlog) + in_write + conn.queued,
    )  # fmt: skip
    try:
        if isinstance(stream, ByteStream):
            with contextlib.suppress(OSError, anyio.TypedAttributeLookupError):
                stream.extra(anyio.abc.SocketAttribute.raw_socket).setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
                )
        async with anyio.create_task_group() as tg:
            # Until it has joined, a connection has handshake_timeout s in all (one that
            # connects and says nothing, or trickles, must not hold a slot); once joined,
            # idle_timeout s per read, if set.
            join_by = anyio.current_time() + server.handshake_timeout
            joined = False
            while True:
                # The client does not take what it is sent: read no more from it until it
                # does. What its requests and pings produce (PONGs are queued by the framer,
                # past the engine's max_queued) would pile up here; TCP holds the client back
                # instead (SEND_TIMEOUT ends a write that never completes, and the handshake
                # timeout still holds before the session joined).
                if (writing or backlog) and not await drained(None if joined else join_by):
                    cut(f"not joined within {server.handshake_timeout} s")
                    return
                joined = conn.session.realm is not None
                limit = server.idle_timeout if joined else join_by - anyio.current_time()
                try:
                    data = await _receive(stream, limit)
                except _GONE:
                    conn.receive_eof()
                    tg.cancel_scope.cancel()
                    return
                if data is None:
                    cut(f"no data for {limit} s" if joined else
                        f"not joined within {server.handshake_timeout} s")  # fmt: skip
                    return
                pending = server._pending = {}
                try:
                    watch.seen = _tick_now(server.router)  # timed from now
                    watch.pinged = None  # (anything counts as an answer)
                    conn.receive_data(data)
                finally:  # (what was produced goes out even if processing failed)
                    server._pending = None
                    for send in pending:
                        send()
    except _GONE as exc:
        log.debug("router connection ended: %s", exc)
        conn.receive_eof()
    finally:
        ended = True
        conn.receive_eof()  # however serving ended, the session ends too (no zombie in a realm)
        conn.on_output = _nothing  # (no cycle through this frame's closures: freed at once)
        backlog.clear()
        server._connections.discard(conn)
        server._watched.pop(conn, None)
        if reset and watch.sock is not None:
            _reset(watch.sock)
        await anyio.aclose_forcefully(stream)  # type: ignore[arg-type]


def _nothing() -> None:
    pass


def _reset(sock: driver.SocketLike) -> None:
    """Make closing ``sock`` a reset (``SO_LINGER`` 0): the kernel drops what the client has
    not taken instead of going on sending it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


#: Seconds between checks of call deadlines (dealer-side timeouts are this late at most).
_TICK = 0.05


def _tick_now(router: wc.Router) -> float:
    """Tell the engine the time (returned): a failure there is logged and serving goes on (it
    must end neither the router nor the connection whose read happened to pass a deadline)."""
    now = anyio.current_time()
    try:
        router.tick(now)
    except Exception:
        log.exception("the router engine failed passing call deadlines")
    return now


async def _tick(router: wc.Router) -> None:
    while True:
        _tick_now(router)
        await anyio.sleep(_TICK if router.next_deadline() is not None else 5 * _TICK)


async def _keepalive(server: RouterServer, interval: float, timeout: float) -> None:
    """Ping each joined connection that sent nothing for ``interval`` s; close one that then
    sends nothing for ``timeout`` s and takes nothing either (a client whose link died
    without a FIN: its session, registrations and subscriptions would otherwise stay for
    ever)."""
    while True:
        await anyio.sleep(min(interval, timeout) / 4)
        now = anyio.current_time()
        for conn, watch in list(server._watched.items()):
            if conn.session.realm is None or conn.should_close:
                continue  # (the handshake timeout governs a connection that has not joined)
            if watch.pinged is None:
                if now - watch.seen >= interval:
                    watch.pinged = now
                    watch.acked, watch.until = driver.ping_marks(watch.sock, watch.held())
                    conn.framer.send_ping(b"wamp-router")
                    conn.on_output()
            elif now - watch.pinged >= timeout:
                if driver.taking(watch.sock, watch.acked, watch.until):
                    # It is taking what was sent before the ping (a burst larger than it
                    # reads in the timeout): the ping, and its PONG, wait behind that.
                    watch.pinged, watch.acked = now, driver.acknowledged(watch.sock)
                else:
                    watch.cut(f"no answer to a ping within {timeout} s")


@contextlib.asynccontextmanager
async def start_router(
    listen: Sequence[str] = ("ws://127.0.0.1:8080/ws",),
    *,
    realms: Sequence[str] = ("realm1",),
    auto_realms: bool = False,
    disclose: bool = False,
    principals: Sequence[wc.Principal] = (),
    anonymous: bool = True,
    permissions: Mapping[str, Sequence[wc.Permission]] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    idle_timeout: float | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_queued: int = wc.RouterConnection.MAX_QUEUED,
) -> AsyncIterator[RouterServer]:
    """Run a router on ``listen`` (``ws://host:port/path``, ``rs://host:port``,
    ``rs://unix:/path``, and ``wss://``/``rss://`` with the server's ``ssl_context``; port 0
    picks a free one; ``rs://memory/NAME`` for clients in this process and loop, no socket)
    serving ``realms`` for the block (``auto_realms``, ``disclose``, ``principals``,
    ``anonymous``, ``permissions``: see :class:`wamp_core.Router`). A connection that has not
    joined a realm within ``handshake_timeout`` s is closed, and with ``idle_timeout`` one that
    sends nothing for that long. With ``ping_interval``, a joined connection that sent nothing
    for that long is pinged (WebSocket or RawSocket PING) and closed when it then sends
    nothing for ``ping_timeout`` s (default: the interval): a client whose link died without
    the router seeing it close loses its session, so its procedures are free for its rejoin.
    A client that does not read what it is sent is cut off once ``max_queued`` bytes wait for
    it beyond the write in progress (so it holds at most about twice that, besides the
    kernel's buffers); one whose backlog the kernel's buffers take whole stays until
    ``idle_timeout`` or ``ping_interval`` finds it."""
    if isinstance(listen, str):  # (a str is a sequence: of one-letter "URLs")
        raise wc.ConfigurationError(f"listen must be a list of URLs, not {listen!r}")
    router = wc.Router(realms, auto_realms=auto_realms, disclose=disclose,
                       principals=principals, anonymous=anonymous,
                       permissions=permissions, clock=time.time)  # fmt: skip
    for option, value in (("handshake_timeout", handshake_timeout),
                          ("idle_timeout", idle_timeout), ("ping_interval", ping_interval),
                          ("ping_timeout", ping_timeout)):  # fmt: skip
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
        ):  # (NaN too)
            raise wc.ConfigurationError(f"{option} must be a positive number of seconds: {value!r}")
    if isinstance(max_queued, bool) or not isinstance(max_queued, int) or max_queued < 1:
        raise wc.ConfigurationError(
            f"max_queued must be a positive number of bytes: {max_queued!r}"
        )
    server = RouterServer(router, handshake_timeout=handshake_timeout, idle_timeout=idle_timeout,
                          ping_interval=ping_interval, ping_timeout=ping_timeout,
                          max_queued=max_queued)  # fmt: skip
    listeners: list[tuple[Listener[ByteStream], _Handler]] = []
    group: list[anyio.abc.TaskGroup] = []  # (the task group, once it runs)
    owned: list[tuple[str, int]] = []  # unix socket files made: path, inode
    failure: Exception | None = None
    try:
        with contextlib.ExitStack() as in_memory:
            # Every address is bound before anything runs: a bad URL or a port in use raises
            # as itself, not inside an exception group.
            for url in listen:
                make_framer = _framer_factory(url)

                async def handle(stream: _Stream, make: Callable[..., wc.RawSocket
                                 | wc.WebSocket] = make_framer) -> None:  # fmt: skip
                    try:
                        await _serve(server, stream, make)
                    except Exception:  # one connection's failure must never stop the router
                        log.exception("a router connection failed")

                if (name := _memory_name(url)) is not None:

                    def accept(stream: driver.MemoryStream, serve: _Handler = handle) -> None:
                        if group:
                            group[0].start_soon(serve, stream)

                    bound = in_memory.enter_context(driver.listen_memory(name, accept, RUNTIME))
                else:
                    listener, bound = await _listen(url, ssl_context, handshake_timeout)
                    listeners.append((listener, handle))
                    if (path := _unix_path(url)) is not None:  # removed at the end if ours
                        owned.append((path, os.stat(path).st_ino))
                server.urls.append(bound)
                log.info("router listening on %s", bound)
            async with anyio.create_task_group() as tg:
                group.append(tg)
                tg.start_soon(_tick, router)
                if ping_interval is not None:
                    timeout = ping_timeout if ping_timeout is not None else ping_interval
                    tg.start_soon(_keepalive, server, ping_interval, timeout)
                accepting = anyio.CancelScope()  # the accept loops (connections: in tg)

                async def accept_all(connections: anyio.abc.TaskGroup = tg) -> None:
                    with accepting:
                        async with anyio.create_task_group() as acceptors:
                            for listener, handle in listeners:
                                plain = _raw_sockets(listener)
                                for part in _parts(listener) if plain is None else ():
                                    acceptors.start_soon(_serve_tls, part, handle, connections)
                                for sock in plain or ():
                                    acceptors.start_soon(_accept, sock, handle, connections)

                tg.start_soon(accept_all)
                try:
                    yield server
                except Exception as exc:  # the application's: raised below, not in a group
                    failure = exc
                finally:
                    await _shut_down(server, accepting, in_memory)
                    tg.cancel_scope.cancel()
    finally:
        for listener, _ in listeners:
            await anyio.aclose_forcefully(listener)
        for path, inode in owned:  # our socket files (not one another server made since)
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
    if failure is not None:
        raise failure


async def _shut_down(
    server: RouterServer, accepting: anyio.CancelScope, in_memory: contextlib.ExitStack
) -> None:
    """Accept nothing more (a session must not join while the others are told GOODBYE), close
    the connections that have not joined, say GOODBYE to every session and wait (at most
    :data:`CLOSE_TIMEOUT`) for them to go."""
    accepting.cancel()
    in_memory.close()
    server.router.shutdown()
    for conn in list(server._connections):
        if conn.session.realm is None:  # nobody to say GOODBYE to: closed at once
            conn.receive_eof()
            conn.on_output()
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
        while server._connections:
            await anyio.sleep(0.01)
