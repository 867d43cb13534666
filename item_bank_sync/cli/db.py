"""``db migrate``, ``db copy --to URL``, ``backup --out FILE``, ``backup verify FILE``, ``restore FILE``:
the central body's database operations (docs/OPERATIONS.md), on SQLite and PostgreSQL alike.

Every table must be known to copy, back up or restore it, so this module loads every owner's
schema module (each defines its tables on the data layer's MetaData when imported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import item_bank_sync.bank.schema
import item_bank_sync.cases.schema
import item_bank_sync.certificates.schema
import item_bank_sync.db.audit
import item_bank_sync.mail.schema
import item_bank_sync.portal.schema
import item_bank_sync.public.schema
import item_bank_sync.recertification.schema
import item_bank_sync.registry.schema
import item_bank_sync.release.schema
import item_bank_sync.results.schema
import item_bank_sync.sittings.schema
import item_bank_sync.trust.schema  # noqa: F401
from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.context import CentralContext
from item_bank_sync.db import open_central
from item_bank_sync.db.audit import CentralAudit
from item_bank_sync.db.engine import safe_label
from item_bank_sync.db.migrate import upgrade
from item_bank_sync.db.ops import copy_database, restore_backup, verify_backup, write_backup


@click.group("db")
def db_group() -> None:
    """The central body's database: schema migrations and moving it to another database."""


@db_group.command("migrate")
@json_option
@click.pass_context
@refusals_exit
def db_migrate(ctx: click.Context) -> None:
    """Apply every schema migration not yet applied (also done when any command opens the store)."""
    context = central(ctx)
    stores = open_central(context.data_dir, context.db_url, migrate=False)
    try:
        done = upgrade(stores)
    finally:
        stores.dispose()
    data = {"database": stores.label, "stores": done}
    emit(ctx, data, lambda c: c.print("\n".join(f"{store}: {step['from'] or '(empty)'} -> {step['to']}"
                                                for store, step in done.items()), highlight=False))


@db_group.command("copy")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="Empty database to copy into (postgresql+psycopg://user@host/db).")
@json_option
@click.pass_context
@refusals_exit
def db_copy(ctx: click.Context, target_url: str) -> None:
    """Copy every table to another database and verify it: row counts and content digests of every
    table, and the audit chain with the central key. The source stays in use meanwhile (each
    store is read in one snapshot)."""
    context = central(ctx)
    target = open_central(context.data_dir, target_url, migrate=False)
    try:
        copied = copy_database(context.db(), target)
        audit = _verify_audit(context, target.bank)
    finally:
        target.dispose()
    data = {"from": context.db().label, "to": safe_label(target_url), **copied, "audit": audit}
    emit(ctx, data, lambda c: c.print(f"copied {copied['rows']} rows in {len(copied['tables'])} tables to "
                                      f"{data['to']}; counts and digests match; audit chain of "
                                      f"{audit['entries']} entries verifies", highlight=False))


@click.group("backup", invoke_without_command=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Backup file to write (gzip'd JSON lines with a SHA-256 checksum).")
@json_option
@click.pass_context
@refusals_exit
def backup_group(ctx: click.Context, out_path: Path | None) -> None:
    """Write an online, consistent backup of the database (``backup --out FILE``), or check one
    (``backup verify FILE``). Keys, media and packages are files: back up the data directory too."""
    if ctx.invoked_subcommand is not None:
        return
    if out_path is None:
        raise click.UsageError("give --out FILE (or `backup verify FILE`)")
    summary = write_backup(central(ctx).db(), out_path)
    emit(ctx, summary, lambda c: c.print(f"wrote {out_path}: {sum(t['rows'] for t in summary['tables'].values())} "
                                         f"rows in {len(summary['tables'])} tables, sha256 {summary['sha256']}",
                                         highlight=False))


@backup_group.command("verify")
@click.argument("backup_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
@refusals_exit
def backup_verify(ctx: click.Context, backup_path: Path) -> None:
    """Check a backup file whole: its checksum and every table's row count and digest."""
    summary = verify_backup(backup_path)
    emit(ctx, summary, lambda c: c.print(f"{backup_path}: intact, {len(summary['tables'])} tables, "
                                         f"{sum(t['rows'] for t in summary['tables'].values())} rows, "
                                         f"made {summary['created']}", highlight=False))


@click.command("restore")
@click.argument("backup_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
@refusals_exit
def restore_command(ctx: click.Context, backup_path: Path) -> None:
    """Restore a backup into an empty database (``--db URL``, or a data directory without one).

    The file is verified whole first and refused if its checksum fails; after loading, every
    table is compared with the backup, the schema is migrated, and the audit chain is verified
    when the data directory holds the central key.
    """
    context = central(ctx)
    target = open_central(context.data_dir, context.db_url, migrate=False)
    try:
        restored = restore_backup(backup_path, target)
        audit = _verify_audit(context, target.bank) if context.signing_key_path.exists() else None
    finally:
        target.dispose()
    data = {**restored, "audit": audit}
    emit(ctx, data, lambda c: c.print(f"restored {restored['rows']} rows in {len(restored['tables'])} tables "
                                      f"from {backup_path}" + (f"; audit chain of {audit['entries']} entries "
                                                               "verifies" if audit else ""), highlight=False))


def _verify_audit(context: CentralContext, bank: Any) -> dict[str, Any]:
    report = CentralAudit(bank).verify(context.load_signing_key().public_key())
    return {"entries": report.entries, "checkpoints": report.checkpoints, "head": report.head}


