"""Figures from samples: percentiles, medians, ratios; CPU of processes from /proc; a process's memory."""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CpuWindow", "memory_kib", "percentile", "ratio", "spread", "summary"]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict[str, float]:
    """p50, p90, p99, max and count of ``values`` times ``scale`` (1000: seconds shown as ms)."""
    shown = {f"p{round(q * 100)}": percentile(values, q) for q in (0.5, 0.9, 0.99)}
    shown["max"] = max(values, default=float("nan"))
    return {**{k: round(v * scale, digits) for k, v in shown.items()}, "n": len(values)}


def spread(values: Sequence[float], digits: int = 4) -> dict[str, float]:
    """Min, median and max of repeated timings, and how many."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
    }


def ratio(a: float, b: float, digits: int = 3) -> float:
    """``a / b`` rounded; NaN when ``b`` is 0."""
    return round(a / b, digits) if b else float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


class CpuWindow:
    """CPU seconds of one process, of this one and of every other over a stretch of wall time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.wall, self.bot = time.monotonic(), _cpu_seconds(pid)
        self.me, self.all = time.process_time(), _machine_busy()

    def close(self) -> dict[str, float]:
        """Seconds since the window opened: wall, the process's CPU, ours, and the rest of the machine's."""
        wall = time.monotonic() - self.wall
        bot = _cpu_seconds(self.pid) - self.bot
        me = time.process_time() - self.me
        return {"wall": wall, "bot": bot, "me": me, "others": max(0.0, _machine_busy() - self.all - bot - me)}

    @staticmethod
    def figures(cpu: dict[str, float], updates: int) -> dict[str, float]:
        """Cores used by each party over a window, and CPU milliseconds per update."""
        wall, n = max(cpu["wall"], 1e-9), max(updates, 1)
        return {
            "bot_cpu_util": round(cpu["bot"] / wall, 3),
            "driver_cpu_util": round(cpu["me"] / wall, 3),
            "other_processes_cpu_util": round(cpu["others"] / wall, 3),
            "bot_cpu_ms_per_update": round(cpu["bot"] * 1000 / n, 3),
            "driver_cpu_ms_per_update": round(cpu["me"] * 1000 / n, 3),
        }


def memory_kib() -> dict[str, int]:
    """This process's memory from /proc/self/status in KiB (RssFile: mapped files such as libraries)."""
    gc.collect()
    found: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"}:
            found[name] = int(value.split()[0])
    return found
