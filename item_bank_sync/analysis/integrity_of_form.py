"""Integrity analysis of one form's attempts (``integrity --form``), shared by the CLI and the staff pages.

Why a function of its own: the command used to resolve the form reference, load the answer keys
and run the analyses inline; the staff review page must run exactly the same steps (and store the
same flags), so both call :func:`integrity_of_form`. Flags are leads for a person, never a decision.
"""

from __future__ import annotations

from typing import Any

from item_bank_sync.analysis.of_form import parse_form_ref
from item_bank_sync.context import CentralContext
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.integrity import analyse_form


def integrity_of_form(ctx: CentralContext, form_ref: str) -> tuple[str, int, list[dict[str, Any]]]:
    """``(form_id, version, flags)`` for ``FORM[@VERSION]``; each flag a dict with ``incidents_count`` and
    ``ended_by_proctor`` (the flag's attempts a proctor ended, comma-separated; "" for none)."""
    results = ctx.open_results_db()
    form_id, version = parse_form_ref(form_ref, results)
    scoring = load_form_scoring(ctx.open_bank_db(), form_id, version)
    flags = [f.to_dict() for f in analyse_form(results, {k.item_id: k for k in scoring.keys}, form_id, version)]
    for flag in flags:
        flag["incidents_count"] = len(flag["incidents"])
        # an attempt cut short by a proctor: its flag weighs differently (results/integrity.py)
        flag["ended_by_proctor"] = ", ".join(flag["detail"].get("ended_by_proctor", {}))
    return form_id, version, flags
