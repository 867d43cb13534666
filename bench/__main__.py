"""``python -m bench [NAME...] [--quick] [--json]``: run benchmarks and print one table.

Each benchmark runs in its own child process (``python -m bench --one NAME``), for three reasons:
a benchmark that crashes or hangs costs only its own rows (it is listed as failed, with the tail of
its log, and the others still run); servers a benchmark starts cannot print into the table; and
each one starts from a cold interpreter, so one benchmark's caches and threads never flatter or
slow the next. The child prints its figures as JSON; the parent collects them into one table.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bench import BENCHMARKS
from bench.common import Figure

REPO_ROOT = Path(__file__).resolve().parents[1]


def _format(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _table(figures: list[Figure], title: str) -> Table:
    table = Table(title=title)
    for column in ("bench", "figure", "value", "unit", "raw baseline", "baseline", "ratio", "goal"):
        table.add_column(column, overflow="fold")
    for f in figures:
        table.add_row(f.bench, f.name, _format(f.value), f.unit, f.baseline_name,
                      _format(f.baseline_value), _format(f.ratio), f.goal)
    return table


def _run_one_here(name: str, quick: bool) -> None:
    """The child's side: run one benchmark in this process and hand its figures to the parent.

    The JSON goes to the pipe named by BENCH_RESULT_FD, never to stdout, which benchmarks and the
    servers they start are free to print on (run by hand without the variable, it goes to stdout).
    """
    figures = importlib.import_module(BENCHMARKS[name]).run(quick=quick)
    data = json.dumps([f.to_dict() for f in figures]).encode()
    sys.stdout.flush()
    fd = int(os.environ.get("BENCH_RESULT_FD", sys.stdout.fileno()))
    while data:
        data = data[os.write(fd, data):]


def _run_child(name: str, quick: bool, timeout: float, log: Path) -> tuple[list[Figure], str | None, float]:
    """Run one benchmark in a child; (figures, failure reason or None, seconds taken)."""
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    with open(log, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench", "--one", name] + (["--quick"] if quick else []),
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            pass_fds=(write_fd,), env={**os.environ, "BENCH_RESULT_FD": str(write_fd)},
            start_new_session=True)
    os.close(write_fd)
    chunks: list[bytes] = []
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        child.wait()
        os.close(read_fd)
        return [], f"timed out after {timeout:.0f} s (log: {log})", time.monotonic() - start
    while chunk := os.read(read_fd, 1 << 16):
        chunks.append(chunk)
    os.close(read_fd)
    elapsed = time.monotonic() - start
    if child.returncode != 0 or not chunks:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return [], f"exit status {child.returncode}: {tail[0][:200]} (log: {log})", elapsed
    figures = [Figure(**{k: v for k, v in d.items() if k != "ratio"}) for d in json.loads(b"".join(chunks))]
    return figures, None, elapsed


@click.command(help="Run the named benchmarks (all when none is named), each in its own process, and print "
                    "one table of every figure beside its raw baseline measured in the same run: "
                    + ", ".join(BENCHMARKS))
@click.argument("names", nargs=-1)
@click.option("--quick", is_flag=True, help="Short run with fewer samples.")
@click.option("--json", "as_json", is_flag=True, help="Print figures as JSON.")
@click.option("--timeout", type=click.FloatRange(1, 24 * 3600), default=None,
              help="Seconds one benchmark may take before it is stopped [default: 300 with --quick, 1800].")
@click.option("--scale", type=click.FloatRange(0.001, 10), default=None,
              help="results-day: size as a share of 1,000 centres x 100,000 envelopes [--quick: 0.005, else 1].")
@click.option("--workers", default=None, metavar="N,N,...",
              help="results-day: PostgreSQL worker counts to measure [default: 1,2,4].")
@click.option("--kiosks", type=click.IntRange(10, 5000), default=None,
              help="console, start-storm: kiosks [console: 50 with --quick, else 500; start-storm: 100 with "
                   "--quick, else N/2 and N with N = 500].")
@click.option("--one", hidden=True, help="Internal: run one benchmark in this process.")
def main(names: tuple[str, ...], quick: bool, as_json: bool, timeout: float | None, one: str | None,
         scale: float | None, workers: str | None, kiosks: int | None) -> None:
    if kiosks is not None:                 # to the child through its environment (bench/start_storm.py)
        os.environ["INVIGIL_BENCH_KIOSKS"] = str(kiosks)
    if scale is not None:                  # to the child through its environment (bench/results_day.py)
        os.environ["BENCH_SCALE"] = str(scale)
    if workers is not None:
        if not all(w.strip().isdigit() and 1 <= int(w) <= 64 for w in workers.split(",")):
            raise click.BadParameter("a comma-separated list of worker counts (1-64)", param_hint="--workers")
        os.environ["BENCH_WORKERS"] = workers
    if one is not None:
        _run_one_here(one, quick)
        return
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise click.UsageError(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    timeout = timeout or (300.0 if quick else 1800.0)
    err = Console(stderr=True)
    figures: list[Figure] = []
    failed: dict[str, str] = {}
    log_dir = Path(tempfile.mkdtemp(prefix="invigil-bench-"))
    for name in names or tuple(BENCHMARKS):
        with err.status(f"bench {name}{' (quick)' if quick else ''} ..."):
            got, failure, elapsed = _run_child(name, quick, timeout, log_dir / f"{name}.log")
        figures.extend(got)
        if failure:
            failed[name] = failure
            err.print(f"[red]{name}[/]: failed after {elapsed:.0f} s: {failure}")
        else:
            err.print(f"[green]{name}[/]: {len(got)} figures in {elapsed:.0f} s")
    if as_json:
        json.dump({"quick": quick, "figures": [f.to_dict() for f in figures], "failed": failed}, sys.stdout, indent=2)
        print()
    else:
        console = Console(width=None if sys.stdout.isatty() else 200)
        console.print(_table(figures, "Invigil benchmarks" + (" (--quick)" if quick else "")
                             + ": each figure beside its raw baseline measured in the same run"))
        for name, reason in failed.items():
            console.print(f"[yellow]{name}[/]: {reason}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
