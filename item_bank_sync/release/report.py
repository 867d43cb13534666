"""The candidate's score report (issue 17, item 1), as a page and a PDF, for a released result only.

What it shows: pass or fail, the score against the cut, the accommodations applied, how to appeal
and by when; and, for a candidate who failed, how they did in each blueprint area of the form, at
the level the scheme's policy allows (``score_report.diagnostics`` in the scheme: ``areas``, the
default, or ``none``). Why only for a fail: a pass needs no remediation, and area scores of passing
candidates invite "re-sitting for a better grade" on a pass/fail credential. Item-level detail is
never shown: it would expose the items.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from exam_core.model import Accommodations, Form
from exam_core.timestamps import format_time, parse_time
from item_bank_sync.bank.schema import forms, schemes
from item_bank_sync.certificates.pdf import FONT, FONT_BOLD
from item_bank_sync.context import CentralContext
from item_bank_sync.release.records import ReleaseRefused, latest_decision, release_of
from item_bank_sync.results.schema import attempts, response_scores

#: Days after release within which an appeal is lodged, unless the scheme says (``appeal_days``).
DEFAULT_APPEAL_DAYS = 30
DIAGNOSTIC_LEVELS = ("areas", "none")
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class AreaResult:
    """One blueprint area: points scored of points possible."""

    area: str
    score: float
    max_score: float

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.max_score) if self.max_score else 0


@dataclass(frozen=True)
class ScoreReport:
    """Everything the report shows (what the page and the PDF render, and the JSON API returns)."""

    attempt_id: str
    candidate_id: str
    scheme_id: str
    scheme_title: str
    form_id: str
    form_version: int
    outcome: str
    total: float
    max_total: float
    cut_score: float
    released_at: str
    appeal_by: str
    accommodations: tuple[str, ...]
    areas: tuple[AreaResult, ...] = field(default_factory=tuple)
    body_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["areas"] = [asdict(a) | {"percent": a.percent} for a in self.areas]
        data["accommodations"] = list(self.accommodations)
        return data


def accommodation_words(accommodations: Accommodations) -> tuple[str, ...]:
    """The accommodations applied, in words (none: an empty tuple)."""
    a, words = accommodations, []
    if a.extra_time_percent:
        words.append(f"{a.extra_time_percent}% extra time")
    if a.rest_breaks:
        words.append(f"{a.rest_breaks} rest break(s) of {a.rest_break_minutes} minutes")
    for flag, text in ((a.large_text, "large text"), (a.high_contrast, "high contrast"),
                       (a.text_to_speech, "questions read aloud"), (a.screen_reader, "screen reader")):
        if flag:
            words.append(text)
    if a.zoom_percent != 100:
        words.append(f"zoom {a.zoom_percent}%")
    return tuple(words)


def _areas(form: Form, scores: dict[str, tuple[float, float]]) -> tuple[AreaResult, ...]:
    totals: dict[str, list[float]] = {}
    for ref in form.items:
        got, most = scores.get(ref.item_id, (0.0, 0.0))
        slot = totals.setdefault(ref.area or "General", [0.0, 0.0])
        slot[0] += got
        slot[1] += most
    return tuple(AreaResult(area, s, m) for area, (s, m) in sorted(totals.items()))


def _item_scores(ctx: CentralContext, attempt_id: str) -> dict[str, tuple[float, float]]:
    s, out = response_scores.c, dict[str, tuple[float, float]]()
    with ctx.open_results_db().connect() as conn:
        for item_id, score, most in conn.execute(select(s.item_id, s.score, s.max_score)
                                                 .where(s.attempt_id == attempt_id)):
            got, top = out.get(item_id, (0.0, 0.0))
            out[item_id] = (got + (score or 0.0), top + most)
    return out


def score_report(ctx: CentralContext, attempt_id: str) -> ScoreReport:
    """The report of a released result; refused while the result is not released."""
    released = release_of(ctx, attempt_id)
    if released is None:
        raise ReleaseRefused(f"the result of attempt {attempt_id} is not released")
    a = attempts.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(a.candidate_id, a.form_id, a.form_version, a.total, a.max_total, a.cut_score,
                                  a.attempt_json).where(a.attempt_id == attempt_id)).mappings().one()
        decision = latest_decision(conn, attempt_id)
    with ctx.open_bank_db().connect() as conn:
        form_row = conn.execute(select(forms.c.form_json, forms.c.scheme_id, forms.c.scheme_version).where(
            forms.c.form_id == row["form_id"], forms.c.version == row["form_version"])).one()
        scheme_row = conn.execute(select(schemes.c.title, schemes.c.scheme_json).where(
            schemes.c.scheme_id == form_row[1], schemes.c.version == form_row[2])).one()
    policy = json.loads(scheme_row[1])
    outcome = decision["outcome"] if decision else "withheld"
    diagnostics = (policy.get("score_report") or {}).get("diagnostics", "areas")
    form = Form.from_dict(json.loads(form_row[0]))
    areas = _areas(form, _item_scores(ctx, attempt_id)) if outcome == "fail" and diagnostics == "areas" else ()
    days = int(policy.get("appeal_days") or DEFAULT_APPEAL_DAYS)
    appeal_by = format_time(parse_time(released["released_at"], "released_at") + timedelta(days=days))
    accommodations = Accommodations.from_dict(json.loads(row["attempt_json"]).get("accommodations") or {})
    return ScoreReport(attempt_id, row["candidate_id"], form_row[1], scheme_row[0], row["form_id"],
                       row["form_version"], outcome, float(row["total"]), float(row["max_total"]),
                       float(row["cut_score"]), released["released_at"], appeal_by,
                       accommodation_words(accommodations), areas, str(ctx.body().get("name", "")))


def report_html(report: ScoreReport) -> str:
    """The report as a whole, accessible HTML page (escaped: every value is data)."""
    return _TEMPLATES.get_template("score_report.html").render(r=report)


def report_pdf(report: ScoreReport) -> bytes:
    """The report as a one-page A4 PDF (fpdf2 and DejaVu Sans, as the certificate)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Score report {report.attempt_id}")
    pdf.set_author(report.body_name)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 20)
    pdf.cell(0, 12, "Score report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, f"{report.body_name}: {report.scheme_title} ({report.scheme_id}), "
                         f"form {report.form_id} v{report.form_version}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 12, f"Result: {report.outcome.upper()}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for line in _pdf_lines(report):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_lines(r: ScoreReport) -> list[str]:
    lines = [f"Candidate: {r.candidate_id}    Attempt: {r.attempt_id}",
             f"Score: {r.total:g} of {r.max_total:g} (pass mark {r.cut_score:g})",
             f"Released: {r.released_at[:10]}",
             "Accommodations applied: " + ("; ".join(r.accommodations) or "none")]
    if r.areas:
        lines.append("How you did in each area of the examination:")
        lines += [f"  {a.area}: {a.score:g} of {a.max_score:g} ({a.percent}%)" for a in r.areas]
    lines.append(f"How to appeal: lodge an appeal on the candidate portal or with the body by {r.appeal_by[:10]}. "
                 "It is handled by people who took no part in your examination, marking or decision.")
    return lines
