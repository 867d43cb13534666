"""Roster photos are kept only for the sitting (README "Life cycle": they stayed with the signed
roster, no retention rule): the console's CLI as processes on a certified console, rosters signed
by the central key.

- ``purge`` deletes the photos of sessions whose admission window closed more than the photo
  retention period ago (default 7 days, ``--photo-days``), and empties the signed document that
  carried them too; a session still near keeps its photos.
- The same roster bytes imported again after the purge change nothing (no photo comes back), an
  older version is still refused, and admission checks still know the session's window.
- A newer roster of a session that drops a candidate drops that candidate's photo at once.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from exam_core import roster_wire
from exam_core.model import AccommodationPolicy
from exam_core.timestamps import format_time, utc_now
from proctor_console import services
from proctor_console.context import ConsoleContext
from tests.support.console_world import ConsoleSetup, cli


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _roster(setup: ConsoleSetup, session_id: str, starts: datetime, candidate_ids: tuple[str, ...],
            version: int = 1) -> Path:
    roster = roster_wire.SessionRoster(
        centre_id="centre-1", session_id=session_id, version=version, issued_at=format_time(utc_now()),
        scheme_id="scheme-a", scheme_version=1, starts_at=format_time(starts), window_minutes=120,
        forms=("form-1",), accommodation_policy=AccommodationPolicy(("extra_time_percent",), 50),
        candidates=tuple(roster_wire.RosterCandidate(c, f"Candidate {c}", "", _jpeg()) for c in candidate_ids))
    path = setup.data.parent / f"{session_id}-v{version}.signed"
    path.write_bytes(roster_wire.make_roster(setup.central.key, roster))
    return path


def _photos(data: Path) -> dict[str, str]:
    with sqlite3.connect(data / "console.db") as db:
        return dict(db.execute("SELECT candidate_id, session_id FROM roster_photos").fetchall())


def _document_sizes(data: Path) -> dict[str, int]:
    with sqlite3.connect(data / "console.db") as db:
        return dict(db.execute("SELECT session_id, length(document) FROM signed_rosters").fetchall())


def test_photos_go_days_after_the_session_and_the_document_with_them(bare_console: ConsoleSetup) -> None:
    data, now = bare_console.data, utc_now().replace(microsecond=0)
    old = _roster(bare_console, "S-old", now - timedelta(days=9), ("p-old-1", "p-old-2"))      # closed 9 days - 2 h ago
    recent = _roster(bare_console, "S-recent", now - timedelta(days=3), ("p-recent",))
    for path in (old, recent):
        cli(data, "roster", "import-signed", str(path))
    assert set(_photos(data)) == {"p-old-1", "p-old-2", "p-recent"}

    done = json.loads(cli(data, "purge", "--json", "--by", "admin"))
    assert done["photos"] == 2 and done["photo_retention_days"] == 7
    assert _photos(data) == {"p-recent": "S-recent"}
    sizes = _document_sizes(data)
    assert sizes["S-old"] == 0 and sizes["S-recent"] > 0                           # the signed copy too
    assert services.signed_rosters(ConsoleContext(data)).photo("p-old-1") is None
    window = services.signed_rosters(ConsoleContext(data)).admission_window("S-old")
    assert window is not None and window[1] == now - timedelta(days=9) + timedelta(minutes=120)

    assert "present" in cli(data, "roster", "import-signed", str(old))             # the same bytes: nothing back
    assert "p-old-1" not in _photos(data)
    older = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), "roster", "import-signed",
                            str(_roster(bare_console, "S-old", now - timedelta(days=9), ("p-old-1",), version=1))],
                           capture_output=True, text=True, timeout=60)
    assert older.returncode != 0 and "is not newer than version 1" in older.stderr + older.stdout

    done = json.loads(cli(data, "purge", "--photo-days", "2", "--json", "--by", "admin"))
    assert done["photos"] == 1 and _photos(data) == {}


def test_a_newer_roster_that_drops_a_candidate_drops_the_photo_at_once(bare_console: ConsoleSetup) -> None:
    data, starts = bare_console.data, utc_now() + timedelta(days=2)
    cli(data, "roster", "import-signed", str(_roster(bare_console, "S-next", starts, ("p-stays", "p-leaves"))))
    assert set(_photos(data)) == {"p-stays", "p-leaves"}
    cli(data, "roster", "import-signed", str(_roster(bare_console, "S-next", starts, ("p-stays",), version=2)))
    assert _photos(data) == {"p-stays": "S-next"}
    with sqlite3.connect(data / "console.db") as db:
        document = db.execute("SELECT document FROM signed_rosters WHERE session_id = 'S-next'").fetchone()[0]
    assert b"p-leaves" not in bytes(document)                                      # nor in the signed copy held


def test_a_roster_imported_before_the_window_column_is_read_from_its_signed_document(
        bare_console: ConsoleSetup) -> None:
    """A roster stored before migration 7 has no ``window_minutes``: its window comes from the
    verified document, and the purge that empties the document keeps the window in the column."""
    data, now = bare_console.data, utc_now().replace(microsecond=0)
    cli(data, "roster", "import-signed", str(_roster(bare_console, "S-legacy", now - timedelta(days=9), ("p-leg",))))
    with sqlite3.connect(data / "console.db") as db:
        db.execute("UPDATE signed_rosters SET window_minutes = NULL WHERE session_id = 'S-legacy'")
    closes = now - timedelta(days=9) + timedelta(minutes=120)
    assert _closes(data, "S-legacy") == closes
    assert json.loads(cli(data, "purge", "--json", "--by", "admin"))["photos"] == 1
    with sqlite3.connect(data / "console.db") as db:
        stored = db.execute("SELECT window_minutes, length(document) FROM signed_rosters").fetchone()
    assert stored == (120, 0)
    assert _closes(data, "S-legacy") == closes


def _closes(data: Path, session_id: str) -> datetime | None:
    window = services.signed_rosters(ConsoleContext(data)).admission_window(session_id)
    return window[1] if window else None
