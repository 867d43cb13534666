"""``item_bank_sync analyze``: item analysis of a scored matrix CSV or of a form's scored results."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.analysis.matrix_csv import read_matrix_csv
from item_bank_sync.analysis.stats import Analysis, FlagThresholds, analyze_scores
from item_bank_sync.cli.common import central, emit, fail, json_option, refusals_exit
from item_bank_sync.cli import psychometrics


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _human(analysis: Analysis):
    def show(console: Console) -> None:
        t = analysis.test
        console.print(f"[bold]{t.n_candidates}[/] candidates, [bold]{t.n_items}[/] items: "
                      f"mean {_fmt(t.mean)}, sd {_fmt(t.sd)}, alpha {_fmt(t.alpha)}, SEM {_fmt(t.sem)}")
        table = Table("item", "n", "p", "rpb corr.", "alpha if del.", "D", "flags")
        for i in analysis.items:
            table.add_row(i.item_id, str(i.n), _fmt(i.p), _fmt(i.rpb_corrected), _fmt(i.alpha_if_deleted),
                          _fmt(i.discrimination_index), ", ".join(i.flags))
        console.print(table)
    return show


def _matrix_payload(analysis: Analysis) -> dict:
    """Exactly the documented ``--matrix --json`` shape: ``{"test": {...}, "items": [...]}``."""
    data = analysis.to_dict()
    keep = ("item_id", "p", "rpb_corrected", "alpha_if_deleted", "discrimination_index", "flags")
    return {"test": data["test"], "items": [{k: item[k] for k in keep} for item in data["items"]]}


@click.command("analyze")
@click.option("--matrix", "matrix_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A scored 0/1 matrix CSV: header candidate_id,ITEM..., cells 0 or 1.")
@click.option("--form", "form_ref", metavar="FORM_ID[@VERSION]",
              help="Analyse the scored attempts of this form from results.db (with distractor analysis).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML report with plots to this file.")
@click.option("--p-min", default=0.2, show_default=True, help="Flag items with p below this (too hard).")
@click.option("--p-max", default=0.95, show_default=True, help="Flag items with p above this (too easy).")
@click.option("--rpb-min", default=0.2, show_default=True,
              help="Flag items whose corrected point-biserial is below this.")
@click.option("--distractor-rpb-max", default=0.0, show_default=True,
              help="Flag a possible mis-key when a distractor's point-biserial is above this.")
@click.option("--write-stats", is_flag=True,
              help="With --form: write each item's p and n to the bank for form assembly.")
@psychometrics.analyze_options
@json_option
@click.pass_context
@refusals_exit
def analyze_command(ctx: click.Context, matrix_path: Path | None, form_ref: str | None, html_path: Path | None,
                    p_min: float, p_max: float, rpb_min: float, distractor_rpb_max: float,
                    write_stats: bool, irt_model: str | None, groups_path: Path | None,
                    reference_group: str | None, focal_group: str | None, with_dif: bool, min_group: int,
                    cut_score: float | None, write_params: bool, actor: str | None) -> None:
    """Item analysis: difficulty, corrected point-biserial, 27% discrimination, alpha, SEM, flags.

    Flags mark items for review by a psychometrician; they never change a score by themselves.
    """
    thresholds = FlagThresholds(p_min, p_max, rpb_min, distractor_rpb_max)
    if (matrix_path is None) == (form_ref is None):
        fail(ctx, "give exactly one of --matrix FILE.csv or --form FORM_ID", code=2)
    psychometrics.check_analyze_options(matrix_path, irt_model, groups_path, reference_group, with_dif, cut_score)
    psychometrics.check_write_params(form_ref, irt_model, write_params, actor)
    if matrix_path is not None:
        matrix = read_matrix_csv(matrix_path)
        analysis = analyze_scores(matrix.scores, matrix.item_ids, thresholds=thresholds)
        payload = _matrix_payload(analysis)
        psychometrics.extend_matrix_payload(
            payload, matrix, analysis, irt_model=irt_model, groups_path=groups_path,
            reference_group=reference_group, focal_group=focal_group, with_dif=with_dif,
            min_group=min_group, cut_score=cut_score)
        title = f"Item analysis of {matrix_path.name}"
    else:
        from item_bank_sync.analysis.of_form import analyze_form

        if form_ref is None:  # cannot happen: exactly one of the two was checked above
            fail(ctx, "give exactly one of --matrix FILE.csv or --form FORM_ID", code=2)
        analysis, title = analyze_form(central(ctx), form_ref, thresholds, write_stats=write_stats)
        payload = {**analysis.to_dict(), "title": title}   # the title says which attempts were left out
        if irt_model:
            payload["irt"] = psychometrics.form_irt(central(ctx), form_ref, irt_model, write_params, actor)
    if html_path is not None:
        from item_bank_sync.analysis.report import write_html

        write_html(analysis, html_path, title)

    def human(console: Console) -> None:
        if form_ref is not None:
            console.print(title, highlight=False)
        _human(analysis)(console)
        psychometrics.print_extras(console, payload)

    emit(ctx, payload, human)
