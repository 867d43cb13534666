"""Standard setting by the modified Angoff method, kept as a record of the scheme version (issue 19).

A study belongs to one scheme version and is run on one of its forms. Panellists are declared
first, each with the conflicts they state; one who **trained candidates** is flagged (ISO/IEC
17024 5.2 impartiality: a trainer's cut is not independent of the candidates), shown wherever the
panel is, and left out of the recommendation when the body asks for that. In each round every
panellist rates every item of the form: the probability (0..1) that a *minimally competent
candidate* answers it correctly (for an item worth more than one point: the expected share of its
points). A panellist's cut is ``sum_j rating_j * max_j``; the panel's cut the mean of the
panellists' cuts, with standard error ``SD / sqrt(n)`` across panellists (the usual Angoff SE;
Cizek & Bunch, *Standard Setting*, 2007, ch. 6). Between rounds the panel sees **impact data**:
the share of the form's analysable scored candidates (not ended by a proctor, not withheld) who
would pass at its current cut; a round after the first is refused until the impact of the round
before was recorded. The body **adopts** a cut (it may differ from the recommendation, e.g. by a
multiple of the SE), naming who decided and why; that is the cut in force for the scheme version
(:mod:`item_bank_sync.results.cuts`). Every step is an entry in the audit chain.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select

from exam_core.errors import TooLargeError, ValidationError
from exam_core.limits import MIB
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.analysis.of_form import analysable_attempts
from item_bank_sync.bank.schema import (forms, schemes, standard_setting_cuts, standard_setting_panellists,
                                        standard_setting_ratings, standard_setting_studies)
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, scalar, write
from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.schema import attempts

METHOD = "modified-angoff"
ID_RE = re.compile(r"^[A-Za-z0-9_.\-:]{1,128}$")
CSV_MAX_BYTES = 16 * MIB
PANEL_HEADER = "panellist_id,trained_candidates,conflicts"
RATINGS_HEADER = "panellist,item_id,rating"
TRAINER_FLAG = "trained candidates (conflict of interest, ISO/IEC 17024 5.2)"


def _now() -> str:
    return format_time(utc_now())


def _csv_lines(path: Path, header: str) -> list[tuple[int, list[str]]]:
    """Data rows of a small UTF-8 CSV file with exactly ``header``."""
    if path.stat().st_size > CSV_MAX_BYTES:
        raise TooLargeError(f"{path.stat().st_size} bytes exceeds the limit of {CSV_MAX_BYTES}", field=str(path))
    return csv_rows(path.read_bytes(), str(path), header)


def csv_rows(data: bytes, name: str, header: str) -> list[tuple[int, list[str]]]:
    """Data rows (with their line numbers) of CSV bytes with exactly ``header``; every row has the
    header's number of values (commas inside values are refused); blank lines are skipped."""
    if len(data) > CSV_MAX_BYTES:
        raise TooLargeError(f"{len(data)} bytes exceeds the limit of {CSV_MAX_BYTES}", field=name)
    path = name
    try:
        lines = data.decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError:
        raise ValidationError(str(path), "is not UTF-8") from None
    if lines[0].strip() != header:
        raise ValidationError(f"{path}: line 1", f"header must be {header}")
    width = header.count(",") + 1
    out = []
    for no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != width:
            raise ValidationError(f"{path}: line {no}", f"expected {width} values: {header}")
        out.append((no, cells))
    return out


def _check_id(value: str, where: str) -> str:
    if not ID_RE.match(value):
        raise ValidationError(where, "an id is 1-128 letters, digits or _.-:")
    return value


# --- opening a study ------------------------------------------------------------------------

def read_panel(path: Path) -> list[dict[str, Any]]:
    """``panellist_id,trained_candidates,conflicts`` (trained: yes/no; conflicts: free text, no commas)."""
    panel, seen = [], set()
    for no, (pid, trained, conflicts) in _csv_lines(path, PANEL_HEADER):
        _check_id(pid, f"{path}: line {no}")
        if trained.lower() not in ("yes", "no"):
            raise ValidationError(f"{path}: line {no}", "trained_candidates is yes or no")
        if pid in seen:
            raise ValidationError(f"{path}: line {no}", f"panellist {pid!r} appears twice")
        seen.add(pid)
        panel.append({"panellist_id": pid, "trained_candidates": int(trained.lower() == "yes"),
                      "conflicts": conflicts[:500]})
    if len(panel) < 2:
        raise ValidationError(str(path), "a panel needs at least 2 panellists (an SE needs two cuts)")
    return panel


