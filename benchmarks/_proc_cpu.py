"""CPU time of other processes (a router under test), read from ``/proc`` (Linux).

``/proc/<pid>/task/<tid>/schedstat`` gives each thread's time on a CPU in nanoseconds, finer
than ``stat``'s clock ticks (10 ms), which matters for a few thousand routed messages.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["group_cpu_ns"]

_PROC = Path("/proc")


def _process_cpu_ns(pid: int) -> int:
    total = 0
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return total


def _pgrp(pid: int) -> int | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[2])  # state, ppid, pgrp


def group_cpu_ns(pid: int, *, group: bool) -> int:
    """CPU nanoseconds used so far by process ``pid`` or, with ``group``, by every process of
    the process group ``pid`` leads (Crossbar's controller and its workers)."""
    if not group:
        return _process_cpu_ns(pid)
    return sum(_process_cpu_ns(int(p)) for p in os.listdir(_PROC)
               if p.isdigit() and _pgrp(int(p)) == pid)  # fmt: skip
