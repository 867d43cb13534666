"""The notice a candidate reads, before the examination, about the automated monitoring.

Why it is built from what actually runs: a notice that lists a webcam check on a kiosk without a
camera, or leaves out the keyboard monitor where it runs, is not a disclosure. The kiosk builds it
from the monitors it started (:class:`MonitoringSetup`), the page shows it, and the candidate's
acknowledgement records the notice's version and SHA-256 with the agreement in the journal and the
sealed result (ISO/IEC 17024's requirements on automated tools used in certification: the candidate
is told what is checked, that a person decides, and what is kept).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from exam_core.jsonio import canonical_dumps

NOTICE_VERSION = "invigil-monitoring-notice/1"
#: The console's default retention of pictures (proctor_console.retention.DEFAULT_RETENTION_DAYS).
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class MonitoringSetup:
    """Which automated checks run on this kiosk for this candidate."""

    camera: bool = False          # webcam presence and other-faces rules
    keyboard: bool = False        # input-anomaly rules (pynput listeners, device watcher)
    page: bool = True             # the exam page's own signals (focus, full screen, clipboard)
    retention_days: int = DEFAULT_RETENTION_DAYS
    profile: str = ""             # the candidate's accommodation profile of the monitors, if any


def _checks(setup: MonitoringSetup) -> list[dict[str, str]]:
    checks = []
    if setup.camera:
        checks.append({"id": "webcam_presence", "title": "Webcam: are you there?",
                       "text": "A few times a second the webcam picture is checked for a face. It notices when "
                               "nobody has been seen for a few seconds, and when the camera is covered, too dark, "
                               "frozen or unplugged."})
        checks.append({"id": "other_faces", "title": "Webcam: other people.",
                       "text": "It notices when more than one face is seen for about a second, or when you look "
                               "away from the screen for several seconds."})
    if setup.keyboard:
        checks.append({"id": "input_anomalies", "title": "Keyboard and mouse.",
                       "text": "It notices blocked shortcuts (such as switching windows or taking a screenshot), "
                               "typing faster than a person types, input that looks machine-made, a keyboard or "
                               "mouse plugged in, and long inactivity. What you type is never recorded: only "
                               "counts and timings."})
    if setup.page:
        checks.append({"id": "page_signals", "title": "The examination page.",
                       "text": "It notices when the page loses focus or leaves full screen, and when text is "
                               "copied or pasted outside an answer box (only its length is noted)."})
    return checks


def _kept(setup: MonitoringSetup) -> list[str]:
    kept = ["Video is analysed on this kiosk as it comes. It is never recorded and never leaves the kiosk."]
    if setup.camera:
        kept.append("When an alert is raised, a small still picture (160 pixels wide) goes with it to the proctor, "
                    "and the proctor's screen shows a small picture of your seat every 10 seconds.")
    kept.append(f"These pictures are deleted from the test centre after {setup.retention_days} days.")
    kept.append("Each alert (which check, with which limits, what it measured) and what the proctor decided about "
                "it are kept in the test centre's record of this session, without the pictures after "
                f"{setup.retention_days} days, so that any decision can be checked later.")
    return kept


def monitoring_notice(setup: MonitoringSetup) -> dict[str, Any]:
    """The notice as the page shows it, with its version and the SHA-256 the acknowledgement names."""
    notice: dict[str, Any] = {
        "version": NOTICE_VERSION,
        "checks": _checks(setup),
        "human_review": "They only raise an alert on the proctor's screen, saying which check fired and what "
                        "it measured. A person looks at every alert and decides what it means; no check can "
                        "pause, end or mark your examination by itself, and an alert is not an accusation.",
        "kept": _kept(setup),
    }
    notice["sha256"] = hashlib.sha256(canonical_dumps(notice)).hexdigest()
    return notice


def acknowledgement(notice: dict[str, Any]) -> dict[str, str]:
    """What is journaled with the agreement: which notice the candidate read."""
    return {"version": notice["version"], "sha256": notice["sha256"],
            "checks": ",".join(c["id"] for c in notice["checks"])}
