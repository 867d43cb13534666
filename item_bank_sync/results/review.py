"""What intake records about an attempt's time and ending, and why its result needs a person's decision.

An accepted attempt is scored like any other, but some results must not be used as they stand
(issue 13): an exam a proctor ended (the candidate was taken ill, a fire alarm) is scored as if the
candidate had stopped answering, and an attempt whose time allowed or accommodations differ from
what its form and scheme say was sat under other conditions than the rest. Intake does not refuse
them (the centre keeps nothing once receipted, and the candidate did sit); it records the timing
record and the reasons here, ``results export`` shows them, item analysis leaves ended attempts
out, and a decision-maker weighs them (``decide``, ``withheld``).

The timing record compares the kiosk's clock (``timings.allowed_ms``: the time allowed plus proctor
extensions, as sealed) with the central body's own figure from the bank: the form's duration with
the granted extra time applied once (``exam_core.model.allowed_seconds``) plus the sealed extensions.
"""

from __future__ import annotations

from dataclasses import dataclass

from exam_core.model import AccommodationPolicy, Attempt, Form, allowed_seconds
from exam_core.result import Submission, Timings

#: How the kiosk names a proctor's end of the attempt (``kiosk.session.ExamSession.end``).
PROCTOR_END = "proctor_end"
#: Clock rounding tolerated between the kiosk's and the central body's figure (whole seconds each).
TOLERANCE_MS = 1_000


@dataclass(frozen=True)
class Review:
    """The timing record and the reasons a person must decide on the result ('' none)."""

    time_allowed_ms: int | None
    time_used_ms: int | None
    expected_allowed_ms: int
    ended_by: str
    end_reason: str
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


def clock_text(ms: int) -> str:
    """``1:15:00`` for 4,500,000 ms (as the kiosk's timer shows time)."""
    hours, rest = divmod(ms // 1000, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def review(attempt: Attempt, form: Form, timings: Timings, submission: Submission | None,
           policy: AccommodationPolicy | None) -> Review:
    """The timing record of ``attempt`` and why its result needs a decision (module docstring)."""
    extended_ms = sum(e.seconds for e in timings.extensions) * 1000
    expected = allowed_seconds(form.duration_seconds, attempt.accommodations) * 1000 + extended_ms
    ended_by = submission.reason if submission else ""
    proctor = submission.ended_by_proctor if submission else None
    end_reason = proctor.reason if proctor else ""
    reasons = []
    if ended_by == PROCTOR_END or proctor is not None:
        reasons.append(f"ended by a proctor: {end_reason or 'no reason given'}")
    if timings.allowed_ms is not None and abs(timings.allowed_ms - expected) > TOLERANCE_MS:
        extra = attempt.accommodations.extra_time_percent
        reasons.append(f"time allowed {clock_text(timings.allowed_ms)} differs from the form's "
                       f"{clock_text(form.duration_seconds * 1000)} with +{extra} % extra time and "
                       f"{clock_text(extended_ms)} of extensions ({clock_text(expected)})")
    if policy is not None:
        reasons += [f"accommodation not allowed by the scheme: {r}" for r in policy.refusals(attempt.accommodations)]
    return Review(timings.allowed_ms, timings.elapsed_ms, expected, ended_by, end_reason, tuple(reasons))


def scheme_policy(scheme: dict[str, object]) -> AccommodationPolicy | None:
    """The accommodation policy a stored scheme document states (None when it states none)."""
    if "accommodations_allowed" not in scheme:
        return None
    return AccommodationPolicy.from_dict({"accommodations_allowed": scheme["accommodations_allowed"],
                                          "max_extra_time_percent": scheme.get("max_extra_time_percent", 0)},
                                         "scheme")
