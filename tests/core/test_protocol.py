"""The kiosk <-> console wire records and the protocol's own crypto (challenge login)."""

from __future__ import annotations

import secrets

import pytest

from exam_core import keys, protocol as P
from exam_core.errors import TamperedError, ValidationError
from exam_core.jsonio import b64e

NOW = "2026-11-26T07:00:00Z"


def _challenge() -> P.Challenge:
    return P.Challenge(console_id="console-1", challenge=b64e(secrets.token_bytes(32)),
                       issued=NOW, expires="2026-11-26T07:01:00Z")


def test_challenge_auth_round_trip() -> None:
    key = keys.generate_signing_key()
    auth = P.KioskAuth.from_dict(P.make_kiosk_auth(key, _challenge(), "kiosk-7").to_dict())
    payload = P.open_kiosk_auth(auth, key.public_key())
    assert payload.kiosk_id == "kiosk-7" and payload.console_id == "console-1"


def test_challenge_auth_refuses_other_key_and_other_kiosk() -> None:
    key, other = keys.generate_signing_key(), keys.generate_signing_key()
    auth = P.make_kiosk_auth(key, _challenge(), "kiosk-7")
    with pytest.raises(TamperedError):
        P.open_kiosk_auth(auth, other.public_key())
    stolen = P.KioskAuth(kiosk_id="kiosk-8", payload=auth.payload, signature=auth.signature)
    with pytest.raises(ValidationError, match="kiosk_id"):
        P.open_kiosk_auth(stolen, key.public_key())


def test_challenge_signature_is_purpose_bound() -> None:
    from exam_core import signing
    from exam_core.jsonio import b64d
    key = keys.generate_signing_key()
    auth = P.make_kiosk_auth(key, _challenge(), "kiosk-7")
    forged = signing.sign(key, "receipt", b64d(auth.payload))
    with pytest.raises(TamperedError):
        P.open_kiosk_auth(P.KioskAuth("kiosk-7", auth.payload, b64e(forged)), key.public_key())


def test_unknown_fields_and_versions_are_refused() -> None:
    data = _challenge().to_dict()
    with pytest.raises(ValidationError, match="extra"):
        P.Challenge.from_dict({**data, "extra": 1})
    with pytest.raises(ValidationError, match=r"^v:"):
        P.Challenge.from_dict({**data, "v": 2})


def test_command_args_are_checked_per_type() -> None:
    cmd = P.Command(command_id=P.new_command_id(), type="extend", issued=NOW, attempt_id="att-1",
                    args=P.ExtendArgs(seconds=300, reason="fire alarm"))
    assert P.Command.from_dict(cmd.to_dict()) == cmd
    with pytest.raises(ValidationError, match=r"args\.reason"):
        P.Command.from_dict({**cmd.to_dict(), "args": {"seconds": 300, "reason": "  "}})
    with pytest.raises(ValidationError, match=r"args\.seconds"):
        P.Command.from_dict({**cmd.to_dict(), "args": {"seconds": 0, "reason": "x"}})
    with pytest.raises(ValidationError, match="attempt_id"):
        P.Command.from_dict({**cmd.to_dict(), "attempt_id": None})
    with pytest.raises(ValidationError, match="command_id"):
        P.Command.from_dict({**cmd.to_dict(), "command_id": "not-hex"})


def test_event_snapshot_and_size_limits() -> None:
    event = {"kiosk_id": "kiosk-7", "seq": 3, "type": "face.absent", "severity": "high",
             "wall_time": NOW, "mono_time": 12.5, "rule": "no_face_for",
             "thresholds": {"seconds": 5}, "evidence": {"snapshot_jpeg": b64e(b"\xff\xd8jpeg")}}
    assert P.parse_event(event).seq == 3
    with pytest.raises(ValidationError, match="snapshot_jpeg"):
        P.parse_event({**event, "evidence": {"snapshot_jpeg": "not base64!"}})
    with pytest.raises(ValidationError, match="larger"):
        P.parse_event({**event, "data": {"blob": "x" * (P.MAX_EVENT_BYTES + 1)}})


def test_heartbeat_progress_must_be_consistent() -> None:
    base = {"v": 1, "state": "in_progress", "wall_time": NOW}
    assert P.Heartbeat.from_dict({**base, "progress": {"answered": 2, "total": 5}}).progress.answered == 2
    with pytest.raises(ValidationError, match=r"progress\.answered"):
        P.Heartbeat.from_dict({**base, "progress": {"answered": 6, "total": 5}})
    with pytest.raises(ValidationError, match="state"):
        P.Heartbeat.from_dict({**base, "state": "hacked"})


def test_heartbeat_journal_head_is_optional_and_checked() -> None:
    base = {"v": 1, "state": "in_progress", "wall_time": "2026-11-26T09:00:00Z", "attempt_id": "att-1"}
    assert "journal_head" not in P.Heartbeat.from_dict(base).to_dict()       # older consoles read it
    beat = P.Heartbeat.from_dict({**base, "journal_head": {"seq": 7, "hash": "ab" * 32}})
    assert beat.journal_head == P.JournalHeadInfo(7, "ab" * 32) and P.Heartbeat.from_dict(beat.to_dict()) == beat
    for bad, field in ((0, "seq"), (P.MAX_JOURNAL_SEQ + 1, "seq"), ("7", "seq")):
        with pytest.raises(ValidationError, match=f"journal_head.{field}"):
            P.Heartbeat.from_dict({**base, "journal_head": {"seq": bad, "hash": "ab" * 32}})
    for bad in ("AB" * 32, "ab" * 31, "zz" * 32):
        with pytest.raises(ValidationError, match=r"journal_head\.hash"):
            P.Heartbeat.from_dict({**base, "journal_head": {"seq": 1, "hash": bad}})
    with pytest.raises(ValidationError, match=r"journal_head\.answers"):
        P.Heartbeat.from_dict({**base, "journal_head": {"seq": 1, "hash": "ab" * 32, "answers": {}}})
    with pytest.raises(ValidationError, match="needs the attempt_id"):
        P.Heartbeat.from_dict({**base, "attempt_id": None, "journal_head": {"seq": 1, "hash": "ab" * 32}})


def test_envelope_hash_must_match() -> None:
    import hashlib
    blob = b"sealed-envelope-bytes"
    msg = {"v": 1, "attempt_id": "att-1", "envelope": b64e(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    assert P.EnvelopeMessage.from_dict(msg).attempt_id == "att-1"
    with pytest.raises(ValidationError, match="sha256"):
        P.EnvelopeMessage.from_dict({**msg, "sha256": "0" * 64})
