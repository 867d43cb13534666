"""Shared pieces of the benchmarks: the Figure record, timing helpers, percentiles."""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import asdict, dataclass
from collections.abc import Callable


@dataclass
class Figure:
    """One measured figure beside the raw baseline measured in the same run.

    ``ratio`` is value / baseline for costs (lower is better) and is what the goals are written in.
    """

    bench: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float | None = None
    goal: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        return self.value / self.baseline_value

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (0-100) by nearest rank; samples need not be sorted."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def time_calls(fn: Callable[[], object], count: int) -> list[float]:
    """Call fn count times; return each call's duration in seconds."""
    durations = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return durations


def rate_per_second(fn: Callable[[], object], count: int) -> float:
    """Calls per second of fn over count calls (median of three rounds, to damp noise)."""
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        rounds.append(count / (time.perf_counter() - start))
    return statistics.median(rounds)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS's choice), for a server the benchmark starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
