"""Keyboard rules on scripted key timelines (tokens as the pynput adapter produces them)."""

from __future__ import annotations

import json

import pytest

from kiosk.monitors.config import InputThresholds, MonitorConfig
from kiosk.monitors.events import EventFactory
from kiosk.monitors.hub import MonitorHub
from kiosk.monitors.input import CHAR, InputMonitor, ShortcutPolicy, combo_name
from kiosk.monitors.config import DEFAULT_BLOCKED_SHORTCUTS


def monitor(clock, recorder, **thresholds):
    return InputMonitor(InputThresholds(**thresholds), ShortcutPolicy(DEFAULT_BLOCKED_SHORTCUTS),
                        EventFactory(recorder, clock), clock.monotonic())


def type_keys(m, clock, count, interval, hold):
    for _ in range(count):
        m.key_down(CHAR, clock.monotonic())
        clock.advance(hold)
        m.key_up(CHAR, clock.monotonic())
        clock.advance(max(0.0, interval - hold))


def test_policy_patterns():
    policy = ShortcutPolicy(DEFAULT_BLOCKED_SHORTCUTS)
    assert policy.match("alt+tab") == "alt+tab"
    assert policy.match("ctrl+alt+f3") == "ctrl+alt+f*"
    assert policy.match("super+l") == "super+*"
    assert policy.match("ctrl+c") is None
    assert policy.match("tab") is None
    assert combo_name({"alt", "ctrl"}, "f2") == "ctrl+alt+f2"


def test_alt_tab_and_print_screen_are_reported_by_name_only(clock, recorder):
    m = monitor(clock, recorder)
    m.key_down("alt", clock.monotonic())
    m.key_down("tab", clock.monotonic())
    m.key_up("tab", clock.monotonic())
    m.key_up("alt", clock.monotonic())
    clock.advance(1)
    m.key_down("print_screen", clock.monotonic())
    shortcuts = [e.data["shortcut"] for e in recorder.of("input.blocked_shortcut")]
    assert shortcuts == ["alt+tab", "print_screen"]
    assert recorder.events[0].thresholds["policy_pattern"] == "alt+tab"


def test_repeated_shortcut_is_merged(clock, recorder):
    m = monitor(clock, recorder)
    m.key_down("alt", clock.monotonic())
    for _ in range(5):
        m.key_down("tab", clock.monotonic())
        m.key_up("tab", clock.monotonic())
        clock.advance(0.1)
    clock.advance(3)
    m.key_down("tab", clock.monotonic())
    events = recorder.of("input.blocked_shortcut")
    assert len(events) == 2 and events[1].data["repeats_merged_before"] == 4


def test_ctrl_alt_fkey_seen_only_by_its_release(clock, recorder):
    """Xorg keeps the F-key press of Ctrl+Alt+F<n>; the release after the modifiers still tells."""
    m = monitor(clock, recorder)
    m.key_down("ctrl", clock.monotonic())
    m.key_down("alt", clock.monotonic())
    m.key_up("ctrl", clock.monotonic())
    m.key_up("alt", clock.monotonic())
    m.key_up("f2", clock.monotonic())
    assert [e.data["shortcut"] for e in recorder.events] == ["ctrl+alt+f2"]


def test_text_is_never_reported(clock, recorder):
    m = monitor(clock, recorder)
    assert m.token_for(None, "s") == CHAR            # plain typing: no character at all
    m.key_down("ctrl", clock.monotonic())
    assert m.token_for(None, "p") == "p"             # inside a command only
    m.key_down("p", clock.monotonic())
    m.key_down("c", clock.monotonic())               # ctrl+c is not in the policy: nothing kept
    assert [e.data["shortcut"] for e in recorder.events] == ["ctrl+p"]


def test_human_typing_is_not_a_burst(clock, recorder):
    m = monitor(clock, recorder)
    type_keys(m, clock, 200, interval=0.11, hold=0.08)   # ~9 keys/s, a fast typist
    m.tick(clock.monotonic())
    assert recorder.of("input.typing_burst") == []
    assert recorder.of("input.synthetic_input") == []


def test_macro_typing_is_a_burst_and_machine_timed(clock, recorder):
    m = monitor(clock, recorder)
    type_keys(m, clock, 5, interval=0.2, hold=0.08)
    type_keys(m, clock, 60, interval=0.0065, hold=0.003)   # what xdotool type does
    burst = recorder.of("input.typing_burst", "active")
    synthetic = recorder.of("input.synthetic_input", "active")
    assert len(burst) == 1 and burst[0].evidence["measured"]["keys_per_s"] > 20
    assert len(synthetic) == 1 and synthetic[0].evidence["measured"]["median_hold_ms"] < 10
    for _ in range(20):
        clock.advance(0.5)
        m.tick(clock.monotonic())
    assert len(recorder.of("input.typing_burst", "cleared")) == 1
    assert len(recorder.of("input.synthetic_input", "cleared")) == 1


