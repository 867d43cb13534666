"""The ``recert`` commands through the real CLI (click's runner in-process): CPD recorded as the
holder and by a registrar with evidence, the sample and the auditor's verdict, status, a renewal
refused then decided, who falls due, reminders once; and the staff roles once accounts exist."""

from __future__ import annotations

from item_bank_sync.staff.accounts import StaffBook
from tests.support.recert_world import holder_world
from tests.support.central_certificates import DECIDER, PROCTOR
from tests.support.central_cli import Central

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_cpd_sample_audit_status_renew_due_and_remind(tmp_path):
    held = holder_world(tmp_path, period=1)
    cid, data_dir, pid = held.cert.certificate_id, held.ctx.data_dir, held.person_id
    held.ctx.close()
    cli, today = Central(data_dir), held.cert.valid_from[:10]
    evidence = tmp_path / "course.pdf"
    evidence.write_bytes(PDF)
    first = cli.json("recert", "cpd", "add", cid, "--as-person", pid, "--category", "training", "--credits", "12",
                     "--date", today, "--description", "Regulations course", "--evidence", evidence)
    assert first["evidence_media_type"] == "application/pdf" and "evidence_sealed" not in first
    assert "category" in cli.json("recert", "cpd", "add", cid, "--by", "Rita", "--category", "golf", "--credits",
                                  "1", "--date", today, "--description", "x", code=1)["error"]
    refused = cli.json("recert", "renew", cid, "--by", DECIDER, code=1)
    assert "practice: 0 of 5 credits" in refused["error"]
    cli.json("recert", "cpd", "add", cid, "--by", "Rita", "--category", "practice", "--credits", "8",
             "--date", today, "--description", "Inspections on site")
    assert [r["credits"] for r in cli.json("recert", "cpd", "list", cid, "--by", "Rita")] == [12.0, 8.0]
    drawn = cli.json("recert", "sample", "--share", "0.5", "--seed", "q4", "--by", "Aud")
    assert drawn["population"] == 2 and len(drawn["drawn"]) == 1
    assert cli.json("recert", "status", cid)["awaiting_audit"] > 0
    out = tmp_path / "seen.pdf"
    opened = cli.json("recert", "cpd", "evidence", first["record_id"], "--out", out, "--by", "Aud")
    assert out.read_bytes() == PDF and opened["sha256"] == first["evidence_sha256"]
    assert cli.json("recert", "cpd", "evidence", first["record_id"], "--out", out, "--by", "Aud", code=1)["error"]
    assert cli.json("recert", "audit", drawn["drawn"][0], "--verdict", "verified", "--reason", "receipt seen",
                    "--by", "Aud")["audit_status"] == "verified"
    assert cli.json("recert", "status", cid)["assessment"]["met"] is True
    [item] = cli.json("recert", "due", "--within", "40")
    assert item["certificate_id"] == cid and item["ready"] is True
    assert cli.json("recert", "remind", "--within", "40", "--by", "Rita")[0]["channel"] == "portal"
    assert cli.json("recert", "remind", "--within", "40", "--by", "Rita") == []
    assert "impartiality" in cli.json("recert", "renew", cid, "--by", PROCTOR, code=1)["error"]
    renewed = cli.json("recert", "renew", cid, "--by", DECIDER)
    assert renewed["new_valid_until"] > renewed["previous_valid_until"]
    assert cli.json("recert", "due", "--within", "40") == []
    assert [h["action"] for h in cli.json("certificates", "show", cid)["history"]] == ["issue", "renew"]


def test_once_the_body_has_staff_accounts_only_the_duties_roles_act(tmp_path):
    held = holder_world(tmp_path)
    cid = held.cert.certificate_id
    book = StaffBook(held.ctx)
    book.add("rex.registrar", "a long enough password 1", ["registrar"], "test-setup")
    book.add("dee.decider", "a long enough password 2", ["decision_maker"], "test-setup")
    held.ctx.close()
    cli = Central(held.ctx.data_dir)
    assert "role" in cli.json("recert", "renew", cid, "--by", "rex.registrar", code=1)["error"]
    assert "role" in cli.json("recert", "sample", "--share", "0.1", "--by", "rex.registrar", code=1)["error"]
    assert "total: 0 of 20" in cli.json("recert", "renew", cid, "--by", "dee.decider", code=1)["error"]
