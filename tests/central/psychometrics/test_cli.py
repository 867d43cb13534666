"""The psychometrics through the real central CLI (``python -m item_bank_sync``, real processes).

``equate --method equipercentile`` on matrices whose total scores have Kolen & Brennan's ACT
frequencies (Table 2.5) must print KB Table 2.7's equipercentile equivalents; ``analyze --irt 1pl``
on LSAT6 must give ltm's log-likelihood (Rizopoulos, 2006) within the quadrature difference.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.psychometrics_world import matrix_with_totals, write_matrix
from tests.central.psychometrics.fixtures import ACT_X, ACT_Y, KB_TABLE_2_7, LSAT6_COUNTS, expand

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(tmp / "d"), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_analyze_irt_on_lsat6(tmp_path):
    csv = write_matrix(tmp_path / "lsat6.csv", expand(LSAT6_COUNTS), [f"Item{j}" for j in range(1, 6)])
    out = run("analyze", "--matrix", str(csv), "--irt", "1pl", "--json", tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"test", "items", "irt"} <= set(data)
    m = data["irt"]
    assert m["model"] == "1pl" and m["converged"] is True and m["iterations"] > 0
    assert m["loglik"] == pytest.approx(-2466.938, abs=0.02)
    assert [i["item_id"] for i in m["items"]] == [f"Item{j}" for j in range(1, 6)]
    assert m["items"][0]["b"] == pytest.approx(-3.6153, abs=0.01) and m["items"][0]["se_b"] > 0
    assert len(m["test_information"]) == 17
    human = run("analyze", "--matrix", str(csv), "--irt", "2pl", tmp=tmp_path)
    assert human.returncode == 0 and "IRT 2pl" in human.stdout and "S-X2" in human.stdout


def test_analyze_dif_and_decision(tmp_path):
    rng = np.random.default_rng(20260508)
    n, k = 800, 15
    focal = np.arange(n) % 2 == 1
    theta = rng.standard_normal(n)
    b = np.tile(np.linspace(-1.5, 1.5, k), (n, 1))
    b[focal, 4] += 1.0
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    items = [f"q{j}" for j in range(k)]
    csv = write_matrix(tmp_path / "m.csv", x, items)
    groups = tmp_path / "groups.csv"
    groups.write_text("candidate_id,group\n" + "".join(f"c{i},{'fr' if f else 'en'}\n" for i, f in enumerate(focal)))
    out = run("analyze", "--matrix", str(csv), "--groups", str(groups), "--reference", "en", "--dif",
              "--cut", "9", "--irt", "rasch", "--json", tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    dif = data["items"][4]["dif"]
    assert {"mh_odds_ratio", "mh_delta", "ets_class", "p_value", "lr_uniform_p", "lr_nonuniform_p"} <= set(dif)
    assert dif["mh_delta"] < -1 and dif["p_value"] < 1e-4
    assert data["dif_groups"] == {"reference": "en", "focal": ["fr"], "n_reference": 400, "n_focal": 400,
                                  "matching": "total score", "min_group": 100}
    dec = data["decision"]
    assert dec["cut"] == 9 and dec["observed_pass_rate"] == pytest.approx(np.mean(x.sum(1) >= 9))
    assert {"livingston_lewis", "subkoviak", "irt"} <= set(dec)
    assert 0.5 < dec["livingston_lewis"]["agreement"] < 1
    assert "c1" not in out.stdout  # group membership is never printed per candidate

    small = run("analyze", "--matrix", str(csv), "--groups", str(groups), "--reference", "en", "--dif",
                "--min-group", "500", "--json", tmp=tmp_path)
    assert small.returncode == 1 and "at least 500" in json.loads(small.stdout)["error"]
    lonely = run("analyze", "--matrix", str(csv), "--dif", "--json", tmp=tmp_path)
    assert lonely.returncode == 1 and "--groups" in json.loads(lonely.stdout)["error"]


def test_equate_equipercentile_reproduces_kb_table_2_7(tmp_path):
    items = [f"i{j}" for j in range(40)]
    new = write_matrix(tmp_path / "x.csv", matrix_with_totals(ACT_X, 40), items, "x")
    ref = write_matrix(tmp_path / "y.csv", matrix_with_totals(ACT_Y, 40), items, "y")
    out = run("equate", "--method", "equipercentile", "--new", str(new), "--ref", str(ref), "--json", tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["new"]["n_candidates"] == 4329 and data["reference"]["n_candidates"] == 4152
    assert [r["raw"] for r in data["conversion"]] == list(range(41))
    np.testing.assert_allclose([r["equated"] for r in data["conversion"]][1:], KB_TABLE_2_7, atol=1e-4)
    assert data["conversion"][20]["se"] > 0
    human = run("equate", "--method", "linear", "--new", str(new), "--ref", str(ref), tmp=tmp_path)
    assert human.returncode == 0 and "equated (reference scale)" in human.stdout
    wrong = run("equate", "--method", "mean", "--new", str(new), "--ref", str(ref), "--anchor", "i1,i2",
                "--json", tmp=tmp_path)
    assert wrong.returncode == 1 and "random groups" in json.loads(wrong.stdout)["error"]


def test_equate_with_anchor_tucker_and_irt_true_score(tmp_path):
    rng = np.random.default_rng(20260509)

    def form(n: int, mu: float, shift: float) -> np.ndarray:
        theta = rng.normal(mu, 1, n)
        b = np.linspace(-1.5, 1.5, 20) + shift
        b[::4] = np.linspace(-1.5, 1.5, 20)[::4]  # the 5 anchor items are the same on both forms
        return (rng.random((n, 20)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)

    x_items = [f"a{j}" if j % 4 == 0 else f"x{j}" for j in range(20)]
    y_items = [f"a{j}" if j % 4 == 0 else f"y{j}" for j in range(20)]
    new = write_matrix(tmp_path / "x.csv", form(1500, 0.0, 0.3), x_items, "x")
    ref = write_matrix(tmp_path / "y.csv", form(1500, 0.3, 0.0), y_items, "y")
    anchor = ",".join(f"a{j}" for j in range(0, 20, 4))
    for method in ("tucker", "irt-true-score"):
        out = run("equate", "--method", method, "--new", str(new), "--ref", str(ref), "--anchor", anchor,
                  "--bootstrap", "30", "--json", tmp=tmp_path)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        conv = [r["equated"] for r in data["conversion"]]
        assert np.all(np.diff(conv) > 0)
        assert conv[10] > 10  # the new form is harder: its raw 10 is worth more on the reference form
    assert data["details"]["linking"] == "Stocking-Lord" and data["details"]["A"] > 0
    missing = run("equate", "--method", "levine", "--new", str(new), "--ref", str(ref), "--anchor", "a0,x1",
                  "--json", tmp=tmp_path)
    assert missing.returncode == 1 and "'x1' is not in the reference" in json.loads(missing.stdout)["error"]
