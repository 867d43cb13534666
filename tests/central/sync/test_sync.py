"""Sync API and the centre's client over real HTTP(S) servers on loopback."""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import sys

import pytest

from exam_core import keys, receipt
from exam_core.errors import InvigilError
from exam_core.jsonio import b64e
from exam_core.sync_wire import EnvelopeOutcome, Upload, UploadEntry
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.sync.bundle import export_bundle as central_export
from item_bank_sync.sync.bundle import import_bundle as central_import
from proctor_console.envelopes import PendingEnvelope
from proctor_console.sync.bundle import export_bundle as centre_export
from proctor_console.sync.bundle import import_bundle as centre_import
from proctor_console.sync.client import HubError
from proctor_console.sync.outbox import SyncOutbox
from proctor_console.sync.run import SyncReport, run_sync, settle_one
from tests.support.central_db import bank_of, results_of
from tests.support.central_sync import GOOD, Hub, body_of, client_for, put_envelope
from tests.support.central_world import CENTRE_ID, FORM_ID, FORM_VERSION, PACKAGE_ID, REPO


def test_full_sync_over_https(world, console, hub):
    envelope = world.seal("att-1", GOOD)
    digest = put_envelope(console, envelope, "att-1")
    report = run_sync(console, client_for(console, hub))
    assert report.packages_imported == [PACKAGE_ID]
    assert report.envelopes_receipted == 1 and report.envelopes_kept == []
    assert body_of(console, digest) == b""
    stored_receipt = console.db.execute("SELECT receipt FROM envelopes").fetchone()[0]
    assert receipt.verify_receipt(bytes(stored_receipt), envelope, world.pki.central.public_key()).attempt_id == "att-1"
    assert (console.data / "hub-tls.json").exists()                 # pinned for next time
    results = results_of(world.data_dir)
    assert results.execute("SELECT attempt_id, total FROM attempts").fetchall() == [("att-1", 3.0)]
    again = run_sync(console, client_for(console, hub))
    assert again.packages_imported == [] and again.packages_present == 1 and again.envelopes_receipted == 0


def test_pinned_fingerprint_mismatch_is_refused(world, console, hub):
    with pytest.raises(Exception, match="not the pinned"):
        run_sync(console, client_for(console, hub, fingerprint="00" * 32))


def test_interrupted_download_resumes_with_range(world, console, hub):
    client = client_for(console, hub)
    entry = client.list_packages()[0]
    part = console.packages_dir / f"{PACKAGE_ID}.part"

    class Cut(Exception):
        pass

    got = [0]

    def cut_after_some(n: int) -> None:
        got[0] += n
        if got[0] > 100_000:
            raise Cut()

    with pytest.raises(Cut):
        client.download(PACKAGE_ID, part, entry.size, entry.sha256, on_bytes=cut_after_some)
    partial = part.stat().st_size
    assert 0 < partial < entry.size
    calls: list[int] = []
    data = client.download(PACKAGE_ID, part, entry.size, entry.sha256, on_bytes=calls.append)
    assert calls[0] == partial                       # resumed from the partial file
    assert sum(calls[1:]) == entry.size - partial  # only the rest went over the wire
    assert data == world.package_bytes


def test_corrupt_partial_download_is_discarded(world, console, hub):
    client = client_for(console, hub)
    entry = client.list_packages()[0]
    part = console.packages_dir / f"{PACKAGE_ID}.part"
    part.write_bytes(b"X" * 5000)
    assert client.download(PACKAGE_ID, part, entry.size, entry.sha256) == world.package_bytes


def test_duplicate_uploads_are_idempotent(world, console, hub):
    client = client_for(console, hub)
    envelope = world.seal("att-1", GOOD)
    (first,) = client.upload(Upload((UploadEntry(envelope),))).results
    (second,) = client.upload(Upload((UploadEntry(envelope),))).results
    assert first.receipt == second.receipt and second.duplicate
    assert results_of(world.data_dir).execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 1


