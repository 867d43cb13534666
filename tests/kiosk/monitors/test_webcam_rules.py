"""Webcam rules on scripted frame timelines: debounce, hysteresis, no storms, honest statuses.

The frames are real: the synthetic source composes a real photograph, the folder source reads
photographs written to disk. Only time is scripted (ManualClock), at the default 5 analyses/s.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from exam_core.protocol import parse_event
from kiosk.monitors import photos
from kiosk.monitors.config import CameraSettings, MonitorConfig, WebcamThresholds
from kiosk.monitors.hub import MonitorHub
from kiosk.monitors.sources import FolderSource
from kiosk.monitors.synthetic import SyntheticSource

STEP = 0.2   # 5 fps


def hub_for(source, clock, recorder, haar, **webcam):
    config = MonitorConfig(camera=CameraSettings(spec="test", thumbnail_every_s=1e9),
                           webcam=WebcamThresholds(**webcam), keyboard=False,
                           input_devices_root="/nonexistent")
    hub = MonitorHub(config, recorder, clock=clock, source=source, detector=haar)
    hub.start(threads=False)
    return hub


def run(hub, clock, seconds):
    for _ in range(round(seconds / STEP)):
        hub.camera.step()
        clock.advance(STEP)


def times(recorder, type_, state):
    return [e.mono_time - 1000.0 for e in recorder.of(type_, state)]


def test_no_face_fires_after_debounce_and_clears_after_hysteresis(clock, recorder, haar):
    hub = hub_for(SyntheticSource("one=10,none=8,one=10", clock=clock), clock, recorder, haar)
    run(hub, clock, 27)
    fired = times(recorder, "webcam.no_face", "active")
    cleared = times(recorder, "webcam.no_face", "cleared")
    assert len(fired) == 1 and len(cleared) == 1
    assert 15.0 <= fired[0] <= 15.0 + 2 * STEP          # left at 10 s, 5 s debounce
    assert 20.0 <= cleared[0] <= 20.0 + 2 * STEP        # back at 18 s, 2 s hysteresis
    event = recorder.of("webcam.no_face", "active")[0]
    assert event.severity == "high" and event.rule == "no_face"
    assert event.thresholds == {"no_face_after_s": 5.0, "no_face_clear_s": 2.0}
    assert event.evidence["measured"]["faces"] == 0
    assert event.data["held_s"] >= 5.0
    jpeg = base64.b64decode(event.evidence["snapshot_jpeg"])
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] == 160 and event.evidence["snapshot_size"] == [160, 120] and len(jpeg) < 20_000
    wire = event.to_event("kiosk-01", 7)          # fits exam_core.model.Event
    parse_event(wire.to_dict())                   # and the console protocol's size and evidence rules
    assert wire.rule == "no_face" and wire.seq == 7
    assert recorder.of("webcam.no_face", "cleared")[0].severity == "info"


def test_short_absences_never_fire(clock, recorder, haar):
    hub = hub_for(SyntheticSource("one=2,none=4", clock=clock), clock, recorder, haar)
    run(hub, clock, 30)
    assert recorder.of("webcam.no_face") == []


def test_hysteresis_a_brief_return_does_not_clear_or_refire(clock, recorder, haar):
    script = "one=3,none=8,one=1,none=8,one=6"
    hub = hub_for(SyntheticSource(script, clock=clock), clock, recorder, haar)
    run(hub, clock, 26)
    assert len(recorder.of("webcam.no_face", "active")) == 1
    assert len(recorder.of("webcam.no_face", "cleared")) == 1


def test_flickering_detection_is_one_alert_not_a_storm(clock, recorder, haar):
    """Two faces seen in alternate frames only: no alert (3 consecutive needed); then steady."""
    hub = hub_for(SyntheticSource("one=0.2,two=0.2", clock=clock), clock, recorder, haar)
    run(hub, clock, 10)
    assert recorder.of("webcam.multiple_faces") == []
    hub2 = hub_for(SyntheticSource("two=20", clock=clock), clock, recorder, haar)
    run(hub2, clock, 20)
    assert len(recorder.of("webcam.multiple_faces", "active")) == 1
    event = recorder.of("webcam.multiple_faces", "active")[0]
    assert event.evidence["measured"]["faces"] == 2
    assert event.thresholds["multiple_faces_consecutive"] == 3


def test_poor_lighting_suppresses_no_face(clock, recorder, haar, tmp_path):
    """An empty but dim room is reported as poor lighting, never as the candidate leaving."""
    dim_empty = photos.darken(photos.no_face("coffee"), 0.4)
    for i in range(10):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), photos.noisy(dim_empty, i))
    hub = hub_for(FolderSource(str(tmp_path)), clock, recorder, haar)
    run(hub, clock, 20)
    assert recorder.of("webcam.no_face") == []
    poor = recorder.of("webcam.poor_lighting", "active")
    assert len(poor) == 1 and poor[0].severity == "low"
    assert poor[0].evidence["measured"]["lighting"] == "poor"
    assert poor[0].thresholds["poor_max_brightness"] == 60.0


def test_covered_and_dark_fire_camera_covered_not_no_face(clock, recorder, haar):
    hub = hub_for(SyntheticSource("one=3,covered=5,one=4,dark=5,one=4", clock=clock), clock, recorder, haar)
    run(hub, clock, 21)
    covered = recorder.of("webcam.camera_covered", "active")
    assert [e.evidence["measured"]["lighting"] for e in covered] == ["covered", "too_dark"]
    assert len(recorder.of("webcam.camera_covered", "cleared")) == 2
    assert recorder.of("webcam.no_face") == []


def test_frozen_and_lost_camera(clock, recorder, haar):
    hub = hub_for(SyntheticSource("one=3,frozen=6,one=3,lost=4,one=3", clock=clock), clock, recorder, haar)
    run(hub, clock, 19)
    frozen = times(recorder, "webcam.camera_frozen", "active")
    lost = times(recorder, "webcam.camera_lost", "active")
    assert len(frozen) == 1 and 7.0 <= frozen[0] <= 7.0 + 2 * STEP
    assert recorder.of("webcam.camera_frozen", "active")[0].evidence["measured"]["frame_diff"] == 0.0
    assert len(lost) == 1 and 14.0 <= lost[0] <= 14.0 + 2 * STEP
    assert len(recorder.of("webcam.camera_lost", "cleared")) == 1
    assert recorder.of("webcam.no_face") == []


def test_turned_away_from_profile_detections(clock, recorder, haar):
    """Real profile photographs are not in scikit-image, so the rule is fed analyses with the
    detector's profile count set: the rule logic, timing and suppression of no_face are real."""
    from kiosk.monitors.analysis import FrameAnalysis
    from kiosk.monitors.rules.webcam import WebcamRules

    rules = WebcamRules(WebcamThresholds())
    fired = []
    for i in range(70):
        now = i * STEP
        side_on = 2 <= now < 10
        analysis = FrameAnalysis(now, True, frontal=0 if side_on else 1, profile=1 if side_on else 0,
                                 faces=1, brightness=120, contrast=40, diff=3.0)
        fired += [(r.name, c.state, round(now, 1)) for r, c in rules.observe(analysis)]
    assert fired == [("turned_away", "active", 7.0), ("turned_away", "cleared", 12.0)]
    rules.reconfigure(WebcamThresholds(), frozenset({"turned_away"}))
    assert rules.rules["turned_away"][1].enabled is False


