"""The exam performance review (ISO/IEC 17024 9.3.5): one report of a form's evidence, with flags.

``review-exam --form FORM`` brings together, for the form's analysable scored attempts (not ended
by a proctor, not withheld): classical item statistics, 2PL calibration with S-X2 item fit,
DIF by declared candidate groups when given, the equating stored for the form and its cut in
force, decision consistency and accuracy at that cut, and item exposure across the forms of the
scheme. Every figure is compared with the body's thresholds (a JSON file, defaults in
:data:`DEFAULT_THRESHOLDS`, documented in docs/PSYCHOMETRICS.md) and each shortfall becomes a
flag naming what, the value and the threshold. A method that cannot run on the data (too few
candidates, no cut) is reported as unavailable with the reason and flagged, never silently left
out: a review that could not look is itself a finding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from exam_core.errors import ValidationError
from item_bank_sync.analysis.of_form import analyze_form
from item_bank_sync.analysis.stats import Analysis, FlagThresholds
from item_bank_sync.bank.schema import forms
from item_bank_sync.cases import corrective
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.psychometrics import decision, dif, records
from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.irt import IRTResult
from item_bank_sync.results.cuts import stored_equating
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.schema import attempts

#: What the body accepts, by default (``--thresholds FILE.json`` overrides any of them).
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "min_candidates": 200,          # fewer analysable candidates: every statistic is too uncertain
    "alpha_min": 0.80,              # KR-20 / Cronbach's alpha of the form
    "p_min": 0.20, "p_max": 0.95,   # item difficulty (proportion of the maximum)
    "rpb_min": 0.20,                # corrected point-biserial
    "distractor_rpb_max": 0.0,      # a distractor chosen by stronger candidates: possible mis-key
    "sx2_p_min": 0.01,              # S-X2 item misfit
    "dif_classes": ["C"],           # ETS classes that are flagged
    "dif_min_group": 100,           # smallest group DIF is reported for
    "agreement_min": 0.85,          # Livingston-Lewis decision consistency at the cut
    "false_pass_max": 0.05,         # Livingston-Lewis false-pass rate at the cut
    "equating_se_max": 1.0,         # SE of the stored equating at the form's cut, raw points
    "exposure_max": 0.5,            # share of the scheme's sittings that saw the item
}


def load_thresholds(path: Path | None) -> dict[str, Any]:
    """The defaults updated from a JSON object: unknown names and values of the wrong kind refused."""
    out = dict(DEFAULT_THRESHOLDS)
    if path is None:
        return out
    try:
        given = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(str(path), f"is not a JSON object of thresholds ({exc})") from None
    if not isinstance(given, dict):
        raise ValidationError(str(path), "must be a JSON object of thresholds")
    for key, value in given.items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValidationError(str(path), f"unknown threshold {key!r}; known: {', '.join(DEFAULT_THRESHOLDS)}")
        if key == "dif_classes":
            if not isinstance(value, list) or not set(value) <= {"A", "B", "C"}:
                raise ValidationError(str(path), "dif_classes is a list of ETS classes (A, B, C)")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValidationError(str(path), f"{key} must be a non-negative number")
        out[key] = value
    return out


def _flag(flags: list[dict[str, Any]], section: str, what: str, value: Any, threshold: Any, message: str,
          item_id: str | None = None) -> None:
    flags.append({"section": section, "item_id": item_id, "what": what, "value": value, "threshold": threshold,
                  "message": message})


def _classical(analysis: Analysis, t: dict[str, Any], flags: list[dict[str, Any]]) -> dict[str, Any]:
    data = analysis.to_dict()
    n, alpha = data["test"]["n_candidates"], data["test"]["alpha"]
    if n < t["min_candidates"]:
        _flag(flags, "classical", "n_candidates", n, t["min_candidates"], f"only {n} analysable candidates")
    if alpha is None or alpha < t["alpha_min"]:
        _flag(flags, "classical", "alpha", alpha, t["alpha_min"], "reliability below the body's minimum")
    for item in data["items"]:
        for name in item["flags"]:
            _flag(flags, "classical", name, item.get("p"), None, f"classical flag: {name}", item["item_id"])
    return data


def _irt(matrix: records.FormMatrix, t: dict[str, Any], flags: list[dict[str, Any]]
         ) -> tuple[dict[str, Any], IRTResult | None]:
    try:
        model, _ = records.calibrate_form(matrix, "2pl")
    except PsychometricsError as exc:
        _flag(flags, "irt", "unavailable", None, None, f"IRT calibration not possible: {exc.reason}")
        return {"unavailable": exc.reason}, None
    out = model.to_dict()
    if not model.converged:
        _flag(flags, "irt", "converged", False, True, "2PL calibration did not converge")
    for item in out["items"]:
        p = item.get("s_x2_p")
        if p is not None and p < t["sx2_p_min"]:
            _flag(flags, "irt", "s_x2_p", p, t["sx2_p_min"], "item misfits the 2PL (S-X2)", item["item_id"])
    return out, model


def _dif(matrix: records.FormMatrix, groups: dict[str, str] | None, reference: str | None, t: dict[str, Any],
         flags: list[dict[str, Any]]) -> dict[str, Any]:
    if not groups or reference is None:
        return {"unavailable": "no candidate groups declared (--groups, --reference)"}
    labels = np.array([groups.get(c, "") for c in matrix.candidate_ids])
    keep = labels != ""
    cols = matrix.dichotomous()
    try:
        rows = dif.dif_report(matrix.scores[np.ix_(keep, cols)], labels[keep] != reference,
                              [matrix.item_ids[j] for j in cols], int(t["dif_min_group"]))
    except PsychometricsError as exc:
        _flag(flags, "dif", "unavailable", None, None, f"DIF not possible: {exc.reason}")
        return {"unavailable": exc.reason}
    for row in rows:
        if row["ets_class"] in t["dif_classes"]:
            _flag(flags, "dif", "ets_class", row["ets_class"], t["dif_classes"],
                  f"DIF class {row['ets_class']} (MH delta {row['mh_delta']})", row["item_id"])
    return {"reference": reference, "n_reference": int(np.sum(labels[keep] == reference)),
            "n_focal": int(np.sum(labels[keep] != reference)), "without_group": int(np.sum(~keep)), "items": rows}


def _equating(context: CentralContext, matrix: records.FormMatrix, t: dict[str, Any],
              flags: list[dict[str, Any]]) -> dict[str, Any]:
    scoring = load_form_scoring(context.open_bank_db(), matrix.form_id, matrix.version)
    basis = scoring.cut_basis.to_dict() if scoring.cut_basis else {"cut": scoring.cut_score}
    stored = stored_equating(context.open_bank_db(), matrix.form_id, matrix.version)
    out: dict[str, Any] = {"cut_in_force": basis, "stored": stored}
    if stored and basis.get("cut") is not None:
        row = next((r for r in stored["conversion"] if r["raw"] == basis["cut"]), None)
        se = row.get("se") if row else None
        out["se_at_cut"] = se
        if se is not None and se > t["equating_se_max"]:
            _flag(flags, "equating", "se_at_cut", se, t["equating_se_max"], "equating too uncertain at the cut")
    return out


def _decision(analysis: Analysis, matrix: records.FormMatrix, cut: float | None, model: IRTResult | None,
              t: dict[str, Any], flags: list[dict[str, Any]]) -> dict[str, Any]:
    if cut is None:
        _flag(flags, "decision", "unavailable", None, None, "no cut in force: decision consistency not computed")
        return {"unavailable": "no cut in force"}
    alpha, high = analysis.test.alpha, float(sum(matrix.maxima))
    out: dict[str, Any] = {"cut": cut}
    try:
        if alpha is None or not 0 < alpha < 1:
            raise PsychometricsError(f"reliability {alpha} is not between 0 and 1")
        ll = decision.livingston_lewis(analysis.totals, alpha, cut, 0, high)
    except PsychometricsError as exc:
        _flag(flags, "decision", "unavailable", None, None, f"decision consistency not possible: {exc.reason}")
        return {**out, "unavailable": exc.reason}
    out["livingston_lewis"] = ll.to_dict()
    if len(matrix.dichotomous()) == len(matrix.item_ids):
        out["subkoviak"] = decision.subkoviak(analysis.totals, len(matrix.item_ids), cut).to_dict()
        if model is not None:
            out["irt"] = decision.irt_decision(model, cut).to_dict()
    if ll.agreement < t["agreement_min"]:
        _flag(flags, "decision", "agreement", round(ll.agreement, 4), t["agreement_min"],
              "decision consistency at the cut below the minimum")
    if ll.false_pass is not None and ll.false_pass > t["false_pass_max"]:
        _flag(flags, "decision", "false_pass", round(ll.false_pass, 4), t["false_pass_max"],
              "false-pass rate at the cut above the maximum")
    return out


def exposure(context: CentralContext, form_id: str, version: int) -> list[dict[str, Any]]:
    """Per item version of the form: the forms of its scheme that hold it and the share of the
    scheme's scored sittings that saw it."""
    bank, results = context.open_bank_db(), context.open_results_db()
    this = fetch_all(bank, select(forms.c.scheme_id, forms.c.scheme_version)
                     .where(forms.c.form_id == form_id, forms.c.version == version))
    scheme = this[0]
    holders: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for fid, fver, doc in fetch_all(bank, select(forms.c.form_id, forms.c.version, forms.c.form_json)
                                    .where(forms.c.scheme_id == scheme[0], forms.c.scheme_version == scheme[1])):
        for ref in json.loads(doc)["items"]:
            holders.setdefault((ref["item_id"], int(ref["version"])), []).append((fid, int(fver)))
    sittings = {(r[0], int(r[1])): int(r[2]) for r in fetch_all(
        results, select(attempts.c.form_id, attempts.c.form_version, func.count())
        .where(attempts.c.scoring_status == "scored").group_by(attempts.c.form_id, attempts.c.form_version))}
    scheme_forms = {f for fs in holders.values() for f in fs}
    total = sum(sittings.get(f, 0) for f in scheme_forms)
    scoring = load_form_scoring(bank, form_id, version)
    out = []
    for key in scoring.keys:
        held = holders.get((key.item_id, key.version), [])
        seen = sum(sittings.get(f, 0) for f in held)
        out.append({"item_id": key.item_id, "version": key.version, "forms": [f"{f}@{v}" for f, v in sorted(held)],
                    "sittings": seen, "exposure": round(seen / total, 6) if total else None})
    return out


