"""The targets page of ``python -m benchmarks`` (benchmarks/_targets.py) judges the right cells.

Synthetic runs with known ratios; the real runner is exercised by test_benchmarks_smoke.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _targets


def _sample(client: str, backend: str, mode: str, cpu: float, rate: float) -> dict[str, Any]:
    return {"client": client, "backend": backend, "transport": "rawsocket", "mode": mode,
            "cpu_us": cpu, "rate": rate}  # fmt: skip


def _driver(rounds: list[tuple[float, float]], autobahn: list[float]) -> dict[str, Any]:
    """seq cells: ours (cpu, rate) per round against Autobahn's cpu (rate 1000) per round."""
    samples = [_sample("ours", "asyncio", "seq", cpu, rate) for cpu, rate in rounds]
    samples += [_sample("autobahn", "asyncio", "seq", cpu, 1000.0) for cpu in autobahn]
    samples.append(_sample("floor", "asyncio", "seq", 1.0, 1.0))  # not a client: never judged
    return {"samples": samples}


def _by_cell(targets: list[_targets.Target]) -> dict[tuple[str, str], _targets.Target]:
    return {(t.group, t.cell): t for t in targets}


def test_client_cpu_and_rate_against_autobahn() -> None:
    run = _driver([(40.0, 1200.0), (70.0, 900.0), (45.0, 1100.0)], [100.0, 100.0, 120.0])
    got = _by_cell(_targets.evaluate({"driver-crossbar": run}))
    cpu = got[("client CPU / Autobahn's", "rawsocket seq, wamp_anyio asyncio")]
    # min 40 / 100, median 45 / 100: both at most half
    assert (cpu.best, cpu.median, cpu.status) == (0.4, 0.45, "met")
    rate = got[("client rate / Autobahn's", "rawsocket seq, wamp_anyio asyncio")]
    assert (rate.best, rate.median, rate.status) == (1.2, 1.1, "met")
    assert len(got) == 2  # the floor and clients that did not run are not judged


def test_a_cell_met_only_by_its_minimum_or_only_by_its_median() -> None:
    run = _driver([(40.0, 900.0), (70.0, 900.0), (60.0, 1100.0)], [100.0])
    got = _by_cell(_targets.evaluate({"driver-crossbar": run}))
    assert got[("client CPU / Autobahn's", "rawsocket seq, wamp_anyio asyncio")].status == (
        "min only"  # 0.4x at best, 0.6x by median
    )
    slow_best = _driver([(60.0, 1000.0), (45.0, 1000.0), (40.0, 1000.0)], [100.0, 79.0, 90.0])
    cell = _by_cell(_targets.evaluate({"driver-crossbar": slow_best}))[
        ("client CPU / Autobahn's", "rawsocket seq, wamp_anyio asyncio")
    ]
    assert (round(cell.best, 3), cell.median, cell.status) == (0.506, 0.5, "median only")
    worse = _driver([(60.0, 800.0)], [100.0])
    assert {t.status for t in _targets.evaluate({"driver-crossbar": worse})} == {"not met"}


def test_the_embedded_router_against_crossbar_and_the_codec() -> None:
    embedded = {"samples": [_sample("ours", "asyncio", "events", 9.0, 8000.0)]}
    crossbar = {"samples": [_sample("ours", "asyncio", "events", 9.0, 4000.0)]}
    scale = {
        "sweep": [
            {"sessions": 10, "events_per_s": 500.0},
            {"sessions": 1000, "events_per_s": 900.0, "events_per_s_median": 1100.0},
        ]
    }
    codec = {"ratios": [
        {"message": "EVENT", "serializer": "msgpack", "op": "decode",
         "ours/raw": {"min": 2.4, "median": 2.6}},
        {"message": "EVENT", "serializer": "json", "op": "decode",
         "ours/raw": {"min": 9.0, "median": 9.0}},
    ]}  # fmt: skip
    got = _by_cell(_targets.evaluate({
        "driver-crossbar": crossbar, "driver-embedded": embedded, "codec": codec,
        "scale-embedded": scale, "scale-crossbar": {"sweep": [{"sessions": 1000,
                                                                "events_per_s": 1000.0}]},
    }))  # fmt: skip
    assert got[("embedded router rate / Crossbar's", "rawsocket events")].best == 2.0
    fan_out = got[("embedded router fan-out / Crossbar's", "1000 subscribers")]
    assert (fan_out.best, fan_out.median, fan_out.status) == (0.9, 1.1, "median only")
    assert ("embedded router fan-out / Crossbar's", "10 subscribers") not in got
    assert got[("msgpack codec / raw msgpack", "EVENT decode")].status == "min only"
    assert not any(cell.startswith("EVENT") and "json" in cell for _, cell in got)


def test_the_markdown_counts_every_status() -> None:
    run = _driver([(40.0, 900.0), (70.0, 900.0), (60.0, 1100.0)], [100.0])
    lines = _targets.markdown(_targets.evaluate({"driver-crossbar": run}))
    assert "| client CPU / Autobahn's <= 0.5 | 0 | 1 | 0 | 0 |" in lines
    assert "| client rate / Autobahn's >= 1 | 0 | 1 | 0 | 0 |" in lines
    cells = "| rawsocket seq, wamp_anyio asyncio | 0.40x | 0.60x | min only |"
    assert "| client CPU / Autobahn's " + cells in lines
    assert _targets.markdown([])[0].startswith("No target could be judged")
