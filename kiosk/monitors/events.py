"""The event a monitor emits, before the kiosk outbox gives it a kiosk id and a sequence number.

A ``MonitorEvent`` has every field of ``exam_core.model.Event`` except ``kiosk_id`` and ``seq``:
the outbox owns the per-kiosk sequence, so the monitors never invent one. ``to_event`` completes it
and validates it with the wire model's own strict parser, so a monitor cannot emit something the
console would refuse.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from exam_core.model import SEVERITIES, Event

from kiosk.monitors.clock import Clock, iso_utc
from kiosk.monitors.provenance import rule_version

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")

#: An event that a rule fired: the condition held long enough.
STATE_ACTIVE = "active"
#: The condition stopped holding long enough: the same rule's alert is over.
STATE_CLEARED = "cleared"
#: A one-off observation with no duration (a shortcut attempt, a thumbnail, a recorded adjustment).
STATE_POINT = "point"


@dataclass(frozen=True)
class MonitorEvent:
    """One monitoring observation: which rule, with which thresholds, on which measured values."""

    type: str
    severity: str
    wall_time: str
    mono_time: float
    rule: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    attempt_id: str | None = None

    def __post_init__(self) -> None:
        if not EVENT_TYPE_RE.match(self.type):
            raise ValueError(f"event type {self.type!r} does not match {EVENT_TYPE_RE.pattern}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def state(self) -> str:
        return str(self.data.get("state", STATE_POINT))

    def to_dict(self) -> dict[str, Any]:
        """The fields of ``exam_core.model.Event`` without ``kiosk_id`` and ``seq``."""
        return {
            "type": self.type,
            "severity": self.severity,
            "wall_time": self.wall_time,
            "mono_time": self.mono_time,
            "attempt_id": self.attempt_id,
            "rule": self.rule,
            "thresholds": dict(self.thresholds),
            "evidence": dict(self.evidence),
            "data": dict(self.data),
        }

    def to_event(self, kiosk_id: str, seq: int) -> Event:
        """The wire event, checked by ``Event.from_dict`` (raises ValidationError naming the field)."""
        return Event.from_dict({"kiosk_id": kiosk_id, "seq": seq, **self.to_dict()})


EventSink = Callable[[MonitorEvent], object]  # what it returns is not used (the outbox gives its event)


class EventFactory:
    """Stamps events with the clock's times and the current attempt, and hands them to the sink.

    One factory is shared by all monitors of a hub; the lock serialises the sink, which is called
    from the camera thread, the pynput listener threads and the ticker thread.

    Every event of a rule gets ``data.rule_version``; every webcam event also ``data.detector``
    (the face detector in use, set by the hub: see :mod:`kiosk.monitors.provenance`).
    """

    def __init__(self, sink: EventSink, clock: Clock, attempt_id: str | None = None) -> None:
        self._sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self.attempt_id = attempt_id
        self.detector: dict[str, Any] | None = None

    def emit(self, type_: str, severity: str, *, rule: str = "", thresholds: dict | None = None,
             evidence: dict | None = None, data: dict | None = None,
             mono_time: float | None = None) -> MonitorEvent:
        data = dict(data or {})
        version = rule_version(rule)
        if version is not None:
            data.setdefault("rule_version", version)
        if type_.startswith("webcam.") and self.detector is not None:
            data.setdefault("detector", dict(self.detector))
        event = MonitorEvent(
            type=type_, severity=severity, wall_time=iso_utc(self._clock.wall()),
            mono_time=self._clock.monotonic() if mono_time is None else mono_time,
            rule=rule, thresholds=dict(thresholds or {}), evidence=dict(evidence or {}),
            data=data, attempt_id=self.attempt_id)
        with self._lock:
            self._sink(event)
        return event
