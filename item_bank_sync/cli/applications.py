"""``applications`` and ``accommodations``: applying for a scheme version (answers, evidence, the
applicant agreement, eligibility, the registrar's decision, an appeal lodged), and accommodation
requests approved within the scheme or refused (item_bank_sync/registry)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.cli.registry_common import acting, read_json_file, read_upload, settings
from item_bank_sync.registry import accommodations, applications, evidence
from item_bank_sync.registry.actors import REGISTRAR, Actor
from item_bank_sync.forms.schemes import EDUCATION_LEVELS

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("applications")
def applications_group() -> None:
    """Applications for a scheme version: submit, evidence, eligibility, decide, appeal."""


def _show_application(c: Console, app: applications.Application) -> None:
    c.print(f"{app.application_id}  person {app.person_id}  {app.scheme_id} v{app.scheme_version}  {app.status}  "
            f"eligibility {app.eligibility['result']}", highlight=False)
    for rule in app.eligibility["rules"]:
        c.print(f"  {rule['rule']}: {rule['result']} ({rule['reason']})", highlight=False)
    if app.decided_at:
        c.print(f"  decided by {app.decided_by} {app.decided_at}: {app.decision_reasons}", highlight=False)
    if app.appeal_possible:
        c.print("  an appeal may be lodged: `applications appeal ID --lodged`", highlight=False)


@applications_group.command("submit")
@click.option("--person", "person_id", required=True)
@click.option("--scheme", "scheme_id", required=True)
@click.option("--version", "scheme_version", type=int, required=True)
@click.option("--answers", "answers_file", type=FILE, help="JSON object of the applicant's answers.")
@click.option("--education", type=click.Choice(EDUCATION_LEVELS), help="Highest education level.")
@click.option("--experience-months", type=click.IntRange(0, 1200))
@click.option("--certification", "held", multiple=True, help="A scheme id whose certification is held (repeatable).")
@click.option("--accept-agreement", is_flag=True,
              help="The applicant accepts the code of conduct and the body's rules.")
@click.option("--rules-version", required=True, help="Version of the body's rules the applicant accepted.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_submit(ctx: click.Context, person_id: str, scheme_id: str, scheme_version: int,
                        answers_file: Path | None, education: str | None, experience_months: int | None,
                        held: tuple[str, ...], accept_agreement: bool, rules_version: str, actor: Actor) -> None:
    """Submit an application; the eligibility check runs at once."""
    answers: dict[str, Any] = read_json_file(answers_file, "--answers")
    answers.update({k: v for k, v in (("education_level", education), ("experience_months", experience_months),
                                      ("certifications_held", list(held) or None)) if v is not None})
    app = applications.submit(central(ctx), actor, person_id=person_id, scheme_id=scheme_id,
                              scheme_version=scheme_version, answers=answers,
                              accept_code_of_conduct=accept_agreement, body_rules_version=rules_version)
    emit(ctx, app.to_dict(), lambda c: _show_application(c, app))


@applications_group.command("show")
@click.argument("application_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_show(ctx: click.Context, application_id: str, actor: Actor) -> None:
    """An application with its eligibility result and evidence."""
    app = applications.show(central(ctx), actor, application_id)
    docs = evidence.list_for(central(ctx), actor, evidence.APPLICATION, application_id)
    emit(ctx, {**app.to_dict(), "evidence": [d.to_dict() for d in docs]}, lambda c: _show_application(c, app))


@applications_group.command("list")
@click.option("--status", type=click.Choice([applications.SUBMITTED, applications.ACCEPTED, applications.REFUSED]))
@click.option("--person", "person_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_list(ctx: click.Context, status: str | None, person_id: str | None, actor: Actor) -> None:
    """Applications oldest first (`--status submitted`: the registrar's queue)."""
    found = applications.list_applications(central(ctx), actor, status=status, person_id=person_id)

    def human(c: Console) -> None:
        table = Table("application", "person", "scheme", "status", "eligibility", "submitted")
        for a in found:
            table.add_row(a.application_id, a.person_id, f"{a.scheme_id} v{a.scheme_version}", a.status,
                          a.eligibility["result"], a.submitted_at)
        c.print(table)
    emit(ctx, {"applications": [a.to_dict() for a in found]}, human)


@applications_group.command("recheck")
@click.argument("application_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_recheck(ctx: click.Context, application_id: str, actor: Actor) -> None:
    """Run the automatic eligibility check again."""
    app = applications.recheck(central(ctx), actor, application_id)
    emit(ctx, app.to_dict(), lambda c: _show_application(c, app))


@applications_group.command("decide")
@click.argument("application_id")
@click.option("--accept/--refuse", required=True)
@click.option("--reasons", required=True)
@click.option("--valid-days", type=int, default=applications.DEFAULT_VALID_DAYS, show_default=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_decide(ctx: click.Context, application_id: str, accept: bool, reasons: str, valid_days: int,
                        actor: Actor) -> None:
    """Accept or refuse a submitted application, with reasons (registrar; not one with a conflict)."""
    app = applications.decide(central(ctx), actor, application_id, accept=accept, reasons=reasons,
                              valid_days=valid_days)
    emit(ctx, app.to_dict(), lambda c: _show_application(c, app))


@applications_group.command("appeal")
@click.argument("application_id")
@click.option("--lodged", is_flag=True, required=True, help="Record that an appeal was lodged.")
@click.option("--note", default="")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def applications_appeal(ctx: click.Context, application_id: str, lodged: bool, note: str, actor: Actor) -> None:
    """Record that the applicant appealed the refusal (the appeal case is handled by the appeals process)."""
    app = applications.lodge_appeal(central(ctx), actor, application_id, note=note)
    emit(ctx, app.to_dict(), lambda c: _show_application(c, app))


def _evidence_group(name: str, subject: str) -> click.Group:
    """``evidence add|get`` for one kind of subject (applications or accommodation requests)."""

    @click.group("evidence")
    def group() -> None:
        """Evidence documents: PDF, PNG or JPEG (by content), sealed at rest, served to registry roles."""

    @group.command("add")
    @click.argument("subject_id", metavar=name)
    @click.argument("file", type=FILE)
    @acting(REGISTRAR)
    @json_option
    @click.pass_context
    @refusals_exit
    def add(ctx: click.Context, subject_id: str, file: Path, actor: Actor) -> None:
        """Add FILE as evidence."""
        doc = evidence.add(central(ctx), actor, subject, subject_id, file.name, read_upload(file, evidence.MAX_BYTES))
        emit(ctx, doc.to_dict(), lambda c: c.print(f"{doc.document_id} {doc.media_type} {doc.size} bytes "
                                                   f"sha256 {doc.sha256}", highlight=False))

    @group.command("get")
    @click.argument("document_id")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @acting(REGISTRAR)
    @json_option
    @click.pass_context
    @refusals_exit
    def get(ctx: click.Context, document_id: str, out: Path, actor: Actor) -> None:
        """Write a document, decrypted, to --out (registrar, admin, auditor; the read is logged)."""
        doc, data = evidence.get(central(ctx), actor, document_id)
        out.write_bytes(data)
        out.chmod(0o600)
        emit(ctx, {**doc.to_dict(), "written": str(out)},
             lambda c: c.print(f"wrote {out} ({doc.media_type}, {len(data)} bytes)", highlight=False))

    return group


applications_group.add_command(_evidence_group("APPLICATION_ID", evidence.APPLICATION))


@click.group("accommodations")
def accommodations_group() -> None:
    """Accommodation requests: evidence, then a profile the scheme allows approved with expiry, or refused."""


def _show_request(c: Console, req: accommodations.AccommodationRequest) -> None:
    c.print(f"{req.request_id}  person {req.person_id}  {req.scheme_id} v{req.scheme_version}  {req.status}  "
            f"requested {json.dumps(req.requested)}", highlight=False)
    if req.decided_at:
        c.print(f"  {req.status} by {req.decided_by} {req.decided_at}: {req.decision_reasons}"
                + (f"; profile {json.dumps(req.profile)} until {req.expires_on}" if req.profile else ""),
                highlight=False)


@accommodations_group.command("request")
@click.option("--person", "person_id", required=True)
@click.option("--scheme", "scheme_id", required=True)
@click.option("--version", "scheme_version", type=int, required=True)
@click.option("--set", "pairs", multiple=True, metavar="NAME=VALUE",
              help="An adjustment, e.g. extra_time_percent=25 or large_text=true (repeatable).")
@click.option("--reason", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def accommodations_request(ctx: click.Context, person_id: str, scheme_id: str, scheme_version: int,
                           pairs: tuple[str, ...], reason: str, actor: Actor) -> None:
    """Request adjustments for a scheme version (beyond what the scheme allows is refused)."""
    req = accommodations.request(central(ctx), actor, person_id=person_id, scheme_id=scheme_id,
                                 scheme_version=scheme_version, requested=settings(pairs), reason=reason)
    emit(ctx, req.to_dict(), lambda c: _show_request(c, req))


@accommodations_group.command("approve")
@click.argument("request_id")
@click.option("--expires", "expires_on", required=True, metavar="YYYY-MM-DD")
@click.option("--reasons", required=True)
@click.option("--set", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Approve this profile instead of the request.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def accommodations_approve(ctx: click.Context, request_id: str, expires_on: str, reasons: str,
                           pairs: tuple[str, ...], actor: Actor) -> None:
    """Approve a profile within the scheme until --expires (registrar; not one with a conflict)."""
    req = accommodations.approve(central(ctx), actor, request_id, expires_on=expires_on, reasons=reasons,
                                 profile=settings(pairs) if pairs else None)
    emit(ctx, req.to_dict(), lambda c: _show_request(c, req))


@accommodations_group.command("refuse")
@click.argument("request_id")
@click.option("--reasons", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def accommodations_refuse(ctx: click.Context, request_id: str, reasons: str, actor: Actor) -> None:
    """Refuse a request, with reasons."""
    req = accommodations.refuse(central(ctx), actor, request_id, reasons=reasons)
    emit(ctx, req.to_dict(), lambda c: _show_request(c, req))


@accommodations_group.command("show")
@click.argument("request_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def accommodations_show(ctx: click.Context, request_id: str, actor: Actor) -> None:
    """A request, its decision and its evidence."""
    req = accommodations.show(central(ctx), actor, request_id)
    docs = evidence.list_for(central(ctx), actor, evidence.ACCOMMODATION, request_id)
    emit(ctx, {**req.to_dict(), "evidence": [d.to_dict() for d in docs]}, lambda c: _show_request(c, req))


@accommodations_group.command("list")
@click.option("--status", type=click.Choice([accommodations.REQUESTED, accommodations.APPROVED,
                                             accommodations.REFUSED]))
@click.option("--person", "person_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def accommodations_list(ctx: click.Context, status: str | None, person_id: str | None, actor: Actor) -> None:
    """Requests oldest first (`--status requested`: the registrar's queue)."""
    found = accommodations.list_requests(central(ctx), actor, status=status, person_id=person_id)
    def human(c: Console) -> None:
        for req in found:
            _show_request(c, req)
    emit(ctx, {"requests": [r.to_dict() for r in found]}, human)


accommodations_group.add_command(_evidence_group("REQUEST_ID", evidence.ACCOMMODATION))
