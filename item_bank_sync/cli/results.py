"""Results commands of the central body: ``intake``, ``marking``, ``decide``, ``results``, ``integrity``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit, results_db


def _table(rows: list[dict[str, Any]], columns: list[str], title: str):
    def show(console: Console) -> None:
        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(table)
    return show


# --- intake -------------------------------------------------------------------------------------

@click.group("intake")
def intake_group() -> None:
    """Envelopes received from test centres: accepted attempts, quarantine, manual intake."""


@intake_group.command("list")
@click.option("--status", type=click.Choice(["accepted", "quarantined"]), help="Only envelopes in this state.")
@json_option
@click.pass_context
@refusals_exit
def intake_list(ctx: click.Context, status: str | None) -> None:
    """List received envelopes with their status and, for quarantined ones, the reason."""
    from item_bank_sync.results.intake import envelope_listing

    rows = envelope_listing(results_db(ctx), status)
    emit(ctx, rows, _table(rows, ["received_at", "centre_id", "attempt_id", "status", "reason", "attestation",
                                  "review"], "Envelopes"))


@intake_group.command("attestations")
@click.option("--flagged", is_flag=True, help="Only envelopes flagged for review.")
@json_option
@click.pass_context
@refusals_exit
def intake_attestations(ctx: click.Context, flagged: bool) -> None:
    """The release-attestation verdict of every accepted envelope (see `releases`)."""
    from item_bank_sync.trust.release_allowlist import checks

    rows = checks(results_db(ctx), flagged)
    emit(ctx, rows, _table(rows, ["attempt_id", "status", "release", "flagged", "reason"], "Release attestations"))


@intake_group.command("file")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--via", "centre_id", required=True, help="Centre that delivered the files (must match the chain).")
@json_option
@click.pass_context
@refusals_exit
def intake_file(ctx: click.Context, paths: tuple[Path, ...], centre_id: str) -> None:
    """Take in envelope files delivered outside the sync path (verified exactly like an upload)."""
    from item_bank_sync.sync.store import SyncStore

    intake = SyncStore(central(ctx).data_dir, db_url=central(ctx).db_url).intake()
    results = [{"file": str(p), **{k: v for k, v in intake.receive(p.read_bytes(), centre_id).to_dict().items()
                                   if k != "receipt"}} for p in paths]
    emit(ctx, results, _table(results, ["file", "status", "attempt_id", "reason", "flags"], "Intake"))
    if any(r["status"] != "accepted" for r in results):
        ctx.exit(1)


@intake_group.command("retry")
@click.argument("sha256")
@json_option
@click.pass_context
@refusals_exit
def intake_retry(ctx: click.Context, sha256: str) -> None:
    """Run a quarantined envelope through every check again, once its cause has been dealt with."""
    from item_bank_sync.sync.store import SyncStore

    result = SyncStore(central(ctx).data_dir, db_url=central(ctx).db_url).intake().retry(sha256)
    data = {k: v for k, v in result.to_dict().items() if k != "receipt"}
    emit(ctx, data, lambda c: c.print(f"{sha256[:16]}: {result.status} {result.reason}", highlight=False))
    if result.status != "accepted":
        ctx.exit(1)


@intake_group.command("release")
@click.argument("sha256")
@click.option("--by", "by", required=True, help="Who reviewed and releases it (must not have proctored the attempt).")
@click.option("--reason", required=True, help="Why, after review, the attempt may be scored (recorded).")
@json_option
@click.pass_context
@refusals_exit
def intake_release(ctx: click.Context, sha256: str, by: str, reason: str) -> None:
    """Accept and score an envelope quarantined by a custody check after human review.

    Only a journal-head mismatch or a seal after the kiosk's revocation can be overridden; every
    other check runs again and must pass (never a tampered or undecryptable envelope). The
    quarantine reason and the override are kept (`intake releases`).
    """
    from item_bank_sync.results.audited import release_audited
    from item_bank_sync.sync.store import SyncStore

    intake = SyncStore(central(ctx).data_dir, db_url=central(ctx).db_url).intake()
    done = release_audited(central(ctx), intake, sha256, by, reason)
    emit(ctx, done.to_dict(), lambda c: c.print(
        f"{sha256[:16]}: accepted (attempt {done.attempt_id}), released by {done.released_by}; waived: "
        f"{'; '.join(done.waived)}", highlight=False))


@intake_group.command("releases")
@json_option
@click.pass_context
@refusals_exit
def intake_releases(ctx: click.Context) -> None:
    """Every quarantined envelope released after review: who, why, when, and what was waived."""
    from item_bank_sync.results.release import releases

    rows = releases(results_db(ctx))
    emit(ctx, rows, _table(rows, ["released_at", "attempt_id", "released_by", "reason", "quarantine_reason"],
                           "Releases after review"))


# --- marking -----------------------------------------------------------------------------------

@click.group("marking")
def marking_group() -> None:
    """Human marking of extended responses: two markers each, adjudication when they disagree."""


@marking_group.command("list")
@click.option("--status", type=click.Choice(["open", "adjudication", "done"]), help="Only tasks in this state.")
@json_option
@click.pass_context
@refusals_exit
def marking_list(ctx: click.Context, status: str | None) -> None:
    """List marking tasks with the marks given so far."""
    from item_bank_sync.results.marking import list_tasks

    rows = list_tasks(results_db(ctx), status)
    for row in rows:
        row["markers"] = ", ".join(f"{m['marker']}={m['score']:g}" for m in row["marks"])
    emit(ctx, rows, _table(rows, ["task_id", "attempt_id", "item_id", "max_score", "status", "markers", "final_score"],
                           "Marking tasks"))


@marking_group.command("tolerance")
@click.option("--form", "form_id", help="The form the setting is for (default: every form without its own).")
@click.option("--percent", type=click.FloatRange(0, 100),
              help="Set: largest difference between two marks, in percent of the task's maximum, that still "
                   "counts as agreement (default 10). Without it, the settings are shown.")
@click.option("--by", "by", help="Who changes the rule (required with --percent; recorded).")
@json_option
@click.pass_context
@refusals_exit
def marking_tolerance(ctx: click.Context, form_id: str | None, percent: float | None, by: str | None) -> None:
    """Show or set when two marks agree; a new setting also applies to tasks still open."""
    from item_bank_sync.results.marking import list_tolerances, set_tolerance

    if percent is None:
        rows = list_tolerances(results_db(ctx))
        emit(ctx, rows, _table(rows, ["form_id", "percent", "set_by", "set_at"], "Marking tolerance"))
        return
    if not by:
        raise click.UsageError("--by is required with --percent")
    result = set_tolerance(results_db(ctx), percent, by, form_id)
    emit(ctx, result, lambda c: c.print(f"tolerance {percent:g} % for {form_id or 'every form'}; "
                                        f"{result['open_tasks_updated']} open task(s) updated"))


@marking_group.command("show")
@click.argument("task_id", type=int)
@json_option
@click.pass_context
@refusals_exit
def marking_show(ctx: click.Context, task_id: int) -> None:
    """Show one task and the candidate's answer, for the marker to read."""
    from item_bank_sync.results.marking import task_response

    task = task_response(results_db(ctx), task_id)
    emit(ctx, task, lambda c: c.print(f"task {task_id} ({task['item_id']}, max {task['max_score']:g}, "
                                      f"{task['status']}):\n{json.loads(task['response_json'])}", highlight=False))


