"""Face detectors behind one interface: OpenCV Haar cascades by default, YuNet when configured.

A detector answers two questions about a downscaled frame: which faces look at the screen
(frontal) and which are seen side-on (profile). The turned-away rule needs the second; "more than
one face" counts both, since a helper looking at the candidate's screen is seen side-on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from exam_core.errors import InvigilError

#: Biggest YuNet model file accepted (the real one is 230 kB).
YUNET_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Box:
    """A face found in the analysed (downscaled) frame, in its pixel coordinates."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0

    def to_list(self) -> list:
        return [self.x, self.y, self.w, self.h, round(self.score, 3)]


@dataclass(frozen=True)
class Detection:
    frontal: tuple[Box, ...] = ()
    profile: tuple[Box, ...] = ()

    @property
    def faces(self) -> int:
        """Distinct people seen: frontal faces plus profiles that overlap none of them."""
        extra = [p for p in self.profile if not any(_overlaps(p, f) for f in self.frontal)]
        return len(self.frontal) + len(extra)


class FaceDetector(Protocol):
    """Finds faces in a BGR frame (``grey`` is the same frame in grey).

    ``profile`` says which side-on searches to run when no frontal face is found: "none", "left"
    (faces turned one way), "right" (the mirrored search) or "both"; detectors for which profiles
    come free (YuNet) treat anything but "none" as "both".
    """

    name: str

    def detect(self, frame: np.ndarray, grey: np.ndarray, profile: str = "both") -> Detection: ...

    def describe(self) -> dict[str, object]:
        """Which detector, model and parameters: recorded with every webcam event."""
        ...


class DetectorError(InvigilError):
    """The configured detector cannot be built (missing cascade, missing or wrong model file)."""


class HaarDetector:
    """Viola-Jones cascades shipped in the opencv-python-headless<5 wheel.

    Parameters were chosen on real photographs and measured by bench/monitors.py: the ``alt2``
    frontal cascade on the un-equalised grey frame, scale step 1.2, 4 neighbours, faces at least
    36 px in a 320 px frame (12 ms CPU); the profile cascade, which costs twice as much, with a
    coarser step and larger faces. It finds one-way profiles only, so "right" searches the
    mirrored frame.
    """

    name = "haar"

    def __init__(self, frontal: str = "haarcascade_frontalface_alt2.xml",
                 profile: str = "haarcascade_profileface.xml", scale_factor: float = 1.2,
                 min_neighbors: int = 4, min_size_fraction: float = 36 / 320,
                 profile_scale_factor: float = 1.25, profile_min_size_fraction: float = 40 / 320) -> None:
        self._files = (frontal, profile)
        self._frontal = _cascade(frontal)
        self._profile = _cascade(profile)
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_fraction = min_size_fraction
        self.profile_scale_factor = profile_scale_factor
        self.profile_min_size_fraction = profile_min_size_fraction

    def detect(self, frame: np.ndarray, grey: np.ndarray, profile: str = "both") -> Detection:
        width = grey.shape[1]
        frontal = self._run(self._frontal, grey, self.scale_factor, self.min_size_fraction)
        found: list[Box] = []
        if not frontal and profile in ("left", "both"):
            found += self._run(self._profile, grey, self.profile_scale_factor, self.profile_min_size_fraction)
        if not frontal and profile in ("right", "both"):
            mirrored = self._run(self._profile, cv2.flip(grey, 1), self.profile_scale_factor,
                                 self.profile_min_size_fraction)
            found += [Box(width - b.x - b.w, b.y, b.w, b.h, b.score) for b in mirrored]
        return Detection(tuple(frontal), tuple(dedupe(found)))

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "opencv": cv2.__version__, "frontal_cascade": self._files[0],
                "profile_cascade": self._files[1], "scale_factor": self.scale_factor,
                "min_neighbors": self.min_neighbors, "min_size_fraction": round(self.min_size_fraction, 4),
                "profile_scale_factor": self.profile_scale_factor,
                "profile_min_size_fraction": round(self.profile_min_size_fraction, 4)}

    def _run(self, cascade: cv2.CascadeClassifier, grey: np.ndarray, scale_factor: float,
             size_fraction: float) -> list[Box]:
        side = max(12, round(grey.shape[1] * size_fraction))
        found = cascade.detectMultiScale(grey, scaleFactor=scale_factor,
                                         minNeighbors=self.min_neighbors, minSize=(side, side))
        return [Box(int(x), int(y), int(w), int(h)) for (x, y, w, h) in found]


