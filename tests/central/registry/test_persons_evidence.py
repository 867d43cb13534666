"""Persons, photos, consents and sealed evidence through the service API, on this run's engine."""

from __future__ import annotations

import hashlib

import pytest

from exam_core.errors import TamperedError
from item_bank_sync.registry import actors, applications, evidence, persons, sealing
from item_bank_sync.registry.errors import Forbidden, NotFound, Refused
from item_bank_sync.registry.schema import evidence_documents
from tests.support.registry_body import ADMIN, AUDITOR, MARKER, PDF, REGISTRAR, SCHEME_ID, Body, photo_bytes
from tests.support.central_db import audit_of, execute, value


def _person(body: Body, email: str = "ann@example.org") -> persons.Person:
    return persons.add(body.ctx, REGISTRAR, given_name="Ann", family_name="Smith", email=email,
                       date_of_birth="1990-05-01")


def _application(body: Body, person_id: str) -> applications.Application:
    return applications.submit(body.ctx, actors.candidate(person_id), person_id=person_id, scheme_id=SCHEME_ID,
                               scheme_version=1, answers={"education_level": "master", "experience_months": 30},
                               accept_code_of_conduct=True, body_rules_version="2026-1")


def test_one_person_per_email_and_roles_that_may_see_them(body: Body) -> None:
    ann = _person(body)
    with pytest.raises(Refused, match="already registered"):
        _person(body, "ANN@example.org")
    assert persons.show(body.ctx, AUDITOR, ann.person_id).email == "ann@example.org"
    assert persons.show(body.ctx, actors.candidate(ann.person_id), ann.person_id).full_name == "Ann Smith"
    bob = _person(body, "bob@example.org")
    with pytest.raises(Forbidden):
        persons.show(body.ctx, actors.candidate(bob.person_id), ann.person_id)
    with pytest.raises(Forbidden):
        persons.show(body.ctx, MARKER, ann.person_id)
    with pytest.raises(Forbidden):
        persons.add(body.ctx, MARKER, given_name="X", family_name="Y", email="x@example.org")
    reads = [(e.actor, e.data) for e in audit_of(body.central.data_dir).entries() if e.action == "person.read"]
    assert reads == [("otto", {"person_id": ann.person_id})]   # staff reads logged, the person's own not


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "a b@example.org", ""])
def test_bad_email_refused(body: Body, bad: str) -> None:
    with pytest.raises(Refused, match="email"):
        persons.add(body.ctx, REGISTRAR, given_name="A", family_name="B", email=bad)


def test_photo_reencoded_sealed_and_served_by_role(body: Body) -> None:
    ann = _person(body)
    png = photo_bytes("PNG") + b"<script>trailing polyglot</script>"
    stored = persons.set_photo(body.ctx, actors.candidate(ann.person_id), ann.person_id, png)
    jpeg = persons.photo(body.ctx, actors.body(), ann.person_id)
    assert jpeg.startswith(b"\xff\xd8\xff") and b"<script>" not in jpeg
    assert stored.photo_sha256 == hashlib.sha256(jpeg).hexdigest()
    sealed = value(body.ctx.open_bank_db(), "SELECT photo_sealed FROM persons WHERE person_id = ?", ann.person_id)
    assert b"JFIF" not in bytes(sealed)
    with pytest.raises(Forbidden):
        persons.photo(body.ctx, MARKER, ann.person_id)


@pytest.mark.parametrize("data, problem", [
    (b"GIF89a" + b"\x00" * 100, "not a JPEG or PNG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG or PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "does not decode"),
    (photo_bytes("PNG", (50, 50)), "at least"),
    (b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024), "larger than"),
])
def test_hostile_photos_refused(body: Body, data: bytes, problem: str) -> None:
    ann = _person(body)
    with pytest.raises(Refused, match=problem):
        persons.set_photo(body.ctx, REGISTRAR, ann.person_id, data)


def test_consent_recorded_with_purpose_version_and_time(body: Body) -> None:
    ann = _person(body)
    persons.consent(body.ctx, actors.candidate(ann.person_id), ann.person_id, purpose="processing",
                    text_version="v3")
    again = persons.consent(body.ctx, actors.candidate(ann.person_id), ann.person_id, purpose="processing",
                            text_version="v3", given=False)
    assert [(c.purpose, c.text_version, c.given) for c in again.consents] == [("processing", "v3", True),
                                                                             ("processing", "v3", False)]
    with pytest.raises(Refused):
        persons.consent(body.ctx, REGISTRAR, ann.person_id, purpose="anything", text_version="v1")