@marking_group.command("mark")
@click.argument("task_id", type=int)
@click.option("--by", "marker", required=True, help="Marker's name (recorded; excludes them from deciding).")
@click.option("--score", type=float, required=True, help="Score between 0 and the task's maximum.")
@click.option("--note", default="", help="Optional justification.")
@json_option
@click.pass_context
@refusals_exit
def marking_mark(ctx: click.Context, task_id: int, marker: str, score: float, note: str) -> None:
    """Record a mark; the second marker's mark settles the task or sends it to adjudication."""
    from item_bank_sync.results.audited import mark_audited
    from item_bank_sync.sittings.impartiality import check_marking_task, staff

    check_marking_task(central(ctx), staff(marker, "marker"), task_id, "mark this candidate's answers")  # 17024 4.3
    outcome = mark_audited(central(ctx), task_id, marker, score, note)
    final = f", final {outcome.final_score:g}" if outcome.final_score is not None else ""
    emit(ctx, outcome.__dict__, lambda c: c.print(f"task {task_id}: {outcome.status}{final}"))


@marking_group.command("adjudicate")
@click.argument("task_id", type=int)
@click.option("--by", "adjudicator", required=True, help="Adjudicator's name (must not have marked this task).")
@click.option("--score", type=float, required=True, help="Final score.")
@click.option("--note", default="", help="Optional justification.")
@json_option
@click.pass_context
@refusals_exit
def marking_adjudicate(ctx: click.Context, task_id: int, adjudicator: str, score: float, note: str) -> None:
    """Settle a task whose two marks disagree beyond the tolerance."""
    from item_bank_sync.results.audited import adjudicate_audited
    from item_bank_sync.sittings.impartiality import check_marking_task, staff

    check_marking_task(central(ctx), staff(adjudicator, "marker"), task_id, "adjudicate this candidate's answers")
    outcome = adjudicate_audited(central(ctx), task_id, adjudicator, score, note)
    emit(ctx, outcome.__dict__, lambda c: c.print(f"task {task_id}: final {outcome.final_score:g}"))


