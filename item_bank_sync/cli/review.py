"""``review-exam``: the exam performance review of one form (ISO/IEC 17024 9.3.5), as JSON or as an
HTML report with plots plus its JSON (``--out DIR``); see :mod:`item_bank_sync.psychometrics.review`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from exam_core.errors import ValidationError
from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.cli.psychometrics import optional_actor, read_groups_csv
from item_bank_sync.psychometrics.review import load_thresholds, review_exam
from item_bank_sync.psychometrics.review_report import write_review


@click.command("review-exam")
@click.option("--form", "form_ref", required=True, metavar="FORM_ID[@VERSION]")
@click.option("--thresholds", "thresholds_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON object overriding the default thresholds (docs/PSYCHOMETRICS.md).")
@click.option("--groups", "groups_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV candidate_id,group of declared groups for DIF (used in aggregate only).")
@click.option("--reference", "reference_group", help="The reference group's value in --groups.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write review.html (with plots) and review.json into this directory.")
@click.option("--open-actions", is_flag=True,
              help="Open one corrective action per flag (source item_analysis; none twice while open). Needs --by.")
@optional_actor
@json_option
@click.pass_context
@refusals_exit
def review_exam_command(ctx: click.Context, form_ref: str, thresholds_path: Path | None, groups_path: Path | None,
                        reference_group: str | None, out_dir: Path | None, open_actions: bool,
                        actor: str | None) -> None:
    """Exam performance review: classical, IRT fit, DIF, equating, decisions, exposure, with flags."""
    if (groups_path is None) != (reference_group is None):
        raise ValidationError("--groups", "give both --groups GROUPS.csv and --reference VALUE")
    if open_actions and not actor:
        raise ValidationError("--by", "--open-actions records who opens the corrective actions: give --by NAME")
    groups = read_groups_csv(groups_path) if groups_path is not None else None
    review = review_exam(central(ctx), form_ref, load_thresholds(thresholds_path), groups, reference_group,
                         open_actions_by=actor if open_actions else None)
    if out_dir is not None:
        review["files"] = write_review(review, out_dir)

    def human(console: Console) -> None:
        console.print(f"[bold]{review['title']}[/]: {review['n_candidates']} candidates, "
                      f"{len(review['flags'])} flag(s)", highlight=False)
        table = Table("section", "item", "what", "value", "threshold", "finding")
        for f in review["flags"]:
            table.add_row(f["section"], f["item_id"] or "form", f["what"], str(f["value"]), str(f["threshold"]),
                          f["message"])
        console.print(table)
        console.print(review["corrective_actions"]["note"], highlight=False)
        if "files" in review:
            console.print(f"report: {review['files']['html']}", highlight=False)

    emit(ctx, review, human)
