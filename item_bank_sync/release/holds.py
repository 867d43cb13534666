"""Hold -> review -> release of scored attempts (ISO/IEC 17024 9.4; issue 17, item 1).

Why holds: a body must be able to stop results reaching candidates while it looks into something
(a centre's incident, a key that item analysis flags on one form, one candidate's integrity
flag). A hold covers a centre, a form (all versions) or one attempt and stands until a person lifts
it. Releasing is a decision: only an attempt that is fully scored, has a standing pass or fail
decision and is under no hold can be released, by someone who neither proctored, marked nor
adjudicated it. Every hold, lift and release enters the body's audit chain (ids only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, and_, insert, or_, select, update

from exam_core.errors import ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.release.issuing import Settled, settle
from item_bank_sync.release.records import ReleaseRefused, latest_decision, release_of
from item_bank_sync.release.schema import SCOPES, release_holds, result_releases
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.schema import attempt_roles, attempts

MAX_REASON = 2000

__all__ = ["MAX_REASON", "ReleaseRefused", "Released", "hold", "holds", "latest_decision", "lift", "release",
           "release_of", "review_queue"]


@dataclass(frozen=True)
class Released:
    """What one release call did: the attempts released, those refused with why, and the follow-up
    (certificates issued, candidates told)."""

    released: tuple[str, ...]
    refused: dict[str, str]
    settled: Settled = field(default_factory=Settled)

    def to_dict(self) -> dict[str, Any]:
        return {"released": list(self.released), "refused": dict(self.refused),
                "certificates": dict(self.settled.certificates), "not_issued": dict(self.settled.not_issued),
                "told": dict(self.settled.told)}


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValidationError("reason", f"must be given (1-{MAX_REASON} characters)")
    return reason.strip()


def hold(ctx: CentralContext, by: str, scope: str, target: str, reason: str) -> int:
    """Hold the results of a centre, a form or an attempt; returns the hold's id."""
    if scope not in SCOPES:
        raise ValidationError("scope", f"must be one of {', '.join(SCOPES)}")
    if not isinstance(target, str) or not 0 < len(target) <= 200:
        raise ValidationError("target", "must name a centre, form or attempt (1-200 characters)")
    actor, text = person_key(by), _reason(reason)
    column = {"centre": attempts.c.centre_id, "form": attempts.c.form_id, "attempt": attempts.c.attempt_id}[scope]
    with write(ctx.open_results_db()) as conn:
        if conn.execute(select(attempts.c.attempt_id).where(column == target).limit(1)).first() is None:
            raise ReleaseRefused(f"no attempt of {scope} {target} is in the results")
        inserted = conn.execute(insert(release_holds).values(
            scope=scope, target=target, reason=text, held_by=actor, held_at=format_time(utc_now())))
        hold_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # one row inserted
    ctx.audit_log().append(actor, "results.hold", {"hold_id": hold_id, "scope": scope, "target": target})
    return int(hold_id)


def lift(ctx: CentralContext, by: str, hold_id: int, reason: str) -> None:
    """Lift a standing hold (the record stays, with who lifted it and why)."""
    actor, text, h = person_key(by), _reason(reason), release_holds.c
    with write(ctx.open_results_db()) as conn:
        done = conn.execute(update(release_holds).where(h.id == hold_id, h.lifted_at.is_(None))
                            .values(lifted_by=actor, lifted_at=format_time(utc_now()), lift_reason=text)).rowcount
    if not done:
        raise ReleaseRefused(f"hold {hold_id} does not exist or was lifted already")
    ctx.audit_log().append(actor, "results.lift-hold", {"hold_id": hold_id})


def holds(ctx: CentralContext, standing_only: bool = True) -> list[dict[str, Any]]:
    """The holds, newest first (only those standing unless asked)."""
    query = select(release_holds).order_by(release_holds.c.id.desc())
    if standing_only:
        query = query.where(release_holds.c.lifted_at.is_(None))
    with ctx.open_results_db().connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _standing_holds(conn: Connection, attempt: dict[str, Any]) -> list[int]:
    h = release_holds.c
    covers = or_(and_(h.scope == "centre", h.target == attempt["centre_id"]),
                 and_(h.scope == "form", h.target == attempt["form_id"]),
                 and_(h.scope == "attempt", h.target == attempt["attempt_id"]))
    return [int(r[0]) for r in conn.execute(select(h.id).where(covers, h.lifted_at.is_(None)))]


