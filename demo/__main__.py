"""``python -m demo [--scripted] [--workdir DIR]``: the one-command test-centre demonstration."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click
from rich.console import Console

from demo.orchestrate import DemoOptions, run_demo
from demo.processes import DemoError


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM ends the demo the way Ctrl+C does: every node's process group is stopped on the way out."""
    raise KeyboardInterrupt


@click.command(help="""Run the whole chain on this machine: a central body with a sample scheme of 40 items,
two published forms, a test centre (console on 127.0.0.1), three paired kiosks and an exam. Two candidates
are scripted (one raises a webcam alert, one loses its kiosk to kill -9 and resumes after the proctor
approves); the third is you, in a browser. Afterwards the console syncs and the central body scores and
writes the item-analysis report. Ctrl+C stops every process.""")
@click.option("--scripted", is_flag=True, help="All three candidates scripted, no browser; ends by itself and "
              "prints a JSON summary (counted from each node's database) as the last line.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path(".demo/run"),
              show_default=True, help="Where every node keeps its data and logs (emptied first).")
@click.option("--alert-timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds the webcam candidate waits for its alert before submitting anyway.")
@click.option("--later-candidates", type=click.IntRange(0, 24), default=24, show_default=True,
              help="Candidates from the roster who sit after the first ones on the scripted kiosks (quickly, "
                   "with varied ability), so the item analysis has a cohort; 0 for the three alone.")
@click.option("--postgres", is_flag=True, help="Run the central body on a private PostgreSQL cluster the demo starts "
              "and stops itself (simulators/postgres.py) instead of its SQLite files.")
def main(scripted: bool, workdir: Path, alert_timeout: float, later_candidates: int, postgres: bool) -> None:
    console = Console(stderr=scripted, soft_wrap=True)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    options = DemoOptions(workdir=workdir, scripted=scripted, alert_timeout_s=alert_timeout,
                          later_sittings=later_candidates, postgres=postgres,
                          say=lambda text: console.print(f"[bold green]>[/] {text}" if text else ""))
    try:
        summary = run_demo(options)
    except KeyboardInterrupt:
        console.print("[yellow]stopped: every process of the demo was stopped[/]")
        sys.exit(130)
    except DemoError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}\n(logs of every node: {workdir / 'logs'})")
        sys.exit(1)
    console.print(f"data of every node under {summary['workdir']}; logs in {summary['workdir']}/logs")
    for report in summary.get("reports", []):
        console.print(f"item-analysis report: {report}")
    print(json.dumps(summary, sort_keys=False), flush=True)


if __name__ == "__main__":
    main()
