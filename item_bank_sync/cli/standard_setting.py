"""``standard-setting`` (modified Angoff, a record of the scheme version) and ``params`` (stored IRT
parameters per item version): the psychometric records a body keeps in its bank (issue 19).

Every change names who acted (``--by``) and is an entry in the audit chain; ``show`` and ``cut``
only read. See :mod:`item_bank_sync.psychometrics.standard_setting` for the method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.bank.schema import forms
from item_bank_sync.cli.common import actor_option, central, emit, json_option, refusals_exit
from item_bank_sync.db.sql import fetch_one
from item_bank_sync.psychometrics import records, standard_setting as ss
from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.results.cuts import cut_in_force
from item_bank_sync.results.intake import load_form_scoring
from sqlalchemy import select


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _print_study(console: Console, data: dict[str, Any]) -> None:
    console.print(f"[bold]Study {data['study_id']}[/] ({data['method']}) of scheme {data['scheme_id']} "
                  f"v{data['scheme_version']} on form {data['form_id']} v{data['form_version']}", highlight=False)
    panel = Table("panellist", "conflicts declared", "flags")
    for p in data["panel"]:
        panel.add_row(p["panellist_id"], p["conflicts"] or "none", "; ".join(p["flags"]))
    console.print(panel)
    for r in data["rounds"]:
        console.print(f"round {r['round']}: " + ", ".join(f"{c['panellist_id']} {c['cut']:.2f}"
                                                        for c in r["panellist_cuts"]), highlight=False)
    table = Table("kind", "round", "cut", "SE", "pass rate", "by", "at")
    for kind in ("impact", "recommended", "adopted"):
        for c in data[kind]:
            table.add_row(kind, str(c["round"]), _fmt(c["cut"]), _fmt(c["se"]), _fmt(c["pass_rate"]),
                          c["decided_by"], c["decided_at"])
    console.print(table)


def _print_summary(console: Console, data: dict[str, Any]) -> None:
    console.print(f"round {data['round']}: cut {data['cut']:.3f} (SE {_fmt(data.get('se'))}), pass rate "
                  f"{_fmt(data.get('pass_rate'))} of {data.get('n_candidates')} candidates", highlight=False)
    for p in data.get("panellists", []):
        flag = f"  [yellow]{'; '.join(p['flags'])}[/]" if p["flags"] else ""
        console.print(f"  {p['panellist_id']}: {p['cut']:.3f}{flag}", highlight=False)


@click.group("standard-setting")
def standard_setting_group() -> None:
    """Modified-Angoff standard setting: panel, rating rounds, impact, recommended and adopted cut."""


@standard_setting_group.command("open")
@click.argument("study_id")
@click.option("--scheme", "scheme_ref", required=True, metavar="SCHEME@VERSION")
@click.option("--form", "form_ref", required=True, metavar="FORM@VERSION", help="The form the panel rates.")
@click.option("--panel", "panel_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"CSV {ss.PANEL_HEADER} (trained_candidates yes/no; a trainer is flagged).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def ss_open(ctx: click.Context, study_id: str, scheme_ref: str, form_ref: str, panel_path: Path, actor: str) -> None:
    """Open a study of a scheme version with its panel and their declared conflicts."""
    data = ss.open_study(central(ctx), study_id, scheme_ref, form_ref, ss.read_panel(panel_path), actor)
    emit(ctx, data, lambda c: _print_study(c, data))


@standard_setting_group.command("rate")
@click.argument("study_id")
@click.option("--round", "round_no", required=True, type=click.IntRange(1, 20))
@click.option("--ratings", "ratings_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"CSV {ss.RATINGS_HEADER}: probability 0..1 that a minimally competent candidate succeeds.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def ss_rate(ctx: click.Context, study_id: str, round_no: int, ratings_path: Path, actor: str) -> None:
    """Import a round of ratings (each listed panellist must rate every item of the form)."""
    data = ss.import_ratings(central(ctx), study_id, round_no, ratings_path, actor)
    emit(ctx, data, lambda c: c.print(f"round {round_no}: {data['ratings']} ratings of "
                                      f"{', '.join(data['panellists'])}", highlight=False))


@standard_setting_group.command("impact")
@click.argument("study_id")
@click.option("--round", "round_no", type=click.IntRange(1, 20), help="Default: the latest round.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def ss_impact(ctx: click.Context, study_id: str, round_no: int | None, actor: str) -> None:
    """Impact data: the share of the form's candidates who would pass at the panel's current cut."""
    data = ss.record_impact(central(ctx), study_id, round_no, actor)
    emit(ctx, data, lambda c: _print_summary(c, data))


@standard_setting_group.command("recommend")
@click.argument("study_id")
@click.option("--round", "round_no", type=click.IntRange(1, 20), help="Default: the latest round.")
@click.option("--exclude-flagged", is_flag=True, help="Leave out panellists flagged for conflicts.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def ss_recommend(ctx: click.Context, study_id: str, round_no: int | None, exclude_flagged: bool, actor: str) -> None:
    """The panel's recommended cut (mean of the panellists' cuts) and its SE across panellists."""
    data = ss.recommend(central(ctx), study_id, round_no, exclude_flagged, actor)
    emit(ctx, data, lambda c: _print_summary(c, data))


@standard_setting_group.command("adopt")
@click.argument("study_id")
@click.option("--cut", type=float, help="The cut the body adopts (default: the latest recommendation).")
@click.option("--reason", required=True, help="Why the body adopts this cut (recorded).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def ss_adopt(ctx: click.Context, study_id: str, cut: float | None, reason: str, actor: str) -> None:
    """Adopt the cut in force for the study's scheme version (who decided is recorded and audited)."""
    data = ss.adopt(central(ctx), study_id, cut, reason, actor)
    emit(ctx, data, lambda c: c.print(f"adopted cut {data['cut']:g} for scheme {data['scheme']} by "
                                      f"{data['decided_by']}", highlight=False))


