"""Kiosk monitors: webcam analysis and input-anomaly detection with explainable, debounced alerts.

The kiosk wires in one object, :class:`MonitorHub`; see ``hub.py`` for its use. Events are
:class:`MonitorEvent` (``exam_core.model.Event`` without ``kiosk_id`` and ``seq``, which the
kiosk outbox assigns); ``event.to_event(kiosk_id, seq)`` gives the wire record.
"""

from kiosk.monitors.check import camera_check_frames, check_image
from kiosk.monitors.clock import Clock, ManualClock, SystemClock
from kiosk.monitors.config import AccommodationProfile, MonitorConfig
from kiosk.monitors.events import MonitorEvent
from kiosk.monitors.hub import MonitorHub
from kiosk.monitors.page_signals import PageSignalMonitor
from kiosk.monitors.sources import SourceError, open_source

__all__ = [
    "AccommodationProfile", "Clock", "ManualClock", "MonitorConfig", "MonitorEvent", "MonitorHub",
    "PageSignalMonitor", "SourceError", "SystemClock", "camera_check_frames", "check_image",
    "open_source",
]
