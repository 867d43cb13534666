"""Extra time, from the roster to the central body's timing record, as real parts (issue 13, items 1-2).

A scheme of 30-minute exams allowing up to 100 % extra time; its form published by the central
body's CLI, the package imported by the console's CLI (its manifest carries the scheme's policy);
a roster granting a candidate 100 % (and one row beyond the scheme, refused at import); the real
console server, a real kiosk process paired with a one-time code, a proctor admitting and starting
on the ``/proctor`` socket; the candidate submits, the console syncs over HTTPS to the central sync
API, and intake records the time allowed. Each hop must show 1:00:00 (the issue measured 2:00:00:
the console stretched the duration and the kiosk stretched it again).
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.items import synthetic
from tests.support.central_cli import Central
from tests.support.central_sync import Hub
from tests.support.console_world import (PASSWORD, PROCTOR, ConsoleSetup, RunningConsole, cli, start_console,
                                         wait_until)
from tests.support.kiosk_process import KioskProcess
from tests.support.ports import find_free_port
from tests.support.tools import REPO_ROOT

pytestmark = pytest.mark.slow

AREAS = ["algebra", "geometry"]
HOUR_MS = 3_600_000
HEADER = "candidate_id,name,scheme,seat,accommodations\n"


def _central(tmp_path: Path) -> tuple[Central, str]:
    """A central body with a 30-minute scheme (at most 100 % extra time, nothing else) and one form."""
    central = Central(tmp_path / "central")
    central.json("init", "--body-id", "body", "--name", "Body", "--suite", "x25519")
    items = synthetic.generate(8, AREAS, seed=5)
    synthetic.write_items(tmp_path / "items", items)
    for area in AREAS:
        central.json("import", tmp_path / "items" / area, "--area", area, "--by", "author")
    central.approve_all()
    scheme = synthetic.scheme_yaml("S30", AREAS, per_area=2).replace("duration_minutes: 60", "duration_minutes: 30")
    scheme = scheme.replace("accommodations_allowed: [extra_time_percent, large_text]\nmax_extra_time_percent: 50",
                            "accommodations_allowed: [extra_time_percent]\nmax_extra_time_percent: 100")
    (tmp_path / "scheme.yaml").write_text(scheme)
    central.json("schemes", "add", tmp_path / "scheme.yaml")
    form_id = central.json("forms", "build", "--scheme", "S30", "--count", "1", "--seed", "1")["forms"][0]["form_id"]
    return central, form_id


def _console(tmp_path: Path, central: Central, form_id: str) -> tuple[Path, str]:
    """A console certified by that body, with the published package and a roster (CLI processes)."""
    data = tmp_path / "console"
    cli(data, "init", "--centre-id", "centre-1", "--name", "Centre One")
    added = central.json("centres", "add", "--request", data / "enrolment-request.json", "--by", "admin")
    cli(data, "certificate", "install", added["certificate_bundle"])
    cli(data, "users", "add", PROCTOR, "--role", "proctor", "--password-stdin", stdin=PASSWORD + "\n")
    now = utc_now()
    published = central.json("publish", "--form", form_id, "--centre", "centre-1", "--opens",
                             format_time(now - timedelta(hours=1)), "--closes", format_time(now + timedelta(hours=4)),
                             "--out", tmp_path / "outbox", "--by", "admin")
    cli(data, "packages", "import", published["file"])
    beyond = tmp_path / "beyond.csv"
    beyond.write_text(f'{HEADER}c-2,Ben Beyond,S30,A2,"{{""extra_time_percent"": 150}}"\n')
    refused = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), "roster", "import",
                              str(beyond)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "line 2: candidate c-2: extra_time_percent 150: the scheme allows at most 100" \
        in refused.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text(f'{HEADER}c-1,Ada Double,S30,A1,"{{""extra_time_percent"": 100}}"\n')
    cli(data, "roster", "import", str(roster))
    return data, published["package_id"]


def _sit(console: RunningConsole, kiosk: KioskProcess, package_id: str) -> dict[str, Any]:
    """Pair, admit, start and begin as the proctor and the candidate do; returns the kiosk's timer."""
    kiosk.start(["--pair-code", console.pairing_code()])
    wait_until(lambda: kiosk.state()["console_connected"], timeout=60)     # logged in to the console
    proctor, csrf, _ = console.proctor_socket(console.login())

    def act(**payload: Any) -> dict[str, Any]:
        reply = proctor.call("action", {"csrf": csrf, **payload}, namespace="/proctor", timeout=30)
        assert reply["ok"], reply
        return reply

    act(type="admit", kiosk_id="kiosk-e2e", candidate_id="c-1", package_id=package_id, identity_checked=True)
    wait_until(lambda: kiosk.state()["screen"] == "identity", timeout=30)  # the admission shown
    kiosk.post("confirm_identity")
    wait_until(lambda: (kiosk.data / "packages" / f"{package_id}.pkg").exists(), timeout=60)  # package fetched
    act(type="start", kiosk_id="kiosk-e2e")
    wait_until(lambda: kiosk.state()["screen"] == "agreement", timeout=30)  # the content key released
    kiosk.post("agreement", {"accepted": True, "monitoring_notice": kiosk.state()["monitoring"]["sha256"]})
    kiosk.post("begin")
    timer = kiosk.state()["timer"]
    proctor.disconnect()
    return timer


def test_one_hundred_percent_on_thirty_minutes_is_one_hour_at_every_hop(tmp_path: Path) -> None:
    central, form_id = _central(tmp_path)
    data, package_id = _console(tmp_path, central, form_id)
    server = start_console(data, tmp_path)
    console = RunningConsole(ConsoleSetup(data, None), server)
    kiosk = KioskProcess(tmp_path / "kiosk", find_free_port(), tmp_path / "kiosk.log",
                         ["--console", console.url, "--central-cert", str(central.data_dir / "keys" / "central.cert"),
                          "--kiosk-id", "kiosk-e2e"])
    hub = Hub(central.data_dir, tls=True)
    try:
        timer = _sit(console, kiosk, package_id)
        assert timer["allowed_ms"] == HOUR_MS                       # what the candidate's clock counts down from
        assert HOUR_MS - 60_000 < timer["remaining_ms"] <= HOUR_MS
        kiosk.post("submit", {"confirm": True})

        def delivered() -> bool:
            out = subprocess.run([sys.executable, "-m", "kiosk", "status", "--data", str(kiosk.data), "--json"],
                                 cwd=REPO_ROOT, capture_output=True, text=True)
            return out.returncode == 0 and json.loads(out.stdout)["outbox"]["envelope"] == 0
        wait_until(delivered, timeout=60)                             # acknowledged by the console
        report = json.loads(cli(data, "report", package_id, "--json"))
        (attempt,) = report["attempts"]
        assert attempt["ended_how"] == "submitted by the candidate" and attempt["ended_at"]
        synced = json.loads(cli(data, "sync", "--hub", hub.url, "--tls-fingerprint", hub.fingerprint, "--json"))
        assert synced["envelopes_receipted"] == 1, synced
    finally:
        hub.stop()
        kiosk.stop(signal.SIGKILL)
        server.stop()
    (row,) = [r for r in central.json("intake", "list") if r["status"] == "accepted"]
    (record,) = csv.DictReader(io.StringIO(central.run("results", "export").output))
    assert record["attempt_id"] == row["attempt_id"] and record["candidate_id"] == "c-1"
    assert record["time_allowed_ms"] == str(HOUR_MS)                # the central timing record: 1:00:00
    assert record["review"] == "" and record["ended_by"] == "candidate"
