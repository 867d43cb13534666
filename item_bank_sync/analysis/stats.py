"""Classical item analysis, vectorised with numpy: is this exam valid, reliable and fair?

ISO/IEC 17024 asks a certification body to show that its examinations are reliable and that each
item works. This module computes the classical test theory statistics a psychometrician reviews:

- **difficulty** ``p``: the mean item score divided by the item's maximum (for 0/1 items, the share
  of candidates who got it right);
- **corrected point-biserial** ``rpb_corrected``: the Pearson correlation between the item score
  and the *rest score* (total minus this item), so the item is not correlated with itself;
- **discrimination index** ``D``: mean item score (as a share of the maximum) in the upper group
  minus that in the lower group (see :func:`discrimination_index` for how groups are formed);
- **Cronbach's alpha** (equal to KR-20 on 0/1 data), **alpha if item deleted**, the standard
  deviation of total scores (``n - 1`` denominator) and ``SEM = sd * sqrt(1 - alpha)``;
- **distractor analysis** for choice items: the share choosing each option and the point-biserial
  of choosing it against the rest score; a distractor (wrong option) whose point-biserial is above
  the threshold attracts stronger candidates and suggests a mis-keyed item.

Everything is O(candidates x items): the rest-score correlations and alpha-if-deleted follow from
the item variances and the item-total covariances (one matrix-vector product), so 100,000
candidates x 200 items take well under a second. Undefined statistics (a zero-variance item, a
constant rest score, alpha with one item) are ``None`` with a flag, never NaN: JSON has no NaN and
a reviewer must see *why* a number is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np

UPPER_LOWER_SHARE = 0.27


@dataclass(frozen=True)
class FlagThresholds:
    """When an item is flagged for review. Defaults follow common practice (and the issue)."""

    p_min: float = 0.2
    p_max: float = 0.95
    rpb_min: float = 0.2
    distractor_rpb_max: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {"p_min": self.p_min, "p_max": self.p_max, "rpb_min": self.rpb_min,
                "distractor_rpb_max": self.distractor_rpb_max}


# Flag names, so reports and tests agree on spelling.
FLAG_TOO_HARD = "too_hard"
FLAG_TOO_EASY = "too_easy"
FLAG_LOW_DISCRIMINATION = "low_discrimination"
FLAG_ZERO_VARIANCE = "zero_variance"
FLAG_REST_CONSTANT = "rest_score_constant"
FLAG_POSSIBLE_MISKEY = "possible_miskey"


@dataclass
class OptionStats:
    """One option of a choice item: how many chose it and whether stronger candidates did."""

    option: str
    is_key: bool
    count: int
    share: float
    rpb: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"option": self.option, "is_key": self.is_key, "count": self.count,
                "share": self.share, "rpb": self.rpb}


@dataclass
class ItemStats:
    item_id: str
    n: int
    p: float | None
    rpb_corrected: float | None
    alpha_if_deleted: float | None
    discrimination_index: float | None
    flags: list[str] = field(default_factory=list)
    options: list[OptionStats] | None = None
    #: An item family's instance on this form (its draw's seed): the numbers are this instance's,
    #: and another form's are another instance's, so they are not one item's to pool.
    family_seed: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item_id": self.item_id, "n": self.n, "p": self.p, "rpb_corrected": self.rpb_corrected,
            "alpha_if_deleted": self.alpha_if_deleted,
            "discrimination_index": self.discrimination_index, "flags": list(self.flags),
        }
        if self.options is not None:
            out["options"] = [o.to_dict() for o in self.options]
        if self.family_seed is not None:
            out["family_instance_seed"] = self.family_seed
        return out


@dataclass
class TestStats:
    n_candidates: int
    n_items: int
    mean: float | None
    sd: float | None
    alpha: float | None
    sem: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"n_candidates": self.n_candidates, "n_items": self.n_items, "mean": self.mean,
                "sd": self.sd, "alpha": self.alpha, "sem": self.sem}


@dataclass
class Analysis:
    test: TestStats
    items: list[ItemStats]
    thresholds: FlagThresholds
    totals: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test.to_dict(), "items": [i.to_dict() for i in self.items],
                "thresholds": self.thresholds.to_dict()}


def _finite(value: float) -> float | None:
    """A Python float, or None where numpy produced NaN/inf (undefined, never a JSON NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def discrimination_index(scores: np.ndarray, totals: np.ndarray, max_scores: np.ndarray) -> np.ndarray:
    """Upper-lower 27% discrimination index of every item (NaN when there are under 2 candidates).

    Groups: candidates are ranked by total score in ascending order with a *stable* sort, so tied
    candidates keep their input order; the group size is ``g = floor(0.27 * n)`` (at least 1). The
    lower group is the first ``g`` of that ranking, the upper group the last ``g``. Ties at a group
    boundary are therefore broken by input order, not by sharing candidates between groups, which
    keeps both groups exactly ``g`` strong and the index reproducible. ``D`` is the item's mean
    score as a share of its maximum in the upper group minus the same in the lower group.
    """
    n = scores.shape[0]
    if n < 2:
        return np.full(scores.shape[1], np.nan)
    g = max(1, math.floor(UPPER_LOWER_SHARE * n))
    order = np.argsort(totals, kind="stable")
    lower = scores[order[:g]].mean(axis=0, dtype=np.float64)
    upper = scores[order[n - g:]].mean(axis=0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (upper - lower) / max_scores


def analyze_scores(
    scores: np.ndarray,
    item_ids: Sequence[str],
    *,
    max_scores: Sequence[float] | np.ndarray | None = None,
    thresholds: FlagThresholds = FlagThresholds(),
) -> Analysis:
    """Analyse a candidates x items score matrix (0/1 or partial credit up to ``max_scores``).

    Rest-score statistics are derived without a loop over items: with ``t`` the total, ``x_i`` the
    item and ``r_i = t - x_i``, ``cov(x_i, r_i) = cov(x_i, t) - var(x_i)`` and
    ``var(r_i) = var(t) + var(x_i) - 2 cov(x_i, t)``. Alpha if item ``i`` is deleted is alpha
    computed on the other ``k - 1`` items: ``(k-1)/(k-2) * (1 - (sum var - var_i) / var(r_i))``.
    All variances use the ``n - 1`` denominator; alpha's ratio does not depend on that choice.
    """
    if scores.ndim != 2:
        raise ValueError("scores must be a 2-D candidates x items matrix")
    n, k = scores.shape
    if len(item_ids) != k:
        raise ValueError(f"{len(item_ids)} item ids for {k} score columns")
    maxima = np.ones(k) if max_scores is None else np.asarray(max_scores, dtype=np.float64)
    x = scores.astype(np.float64, copy=False)
    totals = x.sum(axis=1)
    if n == 0:
        return Analysis(TestStats(0, k, None, None, None, None),
                        [ItemStats(i, 0, None, None, None, None, []) for i in item_ids],
                        thresholds, totals)
    ddof = 1 if n > 1 else 0
    item_mean = x.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total_mean = totals.mean()
        total_var = totals.var(ddof=ddof) if n > 1 else np.nan
        # Variances and covariances from sums of products: one pass, one mat-vec.
        item_var = ((x * x).sum(axis=0) - n * item_mean**2) / (n - ddof) if n > 1 else np.full(k, np.nan)
        item_var = np.maximum(item_var, 0.0)
        cov_it = (x.T @ totals - n * item_mean * total_mean) / (n - ddof) if n > 1 else np.full(k, np.nan)
        cov_ir = cov_it - item_var
        rest_var = np.maximum(total_var + item_var - 2 * cov_it, 0.0)
        rpb = cov_ir / np.sqrt(item_var * rest_var)
        sum_var = item_var.sum()
        alpha = k / (k - 1) * (1 - sum_var / total_var) if k > 1 else np.nan
        alpha_del = ((k - 1) / (k - 2) * (1 - (sum_var - item_var) / rest_var)
                     if k > 2 else np.full(k, np.nan))
        p = item_mean / maxima
    tiny = 1e-12
    rpb = np.where((item_var <= tiny) | (rest_var <= tiny), np.nan, rpb)
    alpha = np.nan if not (total_var > tiny) else alpha
    alpha_del = np.where(rest_var <= tiny, np.nan, alpha_del)
    d_index = discrimination_index(x, totals, maxima)
    sd = math.sqrt(total_var) if n > 1 else None
    alpha_v = _finite(alpha)
    sem = sd * math.sqrt(max(0.0, 1 - alpha_v)) if sd is not None and alpha_v is not None else None
    test = TestStats(n, k, _finite(total_mean), sd, alpha_v, sem)
    items = [
        ItemStats(item_ids[i], n, _finite(p[i]), _finite(rpb[i]), _finite(alpha_del[i]),
                  _finite(d_index[i]),
                  _flags(p[i], rpb[i], item_var[i], rest_var[i], thresholds, n))
        for i in range(k)
    ]
    return Analysis(test, items, thresholds, totals)


def _flags(p: float, rpb: float, item_var: float, rest_var: float, t: FlagThresholds, n: int) -> list[str]:
    flags = []
    if math.isfinite(p):
        if p < t.p_min:
            flags.append(FLAG_TOO_HARD)
        if p > t.p_max:
            flags.append(FLAG_TOO_EASY)
    if n > 1 and not item_var > 1e-12:
        flags.append(FLAG_ZERO_VARIANCE)
    elif n > 1 and not rest_var > 1e-12:
        flags.append(FLAG_REST_CONSTANT)
    if math.isfinite(rpb) and rpb < t.rpb_min:
        flags.append(FLAG_LOW_DISCRIMINATION)
    return flags


def option_point_biserials(
    choices: np.ndarray, rest: np.ndarray, n_options: int
) -> tuple[np.ndarray, np.ndarray]:
    """Count and point-biserial (vs ``rest``) of choosing each option code 0..n_options-1.

    ``choices`` holds one option code per candidate (-1 = no response, counted as not choosing).
    The point-biserial of the 0/1 indicator ``c`` is ``(M_c - M) / S * sqrt(p / (1 - p))`` with
    ``S`` the population sd of ``rest``: the Pearson correlation, computed for all options with one
    ``bincount``. Undefined (NaN) when nobody or everybody chose the option or ``rest`` is constant.
    """
    n = choices.shape[0]
    valid = choices >= 0
    counts = np.bincount(choices[valid], minlength=n_options)[:n_options]
    sums = np.bincount(choices[valid], weights=rest[valid], minlength=n_options)[:n_options]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counts / n
        mean_all = rest.mean()
        sd_all = rest.std()
        mean_choosers = sums / counts
        rpb = (mean_choosers - mean_all) / sd_all * np.sqrt(share / (1 - share))
    rpb = np.where((counts == 0) | (counts == n) | (sd_all <= 1e-12), np.nan, rpb)
    return counts, rpb


def add_distractor_analysis(
    analysis: Analysis,
    scores: np.ndarray,
    item_index: int,
    choices: np.ndarray,
    options: Sequence[str],
    key: set[str],
) -> None:
    """Attach option statistics to one single-choice item and flag a possible mis-key.

    ``choices`` are option codes indexing ``options`` (-1 = no response). The point-biserial uses
    the rest score (total minus this item), as the corrected item statistic does.
    """
    rest = analysis.totals - scores[:, item_index].astype(np.float64)
    counts, rpb = option_point_biserials(choices, rest, len(options))
    n = choices.shape[0]
    stats = [OptionStats(opt, opt in key, int(counts[j]), float(counts[j] / n) if n else 0.0,
                         _finite(rpb[j])) for j, opt in enumerate(options)]
    item = analysis.items[item_index]
    item.options = stats
    limit = analysis.thresholds.distractor_rpb_max
    if (any(not o.is_key and o.rpb is not None and o.rpb > limit for o in stats)
            and FLAG_POSSIBLE_MISKEY not in item.flags):
        item.flags.append(FLAG_POSSIBLE_MISKEY)
