"""Item analysis of a form's scored attempts in ``results.db`` (``analyze --form``).

Builds the candidates x items score matrix from the stored response scores (only attempts whose
scoring is complete, and neither ended by a proctor nor withheld: :func:`analysable_attempts`),
adds distractor analysis for single-choice items from the candidates' final answers, and can write
each item's ``p`` and ``n`` back to the bank (``item_stats``), where form assembly reads them to
balance difficulty.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from sqlalchemy import Engine, and_, func, select

from exam_core.errors import ValidationError
from exam_core.model import AnswerKey, Item
from item_bank_sync.analysis.stats import Analysis, FlagThresholds, add_distractor_analysis, analyze_scores
from item_bank_sync.bank.schema import items
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, scalar
from item_bank_sync.forms.store import form_instances, record_item_stats
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.review import PROCTOR_END
from item_bank_sync.results.schema import attempts as attempts_table
from item_bank_sync.results.schema import decisions, response_scores, responses

#: An item family's instance on the form, by item id: (item, key, seed) (forms.store.form_instances).
Instances = dict[str, tuple[Item, AnswerKey, str]]

FORM_REF_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]{0,127})(?:@(\d+))?$")


def parse_form_ref(text: str, results: Engine) -> tuple[str, int]:
    """``FORM`` (the newest version with results) or ``FORM@VERSION``."""
    match = FORM_REF_RE.match(text or "")
    if not match:
        raise ValidationError("--form", f"{text!r} is not FORM_ID or FORM_ID@VERSION")
    if match.group(2):
        return match.group(1), int(match.group(2))
    newest = scalar(results, select(func.max(attempts_table.c.form_version))
                    .where(attempts_table.c.form_id == match.group(1)))
    if newest is None:
        raise ValidationError("--form", f"no attempts of form {match.group(1)} in the results")
    return match.group(1), int(newest)


def analyze_form(context: CentralContext, form_ref: str, thresholds: FlagThresholds,
                 write_stats: bool = False) -> tuple[Analysis, str]:
    results = context.open_results_db()
    form_id, version = parse_form_ref(form_ref, results)
    scoring = load_form_scoring(context.open_bank_db(), form_id, version)
    item_ids = [k.item_id for k in scoring.keys]
    attempts, left_out = analysable_attempts(results, form_id, version)
    scores = _score_matrix(results, attempts, item_ids)
    maxima = [sum(rk.max_score for rk in k.responses) for k in scoring.keys]
    analysis = analyze_scores(scores, item_ids, max_scores=maxima, thresholds=thresholds)
    instances = form_instances(context.open_bank_db(), form_id, version)
    _distractors(results, analysis, scores, attempts, scoring.keys, _choice_options(context, scoring.keys, instances))
    for stats in analysis.items:
        if stats.item_id in instances:
            stats.family_seed = instances[stats.item_id][2]
    if write_stats:
        _write_stats(context, analysis, scoring.keys, instances, f"{form_id}@{version}")
    note = f" ({left_out} attempt(s) left out: ended by a proctor or withheld)" if left_out else ""
    if instances:
        note += (f"; {len(instances)} item famil{'y' if len(instances) == 1 else 'ies'} ("
                 f"{', '.join(sorted(instances))}): statistics of this form's instance only, "
                 "not pooled with other forms' and not written to the bank's item statistics")
    return analysis, f"Item analysis of form {form_id} v{version}{note}"


def _write_stats(context: CentralContext, analysis: Analysis, keys: list[AnswerKey], instances: Instances,
                 form_ref: str) -> None:
    """Each item version's p and n into the bank for form assembly; an item family's are left
    out: they describe one instance, while the bank's row stands for every form's draw (the
    smallest correct choice: assembly then treats a family as an item without statistics)."""
    bank = context.open_bank_db()
    for key, item in zip(keys, analysis.items):
        if item.p is not None and item.n > 0 and key.item_id not in instances:
            record_item_stats(bank, key.item_id, key.version, min(1.0, max(0.0, item.p)), item.n,
                              item.rpb_corrected, source=f"analysis of {form_ref}")


def analysable_attempts(results: Engine, form_id: str, version: int) -> tuple[list[str], int]:
    """The form's scored attempts that item statistics may use, and how many were left out.

    An attempt a proctor ended (``ended_by`` ``proctor_end``: the candidate was taken ill, the room
    evacuated) scores the questions never reached as wrong, and a withheld one (its standing
    decision) is under review: both would bend each item's difficulty and discrimination, and the
    bank's ``item_stats`` that form assembly reads (issue 13, item 6)."""
    a, d = attempts_table.c, decisions.c
    newer = decisions.alias("newer")
    latest = select(func.max(newer.c.id)).where(newer.c.attempt_id == a.attempt_id).scalar_subquery()
    rows = fetch_all(results, select(a.attempt_id, a.ended_by, d.outcome)
                     .outerjoin_from(attempts_table, decisions, d.id == latest)
                     .where(a.form_id == form_id, a.form_version == version, a.scoring_status == "scored")
                     .order_by(a.attempt_id))
    kept = [r[0] for r in rows if r[1] != PROCTOR_END and r[2] != "withheld"]
    return kept, len(rows) - len(kept)


