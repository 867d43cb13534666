"""Equating checked against Kolen & Brennan's published ACT and NEAT examples, and by properties.

References (KB = Kolen & Brennan, *Test Equating, Scaling, and Linking*, 2nd ed. 2004 / 3rd ed. 2014):

- ACT mathematics data, KB Table 2.5 (R equate ``ACTmath``): form X mean 19.8524, SD 8.2116
  (N 4329); form Y mean 18.9798, SD 8.9393 (N 4152). Mean equating ``x - .8726``; linear
  ``1.0886 x - 2.6319``.
- Unsmoothed equipercentile equivalents, KB Table 2.7 ("equipercentile" column), x = 1..40:
  .9796 1.6462 2.2856 2.8932 3.6205 4.4997 5.5148 6.3124 7.2242 8.1607 9.1827 10.1859 11.2513
  12.3896 13.3929 14.5240 15.7169 16.8234 18.0092 19.1647 20.3676 21.4556 22.6871 23.9157 25.0292
  26.1612 27.2633 28.1801 29.1424 30.1305 31.1297 32.1357 33.0781 34.0172 35.1016 36.2426 37.1248
  38.1321 39.0807 39.9006. (x = 0 has no form X candidates; KB treats a zero percentile rank apart.)
- NEAT example, KB chapter 4 (pp. 121-124, the ``KBneat`` data: 36 items, 12-item internal anchor):
  group 1 (X): N 1655, mean X 15.8205, SD 6.5278, mean V 5.1063, SD 2.3760, cov(X, V) 13.4088;
  group 2 (Y): N 1638, mean Y 18.6728, SD 6.8784, mean V 5.8626, SD 2.4515, cov(Y, V) 14.7603.
  With w1 = 1: Tucker mu_s(Y) 16.8153, sd_s(Y) 6.7168, l(x) = 1.0289 x + .5368; Levine observed
  score mu_s(Y) 16.2486, sd_s(Y) 6.6006, l(x) = 1.0111 x + .2517.
"""

from __future__ import annotations

import numpy as np
import pytest

from item_bank_sync.psychometrics.equating import (GroupMoments, ItemParameters, NeatData,
                                                   chained_linear_coefficients, equipercentile_equating,
                                                   irt_true_score_equating, linear_equating,
                                                   loglinear_smooth, mean_equating, neat_equating,
                                                   percentile_point, percentile_rank, stocking_lord,
                                                   synthetic_linear)
from item_bank_sync.psychometrics.errors import PsychometricsError
from tests.central.psychometrics.fixtures import ACT_X, ACT_Y, KB_TABLE_2_7

FX, FY = np.array(ACT_X, float), np.array(ACT_Y, float)
KB_G1 = GroupMoments(1655, 15.8205, 6.5278, 5.1063, 2.3760, 13.4088)
KB_G2 = GroupMoments(1638, 18.6728, 6.8784, 5.8626, 2.4515, 14.7603)


def test_act_moments_mean_and_linear_match_kb_chapter_2():
    lin = linear_equating(FX, FY)
    assert lin.details["mu_x"] == pytest.approx(19.8524, abs=1e-4)
    assert lin.details["sd_x"] == pytest.approx(8.2116, abs=1e-4)
    assert lin.details["mu_y"] == pytest.approx(18.9798, abs=1e-4)
    assert lin.details["sd_y"] == pytest.approx(8.9393, abs=1e-4)
    assert lin.details["slope"] == pytest.approx(1.0886, abs=1e-4)
    assert lin.details["intercept"] == pytest.approx(-2.6319, abs=1e-4)
    np.testing.assert_allclose(mean_equating(FX, FY).equated, np.arange(41) - 0.8726, atol=1e-4)


def test_act_equipercentile_matches_kb_table_2_7():
    e = equipercentile_equating(FX, FY)
    np.testing.assert_allclose(e.equated[1:], KB_TABLE_2_7, atol=1e-4)


