"""Many sessions on one router: join time, memory per idle session, fan-out rate, and how
they grow with the number of sessions.

The router runs as its own process: the embedded router (``python -m wamp_anyio.router
--listen rs://127.0.0.1:0``), with ``--router crossbar`` Crossbar.io (its controller and
worker: memory and CPU are summed over its process group), or with ``--router xconn``
xconn-python's router (``benchmarks/_xconn_router.py``: aiohttp, WebSocket only). RawSocket +
msgpack (``--transport websocket``: WebSocket + msgpack, which xconn's router always gets). This
process joins N sessions with ``wamp_anyio``
(one after another, each ``wamp_anyio.connect`` entered into one ``AsyncExitStack``) and reports:

* the time to join them all (connect + RawSocket/WebSocket handshake + HELLO/WELCOME, one at
  a time);
* memory per idle joined session: the RSS growth (``VmRSS`` in ``/proc/PID/status``) of this
  process and of the router process over the N joins, divided by N (a warm-up session is joined
  and left first, so imports and one-time allocations are not counted);
* fan-out: every session subscribes to one topic, one more session publishes M events to it,
  and the deliveries the N handlers count are divided by the wall time from the first publish to
  the last delivery (events/s delivered), with the CPU time of both processes per delivery.
  This is repeated ``--fanout-rounds`` times (default 3) on the same sessions: the best round's
  rate is reported (and the median round's), and the least CPU per delivery, as ``driver.py``
  reports its best rounds (one burst of about a second is at the mercy of a shared machine).
  Every wait is bounded: deliveries still missing when none has arrived for ``--quiet`` s (or
  after 120 s in all) are reported as lost, not waited for (xconn's router can lose events in
  bursts); the rate is then over the deliveries made, up to the last one.

``--sizes 1,10,100,1000`` repeats the measurement for each N on the same router (the sessions
of one size leave before the next joins): CPU per delivery and join time against N.

    .venv/bin/python benchmarks/scale.py                 # N = 1000 sessions, 100 events
    .venv/bin/python benchmarks/scale.py --quick         # N = 50, 20 events: smoke run
    .venv/bin/python benchmarks/scale.py -n 2000 --events 50 --json out.json
    .venv/bin/python benchmarks/scale.py --sizes 1,10,100,1000 --router crossbar
    .venv/bin/python benchmarks/scale.py --sizes 1,10,100,1000 --router xconn
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

import wamp_anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _proc_cpu import _pgrp, group_cpu_ns  # noqa: E402
from _timing import table_lines  # noqa: E402
from _xconn_router import xconn_router  # noqa: E402

from crossbar import CrossbarRouter  # noqa: E402

TOPIC = "bench.scale"
#: Bound of the fan-out (publishing and every delivery), and of subscribing all N sessions.
DELIVERY_TIMEOUT = 120.0
#: Deliveries missing after this many seconds without one are counted as lost (default).
QUIET_TIMEOUT = 5.0
#: Fan-outs per N (on the same sessions): the best round's rate is reported, as driver.py's.
FANOUT_ROUNDS = 3
TRANSPORT_NAMES = {"rawsocket": "RawSocket", "websocket": "WebSocket"}


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS``, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class Router:
    """The router process(es): ``url``; memory and CPU of its process or process group."""

    def __init__(self, url: str, pid: int, group: bool) -> None:
        self.url, self.pid, self.group = url, pid, group

    def transport(self) -> dict[str, Any]:
        """The client's transport to ``url`` (msgpack)."""
        if self.url.startswith("ws://"):
            return {"type": "websocket", "url": self.url, "serializers": ["msgpack"]}
        return {"type": "rawsocket", "url": self.url, "serializer": "msgpack"}

    def _pids(self) -> list[int]:
        if not self.group:
            return [self.pid]
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and _pgrp(int(p)) == self.pid]

    def rss_kib(self) -> int:
        total = 0
        for pid in self._pids():
            with contextlib.suppress(OSError, RuntimeError):
                total += rss_kib(pid)
        return total

    def cpu_ns(self) -> int:
        return group_cpu_ns(self.pid, group=self.group)


