"""Two Crossbar.io nodes on loopback linked by router links (the scale-out path; see
``../shared/reference/crossbar/cluster.md``): each node has a RawSocket and a WebSocket
transport for clients and one RawSocket transport for its peer's link, which authenticates with
WAMP-cryptosign using the peer's node key under the role ``rlink``. Each node links to the
other, forwarding only its local registrations and events (a "mesh")."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from crossbar import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    CrossbarError,
    _rawsocket_handshake_ok,
    _tcp_accepts,
    crossbar_executable,
    free_tcp_ports,
)

__all__ = ["CrossbarCluster", "Node"]

_ALLOW_ALL = {
    "uri": "", "match": "prefix",
    "allow": {"call": True, "register": True, "publish": True, "subscribe": True},
    "disclose": {"caller": True, "publisher": True}, "cache": True,
}  # fmt: skip


class Node:
    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.dir = root / name
        self.cbdir = self.dir / ".crossbar"
        self.cbdir.mkdir(parents=True)
        self.rs_port, self.ws_port, self.link_port = free_tcp_ports(3)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def rs_url(self) -> str:
        return f"rs://127.0.0.1:{self.rs_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    def pubkey(self) -> str:
        for line in (self.cbdir / "key.pub").read_text().splitlines():
            if line.startswith("public-key-ed25519:"):
                return line.split(":", 1)[1].strip()
        raise CrossbarError(f"no public key in {self.cbdir / 'key.pub'}")

    def config(self, peer: Node) -> dict[str, Any]:
        link = {"type": "rawsocket", "url": f"rs://127.0.0.1:{peer.link_port}",
                "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": peer.link_port},
                "serializer": "cbor"}  # fmt: skip
        return {
            "version": 2,
            "controller": {"id": f"node_{self.name}"},
            "workers": [{
                "type": "router", "id": f"router_{self.name}",
                "realms": [{
                    "name": "realm1",
                    "roles": [{"name": "anonymous", "permissions": [_ALLOW_ALL]},
                              {"name": "rlink", "permissions": [_ALLOW_ALL]}],
                    "rlinks": [{
                        "id": f"to_{peer.name}", "realm": "realm1", "authid": f"node-{self.name}",
                        "transport": link,
                        "forward_local_invocations": True, "forward_remote_invocations": False,
                        "forward_local_events": True, "forward_remote_events": False,
                    }],
                }],
                "transports": [
                    {"type": "rawsocket", "endpoint": {"type": "tcp", "port": self.rs_port,
                                                       "interface": "127.0.0.1"},
                     "serializers": ["json", "msgpack", "cbor"]},
                    {"type": "websocket", "endpoint": {"type": "tcp", "port": self.ws_port,
                                                       "interface": "127.0.0.1"},
                     "serializers": ["json", "msgpack", "cbor"]},
                    {"type": "rawsocket", "endpoint": {"type": "tcp", "port": self.link_port,
                                                       "interface": "127.0.0.1"},
                     "serializers": ["cbor"],
                     "auth": {"cryptosign": {"type": "static", "principals": {
                         f"node-{peer.name}": {"realm": "realm1", "role": "rlink",
                                               "authorized_keys": [peer.pubkey()]}}}}},
                ],
            }],
        }  # fmt: skip

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}  # fmt: skip
        env["PYTHONUNBUFFERED"] = "1"
        with (self.dir / "crossbar.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [str(crossbar_executable()), "start", "--cbdir", str(self.cbdir),
                 "--color", "false", "--loglevel", "info"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=str(self.dir), env=env, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, deadline: float) -> None:
        while not (_rawsocket_handshake_ok(self.rs_port) and _tcp_accepts(self.ws_port)):
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.dir / "crossbar.log").read_text(errors="replace")[-3000:]
                raise CrossbarError(f"node {self.name} did not start\n{tail}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the node's whole process group (a crash)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
            self.proc = None

    def stop(self) -> None:
        """SIGTERM the node's process group; SIGKILL what is left after a while."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_TIMEOUT)
        self.kill()  # the workers share the group: none outlives the node


class CrossbarCluster:
    """Nodes ``a`` and ``b``, linked both ways; a context manager."""

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="wampcl-", dir="/tmp"))
        self.a = Node("a", self._root)
        self.b = Node("b", self._root)

    def _node_keys(self) -> None:
        python = crossbar_executable().parent / "python"
        code = ("import sys\nfrom crossbar.common.key import _maybe_generate_node_key\n"
                "for d in sys.argv[1:]:\n    _maybe_generate_node_key(d)\n")  # fmt: skip
        subprocess.run([str(python), "-c", code, str(self.a.cbdir), str(self.b.cbdir)],
                       check=True, capture_output=True, timeout=60)  # fmt: skip

    def start(self) -> None:
        """Start both nodes and wait until they listen; on failure both are stopped (a node
        left running outlived the test that failed to start the other)."""
        if not crossbar_executable().exists():
            raise CrossbarError("crossbar is not installed (tools/setup.sh)")
        try:
            self._node_keys()
            for node, peer in ((self.a, self.b), (self.b, self.a)):
                (node.cbdir / "config.json").write_text(json.dumps(node.config(peer)))
            for node in (self.a, self.b):
                node.start()
            deadline = time.monotonic() + START_TIMEOUT
            for node in (self.a, self.b):
                node.wait_ready(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in (self.a, self.b):
            node.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> CrossbarCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()
