"""Rasch, 1PL and 2PL calibration of 0/1 items by marginal maximum likelihood, and what follows.

Model (logistic metric, no 1.702 constant): ``P(x_ij = 1 | theta) = 1 / (1 + exp(-(a_j theta + d_j)))``
with difficulty ``b_j = -d_j / a_j`` and ability ``theta ~ N(0, 1)`` in the calibration sample.

- ``2pl``: a discrimination ``a_j`` per item (Birnbaum, 1968);
- ``1pl``: one discrimination common to all items, estimated (ltm's ``rasch()``, mirt's
  ``CONSTRAIN = (1-J, a1)``);
- ``rasch``: every discrimination fixed at 1 with ``theta ~ N(0, 1)`` (ltm's
  ``rasch(constraint = cbind(J + 1, 1))``).

Estimation is Bock & Aitkin's (1981) EM over a quadrature rule (:mod:`.quadrature`; default mirt's
61 equally spaced points on [-6, 6]: a Gauss-Hermite rule's nodes are too far apart near 0 for the
narrow posteriors of long tests and bias slopes downwards, by -0.13 in the median at 200 items
with 41 points, while a reference computed with ltm's rule can still pass it explicitly): the E-step is
two matrix products over the distinct response patterns (``X @ logit-table`` for the posterior,
``X.T @ posterior`` for the expected counts), the M-step a vectorised Newton-Raphson per item on the
expected complete-data likelihood. EM is accelerated by SQUAREM (Varadhan & Roland, 2008, scheme
S3) with a fall-back to the plain EM step whenever the extrapolation lowers the likelihood, so the
log-likelihood never decreases. Convergence is declared when one plain EM step moves no parameter
by more than ``tol``; the result says whether that happened, after how many EM steps, and the
largest absolute gradient of the marginal log-likelihood at the end.

Standard errors come from the observed information: the Hessian of the marginal log-likelihood by
central differences of its analytic gradient (Fisher's identity), then the delta method for ``b``
(as ltm reports them). Scores: EAP (posterior mean and SD on the quadrature) and MAP (posterior
mode, ltm's "Empirical Bayes"). Item fit: Orlando & Thissen's (2000) S-X2 with the Lord-Wingersky
(1984) recursion, cells collapsed until every expected count is at least 1 (mirt's ``mincell``).

Checked against ltm 1.2 and mirt 1.4x on the LSAT6 and LSAT7 data (tests/central/psychometrics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import expit, log_expit
from scipy.stats import chi2

from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.quadrature import Quadrature, rectangular

MODELS = ("rasch", "1pl", "2pl")
MIN_CANDIDATES = 50
#: Finite-difference Hessians are skipped above this many (patterns x items x nodes x parameters).
SE_WORK_LIMIT = 3e9
#: The ability grid on which test information and conditional SEM are reported.
INFO_GRID = np.round(np.arange(-4.0, 4.0001, 0.5), 2)


# --- input ----------------------------------------------------------------------------------

def validate_binary(scores: np.ndarray, item_ids: Sequence[str], min_candidates: int = MIN_CANDIDATES
                    ) -> np.ndarray:
    """Return ``scores`` as float64 after refusing what no IRT model can be fitted to.

    Refused with a message naming the problem: not 2-D, ids not matching columns, cells other than
    0/1, fewer than ``min_candidates`` rows, fewer than 2 items, and items everyone (or no one)
    answered correctly, whose difficulty has no finite maximum likelihood estimate.
    """
    x = np.asarray(scores)
    if x.ndim != 2:
        raise PsychometricsError("scores must be a 2-D candidates x items matrix")
    n, k = x.shape
    if len(item_ids) != k:
        raise PsychometricsError(f"{len(item_ids)} item ids for {k} score columns")
    if k < 2:
        raise PsychometricsError("IRT calibration needs at least 2 items")
    if n < min_candidates:
        raise PsychometricsError(f"{n} candidates: IRT calibration needs at least {min_candidates}")
    if not np.all((x == 0) | (x == 1)):
        raise PsychometricsError("every score must be 0 or 1 for a dichotomous IRT model")
    x = x.astype(np.float64)
    p = x.mean(axis=0)
    constant = [item_ids[int(j)] for j in np.flatnonzero((p == 0) | (p == 1))]
    if constant:
        raise PsychometricsError("no candidate variation (all 0 or all 1) on item(s) "
                                 f"{', '.join(constant[:10])}: remove them before calibrating")
    return x


def compress_patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct response patterns and their counts: the likelihood only depends on these."""
    packed = np.packbits(x.astype(np.uint8), axis=1)
    view = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))
    _, first, counts = np.unique(view.ravel(), return_index=True, return_counts=True)
    return x[first], counts.astype(np.float64)


