"""Differential item functioning: does an item behave differently for equally able candidates?

Two standard methods, computed for every item at once:

- **Mantel-Haenszel** (Holland & Thayer, 1988), matching on the total score (studied item
  included, as R difR's ``difMH`` does by default): the common odds ratio ``alpha_MH`` of a correct
  answer for the reference vs the focal group across score strata, ``Delta_MH = -2.35 ln(alpha_MH)``
  (ETS delta scale; negative = the item is harder for the focal group), the MH chi-square with
  continuity correction and its p value, and the Robins-Breslow-Greenland (1986) standard error of
  ``ln(alpha_MH)``. Strata with fewer than two candidates carry no information and are skipped.
  ETS classification (Zieky, 1993; Dorans & Holland, 1993): **A** when ``|Delta| < 1`` or the MH
  test is not significant at .05; **C** when ``|Delta| >= 1.5`` and ``|Delta|`` is significantly
  above 1 (one-sided .05); **B** otherwise.
- **Logistic regression** (Swaminathan & Rogers, 1990): ``logit P = b0 + b1 S`` (M0), ``+ b2 G``
  (M1), ``+ b3 S G`` (M2) with ``S`` the total score and ``G`` focal membership; likelihood-ratio
  tests M1 vs M0 (uniform DIF, 1 df), M2 vs M1 (non-uniform DIF, 1 df) and M2 vs M0 (2 df), with
  the Nagelkerke R-squared change M2 - M0 (Zumbo, 1999). The fits run on the counts per (score,
  group) cell, which give exactly the likelihood of the candidate-level data.

The MH arithmetic is checked against R's ``mantelhaen.test`` on the ``UCBAdmissions`` table; the
whole procedure against simulated items with known DIF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, log_expit
from scipy.stats import chi2, norm

from item_bank_sync.psychometrics.errors import PsychometricsError

DELTA_SCALE = -2.35
MIN_GROUP_SIZE = 100


@dataclass
class MHResult:
    """Mantel-Haenszel statistics of several 2 x 2 x K tables (one per item)."""

    odds_ratio: np.ndarray
    chi_square: np.ndarray
    p_value: np.ndarray
    se_log_odds: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        return DELTA_SCALE * np.log(self.odds_ratio)

    def ets_class(self) -> list[str]:
        out = []
        for d, p, se in zip(self.delta, self.p_value, self.se_log_odds * abs(DELTA_SCALE)):
            if not math.isfinite(d) or abs(d) < 1 or not p < 0.05:
                out.append("A")
            elif abs(d) >= 1.5 and (abs(d) - 1) / se > norm.ppf(0.95):
                out.append("C")
            else:
                out.append("B")
        return out


def mantel_haenszel_tables(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> MHResult:
    """MH statistics from stratum counts (rows = tables, columns = strata).

    ``a``/``b``: reference group right/wrong, ``c``/``d``: focal group right/wrong.
    """
    a, b, c, d = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (a, b, c, d))
    t = a + b + c + d
    use = t >= 2
    t_safe = np.where(use, t, 1.0)
    r, s = np.where(use, a * d / t_safe, 0), np.where(use, b * c / t_safe, 0)
    p, q = np.where(use, (a + d) / t_safe, 0), np.where(use, (b + c) / t_safe, 0)
    sr, ss = r.sum(axis=1), s.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = sr / ss
        n_ref, n_foc, right, wrong = a + b, c + d, a + c, b + d
        expected = np.where(use, n_ref * right / t_safe, 0).sum(axis=1)
        var = np.where(use, n_ref * n_foc * right * wrong / (t_safe**2 * np.maximum(t_safe - 1, 1)), 0).sum(axis=1)
        stat = (np.abs(np.where(use, a, 0).sum(axis=1) - expected) - 0.5).clip(min=0) ** 2 / var
        rbg = ((p * r).sum(axis=1) / (2 * sr**2) + (p * s + q * r).sum(axis=1) / (2 * sr * ss)
               + (q * s).sum(axis=1) / (2 * ss**2))
    return MHResult(odds, stat, chi2.sf(stat, 1), np.sqrt(rbg))


def _validate(scores: np.ndarray, focal: np.ndarray, min_group: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(scores)
    f = np.asarray(focal, dtype=bool)
    if x.ndim != 2 or f.shape != (x.shape[0],):
        raise PsychometricsError("DIF needs a candidates x items matrix and one group flag per candidate")
    if not np.all((x == 0) | (x == 1)):
        raise PsychometricsError("DIF needs 0/1 item scores")
    n_foc, n_ref = int(f.sum()), int((~f).sum())
    if min(n_foc, n_ref) < min_group:
        raise PsychometricsError(f"reference group has {n_ref} and focal group {n_foc} candidates: DIF is "
                                 f"only reported for groups of at least {min_group}")
    return x, f


def stratum_counts(scores: np.ndarray, focal: np.ndarray) -> tuple[np.ndarray, ...]:
    """Right/total counts per (item, total-score stratum) for each group: O(candidates x items)."""
    k = scores.shape[1]
    totals = scores.sum(axis=1).astype(np.int64)  # 0/1 scores may come as floats (the results store)
    out = []
    for members in (~focal, focal):
        sub, tot = scores[members], totals[members]
        order = np.argsort(tot, kind="stable")
        sub, tot = sub[order], tot[order]
        present, starts = np.unique(tot, return_index=True)
        right = np.zeros((k + 1, k))
        right[present] = np.add.reduceat(sub.astype(np.float64), starts, axis=0)
        size = np.bincount(tot, minlength=k + 1).astype(np.float64)
        out.extend([right.T, np.broadcast_to(size, (k, k + 1))])
    return tuple(out)  # ref_right, ref_n, foc_right, foc_n  (items x strata)


def mantel_haenszel(scores: np.ndarray, focal: np.ndarray, min_group: int = MIN_GROUP_SIZE) -> MHResult:
    """MH DIF of every item, matching on the total score."""
    x, f = _validate(scores, focal, min_group)
    ref_right, ref_n, foc_right, foc_n = stratum_counts(x, f)
    return mantel_haenszel_tables(ref_right, ref_n - ref_right, foc_right, foc_n - foc_right)


@dataclass
class LogisticDIF:
    uniform_p: np.ndarray
    nonuniform_p: np.ndarray
    total_p: np.ndarray
    r2_change: np.ndarray


def _fit_logistic(design: np.ndarray, right: np.ndarray, n: np.ndarray, iterations: int = 50) -> float:
    """Binomial maximum log-likelihood by Newton-Raphson (IRLS) on aggregated cells."""
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = expit(design @ beta)
        grad = design.T @ (right - n * p)
        hess = design.T @ (design * (n * p * (1 - p))[:, None])
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    z = design @ beta
    return float(right @ log_expit(z) + (n - right) @ log_expit(-z))


def logistic_regression_dif(scores: np.ndarray, focal: np.ndarray, min_group: int = MIN_GROUP_SIZE
                            ) -> LogisticDIF:
    """Uniform and non-uniform DIF by nested logistic regressions, one item at a time."""
    x, f = _validate(scores, focal, min_group)
    ref_right, ref_n, foc_right, foc_n = stratum_counts(x, f)
    k = x.shape[1]
    s = np.arange(k + 1, dtype=np.float64)
    s = (s - x.sum(axis=1).mean()) / max(x.sum(axis=1).std(), 1e-9)  # standardised: better conditioned
    cells_s = np.concatenate([s, s])
    g = np.concatenate([np.zeros(k + 1), np.ones(k + 1)])
    designs = [np.column_stack(cols) for cols in ([np.ones_like(g), cells_s], [np.ones_like(g), cells_s, g],
                                                  [np.ones_like(g), cells_s, g, cells_s * g])]
    n_total = x.shape[0]
    out = np.empty((4, k))
    for j in range(k):
        right = np.concatenate([ref_right[j], foc_right[j]])
        n = np.concatenate([ref_n[j], foc_n[j]])
        keep = n > 0
        ll0, ll1, ll2 = (_fit_logistic(dm[keep], right[keep], n[keep]) for dm in designs)
        p_bar = right.sum() / n_total
        ll_null = n_total * (p_bar * math.log(p_bar) + (1 - p_bar) * math.log(1 - p_bar)) if 0 < p_bar < 1 else 0.0
        out[:, j] = [chi2.sf(2 * (ll1 - ll0), 1), chi2.sf(2 * (ll2 - ll1), 1), chi2.sf(2 * (ll2 - ll0), 2),
                     _nagelkerke(ll2, ll_null, n_total) - _nagelkerke(ll0, ll_null, n_total)]
    return LogisticDIF(*out)


def _nagelkerke(ll: float, ll_null: float, n: int) -> float:
    cox_snell = 1 - math.exp(2 * (ll_null - ll) / n)
    top = 1 - math.exp(2 * ll_null / n)
    return cox_snell / top if top > 0 else float("nan")


def dif_report(scores: np.ndarray, focal: np.ndarray, item_ids: Sequence[str],
               min_group: int = MIN_GROUP_SIZE) -> list[dict[str, Any]]:
    """Per-item DIF summary (MH and logistic regression) for the CLI's ``"dif"`` objects."""
    mh = mantel_haenszel(scores, focal, min_group)
    lr = logistic_regression_dif(scores, focal, min_group)
    classes = mh.ets_class()
    rows = []
    for j, item in enumerate(item_ids):
        rows.append({"item_id": item, "mh_odds_ratio": _r(mh.odds_ratio[j]), "mh_delta": _r(mh.delta[j]),
                     "mh_chi_square": _r(mh.chi_square[j]), "p_value": _r(mh.p_value[j]),
                     "mh_se_delta": _r(abs(DELTA_SCALE) * mh.se_log_odds[j]), "ets_class": classes[j],
                     "lr_uniform_p": _r(lr.uniform_p[j]), "lr_nonuniform_p": _r(lr.nonuniform_p[j]),
                     "lr_total_p": _r(lr.total_p[j]), "lr_r2_change": _r(lr.r2_change[j])})
    return rows


def _r(v: float) -> float | None:
    v = float(v)
    return round(v, 6) if math.isfinite(v) else None
