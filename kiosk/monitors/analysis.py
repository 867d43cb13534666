"""One analysed frame: faces, lighting and change, measured once and read by every webcam rule.

Lighting is classified before faces are looked for, because a face detector that sees nothing in a
dark or covered frame says nothing about whether the candidate is there: such frames are reported
as lighting problems and never as "no face".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import Box, Detection, FaceDetector, dedupe
from kiosk.monitors.imaging import check_frame, downscale, frame_diff, frame_stats, to_grey

LIGHTING_OK = "ok"
LIGHTING_POOR = "poor"
LIGHTING_DARK = "too_dark"
LIGHTING_COVERED = "covered"


@dataclass(frozen=True)
class FrameAnalysis:
    """What one frame showed. ``read_ok`` False means the source gave no frame at all."""

    mono_time: float
    read_ok: bool
    frontal: int = 0
    profile: int = 0
    faces: int = 0
    brightness: float = 0.0
    contrast: float = 0.0
    lighting: str = LIGHTING_OK
    diff: float | None = None
    detect_ms: float = 0.0
    boxes: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def can_see(self) -> bool:
        """Whether the frame is good enough for "no face" to mean the candidate is absent."""
        return self.read_ok and self.lighting == LIGHTING_OK

    def measured(self) -> dict:
        """The values an event reports as measured."""
        return {"faces": self.faces, "frontal": self.frontal, "profile": self.profile,
                "brightness": self.brightness, "contrast": self.contrast,
                "lighting": self.lighting, "frame_diff": self.diff}


def classify_lighting(brightness: float, contrast: float, t: WebcamThresholds) -> str:
    """covered: almost uniform; too_dark: dim; poor: dim-ish, washed out or very flat; else ok.

    Contrast is only a weak sign of poor light (an empty room with a plain wall is flat too), so
    its "poor" bound is low: set it high and a candidate who leaves is reported as poor lighting.

    A pitch-black room and a covered lens look alike to a camera; both are "cannot see".
    """
    if contrast < t.covered_max_contrast:
        return LIGHTING_COVERED
    if brightness < t.dark_max_brightness:
        return LIGHTING_DARK
    if (brightness < t.poor_max_brightness or contrast < t.poor_max_contrast
            or brightness > t.overexposed_min_brightness):
        return LIGHTING_POOR
    return LIGHTING_OK


class ProfileSchedule:
    """Which side-on search to run on a frame without a frontal face, and what is still known.

    Haar profile searches cost about as much as the frontal one, per side. A head turns slowly
    next to the rules' seconds of debounce, so the live monitor searches one side every
    ``every``-th such frame, alternating, and keeps each side's result for two of its periods.
    ``every=0`` searches both sides on every frame (camera-check, benchmarks of single frames).
    """

    def __init__(self, every: int) -> None:
        self.every = every
        self._frames = 0
        self._known: dict[str, tuple[int, tuple[Box, ...]]] = {}

    def side(self) -> str:
        if self.every <= 0:
            return "both"
        index, self._frames = self._frames, self._frames + 1
        if index % self.every:
            return "none"
        return "left" if (index // self.every) % 2 == 0 else "right"

    def merge(self, side: str, found: tuple[Box, ...]) -> tuple[Box, ...]:
        if self.every <= 0:
            return found
        if side in ("left", "right"):
            self._known[side] = (self._frames, found)
        horizon = 2 * 2 * self.every
        return tuple(dedupe([b for at, kept in self._known.values() if self._frames - at < horizon
                             for b in kept]))

    def reset(self) -> None:
        self._frames = 0
        self._known.clear()


class FrameAnalyzer:
    """Downscale, measure lighting and change, and run the detector when the frame can show a face."""

    def __init__(self, detector: FaceDetector, thresholds: WebcamThresholds, width: int = 320,
                 profile_every: int = 0) -> None:
        self.detector = detector
        self.thresholds = thresholds
        self.width = width
        self.profiles = ProfileSchedule(profile_every)
        self._previous: np.ndarray | None = None

    def lost(self, now: float) -> FrameAnalysis:
        self._previous = None
        return FrameAnalysis(mono_time=now, read_ok=False, lighting=LIGHTING_OK)

    def analyze(self, frame: np.ndarray, now: float) -> tuple[FrameAnalysis, np.ndarray]:
        """Analyse one frame; returns the analysis and the downscaled frame (for snapshots)."""
        small = downscale(check_frame(frame), self.width)
        grey = to_grey(small)
        stats = frame_stats(grey)
        diff = frame_diff(grey, self._previous)
        self._previous = grey
        lighting = classify_lighting(stats.brightness, stats.contrast, self.thresholds)
        detection = Detection()
        started = time.perf_counter()
        if lighting in (LIGHTING_OK, LIGHTING_POOR):
            side = self.profiles.side()
            detection = self.detector.detect(small, grey, profile=side)
            if detection.frontal:
                self.profiles.reset()
            else:
                detection = Detection((), self.profiles.merge(side, detection.profile))
        detect_ms = (time.perf_counter() - started) * 1000
        boxes = tuple((b.x, b.y, b.w, b.h) for b in detection.frontal + detection.profile)
        return FrameAnalysis(
            mono_time=now, read_ok=True, frontal=len(detection.frontal),
            profile=len(detection.profile), faces=detection.faces,
            brightness=stats.brightness, contrast=stats.contrast, lighting=lighting, diff=diff,
            detect_ms=round(detect_ms, 2), boxes=boxes), small
