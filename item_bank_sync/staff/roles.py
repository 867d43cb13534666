"""The roles a member of staff may hold (several per person)."""

from __future__ import annotations

ADMIN = "admin"
ITEM_WRITER = "item_writer"
REVIEWER = "reviewer"
APPROVER = "approver"
PSYCHOMETRICIAN = "psychometrician"
MARKER = "marker"
REGISTRAR = "registrar"
DECISION_MAKER = "decision_maker"
#: Read-only: sees everything, changes nothing (every POST of a person holding only this is refused).
AUDITOR = "auditor"

ROLES = (ADMIN, ITEM_WRITER, REVIEWER, APPROVER, PSYCHOMETRICIAN, MARKER, REGISTRAR, DECISION_MAKER, AUDITOR)
#: Every role but the auditor's changes content, results, decisions or accounts.
CHANGING_ROLES = frozenset(ROLES) - {AUDITOR}

DESCRIPTIONS = {
    ADMIN: "Administrator: staff accounts, centres, publishing",
    ITEM_WRITER: "Item writer: imports and edits items",
    REVIEWER: "Reviewer: reviews items written by others",
    APPROVER: "Approver: approves reviewed items, retires items",
    PSYCHOMETRICIAN: "Psychometrician: schemes, forms, analysis, equating",
    MARKER: "Marker: marks extended responses",
    REGISTRAR: "Registrar: intake, quarantine releases, results export",
    DECISION_MAKER: "Decision maker: decides on attempts",
    AUDITOR: "Auditor: sees everything, changes nothing",
}


def needs_second_factor(roles: frozenset[str] | set[str]) -> bool:
    """Every role that can change content, results or decisions signs in with a TOTP code.

    The auditor too: they see every candidate's results, so their account is worth as much to an
    attacker; a person with no role at all cannot sign in.
    """
    return bool(roles)