@standard_setting_group.command("show")
@click.argument("study_id")
@json_option
@click.pass_context
@refusals_exit
def ss_show(ctx: click.Context, study_id: str) -> None:
    """Everything recorded about a study."""
    data = ss.show_study(central(ctx), study_id)
    emit(ctx, data, lambda c: _print_study(c, data))


@standard_setting_group.command("cut")
@click.option("--form", "form_ref", required=True, metavar="FORM@VERSION")
@json_option
@click.pass_context
@refusals_exit
def ss_cut(ctx: click.Context, form_ref: str) -> None:
    """The cut in force on a form: the adopted (or scheme) cut, through the form's stored equating."""
    data = form_cut(ctx, form_ref)
    emit(ctx, data, lambda c: c.print(f"form {form_ref}: cut {_fmt(data['cut'])} raw points "
                                      f"(reference {_fmt(data['reference_cut'])}; {data['source']})",
                                      highlight=False))


def form_cut(ctx: click.Context, form_ref: str) -> dict[str, Any]:
    """The cut in force on one form version, as scoring applies it."""
    form_id, version = ss.parse_ref(form_ref, "--form")
    bank = central(ctx).open_bank_db()
    row = fetch_one(bank, select(forms.c.scheme_id, forms.c.scheme_version)
                    .where(forms.c.form_id == form_id, forms.c.version == version))
    if row is None:
        raise PsychometricsError(f"form {form_id} v{version} is not in the bank", "--form")
    scoring = load_form_scoring(bank, form_id, version)
    basis = scoring.cut_basis or cut_in_force(bank, form_id, version, row[0], row[1], scoring.cut_score)
    return {"form": f"{form_id}@{version}", **basis.to_dict()}


@click.command("params")
@click.option("--item", "item_id", help="One item's calibrations (all versions, newest first).")
@click.option("--all", "show_all", is_flag=True, help="Every stored calibration, not only the newest per version.")
@json_option
@click.pass_context
@refusals_exit
def params_command(ctx: click.Context, item_id: str | None, show_all: bool) -> None:
    """Stored IRT item parameters per item version (analyze --form --irt --write-params)."""
    rows = records.list_parameters(central(ctx).open_bank_db(), item_id, latest_only=not show_all)

    def human(console: Console) -> None:
        table = Table("item", "v", "model", "a", "b", "se(b)", "n", "form", "converged", "at", "by")
        for r in rows:
            table.add_row(r["item_id"], str(r["version"]), r["model"], _fmt(r["a"]), _fmt(r["b"]), _fmt(r["se_b"]),
                          str(r["n_candidates"]), f"{r['form_id']}@{r['form_version']}", str(r["converged"]),
                          r["calibrated_at"], r["calibrated_by"])
        console.print(table)

    emit(ctx, {"parameters": rows}, human)
