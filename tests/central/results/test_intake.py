"""Intake: real envelopes sealed by a kiosk key, opened with the results key, every tampering refused."""

from __future__ import annotations

import base64
import json

import pytest

from exam_core import certs, keys, receipt
from exam_core.errors import ValidationError
from exam_core.jsonio import b64e, canonical_dumps
from exam_core.protocol import JournalHeadInfo
from exam_core.sync_wire import ACCEPTED, QUARANTINED, REJECTED, EnvelopeMeta
from tests.support.central_db import sql
from tests.support.central_world import CENTRE_ID, GOOD, KIOSK_ID, journal_row_hash, tamper_ciphertext


def test_accepts_scores_and_receipts(world, intake):
    data = world.seal("att-1", GOOD)
    result = intake.receive(data, CENTRE_ID, EnvelopeMeta(proctors=("Pat Proctor",)))
    assert result.status == ACCEPTED and not result.duplicate
    verified = receipt.verify_receipt(result.receipt, data, world.pki.central.public_key())
    assert verified.attempt_id == "att-1"
    row = sql(intake.results).execute("SELECT total, max_total, scoring_status, cut_score FROM attempts").fetchone()
    assert row == (3.0, 7.0, "awaiting_marking", 3.0)     # q1 1 + q2 2, essay pending
    tasks = list(sql(intake.results).query("SELECT item_id, status FROM marking_tasks"))
    assert tasks == [{"item_id": "q3", "status": "open"}]
    roles = sql(intake.results).execute("SELECT person, role FROM attempt_roles").fetchall()
    assert roles == [("pat proctor", "proctor")]


def test_same_bytes_twice_get_the_same_receipt(world, intake):
    data = world.seal("att-1", GOOD)
    first = intake.receive(data, CENTRE_ID)
    second = intake.receive(data, CENTRE_ID)
    assert second.duplicate and second.receipt == first.receipt and second.status == ACCEPTED
    assert sql(intake.results).execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 1


def test_second_envelope_for_an_attempt_is_a_replay(world, intake):
    assert intake.receive(world.seal("att-1", GOOD), CENTRE_ID).status == ACCEPTED
    other = world.seal("att-1", {"q1": "B"})
    result = intake.receive(other, CENTRE_ID)
    assert result.status == QUARANTINED and "replay" in result.reason
    # quarantined envelopes still get a receipt: the central body holds their bytes
    receipt.verify_receipt(result.receipt, other, world.pki.central.public_key())
    assert sql(intake.results).execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 1
    assert sql(intake.results).execute("SELECT total FROM attempts").fetchone()[0] == 3.0


def _swap_chain(data: bytes, chain: list[bytes]) -> bytes:
    outer = json.loads(data)
    outer["chain"] = certs.chain_to_b64(chain)
    return canonical_dumps(outer)


def _tamper_header(data: bytes) -> bytes:
    outer = json.loads(data)
    header = json.loads(base64.b64decode(outer["header"]))
    payload = json.loads(base64.b64decode(header["payload"]))
    payload["form_version"] = 3
    header["payload"] = base64.b64encode(canonical_dumps(payload)).decode()
    outer["header"] = base64.b64encode(canonical_dumps(header)).decode()
    return canonical_dumps(outer)


def _tampering_cases(world):
    pki = world.pki
    rogue_centre = keys.generate_signing_key()
    rogue_kiosk = keys.generate_signing_key()
    rogue_centre_cert = certs.issue_certificate(rogue_centre, "central", CENTRE_ID, "centre", rogue_centre.public_key())
    rogue_kiosk_cert = certs.issue_certificate(rogue_centre, CENTRE_ID, "kiosk-7", "kiosk", rogue_kiosk.public_key())
    other_centre = keys.generate_signing_key()
    other_centre_cert = certs.issue_certificate(pki.central, "central", "centre-2", "centre", other_centre.public_key())
    other_kiosk_cert = certs.issue_certificate(other_centre, "centre-2", "kiosk-7", "kiosk", pki.kiosk.public_key())
    stranger_results = keys.generate_hpke_key(keys.SUITE_X25519)
    good = world.seal("att-9", GOOD)
    rollback = world.payload("att-9", GOOD)
    rollback["responses"][0]["seq"] = 99
    mismatch = world.payload("att-9", GOOD, kiosk_id="kiosk-8")
    short_journal = world.payload("att-9", GOOD)
    short_journal["answer_changes"] = 40
    bad_value = world.payload("att-9", {"q1": ["A", "B"]})
    foreign_item = world.payload("att-9", {"q9": "A"})
    return {
        "ciphertext flipped": (tamper_ciphertext(good), "TamperedError"),
        "header edited": (_tamper_header(good), "TamperedError"),
        "chain from an unknown root": (world.seal("att-9", GOOD, kiosk_signing_key=rogue_kiosk,
                                                  chain=[rogue_centre_cert, rogue_kiosk_cert]), "UntrustedError"),
        "kiosk cert of another centre": (_swap_chain(good, [other_centre_cert, other_kiosk_cert]), "UntrustedError"),
        "sealed to another results key": (world.seal("att-9", GOOD, results_public=stranger_results.public_key()),
                                          "WrongKeyError"),
        "payload attempt differs from header": (world.seal("att-9", GOOD, payload=mismatch), "TamperedError"),
        "response newer than journal head": (world.seal("att-9", GOOD, payload=rollback), "TamperedError"),
        "journal shorter than its answer changes": (world.seal("att-9", GOOD, payload=short_journal), "TamperedError"),
        "form version not in the bank": (world.seal("att-9", GOOD, form_version=5,
                                                    payload=world.payload("att-9", GOOD, form_version=5)),
                                         "IntakeRefusal"),
        "package of another form": (world.seal("att-9", GOOD, package_id="pkg-x",
                                               payload=world.payload("att-9", GOOD, package_id="pkg-x")),
                                    "IntakeRefusal"),
        "response of the wrong shape": (world.seal("att-9", {}, payload=bad_value), "ValidationError"),
        "response to an item not on the form": (world.seal("att-9", {}, payload=foreign_item), "ValidationError"),
    }


