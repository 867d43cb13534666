"""Certificate staff pages in real Chromium over a real HTTPS server, with the public site as a real
process over the same body: find a certificate by name and e-mail (paged), its page with history
and downloads (the credential verifies with PyJWT, the PDF is a PDF); a suspension done with the
keyboard alone, then restore, reduce scope and withdraw, each shown by the public site's
verification JSON at the next request; the page's audit entry is the CLI's; the proctor, a marker
and a declared conflict are refused (told before the forms, and refused by the service on a forged
POST); axe-core on each page."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from playwright.sync_api import expect

from item_bank_sync.registry import actors, conflicts
from tests.support.body_pages import audit_entries, look
from tests.support.central_cli import Central
from tests.support.recert_pages import INVOLVED, Public, forged_post, public_site
from tests.support.recert_pages import held_fixture, staff_web_fixture  # noqa: F401 - this file's fixtures
from tests.support.recert_world import HOLDER_EMAIL, Held

pytestmark = pytest.mark.timeout(300)
DANA = "dana"                # a decision maker who did not examine or mark the holder: she may act


@pytest.fixture
def public(held: Held, live_server, free_port: int) -> Public:
    return public_site(held, live_server, free_port)


def open_certificate(page, held: Held, by: str) -> None:
    """From the navigation: find the holder by e-mail, open the certificate."""
    page.get_by_role("link", name="Certificates").click()
    page.get_by_label("Holder's e-mail").fill(HOLDER_EMAIL.upper())
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_role("table", name="Certificates (1 in all, 1 to 1 shown)")
    expect(table.get_by_role("row", name=held.cert.certificate_id)).to_contain_text("Ann Lee")
    assert look(page, f"certificates-search-{by}") == []
    table.get_by_role("link", name=held.cert.certificate_id).click()
    expect(page.get_by_role("heading", name=f"Certificate {held.cert.certificate_id}")).to_be_visible()


def tab_to(page, element_id: str, limit: int = 120) -> None:
    """Press Tab until the element has the focus (keyboard only, as a person without a mouse)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never took the focus")


def test_a_suspension_with_the_keyboard_alone_shows_on_the_public_site_at_once(held, staff_web, signed_in_page,
                                                                              public) -> None:
    cid = held.cert.certificate_id
    assert public.verification(cid)["status"] == "valid"
    dana = signed_in_page(DANA, ("decision_maker",))
    open_certificate(dana, held, "dana")
    expect(dana.locator("#history")).to_contain_text("issue")
    assert look(dana, "certificate") == []
    tab_to(dana, "suspend-reason")
    dana.keyboard.type("complaint about misuse of the mark under investigation")
    dana.keyboard.press("Tab")
    dana.keyboard.type("12312099")                           # the date field, month day year
    assert dana.locator("#suspend-until").input_value() == "2099-12-31"
    tab_to(dana, "suspend-button", limit=3)
    dana.keyboard.press("Enter")
    expect(dana.get_by_role("status")).to_contain_text(f"Certificate {cid} is now suspended.")
    expect(dana.locator("#cert-state")).to_contain_text("suspended")
    shown = public.verification(cid)
    assert shown["status"] == "suspended" and shown["suspended_until"].startswith("2099-12-31")
    assert look(dana, "certificate-suspended") == []
    dana.get_by_label("Reason for restoring (recorded)").fill("complaint not upheld")
    dana.get_by_role("button", name="Restore the certificate").click()
    expect(dana.locator("#cert-state")).to_contain_text("valid")
    assert public.verification(cid)["status"] == "valid"
    dana.get_by_label("Domestic wiring").check()
    dana.get_by_label("Reason for reducing the scope (recorded)").fill("testing competence not shown")
    dana.get_by_role("button", name="Reduce the scope").click()
    expect(dana.locator("#scope")).to_have_text("Domestic wiring (reduced)")
    shown = public.verification(cid)
    assert shown["status"] == "scope reduced" and shown["scope"] == ["Domestic wiring"]
    dana.get_by_label("Reason for withdrawing (recorded; withdrawal is final)").fill("fraud established")
    dana.get_by_role("button", name="Withdraw the certificate").click()
    expect(dana.locator("#cert-state")).to_contain_text("withdrawn")
    assert public.verification(cid)["status"] == "withdrawn"
    expect(dana.locator("#history")).to_contain_text("fraud established")
    assert [e["actor"] for e in audit_entries(held.passed.world.data_dir, "certificate.withdraw")] == [DANA]


