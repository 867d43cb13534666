"""Benchmarks: every figure is printed beside a raw baseline measured in the same run.

Each benchmark is a module ``bench/<name>.py`` exposing ``run(quick: bool) -> list[Figure]``
and is listed in ``BENCHMARKS``. They are run by ``python -m bench [NAME...]``, never as timed tests.
"""

BENCHMARKS: dict[str, str] = {
    "sealing": "bench.sealing",
    "bank": "bench.bank",
    "kiosk": "bench.kiosk",
    "console": "bench.console",
    "monitors": "bench.monitors",
    "central": "bench.central",
    "results-day": "bench.results_day",
    "analysis": "bench.analysis",
    "start-storm": "bench.start_storm",
}
