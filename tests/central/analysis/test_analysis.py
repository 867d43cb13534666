"""Item analysis checked against hand-computed values, direct textbook formulas and simulations
whose population values are known in closed form."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exam_core.errors import TooLargeError, ValidationError
from item_bank_sync.analysis.matrix_csv import parse_matrix_csv, read_matrix_csv
from item_bank_sync.analysis.stats import (
    FLAG_LOW_DISCRIMINATION,
    FLAG_POSSIBLE_MISKEY,
    FLAG_REST_CONSTANT,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    FLAG_ZERO_VARIANCE,
    FlagThresholds,
    add_distractor_analysis,
    analyze_scores,
)

REPO = Path(__file__).resolve().parents[3]

# Five candidates, four items; totals 3, 2, 2, 4, 0.
HAND = np.array([
    [1, 1, 1, 0],
    [1, 0, 1, 0],
    [0, 0, 1, 1],
    [1, 1, 1, 1],
    [0, 0, 0, 0],
], dtype=np.uint8)


def test_hand_computed_small_matrix():
    a = analyze_scores(HAND, ["i1", "i2", "i3", "i4"])
    # mean 11/5; deviations of totals squared: .64+.04+.04+3.24+4.84 = 8.8, /4 = 2.2
    assert a.test.mean == pytest.approx(2.2)
    assert a.test.sd == pytest.approx(math.sqrt(2.2))
    # item variances (n-1): .3, .3, .2, .3 -> sum 1.1; alpha = 4/3 (1 - 1.1/2.2) = 2/3
    assert a.test.alpha == pytest.approx(2 / 3)
    assert a.test.sem == pytest.approx(math.sqrt(2.2) * math.sqrt(1 / 3))
    assert [i.p for i in a.items] == pytest.approx([0.6, 0.4, 0.8, 0.4])
    # i1 = (1,1,0,1,0), rest = (2,1,2,3,0): sum of cross products 1.2, sums of squares 1.2 and 5.2
    assert a.items[0].rpb_corrected == pytest.approx(1.2 / math.sqrt(1.2 * 5.2))
    # alpha without i4: items 1-3, variances .3+.3+.2 = .8, rest totals (3,2,1,3,0) var 1.7
    assert a.items[3].alpha_if_deleted == pytest.approx(1.5 * (1 - 0.8 / 1.7))
    # g = floor(0.27 * 5) = 1: lower = candidate 5 (total 0), upper = candidate 4 (total 4)
    assert [i.discrimination_index for i in a.items] == pytest.approx([1, 1, 1, 1])
    assert a.items[3].flags == [FLAG_LOW_DISCRIMINATION]
    assert a.items[0].flags == []


def _direct(scores: np.ndarray) -> dict:
    """The textbook formulas, one item at a time (slow but obviously right)."""
    x = scores.astype(float)
    _n, k = x.shape
    t = x.sum(1)
    p = x.mean(0)
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / t.var())  # KR-20 with population variances
    rpb, alpha_del = [], []
    for i in range(k):
        rest = t - x[:, i]
        rpb.append(np.corrcoef(x[:, i], rest)[0, 1])
        others = np.delete(x, i, axis=1)
        alpha_del.append((k - 1) / (k - 2) * (1 - others.var(0, ddof=1).sum() / others.sum(1).var(ddof=1)))
    return {"p": p, "kr20": kr20, "rpb": np.array(rpb), "alpha_del": np.array(alpha_del),
            "sd": t.std(ddof=1)}


def _rasch(n: int, b: np.ndarray, seed: int, a: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 1))
    a = np.ones_like(b) if a is None else a
    prob = 1 / (1 + np.exp(-a * (theta - b)))
    return (rng.random(prob.shape) < prob).astype(np.uint8), theta[:, 0]


def test_matches_textbook_formulas_on_simulated_2pl():
    b = np.linspace(-2, 2, 25)
    a = np.linspace(0.3, 2.5, 25)
    scores, _ = _rasch(3000, b, seed=7, a=a)
    result = analyze_scores(scores, [f"q{i}" for i in range(25)])
    direct = _direct(scores)
    assert [i.p for i in result.items] == pytest.approx(list(direct["p"]), abs=1e-12)
    assert result.test.alpha == pytest.approx(direct["kr20"], abs=1e-10)  # KR-20 == alpha on 0/1 data
    assert result.test.sd == pytest.approx(direct["sd"])
    assert [i.rpb_corrected for i in result.items] == pytest.approx(list(direct["rpb"]), abs=1e-9)
    assert [i.alpha_if_deleted for i in result.items] == pytest.approx(list(direct["alpha_del"]), abs=1e-9)


def test_rasch_difficulties_recovered():
    """p must fall as the known difficulty rises, and match the population value."""
    b = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    scores, _ = _rasch(40_000, b, seed=3)
    p = np.array([i.p for i in analyze_scores(scores, list("abcde")).items])
    assert np.all(np.diff(p) < 0)
    # population p_i = E[logistic(theta - b_i)], theta ~ N(0, 1), by quadrature
    grid = np.linspace(-8, 8, 4001)
    weight = np.exp(-grid**2 / 2)
    weight /= weight.sum()
    expected = np.array([(weight / (1 + np.exp(-(grid - bi)))).sum() for bi in b])
    assert p == pytest.approx(expected, abs=0.01)


def test_parallel_items_alpha_matches_spearman_brown():
    """Probit items x = [theta + e > 0] with theta ~ N(0, s2), e ~ N(0, 1) are parallel with
    p = .5 and phi = 2 asin(rho) / pi, rho = s2 / (s2 + 1); alpha is then Spearman-Brown's
    k phi / (1 + (k - 1) phi) and the item-rest correlation (k-1) phi / sqrt((k-1)(1 + (k-2) phi))."""
    rng = np.random.default_rng(11)
    n, k, s2 = 60_000, 10, 1.0
    theta = rng.normal(scale=math.sqrt(s2), size=(n, 1))
    scores = (theta + rng.normal(size=(n, k)) > 0).astype(np.uint8)
    result = analyze_scores(scores, [f"p{i}" for i in range(k)])
    phi = 2 * math.asin(s2 / (s2 + 1)) / math.pi
    assert result.test.alpha == pytest.approx(k * phi / (1 + (k - 1) * phi), abs=0.01)
    expected_rpb = (k - 1) * phi / math.sqrt((k - 1) * (1 + (k - 2) * phi))
    for item in result.items:
        assert item.rpb_corrected == pytest.approx(expected_rpb, abs=0.02)
        assert item.p == pytest.approx(0.5, abs=0.01)


def test_flags_noise_and_reversed_items():
    b = np.zeros(12)
    scores, _theta = _rasch(5000, b, seed=5, a=np.full(12, 1.5))
    rng = np.random.default_rng(9)
    scores[:, 10] = rng.random(5000) < 0.5            # pure noise: no discrimination
    scores[:, 11] = 1 - scores[:, 11]                 # keyed backwards: negative discrimination
    scores[:, 0] = rng.random(5000) < 0.1             # hard noise item
    scores[:, 1] = rng.random(5000) < 0.98            # easy noise item
    result = analyze_scores(scores, [f"i{i}" for i in range(12)])
    flags = {i.item_id: i.flags for i in result.items}
    assert FLAG_LOW_DISCRIMINATION in flags["i10"]
    assert result.items[11].rpb_corrected < -0.2 and result.items[11].discrimination_index < 0
    assert FLAG_TOO_HARD in flags["i0"] and FLAG_TOO_EASY in flags["i1"]
    assert all(flags[f"i{i}"] == [] for i in range(2, 10))


def test_thresholds_are_configurable():
    loose = FlagThresholds(p_min=0.0, p_max=1.0, rpb_min=-1.0)
    assert all(i.flags == [] for i in analyze_scores(HAND, list("abcd"), thresholds=loose).items)
    strict = FlagThresholds(p_min=0.7, p_max=0.7, rpb_min=0.9)
    items = analyze_scores(HAND, list("abcd"), thresholds=strict).items
    assert FLAG_TOO_HARD in items[0].flags and FLAG_TOO_EASY in items[2].flags
    assert all(FLAG_LOW_DISCRIMINATION in i.flags for i in items)


def test_discrimination_index_ties_use_stable_order():
    # ten candidates, g = floor(2.7) = 2; totals (item a + b): five at 1, tie at the boundaries
    a = np.array([1, 0, 1, 0, 1, 0, 1, 1, 1, 1])
    b = np.array([0, 1, 0, 1, 0, 0, 0, 1, 1, 0])
    scores = np.stack([a, b], axis=1)
    # totals: 1,1,1,1,1,0,1,2,2,1 -> ascending stable order: 5, 0, 1, 2, 3, 4, 6, 9, 7, 8
    # lower = candidates 5, 0 ; upper = candidates 7, 8
    result = analyze_scores(scores, ["a", "b"])
    assert result.items[0].discrimination_index == pytest.approx((1 + 1) / 2 - (0 + 1) / 2)
    assert result.items[1].discrimination_index == pytest.approx((1 + 1) / 2 - (0 + 0) / 2)


def test_edge_cases_give_null_not_nan():
    zero_var = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [1, 0, 0]])
    result = analyze_scores(zero_var, ["all", "x", "y"])
    assert result.items[0].rpb_corrected is None and FLAG_ZERO_VARIANCE in result.items[0].flags
    json.dumps(result.to_dict(), allow_nan=False)

    constant_total = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    result = analyze_scores(constant_total, ["a", "b"])
    assert result.test.sd == 0 and result.test.alpha is None and result.test.sem is None
    json.dumps(result.to_dict(), allow_nan=False)

    single = analyze_scores(np.array([[1], [0], [1]]), ["only"])
    assert single.test.alpha is None and single.items[0].rpb_corrected is None
    assert single.items[0].alpha_if_deleted is None
    assert FLAG_REST_CONSTANT in single.items[0].flags
    json.dumps(single.to_dict(), allow_nan=False)

    one_candidate = analyze_scores(np.array([[1, 0, 1]]), list("abc"))
    assert one_candidate.test.sd is None and one_candidate.items[0].discrimination_index is None
    json.dumps(one_candidate.to_dict(), allow_nan=False)


def test_distractor_analysis_finds_a_miskey():
    """Strong candidates choose B, which is the right answer, but the key says A."""
    scores, theta = _rasch(4000, np.zeros(20), seed=21)
    strong = theta > 0.3
    rng = np.random.default_rng(4)
    choices = np.where(strong, 1, rng.integers(0, 4, size=4000))   # option codes: A=0 B=1 C=2 D=3
    choices[rng.random(4000) < 0.02] = -1                          # some omitted
    scores[:, 0] = choices == 0                                     # scored against the wrong key A
    result = analyze_scores(scores, [f"i{i}" for i in range(20)])
    add_distractor_analysis(result, scores, 0, choices, ["A", "B", "C", "D"], {"A"})
    options = {o.option: o for o in result.items[0].options}
    assert options["B"].rpb > 0.3 and not options["B"].is_key
    assert FLAG_POSSIBLE_MISKEY in result.items[0].flags
    assert sum(o.share for o in options.values()) == pytest.approx(1 - (choices == -1).mean())
    # the option point-biserial equals Pearson's r of the indicator with the rest score
    rest = result.totals - scores[:, 0]
    assert options["C"].rpb == pytest.approx(np.corrcoef(choices == 2, rest)[0, 1])

    # the same item correctly keyed: no mis-key flag, the key has the high point-biserial
    scores[:, 0] = choices == 1
    fixed = analyze_scores(scores, [f"i{i}" for i in range(20)])
    add_distractor_analysis(fixed, scores, 0, choices, ["A", "B", "C", "D"], {"B"})
    assert FLAG_POSSIBLE_MISKEY not in fixed.items[0].flags


# --- CSV --------------------------------------------------------------------------------------

def test_csv_round_trip_crlf_and_bom():
    data = b"\xef\xbb\xbfcandidate_id,q1,q2\r\nc1,1,0\r\nc2,0,0\r\n"
    m = parse_matrix_csv(data)
    assert m.candidate_ids == ["c1", "c2"] and m.item_ids == ["q1", "q2"]
    assert m.scores.tolist() == [[1, 0], [0, 0]]


@pytest.mark.parametrize("data, where, reason", [
    (b"", "line 1", "empty"),
    (b"id,q1\nc1,1\n", "line 1, column 1", "candidate_id"),
    (b"candidate_id\nc1\n", "line 1", "no item columns"),
    (b"candidate_id,q1,q1\nc1,1,1\n", "line 1, column 3", "twice"),
    (b"candidate_id,q1\n", "line 2", "no candidate rows"),
    (b"candidate_id,q1,q2\nc1,1,0\nc2,1,2\n", "line 3, column 3 (q2)", "must be 0 or 1"),
    (b"candidate_id,q1,q2\nc1,1,0\nc2,1\n", "line 3", "1 item cells, header has 2"),
    (b"candidate_id,q1,q2\nc1,1,0\nc2,1, 1\n", "line 3, column 3 (q2)", "must be 0 or 1"),
    (b"candidate_id,q1\nc1,1\nc2,0\nc1,1\n", "line 4, column 1", "duplicate candidate id 'c1' (first on line 2)"),
    (b"candidate_id,q1\nc 1,1\n", "line 2, column 1", "not valid"),
    (b"candidate_id,q1\nc1,1\n\n", "line 3", "is empty"),
])
def test_csv_errors_name_row_and_column(data, where, reason):
    with pytest.raises(ValidationError) as info:
        parse_matrix_csv(data, "m.csv")
    assert info.value.field == f"m.csv: {where}"
    assert reason in info.value.reason


def test_csv_size_limits(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"candidate_id,q1,q2\nc1,1,0\nc2,0,1\n")
    with pytest.raises(TooLargeError):
        read_matrix_csv(path, max_bytes=10)
    with pytest.raises(TooLargeError):
        read_matrix_csv(path, max_candidates=1)
    with pytest.raises(TooLargeError):
        read_matrix_csv(path, max_items=1)
    assert read_matrix_csv(path).scores.shape == (2, 2)


def test_cli_matrix_json_and_html(tmp_path):
    csv = tmp_path / "m.csv"
    lines = ["candidate_id,i1,i2,i3,i4"] + [f"c{r},{','.join(map(str, row))}" for r, row in enumerate(HAND)]
    csv.write_text("\n".join(lines) + "\n")
    html = tmp_path / "report.html"
    out = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(tmp_path / "d"), "analyze",
                          "--matrix", str(csv), "--json", "--html", str(html)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"test", "items"}
    assert set(data["test"]) == {"n_candidates", "n_items", "mean", "sd", "alpha", "sem"}
    assert set(data["items"][0]) == {"item_id", "p", "rpb_corrected", "alpha_if_deleted",
                                     "discrimination_index", "flags"}
    assert data["test"]["alpha"] == pytest.approx(2 / 3)
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 2 and "low_discrimination" in text

    bad = tmp_path / "bad.csv"
    bad.write_text("candidate_id,i1\nc1,x\n")
    out = subprocess.run([sys.executable, "-m", "item_bank_sync", "analyze", "--matrix", str(bad), "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "line 2, column 2 (i1)" in json.loads(out.stdout)["error"]


@pytest.mark.browser
def test_html_report_renders_in_chromium(tmp_path, page):
    """The report opens offline in Chromium: both plots decode, flagged items are highlighted."""
    from item_bank_sync.analysis.report import write_html

    scores, _ = _rasch(500, np.linspace(-2, 2, 12), seed=2)
    scores[:, 0] = 1                                            # a zero-variance item
    path = write_html(analyze_scores(scores, [f"q{i}" for i in range(12)]), tmp_path / "r.html", "Report <&>")
    page.goto(path.as_uri())
    assert page.title() == "Report <&>"                         # escaped in the source, shown as text
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 300 for w in widths)
    flagged = page.eval_on_selector_all("#items tr.flagged td.id:first-child", "tds => tds.map(t => t.textContent)")
    assert "q0" in flagged
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
