"""Tiny real recordings and captions for media tests, made on the spot (no binary fixtures).

Why generated: the machine has no ffmpeg, but OpenCV's bundled FFmpeg writes VP8 WebM, which
Chromium decodes, and the standard library writes WAV; both are real files the browser plays to
the end, so a test reaches readyState >= 2 and sees cues change with playback.
"""

from __future__ import annotations

import io
import math
import tempfile
import wave
from pathlib import Path

import cv2
import numpy as np


def tone(seconds: float = 0.3) -> bytes:
    """A short 440 Hz WAV (8 kHz, 8-bit mono): real audio Chromium decodes and plays to the end."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(int(128 + 60 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(int(8000 * seconds))))
    return out.getvalue()


def webm_video(seconds: float = 1.0, size: tuple[int, int] = (64, 48), fps: int = 10) -> bytes:
    """A VP8 WebM video of ``seconds`` (frames fading from black to green)."""
    width, height = size
    frames = max(1, int(seconds * fps))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.webm"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"VP80"), fps, (width, height))
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot write VP8 WebM on this machine")
        for n in range(frames):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[:, :, 1] = int(255 * n / frames)
            writer.write(frame)
        writer.release()
        return path.read_bytes()


def captions(*cues: tuple[float, float, str]) -> bytes:
    """A WebVTT file of (start, end, text) cues."""
    def stamp(t: float) -> str:
        return f"{int(t // 60):02d}:{t % 60:06.3f}"
    body = "".join(f"\n{stamp(a)} --> {stamp(b)}\n{text}\n" for a, b, text in cues)
    return f"WEBVTT\n{body}".encode()
