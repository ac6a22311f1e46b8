"""WebSocket data path: CPU cost of sending and receiving one message after the handshake.

Four operations on one small message (and a few sizes around it):

* ``client-send``: a client frames a message (masked, with a fresh key) and drains the bytes;
* ``server-recv``: a server parses that masked frame (unmasking) into the message;
* ``server-send``: a server frames a message (unmasked) and drains the bytes;
* ``client-recv``: a client parses that unmasked frame into the message.

Four implementations, interleaved repeat by repeat:

* ``floor``: the least Python can do: a 2-byte header concatenated to the payload; masking
  with ``os.urandom(4)`` and an ``int.from_bytes`` XOR; parsing reads two bytes and slices
  (unmasking by the same XOR). No checks, no state: the floor, not an implementation;
* ``wsproto``: wsproto's ``WSConnection`` used exactly as ``WebSocket`` used it before the fast
  path (``send(BytesMessage(...))`` into a bytearray drained with ``bytes()``;
  ``receive_data()``, ``list(events())``, an ``isinstance`` dispatch, ``MessageReceived``);
* ``wsp-frames``: wsproto used as cheaply as it goes: its frame layer
  ``wsproto.frame_protocol.FrameProtocol`` alone (``send_data()``; ``receive_bytes()`` +
  ``received_frames()``), no connection state, no event objects, no reassembly;
* ``codec``: our ``FrameCodec`` alone (``message(payload)``; ``receive(data, events)``);
* ``framer``: the public ``WebSocket`` framer (``send_message()`` + ``data_to_send()``;
  ``receive_data()``), whichever ``wamp_core`` is imported (so running this script against an
  older checkout, ``PYTHONPATH=<export>/src``, measures that checkout's framer; ``codec`` then
  shows ``-``);
* ``websockets`` (only when the ``websockets`` package is importable; it is not a dependency):
  the sans-IO ``websockets.protocol.Protocol`` of that library in the OPEN state
  (``send_binary``/``send_text`` + ``data_to_send()``; ``receive_data()`` +
  ``events_received()``, frames as events), whose masking is a C extension.

Every implementation's output is checked once before timing (what it sends parses in wsproto
to the payload, what it receives is the payload). Times are microseconds per message
(``timeit``, garbage collector off, loop count calibrated per cell; min and median of the
repeats). Run from the repository root::

    .venv/bin/python benchmarks/websocket_frames.py [--quick] [--json PATH] [--repeat R]
        [--target-ms MS]

Speed is measured and reported, never asserted: the script exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import random
import sys
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import _timing
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    Event,
    Message,
    Ping,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import FrameProtocol

import wamp_core as wc
from wamp_core.events import MessageReceived, Opened

try:  # absent from checkouts before the fast path
    from wamp_core._framing._wsframes import FrameCodec
except ImportError:  # pragma: no cover - older checkout
    FrameCodec = None  # type: ignore[assignment,misc]

WebsocketsProtocol: Any = None
WebsocketsSide: Any = None
websockets_version: Any = None
try:  # optional: another sans-IO WebSocket core, for comparison (not a project dependency)
    _websockets: Any = importlib.import_module("websockets")
    _websockets_protocol: Any = importlib.import_module("websockets.protocol")
except ImportError:
    pass
else:
    websockets_version = _websockets.__version__
    WebsocketsProtocol = _websockets_protocol.Protocol
    WebsocketsSide = _websockets_protocol.Side

OPS = ("client-send", "server-recv", "server-send", "client-recv")
IMPLS = ("floor", "wsproto", "wsp-frames", "codec", "framer", "websockets")


@dataclass(frozen=True)
class Sample:
    """One message: its name, whether it travels as TEXT (json) and its payload."""

    name: str
    text: bool
    payload: bytes


def _samples() -> tuple[Sample, ...]:
    rng = random.Random(6455)
    json_like = b'[48,3,{},"com.example.add_user",["alice",30,true],{"email":"a@example.com"}]'
    text = (json_like * 3)[:200]
    return (
        Sample("bin-64", False, rng.randbytes(64)),
        Sample("bin-200", False, rng.randbytes(200)),
        Sample("text-200", True, text),
        Sample("bin-16k", False, rng.randbytes(16384)),
    )


SAMPLES = _samples()


# ------------------------------------------------------------------------------------------
# The implementations: each gives a send callable (payload -> wire bytes) and a receive
# callable (wire bytes -> the message) for one role.


def _floor(client: bool, op: str, text: bool) -> Callable[[bytes], bytes]:
    """The floor: header arithmetic, a slice, the int XOR; no checks and no state."""
    fb = int.from_bytes
    urandom = os.urandom
    first = 0x81 if text else 0x82

    def header(n: int, masked: int) -> bytes:
        if n < 126:
            return bytes((first, masked | n))
        return bytes((first, masked | 126)) + n.to_bytes(2, "big")

    def send_unmasked(payload: bytes) -> bytes:
        return header(len(payload), 0) + payload

    def send_masked(payload: bytes) -> bytes:
        key = urandom(4)
        n = len(payload)
        pad = key * (n >> 2) + key[: n & 3]
        masked = (fb(payload, "little") ^ fb(pad, "little")).to_bytes(n, "little")
        return header(n, 0x80) + key + masked

    def length(data: bytes) -> tuple[int, int]:
        n = data[1] & 0x7F
        if n < 126:
            return n, 2
        return (data[2] << 8) | data[3], 4

    def recv_unmasked(data: bytes) -> bytes:
        n, start = length(data)
        return data[start : start + n]

    def recv_masked(data: bytes) -> bytes:
        n, start = length(data)
        key = data[start : start + 4]
        pad = key * (n >> 2) + key[: n & 3]
        return (fb(data[start + 4 : start + 4 + n], "little") ^ fb(pad, "little")).to_bytes(
            n, "little"
        )

    if op.endswith("send"):
        return send_masked if client else send_unmasked
    return recv_unmasked if client else recv_masked


def _wsproto_pair() -> tuple[WSConnection, WSConnection]:
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="h", target="/", subprotocols=["wamp.2.cbor"])))
    [request] = server.events()
    assert isinstance(request, Request)
    client.receive_data(server.send(AcceptConnection(subprotocol="wamp.2.cbor")))
    [accept] = client.events()
    assert isinstance(accept, AcceptConnection)
    return client, server


class _WsprotoAsBefore:
    """The hot path of ``WebSocket`` before the fast path, on a wsproto connection."""

    def __init__(self, ws: WSConnection, text: bool) -> None:
        self.ws = ws
        self.text = text
        self.outbuf = bytearray()
        self.message = bytearray()

    def send(self, payload: bytes) -> bytes:
        if self.text:
            self.outbuf += self.ws.send(TextMessage(data=bytes(payload).decode("utf-8")))
        else:
            self.outbuf += self.ws.send(BytesMessage(data=bytes(payload)))
        data = bytes(self.outbuf)
        self.outbuf.clear()
        return data

    def receive(self, data: bytes) -> list[Any]:
        self.ws.receive_data(data)
        out: list[Any] = []
        for event in list(self.ws.events()):
            if isinstance(event, (BytesMessage, TextMessage)):
                chunk = event.data.encode("utf-8") if isinstance(event.data, str) else event.data
                if len(self.message) + len(chunk) > 2**24:
                    raise AssertionError("too large")
                if event.message_finished and not self.message:
                    out.append(MessageReceived(bytes(chunk)))
                    continue
                self.message += chunk
                if event.message_finished:
                    out.append(MessageReceived(bytes(self.message)))
                    self.message.clear()
            elif isinstance(event, Ping):  # pragma: no cover - not in this benchmark
                self.outbuf += self.ws.send(event.response())
        return out


def _framer_pair(serializer: str) -> tuple[wc.WebSocket, wc.WebSocket]:
    client = wc.WebSocket(wc.Role.CLIENT, serializers=[serializer], host="h")
    server = wc.WebSocket(wc.Role.SERVER, serializers=[serializer])
    client.initiate()
    server.initiate()
    [opened] = server.receive_data(client.data_to_send())
    [accepted] = client.receive_data(server.data_to_send())
    assert isinstance(opened, Opened) and isinstance(accepted, Opened)
    return client, server


def make_call(impl: str, op: str, sample: Sample) -> Callable[[bytes], Any] | None:
    """The timed callable of one cell (``None`` when the implementation is unavailable)."""
    client_side = op.startswith("client")
    sending = op.endswith("send")
    serializer = "json" if sample.text else "cbor"
    if impl == "floor":
        return _floor(client_side, op, sample.text)
    if impl == "wsproto":
        client, server = _wsproto_pair()
        end = _WsprotoAsBefore(client if client_side else server, sample.text)
        return end.send if sending else end.receive
    if impl == "wsp-frames":
        frames = FrameProtocol(client_side, [])
        if sending:
            as_sent: Callable[[bytes], Any] = bytes.decode if sample.text else bytes

            def wsp_send(payload: bytes) -> bytes:
                return bytes(frames.send_data(as_sent(payload)))

            return wsp_send

        def wsp_receive(data: bytes) -> list[Any]:
            frames.receive_bytes(data)
            return list(frames.received_frames())

        return wsp_receive
    if impl == "websockets":
        if WebsocketsProtocol is None:
            return None
        side = WebsocketsSide.CLIENT if client_side else WebsocketsSide.SERVER
        proto = WebsocketsProtocol(side, max_size=2**24)
        if sending:
            send_frame = proto.send_text if sample.text else proto.send_binary

            def ws_send(payload: bytes) -> bytes:
                send_frame(payload)
                return b"".join(proto.data_to_send())

            return ws_send

        def ws_receive(data: bytes) -> list[Any]:
            proto.receive_data(data)
            return list(proto.events_received())

        return ws_receive
    if impl == "codec":
        if FrameCodec is None:
            return None
        out: list[bytes] = []
        codec = FrameCodec(client=client_side, text=sample.text, max_message_size=2**24, out=out)
        if sending:
            return codec.message

        def receive(data: bytes) -> list[Any]:
            events: list[Any] = []
            codec.receive(data, events)
            return events

        return receive
    framer_client, framer_server = _framer_pair(serializer)
    framer = framer_client if client_side else framer_server
    if sending:

        def send(payload: bytes) -> bytes:
            framer.send_message(payload)
            return framer.data_to_send()

        return send
    return framer.receive_data


def wire_for(op: str, sample: Sample) -> bytes:
    """What a ``*-recv`` cell is fed: the peer's frame, made by wsproto."""
    client, server = _wsproto_pair()
    sender = client if op == "server-recv" else server  # the server receives masked frames
    message: Message[Any]
    if sample.text:
        message = TextMessage(data=sample.payload.decode("utf-8"))
    else:
        message = BytesMessage(data=sample.payload)
    return sender.send(message)


