"""The report of ``python -m benchmarks``: the machine's description, the markdown page, the
combined JSON and the PNG charts (matplotlib, Agg backend).

Every chart function takes the parsed ``--json`` output of one benchmark script and returns a
figure, or ``None`` when the numbers it needs are not there (a peer missing, a run skipped).
"""

from __future__ import annotations

import datetime
import functools
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import _targets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "wamp-py",
    "autobahn",
    "wampproto",
    "xconn",
    "msgpack",
    "cbor2",
    "anyio",
    "trio",
    "wsproto",
    "websockets",
    "matplotlib",
)

__all__ = ["Run", "crossbar_info", "machine_info", "write_report"]


@dataclass
class Run:
    """One benchmark script run by the runner (or skipped, with ``note`` saying why)."""

    name: str  # "codec", "driver-crossbar", ...
    title: str
    argv: list[str] = field(default_factory=list)
    returncode: int | None = None
    seconds: float = 0.0
    stdout: str = ""
    stderr_tail: str = ""
    data: Any = None  # the script's --json output
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


# -- the machine ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor", "cpu model"):
            return value.strip()
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def crossbar_info(executable: Path, url: str | None = None) -> dict[str, Any]:
    """Where Crossbar is and its version (read from the dist-info of the venv it lives in,
    without starting it); ``url``: the run used an already running router there."""
    info: dict[str, Any] = {"executable": str(executable), "available": executable.is_file()}
    venv = executable.parent.parent
    versions = sorted(p.name for p in venv.glob("lib/python*/site-packages/crossbar-*.dist-info"))
    if versions:
        info["version"] = versions[-1].removeprefix("crossbar-").removesuffix(".dist-info")
    if url:
        info["external_url"] = url
    return info


def machine_info(crossbar: dict[str, Any] | None = None) -> dict[str, Any]:
    """CPU, cores, memory, OS, Python and the versions of the packages benchmarked."""
    try:
        load: list[float] | None = list(os.getloadavg())
    except OSError:
        load = None
    memory = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory else None,
        "os": _os_name(),
        "platform": platform.platform(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "executable": sys.executable,
        "load_average": load,
        "packages": {name: _version(name) for name in PACKAGES},
        "crossbar": crossbar,
    }


def machine_lines(info: dict[str, Any]) -> list[str]:
    load = info["load_average"]
    lines = [
        f"- **CPU**: {info['cpu']}, {info['cores']} cores"
        + (f", {info['memory_gib']} GiB RAM" if info["memory_gib"] else ""),
        f"- **OS**: {info['os']} (`{info['platform']}`)",
        f"- **Python**: {info['python']}, `{info['executable']}`",
    ]
    if load:
        lines.append(f"- **Load average** at the start: {' '.join(f'{x:.2f}' for x in load)}")
    cb = info["crossbar"]
    if cb:
        where = f"router at {cb['external_url']}" if cb.get("external_url") else cb["executable"]
        version = cb.get("version") or "unknown"
        state = "" if cb["available"] or cb.get("external_url") else " (not installed)"
        lines.append(f"- **Crossbar.io**: {version}{state}, {where}")
    lines += ["", "| package | version |", "|---|---|"]
    lines += [f"| {name} | {ver or '-'} |" for name, ver in info["packages"].items()]
    return lines


# -- charts --------------------------------------------------------------------------------------

COLORS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd")
#: The same implementation has the same colour in every chart (first matching prefix).
NAMED_COLORS = (
    ("raw", "#8c8c8c"),
    ("floor", "#8c8c8c"),
    ("ours", "#4c72b0"),
    ("wamp_anyio asyncio", "#4c72b0"),
    ("wamp_anyio trio", "#55a868"),
    ("wamp_trio", "#64b5cd"),
    ("wamp_core by hand", "#937860"),
    ("wamp_anyio uvloop", "#2a4a80"),
    ("autobahn", "#c44e52"),
    ("wampproto", "#8172b2"),
    ("xconn", "#8172b2"),
    ("embedded", "#4c72b0"),
    ("crossbar", "#dd8452"),
)


