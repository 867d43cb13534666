"""Labelled camera frames composed from real photographs, for tests and the benchmark.

scikit-image ships real photographs inside its wheel (no download): ``astronaut`` (one face),
``lfw_subset`` (100 real face crops, 100 non-faces), and scenes without people (``coffee``,
``chelsea``, ``rocket``, ``brick``, ...); matplotlib's sample data adds ``grace_hopper.jpg`` (a
second real portrait). Frames with zero, one and two faces, and dark, covered and
poorly lit frames, are composed from them. Imported only by tests and bench (scikit-image is a
test dependency, not a kiosk one).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

FRAME = (640, 480)
#: Photographs without any human face, used as backgrounds and as "nobody there" frames.
BACKGROUNDS = ("coffee", "chelsea", "rocket", "brick", "grass", "gravel", "immunohistochemistry",
               "coins", "page", "text", "camera_wall")
#: Mean grey level the backgrounds are brought to: a normally lit room, as auto-exposure would give.
ROOM_BRIGHTNESS = 120.0


@dataclass(frozen=True)
class LabelledFrame:
    name: str
    frame: np.ndarray
    faces: int
    lighting: str = "ok"    # ok | poor | cannot_see (too dark or covered)


def _skimage_photo(name: str) -> np.ndarray:
    from skimage import data  # imported here: a test dependency only

    image = getattr(data, name)()
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2BGR)


@cache
def background(name: str) -> np.ndarray:
    """A 640x480 scene with no human face in it, exposed to a normal room's mean brightness."""
    # camera_wall: the cameraman photo's lawn and tripod, below his face
    image = _skimage_photo("camera")[300:512, 0:512] if name == "camera_wall" else _skimage_photo(name)
    image = cv2.resize(image, FRAME, interpolation=cv2.INTER_AREA)
    gain = ROOM_BRIGHTNESS / max(1.0, float(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).mean()))
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


@cache
def astronaut_head() -> np.ndarray:
    """Head and shoulders of the astronaut photograph (one real frontal face), 180x210 BGR."""
    return _skimage_photo("astronaut")[20:230, 135:315].copy()


@cache
def hopper_head() -> np.ndarray:
    """Head and shoulders of Grace Hopper's portrait (matplotlib sample data), 200x240 BGR."""
    from matplotlib import cbook  # imported here: test and bench only

    image = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    if image is None:
        raise FileNotFoundError("matplotlib's sample grace_hopper.jpg could not be read")
    return cv2.resize(image[40:440, 65:465], (200, 200), interpolation=cv2.INTER_AREA)


@cache
def lfw_faces() -> np.ndarray:
    """The 100 real face crops of ``skimage.data.lfw_subset`` as uint8 grey 25x25."""
    from skimage import data  # imported here: a test dependency only

    return (data.lfw_subset()[:100] * 255).astype(np.uint8)


def paste(frame: np.ndarray, patch: np.ndarray, cx: int, cy: int) -> np.ndarray:
    """Paste patch centred at (cx, cy), clipped to the frame; returns the frame."""
    h, w = patch.shape[:2]
    x0, y0 = max(0, cx - w // 2), max(0, cy - h // 2)
    x1, y1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    frame[y0:y1, x0:x1] = patch[: y1 - y0, : x1 - x0]
    return frame


def head(scale: float, mirror: bool = False, person: str = "astronaut") -> np.ndarray:
    face = hopper_head() if person == "hopper" else astronaut_head()
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    patch = cv2.resize(face, None, fx=scale, fy=scale, interpolation=interpolation)
    return cv2.flip(patch, 1) if mirror else patch


def lfw_head(index: int, size: int = 150) -> np.ndarray:
    grey = cv2.resize(lfw_faces()[index], (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def one_face(bg: str = "coffee", scale: float = 1.3, dx: int = 0, dy: int = 0,
             person: str = "astronaut") -> np.ndarray:
    frame = background(bg).copy()
    return paste(frame, head(scale, person=person), FRAME[0] // 2 + dx, FRAME[1] // 2 + dy)


def two_faces(bg: str = "coffee", scale: float = 1.1, second: np.ndarray | None = None) -> np.ndarray:
    frame = background(bg).copy()
    paste(frame, head(scale), FRAME[0] // 4 + 10, FRAME[1] // 2)
    return paste(frame, head(scale, mirror=True) if second is None else second,
                 3 * FRAME[0] // 4 - 10, FRAME[1] // 2)


def no_face(bg: str = "coffee") -> np.ndarray:
    return background(bg).copy()


def darken(frame: np.ndarray, factor: float, offset: float = 0.0) -> np.ndarray:
    return np.clip(frame.astype(np.float32) * factor + offset, 0, 255).astype(np.uint8)


def covered(level: int = 15, seed: int = 0) -> np.ndarray:
    """A lens covered by a hand or tape: nearly uniform, with sensor noise."""
    rng = np.random.default_rng(seed)
    frame = np.full((FRAME[1], FRAME[0], 3), level, np.int16) + rng.integers(-2, 3, (FRAME[1], FRAME[0], 3))
    return np.clip(frame, 0, 255).astype(np.uint8)


def noisy(frame: np.ndarray, seed: int, amplitude: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(frame.astype(np.int16) + rng.integers(-amplitude, amplitude + 1, frame.shape),
                   0, 255).astype(np.uint8)


def labelled_set(per_class: int = 12) -> list[LabelledFrame]:
    """Frames with known truth: faces 0/1/2 under good light, and dark, covered, poorly lit ones."""
    frames: list[LabelledFrame] = []
    bgs = list(BACKGROUNDS)
    rng = np.random.default_rng(2026)
    for i in range(per_class):
        bg = bgs[i % len(bgs)]
        scale = 1.0 + 0.6 * rng.random()
        dx, dy = int(rng.integers(-120, 121)), int(rng.integers(-40, 41))
        person = "hopper" if i % 3 == 2 else "astronaut"
        frames.append(LabelledFrame(f"one/{person}/{bg}/{i}", noisy(one_face(bg, scale, dx, dy, person), i), 1))
        frames.append(LabelledFrame(f"lfw-one/{bg}/{i}", noisy(paste(
            no_face(bg), lfw_head(i * 7 % 100, 140 + int(60 * rng.random())),
            320 + dx, 240 + dy), i), 1))
        frames.append(LabelledFrame(f"none/{bg}/{i}", noisy(no_face(bg), i), 0))
        second = (lfw_head((i * 13 + 5) % 100, 160) if i % 3 == 1
                  else head(0.8, person="hopper") if i % 3 == 2 else None)
        frames.append(LabelledFrame(f"two/{bg}/{i}", noisy(two_faces(bg, 0.9 + 0.3 * rng.random(),
                                                                     second), i), 2))
        lit = one_face(bg, scale, dx, dy) if i % 2 else no_face(bg)
        frames.append(LabelledFrame(f"dark/{bg}/{i}", noisy(darken(lit, 0.1 + 0.1 * rng.random(), 3), i),
                                    1 if i % 2 else 0, "cannot_see"))
        frames.append(LabelledFrame(f"covered/{i}", covered(int(8 + 30 * rng.random()), i), 0,
                                    "cannot_see"))
        frames.append(LabelledFrame(f"poor/{bg}/{i}", noisy(darken(one_face(bg, scale, dx, dy),
                                                                   0.35 + 0.1 * rng.random(), 3), i),
                                    1, "poor"))
    return frames
