"""``python -m kiosk camera-check``: is this camera (or this photo) good enough to proctor with?"""

from __future__ import annotations

import json
import sys

import click

from kiosk.monitors.check import camera_check_frames, check_image
from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import DetectorError, FaceDetector, make_detector
from kiosk.monitors.sources import CameraUnavailable, SourceError, open_source, read_image


@click.command("camera-check", help="""Run the face detector on an image or a few camera frames and
print {"faces", "brightness", "status"}. Status is one of ok, no_face, multiple_faces, turned_away,
too_dark, covered, poor_lighting, camera_lost. Exit code 0 only for ok, 1 for any other status,
2 for a usage error.""")
@click.option("--image", type=click.Path(dir_okay=False), help="An image file (PNG, JPEG...).")
@click.option("--camera", "camera", metavar="SPEC",
              help="device:N, device:/dev/videoN, file:PATH, folder:PATH or synthetic[:SCRIPT].")
@click.option("--frames", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Frames to analyse from --camera.")
@click.option("--detector", type=click.Choice(["haar", "yunet"]), default="haar", show_default=True)
@click.option("--yunet-model", type=click.Path(dir_okay=False), default="",
              help="YuNet ONNX model file (needed with --detector yunet).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def camera_check(image: str | None, camera: str | None, frames: int, detector: str,
                 yunet_model: str, as_json: bool) -> None:
    if (image is None) == (camera is None):
        raise click.UsageError("give exactly one of --image FILE or --camera SPEC")
    thresholds = WebcamThresholds()
    try:
        face_detector = make_detector(detector, yunet_model, "")
    except DetectorError as exc:
        raise click.UsageError(str(exc)) from None
    if image is not None:
        frame = read_image(image)
        if frame is None:
            raise click.BadParameter(f"{image}: not a readable image", param_hint="--image")
        result = {**check_image(frame, face_detector, thresholds), "source": f"image:{image}"}
    else:
        result = _check_camera(camera or "", face_detector, thresholds, frames)
    result["detector"] = detector
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"status: {result['status']}  faces: {result['faces']}  "
                   f"brightness: {result['brightness']}  contrast: {result['contrast']}  "
                   f"({result['frames_read']}/{result['frames_analysed']} frames, {result['source']})")
    sys.exit(0 if result["status"] == "ok" else 1)


def _check_camera(spec: str, detector: FaceDetector, thresholds: WebcamThresholds, frames: int) -> dict:
    """Frames from a camera spec; a camera that will not open is a status, not a usage error."""
    try:
        source = open_source(spec)
    except CameraUnavailable as exc:
        return {"faces": 0, "brightness": None, "contrast": None, "lighting": None,
                "status": "camera_lost", "frames_analysed": 0, "frames_read": 0,
                "source": spec, "error": str(exc)}
    except SourceError as exc:
        raise click.BadParameter(str(exc), param_hint="--camera") from None
    if source is None:
        raise click.BadParameter("'none' has no frames to check", param_hint="--camera")
    try:
        return camera_check_frames(source, detector, thresholds, frames=frames)
    finally:
        source.close()
