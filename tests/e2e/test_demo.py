"""The one-command demo, end to end, as real processes: the scripted run, Ctrl+C, a person in Chromium.

The scripted run's summary is counted by the demo from each node's database; this test checks it
and then reads the same databases itself, so a summary that lied would not pass.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from demo.candidates import load_item_keys
from tests.support.tools import REPO_ROOT
from tests.support.demo_run import kill_leftovers, run_scripted, wait_gone

pytestmark = pytest.mark.slow
ATTEMPTS = 27


def _rows(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def test_scripted_demo_loses_nothing_and_scores_everyone(tmp_path):
    workdir = tmp_path / "run"
    try:
        summary, output = run_scripted(workdir)
    finally:
        kill_leftovers(workdir)
    # Three first candidates (alert, kill -9, steady) and the roster's 24 later ones on the same kiosks.
    assert summary["attempts_submitted"] == ATTEMPTS and summary["attempts_scored"] == ATTEMPTS, summary
    assert summary["events_lost"] == 0 and summary["envelopes_lost"] == 0, summary
    assert summary["envelopes_sealed"] == ATTEMPTS and summary["resumed_attempts"] == 1, summary
    assert summary["alerts"] >= 1, summary
    assert summary["events_sent"] > 0
    assert summary["events_received"] + summary["outbox_pending"] >= summary["events_sent"]
    # The kill -9 cost the candidate no time and gave none away beyond one journal checkpoint.
    assert abs(summary["resume_timer_drift_ms"]) <= 2000, summary
    assert not wait_gone(workdir), "a node of the demo outlived it"

    report = Path(summary["report"])
    assert report.is_file() and "cnt-v1-s7-f01" in report.read_text()
    central = workdir / "central" / "results.db"
    attempts = _rows(central, "SELECT attempt_id, candidate_id, scoring_status FROM attempts")
    # The first three sit from the session's signed roster (booked through the registry), the later 24
    # from demo/roster.csv (cand-004 onwards).
    console = workdir / "console" / "console.db"
    signed = dict(_rows(console, "SELECT name, candidate_id FROM candidates WHERE origin = 'signed'"))
    assert sorted(signed) == ["Barbara Liskov", "Edsger Dijkstra", "Katherine Johnson"], signed
    assert sorted(a[1] for a in attempts) == sorted([f"cand-{n:03d}" for n in range(4, ATTEMPTS + 1)]
                                                    + list(signed.values()))
    assert {a[2] for a in attempts} == {"scored"}
    # The 25 % extra time the registrar approved (Edsger Dijkstra's request, carried by the signed roster)
    # gives the 30-minute form's time plus 25 %, once: 37:30 on the kiosk's clock as sealed and recorded at
    # intake (issue 13 measured about 56 % more).
    allowed = dict(_rows(central, "SELECT candidate_id, time_allowed_ms FROM attempts"))
    assert allowed[signed["Edsger Dijkstra"]] == 37 * 60_000 + 30_000, allowed
    assert allowed[signed["Katherine Johnson"]] == 30 * 60_000, allowed
    assert _rows(central, "SELECT candidate_id, review FROM attempts WHERE review != ''") == []
    # Every acknowledged answer is there once: each candidate answered all 20 items of the form.
    per_attempt = dict(_rows(central, "SELECT attempt_id, count(DISTINCT item_id) FROM responses GROUP BY attempt_id"))
    assert sorted(per_attempt.values()) == [20] * ATTEMPTS, per_attempt
    assert _rows(central, "SELECT count(*) FROM envelopes WHERE status = 'accepted'") == [(ATTEMPTS,)]
    assert _rows(console, "SELECT count(*) FROM envelopes WHERE receipt IS NULL") == [(0,)]
    kiosk_events = sum(_rows(workdir / k / "kiosk.db", "SELECT value FROM counters WHERE name = 'event'")[0][0]
                       for k in ("kiosk-01", "kiosk-02", "kiosk-03"))
    assert kiosk_events == summary["events_sent"]
    assert "kill -9 after 10 of 20 answers" in output and "webcam alert raised" in output
    _check_scores_follow_the_keys(central)
    _check_life_cycle(summary, workdir)


def _check_life_cycle(summary: dict, workdir: Path) -> None:
    """Before and after the exam (issues 16 and 17, item 7): the summary's counts agree with the
    central body's and the console's databases, and the files it names are what a verifier needs."""
    bank, results = workdir / "central" / "bank.db", workdir / "central" / "results.db"
    assert summary["applications"] == 4 and summary["applications_refused"] == 1, summary
    assert summary["accommodations_approved"] == 1 and summary["bookings"] == 3, summary
    assert summary["roster_signed"] is True and summary["admitted_from_roster"] == 3, summary
    assert _rows(bank, "SELECT status, count(*) FROM applications GROUP BY status ORDER BY status") == [
        ("accepted", 3), ("refused", 1)]
    # Each applicant applied from their own portal account (registered and confirmed by the mailed link).
    assert summary["portal_accounts"] == 4, summary
    assert _rows(bank, "SELECT count(*) FROM applications JOIN candidate_accounts USING (person_id)") == [(4,)]
    assert _rows(bank, "SELECT count(*) FROM bookings WHERE status = 'booked'") == [(3,)]
    rosters = _rows(workdir / "console" / "console.db", "SELECT session_id, version FROM signed_rosters")
    assert len(rosters) == 1 and rosters[0][1] == 1, rosters
    assert _rows(workdir / "console" / "console.db", "SELECT count(*) FROM candidates WHERE session_id = ?",
                 (rosters[0][0],)) == [(3,)]
    passes = _rows(results, "SELECT count(DISTINCT attempt_id) FROM decisions WHERE outcome = 'pass'")
    assert summary["certificates_issued"] == passes[0][0] >= 1, (summary, passes)
    assert _rows(bank, "SELECT count(*) FROM certificates") == [(summary["certificates_issued"],)]
    assert summary["results_released"] == ATTEMPTS, summary
    assert summary["appeals"] == 1, summary
    assert _rows(bank, "SELECT count(*) FROM cases WHERE kind = 'appeal'") == [(1,)]
    # The sample credential verifies with an independent library (PyJWT) against the key set the public
    # site served; so does the served status list, where the certificate suspended and then restored is
    # clear again, having been set in the list fetched while it was suspended.
    sample = Path(summary["certificate_sample"])
    credential = _verified(sample.read_text().strip(), Path(summary["issuer_jwks"]))
    assert credential["iss"].startswith("https://127.0.0.1:") and "OpenBadgeCredential" in credential["type"]
    entry = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == "suspension")
    index = int(entry["statusListIndex"])
    now = _verified(Path(summary["status_list"]).read_text().strip(), Path(summary["issuer_jwks"]))
    then = _verified((sample.parent / "status-list-while-suspended.jwt").read_text().strip(),
                     Path(summary["issuer_jwks"]))
    assert _bit(then, index) == 1 and _bit(now, index) == 0, index
    assert (Path(summary["evidence_pack"]) / "index.html").is_file()


def _verified(token: str, jwks_path: Path) -> dict:
    """The claims of a VC-JWT checked by PyJWT (not the code that signed it) with the served key set."""
    import jwt

    keys = jwt.PyJWKSet.from_dict(json.loads(jwks_path.read_text()))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key=key.key, algorithms=["EdDSA"], options={"verify_aud": False})


def _bit(status_list: dict, index: int) -> int:
    """Bit ``index`` of a Bitstring Status List credential (multibase base64url of a GZIP bitstring,
    the first index in the most significant bit of the first byte)."""
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u", encoded[:8]
    data = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return (data[index // 8] >> (7 - index % 8)) & 1


def _check_scores_follow_the_keys(results_db: Path) -> None:
    """Every interaction type survives the chain: a response equal to the demo item's key earns full
    marks and any other earns less (kiosk value shapes and central scoring agree)."""
    keys = load_item_keys(REPO_ROOT / "demo" / "items")
    rows = _rows(results_db, "SELECT r.item_id, r.value_json, s.score, s.max_score FROM responses r "
                             "JOIN response_scores s USING (attempt_id, item_id, response_id)")
    assert len(rows) == 20 * ATTEMPTS
    for item_id, value_json, score, max_score in rows:
        value, correct = json.loads(value_json), keys[item_id].correct
        if isinstance(value, list) and value and isinstance(value[0], list):
            right = sorted(map(tuple, value)) == sorted(map(tuple, correct))
        else:
            right = value == correct
        assert right == (score == max_score), (item_id, value, score, max_score)


class InteractiveDemo:
    """``python -m demo`` (a person takes kiosk-03) with its output read line by line."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "demo", "--workdir", str(workdir)], cwd=REPO_ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250"})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, timeout: float = 240) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"demo never printed {pattern!r}:\n" + "\n".join(self.lines[-40:]))