def test_every_kind_of_tampering_is_quarantined_with_a_reason(world, intake):
    for name, (data, error) in _tampering_cases(world).items():
        result = intake.receive(data, CENTRE_ID)
        assert result.status == QUARANTINED, name
        stored = sql(intake.results).execute("SELECT error, reason FROM quarantine WHERE sha256 = ?",
                                        [result.envelope_sha256]).fetchone()
        assert stored[0] == error, (name, stored)
        assert stored[1], name
    assert sql(intake.results).execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 0


def test_revoked_kiosk_is_quarantined(world, intake):
    serial = certs.read_unverified_certificate(world.pki.kiosk_cert).serial
    intake.revocations = [certs.issue_revocation_list(world.pki.centre, CENTRE_ID, [serial], 1)]
    result = intake.receive(world.seal("att-1", GOOD), CENTRE_ID)
    assert result.status == QUARANTINED and "revoked" in result.reason


def test_delivered_by_another_centre(world, intake):
    """Issue 13, M2: another centre's delivery is rejected with no row and no receipt, so it
    cannot take the envelope's slot; the rightful centre's delivery is then accepted."""
    data = world.seal("att-1", GOOD)
    result = intake.receive(data, "centre-2")
    assert result.status == REJECTED and "delivered by centre centre-2" in result.reason
    assert result.receipt is None
    assert sql(intake.results).execute("SELECT COUNT(*) FROM envelopes").fetchone() == (0,)
    assert sql(intake.results).execute("SELECT COUNT(*) FROM quarantine").fetchone() == (0,)
    rightful = intake.receive(data, CENTRE_ID)
    assert rightful.status == ACCEPTED and not rightful.duplicate
    held = receipt.verify_receipt(rightful.receipt, data, world.pki.central.public_key())
    assert (held.centre_id, held.status) == (CENTRE_ID, ACCEPTED)
    assert intake.receive(data, "centre-2").receipt is None              # still nothing for the other


def test_console_heads_must_lie_on_the_sealed_chain(world, intake):
    """Every head the console saw must be a row of the sealed journal (World seals rows 1..6)."""
    def on_chain(attempt_id, *seqs):
        return EnvelopeMeta(journal_heads=tuple(JournalHeadInfo(s, journal_row_hash(attempt_id, s, 6)) for s in seqs))

    assert intake.receive(world.seal("att-1", GOOD), CENTRE_ID, on_chain("att-1", 2, 4, 6)).status == ACCEPTED
    cut = intake.receive(world.seal("att-2", GOOD), CENTRE_ID, on_chain("att-2", 2, 7))
    assert cut.status == QUARANTINED and "cut off" in cut.reason and "row 7" in cut.reason
    forked = EnvelopeMeta(journal_heads=(JournalHeadInfo(3, "cd" * 32),))      # row 3 exists, with another hash
    result = intake.receive(world.seal("att-3", GOOD), CENTRE_ID, forked)
    assert result.status == QUARANTINED and "forked: row 3" in result.reason
    same_seq_other_hash = EnvelopeMeta(journal_heads=(JournalHeadInfo(6, "cd" * 32),))
    assert intake.receive(world.seal("att-4", GOOD), CENTRE_ID, same_seq_other_hash).status == QUARANTINED


