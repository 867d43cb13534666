"""The console <-> central formats: round trips, strict refusals, limits, bundles, enrolment."""

from __future__ import annotations

import json

import pytest

from exam_core import keys, signing, sync_wire
from exam_core.errors import ArtefactError, TamperedError, ValidationError, WrongKeyError, WrongPurposeError
from exam_core.jsonio import b64e
from exam_core.protocol import JournalHeadInfo

NOW = "2026-11-26T07:00:00Z"
HEAD = JournalHeadInfo(seq=3, hash="ab" * 32)


def _meta() -> sync_wire.EnvelopeMeta:
    return sync_wire.EnvelopeMeta(
        proctors=("pat", "sam"),
        incidents=(sync_wire.Incident("webcam.face_missing", "high", NOW, "face_missing", {"count": 2}),),
        journal_heads=(HEAD,))


def _upload(count: int = 2) -> sync_wire.Upload:
    return sync_wire.Upload(tuple(sync_wire.UploadEntry(bytes([n]) * 40, _meta()) for n in range(count)),
                            (b"signed revocation",))


def test_paths() -> None:
    assert (sync_wire.PACKAGES_PATH, sync_wire.REVOCATIONS_PATH, sync_wire.ENVELOPES_PATH) == \
        ("/v1/packages", "/v1/revocations", "/v1/envelopes")
    assert sync_wire.package_path("pkg-1") == "/v1/packages/pkg-1"
    assert sync_wire.PACKAGE_ROUTE == "/v1/packages/<package_id>"
    with pytest.raises(ValidationError):
        sync_wire.package_path("../etc/passwd")


def test_upload_round_trip_in_the_bytes_consoles_send() -> None:
    upload = _upload()
    body = upload.to_bytes()
    assert body.startswith(b'{"envelopes": [{"envelope": ')          # json.dumps spacing, as always
    assert sync_wire.parse_upload(body) == upload
    alone = sync_wire.Upload((), (b"revocation",))
    assert sync_wire.parse_upload(alone.to_bytes()) == alone            # revocations may travel alone
    assert "kiosk_revocations" not in json.loads(sync_wire.Upload(upload.envelopes).to_bytes())


def test_upload_refuses_unknown_missing_and_oversized() -> None:
    entry = _upload(1).to_dict()["envelopes"][0]
    cases = [
        ({"envelopes": [entry], "extra": 1}, "extra"),
        ({"kiosk_revocations": [b64e(b"x")]}, "envelopes"),
        ({"envelopes": []}, "envelopes"),
        ({"envelopes": [{**entry, "note": "x"}]}, r"envelopes\[0\]\.note"),
        ({"envelopes": [{k: v for k, v in entry.items() if k != "envelope"}]}, r"envelopes\[0\]\.envelope"),
        ({"envelopes": [{**entry, "envelope": "not base64!"}]}, r"envelopes\[0\]\.envelope"),
        ({"envelopes": [{**entry, "proctors": ["p"] * 21}]}, "proctors"),
        ({"envelopes": [{**entry, "incidents": [{"kind": "Bad Kind", "severity": "high", "at": NOW}]}]}, "kind"),
        ({"envelopes": [{**entry, "incidents": [{"kind": "a", "severity": "high", "at": NOW,
                                                 "detail": {"x": "y" * 9000}}]}]}, "detail"),
        ({"envelopes": [{**entry, "journal_heads": [{"seq": 0, "hash": "ab" * 32}]}]}, "seq"),
        ({"envelopes": [{**entry, "journal_head": {"seq": 1, "hash": "ab" * 32}, "journal_heads": []}]},
         "journal_head"),
        ({"envelopes": [entry] * (sync_wire.UPLOAD_MAX_ENVELOPES + 1)}, "more than 500"),
        ({"envelopes": [entry], "kiosk_revocations": ["eA=="] * 1001}, "kiosk_revocations"),
        ({"envelopes": [entry], "kiosk_revocations": [b64e(bytes(5000))]}, r"kiosk_revocations\[0\]"),
    ]
    for body, match in cases:
        with pytest.raises(ValidationError, match=match):
            sync_wire.parse_upload(json.dumps(body).encode())