def open_study(context: CentralContext, study_id: str, scheme_ref: str, form_ref: str, panel: list[dict[str, Any]],
               by: str) -> dict[str, Any]:
    """Record a new study of a scheme version on one of its forms, with its panel."""
    bank = context.open_bank_db()
    _check_id(study_id, "study")
    scheme_id, scheme_version = parse_ref(scheme_ref, "--scheme")
    form_id, form_version = parse_ref(form_ref, "--form")
    if fetch_one(bank, select(schemes.c.title).where(schemes.c.scheme_id == scheme_id,
                                                     schemes.c.version == scheme_version)) is None:
        raise PsychometricsError(f"scheme {scheme_id} v{scheme_version} is not in the bank", "--scheme")
    row = fetch_one(bank, select(forms.c.scheme_id, forms.c.scheme_version)
                    .where(forms.c.form_id == form_id, forms.c.version == form_version))
    if row is None or (row[0], row[1]) != (scheme_id, scheme_version):
        raise PsychometricsError(f"form {form_id} v{form_version} is not a form of scheme {scheme_id} "
                                 f"v{scheme_version}", "--form")
    if fetch_one(bank, select(standard_setting_studies.c.study_id)
                 .where(standard_setting_studies.c.study_id == study_id)) is not None:
        raise PsychometricsError(f"study {study_id} already exists", "study")
    now = _now()
    with write(bank) as conn:
        conn.execute(insert(standard_setting_studies).values(
            study_id=study_id, scheme_id=scheme_id, scheme_version=scheme_version, form_id=form_id,
            form_version=form_version, method=METHOD, opened_at=now, opened_by=by))
        conn.execute(insert(standard_setting_panellists), [{**p, "study_id": study_id, "added_at": now} for p in panel])
    context.audit_log().append(by, "standard_setting.open", {
        "study_id": study_id, "scheme": f"{scheme_id}@{scheme_version}", "form": f"{form_id}@{form_version}",
        "panellists": len(panel), "trainers": sum(p["trained_candidates"] for p in panel)})
    return show_study(context, study_id)


def parse_ref(text: str, field: str) -> tuple[str, int]:
    ident, _, version = (text or "").partition("@")
    if not ID_RE.match(ident) or not version.isdigit():
        raise ValidationError(field, f"{text!r}: give ID@VERSION")
    return ident, int(version)


# --- the study as stored --------------------------------------------------------------------

def _study(bank: Engine, study_id: str) -> dict[str, Any]:
    s = standard_setting_studies.c
    row = fetch_one(bank, select(s.scheme_id, s.scheme_version, s.form_id, s.form_version, s.method, s.opened_at,
                                 s.opened_by).where(s.study_id == study_id))
    if row is None:
        raise PsychometricsError(f"no standard-setting study {study_id!r}", "study")
    return dict(zip(("scheme_id", "scheme_version", "form_id", "form_version", "method", "opened_at", "opened_by"),
                    row), study_id=study_id)


def _panel(bank: Engine, study_id: str) -> list[dict[str, Any]]:
    p = standard_setting_panellists.c
    rows = fetch_all(bank, select(p.panellist_id, p.trained_candidates, p.conflicts)
                     .where(p.study_id == study_id).order_by(p.panellist_id))
    return [{"panellist_id": r[0], "trained_candidates": bool(r[1]), "conflicts": r[2],
             "flags": [TRAINER_FLAG] if r[1] else []} for r in rows]


def _item_maxima(context: CentralContext, study: dict[str, Any]) -> dict[str, float]:
    scoring = load_form_scoring(context.open_bank_db(), study["form_id"], study["form_version"])
    return {k.item_id: float(sum(rk.max_score for rk in k.responses)) for k in scoring.keys}


