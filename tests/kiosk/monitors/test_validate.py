"""``kiosk monitors validate --labelled DIR``: precision and recall per rule on real photographs,
with counts per lighting condition, through the real CLI; a wrong label shows up as an error of
the rule, never as a perfect score; bad sets are refused naming the line. And every monitoring event
names its rule's version and, for webcam rules, the detector that produced it."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.monitors.config import CameraSettings, MonitorConfig
from kiosk.monitors.hub import MonitorHub
from kiosk.monitors.provenance import RULE_SET, RULE_VERSIONS

REPO = Path(__file__).resolve().parents[3]


def kiosk_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "monitors", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    pytest.importorskip("skimage", reason="scikit-image (test dependency) ships the photographs")
    directory = tmp_path_factory.mktemp("labelled")
    done = kiosk_cli("export-labelled", str(directory), "--per-class", "2")
    assert done.returncode == 0, done.stderr
    return directory


def rows(directory: Path) -> list[dict[str, str]]:
    with (directory / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_validate_reports_precision_and_recall_per_rule_and_lighting(labelled):
    done = kiosk_cli("validate", "--labelled", str(labelled), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    labels = rows(labelled)
    assert report["photographs"] == len(labels) == 14 and report["rule_set"] == RULE_SET
    assert report["detector"]["name"] == "haar" and report["detector"]["frontal_cascade"].endswith(".xml")
    assert report["thresholds"]["no_face_after_s"] == 5.0
    for rule in ("no_face", "multiple_faces", "camera_covered", "poor_lighting", "camera_frozen", "camera_lost"):
        r = report["rules"][rule]
        assert r["version"] == f"{rule}/{RULE_VERSIONS[rule]}"
        assert (r["precision"], r["recall"]) == (1.0, 1.0), (rule, r)
    assert report["not_measured"] == ["turned_away"]  # no profile photograph in the set: said, not hidden
    for lighting in ("ok", "poor", "dark", "covered"):
        assert report["lighting"][lighting]["photographs"] == sum(r["lighting"] == lighting for r in labels)
    assert report["lighting"]["dark"]["rules"]["camera_covered"]["tp"] == 2
    human = kiosk_cli("validate", "--labelled", str(labelled))
    assert "multiple_faces/1" in human.stdout and "lighting poor: 2 photographs" in human.stdout


def test_a_wrong_label_costs_the_rule_its_perfect_score(labelled, tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(labelled, wrong)
    labels = rows(wrong)
    for row in labels:
        if row["faces"] == "2":
            row["faces"] = "1"  # two people in the photograph, labelled as one
    with (wrong / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(labels[0]))
        writer.writeheader()
        writer.writerows(labels)
    report = json.loads(kiosk_cli("validate", "--labelled", str(wrong), "--json").stdout)
    multiple = report["rules"]["multiple_faces"]
    # each mislabelled photograph counts twice: its live clip, and its clip as a frozen camera
    assert multiple["fp"] == 4 and multiple["precision"] == 0.0 and multiple["recall"] is None


@pytest.mark.parametrize("content, problem", [
    ("file,faces\nx.png,1\n", "header needs file, faces, lighting"),
    ("file,faces,lighting\n../outside.png,1,ok\n", "labels.csv:2: file: must name an image"),
    ("file,faces,lighting\nmissing.png,1,ok\n", "missing.png: not a readable image"),
    ("file,faces,lighting\nphoto.png,one,ok\n", "labels.csv:2: faces: must be a whole number"),
    ("file,faces,lighting\nphoto.png,1,candlelight\n", "lighting one of ok, poor, dark, covered"),
    ("file,faces,lighting\n", "no photographs listed"),
])
def test_bad_labelled_sets_are_refused_naming_the_line(tmp_path, content, problem):
    (tmp_path / "labels.csv").write_text(content)
    (tmp_path / "photo.png").write_bytes(b"not an image")
    done = kiosk_cli("validate", "--labelled", str(tmp_path))
    assert done.returncode == 2 and problem in done.stderr, done.stderr


def test_every_event_names_its_rule_version_and_webcam_events_their_detector(recorder, tmp_path):
    config = MonitorConfig(camera=CameraSettings(spec="synthetic:none=30", analysis_fps=5.0),
                           keyboard=False, input_devices_root=str(tmp_path))
    hub = MonitorHub(config, recorder)
    hub.start()
    hub.page.report("fullscreen_exit")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not recorder.of("webcam.no_face"):
        time.sleep(0.2)
    hub.stop()
    started = recorder.of("monitor.started")[0]
    assert started.data["rule_set"] == RULE_SET and started.data["detector"]["name"] == "haar"
    alert = recorder.of("webcam.no_face")[0]
    assert alert.data["rule_version"] == "no_face/1" and alert.thresholds["no_face_after_s"] == 5.0
    assert alert.data["detector"] == started.data["detector"]
    page = recorder.of("page.fullscreen_exit")[0]
    assert page.data["rule_version"] == "fullscreen_exit/1" and "detector" not in page.data
    assert "rule_version" not in started.data  # lifecycle events are not rules
