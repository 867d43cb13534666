"""Signals the candidate page reports to the kiosk server: focus, visibility, fullscreen, clipboard.

The kiosk server receives them from its own page (over 127.0.0.1) and calls
``PageSignalMonitor.report(kind, detail)``. Everything in ``detail`` is validated here, because it
comes from a browser page: unknown kinds and fields are refused, sizes are bounded, and clipboard
signals carry a length at most, never the text.
"""

from __future__ import annotations

import threading
from typing import Any

from exam_core.errors import ValidationError

from kiosk.monitors.config import InputThresholds, threshold_dict
from kiosk.monitors.events import EventFactory
from kiosk.monitors.input import emit_rule_change
from kiosk.monitors.rules.base import DebouncedRule, Trigger

#: kind -> (fields allowed in detail, with their types)
SIGNALS: dict[str, dict[str, type]] = {
    "focus_lost": {}, "focus_gained": {},
    "visibility_hidden": {}, "visibility_visible": {},
    "fullscreen_exit": {}, "fullscreen_enter": {},
    "clipboard": {"action": str, "in_answer_field": bool, "length": int},
    "context_menu": {"in_answer_field": bool},
}
CLIPBOARD_ACTIONS = ("copy", "cut", "paste")


def validate_signal(kind: Any, detail: Any) -> dict[str, Any]:
    """The detail of a page signal checked against its schema; ValidationError names the field."""
    if not isinstance(kind, str) or kind not in SIGNALS:
        raise ValidationError("kind", f"unknown page signal; use one of {', '.join(SIGNALS)}")
    detail = {} if detail is None else detail
    if not isinstance(detail, dict) or len(detail) > 10:
        raise ValidationError("detail", "must be an object of at most 10 fields")
    schema = SIGNALS[kind]
    for name, value in detail.items():
        expected = schema.get(name)
        if expected is None:
            raise ValidationError(f"detail.{name}", f"not a field of {kind}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValidationError(f"detail.{name}", f"must be {expected.__name__}")
    if kind == "clipboard":
        if detail.get("action") not in CLIPBOARD_ACTIONS:
            raise ValidationError("detail.action", f"must be one of {', '.join(CLIPBOARD_ACTIONS)}")
        if not 0 <= detail.get("length", 0) <= 10_000_000:
            raise ValidationError("detail.length", "must be 0..10000000")
    return dict(detail)


class PageSignalMonitor:
    """Turns page signals into debounced events: a one-second blur is not worth a proctor's look."""

    def __init__(self, thresholds: InputThresholds, events: EventFactory, clock: Any,
                 disabled: frozenset[str] = frozenset()) -> None:
        self.events = events
        self.clock = clock
        self._lock = threading.Lock()
        self.focus = DebouncedRule("focus_lost", "page.focus_lost", "medium", Trigger(0, 0))
        self.hidden = DebouncedRule("page_hidden", "page.hidden", "medium", Trigger(0, 0))
        self._focus_lost = False
        self._hidden = False
        self.disabled = disabled
        self.reconfigure(thresholds, disabled)

    def reconfigure(self, t: InputThresholds, disabled: frozenset[str] = frozenset()) -> None:
        with self._lock:
            self.disabled = disabled
            self.focus.trigger.fire_after_s, self.focus.trigger.clear_after_s = (
                t.focus_lost_after_s, t.focus_clear_s)
            self.focus.thresholds = threshold_dict(t, ("focus_lost_after_s",))
            self.hidden.trigger.fire_after_s, self.hidden.trigger.clear_after_s = (
                t.hidden_after_s, t.hidden_clear_s)
            self.hidden.thresholds = threshold_dict(t, ("hidden_after_s",))
            for rule in (self.focus, self.hidden):
                rule.enabled = rule.name not in disabled

    def report(self, kind: str, detail: dict | None = None) -> None:
        """Called by the kiosk server for each signal its page sends; raises ValidationError."""
        detail = validate_signal(kind, detail)
        now = self.clock.monotonic()
        with self._lock:
            if kind in ("focus_lost", "focus_gained"):
                self._focus_lost = kind == "focus_lost"
            elif kind in ("visibility_hidden", "visibility_visible"):
                self._hidden = kind == "visibility_hidden"
            elif kind == "fullscreen_exit" and "fullscreen_exit" not in self.disabled:
                self.events.emit("page.fullscreen_exit", "high", rule="fullscreen_exit",
                                 data={"state": "point"}, mono_time=now)
            elif kind == "clipboard" and not detail.get("in_answer_field", False) \
                    and "clipboard_outside_answer" not in self.disabled:
                self.events.emit("page.clipboard", "medium", rule="clipboard_outside_answer",
                                 data={"state": "point", "action": detail["action"],
                                       "length": detail.get("length", 0)}, mono_time=now)
            self._tick_locked(now)

    def tick(self, now: float) -> None:
        with self._lock:
            self._tick_locked(now)

    def _tick_locked(self, now: float) -> None:
        for rule, condition in ((self.focus, self._focus_lost), (self.hidden, self._hidden)):
            change = rule.observe(now, condition, {"focus_lost": self._focus_lost,
                                                   "hidden": self._hidden})
            if change is not None:
                emit_rule_change(self.events, rule, change, now)
