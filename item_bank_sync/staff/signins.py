"""Web sign-ins of the body's staff: password, then a TOTP code, held as server-side sessions.

Why server-side sessions: the browser's cookie holds only a random token; the session row (by the
token's SHA-256) is read on every request with the account, so disabling a person or changing
their password ends their sessions at once, copies of the cookie included.

Back-off (stored in the bank store, so every server process of the body shares it): each account
name and each address may fail a few times (the name ``FREE_PER_NAME``, the address
``FREE_PER_ADDRESS``), then each further try waits 30 s doubling up to 15 minutes; wrong codes
count like wrong passwords. Every refusal says the same words whatever went wrong (no account
enumeration), and an unknown name costs the same Argon2id time as a known one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update

from exam_core.errors import InvigilError
from exam_core.timestamps import parse_time, utc_now, utc_text
from exam_core.websec import totp
from exam_core.websec.passwords import dummy_verify, verify_password
from exam_core.websec.throttle import FIRST_WAIT_SECONDS, MAX_WAIT_SECONDS
from item_bank_sync.db.sql import fetch_one, upsert, write
from item_bank_sync.staff.accounts import StaffBook, StaffMember
from item_bank_sync.staff.schema import staff_accounts, staff_backoff, staff_recovery_codes, staff_sessions

FREE_PER_NAME = 5
FREE_PER_ADDRESS = 20
#: A session ends after this long without a request, and after ``MAX_AGE_SECONDS`` in any case.
IDLE_SECONDS = 30 * 60
MAX_AGE_SECONDS = 12 * 3600
#: The message of every refused sign-in (the same for an unknown name, a wrong password or code).
REFUSED = "The name, password or code is not right, or there were too many attempts. Wait a moment and try again."
ISSUER = "Invigil"


class SignInRefused(InvigilError):
    """A sign-in step refused; the message is :data:`REFUSED` whatever the cause."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


