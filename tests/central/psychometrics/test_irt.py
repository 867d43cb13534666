"""IRT calibration checked against published output of R ltm and mirt, and against simulation.

Reference numbers and where they are published:

- ltm 1.2 ``ltm(LSAT ~ z1)`` (2PL, 21 Gauss-Hermite points): log-lik -2466.653; Dffclt -3.3597
  -1.3696 -0.2799 -1.8659 -3.1236 (std.err .8669 .3073 .0997 .4341 .8700); Dscrmn .8254 .7229 .8905
  .6886 .6575 (std.err .2581 .1867 .2326 .1852 .2100). Printed by ``summary()`` in the ltm
  documentation and in Rizopoulos (2006, J. Stat. Softw. 17(5)).
- ltm ``rasch(LSAT)`` (1PL): log-lik -2466.938; Dffclt -3.6153 -1.3224 -0.3176 -1.7301 -2.7802
  (std.err .3266 .1422 .0977 .1691 .2510); Dscrmn .7551 (.0694). Rizopoulos (2006), pp. 10-11.
- irtQ ``est_irt(LSAT6, model = "1PLM", fix.a.1pl = TRUE, a.val.1pl = 1)`` (Rasch, a = 1, irtQ
  reference manual example): log-lik -2473.054; b -2.87 -1.06 -0.26 -1.39 -2.22 (se .13 .08 .08 .09
  .11).
- mirt 1.45 ``mirt(expand.table(LSAT7), 1)`` (2PL, 61 rectangular points on [-6, 6]): log-lik
  -2658.805; a1 .988 1.081 1.706 .765 .736; d 1.856 .808 1.804 .486 1.855 (mirt reference manual,
  ``mirt`` and ``anova`` examples).
- mirt ``itemfit(mirt(expand.table(LSAT6), 'F = 1-5 CONSTRAIN = (1-5, a1)'))``: S_X2 .436 1.576 .871
  .190 .190, df 2 2 1 2 2, p .804 .455 .351 .909 .909 (mirt reference manual, ``LSAT6`` example).
- ltm ``factor.scores(ltm(LSAT ~ z1))`` (Empirical Bayes = posterior mode): pattern 00000 z1 -1.895
  (se .795), 01001 -1.019 (.801), 10011 -0.506 (.811), 11111 0.606 (.855).
"""

from __future__ import annotations

import numpy as np
import pytest

from item_bank_sync.psychometrics.errors import PsychometricsError
from item_bank_sync.psychometrics.irt import calibrate, eap_scores, lord_wingersky, map_scores
from item_bank_sync.psychometrics.quadrature import gauss_hermite, rectangular
from tests.central.psychometrics.fixtures import LSAT6_COUNTS, LSAT7_COUNTS, expand, item_ids

LSAT6 = expand(LSAT6_COUNTS)
LSAT7 = expand(LSAT7_COUNTS)


@pytest.fixture(scope="module")
def ltm_2pl():
    return calibrate(LSAT6, item_ids(), "2pl", quadrature=gauss_hermite(21), tol=1e-7)


def test_data_fixtures_are_the_published_ones():
    assert LSAT6.shape == LSAT7.shape == (1000, 5)
    np.testing.assert_allclose(LSAT6.mean(axis=0), [0.924, 0.709, 0.553, 0.763, 0.870])
    np.testing.assert_allclose(LSAT7.mean(axis=0), [0.828, 0.658, 0.772, 0.606, 0.843])


def test_2pl_lsat_matches_ltm(ltm_2pl):
    r = ltm_2pl
    assert r.converged and r.max_gradient < 1e-3
    assert r.loglik == pytest.approx(-2466.653, abs=1e-3)
    np.testing.assert_allclose(r.b, [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236], atol=1e-2)
    np.testing.assert_allclose(r.a, [0.8254, 0.7229, 0.8905, 0.6886, 0.6575], atol=1e-2)
    np.testing.assert_allclose(r.se_b, [0.8669, 0.3073, 0.0997, 0.4341, 0.8700], rtol=2e-2)
    np.testing.assert_allclose(r.se_a, [0.2581, 0.1867, 0.2326, 0.1852, 0.2100], rtol=2e-2)


