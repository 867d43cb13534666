"""Read-only lookups of the release records every release module needs (kept apart from
:mod:`item_bank_sync.release.holds` so the report and the notices can read them without an import
circle: holds -> follow-up -> notices -> report)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from exam_core.errors import InvigilError
from item_bank_sync.context import CentralContext
from item_bank_sync.release.schema import result_releases
from item_bank_sync.results.schema import decisions


class ReleaseRefused(InvigilError):
    """A hold, lift or release that cannot be done (unknown target, held, undecided, partial)."""


def latest_decision(conn: Connection, attempt_id: str) -> dict[str, Any] | None:
    """The decision that stands on an attempt (the latest), or None."""
    d = decisions.c
    row = conn.execute(select(d.outcome, d.decided_by, d.at).where(d.attempt_id == attempt_id)
                       .order_by(d.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def release_of(ctx: CentralContext, attempt_id: str) -> dict[str, Any] | None:
    """The release record of an attempt (who, when), or None while its result is not released."""
    r = result_releases.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(r.released_by, r.released_at).where(r.attempt_id == attempt_id)).mappings().first()
    return dict(row) if row else None
