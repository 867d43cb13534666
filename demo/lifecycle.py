"""Before the exam: people apply, a registrar decides, they book a session the body planned, and the
session's signed roster reaches the centre (issue 16 item 7).

Every step is the central body's own command line (``python -m item_bank_sync ... --json``), the
same service functions the candidate portal and the staff pages call: a candidate's own steps run
``--as-person`` (what the portal does for a signed-in candidate), a registrar's with ``--by``. The
portal itself is not driven here: signing in needs a verified e-mail address through an SMTP relay,
and its pages are tested in Chromium in tests/central/portal/.

The roster the session publishes travels to the console on its next ``sync``; the summary then
counts it in the console's own ``signed_rosters`` table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from demo import commands

REGISTRAR = "rachel.registrar"
RULES_VERSION = "2026-1"
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
    adjustments: tuple[str, ...] = ()


APPLICANTS = (
    Applicant("Katherine", "Johnson", 36, True),
    Applicant("Edsger", "Dijkstra", 24, True, adjustments=("extra_time_percent=25",)),
    Applicant("Barbara", "Liskov", 18, True),
    Applicant("Linus", "Ivory", 0, False),  # did not complete the demo course: refused
)


class DemoLike(Protocol):
    """What this phase needs of the orchestrator (demo.orchestrate.Demo)."""

    central_dir: Path
    work: Path
    forms: list[str]

    def say(self, text: str) -> None: ...


def before_exam(demo: DemoLike, centre_id: str, scheme_id: str) -> list[tuple[str, str]]:
    """Apply, decide, approve adjustments, plan, book and publish; the booked candidates' ids (what
    the signed roster names them by) and names, in the order of ``APPLICANTS``."""
    c = demo.central_dir
    accepted: list[tuple[str, str]] = []
    for applicant in APPLICANTS:
        person_id = _apply(demo, applicant, scheme_id)
        if person_id is not None:
            accepted.append((person_id, f"{applicant.given} {applicant.family}"))
    session = _plan(demo, centre_id, scheme_id, len(accepted))
    booked = []
    for person_id, name in accepted:
        booking = commands.central(c, "bookings", "book", session["session_id"], "--person", person_id,
                                   "--as-person", person_id)
        booked.append((str(booking["candidate_id"]), name))
    published = commands.central(c, "sessions", "publish", session["session_id"], "--by", REGISTRAR)
    demo.say(f"{len(APPLICANTS)} applications: {len(accepted)} accepted and booked on session {session['session_id']}, "
             f"1 refused for eligibility; roster version {published.get('version')} signed for {centre_id}")
    return booked


def _apply(demo: DemoLike, who: Applicant, scheme_id: str) -> str | None:
    """The person registers and applies (as themselves); the registrar decides. The person's id
    when accepted, None when refused."""
    c, slug = demo.central_dir, f"{who.given}.{who.family}".lower()
    person = commands.central(c, "persons", "add", "--given-name", who.given, "--family-name", who.family,
                              "--email", f"{slug}@example.org", "--date-of-birth", "1990-01-01", "--by", REGISTRAR)
    person_id = person["person_id"]
    answers = demo.work / "applications" / f"{person_id}.json"
    answers.parent.mkdir(exist_ok=True)
    course = "I completed the demo course." if who.completed_course else "I have not taken the demo course yet."
    answers.write_text(json.dumps({"statement": course}))
    application = commands.central(
        c, "applications", "submit", "--person", person_id, "--scheme", scheme_id, "--version", "1",
        "--answers", str(answers), "--education", "secondary", "--experience-months", str(who.experience_months),
        "--accept-agreement", "--rules-version", RULES_VERSION, "--as-person", person_id)
    if who.adjustments:
        _adjustments(demo, person_id, scheme_id, who.adjustments)
    if not who.completed_course:
        commands.central(c, "applications", "decide", application["application_id"], "--refuse", "--reasons",
                         "eligibility: the scheme asks for the demo course, which the applicant has not completed",
                         "--by", REGISTRAR)
        return None
    commands.central(c, "applications", "decide", application["application_id"], "--accept", "--reasons",
                     "eligibility met: course completed", "--by", REGISTRAR)
    return str(person_id)


def _adjustments(demo: DemoLike, person_id: str, scheme_id: str, adjustments: tuple[str, ...]) -> None:
    """The candidate asks for adjustments; the registrar approves the profile until a year from now."""
    c = demo.central_dir
    sets = [arg for adjustment in adjustments for arg in ("--set", adjustment)]
    request = commands.central(c, "accommodations", "request", "--person", person_id, "--scheme", scheme_id,
                               "--version", "1", *sets, "--reason", "assessed need (evidence seen by the registrar)",
                               "--as-person", person_id)
    expires = (date.today() + timedelta(days=365)).isoformat()
    commands.central(c, "accommodations", "approve", request["request_id"], "--expires", expires,
                     "--reasons", "within the scheme's allowance", "--by", REGISTRAR)


def _plan(demo: DemoLike, centre_id: str, scheme_id: str, seats: int) -> dict[str, Any]:
    """The body plans a session at the centre with the demo's two forms and a seat for each."""
    starts = (datetime.now(UTC) + timedelta(days=SESSION_IN_DAYS)).replace(minute=0, second=0, microsecond=0)
    forms = [arg for form_id in demo.forms for arg in ("--form", form_id)]
    return dict(commands.central(demo.central_dir, "sessions", "plan", "--centre", centre_id, "--scheme", scheme_id,
                                 "--version", "1", *forms, "--starts", starts.isoformat(),
                                 "--capacity", str(seats + 1), "--by", REGISTRAR))
