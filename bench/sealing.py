"""Cost of Invigil's sealing against the raw primitives it is built from, measured in one run.

* sealing a response envelope vs raw Ed25519 sign + HPKE seal of the same payload bytes;
* opening (and fully verifying) an envelope vs raw HPKE open + Ed25519 verify of the same bytes;
* opening a 20 MB form package (layout, manifest signature, key unwrap, decrypt) vs raw AES-256-GCM
  decrypt of the same ciphertext.

Every figure is a cost (microseconds or milliseconds per operation), so ``ratio`` = our cost / raw
cost; the goal is <= 1.5x.

* committing one durable row through ``exam_core.store`` (p50, p99) vs raw sqlite3 with the
  same pragmas (WAL, synchronous=FULL).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hpke as raw_hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.common import Figure, percentile, time_calls
from exam_core import certs, envelope, keys, package
from exam_core.jsonio import canonical_dumps, utc_now
from exam_core.store import Migration, insert_durably, open_db

BENCH = "sealing"
GOAL = "<= 1.5x"
_ROWS_SQL = "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB)"
_HYBRID = raw_hpke.Suite(raw_hpke.KEM.MLKEM768_X25519, raw_hpke.KDF.HKDF_SHA256, raw_hpke.AEAD.AES_256_GCM)


def _interleaved(ours: Callable[[], object], raw: Callable[[], object], count: int, rounds: int) -> tuple[float, float]:
    """Median seconds per call of each, timing single calls alternately (ours, raw, ours, ...).

    Alternating call by call makes the load of a shared machine hit both sides alike, and the
    median of single calls ignores the calls that were preempted.
    """
    ours(), raw()  # warm up
    ours_s, raw_s = [], []
    for _ in range(count * rounds):
        start = time.perf_counter()
        ours()
        middle = time.perf_counter()
        raw()
        ours_s.append(middle - start)
        raw_s.append(time.perf_counter() - middle)
    return statistics.median(ours_s), statistics.median(raw_s)


def _payload(responses: int) -> dict:
    return {"responses": [{"item_id": f"item-{i:04d}", "response_id": "RESPONSE", "value": ["A", "C"],
                           "seq": i, "elapsed_ms": 1234 * i, "wall": "2026-11-26T09:00:00Z"}
                          for i in range(responses)],
            "attempt": {"state": "submitted", "elapsed_ms": 3_600_000}}


def envelope_figures(quick: bool) -> list[Figure]:
    central, centre, kiosk = (keys.generate_signing_key() for _ in range(3))
    results = keys.generate_hpke_key()
    chain = [certs.issue_certificate(central, "central", "centre-1", "centre", centre.public_key()),
             certs.issue_certificate(centre, "centre-1", "kiosk-1", "kiosk", kiosk.public_key())]
    payload = _payload(60)
    fields = dict(attempt_id="att-1", centre_id="centre-1", kiosk_id="kiosk-1", form_id="F1", form_version=1,
                  package_id="pkg-1", kiosk_signing_key=kiosk, chain=chain, results_public=results.public_key())
    payload_bytes = canonical_dumps(payload)
    info = b"bench"
    count, rounds = (20, 3) if quick else (200, 7)

    def raw_seal():
        kiosk.sign(payload_bytes)
        return _HYBRID.encrypt(payload_bytes, results.public_key().native, info=info)

    header_like = b"h" * 420  # a signed header payload is about this size

    def raw_seal_format():  # the primitive calls the format itself makes: two signatures, one seal
        kiosk.sign(payload_bytes)
        kiosk.sign(header_like)
        return _HYBRID.encrypt(payload_bytes, results.public_key().native, info=info)

    seal_ours, seal_raw = _interleaved(lambda: envelope.seal_envelope(payload, **fields), raw_seal, count, rounds)
    seal_ours2, seal_format = _interleaved(lambda: envelope.seal_envelope(payload, **fields), raw_seal_format,
                                           count, rounds)
    sealed = envelope.seal_envelope(payload, **fields)
    raw_ct, raw_sig, header_sig = raw_seal(), kiosk.sign(payload_bytes), kiosk.sign(header_like)
    kiosk_public = kiosk.public_key()

    def raw_open():
        plain = _HYBRID.decrypt(raw_ct, results.native, info=info)
        kiosk_public.verify(raw_sig, plain)

    def raw_open_format():
        kiosk_public.verify(header_sig, header_like)
        raw_open()

    def ours_open():
        envelope.open_envelope(sealed, results, central.public_key())

    open_ours, open_raw = _interleaved(ours_open, raw_open, count, rounds)
    open_ours2, open_format = _interleaved(ours_open, raw_open_format, count, rounds)
    note = f"payload {len(payload_bytes):,} B, envelope {len(sealed):,} B, ML-KEM-768+X25519"
    return [
        Figure(BENCH, "envelope seal", seal_ours * 1e6, "us/op", "Ed25519 sign + HPKE seal",
               seal_raw * 1e6, GOAL, f"{1 / seal_ours:,.0f} envelopes/s; {note}"),
        Figure(BENCH, "envelope seal (format's own primitives)", seal_ours2 * 1e6, "us/op",
               "2 Ed25519 signs (payload, header) + HPKE seal", seal_format * 1e6, GOAL,
               "isolates JSON, base64, hashing and checks from the second signature the format requires"),
        Figure(BENCH, "envelope open + verify", open_ours * 1e6, "us/op", "HPKE open + Ed25519 verify",
               open_raw * 1e6, GOAL, f"{1 / open_ours:,.0f} envelopes/s; chain of 2 certs (cached); {note}"),
        Figure(BENCH, "envelope open (format's own primitives)", open_ours2 * 1e6, "us/op",
               "2 Ed25519 verifies (header, payload) + HPKE open", open_format * 1e6, GOAL,
               "isolates strict JSON parsing, base64, hashing and checks"),
    ]


def package_figures(quick: bool) -> list[Figure]:
    central = keys.generate_signing_key()
    centre = keys.generate_hpke_key()
    size = 20 * 1024 * 1024
    content = os.urandom(size)
    now = utc_now()
    data, _ = package.build_form_package(content, package_id="pkg-1", form_id="F1", form_version=1, scheme_id="S1",
                                         centre_id="centre-1", opens=now - timedelta(hours=1),
                                         closes=now + timedelta(hours=1), signing_key=central,
                                         centre_hpke_public=centre.public_key())
    issuer = central.public_key()
    pkg = package.read_form_package(data, issuer)
    key = package.unwrap_content_key(pkg, centre)
    ciphertext = bytes(pkg.ciphertext)
    nonce, body, aad = ciphertext[:12], ciphertext[12:], package._content_aad(pkg.manifest_bytes)
    aead = AESGCM(key)
    count, rounds = (2, 3) if quick else (5, 7)
    ours, raw = _interleaved(lambda: package.open_form_package(data, issuer, centre),
                             lambda: aead.decrypt(nonce, body, aad), count, rounds)
    return [Figure(BENCH, "open 20 MB form package", ours * 1e3, "ms/op", "AES-256-GCM decrypt, same bytes",
                   raw * 1e3, GOAL, "zip layout check + manifest signature + HPKE unwrap + decrypt")]


def store_commit_figures(quick: bool) -> list[Figure]:
    """Commit latency of one durable row through exam_core.store vs raw sqlite3 with the same pragmas.

    Both sides: WAL, synchronous=FULL, busy timeout, foreign keys, one 256-byte row per
    ``BEGIN IMMEDIATE`` transaction, in the same directory. Samples alternate between the two so
    disk and CPU noise hit both alike. Ours adds the write lock and parameter building of
    ``insert_durably``; the fsync dominates both.
    """
    count = 300 if quick else 3000
    payload = os.urandom(256)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "busy_timeout = 5000", "foreign_keys = ON"):
            raw.execute(f"PRAGMA {pragma}")
        raw.execute(_ROWS_SQL)
        db = open_db(Path(tmp) / "store.db", synchronous="FULL", migrations=[Migration(1, "rows", _ROWS_SQL)])

        def raw_commit() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO rows (payload) VALUES (?)", (payload,))
            raw.execute("COMMIT")

        ours_s: list[float] = []
        raw_s: list[float] = []
        for _ in range(count):
            ours_s += time_calls(lambda: insert_durably(db, "rows", {"payload": payload}), 1)
            raw_s += time_calls(raw_commit, 1)
        raw.close()
        db.close()
    note = f"{count} commits each; p99 is noisy on a shared disk"
    return [Figure(BENCH, f"store commit p{pct} (FULL, 1 row/txn)", percentile(ours_s, pct) * 1e6, "us",
                   f"raw sqlite3 commit p{pct}, same pragmas", percentile(raw_s, pct) * 1e6, GOAL, note)
            for pct in (50, 99)]


def run(quick: bool) -> list[Figure]:
    return [*envelope_figures(quick), *package_figures(quick), *store_commit_figures(quick)]
