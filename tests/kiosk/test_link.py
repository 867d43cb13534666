"""The console link over real Socket.IO: admission, package fetch, key release, events and the
envelope delivered through the durable outbox, and a console outage mid-exam with nothing lost.

The console here is tests/support/kiosk_fake_console.py (real python-socketio, exam_core.protocol); see its
docstring for why the real proctor console is not used in these tests.
"""

from __future__ import annotations

import threading
import time

import pytest

from exam_core.tls import make_self_signed

from kiosk.link import ConsoleLink

from tests.support.kiosk_fake_console import FakeConsole, wait_for
from simulators.forms import ANSWERS
from tests.support.kiosk_world import World, make_runtime


@pytest.fixture(params=["http", "https"])
def setup(tmp_path, request):
    """A link to the fake console, over plain HTTP and over TLS pinned to the console certificate."""
    world = World(tmp_path)
    tls = world.console_tls(tmp_path) if request.param == "https" else None
    console = FakeConsole(world.device.signing_key.public_key(), tls=tls)
    console.store.packages["P1"] = world.package_bytes
    runtime = make_runtime(world, tmp_path)
    link = ConsoleLink(runtime, world.device, console.url, heartbeat_seconds=0.5)
    runtime.outbox.on_added = link.wake
    link.start()
    yield world, console, runtime, link
    link.stop()
    console.stop()


def test_admit_fetch_start_exam_and_envelope_delivery(setup):
    world, console, runtime, _link = setup
    wait_for(console.connected.is_set, what="kiosk login")
    assert console.send(world.admit())["ok"]
    wait_for(lambda: runtime.package_wanted() is None, what="package fetched over package_chunk")
    runtime.confirm_identity()
    ack = console.send(world.release())
    assert ack["ok"], ack
    session = runtime.require_session()
    session.accept_agreement()
    session.begin()
    for item_id, value in ANSWERS.items():
        session.answer(item_id, "R1", value)
    sealed = session.submit()
    wait_for(lambda: "ATT1" in console.store.envelopes, what="envelope delivered")
    assert console.store.envelopes["ATT1"]["sha256"] == sealed.sha256
    wait_for(lambda: runtime.outbox.count() == {"event": 0, "envelope": 0}, what="outbox drained")
    types = [e["type"] for e in console.store.events.values()]
    assert "attempt.admitted" in types and "attempt.submitted" in types
    assert console.store.heartbeats and console.store.hellos[0]["kiosk_id"] == "K01"


def test_console_stopped_mid_exam_and_restarted_loses_nothing(setup, tmp_path):
    world, console, runtime, _link = setup
    wait_for(console.connected.is_set, what="kiosk login")
    console.send(world.admit())
    wait_for(lambda: runtime.package_wanted() is None, what="package fetched")
    runtime.confirm_identity()
    assert console.send(world.release())["ok"]
    session = runtime.require_session()
    session.accept_agreement()
    session.begin()
    session.answer("Q01", "R1", "A")
    wait_for(lambda: runtime.outbox.count()["event"] == 0, what="first events delivered")
    store, port = console.store, console.port
    console.stop()
    wait_for(lambda: not runtime.console_connected, what="kiosk notices the console is gone")
    for n in range(20):  # the exam goes on; events wait in the outbox
        session.answer("Q03", "R1", f"answer {n}")
        runtime.outbox.add_event("monitor.test", "low", attempt_id="ATT1", data={"n": n})
    assert runtime.outbox.count()["event"] >= 20
    sealed = session.submit()
    restarted = FakeConsole(world.device.signing_key.public_key(), store=store, port=port, tls=console.tls)
    try:
        wait_for(lambda: runtime.outbox.count() == {"event": 0, "envelope": 0}, timeout=30,
                 what="outbox drained after the console came back")
        seqs = sorted(store.events)
        assert seqs == list(range(1, seqs[-1] + 1))  # every event, none lost, none twice
        assert {e["data"].get("n") for e in store.events.values() if e["type"] == "monitor.test"} == set(range(20))
        assert store.envelopes["ATT1"]["sha256"] == sealed.sha256
        assert session.state.answers["Q03"]["R1"] == "answer 19"
    finally:
        restarted.stop()