def test_idle_fires_once_and_clears_on_activity(clock, recorder):
    m = monitor(clock, recorder, idle_after_s=60.0)
    for _ in range(200):
        clock.advance(0.5)
        m.tick(clock.monotonic())
    assert len(recorder.of("input.idle", "active")) == 1
    m.pointer_activity(clock.monotonic())
    cleared = recorder.of("input.idle", "cleared")
    assert len(cleared) == 1 and cleared[0].evidence["measured"]["idle_s"] >= 99


def test_injected_flag_from_the_platform_is_reported(clock, recorder):
    m = monitor(clock, recorder)
    m.key_down(CHAR, clock.monotonic(), injected=True)
    assert recorder.of("input.injected_input")[0].data["platform_flag"] is True


def test_assistive_input_profile_disables_burst_rules(clock, recorder):
    hub = MonitorHub(MonitorConfig(keyboard=False, input_devices_root="/nonexistent"), recorder, clock=clock)
    hub.start(threads=False)
    hub.apply_accommodation("assistive_input")
    type_keys(hub.input, clock, 60, interval=0.0065, hold=0.003)
    assert recorder.of("input.typing_burst") == []
    assert recorder.of("input.synthetic_input") == []
    assert recorder.of("monitor.accommodation")[0].data["disabled_rules"] == ["typing_burst", "synthetic_input"]


def test_unknown_profile_is_refused(clock, recorder):
    hub = MonitorHub(MonitorConfig(keyboard=False, input_devices_root="/nonexistent"), recorder, clock=clock)
    with pytest.raises(ValueError, match="unknown profile"):
        hub.apply_accommodation("no_rules_at_all")


def test_baseline_raises_burst_bound_for_a_fast_typist_within_a_cap(clock, recorder):
    hub = MonitorHub(MonitorConfig(keyboard=False, input_devices_root="/nonexistent"), recorder, clock=clock)
    hub.start(threads=False)
    hub.set_attempt("att-2")
    for _ in range(30):                           # 14 keys/s in spurts: fast but human
        type_keys(hub.input, clock, 20, interval=0.07, hold=0.05)
        clock.advance(0.6)
        hub.tick()
    clock.advance(30)
    hub.tick()
    event = recorder.of("monitor.baseline")[0]
    assert event.data["adjusted"] is True
    bound = event.thresholds["input"]["burst_max_keys_per_s"]
    assert 20 < bound <= 30
    assert event.evidence["measured"]["typing_p95_keys_per_s"] > 10


def test_config_loader_names_the_bad_field():
    with pytest.raises(ValueError, match=r"monitors\.webcam\.no_face_after_s"):
        MonitorConfig.from_dict({"webcam": {"no_face_after_s": "soon"}})
    with pytest.raises(ValueError, match=r"monitors\.input\.bogus"):
        MonitorConfig.from_dict({"input": {"bogus": 1}})
    with pytest.raises(ValueError, match="whole number"):
        MonitorConfig.from_dict({"webcam": {"multiple_faces_consecutive": 2.5}})
    config = MonitorConfig.from_dict({"profiles": {"quiet": {"disable": ["idle"], "input": {"idle_after_s": 900}}}})
    assert config.profiles["quiet"].input == {"idle_after_s": 900.0}
    assert "no_gaze" in config.profiles


def test_events_serialise_to_json(clock, recorder):
    m = monitor(clock, recorder)
    m.key_down("super", clock.monotonic())
    json.dumps([e.to_dict() for e in recorder.events])


def test_auto_repeat_is_recognised_by_key_id(clock, recorder):
    m = monitor(clock, recorder)
    m.key_down(CHAR, clock.monotonic(), key_id=38)
    for _ in range(40):                              # X repeats presses of a held key
        clock.advance(0.04)
        m.key_down(CHAR, clock.monotonic(), key_id=38)
    m.key_up(CHAR, clock.monotonic(), key_id=38)
    assert m.key_presses == 1
    assert recorder.of("input.typing_burst") == []
    clock.advance(0.2)
    m.key_down(CHAR, clock.monotonic(), key_id=38)   # released, so this is a new press
    assert m.key_presses == 2
