"""A certificate of a candidate the registry of persons knows (through their booking): the holder's
name from the person record, found by name only with the person's public-register consent, and a
status action refused to a staff member who declared a conflict of interest with the person.

The booking row is written directly, as the registry's own impartiality test does: booking needs a
planned session and an eligible application, which the sittings tests cover."""

from __future__ import annotations

import pytest

from exam_core.timestamps import utc_now, utc_text
from item_bank_sync.registry import actors, conflicts, persons
from item_bank_sync.registry.errors import ConflictOfInterest
from tests.support.central_certificates import DECIDER, passed_world
from tests.support.central_db import bank_of, central_db, execute

CANDIDATE = "C-0000000000000001"


def test_the_person_record_names_the_holder_and_their_consent_lets_them_be_found(tmp_path):
    passed = passed_world(tmp_path / "central")
    ctx = passed.ctx
    try:
        admin = actors.staff("ada", actors.ADMIN)
        pid = persons.add(ctx, admin, given_name="Ann", family_name="Lee", email="ann@example.org").person_id
        persons.consent(ctx, admin, pid, purpose="public_register", text_version="register/1")
        bank_of(passed.world.data_dir)["bookings"].insert({
            "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
            "application_id": "A-0000000000000001", "candidate_id": CANDIDATE, "status": "booked", "seat": 1,
            "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
        execute(central_db(passed.world.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
                CANDIDATE, passed.attempt_id)
        conflicts.declare(ctx, actors.staff("Dee Decider", "decision_maker"), person_id=pid, relationship="trainer")
        registry = passed.registry()
        cert = registry.issue(passed.attempt_id, DECIDER)
        assert (cert.holder_name, cert.holder_name_source, cert.person_id) == ("Ann Lee", "person", pid)
        assert cert.name_consent and [c.certificate_id for c in registry.by_name("ann  lee")] == [cert.certificate_id]
        with pytest.raises(ConflictOfInterest, match="trainer"):
            registry.suspend(cert.certificate_id, "Dee Decider", "complaint", utc_now().replace(year=2099))
        assert registry.get(cert.certificate_id).state == "valid"
    finally:
        ctx.close()
