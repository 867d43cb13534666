"""Rules: conditions with thresholds, debounce and hysteresis, turned into explainable events."""

from kiosk.monitors.rules.base import DebouncedRule, RuleChange, Trigger

__all__ = ["DebouncedRule", "RuleChange", "Trigger"]
