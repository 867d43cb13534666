"""The /kiosk namespace with real python-socketio clients against a real console process."""

from __future__ import annotations

import functools

import pytest
import requests
import socketio

from exam_core import keys, pairing, protocol
from exam_core.errors import InvigilError
from simulators.kiosk import SimKiosk
from tests.support.console_world import RunningConsole, cli, let_sit_again, wait_until

pytestmark = pytest.mark.slow


def _in_state(kiosk: SimKiosk, state: str) -> bool:
    return kiosk.state == state




def test_pairing_pins_tls_and_login_works(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-a")
    assert kiosk.pairing.tls_fingerprint_sha256
    assert isinstance(kiosk.verify, str) and kiosk.verify.endswith(".pem")
    assert kiosk.heartbeat(progress={"answered": 0, "total": 40})["ok"]
    kiosk.disconnect()


def test_pairing_code_is_single_use_and_wrong_code_refused(running_console: RunningConsole) -> None:
    code = running_console.pairing_code()
    first = protocol_kiosk(running_console, "kiosk-b")
    first.pair(code)
    again = protocol_kiosk(running_console, "kiosk-c")
    with pytest.raises(RuntimeError, match="403"):
        again.pair(code)
    with pytest.raises(RuntimeError, match="403"):
        again.pair(pairing.new_pairing_code())


def protocol_kiosk(running: RunningConsole, kiosk_id: str):
    from simulators.kiosk import SimKiosk
    return SimKiosk(running.url, kiosk_id, verify=False)


def test_unknown_kiosk_and_bad_signature_refused(running_console: RunningConsole) -> None:
    stranger = protocol_kiosk(running_console, "kiosk-unpaired")
    stranger.verify = False
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(timeout=5)
    kiosk = running_console.kiosk("kiosk-d", connect=False)
    impostor_key = keys.generate_signing_key()
    kiosk.auth_override = protocol.make_kiosk_auth(impostor_key, kiosk.fetch_challenge(), "kiosk-d").to_dict()
    with pytest.raises(socketio.exceptions.ConnectionError):
        kiosk.connect(timeout=5)


def test_replayed_challenge_refused(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-e", connect=False)
    auth = protocol.make_kiosk_auth(kiosk.signing_key, kiosk.fetch_challenge(), "kiosk-e").to_dict()
    kiosk.auth_override = auth
    kiosk.connect()
    kiosk.disconnect()
    replay = protocol_kiosk(running_console, "kiosk-e")
    replay.signing_key, replay.verify, replay.auth_override = kiosk.signing_key, False, auth
    replay.sio.reconnection = False
    with pytest.raises(socketio.exceptions.ConnectionError):
        replay.connect(timeout=5)


def test_revoked_kiosk_refused(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-f")
    assert kiosk.send_event(kiosk.make_event())["ok"]
    kiosk.sio.reconnection = False
    cli(running_console.setup.data, "kiosks", "revoke", "kiosk-f", "--reason", "stolen")  # while connected
    # another process revoked it: refused within REVOKED_CACHE_SECONDS
    ack = wait_until(lambda: (lambda a: a if not a["ok"] else None)(kiosk.send_event(kiosk.make_event())), 10)
    assert ack["error"] == "unauthorised"
    wait_until(lambda: not kiosk.connected)
    again = protocol_kiosk(running_console, "kiosk-f")  # same keys, new connection: login refused
    again.signing_key, again.verify = kiosk.signing_key, kiosk.verify
    again.sio.reconnection = False
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(timeout=5)


def test_duplicate_and_out_of_order_events_stored_once(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-g")
    events = [kiosk.make_event() for _ in range(5)]
    for event in [events[3], events[0], events[4], events[1], events[2], events[0], events[3]]:
        assert kiosk.send_event(event)["ok"]
    acks = [kiosk.send_event(e) for e in events]
    assert all(a["duplicate"] for a in acks)
    kiosk.disconnect()
    import sqlite3
    db = sqlite3.connect(running_console.setup.data / "console.db")
    rows = db.execute("SELECT seq FROM events WHERE kiosk_id = 'kiosk-g' ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [0, 1, 2, 3, 4]


def test_event_for_another_kiosk_and_bad_events_refused(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-h")
    forged = {**kiosk.make_event(), "kiosk_id": "kiosk-other"}
    ack = kiosk.send_event(forged)
    assert ack == {"ok": False, "error": "invalid", "reason": ack["reason"]} and "kiosk_id" in ack["reason"]
    bad = {**kiosk.make_event(), "severity": "apocalyptic"}
    assert kiosk.send_event(bad)["error"] == "invalid"
    assert kiosk.call(protocol.HEARTBEAT, {"v": 1, "state": "hacked", "wall_time": "x"})["error"] == "invalid"


def test_kiosk_credential_cannot_act_as_proctor(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-i")
    # the kiosk's namespace has no handler for proctor actions: nothing is done
    try:
        reply = kiosk.call("action", {"type": "mass_pause", "reason": "x"}, timeout=3)
    except socketio.exceptions.TimeoutError:
        reply = None
    assert not (isinstance(reply, dict) and reply.get("ok"))
    import sqlite3
    db = sqlite3.connect(running_console.setup.data / "console.db")
    assert db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'session.mass_pause'").fetchone()[0] == 0
    # and without a proctor session the /proctor namespace refuses it
    client = socketio.Client(ssl_verify=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(running_console.url, namespaces=[protocol.PROCTOR_NAMESPACE], auth={"csrf": "x"},
                       transports=["websocket"], wait_timeout=5)
    # HTTP pages and reports need a login too
    for path in ("/dashboard", "/sessions/pkg-open/report.json", "/admin", "/media/snapshots/x.jpg"):
        reply = requests.get(running_console.url + path, verify=False, allow_redirects=False, timeout=30)
        assert reply.status_code in (302, 401), path


def test_events_reach_proctor_and_alerts_dedupe(running_console: RunningConsole) -> None:
    session = running_console.login()
    proctor, csrf, received = running_console.proctor_socket(session)
    kiosk = running_console.kiosk("kiosk-j")
    for _ in range(3):
        kiosk.send_event(kiosk.make_event("face.absent", "high", rule="no_face_for",
                                          thresholds={"seconds": 5}, evidence={"faces": 0}))
    wait_until(lambda: any(e == protocol.PROCTOR_ALERT and d["count"] == 3 for e, d in received))
    alerts = [d for e, d in received if e == protocol.PROCTOR_ALERT]
    assert {a["alert_id"] for a in alerts} == {alerts[0]["alert_id"]}
    assert max(a["count"] for a in alerts) == 3 and alerts[-1]["thresholds"] == {"seconds": 5}
    reply = proctor.call("action", {"csrf": csrf, "type": "alert_ack", "alert_id": alerts[0]["alert_id"],
                                    "reason": "candidate bent to pick up a pen"}, namespace=protocol.PROCTOR_NAMESPACE)
    assert reply["ok"], reply
    reply = proctor.call("action", {"csrf": "wrong", "type": "mass_pause", "reason": "x"},
                         namespace=protocol.PROCTOR_NAMESPACE)
    assert not reply["ok"] and "CSRF" in reply["error"]
    proctor.disconnect()


def test_admit_start_key_release_and_commands_applied_once(running_console: RunningConsole) -> None:
    session = running_console.login()
    proctor, csrf, _received = running_console.proctor_socket(session)
    kiosk = running_console.kiosk("kiosk-k")

    def act(**payload):
        return proctor.call("action", {"csrf": csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)

    refused = act(type="admit", kiosk_id="kiosk-k", candidate_id="cand-1", package_id="pkg-open")
    assert not refused["ok"] and "identity" in refused["error"]
    admitted = act(type="admit", request_id="req-admit-0001", kiosk_id="kiosk-k", candidate_id="cand-1",
                   package_id="pkg-open", identity_checked=True)
    assert admitted["ok"], admitted
    again = act(type="admit", request_id="req-admit-0001", kiosk_id="kiosk-k", candidate_id="cand-1",
                package_id="pkg-open", identity_checked=True)
    assert again["result"]["command_id"] == admitted["result"]["command_id"]
    wait_until(lambda: kiosk.state == "admitted")
    started = act(type="start", request_id="req-start-0001", kiosk_id="kiosk-k")
    assert started["ok"], started
    wait_until(lambda: kiosk.state == "in_progress")
    assert kiosk.content_key is not None and len(kiosk.content_key) == 32
    # A proctor client that lost the reply asks again after the kiosk applied the start: same command,
    # not a refusal for the attempt's new state, and nothing sent twice.
    asked_again = act(type="start", request_id="req-start-0001", kiosk_id="kiosk-k")
    assert asked_again["ok"] and asked_again["result"]["command_id"] == started["result"]["command_id"]
    reused = act(type="pause", request_id="req-start-0001", kiosk_id="kiosk-k", reason="x")
    assert not reused["ok"] and "request_id" in reused["error"]
    assert act(type="pause", kiosk_id="kiosk-k", reason="toilet break")["ok"]
    wait_until(lambda: kiosk.state == "paused")
    assert not act(type="extend", kiosk_id="kiosk-k", minutes=10, reason="")["ok"]
    assert act(type="extend", kiosk_id="kiosk-k", minutes=10, reason="fire alarm")["ok"]
    assert act(type="resume", kiosk_id="kiosk-k")["ok"]
    wait_until(lambda: kiosk.state == "in_progress")
    assert act(type="end", kiosk_id="kiosk-k", reason="candidate left")["ok"]
    wait_until(lambda: kiosk.state == "ended")
    kinds = [c["type"] for c in kiosk.commands]
    assert kinds == ["admit", "start", "pause", "extend", "resume", "end"]
    def acked_report():
        data = session.get(running_console.url + "/sessions/pkg-open/report.json").json()
        return data if all(a["status"] == "acked" for a in data["actions"]) else None
    report = wait_until(acked_report)
    assert [a["type"] for a in report["actions"]] == kinds
    assert all(a["status"] == "acked" and a["issued_by"] == "paula" for a in report["actions"])
    assert report["attempts"][0]["extra_seconds"] == 600
    proctor.disconnect()


def test_envelope_header_verified_stored_and_receipt_recorded(running_console: RunningConsole) -> None:
    import sqlite3

    from exam_core import envelope, receipt
    from exam_core.jsonio import b64e as enc
    from proctor_console.context import ConsoleContext
    from proctor_console.sync.outbox import SyncOutbox

    session = running_console.login()
    proctor, csrf, _ = running_console.proctor_socket(session)
    kiosk = running_console.kiosk("kiosk-env")
    admitted = proctor.call("action", {"csrf": csrf, "type": "admit", "kiosk_id": "kiosk-env", "candidate_id": "cand-3",
                                       "package_id": "pkg-open", "identity_checked": True},
                            namespace=protocol.PROCTOR_NAMESPACE)
    attempt_id = admitted["result"]["attempt_id"]
    centre_cert = kiosk.pairing.centre_certificate.encode()
    chain = [centre_cert, kiosk.pairing.kiosk_certificate.encode()]
    results_key = keys.generate_hpke_key(keys.SUITE_X25519)

    def sealed(attempt: str, signer) -> bytes:
        return envelope.seal_envelope({"responses": []}, attempt_id=attempt, centre_id="centre-1",
                                      kiosk_id="kiosk-env", form_id="form-1", form_version=1, package_id="pkg-open",
                                      kiosk_signing_key=signer, chain=chain, results_public=results_key.public_key())

    def send(data: bytes):
        return kiosk.call(protocol.ENVELOPE, {"v": 1, "attempt_id": attempt_id, "envelope": enc(data),
                                              "sha256": envelope.envelope_hash(data)})

    forged = send(sealed(attempt_id, keys.generate_signing_key()))
    assert not forged["ok"] and forged["error"] == "invalid"
    good = sealed(attempt_id, kiosk.signing_key)
    assert send(good) == {"ok": True, "sha256": envelope.envelope_hash(good), "duplicate": False}
    assert send(good)["duplicate"] is True
    db = sqlite3.connect(running_console.setup.data / "console.db")
    assert db.execute("SELECT COUNT(*) FROM envelopes WHERE attempt_id = ?", [attempt_id]).fetchone()[0] == 1
    store = SyncOutbox(ConsoleContext(running_console.setup.data))
    pending = [e for batch in store.pending(10 ** 7, 100) for e in batch if e.attempt_id == attempt_id]
    assert [e.data for e in pending] == [good]  # kept, byte for byte, until a receipt verifies
    central = running_console.setup.central.key
    with pytest.raises(InvigilError):
        store.settle(pending[0], receipt.issue_receipt(keys.generate_signing_key(), good, "impostor"),
                     central.public_key())
    store.settle(pending[0], receipt.issue_receipt(central, good, "central"), central.public_key())
    assert db.execute("SELECT receipt IS NOT NULL FROM envelopes WHERE attempt_id = ?", [attempt_id]).fetchone()[0]
    proctor.disconnect()


def test_restart_resume_approval_message_and_mass_pause(running_console: RunningConsole) -> None:
    session = running_console.login("peter")
    proctor, csrf, received = running_console.proctor_socket(session)
    kiosks = [running_console.kiosk(f"kiosk-m{i}") for i in range(2)]

    def act(**payload):
        return proctor.call("action", {"csrf": csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)

    let_sit_again(running_console.setup.data, "cand-1", "cand-2")
    for kiosk, candidate in zip(kiosks, ("cand-1", "cand-2")):
        assert act(type="admit", kiosk_id=kiosk.kiosk_id, candidate_id=candidate, package_id="pkg-open",
                   identity_checked=True)["ok"]
        wait_until(functools.partial(_in_state, kiosk, "admitted"))
        assert act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
        wait_until(functools.partial(_in_state, kiosk, "in_progress"))
    assert act(type="message", kiosk_id="kiosk-m0", text="Ten minutes left")["ok"]
    wait_until(lambda: kiosks[0].messages == ["Ten minutes left"])

    # kiosk-m0 restarts: it lost the content key and asks for approval in its hello
    kiosk = kiosks[0]
    kiosk.disconnect()
    kiosk.content_key, kiosk.needs_resume_approval = None, True
    kiosk.connect()
    wait_until(lambda: any(e == protocol.PROCTOR_KIOSK and d["kiosk_id"] == "kiosk-m0" and d["needs_resume_approval"]
                      for e, d in received))
    assert act(type="approve_resume", kiosk_id="kiosk-m0")["ok"]
    wait_until(lambda: kiosk.content_key is not None and not kiosk.needs_resume_approval)

    reply = act(type="mass_pause", reason="fire alarm")
    assert reply["ok"] and reply["result"]["paused"] >= 2
    wait_until(lambda: all(k.state == "paused" for k in kiosks))
    for k in kiosks:
        assert act(type="end", kiosk_id=k.kiosk_id, reason="evacuation")["ok"]
    proctor.disconnect()


def test_socket_handshake_refuses_a_foreign_origin(running_console: RunningConsole) -> None:
    """Engine.IO's own origin check (no cross-site socket even with a stolen cookie); checked on the
    polling handshake, where the Origin header is exactly the one sent."""
    session = running_console.login()

    def handshake(origin: str) -> requests.Response:
        return session.get(running_console.url + "/socket.io/", params={"EIO": "4", "transport": "polling"},
                           headers={"Origin": origin})

    assert handshake(running_console.url).status_code == 200
    assert handshake("https://attacker.example").status_code == 400
