"""Renewal decisions: refused with credits missing (and with credits awaiting or failing audit),
allowed with them; the new credential verifies with an independent library (PyJWT) and the old one
shows revoked in the served status list; refused to the holder's proctor and markers and to a
declared conflict; a re-examination found by a later pass of the holder on the same scheme; audited."""

from __future__ import annotations

import json

import jwt
import pytest

from exam_core.timestamps import parse_time, utc_now, utc_text
from item_bank_sync.certificates.registry import CertificateRefused, add_months
from item_bank_sync.forms.schemes import Scheme, SchemeStore
from item_bank_sync.recertification import cpd, renewal
from item_bank_sync.recertification.renewal import RenewalRefused
from item_bank_sync.recertification.rules import NoRules
from item_bank_sync.registry import actors, conflicts
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden
from tests.support.recert_world import CANDIDATE, holder_world
from tests.support.central_certificates import DECIDER, MARKERS, PROCTOR, pass_attempt
from tests.support.central_db import audit_of, central_db, execute, value

def add(held, category: str, credits: float) -> str:
    today = held.cert.valid_from[:10]
    return cpd.add(held.ctx, actors.candidate(held.person_id), held.cert.certificate_id, category=category,
                   credits=credits, activity_date=today, description=f"{category} activity").record_id


def verify(token: str, jwks: dict) -> dict:
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]].key
    return jwt.decode(token, key=key, algorithms=["EdDSA"], options={"verify_aud": False})


