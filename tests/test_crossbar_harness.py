"""The Crossbar harness against the real router, with hand-built bytes (no wamp_core).

These tests also pin what Crossbar.io 26.10.1 actually answers on RawSocket, which the
transport code relies on:

* handshake ``7F S0 00 00`` for serializer S in 1..4 -> ``7F F S 00 00``: Crossbar always answers
  with its own maximum (2**24 = 16 MiB, nibble 0xF) whatever length the client asked for;
* an unsupported serializer (5 = flatbuffers, 0, 6, 7) or a bad magic octet: the connection is
  aborted (TCP RST) with no reply bytes; Crossbar never sends the spec's ``7F E0 00 00`` error;
* Crossbar reads the frame header as a plain 32-bit length (Twisted ``Int32StringReceiver``):
  a PING frame (type 1) is taken for a >16 MiB message and the connection is closed, no PONG;
* with max length L=0 (512 bytes) the handshake succeeds but the ~1 KB WELCOME exceeds it, so
  Crossbar drops the WELCOME and the client gets nothing (the connection stays open).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from pathlib import Path

import pytest

from crossbar import CrossbarError, CrossbarRouter, free_tcp_ports

HELLO_JSON = b'[1,"realm1",{"roles":{"caller":{}}}]'
IO_TIMEOUT = 5.0


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError(f"connection closed after {buf!r}, wanted {n} bytes")
        buf += chunk
    return buf


def _recv_until_closed(sock: socket.socket) -> tuple[bytes, str]:
    """Read until the peer closes; return (bytes, "eof" | "reset")."""
    buf = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return buf, "eof"
            buf += chunk
    except ConnectionResetError:
        return buf, "reset"


def _recv_frame(sock: socket.socket) -> tuple[int, bytes]:
    header = _recv_exactly(sock, 4)
    length = int.from_bytes(header[1:], "big")
    return header[0] & 0x07, _recv_exactly(sock, length)


def _frame(payload: bytes, frame_type: int = 0) -> bytes:
    return bytes([frame_type]) + len(payload).to_bytes(3, "big") + payload


# -- harness plumbing (no router needed) -----------------------------------------------------


def test_free_tcp_ports_are_distinct_and_bindable() -> None:
    ports = free_tcp_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_missing_executable_says_run_setup(tmp_path: Path) -> None:
    router = CrossbarRouter(executable=tmp_path / "no-crossbar")
    with pytest.raises(CrossbarError, match=r"tools/setup\.sh"):
        router.start()


def _fake_crossbar(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "crossbar"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_early_exit_reports_code_and_log_tail(tmp_path: Path) -> None:
    exe = _fake_crossbar(tmp_path, "echo fake-log-line-$1; exit 3")
    router = CrossbarRouter(executable=exe, start_timeout=10)
    with pytest.raises(CrossbarError, match=r"(?s)exited with code 3.*fake-log-line-start"):
        router.start()
    assert router.node_dir is None  # cleaned up


def test_timeout_reports_log_tail_and_kills_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    exe = _fake_crossbar(tmp_path, f"echo waiting-forever; sleep 60 & echo $! > {pidfile}; wait")
    router = CrossbarRouter(executable=exe, start_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(CrossbarError, match=r"(?s)not ready after 1 s.*waiting-forever"):
        router.start()
    assert time.monotonic() - t0 < 10
    child = int(pidfile.read_text())
    # The backgrounded grandchild shared the process group and must be gone too.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"grandchild {child} survived stop()")


# -- the real router ---------------------------------------------------------------------------


def test_router_attributes(crossbar: CrossbarRouter) -> None:
    assert crossbar.ws_url == f"ws://127.0.0.1:{crossbar.ws_port}/ws"
    assert crossbar.ws_auth_url == f"ws://127.0.0.1:{crossbar.ws_port}/auth"
    assert crossbar.rs_url == f"rs://127.0.0.1:{crossbar.rs_port}"
    assert crossbar.realm == "realm1"
    assert len(crossbar.unix_path) < 100
    assert crossbar.node_dir is not None
    config = json.loads((crossbar.node_dir / ".crossbar" / "config.json").read_text())
    realms = [r["name"] for r in config["workers"][0]["realms"]]
    assert realms == ["realm1", "realm2"]


@pytest.mark.parametrize("serializer", [1, 2, 3, 4])
def test_rawsocket_handshake_accepted(crossbar: CrossbarRouter, serializer: int) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, 0xF0 | serializer, 0, 0]))
        assert _recv_exactly(s, 4) == bytes([0x7F, 0xF0 | serializer, 0, 0])


@pytest.mark.parametrize("serializer", [0, 5, 6, 7])
def test_rawsocket_unsupported_serializer_aborted(
    crossbar: CrossbarRouter, serializer: int
) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, 0xF0 | serializer, 0, 0]))
        data, how = _recv_until_closed(s)
    assert (data, how) == (b"", "reset")


def test_rawsocket_bad_magic_aborted(crossbar: CrossbarRouter) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7E, 0xF2, 0, 0]))
        assert _recv_until_closed(s) == (b"", "reset")


@pytest.mark.parametrize("length_exp", [0, 1, 9])
def test_rawsocket_small_max_length_answered_with_router_max(
    crossbar: CrossbarRouter, length_exp: int
) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, (length_exp << 4) | 2, 0, 0]))
        assert _recv_exactly(s, 4) == bytes([0x7F, 0xF2, 0, 0])


def test_rawsocket_json_hello_gets_welcome(crossbar: CrossbarRouter) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, 0xF1, 0, 0]) + _frame(HELLO_JSON))
        assert _recv_exactly(s, 4) == bytes([0x7F, 0xF1, 0, 0])
        frame_type, payload = _recv_frame(s)
    assert frame_type == 0
    msg = json.loads(payload)
    assert msg[0] == 2
    assert isinstance(msg[1], int) and 1 <= msg[1] <= 2**53
    assert msg[2]["realm"] == "realm1"
    assert msg[2]["authrole"] == "anonymous"
    assert {"broker", "dealer"} <= set(msg[2]["roles"])


def test_rawsocket_unix_socket_hello_gets_welcome(crossbar: CrossbarRouter) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(IO_TIMEOUT)
        s.connect(crossbar.unix_path)
        s.sendall(bytes([0x7F, 0xF1, 0, 0]) + _frame(HELLO_JSON))
        assert _recv_exactly(s, 4) == bytes([0x7F, 0xF1, 0, 0])
        frame_type, payload = _recv_frame(s)
    assert frame_type == 0
    assert json.loads(payload)[0] == 2


def test_rawsocket_welcome_dropped_when_larger_than_client_max(crossbar: CrossbarRouter) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, 0x01, 0, 0]) + _frame(HELLO_JSON))  # L=0: 512 bytes
        assert _recv_exactly(s, 4) == bytes([0x7F, 0xF1, 0, 0])
        s.settimeout(1.0)
        with pytest.raises(TimeoutError):
            s.recv(4096)


def test_rawsocket_ping_is_not_answered_connection_closed(crossbar: CrossbarRouter) -> None:
    with _connect(crossbar.rs_port) as s:
        s.sendall(bytes([0x7F, 0xF1, 0, 0]) + _frame(HELLO_JSON))
        _recv_exactly(s, 4)
        assert _recv_frame(s)[0] == 0  # WELCOME
        s.sendall(_frame(b"abcd", frame_type=1))
        data, how = _recv_until_closed(s)
    assert (data, how) == (b"", "eof")


@pytest.mark.parametrize(
    ("path", "subprotocol"), [("/ws", "wamp.2.json"), ("/auth", "wamp.2.cbor")]
)
def test_websocket_upgrade(crossbar: CrossbarRouter, path: str, subprotocol: str) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{crossbar.ws_port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
    ).encode()
    with _connect(crossbar.ws_port) as s:
        s.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, head
            head += chunk
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 101")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
    assert headers[b"sec-websocket-accept"] == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert headers[b"sec-websocket-protocol"] == subprotocol.encode()