def test_each_connection_attests_over_its_own_login_challenge(tmp_path):
    """The attester kiosk/app.py builds (measurement of the installed code made once) signs over
    the challenge of the connection the hello travels on: the console can verify it with that
    challenge, and an attestation from the first connection is stale on the second."""
    from exam_core.attestation import StaleAttestationError, open_attestation
    from exam_core.jsonio import b64d
    from hardening.attestation import measure
    from hardening.policy import load_policy
    from kiosk.app import _attestation

    world = World(tmp_path)
    public = world.device.signing_key.public_key()
    console = FakeConsole(public)
    runtime = make_runtime(world, tmp_path, attester=_attestation(world.device, None))
    link = ConsoleLink(runtime, world.device, console.url, heartbeat_seconds=0.5)
    link.start()
    try:
        wait_for(lambda: console.store.hellos, what="first hello")
        store, port = console.store, console.port
        console.stop()
        wait_for(lambda: not runtime.console_connected, what="kiosk notices the console is gone")
        console = FakeConsole(public, store=store, port=port)
        wait_for(lambda: len(store.hellos) >= 2, timeout=30, what="hello on the second connection")
    finally:
        link.stop()
        console.stop()
    first, second = (b64d(hello["attestation"]) for hello in store.hellos[:2])
    nonce_1, nonce_2 = store.hello_challenges[:2]
    assert nonce_1 != nonce_2
    expected = measure(load_policy(None)).digest
    assert open_attestation(first, public, nonce_1).measurement == expected
    assert open_attestation(second, public, nonce_2).measurement == expected
    with pytest.raises(StaleAttestationError):
        open_attestation(first, public, nonce_2)


def test_tls_trusts_only_the_pinned_certificate(tmp_path, monkeypatch):
    """A console presenting any other certificate is refused, even one the environment's CA
    variables name: the link's TLS trust is the pinned certificate and nothing else."""
    world = World(tmp_path)
    world.console_tls(tmp_path)  # pinned at pairing
    other = (tmp_path / "other")
    other.mkdir()
    other_tls = (other / "cert.pem", other / "key.pem")
    make_self_signed(*other_tls, "impostor")
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(other_tls[0]))
    console = FakeConsole(world.device.signing_key.public_key(), tls=other_tls)
    runtime = make_runtime(world, tmp_path)
    link = ConsoleLink(runtime, world.device, console.url, heartbeat_seconds=0.5)
    link.start()
    try:
        wait_for(lambda: "CERTIFICATE_VERIFY_FAILED" in (link.last_error or ""), what="certificate refused")
        assert not console.connected.is_set() and not console.store.hellos
    finally:
        link.stop()
        console.stop()


def test_tls_trusts_the_pinned_certificate_at_any_address(tmp_path):
    """Kiosks reach a console by its LAN address, which its certificate need not name: the
    certificate names 127.0.0.1 (and localhost), not 127.0.0.2, and the pinned certificate is
    still accepted there (trust is the pin, not the name). The impostor test above shows that a
    certificate other than the pinned one is refused."""
    world = World(tmp_path)
    console = FakeConsole(world.device.signing_key.public_key(), tls=world.console_tls(tmp_path), host="127.0.0.2")
    runtime = make_runtime(world, tmp_path)
    link = ConsoleLink(runtime, world.device, console.url, heartbeat_seconds=0.5)
    link.start()
    try:
        wait_for(lambda: console.store.hellos, what="hello over TLS at an address the certificate does not name")
    finally:
        link.stop()
        console.stop()


def test_stop_ends_a_call_waiting_for_its_ack_at_once(setup):
    """A console that stops answering: stop() cancels the call in flight instead of waiting out
    its 10 s timeout, and the unacknowledged event stays in the outbox."""
    _world, console, runtime, link = setup
    wait_for(lambda: console.store.heartbeats, what="first heartbeat")
    console.answering.clear()
    try:
        runtime.outbox.add_event("monitor.test", "low", data={"n": 1})
        time.sleep(1.0)  # the event (or a heartbeat) is now waiting for an ack that never comes
        assert not console.store.events
        started = time.monotonic()
        link.stop()
        assert time.monotonic() - started < 3.0
        assert runtime.outbox.count()["event"] == 1 and not runtime.console_connected
    finally:
        console.answering.set()


