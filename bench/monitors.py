"""Cost and accuracy of the kiosk monitors, against raw OpenCV measured in the same run.

* CPU per analysed frame (single-threaded OpenCV, so "per core"), sustained over consecutive
  frames with the live settings, for 640x480 and 320x240 camera frames with a face and with an
  empty room (no frontal face makes the detector also search for profiles, the worst case), vs
  the raw minimum for a Haar face check: cvtColor + resize + one bare ``detectMultiScale`` with
  the same parameters. Frames/s per core = 1000 / ms.
* CPU share of one core while the camera monitor runs at the default 5 analyses/s on the real
  clock (``time.process_time`` over the period), vs the raw share of 5 bare checks per second.
  Goal: under 15 %.
* Precision and recall of each webcam rule on a labelled set built from real photographs
  (scikit-image: astronaut, the LFW face subset, scenes without people). Each labelled scene is a
  clip: 10 noisy variants analysed by the real detector, replayed through the real rules with
  their default thresholds and timing at 5 fps for 12 s. Goal: both >= 0.95. The turned-away rule
  has only its false alarms counted: every face in the set looks at the camera, and no package
  ships a profile photograph to measure its recall on.
* YuNet per frame, and the same accuracy table, when ../shared/models holds its model file.
"""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from collections.abc import Callable

import cv2
import numpy as np

from bench.common import Figure
from kiosk.monitors import photos
from kiosk.monitors.analysis import FrameAnalyzer
from kiosk.monitors.camera import CameraMonitor
from kiosk.monitors.clock import SystemClock
from kiosk.monitors.config import CameraSettings, WebcamThresholds
from kiosk.monitors.detectors import FaceDetector, HaarDetector, YuNetDetector
from kiosk.monitors.events import EventFactory
from kiosk.monitors.rules.webcam import WebcamRules
from kiosk.monitors.validate import Photograph, measure

BENCH = "monitors"
YUNET_MODEL = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
T = WebcamThresholds()
LIVE = CameraSettings()


