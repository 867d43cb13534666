"""``intake release``: a custody quarantine overridden after human review, through the real CLI.

Envelopes are real (sealed by the world's kiosk key, opened with the results key); the CLI runs
as a process on the same data directory, as an administrator would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from exam_core import certs, keys, sync_wire
from exam_core.timestamps import format_time, utc_now
from exam_core.protocol import JournalHeadInfo
from exam_core.sync_wire import ACCEPTED, QUARANTINED, REJECTED, EnvelopeMeta
from item_bank_sync.trust import kiosk_revocations
from tests.support.central_db import sql
from tests.support.central_world import CENTRE_ID, GOOD, KIOSK_ID, REPO, journal_row_hash, tamper_ciphertext


def _cli(world, *args: str) -> tuple[int, dict]:
    out = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), *args, "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    return out.returncode, json.loads(out.stdout or "null") or {"error": out.stderr}


def _cut(attempt_id: str) -> EnvelopeMeta:
    """The console saw rows 2 and 8; the world's envelope seals rows 1..6: cut off."""
    return EnvelopeMeta(proctors=("Pat Proctor",),
                        journal_heads=(JournalHeadInfo(2, journal_row_hash(attempt_id, 2, 6)),
                                       JournalHeadInfo(8, "ef" * 32)))


def test_a_head_mismatch_is_released_after_review_scored_and_recorded(world, intake):
    result = intake.receive(world.seal("att-1", GOOD), CENTRE_ID, _cut("att-1"))
    assert result.status == QUARANTINED and "cut off" in result.reason
    assert intake.retry(result.envelope_sha256).status == QUARANTINED              # the evidence does not change

    code, out = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer",
                     "--reason", "kiosk lost power mid-write; proctor report INC-7 confirms")
    assert code == 0, out
    assert out["status"] == ACCEPTED and out["attempt_id"] == "att-1" and out["released_by"] == "rita reviewer"
    assert out["quarantine_reason"] == result.reason and "cut off" in out["waived"][0]
    row = sql(intake.results).execute("SELECT total, scoring_status FROM attempts"
                                      " WHERE attempt_id = 'att-1'").fetchone()
    assert row == (3.0, "awaiting_marking")                               # scored like any accepted attempt
    status, reason = sql(intake.results).execute("SELECT status, reason FROM envelopes").fetchone()
    assert status == ACCEPTED and reason.startswith("released by rita reviewer") and result.reason in reason
    assert sql(intake.results).execute("SELECT reason FROM quarantine").fetchone() == (result.reason,)   # kept
    code, listed = _cli(world, "intake", "releases")
    assert code == 0 and [(r["attempt_id"], r["released_by"], r["quarantine_reason"]) for r in listed] == \
        [("att-1", "rita reviewer", result.reason)]
    code, again = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer", "--reason", "again")
    assert code == 1 and "no quarantined envelope" in again["error"]



def test_who_released_an_envelope_may_not_decide_its_attempt(world, intake):
    """Judging the custody evidence acceptable is part of assessing the attempt (ISO/IEC 17024 4.2,
    9.4): the releaser is refused by ``decide`` as a proctor or marker is, whatever the case of the
    name; another person decides."""
    result = intake.receive(world.seal("att-1", GOOD), CENTRE_ID, _cut("att-1"))
    code, out = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer",
                     "--reason", "kiosk lost power mid-write")
    assert code == 0, out
    code, refused = _cli(world, "decide", "att-1", "--by", "RITA  reviewer", "--outcome", "withheld",
                         "--reason", "looked at it")
    assert code == 1 and "releaser of its quarantined envelope" in refused["error"], refused
    assert sql(intake.results).execute("SELECT count(*) FROM decisions").fetchone() == (0,)
    code, decided = _cli(world, "decide", "att-1", "--by", "Dana Decider", "--outcome", "withheld",
                         "--reason", "awaiting marking")
    assert code == 0 and decided["decided_by"] == "dana decider", decided

