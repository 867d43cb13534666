"""Keyboard and pointer rules: blocked shortcuts, typing bursts, machine-like timing, idle time.

Privacy is structural here: this module receives a *token* per key, which is a key's name only for
modifiers and special keys (alt, tab, f4, print_screen...) and for a character typed while
Ctrl, Alt or Super is held (so ``ctrl+p`` can be matched); every other key arrives as ``"char"``.
Only counts, timestamps and the names of policy shortcuts are kept or reported.
"""

from __future__ import annotations

import fnmatch
import statistics
import threading
from collections import deque
from functools import wraps
from typing import Any
from collections.abc import Callable

from kiosk.monitors.config import InputThresholds, threshold_dict
from kiosk.monitors.events import STATE_ACTIVE, EventFactory
from kiosk.monitors.rules.base import DebouncedRule, RuleChange, Trigger

MODIFIERS = {"ctrl", "alt", "shift", "super", "alt_gr"}
#: Modifiers that turn the next key into a command rather than text.
COMMAND_MODIFIERS = {"ctrl", "alt", "super", "alt_gr"}
#: Keys that are never text, so their names are safe and needed for the policy.
SPECIAL_KEYS = {
    "tab", "esc", "print_screen", "menu", "delete", "backspace", "insert", "home", "end",
    "page_up", "page_down", "pause", "scroll_lock", "num_lock", "caps_lock", "enter", "space",
    "up", "down", "left", "right", *(f"f{i}" for i in range(1, 25)),
}
CHAR = "char"
MODIFIER_ORDER = ("ctrl", "alt", "alt_gr", "shift", "super")
#: A key "down" for longer than this is taken to have lost its release event.
STALE_PRESS_S = 60.0


def _locked(method: Callable) -> Callable:
    """Run a method under the monitor's lock: pynput threads and the ticker both call in."""
    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


