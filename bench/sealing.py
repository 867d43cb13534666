"""Cost of Invigil's sealing against the raw primitives it is built from, measured in one run.

* sealing a response envelope vs the primitives the format needs: one raw Ed25519 signature over
  the exact header message and one raw HPKE seal of the payload bytes with the same ``info``;
* opening (and fully verifying) an envelope vs that raw HPKE open + Ed25519 verification, also
  with a 1,000-serial revocation list as central intake passes it; beside them, the share of the
  baseline that stdlib JSON encoding and jsonio's strict parsing of the payload take alone;
* opening a 20 MB form package (layout, manifest signature, key unwrap, decrypt) vs raw AES-256-GCM
  decrypt of the same ciphertext.

Every figure is a cost (microseconds or milliseconds per operation), so ``ratio`` = our cost / raw
cost; the goal is <= 1.5x.

* committing one durable row through ``exam_core.store`` (p50, p99) vs raw sqlite3 with the
  same pragmas (WAL, synchronous=FULL).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from collections.abc import Callable

from cryptography.hazmat.primitives import hpke as raw_hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.common import Figure, percentile, time_calls
from exam_core import certs, envelope, keys, package, purposes, signing
from exam_core import limits
from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.timestamps import utc_now
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


def _raw_envelope_primitives(sealed: bytes, kiosk, results, payload_bytes: bytes, context_parts: list[str]):
    """The primitive calls a version 2 envelope really needs, on inputs of the real sizes.

    Seal: one Ed25519 signature over the exact header message (``invigil/v1 NUL envelope-header
    NUL`` + the header payload taken from ``sealed``) and one HPKE seal of the payload bytes with the
    envelope's real ``info``. Open: that HPKE open and that Ed25519 verification. Nothing else (no
    JSON, base64, hashing or certificate work) is in the baseline.
    """
    header_doc = signing.read_unverified(envelope.read_unverified_header(sealed).header_bytes)
    message = purposes.bind(purposes.ENVELOPE_HEADER) + header_doc.payload_bytes
    info = purposes.bind(purposes.RESPONSE_ENVELOPE, purposes.context(*context_parts))
    recipient, kiosk_public = results.public_key().native, kiosk.public_key()

    def raw_seal():
        kiosk.sign(message)
        return _HYBRID.encrypt(payload_bytes, recipient, info=info)

    raw_ct, raw_sig = raw_seal(), kiosk.sign(message)

    def raw_open():
        plain = _HYBRID.decrypt(raw_ct, results.native, info=info)
        kiosk_public.verify(raw_sig, message)
        return plain

    return raw_seal, raw_open, len(message)


def envelope_figures(quick: bool) -> list[Figure]:
    central, centre, kiosk = (keys.generate_signing_key() for _ in range(3))
    results = keys.generate_hpke_key()
    chain = [certs.issue_certificate(central, "central", "centre-1", "centre", centre.public_key()),
             certs.issue_certificate(centre, "centre-1", "kiosk-1", "kiosk", kiosk.public_key())]
    revocations = [certs.issue_revocation_list(central, "central", [f"{i:032x}" for i in range(1000)], 1)]
    payload = _payload(60)
    ids = {"envelope_id": "env-1", "attempt_id": "att-1", "centre_id": "centre-1", "kiosk_id": "kiosk-1",
           "form_id": "F1", "package_id": "pkg-1"}
    fields = dict(**ids, form_version=1, kiosk_signing_key=kiosk, chain=chain, results_public=results.public_key())
    payload_bytes = canonical_dumps(payload)
    count, rounds = (20, 3) if quick else (200, 7)
    sealed = envelope.seal_envelope(payload, **fields)
    context_parts = [envelope.ENVELOPE_FORMAT, str(envelope.VERSION), *ids.values(), "1", keys.key_id(kiosk)]
    raw_seal, raw_open, message_size = _raw_envelope_primitives(sealed, kiosk, results, payload_bytes, context_parts)
    assert envelope.open_envelope(sealed, results, central.public_key())[1] == payload
    assert raw_open() == payload_bytes
    seal_ours, seal_raw = _interleaved(lambda: envelope.seal_envelope(payload, **fields), raw_seal, count, rounds)
    open_ours, open_raw = _interleaved(lambda: envelope.open_envelope(sealed, results, central.public_key()),
                                       raw_open, count, rounds)
    encode_s, encode_raw = _interleaved(lambda: canonical_dumps(payload), raw_seal, count, rounds)
    parse_s, parse_raw = _interleaved(lambda: loads_strict(payload_bytes, max_bytes=limits.ENVELOPE_PAYLOAD_MAX_BYTES),
                                      raw_open, count, rounds)
    intake_ours, intake_raw = _interleaved(
        lambda: envelope.open_envelope(sealed, results, central.public_key(), revocations), raw_open, count, rounds)
    note = (f"payload {len(payload_bytes):,} B, envelope {len(sealed):,} B (v{envelope.VERSION}), ML-KEM-768+X25519; "
            f"signed header message {message_size} B")
    return [
        Figure(BENCH, "envelope seal", seal_ours * 1e6, "us/op",
               "Ed25519 sign (header message) + HPKE seal (payload)", seal_raw * 1e6, GOAL,
               f"{1 / seal_ours:,.0f} envelopes/s; ours adds JSON encoding of the payload dict; {note}"),
        Figure(BENCH, "envelope open + verify", open_ours * 1e6, "us/op",
               "HPKE open (payload) + Ed25519 verify (header message)", open_raw * 1e6, GOAL,
               f"{1 / open_ours:,.0f} envelopes/s; ours adds strict JSON parsing, base64, SHA-256 and the "
               f"chain of 2 certificates (cached after the first envelope); {note}"),
        Figure(BENCH, "envelope open + verify, 1,000-serial revocation list", intake_ours * 1e6, "us/op",
               "HPKE open (payload) + Ed25519 verify (header message)", intake_raw * 1e6, GOAL,
               "central intake's call: the list's signature and parsing are cached with the chain"),
        Figure(BENCH, "  of which: payload to canonical JSON (stdlib json)", encode_s * 1e6, "us/op",
               "Ed25519 sign (header message) + HPKE seal (payload)", encode_raw * 1e6, "info: share",
               "jsonio.canonical_dumps of the payload dict: the part of the seal the envelope format does not choose"),
        Figure(BENCH, "  of which: payload strict JSON parse (jsonio)", parse_s * 1e6, "us/op",
               "HPKE open (payload) + Ed25519 verify (header message)", parse_raw * 1e6, "info: share",
               "jsonio.loads_strict of the opened payload (duplicate keys, depth, NaN, surrogates refused)"),
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
    nonce, body, aad = ciphertext[:12], ciphertext[12:], package.content_aad(pkg.manifest_fields)
    aead = AESGCM(key)
    count, rounds = (2, 3) if quick else (5, 7)
    ours, raw = _interleaved(lambda: package.open_form_package(data, issuer, centre),
                             lambda: (hashlib.sha256(ciphertext).digest(), aead.decrypt(nonce, body, aad)),
                             count, rounds)
    return [Figure(BENCH, "open 20 MB form package", ours * 1e3, "ms/op",
                   "SHA-256 + AES-256-GCM decrypt, same bytes",
                   raw * 1e3, GOAL, "zip layout check + manifest signature + content SHA-256 + HPKE unwrap + decrypt")]


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