def test_envelope_meta_reads_the_single_head_of_earlier_consoles() -> None:
    meta = sync_wire.EnvelopeMeta.from_dict({"proctors": [], "incidents": [],
                                             "journal_head": {"seq": 3, "hash": "ab" * 32}})
    assert meta.journal_heads == (HEAD,)
    assert meta.to_dict() == {"proctors": [], "incidents": [], "journal_heads": [{"seq": 3, "hash": "ab" * 32}]}
    assert "journal_heads" not in sync_wire.EnvelopeMeta().to_dict()


def test_upload_answer_needs_one_result_per_envelope() -> None:
    upload = _upload(2)
    outcome = sync_wire.EnvelopeOutcome("0" * 64, sync_wire.ACCEPTED, "", "att-1", b"receipt", flags=("look",))
    answer = sync_wire.UploadAnswer((outcome, outcome), 1)
    assert sync_wire.parse_upload_answer(json.dumps(answer.to_dict()).encode(), upload) == answer
    with pytest.raises(ValidationError, match="2 envelopes"):
        sync_wire.parse_upload_answer(json.dumps({"results": [outcome.to_dict()]}).encode(), upload)
    for bad, match in (({**outcome.to_dict(), "status": "lost"}, "status"),
                       ({**outcome.to_dict(), "extra": 1}, "extra"),
                       ({k: v for k, v in outcome.to_dict().items() if k != "reason"}, "reason")):
        with pytest.raises(ValidationError, match=match):
            sync_wire.UploadAnswer.from_dict({"results": [bad]})


def test_package_list_is_signed_and_bound_to_the_request() -> None:
    central = keys.generate_signing_key()
    entry = sync_wire.PackageListEntry("pkg-1", "F1", 1, NOW, NOW, "cd" * 32, 1234)
    listed = sync_wire.PackageList("centre-1", "ab" * 16, NOW, (entry,))
    doc = sync_wire.make_package_list(central, listed)
    assert sync_wire.open_package_list(doc, central.public_key(), "centre-1", "ab" * 16) == listed
    with pytest.raises(TamperedError):
        sync_wire.open_package_list(doc, central.public_key(), "centre-2", "ab" * 16)
    with pytest.raises(ArtefactError):
        sync_wire.open_package_list(doc, keys.generate_signing_key().public_key(), "centre-1", "ab" * 16)
    too_big = signing.make_signed(central, "sync-package-list", {**listed.to_dict(), "packages": [
        {**entry.to_dict(), "size": 1 << 40}]})
    with pytest.raises(ValidationError, match="size"):
        sync_wire.open_package_list(too_big, central.public_key(), "centre-1", "ab" * 16)


@pytest.fixture(scope="module")
def parties():
    return {"central": keys.generate_signing_key(), "results": keys.generate_hpke_key(keys.SUITE_X25519),
            "centre": keys.generate_signing_key(), "centre_hpke": keys.generate_hpke_key(keys.SUITE_X25519)}


def test_envelopes_bundle_round_trip_and_refusals(parties) -> None:
    bundle = sync_wire.EnvelopesBundle("centre-1", NOW, _upload(2).envelopes, (b"signed revocation",))
    data = sync_wire.seal_bundle(bundle, parties["centre"], parties["results"].public_key())
    assert b"centre-1" not in data
    asked: list[str] = []

    def centre_key(centre_id: str):
        asked.append(centre_id)
        return parties["centre"].public_key()

    assert sync_wire.open_envelopes_bundle(data, parties["results"], centre_key) == bundle
    assert asked == ["centre-1"] and bundle.upload() == _upload(2)
    with pytest.raises(ArtefactError):                    # signed by another key than the centre's
        sync_wire.open_envelopes_bundle(data, parties["results"], lambda c: parties["central"].public_key())
    with pytest.raises(ArtefactError):                    # not sealed to this recipient
        sync_wire.open_envelopes_bundle(data, parties["centre_hpke"], centre_key)
    back = sync_wire.seal_bundle(sync_wire.CentreBundle("centre-1", NOW, (), b"list", ()), parties["central"],
                                 parties["results"].public_key())
    with pytest.raises(WrongPurposeError):                # a bundle for a centre is not one for the central body
        sync_wire.open_envelopes_bundle(back, parties["results"], centre_key)


