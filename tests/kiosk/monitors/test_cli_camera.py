"""``python -m kiosk camera-check`` as an administrator runs it: a real process, real photographs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import pytest

from kiosk.monitors import photos

from tests.support.monitors import YUNET_MODEL

REPO = Path(__file__).resolve().parents[3]


def camera_check(*args: str) -> tuple[int, Any]:  # the JSON answer, or the text when it is none
    proc = subprocess.run([sys.executable, "-m", "kiosk", "camera-check", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    frames = {"one": photos.one_face("coffee"), "two": photos.two_faces("gravel"),
              "none": photos.no_face("chelsea"), "covered": photos.covered(12),
              "dim": photos.darken(photos.one_face("coffee"), 0.4)}
    for name, frame in frames.items():
        cv2.imwrite(str(folder / f"{name}.png"), frame)
    return folder


@pytest.mark.parametrize("name,faces,status,code", [
    ("one", 1, "ok", 0), ("two", 2, "multiple_faces", 1), ("none", 0, "no_face", 1),
    ("covered", 0, "covered", 1), ("dim", 1, "poor_lighting", 1),
])
def test_image_statuses(images, name, faces, status, code):
    rc, result = camera_check("--image", str(images / f"{name}.png"), "--json")
    assert rc == code, result
    assert result["faces"] == faces and result["status"] == status
    assert isinstance(result["brightness"], float)


def test_synthetic_camera_and_human_output():
    rc, result = camera_check("--camera", "synthetic:one", "--frames", "3", "--json")
    assert rc == 0 and result["frames_analysed"] == 3 and result["status"] == "ok"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "camera-check", "--camera", "synthetic:covered",
                           "--frames", "2"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.startswith("status: covered")


def test_missing_camera_is_camera_lost():
    rc, result = camera_check("--camera", "device:/dev/video99", "--json")
    assert rc == 1 and result["status"] == "camera_lost" and "cannot open" in result["error"]


@pytest.mark.parametrize("args,message", [
    ((), "exactly one of"), (("--image", "/nonexistent.png"), "not a readable image"),
    (("--camera", "webcam"), "use device:N"), (("--camera", "none"), "no frames"),
    (("--image", "x.png", "--detector", "yunet"), "yunet_model"),
])
def test_usage_errors_name_the_problem(args, message):
    rc, output = camera_check(*args)
    assert rc == 2 and message in output


def test_yunet_from_the_shared_model(images):
    if not YUNET_MODEL.is_file():
        pytest.skip(f"YuNet model not found at {YUNET_MODEL}")
    rc, result = camera_check("--image", str(images / "two.png"), "--detector", "yunet",
                              "--yunet-model", str(YUNET_MODEL), "--json")
    assert rc == 1 and result["faces"] == 2 and result["detector"] == "yunet"
