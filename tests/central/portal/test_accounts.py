"""Registration, confirmation and sign-in over HTTPS against the real public process, mail through a
real SMTP server: the link works once, no answer or mail tells a known address from an unknown one,
the person is made by the registry's own function, CSRF and the second factor are enforced."""

from __future__ import annotations

import re
import time

import pytest
import urllib3

from item_bank_sync.portal import accounts
from item_bank_sync.registry import actors, conflicts, persons
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden
from tests.support.portal_site import (PASSWORD, Portal, body_text, confirmed, csrf_of, link_in, register,
                                           totp_now)
from tests.support.registry_body import REGISTRAR
from tests.support.central_db import audit_of

urllib3.disable_warnings()


def _without_token(html: str) -> str:
    """A page with its CSRF token (random per session) taken out, to compare two answers."""
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


def test_register_confirm_once_and_sign_in(portal: Portal) -> None:
    http = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    assert (person.given_name, person.date_of_birth) == ("Cara", "1990-05-01")
    assert [e.action for e in audit_of(portal.body.central.data_dir).entries()
            if e.action in ("person.add", "portal.register")] == ["person.add", "portal.register"]
    link = link_in(portal.inbox.to("cara@example.org")[0])
    again = portal.client()
    page = again.get(link)
    assert again.post(link, data={"csrf": csrf_of(page.text)}).status_code == 400      # single use
    token = csrf_of(http.get(f"{portal.url}/portal/").text)
    signed_out = http.post(f"{portal.url}/portal/signout", data={"csrf": token})
    assert "Sign in" in signed_out.text
    assert http.get(f"{portal.url}/portal/", allow_redirects=False).status_code == 302
    page = http.get(f"{portal.url}/portal/signin")
    signed = http.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": "CARA@example.org",
                                                            "password": PASSWORD})
    assert "My applications" in signed.text


def test_no_account_enumeration(portal: Portal) -> None:
    """A known and an unknown address get the same page, status and one mail each; sign-in failures
    read the same; timing of the two registrations is alike (both hash the password, both mail)."""
    confirmed(portal, "known@example.org")
    persons.add(portal.body.ctx, REGISTRAR, given_name="Reg", family_name="Istered", email="staffmade@example.org")
    answers, times = [], []
    for email in ("known@example.org", "new@example.org", "staffmade@example.org"):
        http = portal.client()
        start = time.perf_counter()
        answer = register(portal, http, email)
        times.append(time.perf_counter() - start)
        answers.append((answer.status_code, _without_token(answer.text)))
    assert answers[0] == answers[1] == answers[2]
    assert "already" not in answers[0][1]
    assert max(times) < 3 * min(times) + 0.5
    known = portal.inbox.to("known@example.org", count=2)
    assert len(known) == 2 and "already has an account" in body_text(known[-1])
    assert "/portal/confirm/" in body_text(portal.inbox.to("new@example.org")[0])
    # an address a registrar registered: the link makes the account of that very person
    http = portal.client()
    link = link_in(portal.inbox.to("staffmade@example.org")[0])
    http.post(link, data={"csrf": csrf_of(http.get(link).text)})
    assert len(persons.list_persons(portal.body.ctx, REGISTRAR, email="staffmade@example.org")) == 1
    failures = []
    for email, password in (("known@example.org", "wrong password!"), ("nobody@example.org", "wrong password!")):
        http = portal.client()
        page = http.get(f"{portal.url}/portal/signin")
        answer = http.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": email,
                                                                "password": password})
        failures.append((answer.status_code, _without_token(answer.text)))
    assert failures[0] == failures[1] and failures[0][0] == 401


def test_csrf_rate_limits_and_hostile_links(portal: Portal) -> None:
    http = portal.client()
    assert http.post(f"{portal.url}/portal/signin", data={"email": "a@example.org", "password": "x"}).status_code == 400
    forged = http.get(f"{portal.url}/portal/confirm/not-a-link")
    assert forged.status_code == 200
    assert http.post(f"{portal.url}/portal/confirm/not-a-link", data={"csrf": csrf_of(forged.text)}).status_code == 400
    page = http.get(f"{portal.url}/portal/signin")
    codes = [http.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": f"x{i}@example.org",
                                                            "password": "wrong password!"}).status_code
             for i in range(12)]
    assert codes[:9] == [401] * 9 and codes[-1] == 429    # 10 tries a minute per address (the confirm was one)
    response = http.get(f"{portal.url}/portal/signin")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "'unsafe-inline'" not in csp and "default-src 'none'" in csp
    cookie = portal.client().get(f"{portal.url}/portal/register").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie


