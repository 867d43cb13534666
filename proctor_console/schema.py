"""The console database (``console.db``): one schema, applied by versioned migrations.

Everything lives in one SQLite file opened with ``synchronous=FULL``: the event log and the
envelope store must survive a power cut once acknowledged, and the other tables (commands, audit
chain, attempts) are written rarely enough that FULL costs nothing noticeable.
"""

from __future__ import annotations

from exam_core.store import Migration

SCHEMA_V1 = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('proctor', 'centre_admin')),
  password_hash BLOB NOT NULL, salt BLOB NOT NULL, params TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0,
  created TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE pairing_codes (
  id INTEGER PRIMARY KEY, mac_key BLOB NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0, used INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL);
CREATE TABLE kiosks (
  kiosk_id TEXT PRIMARY KEY, signing_key TEXT NOT NULL, hpke_key TEXT NOT NULL,
  certificate BLOB NOT NULL, cert_serial TEXT NOT NULL, seat TEXT NOT NULL DEFAULT '',
  paired_at TEXT NOT NULL, revoked_at TEXT, last_seen TEXT, software_version TEXT NOT NULL DEFAULT '',
  attestation BLOB);
CREATE TABLE candidates (
  candidate_id TEXT PRIMARY KEY, name TEXT NOT NULL, scheme_id TEXT NOT NULL, seat TEXT NOT NULL,
  accommodations TEXT NOT NULL, imported_at TEXT NOT NULL);
CREATE TABLE packages (
  package_id TEXT PRIMARY KEY, manifest TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
  size INTEGER NOT NULL, imported_at TEXT NOT NULL, imported_by TEXT NOT NULL,
  release_code TEXT);
CREATE TABLE attempts (
  attempt_id TEXT PRIMARY KEY, candidate_id TEXT NOT NULL, kiosk_id TEXT NOT NULL,
  package_id TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
  admitted_by TEXT NOT NULL, admitted_at TEXT NOT NULL, started_at TEXT, ended_at TEXT,
  end_reason TEXT, extra_seconds INTEGER NOT NULL DEFAULT 0);
CREATE INDEX attempts_kiosk ON attempts (kiosk_id);
CREATE INDEX attempts_package ON attempts (package_id);
CREATE TABLE events (
  kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, attempt_id TEXT, type TEXT NOT NULL,
  severity TEXT NOT NULL, wall_time TEXT NOT NULL, received TEXT NOT NULL, body TEXT NOT NULL,
  snapshot TEXT, PRIMARY KEY (kiosk_id, seq));
