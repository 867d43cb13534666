"""Recertification staff pages in real Chromium over a real HTTPS server: who falls due (paged) and
reminders that say how many went out and which were not sent and why, never twice; the CPD audit
(a seeded sample whose seed is shown and draws the same again, the queue, a record's evidence under
the sandbox CSP, the auditor's verdict; page and CLI write the same audit entries); a holder's
standing against the rule and the renewal, refused to a marker of the holder; axe-core on each page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.recertification import cpd
from item_bank_sync.registry import actors
from tests.support.body_pages import audit_entries, look
from tests.support.central_certificates import DECIDER, pass_attempt
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute
from tests.support.recert_pages import forged_post
from tests.support.recert_pages import held_fixture, staff_web_fixture  # noqa: F401 - this file's fixtures
from tests.support.recert_world import Held
from tests.support.registry_body import PDF

pytestmark = pytest.mark.timeout(300)


def ends(held: Held, certificate_id: str, when: str) -> None:
    execute(central_db(held.passed.world.data_dir).bank, "UPDATE certificates SET valid_until = ? "
            "WHERE certificate_id = ?", when, certificate_id)


def add(held: Held, category: str, credits: float, evidence: tuple[str, bytes] | None = None) -> str:
    return cpd.add(held.ctx, actors.candidate(held.person_id), held.cert.certificate_id, category=category,
                   credits=credits, activity_date=held.cert.valid_from[:10], description=f"{category} course",
                   evidence=evidence).record_id


def test_who_falls_due_and_reminders_once_saying_what_was_not_sent(held, staff_web, signed_in_page) -> None:
    ends(held, held.cert.certificate_id, format_time(utc_now() + timedelta(days=30)))
    pass_attempt(held.passed.world, "att-3")
    ended = held.passed.registry().issue("att-3", DECIDER).certificate_id
    ends(held, ended, "2026-01-01T00:00:00Z")                             # ended, not yet expired by decision
    rita = signed_in_page("rita", ("registrar",))
    rita.get_by_role("link", name="Falling due").click()
    table = rita.get_by_role("table", name="Certificates in force ending within 90 days, or already ended "
                                           "(2 in all, 1 to 2 shown)")
    expect(table.get_by_role("row", name=held.cert.certificate_id)).to_contain_text("training: 0 of 10 credits")
    assert look(rita, "recert-due") == []
    rita.get_by_label("Days ahead").fill("10")
    rita.get_by_role("button", name="Show").click()
    expect(rita.get_by_role("table", name="Certificates in force ending within 10 days, or already ended "
                                          "(1 in all, 1 to 1 shown)")).to_contain_text(ended)
    rita.get_by_label("Days ahead").fill("90")
    rita.get_by_role("button", name="Show").click()
    rita.get_by_role("button", name="Send reminders (90 days ahead)").click()
    statuses = rita.get_by_role("status")
    expect(statuses.first).to_contain_text("1 reminder(s) this run: 0 e-mailed, 1 kept for the portal")
    expect(statuses.nth(1)).to_contain_text(f"{ended} not reminded: its period has ended")
    assert look(rita, "recert-reminded") == []
    rita.get_by_role("button", name="Send reminders (90 days ahead)").click()
    expect(rita.get_by_role("status").first).to_contain_text("0 reminder(s) this run")
    expect(rita.get_by_text(f"{held.cert.certificate_id} not reminded: already reminded 90 days ahead")).to_be_visible()
    assert audit_entries(held.passed.world.data_dir, "recert.remind") == [
        {"actor": "rita", "data": {"within_days": 90, "certificates": [held.cert.certificate_id]}}]


def test_the_cpd_audit_sample_evidence_and_verdict_match_the_cli(held, staff_web, signed_in_page) -> None:
    training = add(held, "training", 12, ("attendance.pdf", PDF))
    practice = add(held, "practice", 8)
    aud = signed_in_page("aud", ("auditor",))
    aud.get_by_role("link", name="CPD audit").click()
    aud.get_by_label("Share of the records not yet sampled (percent)").fill("50")
    aud.get_by_label("Seed (leave empty for a random one; it is recorded and shown)").fill("seed-1")
    aud.get_by_role("button", name="Draw the sample").click()
    expect(aud.get_by_role("status")).to_contain_text("1 of 2 record(s) drawn with seed seed-1")
    drawn = cpd.draw("seed-1", [training, practice], 0.5)                # the same seed draws the same again
    table = aud.get_by_role("table", name="Sampled CPD records (1 in all, 1 to 1 shown)")
    expect(table.get_by_role("row", name=drawn[0])).to_contain_text("sampled")
    assert look(aud, "recert-audit") == []
    aud.get_by_role("link", name="Every sample drawn, with its seed").click()
    expect(aud.get_by_role("table", name="Samples drawn (1 in all, 1 to 1 shown)")).to_contain_text("seed-1")
    assert look(aud, "recert-samples") == []
    aud.go_back()
    Central(held.passed.world.data_dir).run("recert", "sample", "--share", "1", "--seed", "seed-2", "--by", "aud")
    aud.goto(f"{staff_web.url}/recertification/cpd/{training}")
    with aud.expect_download() as download:
        aud.get_by_role("link", name="attendance.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    answer = aud.request.get(f"{staff_web.url}/recertification/cpd/{training}/evidence")
    assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert answer.headers["content-disposition"].startswith("attachment")
    assert look(aud, "recert-record") == []
    aud.get_by_label("verified: the evidence supports the activity").check()
    aud.get_by_label("Reason (what was checked, or why it is rejected)").fill("certificate of attendance checked")
    aud.get_by_role("button", name="Record the verdict").click()
    expect(aud.locator("#audit-status")).to_contain_text("verified")
    result = Central(held.passed.world.data_dir).run("recert", "audit", practice, "--verdict", "rejected",
                                                     "--reason", "not professional practice", "--by", "aud")
    assert result.exit_code == 0, result.output
    data_dir = held.passed.world.data_dir
    assert audit_entries(data_dir, "cpd.audit") == [
        {"actor": "aud", "data": {"record_id": training, "verdict": "verified"}},
        {"actor": "aud", "data": {"record_id": practice, "verdict": "rejected"}}]
    page_draw, cli_draw = audit_entries(data_dir, "cpd.sample")
    assert page_draw["actor"] == cli_draw["actor"] == "aud" and page_draw["data"]["seed"] == "seed-1"
    assert sorted(page_draw["data"]) == sorted(cli_draw["data"])
    assert [e["data"]["record_id"] for e in audit_entries(data_dir, "cpd.evidence.read")] == [training, training]
    rita = signed_in_page("rita", ("registrar",))
    rita.goto(f"{staff_web.url}/recertification/cpd/{training}")
    expect(rita.get_by_role("button", name="Record the verdict")).to_have_count(0)
    assert forged_post(rita, f"/recertification/cpd/{training}/audit", {"verdict": "rejected", "reason": "x"})[0] == 403


def test_standing_against_the_rule_and_renewal_refused_to_a_marker(held, staff_web, signed_in_page) -> None:
    cid = held.cert.certificate_id
    dana = signed_in_page("dana", ("decision_maker",))
    dana.goto(f"{staff_web.url}/certificates/{cid}")
    dana.get_by_role("link", name="Recertification standing").click()
    expect(dana.locator("#verdict")).to_contain_text("practice: 0 of 5 credits; training: 0 of 10 credits")
    expect(dana.get_by_role("button", name="Renew the certificate")).to_have_count(0)
    add(held, "training", 12)
    add(held, "practice", 8)
    dana.reload()
    expect(dana.locator("#standing").get_by_role("row", name="training")).to_contain_text("12")
    expect(dana.locator("#verdict")).to_have_text("The holder meets the rules.")
    assert look(dana, "recert-standing") == []
    mia = signed_in_page("mia.marker", ("decision_maker",))
    mia.goto(dana.url)
    mia.get_by_role("button", name="Renew the certificate").click()
    expect(mia.get_by_role("alert")).to_contain_text("impartiality")
    dana.get_by_role("button", name="Renew the certificate").click()
    expect(dana.get_by_role("status")).to_contain_text(f"Certificate {cid} renewed until")
    expect(dana.get_by_role("table", name="Renewals (1)")).to_contain_text("dana")
    assert [e["actor"] for e in audit_entries(held.passed.world.data_dir, "recert.renew")] == ["dana"]
    assert held.passed.registry().get(cid).valid_until > held.cert.valid_until