def test_1pl_lsat_matches_ltm_rasch():
    r = calibrate(LSAT6, item_ids(), "1pl", quadrature=gauss_hermite(21), tol=1e-7)
    assert r.loglik == pytest.approx(-2466.938, abs=1e-3)
    np.testing.assert_allclose(r.b, [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802], atol=1e-3)
    np.testing.assert_allclose(r.a, 0.7551, atol=1e-3)
    np.testing.assert_allclose(r.se_b, [0.3266, 0.1422, 0.0977, 0.1691, 0.2510], atol=1e-3)
    np.testing.assert_allclose(r.se_a, 0.0694, atol=1e-3)


def test_rasch_with_unit_slopes_matches_irtq():
    r = calibrate(LSAT6, item_ids(), "rasch", quadrature=rectangular(49), tol=1e-7)
    assert r.loglik == pytest.approx(-2473.054, abs=2e-3)
    np.testing.assert_allclose(r.b, [-2.87, -1.06, -0.26, -1.39, -2.22], atol=6e-3)
    np.testing.assert_allclose(r.se_b, [0.13, 0.08, 0.08, 0.09, 0.11], atol=6e-3)
    assert r.to_dict()["items"][0]["se_a"] is None


def test_2pl_lsat7_matches_mirt():
    r = calibrate(LSAT7, item_ids(), "2pl", quadrature=rectangular(61), tol=1e-7)
    assert r.loglik == pytest.approx(-2658.805, abs=1e-3)
    np.testing.assert_allclose(r.a, [0.988, 1.081, 1.706, 0.765, 0.736], atol=1e-2)
    np.testing.assert_allclose(r.d, [1.856, 0.808, 1.804, 0.486, 1.855], atol=1e-2)


def test_s_x2_matches_mirt_itemfit():
    r = calibrate(LSAT6, item_ids(), "1pl", quadrature=rectangular(61), tol=1e-7)
    assert r.loglik == pytest.approx(-2466.938, abs=1e-3)
    np.testing.assert_allclose([f.s_x2 for f in r.fit], [0.436, 1.576, 0.871, 0.190, 0.190], atol=2e-3)
    assert [f.df for f in r.fit] == [2, 2, 1, 2, 2]
    np.testing.assert_allclose([f.p_value for f in r.fit], [0.804, 0.455, 0.351, 0.909, 0.909], atol=2e-3)


def test_map_scores_match_ltm_empirical_bayes(ltm_2pl):
    patterns = np.array([[0, 0, 0, 0, 0], [0, 1, 0, 0, 1], [1, 0, 0, 1, 1], [1, 1, 1, 1, 1]])
    theta, se = map_scores(ltm_2pl, patterns)
    np.testing.assert_allclose(theta, [-1.895, -1.019, -0.506, 0.606], atol=2e-3)
    np.testing.assert_allclose(se, [0.795, 0.801, 0.811, 0.855], atol=2e-3)


def test_eap_is_the_posterior_mean_and_rasch_eap_depends_on_sum_only():
    r = calibrate(LSAT6, item_ids(), "rasch", quadrature=gauss_hermite(41), tol=1e-6)
    mean, sd = eap_scores(r, LSAT6)
    totals = LSAT6.sum(axis=1)
    for s in np.unique(totals):
        assert np.ptp(mean[totals == s]) < 1e-12
    fine = np.linspace(-8, 8, 4001)
    like = np.prod(np.where(LSAT6[0][:, None] == 1, r.probability(fine), 1 - r.probability(fine)), axis=0)
    post = like * np.exp(-fine**2 / 2)
    assert mean[0] == pytest.approx((post * fine).sum() / post.sum(), abs=1e-4)
    assert np.all((sd > 0) & (sd < 1))


def test_lord_wingersky_equals_enumeration():
    p = np.array([[0.2, 0.7], [0.5, 0.9], [0.6, 0.4]])
    dist = lord_wingersky(p)
    brute = np.zeros_like(dist)
    for bits in range(8):
        x = [(bits >> j) & 1 for j in range(3)]
        brute[sum(x)] += np.prod([p[j] if x[j] else 1 - p[j] for j in range(3)], axis=0)
    np.testing.assert_allclose(dist, brute)


