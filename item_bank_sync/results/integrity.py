"""Integrity analysis: patterns worth a person's look, never a decision by themselves.

Three statistics, each a one-sided z test against what chance would produce, each flag carrying
the proctors' alerts and incidents recorded for the same attempts so a reviewer sees the whole
picture at once:

**Response similarity** (choice items only). For two candidates, take the items *both* answered
wrongly; by chance they pick the same wrong option of item ``i`` with probability
``p_i = sum_o s_io^2``, where ``s_io`` is the share of option ``o`` among all wrong answers to ``i``.
The number of identical wrong answers is then a sum of independent Bernoullis with mean
``sum p_i`` and variance ``sum p_i (1 - p_i)``; a pair is flagged when ``z`` exceeds the threshold
and at least ``min_matches`` identical wrong answers were seen. Conditioning on both being wrong
keeps two weak candidates from being flagged for merely being weak. All pairs are computed with
matrix products. Seat-map weighting: neighbours (seats within one row and one column, e.g. B3
and C4) are tested at ``z_neighbour``; other pairs, far more numerous, at the stricter ``z_other``,
and neighbours are listed first.

**Too fast**: an answered item on which the candidate spent less than ``fast_share`` of that
item's median time across candidates (and under ``fast_ms_floor``); an attempt is flagged when
such items are at least ``fast_min_items``, with how many of them were right.

**Wrong-to-right changes**: from the journaled answer history, each change of a slot is classed
by the scores of the value before and after. With ``q`` the share of wrong-to-right among all
*other* attempts' changes on the form, an attempt's count is Binomial(changes, q); flagged above
``z_changes`` with at least ``min_wr`` such changes. (This needs the kiosk's answer history in the
envelope; with final answers only there are no changes to count.)

**Attempts a proctor ended** stay in the analysis but every flag naming one says so
(``detail["ended_by_proctor"]``: attempt id -> the proctor's reason). Why not leave them out, as
item statistics do: a proctor may end an exam precisely because of suspected misconduct, and that
attempt's answers are then the evidence. Why label them: such an attempt was cut short (fewer
answers, possibly rushed ones before a candidate was taken ill), so its flag weighs differently.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, insert, select

from exam_core.timestamps import format_time, utc_now
from exam_core.model import AnswerKey
from item_bank_sync.db.sql import write
from item_bank_sync.results.schema import attempts as attempts_table
from item_bank_sync.results.review import PROCTOR_END
from item_bank_sync.results.schema import incidents, integrity_flags, responses
from item_bank_sync.results.scoring import score_response
import itertools

SEAT_RE = re.compile(r"^\s*([A-Za-z]+)\s*-?\s*(\d+)\s*$")


@dataclass(frozen=True)
class IntegrityThresholds:
    z_neighbour: float = 3.09      # one-sided p < .001
    z_other: float = 4.26          # one-sided p < .00001: many more pairs are not neighbours
    min_matches: int = 3
    fast_share: float = 0.1
    fast_ms_floor: int = 5_000
    fast_min_items: int = 5
    z_changes: float = 3.09
    min_wr: int = 3


@dataclass
class Flag:
    kind: str
    attempt_id: str
    score: float
    detail: dict[str, Any]
    other_attempt_id: str | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "attempt_id": self.attempt_id, "other_attempt_id": self.other_attempt_id,
                "z": round(self.score, 3), "detail": self.detail, "incidents": self.incidents}


def seat_position(seat: str) -> tuple[int, int] | None:
    """``"C4"`` -> (row 3, column 4); None for a seat the map cannot place."""
    match = SEAT_RE.match(seat or "")
    if not match:
        return None
    row = 0
    for ch in match.group(1).upper():
        row = row * 26 + ord(ch) - ord("A") + 1
    return row, int(match.group(2))


def neighbours(a: str, b: str) -> bool:
    pa, pb = seat_position(a), seat_position(b)
    return pa is not None and pb is not None and max(abs(pa[0] - pb[0]), abs(pa[1] - pb[1])) <= 1


def similarity_flags(attempt_ids: list[str], seats: list[str], wrong_choice: np.ndarray,
                     t: IntegrityThresholds) -> list[Flag]:
    """``wrong_choice`` is candidates x items of option codes chosen wrongly (-1: right or no answer)."""
    n, k = wrong_choice.shape
    if n < 2 or k == 0:
        return []
    n_options = int(wrong_choice.max()) + 1 if wrong_choice.size and wrong_choice.max() >= 0 else 0
    if n_options == 0:
        return []
    wrong = (wrong_choice >= 0).astype(np.float64)
    # one-hot of (item, wrong option): identical wrong answers are a dot product
    onehot = np.zeros((n, k * n_options))
    rows, items = np.nonzero(wrong_choice >= 0)
    onehot[rows, items * n_options + wrong_choice[rows, items]] = 1.0
    shares = onehot.sum(axis=0).reshape(k, n_options)
    totals = shares.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_same = np.nan_to_num(((shares / totals) ** 2).sum(axis=1))
    matches = onehot @ onehot.T
    expected = (wrong * p_same) @ wrong.T
    variance = (wrong * p_same * (1 - p_same)) @ wrong.T
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (matches - expected) / np.sqrt(variance)
    flags = []
    for a, b in zip(*np.triu_indices(n, 1)):
        if matches[a, b] < t.min_matches or not np.isfinite(z[a, b]):
            continue
        near = neighbours(seats[a], seats[b])
        if z[a, b] > (t.z_neighbour if near else t.z_other):
            flags.append(Flag("similarity", attempt_ids[a], float(z[a, b]), {
                "identical_wrong": int(matches[a, b]), "expected": round(float(expected[a, b]), 3),
                "seats": [seats[a], seats[b]], "neighbours": near}, attempt_ids[b]))
    flags.sort(key=lambda f: (not f.detail["neighbours"], -f.score))
    return flags


def fast_flags(attempt_ids: list[str], times: np.ndarray, answered: np.ndarray, right: np.ndarray,
               t: IntegrityThresholds) -> list[Flag]:
    """``times`` candidates x items in ms (NaN unknown); ``answered``/``right`` booleans."""
    if times.size == 0:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # an item nobody answered has no median
        median = np.nanmedian(np.where(answered, times, np.nan), axis=0)
    limit = np.minimum(median * t.fast_share, t.fast_ms_floor)
    fast = answered & (times < limit)
    flags = []
    for row in np.nonzero(fast.sum(axis=1) >= t.fast_min_items)[0]:
        count = int(fast[row].sum())
        flags.append(Flag("too_fast", attempt_ids[row], float(count), {
            "fast_items": count, "fast_and_right": int((fast[row] & right[row]).sum()),
            "rule": f"< {t.fast_share:.0%} of the item's median time and < {t.fast_ms_floor} ms"}))
    return flags


def change_flags(attempt_ids: list[str], wr: np.ndarray, changes: np.ndarray, t: IntegrityThresholds) -> list[Flag]:
    """Leave-one-out: each attempt is compared with the rate of wrong-to-right among the *others*
    changes, so a heavy changer does not raise the bar it is measured against."""
    others_wr = wr.sum() - wr
    others_changes = changes.sum() - changes
    with np.errstate(invalid="ignore", divide="ignore"):
        q = others_wr / others_changes
        z = (wr - changes * q) / np.sqrt(changes * q * (1 - q))
    usable = (others_changes > 0) & (q > 0) & (q < 1) & np.isfinite(z)
    flags = []
    for row in np.nonzero(usable & (wr >= t.min_wr) & (z > t.z_changes))[0]:
        flags.append(Flag("wrong_to_right", attempt_ids[row], float(z[row]), {
            "wrong_to_right": int(wr[row]), "changes": int(changes[row]), "others_rate": round(float(q[row]), 4)}))
    return flags


# --- reading results.db ------------------------------------------------------------------------

def analyse_form(results: Engine, keys: dict[str, AnswerKey], form_id: str, form_version: int,
                 t: IntegrityThresholds = IntegrityThresholds()) -> list[Flag]:
    """Run the three analyses over a form's accepted attempts, store and return the flags."""
    a = attempts_table.c
    with results.connect() as conn:
        attempts = [dict(r) for r in conn.execute(
            select(a.attempt_id, a.seat, a.item_time_json, a.ended_by, a.end_reason)
            .where(a.form_id == form_id, a.form_version == form_version).order_by(a.attempt_id)).mappings()]
    ids = [a["attempt_id"] for a in attempts]
    item_ids = list(keys)
    histories = _histories(results, ids)
    finals = {aid: {slot: vals[-1] for slot, vals in h.items()} for aid, h in histories.items()}
    wrong_choice, answered, right = _choice_matrix(ids, item_ids, keys, finals)
    times = np.array([[json.loads(a["item_time_json"]).get(i, np.nan) for i in item_ids] for a in attempts],
                     dtype=np.float64).reshape(len(ids), len(item_ids))
    wr, changes = _changes(ids, keys, histories)
    flags = (similarity_flags(ids, [a["seat"] for a in attempts], wrong_choice, t)
             + fast_flags(ids, times, answered, right, t) + change_flags(ids, wr, changes, t))
    _label_ended(flags, {r["attempt_id"]: r["end_reason"] for r in attempts if r["ended_by"] == PROCTOR_END})
    _attach_incidents(results, flags)
    _store(results, ids, flags)
    return flags


