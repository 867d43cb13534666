"""Integrity analysis on simulated sittings with planted copying, speeding and answer changing."""

from __future__ import annotations

import json

import numpy as np

from exam_core.model import AnswerKey
from item_bank_sync.results.integrity import (
    IntegrityThresholds,
    analyse_form,
    neighbours,
    seat_position,
    similarity_flags,
)
from tests.support.central_db import central_db, sql

N, K = 40, 30
OPTIONS = ["A", "B", "C", "D"]


def _keys() -> dict[str, AnswerKey]:
    return {f"i{j}": AnswerKey.from_dict({"item_id": f"i{j}", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
         "template": "match_correct", "correct": "A"}]}) for j in range(K)}


def _simulate(seed: int = 1) -> np.ndarray:
    """Answers (candidates x items, option letters): 2PL-like correctness, skewed wrong options."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(N, 1))
    right = rng.random((N, K)) < 1 / (1 + np.exp(-(theta - rng.normal(size=K))))
    wrong_probs = rng.dirichlet([2, 2, 2], size=K)
    answers = np.empty((N, K), dtype=object)
    for j in range(K):
        wrong = rng.choice(["B", "C", "D"], size=N, p=wrong_probs[j])
        answers[:, j] = np.where(right[:, j], "A", wrong)
    return answers


def _seats() -> list[str]:
    return [f"{'ABCDE'[i // 8]}{i % 8 + 1}" for i in range(N)]


def test_seat_map():
    assert seat_position("C4") == (3, 4) and seat_position("aa-2") == (27, 2) and seat_position("?") is None
    assert neighbours("B3", "C4") and neighbours("B3", "B2") and not neighbours("B3", "D3")
    assert not neighbours("B3", "")


def _store(db, answers: np.ndarray, times: dict[int, dict[str, int]], histories: dict[int, list[tuple[int, str]]]):
    seats = _seats()
    for row in range(N):
        aid = f"att-{row:02d}"
        db["envelopes"].insert({"sha256": f"{row:064x}", "centre_id": "c", "attempt_id": aid, "status": "accepted",
                                "receipt": b"r", "received_at": "2026-11-26T10:00:00Z"})
        item_times = times.get(row, {f"i{j}": 40_000 + 1000 * (j % 5) for j in range(K)})
        db["attempts"].insert({"attempt_id": aid, "envelope_sha256": f"{row:064x}", "candidate_id": f"c{row}",
                               "form_id": "F", "form_version": 1, "package_id": "p", "centre_id": "c",
                               "kiosk_id": f"k{row}", "seat": seats[row], "submitted_at": "2026-11-26T11:00:00Z",
                               "journal_head": "0" * 64, "attempt_json": "{}",
                               "item_time_json": json.dumps(item_times)})
        seq = 0
        for j in range(K):
            for item_j, value in histories.get(row, []):
                if item_j == j:
                    seq += 1
                    db["responses"].insert({"attempt_id": aid, "seq": seq, "item_id": f"i{j}",
                                            "response_id": "RESPONSE",
                                            "value_json": json.dumps(value), "wall_time": "2026-11-26T10:00:00Z",
                                            "elapsed_ms": seq})
            seq += 1
            db["responses"].insert({"attempt_id": aid, "seq": seq, "item_id": f"i{j}", "response_id": "RESPONSE",
                                    "value_json": json.dumps(answers[row, j]), "wall_time": "2026-11-26T10:00:00Z",
                                    "elapsed_ms": seq})
    db["incidents"].insert({"attempt_id": "att-01", "centre_id": "c", "kind": "gaze.away", "severity": "high",
                            "rule": "gaze_away", "at": "2026-11-26T10:20:00Z", "detail_json": "{}"})


def test_planted_patterns_are_flagged_and_tied_to_incidents(tmp_path):
    answers = _simulate()
    wrong0 = answers[0] != "A"
    answers[1] = np.where(np.random.default_rng(5).random(K) < 0.85, answers[0], answers[1])   # neighbour copies
    assert wrong0.sum() >= 5
    fast = {7: {f"i{j}": (900 if j < 12 else 40_000) for j in range(K)}}                       # 12 items in < 1 s
    # candidate 20 changes 8 answers from a wrong option to the key; others change at random
    histories = {20: [(j, "B") for j in range(8)]}
    answers[20, :8] = "A"
    rng = np.random.default_rng(8)
    for row in range(21, 36):
        histories[row] = [(int(j), str(rng.choice(OPTIONS))) for j in rng.choice(K, 3, replace=False)]
    results = central_db(tmp_path / "central").results
    db = sql(results)
    _store(db, answers, fast, histories)
    flags = analyse_form(results, _keys(), "F", 1)
    kinds = {(f.kind, f.attempt_id, f.other_attempt_id) for f in flags}
    assert ("similarity", "att-00", "att-01") in kinds
    similarity = [f for f in flags if f.kind == "similarity"]
    assert similarity[0].other_attempt_id == "att-01" and similarity[0].detail["neighbours"]
    assert len(similarity) <= 2                                   # chance alone flags (almost) nobody
    assert ("too_fast", "att-07", None) in kinds
    assert ("wrong_to_right", "att-20", None) in kinds
    assert not any(f.kind == "wrong_to_right" and f.attempt_id != "att-20" for f in flags)
    copy_flag = next(f for f in similarity if f.other_attempt_id == "att-01")
    assert copy_flag.incidents == [{"attempt_id": "att-01", "kind": "gaze.away", "severity": "high",
                                    "rule": "gaze_away", "at": "2026-11-26T10:20:00Z"}]
    assert db.execute("SELECT COUNT(*) FROM integrity_flags").fetchone()[0] == len(flags)
    analyse_form(results, _keys(), "F", 1)                         # re-running replaces, not duplicates
    assert db.execute("SELECT COUNT(*) FROM integrity_flags").fetchone()[0] == len(flags)



def test_a_flag_on_an_attempt_a_proctor_ended_says_so(tmp_path):
    """An attempt a proctor ended stays in the analysis (misconduct may be why it was ended) and each
    flag naming it carries the proctor's reason, stored with the flag; other flags carry nothing."""
    answers = _simulate()
    answers[1] = np.where(np.random.default_rng(5).random(K) < 0.85, answers[0], answers[1])   # neighbour copies
    fast = {7: {f"i{j}": (900 if j < 12 else 40_000) for j in range(K)}}
    results = central_db(tmp_path / "central").results
    db = sql(results)
    _store(db, answers, fast, {})
    db.execute("UPDATE attempts SET ended_by = 'proctor_end', end_reason = 'candidate taken ill'"
               " WHERE attempt_id = 'att-01'")
    flags = analyse_form(results, _keys(), "F", 1)
    copy_flag = next(f for f in flags if f.kind == "similarity" and f.other_attempt_id == "att-01")
    assert copy_flag.detail["ended_by_proctor"] == {"att-01": "candidate taken ill"}
    fast_flag = next(f for f in flags if f.kind == "too_fast" and f.attempt_id == "att-07")
    assert "ended_by_proctor" not in fast_flag.detail
    stored = db.execute("SELECT detail_json FROM integrity_flags WHERE other_attempt_id = 'att-01'").fetchone()
    assert json.loads(stored[0])["ended_by_proctor"] == {"att-01": "candidate taken ill"}

def test_distant_pairs_need_stronger_evidence():
    """The same moderate similarity is flagged for neighbours and not for distant seats."""
    rng = np.random.default_rng(10)
    n, k = 30, 40
    wrong = np.where(rng.random((n, k)) < 0.4, rng.integers(0, 3, size=(n, k)), -1)
    copy = rng.random(k) < 0.3
    wrong[1] = np.where(copy & (wrong[0] >= 0), wrong[0], wrong[1])
    ids = [f"a{i}" for i in range(n)]
    near = ["A1", "A2"] + [f"Z{i + 10}" for i in range(n - 2)]
    far = ["A1", "H9"] + [f"Z{i + 10}" for i in range(n - 2)]
    t = IntegrityThresholds()
    z = [f.score for f in similarity_flags(ids, near, wrong, t) if {f.attempt_id, f.other_attempt_id} == {"a0", "a1"}]
    assert z and t.z_neighbour < z[0] < t.z_other
    assert not [f for f in similarity_flags(ids, far, wrong, t) if {f.attempt_id, f.other_attempt_id} == {"a0", "a1"}]


def test_no_choice_items_no_similarity():
    assert similarity_flags(["a", "b"], ["A1", "A2"], np.full((2, 3), -1), IntegrityThresholds()) == []
