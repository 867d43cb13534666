"""Psychometric records in the bank: calibrated item parameters and a form's stored equating.

``analyze --form FORM --irt 2pl --write-params`` calibrates the form's dichotomous items on its
analysable scored attempts (the same ones ``analyze --form`` reads: not ended by a proctor, not
withheld) and stores one ``item_parameters`` row per item *version* with the model, sample size,
date, form, convergence and who ran it; the run is one entry in the audit chain. Rows are never
overwritten: a later calibration is a new row, and ``params`` lists the newest first, so the
history of an item's parameters stays visible. A non-converged calibration is refused for
storage (its numbers are not estimates).

``equate ... --store-for FORM@V --reference-form REF@V`` stores the conversion so that scoring
applies the cut on the reference scale (:mod:`item_bank_sync.results.cuts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, select

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.analysis.of_form import _score_matrix, analysable_attempts, parse_form_ref
from item_bank_sync.bank.schema import form_equatings, forms, item_parameters
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.psychometrics import irt
from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.schema import attempts as attempts_table


@dataclass
class FormMatrix:
    """A form's analysable scores: item ids and versions in form order, maxima and the matrix."""

    form_id: str
    version: int
    item_ids: list[str]
    versions: list[int]
    maxima: list[float]
    scores: np.ndarray
    left_out: int
    #: The analysable attempts (rows of ``scores``) and their candidates, for DIF by declared group.
    attempt_ids: list[str]
    candidate_ids: list[str]

    def dichotomous(self) -> list[int]:
        """Columns of items scored 0/1 (the 1PL/2PL/Rasch models are for these)."""
        return [j for j, m in enumerate(self.maxima) if abs(m - 1.0) < 1e-9]


def form_matrix(context: CentralContext, form_ref: str) -> FormMatrix:
    """The candidates x items score matrix of a form's analysable scored attempts."""
    results = context.open_results_db()
    form_id, version = parse_form_ref(form_ref, results)
    scoring = load_form_scoring(context.open_bank_db(), form_id, version)
    item_ids = [k.item_id for k in scoring.keys]
    attempts, left_out = analysable_attempts(results, form_id, version)
    maxima = [float(sum(rk.max_score for rk in k.responses)) for k in scoring.keys]
    candidate_of = dict(fetch_all(results, select(attempts_table.c.attempt_id, attempts_table.c.candidate_id)
                                  .where(attempts_table.c.form_id == form_id,
                                         attempts_table.c.form_version == version)))
    return FormMatrix(form_id, version, item_ids, [k.version for k in scoring.keys], maxima,
                      _score_matrix(results, attempts, item_ids), left_out, attempts,
                      [candidate_of[a] for a in attempts])


def calibrate_form(matrix: FormMatrix, model: str) -> tuple[irt.IRTResult, list[str]]:
    """Calibrate ``model`` on the form's dichotomous items; the others are named as skipped."""
    cols = matrix.dichotomous()
    skipped = [matrix.item_ids[j] for j in range(len(matrix.item_ids)) if j not in cols]
    if len(cols) < 2:
        raise PsychometricsError(f"form {matrix.form_id} v{matrix.version} has {len(cols)} item(s) scored 0/1; "
                                 "IRT calibration needs at least 2")
    result = irt.calibrate(matrix.scores[:, cols], [matrix.item_ids[j] for j in cols], model)
    if skipped:
        result.messages.append(f"not calibrated (scored above 1 point: the graded response model is for "
                               f"them): {', '.join(skipped)}")
    return result, skipped