def _rounds(bank: Engine, study_id: str) -> list[int]:
    r = standard_setting_ratings.c
    return [int(x[0]) for x in fetch_all(bank, select(r.round).where(r.study_id == study_id).distinct()
                                         .order_by(r.round))]


def _cuts_rows(bank: Engine, study_id: str) -> list[dict[str, Any]]:
    c = standard_setting_cuts.c
    cols = ("id", "kind", "round", "cut", "se", "pass_rate", "n_candidates", "detail_json", "decided_by", "decided_at")
    rows = fetch_all(bank, select(*(c[k] for k in cols)).where(c.study_id == study_id).order_by(c.id))
    out = []
    for row in rows:
        rec = dict(zip(cols, row))
        rec["detail"] = json.loads(rec.pop("detail_json"))
        out.append(rec)
    return out


# --- rating rounds --------------------------------------------------------------------------

def import_ratings(context: CentralContext, study_id: str, round_no: int, path: Path, by: str) -> dict[str, Any]:
    """Import one round's ``panellist,item_id,rating`` CSV file (see :func:`import_ratings_rows`)."""
    return import_ratings_rows(context, study_id, round_no, _csv_lines(path, RATINGS_HEADER), str(path), by)


def import_ratings_rows(context: CentralContext, study_id: str, round_no: int, lines: list[tuple[int, list[str]]],
                        path: str, by: str) -> dict[str, Any]:
    """Import one round's ratings: every listed panellist must rate every item of the form once."""
    bank = context.open_bank_db()
    study = _study(bank, study_id)
    panel = {p["panellist_id"] for p in _panel(bank, study_id)}
    maxima = _item_maxima(context, study)
    _check_round(bank, study_id, round_no)
    ratings: dict[tuple[str, str], float] = {}
    for no, (pid, item_id, value) in lines:
        where = f"{path}: line {no}"
        if pid not in panel:
            raise ValidationError(where, f"{pid!r} is not a panellist of study {study_id}")
        if item_id not in maxima:
            raise ValidationError(where, f"item {item_id!r} is not on form {study['form_id']}")
        try:
            rating = float(value)
        except ValueError:
            raise ValidationError(where, "rating is a number from 0 to 1") from None
        if not 0 <= rating <= 1:
            raise ValidationError(where, "rating is a number from 0 to 1")
        if (pid, item_id) in ratings:
            raise ValidationError(where, f"{pid} rated {item_id} twice")
        ratings[(pid, item_id)] = rating
    raters = sorted({pid for pid, _ in ratings})
    for pid in raters:
        missing = [i for i in maxima if (pid, i) not in ratings]
        if missing:
            raise ValidationError(str(path), f"{pid} did not rate {len(missing)} item(s) (first: {missing[0]})")
    if not raters:
        raise ValidationError(str(path), "no ratings")
    already = _raters(bank, study_id, round_no) & set(raters)
    if already:
        raise PsychometricsError(f"round {round_no} already holds ratings of {', '.join(sorted(already))}")
    now = _now()
    with write(bank) as conn:
        conn.execute(insert(standard_setting_ratings), [
            {"study_id": study_id, "round": round_no, "panellist_id": pid, "item_id": item, "rating": rating,
             "imported_at": now, "imported_by": by} for (pid, item), rating in ratings.items()])
    context.audit_log().append(by, "standard_setting.rate", {"study_id": study_id, "round": round_no,
                                                             "panellists": raters, "ratings": len(ratings)})
    return {"study_id": study_id, "round": round_no, "panellists": raters, "ratings": len(ratings)}


def _raters(bank: Engine, study_id: str, round_no: int) -> set[str]:
    r = standard_setting_ratings.c
    return {x[0] for x in fetch_all(bank, select(r.panellist_id).where(r.study_id == study_id, r.round == round_no)
                                    .distinct())}


