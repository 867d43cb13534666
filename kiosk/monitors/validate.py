"""Precision and recall of the webcam rules on a labelled set of photographs.

Why replayed clips and not single frames: a rule fires only when its condition holds for seconds
(debounce) and clears only after it stops (hysteresis), so a rule is validated the way it runs.
Each photograph becomes a clip: ``VARIANTS`` noisy, shifted variants analysed by the real
detector, replayed through the real rules with their thresholds and timing at 5 analyses a second
for ``CLIP_S`` seconds. Good, front-facing photographs are also replayed unchanged (a frozen camera),
and a few clips have no frames at all (a lost camera). A rule counts as fired on a clip if it became
active in it; the truth comes from the labels:

* ``camera_covered``: lighting ``dark`` or ``covered`` (the camera cannot see; nothing else fires);
* ``poor_lighting``: lighting ``poor``;
* ``multiple_faces``: two or more faces on a frame the camera can see;
* ``no_face``: no face under ``ok`` lighting;
* ``turned_away``: the photograph's ``turned_away`` label (0 when absent);
* ``camera_frozen`` / ``camera_lost``: the frozen and lost clips.

The labelled-set layout (``labels.csv`` beside the images) is documented in this package's README;
``export_labelled`` writes the set the tests and the benchmark compose from real photographs.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable

import cv2
import numpy as np

from kiosk.monitors.analysis import FrameAnalysis, FrameAnalyzer
from kiosk.monitors.config import CameraSettings, WebcamThresholds
from kiosk.monitors.detectors import FaceDetector
from kiosk.monitors.events import STATE_ACTIVE
from kiosk.monitors.provenance import RULE_SET, rule_version
from kiosk.monitors.rules.webcam import SPECS, WebcamRules

CLIP_S = 12.0
STEP = 0.2
VARIANTS = 10
LOST_CLIPS = 4
LIGHTING = ("ok", "poor", "dark", "covered")
CANNOT_SEE = ("dark", "covered")
LABELS_FILE = "labels.csv"
MAX_PHOTOGRAPHS = 10_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
WEBCAM_RULES = tuple(spec.name for spec in SPECS)


class LabelledSetError(ValueError):
    """The labelled set cannot be read; the message names the file, line and column."""


@dataclass(frozen=True)
class Photograph:
    """One labelled photograph: what is in it, and under which light."""

    name: str
    frame: np.ndarray
    faces: int
    lighting: str = "ok"
    turned_away: bool = False


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, fired: bool, truth: bool) -> None:
        if fired and truth:
            self.tp += 1
        elif fired:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def to_dict(self) -> dict[str, Any]:
        measured = self.tp + self.fn > 0
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "precision": round(self.tp / (self.tp + self.fp), 4) if self.tp + self.fp else None,
                "recall": round(self.tp / (self.tp + self.fn), 4) if measured else None}


@dataclass
class Report:
    """What ``kiosk monitors validate`` prints, for the certification body's validation file."""

    detector: dict[str, Any]
    thresholds: dict[str, Any]
    photographs: int = 0
    clips: int = 0
    rules: dict[str, Counts] = field(default_factory=lambda: {r: Counts() for r in WEBCAM_RULES})
    lighting: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set": RULE_SET, "detector": self.detector, "thresholds": self.thresholds,
            "timing": {"clip_s": CLIP_S, "analyses_per_s": round(1 / STEP, 1), "variants": VARIANTS},
            "photographs": self.photographs, "clips": self.clips,
            "rules": {name: {"version": rule_version(name), **c.to_dict()} for name, c in self.rules.items()},
            "lighting": {name: {"photographs": info["photographs"],
                                "rules": {r: c.to_dict() for r, c in info["rules"].items()}}
                         for name, info in sorted(self.lighting.items())},
            "not_measured": [name for name, c in self.rules.items() if c.tp + c.fn == 0],
        }


def truth(photo: Photograph, kind: str) -> set[str]:
    """The rules that should fire on a clip of this photograph (see the module docstring)."""
    if kind == "lost":
        return {"camera_lost"}
    out = {"camera_frozen"} if kind == "frozen" else set()
    if photo.lighting in CANNOT_SEE:
        return out | {"camera_covered"}
    if photo.lighting == "poor":
        out.add("poor_lighting")
    if photo.faces >= 2:
        out.add("multiple_faces")
    if photo.faces == 0 and photo.lighting == "ok":
        out.add("no_face")
    if photo.turned_away:
        out.add("turned_away")
    return out


def clip_analyses(photo: Photograph, analyzer: FrameAnalyzer, kind: str) -> list[FrameAnalysis]:
    """The analyses a clip replays: noisy variants (steady), the same frame twice (frozen), none (lost)."""
    from kiosk.monitors.photos import noisy  # imported here: numpy only, no scikit-image needed
    if kind == "lost":
        return [analyzer.lost(0.0)]
    if kind == "frozen":
        first, _ = analyzer.analyze(photo.frame, 0.0)
        second, _ = analyzer.analyze(photo.frame, 0.0)
        return [first, second]  # the second has diff 0: an identical frame
    variants = []
    for seed in range(VARIANTS):
        shifted = np.roll(photo.frame, seed % 3 - 1, axis=1)
        variants.append(analyzer.analyze(noisy(shifted, 1000 + seed, 2), 0.0)[0])
    return variants


