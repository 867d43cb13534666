"""Tables of appeals, complaints and corrective actions (bank store, revision ``bank_0010``).

``cases``              one appeal (9.8) or complaint (9.9): what it is about (an attempt, a
                       certificate, a centre), who lodged it and how, the deadline acknowledged,
                       the handler assigned (never a person involved in the original decision,
                       examination or marking), status and outcome. ``summary`` holds the
                       person's own words: personal data, never copied into the audit chain.
``case_events``        the case's history: lodged, acknowledged, assigned, progress, outcome, closed.
``case_messages``      what the person was told (acknowledgement, outcome). The body has no mail
                       relay in the code yet, so messages are kept for the candidate portal.
``corrective_actions`` the corrective-action register (10.2): source, root cause, action,
                       effectiveness check, who closed it.
``remark_requests``    a handler's request that one named marker (never one involved in the
                       attempt) mark an item again (revision ``bank_0013``): open until that marker
                       answers it once (``remark_id``: the re-mark in the results store) or the
                       handler withdraws it with a reason. Only the named marker sees it.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Text

from item_bank_sync.db.metadata import BANK, central_table

KINDS = ("appeal", "complaint")
CATEGORIES = ("result", "decision", "certificate", "body", "centre", "certified_person")
STATUSES = ("lodged", "acknowledged", "assigned", "decided", "closed")
SOURCES = ("incident", "appeal", "complaint", "audit_finding", "item_analysis")
REQUEST_STATUSES = ("open", "answered", "withdrawn")

cases = central_table(
    "cases", BANK,
    Column("case_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("attempt_id", Text),
    Column("certificate_id", Text),
    Column("centre_id", Text),
    Column("person", Text, nullable=False),
    Column("lodged_via", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="lodged"),
    Column("lodged_at", Text, nullable=False),
    Column("lodged_by", Text, nullable=False),
    Column("acknowledged_at", Text),
    Column("respond_by", Text),
    Column("handler", Text),
    Column("outcome", Text, nullable=False, server_default=""),
    Column("outcome_text", Text, nullable=False, server_default=""),
    Column("decided_at", Text),
    CheckConstraint("kind IN ('appeal', 'complaint')", name="cases_kind_check"),
    CheckConstraint("status IN ('lodged', 'acknowledged', 'assigned', 'decided', 'closed')",
                    name="cases_status_check"),
    Index("cases_lodged", "lodged_at"),
)

case_events = central_table(
    "case_events", BANK,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, ForeignKey("cases.case_id"), nullable=False),
    Column("action", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("at", Text, nullable=False),
    Index("case_events_case", "case_id"),
)

case_messages = central_table(
    "case_messages", BANK,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, ForeignKey("cases.case_id"), nullable=False),
    Column("person", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("at", Text, nullable=False),
    Index("case_messages_case", "case_id"),
)

corrective_actions = central_table(
    "corrective_actions", BANK,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_ref", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False),
    Column("root_cause", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False, server_default=""),
    Column("effectiveness_check", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="open"),
    Column("opened_by", Text, nullable=False),
    Column("opened_at", Text, nullable=False),
    Column("closed_by", Text),
    Column("closed_at", Text),
    CheckConstraint("source IN ('incident', 'appeal', 'complaint', 'audit_finding', 'item_analysis')",
                    name="corrective_actions_source_check"),
    CheckConstraint("status IN ('open', 'closed')", name="corrective_actions_status_check"),
)

remark_requests = central_table(
    "remark_requests", BANK,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, ForeignKey("cases.case_id"), nullable=False),
    Column("attempt_id", Text, nullable=False),
    Column("item_id", Text, nullable=False),
    Column("marker", Text, nullable=False),
    Column("asked_by", Text, nullable=False),
    Column("asked_at", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("remark_id", Integer),
    Column("answered_at", Text),
    Column("withdrawn_by", Text),
    Column("withdrawn_at", Text),
    Column("withdraw_reason", Text, nullable=False, server_default=""),
    CheckConstraint("status IN ('open', 'answered', 'withdrawn')", name="remark_requests_status_check"),
    Index("remark_requests_marker", "marker", "status"),
    Index("remark_requests_case", "case_id"),
)
