"""Read-only lookups of the release records every release module needs (kept apart from
:mod:`item_bank_sync.release.holds` so the report and the notices can read them without an import
circle: holds -> follow-up -> notices -> report)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from exam_core.errors import InvigilError
from item_bank_sync.context import CentralContext
from item_bank_sync.release.schema import result_releases
from item_bank_sync.results.decisions import latest_decision


class ReleaseRefused(InvigilError):
    """A hold, lift or release that cannot be done (unknown target, held, undecided, partial)."""


def release_of(ctx: CentralContext, attempt_id: str) -> dict[str, Any] | None:
    """The release record of an attempt (who, when), or None while its result is not released."""
    r = result_releases.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(r.released_by, r.released_at).where(r.attempt_id == attempt_id)).mappings().first()
    return dict(row) if row else None


__all__ = ["ReleaseRefused", "latest_decision", "release_of"]   # latest_decision is results.decisions.latest_decision
