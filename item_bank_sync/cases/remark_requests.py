"""Re-mark requests: the case's handler asks one named marker to mark an item again (ISO/IEC 17024
9.8; issue 17, item 5).

Why a record and not a note in the case's history: a re-mark is a judgement on a candidate's work,
so who gives it must be chosen by the handler, not by whichever marker opens the case first. A
request names the marker (refused at asking for anyone involved in the attempt, as the re-mark
itself would be), is open until that marker answers it (once: the re-mark is recorded by
:func:`item_bank_sync.cases.remark.remark` and its id kept on the request) or the handler withdraws
it with a reason. Nobody else may answer it, and markers see only their own requests, never the
person's words or the earlier marks. Every step is in the case's history and the audit chain
(ids only), the same from the CLI and the staff pages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from exam_core.errors import ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cases.handling import CaseRefused, get, involvement, note_event
from item_bank_sync.cases.remark import remark, task_of
from item_bank_sync.cases.schema import remark_requests
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.results.marking import person_key
from item_bank_sync.sittings.impartiality import check_attempt, staff

MAX_REASON = 2000


def _handled_by(ctx: CentralContext, case_id: str, by: str, action: str) -> dict[str, Any]:
    """The case, refused unless it is assigned to ``by`` and is about an attempt."""
    case = get(ctx, case_id)
    if case["status"] != "assigned":
        raise CaseRefused(f"case {case_id} is {case['status']}; {action} needs it assigned")
    if case["handler"] != person_key(by):
        raise CaseRefused(f"only the case's handler ({case['handler']}) may {action} on case {case_id}")
    if not case.get("attempt_id"):
        raise CaseRefused(f"case {case_id} is not about an attempt; there is nothing to re-mark")
    return case


def ask(ctx: CentralContext, by: str, case_id: str, item_id: str, marker: str) -> int:
    """The handler ``by`` asks ``marker`` to re-mark ``item_id`` of the case's attempt; returns the
    request's id. Refused for a marker involved in the attempt or with a declared conflict."""
    case = _handled_by(ctx, case_id, by, "ask for a re-mark")
    attempt_id, who, asker = case["attempt_id"], person_key(marker), person_key(by)
    task_of(ctx, attempt_id, item_id)                      # human-marked and finished, else refused
    roles = involvement(ctx, attempt_id, who)
    if roles:
        raise CaseRefused(f"{marker} acted as {' and '.join(roles)} on attempt {attempt_id}; a re-mark needs a "
                          "marker who took no part in it")
    if who == asker:
        raise CaseRefused("the case's handler weighs the re-mark and cannot give it")
    check_attempt(ctx, staff(marker, "marker"), attempt_id, "re-mark this candidate's response")
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"case:{case_id}")
        inserted = conn.execute(insert(remark_requests).values(
            case_id=case_id, attempt_id=attempt_id, item_id=item_id, marker=who, asked_by=asker,
            asked_at=format_time(utc_now()), status="open"))
    request_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # one row inserted
    note_event(ctx, by, case_id, "remark-asked", f"re-mark {request_id} of {item_id} asked of {who}")
    ctx.audit_log().append(asker, "case.remark-ask", {"case_id": case_id, "request_id": request_id,
                                                      "attempt_id": attempt_id, "item_id": item_id, "marker": who})
    return request_id


def get_request(ctx: CentralContext, request_id: int) -> dict[str, Any]:
    """One request, or refused when it does not exist."""
    with ctx.open_bank_db().connect() as conn:
        row = conn.execute(select(remark_requests).where(remark_requests.c.id == request_id)).mappings().first()
    if row is None:
        raise CaseRefused(f"re-mark request {request_id} does not exist")
    return dict(row)


def for_marker(ctx: CentralContext, request_id: int, marker: str) -> dict[str, Any]:
    """The request if it is ``marker``'s; anyone else is refused as if it did not exist for them."""
    row = get_request(ctx, request_id)
    if row["marker"] != person_key(marker):
        raise CaseRefused(f"re-mark request {request_id} is not asked of {marker}")
    return row


def answer(ctx: CentralContext, request_id: int, marker: str, score: float, note: str = "") -> int:
    """The named marker answers their open request, once; returns the re-mark's id."""
    row = for_marker(ctx, request_id, marker)
    if row["status"] != "open":
        raise CaseRefused(f"re-mark request {request_id} is {row['status']}; it can be answered only once, "
                          "while open")
    remark_id = remark(ctx, row["attempt_id"], row["item_id"], marker, score, note)
    r = remark_requests.c
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"case:{row['case_id']}")
        conn.execute(update(remark_requests).where(r.id == request_id, r.status == "open").values(
            status="answered", remark_id=remark_id, answered_at=format_time(utc_now())))
    note_event(ctx, marker, row["case_id"], "remark", f"re-mark {remark_id} of {row['item_id']} given "
                                                      f"(request {request_id})")
    return remark_id


def withdraw(ctx: CentralContext, by: str, request_id: int, reason: str) -> dict[str, Any]:
    """The handler withdraws an open request, with a reason (kept and in the case's history)."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValidationError("reason", f"must be given (1-{MAX_REASON} characters)")
    row = get_request(ctx, request_id)
    _handled_by(ctx, row["case_id"], by, "withdraw a re-mark request")
    if row["status"] != "open":
        raise CaseRefused(f"re-mark request {request_id} is {row['status']}; only an open one can be withdrawn")
    r, who = remark_requests.c, person_key(by)
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"case:{row['case_id']}")
        conn.execute(update(remark_requests).where(r.id == request_id, r.status == "open").values(
            status="withdrawn", withdrawn_by=who, withdrawn_at=format_time(utc_now()),
            withdraw_reason=reason.strip()))
    note_event(ctx, by, row["case_id"], "remark-withdrawn", f"re-mark request {request_id} withdrawn: "
                                                            f"{reason.strip()}")
    ctx.audit_log().append(who, "case.remark-withdraw", {"case_id": row["case_id"], "request_id": request_id})
    return get_request(ctx, request_id)


def open_for(ctx: CentralContext, marker: str) -> list[dict[str, Any]]:
    """The open requests asked of ``marker``, newest first (ids, attempt and item only)."""
    r = remark_requests.c
    with ctx.open_bank_db().connect() as conn:
        rows = conn.execute(select(r.id, r.case_id, r.attempt_id, r.item_id, r.asked_by, r.asked_at)
                            .where(r.marker == person_key(marker), r.status == "open")
                            .order_by(r.id.desc()).limit(500)).mappings()
        return [dict(x) for x in rows]


def of_case(ctx: CentralContext, case_id: str) -> list[dict[str, Any]]:
    """Every request of a case, oldest first (for the handler's page)."""
    r = remark_requests.c
    with ctx.open_bank_db().connect() as conn:
        return [dict(x) for x in conn.execute(select(remark_requests).where(r.case_id == case_id)
                                              .order_by(r.id)).mappings()]
