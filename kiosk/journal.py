"""The attempt journal: append-only, encrypted, hash-chained rows in SQLite (synchronous=FULL).

Why a journal and not a table of current answers: a candidate's attempt must survive kill -9 and
power loss, and afterwards we must be able to show that nothing was changed behind the kiosk's
back. Each row is one fact (an answer change, a timer checkpoint, a state change), written in its
own FULL transaction before the candidate is told "saved". The attempt's state is the replay of
its rows (see :mod:`kiosk.session`).

Each row's payload is AES-256-GCM encrypted under the per-attempt journal key, which only ever
lives in memory (the console releases it, again on resume). The AAD binds the attempt id, the row's
sequence number and the previous row's hash, and each row stores ``row_hash``, a SHA-256 over
everything in the row. So:

- a modified row fails its hash (and its AEAD tag);
- a deleted row leaves a gap in ``seq``;
- reordered rows break the chain (``prev_hash`` no longer names the row before);
- a row moved to another attempt fails its AEAD (attempt id is in the AAD);
- a cut-off tail, or a tail rolled back and rewritten, is caught when the caller gives the head
  the console last saw (``rows(expected_head)``; before the key is back, :func:`contains_head`).

Every failure is a :class:`JournalTamperedError` naming the row and the kind of damage.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import sqlite_utils
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exam_core import purposes
from exam_core.errors import InvigilError, MalformedError, TamperedError, WrongKeyError
from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.store import immediate_transaction

JOURNAL_PURPOSE = "kiosk-journal"
ROW_HASH_PURPOSE = "kiosk-journal-row"
KEY_CHECK_PURPOSE = "kiosk-journal-key"
GENESIS_HASH = "0" * 64
KEY_BYTES = 32
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024

SCHEMA = """
CREATE TABLE journal (
    attempt_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    PRIMARY KEY (attempt_id, seq)
);
CREATE TABLE journal_keys (
    attempt_id TEXT PRIMARY KEY,
    key_check TEXT NOT NULL
);
"""


class JournalTamperedError(TamperedError):
    """The journal on disk is not the one this kiosk wrote: ``seq`` names the row, ``damage`` the kind.

    ``damage`` is one of ``modified``, ``deleted``, ``reordered``, ``truncated`` (rows cut off
    below a head the console saw), ``forked`` (the console saw another row at that number).
    """

    def __init__(self, attempt_id: str, seq: int, damage: str, detail: str) -> None:
        self.attempt_id = attempt_id
        self.seq = seq
        self.damage = damage
        super().__init__(f"journal of attempt {attempt_id}, row {seq}: {damage} ({detail})")


class JournalConflictError(InvigilError):
    """Another writer appended to the same attempt's journal (the append was not made)."""


@dataclass(frozen=True)
class JournalRow:
    """One decrypted row."""

    seq: int
    payload: dict[str, Any]
    row_hash: str


@dataclass(frozen=True)
class JournalHead:
    """The last row's number and hash: what the envelope and the console's heartbeats carry."""

    seq: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


def _aad(attempt_id: str, seq: int, prev_hash: str) -> bytes:
    return purposes.bind(JOURNAL_PURPOSE, canonical_dumps(
        {"attempt_id": attempt_id, "seq": seq, "prev_hash": prev_hash}))


def _row_hash(attempt_id: str, seq: int, prev_hash: str, nonce: bytes, ciphertext: bytes) -> str:
    digest = hashlib.sha256(purposes.bind(ROW_HASH_PURPOSE))
    digest.update(canonical_dumps({"attempt_id": attempt_id, "seq": seq, "prev_hash": prev_hash,
                                   "nonce": nonce.hex()}))
    digest.update(hashlib.sha256(ciphertext).digest())
    return digest.hexdigest()


def _key_check(key: bytes, attempt_id: str) -> str:
    """A commitment to the key, so a wrong key is told apart from a tampered first row."""
    return hmac.new(key, purposes.bind(KEY_CHECK_PURPOSE, attempt_id.encode()), hashlib.sha256).hexdigest()


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration step used by the kiosk's database (see :mod:`kiosk.storage`)."""
    db.executescript(SCHEMA)


