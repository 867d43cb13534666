"""MonitorHub as the kiosk runs it: real threads, real clock, degraded parts recorded, clean stop."""

from __future__ import annotations

import threading
import time

from kiosk.monitors.config import CameraSettings, MonitorConfig
from kiosk.monitors.hub import MonitorHub


def test_without_display_keyboard_is_degraded_and_said_so(monkeypatch, recorder, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("PYNPUT_BACKEND", raising=False)
    hub = MonitorHub(MonitorConfig(camera=CameraSettings(spec="none"), input_devices_root=str(tmp_path)),
                     recorder)
    hub.start()
    hub.stop()
    started = recorder.of("monitor.started")[0]
    assert started.data["keyboard"] is False
    assert "no DISPLAY" in started.data["degraded"]["keyboard"]
    assert "no camera" in started.data["degraded"]["camera"]


def test_bad_camera_spec_and_missing_model_are_degraded_not_fatal(recorder, tmp_path):
    for camera, reason in ((CameraSettings(spec="folder:/nonexistent"), "no such folder"),
                           (CameraSettings(spec="synthetic", detector="yunet",
                                           yunet_model=str(tmp_path / "none.onnx")), "cannot read")):
        hub = MonitorHub(MonitorConfig(camera=camera, keyboard=False, input_devices_root=str(tmp_path)),
                         recorder)
        hub.start(threads=False)
        assert reason in hub.degraded["camera"]
        assert hub.camera is None


def test_threads_run_at_the_configured_rate_and_stop(recorder, tmp_path):
    config = MonitorConfig(camera=CameraSettings(spec="synthetic:one", analysis_fps=5.0),
                           keyboard=False, input_devices_root=str(tmp_path))
    before = threading.active_count()
    hub = MonitorHub(config, recorder)
    hub.start()
    time.sleep(2.5)
    status = hub.status()
    hub.stop()
    assert 3.0 <= status["camera_fps"] <= 6.0, status
    assert status["last_analysis"]["faces"] == 1 and status["active_rules"] == []
    assert threading.active_count() <= before
    assert [e.type for e in recorder.events].count("webcam.thumbnail") == 1


def test_new_device_found_by_the_ticker(recorder, tmp_path):
    config = MonitorConfig(camera=CameraSettings(spec="none"), keyboard=False,
                           input_devices_root=str(tmp_path))
    hub = MonitorHub(config, recorder)
    hub.start()
    (tmp_path / "input9").mkdir()
    (tmp_path / "input9" / "name").write_text("Teensy Keyboard/Mouse\n")
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and not recorder.of("input.device_added"):
        time.sleep(0.1)
    hub.stop()
    assert recorder.of("input.device_added")[0].data["name"] == "Teensy Keyboard/Mouse"


def test_a_failing_detector_is_reported_not_silent(recorder, tmp_path):
    class BrokenDetector:
        """A detector that raises: stands for a bug or a driver fault inside the camera thread."""
        name = "broken"

        def detect(self, frame, grey, profile="both"):
            raise RuntimeError("boom")

        def describe(self) -> dict[str, object]:
            return {"name": self.name}

    config = MonitorConfig(camera=CameraSettings(spec="synthetic:one", analysis_fps=10.0),
                           keyboard=False, input_devices_root=str(tmp_path))
    hub = MonitorHub(config, recorder, detector=BrokenDetector())
    hub.start()
    time.sleep(1.0)
    hub.stop()
    errors = recorder.of("monitor.error")
    assert len(errors) == 1 and errors[0].data["part"] == "camera" and "boom" in errors[0].data["error"]
