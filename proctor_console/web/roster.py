"""The Roster page (``/roster``): each candidate's accommodations, whether the scheme allows them,
who has already sat, and (centre admins) allowing one more admission with a reason; where each
candidate came from (CSV, the central body's signed roster with its photo, or a centre admin's
override with a reason) and the signed rosters held; a centre admin adding someone not on the
roster, with a reason (``SignedRosters.override``, audited), or allowing one admission outside a
signed session's time (``SignedRosters.allow_outside_window``, audited); and each candidate's identity photo
(``/roster/<id>/photo``, staff only, never cached) that the admit form shows before admission.

Everything shown comes from ``proctor_console.candidates`` (the same view as ``roster list``), so
the page, the CLI and the dashboard's admit list agree. Allowing a re-admission is a CSRF-checked
POST for centre admins only; the grant goes to the audit chain with the admin's name.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from exam_core.errors import InvigilError, ValidationError
from exam_core.model import IDENTIFIER_RE
from proctor_console.candidates import Candidates
from proctor_console.signed_roster import SignedRosters
from proctor_console.web.auth import ADMIN, ANY_STAFF, require_role
from proctor_console.web.refusals import refused_message


def roster_blueprint(candidates: Candidates, signed: SignedRosters | None = None) -> Blueprint:
    bp = Blueprint("roster", __name__)

    def page(message: str | None = None, status: int = 200) -> Any:
        return render_template("roster.html", candidates=candidates.listing(), message=message,
                               signed_rosters=signed.sessions() if signed else []), status

    @bp.get("/roster/<candidate_id>/photo")
    @require_role(*ANY_STAFF)
    def photo(candidate_id: str) -> Any:
        """The identity photo the signed roster carries (JPEG checked by the roster's reader)."""
        data = signed.photo(candidate_id) if signed and IDENTIFIER_RE.match(candidate_id) else None
        if data is None:
            abort(404)
        return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store",
                                                                "X-Content-Type-Options": "nosniff"})

    @bp.post("/roster/override")
    @require_role(*ADMIN)
    def override() -> Any:
        form = request.form
        try:
            if signed is None:
                raise ValidationError("roster", "signed rosters are not available on this console")
            signed.override(g.user, candidate_id=form.get("candidate_id", ""), name=form.get("name", ""),
                            scheme_id=form.get("scheme_id", ""), seat=form.get("seat", ""),
                            reason=form.get("reason", ""))
        except InvigilError as exc:
            return page(*refused_message(exc))
        return page(f"Candidate {form.get('candidate_id')} added to the roster by {g.user.name}; the reason is "
                    "in the audit log.")

    @bp.post("/roster/window-override")
    @require_role(*ADMIN)
    def window_override() -> Any:
        candidate_id = request.form.get("candidate_id", "").strip()
        try:
            if signed is None:
                raise ValidationError("roster", "signed rosters are not available on this console")
            signed.allow_outside_window(g.user, candidate_id, request.form.get("reason", ""))
        except InvigilError as exc:
            return page(*refused_message(exc))
        return page(f"Candidate {candidate_id} may be admitted once outside the session's time; the reason is in "
                    "the audit log.")

    @bp.get("/roster")
    @require_role(*ANY_STAFF)
    def roster() -> Any:
        return page()

    @bp.post("/roster/readmit")
    @require_role(*ADMIN)
    def readmit() -> Any:
        candidate_id = request.form.get("candidate_id", "")
        try:
            if not IDENTIFIER_RE.match(candidate_id):
                raise ValidationError("candidate_id", "must be an identifier")
            candidates.allow_readmission(g.user, candidate_id, request.form.get("reason", ""))
        except InvigilError as exc:
            return page(*refused_message(exc))
        return page(f"Candidate {candidate_id} may be admitted once more.")

    return bp
