"""Central body throughput against raw baselines measured in the same run.

* **Intake**: envelopes verified (chain kiosk -> centre -> central, header, inner signature),
  opened (HPKE) and scored per second on one core, against the raw cryptography those steps
  cannot avoid: four Ed25519 verifications (centre certificate, kiosk certificate, header,
  payload) and one HPKE open of the same ciphertext, called directly on ``cryptography``. Goal:
  at least half the raw rate (ratio >= 0.5). The full durable intake (SQLite ``synchronous=FULL``
  commit and a signed receipt per envelope) is reported beside it for information.
* **Item analysis** of 100,000 candidates x 200 items: seconds for the full analysis (goal < 2 s),
  against one raw pass over the same matrix (float conversion and one matrix-vector product).

``OPENBLAS_CORETYPE`` (see the environment notes) can slow numpy's BLAS kernels; the analysis uses
one matrix-vector product, so its effect here is small. This benchmark does not change it.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import timedelta
from typing import Any
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives import hpke as raw_hpke

from bench.common import Figure
from exam_core import certs, envelope, keys
from exam_core.jsonio import b64d
from exam_core.model import AnswerKey, Attempt, Response
from exam_core.result import AttemptResult, SealedJournalHead, Timings
from exam_core.timestamps import format_time, utc_now

BENCH = "central"
ITEMS = 60


def _rate(fn: Callable[[], object], count: int, rounds: int) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        samples.append(count / (time.perf_counter() - start))
    return statistics.median(samples)


def _pki():
    central, centre, kiosk = (keys.generate_signing_key() for _ in range(3))
    results = keys.generate_hpke_key()
    chain = [certs.issue_certificate(central, "central", "centre-1", "centre", centre.public_key()),
             certs.issue_certificate(centre, "centre-1", "kiosk-1", "kiosk", kiosk.public_key())]
    return central, centre, kiosk, results, chain


def _keys() -> list[AnswerKey]:
    return [AnswerKey.from_dict({"item_id": f"item-{i:03d}", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
         "template": "match_correct", "correct": "A"}]}) for i in range(ITEMS)]


def _payload(attempt_id: str) -> bytes:
    """A sealed attempt result of ``ITEMS`` answered items (``exam_core.result``, as a kiosk builds it)."""
    responses = tuple(Response(attempt_id=attempt_id, seq=i + 1, item_id=f"item-{i:03d}", response_id="RESPONSE",
                               value="ABCD"[i % 4], wall_time="2026-11-26T10:00:00Z", elapsed_ms=20_000 * (i + 1))
                      for i in range(ITEMS))
    attempt = Attempt(attempt_id=attempt_id, candidate_id="cand-1", form_id="F1", form_version=1, package_id="pkg-1",
                      centre_id="centre-1", kiosk_id="kiosk-1", option_seed=1)
    return AttemptResult(attempt=attempt, responses=responses, journal_head=SealedJournalHead(ITEMS + 5, "ab" * 32),
                         timings=Timings(item_time_ms={f"item-{i:03d}": 20_000 for i in range(ITEMS)})).to_bytes()


def _raw_open(data: bytes, central, centre, kiosk, results) -> Callable[[], object]:
    """The cryptography of verifying and opening one version 2 envelope from scratch, straight on
    pyca/cryptography: its three signed byte strings (centre certificate, kiosk certificate, header)
    verified by their signers' keys and an HPKE open of a ciphertext of the same size.

    ``open_envelope`` caches a verified chain (keyed by its exact bytes), as intake of many
    envelopes from one kiosk does, so ours may skip two of these verifications; the baseline keeps
    them, as a verifier that has seen nothing before must.
    """
    outer = json.loads(data)
    documents = [(central, b64d(outer["chain"][0])), (centre, b64d(outer["chain"][1])),
                 (kiosk, b64d(outer["header"]))]
    plaintext = b"x" * (len(b64d(outer["ciphertext"])) - 1120 - 16)   # minus ML-KEM enc and tag
    signed = [(key.public_key(), doc, key.sign(doc)) for key, doc in documents]
    suite = raw_hpke.Suite(raw_hpke.KEM.MLKEM768_X25519, raw_hpke.KDF.HKDF_SHA256, raw_hpke.AEAD.AES_256_GCM)
    sealed = suite.encrypt(plaintext, results.public_key().native, info=b"bench")

    def raw() -> None:
        for public, doc, signature in signed:
            public.verify(signature, doc)
        suite.decrypt(sealed, results.native, info=b"bench")
    return raw


def intake_figures(quick: bool) -> list[Figure]:
    from item_bank_sync.results.envelope import open_envelope
    from item_bank_sync.results.scoring import score_attempt

    central, centre, kiosk, results, chain = _pki()
    data = envelope.seal_envelope_bytes(_payload("att-1"), attempt_id="att-1", centre_id="centre-1",
                                        kiosk_id="kiosk-1", form_id="F1", form_version=1, package_id="pkg-1",
                                        kiosk_signing_key=kiosk, chain=chain, results_public=results.public_key())
    answer_keys = _keys()
    root = central.public_key()

    def ours() -> None:
        opened = open_envelope(data, root, results)
        score_attempt(answer_keys, opened.responses)

    raw = _raw_open(data, central, centre, kiosk, results)
    count, rounds = (20, 3) if quick else (150, 5)
    ours_rate, raw_rate = [], []
    for _ in range(rounds):
        ours_rate.append(_rate(ours, count, 1))
        raw_rate.append(_rate(raw, count, 1))
    ours_v, raw_v = statistics.median(ours_rate), statistics.median(raw_rate)
    figures = [Figure(BENCH, f"envelopes verified+opened+scored ({ITEMS} items) per s, 1 core", ours_v, "envelopes/s",
                      "raw 3x Ed25519 verify (chain + header) + HPKE open", raw_v, ">= 0.5x raw rate",
                      note=f"ratio {ours_v / raw_v:.2f} of the raw rate")]
    figures.append(_durable_intake_figure(quick))
    return figures


def _durable_intake_figure(quick: bool) -> Figure:
    """Full intake incl. durable commit and signed receipt, through the real Intake on temp files."""
    from item_bank_sync.db import open_central
    from item_bank_sync.results.intake import Intake
    from item_bank_sync.trust.identity import CentralKeys

    central, _, kiosk, results, chain = _pki()
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_central(tmp)  # the data directory's SQLite files, as a body without --db
        _bank_rows(stores.bank)
        intake = Intake(stores.bank, stores.results, CentralKeys(central, results, "central"), [])
        count = 10 if quick else 60
        envelopes = [envelope.seal_envelope_bytes(
            _payload(f"att-{i}"), attempt_id=f"att-{i}", centre_id="centre-1", kiosk_id="kiosk-1", form_id="F1",
            form_version=1, package_id="pkg-1", kiosk_signing_key=kiosk, chain=chain,
            results_public=results.public_key()) for i in range(count)]
        start = time.perf_counter()
        statuses = [intake.receive(e, "centre-1").status for e in envelopes]
        rate = count / (time.perf_counter() - start)
        assert statuses == ["accepted"] * count, statuses[:3]
        stores.dispose()
    return Figure(BENCH, "full intake incl. FULL-durable commit + signed receipt", rate, "envelopes/s",
                  note="information: dominated by fsync")


def _bank_rows(engine: Any) -> None:
    from sqlalchemy import insert

    from item_bank_sync.bank.schema import forms, items, packages, schemes
    from item_bank_sync.db.sql import write
    from item_bank_sync.trust.schema import centres

    with write(engine) as conn:
        for table, rows in _bank_row_values().items():
            conn.execute(insert({"items": items, "schemes": schemes, "forms": forms, "centres": centres,
                                 "packages": packages}[table]), rows)


def _bank_row_values() -> dict[str, list[dict[str, Any]]]:
    now = "2026-11-26T10:00:00Z"
    rows: dict[str, list[dict[str, Any]]] = {"items": []}
    for key in _keys():
        rows["items"].append({"item_id": key.item_id, "version": 1, "content_hash": "0" * 64, "status": "approved",
                              "title": key.item_id, "interaction_types": "choice", "source": "bench",
                              "source_format": "yaml", "item_json": "{}", "key_json": json.dumps(key.to_dict()),
                              "created_at": now, "created_by": "bench"})
    rows["schemes"] = [{"scheme_id": "S1", "version": 1, "title": "S",
                        "scheme_json": json.dumps({"cut_score_percent": 60}), "source_text": "", "created_at": now}]
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "F", "duration_seconds": 60,
            "items": [{"item_id": k.item_id, "version": 1} for k in _keys()]}
    rows["forms"] = [{"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "build_id": "b",
                          "seed": 1, "form_json": json.dumps(form), "created_at": now}]
    rows["centres"] = [{"centre_id": "centre-1", "name": "c", "signing_key_id": "x", "hpke_key_id": "x",
                            "request_json": "{}", "cert_serial": "x", "certificate": b"x", "not_after": now,
                            "enrolled_at": now}]
    rows["packages"] = [{"package_id": "pkg-1", "form_id": "F1", "form_version": 1, "centre_id": "centre-1",
                             "opens": format_time(utc_now() - timedelta(hours=1)),   # intake checks the window
                             "closes": format_time(utc_now() + timedelta(hours=8)),
                             "release_code_required": 0, "path": "p", "sha256": "0",
                             "created_at": now}]
    return rows


def analysis_figures(quick: bool) -> list[Figure]:
    from item_bank_sync.analysis.stats import analyze_scores

    n, k = (20_000, 200) if quick else (100_000, 200)
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(n, 1)).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    scores = (rng.random((n, k), dtype=np.float32) < 1 / (1 + np.exp(-(theta - b)))).astype(np.uint8)
    ids = [f"i{j}" for j in range(k)]
    rounds = 3 if quick else 5

    def raw() -> None:
        x = scores.astype(np.float64)
        x.T @ x.sum(axis=1)

    ours_t, raw_t = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        analyze_scores(scores, ids)
        ours_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        raw()
        raw_t.append(time.perf_counter() - start)
    return [Figure(BENCH, f"full item analysis {n:,} x {k}", statistics.median(ours_t), "s",
                   "raw float conversion + one mat-vec", statistics.median(raw_t), "< 2 s at 100,000 x 200")]


def run(quick: bool) -> list[Figure]:
    return intake_figures(quick) + analysis_figures(quick)
