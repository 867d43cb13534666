"""``report`` and ``purge``: the session report and the retention of media, through the same
services as the sessions and admin pages (viewing a report and changing retention are audited)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from proctor_console import services
from proctor_console.cli.common import by_option, console_context, out, refusals
from proctor_console.report import render_report_html
from proctor_console.retention import MAX_PHOTO_RETENTION_DAYS, MAX_RETENTION_DAYS


@click.command(help="Session report (a session is an imported package id): HTML for printing, or --json.")
@click.argument("session")
@click.option("--json", "as_json", is_flag=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@by_option
@click.pass_obj
def report(obj: dict[str, Any], session: str, as_json: bool, output: Path | None, by: str) -> None:
    service = services.reports(console_context(obj))
    with refusals():
        data = service.session(session, by)
    text = json.dumps(data, indent=2, default=str) if as_json else render_report_html(data)
    if output:
        output.write_text(text)
        click.echo(f"Wrote {output}")
    else:
        click.echo(text)


@click.command(help="Delete thumbnails and snapshots older than the retention period, and roster photos "
                    "of sessions closed longer ago than the photo retention period.")
@click.option("--days", type=click.IntRange(1, MAX_RETENTION_DAYS), help="Set the retention period first.")
@click.option("--photo-days", type=click.IntRange(1, MAX_PHOTO_RETENTION_DAYS),
              help="Set how many days after its session's admission closes a roster photo is kept, first.")
@click.option("--json", "as_json", is_flag=True)
@by_option
@click.pass_obj
def purge(obj: dict[str, Any], days: int | None, photo_days: int | None, as_json: bool, by: str) -> None:
    service = services.retention(console_context(obj))
    with refusals():
        if days is not None:
            service.set_days(days, by)
        if photo_days is not None:
            service.set_photo_days(photo_days, by)
        removed = service.purge(by)
    out({**removed, "retention_days": service.days(), "photo_retention_days": service.photo_days()}, as_json,
        f"Removed {removed['thumbnails']} thumbnail(s) and {removed['snapshots']} snapshot(s) "
        f"older than {service.days()} days, and {removed['photos']} roster photo(s) of sessions closed more "
        f"than {service.photo_days()} days ago.")
