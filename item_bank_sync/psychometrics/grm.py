"""Samejima's (1969) graded response model for rubric-scored (polytomous) items, by MML-EM.

An item scored ``0..K`` has boundary curves ``P*_k(theta) = 1 / (1 + exp(-(a theta + d_k)))`` for
``k = 1..K`` (``d_1 > d_2 > ... > d_K``), and category probabilities ``P_k = P*_k - P*_{k+1}``
(``P*_0 = 1``, ``P*_{K+1} = 0``). Thresholds in the IRT metric are ``b_k = -d_k / a``. This is the
parameterisation of R mirt's ``itemtype = "graded"`` and ltm's ``grm()`` (``IRT.param = TRUE``);
with ``K = 1`` it is exactly the 2PL, which the tests use to check it against mirt's published
LSAT7 estimates.

Estimation: Bock-Aitkin EM over a N(0, 1) quadrature (as :mod:`.irt`), each item's M-step a BFGS
maximisation of its expected complete-data log-likelihood with the analytic gradient, accelerated
by the same monotone SQUAREM. Item information: ``sum_k (P*_k' - P*_{k+1}')^2 / P_k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.irt import MIN_CANDIDATES, observed_covariance, squarem
from item_bank_sync.psychometrics.quadrature import Quadrature, rectangular


@dataclass
class GRMResult:
    item_ids: list[str]
    a: np.ndarray
    d: list[np.ndarray]
    loglik: float
    converged: bool
    iterations: int
    n_candidates: int
    quadrature: Quadrature
    messages: list[str] = field(default_factory=list)
    #: Standard errors (observed information, :func:`grm_standard_errors`); None until computed.
    se_a: np.ndarray | None = None
    se_d: list[np.ndarray] | None = None
    se_b: list[np.ndarray] | None = None

    @property
    def b(self) -> list[np.ndarray]:
        return [-dj / aj for aj, dj in zip(self.a, self.d)]

    def category_probabilities(self, j: int, theta: np.ndarray) -> np.ndarray:
        return _category_probs(self.a[j], self.d[j], np.atleast_1d(theta))

    def information(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
        out = np.empty((len(self.item_ids), theta.size))
        for j, (a, d) in enumerate(zip(self.a, self.d)):
            star = _boundaries(a, d, theta)
            deriv = a * star * (1 - star)
            probs = star[:-1] - star[1:]
            out[j] = ((deriv[:-1] - deriv[1:]) ** 2 / np.maximum(probs, 1e-300)).sum(axis=0)
        return out

    def test_information(self, theta: np.ndarray) -> np.ndarray:
        return self.information(theta).sum(axis=0)

    def to_dict(self) -> dict[str, object]:
        items: list[dict[str, object]] = []
        for j, (i, a, b) in enumerate(zip(self.item_ids, self.a, self.b)):
            row: dict[str, object] = {"item_id": i, "a": float(a), "b": [float(v) for v in b]}
            if self.se_a is not None and self.se_b is not None:
                row["se_a"] = float(self.se_a[j])
                row["se_b"] = [float(v) for v in self.se_b[j]]
            items.append(row)
        return {"model": "graded", "loglik": self.loglik, "converged": self.converged,
                "iterations": self.iterations, "n_candidates": self.n_candidates,
                "items": items, "messages": list(self.messages)}


def _boundaries(a: float, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """(K + 2) x nodes: P*_0 = 1, P*_1..P*_K, P*_{K+1} = 0."""
    inner = expit(a * theta[None, :] + d[:, None])
    ones, zeros = np.ones((1, theta.size)), np.zeros((1, theta.size))
    return np.vstack([ones, inner, zeros])


def _category_probs(a: float, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    star = _boundaries(a, d, theta)
    return star[:-1] - star[1:]


def _validate(scores: np.ndarray, item_ids: Sequence[str], min_candidates: int) -> tuple[np.ndarray, list[int]]:
    x = np.asarray(scores)
    if x.ndim != 2 or x.shape[1] != len(item_ids):
        raise PsychometricsError("scores must be a candidates x items matrix matching the item ids")
    if x.shape[0] < min_candidates:
        raise PsychometricsError(f"{x.shape[0]} candidates: IRT calibration needs at least {min_candidates}")
    if not np.all((x >= 0) & (x == np.round(x))):
        raise PsychometricsError("graded scores must be whole numbers from 0")
    x = x.astype(np.int64)
    maxima = []
    for j, item in enumerate(item_ids):
        seen = np.unique(x[:, j])
        top = int(seen.max())
        if top < 1:
            raise PsychometricsError(f"item {item}: no candidate scored above 0")
        missing = sorted(set(range(top + 1)) - set(seen.tolist()))
        if missing:
            raise PsychometricsError(f"item {item}: no candidate scored {missing[0]}; merge or renumber "
                                     "empty categories before calibrating")
        maxima.append(top)
    return x, maxima


class _GRMEngine:
    def __init__(self, x: np.ndarray, maxima: list[int], quad: Quadrature) -> None:
        self.x, self.maxima, self.q = x, maxima, quad
        self.offsets = np.cumsum([0] + [1 + m for m in maxima])  # a_j then d_j1..d_jK per item

    def split(self, v: np.ndarray) -> list[tuple[float, np.ndarray]]:
        return [(float(v[s]), v[s + 1:e]) for s, e in zip(self.offsets[:-1], self.offsets[1:])]

    def start(self) -> np.ndarray:
        parts = []
        for j, m in enumerate(self.maxima):
            cum = np.array([(self.x[:, j] >= k).mean() for k in range(1, m + 1)])
            cum = np.clip(cum, 1e-3, 1 - 1e-3)
            parts.append(np.concatenate([[1.0], np.log(cum / (1 - cum)) * 1.2]))
        return np.concatenate(parts)

    def estep(self, v: np.ndarray) -> tuple[float, list[np.ndarray]]:
        ll = np.tile(self.q.log_weights, (self.x.shape[0], 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            for j, (a, d) in enumerate(self.split(v)):
                ll += np.log(_category_probs(a, d, self.q.nodes))[self.x[:, j]]
        if not np.all(np.isfinite(ll)):
            return -math.inf, []
        top = ll.max(axis=1, keepdims=True)
        post = np.exp(ll - top)
        marg = post.sum(axis=1, keepdims=True)
        post /= marg
        counts = [np.stack([post[self.x[:, j] == k].sum(axis=0) for k in range(m + 1)])
                  for j, m in enumerate(self.maxima)]
        return float((top[:, 0] + np.log(marg[:, 0])).sum()), counts

    def mstep(self, v: np.ndarray, counts: list[np.ndarray]) -> np.ndarray:
        out = []
        for (a, d), r in zip(self.split(v), counts):
            res = minimize(_item_objective, np.concatenate([[a], d]), args=(r, self.q.nodes), jac=True,
                           method="BFGS", options={"gtol": 1e-8, "maxiter": 200})
            out.append(res.x)
        return np.concatenate(out)

    def gradient(self, v: np.ndarray) -> np.ndarray:
        """Gradient of the marginal log-likelihood at ``v`` (Fisher's identity: the gradient of the
        expected complete-data log-likelihood under the posterior at ``v``)."""
        _, counts = self.estep(v)
        if not counts:
            return np.full(v.size, np.nan)
        parts = [-_item_objective(np.concatenate([[a], d]), r, self.q.nodes)[1]
                 for (a, d), r in zip(self.split(v), counts)]
        return np.concatenate(parts)

    def em(self, v: np.ndarray) -> tuple[np.ndarray, float]:
        loglik, counts = self.estep(v)
        if not counts:
            return v, -math.inf
        return self.mstep(v, counts), loglik


def _item_objective(p: np.ndarray, r: np.ndarray, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative expected complete-data log-likelihood of one item and its gradient."""
    a, d = p[0], p[1:]
    star = _boundaries(a, d, theta)
    probs = star[:-1] - star[1:]
    if np.any(probs <= 0):
        return 1e300, np.zeros_like(p)
    w = star * (1 - star)  # dP*/dz, zero at the fixed ends
    ratio = r / probs
    value = float((r * np.log(probs)).sum())
    g_d = (w[1:-1] * (ratio[1:] - ratio[:-1])).sum(axis=1)
    g_a = float((theta * (ratio * (w[:-1] - w[1:])).sum(axis=0)).sum())
    return -value, -np.concatenate([[g_a], g_d])


