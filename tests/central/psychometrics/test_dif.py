"""DIF checked against R's published Mantel-Haenszel output and on simulated items with known DIF.

Reference: R 4.x ``mantelhaen.test(UCBAdmissions)`` (stats package documentation example; UC
Berkeley admissions 1973, admitted/rejected x male/female x 6 departments): Mantel-Haenszel
X-squared = 1.4269 (continuity correction), df = 1, p = 0.2323; common odds ratio 0.9046968, 95%
CI 0.7719074 to 1.0603298 (the CI uses the Robins-Breslow-Greenland variance). difR's ``difMH``
computes the same statistic and ``alphaMH`` with the total score as strata.

For a Rasch item whose difficulty is ``delta_b`` logits higher for the focal group, the MH log odds
ratio estimates ``delta_b`` exactly (Holland & Thayer, 1988), so ``Delta_MH ~ -2.35 delta_b``.
"""

from __future__ import annotations

import numpy as np
import pytest

from item_bank_sync.psychometrics.dif import (dif_report, logistic_regression_dif, mantel_haenszel,
                                              mantel_haenszel_tables)
from item_bank_sync.psychometrics.errors import PsychometricsError

# UCBAdmissions by department A..F: (admitted, rejected) for males (reference) and females (focal).
MALE_ADMITTED, MALE_REJECTED = [512, 353, 120, 138, 53, 22], [313, 207, 205, 279, 138, 351]
FEMALE_ADMITTED, FEMALE_REJECTED = [89, 17, 202, 131, 94, 24], [19, 8, 391, 244, 299, 317]


def test_mh_matches_r_mantelhaen_test_on_ucb_admissions():
    r = mantel_haenszel_tables([MALE_ADMITTED], [MALE_REJECTED], [FEMALE_ADMITTED], [FEMALE_REJECTED])
    assert r.odds_ratio[0] == pytest.approx(0.9046968, abs=1e-7)
    assert r.chi_square[0] == pytest.approx(1.4269, abs=1e-4)
    assert r.p_value[0] == pytest.approx(0.2323, abs=1e-4)
    ci = np.exp(np.log(r.odds_ratio[0]) + np.array([-1, 1]) * 1.959964 * r.se_log_odds[0])
    np.testing.assert_allclose(ci, [0.7719074, 1.0603298], atol=1e-6)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20260504)
    n, k = 4000, 20
    focal = np.arange(n) >= n // 2
    theta = rng.standard_normal(n) - 0.3 * focal  # impact: focal group less able, which MH matches away
    a = np.full((n, k), 1.0)
    b = np.tile(np.linspace(-1.5, 1.5, k), (n, 1))
    b[focal, 2] += 0.6           # item 3: uniform DIF against the focal group
    a[:, 6] = np.where(focal, 0.3, 1.8)  # item 7: non-uniform DIF (crossing curves), same difficulty
    b[:, 6] = 0.0
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(np.uint8)
    return x, focal


def test_mh_finds_uniform_dif_with_the_right_size_and_sign(simulated):
    x, focal = simulated
    mh = mantel_haenszel(x, focal)
    assert mh.delta[2] == pytest.approx(-2.35 * 0.6, abs=0.35)
    assert mh.p_value[2] < 1e-6
    classes = mh.ets_class()
    assert classes[2] in ("B", "C")
    clean = [j for j in range(20) if j not in (2, 6)]
    assert sum(classes[j] == "A" for j in clean) >= 17


def test_logistic_regression_separates_uniform_from_non_uniform_dif(simulated):
    x, focal = simulated
    lr = logistic_regression_dif(x, focal)
    assert lr.uniform_p[2] < 1e-6 and lr.nonuniform_p[2] > 1e-3
    assert lr.nonuniform_p[6] < 1e-6
    clean = [j for j in range(20) if j not in (2, 6)]
    assert np.mean(lr.total_p[clean] < 0.01) <= 0.15
    assert lr.r2_change[2] > lr.r2_change[clean].max()


def test_logistic_fit_on_cells_equals_candidate_level_likelihood(simulated):
    """The aggregated fit must give the candidate-level MLE: check by direct optimisation of item 7."""
    from scipy.optimize import minimize
    from scipy.special import log_expit
    x, focal = simulated
    s = x.sum(axis=1)
    s = (s - s.mean()) / s.std()
    g = focal.astype(float)
    y = x[:, 6]

    def nll(beta, design):
        z = design @ beta
        return -(y @ log_expit(z) + (1 - y) @ log_expit(-z))

    d1 = np.column_stack([np.ones_like(g), s, g])
    d2 = np.column_stack([d1, s * g])
    ll1 = -minimize(nll, np.zeros(3), args=(d1,), method="BFGS").fun
    ll2 = -minimize(nll, np.zeros(4), args=(d2,), method="BFGS").fun
    from scipy.stats import chi2
    expected_p = chi2.sf(2 * (ll2 - ll1), 1)
    got = logistic_regression_dif(x, focal).nonuniform_p[6]
    assert np.log10(got) == pytest.approx(np.log10(expected_p), abs=0.05)


def test_report_shape_and_group_size_floor(simulated):
    x, focal = simulated
    rows = dif_report(x, focal, [f"I{j}" for j in range(20)])
    assert set(rows[0]) >= {"mh_odds_ratio", "mh_delta", "ets_class", "p_value", "lr_uniform_p",
                            "lr_nonuniform_p"}
    with pytest.raises(PsychometricsError, match="at least 100"):
        mantel_haenszel(x[:2050], focal[:2050])