def check(impl: str, op: str, sample: Sample, call: Callable[[bytes], Any]) -> None:
    """One run of the cell's callable, its result checked (sends: parsed by wsproto)."""
    if op.endswith("send"):
        wire = call(sample.payload)
        client, server = _wsproto_pair()
        peer = server if op == "client-send" else client
        peer.receive_data(wire)
        events: list[Event] = list(peer.events())
        assert len(events) == 1, (impl, op, events)
        data = events[0].data if isinstance(events[0], Message) else None
        want: Any = sample.payload.decode() if sample.text else sample.payload
        assert data == want, (impl, op, sample.name)
    else:
        got = call(wire_for(op, sample))
        if impl == "floor":
            assert got == sample.payload, (impl, op, sample.name)
            return
        if impl == "websockets":
            assert [bytes(frame.data) for frame in got] == [sample.payload], (impl, op)
            return
        if impl == "wsp-frames":
            want = sample.payload.decode() if sample.text else sample.payload
            assert [frame.payload for frame in got] == [want], (impl, op)
            return
        assert got == [MessageReceived(sample.payload)], (impl, op, sample.name, got)


# ------------------------------------------------------------------------------------------
# Timing

Key = tuple[str, str, str]  # sample, impl, op


@dataclass
class Cell:
    """One timed callable and its per-message times (seconds) over the repeats."""

    sample: str
    impl: str
    op: str
    timer: timeit.Timer
    number: int = 0
    times: list[float] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return self.sample, self.impl, self.op


