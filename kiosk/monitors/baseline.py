"""Per-candidate baseline: the first minute of a sitting tunes a few thresholds to the person.

A dim but workable room would otherwise raise "poor lighting" for two hours, and a very fast typist
would look like a macro. Adjustments only ever relax a threshold towards what was observed while
the candidate was demonstrably present (faces found in most frames), are bounded (the typing cap
stays far below injected speeds), and are recorded in an event with the measured values.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from kiosk.monitors.analysis import FrameAnalysis
from kiosk.monitors.config import BaselineSettings, InputThresholds, WebcamThresholds


@dataclass
class BaselineResult:
    webcam: dict[str, float] = field(default_factory=dict)
    input: dict[str, float] = field(default_factory=dict)
    measured: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


class Baseline:
    """Collects lighting and typing speed from the start of a sitting; computes once when due."""

    def __init__(self, settings: BaselineSettings, start: float) -> None:
        self.settings = settings
        self.start = start
        self.done = not settings.enabled
        self._brightness: list[float] = []
        self._contrast: list[float] = []
        self._with_face = 0
        self._rates: list[float] = []

    def observe_frame(self, analysis: FrameAnalysis) -> None:
        if self.done or not analysis.read_ok:
            return
        self._brightness.append(analysis.brightness)
        self._contrast.append(analysis.contrast)
        self._with_face += analysis.faces >= 1

    def observe_rates(self, rates: list[float]) -> None:
        if not self.done:
            self._rates = [r for r in rates if r > 0]

    def due(self, now: float) -> bool:
        return not self.done and now - self.start >= self.settings.duration_s

    def compute(self, webcam: WebcamThresholds, input_: InputThresholds) -> BaselineResult:
        """The adjustments (maybe none) against the thresholds in force; marks the baseline done."""
        self.done = True
        result = BaselineResult()
        self._lighting(webcam, result)
        self._typing(input_, result)
        return result

    def _lighting(self, t: WebcamThresholds, result: BaselineResult) -> None:
        s = self.settings
        frames = len(self._brightness)
        result.measured["frames"] = frames
        if frames < s.min_analyses:
            result.reasons.append(f"lighting: only {frames} frames analysed (< {s.min_analyses})")
            return
        face_share = self._with_face / frames
        brightness = statistics.median(self._brightness)
        contrast = statistics.median(self._contrast)
        result.measured.update(face_share=round(face_share, 3), brightness=round(brightness, 2),
                               contrast=round(contrast, 2))
        if face_share < s.min_face_share:
            result.reasons.append(f"lighting: face found in {face_share:.0%} of frames "
                                  f"(< {s.min_face_share:.0%}); thresholds kept")
            return
        if brightness < t.poor_max_brightness:
            floor = t.dark_max_brightness + 5
            result.webcam["poor_max_brightness"] = round(max(floor, s.poor_brightness_factor * brightness), 2)
            result.reasons.append("ambient light is dim but the face is found: poor-lighting bound lowered")
        if contrast < t.poor_max_contrast:
            floor = t.covered_max_contrast + 1
            result.webcam["poor_max_contrast"] = round(max(floor, s.poor_brightness_factor * contrast), 2)
            result.reasons.append("scene is flat but the face is found: poor-contrast bound lowered")

    def _typing(self, t: InputThresholds, result: BaselineResult) -> None:
        s = self.settings
        result.measured["typing_samples"] = len(self._rates)
        if len(self._rates) < s.min_typing_windows:
            result.reasons.append(f"typing: only {len(self._rates)} samples (< {s.min_typing_windows})")
            return
        p95 = sorted(self._rates)[max(0, round(0.95 * (len(self._rates) - 1)))]
        result.measured["typing_p95_keys_per_s"] = round(p95, 2)
        wanted = min(s.burst_cap_keys_per_s, s.burst_factor * p95)
        if wanted > t.burst_max_keys_per_s:
            result.input["burst_max_keys_per_s"] = round(wanted, 2)
            result.reasons.append("fast typist: burst bound raised (capped)")
