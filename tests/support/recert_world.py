"""A central body whose scheme has recertification rules, one attempt passed and its certificate
issued to a person the registry knows (through a booking), for the recertification tests.

The attempt goes the real way (tests/support/central_certificates.py: intake, two markers, the pass
decision); the scheme row is replaced by a real scheme file parsed with the product's reader (as
tests/central/certificates/test_cli.py does), and the booking row is written as the certificates'
person test writes it (booking itself needs a planned session, which the sittings tests cover)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from exam_core.timestamps import utc_text
from item_bank_sync.certificates.registry import Certificate
from item_bank_sync.forms.schemes import parse_scheme
from item_bank_sync.registry import actors, persons, sealing
from tests.support.central_certificates import DECIDER, Passed, passed_world
from tests.support.central_db import bank_of, central_db, execute

CANDIDATE = "C-0000000000000001"
HOLDER_EMAIL = "ann@example.org"
SCHEME = """format: invigil-scheme/1
id: S1
version: 1
title: Electrical Safety Inspector
duration_minutes: 60
cut_score_percent: 60
certification_period_months: {period}
blueprint:
  - {{area: wiring, items: 2, title: Domestic wiring}}
  - {{area: testing, items: 1, title: Inspection and testing}}
recertification:
{rules}
"""
CPD_RULES = """  period_months: 36
  cpd:
    credits: 20
    categories: {training: 10, practice: 5}"""


@dataclass
class Held:
    """The passed world, the holder's person id and the certificate issued to them."""

    passed: Passed
    person_id: str
    cert: Certificate

    @property
    def ctx(self):
        return self.passed.ctx


def set_scheme(passed: Passed, rules: str, period: int = 24) -> None:
    scheme = parse_scheme(SCHEME.format(rules=rules, period=period).encode(), "s.yaml")
    execute(central_db(passed.world.data_dir).bank, "UPDATE schemes SET title = ?, scheme_json = ? "
            "WHERE scheme_id = 'S1'", scheme.title, json.dumps(scheme.to_dict()))


def holder_world(tmp_path, rules: str = CPD_RULES, period: int = 24) -> Held:
    passed = passed_world(tmp_path / "central")
    sealing.create_key(passed.ctx.keys_dir)          # as ``init`` makes it: CPD evidence is sealed with it
    set_scheme(passed, rules, period)
    admin = actors.staff("ada", actors.ADMIN)
    pid = persons.add(passed.ctx, admin, given_name="Ann", family_name="Lee", email=HOLDER_EMAIL).person_id
    bank_of(passed.world.data_dir)["bookings"].insert({
        "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": "A-0000000000000001", "candidate_id": CANDIDATE, "status": "booked", "seat": 1,
        "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(passed.world.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
            CANDIDATE, passed.attempt_id)
    cert = passed.registry().issue(passed.attempt_id, DECIDER)
    return Held(passed, pid, cert)


@pytest.fixture
def held(tmp_path) -> Iterator[Held]:
    h = holder_world(tmp_path)
    yield h
    h.ctx.close()
