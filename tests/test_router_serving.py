"""The embedded router's serving layer (``wamp_anyio.start_router`` and the router program)
under hostile or unlucky clients and operators: a client flooding PINGs without reading, one
that never joins but reads a large PONG slowly, one cut off for not reading, TLS handshakes
that never finish, running out of file descriptors on a TLS listener, unix socket paths,
shutdown with connections that never joined, and errors raised as themselves."""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_core as wc
from crossbar import write_test_pki
from raw_client import PING, RawClient

pytestmark = pytest.mark.anyio

TIMEOUT = 30
#: RawSocket opening: magic, max length 2^24 (0xF), JSON (1).
RS_HANDSHAKE = bytes((0x7F, 0xF1, 0, 0))


@pytest.fixture(scope="module")
def pki() -> Iterator[tuple[Path, Path]]:
    """A server certificate and key for 127.0.0.1 (``server.crt``, ``server.key``)."""
    with tempfile.TemporaryDirectory(prefix="wamp-pki-") as tmp:
        write_test_pki(Path(tmp), Path(tmp) / "ca.crt")
        yield Path(tmp) / "server.crt", Path(tmp) / "server.key"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


async def test_a_client_flooding_pings_without_reading_is_held_back(anyio_backend: str) -> None:
    """The router answers each RawSocket PING with a PONG; a client that sends PINGs and never
    reads made those PONGs pile up without bound (264 MB in 0.3 s): the router reads no more
    from a client whose output it cannot send, so TCP holds the client back."""
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as server:
        port = _port(server.urls[0])

        def flood() -> int:
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect(("127.0.0.1", port))
            client.sendall(RS_HANDSHAKE)
            payload = b"p" * 65536
            ping = struct.pack("!I", (1 << 24) | len(payload)) + payload  # frame type 1: PING
            client.settimeout(0.5)
            sent, deadline = 0, time.monotonic() + 3
            try:
                while time.monotonic() < deadline:
                    sent += client.send(ping)
            except TimeoutError:
                pass  # held back: what the test wants
            finally:
                client.close()
            return sent

        with anyio.fail_after(TIMEOUT):
            sent = await anyio.to_thread.run_sync(flood)
    assert sent < 64 * 2**20, f"the router took {sent >> 20} MiB of PINGs it could not answer"


def _read_until_closed(client: RawClient, pause: float, limit: float) -> float | None:
    """Read what the router sends, ``pause`` s between reads, until it closes the connection
    (the seconds that took) or ``limit`` s passed (``None``)."""
    started = time.monotonic()
    client.sock.settimeout(1)
    while time.monotonic() - started < limit:
        try:
            if not client.sock.recv(4096):
                return time.monotonic() - started
        except ConnectionError:
            return time.monotonic() - started
        except TimeoutError:
            pass
        time.sleep(pause)
    return None


async def test_a_connection_that_never_joins_is_closed_while_its_pong_waits(
    anyio_backend: str,
) -> None:
    """A client that opens RawSocket, sends an 8 MiB PING and reads its PONG slowly, never
    joining: the handshake timeout was not checked while the router waited for the client to
    take the PONG, so the connection (and ~20 MB of the router's memory) stayed as long as
    the client kept reading a little."""
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"], handshake_timeout=1) as server:
        port = _port(server.urls[0])

        def ping_and_read_slowly() -> float | None:
            client = RawClient(port, rcvbuf=4096)
            try:
                client.send_frame(b"p" * (8 << 20), PING)
                return _read_until_closed(client, pause=0.2, limit=6)
            finally:
                client.close()

        with anyio.fail_after(TIMEOUT):
            closed_after = await anyio.to_thread.run_sync(ping_and_read_slowly)
    assert closed_after is not None and closed_after < 3, closed_after


