"""Decision consistency and accuracy, checked where the truth is known.

There are no small public data sets with published Livingston-Lewis or Subkoviak results that we
could reproduce here, so each method is checked against what it estimates: candidates are simulated
from the model the method assumes (a four-parameter beta true-score distribution with binomial
errors for Livingston-Lewis and Subkoviak; a 2PL for the IRT method), sat twice, and the estimate
from the *first* administration alone must match the observed agreement of the two administrations
and the observed accuracy against the simulated true scores, within sampling error (N = 20,000:
SE of a proportion near .8 is about .003). The Pearson type I moment fit is checked by recovering
a known four-parameter beta exactly. Subkoviak's method is known to underestimate agreement
when its Kelley estimates shrink toward the mean (Subkoviak, 1978); the test bounds that bias.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from item_bank_sync.psychometrics.decision import (fit_beta4, irt_decision, livingston_lewis, subkoviak,
                                                   true_score_moments)
from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.irt import calibrate

N, ITEMS, CUT = 20_000, 40, 28


@pytest.fixture(scope="module")
def binomial_world():
    rng = np.random.default_rng(20260505)
    tau = rng.beta(5, 3, N) * 0.7 + 0.25
    x1, x2 = rng.binomial(ITEMS, tau), rng.binomial(ITEMS, tau)
    reliability = float(np.var(ITEMS * tau) / np.var(x1))
    pass1, pass2 = x1 >= CUT, x2 >= CUT
    truth = tau >= CUT / ITEMS
    return {"tau": tau, "x1": x1, "reliability": reliability, "agreement": np.mean(pass1 == pass2),
            "accuracy": np.mean(pass1 == truth), "false_pass": np.mean(pass1 & ~truth),
            "false_fail": np.mean(~pass1 & truth), "pass_rate": pass1.mean()}


def test_beta4_moment_fit_recovers_a_known_distribution():
    d = stats.beta(2.5, 4.0, loc=0.2, scale=0.7)
    mean, var, skew, excess = (float(v) for v in d.stats("mvsk"))
    np.testing.assert_allclose(fit_beta4(mean, var, skew, excess + 3), [2.5, 4.0, 0.2, 0.9], atol=1e-9)


def test_true_score_moments_under_binomial_error(binomial_world):
    tau = binomial_world["tau"]
    mean, var, skew, kurt = true_score_moments(binomial_world["x1"].astype(float), ITEMS)
    assert mean == pytest.approx(tau.mean(), abs=2e-3)
    assert var == pytest.approx(tau.var(), rel=0.05)
    assert skew == pytest.approx(stats.skew(tau), abs=0.1)
    assert kurt == pytest.approx(stats.kurtosis(tau) + 3, abs=0.25)


def test_livingston_lewis_matches_two_simulated_administrations(binomial_world):
    w = binomial_world
    ll = livingston_lewis(w["x1"], w["reliability"], CUT, 0, ITEMS)
    assert ll.details["distribution"] == "four-parameter beta"
    assert abs(ll.details["effective_length"] - ITEMS) <= 2
    assert ll.agreement == pytest.approx(w["agreement"], abs=0.015)
    assert ll.accuracy == pytest.approx(w["accuracy"], abs=0.015)
    assert ll.false_pass == pytest.approx(w["false_pass"], abs=0.015)
    assert ll.false_fail == pytest.approx(w["false_fail"], abs=0.015)
    assert ll.pass_rate == pytest.approx(w["pass_rate"], abs=0.01)
    assert ll.csem_at_cut == pytest.approx(np.sqrt(28 * 12 / 39) * 40 / ll.details["effective_length"], rel=1e-6)
    json.dumps(ll.to_dict())


def test_livingston_lewis_on_a_rescaled_score_scale(binomial_world):
    """Scores reported as 0..100 points give the same decisions as 0..40 raw."""
    w = binomial_world
    raw = livingston_lewis(w["x1"], w["reliability"], CUT, 0, ITEMS)
    scaled = livingston_lewis(w["x1"] * 2.5, w["reliability"], CUT * 2.5, 0, 100)
    assert scaled.agreement == pytest.approx(raw.agreement, abs=1e-9)
    assert scaled.csem_at_cut == pytest.approx(raw.csem_at_cut * 2.5, rel=1e-9)


def test_subkoviak_is_close_and_conservative(binomial_world):
    w = binomial_world
    sk = subkoviak(w["x1"], ITEMS, CUT, w["reliability"])
    assert w["agreement"] - 0.06 < sk.agreement <= w["agreement"] + 0.01
    tau_hat = w["reliability"] * w["x1"] / ITEMS + (1 - w["reliability"]) * w["x1"].mean() / ITEMS
    p = stats.binom.sf(CUT - 1, ITEMS, tau_hat)  # Subkoviak (1976): per-candidate P(pass), then averaged
    assert sk.agreement == pytest.approx(np.mean(p**2 + (1 - p) ** 2), abs=1e-12)
    chance = p.mean() ** 2 + (1 - p.mean()) ** 2
    assert sk.kappa == pytest.approx((sk.agreement - chance) / (1 - chance), abs=1e-12)
    default = subkoviak(w["x1"], ITEMS, CUT)  # KR-21 when no reliability is given
    assert 0.5 < default.details["reliability"] < w["reliability"] + 0.05


def test_irt_decision_matches_two_simulated_administrations():
    rng = np.random.default_rng(20260506)
    a, b = rng.uniform(0.7, 1.8, 30), np.linspace(-2, 2, 30)
    theta = rng.standard_normal(N)
    prob = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x1 = (rng.random((N, 30)) < prob).astype(np.uint8)
    x2 = (rng.random((N, 30)) < prob).astype(np.uint8)
    model = calibrate(x1, [f"i{j}" for j in range(30)], "2pl", standard_errors=False, item_fit=False)
    cut = 18
    result = irt_decision(model, cut)
    pass1, pass2, truth = x1.sum(1) >= cut, x2.sum(1) >= cut, prob.sum(1) >= cut
    assert result.agreement == pytest.approx(np.mean(pass1 == pass2), abs=0.015)
    assert result.accuracy == pytest.approx(np.mean(pass1 == truth), abs=0.015)
    assert result.false_fail == pytest.approx(np.mean(~pass1 & truth), abs=0.015)
    assert result.details["theta_at_cut"] is not None and result.csem_at_cut > 0


def test_refusals():
    x = np.arange(100) % 41
    with pytest.raises(PsychometricsError, match="reliability"):
        livingston_lewis(x, 1.2, 20, 0, 40)
    with pytest.raises(PsychometricsError, match="the cut"):
        livingston_lewis(x, 0.8, 50, 0, 40)
    with pytest.raises(PsychometricsError, match="at least 30"):
        livingston_lewis(x[:10], 0.8, 20, 0, 40)
    with pytest.raises(PsychometricsError, match="same score"):
        livingston_lewis(np.full(100, 20), 0.8, 20, 0, 40)