class Journal:
    """The journal of one attempt, opened with its key. Appends are durable when they return.

    One ``Journal`` object is the attempt's only writer: it keeps the head in memory (read once
    when opened) instead of reading it back before every append, and the primary key
    ``(attempt_id, seq)`` turns a second writer into :class:`JournalConflictError` rather than a
    fork of the chain. Not thread-safe by itself; the session holds its own lock around append and
    state change.
    """

    def __init__(self, db: sqlite_utils.Database, attempt_id: str, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise WrongKeyError(f"journal key must be {KEY_BYTES} bytes, got {len(key)}")
        self.db = db
        self.attempt_id = attempt_id
        self._aead = AESGCM(bytes(key))
        self._check_or_record_key(bytes(key))
        self.head = self._read_head()

    def _check_or_record_key(self, key: bytes) -> None:
        check = _key_check(key, self.attempt_id)
        row = self.db.execute("SELECT key_check FROM journal_keys WHERE attempt_id = ?",
                              [self.attempt_id]).fetchone()
        if row is None:
            with immediate_transaction(self.db) as conn:
                conn.execute("INSERT OR IGNORE INTO journal_keys (attempt_id, key_check) VALUES (?, ?)",
                             [self.attempt_id, check])
            row = (check,)
        if not hmac.compare_digest(row[0], check):
            raise WrongKeyError(f"the released key is not the journal key of attempt {self.attempt_id}")

    def _read_head(self) -> JournalHead:
        return read_head(self.db, self.attempt_id)

    def append(self, payload: dict[str, Any]) -> JournalRow:
        """Encrypt and durably append one row; returns once the FULL commit has returned."""
        plaintext = canonical_dumps(payload)
        if len(plaintext) > MAX_PAYLOAD_BYTES:
            raise MalformedError(f"journal payload of {len(plaintext)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        head = self.head  # this object is the attempt's one writer (see the class docstring)
        seq = head.seq + 1
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, plaintext, _aad(self.attempt_id, seq, head.hash))
        row_hash = _row_hash(self.attempt_id, seq, head.hash, nonce, ciphertext)
        try:
            with immediate_transaction(self.db) as conn:
                conn.execute("INSERT INTO journal (attempt_id, seq, nonce, ciphertext, prev_hash, row_hash) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [self.attempt_id, seq, nonce, ciphertext, head.hash, row_hash])
        except sqlite3.IntegrityError:
            raise JournalConflictError(f"journal of attempt {self.attempt_id}: row {seq} was written by "
                                       "another writer; reopen the journal") from None
        self.head = JournalHead(seq, row_hash)
        return JournalRow(seq, payload, row_hash)

    def rows(self, expected_head: JournalHead | None = None) -> Iterator[JournalRow]:
        """Verify and decrypt every row in order; raises :class:`JournalTamperedError` at the first fault.

        ``expected_head``, when known (the last head the console acknowledged), also catches a
        journal whose last rows were cut off, which the chain alone cannot show.
        """
        prev_hash, expected_seq = GENESIS_HASH, 1
        known = {h for (h,) in self.db.execute("SELECT row_hash FROM journal WHERE attempt_id = ?",
                                                [self.attempt_id])}
        cursor = self.db.execute("SELECT seq, CAST(nonce AS BLOB), CAST(ciphertext AS BLOB), prev_hash, row_hash "
                                 "FROM journal "
                                 "WHERE attempt_id = ? ORDER BY seq", [self.attempt_id])
        for seq, nonce, ciphertext, stored_prev, stored_hash in cursor:
            yield self._verified_row(seq, expected_seq, prev_hash, bytes(nonce), bytes(ciphertext),
                                     stored_prev, stored_hash, known)
            if expected_head is not None and seq == expected_head.seq and stored_hash != expected_head.hash:
                raise JournalTamperedError(self.attempt_id, seq, "forked",
                                           f"row {seq} is not the row the console saw (rolled back and rewritten)")
            prev_hash, expected_seq = stored_hash, seq + 1
        last = expected_seq - 1
        if expected_head is not None and last < expected_head.seq:
            raise JournalTamperedError(self.attempt_id, last + 1, "truncated",
                                       f"journal ends at row {last}, the console saw row {expected_head.seq}")

    def _verified_row(self, seq: int, expected_seq: int, prev_hash: str, nonce: bytes, ciphertext: bytes,
                      stored_prev: str, stored_hash: str, known: set[str]) -> JournalRow:
        """Check one row. The chain is checked before the hash so that rows swapped whole (each
        keeping its own hash) are reported as reordered rather than as modified."""
        attempt = self.attempt_id
        if seq != expected_seq:
            raise JournalTamperedError(attempt, expected_seq, "deleted",
                                       f"next row on disk is {seq}")
        if stored_prev != prev_hash:
            damage = "reordered" if stored_prev in known or stored_prev == GENESIS_HASH else "modified"
            raise JournalTamperedError(attempt, seq, damage,
                                       "row does not follow the row before it in the chain")
        if _row_hash(attempt, seq, stored_prev, nonce, ciphertext) != stored_hash:
            raise JournalTamperedError(attempt, seq, "modified", "row hash does not match its content")
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, _aad(attempt, seq, prev_hash))
        except InvalidTag:
            raise JournalTamperedError(attempt, seq, "modified", "authentication tag fails") from None
        payload = loads_strict(plaintext, max_bytes=MAX_PAYLOAD_BYTES)
        if not isinstance(payload, dict):
            raise JournalTamperedError(attempt, seq, "modified", "payload is not an object")
        return JournalRow(seq, payload, stored_hash)

    def verify(self, expected_head: JournalHead | None = None) -> JournalHead:
        """Check the whole chain; returns the head. Raises :class:`JournalTamperedError`."""
        head = JournalHead(0, GENESIS_HASH)
        for row in self.rows(expected_head):
            head = JournalHead(row.seq, row.row_hash)
        return head

    def chain(self, head: JournalHead) -> bytes:
        """The row hashes of rows 1..``head.seq`` (see :func:`chain_hashes`): what the result seals."""
        return chain_hashes(self.db, self.attempt_id, head)


def read_head(db: sqlite_utils.Database, attempt_id: str) -> JournalHead:
    """The last row's number and hash as stored, without the key (heartbeats before a resume).

    Unverified by design: it is what the console compares with the heads it saw earlier, so a
    journal cut off on disk shows up there as a head that went back.
    """
    row = db.execute("SELECT seq, row_hash FROM journal WHERE attempt_id = ? ORDER BY seq DESC LIMIT 1",
                     [attempt_id]).fetchone()
    return JournalHead(0, GENESIS_HASH) if row is None else JournalHead(int(row[0]), row[1])


def contains_head(db: sqlite_utils.Database, attempt_id: str, head: JournalHead) -> str | None:
    """Why the journal on disk lacks ``head`` (cut off or forked), or None if it has that row.

    Read without the key, so a kiosk that restarted can tell at its first hello, before any
    proctor approves the resume; the full verification with the key follows on resume.
    """
    row = db.execute("SELECT row_hash FROM journal WHERE attempt_id = ? AND seq = ?",
                     [attempt_id, head.seq]).fetchone()
    if row is None:
        last = read_head(db, attempt_id).seq
        return f"journal of attempt {attempt_id} was cut off: it ends at row {last}, the console saw row {head.seq}"
    if row[0] != head.hash:
        return (f"journal of attempt {attempt_id} forked: row {head.seq} is not the row the console saw "
                "(rolled back and rewritten)")
    return None


def chain_hashes(db: sqlite_utils.Database, attempt_id: str, head: JournalHead) -> bytes:
    """The row hashes of rows 1..``head.seq``, 32 raw bytes each, in order: the sealed chain.

    The envelope carries them so the central body can check that every head the console saw in
    heartbeats lies on the journal the kiosk sealed (a rollback-and-rewrite keeps the row count
    but changes the hash at the row the console saw). Hashes only: no content, no key.
    """
    out = bytearray()
    expected = 1
    for seq, row_hash in db.execute("SELECT seq, row_hash FROM journal WHERE attempt_id = ? AND seq <= ? "
                                    "ORDER BY seq", [attempt_id, head.seq]):
        if seq != expected:
            raise JournalTamperedError(attempt_id, expected, "deleted", f"next row on disk is {seq}")
        out += bytes.fromhex(row_hash)
        expected += 1
    last = out[-32:].hex() if out else GENESIS_HASH
    if expected - 1 != head.seq or last != head.hash:
        raise JournalTamperedError(attempt_id, expected, "truncated",
                                   f"journal ends at row {expected - 1}, the sealed head is row {head.seq}")
    return bytes(out)


def count_rows(db: sqlite_utils.Database, attempt_id: str) -> int:
    """How many rows an attempt has, without its key (for ``kiosk status``)."""
    try:
        return int(db.execute("SELECT COUNT(*) FROM journal WHERE attempt_id = ?", [attempt_id]).fetchone()[0])
    except sqlite3.Error:
        return 0
