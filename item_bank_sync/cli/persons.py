"""``persons`` and ``conflicts``: the body's register of people, their photo and consents, and staff
members' declared relationships with them (item_bank_sync/registry)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.cli.registry_common import acting, read_upload
from item_bank_sync.registry import conflicts, persons
from item_bank_sync.registry.actors import REGISTRAR, Actor


@click.group("persons")
def persons_group() -> None:
    """Persons: one record per person across schemes and attempts (identity, contact, photo, consents)."""


def _show(c: Console, person: persons.Person) -> None:
    c.print(f"{person.person_id}  {person.full_name}  <{person.email}>  born {person.date_of_birth or '-'}  "
            f"photo {person.photo_sha256 or '-'}", highlight=False)
    for consent in person.consents:
        c.print(f"  consent {consent.purpose} v{consent.text_version}: {'given' if consent.given else 'withdrawn'} "
                f"{consent.recorded_at}", highlight=False)


@persons_group.command("add")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--email", required=True)
@click.option("--date-of-birth", metavar="YYYY-MM-DD")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def persons_add(ctx: click.Context, given_name: str, family_name: str, email: str, date_of_birth: str | None,
                actor: Actor) -> None:
    """Register a person (one per e-mail address)."""
    person = persons.add(central(ctx), actor, given_name=given_name, family_name=family_name, email=email,
                         date_of_birth=date_of_birth)
    emit(ctx, person.to_dict(), lambda c: _show(c, person))


@persons_group.command("show")
@click.argument("person_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def persons_show(ctx: click.Context, person_id: str, actor: Actor) -> None:
    """A person's record (the read is logged)."""
    person = persons.show(central(ctx), actor, person_id)
    emit(ctx, person.to_dict(), lambda c: _show(c, person))


@persons_group.command("list")
@click.option("--email", help="Only the person with this address.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def persons_list(ctx: click.Context, email: str | None, actor: Actor) -> None:
    """Persons, newest first."""
    found = persons.list_persons(central(ctx), actor, email=email)

    def human(c: Console) -> None:
        table = Table("person", "name", "e-mail", "photo")
        for p in found:
            table.add_row(p.person_id, p.full_name, p.email, "yes" if p.photo_sha256 else "-")
        c.print(table)
    emit(ctx, {"persons": [p.to_dict() for p in found]}, human)


@persons_group.command("photo")
@click.argument("person_id")
@click.option("--set", "set_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Store this JPEG or PNG as the identity-check photo (re-encoded).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the stored photo (JPEG) here.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def persons_photo(ctx: click.Context, person_id: str, set_file: Path | None, out: Path | None, actor: Actor) -> None:
    """Set (--set FILE) or fetch (--out FILE) a person's identity-check photo."""
    if (set_file is None) == (out is None):
        raise click.UsageError("give exactly one of --set FILE or --out FILE")
    if out is None and set_file is not None:
        person = persons.set_photo(central(ctx), actor, person_id, read_upload(set_file, persons.PHOTO_MAX_BYTES))
        emit(ctx, {"person_id": person_id, "photo_sha256": person.photo_sha256},
             lambda c: c.print(f"photo of {person_id}: {person.photo_sha256}", highlight=False))
        return
    if out is None:
        return
    jpeg = persons.photo(central(ctx), actor, person_id)
    out.write_bytes(jpeg)
    out.chmod(0o600)
    emit(ctx, {"person_id": person_id, "written": str(out), "bytes": len(jpeg)},
         lambda c: c.print(f"wrote {out} ({len(jpeg)} bytes)", highlight=False))


@persons_group.command("consent")
@click.argument("person_id")
@click.option("--purpose", required=True, type=click.Choice(persons.CONSENT_PURPOSES))
@click.option("--text-version", required=True, help="Version of the consent text the person saw.")
@click.option("--withdraw", is_flag=True, help="Record that the consent was withdrawn.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def persons_consent(ctx: click.Context, person_id: str, purpose: str, text_version: str, withdraw: bool,
                    actor: Actor) -> None:
    """Record consent given (or withdrawn) for a purpose, with the text version and time."""
    person = persons.consent(central(ctx), actor, person_id, purpose=purpose, text_version=text_version,
                             given=not withdraw)
    emit(ctx, person.to_dict(), lambda c: _show(c, person))


@click.group("conflicts")
def conflicts_group() -> None:
    """Conflicts of interest: staff members' relationships with persons (trainer, employer, relative, other).

    A staff member who declared one cannot decide that person's application or accommodations,
    book for them, mark their attempts or decide their results."""


def _declarations(c: Console, found: list[conflicts.Declaration]) -> None:
    table = Table("id", "staff", "person", "relationship", "declared", "withdrawn")
    for d in found:
        table.add_row(str(d.conflict_id), d.staff, d.person_id, d.relationship, d.declared_at, d.withdrawn_at or "-")
    c.print(table)


@conflicts_group.command("declare")
@click.option("--person", "person_id", required=True)
@click.option("--relationship", required=True, type=click.Choice(conflicts.RELATIONSHIPS))
@click.option("--note", default="")
@click.option("--staff", help="Declare for another staff member (admin only; default: --by).")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def conflicts_declare(ctx: click.Context, person_id: str, relationship: str, note: str, staff: str | None,
                      actor: Actor) -> None:
    """Declare a relationship with a person."""
    found = conflicts.declare(central(ctx), actor, person_id=person_id, relationship=relationship, note=note,
                              staff=staff)
    emit(ctx, found.to_dict(), lambda c: _declarations(c, [found]))


@conflicts_group.command("list")
@click.option("--staff")
@click.option("--person", "person_id")
@click.option("--active", is_flag=True, help="Only declarations not withdrawn.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def conflicts_list(ctx: click.Context, staff: str | None, person_id: str | None, active: bool, actor: Actor) -> None:
    """Declarations (your own, or all for registrar, admin and auditor)."""
    found = conflicts.list_declarations(central(ctx), actor, staff=staff, person_id=person_id, active_only=active)
    emit(ctx, {"conflicts": [d.to_dict() for d in found]}, lambda c: _declarations(c, found))


@conflicts_group.command("withdraw")
@click.argument("conflict_id", type=int)
@click.option("--reason", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def conflicts_withdraw(ctx: click.Context, conflict_id: int, reason: str, actor: Actor) -> None:
    """End a declaration, with the reason (the record is kept)."""
    found = conflicts.withdraw(central(ctx), actor, conflict_id, reason)
    emit(ctx, found.to_dict(), lambda c: _declarations(c, [found]))
