"""``releases``: the central allow-list of kiosk release builds that intake checks attestations against."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import actor_option, emit, json_option, refusals_exit, results_db
from item_bank_sync.trust import release_allowlist


@click.group("releases")
def releases_group() -> None:
    """Kiosk release measurements the central body accepts in sealed envelopes.

    While the list is empty intake only records each envelope's attestation verdict. Once it holds
    a release, an envelope whose attestation is missing, invalid or of a build not listed here is
    accepted and scored but flagged for review (`intake list`, `intake attestations`). Get a
    build's value with `python -m hardening measure` on the release build."""


@releases_group.command("allow")
@click.argument("measurement")
@click.option("--release", required=True, help="Release label, e.g. 2026.11.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def releases_allow(ctx: click.Context, measurement: str, release: str, actor: str) -> None:
    """Accept MEASUREMENT (64 hex digits) as release --release."""
    entry = release_allowlist.allow(results_db(ctx), measurement, release, actor)
    emit(ctx, entry, lambda c: c.print(f"allowed {entry['measurement']} as release {entry['release']}",
                                       highlight=False))


@releases_group.command("remove")
@click.argument("measurement")
@json_option
@click.pass_context
@refusals_exit
def releases_remove(ctx: click.Context, measurement: str) -> None:
    """Stop accepting MEASUREMENT (envelopes already taken in keep their verdict)."""
    release_allowlist.remove(results_db(ctx), measurement)
    emit(ctx, {"removed": measurement}, lambda c: c.print(f"removed {measurement}", highlight=False))


@releases_group.command("list")
@json_option
@click.pass_context
@refusals_exit
def releases_list(ctx: click.Context) -> None:
    """The allowed release measurements."""
    allowed = release_allowlist.entries(results_db(ctx))

    def human(c: Console) -> None:
        table = Table("measurement", "release", "added by", "added at")
        for measurement, entry in allowed.items():
            table.add_row(measurement, entry["release"], entry["added_by"], entry["added_at"])
        c.print(table if allowed else "No releases allowed yet: intake records attestations but flags nothing.")
    emit(ctx, {"measurements": allowed}, human)
