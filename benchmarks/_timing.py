"""Timing shared by the benchmark scripts: calibrated, interleaved repeats and their statistics.

A cell is anything with a ``timeit.Timer`` (``timer``), a loop count (``number``, set here) and
the per-operation times of its repeats (``times``, seconds). Cells of one row (what a table row
compares: same sample and operation, different implementations) run back to back so they see
the same machine load; rows and the cells of a row are shuffled on every repeat.
"""

from __future__ import annotations

import random
import statistics
import timeit
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["TimedCell", "calibrate", "run", "Results", "table_lines"]


class TimedCell(Protocol):
    timer: timeit.Timer
    number: int
    times: list[float]


C = TypeVar("C", bound=TimedCell)
K = TypeVar("K", bound=Hashable)


def calibrate(timer: timeit.Timer, target: float) -> int:
    """A loop count making one repeat take about ``target`` seconds."""
    n = 1
    while True:
        t = timer.timeit(n)
        if t >= target / 20 or n >= 10**8:
            return max(1, round(n * target / max(t, 1e-9)))
        n *= 10


def run(cells: Sequence[C], repeat: int, target: float, row: Callable[[C], Hashable]) -> None:
    """Calibrate every cell, then time them all ``repeat`` times, interleaved by ``row``."""
    for cell in cells:
        cell.number = calibrate(cell.timer, target)
    groups: dict[Hashable, list[C]] = {}
    for cell in cells:
        groups.setdefault(row(cell), []).append(cell)
    order = list(groups.values())
    for rep in range(repeat):
        rng = random.Random(rep)
        rng.shuffle(order)
        for group in order:
            rng.shuffle(group)
            for cell in group:
                cell.times.append(cell.timer.timeit(cell.number) / cell.number)


@dataclass(frozen=True)
class Results(Generic[K]):
    """Statistics over the timed cells, in microseconds per operation."""

    cells: Mapping[K, TimedCell]

    def time(self, key: K, stat: str) -> float | None:
        cell = self.cells.get(key)
        if cell is None:
            return None
        value = min(cell.times) if stat == "min" else statistics.median(cell.times)
        return value * 1e6

    def ratio(self, num: K, den: K, stat: str) -> float | None:
        """``min(num) / min(den)``, or the median of the per-repeat ratios (paired runs)."""
        a, b = self.cells.get(num), self.cells.get(den)
        if a is None or b is None:
            return None
        if stat == "min":
            return min(a.times) / min(b.times)
        return statistics.median(x / y for x, y in zip(a.times, b.times, strict=True))


def table_lines(head: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """A plain-text table: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]

    def line(r: Sequence[str]) -> str:
        cols = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cols).rstrip()

    return [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)]
