"""The accreditation evidence pack for one scheme and period (ISO/IEC 17024 clause 10.2; issue 17, item 6).

``item_bank_sync evidence --scheme S --from D --to D --out DIR`` writes what an assessor asks for:
decisions and certificates issued, certificate status changes, appeals and complaints with their
times, item analysis per form, incidents and alerts per centre, corrective actions, and the result
of verifying the body's audit chain. Each section is a JSON file (the raw records, for the
assessor's own tools) and the ``index.html`` beside them shows them as tables and links each file.

What is left out on purpose: candidates' names and answers, and the words of appeals and
complaints (personal data, 7.3); records carry ids, times, outcomes and who decided.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import and_, or_, select

from exam_core import keys
from exam_core.audit import verdict
from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time
from item_bank_sync.analysis.of_form import analyze_form
from item_bank_sync.analysis.stats import FlagThresholds
from item_bank_sync.bank.schema import forms
from item_bank_sync.cases.schema import cases, corrective_actions
from item_bank_sync.certificates.schema import certificate_events, certificates
from item_bank_sync.context import SIGNING_PUB_FILE, CentralContext
from item_bank_sync.release.schema import rescores
from item_bank_sync.results.schema import attempts, decisions, incidents

SECTIONS = ("decisions", "certificates", "status_changes", "cases", "item_analysis", "incidents",
            "corrective_actions", "rescores", "audit_chain")
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


class EvidenceRefused(InvigilError):
    """The pack cannot be written (unknown scheme, empty period, output directory not empty)."""


@dataclass(frozen=True)
class Period:
    """Whole UTC days ``start`` to ``end`` inclusive, as the stored ISO times compare."""

    start: date
    end: date

    @property
    def low(self) -> str:
        return format_time(datetime.combine(self.start, time(), UTC))

    @property
    def high(self) -> str:
        return format_time(datetime.combine(self.end + timedelta(days=1), time(), UTC))

    def within(self, column: Any) -> Any:
        return and_(column >= self.low, column < self.high)


def period(start: str, end: str) -> Period:
    """The period from two ``YYYY-MM-DD`` dates (refused when reversed or unreadable)."""
    try:
        low, high = date.fromisoformat(start), date.fromisoformat(end)
    except (TypeError, ValueError):
        raise ValidationError("period", "--from and --to are dates YYYY-MM-DD") from None
    if high < low:
        raise ValidationError("period", "--to is before --from")
    return Period(low, high)


def _forms_of(ctx: CentralContext, scheme_id: str) -> list[tuple[str, int]]:
    with ctx.open_bank_db().connect() as conn:
        found = [(r[0], int(r[1])) for r in conn.execute(select(forms.c.form_id, forms.c.version)
                                                         .where(forms.c.scheme_id == scheme_id))]
    if not found:
        raise EvidenceRefused(f"scheme {scheme_id} has no forms in the bank")
    return found


def _rows(engine: Any, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _attempt_filter(form_refs: list[tuple[str, int]]) -> Any:
    a = attempts.c
    return or_(*(and_(a.form_id == f, a.form_version == v) for f, v in form_refs))


def collect(ctx: CentralContext, scheme_id: str, when: Period) -> dict[str, Any]:
    """Every section of the pack as plain data."""
    refs = _forms_of(ctx, scheme_id)
    results, bank = ctx.open_results_db(), ctx.open_bank_db()
    a, d, i = attempts.c, decisions.c, incidents.c
    scheme_attempts = select(a.attempt_id).where(_attempt_filter(refs))
    c, e = certificates.c, certificate_events.c
    pack: dict[str, Any] = {
        "decisions": _rows(results, select(d.attempt_id, d.outcome, d.decided_by, d.at, a.form_id, a.form_version,
                                           a.centre_id).join_from(decisions, attempts, a.attempt_id == d.attempt_id)
                           .where(_attempt_filter(refs), when.within(d.at)).order_by(d.at, d.id)),
        "certificates": _rows(bank, select(c.certificate_id, c.attempt_id, c.scheme_version, c.status, c.valid_from,
                                           c.valid_until, c.issued_by, c.issued_at)
                              .where(c.scheme_id == scheme_id, when.within(c.issued_at)).order_by(c.issued_at)),
        "status_changes": _rows(bank, select(e.certificate_id, e.action, e.decided_by, e.at, e.reason)
                                .join_from(certificate_events, certificates, c.certificate_id == e.certificate_id)
                                .where(c.scheme_id == scheme_id, when.within(e.at)).order_by(e.at, e.id)),
        "incidents": _incidents(_rows(results, select(i.centre_id, i.kind, i.severity, i.rule, i.at)
                                      .where(i.attempt_id.in_(scheme_attempts), when.within(i.at)))),
        "rescores": _rows(results, select(rescores.c.attempt_id, rescores.c.kind, rescores.c.by, rescores.c.identical,
                                          rescores.c.before_total, rescores.c.after_total, rescores.c.at)
                          .where(rescores.c.attempt_id.in_(scheme_attempts), when.within(rescores.c.at))),
    }
    pack["cases"] = _cases(ctx, {r[0] for r in _ids(results, scheme_attempts)}, when)
    pack["corrective_actions"] = _rows(bank, select(corrective_actions).where(
        or_(when.within(corrective_actions.c.opened_at), corrective_actions.c.status == "open"))
        .order_by(corrective_actions.c.id))
    pack["item_analysis"] = _item_analysis(ctx, refs)
    pack["audit_chain"] = _audit(ctx)
    return pack


def _ids(engine: Any, query: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def _cases(ctx: CentralContext, scheme_attempts: set[str], when: Period) -> list[dict[str, Any]]:
    """The period's cases about this scheme's attempts, and those about no attempt (the body, a centre)."""
    k = cases.c
    rows = _rows(ctx.open_bank_db(), select(k.case_id, k.kind, k.category, k.attempt_id, k.certificate_id,
                                            k.centre_id, k.lodged_via, k.status, k.lodged_at, k.acknowledged_at,
                                            k.respond_by, k.handler, k.outcome, k.decided_at)
                 .where(when.within(k.lodged_at)).order_by(k.lodged_at))
    return [r for r in rows if r["attempt_id"] is None or r["attempt_id"] in scheme_attempts]


def _incidents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents (a proctor's report) and alerts (a monitoring rule fired) counted per centre, kind
    and severity."""
    counts = Counter((r["centre_id"], "alert" if r["rule"] else "incident", r["kind"], r["severity"]) for r in rows)
    return [{"centre_id": c, "type": t, "kind": k, "severity": s, "count": n}
            for (c, t, k, s), n in sorted(counts.items())]


