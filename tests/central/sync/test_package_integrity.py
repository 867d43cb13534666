"""Issue 13, M1: a corrupted form package is refused at every door and never blocks the results.

The attack as the red team ran it: one flipped byte in ``content.bin`` passed ``packages import``
(the signed manifest carried only the content's size), failed at the kiosk when the exam started,
the genuine package could then not replace it, and every later sync and bundle import stopped at
the package, so no results went back. Here through the real interfaces: the hub on its production
server on 127.0.0.1, ``python -m proctor_console`` in its own process, and the central body's own
bundle export.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from exam_core import package, safezip
from exam_core.sync_wire import Upload, UploadEntry
from exam_core.timestamps import utc_now
from item_bank_sync.sync.bundle import export_bundle as central_export
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.sync.run import run_sync
from tests.support.central_db import bank_of, results_of
from tests.support.central_sync import GOOD, Hub, body_of, client_for, put_envelope
from tests.support.central_world import CENTRE_ID, PACKAGE_ID, REPO, World


def corrupted(data: bytes) -> bytes:
    """The package with one bit flipped in the middle of ``content.bin`` (size unchanged)."""
    content = bytes(safezip.read_canonical(data, package.ZIP_POLICY)[package.CONTENT])
    bad = bytearray(data)
    bad[data.index(content) + len(content) // 2] ^= 0x04
    return bytes(bad)


def publish_on_hub(world: World, data: bytes) -> None:
    """Put ``data`` where the hub serves the package from, and record its hash as the one to list
    (so the list itself vouches for the corrupted copy, as when a copy was damaged before it was
    recorded)."""
    (world.context.packages_dir / f"{PACKAGE_ID}.zip").write_bytes(data)
    bank = bank_of(world.data_dir)
    bank.execute("UPDATE packages SET sha256 = ? WHERE package_id = ?", [hashlib.sha256(data).hexdigest(), PACKAGE_ID])
    bank.conn.commit()
    bank.conn.close()


def console_cli(console: ConsoleContext, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console.data), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def sync_cli(console: ConsoleContext, hub: Hub) -> tuple[int, dict]:
    done = console_cli(console, "sync", "--hub", hub.url, "--tls-fingerprint", str(hub.fingerprint), "--json")
    return done.returncode, json.loads(done.stdout)


def test_a_corrupted_package_on_the_hub_is_refused_and_the_envelopes_still_go_up(world, console, hub):
    digest = put_envelope(console, world.seal("att-1", GOOD), "att-1")
    publish_on_hub(world, corrupted(world.package_bytes))
    code, report = sync_cli(console, hub)
    assert code == 1                                                   # something needs attention ...
    (failed,) = report["packages_failed"]
    assert failed["package_id"] == PACKAGE_ID and "content_sha256" in failed["reason"]
    assert report["packages_imported"] == [] and services.packages(console).listing() == []
    assert report["envelopes_receipted"] == 1 and body_of(console, digest) == b""   # ... but results went up
    assert results_of(world.data_dir).execute("SELECT attempt_id FROM attempts").fetchall() == \
        [("att-1",)]
    publish_on_hub(world, world.package_bytes)                          # the central body mends its copy
    code, report = sync_cli(console, hub)
    assert code == 0 and report["packages_imported"] == [PACKAGE_ID] and report["packages_failed"] == []
    content = bytes(safezip.read_canonical(world.package_bytes, package.ZIP_POLICY)["content.bin"])
    assert services.packages(console).load(PACKAGE_ID)[0].content_sha256 == hashlib.sha256(content).hexdigest()


def test_packages_import_refuses_the_corrupted_copy_by_its_signed_digest(world, console, tmp_path):
    (tmp_path / "bad.zip").write_bytes(corrupted(world.package_bytes))
    done = console_cli(console, "packages", "import", str(tmp_path / "bad.zip"))
    assert done.returncode == 1 and "content_sha256" in done.stderr and "corrupted" in done.stderr
    assert services.packages(console).listing() == []


def test_the_genuine_copy_replaces_a_bad_stored_one(world, console, tmp_path):
    """A copy the old import accepted (recorded with its own hash) gave 'a different package is
    already imported' for the genuine one; now the genuine one replaces it, audited."""
    bad = corrupted(world.package_bytes)
    packages = services.packages(console)
    (console.packages_dir).mkdir(parents=True, exist_ok=True)
    (console.packages_dir / f"{PACKAGE_ID}.zip").write_bytes(bad)
    console.db["packages"].insert({"package_id": PACKAGE_ID, "manifest": json.dumps({"package_id": PACKAGE_ID}),
                                   "path": f"packages/{PACKAGE_ID}.zip", "sha256": hashlib.sha256(bad).hexdigest(),
                                   "size": len(bad), "imported_at": "2026-01-01T00:00:00Z", "imported_by": "old"})
    (tmp_path / "genuine.zip").write_bytes(world.package_bytes)
    done = console_cli(console, "packages", "import", str(tmp_path / "genuine.zip"), "--json")
    assert done.returncode == 0, done.stderr
    (imported,) = json.loads(done.stdout)["imported"]
    assert imported["package_id"] == PACKAGE_ID and "content_sha256" in imported["replaced"]
    assert packages.load(PACKAGE_ID)[1]["sha256"] == hashlib.sha256(world.package_bytes).hexdigest()
    replaced = [e for e in ConsoleContext(console.data).audit.entries() if e.action == "package.replace"]
    assert [e.data["replaced_sha256"] for e in replaced] == [hashlib.sha256(bad).hexdigest()]
    now = utc_now()
    other, _ = package.build_form_package(b"another form", package_id=PACKAGE_ID, form_id="F-other", form_version=1,
                                          scheme_id="S1", centre_id=CENTRE_ID, opens=now - timedelta(hours=1),
                                          closes=now + timedelta(hours=8), signing_key=world.pki.central,
                                          centre_hpke_public=console.hpke_key.public_key())
    (tmp_path / "other.zip").write_bytes(other)                    # two valid packages under one id: refused
    refused = console_cli(console, "packages", "import", str(tmp_path / "other.zip"))
    assert refused.returncode == 1 and "already imported" in refused.stderr


