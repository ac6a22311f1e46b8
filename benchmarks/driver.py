"""Client CPU per call, per event and per invocation through one router: wamp_anyio (asyncio,
trio) and wamp_trio vs Autobahn|Python.

One router on loopback (Crossbar.io, or ``--router embedded``: ours); a fixed peer process
(our client) registers ``bench.echo``, publishes bursts on ``bench.topic`` and calls the
measured client's procedure (``bench.drive``). Each measured client runs in its own process and
reports the CPU time (user + system) of that process per operation, over the measured
operations only: sequential calls, calls with 100 in flight, events received from a burst by 1
subscriber (``events``) or by 10 subscriber sessions of the measured client in its process
(``events10``: figures per received event, 10 per published one), and invocations the measured
client answers as a callee (``callee``: a plain function, ``callee_async``: an ``async def``;
the peer calls, 100 in flight).
Cells run in a shuffled order on every round so they share the machine's load; each figure is
the minimum (and median) over rounds (calls in flight, the noisiest cells: :data:`INFLIGHT_SCALE`
times the operations, :data:`INFLIGHT_REPEATS` samples per round). The floor is a bare TCP echo
of a 40-byte message (no WAMP, no router) on each backend, one at a time and 100 in flight, and
every sequential and in-flight figure is also shown as a multiple of it; the floor through the
router is the least any
client on a backend can spend per sequential call through this router (pre-encoded CALL frames,
any reply bytes awaited: the event loop's wake-ups and the system calls, no WAMP work). On this
2-core machine the router and the peer use the other core, so the client's CPU per operation,
not the rate, is the figure that shows its cost.

    .venv/bin/python benchmarks/driver.py                 # 3 rounds, 2000 ops per cell
                                                          # (in flight: 2 x 4000 per round)
    .venv/bin/python benchmarks/driver.py --quick         # smoke run
    .venv/bin/python benchmarks/driver.py --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _proc_cpu import group_cpu_ns  # noqa: E402
from _timing import table_lines  # noqa: E402
from _xconn_router import xconn_router  # noqa: E402

from crossbar import CrossbarRouter  # noqa: E402
from embedded import EmbeddedRouter  # noqa: E402

PEERS = str(ROOT / "benchmarks" / "_driver_peers.py")
CLIENTS = (
    ("ours", "asyncio"), ("ours", "uvloop"), ("ours", "trio"), ("ours", "wamp_trio"),
    ("core", "blocking"), ("autobahn", "asyncio"), ("xconn", "asyncio"),
)  # fmt: skip
TRANSPORTS = ("rawsocket", "websocket")
#: Event loops the bare echo floor is measured on.
FLOOR_BACKENDS = ("asyncio", "trio")
#: Event loops the floor through the router is measured on (see ``_driver_peers.router_floor``).
ROUTER_FLOOR_BACKENDS = ("asyncio", "uvloop", "trio", "blocking")
MODES = ("seq", "inflight", "events", "events10", "callee", "callee_async")
#: The clients measured as callees (``callee`` modes: the peer calls them, 100 in flight).
CALLEE_CLIENTS = ("ours", "autobahn")
#: Calls in flight are the noisiest cells (a few hundred ms each, the ramp-down at the end
#: weighs): they run this many times the operations, this many times per round.
INFLIGHT_SCALE = 2
INFLIGHT_REPEATS = 2
TIMEOUT = 180.0

Key = tuple[str, str, str, str]  # client, backend, transport or "tcp", mode


#: How to read the router's CPU time (nanoseconds so far), when the router runs here.
RouterCpu = Callable[[], int] | None


def _run(argv: Sequence[str], router_cpu: RouterCpu = None) -> dict[str, float]:
    """One measured client process; its result, with the router's CPU per operation over the
    same span (``router_us``) when ``router_cpu`` is given. The client dies of its own
    ``DEADLINE``; if it did not, it is killed after :data:`TIMEOUT` seconds."""
    proc = subprocess.Popen(
        [sys.executable, PEERS, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    started = 0
    watchdog = threading.Timer(TIMEOUT, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "start" and router_cpu is not None:
                started = router_cpu()
            elif line.startswith("{"):
                result: dict[str, float] = json.loads(line)
                if router_cpu is not None and started:
                    ops = result.get("ops") or int(argv[-1])  # (events10: events received)
                    result["router_us"] = (router_cpu() - started) / 1e3 / ops
                proc.wait(timeout=TIMEOUT)
                return result
        proc.wait(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    raise RuntimeError(f"{argv} printed no result:\n{''.join(lines)}\n{stderr[-2000:]}")


def _available(client: str, backend: str) -> bool:
    """Whether the optional client (Autobahn, xconn, uvloop: the bench extra) is installed."""
    module = {"autobahn": "autobahn", "xconn": "xconn"}.get(client)
    if client == "routerfloor" and backend == "trio":
        module = "trio"
    if backend == "uvloop":
        module = "uvloop"
    return module is None or importlib.util.find_spec(module) is not None


def measure(
    rounds: int,
    n: int,
    modes: Sequence[str] = MODES,
    urls: dict[str, str] | None = None,
    router_kind: str = "crossbar",
    *,
    more_inflight: bool = True,
    seed: int = 0,
) -> dict[Key, list[dict[str, float]]]:
    """Every cell ``rounds`` times, in an order shuffled anew each round (from ``seed``: give
    the same to repeat a run's order); through ``urls`` (rawsocket/websocket) if given, else
    through a router started here (``router_kind``: crossbar, embedded, or xconn's router,
    which serves WebSocket only). ``more_inflight``: calls in flight with
    :data:`INFLIGHT_SCALE` times the operations, :data:`INFLIGHT_REPEATS` times per round."""
    scale, repeats = (INFLIGHT_SCALE, INFLIGHT_REPEATS) if more_inflight else (1, 1)
    with contextlib.ExitStack() as stack:
        if urls is None:
            router_cpu: RouterCpu
            if router_kind == "xconn":
                # Calls only: under xconn 0.5.1's router an event burst lost events now and
                # then here (the subscriber waited for ever), and a subscriber gone mid-burst
                # took the publishing peer's session down with it.
                url, pid = stack.enter_context(xconn_router())
                calls = [mode for mode in modes if mode in ("seq", "inflight")]
                return _measure(rounds, n, calls, {"websocket": url},
                                lambda: group_cpu_ns(pid, group=False),
                                scale=scale, repeats=repeats, seed=seed)  # fmt: skip
            router: CrossbarRouter | EmbeddedRouter
            if router_kind == "embedded":
                embedded = stack.enter_context(EmbeddedRouter())
                pid = embedded.pid
                router, router_cpu = embedded, lambda: group_cpu_ns(pid, group=False)
            else:
                crossbar = stack.enter_context(CrossbarRouter())
                group = crossbar.pid
                assert group is not None
                router, router_cpu = crossbar, lambda: group_cpu_ns(group, group=True)
            urls = {"rawsocket": router.rs_url, "websocket": router.ws_url}
            return _measure(
                rounds, n, modes, urls, router_cpu, scale=scale, repeats=repeats, seed=seed
            )
        return _measure(rounds, n, modes, urls, None, scale=scale, repeats=repeats, seed=seed)


def _measure(
    rounds: int, n: int, modes: Sequence[str], urls: dict[str, str], router_cpu: RouterCpu,
    *, scale: int, repeats: int, seed: int,
) -> dict[Key, list[dict[str, float]]]:  # fmt: skip
    results: dict[Key, list[dict[str, float]]] = {}
    clients = [c for c in CLIENTS if _available(*c)]
    peer = subprocess.Popen(
        [sys.executable, PEERS, "peer", urls.get("rawsocket") or urls["websocket"]],
        stdout=subprocess.PIPE,
        text=True,
    )
    echo = subprocess.Popen([sys.executable, PEERS, "echo"], stdout=subprocess.PIPE, text=True)
    try:
        assert peer.stdout is not None and echo.stdout is not None
        if peer.stdout.readline().strip() != "ready":
            raise RuntimeError("the benchmark peer did not start")
        port = echo.stdout.readline().strip()
        cells: list[tuple[Key, list[str]]] = [
            ((client, backend, transport, mode),
             [client, backend, transport, urls[transport], mode,
              str(n * scale if mode == "inflight" else n)])
            for client, backend in clients
            for transport in TRANSPORTS
            if transport in urls
            for mode in modes
            if not mode.startswith("callee") or client in CALLEE_CLIENTS
            for _ in range(repeats if mode == "inflight" else 1)
        ]  # fmt: skip
        cells += [
            (("floor", backend, "tcp", "seq"), ["floor", backend, port, str(n)])
            for backend in FLOOR_BACKENDS
        ]
        if "inflight" in modes:  # the same number in flight, bare
            cells += [
                (("floor", backend, "tcp", "inflight"),
                 ["floor", backend, port, str(n * scale), "inflight"])
                for backend in FLOOR_BACKENDS
                for _ in range(repeats)
            ]  # fmt: skip
        if "seq" in modes and "rawsocket" in urls:  # the floor through this router
            cells += [
                (("routerfloor", backend, "rawsocket", "seq"),
                 ["routerfloor", backend, urls["rawsocket"], str(n)])
                for backend in ROUTER_FLOOR_BACKENDS
                if _available("routerfloor", backend)
            ]  # fmt: skip
        for rnd in range(rounds):
            random.Random(seed + rnd).shuffle(cells)
            for key, argv in cells:
                results.setdefault(key, []).append(_run(argv, router_cpu))
            print(f"round {rnd + 1}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        for process in (peer, echo):
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    return results


def _stat(samples: list[dict[str, float]], field: str, stat: str) -> float:
    values = [s[field] for s in samples]
    if field == "rate":
        return max(values) if stat == "min" else statistics.median(values)
    return min(values) if stat == "min" else statistics.median(values)


#: Column names of the clients, in :data:`CLIENTS` order.
LABELS = {
    ("ours", "asyncio"): "ours asyncio", ("ours", "uvloop"): "ours uvloop",
    ("ours", "trio"): "ours trio", ("ours", "wamp_trio"): "wamp_trio",
    ("core", "blocking"): "core by hand",
    ("autobahn", "asyncio"): "autobahn", ("xconn", "asyncio"): "xconn",
}  # fmt: skip
AUTOBAHN = ("autobahn", "asyncio")


#: The modes the bare echo floor has (one at a time, and the same number in flight).
FLOOR_MODES = ("seq", "inflight")


def floor_min(results: dict[Key, list[dict[str, float]]], mode: str) -> float | None:
    """The least CPU per message of the bare echo in ``mode`` on any backend (min over rounds)."""
    lows = [
        _stat(samples, "cpu_us", "min")
        for backend in FLOOR_BACKENDS
        if (samples := results.get(("floor", backend, "tcp", mode)))
    ]
    return min(lows) if lows else None


def report(results: dict[Key, list[dict[str, float]]]) -> list[str]:
    lines: list[str] = []
    clients = [c for c in CLIENTS if any(k[:2] == c for k in results)]
    names = [LABELS[c] for c in clients]
    compared = [c for c in clients if c != AUTOBAHN]
    head = ["transport", "mode", "stat", *names, *(f"{LABELS[c]}/ab" for c in compared)]
    rows: list[list[str]] = []
    rate_rows: list[list[str]] = []
    router_rows: list[list[str]] = []
    for transport in TRANSPORTS:
        for mode in MODES:
            if not any((*c, transport, mode) in results for c in clients):
                continue
            for stat in ("min", "median"):
                values: dict[tuple[str, str], float | None] = {}
                rates: list[float | None] = []
                for client in clients:
                    samples = results.get((*client, transport, mode))
                    values[client] = _stat(samples, "cpu_us", stat) if samples else None
                    rates.append(_stat(samples, "rate", stat) if samples else None)
                ab = values.get(AUTOBAHN)
                ratios = [f"{v / ab:.2f}x" if (v := values[c]) and ab else "-" for c in compared]
                cells = [f"{v:.1f}" if (v := values[c]) else "-" for c in clients]
                rows.append([transport, mode, stat, *cells, *ratios])
                if stat == "min":
                    rate_rows.append([transport, mode, *(f"{r:.0f}" if r else "-" for r in rates)])
                    router_rows.append([transport, mode, *(
                        f"{_stat(samples, 'router_us', 'min'):.1f}"
                        if (samples := results.get((*c, transport, mode)))
                        and "router_us" in samples[0] else "-"
                        for c in clients
                    )])  # fmt: skip
    lines.append("CLIENT CPU us per operation (user + system; ratio = client / Autobahn)")
    lines.append("an operation: a call, or an event received (events10: 10 subscriber sessions "
                 "in the client's process, the events all 10 received), or an invocation "
                 "answered (callee: a plain-function handler, callee_async: async def; "
                 "the peer calls, 100 in flight)")  # fmt: skip
    lines += table_lines(head, rows, left=3)
    lines.append("")
    lines.append("RATE, operations per second (best round; events10: received, all 10 subscribers)")
    lines += table_lines(["transport", "mode", *names], rate_rows, left=2)
    lines.append("")
    if any(row[2:].count("-") < len(row) - 2 for row in router_rows):
        lines.append("ROUTER CPU us per operation (the router process tree, min over rounds; "
                     "a call or an event, with the peer's side of it), by client")  # fmt: skip
        lines += table_lines(["transport", "mode", *names], router_rows, left=2)
        lines.append("")
    floor_rows = []
    for mode in FLOOR_MODES:
        for backend in FLOOR_BACKENDS:
            samples = results.get(("floor", backend, "tcp", mode))
            if samples:
                floor_rows.append([backend, mode, *(f"{_stat(samples, 'cpu_us', s):.1f}"
                                                    for s in ("min", "median")),
                                   f"{_stat(samples, 'rate', 'min'):.0f}"])  # fmt: skip
    lines.append("FLOOR: bare TCP echo of a 40-byte message, one at a time (seq) or 100 in "
                 "flight, client CPU us per message (no WAMP, no router)")  # fmt: skip
    lines += table_lines(["backend", "mode", "min", "median", "best rate"], floor_rows, left=2)
    fraction_rows = []
    for transport in TRANSPORTS:
        for mode in FLOOR_MODES:
            low = floor_min(results, mode)
            if low is None:
                continue
            fraction_rows.append([transport, mode, *(
                f"{_stat(samples, 'cpu_us', 'min') / low:.1f}x"
                if (samples := results.get((*c, transport, mode))) else "-"
                for c in clients
            )])  # fmt: skip
    if fraction_rows:
        lines.append("")
        lines.append("CLIENT CPU / FLOOR: each client's min over the bare echo's (the cheaper "
                     "backend's) for the same mode: what the client costs in units of the "
                     "least this machine spends per message at all")  # fmt: skip
        lines += table_lines(["transport", "mode", *names], fraction_rows, left=2)
    ab_seq = results.get((*AUTOBAHN, "rawsocket", "seq"))
    router_floor_rows = []
    for backend in ROUTER_FLOOR_BACKENDS:
        samples = results.get(("routerfloor", backend, "rawsocket", "seq"))
        if samples:
            low = _stat(samples, "cpu_us", "min")
            ratio = f"{low / _stat(ab_seq, 'cpu_us', 'min'):.2f}x" if ab_seq else "-"
            router_floor_rows.append(
                [backend, f"{low:.1f}", f"{_stat(samples, 'cpu_us', 'median'):.1f}", ratio]
            )
    if router_floor_rows:
        lines.append("")
        lines.append(
            "FLOOR THROUGH THE ROUTER: sequential calls as CALL frames encoded beforehand, each "
            "waiting for any reply bytes (RawSocket; no WAMP work at all), client CPU us per "
            "call; ratio to Autobahn's rawsocket seq"
        )
        lines += table_lines(["backend", "min", "median", "/ab"], router_floor_rows, left=1)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short and noisy")
    parser.add_argument("--rounds", type=int, help="rounds (default 3, quick 1)")
    parser.add_argument("-n", type=int, help="operations per cell (default 2000, quick 200)")
    parser.add_argument("--modes", help=f"comma-separated, of: {', '.join(MODES)}")
    parser.add_argument("--router", choices=("crossbar", "embedded", "xconn"), default="crossbar",
                        help="the router to start (default crossbar)")  # fmt: skip
    parser.add_argument("--rs-url", help="use this router's RawSocket URL (with --ws-url)")
    parser.add_argument("--ws-url", help="use this router's WebSocket URL (with --rs-url)")
    parser.add_argument("--json", metavar="PATH", help="also write every sample to PATH")
    parser.add_argument("--seed", type=int, help="the cells' order (default: new each run)")
    opts = parser.parse_args(argv)
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1 << 32)
    rounds = opts.rounds or (1 if opts.quick else 3)
    n = opts.n or (200 if opts.quick else 2000)
    n -= n % 100  # calls in flight come in 100 workers
    modes = opts.modes.split(",") if opts.modes else MODES
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    if bool(opts.rs_url) != bool(opts.ws_url):
        parser.error("--rs-url and --ws-url go together")
    urls = {"rawsocket": opts.rs_url, "websocket": opts.ws_url} if opts.rs_url else None
    results = measure(rounds, max(n, 100), modes, urls, opts.router,
                      more_inflight=not opts.quick, seed=seed)  # fmt: skip
    print("\n".join(report(results)))
    if opts.json:
        payload: dict[str, Any] = {
            "method": {
                "rounds": rounds,
                "n": n,
                "in_flight": 100,
                "serializer": "msgpack",
                "inflight_n": n if opts.quick else n * INFLIGHT_SCALE,
                "inflight_samples_per_round": 1 if opts.quick else INFLIGHT_REPEATS,
                "seed": seed,
            },
            "samples": [
                {"client": k[0], "backend": k[1], "transport": k[2], "mode": k[3], **s}
                for k, samples in results.items()
                for s in samples
            ],
        }
        Path(opts.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
