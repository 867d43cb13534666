"""Page signals (validated at the boundary, debounced) and new input devices in /sys/class/input."""

from __future__ import annotations

import pytest

from exam_core.errors import ValidationError

from kiosk.monitors.config import InputThresholds
from kiosk.monitors.devices import InputDeviceWatcher, scan_input_devices
from kiosk.monitors.events import EventFactory
from kiosk.monitors.page_signals import PageSignalMonitor


def page(clock, recorder):
    return PageSignalMonitor(InputThresholds(), EventFactory(recorder, clock), clock)


def test_short_blur_is_ignored_long_one_reported(clock, recorder):
    p = page(clock, recorder)
    p.report("focus_lost")
    clock.advance(0.5)
    p.report("focus_gained")
    assert recorder.events == []
    p.report("focus_lost")
    for _ in range(10):
        clock.advance(0.25)
        p.tick(clock.monotonic())
    p.report("focus_gained")
    assert [(e.type, e.state) for e in recorder.events] == [("page.focus_lost", "active"),
                                                            ("page.focus_lost", "cleared")]
    assert recorder.events[1].data["held_s"] == pytest.approx(2.5)


def test_fullscreen_exit_and_clipboard_outside_answers(clock, recorder):
    p = page(clock, recorder)
    p.report("fullscreen_exit")
    p.report("clipboard", {"action": "paste", "in_answer_field": True, "length": 12})
    p.report("clipboard", {"action": "copy", "in_answer_field": False, "length": 300})
    assert [e.type for e in recorder.events] == ["page.fullscreen_exit", "page.clipboard"]
    assert recorder.events[1].data == {"state": "point", "action": "copy", "length": 300,
                                       "rule_version": "clipboard_outside_answer/1"}


@pytest.mark.parametrize("kind,detail,field", [
    ("teleport", {}, "kind"), (3, {}, "kind"),
    ("clipboard", {"action": "steal"}, "detail.action"),
    ("clipboard", {"action": "paste", "text": "secret"}, "detail.text"),
    ("clipboard", {"action": "paste", "length": True}, "detail.length"),
    ("focus_lost", {"x": 1}, "detail.x"), ("focus_lost", [1], "detail"),
])
def test_page_signals_are_validated(clock, recorder, kind, detail, field):
    with pytest.raises(ValidationError) as info:
        page(clock, recorder).report(kind, detail)
    assert info.value.field == field


def make_device(root, entry, name):
    (root / entry).mkdir()
    (root / entry / "name").write_text(name + "\n")


def test_new_input_device_is_reported(tmp_path, clock, recorder):
    make_device(tmp_path, "input0", "AT Translated Set 2 keyboard")
    make_device(tmp_path, "input1", "ImPS/2 Generic Wheel Mouse")
    (tmp_path / "event0").mkdir()                          # not a device entry
    watcher = InputDeviceWatcher(str(tmp_path), EventFactory(recorder, clock))
    assert watcher.poll(clock.monotonic()) == []
    make_device(tmp_path, "input7", "USB Keyboard (HID) Rubber Ducky")
    assert watcher.poll(clock.monotonic()) == ["USB Keyboard (HID) Rubber Ducky"]
    (tmp_path / "input1" / "name").unlink()
    (tmp_path / "input1").rmdir()
    watcher.poll(clock.monotonic())
    assert [(e.type, e.data["name"]) for e in recorder.events] == [
        ("input.device_added", "USB Keyboard (HID) Rubber Ducky"),
        ("input.device_removed", "ImPS/2 Generic Wheel Mouse")]
    assert recorder.events[0].severity == "high"


def test_real_sysfs_scan_does_not_fail():
    devices = scan_input_devices("/sys/class/input")
    assert isinstance(devices, dict)
    assert scan_input_devices("/nonexistent") == {}
