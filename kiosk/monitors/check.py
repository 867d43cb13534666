"""camera-check: one verdict on an image or a few camera frames, for check-in and administrators.

The verdict uses the same analyser and lighting classes as the live rules, without their timing:
a candidate told "ok" at check-in is seen the same way during the exam.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from kiosk.monitors.analysis import (LIGHTING_COVERED, LIGHTING_DARK, LIGHTING_POOR, FrameAnalysis,
                                     FrameAnalyzer)
from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import FaceDetector
from kiosk.monitors.sources import FrameSource

STATUSES = ("ok", "no_face", "multiple_faces", "turned_away", "too_dark", "covered",
            "poor_lighting", "camera_lost")


def status_of(a: FrameAnalysis, t: WebcamThresholds) -> str:
    """The check-in status of one analysed frame, worst cause first."""
    if not a.read_ok:
        return "camera_lost"
    if a.lighting == LIGHTING_COVERED:
        return "covered"
    if a.lighting == LIGHTING_DARK:
        return "too_dark"
    if a.faces >= t.multiple_faces_min:
        return "multiple_faces"
    if a.lighting == LIGHTING_POOR:
        return "poor_lighting"       # with or without a face: ask for more light, never "absent"
    if a.faces == 0:
        return "no_face"
    if a.frontal == 0:
        return "turned_away"
    return "ok"


def summarise(analyses: list[FrameAnalysis], t: WebcamThresholds) -> dict[str, Any]:
    """The most common status over the frames, with the measured values behind it."""
    statuses = [status_of(a, t) for a in analyses]
    status = Counter(statuses).most_common(1)[0][0] if statuses else "camera_lost"
    seen = [a for a in analyses if a.read_ok]
    faces = Counter(a.faces for a in seen).most_common(1)[0][0] if seen else 0
    return {
        "faces": int(faces),
        "brightness": round(float(np.mean([a.brightness for a in seen])), 2) if seen else None,
        "contrast": round(float(np.mean([a.contrast for a in seen])), 2) if seen else None,
        "lighting": Counter(a.lighting for a in seen).most_common(1)[0][0] if seen else None,
        "status": status,
        "frames_analysed": len(analyses),
        "frames_read": len(seen),
        "statuses": dict(Counter(statuses)),
        "detect_ms": round(float(np.mean([a.detect_ms for a in seen])), 2) if seen else None,
    }


def check_image(frame: np.ndarray, detector: FaceDetector, thresholds: WebcamThresholds,
                width: int = 320) -> dict[str, Any]:
    """The verdict on one image (BGR); raises ValueError if the array is not an image."""
    analysis, _ = FrameAnalyzer(detector, thresholds, width).analyze(frame, time.monotonic())
    return summarise([analysis], thresholds)


def camera_check_frames(source: FrameSource, detector: FaceDetector, thresholds: WebcamThresholds,
                        frames: int = 5, interval_s: float = 0.2, width: int = 320) -> dict[str, Any]:
    """The verdict on a few frames from a source, ``interval_s`` apart."""
    analyzer = FrameAnalyzer(detector, thresholds, width)
    analyses = []
    for index in range(max(1, frames)):
        if index:
            time.sleep(interval_s)
        now = time.monotonic()
        try:
            frame = source.read()
        except Exception:  # noqa: BLE001 - a failing driver reads as a lost camera
            frame = None
        if frame is None:
            analyses.append(analyzer.lost(now))
            continue
        try:
            analyses.append(analyzer.analyze(frame, now)[0])
        except ValueError:
            analyses.append(analyzer.lost(now))
    return {**summarise(analyses, thresholds), "source": source.description}
