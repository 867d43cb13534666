"""The kiosk <-> console wire protocol (Socket.IO over the console's HTTPS), one source of truth.

Both ends import this module: the console validates everything a kiosk sends with these
``from_dict`` readers and the kiosk builds its messages with the same records, so the two cannot
drift apart. The narrative description (sequence diagrams, error handling, what is retried) is in
``docs/PROTOCOL.md``; this module holds the names, shapes, limits and the two pieces of crypto the
protocol itself defines (challenge-response login). Pairing, which runs once before any of this,
is :mod:`exam_core.pairing`.

Why a challenge over HTTPS before the Socket.IO connect: the Socket.IO ``auth`` payload of the
CONNECT packet is the only moment a server can refuse a client before any handler runs. The kiosk
fetches a fresh single-use challenge (``GET CHALLENGE_PATH``), signs it with its certified Ed25519
key and presents the signature as ``auth`` (python-socketio accepts a callable for ``auth``, which
is called on every reconnect, so every connection gets a fresh challenge).

Every message carries ``v`` (``PROTOCOL_VERSION``); unknown fields are refused, never ignored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import limits, purposes, signing
from exam_core.errors import ArtefactError, ValidationError
from exam_core.jsonio import b64d, b64e, canonical_dumps, loads_strict
from exam_core.model import ATTEMPT_STATES, IDENTIFIER_RE, SHA256_RE, TIMESTAMP_RE, Attempt, Event
from exam_core.records import Fields, Record, RecordT

PROTOCOL_VERSION = 1

# --- transport ---------------------------------------------------------------------------------

#: Socket.IO namespace of kiosks (challenge-authenticated) and of proctors' browsers (session cookie).
KIOSK_NAMESPACE = "/kiosk"
PROCTOR_NAMESPACE = "/proctor"
#: HTTPS endpoint of the console where a kiosk fetches a login challenge (pairing has its own,
#: ``exam_core.pairing.PAIR_PATH``).
CHALLENGE_PATH = "/kiosk/challenge"

#: Largest Socket.IO message the console accepts (Engine.IO ``max_http_buffer_size``); an envelope
#: in base64 must fit, so this follows ``limits.ENVELOPE_MAX_BYTES``.
MAX_MESSAGE_BYTES = limits.ENVELOPE_MAX_BYTES * 4 // 3 + 64 * limits.KIB
#: One monitoring event including its evidence snapshot.
MAX_EVENT_BYTES = 256 * limits.KIB
#: A JPEG snapshot or thumbnail carried as base64 in events and heartbeats.
MAX_IMAGE_BYTES = 128 * limits.KIB
#: Hardware/OS attestation blob in ``hello`` (hardening.attestation output).
MAX_ATTESTATION_BYTES = 64 * limits.KIB
#: A wrapped content key (HPKE enc + ciphertext; hybrid ML-KEM encapsulations are ~1.1 kB).
MAX_WRAPPED_KEY_BYTES = 8 * limits.KIB
#: Package bytes per ``package_chunk`` request.
PACKAGE_CHUNK_BYTES = 512 * limits.KIB
#: Seconds a challenge stays valid after the console issued it.
CHALLENGE_TTL_SECONDS = 60

# --- event names ---------------------------------------------------------------------------------

# kiosk -> console on KIOSK_NAMESPACE; each is answered through the Socket.IO ack callback.
HELLO = "hello"
HEARTBEAT = "heartbeat"
EVENT = "event"
ENVELOPE = "envelope"
PACKAGE_CHUNK = "package_chunk"

# console -> kiosk on KIOSK_NAMESPACE; the kiosk answers through the ack callback.
COMMAND = "command"
#: ``cancel_admission`` (reason required) undoes an admission before the start: the kiosk forgets the
#: attempt and waits again. A kiosk built before it refuses the type as ``invalid`` (never crashes),
#: and the console's attempt then stays admitted.
COMMAND_TYPES = ("admit", "start", "pause", "resume", "extend", "end", "message", "resume_approved",
                 "cancel_admission")

# console <-> proctor browser on PROCTOR_NAMESPACE (console-internal, listed for the bench and tests).
PROCTOR_SNAPSHOT = "snapshot"        # console -> browser: full seat map on connect
PROCTOR_KIOSK = "kiosk"              # console -> browser: one tile changed
PROCTOR_EVENT = "kiosk_event"        # console -> browser: one stored event (relay_ms measured from here)
PROCTOR_ALERT = "alert"              # console -> browser: an alert opened or changed
PROCTOR_COMMAND = "command_status"   # console -> browser: a command was sent / acked / failed

#: What a kiosk reports as its state: ``idle`` (free seat) or the state of its current attempt.
KIOSK_STATES = ("idle", *ATTEMPT_STATES)

# --- acks ----------------------------------------------------------------------------------------

#: Error codes in a refused ack. ``invalid``: the message will never be accepted as sent (log it,
#: do not resend it unchanged); ``retry``: a transient failure, resend later; ``unauthorised``:
#: this credential may not do that; ``conflict``: refused in the current state (e.g. a command
#: for another attempt).
ACK_ERRORS = ("invalid", "retry", "unauthorised", "conflict")

COMMAND_ID_RE = re.compile(r"^[0-9a-f]{32}$")
CHALLENGE_B64_LEN = 44  # 32 random bytes


def ack_ok(**fields: Any) -> dict[str, Any]:
    """A positive ack: ``{"ok": true, ...fields}``."""
    return {"ok": True, **fields}


def ack_error(code: str, reason: str) -> dict[str, Any]:
    """A refused ack: ``{"ok": false, "error": code, "reason": text}``; never carries secrets."""
    if code not in ACK_ERRORS:
        raise ValidationError("error", f"must be one of {', '.join(ACK_ERRORS)}")
    return {"ok": False, "error": code, "reason": str(reason)[:500]}


def new_command_id() -> str:
    """A fresh random command id (128 bits, hex): applied at most once by the kiosk."""
    return secrets.token_hex(16)


def parse_message(cls: type[RecordT], data: Any, max_bytes: int = MAX_EVENT_BYTES) -> RecordT:
    """Validate one received message: JSON text/bytes or an already decoded dict.

    Socket.IO hands handlers decoded JSON; the size bound is re-checked on the canonical form so
    a handler never works on an oversized object even if the transport limit was raised.
    """
    if isinstance(data, (bytes, bytearray, str)):
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        data = loads_strict(raw, max_bytes=max_bytes)
    elif len(canonical_dumps(data)) > max_bytes:
        raise ValidationError("<message>", f"is larger than {max_bytes} bytes")
    return cls.from_dict(data)


# --- challenge-response login -------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge(Record):
    """What ``GET CHALLENGE_PATH`` returns: 32 fresh random bytes, single use, short-lived."""

    console_id: str
    challenge: str      # base64 of 32 random bytes
    issued: str         # console clock; the console alone checks expiry against its own record
    expires: str
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Challenge:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            console_id=r.str("console_id", pattern=IDENTIFIER_RE),
            challenge=r.str("challenge", max_len=CHALLENGE_B64_LEN),
            issued=r.str("issued", pattern=TIMESTAMP_RE),
            expires=r.str("expires", pattern=TIMESTAMP_RE),
        )
        r.done()
        if len(b64d(out.challenge, r.where("challenge"), 32)) != 32:
            raise ValidationError(r.where("challenge"), "must be 32 bytes")
        return out


@dataclass(frozen=True)
class AuthPayload(Record):
    """The exact object a kiosk signs (canonical JSON) to answer a challenge."""

    console_id: str
    challenge: str
    issued: str
    kiosk_id: str
    namespace: str = KIOSK_NAMESPACE
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AuthPayload:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            console_id=r.str("console_id", pattern=IDENTIFIER_RE),
            challenge=r.str("challenge", max_len=CHALLENGE_B64_LEN),
            issued=r.str("issued", pattern=TIMESTAMP_RE),
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            namespace=r.str("namespace", choices=(KIOSK_NAMESPACE,)),
        )
        r.done()
        return out


@dataclass(frozen=True)
class KioskAuth(Record):
    """The Socket.IO CONNECT ``auth`` of a kiosk: the signed payload bytes and the signature.

    The payload travels as the exact bytes that were signed (base64) so the console verifies what
    the kiosk produced, not a re-serialisation.
    """

    kiosk_id: str
    payload: str        # base64 of canonical AuthPayload JSON
    signature: str      # base64 Ed25519 signature, purpose purposes.KIOSK_CHALLENGE
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> KioskAuth:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            payload=r.b64("payload", 2 * limits.KIB),
            signature=r.b64("signature", 64),
        )
        r.done()
        return out


def make_kiosk_auth(private: Ed25519PrivateKey, challenge: Challenge, kiosk_id: str) -> KioskAuth:
    """Kiosk side: answer ``challenge`` with the kiosk's certified Ed25519 key."""
    payload = canonical_dumps(AuthPayload(console_id=challenge.console_id, challenge=challenge.challenge,
                                          issued=challenge.issued, kiosk_id=kiosk_id).to_dict())
    signature = signing.sign(private, purposes.KIOSK_CHALLENGE, payload)
    return KioskAuth(kiosk_id=kiosk_id, payload=b64e(payload), signature=b64e(signature))