# --- decisions and results -------------------------------------------------------------------------

@click.command("decide")
@click.argument("attempt_id")
@click.option("--by", "decider", required=True, help="Name of the person deciding (not a proctor or marker of it).")
@click.option("--outcome", type=click.Choice(["pass", "fail", "withheld"]), required=True)
@click.option("--reason", required=True, help="Why: recorded with the decision.")
@click.option("--flags-reviewed", is_flag=True,
              help="State that you reviewed the attempt's integrity flags (needed for pass or fail when it has any; "
                   "recorded in the audit entry).")
@json_option
@click.pass_context
@refusals_exit
def decide_command(ctx: click.Context, attempt_id: str, decider: str, outcome: str, reason: str,
                   flags_reviewed: bool) -> None:
    """Record the certification decision on one attempt (ISO/IEC 17024 9.4)."""
    from item_bank_sync.release.issuing import decide

    # conflicts of interest, impartiality, the audit entry, and a pass on a released result issues the
    # certificate (one function with the staff decision page; unreleased passes are issued at release)
    recorded = decide(central(ctx), attempt_id, decider, outcome, reason, flags_reviewed=flags_reviewed)
    data, decision = recorded.to_dict(), recorded.decision
    issued = f"; certificate {recorded.certificate_id}" if recorded.certificate_id else ""
    emit(ctx, data, lambda c: c.print(f"{attempt_id}: {outcome} by {decision.decided_by}{issued}"))


@click.group("results")
def results_group() -> None:
    """Scored results and decisions."""


@results_group.command("export")
@click.option("--form", "form_id", help="Only attempts of this form.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), help="CSV file (default: stdout).")
@click.pass_context
@refusals_exit
def results_export(ctx: click.Context, form_id: str | None, out_path: Path | None) -> None:
    """Export results as CSV: scores, pass/fail against the cut score, and the decision that stands."""
    from item_bank_sync.results.decisions import results_csv, results_rows

    text = results_csv(results_rows(results_db(ctx), form_id))
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")


@click.command("integrity")
@click.option("--form", "form_ref", required=True, metavar="FORM_ID[@VERSION]", help="Form whose attempts to analyse.")
@json_option
@click.pass_context
@refusals_exit
def integrity_command(ctx: click.Context, form_ref: str) -> None:
    """Flag response similarity, too-fast answers and wrong-to-right changes for human review.

    Flags are leads for an investigation, never a decision; each lists the proctors' alerts and
    incidents recorded for the attempts concerned, and names those of its attempts a proctor ended.
    """
    from item_bank_sync.analysis.integrity_of_form import integrity_of_form

    form_id, version, flags = integrity_of_form(central(ctx), form_ref)
    columns = ["kind", "attempt_id", "other_attempt_id", "z", "incidents_count", "ended_by_proctor"]
    emit(ctx, flags, _table(flags, columns,
                            f"Integrity flags for {form_id} v{version} (for human review only)"))
