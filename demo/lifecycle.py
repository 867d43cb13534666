"""Before the exam: people apply, a registrar decides, they book a session the body planned, and the
session's signed roster reaches the centre (issue 16 item 7).

A candidate's steps are on the candidate portal over HTTPS (demo/portal.py: registration confirmed
by the link the portal mails through a real SMTP relay on the loopback, the application, the
adjustment request, the booking); the staff's are the central body's command line (``python -m
item_bank_sync ... --json``): the registrar's decisions, the session planned and published.

The roster the session publishes travels to the console on its next ``sync``; the summary then
counts it in the console's own ``signed_rosters`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from demo import commands
from demo.portal import Candidate, PublicSite

REGISTRAR = "rachel.registrar"
#: Far enough ahead that booking is open under the body's change cut-off (default rules).
SESSION_IN_DAYS = 14


@dataclass(frozen=True)
class Applicant:
    """One person who applies: their answers, and what the registrar does with the application."""

    given: str
    family: str
    experience_months: int
    completed_course: bool
    #: Adjustments requested with the application (approved by the registrar when the scheme allows them).
    adjustments: dict[str, str] | None = None


APPLICANTS = (
    Applicant("Katherine", "Johnson", 36, True),
    Applicant("Edsger", "Dijkstra", 24, True, adjustments={"extra_time_percent": "25"}),
    Applicant("Barbara", "Liskov", 18, True),
    Applicant("Linus", "Ivory", 0, False),  # did not complete the demo course: refused
)


class DemoLike(Protocol):
    """What this phase needs of the orchestrator (demo.orchestrate.Demo)."""

    central_dir: Path
    work: Path
    forms: list[str]

    def say(self, text: str) -> None: ...


def before_exam(demo: DemoLike, site: PublicSite, centre_id: str, scheme_id: str) -> list[tuple[str, str]]:
    """Apply on the portal, decide, approve adjustments, plan, book on the portal and publish; the
    booked candidates' ids (what the signed roster names them by) and names, in ``APPLICANTS`` order."""
    c = demo.central_dir
    accepted: list[tuple[Candidate, str, str]] = []
    for applicant in APPLICANTS:
        person = _apply(demo, site, applicant, scheme_id)
        if person is not None:
            accepted.append((*person, f"{applicant.given} {applicant.family}"))
    session = _plan(demo, centre_id, scheme_id, len(accepted))
    for candidate, _person_id, _name in accepted:
        candidate.book(session["session_id"])
    listed = commands.central(c, "bookings", "list", "--session", session["session_id"], "--by", REGISTRAR)
    ids = {b["person_id"]: b["candidate_id"] for b in listed["bookings"] if b["status"] == "booked"}
    published = commands.central(c, "sessions", "publish", session["session_id"], "--by", REGISTRAR)
    demo.say(f"{len(APPLICANTS)} applications on the portal: {len(accepted)} accepted and booked on session "
             f"{session['session_id']}, 1 refused for eligibility; roster version {published.get('version')} signed "
             f"for {centre_id}")
    return [(str(ids[person_id]), name) for _, person_id, name in accepted]


def _apply(demo: DemoLike, site: PublicSite, who: Applicant, scheme_id: str) -> tuple[Candidate, str] | None:
    """The person registers on the portal (confirming by the mailed link) and applies there; the
    registrar decides. The signed-in portal client and person id when accepted, None when refused."""
    c = demo.central_dir
    candidate = Candidate(site, f"{who.given}.{who.family}@example.org".lower())
    candidate.register(who.given, who.family, "1990-01-01")
    course = "I completed the demo course." if who.completed_course else "I have not taken the demo course yet."
    application_id = candidate.apply(scheme_id, 1, {"statement": course, "education_level": "secondary",
                                                    "experience_months": str(who.experience_months)})
    if who.adjustments:
        _adjustments(demo, candidate, scheme_id, who.adjustments)
    if not who.completed_course:
        commands.central(c, "applications", "decide", application_id, "--refuse", "--reasons",
                         "eligibility: the scheme asks for the demo course, which the applicant has not completed",
                         "--by", REGISTRAR)
        return None
    decided = commands.central(c, "applications", "decide", application_id, "--accept", "--reasons",
                               "eligibility met: course completed", "--by", REGISTRAR)
    return candidate, str(decided["person_id"])


def _adjustments(demo: DemoLike, candidate: Candidate, scheme_id: str, adjustments: dict[str, str]) -> None:
    """The candidate asks for adjustments on the portal; the registrar approves the profile until a
    year from now."""
    request_id = candidate.request_adjustments(scheme_id, 1, adjustments,
                                               "assessed need (evidence seen by the registrar)")
    expires = (date.today() + timedelta(days=365)).isoformat()
    commands.central(demo.central_dir, "accommodations", "approve", request_id, "--expires", expires,
                     "--reasons", "within the scheme's allowance", "--by", REGISTRAR)


def _plan(demo: DemoLike, centre_id: str, scheme_id: str, seats: int) -> dict[str, Any]:
    """The body plans a session at the centre with the demo's two forms and a seat for each."""
    starts = (datetime.now(UTC) + timedelta(days=SESSION_IN_DAYS)).replace(minute=0, second=0, microsecond=0)
    forms = [arg for form_id in demo.forms for arg in ("--form", form_id)]
    return dict(commands.central(demo.central_dir, "sessions", "plan", "--centre", centre_id, "--scheme", scheme_id,
                                 "--version", "1", *forms, "--starts", starts.isoformat(),
                                 "--capacity", str(seats + 1), "--by", REGISTRAR))
