"""Chain of custody between console and central body, over the real sync API on loopback (HTTPS).

The console's own code records what its kiosks reported (journal heads from heartbeats), the
console's sync sends it with the envelopes, and the central intake judges each envelope by it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from exam_core import attestation, keys, sync_wire
from exam_core.envelope import read_unverified_header
from exam_core.jsonio import b64e
from exam_core.timestamps import parse_time
from proctor_console.journal_heads import record_journal_head
from proctor_console.sync.run import run_sync
from tests.support.central_db import results_of
from tests.support.central_sync import GOOD, client_for, put_envelope
from tests.support.central_world import CENTRE_ID, KIOSK_ID, REPO, journal_row_hash

pytestmark = pytest.mark.slow


def _admit(console, attempt_id: str) -> None:
    """The console's attempts row, as an admission writes it (heads are kept only for admitted attempts)."""
    console.db["attempts"].insert({"attempt_id": attempt_id, "candidate_id": f"cand-{attempt_id}",
                                   "kiosk_id": KIOSK_ID, "package_id": "pkg-1", "state": "submitted", "body": "{}",
                                   "admitted_by": "pat", "admitted_at": "2026-11-26T09:00:00Z"})


def test_heads_the_console_saw_decide_intake_over_the_sync_api(world, console, hub):
    """World envelopes seal journal rows 1..6. att-good: the console saw rows 2 and 6 as sealed.
    att-cut: the console saw row 8 (the kiosk sealed a journal cut back to row 6). att-fork: the
    console saw row 4 with a hash the sealed journal does not have (rolled back and rewritten)."""
    for attempt_id in ("att-good", "att-cut", "att-fork"):
        _admit(console, attempt_id)
    for seq in (2, 6):
        assert record_journal_head(console.db, KIOSK_ID, "att-good", seq, journal_row_hash("att-good", seq, 6)).stored
    record_journal_head(console.db, KIOSK_ID, "att-cut", 5, journal_row_hash("att-cut", 5, 6))
    record_journal_head(console.db, KIOSK_ID, "att-cut", 8, "ef" * 32)
    record_journal_head(console.db, KIOSK_ID, "att-fork", 4, "cd" * 32)
    for attempt_id in ("att-good", "att-cut", "att-fork"):
        put_envelope(console, world.seal(attempt_id, GOOD), attempt_id)

    report = run_sync(console, client_for(console, hub))

    assert report.envelopes_receipted == 3 and report.envelopes_kept == []     # receipted, none dropped
    flagged = {q["attempt_id"]: q["reason"] for q in report.envelopes_quarantined_centrally}
    assert set(flagged) == {"att-cut", "att-fork"}
    assert "cut off" in flagged["att-cut"] and "row 8" in flagged["att-cut"]
    assert "forked: row 4" in flagged["att-fork"]
    results = results_of(world.data_dir)
    assert results.execute("SELECT attempt_id FROM attempts").fetchall() == [("att-good",)]
    quarantined = dict(results.execute("SELECT attempt_id, reason FROM quarantine").fetchall())
    assert quarantined == flagged


def test_console_keeps_heads_only_for_its_own_attempts_and_alerts_once_per_attempt(console):
    _admit(console, "att-1")
    foreign = record_journal_head(console.db, "kiosk-other", "att-1", 3, "ab" * 32)
    assert not foreign.stored and "not admitted on kiosk kiosk-other" in foreign.problem
    assert record_journal_head(console.db, KIOSK_ID, "att-1", 3, "ab" * 32).stored
    assert not record_journal_head(console.db, KIOSK_ID, "att-1", 3, "ab" * 32).stored     # unchanged: no write
    assert record_journal_head(console.db, KIOSK_ID, "att-1", 5, "cd" * 32).problem is None
    back = record_journal_head(console.db, KIOSK_ID, "att-1", 4, "ee" * 32)
    fork = record_journal_head(console.db, KIOSK_ID, "att-1", 5, "ff" * 32)
    assert "went back" in back.problem and "forked" in fork.problem
    assert back.alert_id == fork.alert_id                                          # de-duplicated
    row = console.db.execute("SELECT severity, count, status FROM alerts WHERE alert_id = ?",
                             [back.alert_id]).fetchone()
    assert row == ("high", 2, "open")
    seen = console.db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = 'att-1' ORDER BY seq, hash"
                              ).fetchall()
    assert seen == [(3, "ab" * 32), (4, "ee" * 32), (5, "cd" * 32), (5, "ff" * 32)]