def _item_analysis(ctx: CentralContext, refs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Classical item analysis of each form with results (a form with too few attempts says why)."""
    out = []
    for form_id, version in sorted(refs):
        try:
            analysis, title = analyze_form(ctx, f"{form_id}@{version}", FlagThresholds())
        except (InvigilError, ValueError) as exc:
            out.append({"form": f"{form_id}@{version}", "error": str(exc)[:300]})
            continue
        out.append({"form": f"{form_id}@{version}", "title": title, **analysis.to_dict()})
    return out


def _audit(ctx: CentralContext) -> dict[str, Any]:
    """The audit chain verified against the body's public signing key."""
    path = ctx.keys_dir / SIGNING_PUB_FILE
    public = keys.load_signing_public_key(path) if path.exists() else ctx.load_signing_key().public_key()
    return dict(verdict(ctx.audit_log(), public))


def write_pack(ctx: CentralContext, scheme_id: str, when: Period, out: Path) -> dict[str, Any]:
    """Write the pack into ``out`` (new or empty); returns a summary with the index's path."""
    if out.exists() and any(out.iterdir()):
        raise EvidenceRefused(f"{out} is not empty; give a new directory")
    pack = collect(ctx, scheme_id, when)
    out.mkdir(parents=True, exist_ok=True)
    for name in SECTIONS:
        (out / f"{name}.json").write_text(json.dumps(pack[name], indent=2, sort_keys=True, default=str), "utf-8")
    meta = {"scheme_id": scheme_id, "from": when.start.isoformat(), "to": when.end.isoformat(),
            "body": str(ctx.body().get("name", "")), "counts": {n: _count(pack[n]) for n in SECTIONS}}
    (out / "pack.json").write_text(json.dumps(meta, indent=2, sort_keys=True), "utf-8")
    (out / "index.html").write_text(_TEMPLATES.get_template("evidence_index.html").render(
        meta=meta, pack=pack, sections=SECTIONS), "utf-8")
    return {**meta, "index": str(out / "index.html"), "audit_valid": bool(pack["audit_chain"].get("valid"))}


def _count(section: Any) -> int:
    return len(section) if isinstance(section, list) else 1