def review_queue(ctx: CentralContext, centre: str | None = None, form: str | None = None, *,
                 attempt: str | None = None) -> list[dict[str, Any]]:
    """Every attempt not yet released (of a centre, a form, or just ``attempt``), with its scoring
    status, standing decision and holds: what a reviewer looks at before releasing."""
    a = attempts.c
    query = (select(a.attempt_id, a.centre_id, a.form_id, a.form_version, a.scoring_status, a.total, a.cut_score,
                    a.passed).where(a.attempt_id.not_in(select(result_releases.c.attempt_id)))
             .order_by(a.attempt_id))
    if centre:
        query = query.where(a.centre_id == centre)
    if form:
        query = query.where(a.form_id == form)
    if attempt:
        query = query.where(a.attempt_id == attempt)
    with ctx.open_results_db().connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            decision = latest_decision(conn, row["attempt_id"])
            row["decision"] = decision["outcome"] if decision else None
            row["holds"] = _standing_holds(conn, row)
    return rows


def _refusal(conn: Connection, attempt: dict[str, Any], actor: str) -> str | None:
    """Why this attempt cannot be released by ``actor`` now, or None."""
    if attempt["scoring_status"] != "scored":
        return f"it is {attempt['scoring_status'].replace('_', ' ')}"
    decision = latest_decision(conn, attempt["attempt_id"])
    if decision is None or decision["outcome"] not in ("pass", "fail"):
        return f"no pass or fail decision stands (latest: {decision['outcome'] if decision else 'none'})"
    held = _standing_holds(conn, attempt)
    if held:
        return f"held (hold {', '.join(map(str, held))})"
    r = attempt_roles.c
    roles = sorted(x[0] for x in conn.execute(select(r.role).where(r.attempt_id == attempt["attempt_id"],
                                                                   r.person == actor)))
    if roles:
        return f"the releaser acted as {' and '.join(roles)} on it (ISO/IEC 17024 impartiality)"
    return None


def _selection(attempt_id: str | None, centre: str | None, form: str | None) -> Select[Any]:
    a = attempts.c
    query = select(a.attempt_id, a.centre_id, a.form_id, a.scoring_status)
    for column, value in ((a.attempt_id, attempt_id), (a.centre_id, centre), (a.form_id, form)):
        if value:
            query = query.where(column == value)
    return query.order_by(a.attempt_id)


def release(ctx: CentralContext, by: str, reason: str, *, attempt_id: str | None = None,
            centre: str | None = None, form: str | None = None) -> Released:
    """Release the results of one attempt, or of every unreleased attempt of a centre and/or form,
    then issue the passes' certificates and tell the candidates (:func:`settle`).

    Each attempt is judged on its own (scored, decided, not held, releaser impartial); those that
    cannot be released are listed with why and stay unreleased. The selection's results released
    earlier are followed up too, so a retry finishes what a stopped release left (each step once).
    Nothing to release and nothing left to follow up is refused.
    """
    if not (attempt_id or centre or form):
        raise ValidationError("target", "name an attempt, a centre or a form to release")
    actor, text = person_key(by), _reason(reason)
    selection = _selection(attempt_id, centre, form)
    released: list[str] = []
    refused: dict[str, str] = {}
    with write(ctx.open_results_db()) as conn:
        lock(conn, "results-release")
        done = {r[0] for r in conn.execute(select(result_releases.c.attempt_id).where(
            result_releases.c.attempt_id.in_(selection.with_only_columns(attempts.c.attempt_id))))}
        chosen = [dict(r) for r in conn.execute(selection).mappings() if r["attempt_id"] not in done]
        now = format_time(utc_now())
        for attempt in chosen:
            why = _refusal(conn, attempt, actor)
            if why:
                refused[attempt["attempt_id"]] = why
                continue
            conn.execute(insert(result_releases).values(attempt_id=attempt["attempt_id"], released_by=actor,
                                                        reason=text, released_at=now))
            released.append(attempt["attempt_id"])
    if released:
        ctx.audit_log().append(actor, "results.release", {"attempts": released, "centre": centre or "",
                                                          "form": form or ""})
    settled = settle(ctx, by, released + sorted(done))
    if not chosen and not settled.did_anything:
        raise ReleaseRefused("no unreleased attempt matches (already released, or not in the results)")
    return Released(tuple(released), refused, settled)