def _score_matrix(results: Engine, attempts: list[str], item_ids: list[str]) -> np.ndarray:
    row_of = {a: i for i, a in enumerate(attempts)}
    col_of = {item: j for j, item in enumerate(item_ids)}
    scores = np.zeros((len(attempts), len(item_ids)))
    if not attempts:
        return scores
    s = response_scores.c
    for attempt_id, item_id, score in fetch_all(results, select(s.attempt_id, s.item_id, func.sum(s.score))
                                                .where(s.attempt_id.in_(attempts)).group_by(s.attempt_id, s.item_id)):
        if item_id in col_of:
            scores[row_of[attempt_id], col_of[item_id]] = score or 0.0
    return scores


def _choice_options(context: CentralContext, keys: list[AnswerKey], instances: Instances) -> dict[str, list[str]]:
    """Each item's offered choices (from the bank's item content, or for an item family the
    form's instance, whose shown choices the draw decides), so that a distractor nobody chose is
    still listed, with a share of 0: a non-functioning distractor is worth a review too."""
    out: dict[str, list[str]] = {}
    bank = context.open_bank_db()
    for key in keys:
        item = instances[key.item_id][0] if key.item_id in instances else _bank_item(bank, key)
        if item is not None and len(item.interactions) == 1:
            out[key.item_id] = [c.id for c in item.interactions[0].choices]
    return out


def _bank_item(bank: Engine, key: AnswerKey) -> Item | None:
    """The bank's item of ``key`` (None when missing or no longer readable: no options listed)."""
    row = fetch_one(bank, select(items.c.item_json).where(items.c.item_id == key.item_id,
                                                          items.c.version == key.version))
    try:
        return Item.from_dict(json.loads(row[0])) if row else None
    except (ValueError, ValidationError):
        return None


def _distractors(results: Engine, analysis: Analysis, scores: np.ndarray, attempts: list[str], keys: list,
                 offered: dict[str, list[str]]) -> None:
    """Option statistics for single-response, single-choice items, from each candidate's final answer."""
    finals: dict[tuple[str, str], Any] = {}
    r = responses.c
    last = (select(r.attempt_id, r.item_id, func.max(r.seq).label("seq"))
            .group_by(r.attempt_id, r.item_id).subquery("last"))
    final_rows = fetch_all(results, select(r.attempt_id, r.item_id, r.value_json).join_from(
        responses, last, and_(last.c.attempt_id == r.attempt_id, last.c.item_id == r.item_id, last.c.seq == r.seq)))
    for attempt_id, item_id, value_json in final_rows:
        finals[(attempt_id, item_id)] = json.loads(value_json)
    for index, key in enumerate(keys):
        if len(key.responses) != 1:
            continue
        rk = key.responses[0]
        if rk.cardinality != "single" or rk.base_type != "identifier" or rk.template == "human":
            continue
        answers = [finals.get((a, key.item_id)) for a in attempts]
        correct = {rk.correct} if rk.template == "match_correct" else {o for o, v in rk.mapping.items() if v > 0}
        options = sorted({a for a in answers if isinstance(a, str)} | {c for c in correct if c}
                         | set(offered.get(key.item_id, ())))
        code = {o: i for i, o in enumerate(options)}
        choices = np.array([code.get(a, -1) if isinstance(a, str) else -1 for a in answers], dtype=np.int64)
        add_distractor_analysis(analysis, scores, index, choices, options, correct)