@dataclass(frozen=True)
class Session:
    """An open sign-in: whose, and whether the second factor is done."""

    token_hash: str
    member: StaffMember
    second_factor: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SignIns:
    """Sign-in steps and sessions over one body's staff tables."""

    def __init__(self, book: StaffBook) -> None:
        self.book = book
        self.engine = book.engine
        self._totp_key: bytes | None = None

    # --- step 1: password ----------------------------------------------------------------------
    def check_password(self, name: str, password: str, address: str) -> StaffMember:
        """The enabled person ``name`` if ``password`` is theirs and neither key is held back."""
        keys = (f"name:{name.lower()}", f"addr:{address}")
        if any(self._wait(k) > 0 for k in keys):
            raise SignInRefused()
        row = fetch_one(self.engine, select(staff_accounts).where(staff_accounts.c.name == name))
        if row is None:
            dummy_verify()
            ok = False
        else:
            ok = verify_password(password, row.password_hash, row.password_salt, row.password_params)
        member = self.book.get(name) if ok else None
        if member is None or not member.enabled or not member.roles:
            self._failed(keys[0], FREE_PER_NAME)
            self._failed(keys[1], FREE_PER_ADDRESS)
            raise SignInRefused()
        self._succeeded(keys[0])
        return member

    # --- step 2: code (or enrolment) -----------------------------------------------------------
    def pending_enrolment(self, name: str) -> tuple[str, str]:
        """``(secret, QR data URI)`` of the enrolment waiting to be confirmed (made on first call).

        Shown only while it is pending: once a code confirms it, it is sealed and never shown again.
        """
        row = fetch_one(self.engine, select(staff_accounts.c.totp_pending_sealed).where(staff_accounts.c.name == name))
        secret = self._open(row[0] if row is not None else None, name)
        if secret is None:
            secret = totp.new_secret()
            with write(self.engine) as tx:
                tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(
                    totp_pending_sealed=totp.seal_secret(self.totp_key(), secret, name)))
        uri = totp.provisioning_uri(secret, name, f"{ISSUER} {self.book.ctx.body().get('name', '')}".strip())
        return secret, totp.qr_svg_data_uri(uri)

    def confirm_enrolment(self, session: Session, code: str, address: str) -> list[str]:
        """Confirm the pending secret with a code from the app; returns new recovery codes (shown once)."""
        name = session.member.name
        self._not_held(name, address)
        row = fetch_one(self.engine, select(staff_accounts.c.totp_pending_sealed).where(staff_accounts.c.name == name))
        secret = self._open(row[0] if row is not None else None, name)
        step = totp.matching_step(secret, code) if secret is not None else None
        if row is None or step is None:
            self._count_failure(name, address)
            raise SignInRefused()
        codes = totp.new_recovery_codes()
        with write(self.engine) as tx:
            tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(
                totp_sealed=row[0], totp_pending_sealed=None, totp_enrolled_at=utc_text(), totp_last_step=step))
            tx.execute(delete(staff_recovery_codes).where(staff_recovery_codes.c.name == name))
            for one in codes:
                tx.execute(insert(staff_recovery_codes).values(name=name, code_hash=totp.recovery_code_hash(one)))
        self.book.ctx.audit_log().append(name, "staff.enrol_second_factor", {"name": name})
        self._second_factor_done(session)
        return codes

    def check_code(self, session: Session, code: str, address: str) -> None:
        """Accept a TOTP code (each step once) or an unused recovery code for this session."""
        name = session.member.name
        self._not_held(name, address)
        if not (self._use_totp(name, code) or self._use_recovery_code(name, code)):
            self._count_failure(name, address)
            raise SignInRefused()
        self._succeeded(f"name:{name.lower()}")
        self._second_factor_done(session)

    def _use_totp(self, name: str, code: str) -> bool:
        row = fetch_one(self.engine, select(staff_accounts.c.totp_sealed, staff_accounts.c.totp_last_step)
                        .where(staff_accounts.c.name == name))
        secret = self._open(row[0] if row is not None else None, name)
        if row is None or secret is None:
            return False
        step = totp.matching_step(secret, code)
        if step is None or (row[1] is not None and step <= row[1]):
            return False  # wrong, or this code (or an earlier one) was already used
        with write(self.engine) as tx:  # the guard on the old step makes two racing uses one
            done = tx.execute(update(staff_accounts).where(
                staff_accounts.c.name == name,
                (staff_accounts.c.totp_last_step.is_(None)) | (staff_accounts.c.totp_last_step < step))
                .values(totp_last_step=step)).rowcount
        return bool(done)

    def _use_recovery_code(self, name: str, code: str) -> bool:
        if len(code) > 64:
            return False
        with write(self.engine) as tx:
            done = tx.execute(update(staff_recovery_codes).where(
                staff_recovery_codes.c.name == name, staff_recovery_codes.c.code_hash == totp.recovery_code_hash(code),
                staff_recovery_codes.c.used_at.is_(None)).values(used_at=utc_text())).rowcount
        if done:
            self.book.ctx.audit_log().append(name, "staff.use_recovery_code", {"name": name})
        return bool(done)

    # --- sessions ------------------------------------------------------------------------------
    def start(self, member: StaffMember, address: str) -> str:
        """A new session (second factor still to do); returns the cookie's token."""
        token = secrets.token_urlsafe(32)
        with write(self.engine) as tx:
            tx.execute(insert(staff_sessions).values(token_hash=token_hash(token), name=member.name,
                                                     address=address[:64], started_at=utc_text(),
                                                     last_seen=time.time(), second_factor=0))
        return token

    def session_of(self, token: object) -> Session | None:
        """The open session of a cookie's token, while unexpired and its account enabled."""
        if not isinstance(token, str) or len(token) > 128:
            return None
        digest = token_hash(token)
        row = fetch_one(self.engine, select(staff_sessions).where(staff_sessions.c.token_hash == digest))
        now = time.time()
        if row is None or row.ended_at is not None or now - row.last_seen > IDLE_SECONDS:
            return None
        member = self.book.get(row.name)
        if member is None or not member.enabled or not member.roles:
            return None
        if _age_seconds(row.started_at) > MAX_AGE_SECONDS:
            return None
        with write(self.engine) as tx:
            tx.execute(update(staff_sessions).where(staff_sessions.c.token_hash == digest).values(last_seen=now))
        return Session(digest, member, bool(row.second_factor))

    def end(self, session: Session, reason: str) -> None:
        with write(self.engine) as tx:
            tx.execute(update(staff_sessions).where(staff_sessions.c.token_hash == session.token_hash)
                       .values(ended_at=utc_text(), end_reason=reason))
        self.book.ctx.audit_log().append(session.member.name, "staff.sign_out", {"name": session.member.name})

    def _second_factor_done(self, session: Session) -> None:
        with write(self.engine) as tx:
            tx.execute(update(staff_sessions).where(staff_sessions.c.token_hash == session.token_hash)
                       .values(second_factor=1))
        self.book.ctx.audit_log().append(session.member.name, "staff.sign_in", {"name": session.member.name})

    # --- the TOTP sealing key ------------------------------------------------------------------
    def _open(self, sealed: bytes | None, name: str) -> str | None:
        """The secret sealed for ``name``, or None when there is none or it does not open (altered,
        or sealed under another body's key: an administrator resets the person's second factor)."""
        if sealed is None:
            return None
        try:
            return totp.open_secret(self.totp_key(), sealed, name)
        except (InvalidTag, ValueError):
            return None

    def totp_key(self) -> bytes:
        """AES-256 key sealing TOTP secrets, derived from the central signing key (never stored)."""
        if self._totp_key is None:
            raw = self.book.ctx.load_signing_key().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
            self._totp_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"invigil staff totp v1").derive(raw)
        return self._totp_key

    # --- back-off ------------------------------------------------------------------------------
    def _not_held(self, name: str, address: str) -> None:
        if self._wait(f"name:{name.lower()}") > 0 or self._wait(f"addr:{address}") > 0:
            raise SignInRefused()

    def _count_failure(self, name: str, address: str) -> None:
        self._failed(f"name:{name.lower()}", FREE_PER_NAME)
        self._failed(f"addr:{address}", FREE_PER_ADDRESS)

    def _wait(self, key: str) -> float:
        row = fetch_one(self.engine, select(staff_backoff.c.not_before).where(staff_backoff.c.key == key[:200]))
        return max(0.0, row[0] - time.time()) if row else 0.0

    def _failed(self, key: str, free: int) -> None:
        with write(self.engine) as tx:
            row = tx.execute(select(staff_backoff.c.failures).where(staff_backoff.c.key == key[:200])).first()
            failures = (row[0] if row else 0) + 1
            beyond = failures - free
            wait = min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** beyond) if beyond >= 0 else 0.0
            row_now = {"key": key[:200], "failures": failures, "not_before": time.time() + wait}
            upsert(tx, staff_backoff, row_now, ["key"])

    def _succeeded(self, key: str) -> None:
        with write(self.engine) as tx:
            tx.execute(delete(staff_backoff).where(staff_backoff.c.key == key[:200]))

    def lift_backoff(self, name: str) -> None:
        """Forget a name's failures (an administrator lifts the wait after a reset)."""
        self._succeeded(f"name:{name.lower()}")


def _age_seconds(started_at: str) -> float:
    return (utc_now() - parse_time(started_at)).total_seconds()