def test_refused_with_credits_missing_then_renewed_with_a_new_credential_and_the_old_one_revoked(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    add(held, "training", 12)
    with pytest.raises(RenewalRefused, match="practice: 0 of 5 credits; total: 12 of 20 credits"):
        renewal.renew(held.ctx, cid, DECIDER)
    add(held, "practice", 8)
    old = registry.get(cid)
    old_index = value(central_db(held.passed.world.data_dir).bank,
                      "SELECT revocation_index FROM certificate_credentials WHERE credential_id = ?", old.credential_id)
    assert old_index not in registry.status_indexes("revocation")
    done = renewal.renew(held.ctx, cid, DECIDER)
    new = registry.get(cid)
    assert new.credential_id != old.credential_id and new.valid_until == done.new_valid_until
    assert (parse_time(new.valid_until).year - parse_time(old.valid_until).year) == 3       # period_months: 36
    claims = verify(new.jwt, registry.keys.jwks())
    assert claims["validUntil"][:10] == new.valid_until[:10] and claims["jti"] == new.credential_id
    assert old_index in registry.status_indexes("revocation")             # superseded: revoked in the list
    assert verify(old.jwt, registry.keys.jwks())["jti"] == old.credential_id   # still signed, but revoked
    assert [h["action"] for h in registry.history(cid)] == ["issue", "renew"]
    entries = [e for e in audit_of(held.passed.world.data_dir).entries() if e.action == "recert.renew"]
    assert entries and entries[-1].data["certificate_id"] == cid and "Ann" not in str(entries[-1].data)
    with pytest.raises(RenewalRefused, match="total: 0 of 20"):            # the credits counted once only
        renewal.renew(held.ctx, cid, DECIDER)


def test_refused_to_the_holders_proctor_and_markers_and_to_a_declared_conflict(held):
    cid = held.cert.certificate_id
    add(held, "training", 10)
    add(held, "practice", 10)
    for person in (PROCTOR, *MARKERS):
        with pytest.raises(CertificateRefused, match="impartiality"):
            renewal.renew(held.ctx, cid, person)
    conflicts.declare(held.ctx, actors.staff("Dee Decider", "decision_maker"), person_id=held.person_id,
                      relationship="trainer")
    with pytest.raises(ConflictOfInterest, match="trainer"):
        renewal.renew(held.ctx, cid, "Dee Decider")
    assert renewal.renewals_of(held.ctx, cid) == []                       # the refused claims were given back
    assert renewal.standing(held.ctx, cid).assessment.met
    assert renewal.renew(held.ctx, cid, DECIDER).standing.record_ids


def test_sampled_credits_count_once_verified_and_rejected_ones_never(held):
    cid = held.cert.certificate_id
    training, practice = add(held, "training", 15), add(held, "practice", 5)
    auditor = actors.staff("Aud Itor", actors.AUDITOR)
    drawn = cpd.sample(held.ctx, auditor, 1.0, seed="all")
    assert sorted(drawn.drawn) == sorted([training, practice])
    with pytest.raises(RenewalRefused, match="20 credits await audit"):
        renewal.renew(held.ctx, cid, DECIDER)
    cpd.audit(held.ctx, auditor, training, "verified", "certificate of attendance checked")
    cpd.audit(held.ctx, auditor, practice, "rejected", "the activity is not professional practice")
    with pytest.raises(RenewalRefused, match="practice: 0 of 5 credits"):
        renewal.renew(held.ctx, cid, DECIDER)
    add(held, "practice", 5)
    assert renewal.renew(held.ctx, cid, DECIDER).standing.assessment.counted == {"practice": 5.0, "training": 15.0}


def test_a_re_examination_is_a_later_pass_of_the_holder_on_the_same_scheme(tmp_path):
    held = holder_world(tmp_path, rules="  period_months: 24\n  reexamination: true\n")
    try:
        cid = held.cert.certificate_id
        with pytest.raises(RenewalRefused, match="re-examination: no pass within the period"):
            renewal.renew(held.ctx, cid, DECIDER)
        pass_attempt(held.passed.world, "att-2")
        execute(central_db(held.passed.world.data_dir).results,
                "UPDATE attempts SET candidate_id = ? WHERE attempt_id = 'att-2'", CANDIDATE)
        assert renewal.standing(held.ctx, cid).reexam_attempt_id == "att-2"
        assert renewal.renew(held.ctx, cid, DECIDER).standing.reexam_attempt_id == "att-2"
    finally:
        held.ctx.close()


def test_a_scheme_without_rules_is_never_renewed_until_a_newer_version_adds_them(held):
    bank = central_db(held.passed.world.data_dir).bank
    doc = json.loads(value(bank, "SELECT scheme_json FROM schemes WHERE scheme_id = 'S1'"))
    rules = doc.pop("recertification")                           # as a scheme stored before the rules existed
    execute(bank, "UPDATE schemes SET scheme_json = ? WHERE scheme_id = 'S1'", json.dumps(doc))
    with pytest.raises(NoRules):
        renewal.renew(held.ctx, held.cert.certificate_id, DECIDER)
    newer = Scheme.from_dict({**doc, "version": 2, "recertification": {**rules, "cpd": {"credits": 4.0,
                                                                                        "categories": {}}}})
    SchemeStore(bank).add(newer, "scheme v2")
    add(held, "anything", 4)
    assert renewal.renew(held.ctx, held.cert.certificate_id, DECIDER).standing.assessment.met


def test_a_suspended_certificate_is_not_renewed_and_a_claim_left_behind_is_taken_back(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    add(held, "training", 10)
    add(held, "practice", 10)
    registry.suspend(cid, DECIDER, "complaint under investigation", parse_time("2099-01-01T00:00:00Z"))
    with pytest.raises(CertificateRefused, match="suspended"):
        renewal.renew(held.ctx, cid, DECIDER)
    registry.restore(cid, DECIDER, "complaint not upheld")
    start = renewal.standing(held.ctx, cid).cycle_start
    bank = central_db(held.passed.world.data_dir).bank
    execute(bank, "INSERT INTO recert_renewals (renewal_id, certificate_id, cycle_start, status, previous_valid_until, "
            "credits_json, decided_by, decided_at) VALUES ('N-0000000000000001', ?, ?, 'pending', ?, '{}', 'x', ?)",
            cid, start, held.cert.valid_until, utc_text())               # another decision under way
    with pytest.raises(RenewalRefused, match="being decided"):
        renewal.renew(held.ctx, cid, DECIDER)
    execute(bank, "UPDATE recert_renewals SET decided_at = '2026-01-01T00:00:00Z'")   # its process stopped
    assert renewal.renew(held.ctx, cid, DECIDER).standing.assessment.met
    assert [r["status"] for r in renewal.renewals_of(held.ctx, cid)] == ["done"]


def test_where_a_holder_stands_is_shown_to_them_and_to_readers_only(held):
    cid = held.cert.certificate_id
    assert not renewal.standing_for(held.ctx, actors.candidate(held.person_id), cid).assessment.met
    assert renewal.standing_for(held.ctx, actors.staff("Aud", actors.AUDITOR), cid).cycle_start
    with pytest.raises(Forbidden):
        renewal.standing_for(held.ctx, actors.candidate("P-0000000000000009"), cid)


def test_an_expired_certificate_is_renewed_from_the_decision(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    add(held, "training", 10)
    add(held, "practice", 10)
    execute(central_db(held.passed.world.data_dir).bank, "UPDATE certificates SET valid_until = ? "
            "WHERE certificate_id = ?", "2026-01-01T00:00:00Z", cid)      # its period has ended
    assert registry.expire_due(DECIDER) == [cid] and registry.get(cid).state == "expired"
    done = renewal.renew(held.ctx, cid, DECIDER)
    renewed = registry.get(cid)
    assert renewed.state == "valid" and renewed.valid_until == done.new_valid_until
    assert done.previous_valid_until == "2026-01-01T00:00:00Z"
    assert parse_time(done.new_valid_until).date() == add_months(utc_now(), 36).date()    # from the decision
