"""Appeals and complaints as cases: lodged, acknowledged with a deadline (the person told), assigned
only to a handler not involved in the original examination, marking or decision (the proctor, each
marker, the decision maker, the certificate's issuer and a staff member with a declared conflict
are refused), progressed and decided by the handler alone, the outcome told to the person as a
portal message; complaints by category, opening a status action and a corrective action; the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from exam_core.errors import ValidationError
from exam_core.timestamps import parse_time, utc_now, utc_text
from item_bank_sync.cases import corrective, handling
from item_bank_sync.cases.handling import CaseRefused
from item_bank_sync.certificates.decision import record_decision
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.mail import MailSettings
from item_bank_sync.mail import save_settings as save_mail
from item_bank_sync.registry import actors, conflicts, persons
from item_bank_sync.registry.errors import ConflictOfInterest
from item_bank_sync.release.holds import release
from tests.support.body_pages import audit_entries
from tests.support.central_cli import Central
from tests.support.central_db import bank_of, central_db, execute
from tests.support.central_release import DECIDER, FAILED, MARKERS, PASSED, PROCTOR, Results, results_world
from tests.support.central_world import CENTRE_ID
from tests.support.ports import find_free_port

REGISTRAR = "Reg Istrar"
HANDLER = "Hana Handler"
ISSUER = "Ike Issuer"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def _appeal(results: Results, attempt_id: str = FAILED) -> str:
    case_id = handling.lodge(results.ctx, REGISTRAR, "appeal", "result", f"cand-{attempt_id}",
                             "I believe question 2 was marked wrongly.", attempt_id=attempt_id)
    handling.acknowledge(results.ctx, REGISTRAR, case_id, days=20)
    return case_id


def test_an_appeal_is_acknowledged_with_a_deadline_decided_by_its_handler_and_the_person_told(results):
    ctx = results.ctx
    case_id = _appeal(results)
    case = handling.get(ctx, case_id)
    assert case["status"] == "acknowledged"
    deadline = parse_time(case["respond_by"], "respond_by") - parse_time(case["acknowledged_at"], "acknowledged_at")
    assert deadline.days == 20
    handling.assign(ctx, "Ada Admin", case_id, HANDLER)
    with pytest.raises(CaseRefused, match="only the case's handler"):
        handling.decide(ctx, "Ada Admin", case_id, "upheld", "Re-scored.")
    handling.progress(ctx, HANDLER, case_id, "replayed the scoring: identical")
    handling.decide(ctx, HANDLER, case_id, "dismissed", "Your answers were scored correctly; the result stands.")
    handling.close(ctx, "Ada Admin", case_id)
    case = handling.get(ctx, case_id)
    assert case["status"] == "closed" and case["outcome"] == "dismissed" and case["handler"] == "hana handler"
    assert [e["action"] for e in case["events"]] == ["lodge", "acknowledge", "assign", "progress", "decide", "close"]
    told = handling.messages_for(ctx, f"cand-{FAILED}")
    assert [m["subject"] for m in told] == [f"Case {case_id} acknowledged", f"Case {case_id}: dismissed"]
    assert case["respond_by"][:10] in told[0]["body"] and "result stands" in told[1]["body"]
    entries = audit_entries(results.world.data_dir, "case.lodge")
    assert entries[0]["data"] == {"case_id": case_id, "kind": "appeal", "category": "result", "attempt_id": FAILED,
                                  "late": False}
    assert "question 2" not in str(audit_entries(results.world.data_dir, "case.decide"))


def test_a_handler_involved_in_the_examination_marking_or_decision_is_refused(results):
    ctx = results.ctx
    record_decision(ctx, PASSED, ISSUER, "pass", "confirmed")
    CertificateRegistry(ctx).issue(PASSED, ISSUER)     # as a release by ISSUER would: the certificate's decision
    case_id = _appeal(results, PASSED)
    for person, role in ((PROCTOR, "proctor"), (MARKERS[0], "marker"), (MARKERS[1], "marker"),
                         (DECIDER, "decision maker"), (ISSUER, "certificate decision maker")):
        with pytest.raises(CaseRefused, match=role):
            handling.assign(ctx, "Ada Admin", case_id, person)
    with pytest.raises(CaseRefused, match="lodged"):
        handling.assign(ctx, "Ada Admin", case_id, f"cand-{PASSED}")
    assert handling.get(ctx, case_id)["handler"] is None
    handling.assign(ctx, "Ada Admin", case_id, HANDLER)
    assert handling.get(ctx, case_id)["status"] == "assigned"


def test_whoever_released_the_attempt_from_quarantine_or_released_its_result_is_refused(results):
    """Fix: both releases are judgements on the attempt (custody evidence acceptable; the result fit
    to publish), so neither person may handle an appeal against it."""
    ctx = results.ctx
    record_decision(ctx, PASSED, ISSUER, "pass", "confirmed")
    execute(central_db(results.world.data_dir).results,
            "INSERT INTO intake_releases (envelope_sha256, attempt_id, quarantine_reason, waived_json, released_by, "
            "reason, released_at) VALUES (?, ?, ?, ?, ?, ?, ?)", "0" * 64, PASSED, "late upload", "[]",
            "quinn quarantine", "custody checked by phone", utc_text())
    assert release(ctx, "Rita Releaser", "results day", attempt_id=PASSED).released == (PASSED,)
    case_id = _appeal(results, PASSED)
    for person, role in (("Quinn Quarantine", "releaser of its quarantined envelope"),
                         ("Rita Releaser", "releaser of its result")):
        assert role in " ".join(handling.involvement(ctx, PASSED, person))
        with pytest.raises(CaseRefused, match=role):
            handling.assign(ctx, "Ada Admin", case_id, person)
    assert handling.get(ctx, case_id)["handler"] is None


def test_a_handler_who_declared_a_conflict_with_the_candidate_is_refused(results):
    ctx = results.ctx
    admin = actors.staff("ada", actors.ADMIN)
    pid = persons.add(ctx, admin, given_name="Ann", family_name="Lee", email="ann@example.org").person_id
    bank_of(results.world.data_dir)["bookings"].insert({
        "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": "A-0000000000000001", "candidate_id": "C-0000000000000001", "status": "booked", "seat": 1,
        "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(results.world.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
            "C-0000000000000001", FAILED)
    conflicts.declare(ctx, actors.staff(HANDLER, "decision_maker"), person_id=pid, relationship="trainer")
    case_id = _appeal(results)
    with pytest.raises(ConflictOfInterest, match="trainer"):
        handling.assign(ctx, "Ada Admin", case_id, HANDLER)


def test_a_complaint_about_a_certified_person_opens_a_suspension_and_a_corrective_action(results):
    ctx = results.ctx
    record_decision(ctx, PASSED, ISSUER, "pass", "confirmed")
    cert_id = release(ctx, ISSUER, "results day", attempt_id=PASSED).settled.certificates[PASSED]   # issued at release
    with pytest.raises(ValidationError, match="certificate"):
        handling.lodge(ctx, REGISTRAR, "complaint", "certified_person", "Employer Ltd", "misuse")
    with pytest.raises(ValidationError, match="a complaint is about"):
        handling.lodge(ctx, REGISTRAR, "complaint", "result", "Employer Ltd", "misuse", certificate_id=cert_id)
    case_id = handling.lodge(ctx, REGISTRAR, "complaint", "certified_person", "Employer Ltd",
                             "The holder claims a scope they do not hold.", certificate_id=cert_id)
    assert handling.get(ctx, case_id)["attempt_id"] == PASSED
    handling.acknowledge(ctx, REGISTRAR, case_id)
    with pytest.raises(CaseRefused, match="certificate decision maker"):
        handling.assign(ctx, "Ada Admin", case_id, ISSUER)
    handling.assign(ctx, "Ada Admin", case_id, HANDLER)
    CertificateRegistry(ctx).suspend(cert_id, HANDLER, f"complaint {case_id}", utc_now().replace(year=2099))
    handling.note_event(ctx, HANDLER, case_id, "status-action", f"suspended {cert_id}")
    action_id = corrective.open_action(ctx, HANDLER, "complaint", "Holders misread the scope wording",
                                       source_ref=case_id)
    with pytest.raises(corrective.CorrectiveRefused, match="root cause, action, effectiveness check"):
        corrective.close_action(ctx, "Ada Admin", action_id)
    corrective.update_action(ctx, HANDLER, action_id, root_cause="ambiguous scope text",
                             action="scope text rewritten on certificates")
    corrective.update_action(ctx, HANDLER, action_id, effectiveness_check="no further complaints in 3 months")
    closed = corrective.close_action(ctx, "Ada Admin", action_id)
    assert closed["status"] == "closed" and closed["closed_by"] == "ada admin"
    assert CertificateRegistry(ctx).get(cert_id).state == "suspended"
    assert [e["action"] for e in handling.get(ctx, case_id)["events"]][-1] == "status-action"


def test_the_cases_commands(results, tmp_path):
    cli = Central(results.world.data_dir)
    words = tmp_path / "words.txt"
    words.write_text("The centre's room was too noisy.", "utf-8")
    case = cli.json("cases", "lodge", "--kind", "complaint", "--category", "centre", "--centre", CENTRE_ID,
                    "--person", "cand-att-f", "--summary-file", words, "--via", "portal", "--by", REGISTRAR)
    cid = case["case_id"]
    cli.json("cases", "acknowledge", cid, "--days", "10", "--by", REGISTRAR)
    cli.json("cases", "assign", cid, "--handler", HANDLER, "--by", "Ada Admin")
    cli.json("cases", "decide", cid, "--outcome", "upheld", "--text", "We have spoken to the centre.", "--by", HANDLER)
    listed = cli.json("cases", "list", "--kind", "complaint")
    assert [(c["case_id"], c["status"]) for c in listed] == [(cid, "decided")] and "summary" not in listed[0]
    refused = cli.run("cases", "decide", cid, "--outcome", "upheld", "--text", "again", "--by", HANDLER, "--json")
    assert refused.exit_code == 1 and "decided" in refused.output
    opened = cli.json("cases", "open-corrective", cid, "--description", "noise", "--by", HANDLER)
    assert (opened["source"], opened["source_ref"]) == ("complaint", cid)
    assert cli.json("corrective", "list", "--status", "open")[0]["id"] == opened["id"]
    assert cli.json("cases", "show", cid)["events"][-1]["action"] == "corrective-action"


def test_two_processes_acknowledging_one_case_at_once_acknowledge_it_once(results):
    case_id = handling.lodge(results.ctx, REGISTRAR, "appeal", "result", f"cand-{FAILED}", "Please re-check.",
                             attempt_id=FAILED)
    code = ("import sys; from click.testing import CliRunner; from item_bank_sync.cli.main import main; "
            "r = CliRunner().invoke(main, ['--data', sys.argv[1], 'cases', 'acknowledge', sys.argv[2], "
            "'--by', sys.argv[3], '--json']); sys.exit(r.exit_code)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(results.world.data_dir), case_id, f"Reg {n}"])
             for n in range(2)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, 1]
    case = handling.get(results.ctx, case_id)
    assert [e["action"] for e in case["events"]] == ["lodge", "acknowledge"] and len(case["messages"]) == 1


class _Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def test_the_person_is_told_by_mail_through_the_bodys_relay_when_one_is_set_up(results):
    ctx = results.ctx
    admin = actors.staff("ada", actors.ADMIN)
    pid = persons.add(ctx, admin, given_name="Ann", family_name="Lee", email="ann@example.org").person_id
    inbox, port = _Inbox(), find_free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        save_mail(results.world.data_dir, MailSettings("127.0.0.1", port, "cases@body.example"))
        case_id = handling.lodge(ctx, REGISTRAR, "appeal", "result", pid, "Please re-check.", attempt_id=FAILED,
                                 via="portal")
        handling.acknowledge(ctx, REGISTRAR, case_id, days=15)
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert [(m["To"], m["Subject"]) for m in inbox.messages] == [("ann@example.org", f"Case {case_id} acknowledged")]
    assert [m["channel"] for m in handling.get(ctx, case_id)["messages"]] == ["email"]
    handling.assign(ctx, "Ada Admin", case_id, HANDLER)
    handling.decide(ctx, HANDLER, case_id, "dismissed", "The result stands.")   # the relay is gone: portal only
    assert [m["channel"] for m in handling.get(ctx, case_id)["messages"]] == ["email", "portal"]


def test_an_appeal_after_the_score_reports_deadline_is_refused_unless_staff_accept_it_for_a_reason(results, tmp_path):
    """Fix: a late appeal used to be recorded as late; it is now refused with the deadline, on the
    portal always and by staff unless they accept it with a recorded reason (audited)."""
    from item_bank_sync.release.holds import release

    release(results.ctx, "Rita Releaser", "results day", attempt_id=FAILED)
    execute(central_db(results.world.data_dir).results,
            "UPDATE result_releases SET released_at = ? WHERE attempt_id = ?", "2020-01-01T00:00:00Z", FAILED)
    with pytest.raises(CaseRefused, match="deadline for appealing this result was 2020-01-"):
        handling.lodge(results.ctx, f"cand-{FAILED}", "appeal", "result", f"cand-{FAILED}", "late",
                       attempt_id=FAILED, via="portal")
    words = tmp_path / "summary.txt"
    words.write_text("I was in hospital.", "utf-8")
    cli = Central(results.world.data_dir)
    args = ("cases", "lodge", "--kind", "appeal", "--category", "result", "--person", f"cand-{FAILED}",
            "--summary-file", str(words), "--attempt", FAILED, "--by", REGISTRAR)
    refused = cli.run(*args, "--json")
    assert refused.exit_code == 1 and "deadline" in refused.output and "2020-01-" in refused.output
    assert audit_entries(results.world.data_dir, "case.lodge") == []
    case = cli.json(*args, "--accept-late", "in hospital until after the deadline (letter seen)")
    assert "after the appeal deadline, accepted: in hospital" in case["events"][0]["note"]
    entry = audit_entries(results.world.data_dir, "case.lodge")[-1]
    assert entry["data"]["late"] is True and entry["data"]["late_reason"].startswith("in hospital")
    assert "I was in hospital" not in str(entry)