Results = _timing.Results[Key]


def _fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{suffix}"


def table(results: Results, stat: str, title: str) -> list[str]:
    head = (
        "message",
        "op",
        "floor",
        "wsproto",
        "wsp-frames",
        "codec",
        "framer",
        "wsproto/framer",
        "framer/floor",
        "codec/floor",
        "websockets",
        "wsk/codec",
    )
    rows: list[tuple[str, ...]] = []
    for sample in SAMPLES:
        for op in OPS:
            floor, wsp, wspf, codec, framer, wsk = ((sample.name, impl, op) for impl in IMPLS)
            rows.append(
                (
                    sample.name,
                    op,
                    _fmt(results.time(floor, stat)),
                    _fmt(results.time(wsp, stat)),
                    _fmt(results.time(wspf, stat)),
                    _fmt(results.time(codec, stat)),
                    _fmt(results.time(framer, stat)),
                    _fmt(results.ratio(wsp, framer, stat), "x"),
                    _fmt(results.ratio(framer, floor, stat), "x"),
                    _fmt(results.ratio(codec, floor, stat), "x"),
                    _fmt(results.time(wsk, stat)),
                    _fmt(results.ratio(wsk, codec, stat), "x"),
                )
            )
    return [title, *_timing.table_lines(head, rows, left=2)]