def test_ctrl_c_stops_every_process(tmp_path):
    workdir = tmp_path / "run"
    demo = InteractiveDemo(workdir)
    try:
        demo.wait_line(r"Your exam .*http://127\.0\.0\.1:(\d+)/")
        assert len(wait_gone(workdir, timeout=0)) >= 5  # central, console, three kiosks
        demo.proc.send_signal(signal.SIGINT)
        assert demo.proc.wait(60) == 130
        left = wait_gone(workdir)
        assert not left, f"processes left running after Ctrl+C: {left}"
    finally:
        demo.proc.kill()
        kill_leftovers(workdir)


def _shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: INVIGIL_SCREENSHOTS_DIR (for the README's guides) or the test's tmp dir."""
    folder = Path(os.environ.get("INVIGIL_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.browser
def test_a_person_sits_the_exam_in_chromium(tmp_path, page, browser):
    """The interactive demo: the printed kiosk URL and proctor login work in a real browser."""
    workdir, shots = tmp_path / "run", _shots_dir(tmp_path)
    demo = InteractiveDemo(workdir)
    proctor = browser.new_context(ignore_https_errors=True)  # the console's self-signed certificate
    try:
        port = demo.wait_line(r"Your exam .*http://127\.0\.0\.1:(\d+)/").group(1)
        dashboard = demo.wait_line(r"Proctor dashboard: (https://\S+)").group(1)
        login = demo.wait_line(r"login (\S+) / (\S+)")
        board = proctor.new_page()
        board.goto(dashboard)
        board.get_by_label("User name").fill(login.group(1))
        board.get_by_label("Password").fill(login.group(2))
        board.get_by_role("button", name="Log in").click()
        for kiosk_id in ("kiosk-01", "kiosk-02", "kiosk-03"):
            board.locator(f"#tile-{kiosk_id}").wait_for(timeout=60_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.screenshot(path=str(shots / "candidate-identity.png"))
        page.get_by_role("button", name="Yes, these are my details").click(timeout=60_000)
        page.get_by_role("checkbox", name="I have read how this examination is monitored").check(timeout=60_000)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("checkbox", name="I have read and accept this agreement").check(timeout=60_000)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Begin the examination").click()
        page.get_by_role("heading", name=re.compile(r"Question 1 of 20")).wait_for()
        page.screenshot(path=str(shots / "candidate-question.png"))
        board.locator("#alert-queue li").first.wait_for(timeout=150_000)  # kiosk-01's candidate left the desk
        # (the README's dashboard picture is a 40-seat room: tests/console/web/test_dashboard_room_browser.py)
        board.screenshot(path=str(shots / "proctor-dashboard-demo.png"), full_page=True)
        page.get_by_role("button", name="Review and submit").click()
        page.get_by_role("button", name="Submit my examination").click()
        page.get_by_role("button", name="Yes, submit").click()
        page.get_by_role("heading", name="Your examination has been submitted").wait_for()
        page.screenshot(path=str(shots / "candidate-submitted.png"))
        assert demo.proc.wait(300) == 0, "\n".join(demo.lines[-40:])
        summary = json.loads(demo.lines[-1])
        # The person submitted nothing: every item unanswered, still one scored attempt.
        assert summary["attempts_scored"] == ATTEMPTS and summary["events_lost"] == 0 and summary["envelopes_lost"] == 0
        assert not wait_gone(workdir)
        report = proctor.new_page()
        report.goto(Path(summary["report"]).as_uri())
        report.screenshot(path=str(shots / "item-analysis-report.png"), full_page=True)
    finally:
        proctor.close()
        demo.proc.kill()
        kill_leftovers(workdir)