@contextlib.contextmanager
def crossbar_router(transport: str = "rawsocket") -> Any:
    """Crossbar.io (the test harness's configuration), yielding a :class:`Router`."""
    with CrossbarRouter() as crossbar:
        assert crossbar.pid is not None
        url = crossbar.ws_url if transport == "websocket" else crossbar.rs_url
        yield Router(url, crossbar.pid, group=True)


@contextlib.contextmanager
def xconn_router_process() -> Any:
    """xconn's router (``benchmarks/_xconn_router.py``, one process), yielding a
    :class:`Router` on its WebSocket URL."""
    with xconn_router() as (url, pid):
        yield Router(url, pid, group=False)


def _raise_fd_limit(need: int) -> None:
    """Each session is one socket here and one in the router (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@contextlib.contextmanager
def embedded_router(backend: str, transport: str = "rawsocket") -> Any:
    """Start ``python -m wamp_anyio.router`` on a free port; yield a :class:`Router`."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wamp_anyio.router",
            "--listen",
            "ws://127.0.0.1:0/ws" if transport == "websocket" else "rs://127.0.0.1:0",
            "--backend",
            backend,
            # as Crossbar's test config: the publisher disclosed on every EVENT (about 80
            # bytes of Details more per delivery, for the router and every subscriber)
            "--disclose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the embedded router did not start: {line!r}")
        yield Router(line.removeprefix("listening on "), proc.pid, group=False)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def run_sizes(
    router: Router,
    sizes: Sequence[int],
    events: int,
    quiet: float = QUIET_TIMEOUT,
    fanout_rounds: int = FANOUT_ROUNDS,
) -> list[dict[str, Any]]:
    return [await run_scale(router, n, events, quiet, fanout_rounds) for n in sizes]


class _Counter:
    """The deliveries of one fan-out round: how many, the last one's time, all of them in."""

    def __init__(self, target: int = 0) -> None:
        self.target = target
        self.received = 0
        self.last = 0.0
        self.all_in = anyio.Event()

    def delivered(self) -> None:
        self.received += 1
        self.last = time.perf_counter()
        if self.received == self.target:
            self.all_in.set()


async def _fan_out(
    router: Router,
    publisher: wamp_anyio.Session,
    counter: _Counter,
    *,
    first: int,
    events: int,
    quiet: float,
) -> dict[str, Any]:
    """Publish ``events`` events (numbered from ``first``) and wait for ``counter``'s target
    deliveries; the round's figures."""
    published, error, ended_by = 0, None, "deadline"
    router_cpu0 = router.cpu_ns()
    client_cpu0 = time.process_time_ns()
    started = time.perf_counter()
    with anyio.move_on_after(DELIVERY_TIMEOUT):
        try:
            for i in range(first, first + events):
                await publisher.publish(TOPIC, i)
                published += 1
        except Exception as exc:  # the router took the publisher's session down: say so
            error = f"publisher: {type(exc).__name__}: {exc}"
        while not counter.all_in.is_set():
            seen = counter.received
            with anyio.move_on_after(quiet):
                await counter.all_in.wait()
            if counter.received == seen:
                break  # none for `quiet` s: the rest is lost
        ended_by = "complete" if counter.all_in.is_set() else "quiet"
    ended = time.perf_counter()
    received = counter.received
    fanout_s = (counter.last if received else ended) - started
    client_cpu = time.process_time_ns() - client_cpu0
    router_cpu = router.cpu_ns() - router_cpu0
    return {
        "published": published,
        "deliveries": received,
        "lost": counter.target - received,
        "ended_by": ended_by,  # complete, quiet (none for quiet_s) or deadline
        "error": error,
        "fanout_s": fanout_s,
        "waited_s": ended - started,  # fan-out plus the wait for lost deliveries
        "events_per_s": received / fanout_s,
        "client_cpu_us_per_delivery": client_cpu / 1e3 / max(received, 1),
        "router_cpu_us_per_delivery": router_cpu / 1e3 / max(received, 1),
    }


