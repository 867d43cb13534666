"""``body``: the certification body's own settings after ``init`` (today its time zone).

``body show`` prints what ``keys/body.json`` says; ``body time-zone ZONE --by NAME`` changes the
zone the staff pages show times in (an administrator's action once staff accounts exist, entered
in the audit chain with the previous zone). A running ``web`` reads the zone when it starts.
``body create-evidence-key --by NAME`` makes the evidence key of a body initialised before ``init``
made it, only when no document sealed with it exists (:data:`EVIDENCE_SEALED`).
"""

from __future__ import annotations

from typing import Any

import click

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.trust.identity import rules_version, set_rules_version, set_time_zone


@click.group("body")
def body_group() -> None:
    """The certification body's settings: identity and time zone."""


@body_group.command("show")
@json_option
@click.pass_context
@refusals_exit
def body_show(ctx: click.Context) -> None:
    """Show the body's id, name and time zone."""
    body = central(ctx).body()
    shown = {"body_id": body.get("body_id"), "name": body.get("name"), "time_zone": body.get("time_zone") or "UTC",
             "rules_version": rules_version(body)}
    emit(ctx, shown, lambda c: c.print(f"{shown['name']} ({shown['body_id']}), times in {shown['time_zone']}",
                                       highlight=False))


@body_group.command("time-zone")
@click.argument("zone")
@click.option("--by", "by", required=True,
              help="Who changes it (recorded; an administrator once staff accounts exist).")
@json_option
@click.pass_context
@refusals_exit
def body_time_zone(ctx: click.Context, zone: str, by: str) -> None:
    """Set the IANA time zone (e.g. Europe/Paris) staff pages show times in; restart `web` to apply."""
    body = set_time_zone(central(ctx), zone, by)
    emit(ctx, {"time_zone": body["time_zone"]}, lambda c: c.print(f"times now in {body['time_zone']}"))


@body_group.command("rules-version")
@click.argument("version")
@click.option("--by", "by", required=True,
              help="Who changes it (recorded; an administrator once staff accounts exist).")
@json_option
@click.pass_context
@refusals_exit
def body_rules_version(ctx: click.Context, version: str, by: str) -> None:
    """Name the version of the body's rules candidates accept from now on (e.g. 2026-1); each later
    application records it, and a candidate who accepted an older one is asked to accept this one."""
    body = set_rules_version(central(ctx), version, by)
    emit(ctx, {"rules_version": body["rules_version"]},
         lambda c: c.print(f"candidates now accept the body's rules version {body['rules_version']}"))


def evidence_sealed() -> list[Any]:
    """Every column holding documents sealed with the evidence key (each ``sealing.seal`` caller's
    table): registry evidence, identity photos, CPD evidence. A new sealed column belongs here."""
    from item_bank_sync.recertification.schema import cpd_records
    from item_bank_sync.registry.schema import evidence_documents, persons

    return [evidence_documents.c.sealed, persons.c.photo_sealed, cpd_records.c.evidence_sealed]


@body_group.command("create-evidence-key")
@click.option("--by", "by", required=True, help="Who makes it (recorded; an administrator once staff accounts exist).")
@json_option
@click.pass_context
@refusals_exit
def body_create_evidence_key(ctx: click.Context, by: str) -> None:
    """Make the evidence key of a body initialised before init made it: only when no sealed document
    (registry evidence, photo, CPD evidence) exists; otherwise restore keys/evidence.key from backup."""
    from item_bank_sync.trust.evidence_key import create_missing, key_path

    checked = create_missing(central(ctx), by, evidence_sealed())
    path = key_path(central(ctx).keys_dir)
    emit(ctx, {"created": str(path), "checked": checked},
         lambda c: c.print(f"evidence key made: {path}; back up keys/ now", highlight=False))