def _revoke(world, intake):
    """The centre's signed revocation of the world's kiosk, recorded as an upload records it; its time."""
    revoked_at = utc_now()
    document = sync_wire.make_kiosk_revocation(world.pki.centre, sync_wire.KioskRevocation(
        centre_id=CENTRE_ID, kiosk_id=KIOSK_ID, key_id=keys.key_id(world.pki.kiosk.public_key()),
        cert_serial=certs.read_unverified_certificate(world.pki.kiosk_cert).serial,
        revoked_at=format_time(revoked_at), revoked_by="admin", reason="screen cracked"))
    kiosk_revocations.record(intake.results, intake.bank, world.keys.root_public, CENTRE_ID, (document,))
    return revoked_at


def test_a_seal_after_the_kiosk_was_revoked_is_released_after_review(world, intake):
    revoked_at = _revoke(world, intake)
    late = intake.receive(world.seal("att-2", GOOD, created=revoked_at + timedelta(minutes=2)), CENTRE_ID)
    assert late.status == QUARANTINED and "was revoked" in late.reason
    code, out = _cli(world, "intake", "release", late.envelope_sha256, "--by", "Rita Reviewer",
                     "--reason", "revoked for a cracked screen; the exam had already ended")
    assert code == 0, out
    assert "was revoked" in out["waived"][0]
    assert sql(intake.results).execute("SELECT COUNT(*) FROM attempts WHERE attempt_id = 'att-2'").fetchone() == (1,)


def test_a_proctor_of_the_attempt_cannot_release_it(world, intake):
    result = intake.receive(world.seal("att-1", GOOD), CENTRE_ID, _cut("att-1"))
    code, out = _cli(world, "intake", "release", result.envelope_sha256, "--by", "  PAT   proctor ", "--reason", "fine")
    assert code == 1 and "proctored this attempt" in out["error"]
    assert sql(intake.results).execute("SELECT status FROM envelopes").fetchone() == (QUARANTINED,)


@pytest.mark.parametrize("case", ["tampered", "foreign centre", "replay", "no reason"])
def test_what_no_review_can_waive_is_never_released(world, intake, case):
    if case == "tampered":
        result = intake.receive(tamper_ciphertext(world.seal("att-1", GOOD)), CENTRE_ID, _cut("att-1"))
    elif case == "foreign centre":          # delivered by a centre other than the kiosk's: not even recorded (M2)
        result = intake.receive(world.seal("att-1", GOOD), "centre-2", _cut("att-1"))
        assert result.status == REJECTED and result.receipt is None
        code, _ = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer", "--reason", "x")
        assert code == 1
        assert sql(intake.results).execute("SELECT COUNT(*) FROM intake_releases").fetchone() == (0,)
        assert sql(intake.results).execute("SELECT COUNT(*) FROM envelopes").fetchone() == (0,)
        return
    else:                                   # a second envelope for an accepted attempt, also cut
        assert intake.receive(world.seal("att-1", GOOD), CENTRE_ID).status == ACCEPTED
        result = intake.receive(world.seal("att-1", {"q1": "B"}), CENTRE_ID, _cut("att-1"))
    assert result.status == QUARANTINED
    reason = "" if case == "no reason" else "reviewed"
    code, out = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer", "--reason", reason)
    assert code == 1
    assert ("reason" if case == "no reason" else "no review can waive") in out["error"]
    assert sql(intake.results).execute("SELECT COUNT(*) FROM intake_releases").fetchone() == (0,)
    assert sql(intake.results).execute("SELECT status FROM envelopes WHERE sha256 = ?",
                                  [result.envelope_sha256]).fetchone() == (QUARANTINED,)


def test_an_envelope_that_passes_now_is_pointed_to_retry(world, intake):
    """Nothing to override (the revocation was withdrawn from the record): retry, not release."""
    revoked = _revoke(world, intake)
    result = intake.receive(world.seal("att-1", GOOD, created=revoked + timedelta(minutes=2)), CENTRE_ID)
    assert result.status == QUARANTINED
    sql(intake.results).execute("DELETE FROM kiosk_revocations")
    sql(intake.results).conn.commit()
    code, out = _cli(world, "intake", "release", result.envelope_sha256, "--by", "Rita Reviewer", "--reason", "x")
    assert code == 1 and "intake retry" in out["error"]
    assert intake.retry(result.envelope_sha256).status == ACCEPTED