def test_heads_without_a_sealed_chain_go_to_review(world, intake):
    payload = world.payload("att-1", GOOD)
    del payload["journal_chain"]
    data = world.seal("att-1", GOOD, payload=payload)
    result = intake.receive(data, CENTRE_ID, EnvelopeMeta(journal_heads=(JournalHeadInfo(2, "cd" * 32),)))
    assert result.status == QUARANTINED and "no journal chain" in result.reason
    older_kiosk = world.payload("att-2", GOOD)          # no chain and no heads: nothing to check
    del older_kiosk["journal_chain"]
    assert intake.receive(world.seal("att-2", GOOD, payload=older_kiosk), CENTRE_ID).status == ACCEPTED


def test_a_chain_that_does_not_end_at_the_head_is_refused(world, intake):
    payload = world.payload("att-1", GOOD)
    payload["journal_chain"] = b64e(base64.b64decode(payload["journal_chain"])[:-32])
    result = intake.receive(world.seal("att-1", GOOD, payload=payload), CENTRE_ID)
    assert result.status == QUARANTINED and "row hashes" in result.reason
    payload = world.payload("att-2", GOOD)
    payload["journal_chain"] = b64e(base64.b64decode(payload["journal_chain"])[:-32] + b"\x01" * 32)
    result = intake.receive(world.seal("att-2", GOOD, payload=payload), CENTRE_ID)
    assert result.status == QUARANTINED and "not the journal head" in result.reason


def test_meta_journal_heads_are_validated():
    assert EnvelopeMeta.from_dict({"journal_head": {"seq": 3, "hash": "ab" * 32}}).journal_heads == \
        (JournalHeadInfo(3, "ab" * 32),)
    heads = {"journal_heads": [{"seq": 1, "hash": "ab" * 32}, {"seq": 2, "hash": "cd" * 32}]}
    assert EnvelopeMeta.from_dict(heads).to_dict()["journal_heads"] == heads["journal_heads"]
    for bad in ({"journal_heads": [{"seq": 0, "hash": "ab" * 32}]}, {"journal_heads": [{"seq": 1, "hash": "AB" * 32}]},
                {"journal_heads": [{"seq": True, "hash": "ab" * 32}]}, {"journal_heads": {"seq": 1}},
                {"journal_heads": [{"seq": 1, "hash": "ab" * 32, "x": 1}]},
                {"journal_heads": [{"seq": 1, "hash": "ab" * 32}] * 10_001}):
        with pytest.raises(ValidationError):
            EnvelopeMeta.from_dict(bad)


def test_unreadable_bytes_get_no_receipt(world, intake):
    result = intake.receive(b"{\"not\": \"an envelope\"}", CENTRE_ID)
    assert result.status == REJECTED and result.receipt is None
    assert sql(intake.results).execute("SELECT COUNT(*) FROM envelopes").fetchone()[0] == 0


def test_meta_is_validated():
    with pytest.raises(ValidationError):
        EnvelopeMeta.from_dict({"proctors": ["x"], "evil": 1})
    with pytest.raises(ValidationError):
        EnvelopeMeta.from_dict({"incidents": [{"kind": "Bad Kind", "severity": "high", "at": "x"}]})
    meta = EnvelopeMeta.from_dict({"proctors": ["a"], "incidents": [
        {"kind": "face.absent", "severity": "high", "at": "2026-11-26T10:00:00Z", "rule": "no_face"}]})
    assert meta.incidents[0].rule == "no_face"


def test_quarantined_envelope_can_be_retried_once_its_cause_is_fixed(world, intake):
    payload = world.payload("att-5", GOOD, form_version=7)
    data = world.seal("att-5", GOOD, form_version=7, payload=payload)
    meta = EnvelopeMeta(proctors=("Pat",))
    first = intake.receive(data, CENTRE_ID, meta)
    assert first.status == QUARANTINED and "not form F1 v7" in first.reason
    again = intake.retry(first.envelope_sha256)                              # nothing changed: still quarantined
    assert again.status == QUARANTINED and again.receipt == first.receipt
    bank = sql(intake.bank)
    form = json.loads(bank.execute("SELECT form_json FROM forms").fetchone()[0])
    form["version"] = 7
    bank.execute("INSERT INTO forms (form_id, version, scheme_id, scheme_version, build_id, seed, form_json, "
                 "created_at) VALUES ('F1', 7, 'S1', 1, 'b7', 7, ?, 'now')", [json.dumps(form)])
    bank.execute("UPDATE packages SET form_version = 7")
    bank.conn.commit()
    intake._forms.clear()
    fixed = intake.retry(first.envelope_sha256)
    assert fixed.status == ACCEPTED and fixed.receipt == first.receipt
    assert sql(intake.results).execute("SELECT total FROM attempts WHERE attempt_id = 'att-5'").fetchone()[0] == 3.0
    roles = sql(intake.results).execute("SELECT person FROM attempt_roles WHERE attempt_id = 'att-5'").fetchone()
    assert roles[0] == "pat"
    assert intake.receive(data, CENTRE_ID).status == ACCEPTED          # the stored fate is now accepted
    with pytest.raises(Exception, match="no quarantined envelope"):
        intake.retry(first.envelope_sha256)


