"""Release attestation at the console: the allow-list of released kiosk builds, and the gate.

Every kiosk connection answers a fresh login challenge; the kiosk signs its release measurement
over that same challenge and sends it in ``hello`` (``exam_core.attestation``). The console checks
the signature with the kiosk's certified key, that the nonce is *this* connection's challenge (an
attestation recorded on an earlier connection is stale), and that the measurement is on the
centre's allow-list, ``release-allowlist.json`` in the console data directory, managed with
``proctor_console release-allowlist add|remove|list`` (``proctor_console.cli.allowlist``).

Policy (documented in docs/HARDENING.md):

* **No allow-list file: record and warn** (development, and centres that have not yet installed
  one). Every attestation is still verified and the result recorded in the audit chain and the
  console log, but nothing is refused: a console must work before an administrator has measured a
  release build.
* **Allow-list file present (even empty): refuse.** A kiosk whose attestation is missing, invalid,
  stale or not on the list gets an ``attestation`` alert on the dashboard (with the measurement
  and the reason), and the console refuses ``start`` and ``approve_resume`` for it, i.e. it never
  releases a content key to it, not even a ``start`` queued while it was acceptable. Admission is
  still allowed so that the proctor can see the candidate and move them to another seat.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core.attestation import Attestation, StaleAttestationError, open_attestation
from exam_core.audit import AuditLog
from exam_core.errors import InvigilError
from exam_core.files import write_atomic
from exam_core.jsonio import b64d, loads_strict
from exam_core.timestamps import utc_text_us
from proctor_console.alerts import Alerts
from proctor_console.dashboard import Room, Tile
from proctor_console.errors import Conflict, ConsoleError, Forbidden, InvalidRequest, NotFound

log = logging.getLogger("proctor_console.attestation")
ALLOWLIST_FILE = "release-allowlist.json"
ALLOWLIST_FORMAT = "invigil-release-allowlist"
MAX_ALLOWLIST_BYTES = 1024 * 1024
MAX_ENTRIES = 1000
ALERT_RULE = "attestation"
ALERT_SEVERITY = "high"
MEASUREMENT_RE = re.compile(r"^[0-9a-f]{64}$")


class ReleaseAllowlist:
    """``release-allowlist.json``: ``{"format", "v": 1, "measurements": {digest: {release, added_by,
    added_at}}}``, re-read when the file changes (the CLI edits it while the server runs)."""

    def __init__(self, data_dir: Path, audit: AuditLog) -> None:
        self.path = Path(data_dir) / ALLOWLIST_FILE
        self.audit = audit
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, dict[str, str]] = {}

    def exists(self) -> bool:
        return self.path.exists()

    def entries(self) -> dict[str, dict[str, str]]:
        """The allowed measurements; empty when there is no file. A damaged file raises
        ``Conflict`` naming it (fail closed: the gate then refuses every kiosk)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._entries = None, {}
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._entries, self._stamp = self._read(), stamp
        return dict(self._entries)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = loads_strict(self.path.read_bytes(), max_bytes=MAX_ALLOWLIST_BYTES)
        except (OSError, InvigilError) as exc:
            raise Conflict(f"{self.path}: unreadable allow-list: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != ALLOWLIST_FORMAT or data.get("v") != 1 \
                or not isinstance(data.get("measurements"), dict) or len(data["measurements"]) > MAX_ENTRIES:
            raise Conflict(f"{self.path}: measurements: not a {ALLOWLIST_FORMAT} v1 file")
        for digest, entry in data["measurements"].items():
            if not MEASUREMENT_RE.match(digest) or not isinstance(entry, dict) \
                    or not all(isinstance(entry.get(k), str) for k in ("release", "added_by", "added_at")):
                raise Conflict(f"{self.path}: measurements.{digest[:64]}: needs release, added_by, added_at")
        return data["measurements"]

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        body = {"format": ALLOWLIST_FORMAT, "v": 1, "measurements": entries}
        write_atomic(self.path, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode(), 0o644)

    def add(self, measurement: str, release: str, by: str) -> dict[str, str]:
        """Accept ``measurement`` as ``release``; the audit chain names who approved it."""
        measurement = measurement.strip().lower()
        if not MEASUREMENT_RE.match(measurement):
            raise InvalidRequest(f"measurement {measurement[:80]!r}: must be 64 lower-case hex digits "
                                 "(`python -m hardening measure` on the release build)")
        entries = self.entries()
        if len(entries) >= MAX_ENTRIES and measurement not in entries:
            raise Conflict(f"{self.path}: already {MAX_ENTRIES} measurements; remove old releases first")
        entries[measurement] = {"release": release, "added_by": by, "added_at": utc_text_us()}
        self._write(entries)
        self.audit.append(by, "attestation.allowlist_add", {"measurement": measurement, "release": release})
        return entries[measurement]

    def remove(self, measurement: str, by: str) -> None:
        measurement = measurement.strip().lower()
        entries = self.entries()
        if entries.pop(measurement, None) is None:
            raise NotFound(f"measurement {measurement[:80]!r} is not on the allow-list")
        self._write(entries)
        self.audit.append(by, "attestation.allowlist_remove", {"measurement": measurement})


#: What a seat tile shows (``Verdict.status``): on the allow-list; validly attested but not on it (or
#: no list yet); missing, invalid, stale or undecidable (damaged list); no hello on this connection.
BADGES = ("passed", "unknown_build", "failed", "not_checked")


@dataclass(frozen=True)
class Verdict:
    """The result of one kiosk connection's attestation; ``reason`` is None when it is acceptable."""

    sid: str
    measurement: str | None
    reason: str | None
    release: str | None = None
    status: str = "failed"


class AttestationGate:
    """Checks each connection's attestation and decides whether content keys may go to a kiosk."""

    def __init__(self, allowlist: ReleaseAllowlist, kiosk_key: Callable[[str], Ed25519PublicKey], room: Room,
                 alerts: Alerts, audit: AuditLog, alert_raised: Callable[[int], None]) -> None:
        self.allowlist = allowlist
        #: The kiosk's certified signing key (``KioskRegistry.active``): attestations are signed with it.
        self.kiosk_key = kiosk_key
        #: Which connection is the kiosk's current one (an attestation from another is stale).
        self.room = room
        self.alerts = alerts
        self.audit = audit
        #: Told the id of every alert the gate raises (the dashboard pushes it to the proctors).
        self.alert_raised = alert_raised
        self._nonces: dict[str, bytes] = {}          # sid -> login challenge of that connection
        self._attested: dict[str, tuple[str, Attestation | None, str | None]] = {}  # kiosk -> (sid, found, error)

    @property
    def enforcing(self) -> bool:
        return self.allowlist.exists()

    # --- connection lifecycle ---------------------------------------------------------------------
    def bind(self, sid: str, challenge_b64: str) -> None:
        """Remember the challenge a connection logged in with: its attestation must answer it."""
        self._nonces[sid] = b64d(challenge_b64, "challenge", 32)

    def forget(self, sid: str) -> None:
        self._nonces.pop(sid, None)

    def check_hello(self, kiosk_id: str, sid: str, attestation_b64: str | None, attempt_id: str | None) -> Verdict:
        """Verify the attestation a hello carries, record the result, and alert when it is refused."""
        found: Attestation | None = None
        error: str | None = None
        if not attestation_b64:
            error = "missing: the kiosk sent no attestation"
        else:
            try:
                found = open_attestation(b64d(attestation_b64, "attestation"),
                                         self.kiosk_key(kiosk_id),
                                         self._nonces.get(sid, b""))
                if found.kiosk_id != kiosk_id:
                    error = f"invalid: made by {found.kiosk_id[:64]}, not this kiosk"
                    found = None
            except StaleAttestationError as exc:
                error = f"stale: {exc}"
            except InvigilError as exc:
                error = f"invalid: {exc}"
        previous = self._attested.get(kiosk_id)
        self._attested[kiosk_id] = (sid, found, error)
        verdict = self.verdict(kiosk_id)
        if previous is None or previous[0] != sid:  # once per connection, not once per hello
            self._record(kiosk_id, verdict, attempt_id)
        return verdict

    # --- decisions --------------------------------------------------------------------------------
    def verdict(self, kiosk_id: str) -> Verdict:
        """The current connection's verdict against the allow-list as it is now."""
        sid = self.room.kiosk_sids.get(kiosk_id)
        attested = self._attested.get(kiosk_id)
        if sid is None:
            return Verdict("", None, "the kiosk is not connected, so its attestation cannot be checked",
                           status="not_checked")
        if attested is None or attested[0] != sid:
            return Verdict(sid, None, "missing: no attestation on this connection yet (no hello)", status="not_checked")
        _, found, error = attested
        if found is None:
            return Verdict(sid, None, error)
        try:
            entries = self.allowlist.entries()
        except ConsoleError as exc:
            return Verdict(sid, found.measurement, str(exc))
        if found.measurement not in entries:
            return Verdict(sid, found.measurement,
                           f"not allowed: {found.kind} build measurement {found.measurement} (policy "
                           f"{found.policy_sha256[:12]}) is not on the release allow-list", status="unknown_build")
        return Verdict(sid, found.measurement, None, entries[found.measurement]["release"], status="passed")

    def show(self, tile: Tile) -> bool:
        """Put the current verdict on the kiosk's seat tile; True when what the tile shows changed
        (a hello, a new connection, or an allow-list edit by the CLI while the kiosk stays connected)."""
        verdict = self.verdict(tile.kiosk_id)
        detail = verdict.reason or f"release {verdict.release}"
        if not self.enforcing:
            detail += f" (recorded only: no {ALLOWLIST_FILE})"
        shown = (verdict.status, detail)
        changed = shown != (tile.attestation, tile.attestation_detail)
        tile.attestation, tile.attestation_detail = shown
        return changed

    def require(self, kiosk_id: str) -> None:
        """Refuse a key release to a kiosk whose attestation does not pass (only when enforcing)."""
        if not self.enforcing:
            return
        verdict = self.verdict(kiosk_id)
        if verdict.reason is not None:
            raise Forbidden(f"kiosk {kiosk_id} failed release attestation ({verdict.reason}); "
                            "the content key is not released to it: move the candidate to another seat")

    def may_receive_key(self, kiosk_id: str) -> bool:
        try:
            self.require(kiosk_id)
        except ConsoleError:
            return False
        return True

    # --- recording --------------------------------------------------------------------------------
    def _record(self, kiosk_id: str, verdict: Verdict, attempt_id: str | None) -> None:
        self.audit.append(f"kiosk:{kiosk_id}", "kiosk.attestation",
                              {"measurement": verdict.measurement, "release": verdict.release,
                               "accepted": verdict.reason is None, "reason": verdict.reason,
                               "enforcing": self.enforcing})
        if verdict.reason is None:
            return
        if not self.enforcing:
            log.warning("kiosk %s: attestation %s (recorded only: no %s)", kiosk_id, verdict.reason, ALLOWLIST_FILE)
            return
        self.alert_raised(self._raise_alert(kiosk_id, verdict, attempt_id))

    def _raise_alert(self, kiosk_id: str, verdict: Verdict, attempt_id: str | None) -> int:
        """One open attestation alert per kiosk (whatever attempt it is on), via the alert queue's
        own de-duplication."""
        return self.alerts.raise_alert(kiosk_id=kiosk_id, attempt_id=attempt_id, rule=ALERT_RULE,
                                       kind="attestation.refused", severity=ALERT_SEVERITY, thresholds={},
                                       evidence={"measurement": verdict.measurement, "reason": verdict.reason},
                                       per_attempt=False)
