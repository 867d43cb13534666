"""The central CLI's psychometrics: ``analyze --irt/--dif/--cut`` extras and ``equate``.

Kept in its own CLI module, so the analyze command only needs its options and one call
(:func:`extend_matrix_payload`), and ``equate`` is one ``add_command`` line in the CLI group.

Candidate group membership (``--groups``) may carry voluntary demographic answers: it is read
strictly, used only in aggregate, never printed per candidate, and DIF is refused for groups
smaller than ``--min-group`` (default 100), so no small group can be singled out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from collections.abc import Callable

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from exam_core.errors import TooLargeError, ValidationError
from exam_core.limits import MIB
from item_bank_sync.analysis.matrix_csv import ScoreMatrix, read_matrix_csv
from item_bank_sync.analysis.stats import Analysis
from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.context import CentralContext
from item_bank_sync.psychometrics import decision, dif, equating, irt, records
from item_bank_sync.psychometrics.errors import PsychometricsError

GROUPS_MAX_BYTES = 64 * MIB

#: ``--by`` of the commands that only sometimes write (analyze, equate): no default, so a read-only
#: run needs no data directory, and a write without a name is refused (who acted is recorded).
optional_actor = click.option("--by", "actor", default=None,
                              help="Who acts; needed with --write-params / --store-for (recorded in the audit chain).")
GROUP_RE = re.compile(r"^[A-Za-z0-9_.\-: ]{1,64}$")


# --- analyze extras -------------------------------------------------------------------------

def analyze_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--irt``, ``--groups``, ``--reference``, ``--focal``, ``--dif``, ``--min-group``, ``--cut``."""
    options = [
        click.option("--irt", "irt_model", type=click.Choice(irt.MODELS),
                     help="With --matrix: calibrate this IRT model (MML-EM) and add \"irt\" to the output."),
        click.option("--groups", "groups_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CSV candidate_id,group for --dif (used in aggregate only)."),
        click.option("--reference", "reference_group", help="The reference group's value in --groups."),
        click.option("--focal", "focal_group",
                     help="The focal group's value (default: every group other than --reference)."),
        click.option("--dif", "with_dif", is_flag=True,
                     help="Add Mantel-Haenszel and logistic-regression DIF to each item."),
        click.option("--min-group", default=dif.MIN_GROUP_SIZE, show_default=True, type=click.IntRange(1),
                     help="Refuse DIF for groups smaller than this."),
        click.option("--cut", "cut_score", type=float,
                     help="Number-correct cut: add decision consistency and accuracy at it."),
        click.option("--write-params", is_flag=True,
                     help="With --form and --irt: store the calibrated parameters per item version in the bank."),
        optional_actor,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def check_analyze_options(matrix_path: Path | None, irt_model: str | None, groups_path: Path | None,
                          reference_group: str | None, with_dif: bool, cut_score: float | None) -> None:
    """Refuse combinations that cannot mean anything, before any work is done."""
    extras = with_dif or cut_score is not None or groups_path
    if extras and matrix_path is None:
        raise ValidationError("--dif/--cut", "are available with --matrix FILE.csv")
    if with_dif and (groups_path is None or reference_group is None):
        raise ValidationError("--dif", "needs --groups GROUPS.csv and --reference VALUE")
    if (groups_path is not None or reference_group is not None) and not with_dif:
        raise ValidationError("--groups", "is only used with --dif")


def check_write_params(form_ref: str | None, irt_model: str | None, write_params: bool, actor: str | None) -> None:
    """``--write-params`` stores a form's calibration: it needs ``--form``, ``--irt`` and ``--by``."""
    if write_params and (form_ref is None or irt_model is None or not actor):
        raise ValidationError("--write-params", "needs --form FORM, --irt MODEL and --by NAME")


def form_irt(context: CentralContext, form_ref: str, model: str, write_params: bool, actor: str | None
             ) -> dict[str, Any]:
    """Calibrate ``model`` on a form's scored attempts; with ``write_params`` store it (audited)."""
    matrix = records.form_matrix(context, form_ref)
    result, _ = records.calibrate_form(matrix, model)
    out = {**result.to_dict(), "form": f"{matrix.form_id}@{matrix.version}", "left_out": matrix.left_out}
    if write_params and actor:
        out["stored"] = records.write_parameters(context, matrix, result, actor)
    return out


def read_groups_csv(path: Path) -> dict[str, str]:
    """``candidate_id,group`` rows, strictly: one row per candidate, valid ids and group values."""
    size = path.stat().st_size
    if size > GROUPS_MAX_BYTES:
        raise TooLargeError(f"{size} bytes exceeds the limit of {GROUPS_MAX_BYTES}", field=str(path))
    try:
        lines = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError:
        raise ValidationError(f"{path}", "is not UTF-8") from None
    if not lines or lines[0].strip() != "candidate_id,group":
        raise ValidationError(f"{path}: line 1", "header must be candidate_id,group")
    out: dict[str, str] = {}
    from item_bank_sync.analysis.matrix_csv import ID_RE
    for line_no, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        cid, sep, group = line.partition(",")
        if not sep or not ID_RE.match(cid) or not GROUP_RE.match(group):
            raise ValidationError(f"{path}: line {line_no}", "expected candidate_id,group with a valid id and "
                                  "a group value of letters, digits, space or _.-: (at most 64)")
        if cid in out:
            raise ValidationError(f"{path}: line {line_no}", f"candidate {cid!r} appears twice")
        out[cid] = group
    return out


def _focal_mask(matrix: ScoreMatrix, groups: dict[str, str], reference: str, focal: str | None
                ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    missing = [c for c in matrix.candidate_ids if c not in groups]
    if missing:
        raise ValidationError("--groups", f"{len(missing)} candidate(s) of the matrix have no group "
                              f"(first: {missing[0]})")
    labels = np.array([groups[c] for c in matrix.candidate_ids])
    if reference not in set(labels):
        raise ValidationError("--reference", f"no candidate of the matrix is in group {reference!r}")
    is_ref = labels == reference
    is_foc = (labels == focal) if focal is not None else ~is_ref
    if focal is not None and not is_foc.any():
        raise ValidationError("--focal", f"no candidate of the matrix is in group {focal!r}")
    keep = is_ref | is_foc
    focal_names = sorted(set(labels[is_foc].tolist()))
    info = {"reference": reference, "focal": focal_names, "n_reference": int(is_ref.sum()),
            "n_focal": int(is_foc.sum())}
    return keep, is_foc[keep], info


def extend_matrix_payload(payload: dict[str, Any], matrix: ScoreMatrix, analysis: Analysis, *,
                          irt_model: str | None, groups_path: Path | None, reference_group: str | None,
                          focal_group: str | None, with_dif: bool, min_group: int,
                          cut_score: float | None) -> None:
    """Add ``"irt"``, per-item ``"dif"`` and ``"decision"`` to the ``analyze --matrix`` JSON."""
    model = None
    if irt_model:
        model = irt.calibrate(matrix.scores, matrix.item_ids, irt_model)
        payload["irt"] = model.to_dict()
    if with_dif and groups_path is not None and reference_group is not None:
        keep, focal, info = _focal_mask(matrix, read_groups_csv(groups_path), reference_group, focal_group)
        rows = dif.dif_report(matrix.scores[keep], focal, matrix.item_ids, min_group)
        for item, row in zip(payload["items"], rows):
            item["dif"] = {k: v for k, v in row.items() if k != "item_id"}
        payload["dif_groups"] = {**info, "matching": "total score", "min_group": min_group}
    if cut_score is not None:
        payload["decision"] = _decision(matrix, analysis, cut_score, model)


def _decision(matrix: ScoreMatrix, analysis: Analysis, cut: float, model: irt.IRTResult | None
              ) -> dict[str, Any]:
    totals = analysis.totals
    k = len(matrix.item_ids)
    alpha = analysis.test.alpha
    if alpha is None or not 0 < alpha < 1:
        raise PsychometricsError(f"decision indices need a reliability between 0 and 1; alpha is {alpha}")
    out: dict[str, Any] = {
        "cut": cut, "n_items": k, "observed_pass_rate": round(float(np.mean(totals >= cut)), 6),
        "reliability": {"coefficient": "alpha (KR-20)", "value": round(alpha, 6)},
        "livingston_lewis": decision.livingston_lewis(totals, alpha, cut, 0, k).to_dict(),
        "subkoviak": decision.subkoviak(totals, k, cut).to_dict(),
    }
    if model is not None:
        out["irt"] = decision.irt_decision(model, cut).to_dict()
    return out


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def print_extras(console: Console, payload: dict[str, Any]) -> None:
    """Human output of the extras, as rich tables under the classical table."""
    if "irt" in payload:
        m = payload["irt"]
        state = "converged" if m["converged"] else "[red]NOT converged[/]"
        console.print(f"IRT {m['model']}: log-likelihood {m['loglik']:.3f}, {state} after {m['iterations']} EM steps")
        table = Table("item", "a", "b", "se(a)", "se(b)", "S-X2", "df", "p")
        for i in m["items"]:
            table.add_row(i["item_id"], _fmt(i["a"]), _fmt(i["b"]), _fmt(i.get("se_a")), _fmt(i.get("se_b")),
                          _fmt(i.get("s_x2")), _fmt(i.get("s_x2_df")), _fmt(i.get("s_x2_p")))
        console.print(table)
        for message in m["messages"]:
            console.print(f"[yellow]note:[/] {message}")
    if "dif_groups" in payload:
        g = payload["dif_groups"]
        console.print(f"DIF: reference {g['reference']} ({g['n_reference']}), focal "
                      f"{', '.join(g['focal'])} ({g['n_focal']}), matched on total score")
        table = Table("item", "MH odds", "MH delta", "p", "ETS", "LR uniform p", "LR non-uniform p")
        for i in payload["items"]:
            d = i["dif"]
            table.add_row(i["item_id"], _fmt(d["mh_odds_ratio"]), _fmt(d["mh_delta"]), _fmt(d["p_value"]),
                          d["ets_class"], _fmt(d["lr_uniform_p"]), _fmt(d["lr_nonuniform_p"]))
        console.print(table)
    if "decision" in payload:
        dec = payload["decision"]
        console.print(f"Decisions at cut {dec['cut']:g} of {dec['n_items']}: observed pass rate "
                      f"{dec['observed_pass_rate']:.3f}")
        table = Table("method", "agreement", "kappa", "accuracy", "false pass", "false fail", "CSEM at cut")
        for key in ("livingston_lewis", "subkoviak", "irt"):
            if key in dec:
                d = dec[key]
                table.add_row(d["method"], _fmt(d["agreement"]), _fmt(d["kappa"]), _fmt(d["accuracy"]),
                              _fmt(d["false_pass"]), _fmt(d["false_fail"]), _fmt(d["csem_at_cut"]))
        console.print(table)


# --- equate ---------------------------------------------------------------------------------

def run_equate(method: str, new_path: Path, ref_path: Path, anchor: list[str], smoothing: int | None,
               w1: float | None, bootstrap: int) -> dict[str, Any]:
    """Read both 0/1 matrices and equate the new form to the reference form's raw-score scale."""
    new, ref = read_matrix_csv(new_path), read_matrix_csv(ref_path)
    if method in equating.RANDOM_GROUPS and anchor:
        raise ValidationError("--anchor", f"is for anchor-test methods; {method} assumes random groups")
    if method not in equating.RANDOM_GROUPS:
        _check_anchor(anchor, new, ref)
    header = {"new": {"file": new_path.name, "n_candidates": len(new.candidate_ids), "n_items": len(new.item_ids)},
              "reference": {"file": ref_path.name, "n_candidates": len(ref.candidate_ids),
                            "n_items": len(ref.item_ids)},
              "anchor": anchor}
    for name, m in (("new form", new), ("reference form", ref)):
        if len(m.candidate_ids) < equating.MIN_GROUP:
            raise PsychometricsError(f"{name}: {len(m.candidate_ids)} candidates, equating needs at least "
                                     f"{equating.MIN_GROUP}")
    conv = _conversion(method, new, ref, anchor, smoothing, w1, bootstrap)
    return {**header, **conv.to_dict()}


def _check_anchor(anchor: list[str], new: ScoreMatrix, ref: ScoreMatrix) -> None:
    if len(anchor) < 2:
        raise ValidationError("--anchor", "name at least 2 common items: ITEM,ITEM,...")
    for item in anchor:
        for label, m in (("new", new), ("reference", ref)):
            if item not in m.item_ids:
                raise ValidationError("--anchor", f"item {item!r} is not in the {label} form's matrix")
    if len(set(anchor)) != len(anchor):
        raise ValidationError("--anchor", "an item is named twice")


def _conversion(method: str, new: ScoreMatrix, ref: ScoreMatrix, anchor: list[str], smoothing: int | None,
                w1: float | None, bootstrap: int) -> equating.Conversion:
    kx, ky = len(new.item_ids), len(ref.item_ids)
    tx, ty = new.scores.sum(axis=1).astype(np.int64), ref.scores.sum(axis=1).astype(np.int64)
    if method in equating.RANDOM_GROUPS:
        fx, fy = equating.frequencies(tx, kx), equating.frequencies(ty, ky)
        if method == "mean":
            return equating.mean_equating(fx, fy)
        if method == "linear":
            return equating.linear_equating(fx, fy)
        return equating.equipercentile_equating(fx, fy, smoothing)
    ix = [new.item_ids.index(i) for i in anchor]
    iy = [ref.item_ids.index(i) for i in anchor]
    if method == "irt-true-score":
        return _irt_true_score(new, ref, ix, iy, bootstrap)
    data = equating.NeatData(tx, new.scores[:, ix].sum(axis=1).astype(np.int64), ty,
                             ref.scores[:, iy].sum(axis=1).astype(np.int64), kx, ky, len(anchor))
    return equating.neat_equating(data, method, w1=w1, smoothing=smoothing, bootstrap=bootstrap)


def _irt_true_score(new: ScoreMatrix, ref: ScoreMatrix, ix: list[int], iy: list[int], bootstrap: int
                    ) -> equating.Conversion:
    return equating.irt_true_score_from_scores(new.scores, ref.scores, ix, iy, bootstrap)


def print_conversion(console: Console, payload: dict[str, Any]) -> None:
    console.print(f"[bold]{payload['method']}[/] equating of {payload['new']['file']} "
                  f"({payload['new']['n_candidates']} candidates) to {payload['reference']['file']} "
                  f"({payload['reference']['n_candidates']})"
                  + (f", anchor {', '.join(payload['anchor'])}" if payload["anchor"] else ""))
    table = Table("raw (new form)", "equated (reference scale)", "SE")
    for row in payload["conversion"]:
        table.add_row(str(row["raw"]), f"{row['equated']:.4f}", _fmt(row.get("se")))
    console.print(table)
    if payload.get("se_method"):
        console.print(f"SE: {payload['se_method']}")


# --- the click command (registered by the central CLI group) --------------------------------



@click.command("equate")
@click.option("--method", required=True, type=click.Choice(equating.METHODS),
              help="mean/linear/equipercentile (random groups), tucker/levine/chained/chained-linear "
                   "(anchor test), irt-true-score (2PL, Stocking-Lord).")
@click.option("--new", "new_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scored 0/1 matrix CSV of the new form (candidate_id,ITEM...).")
@click.option("--ref", "ref_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scored 0/1 matrix CSV of the reference form.")
@click.option("--anchor", default="", metavar="ITEM,...", help="Common items (columns in both files).")
@click.option("--smoothing", type=click.IntRange(1, 10), default=None,
              help="Log-linear presmoothing degree for equipercentile and chained methods.")
@click.option("--w1", type=click.FloatRange(0, 1), default=None,
              help="Synthetic-population weight of the new form's group (Tucker, Levine).")
@click.option("--bootstrap", type=click.IntRange(0, 5000), default=200, show_default=True,
              help="Bootstrap replicates for the SEs of anchor-test methods (0: none).")
@click.option("--store-for", "store_for", metavar="FORM@VERSION",
              help="Store the conversion for this form (the new form), so scoring applies the reference cut.")
@click.option("--reference-form", "reference_form", metavar="FORM@VERSION",
              help="With --store-for: the reference form of the conversion.")
@optional_actor
@json_option
@click.pass_context
@refusals_exit
def equate_command(ctx: click.Context, method: str, new_path: Path, ref_path: Path, anchor: str,
                   smoothing: int | None, w1: float | None, bootstrap: int, store_for: str | None,
                   reference_form: str | None, actor: str | None) -> None:
    """Equate a new form's raw scores to a reference form's scale and print the conversion table."""
    if (store_for is None) != (reference_form is None) or (store_for is not None and not actor):
        raise ValidationError("--store-for", "give --store-for FORM@V, --reference-form FORM@V and --by NAME")
    items = [a.strip() for a in anchor.split(",") if a.strip()]
    payload = run_equate(method, new_path, ref_path, items, smoothing, w1, bootstrap)
    if store_for is not None and reference_form is not None and actor:
        payload["stored"] = records.store_equating(central(ctx), store_for, reference_form, payload, actor)
    emit(ctx, payload, lambda console: print_conversion(console, payload))
