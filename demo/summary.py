"""The demo's summary, counted from each node's own database after the run.

Nothing here is asserted or remembered by the orchestrator: every number is a query on a file the
kiosks, the console and the central body wrote. The databases are opened read-only (SQLite URI
``mode=ro``), so counting cannot change what it counts.

- ``events_sent``: events each kiosk numbered (its ``counters`` row), ``events_received``: those
  the console stored, by ``(kiosk_id, seq)``; ``events_lost``: sent, not at the console and no
  longer in the kiosk's outbox (an event still in the outbox is kept durably and counted in
  ``outbox_pending``: it is owed, not lost).
- ``envelopes_lost``: envelopes a kiosk sealed that the central body has not accepted.
- ``attempts_scored``: attempts with ``scoring_status = 'scored'`` in the central results store
  (``results.db``, or the PostgreSQL database of ``--postgres``, read in one read-only snapshot).
- ``resumed_attempts``: attempts for which a ``resume_approved`` command was acked by the kiosk.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any


def _ro(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def kiosk_counts(kiosk_dir: Path) -> dict[str, Any]:
    """What one kiosk numbered, and what is still waiting in its outbox."""
    with closing(_ro(kiosk_dir / "kiosk.db")) as db:
        counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
        pending = dict(db.execute("SELECT kind, count(*) FROM outbox GROUP BY kind").fetchall())
    kiosk_id = __import__("json").loads((kiosk_dir / "device" / "kiosk.json").read_text())["kiosk_id"]
    return {"kiosk_id": kiosk_id, "events": int(counters.get("event", 0)),
            "envelopes": int(counters.get("envelope", 0)), "pending_events": int(pending.get("event", 0)),
            "pending_envelopes": int(pending.get("envelope", 0))}


def central_counts(central_dir: Path) -> tuple[set[str], int]:
    """Accepted envelopes and scored attempts at the central body, through its data layer (SQLite
    files or the PostgreSQL database in ``INVIGIL_CENTRAL_DB``), in one read-only snapshot."""
    from sqlalchemy import func, select

    from item_bank_sync.db import configured_url, open_central
    from item_bank_sync.db.sql import read
    from item_bank_sync.results.schema import attempts, envelopes

    stores = open_central(central_dir, configured_url(), migrate=False)
    try:
        with read(stores.results) as conn:
            accepted = {r[0] for r in conn.execute(select(envelopes.c.sha256).where(envelopes.c.status == "accepted"))}
            scored = conn.execute(select(func.count()).select_from(attempts)
                                  .where(attempts.c.scoring_status == "scored")).scalar_one()
    finally:
        stores.dispose()
    return accepted, int(scored)


def lifecycle_counts(central_dir: Path, console_dir: Path) -> dict[str, Any]:
    """The certification life cycle as the central body's and the console's databases record it
    (issue 16 item 7, issue 17 item 7): candidate accounts on the portal, applications and their
    outcome, approved adjustments, booked seats, released results, certificates issued, appeals; and
    whether the console holds a roster signed by the body (its ``signed_rosters`` table, filled only
    after the signature verified) and admitted candidates from it."""
    from sqlalchemy import func, select

    from item_bank_sync.cases.schema import cases
    from item_bank_sync.certificates.schema import certificates
    from item_bank_sync.db import configured_url, open_central
    from item_bank_sync.db.metadata import store_of
    from item_bank_sync.db.sql import read
    from item_bank_sync.portal.schema import candidate_accounts
    from item_bank_sync.registry.schema import accommodation_requests, applications
    from item_bank_sync.release.schema import result_releases
    from item_bank_sync.sittings.schema import bookings

    queries = {
        "portal_accounts": (candidate_accounts, None),
        "applications": (applications, None),
        "applications_refused": (applications, applications.c.status == "refused"),
        "accommodations_approved": (accommodation_requests, accommodation_requests.c.status == "approved"),
        "bookings": (bookings, bookings.c.status == "booked"),
        "results_released": (result_releases, None),
        "certificates_issued": (certificates, None),
        "appeals": (cases, cases.c.kind == "appeal"),
    }
    counts: dict[str, Any] = {}
    stores = open_central(central_dir, configured_url(), migrate=False)
    try:
        for name, (table, where) in queries.items():
            query = select(func.count()).select_from(table)
            with read(getattr(stores, store_of(table))) as conn:
                counts[name] = int(conn.execute(query if where is None else query.where(where)).scalar_one())
    finally:
        stores.dispose()
    with closing(_ro(console_dir / "console.db")) as con:
        counts["roster_signed"] = con.execute("SELECT count(*) FROM signed_rosters").fetchone()[0] > 0
        counts["admitted_from_roster"] = con.execute(
            "SELECT count(*) FROM attempts a JOIN candidates c USING (candidate_id) WHERE c.origin = 'signed'"
        ).fetchone()[0]
    return counts


def summarise(kiosk_dirs: list[Path], console_dir: Path, central_dir: Path, report: str | None) -> dict[str, Any]:
    kiosks = [kiosk_counts(d) for d in kiosk_dirs]
    with closing(_ro(console_dir / "console.db")) as con:
        received = {k["kiosk_id"]: con.execute("SELECT count(*) FROM events WHERE kiosk_id = ? AND seq <= ?",
                                               [k["kiosk_id"], k["events"]]).fetchone()[0] for k in kiosks}
        console_envelopes = con.execute("SELECT sha256, kiosk_id FROM envelopes").fetchall()
        ids = [k["kiosk_id"] for k in kiosks]
        marks = ",".join("?" for _ in ids)
        submitted = con.execute(f"SELECT count(*) FROM attempts WHERE state = 'submitted' AND kiosk_id IN ({marks})",  # noqa: S608 - one ? per kiosk id, values bound
                                ids).fetchone()[0]
        resumed = con.execute(f"SELECT count(DISTINCT attempt_id) FROM commands WHERE type = 'resume_approved' "  # noqa: S608 - one ? per kiosk id, values bound
                              f"AND status = 'acked' AND kiosk_id IN ({marks})", ids).fetchone()[0]
        alerts = con.execute(f"SELECT count(*) FROM alerts WHERE kiosk_id IN ({marks})", ids).fetchone()[0]  # noqa: S608 - one ? per kiosk id, values bound
    accepted, scored = central_counts(central_dir)
    at_central: dict[str, int] = {}
    for sha, kiosk_id in console_envelopes:
        if sha in accepted:
            at_central[kiosk_id] = at_central.get(kiosk_id, 0) + 1
    events_sent = sum(k["events"] for k in kiosks)
    events_received = sum(received.values())
    return {
        "attempts_submitted": submitted,
        "attempts_scored": scored,
        "events_sent": events_sent,
        "events_received": events_received,
        "events_lost": events_sent - events_received - sum(k["pending_events"] for k in kiosks),
        "envelopes_lost": sum(max(0, k["envelopes"] - at_central.get(k["kiosk_id"], 0)) for k in kiosks),
        "resumed_attempts": resumed,
        "alerts": alerts,
        "report": report,
        "envelopes_sealed": sum(k["envelopes"] for k in kiosks),
        "outbox_pending": sum(k["pending_events"] + k["pending_envelopes"] for k in kiosks),
    }