# --- kiosk revocations made at the centre -----------------------------------------------------------

def _pair_world_kiosk(console, world) -> None:
    """The console's kiosks row for the world's kiosk, as pairing writes it (same certificate)."""
    from exam_core import certs, keys

    console.db["kiosks"].insert({
        "kiosk_id": KIOSK_ID, "signing_key": keys.key_id(world.pki.kiosk.public_key()),
        "hpke_key": keys.key_id(world.pki.kiosk_hpke.public_key()), "certificate": world.pki.kiosk_cert,
        "cert_serial": certs.read_unverified_certificate(world.pki.kiosk_cert).serial,
        "paired_at": "2026-11-26T08:00:00Z"})


def _central_cli(world, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), *args, "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr + out.stdout
    return json.loads(out.stdout)


def test_a_kiosk_revoked_at_the_centre_is_distrusted_centrally_from_that_moment(world, console, hub):
    """Revoked with the console's own CLI; the next sync carries the centre-signed revocation; the
    central body lists it, keeps the envelope sealed before it and quarantines the one sealed after."""
    _pair_world_kiosk(console, world)
    _admit(console, "att-before")
    before = world.seal("att-before", GOOD)                      # sealed now, before the revocation
    revoke = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console.data), "kiosks", "revoke",
                             KIOSK_ID, "--reason", "stolen from seat A3"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert revoke.returncode == 0, revoke.stderr
    (revoked_at,) = console.db.execute("SELECT revoked_at FROM kiosk_revocations").fetchone()
    at = parse_time(revoked_at, "revoked_at")
    assert parse_time(read_unverified_header(before).created, "created") < at
    put_envelope(console, before, "att-before")
    _admit(console, "att-after")
    put_envelope(console, world.seal("att-after", GOOD, created=at + timedelta(seconds=1)), "att-after")

    report = run_sync(console, client_for(console, hub))

    assert report.kiosk_revocations_sent == 1 and report.envelopes_receipted == 2
    assert console.db.execute("SELECT sent_at IS NOT NULL FROM kiosk_revocations").fetchone() == (1,)
    (flagged,) = report.envelopes_quarantined_centrally
    assert flagged["attempt_id"] == "att-after"
    assert f"kiosk {KIOSK_ID}" in flagged["reason"] and "was revoked" in flagged["reason"]
    assert "stolen from seat A3" in flagged["reason"] and "by cli" in flagged["reason"]
    results = results_of(world.data_dir)
    assert results.execute("SELECT attempt_id FROM attempts").fetchall() == [("att-before",)]
    (listed,) = _central_cli(world, "centres", "revocations")["kiosk_revocations"]
    assert (listed["centre_id"], listed["kiosk_id"], listed["revoked_at"], listed["revoked_by"], listed["reason"]) == \
        (CENTRE_ID, KIOSK_ID, revoked_at, "cli", "stolen from seat A3")
    assert listed["key_id"] == keys.key_id(world.pki.kiosk.public_key()) and listed["envelopes_quarantined"] == 1
    assert _central_cli(world, "centres", "revocations", "--centre", "centre-other") == {"kiosk_revocations": []}


def test_a_revocation_not_signed_by_the_delivering_centre_refuses_the_whole_upload(world, console, hub):
    """Signed by another key (or naming another centre): the hub refuses the upload before judging
    any envelope (none is judged without a revocation its centre sent), records nothing, and the
    console keeps the envelope and the revocation pending."""
    from proctor_console.sync.client import HubError

    forged = sync_wire.make_kiosk_revocation(keys.generate_signing_key(), sync_wire.KioskRevocation(
        centre_id=CENTRE_ID, kiosk_id=KIOSK_ID, key_id="ab" * 16, cert_serial="cd" * 16,
        revoked_at="2026-11-26T09:00:00Z", revoked_by="mallory"))
    other_centre = sync_wire.make_kiosk_revocation(console.signing_key, sync_wire.KioskRevocation(
        centre_id="centre-2", kiosk_id=KIOSK_ID, key_id="ab" * 16, cert_serial="cd" * 16,
        revoked_at="2026-11-26T09:00:00Z", revoked_by="admin"))
    for attempt_id, document in (("att-forged", forged), ("att-other", other_centre)):
        _admit(console, attempt_id)
        put_envelope(console, world.seal(attempt_id, GOOD), attempt_id)
        console.db["kiosk_revocations"].insert({"kiosk_id": f"k-{attempt_id}", "key_id": "ab" * 16,
                                                "revoked_at": "2026-11-26T09:00:00Z", "document": document})
        with pytest.raises(HubError) as refused:
            run_sync(console, client_for(console, hub))
        assert "HTTP 400" in str(refused.value) and "kiosk_revocations[" in str(refused.value)
        assert ("does not verify" if attempt_id == "att-forged" else "delivered by centre-1") in str(refused.value)
        assert console.db.execute("SELECT COUNT(*) FROM kiosk_revocations WHERE sent_at IS NULL"
                                  ).fetchone() == (1,)
        console.db.execute("DELETE FROM kiosk_revocations")
        console.db.conn.commit()
    assert console.db.execute("SELECT COUNT(*) FROM envelopes WHERE receipt IS NULL").fetchone() == (2,)
    results = results_of(world.data_dir)
    assert results.execute("SELECT COUNT(*) FROM kiosk_revocations").fetchone() == (0,)
    assert results.execute("SELECT COUNT(*) FROM envelopes").fetchone() == (0,)


