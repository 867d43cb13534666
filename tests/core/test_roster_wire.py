"""The signed session roster (exam_core/roster_wire.py): what the central body signs is exactly what
a centre reads back, and every way a roster can be wrong is refused before anything of it is used:
a changed byte, another key or purpose, another centre or session, a photo that is not the one
named or not a JPEG, a grant beyond the scheme's policy, duplicates, unknown fields, size limits."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from exam_core import purposes, roster_wire, signing
from exam_core.errors import TamperedError, ValidationError, WrongKeyError, WrongPurposeError
from exam_core.jsonio import canonical_dumps
from exam_core.model import AccommodationPolicy, Accommodations
from exam_core.roster_wire import RosterCandidate, SessionRoster

KEY = Ed25519PrivateKey.generate()
POLICY = AccommodationPolicy(accommodations_allowed=("extra_time_percent", "large_text"), max_extra_time_percent=50)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 200), (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


PHOTO = _jpeg()


def _roster(**over: Any) -> SessionRoster:
    candidates = (RosterCandidate("C-1", "Ada Lovelace", "1", PHOTO, Accommodations(extra_time_percent=25)),
                  RosterCandidate("C-2", "Alan Turing", "2", None, Accommodations()))
    fields: dict[str, Any] = {"centre_id": "centre-1", "session_id": "S-1", "version": 1,
                              "issued_at": "2026-12-01T10:00:00Z", "scheme_id": "CERT", "scheme_version": 1,
                              "starts_at": "2026-12-20T09:00:00Z", "window_minutes": 60, "forms": ("CERT-F1",),
                              "accommodation_policy": POLICY, "candidates": candidates}
    return SessionRoster(**(fields | over))


def _resign(payload: dict[str, Any]) -> bytes:
    """A document the real key signs over a payload the test changed (to reach the payload checks)."""
    return signing.make_signed(KEY, purposes.SESSION_ROSTER, canonical_dumps(payload))


def test_round_trip_keeps_every_field_and_the_photo_bytes() -> None:
    document = roster_wire.make_roster(KEY, _roster())
    opened = roster_wire.open_roster(document, KEY.public_key(), "centre-1", "S-1")
    assert opened == _roster()
    assert opened.candidates[0].photo == PHOTO and opened.candidates[1].photo is None
    assert opened.candidates[0].accommodations.extra_time_percent == 25


def test_a_byte_changed_in_transit_is_refused() -> None:
    document = roster_wire.make_roster(KEY, _roster())
    doc = json.loads(document)
    payload = bytearray(base64.b64decode(doc["payload"]))
    at = payload.index(b"Ada")
    payload[at] = ord("E")
    doc["payload"] = base64.b64encode(bytes(payload)).decode()
    with pytest.raises(TamperedError):
        roster_wire.open_roster(json.dumps(doc).encode(), KEY.public_key(), "centre-1")


def test_another_key_purpose_centre_or_session_is_refused() -> None:
    document = roster_wire.make_roster(KEY, _roster())
    with pytest.raises(WrongKeyError):
        roster_wire.open_roster(document, Ed25519PrivateKey.generate().public_key(), "centre-1")
    with pytest.raises(WrongKeyError, match="centre"):
        roster_wire.open_roster(document, KEY.public_key(), "centre-2")
    with pytest.raises(WrongKeyError, match="session"):
        roster_wire.open_roster(document, KEY.public_key(), "centre-1", "S-2")
    as_list = signing.make_signed(KEY, purposes.SYNC_PACKAGE_LIST, _roster().to_dict())
    with pytest.raises(WrongPurposeError):
        roster_wire.open_roster(as_list, KEY.public_key(), "centre-1")


@pytest.mark.parametrize(("change", "problem"), [
    (lambda p: p["candidates"][0].update(photo_sha256="0" * 64), "photo_sha256"),
    (lambda p: p["candidates"][0].update(photo=base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode(),
                                         photo_sha256=None), "JPEG"),
    (lambda p: p["candidates"][0]["accommodations"].update(extra_time_percent=100), "allows at most 50"),
    (lambda p: p["candidates"][1]["accommodations"].update(screen_reader=True), "does not allow"),
    (lambda p: p["candidates"][1].update(candidate_id="C-1"), "candidate_id appears twice"),
    (lambda p: p["candidates"][1].update(seat="1"), "seat appears twice"),
    (lambda p: p["candidates"][0].update(email="x@example.org"), "not a known field"),
    (lambda p: p.update(v=2), "version"),
    (lambda p: p.update(format="invigil-roster"), "format"),
    (lambda p: p.update(version=0), "version"),
    (lambda p: p["candidates"][0].update(name="  "), "name"),
    (lambda p: p["candidates"][0].update(candidate_id="../x"), "candidate_id"),
])
def test_a_signed_payload_that_breaks_the_format_is_refused(change: Any, problem: str) -> None:
    payload = _roster().to_dict()
    change(payload)
    with pytest.raises(ValidationError, match=problem):
        roster_wire.open_roster(_resign(payload), KEY.public_key(), "centre-1")


def test_the_signer_refuses_a_grant_beyond_the_scheme() -> None:
    granted = Accommodations(screen_reader=True)
    beyond = replace(_roster(), candidates=(RosterCandidate("C-1", "A", "1", None, granted),))
    with pytest.raises(ValidationError, match="screen_reader"):
        roster_wire.make_roster(KEY, beyond)


def test_limits_photo_size_candidates_and_list() -> None:
    big = PHOTO + b"\x00" * roster_wire.PHOTO_MAX_BYTES
    payload = _roster(candidates=(RosterCandidate("C-1", "A", "1", big),)).to_dict()
    with pytest.raises(ValidationError, match="photo"):
        roster_wire.open_roster(_resign(payload), KEY.public_key(), "centre-1")
    many = _roster(candidates=()).to_dict()
    many["candidates"] = [{"candidate_id": f"C-{i}", "name": "N", "seat": str(i), "photo": None,
                           "photo_sha256": None, "accommodations": {}}
                          for i in range(roster_wire.MAX_CANDIDATES + 1)]
    with pytest.raises(ValidationError, match="more than"):
        roster_wire.open_roster(_resign(many), KEY.public_key(), "centre-1")
    with pytest.raises(ValidationError, match="more than"):
        roster_wire.parse_roster_list(json.dumps({"rosters": ["AA=="] * (roster_wire.MAX_ROSTERS + 1)}).encode())
    with pytest.raises(ValidationError, match="not a known field"):
        roster_wire.parse_roster_list(b'{"rosters": [], "extra": 1}')


def test_roster_list_carries_the_documents_byte_for_byte() -> None:
    docs = [roster_wire.make_roster(KEY, _roster()), roster_wire.make_roster(KEY, _roster(session_id="S-2"))]
    assert roster_wire.parse_roster_list(roster_wire.roster_list_bytes(docs)) == tuple(docs)
    assert roster_wire.parse_roster_list(roster_wire.roster_list_bytes([])) == ()
