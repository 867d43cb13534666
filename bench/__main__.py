"""``python -m bench [NAME...] [--quick] [--json]``: run benchmarks and print one table."""

from __future__ import annotations

import importlib
import json
import sys

import click
from rich.console import Console
from rich.table import Table

from bench import BENCHMARKS
from bench.common import Figure


def _format(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _table(figures: list[Figure]) -> Table:
    table = Table(title="Invigil benchmarks (baseline measured in the same run)")
    for column in ("bench", "figure", "value", "unit", "raw baseline", "baseline", "ratio", "goal"):
        table.add_column(column)
    for f in figures:
        table.add_row(f.bench, f.name, _format(f.value), f.unit, f.baseline_name,
                      _format(f.baseline_value), _format(f.ratio), f.goal)
    return table


@click.command(help="Run the named benchmarks (all when none is named): " + ", ".join(BENCHMARKS))
@click.argument("names", nargs=-1)
@click.option("--quick", is_flag=True, help="Short run with fewer samples.")
@click.option("--json", "as_json", is_flag=True, help="Print figures as JSON.")
def main(names: tuple[str, ...], quick: bool, as_json: bool) -> None:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise click.UsageError(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    figures: list[Figure] = []
    failed: dict[str, str] = {}
    for name in names or tuple(BENCHMARKS):
        try:
            module = importlib.import_module(BENCHMARKS[name])
        except ModuleNotFoundError as exc:
            failed[name] = f"not built yet ({exc.name})"
            continue
        figures.extend(module.run(quick=quick))
    if as_json:
        json.dump({"figures": [f.to_dict() for f in figures], "missing": failed}, sys.stdout, indent=2)
        print()
        return
    console = Console()
    console.print(_table(figures))
    for name, reason in failed.items():
        console.print(f"[yellow]{name}[/]: {reason}")


if __name__ == "__main__":
    main()
