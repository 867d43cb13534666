"""Candidate accounts: registration confirmed by a mailed link, sign-in, the second factor, sessions.

No account enumeration. :func:`start_registration` does the same work whoever asks (the password is
hashed, one mail is written to the outbox in one transaction, the same nothing is returned; the
relay is spoken to later, by the outbox's sender, so its delays tell a stranger nothing): an address
with an account gets a mail saying so (with the sign-in address), a new one gets the confirmation
link. The person is created only when the link is used, through the registry's own
:func:`persons.add` (the body actor), so the person record and its audit entry are those of any
other registration; an address a registrar already registered is linked to that person.
:func:`authenticate` spends one Argon2id verification for an unknown address too.

Links are signed (itsdangerous, a key derived from the body's signing key), expire after
:data:`LINK_HOURS` and work once: the database keeps only the SHA-256 of the nonce and marks it
used in the same statement that checks it was not. Sessions are server-side rows (the cookie holds
a random token whose hash is the row's key), so signing out or expiry ends them everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from exam_core.errors import ValidationError
from exam_core.timestamps import format_time, utc_now
from exam_core.websec import passwords, totp
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.mail import load_settings
from item_bank_sync.mail.outbox import enqueue
from item_bank_sync.portal.schema import candidate_accounts, portal_messages, portal_sessions, portal_tokens
from item_bank_sync.registry import actors, conflicts, fields, persons
from item_bank_sync.registry.errors import Refused
from item_bank_sync.registry.schema import persons as persons_table
from item_bank_sync.sittings import bookings

LINK_HOURS = 24
SESSION_HOURS = 8
REGISTER = "register"
RESET = "reset"
EMAIL = "email"
#: What closing an account keeps, and why (said on the page and in the mail that confirms it).
KEPT_ON_CLOSURE = (
    "Closing your account stops sign-in and removes your password and second factor. The body keeps "
    "your certification record (your identity details, applications and their evidence, bookings, exam "
    "results, certificates, appeals and complaints, and the messages it sent you) for as long as its "
    "records policy requires: ISO/IEC 17024 obliges a certification body to keep these records to show "
    "how each certification was granted and to answer appeals and verifications. You may open a new "
    "account later with the same address; it is linked to the same record.")


@dataclass(frozen=True)
class Account:
    account_id: str
    person_id: str
    email: str
    has_second_factor: bool


def derived_key(ctx: CentralContext, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from the body's signing key: stable, never stored."""
    raw = ctx.load_signing_key().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"invigil portal " + purpose).derive(raw)


def _serializer(ctx: CentralContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derived_key(ctx, b"links v1"), salt="portal-link")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_fields(password: str) -> dict[str, str]:
    try:
        digest, salt, params = passwords.hash_password(password)
    except ValidationError as exc:
        raise Refused(str(exc)) from None
    return {"hash": base64.b64encode(digest).decode(), "salt": base64.b64encode(salt).decode(), "params": params}


def start_registration(ctx: CentralContext, *, email: str, given_name: str, family_name: str,
                       date_of_birth: str, password: str, base_url: str) -> None:
    """Mail (through the outbox) the confirmation link (new address) or a notice (address with an
    account); answer nothing."""
    address = fields.email(email)
    pending = {"given_name": fields.text(given_name, "given_name", persons.NAME_MAX),
               "family_name": fields.text(family_name, "family_name", persons.NAME_MAX),
               "date_of_birth": fields.iso_date(date_of_birth, "date_of_birth"), "password": _hash_fields(password)}
    known = _account_row(ctx, email=address) is not None
    with write(ctx.open_bank_db()) as conn:
        if known:
            enqueue(conn, address, "Your candidate account",
                    "Someone (perhaps you) tried to register again with this address, which already has an "
                    f"account. Sign in at {base_url}/portal/signin. If it was not you, you need do nothing.")
            return
        link = _new_link(ctx, conn, REGISTER, address, pending, base_url)
        enqueue(conn, address, "Confirm your candidate account",
                f"Open this link within {LINK_HOURS} hours to confirm your address and create your account:\n\n"
                f"{link}\n\nThe link works once. If you did not ask for an account, ignore this mail.")


