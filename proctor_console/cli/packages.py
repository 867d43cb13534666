"""``packages import|list`` and ``roster import``: form packages and candidates, through the same
services as the admin page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from proctor_console import services
from proctor_console.cli.common import by_option, console_context, out, refusals


@click.group("packages", help="Form packages from the central body.")
def packages_group() -> None:
    pass


@packages_group.command("import", help="Check signature and centre of each package and store it.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@by_option
@click.pass_obj
def packages_import(obj: dict[str, Any], files: tuple[Path, ...], as_json: bool, by: str) -> None:
    from rich.progress import track
    service = services.packages(console_context(obj))
    imported = []
    for file in track(files, description="Importing packages", disable=as_json or len(files) < 2):
        with refusals():
            imported.append(service.import_package(file.read_bytes(), str(file), by))
    available = service.listing()
    out({"imported": imported, "available": available}, as_json,
        "\n".join(f"{p['package_id']}: {p['title'] or p['form_id']} v{p['form_version']} ({p['scheme_id']}) "
                  f"{p['opens']} .. {p['closes']}{' [release code]' if p['release_code_required'] else ''}"
                  for p in available))


@packages_group.command("list", help="List imported packages (sessions).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def packages_list(obj: dict[str, Any], as_json: bool) -> None:
    available = services.packages(console_context(obj)).listing()
    out(available, as_json, "\n".join(f"{p['package_id']}: {p['form_id']} {p['opens']} .. {p['closes']}"
                                      for p in available) or "No packages.")


@click.group("roster", help="The candidate roster.")
def roster_group() -> None:
    pass


@roster_group.command("import", help="Import candidates from CSV: candidate_id, name, scheme, seat, accommodations.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@by_option
@click.pass_obj
def roster_import(obj: dict[str, Any], file: Path, as_json: bool, by: str) -> None:
    service = services.roster(console_context(obj))
    with refusals():
        count = service.import_csv(file.read_bytes(), str(file), by)
    out({"imported": count}, as_json, f"Imported {count} candidate(s) from {file}.")
