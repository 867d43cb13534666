"""``cases``: appeals and complaints (ISO/IEC 17024 9.8, 9.9) and the re-score replay;
``corrective``: the corrective-action register; ``evidence``: the accreditation evidence pack
(10.2). Services: :mod:`item_bank_sync.cases.handling`, ``cases.rescore``, ``cases.corrective``,
``cases.evidence``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit

by_option = click.option("--by", "by", required=True, help="Who acts (recorded in the case and the audit chain).")


def _shown(ctx: click.Context, case: dict[str, Any]) -> None:
    emit(ctx, case, lambda c: c.print(f"{case['case_id']}: {case['status']}", highlight=False))


@click.group("cases")
def cases_group() -> None:
    """Appeals and complaints: lodge, acknowledge, assign an impartial handler, decide; re-score."""


@cases_group.command("lodge")
@click.option("--kind", type=click.Choice(["appeal", "complaint"]), required=True)
@click.option("--category", required=True,
              help="appeal: result, decision, certificate; complaint: body, centre, certified_person.")
@click.option("--person", required=True, help="Who lodges it (candidate or person id, or a name): told the outcome.")
@click.option("--summary-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The person's words (kept with the case, never in the audit chain).")
@click.option("--attempt")
@click.option("--certificate")
@click.option("--centre")
@click.option("--via", type=click.Choice(["staff", "portal"]), default="staff", show_default=True)
@click.option("--accept-late", "late_reason", metavar="REASON",
              help="Accept an appeal after its deadline, for this reason (recorded and audited).")
@by_option
@json_option
@click.pass_context
@refusals_exit
def lodge_command(ctx: click.Context, kind: str, category: str, person: str, summary_file: Path,
                  attempt: str | None, certificate: str | None, centre: str | None, via: str,
                  late_reason: str | None, by: str) -> None:
    """Record an appeal or a complaint (an appeal after its deadline only with --accept-late)."""
    from item_bank_sync.cases.handling import get, lodge

    case_id = lodge(central(ctx), by, kind, category, person, summary_file.read_text("utf-8"), attempt_id=attempt,
                    certificate_id=certificate, centre_id=centre, via=via, late_reason=late_reason)
    _shown(ctx, get(central(ctx), case_id))


@cases_group.command("acknowledge")
@click.argument("case_id")
@click.option("--days", type=int, default=30, show_default=True, help="Days until the body responds.")
@by_option
@json_option
@click.pass_context
@refusals_exit
def acknowledge_command(ctx: click.Context, case_id: str, days: int, by: str) -> None:
    """Acknowledge a case with a response deadline (the person is told)."""
    from item_bank_sync.cases.handling import acknowledge

    _shown(ctx, acknowledge(central(ctx), by, case_id, days))


@cases_group.command("assign")
@click.argument("case_id")
@click.option("--handler", required=True, help="Never a person involved in the examination, marking or decision.")
@by_option
@json_option
@click.pass_context
@refusals_exit
def assign_command(ctx: click.Context, case_id: str, handler: str, by: str) -> None:
    """Assign an impartial handler (refused for anyone involved)."""
    from item_bank_sync.cases.handling import assign

    _shown(ctx, assign(central(ctx), by, case_id, handler))


@cases_group.command("progress")
@click.argument("case_id")
@click.option("--note", required=True)
@by_option
@json_option
@click.pass_context
@refusals_exit
def progress_command(ctx: click.Context, case_id: str, note: str, by: str) -> None:
    """Record the investigation's progress (the handler)."""
    from item_bank_sync.cases.handling import progress

    _shown(ctx, progress(central(ctx), by, case_id, note))


@cases_group.command("decide")
@click.argument("case_id")
@click.option("--outcome", type=click.Choice(["upheld", "partly_upheld", "dismissed"]), required=True)
@click.option("--text", required=True, help="The outcome as told to the person.")
@by_option
@json_option
@click.pass_context
@refusals_exit
def decide_command(ctx: click.Context, case_id: str, outcome: str, text: str, by: str) -> None:
    """The handler's outcome, told to the person."""
    from item_bank_sync.cases.handling import decide

    _shown(ctx, decide(central(ctx), by, case_id, outcome, text))


@cases_group.command("close")
@click.argument("case_id")
@by_option
@json_option
@click.pass_context
@refusals_exit
def close_command(ctx: click.Context, case_id: str, by: str) -> None:
    """Close a decided case."""
    from item_bank_sync.cases.handling import close

    _shown(ctx, close(central(ctx), by, case_id))


