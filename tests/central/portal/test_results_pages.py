"""The portal after the exam (issue 17, items 1, 4 and 5), over a real public site process: a
result appears only once released, with its score report as a page and a PDF; an appeal against it
is lodged with the person's words and its status and messages follow; certificates link to the
public verification page; CPD is recorded with evidence and the renewal standing shown. Another
candidate gets 404 for every one of these records; every POST needs the CSRF token; the pages pass
axe-core in Chromium at 390x844 (screenshots in /tmp/invigil/shots/portal-results-*.png)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs, no py.typed
import pytest
import requests
import urllib3
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from exam_core.timestamps import utc_text
from item_bank_sync.cases import handling
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from item_bank_sync.forms.schemes import parse_scheme
from item_bank_sync.release.holds import release
from tests.support.portal_site import Inbox, Portal, confirmed, csrf_of
from tests.support.registry_body import photo_bytes
from tests.support.recert_world import CPD_RULES, SCHEME
from tests.support.central_db import audit_of, bank_of, central_db, execute
from tests.support.central_release import DECIDER, FAILED, PASSED, Results, results_world
from tests.support.ports import find_free_port
from tests.support.staff_web import SHOTS, axe_serious

urllib3.disable_warnings()
PHONE = {"width": 390, "height": 844}
ANN, BOB = "ann@example.org", "bob@example.org"


@dataclass
class World:
    """The site, the results behind it, and a signed-in client for each of two candidates."""

    portal: Portal
    results: Results
    ann: requests.Session
    bob: requests.Session

    def get(self, who: requests.Session, path: str) -> requests.Response:
        return who.get(f"{self.portal.url}/portal{path}", allow_redirects=False)

    def post(self, who: requests.Session, path: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        page = who.get(f"{self.portal.url}/portal/results")
        return who.post(f"{self.portal.url}/portal{path}", data={"csrf": csrf_of(page.text), **data},
                        allow_redirects=False, **kwargs)


def _link(data_dir: Path, email: str, candidate_id: str, attempt_id: str, n: int) -> None:
    """Book the portal person in as the attempt's candidate (as the sittings tests' rows are written)."""
    person = bank_of(data_dir).execute("SELECT person_id FROM persons WHERE email = ?", [email]).fetchone()[0]
    bank_of(data_dir)["bookings"].insert({
        "booking_id": f"B-000000000000000{n}", "session_id": "S-0000000000000001", "person_id": person,
        "application_id": f"A-000000000000000{n}", "candidate_id": candidate_id, "status": "booked", "seat": n,
        "queue_position": n, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
            candidate_id, attempt_id)


@pytest.fixture
def world(tmp_path: Path, live_server: Any) -> Iterator[World]:
    results = results_world(tmp_path / "central")
    data_dir = results.world.data_dir
    scheme = parse_scheme(SCHEME.format(rules=CPD_RULES, period=24).encode(), "s.yaml")
    execute(central_db(data_dir).bank, "UPDATE schemes SET title = ?, scheme_json = ? WHERE scheme_id = 'S1'",
            scheme.title, json.dumps(scheme.to_dict()))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=find_free_port())
    smtp.start()
    port = find_free_port()
    url = f"https://127.0.0.1:{port}"
    save_settings(results.ctx, IssuerSettings(public_url=url))
    live_server("item_bank_sync", "--data", str(data_dir), "public", "--port", "{port}", "--smtp-host", "127.0.0.1",
                "--smtp-port", str(smtp.port), "--mail-from", "portal@body.example", port=port)
    try:
        portal = Portal(url, None, inbox, str(data_dir / "tls" / "sync.crt"))
        ann, bob = confirmed(portal, ANN, given="Ann"), confirmed(portal, BOB, given="Bob")
        _link(data_dir, ANN, "C-0000000000000001", PASSED, 1)
        _link(data_dir, BOB, "C-0000000000000002", FAILED, 2)
        yield World(portal, results, ann, bob)
    finally:
        smtp.stop()
        results.ctx.close()


def _pdf_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def test_a_result_shows_only_once_released_and_only_to_its_candidate(world: World) -> None:
    assert "No result has been released" in world.get(world.ann, "/results").text
    assert world.get(world.ann, f"/results/{PASSED}").status_code == 404          # never before release
    assert world.get(world.ann, f"/results/{PASSED}/report.pdf").status_code == 404
    assert release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED).released == (PASSED,)
    listed = world.get(world.ann, "/results").text
    assert "pass" in listed and "the cut score is 5.5" in listed and f"/portal/results/{PASSED}" in listed
    page = world.get(world.ann, f"/results/{PASSED}")
    assert page.status_code == 200 and 'id="outcome">pass<' in page.text and "You can appeal until" in page.text
    pdf = world.get(world.ann, f"/results/{PASSED}/report.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "pass" in _pdf_text(pdf.content).lower()
    for path in (f"/results/{PASSED}", f"/results/{PASSED}/report.pdf", f"/results/{FAILED}"):
        assert world.get(world.bob, path).status_code == 404, path               # not Bob's / not released
    assert "No result has been released" in world.get(world.bob, "/results").text
    assert world.post(world.bob, f"/results/{PASSED}/appeal", {"summary": "not mine"}).status_code == 404


def test_an_appeal_is_lodged_with_the_persons_words_and_followed(world: World) -> None:
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED)
    no_token = world.ann.post(f"{world.portal.url}/portal/results/{PASSED}/appeal", data={"summary": "x"})
    assert no_token.status_code == 400
    empty = world.post(world.ann, f"/results/{PASSED}/appeal", {"summary": "  "})
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    done = world.post(world.ann, f"/results/{PASSED}/appeal", {"summary": "Question 1 had <b>two</b> keys"})
    assert done.status_code == 303
    case_path = done.headers["Location"].split("/portal", 1)[1]
    case_id = case_path.rsplit("/", 1)[1]
    case = handling.get(world.results.ctx, case_id)
    assert (case["kind"], case["category"], case["lodged_via"], case["attempt_id"]) == \
        ("appeal", "result", "portal", PASSED)
    page = world.get(world.ann, case_path).text
    assert 'id="status">lodged<' in page and "Question 1 had &lt;b&gt;two&lt;/b&gt; keys" in page
    handling.acknowledge(world.results.ctx, "Hana Handler", case_id)
    page = world.get(world.ann, case_path).text
    assert 'id="status">acknowledged<' in page and "will answer by" in page
    assert handling.messages_for(world.results.ctx, case["person"])[0]["subject"] in page
    assert case_id in world.get(world.ann, f"/results/{PASSED}").text
    assert world.get(world.bob, case_path).status_code == 404
    assert ("case.lodge" in [e.action for e in audit_of(world.results.world.data_dir).entries()])


def test_an_appeal_after_its_deadline_is_refused_with_the_deadline(world: World) -> None:
    """Only the body may hear a late appeal, for a reason it records (staff, ``--accept-late``)."""
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED)
    execute(central_db(world.results.world.data_dir).results,
            "UPDATE result_releases SET released_at = ? WHERE attempt_id = ?", "2020-01-01T00:00:00Z", PASSED)
    late = world.post(world.ann, f"/results/{PASSED}/appeal", {"summary": "I was ill."})
    assert late.status_code == 422 and 'role="alert"' in late.text
    assert "the deadline for appealing this result was 2020-01-" in late.text and "contact the body" in late.text
    assert handling.listing(world.results.ctx, "appeal") == []


def test_after_the_deadline_the_report_says_so_and_how_to_reach_the_body_in_chromium(world: World,
                                                                                     browser: Any) -> None:
    """No appeal form the service would refuse: the date the deadline passed, the body's name and
    address (its mail sender) and what to say; axe-core at 390 px."""
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED)
    execute(central_db(world.results.world.data_dir).results,
            "UPDATE result_releases SET released_at = ? WHERE attempt_id = ?", "2020-01-01T00:00:00Z", PASSED)
    page = _browser_as(browser, world, world.ann)
    page.goto(f"{world.portal.url}/portal/results/{PASSED}")
    section = page.get_by_role("region", name="Appeal this result")
    expect(section.locator("#appeal-closed")).to_contain_text(
        "The deadline to appeal this result passed on 31 January 2020")
    expect(section.get_by_role("textbox")).to_have_count(0)
    expect(section.get_by_role("button", name="Send my appeal")).to_have_count(0)
    expect(section.get_by_role("link", name="portal@body.example")).to_have_attribute(
        "href", "mailto:portal@body.example")
    expect(section.locator("#appeal-contact")).to_contain_text(PASSED)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]   # no sideways scrolling
    _checked(page, "report-appeal-closed")
    page.context.close()


def test_certificates_cpd_with_evidence_and_the_renewal_standing(world: World) -> None:
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED)
    cert = CertificateRegistry(world.results.ctx).issue(PASSED, DECIDER)
    listed = world.get(world.ann, "/certificates").text
    assert cert.certificate_id in listed and f"{world.portal.url}/verify/{cert.certificate_id}" in listed
    assert "You hold no certificate" in world.get(world.bob, "/certificates").text
    path = f"/certificates/{cert.certificate_id}/cpd"
    page = world.get(world.ann, path).text
    assert "You do not meet the renewal rules yet" in page and '<option value="training"' in page
    form = {"category": "training", "credits": "12", "activity_date": "2026-01-15", "description": "Wiring course"}
    done = world.post(world.ann, path, form, files={"document": ("cert.png", photo_bytes(), "image/png")})
    assert done.status_code == 303
    page = world.get(world.ann, path).text
    assert "Wiring course" in page and "cert.png" in page and "card record" in page
    found = re.search(r"/portal/cpd/([^/]+)/evidence", page)
    assert found, page
    record_id = found.group(1)
    document = world.get(world.ann, f"/cpd/{record_id}/evidence")
    assert document.status_code == 200 and document.content == photo_bytes()
    assert world.get(world.bob, f"/cpd/{record_id}/evidence").status_code == 404
    assert world.get(world.ann, "/cpd/not-an-id/evidence").status_code == 404
    assert "cpd.evidence.read" in [e.action for e in audit_of(world.results.world.data_dir).entries()]
    bad = world.post(world.ann, path, {**form, "category": "golf"})
    assert bad.status_code == 422 and "the scheme&#39;s CPD categories" in bad.text
    fake = world.post(world.ann, path, form, files={"document": ("x.pdf", b"MZ not a pdf", "application/pdf")})
    assert fake.status_code == 422
    assert world.get(world.bob, path).status_code == 404
    assert world.post(world.bob, path, form).status_code == 404


def _browser_as(browser: Any, world: World, who: requests.Session) -> Any:
    """A phone-sized tab signed in with ``who``'s session (CSP bypassed only so axe-core can be
    injected; the strict tab below checks the pages as served)."""
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True, viewport=PHONE)
    context.add_cookies([{"name": c.name, "value": c.value or "", "url": f"{world.portal.url}/portal/"}
                         for c in who.cookies])
    return context.new_page()


def _checked(page: Any, name: str) -> None:
    assert axe_serious(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-results-{name}.png"), full_page=True)


def test_the_pages_in_chromium_with_axe_and_the_keyboard(world: World, browser: Any) -> None:
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=PASSED)
    cert = CertificateRegistry(world.results.ctx).issue(PASSED, DECIDER)
    page = _browser_as(browser, world, world.ann)
    page.goto(f"{world.portal.url}/portal/results")
    _checked(page, "list")
    page.get_by_role("link", name="Score report for Electrical Safety Inspector", exact=True).click()
    expect(page.get_by_role("heading", name="Appeal this result")).to_be_visible()
    _checked(page, "report")
    for _ in range(40):                                   # keyboard only: Tab to the appeal, type, submit
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "summary":
            break
    page.keyboard.type("The essay mark seems low.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("lodged")
    _checked(page, "case")
    page.goto(f"{world.portal.url}/portal/certificates")
    _checked(page, "certificates")
    page.get_by_role("link", name=f"CPD and renewal for {cert.certificate_id}").click()
    page.get_by_label("Credits").fill("6")
    page.get_by_label("Date of the activity").fill("2026-02-01")
    page.get_by_label("What you did").fill("Site practice")
    page.get_by_role("button", name="Record this activity").click()
    expect(page.locator(".record")).to_have_count(1)
    _checked(page, "cpd")
    strict = browser.new_context(ignore_https_errors=True, viewport=PHONE)     # the CSP as served
    strict.add_cookies(page.context.cookies())
    real = strict.new_page()
    errors: list[str] = []
    real.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    served = real.goto(f"{world.portal.url}/portal/results/{PASSED}")
    policy = served.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert real.evaluate("document.querySelectorAll('script, [style]').length") == 0 and errors == []
    strict.close()
    page.context.close()


def test_a_failed_candidates_report_with_its_areas_in_chromium(world: World, browser: Any) -> None:
    release(world.results.ctx, "Rita Releaser", "results day", attempt_id=FAILED)
    page = _browser_as(browser, world, world.bob)
    page.goto(f"{world.portal.url}/portal/results/{FAILED}")
    expect(page.locator("#outcome")).to_have_text("fail")
    expect(page.get_by_role("region", name="Points per blueprint area")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Safety")).to_be_visible()
    _checked(page, "report-fail")
    page.context.close()


pytestmark = pytest.mark.timeout(300)
