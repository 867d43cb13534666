"""``packages import|list`` and ``roster import|import-signed|list|readmit|override``: form packages and
candidates, through the same services as the admin and roster pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from exam_core import roster_wire
from proctor_console import services
from proctor_console.accounts import User
from proctor_console.cli.common import by_option, console_context, out, refusals
from proctor_console.errors import Forbidden, InvalidRequest


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


@roster_group.command("import-signed", help="Import a session roster signed by the central body (verified: "
                                            "signature, this centre, newer than the one held, scheme's policy).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@by_option
@click.pass_obj
def roster_import_signed(obj: dict[str, Any], file: Path, as_json: bool, by: str) -> None:
    service = services.signed_rosters(console_context(obj))
    with refusals():
        if file.stat().st_size > roster_wire.ROSTER_MAX_BYTES:
            raise InvalidRequest(f"{file}: larger than {roster_wire.ROSTER_MAX_BYTES} bytes")
        done = service.import_document(file.read_bytes(), file.name, by)
    out(done.to_dict(), as_json, f"Session {done.session_id}: roster version {done.version} {done.status} "
                                 f"({done.candidates} candidate(s)).")


@roster_group.command("override", help="Put someone not on the roster on it, with a reason (centre admins only).")
@click.argument("candidate_id")
@click.option("--name", required=True)
@click.option("--scheme", "scheme_id", required=True)
@click.option("--seat", default="")
@click.option("--reason", required=True, help="Why they may sit though not on the roster (audit chain).")
@click.option("--by", required=True, help="The centre admin account that decides it.")
@click.pass_obj
def roster_override(obj: dict[str, Any], candidate_id: str, name: str, scheme_id: str, seat: str, reason: str,
                    by: str) -> None:
    ctx = console_context(obj)
    with refusals():
        services.signed_rosters(ctx).override(_admin(ctx, by), candidate_id=candidate_id, name=name,
                                              scheme_id=scheme_id, seat=seat, reason=reason)
    click.echo(f"Candidate {candidate_id} added to the roster by {by}.")


def _candidate_line(c: dict[str, Any]) -> str:
    """One candidate as ``roster list`` prints it: seat, id, name, scheme, accommodations, checks."""
    policy = c["policy"]
    check = {"none": "", "allowed": " [scheme allows]", "unknown": " [not checked: no scheme policy yet]",
             "refused": f" [NOT ALLOWED: {'; '.join(policy['reasons'])}]"}[policy["status"]]
    sat = "; ".join(f"{s['package_id']} on {s['kiosk_id']} ({s['state']})" for s in c["sat"])
    again = f" [re-admission allowed by {c['readmission']['granted_by']}]" if c["readmission"] else ""
    return (f"{c['seat'] or '-'}\t{c['candidate_id']}\t{c['name']}\t{c['scheme_id']}\t"
            f"accommodations: {c['accommodations_text']}{check}\tsat: {sat or 'no'}{again}")


@roster_group.command("list", help="Candidates with their accommodations, whether the scheme allows them, "
                                   "and who has already sat.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def roster_list(obj: dict[str, Any], as_json: bool) -> None:
    rows = services.candidates(console_context(obj)).listing()
    out(rows, as_json, "\n".join(_candidate_line(c) for c in rows) or "No candidates.")


@roster_group.command("readmit", help="Allow a candidate who has sat one more admission (centre admins only).")
@click.argument("candidate_id")
@click.option("--reason", required=True, help="Why the candidate may sit again (written to the audit chain).")
@click.option("--by", required=True, help="The centre admin account that allows it.")
@click.pass_obj
def roster_readmit(obj: dict[str, Any], candidate_id: str, reason: str, by: str) -> None:
    ctx = console_context(obj)
    with refusals():
        grant = services.candidates(ctx).allow_readmission(_admin(ctx, by), candidate_id, reason)
    click.echo(f"Candidate {candidate_id} may be admitted once more (grant {grant}).")


@roster_group.command("allow-outside-window",
                      help="Allow one admission outside the candidate's session time (centre admins only).")
@click.argument("candidate_id")
@click.option("--reason", required=True, help="Why they may be admitted before or after the window (audit chain).")
@click.option("--by", required=True, help="The centre admin account that allows it.")
@click.pass_obj
def roster_allow_outside_window(obj: dict[str, Any], candidate_id: str, reason: str, by: str) -> None:
    ctx = console_context(obj)
    with refusals():
        grant = services.signed_rosters(ctx).allow_outside_window(_admin(ctx, by), candidate_id, reason)
    click.echo(f"Candidate {candidate_id} may be admitted once outside the session's time (grant {grant}).")


def _admin(ctx: Any, name: str) -> User:
    """``--by`` as the account it names: only an enabled centre admin may allow a re-admission."""
    account = next((u for u in services.accounts(ctx).listing() if u["name"] == name), None)
    if account is None or account["state"] == "disabled":
        raise Forbidden(f"--by {name}: no enabled account of that name")
    return User(name, account["role"])