def _new_link(ctx: CentralContext, conn: Connection, purpose: str, email: str, payload: dict[str, Any],
              base_url: str) -> str:
    """Store a single-use nonce for ``purpose`` (only its hash, in the caller's transaction, with the
    mail that carries it) and return the signed link to mail."""
    nonce = secrets.token_urlsafe(32)
    now = utc_now()
    conn.execute(insert(portal_tokens).values(
        token_sha256=_digest(nonce), purpose=purpose, email=email, payload_json=json.dumps(payload),
        created_at=format_time(now), expires_at=format_time(now + timedelta(hours=LINK_HOURS))))
    page = {REGISTER: "confirm", RESET: "reset"}.get(purpose, purpose)
    return f"{base_url}/portal/{page}/{_serializer(ctx).dumps(nonce)}"


def _use_link(ctx: CentralContext, link_token: str, purpose: str) -> tuple[str, dict[str, Any]]:
    """The e-mail address and payload of an unused, unexpired link for ``purpose``, marked used."""
    try:
        nonce = _serializer(ctx).loads(link_token, max_age=LINK_HOURS * 3600)
    except BadSignature:
        raise Refused("link: not valid or expired") from None
    now = format_time(utc_now())
    t = portal_tokens.c
    with write(ctx.open_bank_db()) as conn:
        row = conn.execute(select(t.email, t.payload_json, t.expires_at).where(
            t.token_sha256 == _digest(str(nonce)), t.purpose == purpose, t.used_at.is_(None))).first()
        if row is None or row[2] <= now:
            raise Refused("link: not valid or expired")
        done = conn.execute(update(portal_tokens).where(t.token_sha256 == _digest(str(nonce)), t.used_at.is_(None))
                            .values(used_at=now))
        if done.rowcount != 1:
            raise Refused("link: not valid or expired")
    return str(row[0]), json.loads(row[1])


def start_reset(ctx: CentralContext, *, email: str, base_url: str) -> None:
    """Mail (through the outbox) a password-reset link (address with an account) or a notice that
    there is none; answer nothing."""
    try:
        address = fields.email(email)
    except Refused:
        return
    known = _account_row(ctx, email=address) is not None
    with write(ctx.open_bank_db()) as conn:
        if not known:
            enqueue(conn, address, "Password reset",
                    "Someone (perhaps you) asked to reset the password of a candidate account for this address, "
                    f"but there is none. To create one: {base_url}/portal/register. Otherwise ignore this mail.")
            return
        link = _new_link(ctx, conn, RESET, address, {}, base_url)
        enqueue(conn, address, "Password reset",
                f"Open this link within {LINK_HOURS} hours to choose a new password:\n\n{link}\n\n"
                "The link works once. If you did not ask, ignore this mail: your password stays as it is.")


def complete_reset(ctx: CentralContext, link_token: str, password: str) -> Account:
    """Use a reset link once: set the new password and end every session of the account."""
    new = _hash_fields(password)
    email, _payload = _use_link(ctx, link_token, RESET)
    row = _account_row(ctx, email=email)
    if row is None:
        raise Refused("link: not valid or expired")
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(candidate_accounts).where(candidate_accounts.c.account_id == row.account_id).values(
            password_hash=base64.b64decode(new["hash"]), password_salt=base64.b64decode(new["salt"]),
            password_params=new["params"]))
        conn.execute(update(portal_sessions).where(portal_sessions.c.account_id == row.account_id,
                                                   portal_sessions.c.ended_at.is_(None))
                     .values(ended_at=format_time(utc_now())))
    ctx.audit_log().append(actors.candidate(row.person_id).name, "portal.password_reset",
                           {"account_id": row.account_id})
    return _account_of(_account_row(ctx, account_id=row.account_id))


def complete_registration(ctx: CentralContext, link_token: str) -> Account:
    """Use a confirmation link once: create (or link) the person and the account."""
    email, pending = _use_link(ctx, link_token, REGISTER)
    now = format_time(utc_now())
    if _account_row(ctx, email=email) is not None:
        raise Refused("link: this address has an account already: sign in")
    person_id = _person_for(ctx, email, pending)
    account_id = fields.new_id("U")
    pw = pending["password"]
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(candidate_accounts).values(
            account_id=account_id, person_id=person_id, email=email, password_hash=base64.b64decode(pw["hash"]),
            password_salt=base64.b64decode(pw["salt"]), password_params=pw["params"], created_at=now))
    ctx.audit_log().append(actors.candidate(person_id).name, "portal.register", {"person_id": person_id,
                                                                                "account_id": account_id})
    return account(ctx, account_id)