def _raw(hub: Hub, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", hub.server.server_port, context=context, timeout=10)
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data.startswith(b"{\"error") else {}


def test_tampered_replayed_and_foreign_requests_are_refused(world, console, hub):
    client = client_for(console, hub)
    body = json.dumps({"envelopes": [{"envelope": b64e(world.seal("att-1", GOOD))}]}).encode()
    headers = client._signed_headers("POST", "/v1/envelopes", "", body)
    assert _raw(hub, "POST", "/v1/envelopes", headers, body + b" ")[0] == 401             # body changed
    assert _raw(hub, "POST", "/v1/envelopes", headers, body)[0] == 200                    # the real one
    status, answer = _raw(hub, "POST", "/v1/envelopes", headers, body)                   # replayed
    assert status == 401 and "replayed" in answer["error"]
    get = client._signed_headers("GET", "/v1/packages", "", b"")
    assert _raw(hub, "GET", f"/v1/packages/{PACKAGE_ID}", get)[0] == 401                   # other path
    stale = client._signed_headers("GET", "/v1/packages", "", b"")
    stale["X-Invigil-Time"] = "2020-01-01T00:00:00Z"
    assert "window" in _raw(hub, "GET", "/v1/packages", stale)[1]["error"]
    assert _raw(hub, "GET", "/v1/packages", {})[0] == 401
    stranger = client_for(console, hub, key=keys.generate_signing_key())
    with pytest.raises(HubError, match="401"):
        stranger.list_packages()
    bank = bank_of(world.data_dir)
    bank.execute("UPDATE centres SET revoked_at = '2026-01-01T00:00:00Z'")
    bank.conn.commit()
    with pytest.raises(HubError, match="401"):
        client.list_packages()


def test_envelope_is_never_dropped_without_a_verified_receipt(world, console, hub):
    store = SyncOutbox(console)
    data = world.seal("att-1", GOOD)
    digest = put_envelope(console, data, "att-1")
    pending = PendingEnvelope(digest, "att-1", data)
    other = world.seal("att-2", GOOD)
    report = SyncReport()
    forged_key = keys.generate_signing_key()
    cases = [
        EnvelopeOutcome(digest, "rejected", "unreadable", None, None),
        EnvelopeOutcome(digest, "accepted", "", "att-1", receipt.issue_receipt(world.pki.central, other, "central")),
        EnvelopeOutcome(digest, "accepted", "", "att-1", receipt.issue_receipt(forged_key, data, "central")),
        EnvelopeOutcome(digest, "accepted", "", "att-1", b"garbage"),
    ]
    for result in cases:
        settle_one(store, pending, result, console.root_public(), report)
        assert body_of(console, digest) == data
    assert len(report.envelopes_kept) == 4 and report.envelopes_receipted == 0
    hub.stop()                                                   # hub gone mid-sync: nothing lost
    with pytest.raises(HubError):
        run_sync(console, client_for(console, hub, timeout=2))
    assert body_of(console, digest) == data


def test_quarantined_envelope_is_receipted_and_reported(world, console, hub):
    put_envelope(console, world.seal("att-1", GOOD), "att-1")
    replay = world.seal("att-1", {"q1": "B"})
    put_envelope(console, replay, "att-1")
    report = run_sync(console, client_for(console, hub))
    assert report.envelopes_receipted == 2
    assert len(report.envelopes_quarantined_centrally) == 1
    assert "replay" in report.envelopes_quarantined_centrally[0]["reason"]


def test_air_gap_bundles_round_trip(world, console, tmp_path):
    digest = put_envelope(console, world.seal("att-1", GOOD), "att-1")
    to_central = tmp_path / "to-central.bundle"
    assert centre_export(console, to_central)["envelopes"] == 1
    assert b"att-1" not in to_central.read_bytes()                          # sealed, not readable
    summary = central_import(world.data_dir, to_central)
    assert summary["accepted"] == 1
    assert central_import(world.data_dir, to_central)["duplicates"] == 1      # re-import changes nothing
    to_centre = tmp_path / "to-centre.bundle"
    central_export(world.data_dir, CENTRE_ID, to_centre)
    report = centre_import(console, to_centre)
    assert report.packages_imported == [PACKAGE_ID] and report.envelopes_receipted == 1
    assert body_of(console, digest) == b""
    tampered = bytearray(to_centre.read_bytes())
    tampered[-20] ^= 1
    to_centre.write_bytes(bytes(tampered))
    with pytest.raises(Exception, match="authentication"):
        centre_import(console, to_centre)


def test_cli_sync_against_a_served_hub(world, console, tmp_path):
    """The two real commands: `item_bank_sync serve` in its own process, `proctor_console sync`."""
    from tests.support.ports import find_free_port, wait_for_port

    port = find_free_port()
    server = subprocess.Popen([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), "serve",
                               "--port", str(port), "--insecure-dev"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process=server)
        put_envelope(console, world.seal("att-1", GOOD), "att-1")
        out = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console.data), "sync",
                              "--hub", f"http://127.0.0.1:{port}", "--insecure-dev", "--json"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr + out.stdout
        report = json.loads(out.stdout)
        assert report["packages_imported"] == [PACKAGE_ID] and report["envelopes_receipted"] == 1
        refused = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console.data), "sync",
                                  "--hub", f"http://127.0.0.1:{port}"], cwd=REPO, capture_output=True, text=True,
                                 timeout=60)
        assert refused.returncode != 0 and "insecure-dev" in refused.stderr + refused.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_revocation_lists_only_move_forward(world, console):
    from exam_core import certs as certificates
    from proctor_console.sync.run import store_revocations

    newer = certificates.issue_revocation_list(world.pki.central, "central", ["aa" * 8], sequence=2)
    older = certificates.issue_revocation_list(world.pki.central, "central", [], sequence=1)
    assert store_revocations(console, newer) == 2
    assert store_revocations(console, older) == 2                      # an old list cannot un-revoke
    assert (console.data / "revocations.signed").read_bytes() == newer
    forged = certificates.issue_revocation_list(keys.generate_signing_key(), "central", [], sequence=9)
    with pytest.raises(InvigilError):
        store_revocations(console, forged)
    assert (console.data / "revocations.signed").read_bytes() == newer