CREATE INDEX events_attempt ON events (attempt_id);
CREATE TABLE alerts (
  alert_id INTEGER PRIMARY KEY, kiosk_id TEXT NOT NULL, attempt_id TEXT, rule TEXT NOT NULL,
  type TEXT NOT NULL, severity TEXT NOT NULL, rank INTEGER NOT NULL, thresholds TEXT NOT NULL,
  evidence TEXT NOT NULL, snapshot TEXT, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
  count INTEGER NOT NULL, opened TEXT NOT NULL, updated TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', resolved_by TEXT, resolved_reason TEXT, resolved_at TEXT);
CREATE INDEX alerts_open ON alerts (status, kiosk_id, rule);
CREATE TABLE commands (
  command_id TEXT PRIMARY KEY, request_id TEXT UNIQUE, kiosk_id TEXT NOT NULL, attempt_id TEXT,
  type TEXT NOT NULL, body TEXT NOT NULL, issued_by TEXT NOT NULL, issued_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', acked_at TEXT, ack TEXT);
CREATE INDEX commands_pending ON commands (kiosk_id, status);
CREATE TABLE envelopes (
  sha256 TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, attempt_id TEXT NOT NULL, body BLOB NOT NULL,
  header TEXT NOT NULL, received TEXT NOT NULL, receipt BLOB, receipt_at TEXT);
CREATE TABLE incidents (
  incident_id INTEGER PRIMARY KEY, package_id TEXT, attempt_id TEXT, kiosk_id TEXT,
  category TEXT NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE conflicts (
  proctor TEXT NOT NULL, candidate_id TEXT NOT NULL, reason TEXT NOT NULL, declared_at TEXT NOT NULL,
  override_by TEXT, override_reason TEXT, override_at TEXT, PRIMARY KEY (proctor, candidate_id));
"""

# Server-side logins (proctor_console.logins): a cookie counts only while its row is open.
LOGINS_V2 = """
CREATE TABLE logins (
  login_id TEXT PRIMARY KEY, user TEXT NOT NULL, address TEXT NOT NULL, started REAL NOT NULL,
  started_at TEXT NOT NULL, ended TEXT, end_reason TEXT);
CREATE INDEX logins_user ON logins (user, ended);
"""

# Journal heads from kiosk heartbeats (proctor_console.eventlog.record_journal_head): every distinct
# head per attempt, sent to the central body with the attempt's envelope.
JOURNAL_HEADS_V3 = """
CREATE TABLE journal_heads (
  attempt_id TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, kiosk_id TEXT NOT NULL,
  first_seen TEXT NOT NULL, PRIMARY KEY (attempt_id, seq, hash));
"""

# Kiosk revocations signed by the centre key (proctor_console.registry.revoke), sent to the central
# body with the next sync upload; ``sent_at`` is set once an upload carrying it was answered.
KIOSK_REVOCATIONS_V4 = """
CREATE TABLE kiosk_revocations (
  kiosk_id TEXT NOT NULL, key_id TEXT NOT NULL, revoked_at TEXT NOT NULL, document BLOB NOT NULL,
  sent_at TEXT, PRIMARY KEY (kiosk_id, key_id));
"""

# Re-admissions a centre admin allowed (proctor_console.readmissions): a candidate who has sat may be
# admitted again only on such a grant, used by exactly one attempt (``attempt_id`` once used).
READMISSIONS_V5 = """
CREATE TABLE readmissions (
  grant_id INTEGER PRIMARY KEY, candidate_id TEXT NOT NULL, granted_by TEXT NOT NULL, reason TEXT NOT NULL,
  granted_at TEXT NOT NULL, attempt_id TEXT UNIQUE, used_by TEXT, used_at TEXT);
CREATE INDEX readmissions_candidate ON readmissions (candidate_id, attempt_id);
"""

# Session rosters signed by the central body (proctor_console.signed_roster): each kept as signed, the
# newest version per session; candidates say where they came from (``csv``, ``signed``, ``override``: a
# centre admin admitted someone not on the roster, with a reason) and photos are the roster's own.
SIGNED_ROSTERS_V6 = """
CREATE TABLE signed_rosters (
  session_id TEXT PRIMARY KEY, version INTEGER NOT NULL, scheme_id TEXT NOT NULL, starts_at TEXT NOT NULL,
  forms TEXT NOT NULL, document BLOB NOT NULL, sha256 TEXT NOT NULL, source TEXT NOT NULL,
  imported_at TEXT NOT NULL, imported_by TEXT NOT NULL);
CREATE TABLE roster_photos (
  candidate_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, sha256 TEXT NOT NULL, photo BLOB NOT NULL);
ALTER TABLE candidates ADD COLUMN origin TEXT NOT NULL DEFAULT 'csv';
ALTER TABLE candidates ADD COLUMN session_id TEXT;
ALTER TABLE candidates ADD COLUMN override_by TEXT;
ALTER TABLE candidates ADD COLUMN override_reason TEXT;
"""

# The session's admission window (proctor_console.signed_roster): the signed roster's ``window_minutes``
# kept beside its start (NULL for a roster imported before: read from the signed document), and the
# admissions outside the window a centre admin allowed with a reason, each used by one attempt.
ADMISSION_WINDOW_V7 = """
ALTER TABLE signed_rosters ADD COLUMN window_minutes INTEGER;
CREATE TABLE window_overrides (
  grant_id INTEGER PRIMARY KEY, candidate_id TEXT NOT NULL, session_id TEXT NOT NULL, granted_by TEXT NOT NULL,
  reason TEXT NOT NULL, granted_at TEXT NOT NULL, attempt_id TEXT UNIQUE, used_at TEXT);
CREATE INDEX window_overrides_candidate ON window_overrides (candidate_id, attempt_id);
"""

MIGRATIONS = [Migration(1, "console schema", SCHEMA_V1), Migration(2, "server-side logins", LOGINS_V2),
              Migration(3, "journal heads", JOURNAL_HEADS_V3), Migration(4, "kiosk revocations", KIOSK_REVOCATIONS_V4),
              Migration(5, "re-admissions allowed by a centre admin", READMISSIONS_V5),
              Migration(6, "signed session rosters", SIGNED_ROSTERS_V6),
              Migration(7, "admission window of signed sessions", ADMISSION_WINDOW_V7)]