def _person_for(ctx: CentralContext, email: str, pending: dict[str, Any]) -> str:
    """The person registered with ``email`` (by a registrar), else a new one made by the body."""
    row = fetch_one(ctx.open_bank_db(), select(persons_table.c.person_id).where(persons_table.c.email == email))
    if row is not None:
        return str(row[0])
    return persons.add(ctx, actors.body(), given_name=pending["given_name"], family_name=pending["family_name"],
                       email=email, date_of_birth=pending["date_of_birth"]).person_id


def authenticate(ctx: CentralContext, email: str, password: str) -> Account | None:
    """The account when the password matches; an unknown address costs the same Argon2id work."""
    try:
        address = fields.email(email)
    except Refused:
        passwords.dummy_verify()
        return None
    row = _account_row(ctx, email=address)
    if row is None:
        passwords.dummy_verify()
        return None
    if not passwords.verify_password(password, bytes(row.password_hash), bytes(row.password_salt),
                                     row.password_params):
        return None
    return _account_of(row)


def account(ctx: CentralContext, account_id: str) -> Account:
    row = _account_row(ctx, account_id=account_id)
    if row is None:
        raise Refused("no such account")
    return _account_of(row)


def _account_of(row: Any) -> Account:
    return Account(row.account_id, row.person_id, row.email, row.totp_sealed is not None)


def _account_row(ctx: CentralContext, *, email: str | None = None, account_id: str | None = None) -> Any:
    c = candidate_accounts.c
    where = c.email == email if email is not None else c.account_id == account_id
    return fetch_one(ctx.open_bank_db(), select(*candidate_accounts.c).where(where))


# --- sessions -------------------------------------------------------------------------------------------------

def open_session(ctx: CentralContext, found: Account) -> str:
    """A new session (second factor still to do when the account has one); the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(portal_sessions).values(
            token_sha256=_digest(token), account_id=found.account_id, created_at=format_time(now),
            expires_at=format_time(now + timedelta(hours=SESSION_HOURS)),
            second_factor=int(not found.has_second_factor)))
    return token


def session_of(ctx: CentralContext, token: object) -> tuple[Account, bool] | None:
    """The account of a live session and whether its sign-in is complete; None otherwise."""
    if not isinstance(token, str) or not token:
        return None
    s = portal_sessions.c
    row = fetch_one(ctx.open_bank_db(), select(s.account_id, s.expires_at, s.second_factor).where(
        s.token_sha256 == _digest(token), s.ended_at.is_(None)))
    if row is None or row[1] <= format_time(utc_now()):
        return None
    return account(ctx, row[0]), bool(row[2])


def end_session(ctx: CentralContext, token: object) -> None:
    if isinstance(token, str):
        with write(ctx.open_bank_db()) as conn:
            conn.execute(update(portal_sessions).where(portal_sessions.c.token_sha256 == _digest(token))
                         .values(ended_at=format_time(utc_now())))


def second_factor_done(ctx: CentralContext, token: str) -> None:
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(portal_sessions).where(portal_sessions.c.token_sha256 == _digest(token))
                     .values(second_factor=1))


# --- the second factor ------------------------------------------------------------------------------------------

def _totp_key(ctx: CentralContext) -> bytes:
    return derived_key(ctx, b"totp v1")


def enrol_second_factor(ctx: CentralContext, found: Account, secret: str, code: str) -> bool:
    """Turn the second factor on once the person typed a code of ``secret`` (shown as a QR code)."""
    step = totp.matching_step(secret, code)
    if step is None:
        return False
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(candidate_accounts).where(candidate_accounts.c.account_id == found.account_id).values(
            totp_sealed=totp.seal_secret(_totp_key(ctx), secret, found.account_id), totp_last_step=step))
    ctx.audit_log().append(actors.candidate(found.person_id).name, "portal.second_factor", {"enabled": True})
    return True


def check_second_factor(ctx: CentralContext, found: Account, code: str) -> bool:
    """True once per code of the account's secret (a step at or before the last one used is refused)."""
    row = _account_row(ctx, account_id=found.account_id)
    if row is None or row.totp_sealed is None:
        return False
    try:
        secret = totp.open_secret(_totp_key(ctx), bytes(row.totp_sealed), found.account_id)
    except (InvalidTag, ValueError):
        return False
    step = totp.matching_step(secret, code)
    if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
        return False
    c = candidate_accounts.c
    with write(ctx.open_bank_db()) as conn:
        done = conn.execute(update(candidate_accounts).where(
            c.account_id == found.account_id, (c.totp_last_step.is_(None)) | (c.totp_last_step < step))
            .values(totp_last_step=step))
    return done.rowcount == 1