def test_bundle_commands_on_both_sides(world, console, tmp_path):
    from click.testing import CliRunner

    from item_bank_sync.cli.main import main as central_cli
    from proctor_console.cli.main import main as console_cli

    put_envelope(console, world.seal("att-1", GOOD), "att-1")
    runner = CliRunner()
    out = tmp_path / "usb" / "to-central.bundle"
    out.parent.mkdir()
    step = runner.invoke(console_cli, ["--data", str(console.data), "export-bundle", "--out", str(out), "--json"])
    assert step.exit_code == 0, step.output
    assert json.loads(step.output)["envelopes"] == 1
    step = runner.invoke(central_cli, ["--data", str(world.data_dir), "import-bundle", str(out), "--json"])
    assert step.exit_code == 0, step.output
    assert json.loads(step.output)["accepted"] == 1
    back = tmp_path / "usb" / "to-centre.bundle"
    step = runner.invoke(central_cli, ["--data", str(world.data_dir), "export-bundle", "--centre", CENTRE_ID,
                                       "--out", str(back), "--json"])
    assert step.exit_code == 0, step.output
    step = runner.invoke(console_cli, ["--data", str(console.data), "import-bundle", str(back), "--json"])
    assert step.exit_code == 0, step.output
    report = json.loads(step.output)
    assert report["envelopes_receipted"] == 1 and report["packages_imported"] == [PACKAGE_ID]
    wrong = runner.invoke(central_cli, ["--data", str(world.data_dir), "import-bundle", str(back), "--json"])
    assert wrong.exit_code == 1 and "error" in json.loads(wrong.output)      # not sealed for the central body


def test_concurrent_uploads_of_one_envelope_get_one_attempt_and_one_receipt(world, console, hub):
    from concurrent.futures import ThreadPoolExecutor

    data = world.seal("att-1", GOOD)
    others = [world.seal(f"att-{n}", GOOD) for n in range(2, 8)]

    def upload(envelope: bytes) -> EnvelopeOutcome:
        return client_for(console, hub).upload(Upload((UploadEntry(envelope),))).results[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        same = list(pool.map(upload, [data] * 6))
        distinct = list(pool.map(upload, others))
    assert len({r.receipt for r in same}) == 1 and {r.status for r in same} == {"accepted"}
    assert {r.status for r in distinct} == {"accepted"}
    db = results_of(world.data_dir)
    assert db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 7
    assert db.execute("SELECT COUNT(*) FROM envelopes").fetchone()[0] == 7


def test_air_gap_bundle_carries_packages_beyond_the_hpke_limit(world, console, tmp_path):
    """A centre's delivery larger than HPKE's 64 MiB single-shot limit still travels in one bundle."""
    import os
    from datetime import timedelta

    from exam_core import limits, package

    now = utc_now()
    big_content = os.urandom(limits.HPKE_MAX_PLAINTEXT + 4 * 1024 * 1024)    # media bytes, incompressible
    big, _ = package.build_form_package(
        big_content, package_id="pkg-big", form_id=FORM_ID, form_version=FORM_VERSION, scheme_id="S1",
        centre_id=CENTRE_ID,
        opens=now - timedelta(hours=1), closes=now + timedelta(hours=8), signing_key=world.pki.central,
        centre_hpke_public=console.hpke_key.public_key(), title="Large media")
    assert len(big) > limits.HPKE_MAX_PLAINTEXT
    (world.context.packages_dir / "pkg-big.zip").write_bytes(big)
    bank = bank_of(world.data_dir)
    bank["packages"].insert({"package_id": "pkg-big", "form_id": FORM_ID, "form_version": FORM_VERSION,
                             "centre_id": CENTRE_ID,
                             "opens": format_time(now), "closes": format_time(now + timedelta(hours=8)),
                             "release_code_required": 0, "path": "packages/pkg-big.zip",
                             "sha256": hashlib.sha256(big).hexdigest(), "created_at": format_time(now)})
    bank.conn.close()
    to_centre = tmp_path / "to-centre.bundle"
    summary = central_export(world.data_dir, CENTRE_ID, to_centre)
    assert sorted(summary["packages"]) == sorted([PACKAGE_ID, "pkg-big"])
    assert to_centre.stat().st_size > limits.HPKE_MAX_PLAINTEXT
    report = centre_import(console, to_centre)
    assert sorted(report.packages_imported) == sorted([PACKAGE_ID, "pkg-big"])
    assert (console.data / "packages" / "pkg-big.zip").read_bytes() == big
