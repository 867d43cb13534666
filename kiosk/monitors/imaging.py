"""Frame helpers shared by the analyser, the rules and camera-check: grey, downscale, stats, JPEG.

Frames are analysed downscaled (320 px wide by default): Haar cascades cost roughly in proportion to
the pixels searched, and a candidate's face at a desk is large enough to survive the reduction.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

#: Largest frame side accepted from any source; larger frames are refused, not resized.
MAX_FRAME_SIDE = 8192


@dataclass(frozen=True)
class FrameStats:
    """Lighting of a grey frame: mean (brightness) and standard deviation (contrast), 0-255."""

    brightness: float
    contrast: float


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Return frame as 3-channel BGR uint8, or raise ValueError saying what is wrong with it."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError("frame must be a uint8 numpy array")
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    elif not (frame.ndim == 3 and frame.shape[2] == 3):
        raise ValueError(f"frame has unsupported shape {frame.shape}")
    height, width = frame.shape[:2]
    if not (8 <= width <= MAX_FRAME_SIDE and 8 <= height <= MAX_FRAME_SIDE):
        raise ValueError(f"frame size {width}x{height} is outside 8..{MAX_FRAME_SIDE}")
    return frame


def downscale(frame: np.ndarray, width: int) -> np.ndarray:
    """Resize to ``width`` keeping the aspect ratio; frames already narrower are left as they are."""
    height, current = frame.shape[:2]
    if current <= width:
        return frame
    new_height = max(1, round(height * width / current))
    return cv2.resize(frame, (width, new_height), interpolation=cv2.INTER_AREA)


def to_grey(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def frame_stats(grey: np.ndarray) -> FrameStats:
    mean, std = cv2.meanStdDev(grey)
    return FrameStats(brightness=round(float(mean[0][0]), 2), contrast=round(float(std[0][0]), 2))


def frame_diff(grey: np.ndarray, previous: np.ndarray | None) -> float | None:
    """Mean absolute difference per pixel to the previous analysed frame (None for the first)."""
    if previous is None or previous.shape != grey.shape:
        return None
    return round(float(cv2.absdiff(grey, previous).mean()), 4)


def jpeg_snapshot(frame: np.ndarray, width: int, quality: int) -> dict:
    """A small JPEG of the frame as evidence: ``{"mime", "width", "height", "jpeg_b64"}``.

    Kept small (160 px wide by default, a few kB) because it travels in an event through the
    outbox and over the LAN; full-size video never leaves the kiosk.
    """
    small = downscale(frame, width)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - imencode fails only on invalid arrays
        raise ValueError("cannot encode JPEG")
    return {"mime": "image/jpeg", "width": int(small.shape[1]), "height": int(small.shape[0]),
            "jpeg_b64": base64.b64encode(buf.tobytes()).decode("ascii")}
