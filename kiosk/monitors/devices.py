"""New input devices (a second keyboard, a USB "rubber ducky", a presenter) seen in /sys/class/input.

Linux lists every input device as ``/sys/class/input/inputN`` with a ``name`` file. The watcher
remembers the devices present when monitoring starts and reports those that appear or vanish.
The root is configurable so tests can lay out a real directory tree of their own.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.monitors.events import EventFactory

MAX_DEVICES = 1024
MAX_NAME = 200


def scan_input_devices(root: str) -> dict[str, str]:
    """``{"input3": "AT Translated Set 2 keyboard", ...}``; an unreadable root gives ``{}``."""
    devices: dict[str, str] = {}
    try:
        entries = sorted(Path(root).iterdir())
    except OSError:
        return devices
    for entry in entries[:MAX_DEVICES]:
        if not entry.name.startswith("input"):
            continue
        try:
            with open(entry / "name", "rb") as handle:
                raw = handle.read(MAX_NAME)
        except OSError:
            raw = b""
        devices[entry.name] = raw.decode("utf-8", "replace").strip() or "(unnamed)"
    return devices


class InputDeviceWatcher:
    """Reports input devices added or removed since monitoring started."""

    def __init__(self, root: str, events: EventFactory) -> None:
        self.root = root
        self.events = events
        self.known = scan_input_devices(root)
        self.enabled = True

    def poll(self, now: float) -> list[str]:
        """Scan once; emit one event per change; return the names of devices added."""
        current = scan_input_devices(self.root)
        added = sorted(set(current) - set(self.known))
        removed = sorted(set(self.known) - set(current))
        if self.enabled:
            for entry in added:
                self.events.emit("input.device_added", "high", rule="new_input_device",
                                 thresholds={"root": self.root},
                                 data={"state": "point", "device": entry, "name": current[entry],
                                       "devices_at_start": len(self.known)}, mono_time=now)
            for entry in removed:
                self.events.emit("input.device_removed", "low", rule="new_input_device",
                                 thresholds={"root": self.root},
                                 data={"state": "point", "device": entry, "name": self.known[entry]},
                                 mono_time=now)
        self.known = current
        return [current[e] for e in added]