def _color(label: str, i: int) -> str:
    lower = label.lower()
    return next(
        (c for prefix, c in NAMED_COLORS if lower.startswith(prefix)), COLORS[i % len(COLORS)]
    )


def _bars(ax: Any, groups: Sequence[str], series: dict[str, list[float | None]]) -> None:
    """Grouped bars: one group per ``groups`` label, one bar per series (None: no bar)."""
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        heights = [v if v is not None else 0.0 for v in values]
        ax.bar(xs, heights, width, label=label, color=_color(label, i))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)


DRIVER_CLIENTS = {
    ("ours", "asyncio"): "wamp_anyio asyncio",
    ("ours", "uvloop"): "wamp_anyio uvloop",
    ("ours", "trio"): "wamp_anyio trio",
    ("ours", "wamp_trio"): "wamp_trio",
    ("core", "blocking"): "wamp_core by hand",
    ("autobahn", "asyncio"): "Autobahn",
    ("xconn", "asyncio"): "xconn",
}


def _driver_min(data: Any, field_name: str) -> dict[tuple[str, str, str, str], float]:
    """Min over rounds of ``field_name`` per (client, backend, transport, mode)."""
    out: dict[tuple[str, str, str, str], float] = {}
    for s in data.get("samples", []):
        if field_name not in s:
            continue
        key = (s["client"], s["backend"], s["transport"], s["mode"])
        out[key] = min(out.get(key, s[field_name]), s[field_name])
    return out


#: driver.py's modes, in its order (``events10``: per event received by 10 subscribers).
DRIVER_MODES = ("seq", "inflight", "events", "events10", "callee", "callee_async")


def _driver_groups(cpu: dict[tuple[str, str, str, str], float]) -> list[tuple[str, str]]:
    seen = {(k[2], k[3]) for k in cpu if k[2] != "tcp"}
    return [(t, m) for t in ("rawsocket", "websocket") for m in DRIVER_MODES if (t, m) in seen]


def driver_chart(data: Any, router: str) -> Figure | None:
    """Client CPU per operation by client and mode; next to it the ratio to Autobahn."""
    cpu = _driver_min(data, "cpu_us")
    groups = _driver_groups(cpu)
    if not groups:
        return None
    labels = [f"{t}\n{m}" for t, m in groups]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(13, 2 * len(groups)), 4.8))
    series = {name: [cpu.get((*c, t, m)) for t, m in groups] for c, name in DRIVER_CLIENTS.items()}
    series = {  # clients that did not run (not installed) get no bars
        name: values for name, values in series.items()
        if name == "Autobahn" or any(v is not None for v in values)
    }  # fmt: skip
    _bars(left, labels, series)
    floors = "; ".join(
        label
        + ", ".join(
            f"{b} {cpu[key]:.{digits}f} us"
            for b in ("asyncio", "trio")
            if (key := ("floor", b, "tcp", mode)) in cpu
        )
        for mode, label, digits in (
            ("seq", "one at a time: ", 0),
            ("inflight", "100 in flight: ", 2),
        )
        if any(("floor", b, "tcp", mode) in cpu for b in ("asyncio", "trio"))
    )
    router_floors = [
        f"{b} {cpu[key]:.0f} us"
        for b in ("asyncio", "uvloop", "trio", "blocking")
        if (key := ("routerfloor", b, "rawsocket", "seq")) in cpu
    ]
    through = ", ".join(router_floors)
    left.set_ylabel("client CPU us per operation (min over rounds)")
    ten = any(m == "events10" for _, m in groups)
    left.set_title(
        f"Client CPU per call/event/invocation via {router}"
        + ("\nevents10: per event received by 10 subscribers" if ten else "")
        + (f"\nbare TCP echo floor, {floors}" if floors else "")
        + (f"\nfloor through the router, rawsocket seq: {through}" if through else ""),
        fontsize=10,
    )
    ab = series["Autobahn"]
    ratios = {
        name: [v / a if v is not None and a else None for v, a in zip(values, ab, strict=True)]
        for name, values in series.items()
        if name != "Autobahn"
    }
    if any(v is not None for values in ratios.values() for v in values):
        _bars(right, labels, ratios)
        right.axhline(1.0, color="black", linewidth=1, linestyle="--")
        right.set_ylabel("client CPU / Autobahn's (below 1: cheaper)")
        right.set_title(f"Ratio to Autobahn via {router}", fontsize=10)
    else:
        right.set_axis_off()
        right.text(0.5, 0.5, "Autobahn not installed: no ratio", ha="center")
    fig.tight_layout()
    return fig


