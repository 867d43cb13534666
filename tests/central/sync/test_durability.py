"""A receipted envelope survives kill -9 of the central server; batch bodies are validated strictly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from exam_core.errors import MalformedError, ValidationError
from exam_core.receipt import verify_receipt
from exam_core.sync_wire import Upload, UploadEntry, parse_upload
from proctor_console.sync.client import HubClient
from tests.support.ports import find_free_port, wait_for_port
from tests.support.central_db import results_of
from tests.support.central_world import CENTRE_ID, build_world

REPO = Path(__file__).resolve().parents[3]


def _serve(data_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "item_bank_sync", "--data", str(data_dir), "serve",
                                "--port", str(port), "--insecure-dev"], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process=process)
    return process


@pytest.mark.slow
def test_receipted_envelope_survives_kill_9_and_restart(tmp_path):
    world = build_world(tmp_path / "central")
    port = find_free_port()
    client = HubClient(f"http://127.0.0.1:{port}", CENTRE_ID, world.pki.centre, world.pki.central.public_key())
    data = world.seal("att-1", {"q1": "A", "q2": ["A", "C"], "q3": "essay"})
    server = _serve(world.data_dir, port)
    try:
        (result,) = client.upload(Upload((UploadEntry(data),))).results
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    receipt = result.receipt
    verify_receipt(receipt, data, world.pki.central.public_key())
    db = results_of(world.data_dir)
    assert bytes(db.execute("SELECT receipt FROM envelopes").fetchone()[0]) == receipt
    assert db.execute("SELECT attempt_id, total FROM attempts").fetchall() == [("att-1", 3.0)]
    db.conn.close()
    server = _serve(world.data_dir, port)
    try:
        (again,) = client.upload(Upload((UploadEntry(data),))).results
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert again.duplicate and again.receipt == receipt


@pytest.mark.parametrize("body, error, field", [
    (b"[]", ValidationError, "<root>"),
    (b'{"envelopes": [], "x": 1}', ValidationError, "x"),
    (b'{"envelopes": []}', ValidationError, "envelopes"),
    (b'{"envelopes": [{"envelope": "***"}]}', ValidationError, "envelopes[0].envelope"),
    (b'{"envelopes": [{"data": "AAAA"}]}', ValidationError, "envelopes[0].envelope"),
    (b'{"envelopes": [' + b",".join([b'{"envelope": "AAAA"}'] * 501) + b"]}", ValidationError, "envelopes"),
    (b'{"envelopes": [{"envelope": "AAAA"}], "envelopes": []}', MalformedError, None),
    (b'{"envelopes": [], "kiosk_revocations": []}', ValidationError, "envelopes"),
    (b'{"envelopes": [], "kiosk_revocations": ["***"]}', ValidationError, "kiosk_revocations[0]"),
    (b'{"envelopes": [], "kiosk_revocations": "AAAA"}', ValidationError, "kiosk_revocations"),
    (b'{"envelopes": [], "kiosk_revocations": [' + b",".join([b'"AAAA"'] * 1001) + b"]}", ValidationError,
     "kiosk_revocations"),
    (b'{"envelopes": [], "kiosk_revocations": ["' + b"A" * 8192 + b'"]}', ValidationError, "kiosk_revocations[0]"),
    (b'{"envelopes": [{"envelope": "AAAA", "kiosk_revocations": ["AAAA"]}]}', ValidationError,
     "envelopes[0].kiosk_revocations"),
])
def test_upload_batches_are_parsed_strictly(body, error, field):
    with pytest.raises(error) as refused:
        parse_upload(body)
    assert refused.value.field == field


def test_an_upload_may_carry_only_kiosk_revocations():
    upload = parse_upload(b'{"envelopes": [], "kiosk_revocations": ["AAAA"]}')
    assert upload.envelopes == () and upload.kiosk_revocations == (b"\0\0\0",)