def environment() -> dict[str, Any]:
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every platform
        load = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "wamp_core": os.path.dirname(wc.__file__),
        "fast_path": FrameCodec is not None,
        "wsproto": metadata.version("wsproto"),
        "websockets": websockets_version,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short and noisy")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    parser.add_argument("--repeat", type=int, help="timed repeats per cell (default 7, quick 2)")
    parser.add_argument(
        "--target-ms", type=float, help="time per repeat per cell (default 40, quick 2)"
    )
    opts = parser.parse_args(argv)
    repeat = opts.repeat or (2 if opts.quick else 7)
    target = (opts.target_ms or (2.0 if opts.quick else 40.0)) / 1000

    env = environment()
    cells: list[Cell] = []
    for sample in SAMPLES:
        for op in OPS:
            arg = sample.payload if op.endswith("send") else wire_for(op, sample)
            for impl in IMPLS:
                call = make_call(impl, op, sample)
                if call is None:
                    continue
                check(impl, op, sample, call)
                timer = timeit.Timer("call(arg)", globals={"call": call, "arg": arg})
                cells.append(Cell(sample.name, impl, op, timer))

    print(
        f"wamp-py WebSocket frame benchmark, {env['date']}, Python {env['python']}"
        f" ({env['implementation']}), {env['platform']}, {env['cpu_count']} CPUs"
    )
    print(f"wamp_core from {env['wamp_core']} (fast path: {'yes' if env['fast_path'] else 'no'})")
    print(
        f"{len(cells)} cells, {repeat} repeats of ~{target * 1000:g} ms each, interleaved"
        f" (load average {env['load_average']})..."
    )
    sys.stdout.flush()
    _timing.run(cells, repeat, target, row=lambda c: (c.sample, c.op))
    results = Results({c.key: c for c in cells})

    out: list[str] = []
    for stat, how in (
        ("min", "min of {n} repeats; ratios of the mins"),
        ("median", "median of {n} repeats; ratios: median of the per-repeat ratios"),
    ):
        out += ["", *table(results, stat, f"us per message ({how.format(n=repeat)})")]
    out += [
        "",
        "Notes:",
        "- messages: bin-* BINARY (cbor framer), text-200 TEXT (json framer: UTF-8 checked,",
        "  but not by the floor); client-send masks, server-recv unmasks.",
        "- wsproto: WSConnection as WebSocket used it before the fast path; wsp-frames: its",
        "  FrameProtocol alone; codec: FrameCodec alone; framer: wamp_core.WebSocket",
        "  send_message()+data_to_send() / receive_data().",
        "- websockets: "
        + (
            f"websockets {env['websockets']} sans-IO Protocol (C masking), frames not messages."
            if env["websockets"]
            else "not installed (optional; `-` in its column)."
        ),
    ]
    print("\n".join(out))

    if opts.json:
        report = {
            "environment": env,
            "method": {
                "repeat": repeat,
                "target_seconds_per_repeat": target,
                "timer": "timeit, gc disabled while timing, cells interleaved per repeat",
                "unit": "microseconds per message",
            },
            "cells": [
                {
                    "message": c.sample,
                    "impl": c.impl,
                    "op": c.op,
                    "number": c.number,
                    "min_us": results.time(c.key, "min"),
                    "median_us": results.time(c.key, "median"),
                    "times_us": [t * 1e6 for t in c.times],
                }
                for c in cells
            ],
        }
        with open(opts.json, "w", encoding="utf-8") as fp:
            json.dump(report, fp, indent=2)
            fp.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
