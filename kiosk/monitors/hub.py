"""MonitorHub: every monitor of one kiosk behind one small surface for the kiosk to wire in.

    hub = MonitorHub(config, emit=outbox_put)     # emit(MonitorEvent), from several threads
    hub.start()                                    # camera thread, pynput listeners, ticker thread
    hub.set_attempt("att-1")                       # stamps events; restarts the baseline minute
    hub.apply_accommodation("no_gaze")             # per candidate, recorded in an event
    hub.page.report("focus_lost", {})              # called by the kiosk server for page signals
    hub.status()                                   # for heartbeats: camera fps, active rules
    hub.stop()

Thresholds in force are always: configured defaults, then baseline adjustments, then the
candidate's accommodation profile; each change is emitted as a ``monitor.*`` event.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any
from collections.abc import Callable

import cv2

from exam_core.errors import ValidationError

from kiosk.monitors.analysis import FrameAnalysis, FrameAnalyzer
from kiosk.monitors.baseline import Baseline
from kiosk.monitors.camera import CameraMonitor, ErrorReporter
from kiosk.monitors.clock import Clock, SystemClock
from kiosk.monitors.config import AccommodationProfile, MonitorConfig
from kiosk.monitors.detectors import DetectorError, FaceDetector, make_detector
from kiosk.monitors.devices import InputDeviceWatcher
from kiosk.monitors.events import STATE_POINT, EventFactory, EventSink
from kiosk.monitors.input import InputMonitor, ShortcutPolicy
from kiosk.monitors.keyboard import PynputListeners
from kiosk.monitors.page_signals import PageSignalMonitor
from kiosk.monitors.provenance import RULE_SET
from kiosk.monitors.rules.webcam import WebcamRules
from kiosk.monitors.sources import FrameSource, SourceError, open_source

TICK_S = 0.25


class MonitorHub:
    """Runs the camera and input monitors of one kiosk and hands their events to ``emit``."""

    def __init__(self, config: MonitorConfig, emit: EventSink, *, clock: Clock | None = None,
                 source: FrameSource | None = None, detector: FaceDetector | None = None,
                 thumbnail: Callable[[dict], None] | None = None,
                 attempt_id: str | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.events = EventFactory(emit, self.clock, attempt_id)
        self._thumbnail = thumbnail
        self._source = source
        self._detector = detector
        self.profile: AccommodationProfile | None = None
        # threshold name -> value (int or float, as the field is) measured for this candidate
        self._baseline_webcam: dict[str, Any] = {}
        self._baseline_input: dict[str, Any] = {}
        now = self.clock.monotonic()
        self.baseline = Baseline(config.baseline, now)
        self.input = InputMonitor(config.input, ShortcutPolicy(config.blocked_shortcuts),
                                  self.events, now)
        self.page = PageSignalMonitor(config.input, self.events, self.clock)
        self.devices = InputDeviceWatcher(config.input_devices_root, self.events)
        self.camera: CameraMonitor | None = None
        self.keyboard: PynputListeners | None = None
        self.degraded: dict[str, str] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_device_scan = now
        self._lock = threading.RLock()

    # --- lifecycle --------------------------------------------------------------------------

    def build_camera(self) -> CameraMonitor | None:
        """Open the configured source and detector; failures are recorded as degraded, not raised."""
        cam = self.config.camera
        try:
            source = self._source or open_source(cam.spec, clock=self.clock)
        except SourceError as exc:
            self.degraded["camera"] = str(exc)
            return None
        if source is None:
            self.degraded["camera"] = "no camera configured (--camera none)"
            return None
        try:
            detector = self._detector or make_detector(cam.detector, cam.yunet_model, cam.yunet_sha256)
        except DetectorError as exc:
            self.degraded["camera"] = str(exc)
            source.close()
            return None
        rules = WebcamRules(self.config.webcam)
        describe = getattr(detector, "describe", None)  # an injected detector may not say more than its name
        self.events.detector = describe() if describe is not None else {"name": getattr(detector, "name", "custom")}
        analyzer = FrameAnalyzer(detector, self.config.webcam, cam.analysis_width, cam.profile_every)
        self.camera = CameraMonitor(source, analyzer, rules, self.events, cam, self.clock,
                                    on_analysis=self._on_analysis, thumbnail=self._thumbnail)
        return self.camera

    def start(self, threads: bool = True) -> None:
        """Build and start the monitors; ``threads=False`` builds only (tests drive ``step``/``tick``)."""
        self.build_camera()
        if self.config.keyboard and threads:
            self._start_keyboard()
        self._reconfigure()
        self.events.emit("monitor.started", "info", rule="monitors",
                         data={"state": STATE_POINT, "camera": self.config.camera.spec,
                               "detector": self.events.detector if self.camera else None,
                               "rule_set": RULE_SET,
                               "analysis_fps": self.config.camera.analysis_fps,
                               "keyboard": self.keyboard is not None,
                               "input_devices": len(self.devices.known),
                               "degraded": dict(self.degraded)})
        if not threads:
            return
        if self.camera is not None:
            cv2.setNumThreads(1)   # one core at most: the exam UI runs on the same machine
            self._spawn("monitor-camera", self.camera.run, self._stop)
        self._spawn("monitor-ticker", self._tick_loop)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.keyboard is not None:
            self.keyboard.stop()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self.camera is not None:
            self.camera.source.close()

    def _spawn(self, name: str, target: Callable, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_keyboard(self) -> None:
        if not os.environ.get("DISPLAY") and not os.environ.get("PYNPUT_BACKEND"):
            self.degraded["keyboard"] = "no DISPLAY: keyboard and pointer monitoring off"
            return
        error = ""
        for _ in range(2):          # an X connection can fail once on a loaded machine
            listeners = PynputListeners(self.input, self.clock)
            try:
                listeners.start()
            except Exception as exc:  # noqa: BLE001 - pynput raises ImportError or Xlib errors
                error = str(exc)
                continue
            self.keyboard = listeners
            return
        self.degraded["keyboard"] = f"pynput unavailable: {error}"

    # --- per candidate ----------------------------------------------------------------------

    def set_attempt(self, attempt_id: str | None) -> None:
        """Stamp events with this attempt and start its baseline minute afresh."""
        with self._lock:
            self.events.attempt_id = attempt_id
            self.baseline = Baseline(self.config.baseline, self.clock.monotonic())
            self.input.rate_samples.clear()
            self._baseline_webcam, self._baseline_input = {}, {}
            self.profile = None
            self._reconfigure()

    def apply_accommodation(self, name: str, granted_by: str = "") -> AccommodationProfile:
        """Switch to the named profile (``""`` clears it); the change is emitted as an event."""
        with self._lock:
            if name and name not in self.config.profiles:
                raise ValidationError("monitor_profile", f"unknown profile {name!r}; known: "
                                      f"{', '.join(sorted(self.config.profiles))}")
            self.profile = self.config.profiles[name] if name else None
            self._reconfigure()
            profile = self.profile or AccommodationProfile("")
            self.events.emit("monitor.accommodation", "info", rule="accommodation",
                             thresholds={"webcam": dict(profile.webcam), "input": dict(profile.input)},
                             data={"state": STATE_POINT, "profile": profile.name,
                                   "disabled_rules": list(profile.disable),
                                   "description": profile.description, "granted_by": granted_by})
            return profile

    # --- ticking ----------------------------------------------------------------------------

    def tick(self) -> None:
        """Time-driven checks: idle, page focus, device scan, baseline (the ticker thread's work)."""
        now = self.clock.monotonic()
        self.input.tick(now)
        self.page.tick(now)
        if now - self._last_device_scan >= self.config.input.device_scan_every_s:
            self._last_device_scan = now
            self.devices.poll(now)
        with self._lock:
            if self.baseline.done:
                return
            self.baseline.observe_rates(list(self.input.rate_samples))
            if self.baseline.due(now):
                self._finish_baseline()

    def _tick_loop(self) -> None:
        errors = ErrorReporter(self.events, "ticker")
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - keep idle/page/device checks alive
                errors.report(exc)

    def _on_analysis(self, analysis: FrameAnalysis) -> None:
        with self._lock:
            self.baseline.observe_frame(analysis)

    def _finish_baseline(self) -> None:
        before_webcam, before_input = self._effective()
        result = self.baseline.compute(before_webcam, before_input)
        self._baseline_webcam, self._baseline_input = result.webcam, result.input
        self._reconfigure()
        self.events.emit("monitor.baseline", "info", rule="baseline",
                         thresholds={"webcam": result.webcam, "input": result.input},
                         evidence={"measured": result.measured},
                         data={"state": STATE_POINT, "adjusted": bool(result.webcam or result.input),
                               "reasons": result.reasons,
                               "before": {**{k: getattr(before_webcam, k) for k in result.webcam},
                                          **{k: getattr(before_input, k) for k in result.input}}})

    # --- thresholds in force ----------------------------------------------------------------

    def _effective(self) -> tuple[Any, Any]:
        webcam = dataclasses.replace(self.config.webcam, **self._baseline_webcam)
        input_ = dataclasses.replace(self.config.input, **self._baseline_input)
        if self.profile is not None:
            webcam = dataclasses.replace(webcam, **self.profile.webcam)
            input_ = dataclasses.replace(input_, **self.profile.input)
        return webcam, input_

    def _reconfigure(self) -> None:
        webcam, input_ = self._effective()
        disabled = frozenset(self.profile.disable) if self.profile else frozenset()
        if self.camera is not None:
            self.camera.reconfigure(webcam, disabled)
        self.input.reconfigure(input_, disabled)
        self.page.reconfigure(input_, disabled)
        self.devices.enabled = "new_input_device" not in disabled

    def thresholds(self) -> dict[str, Any]:
        """The thresholds in force now, as plain dicts."""
        webcam, input_ = self._effective()
        return {"webcam": dataclasses.asdict(webcam), "input": dataclasses.asdict(input_)}

    def status(self) -> dict[str, Any]:
        """A small summary for the kiosk's heartbeat."""
        camera = self.camera
        last = camera.last if camera else None
        return {"camera": self.config.camera.spec if camera else None,
                "camera_fps": camera.fps() if camera else 0.0,
                "last_analysis": last.measured() if last else None,
                "active_rules": camera.rules.active() if camera else [],
                "keyboard": self.keyboard is not None, "degraded": dict(self.degraded),
                "profile": self.profile.name if self.profile else "",
                "key_presses": self.input.key_presses}