#: Finite-difference Hessians are skipped above this many (candidates x nodes x parameters^2) operations.
SE_WORK_LIMIT = 4e10


def grm_standard_errors(engine: _GRMEngine, params: np.ndarray, result: GRMResult) -> None:
    """Observed-information SEs of ``a`` and ``d`` (Hessian of the marginal log-likelihood by central
    differences of its analytic gradient, as :mod:`.irt` and mirt's ``SE.type = "Richardson"``
    family do), and of the thresholds ``b_k = -d_k / a`` by the delta method (Rao, 1973, 6a.2):
    ``var(b_k) = g' S g`` with ``g = (d_k / a^2, -1 / a)`` over the item's ``(a, d_k)`` covariance."""
    work = engine.x.shape[0] * engine.q.nodes.size * float(params.size) ** 2
    if work > SE_WORK_LIMIT:
        result.messages.append(f"standard errors skipped: {params.size} parameters are too costly to differentiate")
        return
    cov = observed_covariance(engine.gradient, params, 1e-4, result.messages)
    if cov is not None:
        _store_ses(engine, cov, result)


def _store_ses(engine: _GRMEngine, cov: np.ndarray, result: GRMResult) -> None:
    se_a, se_d, se_b = [], [], []
    for s, e, a, d in zip(engine.offsets[:-1], engine.offsets[1:], result.a, result.d):
        block = cov[s:e, s:e]
        se_a.append(math.sqrt(block[0, 0]))
        se_d.append(np.sqrt(np.diag(block)[1:]))
        var_b = [d[k] ** 2 / a**4 * block[0, 0] + block[k + 1, k + 1] / a**2 - 2 * d[k] / a**3 * block[0, k + 1]
                 for k in range(d.size)]
        se_b.append(np.sqrt(np.maximum(var_b, 0.0)))
    result.se_a, result.se_d, result.se_b = np.array(se_a), se_d, se_b


def calibrate_graded(scores: np.ndarray, item_ids: Sequence[str], *, quadrature: Quadrature | None = None,
                     tol: float = 1e-5, max_steps: int = 2000, min_candidates: int = MIN_CANDIDATES,
                     standard_errors: bool = True) -> GRMResult:
    """Fit the graded response model to whole-number scores 0..K per item (K may differ by item)."""
    x, maxima = _validate(scores, list(item_ids), min_candidates)
    quad = quadrature or rectangular()
    engine = _GRMEngine(x, maxima, quad)
    run = squarem(engine.em, engine.start(), tol, max_steps)
    parts = engine.split(run.params)
    result = GRMResult(list(item_ids), np.array([a for a, _ in parts]), [d.copy() for _, d in parts],
                       engine.estep(run.params)[0], run.converged, run.iterations, x.shape[0], quad)
    if not run.converged:
        result.messages.append(f"EM did not converge in {run.iterations} steps (last change "
                               f"{run.max_change:.2e}, tolerance {tol:.0e})")
    if standard_errors:
        grm_standard_errors(engine, run.params, result)
    return result