async def run_scale(
    router: Router,
    n: int,
    events: int,
    quiet: float = QUIET_TIMEOUT,
    fanout_rounds: int = FANOUT_ROUNDS,
) -> dict[str, Any]:
    """Join ``n`` sessions to the router, measure, fan out ``events`` events
    ``fanout_rounds`` times; the numbers.

    Deliveries still missing after ``quiet`` s without one (or :data:`DELIVERY_TIMEOUT` s in
    all) are counted as lost; a publisher failing mid-burst is reported in ``fanout_error``."""
    transport = router.transport()
    async with wamp_anyio.connect(transport) as warmup:  # imports, first-use allocations
        await warmup.subscribe(lambda *_: None, TOPIC)
        with anyio.fail_after(DELIVERY_TIMEOUT):
            await warmup.publish(TOPIC, 0, options=wamp_anyio.PublishOptions(acknowledge=True))
    gc.collect()
    await anyio.sleep(0.2)
    client_before, router_before = rss_kib(), router.rss_kib()

    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        sessions = [
            await stack.enter_async_context(wamp_anyio.connect(transport)) for _ in range(n)
        ]  # (each join is bounded by the transport's timeout)
        join_s = time.perf_counter() - started
        gc.collect()
        await anyio.sleep(0.2)  # let the router finish its side of the last join
        client_after, router_after = rss_kib(), router.rss_kib()

        subscriptions = []
        current = 0  # the fan-out round whose events count (a late one of an earlier does not)
        counter = _Counter()  # (each round's own, below)

        def on_event(i: int) -> None:
            if i // events == current:
                counter.delivered()

        started = time.perf_counter()
        with anyio.fail_after(DELIVERY_TIMEOUT):
            async with anyio.create_task_group() as tg:

                async def subscribe(session: wamp_anyio.Session) -> None:
                    subscriptions.append(await session.subscribe(on_event, TOPIC))

                for session in sessions:
                    tg.start_soon(subscribe, session)
        subscribe_s = time.perf_counter() - started

        publisher = await stack.enter_async_context(wamp_anyio.connect(transport))
        runs = []
        for current in range(fanout_rounds):
            counter = _Counter(n * events)
            runs.append(
                await _fan_out(
                    router, publisher, counter, first=current * events, events=events, quiet=quiet
                )
            )
            if runs[-1]["error"]:  # the publisher is gone: no next round
                break
        dropped = sum(s.dropped for s in subscriptions)

        started = time.perf_counter()
    leave_s = time.perf_counter() - started  # leaving every session (GOODBYE) and closing

    return {
        "sessions": n,
        "events": events,
        "transport": transport["type"],
        "serializer": "msgpack",
        "join_s": join_s,
        "joins_per_s": n / join_s,
        "join_ms_per_session": 1e3 * join_s / n,
        "client_rss_kib": {"before": client_before, "after": client_after},
        "router_rss_kib": {"before": router_before, "after": router_after},
        "client_kib_per_session": (client_after - client_before) / n,
        "router_kib_per_session": (router_after - router_before) / n,
        "subscribe_s": subscribe_s,
        "fanout_rounds": runs,
        # over the rounds: every delivery and loss; the best round's rate (and the median),
        # the least CPU per delivery (as driver.py's figures: the minimums are the ones to
        # trust on a shared machine)
        "published": sum(r["published"] for r in runs),
        "deliveries_expected": n * events * len(runs),
        "deliveries": sum(r["deliveries"] for r in runs),
        "lost": sum(r["lost"] for r in runs),
        "dropped": dropped,
        "fanout_ended_by": next(
            (r["ended_by"] for r in runs if r["ended_by"] != "complete"), "complete"
        ),
        "quiet_s": quiet,
        "fanout_error": next((r["error"] for r in runs if r["error"]), None),
        "fanout_s": min(r["fanout_s"] for r in runs),
        "waited_s": sum(r["waited_s"] for r in runs),
        "events_per_s": max(r["events_per_s"] for r in runs),
        "events_per_s_median": statistics.median(r["events_per_s"] for r in runs),
        "client_cpu_us_per_delivery": min(r["client_cpu_us_per_delivery"] for r in runs),
        "router_cpu_us_per_delivery": min(r["router_cpu_us_per_delivery"] for r in runs),
        "leave_s": leave_s,
    }


