"""Hostile requests to the staff application: headers and CSP, no inline script or style, CSRF
missing or forged, bodies too large before sign-in, a role reaching a page it may not see, the
auditor's POSTs, and markup in every text field shown as text."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from item_bank_sync.db.sql import fetch_all
from item_bank_sync.staff.schema import staff_sessions

from tests.support.staff_web import sign_in

MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b>bold</b>'
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


_CERT: list[str] = []


@pytest.fixture(autouse=True)
def _trust_the_body(staff_web):
    """Requests trust the body's own self-signed certificate (its SAN names 127.0.0.1)."""
    _CERT[:] = [str(staff_web.ctx.data_dir / "tls" / "sync.crt")]


def _client() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = _CERT[0]
    return session


def _csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_every_answer_carries_the_security_headers(staff_web):
    answer = _client().get(f"{staff_web.url}/signin")
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_no_page_has_inline_script_or_style(browser, staff_web, staff_member):
    page = sign_in(browser, staff_web, staff_member("alice", "admin"))
    for path in ("/home", "/admin/staff", "/admin/staff/alice", "/audit", "/audit/verify", "/account", "/nowhere"):
        page.goto(f"{staff_web.url}{path}")
        assert not INLINE.search(page.content()), path
    page.context.close()


def test_a_post_without_or_with_a_forged_csrf_token_is_refused(staff_web, staff_member):
    staff_member("alice", "admin")
    client = _client()
    token = _csrf_of(client.get(f"{staff_web.url}/signin").text)
    form = {"name": "alice", "password": "correct horse battery"}
    assert client.post(f"{staff_web.url}/signin", data=form, allow_redirects=False).status_code == 400
    forged = {**form, "csrf": token[:-2] + ("AA" if not token.endswith("AA") else "BB")}
    assert client.post(f"{staff_web.url}/signin", data=forged, allow_redirects=False).status_code == 400
    other = _client()  # a token from another session is worth nothing here
    other_token = _csrf_of(other.get(f"{staff_web.url}/signin").text)
    assert client.post(f"{staff_web.url}/signin", data={**form, "csrf": other_token},
                       allow_redirects=False).status_code == 400
    accepted = client.post(f"{staff_web.url}/signin", data={**form, "csrf": token}, allow_redirects=False)
    assert accepted.status_code == 302


def test_a_signed_in_post_without_the_token_is_refused(browser, staff_web, staff_member):
    page = sign_in(browser, staff_web, staff_member("alice", "admin"))
    answer = page.request.post(f"{staff_web.url}/admin/staff", form={"name": "mallory", "password": "x" * 12,
                                                                     "role": "admin"})
    assert answer.status == 400 and staff_web.book.get("mallory") is None
    page.context.close()


def test_a_large_body_before_sign_in_is_refused_unread(staff_web):
    client = _client()
    token = _csrf_of(client.get(f"{staff_web.url}/signin").text)
    answer = client.post(f"{staff_web.url}/signin", data={"csrf": token, "name": "a", "password": "p" * 100_000})
    assert answer.status_code == 413


def test_a_role_reaching_a_page_it_may_not_see_gets_403(browser, staff_web, staff_member):
    page = sign_in(browser, staff_web, staff_member("mark", "marker"))
    answer = page.goto(f"{staff_web.url}/admin/staff")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)  # not offered in the navigation either
    page.context.close()


def test_signed_out_pages_send_to_sign_in(staff_web):
    for path in ("/home", "/admin/staff", "/audit", "/account"):
        answer = _client().get(f"{staff_web.url}{path}", allow_redirects=False)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/signin"), path


def test_the_auditor_sees_everything_and_every_post_is_refused(browser, staff_web, staff_member):
    staff_member("alice", "admin")
    staff_member("bob", "marker")
    page = sign_in(browser, staff_web, staff_member("audrey", "auditor"))
    for path, heading in (("/admin/staff", "Staff accounts"), ("/admin/staff/bob", "Staff account bob"),
                          ("/audit", "Audit chain")):
        page.goto(f"{staff_web.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("button", name="Disable bob")).to_have_count(0)
    token = _csrf_of(page.content())
    posts = [("/admin/staff", {"name": "eve", "password": "x" * 12, "role": "admin"}),
             ("/admin/staff/bob/disable", {}), ("/admin/staff/bob/grant", {"role": "admin"}),
             ("/admin/staff/bob/reset-password", {"password": "y" * 12})]
    for path, form in posts:
        answer = page.request.post(f"{staff_web.url}{path}", form={**form, "csrf": token})
        assert answer.status == 403, path
    assert staff_web.book.get("eve") is None and staff_web.book.get("bob").enabled
    assert staff_web.book.get("bob").roles == {"marker"}
    page.context.close()


@pytest.mark.parametrize("where", ["audit entry", "filter", "sign-in name"])
def test_markup_in_text_fields_is_shown_as_text(browser, staff_web, staff_member, where):
    staff_web.ctx.audit_log().append(MARKUP, "test.markup", {"note": MARKUP})
    page = sign_in(browser, staff_web, staff_member("alice", "admin"))
    if where == "audit entry":
        page.goto(f"{staff_web.url}/audit")
        expect(page.locator("table.data").first).to_contain_text('<b>bold</b>')
    elif where == "filter":
        page.goto(f"{staff_web.url}/audit")
        page.get_by_label("Who").fill(MARKUP)
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_label("Who")).to_have_value(MARKUP[:200])
    else:
        other = browser.new_context(ignore_https_errors=True).new_page()
        other.goto(f"{staff_web.url}/signin")
        other.get_by_label("Name").fill(MARKUP)
        other.get_by_label("Password").fill("whatever it is")
        other.get_by_role("button", name="Continue").click()
        assert other.evaluate("window.__pwned") is None and other.locator("b").count() == 0
        other.context.close()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main b").count() == 0 and page.locator("main img[src=x]").count() == 0
    page.context.close()


def test_the_real_client_address_is_counted_and_a_forged_peer_header_changes_nothing(staff_web, staff_member):
    """Behind the TLS front waitress sees no client address; the front writes it (with a secret),
    so the sign-in's session rows and back-off name 127.0.0.1, whatever header the client sends."""
    alice = staff_member("alice", "admin")
    client = _client()
    token = _csrf_of(client.get(f"{staff_web.url}/signin").text)
    forged = {"X-Invigil-Peer": "guess 10.9.8.7", "X-Forwarded-For": "10.9.8.7"}
    answer = client.post(f"{staff_web.url}/signin", headers=forged, allow_redirects=False,
                         data={"csrf": token, "name": "alice", "password": alice.password})
    assert answer.status_code == 302
    assert [r[0] for r in fetch_all(staff_web.book.engine, select(staff_sessions.c.address))] == ["127.0.0.1"]
