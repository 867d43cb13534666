"""The kiosk against the real proctor console, both as processes: pairing with a one-time code and
a pinned TLS certificate, challenge login, admission and key release by a proctor, a whole exam,
the sealed envelope accepted by the console, and a kill -9 of the kiosk with resume approval, all
with the console enforcing release attestation (the kiosk's measurement on its allow-list).

The console is set up with its own CLI (init, certificate install, users, roster, packages import)
and driven by a proctor over its /proctor Socket.IO namespace, as in the console's own tests (the
``real`` fixture, tests/e2e/conftest.py, built by tests/support/kiosk_real_console.py).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest

from simulators.forms import ANSWERS
from tests.support.console_world import cli
from tests.support.kiosk_fake_console import wait_for
from tests.support.tools import REPO_ROOT

pytestmark = pytest.mark.slow


def test_whole_exam_against_the_real_console_with_a_kill_9(real):
    console, kiosk, _results_key, _central_key = real
    code = json.loads(cli(console.setup.data, "pair", "--json"))["code"]
    kiosk.start(["--pair-code", code])
    pairing = json.loads((kiosk.data / "device" / "pairing.json").read_text())
    assert pairing["tls_fingerprint_sha256"] and (kiosk.data / "device" / "console-tls.pem").exists()
    wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk logged in to the console")

    session = console.login()
    proctor, csrf, _ = console.proctor_socket(session)

    def act(**payload):
        return proctor.call("action", {"csrf": csrf, **payload}, namespace="/proctor", timeout=30)

    admitted = act(type="admit", kiosk_id="kiosk-real", candidate_id="cand-1", package_id="pkg-real",
                   identity_checked=True)
    assert admitted["ok"], admitted
    wait_for(lambda: kiosk.state()["screen"] == "identity", timeout=30, what="admission shown")
    assert kiosk.state()["candidate"]["name"] == "Ada Lovelace"
    kiosk.post("confirm_identity")
    wait_for(lambda: (kiosk.data / "packages" / "pkg-real.pkg").exists(), timeout=30, what="package fetched")
    started = act(type="start", kiosk_id="kiosk-real")
    assert started["ok"], started
    wait_for(lambda: kiosk.state()["screen"] == "agreement", timeout=30, what="key released")
    kiosk.post("agreement", {"accepted": True, "monitoring_notice": kiosk.state()["monitoring"]["sha256"]})
    kiosk.post("begin")
    items = list(ANSWERS.items())
    for item_id, value in items[:5]:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    remaining = kiosk.state()["timer"]["remaining_ms"]
    kiosk.stop(signal.SIGKILL)
    kiosk.start()
    wait_for(lambda: kiosk.state()["screen"] == "resume_wait", timeout=30, what="resume wait screen")
    wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk back on the console")
    approved = act(type="approve_resume", kiosk_id="kiosk-real")
    assert approved["ok"], approved
    wait_for(lambda: kiosk.state()["screen"] == "exam", timeout=30, what="resumed")
    assert abs(kiosk.state()["timer"]["remaining_ms"] - remaining) <= 1500
    for item_id, value in items[5:]:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    receipt = kiosk.post("submit", {"confirm": True})["receipt_code"]

    def delivered():
        out = subprocess.run([sys.executable, "-m", "kiosk", "status", "--data", str(kiosk.data), "--json"],
                             cwd=REPO_ROOT, capture_output=True, text=True)
        return out.returncode == 0 and json.loads(out.stdout)["outbox"]["envelope"] == 0
    wait_for(delivered, timeout=30, what="envelope acknowledged by the console")
    proctor.disconnect()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", receipt)


def test_real_console_refuses_to_start_a_kiosk_whose_build_is_not_allowed(real):
    """The allow-list holds another build: the real kiosk's attestation raises an alert saying what
    it measured, and no content key is released to it."""
    console, kiosk, _, _ = real
    allowlist = json.loads(cli(console.setup.data, "release-allowlist", "list", "--json"))["measurements"]
    (ours,) = allowlist
    cli(console.setup.data, "release-allowlist", "add", "0" * 64, "--release", "other", "--by", "admin")
    cli(console.setup.data, "release-allowlist", "remove", ours, "--by", "admin")
    code = json.loads(cli(console.setup.data, "pair", "--json"))["code"]
    kiosk.start(["--pair-code", code])
    wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk logged in to the console")
    proctor, csrf, received = console.proctor_socket(console.login())

    def act(**payload):
        return proctor.call("action", {"csrf": csrf, **payload}, namespace="/proctor", timeout=30)

    assert act(type="admit", kiosk_id="kiosk-real", candidate_id="cand-1", package_id="pkg-real",
               identity_checked=True)["ok"]
    wait_for(lambda: kiosk.state()["screen"] == "identity", timeout=30, what="admission shown")
    refused = act(type="start", kiosk_id="kiosk-real")
    assert not refused["ok"] and ours in refused["error"] and "allow-list" in refused["error"]
    # raised at the kiosk's hello, before this proctor connected: on the dashboard's opening snapshot
    wait_for(lambda: any(event == "snapshot" for event, _ in received), timeout=10, what="dashboard snapshot")
    snapshot = next(data for event, data in received if event == "snapshot")
    (found,) = [a for a in snapshot["alerts"] if a["rule"] == "attestation"]
    assert found["kiosk_id"] == "kiosk-real" and found["evidence"]["measurement"] == ours
    assert "not on the release allow-list" in found["evidence"]["reason"]
    assert kiosk.state()["screen"] == "identity"
    proctor.disconnect()
