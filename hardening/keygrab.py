"""Swallow the keyboard shortcuts that would let a candidate leave the exam browser (X11).

Why not pynput: its X11 listener can only suppress by grabbing the *whole* keyboard
(``XGrabKeyboard``), which would also swallow the candidate's answers. A passive grab on the root
window (``XGrabKey``) takes exactly the listed combinations: the X server delivers them to this
client instead of the focused browser, and every other key goes on as usual. pynput's XRecord
listener (used by the kiosk's input monitor) still sees the grabbed keys, so attempts are logged
there as well as counted here.

Grabs belong to the X connection: if this process dies, even by ``kill -9``, the server drops
them, so they need no restore-journal entry. Under Wayland (cage) there is no global grab; the
compositor itself must not offer the shortcuts (cage has no VT switching unless started with -s).
"""

from __future__ import annotations

import select
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from Xlib.display import Display

MODIFIER_NAMES = ("ctrl", "alt", "shift", "super")
# Variants of each grab for the lock modifiers (CapsLock, NumLock = Mod2, ScrollLock = Mod5) so a
# shortcut is swallowed whatever lock state the keyboard is in.
_LOCK_VARIANTS = ("LockMask", "Mod2Mask", "Mod5Mask")


@dataclass(frozen=True)
class Shortcut:
    text: str
    modifiers: frozenset[str]
    keysym_name: str


def parse_shortcut(text: str) -> Shortcut:
    """``ctrl+alt+F1`` -> modifiers {ctrl, alt}, key ``F1``; raises ValueError naming the problem."""
    parts = [part.strip() for part in text.split("+")]
    if not parts or not parts[-1]:
        raise ValueError(f"{text!r}: no key")
    modifiers = frozenset(part.lower() for part in parts[:-1])
    unknown = modifiers - set(MODIFIER_NAMES)
    if unknown:
        raise ValueError(f"{text!r}: unknown modifier(s) {', '.join(sorted(unknown))}")
    return Shortcut(text, modifiers, parts[-1])


@dataclass
class GrabStatus:
    grabbed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # shortcut -> reason
    swallowed: list[str] = field(default_factory=list)  # shortcuts pressed while grabbed


class ShortcutGrab:
    """Passive key grabs on the root window, with a thread that drains the swallowed presses."""

    def __init__(self, shortcuts: list[str], display_name: str | None = None,
                 on_swallowed: Callable[[str], None] | None = None) -> None:
        self.shortcuts = [parse_shortcut(text) for text in shortcuts]
        self.display_name = display_name
        self.on_swallowed = on_swallowed
        self.status = GrabStatus()
        self._display: Display | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._by_code: dict[tuple[int, int], str] = {}

    def start(self) -> GrabStatus:
        from Xlib import X, XK, error
        from Xlib.display import Display

        self._display = Display(self.display_name)
        root = self._display.screen().root
        masks = {"ctrl": X.ControlMask, "alt": X.Mod1Mask, "shift": X.ShiftMask, "super": X.Mod4Mask}
        lock_masks = [getattr(X, name) for name in _LOCK_VARIANTS]
        variants = sorted({a | b | c for a in (0, lock_masks[0]) for b in (0, lock_masks[1])
                           for c in (0, lock_masks[2])})
        for shortcut in self.shortcuts:
            keysym = XK.string_to_keysym(shortcut.keysym_name)
            keycode = self._display.keysym_to_keycode(keysym) if keysym else 0
            if not keycode:
                self.status.failed[shortcut.text] = "key not on this keyboard map"
                continue
            modmask = 0
            for name in shortcut.modifiers:
                modmask |= masks[name]
            catcher = error.CatchError(error.BadAccess)
            for extra in variants:
                root.grab_key(keycode, modmask | extra, False, X.GrabModeAsync, X.GrabModeAsync,
                              onerror=catcher)
                self._by_code[(keycode, modmask | extra)] = shortcut.text
            self._display.sync()
            if catcher.get_error():
                self.status.failed[shortcut.text] = "already grabbed by another X client"
            else:
                self.status.grabbed.append(shortcut.text)
        self._thread = threading.Thread(target=self._drain, name="shortcut-grab", daemon=True)
        self._thread.start()
        return self.status

    def _drain(self) -> None:
        from Xlib import X

        display = self._display
        if display is None:  # start() opens it before this thread runs
            return
        while not self._stop.is_set():
            readable, _, _ = select.select([display.fileno()], [], [], 0.1)
            if not readable and not display.pending_events():
                continue
            while display.pending_events():
                event = display.next_event()
                if event.type == X.KeyPress:
                    key = (event.detail, event.state & 0xFF)
                    shortcut = self._by_code.get(key, f"keycode {event.detail}")
                    self.status.swallowed.append(shortcut)
                    if self.on_swallowed is not None:
                        self.on_swallowed(shortcut)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._display is not None:
            self._display.screen().root.ungrab_key(0, 1 << 15)  # AnyKey, AnyModifier
            self._display.sync()
            self._display.close()
            self._display = None

    def wait_swallowed(self, count: int, timeout: float) -> bool:
        """Test helper for callers: wait until ``count`` presses have been swallowed."""
        deadline = time.monotonic() + timeout
        while len(self.status.swallowed) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.status.swallowed) >= count
