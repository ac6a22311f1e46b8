"""Start a real Crossbar.io router on loopback for tests and benchmarks.

The router runs in its own process group from the template ``tools/crossbar-config.json``
with free ports and a fresh node directory under ``/tmp``. Each start also writes a throwaway CA
and a server certificate for ``127.0.0.1``/``localhost`` there (never committed) for the TLS
transports ``wss_url``/``wss_auth_url``/``rss_url``; clients trust ``ca_path``. Usage::

    with CrossbarRouter() as router:
        connect(router.rs_url, realm=router.realm)
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = [
    "CRYPTOSIGN_AUTHID",
    "CRYPTOSIGN_PUBKEY_HEX",
    "CRYPTOSIGN_SEED",
    "CROSSBAR_VERSION",
    "CrossbarError",
    "CrossbarRouter",
    "REALM",
    "REALM2",
    "REPO_ROOT",
    "SCRAM_AUTHID",
    "SCRAM_ITERATIONS",
    "SCRAM_MEMORY",
    "SCRAM_PASSWORD",
    "SCRAM_SALT",
    "SCRAM_SERVER_KEY_HEX",
    "SCRAM_STORED_KEY_HEX",
    "TEMPLATE_PATH",
    "TICKET_AUTHID",
    "TICKET_SECRET",
    "WAMPCRA_AUTHID",
    "WAMPCRA_SALTED_AUTHID",
    "WAMPCRA_SALTED_ITERATIONS",
    "WAMPCRA_SALTED_KEYLEN",
    "WAMPCRA_SALTED_SALT",
    "WAMPCRA_SALTED_SECRET",
    "WAMPCRA_SECRET",
    "crossbar_executable",
    "free_tcp_ports",
    "write_test_pki",
]

CROSSBAR_VERSION = "26.10.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "tools" / "crossbar-config.json"

#: Realm with roles ``anonymous`` and ``user``; caller/publisher disclosure on.
REALM = "realm1"
#: Second realm: role ``anonymous`` only (rawsocket and ``/ws``), disclosure off.
REALM2 = "realm2"

# Test-only principals (only on ``ws_auth_url`` and the TCP rawsocket port).
TICKET_AUTHID = "joe"
TICKET_SECRET = "secret!!!"
WAMPCRA_AUTHID = "peter"
WAMPCRA_SECRET = "secret1"
WAMPCRA_SALTED_AUTHID = "salty"
WAMPCRA_SALTED_SECRET = "secret2"
WAMPCRA_SALTED_SALT = "salt123"
WAMPCRA_SALTED_ITERATIONS = 100
WAMPCRA_SALTED_KEYLEN = 16
CRYPTOSIGN_AUTHID = "alice"
CRYPTOSIGN_SEED = bytes([0x01] * 32)
CRYPTOSIGN_PUBKEY_HEX = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
# Crossbar "scram" principal (on ``ws_auth_url`` and the TLS twins). The template stores the
# credential Autobahn's ``derive_scram_credential`` makes (argon2id-13, hex salt/keys): the keys
# are HMACs of the *unpadded base64 text* of the Argon2id hash of the UTF-8 password.
SCRAM_AUTHID = "carol"
SCRAM_PASSWORD = "scram-secret!"
SCRAM_SALT = bytes(range(16))
SCRAM_ITERATIONS = 4096
SCRAM_MEMORY = 512  # KiB
SCRAM_STORED_KEY_HEX = "74e1e35cc2ca57b8dd8d5f387b891295e396a5ebc20980b61b65bb57f2cd3c16"
SCRAM_SERVER_KEY_HEX = "2c1b2f99b1a8ca640dfcdd517278ff194312d81849b9b02509a0336a0f164c5d"

# TLS files: the server key/cert go into the node's cbdir (names used by the template), the
# CA certificate clients must trust into the node dir.
TLS_KEY_FILE = "server.key"
TLS_CERT_FILE = "server.crt"
TLS_CA_FILE = "ca.pem"

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40


class CrossbarError(RuntimeError):
    """Crossbar could not be found, started or did not become ready."""


def crossbar_executable() -> Path:
    """Return the crossbar executable: env ``WAMP_CROSSBAR`` or the cached venv (under
    ``WAMP_CACHE_DIR``, default ``~/.cache/wamp-py``, as tools/setup.sh installs it)."""
    env = os.environ.get("WAMP_CROSSBAR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("WAMP_CACHE_DIR")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache" / "wamp-py"
    return base / f"crossbar-{CROSSBAR_VERSION}" / "bin" / "crossbar"


def _ephemeral_low() -> int:
    """The first port of the kernel's range for outgoing connections (32768 by default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_tcp_ports(count: int) -> list[int]:
    """Pick ``count`` distinct free loopback ports, then release them: below the kernel's
    range for outgoing connections, so that none is taken between the pick and the router's
    bind by a connection going out (a node's link to its peer, a client's retries: node b
    of a cluster once could not listen on one). Bound to check; port 0 if no room there."""
    socks: list[socket.socket] = []
    low, tries = _ephemeral_low(), 0
    try:
        while len(socks) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            tries += 1
            port = random.randrange(10000, low) if low > 11000 and tries < 200 else 0
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                socks.pop().close()
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tcp_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _rawsocket_handshake_ok(port: int) -> bool:
    """Send a msgpack RawSocket handshake (max length 16 MiB) and expect ``0x7F ...`` back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
            s.sendall(bytes([0x7F, 0xF2, 0x00, 0x00]))
            reply = b""
            while len(reply) < 4:
                chunk = s.recv(4 - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply[0] == 0x7F
    except OSError:
        return False


def _unix_accepts(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(path)
            return True
    except OSError:
        return False


def _tls_accepts(port: int, context: ssl.SSLContext, *, rawsocket: bool) -> bool:
    """A verified TLS handshake with ``127.0.0.1:port`` (plus a RawSocket handshake inside)."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=2.0) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as s,
        ):
            if not rawsocket:
                return True
            s.sendall(bytes([0x7F, 0xF2, 0x00, 0x00]))
            reply = b""
            while len(reply) < 4:
                chunk = s.recv(4 - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply[0] == 0x7F
    except (OSError, ssl.SSLError):
        return False


def write_test_pki(cbdir: Path, ca_path: Path) -> None:
    """Write a fresh self-signed CA (``ca_path``) and a server key/cert for ``127.0.0.1`` and
    ``localhost`` signed by it (``cbdir/server.key``, ``cbdir/server.crt``). EC P-256, 1 day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wamp-py test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path = cbdir / TLS_KEY_FILE
    key_path.touch(mode=0o600)
    key_path.write_bytes(key_pem)
    (cbdir / TLS_CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))


class CrossbarRouter:
    """One Crossbar.io node on loopback with free ports; a context manager."""

    realm = REALM
    realm2 = REALM2

    def __init__(
        self,
        executable: Path | None = None,
        *,
        template: Path = TEMPLATE_PATH,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.executable = executable if executable is not None else crossbar_executable()
        self.template = template
        self.start_timeout = start_timeout
        self.rs_port = 0
        self.ws_port = 0
        self.wss_port = 0
        self.rss_port = 0
        self.node_dir: Path | None = None
        self.ca_path: Path | None = None
        self.unix_path = ""
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- URLs ------------------------------------------------------------------------------
    @property
    def ws_url(self) -> str:
        """Anonymous WebSocket endpoint."""
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    @property
    def ws_auth_url(self) -> str:
        """WebSocket endpoint with ticket / wampcra / cryptosign / scram (no anonymous)."""
        return f"ws://127.0.0.1:{self.ws_port}/auth"

    @property
    def rs_url(self) -> str:
        """RawSocket over TCP (anonymous plus all auth methods)."""
        return f"rs://127.0.0.1:{self.rs_port}"

    @property
    def wss_url(self) -> str:
        """Anonymous WebSocket endpoint over TLS (server cert for 127.0.0.1 and localhost)."""
        return f"wss://127.0.0.1:{self.wss_port}/ws"

    @property
    def wss_auth_url(self) -> str:
        """WebSocket over TLS with cryptosign / scram (no anonymous)."""
        return f"wss://127.0.0.1:{self.wss_port}/auth"

    @property
    def rss_url(self) -> str:
        """RawSocket over TLS (anonymous, cryptosign, scram)."""
        return f"rss://127.0.0.1:{self.rss_port}"

    def ssl_context(self, **overrides: object) -> ssl.SSLContext:
        """A client context that trusts this node's CA (hostname verification on).

        ``overrides`` are set as attributes, e.g. ``maximum_version=ssl.TLSVersion.TLSv1_2``.
        """
        if self.ca_path is None:
            raise CrossbarError("the router is not started: no CA yet")
        context = ssl.create_default_context(cafile=str(self.ca_path))
        for name, value in overrides.items():
            setattr(context, name, value)
        return context

    @property
    def pid(self) -> int | None:
        """Process id of ``crossbar start`` (also its process group id)."""
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle -------------------------------------------------------------------------
    def available(self) -> bool:
        """Whether the crossbar executable exists."""
        return self.executable.is_file() and os.access(self.executable, os.X_OK)

    def start(self, *, same_ports: bool = False) -> None:
        """Write the config, start Crossbar, and wait until every port is ready.

        ``same_ports``: listen on the ports of the previous start (a router restart), else on
        free ones. Returns only once every listener accepts."""
        if self._proc is not None:
            raise CrossbarError("already started")
        if not self.available():
            raise CrossbarError(
                f"crossbar executable not found at {self.executable}; run tools/setup.sh "
                "(or set WAMP_CROSSBAR to a crossbar executable)"
            )
        self.node_dir = Path(tempfile.mkdtemp(prefix="wampcb-", dir="/tmp"))
        self.unix_path = str(self.node_dir / "router.sock")
        if len(self.unix_path) >= 100:
            raise CrossbarError(f"unix socket path too long: {self.unix_path}")
        if not (same_ports and self.rs_port):
            self.rs_port, self.ws_port, self.wss_port, self.rss_port = free_tcp_ports(4)
        cbdir = self.node_dir / ".crossbar"
        cbdir.mkdir()
        self.ca_path = self.node_dir / TLS_CA_FILE
        write_test_pki(cbdir, self.ca_path)
        (cbdir / "config.json").write_text(self._render_config(), encoding="utf-8")
        self.log_path = self.node_dir / "crossbar.log"
        log = self.log_path.open("wb")
        env = dict(os.environ)
        for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(var, None)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self._proc = subprocess.Popen(
                [
                    str(self.executable),
                    "start",
                    "--cbdir",
                    str(cbdir),
                    "--color",
                    "false",
                    "--loglevel",
                    "info",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self.node_dir),
                env=env,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _render_config(self) -> str:
        text = self.template.read_text(encoding="utf-8")
        text = text.replace('"@RS_PORT@"', str(self.rs_port))
        text = text.replace('"@WS_PORT@"', str(self.ws_port))
        text = text.replace('"@WSS_PORT@"', str(self.wss_port))
        text = text.replace('"@RSS_PORT@"', str(self.rss_port))
        text = text.replace('"@UNIX_PATH@"', json.dumps(self.unix_path))
        leftover = [line.strip() for line in text.splitlines() if '"@' in line]
        if leftover:
            raise CrossbarError(f"unfilled placeholders in {self.template}: {leftover}")
        json.loads(text)  # fail here, not inside crossbar, on a broken template
        return text

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        pending = ["ws", "rs", "unix", "wss", "rss"]
        tls_context = self.ssl_context()
        while True:
            code = self._proc.poll()
            if code is not None:
                raise CrossbarError(
                    f"crossbar exited with code {code} during start\n{self.log_tail()}"
                )
            if "ws" in pending and _tcp_accepts(self.ws_port):
                pending.remove("ws")
            if "rs" in pending and _rawsocket_handshake_ok(self.rs_port):
                pending.remove("rs")
            if "unix" in pending and _unix_accepts(self.unix_path):
                pending.remove("unix")
            if "wss" in pending and _tls_accepts(self.wss_port, tls_context, rawsocket=False):
                pending.remove("wss")
            if "rss" in pending and _tls_accepts(self.rss_port, tls_context, rawsocket=True):
                pending.remove("rss")
            if not pending:
                return
            if time.monotonic() > deadline:
                raise CrossbarError(
                    f"crossbar not ready after {self.start_timeout:.0f} s "
                    f"(waiting for {', '.join(pending)}; ws={self.ws_port} rs={self.rs_port} "
                    f"wss={self.wss_port} rss={self.rss_port} unix={self.unix_path})\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.2)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of Crossbar's log (for error messages)."""
        if self.log_path is None or not self.log_path.exists():
            return "(no crossbar log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- tail of {self.log_path} ---\n{tail}"

    def kill(self) -> None:
        """SIGKILL the whole process group at once (a crash: no goodbye to anyone)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        self._proc = proc
        self.stop()

    def stop(self, *, keep_dir: bool = False) -> None:
        """SIGTERM the process group, wait, then SIGKILL; remove the node dir."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
            # Workers share the group; give them a moment, then make sure none outlives it.
            deadline = time.monotonic() + 2.0
            while self._group_alive(proc) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._group_alive(proc):
                self._signal_group(proc, signal.SIGKILL)
        if self.node_dir is not None and not keep_dir:
            shutil.rmtree(self.node_dir, ignore_errors=True)
            self.node_dir = None
            self.ca_path = None

    @staticmethod
    def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def __enter__(self) -> CrossbarRouter:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"CrossbarRouter(ws_url={self.ws_url!r}, rs_url={self.rs_url!r}, "
            f"wss_url={self.wss_url!r}, rss_url={self.rss_url!r}, "
            f"unix_path={self.unix_path!r}, pid={self.pid})"
        )
