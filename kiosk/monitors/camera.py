"""The camera loop: read a frame at the analysis rate, analyse it, run the rules, send thumbnails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from kiosk.monitors.analysis import FrameAnalysis, FrameAnalyzer
from kiosk.monitors.clock import Clock
from kiosk.monitors.config import CameraSettings, WebcamThresholds
from kiosk.monitors.events import STATE_ACTIVE, STATE_POINT, EventFactory
from kiosk.monitors.imaging import jpeg_snapshot
from kiosk.monitors.input import emit_rule_change
from kiosk.monitors.rules.webcam import WebcamRules
from kiosk.monitors.sources import FrameSource


class ErrorReporter:
    """Turns unexpected exceptions in a monitor thread into ``monitor.error`` events, at most one a
    minute, so a bug is visible on the console instead of silently ending monitoring."""

    def __init__(self, events: EventFactory, part: str, every_s: float = 60.0) -> None:
        self.events = events
        self.part = part
        self.every_s = every_s
        self.count = 0
        self._last = float("-inf")

    def report(self, exc: Exception) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        self.events.emit("monitor.error", "medium", rule="monitors",
                         data={"state": STATE_POINT, "part": self.part, "errors": self.count,
                               "error": f"{type(exc).__name__}: {exc}"[:300]})


def snapshot_evidence(snapshot: dict) -> dict:
    """Evidence fields for a snapshot as exam_core.protocol wants them: ``snapshot_jpeg`` (base64)."""
    return {"snapshot_jpeg": snapshot["jpeg_b64"],
            "snapshot_size": [snapshot["width"], snapshot["height"]]}


class CameraMonitor:
    """One camera, one analyser, the webcam rules; ``step`` is one analysis, ``run`` loops it."""

    def __init__(self, source: FrameSource, analyzer: FrameAnalyzer, rules: WebcamRules,
                 events: EventFactory, settings: CameraSettings, clock: Clock,
                 on_analysis: Callable[[FrameAnalysis], None] | None = None,
                 thumbnail: Callable[[dict], None] | None = None) -> None:
        self.source = source
        self.analyzer = analyzer
        self.rules = rules
        self.events = events
        self.settings = settings
        self.clock = clock
        self.on_analysis = on_analysis
        self.thumbnail = thumbnail
        self.last: FrameAnalysis | None = None
        self.analyses = 0
        self._started: float | None = None
        self._last_thumbnail = float("-inf")
        self._lock = threading.Lock()

    def reconfigure(self, thresholds: WebcamThresholds, disabled: frozenset[str]) -> None:
        with self._lock:
            self.analyzer.thresholds = thresholds
            self.rules.reconfigure(thresholds, disabled)

    def step(self) -> FrameAnalysis:
        now = self.clock.monotonic()
        with self._lock:
            if self._started is None:
                self._started = now
            try:
                frame = self.source.read()
            except Exception:  # noqa: BLE001 - a crashing driver is a lost camera, not a dead monitor
                frame = None
            small: np.ndarray | None = None
            if frame is None:
                analysis = self.analyzer.lost(now)
            else:
                try:
                    analysis, small = self.analyzer.analyze(frame, now)
                except ValueError:
                    analysis = self.analyzer.lost(now)
            self.last = analysis
            self.analyses += 1
            for rule, change in self.rules.observe(analysis):
                evidence = {}
                if change.state == STATE_ACTIVE and small is not None:
                    evidence = snapshot_evidence(self._snapshot(small))
                emit_rule_change(self.events, rule, change, now, evidence)
            if small is not None and now - self._last_thumbnail >= self.settings.thumbnail_every_s:
                self._last_thumbnail = now
                self._send_thumbnail(analysis, small, now)
        if self.on_analysis is not None:
            self.on_analysis(analysis)
        return analysis

    def run(self, stop: threading.Event) -> None:
        """Analyse at ``analysis_fps`` on the real clock until stop is set (the camera thread)."""
        period = 1.0 / max(0.1, self.settings.analysis_fps)
        deadline = time.monotonic()
        errors = ErrorReporter(self.events, "camera")
        while not stop.is_set():
            try:
                self.step()
            except Exception as exc:  # noqa: BLE001 - one bad frame must not end monitoring
                errors.report(exc)
            deadline += period
            delay = deadline - time.monotonic()
            if delay < 0:           # fell behind (slow frame): skip, do not try to catch up
                deadline, delay = time.monotonic(), 0
            stop.wait(delay)

    def fps(self) -> float:
        if self._started is None or self.last is None or self.last.mono_time <= self._started:
            return 0.0
        return round((self.analyses - 1) / (self.last.mono_time - self._started), 2)

    def _snapshot(self, small: np.ndarray) -> dict:
        return jpeg_snapshot(small, self.settings.snapshot_width, self.settings.jpeg_quality)

    def _send_thumbnail(self, analysis: FrameAnalysis, small: np.ndarray, now: float) -> None:
        payload = {"snapshot": self._snapshot(small), "measured": analysis.measured()}
        if self.thumbnail is not None:
            self.thumbnail({"mono_time": now, "active_rules": self.rules.active(), **payload})
            return
        self.events.emit("webcam.thumbnail", "info", rule="thumbnail",
                         thresholds={"thumbnail_every_s": self.settings.thumbnail_every_s},
                         evidence={"measured": payload["measured"], **snapshot_evidence(payload["snapshot"])},
                         data={"state": STATE_POINT,
                                                 "active_rules": self.rules.active()}, mono_time=now)