def _set_window(intake, opens, closes):
    from exam_core.timestamps import format_time
    sql(intake.bank).execute("UPDATE packages SET opens = ?, closes = ?", [format_time(opens), format_time(closes)])
    sql(intake.bank).conn.commit()


def test_envelope_created_before_the_package_opened_is_quarantined(world, intake):
    from datetime import timedelta

    from exam_core.timestamps import utc_now
    now = utc_now()
    _set_window(intake, now + timedelta(hours=2), now + timedelta(hours=10))
    result = intake.receive(world.seal("att-early", GOOD), CENTRE_ID)
    assert result.status == QUARANTINED and "before package" in result.reason
    assert result.receipt is not None                      # the centre still gets its receipt


def test_envelope_created_after_the_submission_deadline_is_quarantined(world, intake):
    from datetime import timedelta

    from exam_core.timestamps import utc_now
    from item_bank_sync.results.intake import INTERRUPTION_ALLOWANCE
    now = utc_now()
    # closed 5 h ago: the 1 h form plus the 2 h allowance ended 2 h ago
    _set_window(intake, now - timedelta(hours=9), now - timedelta(hours=5))
    assert timedelta(hours=2) == INTERRUPTION_ALLOWANCE  # the allowance the docs state
    late = intake.receive(world.seal("att-late", GOOD), CENTRE_ID)
    assert late.status == QUARANTINED and "submission deadline" in late.reason
    # 400 % extra time stretches the 1 h form to 5 h: the same lateness is now inside the grace
    payload = world.payload("att-extra", GOOD, accommodations={"extra_time_percent": 400})
    extended = intake.receive(world.seal("att-extra", GOOD, payload=payload), CENTRE_ID)
    assert extended.status == ACCEPTED, extended.reason


def test_submission_just_after_closes_is_accepted(world, intake):
    from datetime import timedelta

    from exam_core.timestamps import utc_now
    now = utc_now()
    _set_window(intake, now - timedelta(hours=3), now - timedelta(minutes=50))
    assert intake.receive(world.seal("att-ontime", GOOD), CENTRE_ID).status == ACCEPTED


def test_expired_kiosk_certificate_cannot_backdate(world, intake):
    """The chain is valid at the claimed created time but not when the central body receives it."""
    from datetime import timedelta

    from exam_core.timestamps import utc_now
    now = utc_now().replace(microsecond=0)
    short = certs.issue_certificate(world.pki.centre, CENTRE_ID, KIOSK_ID, "kiosk", world.pki.kiosk.public_key(),
                                    world.pki.kiosk_hpke.public_key(), not_before=now - timedelta(hours=1),
                                    not_after=now + timedelta(hours=1))
    chain = [world.pki.centre_cert, short]
    data = world.seal("att-bd", GOOD, chain=chain, created=now)
    intake.clock = lambda: now + timedelta(hours=3)         # the certificate expired 2 h before arrival
    result = intake.receive(data, CENTRE_ID)
    assert result.status == QUARANTINED and "expired" in result.reason
    intake.clock = utc_now
    assert intake.receive(world.seal("att-ok", GOOD, chain=chain), CENTRE_ID).status == ACCEPTED


def test_retry_judges_the_chain_as_of_arrival(world, intake):
    """A quarantined envelope fixed later is not lost because its kiosk certificate expired meanwhile."""
    from datetime import timedelta

    from exam_core.timestamps import utc_now
    now = utc_now().replace(microsecond=0)
    short = certs.issue_certificate(world.pki.centre, CENTRE_ID, KIOSK_ID, "kiosk", world.pki.kiosk.public_key(),
                                    world.pki.kiosk_hpke.public_key(), not_before=now - timedelta(hours=1),
                                    not_after=now + timedelta(hours=1))
    forked = EnvelopeMeta(journal_heads=(JournalHeadInfo(3, "cd" * 32),))   # a cause fixed below
    first = intake.receive(world.seal("att-r", GOOD, chain=[world.pki.centre_cert, short]), CENTRE_ID, forked)
    assert first.status == QUARANTINED
    sql(intake.results).execute("UPDATE quarantine SET meta_json = ?", [json.dumps(EnvelopeMeta().to_dict())])
    sql(intake.results).conn.commit()
    intake.clock = lambda: now + timedelta(days=2)
    assert intake.retry(first.envelope_sha256).status == ACCEPTED
