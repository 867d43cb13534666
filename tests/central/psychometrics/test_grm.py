"""Graded response model: checked against mirt's published 2PL (the GRM with two categories) and
against simulated data with known parameters.

Reference: mirt 1.45 ``mirt(expand.table(LSAT7), 1)`` (61 rectangular points): log-lik -2658.805;
a1 .988 1.081 1.706 .765 .736; d 1.856 .808 1.804 .486 1.855 (mirt reference manual). mirt fits
dichotomous items with ``itemtype = "graded"`` to the same likelihood, so a correct GRM must
reproduce these numbers when every item has categories 0 and 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.grm import calibrate_graded
from item_bank_sync.psychometrics.quadrature import rectangular
from tests.central.psychometrics.fixtures import LSAT7_COUNTS, expand, item_ids


def test_two_category_grm_is_mirts_2pl_on_lsat7():
    r = calibrate_graded(expand(LSAT7_COUNTS), item_ids(), quadrature=rectangular(61), tol=1e-7)
    assert r.converged
    assert r.loglik == pytest.approx(-2658.805, abs=1e-3)
    np.testing.assert_allclose(r.a, [0.988, 1.081, 1.706, 0.765, 0.736], atol=1e-2)
    np.testing.assert_allclose([d[0] for d in r.d], [1.856, 0.808, 1.804, 0.486, 1.855], atol=1e-2)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20260502)
    a = np.array([1.0, 1.4, 1.8, 2.2, 1.2, 1.6])
    b = np.array([-1.5, 0.0, 1.5])[None, :] + np.array([-0.6, -0.3, 0.0, 0.3, 0.6, 0.0])[:, None]
    theta = rng.standard_normal(2000)
    star = 1 / (1 + np.exp(-(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))))
    x = (rng.random((2000, 6, 1)) < star).sum(axis=2)
    return a, b, calibrate_graded(x, item_ids(6))


def test_grm_recovers_simulated_parameters(simulated):
    a, b, r = simulated
    assert r.converged
    np.testing.assert_allclose(r.a, a, atol=0.25)
    np.testing.assert_allclose(np.array(r.b), b, atol=0.3)  # extreme thresholds of the flattest item: SE ~.14


def test_grm_information_is_the_derivative_formula(simulated):
    _, _, r = simulated
    theta, h = np.array([-1.0, 0.3]), 1e-5
    for j in range(6):
        p = r.category_probabilities(j, theta)
        dp = (r.category_probabilities(j, theta + h) - r.category_probabilities(j, theta - h)) / (2 * h)
        np.testing.assert_allclose(r.information(theta)[j], (dp**2 / p).sum(axis=0), rtol=1e-6)
    assert r.to_dict()["items"][0]["b"] == pytest.approx(list(r.b[0]))


def test_grm_refuses_an_empty_middle_category():
    x = np.tile(np.array([[0, 2], [2, 0], [0, 0], [2, 2], [2, 1]]), (20, 1))
    with pytest.raises(PsychometricsError, match="Item1: no candidate scored 1"):
        calibrate_graded(x, item_ids(2))


def test_two_category_grm_standard_errors_are_the_2pls():
    """With two categories the GRM is the 2PL, whose observed-information SEs match ltm (test_irt)."""
    from item_bank_sync.psychometrics.irt import calibrate

    x = expand(LSAT7_COUNTS)
    g = calibrate_graded(x, item_ids(), tol=1e-7)
    r = calibrate(x, item_ids(), "2pl", tol=1e-7)
    assert g.se_a is not None and g.se_b is not None and r.se_a is not None and r.se_b is not None
    np.testing.assert_allclose(g.se_a, r.se_a, rtol=1e-3)
    np.testing.assert_allclose([s[0] for s in g.se_b], r.se_b, rtol=1e-3)
    items = g.to_dict()["items"]
    assert isinstance(items, list) and "se_b" in items[0]


def test_grm_standard_errors_match_the_spread_over_simulated_replications():
    """Observed-information SEs against the SD of estimates over 100 independent samples of 400
    candidates (3 categories, known parameters): the mean SE within 20 % of the empirical SD for
    every a and b (the Monte Carlo error of an SD from 100 replications alone is about 7 %)."""
    rng = np.random.default_rng(20261207)
    a = np.array([0.9, 1.3, 1.7, 1.1])
    b = np.array([[-1.2, 0.4], [-0.6, 0.8], [-0.2, 1.0], [-1.0, 0.2]])
    est_a, est_b, se_a, se_b = [], [], [], []
    for _ in range(100):
        theta = rng.standard_normal(400)
        star = 1 / (1 + np.exp(-(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))))
        x = (rng.random((400, 4, 1)) < star).sum(axis=2)
        r = calibrate_graded(x, item_ids(4))
        assert r.se_a is not None and r.se_b is not None
        est_a.append(r.a)
        est_b.append(np.array(r.b))
        se_a.append(r.se_a)
        se_b.append(np.array(r.se_b))
    ratio_a = np.mean(se_a, axis=0) / np.std(est_a, axis=0, ddof=1)
    ratio_b = np.mean(se_b, axis=0) / np.std(est_b, axis=0, ddof=1)
    assert np.all(np.abs(ratio_a - 1) < 0.2), ratio_a
    assert np.all(np.abs(ratio_b - 1) < 0.2), ratio_b