def router_chart(runs: dict[str, Any]) -> Figure | None:
    """Router CPU per operation (process tree, min over rounds), embedded vs Crossbar, for the
    wamp_anyio asyncio client's cells."""
    series: dict[str, dict[tuple[str, str], float]] = {}
    for router, data in runs.items():
        values = _driver_min(data, "router_us")
        row = {(k[2], k[3]): v for k, v in values.items() if k[:2] == ("ours", "asyncio")}
        if row:
            series[router] = row
    if not series:
        return None
    groups = [
        (t, m)
        for t in ("rawsocket", "websocket")
        for m in DRIVER_MODES
        if any((t, m) in row for row in series.values())
    ]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _bars(
        ax,
        [f"{t}\n{m}" for t, m in groups],
        {router: [row.get(g) for g in groups] for router, row in series.items()},
    )
    ax.set_ylabel("router CPU us per operation")
    missing = sorted(set(runs) - set(series))
    ax.set_title(
        "Router CPU per call/event (client: wamp_anyio asyncio)"
        + (
            f"\nnot measured: {', '.join(missing)} (router not started by the runner)"
            if missing
            else ""
        ),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def codec_chart(data: Any, message: str = "EVENT") -> Figure | None:
    """Encode and decode time per serializer for one message: the raw codec floor, ours and
    the peers (log scale)."""
    cells = {
        (c["serializer"], c["impl"], c["op"]): c["min_us"]
        for c in data.get("cells", [])
        if c["message"] == message
    }
    if not cells:
        return None
    serializers = list(dict.fromkeys(k[0] for k in cells))
    impls = [i for i in ("raw", "ours", "autobahn", "wampproto") if any(k[1] == i for k in cells)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, op in zip(axes, ("encode", "decode"), strict=True):
        _bars(
            ax,
            serializers,
            {
                ("raw codec (floor)" if i == "raw" else i): [
                    cells.get((s, i, op)) for s in serializers
                ]
                for i in impls
            },
        )
        ax.set_yscale("log")
        ax.set_ylabel("us per message (min, log scale)")
        ax.set_title(f"{op} one {message} message", fontsize=10)
    fig.tight_layout()
    return fig


def roundtrip_chart(data: Any) -> Figure | None:
    """In-memory core round trips: CPU per operation by case, msgpack, one message per chunk."""
    cells = {
        (c["case"], c["impl"]): c["min_us"]
        for c in data.get("cells", [])
        if c["serializer"] == "msgpack"
        and c["chunk"] == 1
        and not c.get("error")
        and c["transport"] in ("rawsocket", None)
    }
    if not cells:
        return None
    cases = list(dict.fromkeys(k[0] for k in cells))
    names = {
        "ours": "ours (rawsocket)",
        "autobahn": "Autobahn (rawsocket)",
        "wampproto": "wampproto (no framing)",
    }
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _bars(
        ax,
        cases,
        {
            label: [cells.get((c, impl)) for c in cases]
            for impl, label in names.items()
            if any(k[1] == impl for k in cells)
        },
    )
    ax.set_ylabel("CPU us per operation (min)")
    ax.set_title("In-memory round trips, msgpack, 1 message per chunk", fontsize=10)
    fig.tight_layout()
    return fig


def websocket_chart(data: Any, message: str = "bin-200") -> Figure | None:
    """WebSocket framing cost per message by operation and implementation."""
    cells = {
        (c["op"], c["impl"]): c["min_us"] for c in data.get("cells", []) if c["message"] == message
    }
    if not cells:
        return None
    ops = list(dict.fromkeys(k[0] for k in cells))
    impls = list(dict.fromkeys(k[1] for k in cells))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    _bars(ax, ops, {i: [cells.get((op, i)) for op in ops] for i in impls})
    ax.set_ylabel("us per message (min)")
    ax.set_title(f"WebSocket frames, {message} message", fontsize=10)
    fig.tight_layout()
    return fig


def scale_chart(scales: dict[str, Any]) -> Figure | None:
    """Per router: memory per idle session (client and router side) at the largest N, and
    CPU per delivered event and join time against N (the sweep; lost deliveries, as xconn's
    router may lose some, are named in the title)."""
    sweeps = {
        router: data.get("sweep") or [data["result"]]
        for router, data in scales.items()
        if isinstance(data, dict) and data.get("result")
    }
    if not sweeps:
        return None
    fig, (memory, cpu, join) = plt.subplots(1, 3, figsize=(15, 4.5))
    names = list(sweeps)
    largest = [sweep[-1] for sweep in sweeps.values()]
    _bars(memory, [f"{r['sessions']} sessions\nvia {name} ({r.get('transport', 'rawsocket')})"
                   for name, r in zip(names, largest, strict=True)],
          {"client (wamp_anyio)": [r["client_kib_per_session"] for r in largest],
           "router": [r["router_kib_per_session"] for r in largest]})  # fmt: skip
    memory.set_ylabel("KiB RSS per idle joined session")
    memory.set_title("Memory per session", fontsize=10)
    for i, (name, sweep) in enumerate(sweeps.items()):
        sizes = [r["sessions"] for r in sweep]
        color = _color(name, i)
        cpu.plot(sizes, [r["router_cpu_us_per_delivery"] for r in sweep], "o-", color=color,
                 label=f"{name} router")  # fmt: skip
        cpu.plot(sizes, [r["client_cpu_us_per_delivery"] for r in sweep], "s--", color=color,
                 label=f"clients (via {name})")  # fmt: skip
        join.plot(sizes, [r["join_ms_per_session"] for r in sweep], "o-", color=color,
                  label=name)  # fmt: skip
    lost = [f"{name} {r['lost']} at N={r['sessions']}"
            for name, sweep in sweeps.items() for r in sweep if r.get("lost")]  # fmt: skip
    for ax, title, ylabel in (
        (
            cpu,
            "CPU per delivered event (fan-out to N)"
            + (f"\nlost deliveries: {', '.join(lost)}" if lost else ""),
            "us CPU per delivery",
        ),
        (join, "Joining N sessions one after another", "ms per session"),
    ):
        ax.set_xscale("log")
        ax.set_xlabel("sessions (N)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _charts(runs: Sequence[Run]) -> list[tuple[str, str, Callable[[], Figure | None]]]:
    """(run name it belongs to, file suffix, figure maker) for every chart that applies."""
    ok = {run.name: run.data for run in runs if run.ok and run.data is not None}
    out: list[tuple[str, str, Callable[[], Figure | None]]] = []
    makers: dict[str, tuple[str, Callable[[Any], Figure | None]]] = {
        "codec": ("codec", codec_chart),
        "roundtrip": ("roundtrip", roundtrip_chart),
        "websocket_frames": ("websocket", websocket_chart),
    }
    for name, (suffix, maker) in makers.items():
        if name in ok:
            out.append((name, suffix, functools.partial(maker, ok[name])))
    scales = {n.removeprefix("scale-"): d for n, d in ok.items() if n.startswith("scale-")}
    if scales:
        last = [run.name for run in runs if run.name.removeprefix("scale-") in scales][-1]
        out.append((last, "scale", functools.partial(scale_chart, scales)))
    drivers = {
        name.removeprefix("driver-"): data
        for name, data in ok.items()
        if name.startswith("driver-")
    }
    for router, data in drivers.items():
        label = {"crossbar": "Crossbar.io", "xconn": "xconn's router"}.get(
            router, "the embedded router"
        )
        out.append(
            (f"driver-{router}", f"driver-{router}", functools.partial(driver_chart, data, label))
        )
    if drivers:
        last = [run.name for run in runs if run.name.removeprefix("driver-") in drivers][-1]
        out.append((last, "router-cpu", functools.partial(router_chart, drivers)))
    return out


# -- the report ----------------------------------------------------------------------------------


def write_report(
    out_dir: Path, stem: str, runs: Sequence[Run], info: dict[str, Any], meta: dict[str, Any]
) -> tuple[Path, Path, list[Path]]:
    """Write ``<stem>.md``, ``<stem>.json`` and ``<stem>-*.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, list[Path]] = {}
    for owner, suffix, make in _charts(runs):
        try:
            fig = make()
        except Exception as exc:  # a chart must never cost the report
            print(f"chart {suffix} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if fig is None:
            continue
        path = out_dir / f"{stem}-{suffix}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        images.setdefault(owner, []).append(path)

    lines = [f"# wamp-py benchmarks, {meta['started']}", ""]
    lines += ["## Machine", "", *machine_lines(info), ""]
    kind = "quick smoke run: noisy numbers, for CI" if meta["quick"] else "full run"
    lines += [f"Command: `{meta['command']}` ({kind}), {meta['seconds']:.0f} s in all.", ""]
    lines += ["| benchmark | result | time |", "|---|---|---|"]
    for run in runs:
        state = "skipped" if run.returncode is None else ("ok" if run.ok else "FAILED")
        lines.append(f"| [{run.name}](#{run.name}) | {state} | {run.seconds:.1f} s |")
    lines.append("")
    results = {run.name: run.data for run in runs if run.ok and isinstance(run.data, dict)}
    targets = _targets.evaluate(results)
    lines += ["## Targets (issues 8 and 12)", "", *_targets.markdown(targets)]
    for run in runs:
        lines += [f'<a id="{run.name}"></a>', "", f"## {run.name}: {run.title}", ""]
        if run.note:
            lines += [f"> {run.note}", ""]
        if run.returncode is None:
            continue
        shown = ["python", *(a.removeprefix(f"{ROOT}/") for a in run.argv[1:])]
        lines += [f"`{' '.join(shown)}` (exit {run.returncode}, {run.seconds:.1f} s)", ""]
        if run.stdout.strip():
            lines += ["```text", run.stdout.rstrip(), "```", ""]
        if not run.ok and run.stderr_tail.strip():
            lines += ["stderr (tail):", "", "```text", run.stderr_tail.rstrip(), "```", ""]
        for path in images.get(run.name, []):
            lines += [f"![{run.name}: {path.stem.removeprefix(stem + '-')}]({path.name})", ""]
    markdown = out_dir / f"{stem}.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")

    combined = out_dir / f"{stem}.json"
    payload = {
        **meta,
        "machine": info,
        "runs": [asdict(run) for run in runs],
        "charts": [p.name for paths in images.values() for p in paths],
        "targets": [{**asdict(t), "status": t.status} for t in targets],
    }
    combined.write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    return markdown, combined, [p for paths in images.values() for p in paths]


def timestamp() -> tuple[str, str]:
    """(file stem ``YYYY-MM-DD-HHMMSS``, ISO time) of now, local time."""
    now = datetime.datetime.now().astimezone()
    return now.strftime("%Y-%m-%d-%H%M%S"), now.isoformat(timespec="seconds")
