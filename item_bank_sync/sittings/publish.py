"""Publishing a session: the signed roster its centre receives with its packages.

``publish`` takes :func:`item_bank_sync.sittings.roster.roster_for` (booked candidates by seat, each
with the accommodation profile approved for the scheme version and checked against the scheme),
adds each candidate's identity photo, and signs it with the body's signing key as one
:class:`exam_core.roster_wire.SessionRoster` for the session's centre. The signed bytes are kept as
they were signed in ``rosters/<centre_id>/<session_id>.signed`` of the data directory, where the sync
API (``GET ROSTERS_PATH``) and the air-gap bundle to the centre take them from.

Publishing again (a booking moved or cancelled before the cut-off) signs the next ``version``; the
console refuses a version not newer than the one it holds, so the roster a centre admits from is
always the latest it received. A roster is kept until its session's window is over plus a day;
after that it no longer travels (the centre keeps its own copy as evidence).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from exam_core import roster_wire, signing
from exam_core.errors import InvigilError
from exam_core.files import write_atomic
from exam_core.jsonio import loads_strict
from exam_core.model import IDENTIFIER_RE, Accommodations
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import write
from item_bank_sync.registry import accommodations, persons
from item_bank_sync.registry.actors import ADMIN, REGISTRAR, Actor, body, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.sittings import sessions
from item_bank_sync.sittings.roster import Roster, roster_for
from item_bank_sync.sittings.schema import exam_sessions
from item_bank_sync.trust.identity import CentralKeys

PUBLISHED = "published"
ROSTERS_DIR = "rosters"
#: How long after its window a roster still travels to the centre.
KEEP_AFTER_WINDOW = timedelta(days=1)


def publish(ctx: CentralContext, actor: Actor, session_id: str) -> dict[str, Any]:
    """Sign the session's roster (the next version) for its centre; registrar or admin."""
    require(actor, "publish sessions", REGISTRAR, ADMIN)
    session = sessions.get(ctx, session_id)
    if session.start + timedelta(minutes=session.window_minutes) <= utc_now():
        raise Refused(f"session {session_id}: its admission window is over; nothing to publish")
    roster = roster_for(ctx, session_id, actor)
    keys = CentralKeys.load(ctx)
    path = roster_path(ctx, session.centre_id, session_id)
    with _locked(path):
        version = _held_version(path) + 1
        document = roster_wire.make_roster(keys.signing, _signable(ctx, roster, version))
        write_atomic(path, document)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(exam_sessions).where(exam_sessions.c.session_id == session_id).values(status=PUBLISHED))
    summary = {"session_id": session_id, "centre_id": session.centre_id, "version": version,
               "candidates": len(roster.entries), "photos": sum(e.photo_sha256 is not None for e in roster.entries),
               "bytes": len(document)}
    ctx.audit_log().append(actor.name, "session.publish", summary)
    return summary


def roster_path(ctx: CentralContext, centre_id: str, session_id: str) -> Path:
    """Where a session's signed roster is kept (identifiers only: no path tricks)."""
    for value, name in ((centre_id, "centre_id"), (session_id, "session_id")):
        if not IDENTIFIER_RE.match(value) or value.startswith("."):
            raise Refused(f"{name}: not an identifier")
    return ctx.data_dir / ROSTERS_DIR / centre_id / f"{session_id}.signed"


def rosters_for(ctx: CentralContext, centre_id: str) -> list[bytes]:
    """The signed rosters of ``centre_id`` whose sessions are not over (plus a day), oldest first."""
    folder = roster_path(ctx, centre_id, "x").parent
    if not folder.is_dir():
        return []
    kept = []
    for path in sorted(folder.glob("*.signed")):
        data = path.read_bytes()
        ends = _ends_at(data)
        if ends is not None and ends + KEEP_AFTER_WINDOW > utc_now():
            kept.append((ends, data))
    return [data for _, data in sorted(kept, key=lambda pair: pair[0])][-roster_wire.MAX_ROSTERS:]


def _signable(ctx: CentralContext, roster: Roster, version: int) -> roster_wire.SessionRoster:
    """The wire roster of ``roster``: photos unsealed by the body's own process (each read logged)."""
    session = roster.session
    candidates = tuple(
        roster_wire.RosterCandidate(entry.candidate_id, entry.name, str(entry.seat),
                                    persons.photo(ctx, body(), entry.person_id) if entry.photo_sha256 else None,
                                    Accommodations.from_dict(entry.accommodations, "accommodations"))
        for entry in roster.entries)
    return roster_wire.SessionRoster(
        centre_id=session.centre_id, session_id=session.session_id, version=version,
        issued_at=format_time(utc_now()), scheme_id=session.scheme_id, scheme_version=session.scheme_version,
        starts_at=session.starts_at, window_minutes=session.window_minutes, forms=session.forms,
        accommodation_policy=accommodations.policy_of(ctx, session.scheme_id, session.scheme_version),
        candidates=candidates)


def _payload(data: bytes) -> dict[str, Any] | None:
    """The payload of a roster this body signed and kept (its own file; unreadable: None)."""
    try:
        payload = loads_strict(signing.read_unverified(data, roster_wire.ROSTER_MAX_BYTES).payload_bytes,
                               max_bytes=roster_wire.ROSTER_MAX_BYTES)
    except InvigilError:
        return None
    return payload if isinstance(payload, dict) else None


def _held_version(path: Path) -> int:
    if not path.is_file():
        return 0
    payload = _payload(path.read_bytes())
    if payload is None or not isinstance(payload.get("version"), int):
        raise NotFound(f"{path}: the roster kept there does not read; move it away to publish again")
    return int(payload["version"])


def _ends_at(data: bytes) -> Any:
    payload = _payload(data)
    try:
        return parse_time(payload["starts_at"]) + timedelta(minutes=int(payload["window_minutes"]))  # type: ignore[index]
    except (InvigilError, TypeError, KeyError, ValueError):
        return None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One publisher of a session at a time (two would sign the same version)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
