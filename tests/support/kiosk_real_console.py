"""The real console and a real kiosk, both as processes, for the kiosk's end-to-end tests.

The console is set up with its own CLI (init, certificate install, users, roster, packages import),
enforces release attestation (this code tree's measurement is on its allow-list) and serves on
127.0.0.1; the kiosk is a :class:`~tests.support.kiosk_process.KioskProcess` pointed at it, not yet
started (tests pair it with ``start(["--pair-code", code])``). The ``real`` fixture in
tests/e2e/conftest.py hands this out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from exam_core import certs, formcontent, keys
from exam_core.package import build_form_package
from exam_core.timestamps import utc_now
from simulators.forms import make_content
from tests.support.console_world import (PASSWORD, PROCTOR, ROSTER, Central, ConsoleSetup, RunningConsole, cli,
                                         start_console)
from tests.support.kiosk_process import KioskProcess
from tests.support.ports import find_free_port
from tests.support.tools import REPO_ROOT


@contextmanager
def real_console(tmp_path: Path) -> Iterator[tuple[RunningConsole, KioskProcess, Any, Any]]:
    """(running console, kiosk process, central results key, central signing key); both stopped
    at the end (the kiosk with SIGKILL)."""
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
    centre_hpke = keys.load_public_key(data / "keys" / "centre-hpke.pub")
    assert isinstance(centre_hpke, keys.HpkePublicKey)
    now = utc_now()
    package, _ = build_form_package(
        formcontent.encode(form.to_dict(), media), package_id="pkg-real", form_id="F1", form_version=1,
        scheme_id="scheme-a", centre_id="centre-1", opens=now - timedelta(hours=1), closes=now + timedelta(hours=3),
        signing_key=central_key, centre_hpke_public=centre_hpke,
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
    kiosk = KioskProcess(tmp_path / "kiosk", find_free_port(), tmp_path / "kiosk.log",
                         ["--console", console.url, "--central-cert", str(root), "--kiosk-id", "kiosk-real"])
    try:
        yield console, kiosk, results_key, central_key
    finally:
        kiosk.stop(signal.SIGKILL)
        server.stop()
