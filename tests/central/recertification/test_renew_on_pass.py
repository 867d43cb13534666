"""A pass on a re-examination renews the holder's certificate of the same scheme (instead of a
second certificate): current, suspended for recertification, or expired within the scheme's grace;
not a suspension for another cause, not past the grace, not someone else's; once only (a retry
returns the same renewal); audited; the renewed credential verifies with PyJWT."""

from __future__ import annotations

import jwt
import pytest

from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.certificates.registry import add_months
from item_bank_sync.recertification import renewal
from item_bank_sync.recertification.renewal import RenewalRefused, renew_on_pass
from item_bank_sync.results.decisions import decide
from tests.support.central_certificates import DECIDER, pass_attempt
from tests.support.central_db import audit_of, central_db, execute
from tests.support.recert_world import CANDIDATE, CPD_RULES, holder_world

GRACE = CPD_RULES + "\n  grace_months: 6"


@pytest.fixture
def held(tmp_path):
    h = holder_world(tmp_path, rules=GRACE)
    yield h
    h.ctx.close()


def reexamine(held, attempt_id: str = "att-2", *, decided: bool = True) -> None:
    """The holder (the same candidate id) passes the scheme's exam again."""
    pass_attempt(held.passed.world, attempt_id, decided=False)
    execute(central_db(held.passed.world.data_dir).results,
            "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?", CANDIDATE, attempt_id)
    if decided:
        decide(central_db(held.passed.world.data_dir).results, attempt_id, DECIDER, "pass", "at or above the cut")


def ended(held, valid_until: str) -> None:
    execute(central_db(held.passed.world.data_dir).bank, "UPDATE certificates SET valid_until = ? "
            "WHERE certificate_id = ?", valid_until, held.cert.certificate_id)


def test_a_pass_renews_the_current_certificate_once_and_a_retry_returns_the_same_renewal(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    reexamine(held)
    done = renew_on_pass(held.ctx, "att-2", DECIDER)
    assert done is not None and done.certificate_id == cid and done.standing.reexam_attempt_id == "att-2"
    renewed = registry.get(cid)
    assert renewed.state == "valid" and renewed.valid_until == done.new_valid_until
    assert parse_time(renewed.valid_until).year - parse_time(held.cert.valid_until).year == 3
    key = jwt.PyJWKSet.from_dict(registry.keys.jwks())[jwt.get_unverified_header(renewed.jwt)["kid"]].key
    claims = jwt.decode(renewed.jwt, key=key, algorithms=["EdDSA"], options={"verify_aud": False})
    assert claims["jti"] == renewed.credential_id != held.cert.credential_id
    again = renew_on_pass(held.ctx, "att-2", DECIDER)
    assert again is not None and again.renewal_id == done.renewal_id and again.new_valid_until == done.new_valid_until
    assert [h["action"] for h in registry.history(cid)] == ["issue", "renew"]
    assert [r["status"] for r in renewal.renewals_of(held.ctx, cid)] == ["done"]
    entries = [e for e in audit_of(held.passed.world.data_dir).entries() if e.action == "recert.renew"]
    assert len(entries) == 1 and entries[0].data["on_pass"] and entries[0].data["reexam_attempt_id"] == "att-2"
    assert "Ann" not in str(entries[0].data)


def test_the_certificates_own_attempt_and_a_stranger_renew_nothing(held):
    assert renew_on_pass(held.ctx, held.passed.attempt_id, DECIDER) is None       # its own pass
    pass_attempt(held.passed.world, "att-9")                                      # another candidate's pass
    assert renew_on_pass(held.ctx, "att-9", DECIDER) is None


def test_an_attempt_without_a_pass_standing_is_refused(held):
    reexamine(held, decided=False)
    with pytest.raises(RenewalRefused, match="no pass decision"):
        renew_on_pass(held.ctx, "att-2", DECIDER)
    with pytest.raises(RenewalRefused, match="not in the results"):
        renew_on_pass(held.ctx, "att-missing", DECIDER)


def test_expired_within_the_grace_renews_and_past_it_does_not(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    ended(held, "2020-01-01T00:00:00Z")                                 # long past the six months' grace
    assert registry.expire_due(DECIDER) == [cid]
    reexamine(held)
    assert renew_on_pass(held.ctx, "att-2", DECIDER) is None
    ended(held, format_time(add_months(utc_now(), -2)))                  # two months ago: within the grace
    done = renew_on_pass(held.ctx, "att-2", DECIDER)
    assert done is not None and registry.get(cid).state == "valid"


def test_a_suspension_for_recertification_is_cured_and_one_for_another_cause_is_not(held):
    cid, registry = held.cert.certificate_id, held.passed.registry()
    registry.suspend(cid, DECIDER, "complaint under investigation", parse_time("2099-01-01T00:00:00Z"))
    reexamine(held)
    assert renew_on_pass(held.ctx, "att-2", DECIDER) is None
    assert registry.get(cid).state == "suspended"
    registry.restore(cid, DECIDER, "complaint not upheld")
    registry.suspend(cid, DECIDER, "Recertification: CPD audit failed, re-examination required",
                     parse_time("2099-01-01T00:00:00Z"))
    done = renew_on_pass(held.ctx, "att-2", DECIDER)
    assert done is not None
    now = registry.get(cid)
    assert now.state == "valid" and now.suspended_until is None
    assert cid not in [c.certificate_id for c in registry.suspensions_overdue()]