def _check_round(bank: Engine, study_id: str, round_no: int) -> None:
    """Rounds follow one another, and the panel sees the impact of a round before rating the next."""
    rounds = _rounds(bank, study_id)
    last = rounds[-1] if rounds else 0
    if round_no < 1 or round_no > last + 1 or (round_no < last):
        raise PsychometricsError(f"round {round_no} cannot be rated now: the study is at round {last or 'none'}")
    if round_no == last + 1 and last > 0:
        c = standard_setting_cuts.c
        seen = scalar(bank, select(func.count()).select_from(standard_setting_cuts)
                      .where(c.study_id == study_id, c.round == last, c.kind == "impact"))
        if not seen:
            raise PsychometricsError(f"record the impact of round {last} (standard-setting impact) before "
                                     f"round {round_no}: the panel sees it between rounds")


def panel_cuts(context: CentralContext, study_id: str, round_no: int) -> list[dict[str, Any]]:
    """Each rating panellist's cut in raw points of the study form for one round."""
    bank = context.open_bank_db()
    maxima = _item_maxima(context, _study(bank, study_id))
    flags = {p["panellist_id"]: p["flags"] for p in _panel(bank, study_id)}
    r = standard_setting_ratings.c
    cuts: dict[str, float] = {}
    for pid, item_id, rating in fetch_all(bank, select(r.panellist_id, r.item_id, r.rating)
                                          .where(r.study_id == study_id, r.round == round_no)):
        cuts[pid] = cuts.get(pid, 0.0) + float(rating) * maxima.get(item_id, 0.0)
    if not cuts:
        raise PsychometricsError(f"study {study_id} has no ratings in round {round_no}")
    return [{"panellist_id": pid, "cut": round(cut, 6), "flags": flags.get(pid, [])}
            for pid, cut in sorted(cuts.items())]


def angoff_cut(cuts: list[float]) -> tuple[float, float | None]:
    """The panel's cut (mean of the panellists' cuts) and its SE across panellists (SD / sqrt(n))."""
    arr = np.asarray(cuts, dtype=np.float64)
    if arr.size == 0:
        raise PsychometricsError("no panellist cuts")
    se = float(arr.std(ddof=1) / math.sqrt(arr.size)) if arr.size > 1 else None
    return float(arr.mean()), se


def _latest_round(bank: Engine, study_id: str, round_no: int | None) -> int:
    rounds = _rounds(bank, study_id)
    if not rounds:
        raise PsychometricsError(f"study {study_id} has no ratings yet")
    if round_no is None:
        return rounds[-1]
    if round_no not in rounds:
        raise PsychometricsError(f"study {study_id} has no round {round_no}")
    return round_no


def form_totals(context: CentralContext, form_id: str, version: int) -> np.ndarray:
    """Total scores of the form's analysable scored attempts (the score distribution for impact)."""
    results = context.open_results_db()
    kept, _ = analysable_attempts(results, form_id, version)
    if not kept:
        return np.zeros(0)
    keep = set(kept)
    rows = fetch_all(results, select(attempts.c.attempt_id, attempts.c.total)
                     .where(attempts.c.form_id == form_id, attempts.c.form_version == version))
    return np.array([float(t) for a, t in rows if a in keep and t is not None])


def _panel_summary(context: CentralContext, study: dict[str, Any], round_no: int, exclude_flagged: bool
                   ) -> dict[str, Any]:
    cuts = panel_cuts(context, study["study_id"], round_no)
    used = [c for c in cuts if not (exclude_flagged and c["flags"])]
    if len(used) < 2:
        raise PsychometricsError("fewer than 2 panellists' cuts remain: no standard error can be given")
    cut, se = angoff_cut([c["cut"] for c in used])
    totals = form_totals(context, study["form_id"], study["form_version"])
    pass_rate = float(np.mean(totals >= cut - 1e-9)) if totals.size else None
    return {"round": round_no, "cut": round(cut, 6), "se": None if se is None else round(se, 6),
            "pass_rate": None if pass_rate is None else round(pass_rate, 6), "n_candidates": int(totals.size),
            "panellists": cuts, "excluded": [c["panellist_id"] for c in cuts if c not in used]}


