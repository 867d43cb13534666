"""Release attestation against a real console process over real Socket.IO (simulated kiosks sign
their measurement over each connection's login challenge, exactly as kiosk/link.py does).

Module order matters: the first test runs before the allow-list exists (record-only policy), the
others after ``release-allowlist add`` created it (refuse policy).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from exam_core import protocol
from tests.support.console_world import RunningConsole, cli, let_sit_again, wait_until

pytestmark = pytest.mark.slow

RELEASED = hashlib.sha256(b"released kiosk build").hexdigest()
UNKNOWN = hashlib.sha256(b"patched kiosk build").hexdigest()


class Proctor:
    def __init__(self, running: RunningConsole) -> None:
        self.socket, self.csrf, self.received = running.proctor_socket(running.login())
        self.data = running.setup.data

    def act(self, **payload):
        return self.socket.call("action", {"csrf": self.csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE,
                                timeout=30)

    def admit(self, kiosk_id: str, candidate_id: str):
        let_sit_again(self.data, candidate_id)  # the module's tests reuse the roster's candidates
        return self.act(type="admit", kiosk_id=kiosk_id, candidate_id=candidate_id, package_id="pkg-open",
                        identity_checked=True)

    def attestation_alerts(self, kiosk_id: str) -> list[dict]:
        return [data for event, data in self.received
                if event == protocol.PROCTOR_ALERT and data["kiosk_id"] == kiosk_id and data["rule"] == "attestation"]


@pytest.fixture
def proctor(running_console: RunningConsole):
    proctor = Proctor(running_console)
    yield proctor
    proctor.socket.disconnect()


def _attested_kiosk(running: RunningConsole, kiosk_id: str, measurement: str):
    kiosk = running.kiosk(kiosk_id, connect=False)
    kiosk.measurement = measurement
    kiosk.connect()
    return kiosk


def _end(proctor: Proctor, kiosk, reason: str = "test over") -> None:
    assert proctor.act(type="end", kiosk_id=kiosk.kiosk_id, reason=reason)["ok"]
    wait_until(lambda: kiosk.state == "ended")
    kiosk.disconnect()


def test_without_an_allowlist_attestations_are_recorded_not_enforced(running_console, proctor):
    listed = json.loads(cli(running_console.setup.data, "release-allowlist", "list", "--json"))
    assert listed == {"enforcing": False, "measurements": {}}
    kiosk = _attested_kiosk(running_console, "kiosk-dev", UNKNOWN)
    assert proctor.admit("kiosk-dev", "cand-1")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    assert proctor.act(type="start", kiosk_id="kiosk-dev")["ok"]
    wait_until(lambda: kiosk.state == "in_progress")
    assert proctor.attestation_alerts("kiosk-dev") == []
    _end(proctor, kiosk)


@pytest.fixture
def allowlist(running_console: RunningConsole) -> str:
    data = running_console.setup.data
    with pytest.raises(AssertionError, match="64 lower-case hex"):
        cli(data, "release-allowlist", "add", "not-a-digest", "--release", "x", "--by", "admin")
    entry = json.loads(cli(data, "release-allowlist", "add", RELEASED.upper(), "--release", "2026.11",
                           "--by", "centre.admin", "--json"))
    assert entry["measurement"] == RELEASED and entry["release"] == "2026.11"
    return RELEASED


def test_released_measurement_may_start(running_console, proctor, allowlist):
    kiosk = _attested_kiosk(running_console, "kiosk-ok", allowlist)
    assert proctor.admit("kiosk-ok", "cand-1")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    started = proctor.act(type="start", kiosk_id="kiosk-ok")
    assert started["ok"], started
    wait_until(lambda: kiosk.state == "in_progress")
    assert kiosk.content_key is not None and proctor.attestation_alerts("kiosk-ok") == []
    _end(proctor, kiosk)


def test_unknown_measurement_raises_an_alert_and_start_is_refused(running_console, proctor, allowlist):
    kiosk = _attested_kiosk(running_console, "kiosk-bad", UNKNOWN)
    alerts = wait_until(lambda: proctor.attestation_alerts("kiosk-bad"))
    evidence = alerts[-1]["evidence"]
    assert evidence["measurement"] == UNKNOWN and "not on the release allow-list" in evidence["reason"]
    assert alerts[-1]["severity"] == "high"
    assert proctor.admit("kiosk-bad", "cand-2")["ok"]  # admission still works: the proctor moves the candidate
    wait_until(lambda: kiosk.state == "admitted")
    refused = proctor.act(type="start", kiosk_id="kiosk-bad")
    assert not refused["ok"] and "failed release attestation" in refused["error"] and UNKNOWN in refused["error"]
    assert kiosk.content_key is None and kiosk.state == "admitted"
    # once the centre accepts that build, the same connection may start
    cli(running_console.setup.data, "release-allowlist", "add", UNKNOWN, "--release", "hotfix", "--by", "admin")
    assert proctor.act(type="start", kiosk_id="kiosk-bad")["ok"]
    wait_until(lambda: kiosk.state == "in_progress")
    cli(running_console.setup.data, "release-allowlist", "remove", UNKNOWN, "--by", "admin")
    _end(proctor, kiosk)


def test_attestation_replayed_from_an_earlier_connection_is_refused(running_console, proctor, allowlist):
    kiosk = _attested_kiosk(running_console, "kiosk-replay", allowlist)
    recorded = kiosk.last_attestation
    assert recorded is not None
    kiosk.disconnect()
    kiosk.attestation_override = recorded  # a valid, released attestation, but for the old challenge
    kiosk.connect()
    alerts = wait_until(lambda: proctor.attestation_alerts("kiosk-replay"))
    assert alerts[-1]["evidence"]["reason"].startswith("stale")
    assert proctor.admit("kiosk-replay", "cand-3")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    refused = proctor.act(type="start", kiosk_id="kiosk-replay")
    assert not refused["ok"] and "stale" in refused["error"]
    # a fresh attestation on a new connection is accepted again
    kiosk.disconnect()
    kiosk.attestation_override = None
    kiosk.connect()
    assert proctor.act(type="start", kiosk_id="kiosk-replay")["ok"]
    wait_until(lambda: kiosk.state == "in_progress")
    _end(proctor, kiosk)


def test_offline_kiosk_and_missing_attestation_are_refused(running_console, proctor, allowlist):
    kiosk = _attested_kiosk(running_console, "kiosk-queue", allowlist)
    assert proctor.admit("kiosk-queue", "cand-1")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    kiosk.disconnect()
    wait_until(lambda: not kiosk.connected)
    refused = proctor.act(type="start", kiosk_id="kiosk-queue")
    assert not refused["ok"] and "not connected" in refused["error"]
    kiosk.measurement = None  # reconnects without any attestation
    kiosk.connect()
    alerts = wait_until(lambda: proctor.attestation_alerts("kiosk-queue"))
    assert alerts[-1]["evidence"]["reason"].startswith("missing")
    refused = proctor.act(type="start", kiosk_id="kiosk-queue")
    assert not refused["ok"] and "missing" in refused["error"]
    assert kiosk.content_key is None
    listed = json.loads(cli(running_console.setup.data, "release-allowlist", "list", "--json"))
    assert listed["enforcing"] is True and list(listed["measurements"]) == [RELEASED]
    # The exam never started, so there is nothing to end: the console says so plainly (issue 13).
    refused = proctor.act(type="end", kiosk_id="kiosk-queue", reason="test over")
    assert not refused["ok"] and "does not fit" in refused["error"]
    kiosk.disconnect()
