"""Keyboard rules with real X events: Xvfb, pynput listeners in a running MonitorHub, xdotool.

Under X, xdotool injects through XTest, which pynput cannot tell from a real keyboard (no
"injected" flag on Xorg); the synthetic-input rule therefore works from timing, and these tests
show it does on xdotool's real events while slow, human-paced key presses stay clean.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from kiosk.monitors.config import MonitorConfig
from kiosk.monitors.hub import MonitorHub

from tests.support.tools import missing_tool

pytestmark = pytest.mark.xinput


@pytest.fixture(scope="module")
def x_keepalive(xvfb_display):
    """One X client held open for the module: Xvfb runs without -noreset, so when its last client
    disconnects between two tests it resets, and a listener connecting then is refused."""
    import Xlib.display

    display = Xlib.display.Display(xvfb_display)
    yield display
    display.close()


@pytest.fixture
def hub(xvfb_display, x_keepalive, recorder, tmp_path):
    if shutil.which("xdotool") is None:
        missing_tool("xdotool", "apt-get install xdotool")
    hub = MonitorHub(MonitorConfig(keyboard=True, input_devices_root=str(tmp_path)), recorder)
    hub.start()
    assert hub.keyboard is not None, hub.degraded
    yield hub
    hub.stop()


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30)


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def shortcuts(recorder) -> list[str]:
    return [e.data["shortcut"] for e in recorder.of("input.blocked_shortcut")]


def test_blocked_shortcuts_from_real_key_events(hub, recorder):
    expected = ["alt+tab", "print_screen", "super", "ctrl+alt+f2", "ctrl+p", "alt+f4"]
    for keys in ("alt+Tab", "Print", "super", "ctrl+alt+F2", "ctrl+p", "alt+F4"):
        xdotool("key", keys)
        time.sleep(0.3)
    assert wait_for(lambda: len(shortcuts(recorder)) >= len(expected)), shortcuts(recorder)
    assert shortcuts(recorder) == expected


def test_plain_copy_and_typing_are_not_shortcuts(hub, recorder):
    xdotool("key", "ctrl+c")
    xdotool("key", "Tab")
    xdotool("key", "shift+a")
    assert wait_for(lambda: hub.input.key_presses >= 3)
    assert shortcuts(recorder) == []


def test_injected_typing_is_a_burst_and_machine_timed_and_no_text_is_kept(hub, recorder):
    secret = "the quick brown fox jumps over the lazy dog"
    xdotool("type", "--delay", "12", secret)
    assert wait_for(lambda: recorder.of("input.typing_burst", "active")
                    and recorder.of("input.synthetic_input", "active")), (
        recorder.types(), hub.input._synthetic_condition())
    burst = recorder.of("input.typing_burst", "active")[0]
    assert burst.evidence["measured"]["keys_per_s"] > hub.config.input.burst_max_keys_per_s
    synthetic = recorder.of("input.synthetic_input", "active")[0]
    assert synthetic.evidence["measured"]["median_hold_ms"] <= hub.config.input.synthetic_max_hold_ms
    dumped = json.dumps([e.to_dict() for e in recorder.events])
    for word in ("quick", "brown", "lazy", '"q"', '"x"'):
        assert word not in dumped
    assert hub.input.key_presses >= len(secret)


def test_human_paced_keys_are_not_flagged(hub, recorder):
    for i in range(16):
        xdotool("keydown", "a")
        time.sleep(0.06 + 0.02 * (i % 3))
        xdotool("keyup", "a")
        time.sleep(0.08 + 0.05 * (i % 4))
    assert wait_for(lambda: hub.input.key_presses >= 16)
    assert recorder.of("input.typing_burst") == []
    assert recorder.of("input.synthetic_input") == []


def test_pointer_activity_resets_idle(hub, recorder):
    before = hub.input._last_activity
    xdotool("mousemove", "200", "200")
    xdotool("mousemove", "300", "250")
    assert wait_for(lambda: hub.input._last_activity > before)


def test_auto_repeat_of_a_held_key_is_one_press_not_a_burst(hub, recorder):
    xdotool("keydown", "BackSpace")
    time.sleep(1.5)                      # X auto-repeats it ~25 times a second after 660 ms
    xdotool("keyup", "BackSpace")
    assert wait_for(lambda: hub.input.key_presses >= 1)
    time.sleep(0.3)
    assert hub.input.key_presses == 1
    assert recorder.of("input.typing_burst") == []
    assert recorder.of("input.synthetic_input") == []
