"""A central body whose bank holds a scheme with two forms of dichotomous items and whose results
store holds scored attempts simulated from a 2PL with known parameters: what ``analyze --form
--irt --write-params``, standard setting, stored equatings and ``review-exam`` read.

Bank rows and scored attempts are written with the product's own table definitions (as
tests/support/central_world.py does for the bank): these tests are about psychometrics, not about
intake, whose own tests seal and open real envelopes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.bank.schema import forms, items, schemes
from item_bank_sync.results.schema import attempts, envelopes, response_scores
from tests.support.central_db import central_db

SCHEME = ("S2", 1)
N_ITEMS = 12
ITEM_IDS = [f"I{j:02d}" for j in range(1, N_ITEMS + 1)]
TRUE_A = np.linspace(0.7, 1.8, N_ITEMS)
TRUE_B = np.linspace(-1.5, 1.5, N_ITEMS)


@dataclass
class FormWorld:
    data_dir: Path
    theta: dict[str, np.ndarray]


def _key(item_id: str) -> str:
    return json.dumps({"item_id": item_id, "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
         "template": "match_correct", "correct": "A"}]})


def _bank(data_dir: Path, form_ids: list[str], cut_percent: float) -> None:
    now = format_time(utc_now())
    with central_db(data_dir).bank.begin() as conn:
        conn.execute(insert(items), [{"item_id": i, "version": 1, "content_hash": "0" * 64, "status": "approved",
                                      "title": i, "interaction_types": "choice", "source": "test",
                                      "source_format": "yaml", "item_json": "{}", "key_json": _key(i),
                                      "created_at": now, "created_by": "test"} for i in ITEM_IDS])
        conn.execute(insert(schemes).values(scheme_id=SCHEME[0], version=SCHEME[1], title="Scheme 2",
                                            scheme_json=json.dumps({"cut_score_percent": cut_percent}),
                                            source_text="", created_at=now))
        for form_id in form_ids:
            doc = {"form_id": form_id, "version": 1, "scheme_id": SCHEME[0], "scheme_version": SCHEME[1],
                   "title": form_id, "duration_seconds": 3600,
                   "items": [{"item_id": i, "version": 1} for i in ITEM_IDS]}
            conn.execute(insert(forms).values(form_id=form_id, version=1, scheme_id=SCHEME[0],
                                              scheme_version=SCHEME[1], build_id="b", seed=1,
                                              form_json=json.dumps(doc), created_at=now))


def _attempts(data_dir: Path, form_id: str, theta: np.ndarray, shift: float, seed: int) -> None:
    """Scored attempts of ``form_id``: 2PL responses, items ``shift`` logits harder than TRUE_B."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-TRUE_A * (theta[:, None] - TRUE_B - shift)))
    x = (rng.random(p.shape) < p).astype(int)
    now = format_time(utc_now())
    env, att, sco = [], [], []
    for n, row in enumerate(x):
        aid = f"{form_id}-{n:05d}"
        env.append({"sha256": f"{aid}-sha", "centre_id": "c1", "attempt_id": aid, "status": "accepted",
                    "reason": "", "receipt": b"r", "received_at": now})
        att.append({"attempt_id": aid, "envelope_sha256": f"{aid}-sha", "candidate_id": f"cand-{aid}",
                    "form_id": form_id, "form_version": 1, "package_id": "p", "centre_id": "c1", "kiosk_id": "k",
                    "submitted_at": now, "journal_head": "h", "attempt_json": "{}", "total": float(row.sum()),
                    "max_total": float(N_ITEMS), "cut_score": None, "passed": None, "scoring_status": "scored",
                    "scored_at": now})
        sco += [{"attempt_id": aid, "item_id": i, "response_id": "RESPONSE", "template": "match_correct",
                 "score": float(v), "max_score": 1.0} for i, v in zip(ITEM_IDS, row)]
    with central_db(data_dir).results.begin() as conn:
        conn.execute(insert(envelopes), env)
        conn.execute(insert(attempts), att)
        conn.execute(insert(response_scores), sco)


def build_form_world(data_dir: Path, n: int = 600, cut_percent: float = 60.0) -> FormWorld:
    """Forms FA (reference) and FB (half a logit harder), ``n`` candidates each from N(0, 1)."""
    _bank(data_dir, ["FA", "FB"], cut_percent)
    rng = np.random.default_rng(20261206)
    theta = {"FA": rng.standard_normal(n), "FB": rng.standard_normal(n)}
    _attempts(data_dir, "FA", theta["FA"], 0.0, 1)
    _attempts(data_dir, "FB", theta["FB"], 0.5, 2)
    return FormWorld(data_dir, theta)


def write_matrix(path: Path, scores: np.ndarray, items: list[str], prefix: str = "c") -> Path:
    """A 0/1 matrix as the CSV `analyze --matrix` reads (candidate_id, then one column per item)."""
    lines = ["candidate_id," + ",".join(items)]
    lines += [f"{prefix}{i}," + ",".join(map(str, row)) for i, row in enumerate(scores.astype(int))]
    path.write_text("\n".join(lines) + "\n")
    return path


def matrix_with_totals(freq: list[int], k: int) -> np.ndarray:
    """Guttman-pattern rows with the given frequency of each total score (k items)."""
    totals = np.repeat(np.arange(len(freq)), freq)
    return (np.arange(k)[None, :] < totals[:, None]).astype(int)