def report(result: dict[str, Any]) -> list[str]:
    n = result["sessions"]
    rows = [
        [
            "join all",
            f"{result['join_s']:.2f} s",
            f"{result['join_ms_per_session']:.2f} ms per session, {result['joins_per_s']:.0f}/s",
        ],
        [
            "memory, client",
            f"{result['client_kib_per_session']:.1f} KiB/session",
            f"RSS {result['client_rss_kib']['before'] / 1024:.1f} -> "
            f"{result['client_rss_kib']['after'] / 1024:.1f} MiB",
        ],
        [
            "memory, router",
            f"{result['router_kib_per_session']:.1f} KiB/session",
            f"RSS {result['router_rss_kib']['before'] / 1024:.1f} -> "
            f"{result['router_rss_kib']['after'] / 1024:.1f} MiB",
        ],
        ["subscribe all", f"{result['subscribe_s']:.2f} s", "concurrently, one topic"],
        [
            "fan-out",
            f"{result['events_per_s']:.0f} events/s",
            f"best of {len(result['fanout_rounds'])} rounds (median "
            f"{result['events_per_s_median']:.0f}/s), each {result['events']} events x {n}: "
            f"{result['deliveries']}/"
            f"{result['deliveries_expected']} delivered, {result['lost']} lost, "
            f"{result['dropped']} dropped",
        ],
        [
            "CPU per delivery",
            f"{result['client_cpu_us_per_delivery']:.1f} us client",
            f"{result['router_cpu_us_per_delivery']:.1f} us router (min over the rounds)",
        ],
        ["leave all", f"{result['leave_s']:.2f} s", "GOODBYE and close, one at a time"],
    ]
    return [
        f"SCALE: {n} wamp_anyio sessions ({result['backend']}) in one process, "
        f"{result['router']} router in another ({_wire(result)})",
        *table_lines(["measure", "value", "detail"], rows, left=3),
        *_lost_notes([result]),
    ]


def _wire(result: dict[str, Any]) -> str:
    return f"{TRANSPORT_NAMES[result['transport']]} + {result['serializer']}"


def _lost_notes(results: Sequence[dict[str, Any]]) -> list[str]:
    """What happened where deliveries are missing (not silently: the rate is over the rest)."""
    notes = []
    for r in results:
        if r["lost"] or r["fanout_error"]:
            why = (
                f"none arrived for {r['quiet_s']:g} s after the last one"
                if r["fanout_ended_by"] == "quiet"
                else f"the {DELIVERY_TIMEOUT:g} s bound was reached"
            )
            notes.append(
                f"N = {r['sessions']}: {r['lost']} of {r['deliveries_expected']} deliveries "
                f"lost ({r['published']}/{r['events'] * len(r['fanout_rounds'])} events "
                f"published; {why}; events/s and CPU are over the {r['deliveries']} made)"
                + (f"; {r['fanout_error']}" if r["fanout_error"] else "")
            )
    return notes


