"""Thresholds and settings of every monitor, with their defaults and a strict loader.

Every number that decides whether a candidate is flagged lives here, under the name the events
report it by, so an alert can always be traced to the exact threshold that produced it. Per-candidate
changes (baseline, accommodation profile) are made with ``dataclasses.replace`` and recorded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from exam_core.errors import ValidationError


@dataclass(frozen=True)
class CameraSettings:
    """How frames are taken and analysed."""

    spec: str = "none"
    analysis_fps: float = 5.0
    analysis_width: int = 320
    profile_every: int = 2              # side-on search on every 2nd frame without a frontal face
    detector: str = "haar"              # "haar" or "yunet"
    yunet_model: str = ""               # path to the YuNet ONNX file; required for "yunet"
    yunet_sha256: str = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
    thumbnail_every_s: float = 10.0
    snapshot_width: int = 160
    jpeg_quality: int = 70


@dataclass(frozen=True)
class WebcamThresholds:
    """Webcam rule thresholds. Brightness and contrast are the mean and standard deviation of the
    grey frame (0-255); a frame diff is the mean absolute pixel difference to the previous one."""

    no_face_after_s: float = 5.0
    no_face_clear_s: float = 2.0
    multiple_faces_min: int = 2
    multiple_faces_consecutive: int = 3
    multiple_faces_clear_s: float = 2.0
    turned_away_after_s: float = 5.0
    turned_away_clear_s: float = 2.0
    covered_max_contrast: float = 6.0
    dark_max_brightness: float = 35.0
    covered_after_s: float = 2.0
    covered_clear_s: float = 2.0
    poor_max_brightness: float = 60.0
    poor_max_contrast: float = 12.0
    overexposed_min_brightness: float = 225.0
    poor_lighting_after_s: float = 3.0
    poor_lighting_clear_s: float = 3.0
    frozen_max_diff: float = 0.1
    frozen_after_s: float = 4.0
    frozen_clear_s: float = 1.0
    lost_after_s: float = 2.0
    lost_clear_s: float = 1.0


@dataclass(frozen=True)
class InputThresholds:
    """Keyboard, pointer, device and page thresholds. Counts and timings only: never key values."""

    burst_window_s: float = 2.0
    burst_max_keys_per_s: float = 20.0
    burst_min_keys: int = 15
    burst_clear_s: float = 3.0
    synthetic_min_keys: int = 12
    synthetic_max_hold_ms: float = 10.0
    synthetic_max_interval_cv: float = 0.15
    synthetic_max_mean_interval_ms: float = 25.0
    idle_after_s: float = 180.0
    idle_clear_s: float = 0.0
    shortcut_merge_s: float = 2.0
    device_scan_every_s: float = 2.0
    focus_lost_after_s: float = 1.0
    focus_clear_s: float = 0.0
    hidden_after_s: float = 1.0
    hidden_clear_s: float = 0.0


DEFAULT_BLOCKED_SHORTCUTS: tuple[str, ...] = (
    "alt+tab", "alt+shift+tab", "alt+esc", "alt+f4", "super", "super+*", "print_screen",
    "alt+print_screen", "ctrl+print_screen", "ctrl+alt+f*", "ctrl+alt+delete", "ctrl+alt+backspace",
    "ctrl+alt+t", "ctrl+shift+esc", "ctrl+shift+i", "ctrl+shift+j", "f12", "ctrl+p", "ctrl+s",
    "ctrl+o", "ctrl+n", "ctrl+t", "ctrl+w", "ctrl+l", "ctrl+u", "menu",
)


@dataclass(frozen=True)
class BaselineSettings:
    """The first minute of a sitting, from which per-candidate adjustments are made."""

    enabled: bool = True
    duration_s: float = 60.0
    min_analyses: int = 50
    min_face_share: float = 0.8
    poor_brightness_factor: float = 0.8
    burst_factor: float = 2.0
    burst_cap_keys_per_s: float = 30.0
    min_typing_windows: int = 5


@dataclass(frozen=True)
class AccommodationProfile:
    """Rules switched off and thresholds changed for one candidate, granted by the centre."""

    name: str
    disable: tuple[str, ...] = ()
    # threshold name -> value (int or float, as the threshold's field is)
    webcam: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    description: str = ""


BUILTIN_PROFILES: dict[str, AccommodationProfile] = {
    p.name: p for p in (
        AccommodationProfile("no_gaze", disable=("turned_away",),
                             description="head movement is part of the candidate's condition"),
        AccommodationProfile("extended_absence", webcam={"no_face_after_s": 30.0},
                             description="may step out of view briefly (e.g. posture, medical)"),
        AccommodationProfile("assistive_input", disable=("typing_burst", "synthetic_input"),
                             description="dictation or switch-access software types for the candidate"),
        AccommodationProfile("low_vision", webcam={"poor_max_brightness": 40.0},
                             input={"idle_after_s": 600.0},
                             description="screen magnifier, dim room by need, long reading pauses"),
    )
}


@dataclass(frozen=True)
class MonitorConfig:
    """Everything the monitor hub needs; ``from_dict`` is the boundary for configuration files."""

    camera: CameraSettings = field(default_factory=CameraSettings)
    webcam: WebcamThresholds = field(default_factory=WebcamThresholds)
    input: InputThresholds = field(default_factory=InputThresholds)
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    blocked_shortcuts: tuple[str, ...] = DEFAULT_BLOCKED_SHORTCUTS
    keyboard: bool = True
    input_devices_root: str = "/sys/class/input"
    profiles: dict[str, AccommodationProfile] = field(default_factory=lambda: dict(BUILTIN_PROFILES))

    @classmethod
    def from_dict(cls, data: Any) -> MonitorConfig:
        if not isinstance(data, dict):
            raise ValidationError("monitors", "must be an object")
        known = {"camera", "webcam", "input", "baseline", "blocked_shortcuts", "keyboard",
                 "input_devices_root", "profiles"}
        _no_unknown(data, known, "monitors")
        profiles = dict(BUILTIN_PROFILES)
        for name, raw in _dict(data.get("profiles", {}), "monitors.profiles").items():
            profiles[name] = _profile(name, raw)
        shortcuts = data.get("blocked_shortcuts", list(DEFAULT_BLOCKED_SHORTCUTS))
        if not isinstance(shortcuts, list) or len(shortcuts) > 200 or not all(
                isinstance(s, str) and 0 < len(s) <= 60 for s in shortcuts):
            raise ValidationError("monitors.blocked_shortcuts", "must be a list of up to 200 short strings")
        keyboard = data.get("keyboard", True)
        if not isinstance(keyboard, bool):
            raise ValidationError("monitors.keyboard", "must be true or false")
        root = data.get("input_devices_root", "/sys/class/input")
        if not isinstance(root, str) or len(root) > 4096:
            raise ValidationError("monitors.input_devices_root", "must be a path")
        return cls(
            camera=_section(CameraSettings, data.get("camera", {}), "monitors.camera"),
            webcam=_section(WebcamThresholds, data.get("webcam", {}), "monitors.webcam"),
            input=_section(InputThresholds, data.get("input", {}), "monitors.input"),
            baseline=_section(BaselineSettings, data.get("baseline", {}), "monitors.baseline"),
            blocked_shortcuts=tuple(s.lower() for s in shortcuts),
            keyboard=keyboard, input_devices_root=root, profiles=profiles)


def threshold_dict(section: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The named thresholds of a section, as reported in an event."""
    return {name: getattr(section, name) for name in names}


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict) or len(value) > 100:
        raise ValidationError(where, "must be an object of at most 100 keys")
    return value


