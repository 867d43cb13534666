"""The main navigation: every area of the staff application, and for each person only the areas
their roles open.

Why computed from the views: the links used to be written in the base template with role lists of
their own, which drifted from the views' ``require_role`` (the item bank, import and marking had no
link at all). Each link now shows exactly when its view would let the person in
(:func:`~item_bank_sync.web.access.require_role` records the roles on the view), so a link never
leads to a 403 and no area a person may use goes unlinked. A page registered later appears as soon
as it is listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from item_bank_sync.staff.accounts import StaffMember
from item_bank_sync.web.access import AUDITOR

#: (label, endpoint) of each area, in the order a certification body meets them.
AREAS: tuple[tuple[str, str], ...] = (
    ("Home", "home.home"),
    ("Items", "staff_items.listing"),
    ("Import items", "staff_imports.upload"),
    ("Marking", "staff_marking.tasks"),
    ("Re-marks", "staff_cases.remarks_asked"),
    ("Schemes & forms", "forms.schemes_page"),
    ("Centres", "centres.centres_page"),
    ("Intake", "intake.queue_page"),
    ("Integrity", "review.integrity_page"),
    ("Item analysis", "review.analysis_page"),
    ("Exam review", "exam_review.exam_review_page"),
    ("Standard setting", "standard_setting.studies_page"),
    ("Decisions", "review.decisions_page"),
    ("Results", "review.results_page"),
    ("Results release", "staff_release.queue_page"),
    ("Applications", "staff_registry.application_queue"),
    ("Accommodations", "staff_registry.accommodation_queue"),
    ("Sessions", "staff_sittings.sessions_page"),
    ("Appeals & complaints", "staff_cases.cases_page"),
    ("Corrective actions", "staff_corrective.actions_page"),
    ("Certificates", "staff_certificates.search_page"),
    ("Falling due", "staff_recert.due_page"),
    ("CPD audit", "staff_recert.audit_page"),
    ("Staff", "admin.staff"),
    ("Body settings", "admin.body_page"),
    ("Audit", "audit.audit"),
    ("My account", "signin.account"),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


def may_open(member: StaffMember, endpoint: str) -> bool:
    """Would ``endpoint``'s view let ``member`` read it (its ``require_role`` roles, or the auditor)?"""
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "staff_roles", None)
    if view is None or roles is None:
        return False
    return member.enabled and (member.has(*roles) or member.has(AUDITOR))


def nav_links(member: StaffMember | None) -> list[NavLink]:
    """The areas ``member`` may open, in :data:`AREAS` order (none when signed out)."""
    if member is None:
        return []
    return [NavLink(label, url_for(endpoint), request.endpoint == endpoint)
            for label, endpoint in AREAS if may_open(member, endpoint)]
