"""A real kiosk session (kiosk.session) answers one item of every interaction type, submits, and the
central intake opens and scores exactly what it sealed: the kiosk -> central wire format agrees."""

from __future__ import annotations

import json
import os
from typing import Any

from exam_core import envelope
from exam_core.model import Attempt
from exam_core.result import SealStamp
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.results.intake import ACCEPTED, Intake
from kiosk.journal import Journal
from kiosk.session import ExamSession, Sealed, receipt_code
from kiosk.storage import open_kiosk_db
from simulators.forms import ANSWERS
from tests.support.kiosk_world import make_bundle
from tests.support.central_db import bank_of, results_of
from tests.support.central_world import CENTRE_ID, KIOSK_ID, build_world

RESPONSE = {"response_id": "R1"}
KEYS: dict[str, dict[str, Any]] = {
    "Q01": {"cardinality": "single", "base_type": "identifier", "template": "match_correct", "correct": "B"},
    "Q02": {"cardinality": "single", "base_type": "identifier", "template": "match_correct", "correct": "blue"},
    "Q03": {"cardinality": "single", "base_type": "string", "template": "match_correct", "correct": "paris",
            "case_sensitive": False},
    "Q04": {"cardinality": "single", "base_type": "string", "template": "human", "max_score": 2},
    "Q05": {"cardinality": "ordered", "base_type": "identifier", "template": "match_correct",
            "correct": ["S1", "S2", "S3"]},
    "Q06": {"cardinality": "multiple", "base_type": "directedPair", "template": "match_correct",
            "correct": [["T2", "D2"], ["T1", "D1"]]},
    "Q07": {"cardinality": "multiple", "base_type": "pair", "template": "match_correct",
            "correct": [["K2", "K1"], ["K4", "K3"]]},
    "Q08": {"cardinality": "multiple", "base_type": "directedPair", "template": "map_response",
            "mapping": {"W100 G1": 1, "W0 G2": 1}, "max_score": 2},
    "Q09": {"cardinality": "multiple", "base_type": "identifier", "template": "map_response",
            "mapping": {"H2": 1, "H3": 1, "H1": -1, "H4": -1}, "lower_bound": 0, "max_score": 2},
    "Q10": {"cardinality": "single", "base_type": "identifier", "template": "match_correct", "correct": "TL"},
}


def _bank_for_kiosk_form(world) -> None:
    bank = bank_of(world.data_dir)
    for item_id, key in KEYS.items():
        bank["items"].insert({"item_id": item_id, "version": 1, "content_hash": "0" * 64, "status": "approved",
                              "title": item_id, "interaction_types": "x", "source": "kiosk-test-form",
                              "source_format": "yaml", "item_json": "{}", "created_at": "2026-11-26T00:00:00Z",
                              "created_by": "test",
                              "key_json": json.dumps({"item_id": item_id, "version": 1,
                                                      "responses": [{**RESPONSE, **key}]})})
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "Test form",
            "duration_seconds": 3600, "items": [{"item_id": i, "version": 1} for i in KEYS]}
    bank["forms"].insert({"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "build_id": "k",
                          "seed": 1, "form_json": json.dumps(form), "created_at": "2026-11-26T00:00:00Z"})
    bank["packages"].insert({"package_id": "pkg-k", "form_id": "F1", "form_version": 1, "centre_id": CENTRE_ID,
                             "opens": "2026-01-01T00:00:00Z", "closes": "2099-01-01T00:00:00Z",
                             "release_code_required": 0,
                             "path": "packages/none.zip",
                             "sha256": "0" * 64, "created_at": "2026-11-26T00:00:00Z"})
    bank.conn.close()


def test_real_kiosk_submission_is_accepted_and_scored(tmp_path):
    world = build_world(tmp_path / "central", cut_score=9)
    _bank_for_kiosk_form(world)
    attempt = Attempt.from_dict({"attempt_id": "att-k1", "candidate_id": "C123", "form_id": "F1", "form_version": 1,
                                 "package_id": "pkg-k", "centre_id": CENTRE_ID, "kiosk_id": KIOSK_ID,
                                 "option_seed": 424242, "state": "admitted", "seat": "B2"})
    sealed: list[Sealed] = []

    class Sealer:                     # what kiosk.device.Device does, with this world's keys
        def stamp(self):
            now = format_time(utc_now())
            return SealStamp(kiosk_clock=now, header_created=now)

        def seal(self, _attempt, result, stamp):
            data = envelope.seal_envelope_bytes(
                result, attempt_id=attempt.attempt_id, centre_id=CENTRE_ID, kiosk_id=KIOSK_ID, form_id="F1",
                form_version=1, package_id="pkg-k", kiosk_signing_key=world.pki.kiosk, chain=world.pki.chain,
                results_public=world.pki.results.public_key(), created=parse_time(stamp.header_created))
            sha = envelope.envelope_hash(data)
            return Sealed(data, sha, receipt_code(sha))

    def deliver(_result, item):
        sealed.append(item)
        return item

    (tmp_path / "kiosk").mkdir()
    kiosk_db = open_kiosk_db(tmp_path / "kiosk")
    session = ExamSession(Journal(kiosk_db, attempt.attempt_id, os.urandom(32)), attempt, make_bundle(), Sealer(),
                          deliver)
    session.open()
    session.accept_agreement()
    session.begin()
    session.answer("Q01", "R1", "A")                      # changed later: only the last answer counts
    for item_id, value in ANSWERS.items():
        session.answer(item_id, "R1", value)
    session.submit()
    kiosk_db.conn.close()

    bank = bank_of(world.data_dir)
    results = results_of(world.data_dir)
    result = Intake(bank.engine, results.engine, world.keys, []).receive(sealed[0].envelope, CENTRE_ID)
    assert result.status == ACCEPTED, result.reason
    scores = dict(results.execute("SELECT item_id, score FROM response_scores").fetchall())
    assert scores == {"Q01": 1.0, "Q02": 1.0, "Q03": 1.0, "Q04": None, "Q05": 1.0, "Q06": 1.0, "Q07": 1.0,
                      "Q08": 2.0, "Q09": 2.0, "Q10": 1.0}
    row = results.execute("SELECT total, max_total, scoring_status, seat FROM attempts").fetchone()
    assert row == (11.0, 13.0, "awaiting_marking", "B2")
    assert results.execute("SELECT item_id FROM marking_tasks").fetchall() == [("Q04",)]
    times = json.loads(results.execute("SELECT item_time_json FROM attempts").fetchone()[0])
    assert set(times) <= set(KEYS)
    bank.conn.close()
    results.conn.close()
