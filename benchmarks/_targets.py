"""The targets of issues 8 and 12, checked against the figures of one ``python -m benchmarks`` run.

Every target is a ratio of two figures measured in the same run (the machine is shared and
noisy, absolute numbers move with it):

* client CPU per call and per received event at most half of Autobahn's (``driver.py`` through
  Crossbar; every ``wamp_anyio`` backend and ``wamp_trio``);
* the client's rates at least Autobahn's (same cells);
* the embedded router's rates at least Crossbar's (``driver.py`` through each, the
  ``wamp_anyio`` asyncio client's cells; ``scale.py``'s fan-out at every N);
* ``wamp_core``'s msgpack encode and decode within 2.5x of the raw codec (``codec.py``).

Each cell is judged on the run's minimum (least noise; for rates the best round) and on its
median: ``met`` when both meet the target, ``min only`` or ``median only`` when one does,
``not met`` when neither does. The rows go into the report's JSON and its markdown page.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Target", "evaluate", "markdown"]

CPU_LIMIT = 0.5
CODEC_LIMIT = 2.5
#: The clients whose cost the issues are about, as ``driver.py`` names them, and their labels.
CLIENTS = {
    ("ours", "asyncio"): "wamp_anyio asyncio",
    ("ours", "uvloop"): "wamp_anyio uvloop",
    ("ours", "trio"): "wamp_anyio trio",
    ("ours", "wamp_trio"): "wamp_trio",
}
#: ``driver.py``'s modes the CPU targets name: calls one at a time, 100 in flight, events.
MODES = ("seq", "inflight", "events", "events10")
TRANSPORTS = ("rawsocket", "websocket")
STATUSES = ("met", "min only", "median only", "not met")


@dataclass(frozen=True)
class Target:
    """One judged cell: the ratios ``best`` and ``median`` against ``limit`` (at most it when
    ``at_most``, else at least)."""

    group: str  # "client CPU / Autobahn", ...
    cell: str  # "rawsocket seq, wamp_anyio asyncio", ...
    limit: float
    at_most: bool
    best: float  # the ratio of the minimums (for rates: of the best rounds)
    median: float  # the ratio of the medians

    def _meets(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    @property
    def status(self) -> str:
        best, median = self._meets(self.best), self._meets(self.median)
        if best and median:
            return "met"
        return "min only" if best else ("median only" if median else "not met")


def _by_cell(
    samples: Iterable[Mapping[str, Any]], field: str
) -> dict[tuple[str, ...], list[float]]:
    out: dict[tuple[str, ...], list[float]] = {}
    for s in samples:
        if isinstance(s.get(field), (int, float)):
            key = (s["client"], s["backend"], s["transport"], s["mode"])
            out.setdefault(key, []).append(float(s[field]))
    return out


def _ratio(
    mine: list[float], theirs: list[float], best: Callable[[list[float]], float]
) -> tuple[float, float] | None:
    if not mine or not theirs or not best(theirs) or not statistics.median(theirs):
        return None
    return best(mine) / best(theirs), statistics.median(mine) / statistics.median(theirs)


def _client_targets(data: Mapping[str, Any]) -> list[Target]:
    cpu = _by_cell(data.get("samples", []), "cpu_us")
    rate = _by_cell(data.get("samples", []), "rate")
    out: list[Target] = []
    for group, table, best, limit, at_most in (
        ("client CPU / Autobahn's", cpu, min, CPU_LIMIT, True),
        ("client rate / Autobahn's", rate, max, 1.0, False),
    ):
        for transport in TRANSPORTS:
            for mode in MODES:
                theirs = table.get(("autobahn", "asyncio", transport, mode), [])
                for client, label in CLIENTS.items():
                    r = _ratio(table.get((*client, transport, mode), []), theirs, best)
                    if r is not None:
                        cell = f"{transport} {mode}, {label}"
                        out.append(Target(group, cell, limit, at_most, *r))
    return out


def _router_targets(embedded: Mapping[str, Any], crossbar: Mapping[str, Any]) -> list[Target]:
    ours = _by_cell(embedded.get("samples", []), "rate")
    theirs = _by_cell(crossbar.get("samples", []), "rate")
    out: list[Target] = []
    for transport in TRANSPORTS:
        for mode in (*MODES, "callee", "callee_async"):
            key = ("ours", "asyncio", transport, mode)
            r = _ratio(ours.get(key, []), theirs.get(key, []), max)
            if r is not None:
                cell = f"{transport} {mode}"
                out.append(Target("embedded router rate / Crossbar's", cell, 1.0, False, *r))
    return out


def _scale_targets(embedded: Mapping[str, Any], crossbar: Mapping[str, Any]) -> list[Target]:
    def rows(data: Mapping[str, Any]) -> dict[int, tuple[float, float]]:
        sweep = data.get("sweep") or ([data["result"]] if data.get("result") else [])
        # the best fan-out round and the median one (a run before rounds had one: the same)
        return {
            r["sessions"]: (r["events_per_s"], r.get("events_per_s_median", r["events_per_s"]))
            for r in sweep
            if r.get("events_per_s")
        }

    ours, theirs = rows(embedded), rows(crossbar)
    group = "embedded router fan-out / Crossbar's"
    return [
        Target(
            group,
            f"{n} subscribers",
            1.0,
            False,
            ours[n][0] / theirs[n][0],
            ours[n][1] / theirs[n][1],
        )
        for n in sorted(set(ours) & set(theirs))
    ]


def _codec_targets(data: Mapping[str, Any]) -> list[Target]:
    out: list[Target] = []
    for row in data.get("ratios", []):
        ratio = row.get("ours/raw")
        if row.get("serializer") == "msgpack" and isinstance(ratio, dict):
            cell = f"{row['message']} {row['op']}"
            out.append(Target("msgpack codec / raw msgpack", cell, CODEC_LIMIT, True,
                              ratio["min"], ratio["median"]))  # fmt: skip
    return out


def evaluate(results: Mapping[str, Any]) -> list[Target]:
    """Every target cell the run's results (script name -> its JSON) allow judging."""
    out: list[Target] = []
    if "driver-crossbar" in results:
        out += _client_targets(results["driver-crossbar"])
    if "driver-embedded" in results and "driver-crossbar" in results:
        out += _router_targets(results["driver-embedded"], results["driver-crossbar"])
    if "scale-embedded" in results and "scale-crossbar" in results:
        out += _scale_targets(results["scale-embedded"], results["scale-crossbar"])
    if "codec" in results:
        out += _codec_targets(results["codec"])
    return out


def markdown(targets: list[Target]) -> list[str]:
    """The report's targets section: a count per group, then every cell."""
    if not targets:
        return ["No target could be judged: the runs they need did not run or failed.", ""]
    lines = [
        "Ratios of two figures from this run. `min`: ratio of the minimums (rates: of the best",
        "rounds); `median`: ratio of the medians. A cell is `met` when both meet the target,",
        "`min only` / `median only` when one of them does.",
        "",
        "| target | met | min only | median only | not met |",
        "|---|---:|---:|---:|---:|",
    ]
    groups: dict[str, list[Target]] = {}
    for t in targets:
        groups.setdefault(t.group, []).append(t)
    for group, rows in groups.items():
        limit = f"{'<=' if rows[0].at_most else '>='} {rows[0].limit:g}"
        counts = [sum(t.status == s for t in rows) for s in STATUSES]
        lines.append(f"| {group} {limit} | " + " | ".join(map(str, counts)) + " |")
    lines += ["", "| target | cell | min | median | |", "|---|---|---:|---:|---|"]
    for t in targets:
        lines.append(f"| {t.group} | {t.cell} | {t.best:.2f}x | {t.median:.2f}x | {t.status} |")
    return [*lines, ""]
