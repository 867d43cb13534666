"""scripts/build-kiosk: build the single-file executable into a temporary directory and run it.

Slow (one to two minutes on two cores), so it is marked ``build``; deselect with ``-m "not build"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from hardening.policy import CHECK_NAMES, load_policy
from tests.support.ports import find_free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.build, pytest.mark.slow]


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    root = tmp_path_factory.mktemp("build-kiosk")
    started = time.monotonic()
    done = subprocess.run([str(REPO / "scripts" / "build-kiosk"), "--out", str(root / "dist"),
                           "--work", str(root / "work")], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = root / "dist" / "invigil-kiosk"
    print(f"\nbuild-kiosk: {time.monotonic() - started:.0f} s, {path.stat().st_size / 1e6:.0f} MB")
    assert "release measurement:" in done.stdout
    return path


def run(binary: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120, cwd="/")


def test_version_names_every_part(binary):
    done = run(binary, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("invigil-kiosk ") and "hardening" in done.stdout and "frozen" in done.stdout


def test_hardening_check_json_runs_frozen(binary):
    done = run(binary, "hardening", "check", "--json")
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    tracer = next(c for c in report["checks"] if c["name"] == "tracer")
    assert tracer["evidence"]["tracer_pid"] == 0
    assert done.returncode == (1 if report["blocking"] else 0)
    assert run(binary, "hardening", "check", "--json", "--policy", "development").returncode == 0


def test_frozen_measurement_hashes_the_binary_itself(binary):
    done = run(binary, "hardening", "measure", "--json")
    measurement = json.loads(done.stdout)
    assert measurement["kind"] == "frozen"
    assert measurement["files"] == [["frozen:executable", hashlib.sha256(binary.read_bytes()).hexdigest()]]
    assert measurement["policy_sha256"] == load_policy().sha256


def test_other_arguments_reach_the_kiosk_cli(binary):
    done = run(binary, "--help")
    assert done.returncode == 0 and "Invigil kiosk" in done.stdout


def test_binary_serves_the_candidate_ui_and_attests_itself_to_a_console(binary, tmp_path):
    """The frozen kiosk, paired with the kiosk tests' protocol console: it serves the candidate UI
    on 127.0.0.1, logs in over Socket.IO and TLS pinned as at pairing (the asyncio client and
    aiohttp made it into the binary),
    its hello carries an attestation of the frozen binary's own measurement, and it exits within
    10 s of SIGTERM while connected."""
    from exam_core.attestation import open_attestation
    from exam_core.jsonio import b64d
    from tests.support.kiosk_fake_console import FakeConsole, wait_for
    from tests.support.kiosk_world import World

    world = World(tmp_path / "kiosk")
    console = FakeConsole(world.device.signing_key.public_key(), tls=world.console_tls(tmp_path))  # pinned
    world.device.save_pairing(dict(world.device.pairing, console_url=console.url), {})
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYNPUT_BACKEND")}
    log = tmp_path / "kiosk.log"
    with open(log, "wb") as out:
        kiosk = subprocess.Popen([str(binary), "run", "--data", str(tmp_path / "kiosk"), "--no-browser",
                                  "--port", str(port)], cwd=tmp_path, env=env, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, timeout=90, process=kiosk)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            page = response.read().decode()
        assert response.status == 200 and 'name="kiosk-token"' in page
        wait_for(lambda: console.store.hellos, timeout=60, what="hello from the frozen kiosk")
        attestation = b64d(console.store.hellos[0]["attestation"])
        found = open_attestation(attestation, world.device.signing_key.public_key(),
                                 console.store.hello_challenges[0])  # signed over that login challenge
        expected = json.loads(run(binary, "hardening", "measure", "--json").stdout)
        assert found.kind == "frozen" and found.measurement == expected["digest"]
        stopping = time.monotonic()  # connected to its console: SIGTERM still ends it promptly
        os.killpg(kiosk.pid, signal.SIGTERM)
        assert kiosk.wait(timeout=30) == 0
        assert time.monotonic() - stopping < 10, f"exit took {time.monotonic() - stopping:.1f} s after SIGTERM"
    except BaseException:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        if kiosk.poll() is None:
            os.killpg(kiosk.pid, signal.SIGTERM)
            kiosk.wait(timeout=30)
        console.stop()
