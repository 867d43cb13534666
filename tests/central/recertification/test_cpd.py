"""CPD records: checked at the boundary, evidence sealed at rest and opened only for the holder and
the readers (each read audited), and the audit sample: seeded, recorded, reproducible."""

from __future__ import annotations

import hashlib

import pytest

from item_bank_sync.recertification import cpd
from item_bank_sync.registry import actors
from item_bank_sync.registry.errors import Forbidden, Refused
from tests.support.central_db import audit_of, central_db, value

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"attended: wiring regulations course" * 20
AUDITOR = actors.staff("Aud Itor", actors.AUDITOR)


def record(held, **changes):
    args = {"category": "training", "credits": 3.5, "activity_date": held.cert.valid_from[:10],
            "description": "Regulations update course", **changes}
    return cpd.add(held.ctx, actors.candidate(held.person_id), held.cert.certificate_id, **args)


def test_the_holder_records_cpd_with_evidence_sealed_at_rest(held):
    rec = record(held, evidence=("course.pdf", PDF))
    assert (rec.category, rec.credits, rec.audit_status) == ("training", 3.5, "recorded")
    assert rec.evidence_media_type == "application/pdf" and rec.evidence_sha256 == hashlib.sha256(PDF).hexdigest()
    sealed = value(central_db(held.passed.world.data_dir).bank,
                   "SELECT evidence_sealed FROM cpd_records WHERE record_id = ?", rec.record_id)
    assert b"wiring regulations" not in bytes(sealed) and len(sealed) > len(PDF)
    doc, data = cpd.evidence(held.ctx, actors.candidate(held.person_id), rec.record_id)
    assert data == PDF and doc.record_id == rec.record_id
    assert cpd.evidence(held.ctx, AUDITOR, rec.record_id)[1] == PDF
    with pytest.raises(Forbidden):
        cpd.evidence(held.ctx, actors.staff("Mo Marker", "marker"), rec.record_id)
    with pytest.raises(Forbidden):
        cpd.evidence(held.ctx, actors.candidate("P-0000000000000009"), rec.record_id)
    reads = [e for e in audit_of(held.passed.world.data_dir).entries() if e.action == "cpd.evidence.read"]
    assert len(reads) == 2
    assert [r.record_id for r in cpd.list_for(held.ctx, actors.candidate(held.person_id),
                                              held.cert.certificate_id)] == [rec.record_id]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"category": "hobby"}, "one of practice, training"),
    ({"credits": 0}, "credits"),
    ({"credits": float("nan")}, "credits"),
    ({"credits": True}, "credits"),
    ({"activity_date": "2999-01-01"}, "future"),
    ({"activity_date": "01/02/2026"}, "YYYY-MM-DD"),
    ({"description": "  "}, "description"),
    ({"description": "x\x00y"}, "control"),
    ({"evidence": ("page.html", b"<html><script>alert(1)</script>")}, "PDF, PNG or JPEG"),
])
def test_bad_input_is_refused_at_the_boundary(held, changes, problem):
    with pytest.raises(Refused, match=problem):
        record(held, **changes)


def test_only_the_holder_or_a_registrar_records_and_an_auditor_audits(held):
    with pytest.raises(Forbidden):
        cpd.add(held.ctx, actors.staff("Mo Marker", "marker"), held.cert.certificate_id, category="training",
                credits=1, activity_date=held.cert.valid_from[:10], description="x")
    rec = cpd.add(held.ctx, actors.staff("Rita", actors.REGISTRAR), held.cert.certificate_id, category="practice",
                  credits=2, activity_date=held.cert.valid_from[:10], description="site work")
    with pytest.raises(Refused, match="only a sampled record"):
        cpd.audit(held.ctx, AUDITOR, rec.record_id, "verified", "ok")
    with pytest.raises(Forbidden):
        cpd.sample(held.ctx, actors.staff("Rita", actors.REGISTRAR), 0.5)
    cpd.sample(held.ctx, AUDITOR, 1.0)
    with pytest.raises(Forbidden):
        cpd.audit(held.ctx, actors.staff("Rita", actors.REGISTRAR), rec.record_id, "verified", "ok")
    with pytest.raises(Refused, match="reason"):
        cpd.audit(held.ctx, AUDITOR, rec.record_id, "rejected", "")
    done = cpd.audit(held.ctx, AUDITOR, rec.record_id, "rejected", "no evidence of the site work")
    assert (done.audit_status, done.audited_by, done.audit_reason) == ("rejected", "Aud Itor",
                                                                        "no evidence of the site work")


def test_the_draw_is_reproducible_from_its_seed_and_population():
    population = [f"K-{i:016x}" for i in range(200)]
    first = cpd.draw("seed-2026", population, 0.1)
    assert len(first) == 20 and first == cpd.draw("seed-2026", list(reversed(population)), 0.1)
    assert first != cpd.draw("seed-2027", population, 0.1)
    assert cpd.draw("s", population[:3], 0.1) == cpd.draw("s", population[:3], 0.1) and \
        len(cpd.draw("s", population[:3], 0.1)) == 1                  # a share of a few still draws one
    assert cpd.draw("s", [], 0.5) == []


def test_a_sample_is_recorded_drawn_once_and_drawn_again_from_its_record(held):
    for n in range(10):
        record(held, description=f"activity {n}")
    ids = sorted(r.record_id for r in cpd.records_of(held.ctx, held.cert.certificate_id))
    sample = cpd.sample(held.ctx, AUDITOR, 0.3, seed="audit-2026-q4")
    assert (sample.population, sample.seed, len(sample.drawn)) == (10, "audit-2026-q4", 3)
    statuses = {r.record_id: r.audit_status for r in cpd.records_of(held.ctx, held.cert.certificate_id)}
    assert {i for i, s in statuses.items() if s == "sampled"} == set(sample.drawn)
    entry = next(e for e in audit_of(held.passed.world.data_dir).entries() if e.action == "cpd.sample")
    assert entry.data["drawn"] == sample.drawn and entry.data["seed"] == "audit-2026-q4"
    assert cpd.draw("audit-2026-q4", ids, 0.3) == sample.drawn          # anyone can draw it again
    again = cpd.sample(held.ctx, AUDITOR, 0.3, seed="audit-2026-q4")
    assert again.population == 7 and not set(again.drawn) & set(sample.drawn)   # never drawn twice
    assert again.drawn == cpd.draw("audit-2026-q4", sorted(set(ids) - set(sample.drawn)), 0.3)