def test_percentile_rank_and_its_inverse_are_inverse():
    x = np.linspace(0.5, 40.5, 81)[:-1]  # score 0 has no form Y candidates: P is flat below 0.5
    p = percentile_rank(x, FY)
    np.testing.assert_allclose(percentile_point(p, FY), x, atol=1e-9)
    assert percentile_rank(-0.5, FY) == 0 and percentile_rank(40.5, FY) == pytest.approx(100)


def test_lord_standard_errors_agree_with_a_bootstrap():
    e = equipercentile_equating(FX, FY)
    rng = np.random.default_rng(20260503)
    reps = [equipercentile_equating(rng.multinomial(4329, FX / FX.sum()).astype(float),
                                    rng.multinomial(4152, FY / FY.sum()).astype(float)).equated
            for _ in range(300)]
    boot = np.std(reps, axis=0, ddof=1)
    np.testing.assert_allclose(e.se[10:36], boot[10:36], rtol=0.2)


def test_linear_standard_error_is_smallest_at_the_mean():
    lin = linear_equating(FX, FY)
    assert np.argmin(lin.se) in (19, 20)
    assert lin.se[20] == pytest.approx(8.9393 * np.sqrt(1 / 4329 + 1 / 4152), rel=1e-2)


def test_loglinear_presmoothing_keeps_the_first_c_moments():
    k = np.arange(41.0)
    for degree in (2, 4, 6):
        s = loglinear_smooth(FX, degree)
        assert s.sum() == pytest.approx(FX.sum())
        for c in range(1, degree + 1):
            assert (s @ k**c) / s.sum() == pytest.approx((FX @ k**c) / FX.sum(), rel=1e-8)
        assert np.all(s > 0)
    smoothed = equipercentile_equating(FX, FY, smoothing=6)
    assert np.all(np.diff(smoothed.equated) > 0)
    np.testing.assert_allclose(smoothed.equated[5:36], KB_TABLE_2_7[4:35], atol=0.35)


def test_tucker_and_levine_match_kb_chapter_4():
    t = synthetic_linear(KB_G1, KB_G2, "tucker", w1=1.0)
    assert t["mu_sy"] == pytest.approx(16.8153, abs=1e-3) and t["sd_sy"] == pytest.approx(6.7168, abs=1e-3)
    assert t["slope"] == pytest.approx(1.0289, abs=1e-4) and t["intercept"] == pytest.approx(0.5368, abs=1e-3)
    lv = synthetic_linear(KB_G1, KB_G2, "levine", w1=1.0)
    assert lv["mu_sy"] == pytest.approx(16.2486, abs=1e-3) and lv["sd_sy"] == pytest.approx(6.6006, abs=1e-3)
    assert lv["slope"] == pytest.approx(1.0111, abs=1e-4) and lv["intercept"] == pytest.approx(0.2517, abs=1e-3)


