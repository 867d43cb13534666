"""Decision consistency and accuracy at a cut score from one administration.

ISO/IEC 17024 asks whether pass/fail decisions are consistent. With one administration these
methods estimate how often two parallel administrations would agree (consistency) and how often
the observed decision matches the true one (accuracy):

- **Livingston & Lewis (1995)**: the observed score scale is replaced by an *effective test length*
  ``n = ((mu - min)(max - mu) - r s^2) / (s^2 (1 - r))`` of binomial items; the true proportion
  ``tau`` gets a four-parameter beta distribution fitted by Lord's (1965) method of moments (true
  raw moments from the observed factorial moments under binomial error, then a Pearson type I
  moment fit; Hanson, 1991), or a two-parameter beta on [0, 1] when the four-parameter fit leaves
  [0, 1]; decisions are then integrated over ``tau`` with binomial observed scores.
- **Subkoviak (1976)**: each candidate's true proportion is Kelley's regressed estimate
  ``r x/n + (1 - r) mu/n``; the binomial probability ``P_i`` of passing gives the agreement
  ``P_i^2 + (1 - P_i)^2``, averaged; chance agreement from the mean ``P_i``.
- **IRT** (Rudner, 2001, for accuracy; Lee, 2010, for consistency): with calibrated item
  parameters, the summed-score distribution at each quadrature node comes from the Lord-Wingersky
  recursion on a dense grid (the true decision ``TCC(theta) >= cut`` is a step in theta, which a
  Gauss-Hermite rule would integrate badly).

All report agreement ``p``, Cohen's kappa against chance agreement of two independent decisions
with the same pass rate, false-pass and false-fail rates (true fail but observed pass, and the
reverse), and the conditional SEM at the cut (Lord's binomial error ``sqrt(c (n - c) / (n - 1))``
for the classical methods, ``sqrt(sum P Q)`` at the cut's theta for IRT).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.optimize import brentq

from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.irt import IRTResult, lord_wingersky
from item_bank_sync.psychometrics.quadrature import rectangular

MIN_CANDIDATES = 30


@dataclass
class DecisionIndices:
    method: str
    agreement: float
    kappa: float
    accuracy: float | None
    false_pass: float | None
    false_fail: float | None
    pass_rate: float
    csem_at_cut: float
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 6)
        return out


def _kappa(agreement: float, pass_rate: float) -> float:
    chance = pass_rate**2 + (1 - pass_rate) ** 2
    return (agreement - chance) / (1 - chance) if chance < 1 else float("nan")


def _validate(scores: np.ndarray, reliability: float, cut: float, low: float, high: float) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or x.size < MIN_CANDIDATES:
        raise PsychometricsError(f"decision indices need at least {MIN_CANDIDATES} candidates' total scores")
    if not 0 < reliability < 1:
        raise PsychometricsError(f"reliability must be between 0 and 1 (exclusive), got {reliability}")
    if not low < cut <= high:
        raise PsychometricsError(f"the cut {cut} must lie above the minimum {low} and at most the maximum {high}")
    if x.min() < low or x.max() > high:
        raise PsychometricsError(f"scores must lie between {low} and {high}")
    if x.std() == 0:
        raise PsychometricsError("all candidates have the same score: no decision statistics")
    return x


# --- beta true-score distributions ----------------------------------------------------------

def true_score_moments(x: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """Mean, variance, skewness, kurtosis of tau under binomial error (Lord, 1965)."""
    falling = np.ones_like(x)
    raw = []
    for k in range(4):
        falling = falling * (x - k)
        raw.append(falling.mean() / math.prod(n - i for i in range(k + 1)))
    m1, m2, m3, m4 = raw
    var = m2 - m1**2
    if var <= 0:
        raise PsychometricsError("the scores imply no true-score variance (reliability too low)")
    mu3 = m3 - 3 * m1 * m2 + 2 * m1**3
    mu4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    return m1, var, mu3 / var**1.5, mu4 / var**2


def fit_beta4(mean: float, var: float, skew: float, kurt: float) -> tuple[float, float, float, float] | None:
    """Pearson type I moment fit: (alpha, beta, lower, upper), or None when no beta fits."""
    denom = 6 + 3 * skew**2 - 2 * kurt
    if abs(denom) < 1e-12:
        return None
    r = 6 * (kurt - skew**2 - 1) / denom
    if r <= 0:
        return None
    if abs(skew) < 1e-12:
        alpha = beta = r / 2
    else:
        inner = 1 - 24 * (r + 1) / ((r + 2) * (r + 3) * kurt - 3 * (r + 1) * (r - 6))
        if inner < 0:
            return None
        term = math.sqrt(inner)
        alpha = r / 2 * (1 - term) if skew > 0 else r / 2 * (1 + term)
        beta = r - alpha
    if alpha <= 0 or beta <= 0:
        return None
    width = math.sqrt(var) / 2 * math.sqrt((r + 2) ** 2 * skew**2 + 16 * (r + 1))
    lower = mean - width * alpha / (alpha + beta)
    return alpha, beta, lower, lower + width


def _true_distribution(x: np.ndarray, n: int) -> tuple[dict[str, float | str], np.ndarray, np.ndarray]:
    """Nodes and weights of the fitted true-proportion distribution on [0, 1]."""
    mean, var, skew, kurt = true_score_moments(x, n)
    fit = fit_beta4(mean, var, skew, kurt)
    if fit is not None and fit[2] >= 0 and fit[3] <= 1:
        alpha, beta, lower, upper = fit
        kind = "four-parameter beta"
    else:
        common = mean * (1 - mean) / var - 1
        if common <= 0:
            raise PsychometricsError("no beta distribution matches the true-score mean and variance")
        alpha, beta, lower, upper = mean * common, (1 - mean) * common, 0.0, 1.0
        kind = "two-parameter beta"
    nodes, weights = np.polynomial.legendre.leggauss(400)
    u = (nodes + 1) / 2
    dens = stats.beta.pdf(u, alpha, beta) * weights / 2
    dens /= dens.sum()
    params: dict[str, float | str] = {"distribution": kind, "alpha": round(float(alpha), 6),
                                      "beta": round(float(beta), 6), "lower": round(float(lower), 6),
                                      "upper": round(float(upper), 6)}
    return params, lower + (upper - lower) * u, dens


def livingston_lewis(scores: np.ndarray, reliability: float, cut: float, low: float, high: float
                     ) -> DecisionIndices:
    """Livingston-Lewis consistency and accuracy of ``score >= cut`` (scores on [low, high])."""
    x = _validate(scores, reliability, cut, low, high)
    mu, var = x.mean(), x.var()
    n_eff = ((mu - low) * (high - mu) - reliability * var) / (var * (1 - reliability))
    n = max(4, round(n_eff))
    rescaled = n * (x - low) / (high - low)
    params, tau, w = _true_distribution(rescaled, n)
    tau_cut = (cut - low) / (high - low)
    obs_cut = math.ceil(n * tau_cut - 1e-9)
    p_pass = stats.binom.sf(obs_cut - 1, n, np.clip(tau, 0, 1))
    true_pass = tau >= tau_cut
    agreement = float(w @ (p_pass**2 + (1 - p_pass) ** 2))
    pass_rate = float(w @ p_pass)
    false_pass = float(w @ np.where(true_pass, 0, p_pass))
    false_fail = float(w @ np.where(true_pass, 1 - p_pass, 0))
    c = obs_cut
    csem = math.sqrt(c * (n - c) / (n - 1)) * (high - low) / n if 0 < c < n else 0.0
    return DecisionIndices("livingston-lewis", agreement, _kappa(agreement, pass_rate),
                           1 - false_pass - false_fail, false_pass, false_fail, pass_rate, csem,
                           {"effective_length": n, "effective_length_exact": round(float(n_eff), 4), **params})


def subkoviak(scores: np.ndarray, n_items: int, cut: float, reliability: float | None = None
              ) -> DecisionIndices:
    """Subkoviak's single-administration agreement and kappa for number-correct ``score >= cut``.

    ``reliability`` defaults to KR-21 computed from the scores, as in Subkoviak (1976).
    """
    x = np.asarray(scores, dtype=np.float64)
    mu, var = x.mean(), x.var(ddof=1) if x.size > 1 else 0.0
    if reliability is None:
        reliability = n_items / (n_items - 1) * (1 - mu * (n_items - mu) / (n_items * var)) if var > 0 else 0.0
    x = _validate(x, reliability, cut, 0, n_items)
    tau = np.clip(reliability * x / n_items + (1 - reliability) * mu / n_items, 0, 1)
    obs_cut = math.ceil(cut - 1e-9)
    p_pass = stats.binom.sf(obs_cut - 1, n_items, tau)
    agreement = float(np.mean(p_pass**2 + (1 - p_pass) ** 2))
    pass_rate = float(p_pass.mean())
    c = obs_cut
    csem = math.sqrt(c * (n_items - c) / (n_items - 1)) if 0 < c < n_items else 0.0
    return DecisionIndices("subkoviak", agreement, _kappa(agreement, pass_rate), None, None, None, pass_rate,
                           csem, {"reliability": round(float(reliability), 6)})


def irt_decision(result: IRTResult, cut: float) -> DecisionIndices:
    """Consistency (Lee, 2010) and accuracy (Rudner, 2001) of ``number correct >= cut`` under the model."""
    k = len(result.item_ids)
    if not 0 < cut <= k:
        raise PsychometricsError(f"the cut {cut} must lie above 0 and at most the number of items {k}")
    quad = rectangular(481, 8.0)  # dense: the true decision is a step function of theta
    p = result.probability(quad.nodes)
    dist = lord_wingersky(p)
    obs_cut = math.ceil(cut - 1e-9)
    p_pass = dist[obs_cut:].sum(axis=0)
    true_pass = p.sum(axis=0) >= cut
    w = quad.weights
    agreement = float(w @ (p_pass**2 + (1 - p_pass) ** 2))
    pass_rate = float(w @ p_pass)
    false_pass = float(w @ np.where(true_pass, 0, p_pass))
    false_fail = float(w @ np.where(true_pass, 1 - p_pass, 0))
    theta_cut = brentq(lambda t: result.probability(np.array([t])).sum() - cut, -20, 20) if cut < k else math.inf
    if math.isfinite(theta_cut):
        pc = result.probability(np.array([theta_cut]))[:, 0]
        csem, theta_csem = float(np.sqrt((pc * (1 - pc)).sum())), float(result.csem(np.array([theta_cut]))[0])
    else:
        csem, theta_csem = 0.0, math.inf
    return DecisionIndices("irt", agreement, _kappa(agreement, pass_rate), 1 - false_pass - false_fail,
                           false_pass, false_fail, pass_rate, csem,
                           {"model": result.model,
                            "theta_at_cut": round(theta_cut, 6) if math.isfinite(theta_cut) else None,
                            "theta_csem_at_cut": round(theta_csem, 6) if math.isfinite(theta_csem) else None})
