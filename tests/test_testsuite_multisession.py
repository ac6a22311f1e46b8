"""The spec's multi-session vectors (``multisession/**/*.json``), replayed against Crossbar and
against the embedded router (the router-side samples of the spec's test suite).

Each file scripts messages between named sessions and the router. Client -> router steps become
the equivalent commands on our engine (the wire message must match the scripted one but for
router-chosen IDs); router -> client steps must arrive as the matching event with the scripted
payload. ``expected_outcome.event_count`` is checked at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wamp_core as wc
from crossbar import CrossbarRouter
from embedded import EmbeddedRouter
from wamp_client import BlockingClient, pump
from wamp_core import events as ev

_env = os.environ.get("WAMP_TESTSUITE_DIR")
TESTSUITE = (
    Path(_env) if _env else Path(__file__).resolve().parents[1].parent / "shared" / "wamp-testsuite"
)
FILES = sorted((TESTSUITE / "multisession").glob("**/*.json")) if TESTSUITE.is_dir() else []


def _publish(client: BlockingClient, msg: dict[str, Any]) -> int:
    options = msg.get("options") or {}
    known = {"exclude_me", "acknowledge"}
    assert set(options) <= known, f"replay does not know PUBLISH options {set(options) - known}"
    return client.session.publish(
        msg["topic"],
        msg.get("args"),
        msg.get("kwargs"),
        wc.PublishOptions(**options),
    )


def _subscribe(client: BlockingClient, msg: dict[str, Any]) -> int:
    options = msg.get("options") or {}
    return client.session.subscribe(msg["topic"], wc.SubscribeOptions(**options))


COMMANDS = {"PUBLISH": _publish, "SUBSCRIBE": _subscribe}
EXPECTED_EVENT = {
    "SUBSCRIBED": ev.Subscribed,
    "EVENT": ev.EventDelivered,
    "PUBLISHED": ev.Published,
}


@pytest.fixture(scope="module")
def embedded_router() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as router:
        yield router


@pytest.mark.parametrize(
    "router_name", [pytest.param("crossbar", marks=pytest.mark.crossbar), "embedded"]
)
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_multisession_vector(
    testsuite_dir: Path, request: pytest.FixtureRequest, router_name: str, path: Path
) -> None:
    router: CrossbarRouter | EmbeddedRouter = request.getfixturevalue(
        "crossbar" if router_name == "crossbar" else "embedded_router"
    )
    spec = json.loads(path.read_text())
    clients: dict[str, BlockingClient] = {}
    try:
        for info in spec["sessions"]:
            client = BlockingClient(router.ws_url, realm=info.get("realm", "realm1"))
            assert isinstance(client.join(), ev.Joined)
            clients[info["session_id"]] = client
        seen: dict[tuple[str, str], int] = {}
        for step in spec["sequence"]:
            msg = step["message"]
            if step["from"] != "router":
                client = clients[step["from"]]
                command = COMMANDS[msg["type"]]
                command(client, msg)
                assert client.session.state is wc.SessionState.ESTABLISHED
                continue
            client = clients[step["to"]]
            expected = EXPECTED_EVENT[msg["type"]]
            index = seen.get((step["to"], msg["type"]), 0)

            def arrived(
                client: BlockingClient = client, index: int = index, expected: type = expected
            ) -> bool:
                return len([e for e in client.events if isinstance(e, expected)]) > index

            try:
                pump(*clients.values(), until=arrived)
            except AssertionError:
                raise AssertionError(f"step {step['step']}: {client.events}") from None
            event = [e for e in client.events if isinstance(e, expected)][index]
            if isinstance(event, ev.EventDelivered):
                assert event.args == (msg.get("args") or [])
                assert event.kwargs == (msg.get("kwargs") or {})
            seen[step["to"], msg["type"]] = index + 1
        # Give the router time to deliver anything it should not have, then count.
        for _ in range(10):
            for client in clients.values():
                client.step(0.02)
        outcome = spec.get("expected_outcome", {})
        if "event_count" in outcome:
            recipients = outcome.get("event_recipients", list(clients))
            total = sum(
                len([e for e in clients[r].events if isinstance(e, ev.EventDelivered)])
                for r in recipients
            )
            assert total == outcome["event_count"]
    finally:
        for client in clients.values():
            client.close()


def test_multisession_vectors_exist(testsuite_dir: Path) -> None:
    assert FILES, f"no multisession vectors under {testsuite_dir}"