@cases_group.command("show")
@click.argument("case_id")
@json_option
@click.pass_context
@refusals_exit
def show_command(ctx: click.Context, case_id: str) -> None:
    """A case with its history and the messages sent to the person."""
    from item_bank_sync.cases.handling import get

    emit(ctx, get(central(ctx), case_id))


@cases_group.command("list")
@click.option("--kind", type=click.Choice(["appeal", "complaint"]))
@click.option("--status")
@json_option
@click.pass_context
@refusals_exit
def list_command(ctx: click.Context, kind: str | None, status: str | None) -> None:
    """Cases, oldest first (without the person's words)."""
    from item_bank_sync.cases.handling import listing

    emit(ctx, listing(central(ctx), kind, status))


@cases_group.command("rescore")
@click.argument("attempt_id")
@click.option("--key-from", "key_refs", multiple=True, metavar="ITEM@VERSION",
              help="Score this item with the key of this (corrected) version; repeatable.")
@click.option("--apply", is_flag=True, help="Store changed scores and act on a changed pass/fail.")
@click.option("--case", "case_id", help="The appeal this re-score answers (noted in its history).")
@click.option("--flags-reviewed", is_flag=True,
              help="State that you reviewed the attempt's integrity flags (needed when a changed outcome "
                   "on a flagged attempt becomes a new decision).")
@click.option("--reason", required=True)
@by_option
@json_option
@click.pass_context
@refusals_exit
def rescore_command(ctx: click.Context, attempt_id: str, key_refs: tuple[str, ...], apply: bool,
                    case_id: str | None, flags_reviewed: bool, reason: str, by: str) -> None:
    """Replay the attempt from its exact original inputs and compare bit for bit; with --key-from,
    after a key correction. Exit status 0 either way; see "identical" and "changed_slots"."""
    from item_bank_sync.cases.handling import check_acting_handler, note_event
    from item_bank_sync.cases.keys import corrections_of
    from item_bank_sync.cases.rescore import rescore

    corrections = corrections_of(central(ctx), list(key_refs))
    if case_id:     # for an appeal, only its (impartial) handler
        check_acting_handler(central(ctx), case_id, by)
    done = rescore(central(ctx), attempt_id, by, reason, corrections=corrections, apply=apply,
                   flags_reviewed=flags_reviewed)
    if case_id:
        note_event(central(ctx), by, case_id, "rescore",
                   f"{done.kind}: identical={done.identical} applied={done.applied} decision={done.decision}")
    emit(ctx, done.to_dict())


@click.group("corrective")
def corrective_group() -> None:
    """The corrective-action register: open, update (root cause, action, effectiveness), close."""


@corrective_group.command("open")
@click.option("--source", type=click.Choice(["incident", "appeal", "complaint", "audit_finding", "item_analysis"]),
              required=True)
@click.option("--ref", "source_ref", default="", help="The incident, case, finding or form it comes from.")
@click.option("--description", required=True)
@click.option("--root-cause", default="")
@click.option("--action", default="")
@by_option
@json_option
@click.pass_context
@refusals_exit
def corrective_open_command(ctx: click.Context, source: str, source_ref: str, description: str, root_cause: str,
                            action: str, by: str) -> None:
    """Open a corrective action."""
    from item_bank_sync.cases.corrective import get, open_action

    action_id = open_action(central(ctx), by, source, description, source_ref=source_ref, root_cause=root_cause,
                            action=action)
    emit(ctx, get(central(ctx), action_id))


@corrective_group.command("update")
@click.argument("action_id", type=int)
@click.option("--root-cause")
@click.option("--action")
@click.option("--effectiveness-check")
@by_option
@json_option
@click.pass_context
@refusals_exit
def corrective_update_command(ctx: click.Context, action_id: int, root_cause: str | None, action: str | None,
                              effectiveness_check: str | None, by: str) -> None:
    """Record a root cause, an action or the effectiveness check."""
    from item_bank_sync.cases.corrective import update_action

    emit(ctx, update_action(central(ctx), by, action_id, root_cause=root_cause, action=action,
                            effectiveness_check=effectiveness_check))


@corrective_group.command("close")
@click.argument("action_id", type=int)
@by_option
@json_option
@click.pass_context
@refusals_exit
def corrective_close_command(ctx: click.Context, action_id: int, by: str) -> None:
    """Close an action (refused until root cause, action and effectiveness check are recorded)."""
    from item_bank_sync.cases.corrective import close_action

    emit(ctx, close_action(central(ctx), by, action_id))


@corrective_group.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]))
@json_option
@click.pass_context
@refusals_exit
def corrective_list_command(ctx: click.Context, status: str | None) -> None:
    """The register."""
    from item_bank_sync.cases.corrective import listing

    emit(ctx, listing(central(ctx), status))


