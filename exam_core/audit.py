"""Append-only, hash-chained audit log in SQLite, with signed checkpoints.

Every node records what its operators and devices did (a proctor admitted a candidate, a kiosk
was paused, a package was imported) in an :class:`AuditLog`. Each entry holds the hash of the one
before it, so changing, deleting, inserting or reordering an entry breaks the chain at that entry.
Someone with write access to the database could still rewrite the whole chain after the change;
a *checkpoint* stops that: the node signs (seq, head hash, count, time) with its Ed25519 key, and
:meth:`AuditLog.verify` checks every checkpoint against the chain, which also detects entries cut
off after a checkpoint.

Truncation, and what is left of it. Entries after the latest checkpoint are vouched for by nothing
but the chain, so they can be cut off unseen. Given its key (``checkpoint_key``), the log signs a
checkpoint by itself, in the same transaction as the entry that makes it due: every
``checkpoint_every`` entries, when ``checkpoint_after`` has passed since the last one (judged at
each append; ``checkpoint_if_due`` lets a timer do the same between appends), and on
:meth:`AuditLog.close`. :class:`VerifyReport` says how many entries are unprotected, and
``verify(max_unprotected=N)`` refuses a tail longer than the policy allows (entries forged after
the last checkpoint). What remains without an external anchor:

* the unprotected tail (fewer than ``checkpoint_every`` entries, younger than ``checkpoint_after``,
  or written since the last close or timer checkpoint) can still be removed undetected;
* deleting the latest checkpoint rows together with the entries they cover rolls both tables back
  to an earlier, consistent state, which no local check can tell from the real past. Only a head
  recorded elsewhere catches it: pass a signed checkpoint kept off the node as
  ``trusted_checkpoint``, or a ``(seq, hash)`` head printed in a report or sent to another node
  as ``known_head``.

Storage. :class:`HashChain` holds the chain logic (appending, checkpoint policy, verification)
over a few storage primitives; :class:`AuditLog` stores it in SQLite through ``exam_core.store``
(kiosk and console), and the central body stores the same chain through its data layer
(``item_bank_sync.db.audit``, SQLite or PostgreSQL): one format, one verifier.

Entry hash (hex SHA-256)::

    SHA-256("invigil/v1" NUL "audit-entry" NUL || prev_hash (32 bytes) || canonical_json(entry))

where ``entry`` is ``{"seq", "time", "actor", "action", "data"}`` and the first entry's previous
hash is 32 zero bytes. Entry *data* may be personal (a candidate id, a reason): it is stored, hashed
and returned, but never logged and never quoted in an exception message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import purposes, signing
from exam_core.errors import ArtefactError, AuditTamperedError, ValidationError
from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.store import immediate_transaction, read_snapshot
from exam_core.timestamps import utc_now

ENTRY_DOMAIN = purposes.bind("audit-entry")
GENESIS_HASH = bytes(32)
#: Largest canonical JSON of one entry's data; audit entries describe actions, not content.
DATA_MAX_BYTES = 64 * 1024
ACTOR_MAX_CHARS = 128

_ACTION_RE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_TABLE_RE = re.compile(r"[a-z_][a-z0-9_]{0,47}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_CHECKPOINT_FIELDS = {"log", "seq", "head", "count", "time"}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: Automatic checkpoint policy of a log given a ``checkpoint_key``: the most entries, and the
#: longest time, an unprotected tail may reach before the next append signs it.
DEFAULT_CHECKPOINT_EVERY = 50
DEFAULT_CHECKPOINT_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class AuditEntry:
    """One link of the chain. ``hash`` covers every other field and ``prev_hash``."""

    seq: int
    time: str
    actor: str
    action: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the log had ``count`` entries ending in ``head`` at ``seq``.

    ``signed`` is the signed document (``exam_core.signing``, purpose ``audit-checkpoint``): the
    bytes to send to another node for safe keeping.
    """

    log: str
    seq: int
    head: str
    count: int
    time: str
    signed: bytes


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`AuditLog.verify` checked: entries walked, checkpoints and signatures checked.

    ``protected_through`` is the highest seq a checkpoint (stored, trusted or a known head) vouches
    for; the ``unprotected`` entries after it could have been cut off, or added, without a trace.
    """

    entries: int
    head: str
    checkpoints: int
    signatures_checked: bool
    protected_through: int = 0
    unprotected: int = 0
    last_checkpoint_time: str | None = None


def entry_hash(prev_hash: bytes, seq: int, time: str, actor: str, action: str, data: Mapping[str, Any]) -> bytes:
    """The chain hash of one entry, from the previous entry's hash and this entry's fields."""
    entry = {"seq": seq, "time": time, "actor": actor, "action": action, "data": dict(data)}
    return hashlib.sha256(ENTRY_DOMAIN + prev_hash + canonical_dumps(entry)).digest()


#: A stored entry as the storage returns it: (seq, time, actor, action, data, prev_hash, hash).
EntryRow = tuple[Any, Any, Any, Any, Any, Any, Any]
#: A stored checkpoint: (seq, head, count, time, signed).
CheckpointRow = tuple[Any, Any, Any, Any, Any]


class HashChain:
    """A hash-chained log named ``table`` with its checkpoints, over storage a subclass provides.

    The storage primitives (``_write``, ``_snapshot``, ``_head_row``, ``_last_checkpoint``,
    ``_insert_entry``, ``_insert_checkpoint``, ``_entry_rows``, ``_checkpoint_rows``) are all a
    store has to supply; ``_write`` must exclude every other writer of the same chain until it
    ends, so the head read inside it is still the head when the next entry is written.
    """

    def __init__(self, table: str = "audit_log", *,
                 clock: Callable[[], datetime] | None = None, checkpoint_key: Ed25519PrivateKey | None = None,
                 checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
                 checkpoint_after: timedelta | None = DEFAULT_CHECKPOINT_AFTER) -> None:
        """``checkpoint_key`` turns on automatic checkpoints (see the module docstring); without it
        ``checkpoint_every`` and ``checkpoint_after`` have no effect and checkpoints are the caller's."""
        if not isinstance(table, str) or not _TABLE_RE.fullmatch(table):
            raise ValidationError("table", "must be 1-48 of [a-z0-9_] not starting with a digit")
        if checkpoint_every is not None and (type(checkpoint_every) is not int or checkpoint_every < 1):
            raise ValidationError("checkpoint_every", "must be a positive number of entries")
        if checkpoint_after is not None and checkpoint_after <= timedelta(0):
            raise ValidationError("checkpoint_after", "must be a positive time")
        self.table = table
        self.checkpoint_table = f"{table}_checkpoints"
        self._clock = clock or utc_now
        self._checkpoint_key = checkpoint_key
        self._checkpoint_every = checkpoint_every
        self._checkpoint_after = checkpoint_after

    # -- storage (see the class docstring) -------------------------------------------------------

    def _write(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _snapshot(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _head_row(self, tx: Any) -> tuple[int, bytes]:
        """(seq, hash) of the last entry, or (0, genesis) for an empty log; ``tx`` None reads alone."""
        raise NotImplementedError

    def _last_checkpoint(self, tx: Any) -> tuple[int, Any] | None:
        """(seq, time) of the checkpoint made last, or None."""
        raise NotImplementedError

    def _insert_entry(self, tx: Any, row: EntryRow) -> None:
        raise NotImplementedError

    def _insert_checkpoint(self, tx: Any, row: CheckpointRow) -> None:
        raise NotImplementedError

    def _entry_rows(self, tx: Any, start_seq: int) -> Iterable[EntryRow]:
        """Stored entries from ``start_seq`` on, by seq; ``tx`` None reads outside a snapshot."""
        raise NotImplementedError

    def _checkpoint_rows(self, tx: Any) -> Iterable[CheckpointRow]:
        """Stored checkpoints in the order they were made; ``tx`` None reads outside a snapshot."""
        raise NotImplementedError

    # -- writing -------------------------------------------------------------------------------

    def append(self, actor: str, action: str, data: Mapping[str, Any] | None = None) -> AuditEntry:
        """Add one entry after the current head and return it once committed.

        ``actor`` names who acted (a proctor account, a kiosk id), ``action`` is a short dotted
        name such as ``kiosk.pause``; ``data`` is a JSON object of at most ``DATA_MAX_BYTES``.
        With a ``checkpoint_key``, a checkpoint that falls due is signed and committed with it.
        """
        _check_actor(actor)
        _check_action(action)
        data_json = _data_json(data)
        stored = loads_strict(data_json)
        with self._write() as conn:
            seq, prev = self._head_row(conn)
            seq += 1
            moment = self._now()
            when = _format_time(moment)
            digest = entry_hash(prev, seq, when, actor, action, stored).hex()
            self._insert_entry(conn, (seq, when, actor, action, data_json.decode("utf-8"), prev.hex(), digest))
            if self._checkpoint_key is not None and self._checkpoint_due(conn, seq, moment):
                self._write_checkpoint(conn, self._checkpoint_key, seq, digest, when)
        return AuditEntry(seq, when, actor, action, stored, prev.hex(), digest)

    def checkpoint(self, private_key: Ed25519PrivateKey | None = None) -> Checkpoint:
        """Sign the current head (refused on an empty log: there is nothing to vouch for).

        ``private_key`` defaults to the log's ``checkpoint_key``.
        """
        key = self._signing_key(private_key)
        with self._write() as conn:
            seq, head = self._head_row(conn)
            if seq == 0:
                raise ValidationError("audit_log", "cannot checkpoint an empty log")
            return self._write_checkpoint(conn, key, seq, head.hex(), _format_time(self._now()))

    def checkpoint_if_due(self, private_key: Ed25519PrivateKey | None = None) -> Checkpoint | None:
        """Sign the head if any entry is not yet covered by a checkpoint; None when all are.

        For a timer between appends, and what :meth:`close` does: it never adds a checkpoint
        that repeats the last one.
        """
        key = self._signing_key(private_key)
        with self._write() as conn:
            seq, head = self._head_row(conn)
            last = (self._last_checkpoint(conn) or (0, None))[0]
            if type(last) is int and seq <= last:   # a type-confused row: sign again (fail towards signing)
                return None
            return self._write_checkpoint(conn, key, seq, head.hex(), _format_time(self._now()))

    def close(self) -> Checkpoint | None:
        """Checkpoint what is unprotected, if the log has a ``checkpoint_key``; the database
        connection belongs to the caller and stays open."""
        return self.checkpoint_if_due() if self._checkpoint_key is not None else None

    def __enter__(self) -> HashChain:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _signing_key(self, private_key: Ed25519PrivateKey | None) -> Ed25519PrivateKey:
        key = private_key or self._checkpoint_key
        if key is None:
            raise ValidationError("private_key", "no key given and the log has no checkpoint_key")
        return key

    def _checkpoint_due(self, conn: Any, seq: int, moment: datetime) -> bool:
        row = self._last_checkpoint(conn)
        last_seq, last_time = (row[0], _parse_time(row[1])) if row else (0, None)
        if type(last_seq) is not int:                # a type-confused row: due now (fail towards signing)
            return True
        if self._checkpoint_every is not None and seq - last_seq >= self._checkpoint_every:
            return True
        if self._checkpoint_after is None:
            return False
        # No checkpoint yet, or a stored time that cannot be read: due now (fail towards signing).
        return last_time is None or moment - last_time >= self._checkpoint_after

    def _write_checkpoint(self, conn: Any, key: Ed25519PrivateKey, seq: int, head: str, when: str) -> Checkpoint:
        payload = {"log": self.table, "seq": seq, "head": head, "count": seq, "time": when}
        signed = signing.make_signed(key, purposes.AUDIT_CHECKPOINT, payload)
        self._insert_checkpoint(conn, (seq, head, seq, when, signed))
        return Checkpoint(self.table, seq, head, seq, when, signed)

    # -- reading -------------------------------------------------------------------------------

    def entries(self, start_seq: int = 1) -> Iterator[AuditEntry]:
        """The stored entries from ``start_seq`` on, in sequence order, as stored (not verified)."""
        for seq, when, actor, action, data, prev_hash, digest in self._entry_rows(None, start_seq):
            yield AuditEntry(seq, when, actor, action, _parse_data(seq, data), prev_hash, digest)

    def head(self) -> AuditEntry | None:
        """The last entry, or None for an empty log."""
        seq, _ = self._head_row(None)
        return next(self.entries(seq), None) if seq else None

    def checkpoints(self, tx: Any = None) -> list[Checkpoint]:
        """Stored checkpoints in the order they were made (not verified; a ``signed`` column that
        is not bytes is given as stored, and ``verify`` refuses it)."""
        return [Checkpoint(self.table, s, h, c, t, _stored_bytes(sig)) for s, h, c, t, sig in self._checkpoint_rows(tx)]

    # -- verifying -----------------------------------------------------------------------------

    def verify(self, public_key: Ed25519PublicKey | None = None, *,
               trusted_checkpoint: bytes | None = None, known_head: tuple[int, str] | None = None,
               max_unprotected: int | None = None) -> VerifyReport:
        """Walk the whole chain and check every checkpoint; raise ``AuditTamperedError`` at the first fault.

        Without ``public_key`` the chain and the checkpoints' head hashes are checked but not the
        checkpoint signatures, so a forger who rewrote both tables would pass: give the node's
        public key wherever it is known. ``trusted_checkpoint`` is a signed checkpoint kept
        elsewhere (needs ``public_key``) and ``known_head`` a ``(seq, hex hash)`` recorded
        elsewhere; the log must still contain the entries they vouch for. ``max_unprotected``
        refuses more entries after the last checkpoint than the writer's policy leaves.
        The error's ``seq`` is the first sequence number found wrong; for a chain rewritten
        consistently up to a checkpoint, that checkpoint's seq.
        """
        with self._snapshot() as tx:  # checkpoints and chain read from one consistent state
            expected, stored, last_time = self._checkpoint_map(tx, public_key, trusted_checkpoint, known_head)
            count, head = self._walk_chain(tx, expected)
        missing = [seq for seq in expected if seq > count]
        if missing:
            raise AuditTamperedError(count + 1, f"entries missing: the log ends at seq {count} but a "
                                                f"checkpoint covers seq {max(missing)}")
        protected = max(expected, default=0)
        if public_key is not None and count and not protected:
            raise AuditTamperedError(1, f"unprotected: {count} entries and no checkpoint vouches for any of them "
                                        "(checkpoints deleted, or never signed); a key was given, so this is refused")
        if max_unprotected is not None and count - protected > max_unprotected:
            raise AuditTamperedError(protected + 1, f"{count - protected} entries after the last checkpoint "
                                                    f"(seq {protected}); the policy allows {max_unprotected}")
        return VerifyReport(count, head, stored, public_key is not None, protected, count - protected, last_time)

    def _walk_chain(self, tx: Any, expected: Mapping[int, list[str]]) -> tuple[int, str]:
        prev = GENESIS_HASH
        seq_expected = 1
        for seq, when, actor, action, data, prev_hash, digest in self._entry_rows(tx, 1):
            if seq != seq_expected:
                raise AuditTamperedError(seq_expected, f"entry missing (next stored entry is seq {seq})")
            if prev_hash != prev.hex():
                raise AuditTamperedError(seq, "does not link to the entry before it "
                                              "(an entry was inserted, deleted or reordered)")
            if not all(isinstance(v, str) for v in (when, actor, action)):
                raise AuditTamperedError(seq, "entry fields have the wrong type")
            recomputed = entry_hash(prev, seq, when, actor, action, _stored_data(seq, data))
            if digest != recomputed.hex():
                raise AuditTamperedError(seq, "entry content does not match its hash (modified)")
            if any(head != digest for head in expected.get(seq, ())):
                raise AuditTamperedError(seq, f"chain does not match the checkpoint at seq {seq} "
                                              "(entries up to it were rewritten)")
            prev, seq_expected = recomputed, seq + 1
        return seq_expected - 1, prev.hex()

    def _checkpoint_map(self, tx: Any, public_key: Ed25519PublicKey | None, trusted: bytes | None,
                        known_head: tuple[int, str] | None) -> tuple[dict[int, list[str]], int, str | None]:
        """seq -> head hashes vouched for (stored checkpoints, verified when a key is given; the
        trusted checkpoint; the known head), the number of checkpoints checked, and the latest
        stored checkpoint's time."""
        if trusted is not None and public_key is None:
            raise ValidationError("public_key", "needed to check a trusted checkpoint")
        expected: dict[int, list[str]] = {}
        stored = [(c.seq, c.head, c.count, c.time, c.signed) for c in self.checkpoints(tx)]
        sources: list[tuple[Any, Any, Any, Any, Any]] = list(stored)
        if trusted is not None and public_key is not None:  # without a key refused above
            payload = self._open_checkpoint(public_key, trusted, None)
            sources.append((payload["seq"], payload["head"], payload["count"], payload["time"], None))
        if known_head is not None:
            if not (isinstance(known_head, tuple) and len(known_head) == 2):
                raise ValidationError("known_head", "must be (seq, hex hash)")
            sources.append((known_head[0], known_head[1], known_head[0], None, None))
        for index, (seq, head, count, when, signed) in enumerate(sources):
            if not (type(seq) is int and seq >= 1 and type(count) is int and count == seq and isinstance(head, str)
                    and _HEX64_RE.fullmatch(head) and (index >= len(stored) or isinstance(signed, bytes))):
                raise AuditTamperedError(seq if type(seq) is int else 0, "checkpoint fields are malformed")
            if public_key is not None and signed is not None:
                payload = self._open_checkpoint(public_key, signed, seq)
                if payload != {"log": self.table, "seq": seq, "head": head, "count": count, "time": when}:
                    raise AuditTamperedError(seq, "checkpoint row differs from what its signature covers")
            expected.setdefault(seq, []).append(head)
        checked = len(sources) - (known_head is not None)
        return expected, checked, stored[-1][3] if stored else None

    def _open_checkpoint(self, public_key: Ed25519PublicKey, signed: bytes, seq: int | None) -> dict[str, Any]:
        try:
            payload = signing.open_signed(signed, public_key, purposes.AUDIT_CHECKPOINT).payload
        except ArtefactError as exc:
            raise AuditTamperedError(seq or 0, f"checkpoint signature refused: {exc.reason}") from exc
        if not isinstance(payload, dict) or set(payload) != _CHECKPOINT_FIELDS or payload["log"] != self.table:
            raise AuditTamperedError(seq or 0, "signed checkpoint is for another log or malformed")
        return payload

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValidationError("clock", "must return an aware datetime")
        return now.astimezone(UTC)


class AuditLog(HashChain):
    """A hash-chained log in table ``table`` (checkpoints in ``<table>_checkpoints``) of ``db``.

    ``db`` should come from :func:`exam_core.store.open_db` with ``synchronous="FULL"``: an entry
    returned by :meth:`append` is then durable. Appends are serialised by the connection's write
    lock (threads) and a ``BEGIN IMMEDIATE`` transaction (other processes), one per entry.
    """

    def __init__(self, db: sqlite_utils.Database, table: str = "audit_log", **options: Any) -> None:
        """Options as :class:`HashChain` (clock, checkpoint_key, checkpoint_every, checkpoint_after)."""
        super().__init__(table, **options)
        self.db = db
        self._create_tables()

    def _create_tables(self) -> None:
        with immediate_transaction(self.db) as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL,"
                " action TEXT NOT NULL, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.checkpoint_table} ("
                " id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, head TEXT NOT NULL,"
                " count INTEGER NOT NULL, time TEXT NOT NULL, signed BLOB NOT NULL)"
            )

    # The SQL below names the log's tables in f-strings (S608): the names were checked against
    # _TABLE_RE when the log was made, and every value goes in as a parameter.

    def _write(self) -> AbstractContextManager[Any]:
        return immediate_transaction(self.db)

    def _snapshot(self) -> AbstractContextManager[Any]:
        return read_snapshot(self.db)

    def _head_row(self, tx: Any) -> tuple[int, bytes]:
        sql = f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1"  # noqa: S608
        row = (tx or self.db.conn).execute(sql).fetchone()
        return (row[0], bytes.fromhex(row[1])) if row else (0, GENESIS_HASH)

    def _last_checkpoint(self, tx: Any) -> tuple[int, Any] | None:
        sql = f"SELECT seq, time FROM {self.checkpoint_table} ORDER BY id DESC LIMIT 1"  # noqa: S608
        row = tx.execute(sql).fetchone()
        return (row[0], row[1]) if row else None

    def _insert_entry(self, tx: Any, row: EntryRow) -> None:
        tx.execute(f"INSERT INTO {self.table} (seq, time, actor, action, data, prev_hash, hash)"  # noqa: S608
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def _insert_checkpoint(self, tx: Any, row: CheckpointRow) -> None:
        sql = f"INSERT INTO {self.checkpoint_table} (seq, head, count, time, signed) VALUES (?, ?, ?, ?, ?)"  # noqa: S608
        tx.execute(sql, row)

    def _entry_rows(self, tx: Any, start_seq: int) -> Iterable[EntryRow]:
        return (tx or self.db.conn).execute(
            f"SELECT seq, time, actor, action, data, prev_hash, hash FROM {self.table}"  # noqa: S608
            " WHERE seq >= ? ORDER BY seq", (start_seq,))

    def _checkpoint_rows(self, tx: Any) -> Iterable[CheckpointRow]:
        return (tx or self.db.conn).execute(
            f"SELECT seq, head, count, time, signed FROM {self.checkpoint_table} ORDER BY id")  # noqa: S608


def verdict(log: HashChain, public_key: Ed25519PublicKey, *, max_unprotected: int | None = None,
            known_head: tuple[int, str] | None = None) -> dict[str, Any]:
    """What ``audit verify`` prints: ``{"valid": True, <the VerifyReport>}``, or ``{"valid": False,
    "seq": first bad seq, "error": why}`` (never an entry's data). For the consoles' and the central
    body's commands alike, so both say the same thing in the same words."""
    try:
        report = log.verify(public_key, max_unprotected=max_unprotected, known_head=known_head)
    except AuditTamperedError as exc:
        return {"valid": False, "log": log.table, "seq": exc.seq, "error": str(exc)}
    return {"valid": True, "log": log.table, **asdict(report)}


def _stored_bytes(value: Any) -> Any:
    """A BLOB column as ``bytes``; anything else (a row edited to text or a number) as stored."""
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else value


def _format_time(moment: datetime) -> str:
    return moment.strftime(_TIME_FORMAT)


def _parse_time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _check_actor(actor: Any) -> None:
    if not isinstance(actor, str) or not 1 <= len(actor) <= ACTOR_MAX_CHARS or not actor.isprintable():
        raise ValidationError("actor", f"must be 1-{ACTOR_MAX_CHARS} printable characters")


def _check_action(action: Any) -> None:
    if not isinstance(action, str) or not _ACTION_RE.fullmatch(action):
        raise ValidationError("action", "must be 1-64 of [a-z0-9_.-] starting with a letter")


def _data_json(data: Mapping[str, Any] | None) -> bytes:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationError("data", "must be a JSON object")
    encoded = canonical_dumps(dict(data))
    if len(encoded) > DATA_MAX_BYTES:
        raise ValidationError("data", f"{len(encoded)} bytes as JSON exceeds {DATA_MAX_BYTES}")
    loads_strict(encoded)  # depth and string checks: what we store must also parse back
    return encoded


def _stored_data(seq: int, data: Any) -> dict[str, Any]:
    """The stored data column parsed, which must be exactly the canonical JSON of an object."""
    if not isinstance(data, str):
        raise AuditTamperedError(seq, "entry data is not text")
    parsed = _parse_data(seq, data)
    if canonical_dumps(parsed) != data.encode("utf-8", "surrogatepass"):
        raise AuditTamperedError(seq, "entry data is not in canonical form (modified)")
    return parsed


def _parse_data(seq: int, data: str) -> dict[str, Any]:
    try:
        parsed = loads_strict(data.encode("utf-8", "surrogatepass"), max_bytes=DATA_MAX_BYTES)
    except (ArtefactError, ValidationError):
        # "from None": the parser's message could quote part of the data, which is never logged.
        raise AuditTamperedError(seq, "entry data cannot be parsed") from None
    if not isinstance(parsed, dict):
        raise AuditTamperedError(seq, "entry data is not a JSON object")
    return parsed
