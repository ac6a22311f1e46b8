"""Foreign clients prove the embedded router: xconn-python (PyPI; wampproto underneath) over
WebSocket and RawSocket with json, msgpack and cbor: RPC with errors, pub/sub with a prefix
pattern and publisher exclusion, ticket and WAMP-CRA. Autobahn|Python's turn is in
``test_router_anyio.py`` (the Component page examples and the Crossbar scenarios).

The peer runs in its own process (``tests/peers/xconn_peer.py``, xconn's blocking client) and
prints what held."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import crossbar as cb
from embedded import EmbeddedRouter

PEER = Path(__file__).resolve().parent / "peers" / "xconn_peer.py"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("xconn") is None, reason="xconn is not installed (bench extra)"
)

EXPECTED = ["call", "error", "no_such_procedure", "prefix subscription", "exclude_me", "leave"]


@pytest.fixture(scope="module")
def router() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as embedded:
        yield embedded


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
@pytest.mark.parametrize("kind", ["websocket", "rawsocket"])
def test_xconn_against_the_embedded_router(
    router: EmbeddedRouter, kind: str, serializer: str
) -> None:
    url = router.ws_url if kind == "websocket" else router.rs_url
    auth = [cb.TICKET_AUTHID, cb.TICKET_SECRET, cb.WAMPCRA_AUTHID, cb.WAMPCRA_SECRET]
    proc = subprocess.run(
        [sys.executable, str(PEER), url, serializer, *auth],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == [f"ok {what}" for what in EXPECTED] + [
        "ok auth TicketAuthenticator", "ok auth WAMPCRAAuthenticator",
    ], proc.stdout + proc.stderr  # fmt: skip