def test_downloads_and_cli_page_parity(held, staff_web, signed_in_page) -> None:
    cid = held.cert.certificate_id
    dana = signed_in_page(DANA, ("decision_maker",))
    open_certificate(dana, held, "parity")
    with dana.expect_download() as download:
        dana.get_by_role("link", name="Download the credential (VC-JWT)").click()
    token = Path(download.value.path()).read_text()
    registry = held.passed.registry()
    key = jwt.PyJWKSet.from_dict(registry.keys.jwks())[jwt.get_unverified_header(token)["kid"]].key
    claims = jwt.decode(token, key=key, algorithms=["EdDSA"], options={"verify_aud": False})
    assert claims["jti"] == registry.get(cid).credential_id
    with dana.expect_download() as download:
        dana.get_by_role("link", name="Download the PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    dana.get_by_label("Reason for the suspension (recorded; start with \"recertification\" when the holder must "
                      "recertify)").fill("page suspension")
    dana.get_by_label("Deadline to deal with the cause (date, UTC)").fill("2099-01-31")
    dana.get_by_role("button", name="Suspend the certificate").click()
    expect(dana.locator("#cert-state")).to_contain_text("suspended")
    dana.get_by_label("Reason for restoring (recorded)").fill("page restore")
    dana.get_by_role("button", name="Restore the certificate").click()
    expect(dana.locator("#cert-state")).to_contain_text("valid")
    cli = Central(held.passed.world.data_dir)
    result = cli.run("certificates", "suspend", cid, "--by", DANA, "--reason", "cli suspension", "--until",
                     "2099-01-31")
    assert result.exit_code == 0, result.output
    page_entry, cli_entry = audit_entries(held.passed.world.data_dir, "certificate.suspend")
    assert page_entry == cli_entry == {"actor": DANA, "data": {"certificate_id": cid}}
    history = registry.history(cid)
    assert [(h["action"], h["decided_by"]) for h in history[-3:]] == [("suspend", DANA), ("restore", DANA),
                                                                      ("suspend", DANA)]
    assert history[-3]["detail"] == history[-1]["detail"]          # the same status and deadline recorded


@pytest.mark.parametrize("person", sorted(INVOLVED))
def test_the_holders_examiner_and_marker_are_told_and_refused(held, staff_web, signed_in_page, person) -> None:
    cid = held.cert.certificate_id
    page = signed_in_page(person, ("decision_maker",))
    open_certificate(page, held, person.split(".")[0])
    expect(page.locator("#action-blocked")).to_contain_text("impartiality")
    expect(page.get_by_role("button", name="Suspend the certificate")).to_have_count(0)
    status, body = forged_post(page, f"/certificates/{cid}/withdraw", {"reason": "no"})
    assert status == 422 and "cannot decide to withdraw this certificate" in body
    assert held.passed.registry().get(cid).state == "valid"
    assert audit_entries(held.passed.world.data_dir, "certificate.withdraw") == []


def test_a_declared_conflict_is_told_and_refused_and_other_roles_see_no_forms(held, staff_web,
                                                                               signed_in_page) -> None:
    cid = held.cert.certificate_id
    conflicts.declare(held.ctx, actors.staff("dee", "decision_maker"), person_id=held.person_id,
                      relationship="trainer")
    dee = signed_in_page("dee", ("decision_maker",))
    open_certificate(dee, held, "dee")
    expect(dee.locator("#action-blocked")).to_contain_text("trainer")
    status, body = forged_post(dee, f"/certificates/{cid}/suspend", {"reason": "no", "until": "2099-01-01"})
    assert status == 403 and "trainer" in body
    rita = signed_in_page("rita", ("registrar",))
    open_certificate(rita, held, "rita")
    expect(rita.get_by_role("button", name="Withdraw the certificate")).to_have_count(0)
    status, _body = forged_post(rita, f"/certificates/{cid}/withdraw", {"reason": "no"})
    assert status == 403
    marker = signed_in_page("mo", ("marker",))
    assert marker.goto(f"{staff_web.url}/certificates/{cid}").status == 403
    assert held.passed.registry().get(cid).state == "valid"