def test_accommodation_switches_a_rule_off_and_is_recorded(clock, recorder, haar):
    hub = hub_for(SyntheticSource("one=2,none=60", clock=clock), clock, recorder, haar)
    hub.apply_accommodation("extended_absence", granted_by="centre_admin")
    run(hub, clock, 20)
    assert recorder.of("webcam.no_face") == []          # 30 s allowed by the profile
    record = recorder.of("monitor.accommodation")[0]
    assert record.data["profile"] == "extended_absence"
    assert record.thresholds["webcam"] == {"no_face_after_s": 30.0}
    run(hub, clock, 14)
    assert len(recorder.of("webcam.no_face", "active")) == 1


def test_thumbnails_every_n_seconds(clock, recorder, haar):
    config = MonitorConfig(camera=CameraSettings(spec="test", thumbnail_every_s=2.0), keyboard=False,
                           input_devices_root="/nonexistent")
    hub = MonitorHub(config, recorder, clock=clock, source=SyntheticSource("one", clock=clock), detector=haar)
    hub.start(threads=False)
    run(hub, clock, 10)
    thumbs = recorder.of("webcam.thumbnail")
    assert len(thumbs) == 5
    assert thumbs[0].evidence["snapshot_size"][0] == 160
    assert thumbs[0].evidence["measured"]["faces"] == 1


def test_baseline_lowers_poor_lighting_for_a_dim_workable_room(clock, recorder, haar, tmp_path):
    dim = photos.darken(photos.one_face("coffee"), 0.45)   # face found, brightness ~54
    for i in range(10):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), photos.noisy(dim, i))
    hub = hub_for(FolderSource(str(tmp_path)), clock, recorder, haar)
    hub.set_attempt("att-1")
    for _ in range(int(61 / STEP)):
        hub.camera.step()
        hub.tick()
        clock.advance(STEP)
    baseline = recorder.of("monitor.baseline")
    assert len(baseline) == 1
    assert baseline[0].attempt_id == "att-1"
    new = baseline[0].thresholds["webcam"]["poor_max_brightness"]
    assert new < 60.0 and baseline[0].data["before"]["poor_max_brightness"] == 60.0
    assert hub.thresholds()["webcam"]["poor_max_brightness"] == new
    run(hub, clock, 6)
    assert len(recorder.of("webcam.poor_lighting", "cleared")) == 1


@pytest.mark.parametrize("scene", ["one", "two", "covered", "lost"])
def test_every_event_fits_the_wire_model(clock, recorder, haar, scene):
    hub = hub_for(SyntheticSource(f"{scene}=1", clock=clock), clock, recorder, haar)
    run(hub, clock, 8)
    assert recorder.events
    for seq, event in enumerate(recorder.events):
        wire = event.to_event("kiosk-01", seq)
        parse_event(wire.to_dict())
        assert wire.to_dict()["type"] == event.type