def test_second_factor_offered_then_required(portal: Portal) -> None:
    http = confirmed(portal, "tia@example.org")
    page = http.get(f"{portal.url}/portal/security")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    enrolment_code = totp_now(secret)
    on = http.post(f"{portal.url}/portal/security", data={"csrf": csrf_of(page.text), "code": enrolment_code})
    assert "Second factor on" in on.text
    fresh = portal.client()
    page = fresh.get(f"{portal.url}/portal/signin")
    step = fresh.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": "tia@example.org",
                                                           "password": PASSWORD})
    assert "authenticator app" in step.text
    assert fresh.get(f"{portal.url}/portal/", allow_redirects=False).status_code == 302   # not signed in yet
    # the code enrolment used is refused a second time (kept, not recomputed: the 30 s step may have turned)
    wrong = fresh.post(f"{portal.url}/portal/signin/code", data={"csrf": csrf_of(step.text), "code": enrolment_code})
    assert wrong.status_code == 401
    time.sleep(max(0.0, 30.5 - time.time() % 30))
    done = fresh.post(f"{portal.url}/portal/signin/code", data={"csrf": csrf_of(wrong.text), "code": totp_now(secret)})
    assert "My applications" in done.text
    # a lost phone: a registrar turns the second factor off (a marker may not); the password alone then signs in
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="tia@example.org")
    with pytest.raises(Forbidden):
        accounts.reset_second_factor(portal.body.ctx, actors.staff("mark", "marker"), person.person_id, "lost phone")
    related = actors.staff("ria", "registrar")
    conflicts.declare(portal.body.ctx, related, person_id=person.person_id, relationship="relative")
    with pytest.raises(ConflictOfInterest):     # a registrar related to the candidate is refused
        accounts.reset_second_factor(portal.body.ctx, related, person.person_id, "my cousin lost her phone")
    assert accounts.reset_second_factor(portal.body.ctx, REGISTRAR, person.person_id, "passport seen at the desk")
    assert fresh.get(f"{portal.url}/portal/", allow_redirects=False).status_code == 302   # its sessions ended
    page = fresh.get(f"{portal.url}/portal/signin")
    again = fresh.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": "tia@example.org",
                                                            "password": PASSWORD})
    assert "My applications" in again.text


def test_password_reset_by_mailed_link_once_without_enumeration(portal: Portal) -> None:
    """Known and unknown addresses get the same page and one mail each; the link sets a new password
    once (a weak one refused without using it up) and signs out every other browser."""
    other_browser = confirmed(portal, "cara@example.org")
    answers = []
    for email in ("cara@example.org", "nobody@example.org"):
        http = portal.client()
        page = http.get(f"{portal.url}/portal/reset")
        answer = http.post(f"{portal.url}/portal/reset", data={"csrf": csrf_of(page.text), "email": email})
        answers.append((answer.status_code, _without_token(answer.text)))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert "there is none" in body_text(portal.inbox.to("nobody@example.org")[0])
    mail = body_text(portal.inbox.to("cara@example.org", count=2)[-1])
    link = re.search(r"https://\S+/portal/reset/\S+", mail).group(0)
    http = portal.client()
    form = http.get(link)
    weak = http.post(link, data={"csrf": csrf_of(form.text), "password": "short"})
    assert weak.status_code == 400 and "at least 10" in weak.text
    done = http.post(link, data={"csrf": csrf_of(weak.text), "password": "a brand new passphrase"})
    assert "Password changed" in done.text
    again = portal.client()
    assert again.post(link, data={"csrf": csrf_of(again.get(link).text), "password": "another passphrase!"}
                      ).status_code == 400
    assert other_browser.get(f"{portal.url}/portal/", allow_redirects=False).status_code == 302
    page = http.get(f"{portal.url}/portal/signin")
    old = http.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(page.text), "email": "cara@example.org",
                                                         "password": PASSWORD})
    assert old.status_code == 401
    new = http.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(old.text), "email": "cara@example.org",
                                                         "password": "a brand new passphrase"})
    assert "My applications" in new.text
    assert "portal.password_reset" in [e.action for e in audit_of(portal.body.central.data_dir).entries()]