@click.command("evidence")
@click.option("--scheme", "scheme_id", required=True)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A new or empty directory.")
@by_option
@json_option
@click.pass_context
@refusals_exit
def evidence_command(ctx: click.Context, scheme_id: str, start: str, end: str, out: Path, by: str) -> None:
    """Write the accreditation evidence pack (index.html and the raw JSON) for a scheme and period."""
    from item_bank_sync.cases.evidence import period, write_pack

    summary = write_pack(central(ctx), scheme_id, period(start, end), out)
    central(ctx).audit_log().append(by, "evidence.pack", {"scheme_id": scheme_id, "from": start, "to": end})
    emit(ctx, summary, lambda c: c.print(f"evidence pack: {summary['index']}", highlight=False))


@cases_group.command("remark-ask")
@click.argument("case_id")
@click.option("--item", "item_id", required=True, help="The human-marked item to mark again.")
@click.option("--marker", required=True, help="The marker asked (never one involved in the attempt).")
@by_option
@json_option
@click.pass_context
@refusals_exit
def remark_ask_command(ctx: click.Context, case_id: str, item_id: str, marker: str, by: str) -> None:
    """The case's handler asks one named marker to re-mark an item (only that marker may answer)."""
    from item_bank_sync.cases.remark_requests import ask, get_request

    emit(ctx, get_request(central(ctx), ask(central(ctx), by, case_id, item_id, marker)))


@cases_group.command("remark-withdraw")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why the request is withdrawn (kept with the case).")
@by_option
@json_option
@click.pass_context
@refusals_exit
def remark_withdraw_command(ctx: click.Context, request_id: int, reason: str, by: str) -> None:
    """The case's handler withdraws an open re-mark request, with a reason."""
    from item_bank_sync.cases.remark_requests import withdraw

    emit(ctx, withdraw(central(ctx), by, request_id, reason))


@cases_group.command("remarks")
@click.option("--by", "by", required=True, help="The marker whose open requests are listed.")
@json_option
@click.pass_context
@refusals_exit
def remarks_command(ctx: click.Context, by: str) -> None:
    """The open re-mark requests asked of a marker (never the person's words or earlier marks)."""
    from item_bank_sync.cases.remark_requests import open_for

    emit(ctx, open_for(central(ctx), by))


@cases_group.command("remark")
@click.argument("request_id", type=int)
@click.option("--score", type=float, required=True)
@click.option("--note", default="")
@click.option("--by", "by", required=True, help="The marker the request names (nobody else may answer it).")
@json_option
@click.pass_context
@refusals_exit
def remark_command(ctx: click.Context, request_id: int, score: float, note: str, by: str) -> None:
    """Answer a re-mark request, once (the handler applies the re-mark with apply-remark)."""
    from item_bank_sync.cases.remark_requests import answer

    emit(ctx, {"remark_id": answer(central(ctx), request_id, by, score, note), "request_id": request_id})


@cases_group.command("apply-remark")
@click.argument("remark_id", type=int)
@click.option("--case", "case_id", help="The appeal this re-mark answers (noted in its history).")
@click.option("--flags-reviewed", is_flag=True,
              help="State that you reviewed the attempt's integrity flags (needed when a changed outcome "
                   "on a flagged attempt becomes a new decision).")
@by_option
@json_option
@click.pass_context
@refusals_exit
def apply_remark_command(ctx: click.Context, remark_id: int, case_id: str | None, flags_reviewed: bool,
                         by: str) -> None:
    """Make a re-mark the response's score; a changed pass/fail becomes a new decision."""
    from item_bank_sync.cases.handling import check_acting_handler, note_event
    from item_bank_sync.cases.remark import apply_remark

    if case_id:     # for an appeal, only its (impartial) handler
        check_acting_handler(central(ctx), case_id, by)
    done = apply_remark(central(ctx), remark_id, by, flags_reviewed=flags_reviewed)
    if case_id:
        note_event(central(ctx), by, case_id, "remark", f"re-mark {remark_id} applied: decision={done.decision}")
    emit(ctx, done.to_dict())


@cases_group.command("open-corrective")
@click.argument("case_id")
@click.option("--description", required=True)
@by_option
@json_option
@click.pass_context
@refusals_exit
def open_corrective_command(ctx: click.Context, case_id: str, description: str, by: str) -> None:
    """Open a corrective action from this case (noted in its history)."""
    from item_bank_sync.cases.corrective import get
    from item_bank_sync.cases.handling import open_corrective

    emit(ctx, get(central(ctx), open_corrective(central(ctx), by, case_id, description)))
