"""Debounce and hysteresis, once, for every rule.

A condition must hold for ``fire_after_s`` seconds (and ``fire_after_count`` consecutive
observations) before the rule fires, and must stop holding for ``clear_after_s`` seconds before
it clears. While active the rule never fires again, so a flickering detector yields one alert with
a duration, not a storm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.monitors.events import STATE_ACTIVE, STATE_CLEARED


class Trigger:
    """The timing state machine behind a rule; time comes from the caller's clock."""

    def __init__(self, fire_after_s: float, clear_after_s: float, fire_after_count: int = 1) -> None:
        self.fire_after_s = fire_after_s
        self.clear_after_s = clear_after_s
        self.fire_after_count = max(1, fire_after_count)
        self.active = False
        self.active_since: float | None = None
        self._holding_since: float | None = None
        self._count = 0
        self._released_since: float | None = None

    @property
    def holding_since(self) -> float | None:
        return self._holding_since

    @property
    def count(self) -> int:
        return self._count

    def update(self, now: float, condition: bool) -> str | None:
        """Feed one observation; returns STATE_ACTIVE or STATE_CLEARED on a change, else None."""
        if condition:
            self._released_since = None
            if self._holding_since is None:
                self._holding_since, self._count = now, 0
            self._count += 1
            if (not self.active and now - self._holding_since >= self.fire_after_s
                    and self._count >= self.fire_after_count):
                self.active, self.active_since = True, self._holding_since
                return STATE_ACTIVE
            return None
        self._holding_since, self._count = None, 0
        if not self.active:
            return None
        if self._released_since is None:
            self._released_since = now
        if now - self._released_since >= self.clear_after_s:
            self.active = False
            return STATE_CLEARED
        return None

    def reset(self) -> None:
        self.active, self.active_since = False, None
        self._holding_since, self._count, self._released_since = None, 0, None


@dataclass(frozen=True)
class RuleChange:
    """A rule fired or cleared: what the event will say."""

    rule: str
    state: str
    measured: dict[str, Any]
    thresholds: dict[str, Any]
    held_s: float


@dataclass
class DebouncedRule:
    """A named rule: its event type, severity, reported thresholds and its trigger."""

    name: str
    event_type: str
    severity: str
    trigger: Trigger
    thresholds: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    def observe(self, now: float, condition: bool, measured: dict[str, Any]) -> RuleChange | None:
        """Feed one observation (a disabled rule sees only False, so an active alert clears)."""
        change = self.trigger.update(now, condition and self.enabled)
        if change is None:
            return None
        since = self.trigger.active_since if self.trigger.active_since is not None else now
        return RuleChange(self.name, change, dict(measured), dict(self.thresholds),
                          held_s=round(now - since, 3))
