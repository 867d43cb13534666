"""``recert``: recertification (ISO/IEC 17024 9.6): CPD records and their audit sample, where a
holder stands, renewal decisions, who falls due and reminders. The service is
:mod:`item_bank_sync.recertification`; the portal calls the same functions for holders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.cli.registry_common import acting, read_upload
from item_bank_sync.registry.actors import AUDITOR, REGISTRAR, Actor
from item_bank_sync.registry.evidence import MAX_BYTES

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DUE_COLUMNS = ["certificate_id", "scheme_id", "status", "valid_until", "days_left", "ready"]


def _table(rows: list[dict[str, Any]], columns: list[str], title: str):
    def show(console: Console) -> None:
        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in columns))
        console.print(table)
    return show


@click.group("recert")
def recert_group() -> None:
    """Recertification: CPD records and audit, renewal decisions, who falls due, reminders."""


@recert_group.group("cpd")
def cpd_group() -> None:
    """CPD activities recorded against a certificate (evidence sealed at rest)."""


@cpd_group.command("add")
@click.argument("certificate_id")
@click.option("--category", required=True, help="One of the scheme's CPD categories.")
@click.option("--credits", "credit", type=float, required=True, help="Credits (hours, points) of the activity.")
@click.option("--date", "activity_date", required=True, help="Date of the activity (YYYY-MM-DD).")
@click.option("--description", required=True, help="What the activity was.")
@click.option("--evidence", "evidence_file", type=FILE, help="PDF, PNG or JPEG evidence (sealed at rest).")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def cpd_add(ctx: click.Context, certificate_id: str, category: str, credit: float, activity_date: str,
            description: str, evidence_file: Path | None, actor: Actor) -> None:
    """Record a CPD activity for the holder (or as the holder with --as-person)."""
    from item_bank_sync.recertification import cpd

    doc = (evidence_file.name, read_upload(evidence_file, MAX_BYTES)) if evidence_file else None
    record = cpd.add(central(ctx), actor, certificate_id, category=category, credits=credit,
                     activity_date=activity_date, description=description, evidence=doc)
    emit(ctx, record.to_dict(), lambda c: c.print(f"{record.record_id}: {record.credits:g} {record.category} "
                                                  f"credits recorded", highlight=False))


@cpd_group.command("list")
@click.argument("certificate_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def cpd_list(ctx: click.Context, certificate_id: str, actor: Actor) -> None:
    """The CPD records of a certificate with their audit status."""
    from item_bank_sync.recertification import cpd

    rows = [r.to_dict() for r in cpd.list_for(central(ctx), actor, certificate_id)]
    columns = ["record_id", "activity_date", "category", "credits", "audit_status", "renewal_id"]
    emit(ctx, rows, _table(rows, columns, f"CPD of {certificate_id}"))


@cpd_group.command("evidence")
@click.argument("record_id")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the document (refused if it exists).")
@acting(AUDITOR)
@json_option
@click.pass_context
@refusals_exit
def cpd_evidence(ctx: click.Context, record_id: str, out_path: Path, actor: Actor) -> None:
    """Write a CPD record's evidence document, opened for an auditor, registrar or admin (the read is audited)."""
    from item_bank_sync.recertification import cpd

    record, data = cpd.evidence(central(ctx), actor, record_id)
    with out_path.open("xb") as handle:   # never overwrite: the operator named a new file
        handle.write(data)
    emit(ctx, {"record_id": record.record_id, "out": str(out_path), "media_type": record.evidence_media_type,
               "sha256": record.evidence_sha256}, lambda c: c.print(f"wrote {out_path}", highlight=False))


@recert_group.command("sample")
@click.option("--share", type=click.FloatRange(0, 1, min_open=True), required=True,
              help="Share of the CPD records not yet sampled to draw for audit (0.1: a tenth).")
@click.option("--seed", help="Seed of the draw (default: a random one, recorded); the same seed and records "
                             "draw the same sample.")
