"""The attempt journal: durable, encrypted, hash-chained; tampering is detected with its kind."""

from __future__ import annotations

import os

import pytest

from exam_core.errors import TamperedError, WrongKeyError
from kiosk.journal import GENESIS_HASH, Journal, JournalConflictError, JournalHead, JournalTamperedError


def _filled(db, key, n=5, attempt="ATT1") -> Journal:
    journal = Journal(db, attempt, key)
    for i in range(n):
        journal.append({"t": "answer", "i": i, "value": f"secret answer {i}"})
    return journal


def test_rows_round_trip_in_order(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key)
    reopened = Journal(kiosk_db, "ATT1", journal_key)
    rows = list(reopened.rows())
    assert [r.payload["i"] for r in rows] == [0, 1, 2, 3, 4]
    assert reopened.head.seq == 5 and reopened.verify() == reopened.head


def test_a_second_writer_is_refused_instead_of_forking_the_chain(kiosk_db, journal_key):
    first = _filled(kiosk_db, journal_key, 2)
    stale = Journal(kiosk_db, "ATT1", journal_key)  # opened at row 2, like a second live session
    first.append({"t": "answer", "i": 2})
    with pytest.raises(JournalConflictError, match="row 3"):
        stale.append({"t": "answer", "i": "fork"})
    assert [r.payload["i"] for r in Journal(kiosk_db, "ATT1", journal_key).rows()] == [0, 1, 2]


def test_payloads_are_not_on_disk_in_plaintext(kiosk_db, journal_key, tmp_path):
    _filled(kiosk_db, journal_key)
    kiosk_db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"secret answer" not in raw


def test_each_row_chains_to_the_one_before(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key, 3)
    rows = kiosk_db.execute("SELECT seq, prev_hash, row_hash FROM journal ORDER BY seq").fetchall()
    assert rows[0][1] == GENESIS_HASH
    assert rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]


def test_wrong_key_is_refused_as_wrong_key(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key)
    with pytest.raises(WrongKeyError):
        Journal(kiosk_db, "ATT1", os.urandom(32))


def test_modified_ciphertext_is_detected(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key)
    kiosk_db.conn.execute("UPDATE journal SET ciphertext = ciphertext || x'00' WHERE seq = 3")
    kiosk_db.conn.commit()
    with pytest.raises(JournalTamperedError) as err:
        Journal(kiosk_db, "ATT1", journal_key).verify()
    assert (err.value.seq, err.value.damage) == (3, "modified")
    assert isinstance(err.value, TamperedError)


def test_row_rewritten_with_a_fresh_hash_fails_its_tag(kiosk_db, journal_key):
    """An attacker who recomputes the row hash still cannot forge the AEAD tag."""
    from kiosk.journal import _row_hash
    _filled(kiosk_db, journal_key)
    _seq, nonce, ct, prev = kiosk_db.execute(
        "SELECT seq, nonce, ciphertext, prev_hash FROM journal WHERE seq = 2").fetchone()
    forged = bytes(ct[:-1]) + bytes([ct[-1] ^ 1])
    kiosk_db.conn.execute("UPDATE journal SET ciphertext = ?, row_hash = ? WHERE seq = 2",
                          [forged, _row_hash("ATT1", 2, prev, bytes(nonce), forged)])
    kiosk_db.conn.commit()
    with pytest.raises(JournalTamperedError) as err:
        Journal(kiosk_db, "ATT1", journal_key).verify()
    assert err.value.seq == 2


def test_deleted_row_is_detected(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key)
    kiosk_db.conn.execute("DELETE FROM journal WHERE seq = 2")
    kiosk_db.conn.commit()
    with pytest.raises(JournalTamperedError) as err:
        Journal(kiosk_db, "ATT1", journal_key).verify()
    assert (err.value.seq, err.value.damage) == (2, "deleted")


def test_reordered_rows_are_detected(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key)
    kiosk_db.conn.execute("UPDATE journal SET seq = -1 WHERE seq = 3")
    kiosk_db.conn.execute("UPDATE journal SET seq = 3 WHERE seq = 4")
    kiosk_db.conn.execute("UPDATE journal SET seq = 4 WHERE seq = -1")
    kiosk_db.conn.commit()
    with pytest.raises(JournalTamperedError) as err:
        Journal(kiosk_db, "ATT1", journal_key).verify()
    assert (err.value.seq, err.value.damage) == (3, "reordered")


def test_truncated_tail_is_detected_against_the_head_the_console_saw(kiosk_db, journal_key):
    journal = _filled(kiosk_db, journal_key)
    seen = JournalHead(journal.head.seq, journal.head.hash)
    kiosk_db.conn.execute("DELETE FROM journal WHERE seq >= 4")
    kiosk_db.conn.commit()
    reopened = Journal(kiosk_db, "ATT1", journal_key)
    assert reopened.verify().seq == 3  # the chain alone cannot tell
    with pytest.raises(JournalTamperedError) as err:
        reopened.verify(expected_head=seen)
    assert err.value.damage == "truncated"


def test_row_moved_to_another_attempt_is_detected(kiosk_db, journal_key):
    _filled(kiosk_db, journal_key, attempt="ATT1")
    other = _filled(kiosk_db, journal_key, n=2, attempt="ATT2")
    kiosk_db.conn.execute("DELETE FROM journal WHERE attempt_id = 'ATT2' AND seq = 2")
    kiosk_db.conn.execute("UPDATE journal SET attempt_id = 'ATT2' WHERE attempt_id = 'ATT1' AND seq = 2")
    kiosk_db.conn.commit()
    with pytest.raises(JournalTamperedError):
        Journal(kiosk_db, "ATT2", journal_key).verify()
    assert other.head.seq == 2


def test_rewritten_row_below_the_end_is_detected_against_the_head_the_console_saw(kiosk_db, journal_key):
    """Rolled back to row 3 and regrown: the chain is valid and longer, but row 4 is not the one seen."""
    journal = _filled(kiosk_db, journal_key)
    seen = JournalHead(4, kiosk_db.execute("SELECT row_hash FROM journal WHERE seq = 4").fetchone()[0])
    kiosk_db.conn.execute("DELETE FROM journal WHERE seq >= 4")
    kiosk_db.conn.commit()
    regrown = Journal(kiosk_db, "ATT1", journal_key)
    regrown.verify()
    for n in range(journal.head.seq - 2):
        regrown.append({"type": "answer", "n": 100 + n})
    assert regrown.verify().seq >= 4
    with pytest.raises(JournalTamperedError) as err:
        Journal(kiosk_db, "ATT1", journal_key).verify(expected_head=seen)
    assert (err.value.seq, err.value.damage) == (4, "forked")
