"""The psychometrician's HTML item-analysis report: tables, flags and two plots, in one file.

The report is a single self-contained HTML file (plots embedded as PNG data URIs, no CDN, no
script) so it can be archived with the exam's records and opened offline years later. Plots are
drawn with matplotlib's Agg backend: a p-value vs corrected point-biserial scatter with the flag
thresholds drawn in, where flagged items stand out, and a histogram of total scores.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import jinja2
import matplotlib
import numpy as np

from item_bank_sync.analysis.stats import Analysis

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use: the backend must be chosen before pyplot loads

_TEMPLATES = Path(__file__).parent / "templates"


def _png_data_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def scatter_p_rpb(analysis: Analysis) -> str:
    t = analysis.thresholds
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ok = [(i.p, i.rpb_corrected) for i in analysis.items
          if i.p is not None and i.rpb_corrected is not None and not i.flags]
    flagged = [(i.p, i.rpb_corrected, i.item_id) for i in analysis.items
               if i.p is not None and i.rpb_corrected is not None and i.flags]
    if ok:
        ax.scatter([o[0] for o in ok], [o[1] for o in ok], s=14, color="#2b6cb0", label="not flagged")
    if flagged:
        ax.scatter([f[0] for f in flagged], [f[1] for f in flagged], s=22, color="#c53030",
                   marker="x", label="flagged")
        for p, r, item_id in flagged[:40]:
            ax.annotate(item_id, (p, r), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.axvline(t.p_min, color="grey", ls="--", lw=0.8)
    ax.axvline(t.p_max, color="grey", ls="--", lw=0.8)
    ax.axhline(t.rpb_min, color="grey", ls="--", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("difficulty p (proportion of maximum score)")
    ax.set_ylabel("corrected point-biserial (item-rest)")
    ax.set_title("Item difficulty vs discrimination")
    if ok or flagged:
        ax.legend(loc="lower right", fontsize=8)
    return _png_data_uri(fig)


def histogram_totals(analysis: Analysis) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    totals = analysis.totals
    if totals.size:
        low, high = float(totals.min()), float(totals.max())
        # One bar per integer score when the range is small, else 50 equal bins.
        bins = np.arange(low - 0.5, high + 1.5).tolist() if high - low <= 60 else 50
        ax.hist(totals, bins=bins, color="#2b6cb0", edgecolor="white")
    ax.set_xlabel("total score")
    ax.set_ylabel("candidates")
    ax.set_title("Distribution of total scores")
    return _png_data_uri(fig)


def render_html(analysis: Analysis, title: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    template = env.get_template("analysis_report.html")
    return template.render(title=title, data=analysis.to_dict(), scatter=scatter_p_rpb(analysis),
                           histogram=histogram_totals(analysis),
                           flagged=sum(1 for i in analysis.items if i.flags))


def write_html(analysis: Analysis, path: str | Path, title: str = "Item analysis") -> Path:
    path = Path(path)
    path.write_text(render_html(analysis, title), encoding="utf-8")
    return path
