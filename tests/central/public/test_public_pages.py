"""The public pages in real Chromium (headless, /usr/bin/chromium) against the site over HTTPS:
axe-core finds no serious or critical violation on any page, a keyboard alone verifies a
certificate, and a phone-sized screen needs no sideways scrolling."""

from __future__ import annotations

import pytest

from tests.support.public_site import Site
from tests.support.kiosk_pages import AXE

pytestmark = pytest.mark.browser


def serious_violations(page) -> list[dict]:
    # axe-core is injected as a script, which the site's CSP (no script at all) rightly refuses;
    # the context bypasses CSP for the scan only.
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]]} for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_every_page_passes_axe_and_a_keyboard_verifies_a_certificate(browser, site: Site):
    context = browser.new_context(bypass_csp=True, ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        found = {}
        for path in ("/", f"/verify/{site.cert.certificate_id}", "/verify/IC-AAAA-AAAA-AAAA-AAAA",
                     "/search?name=Ada+Lovelace", "/search?name=Nobody+Known", "/verify?id=nonsense", "/nowhere"):
            page.goto(site.url + path)
            found[path] = serious_violations(page)
        assert {path: v for path, v in found.items() if v} == {}
        page.goto(site.url + "/")
        page.keyboard.press("Tab")            # the header link
        page.keyboard.press("Tab")            # the certificate id field
        assert page.evaluate("document.activeElement.id") == "id"
        page.keyboard.type(site.cert.certificate_id.lower())
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=f"Certificate {site.cert.certificate_id}").wait_for()
        assert page.get_by_role("status").inner_text() == "Valid"
    finally:
        context.close()


def test_readable_on_a_phone(browser, site: Site):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 360, "height": 740},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for path in ("/", f"/verify/{site.cert.certificate_id}"):
            page.goto(site.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('dd')).fontSize)")
        assert font >= 16
    finally:
        context.close()