class ShortcutPolicy:
    """Blocked shortcut patterns such as ``alt+tab``, ``ctrl+alt+f*`` or ``super+*``."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = tuple(p.lower().strip() for p in patterns if p.strip())

    def match(self, combo: str) -> str | None:
        """The first pattern the combo matches (its name is what gets reported), else None."""
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(combo, pattern):
                return pattern
        return None


def combo_name(modifiers: set[str], key: str) -> str:
    """``{"alt", "ctrl"}, "f2"`` -> ``"ctrl+alt+f2"``; a lone modifier is just its name."""
    held = [m for m in MODIFIER_ORDER if m in modifiers and m != key]
    return "+".join([*held, key])


class InputMonitor:
    """The keyboard and pointer rules, fed tokens by the pynput adapter or a test."""

    def __init__(self, thresholds: InputThresholds, policy: ShortcutPolicy, events: EventFactory,
                 now: float, disabled: frozenset[str] = frozenset()) -> None:
        self.events = events
        self.policy = policy
        self._lock = threading.RLock()
        self._held: set[str] = set()
        self._pressed_specials: set[str] = set()
        self._recent_mods: tuple[frozenset[str], float] = (frozenset(), float("-inf"))
        self._presses: deque[float] = deque(maxlen=2000)
        self._down: dict[int, float] = {}
        self._holds: deque[float] = deque(maxlen=64)
        self._intervals: deque[float] = deque(maxlen=64)
        self._last_press: float | None = None
        self._last_activity = now
        self._last_shortcut: dict[str, tuple[float, int]] = {}
        self.key_presses = 0
        self.burst = DebouncedRule("typing_burst", "input.typing_burst", "high", Trigger(0, 0))
        self.synthetic = DebouncedRule("synthetic_input", "input.synthetic_input", "high", Trigger(0, 0))
        self.idle = DebouncedRule("idle", "input.idle", "low", Trigger(0, 0))
        self.disabled = disabled
        self.rate_samples: deque[float] = deque(maxlen=5000)
        self.reconfigure(thresholds, disabled)

    @_locked
    def reconfigure(self, t: InputThresholds, disabled: frozenset[str] = frozenset()) -> None:
        self.thresholds = t
        self.disabled = disabled
        self.burst.trigger.clear_after_s = t.burst_clear_s
        self.burst.thresholds = threshold_dict(
            t, ("burst_window_s", "burst_max_keys_per_s", "burst_min_keys", "burst_clear_s"))
        self.synthetic.trigger.clear_after_s = t.burst_clear_s
        self.synthetic.thresholds = threshold_dict(
            t, ("synthetic_min_keys", "synthetic_max_hold_ms", "synthetic_max_interval_cv",
                "synthetic_max_mean_interval_ms"))
        self.idle.trigger.fire_after_s = 0.0   # the condition itself measures the idle time
        self.idle.trigger.clear_after_s = t.idle_clear_s
        self.idle.thresholds = threshold_dict(t, ("idle_after_s",))
        for rule in (self.burst, self.synthetic, self.idle):
            rule.enabled = rule.name not in disabled

    # --- what the adapter calls -------------------------------------------------------------

    def token_for(self, name: str | None, char: str | None) -> str:
        """The token for a key: its name if it is special, its character only inside a command."""
        if name:
            return name
        if char and self._held & COMMAND_MODIFIERS and len(char) == 1 and char.isprintable():
            return char.lower()
        return CHAR

    @_locked
    def key_down(self, token: str, now: float, injected: bool = False, key_id: int | None = None) -> None:
        """A key went down. ``key_id`` is an opaque per-key number (never a character) used only
        to pair presses with releases and to recognise auto-repeat, which X delivers as presses
        of a key already down; it is forgotten when the key goes up."""
        self._activity(now)
        if key_id is not None and now - self._down.get(key_id, float("-inf")) < STALE_PRESS_S:
            return      # auto-repeat of a held key: not typing, not a new shortcut
        if injected and "injected_input" not in self.disabled:
            self.events.emit("input.injected_input", "high", rule="injected_input",
                             data={"state": "point", "platform_flag": True})
        if token in MODIFIERS:
            if key_id is not None and len(self._down) < 64:
                self._down[key_id] = now
            self._held.add(token)
            self._recent_mods = (frozenset(self._held), now)
            if token == "super":  # noqa: S105 - a key name, not a password
                self._shortcut(combo_name(self._held, token), now)
            return
        if len(self._down) < 64:
            self._down[key_id if key_id is not None else -self.key_presses - 1] = now
        if token in SPECIAL_KEYS:
            self._pressed_specials.add(token)
        if token != CHAR and (self._held & COMMAND_MODIFIERS or token in SPECIAL_KEYS):
            self._shortcut(combo_name(self._held, token), now)
        self._count_press(now)

    @_locked
    def key_up(self, token: str, now: float, key_id: int | None = None) -> None:
        self._activity(now)
        pressed = self._down.pop(key_id, None) if key_id is not None else None
        if token in MODIFIERS:
            self._held.discard(token)
            return
        if token in SPECIAL_KEYS and token not in self._pressed_specials:
            self._unpaired_release(token, now)
        self._pressed_specials.discard(token)
        if pressed is None and key_id is None and self._down:
            pressed = self._down.pop(next(iter(self._down)))   # no ids given: oldest press first
        if pressed is not None:
            self._holds.append(now - pressed)

    @_locked
    def pointer_activity(self, now: float) -> None:
        self._activity(now)

    @_locked
    def tick(self, now: float) -> None:
        """Time-driven checks (idle, burst clearing); the hub calls this a few times a second."""
        self._observe(self.idle, now, now - self._last_activity >= self.thresholds.idle_after_s,
                      {"idle_s": round(now - self._last_activity, 1)})
        burst, measured = self._burst_condition(now)
        self._observe(self.burst, now, burst, measured)
        recent = self._last_press is not None and now - self._last_press <= self.thresholds.burst_window_s
        synthetic, measured = self._synthetic_condition() if recent else (False, {})
        self._observe(self.synthetic, now, synthetic, measured)

    # --- rules ------------------------------------------------------------------------------

    def _activity(self, now: float) -> None:
        idle_s = round(now - self._last_activity, 1)
        self._last_activity = now
        if self.idle.trigger.active:
            self._observe(self.idle, now, False, {"idle_s": idle_s})

    def _count_press(self, now: float) -> None:
        self.key_presses += 1
        if self._last_press is not None:
            self._intervals.append(now - self._last_press)
        self._last_press = now
        self._presses.append(now)
        burst, measured = self._burst_condition(now)
        self.rate_samples.append(measured["keys_per_s"])
        self._observe(self.burst, now, burst, measured)
        synthetic, measured = self._synthetic_condition()
        self._observe(self.synthetic, now, synthetic, measured)

    def _burst_condition(self, now: float) -> tuple[bool, dict]:
        t = self.thresholds
        while self._presses and now - self._presses[0] > t.burst_window_s:
            self._presses.popleft()
        count = len(self._presses)
        rate = count / t.burst_window_s
        return (count >= t.burst_min_keys and rate > t.burst_max_keys_per_s,
                {"keys_in_window": count, "keys_per_s": round(rate, 2)})

    def _synthetic_condition(self) -> tuple[bool, dict]:
        """Machine-like typing: keys released almost as they are pressed (median hold of the last
        N keys), and either at a metronome's pace (low coefficient of variation of the intervals)
        or faster than any person sustains over N keys.

        Under X, keys injected with XTest (xdotool) carry no flag that pynput can see, so this
        timing test is what can be done there; people hold keys for tens of milliseconds and
        vary their rhythm. The rhythm alone is fragile on a loaded machine (callback times
        jitter), hence the alternative on the mean interval.
        """
        t = self.thresholds
        n = t.synthetic_min_keys
        holds, intervals = list(self._holds)[-n:], list(self._intervals)[-n:]
        if len(holds) < n or len(intervals) < n - 1:
            return False, {"keys_measured": min(len(holds), len(intervals))}
        hold_ms = statistics.median(holds) * 1000
        mean = statistics.fmean(intervals)
        cv = statistics.pstdev(intervals) / mean if mean > 0 else 0.0
        measured = {"median_hold_ms": round(hold_ms, 2), "interval_cv": round(cv, 3),
                    "mean_interval_ms": round(mean * 1000, 2), "keys_measured": n}
        machine_pace = cv <= t.synthetic_max_interval_cv or mean * 1000 <= t.synthetic_max_mean_interval_ms
        return hold_ms <= t.synthetic_max_hold_ms and machine_pace, measured

    def _unpaired_release(self, token: str, now: float) -> None:
        """A special key released that was never seen pressed: the X server kept the press.

        Xorg consumes Ctrl+Alt+F<n> itself (a VT switch) and delivers only the F-key's release,
        after the modifiers' releases; the modifiers held just before tell what was attempted.
        """
        mods, when = self._recent_mods
        if mods & COMMAND_MODIFIERS and now - when <= 1.0:
            self._shortcut(combo_name(set(mods), token), now)

    def _shortcut(self, combo: str, now: float) -> None:
        if "blocked_shortcut" in self.disabled:
            return
        pattern = self.policy.match(combo)
        if pattern is None:
            return
        last, merged = self._last_shortcut.get(combo, (float("-inf"), 0))
        if now - last < self.thresholds.shortcut_merge_s:
            self._last_shortcut[combo] = (last, merged + 1)
            return
        self._last_shortcut[combo] = (now, 0)
        self.events.emit("input.blocked_shortcut", "medium", rule="blocked_shortcut",
                         thresholds={"policy_pattern": pattern,
                                     "shortcut_merge_s": self.thresholds.shortcut_merge_s},
                         data={"state": "point", "shortcut": combo, "repeats_merged_before": merged},
                         mono_time=now)

    def _observe(self, rule: DebouncedRule, now: float, condition: bool, measured: dict) -> None:
        change = rule.observe(now, condition, measured)
        if change is not None:
            emit_rule_change(self.events, rule, change, now)


def emit_rule_change(events: EventFactory, rule: DebouncedRule, change: RuleChange, now: float,
                     evidence: dict | None = None) -> None:
    """The event for a rule that fired (its severity) or cleared (info), with measured values."""
    severity = rule.severity if change.state == STATE_ACTIVE else "info"
    events.emit(rule.event_type, severity, rule=rule.name, thresholds=change.thresholds,
                evidence={"measured": change.measured, **(evidence or {})},
                data={"state": change.state, "held_s": change.held_s}, mono_time=now)
