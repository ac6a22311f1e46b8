"""Run every benchmark, one after another, and write one report: ``python -m benchmarks``.

Each script runs as a subprocess of this interpreter with ``--json``; the report (markdown with
the machine's description and every table, the combined JSON, PNG charts) goes to
``benchmarks/results/<YYYY-MM-DD-HHMMSS>.*`` or ``--out DIR``. See benchmarks/README.md.

    .venv/bin/python -m benchmarks --quick                # smoke run, about a minute (CI)
    .venv/bin/python -m benchmarks                        # full run
    .venv/bin/python -m benchmarks --only codec,scale --out /tmp/bench
    .venv/bin/python -m benchmarks --report-from results/<stamp>.json --out /tmp/again
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _report import Run, crossbar_info, machine_info, timestamp, write_report  # noqa: E402

from crossbar import CrossbarRouter, crossbar_executable  # noqa: E402

#: name: (script, what it measures), in the order they run.
BENCHMARKS = {
    "codec": ("codec.py", "encode/decode per message vs the raw codec, Autobahn, wampproto"),
    "roundtrip": ("roundtrip.py", "in-memory core round trips vs Autobahn and wampproto"),
    "idle_gap": ("idle_gap.py", "the same in-memory call back to back and after an idle gap"),
    "websocket_frames": ("websocket_frames.py", "WebSocket framing per message"),
    "driver": ("driver.py", "client CPU per call/event end to end through a router"),
    "scale": ("scale.py", "N sessions on one router: join, memory, fan-out, growth with N"),
}
ROUTERS = ("crossbar", "embedded", "xconn")
#: The routers when ``--router`` is not given: xconn's router (the bench extra) for scale.py
#: only, when installed (driver.py through it runs calls only: see driver.py).
DEFAULT_ROUTERS = {"driver": ("crossbar", "embedded"), "scale": ROUTERS}


def _xconn_available() -> bool:
    return importlib.util.find_spec("xconn") is not None


def plan(opts: argparse.Namespace) -> list[Run]:
    """The runs to make (a skipped one has no argv and a note)."""
    runs: list[Run] = []
    for name in (n for n in BENCHMARKS if n in opts.only):  # in the canonical order
        script, title = BENCHMARKS[name]
        argv = [sys.executable, str(HERE / script), *(["--quick"] if opts.quick else [])]
        if name not in ("driver", "scale"):
            runs.append(Run(name, title, argv))
            continue
        if name == "scale":
            argv += ["--sizes", "1,10,50" if opts.quick else "1,10,100,1000"]
        routers = opts.router or [
            r for r in DEFAULT_ROUTERS[name] if r != "xconn" or _xconn_available()
        ]
        for router in routers:
            run = Run(f"{name}-{router}", f"{title} ({router})", [*argv, "--router", router])
            if router == "xconn" and not _xconn_available():
                run.argv = []
                run.note = "Skipped: xconn is not installed (the bench extra)."
            elif router == "crossbar" and opts.rs_url and name == "scale":
                run.argv = []
                run.note = (
                    "Skipped: the scale run measures the router's memory, so it starts its own "
                    "Crossbar (not with --rs-url/--ws-url)."
                )
            elif router == "crossbar" and opts.rs_url:
                run.argv += ["--rs-url", opts.rs_url, "--ws-url", opts.ws_url]
                run.note = (
                    f"Through the running Crossbar at {opts.rs_url} / {opts.ws_url}: "
                    "its CPU is not measured (the runner did not start it)."
                )
            elif router == "crossbar" and not CrossbarRouter().available():
                run.argv = []
                run.note = (
                    f"Skipped: Crossbar.io is not installed (looked for "
                    f"{crossbar_executable()}; run tools/setup.sh or set WAMP_CROSSBAR, "
                    "or pass --rs-url/--ws-url of a running one)."
                )
            runs.append(run)
    return runs


def execute(run: Run, json_path: Path, timeout: float) -> None:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [*run.argv, "--json", str(json_path)],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        run.returncode, run.stdout, run.stderr_tail = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        run.returncode = -1
        run.stdout = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        run.stderr_tail = f"timed out after {timeout:.0f} s"
    run.seconds = time.perf_counter() - started
    run.stderr_tail = run.stderr_tail[-3000:]
    if run.ok and json_path.exists():
        run.data = json.loads(json_path.read_text(encoding="utf-8"))


def report_again(path: Path, out: Path) -> int:
    """Write the report of an earlier run again from its combined JSON (same file stem)."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    runs = [Run(**run) for run in payload["runs"]]
    meta = {key: payload[key] for key in ("started", "quick", "seconds", "command")}
    markdown, combined, images = write_report(out, path.stem, runs, payload["machine"], meta)
    print(f"report: {markdown}\n        {combined}\n        {len(images)} charts", file=sys.stderr)
    return 0


def _names(text: str, allowed: Sequence[str]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if unknown := [n for n in names if n not in allowed]:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)} (of {', '.join(allowed)})")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every script's --quick: a smoke run (noisy numbers), for CI",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="directory for the report (default benchmarks/results)",
    )
    parser.add_argument(
        "--only",
        type=lambda s: _names(s, list(BENCHMARKS)),
        default=list(BENCHMARKS),
        help=f"comma-separated, of: {', '.join(BENCHMARKS)} (default all)",
    )
    parser.add_argument(
        "--router",
        type=lambda s: _names(s, ROUTERS),
        default=None,
        help="routers for driver.py and scale.py, of: crossbar,embedded,xconn (default "
        "crossbar,embedded, and xconn too for scale.py when it is installed)",
    )
    parser.add_argument("--rs-url", help="RawSocket URL of a running Crossbar (with --ws-url)")
    parser.add_argument("--ws-url", help="WebSocket URL of a running Crossbar (with --rs-url)")
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="JSON",
        help="run nothing: write the report (page, charts, targets) again from the combined "
        "JSON of an earlier run into --out",
    )
    opts = parser.parse_args(argv)
    if opts.report_from:
        return report_again(opts.report_from, opts.out)
    if bool(opts.rs_url) != bool(opts.ws_url):
        parser.error("--rs-url and --ws-url go together")
    stem, started_at = timestamp()
    info = machine_info(crossbar_info(crossbar_executable(), opts.rs_url))
    runs = plan(opts)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wamp-bench-") as tmp:
        for i, run in enumerate(runs, 1):
            if not run.argv:
                print(f"[{i}/{len(runs)}] {run.name}: {run.note}", file=sys.stderr, flush=True)
                continue
            print(f"[{i}/{len(runs)}] {run.name} ...", end=" ", file=sys.stderr, flush=True)
            execute(run, Path(tmp) / f"{run.name}.json", 300.0 if opts.quick else 3600.0)
            state = "ok" if run.ok else f"FAILED (exit {run.returncode})"
            print(f"{state}, {run.seconds:.1f} s", file=sys.stderr, flush=True)
    meta = {
        "started": started_at,
        "quick": opts.quick,
        "seconds": time.perf_counter() - started,
        "command": shlex.join(
            ["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)]
        ),
    }
    markdown, combined, images = write_report(opts.out, stem, runs, info, meta)
    print(f"report: {markdown}\n        {combined}\n        {len(images)} charts", file=sys.stderr)
    failed = [run.name for run in runs if run.argv and not run.ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
