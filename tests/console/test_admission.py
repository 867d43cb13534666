"""Admission is where fairness is decided (issue 13, items 1, 2, 3 and 6 at the centre), tested
through the console's real faces: its CLI as processes, the real server over HTTPS, a proctor on the
``/proctor`` socket and simulated kiosks on ``/kiosk``.

- The scheme's accommodation policy travels signed in its packages; a roster granting more is
  refused at import, naming each row and reason, and an admission is refused whatever got into the
  roster before the policy was known (the final gate).
- The attempt carries the time allowed with the extra time applied once: 25 % on 60 minutes is 4,500 s.
- A candidate who has sat is refused another admission, to the same form or the other one, until a
  centre admin allows one more with a reason; the grant is used once and shown in the report.
- The session report says how and when each attempt ended, and a candidate who sat the other form
  of the scheme is not absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

from exam_core import envelope, keys, protocol
from exam_core.jsonio import b64e
from exam_core.model import AccommodationPolicy
from tests.support.console_world import (ConsoleSetup, RunningConsole, cli, make_package, set_up_console,
                                         start_console, wait_until)

pytestmark = pytest.mark.slow

POLICY = AccommodationPolicy(accommodations_allowed=("extra_time_percent",), max_extra_time_percent=50)
#: Granted before any package told the console what the scheme allows (the issue's row).
TOO_MUCH = '{""extra_time_percent"": 100, ""high_contrast"": true, ""zoom_percent"": 150}'
REFUSED_REASONS = ("extra_time_percent 100: the scheme allows at most 50",
                   "high_contrast true: the scheme does not allow this accommodation",
                   "zoom_percent 150: the scheme does not allow this accommodation")


def run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), *args],
                          capture_output=True, text=True, timeout=60)


def roster_rows(data: Path) -> dict[str, dict[str, Any]]:
    return {c["candidate_id"]: c for c in json.loads(cli(data, "roster", "list", "--json"))}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, central: Any) -> Iterator[RunningConsole]:
    """The shared console (roster cand-1..3, ``pkg-open`` made before policies travelled), then a
    roster row beyond the scheme imported while no policy was known, then two forms of scheme-a
    whose packages carry its policy (at most 50 % extra time, nothing else)."""
    setup: ConsoleSetup = set_up_console(tmp_path_factory.mktemp("admission"), central)
    early = setup.data.parent / "early-roster.csv"
    early.write_text("candidate_id,name,scheme,seat,accommodations\ncand-4,Frances Allen,scheme-a,B2,\n"
                     f"cand-5,John Backus,scheme-a,B3,\ncand-9,Edsger Dijkstra,scheme-a,B1,\"{TOO_MUCH}\"\n")
    assert "Imported 3" in cli(setup.data, "roster", "import", str(early))
    assert roster_rows(setup.data)["cand-9"]["policy"]["status"] == "unknown"
    for package_id, form_id in (("pkg-a", "form-a"), ("pkg-b", "form-b")):
        setup.packages[package_id] = make_package(setup, package_id, form_id=form_id, accommodation_policy=POLICY)
        cli(setup.data, "packages", "import", str(setup.packages[package_id]))
    server = start_console(setup.data, setup.data.parent)
    try:
        yield RunningConsole(setup, server)
    finally:
        server.stop()


class Proctor:
    def __init__(self, running: RunningConsole) -> None:
        self.socket, self.csrf, self.received = running.proctor_socket(running.login())

    def act(self, **payload: Any) -> dict[str, Any]:
        return self.socket.call("action", {"csrf": self.csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE,
                                timeout=30)

    def admit(self, kiosk: Any, candidate_id: str, package_id: str) -> dict[str, Any]:
        return self.act(type="admit", kiosk_id=kiosk.kiosk_id, candidate_id=candidate_id, package_id=package_id,
                        identity_checked=True)

    def sit(self, kiosk: Any, candidate_id: str, package_id: str) -> dict[str, Any]:
        """Admit and start: the candidate has now sat (seen the questions)."""
        admitted = self.admit(kiosk, candidate_id, package_id)
        assert admitted["ok"], admitted
        wait_until(lambda: kiosk.state == "admitted")
        assert self.act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
        wait_until(lambda: kiosk.state == "in_progress")
        return admitted["result"]


    def end(self, kiosk: Any, reason: str, data: Path) -> None:
        """End the kiosk's attempt and wait until the console has recorded the kiosk's ack."""
        attempt_id = kiosk.attempt_id
        assert self.act(type="end", kiosk_id=kiosk.kiosk_id, reason=reason)["ok"]
        wait_until(lambda: any(s["attempt_id"] == attempt_id and s["state"] == "ended"
                               for c in roster_rows(data).values() for s in c["sat"]), timeout=30)


@pytest.fixture
def proctor(world: RunningConsole) -> Iterator[Proctor]:
    proctor = Proctor(world)
    yield proctor
    proctor.socket.disconnect()


def submit(kiosk: Any, reason: str) -> None:
    """The kiosk reports what ended the attempt (``reason`` as kiosk/session.py names it) and delivers
    its sealed envelope, as kiosk/session.py does."""
    chain = [kiosk.pairing.centre_certificate.encode(), kiosk.pairing.kiosk_certificate.encode()]
    sealed = envelope.seal_envelope({"responses": []}, attempt_id=kiosk.attempt_id, centre_id="centre-1",
                                    kiosk_id=kiosk.kiosk_id, form_id="form-a", form_version=1, package_id="pkg-a",
                                    kiosk_signing_key=kiosk.signing_key, chain=chain,
                                    results_public=keys.generate_hpke_key(keys.SUITE_X25519).public_key())
    digest = envelope.envelope_hash(sealed)
    event = kiosk.make_event("attempt.submitted", "info", data={"reason": reason, "envelope_sha256": digest})
    assert kiosk.send_event(event)["ok"]
    stored = kiosk.call(protocol.ENVELOPE, {"v": 1, "attempt_id": kiosk.attempt_id, "envelope": b64e(sealed),
                                            "sha256": digest})
    assert stored["ok"], stored


def test_a_roster_granting_more_than_the_scheme_allows_is_refused_naming_each_row(world: RunningConsole) -> None:
    data = world.setup.data
    roster = data.parent / "too-much.csv"
    roster.write_text("candidate_id,name,scheme,seat,accommodations\n"
                      "cand-7,Barbara Liskov,scheme-a,C1,\"{\"\"extra_time_percent\"\": 50}\"\n"
                      f"cand-8,Donald Knuth,scheme-a,C2,\"{TOO_MUCH}\"\n")
    refused = run_cli(data, "roster", "import", str(roster))
    assert refused.returncode == 1
    for reason in REFUSED_REASONS:
        assert f"line 3: candidate cand-8: {reason} (scheme scheme-a, package pkg-a)" in refused.stderr
    assert "cand-7" not in refused.stderr
    rows = roster_rows(data)
    assert "cand-7" not in rows and "cand-8" not in rows       # the whole file is refused
    # the roster view shows what each candidate is granted and whether the scheme allows it
    assert rows["cand-2"]["accommodations"] == {"extra_time_percent": 25}
    assert rows["cand-2"]["accommodations_text"] == "extra time +25 %"
    assert rows["cand-2"]["policy"]["status"] == "allowed"
    assert rows["cand-1"]["policy"] == {"status": "none", "reasons": []}
    assert rows["cand-9"]["policy"]["status"] == "refused"
    human = cli(data, "roster", "list")
    assert "cand-9" in human and "NOT ALLOWED: extra_time_percent 100" in human


def test_admission_refuses_what_the_scheme_does_not_allow_and_applies_extra_time_once(
        world: RunningConsole, proctor: Proctor) -> None:
    kiosk = world.kiosk("kiosk-gate")
    for package_id in ("pkg-a", "pkg-open"):   # pkg-open carries no policy: its scheme's policy is known from pkg-a
        refused = proctor.admit(kiosk, "cand-9", package_id)
        assert not refused["ok"] and refused["code"] == "conflict"
        assert all(reason in refused["error"] for reason in REFUSED_REASONS)
    assert not [c for c in kiosk.commands if c["type"] == "admit"]
    admitted = proctor.admit(kiosk, "cand-2", "pkg-a")
    assert admitted["ok"], admitted
    wait_until(lambda: kiosk.state == "admitted")
    attempt = kiosk.commands[-1]["args"]["attempt"]
    assert attempt["accommodations"]["extra_time_percent"] == 25
    assert attempt["duration_seconds"] == 75 * 60   # 60 minutes + 25 %, once: the kiosk adds nothing more
    assert proctor.act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
    wait_until(lambda: kiosk.state == "in_progress")
    assert proctor.act(type="end", kiosk_id=kiosk.kiosk_id, reason="candidate unwell")["ok"]
    wait_until(lambda: kiosk.state == "ended")


def test_a_candidate_who_has_sat_is_admitted_again_only_on_a_centre_admins_reason(
        world: RunningConsole, proctor: Proctor) -> None:
    data = world.setup.data
    first, second = world.kiosk("kiosk-r1"), world.kiosk("kiosk-r2")
    proctor.sit(first, "cand-3", "pkg-a")
    held = proctor.admit(second, "cand-3", "pkg-b")      # one exam at a time, whatever the form
    assert not held["ok"] and "already admitted on kiosk kiosk-r1" in held["error"]
    proctor.end(first, "fire alarm", data)
    for kiosk, package_id in ((second, "pkg-a"), (second, "pkg-b")):   # the same form, and the other one
        refused = proctor.admit(kiosk, "cand-3", package_id)
        assert not refused["ok"] and refused["code"] == "conflict"
        assert "has already sat package pkg-a on kiosk kiosk-r1" in refused["error"]
    assert roster_rows(data)["cand-3"]["sat"][0]["package_id"] == "pkg-a"

    by_proctor = run_cli(data, "roster", "readmit", "cand-3", "--reason", "fire alarm", "--by", "paula")
    assert by_proctor.returncode == 1 and "only a centre admin" in by_proctor.stderr
    no_reason = run_cli(data, "roster", "readmit", "cand-3", "--reason", "  ", "--by", "admin")
    assert no_reason.returncode == 1 and "reason" in no_reason.stderr
    cli(data, "roster", "readmit", "cand-3", "--reason", "evacuated by the fire alarm", "--by", "admin")
    assert roster_rows(data)["cand-3"]["readmission"]["reason"] == "evacuated by the fire alarm"
    again = proctor.sit(second, "cand-3", "pkg-b")
    proctor.end(second, "test over", data)
    third = proctor.admit(first, "cand-3", "pkg-b")     # the grant was used by one admission
    assert not third["ok"] and "has already sat" in third["error"]

    report = json.loads(cli(data, "report", "pkg-b", "--json"))
    (sitting,) = [a for a in report["attempts"] if a["attempt_id"] == again["attempt_id"]]
    assert sitting["readmission"] == {"allowed_by": "admin", "reason": "evacuated by the fire alarm"}
    admits = [a for a in report["actions"] if a["type"] == "admit" and a["attempt_id"] == again["attempt_id"]]
    assert len(admits) == 1


def test_the_report_says_how_and_when_each_attempt_ended_and_who_sat_the_other_form(
        world: RunningConsole, proctor: Proctor) -> None:
    data = world.setup.data
    timed_out, unwell = world.kiosk("kiosk-t1"), world.kiosk("kiosk-t2")
    proctor.sit(timed_out, "cand-4", "pkg-a")
    submit(timed_out, "timeout")
    proctor.sit(unwell, "cand-5", "pkg-a")
    assert proctor.act(type="end", kiosk_id="kiosk-t2", reason="candidate unwell")["ok"]
    submit(unwell, "proctor_end")
    wait_until(lambda: json.loads(cli(data, "report", "pkg-a", "--json"))["summary"]["envelopes"] == 2)
    report = json.loads(cli(data, "report", "pkg-a", "--json"))
    by_candidate = {a["candidate_id"]: a for a in report["attempts"]}
    assert by_candidate["cand-4"]["state"] == "submitted" and by_candidate["cand-4"]["ended_at"]
    assert by_candidate["cand-4"]["ended_how"] == "time ran out"
    assert by_candidate["cand-5"]["state"] == "ended" and by_candidate["cand-5"]["ended_at"]
    assert by_candidate["cand-5"]["ended_how"] == "ended by a proctor: candidate unwell"
    other = json.loads(cli(data, "report", "pkg-b", "--json"))
    attendance = {a["candidate_id"]: a for a in other["attendance"]}
    assert attendance["cand-4"]["status"] == "sat another form" and attendance["cand-4"]["other_forms"] == ["pkg-a"]
    assert attendance["cand-1"]["status"] == "absent"
    assert other["summary"]["absent"] == sum(a["status"] == "absent" for a in other["attendance"])
