"""A scripted camera for demos and tests: a real face photograph composed into a room.

``synthetic:one=30,none=12,two=8`` shows one face for 30 s, nobody for 12 s, two faces for 8 s,
and loops. The face is a real photograph (see face_asset) so the real detectors run on it; sensor
noise and a small sway keep consecutive frames different, as a real camera's are, except in the
``frozen`` scene.
"""

from __future__ import annotations

import numpy as np

import cv2

from kiosk.monitors.clock import Clock, SystemClock
from kiosk.monitors.face_asset import face_photo

SCENES = ("one", "none", "two", "dark", "covered", "poor", "frozen", "lost")

PRESETS: dict[str, str] = {
    "one": "one=1", "none": "none=1", "two": "two=1", "dark": "dark=1", "covered": "covered=1",
    "poor": "poor=1", "frozen": "frozen=1", "lost": "lost=1",
    # The demo: a candidate sits still, then leaves, returns, gets help, covers the camera.
    "demo": "one=40,none=12,one=30,two=8,one=30,covered=8,one=30,poor=10,one=30",
    # One alert a demo can count on: absent for 12 s after a minute present.
    "leaves": "one=60,none=12,one=600",
}

MAX_SCENES = 100


def parse_script(text: str) -> list[tuple[str, float]]:
    """``one=30,none=12`` -> [("one", 30.0), ("none", 12.0)]; presets by name; ValueError if bad."""
    text = PRESETS.get(text or "one", text)
    script = []
    for part in text.split(","):
        scene, _, seconds = part.strip().partition("=")
        if scene not in SCENES:
            raise ValueError(f"synthetic scene {scene!r} is not one of {', '.join(SCENES)}")
        try:
            duration = float(seconds) if seconds else 1.0
        except ValueError:
            raise ValueError(f"synthetic scene {scene!r}: duration {seconds!r} is not a number") from None
        if not 0 < duration <= 86_400:
            raise ValueError(f"synthetic scene {scene!r}: duration must be in (0, 86400] seconds")
        script.append((scene, duration))
    if not script or len(script) > MAX_SCENES:
        raise ValueError(f"synthetic script needs 1..{MAX_SCENES} scenes")
    return script


class SyntheticSource:
    """Frames drawn from a script of scenes, timed by the injected clock."""

    def __init__(self, script: str = "one", clock: Clock | None = None,
                 size: tuple[int, int] = (640, 480), seed: int = 7) -> None:
        self.script = parse_script(script)
        self.description = f"synthetic:{script or 'one'}"
        self.clock = clock or SystemClock()
        self.width, self.height = size
        self._rng = np.random.default_rng(seed)
        self._face = face_photo()
        self._room = self._draw_room()
        self._start: float | None = None
        self._last: np.ndarray | None = None
        self.cycle_s = sum(d for _, d in self.script)

    def scene_at(self, elapsed: float) -> str:
        offset = elapsed % self.cycle_s
        for scene, duration in self.script:
            if offset < duration:
                return scene
            offset -= duration
        return self.script[-1][0]

    def read(self) -> np.ndarray | None:
        now = self.clock.monotonic()
        if self._start is None:
            self._start = now
        scene = self.scene_at(now - self._start)
        if scene == "lost":
            return None
        if scene == "frozen" and self._last is not None:
            return self._last.copy()
        frame = self.compose(scene)
        self._last = frame
        return frame

    def close(self) -> None:
        self._last = None

    def compose(self, scene: str) -> np.ndarray:
        """One frame of a scene, with fresh sensor noise."""
        if scene == "covered":
            frame = np.full((self.height, self.width, 3), 18, np.uint8)
            return self._noisy(frame, 2)
        frame = self._room.copy()
        sway = int(self._rng.integers(-4, 5))
        if scene in ("one", "dark", "poor", "frozen"):
            self._paste(frame, 2.0, self.width // 2 + sway, self.height // 2 + 10)
        elif scene == "two":
            self._paste(frame, 1.5, self.width // 4 + sway, self.height // 2 + 20)
            self._paste(frame, 1.5, 3 * self.width // 4 - sway, self.height // 2 + 20, mirror=True)
        if scene == "dark":
            frame = (frame.astype(np.float32) * 0.2).astype(np.uint8)
        elif scene == "poor":
            frame = (frame.astype(np.float32) * 0.4 + 8).astype(np.uint8)
        return self._noisy(frame, 3)

    def _paste(self, frame: np.ndarray, scale: float, cx: int, cy: int, mirror: bool = False) -> None:
        face = cv2.resize(self._face, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        if mirror:
            face = cv2.flip(face, 1)
        h, w = face.shape[:2]
        x0, y0 = max(0, cx - w // 2), max(0, cy - h // 2)
        x1, y1 = min(self.width, x0 + w), min(self.height, y0 + h)
        frame[y0:y1, x0:x1] = face[: y1 - y0, : x1 - x0]

    def _noisy(self, frame: np.ndarray, amplitude: int) -> np.ndarray:
        noise = self._rng.integers(-amplitude, amplitude + 1, frame.shape, dtype=np.int16)
        return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    def _draw_room(self) -> np.ndarray:
        """A plain wall with a shelf and a door frame: enough texture for realistic contrast."""
        h, w = self.height, self.width
        column = np.linspace(150, 110, h, dtype=np.float32)[:, None]
        wall = np.repeat(column, w, axis=1)
        room = np.dstack([wall * 0.95, wall, wall * 1.05]).clip(0, 255).astype(np.uint8)
        cv2.rectangle(room, (int(w * 0.04), int(h * 0.1)), (int(w * 0.18), h - 1), (70, 80, 95), -1)
        cv2.rectangle(room, (int(w * 0.78), int(h * 0.2)), (w - 10, int(h * 0.26)), (40, 60, 90), -1)
        for i in range(5):
            x = int(w * 0.8) + i * 22
            cv2.rectangle(room, (x, int(h * 0.1)), (x + 14, int(h * 0.2)), (30 + 30 * i, 90, 160 - 20 * i), -1)
        return room
