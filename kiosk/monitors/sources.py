"""Camera sources behind one interface, chosen by a ``--camera`` spec string.

``device:0`` or ``device:/dev/video2`` (V4L2 through cv2.VideoCapture), ``file:PATH`` (a video,
looped), ``folder:PATH`` (images in name order, looped), ``synthetic[:SCRIPT]`` (see synthetic.py)
and ``none`` (no camera: webcam monitoring off, which is recorded). ``read()`` returns a BGR frame
or None when the camera gave nothing; the camera-lost rule counts the Nones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from exam_core.errors import InvigilError

from kiosk.monitors.clock import Clock
from kiosk.monitors.imaging import MAX_FRAME_SIDE
from kiosk.monitors.synthetic import SyntheticSource

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: Largest image file a folder source reads (a camera frame is far smaller).
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_FOLDER_IMAGES = 100_000


class FrameSource(Protocol):
    description: str

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class SourceError(InvigilError):
    """A camera spec is malformed or names something that cannot be opened."""


class CameraUnavailable(SourceError):
    """The spec is fine but the camera cannot be opened (unplugged, busy, no permission)."""


class DeviceSource:
    """A V4L2 camera. Frames are asked for at 640x480; the buffer is kept at one frame so the
    analysis sees the present, not frames queued while it was busy."""

    def __init__(self, device: int | str, width: int = 640, height: int = 480) -> None:
        self.description = f"device:{device}"
        self._capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self._capture.isOpened():
            raise CameraUnavailable(f"device:{device}: cannot open camera")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        self._capture.release()


class VideoFileSource:
    """A recorded video, one frame per read, rewound at the end (for demos and replays)."""

    def __init__(self, path: str, loop: bool = True) -> None:
        self.description = f"file:{path}"
        if not os.path.isfile(path):
            raise SourceError(f"file:{path}: no such file")
        self._capture = cv2.VideoCapture(path)
        if not self._capture.isOpened():
            raise SourceError(f"file:{path}: not a video OpenCV can decode")
        self.loop = loop

    def read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        if not ok and self.loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        self._capture.release()


class FolderSource:
    """Still images from a folder in name order; an unreadable image reads as a lost frame."""

    def __init__(self, path: str, loop: bool = True) -> None:
        self.description = f"folder:{path}"
        folder = Path(path)
        if not folder.is_dir():
            raise SourceError(f"folder:{path}: no such folder")
        self.files = sorted(p for p in folder.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:MAX_FOLDER_IMAGES]
        if not self.files:
            raise SourceError(f"folder:{path}: no images ({', '.join(IMAGE_SUFFIXES)})")
        self.loop = loop
        self._next = 0

    def read(self) -> np.ndarray | None:
        if self._next >= len(self.files):
            if not self.loop:
                return None
            self._next = 0
        path = self.files[self._next]
        self._next += 1
        return read_image(path)

    def close(self) -> None:
        self._next = len(self.files)


def read_image(path: str | Path) -> np.ndarray | None:
    """An image file as BGR, or None if it is too big, undecodable or has absurd dimensions."""
    try:
        if os.path.getsize(path) > MAX_IMAGE_BYTES:
            return None
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or max(image.shape[:2]) > MAX_FRAME_SIDE:
        return None
    return image


def open_source(spec: str, clock: Clock | None = None) -> FrameSource | None:
    """The source a ``--camera`` spec names (None for ``none``); SourceError says what is wrong."""
    kind, _, arg = (spec or "none").partition(":")
    if kind == "none":
        return None
    if kind == "device":
        if not arg:
            raise SourceError("device: needs an index or a path, e.g. device:0 or device:/dev/video0")
        return DeviceSource(int(arg) if arg.isdigit() else arg)
    if kind == "file":
        return VideoFileSource(arg)
    if kind == "folder":
        return FolderSource(arg)
    if kind == "synthetic":
        try:
            return SyntheticSource(arg or "one", clock=clock)
        except ValueError as exc:
            raise SourceError(f"synthetic:{arg}: {exc}") from None
    raise SourceError(f"camera spec {spec!r}: use device:N, file:PATH, folder:PATH, "
                      "synthetic[:SCRIPT] or none")
