"""What the centre knows about each candidate on the roster, in one view for every face.

For each candidate: the accommodations the roster grants (only those that differ from the
standard setting, in words and as data), whether their scheme allows them (against the policy
each package of the scheme held here carries: ``allowed``, ``refused`` with the reasons, ``unknown``
when no package of the scheme carries a policy yet, ``none`` when nothing is granted), whether they
have already sat (attempts started or sealed, with package, kiosk and state) and whether a centre
admin allowed them one more admission. ``roster list [--json]``, the Roster page and the
dashboard's admit list all read this, so a proctor sees before admitting what an admission would
be refused for.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from exam_core.model import ACCOMMODATION_NAMES, AccommodationPolicy, Accommodations
from proctor_console.accounts import User
from proctor_console.attempts import Attempts
from proctor_console.errors import NotFound
from proctor_console.packages import Packages
from proctor_console.readmissions import Readmissions
from proctor_console.roster import Candidate, Roster, policy_refusals

#: What a sitting shows of an attempt.
SITTING_KEYS = ("attempt_id", "package_id", "kiosk_id", "state", "started_at", "ended_at")


def granted(accommodations: Accommodations) -> dict[str, Any]:
    """The accommodations that differ from the standard setting, by name (what was granted)."""
    standard = Accommodations()
    return {name: getattr(accommodations, name) for name in ACCOMMODATION_NAMES
            if getattr(accommodations, name) != getattr(standard, name)}


def describe(accommodations: Accommodations) -> str:
    """The granted accommodations in words ("extra time +25 %, large text"), or "none"."""
    a = accommodations
    breaks = f" of {a.rest_break_minutes} min" if a.rest_break_minutes else ""
    words = {"extra_time_percent": f"extra time +{a.extra_time_percent} %", "large_text": "large text",
             "high_contrast": "high contrast", "zoom_percent": f"zoom {a.zoom_percent} %",
             "rest_breaks": f"{a.rest_breaks} rest break(s){breaks}",
             "rest_break_minutes": f"rest breaks{breaks}" if not a.rest_breaks else "",
             "monitor_profile": f"monitoring profile {a.monitor_profile}", "text_to_speech": "read aloud",
             "screen_reader": "screen reader"}
    return ", ".join(words[name] for name in granted(a) if words.get(name)) or "none"


def policy_check(candidate: Candidate, policies: dict[str, list[tuple[str, AccommodationPolicy]]]) -> dict[str, Any]:
    """``{"status": none|allowed|refused|unknown, "reasons": [...]}`` for the candidate's grants."""
    if not granted(candidate.accommodations):
        return {"status": "none", "reasons": []}
    if not policies.get(candidate.scheme_id):
        unknown = f"no package of scheme {candidate.scheme_id} held here carries the scheme's accommodation policy"
        return {"status": "unknown", "reasons": [unknown]}
    reasons = policy_refusals(candidate.scheme_id, candidate.accommodations, policies)
    return {"status": "refused" if reasons else "allowed", "reasons": reasons}


class Candidates:
    def __init__(self, roster: Roster, attempts: Attempts, packages: Packages, readmissions: Readmissions,
                 origins: Callable[[], dict[str, dict[str, Any]]] = dict) -> None:
        self.roster = roster
        self.attempts = attempts
        self.packages = packages
        self.readmissions = readmissions
        #: Where each candidate came from (``SignedRosters.origins``: CSV, signed roster with a photo, override).
        self.origins = origins

    def listing(self) -> list[dict[str, Any]]:
        """One row per candidate, by seat then name (see the module docstring)."""
        policies = self.packages.accommodation_policies()
        sittings = self.attempts.sittings()
        grants = self.readmissions.open_grants()
        origins = self.origins()
        return [self._row(c, policies, sittings.get(c.candidate_id, []), grants.get(c.candidate_id))
                | {"roster": origins.get(c.candidate_id, {"origin": "csv", "photo": False})}
                for c in self.roster.candidates()]

    def allow_readmission(self, admin: User, candidate_id: str, reason: str) -> int:
        """A centre admin allows a candidate on the roster one more admission (``Readmissions.allow``)."""
        if self.roster.get(candidate_id) is None:
            raise NotFound(f"candidate {candidate_id} is not on the roster")
        return self.readmissions.allow(admin, candidate_id, reason)

    @staticmethod
    def _row(candidate: Candidate, policies: dict[str, list[tuple[str, AccommodationPolicy]]],
             sittings: list[dict[str, Any]], grant: dict[str, Any] | None) -> dict[str, Any]:
        return {"candidate_id": candidate.candidate_id, "name": candidate.name, "scheme_id": candidate.scheme_id,
                "seat": candidate.seat, "accommodations": granted(candidate.accommodations),
                "accommodations_text": describe(candidate.accommodations),
                "policy": policy_check(candidate, policies),
                "sat": [{k: s[k] for k in SITTING_KEYS} for s in sittings],
                "readmission": None if grant is None else {k: grant[k] for k in ("granted_by", "reason", "granted_at")}}