def fired(analyses: list[FrameAnalysis], kind: str, thresholds: WebcamThresholds) -> set[str]:
    """The rules that became active while the clip was replayed at 5 analyses a second."""
    rules = WebcamRules(thresholds)
    out: set[str] = set()
    for i in range(int(CLIP_S / STEP)):
        source = analyses[-1] if kind == "frozen" and i else analyses[i % len(analyses)]
        analysis = FrameAnalysis(**{**source.__dict__, "mono_time": i * STEP})
        out |= {rule.name for rule, change in rules.observe(analysis) if change.state == STATE_ACTIVE}
    return out


def _clips(photos: list[Photograph]) -> Iterable[tuple[Photograph, str]]:
    for photo in photos:
        yield photo, "steady"
    for photo in photos:
        if photo.lighting == "ok" and photo.faces == 1 and not photo.turned_away:
            yield photo, "frozen"
    for photo in photos[:LOST_CLIPS]:
        yield photo, "lost"


def measure(photos: list[Photograph], detector: FaceDetector,
            thresholds: WebcamThresholds | None = None) -> Report:
    """Replay every clip of the set through the rules and count, per rule and per lighting."""
    thresholds = thresholds or WebcamThresholds()
    describe = getattr(detector, "describe", None)
    report = Report(describe() if describe else {"name": detector.name}, dict(thresholds.__dict__),
                    photographs=len(photos))
    for photo in photos:
        info = report.lighting.setdefault(photo.lighting, {"photographs": 0, "rules": defaultdict(Counts)})
        info["photographs"] += 1
    settings = CameraSettings()
    for photo, kind in _clips(photos):
        analyzer = FrameAnalyzer(detector, thresholds, settings.analysis_width, settings.profile_every)
        got, want = fired(clip_analyses(photo, analyzer, kind), kind, thresholds), truth(photo, kind)
        report.clips += 1
        for rule in WEBCAM_RULES:
            report.rules[rule].add(rule in got, rule in want)
            report.lighting[photo.lighting]["rules"][rule].add(rule in got, rule in want)
    return report


# --- the labelled set on disk ----------------------------------------------------------------------

def load_labelled(directory: str | Path) -> list[Photograph]:
    """Read ``DIR/labels.csv`` (``file,faces,lighting[,turned_away]``) and the images it names."""
    root = Path(directory)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise LabelledSetError(f"{labels}: missing (see kiosk/monitors/README.md, labelled sets)")
    photos: list[Photograph] = []
    with labels.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"file", "faces", "lighting"} - set(reader.fieldnames or ())
        if missing:
            raise LabelledSetError(f"{labels}: header needs file, faces, lighting "
                                   f"(missing {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, start=2):
            if len(photos) >= MAX_PHOTOGRAPHS:
                raise LabelledSetError(f"{labels}: more than {MAX_PHOTOGRAPHS} photographs")
            photos.append(_photograph(root, labels, line, row))
    if not photos:
        raise LabelledSetError(f"{labels}: no photographs listed")
    return photos


def _photograph(root: Path, labels: Path, line: int, row: dict[str, str]) -> Photograph:
    where = f"{labels}:{line}"
    name = (row.get("file") or "").strip()
    path = (root / name).resolve()
    if not name or root.resolve() not in path.parents or path.suffix.lower() not in IMAGE_SUFFIXES:
        raise LabelledSetError(f"{where}: file: must name an image ({', '.join(IMAGE_SUFFIXES)}) inside {root}")
    try:
        faces = int(row["faces"])
    except ValueError:
        raise LabelledSetError(f"{where}: faces: must be a whole number") from None
    lighting = (row.get("lighting") or "").strip()
    if faces < 0 or faces > 20 or lighting not in LIGHTING:
        raise LabelledSetError(f"{where}: faces 0..20 and lighting one of {', '.join(LIGHTING)}")
    turned = (row.get("turned_away") or "0").strip()
    if turned not in ("0", "1"):
        raise LabelledSetError(f"{where}: turned_away: must be 0 or 1")
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise LabelledSetError(f"{where}: {name}: not a readable image")
    return Photograph(name, frame, faces, lighting, turned == "1")


def export_labelled(directory: str | Path, per_class: int = 6) -> int:
    """Write the set composed from real photographs (``kiosk.monitors.photos``; needs scikit-image)
    as PNG files with their ``labels.csv``; returns how many were written."""
    from kiosk.monitors.photos import labelled_set  # imported here: scikit-image is a test dependency
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, frame in enumerate(labelled_set(per_class)):
        kind = frame.name.split("/", 1)[0]
        lighting = kind if kind in ("dark", "covered", "poor") else "ok"
        name = f"{n:04d}-{frame.name.replace('/', '-')}.png"
        cv2.imwrite(str(root / name), frame.frame)
        rows.append({"file": name, "faces": frame.faces, "lighting": lighting, "turned_away": 0})
    with (root / LABELS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["file", "faces", "lighting", "turned_away"])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
