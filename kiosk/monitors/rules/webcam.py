"""The webcam rules, each reading one FrameAnalysis and reporting its named thresholds.

Lighting comes first: "no face" is only considered on frames good enough to show one, so a
candidate whom the camera cannot see is reported as covered, dark or poorly lit, never as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

from kiosk.monitors.analysis import LIGHTING_COVERED, LIGHTING_DARK, LIGHTING_POOR, FrameAnalysis
from kiosk.monitors.config import WebcamThresholds, threshold_dict
from kiosk.monitors.rules.base import DebouncedRule, RuleChange, Trigger


@dataclass(frozen=True)
class WebcamRuleSpec:
    name: str
    severity: str
    condition: Callable[[FrameAnalysis, WebcamThresholds], bool]
    fire_after: str                 # name of the threshold holding the debounce seconds
    clear_after: str                # name of the threshold holding the hysteresis seconds
    reported: tuple[str, ...]       # thresholds the event reports
    fire_after_count: str = ""      # optional: consecutive analyses threshold


def _lost(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return not a.read_ok


def _frozen(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.read_ok and a.diff is not None and a.diff <= t.frozen_max_diff


def _covered(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.read_ok and a.lighting in (LIGHTING_COVERED, LIGHTING_DARK)


def _poor(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.read_ok and a.lighting == LIGHTING_POOR


def _no_face(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.can_see and a.faces == 0


def _multiple(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.read_ok and a.faces >= t.multiple_faces_min


def _turned_away(a: FrameAnalysis, t: WebcamThresholds) -> bool:
    return a.read_ok and a.frontal == 0 and a.profile >= 1


SPECS: tuple[WebcamRuleSpec, ...] = (
    WebcamRuleSpec("camera_lost", "high", _lost, "lost_after_s", "lost_clear_s",
                   ("lost_after_s", "lost_clear_s")),
    WebcamRuleSpec("camera_frozen", "high", _frozen, "frozen_after_s", "frozen_clear_s",
                   ("frozen_max_diff", "frozen_after_s", "frozen_clear_s")),
    WebcamRuleSpec("camera_covered", "high", _covered, "covered_after_s", "covered_clear_s",
                   ("covered_max_contrast", "dark_max_brightness", "covered_after_s", "covered_clear_s")),
    WebcamRuleSpec("poor_lighting", "low", _poor, "poor_lighting_after_s", "poor_lighting_clear_s",
                   ("poor_max_brightness", "poor_max_contrast", "overexposed_min_brightness",
                    "poor_lighting_after_s",
                    "poor_lighting_clear_s")),
    WebcamRuleSpec("no_face", "high", _no_face, "no_face_after_s", "no_face_clear_s",
                   ("no_face_after_s", "no_face_clear_s")),
    WebcamRuleSpec("multiple_faces", "high", _multiple, "_zero", "multiple_faces_clear_s",
                   ("multiple_faces_min", "multiple_faces_consecutive", "multiple_faces_clear_s"),
                   fire_after_count="multiple_faces_consecutive"),
    WebcamRuleSpec("turned_away", "medium", _turned_away, "turned_away_after_s", "turned_away_clear_s",
                   ("turned_away_after_s", "turned_away_clear_s")),
)


def _threshold(t: WebcamThresholds, name: str) -> float:
    return 0.0 if name == "_zero" else float(getattr(t, name))


class WebcamRules:
    """All webcam rules over one stream of analyses; thresholds can change without losing state."""

    def __init__(self, thresholds: WebcamThresholds, disabled: frozenset[str] = frozenset()) -> None:
        self.rules: dict[str, tuple[WebcamRuleSpec, DebouncedRule]] = {}
        for spec in SPECS:
            trigger = Trigger(0.0, 0.0)
            self.rules[spec.name] = (spec, DebouncedRule(spec.name, f"webcam.{spec.name}",
                                                         spec.severity, trigger))
        self.thresholds = thresholds
        self.reconfigure(thresholds, disabled)

    def reconfigure(self, thresholds: WebcamThresholds, disabled: frozenset[str] = frozenset()) -> None:
        """Apply new thresholds and switched-off rules in place (active alerts keep their state)."""
        self.thresholds = thresholds
        for spec, rule in self.rules.values():
            rule.trigger.fire_after_s = _threshold(thresholds, spec.fire_after)
            rule.trigger.clear_after_s = _threshold(thresholds, spec.clear_after)
            if spec.fire_after_count:
                rule.trigger.fire_after_count = int(getattr(thresholds, spec.fire_after_count))
            rule.thresholds = threshold_dict(thresholds, spec.reported)
            rule.enabled = spec.name not in disabled

    def observe(self, analysis: FrameAnalysis) -> list[tuple[DebouncedRule, RuleChange]]:
        changes = []
        measured = analysis.measured()
        for spec, rule in self.rules.values():
            change = rule.observe(analysis.mono_time, spec.condition(analysis, self.thresholds), measured)
            if change is not None:
                changes.append((rule, change))
        return changes

    def active(self) -> list[str]:
        return [name for name, (_, rule) in self.rules.items() if rule.trigger.active]
