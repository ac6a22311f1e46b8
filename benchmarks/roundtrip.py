"""Round trip through the client core, in memory: CPU cost per operation, wamp_core vs the peers.

No network and no router: a scripted router side, pre-encoded and pre-framed once, is fed to
each client and only the client's own work is timed. Four operations, for RawSocket and
WebSocket, each with msgpack, json and cbor:

* ``rpc-caller``: CALL out, RESULT in (the command, sending, receiving, the result delivered);
* ``rpc-callee``: INVOCATION in, YIELD out (receiving, the handler's answer, sending);
* ``publish``: PUBLISH out (no acknowledgement);
* ``event``: EVENT in (delivered to the subscriber).

Each runs with one message per chunk of bytes (the sequential worst case) and with 50 messages
per chunk (pipelined). Three implementations, interleaved round by round:

* ``ours``: a ``wamp_core`` Connection driven by hand (commands on ``conn.session``,
  ``data_to_send()``, ``receive_data()``, walking the events);
* ``autobahn``: Autobahn|Python's asyncio RawSocket / WebSocket client protocol with an
  ``ApplicationSession``, on a fake transport, inside a running asyncio loop;
* ``wampproto``: xconn's sans-IO ``WAMPSession`` fed the same serialized messages: it has no
  framing, so it is measured once per serializer and shown under both transports.

Times are microseconds of CPU time (``time.process_time_ns``) per operation, per batch of
operations. Run from the repository root::

    .venv/bin/python benchmarks/roundtrip.py [--quick] [--json PATH] [--rounds R] [--ops N]
        [--cases rpc-caller,event] [--transports rawsocket] [--serializers msgpack,json]

Speed is measured and reported, never asserted: the script exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import importlib
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import _timing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Message, Request, TextMessage

import wamp_core as wc
from wamp_core import events as ev, messages as m

CASES = ("rpc-caller", "rpc-callee", "publish", "event")
TRANSPORTS = ("rawsocket", "websocket")
SERIALIZERS = ("msgpack", "json", "cbor")
CHUNKS = (1, 50)
IMPLS = ("ours", "autobahn", "wampproto")
#: The issue's targets (shown, never asserted).
AUTOBAHN_TARGET = 0.5  # ours/autobahn per RPC and per event, msgpack and json, both transports
WAMPPROTO_TARGET = 1.5  # ours/wampproto per RPC, RawSocket + msgpack

# ------------------------------------------------------------------------------------------
# What goes over the wire

REALM = "realm1"
PROCEDURE = "com.example.add_user"
TOPIC = "com.example.sensor"
CALL_ARGS: list[Any] = ["alice", 30, True]
CALL_KWARGS: dict[str, Any] = {"email": "alice@example.com", "tags": ["admin", "dev"], "score": 9.5}
RESULT_ARGS: list[Any] = [1234, "ok"]
RESULT_KWARGS: dict[str, Any] = {"elapsed_ms": 1.25, "cached": False}
EVENT_ARGS: list[Any] = ["sensor-17", 21.5]
EVENT_KWARGS: dict[str, Any] = {"unit": "C", "seq": 1042}

# Crossbar draws session, registration, subscription and publication IDs at random from
# [1, 2**53]: IDs of that size (8 bytes in msgpack/cbor), not small integers.
SESSION_ID = 3251278072152162
PEER_SESSION_ID = 1745918734532071  # the caller / publisher on the other end
REGISTRATION_ID = 5402370612829134
SUBSCRIPTION_ID = 7148552201663715
FIRST_PUBLICATION_ID = 2951430271890000
#: Every client's REGISTER is request 1 and SUBSCRIBE request 2 (sequential session-scope IDs),
#: so its first CALL is request 3.
FIRST_CALL_ID = 3

_BROKER_FEATURES = (
    "publisher_identification", "pattern_based_subscription", "session_meta_api",
    "subscription_meta_api", "subscriber_blackwhite_listing", "publisher_exclusion",
    "subscription_revocation", "event_retention", "payload_transparency",
    "payload_encryption_cryptobox",
)  # fmt: skip
_DEALER_FEATURES = (
    "caller_identification", "pattern_based_registration", "session_meta_api",
    "registration_meta_api", "shared_registration", "call_canceling",
    "progressive_call_results", "registration_revocation", "payload_transparency",
    "testament_meta_api", "payload_encryption_cryptobox",
)  # fmt: skip
#: WELCOME.Details shaped like Crossbar's for an anonymous session.
WELCOME_DETAILS: dict[str, Any] = {
    "realm": REALM,
    "authid": "HNRM-4FJN-TQ7C-YG3U-HAXW-9VQX",
    "authrole": "anonymous",
    "authmethod": "anonymous",
    "authprovider": "static",
    "roles": {
        "broker": {"features": dict.fromkeys(_BROKER_FEATURES, True)},
        "dealer": {"features": dict.fromkeys(_DEALER_FEATURES, True)},
    },
    "x_cb_node": "node1",
    "x_cb_worker": "worker001",
    "x_cb_peer": "tcp4:127.0.0.1:51234",
    "x_cb_pid": 4321,
}
#: Crossbar's caller disclosure on INVOCATION and publisher disclosure on EVENT.
INVOCATION_DETAILS: dict[str, Any] = {
    "caller": PEER_SESSION_ID,
    "caller_authid": "alice",
    "caller_authrole": "user",
    "procedure": PROCEDURE,
}
EVENT_DETAILS: dict[str, Any] = {
    "publisher": PEER_SESSION_ID,
    "publisher_authid": "sensor-gw",
    "publisher_authrole": "device",
}

_RAWSOCKET_IDS = {"json": 1, "msgpack": 2, "cbor": 3}
_RAWSOCKET_URL = "rs://127.0.0.1:8081"
_WEBSOCKET_URL = "ws://127.0.0.1:8080/ws"


def transport_spec(transport: str, serializer: str) -> dict[str, Any]:
    if transport == "rawsocket":
        return {"type": "rawsocket", "url": _RAWSOCKET_URL, "serializer": serializer}
    return {"url": _WEBSOCKET_URL, "serializers": [serializer]}


def rawsocket_reply(serializer: str) -> bytes:
    """The router's RawSocket handshake reply: 16 MB maximum, the client's serializer."""
    return bytes((0x7F, 0xF0 | _RAWSOCKET_IDS[serializer], 0, 0))


def rawsocket_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def rawsocket_payloads(data: bytes) -> list[bytes]:
    """Split a client's RawSocket output (after the handshake) into message payloads."""
    out, pos = [], 0
    while pos < len(data):
        if data[pos] & 0x07:
            raise RuntimeError(f"unexpected RawSocket frame type {data[pos]:#x}")
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        out.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return out