def test_revocations_travel_without_an_envelope_and_once(world, console, hub):
    _pair_world_kiosk(console, world)
    from proctor_console import services

    services.registry(console).revoke(KIOSK_ID, "admin", "retired")
    first = run_sync(console, client_for(console, hub))
    assert first.kiosk_revocations_sent == 1 and first.envelopes_receipted == 0     # nothing else to upload
    results = results_of(world.data_dir)
    assert results.execute("SELECT kiosk_id, revoked_by FROM kiosk_revocations").fetchall() == [(KIOSK_ID, "admin")]
    assert run_sync(console, client_for(console, hub)).kiosk_revocations_sent == 0  # sent once
    _admit(console, "att-2")
    put_envelope(console, world.seal("att-2", GOOD), "att-2")   # sealed now: after the revocation
    second = run_sync(console, client_for(console, hub))
    assert second.kiosk_revocations_sent == 0                    # judged by the recorded revocation
    (flagged,) = second.envelopes_quarantined_centrally
    assert flagged["attempt_id"] == "att-2" and "was revoked" in flagged["reason"]


def test_air_gap_bundles_carry_pending_revocations_and_acknowledge_them(world, console, tmp_path):
    """No envelope pending: the bundle still carries the revocation; it is marked sent only when
    the central body's bundle back acknowledges it (a lost USB stick leaves it pending)."""
    from item_bank_sync.sync.bundle import export_bundle as central_export
    from item_bank_sync.sync.bundle import import_bundle as central_import
    from proctor_console import services
    from proctor_console.sync.bundle import export_bundle as centre_export
    from proctor_console.sync.bundle import import_bundle as centre_import

    _pair_world_kiosk(console, world)
    services.registry(console).revoke(KIOSK_ID, "admin", "lost in transit")
    assert centre_export(console, tmp_path / "lost.bundle")["kiosk_revocations"] == 1
    assert console.db.execute("SELECT sent_at FROM kiosk_revocations").fetchone() == (None,)
    assert centre_export(console, tmp_path / "out.bundle")["kiosk_revocations"] == 1      # still pending
    assert central_import(world.data_dir, tmp_path / "out.bundle")["kiosk_revocations_recorded"] == 1
    assert central_import(world.data_dir, tmp_path / "lost.bundle")["kiosk_revocations_recorded"] == 1  # idempotent
    results = results_of(world.data_dir)
    assert results.execute("SELECT COUNT(*) FROM kiosk_revocations").fetchone() == (1,)
    central_export(world.data_dir, CENTRE_ID, tmp_path / "back.bundle")
    report = centre_import(console, tmp_path / "back.bundle")
    assert report.kiosk_revocations_sent == 1
    assert console.db.execute("SELECT sent_at IS NOT NULL FROM kiosk_revocations").fetchone() == (1,)
    assert centre_export(console, tmp_path / "next.bundle")["kiosk_revocations"] == 0