def open_kiosk_auth(auth: KioskAuth, public: Ed25519PublicKey) -> AuthPayload:
    """Console side: verify the signature with the kiosk's certified key, then parse the payload.

    Raises ``TamperedError`` for a bad signature and ``ValidationError`` for a payload that names
    another kiosk. Whether the challenge is known, unused and unexpired is the console's check
    (it alone keeps the issued challenges); it must consume the challenge before accepting.
    """
    payload_bytes = b64d(auth.payload, "payload", 2 * limits.KIB)
    signing.verify(public, purposes.KIOSK_CHALLENGE, payload_bytes, b64d(auth.signature, "signature", 64))
    payload = AuthPayload.from_dict(loads_strict(payload_bytes, max_bytes=2 * limits.KIB), "payload")
    if payload.kiosk_id != auth.kiosk_id:
        raise ValidationError("payload.kiosk_id", "does not match the kiosk presenting it")
    return payload


# --- kiosk -> console ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Hello(Record):
    """First message after connect: who the kiosk is, where it stands, and its attestation."""

    kiosk_id: str
    state: str
    software_version: str
    attempt_id: str | None = None
    attestation: str | None = None          # base64 of hardening.attestation bytes
    needs_resume_approval: bool = False     # the kiosk restarted mid-attempt and waits for a proctor
    next_seq: int = 0                       # the seq its next new event will get
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Hello:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            state=r.str("state", choices=KIOSK_STATES),
            software_version=r.str("software_version", max_len=100),
            attempt_id=r.str("attempt_id", None, pattern=IDENTIFIER_RE, nullable=True),
            attestation=r.b64("attestation", MAX_ATTESTATION_BYTES, None),
            needs_resume_approval=r.bool("needs_resume_approval", False),
            next_seq=r.int("next_seq", 0, minimum=0),
        )
        r.done()
        return out


