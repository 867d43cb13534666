"""The cut in force for a form, in raw points of that form (issue 19, item 3).

A scheme version's cut is decided once, on one scale: the body's **adopted** standard-setting cut
(``standard-setting adopt``, the newest one of the scheme version), or, when no study has been
adopted, the scheme's own ``cut_score`` / ``cut_score_percent``. Other forms of the scheme version
are not equally hard, so the same competence needs a different raw score on each: when an
equating of the form to its reference form is stored (``equate ... --store-for FORM@V``), the
form's cut is the smallest raw score whose equated score reaches the reference cut. Scoring
(:func:`item_bank_sync.results.intake.load_form_scoring`) stores that raw cut with each attempt,
so every report that shows an attempt's score and cut shows the equated one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from item_bank_sync.bank.schema import form_equatings, standard_setting_cuts, standard_setting_studies
from item_bank_sync.db.sql import fetch_one


@dataclass(frozen=True)
class CutInForce:
    """A form's raw cut, the cut on the reference scale it comes from, and where both come from."""

    cut: float | None
    reference_cut: float | None
    source: str
    equating: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"cut": self.cut, "reference_cut": self.reference_cut, "source": self.source,
                "equating": self.equating}


def adopted_cut(bank: Engine, scheme_id: str, scheme_version: int) -> dict[str, Any] | None:
    """The newest adopted standard-setting cut of a scheme version (None when none was adopted)."""
    c, s = standard_setting_cuts.c, standard_setting_studies.c
    row = fetch_one(bank, select(c.cut, c.study_id, c.decided_by, c.decided_at, s.form_id, s.form_version)
                    .join_from(standard_setting_cuts, standard_setting_studies, s.study_id == c.study_id)
                    .where(s.scheme_id == scheme_id, s.scheme_version == scheme_version, c.kind == "adopted")
                    .order_by(c.id.desc()).limit(1))
    if row is None:
        return None
    return {"cut": float(row[0]), "study_id": row[1], "decided_by": row[2], "decided_at": row[3],
            "form": f"{row[4]}@{row[5]}"}


def stored_equating(bank: Engine, form_id: str, version: int) -> dict[str, Any] | None:
    """The newest equating stored for a form: method, reference form and conversion rows."""
    e = form_equatings.c
    row = fetch_one(bank, select(e.method, e.reference_form_id, e.reference_version, e.conversion_json, e.id)
                    .where(e.form_id == form_id, e.form_version == version).order_by(e.id.desc()).limit(1))
    if row is None:
        return None
    return {"id": int(row[4]), "method": row[0], "reference": f"{row[1]}@{row[2]}",
            "conversion": json.loads(row[3])}


def raw_cut_for(conversion: list[dict[str, Any]], reference_cut: float) -> float:
    """The smallest raw score whose equated score reaches ``reference_cut`` (equating is monotone);
    above the top of the table nobody can reach it, so the cut is one point over the maximum."""
    for row in sorted(conversion, key=lambda r: r["raw"]):
        if float(row["equated"]) >= reference_cut - 1e-9:
            return float(row["raw"])
    return float(max(r["raw"] for r in conversion)) + 1.0


def cut_in_force(bank: Engine, form_id: str, version: int, scheme_id: str, scheme_version: int,
                 scheme_cut: float | None) -> CutInForce:
    """The form's raw cut: the adopted (else the scheme's) cut, through the form's stored equating."""
    adopted = adopted_cut(bank, scheme_id, scheme_version)
    reference = adopted["cut"] if adopted else scheme_cut
    source = (f"adopted cut of {scheme_id}@{scheme_version} (study {adopted['study_id']}, "
              f"{adopted['decided_by']})" if adopted else f"scheme {scheme_id}@{scheme_version}")
    if reference is None or not math.isfinite(reference):
        return CutInForce(None, None, "no cut (the scheme states none)")
    equating = stored_equating(bank, form_id, version)
    if equating is None or equating["reference"] == f"{form_id}@{version}":
        return CutInForce(reference, reference, source)
    raw = raw_cut_for(equating["conversion"], reference)
    source += f", equated ({equating['method']}) from {equating['reference']}"
    if adopted and equating["reference"] != adopted["form"]:
        # The panel's cut is in raw points of the form it rated; an equating to another form
        # reads it on that form's scale. Said, not hidden: the body should equate to the study form.
        source += f" (note: the adopted cut was set on {adopted['form']}, not on {equating['reference']})"
    return CutInForce(raw, reference, source, {k: equating[k] for k in ("id", "method", "reference")})
