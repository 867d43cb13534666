"""What the candidate's page is shown: the screen, the attempt's state, settings, tools, notices.

Kept apart from :mod:`kiosk.webapp` (HTTP, guards, limits) because it decides *what a candidate
may see*, which has rules of its own:

* One screen at a time, chosen here from the runtime and the attempt's phase.
* The receipt is shown to the candidate who submitted, until they say they have noted it or for
  :data:`RECEIPT_SECONDS`; after that the kiosk shows the waiting screen and the page state carries
  nothing of that candidate (name, receipt, settings, messages), so the next person to sit down
  never sees it.
* Proctor messages are those sent to the current attempt (not to the previous candidate).
* Which tools, text sizes and monitoring notice apply comes from the form's scheme, the roster's
  accommodations and the monitors that actually run (:mod:`kiosk.tools.settings`,
  :mod:`kiosk.disclosure`).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from collections.abc import Callable

from exam_core.errors import ValidationError

from kiosk.disclosure import MonitoringSetup, acknowledgement, monitoring_notice
from exam_core.presentation import clean, item_view
from kiosk.runtime import KioskRuntime
from kiosk.tools.settings import enabled_tools, text_sizes
from kiosk.tools.speech import RATES, SpeechCache, question_text, synthesise

RECEIPT_SECONDS = 300.0  # the receipt stays on screen this long unless the candidate clears it


def _epoch(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() if text else None
    except ValueError:
        return None


class CandidatePages:
    """The page's view of one kiosk: ``state()`` for the poll, ``item()``, speech and the receipt.

    ``monitoring()`` says which automated checks run now (for the notice); ``clock()`` is wall time.
    """

    def __init__(self, runtime: KioskRuntime, monitoring: Callable[[], MonitoringSetup] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.monitoring = monitoring or MonitoringSetup
        self.clock = clock
        self.speech = SpeechCache()
        self._cleared: set[str] = set()
        self._lock = threading.Lock()

    # --- receipt ---------------------------------------------------------------------------------

    def receipt_visible(self) -> bool:
        """Whether the current attempt's receipt may still be shown."""
        attempt, receipt = self.runtime.attempt, self.runtime.admission.get("receipt")
        if attempt is None or not receipt:
            return False
        with self._lock:
            if attempt.attempt_id in self._cleared:
                return False
        at = _epoch(receipt.get("at"))
        return at is None or self.clock() - at < RECEIPT_SECONDS

    def clear_receipt(self) -> None:
        """The candidate has noted the code: the kiosk goes back to the waiting screen."""
        with self.runtime.lock:
            attempt = self.runtime.attempt
            if attempt is None or not self.runtime.admission.get("receipt"):
                raise ValidationError("receipt", "there is no receipt to clear")
            with self._lock:
                self._cleared.add(attempt.attempt_id)
            self.speech.clear()

    # --- the monitoring notice -------------------------------------------------------------------

    def notice(self) -> dict[str, Any]:
        return monitoring_notice(self.monitoring())

    def acknowledged(self, sha256: Any) -> dict[str, str]:
        """The acknowledgement of the notice the page showed; refused if it is not the current one."""
        notice = self.notice()
        if sha256 != notice["sha256"]:
            raise ValidationError("monitoring_notice", "the monitoring notice must be read (and be the current one)")
        return acknowledgement(notice)

    # --- the poll --------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the page shows now; the page polls this every second."""
        rt = self.runtime
        with rt.lock:
            attempt, session, admission = rt.attempt, rt.session, rt.admission
            screen = _screen(rt)
            out: dict[str, Any] = {
                "kiosk_id": rt.kiosk_id, "console_connected": rt.console_connected,
                "seat": attempt.seat if attempt else "", "screen": screen, "fault": rt.fault,
                "messages": [], "attempt_key": None, "session_open": False,
            }
            if attempt is None or (screen == "submitted" and not self.receipt_visible()):
                out["receipt_cleared"] = attempt is not None
                return out
            since = admission.get("admitted_at") or ""
            out["messages"] = [m for m in rt.messages if m.get("at", "") >= since]
            out["attempt_key"] = attempt.attempt_id
            out["candidate"] = {"name": attempt.candidate_name, "id": attempt.candidate_id}
            granted = attempt.accommodations
            out["accommodations"] = {"granted": granted.to_dict(),
                                     "active": dict(session.state.accommodations_active) if session else {}}
            out["display"] = {"text_sizes": list(text_sizes(granted)), "zoom_percent": granted.zoom_percent}
            if admission.get("receipt"):
                out["receipt_code"] = admission["receipt"]["receipt_code"]
            if session is not None:
                out["session_open"] = True
                out.update(self._session_state(session, screen))
            return out

    def _session_state(self, session: Any, screen: str) -> dict[str, Any]:
        s, granted, form = session.state, session.attempt.accommodations, session.bundle.content.form
        out: dict[str, Any] = {
            "title": form.title, "item_count": len(session.bundle.items),
            "tools": enabled_tools(form.tools, granted),
            "timer": {"remaining_ms": session.remaining_ms(), "allowed_ms": session.allowed_ms(),
                      "running": session.clock.running, "paused": s.paused, "pause_reason": s.pause_reason,
                      "on_break": s.on_break, "breaks_left": max(0, granted.rest_breaks - s.breaks_taken),
                      "break_minutes": granted.rest_break_minutes,
                      "warning": min(s.warnings) if s.warnings else None},
        }
        if screen == "agreement":
            out["agreement_html"] = clean(form.agreement_html)
            out["monitoring"] = self.notice()
        if screen == "instructions":
            out["instructions_html"] = clean(form.instructions_html)
        if screen == "exam":
            out["current"] = s.current
            out["items"] = [{"index": n, "item_id": it.item_id, "title": it.title,
                             "answered": session.is_answered(it.item_id), "flagged": it.item_id in s.flags}
                            for n, it in enumerate(session.bundle.items)]
        if screen == "submitted":
            out["submission_reason"] = (s.submitting or {}).get("reason", "candidate")
        return out

    # --- items, annotations, speech --------------------------------------------------------------

    def item(self, index: int) -> dict[str, Any]:
        """One item as the page renders it, with the answers, flag and annotations saved for it."""
        session = self.runtime.require_session()
        with session.lock:
            it = session.bundle.items[index]
            view = item_view(it, session.attempt.option_seed, session.bundle.image_size)
            view.update(index=index, total=len(session.bundle.items),
                        values=session.state.answers.get(it.item_id, {}),
                        flagged=it.item_id in session.state.flags,
                        annotations=dict(session.state.annotations.get(it.item_id, {})))
            return view

    def scratch(self) -> str:
        session = self.runtime.require_session()
        with session.lock:
            return str(session.state.annotations.get("", {}).get("scratch", ""))

    def speech_wav(self, index: int, rate: str) -> bytes:
        """The question at ``index`` read aloud (WAV); only for a candidate who has the tool."""
        session = self.runtime.require_session()
        granted, form = session.attempt.accommodations, session.bundle.content.form
        if not enabled_tools(form.tools, granted)["text_to_speech"]:
            raise ValidationError("speech", "reading aloud is not an accommodation of this candidate")
        if rate not in RATES:
            raise ValidationError("rate", f"must be one of {', '.join(RATES)}")
        item = session.bundle.items[index]
        view = self.item(index)
        text = question_text(view, index + 1, len(session.bundle.items))
        key = (session.attempt.attempt_id, item.item_id, rate)
        return self.speech.get(key, lambda: synthesise(text, rate, item.language))


def _screen(runtime: KioskRuntime) -> str:
    attempt, session, admission = runtime.attempt, runtime.session, runtime.admission
    if runtime.fault:
        return "fault"
    if attempt is None:
        return "waiting"
    if admission.get("receipt"):
        return "submitted"
    if not admission.get("identity_confirmed"):
        return "identity"
    if session is None:
        return "resume_wait" if runtime.keys_released else "awaiting_start"
    return {"agreement": "agreement", "instructions": "instructions", "in_progress": "exam",
            "submitted": "submitted"}.get(session.state.phase, "waiting")