def review_exam(context: CentralContext, form_ref: str, thresholds: dict[str, Any],
                groups: dict[str, str] | None = None, reference: str | None = None,
                open_actions_by: str | None = None) -> dict[str, Any]:
    """The whole review of one form version as a JSON-ready dict with its ``flags``; with
    ``open_actions_by`` each flag also opens a corrective action in that person's name."""
    t = thresholds
    flags: list[dict[str, Any]] = []
    matrix = records.form_matrix(context, form_ref)
    ref = f"{matrix.form_id}@{matrix.version}"
    analysis, title = analyze_form(context, ref, FlagThresholds(t["p_min"], t["p_max"], t["rpb_min"],
                                                                t["distractor_rpb_max"]))
    classical = _classical(analysis, t, flags)
    irt_out, model = _irt(matrix, t, flags)
    dif_out = _dif(matrix, groups, reference, t, flags)
    equating_out = _equating(context, matrix, t, flags)
    decision_out = _decision(analysis, matrix, equating_out["cut_in_force"].get("cut"), model, t, flags)
    exposure_out = exposure(context, matrix.form_id, matrix.version)
    for row in exposure_out:
        if row["exposure"] is not None and row["exposure"] > t["exposure_max"]:
            _flag(flags, "exposure", "exposure", row["exposure"], t["exposure_max"],
                  f"seen in {row['sittings']} sittings ({', '.join(row['forms'])})", row["item_id"])
    return {"form": ref, "title": f"Exam performance review of form {ref}", "analysis_title": title,
            "n_candidates": len(matrix.attempt_ids), "left_out": matrix.left_out, "thresholds": t,
            "classical": classical, "irt": irt_out, "dif": dif_out, "equating": equating_out,
            "decision": decision_out, "exposure": exposure_out, "flags": flags,
            "corrective_actions": _corrective_actions(context, ref, flags, open_actions_by)}