class ReplaySource:
    """Pre-composed frames served in a loop at no cost, so only the analysis is measured."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = frames
        self.description = "replay"
        self._next = 0

    def read(self) -> np.ndarray | None:
        frame = self.frames[self._next % len(self.frames)]
        self._next += 1
        return frame

    def close(self) -> None:
        pass


def _cpu_ms(fn: Callable[[], object], count: int) -> float:
    """Median CPU milliseconds per call over three rounds (process time: immune to other load)."""
    fn()
    rounds = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(count):
            fn()
        rounds.append((time.process_time() - start) * 1000 / count)
    return float(np.median(rounds))


def _raw_check(frame: np.ndarray, detector: HaarDetector) -> Callable[[], object]:
    cascade = detector._frontal
    side = max(12, round(320 * detector.min_size_fraction))

    def run() -> object:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if grey.shape[1] > 320:
            grey = cv2.resize(grey, (320, grey.shape[0] * 320 // grey.shape[1]), interpolation=cv2.INTER_AREA)
        return cascade.detectMultiScale(grey, scaleFactor=detector.scale_factor,
                                        minNeighbors=detector.min_neighbors, minSize=(side, side))
    return run


def _frames(size: tuple[int, int]) -> dict[str, list[np.ndarray]]:
    one = [photos.noisy(photos.one_face("coffee", 1.3, dx), i) for i, dx in enumerate((-30, 0, 30))]
    empty = [photos.noisy(photos.no_face("coffee"), i) for i in range(3)]
    if size != photos.FRAME:
        one = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in one]
        empty = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in empty]
    return {"one face": one, "empty room": empty}


def speed_figures(quick: bool, detector: HaarDetector) -> list[Figure]:
    figures = []
    count = 10 if quick else 40
    for size in ((640, 480), (320, 240)):
        for scene, frames in _frames(size).items():
            analyzer = FrameAnalyzer(detector, T, 320, LIVE.profile_every)
            ours = _cpu_ms(functools.partial(analyzer.analyze, frames[0], 0.0), count)
            raw = _cpu_ms(_raw_check(frames[0], detector), count)
            figures.append(Figure(BENCH, f"analyse {size[0]}x{size[1]}, {scene}", round(ours, 2),
                                  "ms CPU/frame", "cvtColor+resize+bare detectMultiScale", round(raw, 2),
                                  note=f"{1000 / ours:.0f} frames/s per core (raw {1000 / raw:.0f})"))
    return figures


def cpu_share_figures(quick: bool, detector: HaarDetector) -> list[Figure]:
    figures = []
    period = 4.0 if quick else 15.0
    for scene, frames in _frames((640, 480)).items():
        raw_ms = _cpu_ms(_raw_check(frames[0], detector), 10)
        recorded: list = []
        clock = SystemClock()
        settings = CameraSettings(analysis_fps=5.0, thumbnail_every_s=10.0)
        monitor = CameraMonitor(ReplaySource(frames), FrameAnalyzer(detector, T, 320, LIVE.profile_every),
                                WebcamRules(T), EventFactory(recorded.append, clock), settings, clock)
        stop = threading.Event()
        thread = threading.Thread(target=monitor.run, args=(stop,), daemon=True)
        wall, cpu = time.monotonic(), time.process_time()
        thread.start()
        time.sleep(period)
        stop.set()
        thread.join()
        share = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
        figures.append(Figure(BENCH, f"CPU share at 5 fps, 640x480, {scene}", round(share, 2),
                              "% of one core", "5 bare Haar checks/s", round(raw_ms * 5 / 10, 2),
                              goal="< 15%", note=f"{monitor.analyses} analyses in {period:.0f} s"))
    return figures


# --- precision and recall -------------------------------------------------------------------

def labelled_photographs(quick: bool) -> list[Photograph]:
    """The labelled set of real photographs, as ``kiosk monitors validate`` reads it from disk."""
    out = []
    for scene in photos.labelled_set(per_class=6 if quick else 24):
        kind = scene.name.split("/", 1)[0]
        lighting = kind if kind in ("dark", "covered", "poor") else "ok"
        out.append(Photograph(scene.name, scene.frame, scene.faces, lighting))
    return out


def accuracy_figures(quick: bool, detector: FaceDetector) -> list[Figure]:
    """Precision and recall per rule (kiosk.monitors.validate: the clips, truth and counting)."""
    report = measure(labelled_photographs(quick), detector, T).to_dict()
    clips = report["clips"]
    figures = []
    turned = report["rules"].pop("turned_away")
    figures.append(Figure(BENCH, f"turned_away ({detector.name}) false alarms", float(turned["fp"]), "clips",
                          goal="0", note=f"every face in the set looks at the camera; of {clips} "
                          "clips. Recall not measured: no profile photograph is shipped"))
    for rule, c in report["rules"].items():
        note = f"tp {c['tp']} fp {c['fp']} fn {c['fn']} over {clips} clips"
        label = f"{rule} ({detector.name})"
        precision = 1.0 if c["precision"] is None else c["precision"]
        recall = 1.0 if c["recall"] is None else c["recall"]
        figures.append(Figure(BENCH, f"{label} precision", round(precision, 3), "", goal=">= 0.95", note=note))
        figures.append(Figure(BENCH, f"{label} recall", round(recall, 3), "", goal=">= 0.95", note=note))
    return figures


def yunet_figures(quick: bool) -> list[Figure]:
    """YuNet per frame and rule accuracy when its model file is present (it ships in no wheel)."""
    if not YUNET_MODEL.is_file():
        return []
    detector = YuNetDetector(str(YUNET_MODEL), LIVE.yunet_sha256)
    frame = _frames((640, 480))["one face"][0]
    analyzer = FrameAnalyzer(detector, T, 320, LIVE.profile_every)
    small = cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)
    ours = _cpu_ms(lambda: analyzer.analyze(frame, 0.0), 10 if quick else 40)
    raw = _cpu_ms(lambda: detector._detector.detect(small), 10 if quick else 40)
    return [Figure(BENCH, "analyse 640x480, one face, YuNet", round(ours, 2), "ms CPU/frame",
                   "resize + bare FaceDetectorYN.detect", round(raw, 2),
                   note=f"{1000 / ours:.0f} frames/s per core"),
            *accuracy_figures(quick, detector)]


def run(quick: bool) -> list[Figure]:
    cv2.setNumThreads(1)
    detector = HaarDetector()
    return (speed_figures(quick, detector) + cpu_share_figures(quick, detector)
            + accuracy_figures(quick, detector) + yunet_figures(quick))


if __name__ == "__main__":
    for figure in run(quick=True):
        print(figure.to_dict())