def test_a_slow_command_does_not_hold_up_the_link(setup, monkeypatch):
    """Commands are applied off the event loop: while one takes seconds (a slow disk under the
    journal's fsync, simulated by a handler that blocks in front of the real one), heartbeats go on.

    The slow handler holds the command until two more heartbeats have reached the console (at most
    15 s): if commands held up the link, none would arrive and the command would time out. Waiting
    for the heartbeats, not sleeping a fixed time, keeps the test true on a loaded machine."""
    world, console, runtime, _link = setup
    wait_for(console.connected.is_set, what="kiosk login")
    handle = runtime.handle_command
    seen_during: list[int] = []

    def slow_handle(command):
        before = len(console.store.heartbeats)
        deadline = time.monotonic() + 15.0
        while len(console.store.heartbeats) - before < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen_during.append(len(console.store.heartbeats) - before)
        return handle(command)
    monkeypatch.setattr(runtime, "handle_command", slow_handle)
    ack = console.send(world.admit(), wait=30)
    assert ack["ok"]
    assert seen_during and seen_during[0] >= 2  # heartbeats (one every 0.5 s +-20 %) went on meanwhile
    assert runtime.attempt is not None and runtime.attempt.attempt_id == "ATT1"


def test_traffic_both_ways_over_tls_loses_no_frame(tmp_path):
    """Events to the console while the console sends commands, both at full speed over pinned
    TLS: every message is answered on the first try (no call timed out, so no reconnection and no
    resent event). The threaded client lost about one frame in 1,500 here."""
    world = World(tmp_path)
    console = FakeConsole(world.device.signing_key.public_key(), tls=world.console_tls(tmp_path))
    runtime = make_runtime(world, tmp_path)
    link = ConsoleLink(runtime, world.device, console.url, heartbeat_seconds=0.2)
    runtime.outbox.on_added = link.wake
    link.start()
    acks: list[dict | None] = []
    done = threading.Event()

    def proctor() -> None:
        while not done.is_set():
            acks.append(console.send(world.command("message", {"text": "hello"}), wait=30))
    try:
        wait_for(console.connected.is_set, what="kiosk login")
        sender = threading.Thread(target=proctor, daemon=True)
        sender.start()
        for n in range(1000):
            runtime.outbox.add_event("monitor.test", "low", data={"n": n})
        wait_for(lambda: runtime.outbox.count()["event"] == 0, timeout=120, what="outbox drained")
        done.set()
        sender.join(35)
    finally:
        done.set()
        link.stop()
        console.stop()
    assert len(console.store.events) == 1000 and console.store.duplicates == 0
    assert len(console.store.hellos) == 1, link.last_error
    assert len(acks) > 100 and all(ack is not None for ack in acks)


def test_heartbeat_and_backoff_waits_are_jittered():
    """Kiosks reconnecting together after a console restart must not stay in lockstep: every wait
    is the nominal one give or take 20 %, spread across that range."""
    from kiosk.link import JITTER, jittered
    waits = [jittered(5.0) for _ in range(400)]
    assert all(5.0 * (1 - JITTER) <= w <= 5.0 * (1 + JITTER) for w in waits)
    assert max(waits) - min(waits) > 5.0 * JITTER  # spread, not a constant


def test_cancel_admission_over_the_link_and_an_unknown_command_refused_not_crashed(setup):
    """The console cancels an admission: the kiosk acks idle and reports it. A command type this kiosk
    does not know (one a newer console might send) is answered ``invalid`` and the link goes on."""
    world, console, runtime, _link = setup
    wait_for(console.connected.is_set, what="kiosk login")
    unknown = {**world.command("message", {"text": "hello"}).to_dict(), "type": "teleport"}
    ack = console._deliver(unknown)
    assert ack is not None and ack["ok"] is False and ack["error"] == "invalid"
    assert console.send(world.admit())["ok"]
    ack = console.send(world.command("cancel_admission", {"reason": "candidate at the wrong seat"}))
    assert ack["ok"] and ack["state"] == "idle" and runtime.attempt is None
    wait_for(lambda: "attempt.admission_cancelled" in [e["type"] for e in console.store.events.values()],
             what="cancellation reported")
    assert console.send(world.admit())["ok"] and runtime.wire_state() == "admitted"
