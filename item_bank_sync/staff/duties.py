"""Which role each action needs: the one table the CLI's ``--by`` check and the pages both read.

An action is named by its CLI command path with dots (``items.approve`` for ``items approve``,
``decide`` for ``decide``); a page that does the same thing asks for the same name, so CLI and page
can never disagree on who may do it. An action not in the table is refused once the body has staff
accounts (fail closed): whoever adds a command that acts adds its line here.

A body with no staff accounts yet keeps the behaviour it had before accounts existed: ``--by``
names anyone (demonstrations, tests, a body that does not use the web application).

Separation of duties (four eyes on items, a decision maker who neither proctored nor marked the
attempt) stays with the operations that enforce it; :func:`may` answers the role question before a
page shows a button, and pages add the object's own check (:func:`verdict` builds either answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from item_bank_sync.staff.roles import (ADMIN, APPROVER, AUDITOR, DECISION_MAKER, ITEM_WRITER, MARKER, PSYCHOMETRICIAN,
                                        REGISTRAR, REVIEWER, ROLES)

#: action -> the roles any one of which allows it.
DUTIES: dict[str, tuple[str, ...]] = {
    "body.time-zone": (ADMIN,),                          # the zone staff pages show times in
    "body.rules-version": (ADMIN,),                      # the rules candidates accept when applying
    "body.create-evidence-key": (ADMIN,),                # only when no sealed document exists (else restore)
    "import": (ITEM_WRITER,),
    "items.review": (REVIEWER,),
    "items.approve": (APPROVER,),
    "items.retire": (APPROVER,),
    "schemes.add": (PSYCHOMETRICIAN,),
    "forms.build": (PSYCHOMETRICIAN,),
    "publish": (ADMIN,),
    "export": (ADMIN,),
    "centres.add": (ADMIN,),
    "centres.revoke": (ADMIN,),
    "releases.allow": (ADMIN,),
    "intake.release": (REGISTRAR,),
    "marking.tolerance": (PSYCHOMETRICIAN,),
    "marking.mark": (MARKER,),
    "marking.adjudicate": (MARKER,),
    "decide": (DECISION_MAKER,),
    "analyze": (PSYCHOMETRICIAN,),                       # --write-params (docs/PSYCHOMETRICS.md)
    "equate": (PSYCHOMETRICIAN,),                        # --store-for
    "review-exam": (PSYCHOMETRICIAN,),                   # --open-actions
    "standard-setting.open": (PSYCHOMETRICIAN,),
    "standard-setting.rate": (PSYCHOMETRICIAN,),
    "standard-setting.impact": (PSYCHOMETRICIAN,),
    "standard-setting.recommend": (PSYCHOMETRICIAN,),
    "standard-setting.adopt": (DECISION_MAKER,),         # the body's decision, not the panel's
    "certificates.issue": (DECISION_MAKER, ADMIN),
    "certificates.suspend": (DECISION_MAKER, ADMIN),
    "certificates.restore": (DECISION_MAKER, ADMIN),
    "certificates.withdraw": (DECISION_MAKER, ADMIN),
    "certificates.reduce-scope": (DECISION_MAKER, ADMIN),
    "certificates.expire-due": (DECISION_MAKER, ADMIN),
    "certificates.setup": (ADMIN,),
    "certificates.rotate-key": (ADMIN,),
    # recertification (issue 17, item 4); the services check the roles again (registry actors)
    "recert.cpd.add": (REGISTRAR, ADMIN),
    "recert.cpd.list": (REGISTRAR, ADMIN, AUDITOR),
    "recert.cpd.evidence": (REGISTRAR, ADMIN, AUDITOR),   # personal data: the readers (clause 7.3)
    "recert.sample": (AUDITOR, ADMIN),
    "recert.audit": (AUDITOR,),
    "recert.renew": (DECISION_MAKER, ADMIN),
    "recert.remind": (REGISTRAR, ADMIN),
    # results release, appeals and complaints, corrective actions, evidence (issue 17, items 1, 5, 6)
    "release.hold": (REGISTRAR, DECISION_MAKER, PSYCHOMETRICIAN, ADMIN),   # protective: whoever finds a cause
    "release.lift": (DECISION_MAKER,),
    "release.results": (DECISION_MAKER,),                # releasing is a decision
    "cases.lodge": (REGISTRAR, ADMIN),
    "cases.acknowledge": (REGISTRAR, ADMIN),
    "cases.assign": (ADMIN, DECISION_MAKER),
    "cases.progress": (DECISION_MAKER, ADMIN, REGISTRAR),   # the handler (impartiality checked by the service)
    "cases.decide": (DECISION_MAKER, ADMIN, REGISTRAR),
    "cases.close": (ADMIN, DECISION_MAKER),
    "cases.open-corrective": (ADMIN, REGISTRAR, DECISION_MAKER, PSYCHOMETRICIAN),
    "cases.rescore": (DECISION_MAKER,),                   # --apply may change the decision
    "cases.remark-ask": (DECISION_MAKER, ADMIN, REGISTRAR),  # the case's handler (checked by the service)
    "cases.remark-withdraw": (DECISION_MAKER, ADMIN, REGISTRAR),
    "cases.remarks": (MARKER,),                           # a marker's own open requests
    "cases.remark": (MARKER,),                            # the marker the request names (checked by the service)
    "cases.apply-remark": (DECISION_MAKER,),              # may change the decision
    "corrective.open": (ADMIN, REGISTRAR, DECISION_MAKER, PSYCHOMETRICIAN),
    "corrective.update": (ADMIN, REGISTRAR, DECISION_MAKER, PSYCHOMETRICIAN),
    "corrective.close": (ADMIN,),
    "evidence": (ADMIN, AUDITOR),
    # the registry of persons and sittings (issue 16); the services check the same roles again
    "persons.add": (REGISTRAR, ADMIN),
    "persons.show": (REGISTRAR, ADMIN, AUDITOR),
    "persons.list": (REGISTRAR, ADMIN, AUDITOR),
    "persons.photo": (REGISTRAR, ADMIN, AUDITOR),          # setting it: registrar or admin (the service)
    "persons.consent": (REGISTRAR, ADMIN),
    "applications.submit": (REGISTRAR, ADMIN),
    "applications.show": (REGISTRAR, ADMIN, AUDITOR),
    "applications.list": (REGISTRAR, ADMIN, AUDITOR),
    "applications.recheck": (REGISTRAR,),
    "applications.decide": (REGISTRAR,),
    "applications.appeal": (REGISTRAR, ADMIN),
    "applications.evidence.add": (REGISTRAR, ADMIN),
    "applications.evidence.get": (REGISTRAR, ADMIN, AUDITOR),
    "accommodations.request": (REGISTRAR, ADMIN),
    "accommodations.approve": (REGISTRAR,),
    "accommodations.refuse": (REGISTRAR,),
    "accommodations.show": (REGISTRAR, ADMIN, AUDITOR),
    "accommodations.list": (REGISTRAR, ADMIN, AUDITOR),
    "accommodations.evidence.add": (REGISTRAR, ADMIN),
    "accommodations.evidence.get": (REGISTRAR, ADMIN, AUDITOR),
    "conflicts.declare": ROLES,                            # every role declares its own relationships
    "conflicts.list": ROLES,
    "conflicts.withdraw": ROLES,
    "sessions.plan": (REGISTRAR, ADMIN),
    "sessions.roster": (REGISTRAR, ADMIN, AUDITOR),
    "sessions.publish": (REGISTRAR, ADMIN),
    "bookings.book": (REGISTRAR, ADMIN),
    "bookings.cancel": (REGISTRAR, ADMIN),
    "bookings.move": (REGISTRAR, ADMIN),
    "bookings.list": (REGISTRAR, ADMIN, AUDITOR),
    "staff.add": (ADMIN,),
    "staff.disable": (ADMIN,),
    "staff.enable": (ADMIN,),
    "staff.reset-password": (ADMIN,),
    "staff.reset-second-factor": (ADMIN,),
    "staff.roles": (ADMIN,),
}


@dataclass(frozen=True)
class Verdict:
    """Whether a person may do something, and if not, why in words a page can show."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that allow ``action`` (empty: nobody, the action is not in the table)."""
    return DUTIES.get(action, ())


def may(name: str, roles: frozenset[str], enabled: bool, action: str) -> Verdict:
    """May the person ``name`` holding ``roles`` do ``action``? (The role question only.)"""
    needed = roles_for(action)
    if not needed:
        return Verdict(False, f"no role is assigned the action {action!r} (item_bank_sync/staff/duties.py)")
    if not enabled:
        return Verdict(False, f"the account {name!r} is disabled")
    if not roles & set(needed):
        return Verdict(False, f"{name} does not hold the role {' or '.join(needed)} that {action} needs")
    return ALLOWED


def verdict(allowed: bool, reason: str) -> Verdict:
    """An object-level answer (four eyes, proctored or marked this attempt) in the same shape."""
    return Verdict(True) if allowed else Verdict(False, reason)