@dataclass(frozen=True)
class Progress(Record):
    answered: int = 0
    total: int = 0

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Progress:
        r = Fields(data, path)
        out = cls(answered=r.int("answered", 0, minimum=0, maximum=100_000),
                  total=r.int("total", 0, minimum=0, maximum=100_000))
        r.done()
        if out.answered > out.total:
            raise ValidationError(r.where("answered"), "must not exceed total")
        return out


#: Highest journal row number a heartbeat may report (a 2-hour exam writes a few thousand rows).
MAX_JOURNAL_SEQ = 10_000_000


@dataclass(frozen=True)
class JournalHeadInfo(Record):
    """The head of the current attempt's answer journal (``kiosk.journal``): row number and chain hash.

    Never answer content: the hash is a SHA-256 over an encrypted row and its predecessor's hash,
    so it tells the console only that the journal grew, and lets it notice when the journal later
    goes back (a lower ``seq``) or forks (the same ``seq`` with another ``hash``).
    """

    seq: int
    hash: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> JournalHeadInfo:
        r = Fields(data, path)
        out = cls(seq=r.int("seq", minimum=1, maximum=MAX_JOURNAL_SEQ),
                  hash=r.str("hash", pattern=SHA256_RE))
        r.done()
        return out


@dataclass(frozen=True)
class ConsoleJournalHead(JournalHeadInfo):
    """In the ``hello`` ack (field ``journal_head``, or null): the highest journal head the console
    stored from the kiosk's heartbeats for the attempt named in the hello, ``{attempt_id, seq, hash}``.

    The kiosk requires its journal to contain that row with that hash before it resumes the
    attempt: a journal whose tail was cut off (or rolled back and rewritten) while the kiosk was
    down still chains correctly, and only a head kept elsewhere shows it. ``attempt_id`` binds the
    head to one attempt, so a late ack cannot be applied to the next candidate.
    """

    attempt_id: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ConsoleJournalHead:
        attempt_id = Fields(data, path).str("attempt_id", pattern=IDENTIFIER_RE)
        head = JournalHeadInfo.from_dict({k: v for k, v in data.items() if k != "attempt_id"}, path)
        return cls(seq=head.seq, hash=head.hash, attempt_id=attempt_id)