def test_a_copy_damaged_on_disk_after_import_is_fetched_again_by_sync(world, console, hub):
    assert run_sync(console, client_for(console, hub)).packages_imported == [PACKAGE_ID]
    stored = console.packages_dir / f"{PACKAGE_ID}.zip"
    stored.write_bytes(corrupted(stored.read_bytes()))
    again = run_sync(console, client_for(console, hub))
    assert again.packages_imported == [PACKAGE_ID] and again.packages_present == 0
    assert stored.read_bytes() == world.package_bytes
    assert services.packages(console).load(PACKAGE_ID)[0].package_id == PACKAGE_ID


def test_a_bundle_with_a_corrupted_package_still_settles_its_receipts(world, console, hub, tmp_path):
    """The air-gap path: the bundle's receipts and revocation list are taken in, the package is
    reported, and ``import-bundle`` says so with exit status 1."""
    digest = put_envelope(console, world.seal("att-1", GOOD), "att-1")
    client = client_for(console, hub)
    (outcome,) = client.upload(Upload((UploadEntry(body_of(console, digest)),))).results
    assert outcome.status == "accepted"                          # received centrally; the receipt comes by bundle
    publish_on_hub(world, corrupted(world.package_bytes))
    to_centre = tmp_path / "to-centre.bundle"
    central_export(world.data_dir, CENTRE_ID, to_centre)
    done = console_cli(console, "import-bundle", str(to_centre), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["envelopes_receipted"] == 1 and body_of(console, digest) == b""
    (failed,) = report["packages_failed"]
    assert failed["package_id"] == PACKAGE_ID and "content_sha256" in failed["reason"]
    assert services.packages(console).listing() == []
    assert Path(console.data / "revocations.signed").exists()


def test_a_damaged_package_file_at_the_central_body_leaves_the_bundle_without_it(world, console, hub, tmp_path):
    """The central side of the same class: a package file that no longer matches its recorded
    hash used to stop the whole export, so no receipt reached an air-gapped centre."""
    digest = put_envelope(console, world.seal("att-1", GOOD), "att-1")
    (outcome,) = client_for(console, hub).upload(Upload((UploadEntry(body_of(console, digest)),))).results
    assert outcome.status == "accepted"
    (world.context.packages_dir / f"{PACKAGE_ID}.zip").write_bytes(corrupted(world.package_bytes))
    to_centre = tmp_path / "to-centre.bundle"
    summary = central_export(world.data_dir, CENTRE_ID, to_centre)
    assert summary["packages"] == [] and summary["receipts"] == 1
    assert summary["packages_skipped"] == [{"package_id": PACKAGE_ID,
                                            "reason": "package file no longer matches its recorded hash"}]
    done = console_cli(console, "import-bundle", str(to_centre), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["envelopes_receipted"] == 1