@acting(AUDITOR)
@json_option
@click.pass_context
@refusals_exit
def sample_command(ctx: click.Context, share: float, seed: str | None, actor: Actor) -> None:
    """Draw a seeded, recorded sample of CPD records for audit."""
    from item_bank_sync.recertification import cpd

    drawn = cpd.sample(central(ctx), actor, share, seed)
    emit(ctx, drawn.to_dict(), lambda c: c.print(f"{drawn.sample_id}: {len(drawn.drawn)} of {drawn.population} "
                                                 f"record(s) drawn (seed {drawn.seed})", highlight=False))


@recert_group.command("audit")
@click.argument("record_id")
@click.option("--verdict", type=click.Choice(["verified", "rejected"]), required=True)
@click.option("--reason", required=True, help="What was checked, or why the record is rejected.")
@acting(AUDITOR)
@json_option
@click.pass_context
@refusals_exit
def audit_command(ctx: click.Context, record_id: str, verdict: str, reason: str, actor: Actor) -> None:
    """An auditor verifies or rejects a sampled CPD record."""
    from item_bank_sync.recertification import cpd

    record = cpd.audit(central(ctx), actor, record_id, verdict, reason)
    emit(ctx, record.to_dict(), lambda c: c.print(f"{record.record_id}: {record.audit_status}", highlight=False))


@recert_group.command("status")
@click.argument("certificate_id")
@json_option
@click.pass_context
@refusals_exit
def status_command(ctx: click.Context, certificate_id: str) -> None:
    """Where the holder stands against the scheme's recertification rules in the current cycle."""
    from item_bank_sync.recertification.renewal import standing

    now = standing(central(ctx), certificate_id)
    verdict = "meets the rules" if now.assessment.met else "; ".join(now.assessment.shortfalls)
    emit(ctx, now.to_dict(), lambda c: c.print(f"{certificate_id}: {verdict}", highlight=False))


@recert_group.command("renew")
@click.argument("certificate_id")
@click.option("--by", "by", required=True,
              help="Who decides (never the proctor or a marker of the holder's attempt; recorded).")
@json_option
@click.pass_context
@refusals_exit
def renew_command(ctx: click.Context, certificate_id: str, by: str) -> None:
    """Renew a certificate whose holder meets the rules: a new credential for a new period."""
    from item_bank_sync.recertification.renewal import renew

    done = renew(central(ctx), certificate_id, by)
    emit(ctx, done.to_dict(), lambda c: c.print(f"{certificate_id}: renewed until {done.new_valid_until}",
                                                highlight=False))


@recert_group.command("due")
@click.option("--within", "within", type=click.IntRange(0, 3650), required=True, help="Days ahead.")
@json_option
@click.pass_context
@refusals_exit
def due_command(ctx: click.Context, within: int) -> None:
    """Certificates in force whose period ends within DAYS (or has ended), with where each holder stands."""
    from item_bank_sync.recertification.due import due

    rows = [d.to_dict() for d in due(central(ctx), within)]
    emit(ctx, rows, _table(rows, DUE_COLUMNS, f"Due within {within} days"))


@recert_group.command("remind")
@click.option("--within", "within", type=click.IntRange(0, 3650), required=True, help="Days ahead.")
@click.option("--by", "by", required=True, help="Who runs the reminders (recorded in the audit chain).")
@json_option
@click.pass_context
@refusals_exit
def remind_command(ctx: click.Context, within: int, by: str) -> None:
    """Remind holders whose certificate ends within DAYS, once per certificate and threshold
    (e-mail through the body's relay when mail is set up, else kept for the portal)."""
    from item_bank_sync.recertification.due import remind

    sent = [r.to_dict() for r in remind(central(ctx), within, by)]
    emit(ctx, sent, lambda c: c.print(f"{len(sent)} reminder(s) this run", highlight=False))