def hello_ack_journal_head(ack: dict[str, Any]) -> ConsoleJournalHead | None:
    """The console's journal head in a positive ``hello`` ack (None when absent or null), strictly."""
    value = ack.get("journal_head")
    return None if value is None else ConsoleJournalHead.from_dict(value, "journal_head")


@dataclass(frozen=True)
class Heartbeat(Record):
    """Every few seconds: state, progress, remaining time, camera fps, optional thumbnail, and
    the current attempt's journal head (optional: absent before the attempt's first journal row)."""

    state: str
    wall_time: str
    attempt_id: str | None = None
    progress: Progress = field(default_factory=Progress)
    remaining_seconds: int | None = None
    camera_fps: float | None = None
    thumbnail_jpeg: str | None = None       # base64 JPEG, small (the dashboard tile)
    journal_head: JournalHeadInfo | None = None
    v: int = PROTOCOL_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Without ``journal_head`` when there is none, so heartbeats stay readable by consoles that
        predate the field (they refuse unknown fields, and an absent one is not unknown)."""
        out = super().to_dict()
        if out.get("journal_head") is None:
            out.pop("journal_head", None)
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Heartbeat:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            state=r.str("state", choices=KIOSK_STATES),
            wall_time=r.str("wall_time", pattern=TIMESTAMP_RE),
            attempt_id=r.str("attempt_id", None, pattern=IDENTIFIER_RE, nullable=True),
            progress=r.record("progress", Progress, None) or Progress(),
            remaining_seconds=r.int("remaining_seconds", None, minimum=0, maximum=7 * 86_400, nullable=True),
            camera_fps=r.float("camera_fps", None, nullable=True),
            thumbnail_jpeg=r.b64("thumbnail_jpeg", MAX_IMAGE_BYTES, None),
            journal_head=r.record("journal_head", JournalHeadInfo, None),
        )
        r.done()
        if out.journal_head is not None and out.attempt_id is None:
            raise ValidationError(r.where("journal_head"), "needs the attempt_id it belongs to")
        if out.camera_fps is not None and not 0 <= out.camera_fps <= 1000:
            raise ValidationError(r.where("camera_fps"), "must be between 0 and 1000")
        return out


def parse_event(data: Any) -> Event:
    """An ``event`` message is exactly a ``model.Event``; its evidence snapshot (if any) is
    ``evidence["snapshot_jpeg"]`` (base64 JPEG, at most ``MAX_IMAGE_BYTES``)."""
    event = parse_message(Event, data, MAX_EVENT_BYTES)
    snapshot = event.evidence.get("snapshot_jpeg")
    if snapshot is not None:
        try:
            b64d(snapshot, "evidence.snapshot_jpeg", MAX_IMAGE_BYTES)
        except ArtefactError as exc:
            raise ValidationError("evidence.snapshot_jpeg", exc.reason) from None
    return event


@dataclass(frozen=True)
class EnvelopeMessage(Record):
    """A sealed response envelope (exam_core.envelope bytes), kept until the central receipt."""

    attempt_id: str
    envelope: str           # base64 of the envelope bytes
    sha256: str             # hex SHA-256 of the envelope bytes; the ack echoes it
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> EnvelopeMessage:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            attempt_id=r.str("attempt_id", pattern=IDENTIFIER_RE),
            envelope=r.b64("envelope", limits.ENVELOPE_MAX_BYTES),
            sha256=r.str("sha256", pattern=SHA256_RE),
        )
        r.done()
        if hashlib.sha256(b64d(out.envelope)).hexdigest() != out.sha256:
            raise ValidationError(r.where("sha256"), "does not match the envelope bytes")
        return out


@dataclass(frozen=True)
class PackageChunkRequest(Record):
    """Fetch part of a form package over the authenticated socket (packages can exceed a message)."""

    package_id: str
    offset: int
    length: int = PACKAGE_CHUNK_BYTES
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PackageChunkRequest:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        out = cls(
            package_id=r.str("package_id", pattern=IDENTIFIER_RE),
            offset=r.int("offset", minimum=0, maximum=limits.PACKAGE_MAX_BYTES),
            length=r.int("length", PACKAGE_CHUNK_BYTES, minimum=1, maximum=PACKAGE_CHUNK_BYTES),
        )
        r.done()
        return out


# --- console -> kiosk commands ---------------------------------------------------------------------

def _reason(r: Fields) -> str:
    reason: str = r.str("reason", max_len=1000).strip()
    if not reason:
        raise ValidationError(r.where("reason"), "is required")
    return reason


@dataclass(frozen=True)
class AdmitArgs(Record):
    """The attempt the kiosk will deliver, and the package to prefetch (still encrypted)."""

    attempt: Attempt
    package_sha256: str
    package_size: int
    identity_checked_by: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AdmitArgs:
        r = Fields(data, path)
        out = cls(
            attempt=r.record("attempt", Attempt),
            package_sha256=r.str("package_sha256", pattern=SHA256_RE),
            package_size=r.int("package_size", minimum=1, maximum=limits.PACKAGE_MAX_BYTES),
            identity_checked_by=r.str("identity_checked_by", max_len=100),
        )
        r.done()
        return out


@dataclass(frozen=True)
class KeyReleaseArgs(Record):
    """``start`` and ``resume_approved``: the content key wrapped to this kiosk's HPKE key.

    ``wrapped_key`` is the output of ``exam_core.package.wrap_key_for_kiosk`` (opened by
    ``unwrap_released_key`` with the kiosk's HPKE private key); the package itself is fetched
    with ``package_chunk`` (prefetched after ``admit``) and checked against ``package_sha256``.
    """

    package_id: str
    package_sha256: str
    wrapped_key: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> KeyReleaseArgs:
        r = Fields(data, path)
        out = cls(
            package_id=r.str("package_id", pattern=IDENTIFIER_RE),
            package_sha256=r.str("package_sha256", pattern=SHA256_RE),
            wrapped_key=r.b64("wrapped_key", MAX_WRAPPED_KEY_BYTES),
        )
        r.done()
        return out


@dataclass(frozen=True)
class ReasonArgs(Record):
    """``pause`` (reason optional); ``end`` and ``cancel_admission`` take ``RequiredReasonArgs``."""

    reason: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ReasonArgs:
        r = Fields(data, path)
        out = cls(reason=r.str("reason", "", max_len=1000))
        r.done()
        return out


@dataclass(frozen=True)
class RequiredReasonArgs(Record):
    reason: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> RequiredReasonArgs:
        r = Fields(data, path)
        out = cls(reason=_reason(r))
        r.done()
        return out


@dataclass(frozen=True)
class ExtendArgs(Record):
    """Extra time in seconds (added to the candidate's time account), with the reason."""

    seconds: int
    reason: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ExtendArgs:
        r = Fields(data, path)
        out = cls(seconds=r.int("seconds", minimum=1, maximum=4 * 3600), reason=_reason(r))
        r.done()
        return out


@dataclass(frozen=True)
class MessageArgs(Record):
    """Plain text shown to the candidate (never HTML)."""

    text: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MessageArgs:
        r = Fields(data, path)
        out = cls(text=r.str("text", max_len=1000))
        r.done()
        if not out.text.strip():
            raise ValidationError(r.where("text"), "is required")
        return out


@dataclass(frozen=True)
class NoArgs(Record):
    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> NoArgs:
        Fields(data, path).done()
        return cls()


COMMAND_ARGS: dict[str, type] = {
    "admit": AdmitArgs,
    "start": KeyReleaseArgs,
    "pause": ReasonArgs,
    "resume": NoArgs,
    "extend": ExtendArgs,
    "end": RequiredReasonArgs,
    "message": MessageArgs,
    "resume_approved": KeyReleaseArgs,
    "cancel_admission": RequiredReasonArgs,
}


@dataclass(frozen=True)
class Command(Record):
    """A console -> kiosk command. The kiosk applies each ``command_id`` at most once and answers
    every delivery of it (including re-deliveries after a reconnect) with the same ack."""

    command_id: str
    type: str
    issued: str
    attempt_id: str | None
    args: Any           # one of the COMMAND_ARGS records
    issued_by: str = ""  # proctor user name, for the kiosk's own log
    v: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Command:
        r = Fields(data, path)
        r.version(PROTOCOL_VERSION)
        kind = r.str("type", choices=COMMAND_TYPES)
        out = cls(
            command_id=r.str("command_id", pattern=COMMAND_ID_RE),
            type=kind,
            issued=r.str("issued", pattern=TIMESTAMP_RE),
            attempt_id=r.str("attempt_id", None, pattern=IDENTIFIER_RE, nullable=True),
            args=r.record("args", COMMAND_ARGS[kind]),
            issued_by=r.str("issued_by", "", max_len=100),
        )
        r.done()
        if kind != "message" and out.attempt_id is None:
            raise ValidationError(r.where("attempt_id"), f"is required for {kind}")
        if kind == "admit" and out.args.attempt.attempt_id != out.attempt_id:
            raise ValidationError(r.where("args.attempt.attempt_id"), "does not match attempt_id")
        return out


@dataclass(frozen=True)
class CommandAck(Record):
    """The kiosk's answer to a command (returned through the Socket.IO ack callback)."""

    ok: bool
    command_id: str
    state: str | None = None
    error: str | None = None
    reason: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CommandAck:
        r = Fields(data, path)
        out = cls(
            ok=r.bool("ok"),
            command_id=r.str("command_id", pattern=COMMAND_ID_RE),
            state=r.str("state", None, choices=KIOSK_STATES, nullable=True),
            error=r.str("error", None, choices=ACK_ERRORS, nullable=True),
            reason=r.str("reason", "", max_len=500),
        )
        r.done()
        return out