def reset_second_factor(ctx: CentralContext, actor: actors.Actor, person_id: str, reason: str) -> bool:
    """A registrar or admin turns off a candidate's second factor (a lost phone) after checking who
    asks, outside the portal; every session of the account ends. False when none was on. Refused to
    staff who declared a relationship with the person: turning off a relative's sign-in check is
    acting on their account."""
    actors.require(actor, "reset a candidate's second factor", actors.REGISTRAR, actors.ADMIN)
    conflicts.check(ctx, actor, person_id, "reset their portal second factor")
    why = fields.text(reason, "reason", 1000)
    c = candidate_accounts.c
    with write(ctx.open_bank_db()) as conn:
        row = conn.execute(select(c.account_id).where(c.person_id == person_id, c.totp_sealed.is_not(None))).first()
        if row is None:
            return False
        conn.execute(update(candidate_accounts).where(c.account_id == row[0])
                     .values(totp_sealed=None, totp_last_step=None))
        conn.execute(update(portal_sessions).where(portal_sessions.c.account_id == row[0],
                                                   portal_sessions.c.ended_at.is_(None))
                     .values(ended_at=format_time(utc_now())))
    ctx.audit_log().append(actor.name, "portal.second_factor.reset", {"person_id": person_id, "reason": why})
    return True


# --- e-mail change and closure ------------------------------------------------------------------------------

def _password_checked(ctx: CentralContext, found: Account, password: str) -> None:
    """The person proves it is them again (a left-open browser is not enough to move or close an account)."""
    if authenticate(ctx, found.email, password) is None:
        raise Refused("password: that is not your current password")


def _address_taken(ctx: CentralContext, address: str, person_id: str) -> bool:
    """Whether another account or another person's record holds ``address``."""
    holder = fetch_one(ctx.open_bank_db(), select(persons_table.c.person_id).where(persons_table.c.email == address))
    return _account_row(ctx, email=address) is not None or (holder is not None and holder[0] != person_id)


def start_email_change(ctx: CentralContext, found: Account, *, password: str, new_email: str,
                       base_url: str) -> None:
    """Mail a confirmation link to the new address (or, when that address is another record's, a
    notice that nothing changed: the page says the same either way) and tell the old address."""
    address = fields.email(new_email)
    _password_checked(ctx, found, password)
    if address == found.email:
        raise Refused("email: that is already your address")
    taken = _address_taken(ctx, address, found.person_id)
    with write(ctx.open_bank_db()) as conn:
        if taken:
            enqueue(conn, address, "E-mail address change",
                    "Someone (perhaps you) asked to move a candidate account to this address, which already "
                    "belongs to another record of the body. Nothing was changed.")
        else:
            link = _new_link(ctx, conn, EMAIL, address, {"account_id": found.account_id}, base_url)
            enqueue(conn, address, "Confirm your new e-mail address",
                    f"Open this link within {LINK_HOURS} hours to make this the address of your candidate "
                    f"account:\n\n{link}\n\nThe link works once. If you did not ask, ignore this mail.")
        enqueue(conn, found.email, "E-mail address change asked",
                f"Someone signed in to your candidate account asked to change its address to {address}. "
                "It changes only when the link sent there is used. If it was not you, change your password "
                "now and contact the body.")
    ctx.audit_log().append(actors.candidate(found.person_id).name, "portal.email_change.asked",
                           {"account_id": found.account_id})


