"""Standard-setting pages: the studies of scheme versions, one study's panel (conflicts flagged),
rounds, impact, recommended and adopted cuts, and the forms that add to it.

Each action calls what its ``standard-setting`` command calls (:mod:`item_bank_sync.psychometrics.
standard_setting`) with the signed-in person as actor, so the same rules and the same audit entries
hold from either face: rounds in order with impact between them, ratings checked line by line,
the adoption by a decision maker with a reason. Ratings arrive as the same CSV file the command
imports (``panellist,item_id,rating``).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from exam_core.errors import InvigilError
from item_bank_sync.bank.schema import standard_setting_studies
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.psychometrics import standard_setting as ss
from item_bank_sync.web.access import ADMIN, AUDITOR, DECISION_MAKER, PSYCHOMETRICIAN, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, int_field, refused, text_field, upload

bp = Blueprint("standard_setting", __name__, url_prefix="/standard-setting")

VIEW = (PSYCHOMETRICIAN, DECISION_MAKER, ADMIN, AUDITOR)
REASON_MAX = 2000


@bp.get("/")
@require_role(*VIEW)
def studies_page() -> ResponseReturnValue:
    """Every study, newest first, with its scheme version and form."""
    s = standard_setting_studies.c
    rows = fetch_all(state().ctx.open_bank_db(), select(s.study_id, s.scheme_id, s.scheme_version, s.form_id,
                                                         s.form_version, s.opened_at, s.opened_by)
                     .order_by(s.opened_at.desc()))
    return render_template("staff/standard_setting/studies.html", studies=[r._mapping for r in rows])


def _study_id(study_id: str) -> str:
    if not ID_RE.match(study_id):
        abort(404)
    return study_id


@bp.get("/<study_id>")
@require_role(*VIEW)
def study_page(study_id: str) -> ResponseReturnValue:
    """``standard-setting show``, and the forms of the next steps for those who may take them."""
    try:
        study = ss.show_study(state().ctx, _study_id(study_id))
    except InvigilError:
        abort(404)
    next_round = (study["rounds"][-1]["round"] + 1) if study["rounds"] else 1
    return render_template("staff/standard_setting/study.html", study=study, next_round=next_round,
                           may_rate=may_do("standard-setting.rate"), may_impact=may_do("standard-setting.impact"),
                           may_recommend=may_do("standard-setting.recommend"),
                           may_adopt=may_do("standard-setting.adopt"), header=ss.RATINGS_HEADER,
                           reason_max=REASON_MAX)


@bp.post("/<study_id>/rate")
@require_role(PSYCHOMETRICIAN)
def rate_action(study_id: str) -> ResponseReturnValue:
    """``standard-setting rate STUDY --round N --ratings FILE``."""
    round_no = int_field("round", 1, 20)
    data = upload("ratings", ss.CSV_MAX_BYTES)
    if data is None:
        return refused("Ratings not imported", f"Choose the ratings CSV file ({ss.RATINGS_HEADER}).")
    try:
        rows = ss.csv_rows(data, "the uploaded ratings", ss.RATINGS_HEADER)
        done = ss.import_ratings_rows(state().ctx, _study_id(study_id), round_no, rows, "the uploaded ratings",
                                      actor())
    except InvigilError as exc:
        return refused("Ratings not imported", str(exc))
    return render_template("staff/standard_setting/done.html", study_id=study_id, title="Ratings imported",
                           text=f"Round {done['round']}: {done['ratings']} ratings of "
                                f"{', '.join(done['panellists'])}.")


@bp.post("/<study_id>/impact")
@require_role(PSYCHOMETRICIAN)
def impact_action(study_id: str) -> ResponseReturnValue:
    """``standard-setting impact STUDY``: what the panel sees before its next round."""
    try:
        done = ss.record_impact(state().ctx, _study_id(study_id), None, actor())
    except InvigilError as exc:
        return refused("Impact not recorded", str(exc))
    return render_template("staff/standard_setting/done.html", study_id=study_id, title="Impact recorded",
                           text=f"Round {done['round']}: at the panel's cut {done['cut']:.2f}, "
                                f"{100 * done['pass_rate']:.1f} % of {done['n_candidates']} candidates would pass.")


@bp.post("/<study_id>/recommend")
@require_role(PSYCHOMETRICIAN)
def recommend_action(study_id: str) -> ResponseReturnValue:
    """``standard-setting recommend STUDY [--exclude-flagged]``."""
    exclude = request.form.get("exclude_flagged") == "yes"
    try:
        done = ss.recommend(state().ctx, _study_id(study_id), None, exclude, actor())
    except InvigilError as exc:
        return refused("No recommendation", str(exc))
    se = "n/a" if done["se"] is None else f"{done['se']:.2f}"
    return render_template("staff/standard_setting/done.html", study_id=study_id, title="Cut recommended",
                           text=f"Round {done['round']}: recommended cut {done['cut']:.2f} (SE {se}).")


@bp.post("/<study_id>/adopt")
@require_role(DECISION_MAKER)
def adopt_action(study_id: str) -> ResponseReturnValue:
    """``standard-setting adopt STUDY --cut X --reason TEXT``: the cut in force for the scheme version."""
    cut_text = text_field("cut", 32, required=False)
    reason = text_field("reason", REASON_MAX)
    try:
        cut = float(cut_text) if cut_text else None
    except ValueError:
        return refused("Cut not adopted", "The cut is a number of raw points.")
    try:
        done = ss.adopt(state().ctx, _study_id(study_id), cut, reason, actor())
    except InvigilError as exc:
        return refused("Cut not adopted", str(exc))
    return render_template("staff/standard_setting/done.html", study_id=study_id, title="Cut adopted",
                           text=f"Cut {done['cut']:g} is in force for scheme {done['scheme']}.")