def _no_unknown(data: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", "unknown setting")


def _section(cls: type, raw: Any, where: str) -> Any:
    """Build a settings dataclass from a dict, checking each value's type against the default's."""
    raw = _dict(raw, where)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _no_unknown(raw, set(fields), where)
    defaults = cls()
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(value, getattr(defaults, name), f"{where}.{name}")
    return cls(**values)


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValidationError(where, "must be true or false")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(where, "must be a number")
        if value < 0 or value != value or value > 1e9:
            raise ValidationError(where, "must be a finite number >= 0")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValidationError(where, "must be a whole number")
        return type(default)(value)
    if isinstance(default, str):
        if not isinstance(value, str) or len(value) > 4096:
            raise ValidationError(where, "must be a string of at most 4096 characters")
        return value
    raise ValidationError(where, "unsupported setting")


def _profile(name: str, raw: Any) -> AccommodationProfile:
    where = f"monitors.profiles.{name}"
    raw = _dict(raw, where)
    _no_unknown(raw, {"disable", "webcam", "input", "description"}, where)
    disable = raw.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(r, str) and len(r) <= 60 for r in disable):
        raise ValidationError(f"{where}.disable", "must be a list of rule names")
    webcam = _overrides(raw.get("webcam", {}), WebcamThresholds(), f"{where}.webcam")
    input_ = _overrides(raw.get("input", {}), InputThresholds(), f"{where}.input")
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 300:
        raise ValidationError(f"{where}.description", "must be a string of at most 300 characters")
    return AccommodationProfile(name, tuple(disable), webcam, input_, description)


def _overrides(raw: Any, defaults: object, where: str) -> dict[str, float]:
    raw = _dict(raw, where)
    names = {f.name for f in dataclasses.fields(defaults)}  # type: ignore[arg-type]
    _no_unknown(raw, names, where)
    return {k: _coerce(v, getattr(defaults, k), f"{where}.{k}") for k, v in raw.items()}
