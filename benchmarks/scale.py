"""Many sessions on one embedded router: join time, memory per idle session, fan-out rate.

The embedded router runs as its own process (``python -m wamp_anyio.router --listen
rs://127.0.0.1:0``, RawSocket + msgpack). This process joins N sessions with ``wamp_anyio``
(one after another, each ``wamp_anyio.connect`` entered into one ``AsyncExitStack``) and reports:

* the time to join them all (connect + RawSocket handshake + HELLO/WELCOME, one at a time);
* memory per idle joined session: the RSS growth (``VmRSS`` in ``/proc/PID/status``) of this
  process and of the router process over the N joins, divided by N (a warm-up session is joined
  and left first, so imports and one-time allocations are not counted);
* fan-out: every session subscribes to one topic, one more session publishes M events to it,
  and the deliveries the N handlers count are divided by the wall time from the first publish to
  the last delivery (events/s delivered), with the CPU time of both processes per delivery.

    .venv/bin/python benchmarks/scale.py                 # N = 1000 sessions, 100 events
    .venv/bin/python benchmarks/scale.py --quick         # N = 50, 20 events: smoke run
    .venv/bin/python benchmarks/scale.py -n 2000 --events 50 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
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

from _proc_cpu import group_cpu_ns  # noqa: E402
from _timing import table_lines  # noqa: E402

TOPIC = "bench.scale"
DELIVERY_TIMEOUT = 120.0


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS``, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _raise_fd_limit(need: int) -> None:
    """Each session is one socket here and one in the router (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@contextlib.contextmanager
def embedded_router(backend: str) -> Any:
    """Start ``python -m wamp_anyio.router`` on a free port; yield ``(url, pid)``."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wamp_anyio.router",
            "--listen",
            "rs://127.0.0.1:0",
            "--backend",
            backend,
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
        yield line.removeprefix("listening on "), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def run_scale(url: str, router_pid: int, n: int, events: int) -> dict[str, Any]:
    """Join ``n`` sessions to ``url``, measure, fan out ``events`` events; the numbers."""
    transport = {"type": "rawsocket", "url": url, "serializer": "msgpack"}
    async with wamp_anyio.connect(transport) as warmup:  # imports, first-use allocations
        await warmup.subscribe(lambda *_: None, TOPIC)
        await warmup.publish(TOPIC, 0, options=wamp_anyio.PublishOptions(acknowledge=True))
    gc.collect()
    await anyio.sleep(0.2)
    client_before, router_before = rss_kib(), rss_kib(router_pid)

    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        sessions = [
            await stack.enter_async_context(wamp_anyio.connect(transport)) for _ in range(n)
        ]
        join_s = time.perf_counter() - started
        gc.collect()
        await anyio.sleep(0.2)  # let the router finish its side of the last join
        client_after, router_after = rss_kib(), rss_kib(router_pid)

        received = 0
        target = n * events
        all_in = anyio.Event()

        def on_event(_i: int) -> None:
            nonlocal received
            received += 1
            if received == target:
                all_in.set()

        subscriptions = []
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:

            async def subscribe(session: wamp_anyio.Session) -> None:
                subscriptions.append(await session.subscribe(on_event, TOPIC))

            for session in sessions:
                tg.start_soon(subscribe, session)
        subscribe_s = time.perf_counter() - started

        publisher = await stack.enter_async_context(wamp_anyio.connect(transport))
        router_cpu0 = group_cpu_ns(router_pid, group=False)
        client_cpu0 = time.process_time_ns()
        started = time.perf_counter()
        for i in range(events):
            await publisher.publish(TOPIC, i)
        with anyio.move_on_after(DELIVERY_TIMEOUT):
            await all_in.wait()
        fanout_s = time.perf_counter() - started
        client_cpu = time.process_time_ns() - client_cpu0
        router_cpu = group_cpu_ns(router_pid, group=False) - router_cpu0
        dropped = sum(s.dropped for s in subscriptions)

        started = time.perf_counter()
    leave_s = time.perf_counter() - started  # leaving every session (GOODBYE) and closing

    return {
        "sessions": n,
        "events": events,
        "join_s": join_s,
        "joins_per_s": n / join_s,
        "join_ms_per_session": 1e3 * join_s / n,
        "client_rss_kib": {"before": client_before, "after": client_after},
        "router_rss_kib": {"before": router_before, "after": router_after},
        "client_kib_per_session": (client_after - client_before) / n,
        "router_kib_per_session": (router_after - router_before) / n,
        "subscribe_s": subscribe_s,
        "deliveries_expected": target,
        "deliveries": received,
        "dropped": dropped,
        "fanout_s": fanout_s,
        "events_per_s": received / fanout_s,
        "client_cpu_us_per_delivery": client_cpu / 1e3 / max(received, 1),
        "router_cpu_us_per_delivery": router_cpu / 1e3 / max(received, 1),
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
            f"{result['deliveries']}/{result['deliveries_expected']} delivered "
            f"({result['events']} events x {n}), {result['dropped']} dropped, "
            f"{result['fanout_s']:.2f} s",
        ],
        [
            "CPU per delivery",
            f"{result['client_cpu_us_per_delivery']:.1f} us client",
            f"{result['router_cpu_us_per_delivery']:.1f} us router",
        ],
        ["leave all", f"{result['leave_s']:.2f} s", "GOODBYE and close, one at a time"],
    ]
    return [
        f"SCALE: {n} wamp_anyio sessions ({result['backend']}) in one process, embedded router "
        "in another (RawSocket + msgpack)",
        *table_lines(["measure", "value", "detail"], rows, left=3),
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
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    opts = parser.parse_args(argv)
    n = opts.n or (50 if opts.quick else 1000)
    events = opts.events or (20 if opts.quick else 100)
    _raise_fd_limit(2 * n + 256)
    with embedded_router(opts.backend) as (url, pid):
        result = anyio.run(run_scale, url, pid, n, events, backend=opts.backend)
    result["backend"] = opts.backend
    print("\n".join(report(result)))
    if opts.json:
        payload = {
            "environment": {
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
            },
            "method": {
                "transport": "rawsocket",
                "serializer": "msgpack",
                "memory": "VmRSS growth over the N joins / N",
                "router": "embedded",
            },
            "result": result,
        }
        Path(opts.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
