"""``release``: hold, review and release scored results, and the candidate's score report
(issue 17, item 1). The service is :mod:`item_bank_sync.release.holds`; the report
:mod:`item_bank_sync.release.report`."""

from __future__ import annotations

from pathlib import Path

import click

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit

by_option = click.option("--by", "by", required=True, help="Who decides (recorded in the audit chain).")
reason_option = click.option("--reason", required=True, help="Why (recorded).")


@click.group("release")
def release_group() -> None:
    """Results release: hold a centre, form or attempt; review; release; score reports."""


@release_group.command("hold")
@click.option("--centre", help="Hold every result of this centre.")
@click.option("--form", help="Hold every result of this form (all versions).")
@click.option("--attempt", help="Hold one attempt's result.")
@by_option
@reason_option
@json_option
@click.pass_context
@refusals_exit
def hold_command(ctx: click.Context, centre: str | None, form: str | None, attempt: str | None, by: str,
                 reason: str) -> None:
    """Hold results until a person lifts the hold (exactly one of --centre, --form, --attempt)."""
    from item_bank_sync.release.holds import hold

    chosen = [(s, t) for s, t in (("centre", centre), ("form", form), ("attempt", attempt)) if t]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --centre, --form, --attempt")
    hold_id = hold(central(ctx), by, chosen[0][0], chosen[0][1], reason)
    emit(ctx, {"hold_id": hold_id}, lambda c: c.print(f"hold {hold_id} on {chosen[0][0]} {chosen[0][1]}"))


@release_group.command("lift")
@click.argument("hold_id", type=int)
@by_option
@reason_option
@json_option
@click.pass_context
@refusals_exit
def lift_command(ctx: click.Context, hold_id: int, by: str, reason: str) -> None:
    """Lift a hold."""
    from item_bank_sync.release.holds import lift

    lift(central(ctx), by, hold_id, reason)
    emit(ctx, {"hold_id": hold_id, "lifted": True}, lambda c: c.print(f"hold {hold_id} lifted"))


@release_group.command("queue")
@click.option("--centre")
@click.option("--form")
@json_option
@click.pass_context
@refusals_exit
def queue_command(ctx: click.Context, centre: str | None, form: str | None) -> None:
    """Unreleased attempts with their scoring status, standing decision and holds; the holds; and the
    released results whose candidate was not told by e-mail (with why)."""
    from item_bank_sync.release.holds import holds, review_queue
    from item_bank_sync.release.notices import not_told

    data = {"attempts": review_queue(central(ctx), centre, form), "holds": holds(central(ctx)),
            "not_told": not_told(central(ctx))}
    emit(ctx, data)


@release_group.command("results")
@click.option("--centre")
@click.option("--form")
@click.option("--attempt")
@by_option
@reason_option
@json_option
@click.pass_context
@refusals_exit
def results_command(ctx: click.Context, centre: str | None, form: str | None, attempt: str | None, by: str,
                    reason: str) -> None:
    """Release the results of an attempt, or of a centre's and/or a form's unreleased attempts.
    Held, unscored or undecided attempts are listed as refused and stay unreleased. A released pass
    issues its certificate and each candidate gets one e-mail; a retry finishes what was left."""
    from item_bank_sync.release.holds import release

    done = release(central(ctx), by, reason, attempt_id=attempt, centre=centre, form=form)
    settled = done.settled
    emit(ctx, done.to_dict(), lambda c: c.print(
        f"released {len(done.released)}, refused {len(done.refused)}; certificates issued "
        f"{len(settled.certificates)}, not issued {len(settled.not_issued)}; candidates told "
        f"{sum(s == 'sent' for s in settled.told.values())} of {len(settled.told)}"))


@release_group.command("report")
@click.argument("attempt_id")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the page here.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF here.")
@json_option
@click.pass_context
@refusals_exit
def report_command(ctx: click.Context, attempt_id: str, html_path: Path | None, pdf_path: Path | None) -> None:
    """The score report of a released result (JSON; the page and the PDF into files)."""
    from item_bank_sync.release.report import report_html, report_pdf, score_report

    report = score_report(central(ctx), attempt_id)
    if html_path:
        html_path.write_text(report_html(report), "utf-8")
    if pdf_path:
        pdf_path.write_bytes(report_pdf(report))
    emit(ctx, report.to_dict())