class YuNetDetector:
    """OpenCV's YuNet CNN (``cv2.FaceDetectorYN``) from a model file whose hash is checked.

    YuNet finds faces at any yaw, so "profile" is decided from its five landmarks: when the nose
    sits far off the midpoint between the eyes relative to the eye distance, the head is turned.
    """

    name = "yunet"

    def __init__(self, model_path: str, expected_sha256: str = "", score_threshold: float = 0.8,
                 yaw_ratio: float = 0.35) -> None:
        data = _read_model(model_path, expected_sha256)
        self.model_sha256 = hashlib.sha256(data).hexdigest()
        self.score_threshold = score_threshold
        # Built from the very bytes that were hashed, so the file cannot change in between.
        self._detector = cv2.FaceDetectorYN.create(
            "onnx", np.frombuffer(data, np.uint8), np.zeros(0, np.uint8), (320, 240),
            score_threshold, 0.3, 50)
        self.yaw_ratio = yaw_ratio
        self._size: tuple[int, int] = (320, 240)

    def detect(self, frame: np.ndarray, grey: np.ndarray, profile: str = "both") -> Detection:
        want_profile = profile != "none"
        size = (frame.shape[1], frame.shape[0])
        if size != self._size:
            self._detector.setInputSize(size)
            self._size = size
        _, rows = self._detector.detect(frame)
        frontal: list[Box] = []
        turned: list[Box] = []
        for row in rows if rows is not None else ():
            box = Box(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[14]))
            (turned if want_profile and self._turned(row) else frontal).append(box)
        return Detection(tuple(frontal), tuple(turned))

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "opencv": cv2.__version__, "model_sha256": self.model_sha256,
                "score_threshold": self.score_threshold, "yaw_ratio": self.yaw_ratio}

    def _turned(self, row: np.ndarray) -> bool:
        right_eye, left_eye, nose = row[4:6], row[6:8], row[8:10]
        eye_distance = float(np.hypot(*(left_eye - right_eye)))
        if eye_distance < 1:
            return True
        offset = abs(float(nose[0]) - float(right_eye[0] + left_eye[0]) / 2)
        return offset / eye_distance > self.yaw_ratio


def make_detector(kind: str = "haar", yunet_model: str = "", yunet_sha256: str = "") -> FaceDetector:
    """The detector the settings name; raises DetectorError saying what is missing."""
    if kind == "haar":
        return HaarDetector()
    if kind == "yunet":
        if not yunet_model:
            raise DetectorError("detector 'yunet' needs camera.yunet_model (path to the ONNX file)")
        return YuNetDetector(yunet_model, yunet_sha256)
    raise DetectorError(f"unknown detector {kind!r}; use 'haar' or 'yunet'")


def _cascade(filename: str) -> cv2.CascadeClassifier:
    # the stubs bundled with opencv-python leave out cv2.data, the folder of the cascade files
    path = os.path.join(cv2.data.haarcascades, filename)  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise DetectorError(f"{path}: Haar cascade missing or unreadable "
                            "(opencv-python-headless<5 ships them; 5.x does not)")
    return cascade


def _read_model(path: str, expected_sha256: str) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > YUNET_MAX_BYTES:
            raise DetectorError(f"{path}: model file is {size} bytes, over {YUNET_MAX_BYTES}")
        with open(path, "rb") as handle:
            data = handle.read(YUNET_MAX_BYTES + 1)
    except OSError as exc:
        raise DetectorError(f"{path}: cannot read YuNet model ({exc.strerror})") from exc
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 and digest != expected_sha256.lower():
        raise DetectorError(f"{path}: sha256 {digest} does not match the configured {expected_sha256}")
    return data


def _overlaps(a: Box, b: Box) -> bool:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy > 0.3 * min(a.w * a.h, b.w * b.h)


def dedupe(boxes: list[Box]) -> list[Box]:
    """Boxes with the ones overlapping an earlier box removed (one face found twice is one face)."""
    kept: list[Box] = []
    for box in boxes:
        if not any(_overlaps(box, k) for k in kept):
            kept.append(box)
    return kept
