"""What the code of commit dc7ada5 wrote (tests/core/data/wire-dc7ada5) is still read, and written
again byte for byte: uploads, answers, package lists, both air-gap bundles, the enrolment request,
a kiosk's sealed attempt result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exam_core import envelope, keys, receipt, signing, sync_wire
from exam_core.jsonio import b64e, loads_strict
from exam_core.model import Attempt, Response
from exam_core.result import AttemptResult, Unanswered, parse_result
from exam_core.sealed_file import open_file

DATA = Path(__file__).parent / "data" / "wire-dc7ada5"


@pytest.fixture(scope="module")
def k() -> dict[str, Any]:
    raw = json.loads((DATA / "keys.json").read_text())
    sync, kiosk = raw["sync"], raw["kiosk"]
    return {
        "centre_id": sync["centre_id"],
        "results": keys.parse_private_key_document(sync["central_results"].encode()),
        "central": keys.public_key_from_dict(sync["central_signing_public"]),
        "centre_hpke": keys.parse_private_key_document(sync["centre_hpke"].encode()),
        "centre": keys.public_key_from_dict(sync["centre_signing_public"]),
        "kiosk_results": keys.parse_private_key_document(kiosk["central_results"].encode()),
        "kiosk_central": keys.public_key_from_dict(kiosk["central_signing_public"]),
    }


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_upload_body_reads_and_is_written_again_byte_for_byte(k) -> None:
    body = _read("upload-body.json")
    upload = sync_wire.parse_upload(body)
    assert upload.to_bytes() == body
    (entry,) = upload.envelopes
    assert envelope.read_unverified_header(entry.envelope).attempt_id == "att-1"
    assert entry.meta.proctors == ("kim", "pat", "sam")
    assert [(i.kind, i.severity, i.rule) for i in entry.meta.incidents] == [
        ("webcam.face_missing", "high", "face_missing"), ("incident", "medium", "")]
    assert [h.seq for h in entry.meta.journal_heads] == [2, 6]
    (document,) = upload.kiosk_revocations
    revocation = sync_wire.open_kiosk_revocation(document, k["centre"])
    assert (revocation.kiosk_id, revocation.revoked_by, revocation.reason) == ("K99", "admin", "lost")


def test_upload_answer_reads_and_its_receipt_verifies(k) -> None:
    upload = sync_wire.parse_upload(_read("upload-body.json"))
    answer = sync_wire.parse_upload_answer(_read("upload-answer.json"), upload)
    (outcome,) = answer.results
    assert (outcome.status, outcome.attempt_id, outcome.duplicate, outcome.flags) == ("accepted", "att-1", False, ())
    assert answer.kiosk_revocations_recorded == 1
    verified = receipt.verify_receipt(outcome.receipt, upload.envelopes[0].envelope, k["central"])
    assert verified.envelope_sha256 == outcome.envelope_sha256
    assert sync_wire.UploadAnswer.from_dict(answer.to_dict()) == answer


def test_package_list_reads_for_its_request_only(k) -> None:
    data, nonce = _read("package-list.signed"), _read("package-list.nonce").decode()
    listed = sync_wire.open_package_list(data, k["central"], k["centre_id"], nonce)
    (entry,) = listed.packages
    assert entry.package_id == "pkg-1" and entry.size > 0
    assert signing.open_signed(data, k["central"], "sync-package-list").payload == listed.to_dict()
    with pytest.raises(Exception, match="not the answer to this request"):
        sync_wire.open_package_list(data, k["central"], k["centre_id"], "0" * 32)


def test_bundle_to_central_opens_and_is_written_again_byte_for_byte(k) -> None:
    data = _read("bundle-to-central.bin")
    bundle = sync_wire.open_envelopes_bundle(data, k["results"], lambda centre_id: k["centre"])
    assert bundle.centre_id == k["centre_id"]
    upload = sync_wire.parse_upload(_read("upload-body.json"))
    assert [e.meta for e in bundle.envelopes] == [e.meta for e in upload.envelopes]
    assert len(bundle.kiosk_revocations) == 1
    signed = open_file(k["results"], bundle.PURPOSE, data, 1 << 30)
    assert signing.read_unverified(signed).payload_bytes == json.dumps(bundle.to_dict()).encode()


def test_bundle_to_centre_opens_for_its_centre_only(k) -> None:
    data = _read("bundle-to-centre.bin")
    bundle = sync_wire.open_centre_bundle(data, k["centre_hpke"], k["central"], k["centre_id"])
    (package,) = bundle.packages
    assert package.package_id == "pkg-1" and len(bundle.receipts) == 1
    assert bundle.kiosk_revocations_recorded == (sync_wire.RecordedRevocation("K99", "ab" * 16),)
    signed = open_file(k["centre_hpke"], bundle.PURPOSE, data, 1 << 30)
    assert signing.read_unverified(signed).payload_bytes == json.dumps(bundle.to_dict()).encode()
    with pytest.raises(Exception, match="bundle is for centre"):
        sync_wire.open_centre_bundle(data, k["centre_hpke"], k["central"], "centre-other")


def test_enrolment_request_still_proves_possession() -> None:
    request = sync_wire.open_enrolment_request(_read("enrolment-request.json"))
    assert request.centre_id and request.name and request.v == 1


def test_kiosk_result_reads_and_writes_the_same_document(k) -> None:
    _, payload = envelope.open_envelope(_read("kiosk-envelope.bin"), k["kiosk_results"], k["kiosk_central"])
    result = parse_result(payload)
    again = result.to_dict()
    # Attempt and Accommodations may gain optional fields with defaults; the rest is exactly as sealed.
    assert Attempt.from_dict(payload["attempt"]) == result.attempt
    assert {k: v for k, v in again.items() if k not in ("attempt", "accommodations")} == \
        {k: v for k, v in payload.items() if k not in ("attempt", "accommodations")}
    assert again["accommodations"]["used"] == payload["accommodations"]["used"]
    assert AttemptResult.from_dict(loads_strict(result.to_bytes())) == result
    assert all(isinstance(r, (Response, Unanswered)) for r in result.responses)
    assert [a.seq for a in result.answers] == sorted({a.seq for a in result.answers})
    assert result.attestation == b64e(b"attestation-document-for-nonce-1")
    assert len(result.journal_chain) == 32 * result.journal_head.seq