async def test_a_client_cut_off_for_not_reading_is_reset(anyio_backend: str) -> None:
    """A subscriber that reads nothing while more than ``MAX_QUEUED`` (16 MiB) is published
    to it is cut off; its connection is reset, so what the router had queued for it is
    dropped (the router went on sending it, at the client's pace, after the cut)."""
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as server:
        port = _port(server.urls[0])
        client = await anyio.to_thread.run_sync(lambda: RawClient(port, rcvbuf=4096))
        try:
            await anyio.to_thread.run_sync(client.join)
            client.send([32, client.request_id(), {}, "com.flood"])  # (one small send)
            with anyio.fail_after(TIMEOUT):
                async with wamp_anyio.connect(server.urls[0]) as publisher:
                    while await publisher.call("wamp.subscription.count_subscribers",
                                               await _subscription(publisher)) != 1:  # fmt: skip
                        await anyio.sleep(0.05)
                    while await publisher.call("wamp.session.count") > 1:
                        await publisher.publish(
                            "com.flood", "x" * (1 << 20),
                            options=wc.PublishOptions(acknowledge=True),
                        )  # fmt: skip
                closed_after = await anyio.to_thread.run_sync(
                    lambda: _read_until_closed(client, pause=0.1, limit=5)
                )
        finally:
            client.close()
    assert closed_after is not None and closed_after < 1, closed_after


async def _subscription(session: Any) -> int | None:
    found = await session.call("wamp.subscription.lookup", "com.flood")
    return found if isinstance(found, int) else None


#: Runs the router program with the open-file limit given first (no preexec_fn: unsafe with
#: threads).
_LIMITED = (
    "import resource, runpy, sys; n = int(sys.argv.pop(1));"
    " resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)); sys.argv[0] = 'router';"
    " runpy.run_module('wamp_anyio.router', run_name='__main__')"
)


@contextmanager
def _program(*args: str, limit_fds: int) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``python -m wamp_anyio.router ARGS`` with at most ``limit_fds`` open files, and the
    URLs it printed (one per --listen)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _LIMITED, str(limit_fds), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        urls = [process.stdout.readline().split()[-1] for _ in range(args.count("--listen"))]
        yield process, urls
    finally:  # (its clean shutdown is not what these tests are about)
        process.kill()
        process.communicate()


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


@pytest.mark.skipif(sys.platform != "linux", reason="reads the router's RSS from /proc")
def test_a_closed_connection_lets_its_buffers_go_at_once() -> None:
    """Clients that send almost a whole 16 MiB message and hang up, one after another: each
    connection's partial message was held until the garbage collector found the connection
    (a cycle), which a quiet router rarely runs: 25 of them took its RSS from 46 MB to over
    300 MB (a review)."""
    with _program("--listen", "rs://127.0.0.1:0", limit_fds=256) as (process, urls):
        port = _port(urls[0])
        header = struct.pack("!I", (1 << 24) - 1)  # a message frame of 2^24 - 1 bytes
        almost = b"x" * ((1 << 24) - 2)
        before = _rss_mib(process.pid)
        for _ in range(12):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(RS_HANDSHAKE)
                assert client.recv(4)[:1] == b"\x7f"
                client.sendall(header + almost)
            time.sleep(0.2)  # (the router reads it all, then the close)
        grown = _rss_mib(process.pid) - before
    assert grown < 80, f"the router's RSS grew by {grown:.0f} MiB"


def _rawsocket_answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(RS_HANDSHAKE)
        return client.recv(4)[:1] == b"\x7f"


def test_running_out_of_descriptors_on_a_tls_listener_does_not_stop_the_router(
    pki: tuple[Path, Path],
) -> None:
    """anyio's TLS listener let accept()'s EMFILE out and it ended the router (every client,
    every transport); it pauses like the plain listeners now."""
    cert, key = pki
    with _program("--listen", "rss://127.0.0.1:0", "--listen", "rs://127.0.0.1:0",
                  "--tls-cert", str(cert), "--tls-key", str(key), "--handshake-timeout", "1",
                  limit_fds=64) as (process, (tls_url, plain_url)):  # fmt: skip
        silent = []
        for _ in range(100):
            try:
                silent.append(socket.create_connection(("127.0.0.1", _port(tls_url)), timeout=2))
            except OSError:
                break
        time.sleep(1.5)
        for connection in silent:
            connection.close()
        time.sleep(0.5)
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert _rawsocket_answers(_port(plain_url))


