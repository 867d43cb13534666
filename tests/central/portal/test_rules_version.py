"""The version of the body's rules a candidate accepts comes from the body's settings (``body
rules-version``, an administrator's audited action): an application records the version in force,
and a candidate who accepted an older one is told the rules changed and accepts the new one at their
next application."""

from __future__ import annotations

import requests
import urllib3

from item_bank_sync.registry import applications, persons
from tests.support.central_db import audit_of
from tests.support.portal_site import Portal, confirmed, csrf_of
from tests.support.registry_body import REGISTRAR, SCHEME_ID

urllib3.disable_warnings()


def _apply(portal: Portal, http: requests.Session) -> str:
    """Send an application with the agreement accepted; the page shown before sending."""
    url = f"{portal.url}/portal/apply/{SCHEME_ID}/1"
    page = http.get(url).text
    sent = http.post(url, data={"csrf": csrf_of(page), "accept": "yes",
                                "education_level": "master", "experience_months": "30"})
    assert sent.status_code == 200 and "Application sent" in sent.text, sent.text[:800]
    return page


def test_a_new_rules_version_is_recorded_and_asked_for_again(portal: Portal) -> None:
    http = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    first = _apply(portal, http)
    assert "version 1" in first and "rules-changed" not in first
    assert portal.body.central.json("body", "rules-version", "2026-2", "--by", "ada") == {"rules_version": "2026-2"}
    assert portal.body.central.json("body", "show")["rules_version"] == "2026-2"
    (entry,) = [e for e in audit_of(portal.body.ctx.data_dir).entries() if e.action == "body.rules-version"]
    assert entry.actor == "ada" and entry.data == {"rules_version": "2026-2", "previous": "1"}
    applications.decide(portal.body.ctx, REGISTRAR,
                        applications.list_applications(portal.body.ctx, REGISTRAR, person_id=person.person_id)[0]
                        .application_id, accept=False, reasons="a test of the next application")
    second = _apply(portal, http)
    assert 'id="rules-changed"' in second and "you accepted version 1" in second and "version 2026-2" in second
    versions = [a.agreement["body_rules_version"]
                for a in applications.list_applications(portal.body.ctx, REGISTRAR, person_id=person.person_id)]
    assert versions == ["1", "2026-2"]
    assert "rules-changed" not in http.get(f"{portal.url}/portal/apply/{SCHEME_ID}/1").text


def test_a_rules_version_that_is_not_one_is_refused(portal: Portal) -> None:
    refused = portal.body.central.json("body", "rules-version", "two words", "--by", "ada", code=1)
    assert "rules_version" in str(refused)
    assert portal.body.central.json("body", "show")["rules_version"] == "1"