def test_evidence_sealed_hashed_and_served_only_to_its_roles(body: Body) -> None:
    ann = _person(body)
    app = _application(body, ann.person_id)
    owner = actors.candidate(ann.person_id)
    doc = evidence.add(body.ctx, owner, evidence.APPLICATION, app.application_id, "diploma.pdf", PDF)
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest() and doc.media_type == "application/pdf"
    sealed = value(body.ctx.open_bank_db(), "SELECT sealed FROM evidence_documents WHERE document_id = ?",
                   doc.document_id)
    assert PDF not in bytes(sealed)
    for reader in (REGISTRAR, ADMIN, AUDITOR, owner):
        assert evidence.get(body.ctx, reader, doc.document_id)[1] == PDF
    bob = _person(body, "bob@example.org")
    for stranger in (MARKER, actors.candidate(bob.person_id), actors.staff("iw", "item_writer")):
        with pytest.raises(Forbidden):
            evidence.get(body.ctx, stranger, doc.document_id)
    reads = [e for e in audit_of(body.central.data_dir).entries() if e.action == "evidence.read"]
    assert len(reads) == 4 and all("Ann" not in str(e.data) for e in reads)


def test_evidence_moved_to_another_application_does_not_open(body: Body) -> None:
    ann, bob = _person(body), _person(body, "bob@example.org")
    first, second = _application(body, ann.person_id), _application(body, bob.person_id)
    doc = evidence.add(body.ctx, REGISTRAR, evidence.APPLICATION, first.application_id, "d.pdf", PDF)
    execute(body.ctx.open_bank_db(), "UPDATE evidence_documents SET subject_id = ? WHERE document_id = ?",
            second.application_id, doc.document_id)
    with pytest.raises(TamperedError):
        evidence.get(body.ctx, REGISTRAR, doc.document_id)
    assert evidence_documents.name == "evidence_documents"


@pytest.mark.parametrize("data, problem", [
    (b"<html><script>alert(1)</script></html>", "only PDF, PNG or JPEG"),
    (b"MZ\x90\x00" + b"\x00" * 100, "only PDF, PNG or JPEG"),
    (b"PK\x03\x04" + b"\x00" * 100, "only PDF, PNG or JPEG"),
    (b"%PDF-" + b"0" * (10 * 1024 * 1024), "larger than"),
    (b"", "empty"),
])
def test_hostile_evidence_refused(body: Body, data: bytes, problem: str) -> None:
    ann = _person(body)
    app = _application(body, ann.person_id)
    with pytest.raises(Refused, match=problem):
        evidence.add(body.ctx, actors.candidate(ann.person_id), evidence.APPLICATION, app.application_id,
                     "diploma.pdf", data)


def test_unknown_records_are_not_found(body: Body) -> None:
    with pytest.raises(NotFound):
        persons.show(body.ctx, REGISTRAR, "P-0000000000000000")
    with pytest.raises(NotFound):
        evidence.get(body.ctx, REGISTRAR, "D-0000000000000000")


def test_photo_turned_upright_and_its_metadata_dropped() -> None:
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6            # orientation: rotate 90 degrees to display
    exif[0x010F] = "SecretCam"  # make: metadata that must not survive
    source = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(source, "JPEG", exif=exif)
    out = Image.open(io.BytesIO(persons.reencode_photo(source.getvalue())))
    assert out.size == (200, 300) and not out.getexif()


def test_init_makes_the_evidence_key_and_a_missing_one_is_refused_not_replaced(body: Body) -> None:
    """``init`` made ``keys/evidence.key`` (0600) with the other keys; once it is gone, sealing and
    opening both refuse, naming what to restore, and no new key appears that could not open the
    documents already sealed."""
    path = sealing.key_path(body.ctx.keys_dir)
    assert path.stat().st_mode & 0o777 == 0o600
    ann = _person(body)
    app = _application(body, ann.person_id)
    doc = evidence.add(body.ctx, REGISTRAR, evidence.APPLICATION, app.application_id, "d.pdf", PDF)
    kept = path.read_bytes()
    path.unlink()
    with pytest.raises(sealing.EvidenceKeyMissing, match="Restore it from the backup"):
        evidence.get(body.ctx, REGISTRAR, doc.document_id)
    with pytest.raises(sealing.EvidenceKeyMissing):
        evidence.add(body.ctx, REGISTRAR, evidence.APPLICATION, app.application_id, "e.pdf", PDF)
    assert not path.exists()
    path.write_bytes(kept)
    path.chmod(0o600)
    assert evidence.get(body.ctx, REGISTRAR, doc.document_id)[1] == PDF