def test_centre_bundle_round_trip_and_refusals(parties) -> None:
    bundle = sync_wire.CentreBundle(
        "centre-1", NOW, (sync_wire.BundlePackage("pkg-1", "cd" * 32, b"package bytes"),), b"revocation list",
        (b"receipt 1", b"receipt 2"), (sync_wire.RecordedRevocation("K1", "ab" * 16),))
    data = sync_wire.seal_bundle(bundle, parties["central"], parties["centre_hpke"].public_key())
    opened = sync_wire.open_centre_bundle(data, parties["centre_hpke"], parties["central"].public_key(), "centre-1")
    assert opened == bundle
    with pytest.raises(WrongKeyError, match="bundle is for centre 'centre-1'"):
        sync_wire.open_centre_bundle(data, parties["centre_hpke"], parties["central"].public_key(), "centre-2")
    with pytest.raises(ArtefactError):
        sync_wire.open_centre_bundle(data, parties["centre_hpke"], parties["centre"].public_key(), "centre-1")
    payload = bundle.to_dict()
    for bad, match in (({**payload, "format": "invigil-bundle-envelopes"}, "format"), ({**payload, "v": 2}, "v"),
                       ({**payload, "extra": []}, "extra"),
                       ({**payload, "receipts": ["not base64!"]}, r"receipts\[0\]")):
        with pytest.raises(ValidationError, match=match):
            sync_wire.CentreBundle.from_dict(bad, "bundle")
    older = {k: v for k, v in payload.items() if k != "kiosk_revocations_recorded"}
    assert sync_wire.CentreBundle.from_dict(older).kiosk_revocations_recorded == ()


def test_enrolment_request_proves_possession() -> None:
    key, hpke = keys.generate_signing_key(), keys.generate_hpke_key()
    request = sync_wire.CentreEnrolmentRequest(
        centre_id="centre-1", name="Test Centre", signing_key=keys.public_key_to_dict(key.public_key()),
        hpke_key=keys.public_key_to_dict(hpke.public_key()), created=NOW)
    assert sync_wire.open_enrolment_request(sync_wire.make_enrolment_request(key, request)) == request
    other = keys.generate_signing_key()
    with pytest.raises(ArtefactError):
        sync_wire.open_enrolment_request(signing.make_signed(other, "centre-enrolment-request", request.to_dict()))
    with pytest.raises(ValidationError, match="extra"):
        sync_wire.open_enrolment_request(signing.make_signed(key, "centre-enrolment-request",
                                                             {**request.to_dict(), "extra": 1}))


def test_kiosk_revocation_is_signed_by_the_centre() -> None:
    centre = keys.generate_signing_key()
    revocation = sync_wire.KioskRevocation("centre-1", "K1", "ab" * 16, "cd" * 16, NOW, "admin", "lost")
    document = sync_wire.make_kiosk_revocation(centre, revocation)
    assert sync_wire.open_kiosk_revocation(document, centre.public_key()) == revocation
    with pytest.raises(ArtefactError):
        sync_wire.open_kiosk_revocation(document, keys.generate_signing_key().public_key())
    with pytest.raises(ValidationError, match="revoked_by"):
        sync_wire.open_kiosk_revocation(sync_wire.make_kiosk_revocation(
            centre, sync_wire.KioskRevocation("centre-1", "K1", "ab" * 16, "cd" * 16, NOW, "  ")), centre.public_key())
    with pytest.raises(ValidationError, match="larger than"):
        sync_wire.open_kiosk_revocation(document + b" " * sync_wire.MAX_KIOSK_REVOCATION_BYTES, centre.public_key())