def _corrective_actions(context: CentralContext, ref: str, flags: list[dict[str, Any]],
                        by: str | None) -> dict[str, Any]:
    """One corrective action (source ``item_analysis``) per flag when ``by`` asks for them.

    Why one per flag and keyed by form, item and check: the register is where the body shows an
    assessor what it did about each shortfall (ISO/IEC 17024 9.3.5, 10.2); running the review again
    must not open the same action twice while the first is still open.
    """
    if by is None:
        return {"opened": [], "already_open": [], "register": "corrective",
                "note": "flags are listed only; review-exam --open-actions --by NAME opens one corrective action "
                        "per flag in the register (corrective list)"}
    open_refs = {row["source_ref"]: row["id"] for row in corrective.listing(context) if row["status"] != "closed"}
    opened, already = [], []
    for flag in flags:
        source_ref = f"{ref}:{flag['item_id'] or 'form'}:{flag['section']}/{flag['what']}"
        if source_ref in open_refs:
            already.append({"id": open_refs[source_ref], "source_ref": source_ref})
            continue
        description = f"Exam performance review of {ref}: {flag['message']} ({flag['what']} {flag['value']}, " \
                      f"threshold {flag['threshold']})"
        action_id = corrective.open_action(context, by, "item_analysis", description, source_ref=source_ref)
        open_refs[source_ref] = action_id
        opened.append({"id": action_id, "source_ref": source_ref})
    return {"opened": opened, "already_open": already, "register": "corrective",
            "note": f"{len(opened)} corrective action(s) opened, {len(already)} already open (corrective list)"}
