"""``python -m item_bank_sync --data DIR web`` as a real process: HTTPS with the body's own
certificate, or with a certificate given by ``--cert``/``--key``; stopped at the end of each test."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import requests

from exam_core.tls import make_self_signed, tls_fingerprint
from tests.support.central_cli import Central
from tests.support.ports import find_free_port, wait_for_port
from tests.support.tools import REPO_ROOT


def _serve(central: Central, *extra: str) -> tuple[subprocess.Popen, int]:
    port = find_free_port()
    process = subprocess.Popen([sys.executable, "-m", "item_bank_sync", "--data", str(central.data_dir), "web",
                                "--host", "127.0.0.1", "--port", str(port), *extra], cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_for_port(port)
    return process, port


def _stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
    return err.decode(errors="replace")


def _served_fingerprint(port: int) -> str:
    der = ssl.get_server_certificate(("127.0.0.1", port))
    return tls_fingerprint(ssl.PEM_cert_to_DER_cert(der))


def test_web_serves_https_with_the_body_s_own_certificate(central: Central):
    process, port = _serve(central)
    try:
        cert = central.data_dir / "tls" / "sync.crt"
        answer = requests.get(f"https://127.0.0.1:{port}/signin", verify=str(cert), timeout=10)
        assert answer.status_code == 200 and "<h1>Sign in</h1>" in answer.text
        assert "Strict-Transport-Security" in answer.headers
    finally:
        err = _stop(process)
    assert "staff web application on https://127.0.0.1:" in err


def test_web_serves_a_given_certificate(central: Central, tmp_path: Path):
    cert, key = tmp_path / "web.crt", tmp_path / "web.key"
    fingerprint = make_self_signed(cert, key, "staff.example")
    process, port = _serve(central, "--cert", str(cert), "--key", str(key))
    try:
        assert _served_fingerprint(port) == fingerprint
    finally:
        _stop(process)


def test_web_refuses_a_data_dir_init_did_not_make(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(tmp_path / "none"), "web",
                             "--port", "0"], cwd=REPO_ROOT, capture_output=True, timeout=60)
    assert result.returncode == 2 and not (tmp_path / "none").exists()
