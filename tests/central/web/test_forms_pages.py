"""Schemes, forms and publishing pages in real Chromium over a real HTTPS server: a scheme added
and forms built by a psychometrician, a form published by an administrator with a release code
shown once, each action's audit entry the same as its CLI command's, markup in a scheme's text
shown as text, the package history paged on the server, and a role that may not see the pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.items.synthetic import generate, scheme_yaml, write_package
from exam_core.websec.csrf import FORM_FIELD
from tests.support.body_pages import audit_entries, look, origin
from tests.support.central_cli import make_centre
from tests.support.central_db import central_db, execute

HOSTILE = '<img src=x onerror="document.title=1"><b>bold</b>'


def _bank_with_centre(central, tmp_path: Path) -> None:
    """Approved synthetic items in two areas and an enrolled centre (before any staff account exists)."""
    write_package(tmp_path / "items.zip", generate(24, ["alg", "geo"], seed=3))
    central.json("import", tmp_path / "items.zip")
    central.approve_all()
    (tmp_path / "req.json").write_bytes(make_centre("centre-1").request)
    central.json("centres", "add", "--request", tmp_path / "req.json")


def _scheme_file(tmp_path: Path, scheme_id: str, title: str) -> Path:
    text = scheme_yaml(scheme_id, ["alg", "geo"], 3).replace(f"title: Synthetic scheme {scheme_id}",
                                                               f"title: '{title}'")
    path = tmp_path / f"{scheme_id}.yaml"
    path.write_text(text)
    return path


def _same_entry(page_entry: dict, cli_entry: dict, varying: tuple[str, ...] = ()) -> None:
    """The page's and the CLI's entries: same actor, same fields, same values but for ``varying``."""
    assert page_entry["actor"] == cli_entry["actor"]
    assert set(page_entry["data"]) == set(cli_entry["data"])
    keep = [k for k in page_entry["data"] if k not in varying]
    assert {k: page_entry["data"][k] for k in keep} == {k: cli_entry["data"][k] for k in keep}


def test_scheme_and_form_build_pages_write_the_cli_entries(central, signed_in_page, tmp_path):
    _bank_with_centre(central, tmp_path)
    page = signed_in_page("psy", ("psychometrician",))
    page.goto(f"{origin(page)}/forms/schemes")
    assert look(page, "schemes") == []
    page.get_by_label("Scheme file").set_input_files(str(_scheme_file(tmp_path, "MATH", HOSTILE)))
    page.get_by_role("button", name="Add the scheme").click()
    expect(page.get_by_role("status")).to_contain_text(HOSTILE)          # the markup shown as text
    assert page.locator("main b, main img").count() == 0
    assert look(page, "scheme-added") == []
    page.get_by_role("link", name="Blueprint coverage and form build").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scheme MATH version 1")
    expect(page.get_by_role("table")).to_contain_text("12")              # approved items per area
    assert look(page, "scheme") == []
    page.get_by_label("Number of parallel forms").fill("2")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Build the forms").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forms built for MATH version 1")
    expect(page.locator("main")).to_contain_text("Largest overlap between two forms")
    assert look(page, "forms-built") == []
    page.goto(f"{origin(page)}/forms/")
    expect(page.get_by_role("table")).to_contain_text("MATH-v1-s7-f02")
    assert look(page, "forms") == []

    token = page.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value") or ""
    too_big = page.request.post(f"{origin(page)}/forms/schemes", multipart={
        FORM_FIELD: token, "scheme": {"name": "big.yaml", "mimeType": "text/yaml", "buffer": b"#" * 300_000}})
    assert too_big.status == 413 and "larger than 256 KiB" in too_big.text()
    central.json("schemes", "add", _scheme_file(tmp_path, "MATH2", "Other"), "--by", "psy")
    central.json("forms", "build", "--scheme", "MATH", "--count", "2", "--seed", "8", "--by", "psy")
    by_page, by_cli = audit_entries(central.data_dir, "scheme.add")
    _same_entry(by_page, by_cli, varying=("scheme_id",))
    by_page, by_cli = audit_entries(central.data_dir, "forms.build")
    _same_entry(by_page, by_cli, varying=("seed", "forms"))
    assert by_page["actor"] == "psy" and by_page["data"]["seed"] == 7


def test_publish_page_shows_the_code_once_and_writes_the_cli_entry(central, signed_in_page, tmp_path):
    _bank_with_centre(central, tmp_path)
    central.json("schemes", "add", _scheme_file(tmp_path, "MATH", "Maths"))
    form_id = central.json("forms", "build", "--scheme", "MATH", "--count", "1", "--seed", "1")["forms"][0]["form_id"]
    opens, closes = format_time(utc_now() - timedelta(hours=1)), format_time(utc_now() + timedelta(hours=8))
    page = signed_in_page("adm", ("admin",))
    base = origin(page)
    page.goto(f"{base}/forms/{form_id}")
    assert look(page, "form") == []
    page.get_by_label("Centre").select_option("centre-1")
    page.get_by_label("Window opens").fill(HOSTILE)
    page.get_by_label("Window closes").fill(closes)
    page.get_by_role("button", name="Seal and publish").click()
    expect(page.get_by_role("alert")).to_contain_text(HOSTILE)           # echoed in the refusal, as text
    assert page.locator("main b, main img").count() == 0
    assert look(page, "refused") == []
    page.go_back()
    page.get_by_label("Window opens").fill(opens)
    page.get_by_label("Window closes").fill(closes)
    page.get_by_label("Also require a release code").check()
    page.get_by_role("button", name="Seal and publish").click()
    code = page.locator("#release-code").inner_text()
    assert len(code) >= 6
    assert look(page, "published") == []
    central.json("publish", "--form", form_id, "--centre", "centre-1", "--opens", opens, "--closes", closes,
                 "--release-code", "--by", "adm")
    by_page, by_cli = audit_entries(central.data_dir, "form.publish")
    _same_entry(by_page, by_cli, varying=("package_id", "sha256"))
    assert by_page["actor"] == "adm" and by_page["data"]["release_code_required"] is True

    bank = central_db(central.data_dir).bank                  # 120 more packages: paged on the server
    for n in range(120):
        execute(bank, "INSERT INTO packages (package_id, form_id, form_version, centre_id, opens, closes, "
                "release_code_required, path, sha256, created_at) VALUES (?, ?, 1, 'centre-1', ?, ?, 0, 'x', 'y', ?)",
                f"pkg-many-{n:03d}", form_id, opens, closes, format_time(utc_now() - timedelta(days=1, minutes=n)))
    page.goto(f"{base}/forms/packages")
    expect(page.get_by_role("table")).to_contain_text("122 in all, 1 to 50 shown")
    assert page.locator("tbody tr").count() == 50
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("table")).to_contain_text("51 to 100 shown")
    assert look(page, "packages") == []


def test_a_role_without_the_pages_gets_403_and_the_auditor_may_only_read(central, signed_in_page, tmp_path):
    marker = signed_in_page("mark", ("marker",))
    base = origin(marker)
    for path in ("/forms/schemes", "/forms/", "/forms/packages"):
        assert marker.goto(f"{base}{path}").status == 403
    auditor = signed_in_page("aud", ("auditor",))
    assert auditor.goto(f"{base}/forms/schemes").status == 200
    expect(auditor.locator("main")).to_contain_text("does not hold the role psychometrician")
    token = auditor.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value")
    answer = auditor.request.post(f"{base}/forms/build", form={FORM_FIELD: token or "", "scheme": "MATH",
                                                                "count": "1", "seed": "1"})
    assert answer.status == 403                                       # a valid token, a role that reads only