def write_parameters(context: CentralContext, matrix: FormMatrix, result: irt.IRTResult, by: str) -> int:
    """Store one row per calibrated item version and audit the run; refuses a non-converged fit."""
    if not result.converged:
        raise PsychometricsError("the calibration did not converge: its parameters are not stored "
                                 "(see the messages; more candidates or fewer items may help)")
    version_of = dict(zip(matrix.item_ids, matrix.versions))
    now = format_time(utc_now())
    rows = []
    for j, item_id in enumerate(result.item_ids):
        fit = result.fit[j] if result.fit is not None else None
        rows.append({"item_id": item_id, "version": version_of[item_id], "model": result.model,
                     "a": float(result.a[j]), "b": float(result.b[j]), "d": float(result.d[j]),
                     "se_a": _opt(result.se_a, j) if result.model != "rasch" else None,
                     "se_b": _opt(result.se_b, j),
                     "fit_json": json.dumps({"s_x2": fit.s_x2, "df": fit.df, "p": fit.p_value} if fit else {}),
                     "n_candidates": result.n_candidates, "form_id": matrix.form_id,
                     "form_version": matrix.version, "converged": int(result.converged),
                     "iterations": result.iterations, "loglik": float(result.loglik),
                     "calibrated_at": now, "calibrated_by": by})
    with write(context.open_bank_db()) as conn:
        conn.execute(insert(item_parameters), rows)
    context.audit_log().append(by, "psychometrics.calibrate", {
        "form_id": matrix.form_id, "form_version": matrix.version, "model": result.model,
        "n_candidates": result.n_candidates, "items": len(rows), "loglik": round(float(result.loglik), 4)})
    return len(rows)


def _opt(values: np.ndarray | None, j: int) -> float | None:
    if values is None or not np.isfinite(values[j]):
        return None
    return float(values[j])


PARAM_COLUMNS = ("item_id", "version", "model", "a", "b", "se_a", "se_b", "n_candidates", "form_id",
                 "form_version", "converged", "iterations", "calibrated_at", "calibrated_by")


def list_parameters(bank: Engine, item_id: str | None = None, latest_only: bool = False) -> list[dict[str, Any]]:
    """Stored calibrations, newest first (one item's with ``item_id``; one row per item version with
    ``latest_only``)."""
    p = item_parameters.c
    query = select(*(p[c] for c in PARAM_COLUMNS), p.fit_json).order_by(p.id.desc())
    if item_id is not None:
        query = query.where(p.item_id == item_id)
    out, seen = [], set()
    for row in fetch_all(bank, query):
        record = dict(zip(PARAM_COLUMNS, row[:-1]))
        record["converged"] = bool(record["converged"])
        record["fit"] = json.loads(row[-1])
        key = (record["item_id"], record["version"])
        if latest_only and key in seen:
            continue
        seen.add(key)
        out.append(record)
    return out


def store_equating(context: CentralContext, form_ref: str, reference_ref: str, payload: dict[str, Any],
                   by: str) -> dict[str, Any]:
    """Store an equating's conversion for a form (both forms must be in the bank), audited."""
    bank = context.open_bank_db()
    (form_id, version), (ref_id, ref_version) = (_bank_form(bank, r) for r in (form_ref, reference_ref))
    if (form_id, version) == (ref_id, ref_version):
        raise PsychometricsError("a form is not equated to itself")
    rows = [{"raw": r["raw"], "equated": r["equated"], "se": r.get("se")} for r in payload["conversion"]]
    with write(bank) as conn:
        new_id = conn.execute(insert(form_equatings).values(
            form_id=form_id, form_version=version, reference_form_id=ref_id, reference_version=ref_version,
            method=payload["method"], conversion_json=json.dumps(rows), created_at=format_time(utc_now()),
            created_by=by)).inserted_primary_key
    record = {"id": int(new_id[0]) if new_id else None, "form": f"{form_id}@{version}",
              "reference": f"{ref_id}@{ref_version}", "method": payload["method"]}
    context.audit_log().append(by, "psychometrics.equating", record)
    return record


def _bank_form(bank: Engine, text: str) -> tuple[str, int]:
    ident, _, version = text.partition("@")
    if not version.isdigit():
        raise PsychometricsError(f"{text!r}: name a form version as FORM@VERSION", "--store-for")
    found = fetch_one(bank, select(forms.c.form_id).where(forms.c.form_id == ident, forms.c.version == int(version)))
    if found is None:
        raise PsychometricsError(f"form {ident} v{version} is not in the bank", "--store-for")
    return ident, int(version)
