"""Camera sources: spec parsing, folders of photographs, a recorded video, the synthetic camera."""

from __future__ import annotations

import cv2
import pytest

from kiosk.monitors import photos
from kiosk.monitors.sources import (CameraUnavailable, FolderSource, SourceError, VideoFileSource,
                                    open_source)
from kiosk.monitors.synthetic import SyntheticSource, parse_script


def test_none_means_no_camera():
    assert open_source("none") is None
    assert open_source("") is None


@pytest.mark.parametrize("spec,message", [
    ("webcam:0", "use device:N"), ("device:", "needs an index"), ("file:/nonexistent.mp4", "no such file"),
    ("folder:/nonexistent", "no such folder"), ("synthetic:dance=3", "not one of"),
    ("synthetic:one=abc", "not a number"), ("synthetic:one=-1", "must be in"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_missing_device_is_unavailable_not_malformed():
    with pytest.raises(CameraUnavailable):
        open_source("device:/dev/video99")


def test_folder_source_reads_photographs_in_order_and_loops(tmp_path):
    cv2.imwrite(str(tmp_path / "b.png"), photos.two_faces("coffee"))
    cv2.imwrite(str(tmp_path / "a.jpg"), photos.one_face("coffee"))
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(f"folder:{tmp_path}")
    assert isinstance(source, FolderSource)
    assert [p.name for p in source.files] == ["a.jpg", "b.png"]
    shapes = [source.read().shape for _ in range(3)]
    assert shapes == [(480, 640, 3)] * 3


def test_folder_source_treats_a_corrupt_image_as_a_lost_frame(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    assert FolderSource(str(tmp_path)).read() is None


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        FolderSource(str(tmp_path))


def test_video_file_source_plays_and_rewinds(tmp_path):
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"MJPG"), 5, (640, 480))
    assert writer.isOpened()
    for i in range(4):
        writer.write(photos.noisy(photos.one_face("coffee"), i))
    writer.release()
    source = open_source(f"file:{path}")
    assert isinstance(source, VideoFileSource)
    frames = [source.read() for _ in range(6)]        # 4 frames, then rewound
    assert all(f is not None and f.shape == (480, 640, 3) for f in frames)
    source.close()


def test_synthetic_script_timeline(clock):
    source = SyntheticSource("one=2,none=1,lost=1", clock=clock)
    scenes = []
    for _ in range(10):
        scenes.append(source.scene_at(clock.monotonic() - 1000.0))
        clock.advance(0.5)
    assert scenes == ["one"] * 4 + ["none"] * 2 + ["lost"] * 2 + ["one"] * 2


def test_synthetic_frames_differ_except_when_frozen(clock):
    source = SyntheticSource("one=1,frozen=1", clock=clock)
    a = source.read()
    clock.advance(0.5)
    b = source.read()
    assert cv2.absdiff(a, b).mean() > 0.5
    clock.advance(0.6)
    c = source.read()
    clock.advance(0.2)
    d = source.read()
    assert (c == d).all()


def test_presets_parse():
    assert parse_script("demo")[0] == ("one", 40.0)
    assert parse_script("two") == [("two", 1.0)]
    with pytest.raises(ValueError):
        parse_script(",".join(["one=1"] * 101))
