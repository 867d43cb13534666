"""The Roster page (``/roster``): each candidate's accommodations, whether the scheme allows them,
who has already sat, and (centre admins) allowing one more admission with a reason.

Everything shown comes from ``proctor_console.candidates`` (the same view as ``roster list``), so
the page, the CLI and the dashboard's admit list agree. Allowing a re-admission is a CSRF-checked
POST for centre admins only; the grant goes to the audit chain with the admin's name.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from exam_core.errors import InvigilError, ValidationError
from exam_core.model import IDENTIFIER_RE
from proctor_console.candidates import Candidates
from proctor_console.web.auth import ADMIN, ANY_STAFF, require_role
from proctor_console.web.refusals import refused_message


def roster_blueprint(candidates: Candidates) -> Blueprint:
    bp = Blueprint("roster", __name__)

    def page(message: str | None = None, status: int = 200) -> Any:
        return render_template("roster.html", candidates=candidates.listing(), message=message), status

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
