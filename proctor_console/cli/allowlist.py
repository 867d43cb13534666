"""``release-allowlist add|remove|list``: the kiosk release measurements this centre accepts
(``proctor_console.attestation.ReleaseAllowlist``, which also writes the audit entries)."""

from __future__ import annotations

import json
from typing import Any

import click

from proctor_console.attestation import ALLOWLIST_FILE, ReleaseAllowlist
from proctor_console.cli.common import console_context, refusals


def _allowlist(obj: dict[str, Any]) -> ReleaseAllowlist:
    ctx = console_context(obj)
    return ReleaseAllowlist(ctx.data, ctx.audit)


@click.group("release-allowlist", help="""Kiosk release measurements this centre accepts.

While the file release-allowlist.json does not exist the console only records attestations;
once it exists (even empty), a kiosk whose attestation is missing, invalid, stale or not listed
raises an alert and never receives a content key. Get a build's value with
`python -m hardening measure` (or the kiosk binary's `hardening measure`) on the release build.""")
def release_allowlist() -> None:
    pass


@release_allowlist.command("add", help="Accept MEASUREMENT (64 hex digits) as release --release.")
@click.argument("measurement")
@click.option("--release", required=True, help="Release label shown in the audit chain, e.g. 2026.11.")
@click.option("--by", "by", required=True, help="Who approves it (written into the list).")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
@click.pass_obj
def allowlist_add(obj: dict[str, Any], measurement: str, release: str, by: str, as_json: bool) -> None:
    allowlist = _allowlist(obj)
    measurement = measurement.strip().lower()
    with refusals():
        entry = allowlist.add(measurement, release, by)
    click.echo(json.dumps({"measurement": measurement, **entry}) if as_json
               else f"accepted {measurement} as release {release} ({allowlist.path})")


@release_allowlist.command("remove", help="Stop accepting MEASUREMENT.")
@click.argument("measurement")
@click.option("--by", "by", required=True, help="Who removes it (written to the audit chain).")
@click.pass_obj
def allowlist_remove(obj: dict[str, Any], measurement: str, by: str) -> None:
    allowlist = _allowlist(obj)
    measurement = measurement.strip().lower()
    with refusals():
        allowlist.remove(measurement, by)
    click.echo(f"removed {measurement}")


@release_allowlist.command("list", help="Show the accepted measurements and whether the list is enforced.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def allowlist_list(obj: dict[str, Any], as_json: bool) -> None:
    allowlist = _allowlist(obj)
    with refusals():
        entries = allowlist.entries()
    if as_json:
        click.echo(json.dumps({"enforcing": allowlist.exists(), "measurements": entries}, indent=2))
        return
    if not allowlist.exists():
        click.echo(f"no {ALLOWLIST_FILE}: attestations are recorded, not enforced")
    for digest, entry in sorted(entries.items(), key=lambda item: item[1]["added_at"]):
        click.echo(f"{digest}  {entry['release']}  added by {entry['added_by']} at {entry['added_at']}")