def sweep_report(results: Sequence[dict[str, Any]]) -> list[str]:
    rows = [
        [
            str(r["sessions"]), f"{r['join_ms_per_session']:.2f}",
            f"{r['client_kib_per_session']:.1f}", f"{r['router_kib_per_session']:.1f}",
            f"{r['events_per_s']:.0f}", f"{r['client_cpu_us_per_delivery']:.1f}",
            f"{r['router_cpu_us_per_delivery']:.1f}",
            str(r["deliveries_expected"] - r["deliveries"]),
        ]
        for r in results
    ]  # fmt: skip
    return [
        f"SCALE SWEEP: the same measures for each N ({results[0]['router']} router, "
        f"{_wire(results[0])})",
        *table_lines(
            [
                "sessions",
                "join ms/session",
                "client KiB/session",
                "router KiB/session",
                "events/s (best)",
                "client us/delivery",
                "router us/delivery",
                "lost",
            ],
            rows,
            left=1,
        ),
        *_lost_notes(results),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 50, 20 events")
    parser.add_argument("-n", type=int, help="sessions (default 1000, quick 50)")
    parser.add_argument("--events", type=int, help="events published (default 100, quick 20)")
    parser.add_argument(
        "--backend",
        choices=("asyncio", "trio"),
        default="asyncio",
        help="anyio backend of the clients and the router (default asyncio)",
    )
    parser.add_argument("--router", choices=("embedded", "crossbar", "xconn"),
                        default="embedded", help="the router (default embedded)")  # fmt: skip
    parser.add_argument(
        "--transport",
        choices=("rawsocket", "websocket"),
        help="default rawsocket; websocket for xconn (the only one it serves)",
    )
    parser.add_argument("--quiet", type=float,
                        help=f"deliveries missing after this many s without one are lost "
                             f"(default {QUIET_TIMEOUT:g}, quick 2)")  # fmt: skip
    parser.add_argument("--sizes", help="comma-separated N to sweep (e.g. 1,10,100,1000)")
    parser.add_argument("--fanout-rounds", type=int,
                        help=f"fan-outs per N, the best rate reported (default {FANOUT_ROUNDS},"
                             " quick 2)")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    opts = parser.parse_args(argv)
    n = opts.n or (50 if opts.quick else 1000)
    sizes = [int(x) for x in opts.sizes.split(",")] if opts.sizes else [n]
    events = opts.events or (20 if opts.quick else 100)
    quiet = opts.quiet or (2.0 if opts.quick else QUIET_TIMEOUT)
    rounds = opts.fanout_rounds or (2 if opts.quick else FANOUT_ROUNDS)
    transport = opts.transport or ("websocket" if opts.router == "xconn" else "rawsocket")
    if opts.router == "xconn" and transport != "websocket":
        parser.error("xconn's router serves WebSocket only")
    _raise_fd_limit(2 * max(sizes) + 256)
    with contextlib.ExitStack() as stack:
        if opts.router == "crossbar":
            router = stack.enter_context(crossbar_router(transport))
        elif opts.router == "xconn":
            router = stack.enter_context(xconn_router_process())
        else:
            router = stack.enter_context(embedded_router(opts.backend, transport))
        results = anyio.run(run_sizes, router, sizes, events, quiet, rounds, backend=opts.backend)
    for one in results:
        one["backend"], one["router"] = opts.backend, opts.router
    result = results[-1]
    print("\n".join(report(result)))
    if len(results) > 1:
        print()
        print("\n".join(sweep_report(results)))
    if opts.json:
        payload = {
            "environment": {
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
            },
            "method": {
                "transport": transport,
                "serializer": "msgpack",
                "memory": "VmRSS growth over the N joins / N",
                "router": opts.router,
                "quiet_s": quiet,
                "fanout_rounds": rounds,
                "events_per_s": "the best fan-out round's deliveries/s (events_per_s_median: "
                "the median round's); CPU per delivery: the least over the rounds",
                "lost": "deliveries still missing after quiet_s without one (or "
                f"{DELIVERY_TIMEOUT:g} s in all); events/s and CPU are over those made",
            },
            "result": result,
            "sweep": results,
        }
        Path(opts.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