# --- the EM engine --------------------------------------------------------------------------

@dataclass
class _EStep:
    loglik: float
    r: np.ndarray   # items x nodes: expected number correct at each node
    n: np.ndarray   # nodes: expected number of candidates at each node


class _Engine:
    """EM for one of the three dichotomous models on compressed patterns.

    Parameters live in one flat vector so SQUAREM can extrapolate them: ``rasch`` -> ``d``;
    ``1pl`` -> ``[a, d_1..d_J]``; ``2pl`` -> ``[a_1..a_J, d_1..d_J]``.
    """

    def __init__(self, model: str, patterns: np.ndarray, counts: np.ndarray, quad: Quadrature) -> None:
        self.model, self.x, self.w, self.q = model, patterns, counts, quad
        self.k = patterns.shape[1]
        self.esteps = 0   # E-steps run (the benchmark times as many raw products beside them)

    def split(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.model == "rasch":
            return np.ones(self.k), v
        if self.model == "1pl":
            return np.full(self.k, v[0]), v[1:]
        return v[: self.k], v[self.k:]

    def start(self) -> np.ndarray:
        """Logit of the proportion correct as intercepts, slope 1: always inside the basin."""
        p = np.clip((self.w @ self.x) / self.w.sum(), 1e-4, 1 - 1e-4)
        d = np.log(p / (1 - p)) * 1.2
        return {"rasch": d, "1pl": np.concatenate([[1.0], d]), "2pl": np.concatenate([np.ones(self.k), d])}[
            self.model]

    def estep(self, v: np.ndarray) -> _EStep:
        a, d = self.split(v)
        self.esteps += 1
        z = a[:, None] * self.q.nodes[None, :] + d[:, None]
        log_p, log_q = log_expit(z), log_expit(-z)
        ll = self.x @ (log_p - log_q) + log_q.sum(axis=0) + self.q.log_weights
        top = ll.max(axis=1, keepdims=True)
        # Nodes 69 log units below a pattern's mode (1e-30 of it) carry nothing and are set to 0:
        # as subnormal numbers (float32 below 1e-38, float64 far below) they slow BLAS many times.
        post = np.exp(np.maximum(ll - top, -69.0))
        post[post <= 1e-30] = 0.0
        marg = post.sum(axis=1, keepdims=True)
        loglik = float(self.w @ (top[:, 0] + np.log(marg[:, 0])))
        post *= (self.w[:, None] / marg)
        return _EStep(loglik, self.x.T @ post, post.sum(axis=0))

    def gradient(self, v: np.ndarray, e: _EStep) -> np.ndarray:
        """Gradient of the marginal log-likelihood (Fisher's identity: the expected complete one)."""
        a, d = self.split(v)
        theta = self.q.nodes
        resid = e.r - e.n[None, :] * expit(a[:, None] * theta + d[:, None])
        g_d, g_a = resid.sum(axis=1), resid @ theta
        if self.model == "rasch":
            return g_d
        if self.model == "1pl":
            return np.concatenate([[g_a.sum()], g_d])
        return np.concatenate([g_a, g_d])

    def mstep(self, v: np.ndarray, e: _EStep, sweeps: int = 30) -> np.ndarray:
        """Newton-Raphson on the expected complete-data log-likelihood (concave per item)."""
        a, d = (arr.copy() for arr in self.split(v))
        a1 = float(a[0])
        theta = self.q.nodes
        for _ in range(sweeps):
            p = expit(a[:, None] * theta + d[:, None])
            wgt = e.n[None, :] * p * (1 - p)
            resid = e.r - e.n[None, :] * p
            g_d, g_a = resid.sum(axis=1), resid @ theta
            h_dd, h_da, h_aa = wgt.sum(axis=1), wgt @ theta, wgt @ (theta**2)  # negated Hessian
            if self.model == "rasch":
                step_d, step_a = g_d / h_dd, np.zeros(self.k)
            elif self.model == "1pl":
                denom = h_aa.sum() - np.sum(h_da**2 / h_dd)
                s_a = (g_a.sum() - np.sum(h_da * g_d / h_dd)) / denom
                step_d, step_a = (g_d - h_da * s_a) / h_dd, np.full(self.k, s_a)
            else:
                det = h_aa * h_dd - h_da**2
                step_a = (h_dd * g_a - h_da * g_d) / det
                step_d = (h_aa * g_d - h_da * g_a) / det
            step_a, step_d = np.clip(step_a, -1.0, 1.0), np.clip(step_d, -2.0, 2.0)
            a, d = a + step_a, d + step_d
            if max(np.abs(step_a).max(), np.abs(step_d).max()) < 1e-10:
                break
        a1 = float(a[0])
        return {"rasch": d, "1pl": np.concatenate([[a1], d]), "2pl": np.concatenate([a, d])}[self.model]

    def em(self, v: np.ndarray) -> tuple[np.ndarray, float]:
        e = self.estep(v)
        return self.mstep(v, e), e.loglik


@dataclass
class _Run:
    params: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    max_change: float


def squarem(step: Callable[[np.ndarray], tuple[np.ndarray, float]], x0: np.ndarray, tol: float,
            max_steps: int) -> _Run:
    """Run the EM map ``step`` to a fixed point with SQUAREM-3 acceleration (monotone)."""
    x, used, change = x0, 0, math.inf
    while used < max_steps:
        x1, _ = step(x)
        x2, ll1 = step(x1)
        used += 2
        change = float(np.abs(x2 - x1).max())
        if change < tol:
            return _Run(x2, step(x2)[1], used + 1, True, change)
        r, v = x1 - x, x2 - 2 * x1 + x
        alpha = -float(np.linalg.norm(r) / max(float(np.linalg.norm(v)), 1e-300))
        alpha = min(alpha, -1.0)
        x_new = x - 2 * alpha * r + alpha**2 * v
        x_next, ll_new = step(x_new) if np.all(np.isfinite(x_new)) else (x2, -math.inf)
        used += 1
        x = x_next if ll_new >= ll1 - 1e-12 * abs(ll1) else x2
    return _Run(x, step(x)[1], used + 1, False, change)


# --- results --------------------------------------------------------------------------------

@dataclass
class ItemFit:
    """Orlando & Thissen's S-X2 for one item."""

    s_x2: float | None
    df: int
    p_value: float | None


@dataclass
class IRTResult:
    """A calibrated dichotomous model; see :func:`calibrate`."""

    model: str
    item_ids: list[str]
    a: np.ndarray
    d: np.ndarray
    loglik: float
    converged: bool
    iterations: int
    max_change: float
    max_gradient: float
    n_candidates: int
    quadrature: Quadrature
    se_a: np.ndarray | None = None
    se_b: np.ndarray | None = None
    se_d: np.ndarray | None = None
    fit: list[ItemFit] | None = None
    messages: list[str] = field(default_factory=list)
    #: E-steps run by the calibration (each two matrix products over the distinct patterns).
    esteps: int = 0

    @property
    def b(self) -> np.ndarray:
        return -self.d / self.a

    @property
    def n_parameters(self) -> int:
        return {"rasch": 0, "1pl": 1, "2pl": len(self.item_ids)}[self.model] + len(self.item_ids)

    def probability(self, theta: np.ndarray) -> np.ndarray:
        """P(correct) for every item (rows) at every ``theta`` (columns)."""
        theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
        return expit(self.a[:, None] * theta[None, :] + self.d[:, None])

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Item information ``a^2 P Q`` (items x theta)."""
        p = self.probability(theta)
        return self.a[:, None] ** 2 * p * (1 - p)

    def test_information(self, theta: np.ndarray) -> np.ndarray:
        return self.information(theta).sum(axis=0)

    def csem(self, theta: np.ndarray) -> np.ndarray:
        """Conditional standard error of measurement of ``theta``: ``1 / sqrt(I(theta))``."""
        return 1.0 / np.sqrt(self.test_information(theta))

    def to_dict(self, grid: np.ndarray = INFO_GRID) -> dict[str, Any]:
        items = []
        for j, item_id in enumerate(self.item_ids):
            row: dict[str, Any] = {"item_id": item_id, "a": _num(self.a[j]), "b": _num(self.b[j]),
                                   "d": _num(self.d[j])}
            if self.se_b is not None and self.se_a is not None:
                row["se_a"] = _num(self.se_a[j]) if self.model != "rasch" else None
                row["se_b"] = _num(self.se_b[j])
            if self.fit is not None:
                f = self.fit[j]
                row.update({"s_x2": _num(f.s_x2), "s_x2_df": f.df, "s_x2_p": _num(f.p_value)})
            items.append(row)
        info = self.test_information(grid)
        return {
            "model": self.model, "loglik": _num(self.loglik), "converged": self.converged,
            "iterations": self.iterations, "max_change": _num(self.max_change),
            "max_gradient": _num(self.max_gradient), "n_candidates": self.n_candidates,
            "n_parameters": self.n_parameters, "quadrature": self.quadrature.describe(),
            "items": items,
            "test_information": [{"theta": float(t), "information": _num(i), "csem": _num(1 / math.sqrt(i))}
                                 for t, i in zip(grid, info)],
            "messages": list(self.messages),
        }


def _num(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


# --- calibration ----------------------------------------------------------------------------

def calibrate(scores: np.ndarray, item_ids: Sequence[str], model: str = "2pl", *,
              quadrature: Quadrature | None = None, tol: float = 1e-5, max_steps: int = 2000,
              standard_errors: bool = True, item_fit: bool = True,
              min_candidates: int = MIN_CANDIDATES) -> IRTResult:
    """Calibrate ``model`` ("rasch", "1pl" or "2pl") on a candidates x items 0/1 matrix.

    Non-convergence is never hidden: ``converged`` is False and a message says how far the last EM
    step still moved the parameters. Standard errors are skipped (with a message) when the
    finite-difference Hessian would cost more than :data:`SE_WORK_LIMIT` operations.
    """
    if model not in MODELS:
        raise PsychometricsError(f"unknown IRT model {model!r}; expected one of {', '.join(MODELS)}")
    x = validate_binary(scores, list(item_ids), min_candidates)
    quad = quadrature or rectangular()
    patterns, counts = compress_patterns(x)
    engine = _Engine(model, patterns, counts, quad)
    run = squarem(engine.em, engine.start(), tol, max_steps)
    final = engine.estep(run.params)
    grad = engine.gradient(run.params, final)
    a, d = engine.split(run.params)
    result = IRTResult(model, list(item_ids), a.copy(), d.copy(), final.loglik, run.converged,
                       run.iterations, run.max_change, float(np.abs(grad).max()), x.shape[0], quad)
    result.esteps = engine.esteps
    if not run.converged:
        result.messages.append(f"EM did not converge in {run.iterations} steps: the last step still "
                               f"moved a parameter by {run.max_change:.2e} (tolerance {tol:.0e})")
    if np.any(np.abs(result.b) > 6) or np.any(a <= 0):
        result.messages.append("some items have |b| > 6 or a <= 0: their estimates are unstable")
    if standard_errors:
        _standard_errors(engine, run.params, result)
    if item_fit:
        result.fit = s_x2(result, x)
    return result


def observed_covariance(gradient: Callable[[np.ndarray], np.ndarray], params: np.ndarray, rel_step: float,
                        messages: list[str]) -> np.ndarray | None:
    """Inverse observed information: the Hessian of the marginal log-likelihood by central
    differences of its analytic ``gradient`` (steps ``rel_step * max(1, |p|)``), symmetrised and
    inverted; None, with the reason added to ``messages``, when it is singular or not positive
    definite (the SEs are then not given rather than wrong)."""
    hessian = np.empty((params.size, params.size))
    for i in range(params.size):
        h = rel_step * max(1.0, abs(params[i]))
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        hessian[:, i] = (gradient(up) - gradient(down)) / (2 * h)
    try:
        cov = np.linalg.inv(-(hessian + hessian.T) / 2)
    except np.linalg.LinAlgError:
        messages.append("standard errors unavailable: the information matrix is singular")
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        messages.append("standard errors unavailable: the information matrix is not positive definite")
        return None
    return cov


def _standard_errors(engine: _Engine, params: np.ndarray, result: IRTResult) -> None:
    """Observed-information SEs by central differences of the analytic gradient, delta method for b."""
    k = engine.k
    work = engine.x.shape[0] * k * engine.q.nodes.size * params.size * 2
    if work > SE_WORK_LIMIT:
        result.messages.append(f"standard errors skipped: {params.size} parameters over "
                               f"{engine.x.shape[0]} response patterns is too costly to differentiate")
        return
    cov = observed_covariance(lambda v: engine.gradient(v, engine.estep(v)), params, 1e-5, result.messages)
    if cov is None:
        return
    a_idx, d_idx = _param_index(engine.model, k)
    a, d = result.a, result.d
    var_a = np.array([cov[i, i] if i is not None else 0.0 for i in a_idx])
    var_d = cov[d_idx, d_idx]
    cov_ad = np.array([cov[i, j] if i is not None else 0.0 for i, j in zip(a_idx, d_idx)])
    # b = -d / a: db/da = d / a^2, db/dd = -1 / a
    ga, gd = d / a**2, -1 / a
    result.se_a = np.sqrt(var_a)
    result.se_d = np.sqrt(var_d)
    result.se_b = np.sqrt(ga**2 * var_a + gd**2 * var_d + 2 * ga * gd * cov_ad)


def _param_index(model: str, k: int) -> tuple[list[int | None], np.ndarray]:
    if model == "rasch":
        return [None] * k, np.arange(k)
    if model == "1pl":
        return [0] * k, np.arange(1, k + 1)
    return list(range(k)), np.arange(k, 2 * k)


# --- scoring --------------------------------------------------------------------------------

def eap_scores(result: IRTResult, scores: np.ndarray, quadrature: Quadrature | None = None,
               chunk: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
    """Expected a posteriori ability and posterior SD of each candidate (Bock & Mislevy, 1982)."""
    quad = quadrature or result.quadrature
    z = result.a[:, None] * quad.nodes[None, :] + result.d[:, None]
    log_p, log_q = log_expit(z), log_expit(-z)
    x = np.asarray(scores, dtype=np.float64)
    mean, sd = np.empty(x.shape[0]), np.empty(x.shape[0])
    for s in range(0, x.shape[0], chunk):
        ll = x[s:s + chunk] @ (log_p - log_q) + log_q.sum(axis=0) + quad.log_weights
        post = np.exp(ll - ll.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        m = post @ quad.nodes
        mean[s:s + chunk] = m
        sd[s:s + chunk] = np.sqrt(np.maximum(post @ quad.nodes**2 - m**2, 0.0))
    return mean, sd


def map_scores(result: IRTResult, scores: np.ndarray, iterations: int = 100
               ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode under the N(0, 1) prior and its SD ``1 / sqrt(I(theta) + 1)`` (ltm's EB scores)."""
    x = np.asarray(scores, dtype=np.float64)
    theta, _ = eap_scores(result, x)
    a, d = result.a, result.d
    for _ in range(iterations):
        p = expit(theta[:, None] * a[None, :] + d[None, :])
        grad = (x - p) @ a - theta
        info = (p * (1 - p)) @ a**2 + 1.0
        step = np.clip(grad / info, -1.0, 1.0)
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    p = expit(theta[:, None] * a[None, :] + d[None, :])
    return theta, 1.0 / np.sqrt((p * (1 - p)) @ a**2 + 1.0)


# --- item fit -------------------------------------------------------------------------------

def lord_wingersky(p: np.ndarray) -> np.ndarray:
    """Summed-score distribution given theta (Lord & Wingersky, 1984): (items + 1) x nodes."""
    dist = np.zeros((p.shape[0] + 1, p.shape[1]))
    dist[0] = 1.0
    for j in range(p.shape[0]):
        new = dist * (1 - p[j])
        new[1:j + 2] += dist[: j + 1] * p[j]
        dist = new
    return dist


def s_x2(result: IRTResult, scores: np.ndarray, mincell: float = 1.0) -> list[ItemFit]:
    """Orlando & Thissen's S-X2 for every item (observed vs model proportion correct by summed score).

    For summed scores 1..J-1, the model's proportion correct is
    ``sum_q P_j f^(-j)(s - 1 | q) w_q / sum_q f(s | q) w_q`` with ``f`` from :func:`lord_wingersky`.
    Adjacent score groups are merged, from both ends inwards and then wherever one is left, until
    every expected count (correct and incorrect) is at least ``mincell``. Degrees of freedom are the
    groups left minus the item's parameters (2 for 1PL and 2PL, as mirt counts them; 1 for Rasch).
    """
    x = np.asarray(scores, dtype=np.float64)
    k = x.shape[1]
    quad = result.quadrature
    p = result.probability(quad.nodes)
    full = lord_wingersky(p) @ quad.weights
    totals = x.sum(axis=1).astype(int)
    n_s = np.bincount(totals, minlength=k + 1).astype(np.float64)
    n_params = 1 if result.model == "rasch" else 2
    out = []
    for j in range(k):
        rest = lord_wingersky(np.delete(p, j, axis=0))
        expected = np.array([(p[j] * rest[s - 1]) @ quad.weights / full[s] for s in range(1, k)])
        observed = np.bincount(totals, weights=x[:, j], minlength=k + 1)[1:k]
        out.append(_sx2_item(n_s[1:k], observed, expected, mincell, n_params))
    return out


def _sx2_item(n: np.ndarray, observed_correct: np.ndarray, expected_p: np.ndarray, mincell: float,
              n_params: int) -> ItemFit:
    groups = [[float(n[i]), float(observed_correct[i]), float(n[i] * expected_p[i])]
              for i in range(n.size) if n[i] > 0]

    def small(g: list[float]) -> bool:
        return g[2] < mincell or g[0] - g[2] < mincell

    while len(groups) > 1 and small(groups[0]):
        groups[1] = [u + v for u, v in zip(groups[0], groups[1])]
        groups.pop(0)
    while len(groups) > 1 and small(groups[-1]):
        groups[-2] = [u + v for u, v in zip(groups[-2], groups[-1])]
        groups.pop()
    i = 0
    while i < len(groups) - 1:
        if small(groups[i]):
            groups[i + 1] = [u + v for u, v in zip(groups[i], groups[i + 1])]
            groups.pop(i)
        else:
            i += 1
    stat = sum((o - e) ** 2 / e + (o - e) ** 2 / (nn - e) for nn, o, e in groups)
    df = len(groups) - n_params
    if df < 1:
        return ItemFit(None, df, None)
    return ItemFit(float(stat), df, float(chi2.sf(stat, df)))