async def test_the_tls_handshake_counts_against_the_handshake_timeout(
    pki: tuple[Path, Path], anyio_backend: str
) -> None:
    """A client that opens a TLS connection and says nothing was held 30 s (anyio's default),
    with an ERROR and a traceback logged for each; now handshake_timeout, quietly."""
    import ssl

    cert, key = pki
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with wamp_anyio.start_router(
        ["rss://127.0.0.1:0", "wss://127.0.0.1:0/ws"], ssl_context=context, handshake_timeout=1
    ) as server:
        for url in server.urls:
            with anyio.fail_after(TIMEOUT):
                stream = await anyio.connect_tcp("127.0.0.1", _port(url))
                started = anyio.current_time()
                async with stream:
                    with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                        await stream.receive()
                assert anyio.current_time() - started < 2.5, url


async def test_start_router_raises_errors_as_themselves(anyio_backend: str) -> None:
    """Not inside an ExceptionGroup: a bad URL, a port in use, and the block's own error."""
    with pytest.raises(wc.ConfigurationError, match="needs ssl_context"):
        async with wamp_anyio.start_router(["rss://127.0.0.1:0"]):
            pass
    with pytest.raises(wc.ConfigurationError, match="no TLS on a unix socket"):
        async with wamp_anyio.start_router(["rss://unix:/tmp/never.sock"]):
            pass
    with pytest.raises(wc.ConfigurationError, match="listen must be a list of URLs"):
        async with wamp_anyio.start_router("rs://127.0.0.1:0"):
            pass
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as first:
        with pytest.raises(OSError) as info:
            async with wamp_anyio.start_router(first.urls):
                pass
        assert info.value.errno == errno.EADDRINUSE
    with pytest.raises(KeyError):
        async with wamp_anyio.start_router(["rs://127.0.0.1:0"]):
            raise KeyError("the application's")


async def test_a_unix_socket_path_is_not_taken_from_a_running_router(anyio_backend: str) -> None:
    """Binding removed a live router's socket file (it kept running, unreachable); the file
    stayed behind after shutdown. A relative path works too."""
    with tempfile.TemporaryDirectory(prefix="wamp-") as tmp:
        path = f"{tmp}/router.sock"
        async with wamp_anyio.start_router([f"rs://unix:{path}"]):
            with pytest.raises(OSError, match="another server listens on"):
                async with wamp_anyio.start_router([f"rs://unix:{path}"]):
                    pass
            async with wamp_anyio.connect(f"rs://unix:{path}") as session:
                assert session.session_id is not None
        assert not os.path.exists(path)
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            async with wamp_anyio.start_router(["rs://unix:./relative.sock"]) as server:
                assert server.urls == ["rs://unix:./relative.sock"]
                assert os.path.exists(f"{tmp}/relative.sock")
        finally:
            os.chdir(cwd)


async def test_shutdown_closes_connections_that_never_joined_at_once(anyio_backend: str) -> None:
    """A health check or port scan that connected and said nothing held every shutdown for
    CLOSE_TIMEOUT (5 s)."""
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as server:
        silent = await anyio.connect_tcp("127.0.0.1", _port(server.urls[0]))
        await anyio.sleep(0.1)
        started = anyio.current_time()
    assert anyio.current_time() - started < 2
    await silent.aclose()


def test_the_program_reports_listen_errors_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "wamp_anyio.router", "--listen",
                           "http://127.0.0.1:0/"], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    # A TLS listener without a certificate: a usage error (the usage, then one line).
    done = subprocess.run([sys.executable, "-m", "wamp_anyio.router", "--listen",
                           "rss://127.0.0.1:0"], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].endswith("needs --tls-cert and --tls-key"), done.stderr


async def test_an_ipv6_address_is_bracketed_in_the_urls(anyio_backend: str) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        async with wamp_anyio.start_router(["rs://[::1]:0", "ws://[::1]:0/ws"]) as server:
            for url in server.urls:
                assert url.startswith(("rs://[::1]:", "ws://[::1]:")), url
                async with wamp_anyio.connect(url) as session:
                    assert session.session_id is not None
    except OSError as exc:  # (a machine without ::1)
        pytest.skip(f"no IPv6 loopback: {exc}")
