"""The exam performance review as one self-contained HTML file with plots (and its JSON beside it).

Like the item-analysis report (:mod:`item_bank_sync.analysis.report`): plots drawn by matplotlib's
Agg backend and embedded as PNG data URIs, no script and no network, so the file can be archived
with the exam's records and read offline; every value is escaped by Jinja's autoescape (item ids
and group names come from imported content and declarations).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use: the backend must be chosen before pyplot loads

_TEMPLATES = Path(__file__).parent / "templates"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _flagged_items(review: dict[str, Any], section: str) -> set[str]:
    return {f["item_id"] for f in review["flags"] if f["section"] == section and f["item_id"]}


def plot_classical(review: dict[str, Any]) -> str:
    t, flagged = review["thresholds"], _flagged_items(review, "classical")
    fig, ax = plt.subplots(figsize=(6, 4))
    for item in review["classical"]["items"]:
        if item["p"] is None or item["rpb_corrected"] is None:
            continue
        bad = item["item_id"] in flagged
        ax.scatter(item["p"], item["rpb_corrected"], s=22 if bad else 12, marker="x" if bad else "o",
                   color="#c53030" if bad else "#2b6cb0")
        if bad:
            ax.annotate(item["item_id"], (item["p"], item["rpb_corrected"]), fontsize=6)
    for x in (t["p_min"], t["p_max"]):
        ax.axvline(x, color="grey", ls="--", lw=0.8)
    ax.axhline(t["rpb_min"], color="grey", ls="--", lw=0.8)
    ax.set(xlim=(0, 1), xlabel="difficulty p", ylabel="corrected point-biserial", title="Classical item statistics")
    return _png(fig)


def plot_information(review: dict[str, Any]) -> str | None:
    info = review["irt"].get("test_information")
    if not info:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    theta = [r["theta"] for r in info]
    ax.plot(theta, [r["information"] for r in info], color="#2b6cb0", label="test information")
    ax2 = ax.twinx()
    ax2.plot(theta, [r["csem"] for r in info], color="#c05621", ls="--", label="CSEM")
    ax.set(xlabel="ability (theta)", ylabel="information", title="2PL test information and conditional SEM")
    ax2.set_ylabel("CSEM")
    return _png(fig)


def plot_dif(review: dict[str, Any]) -> str | None:
    rows = review["dif"].get("items")
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    deltas = [r["mh_delta"] or 0.0 for r in rows]
    colours = {"A": "#2b6cb0", "B": "#d69e2e", "C": "#c53030"}
    ax.bar(range(len(rows)), deltas, color=[colours[r["ets_class"]] for r in rows])
    for y in (-1.5, -1.0, 1.0, 1.5):
        ax.axhline(y, color="grey", ls="--", lw=0.6)
    ax.set(xlabel="item (form order)", ylabel="MH delta", title="DIF: Mantel-Haenszel delta (ETS A/B/C)")
    return _png(fig)


def plot_equating(review: dict[str, Any]) -> str | None:
    stored = review["equating"].get("stored")
    if not stored:
        return None
    conv = stored["conversion"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    raw = [r["raw"] for r in conv]
    ax.plot(raw, [r["equated"] - r["raw"] for r in conv], color="#2b6cb0")
    ses = [r.get("se") for r in conv]
    if all(s is not None for s in ses):
        ax.fill_between(raw, [r["equated"] - r["raw"] - 2 * s for r, s in zip(conv, ses)],
                        [r["equated"] - r["raw"] + 2 * s for r, s in zip(conv, ses)], color="#bee3f8")
    cut = review["equating"]["cut_in_force"].get("cut")
    if cut is not None:
        ax.axvline(cut, color="#c53030", ls="--", lw=0.8)
    ax.set(xlabel="raw score (this form)", ylabel="equated - raw",
           title=f"{stored['method']} equating to {stored['reference']} (band: 2 SE)")
    return _png(fig)


def plot_exposure(review: dict[str, Any]) -> str:
    rows = review["exposure"]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(range(len(rows)), [r["exposure"] or 0.0 for r in rows], color="#2b6cb0")
    ax.axhline(review["thresholds"]["exposure_max"], color="#c53030", ls="--", lw=0.8)
    ax.set(xlabel="item (form order)", ylabel="share of sittings", ylim=(0, 1.05), title="Item exposure")
    return _png(fig)


def render_review(review: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    plots = {"classical": plot_classical(review), "information": plot_information(review),
             "dif": plot_dif(review), "equating": plot_equating(review), "exposure": plot_exposure(review)}
    return env.get_template("review_report.html").render(r=review, plots=plots)


def write_review(review: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """Write ``review.html`` and ``review.json`` into ``out_dir`` (created) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html, data = out_dir / "review.html", out_dir / "review.json"
    html.write_text(render_review(review), encoding="utf-8")
    data.write_text(json.dumps(review, indent=2, sort_keys=True), encoding="utf-8")
    return {"html": str(html), "json": str(data)}