def _store_cut(context: CentralContext, study_id: str, kind: str, summary: dict[str, Any], by: str,
               detail: dict[str, Any]) -> None:
    with write(context.open_bank_db()) as conn:
        conn.execute(insert(standard_setting_cuts).values(
            study_id=study_id, kind=kind, round=summary["round"], cut=summary["cut"], se=summary.get("se"),
            pass_rate=summary.get("pass_rate"), n_candidates=summary.get("n_candidates"),
            detail_json=json.dumps(detail), decided_by=by, decided_at=_now()))
    context.audit_log().append(by, f"standard_setting.{kind}", {
        "study_id": study_id, "round": summary["round"], "cut": summary["cut"], "se": summary.get("se"),
        "pass_rate": summary.get("pass_rate")})


def record_impact(context: CentralContext, study_id: str, round_no: int | None, by: str) -> dict[str, Any]:
    """Impact data for a round: the share of the form's candidates who would pass at the panel's cut."""
    bank = context.open_bank_db()
    study = _study(bank, study_id)
    summary = _panel_summary(context, study, _latest_round(bank, study_id, round_no), exclude_flagged=False)
    if summary["pass_rate"] is None:
        raise PsychometricsError(f"form {study['form_id']} v{study['form_version']} has no scored attempts "
                                 "to show impact with")
    _store_cut(context, study_id, "impact", summary, by, {"panellists": summary["panellists"]})
    return summary


def recommend(context: CentralContext, study_id: str, round_no: int | None, exclude_flagged: bool,
              by: str) -> dict[str, Any]:
    """The panel's recommended cut with its SE (optionally without panellists flagged for conflicts)."""
    bank = context.open_bank_db()
    study = _study(bank, study_id)
    summary = _panel_summary(context, study, _latest_round(bank, study_id, round_no), exclude_flagged)
    _store_cut(context, study_id, "recommended", summary, by,
               {"panellists": summary["panellists"], "excluded": summary["excluded"]})
    return summary


def adopt(context: CentralContext, study_id: str, cut: float | None, reason: str, by: str) -> dict[str, Any]:
    """The body's decision: the cut in force for the scheme version (default: the recommendation)."""
    bank = context.open_bank_db()
    study = _study(bank, study_id)
    recommended = [c for c in _cuts_rows(bank, study_id) if c["kind"] == "recommended"]
    if not recommended:
        raise PsychometricsError(f"study {study_id} has no recommended cut yet (standard-setting recommend)")
    if not reason.strip():
        raise ValidationError("--reason", "say why the body adopts this cut")
    maximum = sum(_item_maxima(context, study).values())
    last = recommended[-1]
    value = last["cut"] if cut is None else float(cut)
    if not 0 <= value <= maximum:
        raise ValidationError("--cut", f"the cut must be between 0 and the form's maximum {maximum:g}")
    totals = form_totals(context, study["form_id"], study["form_version"])
    summary = {"round": last["round"], "cut": value, "se": last["se"], "n_candidates": int(totals.size),
               "pass_rate": round(float(np.mean(totals >= value - 1e-9)), 6) if totals.size else None}
    _store_cut(context, study_id, "adopted", summary, by,
               {"reason": reason.strip()[:2000], "recommended": last["cut"], "recommended_se": last["se"]})
    return {**summary, "study_id": study_id, "scheme": f"{study['scheme_id']}@{study['scheme_version']}",
            "decided_by": by, "reason": reason.strip()[:2000]}


def show_study(context: CentralContext, study_id: str) -> dict[str, Any]:
    """Everything recorded about a study: panel (with flags), rounds, impact, recommended and adopted cuts."""
    bank = context.open_bank_db()
    study = _study(bank, study_id)
    rounds = [{"round": n, "panellist_cuts": panel_cuts(context, study_id, n)} for n in _rounds(bank, study_id)]
    cuts = _cuts_rows(bank, study_id)
    adopted = [c for c in cuts if c["kind"] == "adopted"]
    return {**study, "panel": _panel(bank, study_id), "rounds": rounds,
            "impact": [c for c in cuts if c["kind"] == "impact"],
            "recommended": [c for c in cuts if c["kind"] == "recommended"],
            "adopted": adopted, "cut_in_force": adopted[-1] if adopted else None}