def test_test_information_and_csem(ltm_2pl):
    theta = np.array([-1.0, 0.0, 1.0])
    p = ltm_2pl.probability(theta)
    info = (ltm_2pl.a[:, None] ** 2 * p * (1 - p)).sum(axis=0)
    np.testing.assert_allclose(ltm_2pl.test_information(theta), info)
    np.testing.assert_allclose(ltm_2pl.csem(theta), 1 / np.sqrt(info))
    out = ltm_2pl.to_dict()
    assert out["items"][0]["item_id"] == "Item1" and {"a", "b", "se_a", "se_b", "s_x2"} <= set(out["items"][0])
    assert out["test_information"][8] == {"theta": 0.0, "information": pytest.approx(info[1], abs=1e-6),
                                          "csem": pytest.approx(1 / np.sqrt(info[1]), abs=1e-6)}


def _simulate(a, b, n, seed):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)
    return (rng.random((n, len(a))) < 1 / (1 + np.exp(-(np.outer(theta, a) - a * b)))).astype(np.uint8)


def test_2pl_recovers_simulated_parameters_within_their_standard_errors():
    a = np.array([0.6, 0.9, 1.2, 1.5, 2.0, 0.8, 1.1, 1.4, 1.7, 1.0])
    b = np.linspace(-1.8, 1.8, 10)
    r = calibrate(_simulate(a, b, 4000, 20260501), item_ids(10), "2pl")
    assert r.converged
    assert np.all(np.abs(r.a - a) / r.se_a < 3.5)
    assert np.all(np.abs(r.b - b) / r.se_b < 3.5)
    assert np.all([f.p_value > 0.001 for f in r.fit])


def test_rasch_recovers_difficulties_and_1pl_finds_the_common_slope():
    b = np.linspace(-2, 2, 12)
    x = _simulate(np.full(12, 1.0), b, 3000, 7)
    r = calibrate(x, item_ids(12), "rasch", item_fit=False)
    assert np.all(np.abs(r.b - b) / r.se_b < 3.5)
    one = calibrate(x, item_ids(12), "1pl", item_fit=False)
    assert abs(one.a[0] - 1.0) < 3.5 * one.se_a[0]
    assert one.loglik >= r.loglik - 1e-6


def test_long_test_slopes_are_unbiased_with_the_default_quadrature():
    """120 items make posteriors narrower than 41-point Gauss-Hermite node gaps (which bias a down)."""
    rng = np.random.default_rng(12)
    a, b = rng.uniform(0.6, 2.0, 120), rng.normal(0, 1, 120)
    r = calibrate(_simulate(a, b, 4000, 13), item_ids(120), "2pl", standard_errors=False, item_fit=False)
    assert r.quadrature.rule == "rectangular" and r.converged
    assert abs(np.median(r.a - a)) < 0.03
    assert abs(np.median(r.b - b)) < 0.03


def test_misfitting_item_is_flagged_by_s_x2():
    a = np.full(10, 1.2)
    b = np.linspace(-1.5, 1.5, 10)
    x = _simulate(a, b, 3000, 11)
    rng = np.random.default_rng(3)
    x[:, 4] = (rng.random(3000) < 0.5).astype(np.uint8)  # item 5 answered at random: no relation
    r = calibrate(x, item_ids(10), "1pl")
    assert r.fit[4].p_value < 1e-4


def test_refusals_are_clear():
    with pytest.raises(PsychometricsError, match="at least 50"):
        calibrate(LSAT6[:10], item_ids(), "2pl")
    bad = LSAT6.copy()
    bad[:, 2] = 1
    with pytest.raises(PsychometricsError, match="Item3"):
        calibrate(bad, item_ids(), "2pl")
    with pytest.raises(PsychometricsError, match="0 or 1"):
        calibrate(LSAT6 * 2, item_ids(), "2pl")
    with pytest.raises(PsychometricsError, match="unknown IRT model"):
        calibrate(LSAT6, item_ids(), "3pl")
    with pytest.raises(PsychometricsError, match="item ids"):
        calibrate(LSAT6, item_ids(4), "2pl")


def test_non_convergence_is_reported_not_hidden():
    r = calibrate(LSAT6, item_ids(), "2pl", max_steps=4, standard_errors=False, item_fit=False)
    assert not r.converged
    assert "did not converge" in r.messages[0]
    assert r.to_dict()["converged"] is False
