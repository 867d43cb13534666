"""Body limits by sender on the real listener: a stranger may send a form's worth, a signed-in person
an evidence document; a document over the evidence limit (but inside the body limit) is refused by the
evidence service with its reason; a larger body is refused before any view reads it."""

from __future__ import annotations

import requests
import urllib3

from item_bank_sync.registry import applications, evidence, persons
from tests.support.portal_site import Portal, confirmed, csrf_of
from tests.support.registry_body import PDF, REGISTRAR, SCHEME_ID

urllib3.disable_warnings()


def _refused(call) -> int:
    """The status of a refused upload (0 when the front closed the connection instead of answering)."""
    try:
        return int(call().status_code)
    except requests.ConnectionError:
        return 0


def test_upload_limits_by_sender(portal: Portal) -> None:
    http = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    app = applications.submit(portal.body.ctx, REGISTRAR, person_id=person.person_id, scheme_id=SCHEME_ID,
                              scheme_version=1, answers={}, accept_code_of_conduct=True, body_rules_version="1")
    url = f"{portal.url}/portal/applications/{app.application_id}/evidence"
    token = csrf_of(http.get(f"{portal.url}/portal/").text)
    over_evidence = PDF + b"0" * evidence.MAX_BYTES
    answer = http.post(url, data={"csrf": token}, files={"document": ("big.pdf", over_evidence)})
    assert answer.status_code == 422 and "larger than 10 MiB" in answer.text
    assert _refused(lambda: http.post(url, data={"csrf": token},
                                      files={"document": ("huge.pdf", PDF + b"0" * (12 * 1024 * 1024))})) in (0, 413)
    stranger = portal.client()
    page = stranger.get(f"{portal.url}/portal/signin")
    assert _refused(lambda: stranger.post(f"{portal.url}/portal/signin",
                                          data={"csrf": csrf_of(page.text), "email": "x" * 100_000})) in (0, 413)
    ok = http.post(url, data={"csrf": token}, files={"document": ("fine.pdf", PDF)})
    assert ok.status_code == 200 and "Document added" in ok.text
    assert [d.filename for d in evidence.list_for(portal.body.ctx, REGISTRAR, evidence.APPLICATION,
                                                  app.application_id)] == ["fine.pdf"]


def test_appeal_against_a_refusal_once(portal: Portal) -> None:
    """A refused applicant lodges an appeal from their page (``applications appeal``'s function and
    audit entry); a second one, or one by another candidate, is refused."""
    http = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    app = applications.submit(portal.body.ctx, REGISTRAR, person_id=person.person_id, scheme_id=SCHEME_ID,
                              scheme_version=1, answers={}, accept_code_of_conduct=True, body_rules_version="1")
    applications.decide(portal.body.ctx, REGISTRAR, app.application_id, accept=False, reasons="no experience")
    eve = confirmed(portal, "eve@example.org", given="Eve")
    url = f"{portal.url}/portal/applications/{app.application_id}/appeal"
    assert eve.post(url, data={"csrf": csrf_of(eve.get(f"{portal.url}/portal/").text)}).status_code == 404
    home = http.get(f"{portal.url}/portal/").text
    assert "no experience" in home and "Lodge an appeal" in home
    done = http.post(url, data={"csrf": csrf_of(home), "note": "I have 30 months"})
    assert done.status_code == 200 and "Appeal recorded" in done.text
    assert applications.show(portal.body.ctx, REGISTRAR, app.application_id).appeal_note == "I have 30 months"
    assert http.post(url, data={"csrf": csrf_of(home)}).status_code == 422
    assert "Lodge an appeal" not in http.get(f"{portal.url}/portal/").text