def _neat_sample(seed: int, shift: float = 0.5, n: int = 3000) -> NeatData:
    """X and Y parallel 30-item forms with a 10-item internal anchor; group 2 abler by ``shift``."""
    rng = np.random.default_rng(seed)

    def group(mu: float, easier: float) -> tuple[np.ndarray, np.ndarray]:
        theta = rng.normal(mu, 1, n)
        b = np.linspace(-1.5, 1.5, 30) - easier
        b[::3] = np.linspace(-1.5, 1.5, 30)[::3]  # anchor items identical on both forms
        x = (rng.random((n, 30)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
        return x.sum(axis=1), x[:, ::3].sum(axis=1)

    x, vx = group(0.0, 0.0)
    y, vy = group(shift, 0.0)
    return NeatData(x, vx, y, vy, 30, 30, 10)


def test_neat_methods_find_identical_forms_equal_despite_abler_group():
    data = _neat_sample(5, shift=0.3)  # Tucker is known to be biased for larger group differences
    naive = mean_equating(np.bincount(data.x, minlength=31).astype(float),
                          np.bincount(data.y, minlength=31).astype(float))
    assert naive.equated[15] - 15 > 1.0  # ignoring the anchor confounds ability with difficulty
    for method in ("tucker", "levine", "chained-linear", "chained"):
        conv = neat_equating(data, method, bootstrap=40)
        assert abs(conv.equated[15] - 15) < 3 * conv.se[15] + 0.35, method
        assert conv.se_method.startswith("bootstrap")


def test_chained_linear_formula():
    c = chained_linear_coefficients(KB_G1, KB_G2)
    x = 20.0
    expected = 18.6728 + 6.8784 / 2.4515 * (5.1063 - 5.8626 + 2.3760 / 6.5278 * (x - 15.8205))
    assert c["slope"] * x + c["intercept"] == pytest.approx(expected, abs=1e-9)


def test_stocking_lord_recovers_a_known_scale_transformation():
    rng = np.random.default_rng(8)
    ref = ItemParameters.of(rng.uniform(0.6, 2.0, 12), rng.normal(0, 1, 12), rng.uniform(0, 0.25, 12))
    A, B = 1.2, -0.3  # theta_ref = A theta_new + B
    new = ItemParameters(ref.a * A, (ref.b - B) / A, ref.c)
    got_a, got_b = stocking_lord(new, ref)
    assert got_a == pytest.approx(A, abs=1e-5) and got_b == pytest.approx(B, abs=1e-5)


def test_true_score_equating_identity_floor_and_monotonicity():
    rng = np.random.default_rng(9)
    form = ItemParameters.of(rng.uniform(0.6, 2.0, 20), rng.normal(0, 1, 20))
    same = irt_true_score_equating(form, form)
    np.testing.assert_allclose(same.equated, np.arange(21), atol=1e-8)
    harder = ItemParameters(form.a, form.b + 0.4, form.c)
    conv = irt_true_score_equating(harder, form)
    assert np.all(np.diff(conv.equated) > 0) and np.all(conv.equated[1:-1] > np.arange(1, 20))
    guess = ItemParameters.of(form.a, form.b, np.full(20, 0.2))
    floor = irt_true_score_equating(guess, guess)
    assert floor.equated[2] == pytest.approx(2.0) and floor.equated[10] == pytest.approx(10.0, abs=1e-6)


def test_refusals():
    with pytest.raises(PsychometricsError, match="at least 30"):
        neat_equating(NeatData(np.array([1, 2]), np.array([1, 1]), np.array([1]), np.array([1]), 3, 3, 1),
                      "tucker")
    with pytest.raises(PsychometricsError, match="unknown NEAT method"):
        neat_equating(_neat_sample(1, n=50), "braun")
    with pytest.raises(PsychometricsError, match="log-linear degree"):
        loglinear_smooth(FX, 0)


def test_irt_true_score_bootstrap_ses_match_the_spread_over_replications():
    """Bootstrap SEs of the whole IRT chain (2PL calibration of both forms, Stocking-Lord on 5 anchor
    items, true-score conversion; Tsai et al., 2001) against the SD of the conversion over 100
    independent simulated administrations (500 candidates per form, the new form .3 logits harder
    on its unique items, the reference group .3 SD abler): within 25 % at every inner raw score."""
    from item_bank_sync.psychometrics.equating import irt_true_score_from_scores

    rng = np.random.default_rng(20261208)
    k, anchor = 15, list(range(0, 15, 3))
    b_ref = np.linspace(-1.5, 1.5, k)
    b_new = b_ref + 0.3
    b_new[anchor] = b_ref[anchor]
    a = np.linspace(0.8, 1.6, k)

    def sample(mu: float, b: np.ndarray) -> np.ndarray:
        theta = rng.normal(mu, 1, 500)
        return (rng.random((500, k)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(int)

    spread = np.std([irt_true_score_from_scores(sample(0, b_new), sample(.3, b_ref), anchor, anchor).equated
                     for _ in range(100)], axis=0, ddof=1)
    convs = [irt_true_score_from_scores(sample(0, b_new), sample(.3, b_ref), anchor, anchor, bootstrap=50)
             for _ in range(5)]
    assert all(c.se is not None and "bootstrap" in (c.se_method or "") for c in convs)
    ratio = np.mean([c.se for c in convs], axis=0)[1:-1] / spread[1:-1]
    assert np.all(np.abs(ratio - 1) < 0.25), ratio