def complete_email_change(ctx: CentralContext, link_token: str) -> Account:
    """Use an e-mail change link once: the account's and the person record's address become the
    new one (in one transaction), and the old address is told."""
    address, payload = _use_link(ctx, link_token, EMAIL)
    row = _account_row(ctx, account_id=str(payload.get("account_id", "")))
    if row is None:
        raise Refused("link: not valid or expired")
    try:
        with write(ctx.open_bank_db()) as conn:
            conn.execute(update(candidate_accounts).where(candidate_accounts.c.account_id == row.account_id)
                         .values(email=address))
            conn.execute(update(persons_table).where(persons_table.c.person_id == row.person_id)
                         .values(email=address))
            enqueue(conn, row.email, "Your e-mail address was changed",
                    f"The address of your candidate account is now {address}. If you did not ask for this, "
                    "contact the body at once.")
    except IntegrityError:
        raise Refused("email: that address belongs to another record now; nothing was changed") from None
    ctx.audit_log().append(actors.candidate(row.person_id).name, "portal.email_changed",
                           {"account_id": row.account_id, "person_id": row.person_id})
    return account(ctx, row.account_id)


def close_account(ctx: CentralContext, found: Account, *, password: str, confirmed: bool) -> None:
    """The person closes their account: sign-in stops everywhere, the credentials go, the
    certification record stays (:data:`KEPT_ON_CLOSURE`). Refused while a booking is active (cancel
    it first: a seat must not be held by someone the body can no longer reach)."""
    if not confirmed:
        raise Refused("confirm: tick the box to confirm that you want to close your account")
    _password_checked(ctx, found, password)
    me = actors.candidate(found.person_id)
    if bookings.list_bookings(ctx, me, person_id=found.person_id, active_only=True):
        raise Refused("bookings: cancel or finish your bookings before closing your account")
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(portal_sessions).where(portal_sessions.c.account_id == found.account_id,
                                                   portal_sessions.c.ended_at.is_(None))
                     .values(ended_at=format_time(utc_now())))
        conn.execute(delete(portal_tokens).where(portal_tokens.c.email == found.email,
                                                 portal_tokens.c.used_at.is_(None)))
        conn.execute(delete(candidate_accounts).where(candidate_accounts.c.account_id == found.account_id))
        enqueue(conn, found.email, "Your candidate account is closed", KEPT_ON_CLOSURE)
    ctx.audit_log().append(me.name, "portal.account_closed", {"account_id": found.account_id,
                                                              "person_id": found.person_id})


# --- messages --------------------------------------------------------------------------------------------------

def tell(ctx: CentralContext, person_id: str, subject: str, body: str) -> None:
    """Keep a message for the person's portal page and, when the body has set up its mail and the
    person has an account, write the same to the outbox, in one transaction (the relay is spoken
    to later: a relay that is down delays the mail, never loses it or the message)."""
    address = _account_row_of_person(ctx, person_id)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(portal_messages).values(person_id=person_id, sent_at=format_time(utc_now()),
                                                    subject=subject, body=body))
        if address is not None and load_settings(ctx.data_dir) is not None:
            enqueue(conn, address, subject, body)


def notify(ctx: CentralContext, person_id: str, subject: str, body: str) -> None:
    """:func:`tell`, for the staff pages, whose decisions the person must hear of."""
    tell(ctx, person_id, subject, body)


def _account_row_of_person(ctx: CentralContext, person_id: str) -> str | None:
    row = fetch_one(ctx.open_bank_db(), select(candidate_accounts.c.email)
                    .where(candidate_accounts.c.person_id == person_id))
    return str(row[0]) if row else None


def messages_of(ctx: CentralContext, person_id: str) -> list[dict[str, Any]]:
    """The person's messages, newest first."""
    m = portal_messages.c
    rows = fetch_all(ctx.open_bank_db(), select(m.sent_at, m.subject, m.body).where(m.person_id == person_id)
                     .order_by(m.message_id.desc()).limit(200))
    return [{"sent_at": r[0], "subject": r[1], "body": r[2]} for r in rows]


__all__ = [
    "Account",
    "authenticate",
    "check_second_factor",
    "close_account",
    "complete_email_change",
    "complete_registration",
    "complete_reset",
    "end_session",
    "enrol_second_factor",
    "messages_of",
    "notify",
    "open_session",
    "reset_second_factor",
    "second_factor_done",
    "session_of",
    "start_email_change",
    "start_registration",
    "start_reset",
    "tell",
]
