"""The kiosk against the real proctor console, both as processes: pairing with a one-time code and
a pinned TLS certificate, challenge login, admission and key release by a proctor, a whole exam,
the sealed envelope accepted by the console, and a kill -9 of the kiosk with resume approval, all
with the console enforcing release attestation (the kiosk's measurement on its allow-list).

The console is set up with its own CLI (init, certificate install, users, roster, packages import)
and driven by a proctor over its /proctor Socket.IO namespace, as in the console's own tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from exam_core import certs, formcontent, keys
from exam_core.timestamps import utc_now
from exam_core.package import build_form_package

from tests.support.tools import REPO_ROOT
from tests.support.ports import find_free_port, wait_for_port
from tests.support.console_world import (PASSWORD, PROCTOR, ROSTER, Central, ConsoleSetup, RunningConsole, cli,
                                         start_console)
from tests.kiosk.fake_console import wait_for
from tests.kiosk.forms import ANSWERS, make_content

pytestmark = pytest.mark.slow


class Kiosk:
    def __init__(self, data: Path, log: Path, args: list[str]) -> None:
        self.data, self.log, self.args = data, log, args
        self.port = find_free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.http = requests.Session()

    def start(self, extra: list[str] = ()) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DISPLAY", None)
        env.pop("PYNPUT_BACKEND", None)
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--data", str(self.data),
                                          "--no-browser", "--port", str(self.port), *self.args, *extra],
                                         cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=60, process=self.proc)
        token = re.search(r'name="kiosk-token" content="([^"]+)"', self.http.get(self.base + "/").text).group(1)
        self.http.headers["X-Kiosk-Token"] = token

    def post(self, name: str, body: dict | None = None) -> dict:
        reply = self.http.post(f"{self.base}/api/{name}", json=body or {}, timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def state(self) -> dict:
        return self.http.get(self.base + "/api/state", timeout=10).json()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)


@pytest.fixture
def real(tmp_path):
    central_key = keys.generate_signing_key()
    results_key = keys.generate_hpke_key(keys.SUITE_X25519)
    central = Central(central_key, certs.make_root_certificate(central_key, "central", results_key.public_key()))
    data = tmp_path / "console"
    cli(data, "init", "--centre-id", "centre-1", "--name", "Test Centre")
    bundle = tmp_path / "centre-cert.json"
    bundle.write_text(json.dumps(central.certify_centre((data / "enrolment-request.json").read_bytes())))
    cli(data, "certificate", "install", str(bundle))
    cli(data, "users", "add", PROCTOR, "--role", "proctor", "--password-stdin", stdin=PASSWORD + "\n")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    cli(data, "roster", "import", str(roster))
    form, media = make_content()
    now = utc_now()
    package, _ = build_form_package(
        formcontent.encode(form.to_dict(), media), package_id="pkg-real", form_id="F1", form_version=1,
        scheme_id="scheme-a", centre_id="centre-1", opens=now - timedelta(hours=1), closes=now + timedelta(hours=3),
        signing_key=central_key, centre_hpke_public=keys.load_public_key(data / "keys" / "centre-hpke.pub"),
        title="Real form", duration_seconds=3600, item_count=10)
    (tmp_path / "pkg-real.zip").write_bytes(package)
    cli(data, "packages", "import", str(tmp_path / "pkg-real.zip"))
    # The console enforces release attestation: only this code tree's measurement is accepted.
    measured = subprocess.run([sys.executable, "-m", "hardening", "measure", "--json"], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=True)
    cli(data, "release-allowlist", "add", json.loads(measured.stdout)["digest"], "--release", "test", "--by", "admin")
    server = start_console(data, tmp_path)
    console = RunningConsole(setup=ConsoleSetup(data, central), server=server)
    root = tmp_path / "central.cert"
    root.write_bytes(central.root_cert)
    kiosk = Kiosk(tmp_path / "kiosk", tmp_path / "kiosk.log",
                  ["--console", console.url, "--central-cert", str(root), "--kiosk-id", "kiosk-real"])
    yield console, kiosk, results_key, central_key
    kiosk.stop(signal.SIGKILL)
    server.stop()


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