def test_a_bundle_with_a_forged_revocation_is_refused_whole(world, console, tmp_path):
    from exam_core.errors import ValidationError
    from item_bank_sync.sync.bundle import import_bundle as central_import
    from proctor_console.sync.bundle import export_bundle as centre_export

    forged = sync_wire.make_kiosk_revocation(keys.generate_signing_key(), sync_wire.KioskRevocation(
        centre_id=CENTRE_ID, kiosk_id=KIOSK_ID, key_id="ab" * 16, cert_serial="cd" * 16,
        revoked_at="2026-11-26T09:00:00Z", revoked_by="mallory"))
    console.db["kiosk_revocations"].insert({"kiosk_id": KIOSK_ID, "key_id": "ab" * 16,
                                            "revoked_at": "2026-11-26T09:00:00Z", "document": forged})
    _admit(console, "att-1")
    put_envelope(console, world.seal("att-1", GOOD), "att-1")
    centre_export(console, tmp_path / "out.bundle")
    with pytest.raises(ValidationError, match="does not verify"):
        central_import(world.data_dir, tmp_path / "out.bundle")
    results = results_of(world.data_dir)
    assert results.execute("SELECT COUNT(*) FROM envelopes").fetchone() == (0,)


# --- release attestation carried in the envelope ------------------------------------------------------

RELEASED, UNRELEASED = "aa" * 32, "bb" * 32


def _attested(world, attempt_id: str, *, measurement: str | None = RELEASED, key=None, kiosk_id: str = KIOSK_ID,
              raw: str | None = None) -> bytes:
    """An envelope whose payload carries a release attestation as the kiosk's sealer puts it."""
    payload = world.payload(attempt_id, GOOD)
    if raw is not None:
        payload["attestation"] = raw
    elif measurement is not None:
        payload["attestation"] = b64e(attestation.make_attestation_document(
            key or world.pki.kiosk, kiosk_id=kiosk_id, nonce=os.urandom(32), measurement=measurement,
            kind="source", policy_sha256="cc" * 32, files=12))
    return world.seal(attempt_id, GOOD, payload=payload)


def test_intake_checks_the_release_attestation_against_the_central_allow_list(world, console, hub):
    cases = {"att-none-listed": _attested(world, "att-none-listed", measurement=UNRELEASED)}
    for attempt_id, data in cases.items():
        put_envelope(console, data, attempt_id)
    first = run_sync(console, client_for(console, hub))
    assert first.envelopes_flagged_centrally == [] and first.envelopes_quarantined_centrally == []

    allowed = _central_cli(world, "releases", "allow", RELEASED, "--release", "2026.11", "--by", "registrar")
    assert allowed["release"] == "2026.11"
    assert list(_central_cli(world, "releases", "list")["measurements"]) == [RELEASED]
    later = {
        "att-released": _attested(world, "att-released"),
        "att-unknown": _attested(world, "att-unknown", measurement=UNRELEASED),
        "att-missing": _attested(world, "att-missing", measurement=None),
        "att-foreign-key": _attested(world, "att-foreign-key", key=keys.generate_signing_key()),
        "att-other-kiosk": _attested(world, "att-other-kiosk", kiosk_id="kiosk-9"),
        "att-garbage": _attested(world, "att-garbage", raw="not base64!"),
    }
    for attempt_id, data in later.items():
        put_envelope(console, data, attempt_id)
    report = run_sync(console, client_for(console, hub))

    assert report.envelopes_receipted == len(later) and report.envelopes_quarantined_centrally == []
    flagged = {f["attempt_id"]: f["flags"][0] for f in report.envelopes_flagged_centrally}
    assert set(flagged) == set(later) - {"att-released"}                      # accepted, not dropped
    assert "unknown_build" in flagged["att-unknown"] and UNRELEASED in flagged["att-unknown"]
    assert "missing" in flagged["att-missing"]
    assert all("invalid" in flagged[a] for a in ("att-foreign-key", "att-other-kiosk", "att-garbage"))
    assert "kiosk-9" in flagged["att-other-kiosk"]
    verdicts = {r["attempt_id"]: r for r in _central_cli(world, "intake", "attestations")}
    assert verdicts["att-released"]["status"] == "passed" and verdicts["att-released"]["release"] == "2026.11"
    assert verdicts["att-none-listed"]["status"] == "unknown_build" and not verdicts["att-none-listed"]["flagged"]
    review = {r["attempt_id"]: r for r in _central_cli(world, "intake", "list") if r["review"]}
    assert set(review) == set(flagged) and all(r["status"] == "accepted" for r in review.values())
    results = results_of(world.data_dir)
    assert results.execute("SELECT COUNT(*) FROM attempts").fetchone() == (len(later) + 1,)   # all scored


def test_releases_cli_refuses_bad_input(world):
    bad = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), "releases", "allow",
                          "xyz", "--release", "r", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "64 hex digits" in json.loads(bad.stdout)["error"]
    gone = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), "releases",
                           "remove", RELEASED, "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1 and "not on the release allow-list" in json.loads(gone.stdout)["error"]
