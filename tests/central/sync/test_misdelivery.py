"""Issue 13, M2: one centre cannot poison another centre's result.

The attack as the red team ran it: a second enrolled centre that got hold of a centre's envelope
delivered it first; the central body quarantined it (delivered by the wrong centre) under the
envelope's hash, so when the honest centre uploaded, it was answered from that row, its console
deleted its copy on the receipt, and no command recovered the result. Here with two real consoles
syncing with the hub on its production server on 127.0.0.1, and over the air-gap bundles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from exam_core import certs, keys, receipt
from exam_core.errors import UntrustedError
from exam_core.sync_wire import ACCEPTED
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.sync.bundle import import_bundle as central_import
from proctor_console.context import ConsoleContext
from proctor_console.envelopes import PendingEnvelope
from proctor_console.sync.bundle import export_bundle as centre_export
from proctor_console.sync.outbox import SyncOutbox
from proctor_console.sync.run import run_sync
from tests.support.central_db import bank_of, results_of
from tests.support.central_sync import GOOD, body_of, client_for, put_envelope
from tests.support.central_world import CENTRE_ID, World

OTHER = "centre-2"


@pytest.fixture
def other_console(tmp_path: Path, world: World) -> ConsoleContext:
    """A second centre, enrolled with the same central body and certified by it."""
    ctx = ConsoleContext(tmp_path / "console-2")
    ctx.initialise(OTHER, "Centre Two")
    certificate = certs.issue_certificate(world.pki.central, "central", OTHER, "centre", ctx.signing_key.public_key(),
                                          ctx.hpke_key.public_key())
    bank_of(world.data_dir)["centres"].insert({
        "centre_id": OTHER, "name": "Centre Two", "signing_key_id": keys.key_id(ctx.signing_key),
        "hpke_key_id": keys.key_id(ctx.hpke_key), "request_json": "{}", "cert_serial": "y",
        "certificate": certificate, "not_after": "2030-01-01T00:00:00Z", "enrolled_at": format_time(utc_now())})
    ctx.install_certificate(certificate, world.pki.root_cert)
    return ctx


def _central_rows(world: World) -> tuple[list, list]:
    results = results_of(world.data_dir)
    return (results.execute("SELECT centre_id, status FROM envelopes").fetchall(),
            results.execute("SELECT centre_id FROM quarantine").fetchall())


def test_another_centre_delivering_first_takes_nothing_from_the_rightful_one(world, console, hub, other_console):
    envelope = world.seal("att-1", GOOD)
    stolen = put_envelope(other_console, envelope, "att-1")
    first = run_sync(other_console, client_for(other_console, hub))
    assert first.envelopes_receipted == 0 and body_of(other_console, stolen) == envelope      # kept there
    (kept,) = first.envelopes_kept
    assert "only its own centre can hand it in" in kept["reason"]
    assert _central_rows(world) == ([], [])                            # no row took the envelope's slot
    digest = put_envelope(console, envelope, "att-1")
    report = run_sync(console, client_for(console, hub))
    assert report.envelopes_receipted == 1 and report.envelopes_quarantined_centrally == []
    assert body_of(console, digest) == b""
    assert _central_rows(world) == ([(CENTRE_ID, ACCEPTED)], [])
    stored = console.db.execute("SELECT receipt FROM envelopes WHERE sha256 = ?", [digest]).fetchone()[0]
    held = receipt.verify_receipt(bytes(stored), envelope, world.pki.central.public_key())
    assert (held.centre_id, held.status) == (CENTRE_ID, ACCEPTED)
    again = run_sync(other_console, client_for(other_console, hub))   # the other still learns nothing
    assert again.envelopes_receipted == 0 and body_of(other_console, stolen) == envelope


def test_a_slot_taken_before_the_fix_is_given_back_to_the_rightful_centre(world, console, hub):
    """A quarantine row an earlier version recorded for the wrong centre's delivery no longer
    answers the rightful centre: it is dropped, and the envelope is taken in."""
    envelope = world.seal("att-1", GOOD)
    digest = hashlib.sha256(envelope).hexdigest()
    now = format_time(utc_now())
    poisoned = receipt.issue_receipt(world.pki.central, envelope, "central", centre_id=OTHER, status="quarantined")
    results = results_of(world.data_dir)
    results["envelopes"].insert({"sha256": digest, "centre_id": OTHER, "attempt_id": "att-1", "status": "quarantined",
                                 "reason": f"envelope certified under centre {CENTRE_ID} was delivered by {OTHER}",
                                 "receipt": poisoned, "received_at": now})
    results["quarantine"].insert({"sha256": digest, "centre_id": OTHER, "attempt_id": "att-1", "error": "IntakeRefusal",
                                  "reason": "delivered by the wrong centre", "envelope": envelope, "received_at": now,
                                  "meta_json": "{}"})
    put_envelope(console, envelope, "att-1")
    report = run_sync(console, client_for(console, hub))
    assert report.envelopes_receipted == 1 and body_of(console, digest) == b""
    assert _central_rows(world) == ([(CENTRE_ID, ACCEPTED)], [])


def test_the_console_keeps_an_envelope_on_a_receipt_for_another_centre(world, console):
    """The console's own check, whatever the central body answers: a receipt that holds the
    envelope for another centre, or names none (version 1), never deletes it."""
    envelope = world.seal("att-1", GOOD)
    digest = put_envelope(console, envelope, "att-1")
    pending = PendingEnvelope(digest, "att-1", envelope)
    outbox = SyncOutbox(console)
    for_other = receipt.issue_receipt(world.pki.central, envelope, "central", centre_id=OTHER, status="quarantined")
    with pytest.raises(UntrustedError, match=f"for centre '{OTHER}'"):
        outbox.settle(pending, for_other, console.root_public())
    version_1 = _version_1_receipt(world, envelope)
    with pytest.raises(UntrustedError, match="version 1"):
        outbox.settle(pending, version_1, console.root_public())
    assert body_of(console, digest) == envelope
    outbox.settle(pending, receipt.issue_receipt(world.pki.central, envelope, "central", centre_id=CENTRE_ID),
                  console.root_public())
    assert body_of(console, digest) == b""


def _version_1_receipt(world: World, envelope: bytes) -> bytes:
    from exam_core import purposes, signing
    from exam_core.envelope import envelope_hash, read_unverified_header

    header = read_unverified_header(envelope)
    return signing.make_signed(world.pki.central, purposes.RECEIPT, {
        "format": "invigil-receipt", "v": 1, "envelope_sha256": envelope_hash(envelope),
        "envelope_id": header.envelope_id, "attempt_id": header.attempt_id,
        "received_at": format_time(utc_now()), "issuer": "central"})


def test_a_bundle_from_another_centre_records_nothing_for_the_envelope(world, console, other_console, tmp_path):
    envelope = world.seal("att-1", GOOD)
    put_envelope(other_console, envelope, "att-1")
    bundle = tmp_path / "from-other.bundle"
    centre_export(other_console, bundle)
    summary = central_import(world.data_dir, bundle)
    assert summary["rejected"] == 1 and summary["quarantined"] == 0 and summary["accepted"] == 0
    assert _central_rows(world) == ([], [])
    put_envelope(console, envelope, "att-1")
    mine = tmp_path / "mine.bundle"
    centre_export(console, mine)
    assert central_import(world.data_dir, mine)["accepted"] == 1
