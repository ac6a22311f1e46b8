"""What idling between two calls does to the CPU cost of the same work (why sequential calls
through a router cost a client several times what ``roundtrip.py`` measures).

A sequential call through a router leaves the client idle for the router's round trip (~0.6 ms
here) before the RESULT arrives; the work that follows runs with cold caches (and, on a virtual
machine, whatever the host did meanwhile). This script times the same in-memory caller-side
RPC as ``roundtrip.py`` (CALL out, RESULT in, RawSocket + msgpack, one call per chunk), call by
call, back to back and after sleeping ``--gap-us`` before each call, for ``wamp_core`` and
(when installed) wampproto's session core. No network: only the gap differs.

Each call is timed with ``time.thread_time_ns`` around it; the same two clock reads around
nothing, with the same gap, are measured too and subtracted (reading a CPU clock is a system
call here). Figures: median us of CPU per call over ``--calls`` calls, per round. Run from the
repository root::

    .venv/bin/python benchmarks/idle_gap.py [--calls 2000] [--gap-us 700] [--rounds 3]
        [--quick] [--json PATH]

Speed is measured and reported, never asserted: the script exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import roundtrip as rt


def _ours(bench: rt.Bench) -> Callable[[Any], None]:
    client = rt.OurClient.joined("rawsocket", "msgpack", bench.setup_frames("rawsocket", "msgpack"))
    conn = client.conn
    call, send, receive = conn.session.call, conn.data_to_send, conn.receive_data

    def one(chunk: bytes) -> None:
        call(rt.PROCEDURE, rt.CALL_ARGS, rt.CALL_KWARGS)
        send()
        for _ in receive(chunk):
            pass

    return one


def _wampproto(bench: rt.Bench, peers: rt.Peers) -> Callable[[Any], None]:
    client = rt.WampprotoClient.joined(peers, "msgpack", bench.scripts["msgpack"])
    send, receive = client.session.send_message, client.session.receive
    call, fields, next_id = client.msgs.Call, client.msgs.CallFields, client.ids.next

    def one(chunk: list[Any]) -> None:
        send(call(fields(next_id(), rt.PROCEDURE, args=rt.CALL_ARGS, kwargs=rt.CALL_KWARGS)))
        for data in chunk:
            receive(data)

    return one


def _nothing(_chunk: Any) -> None:
    return None


def time_calls(one: Callable[[Any], None], chunks: list[Any], gap_s: float) -> float:
    """Median us of thread CPU time per ``one(chunk)``, sleeping ``gap_s`` before each."""
    clock, sleep = time.thread_time_ns, time.sleep
    samples: list[int] = []
    gc.collect()
    gc.disable()
    try:
        for chunk in chunks:
            if gap_s:
                sleep(gap_s)
            t0 = clock()
            one(chunk)
            samples.append(clock() - t0)
    finally:
        gc.enable()
    return statistics.median(samples) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--gap-us", type=float, default=700.0, help="idle time before a call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 calls, 1 round")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 200, 1
    bench = rt.Bench(rt.Peers(), args.calls, ["msgpack"])
    ours_chunks = bench.chunks(rt.Cell("rpc-caller", "rawsocket", "msgpack", 1, "ours"))
    peers = rt.load_peers()
    clients: dict[str, tuple[Callable[[], Callable[[Any], None]], list[Any]]] = {
        "wamp_core": (lambda: _ours(bench), ours_chunks),
    }
    if "wampproto" not in peers.missing:
        wp_chunks = bench.chunks(rt.Cell("rpc-caller", None, "msgpack", 1, "wampproto"))
        clients["wampproto"] = (lambda: _wampproto(bench, peers), wp_chunks)
    else:
        print(f"wampproto: not measured ({peers.missing['wampproto']})")
    gaps = {"back to back": 0.0, "after a gap": args.gap_us / 1e6}
    print(
        f"caller-side RPC in memory (RawSocket + msgpack), us of CPU per call, median of "
        f"{args.calls}; gap {args.gap_us:.0f} us; clock reads subtracted"
    )
    results: list[dict[str, Any]] = []
    for r in range(args.rounds):
        for name, (make, chunks) in clients.items():
            cells = []
            for label, gap in gaps.items():
                clock_cost = time_calls(_nothing, chunks, gap)
                cost = time_calls(make(), chunks, gap) - clock_cost
                cells.append((label, cost))
            warm, idle = cells[0][1], cells[1][1]
            results.append({"round": r + 1, "client": name, "warm_us": warm, "idle_us": idle})
            print(
                f"round {r + 1} {name:10s} back to back {warm:6.2f}  after a gap {idle:6.2f}"
                f"  ({idle / warm:4.1f}x)"
            )
            sys.stdout.flush()
    if args.json is not None:
        method = {"calls": args.calls, "gap_us": args.gap_us, "rounds": args.rounds}
        report = {"method": method, "results": results}
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
