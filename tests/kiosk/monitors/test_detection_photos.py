"""Face detection and lighting on frames composed from real photographs (scikit-image)."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.monitors import photos
from kiosk.monitors.analysis import FrameAnalyzer
from kiosk.monitors.check import check_image
from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import DetectorError, YuNetDetector, make_detector

from tests.support.monitors import YUNET_MODEL

T = WebcamThresholds()


def analyse(detector, frame):
    return FrameAnalyzer(detector, T).analyze(frame, 0.0)[0]


def test_astronaut_photo_has_exactly_one_face(haar):
    whole = photos._skimage_photo("astronaut")
    assert check_image(whole, haar, T)["faces"] == 1
    assert check_image(whole, haar, T)["status"] == "ok"


@pytest.mark.parametrize("bg", ["coffee", "chelsea", "rocket", "brick", "camera_wall", "page"])
def test_scenes_without_people_have_no_face(haar, bg):
    result = check_image(photos.no_face(bg), haar, T)
    assert result["faces"] == 0
    assert result["status"] == "no_face"


def test_the_cat_is_not_a_person(haar):
    assert check_image(photos._skimage_photo("chelsea"), haar, T)["faces"] == 0


@pytest.mark.parametrize("bg", ["coffee", "chelsea", "grass", "text"])
def test_one_face_composed_on_real_scenes(haar, bg):
    assert analyse(haar, photos.one_face(bg)).faces == 1


@pytest.mark.parametrize("bg", ["coffee", "gravel", "coins"])
def test_two_astronaut_crops_side_by_side_are_two_faces(haar, bg):
    result = check_image(photos.two_faces(bg), haar, T)
    assert result["faces"] == 2
    assert result["status"] == "multiple_faces"


def test_two_different_people(haar):
    frame = photos.two_faces("coffee", second=photos.lfw_head(3, 160))
    assert analyse(haar, frame).faces == 2


def test_lfw_faces_are_found(haar):
    """Real face photographs of many people (LFW subset): nearly all found when face-sized."""
    found = sum(analyse(haar, photos.paste(photos.no_face("brick"), photos.lfw_head(i, 150), 320, 240)).faces == 1
                for i in range(0, 100, 5))
    assert found >= 19


def test_covered_lens_is_covered_not_absent(haar):
    result = check_image(photos.covered(15), haar, T)
    assert result["status"] == "covered"
    assert result["lighting"] == "covered"


def test_dark_room_is_too_dark_not_absent(haar):
    frame = photos.noisy(photos.darken(photos.one_face("coffee"), 0.2), 1)
    result = check_image(frame, haar, T)
    assert result["status"] == "too_dark", result
    assert result["brightness"] < T.dark_max_brightness


def test_dim_light_is_poor_lighting_even_with_the_face_found(haar):
    frame = photos.noisy(photos.darken(photos.one_face("coffee"), 0.4), 1)
    result = check_image(frame, haar, T)
    assert result["lighting"] == "poor"
    assert result["status"] == "poor_lighting"


def test_empty_dim_room_is_poor_lighting_never_no_face(haar):
    frame = photos.noisy(photos.darken(photos.no_face("coffee"), 0.4), 1)
    assert check_image(frame, haar, T)["status"] == "poor_lighting"


def test_frame_validation_refuses_non_images(haar):
    with pytest.raises(ValueError):
        check_image(np.zeros((4, 4, 3), np.uint8), haar, T)
    with pytest.raises(ValueError):
        check_image(np.zeros((100, 100, 3), np.float32), haar, T)


def test_yunet_counts_faces_like_haar(yunet):
    one = analyse(yunet, photos.one_face("coffee"))
    assert (one.faces, one.frontal, one.profile) == (1, 1, 0)      # landmarks: facing the screen
    assert analyse(yunet, photos.two_faces("gravel")).faces == 2
    assert analyse(yunet, photos.no_face("chelsea")).faces == 0


def test_yunet_refuses_a_model_with_the_wrong_hash(tmp_path):
    if not YUNET_MODEL.is_file():
        pytest.skip(f"YuNet model not found at {YUNET_MODEL}")
    with pytest.raises(DetectorError, match="sha256"):
        YuNetDetector(str(YUNET_MODEL), "0" * 64)
    with pytest.raises(DetectorError, match="cannot read"):
        YuNetDetector(str(tmp_path / "missing.onnx"))


def test_make_detector_names_what_is_missing():
    with pytest.raises(DetectorError, match="yunet_model"):
        make_detector("yunet")
    with pytest.raises(DetectorError, match="unknown detector"):
        make_detector("magic")


def test_grace_hopper_portrait_is_one_face(haar):
    assert analyse(haar, photos.one_face("chelsea", 1.0, person="hopper")).faces == 1
    assert analyse(haar, photos.two_faces("coffee", second=photos.head(0.8, person="hopper"))).faces == 2