def _label_ended(flags: list[Flag], ended: dict[str, str]) -> None:
    """Name, in each flag's detail, the attempts of it a proctor ended, with the reason (module doc)."""
    for flag in flags:
        cut_short = {aid: ended[aid] for aid in (flag.attempt_id, flag.other_attempt_id) if aid in ended}
        if cut_short:
            flag.detail["ended_by_proctor"] = cut_short


def _histories(results: Engine, ids: list[str]) -> dict[str, dict[tuple[str, str], list[Any]]]:
    out: dict[str, dict[tuple[str, str], list[Any]]] = {aid: {} for aid in ids}
    r = responses.c
    with results.connect() as conn:
        rows = conn.execute(select(r.attempt_id, r.item_id, r.response_id, r.value_json)
                            .order_by(r.attempt_id, r.seq)).mappings()
        for row in rows:
            if row["attempt_id"] in out:
                out[row["attempt_id"]].setdefault((row["item_id"], row["response_id"]), []).append(
                    json.loads(row["value_json"]))
    return out


def _is_choice(key: AnswerKey) -> bool:
    return len(key.responses) == 1 and key.responses[0].cardinality == "single" \
        and key.responses[0].base_type == "identifier" and key.responses[0].template != "human"


def _choice_matrix(ids: list[str], item_ids: list[str], keys: dict[str, AnswerKey],
                   finals: dict[str, dict[tuple[str, str], Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, k = len(ids), len(item_ids)
    wrong_choice = np.full((n, k), -1, dtype=np.int64)
    answered = np.zeros((n, k), dtype=bool)
    right = np.zeros((n, k), dtype=bool)
    codes: dict[str | None, int] = {}
    for col, item_id in enumerate(item_ids):
        key = keys[item_id]
        for row, aid in enumerate(ids):
            values = [finals[aid].get((item_id, rk.response_id)) for rk in key.responses]
            if all(v is None for v in values):
                continue
            answered[row, col] = True
            scores = [score_response(v, rk) for v, rk in zip(values, key.responses)]
            right[row, col] = all(s is not None and s >= rk.max_score for s, rk in zip(scores, key.responses))
            if _is_choice(key) and not right[row, col]:
                wrong_choice[row, col] = codes.setdefault(values[0], len(codes))
    return wrong_choice, answered, right


def _changes(ids: list[str], keys: dict[str, AnswerKey],
             histories: dict[str, dict[tuple[str, str], list[Any]]]) -> tuple[np.ndarray, np.ndarray]:
    wr = np.zeros(len(ids))
    changes = np.zeros(len(ids))
    by_slot = {(item_id, rk.response_id): rk for item_id, key in keys.items() for rk in key.responses}
    for row, aid in enumerate(ids):
        for slot, values in histories[aid].items():
            rk = by_slot.get(slot)
            if rk is None or rk.template == "human":
                continue
            marks = [(score_response(v, rk) or 0.0) >= rk.max_score for v in values if v is not None]
            for before, after in itertools.pairwise(marks):
                changes[row] += 1
                wr[row] += (not before) and after
    return wr, changes


def _attach_incidents(results: Engine, flags: list[Flag]) -> None:
    i = incidents.c
    with results.connect() as conn:
        for flag in flags:
            for aid in filter(None, (flag.attempt_id, flag.other_attempt_id)):
                query = select(i.kind, i.severity, i.rule, i.at).where(i.attempt_id == aid).order_by(i.at, i.id)
                flag.incidents.extend({"attempt_id": aid, **r} for r in conn.execute(query).mappings())


def _store(results: Engine, ids: list[str], flags: list[Flag]) -> None:
    now = format_time(utc_now())
    with write(results) as conn:
        if ids:
            conn.execute(delete(integrity_flags).where(integrity_flags.c.attempt_id.in_(ids)))
        if flags:
            conn.execute(insert(integrity_flags), [
                {"kind": f.kind, "attempt_id": f.attempt_id, "other_attempt_id": f.other_attempt_id, "score": f.score,
                 "detail_json": json.dumps({**f.detail, "incidents": f.incidents}), "created_at": now}
                for f in flags])