class WsServer:
    """The router's end of one WebSocket connection (wsproto in server mode).

    Accepts the upgrade with subprotocol ``wamp.2.<serializer>``, frames the router's messages
    (binary frames, text frames for json, unmasked as a server's are) and unframes what the
    client sent.
    """

    def __init__(self, serializer: str) -> None:
        self.ws = WSConnection(ConnectionType.SERVER)
        self.subprotocol = f"wamp.2.{serializer}"
        self.text = serializer == "json"
        self._partial: list[bytes] = []

    def accept(self, request: bytes) -> bytes:
        self.ws.receive_data(request)
        for event in self.ws.events():
            if isinstance(event, Request):
                if self.subprotocol not in event.subprotocols:
                    raise RuntimeError(f"client did not offer {self.subprotocol}")
                return self.ws.send(AcceptConnection(subprotocol=self.subprotocol))
        raise RuntimeError("no complete WebSocket upgrade request")

    def frame(self, payload: bytes) -> bytes:
        if self.text:
            return self.ws.send(TextMessage(data=payload.decode("utf-8")))
        return self.ws.send(BytesMessage(data=payload))

    def payloads(self, data: bytes) -> list[bytes]:
        self.ws.receive_data(data)
        out = []
        for event in self.ws.events():
            if not isinstance(event, Message):
                raise RuntimeError(f"unexpected WebSocket event from the client: {event!r}")
            chunk = event.data
            self._partial.append(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            if event.message_finished:
                out.append(b"".join(self._partial))
                self._partial.clear()
        return out


def template_ws_server(serializer: str) -> WsServer:
    """A WebSocket server end in the open state, to pre-frame the router's messages once."""
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(
        Request(host="127.0.0.1:8080", target="/ws", subprotocols=[f"wamp.2.{serializer}"])
    )
    server = WsServer(serializer)
    server.accept(request)
    return server


@dataclass
class Script:
    """The router's messages for one serializer, encoded once (unframed).

    ``incoming[case]``: what the timed part of ``case`` feeds, one message per operation: RESULT
    for request ``FIRST_CALL_ID + i``, INVOCATION ``1 + i``, EVENT with publication ``i``'s ID
    (nothing for publish, which is not acknowledged).
    """

    welcome: bytes
    registered: bytes
    subscribed: bytes
    incoming: dict[str, list[bytes]]

    @classmethod
    def build(cls, serializer: str, ops: int) -> Script:
        enc = wc.get_serializer(serializer).encode
        results, invocations, events = [], [], []
        for i in range(ops):
            msg: m.Message = m.Result(
                request_id=FIRST_CALL_ID + i, details={}, args=RESULT_ARGS, kwargs=RESULT_KWARGS
            )
            results.append(enc(msg))
            msg = m.Invocation(
                request_id=1 + i,
                registration_id=REGISTRATION_ID,
                details=INVOCATION_DETAILS,
                args=CALL_ARGS,
                kwargs=CALL_KWARGS,
            )
            invocations.append(enc(msg))
            msg = m.Event(
                subscription_id=SUBSCRIPTION_ID,
                publication_id=FIRST_PUBLICATION_ID + i,
                details=EVENT_DETAILS,
                args=EVENT_ARGS,
                kwargs=EVENT_KWARGS,
            )
            events.append(enc(msg))
        return cls(
            enc(m.Welcome(session_id=SESSION_ID, details=WELCOME_DETAILS)),
            enc(m.Registered(request_id=1, registration_id=REGISTRATION_ID)),
            enc(m.Subscribed(request_id=2, subscription_id=SUBSCRIPTION_ID)),
            {"rpc-caller": results, "rpc-callee": invocations, "publish": [], "event": events},
        )


# ------------------------------------------------------------------------------------------
# Peers


def _import_quietly(name: str) -> ModuleType:
    # bjdata's C extension (imported by autobahn) prints a NumPy ABI warning when it cannot
    # load and falls back to pure Python: keep the output readable.
    with contextlib.redirect_stderr(io.StringIO()):
        return importlib.import_module(name)


@dataclass
class Peers:
    """The optional peer libraries (``missing`` says why one is unavailable)."""

    ab: dict[str, Any] = field(default_factory=dict)
    wp: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def load_peers() -> Peers:
    peers = Peers()
    try:
        _import_quietly("txaio").use_asyncio()
        for short, name in (
            ("rawsocket", "autobahn.asyncio.rawsocket"),
            ("websocket", "autobahn.asyncio.websocket"),
            ("wamp", "autobahn.asyncio.wamp"),
            ("types", "autobahn.wamp.types"),
            ("serializer", "autobahn.wamp.serializer"),
            ("utf8", "autobahn.websocket.utf8validator"),
        ):
            peers.ab[short] = _import_quietly(name)
    except Exception as exc:
        peers.missing["autobahn"] = f"{type(exc).__name__}: {exc}"
        peers.ab.clear()
    try:
        for short, name in (
            ("session", "wampproto.session"),
            ("serializers", "wampproto.serializers"),
            ("messages", "wampproto.messages"),
            ("idgen", "wampproto.idgen"),
        ):
            peers.wp[short] = _import_quietly(name)
    except Exception as exc:
        peers.missing["wampproto"] = f"{type(exc).__name__}: {exc}"
        peers.wp.clear()
    return peers


class FakeTransport(asyncio.Transport):
    """An asyncio transport that keeps what the protocol writes and never touches a socket."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[Any] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8080) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(bytes(w) for w in self.writes)
        self.writes.clear()
        return data


async def _turn_until(cond: Callable[[], object], what: str, limit: int = 50) -> None:
    for _ in range(limit):
        if cond():
            return
        await asyncio.sleep(0)
    raise RuntimeError(f"autobahn: {what} did not happen within {limit} loop turns")


# ------------------------------------------------------------------------------------------
# The clients, set up to a joined session with one registration and one subscription


@dataclass
class OurClient:
    conn: wc.Connection
    server: WsServer | None
    out: list[bytes] = field(default_factory=list)
    sink: list[Any] = field(default_factory=list)

    @classmethod
    def joined(cls, transport: str, serializer: str, frames: dict[str, bytes]) -> OurClient:
        config = wc.parse_transports(transport_spec(transport, serializer))[0]
        conn = wc.make_connection(config, realm=REALM)
        conn.initiate()
        request = conn.data_to_send()
        server = None
        if transport == "rawsocket":
            reply = rawsocket_reply(serializer)
        else:
            server = WsServer(serializer)
            reply = server.accept(request)
        opened = conn.receive_data(reply)
        if not any(isinstance(e, ev.Opened) for e in opened):
            raise RuntimeError(f"ours: transport did not open: {opened!r}")
        conn.data_to_send()  # HELLO
        if not any(isinstance(e, ev.Joined) for e in conn.receive_data(frames["welcome"])):
            raise RuntimeError("ours: WELCOME did not join")
        conn.session.register(PROCEDURE)
        conn.data_to_send()
        got = conn.receive_data(frames["registered"])
        if not any(isinstance(e, ev.Registered) for e in got):
            raise RuntimeError(f"ours: expected Registered, got {got!r}")
        conn.session.subscribe(TOPIC)
        conn.data_to_send()
        got = conn.receive_data(frames["subscribed"])
        if not any(isinstance(e, ev.Subscribed) for e in got):
            raise RuntimeError(f"ours: expected Subscribed, got {got!r}")
        return cls(conn, server)

    def sent(self) -> list[bytes]:
        data = b"".join(self.out)
        if self.server is None:
            return rawsocket_payloads(data)
        return self.server.payloads(data)


def _ours_rpc_caller(c: OurClient, chunks: list[bytes], per: int) -> None:
    conn, out, sink = c.conn, c.out, c.sink
    call, send, receive = conn.session.call, conn.data_to_send, conn.receive_data
    calls = range(per)
    for chunk in chunks:
        for _ in calls:
            call(PROCEDURE, CALL_ARGS, CALL_KWARGS)
        out.append(send())
        for event in receive(chunk):
            if isinstance(event, ev.CallSucceeded):
                sink.append(event.result)


def _ours_rpc_callee(c: OurClient, chunks: list[bytes], per: int) -> None:
    conn, out, sink = c.conn, c.out, c.sink
    answer, send, receive = conn.session.yield_result, conn.data_to_send, conn.receive_data
    for chunk in chunks:
        for event in receive(chunk):
            if isinstance(event, ev.InvocationReceived):
                sink.append(event)
                answer(event.request_id, RESULT_ARGS, RESULT_KWARGS)
        out.append(send())


def _ours_publish(c: OurClient, chunks: list[bytes], per: int) -> None:
    conn, out = c.conn, c.out
    publish, send = conn.session.publish, conn.data_to_send
    publications = range(per)
    for _ in chunks:
        for _ in publications:
            publish(TOPIC, EVENT_ARGS, EVENT_KWARGS)
        out.append(send())


def _ours_event(c: OurClient, chunks: list[bytes], per: int) -> None:
    conn, out, sink = c.conn, c.out, c.sink
    send, receive = conn.data_to_send, conn.receive_data
    for chunk in chunks:
        for event in receive(chunk):
            if isinstance(event, ev.EventDelivered):
                sink.append(event)
        out.append(send())


OUR_RUNNERS: dict[str, Callable[[OurClient, list[bytes], int], None]] = {
    "rpc-caller": _ours_rpc_caller,
    "rpc-callee": _ours_rpc_callee,
    "publish": _ours_publish,
    "event": _ours_event,
}


@dataclass
class AutobahnClient:
    proto: Any
    session: Any
    transport: FakeTransport
    server: WsServer | None
    writes_per_message: int
    types: Any
    sink: list[Any] = field(default_factory=list)

    @classmethod
    async def joined(
        cls, peers: Peers, transport: str, serializer: str, frames: dict[str, bytes]
    ) -> AutobahnClient:
        ab = peers.ab
        types = ab["types"]
        sessions: list[Any] = []

        def make_session() -> Any:
            session = ab["wamp"].ApplicationSession(types.ComponentConfig(realm=REALM))
            sessions.append(session)
            return session

        ser_class = {
            "msgpack": "MsgPackSerializer",
            "json": "JsonSerializer",
            "cbor": "CBORSerializer",
        }
        ab_serializer = getattr(ab["serializer"], ser_class[serializer])()
        fake = FakeTransport()
        server = None
        if transport == "rawsocket":
            factory = ab["rawsocket"].WampRawSocketClientFactory(
                make_session, serializer=ab_serializer
            )
            proto = factory()
            proto.connection_made(fake)
            fake.take()  # the client's handshake
            proto.data_received(rawsocket_reply(serializer))
        else:
            factory = ab["websocket"].WampWebSocketClientFactory(
                make_session, url=_WEBSOCKET_URL, serializers=[ab_serializer]
            )
            proto = factory()
            proto.connection_made(fake)
            await _turn_until(lambda: fake.writes, "the upgrade request")
            server = WsServer(serializer)
            proto.data_received(server.accept(fake.take()))
        await _turn_until(lambda: sessions and fake.writes, "HELLO")
        session = sessions[0]
        fake.take()
        proto.data_received(frames["welcome"])
        await _turn_until(session.is_attached, "joining")

        client = cls(proto, session, fake, server, 0, types)
        before = len(fake.writes)
        registering = session.register(
            client.on_invocation, PROCEDURE, options=types.RegisterOptions(details_arg="details")
        )
        client.writes_per_message = len(fake.writes) - before  # RawSocket: header, then payload
        proto.data_received(frames["registered"])
        await _turn_until(registering.done, "REGISTERED")
        registering.result()
        subscribing = session.subscribe(
            client.on_event, TOPIC, options=types.SubscribeOptions(details_arg="details")
        )
        proto.data_received(frames["subscribed"])
        await _turn_until(subscribing.done, "SUBSCRIBED")
        subscribing.result()
        for _ in range(3):  # let callbacks of the join settle
            await asyncio.sleep(0)
        sent = fake.take()
        if server is not None:
            server.payloads(sent)
        if fake.closed or not session.is_attached():
            raise RuntimeError("autobahn: the session did not survive its setup")
        return client

    def on_invocation(self, *args: Any, details: Any = None, **kwargs: Any) -> Any:
        self.sink.append((args, kwargs, details))
        return self.types.CallResult(*RESULT_ARGS, **RESULT_KWARGS)

    def on_event(self, *args: Any, details: Any = None, **kwargs: Any) -> None:
        self.sink.append((args, kwargs, details))

    def sent(self) -> list[bytes]:
        data = self.transport.take()
        if self.server is None:
            return rawsocket_payloads(data)
        return self.server.payloads(data)


# Autobahn runs its handlers and, over WebSocket, its whole receive path in callbacks of the
# asyncio loop: after feeding a chunk, turn the loop (``await asyncio.sleep(0)``) until the
# operation's effect is visible, as few turns as it needs. Each returns the turns taken.


AB_DRAIN_TURNS = 2


async def _ab_drain() -> int:
    """Run the callbacks still scheduled (e.g. Autobahn's bookkeeping after an event handler)."""
    for _ in range(AB_DRAIN_TURNS):
        await asyncio.sleep(0)
    return AB_DRAIN_TURNS


async def _ab_rpc_caller(c: AutobahnClient, chunks: list[bytes], per: int) -> int:
    call, feed, sink = c.session.call, c.proto.data_received, c.sink
    turns = 0
    calls = range(per)
    for chunk in chunks:
        pending = [call(PROCEDURE, *CALL_ARGS, **CALL_KWARGS) for _ in calls]
        feed(chunk)
        last = pending[-1]
        while not last.done():
            await asyncio.sleep(0)
            turns += 1
        for future in pending:
            sink.append(future.result())
    return turns + await _ab_drain()


async def _ab_rpc_callee(c: AutobahnClient, chunks: list[bytes], per: int) -> int:
    feed, writes = c.proto.data_received, c.transport.writes
    turns = 0
    expected = len(writes)
    step = per * c.writes_per_message
    for chunk in chunks:
        expected += step
        feed(chunk)
        while len(writes) < expected:  # until the YIELDs are written
            await asyncio.sleep(0)
            turns += 1
    return turns + await _ab_drain()


async def _ab_publish(c: AutobahnClient, chunks: list[bytes], per: int) -> int:
    publish = c.session.publish
    publications = range(per)
    for _ in chunks:
        for _ in publications:
            publish(TOPIC, *EVENT_ARGS, **EVENT_KWARGS)
    return await _ab_drain()


async def _ab_event(c: AutobahnClient, chunks: list[bytes], per: int) -> int:
    feed, sink = c.proto.data_received, c.sink
    turns = 0
    expected = len(sink)
    for chunk in chunks:
        expected += per
        feed(chunk)
        while len(sink) < expected:  # until the handler ran
            await asyncio.sleep(0)
            turns += 1
    return turns + await _ab_drain()


AB_RUNNERS: dict[str, Callable[[AutobahnClient, list[bytes], int], Awaitable[int]]] = {
    "rpc-caller": _ab_rpc_caller,
    "rpc-callee": _ab_rpc_callee,
    "publish": _ab_publish,
    "event": _ab_event,
}


@dataclass
class WampprotoClient:
    session: Any
    ids: Any
    msgs: Any
    out: list[Any] = field(default_factory=list)
    sink: list[Any] = field(default_factory=list)

    @classmethod
    def joined(cls, peers: Peers, serializer: str, script: Script) -> WampprotoClient:
        wp = peers.wp
        name = {"msgpack": "MsgPackSerializer", "json": "JSONSerializer", "cbor": "CBORSerializer"}
        session = wp["session"].WAMPSession(getattr(wp["serializers"], name[serializer])())
        ids = wp["idgen"].SessionScopeIDGenerator()
        msgs = wp["messages"]
        session.send_message(msgs.Register(msgs.RegisterFields(ids.next(), PROCEDURE)))
        session.receive(wire_for_wampproto(serializer, script.registered))
        session.send_message(msgs.Subscribe(msgs.SubscribeFields(ids.next(), TOPIC)))
        session.receive(wire_for_wampproto(serializer, script.subscribed))
        return cls(session, ids, msgs)

    def sent(self) -> list[bytes]:
        return [d.encode("utf-8") if isinstance(d, str) else d for d in self.out]


def wire_for_wampproto(serializer: str, data: bytes) -> Any:
    """wampproto's JSON serializer speaks ``str`` (``json.dumps`` output): give it that."""
    return data.decode("utf-8") if serializer == "json" else data


def _wp_rpc_caller(c: WampprotoClient, chunks: list[list[Any]], per: int) -> None:
    send, receive, out, sink = c.session.send_message, c.session.receive, c.out, c.sink
    call, fields, next_id = c.msgs.Call, c.msgs.CallFields, c.ids.next
    calls = range(per)
    for chunk in chunks:
        for _ in calls:
            out.append(send(call(fields(next_id(), PROCEDURE, args=CALL_ARGS, kwargs=CALL_KWARGS))))
        for data in chunk:
            sink.append(receive(data))


def _wp_rpc_callee(c: WampprotoClient, chunks: list[list[Any]], per: int) -> None:
    send, receive, out, sink = c.session.send_message, c.session.receive, c.out, c.sink
    yield_, fields = c.msgs.Yield, c.msgs.YieldFields
    for chunk in chunks:
        for data in chunk:
            invocation = receive(data)
            sink.append(invocation)
            rid = invocation.request_id
            out.append(send(yield_(fields(rid, args=RESULT_ARGS, kwargs=RESULT_KWARGS))))


def _wp_publish(c: WampprotoClient, chunks: list[list[Any]], per: int) -> None:
    send, out = c.session.send_message, c.out
    publish, fields, next_id = c.msgs.Publish, c.msgs.PublishFields, c.ids.next
    publications = range(per)
    for _ in chunks:
        for _ in publications:
            msg = publish(fields(next_id(), TOPIC, args=EVENT_ARGS, kwargs=EVENT_KWARGS))
            out.append(send(msg))


def _wp_event(c: WampprotoClient, chunks: list[list[Any]], per: int) -> None:
    receive, sink = c.session.receive, c.sink
    for chunk in chunks:
        for data in chunk:
            sink.append(receive(data))


WP_RUNNERS: dict[str, Callable[[WampprotoClient, list[list[Any]], int], None]] = {
    "rpc-caller": _wp_rpc_caller,
    "rpc-callee": _wp_rpc_callee,
    "publish": _wp_publish,
    "event": _wp_event,
}


# ------------------------------------------------------------------------------------------
# Checking a batch (once per cell, before timing)


def _same(
    args: Sequence[Any], kwargs: dict[str, Any], want: tuple[list[Any], dict[str, Any]]
) -> bool:
    return list(args) == want[0] and dict(kwargs) == want[1]


def check_batch(cell: Cell, ops: int, sent: list[bytes], sink: list[Any]) -> None:
    """The client sent exactly the expected messages and delivered every incoming one."""
    impl, case = cell.impl, cell.case
    decode = wc.get_serializer(cell.serializer).decode
    messages: list[Any] = [decode(p) for p in sent]
    expect_sent = {"rpc-caller": m.Call, "rpc-callee": m.Yield, "publish": m.Publish}.get(case)
    if expect_sent is None:
        if messages:
            raise RuntimeError(f"{impl} {case}: sent {messages[:3]!r}...")
    else:
        if len(messages) != ops or any(type(x) is not expect_sent for x in messages):
            raise RuntimeError(f"{impl} {case}: sent {len(messages)} messages: {messages[:3]!r}")
        for i, msg in enumerate(messages):
            if case == "rpc-caller":
                ok = msg.request_id == FIRST_CALL_ID + i and msg.procedure == PROCEDURE
                ok = ok and _same(msg.args, msg.kwargs, (CALL_ARGS, CALL_KWARGS))
            elif case == "rpc-callee":
                ok = msg.request_id == 1 + i
                ok = ok and _same(msg.args, msg.kwargs, (RESULT_ARGS, RESULT_KWARGS))
            else:
                ok = msg.topic == TOPIC and _same(msg.args, msg.kwargs, (EVENT_ARGS, EVENT_KWARGS))
            if not ok:
                raise RuntimeError(f"{impl} {case}: message {i} is wrong: {msg!r}")
    if case == "publish":
        return
    if len(sink) != ops:
        raise RuntimeError(f"{impl} {case}: delivered {len(sink)} of {ops}")
    want = {
        "rpc-caller": (RESULT_ARGS, RESULT_KWARGS),
        "rpc-callee": (CALL_ARGS, CALL_KWARGS),
        "event": (EVENT_ARGS, EVENT_KWARGS),
    }[case]
    who = "caller" if case == "rpc-callee" else "publisher"
    for item in sink:
        if impl == "autobahn" and case == "rpc-caller":
            ok = _same(item.results, item.kwresults, want)
        elif impl == "autobahn":
            args, kwargs, details = item
            ok = _same(args, kwargs, want) and getattr(details, who) == PEER_SESSION_ID
        elif impl == "ours" and case == "rpc-caller":
            ok = _same(item.args, item.kwargs, want)
        elif impl == "ours":
            ok = (
                _same(item.args, item.kwargs, want)
                and getattr(item.details, who) == PEER_SESSION_ID
            )
        else:
            ok = _same(item.args, item.kwargs, want)
            ok = ok and (case == "rpc-caller" or item.details.get(who) == PEER_SESSION_ID)
        if not ok:
            raise RuntimeError(f"{impl} {case}: delivered {item!r}")


# ------------------------------------------------------------------------------------------
# Timing


@dataclass
class Cell:
    """One implementation x case x transport x serializer x chunking, and its batch times."""

    case: str
    transport: str | None  # None: wampproto, which has no framing
    serializer: str
    chunk: int
    impl: str
    times: list[float] = field(default_factory=list)  # us of CPU per operation, per round
    wall: list[float] = field(default_factory=list)  # us of wall clock per operation
    turns: list[int] = field(default_factory=list)  # autobahn: loop turns per batch
    error: str | None = None

    @property
    def label(self) -> str:
        where = self.transport or "no-framing"
        return f"{self.impl} {self.case} {where} {self.serializer} {self.chunk}/chunk"


class Bench:
    def __init__(self, peers: Peers, ops: int, serializers: Iterable[str]) -> None:
        self.peers = peers
        self.ops = ops
        self.scripts = {s: Script.build(s, ops) for s in serializers}
        self._frames: dict[tuple[str, str], dict[str, bytes]] = {}
        self._chunks: dict[tuple[str | None, str, str, int], list[Any]] = {}

    def setup_frames(self, transport: str, serializer: str) -> dict[str, bytes]:
        key = transport, serializer
        if key not in self._frames:
            script = self.scripts[serializer]
            frame = (
                rawsocket_frame
                if transport == "rawsocket"
                else template_ws_server(serializer).frame
            )
            self._frames[key] = {
                "welcome": frame(script.welcome),
                "registered": frame(script.registered),
                "subscribed": frame(script.subscribed),
            }
        return self._frames[key]

    def chunks(self, cell: Cell) -> list[Any]:
        """The router's bytes for the timed part: framed and joined ``chunk`` messages at a
        time (wampproto: lists of unframed messages). Publish gets empty placeholders."""
        key = cell.transport, cell.serializer, cell.case, cell.chunk
        if key not in self._chunks:
            n, per = self.ops, cell.chunk
            script = self.scripts[cell.serializer]
            incoming = script.incoming[cell.case]
            if not incoming:
                chunks: list[Any] = [b""] * (n // per)
            elif cell.transport is None:
                data = [wire_for_wampproto(cell.serializer, d) for d in incoming]
                chunks = [data[i : i + per] for i in range(0, n, per)]
            else:
                if cell.transport == "rawsocket":
                    frames = [rawsocket_frame(d) for d in incoming]
                else:
                    framer = template_ws_server(cell.serializer)
                    frames = [framer.frame(d) for d in incoming]
                chunks = [b"".join(frames[i : i + per]) for i in range(0, n, per)]
            self._chunks[key] = chunks
        return self._chunks[key]

    async def run(self, cell: Cell, check: bool) -> None:
        """One batch of ``ops`` operations on a fresh joined session; only the operations are
        timed. With ``check`` the batch is verified and not recorded."""
        chunks, per = self.chunks(cell), cell.chunk
        turns = 0
        if cell.impl == "ours":
            assert cell.transport is not None
            ours = OurClient.joined(
                cell.transport, cell.serializer, self.setup_frames(cell.transport, cell.serializer)
            )
            cpu, wall = _timed(OUR_RUNNERS[cell.case], ours, chunks, per)
            if ours.conn.error is not None or not ours.conn.session.is_joined:
                raise RuntimeError(f"ours: the session failed: {ours.conn.error!r}")
            client: OurClient | AutobahnClient | WampprotoClient = ours
        elif cell.impl == "autobahn":
            assert cell.transport is not None
            ab = await AutobahnClient.joined(
                self.peers,
                cell.transport,
                cell.serializer,
                self.setup_frames(cell.transport, cell.serializer),
            )
            runner = AB_RUNNERS[cell.case]
            gc.collect()
            gc.disable()
            try:
                cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
                turns = await runner(ab, chunks, per)
                wall1, cpu1 = time.perf_counter_ns(), time.process_time_ns()
            finally:
                gc.enable()
            cpu, wall = cpu1 - cpu0, wall1 - wall0
            if ab.transport.closed or not ab.session.is_attached():
                raise RuntimeError("autobahn: the session was closed during the batch")
            client = ab
        else:
            wp = WampprotoClient.joined(self.peers, cell.serializer, self.scripts[cell.serializer])
            cpu, wall = _timed(WP_RUNNERS[cell.case], wp, chunks, per)
            client = wp
        if check:
            check_batch(cell, self.ops, client.sent(), client.sink)
            return
        cell.times.append(cpu / 1000 / self.ops)
        cell.wall.append(wall / 1000 / self.ops)
        if cell.impl == "autobahn":
            cell.turns.append(turns)


def _timed(
    fn: Callable[[Any, list[Any], int], None], client: Any, chunks: list[Any], per: int
) -> tuple[int, int]:
    """CPU and wall nanoseconds of ``fn(client, chunks, per)``, garbage collector off."""
    gc.collect()
    gc.disable()
    try:
        cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
        fn(client, chunks, per)
        wall1, cpu1 = time.perf_counter_ns(), time.process_time_ns()
    finally:
        gc.enable()
    return cpu1 - cpu0, wall1 - wall0


async def loop_turn_cost(ops: int) -> float:
    """CPU microseconds of one bare ``await asyncio.sleep(0)`` on this loop."""
    gc.collect()
    gc.disable()
    try:
        cpu0 = time.process_time_ns()
        for _ in range(ops):
            await asyncio.sleep(0)
        cpu1 = time.process_time_ns()
    finally:
        gc.enable()
    return (cpu1 - cpu0) / 1000 / ops


# ------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class Results:
    cells: dict[tuple[str, str | None, str, int, str], Cell]

    def get(self, case: str, transport: str, serializer: str, chunk: int, impl: str) -> Cell | None:
        where = None if impl == "wampproto" else transport
        cell = self.cells.get((case, where, serializer, chunk, impl))
        return cell if cell is not None and cell.times else None

    @staticmethod
    def time(cell: Cell | None, stat: str) -> float | None:
        if cell is None:
            return None
        return min(cell.times) if stat == "min" else statistics.median(cell.times)

    @staticmethod
    def ratio(num: Cell | None, den: Cell | None, stat: str) -> float | None:
        """``min(num) / min(den)``, or the median of the per-round ratios (paired batches)."""
        if num is None or den is None:
            return None
        if stat == "min":
            return min(num.times) / min(den.times)
        return statistics.median(a / b for a, b in zip(num.times, den.times, strict=True))


def _fmt(value: float | None, ratio: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if ratio else f"{value:.2f}"


def table(
    results: Results,
    rows: Sequence[tuple[str, str, str]],
    chunk: int,
    stat: str,
    title: str,
) -> list[str]:
    head = (
        "case",
        "transport",
        "serializer",
        "ours",
        "autobahn",
        "ours/ab",
        "wampproto*",
        "ours/wp",
    )
    body: list[tuple[str, ...]] = []
    for case, transport, ser in rows:
        ours, ab, wp = (results.get(case, transport, ser, chunk, impl) for impl in IMPLS)
        body.append(
            (
                case,
                transport,
                ser,
                _fmt(results.time(ours, stat)),
                _fmt(results.time(ab, stat)),
                _fmt(results.ratio(ours, ab, stat), ratio=True),
                _fmt(results.time(wp, stat)),
                _fmt(results.ratio(ours, wp, stat), ratio=True),
            )
        )
    legend = [
        "  * wampproto: its sans-IO session core, NO FRAMING, fed the same serialized messages;",
        "    one measurement per serializer and chunking, shown under both transports",
    ]
    return [title, *legend, *_timing.table_lines(head, body, left=3)]


def target_lines(
    results: Results, serializers: Sequence[str], transports: Sequence[str], cases: Sequence[str]
) -> list[str]:
    out = [
        "Targets (shown, not asserted; verdict on the ratio of mins, paired median in brackets;",
        "  '1/chunk' = one message per chunk, '50/chunk' = pipelined):",
        f"  ours <= {AUTOBAHN_TARGET}x autobahn per RPC and per event"
        " (msgpack, json; both transports)",
    ]

    def verdict(num: Cell | None, den: Cell | None, target: float) -> str:
        best, typical = results.ratio(num, den, "min"), results.ratio(num, den, "median")
        if best is None or typical is None:
            return "-"
        return f"{best:.2f}x ({typical:.2f}x) {'met' if best <= target else 'MISSED'}"

    for transport in transports:
        for ser in (s for s in ("msgpack", "json") if s in serializers):
            for case in (c for c in ("rpc-caller", "rpc-callee", "event") if c in cases):
                parts = [
                    f"{chunk}/chunk "
                    + verdict(
                        results.get(case, transport, ser, chunk, "ours"),
                        results.get(case, transport, ser, chunk, "autobahn"),
                        AUTOBAHN_TARGET,
                    )
                    for chunk in CHUNKS
                ]
                out.append(f"    {transport:<9}  {ser:<7}  {case:<10}  " + ";  ".join(parts))
    out.append(f"  ours <= {WAMPPROTO_TARGET}x wampproto per RPC (RawSocket, msgpack)")
    if "rawsocket" in transports and "msgpack" in serializers:
        for case in (c for c in ("rpc-caller", "rpc-callee") if c in cases):
            parts = [
                f"{chunk}/chunk "
                + verdict(
                    results.get(case, "rawsocket", "msgpack", chunk, "ours"),
                    results.get(case, "rawsocket", "msgpack", chunk, "wampproto"),
                    WAMPPROTO_TARGET,
                )
                for chunk in CHUNKS
            ]
            out.append(f"    rawsocket  msgpack  {case:<10}  " + ";  ".join(parts))
    return out


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def environment(peers: Peers) -> dict[str, Any]:
    core_path = str(Path(wc.__file__).resolve().parent)
    repo_src = str(Path(__file__).resolve().parent.parent / "src" / "wamp_core")
    here = core_path == repo_src
    # Git facts describe the checkout, so only when wamp_core was imported from it.
    status = _git("--no-optional-locks", "status", "--porcelain", "--", "src") if here else None
    utf8 = peers.ab.get("utf8")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "wamp_core_path": core_path,
        "wamp_core_from_this_checkout": here,
        "git_head": _git("rev-parse", "--short", "HEAD") if here else None,
        "git_src_modified": None if status is None else bool(status),
        "versions": {
            name: _version(name)
            for name in ("wamp-py", "autobahn", "txaio", "wampproto", "wsproto", "msgpack", "cbor2")
        },
        "autobahn_nvx": None if utf8 is None else bool(getattr(utf8, "USES_NVX", False)),
        "event_loop": type(asyncio.get_running_loop()).__name__,
        "peers_missing": peers.missing,
    }


def notes(
    env: dict[str, Any], loop_turn: float | None, cells: Sequence[Cell], ops: int
) -> list[str]:
    out = [
        "Notes:",
        f"- Times: CPU time (time.process_time_ns) of a batch of {ops} operations on a fresh"
        " joined session, divided by the operations; garbage collector off while timing; the"
        " session setup (handshake, WELCOME, REGISTERED, SUBSCRIBED) is not timed. The router's"
        " bytes are encoded and framed once, outside the timed part.",
        "- ours: a wamp_core Connection: the command on conn.session, conn.data_to_send(),"
        " conn.receive_data(chunk) and a walk of the events (isinstance checks; the callee answers"
        " with session.yield_result). data_to_send() is called once per chunk.",
        "- autobahn: its asyncio RawSocket/WebSocket client protocol + ApplicationSession on a"
        " fake transport (write appends to a list), data_received(chunk), session.call / publish,"
        " a registered procedure returning CallResult and a subscribed handler, both with"
        " details_arg (so they see the caller/publisher disclosure, as ours always does). It runs"
        " handlers, and over WebSocket its whole receive path, in asyncio callbacks: after each"
        " chunk the loop is turned (await asyncio.sleep(0)) just until the effect is visible, and"
        " those turns are timed. Publishing is synchronous (50/chunk is the same as 1/chunk).",
    ]
    if loop_turn is not None:
        per_chunk: dict[tuple[str, str], set[float]] = {}
        for c in cells:
            if c.impl == "autobahn" and c.turns and c.transport:
                chunks = ops // c.chunk
                turns = (statistics.median(c.turns) - AB_DRAIN_TURNS) / chunks
                per_chunk.setdefault((c.case, c.transport), set()).add(round(turns, 2))
        text = ", ".join(
            f"{case} {'/'.join(f'{t:g}' for t in sorted(per_chunk.get((case, tr), ())))} ({tr})"
            for case in CASES
            for tr in TRANSPORTS
            if (case, tr) in per_chunk
        )
        out.append(
            f"- One bare asyncio loop turn (await asyncio.sleep(0), {env['event_loop']}) costs"
            f" {loop_turn:.2f} us of CPU here. Loop turns Autobahn needed per chunk: {text};"
            f" plus {AB_DRAIN_TURNS} per batch for the callbacks still scheduled at its end."
        )
    out.append(
        "- wampproto: WAMPSession.send_message(Call/Yield/Publish(...Fields)) and"
        " WAMPSession.receive(data) with request IDs from its SessionScopeIDGenerator; no framing"
        " and no joining (its Joiner is separate); its JSON serializer takes str, so it is fed the"
        " same JSON as str. Its messages keep details as a plain dict."
    )
    out.append(
        f"- Autobahn's NVX C extensions (UTF-8 validation, XOR masking):"
        f" {'in use' if env['autobahn_nvx'] else 'not in use'};"
        " ours masks in Python (_framing/_wsframes.py)."
    )
    for peer, why in env["peers_missing"].items():
        out.append(f"- {peer} unavailable: {why}")
    for c in cells:
        if c.error is not None:
            out.append(f"- {c.label}: not measured: {c.error}")
    return [textwrap.fill(line, 100, subsequent_indent="  ") for line in out]


# ------------------------------------------------------------------------------------------
# Main


def _choices(value: str | None, allowed: Sequence[str], what: str) -> list[str]:
    if value is None:
        return list(allowed)
    picked = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in picked if v not in allowed]
    if unknown or not picked:
        raise SystemExit(f"--{what}: choose from {', '.join(allowed)} (got {value!r})")
    return [v for v in allowed if v in picked]


async def amain(opts: argparse.Namespace) -> int:
    cases = _choices(opts.cases, CASES, "cases")
    transports = _choices(opts.transports, TRANSPORTS, "transports")
    serializers = _choices(opts.serializers, SERIALIZERS, "serializers")
    rounds = opts.rounds or (2 if opts.quick else 7)
    ops = opts.ops or (50 if opts.quick else 500)
    if ops % max(CHUNKS) or ops <= 0:
        raise SystemExit(f"--ops must be a positive multiple of {max(CHUNKS)}")

    peers = load_peers()
    env = environment(peers)
    bench = Bench(peers, ops, serializers)
    # Everything alive now (modules, the pre-encoded messages) is permanent: keep it out of the
    # collections run between batches, which would otherwise scan it every time.
    gc.collect()
    gc.freeze()
    impls = [i for i in IMPLS if i not in peers.missing]

    # Groups: the cells compared in one table row run back to back in every round. wampproto
    # has no framing: it is timed once, in the group of the first transport.
    groups: list[list[Cell]] = []
    for case in cases:
        for ser in serializers:
            for chunk in CHUNKS:
                for t_index, transport in enumerate(transports):
                    group = [
                        Cell(case, transport, ser, chunk, i) for i in impls if i != "wampproto"
                    ]
                    if "wampproto" in impls and t_index == 0:
                        group.append(Cell(case, None, ser, chunk, "wampproto"))
                    groups.append(group)
    cells = [c for g in groups for c in g]

    print(
        f"wamp-py round-trip benchmark, {env['date']}, Python {env['python']}"
        f" ({env['implementation']}), {env['platform']}, {env['cpu_count']} CPUs"
    )
    if env["wamp_core_from_this_checkout"]:
        state = {True: ", src/ modified", False: "", None: ""}[env["git_src_modified"]]
        print(f"wamp_core from this checkout (git {env['git_head']}{state})")
    else:
        print(f"wamp_core from {env['wamp_core_path']}")
    load = env["load_average"]
    print(
        f"{len(cells)} cells, {rounds} rounds of {ops} operations per cell, interleaved"
        + (f" (load average {load[0]:.2f} at start)..." if load else "...")
    )
    sys.stdout.flush()

    for cell in cells:  # check every cell once; a cell that cannot run is reported, not timed
        try:
            await bench.run(cell, check=True)
        except Exception as exc:
            cell.error = f"{type(exc).__name__}: {exc}"
    loop_turns: list[float] = []
    for rnd in range(rounds):
        rng = random.Random(rnd)
        order = list(groups)
        rng.shuffle(order)
        for group in order:
            members = [c for c in group if c.error is None]
            rng.shuffle(members)
            for cell in members:
                await bench.run(cell, check=False)
        loop_turns.append(await loop_turn_cost(ops))
    loop_turn = min(loop_turns) if loop_turns else None

    results = Results({(c.case, c.transport, c.serializer, c.chunk, c.impl): c for c in cells})
    rows = [(case, t, s) for case in cases for t in transports for s in serializers]
    out: list[str] = []
    for stat, how in (
        ("min", "min of {n} rounds; ratios of the mins"),
        ("median", "median of {n} rounds; ratios: median of the per-round ratios"),
    ):
        for chunk, name in (
            (1, "SEQUENTIAL: 1 message per chunk"),
            (50, "PIPELINED: 50 messages per chunk"),
        ):
            title = f"{name} (us of CPU per operation, {how.format(n=rounds)})"
            out += ["", *table(results, rows, chunk, stat, title)]
    out += ["", *target_lines(results, serializers, transports, cases), ""]
    out += notes(env, loop_turn, cells, ops)
    print("\n".join(out))

    if opts.json:
        report = {
            "environment": env,
            "method": {
                "rounds": rounds,
                "operations_per_batch": ops,
                "chunks": list(CHUNKS),
                "timer": "time.process_time_ns around each batch (CPU time of this process);"
                " wall clock (perf_counter_ns) kept as wall_times_us",
                "gc": "disabled while timing, collected before each batch",
                "order": "groups (case x transport x serializer x chunking) shuffled every round;"
                " implementations shuffled within a group",
                "unit": "microseconds per operation",
            },
            "messages": {
                "procedure": PROCEDURE,
                "topic": TOPIC,
                "call": {"args": CALL_ARGS, "kwargs": CALL_KWARGS},
                "result": {"args": RESULT_ARGS, "kwargs": RESULT_KWARGS},
                "event": {"args": EVENT_ARGS, "kwargs": EVENT_KWARGS},
                "welcome_details": WELCOME_DETAILS,
                "invocation_details": INVOCATION_DETAILS,
                "event_details": EVENT_DETAILS,
            },
            "loop_turn_us": {"min": loop_turn, "times_us": loop_turns},
            "cells": [
                {
                    "case": c.case,
                    "transport": c.transport,
                    "framing": c.transport is not None,
                    "serializer": c.serializer,
                    "chunk": c.chunk,
                    "impl": c.impl,
                    "min_us": min(c.times) if c.times else None,
                    "median_us": statistics.median(c.times) if c.times else None,
                    "times_us": c.times,
                    "wall_times_us": c.wall,
                    "loop_turns_per_op": statistics.median(c.turns) / ops if c.turns else None,
                    # what those turns cost per operation if each were a bare loop turn (estimate)
                    "loop_turns_us_per_op_estimate": (
                        statistics.median(c.turns) / ops * loop_turn
                        if c.turns and loop_turn
                        else None
                    ),
                    "error": c.error,
                }
                for c in cells
            ],
            "ratios": [
                {
                    "case": case,
                    "transport": t,
                    "serializer": s,
                    "chunk": chunk,
                    **{
                        f"ours/{impl}": {
                            st: results.ratio(
                                results.get(case, t, s, chunk, "ours"),
                                results.get(case, t, s, chunk, impl),
                                st,
                            )
                            for st in ("min", "median")
                        }
                        for impl in ("autobahn", "wampproto")
                    },
                }
                for case, t, s in rows
                for chunk in CHUNKS
            ],
        }
        with open(opts.json, "w", encoding="utf-8") as fp:
            json.dump(report, fp, indent=2)
            fp.write("\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short and noisy")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 7, quick 2)")
    parser.add_argument(
        "--ops", type=int, help="operations per batch, a multiple of 50 (default 500, quick 50)"
    )
    parser.add_argument("--cases", help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--transports", help=f"comma-separated, of: {', '.join(TRANSPORTS)}")
    parser.add_argument("--serializers", help=f"comma-separated, of: {', '.join(SERIALIZERS)}")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
