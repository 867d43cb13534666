"""The registry and sittings through the real CLI with --json: the whole path from a person to a
roster, refusals with exit code 1, and every step on the audit chain with who and why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from exam_core.timestamps import format_time, utc_now
from tests.support.registry_body import CENTRE_ID, FORM_ID, PDF, SCHEME_ID, Body, photo_bytes
from tests.support.central_db import audit_of

NEXT_YEAR = (utc_now() + timedelta(days=365)).date().isoformat()


def _person(body: Body, email: str, dob: str = "1990-01-01") -> str:
    return body.central.json("persons", "add", "--given-name", "Ann", "--family-name", "Lee", "--email", email,
                             "--date-of-birth", dob, "--by", "rita")["person_id"]


def test_from_person_to_roster_through_the_cli(body: Body, tmp_path: Path) -> None:
    c = body.central
    pid = _person(body, "ann@example.org")
    (tmp_path / "photo.png").write_bytes(photo_bytes())
    photo = c.json("persons", "photo", pid, "--set", tmp_path / "photo.png", "--as-person", pid)
    assert len(photo["photo_sha256"]) == 64
    c.json("persons", "consent", pid, "--purpose", "processing", "--text-version", "v2", "--as-person", pid)
    app = c.json("applications", "submit", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                 "--education", "master", "--experience-months", "30", "--accept-agreement",
                 "--rules-version", "2026-1", "--as-person", pid)
    assert app["eligibility"]["result"] == "met"
    (tmp_path / "diploma.pdf").write_bytes(PDF)
    doc = c.json("applications", "evidence", "add", app["application_id"], tmp_path / "diploma.pdf", "--as-person", pid)
    out = c.run("applications", "evidence", "get", doc["document_id"], "--out", tmp_path / "x.pdf", "--role", "marker",
                "--json")
    assert out.exit_code == 1 and "may not see evidence" in out.data["error"]
    c.json("applications", "evidence", "get", doc["document_id"], "--out", tmp_path / "got.pdf", "--role", "auditor")
    assert (tmp_path / "got.pdf").read_bytes() == PDF
    assert c.json("applications", "list", "--status", "submitted")["applications"][0]["application_id"] == \
        app["application_id"]
    c.json("applications", "decide", app["application_id"], "--accept", "--reasons", "all met", "--by", "rita")
    req = c.json("accommodations", "request", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                 "--set", "extra_time_percent=25", "--reason", "dyslexia", "--as-person", pid)
    c.json("accommodations", "approve", req["request_id"], "--expires", NEXT_YEAR, "--reasons", "report",
           "--by", "rita")
    session = c.json("sessions", "plan", "--centre", CENTRE_ID, "--scheme", SCHEME_ID, "--version", "1",
                     "--form", FORM_ID, "--starts", format_time(utc_now() + timedelta(days=7)), "--capacity", "5")
    booking = c.json("bookings", "book", session["session_id"], "--person", pid, "--as-person", pid)
    roster = c.json("sessions", "roster", session["session_id"])
    (entry,) = roster["entries"]
    assert (entry["candidate_id"], entry["seat"], entry["accommodations"]["extra_time_percent"]) == \
        (booking["candidate_id"], 1, 25)
    actions = {e.action: e for e in audit_of(c.data_dir).entries()}
    assert actions["application.decide"].actor == "rita" and actions["application.decide"].data["reasons"] == "all met"
    for action in ("person.add", "person.photo", "person.consent", "application.submit", "evidence.add",
                   "evidence.read", "accommodation.request", "accommodation.approved", "session.plan", "booking.book",
                   "roster.build"):
        assert action in actions, action


def test_refusals_exit_1_with_the_reason(body: Body) -> None:
    c = body.central
    pid = _person(body, "bob@example.org")
    beyond = c.json("accommodations", "request", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                    "--set", "screen_reader=true", "--reason", "x", "--as-person", pid, code=1)
    assert "does not allow" in beyond["error"]
    refused = c.json("applications", "submit", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                     "--rules-version", "1", "--as-person", pid, code=1)
    assert "code of conduct" in refused["error"]
    other = _person(body, "carl@example.org")
    assert "may not" in c.json("persons", "show", pid, "--as-person", other, code=1)["error"]
    declared = c.json("conflicts", "declare", "--person", pid, "--relationship", "employer", "--by", "rita")
    app = c.json("applications", "submit", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                 "--education", "secondary", "--accept-agreement", "--rules-version", "1", "--by", "rex")
    assert app["eligibility"]["result"] == "not_met"
    assert "employer" in c.json("applications", "decide", app["application_id"], "--refuse", "--reasons", "no",
                                "--by", "rita", code=1)["error"]
    done = c.json("applications", "decide", app["application_id"], "--refuse", "--reasons", "education", "--by", "rex")
    assert done["appeal_possible"]
    assert c.json("applications", "appeal", app["application_id"], "--lodged", "--as-person", pid)["appeal_lodged_at"]
    c.json("conflicts", "withdraw", str(declared["conflict_id"]), "--reason", "left the company", "--by", "rita")
    assert c.json("conflicts", "list", "--active")["conflicts"] == []


def test_once_the_body_has_staff_accounts_roles_are_the_accounts(body: Body) -> None:
    from item_bank_sync.staff.accounts import StaffBook

    book = StaffBook(body.ctx)
    book.add("rita", "a long enough password 1", ("registrar",), "setup")
    book.add("ada", "a long enough password 2", ("admin",), "setup")
    body.ctx.close()
    c = body.central
    pid = _person(body, "dan@example.org")                                             # --by rita, a registrar
    claimed = c.run("persons", "show", pid, "--by", "rita", "--role", "auditor", "--json")
    assert claimed.exit_code == 2 and "does not hold the role auditor" in claimed.stderr
    app = c.json("applications", "submit", "--person", pid, "--scheme", SCHEME_ID, "--version", "1",
                 "--education", "master", "--experience-months", "30", "--accept-agreement", "--rules-version", "1",
                 "--by", "ada")
    refused = c.json("applications", "decide", app["application_id"], "--accept", "--reasons", "ok", "--by", "ada",
                     code=1)
    assert "registrar" in refused["error"]
    assert "no staff account" in c.json("persons", "list", "--by", "mallory", code=1)["error"]
    assert c.json("applications", "decide", app["application_id"], "--accept", "--reasons", "ok",
                  "--by", "rita")["status"] == "accepted"
