"""Smoke test of benchmarks/codec.py: it runs, prints the table and writes the JSON.

Speed is never asserted here: only that the benchmark works end to end.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crossbar import CrossbarRouter

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "codec.py"
SERIALIZERS = ("json", "msgpack", "cbor", "ubjson", "flatbuffers")
MESSAGES = ("CALL", "EVENT", "RESULT", "EVENT/pub", "RESULT/callee", "RESULT/arg")


def test_codec_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "codec.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    for title in ("ENCODE", "DECODE"):
        assert any(row[:1] == [title] for row in rows), proc.stdout
    # Every message x serializer has a row with a time for ours.
    for message in MESSAGES:
        for serializer in SERIALIZERS:
            matching = [row for row in rows if row[:2] == [message, serializer]]
            assert len(matching) == 4, (message, serializer, proc.stdout)  # 2 ops x min/median
            for row in matching:
                assert float(row[3]) > 0, row  # the "ours" column
    assert "msgpack target" in proc.stdout

    report = json.loads(out.read_text(encoding="utf-8"))
    cells = {(c["message"], c["serializer"], c["impl"], c["op"]): c for c in report["cells"]}
    for message in MESSAGES:
        for serializer in SERIALIZERS:
            for op in ("encode", "decode"):
                cell = cells[message, serializer, "ours", op]
                assert cell["min_us"] > 0
                assert cell["min_us"] <= cell["median_us"]
                assert len(cell["times_us"]) == report["method"]["repeat"]
                assert cell["wire_bytes"] > 0
            # The floor exists for every serializer but flatbuffers.
            has_raw = (message, serializer, "raw", "encode") in cells
            assert has_raw == (serializer != "flatbuffers")
        # The unchecked floor: msgpack decode only.
        assert cells[message, "msgpack", "unchecked", "decode"]["min_us"] > 0
        assert (message, "json", "unchecked", "decode") not in cells
    assert re.search(r"RESULT/arg .* unchecked \d+\.\d\dx", proc.stdout), proc.stdout


IDLE_GAP = ROOT / "benchmarks" / "idle_gap.py"


def test_idle_gap_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "idle_gap.json"
    proc = subprocess.run(
        [sys.executable, str(IDLE_GAP), "--quick", "--gap-us", "50", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["method"] == {"calls": 200, "gap_us": 50.0, "rounds": 1}
    clients = {row["client"] for row in report["results"]}
    assert "wamp_core" in clients
    for row in report["results"]:
        assert row["warm_us"] > 0 and row["idle_us"] > 0, row
        assert f"round 1 {row['client']}" in proc.stdout


ROUNDTRIP = ROOT / "benchmarks" / "roundtrip.py"
RT_CASES = ("rpc-caller", "rpc-callee", "publish", "event")
RT_TRANSPORTS = ("rawsocket", "websocket")
RT_SERIALIZERS = ("msgpack", "json", "cbor")


def test_roundtrip_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "roundtrip.json"
    proc = subprocess.run(
        [sys.executable, str(ROUNDTRIP), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for title in ("SEQUENTIAL", "PIPELINED", "Targets"):
        assert title in proc.stdout, proc.stdout

    report = json.loads(out.read_text(encoding="utf-8"))
    missing = report["environment"]["peers_missing"]
    cells = {
        (c["impl"], c["case"], c["transport"], c["serializer"], c["chunk"]): c
        for c in report["cells"]
    }
    rounds = report["method"]["rounds"]
    for case in RT_CASES:
        for serializer in RT_SERIALIZERS:
            for chunk in (1, 50):
                keys: list[tuple[str, str, str | None, str, int]] = [
                    (impl, case, transport, serializer, chunk)
                    for impl in ("ours", "autobahn")
                    for transport in RT_TRANSPORTS
                ]
                keys.append(("wampproto", case, None, serializer, chunk))  # no framing
                for key in keys:
                    if key[0] in missing:
                        continue
                    cell = cells[key]
                    if key[0] != "ours" and cell["error"]:
                        continue  # a peer case that cannot run is reported, not timed
                    assert cell["error"] is None, cell
                    assert len(cell["times_us"]) == rounds, cell
                    assert 0 < cell["min_us"] <= cell["median_us"], cell
    # Every table row has its ratios (None only where a peer is missing).
    assert len(report["ratios"]) == len(RT_CASES) * 2 * 3 * 2


def test_websocket_frames_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "ws.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "websocket_frames.py"),
            "--quick",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())  # numbers were written


DRIVER = ROOT / "benchmarks" / "driver.py"


def test_driver_benchmark_runs_every_client_through_crossbar(
    crossbar: CrossbarRouter, tmp_path: Path
) -> None:
    """benchmarks/driver.py end to end on the test router: every client and the floor report a
    CPU time and a rate for each selected mode and transport (speed itself is not asserted)."""
    out = tmp_path / "driver.json"
    proc = subprocess.run(
        [sys.executable, str(DRIVER), "--rounds", "1", "-n", "100", "--modes", "seq,events,callee",
         "--rs-url", crossbar.rs_url, "--ws-url", crossbar.ws_url, "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for title in ("CLIENT CPU", "RATE", "FLOOR"):
        assert title in proc.stdout, proc.stdout
    samples = json.loads(out.read_text(encoding="utf-8"))["samples"]
    seen = {(s["client"], s["backend"], s["transport"], s["mode"]) for s in samples}
    clients = [("ours", "asyncio"), ("ours", "uvloop"), ("ours", "trio"), ("ours", "wamp_trio"),
               ("core", "blocking"), ("autobahn", "asyncio"), ("xconn", "asyncio")]  # fmt: skip
    for client, backend in clients:  # (the bench extra installs Autobahn, xconn and uvloop)
        for transport in ("rawsocket", "websocket"):
            for mode in ("seq", "events"):
                assert (client, backend, transport, mode) in seen
            # the callee mode: our drivers and Autobahn (the others have no handler loop here)
            assert ((client, backend, transport, "callee") in seen) == (
                client in ("ours", "autobahn")
            )
    assert {("floor", "asyncio", "tcp", "seq"), ("floor", "trio", "tcp", "seq")} <= seen
    for sample in samples:
        assert sample["cpu_us"] > 0 and sample["rate"] > 0, sample


@pytest.mark.timeout(400)  # every script in turn: about a minute here, more on a slow runner
def test_the_one_command_runner_quick(crossbar: CrossbarRouter, tmp_path: Path) -> None:
    """``python -m benchmarks --quick --out DIR`` (through the session's Crossbar, so it starts
    none of its own) writes the markdown naming the machine and every benchmark, the combined
    JSON and PNG charts. Speed is not asserted."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path),
         "--rs-url", crossbar.rs_url, "--ws-url", crossbar.ws_url],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (markdown,) = tmp_path.glob("*.md")
    (combined,) = tmp_path.glob("*.json")
    assert list(tmp_path.glob("*.png")), proc.stderr
    text = markdown.read_text(encoding="utf-8")
    assert "## Machine" in text and "**CPU**" in text and "**Python**" in text
    for name in ("codec", "roundtrip", "idle_gap", "websocket_frames", "driver-crossbar",
                 "driver-embedded", "scale-embedded", "scale-crossbar"):  # fmt: skip
        assert f"## {name}:" in text, name
    assert "CLIENT CPU" in text and "SCALE" in text
    report = json.loads(combined.read_text(encoding="utf-8"))
    assert report["quick"] is True and report["machine"]["cores"]
    runs = {run["name"]: run for run in report["runs"]}
    skipped = {"scale-crossbar"}  # (it would start a Crossbar of its own)
    assert all(run["returncode"] == 0 and run["data"]
               for name, run in runs.items() if name not in skipped), runs.keys()  # fmt: skip
    sweep = runs["scale-embedded"]["data"]["sweep"]
    assert [one["sessions"] for one in sweep] == [1, 10, 50]
    assert all(one["deliveries"] == one["deliveries_expected"] > 0 for one in sweep)
    assert all(len(one["fanout_rounds"]) == 2 for one in sweep)  # --quick: two fan-outs per N
    # the bare echo floor one at a time and 100 in flight, and every client as a multiple of it
    floors = {(s["backend"], s["mode"]) for s in runs["driver-crossbar"]["data"]["samples"]
              if s["client"] == "floor"}  # fmt: skip
    assert floors == {(b, m) for b in ("asyncio", "trio") for m in ("seq", "inflight")}
    assert "CLIENT CPU / FLOOR" in text
    # the targets judged from this run's figures (the bench extra installs Autobahn); no
    # fan-out against Crossbar: its scale run was skipped
    assert "## Targets (issues 8 and 12)" in text
    groups = {target["group"] for target in report["targets"]}
    assert groups == {
        "client CPU / Autobahn's",
        "client rate / Autobahn's",
        "embedded router rate / Crossbar's",
        "msgpack codec / raw msgpack",
    }
    assert {t["status"] for t in report["targets"]} <= {"met", "min only", "median only", "not met"}
    # the same page again from the combined JSON alone
    again = tmp_path / "again"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--report-from", str(combined), "--out", str(again)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (again / markdown.name).read_text(encoding="utf-8") == text
    assert sorted(p.name for p in again.glob("*.png")) == sorted(
        p.name for p in tmp_path.glob("*.png")
    )
